//! The runtime's POSIX basic expressions (ppm's tokens, read from directory entries at check
//! time: untrusted) against glibc's own `regcomp(…, REG_ICASE)` and `regexec`: the same
//! verdict on any pattern and text (a back-reference or an oversized automaton, which the
//! runtime does not search, excepted), and never a panic or a hang.
#![no_main]
#![allow(unsafe_code, reason = "calling glibc's regcomp and regexec, the reference")]
use libfuzzer_sys::fuzz_target;
use policyc_runtime::runtime::posix::{Search, search};
use std::ffi::{CString, c_char, c_int, c_void};

#[repr(C, align(8))]
struct Regex([u8; 256]);

unsafe extern "C" {
    fn regcomp(preg: *mut c_void, pattern: *const c_char, cflags: c_int) -> c_int;
    fn regexec(preg: *const c_void, s: *const c_char, n: usize, m: *mut c_void, f: c_int) -> c_int;
    fn regfree(preg: *mut c_void);
}

fuzz_target!(|data: &[u8]| {
    // The pattern, a NUL, the text; neither holds a NUL (C strings), the pattern is short (a
    // token of a DN or an attribute value).
    let mut parts = data.splitn(2, |b| *b == 0);
    let (Some(pattern), Some(text)) = (parts.next(), parts.next()) else { return };
    if pattern.len() > 64 || text.contains(&0) {
        return;
    }
    let ours = search(pattern, text);
    let (p, t) = (CString::new(pattern).unwrap(), CString::new(text).unwrap());
    let mut re = Regex([0; 256]);
    let ptr = (&raw mut re).cast::<c_void>();
    // SAFETY: `re` is larger than regex_t and aligned; the strings are NUL-terminated; freed
    // once, only when compiled.
    let theirs = unsafe {
        if regcomp(ptr, p.as_ptr(), 2) != 0 {
            None
        } else {
            let found = regexec(ptr, t.as_ptr(), 0, std::ptr::null_mut(), 0) == 0;
            regfree(ptr);
            Some(found)
        }
    };
    match (ours, theirs) {
        (Search::Unsupported, _)
        | (Search::Invalid, None)
        | (Search::Found, Some(true))
        | (Search::NotFound, Some(false)) => {}
        _ => panic!("{:?} in {:?}: glibc {theirs:?}, policyc {ours:?}", String::from_utf8_lossy(pattern), String::from_utf8_lossy(text)),
    }
});
