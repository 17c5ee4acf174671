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
        violations.push(Violation { of: Of::InputSize });
        Verdict { violations, unavailable: Vec::new() }
    }

    /// Whether the password may be set: no `enforce` rule is violated (audit rules never reject).
    pub fn is_compliant(&self) -> bool {
        self.violations.iter().all(|v| v.severity() == Severity::Audit)
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
        let enforce = || self.violations.iter().filter(|v| v.severity() == Severity::Enforce);
        enforce().next().is_some()
            && enforce().all(|v| self.unavailable.iter().any(|u| u.rule == v.rule()))
    }

    /// Every violated rule, enforce and audit, in policy order.
    pub fn violations(&self) -> &[Violation<'v>] {
        &self.violations
    }
}

/// One violated rule: its id, its message for the user, its severity. Never contains the
/// password.
///
/// A violation points at the rule it names (16 bytes): `check` builds it without reading the
/// rule, and a caller reads only what it asks for.
///
/// JSON: `{"rule": "length", "message": "Use 8 to 256 characters.", "severity": "enforce"}`.
#[derive(Clone, Copy)]
pub struct Violation<'v> {
    of: Of<'v>,
}

/// What a violation names.
#[derive(Clone, Copy)]
enum Of<'v> {
    /// A rule of the policy, told with its own message or the reason it could not be evaluated.
    Rule(&'v Rule, Told),
    /// The input was over [`MAX_INPUT_BYTES`]: no rule of the policy was evaluated.
    InputSize,
}

/// Which message the user is told for a violated rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Told {
    /// The rule's own message.
    Own,
    /// [`UNAVAILABLE_MESSAGE`]: a store the rule needs could not be read.
    Unavailable,
    /// [`DAMAGED_POLICY_MESSAGE`]: the artifact was found damaged while checking.
    Damaged,
}

impl<'v> Violation<'v> {
    /// The violation of `rule`, with its own message.
    #[inline(always)]
    pub(crate) fn of(rule: &'v Rule) -> Violation<'v> {
        Violation { of: Of::Rule(rule, Told::Own) }
    }

    /// The violation of `rule`, with the message `told`.
    pub(crate) fn told(rule: &'v Rule, told: Told) -> Violation<'v> {
        Violation { of: Of::Rule(rule, told) }
    }

    /// The rule's id (`input_size` for an input over [`MAX_INPUT_BYTES`]).
    pub fn rule(&self) -> &'v str {
        match self.of {
            Of::Rule(rule, _) => rule.id.as_str(),
            Of::InputSize => INPUT_SIZE_RULE,
        }
    }

    /// What the user is told: the rule's message, or why it could not be evaluated.
    pub fn message(&self) -> &'v str {
        match self.of {
            Of::Rule(rule, Told::Own) => &rule.message,
            Of::Rule(_, Told::Unavailable) => UNAVAILABLE_MESSAGE,
            Of::Rule(_, Told::Damaged) => DAMAGED_POLICY_MESSAGE,
            Of::InputSize => INPUT_SIZE_MESSAGE,
        }
    }

    /// Whether it rejects.
    pub fn severity(&self) -> Severity {
        match self.of {
            Of::Rule(rule, _) => rule.severity,
            Of::InputSize => Severity::Enforce,
        }
    }
}

/// Two violations are equal when they tell the same: the same rule id, message and severity.
impl PartialEq for Violation<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.rule() == other.rule()
            && self.message() == other.message()
            && self.severity() == other.severity()
    }
}

impl Eq for Violation<'_> {}

impl std::fmt::Debug for Violation<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Violation")
            .field("rule", &self.rule())
            .field("message", &self.message())
            .field("severity", &self.severity())
            .finish()
    }
}

impl serde::Serialize for Violation<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;
        let mut s = serializer.serialize_struct("Violation", 3)?;
        s.serialize_field("rule", self.rule())?;
        s.serialize_field("message", self.message())?;
        s.serialize_field("severity", &self.severity())?;
        s.end()
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
