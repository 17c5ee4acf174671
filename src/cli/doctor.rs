//! `policyc doctor`: checks a set-up end to end and says how to fix what is broken.

use super::{EXIT_NONCOMPLIANT, EXIT_OK};
use policyc_agent::doctor::{Options, Verdict, doctor};
use std::path::PathBuf;

/// Check a set-up in a few seconds: the hook registered in smb.conf (`testparm -s`) with this
/// configuration and a binary that reads the policy's format, the policy and its stores (trust
/// checks, signature), the queue, its key and the audit log (owners, modes, writable), the agent
/// alive, Graph credentials (a token, the permission to set passwords, a read of one user), the
/// clock against the token endpoint, the directory, syslog, metrics. Each failure comes with its
/// fix; exit 1 when anything failed. Sets nothing, sends no password.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  policyc doctor --config /etc/policyc/agent.yaml
  policyc doctor --config /etc/policyc/agent.yaml --json | jq '.checks[] | select(.verdict == \"fail\")'")]
pub(crate) struct Args {
    /// The agent's (and the hook's) configuration (YAML).
    #[arg(long)]
    config: PathBuf,
    /// Samba's configuration, for `testparm -s FILE` [default: Samba's own].
    #[arg(long, value_name = "FILE")]
    smb_conf: Option<PathBuf>,
    /// JSON: `{"healthy": bool, "checks": [{"name", "verdict", "detail", "fix"}]}`.
    #[command(flatten)]
    output: super::FormatArg,
}

pub(crate) fn run(a: Args) -> Result<u8, String> {
    let checks = doctor(&Options { config: a.config.clone(), smb_conf: a.smb_conf });
    let failed = checks.iter().filter(|c| c.verdict == Verdict::Fail).count();
    if a.output.json() {
        let out = serde_json::json!({"schema": super::JSON_SCHEMA, "healthy": failed == 0, "checks": checks});
        outln!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
    } else {
        outln!("policyc doctor: {}", a.config.display());
        for c in &checks {
            let word = match c.verdict {
                Verdict::Ok => "ok  ",
                Verdict::Fail => "FAIL",
                Verdict::Skip => "skip",
            };
            outln!("  {word} {:<10} {}", c.name, c.detail);
            if let Some(fix) = &c.fix {
                outln!("       {:<10} fix: {fix}", "");
            }
        }
        match failed {
            0 => outln!("all {} checks passed", checks.len()),
            n => outln!("{n} of {} checks failed", checks.len()),
        }
    }
    Ok(if failed == 0 { EXIT_OK } else { EXIT_NONCOMPLIANT })
}
