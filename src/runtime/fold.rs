//! Unicode simple case folding, for case-insensitive comparisons.
//!
//! `fold(c)` maps every character of a simple-case-folding equivalence class to one member, using
//! only the standard library's case tables: a character whose lowercase is a single character is
//! lowercased, then round-tripped through its single-character uppercase (this sends `ſ`, `ς`,
//! `ϐ` and the Kelvin sign to `s`, `σ`, `β`, `k`). Characters whose only case mappings are
//! multi-character (`ß`, `İ`, `ΐ`) have no simple folding and stay as they are. A test checks the
//! result against regex-syntax's simple case folding tables.

/// The representative of `c`'s simple-case-folding class.
pub fn fold(c: char) -> char {
    if c.is_ascii() {
        return c.to_ascii_lowercase();
    }
    let lower = single(c.to_lowercase()).unwrap_or(c);
    match single(lower.to_uppercase()).and_then(|u| single(u.to_lowercase())) {
        Some(l) => l,
        None => lower,
    }
}

fn single(mut it: impl Iterator<Item = char>) -> Option<char> {
    let c = it.next()?;
    if it.next().is_some() { None } else { Some(c) }
}

/// Whether `a` and `b` are equal ignoring case.
pub fn eq_ignore_case(a: &str, b: &str) -> bool {
    a.chars().map(fold).eq(b.chars().map(fold))
}

/// Whether `needle` (already folded) occurs in `haystack` (already folded).
pub fn contains_folded(haystack: &[char], needle: &[char]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}
