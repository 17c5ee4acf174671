//! `policyc agent run|status|reconcile|failed`.

use super::{EXIT_NONCOMPLIANT, EXIT_OK};
use policyc_agent::config::AgentConfig;
use policyc_agent::status::status;
use policyc_agent::sync::SyncAgent;
use policyc_gate::audit::{AuditLog, Event, now};
use policyc_gate::outcome::Outcome;
use policyc_gate::queue::{Change, list_failed, now_ms, purge_failed, retry_failed};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

/// The sync agent: delivers accepted password changes to the cloud.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    Run(RunArgs),
    Status(StatusArgs),
    Reconcile(ReconcileArgs),
    Failed(FailedArgs),
    Metrics(MetricsArgs),
}

/// Print the metrics once, in Prometheus' text format (what `metrics.textfile` and
/// `metrics.listen` publish): queue depth, oldest pending change, outcomes of the hook and the
/// agent, delivery latency, last success, reconciliation drift, the policy in force. No
/// account, user or password is in any of it.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  policyc agent metrics --config /etc/policyc/agent.yaml
  policyc agent metrics --config /etc/policyc/agent.yaml > /var/lib/prometheus/node-exporter/policyc.prom.$$ && mv /var/lib/prometheus/node-exporter/policyc.prom.$$ /var/lib/prometheus/node-exporter/policyc.prom")]
struct MetricsArgs {
    /// The configuration (YAML).
    #[arg(long)]
    config: PathBuf,
}

/// Compare the directory with the cloud, account by account: the directory's current password
/// with the last one delivered, and the cloud's last password change with that delivery. Exit
/// 0 when every compared account is in sync, 1 when a gap is found (`changed_in_cloud`,
/// `not_delivered`), 2 on error. Never shows a password or a hash.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  policyc agent reconcile --config /etc/policyc/agent.yaml
  policyc agent reconcile --config /etc/policyc/agent.yaml --format json
  policyc agent reconcile --config /etc/policyc/agent.yaml --acknowledge jdoe   # accept the cloud's password after a change in the cloud")]
struct ReconcileArgs {
    /// The configuration (YAML).
    #[arg(long)]
    config: PathBuf,
    #[command(flatten)]
    output: super::FormatArg,
    /// Accept the cloud's current password for this account (sAMAccountName) after a change
    /// in the cloud (KB 2652040 cause 3), then reconcile.
    #[arg(long, value_name = "ACCOUNT")]
    acknowledge: Option<String>,
}

/// Run the agent: take the changes the directory committed, re-validate, push to Microsoft
/// Graph, record outcomes. One agent per queue (a second one refuses to start); SIGTERM or
/// SIGINT stops it after the current delivery.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  policyc agent run --config /etc/policyc/agent.yaml\n\nagent.yaml:\n  policy: /etc/policyc/office365.policyc\n  queue: /var/lib/policyc/queue\n  audit_log: /var/log/policyc/audit.jsonl\n  directory: { kind: samba, socket: /var/lib/samba/private/ldap_priv/ldapi }\n  graph:\n    base_url: https://graph.microsoft.com\n    token_url: https://login.microsoftonline.com/TENANT/oauth2/v2.0/token\n    client_id: 00000000-0000-0000-0000-000000000000\n    client_secret_file: /etc/policyc/client-secret\n\nWith --once, the exit code is 1 when the pass met a configuration error or moved a change to failed/."
)]
struct RunArgs {
    /// The configuration (YAML).
    #[arg(long)]
    config: PathBuf,
    /// One pass over the queue, then exit (for cron, or to drain in tests).
    #[arg(long)]
    once: bool,
}

/// Queue depth, oldest pending change, failed changes, heartbeat, problems, counts; exit 1
/// when unhealthy. With --user: one account, for the help desk.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  policyc agent status --config /etc/policyc/agent.yaml || alert\n  policyc agent status --config /etc/policyc/agent.yaml --user jdoe"
)]
struct StatusArgs {
    /// The configuration (YAML).
    #[arg(long)]
    config: PathBuf,
    #[command(flatten)]
    output: super::FormatArg,
    /// One account (sAMAccountName): its recent resets (refused at the DC with the rules and
    /// their messages, accepted, delivered), what waits, the last delivery and reconciliation.
    /// Exit 1 when something is wrong for it (refused last, held, or apart from the cloud).
    #[arg(long, value_name = "ACCOUNT")]
    user: Option<String>,
}

/// The changes the cloud will not take (in failed/): list them, send them again, or delete
/// them. Never shows a password.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  policyc agent failed list --config /etc/policyc/agent.yaml\n  policyc agent failed retry --config /etc/policyc/agent.yaml --account jdoe\n  policyc agent failed purge --config /etc/policyc/agent.yaml --all"
)]
struct FailedArgs {
    #[command(subcommand)]
    action: FailedAction,
}

#[derive(Debug, clap::Subcommand)]
enum FailedAction {
    /// List failed changes: id, account, cloud user, reason, age.
    #[command(
        after_help = "Example:\n  policyc agent failed list --config /etc/policyc/agent.yaml --format json"
    )]
    List {
        /// The configuration (YAML).
        #[arg(long)]
        config: PathBuf,
        /// JSON: one object per line.
        #[command(flatten)]
        output: super::FormatArg,
    },
    /// Move failed changes back to the queue (after fixing their cause).
    #[command(
        after_help = "Examples:\n  policyc agent failed retry --config /etc/policyc/agent.yaml --account jdoe\n  policyc agent failed retry --config /etc/policyc/agent.yaml --all"
    )]
    Retry(Selection),
    /// Delete failed changes (their sealed passwords with them).
    #[command(
        after_help = "Example:\n  policyc agent failed purge --config /etc/policyc/agent.yaml --account jdoe"
    )]
    Purge(Selection),
}

/// Which failed changes.
#[derive(Debug, clap::Args)]
struct Selection {
    /// The configuration (YAML).
    #[arg(long)]
    config: PathBuf,
    /// One change, by id.
    #[arg(long, required_unless_present_any = ["account", "all"])]
    id: Option<String>,
    /// Every failed change of this account (sAMAccountName).
    #[arg(long, conflicts_with = "id")]
    account: Option<String>,
    /// Every failed change.
    #[arg(long, conflicts_with_all = ["id", "account"])]
    all: bool,
}

pub(crate) fn run(args: Args) -> Result<u8, String> {
    match args.command {
        Command::Run(a) => run_agent(a),
        Command::Status(a) => show_status(a),
        Command::Reconcile(a) => reconcile(a),
        Command::Failed(a) => failed(a.action),
        Command::Metrics(a) => {
            out!("{}", policyc_agent::metrics::render(&load(&a.config)?));
            Ok(EXIT_OK)
        }
    }
}

fn load(path: &std::path::Path) -> Result<AgentConfig, String> {
    AgentConfig::load(path).map_err(|e| format!("error: {e}"))
}

fn run_agent(a: RunArgs) -> Result<u8, String> {
    policyc_gate::files::private_umask();
    policyc_gate::files::not_dumpable();
    let config = load(&a.config)?;
    let mut agent =
        SyncAgent::new(config).map_err(|e| format!("error: cannot start the agent: {e}"))?;
    eprintln!("policyc agent: running with policy {}", agent.policy());
    if a.once {
        let t = agent.tick();
        for (outcome, detail) in &t.events {
            policyc_gate::files::say(&format!("policyc agent: {outcome}: {detail}"));
        }
        eprintln!("policyc agent: delivered {}, waiting {}", t.delivered, t.waiting);
        return Ok(if t.has_errors() { EXIT_NONCOMPLIANT } else { EXIT_OK });
    }
    if let Some(addr) = agent.config().metrics.listen.clone() {
        policyc_agent::metrics::serve(agent.config().clone(), &addr)
            .map_err(|e| format!("error: {e}"))?;
        eprintln!("policyc agent: metrics on http://{addr}/metrics");
    }
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(signal, stop.clone())
            .map_err(|e| format!("error: cannot handle signal {signal}: {e}"))?;
    }
    agent.run(&stop);
    eprintln!("policyc agent: stopped");
    Ok(EXIT_OK)
}

fn show_status(a: StatusArgs) -> Result<u8, String> {
    let config = load(&a.config)?;
    if let Some(account) = &a.user {
        return show_user(&config, account, a.output.json());
    }
    let s = status(&config);
    if a.output.json() {
        outln!("{}", serde_json::to_string_pretty(&super::versioned(&s)).unwrap_or_default());
    } else {
        outln!("health: {}", if s.healthy { "OK" } else { "UNHEALTHY" });
        for p in &s.problems {
            outln!("  problem: {p}");
        }
        outln!("policy: {}", s.policy.as_deref().unwrap_or("(agent has not run)"));
        outln!("heartbeat: {}", s.heartbeat.as_deref().unwrap_or("never"));
        outln!(
            "pending: {} (oldest {})",
            s.pending,
            s.oldest_pending_secs.map_or("-".into(), |a| format!("{a} s"))
        );
        let reasons: Vec<String> =
            s.failed_by_reason.iter().map(|(k, v)| format!("{k} {v}")).collect();
        outln!(
            "failed: {}{}",
            s.failed,
            if reasons.is_empty() { String::new() } else { format!(" ({})", reasons.join(", ")) }
        );
        if let Some(t) = &s.transient {
            outln!("transient errors: {t}");
        }
        outln!("last success: {}", s.last_success.as_deref().unwrap_or("never"));
        outln!(
            "last failure: {}{}",
            s.last_failure.as_deref().unwrap_or("never"),
            s.last_failure_reason.as_deref().map(|r| format!(" ({r})")).unwrap_or_default()
        );
        match &s.reconcile {
            Some(r) => {
                let unobservable: Vec<&str> = r
                    .findings
                    .iter()
                    .filter(|f| f.standing.as_str() == "cloud_unobservable")
                    .map(|f| f.account.as_str())
                    .collect();
                outln!(
                    "reconciled: {} ({} accounts, {} in sync, {} gaps{})",
                    policyc_agent::reconcile::rfc3339(r.at_ms),
                    r.accounts,
                    r.in_sync,
                    r.gaps().count(),
                    if unobservable.is_empty() {
                        String::new()
                    } else {
                        format!(
                            "; a change in the cloud cannot be seen for: {}",
                            unobservable.join(", ")
                        )
                    }
                );
            }
            None => outln!("reconciled: never"),
        }
        let counts: Vec<String> = s.counts.iter().map(|(k, v)| format!("{k} {v}")).collect();
        outln!("counts: {}", if counts.is_empty() { "none".into() } else { counts.join(", ") });
    }
    Ok(if s.healthy { EXIT_OK } else { EXIT_NONCOMPLIANT })
}

fn reconcile(a: ReconcileArgs) -> Result<u8, String> {
    use policyc_agent::reconcile::{Inputs, Report};
    policyc_gate::files::private_umask();
    let config = load(&a.config)?;
    let Some(directory) = &config.directory else {
        return Err("error: set `directory` in the configuration: reconciliation reads the directory's current passwords".into());
    };
    let mut directory = directory.open();
    let queue = policyc_gate::queue::Queue::open_sealed(&config.queue, &config.key_path())
        .map_err(|e| format!("error: {e}"))?;
    let mut graph = policyc_agent::graph::Graph::new(config.graph.clone())
        .map_err(|e| format!("error: {e}"))?;
    if let Some(account) = &a.acknowledge {
        let user = policyc_agent::reconcile::acknowledge(&config, &mut graph, account)
            .map_err(|e| format!("error: {e}"))?;
        let change = Change::describe(account, Some(&user));
        let detail = "the cloud's current password accepted by an operator".to_string();
        operator_line(&config, Outcome::Acknowledged, Some(&change), Some(detail));
    }
    let state = policyc_agent::state::AgentState::load(&config.queue.join("state.json"));
    let previous = Report::load(&config.queue);
    let inputs = Inputs {
        config: &config,
        queue: &queue,
        directory: directory.as_mut(),
        graph: &mut graph,
        // No agent has run: nothing was delivered, so no account is held against it.
        first_run_ms: state.first_run_ms.unwrap_or(u64::MAX),
        progress: &mut || {},
    };
    let report = policyc_agent::reconcile::reconcile(inputs, previous.as_ref())
        .map_err(|e| format!("error: {e}"))?;
    let webhook = policyc_agent::webhook::Webhook::new(config.webhook.as_deref())
        .map_err(|e| format!("error: {e}"))?;
    for (outcome, change, detail) in policyc_agent::reconcile::changes(previous.as_ref(), &report) {
        if outcome.notifies() {
            webhook.post(outcome, Some(&change), &[], Some(&detail), None);
        }
        operator_line(&config, outcome, Some(&change), Some(detail));
    }
    report.save(&config.queue).map_err(|e| format!("error: cannot save the report: {e}"))?;
    if a.output.json() {
        outln!("{}", serde_json::to_string_pretty(&super::versioned(&report)).unwrap_or_default());
    } else {
        let gaps = report.gaps().count();
        outln!(
            "{}: {} accounts compared, {} in sync, {} never delivered by policyc (set before it ran), {} gaps; {} Graph request{}",
            if gaps == 0 { "IN SYNC" } else { "DRIFT" },
            report.accounts,
            report.in_sync,
            report.unverified,
            gaps,
            report.requests,
            if report.requests == 1 { "" } else { "s" }
        );
        for f in &report.findings {
            outln!(
                "  {} `{}`{}{}: {}",
                f.standing.as_str(),
                f.account,
                f.user.as_deref().map(|u| format!(" ({u})")).unwrap_or_default(),
                f.kb_cause.map(|c| format!(" [KB 2652040 cause {c}]")).unwrap_or_default(),
                f.detail
            );
            if !f.remedy.is_empty() {
                outln!("    remedy: {}", f.remedy);
            }
        }
    }
    Ok(if report.gaps().next().is_none() { EXIT_OK } else { EXIT_NONCOMPLIANT })
}

fn failed(action: FailedAction) -> Result<u8, String> {
    match action {
        FailedAction::List { config, output } => {
            let json = output.json();
            let config = load(&config)?;
            let (changes, unreadable) =
                list_failed(&config.queue).map_err(|e| format!("error: {e}"))?;
            if !json && changes.is_empty() && unreadable.is_empty() {
                outln!("no failed changes");
            } else if !json {
                outln!("ID  ACCOUNT  CLOUD USER  REASON  AGE  (DETAIL)");
            }
            for c in &changes {
                let (outcome, reason, age) = c.failure.as_ref().map_or(("failed", "", 0), |f| {
                    (f.outcome.as_str(), f.reason.as_str(), now_ms().saturating_sub(f.at_ms) / 1000)
                });
                if json {
                    let line = serde_json::json!({"schema": super::JSON_SCHEMA, "id": c.id, "account": c.account, "user": c.user,
                        "outcome": outcome, "reason": reason, "age_secs": age});
                    outln!("{line}");
                } else {
                    outln!(
                        "{}  {}  {}  {outcome}  {}  ({reason})",
                        c.id,
                        c.account,
                        c.user.as_deref().unwrap_or("-"),
                        humantime::format_duration(std::time::Duration::from_secs(age)),
                    );
                }
            }
            for p in &unreadable {
                if json {
                    outln!(
                        "{}",
                        serde_json::json!({"schema": super::JSON_SCHEMA, "file": p.display().to_string(), "outcome": "damaged"})
                    );
                } else {
                    outln!("{}  damaged record (unreadable; purge it with --all)", p.display());
                }
            }
            Ok(EXIT_OK)
        }
        FailedAction::Retry(sel) => {
            let config = load(&sel.config)?;
            let (changes, _) = list_failed(&config.queue).map_err(|e| format!("error: {e}"))?;
            let chosen = select(&changes, &sel)?;
            for c in &chosen {
                retry_failed(&config.queue, c).map_err(|e| format!("error: {e}"))?;
                outln!("queued again: {} ({})", c.id, c.account);
            }
            record(&config, Outcome::Retried, &chosen);
            Ok(EXIT_OK)
        }
        FailedAction::Purge(sel) => {
            let config = load(&sel.config)?;
            let (changes, unreadable) =
                list_failed(&config.queue).map_err(|e| format!("error: {e}"))?;
            let chosen = select(&changes, &sel)?;
            let dir = config.queue.join("failed");
            for c in &chosen {
                purge_failed(&config.queue, &dir.join(format!("{}.json", c.id)))
                    .map_err(|e| format!("error: {e}"))?;
                outln!("purged: {} ({})", c.id, c.account);
            }
            if sel.all {
                for p in &unreadable {
                    purge_failed(&config.queue, p).map_err(|e| format!("error: {e}"))?;
                    outln!("purged: {}", p.display());
                    record_file(&config, p);
                }
            }
            record(&config, Outcome::Purged, &chosen);
            Ok(EXIT_OK)
        }
    }
}

/// The failed changes a selection names; naming none that exists is an error.
fn select(changes: &[Change], sel: &Selection) -> Result<Vec<Change>, String> {
    let chosen: Vec<Change> = changes
        .iter()
        .filter(|c| {
            sel.all
                || sel.id.as_deref() == Some(c.id.as_str())
                || sel.account.as_deref().is_some_and(|a| a.eq_ignore_ascii_case(&c.account))
        })
        .cloned()
        .collect();
    if chosen.is_empty() && !sel.all {
        return Err("error: no failed change matches (see `policyc agent failed list`)".into());
    }
    Ok(chosen)
}

/// The audit line for a damaged record an operator deleted.
fn record_file(config: &AgentConfig, path: &std::path::Path) {
    operator_line(
        config,
        Outcome::Purged,
        None,
        Some(format!("damaged record `{}`", path.display())),
    );
}

/// One audit line per change an operator acted on.
fn record(config: &AgentConfig, outcome: Outcome, changes: &[Change]) {
    for c in changes {
        let was = c.failure.as_ref().map(|f| format!("was {}: {}", f.outcome, f.reason));
        operator_line(config, outcome, Some(c), was);
    }
}

/// Writes one `source: operator` audit line; a failure to write it is said on stderr.
fn operator_line(
    config: &AgentConfig,
    outcome: Outcome,
    change: Option<&Change>,
    detail: Option<String>,
) {
    let audit = AuditLog::new(&config.audit_log);
    let event = Event {
        time: now(),
        source: "operator",
        outcome,
        account: change.map(|c| c.account.as_str()),
        user: change.and_then(|c| c.user.as_deref()),
        rules: Vec::new(),
        policy: None,
        change: change.map(|c| c.id.as_str()).filter(|id| !id.is_empty()),
        detail,
    };
    if let Err(e) = audit.write(&event) {
        eprintln!("policyc: cannot write the audit log `{}`: {e}", audit.path().display());
    }
}

/// `agent status --user`: one account, for the help desk.
fn show_user(config: &AgentConfig, account: &str, json: bool) -> Result<u8, String> {
    let v =
        policyc_agent::helpdesk::user_view(config, account).map_err(|e| format!("error: {e}"))?;
    let wrong = !v.failed.is_empty()
        || v.reconcile.as_ref().is_some_and(|f| f.standing.is_gap())
        || v.events.last().is_some_and(|e| e.source == "hook" && e.outcome.starts_with("rejected"));
    if json {
        outln!("{}", serde_json::to_string_pretty(&super::versioned(&v)).unwrap_or_default());
        return Ok(u8::from(wrong));
    }
    let say = |s: &str| policyc_gate::files::log_line(s);
    outln!("account: {}", say(&v.account));
    outln!("cloud user: {}", say(v.cloud_user.as_deref().unwrap_or("(not recorded)")));
    outln!("in short: {}", say(&v.summary));
    outln!("last delivered: {}", v.last_delivered.as_deref().unwrap_or("never"));
    for (what, list) in [("pending", &v.pending), ("failed", &v.failed)] {
        for w in list {
            let reason = w.reason.as_deref().map(|r| format!(" ({})", say(r))).unwrap_or_default();
            let next =
                w.next_retry.as_deref().map(|t| format!(", next try {t}")).unwrap_or_default();
            outln!("{what}: {} queued {}{reason}{next}", w.id, w.queued);
        }
    }
    if let Some(f) = &v.reconcile {
        let since = policyc_agent::reconcile::rfc3339(f.since_ms);
        outln!("reconciliation: {} since {since}: {}", f.standing.as_str(), say(&f.detail));
    }
    outln!("recent (oldest first):");
    for e in &v.events {
        let rules: Vec<String> = e
            .rules
            .iter()
            .map(|r| match &r.message {
                Some(m) => format!("{} \"{}\"", r.id, say(m)),
                None => r.id.clone(),
            })
            .collect();
        let rules =
            if rules.is_empty() { String::new() } else { format!(" rules: {}", rules.join("; ")) };
        let detail = e.detail.as_deref().map(|d| format!(" ({})", say(d))).unwrap_or_default();
        let at = e.host.as_deref().map(|h| format!(" on {}", say(h))).unwrap_or_default();
        outln!("  {} {:<5} {}{at}{rules}{detail}", e.time, e.source, e.outcome);
    }
    Ok(u8::from(wrong))
}
