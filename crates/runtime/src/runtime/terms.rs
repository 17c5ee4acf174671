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
#[cfg(feature = "build")]
use super::region::Region;
use super::region::{Bytes, Checked, Words};
#[cfg(feature = "build")]
use crate::ir::TermSet;
use crate::ir::{MatchMode, NormStep, Normalization, in_ranges};
use zeroize::Zeroizing;

/// Terms shorter than this many characters are matched exactly even in fuzzy mode: one edit
/// of a three-character term matches far too much (Entra's own lists start at four).
pub const FUZZY_MIN_CHARS: u32 = 4;

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

/// How many leading term positions get a trie of deletions (see the module notes).
pub const SKIPPED: usize = 2;

/// Nodes with at least this many edges get a direct lookup table: Entra scoring is about a
/// quarter faster with them; a threshold of 8 is no faster than 16 and takes more memory.
#[cfg(feature = "build")]
const DENSE_EDGES: usize = 16;

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

/// Where one array lies in a region: offset in `u32` words and length in words (`labels` and
/// `text`: length in bytes, in `len.div_ceil(4)` words).
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

/// Where a [`Trie`]'s arrays lie in the region that holds it (the artifact's trie words).
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct TrieLayout {
    level: LevelLayout,
    term_chars: Span32,
    text: Span32,
    ends: Span32,
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

    /// Every check of the level's arrays at once (after their blocks were checked): edges
    /// consistent with breadth-first numbering, at most 256 per node, entries and table
    /// children in range.
    fn verify(&self, buf: &[u32], entries: u32) -> Result<(), Invalid> {
        let first = words(buf, self.first)?;
        let terminal = words(buf, self.terminal)?;
        let dense_of = words(buf, self.dense_of)?;
        let dense = words(buf, self.dense)?;
        let edges = bytes(buf, self.labels)?.len();
        let nodes = terminal.len();
        // Offsets increase, end at the edge count, and give no node more than 256 edges: every
        // walk and every fan-out stays inside the arrays and bounded. (Labels out of order in
        // a crafted artifact make lookups answer wrongly, never run away; the compiler writes
        // them sorted.)
        let mut ok = first.first() == Some(&0) && first.last() == Some(&(edges as u32));
        ok &= first
            .windows(2)
            .fold(true, |acc, w| acc & (w[0] <= w[1]) & (w[1] - w[0].min(w[1]) <= 256));
        if !ok {
            return Err("a trie's edge offsets are out of order or out of range");
        }
        if !terminal.iter().fold(true, |acc, &t| acc & (t <= entries)) {
            return Err("a trie node names an entry that does not exist");
        }
        let tables = (dense.len() / 256) as u32;
        if !dense_of.iter().all(|&d| d <= tables)
            || !dense.iter().fold(true, |acc, &c| acc & ((c as usize) < nodes))
        {
            return Err("a trie's byte tables are out of range");
        }
        Ok(())
    }
}

impl Span32 {
    #[cfg(feature = "build")]
    fn shifted(self, by: u32) -> Span32 {
        Span32 { at: self.at + by, len: self.len }
    }
}

impl LevelLayout {
    #[cfg(feature = "build")]
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
    #[cfg(feature = "build")]
    pub(crate) fn shifted(&self, by: u32) -> TrieLayout {
        TrieLayout {
            level: self.level.shifted(by),
            term_chars: self.term_chars.shifted(by),
            text: self.text.shifted(by),
            ends: self.ends.shifted(by),
            skips: self.skips.iter().map(|(l, ids)| (l.shifted(by), ids.shifted(by))).collect(),
        }
    }

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

    /// Every structure check at once, over words whose blocks were checked: the levels (see
    /// [`LevelLayout::verify`]), the terms (UTF-8, offsets in order on character boundaries)
    /// and the deletion tries' term numbers.
    pub(crate) fn verify(&self, buf: &[u32]) -> Result<(), Invalid> {
        let terms = self.ends.len;
        let text =
            std::str::from_utf8(bytes(buf, self.text)?).map_err(|_| "a term is not UTF-8")?;
        let ends = words(buf, self.ends)?;
        let ends_ok = ends.windows(2).fold(true, |acc, w| acc & (w[0] <= w[1]))
            && ends.last().is_none_or(|&e| e as usize == text.len())
            && ends.iter().all(|&e| text.is_char_boundary(e as usize));
        if !ends_ok {
            return Err("a term list's offsets are invalid");
        }
        for (level, ids) in &self.skips {
            if !words(buf, *ids)?.iter().all(|&i| i < terms) {
                return Err("a deletion trie names a term that does not exist");
            }
            level.verify(buf, ids.len)?;
        }
        self.level.verify(buf, terms)
    }
}

#[cfg(feature = "build")]
/// A trie built from a [`TermSet`] (by the compiler, which writes it into the artifact, and by
/// the analyses): the words of its arrays and where each lies.
#[derive(Debug)]
pub struct TrieBuf {
    pub(crate) region: Region,
    pub(crate) layout: TrieLayout,
}

#[cfg(feature = "build")]
/// A level under construction.
struct LevelBuild {
    first: Vec<u32>,
    labels: Vec<u8>,
    terminal: Vec<u32>,
    dense_of: Vec<u32>,
    dense: Vec<u32>,
}

#[cfg(feature = "build")]
impl TrieBuf {
    /// The trie of a set's sorted, distinct terms.
    pub fn new(set: &TermSet) -> TrieBuf {
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
        let text = push_bytes(&mut words, set.text.as_bytes());
        let ends = push_words(&mut words, &set.ends);
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
        let layout = TrieLayout { level, term_chars, text, ends, skips };
        TrieBuf { region: Region::trusted(words), layout }
    }

    /// The words of its arrays.
    pub(crate) fn words(&self) -> &[u32] {
        self.region.words()
    }

    /// The view to search.
    pub fn view(&self) -> Trie<'_, false> {
        self.layout.trie(self.region.checked::<false>())
    }
}

#[cfg(feature = "build")]
fn push_words(words: &mut Vec<u32>, data: &[u32]) -> Span32 {
    let at = words.len() as u32;
    words.extend_from_slice(data);
    Span32 { at, len: data.len() as u32 }
}

#[cfg(feature = "build")]
/// Bytes, padded to whole words; the span's length is in bytes.
fn push_bytes(words: &mut Vec<u32>, data: &[u8]) -> Span32 {
    let at = words.len() as u32;
    words.extend(data.chunks(4).map(|c| {
        let mut b = [0u8; 4];
        b[..c.len()].copy_from_slice(c);
        u32::from_ne_bytes(b)
    }));
    Span32 { at, len: data.len() as u32 }
}

#[cfg(feature = "build")]
fn push_level(words: &mut Vec<u32>, l: LevelBuild) -> LevelLayout {
    let first = push_words(words, &l.first);
    let labels = push_bytes(words, &l.labels);
    LevelLayout {
        first,
        labels,
        terminal: push_words(words, &l.terminal),
        dense_of: push_words(words, &l.dense_of),
        dense: push_words(words, &l.dense),
    }
}

#[cfg(feature = "build")]
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

#[cfg(feature = "build")]
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

/// Whether some rule searches term set `set` with an edit allowed (fuzzy `avoid`, Entra's
/// score): its trie then carries deletion tries.
#[cfg(feature = "build")]
pub(crate) fn searched_fuzzily(program: &crate::ir::Program, set: u32) -> bool {
    use crate::ir::Predicate;
    program.rules.iter().any(|r| match &r.predicate {
        Predicate::Avoid { set: s, mode } => *s == set && *mode == MatchMode::Fuzzy,
        Predicate::EntraScore { sets, .. } => sets.contains(&set),
        _ => false,
    })
}
