//! A Keycloak password policy string (a realm's `passwordPolicy`) for a policy, checked through
//! `policyc import keycloak` and `diff` ([`super::confirm`]).
//!
//! | rule | policy |
//! |---|---|
//! | `length between N and M` (any unit) | `length(N) and maxLength(M)` (Keycloak counts UTF-16 units) |
//! | `count digit/upper/lower/OTHER >= N` | `digits(N)`, `upperCase(N)`, `lowerCase(N)`, `specialChars(N)` |
//! | `at least N of { … }` | the first N of its classes each required once: Keycloak has no "N of M" |
//! | `not equals user.sAMAccountName` | `notUsername` |
//! | `not contains user.sAMAccountName …` / `user.mail` | `notContainsUsername` / `notEmail` |
//!
//! Allowed characters, words, strength and stores are not expressed (`regexPattern` and
//! `passwordBlacklist` are Keycloak's, but policyc's import cannot check them either).

use super::confirm::map_rules;
use super::{Draft, Fidelity};
use policyc_runtime::ir::{Attribute, Award, CharClass, Predicate, Program, Rule};

/// Keycloak's character policies, in the order written.
const KINDS: [&str; 4] = ["digits", "upperCase", "lowerCase", "specialChars"];

/// Which of Keycloak's policies counts a class: digits, upper or lower case letters (ASCII,
/// or Java's own, as `policyc import keycloak` names them), or else special characters.
fn kind_of(class: &CharClass) -> usize {
    match (class.name.as_str(), class.ranges.as_slice()) {
        ("java_digit", _) | (_, [(0x30, 0x39)]) => 0,
        ("java_upper", _) | (_, [(0x41, 0x5a)]) => 1,
        ("java_lower", _) | (_, [(0x61, 0x7a)]) => 2,
        _ => 3,
    }
}

#[derive(Default)]
struct Policies {
    length: Option<u32>,
    max_length: Option<u32>,
    kinds: [Option<u32>; 4],
    not_username: bool,
    not_contains_username: bool,
    not_email: bool,
}

/// The policy string for `program`, with a note per rule.
pub fn export(program: &Program) -> Draft {
    let mut p = Policies::default();
    let (notes, sources) = map_rules(program, "Keycloak", |rule| {
        let (fidelity, note, ids) = one(program, rule, &mut p);
        (fidelity, note, ids.into_iter().map(str::to_string).collect())
    });
    let mut items = Vec::new();
    if let Some(n) = p.length {
        items.push(format!("length({n})"));
    }
    if let Some(n) = p.max_length {
        items.push(format!("maxLength({n})"));
    }
    for (i, kind) in KINDS.iter().enumerate() {
        if let Some(n) = p.kinds[i] {
            items.push(format!("{kind}({n})"));
        }
    }
    for (on, name) in [
        (p.not_username, "notUsername"),
        (p.not_contains_username, "notContainsUsername"),
        (p.not_email, "notEmail"),
    ] {
        if on {
            items.push(name.to_string());
        }
    }
    Draft { value: format!("{}\n", items.join(" and ")), notes, sources }
}

fn one(program: &Program, rule: &Rule, p: &mut Policies) -> (Fidelity, String, Vec<&'static str>) {
    use Fidelity::{Exact, NotExpressed, Stricter};
    let class = |id: policyc_runtime::ir::ClassId| program.classes.get(usize::from(id.0));
    let mut require = |k: usize, n: u32| p.kinds[k] = Some(p.kinds[k].map_or(n, |m| m.max(n)));
    match &rule.predicate {
        Predicate::Length(b) | Predicate::LengthIn { bounds: b, .. } => {
            let mut ids = Vec::new();
            if b.min > 0 {
                p.length = Some(p.length.map_or(b.min, |m| m.max(b.min)));
                ids.push("length");
            }
            if let Some(max) = b.max {
                p.max_length = Some(p.max_length.map_or(max, |m| m.min(max)));
                ids.push("maxLength");
            }
            (Exact, format!("length {b} (Keycloak counts UTF-16 units)"), ids)
        }
        Predicate::Count { class: c, bounds } if bounds.min > 0 && bounds.max.is_none() => {
            let Some(c) = class(*c) else {
                return (NotExpressed, "an unknown class".into(), Vec::new());
            };
            let k = kind_of(c);
            require(k, bounds.min);
            (Exact, format!("{}({}) for {}", KINDS[k], bounds.min, c.name), vec![KINDS[k]])
        }
        Predicate::AtLeastOf { n, classes } => {
            let mut ids = Vec::new();
            let mut named = Vec::new();
            for c in classes.iter().filter_map(|c| class(*c)).take(*n as usize) {
                let k = kind_of(c);
                require(k, 1);
                ids.push(KINDS[k]);
                named.push(format!("{}(1) for {}", KINDS[k], c.name));
            }
            let fidelity = if *n as usize == classes.len() { Exact } else { Stricter };
            (
                fidelity,
                format!(
                    "at least {n} of {}: Keycloak has no choice of classes, so {}",
                    classes.len(),
                    named.join(", ")
                ),
                ids,
            )
        }
        Predicate::Points { min, awards } if *min > 0 => {
            let special = awards.iter().any(|a| match a {
                Award::Per { class: Some(c), .. } => class(*c).is_some_and(|c| kind_of(c) == 3),
                _ => false,
            });
            match special {
                true => {
                    require(3, *min);
                    (Exact, format!("specialChars({min})"), vec!["specialChars"])
                }
                false => (NotExpressed, "points: Keycloak has no such policy".into(), Vec::new()),
            }
        }
        Predicate::NotEquals(Attribute::SamAccountName) => {
            p.not_username = true;
            (Exact, "notUsername".into(), vec!["notUsername"])
        }
        Predicate::NotContains(checks)
        | Predicate::NotContainsEitherWay(checks)
        | Predicate::NotContainsInBytes { checks, .. } => {
            let mut ids = Vec::new();
            for c in checks {
                match c.attribute {
                    Attribute::SamAccountName => {
                        p.not_contains_username = true;
                        ids.push("notContainsUsername");
                    }
                    Attribute::Mail => {
                        p.not_email = true;
                        ids.push("notEmail");
                    }
                    _ => {}
                }
            }
            match ids.is_empty() {
                true => (
                    NotExpressed,
                    "Keycloak looks for the username and the email address only".into(),
                    ids,
                ),
                false => {
                    (Exact, format!("{} (the whole value, ignoring case)", ids.join(" and ")), ids)
                }
            }
        }
        _ => {
            (NotExpressed, "Keycloak has no such policy that policyc can check".into(), Vec::new())
        }
    }
}
