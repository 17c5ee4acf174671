//! The one gate every enforcement point goes through (the Samba hook, the Windows LSA filter,
//! the sync agent; next the C library, OpenLDAP and PAM): the policy in force, reloaded only
//! once a new file verifies ([`PolicyInForce`]); the decision over every state in which the
//! policy cannot judge, under the fail mode ([`judge`], [`Ruling`]); and "audit before yes"
//! ([`after_audit`]): a yes that cannot be recorded is a no, unless the gate fails open.
//!
//! What each enforcement point adds is only its own voice: where it says things (Samba's log
//! and syslog, the event log, the agent's standard error) and what it does with a yes (queue
//! the change, answer LSA).

use crate::outcome::Outcome;
use crate::policy_file::{PolicyError, Trust, load_policy};
use policyc_runtime::{Context, Validator};
use std::path::Path;
use std::sync::Arc;
use std::time::SystemTime;

/// What the gate does with a password it cannot judge by the policy: no usable policy, a
/// breached-password store it cannot read, an audit log it cannot write.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum FailMode {
    /// Refuse the change (the default: an unchecked password must not reach the cloud's
    /// stricter policy unannounced). Loud wherever the enforcement point speaks.
    #[default]
    Closed,
    /// Accept it unchecked, loudly, and say so in the audit log.
    Open,
}

impl FailMode {
    /// `Open` when `open`.
    pub fn open_if(open: bool) -> FailMode {
        if open { FailMode::Open } else { FailMode::Closed }
    }

    /// How the fail mode reads in a message: `FAIL-CLOSED` or `FAIL-OPEN`.
    pub fn as_str(self) -> &'static str {
        match self {
            FailMode::Closed => "FAIL-CLOSED",
            FailMode::Open => "FAIL-OPEN",
        }
    }
}

/// How the gate judged one password. Holds rule ids and messages, never the password.
/// Deliberately exhaustive: an enforcement point must say what it does with every ruling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ruling {
    /// The policy accepts it.
    Accepted,
    /// The policy refuses it.
    Refused {
        /// The violated rules, in the policy's order.
        rules: Vec<RuleSaid>,
    },
    /// Report-only rollout: the policy would refuse it; accepted.
    WouldRefuse {
        /// The rules that would refuse it.
        rules: Vec<RuleSaid>,
    },
    /// No usable policy (missing, damaged, unsigned, older than the one in use): refused
    /// under [`FailMode::Closed`], accepted unchecked under [`FailMode::Open`].
    PolicyUnavailable {
        /// What is wrong, for the administrator.
        why: String,
        /// The fail mode that decided.
        fail: FailMode,
    },
    /// Every enforced rule passes except those whose breached-password store cannot be read:
    /// refused under [`FailMode::Closed`], accepted under [`FailMode::Open`].
    StoreUnavailable {
        /// Which stores and why.
        why: String,
        /// The rules whose stores could not be read.
        rules: Vec<String>,
        /// The fail mode that decided.
        fail: FailMode,
    },
}

/// A violated rule: its id and what it tells the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleSaid {
    /// The rule's id.
    pub rule: String,
    /// Its message.
    pub message: String,
}

impl Ruling {
    /// Whether the password change may go ahead.
    pub fn accept(&self) -> bool {
        match self {
            Ruling::Accepted | Ruling::WouldRefuse { .. } => true,
            Ruling::Refused { .. } => false,
            Ruling::PolicyUnavailable { fail, .. } | Ruling::StoreUnavailable { fail, .. } => {
                *fail == FailMode::Open
            }
        }
    }

    /// The audit log's outcome for it.
    pub fn outcome(&self) -> Outcome {
        match (self, self.accept()) {
            (Ruling::Accepted, _) => Outcome::Accepted,
            (Ruling::Refused { .. }, _) => Outcome::Rejected,
            (Ruling::WouldRefuse { .. }, _) => Outcome::WouldRefuse,
            (Ruling::PolicyUnavailable { .. }, true) => Outcome::AcceptedUnchecked,
            (Ruling::PolicyUnavailable { .. }, false) => Outcome::RejectedNoPolicy,
            (Ruling::StoreUnavailable { .. }, true) => Outcome::AcceptedStoreUnavailable,
            (Ruling::StoreUnavailable { .. }, false) => Outcome::RejectedStoreUnavailable,
        }
    }

    /// The rule ids the audit line names.
    pub fn rules(&self) -> Vec<String> {
        match self {
            Ruling::Refused { rules } | Ruling::WouldRefuse { rules } => {
                rules.iter().map(|r| r.rule.clone()).collect()
            }
            Ruling::StoreUnavailable { rules, .. } => rules.clone(),
            Ruling::Accepted | Ruling::PolicyUnavailable { .. } => Vec::new(),
        }
    }

    /// What went wrong when the gate could not judge by the policy (the audit line's detail).
    pub fn unavailable(&self) -> Option<&str> {
        match self {
            Ruling::PolicyUnavailable { why, .. } | Ruling::StoreUnavailable { why, .. } => {
                Some(why)
            }
            _ => None,
        }
    }
}

/// Judges `password` for the user `ctx` by the policy in force (`Err`: why there is none),
/// under `fail`. With `report_only`, a refusal is recorded as [`Ruling::WouldRefuse`] and the
/// change goes ahead. An artifact whose damage the check itself found is no usable policy.
pub fn judge(
    policy: Result<&Validator, &str>,
    password: &str,
    ctx: &Context,
    fail: FailMode,
    report_only: bool,
) -> Ruling {
    let validator = match policy {
        Ok(v) => v,
        Err(why) => return Ruling::PolicyUnavailable { why: why.to_string(), fail },
    };
    let verdict = validator.check(password, ctx);
    // The artifact is checked as the check reads it: damage found now is a damaged policy.
    if let Some(damage) = validator.damage() {
        let why = format!("POLICY UNAVAILABLE (artifact is corrupted: {damage})");
        return Ruling::PolicyUnavailable { why, fail };
    }
    if verdict.refused_only_as_unavailable() {
        return Ruling::StoreUnavailable {
            why: format!("BREACHED-PASSWORD STORE UNAVAILABLE ({})", verdict.unavailable_reasons()),
            rules: verdict.unavailable().iter().map(|u| u.rule.to_string()).collect(),
            fail,
        };
    }
    if verdict.is_compliant() {
        return Ruling::Accepted;
    }
    let rules = verdict
        .violations()
        .iter()
        .map(|v| RuleSaid { rule: v.rule().to_string(), message: v.message().to_string() })
        .collect();
    if report_only { Ruling::WouldRefuse { rules } } else { Ruling::Refused { rules } }
}

/// Audit before yes: the answer once the audit line's write is known. A yes whose line could
/// not be written becomes a no under [`FailMode::Closed`] (the caller takes back whatever it
/// did for the yes, such as a queued change); under [`FailMode::Open`] it stands, loudly.
pub fn after_audit(accept: bool, fail: FailMode, written: Result<(), String>) -> Audited {
    match written {
        Ok(()) => Audited { accept, unrecorded: None },
        Err(what) => Audited { accept: accept && fail == FailMode::Open, unrecorded: Some(what) },
    }
}

/// The answer after the audit line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Audited {
    /// Whether the change may go ahead.
    pub accept: bool,
    /// Why the line could not be written, if it could not.
    pub unrecorded: Option<String>,
}

impl Audited {
    /// Whether a yes was taken back because it could not be recorded.
    pub fn taken_back(&self, accepted: bool) -> bool {
        accepted && !self.accept
    }
}

/// The deployed policy a long-running enforcement point keeps in force (the Windows filter,
/// the agent): its file is looked at on [`PolicyInForce::refresh`], and a new file replaces
/// the running policy only once it verifies (checksum, signature and serial, through
/// [`load_policy`]); one that does not leaves the running policy in force, loudly.
#[derive(Debug, Default)]
pub struct PolicyInForce {
    validator: Option<Arc<Validator>>,
    stamp: Option<(SystemTime, u64)>,
    /// Whether the file was ever looked at.
    looked: bool,
    /// Why the file in place is not in force.
    error: Option<String>,
}

/// What a refresh changed, for the enforcement point to say and audit once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reload {
    /// The first policy loaded.
    Loaded {
        /// The new policy's label (name and digest prefix).
        label: String,
    },
    /// A verified new policy replaced the running one.
    Changed {
        /// The running policy's label.
        from: String,
        /// The new one's.
        to: String,
    },
    /// The file in place does not verify, and a running policy stays in force.
    Kept {
        /// Why the new file was refused.
        error: String,
        /// The policy that stays in force.
        label: String,
    },
    /// The file in place does not verify, and there is no policy in force.
    Unavailable {
        /// Why.
        error: String,
    },
}

impl Reload {
    /// The audit outcome: a policy loaded, or a reload that failed.
    pub fn outcome(&self) -> Outcome {
        match self {
            Reload::Loaded { .. } | Reload::Changed { .. } => Outcome::PolicyLoaded,
            Reload::Kept { .. } | Reload::Unavailable { .. } => Outcome::PolicyReloadFailed,
        }
    }

    /// One line for an administrator.
    pub fn message(&self) -> String {
        match self {
            Reload::Loaded { label } => format!("policy loaded: {label}"),
            Reload::Changed { from, to } => format!("policy changed: {from} -> {to}"),
            Reload::Kept { error, label } => format!("POLICY UNUSABLE ({error}); keeping {label}"),
            Reload::Unavailable { error } => format!("POLICY UNAVAILABLE ({error})"),
        }
    }
}

impl PolicyInForce {
    /// A policy already loaded (and verified) by the caller.
    pub fn with(validator: Validator, path: &Path) -> PolicyInForce {
        PolicyInForce {
            validator: Some(Arc::new(validator)),
            stamp: stamp(path),
            looked: true,
            error: None,
        }
    }

    /// Looks at `path`: the first time, and when the file changed since the last look, loads it with `trust` and says what changed. `trust` is built only then (it may
    /// read a key file); an error building it is a policy that does not verify.
    pub fn refresh(
        &mut self,
        path: &Path,
        trust: impl FnOnce() -> Result<Trust, PolicyError>,
    ) -> Option<Reload> {
        let now = stamp(path);
        if self.looked && now == self.stamp {
            return None;
        }
        self.looked = true;
        self.stamp = now;
        let loaded = trust().and_then(|trust| load_policy(path, &trust)).map_err(|e| e.to_string());
        match (loaded, &self.validator) {
            (Ok(v), Some(old)) if old.digest() == v.digest() => {
                self.error = None;
                None
            }
            (Ok(v), old) => {
                let reload = match old {
                    Some(old) => Reload::Changed { from: old.label(), to: v.label() },
                    None => Reload::Loaded { label: v.label() },
                };
                self.validator = Some(Arc::new(v));
                self.error = None;
                Some(reload)
            }
            (Err(error), Some(old)) => {
                let reload = Reload::Kept { error, label: old.label() };
                self.error = Some(reload.message());
                Some(reload)
            }
            (Err(error), None) => {
                let reload = Reload::Unavailable { error };
                self.error = Some(reload.message());
                Some(reload)
            }
        }
    }

    /// The policy in force, or why there is none.
    pub fn current(&self) -> Result<Arc<Validator>, String> {
        match (&self.validator, &self.error) {
            (Some(v), _) => Ok(v.clone()),
            (None, Some(e)) => Err(e.clone()),
            (None, None) => Err("no policy loaded".into()),
        }
    }
}

/// What tells a changed file: its modification time and length.
fn stamp(path: &Path) -> Option<(SystemTime, u64)> {
    let m = std::fs::metadata(path).ok()?;
    Some((m.modified().ok()?, m.len()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic, reason = "a test fails by panicking")]

    use super::*;

    const OFFICE365: &[u8] = include_bytes!("../../../tests/golden/artifacts/office365.policyc");
    const TERMS: &[u8] = include_bytes!("../../../tests/golden/artifacts/terms.policyc");

    /// Every state the policy cannot judge follows the fail mode, and a refusal is a refusal in
    /// either mode; report-only accepts what it would refuse, and says so.
    #[test]
    fn judge_follows_the_fail_mode_only_where_the_policy_cannot_judge() {
        let v = Validator::from_bytes(OFFICE365).unwrap();
        let nobody = Context::new();
        for fail in [FailMode::Closed, FailMode::Open] {
            let r = judge(Ok(&v), "Tr0ub4dor&3", &nobody, fail, false);
            assert_eq!((r.accept(), r.outcome()), (true, Outcome::Accepted));
            let r = judge(Ok(&v), "short", &nobody, fail, false);
            assert_eq!((r.accept(), r.outcome()), (false, Outcome::Rejected));
            assert_eq!(r.rules(), ["length", "classes"]);
            let r = judge(Err("POLICY UNAVAILABLE (gone)"), "short", &nobody, fail, false);
            assert_eq!(r.accept(), fail == FailMode::Open);
            assert_eq!(r.unavailable(), Some("POLICY UNAVAILABLE (gone)"));
            let expected = match fail {
                FailMode::Open => Outcome::AcceptedUnchecked,
                FailMode::Closed => Outcome::RejectedNoPolicy,
            };
            assert_eq!(r.outcome(), expected);
        }
        let r = judge(Ok(&v), "short", &nobody, FailMode::Closed, true);
        assert_eq!((r.accept(), r.outcome()), (true, Outcome::WouldRefuse));
        assert_eq!(r.rules(), ["length", "classes"]);
    }

    /// Audit before yes: a yes that cannot be recorded is taken back unless the gate fails open;
    /// a no stays a no.
    #[test]
    fn a_yes_that_cannot_be_recorded_is_a_no_when_failing_closed() {
        let lost = || Err("cannot write the audit log".to_string());
        let a = after_audit(true, FailMode::Closed, lost());
        assert!(!a.accept && a.taken_back(true));
        assert_eq!(a.unrecorded.as_deref(), Some("cannot write the audit log"));
        let a = after_audit(true, FailMode::Open, lost());
        assert!(a.accept && !a.taken_back(true) && a.unrecorded.is_some());
        let a = after_audit(false, FailMode::Open, lost());
        assert!(!a.accept && !a.taken_back(false));
        assert_eq!(after_audit(true, FailMode::Closed, Ok(())).unrecorded, None);
    }

    /// The policy in force changes only to a file that loads; a broken one keeps the running
    /// policy and is said once per file version, not on every look.
    #[test]
    fn a_new_policy_replaces_the_running_one_only_once_it_loads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("policy.policyc");
        let trust = || Ok(Trust::default());
        let mut p = PolicyInForce::default();
        assert!(p.current().is_err());
        assert!(matches!(p.refresh(&path, trust), Some(Reload::Unavailable { .. })));
        assert!(p.refresh(&path, trust).is_none(), "said once");
        assert!(p.current().unwrap_err().starts_with("POLICY UNAVAILABLE"));

        std::fs::write(&path, OFFICE365).unwrap();
        assert!(matches!(p.refresh(&path, trust), Some(Reload::Loaded { .. })));
        assert_eq!(p.current().unwrap().name(), "office365");

        std::fs::write(&path, b"POLICYC\0 not an artifact, longer than the old one").unwrap();
        let reload = p.refresh(&path, trust).unwrap();
        assert!(matches!(reload, Reload::Kept { .. }), "{reload:?}");
        assert_eq!(reload.outcome(), Outcome::PolicyReloadFailed);
        assert!(reload.message().contains("keeping office365@"), "{}", reload.message());
        assert_eq!(p.current().unwrap().name(), "office365", "the running policy stays");
        assert!(p.refresh(&path, trust).is_none(), "said once");

        std::fs::write(&path, TERMS).unwrap();
        let reload = p.refresh(&path, trust).unwrap();
        assert!(matches!(reload, Reload::Changed { .. }), "{reload:?}");
        assert_eq!(p.current().unwrap().name(), "terms");
    }
}
