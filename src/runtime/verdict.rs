//! The answer to "may this password be set?".

use crate::ir::Severity;
use smallvec::SmallVec;

/// Violations kept inline: a typical refusal breaks a few rules, and needs no allocation.
pub(crate) type Violations<'v> = SmallVec<[Violation<'v>; 4]>;

/// The result of checking one password: every violated rule, in policy order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict<'v> {
    pub(crate) violations: Violations<'v>,
}

impl<'v> Verdict<'v> {
    /// The verdict for an input over [`MAX_INPUT_BYTES`](crate::runtime::MAX_INPUT_BYTES):
    /// refused unprocessed with the [`INPUT_SIZE_RULE`](crate::runtime::INPUT_SIZE_RULE) violation.
    pub fn oversized() -> Verdict<'v> {
        let mut violations = Violations::new();
        violations.push(Violation {
            rule: super::validator::INPUT_SIZE_RULE,
            message: super::validator::INPUT_SIZE_MESSAGE,
            severity: Severity::Enforce,
        });
        Verdict { violations }
    }

    /// Whether the password may be set: no `enforce` rule is violated (audit rules never reject).
    pub fn is_compliant(&self) -> bool {
        self.violations.iter().all(|v| v.severity == Severity::Audit)
    }

    /// Every violated rule, enforce and audit, in policy order.
    pub fn violations(&self) -> &[Violation<'v>] {
        &self.violations
    }
}

/// One violated rule. Never contains the password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Violation<'v> {
    /// The rule's id.
    pub rule: &'v str,
    /// The rule's message for the user.
    pub message: &'v str,
    /// Whether it rejects.
    pub severity: Severity,
}
