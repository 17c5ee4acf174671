//! Evaluating one rule against the single pass's summary (conditions, then the predicate), with
//! the per-check scratch state and the helpers `explain`'s details share.

use super::Validator;
use crate::ir::{Attribute, Award, Condition, Containment, Predicate, Rule, pwquality_distance};
use crate::runtime::context::Context;
use crate::runtime::entra;
use crate::runtime::fold::{Folding, contains_folded, push_caseless};
use crate::runtime::measure;
use crate::runtime::plan::bit;
use crate::runtime::posix::{self, Search};
use crate::runtime::scan::Scan;
use crate::runtime::terms::{self, Trie, normalize_into};
use crate::runtime::verdict::Told;
use crate::store::{Lookup, StoreError};
use regex_automata::Input;
use regex_automata::dfa::Automaton;
use zeroize::Zeroizing;

impl Validator {
    pub(super) fn applies(&self, rule: &Rule, scan: &Scan, ctx: &Context) -> bool {
        rule.conditions.iter().all(|c| match c {
            Condition::Length(b) => b.contains(scan.chars),
            Condition::Has { attribute, value } => ctx.has(self.folding(), *attribute, value),
            Condition::Lacks { attribute, value } => !ctx.has(self.folding(), *attribute, value),
        })
    }

    pub(super) fn holds(
        &self,
        rule: &Rule,
        scan: &Scan,
        password: &str,
        ctx: &Context,
        scratch: &mut Scratch,
    ) -> bool {
        self.eval(&rule.predicate, scan, password, ctx, scratch)
    }

    /// Whether a predicate holds. A part that could not be evaluated leaves its cause in
    /// `scratch` only when the whole predicate fails because of it.
    pub(super) fn eval(
        &self,
        predicate: &Predicate,
        scan: &Scan,
        password: &str,
        ctx: &Context,
        scratch: &mut Scratch,
    ) -> bool {
        match predicate {
            Predicate::Length(b) => b.contains(scan.chars),
            Predicate::LengthIn { unit, bounds } => bounds.contains(unit.length(password)),
            Predicate::CountExcept { class, bounds, edge } => {
                bounds.contains(self.count_except(scan, password, *class, *edge))
            }
            Predicate::Quorum { n, parts } => {
                let mut held = 0;
                for (i, part) in parts.iter().enumerate() {
                    held += u32::from(self.eval(part, scan, password, ctx, scratch));
                    if held >= *n {
                        scratch.unavailable = None;
                        return true;
                    }
                    // Too few parts left to reach n.
                    let left = (parts.len() - i - 1) as u32;
                    if held + left < *n {
                        return false;
                    }
                }
                false
            }
            Predicate::Points { min, awards } => {
                let mut total = 0u64;
                for award in awards {
                    total += self.award(award, scan, password, ctx, scratch);
                    if total >= u64::from(*min) {
                        scratch.unavailable = None;
                        return true;
                    }
                }
                false
            }
            Predicate::Only(c) => scan.every & bit(c.0) != 0,
            Predicate::NoneOf(c) => scan.seen & bit(c.0) == 0,
            Predicate::AtLeastOf { n, classes } => {
                let present = classes.iter().filter(|c| scan.seen & bit(c.0) != 0).count();
                present >= *n as usize
            }
            Predicate::Count { class, bounds } => {
                bounds.contains(scan.counts.get(class.0 as usize).copied().unwrap_or(0))
            }
            Predicate::Regex { negated, dfa, .. } => match self.regex_matches(*dfa, password) {
                Some(matched) => matched != *negated,
                None => false,
            },
            Predicate::MaxRepeat(max) => scan.longest_repeat <= *max,
            Predicate::MaxSequence(max) => scan.longest_sequence <= *max,
            Predicate::MaxKeyboardRun(max) => crate::ir::longest_keyboard_run(password) <= *max,
            Predicate::Measured { unit, measure: m } => {
                m.bounds().contains(measure::value(*unit, m, password, self.in_class()))
            }
            Predicate::NotContains(checks) => checks
                .iter()
                .all(|c| found_tokens(c, password, ctx, &mut scratch.folded).next().is_none()),
            Predicate::NotContainsEitherWay(checks) => checks.iter().all(|c| {
                found_tokens(c, password, ctx, &mut scratch.folded).next().is_none()
                    && found_reversed(c, password, ctx, &mut scratch.folded).is_empty()
            }),
            Predicate::NotContainsInBytes { checks, reversed, closer_than } => checks
                .iter()
                .all(|c| found_in_bytes(c, *reversed, *closer_than, password, ctx).is_empty()),
            Predicate::NotContainsPatterns(c) => found_patterns(c, password, ctx).is_empty(),
            Predicate::NotPalindrome { ignore_case } => !is_palindrome(password, *ignore_case),
            Predicate::Distinct(b) => b.contains(distinct_chars(password)),
            Predicate::NotEquals(attribute) => !equals_attribute(ctx, *attribute, password),
            Predicate::Avoid { set, mode } => {
                let found = self.find_term(*set, *mode, password);
                self.sound(scratch) && found.is_none()
            }
            Predicate::EntraScore { sets, min_points } => {
                let outcome = self.entra(sets, password, ctx, entra::Goal::Reach(*min_points));
                self.sound(scratch) && outcome.name.is_none() && outcome.points >= *min_points
            }
            Predicate::Strength { min_score } => scratch.strength(password, ctx) >= *min_score,
            Predicate::NotIn { store } => match self.lookup(*store, password) {
                Ok(found) => !found.is_breached(),
                Err(e) => {
                    scratch.unavailable = Some(Cause::Store(e));
                    false
                }
            },
        }
    }

    /// The characters of `class`, the one at `edge` not counted.
    pub(super) fn count_except(
        &self,
        scan: &Scan,
        password: &str,
        class: crate::ir::ClassId,
        edge: crate::ir::Edge,
    ) -> u32 {
        let count = scan.counts.get(class.0 as usize).copied().unwrap_or(0);
        let skipped =
            edge.char_of(password).is_some_and(|c| self.table.mask(c) & bit(class.0) != 0);
        count - u32::from(skipped)
    }

    /// Whether a character is in a class, for [`measure::value`].
    pub(super) fn in_class(&self) -> impl Fn(char, crate::ir::ClassId) -> bool + '_ {
        |c, class| self.table.mask(c) & bit(class.0) != 0
    }

    /// The points one award gives.
    pub(super) fn award(
        &self,
        award: &Award,
        scan: &Scan,
        password: &str,
        ctx: &Context,
        scratch: &mut Scratch,
    ) -> u64 {
        match award {
            Award::Per { points, class, cap } => {
                let n = match class {
                    Some(c) => scan.counts.get(c.0 as usize).copied().unwrap_or(0),
                    None => scan.chars,
                };
                let got = u64::from(*points) * u64::from(n);
                cap.map_or(got, |m| got.min(u64::from(m)))
            }
            Award::PerUnit { points, class, cap, unit } => {
                let n = measure::count(*unit, *class, password, self.in_class());
                let got = u64::from(*points) * u64::from(n);
                cap.map_or(got, |m| got.min(u64::from(m)))
            }
            Award::If { points, predicate } => {
                match self.eval(predicate, scan, password, ctx, scratch) {
                    true => u64::from(*points),
                    false => 0,
                }
            }
        }
    }

    /// Whether the term lists read so far were sound; if not, the rule just evaluated over
    /// them could not be, and `scratch` says why.
    pub(super) fn sound(&self, scratch: &mut Scratch) -> bool {
        match self.region.damage() {
            None => true,
            Some(why) => {
                scratch.unavailable = Some(Cause::Damaged(why.to_string()));
                false
            }
        }
    }

    /// Looks a password up in one of the policy's stores.
    pub(super) fn lookup(&self, store: u32, password: &str) -> Result<Lookup, StoreError> {
        match self.stores.get(store as usize) {
            Some(handle) => handle.lookup(password),
            None => Err(StoreError::Damaged {
                path: Default::default(),
                reason: "the policy names a store it does not define".into(),
            }),
        }
    }

    /// The first term of a set the password matches in `mode`, if any.
    pub(super) fn find_term(
        &self,
        set: u32,
        mode: crate::ir::MatchMode,
        password: &str,
    ) -> Option<String> {
        match self.region.fully_checked() {
            true => self.find_term_in::<false>(set, mode, password),
            false => self.find_term_in::<true>(set, mode, password),
        }
    }

    /// [`Validator::find_term`], reading the trie with or without block checks.
    pub(super) fn find_term_in<const LAZY: bool>(
        &self,
        set: u32,
        mode: crate::ir::MatchMode,
        password: &str,
    ) -> Option<String> {
        let (Some(ts), Some(trie)) =
            (self.program.term_sets.get(set as usize), self.trie::<LAZY>(set))
        else {
            return Some(String::new());
        };
        let mut normalized = Zeroizing::new(String::with_capacity(password.len()));
        normalize_into(&ts.normalization, self.folding(), password, &mut normalized);
        // A term that is the whole password is reported without its text.
        terms::find(&trie, mode, &normalized).map(|m| {
            if m.start == 0 && m.end == normalized.len() {
                String::new()
            } else {
                trie.term(m.term).unwrap_or_default().to_string()
            }
        })
    }

    pub(super) fn entra(
        &self,
        sets: &[u32],
        password: &str,
        ctx: &Context,
        goal: entra::Goal,
    ) -> entra::EntraOutcome {
        let names: Vec<(Attribute, &str)> = [Attribute::GivenName, Attribute::Surname]
            .into_iter()
            .flat_map(|a| ctx.get(a).iter().map(move |v| (a, v.as_str())))
            .collect();
        let (folding, tenant) = (self.folding(), ctx.tenant());
        match self.region.fully_checked() {
            true => {
                let sets: Vec<_> = sets.iter().filter_map(|&i| self.trie::<false>(i)).collect();
                entra::evaluate(&sets, folding, password, &names, tenant, goal)
            }
            false => {
                let sets: Vec<_> = sets.iter().filter_map(|&i| self.trie::<true>(i)).collect();
                entra::evaluate(&sets, folding, password, &names, tenant, goal)
            }
        }
    }

    /// The trie of a term set, walked in place (its layout was opened at load); `LAZY`: with
    /// block checks, which a region not checked whole needs.
    pub(super) fn trie<const LAZY: bool>(&self, set: u32) -> Option<Trie<'_, LAZY>> {
        self.tries.get(set as usize).map(|l| l.trie(self.region.checked::<LAZY>()))
    }

    pub(super) fn folding(&self) -> Folding<'_> {
        Folding::new(&self.program.case_folds)
    }

    /// Whether the rule's automaton matches anywhere; `None` if the search gave up (fail closed).
    pub(super) fn regex_matches(&self, dfa: u32, password: &str) -> Option<bool> {
        let dfa = self.dfas.get(dfa as usize)?;
        dfa.try_search_fwd(&Input::new(password).earliest(true)).ok().map(|m| m.is_some())
    }
}

/// Per-check working state: the case-folded password (built when first needed, wiped on drop)
/// and the strength score (computed once for all strength rules).
#[derive(Default)]
pub(super) struct Scratch {
    pub(super) folded: Option<Zeroizing<Vec<char>>>,
    pub(super) strength: Option<u8>,
    /// The last rule could not be evaluated: it failed for that reason.
    pub(super) unavailable: Option<Cause>,
}

/// Why a rule could not be evaluated.
pub(super) enum Cause {
    /// Its breached-password store could not be read.
    Store(StoreError),
    /// The artifact was found damaged while the rule read it.
    Damaged(String),
}

impl Cause {
    /// What the user is told.
    pub(super) fn told(&self) -> Told {
        match self {
            Cause::Store(_) => Told::Unavailable,
            Cause::Damaged(_) => Told::Damaged,
        }
    }

    /// What the logs are told.
    pub(super) fn reason(&self) -> String {
        match self {
            Cause::Store(e) => e.to_string(),
            Cause::Damaged(why) => format!("the policy artifact is damaged ({why})"),
        }
    }
}

impl Scratch {
    pub(super) fn strength(&mut self, password: &str, ctx: &Context) -> u8 {
        *self.strength.get_or_insert_with(|| strength_score(password, ctx))
    }
}

#[cfg(feature = "strength")]
pub(super) fn strength_score(password: &str, ctx: &Context) -> u8 {
    crate::runtime::strength::score(password, ctx)
}

/// Never reached: artifacts with strength rules are refused at load without the feature.
#[cfg(not(feature = "strength"))]
pub(super) fn strength_score(_password: &str, _ctx: &Context) -> u8 {
    0
}

/// The values or tokens of `check`'s attribute that occur in the password, ignoring case
/// ([`push_caseless`]).
pub(super) fn found_tokens<'c>(
    check: &'c Containment,
    password: &'c str,
    ctx: &'c Context,
    folded: &'c mut Option<Zeroizing<Vec<char>>>,
) -> impl Iterator<Item = &'c str> + 'c {
    let tokens = ctx.get(check.attribute).iter().flat_map(move |v| check.tokens(v));
    tokens.filter(move |token| contains_caseless(password, token, folded))
}

/// The values or tokens of `check`'s attribute, read backwards, that occur in the password,
/// ignoring case (as they occur: `nire` for `Erin`).
pub(super) fn found_reversed(
    check: &Containment,
    password: &str,
    ctx: &Context,
    folded: &mut Option<Zeroizing<Vec<char>>>,
) -> Vec<String> {
    let tokens = ctx.get(check.attribute).iter().flat_map(|v| check.tokens(v));
    tokens
        .map(|t| t.chars().rev().collect::<String>())
        .filter(|t| contains_caseless(password, t, folded))
        .collect()
}

/// The values or tokens of `check`'s attribute found in the password by
/// [`Predicate::NotContainsInBytes`]: compared as bytes, ASCII letters ignoring case; with
/// `reversed`, their bytes backwards too (shown as text, a broken character replaced); with
/// `closer_than` above 0, also those the whole password is fewer steps than that from
/// ([`pwquality_distance`]).
pub(super) fn found_in_bytes(
    check: &Containment,
    reversed: bool,
    closer_than: u32,
    password: &str,
    ctx: &Context,
) -> Vec<String> {
    let lowered = Zeroizing::new(password.to_ascii_lowercase().into_bytes());
    // The distance (time: both lengths multiplied) only for a rule that asks it.
    let occurs = |needle: &[u8]| {
        lowered.windows(needle.len()).any(|w| w == needle)
            || (closer_than > 0
                && pwquality_distance(&lowered, needle) < closer_as_usize(closer_than))
    };
    let mut found = Vec::new();
    for token in ctx.get(check.attribute).iter().flat_map(|v| check.byte_tokens(v)) {
        let forwards = token.to_ascii_lowercase();
        if occurs(&forwards) {
            found.push(String::from_utf8_lossy(token).into_owned());
        }
        let backwards: Vec<u8> = forwards.iter().rev().copied().collect();
        if reversed && occurs(&backwards) {
            let shown: Vec<u8> = token.iter().rev().copied().collect();
            found.push(String::from_utf8_lossy(&shown).into_owned());
        }
    }
    found
}

/// The tokens of `check`'s attribute that, read as POSIX basic expressions
/// ([`Predicate::NotContainsPatterns`]), occur in the password, in order, up to the first
/// that does not compile (ppm stops there); one that cannot be searched counts as found.
pub(super) fn found_patterns(check: &Containment, password: &str, ctx: &Context) -> Vec<String> {
    let mut found = Vec::new();
    for token in ctx.get(check.attribute).iter().flat_map(|v| check.byte_tokens(v)) {
        match posix::search(token, password.as_bytes()) {
            Search::Found | Search::Unsupported => {
                found.push(String::from_utf8_lossy(token).into_owned());
                // ppm refuses at the first token found.
                break;
            }
            Search::Invalid => break,
            Search::NotFound => {}
        }
    }
    found
}

/// `closer_than` as a bound on a distance (0: none is below it).
fn closer_as_usize(closer_than: u32) -> usize {
    usize::try_from(closer_than).unwrap_or(usize::MAX)
}

/// Whether `token` occurs in `password`, ignoring case ([`push_caseless`]); `folded` keeps the
/// folded password between calls of one check.
pub(super) fn contains_caseless(
    password: &str,
    token: &str,
    folded: &mut Option<Zeroizing<Vec<char>>>,
) -> bool {
    if password.is_ascii() && token.is_ascii() {
        let n = token.len();
        return password.as_bytes().windows(n).any(|w| w.eq_ignore_ascii_case(token.as_bytes()));
    }
    let hay = folded.get_or_insert_with(|| {
        let mut hay = Zeroizing::new(Vec::with_capacity(password.len()));
        push_caseless(password, &mut hay);
        hay
    });
    let mut needle = Vec::with_capacity(token.len());
    push_caseless(token, &mut needle);
    contains_folded(hay, &needle)
}

/// Whether the password is exactly (case-sensitively) one of the attribute's values.
pub(super) fn equals_attribute(
    ctx: &Context,
    attribute: crate::ir::Attribute,
    password: &str,
) -> bool {
    ctx.get(attribute).iter().any(|v| v == password)
}

/// Whether the password reads the same backwards, character by character, or ignoring case
/// ([`push_caseless`]; libpwquality compares the lower-cased password, byte by byte).
pub(super) fn is_palindrome(password: &str, ignore_case: bool) -> bool {
    if !ignore_case {
        return password.chars().eq(password.chars().rev());
    }
    let mut folded = Zeroizing::new(Vec::with_capacity(password.len()));
    push_caseless(password, &mut folded);
    folded.iter().eq(folded.iter().rev())
}

/// The number of different characters in the password (case-sensitive).
pub(super) fn distinct_chars(password: &str) -> u32 {
    if password.is_ascii() {
        let seen = password.bytes().fold(0u128, |m, b| m | 1u128 << (b & 0x7F));
        return seen.count_ones();
    }
    let mut chars: Zeroizing<Vec<char>> = Zeroizing::new(password.chars().collect());
    chars.sort_unstable();
    chars.dedup();
    u32::try_from(chars.len()).unwrap_or(u32::MAX)
}
