//! Per-rule automata for the rules outside the class fragment: what a regular expression, a
//! repeat or sequence limit, an attribute-containment check or a banned-term list remembers of
//! the password read so far, as one `u32`, stepped one character at a time alongside the class
//! state. Together they make the search exact over the regular part of the language.

use super::alphabet::RangeSet;
use crate::automata::{DfaLimits, regex_dfa};
use policyc_runtime::Context;
use policyc_runtime::artifact::trie::TrieBuf;
use policyc_runtime::ir::{
    Bounds, Containment, MatchMode, NormStep, Normalization, Predicate, Program, Rule, TermSet,
    Unit,
};
use policyc_runtime::runtime::fold::Folding;
use policyc_runtime::runtime::terms::normalize_char;

/// [`TermTracker::image`] of a character the normalization deletes.
const DELETED: u32 = u32::MAX - 1;
/// [`TermTracker::image`] of a character no term uses.
const OTHER: u32 = u32::MAX;
use regex_automata::Input;
use regex_automata::dfa::{Automaton, dense::DFA};
use regex_automata::util::primitives::StateID;
use regex_syntax::hir::{Class, Hir, HirKind};
use rustc_hash::FxHashMap;
use std::cell::RefCell;

/// A state flag: decided for every continuation (a regex matched, a limit was broken, a banned
/// term was found).
const DECIDED: u32 = 1 << 31;
/// A regex state from which no match is possible any more.
const NO_MATCH: u32 = DECIDED | 1;

/// One rule's automaton.
pub(super) enum Tracker {
    /// A rule that cannot fail for this user (a containment check with no values to look for).
    Pass,
    /// A regular expression, or a containment check turned into one; the state is the DFA's.
    Regex {
        /// The same DFA the validator runs.
        dfa: Box<DFA<Vec<u32>>>,
        /// The rule passes when the pattern does *not* match.
        negated: bool,
        /// The character sets the pattern tells apart.
        sets: Vec<RangeSet>,
    },
    /// No character more than `max` times in a row; the state is the current run's length.
    Repeat {
        /// The limit.
        max: u32,
    },
    /// No run of consecutive code points longer than `max`; the state packs the rising and
    /// falling runs that end at the last character.
    Sequence {
        /// The limit.
        max: u32,
    },
    /// Banned terms; the state is an interned set of partial matches.
    Terms(Box<TermTracker>),
    /// A length in UTF-16 units or bytes; the state is the length so far, capped just past
    /// what the bounds tell apart.
    Units {
        /// The unit counted.
        unit: Unit,
        /// The allowed lengths.
        bounds: Bounds,
        /// Where the unit's width of a character changes (the alphabet must refine them).
        sets: Vec<RangeSet>,
    },
}

impl Tracker {
    /// The tracker for a rule outside the class fragment, or `None` for rules no finite
    /// automaton decides here (Entra's score, strength) and for fragment rules.
    pub(super) fn for_rule(program: &Program, rule: &Rule, ctx: &Context) -> Option<Tracker> {
        match &rule.predicate {
            Predicate::Regex { pattern, negated, .. } => Tracker::regex(pattern, *negated),
            Predicate::NotContains(checks) | Predicate::NotContainsEitherWay(checks) => {
                let reversed = matches!(rule.predicate, Predicate::NotContainsEitherWay(_));
                let tokens: Vec<String> = checks
                    .iter()
                    .flat_map(|c| attribute_tokens(c, ctx))
                    .flat_map(|t| {
                        let back = reversed.then(|| t.chars().rev().collect::<String>());
                        std::iter::once(t).chain(back)
                    })
                    .map(|t| regex_syntax::escape(&t))
                    .collect();
                if tokens.is_empty() {
                    return Some(Tracker::Pass);
                }
                Tracker::regex(&format!("(?i)(?:{})", tokens.join("|")), true)
            }
            Predicate::MaxRepeat(max) => Some(Tracker::Repeat { max: *max }),
            Predicate::LengthIn { unit, bounds } => {
                let sets = match unit {
                    Unit::Characters => Vec::new(),
                    Unit::Utf16 => vec![vec![(0x1_0000, 0x10_FFFF)]],
                    Unit::Bytes => vec![
                        vec![(0x80, 0x7FF)],
                        vec![(0x800, 0xFFFF)],
                        vec![(0x1_0000, 0x10_FFFF)],
                    ],
                };
                Some(Tracker::Units { unit: *unit, bounds: *bounds, sets })
            }
            Predicate::MaxSequence(max) => Some(Tracker::Sequence { max: *max }),
            Predicate::Avoid { set, mode } => {
                // A trim depends on where a character stands (at the ends or not), which this
                // per-character automaton does not track: such lists are left to sampling.
                let set =
                    program.term_sets.get(*set as usize).filter(|s| !s.normalization.trims())?;
                Some(Tracker::Terms(Box::new(TermTracker::new(program, set, *mode))))
            }
            _ => None,
        }
    }

    fn regex(pattern: &str, negated: bool) -> Option<Tracker> {
        let dfa = regex_dfa(pattern, DfaLimits::default()).ok()?;
        let hir = regex_syntax::ParserBuilder::new().build().parse(pattern).ok()?;
        let mut sets = Vec::new();
        hir_sets(&hir, &mut sets);
        Some(Tracker::Regex { dfa: Box::new(dfa), negated, sets })
    }

    /// The state before the first character.
    pub(super) fn start(&self) -> u32 {
        match self {
            Tracker::Regex { dfa, .. } => {
                dfa.start_state_forward(&Input::new("")).map_or(NO_MATCH, |id| id.as_u32())
            }
            Tracker::Terms(t) => t.start(),
            Tracker::Pass
            | Tracker::Repeat { .. }
            | Tracker::Sequence { .. }
            | Tracker::Units { .. } => 0,
        }
    }

    /// The state after `c`, which follows `prev`.
    pub(super) fn step(&self, state: u32, prev: Option<char>, c: char) -> u32 {
        if state & DECIDED != 0 {
            return state;
        }
        match self {
            Tracker::Pass => 0,
            Tracker::Regex { dfa, .. } => {
                let Ok(mut id) = StateID::new(state as usize) else { return NO_MATCH };
                let mut buf = [0; 4];
                for &b in c.encode_utf8(&mut buf).as_bytes() {
                    id = dfa.next_state(id, b);
                    if dfa.is_match_state(id) {
                        return DECIDED;
                    }
                    if dfa.is_dead_state(id) {
                        return NO_MATCH;
                    }
                }
                id.as_u32()
            }
            Tracker::Repeat { max } => {
                let run = if prev == Some(c) { state + 1 } else { 1 };
                if run > *max { DECIDED } else { run }
            }
            Tracker::Sequence { max } => {
                let p = prev.map(|p| p as u32);
                let up = if p.and_then(|p| p.checked_add(1)) == Some(c as u32) {
                    (state >> 15) + 1
                } else {
                    1
                };
                let down = if p.and_then(|p| p.checked_sub(1)) == Some(c as u32) {
                    (state & 0x7FFF) + 1
                } else {
                    1
                };
                // Runs are packed in 15 bits each; a password (at most 4096 bytes) never
                // has a longer one, so clamping changes nothing.
                let (up, down) = (up.min(0x7FFF), down.min(0x7FFF));
                if up.max(down) > *max { DECIDED } else { up << 15 | down }
            }
            Tracker::Terms(t) => t.step(state, c),
            Tracker::Units { unit, bounds, .. } => {
                let cap = bounds.max.unwrap_or(bounds.min).saturating_add(1);
                let mut buf = [0; 4];
                (state + unit.length(c.encode_utf8(&mut buf))).min(cap)
            }
        }
    }

    /// Whether the rule passes a password that ends in this state.
    pub(super) fn passes(&self, state: u32) -> bool {
        match self {
            Tracker::Pass => true,
            Tracker::Regex { dfa, negated, .. } => {
                let matched = match state {
                    DECIDED => true,
                    NO_MATCH => false,
                    s => StateID::new(s as usize)
                        .is_ok_and(|id| dfa.is_match_state(dfa.next_eoi_state(id))),
                };
                matched != *negated
            }
            Tracker::Repeat { .. } | Tracker::Sequence { .. } => state & DECIDED == 0,
            Tracker::Terms(t) => t.passes(state),
            Tracker::Units { bounds, .. } => bounds.contains(state),
        }
    }

    /// Whether the rule compares characters with their neighbours (so the search must use
    /// concrete characters and follow runs).
    pub(super) fn needs_runs(&self) -> bool {
        matches!(self, Tracker::Repeat { .. } | Tracker::Sequence { .. })
    }

    /// How many neighbours on each side of a character matter to the rule (a sequence longer
    /// than `max` is decided within `max + 1` characters).
    pub(super) fn horizon(&self) -> u32 {
        match self {
            Tracker::Sequence { max } => max + 1,
            _ => 0,
        }
    }

    /// Sets of characters the tracker tells apart (the alphabet must refine them).
    pub(super) fn sets(&self) -> &[RangeSet] {
        match self {
            Tracker::Regex { sets, .. } | Tracker::Units { sets, .. } => sets,
            Tracker::Terms(t) => &t.deleted,
            _ => &[],
        }
    }

    /// The banned-term tracker, if this is one.
    pub(super) fn terms(&self) -> Option<&TermTracker> {
        match self {
            Tracker::Terms(t) => Some(t),
            _ => None,
        }
    }
}

/// The values (or tokens) of the user's attribute a containment check looks for, as the
/// validator does.
fn attribute_tokens(check: &Containment, ctx: &Context) -> Vec<String> {
    ctx.get(check.attribute).iter().flat_map(|v| check.tokens(v)).map(str::to_string).collect()
}

/// Every character class and literal of a pattern, plus what its assertions look at.
fn hir_sets(hir: &Hir, out: &mut Vec<RangeSet>) {
    match hir.kind() {
        HirKind::Class(Class::Unicode(c)) => {
            out.push(c.ranges().iter().map(|r| (r.start() as u32, r.end() as u32)).collect())
        }
        HirKind::Class(Class::Bytes(c)) => out
            .push(c.ranges().iter().map(|r| (u32::from(r.start()), u32::from(r.end()))).collect()),
        HirKind::Literal(lit) => {
            for ch in String::from_utf8_lossy(&lit.0).chars() {
                out.push(vec![(ch as u32, ch as u32)]);
            }
        }
        HirKind::Look(_) => {
            let word = [b'0'..=b'9', b'A'..=b'Z', b'_'..=b'_', b'a'..=b'z'];
            out.push(word.iter().map(|r| (u32::from(*r.start()), u32::from(*r.end()))).collect());
            out.push(vec![(u32::from(b'\n'), u32::from(b'\n'))]);
            out.push(vec![(u32::from(b'\r'), u32::from(b'\r'))]);
        }
        HirKind::Repetition(r) => hir_sets(&r.sub, out),
        HirKind::Capture(c) => hir_sets(&c.sub, out),
        HirKind::Concat(v) | HirKind::Alternation(v) => v.iter().for_each(|h| hir_sets(h, out)),
        HirKind::Empty => {}
    }
}

/// A banned-term list as an automaton over normalized characters: the set of partial matches
/// (trie node, edits spent) alive after each character, determinized on the fly and interned.
pub(super) struct TermTracker {
    trie: TrieBuf,
    max_edits: u8,
    exact: bool,
    normalization: Normalization,
    folds: Vec<(u32, u32)>,
    /// The characters the terms use (after normalization).
    term_chars: Vec<char>,
    /// The ranges the normalization's steps delete (the alphabet must refine them).
    deleted: Vec<RangeSet>,
    interned: RefCell<Interner>,
}

#[derive(Default)]
struct Interner {
    ids: FxHashMap<Vec<(u32, u8)>, u32>,
    sets: Vec<Vec<(u32, u8)>>,
    /// Transitions already computed: (set, normalized character) to the next state.
    steps: FxHashMap<(u32, char), u32>,
}

impl Interner {
    fn id(&mut self, set: Vec<(u32, u8)>) -> u32 {
        if let Some(&id) = self.ids.get(&set) {
            return id;
        }
        let id = self.sets.len() as u32;
        self.sets.push(set.clone());
        self.ids.insert(set, id);
        id
    }
}

impl TermTracker {
    fn new(program: &Program, set: &TermSet, mode: MatchMode) -> TermTracker {
        let mut term_chars: Vec<char> = set.terms().flat_map(str::chars).collect();
        term_chars.sort_unstable();
        term_chars.dedup();
        TermTracker {
            trie: TrieBuf::new(set),
            max_edits: u8::from(mode == MatchMode::Fuzzy),
            exact: mode == MatchMode::Exact,
            normalization: set.normalization.clone(),
            folds: program.case_folds.clone(),
            term_chars,
            deleted: set
                .normalization
                .steps
                .iter()
                .filter_map(|s| match s {
                    NormStep::Delete(r) => Some(r.clone()),
                    _ => None,
                })
                .collect(),
            interned: RefCell::new(Interner::default()),
        }
    }

    /// What `c` is to the terms, as a kind: its normalized form if a term uses it,
    /// [`DELETED`] if the normalization deletes it, [`OTHER`] otherwise (all such characters
    /// behave alike).
    pub(super) fn image(&self, c: char) -> u32 {
        match normalize_char(&self.normalization, Folding::new(&self.folds), c) {
            None => DELETED,
            Some(n) if self.term_chars.binary_search(&n).is_ok() => n as u32,
            Some(_) => OTHER,
        }
    }

    /// Characters whose normalized form differs from them, or that terms use: each may behave
    /// unlike its neighbours (deleted ranges are refined as sets).
    pub(super) fn special_chars(&self) -> impl Iterator<Item = u32> + '_ {
        let folds = self.normalization.folds_case();
        let folded = folds.then_some(&self.folds).into_iter().flatten();
        let upper = folds.then_some(u32::from(b'A')..=u32::from(b'Z'));
        let substituted = self.normalization.steps.iter().flat_map(|s| match s {
            NormStep::Substitute(map) => map.as_slice(),
            _ => &[],
        });
        folded
            .map(|f| f.0)
            .chain(upper.into_iter().flatten())
            .chain(substituted.map(|m| m.0 as u32))
            .chain(self.term_chars.iter().map(|&c| c as u32))
    }

    fn start(&self) -> u32 {
        if self.exact {
            // Exact mode: the trie node plus one, 0 once off the trie.
            1
        } else {
            self.interned.borrow_mut().id(Vec::new())
        }
    }

    fn step(&self, state: u32, c: char) -> u32 {
        // A deleted character is not there for the terms.
        let Some(image) = normalize_char(&self.normalization, Folding::new(&self.folds), c) else {
            return state;
        };
        let mut buf = [0; 4];
        let bytes = image.encode_utf8(&mut buf).as_bytes();
        if self.exact {
            return state
                .checked_sub(1)
                .and_then(|node| self.trie.view().walk(node, bytes))
                .map_or(0, |n| n + 1);
        }
        let mut interned = self.interned.borrow_mut();
        if let Some(&next) = interned.steps.get(&(state, image)) {
            return next;
        }
        let mut alive = interned.sets.get(state as usize).cloned().unwrap_or_default();
        alive.push((0, 0));
        self.close(&mut alive);
        let mut next = Vec::with_capacity(alive.len() * 2);
        for &(node, edits) in &alive {
            if let Some(n) = self.trie.view().walk(node, bytes) {
                next.push((n, edits));
            }
            if edits < self.max_edits {
                // Insertion: the password has an extra character here.
                next.push((node, edits + 1));
                // Substitution: one character differs.
                self.trie.view().each_char_child(node, &mut |child| next.push((child, edits + 1)));
            }
        }
        self.close(&mut next);
        let found = next.iter().any(|&(node, edits)| {
            node != 0
                && self
                    .trie
                    .view()
                    .term_at(node)
                    .is_some_and(|t| edits == 0 || self.trie.view().fuzzy_allowed(t))
        });
        let next = if found { DECIDED } else { interned.id(next) };
        interned.steps.insert((state, image), next);
        next
    }

    /// Adds deletions (the term has an extra character) and puts the set in canonical order.
    fn close(&self, set: &mut Vec<(u32, u8)>) {
        if self.max_edits > 0 {
            let mut deleted = Vec::new();
            for &(node, edits) in set.iter() {
                if edits < self.max_edits {
                    self.trie
                        .view()
                        .each_char_child(node, &mut |child| deleted.push((child, edits + 1)));
                }
            }
            set.extend(deleted);
        }
        set.sort_unstable();
        set.dedup();
    }

    fn passes(&self, state: u32) -> bool {
        if self.exact {
            return state
                .checked_sub(1)
                .is_none_or(|node| self.trie.view().term_at(node).is_none());
        }
        state & DECIDED == 0
    }
}
