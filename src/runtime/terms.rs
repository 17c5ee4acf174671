//! Banned-term matching: normalization, and a byte trie over the normalized terms that is
//! searched exactly or with one edit (substitution, insertion or deletion, counted in
//! characters) starting at every character of the normalized password.
//!
//! The trie is built when the artifact is loaded, in one pass over the sorted terms, so the
//! artifact stores only the terms. Fuzzy search is a depth-first walk with an error budget of
//! one: along the exact path, each node may also spend the budget on skipping a password
//! character (insertion), replacing one (substitution) or skipping a term character (deletion).
//! Paths die within a few characters for ordinary passwords, so a check stays in microseconds
//! for lists of 100,000 terms.

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
}

impl Trie {
    /// Builds the trie from a set's sorted, distinct terms.
    pub(crate) fn new(set: &TermSet) -> Trie {
        let terms: Vec<&[u8]> = set.terms().map(str::as_bytes).collect();
        let mut t = Trie {
            first: vec![0],
            edges: Vec::new(),
            terminal: Vec::new(),
            term_chars: set.terms().map(|s| s.chars().count() as u32).collect(),
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
        t
    }

    /// Heap bytes held by the trie.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.first.capacity() * 4
            + self.edges.capacity() * std::mem::size_of::<(u8, u32)>()
            + self.terminal.capacity() * 4
            + self.term_chars.capacity() * 4
    }

    fn edges(&self, node: u32) -> &[(u8, u32)] {
        let lo = self.first.get(node as usize).copied().unwrap_or(0) as usize;
        let hi = self.first.get(node as usize + 1).copied().unwrap_or(0) as usize;
        self.edges.get(lo..hi).unwrap_or(&[])
    }

    fn child(&self, node: u32, b: u8) -> Option<u32> {
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

impl<F: FnMut(TermMatch) -> bool> Search<'_, F> {
    fn report(&mut self, node: u32, end: usize, edits: u8) {
        if self.stopped || end == self.start {
            return;
        }
        if let Some(term) = self.trie.term_at(node)
            && (edits == 0 || self.trie.fuzzy_allowed(term))
            && !(self.f)(TermMatch { start: self.start, end, edits, term })
        {
            self.stopped = true;
        }
    }

    /// Walks the exact path from `node` at `pos`; at each step may spend the one edit.
    fn exact_then_fuzzy(&mut self, mut node: u32, mut pos: usize, budget: bool) {
        loop {
            self.report(node, pos, 0);
            if self.stopped {
                return;
            }
            let next = self.text.get(pos).map(|&b| pos + utf8_len(b));
            if budget {
                if let Some(after) = next {
                    // Insertion: the password has an extra character here.
                    self.exact_only(node, after);
                }
                let trie = self.trie;
                trie.each_char_child(node, &mut |c| {
                    // Deletion: the term has an extra character here.
                    self.exact_only(c, pos);
                    // Substitution: one character differs.
                    if let Some(after) = next {
                        self.exact_only(c, after);
                    }
                });
                if self.stopped {
                    return;
                }
            }
            let Some(after) = next else { return };
            match self.text.get(pos..after).and_then(|ch| self.trie.walk(node, ch)) {
                Some(n) => {
                    node = n;
                    pos = after;
                }
                None => return,
            }
        }
    }

    /// The rest of a fuzzy match, after its one edit: exact only.
    fn exact_only(&mut self, mut node: u32, mut pos: usize) {
        loop {
            self.report(node, pos, 1);
            if self.stopped {
                return;
            }
            let Some(&b) = self.text.get(pos) else { return };
            let after = pos + utf8_len(b);
            match self.text.get(pos..after).and_then(|ch| self.trie.walk(node, ch)) {
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
