fn main() {
    // cfgs such as Py_3_12 select the subinterpreter API; the rpath lets this crate's tests
    // find libpython without LD_LIBRARY_PATH.
    pyo3_build_config::use_pyo3_cfgs();
    pyo3_build_config::add_libpython_rpath_link_args();
    // Which Python is embedded, for sys.executable and the environment checks.
    let config = pyo3_build_config::get();
    println!("cargo:rustc-env=ROO_PYTHON_VERSION={}", config.version());
    println!(
        "cargo:rustc-env=ROO_PYTHON_EXECUTABLE={}",
        config.executable().unwrap_or("python3")
    );
}
