//! Unicode simple case folding, for case-insensitive comparisons.
//!
//! The compiler ships the folding table in the artifact ([`Program::case_folds`]); ASCII folds to
//! lowercase without it. Every member of a simple-case-folding class maps to one representative:
//! the ASCII lowercase letter when the class has one (`K`, `k` and the Kelvin sign fold to `k`),
//! else the smallest member.
//!
//! [`Program::case_folds`]: crate::ir::Program::case_folds

/// A view of a folding table.
#[derive(Debug, Clone, Copy)]
pub struct Folding<'a> {
    table: &'a [(u32, u32)],
}

impl<'a> Folding<'a> {
    /// Wraps a table sorted by its first column.
    pub fn new(table: &'a [(u32, u32)]) -> Folding<'a> {
        Folding { table }
    }

    /// The representative of `c`'s simple-case-folding class.
    #[inline]
    pub fn fold(self, c: char) -> char {
        if c.is_ascii() {
            return c.to_ascii_lowercase();
        }
        match self.table.binary_search_by_key(&(c as u32), |p| p.0) {
            Ok(i) => self.table.get(i).and_then(|p| char::from_u32(p.1)).unwrap_or(c),
            Err(_) => c,
        }
    }

    /// Whether `a` and `b` are equal ignoring case.
    pub fn eq(self, a: &str, b: &str) -> bool {
        a.chars().map(|c| self.fold(c)).eq(b.chars().map(|c| self.fold(c)))
    }
}

/// Whether `needle` occurs in `haystack` (both already folded).
pub fn contains_folded(haystack: &[char], needle: &[char]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}
