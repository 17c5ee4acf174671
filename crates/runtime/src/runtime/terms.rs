//! Banned-term matching: normalization, and a byte trie over the normalized terms that is
//! searched exactly or with one edit (substitution, insertion or deletion, counted in
//! characters) starting at every character of the normalized password.
//!
//! The compiler builds the trie ([`TrieBuf`], one breadth-first pass over the sorted terms) and
//! writes its arrays into the artifact; the validator checks them once at load and walks them
//! in place ([`Trie`], a view), so loading rebuilds nothing. Fuzzy search is a depth-first walk with an error budget of
//! one: along the exact path, each node may also spend the budget on skipping a password
//! character (insertion), replacing one (substitution) or skipping a term character (deletion).
//! Paths die within a few characters for ordinary passwords. Spending the edit on one of the
//! first [`SKIPPED`] characters of a term would fan out over every child of a shallow node
//! (dozens at the root); a trie built for fuzzy search keeps, per such position `k`, a second
//! trie of the terms with their `k`-th character deleted, and one walk of it replaces the
//! fan-out (a deletion walks it on, a substitution skips one password character first).

use super::fold::Folding;
use crate::artifact::region::{Bytes, Checked, Words};
pub use crate::artifact::trie::SKIPPED;
#[cfg(feature = "build")]
use crate::artifact::trie::TrieBuf;
use crate::artifact::trie::{Invalid, LevelLayout, Span32, TrieLayout};
pub use crate::ir::FUZZY_MIN_CHARS;
use crate::ir::{MatchMode, NormStep, Normalization, in_ranges};
use zeroize::Zeroizing;

/// Applies a normalization to `text`, appending to `out`. Per-character steps run in one pass;
/// a trim works on what the steps before it made, and the steps after it run over the result
/// again (through a wiped buffer: the text is a password).
pub fn normalize_into(norm: &Normalization, folding: Folding<'_>, text: &str, out: &mut String) {
    let start = out.len();
    let (run, mut rest) = split_run(&norm.steps);
    out.extend(text.chars().filter_map(|c| map_char(run, folding, c)));
    while let Some((step, after)) = rest.split_first() {
        if let NormStep::Trim(ranges) = step {
            trim(out, start, ranges);
        }
        let (run, next) = split_run(after);
        if !run.is_empty() {
            let done = Zeroizing::new(out.split_off(start));
            out.extend(done.chars().filter_map(|c| map_char(run, folding, c)));
        }
        rest = next;
    }
}

/// What one character becomes under a normalization that does not trim: one character, or
/// none if a step deletes it.
pub fn normalize_char(norm: &Normalization, folding: Folding<'_>, c: char) -> Option<char> {
    map_char(&norm.steps, folding, c)
}

/// The leading per-character steps, and the rest (starting at the first trim).
fn split_run(steps: &[NormStep]) -> (&[NormStep], &[NormStep]) {
    steps.split_at(steps.iter().position(NormStep::is_positional).unwrap_or(steps.len()))
}

/// Applies per-character steps to `c` (trims are skipped: the caller applies them).
fn map_char(steps: &[NormStep], folding: Folding<'_>, c: char) -> Option<char> {
    steps.iter().try_fold(c, |c, step| match step {
        NormStep::Lowercase => Some(folding.fold(c)),
        NormStep::Substitute(map) => Some(match map.binary_search_by_key(&c, |p| p.0) {
            Ok(i) => map.get(i).map_or(c, |p| p.1),
            Err(_) => c,
        }),
        NormStep::Delete(ranges) => (!in_ranges(ranges, c)).then_some(c),
        NormStep::Trim(_) => Some(c),
    })
}

/// Deletes characters in `ranges` from both ends of `out[start..]`.
fn trim(out: &mut String, start: usize, ranges: &[(u32, u32)]) {
    let Some(text) = out.get(start..) else { return };
    let kept = text.trim_end_matches(|c| in_ranges(ranges, c)).len();
    out.truncate(start + kept);
    let Some(text) = out.get(start..) else { return };
    let leading = text.len() - text.trim_start_matches(|c| in_ranges(ranges, c)).len();
    out.drain(start..start + leading);
}

/// One match of a term in a normalized password: byte offsets into it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TermMatch {
    /// First byte of the matched text.
    pub start: usize,
    /// One past its last byte.
    pub end: usize,
    /// Edits needed (0 or 1).
    pub edits: u8,
    /// Index of the term in its set.
    pub term: u32,
}

/// One trie level's arrays, in the flat form the artifact stores and the validator walks in
/// place, read through block checks. Nodes are numbered breadth-first and each node's edges
/// are contiguous, so edge `e` leads to node `e + 1`: no child pointers are stored.
///
/// The structure is checked as it is walked (a walk that would leave the arrays or fan out
/// past 256 edges records damage and stops), so a crafted or damaged artifact never misleads
/// a walk into running away; [`TrieLayout::verify`] checks all of it at once.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Level<'a, const LAZY: bool> {
    r: Checked<'a, LAZY>,
    /// Node `n`'s edges are `first[n]..first[n + 1]` (`nodes + 1` entries).
    first: Words<'a>,
    /// Per edge, its byte; strictly increasing within a node (as the compiler writes them).
    labels: Bytes<'a>,
    /// Per node: the entry ending there, plus one (0: none).
    terminal: Words<'a>,
    /// Nodes with many edges (the shallow ones, where most lookups happen) also get a direct
    /// table, byte → child (0: none; the root is nobody's child): `dense_of[n]` is its index
    /// plus one, 0 for none (the vector ends after the last such node).
    dense_of: Words<'a>,
    /// 256 entries per table.
    dense: Words<'a>,
    /// How many entries a terminal may name.
    entries: u32,
}

/// The searchable form of a [`TermSet`], over a region's words (an artifact's, or a
/// [`TrieBuf`]'s). `Copy`: views are made per check.
#[derive(Debug, Clone, Copy)]
pub struct Trie<'a, const LAZY: bool> {
    level: Level<'a, LAZY>,
    /// Per term: its length in characters.
    term_chars: Words<'a>,
    /// The normalized terms, concatenated (bytes), and each one's end offset in it.
    text: Bytes<'a>,
    ends: Words<'a>,
    /// For fuzzy search: per position `k < SKIPPED`, the trie of the terms long enough for an
    /// edit with their `k`-th character deleted, and per entry of it, the term it came from.
    skips: [Option<(Level<'a, LAZY>, Words<'a>)>; SKIPPED],
}

impl LevelLayout {
    fn level<'a, const LAZY: bool>(&self, r: Checked<'a, LAZY>, entries: u32) -> Level<'a, LAZY> {
        let w = |s: Span32| r.words(s.at, s.len);
        Level {
            r,
            first: w(self.first),
            labels: r.bytes(self.labels.at, self.labels.len),
            terminal: w(self.terminal),
            dense_of: w(self.dense_of),
            dense: w(self.dense),
            entries,
        }
    }

    /// The checks that take no reading of the arrays: they lie inside the region, and their
    /// lengths agree (nodes + 1 offsets, nodes - 1 edges, whole byte tables).
    fn open(&self, r: Checked<'_, true>) -> Result<(), Invalid> {
        let inside = |s: Span32, words: u32| r.words(s.at, words).data.len() == words as usize;
        let arrays = [self.first, self.terminal, self.dense_of, self.dense];
        if !arrays.iter().all(|&s| inside(s, s.len))
            || !inside(self.labels, self.labels.len.div_ceil(4))
        {
            return Err("a trie array lies outside the trie section");
        }
        let nodes = self.terminal.len;
        if nodes == 0 || self.first.len != nodes + 1 || self.labels.len != nodes - 1 {
            return Err("a trie's node and edge counts disagree");
        }
        if !self.dense.len.is_multiple_of(256) || self.dense_of.len > nodes {
            return Err("a trie's byte tables are out of range");
        }
        Ok(())
    }
}

impl TrieLayout {
    /// The trie over `r`, unchecked: for a layout [`TrieLayout::open`] accepted over the same
    /// region (or built here). Every read stays bounds-checked whatever the layout.
    pub(crate) fn trie<'a, const LAZY: bool>(&self, r: Checked<'a, LAZY>) -> Trie<'a, LAZY> {
        let mut skips = [None; SKIPPED];
        for (slot, (level, ids)) in skips.iter_mut().zip(&self.skips) {
            *slot = Some((level.level(r, ids.len), r.words(ids.at, ids.len)));
        }
        Trie {
            level: self.level.level(r, self.ends.len),
            term_chars: r.words(self.term_chars.at, self.term_chars.len),
            text: r.bytes(self.text.at, self.text.len),
            ends: r.words(self.ends.at, self.ends.len),
            skips,
        }
    }

    /// The trie over `r`, after the checks that read nothing (see [`LevelLayout::open`]); what
    /// is read is checked as it is read.
    pub(crate) fn open(&self, r: Checked<'_, true>) -> Result<(), Invalid> {
        let terms = self.ends.len;
        let inside = |s: Span32| r.words(s.at, s.len).data.len() == s.len as usize;
        let text = Span32 { at: self.text.at, len: self.text.len.div_ceil(4) };
        if self.term_chars.len != terms || self.skips.len() > SKIPPED {
            return Err("a trie's term count disagrees with its set");
        }
        if ![self.term_chars, self.ends, text].into_iter().all(inside)
            || !self.skips.iter().all(|(_, ids)| inside(*ids))
        {
            return Err("a trie array lies outside the trie section");
        }
        for (level, _) in &self.skips {
            level.open(r)?;
        }
        self.level.open(r)
    }
}

#[cfg(feature = "build")]
impl TrieBuf {
    /// The view to search.
    pub fn view(&self) -> Trie<'_, false> {
        self.layout.trie(self.region.checked::<false>())
    }
}

impl<'a, const LAZY: bool> Level<'a, LAZY> {
    /// Entry `i` of `w`, read through its block check.
    #[inline(always)]
    fn at(&self, w: Words<'a>, i: u32) -> Option<u32> {
        self.r.word(w, i)
    }

    /// The label bytes of edges `edges`.
    #[inline(always)]
    fn labels(&self, edges: std::ops::Range<u32>) -> Option<&'a [u8]> {
        self.r.byte_range(self.labels, edges.start as usize..edges.end as usize)
    }

    #[inline(always)]
    fn edges(&self, node: u32) -> std::ops::Range<u32> {
        let (Some(lo), Some(hi)) =
            (self.at(self.first, node), self.at(self.first, node.saturating_add(1)))
        else {
            return 0..0;
        };
        // A region checked whole was verified at load (`TrieLayout::verify`): only a lazily
        // checked one tests each node's invariants here.
        if LAZY && (lo > hi || hi - lo > 256 || hi as usize > self.labels.data.len()) {
            self.r.damaged("a trie's edge offsets are out of order or out of range");
            return 0..0;
        }
        lo..hi.max(lo)
    }

    #[inline(always)]
    fn child(&self, node: u32, b: u8) -> Option<u32> {
        if let Some(d) = self.at(self.dense_of, node)
            && d > 0
        {
            let at = (d - 1).saturating_mul(256).saturating_add(u32::from(b));
            return match self.at(self.dense, at) {
                Some(child) if !LAZY || (child as usize) < self.terminal.data.len() => {
                    (child > 0).then_some(child)
                }
                _ => {
                    self.r.damaged("a trie's byte tables are out of range");
                    None
                }
            };
        }
        let r = self.edges(node);
        let labels = self.labels(r.clone())?;
        labels.binary_search(&b).ok().map(|i| r.start + i as u32 + 1)
    }

    /// Follows the bytes of `s` from `node`.
    #[inline(always)]
    fn walk(&self, mut node: u32, s: &[u8]) -> Option<u32> {
        for &b in s {
            node = self.child(node, b)?;
        }
        Some(node)
    }

    #[inline(always)]
    fn entry_at(&self, node: u32) -> Option<u32> {
        match self.at(self.terminal, node) {
            Some(t) if LAZY && t > self.entries => {
                self.r.damaged("a trie node names an entry that does not exist");
                None
            }
            Some(t) if t > 0 => Some(t - 1),
            _ => None,
        }
    }

    /// Calls `f` with every node one whole character below `node`.
    fn each_char_child(&self, node: u32, f: &mut impl FnMut(u32)) {
        let edges = self.edges(node);
        let Some(labels) = self.labels(edges.clone()) else { return };
        for (e, &b) in edges.zip(labels) {
            match utf8_len(b) {
                1 => f(e + 1),
                n => self.each_continuation(e + 1, n - 1, f),
            }
        }
    }

    fn each_continuation(&self, node: u32, remaining: usize, f: &mut impl FnMut(u32)) {
        if remaining == 0 {
            return f(node);
        }
        for e in self.edges(node) {
            self.each_continuation(e + 1, remaining - 1, f);
        }
    }
}

impl<'a, const LAZY: bool> Trie<'a, LAZY> {
    /// Follows the bytes of `s` from `node`.
    pub fn walk(&self, node: u32, s: &[u8]) -> Option<u32> {
        self.level.walk(node, s)
    }

    /// How many characters term `term` has.
    pub(crate) fn chars_of(&self, term: u32) -> Option<u32> {
        self.level.at(self.term_chars, term)
    }

    /// Whether `s` is exactly term `term`.
    pub(crate) fn is_term(&self, s: &[u8], term: u32) -> bool {
        self.walk(0, s).and_then(|n| self.term_at(n)) == Some(term)
    }

    /// The term ending at `node`, if any.
    pub fn term_at(&self, node: u32) -> Option<u32> {
        self.level.entry_at(node)
    }

    /// Calls `f` with every node one whole character below `node`.
    #[cfg(feature = "build")]
    pub fn each_char_child(&self, node: u32, f: &mut impl FnMut(u32)) {
        self.level.each_char_child(node, f);
    }

    /// Whether a match of `term` may use an edit (it is long enough).
    pub fn fuzzy_allowed(&self, term: u32) -> bool {
        self.chars_of(term).unwrap_or(0) >= FUZZY_MIN_CHARS
    }

    /// How many terms the set has.
    pub(crate) fn terms(&self) -> u32 {
        self.ends.data.len() as u32
    }

    /// The normalized text of term `term` (`None` if there is no such term, or it is damaged:
    /// the damage is then recorded).
    pub(crate) fn term(&self, term: u32) -> Option<&'a str> {
        let l = &self.level;
        let start = match term {
            0 => 0,
            _ => l.at(self.ends, term - 1)?,
        };
        let end = l.at(self.ends, term)?;
        if start > end || end as usize > self.text.data.len() {
            l.r.damaged("a term list's offsets are invalid");
            return None;
        }
        let bytes = l.r.byte_range(self.text, start as usize..end as usize)?;
        let text = std::str::from_utf8(bytes).ok();
        if text.is_none() {
            l.r.damaged("a term is not UTF-8");
        }
        text
    }

    /// The term a deletion trie's entry `entry` came from (`ids`: that trie's entry → term).
    fn term_of(&self, ids: Words<'a>, entry: u32) -> Option<u32> {
        match self.level.at(ids, entry) {
            Some(t) if t as usize >= self.ends.data.len() => {
                self.level.r.damaged("a deletion trie names a term that does not exist");
                None
            }
            t => t,
        }
    }

    /// Every match starting at byte `start` of `text` (a char boundary), with at most
    /// `max_edits` (0 or 1) edits, except a term preceded by one extra character (an exact
    /// match at the next character); `f` returns false to stop the search. Returns false if
    /// stopped.
    pub(crate) fn matches_at(
        &self,
        text: &str,
        start: usize,
        max_edits: u8,
        f: &mut impl FnMut(TermMatch) -> bool,
    ) -> bool {
        let mut unbounded = u64::MAX;
        self.matches_at_within(text, start, max_edits, &mut unbounded, f)
    }

    /// [`Trie::matches_at`] that takes at most `steps` steps of the walk (one node each),
    /// counting them down; when they run out the search stops as if `f` had stopped it, and
    /// `steps` is 0.
    pub(crate) fn matches_at_within(
        &self,
        text: &str,
        start: usize,
        max_edits: u8,
        steps: &mut u64,
        f: &mut impl FnMut(TermMatch) -> bool,
    ) -> bool {
        let mut s = Search { trie: self, text: text.as_bytes(), start, f, steps, stopped: false };
        s.exact_then_fuzzy(0, start, max_edits > 0);
        !s.stopped
    }
}

struct Search<'a, F, const LAZY: bool> {
    trie: &'a Trie<'a, LAZY>,
    text: &'a [u8],
    start: usize,
    f: &'a mut F,
    /// Steps left.
    steps: &'a mut u64,
    stopped: bool,
}

impl<'a, F: FnMut(TermMatch) -> bool, const LAZY: bool> Search<'a, F, LAZY> {
    /// Takes one step of the walk; false (and stopped) when none is left.
    #[inline(always)]
    fn step(&mut self) -> bool {
        if *self.steps == 0 {
            self.stopped = true;
            return false;
        }
        *self.steps -= 1;
        true
    }

    /// Reports the term ending at `node` of `trie` (`ids` maps a deletion trie's entries to
    /// terms), if any.
    #[inline(always)]
    fn report(
        &mut self,
        trie: &Level<'a, LAZY>,
        ids: Option<Words<'a>>,
        node: u32,
        end: usize,
        edits: u8,
    ) {
        if self.stopped || end == self.start {
            return;
        }
        let term = trie.entry_at(node).and_then(|t| match ids {
            Some(ids) => self.trie.term_of(ids, t),
            None => Some(t),
        });
        if let Some(term) = term
            && (edits == 0 || self.trie.fuzzy_allowed(term))
            && !(self.f)(TermMatch { start: self.start, end, edits, term })
        {
            self.stopped = true;
        }
    }

    /// Walks the exact path from `node` at `pos`; at each step may spend the one edit.
    fn exact_then_fuzzy(&mut self, mut node: u32, mut pos: usize, budget: bool) {
        let trie: &'a Level<'a, LAZY> = &self.trie.level;
        for depth in 0.. {
            if !self.step() {
                return;
            }
            self.report(trie, None, node, pos, 0);
            if self.stopped {
                return;
            }
            let next = self.text.get(pos).map(|&b| pos + utf8_len(b));
            if budget {
                // Insertion: the password has an extra character here. Not before the first
                // character of a term: that match is an exact match one character later
                // plus the character before it, which the search from the next character
                // finds, and which Entra scoring does not count as the term's (`entra`).
                if let Some(after) = next
                    && depth > 0
                {
                    self.exact_only(trie, None, node, after);
                }
                let trie_ref: &'a Trie<'a, LAZY> = self.trie;
                match trie_ref.skips.get(depth).and_then(Option::as_ref) {
                    // The term's `depth`-th character deleted: one walk of its deletion trie
                    // from the prefix matched so far.
                    Some((skip, ids)) => {
                        let prefix = self.text.get(self.start..pos).unwrap_or(&[]);
                        if let Some(n) = skip.walk(0, prefix) {
                            // Deletion: the term has an extra character here.
                            self.exact_only(skip, Some(*ids), n, pos);
                            // Substitution: one character differs.
                            if let Some(after) = next {
                                self.exact_only(skip, Some(*ids), n, after);
                            }
                        }
                    }
                    None => trie.each_char_child(node, &mut |c| {
                        self.exact_only(trie, None, c, pos);
                        if let Some(after) = next {
                            self.exact_only(trie, None, c, after);
                        }
                    }),
                }
                if self.stopped {
                    return;
                }
            }
            let Some(after) = next else { return };
            match self.text.get(pos..after).and_then(|ch| trie.walk(node, ch)) {
                Some(n) => {
                    node = n;
                    pos = after;
                }
                None => return,
            }
        }
    }

    /// The rest of a fuzzy match, after its one edit: exact only, in `trie` (the set's own or
    /// a deletion trie, whose entries `ids` maps to terms).
    fn exact_only(
        &mut self,
        trie: &Level<'a, LAZY>,
        ids: Option<Words<'a>>,
        mut node: u32,
        mut pos: usize,
    ) {
        loop {
            if !self.step() {
                return;
            }
            self.report(trie, ids, node, pos, 1);
            if self.stopped {
                return;
            }
            let Some(&b) = self.text.get(pos) else { return };
            let after = pos + utf8_len(b);
            match self.text.get(pos..after).and_then(|ch| trie.walk(node, ch)) {
                Some(n) => {
                    node = n;
                    pos = after;
                }
                None => return,
            }
        }
    }
}

/// Length of the UTF-8 sequence a lead byte starts.
fn utf8_len(b: u8) -> usize {
    match b {
        0x00..=0x7F => 1,
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        _ => 4,
    }
}

/// Whether a normalized password matches a set in a mode (the first match found, if any).
pub(crate) fn find<const LAZY: bool>(
    trie: &Trie<'_, LAZY>,
    mode: MatchMode,
    normalized: &str,
) -> Option<TermMatch> {
    if mode == MatchMode::Exact {
        let term = trie.walk(0, normalized.as_bytes()).and_then(|n| trie.term_at(n))?;
        return Some(TermMatch { start: 0, end: normalized.len(), edits: 0, term });
    }
    let edits = u8::from(mode == MatchMode::Fuzzy);
    let mut found = None;
    for (start, _) in normalized.char_indices() {
        trie.matches_at(normalized, start, edits, &mut |m| {
            found = Some(m);
            false
        });
        if found.is_some() {
            break;
        }
    }
    found
}

#[cfg(all(test, feature = "build"))]
mod tests {
    use super::*;
    use crate::ir::TermSet;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    /// Every `(start, end, edits)` a trie reports with one edit allowed.
    fn matches(trie: &Trie<'_, false>, text: &str) -> BTreeSet<(usize, usize, u8)> {
        let mut found = BTreeSet::new();
        for (start, _) in text.char_indices() {
            trie.matches_at(text, start, 1, &mut |m| {
                found.insert((m.start, m.end, m.edits));
                true
            });
        }
        found
    }

    proptest! {
        /// The deletion tries find exactly what the fan-out over children finds.
        #[test]
        fn deletion_tries_agree_with_the_fan_out(
            terms in proptest::collection::vec("[abcé日]{1,7}", 1..40),
            text in "[abcdé日]{0,14}",
        ) {
            let set = TermSet::new(String::new(), Normalization::entra(), terms);
            let plain = TrieBuf::new(&set);
            let fuzzy = TrieBuf::for_fuzzy(&set);
            prop_assert_eq!(matches(&plain.view(), &text), matches(&fuzzy.view(), &text));
        }
    }
}
