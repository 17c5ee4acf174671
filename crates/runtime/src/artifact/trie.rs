//! How the term tries lie in an artifact's trie words: where each array of a trie is
//! ([`TrieLayout`]), the checks a layout must pass before a trie is walked over it, and (with
//! the `build` feature) [`TrieBuf`], which builds a trie from a term set in that layout. The
//! validator walks the tries in place (`runtime::terms`).

#[cfg(feature = "build")]
use crate::artifact::region::Region;
#[cfg(feature = "build")]
use crate::ir::{FUZZY_MIN_CHARS, MatchMode, TermSet};

/// How many leading term positions get a trie of deletions (see the module notes).
pub const SKIPPED: usize = 2;

/// Nodes with at least this many edges get a direct lookup table: Entra scoring is about a
/// quarter faster with them; a threshold of 8 is no faster than 16 and takes more memory.
#[cfg(feature = "build")]
const DENSE_EDGES: usize = 16;

/// Where one array lies in a region: offset in `u32` words and length in words (`labels` and
/// `text`: length in bytes, in `len.div_ceil(4)` words).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct Span32 {
    pub at: u32,
    pub len: u32,
}

/// Where the arrays of one trie level (walked by `runtime::terms`) lie.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct LevelLayout {
    pub(crate) first: Span32,
    pub(crate) labels: Span32,
    pub(crate) terminal: Span32,
    pub(crate) dense_of: Span32,
    pub(crate) dense: Span32,
}

/// Where the arrays of one trie (walked by `runtime::terms::Trie`) lie in the region that
/// holds it (the artifact's trie words).
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct TrieLayout {
    pub(crate) level: LevelLayout,
    pub(crate) term_chars: Span32,
    pub(crate) text: Span32,
    pub(crate) ends: Span32,
    pub(crate) skips: Vec<(LevelLayout, Span32)>,
}

/// Why a trie section does not hold a valid trie (the artifact is then refused).
pub(crate) type Invalid = &'static str;

pub(crate) fn words(buf: &[u32], s: Span32) -> Result<&[u32], Invalid> {
    let end = s.at.checked_add(s.len).ok_or("a trie array overflows")?;
    buf.get(s.at as usize..end as usize).ok_or("a trie array lies outside the trie section")
}

pub(crate) fn bytes(buf: &[u32], s: Span32) -> Result<&[u8], Invalid> {
    let w = words(buf, Span32 { at: s.at, len: s.len.div_ceil(4) })?;
    bytemuck::cast_slice::<u32, u8>(w).get(..s.len as usize).ok_or("a trie array is short")
}

impl LevelLayout {
    /// Every check of the level's arrays at once (after their blocks were checked): edges
    /// consistent with breadth-first numbering, at most 256 per node, entries and table
    /// children in range.
    pub(crate) fn verify(&self, buf: &[u32], entries: u32) -> Result<(), Invalid> {
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
    pub(crate) fn shifted(self, by: u32) -> Span32 {
        Span32 { at: self.at + by, len: self.len }
    }
}

impl LevelLayout {
    #[cfg(feature = "build")]
    pub(crate) fn shifted(self, by: u32) -> LevelLayout {
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
}

impl TrieLayout {
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
