//! The agent's persistent counters (`QUEUE/state.json`), for `agent status` and monitoring.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// What the agent has done so far.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentState {
    /// Changes by outcome (`delivered`, `superseded`, `rejected`, `policy_drift`, `failed`, `retry`).
    pub counts: BTreeMap<String, u64>,
    /// Last delivery, in milliseconds since the Unix epoch.
    pub last_success_ms: Option<u64>,
    /// Last failure (drift, refusal, or retry), in milliseconds since the Unix epoch.
    pub last_failure_ms: Option<u64>,
    /// What the last failure was (no password).
    pub last_failure: Option<String>,
    /// The policy in force (`name@digest`).
    pub policy: Option<String>,
}

impl AgentState {
    /// Reads the state; a missing file is a fresh state.
    pub fn load(path: &Path) -> AgentState {
        std::fs::read(path).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default()
    }

    /// Writes the state atomically.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?)?;
        std::fs::rename(&tmp, path)
    }

    /// Counts one outcome.
    pub fn count(&mut self, outcome: &str) {
        *self.counts.entry(outcome.to_string()).or_default() += 1;
    }
}
