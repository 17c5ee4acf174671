//! The fast path of [`Validator::complies`](super::Validator::complies) for programs made only of
//! length, character-set and class rules (the cloud's own policy is one): a single pass over
//! the bytes of an ASCII password that stops at the first refused character, which is all a
//! hand-written check does. Anything else (a non-ASCII byte, another kind of rule) takes the
//! general path, so both always agree.

use super::plan::Step;
use crate::ir::{Rule, Severity};

/// Set in a table entry when some rule refuses that character.
const REFUSED: u8 = 0x80;
/// Set for the bytes of non-ASCII characters: the general path decides.
const NOT_ASCII: u8 = 0x40;

/// The decision of a class-only program, compiled into one byte table (as small as a
/// hand-written one, so the loop is as tight).
#[derive(Debug, Clone)]
pub(crate) struct FastPath {
    /// Per byte: for ASCII, the bits of the counted classes it is in (renumbered from 0), plus
    /// [`REFUSED`] when an `only` or `none of` rule refuses it; [`NOT_ASCII`] for the others.
    /// 256 entries, so that a byte indexes it without a bounds check.
    table: [u8; 256],
    /// Length bounds (in characters) every enforce length rule allows.
    min: usize,
    max: usize,
    /// The `at least N of` rules, decided for every set of counted classes a password can
    /// touch: bit `s` is set when the classes `s` satisfy them all (no popcount per check).
    passes: u64,
}

impl FastPath {
    /// The fast path, if every enforce rule is unconditional and decided by the class state,
    /// and the `at least` rules count at most 6 classes in all (`ascii` gives each ASCII
    /// character's class bits).
    pub(crate) fn new<'r>(
        rules: impl Iterator<Item = (&'r Rule, Step)>,
        ascii: &[u32; 128],
    ) -> Option<FastPath> {
        let (mut min, mut max) = (0, usize::MAX);
        let mut refused = [false; 128];
        let mut refuse = |is_refused: &dyn Fn(u32) -> bool| {
            for (r, &m) in refused.iter_mut().zip(ascii) {
                *r |= is_refused(m);
            }
        };
        let mut at_least: Vec<(u32, u32)> = Vec::new();
        for (rule, step) in rules {
            if rule.severity == Severity::Audit {
                continue;
            }
            match step {
                Step::Length { min: lo, max: hi } => {
                    min = min.max(lo as usize);
                    max = max.min(hi as usize);
                }
                Step::Only(mask) => refuse(&|m| m & mask == 0),
                Step::NoneOf(mask) => refuse(&|m| m & mask != 0),
                Step::AtLeast { n, mask } => at_least.push((n, mask)),
                Step::General => return None,
            }
        }
        // Renumber the counted classes 0, 1, ... so that they fit a byte beside the flags.
        let counted = at_least.iter().fold(0u32, |m, r| m | r.1);
        if counted.count_ones() > 6 {
            return None;
        }
        let compact = |m: u32| -> u8 {
            let mut out = 0u8;
            let (mut bits, mut to) = (counted, 0);
            while bits != 0 {
                let bit = bits & bits.wrapping_neg();
                if m & bit != 0 {
                    out |= 1 << to;
                }
                bits &= bits - 1;
                to += 1;
            }
            out
        };
        let mut table = [NOT_ASCII; 256];
        for ((t, &m), &r) in table.iter_mut().zip(ascii).zip(&refused) {
            *t = compact(m) | if r { REFUSED } else { 0 };
        }
        let passes = (0..64u32)
            .filter(|&s| {
                at_least.iter().all(|&(n, mask)| (s & u32::from(compact(mask))).count_ones() >= n)
            })
            .fold(0u64, |p, s| p | 1 << s);
        Some(FastPath { table, min, max, passes })
    }

    /// Whether `password` complies, or `None` when it is not ASCII (the caller decides).
    /// Never inlined: the loop keeps one shape, whatever the caller (an inlined copy could be
    /// compiled worse: 2× slower at 32 bytes in one build).
    #[inline(never)]
    pub(crate) fn complies(&self, password: &str) -> Option<bool> {
        let bytes = password.as_bytes();
        // A password has at most as many characters as bytes, and at least a quarter as many.
        if bytes.len() < self.min || bytes.len() / 4 > self.max {
            return Some(false);
        }
        let mut seen = 0u8;
        for &b in bytes {
            let m = self.table[usize::from(b)];
            if m & (REFUSED | NOT_ASCII) != 0 {
                // A refused character fails a rule, whatever follows.
                return if m & REFUSED != 0 { Some(false) } else { None };
            }
            seen |= m;
        }
        Some(bytes.len() <= self.max && self.passes >> (seen & 0x3F) & 1 != 0)
    }
}
