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
        .map(|v| RuleSaid { rule: v.rule.to_string(), message: v.message.to_string() })
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
