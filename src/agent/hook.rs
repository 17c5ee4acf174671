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

/// Runs the hook for one password change.
pub fn samba(options: &HookOptions, password: &[u8], who: &SambaAccount) -> Decision {
    let audit = AuditLog::new(&options.audit_log);
    let mut messages = Vec::new();
    let account = who.account.as_deref();
    let user = who.user_principal_name.as_deref();
    let decide = |accept: bool,
                  outcome: &'static str,
                  detail: Option<String>,
                  rules: Vec<&str>,
                  policy: Option<String>,
                  messages: &mut Vec<String>| {
        let event = Event {
            time: now(),
            source: "hook",
            outcome,
            account,
            user,
            rules,
            policy,
            change: None,
            detail,
        };
        if let Err(e) = audit.write(&event) {
            messages.push(format!(
                "policyc: cannot write the audit log `{}`: {e}",
                audit.path().display()
            ));
        }
        Decision { accept, messages: std::mem::take(messages) }
    };
    let Some(account_name) = account else {
        messages.push(
            "policyc: refused: SAMBA_CPS_ACCOUNT_NAME is not set (not called by Samba?)".into(),
        );
        return decide(
            false,
            "error",
            Some("no account name".into()),
            Vec::new(),
            None,
            &mut messages,
        );
    };
    if password.len() > MAX_STDIN_BYTES {
        messages.push(format!("policyc: refused password change for `{account_name}`: input over {MAX_STDIN_BYTES} bytes"));
        return decide(
            false,
            "rejected",
            Some("input too large".into()),
            vec![crate::runtime::INPUT_SIZE_RULE],
            None,
            &mut messages,
        );
    }
    let Ok(text) = std::str::from_utf8(password) else {
        messages.push(format!(
            "policyc: refused password change for `{account_name}`: the password is not valid UTF-8"
        ));
        return decide(
            false,
            "rejected",
            Some("input is not UTF-8".into()),
            Vec::new(),
            None,
            &mut messages,
        );
    };
    let validator = match Validator::from_path(&options.policy) {
        Ok(v) => v,
        Err(e) => {
            let mode = if options.fail_open {
                "FAIL-OPEN: accepting unchecked"
            } else {
                "FAIL-CLOSED: refusing"
            };
            messages.push(format!(
                "policyc: POLICY UNAVAILABLE ({e}); {mode} the password change for `{account_name}`"
            ));
            let outcome =
                if options.fail_open { "accepted_unchecked" } else { "rejected_no_policy" };
            if !options.fail_open {
                return decide(
                    false,
                    outcome,
                    Some(e.to_string()),
                    Vec::new(),
                    None,
                    &mut messages,
                );
            }
            return match enqueue(options, who, account_name, text, "unchecked") {
                Ok(()) => {
                    decide(true, outcome, Some(e.to_string()), Vec::new(), None, &mut messages)
                }
                Err(q) => {
                    messages.push(format!(
                        "policyc: refused: cannot queue the change for the cloud: {q}"
                    ));
                    decide(false, "error", Some(q), Vec::new(), None, &mut messages)
                }
            };
        }
    };
    let policy =
        format!("{}@{}", validator.program().name, validator.digest_hex().get(..12).unwrap_or(""));
    let verdict = validator.check(text, &who.context());
    if !verdict.is_compliant() {
        let rules: Vec<&str> = verdict.violations().iter().map(|v| v.rule).collect();
        messages.push(format!(
            "policyc: refused password change for `{account_name}`: the cloud policy would refuse it (rules: {})",
            rules.join(", ")
        ));
        return decide(false, "rejected", None, rules, Some(policy), &mut messages);
    }
    match enqueue(options, who, account_name, text, &validator.digest_hex()) {
        Ok(()) => decide(true, "accepted", None, Vec::new(), Some(policy), &mut messages),
        Err(q) => {
            messages.push(format!("policyc: refused password change for `{account_name}`: cannot queue it for the cloud: {q}"));
            decide(false, "error", Some(q), Vec::new(), Some(policy), &mut messages)
        }
    }
}

fn enqueue(
    options: &HookOptions,
    who: &SambaAccount,
    account: &str,
    password: &str,
    policy: &str,
) -> Result<(), String> {
    let Some(dir) = &options.queue else { return Ok(()) };
    let key = options.key.clone().unwrap_or_else(|| dir.join("key"));
    let queue = Queue::open(dir, &key).map_err(|e| e.to_string())?;
    queue
        .enqueue(
            account,
            who.user_principal_name.as_deref(),
            who.full_name.as_deref(),
            password,
            policy,
        )
        .map(|_| ())
        .map_err(|e| e.to_string())
}
