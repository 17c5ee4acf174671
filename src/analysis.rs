//! `diff`: what one policy accepts that another refuses, with witness passwords.
//!
//! The search is exact over the *class fragment* of the language: length, `only`, `no`,
//! `at least N of`, `count`, with `when` conditions on length and on the given user's
//! attributes. A password's standing under those rules depends only on its length, which
//! classes it touches, which classes hold all its characters, and (capped) per-class counts. The
//! search explores that finite product state space breadth first, one character *signature* (a
//! set of characters no rule tells apart) at a time, so the first witness it finds is a shortest
//! one, and when it finds none the inclusion is proved for those rules.
//!
//! Rules outside the fragment (regular expressions, repeats, sequences, attribute containment,
//! banned terms, strength) are handled soundly: those of the accepting policy are checked on each
//! witness by its validator (dropping them only widens the search, so a proof stays a proof),
//! and those of the refusing policy are probed by sampling passwords the first policy accepts;
//! the report says which rules were proved and which were sampled. Every witness is confirmed by
//! running both validators.

use crate::generate::{GenerateOptions, Seeded, generate};
use crate::ir::{Bounds, ClassId, Condition, Predicate, Program, Rule, Severity};
use crate::{Context, Validator};
use serde::Serialize;
use std::collections::HashMap;

/// Limits for one direction of a diff.
#[derive(Debug, Clone, Copy)]
pub struct DiffLimits {
    /// Most product states explored per rule.
    pub states: usize,
    /// Passwords sampled for rules outside the class fragment.
    pub samples: usize,
}

impl Default for DiffLimits {
    fn default() -> DiffLimits {
        DiffLimits { states: 2_000_000, samples: 3_000 }
    }
}

/// How a witness was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// Exhaustive search of the class fragment (shortest witness).
    Search,
    /// Random passwords the first policy accepts.
    Sampling,
    /// A password the first policy accepts with the user's attribute or a banned term inserted.
    Construction,
}

/// A password the first policy accepts and the second refuses, because of `rule`.
#[derive(Debug, Clone, Serialize)]
pub struct Witness {
    /// The rule of the second policy it breaks.
    pub rule: String,
    /// That rule's message.
    pub message: String,
    /// The password.
    pub password: String,
    /// How it was found.
    pub method: Method,
}

/// One direction: what `from` accepts that `to` refuses.
#[derive(Debug, Clone, Serialize)]
pub struct Direction {
    /// The accepting policy.
    pub from: String,
    /// The refusing policy.
    pub to: String,
    /// Witnesses, one per rule of `to` that can be broken.
    pub witnesses: Vec<Witness>,
    /// Rules of `to` proved never to refuse a password `from` accepts.
    pub proved: Vec<String>,
    /// Rules of `to` outside the class fragment, probed by sampling only, with no witness found.
    pub sampled: Vec<String>,
    /// Rules whose search ran out of its state budget.
    pub exhausted: Vec<String>,
}

impl Direction {
    /// Every password `from` accepts, `to` accepts too, and that is proved.
    pub fn proved_inclusion(&self) -> bool {
        self.witnesses.is_empty() && self.sampled.is_empty() && self.exhausted.is_empty()
    }
}

/// Both directions of a diff.
pub fn diff(a: &Validator, b: &Validator, ctx: &Context, limits: DiffLimits) -> [Direction; 2] {
    [direction(a, b, ctx, limits), direction(b, a, ctx, limits)]
}

/// Whether a rule is decided by the class fragment.
fn in_fragment(rule: &Rule) -> bool {
    matches!(
        rule.predicate,
        Predicate::Length(_)
            | Predicate::Only(_)
            | Predicate::NoneOf(_)
            | Predicate::AtLeastOf { .. }
            | Predicate::Count { .. }
    )
}

/// The joint view of two programs: their classes, and the character signatures.
struct Space<'p> {
    programs: [&'p Program; 2],
    /// Per program, its class ids mapped to joint bits.
    bits: [Vec<u32>; 2],
    /// Distinct signatures (joint class bitmasks) and a representative character each.
    signatures: Vec<(u64, char)>,
    /// Joint bits that some count rule counts, with the cap (largest bound + 1).
    counted: Vec<(u32, u32)>,
    /// Longest length worth distinguishing (largest bound + 1).
    length_cap: u32,
}

/// A product state: what the class fragment can observe of a password.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct State {
    len: u32,
    seen: u64,
    every: u64,
    counts: Vec<u32>,
}

/// Preferred representatives: readable characters first.
const NICE: &str = "aA1!bB2?cC3#xX9@ -_.éÉß€日Ωж\t";

impl<'p> Space<'p> {
    fn new(a: &'p Program, b: &'p Program) -> Space<'p> {
        let mut classes: Vec<&[(u32, u32)]> = Vec::new();
        let mut bits = [Vec::new(), Vec::new()];
        for (i, p) in [a, b].iter().enumerate() {
            for c in &p.classes {
                let bit = match classes.iter().position(|r| *r == c.ranges.as_slice()) {
                    Some(j) => j,
                    None => {
                        classes.push(&c.ranges);
                        classes.len() - 1
                    }
                };
                bits[i].push(bit as u32);
            }
        }
        let classes: Vec<&[(u32, u32)]> = classes.into_iter().take(64).collect();
        let sig = |c: u32| -> u64 {
            classes
                .iter()
                .enumerate()
                .filter(|(_, r)| r.iter().any(|&(lo, hi)| lo <= c && c <= hi))
                .fold(0, |m, (i, _)| m | 1 << i)
        };
        // Elementary intervals between all range boundaries have constant signatures.
        let mut cuts: Vec<u32> = vec![0, 0xD800, 0xE000, 0x11_0000];
        for r in &classes {
            for &(lo, hi) in r.iter() {
                cuts.push(lo);
                cuts.push(hi + 1);
            }
        }
        cuts.sort_unstable();
        cuts.dedup();
        let mut signatures: Vec<(u64, char)> = Vec::new();
        for c in NICE.chars() {
            let s = sig(c as u32);
            if !signatures.iter().any(|x| x.0 == s) {
                signatures.push((s, c));
            }
        }
        for w in cuts.windows(2) {
            let Some(c) = char::from_u32(w[0]) else { continue };
            let s = sig(c as u32);
            if !signatures.iter().any(|x| x.0 == s) {
                // A visible character of that signature if there is one nearby, else the first.
                let nice = (w[0]..w[1].min(w[0] + 256))
                    .filter_map(char::from_u32)
                    .find(|c| !c.is_control())
                    .unwrap_or(c);
                signatures.push((s, nice));
            }
        }
        let mut counted: Vec<(u32, u32)> = Vec::new();
        let mut length_cap = 0;
        for (i, p) in [a, b].iter().enumerate() {
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
                        let bit = bits[i].get(class.0 as usize).copied().unwrap_or(0);
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
        Space { programs: [a, b], bits, signatures, counted, length_cap: length_cap.max(1) }
    }

    fn bit(&self, program: usize, class: ClassId) -> u64 {
        self.bits[program].get(class.0 as usize).map_or(0, |&b| 1u64.checked_shl(b).unwrap_or(0))
    }

    /// Whether a fragment rule of program `p` passes in state `s` (rules outside: pass).
    fn passes(&self, p: usize, rule: &Rule, s: &State, ctx: &Context) -> bool {
        let applies = rule.conditions.iter().all(|c| match c {
            Condition::Length(b) => b.contains(s.len),
            Condition::Has { attribute, value } => {
                ctx.get(*attribute).iter().any(|v| v.to_lowercase() == value.to_lowercase())
            }
        });
        if !applies {
            return true;
        }
        match &rule.predicate {
            Predicate::Length(b) => b.contains(s.len),
            Predicate::Only(c) => s.len == 0 || s.every & self.bit(p, *c) != 0,
            Predicate::NoneOf(c) => s.seen & self.bit(p, *c) == 0,
            Predicate::AtLeastOf { n, classes } => {
                classes.iter().filter(|c| s.seen & self.bit(p, **c) != 0).count() >= *n as usize
            }
            Predicate::Count { class, bounds } => {
                let bit = self.bits[p].get(class.0 as usize).copied().unwrap_or(0);
                let i = self.counted.iter().position(|c| c.0 == bit).unwrap_or(0);
                bounds.contains(s.counts.get(i).copied().unwrap_or(0))
            }
            _ => true,
        }
    }

    fn accepts(&self, p: usize, s: &State, ctx: &Context) -> bool {
        self.programs[p]
            .rules
            .iter()
            .filter(|r| r.severity == Severity::Enforce && in_fragment(r))
            .all(|r| self.passes(p, r, s, ctx))
    }

    fn step(&self, s: &State, sig: u64) -> State {
        let mut counts = s.counts.clone();
        for (i, (bit, cap)) in self.counted.iter().enumerate() {
            if sig & (1u64 << bit) != 0
                && let Some(c) = counts.get_mut(i)
            {
                *c = (*c + 1).min(*cap);
            }
        }
        State {
            len: (s.len + 1).min(self.length_cap),
            seen: s.seen | sig,
            every: s.every & sig,
            counts,
        }
    }
}

/// Breadth-first search for the shortest password whose end state satisfies `goal` and that
/// `confirm` accepts. `Err(())` when the state budget ran out.
fn search(
    space: &Space<'_>,
    goal: &dyn Fn(&State) -> bool,
    limit: usize,
    confirm: &mut dyn FnMut(&str) -> bool,
) -> Result<Option<String>, ()> {
    let start = State { len: 0, seen: 0, every: u64::MAX, counts: vec![0; space.counted.len()] };
    let mut states = vec![start.clone()];
    let mut parent: Vec<Option<(usize, char)>> = vec![None];
    let mut index: HashMap<State, usize> = HashMap::from([(start, 0)]);
    let mut next = 0;
    let mut tries = 0;
    while let Some(s) = states.get(next).cloned() {
        let here = next;
        next += 1;
        if goal(&s) {
            let mut chars = Vec::new();
            let mut at = here;
            while let Some(Some((p, c))) = parent.get(at) {
                chars.push(*c);
                at = *p;
            }
            let password: String = chars.into_iter().rev().collect();
            if confirm(&password) {
                return Ok(Some(password));
            }
            tries += 1;
            if tries > 64 {
                return Ok(None);
            }
        }
        if s.len >= space.length_cap {
            continue;
        }
        for &(sig, c) in &space.signatures {
            let t = space.step(&s, sig);
            if !index.contains_key(&t) {
                if states.len() >= limit {
                    return Err(());
                }
                index.insert(t.clone(), states.len());
                states.push(t);
                parent.push(Some((here, c)));
            }
        }
    }
    Ok(None)
}

fn direction(a: &Validator, b: &Validator, ctx: &Context, limits: DiffLimits) -> Direction {
    let (pa, pb) = (a.program(), b.program());
    let space = Space::new(pa, pb);
    let mut out = Direction {
        from: pa.name.clone(),
        to: pb.name.clone(),
        witnesses: Vec::new(),
        proved: Vec::new(),
        sampled: Vec::new(),
        exhausted: Vec::new(),
    };
    let breaks = |password: &str, rule: &str| {
        a.check(password, ctx).is_compliant()
            && b.check(password, ctx).violations().iter().any(|v| v.rule == rule)
    };
    let mut outside = Vec::new();
    for rule in pb.rules.iter().filter(|r| r.severity == Severity::Enforce) {
        if !in_fragment(rule) {
            outside.push(rule);
            continue;
        }
        let mut confirm = |pw: &str| breaks(pw, rule.id.as_str());
        let goal = |s: &State| space.accepts(0, s, ctx) && !space.passes(1, rule, s, ctx);
        match search(&space, &goal, limits.states, &mut confirm) {
            Ok(Some(password)) => out.witnesses.push(Witness {
                rule: rule.id.to_string(),
                message: rule.message.clone(),
                password,
                method: Method::Search,
            }),
            Ok(None) => out.proved.push(rule.id.to_string()),
            Err(()) => out.exhausted.push(rule.id.to_string()),
        }
    }
    if !outside.is_empty() {
        let found = sample(a, b, ctx, &outside, limits.samples);
        for rule in outside {
            let witness = match found.get(rule.id.as_str()) {
                Some(password) => Some((password.clone(), Method::Sampling)),
                None => construct(a, pb, rule, ctx, &breaks).map(|p| (p, Method::Construction)),
            };
            match witness {
                Some((password, method)) => out.witnesses.push(Witness {
                    rule: rule.id.to_string(),
                    message: rule.message.clone(),
                    password,
                    method,
                }),
                None => out.sampled.push(rule.id.to_string()),
            }
        }
    }
    out
}

/// For containment and banned-term rules: a password `a` accepts, with one of the user's
/// attribute values (or tokens) or one of the rule's terms inserted, that breaks `rule`.
fn construct(
    a: &Validator,
    pb: &Program,
    rule: &Rule,
    ctx: &Context,
    breaks: &dyn Fn(&str, &str) -> bool,
) -> Option<String> {
    let needles: Vec<String> = match &rule.predicate {
        Predicate::NotContains(checks) => checks
            .iter()
            .flat_map(|c| {
                ctx.get(c.attribute).iter().flat_map(move |v| {
                    v.split(|ch| c.delimiters.contains(&ch)).map(str::to_string).collect::<Vec<_>>()
                })
            })
            .filter(|t| !t.is_empty())
            .collect(),
        Predicate::Avoid { set, .. } => pb
            .term_sets
            .get(*set as usize)
            .map(|s| s.terms().take(50).map(str::to_string).collect())
            .unwrap_or_default(),
        Predicate::EntraScore { sets, .. } => sets
            .iter()
            .filter_map(|i| pb.term_sets.get(*i as usize))
            .flat_map(|s| s.terms().take(50).map(str::to_string).collect::<Vec<_>>())
            .collect(),
        _ => return None,
    };
    let mut seeded = Seeded::new(0x9E37_79B9_7F4A_7C15);
    let mut random = |buf: &mut [u8]| seeded.fill(buf);
    for needle in needles {
        for length in [8, 12, 16] {
            let options = GenerateOptions { length: Some(length), count: 4, max_attempts: 500 };
            let Ok(bases) = generate(std::slice::from_ref(a), ctx, &options, &mut random) else {
                continue;
            };
            for base in bases {
                for candidate in [
                    format!("{needle}{}", base.as_str()),
                    format!("{}{needle}", base.as_str()),
                    needle.clone(),
                ] {
                    if breaks(&candidate, rule.id.as_str()) {
                        return Some(candidate);
                    }
                }
            }
        }
    }
    None
}

/// Samples passwords `a` accepts (lengths 8 to 40, a fixed seed so that reports reproduce)
/// and keeps, per rule of interest, the shortest one `b` refuses for it.
fn sample(
    a: &Validator,
    b: &Validator,
    ctx: &Context,
    rules: &[&Rule],
    samples: usize,
) -> HashMap<String, String> {
    let mut seeded = Seeded::new(0x2545_F491_4F6C_DD1D);
    let mut random = |buf: &mut [u8]| seeded.fill(buf);
    let mut found: HashMap<String, String> = HashMap::new();
    let per_length = samples / 33 + 1;
    for length in 8..=40 {
        let options =
            GenerateOptions { length: Some(length), count: per_length, max_attempts: 2_000 };
        let Ok(passwords) = generate(std::slice::from_ref(a), ctx, &options, &mut random) else {
            continue;
        };
        for pw in passwords {
            for v in b.check(&pw, ctx).violations() {
                if rules.iter().any(|r| r.id.as_str() == v.rule) {
                    found.entry(v.rule.to_string()).or_insert_with(|| pw.to_string());
                }
            }
        }
    }
    found
}

/// What the compile-time analysis found about one policy's class-fragment rules (indices into
/// the program's rules).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Finding {
    /// No password passes; removing any one of these rules would let some pass.
    Unsatisfiable(Vec<usize>),
    /// The rule can never fail.
    NeverFails(usize),
    /// The rule fails only when the other one fails too.
    Implied {
        /// The redundant rule.
        rule: usize,
        /// The rule that implies it.
        by: usize,
    },
}

/// Satisfiability, rules that can never fail, and rules implied by another, over the class
/// fragment (rules conditioned on user attributes are left out). Searches that run out of
/// budget report nothing.
pub(crate) fn analyze(program: &Program, limit: usize) -> Vec<Finding> {
    let space = Space::new(program, program);
    let ctx = Context::new();
    let analyzed: Vec<usize> = program
        .rules
        .iter()
        .enumerate()
        .filter(|(_, r)| {
            in_fragment(r) && r.conditions.iter().all(|c| matches!(c, Condition::Length(_)))
        })
        .map(|(i, _)| i)
        .collect();
    let rule = |i: usize| program.rules.get(i);
    let passes = |i: usize, s: &State| rule(i).is_none_or(|r| space.passes(0, r, s, &ctx));
    let enforce: Vec<usize> = analyzed
        .iter()
        .copied()
        .filter(|&i| rule(i).is_some_and(|r| r.severity == Severity::Enforce))
        .collect();
    let exists = |goal: &dyn Fn(&State) -> bool| {
        search(&space, goal, limit, &mut |_| true).map(|w| w.is_some())
    };
    let mut findings = Vec::new();
    if exists(&|s| enforce.iter().all(|&i| passes(i, s))) == Ok(false) {
        let culprits: Vec<usize> = enforce
            .iter()
            .copied()
            .filter(|&skip| {
                exists(&|s| enforce.iter().filter(|&&i| i != skip).all(|&i| passes(i, s)))
                    == Ok(true)
            })
            .collect();
        findings.push(Finding::Unsatisfiable(if culprits.is_empty() { enforce } else { culprits }));
        return findings;
    }
    let mut never = Vec::new();
    for &i in &analyzed {
        if exists(&|s| !passes(i, s)) == Ok(false) {
            never.push(i);
            findings.push(Finding::NeverFails(i));
        }
    }
    let unconditional: Vec<usize> = enforce
        .iter()
        .copied()
        .filter(|&i| !never.contains(&i) && rule(i).is_some_and(|r| r.conditions.is_empty()))
        .collect();
    for &r in &unconditional {
        for &by in &unconditional {
            if r == by {
                continue;
            }
            let implied = exists(&|s| passes(by, s) && !passes(r, s)) == Ok(false);
            // Equivalent rules: report only the later one.
            let equivalent = implied && exists(&|s| passes(r, s) && !passes(by, s)) == Ok(false);
            if implied && !(equivalent && r < by) {
                findings.push(Finding::Implied { rule: r, by });
                break;
            }
        }
    }
    findings
}
