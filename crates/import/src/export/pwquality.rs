//! A `pwquality.conf` (pam_pwquality, libpwquality 1.4) for a policy: the closest settings,
//! checked through `policyc import pwquality` and `diff` ([`super::confirm`]).
//!
//! | rule | setting |
//! |---|---|
//! | `length >= N` (any unit) | `minlen = N` (libpwquality counts bytes, and raises a minimum under 6 to 6) |
//! | `at least N of { … }` | `minclass = N` (over digits, upper, lower and everything else) |
//! | `count digit/upper/lower/OTHER >= N` | `dcredit`/`ucredit`/`lcredit`/`ocredit = -N` |
//! | `longest repeat <= N`, `longest sequence <= N` | `maxrepeat`, `maxsequence` |
//! | `not contains user.sAMAccountName …` | `usercheck = 1` |
//! | `avoid LIST contains` | `badwords = …` (its words without spaces) |
//! | `not palindrome …` | libpwquality's own palindrome check |
//!
//! What libpwquality cannot say (a maximum length, allowed characters, strength, stores, names
//! other than the login) is not expressed. `dictcheck = 0` (cracklib is not the policy's) and
//! `usercheck = 0` unless the policy looks for the account name.

use super::confirm::map_rules;
use super::{Draft, Fidelity};
use policyc_runtime::ir::{Attribute, MatchMode, Measure, Predicate, Program, Rule, Severity};
use std::fmt::Write as _;

/// The settings, in the order written.
#[derive(Default)]
struct Settings {
    minlen: Option<u32>,
    minclass: Option<u32>,
    credits: [Option<u32>; 4],
    maxrepeat: Option<u32>,
    maxsequence: Option<u32>,
    usercheck: bool,
    badwords: Vec<String>,
}

/// libpwquality's classes, as `credits` holds them: option, class name.
const CREDITS: [(&str, &str); 4] =
    [("dcredit", "digit"), ("ucredit", "upper"), ("lcredit", "lower"), ("ocredit", "other")];

/// Which of libpwquality's classes a class is: its ASCII digits, upper or lower case letters,
/// or else "other".
fn credit_of(ranges: &[(u32, u32)]) -> usize {
    match ranges {
        [(0x30, 0x39)] => 0,
        [(0x41, 0x5a)] => 1,
        [(0x61, 0x7a)] => 2,
        _ => 3,
    }
}

/// The list a rule avoids (`avoid LIST contains`, alone or with more): its index.
fn avoided(p: &Predicate) -> Option<u32> {
    let found = std::cell::Cell::new(None);
    p.any(&|q| match q {
        Predicate::Avoid { set, mode: MatchMode::Contains } => {
            found.set(Some(*set));
            true
        }
        _ => false,
    });
    found.get()
}

/// The configuration for `program`, with a note per rule.
pub fn export(program: &Program) -> Draft {
    let mut s = Settings::default();
    let (notes, mut sources) = map_rules(program, "pwquality", |rule| {
        let (fidelity, note, source) = one(program, rule, &mut s);
        (fidelity, note, source.into_iter().map(str::to_string).collect())
    });
    let palindrome = program
        .rules
        .iter()
        .filter(|r| r.severity == Severity::Enforce && r.conditions.is_empty())
        .find(|r| r.predicate.any(&|p| matches!(p, Predicate::NotPalindrome { .. })))
        .map(|r| r.id.clone());
    sources.push(("palindrome".into(), palindrome));
    let mut text = format!(
        "# pwquality.conf written by `policyc export pwquality` from the policy `{}`.\n# The policy's rules that pwquality cannot express are listed by `policyc export`.\n",
        program.name
    );
    let minlen = s.minlen.unwrap_or(8);
    let _ = writeln!(text, "minlen = {minlen}");
    if let Some(n) = s.minclass {
        let _ = writeln!(text, "minclass = {n}");
    }
    for (i, (name, _)) in CREDITS.iter().enumerate() {
        if let Some(n) = s.credits[i] {
            let _ = writeln!(text, "{name} = -{n}");
        }
    }
    if let Some(n) = s.maxrepeat {
        let _ = writeln!(text, "maxrepeat = {n}");
    }
    if let Some(n) = s.maxsequence {
        let _ = writeln!(text, "maxsequence = {n}");
    }
    if !s.badwords.is_empty() {
        let _ = writeln!(text, "badwords = {}", s.badwords.join(" "));
    }
    let _ = writeln!(text, "usercheck = {}", u8::from(s.usercheck));
    text.push_str("dictcheck = 0\nenforcing = 1\n");
    if s.minlen.is_none() {
        sources.push(("minlen".into(), None));
    }
    Draft { value: text, notes, sources }
}

/// What one rule becomes: its fidelity as expected, the note, and the imported rule it reads
/// back as.
fn one(
    program: &Program,
    rule: &Rule,
    s: &mut Settings,
) -> (Fidelity, String, Option<&'static str>) {
    use Fidelity::{Exact, NotExpressed};
    let class = |id: policyc_runtime::ir::ClassId| program.classes.get(usize::from(id.0));
    match &rule.predicate {
        Predicate::Length(b) | Predicate::LengthIn { bounds: b, .. } if b.min > 0 => {
            s.minlen = Some(s.minlen.map_or(b.min, |m| m.max(b.min)));
            let max = match b.max {
                Some(max) => format!("; no maximum ({max}) in pwquality"),
                None => String::new(),
            };
            (Exact, format!("minlen = {} (pwquality counts bytes){max}", b.min), Some("minlen"))
        }
        Predicate::AtLeastOf { n, classes } => {
            let kinds: Vec<&str> = classes
                .iter()
                .filter_map(|c| class(*c))
                .map(|c| CREDITS[credit_of(&c.ranges)].1)
                .collect();
            s.minclass = Some(s.minclass.map_or(*n, |m| m.max(*n)));
            (
                Exact,
                format!(
                    "minclass = {n} (pwquality's classes: digit, upper, lower, other; the rule's read as {})",
                    kinds.join(", ")
                ),
                Some("minclass"),
            )
        }
        Predicate::Count { class: c, bounds } if bounds.min > 0 && bounds.max.is_none() => {
            let Some(c) = class(*c) else { return (NotExpressed, "an unknown class".into(), None) };
            let k = credit_of(&c.ranges);
            s.credits[k] = Some(s.credits[k].map_or(bounds.min, |m| m.max(bounds.min)));
            let (option, name) = CREDITS[k];
            (
                Exact,
                format!("{option} = -{} (pwquality's `{name}` for {})", bounds.min, c.name),
                Some(option),
            )
        }
        Predicate::MaxRepeat(n) | Predicate::Measured { measure: Measure::MaxRepeat(n), .. } => {
            s.maxrepeat = Some(*n);
            (Exact, format!("maxrepeat = {n}"), Some("maxrepeat"))
        }
        Predicate::MaxSequence(n)
        | Predicate::Measured { measure: Measure::MaxSequence(n), .. } => {
            s.maxsequence = Some(*n);
            (Exact, format!("maxsequence = {n}"), Some("maxsequence"))
        }
        Predicate::NotContains(checks)
        | Predicate::NotContainsEitherWay(checks)
        | Predicate::NotContainsInBytes { checks, .. }
            if checks.iter().any(|c| c.attribute == Attribute::SamAccountName) =>
        {
            s.usercheck = true;
            (Exact, "usercheck = 1: the login name, forwards or backwards (pwquality sees no other attribute)".into(), Some("usercheck"))
        }
        p if avoided(p).is_some() => {
            let Some(terms) = avoided(p).and_then(|set| program.term_sets.get(set as usize)) else {
                return (NotExpressed, "an unknown list".into(), None);
            };
            let words: Vec<String> = terms
                .terms()
                .filter(|t| !t.contains(' ') && !t.is_empty())
                .map(str::to_string)
                .collect();
            s.badwords.extend(words.iter().cloned());
            (
                Exact,
                format!(
                    "badwords: the {} words of `{}` (pwquality looks for them lower-cased, forwards and backwards)",
                    words.len(),
                    terms.name
                ),
                Some("badwords"),
            )
        }
        p if p.any(&|q| matches!(q, Predicate::NotPalindrome { .. })) => {
            (Exact, "pwquality refuses palindromes on its own".into(), Some("palindrome"))
        }
        _ => (NotExpressed, "pwquality has no such setting".into(), None),
    }
}
