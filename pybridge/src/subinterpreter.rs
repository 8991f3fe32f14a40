//! All of Roo's unsafe CPython FFI: starting Python, one interpreter per core,
//! attaching to it, owning its objects, and reading its exceptions.
//!
//! pyo3's high-level API assumes a single interpreter (`Python::attach` goes
//! through `PyGILState_*`, which is bound to the main interpreter, and a `Py<T>`
//! dropped while pyo3 thinks no thread is attached goes to a process-wide pool).
//! So Roo uses pyo3 only for borrowed calls (`Bound`) made while this module has
//! attached the right thread state, keeps long-lived objects in [`PyObj`] (which
//! decrefs only when its own interpreter is attached), and turns every `PyErr`
//! into text with [`error_text`] before it can be dropped.

use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::PyString;
use std::cell::Cell;
use std::ptr::{self, NonNull};
use std::sync::{Mutex, Once};

/// How the cores run Python.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PythonMode {
    /// One subinterpreter per core (own GIL on Python >= 3.12, shared GIL on 3.11).
    Subinterpreters,
    /// Every core uses the main interpreter (for C extensions that refuse subinterpreters).
    Main,
}

/// What an interpreter shares with the others, for start-up reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GilKind {
    OwnGil,
    SharedGil,
    MainInterpreter,
}

impl std::fmt::Display for GilKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            GilKind::OwnGil => "subinterpreter, own GIL",
            GilKind::SharedGil => "subinterpreter, shared GIL",
            GilKind::MainInterpreter => "main interpreter",
        })
    }
}

thread_local! {
    /// The interpreter this thread is attached to through [`Interpreter::with`], or null.
    static ATTACHED: Cell<*mut ffi::PyInterpreterState> = const { Cell::new(ptr::null_mut()) };
}

static INITIALIZE: Once = Once::new();

/// Starts CPython once per process and releases the main GIL so that core threads can
/// create their interpreters. Safe to call many times.
pub fn initialize() {
    INITIALIZE.call_once(|| {
        // SAFETY: runs once per process, before any other Python call of Roo's. If an embedder
        // initialized Python already we only need to hold its GIL for the imports below.
        unsafe {
            let already = ffi::Py_IsInitialized() != 0;
            let gil = if already {
                Some(ffi::PyGILState_Ensure())
            } else {
                // 0: do not install Python's signal handlers; the engine owns SIGINT/SIGTERM.
                ffi::Py_InitializeEx(0);
                None
            };
            // Modules with C state that abort when first imported by a second own-GIL
            // interpreter unless the main interpreter imported them first. datetime's types
            // are shared: the interpreter that first imports it owns them, and ending it
            // while another still runs crashed (tests/cli.rs, every core at once).
            ffi::PyRun_SimpleString(
                c"import datetime, decimal, pickle, struct, traceback".as_ptr(),
            );
            match gil {
                Some(state) => ffi::PyGILState_Release(state),
                // The main thread state stays alive, detached, for the life of the process.
                None => {
                    ffi::PyEval_SaveThread();
                }
            }
        }
    });
}

/// One interpreter bound to the thread that created it. Not `Send`: a thread state must
/// be used on its own thread.
pub struct Interpreter {
    thread_state: NonNull<ffi::PyThreadState>,
    interp: NonNull<ffi::PyInterpreterState>,
    /// This thread's main-interpreter thread state, taken at creation, deleted at teardown
    /// (the same as `thread_state` in main mode).
    main_thread_state: NonNull<ffi::PyThreadState>,
    kind: GilKind,
}

/// Held while an interpreter is created or ended, so these happen one at a time. Creation
/// already holds the main GIL, but ending an own-GIL interpreter does not: on Python 3.12
/// an interpreter ending on one core while another core created its own made the creation
/// fail, rarely, with `_io` types mixed up ("descriptor 'close' for
/// '_io.BufferedReader' objects doesn't apply to a '_io.FileIO' object"; tests/cli.rs,
/// an app failing on every core at once).
static CREATE_OR_END: Mutex<()> = Mutex::new(());

impl Interpreter {
    /// Creates this thread's interpreter. Call on the thread that will use it.
    pub fn new(mode: PythonMode) -> Result<Interpreter, String> {
        initialize();
        let _one_at_a_time = CREATE_OR_END.lock().unwrap_or_else(|p| p.into_inner());
        // SAFETY: Python is initialized. A fresh main-interpreter thread state for this thread
        // (PyThreadState_New needs no GIL) is attached to take the main GIL, which must be held
        // while a subinterpreter is created. Roo deletes only thread states it made here, never
        // the one Py_Initialize made (3.11 aborts if the main interpreter's first one is reused).
        unsafe {
            let main_thread_state =
                NonNull::new(ffi::PyThreadState_New(ffi::PyInterpreterState_Main()))
                    .ok_or("no main thread state")?;
            ffi::PyEval_RestoreThread(main_thread_state.as_ptr());
            let created = match mode {
                PythonMode::Main => Ok((main_thread_state.as_ptr(), GilKind::MainInterpreter)),
                PythonMode::Subinterpreters => new_subinterpreter(),
            };
            let (thread_state, kind) = match created {
                Ok(created) => created,
                Err(message) => {
                    delete_current_thread_state(main_thread_state);
                    return Err(message);
                }
            };
            // Detach: the interpreter is attached again only inside `with`.
            ffi::PyEval_SaveThread();
            let thread_state = NonNull::new(thread_state).ok_or("no thread state")?;
            let interp = NonNull::new(ffi::PyThreadState_GetInterpreter(thread_state.as_ptr()))
                .ok_or("thread state without interpreter")?;
            Ok(Interpreter {
                thread_state,
                interp,
                main_thread_state,
                kind,
            })
        }
    }

    pub fn kind(&self) -> GilKind {
        self.kind
    }

    /// Runs `f` with this interpreter attached to the current thread. Nested calls for the
    /// same interpreter run `f` directly.
    pub fn with<R>(&self, f: impl for<'py> FnOnce(Python<'py>) -> R) -> R {
        let current = ATTACHED.with(Cell::get);
        if current == self.interp.as_ptr() {
            // SAFETY: this thread is attached to this interpreter by an outer `with`.
            return f(unsafe { Python::assume_attached() });
        }
        assert!(
            current.is_null(),
            "another interpreter is attached on this thread"
        );
        // SAFETY: the thread state was created on this thread (Interpreter is !Send) and is
        // detached; restoring it takes its GIL and makes it current.
        unsafe { ffi::PyEval_RestoreThread(self.thread_state.as_ptr()) };
        ATTACHED.with(|a| a.set(self.interp.as_ptr()));
        let detach = DetachOnDrop;
        // SAFETY: the thread state restored above is current until `detach` drops.
        let result = f(unsafe { Python::assume_attached() });
        drop(detach);
        result
    }
}

/// Detaches the interpreter when `with` ends, also when the closure panics.
struct DetachOnDrop;

impl Drop for DetachOnDrop {
    fn drop(&mut self) {
        ATTACHED.with(|a| a.set(ptr::null_mut()));
        // SAFETY: `with` restored this thread state on this thread; saving it releases the GIL.
        unsafe { ffi::PyEval_SaveThread() };
    }
}

/// Deletes the current (main-interpreter) thread state and releases the main GIL.
///
/// # Safety
/// `thread_state` must be the current thread state of this thread, attached.
unsafe fn delete_current_thread_state(thread_state: NonNull<ffi::PyThreadState>) {
    // SAFETY: per the contract, it is current and attached; DeleteCurrent also releases the GIL.
    unsafe {
        ffi::PyThreadState_Clear(thread_state.as_ptr());
        ffi::PyThreadState_DeleteCurrent();
    }
}

/// Creates a subinterpreter while the main interpreter is attached; returns it attached.
///
/// # Safety
/// The calling thread must hold the main interpreter's GIL.
#[cfg(Py_3_12)]
unsafe fn new_subinterpreter() -> Result<(*mut ffi::PyThreadState, GilKind), String> {
    let config = ffi::PyInterpreterConfig {
        use_main_obmalloc: 0,
        allow_fork: 0,
        allow_exec: 0,
        allow_threads: 1,
        allow_daemon_threads: 0,
        check_multi_interp_extensions: 1,
        gil: ffi::PyInterpreterConfig_OWN_GIL,
    };
    let mut thread_state = ptr::null_mut();
    // SAFETY: caller holds the main GIL; `config` and `thread_state` outlive the call.
    let status = unsafe { ffi::Py_NewInterpreterFromConfig(&mut thread_state, &config) };
    // SAFETY: `status` is the value just returned by CPython.
    if unsafe { ffi::PyStatus_Exception(status) } != 0 || thread_state.is_null() {
        return Err("Py_NewInterpreterFromConfig failed to create a subinterpreter".into());
    }
    Ok((thread_state, GilKind::OwnGil))
}

/// Creates a subinterpreter (sharing the main GIL before 3.12); returns it attached.
///
/// # Safety
/// The calling thread must hold the main interpreter's GIL.
#[cfg(not(Py_3_12))]
unsafe fn new_subinterpreter() -> Result<(*mut ffi::PyThreadState, GilKind), String> {
    // SAFETY: caller holds the GIL, as Py_NewInterpreter requires.
    let thread_state = unsafe { ffi::Py_NewInterpreter() };
    if thread_state.is_null() {
        return Err("Py_NewInterpreter failed to create a subinterpreter".into());
    }
    Ok((thread_state, GilKind::SharedGil))
}

impl Drop for Interpreter {
    fn drop(&mut self) {
        // Output the app buffered must not vanish with the interpreter.
        self.with(flush_output);
        let _one_at_a_time = CREATE_OR_END.lock().unwrap_or_else(|p| p.into_inner());
        // SAFETY: this thread created the interpreter and nothing is attached on it now. For a
        // subinterpreter: attach it and end it (current becomes NULL); swapping to the main
        // thread state taken at creation takes the main GIL (3.12+: Swap acquires it; 3.11:
        // the shared GIL is still held after Py_EndInterpreter). Then that state is deleted.
        unsafe {
            ffi::PyEval_RestoreThread(self.thread_state.as_ptr());
            if self.kind != GilKind::MainInterpreter {
                ffi::Py_EndInterpreter(self.thread_state.as_ptr());
                ffi::PyThreadState_Swap(self.main_thread_state.as_ptr());
            }
            delete_current_thread_state(self.main_thread_state);
        }
    }
}

/// A strong reference to a Python object of one interpreter. It is `!Send` (it holds a raw
/// pointer), so it never leaves its core's thread, and it decrefs only while its own
/// interpreter is attached: dropping it elsewhere leaks it rather than corrupt another
/// interpreter (and fails a debug assertion).
pub struct PyObj {
    /// Owned, never null.
    object: *mut ffi::PyObject,
    interp: *mut ffi::PyInterpreterState,
}

impl PyObj {
    /// Takes ownership of `object`'s reference. The thread must be inside [`Interpreter::with`].
    pub fn new(object: Bound<'_, PyAny>) -> PyObj {
        let interp = ATTACHED.with(Cell::get);
        assert!(!interp.is_null(), "PyObj created outside Interpreter::with");
        PyObj {
            object: object.into_ptr(),
            interp,
        }
    }

    /// Borrows the object for a call in the attached interpreter; panics if the object
    /// belongs to another interpreter (or none is attached), in every build: a thread-local
    /// load and a compare, where using it there would be undefined behaviour.
    pub fn bind<'a, 'py>(&'a self, py: Python<'py>) -> &'a Bound<'py, PyAny> {
        if ATTACHED.with(Cell::get) != self.interp {
            used_in_another_interpreter();
        }
        // SAFETY: `Bound<PyAny>` is a transparent pointer wrapper; `self.object` is a live
        // owned reference of the interpreter attached now (checked above), and the returned
        // borrow cannot outlive `self`.
        unsafe { Bound::ref_from_ptr(py, &self.object) }
    }

    /// A new owned `Bound` to the same object.
    pub fn to_bound<'py>(&self, py: Python<'py>) -> Bound<'py, PyAny> {
        self.bind(py).clone()
    }
}

#[cold]
#[inline(never)]
fn used_in_another_interpreter() -> ! {
    panic!("PyObj used outside its own interpreter")
}

impl Drop for PyObj {
    fn drop(&mut self) {
        if ATTACHED.with(Cell::get) == self.interp {
            // SAFETY: the object's own interpreter is attached on this thread.
            unsafe { ffi::Py_DECREF(self.object) }
        } else {
            debug_assert!(
                false,
                "PyObj dropped while its interpreter was not attached"
            );
        }
    }
}

/// Writes out what the attached interpreter's sys.stdout and sys.stderr still buffer.
pub fn flush_output(py: Python<'_>) {
    if let Err(err) = py.run(
        c"import sys\nsys.stdout.flush()\nsys.stderr.flush()",
        None,
        None,
    ) {
        discard(py, err);
    }
}

/// Turns a Python exception into text (type, message and traceback) inside its interpreter,
/// without ever dropping the `PyErr` (see the module doc).
pub fn error_text(py: Python<'_>, err: PyErr) -> String {
    err.restore(py);
    let Some(exception) = take_raised(py) else {
        return "unknown Python error".into();
    };
    let formatted = py
        .import("traceback")
        .and_then(|tb| tb.call_method1("format_exception", (&exception,)))
        .and_then(|lines| PyString::new(py, "").call_method1("join", (lines,)));
    match formatted {
        Ok(text) => text.to_string().trim_end().to_string(),
        Err(err) => {
            discard(py, err);
            exception.to_string()
        }
    }
}

/// Drops a `PyErr` inside its interpreter (for errors Roo handles itself).
pub fn discard(py: Python<'_>, err: PyErr) {
    err.restore(py);
    drop(take_raised(py));
}

/// The exception currently raised in the attached interpreter, cleared, with its traceback.
fn take_raised<'py>(py: Python<'py>) -> Option<Bound<'py, PyAny>> {
    #[cfg(Py_3_12)]
    // SAFETY: the interpreter is attached (we hold `py`); the call returns a new reference or null.
    let raised = unsafe { ffi::PyErr_GetRaisedException() };
    #[cfg(not(Py_3_12))]
    // SAFETY: the interpreter is attached; PyErr_Fetch hands us owned references (or nulls),
    // normalization makes `value` an exception instance, which then carries the traceback.
    let raised = unsafe {
        let (mut kind, mut value, mut traceback) =
            (ptr::null_mut(), ptr::null_mut(), ptr::null_mut());
        ffi::PyErr_Fetch(&mut kind, &mut value, &mut traceback);
        ffi::PyErr_NormalizeException(&mut kind, &mut value, &mut traceback);
        if !traceback.is_null() && !value.is_null() {
            ffi::PyException_SetTraceback(value, traceback);
        }
        ffi::Py_XDECREF(kind);
        ffi::Py_XDECREF(traceback);
        value
    };
    // SAFETY: `raised` is an owned reference or null, of the attached interpreter.
    unsafe { Bound::from_owned_ptr_or_opt(py, raised) }
}

/// A `str` view of a Python str's UTF-8 bytes without copying (the buffer is cached in the
/// str object). None for non-str objects or strings that are not valid UTF-8.
pub fn str_utf8<'a>(object: &'a Bound<'_, PyAny>) -> Option<&'a str> {
    let text = object.cast::<PyString>().ok()?;
    let mut size: ffi::Py_ssize_t = 0;
    // SAFETY: `text` is a live str of the attached interpreter; CPython returns a pointer to a
    // UTF-8 buffer owned by the str object, valid while the object lives (so for 'a).
    let data = unsafe { ffi::PyUnicode_AsUTF8AndSize(text.as_ptr(), &mut size) };
    if data.is_null() {
        // SAFETY: the failed call set an exception (e.g. lone surrogates); clear it.
        unsafe { ffi::PyErr_Clear() };
        return None;
    }
    // SAFETY: CPython guarantees `size` valid UTF-8 bytes at `data`.
    Some(unsafe {
        std::str::from_utf8_unchecked(std::slice::from_raw_parts(data.cast(), size as usize))
    })
}

/// Whether a reference other than `object` itself holds the object (a cache may then
/// expect to see it again; a fresh temporary it would not).
pub fn is_shared(object: &Bound<'_, PyAny>) -> bool {
    // SAFETY: `object` is a live reference of the attached interpreter; reading its
    // reference count has no other effect.
    unsafe { ffi::Py_REFCNT(object.as_ptr()) > 1 }
}
