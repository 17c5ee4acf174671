//! `policyc agent status`: queue depth, age of the oldest pending change, failed changes by
//! reason, last success and failure, the problems in force, counts by outcome, the policy in
//! force, and whether an agent is running at all, with a health verdict for monitoring.

use super::config::AgentConfig;
use super::reconcile::rfc3339;
use super::state::AgentState;
use policyc_gate::queue::{list_failed, list_pending, now_ms};
use serde::Serialize;
use std::collections::BTreeMap;

/// The agent's health.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    /// Changes waiting for the cloud (or for the directory's commit).
    pub pending: usize,
    /// Age of the oldest, in seconds.
    pub oldest_pending_secs: Option<u64>,
    /// Changes in `failed/`, waiting for a human.
    pub failed: usize,
    /// Those changes by reason (outcome), with unreadable records as `damaged`.
    pub failed_by_reason: BTreeMap<String, u64>,
    /// Last delivery (RFC 3339).
    pub last_success: Option<String>,
    /// Last failure (RFC 3339), and what it was.
    pub last_failure: Option<String>,
    /// What the last failure was.
    pub last_failure_reason: Option<String>,
    /// The agent's last heartbeat (RFC 3339).
    pub heartbeat: Option<String>,
    /// Transient errors in force: what, and for how many seconds.
    pub transient: Option<String>,
    /// Changes by outcome.
    pub counts: BTreeMap<String, u64>,
    /// The policy the agent last ran.
    pub policy: Option<String>,
    /// The last reconciliation: when, accounts compared, in sync, and each account not simply
    /// in sync (gaps keep the agent unhealthy).
    pub reconcile: Option<super::reconcile::Report>,
    /// No problem below.
    pub healthy: bool,
    /// Why it is not healthy.
    pub problems: Vec<String>,
}

/// Reads the queue and the state; never opens a sealed record.
pub fn status(config: &AgentConfig) -> Status {
    let state = AgentState::load(&config.queue.join("state.json"));
    let now = now_ms();
    let mut problems = Vec::new();
    problems.extend(agent_problem(config, &state));
    if let Some(p) = &state.config_error {
        problems.push(format!(
            "configuration error since {} ({} times): {}: {}; changes stay queued until it is fixed",
            rfc3339(p.since_ms),
            p.count,
            p.outcome,
            p.detail
        ));
    }
    problems.extend(state.metrics_error.clone());
    if let Some(first) = state.stuck.values().min_by_key(|p| p.since_ms) {
        let tries: u64 = state.stuck.values().map(|p| p.count).sum();
        problems.push(format!(
            "{} finished change(s) cannot leave pending/ (since {}, {tries} times): {}; they are not sent again; make {} writable by the agent",
            state.stuck.len(),
            rfc3339(first.since_ms),
            first.detail,
            config.queue.join("pending").display()
        ));
    }
    let (pending, oldest) = match list_pending(&config.queue) {
        Ok((changes, damaged)) => {
            if !damaged.is_empty() {
                problems.push(format!("{} damaged queue records", damaged.len()));
            }
            // Finished ones that could not be removed are named above, not waiting.
            let waiting: Vec<_> =
                changes.iter().filter(|c| !state.stuck.contains_key(&c.id)).collect();
            let oldest = waiting.iter().map(|c| c.age_ms() / 1000).max();
            (waiting.len(), oldest)
        }
        Err(e) => {
            problems.push(format!("cannot read the queue: {e}"));
            (0, None)
        }
    };
    if let Some(age) = oldest
        && age > config.unhealthy_after_secs
    {
        problems.push(format!(
            "the oldest pending change is {age} s old (limit {} s): the cloud is not taking changes",
            config.unhealthy_after_secs
        ));
    }
    let mut failed_by_reason = BTreeMap::new();
    let failed = match list_failed(&config.queue) {
        Ok((changes, unreadable)) => {
            for c in &changes {
                let reason = c.failure.as_ref().map_or("failed", |f| f.outcome.as_str());
                *failed_by_reason.entry(reason.to_string()).or_insert(0) += 1;
            }
            if !unreadable.is_empty() {
                failed_by_reason.insert("damaged".into(), unreadable.len() as u64);
            }
            changes.len() + unreadable.len()
        }
        Err(e) => {
            problems.push(format!("cannot read failed/: {e}"));
            0
        }
    };
    if failed > 0 {
        let reasons: Vec<String> =
            failed_by_reason.iter().map(|(k, v)| format!("{k} {v}")).collect();
        let changes = if failed == 1 { "change" } else { "changes" };
        problems.push(format!(
            "{failed} {changes} could not be delivered ({}); see `policyc agent failed list`",
            reasons.join(", ")
        ));
    }
    hook_problems(config, &mut problems);
    let loaded = config
        .trust(false)
        .and_then(|t| policyc_gate::policy_file::load_policy(&config.policy, &t));
    if let Err(e) = loaded {
        problems.push(format!("the policy does not load: {e}"));
    }
    let reconcile = super::reconcile::Report::read(&config.queue).unwrap_or_else(|e| {
        problems.push(format!("{e}: the gaps it lists are unknown"));
        None
    });
    for gap in reconcile.iter().flat_map(super::reconcile::Report::gaps) {
        problems.push(format!(
            "{} `{}`{}: {}; {}",
            gap.standing.as_str(),
            gap.account,
            gap.user.as_deref().map(|u| format!(" ({u})")).unwrap_or_default(),
            gap.detail,
            gap.remedy
        ));
    }
    let transient = state.transient.as_ref().map(|p| {
        format!(
            "{}: {} (for {} s, {} times)",
            p.outcome,
            p.detail,
            now.saturating_sub(p.since_ms) / 1000,
            p.count
        )
    });
    Status {
        pending,
        oldest_pending_secs: oldest,
        failed,
        failed_by_reason,
        last_success: state.last_success_ms.map(rfc3339),
        last_failure: state.last_failure_ms.map(rfc3339),
        last_failure_reason: state.last_failure,
        heartbeat: state.heartbeat_ms.map(rfc3339),
        transient,
        counts: state.counts,
        policy: state.policy,
        reconcile,
        healthy: problems.is_empty(),
        problems,
    }
}

/// Why no agent is working on the queue, if none is: never run, stopped on a signal, no
/// heartbeat for three polls, or (cron mode) a run overdue.
pub fn agent_problem(config: &AgentConfig, state: &AgentState) -> Option<String> {
    let now = now_ms();
    let poll = state.poll_interval_ms.unwrap_or(config.poll_interval_ms).max(1000);
    match state.heartbeat_ms {
        None => Some("no agent has run on this queue (no heartbeat in state.json)".into()),
        Some(_) if state.stopped_ms.is_some() => Some(format!(
            "agent stopped at {} (SIGTERM or SIGINT): nothing is delivered until it runs again",
            rfc3339(state.stopped_ms.unwrap_or(0))
        )),
        Some(beat) if config.once_every_secs.is_some() => {
            let every = config.once_every_secs.unwrap_or(0);
            (now.saturating_sub(beat) > every.saturating_add(60).saturating_mul(1000)).then(|| {
                format!(
                    "no agent run since {} (cron mode: a run every {every} s is overdue; is the timer running?)",
                    rfc3339(beat)
                )
            })
        }
        Some(beat) if now.saturating_sub(beat) > 3 * poll => Some(format!(
            "agent not running since {} (no heartbeat for {} s; a running agent beats every {} s)",
            rfc3339(beat),
            now.saturating_sub(beat) / 1000,
            poll / 1000
        )),
        Some(_) => None,
    }
}

/// What the hook needs and what it left: its failures since its last good run
/// ([`super::hook_health`]), and whether the queue and the audit log it writes can be written
/// now (a probe file in `QUEUE/tmp`, the log opened for appending), so that a hook refusing every
/// reset for want of them shows here, not only in Samba's log.
fn hook_problems(config: &AgentConfig, problems: &mut Vec<String>) {
    match super::hook_health::read(&config.queue) {
        Ok(Some(super::hook_health::HookHealth { failing: Some(f), .. })) => problems.push(format!(
            "the hook is failing: {} time(s) since {} (last at {}{}): {}; password changes are refused (or accepted unchecked with --fail-open) until it is fixed",
            f.count,
            rfc3339(f.since_ms),
            rfc3339(f.last_ms),
            f.account.as_deref().map(|a| format!(", account `{a}`")).unwrap_or_default(),
            f.what
        )),
        Ok(_) => {}
        Err(e) => problems.push(format!("cannot read the hook's health: {e}")),
    }
    let probe = config.queue.join("tmp").join(format!(".status-probe-{}", std::process::id()));
    match policyc_gate::files::create_new(&probe, 0o600) {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
        }
        Err(e) => problems.push(format!("the hook cannot queue changes: {e}")),
    }
    if let Err(e) = policyc_gate::audit::AuditLog::new(&config.audit_log).open() {
        problems.push(format!(
            "the audit log cannot be written: {e}; the hook refuses every change it cannot record"
        ));
    }
}
