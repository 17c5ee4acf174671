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
#[cfg(feature = "compiler")]
use crate::ir::TermSet;
use crate::ir::{MatchMode, Normalization};

/// Terms shorter than this many characters are matched exactly even in fuzzy mode: one edit
/// of a three-character term matches far too much (Entra's own lists start at four).
pub const FUZZY_MIN_CHARS: u32 = 4;

/// Applies a normalization to `text`, appending to `out`.
pub fn normalize_into(norm: &Normalization, folding: Folding<'_>, text: &str, out: &mut String) {
    out.extend(text.chars().map(|c| normalize_char(norm, folding, c)));
}

/// What one character becomes under a normalization (always exactly one character).
pub fn normalize_char(norm: &Normalization, folding: Folding<'_>, c: char) -> char {
    let c = if norm.lowercase { folding.fold(c) } else { c };
    match norm.map.binary_search_by_key(&c, |p| p.0) {
        Ok(i) => norm.map.get(i).map_or(c, |p| p.1),
        Err(_) => c,
    }
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

/// How many leading term positions get a trie of deletions (see the module notes).
pub const SKIPPED: usize = 2;

/// Nodes with at least this many edges get a direct lookup table: Entra scoring is about a
/// quarter faster with them; a threshold of 8 is no faster than 16 and takes more memory.
#[cfg(feature = "compiler")]
const DENSE_EDGES: usize = 16;

/// One trie's arrays, in the flat form the artifact stores and the validator walks in place.
/// Nodes are numbered breadth-first and each node's edges are contiguous, so edge `e` leads to
/// node `e + 1`: no child pointers are stored.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Level<'a> {
    /// Node `n`'s edges are `first[n]..first[n + 1]` (`nodes + 1` entries).
    first: &'a [u32],
    /// Per edge, its byte; strictly increasing within a node (as the compiler writes them).
    labels: &'a [u8],
    /// Per node: the entry ending there, plus one (0: none).
    terminal: &'a [u32],
    /// Nodes with many edges (the shallow ones, where most lookups happen) also get a direct
    /// table, byte → child (0: none; the root is nobody's child): `dense_of[n]` is its index
    /// plus one, 0 for none (the vector ends after the last such node).
    dense_of: &'a [u32],
    /// 256 entries per table.
    dense: &'a [u32],
}

/// The searchable form of a [`TermSet`], over borrowed arrays (an artifact's, or a
/// [`TrieBuf`]'s). `Copy`: views are made per check.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Trie<'a> {
    level: Level<'a>,
    /// Per term: its length in characters.
    term_chars: &'a [u32],
    /// For fuzzy search: per position `k < SKIPPED`, the trie of the terms long enough for an
    /// edit with their `k`-th character deleted, and per entry of it, the term it came from.
    skips: [Option<(Level<'a>, &'a [u32])>; SKIPPED],
}

/// Where one array lies in a trie buffer: offset and length in `u32` words (`labels`: length
/// in bytes, in `len.div_ceil(4)` words).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct Span32 {
    pub at: u32,
    pub len: u32,
}

/// Where a [`Level`]'s arrays lie.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct LevelLayout {
    first: Span32,
    labels: Span32,
    terminal: Span32,
    dense_of: Span32,
    dense: Span32,
}

/// Where a [`Trie`]'s arrays lie in the buffer that holds it (the artifact's trie section).
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct TrieLayout {
    level: LevelLayout,
    term_chars: Span32,
    skips: Vec<(LevelLayout, Span32)>,
}

/// Why a trie section does not hold a valid trie (the artifact is then refused).
pub(crate) type Invalid = &'static str;

fn words(buf: &[u32], s: Span32) -> Result<&[u32], Invalid> {
    let end = s.at.checked_add(s.len).ok_or("a trie array overflows")?;
    buf.get(s.at as usize..end as usize).ok_or("a trie array lies outside the trie section")
}

fn bytes(buf: &[u32], s: Span32) -> Result<&[u8], Invalid> {
    let w = words(buf, Span32 { at: s.at, len: s.len.div_ceil(4) })?;
    bytemuck::cast_slice::<u32, u8>(w).get(..s.len as usize).ok_or("a trie array is short")
}

impl LevelLayout {
    /// The level's arrays, checked so that every walk stays inside them and ends: edges
    /// consistent with breadth-first numbering, at most 256 per node, entries and table
    /// children in range.
    fn view<'a>(&self, buf: &'a [u32], entries: usize) -> Result<Level<'a>, Invalid> {
        let level = Level {
            first: words(buf, self.first)?,
            labels: bytes(buf, self.labels)?,
            terminal: words(buf, self.terminal)?,
            dense_of: words(buf, self.dense_of)?,
            dense: words(buf, self.dense)?,
        };
        let nodes = level.terminal.len();
        let edges = level.labels.len();
        if nodes == 0 || level.first.len() != nodes + 1 || edges != nodes - 1 {
            return Err("a trie's node and edge counts disagree");
        }
        // Offsets increase, end at the edge count, and give no node more than 256 edges: every
        // walk and every fan-out stays inside the arrays and bounded. (Labels out of order in
        // a crafted artifact make lookups answer wrongly, never run away; the compiler writes
        // them sorted.)
        let mut ok = level.first.first() == Some(&0) && level.first.last() == Some(&(edges as u32));
        ok &= level
            .first
            .windows(2)
            .fold(true, |acc, w| acc & (w[0] <= w[1]) & (w[1] - w[0].min(w[1]) <= 256));
        if !ok {
            return Err("a trie's edge offsets are out of order or out of range");
        }
        let limit = entries as u32;
        if !level.terminal.iter().fold(true, |acc, &t| acc & (t <= limit)) {
            return Err("a trie node names an entry that does not exist");
        }
        let tables = (level.dense.len() / 256) as u32;
        if !level.dense.len().is_multiple_of(256)
            || level.dense_of.len() > nodes
            || !level.dense_of.iter().all(|&d| d <= tables)
            || !level.dense.iter().fold(true, |acc, &c| acc & ((c as usize) < nodes))
        {
            return Err("a trie's byte tables are out of range");
        }
        Ok(level)
    }
}

impl Span32 {
    #[cfg(feature = "compiler")]
    fn shifted(self, by: u32) -> Span32 {
        Span32 { at: self.at + by, len: self.len }
    }
}

impl LevelLayout {
    #[cfg(feature = "compiler")]
    fn shifted(self, by: u32) -> LevelLayout {
        LevelLayout {
            first: self.first.shifted(by),
            labels: self.labels.shifted(by),
            terminal: self.terminal.shifted(by),
            dense_of: self.dense_of.shifted(by),
            dense: self.dense.shifted(by),
        }
    }
}

impl TrieLayout {
    /// The layout of the same trie placed `by` words further into a buffer.
    #[cfg(feature = "compiler")]
    pub(crate) fn shifted(&self, by: u32) -> TrieLayout {
        TrieLayout {
            level: self.level.shifted(by),
            term_chars: self.term_chars.shifted(by),
            skips: self.skips.iter().map(|(l, ids)| (l.shifted(by), ids.shifted(by))).collect(),
        }
    }

    /// The trie in `buf`, checked (see [`LevelLayout::view`]) for a set of `terms` terms.
    pub(crate) fn view<'a>(&self, buf: &'a [u32], terms: usize) -> Result<Trie<'a>, Invalid> {
        let term_chars = words(buf, self.term_chars)?;
        if term_chars.len() != terms || self.skips.len() > SKIPPED {
            return Err("a trie's term count disagrees with its set");
        }
        let mut skips = [None; SKIPPED];
        for (slot, (level, ids)) in skips.iter_mut().zip(&self.skips) {
            let ids = words(buf, *ids)?;
            if !ids.iter().all(|&i| (i as usize) < terms) {
                return Err("a deletion trie names a term that does not exist");
            }
            *slot = Some((level.view(buf, ids.len())?, ids));
        }
        Ok(Trie { level: self.level.view(buf, terms)?, term_chars, skips })
    }

    /// The view of a layout already checked by [`TrieLayout::view`]: no checks repeated.
    pub(crate) fn view_checked<'a>(&self, buf: &'a [u32]) -> Trie<'a> {
        let w = |s: Span32| words(buf, s).unwrap_or(&[]);
        let b = |s: Span32| bytes(buf, s).unwrap_or(&[]);
        let level = |l: &LevelLayout| Level {
            first: w(l.first),
            labels: b(l.labels),
            terminal: w(l.terminal),
            dense_of: w(l.dense_of),
            dense: w(l.dense),
        };
        let mut skips = [None; SKIPPED];
        for (slot, (l, ids)) in skips.iter_mut().zip(&self.skips) {
            *slot = Some((level(l), w(*ids)));
        }
        Trie { level: level(&self.level), term_chars: w(self.term_chars), skips }
    }
}

#[cfg(feature = "compiler")]
/// A trie built from a [`TermSet`] (by the compiler, which writes it into the artifact, and by
/// the analyses): the words of its arrays and where each lies.
#[derive(Debug, Clone)]
pub(crate) struct TrieBuf {
    pub(crate) words: Vec<u32>,
    pub(crate) layout: TrieLayout,
}

#[cfg(feature = "compiler")]
/// A level under construction.
struct LevelBuild {
    first: Vec<u32>,
    labels: Vec<u8>,
    terminal: Vec<u32>,
    dense_of: Vec<u32>,
    dense: Vec<u32>,
}

#[cfg(feature = "compiler")]
impl TrieBuf {
    /// The trie of a set's sorted, distinct terms.
    pub(crate) fn new(set: &TermSet) -> TrieBuf {
        TrieBuf::build(set, false)
    }

    /// The trie with its deletion tries, for fuzzy search.
    pub(crate) fn for_fuzzy(set: &TermSet) -> TrieBuf {
        TrieBuf::build(set, true)
    }

    fn build(set: &TermSet, fuzzy: bool) -> TrieBuf {
        let terms: Vec<&[u8]> = set.terms().map(str::as_bytes).collect();
        let chars: Vec<u32> = set.terms().map(|s| s.chars().count() as u32).collect();
        let mut words = Vec::new();
        let level = push_level(&mut words, from_sorted(&terms));
        let term_chars = push_words(&mut words, &chars);
        let skips = match fuzzy {
            true => (0..SKIPPED)
                .map(|k| {
                    let (built, ids) = deletions(set, k);
                    let level = push_level(&mut words, built);
                    (level, push_words(&mut words, &ids))
                })
                .collect(),
            false => Vec::new(),
        };
        TrieBuf { words, layout: TrieLayout { level, term_chars, skips } }
    }

    /// The view to search.
    pub(crate) fn view(&self) -> Trie<'_> {
        self.layout.view_checked(&self.words)
    }
}

#[cfg(feature = "compiler")]
fn push_words(words: &mut Vec<u32>, data: &[u32]) -> Span32 {
    let at = words.len() as u32;
    words.extend_from_slice(data);
    Span32 { at, len: data.len() as u32 }
}

#[cfg(feature = "compiler")]
fn push_level(words: &mut Vec<u32>, l: LevelBuild) -> LevelLayout {
    let first = push_words(words, &l.first);
    let at = words.len() as u32;
    words.extend(l.labels.chunks(4).map(|c| {
        let mut b = [0u8; 4];
        b[..c.len()].copy_from_slice(c);
        u32::from_ne_bytes(b)
    }));
    let labels = Span32 { at, len: l.labels.len() as u32 };
    LevelLayout {
        first,
        labels,
        terminal: push_words(words, &l.terminal),
        dense_of: push_words(words, &l.dense_of),
        dense: push_words(words, &l.dense),
    }
}

#[cfg(feature = "compiler")]
/// The trie of the set's terms long enough for an edit with their `k`-th character deleted,
/// and per entry the term it came from. The variants live in one buffer (a large list makes a
/// handful of vectors, not one string per term).
fn deletions(set: &TermSet, k: usize) -> (LevelBuild, Vec<u32>) {
    let mut buf: Vec<u8> = Vec::with_capacity(set.text.len());
    // (start, end) in `buf`, term.
    let mut variants: Vec<(usize, usize, u32)> = Vec::with_capacity(set.len());
    for (i, t) in set.terms().enumerate() {
        let chars = t.chars().count() as u32;
        let Some((at, c)) = t.char_indices().nth(k) else { continue };
        if chars < FUZZY_MIN_CHARS {
            continue;
        }
        let start = buf.len();
        buf.extend_from_slice(t.get(..at).unwrap_or("").as_bytes());
        buf.extend_from_slice(t.get(at + c.len_utf8()..).unwrap_or("").as_bytes());
        variants.push((start, buf.len(), i as u32));
    }
    let text = |v: &(usize, usize, u32)| buf.get(v.0..v.1).unwrap_or(&[]);
    // Sorted (by variant, then term), and of equal variants the first term keeps it.
    variants.sort_unstable_by(|a, b| text(a).cmp(text(b)).then(a.2.cmp(&b.2)));
    variants.dedup_by(|b, a| text(a) == text(b));
    let bytes: Vec<&[u8]> = variants.iter().map(text).collect();
    (from_sorted(&bytes), variants.iter().map(|v| v.2).collect())
}

#[cfg(feature = "compiler")]
/// Builds a level from sorted, distinct byte strings.
fn from_sorted(terms: &[&[u8]]) -> LevelBuild {
    // At most one node per byte, plus the root.
    let bytes: usize = terms.iter().map(|t| t.len()).sum();
    let mut l = LevelBuild {
        first: Vec::with_capacity(bytes + 2),
        labels: Vec::with_capacity(bytes),
        terminal: Vec::with_capacity(bytes + 1),
        dense_of: Vec::new(),
        dense: Vec::new(),
    };
    l.first.push(0);
    // Breadth-first over ranges of terms that share a prefix of `depth` bytes: the children
    // of each node are created together, so its edges are contiguous and edge `e` creates
    // node `e + 1`.
    let mut queue = std::collections::VecDeque::from([(0usize, terms.len(), 0usize)]);
    while let Some((lo, hi, depth)) = queue.pop_front() {
        let mut i = lo;
        let mut terminal = 0;
        while i < hi {
            let Some(&b) = terms[i].get(depth) else {
                terminal = i as u32 + 1;
                i += 1;
                continue;
            };
            let mut j = i + 1;
            while j < hi && terms[j].get(depth) == Some(&b) {
                j += 1;
            }
            l.labels.push(b);
            queue.push_back((i, j, depth + 1));
            i = j;
        }
        l.terminal.push(terminal);
        l.first.push(l.labels.len() as u32);
    }
    // Every node with DENSE_EDGES or more edges gets its direct byte → child table.
    for node in 0..l.terminal.len() {
        let (lo, hi) = (l.first[node] as usize, l.first[node + 1] as usize);
        if hi - lo < DENSE_EDGES {
            continue;
        }
        let mut table = [0u32; 256];
        for e in lo..hi {
            table[usize::from(l.labels[e])] = e as u32 + 1;
        }
        l.dense.extend_from_slice(&table);
        l.dense_of.resize(node + 1, 0);
        l.dense_of[node] = (l.dense.len() / 256) as u32;
    }
    l
}

impl<'a> Level<'a> {
    fn edges(&self, node: u32) -> std::ops::Range<u32> {
        let lo = self.first.get(node as usize).copied().unwrap_or(0);
        let hi = self.first.get(node as usize + 1).copied().unwrap_or(0);
        lo..hi.max(lo)
    }

    #[inline]
    fn child(&self, node: u32, b: u8) -> Option<u32> {
        if let Some(&d) = self.dense_of.get(node as usize)
            && d > 0
        {
            let at = (d as usize - 1) * 256 + usize::from(b);
            let child = self.dense.get(at).copied().unwrap_or(0);
            return (child > 0).then_some(child);
        }
        let r = self.edges(node);
        let labels = self.labels.get(r.start as usize..r.end as usize)?;
        labels.binary_search(&b).ok().map(|i| r.start + i as u32 + 1)
    }

    /// Follows the bytes of `s` from `node`.
    fn walk(&self, mut node: u32, s: &[u8]) -> Option<u32> {
        for &b in s {
            node = self.child(node, b)?;
        }
        Some(node)
    }

    fn entry_at(&self, node: u32) -> Option<u32> {
        match self.terminal.get(node as usize) {
            Some(&t) if t > 0 => Some(t - 1),
            _ => None,
        }
    }

    /// Calls `f` with every node one whole character below `node`.
    fn each_char_child(&self, node: u32, f: &mut impl FnMut(u32)) {
        for e in self.edges(node) {
            match self.labels.get(e as usize).map(|&b| utf8_len(b)) {
                Some(1) => f(e + 1),
                Some(n) => self.each_continuation(e + 1, n - 1, f),
                None => return,
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

impl<'a> Trie<'a> {
    /// Follows the bytes of `s` from `node`.
    pub(crate) fn walk(&self, node: u32, s: &[u8]) -> Option<u32> {
        self.level.walk(node, s)
    }

    /// The term ending at `node`, if any.
    pub(crate) fn term_at(&self, node: u32) -> Option<u32> {
        self.level.entry_at(node)
    }

    /// Calls `f` with every node one whole character below `node`.
    #[cfg(feature = "compiler")]
    pub(crate) fn each_char_child(&self, node: u32, f: &mut impl FnMut(u32)) {
        self.level.each_char_child(node, f);
    }

    /// Whether a match of `term` may use an edit (it is long enough).
    pub(crate) fn fuzzy_allowed(&self, term: u32) -> bool {
        self.term_chars.get(term as usize).copied().unwrap_or(0) >= FUZZY_MIN_CHARS
    }

    /// Every match starting at byte `start` of `text` (a char boundary), with at most
    /// `max_edits` (0 or 1) edits; `f` returns false to stop the search. Returns false if
    /// stopped.
    pub(crate) fn matches_at(
        &self,
        text: &str,
        start: usize,
        max_edits: u8,
        f: &mut impl FnMut(TermMatch) -> bool,
    ) -> bool {
        let mut s = Search { trie: self, text: text.as_bytes(), start, f, stopped: false };
        s.exact_then_fuzzy(0, start, max_edits > 0);
        !s.stopped
    }
}

struct Search<'a, F> {
    trie: &'a Trie<'a>,
    text: &'a [u8],
    start: usize,
    f: &'a mut F,
    stopped: bool,
}

impl<'a, F: FnMut(TermMatch) -> bool> Search<'a, F> {
    /// Reports the term ending at `node` of `trie` (`ids` maps a deletion trie's entries to
    /// terms), if any.
    fn report(&mut self, trie: &Level<'_>, ids: Option<&[u32]>, node: u32, end: usize, edits: u8) {
        if self.stopped || end == self.start {
            return;
        }
        let term = trie.entry_at(node).and_then(|t| match ids {
            Some(ids) => ids.get(t as usize).copied(),
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
        let trie: &'a Level<'a> = &self.trie.level;
        for depth in 0.. {
            self.report(trie, None, node, pos, 0);
            if self.stopped {
                return;
            }
            let next = self.text.get(pos).map(|&b| pos + utf8_len(b));
            if budget {
                if let Some(after) = next {
                    // Insertion: the password has an extra character here.
                    self.exact_only(trie, None, node, after);
                }
                match self.trie.skips.get(depth).copied().flatten() {
                    // The term's `depth`-th character deleted: one walk of its deletion trie
                    // from the prefix matched so far.
                    Some((skip, ids)) => {
                        let prefix = self.text.get(self.start..pos).unwrap_or(&[]);
                        if let Some(n) = skip.walk(0, prefix) {
                            // Deletion: the term has an extra character here.
                            self.exact_only(&skip, Some(ids), n, pos);
                            // Substitution: one character differs.
                            if let Some(after) = next {
                                self.exact_only(&skip, Some(ids), n, after);
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
    fn exact_only(&mut self, trie: &Level<'_>, ids: Option<&[u32]>, mut node: u32, mut pos: usize) {
        loop {
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
pub(crate) fn find(trie: &Trie<'_>, mode: MatchMode, normalized: &str) -> Option<TermMatch> {
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

#[cfg(all(test, feature = "compiler"))]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    /// Every `(start, end, edits)` a trie reports with one edit allowed.
    fn matches(trie: &Trie<'_>, text: &str) -> BTreeSet<(usize, usize, u8)> {
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

/// Whether some rule searches term set `set` with an edit allowed (fuzzy `avoid`, Entra's
/// score): its trie then carries deletion tries.
#[cfg(feature = "compiler")]
pub(crate) fn searched_fuzzily(program: &crate::ir::Program, set: u32) -> bool {
    use crate::ir::Predicate;
    program.rules.iter().any(|r| match &r.predicate {
        Predicate::Avoid { set: s, mode } => *s == set && *mode == MatchMode::Fuzzy,
        Predicate::EntraScore { sets, .. } => sets.contains(&set),
        _ => false,
    })
}
