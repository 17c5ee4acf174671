//! The help desk's view of one account (`policyc agent status --user ACCOUNT`): "did my reset
//! reach the cloud?" answered from what the hook and the agent recorded, without grepping the
//! audit log: each recent decision (refused at the DC with the rules and their messages,
//! accepted, queued, delivered, held), what waits in the queue or in `failed/`, the last
//! delivery, and where reconciliation found the account. Never a password: the sealed records
//! are not opened, and only what the audit log and the marks hold (no password) is shown.

use super::config::AgentConfig;
use super::reconcile::rfc3339;
use crate::AgentError;
use policyc_gate::queue::{Change, list_failed, list_pending};
use serde::Serialize;
use std::io::BufRead;

/// How many of the account's most recent audit lines are shown.
pub const RECENT: usize = 20;

/// One account, as the help desk asks about it.
#[derive(Debug, Clone, Serialize)]
pub struct UserView {
    /// The account asked about.
    pub account: String,
    /// The cloud user its changes go to, as last recorded.
    pub cloud_user: Option<String>,
    /// The answer in one sentence.
    pub summary: String,
    /// The account's most recent audit lines, oldest first.
    pub events: Vec<UserEvent>,
    /// Changes waiting in the queue.
    pub pending: Vec<Waiting>,
    /// Changes held in `failed/`.
    pub failed: Vec<Waiting>,
    /// When the agent last delivered a password of the account (RFC 3339).
    pub last_delivered: Option<String>,
    /// Where the last reconciliation found it, if it was a finding: standing, KB 2652040 cause,
    /// detail and remedy.
    pub reconcile: Option<super::reconcile::Finding>,
}

/// One audit line of the account.
#[derive(Debug, Clone, Serialize)]
pub struct UserEvent {
    /// When.
    pub time: String,
    /// `hook` (the DC) or `agent`.
    pub source: String,
    /// The machine that wrote it: with several DCs, which DC refused or queued the change.
    pub host: Option<String>,
    /// The outcome's name (`docs/agent.md`, Outcomes).
    pub outcome: String,
    /// The rules that refused it, with the messages the user should have seen.
    pub rules: Vec<RuleSaid>,
    /// The queued change's id.
    pub change: Option<String>,
    /// What the line says besides (never a password).
    pub detail: Option<String>,
}

/// A rule id and its message in the policy in force.
#[derive(Debug, Clone, Serialize)]
pub struct RuleSaid {
    /// The rule's id.
    pub id: String,
    /// Its message, when the policy in force still has the rule.
    pub message: Option<String>,
}

/// A change in the queue or in `failed/`.
#[derive(Debug, Clone, Serialize)]
pub struct Waiting {
    /// The change's id.
    pub id: String,
    /// When the hook queued it (RFC 3339).
    pub queued: String,
    /// Why it is held or last failed, when it did.
    pub reason: Option<String>,
    /// When the agent tries it again (RFC 3339), for a change the cloud did not take yet.
    pub next_retry: Option<String>,
}

/// The view of `account` (matched without regard to case, as the directory matches it).
///
/// # Errors
/// The queue cannot be read.
pub fn user_view(config: &AgentConfig, account: &str) -> Result<UserView, AgentError> {
    let messages = rule_messages(config);
    let events = recent_events(&config.audit_log, account, &messages);
    let mine = |c: &Change| c.account.eq_ignore_ascii_case(account);
    let state = super::state::AgentState::load(&config.queue.join("state.json"));
    let waiting = |c: &Change| {
        let retry = state.retries.get(&c.id);
        Waiting {
            id: c.id.clone(),
            queued: rfc3339(c.created_ms),
            reason: c
                .failure
                .as_ref()
                .map(|f| format!("{}: {}", f.outcome, f.reason))
                .or_else(|| retry.map(|r| format!("{} (attempt {})", r.error, r.attempts))),
            next_retry: retry.map(|r| rfc3339(r.next_ms)),
        }
    };
    let (pending, _) = list_pending(&config.queue)?;
    let pending: Vec<Waiting> = pending.iter().filter(|c| mine(c)).map(waiting).collect();
    let (failed, _) = list_failed(&config.queue)?;
    let failed: Vec<Waiting> = failed.iter().filter(|c| mine(c)).map(waiting).collect();
    let mark = super::marks::Marks::new(&config.queue).get(account).ok().flatten();
    let reconcile = super::reconcile::Report::read(&config.queue)
        .ok()
        .flatten()
        .and_then(|r| r.findings.into_iter().find(|f| f.account.eq_ignore_ascii_case(account)));
    let cloud_user = mark
        .as_ref()
        .and_then(|m| m.user.clone())
        .or_else(|| reconcile.as_ref().and_then(|f| f.user.clone()));
    let mut view = UserView {
        account: account.to_string(),
        cloud_user,
        summary: String::new(),
        events,
        pending,
        failed,
        last_delivered: mark.map(|m| rfc3339(m.delivered_ms)),
        reconcile,
    };
    view.summary = summary(&view);
    Ok(view)
}

/// The rule messages of the policy on disk, by id (empty when it does not load).
fn rule_messages(config: &AgentConfig) -> Vec<(String, String)> {
    config
        .trust(false)
        .and_then(|t| policyc_gate::policy_file::load_policy(&config.policy, &t))
        .map(|v| v.program().rules.iter().map(|r| (r.id.to_string(), r.message.clone())).collect())
        .unwrap_or_default()
}

/// The account's last [`RECENT`] audit lines (a line that does not parse is skipped).
fn recent_events(
    log: &std::path::Path,
    account: &str,
    messages: &[(String, String)],
) -> Vec<UserEvent> {
    let Ok(file) = policyc_gate::files::open_trusted(log, false) else { return Vec::new() };
    let mut recent = std::collections::VecDeque::with_capacity(RECENT);
    for line in std::io::BufReader::new(file).lines().map_while(Result::ok) {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) else { continue };
        let text = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
        if !text("account").is_some_and(|a| a.eq_ignore_ascii_case(account)) {
            continue;
        }
        let rules = v
            .get("rules")
            .and_then(|r| r.as_array())
            .into_iter()
            .flatten()
            .filter_map(|r| r.as_str())
            .map(|id| RuleSaid {
                id: id.to_string(),
                message: messages.iter().find(|(r, _)| r == id).map(|(_, m)| m.clone()),
            })
            .collect();
        if recent.len() == RECENT {
            recent.pop_front();
        }
        recent.push_back(UserEvent {
            time: text("time").unwrap_or_default(),
            source: text("source").unwrap_or_default(),
            host: text("host"),
            outcome: text("outcome").unwrap_or_default(),
            rules,
            change: text("change"),
            detail: text("detail"),
        });
    }
    recent.into()
}

/// The answer in one sentence, from the most telling fact.
fn summary(v: &UserView) -> String {
    if let Some(f) = &v.reconcile
        && f.standing.is_gap()
    {
        let cause = f.kb_cause.map(|c| format!(" (KB 2652040 cause {c})")).unwrap_or_default();
        return format!("the directory and the cloud differ{cause}: {}; {}", f.detail, f.remedy);
    }
    if let Some(w) = v.failed.last() {
        let reason = w.reason.as_deref().unwrap_or("held");
        return format!(
            "a change queued at {} is held in failed/ ({reason}): not sent to the cloud",
            w.queued
        );
    }
    if let Some(w) = v.pending.first() {
        let last = w.reason.as_deref().map(|r| format!("; last error: {r}")).unwrap_or_default();
        let next =
            w.next_retry.as_deref().map(|t| format!("; next try at {t}")).unwrap_or_default();
        return format!("a change is waiting for the cloud since {}{last}{next}", w.queued);
    }
    match v.events.last() {
        Some(e) if e.source == "hook" && e.outcome.starts_with("rejected") => {
            let rules: Vec<String> = e
                .rules
                .iter()
                .map(|r| match &r.message {
                    Some(m) => format!("{} (\"{m}\")", r.id),
                    None => r.id.clone(),
                })
                .collect();
            let why = match rules.is_empty() {
                true => e.detail.clone().unwrap_or_default(),
                false => format!("rules {}", rules.join(", ")),
            };
            let dc = e.host.as_deref().map(|h| format!(" {h}")).unwrap_or_default();
            format!("the last reset, at {}, was refused at the DC{dc}: {why}", e.time)
        }
        _ => match &v.last_delivered {
            Some(t) => format!("the cloud has the password delivered at {t}; nothing waits"),
            None if v.events.is_empty() => {
                "nothing recorded for this account (no reset since the audit log began)".into()
            }
            None => "no password of this account was delivered; nothing waits".into(),
        },
    }
}
