//! The deployed policy, as a hook or the agent loads it: a file root may trust (see
//! [`policyc_runtime::files`]), signed when a public key is configured.

use super::signing::PublicKey;
use std::path::{Path, PathBuf};

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
    fn admit(&self, path: &Path, bytes: &[u8]) -> Result<(), String> {
        let Some(key) = &self.key else {
            return match self.min_serial {
                0 => Ok(()),
                _ => Err("`policy_min_serial` is set but no `policy_public_key`: serials are only in signatures".into()),
            };
        };
        let signed = key.verify(path, bytes)?;
        super::signing::admit(path, &signed, self.min_serial, self.serials.as_deref(), self.record)
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
pub fn load_policy(path: &Path, trust: &Trust) -> Result<policyc_runtime::Validator, String> {
    let bytes = policyc_runtime::files::read_bounded(path, MAX_ARTIFACT_BYTES, false)
        .map_err(|e| e.to_string())?;
    trust.admit(path, &bytes)?;
    policyc_runtime::Validator::from_bytes(&bytes)
        .map(|v| v.with_store_access(policyc_runtime::store::StoreAccess::Resident))
        .map_err(|e| format!("`{}`: {e}", path.display()))
}

/// [`load_policy`] for a process that lives for one check (the Samba hook): on Unix the file
/// is mapped and its tries walked in place, so that a reset costs no copy of the policy. (A
/// file truncated in place while mapped would fault the process: a hook lives milliseconds,
/// and a failed hook refuses the change.) Elsewhere it is read.
pub fn map_policy(path: &Path, trust: &Trust) -> Result<policyc_runtime::Validator, String> {
    #[cfg(unix)]
    {
        let file = policyc_runtime::files::open_trusted(path, false).map_err(|e| e.to_string())?;
        let len = file.metadata().map_err(|e| format!("`{}`: {e}", path.display()))?.len();
        if len > MAX_ARTIFACT_BYTES as u64 {
            return Err(format!(
                "`{}` is larger than {MAX_ARTIFACT_BYTES} bytes: it is not a file policyc wrote",
                path.display()
            ));
        }
        let map = policyc_runtime::mapped::map(&file, policyc_runtime::mapped::Reads::Whole)
            .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
        trust.admit(path, &map)?;
        policyc_runtime::Validator::from_map(std::sync::Arc::new(map))
            .map_err(|e| format!("`{}`: {e}", path.display()))
    }
    #[cfg(not(unix))]
    load_policy(path, trust)
}
