//! The sync loop. For each account with queued changes it asks the directory which password is
//! the account's current one (its NT hash): only a change the directory committed is delivered;
//! a change it did not commit within the grace window is dropped as `refused_by_directory` (or
//! `superseded_in_directory` when the directory has since set a password this queue never saw);
//! older committed ones are `superseded`. The committed change is re-validated against the
//! current policy, its cloud user is read (a user Entra Connect syncs is never PATCHed), and it
//! is pushed. A change leaves the queue only after the cloud's 2xx (so a crash costs at most one
//! repeated PATCH of the same password), or with a recorded outcome.

use super::config::{AgentConfig, DeliveryModel, Mode};
use super::directory::{Directory, DirectoryConfig, PasswordState};
use super::gpg::SyncKey;
use super::graph::{CloudUser, Delivery, Graph};
use super::lock::QueueLock;
use super::marks::{Mark, Marks};
use super::reconcile::{Inputs, Report};
use super::state::{AgentState, Problem};
use super::webhook::Webhook;
use crate::AgentError;
use policyc_gate::audit::{AuditLog, Event, now};
use policyc_gate::files::say;
use policyc_gate::gate::{PolicyInForce, Reload};
use policyc_gate::outcome::Outcome;
use policyc_gate::queue::{Change, Failure, Queue, QueueError, now_ms};
use policyc_runtime::ir::{Attribute, AttributeSet};
use policyc_runtime::store::nt_hash;
use policyc_runtime::{Context, Validator};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// What one pass over the queue did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tick {
    /// Changes the cloud took.
    pub delivered: usize,
    /// Changes still pending (waiting for a retry, for the directory's commit, or for a
    /// configuration fix).
    pub waiting: usize,
    /// What went wrong or was not delivered in this pass, by outcome (no password).
    pub events: Vec<(Outcome, String)>,
}

impl Tick {
    /// Whether the pass met an error an operator must act on: a configuration error, or a
    /// change that now waits in `failed/`.
    pub fn has_errors(&self) -> bool {
        self.events.iter().any(|(o, _)| o.is_error())
    }
}

/// When a change may be tried again.
#[derive(Debug, Clone, Copy)]
struct Backoff {
    attempts: u32,
    next: Instant,
}

/// How long a cloud user's `onPremisesSyncEnabled` is trusted.
const CLOUD_USER_TTL: Duration = Duration::from_secs(900);

/// How often the running agent rewrites its metrics textfile (node_exporter scrapes every 15 s
/// or more).
const METRICS_EVERY: Duration = Duration::from_secs(10);

/// The running agent. It holds the queue's lock for its whole life.
pub struct SyncAgent {
    config: AgentConfig,
    queue: Queue,
    /// The policy in force (the gate's: a new file replaces it only once it verifies).
    in_force: PolicyInForce,
    validator: Arc<Validator>,
    /// What the policy must be: signed, and not older than one used.
    trust: policyc_gate::policy_file::Trust,
    graph: Graph,
    directory: Box<dyn Directory>,
    marks: Marks,
    audit: AuditLog,
    state: AgentState,
    state_path: PathBuf,
    saved: Instant,
    backoff: HashMap<String, Backoff>,
    /// The transient reason last recorded, by change id (or outcome, for none): one audit
    /// line per change of reason, not per attempt.
    said: HashMap<String, String>,
    /// No cloud request before this (a configuration error is in force).
    config_wait: Option<Instant>,
    cloud_users: HashMap<String, (CloudUser, Instant)>,
    webhook: Webhook,
    /// `delivery: replicated`: the key that opens Samba's encrypted cleartext.
    sync_key: Option<SyncKey>,
    /// `delivery: replicated`: the directory's update sequence number read up to (`None`: a
    /// full scan is due).
    usn: Option<u64>,
    /// `delivery: replicated`: by account (lower case), the digest of the password last
    /// queued or found unreadable, so that it is neither queued nor reported twice.
    seen: HashMap<String, String>,
    /// When the next reconciliation is due, in milliseconds since the Unix epoch (after the
    /// last report, whichever process wrote it).
    next_reconcile_ms: u64,
    /// This pass's queued changes: by cloud user (lower case), the accounts they are of.
    claimants: HashMap<String, Vec<String>>,
    /// When the metrics textfile was last written.
    metrics_at: Option<Instant>,
    _lock: QueueLock,
}

impl std::fmt::Debug for SyncAgent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncAgent")
            .field("queue", &self.config.queue)
            .field("policy", &self.validator.label())
            .field("graph", &self.graph)
            .finish_non_exhaustive()
    }
}

impl SyncAgent {
    /// Takes the queue's lock, opens the queue and the directory, loads the policy and prepares
    /// the cloud client.
    pub fn new(config: AgentConfig) -> Result<SyncAgent, AgentError> {
        let Some(directory) = &config.directory else {
            return Err(AgentError::Config("set `directory` in the configuration: the agent delivers a change only once the directory has committed it (kind: samba, socket: …/private/ldap_priv/ldapi)".into()));
        };
        config.check_filler()?;
        config.metrics.check()?;
        let directory = directory.open();
        let queue = Queue::open_sealed(&config.queue, &config.key_path())?;
        let lock = QueueLock::acquire(&config.queue)?;
        let trust = config.trust(true).map_err(|e| AgentError::Config(e.to_string()))?;
        let validator = policyc_gate::policy_file::load_policy(&config.policy, &trust)
            .map_err(AgentError::Policy)?;
        let graph = Graph::new(config.graph.clone())?;
        let sync_key = match (config.delivery, &config.gpg_secret_key) {
            (DeliveryModel::Queue, _) => None,
            (DeliveryModel::Replicated, None) => {
                return Err(AgentError::Config("`delivery: replicated` needs `gpg_secret_key`: the OpenPGP secret key whose fingerprint every DC names in `password hash gpg key ids`".into()));
            }
            (DeliveryModel::Replicated, Some(_))
                if !matches!(config.directory, Some(DirectoryConfig::Samba { .. })) =>
            {
                return Err(AgentError::Config("`delivery: replicated` reads the replicated passwords from a Samba DC: set `directory: {kind: samba, socket: …/private/ldap_priv/ldapi}`".into()));
            }
            (DeliveryModel::Replicated, Some(path)) => Some(SyncKey::from_file(path)?),
        };
        let webhook = Webhook::new(config.webhook.as_deref())?;
        let audit = AuditLog::new(&config.audit_log);
        let state_path = config.queue.join("state.json");
        let marks = Marks::new(&config.queue);
        let mut state = AgentState::load(&state_path);
        state.policy = Some(validator.label());
        state.pid = Some(std::process::id());
        state.poll_interval_ms = Some(config.poll_interval_ms);
        state.first_run_ms.get_or_insert_with(now_ms);
        state.stopped_ms = None;
        let in_force = PolicyInForce::with(validator, &config.policy);
        let validator = in_force.current().map_err(AgentError::Config)?;
        let (config_queue, reconcile_interval) =
            (config.queue.clone(), config.reconcile_interval_secs);
        let mut agent = SyncAgent {
            config,
            queue,
            in_force,
            validator,
            trust,
            graph,
            directory,
            marks,
            audit,
            state,
            state_path,
            saved: Instant::now(),
            backoff: HashMap::new(),
            said: HashMap::new(),
            config_wait: None,
            cloud_users: HashMap::new(),
            next_reconcile_ms: Report::next_due_ms(&config_queue, reconcile_interval),
            webhook,
            sync_key,
            usn: None,
            seen: HashMap::new(),
            claimants: HashMap::new(),
            metrics_at: None,
            _lock: lock,
        };
        agent.record(Outcome::AgentStarted, None, Vec::new(), None);
        agent.beat(true);
        Ok(agent)
    }

    /// The configuration it runs with.
    pub fn config(&self) -> &AgentConfig {
        &self.config
    }

    /// The policy in force.
    pub fn policy(&self) -> String {
        self.validator.label()
    }

    /// Runs until `stop` is set (SIGTERM, SIGINT): a pass over the queue, then a pause. A
    /// stop request ends the pass after the current delivery.
    pub fn run(&mut self, stop: &AtomicBool) {
        let poll = Duration::from_millis(self.config.poll_interval_ms.max(10));
        while !stop.load(Ordering::Relaxed) {
            self.pass(Some(stop));
            let next_retry = self.backoff.values().map(|b| b.next).min();
            let wait =
                next_retry.map_or(poll, |t| t.saturating_duration_since(Instant::now()).min(poll));
            let until = Instant::now() + wait.max(Duration::from_millis(10));
            while !stop.load(Ordering::Relaxed) && Instant::now() < until {
                std::thread::sleep(Duration::from_millis(20).min(until - Instant::now()));
            }
        }
        self.record(Outcome::AgentStopped, None, Vec::new(), None);
        self.state.stopped_ms = Some(now_ms());
        self.beat(true);
        self.publish(true);
    }

    /// One pass over the queue.
    pub fn tick(&mut self) -> Tick {
        self.pass(None)
    }

    fn pass(&mut self, stop: Option<&AtomicBool>) -> Tick {
        self.beat(false);
        self.reload_policy();
        let mut tick = Tick::default();
        if self.sync_key.is_some() {
            self.replicate(&mut tick);
        }
        let (changes, damaged) = match self.queue.pending() {
            Ok(p) => p,
            Err(e) => {
                let detail = format!("cannot read the queue: {e}");
                self.record(Outcome::Failed, None, Vec::new(), Some(detail.clone()));
                tick.events.push((Outcome::Failed, detail));
                return tick;
            }
        };
        for d in damaged {
            tick.events.push((Outcome::Damaged, d.to_string()));
            self.quarantine(d);
        }
        let changes = self.settle_stuck(changes);
        self.claimants.clear();
        for c in &changes {
            if let Some(user) = &c.user {
                let accounts = self.claimants.entry(user.to_lowercase()).or_default();
                if !accounts.iter().any(|a| a.eq_ignore_ascii_case(&c.account)) {
                    accounts.push(c.account.clone());
                }
            }
        }
        // By account, as the directory knows it (sAMAccountName ignores case), oldest first.
        let mut by_account: BTreeMap<String, Vec<Change>> = BTreeMap::new();
        for c in changes {
            by_account.entry(c.account.to_lowercase()).or_default().push(c);
        }
        for (_, list) in by_account {
            if stop.is_some_and(|s| s.load(Ordering::Relaxed)) {
                tick.waiting += list.len();
                continue;
            }
            self.account(list, &mut tick);
            self.beat(false);
        }
        let interval = self.config.reconcile_interval_secs;
        if interval > 0 && now_ms() >= self.next_reconcile_ms {
            self.reconcile(&mut tick);
            self.next_reconcile_ms = Report::next_due_ms(&self.config.queue, interval)
                .max(now_ms().saturating_add(interval.saturating_mul(1000)));
        }
        // What waits for another try, as the help desk sees it.
        let backoff = &self.backoff;
        self.state.retries.retain(|id, _| backoff.contains_key(id));
        self.beat(true);
        self.publish(false);
        tick
    }

    /// `delivery: replicated`: queues the directory's current password of every account whose
    /// password changed on this DC (set here, or replicated in from another DC) and is not
    /// the one last delivered or queued. The cleartext is Samba's `Primary:SambaGPG`, checked
    /// against the account's NT hash before it is trusted. The rest of the pass delivers it
    /// like any queued change (committed: it is the directory's).
    fn replicate(&mut self, tick: &mut Tick) {
        let since = self.usn.unwrap_or(0);
        let (accounts, highest) = match self.directory.changed_since(since) {
            Ok(found) => found,
            Err(e) => {
                self.transient(Outcome::DirectoryUnavailable, &e.to_string(), None, tick);
                return;
            }
        };
        for account in accounts {
            if let Err(e) = self.replicate_account(&account, tick) {
                // Read again next pass, from the same sequence number.
                self.transient(Outcome::DirectoryUnavailable, &e.to_string(), None, tick);
                return;
            }
        }
        self.usn = Some(highest);
    }

    /// Queues one account's replicated password when it is new to the agent.
    fn replicate_account(&mut self, account: &str, tick: &mut Tick) -> Result<(), AgentError> {
        let Some(found) = self.directory.replicated(account)? else {
            return Ok(());
        };
        let Some(hash) = found.state.nt_hash else { return Ok(()) };
        let digest = self.queue.password_digest(&hash);
        let key = account.to_lowercase();
        if self.seen.get(&key) == Some(&digest) {
            return Ok(());
        }
        let mark = self.marks.get(account).ok().flatten();
        if mark.as_ref().is_some_and(|m| {
            m.digest.as_deref() == Some(digest.as_str()) && m.stamp == found.state.stamp
        }) {
            self.seen.insert(key, digest);
            return Ok(());
        }
        // Already queued once and moved to failed/ (held, or refused by the cloud): not again
        // after a restart; reconciliation keeps reporting it.
        let (failed, _) = policyc_gate::queue::list_failed(self.queue.dir())?;
        if failed.iter().any(|c| {
            c.account.eq_ignore_ascii_case(account) && c.created_ms >= found.state.last_set_ms
        }) {
            self.seen.insert(key, digest);
            return Ok(());
        }
        let mut wanted = self.config.users.attributes();
        wanted.insert(Attribute::DisplayName);
        let ctx = self.directory.lookup(account, wanted)?;
        let Some(ctx) = ctx else { return Ok(()) };
        let Ok(user) = self.config.users.cloud_user(&ctx) else {
            // Not synced: nothing to deliver (the hook recorded `not_synced`).
            self.seen.insert(key, digest);
            return Ok(());
        };
        let set_on = found.state.stamp.map_or_else(String::new, |s| {
            format!(
                " (unicodePwd version {}, set on the DC with invocation id {})",
                s.version,
                s.invocation_id()
            )
        });
        let password = match (&self.sync_key, &found.encrypted) {
            (Some(k), Some(encrypted)) => k.decrypt(encrypted).and_then(|p| {
                if *nt_hash(&p) == hash {
                    Ok(p)
                } else {
                    Err(AgentError::Secret("the encrypted cleartext is not the current password (a DC without `password hash gpg key ids`, or Windows, set it)".into()))
                }
            }),
            _ => Err(AgentError::Secret("the directory keeps no encrypted cleartext of it: the DC that set it has no `password hash gpg key ids` naming the sync key".into())),
        };
        let password = match password {
            Ok(p) => p,
            Err(why) => {
                self.seen.insert(key, digest);
                let detail =
                    format!("cannot read the directory's password{set_on}: {why}; not delivered");
                let change = Change::describe(account, Some(&user));
                self.record(Outcome::NotDelivered, Some(&change), Vec::new(), Some(detail.clone()));
                tick.events.push((Outcome::NotDelivered, format!("`{account}`: {detail}")));
                return Ok(());
            }
        };
        let display = ctx.get(Attribute::DisplayName).first().cloned();
        let change = self
            .queue
            .enqueue(
                account,
                Some(&user),
                display.as_deref(),
                &password,
                &self.validator.digest_hex(),
            )
            .map_err(|source| AgentError::Enqueue { account: account.to_string(), source })?;
        self.seen.insert(key, digest);
        let detail = format!("read from the directory{set_on}");
        self.record(Outcome::Queued, Some(&change), Vec::new(), Some(detail));
        Ok(())
    }

    /// Compares the directory with the cloud ([`super::reconcile`]), records each new gap
    /// (and each closed one), and keeps the report for `agent status`.
    fn reconcile(&mut self, tick: &mut Tick) {
        let previous = Report::load(&self.config.queue);
        let first_run_ms = self.state.first_run_ms.unwrap_or(0);
        let (state, state_path, saved) = (&mut self.state, &self.state_path, &mut self.saved);
        let mut beat = || {
            if saved.elapsed() >= Duration::from_secs(1) {
                *saved = Instant::now();
                state.heartbeat_ms = Some(now_ms());
                if let Err(e) = state.save(state_path) {
                    say(&format!("policyc agent: cannot save `{}`: {e}", state_path.display()));
                }
            }
        };
        let inputs = Inputs {
            config: &self.config,
            queue: &self.queue,
            directory: self.directory.as_mut(),
            graph: &mut self.graph,
            first_run_ms,
            progress: &mut beat,
        };
        let result = super::reconcile::reconcile(inputs, previous.as_ref());
        match result {
            Ok(report) => {
                for (outcome, change, detail) in
                    super::reconcile::changes(previous.as_ref(), &report)
                {
                    tick.events.push((outcome, format!("`{}`: {detail}", change.account)));
                    self.record(outcome, Some(&change), Vec::new(), Some(detail));
                }
                if let Err(e) = report.save(&self.config.queue) {
                    say(&format!("policyc agent: cannot save the reconciliation report: {e}"));
                }
            }
            Err(e) => self.transient(Outcome::ReconcileFailed, &e.to_string(), None, tick),
        }
    }

    /// Resolves one account's queued changes against the directory, and delivers the one it
    /// committed.
    fn account(&mut self, list: Vec<Change>, tick: &mut Tick) {
        let Some(account) = list.first().map(|c| c.account.clone()) else { return };
        let notified = self.directory.commits_are_notified();
        let mut current = match notified {
            true => None,
            false => match self.directory.password(&account) {
                Ok(s) => s,
                Err(e) => {
                    self.transient(Outcome::DirectoryUnavailable, &e.to_string(), None, tick);
                    tick.waiting += list.len();
                    return;
                }
            },
        };
        let mut committed = None;
        let mut readable = Vec::with_capacity(list.len());
        for c in list {
            match self.queue.password(&c) {
                Ok(p) => {
                    if current.as_ref().and_then(|s| s.nt_hash) == Some(*nt_hash(&p)) {
                        committed = Some(readable.len());
                    }
                    readable.push(c);
                }
                Err(e) => self.fail(&c, Outcome::Damaged, format!("cannot decrypt: {e}"), tick),
            }
        }
        // Queued only once stored (the Windows filter): the newest change is the current one.
        if notified && let Some(newest) = readable.last() {
            committed = Some(readable.len() - 1);
            current =
                Some(PasswordState { nt_hash: None, last_set_ms: newest.created_ms, stamp: None });
        }
        let grace_ms = self.config.commit_grace_secs.saturating_mul(1000);
        let mut deliver = None;
        for (i, c) in readable.into_iter().enumerate() {
            match committed {
                Some(m) if i < m => self.drop_change(&c, Outcome::Superseded, None, tick),
                Some(m) if i == m => deliver = Some(c),
                _ if c.age_ms() < grace_ms => tick.waiting += 1,
                _ => {
                    let (outcome, detail) =
                        not_committed(current.as_ref(), &c, committed.is_some());
                    self.drop_change(&c, outcome, Some(detail), tick);
                }
            }
        }
        if let Some(c) = deliver {
            if self.stale(&c, current.as_ref(), tick) {
                return;
            }
            match self.deliver(&c, current.as_ref(), tick) {
                Some(true) => tick.delivered += 1,
                Some(false) => tick.waiting += 1,
                None => {}
            }
        }
    }

    /// Delivers one committed change: `Some(true)` delivered, `Some(false)` still queued,
    /// `None` finished otherwise.
    fn deliver(
        &mut self,
        change: &Change,
        current: Option<&PasswordState>,
        tick: &mut Tick,
    ) -> Option<bool> {
        let now = Instant::now();
        if self.config_wait.is_some_and(|t| t > now)
            || self.backoff.get(&change.id).is_some_and(|b| b.next > now)
        {
            return Some(false);
        }
        let Some(user) = change.user.clone() else {
            self.drop_change(
                change,
                Outcome::NotSynced,
                Some("the change names no cloud user".into()),
                tick,
            );
            return None;
        };
        match self.collision(change, &user) {
            Ok(None) => {}
            Ok(Some(others)) => {
                let detail = super::mapping::collision_detail(&change.account, &others, &user);
                self.fail(change, Outcome::CloudIdCollision, detail, tick);
                return None;
            }
            Err(e) => {
                let reason = e.to_string();
                self.transient(Outcome::DirectoryUnavailable, &reason, Some(change), tick);
                return Some(false);
            }
        }
        let password = match self.queue.password(change) {
            Ok(p) => p,
            Err(e) => {
                self.fail(change, Outcome::Damaged, format!("cannot decrypt: {e}"), tick);
                return None;
            }
        };
        let ctx = match self.context(change) {
            Ok(ctx) => ctx,
            Err(e) => {
                let reason = e.to_string();
                self.transient(Outcome::DirectoryUnavailable, &reason, Some(change), tick);
                return Some(false);
            }
        };
        // (rules refused, or why the store rules could not be evaluated)
        let (refused, unavailable): (Option<Vec<String>>, Option<String>) = {
            let verdict = self.validator.check(&password, &ctx);
            if verdict.refused_only_as_unavailable() {
                let why = format!("cannot re-check the change: {}", verdict.unavailable_reasons());
                (None, Some(why))
            } else {
                let rules = verdict.violations().iter().map(|v| v.rule().to_string()).collect();
                ((!verdict.is_compliant()).then_some(rules), None)
            }
        };
        if let Some(why) = unavailable {
            // The directory committed it and every other rule passes: wait for the store
            // rather than refuse a password the hook may have checked against it.
            self.transient(Outcome::StoreUnavailable, &why, Some(change), tick);
            return Some(false);
        }
        if let Some(rules) = refused.clone().filter(|_| self.config.mode == Mode::Report) {
            let detail = format!(
                "report-only: the current policy {} refuses it (rules: {}); delivered as without policyc",
                self.policy(),
                rules.join(", ")
            );
            self.record(Outcome::WouldRefuse, Some(change), rules, Some(detail));
        } else if let Some(rules) = refused {
            // The directory committed it: dropping it would leave the directory and the cloud
            // apart in silence. Held in failed/ (status unhealthy) until the user sets a new
            // password or an operator decides.
            let detail = format!(
                "the directory committed this password, but the current policy {} refuses it (rules: {}): held in failed/, not sent; the directory and the cloud differ until the user sets a new password (`agent failed purge` once done)",
                self.policy(),
                rules.join(", ")
            );
            self.fail_with(change, Outcome::HeldByPolicy, rules, detail, tick);
            return None;
        }
        let mut before = None;
        let answer = match self.cloud_user(&user) {
            Ok(u) if u.synced => {
                let detail = "Entra Connect syncs this user (onPremisesSyncEnabled): Graph cannot set its password; password hash sync carries it to the cloud";
                self.drop_change(change, Outcome::SyncedByEntraConnect, Some(detail.into()), tick);
                return None;
            }
            Ok(u) => {
                before = Some(u.last_password_change);
                self.graph.set_password(&user, &password)
            }
            Err(d) => d,
        };
        match answer {
            Delivery::Done => {
                // What the cloud shows now: a later `lastPasswordChangeDateTime` means a change
                // in the cloud (reconciliation); one that did not move means such a change
                // cannot be seen for this user.
                let after = self.graph.cloud_user(&user).ok();
                if let Some(u) = &after {
                    self.cloud_users.insert(user.to_lowercase(), (u.clone(), Instant::now()));
                }
                let cloud_changed = after.as_ref().and_then(|u| u.last_password_change.clone());
                // Moved, or reads "now" (to Graph's second: a delivery in the same second as
                // the one before leaves the same value).
                let cloud_signal = match (&before, &after) {
                    (Some(b), Some(a)) => {
                        Some(a.last_password_change.as_deref().is_some_and(|t| {
                            *b != a.last_password_change || super::reconcile::is_recent(t, 2)
                        }))
                    }
                    _ => None,
                };
                let mark = Mark {
                    account: change.account.clone(),
                    change: change.id.clone(),
                    user: Some(user.clone()),
                    pwd_last_set_ms: current.map_or(0, |s| s.last_set_ms),
                    delivered_ms: now_ms(),
                    digest: Some(self.queue.password_digest(&nt_hash(&password))),
                    stamp: current.and_then(|s| s.stamp),
                    cloud_changed,
                    cloud_signal,
                    acknowledged: false,
                };
                // Before the change leaves the queue: a crash in between must not deliver it
                // again after a newer one, nor forget that it was delivered.
                if let Err(e) = self.marks.set(&mark) {
                    say(&format!(
                        "policyc agent: delivered `{}`, but cannot record it as delivered: {e}",
                        change.account
                    ));
                }
                self.unqueue(change, Outcome::Delivered);
                self.backoff.remove(&change.id);
                self.said.remove(&change.id);
                self.said.remove(Outcome::DirectoryUnavailable.as_str());
                self.state.last_success_ms = Some(now_ms());
                self.state.latency.observe(change.age_ms());
                self.state.config_error = None;
                self.state.transient = None;
                self.record(Outcome::Delivered, Some(change), Vec::new(), None);
                Some(true)
            }
            Delivery::Retry { after, reason } => {
                let b = self
                    .backoff
                    .entry(change.id.clone())
                    .or_insert(Backoff { attempts: 0, next: Instant::now() });
                b.attempts += 1;
                // A floor whatever the server says (`Retry-After: 0` is not an invitation to
                // hammer it): the configured first wait, at least 100 ms and at most 1 s.
                let floor = Duration::from_millis(self.config.retry.initial_ms.clamp(100, 1000));
                let wait = after
                    .unwrap_or_else(|| backoff_delay(&self.config.retry, b.attempts))
                    .max(floor);
                b.next = Instant::now() + wait;
                let retrying = super::state::Retrying {
                    next_ms: now_ms().saturating_add(wait.as_millis() as u64),
                    attempts: b.attempts,
                    error: reason.clone(),
                };
                self.state.retries.insert(change.id.clone(), retrying);
                self.transient(Outcome::Retry, &reason, Some(change), tick);
                Some(false)
            }
            Delivery::Config { outcome, detail } => {
                self.config_wait =
                    Some(Instant::now() + Duration::from_millis(self.config.retry.max_ms));
                if Problem::note(&mut self.state.config_error, outcome.as_str(), &detail, now_ms())
                {
                    say(&format!(
                        "policyc agent: CONFIGURATION ERROR ({outcome}): {detail}; changes stay queued until it is fixed"
                    ));
                    self.record(outcome, Some(change), Vec::new(), Some(detail.clone()));
                }
                tick.events.push((outcome, detail));
                Some(false)
            }
            Delivery::Drift { detail } => {
                let policy = self.policy();
                say(&format!(
                    "policyc agent: POLICY DRIFT: the cloud refused a password that policy {policy} accepted (account `{}`): {detail}",
                    change.account
                ));
                let text = format!("cloud refused a password policy {policy} accepted: {detail}");
                self.fail(change, Outcome::PolicyDrift, text, tick);
                None
            }
            Delivery::User { outcome: Outcome::SyncedByEntraConnect, detail } => {
                self.cloud_users.remove(&user.to_lowercase());
                self.drop_change(change, Outcome::SyncedByEntraConnect, Some(detail), tick);
                None
            }
            Delivery::User { outcome, detail } => {
                self.fail(change, outcome, detail, tick);
                None
            }
        }
    }

    /// Whether the committed change must not go out because the account's high-water mark is
    /// not older than the directory's password: then it is finished here (the same change,
    /// delivered just before the agent stopped; or `stale`). A directory that does not say
    /// when the password was set (`pwdLastSet` 0: "must change at next logon") is not
    /// compared.
    fn stale(&mut self, change: &Change, current: Option<&PasswordState>, tick: &mut Tick) -> bool {
        let set_ms = current.map_or(0, |s| s.last_set_ms);
        let mark = match self.marks.get(&change.account) {
            Ok(Some(m)) => m,
            Ok(None) => return false,
            Err(e) => {
                // Moved aside, once and loudly; the account is ordered by the directory alone.
                tick.events.push((Outcome::Damaged, e.to_string()));
                self.quarantine(e);
                return false;
            }
        };
        // Without a directory to ask, the hook's order (the id's sequence number, which a
        // clock stepping back does not reorder) says which change is newer; with replication
        // stamps, the domain's own order (a reset on another DC can win with an earlier
        // `pwdLastSet`); else `pwdLastSet`.
        let not_newer = match (current.and_then(|s| s.stamp), mark.stamp) {
            _ if self.directory.commits_are_notified() => change.id <= mark.change,
            (Some(now), Some(then)) => now <= then,
            _ => set_ms != 0 && set_ms <= mark.pwd_last_set_ms,
        };
        if !not_newer {
            return false;
        }
        let same = mark.change == change.id
            || (current.and_then(|s| s.stamp).is_some()
                && current.and_then(|s| s.stamp) == mark.stamp
                && current.and_then(|s| s.nt_hash).map(|h| self.queue.password_digest(&h))
                    == mark.digest);
        if same {
            self.unqueue(change, Outcome::Delivered);
            let detail = "the cloud took it before the agent stopped; not sent again";
            self.record(Outcome::Delivered, Some(change), Vec::new(), Some(detail.into()));
            tick.delivered += 1;
        } else {
            let detail = format!(
                "the directory's password (set {}) is not newer than the one delivered {} (set {}): an older password never overwrites a newer one; not sent",
                rfc3339(set_ms),
                rfc3339(mark.delivered_ms),
                rfc3339(mark.pwd_last_set_ms)
            );
            self.drop_change(change, Outcome::Stale, Some(detail), tick);
        }
        true
    }

    /// The user as the policy sees it: the account and display name the change carries, plus
    /// what the directory holds of the other attributes the policy needs (the on-premises
    /// userPrincipalName among them: the change carries the cloud user's id).
    /// The other accounts whose changes would go to `user` too: queued in this pass, or mapped
    /// to it in the directory now (where it can be searched).
    fn collision(
        &mut self,
        change: &Change,
        user: &str,
    ) -> Result<Option<Vec<String>>, AgentError> {
        let mut others: Vec<String> = self
            .claimants
            .get(&user.to_lowercase())
            .into_iter()
            .flatten()
            .filter(|a| !a.eq_ignore_ascii_case(&change.account))
            .cloned()
            .collect();
        if !self.directory.commits_are_notified() {
            let found = self.config.users.others_on(self.directory.as_mut(), &change.account, user);
            for o in found?.into_iter().flatten() {
                if !others.iter().any(|a| a.eq_ignore_ascii_case(&o)) {
                    others.push(o);
                }
            }
        }
        others.sort_by_key(|a| a.to_lowercase());
        Ok((!others.is_empty()).then_some(others))
    }

    fn context(&mut self, change: &Change) -> Result<Context, AgentError> {
        let mut ctx = Context::new().with(Attribute::SamAccountName, change.account.clone());
        if let Some(d) = &change.display_name {
            ctx.set(Attribute::DisplayName, d.clone());
        }
        let carried: AttributeSet =
            [Attribute::SamAccountName, Attribute::DisplayName].into_iter().collect();
        let wanted = self.validator.attributes().without(carried);
        if wanted.is_empty() {
            return Ok(ctx);
        }
        if let Some(found) = self.directory.lookup(&change.account, wanted)? {
            ctx.extend_from(&found, wanted);
        }
        Ok(ctx)
    }

    /// The cloud's view of `user`, cached.
    fn cloud_user(&mut self, user: &str) -> Result<CloudUser, Delivery> {
        let key = user.to_lowercase();
        if let Some((u, at)) = self.cloud_users.get(&key)
            && at.elapsed() < CLOUD_USER_TTL
        {
            return Ok(u.clone());
        }
        let u = self.graph.cloud_user(user)?;
        self.cloud_users.insert(key, (u.clone(), Instant::now()));
        Ok(u)
    }

    /// A transient problem: recorded once per change of reason, with how long it has lasted.
    fn transient(
        &mut self,
        outcome: Outcome,
        reason: &str,
        change: Option<&Change>,
        tick: &mut Tick,
    ) {
        self.state.last_failure_ms = Some(now_ms());
        self.state.last_failure = Some(reason.to_string());
        let new = Problem::note(&mut self.state.transient, outcome.as_str(), reason, now_ms());
        let key = change.map_or_else(|| outcome.to_string(), |c| c.id.clone());
        if new || self.said.get(&key).is_none_or(|last| last != reason) {
            self.said.insert(key, reason.to_string());
            self.record(outcome, change, Vec::new(), Some(reason.to_string()));
        } else {
            self.state.count(outcome.as_str());
        }
        tick.events.push((outcome, reason.to_string()));
    }

    /// Removes a change that will not be delivered, with its outcome.
    fn drop_change(
        &mut self,
        c: &Change,
        outcome: Outcome,
        detail: Option<String>,
        tick: &mut Tick,
    ) {
        self.unqueue(c, outcome);
        self.backoff.remove(&c.id);
        self.said.remove(&c.id);
        if outcome != Outcome::Superseded {
            let what = detail.clone().unwrap_or_default();
            tick.events.push((outcome, format!("`{}`: {what}", c.account)));
        }
        self.record(outcome, Some(c), Vec::new(), detail);
    }

    /// Moves a change the cloud will never take to `failed/`, with why.
    fn fail(&mut self, change: &Change, outcome: Outcome, detail: String, tick: &mut Tick) {
        self.fail_with(change, outcome, Vec::new(), detail, tick);
    }

    /// [`SyncAgent::fail`], naming the rules behind it.
    fn fail_with(
        &mut self,
        change: &Change,
        outcome: Outcome,
        rules: Vec<String>,
        detail: String,
        tick: &mut Tick,
    ) {
        let failure =
            Failure { outcome: outcome.to_string(), reason: detail.clone(), at_ms: now_ms() };
        match self.queue.fail(change, failure) {
            Err(e @ QueueError::Io { .. })
                if e.path().and_then(Path::parent).is_some_and(|p| p.ends_with("pending")) =>
            {
                self.stuck(change, outcome, e.to_string());
            }
            Err(e) => say(&format!("policyc agent: cannot move {} to failed/: {e}", change.id)),
            Ok(()) => {}
        }
        self.backoff.remove(&change.id);
        self.said.remove(&change.id);
        self.state.last_failure_ms = Some(now_ms());
        self.state.last_failure = Some(detail.clone());
        tick.events.push((outcome, format!("`{}`: {detail}", change.account)));
        self.record(outcome, Some(change), rules, Some(detail));
    }

    /// Removes a finished change's record from `pending/`; one that cannot be removed is
    /// [`SyncAgent::stuck`].
    fn unqueue(&mut self, change: &Change, outcome: Outcome) {
        if let Err(e) = self.queue.remove(&change.id) {
            self.stuck(change, outcome, e.to_string());
        }
    }

    /// A finished change whose record stays in `pending/`: said and recorded once
    /// (`queue_unwritable`), kept in the state so that no later pass (nor a later run) sends
    /// or records it again.
    fn stuck(&mut self, change: &Change, outcome: Outcome, error: String) {
        let detail = format!(
            "{outcome}, but its record cannot leave pending/ ({error}); it is not sent again; make {} writable by the agent",
            self.queue.dir().join("pending").display()
        );
        say(&format!("policyc agent: `{}`: {detail}", change.account));
        let problem =
            Problem { outcome: outcome.to_string(), detail: error, since_ms: now_ms(), count: 1 };
        self.state.stuck.insert(change.id.clone(), problem);
        self.record(Outcome::QueueUnwritable, Some(change), Vec::new(), Some(detail));
    }

    /// Takes the changes already finished out of `changes`: each pass tries to remove their
    /// records again, and counts the tries; a removed one leaves the state.
    fn settle_stuck(&mut self, changes: Vec<Change>) -> Vec<Change> {
        // Removed by hand meanwhile: nothing left to wait for.
        self.state.stuck.retain(|id, _| changes.iter().any(|c| c.id == *id));
        let mut open = Vec::with_capacity(changes.len());
        for c in changes {
            if !self.state.stuck.contains_key(&c.id) {
                open.push(c);
                continue;
            }
            match self.queue.remove(&c.id) {
                Ok(()) => {
                    self.state.stuck.remove(&c.id);
                }
                Err(e) => {
                    if let Some(p) = self.state.stuck.get_mut(&c.id) {
                        p.count += 1;
                        p.detail = e.to_string();
                    }
                }
            }
        }
        open
    }

    /// Moves an unreadable record out of the way, loudly.
    fn quarantine(&mut self, e: QueueError) {
        if let Some(path) = e.path()
            && let Some(name) = path.file_name()
        {
            let _ = std::fs::rename(path, self.queue.dir().join("failed").join(name));
        }
        say(&format!("policyc agent: {e}"));
        self.record(Outcome::Damaged, None, Vec::new(), Some(e.to_string()));
    }

    /// Writes the audit line, counts the outcome, and tells the webhook when it should hear.
    fn record(
        &mut self,
        outcome: Outcome,
        change: Option<&Change>,
        rules: Vec<String>,
        detail: Option<String>,
    ) {
        self.state.count(outcome.as_str());
        let event = Event {
            time: now(),
            source: "agent",
            outcome,
            account: change.map(|c| c.account.as_str()),
            user: change.and_then(|c| c.user.as_deref()),
            rules: rules.iter().map(String::as_str).collect(),
            policy: Some(self.policy()),
            change: change.map(|c| c.id.as_str()).filter(|id| !id.is_empty()),
            detail: detail.clone(),
        };
        if let Err(e) = self.audit.write(&event) {
            say(&format!(
                "policyc agent: cannot write the audit log `{}`: {e}",
                self.audit.path().display()
            ));
        }
        if outcome.notifies() {
            self.webhook.post(outcome, change, &rules, detail.as_deref(), Some(&self.policy()));
        }
    }

    /// Shows the agent is alive: the heartbeat in `state.json`, written at least once a
    /// second while the agent works (and always when `force`).
    fn beat(&mut self, force: bool) {
        self.state.heartbeat_ms = Some(now_ms());
        if !force && self.saved.elapsed() < Duration::from_secs(1) {
            return;
        }
        self.saved = Instant::now();
        if let Err(e) = self.state.save(&self.state_path) {
            say(&format!("policyc agent: cannot save `{}`: {e}", self.state_path.display()));
        }
    }

    /// Rewrites the metrics textfile, if one is configured: after the first pass, at most
    /// every [`METRICS_EVERY`] (a scrape reads the policy and the queue), and when stopping.
    fn publish(&mut self, force: bool) {
        let Some(path) = self.config.metrics.textfile.clone() else { return };
        if !force && self.metrics_at.is_some_and(|t| t.elapsed() < METRICS_EVERY) {
            return;
        }
        self.metrics_at = Some(Instant::now());
        let problem = super::metrics::write_textfile(&self.config, &path).err().map(|e| {
            format!(
                "cannot write the metrics textfile `{}`: {e}; monitoring reads a stale one",
                path.display()
            )
        });
        if problem != self.state.metrics_error {
            // Said once, and kept in the state so that `agent status` names it.
            if let Some(p) = &problem {
                say(&format!("policyc agent: {p}"));
            }
            self.state.metrics_error = problem;
            self.beat(true);
        }
    }

    /// Replaces the policy when its file changed and the new one verifies.
    fn reload_policy(&mut self) {
        let trust = self.trust.clone();
        let Some(reload) = self.in_force.refresh(&self.config.policy, || Ok(trust)) else {
            return;
        };
        match reload {
            Reload::Loaded { .. } | Reload::Changed { .. } => {
                let Ok(validator) = self.in_force.current() else { return };
                let change = reload.message();
                say(&format!(
                    "policyc agent: {change}; queued changes are re-validated against it"
                ));
                self.validator = validator;
                self.state.policy = Some(self.policy());
                self.record(reload.outcome(), None, Vec::new(), Some(change));
            }
            Reload::Kept { error, .. } | Reload::Unavailable { error } => {
                say(&format!(
                    "policyc agent: new policy refused, keeping {}: {error}",
                    self.policy()
                ));
                self.record(Outcome::PolicyReloadFailed, None, Vec::new(), Some(error));
            }
        }
    }
}

/// Why the directory does not hold a change past the grace window.
fn not_committed(
    current: Option<&PasswordState>,
    change: &Change,
    newer_than_committed: bool,
) -> (Outcome, String) {
    match current {
        None => (Outcome::RefusedByDirectory, "the account is not in the directory".into()),
        Some(s) if !newer_than_committed && s.last_set_ms > change.created_ms => (
            Outcome::SupersededInDirectory,
            "the directory has since set a password this queue never saw; not sent".into(),
        ),
        Some(_) => (
            Outcome::RefusedByDirectory,
            "the directory did not commit this password (history, minimum age or another restriction); not sent".into(),
        ),
    }
}

fn rfc3339(ms: u64) -> String {
    humantime::format_rfc3339_millis(std::time::UNIX_EPOCH + Duration::from_millis(ms)).to_string()
}

/// Capped exponential backoff with jitter: `initial * 2^(attempt-1)`, at most `max`, times a
/// random factor in [0.5, 1].
fn backoff_delay(retry: &super::config::RetryConfig, attempt: u32) -> Duration {
    let base = retry
        .initial_ms
        .saturating_mul(1u64 << attempt.saturating_sub(1).min(30))
        .min(retry.max_ms);
    let mut r = [0u8; 2];
    let _ = policyc_gate::crypto::random(&mut r);
    let jitter = 0.5 + f64::from(u16::from_le_bytes(r)) / f64::from(u16::MAX) / 2.0;
    Duration::from_millis((base as f64 * jitter) as u64)
}
