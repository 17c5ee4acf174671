//! What the page shows before a password is typed: the policy, its rules, and which user
//! attributes it reads (so it asks only for those).

use policyc_runtime::Validator;
use policyc_runtime::ir::{Attribute, Predicate};
use serde::Serialize;

/// A loaded policy, described.
#[derive(Serialize)]
pub(crate) struct Info<'a> {
    policy: &'a str,
    description: &'a str,
    digest: String,
    /// LDAP names of the attributes its rules read.
    attributes: Vec<&'static str>,
    /// Whether a rule scores the tenant's name (Entra Password Protection).
    tenant: bool,
    /// Whether a rule needs a breached-password store, which a browser does not have.
    stores: bool,
    rules: Vec<RuleInfo<'a>>,
}

#[derive(Serialize)]
struct RuleInfo<'a> {
    rule: &'a str,
    severity: &'a str,
    message: &'a str,
}

impl<'a> Info<'a> {
    pub(crate) fn of(v: &'a Validator) -> Info<'a> {
        let program = v.program();
        let set = v.attributes();
        Info {
            policy: &program.name,
            description: &program.description,
            digest: v.digest_hex(),
            attributes: Attribute::ALL
                .into_iter()
                .filter(|a| set.contains(*a))
                .map(Attribute::ldap_name)
                .collect(),
            tenant: program.has(|p| matches!(p, Predicate::EntraScore { .. })),
            stores: !program.stores.is_empty(),
            rules: program
                .rules
                .iter()
                .map(|r| RuleInfo {
                    rule: r.id.as_str(),
                    severity: r.severity.as_str(),
                    message: &r.message,
                })
                .collect(),
        }
    }
}
