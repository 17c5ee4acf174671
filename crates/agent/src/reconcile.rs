//! Reconciliation: every gap between the directory and the cloud, per account, each with its
//! remedy (KB 2652040's causes). For each account the agent has delivered (and each account
//! whose password was set since the agent first ran), it compares the directory's current
//! password (a keyed digest of its NT hash) with the last one delivered, and the cloud's
//! `lastPasswordChangeDateTime` with the one read just after that delivery. The cloud is read
//! with the paged `GET /v1.0/users?$select=…` (1 request per 999 users, 429 honoured). The
//! result is written to `QUEUE/reconcile.json`, which `agent status` reads: every gap keeps it
//! unhealthy until it is resolved.

use super::config::AgentConfig;
use super::directory::Directory;
use super::graph::{CloudUser, Graph};
use super::marks::{Mark, Marks};
use crate::AgentError;
use policyc_gate::outcome::Outcome;
use policyc_gate::queue::{Change, Queue, now_ms};
use policyc_runtime::ir::AttributeSet;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Where an account stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    /// The cloud holds the password the directory holds, and has not changed it since.
    InSync,
    /// A change is queued and on its way.
    Pending,
    /// KB cause 3: the cloud's password changed after the agent's last delivery.
    ChangedInCloud,
    /// The directory holds a password the cloud never got (a reset on a DC without an agent,
    /// a change lost, dropped, or held by a tightened policy).
    NotDelivered,
    /// In sync with what was delivered, but the cloud does not show its own changes for this
    /// user (`lastPasswordChangeDateTime` did not move when the agent set the password), so a
    /// change in the cloud could not be seen.
    CloudUnobservable,
    /// An operator accepted the cloud's password as it is (`--acknowledge`).
    Acknowledged,
}

impl Standing {
    /// Whether it is a gap that keeps the agent unhealthy.
    pub fn is_gap(self) -> bool {
        matches!(self, Standing::ChangedInCloud | Standing::NotDelivered)
    }

    /// The name in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Standing::InSync => "in_sync",
            Standing::Pending => "pending",
            Standing::ChangedInCloud => "changed_in_cloud",
            Standing::NotDelivered => "not_delivered",
            Standing::CloudUnobservable => "cloud_unobservable",
            Standing::Acknowledged => "acknowledged",
        }
    }
}

/// One account's standing, with what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// The on-premises account.
    pub account: String,
    /// The cloud user, when known.
    pub user: Option<String>,
    /// Where it stands.
    pub standing: Standing,
    /// What was seen (no password, no hash).
    pub detail: String,
    /// What to do.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub remedy: String,
    /// When this standing was first seen, in milliseconds since the Unix epoch.
    pub since_ms: u64,
    /// Which of Microsoft KB 2652040's causes it is, for the help desk: 1 not yet synced, 2
    /// refused by the cloud's policy, 3 changed in the cloud, 4 sync broken (lost, dropped,
    /// held, or set where no agent delivers from).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kb_cause: Option<u8>,
}

impl Finding {
    /// The KB 2652040 cause of a standing; for `not_delivered`, 2 when the cloud refused the
    /// password (`policy_drift` in `failed/`), else 4.
    fn cause(standing: Standing, failure: Option<&str>) -> Option<u8> {
        match standing {
            Standing::Pending => Some(1),
            Standing::ChangedInCloud => Some(3),
            Standing::NotDelivered if failure == Some("policy_drift") => Some(2),
            Standing::NotDelivered => Some(4),
            _ => None,
        }
    }
}

/// One reconciliation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// When it ran, in milliseconds since the Unix epoch.
    pub at_ms: u64,
    /// Accounts compared.
    pub accounts: usize,
    /// Accounts in sync.
    pub in_sync: usize,
    /// Accounts the agent never delivered, whose password predates it: not compared.
    pub unverified: usize,
    /// Every account not simply in sync.
    pub findings: Vec<Finding>,
    /// Graph requests made.
    pub requests: u32,
}

impl Report {
    /// The gaps (unhealthy until resolved).
    pub fn gaps(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.standing.is_gap())
    }

    /// The report's file in the queue directory.
    pub fn path(queue: &Path) -> PathBuf {
        queue.join("reconcile.json")
    }

    /// The last report, if any.
    pub fn load(queue: &Path) -> Option<Report> {
        Report::read(queue).ok().flatten()
    }

    /// The last report: `None` when there is none yet, an error when the file is there but
    /// cannot be trusted or read (status must not take that for "no gaps").
    pub fn read(queue: &Path) -> Result<Option<Report>, AgentError> {
        let path = Report::path(queue);
        if std::fs::symlink_metadata(&path).is_err() {
            return Ok(None);
        }
        let bytes = policyc_gate::files::read_bounded(&path, 64 << 20, false)
            .map_err(|e| AgentError::File(format!("cannot read the reconciliation report: {e}")))?;
        serde_json::from_slice(&bytes).map(Some).map_err(|e| {
            AgentError::File(format!(
                "the reconciliation report `{}` is damaged: {e}",
                path.display()
            ))
        })
    }

    /// When the next reconciliation is due, in milliseconds since the Unix epoch, after the
    /// report saved in `queue` (now, when there is none).
    pub fn next_due_ms(queue: &Path, interval_secs: u64) -> u64 {
        Report::load(queue)
            .map_or(0, |r| r.at_ms.saturating_add(interval_secs.saturating_mul(1000)))
    }

    /// Writes it atomically (a fresh file renamed into place).
    pub fn save(&self, queue: &Path) -> Result<(), AgentError> {
        let bytes = serde_json::to_vec_pretty(self).map_err(|e| AgentError::File(e.to_string()))?;
        Ok(policyc_gate::queue::place(queue, &bytes, &Report::path(queue))?)
    }
}

/// The remedy for KB cause 3 (Microsoft KB 2652040: the password was changed in the cloud,
/// not on-premises).
pub const CHANGED_IN_CLOUD_REMEDY: &str = "the password was changed in the cloud after the agent delivered the directory's (KB 2652040 cause 3). Reset it on-premises (the agent then delivers the new one and the gap closes), or accept the cloud's password with `policyc agent reconcile --acknowledge ACCOUNT`";

/// The remedy for a password the cloud never got.
pub const NOT_DELIVERED_REMEDY: &str = "the directory holds a password the cloud never got. With `delivery: replicated` the agent delivers it by itself once it can read it; otherwise have the user (or an admin) reset the password on a DC whose hook queues for this agent, and check `agent failed list` and the audit log for why it was not delivered";

/// Everything reconciliation reads.
pub struct Inputs<'a> {
    /// The configuration.
    pub config: &'a AgentConfig,
    /// The queue (its key makes the digests).
    pub queue: &'a Queue,
    /// The local directory.
    pub directory: &'a mut dyn Directory,
    /// The cloud.
    pub graph: &'a mut Graph,
    /// When the agent first ran on this queue (accounts set before, never delivered, are not
    /// compared).
    pub first_run_ms: u64,
    /// Called as the work goes on (the agent's heartbeat: a long reconciliation, or one
    /// waiting out Graph's throttling, must not look like a dead agent).
    pub progress: &'a mut dyn FnMut(),
}

impl std::fmt::Debug for Inputs<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inputs").field("queue", &self.queue.dir()).finish_non_exhaustive()
    }
}

/// Compares the directory with the cloud. `previous` keeps the `since` of standing findings.
pub fn reconcile(inputs: Inputs<'_>, previous: Option<&Report>) -> Result<Report, AgentError> {
    let Inputs { config, queue, directory, graph, first_run_ms, progress } = inputs;
    let marks = Marks::new(&config.queue);
    let (all_marks, damaged) = marks.all();
    if let Some(e) = damaged.first() {
        return Err(AgentError::File(format!("cannot read a delivery mark: {e}")));
    }
    // (account, the keyed digest of its current password where the directory can say, when set)
    let accounts: Vec<(String, Option<String>, u64)> = if directory.commits_are_notified() {
        // A Windows DC never returns unicodePwd: only the cloud side can be compared.
        all_marks.iter().map(|m| (m.account.clone(), None, m.pwd_last_set_ms)).collect()
    } else {
        directory
            .password_hashes()?
            .into_iter()
            .map(|a| {
                let digest = queue.password_digest(&a.nt_hash);
                (a.account, Some(digest), a.last_set_ms)
            })
            .collect()
    };
    let marks: HashMap<String, Mark> =
        all_marks.into_iter().map(|m| (m.account.to_lowercase(), m)).collect();
    let (pending, _) = queue.pending()?;
    let pending: HashMap<String, Vec<Change>> =
        pending.into_iter().fold(HashMap::new(), |mut m, c| {
            m.entry(c.account.to_lowercase()).or_insert_with(Vec::new).push(c);
            m
        });
    let (failed, _) = policyc_gate::queue::list_failed(&config.queue)?;
    let failed: HashMap<String, Change> =
        failed.into_iter().map(|c| (c.account.to_lowercase(), c)).collect();
    let (cloud, requests) = graph
        .list_users(5, progress)
        .map_err(|d| AgentError::Cloud(format!("cannot read the cloud's users: {d}")))?;
    let cloud: HashMap<String, CloudUser> =
        cloud.into_iter().map(|u| (u.upn.to_lowercase(), u.user)).collect();
    let since = |account: &str, standing: Standing| {
        previous
            .and_then(|p| {
                p.findings
                    .iter()
                    .find(|f| f.account.eq_ignore_ascii_case(account) && f.standing == standing)
            })
            .map_or_else(now_ms, |f| f.since_ms)
    };
    let mut report =
        Report { at_ms: now_ms(), accounts: accounts.len(), requests, ..Report::default() };
    for (account, digest, last_set_ms) in &accounts {
        progress();
        let key = account.to_lowercase();
        let mark = marks.get(&key);
        let queued = pending.get(&key).is_some_and(|p| !p.is_empty());
        let failure = failed.get(&key).and_then(|c| c.failure.as_ref()).map(|f| f.outcome.as_str());
        let finding =
            |standing: Standing, user: Option<String>, detail: String, remedy: &str| Finding {
                account: account.clone(),
                user,
                standing,
                detail,
                remedy: remedy.to_string(),
                since_ms: since(account, standing),
                kb_cause: Finding::cause(standing, failure),
            };
        let Some(mark) = mark else {
            if *last_set_ms <= first_run_ms || *last_set_ms == 0 {
                report.unverified += 1;
                continue;
            }
            // Set since the agent first ran, never delivered: is the account synced at all?
            let wanted: AttributeSet = config.users.attributes();
            let ctx = directory.lookup(account, wanted)?;
            let Some(user) = ctx.and_then(|c| config.users.cloud_user(&c).ok()) else { continue };
            let f = if queued {
                finding(Standing::Pending, Some(user), "a change is queued".into(), "")
            } else {
                let why = failed.get(&key).and_then(|c| c.failure.as_ref()).map_or_else(
                    || {
                        format!(
                            "the password set {} never reached the cloud",
                            rfc3339(*last_set_ms)
                        )
                    },
                    |f| {
                        format!(
                            "the password set {} is held in failed/ ({}: {})",
                            rfc3339(*last_set_ms),
                            f.outcome,
                            f.reason
                        )
                    },
                );
                finding(Standing::NotDelivered, Some(user), why, NOT_DELIVERED_REMEDY)
            };
            report.findings.push(f);
            continue;
        };
        let user = mark.user.clone();
        if mark.digest.is_none() {
            // Written before marks kept a digest (2026-12-06): nothing to compare with, on
            // either side, until the account's next delivery.
            report.unverified += 1;
            continue;
        }
        if digest.is_some() && mark.digest != *digest {
            let f = if queued {
                finding(Standing::Pending, user, "a change is queued".into(), "")
            } else {
                let why = failed.get(&key).and_then(|c| c.failure.as_ref()).map_or_else(
                    || {
                        format!(
                            "the directory's password (set {}) is not the one delivered {}",
                            rfc3339(*last_set_ms),
                            rfc3339(mark.delivered_ms)
                        )
                    },
                    |f| {
                        format!(
                            "the directory's password is held in failed/ ({}: {})",
                            f.outcome, f.reason
                        )
                    },
                );
                finding(Standing::NotDelivered, user, why, NOT_DELIVERED_REMEDY)
            };
            report.findings.push(f);
            continue;
        }
        let cloud_user = user.as_deref().and_then(|u| cloud.get(&u.to_lowercase()));
        let Some(cloud_user) = cloud_user else {
            let detail = format!("the cloud has no user `{}`", user.as_deref().unwrap_or("?"));
            report.findings.push(finding(
                Standing::NotDelivered,
                user,
                detail,
                NOT_DELIVERED_REMEDY,
            ));
            continue;
        };
        // Without a reading just after the delivery there is nothing to compare with.
        let changed = mark.cloud_signal.is_some()
            && later(cloud_user.last_password_change.as_deref(), mark.cloud_changed.as_deref());
        if mark.acknowledged && !changed {
            report.findings.push(finding(
                Standing::Acknowledged,
                user,
                format!(
                    "the cloud's password (changed {}) was accepted by an operator",
                    cloud_user.last_password_change.as_deref().unwrap_or("?")
                ),
                "",
            ));
        } else if changed {
            let detail = format!(
                "the cloud's password changed at {}, after the agent's delivery at {} (lastPasswordChangeDateTime just after it: {})",
                cloud_user.last_password_change.as_deref().unwrap_or("?"),
                rfc3339(mark.delivered_ms),
                mark.cloud_changed.as_deref().unwrap_or("nothing")
            );
            report.findings.push(finding(
                Standing::ChangedInCloud,
                user,
                detail,
                CHANGED_IN_CLOUD_REMEDY,
            ));
        } else if mark.cloud_signal != Some(true) {
            let detail = if mark.cloud_signal == Some(false) {
                "the cloud's lastPasswordChangeDateTime did not move when the agent set this password: a change made in the cloud cannot be seen for this user".to_string()
            } else {
                "the cloud could not be read right after the agent's delivery: a change made in the cloud since cannot be told from it".to_string()
            };
            report.findings.push(finding(Standing::CloudUnobservable, user, detail, ""));
        } else {
            report.in_sync += 1;
        }
    }
    Ok(report)
}

/// A Graph timestamp (`2026-12-06T08:00:00Z`, fractions allowed).
fn parse_time(t: &str) -> Option<SystemTime> {
    humantime::parse_rfc3339_weak(t.trim_end_matches('Z'))
        .ok()
        .or_else(|| humantime::parse_rfc3339(t).ok())
}

/// Whether a Graph timestamp lies within `secs` seconds of now (either way).
pub fn is_recent(t: &str, secs: u64) -> bool {
    parse_time(t).is_some_and(|t| {
        let now = SystemTime::now();
        let gap = now.duration_since(t).or_else(|_| t.duration_since(now)).unwrap_or_default();
        gap <= std::time::Duration::from_secs(secs)
    })
}

/// Whether the cloud's `lastPasswordChangeDateTime` is later than the one seen after the
/// delivery (a value where there was none counts as later).
fn later(now: Option<&str>, then: Option<&str>) -> bool {
    match (now.and_then(parse_time), then.and_then(parse_time)) {
        (Some(n), Some(t)) => n > t,
        (Some(_), None) => true,
        _ => false,
    }
}

/// Accepts the cloud's password for `account` as it is: its mark takes the cloud's current
/// `lastPasswordChangeDateTime`, so the gap closes until the next change on either side.
pub fn acknowledge(
    config: &AgentConfig,
    graph: &mut Graph,
    account: &str,
) -> Result<String, AgentError> {
    let marks = Marks::new(&config.queue);
    let mut mark = marks.get(account)?.ok_or_else(|| {
        AgentError::Account(format!(
            "the agent never delivered a password for `{account}`: nothing to acknowledge"
        ))
    })?;
    let user = mark.user.clone().ok_or_else(|| {
        AgentError::Account(format!("the mark of `{account}` names no cloud user"))
    })?;
    let cloud = graph
        .cloud_user(&user)
        .map_err(|d| AgentError::Cloud(format!("cannot read `{user}` in the cloud: {d}")))?;
    mark.cloud_changed = cloud.last_password_change;
    mark.acknowledged = true;
    marks.set(&mark)?;
    Ok(user)
}

/// The gaps a reconciliation found that the previous one did not (by account and standing),
/// and the earlier gaps now closed: what to record.
pub fn changes(previous: Option<&Report>, now: &Report) -> Vec<(Outcome, Change, String)> {
    let had = |r: Option<&Report>, f: &Finding| {
        r.is_some_and(|r| {
            r.gaps().any(|g| g.account.eq_ignore_ascii_case(&f.account) && g.standing == f.standing)
        })
    };
    let mut out = Vec::new();
    for gap in now.gaps().filter(|g| !had(previous, g)) {
        if let Some(outcome) = outcome(gap.standing) {
            let detail = format!("{}; {}", gap.detail, gap.remedy);
            out.push((outcome, Change::describe(&gap.account, gap.user.as_deref()), detail));
        }
    }
    for gap in previous.into_iter().flat_map(Report::gaps).filter(|g| !had(Some(now), g)) {
        let detail = format!("{} resolved", gap.standing.as_str());
        out.push((Outcome::GapClosed, Change::describe(&gap.account, gap.user.as_deref()), detail));
    }
    out
}

/// The outcome an audit line gives a standing that became a gap.
pub fn outcome(standing: Standing) -> Option<Outcome> {
    match standing {
        Standing::ChangedInCloud => Some(Outcome::ChangedInCloud),
        Standing::NotDelivered => Some(Outcome::NotDelivered),
        _ => None,
    }
}

/// Milliseconds since the Unix epoch as RFC 3339, to the second.
pub fn rfc3339(ms: u64) -> String {
    humantime::format_rfc3339_seconds(SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(ms))
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_gap_names_its_kb_cause() {
        assert_eq!(Finding::cause(Standing::Pending, None), Some(1));
        assert_eq!(Finding::cause(Standing::NotDelivered, Some("policy_drift")), Some(2));
        assert_eq!(Finding::cause(Standing::ChangedInCloud, None), Some(3));
        assert_eq!(Finding::cause(Standing::NotDelivered, Some("held_by_policy")), Some(4));
        assert_eq!(Finding::cause(Standing::NotDelivered, None), Some(4));
        assert_eq!(Finding::cause(Standing::InSync, None), None);
        assert!(later(Some("2026-12-06T08:00:01Z"), Some("2026-12-06T08:00:00Z")));
        assert!(!later(Some("2026-12-06T08:00:00Z"), Some("2026-12-06T08:00:00Z")));
        assert!(later(Some("2026-12-06T08:00:00Z"), None), "a stamp where there was none");
        assert!(!later(None, Some("2026-12-06T08:00:00Z")));
        let now = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
        assert!(is_recent(&now, 2), "{now}");
        assert!(!is_recent("2020-01-01T00:00:00Z", 2));
        assert!(!is_recent("not a time", 2));
    }
}
