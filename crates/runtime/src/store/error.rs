//! Why a store cannot be used.

use std::path::{Path, PathBuf};

/// A store that cannot be opened or read. A check that meets one does not guess: the rule that
/// needs the store is reported as not evaluated, and the caller's fail mode decides.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A file of the store could not be read.
    #[error("cannot read breached-password store file `{path}`: {reason}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        reason: String,
        /// Its kind (a reader racing an update retries a missing shard once).
        kind: std::io::ErrorKind,
    },
    /// The file is not a store file at all.
    #[error(
        "`{path}` is not a policyc breached-password {what} (wrong magic bytes); build the store with `policyc store build`"
    )]
    NotAStore {
        /// The file.
        path: PathBuf,
        /// `manifest` or `shard`.
        what: String,
    },
    /// Written by another store format version.
    #[error(
        "`{path}` has store format version {found}; this build reads version {supported}: rebuild the store with this policyc (`policyc store build`)"
    )]
    UnsupportedVersion {
        /// The file.
        path: PathBuf,
        /// The version in the file.
        found: u16,
        /// The version this build reads.
        supported: u16,
    },
    /// Truncated, corrupted or mixed up with another store's files.
    #[error(
        "breached-password store file `{path}` is damaged: {reason}; run `policyc store verify` and rebuild or update the store"
    )]
    Damaged {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A file or directory of the store that root may not trust: someone else owns it or may
    /// write it, or it is a symlink, FIFO or device.
    #[error("breached-password store: {reason}")]
    Untrusted {
        /// What is wrong and the fix (names the path).
        reason: String,
    },
    /// The store holds other hashes than the policy asks for.
    #[error(
        "breached-password store `{path}` holds {found} hashes, but the policy needs {expected}"
    )]
    WrongMode {
        /// The store.
        path: PathBuf,
        /// The store's mode.
        found: &'static str,
        /// The policy's.
        expected: &'static str,
    },
}

impl StoreError {
    pub(crate) fn damaged(path: &Path, reason: &str) -> StoreError {
        StoreError::Damaged { path: path.to_path_buf(), reason: reason.into() }
    }

    pub(crate) fn io(path: &Path, e: &std::io::Error) -> StoreError {
        StoreError::Io { path: path.to_path_buf(), reason: e.to_string(), kind: e.kind() }
    }

    /// A refusal of [`crate::files`]: an I/O error stays one (a missing shard is retried).
    #[cfg(any(unix, windows))]
    pub(crate) fn file(e: crate::files::FileError) -> StoreError {
        match e {
            crate::files::FileError::Io { path, source } => StoreError::io(&path, &source),
            e => StoreError::Untrusted { reason: e.to_string() },
        }
    }

    /// Whether a missing file is the cause.
    pub(crate) fn is_missing(&self) -> bool {
        matches!(self, StoreError::Io { kind: std::io::ErrorKind::NotFound, .. })
    }
}
