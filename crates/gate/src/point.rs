//! An enforcement point that lives inside another program (the C library's gate, OpenLDAP's
//! slapd, a PAM stack): the gate's whole decision behind one call. The policy in force is looked
//! at no more than once a second and replaced only by a file that verifies; a password is
//! judged under the fail mode; the judgement is recorded in the audit log before a yes is
//! given; and what an administrator must know is said through the host's voice (syslog).
//!
//! Everything here is bounded: no call waits on a network, a lock is held for the length of a
//! check, and nothing holds the password after the call.

use crate::audit::{AuditLog, AuditWriter, Event};
use crate::gate::{FailMode, PolicyInForce, Reload, RuleSaid, Ruling, after_audit, judge};
use crate::outcome::Outcome;
use crate::policy_file::{PolicyError, Trust};
use crate::signing::PublicKey;
use policyc_runtime::{Context, Validator};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// How often the policy's file is looked at for a change.
pub const RELOAD_CHECK: Duration = Duration::from_secs(1);

/// What the user is told when the password could not be checked (the administrator is told why
/// through the voice and the audit log).
pub const UNCHECKED_MESSAGE: &str = "The password could not be checked: the password policy is unavailable; contact your administrator.";

/// What the user is told when a module's settings cannot be used (syslog says which): every
/// change is refused until they are mended.
pub const MISCONFIGURED_MESSAGE: &str = "The password could not be checked: the password policy module is misconfigured; contact your administrator.";

/// What the user is told when a yes could not be recorded and was taken back.
pub const UNRECORDED_MESSAGE: &str =
    "The password could not be checked: the change cannot be recorded; contact your administrator.";

/// Where a module looks for its policy unless told (`policy=`).
pub const DEFAULT_POLICY: &str = "/etc/policyc/policy.policyc";

/// Where a module writes its audit log unless told (`audit=`; the agent's and the hook's too).
pub const DEFAULT_AUDIT_LOG: &str = "/var/log/policyc/audit.jsonl";

/// A setting word that cannot be used: the host refuses to start with it (fail closed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    /// A key no host knows.
    #[error(
        "unknown setting `{0}` (known: policy=, key=, min_serial=, serials=, audit=, fail=, mode=)"
    )]
    Unknown(String),
    /// A known key with a value it cannot take.
    #[error("setting `{key}={value}`: expected {expected}")]
    Value {
        /// The key.
        key: String,
        /// The value given.
        value: String,
        /// What it takes.
        expected: &'static str,
    },
    /// `min_serial` without `key`: serials are only in signatures.
    #[error("`min_serial` is set but no `key`: serials are only in signatures")]
    SerialWithoutKey,
}

/// Where an enforcement point's files are, and how it fails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PointSettings {
    /// The compiled policy.
    pub policy: PathBuf,
    /// Use the policy only if signed by this key.
    pub public_key: Option<PathBuf>,
    /// With a key: refuse a signed policy with a lower serial.
    pub min_serial: u64,
    /// Where the highest serial used is kept (a directory root owns), if anywhere.
    pub serials: Option<PathBuf>,
    /// The JSON-lines audit log; `None`: decisions are not recorded (the C library's choice,
    /// never a module's default).
    pub audit_log: Option<PathBuf>,
    /// What to do with a password the policy cannot judge.
    pub fail: FailMode,
    /// Report-only rollout: refuse nothing, record what would have been refused.
    pub report_only: bool,
}

impl PointSettings {
    /// The settings for `policy` with every default: unsigned, no audit log, fail closed.
    pub fn new(policy: impl Into<PathBuf>) -> PointSettings {
        PointSettings {
            policy: policy.into(),
            public_key: None,
            min_serial: 0,
            serials: None,
            audit_log: None,
            fail: FailMode::Closed,
            report_only: false,
        }
    }

    /// Settings from `key=value` words, over the defaults for a module ([`DEFAULT_POLICY`],
    /// [`DEFAULT_AUDIT_LOG`], fail closed): `policy=PATH`, `key=PATH` (public key),
    /// `min_serial=N`, `serials=DIR`, `audit=PATH|none`, `fail=closed|open`,
    /// `mode=enforce|report`. The same words configure the C library's gate, slapd's
    /// `pwdCheckModuleArg` and a PAM stack line; words a host reads itself are left to it
    /// (`keep` says which keys those are).
    pub fn parse<'w>(
        words: impl IntoIterator<Item = &'w str>,
        keep: &[&str],
    ) -> Result<(PointSettings, Vec<&'w str>), SettingsError> {
        let mut s = PointSettings {
            audit_log: Some(PathBuf::from(DEFAULT_AUDIT_LOG)),
            ..PointSettings::new(DEFAULT_POLICY)
        };
        let mut kept = Vec::new();
        for word in words.into_iter().filter(|w| !w.is_empty()) {
            let (key, value) = word.split_once('=').unwrap_or((word, ""));
            let bad = |expected: &'static str| SettingsError::Value {
                key: key.to_string(),
                value: value.to_string(),
                expected,
            };
            let path = || match value {
                "" => Err(bad("a path")),
                v => Ok(PathBuf::from(v)),
            };
            match key {
                "policy" => s.policy = path()?,
                "key" => s.public_key = Some(path()?),
                "min_serial" => s.min_serial = value.parse().map_err(|_| bad("a number"))?,
                "serials" => s.serials = Some(path()?),
                "audit" if value == "none" => s.audit_log = None,
                "audit" => s.audit_log = Some(path()?),
                "fail" => {
                    s.fail = match value {
                        "closed" => FailMode::Closed,
                        "open" => FailMode::Open,
                        _ => return Err(bad("`closed` or `open`")),
                    }
                }
                "mode" => {
                    s.report_only = match value {
                        "enforce" => false,
                        "report" => true,
                        _ => return Err(bad("`enforce` or `report`")),
                    }
                }
                _ if keep.contains(&key) => kept.push(word),
                _ => return Err(SettingsError::Unknown(word.to_string())),
            }
        }
        if s.min_serial > 0 && s.public_key.is_none() {
            return Err(SettingsError::SerialWithoutKey);
        }
        Ok((s, kept))
    }

    fn trust(&self) -> Result<Trust, PolicyError> {
        let key = self.public_key.as_deref().map(PublicKey::from_file).transpose()?;
        Ok(Trust { key, min_serial: self.min_serial, serials: self.serials.clone(), record: true })
    }
}

/// How loud a thing the point says is (a host maps it to syslog's priorities).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// A policy loaded or changed.
    Info,
    /// A password refused by the policy.
    Warning,
    /// Something an administrator must fix: no policy, a store or the audit log unusable.
    Error,
}

/// Where a point says things: the host's log. Never given a password.
pub type Voice = Arc<dyn Fn(Level, &str) + Send + Sync>;

/// A voice that speaks to syslog (facility authpriv, as `process`): the voice of a point in
/// another program. A machine without a syslog socket (a container) hears nothing from it; the
/// decision and the audit log still say everything.
#[cfg(unix)]
pub fn syslog_voice(process: &'static str) -> Voice {
    Arc::new(move |level, text| {
        let formatter = syslog::Formatter3164 {
            facility: syslog::Facility::LOG_AUTHPRIV,
            hostname: None,
            process: process.into(),
            pid: std::process::id(),
        };
        if let Ok(mut logger) = syslog::unix(formatter) {
            let line = crate::files::log_line(text);
            let _ = match level {
                Level::Info => logger.info(line),
                Level::Warning => logger.warning(line),
                Level::Error => logger.err(line),
            };
        }
    })
}

/// The points a host process keeps, one per settings line: a long-lived host (slapd, a PAM
/// stack in a daemon) keeps its policy loaded and its reload state between calls.
#[derive(Default)]
pub struct Points {
    points: Mutex<Vec<(String, Arc<EnforcementPoint>)>>,
}

impl std::fmt::Debug for Points {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Points").finish_non_exhaustive()
    }
}

impl Points {
    /// The point for `words` (made from [`PointSettings::parse`] on first use, then kept); the
    /// words the host reads itself (`keep`) are its own.
    pub fn get(
        &self,
        source: &'static str,
        words: &str,
        keep: &[&str],
        voice: impl FnOnce() -> Voice,
    ) -> Result<Arc<EnforcementPoint>, SettingsError> {
        let mut points = lock(&self.points);
        if let Some((_, p)) = points.iter().find(|(w, _)| w == words) {
            return Ok(p.clone());
        }
        let (settings, _) = PointSettings::parse(words.split_ascii_whitespace(), keep)?;
        let point = Arc::new(EnforcementPoint::new(source, settings, voice()));
        points.push((words.to_string(), point.clone()));
        Ok(point)
    }
}

/// One decision, without the password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Whether the change may go ahead.
    pub accept: bool,
    /// What the audit log recorded.
    pub outcome: Outcome,
    /// The violated rules, in policy order (also when report-only accepted them).
    pub rules: Vec<RuleSaid>,
    /// What the user is told: the rules' messages, or that the password could not be checked.
    pub message: String,
    /// What went wrong, for the administrator (never shown to the user), when anything did.
    pub problem: Option<String>,
    /// The policy's name and digest prefix, when one judged.
    pub policy: Option<String>,
}

/// The policy in force and when its file was last looked at.
#[derive(Debug, Default)]
struct Loaded {
    policy: PolicyInForce,
    checked: Option<Instant>,
}

/// An enforcement point inside a host process; shared by the host's threads.
pub struct EnforcementPoint {
    source: &'static str,
    settings: PointSettings,
    loaded: Mutex<Loaded>,
    audit: Mutex<Option<AuditWriter>>,
    voice: Voice,
}

impl std::fmt::Debug for EnforcementPoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnforcementPoint")
            .field("source", &self.source)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while the lock was held (caught at the host's boundary) leaves usable state.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl EnforcementPoint {
    /// A point named `source` in the audit log (`capi`, `ldap`, `pam`), with `settings`,
    /// saying things through `voice`. The policy is loaded on the first decision (or
    /// [`EnforcementPoint::refresh`]): a host that starts before its policy is deployed
    /// follows the fail mode until it is.
    pub fn new(source: &'static str, settings: PointSettings, voice: Voice) -> EnforcementPoint {
        EnforcementPoint {
            source,
            settings,
            loaded: Mutex::new(Loaded::default()),
            audit: Mutex::new(None),
            voice,
        }
    }

    /// Its settings.
    pub fn settings(&self) -> &PointSettings {
        &self.settings
    }

    /// The policy in force now (looked at again if a second has passed), or why there is none.
    pub fn refresh(&self) -> Result<Arc<Validator>, String> {
        let mut loaded = lock(&self.loaded);
        if loaded.checked.is_none_or(|t| t.elapsed() >= RELOAD_CHECK) {
            loaded.checked = Some(Instant::now());
            if let Some(reload) =
                loaded.policy.refresh(&self.settings.policy, || self.settings.trust())
            {
                drop(loaded);
                self.reloaded(&reload);
                return lock(&self.loaded).policy.current();
            }
        }
        loaded.policy.current()
    }

    /// Says and records what a reload changed.
    fn reloaded(&self, reload: &Reload) {
        let text = reload.message();
        let (level, policy) = match reload {
            Reload::Loaded { label } | Reload::Changed { to: label, .. } => {
                (Level::Info, Some(label.clone()))
            }
            Reload::Kept { .. } | Reload::Unavailable { .. } => (Level::Error, None),
        };
        (self.voice)(level, &format!("policyc {}: {text}", self.source));
        let line = Event::decision(self.source, reload.outcome(), None, &[], policy, Some(text));
        if let Err(e) = self.record(&line) {
            (self.voice)(Level::Error, &format!("policyc {}: {e}", self.source));
        }
    }

    /// Judges `password` for the user `ctx` (`account`: the name the audit line gives) and
    /// records the judgement before a yes.
    pub fn decide(&self, password: &str, ctx: &Context, account: Option<&str>) -> Decision {
        let policy = self.refresh();
        let label = policy.as_ref().ok().map(|v| v.label());
        let ruling = judge(
            policy.as_deref().map_err(String::as_str),
            password,
            ctx,
            self.settings.fail,
            self.settings.report_only,
        );
        let mut d = decision(&ruling, label);
        let rules: Vec<String> = ruling.rules();
        let line = Event::decision(
            self.source,
            d.outcome,
            account,
            &rules,
            d.policy.clone(),
            d.problem.clone(),
        );
        let audited = after_audit(d.accept, self.settings.fail, self.record(&line));
        let taken_back = audited.taken_back(d.accept);
        if let Some(what) = audited.unrecorded {
            if taken_back {
                d.accept = false;
                d.outcome = Outcome::Error;
                d.message = UNRECORDED_MESSAGE.to_string();
                d.problem = Some(format!(
                    "AUDIT LOG UNAVAILABLE ({what}); FAIL-CLOSED: a decision that cannot be recorded is not made"
                ));
            } else {
                d.problem = Some(match d.problem.take() {
                    Some(p) => format!("{p}; {what}"),
                    None => what,
                });
            }
        }
        self.tell(&d, account);
        d
    }

    /// Says a decision where the administrator looks: a refusal as a warning, anything the
    /// policy could not judge as an error.
    fn tell(&self, d: &Decision, account: Option<&str>) {
        let who = account.unwrap_or("");
        let source = self.source;
        match (&d.problem, d.accept) {
            (Some(problem), accept) => {
                let did = if accept { "accepted (fail-open)" } else { "refused" };
                (self.voice)(
                    Level::Error,
                    &format!("policyc {source}: {did} the new password of `{who}`: {problem}"),
                );
            }
            (None, false) => (self.voice)(
                Level::Warning,
                &format!("policyc {source}: refused the new password of `{who}`: {}", d.message),
            ),
            (None, true) if d.outcome == Outcome::WouldRefuse => (self.voice)(
                Level::Warning,
                &format!(
                    "policyc {source}: would refuse the new password of `{who}` (report-only): {}",
                    d.message
                ),
            ),
            (None, true) => {}
        }
    }

    /// Appends and syncs an audit line (no log configured: nothing to do), opening and
    /// checking the log on first use and again after an error.
    fn record(&self, line: &Event<'_>) -> Result<(), String> {
        let Some(path) = &self.settings.audit_log else { return Ok(()) };
        let mut audit = lock(&self.audit);
        let result = match audit.as_mut() {
            Some(w) => w.write(line),
            None => AuditLog::new(path).open().and_then(|mut w| {
                let written = w.write(line);
                *audit = Some(w);
                written
            }),
        };
        if result.is_err() {
            *audit = None;
        }
        result.map_err(|e| format!("cannot write the audit log `{}`: {e}", path.display()))
    }
}

/// The decision a ruling makes, before the audit line.
fn decision(ruling: &Ruling, policy: Option<String>) -> Decision {
    let accept = ruling.accept();
    let outcome = ruling.outcome();
    let said =
        |rules: &[RuleSaid]| rules.iter().map(|r| r.message.as_str()).collect::<Vec<_>>().join(" ");
    let (rules, message, problem) = match ruling {
        Ruling::Accepted => (Vec::new(), String::new(), None),
        Ruling::Refused { rules } | Ruling::WouldRefuse { rules } => {
            (rules.clone(), said(rules), None)
        }
        Ruling::PolicyUnavailable { why, fail } | Ruling::StoreUnavailable { why, fail, .. } => {
            let verdict =
                if accept { "FAIL-OPEN: accepted unchecked" } else { "FAIL-CLOSED: refused" };
            let message = if accept { String::new() } else { UNCHECKED_MESSAGE.to_string() };
            debug_assert_eq!(accept, *fail == FailMode::Open);
            (Vec::new(), message, Some(format!("{why}; {verdict}")))
        }
    };
    let policy = match ruling {
        Ruling::PolicyUnavailable { .. } => None,
        _ => policy,
    };
    Decision { accept, outcome, rules, message, problem, policy }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic, reason = "a test fails by panicking")]

    use super::*;

    const OFFICE365: &[u8] = include_bytes!("../../../tests/golden/artifacts/office365.policyc");
    const TERMS: &[u8] = include_bytes!("../../../tests/golden/artifacts/terms.policyc");

    type Said = Arc<Mutex<Vec<(Level, String)>>>;

    fn point(settings: PointSettings) -> (EnforcementPoint, Said) {
        let said: Said = Arc::default();
        let to = said.clone();
        let voice: Voice = Arc::new(move |l, t| to.lock().unwrap().push((l, t.to_string())));
        (EnforcementPoint::new("capi", settings, voice), said)
    }

    fn lines(path: &std::path::Path) -> Vec<serde_json::Value> {
        let text = std::fs::read_to_string(path).unwrap();
        text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
    }

    /// A refusal names the rules and their messages, is recorded with the point's source, and
    /// is said as a warning; an acceptance is recorded and said nowhere.
    #[test]
    fn a_point_judges_records_and_says() {
        let dir = tempfile::tempdir().unwrap();
        let policy = dir.path().join("p.policyc");
        std::fs::write(&policy, OFFICE365).unwrap();
        let audit = dir.path().join("log/audit.jsonl");
        let settings =
            PointSettings { audit_log: Some(audit.clone()), ..PointSettings::new(&policy) };
        let (p, said) = point(settings);
        let d = p.decide("short", &Context::new(), Some("alice"));
        assert!(!d.accept);
        assert_eq!(d.outcome, Outcome::Rejected);
        let ids: Vec<&str> = d.rules.iter().map(|r| r.rule.as_str()).collect();
        assert_eq!(ids, ["length", "classes"]);
        assert!(d.message.starts_with("Use 8 to 256 characters."), "{}", d.message);
        assert!(p.decide("Tr0ub4dor&3", &Context::new(), Some("alice")).accept);
        let log = lines(&audit);
        assert_eq!(log.len(), 3, "loaded, rejected, accepted: {log:?}");
        assert_eq!(log[0]["outcome"], "policy_loaded");
        assert_eq!(log[1]["source"], "capi");
        assert_eq!(log[1]["outcome"], "rejected");
        assert_eq!(log[1]["account"], "alice");
        assert_eq!(log[1]["rules"], serde_json::json!(["length", "classes"]));
        assert_eq!(log[2]["outcome"], "accepted");
        let said = said.lock().unwrap();
        assert_eq!(said.len(), 2, "{said:?}");
        assert_eq!(said[0].0, Level::Info);
        assert_eq!(said[1].0, Level::Warning);
        assert!(said[1].1.contains("refused the new password of `alice`"), "{said:?}");
        let text = std::fs::read_to_string(&audit).unwrap();
        assert!(!text.contains("short") && !text.contains("Tr0ub4dor"), "no password in {text}");
    }

    /// No policy: refused under fail-closed with a message for the user and the reason for the
    /// administrator; accepted unchecked under fail-open, loudly.
    #[test]
    fn without_a_policy_the_fail_mode_decides_loudly() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.policyc");
        for fail in [FailMode::Closed, FailMode::Open] {
            let (p, said) = point(PointSettings { fail, ..PointSettings::new(&missing) });
            let d = p.decide("Tr0ub4dor&3", &Context::new(), None);
            assert_eq!(d.accept, fail == FailMode::Open);
            let problem = d.problem.unwrap();
            assert!(problem.contains("POLICY UNAVAILABLE") && problem.contains(fail.as_str()));
            match fail {
                FailMode::Closed => {
                    assert_eq!(d.outcome, Outcome::RejectedNoPolicy);
                    assert_eq!(d.message, UNCHECKED_MESSAGE);
                }
                FailMode::Open => assert_eq!(d.outcome, Outcome::AcceptedUnchecked),
            }
            assert!(said.lock().unwrap().iter().all(|(l, _)| *l == Level::Error));
        }
    }

    /// Audit before yes: a log that cannot be written takes a yes back under fail-closed.
    #[test]
    fn a_yes_that_cannot_be_recorded_is_taken_back() {
        let dir = tempfile::tempdir().unwrap();
        let policy = dir.path().join("p.policyc");
        std::fs::write(&policy, OFFICE365).unwrap();
        let blocked = dir.path().join("a-file");
        std::fs::write(&blocked, b"").unwrap();
        let audit = Some(blocked.join("audit.jsonl"));
        let (p, _) =
            point(PointSettings { audit_log: audit.clone(), ..PointSettings::new(&policy) });
        let d = p.decide("Tr0ub4dor&3", &Context::new(), None);
        assert!(!d.accept);
        assert_eq!(d.message, UNRECORDED_MESSAGE);
        assert!(d.problem.unwrap().starts_with("AUDIT LOG UNAVAILABLE"));
        let open =
            PointSettings { audit_log: audit, fail: FailMode::Open, ..PointSettings::new(&policy) };
        let (p, _) = point(open);
        let d = p.decide("Tr0ub4dor&3", &Context::new(), None);
        assert!(d.accept && d.problem.is_some());
    }

    /// A changed file replaces the policy once it verifies, within a second; a broken one keeps
    /// the running policy.
    #[test]
    fn a_changed_policy_is_reloaded_once_it_verifies() {
        let dir = tempfile::tempdir().unwrap();
        let policy = dir.path().join("p.policyc");
        std::fs::write(&policy, OFFICE365).unwrap();
        let (p, said) = point(PointSettings::new(&policy));
        assert_eq!(p.refresh().unwrap().name(), "office365");
        std::fs::write(&policy, b"POLICYC\0 damaged").unwrap();
        std::thread::sleep(RELOAD_CHECK);
        assert_eq!(p.refresh().unwrap().name(), "office365", "the running policy stays");
        std::fs::write(&policy, TERMS).unwrap();
        std::thread::sleep(RELOAD_CHECK);
        assert_eq!(p.refresh().unwrap().name(), "terms");
        let said = said.lock().unwrap();
        assert!(said.iter().any(|(l, t)| *l == Level::Error && t.contains("keeping office365@")));
    }

    /// The words every host takes: defaults, each key, and a clear error for a bad one.
    #[test]
    fn settings_are_read_from_words() {
        let (s, kept) = PointSettings::parse([], &[]).unwrap();
        assert_eq!(s.policy, PathBuf::from(DEFAULT_POLICY));
        assert_eq!(s.audit_log, Some(PathBuf::from(DEFAULT_AUDIT_LOG)));
        assert_eq!((s.fail, s.report_only, kept.len()), (FailMode::Closed, false, 0));
        let words =
            "policy=/p key=/k min_serial=7 serials=/s audit=none fail=open mode=report retry=3";
        let (s, kept) = PointSettings::parse(words.split(' '), &["retry"]).unwrap();
        assert_eq!(s.policy, PathBuf::from("/p"));
        assert_eq!(s.public_key, Some(PathBuf::from("/k")));
        assert_eq!((s.min_serial, s.audit_log, s.fail), (7, None, FailMode::Open));
        assert_eq!(s.serials, Some(PathBuf::from("/s")));
        assert!(s.report_only);
        assert_eq!(kept, ["retry=3"]);
        let err = |w: &str| PointSettings::parse(w.split(' '), &[]).unwrap_err().to_string();
        assert!(err("fail=maybe").contains("expected `closed` or `open`"));
        assert!(err("polcy=/p").starts_with("unknown setting `polcy=/p`"));
        assert!(err("min_serial=x").contains("expected a number"));
        assert!(err("min_serial=3").contains("no `key`"));
        assert!(err("policy=").contains("expected a path"));
    }

    /// Report-only accepts what it would refuse, records `would_refuse` and says so.
    #[test]
    fn report_only_refuses_nothing_and_says_what_it_would_refuse() {
        let dir = tempfile::tempdir().unwrap();
        let policy = dir.path().join("p.policyc");
        std::fs::write(&policy, OFFICE365).unwrap();
        let (p, said) = point(PointSettings { report_only: true, ..PointSettings::new(&policy) });
        let d = p.decide("short", &Context::new(), Some("bob"));
        assert!(d.accept);
        assert_eq!(d.outcome, Outcome::WouldRefuse);
        assert_eq!(d.rules.len(), 2);
        assert!(said.lock().unwrap().iter().any(|(_, t)| t.contains("would refuse")));
    }
}
