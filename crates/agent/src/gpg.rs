//! Samba's replicated cleartext: with `password hash gpg key ids` set on every DC, Samba keeps
//! each new password encrypted to that OpenPGP key in the account's `supplementalCredentials`
//! (package `Primary:SambaGPG`), and AD replication carries it to every DC with `unicodePwd`.
//! The agent holds the secret key and reads the password the directory holds now, wherever it
//! was set (the model of Samba's own `samba-tool user syncpasswords`). OpenPGP is the `pgp`
//! crate (rpgp, pure Rust): no gpg-agent or keyring on the agent's host.

use crate::AgentError;
use pgp::composed::{Deserializable, Message, SignedSecretKey};
use pgp::types::{KeyDetails as _, Password};
use std::path::Path;
use zeroize::Zeroizing;

/// Longest secret key file read.
const MAX_KEY_BYTES: usize = 256 * 1024;

/// Longest encrypted package read (a password is at most 64 KiB of UTF-16).
const MAX_MESSAGE_BYTES: usize = 512 * 1024;

/// The agent's OpenPGP secret key (unprotected, as `gpg --export-secret-keys --armor` writes
/// it for a key made without a passphrase), read from a file only root can read.
pub struct SyncKey {
    key: SignedSecretKey,
    fingerprint: String,
}

impl std::fmt::Debug for SyncKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncKey").field("fingerprint", &self.fingerprint).finish_non_exhaustive()
    }
}

impl SyncKey {
    /// Reads the key at `path` (a private, root-owned regular file).
    pub fn from_file(path: &Path) -> Result<SyncKey, AgentError> {
        let bytes = policyc_gate::files::read_bounded(path, MAX_KEY_BYTES, true)
            .map_err(|e| AgentError::Secret(format!("cannot read the gpg secret key: {e}")))?;
        let (key, _) = SignedSecretKey::from_armor_single(bytes.as_slice())
            .or_else(|_| {
                SignedSecretKey::from_bytes(bytes.as_slice()).map(|k| (k, Default::default()))
            })
            .map_err(|e| {
                AgentError::Secret(format!(
                    "`{}` is not an OpenPGP secret key: {e}",
                    path.display()
                ))
            })?;
        let fingerprint = format!("{:X}", key.fingerprint());
        Ok(SyncKey { key, fingerprint })
    }

    /// The primary key's fingerprint: what `password hash gpg key ids` names on every DC.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// Decrypts a `Primary:SambaGPG` package (armored or binary) into the password (Samba
    /// encrypts the UTF-16LE cleartext). The plaintext is wiped when dropped.
    pub fn decrypt(&self, package: &[u8]) -> Result<Zeroizing<String>, AgentError> {
        if package.len() > MAX_MESSAGE_BYTES {
            return Err(AgentError::Secret(format!(
                "the encrypted password is {} bytes long",
                package.len()
            )));
        }
        let message = match Message::from_armor(package) {
            Ok((m, _)) => m,
            Err(_) => Message::from_bytes(package)
                .map_err(|e| AgentError::Secret(format!("not OpenPGP: {e}")))?,
        };
        let mut plain = message.decrypt(&Password::empty(), &self.key).map_err(|e| {
            AgentError::Secret(format!("cannot decrypt it with key {}: {e}", self.fingerprint))
        })?;
        if plain.is_compressed() {
            plain = plain
                .decompress()
                .map_err(|e| AgentError::Secret(format!("cannot decompress it: {e}")))?;
        }
        let utf16 = Zeroizing::new(
            plain.as_data_vec().map_err(|e| AgentError::Secret(format!("cannot read it: {e}")))?,
        );
        if utf16.len() % 2 != 0 {
            return Err(AgentError::Secret("the decrypted password is not UTF-16".into()));
        }
        let units: Zeroizing<Vec<u16>> = Zeroizing::new(
            utf16.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect(),
        );
        String::from_utf16(&units)
            .map(Zeroizing::new)
            .map_err(|_| AgentError::Secret("the decrypted password is not valid UTF-16".into()))
    }
}
