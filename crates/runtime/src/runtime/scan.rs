//! The compiled class tables and the single pass over a password that feeds every class,
//! length, repeat and sequence rule.
//!
//! Each class the program uses gets one bit. ASCII characters look their bits up in a 128-entry
//! table; other characters binary-search one merged, sorted list of ranges. One pass computes
//! which classes occur, which class every character belongs to, per-class counts (only when a
//! rule counts), and the longest repeat and sequence (only when a rule asks).

use crate::ir::CharClass;

/// Largest number of classes one program may use (one bit each).
pub const MAX_CLASSES: usize = 32;

/// Class membership tables, built from [`CharClass`] ranges when an artifact is loaded.
#[derive(Debug, Clone)]
pub(crate) struct ClassTable {
    ascii: [u32; 128],
    /// Disjoint `(first, last, mask)` ranges of non-ASCII scalar values, sorted.
    wide: Vec<(u32, u32, u32)>,
}

impl ClassTable {
    /// Builds the tables. Classes beyond [`MAX_CLASSES`] are refused by the loader first.
    pub(crate) fn new(classes: &[CharClass]) -> ClassTable {
        let mut ascii = [0u32; 128];
        let mut bounds: Vec<u32> = Vec::new();
        for (bit, class) in classes.iter().enumerate().take(MAX_CLASSES) {
            for &(lo, hi) in &class.ranges {
                for c in lo..=hi.min(127) {
                    if let Some(slot) = ascii.get_mut(c as usize) {
                        *slot |= 1 << bit;
                    }
                }
                if hi >= 128 {
                    bounds.push(lo.max(128));
                    bounds.push(hi.saturating_add(1));
                }
            }
        }
        bounds.sort_unstable();
        bounds.dedup();
        let mut wide: Vec<(u32, u32, u32)> = Vec::new();
        for pair in bounds.windows(2) {
            let (lo, hi) = (pair[0], pair[1] - 1);
            let mask = classes
                .iter()
                .take(MAX_CLASSES)
                .enumerate()
                .filter(|(_, c)| c.ranges.iter().any(|&(a, b)| a <= lo && hi <= b))
                .fold(0u32, |m, (bit, _)| m | 1 << bit);
            if mask == 0 {
                continue;
            }
            match wide.last_mut() {
                Some(last) if last.1 + 1 == lo && last.2 == mask => last.1 = hi,
                _ => wide.push((lo, hi, mask)),
            }
        }
        ClassTable { ascii, wide }
    }

    /// The class bits of each ASCII character.
    pub(crate) fn ascii(&self) -> &[u32; 128] {
        &self.ascii
    }

    /// The class bits of one character.
    #[inline]
    pub(crate) fn mask(&self, c: char) -> u32 {
        let c = c as u32;
        if let Some(&m) = self.ascii.get(c as usize) {
            return m;
        }
        match self.wide.binary_search_by(|&(lo, hi, _)| crate::ir::range_order(lo, hi, c)) {
            Ok(i) => self.wide.get(i).map_or(0, |r| r.2),
            Err(_) => 0,
        }
    }
}

/// What one pass over a password measured.
#[derive(Debug, Clone)]
pub(crate) struct Scan {
    /// Number of scalar values.
    pub chars: u32,
    /// Classes with at least one character in the password.
    pub seen: u32,
    /// Classes that contain every character of the password (all bits for the empty password).
    pub every: u32,
    /// Per-class character counts (only filled when the program counts).
    pub counts: [u32; MAX_CLASSES],
    /// Longest run of one repeated character (only when tracked).
    pub longest_repeat: u32,
    /// Longest run of consecutive code points, ascending or descending (only when tracked).
    pub longest_sequence: u32,
}

impl Scan {
    /// The measurements of the empty password, to scan into.
    #[inline(always)]
    pub(crate) fn new() -> Scan {
        Scan {
            chars: 0,
            seen: 0,
            every: u32::MAX,
            counts: [0; MAX_CLASSES],
            longest_repeat: 0,
            longest_sequence: 0,
        }
    }
}

/// Which optional measurements a program needs.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Needs {
    /// Some rule counts characters per class.
    pub counts: bool,
    /// Some rule limits repeats or sequences.
    pub runs: bool,
}

impl ClassTable {
    /// Measures `password` in one pass.
    #[inline(always)]
    /// Writes into `s` (fresh from [`Scan::new`]): filled in place, a scan is never moved, which
    /// would copy its counters.
    pub(crate) fn scan_into(&self, password: &str, needs: Needs, s: &mut Scan) {
        if needs.counts || needs.runs {
            self.scan_full(password, needs, s);
            return;
        }
        // The common case: only presence and "every character" bits, ASCII fast path.
        let bytes = password.as_bytes();
        let mut seen = 0u32;
        let mut every = u32::MAX;
        let mut i = 0;
        while let Some(&b) = bytes.get(i) {
            if b >= 0x80 {
                break;
            }
            let m = self.ascii[b as usize];
            seen |= m;
            every &= m;
            i += 1;
        }
        let mut chars = i as u32;
        for c in password.get(i..).unwrap_or("").chars() {
            let m = self.mask(c);
            seen |= m;
            every &= m;
            chars += 1;
        }
        s.chars = chars;
        s.seen = seen;
        s.every = every;
    }

    /// Measures `password` (tests).
    #[cfg(test)]
    fn scan(&self, password: &str, needs: Needs) -> Scan {
        let mut s = Scan::new();
        self.scan_into(password, needs, &mut s);
        s
    }

    #[inline(never)]
    fn scan_full(&self, password: &str, needs: Needs, s: &mut Scan) {
        let mut prev: Option<char> = None;
        let (mut repeat, mut up, mut down) = (0u32, 0u32, 0u32);
        for c in password.chars() {
            let m = self.mask(c);
            s.seen |= m;
            s.every &= m;
            s.chars += 1;
            if needs.counts {
                let mut bits = m;
                while bits != 0 {
                    let bit = bits.trailing_zeros() as usize;
                    if let Some(n) = s.counts.get_mut(bit) {
                        *n += 1;
                    }
                    bits &= bits - 1;
                }
            }
            if needs.runs {
                let p = prev.map(|p| p as u32);
                let cu = c as u32;
                repeat = if p == Some(cu) { repeat + 1 } else { 1 };
                up = if p.is_some_and(|p| p.checked_add(1) == Some(cu)) { up + 1 } else { 1 };
                down = if p.is_some_and(|p| p.checked_sub(1) == Some(cu)) { down + 1 } else { 1 };
                s.longest_repeat = s.longest_repeat.max(repeat);
                s.longest_sequence = s.longest_sequence.max(up).max(down);
                prev = Some(c);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(ranges: &[(u32, u32)]) -> CharClass {
        CharClass { name: String::new(), ranges: ranges.to_vec() }
    }

    #[test]
    fn masks_merge_overlapping_non_ascii_ranges() {
        // Bit 0: a-z and U+00E0-U+00FF; bit 1: U+00F0-U+0100; bit 2: everything.
        let t = ClassTable::new(&[
            class(&[(0x61, 0x7A), (0xE0, 0xFF)]),
            class(&[(0xF0, 0x100)]),
            class(&[(0, 0xD7FF), (0xE000, 0x10FFFF)]),
        ]);
        assert_eq!(t.mask('a'), 0b101);
        assert_eq!(t.mask('A'), 0b100);
        assert_eq!(t.mask('\u{E0}'), 0b101);
        assert_eq!(t.mask('\u{F5}'), 0b111);
        assert_eq!(t.mask('\u{100}'), 0b110);
        assert_eq!(t.mask('\u{101}'), 0b100);
        assert_eq!(t.mask('\u{10FFFF}'), 0b100);
    }

    #[test]
    fn scan_measures_runs_and_counts() {
        let t = ClassTable::new(&[class(&[(0x30, 0x39)])]);
        let s = t.scan("aab1234321x", Needs { counts: true, runs: true });
        assert_eq!(s.chars, 11);
        assert_eq!(s.counts[0], 7);
        assert_eq!(s.longest_repeat, 2);
        assert_eq!(s.longest_sequence, 4);
        assert_eq!(s.seen, 1);
        assert_eq!(s.every, 0);
        let empty = t.scan("", Needs::default());
        assert_eq!((empty.chars, empty.seen, empty.every), (0, 0, u32::MAX));
    }
}
