//! Signed artifacts. An artifact's checksum catches damage, not a replacement: anyone who can
//! write the file can put a permissive policy there. With a public key configured, the hook and
//! the agent use an artifact only if `ARTIFACT.sig` holds an Ed25519 signature of its exact
//! bytes by the matching secret key (`policyc keygen`, `policyc compile --sign KEY`).
//!
//! Files (text, one line): secret key `policyc-secret-key-1 HEX32`, public key
//! `policyc-public-key-1 HEX32`, signature `policyc-signature-1 KEYID HEX64`, where KEYID is
//! the first 8 bytes of the public key's SHA-256, so that a mismatch names both keys.

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

const SECRET_TAG: &str = "policyc-secret-key-1";
const PUBLIC_TAG: &str = "policyc-public-key-1";
const SIGNATURE_TAG: &str = "policyc-signature-1";

/// A public key the hook and the agent trust.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey(VerifyingKey);

/// Where an artifact's signature is: `ARTIFACT.sig`.
pub fn signature_path(artifact: &Path) -> PathBuf {
    let mut name = artifact.as_os_str().to_os_string();
    name.push(".sig");
    PathBuf::from(name)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex<const N: usize>(text: &str) -> Option<[u8; N]> {
    let mut out = [0u8; N];
    if text.len() != 2 * N {
        return None;
    }
    for (i, slot) in out.iter_mut().enumerate() {
        *slot = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// `TAG FIELD...` on one line.
fn fields<'t>(text: &'t str, tag: &str, n: usize) -> Option<Vec<&'t str>> {
    let mut parts = text.split_whitespace();
    (parts.next()? == tag).then_some(())?;
    let rest: Vec<&str> = parts.collect();
    (rest.len() == n).then_some(rest)
}

impl PublicKey {
    /// The key's id: the first 8 bytes of its SHA-256, in hex.
    pub fn id(&self) -> String {
        hex(&Sha256::digest(self.0.as_bytes())[..8])
    }

    /// Reads a public-key file.
    pub fn from_file(path: &Path) -> Result<PublicKey, String> {
        let bytes = super::files::read_bounded(path, 4096, false).map_err(|e| e.to_string())?;
        let text = String::from_utf8_lossy(&bytes);
        fields(&text, PUBLIC_TAG, 1)
            .and_then(|f| unhex::<32>(f[0]))
            .and_then(|b| VerifyingKey::from_bytes(&b).ok())
            .map(PublicKey)
            .ok_or_else(|| {
                format!(
                    "`{}` is not a policyc public key (`policyc keygen` writes one)",
                    path.display()
                )
            })
    }

    /// Checks `artifact`'s bytes against its signature file.
    pub fn verify(&self, artifact: &Path, bytes: &[u8]) -> Result<(), String> {
        let sig_path = signature_path(artifact);
        let text = match super::files::read_bounded(&sig_path, 4096, false) {
            Ok(t) => t,
            Err(super::files::FileError::Io { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                return Err(format!(
                    "`{}` is not signed (no `{}`), and a policy public key is configured: compile it with `policyc compile --sign KEY`",
                    artifact.display(),
                    sig_path.display()
                ));
            }
            Err(e) => return Err(e.to_string()),
        };
        let text = String::from_utf8_lossy(&text);
        let Some(f) = fields(&text, SIGNATURE_TAG, 2) else {
            return Err(format!("`{}` is not a policyc signature", sig_path.display()));
        };
        if f[0] != self.id() {
            return Err(format!(
                "`{}` is signed by key {}, not by the configured key {}",
                artifact.display(),
                f[0],
                self.id()
            ));
        }
        let signature = unhex::<64>(f[1]).map(|b| Signature::from_bytes(&b));
        match signature {
            Some(s) if self.0.verify(bytes, &s).is_ok() => Ok(()),
            _ => Err(format!(
                "the signature `{}` does not match `{}`: the artifact was changed after it was signed",
                sig_path.display(),
                artifact.display()
            )),
        }
    }
}

/// Makes a key pair: the secret key at `secret` (mode 0600, never over an existing file) and
/// the public key at `secret.pub`.
pub fn keygen(secret: &Path) -> Result<PublicKey, String> {
    let mut seed = Zeroizing::new([0u8; 32]);
    super::crypto::random(seed.as_mut()).map_err(|e| e.to_string())?;
    let key = SigningKey::from_bytes(&seed);
    let public = PublicKey(key.verifying_key());
    let line = Zeroizing::new(format!("{SECRET_TAG} {}\n", hex(seed.as_ref())));
    write_new(secret, line.as_bytes(), 0o600)?;
    let mut pub_path = secret.as_os_str().to_os_string();
    pub_path.push(".pub");
    write_new(
        Path::new(&pub_path),
        format!("{PUBLIC_TAG} {}\n", hex(public.0.as_bytes())).as_bytes(),
        0o644,
    )?;
    Ok(public)
}

fn write_new(path: &Path, bytes: &[u8], mode: u32) -> Result<(), String> {
    use std::io::Write;
    let mut f = super::files::create_new(path, mode).map_err(|e| e.to_string())?;
    f.write_all(bytes).and_then(|()| f.sync_all()).map_err(|e| format!("`{}`: {e}", path.display()))
}

/// Signs an artifact's bytes with the secret key in `secret`, writing `artifact.sig`.
pub fn sign(secret: &Path, artifact: &Path, bytes: &[u8]) -> Result<String, String> {
    let text = super::files::read_bounded(secret, 4096, true).map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&text);
    let seed = fields(&text, SECRET_TAG, 1)
        .and_then(|f| unhex::<32>(f[0]))
        .map(Zeroizing::new)
        .ok_or_else(|| format!("`{}` is not a policyc secret key", secret.display()))?;
    let key = SigningKey::from_bytes(&seed);
    let public = PublicKey(key.verifying_key());
    let signature = key.sign(bytes);
    let sig_path = signature_path(artifact);
    let line = format!("{SIGNATURE_TAG} {} {}\n", public.id(), hex(&signature.to_bytes()));
    std::fs::write(&sig_path, line)
        .map_err(|e| format!("cannot write `{}`: {e}", sig_path.display()))?;
    Ok(public.id())
}
