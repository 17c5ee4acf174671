//! `diff`: what one policy accepts that another refuses, with witness passwords; and the
//! compile-time analysis of one policy (unsatisfiable, never failing and implied rules).
//!
//! Both search a product state space ([`space`]) breadth first: the class state of the
//! character-class rules, times one automaton ([`tracker`]) per other rule that a finite
//! automaton decides (regular expressions, repeats, sequences, containment of the given
//! user's attribute values, banned terms), over an alphabet ([`alphabet`]) that no rule tells
//! apart within a letter. The first goal state reached is a shortest witness; exhausting the
//! space proves there is none.
//!
//! Rules no automaton decides here (Entra's score, zxcvbn strength) are handled soundly: those
//! of the accepting policy are checked on each witness by its validator (leaving them out only
//! widens the search, so a proof stays a proof), and those of the refusing policy are probed by
//! sampling passwords the first policy accepts; the report says which rules were proved and
//! which were only sampled. Every witness is confirmed by running both validators.

mod alphabet;
mod findings;
pub mod generate;
mod space;
mod tracker;

pub use findings::conflict;
pub(crate) use findings::{Finding, analyze};

use generate::{GenerateOptions, Seeded, generate};
use policyc_runtime::ir::{
    Award, ClassId, Measure, Normalization, Predicate, Program, Rule, Severity,
};
use policyc_runtime::{Context, Validator};
use serde::Serialize;
use space::{Outcome, RuleRef, Search, Space, enforced};
use std::cell::OnceCell;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Limits for one direction of a diff.
#[derive(Debug, Clone, Copy)]
pub struct DiffLimits {
    /// Most product states explored per rule.
    pub states: usize,
    /// Longest search per rule.
    pub time: Duration,
    /// Passwords sampled for rules no automaton decides.
    pub samples: usize,
}

impl Default for DiffLimits {
    fn default() -> DiffLimits {
        DiffLimits { states: 2_000_000, time: Duration::from_secs(10), samples: 3_000 }
    }
}

/// How a witness was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// Exhaustive search of the product automaton (shortest witness).
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
    /// The other enforced rules of the second policy it breaks: empty when it shows `rule`
    /// alone. A searched witness breaks as few others as the search can manage.
    pub also_breaks: Vec<String>,
}

impl Witness {
    fn new(
        rule: &Rule,
        password: String,
        method: Method,
        refusing: &Validator,
        ctx: &Context,
    ) -> Witness {
        let also_breaks = refusing
            .check(&password, ctx)
            .violations()
            .iter()
            .filter(|v| v.severity() == Severity::Enforce && v.rule() != rule.id.as_str())
            .map(|v| v.rule().to_string())
            .collect();
        Witness {
            rule: rule.id.to_string(),
            message: rule.message.clone(),
            password,
            method,
            also_breaks,
        }
    }
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
    /// Rules of `to` no automaton decides, probed by sampling only, with no witness found.
    pub sampled: Vec<String>,
    /// Rules whose search ran out of its state or time budget.
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

fn direction(a: &Validator, b: &Validator, ctx: &Context, limits: DiffLimits) -> Direction {
    let (pa, pb) = (a.program(), b.program());
    let mut out = Direction {
        from: pa.name.clone(),
        to: pb.name.clone(),
        witnesses: Vec::new(),
        proved: Vec::new(),
        sampled: Vec::new(),
        exhausted: Vec::new(),
    };
    let witness = |rule: &Rule, password: String, method: Method| {
        Witness::new(rule, password, method, b, ctx)
    };
    let breaks = |password: &str, rule: &str| {
        a.check(password, ctx).is_compliant()
            && b.check(password, ctx).violations().iter().any(|v| v.rule() == rule)
    };
    // Banned-term lists multiply the state space by their trie, so they stay out of the search
    // shared by the other rules (the accepting policy's are left to confirmation there, which
    // only widens it); each of the refusing policy's gets, after a quick construction, a search
    // of its own with every rule of the accepting policy.
    let is_terms = |p: &Program, (_, i): RuleRef| {
        p.rules.get(i).is_some_and(|r| matches!(r.predicate, Predicate::Avoid { .. }))
    };
    let accepting: Vec<RuleRef> = enforced(pa, 0).collect();
    let study: Vec<RuleRef> = accepting
        .iter()
        .copied()
        .filter(|&r| !is_terms(pa, r))
        .chain(enforced(pb, 1).filter(|&r| !is_terms(pb, r)))
        .collect();
    let shared = Space::new(&[pa, pb], &study, ctx);
    let mut search = Search::new(&shared, limits.states);
    let ascii_space = OnceCell::new();
    let mut ascii_search = None;
    let mut outside = Vec::new();
    for (side, j) in enforced(pb, 1) {
        let Some(rule) = pb.rules.get(j) else { continue };
        if has_same_rule(pa, pb, rule) {
            out.proved.push(rule.id.to_string());
            continue;
        }
        let mut confirm = |pw: &str| breaks(pw, rule.id.as_str());
        let outcome = if is_terms(pb, (side, j)) {
            if let Some(password) = construct(a, pb, rule, ctx, &breaks) {
                out.witnesses.push(witness(rule, password, Method::Construction));
                continue;
            }
            let study: Vec<RuleRef> = accepting.iter().copied().chain([(side, j)]).collect();
            let own = Space::new(&[pa, pb], &study, ctx);
            refusal(&mut Search::new(&own, limits.states), (side, j), ctx, limits, &mut confirm)
        } else {
            refusal(&mut search, (side, j), ctx, limits, &mut confirm)
        };
        match outcome {
            Outcome::Found(password) => {
                let plain = password.is_ascii() || is_terms(pb, (side, j));
                out.witnesses.push(witness(rule, password, Method::Search));
                if !plain {
                    let space =
                        ascii_space.get_or_init(|| Space::new(&[pa, pb], &study, ctx).ascii_only());
                    let search =
                        ascii_search.get_or_insert_with(|| Search::new(space, limits.states));
                    let outcome = refusal(search, (side, j), ctx, limits, &mut confirm);
                    if let Outcome::Found(password) = outcome {
                        out.witnesses.push(witness(rule, password, Method::Search));
                    }
                }
            }
            Outcome::None => out.proved.push(rule.id.to_string()),
            Outcome::Unconfirmed => outside.push(rule),
            Outcome::Exhausted => out.exhausted.push(rule.id.to_string()),
        }
    }
    if !outside.is_empty() {
        let found = sample(a, b, ctx, &outside, limits.samples);
        for rule in outside {
            let found_one = match found.get(rule.id.as_str()) {
                Some(password) => Some((password.clone(), Method::Sampling)),
                None => construct(a, pb, rule, ctx, &breaks).map(|p| (p, Method::Construction)),
            };
            match found_one {
                Some((password, method)) => out.witnesses.push(witness(rule, password, method)),
                None => out.sampled.push(rule.id.to_string()),
            }
        }
    }
    out
}

/// Whether `a` enforces, unconditionally, the same check as `rule` of `b` (the same predicate,
/// on equal classes and term lists): then `rule` never refuses what `a` accepts, whatever the
/// size of the search it would take to prove it.
fn has_same_rule(a: &Program, b: &Program, rule: &Rule) -> bool {
    rule.conditions.is_empty()
        && a.rules.iter().any(|r| {
            r.severity == Severity::Enforce
                && r.conditions.is_empty()
                && same_check(a, &r.predicate, b, &rule.predicate)
        })
}

fn same_check(pa: &Program, x: &Predicate, pb: &Program, y: &Predicate) -> bool {
    fn class<'a>(p: &'a Program, c: &ClassId) -> Option<&'a [(u32, u32)]> {
        p.classes.get(c.0 as usize).map(|c| c.ranges.as_slice())
    }
    fn set<'a>(p: &'a Program, s: &u32) -> Option<(&'a Normalization, &'a str, &'a [u32])> {
        p.term_sets.get(*s as usize).map(|t| (&t.normalization, t.text.as_str(), t.ends.as_slice()))
    }
    let same_class = |c: &ClassId, d: &ClassId| class(pa, c) == class(pb, d);
    let same_classes = |cs: &[ClassId], ds: &[ClassId]| {
        cs.len() == ds.len() && cs.iter().zip(ds).all(|(c, d)| same_class(c, d))
    };
    let same_sets = |ss: &[u32], ts: &[u32]| {
        ss.len() == ts.len() && ss.iter().zip(ts).all(|(s, t)| set(pa, s) == set(pb, t))
    };
    match (x, y) {
        (Predicate::Only(c), Predicate::Only(d)) | (Predicate::NoneOf(c), Predicate::NoneOf(d)) => {
            same_class(c, d)
        }
        (Predicate::Count { class: c, bounds: m }, Predicate::Count { class: d, bounds: n }) => {
            m == n && same_class(c, d)
        }
        (Predicate::AtLeastOf { n, classes: cs }, Predicate::AtLeastOf { n: m, classes: ds }) => {
            n == m && same_classes(cs, ds)
        }
        (
            Predicate::Regex { pattern: p, negated: n, .. },
            Predicate::Regex { pattern: q, negated: m, .. },
        ) => p == q && n == m,
        (Predicate::Avoid { set: s, mode: m }, Predicate::Avoid { set: t, mode: n }) => {
            m == n && same_sets(&[*s], &[*t])
        }
        (
            Predicate::EntraScore { sets: ss, min_points: p },
            Predicate::EntraScore { sets: ts, min_points: q },
        ) => p == q && same_sets(ss, ts),
        (
            Predicate::CountExcept { class: c, bounds: m, edge: e },
            Predicate::CountExcept { class: d, bounds: n, edge: f },
        ) => m == n && e == f && same_class(c, d),
        (Predicate::Quorum { n, parts: ps }, Predicate::Quorum { n: m, parts: qs }) => {
            n == m
                && ps.len() == qs.len()
                && ps.iter().zip(qs).all(|(p, q)| same_check(pa, p, pb, q))
        }
        (Predicate::Points { min: m, awards: xs }, Predicate::Points { min: n, awards: ys }) => {
            m == n
                && xs.len() == ys.len()
                && xs.iter().zip(ys).all(|pair| match pair {
                    (
                        Award::Per { points: p, class: c, cap: k },
                        Award::Per { points: q, class: d, cap: l },
                    ) => {
                        p == q
                            && k == l
                            && match (c, d) {
                                (Some(c), Some(d)) => same_class(c, d),
                                (c, d) => c.is_none() && d.is_none(),
                            }
                    }
                    (
                        Award::PerUnit { points: p, class: c, cap: k, unit: u },
                        Award::PerUnit { points: q, class: d, cap: l, unit: v },
                    ) => {
                        p == q
                            && k == l
                            && u == v
                            && match (c, d) {
                                (Some(c), Some(d)) => same_class(c, d),
                                (c, d) => c.is_none() && d.is_none(),
                            }
                    }
                    (
                        Award::If { points: p, predicate: x },
                        Award::If { points: q, predicate: y },
                    ) => p == q && same_check(pa, x, pb, y),
                    _ => false,
                })
        }
        (
            Predicate::Measured { unit: u, measure: m },
            Predicate::Measured { unit: v, measure: n },
        ) => {
            u == v
                && match (m, n) {
                    (
                        Measure::Count { class: c, bounds: b },
                        Measure::Count { class: d, bounds: e },
                    ) => b == e && same_class(c, d),
                    (
                        Measure::MaxRun { class: c, max: a },
                        Measure::MaxRun { class: d, max: b },
                    ) => a == b && same_class(c, d),
                    (m, n) => m == n,
                }
        }
        (Predicate::Length(_), _)
        | (Predicate::LengthIn { .. }, _)
        | (Predicate::MaxRepeat(_), _)
        | (Predicate::MaxSequence(_), _)
        | (Predicate::MaxKeyboardRun(_), _)
        | (Predicate::NotContains(_), _)
        | (Predicate::Strength { .. }, _)
        | (Predicate::NotIn { .. }, _)
        | (Predicate::NotPalindrome { .. }, _)
        | (Predicate::Distinct(_), _)
        | (Predicate::NotEquals(_), _)
        | (Predicate::NotContainsEitherWay(_), _)
        | (Predicate::NotContainsInBytes { .. }, _)
        | (Predicate::NotContainsPatterns(_), _) => x == y,
        _ => false,
    }
}

/// The shortest password the first program accepts and `rule` of the second refuses, if the
/// space decides that rule (`Unconfirmed` otherwise, for sampling to try).
///
/// Passwords that break fewer other rules of the second program (of those the space decides)
/// come first, so that a witness shows its cause alone wherever one does: each round allows
/// one more other rule broken, and only the last (any number) may grow the search to the full
/// budget; the earlier ones stop at [`PREFERENCE_STATES`], so that preferring a clearer
/// witness never costs a proof.
fn refusal(
    search: &mut Search<'_, '_>,
    rule: RuleRef,
    ctx: &Context,
    limits: DiffLimits,
    confirm: &mut dyn FnMut(&str) -> bool,
) -> Outcome {
    let space = search.space();
    if !space.decides(rule) {
        return Outcome::Unconfirmed;
    }
    let deadline = Some(Instant::now() + limits.time);
    let breaks = |s: &space::State| space.accepts(0, s, ctx) && !space.passes(rule, s, ctx);
    let others = space.enforced(1).filter(|&r| r != rule).collect::<Vec<_>>();
    for most in 0..others.len() {
        let goal = |s: &space::State| {
            breaks(s) && others.iter().filter(|&&r| !space.passes(r, s, ctx)).count() <= most
        };
        let found = search.find(&goal, deadline, PREFERENCE_STATES, confirm);
        if let Outcome::Found(_) = found {
            return found;
        }
    }
    search.find(&breaks, deadline, usize::MAX, confirm)
}

/// Most states a search grows to while looking for a witness that breaks fewer other rules.
const PREFERENCE_STATES: usize = 20_000;

/// For containment, equality and banned-term rules: one of the user's attribute values (or
/// tokens, or those read backwards) or one of the rule's terms, alone or inserted into a
/// password `a` accepts, that breaks `rule`; for palindromes and distinct-character counts, a
/// password `a` accepts reshaped. A quick way to a witness where the product of a large term
/// list is too big to search, or where no automaton decides the rule.
fn construct(
    a: &Validator,
    pb: &Program,
    rule: &Rule,
    ctx: &Context,
    breaks: &dyn Fn(&str, &str) -> bool,
) -> Option<String> {
    let reversed = matches!(rule.predicate, Predicate::NotContainsEitherWay(_));
    let needles: Vec<String> = match &rule.predicate {
        Predicate::NotContains(checks) | Predicate::NotContainsEitherWay(checks) => checks
            .iter()
            .flat_map(|c| {
                ctx.get(c.attribute)
                    .iter()
                    .flat_map(move |v| c.tokens(v).map(str::to_string).collect::<Vec<_>>())
            })
            .filter(|t| !t.is_empty())
            .flat_map(|t| {
                let back = reversed.then(|| t.chars().rev().collect::<String>());
                std::iter::once(t).chain(back)
            })
            .collect(),
        Predicate::NotContainsInBytes { checks, reversed, .. } => checks
            .iter()
            .flat_map(|c| {
                ctx.get(c.attribute).iter().flat_map(move |v| {
                    c.byte_tokens(v)
                        .filter_map(|t| std::str::from_utf8(t).ok())
                        .map(str::to_string)
                        .collect::<Vec<_>>()
                })
            })
            .flat_map(|t| {
                let back = reversed.then(|| t.chars().rev().collect::<String>());
                std::iter::once(t).chain(back)
            })
            .collect(),
        Predicate::NotEquals(attribute) => ctx.get(*attribute).to_vec(),
        Predicate::NotPalindrome { .. } | Predicate::Distinct(_) => {
            return reshape(a, rule, ctx, breaks);
        }
        Predicate::Avoid { set, .. } => pb
            .term_sets
            .get(*set as usize)
            .map(|s| s.terms().map(str::to_string).collect())
            .unwrap_or_default(),
        Predicate::EntraScore { sets, .. } => sets
            .iter()
            .filter_map(|i| pb.term_sets.get(*i as usize))
            .flat_map(|s| s.terms().take(50).map(str::to_string).collect::<Vec<_>>())
            .collect(),
        _ => return None,
    };
    // A needle that is itself acceptable first (a banned term that happens to be compliant).
    if let Some(needle) = needles.iter().find(|n| breaks(n, rule.id.as_str())) {
        return Some(needle.clone());
    }
    let mut seeded = Seeded::new(0x9E37_79B9_7F4A_7C15);
    let mut random = |buf: &mut [u8]| seeded.fill(buf);
    for needle in needles.into_iter().take(50) {
        for length in [8, 12, 16] {
            let options = GenerateOptions { length: Some(length), count: 4, max_attempts: 500 };
            let Ok(bases) = generate(std::slice::from_ref(a), ctx, &options, &mut random) else {
                continue;
            };
            for base in bases {
                for candidate in
                    [format!("{needle}{}", base.as_str()), format!("{}{needle}", base.as_str())]
                {
                    if breaks(&candidate, rule.id.as_str()) {
                        return Some(candidate);
                    }
                }
            }
        }
    }
    None
}

/// Passwords `a` accepts, reshaped to break a palindrome or distinct-character rule: each
/// followed by itself reversed (with and without its last character), and its first few
/// different characters repeated to its length.
fn reshape(
    a: &Validator,
    rule: &Rule,
    ctx: &Context,
    breaks: &dyn Fn(&str, &str) -> bool,
) -> Option<String> {
    let mut seeded = Seeded::new(0x9E37_79B9_7F4A_7C15);
    let mut random = |buf: &mut [u8]| seeded.fill(buf);
    for length in [4, 6, 8, 12, 16] {
        let options = GenerateOptions { length: Some(length), count: 8, max_attempts: 500 };
        let Ok(bases) = generate(std::slice::from_ref(a), ctx, &options, &mut random) else {
            continue;
        };
        for base in bases {
            let chars: Vec<char> = base.as_str().chars().collect();
            let mut candidates = Vec::new();
            let back: String = chars.iter().rev().collect();
            candidates.push(format!("{}{back}", base.as_str()));
            candidates.push(format!(
                "{}{}",
                base.as_str(),
                chars.iter().rev().skip(1).collect::<String>()
            ));
            let mut distinct: Vec<char> = Vec::new();
            for &c in &chars {
                if !distinct.contains(&c) {
                    distinct.push(c);
                }
            }
            for k in 1..distinct.len() {
                candidates.push(distinct[..k].iter().cycle().take(chars.len()).collect());
            }
            if let Some(c) = candidates.into_iter().find(|c| breaks(c, rule.id.as_str())) {
                return Some(c);
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
                if rules.iter().any(|r| r.id.as_str() == v.rule()) {
                    found.entry(v.rule().to_string()).or_insert_with(|| pw.to_string());
                }
            }
        }
    }
    found
}
