//! Exporters: a compiled policy written as another checker's configuration (`policyc export`),
//! with, rule by rule, how faithfully: exact, stricter, weaker, or not expressed (and why).

pub mod apple;

use policyc_runtime::ir::RuleId;

/// How one rule made it into an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Fidelity {
    /// The export accepts exactly the passwords the rule accepts.
    Exact,
    /// The export asks more: every password it accepts, the rule accepts too.
    Stricter,
    /// The export asks less: it accepts some passwords the rule refuses.
    Weaker,
    /// The export says nothing of the rule.
    NotExpressed,
}

impl Fidelity {
    /// As `policyc export` prints it.
    pub fn as_str(self) -> &'static str {
        match self {
            Fidelity::Exact => "exact",
            Fidelity::Stricter => "stricter",
            Fidelity::Weaker => "weaker",
            Fidelity::NotExpressed => "not expressed",
        }
    }
}

/// What an export says of one rule.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RuleNote {
    /// The policy's name.
    pub policy: String,
    /// The rule's id.
    pub rule: RuleId,
    /// How faithfully the export carries it.
    pub fidelity: Fidelity,
    /// What the export does with it, and why.
    pub note: String,
}
