//! `policyc agent run|status`.

use super::{EXIT_NONCOMPLIANT, EXIT_OK};
use crate::agent::config::AgentConfig;
use crate::agent::status::status;
use crate::agent::sync::SyncAgent;
use std::path::PathBuf;
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
}

/// Run the agent: take queued changes, re-validate, push to Microsoft Graph, record outcomes.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  policyc agent run --config /etc/policyc/agent.yaml\n\nagent.yaml:\n  policy: /etc/policyc/office365.policyc\n  queue: /var/lib/policyc/queue\n  audit_log: /var/log/policyc/audit.jsonl\n  graph:\n    base_url: https://graph.microsoft.com\n    token_url: https://login.microsoftonline.com/TENANT/oauth2/v2.0/token\n    client_id: 00000000-0000-0000-0000-000000000000\n    client_secret_file: /etc/policyc/client-secret"
)]
struct RunArgs {
    /// The configuration (YAML).
    #[arg(long)]
    config: PathBuf,
    /// One pass over the queue, then exit (for cron, or to drain in tests).
    #[arg(long)]
    once: bool,
}

/// Queue depth, oldest pending change, last success and failure, counts; exit 1 when unhealthy.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  policyc agent status --config /etc/policyc/agent.yaml || alert"
)]
struct StatusArgs {
    /// The configuration (YAML).
    #[arg(long)]
    config: PathBuf,
    /// Output as JSON.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(args: Args) -> Result<u8, String> {
    match args.command {
        Command::Run(a) => run_agent(a),
        Command::Status(a) => show_status(a),
    }
}

fn run_agent(a: RunArgs) -> Result<u8, String> {
    let config = AgentConfig::load(&a.config).map_err(|e| format!("error: {e}"))?;
    let mut agent =
        SyncAgent::new(config).map_err(|e| format!("error: cannot start the agent: {e}"))?;
    eprintln!("policyc agent: running with policy {}", agent.policy());
    if a.once {
        let t = agent.tick();
        eprintln!("policyc agent: delivered {}, waiting {}", t.delivered, t.waiting);
        return Ok(EXIT_OK);
    }
    agent.run(&AtomicBool::new(false));
    Ok(EXIT_OK)
}

fn show_status(a: StatusArgs) -> Result<u8, String> {
    let config = AgentConfig::load(&a.config).map_err(|e| format!("error: {e}"))?;
    let s = status(&config);
    if a.json {
        println!("{}", serde_json::to_string_pretty(&s).unwrap_or_default());
    } else {
        println!("health: {}", if s.healthy { "OK" } else { "UNHEALTHY" });
        for p in &s.problems {
            println!("  problem: {p}");
        }
        println!("policy: {}", s.policy.as_deref().unwrap_or("(agent has not run)"));
        println!(
            "pending: {} (oldest {})",
            s.pending,
            s.oldest_pending_secs.map_or("-".into(), |a| format!("{a} s"))
        );
        println!("failed: {}", s.failed);
        println!("last success: {}", s.last_success.as_deref().unwrap_or("never"));
        println!(
            "last failure: {}{}",
            s.last_failure.as_deref().unwrap_or("never"),
            s.last_failure_reason.as_deref().map(|r| format!(" ({r})")).unwrap_or_default()
        );
        let counts: Vec<String> = s.counts.iter().map(|(k, v)| format!("{k} {v}")).collect();
        println!("counts: {}", if counts.is_empty() { "none".into() } else { counts.join(", ") });
    }
    Ok(if s.healthy { EXIT_OK } else { EXIT_NONCOMPLIANT })
}
