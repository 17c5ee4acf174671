//! The search alphabet: Unicode cut into kinds of characters that no rule under study tells
//! apart, with one readable representative of each kind.

use std::collections::{HashMap, HashSet};

/// Sorted, disjoint, inclusive ranges of scalar values.
pub(super) type RangeSet = Vec<(u32, u32)>;

/// Whether `c` is in `set`.
pub(super) fn member(set: &[(u32, u32)], c: u32) -> bool {
    let i = set.partition_point(|&(_, hi)| hi < c);
    set.get(i).is_some_and(|&(lo, _)| lo <= c)
}

/// Preferred representatives: readable characters first.
const NICE: &str = "aA1!xX7@ -_.éÉß€日Ωж\t";

/// The characters the search tries at each position.
pub(super) struct Alphabet {
    /// One character per kind; with `runs`, also a second one per kind and the characters on
    /// both sides of every boundary between kinds.
    pub(super) letters: Vec<char>,
}

impl Alphabet {
    /// Cuts Unicode at every boundary of `sets` and around every `special` character; two
    /// characters with equal `key` are interchangeable. With `runs` (rules compare neighbours),
    /// adds what runs need: a second character of each kind not next to the first (to vary
    /// without repeating) and both sides of each boundary (to cross it in a sequence).
    pub(super) fn new(
        sets: &[&[(u32, u32)]],
        special: impl Iterator<Item = u32>,
        key: &dyn Fn(char) -> Vec<u32>,
        runs: bool,
    ) -> Alphabet {
        let mut cuts: Vec<u32> = vec![0, 0xD800, 0xE000, 0x11_0000];
        for set in sets {
            for &(lo, hi) in set.iter() {
                cuts.extend([lo, hi.saturating_add(1)]);
            }
        }
        for c in special {
            cuts.extend([c, c.saturating_add(1)]);
        }
        cuts.retain(|&c| c <= 0x11_0000);
        cuts.sort_unstable();
        cuts.dedup();
        let mut kinds: HashMap<Vec<u32>, (char, Option<char>)> = HashMap::new();
        let mut letters = Vec::new();
        for c in NICE.chars() {
            kinds.entry(key(c)).or_insert_with(|| {
                letters.push(c);
                (c, None)
            });
        }
        let mut boundaries: HashSet<(Vec<u32>, Vec<u32>)> = HashSet::new();
        for w in cuts.windows(2) {
            let (lo, hi) = (w[0], w[1]);
            let Some(first) = char::from_u32(lo) else { continue };
            let k = key(first);
            // A visible character of the kind if there is one nearby, else the first.
            let visible =
                || (lo..hi.min(lo + 256)).filter_map(char::from_u32).find(|c| !c.is_control());
            if runs && let Some(before) = lo.checked_sub(1).and_then(char::from_u32) {
                let pair = (key(before), k.clone());
                if pair.0 != pair.1 && boundaries.insert(pair) {
                    letters.extend([before, first]);
                }
            }
            let entry = kinds.entry(k).or_insert_with(|| {
                let rep = visible().unwrap_or(first);
                letters.push(rep);
                (rep, None)
            });
            if runs && entry.1.is_none() {
                let rep = entry.0 as u32;
                let far = (lo..hi.min(lo + 8))
                    .filter(|&c| c.abs_diff(rep) > 1)
                    .filter_map(char::from_u32)
                    .find(|c| !c.is_control());
                if let Some(c) = far {
                    entry.1 = Some(c);
                    letters.push(c);
                }
            }
        }
        let mut seen = HashSet::new();
        letters.retain(|c| seen.insert(*c));
        Alphabet { letters }
    }
}
