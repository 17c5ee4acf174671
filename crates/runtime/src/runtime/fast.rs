//! The fast path for programs made only of length, character-set and class rules (the cloud's
//! own policy is one): one table-driven pass over the bytes of an ASCII password, eight bytes at
//! a time, that decides [`Validator::complies`](super::Validator::complies) and names the
//! rules [`Validator::check`](super::Validator::check) reports. Anything else (a non-ASCII
//! byte, another kind of rule, a refused character for `check`) takes the general path, so
//! both always agree.

use super::plan::Step;
use crate::ir::{Rule, Severity};

/// Set in a table entry when some rule refuses that character.
const REFUSED: u8 = 0x80;
/// Set for the bytes of non-ASCII characters: the general path decides.
const NOT_ASCII: u8 = 0x40;
/// Either flag: the pass stops at the first block of bytes that has one.
const FLAGS: u8 = REFUSED | NOT_ASCII;
/// Bytes folded between two tests of the flags: no branch inside a block.
const BLOCK: usize = 8;
/// Most rules a program may have for `check` to take the fast path (one bit each).
const MAX_RULES: usize = 64;

/// The decision of a class-only program, compiled into one byte table (as small as a
/// hand-written one).
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
    /// For `check`: the rules (bit i for the program's rule i) that fail for each set of
    /// counted classes, and each length rule's bounds and bit. `None` when the program has
    /// more than [`MAX_RULES`] rules.
    failing: Option<Failing>,
}

/// Which rules fail, from the pass over an ASCII password without a refused character (an
/// `only` or `none of` rule then passes).
#[derive(Debug, Clone)]
struct Failing {
    /// Indexed by the counted classes seen: the `at least` rules that fail.
    by_classes: [u64; 64],
    /// `(min, max, bit)` of each length rule (inline: a policy has one or two).
    lengths: smallvec::SmallVec<[(usize, usize, u64); 2]>,
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
        let mut steps: Vec<Option<Step>> = Vec::new();
        for (rule, step) in rules {
            if rule.severity == Severity::Audit {
                steps.push(None);
                continue;
            }
            match step {
                Step::Length { min: lo, max: hi } => {
                    min = min.max(lo as usize);
                    max = max.min(hi as usize);
                }
                Step::Only(mask) => refuse(&|m| m & mask == 0),
                Step::NoneOf(mask) => refuse(&|m| m & mask != 0),
                Step::AtLeast { .. } => {}
                Step::General => return None,
            }
            steps.push(Some(step));
        }
        // Renumber the counted classes 0, 1, ... so that they fit a byte beside the flags.
        let counted = steps.iter().fold(0u32, |m, s| match s {
            Some(Step::AtLeast { mask, .. }) => m | mask,
            _ => m,
        });
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
        let at_least = |s: u32, n: u32, mask: u32| (s & u32::from(compact(mask))).count_ones() >= n;
        let passes = (0..64u32)
            .filter(|&s| {
                steps.iter().all(|step| match *step {
                    Some(Step::AtLeast { n, mask }) => at_least(s, n, mask),
                    _ => true,
                })
            })
            .fold(0u64, |p, s| p | 1 << s);
        let failing = (steps.len() <= MAX_RULES).then(|| {
            let mut by_classes = [0u64; 64];
            let mut lengths = smallvec::SmallVec::new();
            for (i, step) in steps.iter().enumerate() {
                match *step {
                    Some(Step::AtLeast { n, mask }) => {
                        for (s, fails) in (0u32..).zip(by_classes.iter_mut()) {
                            *fails |= u64::from(!at_least(s, n, mask)) << i;
                        }
                    }
                    Some(Step::Length { min, max }) => {
                        lengths.push((min as usize, max as usize, 1 << i));
                    }
                    _ => {}
                }
            }
            Failing { by_classes, lengths }
        });
        Some(FastPath { table, min, max, passes, failing })
    }

    /// The table entries of `bytes` or'ed together, eight bytes at a time; it stops after the
    /// first block with a flag (the flag is then in the result, the classes may be partial).
    #[inline(always)]
    fn fold(&self, bytes: &[u8]) -> u8 {
        let (blocks, rest) = bytes.as_chunks::<BLOCK>();
        let mut seen = 0u8;
        for block in blocks {
            seen |= self.block(block);
            if seen & FLAGS != 0 {
                return seen;
            }
        }
        if rest.is_empty() {
            return seen;
        }
        match bytes.last_chunk::<BLOCK>() {
            // The last eight bytes again, overlapping the blocks before: or-ing an entry twice
            // changes nothing, and saves a loop over the rest.
            Some(last) => seen | self.block(last),
            None => rest.iter().fold(seen, |m, &b| m | self.table[usize::from(b)]),
        }
    }

    /// The table entries of one block or'ed together, without a branch.
    #[inline(always)]
    fn block(&self, block: &[u8; BLOCK]) -> u8 {
        block.iter().fold(0, |m, &b| m | self.table[usize::from(b)])
    }

    /// Whether `password` complies, or `None` when it is not ASCII (the caller decides).
    #[inline(always)]
    pub(crate) fn complies(&self, password: &str) -> Option<bool> {
        let bytes = password.as_bytes();
        // A password has at most as many characters as bytes, and at least a quarter as many.
        if bytes.len() < self.min || bytes.len() / 4 > self.max {
            return Some(false);
        }
        let seen = self.fold(bytes);
        if seen & REFUSED != 0 {
            // A refused ASCII character is a character of its own: it fails a rule, whatever
            // else the password holds.
            return Some(false);
        }
        if seen & NOT_ASCII != 0 {
            return None;
        }
        Some(bytes.len() <= self.max && self.passes >> (seen & 0x3F) & 1 != 0)
    }

    /// The rules `password` fails, bit `i` for the program's rule `i`; `None` when the general
    /// path must say (a non-ASCII or refused character, or too many rules).
    #[inline(always)]
    pub(crate) fn failures(&self, password: &str) -> Option<u64> {
        let failing = self.failing.as_ref()?;
        let bytes = password.as_bytes();
        let seen = self.fold(bytes);
        if seen & FLAGS != 0 {
            return None;
        }
        let chars = bytes.len();
        let lengths = failing.lengths.iter();
        Some(lengths.fold(failing.by_classes[usize::from(seen & 0x3F)], |f, &(min, max, bit)| {
            if chars < min || chars > max { f | bit } else { f }
        }))
    }
}
