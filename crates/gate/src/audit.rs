//! The audit log: one JSON object per line, appended and synced. It records decisions and
//! deliveries (account, outcome, rule ids, policy version), never a password.

use super::outcome::Outcome;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// One audit record.
#[derive(Debug, Clone, Serialize)]
pub struct Event<'a> {
    /// RFC 3339 UTC time.
    pub time: String,
    /// Who wrote it: `hook` or `agent`.
    pub source: &'a str,
    /// What happened: `accepted`, `rejected`, `delivered`, `policy_drift`, `failed`, ...
    pub outcome: Outcome,
    /// The account (sAMAccountName), when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<&'a str>,
    /// The cloud user (userPrincipalName), when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<&'a str>,
    /// Violated rule ids.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<&'a str>,
    /// The policy's name and digest prefix.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// The queued change's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change: Option<&'a str>,
    /// Details for a human (HTTP status, error text). Never holds a password.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl<'a> Event<'a> {
    /// A decision of an enforcement point (`source`), now: its outcome, the account, the rule
    /// ids, the policy's label, and what went wrong if anything did.
    pub fn decision(
        source: &'a str,
        outcome: Outcome,
        account: Option<&'a str>,
        rules: &'a [String],
        policy: Option<String>,
        detail: Option<String>,
    ) -> Event<'a> {
        Event {
            time: now(),
            source,
            outcome,
            account,
            user: None,
            rules: rules.iter().map(String::as_str).collect(),
            policy,
            change: None,
            detail,
        }
    }
}

/// A record as written: the event and the host that wrote it (with several DCs, which DC
/// refused or queued a change).
#[derive(Serialize)]
struct Line<'a, 'e> {
    #[serde(flatten)]
    event: &'a Event<'e>,
    host: &'static str,
}

/// This machine's name (the DC's), read once.
pub fn host() -> &'static str {
    static HOST: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HOST.get_or_init(|| {
        #[cfg(unix)]
        let name = rustix::system::uname().nodename().to_string_lossy().into_owned();
        #[cfg(not(unix))]
        let name = std::env::var("COMPUTERNAME").unwrap_or_default();
        name
    })
}

/// Now, as RFC 3339 with milliseconds.
pub fn now() -> String {
    humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string()
}

/// An append-only JSON-lines file.
#[derive(Debug, Clone)]
pub struct AuditLog {
    path: PathBuf,
}

impl AuditLog {
    /// The log at `path` (created on first write).
    pub fn new(path: impl Into<PathBuf>) -> AuditLog {
        AuditLog { path: path.into() }
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one event and syncs it to disk.
    pub fn write(&self, event: &Event<'_>) -> std::io::Result<()> {
        self.open()?.write(event)
    }

    /// Opens the log for appending (its directory created private if missing): a symlink,
    /// a FIFO, a file someone else owns or may write, or a directory others may write is
    /// refused. The hook opens it before it decides, so that a log it cannot write refuses
    /// the change instead of leaving the decision unrecorded.
    pub fn open(&self) -> std::io::Result<AuditWriter> {
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            super::files::secure_dir(dir)?;
        }
        Ok(AuditWriter { file: super::files::open_append(&self.path, 0o640)? })
    }
}

/// An audit log open for appending.
#[derive(Debug)]
pub struct AuditWriter {
    file: std::fs::File,
}

impl AuditWriter {
    /// Appends one event and syncs it to disk.
    pub fn write(&mut self, event: &Event<'_>) -> std::io::Result<()> {
        self.append(event)?;
        self.sync()
    }

    /// Appends one event to the file (the operating system's cache); [`AuditWriter::sync`]
    /// makes it durable. For callers that cannot wait for the disk on every line (the Windows
    /// filter, on LSA's thread), and sync from another thread.
    pub fn append(&mut self, event: &Event<'_>) -> std::io::Result<()> {
        let line = Line { event, host: host() };
        let mut line = serde_json::to_vec(&line).map_err(std::io::Error::other)?;
        line.push(b'\n');
        super::files::append_record(&self.file, &line)
    }

    /// Syncs what was appended to disk.
    pub fn sync(&self) -> std::io::Result<()> {
        self.file.sync_data()
    }
}
