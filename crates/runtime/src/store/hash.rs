//! How a password becomes a store key: the hash Have I Been Pwned publishes for it.

use sha1::Digest as _;
use zeroize::Zeroizing;

/// The hash a store holds: HIBP publishes both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HashMode {
    /// SHA-1 of the password's UTF-8 bytes (HIBP's default download).
    Sha1,
    /// The NT hash: MD4 of the password's UTF-16LE encoding (HIBP's `?mode=ntlm`, and what Active
    /// Directory stores in `unicodePwd`).
    Ntlm,
}

impl HashMode {
    /// Its code in store headers.
    pub(crate) fn code(self) -> u8 {
        match self {
            HashMode::Sha1 => 1,
            HashMode::Ntlm => 2,
        }
    }

    pub(crate) fn from_code(code: u8) -> Option<HashMode> {
        match code {
            1 => Some(HashMode::Sha1),
            2 => Some(HashMode::Ntlm),
            _ => None,
        }
    }

    /// Its name, as `store info` and errors say it.
    pub fn name(self) -> &'static str {
        match self {
            HashMode::Sha1 => "sha1",
            HashMode::Ntlm => "ntlm",
        }
    }

    /// Hex digits of a full hash in this mode (40 for SHA-1, 32 for NTLM).
    pub fn hex_len(self) -> usize {
        match self {
            HashMode::Sha1 => 40,
            HashMode::Ntlm => 32,
        }
    }

    /// The store key of a password: the first 8 bytes of its hash, big-endian (the order HIBP
    /// writes hashes in hex). Everything derived from the password is wiped after use.
    pub fn key(self, password: &str) -> StoreKey {
        match self {
            HashMode::Sha1 => {
                let digest = Zeroizing::new(<[u8; 20]>::from(sha1::Sha1::digest(password)));
                StoreKey::from_hash(&digest[..])
            }
            HashMode::Ntlm => StoreKey::from_hash(&nt_hash(password)[..]),
        }
    }
}

/// The first 64 bits of a password hash: what a shard's filter and exact tier hold. HIBP's
/// hashes are uniform, so the top bits choose the shard and the filter sees a uniform key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StoreKey(pub u64);

impl StoreKey {
    /// The key of a hash given as bytes (at least 8).
    pub fn from_hash(hash: &[u8]) -> StoreKey {
        let mut b = [0u8; 8];
        for (d, s) in b.iter_mut().zip(hash) {
            *d = *s;
        }
        StoreKey(u64::from_be_bytes(b))
    }

    /// The shard holding this key in a store of `1 << bits` shards.
    pub fn shard(self, bits: u8) -> usize {
        match bits {
            0 => 0,
            b => (self.0 >> (64 - u32::from(b))) as usize,
        }
    }
}

/// The NT hash of a password: MD4 of its UTF-16LE encoding, as AD stores it in `unicodePwd`.
/// It is as good as the password for NTLM, so it is wiped too.
pub fn nt_hash(password: &str) -> Zeroizing<[u8; 16]> {
    let utf16: Zeroizing<Vec<u8>> =
        Zeroizing::new(password.encode_utf16().flat_map(u16::to_le_bytes).collect());
    Zeroizing::new(md4::Md4::digest(utf16.as_slice()).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_the_leading_bytes_of_the_published_hashes() {
        // "password": SHA-1 5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD8, NTLM
        // 8846F7EAEE8FB117AD06BDD830B7586C (the hashes HIBP lists for it).
        assert_eq!(HashMode::Sha1.key("password"), StoreKey(0x5BAA61E4C9B93F3F));
        assert_eq!(HashMode::Ntlm.key("password"), StoreKey(0x8846F7EAEE8FB117));
        assert_eq!(StoreKey(0x8846F7EAEE8FB117).shard(12), 0x884);
        assert_eq!(StoreKey(u64::MAX).shard(0), 0);
    }
}
