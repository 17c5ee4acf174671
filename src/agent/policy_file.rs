//! The deployed policy, as a hook or the agent loads it: a file root may trust (see
//! [`crate::files`]), signed when a public key is configured.

use std::path::Path;

/// The largest artifact loaded (a 100,000-term policy is about 9 MB).
pub const MAX_ARTIFACT_BYTES: usize = 256 << 20;

/// Loads a compiled policy that root may trust: a regular file of root's (or this user's)
/// that nobody else may write, read without following a link, and, when a public key is
/// configured, signed by it. The bytes are read: a long-running process (the agent, the Windows
/// filter) keeps its policy however the file is replaced, even by a `cp` over it; its
/// breached-password stores are mapped for many lookups ([`StoreAccess::Resident`]).
///
/// [`StoreAccess::Resident`]: crate::store::StoreAccess::Resident
pub fn load_policy(
    path: &Path,
    key: Option<&super::signing::PublicKey>,
) -> Result<crate::Validator, String> {
    let bytes =
        crate::files::read_bounded(path, MAX_ARTIFACT_BYTES, false).map_err(|e| e.to_string())?;
    if let Some(key) = key {
        key.verify(path, &bytes)?;
    }
    crate::Validator::from_bytes(&bytes)
        .map(|v| v.with_store_access(crate::store::StoreAccess::Resident))
        .map_err(|e| format!("`{}`: {e}", path.display()))
}

/// [`load_policy`] for a process that lives for one check (the Samba hook): on Unix the file
/// is mapped and its tries walked in place, so that a reset costs no copy of the policy. (A
/// file truncated in place while mapped would fault the process: a hook lives milliseconds,
/// and a failed hook refuses the change.) Elsewhere it is read.
pub fn map_policy(
    path: &Path,
    key: Option<&super::signing::PublicKey>,
) -> Result<crate::Validator, String> {
    #[cfg(unix)]
    {
        let file = crate::files::open_trusted(path, false).map_err(|e| e.to_string())?;
        let len = file.metadata().map_err(|e| format!("`{}`: {e}", path.display()))?.len();
        if len > MAX_ARTIFACT_BYTES as u64 {
            return Err(format!(
                "`{}` is larger than {MAX_ARTIFACT_BYTES} bytes: it is not a file policyc wrote",
                path.display()
            ));
        }
        let map = crate::mapped::map(&file, crate::mapped::Reads::Whole)
            .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
        if let Some(key) = key {
            key.verify(path, &map)?;
        }
        crate::Validator::from_map(std::sync::Arc::new(map))
            .map_err(|e| format!("`{}`: {e}", path.display()))
    }
    #[cfg(not(unix))]
    load_policy(path, key)
}
