//! Checking an export against its policy: the checker's configuration imported back with the
//! importer of the same checker, and `diff` both ways, for an example user. The notes' fidelity
//! comes from there, each difference with its witness password.

use super::{Fidelity, RuleNote};
use crate::ImportError;
use policyc_compiler::analysis::{DiffLimits, Direction, diff};
use policyc_compiler::{CompileOptions, compile_str};
use policyc_runtime::ir::{Attribute, RuleId};
use policyc_runtime::{Context, Validator};

/// The user the witnesses are found for (rules about names need one).
pub const EXAMPLE_USER: [(Attribute, &str); 6] = [
    (Attribute::SamAccountName, "jsmith"),
    (Attribute::UserPrincipalName, "jsmith@example.com"),
    (Attribute::DisplayName, "John Smith"),
    (Attribute::GivenName, "John"),
    (Attribute::Surname, "Smith"),
    (Attribute::Mail, "john.smith@example.com"),
];

/// What an exporter writes, before the check.
#[derive(Debug, Clone)]
pub struct Draft {
    /// The checker's configuration.
    pub value: String,
    /// One note per rule of the policy, in order: what the export does with it, and the
    /// fidelity the exporter expects ([`Fidelity::NotExpressed`] for a rule it leaves out).
    pub notes: Vec<RuleNote>,
    /// The rules the configuration imports back as (their ids in the import) and the
    /// policy's rule each comes from; `None` for what the checker does on its own.
    pub sources: Vec<(String, Option<RuleId>)>,
}

/// An export: the checker's configuration, and a note per rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Export {
    /// The configuration, as the checker reads it.
    pub value: String,
    /// One note per rule, in order, then one per rule the checker adds on its own.
    pub notes: Vec<RuleNote>,
}

/// Checks `draft` (an export of `policy` for `checker`) through `imported`, its configuration
/// imported back: each note's fidelity as the diff finds it, with a witness password for each
/// difference. An error is an exporter's defect: what it wrote does not import back.
pub fn confirm(
    policy: &Validator,
    checker: &str,
    draft: Draft,
    imported: Result<String, ImportError>,
) -> Result<Export, String> {
    let defect = |e: String| {
        format!("the {checker} export does not read back (a policyc defect, please report it): {e}")
    };
    let text = imported.map_err(|e| defect(e.to_string()))?;
    let compiled = compile_str(format!("{checker}.policy"), &text, &CompileOptions::default())
        .map_err(|e| defect(e.to_string()))?;
    let back = Validator::from_bytes(&compiled.artifact).map_err(|e| defect(e.to_string()))?;
    let ctx = EXAMPLE_USER.iter().fold(Context::new(), |c, (a, v)| c.with(*a, *v));
    // [what the policy accepts and the checker refuses, what the checker accepts and the
    // policy refuses].
    let [stricter, weaker] = diff(policy, &back, &ctx, DiffLimits::default());
    let mut notes = Vec::new();
    for mut note in draft.notes {
        let weak = witness(&weaker, note.rule.as_str());
        let strict = draft
            .sources
            .iter()
            .filter(|(_, from)| from.as_ref() == Some(&note.rule))
            .find_map(|(id, _)| witness(&stricter, id));
        let undecided =
            weaker.sampled.iter().chain(&weaker.exhausted).any(|r| r == note.rule.as_str());
        (note.fidelity, note.witness) = match (weak, strict) {
            (Some(w), _) if note.fidelity == Fidelity::NotExpressed => {
                (Fidelity::NotExpressed, Some(w))
            }
            (Some(w), _) => (Fidelity::Weaker, Some(w)),
            (None, Some(w)) => (Fidelity::Stricter, Some(w)),
            (None, None) if undecided => {
                note.note.push_str(" (no difference found by sampling; not proved)");
                (note.fidelity, None)
            }
            (None, None) => {
                if note.fidelity == Fidelity::NotExpressed {
                    note.note.push_str("; the rest of the export implies it (diff proves it)");
                }
                (Fidelity::Exact, None)
            }
        };
        notes.push(note);
    }
    // What the checker refuses on its own, beyond every rule of the policy.
    for w in &stricter.witnesses {
        let mapped = draft.sources.iter().any(|(id, from)| id == &w.rule && from.is_some());
        if !mapped {
            notes.push(RuleNote {
                policy: checker.to_string(),
                rule: RuleId(w.rule.clone()),
                fidelity: Fidelity::Stricter,
                note: format!("{} refuses on its own: {}", checker, w.message),
                witness: Some(w.password.clone()),
            });
        }
    }
    // And what it may refuse on its own that the diff could only sample (pwquality's
    // palindromes): said, not proved.
    for id in stricter.sampled.iter().chain(&stricter.exhausted) {
        let mapped = draft.sources.iter().any(|(s, from)| s == id && from.is_some());
        if !mapped && !notes.iter().any(|n| n.rule.as_str() == id) {
            let message = back
                .program()
                .rules
                .iter()
                .find(|r| r.id.as_str() == id)
                .map(|r| r.message.clone())
                .unwrap_or_default();
            notes.push(RuleNote {
                policy: checker.to_string(),
                rule: RuleId(id.clone()),
                fidelity: Fidelity::Stricter,
                note: format!("{checker} may refuse on its own (no password found by sampling; not proved either way): {message}"),
                witness: None,
            });
        }
    }
    Ok(Export { value: draft.value, notes })
}

/// The witness password a direction holds for `rule`, if any.
fn witness(direction: &Direction, rule: &str) -> Option<String> {
    direction.witnesses.iter().find(|w| w.rule == rule).map(|w| w.password.clone())
}
