//! `policyc hook samba`: Samba's `check password script`.

use policyc_agent::config::AgentConfig;
use policyc_agent::directory::DirectoryConfig;
use policyc_agent::hook::{HookOptions, MAX_STDIN_BYTES, SambaAccount, samba};
use std::io::Read;
use std::path::PathBuf;
use std::time::Duration;
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
/// sealed and queued for the cloud before the hook says yes; without a queue (no `--queue`, or
/// `delivery: replicated` in the configuration) the hook validates only.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example (smb.conf, [global]), sharing the agent's configuration (policy, queue, audit log, directory, user mapping):\n  check password script = /usr/local/bin/policyc hook samba --config /etc/policyc/agent.yaml\n\nOr with flags:\n  check password script = /usr/local/bin/policyc hook samba --policy /etc/policyc/office365.policyc --queue /var/lib/policyc/queue --audit-log /var/log/policyc/audit.jsonl --directory /var/lib/samba/private/ldap_priv/ldapi"
)]
struct SambaArgs {
    /// The agent's configuration (YAML): policy, queue, key, audit log, directory and user
    /// mapping come from it. Instead of --policy, --queue, --key, --audit-log, --directory.
    #[arg(long, conflicts_with_all = ["policy", "queue", "key", "audit_log", "directory", "public_key", "policy_min_serial"])]
    config: Option<PathBuf>,
    /// The compiled policy (artifact).
    #[arg(long, required_unless_present = "config")]
    policy: Option<PathBuf>,
    /// The queue directory the agent reads; without it, nothing is queued.
    #[arg(long)]
    queue: Option<PathBuf>,
    /// The queue key [default: QUEUE/key], created on first use, readable by its owner only.
    #[arg(long)]
    key: Option<PathBuf>,
    /// A policy public key (`policyc keygen`): use the policy only if `POLICY.sig` holds its
    /// signature.
    #[arg(long)]
    public_key: Option<PathBuf>,
    /// With --public-key: refuse a signed policy whose serial is below this (the highest
    /// serial used is also kept next to the queue, and an older one refused).
    #[arg(long, default_value_t = 0)]
    policy_min_serial: u64,
    /// The audit log (JSON lines).
    #[arg(long, required_unless_present = "config")]
    audit_log: Option<PathBuf>,
    /// Samba's privileged ldapi socket, for the attributes the policy needs beyond Samba's
    /// variables (memberOf, givenName, sn, mail). A policy that needs them refuses every
    /// change without it.
    #[arg(long)]
    directory: Option<PathBuf>,
    /// Give up (refuse) after this many milliseconds: below Samba's 10 s limit.
    #[arg(long, default_value_t = 8000)]
    timeout_ms: u64,
    /// When the policy cannot be loaded, accept (unchecked) instead of refusing; when the
    /// directory cannot be read, check without its attributes instead of refusing.
    #[arg(long)]
    fail_open: bool,
    /// Never refuse: record what the policy would refuse (`would_refuse`), accept it, and fail
    /// open (the configuration's `mode: report`).
    #[arg(long)]
    report_only: bool,
    /// Syslog's socket, for each refusal (rules and messages) and failure ("" for none).
    #[arg(long, default_value = "/dev/log", conflicts_with = "config")]
    syslog: PathBuf,
}

pub(crate) fn run(args: Args) -> u8 {
    let Kind::Samba(a) = args.kind;
    policyc_gate::files::private_umask();
    policyc_gate::files::not_dumpable();
    let timeout_ms = a.timeout_ms;
    let options = match options(a) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("policyc: refused: {e}");
            return 1;
        }
    };
    // Samba warns after 1 s and kills the script at 10 s, failing the change with a vague
    // message; the hook gives up first, with its own.
    // Its refusal says what did not finish and is recorded; a disk that does not answer gets
    // one more second, then the refusal is said without its record.
    let limit = Duration::from_millis(timeout_ms);
    let (watched, who) = (options.clone(), SambaAccount::from_env());
    std::thread::spawn(move || {
        std::thread::sleep(limit);
        let (said, heard) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = said.send(policyc_agent::hook::timed_out(&watched, &who, limit));
        });
        let message = heard.recv_timeout(Duration::from_secs(1)).unwrap_or_else(|_| {
            format!(
                "policyc: refused: the hook did not finish within {limit:?} ({}); the audit log did not answer either",
                policyc_agent::hook::Stage::current().describe()
            )
        });
        eprintln!("{}", policyc_gate::files::log_line(&message));
        std::process::exit(1);
    });
    let mut input = Zeroizing::new(Vec::new());
    if let Err(e) = std::io::stdin().lock().take(MAX_STDIN_BYTES as u64 + 1).read_to_end(&mut input)
    {
        eprintln!("policyc: refused: cannot read the password from standard input: {e}");
        return 1;
    }
    let decision = samba(&options, &input, &SambaAccount::from_env());
    for m in &decision.messages {
        eprintln!("{}", policyc_gate::files::log_line(m));
    }
    u8::from(!decision.accept)
}

fn options(a: SambaArgs) -> Result<HookOptions, String> {
    if let Some(path) = &a.config {
        let report_only = a.report_only;
        return AgentConfig::load(path)
            .map(|c| {
                let mut o = HookOptions::from_config(&c, a.fail_open || report_only);
                o.report_only |= report_only;
                o
            })
            .map_err(|e| e.to_string());
    }
    let (Some(policy), Some(audit_log)) = (a.policy, a.audit_log) else {
        return Err("give --config, or --policy and --audit-log".into());
    };
    Ok(HookOptions {
        policy,
        serials: a.queue.clone(),
        queue: a.queue,
        key: a.key,
        public_key: a.public_key,
        policy_min_serial: a.policy_min_serial,
        audit_log,
        fail_open: a.fail_open || a.report_only,
        report_only: a.report_only,
        syslog: Some(a.syslog).filter(|p| !p.as_os_str().is_empty()),
        directory: a.directory.map(DirectoryConfig::samba),
        users: Default::default(),
    })
}
