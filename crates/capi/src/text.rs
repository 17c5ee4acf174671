//! Text across the boundary: length-delimited UTF-8 in, NUL-terminated strings out.
#![allow(unsafe_code, reason = "the boundary with C: reading a caller's buffer")]

use crate::error::{policyc_error, policyc_status};
use std::ffi::{CStr, CString, c_char};

/// The caller's `len` bytes at `ptr` as UTF-8, read in place (never copied, so there is no copy
/// of a password to wipe). NULL with length 0 is the empty string.
pub(crate) fn utf8<'a>(
    ptr: *const c_char,
    len: usize,
    what: &str,
) -> Result<&'a str, policyc_error> {
    std::str::from_utf8(bytes(ptr.cast::<u8>(), len, what)?).map_err(|e| {
        policyc_error::new(
            policyc_status::POLICYC_ERROR_UTF8,
            format!("the {what} is not valid UTF-8 (at byte {})", e.valid_up_to()),
        )
    })
}

/// The caller's `len` bytes at `ptr` (NULL with length 0: none).
pub(crate) fn bytes<'a>(ptr: *const u8, len: usize, what: &str) -> Result<&'a [u8], policyc_error> {
    if ptr.is_null() || len > isize::MAX as usize {
        return match (ptr.is_null(), len) {
            (true, 0) => Ok(&[]),
            _ => Err(policyc_error::new(
                policyc_status::POLICYC_ERROR_ARGUMENT,
                format!("the {what} is NULL, or its length ({len}) does not fit"),
            )),
        };
    }
    // SAFETY: the caller passes `len` readable bytes at `ptr` (the header's contract), not
    // NULL and at most isize::MAX; they are only read, while the call lasts.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// A NUL-terminated string from C as UTF-8 (`None` for NULL).
pub(crate) fn c_str<'a>(ptr: *const c_char, what: &str) -> Result<Option<&'a str>, policyc_error> {
    if ptr.is_null() {
        return Ok(None);
    }
    // SAFETY: not NULL; the caller passes a NUL-terminated string (the header's contract).
    let text = unsafe { CStr::from_ptr(ptr) };
    text.to_str().map(Some).map_err(|_| {
        policyc_error::new(
            policyc_status::POLICYC_ERROR_UTF8,
            format!("the {what} is not valid UTF-8"),
        )
    })
}

/// `text` for C: a NUL inside (a policy's message could hold one) becomes U+FFFD.
pub(crate) fn c_string(text: &str) -> CString {
    CString::new(text.replace('\0', "\u{FFFD}")).unwrap_or_default()
}

/// Says on standard error that a free was refused: a double free is a defect of the caller's,
/// and must not pass silently.
pub(crate) fn refused_free(freed: bool, function: &str) {
    if !freed {
        eprintln!(
            "policyc: {function}: refused a pointer that is not live (freed already, or not returned by policyc)"
        );
    }
}
