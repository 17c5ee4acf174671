//! Sealing queued passwords: ChaCha20-Poly1305 with a 256-bit key from a file only its owner can
//! read, created on first use. A queued change never holds a cleartext password.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use sha2::{Digest as _, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// Why the key or a sealed value cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// The key file cannot be read or created.
    #[error("queue key `{path}`: {message}")]
    Key {
        /// The key file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The operating system's random source failed.
    #[error("no randomness from the operating system: {0}")]
    Random(String),
    /// A sealed value does not open with this key (wrong key, or tampered with).
    #[error("a queued change does not decrypt with this key (wrong key or damaged record)")]
    Open,
}

/// The queue key.
pub struct QueueKey {
    cipher: ChaCha20Poly1305,
    /// Keys [`QueueKey::digest`], derived from the key (never the key itself).
    digest_key: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for QueueKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("QueueKey(..)")
    }
}

/// Fills a buffer from the operating system's CSPRNG.
pub fn random(buf: &mut [u8]) -> Result<(), CryptoError> {
    getrandom::fill(buf).map_err(|e| CryptoError::Random(e.to_string()))
}

impl QueueKey {
    /// Reads the key, or creates it (mode 0600, 32 random bytes) when the file does not exist.
    /// Creation is atomic: the key appears whole or not at all, and when several hooks start
    /// on a fresh queue at once, all of them end up with the one key that won.
    /// A key file that others can read is refused.
    pub fn load_or_create(path: &Path) -> Result<QueueKey, CryptoError> {
        let err = |message: String| CryptoError::Key { path: path.to_path_buf(), message };
        match QueueKey::load(path) {
            Err(CryptoError::Key { message, .. }) if message == MISSING => {
                let mut key = Zeroizing::new(vec![0u8; 32]);
                random(&mut key)?;
                match create_atomically(path, &key) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                    Err(e) => return Err(err(format!("cannot create it: {e}"))),
                }
                QueueKey::load(path)
            }
            other => other,
        }
    }

    /// Reads an existing key; never creates one.
    pub fn load(path: &Path) -> Result<QueueKey, CryptoError> {
        let err = |message: String| CryptoError::Key { path: path.to_path_buf(), message };
        let bytes = match super::files::read_bounded(path, 64, true) {
            Ok(b) => b,
            Err(super::files::FileError::Io { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                return Err(err(MISSING.into()));
            }
            Err(e) => return Err(err(format!("cannot use it: {e}"))),
        };
        if bytes.len() != 32 {
            return Err(err(format!("it holds {} bytes, a key is 32", bytes.len())));
        }
        let mut digest_key = Zeroizing::new([0u8; 32]);
        digest_key.copy_from_slice(
            &Sha256::new_with_prefix(b"policyc-digest-key\0").chain_update(&*bytes).finalize(),
        );
        Ok(QueueKey { cipher: ChaCha20Poly1305::new(Key::from_slice(&bytes)), digest_key })
    }

    /// A keyed digest of a secret (an NT hash): what the agent keeps to recognise a password
    /// later (the last one delivered for an account) without keeping the secret, and which
    /// nobody without the key can test guesses against.
    pub fn digest(&self, secret: &[u8]) -> String {
        let d = Sha256::new_with_prefix(*self.digest_key).chain_update(secret).finalize();
        d[..16].iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Encrypts `secret`, bound to `context` (the record's identity): returns (nonce, sealed).
    pub fn seal(&self, secret: &[u8], context: &[u8]) -> Result<([u8; 12], Vec<u8>), CryptoError> {
        let mut nonce = [0u8; 12];
        random(&mut nonce)?;
        let sealed = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: secret, aad: context })
            .map_err(|_| CryptoError::Open)?;
        Ok((nonce, sealed))
    }

    /// Decrypts what [`QueueKey::seal`] made with the same `context`.
    pub fn open(
        &self,
        nonce: &[u8],
        sealed: &[u8],
        context: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        if nonce.len() != 12 {
            return Err(CryptoError::Open);
        }
        self.cipher
            .decrypt(Nonce::from_slice(nonce), Payload { msg: sealed, aad: context })
            .map(Zeroizing::new)
            .map_err(|_| CryptoError::Open)
    }
}

/// What [`QueueKey::load`] says of a key file that does not exist.
pub const MISSING: &str = "it does not exist";

/// Writes the key to a private temporary file, syncs it, then links it into place: the link
/// fails if a key is already there (another hook won the race), and nobody ever reads a key
/// that is half written.
fn create_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    super::files::secure_dir(dir)?;
    let mut salt = [0u8; 8];
    random(&mut salt).map_err(std::io::Error::other)?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(
        ".{name}.{}.{}",
        std::process::id(),
        salt.iter().map(|b| format!("{b:02x}")).collect::<String>()
    ));
    let written =
        super::files::create_new(&tmp, 0o600).map_err(std::io::Error::from).and_then(|mut f| {
            f.write_all(bytes)?;
            f.sync_all()
        });
    let linked = written.and_then(|()| std::fs::hard_link(&tmp, path));
    let _ = std::fs::remove_file(&tmp);
    linked?;
    super::files::sync_dir(dir)
}
