//! The answer to "may this password be set?".

use crate::ir::Severity;

/// The result of checking one password: every violated rule, in policy order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict<'v> {
    pub(crate) violations: Vec<Violation<'v>>,
}

impl<'v> Verdict<'v> {
    /// The verdict for an input over [`MAX_INPUT_BYTES`](crate::runtime::MAX_INPUT_BYTES):
    /// refused unprocessed with the [`INPUT_SIZE_RULE`](crate::runtime::INPUT_SIZE_RULE) violation.
    pub fn oversized() -> Verdict<'static> {
        Verdict {
            violations: vec![Violation {
                rule: super::validator::INPUT_SIZE_RULE,
                message: super::validator::INPUT_SIZE_MESSAGE,
                severity: Severity::Enforce,
            }],
        }
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
