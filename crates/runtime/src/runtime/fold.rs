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

/// Appends `text` compared caselessly the way attribute containment compares (the stricter of
/// Active Directory's readings, docs/language.md): two strings are equal when Windows'
/// upper-case comparison says so (`ı` and `i` both upper-case to `I`) or Unicode full case
/// folding does (`ß` and `ss`, `ẞ` and `ss`), and `İ` is `i` (Turkic folding), with or without a
/// combining dot above. Each character becomes lower(upper(c)) until that no longer changes it
/// (`ẞ` → `ß` → `ss`); a COMBINING DOT ABOVE after an `i` is dropped.
pub fn push_caseless(text: &str, out: &mut Vec<char>) {
    for c in text.chars() {
        if c.is_ascii() {
            out.push(c.to_ascii_lowercase());
        } else if c == 'İ' {
            out.push('i');
        } else if c == '\u{307}' && out.last() == Some(&'i') {
        } else {
            let mut now = vec![c];
            for _ in 0..3 {
                let next: Vec<char> = now
                    .iter()
                    .flat_map(|c| c.to_uppercase())
                    .flat_map(char::to_lowercase)
                    .collect();
                if next == now {
                    break;
                }
                now = next;
            }
            out.extend(now);
        }
    }
}

/// Whether `needle` occurs in `haystack` (both already folded).
pub fn contains_folded(haystack: &[char], needle: &[char]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::push_caseless;

    fn caseless(text: &str) -> String {
        let mut out = Vec::new();
        push_caseless(text, &mut out);
        out.into_iter().collect()
    }

    /// Each reading the stricter comparison joins (docs/language.md, "Active Directory").
    #[test]
    fn windows_upper_casing_full_folding_and_turkic_i_all_compare_equal() {
        assert_eq!(caseless("ıvan"), "ivan", "Windows: ı upper-cases to I");
        assert_eq!(caseless("İLKER"), "ilker", "Turkic folding: İ is i");
        assert_eq!(caseless("I\u{307}lker"), "ilker", "İ decomposed");
        assert_eq!(caseless("i\u{307}lker"), "ilker");
        assert_eq!(caseless("Strauß"), "strauss", "full folding: ß is ss");
        assert_eq!(caseless("STRAUẞ"), "strauss", "ẞ is ß is ss");
        assert_eq!(caseless("ﬁx"), "fix", "ligatures unfold");
        assert_eq!(caseless("\u{212a}elvin"), "kelvin", "Kelvin sign");
        assert_eq!(caseless("ſam"), "sam", "long s");
        assert_eq!(caseless("ΣΊΣΥΦΟΣ"), caseless("σίσυφος"), "final sigma");
        assert_eq!(caseless("Ödön"), "ödön");
        assert_eq!(caseless("ż\u{307}"), "ż\u{307}", "a dot above other letters stays");
        assert_eq!(caseless("日本"), "日本");
    }
}
