//! Banned-term matching: normalization, and a byte trie over the normalized terms that is
//! searched exactly or with one edit (substitution, insertion or deletion, counted in
//! characters) starting at every character of the normalized password.
//!
//! The trie is built when the artifact is loaded, in one pass over the sorted terms, so the
//! artifact stores only the terms. Fuzzy search is a depth-first walk with an error budget of
//! one: along the exact path, each node may also spend the budget on skipping a password
//! character (insertion), replacing one (substitution) or skipping a term character (deletion).
//! Paths die within a few characters for ordinary passwords. Spending the edit on one of the
//! first [`SKIPPED`] characters of a term would fan out over every child of a shallow node
//! (dozens at the root); a trie built for fuzzy search keeps, per such position `k`, a second
//! trie of the terms with their `k`-th character deleted, and one walk of it replaces the
//! fan-out (a deletion walks it on, a substitution skips one password character first).

use super::fold::Folding;
use crate::ir::{MatchMode, Normalization, TermSet};

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
const DENSE_EDGES: usize = 16;

/// The searchable form of a [`TermSet`].
#[derive(Debug, Clone)]
pub(crate) struct Trie {
    /// Node `n`'s edges are `edges[first[n]..first[n + 1]]`, sorted by byte.
    first: Vec<u32>,
    edges: Vec<(u8, u32)>,
    /// Per node: the index of the term ending there, plus one (0: none).
    terminal: Vec<u32>,
    /// Per term: its length in characters.
    term_chars: Vec<u32>,
    /// Nodes with many edges (the shallow ones, where most lookups happen) also get a direct
    /// table, byte → child (0: none; the root is nobody's child): `dense_of[n]` is its index
    /// plus one, 0 for none (the vector ends after the last such node).
    dense_of: Vec<u32>,
    dense: Vec<[u32; 256]>,
    /// For fuzzy search: per position `k < SKIPPED`, the trie of the terms long enough for an
    /// edit with their `k`-th character deleted, and per entry of it, the term it came from.
    skips: Vec<(Trie, Vec<u32>)>,
}

impl Trie {
    /// Builds the trie from a set's sorted, distinct terms.
    pub(crate) fn new(set: &TermSet) -> Trie {
        let terms: Vec<&[u8]> = set.terms().map(str::as_bytes).collect();
        let chars = set.terms().map(|s| s.chars().count() as u32).collect();
        Trie::from_sorted(&terms, chars)
    }

    /// The trie with its deletion tries, for fuzzy search.
    pub(crate) fn for_fuzzy(set: &TermSet) -> Trie {
        let mut trie = Trie::new(set);
        trie.skips = (0..SKIPPED).map(|k| Trie::deletions(set, k)).collect();
        trie
    }

    /// The trie of the set's terms long enough for an edit with their `k`-th character
    /// deleted, and per entry the term it came from. The variants live in one buffer (loading
    /// a large list allocates a handful of vectors, not one string per term).
    fn deletions(set: &TermSet, k: usize) -> (Trie, Vec<u32>) {
        let mut buf: Vec<u8> = Vec::with_capacity(set.text.len());
        // (start, end) in `buf`, characters, term.
        let mut variants: Vec<(usize, usize, u32, u32)> = Vec::with_capacity(set.len());
        for (i, t) in set.terms().enumerate() {
            let chars = t.chars().count() as u32;
            let Some((at, c)) = t.char_indices().nth(k) else { continue };
            if chars < FUZZY_MIN_CHARS {
                continue;
            }
            let start = buf.len();
            buf.extend_from_slice(t.get(..at).unwrap_or("").as_bytes());
            buf.extend_from_slice(t.get(at + c.len_utf8()..).unwrap_or("").as_bytes());
            variants.push((start, buf.len(), chars - 1, i as u32));
        }
        let text = |v: &(usize, usize, u32, u32)| buf.get(v.0..v.1).unwrap_or(&[]);
        // Sorted (by variant, then term), and of equal variants the first term keeps it.
        variants.sort_unstable_by(|a, b| text(a).cmp(text(b)).then(a.3.cmp(&b.3)));
        variants.dedup_by(|b, a| text(a) == text(b));
        let bytes: Vec<&[u8]> = variants.iter().map(text).collect();
        let trie = Trie::from_sorted(&bytes, variants.iter().map(|v| v.2).collect());
        (trie, variants.iter().map(|v| v.3).collect())
    }

    /// Builds a trie from sorted, distinct byte strings and their lengths in characters.
    fn from_sorted(terms: &[&[u8]], term_chars: Vec<u32>) -> Trie {
        // At most one node per byte, plus the root: reserved once, trimmed at the end.
        let bytes: usize = terms.iter().map(|t| t.len()).sum();
        let mut first = Vec::with_capacity(bytes + 2);
        first.push(0);
        let mut t = Trie {
            first,
            edges: Vec::with_capacity(bytes),
            terminal: Vec::with_capacity(bytes + 1),
            term_chars,
            dense_of: Vec::new(),
            dense: Vec::new(),
            skips: Vec::new(),
        };
        // Breadth-first over ranges of terms that share a prefix of `depth` bytes: the children
        // of each node are created together, so its edges are contiguous.
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
                let child = (t.terminal.len() + 1 + queue.len()) as u32;
                t.edges.push((b, child));
                queue.push_back((i, j, depth + 1));
                i = j;
            }
            t.terminal.push(terminal);
            t.first.push(t.edges.len() as u32);
        }
        t.first.shrink_to_fit();
        t.edges.shrink_to_fit();
        t.terminal.shrink_to_fit();
        t.index_dense_nodes();
        t
    }

    /// Gives every node with [`DENSE_EDGES`] or more edges its direct byte → child table.
    fn index_dense_nodes(&mut self) {
        for node in 0..self.terminal.len() as u32 {
            let edges = self.edges(node);
            if edges.len() < DENSE_EDGES {
                continue;
            }
            let mut table = [0u32; 256];
            for &(b, child) in edges {
                table[usize::from(b)] = child;
            }
            self.dense.push(table);
            self.dense_of.resize(node as usize + 1, 0);
            if let Some(slot) = self.dense_of.get_mut(node as usize) {
                *slot = self.dense.len() as u32;
            }
        }
    }

    /// Heap bytes held by the trie and its deletion tries.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.first.capacity() * 4
            + self.edges.capacity() * std::mem::size_of::<(u8, u32)>()
            + self.terminal.capacity() * 4
            + self.term_chars.capacity() * 4
            + self.dense_of.capacity() * 4
            + self.dense.capacity() * 1024
            + self.skips.iter().map(|(t, ids)| t.heap_bytes() + ids.capacity() * 4).sum::<usize>()
    }

    fn edges(&self, node: u32) -> &[(u8, u32)] {
        let lo = self.first.get(node as usize).copied().unwrap_or(0) as usize;
        let hi = self.first.get(node as usize + 1).copied().unwrap_or(0) as usize;
        self.edges.get(lo..hi).unwrap_or(&[])
    }

    #[inline]
    fn child(&self, node: u32, b: u8) -> Option<u32> {
        if let Some(&d) = self.dense_of.get(node as usize)
            && d > 0
        {
            let child = self.dense.get(d as usize - 1).map_or(0, |t| t[usize::from(b)]);
            return (child > 0).then_some(child);
        }
        let e = self.edges(node);
        e.binary_search_by_key(&b, |x| x.0).ok().and_then(|i| e.get(i)).map(|x| x.1)
    }

    /// Whether a match of `term` may use an edit (it is long enough).
    pub(crate) fn fuzzy_allowed(&self, term: u32) -> bool {
        self.term_chars.get(term as usize).copied().unwrap_or(0) >= FUZZY_MIN_CHARS
    }

    /// Follows the bytes of `s` from `node`.
    pub(crate) fn walk(&self, mut node: u32, s: &[u8]) -> Option<u32> {
        for &b in s {
            node = self.child(node, b)?;
        }
        Some(node)
    }

    pub(crate) fn term_at(&self, node: u32) -> Option<u32> {
        match self.terminal.get(node as usize) {
            Some(&t) if t > 0 => Some(t - 1),
            _ => None,
        }
    }

    /// Calls `f` with every node one whole character below `node`.
    pub(crate) fn each_char_child(&self, node: u32, f: &mut impl FnMut(u32)) {
        for &(b, child) in self.edges(node) {
            match utf8_len(b) {
                1 => f(child),
                n => self.each_continuation(child, n - 1, f),
            }
        }
    }

    fn each_continuation(&self, node: u32, remaining: usize, f: &mut impl FnMut(u32)) {
        if remaining == 0 {
            return f(node);
        }
        for &(_, child) in self.edges(node) {
            self.each_continuation(child, remaining - 1, f);
        }
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
    trie: &'a Trie,
    text: &'a [u8],
    start: usize,
    f: &'a mut F,
    stopped: bool,
}

impl<'a, F: FnMut(TermMatch) -> bool> Search<'a, F> {
    /// Reports the term ending at `node` of `trie` (`ids` maps a deletion trie's entries to
    /// terms), if any.
    fn report(&mut self, trie: &Trie, ids: Option<&[u32]>, node: u32, end: usize, edits: u8) {
        if self.stopped || end == self.start {
            return;
        }
        let term = trie.term_at(node).and_then(|t| match ids {
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
        let trie: &'a Trie = self.trie;
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
                match trie.skips.get(depth) {
                    // The term's `depth`-th character deleted: one walk of its deletion trie
                    // from the prefix matched so far.
                    Some((skip, ids)) => {
                        let prefix = self.text.get(self.start..pos).unwrap_or(&[]);
                        if let Some(n) = skip.walk(0, prefix) {
                            // Deletion: the term has an extra character here.
                            self.exact_only(skip, Some(ids), n, pos);
                            // Substitution: one character differs.
                            if let Some(after) = next {
                                self.exact_only(skip, Some(ids), n, after);
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
    fn exact_only(&mut self, trie: &Trie, ids: Option<&[u32]>, mut node: u32, mut pos: usize) {
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
pub(crate) fn find(trie: &Trie, mode: MatchMode, normalized: &str) -> Option<TermMatch> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    /// Every `(start, end, edits)` a trie reports with one edit allowed.
    fn matches(trie: &Trie, text: &str) -> BTreeSet<(usize, usize, u8)> {
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
            let plain = Trie::new(&set);
            let fuzzy = Trie::for_fuzzy(&set);
            prop_assert_eq!(matches(&plain, &text), matches(&fuzzy, &text));
        }
    }
}
