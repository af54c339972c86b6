//! The boundary every entry point goes through: panics are caught, errors become a status code
//! plus a thread-local message, and handles are checked and cast by declared ownership.

use std::cell::RefCell;
use std::ffi::{CStr, CString, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use crate::error::{Error, KilnStatus, Result};

thread_local! {
    /// The message of the last failed call on this thread.
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

fn set_last_error(message: &str) {
    let c = CString::new(message.replace('\0', "\\0")).unwrap_or_default();
    LAST_ERROR.with(|e| *e.borrow_mut() = c);
}

/// The last error message of this thread; valid until the next failed call on this thread.
pub(crate) fn last_error_ptr() -> *const c_char {
    LAST_ERROR.with(|e| e.borrow().as_ptr())
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic payload".into())
}

/// Run an entry point's body: its error or panic becomes a status and the last-error message.
/// `function` names the entry point in panic messages (a panic is a kiln bug to report).
pub(crate) fn guard(function: &str, body: impl FnOnce() -> Result<()>) -> KilnStatus {
    // The handles an entry point touches are either immutable (a model) or owned by one thread
    // for the call (a batch); a panic half-way leaves no shared state broken.
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => KilnStatus::Ok,
        Ok(Err(e)) => {
            set_last_error(e.message());
            e.status()
        }
        Err(payload) => {
            set_last_error(&format!("{function}: internal panic (a kiln bug, please report it): {}", panic_message(payload.as_ref())));
            KilnStatus::Panic
        }
    }
}

/// Like [`guard`] for entry points that return no status (`_free`, getters of static strings):
/// a panic is swallowed after recording its message, and `fallback` is returned.
pub(crate) fn guard_value<T>(function: &str, fallback: T, body: impl FnOnce() -> T) -> T {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(v) => v,
        Err(payload) => {
            set_last_error(&format!("{function}: internal panic (a kiln bug, please report it): {}", panic_message(payload.as_ref())));
            fallback
        }
    }
}

pub(crate) fn null_argument(what: &str) -> Error {
    Error::new(KilnStatus::NullArgument, format!("{what} is NULL"))
}

/// Write `value` through an out-pointer (checked non-NULL beforehand by [`out_ptr`]).
///
/// # Safety
/// `out` must be valid for a write of `T`.
pub(crate) unsafe fn write_out<T>(out: *mut T, value: T) {
    // SAFETY: forwarded from this function's contract.
    unsafe { out.write(value) }
}

/// Check an out-pointer before any work, so that a NULL one fails fast and nothing is leaked.
pub(crate) fn out_ptr<T>(out: *mut T, what: &str) -> Result<*mut T> {
    if out.is_null() { Err(null_argument(what)) } else { Ok(out) }
}

/// A NUL-terminated UTF-8 string argument.
///
/// # Safety
/// `s`, when non-NULL, must point to a NUL-terminated string that outlives `'a`.
pub(crate) unsafe fn str_arg<'a>(s: *const c_char, what: &str) -> Result<&'a str> {
    if s.is_null() {
        return Err(null_argument(what));
    }
    // SAFETY: non-NULL and NUL-terminated (contract).
    unsafe { CStr::from_ptr(s) }.to_str().map_err(|e| Error::invalid_argument(format!("{what} is not valid UTF-8: {e}")))
}

/// Like [`str_arg`], NULL meaning "not given".
///
/// # Safety
/// As [`str_arg`].
pub(crate) unsafe fn opt_str_arg<'a>(s: *const c_char, what: &str) -> Result<Option<&'a str>> {
    if s.is_null() {
        Ok(None)
    } else {
        // SAFETY: forwarded from this function's contract.
        unsafe { str_arg(s, what) }.map(Some)
    }
}

/// How a handle type is owned across the boundary. A handle's type fixes its ownership, so a
/// shared handle can never be freed as a boxed one or the other way round (the idea of
/// rustls-ffi's `Castable`).
pub(crate) trait Handle: Sized {
    type Ownership;
    /// Name used in error messages, e.g. "model".
    const NAME: &'static str;
}

/// Built once, read-only, shared across threads: `const T*`, reference-counted.
pub(crate) struct OwnershipArc;
/// Mutable, used by one thread at a time: `T*`, uniquely owned.
pub(crate) struct OwnershipBox;

pub(crate) fn arc_into_raw<T: Handle<Ownership = OwnershipArc>>(value: T) -> *const T {
    Arc::into_raw(Arc::new(value))
}

/// # Safety
/// `p`, when non-NULL, must come from [`arc_into_raw`] and not yet be freed.
pub(crate) unsafe fn arc_ref<'a, T: Handle<Ownership = OwnershipArc>>(p: *const T) -> Result<&'a T> {
    // SAFETY: a live `Arc` allocation (contract); shared references are all it hands out.
    unsafe { p.as_ref() }.ok_or_else(|| null_argument(T::NAME))
}

/// # Safety
/// `p`, when non-NULL, must come from [`arc_into_raw`] and not yet be freed; it is freed here.
pub(crate) unsafe fn arc_free<T: Handle<Ownership = OwnershipArc>>(p: *const T) {
    if !p.is_null() {
        // SAFETY: the pointer came from `Arc::into_raw` and this drops that one reference.
        drop(unsafe { Arc::from_raw(p) });
    }
}

pub(crate) fn box_into_raw<T: Handle<Ownership = OwnershipBox>>(value: T) -> *mut T {
    Box::into_raw(Box::new(value))
}

/// # Safety
/// `p`, when non-NULL, must come from [`box_into_raw`], not yet be freed, and not be mutated
/// by another thread during `'a`.
pub(crate) unsafe fn box_ref<'a, T: Handle<Ownership = OwnershipBox>>(p: *const T) -> Result<&'a T> {
    // SAFETY: a live `Box` allocation (contract).
    unsafe { p.as_ref() }.ok_or_else(|| null_argument(T::NAME))
}

/// # Safety
/// `p`, when non-NULL, must come from [`box_into_raw`], not yet be freed, and be used by no one
/// else during `'a` (the one-thread-at-a-time rule).
pub(crate) unsafe fn box_mut<'a, T: Handle<Ownership = OwnershipBox>>(p: *mut T) -> Result<&'a mut T> {
    // SAFETY: a live, uniquely used `Box` allocation (contract).
    unsafe { p.as_mut() }.ok_or_else(|| null_argument(T::NAME))
}

/// # Safety
/// `p`, when non-NULL, must come from [`box_into_raw`] and not yet be freed; it is freed here.
pub(crate) unsafe fn box_free<T: Handle<Ownership = OwnershipBox>>(p: *mut T) {
    if !p.is_null() {
        // SAFETY: the pointer came from `Box::into_raw` and is freed exactly once (contract).
        drop(unsafe { Box::from_raw(p) });
    }
}

/// A caller's output buffer as a slice: NULL is fine only when nothing is needed.
///
/// # Safety
/// `ptr`, when non-NULL, must be valid for reads and writes of `len` values of `T`, and not be
/// aliased by the other buffers of the call.
pub(crate) unsafe fn out_slice<'a, T>(what: &str, ptr: *mut T, len: usize, need: usize) -> Result<&'a mut [T]> {
    if len < need {
        return Err(Error::buffer_too_small(what, len, need));
    }
    if need == 0 {
        return Ok(&mut []);
    }
    if ptr.is_null() {
        return Err(null_argument(what));
    }
    if (ptr as usize) % std::mem::align_of::<T>() != 0 {
        return Err(Error::bad_buffer(format!("{what} {ptr:p} is not aligned to {} bytes", std::mem::align_of::<T>())));
    }
    // SAFETY: non-NULL, aligned, valid for `need <= len` values, unaliased (contract).
    Ok(unsafe { std::slice::from_raw_parts_mut(ptr, need) })
}

/// A caller's input buffer as a slice: NULL is fine only when it is empty.
///
/// # Safety
/// `ptr`, when non-NULL, must be valid for reads of `len` values of `T` for the call.
pub(crate) unsafe fn in_slice<'a, T>(what: &str, ptr: *const T, len: usize) -> Result<&'a [T]> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(null_argument(what));
    }
    if (ptr as usize) % std::mem::align_of::<T>() != 0 {
        return Err(Error::bad_buffer(format!("{what} {ptr:p} is not aligned to {} bytes", std::mem::align_of::<T>())));
    }
    // SAFETY: non-NULL, aligned, valid for reads of `len` values (contract).
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn last_error() -> String {
        // SAFETY: the pointer is this thread's live NUL-terminated message.
        unsafe { CStr::from_ptr(last_error_ptr()) }.to_string_lossy().into_owned()
    }

    #[test]
    #[expect(clippy::panic, reason = "the panic is what the boundary must catch")]
    fn a_panic_becomes_a_status_and_a_message() {
        let status = guard("kiln_test_entry", || panic!("boom in the engine"));
        assert_eq!(status, KilnStatus::Panic);
        let msg = last_error();
        assert!(msg.contains("kiln_test_entry") && msg.contains("boom in the engine"), "{msg}");
        assert_eq!(guard_value("kiln_test_value", 7, || panic!("again")), 7);
        assert!(last_error().contains("again"));
    }

    #[test]
    fn errors_set_the_message_and_success_keeps_it() {
        assert_eq!(guard("f", || Err(Error::bad_buffer("column 'x': broken"))), KilnStatus::BadBuffer);
        assert_eq!(last_error(), "column 'x': broken");
        assert_eq!(guard("f", || Ok(())), KilnStatus::Ok);
        assert_eq!(last_error(), "column 'x': broken", "the last failed call's message stays");
        // A NUL inside a message cannot cut it short.
        guard("f", || Err(Error::invalid_argument("a\0b")));
        assert_eq!(last_error(), "a\\0b");
    }

    #[test]
    #[expect(clippy::panic, reason = "re-raises the other thread's failed assertion")]
    fn messages_are_per_thread() {
        guard("f", || Err(Error::io("main thread")));
        std::thread::spawn(|| {
            assert_eq!(last_error(), "");
            guard("f", || Err(Error::io("other thread")));
        })
        .join()
        .map_err(|_| "the other thread's assertions failed")
        .unwrap_or_else(|e| std::panic::panic_any(e));
        assert_eq!(last_error(), "main thread");
    }
}
