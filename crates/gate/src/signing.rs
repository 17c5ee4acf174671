//! Signed artifacts. An artifact's checksum catches damage, not a replacement: anyone who can
//! write the file can put a permissive policy there. With a public key configured, the hook, the
//! agent and the Windows filter use an artifact only if `ARTIFACT.sig` holds an Ed25519
//! signature by the matching secret key (`policyc keygen`, `policyc compile --sign KEY`,
//! `policyc sign`) of its exact bytes together with what the signer says of them: the policy's
//! name, a serial that only grows, and the signing time. A verifier that keeps state keeps the
//! highest serial it used per policy name ([`SERIALS_FILE`], next to the queue) and refuses an
//! older one: an earlier signed artifact copied back with its `.sig` (a replay, a downgrade to a
//! weaker policy) is refused loudly; a configured minimum serial covers a fresh install.
//!
//! Files (text, one line): secret key `policyc-secret-key-1 HEX32`, public key
//! `policyc-public-key-1 HEX32`, signature `policyc-signature-2 KEYID NAME SERIAL TIME HEX64`,
//! where KEYID is the first 8 bytes of the public key's SHA-256 (so that a mismatch names both
//! keys), TIME is seconds since the Unix epoch, and the signed message is
//! `policyc-signature-2\nNAME\nSERIAL\nTIME\nSHA256(ARTIFACT) in hex`. A `policyc-signature-1`
//! file (the artifact's bytes only, before serials) is refused with the command that re-signs.

use super::files::FileError;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// Why a key, a signature or a serial is refused, each with what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SigningError {
    /// A key, signature or state file cannot be used (read, created, trusted).
    #[error(transparent)]
    File(#[from] FileError),
    /// Not a policyc public key.
    #[error("`{}` is not a policyc public key (`policyc keygen` writes one)", .0.display())]
    NotAPublicKey(PathBuf),
    /// Not a policyc secret key.
    #[error("`{}` is not a policyc secret key", .0.display())]
    NotASecretKey(PathBuf),
    /// Not a policyc signature.
    #[error("`{}` is not a policyc signature", .0.display())]
    NotASignature(PathBuf),
    /// A signature of the first format, which names no policy and no serial.
    #[error("`{}` is a signature of the first format (`{OLD_SIGNATURE_TAG}`: the artifact's bytes only, no policy name or serial, so an older policy could be put back); sign the artifact again: `policyc sign ARTIFACT --key SECRET_KEY` (or `policyc compile POLICY -o ARTIFACT --sign SECRET_KEY`)", .0.display())]
    OldFormat(PathBuf),
    /// A key is configured and the artifact has no signature.
    #[error("`{}` is not signed (no `{}`), and a policy public key is configured: compile it with `policyc compile --sign KEY`", .artifact.display(), .signature.display())]
    Unsigned {
        /// The artifact.
        artifact: PathBuf,
        /// Where its signature should be.
        signature: PathBuf,
    },
    /// Signed by another key than the configured one.
    #[error("`{}` is signed by key {found}, not by the configured key {expected}", .artifact.display())]
    OtherKey {
        /// The artifact.
        artifact: PathBuf,
        /// The signing key's id.
        found: String,
        /// The configured key's id.
        expected: String,
    },
    /// The signature does not match the artifact (or what it says of it).
    #[error("the signature `{}` does not match `{}`: the artifact (or its name, serial or time in the signature) was changed after it was signed", .signature.display(), .artifact.display())]
    Mismatch {
        /// The signature file.
        signature: PathBuf,
        /// The artifact.
        artifact: PathBuf,
    },
    /// A policy name a signature line cannot hold.
    #[error("the policy name `{0}` cannot be signed")]
    UnsignableName(String),
    /// A serial given to `sign` that does not grow.
    #[error("serial {serial} is not above {previous}, the serial of the signature `{}` already signs: a verifier that used {previous} would refuse it", .signature.display())]
    SerialNotAbove {
        /// The serial asked for.
        serial: u64,
        /// The serial already signed.
        previous: u64,
        /// The signature file.
        signature: PathBuf,
    },
    /// A signed policy older than the configured minimum.
    #[error("`{}` (policy `{name}`) is signed with serial {serial}, below the configured minimum {minimum} (policy_min_serial): an older policy is refused; deploy the current signed policy", .artifact.display())]
    BelowMinimum {
        /// The artifact.
        artifact: PathBuf,
        /// Its policy.
        name: String,
        /// Its serial.
        serial: u64,
        /// `policy_min_serial`.
        minimum: u64,
    },
    /// A signed policy older than one this verifier already used: a replay or a downgrade.
    #[error("`{}` (policy `{name}`) is signed with serial {serial}, older than serial {highest}, which this server already used: a replayed or downgraded policy is refused; deploy the current signed policy (to go back on purpose, sign the older artifact again: `policyc sign ARTIFACT --key SECRET_KEY`)", .artifact.display())]
    Older {
        /// The artifact.
        artifact: PathBuf,
        /// Its policy.
        name: String,
        /// Its serial.
        serial: u64,
        /// The highest serial used.
        highest: u64,
    },
    /// A key or the serials file cannot be written or read.
    #[error("`{}`: {source}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The serials file is not what this verifier writes.
    #[error("`{}`: {message}", .path.display())]
    State {
        /// The serials file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// No randomness for a new key.
    #[error("cannot make a key: {0}")]
    Random(String),
    /// The signature cannot be written.
    #[error("cannot write the signature: {0}")]
    CannotWrite(FileError),
}

const SECRET_TAG: &str = "policyc-secret-key-1";
const PUBLIC_TAG: &str = "policyc-public-key-1";
const SIGNATURE_TAG: &str = "policyc-signature-2";
const OLD_SIGNATURE_TAG: &str = "policyc-signature-1";

/// What a signature says of the artifact it signs, signed with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    /// The policy's name.
    pub name: String,
    /// Grows with every signing of the policy: a verifier refuses one older than it used.
    pub serial: u64,
    /// When it was signed, in seconds since the Unix epoch.
    pub time: u64,
}

/// A signature file, parsed (not yet verified).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureFile {
    /// The signing key's id.
    pub key_id: String,
    /// What it says of the artifact.
    pub signed: Signed,
    signature: [u8; 64],
}

/// The largest signature file read.
const MAX_SIGNATURE_BYTES: usize = 4096;

/// Whether a policy name can stand in a signature line (the language's names can).
fn plain_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 256
        && name.chars().all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// Parses a signature file's text. `path` names it in errors.
///
/// # Errors
/// Not a policyc signature, or one of the first version (no serial), with what to do.
pub fn parse_signature(text: &str, path: &Path) -> Result<SignatureFile, SigningError> {
    if text.split_whitespace().next() == Some(OLD_SIGNATURE_TAG) {
        return Err(SigningError::OldFormat(path.to_path_buf()));
    }
    let bad = || SigningError::NotASignature(path.to_path_buf());
    let f = fields(text, SIGNATURE_TAG, 5).ok_or_else(bad)?;
    let number = |s: &str| s.parse::<u64>().ok().filter(|_| s.bytes().all(|b| b.is_ascii_digit()));
    let (Some(serial), Some(time), Some(signature)) =
        (number(f[2]), number(f[3]), unhex::<64>(f[4]))
    else {
        return Err(bad());
    };
    if !plain_name(f[1]) || unhex::<8>(f[0]).is_none() {
        return Err(bad());
    }
    Ok(SignatureFile {
        key_id: f[0].to_string(),
        signed: Signed { name: f[1].to_string(), serial, time },
        signature,
    })
}

/// The message a signature covers: what the signer says, and the artifact's digest.
fn message(signed: &Signed, bytes: &[u8]) -> Vec<u8> {
    format!(
        "{SIGNATURE_TAG}\n{}\n{}\n{}\n{}",
        signed.name,
        signed.serial,
        signed.time,
        hex(&Sha256::digest(bytes))
    )
    .into_bytes()
}

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
    pub fn from_file(path: &Path) -> Result<PublicKey, SigningError> {
        let bytes = super::files::read_bounded(path, 4096, false)?;
        let text = String::from_utf8_lossy(&bytes);
        fields(&text, PUBLIC_TAG, 1)
            .and_then(|f| unhex::<32>(f[0]))
            .and_then(|b| VerifyingKey::from_bytes(&b).ok())
            .map(PublicKey)
            .ok_or_else(|| SigningError::NotAPublicKey(path.to_path_buf()))
    }

    /// Checks `artifact`'s bytes against its signature file; returns what the signature says
    /// of them.
    pub fn verify(&self, artifact: &Path, bytes: &[u8]) -> Result<Signed, SigningError> {
        let sig_path = signature_path(artifact);
        let text = match super::files::read_bounded(&sig_path, MAX_SIGNATURE_BYTES, false) {
            Ok(t) => t,
            Err(super::files::FileError::Io { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                return Err(SigningError::Unsigned {
                    artifact: artifact.to_path_buf(),
                    signature: sig_path,
                });
            }
            Err(e) => return Err(e.into()),
        };
        self.verify_text(&String::from_utf8_lossy(&text), &sig_path, artifact, bytes)
    }

    /// Checks `bytes` against a signature file's text (read from `sig_path`, for messages).
    pub fn verify_text(
        &self,
        text: &str,
        sig_path: &Path,
        artifact: &Path,
        bytes: &[u8],
    ) -> Result<Signed, SigningError> {
        let file = parse_signature(text, sig_path)?;
        if file.key_id != self.id() {
            return Err(SigningError::OtherKey {
                artifact: artifact.to_path_buf(),
                found: file.key_id,
                expected: self.id(),
            });
        }
        let signature = Signature::from_bytes(&file.signature);
        match self.0.verify(&message(&file.signed, bytes), &signature) {
            Ok(()) => Ok(file.signed),
            Err(_) => Err(SigningError::Mismatch {
                signature: sig_path.to_path_buf(),
                artifact: artifact.to_path_buf(),
            }),
        }
    }
}

/// Makes a key pair: the secret key at `secret` (mode 0600, never over an existing file) and
/// the public key at `secret.pub`.
pub fn keygen(secret: &Path) -> Result<PublicKey, SigningError> {
    let mut seed = Zeroizing::new([0u8; 32]);
    super::crypto::random(seed.as_mut()).map_err(|e| SigningError::Random(e.to_string()))?;
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

fn write_new(path: &Path, bytes: &[u8], mode: u32) -> Result<(), SigningError> {
    use std::io::Write;
    let mut f = super::files::create_new(path, mode)?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(|source| SigningError::Io { path: path.to_path_buf(), source })
}

/// Signs an artifact's bytes, with the policy's `name` and a serial, writing `artifact.sig`
/// (a new file renamed into place). The serial is `serial` if given, else the signing time in
/// seconds; either way above the serial of a signature of the same policy already there, so
/// that it only grows.
pub fn sign(
    secret: &Path,
    artifact: &Path,
    bytes: &[u8],
    name: &str,
    serial: Option<u64>,
) -> Result<(String, Signed), SigningError> {
    if !plain_name(name) {
        return Err(SigningError::UnsignableName(name.to_string()));
    }
    let text = super::files::read_bounded(secret, 4096, true)?;
    let text = String::from_utf8_lossy(&text);
    let seed = fields(&text, SECRET_TAG, 1)
        .and_then(|f| unhex::<32>(f[0]))
        .map(Zeroizing::new)
        .ok_or_else(|| SigningError::NotASecretKey(secret.to_path_buf()))?;
    let key = SigningKey::from_bytes(&seed);
    let public = PublicKey(key.verifying_key());
    let sig_path = signature_path(artifact);
    let time = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let previous = std::fs::read_to_string(&sig_path)
        .ok()
        .and_then(|t| parse_signature(&t, &sig_path).ok())
        .filter(|f| f.signed.name == name)
        .map(|f| f.signed.serial);
    let serial = match (serial, previous) {
        (Some(s), Some(p)) if s <= p => {
            return Err(SigningError::SerialNotAbove {
                serial: s,
                previous: p,
                signature: sig_path,
            });
        }
        (Some(s), _) => s,
        (None, p) => p.map_or(time, |p| time.max(p + 1)),
    };
    let signed = Signed { name: name.to_string(), serial, time };
    let signature = key.sign(&message(&signed, bytes));
    let line = format!(
        "{SIGNATURE_TAG} {} {} {} {} {}\n",
        public.id(),
        signed.name,
        signed.serial,
        signed.time,
        hex(&signature.to_bytes())
    );
    super::files::replace(&sig_path, line.as_bytes(), 0o644).map_err(SigningError::CannotWrite)?;
    Ok((public.id(), signed))
}

/// Where a verifier keeps the highest serial it used per policy name (next to its queue).
pub const SERIALS_FILE: &str = "policy-serials";

/// The largest serials file read.
const MAX_SERIALS_BYTES: usize = 1 << 16;

/// Admits a signed policy by its serial: not below `min_serial` (a fresh install's floor), and,
/// where the verifier keeps state (`state`: the directory of [`SERIALS_FILE`]), not below the
/// highest serial used for the policy's name, which it then records (with `record`).
///
/// # Errors
/// An older policy (a replay or a downgrade), or state that cannot be read or written, with
/// what to do.
pub fn admit(
    artifact: &Path,
    signed: &Signed,
    min_serial: u64,
    state: Option<&Path>,
    record: bool,
) -> Result<(), SigningError> {
    if signed.serial < min_serial {
        return Err(SigningError::BelowMinimum {
            artifact: artifact.to_path_buf(),
            name: signed.name.clone(),
            serial: signed.serial,
            minimum: min_serial,
        });
    }
    let Some(dir) = state else { return Ok(()) };
    let path = dir.join(SERIALS_FILE);
    if !record {
        // A reader (`agent status`): compares without taking the lock or writing.
        let text = match super::files::read_bounded(&path, MAX_SERIALS_BYTES, true) {
            Ok(t) => String::from_utf8_lossy(&t).into_owned(),
            Err(super::files::FileError::Io { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                String::new()
            }
            Err(e) => return Err(e.into()),
        };
        let serials: std::collections::BTreeMap<String, u64> = match text.trim() {
            "" => Default::default(),
            t => serde_json::from_str(t)
                .map_err(|e| SigningError::State { path: path.clone(), message: e.to_string() })?,
        };
        let highest = serials.get(&signed.name).copied().unwrap_or(0);
        return match signed.serial < highest {
            true => Err(older(artifact, signed, highest)),
            false => Ok(()),
        };
    }
    super::files::secure_dir(dir)?;
    let file = super::files::open_private(&path, 0o600)?;
    let said = |source: std::io::Error| SigningError::Io { path: path.clone(), source };
    super::files::update_locked(&file, MAX_SERIALS_BYTES, |text| {
        let mut serials: std::collections::BTreeMap<String, u64> = if text.trim().is_empty() {
            Default::default()
        } else {
            serde_json::from_str(text).map_err(std::io::Error::other)?
        };
        let highest = serials.get(&signed.name).copied().unwrap_or(0);
        if signed.serial < highest {
            return Ok((Err(older(artifact, signed, highest)), None));
        }
        if !record || signed.serial == highest {
            return Ok((Ok(()), None));
        }
        serials.insert(signed.name.clone(), signed.serial);
        Ok((Ok(()), Some(serde_json::to_vec(&serials).map_err(std::io::Error::other)?)))
    })
    .map_err(said)?
}

fn older(artifact: &Path, signed: &Signed, highest: u64) -> SigningError {
    SigningError::Older {
        artifact: artifact.to_path_buf(),
        name: signed.name.clone(),
        serial: signed.serial,
        highest,
    }
}
