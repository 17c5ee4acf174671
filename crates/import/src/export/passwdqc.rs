//! A `passwdqc.conf` (pam_passwdqc, pwqcheck; passwdqc 2.0) for a policy, checked through
//! `policyc import passwdqc` and `diff` ([`super::confirm`]).
//!
//! | rule | option |
//! |---|---|
//! | `length >= L` (any unit) | `min=L,L,L,L,L` (passwdqc counts bytes) |
//! | with `at least N of { … }` (four classes) | `min=` with the lengths for fewer than N kinds `disabled` |
//! | `length <= M` | `max=M` (else passwdqc's own 72 is raised to 10000) |
//!
//! `match=0` (passwdqc's word and user checks are not the policy's), `passphrase=0` when kinds
//! are required, `similar=permit` (a hook sees no old password). passwdqc also asks for as
//! many different bytes as a random password of that length would have, and does not count a
//! capital first or a digit last: the notes' witnesses show where that is stricter.

use super::confirm::map_rules;
use super::{Draft, Fidelity};
use policyc_runtime::ir::{Predicate, Program, Rule};

/// passwdqc's largest `max`.
const MAX_MAX: u32 = 10_000;

/// The configuration for `program`, with a note per rule.
pub fn export(program: &Program) -> Draft {
    let (mut min, mut max, mut kinds) = (None::<u32>, None::<u32>, 0u32);
    let (notes, mut sources) = map_rules(program, "passwdqc", |rule| {
        let (fidelity, note, ids) = one(rule, &mut min, &mut max, &mut kinds);
        (fidelity, note, ids.iter().map(|id| id.to_string()).collect())
    });
    let length = min.unwrap_or(8).max(1);
    let at = |need: u32| if kinds <= need { length.to_string() } else { "disabled".to_string() };
    // N0 one kind, N1 two, N2 passphrases (as two kinds), N3 three, N4 four.
    let lengths = [at(1), at(2), at(2), at(3), length.to_string()];
    let passphrase = if kinds > 2 { 0 } else { 3 };
    let value = format!(
        "# passwdqc.conf written by `policyc export passwdqc` from the policy `{}`.\nmin={}\nmax={}\npassphrase={passphrase}\nmatch=0\nsimilar=permit\n",
        program.name,
        lengths.join(","),
        max.unwrap_or(MAX_MAX).min(MAX_MAX)
    );
    if min.is_none() {
        sources.push(("min".into(), None));
    }
    Draft { value, notes, sources }
}

fn one(
    rule: &Rule,
    min: &mut Option<u32>,
    max: &mut Option<u32>,
    kinds: &mut u32,
) -> (Fidelity, String, Vec<&'static str>) {
    use Fidelity::{Exact, NotExpressed};
    match &rule.predicate {
        Predicate::Length(b) | Predicate::LengthIn { bounds: b, .. } => {
            let mut ids = Vec::new();
            if b.min > 0 {
                *min = Some(min.map_or(b.min, |m| m.max(b.min)));
                ids.push("min");
            }
            if let Some(m) = b.max {
                *max = Some(max.map_or(m, |x| x.min(m)));
                ids.push("max");
            }
            (Exact, format!("length {b} (passwdqc counts bytes)"), ids)
        }
        Predicate::AtLeastOf { n, classes } => {
            *kinds = (*kinds).max(*n);
            (
                Exact,
                format!(
                    "{n} of {} classes: min= disabled for fewer than {n} of passwdqc's kinds (digits, lower, upper, other)",
                    classes.len()
                ),
                vec!["min"],
            )
        }
        _ => (
            NotExpressed,
            "passwdqc has no such option (match=0: its word checks are off)".into(),
            Vec::new(),
        ),
    }
}
