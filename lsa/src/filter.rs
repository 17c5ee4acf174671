//! The filter's judgement, the same for every caller (LSA's `PasswordFilter`, the reason
//! export, the test program): the loaded policy (reloaded when its file changes, verified
//! before it replaces the running one), the account and full name LSA passes, the fail mode,
//! and the audit line. Nothing here holds a password after the call.

use crate::event::Level;
use crate::settings::{FailMode, Settings};
use crate::text::TextError;
use policyc_gate::audit::{AuditLog, AuditWriter, Event};
use policyc_gate::gate::{PolicyInForce, Reload, Ruling, after_audit, judge};
use policyc_gate::outcome::Outcome;
use policyc_runtime::Validator;
use policyc_runtime::ir::Attribute;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use zeroize::Zeroizing;

/// Why the filter said what it said: the reason export's code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum Reason {
    /// The policy accepts the password.
    Accepted = 0,
    /// The policy refuses it (the rules are named).
    Refused = 1,
    /// The password (or account name) is not valid UTF-16: odd length, no buffer, unpaired
    /// surrogate.
    InvalidText = 2,
    /// No usable policy: refused (fail closed) or accepted unchecked (fail open).
    NoPolicy = 3,
    /// The filter failed inside (a panic, caught): the fail mode's verdict.
    InternalError = 4,
    /// A computer or trust account (`NAME$`): not checked.
    MachineAccount = 5,
    /// The audit log cannot be written: refused (fail closed) or accepted (fail open).
    AuditUnavailable = 6,
    /// LSA passed no password.
    NoPassword = 7,
    /// A breached-password store the policy needs cannot be read, and every other rule
    /// passes: refused (fail closed) or accepted (fail open).
    StoreUnavailable = 8,
}

/// One decision, without the password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// What to tell LSA.
    pub accept: bool,
    /// Why.
    pub reason: Reason,
    /// The audit outcome.
    pub outcome: Outcome,
    /// The violated rules' ids.
    pub rules: Vec<String>,
    /// For a person: the rules' messages, or what went wrong. Never the password.
    pub message: String,
    /// The policy's name and digest prefix, when one was used.
    pub policy: Option<String>,
}

impl Decision {
    fn new(accept: bool, reason: Reason, outcome: Outcome, message: impl Into<String>) -> Self {
        Decision {
            accept,
            reason,
            outcome,
            rules: Vec::new(),
            message: message.into(),
            policy: None,
        }
    }
}

/// How often the artifact's file (and the settings) are looked at for a change.
const RELOAD_CHECK: Duration = Duration::from_secs(1);

/// The policy in force (the gate's) and when its file was last looked at.
#[derive(Debug, Default)]
struct Loaded {
    policy: PolicyInForce,
    checked: Option<Instant>,
}

/// The filter: settings and the loaded policy, shared by LSA's threads.
#[derive(Debug)]
pub struct Filter {
    settings_source: fn() -> Settings,
    state: Mutex<(Settings, Loaded)>,
    events: fn(Level, &str),
    /// The audit log, kept open (checked once when opened); lines are appended on LSA's
    /// thread and synced by the queue worker within a second ([`Filter::sync_audit`]).
    audit: Mutex<Option<(PathBuf, AuditWriter)>>,
}

/// A policy, or why there is none.
type InForce = Result<Arc<Validator>, String>;

impl Filter {
    /// A filter reading its settings from `settings` (the registry) and writing event log
    /// entries with `events`.
    pub fn new(settings: fn() -> Settings, events: fn(Level, &str)) -> Filter {
        Filter {
            settings_source: settings,
            state: Mutex::new((settings(), Loaded::default())),
            events,
            audit: Mutex::new(None),
        }
    }

    /// The settings in force.
    pub fn settings(&self) -> Settings {
        self.lock().0.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (Settings, Loaded)> {
        // A panic while the lock was held (caught at the export) leaves usable state.
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Tells the event log.
    fn say(&self, level: Level, text: &str) {
        (self.events)(level, text);
    }

    /// The policy in force: reloaded if its file changed (at most once a second), verified
    /// first; a file that does not verify leaves the running policy in force, loudly (once per
    /// file version).
    fn policy(&self) -> (Settings, InForce) {
        let mut guard = self.lock();
        let (settings, loaded) = &mut *guard;
        if loaded.checked.is_none_or(|t| t.elapsed() >= RELOAD_CHECK) {
            loaded.checked = Some(Instant::now());
            *settings = (self.settings_source)();
            let trust = || {
                let key = settings
                    .public_key
                    .as_deref()
                    .map(policyc_gate::signing::PublicKey::from_file)
                    .transpose()?;
                Ok(policyc_gate::policy_file::Trust {
                    key,
                    min_serial: settings.policy_min_serial,
                    serials: settings.queue.clone(),
                    record: true,
                })
            };
            if let Some(reload) = loaded.policy.refresh(&settings.policy, trust) {
                self.reloaded(settings, &reload);
            }
        }
        (settings.clone(), loaded.policy.current())
    }

    /// Says what a reload changed, in the event log and the audit log.
    fn reloaded(&self, settings: &Settings, reload: &Reload) {
        let text = reload.message();
        let (level, policy) = match reload {
            Reload::Loaded { label } | Reload::Changed { to: label, .. } => {
                (Level::Information, Some(label.clone()))
            }
            Reload::Kept { .. } | Reload::Unavailable { .. } => (Level::Error, None),
        };
        self.say(level, &format!("policyc filter: {text}"));
        let _ =
            self.log(&settings.audit_log, &event(reload.outcome(), None, &[], policy, Some(text)));
    }

    /// Judges one password change and records the judgement. `password` is what decoding
    /// LSA's string gave.
    pub fn judge(
        &self,
        account: Option<&str>,
        full_name: Option<&str>,
        password: Result<Option<Zeroizing<String>>, TextError>,
    ) -> Decision {
        let (settings, policy) = self.policy();
        let mut d = decide(&settings, policy, account, full_name, password);
        // Audit before yes: a decision that cannot be recorded is not made (unless the filter
        // fails open).
        let recorded = self
            .log(
                &settings.audit_log,
                &event(d.outcome, account, &d.rules, d.policy.clone(), detail(&d)),
            )
            .map_err(|e| {
                format!("cannot write the audit log `{}`: {e}", settings.audit_log.display())
            });
        let audited = after_audit(d.accept, settings.fail, recorded);
        if let Some(what) = &audited.unrecorded {
            if audited.taken_back(d.accept) {
                d = Decision::new(
                    false,
                    Reason::AuditUnavailable,
                    Outcome::Error,
                    format!(
                        "AUDIT LOG UNAVAILABLE ({what}); FAIL-CLOSED: a decision that cannot be recorded is not made"
                    ),
                );
            } else {
                d.message = format!("{}; {what}", d.message);
            }
            self.say(Level::Error, &format!("policyc filter: {}", d.message));
        }
        match d.reason {
            Reason::Accepted | Reason::MachineAccount => {}
            Reason::Refused => self.say(
                Level::Warning,
                &format!(
                    "policyc filter: refused the new password of `{}`: {}",
                    account.unwrap_or(""),
                    d.message
                ),
            ),
            _ => self.say(
                Level::Error,
                &format!(
                    "policyc filter: {} the new password of `{}`: {}",
                    if d.accept { "accepted (fail-open)" } else { "refused" },
                    account.unwrap_or(""),
                    d.message
                ),
            ),
        }
        d
    }

    /// The verdict of the fail mode for an error the filter could not judge through (a
    /// panic caught at the export), recorded as well as it still can be.
    pub fn internal_error(&self, account: Option<&str>) -> bool {
        let settings = self.settings();
        let accept = settings.fail == FailMode::Open;
        let text = format!(
            "INTERNAL ERROR (caught); {}",
            if accept { "FAIL-OPEN: accepted unchecked" } else { "FAIL-CLOSED: refused" }
        );
        self.say(Level::Error, &format!("policyc filter: `{}`: {text}", account.unwrap_or("")));
        let outcome = if accept { Outcome::AcceptedUnchecked } else { Outcome::Error };
        let _ = self.log(&settings.audit_log, &event(outcome, account, &[], None, Some(text)));
        accept
    }

    /// Appends an audit line, opening (and checking) the log first if it is not open, or if
    /// the configured path changed, or after an error.
    pub fn log(&self, path: &Path, line: &Event<'_>) -> std::io::Result<()> {
        let mut audit = self.audit.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if audit.as_ref().is_none_or(|(p, _)| p != path) {
            *audit = Some((path.to_path_buf(), AuditLog::new(path).open()?));
        }
        let result = audit.as_mut().map_or(Ok(()), |(_, w)| w.append(line));
        if result.is_err() {
            *audit = None;
        }
        result
    }

    /// Syncs the audit lines appended so far to disk.
    pub fn sync_audit(&self) {
        let audit = self.audit.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((path, w)) = audit.as_ref()
            && let Err(e) = w.sync()
        {
            self.say(
                Level::Error,
                &format!("policyc filter: cannot sync the audit log `{}`: {e}", path.display()),
            );
        }
    }

    /// The label of the policy in force, if any (what queued changes record).
    pub fn policy_label(&self) -> Option<String> {
        self.policy().1.ok().map(|v| v.label())
    }

    /// Tells the event log.
    pub fn report(&self, level: Level, text: &str) {
        self.say(level, text);
    }
}

fn detail(d: &Decision) -> Option<String> {
    (d.reason != Reason::Accepted && d.reason != Reason::Refused).then(|| d.message.clone())
}

/// An audit line from the filter.
pub fn event<'a>(
    outcome: Outcome,
    account: Option<&'a str>,
    rules: &'a [String],
    policy: Option<String>,
    detail: Option<String>,
) -> Event<'a> {
    Event::decision("filter", outcome, account, rules, policy, detail)
}

/// The judgement alone.
fn decide(
    settings: &Settings,
    policy: InForce,
    account: Option<&str>,
    full_name: Option<&str>,
    password: Result<Option<Zeroizing<String>>, TextError>,
) -> Decision {
    if account.is_some_and(|a| a.ends_with('$')) {
        return Decision::new(
            true,
            Reason::MachineAccount,
            Outcome::MachineAccount,
            "a computer or trust account: its random password is not checked",
        );
    }
    let password = match password {
        Ok(Some(p)) => p,
        Ok(None) => {
            return Decision::new(
                false,
                Reason::NoPassword,
                Outcome::Error,
                "LSA passed no password",
            );
        }
        Err(e) => {
            return Decision::new(false, Reason::InvalidText, Outcome::Rejected, e.to_string());
        }
    };
    let mut ctx = policyc_runtime::Context::new();
    if let Some(a) = account {
        ctx.set(Attribute::SamAccountName, a.to_string());
    }
    if let Some(f) = full_name.filter(|f| !f.is_empty()) {
        ctx.set(Attribute::DisplayName, f.to_string());
    }
    let ruling =
        judge(policy.as_deref().map_err(String::as_str), &password, &ctx, settings.fail, false);
    let (accept, outcome) = (ruling.accept(), ruling.outcome());
    let verdict = if accept { "FAIL-OPEN: accepted" } else { "FAIL-CLOSED: refused" };
    let (reason, message) = match &ruling {
        Ruling::Accepted => (Reason::Accepted, "accepted".to_string()),
        Ruling::Refused { rules } | Ruling::WouldRefuse { rules } => (
            Reason::Refused,
            rules.iter().map(|r| r.message.as_str()).collect::<Vec<_>>().join(" "),
        ),
        Ruling::PolicyUnavailable { why, .. } => {
            let tail = if accept { " unchecked" } else { "" };
            (Reason::NoPolicy, format!("{why}; {verdict}{tail}"))
        }
        Ruling::StoreUnavailable { why, .. } => {
            let tail = if accept { ", every other rule accepts it" } else { "" };
            (Reason::StoreUnavailable, format!("{why}; {verdict}{tail}"))
        }
    };
    let mut d = Decision::new(accept, reason, outcome, message);
    d.rules = ruling.rules();
    d.policy = policy.ok().map(|v| v.label());
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An artifact whose policy needs a breached-password store that is not there.
    fn needs_a_missing_store() -> Arc<Validator> {
        let source = "policy p {\n  store pwned = \"/nonexistent/policyc-store\"\n  \
                      rule length \"Use 8+.\" : length >= 8\n  \
                      rule breached \"Breached.\" : not in pwned\n}\n";
        let options = policyc_compiler::CompileOptions {
            allow_paths: vec!["/nonexistent".into()],
            ..Default::default()
        };
        let compiled = policyc_compiler::compile_str("p.policy", source, &options)
            .unwrap_or_else(|e| panic!("{e}"));
        Arc::new(Validator::from_bytes(&compiled.artifact).unwrap_or_else(|e| panic!("{e}")))
    }

    fn judged(fail: FailMode, password: &str) -> Decision {
        let settings = Settings { fail, ..Settings::default() };
        let password = Ok(Some(Zeroizing::new(password.to_string())));
        decide(&settings, Ok(needs_a_missing_store()), Some("jdoe"), None, password)
    }

    /// A store the filter cannot read follows the fail mode and says why, like a missing
    /// policy; what another rule refuses stays refused.
    #[test]
    fn an_unreadable_store_follows_the_fail_mode_and_names_its_reason() {
        let closed = judged(FailMode::Closed, "Long-enough-1");
        assert!(!closed.accept);
        assert_eq!(closed.reason, Reason::StoreUnavailable);
        assert_eq!(closed.outcome, Outcome::RejectedStoreUnavailable);
        assert_eq!(closed.rules, ["breached"]);
        assert!(
            closed
                .message
                .contains("BREACHED-PASSWORD STORE UNAVAILABLE (rule `breached`: cannot read")
        );
        assert!(
            closed.message.contains("/nonexistent/policyc-store")
                && closed.message.contains("FAIL-CLOSED")
        );
        assert_eq!(
            detail(&closed).as_deref(),
            Some(closed.message.as_str()),
            "the audit line says why"
        );
        let open = judged(FailMode::Open, "Long-enough-1");
        assert!(open.accept);
        assert_eq!(open.outcome, Outcome::AcceptedStoreUnavailable);
        let short = judged(FailMode::Open, "short");
        assert!(!short.accept);
        assert_eq!(short.reason, Reason::Refused);
    }
}
