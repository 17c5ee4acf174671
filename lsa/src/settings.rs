//! The filter's settings, from `HKLM\SOFTWARE\policyc` (read when LSA initialises the filter
//! and again when they change: a reload re-reads them). Every value is optional; the defaults
//! put everything under `C:\ProgramData\policyc`.

use std::path::PathBuf;

/// The registry key under `HKEY_LOCAL_MACHINE`.
pub const KEY: &str = r"SOFTWARE\policyc";

/// What the filter does with a password it cannot judge (no usable policy, no audit log):
/// the gate's fail mode, `FailMode` (REG_SZ `open` or `closed`).
pub use policyc_gate::gate::FailMode;

/// Where things are, and how to fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `PolicyPath` (REG_SZ): the compiled policy.
    pub policy: PathBuf,
    /// `PublicKey` (REG_SZ): if set, only an artifact signed by this key is used.
    pub public_key: Option<PathBuf>,
    /// `PolicyMinSerial` (REG_SZ, decimal): with `PublicKey`, a signed policy's serial must be
    /// at least this (the highest serial used is also kept in the queue's folder).
    pub policy_min_serial: u64,
    /// `QueuePath` (REG_SZ): the queue the agent reads; empty: changes are not queued.
    pub queue: Option<PathBuf>,
    /// `KeyPath` (REG_SZ): the queue key (default `QUEUE\key`).
    pub key: Option<PathBuf>,
    /// `AuditLog` (REG_SZ): the JSON-lines audit log.
    pub audit_log: PathBuf,
    /// `FailOpen` (REG_DWORD, 0 or 1).
    pub fail: FailMode,
    /// `UpnSuffix` (REG_SZ, e.g. `contoso.com`): the cloud user of account `NAME` is
    /// `NAME@suffix`; without it, changes are queued with no cloud user (`not_synced`).
    pub upn_suffix: Option<String>,
    /// `NotifyWaitMs` (REG_DWORD): how long `PasswordChangeNotify` waits for the change to be
    /// durably queued before it returns to LSA (the queuing goes on; a failure is logged).
    pub notify_wait_ms: u32,
}

impl Default for Settings {
    fn default() -> Settings {
        let base = PathBuf::from(r"C:\ProgramData\policyc");
        Settings {
            policy: base.join("policy.policyc"),
            public_key: None,
            policy_min_serial: 0,
            queue: Some(base.join("queue")),
            key: None,
            audit_log: base.join("audit.jsonl"),
            fail: FailMode::Closed,
            upn_suffix: None,
            notify_wait_ms: 2000,
        }
    }
}

/// The largest `NotifyWaitMs` honoured: LSA's thread is never held longer.
pub const MAX_NOTIFY_WAIT_MS: u32 = 5000;

impl Settings {
    /// Builds settings from named values (`name -> text`, DWORDs as decimal), over the defaults.
    pub fn from_values(get: impl Fn(&str) -> Option<String>) -> Settings {
        let mut s = Settings::default();
        let path = |name: &str| get(name).filter(|v| !v.trim().is_empty()).map(PathBuf::from);
        if let Some(p) = path("PolicyPath") {
            s.policy = p;
        }
        s.public_key = path("PublicKey");
        if let Some(n) = get("PolicyMinSerial").and_then(|v| v.trim().parse().ok()) {
            s.policy_min_serial = n;
        }
        if let Some(q) = get("QueuePath") {
            s.queue = (!q.trim().is_empty()).then(|| PathBuf::from(q));
        }
        s.key = path("KeyPath");
        if let Some(p) = path("AuditLog") {
            s.audit_log = p;
        }
        if get("FailOpen").is_some_and(|v| v.trim() == "1") {
            s.fail = FailMode::Open;
        }
        s.upn_suffix = get("UpnSuffix")
            .map(|v| v.trim().trim_start_matches('@').to_string())
            .filter(|v| !v.is_empty());
        if let Some(ms) = get("NotifyWaitMs").and_then(|v| v.trim().parse::<u32>().ok()) {
            s.notify_wait_ms = ms.min(MAX_NOTIFY_WAIT_MS);
        }
        s
    }

    /// The settings in the registry now.
    #[cfg(windows)]
    pub fn from_registry() -> Settings {
        Settings::from_values(|name| crate::win::registry_value(KEY, name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_overrides() {
        assert_eq!(Settings::from_values(|_| None), Settings::default());
        let s = Settings::from_values(|n| match n {
            "PolicyPath" => Some(r"D:\p.policyc".into()),
            "QueuePath" => Some(String::new()),
            "FailOpen" => Some("1".into()),
            "UpnSuffix" => Some("@contoso.com".into()),
            "NotifyWaitMs" => Some("999999".into()),
            _ => None,
        });
        assert_eq!(s.policy, PathBuf::from(r"D:\p.policyc"));
        assert_eq!(s.queue, None, "an empty QueuePath turns queuing off");
        assert_eq!(s.fail, FailMode::Open);
        assert_eq!(s.upn_suffix.as_deref(), Some("contoso.com"));
        assert_eq!(s.notify_wait_ms, MAX_NOTIFY_WAIT_MS);
    }
}
