//! The sync loop: takes accepted changes from the queue, keeps only each user's newest,
//! re-validates it against the current policy, pushes it to the cloud, and records every
//! outcome. A change leaves the queue only after the cloud's 2xx (so a crash costs at most one
//! repeated PATCH of the same password), or when it is superseded, refused or undeliverable.

use super::audit::{AuditLog, Event, now};
use super::config::AgentConfig;
use super::graph::{Delivery, Graph};
use super::queue::{Change, Queue, QueueError, now_ms};
use super::state::AgentState;
use crate::ir::Attribute;
use crate::{Context, Validator};
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

/// What one pass over the queue did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tick {
    /// Changes the cloud took.
    pub delivered: usize,
    /// Changes still pending (waiting for a retry).
    pub waiting: usize,
}

#[derive(Debug, Clone, Copy)]
struct Backoff {
    attempts: u32,
    next: Instant,
}

/// The running agent.
#[derive(Debug)]
pub struct SyncAgent {
    config: AgentConfig,
    queue: Queue,
    validator: Validator,
    stamp: Option<(SystemTime, u64)>,
    graph: Graph,
    audit: AuditLog,
    state: AgentState,
    state_path: PathBuf,
    backoff: HashMap<String, Backoff>,
    webhook: ureq::Agent,
}

impl SyncAgent {
    /// Opens the queue, loads the policy and prepares the cloud client.
    pub fn new(config: AgentConfig) -> Result<SyncAgent, String> {
        let queue = Queue::open(&config.queue, &config.key_path()).map_err(|e| e.to_string())?;
        let validator = Validator::from_path(&config.policy).map_err(|e| format!("policy: {e}"))?;
        let graph = Graph::new(config.graph.clone())?;
        let audit = AuditLog::new(&config.audit_log);
        let state_path = config.queue.join("state.json");
        let mut state = AgentState::load(&state_path);
        state.policy = Some(validator.label());
        let stamp = stamp(&config.policy);
        let webhook: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(5)))
            .http_status_as_error(false)
            .build()
            .into();
        Ok(SyncAgent {
            config,
            queue,
            validator,
            stamp,
            graph,
            audit,
            state,
            state_path,
            backoff: HashMap::new(),
            webhook,
        })
    }

    /// The policy in force.
    pub fn policy(&self) -> String {
        self.validator.label()
    }

    /// Runs until `stop` is set: a pass over the queue, then a pause.
    pub fn run(&mut self, stop: &AtomicBool) {
        let poll = Duration::from_millis(self.config.poll_interval_ms.max(10));
        while !stop.load(Ordering::Relaxed) {
            self.tick();
            let next_retry = self.backoff.values().map(|b| b.next).min();
            let wait =
                next_retry.map_or(poll, |t| t.saturating_duration_since(Instant::now()).min(poll));
            std::thread::sleep(wait.max(Duration::from_millis(10)));
        }
    }

    /// One pass over the queue.
    pub fn tick(&mut self) -> Tick {
        self.reload_policy();
        let mut tick = Tick::default();
        let (changes, damaged) = match self.queue.pending() {
            Ok(p) => p,
            Err(e) => {
                self.record("error", None, Vec::new(), Some(format!("cannot read the queue: {e}")));
                return tick;
            }
        };
        for d in damaged {
            self.quarantine(d);
        }
        let mut by_user: BTreeMap<Option<String>, Vec<Change>> = BTreeMap::new();
        for c in changes {
            by_user.entry(c.user.clone()).or_default().push(c);
        }
        for (user, mut list) in by_user {
            let Some(newest) = list.pop() else { continue };
            for older in list {
                // Never deliver an older change after a newer one: drop it.
                if self.queue.remove(&older.id).is_ok() {
                    self.backoff.remove(&older.id);
                    self.record("superseded", Some(&older), Vec::new(), None);
                }
            }
            let Some(user) = user else {
                self.fail(
                    &newest,
                    "failed",
                    "the account has no userPrincipalName; it cannot be synced".into(),
                );
                continue;
            };
            if self.backoff.get(&newest.id).is_some_and(|b| b.next > Instant::now()) {
                tick.waiting += 1;
                continue;
            }
            match self.deliver(&user, &newest) {
                Some(true) => tick.delivered += 1,
                Some(false) => tick.waiting += 1,
                None => {}
            }
        }
        if let Err(e) = self.state.save(&self.state_path) {
            eprintln!("policyc agent: cannot save `{}`: {e}", self.state_path.display());
        }
        tick
    }

    /// Delivers one change: `Some(true)` delivered, `Some(false)` to retry, `None` finished otherwise.
    fn deliver(&mut self, user: &str, change: &Change) -> Option<bool> {
        let password = match self.queue.password(change) {
            Ok(p) => p,
            Err(e) => {
                self.fail(change, "failed", format!("cannot decrypt: {e}"));
                return None;
            }
        };
        let mut ctx = Context::new().with(Attribute::SamAccountName, change.account.clone());
        ctx.set(Attribute::UserPrincipalName, user.to_string());
        if let Some(d) = &change.display_name {
            ctx.set(Attribute::DisplayName, d.clone());
        }
        let refused: Option<Vec<String>> = {
            let verdict = self.validator.check(&password, &ctx);
            (!verdict.is_compliant())
                .then(|| verdict.violations().iter().map(|v| v.rule.to_string()).collect())
        };
        if let Some(rules) = refused {
            let _ = self.queue.remove(&change.id);
            self.record(
                "rejected",
                Some(change),
                rules.clone(),
                Some("the current policy refuses this change; not sent to the cloud".into()),
            );
            self.notify("rejected", change, &rules, None);
            return None;
        }
        match self.graph.set_password(user, &password) {
            Delivery::Done => {
                if let Err(e) = self.queue.remove(&change.id) {
                    eprintln!("policyc agent: delivered but cannot remove {}: {e}", change.id);
                }
                self.backoff.remove(&change.id);
                self.state.last_success_ms = Some(now_ms());
                self.record("delivered", Some(change), Vec::new(), None);
                Some(true)
            }
            Delivery::Retry { after, reason } => {
                let b = self
                    .backoff
                    .entry(change.id.clone())
                    .or_insert(Backoff { attempts: 0, next: Instant::now() });
                b.attempts += 1;
                let wait = after.unwrap_or_else(|| backoff_delay(&self.config.retry, b.attempts));
                b.next = Instant::now() + wait;
                self.state.last_failure_ms = Some(now_ms());
                self.state.last_failure = Some(reason.clone());
                self.record(
                    "retry",
                    Some(change),
                    Vec::new(),
                    Some(format!("{reason}; next attempt in {wait:.1?}")),
                );
                Some(false)
            }
            Delivery::Drift { detail } => {
                let policy = self.policy();
                eprintln!(
                    "policyc agent: POLICY DRIFT: the cloud refused a password that policy {policy} accepted (account `{}`): {detail}",
                    change.account
                );
                self.notify("policy_drift", change, &[], Some(&detail));
                self.fail(
                    change,
                    "policy_drift",
                    format!("cloud refused a password policy {policy} accepted: {detail}"),
                );
                None
            }
            Delivery::Failed { status, detail } => {
                let text = format!("cloud answered {status}: {detail}");
                self.notify("failed", change, &[], Some(&text));
                self.fail(change, "failed", text);
                None
            }
        }
    }

    fn fail(&mut self, change: &Change, outcome: &str, detail: String) {
        if let Err(e) = self.queue.fail(&change.id) {
            eprintln!("policyc agent: cannot move {} to failed/: {e}", change.id);
        }
        self.backoff.remove(&change.id);
        self.state.last_failure_ms = Some(now_ms());
        self.state.last_failure = Some(detail.clone());
        self.record(outcome, Some(change), Vec::new(), Some(detail));
    }

    /// Moves an unreadable record out of the way, loudly.
    fn quarantine(&mut self, e: QueueError) {
        if let QueueError::Damaged { path, .. } = &e
            && let Some(name) = path.file_name()
        {
            let _ = std::fs::rename(path, self.queue.dir().join("failed").join(name));
        }
        eprintln!("policyc agent: {e}");
        self.record("damaged", None, Vec::new(), Some(e.to_string()));
    }

    fn record(
        &mut self,
        outcome: &str,
        change: Option<&Change>,
        rules: Vec<String>,
        detail: Option<String>,
    ) {
        self.state.count(outcome);
        let event = Event {
            time: now(),
            source: "agent",
            outcome,
            account: change.map(|c| c.account.as_str()),
            user: change.and_then(|c| c.user.as_deref()),
            rules: rules.iter().map(String::as_str).collect(),
            policy: Some(self.policy()),
            change: change.map(|c| c.id.as_str()),
            detail,
        };
        if let Err(e) = self.audit.write(&event) {
            eprintln!(
                "policyc agent: cannot write the audit log `{}`: {e}",
                self.audit.path().display()
            );
        }
    }

    /// Posts a rejection or alarm to the webhook, if configured. Never includes the password.
    fn notify(&self, event: &str, change: &Change, rules: &[String], detail: Option<&str>) {
        let Some(url) = &self.config.webhook else { return };
        let body = serde_json::json!({
            "event": event, "time": now(), "account": change.account, "user": change.user,
            "rules": rules, "detail": detail, "policy": self.policy(),
        });
        if let Err(e) =
            self.webhook.post(url).content_type("application/json").send(body.to_string())
        {
            eprintln!("policyc agent: webhook `{url}` failed: {e}");
        }
    }

    /// Replaces the policy when its file changed and the new one verifies.
    fn reload_policy(&mut self) {
        let now_stamp = stamp(&self.config.policy);
        if now_stamp == self.stamp {
            return;
        }
        self.stamp = now_stamp;
        match Validator::from_path(&self.config.policy) {
            Ok(v) => {
                self.validator = v;
                self.state.policy = Some(self.policy());
                self.record("policy_loaded", None, Vec::new(), None);
            }
            Err(e) => {
                eprintln!("policyc agent: new policy refused, keeping {}: {e}", self.policy());
                self.record("policy_reload_failed", None, Vec::new(), Some(e.to_string()));
            }
        }
    }
}

fn stamp(path: &std::path::Path) -> Option<(SystemTime, u64)> {
    let m = std::fs::metadata(path).ok()?;
    Some((m.modified().ok()?, m.len()))
}

/// Capped exponential backoff with jitter: `initial * 2^(attempt-1)`, at most `max`, times a
/// random factor in [0.5, 1].
fn backoff_delay(retry: &super::config::RetryConfig, attempt: u32) -> Duration {
    let base = retry
        .initial_ms
        .saturating_mul(1u64 << attempt.saturating_sub(1).min(30))
        .min(retry.max_ms);
    let mut r = [0u8; 2];
    let _ = super::crypto::random(&mut r);
    let jitter = 0.5 + f64::from(u16::from_le_bytes(r)) / f64::from(u16::MAX) / 2.0;
    Duration::from_millis((base as f64 * jitter) as u64)
}
