//! The agent's persistent state (`QUEUE/state.json`), for `agent status` and monitoring:
//! counters, last success and failure, the heartbeat, and the problems in force.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// What the agent has done so far, and what is wrong now.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentState {
    /// Changes by outcome (`delivered`, `superseded`, `refused_by_directory`, ...).
    pub counts: BTreeMap<String, u64>,
    /// Last delivery, in milliseconds since the Unix epoch.
    pub last_success_ms: Option<u64>,
    /// Last failure (drift, refusal, or retry), in milliseconds since the Unix epoch.
    pub last_failure_ms: Option<u64>,
    /// What the last failure was (no password).
    pub last_failure: Option<String>,
    /// The policy in force (`name@digest`).
    pub policy: Option<String>,
    /// When the running agent last showed it is alive, in milliseconds since the Unix epoch.
    #[serde(default)]
    pub heartbeat_ms: Option<u64>,
    /// Its poll interval: status expects a heartbeat at least every three.
    #[serde(default)]
    pub poll_interval_ms: Option<u64>,
    /// Its process id.
    #[serde(default)]
    pub pid: Option<u32>,
    /// A configuration error in force (credentials, permissions, URLs): nothing is delivered.
    #[serde(default)]
    pub config_error: Option<Problem>,
    /// A transient error in force (throttling, 5xx, network, directory down).
    #[serde(default)]
    pub transient: Option<Problem>,
    /// When an agent first ran on this queue, in milliseconds since the Unix epoch:
    /// reconciliation does not hold it against the agent that it never delivered a password
    /// set before.
    #[serde(default)]
    pub first_run_ms: Option<u64>,
    /// When the agent last stopped on a signal (cleared when one starts): status says so at
    /// once, not only once the heartbeat is overdue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped_ms: Option<u64>,
    /// Finished changes whose record could not be removed from `pending/`, by change id: the
    /// outcome already recorded, the error, since when, and how many passes tried again. They
    /// are never sent or recorded again; each pass tries to remove them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub stuck: BTreeMap<String, Problem>,
    /// How long delivered changes waited, from the hook's decision to the cloud's answer.
    #[serde(default)]
    pub latency: Latency,
    /// Changes the cloud did not take yet, by change id: when the agent tries again, how often
    /// it tried, and the last error (for the help desk's view).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub retries: BTreeMap<String, Retrying>,
    /// Why the metrics textfile could not be written, while it cannot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics_error: Option<String>,
}

/// A change waiting for another try.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retrying {
    /// The next try, in milliseconds since the Unix epoch.
    pub next_ms: u64,
    /// Tries so far.
    pub attempts: u32,
    /// The last error (no password).
    pub error: String,
}

/// A cumulative histogram of delivery latencies (Prometheus' shape: counts per upper bound).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Latency {
    /// Deliveries that took at most [`LATENCY_BOUNDS_SECS`]`[i]` seconds, by `i`.
    pub buckets: Vec<u64>,
    /// All deliveries.
    pub count: u64,
    /// Their latencies added up, in milliseconds.
    pub sum_ms: u64,
}

/// The histogram's upper bounds, in seconds: from a prompt delivery to an outage of hours.
pub const LATENCY_BOUNDS_SECS: [u64; 9] = [1, 5, 15, 60, 180, 600, 1800, 3600, 14400];

impl Latency {
    /// Counts one delivery that took `ms`.
    pub fn observe(&mut self, ms: u64) {
        self.buckets.resize(LATENCY_BOUNDS_SECS.len(), 0);
        for (bound, n) in LATENCY_BOUNDS_SECS.iter().zip(self.buckets.iter_mut()) {
            if ms <= bound * 1000 {
                *n += 1;
            }
        }
        self.count += 1;
        self.sum_ms = self.sum_ms.saturating_add(ms);
    }
}

/// A problem that lasts: what, since when, how often seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// The outcome (`token_refused`, `retry`, ...).
    pub outcome: String,
    /// What is wrong (no password).
    pub detail: String,
    /// First seen, in milliseconds since the Unix epoch.
    pub since_ms: u64,
    /// Times seen.
    pub count: u64,
}

impl Problem {
    /// Records one more sighting of `outcome`/`detail` in `slot`; returns whether it is new
    /// (another outcome or detail than the one in force), i.e. worth an audit line.
    pub fn note(slot: &mut Option<Problem>, outcome: &str, detail: &str, now_ms: u64) -> bool {
        match slot {
            Some(p) if p.outcome == outcome && p.detail == detail => {
                p.count += 1;
                false
            }
            Some(p) if p.outcome == outcome => {
                p.detail = detail.to_string();
                p.count += 1;
                true
            }
            _ => {
                *slot = Some(Problem {
                    outcome: outcome.to_string(),
                    detail: detail.to_string(),
                    since_ms: now_ms,
                    count: 1,
                });
                true
            }
        }
    }
}

impl AgentState {
    /// Reads the state; a missing file is a fresh state.
    pub fn load(path: &Path) -> AgentState {
        policyc_gate::files::read_bounded(path, 1 << 20, false)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    /// Writes the state atomically.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        use std::io::Write;
        let tmp = path.with_extension("json.tmp");
        // Whatever stands at the temporary name (a leftover, or a planted link) goes first:
        // removing a link never touches its target, and the new file never follows one.
        match std::fs::remove_file(&tmp) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        let mut f = policyc_gate::files::create_new(&tmp, 0o600)?;
        f.write_all(&serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?)?;
        std::fs::rename(&tmp, path)
    }

    /// Counts one outcome.
    pub fn count(&mut self, outcome: &str) {
        *self.counts.entry(outcome.to_string()).or_default() += 1;
    }
}
