//! The durable queue of accepted password changes: one JSON file per change under
//! `DIR/pending/`, written to `DIR/tmp/`, synced, renamed into place, and the directory synced,
//! before the hook accepts. Passwords are sealed with the [`QueueKey`]; nothing in the queue
//! directory is cleartext. Delivered changes are deleted; undeliverable ones move to
//! `DIR/failed/` (still sealed) for a human.

use super::crypto::{CryptoError, QueueKey};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};
use zeroize::Zeroizing;

/// Why the queue cannot do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// A file or directory operation failed.
    #[error("queue `{path}`: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The key is unusable, or a record does not decrypt.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// A file or directory is not safe to use.
    #[error(transparent)]
    Unsafe(#[from] super::files::FileError),
    /// The queue is filled by another kind of enforcement point than the one using it.
    #[error("queue `{path}`: {message}")]
    Filler {
        /// The queue's marker file.
        path: PathBuf,
        /// Who fills it and what to do.
        message: String,
    },
    /// A record is not a queued change.
    #[error("queue record `{path}` is damaged: {message}")]
    Damaged {
        /// The record.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

impl QueueError {
    /// The file it is about, when it is about one.
    pub fn path(&self) -> Option<&Path> {
        match self {
            QueueError::Io { path, .. }
            | QueueError::Damaged { path, .. }
            | QueueError::Filler { path, .. } => Some(path),
            QueueError::Unsafe(
                super::files::FileError::Io { path, .. }
                | super::files::FileError::Unsafe { path, .. },
            ) => Some(path),
            QueueError::Crypto(_) => None,
        }
    }
}

/// One accepted password change waiting for the cloud.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// Sortable id: the hook's sequence number ([`super::sequence`]: creation time in
    /// nanoseconds, kept in order when the clock steps back), process id, random suffix.
    pub id: String,
    /// The on-premises account (sAMAccountName).
    pub account: String,
    /// The cloud user (userPrincipalName), if the directory has one.
    pub user: Option<String>,
    /// The user's display name, for re-validation.
    #[serde(default)]
    pub display_name: Option<String>,
    /// When the hook accepted it, in milliseconds since the Unix epoch.
    pub created_ms: u64,
    /// Digest of the policy that accepted it.
    pub policy: String,
    nonce: String,
    sealed: String,
    /// Which fields the seal binds: 2, every field the agent trusts; 1 (records written before
    /// 2026-12), the id and the user only.
    #[serde(default = "legacy_seal")]
    seal: u8,
    /// Why it is in `failed/` (absent in `pending/`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<Failure>,
}

impl Change {
    /// A change that names an account and its cloud user only, holding no password: what an
    /// audit line or a webhook post about the account (not about a queued record) describes.
    pub fn describe(account: &str, user: Option<&str>) -> Change {
        Change {
            id: String::new(),
            account: account.to_string(),
            user: user.map(str::to_string),
            display_name: None,
            created_ms: now_ms(),
            policy: String::new(),
            nonce: String::new(),
            sealed: String::new(),
            seal: SEAL,
            failure: None,
        }
    }
}

/// Why a change could not be delivered, kept with it in `failed/`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    /// The outcome (`user_not_found`, `policy_drift`, ...).
    pub outcome: String,
    /// What the cloud or the agent said (never a password).
    pub reason: String,
    /// When, in milliseconds since the Unix epoch.
    pub at_ms: u64,
}

/// The seal version of records that do not say.
fn legacy_seal() -> u8 {
    1
}

/// The seal version new records get.
const SEAL: u8 = 2;

impl Change {
    /// The bytes the seal is bound to: the password cannot be moved to another record, and no
    /// field the agent trusts (id, account, cloud user, display name, creation time, policy)
    /// can be changed without the record failing to open. (A record cannot be downgraded to
    /// the old binding either: it was sealed with the new one.)
    fn context(&self) -> Vec<u8> {
        match self.seal {
            1 => format!("{}\0{}", self.id, self.user.as_deref().unwrap_or("")).into_bytes(),
            _ => serde_json::to_vec(&(
                "policyc-seal-2",
                &self.id,
                &self.account,
                &self.user,
                &self.display_name,
                self.created_ms,
                &self.policy,
            ))
            .unwrap_or_default(),
        }
    }

    /// Age in milliseconds.
    pub fn age_ms(&self) -> u64 {
        now_ms().saturating_sub(self.created_ms)
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// Who fills a queue. The two trust different things: the Samba hook queues a change before
/// Samba stores it (the agent must ask the directory what was committed), the Windows filter
/// only once Windows stored it (`directory: {kind: notified}` trusts every queued change). The
/// first to queue writes `QUEUE/filler`; the other kind, and an agent configured for the other
/// kind, are refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filler {
    /// `policyc hook samba` on a Samba DC.
    SambaHook,
    /// The LSA password filter on a Windows DC.
    WindowsFilter,
}

/// The marker file naming a queue's [`Filler`].
pub const FILLER_FILE: &str = "filler";

impl Filler {
    /// As written in the marker.
    pub fn name(self) -> &'static str {
        match self {
            Filler::SambaHook => "samba-hook",
            Filler::WindowsFilter => "windows-filter",
        }
    }

    /// What an admin reads.
    pub fn describe(self) -> &'static str {
        match self {
            Filler::SambaHook => "the Samba hook (`policyc hook samba`)",
            Filler::WindowsFilter => "the Windows LSA filter",
        }
    }

    fn parse(text: &str) -> Option<Filler> {
        match text.trim() {
            "samba-hook" => Some(Filler::SambaHook),
            "windows-filter" => Some(Filler::WindowsFilter),
            _ => None,
        }
    }
}

/// Who fills the queue at `dir`, as its marker says; `None` when nothing has queued yet.
pub fn filler(dir: &Path) -> Result<Option<Filler>, QueueError> {
    let path = dir.join(FILLER_FILE);
    match super::files::read_bounded(&path, 64, false) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            Filler::parse(&text).map(Some).ok_or_else(|| QueueError::Damaged {
                path,
                message: "it names neither `samba-hook` nor `windows-filter`".into(),
            })
        }
        Err(super::files::FileError::Io { source, .. })
            if source.kind() == std::io::ErrorKind::NotFound =>
        {
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

/// The queue directory and its key.
#[derive(Debug)]
pub struct Queue {
    dir: PathBuf,
    key: QueueKey,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> QueueError + '_ {
    move |source| QueueError::Io { path: path.to_path_buf(), source }
}

impl Queue {
    /// Opens (creating as needed) the queue at `dir` with the key at `key` (created on first use).
    pub fn open(dir: &Path, key: &Path) -> Result<Queue, QueueError> {
        super::files::secure_dir(dir)?;
        for sub in ["pending", "failed", "tmp"] {
            super::files::secure_dir(&dir.join(sub))?;
        }
        Ok(Queue { dir: dir.to_path_buf(), key: QueueKey::load_or_create(key)? })
    }

    /// Opens the queue for the agent: like [`Queue::open`], but a missing key is an error when
    /// records sealed with it wait in the queue (a new key would make every one unreadable).
    pub fn open_sealed(dir: &Path, key: &Path) -> Result<Queue, QueueError> {
        if !key.exists() {
            let sealed = list_pending(dir).map_or(0, |(c, d)| c.len() + d.len())
                + list_failed(dir).map_or(0, |(c, d)| c.len() + d.len());
            if sealed > 0 {
                return Err(QueueError::Crypto(CryptoError::Key {
                    path: key.to_path_buf(),
                    message: format!(
                        "it is missing, and {sealed} queued changes are sealed with it: restore it from a backup (a new key would make them all unreadable; policyc never creates a key where one is expected)"
                    ),
                }));
            }
        }
        Queue::open(dir, key)
    }

    /// Records that `who` fills this queue (on its first use), or refuses when the other kind
    /// of enforcement point does.
    pub fn claim(&self, who: Filler) -> Result<(), QueueError> {
        let path = self.dir.join(FILLER_FILE);
        if filler(&self.dir)?.is_none() {
            // Written whole under another name, then linked into place: a concurrent claim
            // either wins or finds a complete marker.
            let tmp =
                self.dir.join("tmp").join(format!("filler.{}", super::sequence::next(&self.dir)?));
            let mut f = super::files::create_new(&tmp, 0o600)?;
            std::io::Write::write_all(&mut f, format!("{}\n", who.name()).as_bytes())
                .and_then(|()| f.sync_all())
                .map_err(io(&tmp))?;
            drop(f);
            let linked = std::fs::hard_link(&tmp, &path);
            let _ = std::fs::remove_file(&tmp);
            match linked {
                Ok(()) => return Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(io(&path)(e)),
            }
        }
        match filler(&self.dir)? {
            Some(f) if f != who => Err(QueueError::Filler {
                path,
                message: format!(
                    "this queue is filled by {}, so {} may not queue into it: give each its own queue",
                    f.describe(),
                    who.describe()
                ),
            }),
            _ => Ok(()),
        }
    }

    /// The queue directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The keyed digest of an NT hash ([`QueueKey::digest`]): how a mark remembers which
    /// password was delivered.
    pub fn password_digest(&self, nt_hash: &[u8; 16]) -> String {
        self.key.digest(nt_hash)
    }

    /// Seals and durably stores one change; returns it once it is on disk.
    pub fn enqueue(
        &self,
        account: &str,
        user: Option<&str>,
        display_name: Option<&str>,
        password: &str,
        policy: &str,
    ) -> Result<Change, QueueError> {
        let nanos = super::sequence::next(&self.dir)?;
        let mut salt = [0u8; 4];
        super::crypto::random(&mut salt)?;
        let id = format!("{nanos:024}-{:010}-{}", std::process::id(), hex(&salt));
        let mut change = Change {
            id,
            account: account.to_string(),
            user: user.map(str::to_string),
            display_name: display_name.map(str::to_string),
            created_ms: now_ms(),
            policy: policy.to_string(),
            nonce: String::new(),
            sealed: String::new(),
            seal: SEAL,
            failure: None,
        };
        let (nonce, sealed) = self.key.seal(password.as_bytes(), &change.context())?;
        change.nonce = B64.encode(nonce);
        change.sealed = B64.encode(sealed);
        let bytes = serde_json::to_vec(&change)
            .map_err(|e| QueueError::Damaged { path: self.dir.clone(), message: e.to_string() })?;
        place(&self.dir, &bytes, &self.pending_path(&change.id))?;
        Ok(change)
    }

    fn pending_path(&self, id: &str) -> PathBuf {
        pending_path(&self.dir, id)
    }

    /// Every pending change, oldest first, and the records that could not be read.
    pub fn pending(&self) -> Result<(Vec<Change>, Vec<QueueError>), QueueError> {
        list_pending(&self.dir)
    }

    /// The change's password.
    pub fn password(&self, change: &Change) -> Result<Zeroizing<String>, QueueError> {
        let damaged = |m: &str| QueueError::Damaged {
            path: pending_path(&self.dir, &change.id),
            message: m.into(),
        };
        let nonce = B64.decode(&change.nonce).map_err(|_| damaged("bad nonce encoding"))?;
        let sealed = B64.decode(&change.sealed).map_err(|_| damaged("bad ciphertext encoding"))?;
        let bytes = self.key.open(&nonce, &sealed, &change.context())?;
        let text = std::str::from_utf8(&bytes).map_err(|_| damaged("not UTF-8"))?;
        Ok(Zeroizing::new(text.to_string()))
    }

    /// Removes a delivered (or superseded, or refused) change.
    pub fn remove(&self, id: &str) -> Result<(), QueueError> {
        let path = self.pending_path(id);
        match std::fs::remove_file(&path) {
            Ok(()) => sync_dir(&self.dir.join("pending")),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io(&path)(e)),
        }
    }

    /// Moves an undeliverable change to `failed/`, still sealed, with why.
    pub fn fail(&self, change: &Change, failure: Failure) -> Result<(), QueueError> {
        let record = Change { failure: Some(failure), ..change.clone() };
        let bytes = serde_json::to_vec(&record)
            .map_err(|e| QueueError::Damaged { path: self.dir.clone(), message: e.to_string() })?;
        place(&self.dir, &bytes, &failed_path(&self.dir, &change.id))?;
        self.remove(&change.id)
    }
}

/// Writes `bytes` to a temporary file, syncs it, renames it to `dest` and syncs the directory.
pub fn place(dir: &Path, bytes: &[u8], dest: &Path) -> Result<(), QueueError> {
    let name = dest.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    let tmp = dir.join("tmp").join(name);
    // A leftover of a crash goes first (removing a planted link never touches its target).
    match std::fs::remove_file(&tmp) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(&tmp)(e)),
        _ => {}
    }
    write_synced(&tmp, bytes)?;
    std::fs::rename(&tmp, dest).map_err(io(dest))?;
    sync_dir(dest.parent().unwrap_or(dir))
}

fn failed_path(dir: &Path, id: &str) -> PathBuf {
    dir.join("failed").join(format!("{id}.json"))
}

/// The changes in `failed/`, oldest first, and the files there that are not readable records
/// (damaged records moved aside).
pub fn list_failed(dir: &Path) -> Result<(Vec<Change>, Vec<PathBuf>), QueueError> {
    let failed = dir.join("failed");
    let mut changes = Vec::new();
    let mut unreadable = Vec::new();
    let entries = match std::fs::read_dir(&failed) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((changes, unreadable)),
        Err(e) => return Err(io(&failed)(e)),
    };
    for entry in entries {
        let path = entry.map_err(io(&failed))?.path();
        match read_record(&path).ok().and_then(|b| serde_json::from_slice::<Change>(&b).ok()) {
            Some(c) if failed_path(dir, &c.id) == path => changes.push(c),
            _ => unreadable.push(path),
        }
    }
    changes.sort_by(|a, b| a.id.cmp(&b.id));
    unreadable.sort();
    Ok((changes, unreadable))
}

/// Moves a failed change back to `pending/` for the agent to try again.
pub fn retry_failed(dir: &Path, change: &Change) -> Result<(), QueueError> {
    let record = Change { failure: None, ..change.clone() };
    let bytes = serde_json::to_vec(&record)
        .map_err(|e| QueueError::Damaged { path: dir.to_path_buf(), message: e.to_string() })?;
    place(dir, &bytes, &pending_path(dir, &change.id))?;
    purge_failed(dir, &failed_path(dir, &change.id))
}

/// Deletes a file from `failed/`.
pub fn purge_failed(dir: &Path, path: &Path) -> Result<(), QueueError> {
    std::fs::remove_file(path).map_err(io(path))?;
    sync_dir(&dir.join("failed"))
}

/// Removes a pending change by id, without the key (the hook takes back a change whose
/// decision it could not record).
pub fn remove_pending(dir: &Path, id: &str) -> Result<(), QueueError> {
    let path = pending_path(dir, id);
    std::fs::remove_file(&path).map_err(io(&path))?;
    sync_dir(&dir.join("pending"))
}

fn pending_path(dir: &Path, id: &str) -> PathBuf {
    dir.join("pending").join(format!("{id}.json"))
}

/// The pending changes of a queue directory, oldest first, and the unreadable records. Needs no
/// key: records are read, not opened.
pub fn list_pending(dir: &Path) -> Result<(Vec<Change>, Vec<QueueError>), QueueError> {
    let pending = dir.join("pending");
    let mut changes = Vec::new();
    let mut damaged = Vec::new();
    for entry in std::fs::read_dir(&pending).map_err(io(&pending))? {
        let path = entry.map_err(io(&pending))?.path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let parsed = read_record(&path).and_then(|b| {
            serde_json::from_slice::<Change>(&b)
                .map_err(|e| QueueError::Damaged { path: path.clone(), message: e.to_string() })
        });
        match parsed {
            Ok(c) if pending_path(dir, &c.id) == path => changes.push(c),
            Ok(_) => damaged.push(QueueError::Damaged {
                path: path.clone(),
                message: "its id does not match its file name".into(),
            }),
            Err(e) => damaged.push(e),
        }
    }
    changes.sort_by(|a, b| a.id.cmp(&b.id));
    Ok((changes, damaged))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The largest queue record read: a record is well under 1 KiB.
const MAX_RECORD_BYTES: usize = 64 * 1024;

/// A record's bytes: a regular file of root's (or this user's), not a link or FIFO, bounded.
pub fn read_record(path: &Path) -> Result<Zeroizing<Vec<u8>>, QueueError> {
    super::files::read_bounded(path, MAX_RECORD_BYTES, false).map_err(QueueError::from)
}

/// Writes a new file (owner-only, never over a link), syncs it; removes it if that fails.
fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), QueueError> {
    use std::io::Write;
    let mut f = super::files::create_new(path, 0o600)?;
    let written = f.write_all(bytes).and_then(|()| f.sync_all());
    if let Err(e) = written {
        let _ = std::fs::remove_file(path);
        return Err(io(path)(e));
    }
    Ok(())
}

/// Syncs a directory, so that a rename or removal in it is durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), QueueError> {
    super::files::sync_dir(dir).map_err(io(dir))
}
