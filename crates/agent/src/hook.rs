//! The directory hook: Samba's `check password script`. The new password arrives on standard
//! input (UTF-8, no newline), the account in `SAMBA_CPS_*` variables; exit 0 accepts, anything
//! else refuses. The attributes the policy (or the user mapping) needs beyond Samba's variables
//! (`memberOf` with nested groups, `givenName`, `mail`, ...) are looked up in the local directory;
//! a policy that needs none costs no lookup. Every decision goes to the audit log; an accepted
//! change is sealed and durably queued for the cloud before the hook says yes, unless its account
//! maps to no cloud user (`not_synced`).

use super::config::AgentConfig;
use super::directory::DirectoryConfig;
use super::mapping::UserMapping;
use crate::AgentError;
use policyc_gate::audit::{AuditLog, Event, now};
use policyc_gate::gate::{self, FailMode, RuleSaid, Ruling};
use policyc_gate::outcome::Outcome;
use policyc_gate::queue::{Queue, QueueError};
use policyc_runtime::ir::{Attribute, AttributeSet};
use policyc_runtime::{Context, Validator};
use std::path::PathBuf;

/// Largest input read from standard input; more is refused.
pub const MAX_STDIN_BYTES: usize = 64 * 1024;

/// How the hook is set up.
#[derive(Debug, Clone)]
pub struct HookOptions {
    /// The compiled policy.
    pub policy: PathBuf,
    /// The queue directory; without it, accepted changes are not queued (validation only).
    pub queue: Option<PathBuf>,
    /// The queue key (default: `QUEUE/key`).
    pub key: Option<PathBuf>,
    /// The public key a policy must be signed with, if any.
    pub public_key: Option<PathBuf>,
    /// A signed policy's serial must be at least this.
    pub policy_min_serial: u64,
    /// Where the highest policy serial used is kept (the queue's directory; `None`: only
    /// `policy_min_serial` is checked).
    pub serials: Option<PathBuf>,
    /// The audit log.
    pub audit_log: PathBuf,
    /// Accept when the policy cannot be loaded (unchecked) or the directory cannot be read
    /// (checked without its attributes), instead of refusing.
    pub fail_open: bool,
    /// Never refuse: what the policy refuses is accepted and recorded `would_refuse` (and the
    /// hook fails open).
    pub report_only: bool,
    /// Syslog's socket (`/dev/log`), for refusals and failures; `None`: not used.
    pub syslog: Option<PathBuf>,
    /// Where to look up the attributes the policy needs beyond Samba's variables.
    pub directory: Option<DirectoryConfig>,
    /// Who is synced, as which cloud user.
    pub users: UserMapping,
}

impl HookOptions {
    /// Where the hook leaves its health for `agent status`: the queue's directory (the
    /// configuration's, also when the hook only validates), else the audit log's.
    pub fn state_dir(&self) -> Option<PathBuf> {
        self.queue
            .clone()
            .or_else(|| self.serials.clone())
            .or_else(|| self.audit_log.parent().map(std::path::Path::to_path_buf))
            .filter(|d| !d.as_os_str().is_empty())
    }

    /// The hook's settings from the agent's configuration file (the same file for both).
    pub fn from_config(config: &AgentConfig, fail_open: bool) -> HookOptions {
        HookOptions {
            policy: config.policy.clone(),
            // With `delivery: replicated` the agent reads the directory: hooks only validate.
            queue: (config.delivery == super::config::DeliveryModel::Queue)
                .then(|| config.queue.clone()),
            key: config.key.clone(),
            public_key: config.policy_public_key.clone(),
            policy_min_serial: config.policy_min_serial,
            serials: Some(config.queue.clone()),
            audit_log: config.audit_log.clone(),
            fail_open: fail_open || config.mode == super::config::Mode::Report,
            report_only: config.mode == super::config::Mode::Report,
            syslog: Some(config.syslog.clone()).filter(|p| !p.as_os_str().is_empty()),
            directory: config.directory.clone(),
            users: config.users.clone(),
        }
    }
}

/// The account whose password changes, as Samba describes it.
#[derive(Debug, Clone, Default)]
pub struct SambaAccount {
    /// `SAMBA_CPS_ACCOUNT_NAME`.
    pub account: Option<String>,
    /// `SAMBA_CPS_USER_PRINCIPAL_NAME`.
    pub user_principal_name: Option<String>,
    /// `SAMBA_CPS_FULL_NAME`.
    pub full_name: Option<String>,
}

impl SambaAccount {
    /// Reads the `SAMBA_CPS_*` variables.
    pub fn from_env() -> SambaAccount {
        let var = |n: &str| std::env::var(n).ok().filter(|v| !v.is_empty());
        SambaAccount {
            account: var("SAMBA_CPS_ACCOUNT_NAME"),
            user_principal_name: var("SAMBA_CPS_USER_PRINCIPAL_NAME"),
            full_name: var("SAMBA_CPS_FULL_NAME"),
        }
    }

    fn context(&self) -> Context {
        let mut ctx = Context::new();
        for (attr, value) in [
            (Attribute::SamAccountName, &self.account),
            (Attribute::UserPrincipalName, &self.user_principal_name),
            (Attribute::DisplayName, &self.full_name),
        ] {
            if let Some(v) = value {
                ctx.set(attr, v.clone());
            }
        }
        ctx
    }
}

/// What the hook decided, and what to say on standard error (never the password).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Accept the change.
    pub accept: bool,
    /// Lines for standard error (Samba's log).
    pub messages: Vec<String>,
}

/// What the hook is doing, so that the watchdog's refusal can say what did not finish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Stage {
    /// Reading the password from standard input.
    Reading = 0,
    /// Loading (and verifying) the policy.
    LoadingPolicy = 1,
    /// Looking the account up in the directory.
    LookingUp = 2,
    /// Checking the password against the policy.
    Checking = 3,
    /// Queuing the change for the cloud.
    Queuing = 4,
    /// Writing the audit line.
    Recording = 5,
}

static STAGE: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(0);

impl Stage {
    /// Marks this stage as the one the hook is in.
    pub fn enter(self) {
        STAGE.store(self as u8, std::sync::atomic::Ordering::Relaxed);
    }

    /// The stage the hook is in.
    pub fn current() -> Stage {
        match STAGE.load(std::sync::atomic::Ordering::Relaxed) {
            1 => Stage::LoadingPolicy,
            2 => Stage::LookingUp,
            3 => Stage::Checking,
            4 => Stage::Queuing,
            5 => Stage::Recording,
            _ => Stage::Reading,
        }
    }

    /// What the hook was doing, for a sentence.
    pub fn describe(self) -> &'static str {
        match self {
            Stage::Reading => "reading the password from standard input (not closed by the caller)",
            Stage::LoadingPolicy => "loading the policy",
            Stage::LookingUp => "looking the account up in the directory (not answering)",
            Stage::Checking => "checking the password against the policy",
            Stage::Queuing => "queuing the change for the cloud (the disk not answering)",
            Stage::Recording => "writing the audit log (the disk not answering)",
        }
    }
}

/// The watchdog's refusal, once the hook ran out of time: says what did not finish, and writes
/// its audit line (`error`). Returns the line for Samba's log.
pub fn timed_out(options: &HookOptions, who: &SambaAccount, limit: std::time::Duration) -> String {
    let account = who.account.as_deref().unwrap_or("");
    let detail =
        format!("the hook did not finish within {limit:?}: it was {}", Stage::current().describe());
    let event = Event {
        time: now(),
        source: "hook",
        outcome: Outcome::Error,
        account: who.account.as_deref(),
        user: who.user_principal_name.as_deref(),
        rules: Vec::new(),
        policy: None,
        change: None,
        detail: Some(detail.clone()),
    };
    let recorded = match AuditLog::new(&options.audit_log).write(&event) {
        Ok(()) => String::new(),
        Err(e) => format!("; cannot write the audit log `{}`: {e}", options.audit_log.display()),
    };
    format!("policyc: refused password change for `{account}`: {detail}{recorded}")
}

/// Runs the hook for one password change: judge it, then record the judgement in the audit log
/// and, when the hook could not do its job, in [`super::hook_health`] for `agent status`.
pub fn samba(options: &HookOptions, password: &[u8], who: &SambaAccount) -> Decision {
    let (mut decision, outcome, failure, to_syslog) = decide(options, password, who);
    if let (Some(socket), Some(line)) = (&options.syslog, &to_syslog)
        && let Err(e) = syslog(socket, failure.is_some(), line)
    {
        decision
            .messages
            .push(format!("policyc: cannot write to syslog (`{}`): {e}", socket.display()));
    }
    if let Some(dir) = options.state_dir() {
        let what = failure.as_deref().map(|w| (w, who.account.as_deref()));
        if let Err(e) = super::hook_health::record(&dir, outcome, what) {
            decision.messages.push(format!(
                "policyc: cannot record the hook's health in `{}`: {e}",
                dir.join(super::hook_health::HOOK_HEALTH_FILE).display()
            ));
        }
    }
    decision
}

/// Sends one line to syslog (facility authpriv; the journal on systemd), where Samba's log does
/// not carry the script's standard error on every version. A machine without a syslog socket is
/// skipped: the line is in Samba's log and the audit log as ever.
#[cfg(unix)]
fn syslog(socket: &std::path::Path, error: bool, line: &str) -> Result<(), AgentError> {
    if !socket.exists() {
        return Ok(());
    }
    let formatter = syslog::Formatter3164 {
        facility: syslog::Facility::LOG_AUTHPRIV,
        hostname: None,
        process: "policyc".into(),
        pid: std::process::id(),
    };
    let mut logger =
        syslog::unix_custom(formatter, socket).map_err(|e| AgentError::System(e.to_string()))?;
    let line = policyc_gate::files::log_line(line.strip_prefix("policyc: ").unwrap_or(line));
    match error {
        true => logger.err(line),
        false => logger.warning(line),
    }
    .map_err(|e| AgentError::System(e.to_string()))
}

/// Windows has no syslog socket (the LSA filter writes to the event log).
#[cfg(not(unix))]
fn syslog(_: &std::path::Path, _: bool, _: &str) -> Result<(), AgentError> {
    Ok(())
}

/// What the refusing rules tell the user: `id ("message")`, each.
fn rule_words(rules: &[RuleSaid]) -> Vec<String> {
    rules.iter().map(|r| format!("{} (\"{}\")", r.rule, r.message)).collect()
}

/// The gate's fail mode for these options.
fn fail_mode(options: &HookOptions) -> FailMode {
    FailMode::open_if(options.fail_open)
}

/// Whether an outcome means the hook could not do its job (rather than a decision).
fn is_failure(outcome: Outcome) -> bool {
    matches!(
        outcome,
        Outcome::Error
            | Outcome::RejectedNoPolicy
            | Outcome::RejectedLookupFailed
            | Outcome::RejectedStoreUnavailable
            | Outcome::AcceptedUnchecked
            | Outcome::AcceptedLookupFailed
            | Outcome::AcceptedStoreUnavailable
    )
}

/// The decision, its outcome, what failed when the hook could not do its job, and the line for
/// syslog.
fn decide(
    options: &HookOptions,
    password: &[u8],
    who: &SambaAccount,
) -> (Decision, Outcome, Option<String>, Option<String>) {
    let audit = AuditLog::new(&options.audit_log);
    let account = who.account.as_deref().unwrap_or("");
    // A decision that cannot be recorded is not made (unless the hook fails open).
    let mut log = match audit.open() {
        Ok(log) => Some(log),
        Err(e) if options.fail_open => {
            eprintln!(
                "policyc: AUDIT LOG UNAVAILABLE (`{}`: {e}); FAIL-OPEN: deciding without a record",
                audit.path().display()
            );
            None
        }
        Err(e) => {
            let what = format!("AUDIT LOG UNAVAILABLE (`{}`: {e})", audit.path().display());
            let message = format!(
                "policyc: refused password change for `{account}`: {what}; FAIL-CLOSED: a decision that cannot be recorded is not made"
            );
            return (
                Decision { accept: false, messages: vec![message.clone()] },
                Outcome::Error,
                Some(what),
                Some(message),
            );
        }
    };
    let mut failure =
        log.is_none().then(|| format!("AUDIT LOG UNAVAILABLE (`{}`)", audit.path().display()));
    let j = judge(options, password, who);
    Stage::Recording.enter();
    if is_failure(j.outcome) {
        failure = Some(format!("{}: {}", j.outcome, j.detail.as_deref().unwrap_or("")));
    }
    // For syslog: a refusal (or what would be one) with what its rules tell the user, and a
    // failure of the hook's own.
    let to_syslog = match (j.outcome, j.said.is_empty()) {
        (Outcome::Rejected | Outcome::WouldRefuse, false) => Some(format!(
            "{} password change for `{account}`{}: {}",
            if j.outcome == Outcome::Rejected { "refused" } else { "REPORT-ONLY: would refuse" },
            j.user
                .as_deref()
                .or(who.user_principal_name.as_deref())
                .map(|u| format!(" ({u})"))
                .unwrap_or_default(),
            j.said.join("; ")
        )),
        // A refusal no rule message explains (an oversized or non-UTF-8 input): its log line.
        (Outcome::Rejected, true) => j.message.clone(),
        (o, _) if is_failure(o) => j.message.clone(),
        _ => None,
    };
    let mut messages: Vec<String> = j.message.into_iter().collect();
    let event = Event {
        time: now(),
        source: "hook",
        outcome: j.outcome,
        account: who.account.as_deref(),
        user: j.user.as_deref().or(who.user_principal_name.as_deref()),
        rules: j.rules.iter().map(String::as_str).collect(),
        policy: j.policy,
        change: j.change.as_deref(),
        detail: j.detail,
    };
    // Audit before yes: a yes whose line cannot be written is taken back (fail closed).
    let written = match log.as_mut().map(|l| l.write(&event)) {
        Some(Err(e)) => {
            Err(format!("cannot write the audit log `{}`: {e}", audit.path().display()))
        }
        _ => Ok(()),
    };
    let audited = gate::after_audit(j.accept, fail_mode(options), written);
    let accept = audited.accept;
    if let Some(what) = &audited.unrecorded {
        failure = Some(what.clone());
        if audited.taken_back(j.accept) {
            // Take back the queued change: the agent must not deliver an unrecorded decision.
            if let (Some(dir), Some(id)) = (&options.queue, &j.change) {
                let _ = policyc_gate::queue::remove_pending(dir, id);
            }
            messages.push(format!(
                "policyc: refused password change for `{account}`: {what}; FAIL-CLOSED"
            ));
        } else {
            messages.push(format!("policyc: {what}"));
        }
    }
    let to_syslog = match (&failure, to_syslog) {
        (Some(f), None) => Some(format!("policyc: {f}")),
        (_, line) => line,
    };
    let outcome = if !accept && j.accept { Outcome::Error } else { j.outcome };
    (Decision { accept, messages }, outcome, failure, to_syslog)
}

/// One decision, before it is recorded. Nothing in it holds the password.
struct Judgement {
    accept: bool,
    outcome: Outcome,
    /// The cloud user the change is queued for.
    user: Option<String>,
    /// The queued change's id.
    change: Option<String>,
    rules: Vec<String>,
    policy: Option<String>,
    detail: Option<String>,
    /// The line for standard error (Samba's log).
    message: Option<String>,
    /// What the refusing rules tell the user (`id ("message")`), for syslog.
    said: Vec<String>,
}

impl Judgement {
    fn new(accept: bool, outcome: Outcome, message: Option<String>) -> Judgement {
        Judgement {
            accept,
            outcome,
            user: None,
            change: None,
            rules: Vec::new(),
            policy: None,
            detail: None,
            message,
            said: Vec::new(),
        }
    }

    fn detail(mut self, detail: impl Into<String>) -> Judgement {
        self.detail = Some(detail.into());
        self
    }
}

fn judge(options: &HookOptions, password: &[u8], who: &SambaAccount) -> Judgement {
    let Some(account) = who.account.as_deref() else {
        let message = "policyc: refused: SAMBA_CPS_ACCOUNT_NAME is not set (not called by Samba?)";
        return Judgement::new(false, Outcome::Error, Some(message.into()))
            .detail("no account name");
    };
    let refused =
        |why: &str| Some(format!("policyc: refused password change for `{account}`: {why}"));
    if password.len() > MAX_STDIN_BYTES {
        let mut j = Judgement::new(
            false,
            Outcome::Rejected,
            refused(&format!("input over {MAX_STDIN_BYTES} bytes")),
        );
        j.rules.push(policyc_runtime::runtime::INPUT_SIZE_RULE.to_string());
        return j.detail("input too large");
    }
    let Ok(text) = std::str::from_utf8(password) else {
        return Judgement::new(
            false,
            Outcome::Rejected,
            refused("the password is not valid UTF-8"),
        )
        .detail("input is not UTF-8");
    };
    let key = match options.public_key.as_deref().map(policyc_gate::signing::PublicKey::from_file) {
        None => None,
        Some(Ok(k)) => Some(k),
        Some(Err(e)) => {
            return unavailable(options, who, text, &format!("POLICY KEY UNAVAILABLE ({e})"));
        }
    };
    let trust = policyc_gate::policy_file::Trust {
        key,
        min_serial: options.policy_min_serial,
        serials: options.serials.clone(),
        record: true,
    };
    if options.directory == Some(DirectoryConfig::Notified) {
        // `notified` trusts every queued change as stored (the Windows filter queues after
        // the store): under Samba it would turn off the group lookups and the agent's commit
        // check without a word.
        let why = "POLICY UNUSABLE: `directory: {kind: notified}` is for a queue the Windows filter fills; the Samba hook and its agent need `directory: {kind: samba, socket: …/private/ldap_priv/ldapi}`";
        return unavailable(options, who, text, why);
    }
    Stage::LoadingPolicy.enter();
    let validator = match policyc_gate::policy_file::map_policy(&options.policy, &trust) {
        Ok(v) => v,
        Err(e) => return unavailable(options, who, text, &format!("POLICY UNAVAILABLE ({e})")),
    };
    Stage::LookingUp.enter();
    let (ctx, lookup_failed) = match user_context(options, who, account, &validator) {
        Ok(found) => found,
        Err(Refusal::Unusable(why)) => return unavailable(options, who, text, &why),
        Err(Refusal::LookupFailed(j)) => return *j,
    };
    Stage::Checking.enter();
    let ruling = gate::judge(Ok(&validator), text, &ctx, fail_mode(options), options.report_only);
    let digest = validator.digest_hex();
    let mut j = match ruling {
        Ruling::PolicyUnavailable { why, .. } => return unavailable(options, who, text, &why),
        unreadable @ Ruling::StoreUnavailable { .. } => {
            store_unavailable(options, who, text, &ctx, &digest, &unreadable)
        }
        Ruling::WouldRefuse { rules } => {
            let ids: Vec<String> = rules.iter().map(|r| r.rule.clone()).collect();
            let message = format!(
                "policyc: REPORT-ONLY: the policy would refuse the password change for `{account}` (rules: {}); accepted",
                ids.join(", ")
            );
            let would = Judgement::new(true, Outcome::WouldRefuse, Some(message));
            let mut j = queued(would, options, who, text, &ctx, &digest);
            j.said = rule_words(&rules);
            j.rules = ids;
            j
        }
        Ruling::Refused { rules } => {
            let ids: Vec<String> = rules.iter().map(|r| r.rule.clone()).collect();
            let why = format!("the cloud policy would refuse it (rules: {})", ids.join(", "));
            let mut j = Judgement::new(false, Outcome::Rejected, refused(&why));
            j.said = rule_words(&rules);
            j.rules = ids;
            j
        }
        Ruling::Accepted => match lookup_failed {
            Some(e) => {
                let message = format!(
                    "policyc: DIRECTORY LOOKUP FAILED ({e}); FAIL-OPEN: accepting the password change for `{account}` checked without the directory's attributes"
                );
                let accepted =
                    Judgement::new(true, Outcome::AcceptedLookupFailed, Some(message)).detail(e);
                queued(accepted, options, who, text, &ctx, &digest)
            }
            None => queued(
                Judgement::new(true, Outcome::Accepted, None),
                options,
                who,
                text,
                &ctx,
                &digest,
            ),
        },
    };
    j.policy = Some(validator.label());
    j
}

/// The attributes Samba passes itself (`SAMBA_CPS_*`): never looked up.
fn samba_attributes() -> AttributeSet {
    [Attribute::SamAccountName, Attribute::UserPrincipalName, Attribute::DisplayName]
        .into_iter()
        .collect()
}

/// Why the hook cannot build the user's context.
enum Refusal {
    /// The policy needs the directory and none is configured: as bad as no policy.
    Unusable(String),
    /// The lookup failed and the hook fails closed.
    LookupFailed(Box<Judgement>),
}

/// The user as the policy sees it: Samba's variables plus what the directory holds of the
/// attributes the policy and the mapping need; and, when the lookup failed and the hook fails
/// open, why.
fn user_context(
    options: &HookOptions,
    who: &SambaAccount,
    account: &str,
    validator: &Validator,
) -> Result<(Context, Option<String>), Refusal> {
    let mut ctx = who.context();
    let wanted =
        validator.attributes().union(options.users.attributes()).without(samba_attributes());
    if wanted.is_empty() {
        return Ok((ctx, None));
    }
    let Some(directory) = &options.directory else {
        return Err(Refusal::Unusable(format!(
            "POLICY UNUSABLE: policy {} (or the user mapping) needs {wanted}, which the hook reads from the directory, and no directory is configured (--directory SOCKET, or `directory` in the config)",
            validator.label()
        )));
    };
    match directory.open().lookup(account, wanted) {
        Ok(Some(found)) => {
            ctx.extend_from(&found, wanted);
            Ok((ctx, None))
        }
        // A new account: its password is checked before the account is committed.
        Ok(None) => Ok((ctx, None)),
        Err(e) if options.fail_open => Ok((ctx, Some(e.to_string()))),
        Err(e) => {
            let message = format!(
                "policyc: DIRECTORY LOOKUP FAILED ({e}); FAIL-CLOSED: refusing the password change for `{account}` (the policy needs {wanted})"
            );
            let mut j = Judgement::new(false, Outcome::RejectedLookupFailed, Some(message))
                .detail(e.to_string());
            j.policy = Some(validator.label());
            Err(Refusal::LookupFailed(Box::new(j)))
        }
    }
}

/// No usable policy: refuse (fail closed), or accept unchecked (fail open), loudly either way.
fn unavailable(options: &HookOptions, who: &SambaAccount, text: &str, why: &str) -> Judgement {
    let account = who.account.as_deref().unwrap_or("");
    let ruling = gate::judge(Err(why), text, &who.context(), fail_mode(options), false);
    if ruling.accept() {
        let message = format!(
            "policyc: {why}; FAIL-OPEN: accepting unchecked the password change for `{account}`"
        );
        let accepted = Judgement::new(true, ruling.outcome(), Some(message)).detail(why);
        return queued(accepted, options, who, text, &who.context(), "unchecked");
    }
    let message =
        format!("policyc: {why}; FAIL-CLOSED: refusing the password change for `{account}`");
    Judgement::new(false, ruling.outcome(), Some(message)).detail(why)
}

/// Every enforce rule passed except those whose breached-password store could not be read:
/// refused (fail closed), or with `--fail-open` accepted and queued, loudly either way.
fn store_unavailable(
    options: &HookOptions,
    who: &SambaAccount,
    text: &str,
    ctx: &Context,
    digest: &str,
    ruling: &Ruling,
) -> Judgement {
    let account = who.account.as_deref().unwrap_or("");
    let why = ruling.unavailable().unwrap_or_default();
    let mut j = if ruling.accept() {
        let message = format!(
            "policyc: {why}; FAIL-OPEN: accepting the password change for `{account}`, which every other rule accepts"
        );
        let accepted = Judgement::new(true, ruling.outcome(), Some(message)).detail(why);
        queued(accepted, options, who, text, ctx, digest)
    } else {
        let message =
            format!("policyc: {why}; FAIL-CLOSED: refusing the password change for `{account}`");
        Judgement::new(false, ruling.outcome(), Some(message)).detail(why)
    };
    j.rules = ruling.rules();
    j
}

/// An accepted judgement, once its change is durably queued; a refusal if it cannot be. An
/// account that maps to no cloud user is accepted and recorded `not_synced`, never queued.
fn queued(
    accepted: Judgement,
    options: &HookOptions,
    who: &SambaAccount,
    password: &str,
    user: &Context,
    policy: &str,
) -> Judgement {
    let account = who.account.as_deref().unwrap_or("");
    let cloud_user = match options.users.cloud_user(user) {
        Ok(u) => u,
        Err(why) => {
            let message =
                format!("policyc: accepted `{account}`; not synced to the cloud: {}", why.0);
            // Report-only keeps its outcome: the rollout counts what the policy would refuse
            // on the DC, synced or not.
            if accepted.outcome == Outcome::WouldRefuse {
                let detail = format!("not synced to the cloud: {}", why.0);
                return Judgement { detail: Some(detail), ..accepted };
            }
            let mut j = Judgement::new(true, Outcome::NotSynced, Some(message)).detail(why.0);
            if accepted.outcome != Outcome::Accepted {
                j.detail = Some(format!("{}; {}", accepted.outcome, j.detail.unwrap_or_default()));
            }
            return j;
        }
    };
    if let Some(others) = collisions(options, account, &cloud_user) {
        let detail = super::mapping::collision_detail(account, &others, &cloud_user);
        let message = format!("policyc: accepted `{account}`; NOT SENT to the cloud: {detail}");
        let mut j = Judgement::new(true, Outcome::CloudIdCollision, Some(message)).detail(detail);
        j.user = Some(cloud_user);
        return j;
    }
    match enqueue(options, who, &cloud_user, password, policy) {
        Ok(change) => Judgement { user: Some(cloud_user), change, ..accepted },
        Err(q) => {
            let message = format!(
                "policyc: refused password change for `{account}`: cannot queue it for the cloud: {q}"
            );
            Judgement::new(false, Outcome::Error, Some(message)).detail(q.to_string())
        }
    }
}

/// Other synced accounts on the same cloud user, when the hook queues and can search the
/// directory. A failed search queues the change: the agent asks again before it delivers.
fn collisions(options: &HookOptions, account: &str, cloud_user: &str) -> Option<Vec<String>> {
    let directory = options.directory.as_ref().filter(|_| options.queue.is_some())?;
    let others = options.users.others_on(directory.open().as_mut(), account, cloud_user);
    others.ok().flatten().filter(|o| !o.is_empty())
}

fn enqueue(
    options: &HookOptions,
    who: &SambaAccount,
    cloud_user: &str,
    password: &str,
    policy: &str,
) -> Result<Option<String>, QueueError> {
    let Some(dir) = &options.queue else { return Ok(None) };
    Stage::Queuing.enter();
    let key = options.key.clone().unwrap_or_else(|| dir.join("key"));
    let queue = Queue::open_sealed(dir, &key)?;
    queue.claim(policyc_gate::queue::Filler::SambaHook)?;
    queue
        .enqueue(
            who.account.as_deref().unwrap_or(""),
            Some(cloud_user),
            who.full_name.as_deref(),
            password,
            policy,
        )
        .map(|c| Some(c.id))
}
