//! Which Python the app runs on: the embedded CPython, and an activated virtualenv made
//! with the same version.
//!
//! An embedded interpreter finds neither on its own: its `sys.executable` is whatever
//! `python3` comes first on PATH (often another version), and a virtualenv is only seen
//! when its interpreter happens to come first there. So every interpreter gets the
//! embedded version's executable as `sys.executable`, and `VIRTUAL_ENV`'s site-packages
//! when it is an environment of that version; one of another version is named in a
//! warning at start-up instead of being silently ignored.

use std::path::{Path, PathBuf};

/// The embedded CPython's version (`3.13`).
pub const VERSION: &str = env!("ROO_PYTHON_VERSION");
/// The interpreter roo was built against (its `PYO3_PYTHON`).
pub const EXECUTABLE: &str = env!("ROO_PYTHON_EXECUTABLE");

/// What each interpreter's `sys` is set to.
#[derive(Clone, Debug, PartialEq)]
pub struct PythonEnvironment {
    pub executable: PathBuf,
    /// The activated virtualenv's site-packages, when it is one of this version.
    pub site_packages: Option<PathBuf>,
}

impl PythonEnvironment {
    /// From `VIRTUAL_ENV` (if set and of this version) or the embedded Python.
    pub fn from_env() -> PythonEnvironment {
        let venv = std::env::var_os("VIRTUAL_ENV").map(PathBuf::from);
        match venv.as_deref().and_then(venv_site_packages) {
            Some(site) => PythonEnvironment {
                executable: venv.expect("set").join("bin").join("python"),
                site_packages: Some(site),
            },
            None => PythonEnvironment {
                executable: PathBuf::from(EXECUTABLE),
                site_packages: None,
            },
        }
    }

    /// Why `VIRTUAL_ENV` is not used, if it is set and of another Python.
    pub fn warning() -> Option<String> {
        let venv = PathBuf::from(std::env::var_os("VIRTUAL_ENV")?);
        if venv_site_packages(&venv).is_some() {
            return None;
        }
        let made_with = venv_version(&venv)
            .map(|v| format!("Python {v}"))
            .unwrap_or_else(|| "another Python".into());
        Some(format!(
            "roo: warning: the activated virtualenv {} was made with {made_with}, and roo \
             embeds CPython {VERSION}: its packages are not used. Make the virtualenv with \
             Python {VERSION} ({EXECUTABLE} -m venv DIR), or build roo against its Python \
             (PYO3_PYTHON=DIR/bin/python cargo build --release)",
            venv.display()
        ))
    }

    /// Python code that sets the attached interpreter's `sys.executable` and adds the
    /// virtualenv's site-packages ahead of the others.
    pub fn setup_code(&self) -> String {
        let mut code = format!(
            "import sys\nsys.executable = {}\n",
            python_str(&self.executable)
        );
        if let Some(site) = &self.site_packages {
            code.push_str(&format!(
                "import site\n_site = {}\nif _site not in sys.path:\n    site.addsitedir(_site)\n    sys.path.remove(_site)\n    sys.path.insert(0, _site)\ndel _site\n",
                python_str(site)
            ));
        }
        code
    }
}

/// `DIR/lib/pythonX.Y/site-packages` of a virtualenv of the embedded version.
fn venv_site_packages(venv: &Path) -> Option<PathBuf> {
    let site = venv
        .join("lib")
        .join(format!("python{VERSION}"))
        .join("site-packages");
    site.is_dir().then_some(site)
}

/// The `version` line of a virtualenv's pyvenv.cfg.
fn venv_version(venv: &Path) -> Option<String> {
    let cfg = std::fs::read_to_string(venv.join("pyvenv.cfg")).ok()?;
    cfg.lines().find_map(|line| {
        let (key, value) = line.split_once('=')?;
        matches!(key.trim(), "version" | "version_info").then(|| value.trim().to_string())
    })
}

/// A Python string literal holding `path` (a repr of its text).
fn python_str(path: &Path) -> String {
    let text = path.display().to_string();
    let mut literal = String::from("'");
    for c in text.chars() {
        match c {
            '\\' | '\'' => {
                literal.push('\\');
                literal.push(c);
            }
            c if c.is_control() => literal.push_str(&format!("\\u{:04x}", c as u32)),
            c => literal.push(c),
        }
    }
    literal.push('\'');
    literal
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_python_literals() {
        assert_eq!(python_str(Path::new("/a/b")), "'/a/b'");
        assert_eq!(python_str(Path::new("/it's")), "'/it\\'s'");
    }
}
