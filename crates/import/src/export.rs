//! Exporters: a compiled policy written as another checker's configuration (`policyc export`),
//! with, rule by rule, how faithfully: exact, stricter, weaker, or not expressed (and why).
//!
//! Each exporter but Apple's (which serves password generators, several policies at once) is
//! checked the same way ([`confirm`]): its configuration is imported back with the importer
//! of the same checker, and `diff` compares the policy with that import both ways. A password
//! the checker would accept and a rule refuses makes that rule weaker; one a rule accepts and
//! the checker refuses, stricter; each note carries such a witness password. A rule with none
//! is exact where the diff proves it.

pub mod apple;
mod confirm;
pub mod keycloak;
pub mod passwdqc;
pub mod ppm;
pub mod pwquality;
pub mod samba;

pub use confirm::{Draft, EXAMPLE_USER, Export, confirm};

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
    /// Both: it refuses some passwords the rule accepts, and accepts some it refuses.
    StricterAndWeaker,
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
            Fidelity::StricterAndWeaker => "stricter and weaker",
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
    /// A password the checker accepts and the rule refuses (the export is weaker there).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accepted: Option<String>,
    /// A password the rule accepts and the checker refuses (the export is stricter there).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refused: Option<String>,
}
