//! `policyc hook samba`: Samba's `check password script`.

use crate::agent::hook::{HookOptions, MAX_STDIN_BYTES, SambaAccount, samba};
use std::io::Read;
use std::path::PathBuf;
use zeroize::Zeroizing;

/// Directory hooks.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    kind: Kind,
}

#[derive(Debug, clap::Subcommand)]
enum Kind {
    Samba(SambaArgs),
}

/// Samba AD DC `check password script`: the new password on stdin, the account in
/// SAMBA_CPS_* variables; exit 0 accepts, 1 refuses.
///
/// Each decision is written to the audit log (never the password). An accepted change is
/// sealed and queued for the cloud before the hook says yes.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example (smb.conf, [global]):\n  check password script = /usr/local/bin/policyc hook samba --policy /etc/policyc/office365.policyc --queue /var/lib/policyc/queue --audit-log /var/log/policyc/audit.jsonl"
)]
struct SambaArgs {
    /// The compiled policy (artifact).
    #[arg(long)]
    policy: PathBuf,
    /// The queue directory the agent reads; without it, nothing is queued.
    #[arg(long)]
    queue: Option<PathBuf>,
    /// The queue key [default: QUEUE/key], created on first use, readable by its owner only.
    #[arg(long)]
    key: Option<PathBuf>,
    /// The audit log (JSON lines).
    #[arg(long)]
    audit_log: PathBuf,
    /// When the policy cannot be loaded, accept (unchecked) instead of refusing.
    #[arg(long)]
    fail_open: bool,
}

pub(crate) fn run(args: Args) -> u8 {
    let Kind::Samba(a) = args.kind;
    let options = HookOptions {
        policy: a.policy,
        queue: a.queue,
        key: a.key,
        audit_log: a.audit_log,
        fail_open: a.fail_open,
    };
    let mut input = Zeroizing::new(Vec::new());
    if let Err(e) = std::io::stdin().lock().take(MAX_STDIN_BYTES as u64 + 1).read_to_end(&mut input)
    {
        eprintln!("policyc: refused: cannot read the password from standard input: {e}");
        return 1;
    }
    let decision = samba(&options, &input, &SambaAccount::from_env());
    for m in &decision.messages {
        eprintln!("{m}");
    }
    u8::from(!decision.accept)
}
