//! What the hook's failures leave for `agent status`: `QUEUE/hook-health.json`, written by the
//! hook when it cannot judge or queue a change, or cannot record its decision (the queue, key,
//! audit log, policy, directory or a store failing), and cleared by its next good run; with the
//! count of its decisions by outcome (for the metrics). The audit log cannot be where this is
//! kept: it may be the thing that failed.

use crate::AgentError;
use policyc_gate::outcome::Outcome;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The file, in the queue's directory.
pub const HOOK_HEALTH_FILE: &str = "hook-health.json";

/// The largest file read.
const MAX_BYTES: usize = 1 << 16;

/// The hook's failures since its last good run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HookHealth {
    /// The failure in force, if the last run failed.
    pub failing: Option<HookFailure>,
    /// When a good run last cleared a failure, in milliseconds since the Unix epoch.
    pub recovered_ms: Option<u64>,
    /// The hook's decisions by outcome (`accepted`, `rejected`, `would_refuse`, ...), for the
    /// metrics: the audit log is rotated, these are not.
    #[serde(default)]
    pub counts: std::collections::BTreeMap<String, u64>,
}

/// A run of hook failures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HookFailure {
    /// The first of them, in milliseconds since the Unix epoch.
    pub since_ms: u64,
    /// The last.
    pub last_ms: u64,
    /// How many.
    pub count: u64,
    /// The last one's outcome and reason (no password).
    pub what: String,
    /// The account the last one was about.
    pub account: Option<String>,
}

/// Records a run of the hook in `dir`: its outcome (counted), and `failure` (its outcome and
/// reason) or a good run, which clears a failure in force.
///
/// # Errors
/// The file cannot be read or written.
pub fn record(
    dir: &Path,
    outcome: Outcome,
    failure: Option<(&str, Option<&str>)>,
) -> std::io::Result<()> {
    let path = dir.join(HOOK_HEALTH_FILE);
    policyc_gate::files::secure_dir(dir)?;
    let file = policyc_gate::files::open_private(&path, 0o600)?;
    policyc_gate::files::update_locked(&file, MAX_BYTES, |text| {
        let mut health: HookHealth = serde_json::from_str(text).unwrap_or_default();
        let now = policyc_gate::queue::now_ms();
        *health.counts.entry(outcome.as_str().to_string()).or_default() += 1;
        match failure {
            None if health.failing.is_none() => {}
            None => {
                health.failing = None;
                health.recovered_ms = Some(now);
            }
            Some((what, account)) => {
                let (since_ms, count) =
                    health.failing.as_ref().map_or((now, 0), |f| (f.since_ms, f.count));
                health.failing = Some(HookFailure {
                    since_ms,
                    last_ms: now,
                    count: count + 1,
                    what: what.to_string(),
                    account: account.map(str::to_string),
                });
            }
        }
        Ok(((), Some(serde_json::to_vec(&health).map_err(std::io::Error::other)?)))
    })
}

/// What the hook left in `dir`, if anything.
///
/// # Errors
/// The file is there but cannot be read or parsed.
pub fn read(dir: &Path) -> Result<Option<HookHealth>, AgentError> {
    let path = dir.join(HOOK_HEALTH_FILE);
    match policyc_gate::files::read_bounded(&path, MAX_BYTES, true) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| AgentError::File(format!("`{}`: {e}", path.display()))),
        Err(policyc_gate::files::FileError::Io { source, .. })
            if source.kind() == std::io::ErrorKind::NotFound =>
        {
            Ok(None)
        }
        Err(e) => Err(AgentError::File(e.to_string())),
    }
}
