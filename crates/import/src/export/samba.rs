//! `samba-tool domain passwordsettings set` for a policy (the domain's own policy, what a
//! Samba or Windows DC enforces), checked through `policyc import samba` and `diff`
//! ([`super::confirm`]) on the settings the command sets.
//!
//! | rule | setting |
//! |---|---|
//! | `length >= N` (any unit) | `--min-pwd-length=N` (the DC counts UTF-16 units; at most 255) |
//! | `at least N of { … }`, `not contains ad_names` | `--complexity=on`: three of AD's five categories and the names |
//!
//! A maximum length, allowed characters, words, strength and stores are not expressed: the
//! DC has none of them (the policyc hook is how a DC gets them).

use super::confirm::map_rules;
use super::{Draft, Fidelity};
use policyc_runtime::ir::{Attribute, Predicate, Program, Rule};

/// The longest minimum a DC takes.
const MAX_MIN_LENGTH: u32 = 255;

/// The commands for `program`, with a note per rule.
pub fn export(program: &Program) -> Draft {
    let (mut min_length, mut complexity) = (None::<u32>, false);
    let (notes, sources) = map_rules(program, "the domain policy", |rule| {
        let (fidelity, note, ids) = one(rule, &mut min_length, &mut complexity);
        (fidelity, note, ids.iter().map(|id| id.to_string()).collect())
    });
    let length = min_length.unwrap_or(0);
    let value = format!(
        "# Written by `policyc export samba` from the policy `{}`: run on a domain controller.\nsamba-tool domain passwordsettings set --complexity={} --min-pwd-length={length}\n",
        program.name,
        if complexity { "on" } else { "off" }
    );
    Draft { value, notes, sources }
}

/// What `samba-tool domain passwordsettings show` prints once `commands` (an export) ran:
/// what `policyc import samba` reads.
pub fn shown(commands: &str) -> String {
    let setting = |name: &str| {
        commands
            .split_whitespace()
            .find_map(|w| w.strip_prefix(name))
            .unwrap_or_default()
            .to_string()
    };
    format!(
        "Password information for domain 'DC=example,DC=com'\n\nPassword complexity: {}\nMinimum password length: {}\n",
        setting("--complexity="),
        setting("--min-pwd-length=")
    )
}

fn one(
    rule: &Rule,
    min_length: &mut Option<u32>,
    complexity: &mut bool,
) -> (Fidelity, String, Vec<&'static str>) {
    use Fidelity::{Exact, NotExpressed, Stricter};
    match &rule.predicate {
        Predicate::Length(b) | Predicate::LengthIn { bounds: b, .. } if b.min > 0 => {
            let n = b.min.min(MAX_MIN_LENGTH);
            *min_length = Some(min_length.map_or(n, |m| m.max(n)));
            let max = match b.max {
                Some(max) => format!("; the DC has no maximum ({max})"),
                None => String::new(),
            };
            (
                Exact,
                format!("--min-pwd-length={n} (the DC counts UTF-16 units){max}"),
                vec!["min_length"],
            )
        }
        Predicate::AtLeastOf { n, classes } => {
            *complexity = true;
            (
                Stricter,
                format!(
                    "--complexity=on: three of AD's five categories, for {n} of {} classes",
                    classes.len()
                ),
                vec!["complexity"],
            )
        }
        Predicate::NotContains(checks) | Predicate::NotContainsEitherWay(checks)
            if checks.iter().any(|c| {
                matches!(c.attribute, Attribute::SamAccountName | Attribute::DisplayName)
            }) =>
        {
            *complexity = true;
            (Exact, "--complexity=on: the DC looks for the account name and the parts of the display name".into(), vec!["names"])
        }
        _ => (NotExpressed, "the domain's policy has no such setting".into(), Vec::new()),
    }
}
