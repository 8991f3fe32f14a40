//! The `roo` Python package (python/roo), compiled into the binary and installed into each
//! interpreter as `roo` and as `wallaroo`, so Wallaroo applications import it unchanged.

use crate::subinterpreter::error_text;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyModule};
use std::ffi::CString;

/// Submodules in dependency order, then the package's `__init__`.
const SUBMODULES: &[(&str, &str)] = &[
    ("roo.errors", include_str!("../../python/roo/errors.py")),
    (
        "roo.inspection",
        include_str!("../../python/roo/inspection.py"),
    ),
    ("roo.transfer", include_str!("../../python/roo/transfer.py")),
    (
        "roo.decorators",
        include_str!("../../python/roo/decorators.py"),
    ),
    ("roo.topology", include_str!("../../python/roo/topology.py")),
    ("roo.config", include_str!("../../python/roo/config.py")),
    ("roo.builder", include_str!("../../python/roo/builder.py")),
    ("roo.windows", include_str!("../../python/roo/windows.py")),
    (
        "roo.experimental",
        include_str!("../../python/roo/experimental.py"),
    ),
    ("roo.pipeline", include_str!("../../python/roo/pipeline.py")),
    ("roo.byoi", include_str!("../../python/roo/byoi.py")),
];
const PACKAGE_INIT: &str = include_str!("../../python/roo/__init__.py");

/// Installs the package into the attached interpreter's `sys.modules`.
pub fn install(py: Python<'_>) -> Result<(), String> {
    install_modules(py).map_err(|e| {
        format!(
            "installing the roo Python package failed:\n{}",
            error_text(py, e)
        )
    })
}

fn install_modules(py: Python<'_>) -> PyResult<()> {
    let modules = py
        .import("sys")?
        .getattr("modules")?
        .cast_into::<PyDict>()?;
    let package = PyModule::new(py, "roo")?;
    package.setattr("__path__", PyList::empty(py))?;
    package.setattr("__package__", "roo")?;
    modules.set_item("roo", &package)?;
    for (name, source) in SUBMODULES {
        let module = PyModule::from_code(
            py,
            &c_string(source),
            &c_string(&origin(name)),
            &c_string(name),
        )?;
        let short = name.trim_start_matches("roo.");
        package.setattr(short, &module)?;
        // `import wallaroo.experimental` and the like find the same module.
        modules.set_item(format!("wallaroo.{short}"), module)?;
    }
    py.run(&c_string(PACKAGE_INIT), Some(&package.dict()), None)?;
    modules.set_item("wallaroo", &package)?;
    Ok(())
}

/// The file name shown in tracebacks from the package's own code.
fn origin(module: &str) -> String {
    format!("<roo>/{}.py", module.replace('.', "/"))
}

fn c_string(text: &str) -> CString {
    CString::new(text).expect("embedded Python source has no NUL bytes")
}
