//! The runtime's POSIX basic expressions (`not contains … as patterns`, ppm's tokens) against
//! glibc itself: for generated patterns and texts, `regcomp(…, REG_ICASE)` fails exactly when
//! the runtime says the pattern is invalid, and `regexec` finds it exactly when the runtime
//! does (a back-reference, which the runtime does not search, is counted apart).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails by panicking"
)]
#![allow(unsafe_code, reason = "calling glibc's regcomp and regexec, the reference")]

use policyc_runtime::runtime::posix::{Search, search};
use std::ffi::{CString, c_char, c_int, c_void};

/// glibc's `regex_t` is 64 bytes on 64-bit Linux; room to spare.
#[repr(C, align(8))]
struct Regex([u8; 256]);

unsafe extern "C" {
    fn regcomp(preg: *mut c_void, pattern: *const c_char, cflags: c_int) -> c_int;
    fn regexec(
        preg: *const c_void,
        string: *const c_char,
        nmatch: usize,
        pmatch: *mut c_void,
        eflags: c_int,
    ) -> c_int;
    fn regfree(preg: *mut c_void);
}

/// glibc's REG_ICASE.
const REG_ICASE: c_int = 2;

/// What glibc says: `None` when the pattern does not compile, else whether it occurs.
fn glibc(pattern: &[u8], text: &[u8]) -> Option<bool> {
    let p = CString::new(pattern).unwrap();
    let t = CString::new(text).unwrap();
    let mut re = Regex([0; 256]);
    let ptr = (&raw mut re).cast::<c_void>();
    // SAFETY: `re` is larger than regex_t and aligned; the strings are NUL-terminated; the
    // compiled expression is freed once, only when it compiled.
    unsafe {
        if regcomp(ptr, p.as_ptr(), REG_ICASE) != 0 {
            return None;
        }
        let found = regexec(ptr, t.as_ptr(), 0, std::ptr::null_mut(), 0) == 0;
        regfree(ptr);
        Some(found)
    }
}

fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Pieces patterns are made of: what user names and attribute values hold, and every
/// construct of a basic expression, well- and ill-formed.
const PIECES: &[&[u8]] = &[
    b"a",
    b"b",
    b"S",
    b"m",
    b"i",
    b"t",
    b"h",
    b"J",
    b"0",
    b"7",
    b".",
    b"*",
    b"^",
    b"$",
    b"[",
    b"]",
    b"-",
    b"+",
    b"?",
    b"|",
    b"(",
    b")",
    b"{",
    b"}",
    b",",
    b"\\",
    b"\\.",
    b"\\*",
    b"\\(",
    b"\\)",
    b"\\|",
    b"\\{",
    b"\\}",
    b"\\{2\\}",
    b"\\{1,3\\}",
    b"\\{,2\\}",
    b"\\{2,\\}",
    b"\\{3,1\\}",
    b"\\+",
    b"\\?",
    b"\\<",
    b"\\>",
    b"\\b",
    b"\\B",
    b"\\w",
    b"\\W",
    b"\\s",
    b"\\S",
    b"\\`",
    b"\\'",
    b"\\1",
    b"\\A",
    b"\\a",
    b"[a-c]",
    b"[^a-c]",
    b"[]a]",
    b"[a-]",
    b"[[:alpha:]]",
    b"[[:UPPER:]]",
    b"[[:upper:]]",
    b"[[:digit:]]",
    b"[[.a.]]",
    b"[[=b=]]",
    b"[z-a]",
    b"[A-Z]",
    b"[Z-a]",
    b"[--/]",
    b"[a-c-e]",
    b"[[:alpha:]-z]",
    b"\xc3\xa9",
    b"\xc3",
    b"[\xc3\xa9]",
    b"[\xc3-\xc4]",
    b"@",
    b"_",
    b" ",
    b"'",
    b"x",
];

/// Texts: letters of both cases, the pieces' characters, non-ASCII bytes.
const TEXT: &[u8] = b"abSmithJ07.*^$[]-+?|(){},\\@_ 'xXAB";

#[test]
fn posix_basic_expressions_agree_with_glibc() {
    let mut state = 0x9051_0000u64;
    let mut r = move |m: u64| splitmix(&mut state) % m;
    let (mut compared, mut invalid, mut found, mut unsupported) = (0, 0, 0, 0);
    let mut disagreements = Vec::new();
    for _ in 0..60_000 {
        let mut pattern = Vec::new();
        for _ in 0..1 + r(6) {
            pattern.extend_from_slice(PIECES[r(PIECES.len() as u64) as usize]);
        }
        let mut text: Vec<u8> = (0..r(16)).map(|_| TEXT[r(TEXT.len() as u64) as usize]).collect();
        if r(3) == 0 {
            // The pattern's own bytes, so that some match.
            let at = r(text.len() as u64 + 1) as usize;
            let literal: Vec<u8> = pattern.iter().copied().filter(|b| *b != b'\\').collect();
            text.splice(at..at, literal);
        }
        if r(8) == 0 {
            text.extend_from_slice("é".as_bytes());
        }
        let theirs = glibc(&pattern, &text);
        let ours = search(&pattern, &text);
        let agrees = match (ours, theirs) {
            (Search::Unsupported, _) => {
                unsupported += 1;
                continue;
            }
            (Search::Invalid, None) => {
                invalid += 1;
                true
            }
            (Search::Found, Some(true)) => {
                found += 1;
                true
            }
            (Search::NotFound, Some(false)) => true,
            _ => false,
        };
        compared += 1;
        if !agrees {
            disagreements.push(format!(
                "{:?} in {:?}: glibc {theirs:?}, policyc {ours:?}",
                String::from_utf8_lossy(&pattern),
                String::from_utf8_lossy(&text)
            ));
        }
    }
    eprintln!(
        "{compared} compared ({invalid} invalid, {found} found), {unsupported} back-references or too large, {} disagreements",
        disagreements.len()
    );
    assert!(
        disagreements.is_empty(),
        "{} disagree, e.g.\n{}",
        disagreements.len(),
        disagreements.iter().take(20).cloned().collect::<Vec<_>>().join("\n")
    );
    assert!(invalid > 1_000 && found > 1_000 && compared - invalid - found > 1_000);
}
