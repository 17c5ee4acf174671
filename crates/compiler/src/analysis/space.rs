//! The product state space of one or two policies, and the breadth-first search over it.
//!
//! A password's standing under the class-fragment rules (length, `only`, `no`, `at least N
//! of`, `count`) depends only on its length, which classes it touches, which classes hold all
//! its characters, and (capped) per-class counts. Every other rule under study adds a
//! [`Tracker`]: a regex's DFA state, a run length, a set of partial banned-term matches. The
//! search explores that finite product breadth first, one letter of the [`Alphabet`] at a time,
//! so the first goal state it reaches is a shortest witness, and running out of states proves
//! there is none.

use super::alphabet::{Alphabet, RangeSet, member};
use super::tracker::Tracker;
use policyc_runtime::Context;
use policyc_runtime::ir::{Bounds, ClassId, Condition, Predicate, Program, Rule, Severity};
use policyc_runtime::runtime::fold::Folding;
use rustc_hash::FxHashMap;
use smallvec::SmallVec;
use std::cell::RefCell;
use std::collections::HashSet;
use std::time::Instant;

/// Whether a rule is decided by the class state alone.
pub(super) fn in_fragment(rule: &Rule) -> bool {
    matches!(
        rule.predicate,
        Predicate::Length(_)
            | Predicate::Only(_)
            | Predicate::NoneOf(_)
            | Predicate::AtLeastOf { .. }
            | Predicate::Count { .. }
    )
}

/// A rule of one of the space's programs: `(program, index in its rules)`.
pub(super) type RuleRef = (usize, usize);

/// The enforced rules of `program`, as the space's program number `p`.
pub(super) fn enforced(program: &Program, p: usize) -> impl Iterator<Item = RuleRef> + '_ {
    program
        .rules
        .iter()
        .enumerate()
        .filter(|(_, r)| r.severity == Severity::Enforce)
        .map(move |(i, _)| (p, i))
}

/// The joint view of one or more programs and the automata of the rules under study.
pub(super) struct Space<'p> {
    programs: Vec<&'p Program>,
    /// Per program, its class ids mapped to joint bits.
    bits: Vec<Vec<u32>>,
    /// The joint classes, by bit.
    classes: Vec<&'p [(u32, u32)]>,
    /// The letters, each with its class signature.
    letters: Vec<(char, u64)>,
    /// Joint bits that some count rule counts, with the cap (largest bound + 1).
    counted: Vec<(u32, u32)>,
    /// Longest length worth distinguishing (largest bound + 1).
    length_cap: u32,
    trackers: Vec<Tracker>,
    /// Which tracker decides a rule.
    tracked: FxHashMap<RuleRef, usize>,
    /// Whether states remember the last character (a repeat or sequence rule is tracked).
    runs: bool,
    /// With runs: how far on each side of the last character its neighbours' kinds matter.
    horizon: u32,
    /// The sets the alphabet refines (classes, then the trackers' own).
    sets: Vec<RangeSet>,
    /// Neighbourhoods of characters, interned: the vector of kinds, and each character's id.
    neighbourhoods: RefCell<Interned>,
    /// Whether passwords are built from ASCII characters only.
    ascii: bool,
}

/// Interned neighbourhoods (see [`Space::neighbourhood`]).
#[derive(Default)]
struct Interned {
    ids: FxHashMap<Vec<Vec<u32>>, u32>,
    of_char: FxHashMap<char, u32>,
}

/// A product state: what the rules under study can observe of a password.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(super) struct State {
    len: u32,
    seen: u64,
    every: u64,
    /// Inline (no heap) for the usual few count rules and trackers: states are compared on
    /// every step of the search, and chasing a pointer per comparison is what it cost most.
    counts: SmallVec<[u32; 4]>,
    trackers: SmallVec<[u32; 4]>,
    /// With runs: the last character's neighbourhood (its kind and its neighbours' within the
    /// horizon), interned. Characters with equal neighbourhoods have equal futures, so the
    /// state space stays finite.
    near: u32,
}

impl Clone for State {
    /// Copies the inline words (the derived clone goes element by element).
    fn clone(&self) -> State {
        State {
            counts: SmallVec::from_slice(&self.counts),
            trackers: SmallVec::from_slice(&self.trackers),
            ..*self
        }
    }
}

/// How a search ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Outcome {
    /// A shortest password reaching the goal, confirmed.
    Found(String),
    /// No password reaches the goal (proved).
    None,
    /// Goal states exist, but no password reaching them was confirmed (rules outside the
    /// search refused them all).
    Unconfirmed,
    /// The state or time budget ran out first.
    Exhausted,
}

impl<'p> Space<'p> {
    /// The joint space of `programs` (one for a single policy's analysis, two for a diff, any
    /// number for a conflict), with trackers for the listed rules outside the class fragment
    /// that an automaton decides.
    pub(super) fn new(programs: &[&'p Program], study: &[RuleRef], ctx: &Context) -> Space<'p> {
        let programs = programs.to_vec();
        let mut classes: Vec<&'p [(u32, u32)]> = Vec::new();
        let mut bits = vec![Vec::new(); programs.len()];
        for (i, p) in programs.iter().enumerate() {
            for c in &p.classes {
                let bit = match classes.iter().position(|r| *r == c.ranges.as_slice()) {
                    Some(j) => j,
                    None => {
                        classes.push(&c.ranges);
                        classes.len() - 1
                    }
                };
                if let Some(b) = bits.get_mut(i) {
                    b.push(bit as u32);
                }
            }
        }
        classes.truncate(64);
        let mut trackers = Vec::new();
        let mut tracked = FxHashMap::default();
        for &(p, i) in study {
            let Some(rule) = programs.get(p).and_then(|prog| prog.rules.get(i)) else { continue };
            if let Some(t) = programs.get(p).and_then(|prog| Tracker::for_rule(prog, rule, ctx)) {
                tracked.insert((p, i), trackers.len());
                trackers.push(t);
            }
        }
        let runs = trackers.iter().any(Tracker::needs_runs);
        let horizon = trackers.iter().map(Tracker::horizon).max().unwrap_or(0);
        let sets: Vec<RangeSet> = classes
            .iter()
            .map(|c| c.to_vec())
            .chain(trackers.iter().flat_map(|t| t.sets().iter().cloned()))
            .collect();
        let letters = {
            let slices: Vec<&[(u32, u32)]> = sets.iter().map(RangeSet::as_slice).collect();
            let special =
                trackers.iter().filter_map(Tracker::terms).flat_map(|t| t.special_chars());
            Alphabet::new(&slices, special, &|c| kind(&sets, &trackers, c), runs).letters
        };
        let letters = letters.into_iter().map(|c| (c, signature(&classes, c))).collect();
        let mut counted: Vec<(u32, u32)> = Vec::new();
        let mut length_cap = 0;
        for (i, p) in programs.iter().enumerate() {
            for r in &p.rules {
                let bound = |bd: &Bounds| bd.max.map_or(bd.min, |m| m.max(bd.min)) + 1;
                for c in &r.conditions {
                    if let Condition::Length(bd) = c {
                        length_cap = length_cap.max(bound(bd));
                    }
                }
                match &r.predicate {
                    Predicate::Length(bd) => length_cap = length_cap.max(bound(bd)),
                    Predicate::Count { class, bounds } => {
                        let bit = bits.get(i).and_then(|b| b.get(class.0 as usize));
                        let bit = bit.copied().unwrap_or(0);
                        let cap = bound(bounds);
                        match counted.iter_mut().find(|c| c.0 == bit) {
                            Some(c) => c.1 = c.1.max(cap),
                            None => counted.push((bit, cap)),
                        }
                    }
                    _ => {}
                }
            }
        }
        Space {
            programs,
            bits,
            classes,
            letters,
            counted,
            length_cap: length_cap.max(1),
            trackers,
            tracked,
            runs,
            horizon,
            sets,
            neighbourhoods: RefCell::new(Interned::default()),
            ascii: false,
        }
    }

    /// The same space with passwords of ASCII characters only: where a witness needs a
    /// non-ASCII character, whether plain ASCII passwords break the rule too is a distinct
    /// cause worth its own example.
    pub(super) fn ascii_only(mut self) -> Space<'p> {
        self.letters.retain(|(c, _)| c.is_ascii());
        // A kind's representative may have been non-ASCII: give every kind that has ASCII
        // members one of them, visible characters and the tab first.
        let mut kinds: HashSet<Vec<u32>> =
            self.letters.iter().map(|&(c, _)| kind(&self.sets, &self.trackers, c)).collect();
        let ascii = (' '..='~').chain(['\t']).chain((0..0x80u8).map(char::from));
        for c in ascii {
            if kinds.insert(kind(&self.sets, &self.trackers, c)) {
                self.letters.push((c, signature(&self.classes, c)));
            }
        }
        self.ascii = true;
        self
    }

    /// The interned kinds of `c` and of its neighbours within the horizon.
    fn neighbourhood(&self, c: char) -> u32 {
        let mut interned = self.neighbourhoods.borrow_mut();
        if let Some(&id) = interned.of_char.get(&c) {
            return id;
        }
        let (h, n) = (self.horizon, c as u32);
        let kinds: Vec<Vec<u32>> = (n.saturating_sub(h)..=n.saturating_add(h))
            .map(|n| {
                char::from_u32(n).map(|n| kind(&self.sets, &self.trackers, n)).unwrap_or_default()
            })
            .collect();
        let next = interned.ids.len() as u32 + 1;
        let id = *interned.ids.entry(kinds).or_insert(next);
        interned.of_char.insert(c, id);
        id
    }

    /// Whether the rule is decided exactly in this space.
    pub(super) fn decides(&self, rule: RuleRef) -> bool {
        self.tracked.contains_key(&rule)
            || self.programs.get(rule.0).and_then(|p| p.rules.get(rule.1)).is_some_and(in_fragment)
    }

    fn bit(&self, program: usize, class: ClassId) -> u64 {
        let bit = self.bits.get(program).and_then(|b| b.get(class.0 as usize));
        bit.map_or(0, |&b| 1u64.checked_shl(b).unwrap_or(0))
    }

    /// Whether rule `i` of program `p` passes in state `s`; rules the space does not decide
    /// pass (leaving them out only widens a search, so a proof stays a proof).
    pub(super) fn passes(&self, (p, i): RuleRef, s: &State, ctx: &Context) -> bool {
        let Some(rule) = self.programs.get(p).and_then(|prog| prog.rules.get(i)) else {
            return true;
        };
        let applies = rule.conditions.iter().all(|c| match c {
            Condition::Length(b) => b.contains(s.len),
            Condition::Has { attribute, value } | Condition::Lacks { attribute, value } => {
                let has = self
                    .programs
                    .get(p)
                    .is_some_and(|prog| ctx.has(Folding::new(&prog.case_folds), *attribute, value));
                has == matches!(c, Condition::Has { .. })
            }
        });
        if !applies {
            return true;
        }
        if let Some(&t) = self.tracked.get(&(p, i)) {
            return match (self.trackers.get(t), s.trackers.get(t)) {
                (Some(tracker), Some(&state)) => tracker.passes(state),
                _ => true,
            };
        }
        match &rule.predicate {
            Predicate::Length(b) => b.contains(s.len),
            Predicate::Only(c) => s.len == 0 || s.every & self.bit(p, *c) != 0,
            Predicate::NoneOf(c) => s.seen & self.bit(p, *c) == 0,
            Predicate::AtLeastOf { n, classes } => {
                classes.iter().filter(|c| s.seen & self.bit(p, **c) != 0).count() >= *n as usize
            }
            Predicate::Count { class, bounds } => {
                let bit = self.bits.get(p).and_then(|b| b.get(class.0 as usize));
                let bit = bit.copied().unwrap_or(0);
                let i = self.counted.iter().position(|c| c.0 == bit).unwrap_or(0);
                bounds.contains(s.counts.get(i).copied().unwrap_or(0))
            }
            _ => true,
        }
    }

    /// The enforced rules of program `p`.
    pub(super) fn enforced(&self, p: usize) -> impl Iterator<Item = RuleRef> + '_ {
        self.programs.get(p).into_iter().flat_map(move |prog| enforced(prog, p))
    }

    /// Whether every enforced rule of program `p` that the space decides passes.
    pub(super) fn accepts(&self, p: usize, s: &State, ctx: &Context) -> bool {
        self.enforced(p).all(|r| self.passes(r, s, ctx))
    }

    fn start(&self) -> State {
        State {
            len: 0,
            seen: 0,
            every: u64::MAX,
            counts: smallvec::smallvec![0; self.counted.len()],
            trackers: self.trackers.iter().map(Tracker::start).collect(),
            near: 0,
        }
    }

    /// The state after `c`, which follows `prev`.
    fn step(&self, s: &State, prev: Option<char>, c: char, sig: u64) -> State {
        let mut counts: SmallVec<[u32; 4]> = SmallVec::from_slice(&s.counts);
        for (i, (bit, cap)) in self.counted.iter().enumerate() {
            if sig & (1u64 << bit) != 0
                && let Some(n) = counts.get_mut(i)
            {
                *n = (*n + 1).min(*cap);
            }
        }
        let trackers =
            self.trackers.iter().zip(&s.trackers).map(|(t, &st)| t.step(st, prev, c)).collect();
        State {
            len: (s.len + 1).min(self.length_cap),
            seen: s.seen | sig,
            every: s.every & sig,
            counts,
            trackers,
            near: if self.runs { self.neighbourhood(c) } else { 0 },
        }
    }

    /// The characters to try after `prev`: the letters, and with runs the last character and
    /// its two neighbours (to repeat it or continue a sequence).
    fn moves(&self, prev: Option<char>) -> Vec<(char, u64)> {
        let mut moves = Vec::with_capacity(self.letters.len() + 3);
        if self.runs
            && let Some(last) = prev
        {
            let l = last as u32;
            // Runs first, rising first, so that witnesses read `abc` and `aaa`.
            for c in [l.checked_add(1), Some(l), l.checked_sub(1)].into_iter().flatten() {
                if let Some(c) = char::from_u32(c).filter(|c| !self.ascii || c.is_ascii()) {
                    moves.push((c, signature(&self.classes, c)));
                }
            }
        }
        let runs = moves.len();
        for &l in &self.letters {
            if !moves.get(..runs).is_some_and(|r| r.iter().any(|m| m.0 == l.0)) {
                moves.push(l);
            }
        }
        moves
    }
}

/// A breadth-first exploration of a space, grown only as far as the questions asked of it
/// need, and shared by all of them: states are kept in the order found, so the first state
/// that meets a goal is a shortest witness.
pub(super) struct Search<'s, 'p> {
    space: &'s Space<'p>,
    states: Vec<State>,
    /// How each state was first reached: from which state, by which character.
    parent: Vec<Option<(usize, char)>>,
    index: FxHashMap<State, usize>,
    /// States whose successors have been generated.
    expanded: usize,
    /// Most states to hold.
    limit: usize,
    /// The state limit was reached: later states are missing.
    truncated: bool,
}

impl<'s, 'p> Search<'s, 'p> {
    /// A search of `space` holding at most `limit` states.
    pub(super) fn new(space: &'s Space<'p>, limit: usize) -> Search<'s, 'p> {
        let start = space.start();
        Search {
            space,
            states: vec![start.clone()],
            parent: vec![None],
            index: FxHashMap::from_iter([(start, 0)]),
            expanded: 0,
            limit,
            truncated: false,
        }
    }

    /// The space searched.
    pub(super) fn space(&self) -> &'s Space<'p> {
        self.space
    }

    /// Generates the successors of the next unexpanded state; false when there is none.
    fn expand(&mut self) -> bool {
        let here = self.expanded;
        let Some(s) = self.states.get(here).cloned() else { return false };
        self.expanded += 1;
        let space = self.space;
        // Past the longest length any rule tells apart the length stays capped, but a longer
        // password can still touch more classes: keep stepping (the state space stays finite).
        let prev = self.parent.get(here).copied().flatten().map(|p| p.1);
        for (c, sig) in space.moves(prev) {
            let t = space.step(&s, prev, c, sig);
            if !self.index.contains_key(&t) {
                if self.states.len() >= self.limit {
                    self.truncated = true;
                    return true;
                }
                self.index.insert(t.clone(), self.states.len());
                self.states.push(t);
                self.parent.push(Some((here, c)));
            }
        }
        true
    }

    fn password(&self, mut at: usize) -> String {
        let mut chars = Vec::new();
        while let Some(Some((p, c))) = self.parent.get(at) {
            chars.push(*c);
            at = *p;
        }
        chars.into_iter().rev().collect()
    }

    /// Whether some password reaches `goal`: `Some(false)` proves that none does, `None` means
    /// the budget ran out first.
    pub(super) fn exists(&mut self, goal: &dyn Fn(&State) -> bool) -> Option<bool> {
        match self.find(goal, None, usize::MAX, &mut |_| true) {
            Outcome::Found(_) => Some(true),
            Outcome::None => Some(false),
            Outcome::Unconfirmed | Outcome::Exhausted => None,
        }
    }

    /// If no password passes all of `rules` (proved), the rules that conflict: a minimal set of
    /// them that no password passes together, so that dropping any one of them lets some
    /// password pass (rules are let go in order, keeping each one the conflict needs). `None`
    /// when some password passes them all, or the budget ran out first.
    pub(super) fn conflict(&mut self, rules: &[RuleRef], ctx: &Context) -> Option<Vec<RuleRef>> {
        let space = self.space;
        let all_pass = |of: &[RuleRef], s: &State| of.iter().all(|&r| space.passes(r, s, ctx));
        if self.exists(&|s| all_pass(rules, s)) != Some(false) {
            return None;
        }
        let mut core = rules.to_vec();
        let mut i = 0;
        while i < core.len() {
            let mut without = core.clone();
            without.remove(i);
            if self.exists(&|s| all_pass(&without, s)) == Some(false) {
                core = without;
            } else {
                i += 1;
            }
        }
        Some(core)
    }

    /// The shortest password whose end state satisfies `goal` and that `confirm` accepts,
    /// growing the search to at most `grow_to` states (and the search's own limit). The
    /// deadline bounds growing the search, not scanning the states already found, so a second
    /// question after a first ran out of time still gets the answers those states hold.
    pub(super) fn find(
        &mut self,
        goal: &dyn Fn(&State) -> bool,
        deadline: Option<Instant>,
        grow_to: usize,
        confirm: &mut dyn FnMut(&str) -> bool,
    ) -> Outcome {
        let mut tries = 0;
        let mut i = 0;
        loop {
            while i >= self.states.len() {
                let late = self.expanded % 64 == 63 && deadline.is_some_and(|d| Instant::now() > d);
                if late || self.states.len() >= grow_to {
                    return Outcome::Exhausted;
                }
                if self.truncated || !self.expand() {
                    return match (tries, self.truncated) {
                        (0, false) => Outcome::None,
                        (0, true) => Outcome::Exhausted,
                        _ => Outcome::Unconfirmed,
                    };
                }
            }
            if self.states.get(i).is_some_and(goal) {
                if confirm(&self.password(i)) {
                    return Outcome::Found(self.password(i));
                }
                tries += 1;
                if tries > 64 {
                    return Outcome::Unconfirmed;
                }
            }
            i += 1;
        }
    }
}

/// The joint classes holding `c`, as bits.
fn signature(classes: &[&[(u32, u32)]], c: char) -> u64 {
    classes.iter().enumerate().filter(|(_, r)| member(r, c as u32)).fold(0, |m, (i, _)| m | 1 << i)
}

/// What the rules under study see of a character: its membership in every set, and what it
/// becomes for each banned-term list. Characters of equal kind are interchangeable.
fn kind(sets: &[RangeSet], trackers: &[Tracker], c: char) -> Vec<u32> {
    let mut k = vec![0u32; sets.len().div_ceil(32)];
    for (i, s) in sets.iter().enumerate() {
        if member(s, c as u32)
            && let Some(w) = k.get_mut(i / 32)
        {
            *w |= 1 << (i % 32);
        }
    }
    k.extend(trackers.iter().filter_map(Tracker::terms).map(|t| t.image(c)));
    k
}
