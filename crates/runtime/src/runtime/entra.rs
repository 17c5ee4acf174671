//! The Entra Password Protection evaluation (`entra score >= 5 using { ... }`), as documented by
//! Microsoft and pinned in `docs/language.md`:
//!
//! 1. Normalize: lowercase, then `0→o 1→l $→s @→a`.
//! 2. The user's first or last name (`givenName`, `sn`) of 4+ characters found in the normalized
//!    password rejects it outright.
//! 3. Candidate matches: every substring within one edit of a banned term (terms under 4
//!    characters: exact only), and the tenant name (4+ characters) as an exact substring. A
//!    substring that is an exact match of a term plus one character beside it is not a
//!    candidate of that term: the character is "not part of a banned password" (Microsoft's
//!    `ContoS0Bl@nkf9!` scores its `f`).
//! 4. Score: the fewest points over every way of choosing candidates (they may overlap): one
//!    point per distinct banned text chosen (the same normalized text found twice is one banned
//!    password found), and one per distinct character no chosen candidate covers (the 2018
//!    text's "each remaining unique character", the stricter reading). Adding a term can only
//!    lower the score, and reading the password backwards gives the same score. Once a text is
//!    chosen, all its occurrences are free, so the score is the least, over sets of texts, of
//!    their number plus the distinct characters outside everything they cover: sets are tried
//!    by size, and no set of N texts can score under N plus what all of them leave uncovered.
//!    A yes/no check stops as soon as the answer is known.
//!
//! The work is bounded by design: every step (a node of a trie walk, a candidate, a word of
//! positions compared) is counted against [`MAX_STEPS`], so that any password within the input
//! limit against any lists within the list limits is decided in a bounded time (BENCHMARKS.md:
//! the worst case known, a list of every a/b string and a 4,096-character a/b password). A
//! search that runs out is [`Unsettled::OutOfSteps`]: a check refuses, as for a score with too
//! many sets to look at ([`Unsettled::TooManySets`]).
use super::fold::Folding;
use super::terms::{Trie, normalize_into};
use crate::ir::{Attribute, Normalization};
use smallvec::SmallVec;
use std::collections::HashMap;
use zeroize::Zeroizing;

/// Names shorter than this many characters are not looked for; nor is the tenant name.
pub const NAME_MIN_CHARS: usize = 4;

/// What the evaluation found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntraOutcome {
    /// The password's points.
    pub points: u32,
    /// The name attribute found in the password (an outright rejection), if any.
    pub name: Option<Attribute>,
    /// The banned terms (or the tenant name) that were counted, in order. A term that makes up
    /// the whole password is not named (that would show the password): see `whole_password`.
    pub terms: Vec<String>,
    /// The whole normalized password is one banned term (or within one edit of one).
    pub whole_password: bool,
    /// The search for the fewest points gave up: a check refuses, and `points` is the fewest
    /// found so far (a check: below the goal).
    pub unsettled: Option<Unsettled>,
}

/// Why a score was not settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unsettled {
    /// More than [`MAX_TERM_SETS`] sets of banned texts to look at.
    TooManySets,
    /// The evaluation used its [`MAX_STEPS`] steps.
    OutOfSteps,
}

/// Steps one evaluation may take: a node of a trie walk, a candidate (with the words of
/// positions it marks), a word of positions compared. The worst case known spends them all in
/// about 60 ms on the machine BENCHMARKS.md describes (the bound asked for: 100 ms); no password
/// of the benchmark corpus (200,000, up to 256 characters) comes near it.
pub const MAX_STEPS: u64 = 1_000_000;

/// The steps left to an evaluation.
#[derive(Debug)]
struct Budget {
    left: u64,
}

impl Budget {
    /// Spends `n` steps; false (and none left) when fewer remain.
    fn spend(&mut self, n: u64) -> bool {
        match self.left.checked_sub(n) {
            Some(left) => {
                self.left = left;
                true
            }
            None => {
                self.left = 0;
                false
            }
        }
    }

    fn out(&self) -> bool {
        self.left == 0
    }
}

/// A candidate: the characters it covers (character indices), and what it is.
#[derive(Clone, Copy)]
struct Candidate {
    start: u32,
    end: u32,
    /// `Some((set, term))` for a banned term, `None` for the tenant name.
    term: Option<(usize, u32)>,
}

/// How far to score.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Goal {
    /// Score the whole password and name the counted terms (explanations).
    Explain,
    /// Only whether the password reaches this many points: scoring stops as soon as it has
    /// them, or can no longer get them (each character left is at most one point), and the
    /// points reported are then a bound on the same side of the goal as the true score.
    Reach(u32),
}

/// Runs the evaluation. `names` are the user's given names and surnames with their attribute,
/// `tenant` the tenant name if known.
pub(crate) fn evaluate<const LAZY: bool>(
    sets: &[Trie<'_, LAZY>],
    folding: Folding<'_>,
    password: &str,
    names: &[(Attribute, &str)],
    tenant: Option<&str>,
    goal: Goal,
) -> EntraOutcome {
    let norm = Normalization::entra();
    let mut p = Zeroizing::new(String::with_capacity(password.len()));
    normalize_into(&norm, folding, password, &mut p);
    let mut scratch = String::new();
    let normalized = |s: &str, scratch: &mut String| {
        scratch.clear();
        normalize_into(&norm, folding, s, scratch);
    };
    for &(attribute, name) in names {
        normalized(name, &mut scratch);
        if scratch.chars().count() >= NAME_MIN_CHARS && p.contains(scratch.as_str()) {
            return EntraOutcome {
                points: 0,
                name: Some(attribute),
                terms: Vec::new(),
                whole_password: false,
                unsettled: None,
            };
        }
    }
    let mut tenant_norm = String::new();
    if let Some(t) = tenant {
        normalized(t, &mut tenant_norm);
        if tenant_norm.chars().count() < NAME_MIN_CHARS {
            tenant_norm.clear();
        }
    }
    score(sets, &p, &tenant_norm, goal)
}

/// The candidates of a normalized password, found per start position when first asked for.
struct Found<'a, 's, const LAZY: bool> {
    sets: &'a [Trie<'s, LAZY>],
    p: &'a str,
    tenant: &'a str,
    /// Byte offset of each character, and the end.
    bounds: SmallVec<[usize; 64]>,
    /// Per position, its candidates in `pool` (`None`: not searched yet).
    at: SmallVec<[Option<(u32, u32)>; 64]>,
    pool: SmallVec<[Candidate; 32]>,
    /// Shared by the whole evaluation; once out, what was found is incomplete.
    budget: Budget,
}

impl<'a, 's, const LAZY: bool> Found<'a, 's, LAZY> {
    fn new(sets: &'a [Trie<'s, LAZY>], p: &'a str, tenant: &'a str) -> Self {
        let bounds: SmallVec<[usize; 64]> =
            p.char_indices().map(|(i, _)| i).chain([p.len()]).collect();
        let at = smallvec::smallvec![None; bounds.len()];
        let budget = Budget { left: MAX_STEPS };
        Found { sets, p, tenant, bounds, at, pool: SmallVec::new(), budget }
    }

    /// How many characters.
    fn chars(&self) -> usize {
        self.bounds.len() - 1
    }

    /// The candidates starting at character `i`.
    fn starting_at(&mut self, i: usize) -> &[Candidate] {
        if self.at.get(i).copied().flatten().is_none() {
            let from = self.pool.len() as u32;
            self.search(i);
            if let Some(slot) = self.at.get_mut(i) {
                *slot = Some((from, self.pool.len() as u32));
            }
        }
        match self.at.get(i).copied().flatten() {
            Some((from, to)) => self.pool.get(from as usize..to as usize).unwrap_or(&[]),
            None => &[],
        }
    }

    fn search(&mut self, i: usize) {
        let Found { sets, p, tenant, bounds, pool, budget, .. } = self;
        let Some(&byte) = bounds.get(i) else { return };
        let index = |byte: usize| bounds.binary_search(&byte).unwrap_or(0) as u32;
        let start = i as u32;
        if !tenant.is_empty() && p.get(byte..).is_some_and(|r| r.starts_with(*tenant)) {
            pool.push(Candidate { start, end: index(byte + tenant.len()), term: None });
        }
        for (set, trie) in sets.iter().enumerate() {
            if budget.out() {
                return;
            }
            let steps = &mut budget.left;
            trie.matches_at_within(p, byte, 1, steps, &mut |m| {
                // An exact match plus a character beside it: that character is not part of
                // the banned term (the exact match is a candidate of its own). Only a match one
                // character longer than its term can be one.
                let beside = m.edits > 0
                    && p.get(m.start..m.end).is_some_and(|span| {
                        let mut chars = span.chars();
                        let first = chars.next().map_or(0, char::len_utf8);
                        let last = chars.next_back().map_or(0, char::len_utf8);
                        let is = |s: &[u8]| trie.is_term(s, m.term);
                        trie.chars_of(m.term).is_some_and(|c| c as usize == chars.count() + 1)
                            && (is(&span.as_bytes()[first..])
                                || is(&span.as_bytes()[..span.len() - last]))
                    });
                if !beside {
                    pool.push(Candidate { start, end: index(m.end), term: Some((set, m.term)) });
                }
                true
            });
        }
    }
}

/// Most sets of terms a score looks at before it settles for what it knows: the search is
/// over sets of at most a few terms, and real passwords need far fewer; a password beyond it
/// is refused (a check) or shown with the points known so far (an explanation).
const MAX_TERM_SETS: usize = 100_000;

/// Positions of the password as a bit set.
type Positions = SmallVec<[u64; 1]>;

/// The search for the cheapest set of banned texts: branch and bound over the texts in order,
/// each set's points its size plus the distinct characters it leaves uncovered.
struct Cover<'u> {
    /// What each text covers.
    texts: Vec<Positions>,
    /// What the texts from index k on cover together.
    suffix: Vec<Positions>,
    /// The distinct characters left to pay for, given what is covered.
    unpaid: &'u dyn Fn(&Positions) -> u32,
    /// A check stops at the first set under it.
    limit: u32,
    looked: usize,
    /// Steps: each text tried costs the words of positions it compares.
    budget: &'u mut Budget,
    /// Why it gave up, if it did.
    gave_up: Option<Unsettled>,
    /// The steps one text tried costs (the words of positions and of characters it compares).
    cost: u64,
    /// The fewest points found, and the texts chosen.
    best: (u32, Vec<usize>),
}

impl Cover<'_> {
    /// Looks at the sets that add texts from `from` on to `chosen`; false if it gave up.
    fn run(&mut self, from: usize, covered: &Positions, chosen: &mut Vec<usize>) -> bool {
        self.looked += 1;
        if self.looked > MAX_TERM_SETS {
            self.gave_up = Some(Unsettled::TooManySets);
            return false;
        }
        let points = chosen.len() as u32 + (self.unpaid)(covered);
        if points < self.best.0 {
            self.best = (points, chosen.clone());
        }
        for k in from..self.texts.len() {
            if !self.budget.spend(self.cost) {
                self.gave_up = Some(Unsettled::OutOfSteps);
                return false;
            }
            // Even with every later text for free, this branch cannot do better.
            let mut all = covered.clone();
            all.iter_mut().zip(&self.suffix[k]).for_each(|(a, c)| *a |= c);
            if chosen.len() as u32 + 1 + (self.unpaid)(&all) >= self.best.0.min(self.limit)
                || self.best.0 < self.limit && self.limit != u32::MAX
            {
                break;
            }
            let mut next = covered.clone();
            next.iter_mut().zip(&self.texts[k]).for_each(|(a, c)| *a |= c);
            chosen.push(k);
            let finished = self.run(k + 1, &next, chosen);
            chosen.pop();
            if !finished {
                return false;
            }
        }
        true
    }
}

/// The score of a normalized password (step 4 of the module notes).
fn score<const LAZY: bool>(
    sets: &[Trie<'_, LAZY>],
    p: &str,
    tenant: &str,
    goal: Goal,
) -> EntraOutcome {
    let mut found = Found::new(sets, p, tenant);
    let n = found.chars();
    let early = |points, unsettled| EntraOutcome {
        points,
        name: None,
        terms: Vec::new(),
        whole_password: false,
        unsettled,
    };
    // Out of steps: a check fails closed (below its goal); an explanation says so.
    let out_of_steps = |known: u32| {
        let points = match goal {
            Goal::Reach(enough) => enough.saturating_sub(1).min(known),
            Goal::Explain => known,
        };
        early(points, Some(Unsettled::OutOfSteps))
    };
    // Any choice of candidates bounds the fewest points from above, even counting repeats:
    // taking the longest candidate at each position, from the left, settles most refusals in a
    // few searches.
    if let Goal::Reach(enough) = goal {
        let (mut points, mut pos) = (0, 0);
        while pos < n && points < enough {
            points += 1;
            let longest = found.starting_at(pos).iter().map(|c| c.end as usize).max();
            if found.budget.out() {
                return out_of_steps(points);
            }
            pos = longest.unwrap_or(pos + 1);
        }
        if points < enough {
            return early(points, None);
        }
    }
    // Characters no candidate covers are paid for by every choice: once they are `enough`
    // distinct ones, the password has the points, whatever the rest holds. Position i is
    // covered only by candidates starting at or before it, all known once i is searched.
    if let Goal::Reach(enough) = goal {
        let mut paid: SmallVec<[char; 8]> = SmallVec::new();
        let mut covered_to = 0;
        for (i, ch) in p.chars().enumerate() {
            covered_to =
                found.starting_at(i).iter().map(|c| c.end as usize).fold(covered_to, usize::max);
            if found.budget.out() {
                return out_of_steps(paid.len() as u32);
            }
            if covered_to <= i && !paid.contains(&ch) {
                paid.push(ch);
                if paid.len() as u32 >= enough {
                    return early(enough, None);
                }
            }
        }
    }
    // Each distinct banned text found (a term, a near-miss of one, or the tenant name) with the
    // positions its occurrences cover: once chosen, all its occurrences are free, and covering
    // more never costs more.
    let words = n.div_ceil(64).max(1);
    let bounds = found.bounds.clone();
    let text = |c: &Candidate| p.get(bounds[c.start as usize]..bounds[c.end as usize]);
    let mut terms: Vec<(Candidate, Positions, bool)> = Vec::new();
    let mut slots: HashMap<&str, usize> = HashMap::new();
    for i in 0..n {
        for c in found.starting_at(i).to_vec() {
            if !found.budget.spend(words as u64) {
                return out_of_steps(0);
            }
            // A few texts (real passwords): a scan; many: a map, so that the work stays linear.
            let key = text(&c).unwrap_or_default();
            let known = match slots.is_empty() && terms.len() < 32 {
                true => terms.iter().position(|t| text(&t.0) == Some(key)),
                false => {
                    if slots.is_empty() {
                        slots.extend(
                            terms
                                .iter()
                                .enumerate()
                                .map(|(k, t)| (text(&t.0).unwrap_or_default(), k)),
                        );
                    }
                    slots.get(key).copied()
                }
            };
            let slot = known.unwrap_or_else(|| {
                terms.push((c, smallvec::smallvec![0; words], false));
                if !slots.is_empty() {
                    slots.insert(key, terms.len() - 1);
                }
                terms.len() - 1
            });
            let (_, covered, whole) = &mut terms[slot];
            for k in c.start..c.end {
                covered[k as usize / 64] |= 1 << (k % 64);
            }
            *whole |= c.start == 0 && c.end as usize == n;
        }
        if found.budget.out() {
            return out_of_steps(0);
        }
    }
    // Each distinct character with its positions.
    let mut chars: Vec<(char, Positions)> = Vec::new();
    for (k, ch) in p.chars().enumerate() {
        let slot = match chars.iter().position(|c| c.0 == ch) {
            Some(j) => j,
            None => {
                chars.push((ch, smallvec::smallvec![0; words]));
                chars.len() - 1
            }
        };
        chars[slot].1[k / 64] |= 1 << (k % 64);
    }
    // The characters still to pay for when `covered` is covered.
    let unpaid = |covered: &Positions| -> u32 {
        chars.iter().filter(|(_, at)| at.iter().zip(covered).any(|(a, c)| a & !c != 0)).count()
            as u32
    };
    let mut all: Positions = smallvec::smallvec![0; words];
    for (_, covered, _) in &terms {
        all.iter_mut().zip(covered).for_each(|(a, c)| *a |= c);
    }
    // No choice pays for fewer characters than choosing every text.
    let floor = unpaid(&all);
    let limit = match goal {
        Goal::Reach(enough) => enough,
        Goal::Explain => u32::MAX,
    };
    if floor >= limit {
        return early(floor, None);
    }
    // A text covering no more than another one does is never needed: drop it (the larger
    // first, a whole-password match first among equals).
    terms.sort_by_key(|t| {
        (std::cmp::Reverse(t.1.iter().map(|w| w.count_ones()).sum::<u32>()), !t.2)
    });
    let mut kept: Vec<(Candidate, Positions, bool)> = Vec::new();
    for t in terms {
        if !found.budget.spend((kept.len() * words) as u64) {
            return out_of_steps(floor);
        }
        let within =
            |k: &(Candidate, Positions, bool)| t.1.iter().zip(&k.1).all(|(a, b)| a & !b == 0);
        if !kept.iter().any(within) {
            kept.push(t);
        }
    }
    let terms = kept;
    let none: Positions = smallvec::smallvec![0; words];
    let mut search = Cover {
        texts: terms.iter().map(|t| t.1.clone()).collect(),
        suffix: Vec::new(),
        unpaid: &unpaid,
        limit,
        looked: 0,
        budget: &mut found.budget,
        gave_up: None,
        cost: (words * (chars.len() + 2)) as u64,
        best: (unpaid(&none), Vec::new()),
    };
    // What the texts from k on cover together: choosing them all, for nothing, is the bound.
    let mut acc = none.clone();
    search.suffix = vec![acc.clone(); terms.len() + 1];
    for k in (0..terms.len()).rev() {
        acc.iter_mut().zip(&terms[k].1).for_each(|(a, c)| *a |= c);
        search.suffix[k] = acc.clone();
    }
    if !search.run(0, &none, &mut Vec::new()) {
        // Too many sets to look at: a check refuses, an explanation shows the points known.
        let points = match goal {
            Goal::Reach(enough) => enough.saturating_sub(1).min(search.best.0),
            Goal::Explain => search.best.0,
        };
        return early(points, search.gave_up);
    }
    let best = search.best;
    let (points, chosen) = best;
    let whole_password = points == 1 && chosen.len() == 1 && terms[chosen[0]].2;
    let named = match (goal, whole_password) {
        (Goal::Explain, false) => chosen
            .iter()
            .map(|&k| match terms[k].0.term {
                Some((set, term)) => {
                    sets.get(set).and_then(|s| s.term(term)).unwrap_or_default().to_string()
                }
                None => tenant.to_string(),
            })
            .collect(),
        _ => Vec::new(),
    };
    EntraOutcome { points, name: None, terms: named, whole_password, unsettled: None }
}

#[cfg(all(test, feature = "build"))]
mod tests {
    use super::*;
    use crate::artifact::trie::TrieBuf;
    use crate::ir::TermSet;
    use proptest::prelude::*;

    fn password() -> impl Strategy<Value = String> {
        proptest::collection::vec(prop_oneof!["[a-d]{3,6}", "[a-e0@$ ]{0,3}"], 0..8)
            .prop_map(|parts| parts.concat())
    }

    /// 43 different characters and every run of four of them a banned term: more sets of
    /// overlapping texts than the search looks at.
    const CROWDED: &str = "bcdfghjkmnpqrtuvwxyz%&*()-_=+[]{};:,.<>?/~^";

    /// A score the search cannot settle fails closed: a check reports fewer points than it
    /// asks for, and says the score was not settled; a goal it can settle is not marked.
    #[test]
    fn an_unsettled_score_fails_closed() {
        let chars: Vec<char> = CROWDED.chars().collect();
        let terms: Vec<String> = chars.windows(4).map(|x| x.iter().collect()).collect();
        let set = TermSet::new(String::new(), Normalization::entra(), terms);
        let trie = TrieBuf::for_fuzzy(&set);
        let run = |goal| evaluate(&[trie.view()], Folding::new(&[]), CROWDED, &[], None, goal);
        let check = run(Goal::Reach(10));
        assert!(
            check.unsettled.is_some() && check.points < 10,
            "{} {:?}",
            check.points,
            check.unsettled
        );
        assert!(run(Goal::Explain).unsettled.is_some());
        let easy = run(Goal::Reach(5));
        assert!(easy.unsettled.is_none() && easy.points >= 5);
    }

    /// The score of `password` against `terms` (lowercase ASCII, no tenant, no names).
    fn points(terms: &[&str], password: &str) -> u32 {
        let set = TermSet::new(
            String::new(),
            Normalization::entra(),
            terms.iter().map(|t| t.to_string()).collect(),
        );
        let trie = TrieBuf::for_fuzzy(&set);
        evaluate(&[trie.view()], Folding::new(&[]), password, &[], None, Goal::Explain).points
    }

    /// Whether `a` is within one insertion, deletion or substitution of `b`.
    fn within_one(a: &[u8], b: &[u8]) -> bool {
        match a.len() as isize - b.len() as isize {
            0 => a.iter().zip(b).filter(|(x, y)| x != y).count() <= 1,
            1 => (0..a.len()).any(|k| a[..k] == b[..k] && a[k + 1..] == b[k..]),
            -1 => within_one(b, a),
            _ => false,
        }
    }

    /// Every candidate `(start, end, edits, term)` of the definition, found naively: each
    /// substring against each term, with the rule for a character beside an exact match.
    fn naive_candidates(terms: &[&str], p: &str) -> Vec<(usize, usize, u8, usize)> {
        let p = p.as_bytes();
        let mut out = Vec::new();
        for s in 0..p.len() {
            for e in s + 1..=p.len() {
                let sub = &p[s..e];
                for (k, t) in terms.iter().map(|t| t.as_bytes()).enumerate() {
                    let exact = sub == t;
                    let fuzzy = t.len() >= 4 && within_one(sub, t);
                    let beside = sub.len() > t.len() && sub.windows(t.len()).any(|w| w == t);
                    if exact || (fuzzy && !beside) {
                        out.push((s, e, u8::from(!exact), k));
                    }
                }
            }
        }
        out
    }

    /// The definition itself, by brute force over every choice of candidates: which characters
    /// they cover and which banned texts they are (each one point however often it is chosen),
    /// plus one point for each distinct character left uncovered.
    fn brute_force(terms: &[&str], p: &str) -> u32 {
        let n = p.len();
        let found = naive_candidates(terms, p);
        let mut texts: Vec<&str> = found.iter().map(|&(s, e, _, _)| &p[s..e]).collect();
        texts.sort_unstable();
        texts.dedup();
        let cands: Vec<(u32, u64)> = found
            .iter()
            .map(|&(s, e, _, _)| {
                let k = texts.binary_search(&&p[s..e]).unwrap_or(0);
                (((1u32 << e) - 1) & !((1u32 << s) - 1), 1u64 << k)
            })
            .collect();
        // Every reachable (covered, texts used) pair, from nothing chosen.
        let mut seen = std::collections::HashSet::from([(0u32, 0u64)]);
        let mut todo = vec![(0u32, 0u64)];
        while let Some((mask, used)) = todo.pop() {
            for &(m, k) in &cands {
                let next = (mask | m, used | k);
                if seen.insert(next) {
                    todo.push(next);
                }
            }
        }
        let bytes = p.as_bytes();
        seen.iter()
            .map(|&(mask, used)| {
                let left: std::collections::BTreeSet<u8> =
                    (0..n).filter(|&k| mask & (1 << k) == 0).map(|k| bytes[k]).collect();
                used.count_ones() + left.len() as u32
            })
            .min()
            .unwrap_or(0)
    }

    /// The reading before issue 15: greedy from the left, at each position the candidate with
    /// the fewest edits, then the longest. Returns the points and whether it took a candidate
    /// the new definition leaves out (a character beside an exact match).
    fn greedy(terms: &[&str], p: &str) -> (u32, bool) {
        let b = p.as_bytes();
        let mut all = Vec::new();
        for s in 0..b.len() {
            for e in s + 1..=b.len() {
                for t in terms.iter().map(|t| t.as_bytes()) {
                    let sub = &b[s..e];
                    if sub == t {
                        all.push((s, e, 0u8, false));
                    } else if t.len() >= 4 && within_one(sub, t) {
                        let beside = sub.len() > t.len() && sub.windows(t.len()).any(|w| w == t);
                        all.push((s, e, 1, beside));
                    }
                }
            }
        }
        let (mut points, mut left_out, mut pos) = (0, false, 0);
        while pos < b.len() {
            points += 1;
            let best = all
                .iter()
                .filter(|c| c.0 == pos)
                .min_by_key(|c| (c.2, std::cmp::Reverse(c.1)))
                .copied();
            match best {
                Some((_, e, _, beside)) => {
                    left_out |= beside;
                    pos = e;
                }
                None => pos += 1,
            }
        }
        (points, left_out)
    }

    fn reversed(s: &str) -> String {
        s.chars().rev().collect()
    }

    /// The findings of issue 15, each a failure of the greedy reading.
    #[test]
    fn overlapping_terms_do_not_earn_points_twice() {
        // london + donkey cover "londonkey": 1 point for each term, then "1".
        assert_eq!(points(&["london", "donkey"], "londonkey1"), 3);
        assert_eq!(points(&["winter", "internet"], "winternet1"), 3);
        assert_eq!(
            greedy(&["london", "donkey"], "londonkey1").0,
            5,
            "the greedy reading accepted it"
        );
        assert_eq!(greedy(&["winter", "internet"], "winternet1").0, 5);
        // Adding a term never makes a refused password acceptable (the greedy reading gave 2
        // with `internet` alone, then 5 with `winter` added). The `w` beside the exact
        // `internet` is a character of its own, as the `f` of Microsoft's example.
        assert_eq!(greedy(&["internet"], "winternet1").0, 2);
        assert_eq!(points(&["internet"], "winternet1"), 3);
        assert_eq!(points(&["internet", "winter"], "winternet1"), 3);
        // The term on either side of the same characters scores the same (the greedy reading
        // took `#contoso` as one fuzzy match when the term came last: 4, refused, against 5).
        assert_eq!(greedy(&["contoso"], "contoso#xy7").0, 5);
        assert_eq!(greedy(&["contoso"], "xy7#contoso").0, 4);
        assert_eq!(points(&["contoso"], "contoso#xy7"), 5);
        assert_eq!(points(&["contoso"], "xy7#contoso"), 5);
        // Mirrored password and terms, same score.
        let (a, b) = (points(&["contoso"], "contoso#xy7"), points(&["osotnoc"], "7yx#osotnoc"));
        assert_eq!(a, b);
        // Microsoft's worked example holds: the f beside "blank" is a character of its own.
        assert_eq!(points(&["contoso", "blank"], "contosoblankf9!"), 5);
        assert_eq!(points(&["contoso", "blank"], "contosoblankl2"), 4);
        // Its mirror, which the greedy reading refused (the f counted with "knalb"), scores
        // the same: the one place the new reading is more lenient than the greedy one, which
        // the documented example forces (docs/language.md).
        assert_eq!(points(&["osotnoc", "knalb"], "!9fknalbosotnoc"), 5);
        assert_eq!(greedy(&["osotnoc", "knalb"], "!9fknalbosotnoc"), (4, true));
    }

    /// The open points of issue 15, decided the stricter way: a remaining character and a
    /// banned text each count once, however often they occur.
    #[test]
    fn repeats_count_once() {
        assert_eq!(points(&[], "aaaaaaaa"), 1);
        assert_eq!(points(&[], "abcabcabc"), 3);
        assert_eq!(points(&["contoso"], "contoso-contoso-contoso24"), 4);
        assert_eq!(points(&["contoso"], "contoso-contoso-contoso24x"), 5);
        // Two near-misses of one term are two texts.
        assert_eq!(points(&["contoso"], "contosa-contoso"), 3);
        assert_eq!(brute_force(&["abca"], "abcaabca"), 1);
    }

    fn small_terms() -> impl Strategy<Value = Vec<String>> {
        proptest::collection::vec("[abc]{3,5}", 1..5)
    }

    proptest! {
        /// The shortest path gives the definition's score (brute force over covers).
        #[test]
        fn the_score_is_the_fewest_points_over_all_choices(
            terms in small_terms(),
            password in "[abcd]{0,11}",
        ) {
            let t: Vec<&str> = terms.iter().map(String::as_str).collect();
            prop_assert_eq!(points(&t, &password), brute_force(&t, &password));
        }

        /// 1. Adding a term never turns a refusal into an acceptance (never raises the score).
        #[test]
        fn adding_a_term_never_raises_the_score(
            terms in small_terms(),
            extra in "[abc]{3,5}",
            password in "[abcd]{0,16}",
        ) {
            let t: Vec<&str> = terms.iter().map(String::as_str).collect();
            let mut more = t.clone();
            more.push(&extra);
            prop_assert!(points(&more, &password) <= points(&t, &password));
        }

        /// 2. Mirroring the password and the terms never changes the score.
        #[test]
        fn mirroring_never_changes_the_score(terms in small_terms(), password in "[abcd]{0,16}") {
            let t: Vec<&str> = terms.iter().map(String::as_str).collect();
            let r: Vec<String> = t.iter().map(|x| reversed(x)).collect();
            let r: Vec<&str> = r.iter().map(String::as_str).collect();
            prop_assert_eq!(points(&t, &password), points(&r, &reversed(&password)));
        }

        /// 3. Never more lenient than the greedy reading, except where that reading counted a
        ///    character beside an exact match as part of the term (Microsoft's example).
        #[test]
        fn never_more_lenient_than_the_greedy_reading(
            terms in small_terms(),
            password in "[abcd]{0,16}",
        ) {
            let t: Vec<&str> = terms.iter().map(String::as_str).collect();
            let (old, left_out) = greedy(&t, &password);
            prop_assert!(left_out || points(&t, &password) <= old);
        }

        /// Stopping at the goal never changes which side of it a password is on.
        #[test]
        fn reaching_the_goal_early_agrees_with_the_full_score(
            terms in proptest::collection::vec("[a-d]{3,6}", 1..30),
            password in password(),
            goal in 1u32..12,
        ) {
            let set = TermSet::new(String::new(), Normalization::entra(), terms);
            let trie = TrieBuf::for_fuzzy(&set);
            let sets = [trie.view()];
            let run = |g| evaluate(&sets, Folding::new(&[]), &password, &[], Some("dcba"), g);
            let full = run(Goal::Explain);
            let early = run(Goal::Reach(goal));
            prop_assert_eq!(full.points >= goal, early.points >= goal);
        }
    }
}
