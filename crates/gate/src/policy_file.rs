//! The deployed policy, as a hook or the agent loads it: a file root may trust (see
//! [`policyc_runtime::files`]), signed when a public key is configured.

use super::files::FileError;
use super::signing::{PublicKey, SigningError};
use policyc_runtime::artifact::LoadError;
use std::path::{Path, PathBuf};

/// Why the deployed policy cannot be used: each enforcement point then follows its fail mode.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// The file cannot be read, or root may not trust it (owner, mode, type, a link).
    #[error(transparent)]
    File(#[from] FileError),
    /// Larger than any artifact policyc writes.
    #[error("`{}` is larger than {MAX_ARTIFACT_BYTES} bytes: it is not a file policyc wrote", .0.display())]
    TooLarge(PathBuf),
    /// Reading or mapping it failed.
    #[error("cannot read `{}`: {source}", .path.display())]
    Io {
        /// The artifact.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// Not a valid artifact (damaged, of another format, not an artifact).
    #[error("`{}`: {source}", .path.display())]
    Invalid {
        /// The artifact.
        path: PathBuf,
        /// Why it does not load.
        source: LoadError,
    },
    /// Its signature or serial is refused (unsigned, another key, changed, older).
    #[error(transparent)]
    Signature(#[from] SigningError),
    /// A minimum serial without a key to read serials with.
    #[error(
        "`policy_min_serial` is set but no `policy_public_key`: serials are only in signatures"
    )]
    SerialWithoutKey,
}

/// What a verifier requires of the policy it loads.
#[derive(Debug, Clone, Default)]
pub struct Trust {
    /// Use the policy only if signed by this key.
    pub key: Option<PublicKey>,
    /// Refuse a signed policy with a serial below this (`policy_min_serial`).
    pub min_serial: u64,
    /// Where the highest serial used per policy name is kept (the queue's directory), if the
    /// verifier keeps state: an older one is refused.
    pub serials: Option<PathBuf>,
    /// Record a newer serial there (a reader such as `agent status` only compares).
    pub record: bool,
}

impl Trust {
    /// Checks `bytes`' signature and serial, recording the serial.
    fn admit(&self, path: &Path, bytes: &[u8]) -> Result<(), PolicyError> {
        let Some(key) = &self.key else {
            return match self.min_serial {
                0 => Ok(()),
                _ => Err(PolicyError::SerialWithoutKey),
            };
        };
        let signed = key.verify(path, bytes)?;
        let serials = self.serials.as_deref();
        Ok(super::signing::admit(path, &signed, self.min_serial, serials, self.record)?)
    }
}

/// The largest artifact loaded (a 100,000-term policy is about 9 MB).
pub const MAX_ARTIFACT_BYTES: usize = 256 << 20;

/// Loads a compiled policy that root may trust: a regular file of root's (or this user's)
/// that nobody else may write, read without following a link, and, when a public key is
/// configured, signed by it with a serial not older than `trust` allows. The bytes are read: a long-running process (the agent, the Windows
/// filter) keeps its policy however the file is replaced, even by a `cp` over it; its
/// breached-password stores are mapped for many lookups ([`StoreAccess::Resident`]).
///
/// [`StoreAccess::Resident`]: policyc_runtime::store::StoreAccess::Resident
pub fn load_policy(path: &Path, trust: &Trust) -> Result<policyc_runtime::Validator, PolicyError> {
    let bytes = policyc_runtime::files::read_bounded(path, MAX_ARTIFACT_BYTES, false)?;
    trust.admit(path, &bytes)?;
    policyc_runtime::Validator::from_bytes(&bytes)
        .map(|v| v.with_store_access(policyc_runtime::store::StoreAccess::Resident))
        .map_err(|source| PolicyError::Invalid { path: path.to_path_buf(), source })
}

/// [`load_policy`] for a process that lives for one check (the Samba hook): on Unix the file
/// is mapped and its tries walked in place, so that a reset costs no copy of the policy. (A
/// file truncated in place while mapped would fault the process: a hook lives milliseconds,
/// and a failed hook refuses the change.) Elsewhere it is read.
pub fn map_policy(path: &Path, trust: &Trust) -> Result<policyc_runtime::Validator, PolicyError> {
    #[cfg(unix)]
    {
        let io = |source| PolicyError::Io { path: path.to_path_buf(), source };
        let file = policyc_runtime::files::open_trusted(path, false)?;
        let len = file.metadata().map_err(io)?.len();
        if len > MAX_ARTIFACT_BYTES as u64 {
            return Err(PolicyError::TooLarge(path.to_path_buf()));
        }
        let map = policyc_runtime::mapped::map(&file, policyc_runtime::mapped::Reads::Whole)
            .map_err(io)?;
        trust.admit(path, &map)?;
        policyc_runtime::Validator::from_map(std::sync::Arc::new(map))
            .map_err(|source| PolicyError::Invalid { path: path.to_path_buf(), source })
    }
    #[cfg(not(unix))]
    load_policy(path, trust)
}
