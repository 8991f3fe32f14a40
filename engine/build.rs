fn main() {
    // The roo binary and its tests find libpython through an rpath, not LD_LIBRARY_PATH.
    #[cfg(feature = "python")]
    pyo3_build_config::add_libpython_rpath_link_args();
}
