//! Links the `roo` binary with the Python that pyo3 was configured for.
//!
//! Where that Python ships its static library (`libpythonX.Y.a` in sysconfig's LIBPL, as
//! pyenv and python.org builds do), the binary embeds it whole instead of loading
//! `libpythonX.Y.so`, as Debian links its own `python3`: code in a shared libpython must
//! look up the thread's interpreter state through `__tls_get_addr` and reach its own
//! globals through the GOT, which cost the word count 10-14% of its time (perf, callgrind:
//! `__tls_get_addr` alone was 4% of its instructions). Extension modules (`_struct`,
//! `math`...) then find the C API in the binary itself (`--export-dynamic`).
//!
//! `ROO_LIBPYTHON=shared` keeps the shared link (then libpython is found by rpath).
//! Test binaries that embed Python themselves (pybridge's, engine's) always link it shared.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    // The binaries and tests find a shared libpython through an rpath, not LD_LIBRARY_PATH.
    pyo3_build_config::add_libpython_rpath_link_args();
    println!("cargo:rerun-if-env-changed=ROO_LIBPYTHON");
    let version = pyo3_build_config::get().version();
    // What `roo --version` says it embeds.
    let embeds = |link: &str| {
        println!("cargo:rustc-env=ROO_EMBEDS=CPython {version}, libpython linked {link}");
    };
    if std::env::var("ROO_LIBPYTHON").as_deref() == Ok("shared") {
        return embeds("shared");
    }
    let Some(python) = StaticPython::find() else {
        println!("cargo:warning=no static libpython found: roo links libpython shared (slower)");
        return embeds("shared");
    };
    let archive = if python.has_mimalloc {
        match archive_with_private_mimalloc(&python.archive) {
            Ok(archive) => archive,
            Err(why) => {
                println!("cargo:warning=roo links libpython shared: {why}");
                return embeds("shared");
            }
        }
    } else {
        python.archive
    };
    embeds("statically");
    println!("cargo:rustc-link-arg-bins=-Wl,--whole-archive");
    println!("cargo:rustc-link-arg-bins={}", archive.display());
    println!("cargo:rustc-link-arg-bins=-Wl,--no-whole-archive");
    for flag in python.libs.split_whitespace() {
        println!("cargo:rustc-link-arg-bins={flag}");
    }
    println!("cargo:rustc-link-arg-bins=-Wl,--export-dynamic");
}

/// CPython 3.13+ compiles its own copy of mimalloc into the archive (obmalloc.o) under
/// mimalloc's names, which would clash with the mimalloc crate roo allocates with. Only
/// obmalloc.o itself uses them, so a copy of the archive with them made local to it
/// links beside the crate.
fn archive_with_private_mimalloc(archive: &Path) -> Result<PathBuf, String> {
    let out = PathBuf::from(std::env::var("OUT_DIR").map_err(|e| e.to_string())?);
    let copy = out.join(archive.file_name().ok_or("archive without a name")?);
    let status = Command::new("objcopy")
        .args([
            "--wildcard",
            "--localize-symbol=mi_*",
            "--localize-symbol=_mi_*",
        ])
        .arg(archive)
        .arg(&copy)
        .status()
        .map_err(|e| format!("cannot run objcopy (binutils): {e}"))?;
    if !status.success() {
        return Err(format!("objcopy failed on {}", archive.display()));
    }
    Ok(copy)
}

/// What linking pyo3's Python statically takes, read from its sysconfig.
struct StaticPython {
    archive: PathBuf,
    /// The libraries libpython itself needs (sysconfig's LIBS and SYSLIBS).
    libs: String,
    /// Whether CPython was built with its own mimalloc (3.13+).
    has_mimalloc: bool,
}

impl StaticPython {
    fn find() -> Option<StaticPython> {
        let config = pyo3_build_config::get();
        let executable = config.executable()?;
        let script = "import sysconfig as s\n\
                      v = s.get_config_var\n\
                      print(v('LIBPL') or '')\n\
                      print(v('LIBRARY') or '')\n\
                      print((v('LIBS') or '') + ' ' + (v('SYSLIBS') or ''))\n\
                      print(v('WITH_MIMALLOC') or 0)";
        let output = Command::new(executable)
            .args(["-c", script])
            .output()
            .ok()?;
        if !output.status.success() {
            return None;
        }
        let text = String::from_utf8(output.stdout).ok()?;
        let mut lines = text.lines();
        let (libpl, library, libs, mimalloc) =
            (lines.next()?, lines.next()?, lines.next()?, lines.next()?);
        let archive = PathBuf::from(libpl).join(library);
        if !library.ends_with(".a") || !archive.is_file() {
            return None;
        }
        println!("cargo:rerun-if-changed={}", archive.display());
        Some(StaticPython {
            archive,
            libs: libs.to_string(),
            has_mimalloc: mimalloc.trim() == "1",
        })
    }
}
