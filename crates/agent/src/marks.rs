//! The agent's high-water marks: for each account, the change it last delivered and the
//! directory's `pwdLastSet` at that moment, one file per account under `QUEUE/delivered/`,
//! written durably before the change leaves the queue. A committed change is delivered only if
//! the directory set its password after the mark: an older password never overwrites a newer
//! one, whatever the queue holds (a record copied back, a directory restored from a backup),
//! and a delivery the agent made just before it stopped is not made twice.

use policyc_gate::queue::QueueError;
use serde::{Deserialize, Serialize};
use sha2::Digest as _;
use std::path::{Path, PathBuf};

/// What was last delivered for one account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mark {
    /// The on-premises account (sAMAccountName), as the change named it.
    pub account: String,
    /// The delivered change's id.
    pub change: String,
    /// The cloud user it went to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// The directory's `pwdLastSet` for the delivered password, in milliseconds since the
    /// Unix epoch (0: the directory did not say).
    pub pwd_last_set_ms: u64,
    /// When the cloud took it, in milliseconds since the Unix epoch.
    pub delivered_ms: u64,
    /// The delivered password's NT hash, as a keyed digest ([`policyc_gate::queue::Queue::password_digest`]):
    /// reconciliation compares it with the directory's current password. (Marks written
    /// before 2026-12-06 have none.)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// The replication stamp of the delivered password (`unicodePwd`), where the directory
    /// says: the domain's own order of an account's passwords, whichever DC set them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stamp: Option<super::replication::ReplStamp>,
    /// The cloud's `lastPasswordChangeDateTime` read just after the delivery: a later value
    /// means the password was changed in the cloud since (KB 2652040 cause 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud_changed: Option<String>,
    /// Whether the cloud's `lastPasswordChangeDateTime` moved with the delivery: when it did
    /// not, a change in the cloud cannot be seen either, and reconciliation says so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud_signal: Option<bool>,
    /// An operator accepted the cloud's password as it was after a change in the cloud
    /// (`agent reconcile --acknowledge`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub acknowledged: bool,
}

/// The marks of one queue.
#[derive(Debug, Clone)]
pub struct Marks {
    queue: PathBuf,
}

impl Marks {
    /// The marks of the queue at `queue` (the directory is created with the first mark).
    pub fn new(queue: &Path) -> Marks {
        Marks { queue: queue.to_path_buf() }
    }

    /// The account's file: named by a digest of the account (case folded, as the directory
    /// compares sAMAccountName), so that no account name becomes a path.
    fn path(&self, account: &str) -> PathBuf {
        let digest = sha2::Sha256::digest(account.to_lowercase().as_bytes());
        let name: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
        self.queue.join("delivered").join(format!("{name}.json"))
    }

    /// The account's mark, if it has one.
    pub fn get(&self, account: &str) -> Result<Option<Mark>, QueueError> {
        let path = self.path(account);
        if std::fs::symlink_metadata(&path).is_err() {
            return Ok(None);
        }
        let bytes = policyc_gate::queue::read_record(&path)?;
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| QueueError::Damaged { path, message: e.to_string() })
    }

    /// Every account's mark (reconciliation), with the files that could not be read.
    pub fn all(&self) -> (Vec<Mark>, Vec<QueueError>) {
        let dir = self.queue.join("delivered");
        let mut marks = Vec::new();
        let mut errors = Vec::new();
        let Ok(entries) = std::fs::read_dir(&dir) else { return (marks, errors) };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            match policyc_gate::queue::read_record(&path).and_then(|bytes| {
                serde_json::from_slice::<Mark>(&bytes)
                    .map_err(|e| QueueError::Damaged { path: path.clone(), message: e.to_string() })
            }) {
                Ok(m) => marks.push(m),
                Err(e) => errors.push(e),
            }
        }
        (marks, errors)
    }

    /// Records a delivery, durably.
    pub fn set(&self, mark: &Mark) -> Result<(), QueueError> {
        policyc_gate::files::secure_dir(&self.queue.join("delivered"))?;
        let path = self.path(&mark.account);
        let bytes = serde_json::to_vec(mark)
            .map_err(|e| QueueError::Damaged { path: path.clone(), message: e.to_string() })?;
        policyc_gate::queue::place(&self.queue, &bytes, &path)
    }
}
