//! `policyc agent status`: queue depth, age of the oldest pending change, last success and
//! failure, counts by outcome and the policy in force, with a health verdict for monitoring.

use super::config::AgentConfig;
use super::queue::{failed_count, list_pending};
use super::state::AgentState;
use serde::Serialize;
use std::collections::BTreeMap;

/// The agent's health.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    /// Changes waiting for the cloud.
    pub pending: usize,
    /// Age of the oldest, in seconds.
    pub oldest_pending_secs: Option<u64>,
    /// Changes in `failed/`, waiting for a human.
    pub failed: usize,
    /// Last delivery (RFC 3339).
    pub last_success: Option<String>,
    /// Last failure (RFC 3339), and what it was.
    pub last_failure: Option<String>,
    /// What the last failure was.
    pub last_failure_reason: Option<String>,
    /// Changes by outcome.
    pub counts: BTreeMap<String, u64>,
    /// The policy the agent last ran.
    pub policy: Option<String>,
    /// No problem below.
    pub healthy: bool,
    /// Why it is not healthy.
    pub problems: Vec<String>,
}

fn rfc3339(ms: u64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms);
    humantime::format_rfc3339_seconds(t).to_string()
}

/// Reads the queue and the state; never opens a sealed record.
pub fn status(config: &AgentConfig) -> Status {
    let state = AgentState::load(&config.queue.join("state.json"));
    let mut problems = Vec::new();
    let (pending, oldest) = match list_pending(&config.queue) {
        Ok((changes, damaged)) => {
            if !damaged.is_empty() {
                problems.push(format!("{} damaged queue records", damaged.len()));
            }
            let oldest = changes.iter().map(|c| c.age_ms() / 1000).max();
            (changes.len(), oldest)
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
    let failed = failed_count(&config.queue);
    if failed > 0 {
        problems.push(format!(
            "{failed} changes could not be delivered (see the audit log; records in failed/)"
        ));
    }
    if let Err(e) = crate::Validator::from_path(&config.policy) {
        problems.push(format!("the policy does not load: {e}"));
    }
    Status {
        pending,
        oldest_pending_secs: oldest,
        failed,
        last_success: state.last_success_ms.map(rfc3339),
        last_failure: state.last_failure_ms.map(rfc3339),
        last_failure_reason: state.last_failure,
        counts: state.counts,
        policy: state.policy,
        healthy: problems.is_empty(),
        problems,
    }
}
