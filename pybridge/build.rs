fn main() {
    // cfgs such as Py_3_12 select the subinterpreter API; the rpath lets this crate's tests
    // find libpython without LD_LIBRARY_PATH.
    pyo3_build_config::use_pyo3_cfgs();
    pyo3_build_config::add_libpython_rpath_link_args();
}
