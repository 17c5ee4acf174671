//! Errors for C: a code to branch on and a message to show, for every failure.
#![allow(unsafe_code, reason = "the boundary with C: the error out-parameter, exported functions")]

use crate::guard::guard;
use crate::handle::{self, Handle, Kind, Live};
use crate::text::c_string;
use std::ffi::{CString, c_char};

/// What went wrong (0 is success).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum policyc_status {
    /// Success.
    POLICYC_OK = 0,
    /// A NULL, freed or foreign pointer, or a length that does not fit.
    POLICYC_ERROR_ARGUMENT = 1,
    /// Text (a password, an attribute value, a path) that is not valid UTF-8.
    POLICYC_ERROR_UTF8 = 2,
    /// A file that cannot be read, or that root may not trust (owner, mode, a symlink).
    POLICYC_ERROR_FILE = 3,
    /// Bytes that are not a policy artifact this library reads (damaged, truncated, another
    /// format version).
    POLICYC_ERROR_POLICY = 4,
    /// A policy whose signature or serial does not verify.
    POLICYC_ERROR_TRUST = 5,
    /// Settings (`key=value` words) that cannot be used.
    POLICYC_ERROR_SETTINGS = 6,
    /// A defect inside the library (a panic, caught).
    POLICYC_ERROR_INTERNAL = 7,
}

/// An error: its code and a message for a person. Free with `policyc_error_free`.
#[derive(Debug)]
pub struct policyc_error {
    code: policyc_status,
    message: CString,
}

impl Handle for policyc_error {
    const KIND: Kind = Kind::Error;
}

impl policyc_error {
    pub(crate) fn new(code: policyc_status, message: impl AsRef<str>) -> policyc_error {
        policyc_error { code, message: c_string(message.as_ref()) }
    }

    pub(crate) fn text(&self) -> &std::ffi::CStr {
        &self.message
    }
}

/// A defect inside the library (a panic), caught at the boundary.
pub(crate) fn internal() -> policyc_error {
    policyc_error::new(policyc_status::POLICYC_ERROR_INTERNAL, "internal error (caught)")
}

/// A pointer that is not a live `kind` (NULL, freed, foreign, another kind), named as `what`.
pub(crate) fn not_live(what: &str, kind: &str) -> policyc_error {
    policyc_error::new(
        policyc_status::POLICYC_ERROR_ARGUMENT,
        format!("the {what} is not a live {kind}"),
    )
}

/// Runs a call's `body` (a panic is an internal error) and reports through `out`: its error,
/// or none. `body` must have released the registry's read lock when it returns (reporting
/// hands an error out, which takes the write lock).
pub(crate) fn reported<T>(
    out: *mut *mut policyc_error,
    body: impl FnOnce() -> Result<T, policyc_error>,
) -> Result<T, policyc_status> {
    match guard(|| Err(internal()), body) {
        Ok(value) => {
            report(out, None);
            Ok(value)
        }
        Err(e) => {
            let code = e.code;
            report(out, Some(e));
            Err(code)
        }
    }
}

/// Sets `*out` to `error` (handed to C), if the caller asked for errors.
pub(crate) fn report(out: *mut *mut policyc_error, error: Option<policyc_error>) {
    if out.is_null() {
        return;
    }
    let given = error.map_or(std::ptr::null_mut(), handle::give);
    // SAFETY: `out` is not NULL; the caller passes the address of a `policyc_error *`.
    unsafe { *out = given };
}

/// The error's code; `POLICYC_ERROR_ARGUMENT` for a pointer that is not a live error.
#[unsafe(no_mangle)]
pub extern "C" fn policyc_error_code(e: *const policyc_error) -> policyc_status {
    guard(
        || policyc_status::POLICYC_ERROR_INTERNAL,
        || Live::read().get(e).map_or(policyc_status::POLICYC_ERROR_ARGUMENT, |e| e.code),
    )
}

/// The error's message (valid until the error is freed); NULL for a pointer that is not a live
/// error.
#[unsafe(no_mangle)]
pub extern "C" fn policyc_error_message(e: *const policyc_error) -> *const c_char {
    guard(std::ptr::null, || Live::read().get(e).map_or(std::ptr::null(), |e| e.message.as_ptr()))
}

/// Frees an error. NULL is ignored; a pointer that is not a live error (freed already) is
/// refused.
#[unsafe(no_mangle)]
pub extern "C" fn policyc_error_free(e: *mut policyc_error) {
    guard(
        || (),
        || crate::text::refused_free(e.is_null() || handle::free(e), "policyc_error_free"),
    );
}
