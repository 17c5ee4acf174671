//! The directory hook: Samba's `check password script`. The new password arrives on standard
//! input (UTF-8, no newline), the account in `SAMBA_CPS_*` variables; exit 0 accepts, anything
//! else refuses. Every decision goes to the audit log; an accepted change is sealed and durably
//! queued for the cloud before the hook says yes.

use super::audit::{AuditLog, Event, now};
use super::queue::Queue;
use crate::ir::Attribute;
use crate::{Context, Validator};
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
    /// The audit log.
    pub audit_log: PathBuf,
    /// Accept (unchecked) when the policy cannot be loaded, instead of refusing.
    pub fail_open: bool,
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

/// Runs the hook for one password change: judge it, then record the judgement in the audit log.
pub fn samba(options: &HookOptions, password: &[u8], who: &SambaAccount) -> Decision {
    let j = judge(options, password, who);
    let mut messages: Vec<String> = j.message.into_iter().collect();
    let audit = AuditLog::new(&options.audit_log);
    let event = Event {
        time: now(),
        source: "hook",
        outcome: j.outcome,
        account: who.account.as_deref(),
        user: who.user_principal_name.as_deref(),
        rules: j.rules.iter().map(String::as_str).collect(),
        policy: j.policy,
        change: None,
        detail: j.detail,
    };
    if let Err(e) = audit.write(&event) {
        messages
            .push(format!("policyc: cannot write the audit log `{}`: {e}", audit.path().display()));
    }
    Decision { accept: j.accept, messages }
}

/// One decision, before it is recorded. Nothing in it holds the password.
struct Judgement {
    accept: bool,
    outcome: &'static str,
    rules: Vec<String>,
    policy: Option<String>,
    detail: Option<String>,
    /// The line for standard error (Samba's log).
    message: Option<String>,
}

impl Judgement {
    fn new(accept: bool, outcome: &'static str, message: Option<String>) -> Judgement {
        Judgement { accept, outcome, rules: Vec::new(), policy: None, detail: None, message }
    }

    fn detail(mut self, detail: impl Into<String>) -> Judgement {
        self.detail = Some(detail.into());
        self
    }
}

fn judge(options: &HookOptions, password: &[u8], who: &SambaAccount) -> Judgement {
    let Some(account) = who.account.as_deref() else {
        let message = "policyc: refused: SAMBA_CPS_ACCOUNT_NAME is not set (not called by Samba?)";
        return Judgement::new(false, "error", Some(message.into())).detail("no account name");
    };
    let refused =
        |why: &str| Some(format!("policyc: refused password change for `{account}`: {why}"));
    if password.len() > MAX_STDIN_BYTES {
        let mut j = Judgement::new(
            false,
            "rejected",
            refused(&format!("input over {MAX_STDIN_BYTES} bytes")),
        );
        j.rules.push(crate::runtime::INPUT_SIZE_RULE.to_string());
        return j.detail("input too large");
    }
    let Ok(text) = std::str::from_utf8(password) else {
        return Judgement::new(false, "rejected", refused("the password is not valid UTF-8"))
            .detail("input is not UTF-8");
    };
    let validator = match Validator::from_path(&options.policy) {
        Ok(v) => v,
        Err(e) if options.fail_open => {
            let message = format!(
                "policyc: POLICY UNAVAILABLE ({e}); FAIL-OPEN: accepting unchecked the password change for `{account}`"
            );
            let accepted =
                Judgement::new(true, "accepted_unchecked", Some(message)).detail(e.to_string());
            return queued(accepted, options, who, text, "unchecked");
        }
        Err(e) => {
            let message = format!(
                "policyc: POLICY UNAVAILABLE ({e}); FAIL-CLOSED: refusing the password change for `{account}`"
            );
            return Judgement::new(false, "rejected_no_policy", Some(message))
                .detail(e.to_string());
        }
    };
    let verdict = validator.check(text, &who.context());
    let mut j = if verdict.is_compliant() {
        queued(Judgement::new(true, "accepted", None), options, who, text, &validator.digest_hex())
    } else {
        let rules: Vec<String> = verdict.violations().iter().map(|v| v.rule.to_string()).collect();
        let why = format!("the cloud policy would refuse it (rules: {})", rules.join(", "));
        let mut j = Judgement::new(false, "rejected", refused(&why));
        j.rules = rules;
        j
    };
    j.policy = Some(validator.label());
    j
}

/// An accepted judgement, once its change is durably queued; a refusal if it cannot be.
fn queued(
    accepted: Judgement,
    options: &HookOptions,
    who: &SambaAccount,
    password: &str,
    policy: &str,
) -> Judgement {
    match enqueue(options, who, password, policy) {
        Ok(()) => accepted,
        Err(q) => {
            let account = who.account.as_deref().unwrap_or("");
            let message = format!(
                "policyc: refused password change for `{account}`: cannot queue it for the cloud: {q}"
            );
            Judgement::new(false, "error", Some(message)).detail(q)
        }
    }
}

fn enqueue(
    options: &HookOptions,
    who: &SambaAccount,
    password: &str,
    policy: &str,
) -> Result<(), String> {
    let Some(dir) = &options.queue else { return Ok(()) };
    let key = options.key.clone().unwrap_or_else(|| dir.join("key"));
    let queue = Queue::open(dir, &key).map_err(|e| e.to_string())?;
    queue
        .enqueue(
            who.account.as_deref().unwrap_or(""),
            who.user_principal_name.as_deref(),
            who.full_name.as_deref(),
            password,
            policy,
        )
        .map(|_| ())
        .map_err(|e| e.to_string())
}
