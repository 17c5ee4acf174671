//! The answer to "may this password be set?".

use crate::ir::{Rule, Severity};
use smallvec::SmallVec;

/// Largest password accepted for checking, in bytes. Larger inputs are refused unprocessed
/// with the [`INPUT_SIZE_RULE`] violation (the cloud's own limit is 256 characters).
pub const MAX_INPUT_BYTES: usize = 4096;

/// The id of the violation reported for inputs over [`MAX_INPUT_BYTES`].
pub const INPUT_SIZE_RULE: &str = "input_size";
const INPUT_SIZE_MESSAGE: &str = "The password is too long to check (more than 4096 bytes).";

/// Violations kept inline: a typical refusal breaks a few rules, and needs no allocation.
pub(crate) const INLINE_VIOLATIONS: usize = 4;
pub(crate) type Violations<'v> = SmallVec<[Violation<'v>; INLINE_VIOLATIONS]>;

/// The result of checking one password: every violated rule, in policy order.
///
/// JSON (what `policyc check --format json` writes, after its line number):
/// `{"compliant": false, "violations": [{"rule": "length", "message": "Use 8 to 256
/// characters.", "severity": "enforce"}]}`, with `"unavailable": [{"rule": …, "reason": …}]`
/// when some rule could not be evaluated. Never the password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict<'v> {
    pub(crate) violations: Violations<'v>,
    /// Rules that could not be evaluated (their store is missing or damaged, or the artifact
    /// was found damaged while checking). They are also
    /// violations, with [`UNAVAILABLE_MESSAGE`]: a check that cannot be made refuses.
    pub(crate) unavailable: Vec<Unavailable<'v>>,
}

/// What the user is told when a rule could not be evaluated.
pub const UNAVAILABLE_MESSAGE: &str = "The password could not be checked against the list of breached passwords; try again later or contact your administrator.";

/// What the user is told when a rule could not be evaluated because the policy artifact was
/// found damaged while checking (a validator that maps its artifact checks it as it reads it).
pub const DAMAGED_POLICY_MESSAGE: &str = "The password could not be checked: the password policy is damaged; contact your administrator.";

/// A rule that could not be evaluated, and why (for logs, never for the user).
///
/// JSON: `{"rule": "breached", "reason": "…"}`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct Unavailable<'v> {
    /// The rule's id.
    pub rule: &'v str,
    /// What went wrong (the store's error, or the artifact's damage).
    pub reason: String,
}

impl<'v> Verdict<'v> {
    /// The verdict for an input over [`MAX_INPUT_BYTES`]:
    /// refused unprocessed with the [`INPUT_SIZE_RULE`] violation.
    pub fn oversized() -> Verdict<'v> {
        let mut violations = Violations::new();
        violations.push(Violation {
            rule: INPUT_SIZE_RULE,
            message: INPUT_SIZE_MESSAGE,
            severity: Severity::Enforce,
        });
        Verdict { violations, unavailable: Vec::new() }
    }

    /// Whether the password may be set: no `enforce` rule is violated (audit rules never reject).
    pub fn is_compliant(&self) -> bool {
        self.violations.iter().all(|v| v.severity == Severity::Audit)
    }

    /// Rules that could not be evaluated (also listed as violations): a caller that fails
    /// open may accept a password whose only enforce violations are these, and must say so.
    pub fn unavailable(&self) -> &[Unavailable<'v>] {
        &self.unavailable
    }

    /// Why the rules that could not be evaluated could not be: `rule `ID`: reason; …`, for logs.
    pub fn unavailable_reasons(&self) -> String {
        let each: Vec<String> =
            self.unavailable.iter().map(|u| format!("rule `{}`: {}", u.rule, u.reason)).collect();
        each.join("; ")
    }

    /// Whether every enforce violation is a rule that could not be evaluated (and there is one).
    pub fn refused_only_as_unavailable(&self) -> bool {
        let enforce = || self.violations.iter().filter(|v| v.severity == Severity::Enforce);
        enforce().next().is_some()
            && enforce().all(|v| self.unavailable.iter().any(|u| u.rule == v.rule))
    }

    /// Every violated rule, enforce and audit, in policy order.
    pub fn violations(&self) -> &[Violation<'v>] {
        &self.violations
    }
}

/// One violated rule. Never contains the password.
///
/// JSON: `{"rule": "length", "message": "Use 8 to 256 characters.", "severity": "enforce"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct Violation<'v> {
    /// The rule's id.
    pub rule: &'v str,
    /// The rule's message for the user.
    pub message: &'v str,
    /// Whether it rejects.
    pub severity: Severity,
}

impl<'v> Violation<'v> {
    /// The violation of `rule`, with its own message.
    #[inline(always)]
    pub(crate) fn of(rule: &'v Rule) -> Violation<'v> {
        Violation { rule: rule.id.as_str(), message: &rule.message, severity: rule.severity }
    }
}

impl serde::Serialize for Verdict<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;
        let fields = if self.unavailable.is_empty() { 2 } else { 3 };
        let mut s = serializer.serialize_struct("Verdict", fields)?;
        s.serialize_field("compliant", &self.is_compliant())?;
        s.serialize_field("violations", self.violations.as_slice())?;
        if self.unavailable.is_empty() {
            s.skip_field("unavailable")?;
        } else {
            s.serialize_field("unavailable", &self.unavailable)?;
        }
        s.end()
    }
}
