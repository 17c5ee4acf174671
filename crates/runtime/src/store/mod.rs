//! Breached-password stores: the hashes of passwords known from breaches (Have I Been Pwned's
//! Pwned Passwords, SHA-1 or NTLM, or any password list), as sharded binary fuse filters that
//! are memory-mapped and queried in place, with an optional exact tier that confirms a filter
//! hit before a password is refused.
//!
//! A store is a directory: `manifest` names one file per shard (`shards/IIII-GGGG….shard`).
//! Opening reads and checks the manifest only (well under a millisecond, whatever the store's
//! size); a shard is mapped and its header checked the first time a lookup needs it, and each
//! 4 KiB block of its data is checked against its CRC-32 the first time a lookup touches it.
//! Updates write new shard files and rename a new manifest over the old one, so a reader sees
//! either the old store or the new one, never a mix (see [`StoreHandle`]).

#[cfg(feature = "build")]
pub mod build;
mod error;
mod format;
mod handle;
mod hash;
mod shard;

pub use error::StoreError;
pub use format::{
    MANIFEST_FILE, MAX_SHARD_BITS, SHARDS_DIR, STORE_FORMAT_VERSION, ShardEntry, StoreInfo,
    shard_path,
};
pub use handle::StoreHandle;
pub use hash::{HashMode, StoreKey, nt_hash};

use shard::Shard;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Largest manifest read: 65,536 shard entries and the longest source text.
const MAX_MANIFEST: u64 =
    (format::MANIFEST_HEADER + (1 << MAX_SHARD_BITS) * format::ENTRY_LEN + 65_535) as u64;

/// What a lookup found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// Not in the store.
    Absent,
    /// The filter holds it, and the store has no exact tier: a non-member is reported here with
    /// probability about 2^-fingerprint bits.
    Probable,
    /// The exact tier holds its 64-bit hash prefix too.
    Confirmed,
}

impl Lookup {
    /// Whether the password counts as breached.
    pub fn is_breached(self) -> bool {
        self != Lookup::Absent
    }
}

/// How a process will use a store, which decides how its shards are mapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StoreAccess {
    /// A few lookups per process (the Samba hook, `policyc check`): 4 KiB pages and no
    /// read-ahead, so that a cold lookup reads a handful of pages.
    #[default]
    Sparse,
    /// Many lookups in a long-running process (the agent, a service embedding the validator):
    /// shards are mapped with 2 MiB pages where the kernel can (transparent huge pages on; a file
    /// system with large folios: ext4 from Linux 6.16, XFS, tmpfs), so that a warm lookup rarely
    /// misses the TLB. The first lookup that touches a 2 MiB stretch of a shard reads all of it.
    Resident,
}

/// One generation of a store, opened: its manifest, and its shards as they are first used.
#[derive(Debug)]
pub struct Store {
    path: PathBuf,
    info: StoreInfo,
    entries: Vec<ShardEntry>,
    shards: Vec<OnceLock<Result<Shard, StoreError>>>,
    access: StoreAccess,
}

impl Store {
    /// Opens a store directory: reads and checks its manifest. Shards are opened on first use.
    ///
    /// # Errors
    /// The manifest is missing, unreadable, not a manifest, of another version, or damaged.
    pub fn open(path: impl AsRef<Path>) -> Result<Store, StoreError> {
        Store::open_with(path, StoreAccess::Sparse)
    }

    /// [`Store::open`] for a process that will use the store as `access` says.
    ///
    /// # Errors
    /// As [`Store::open`].
    pub fn open_with(path: impl AsRef<Path>, access: StoreAccess) -> Result<Store, StoreError> {
        let path = path.as_ref();
        trusted_dir(path)?;
        let manifest = path.join(MANIFEST_FILE);
        let bytes = read_bounded(&manifest, MAX_MANIFEST)?;
        let parsed = format::parse_manifest(&bytes, &manifest)?;
        trusted_dir(&path.join(SHARDS_DIR))?;
        let shards = parsed.shards.iter().map(|_| OnceLock::new()).collect();
        Ok(Store {
            path: path.to_path_buf(),
            info: parsed.info,
            entries: parsed.shards,
            shards,
            access,
        })
    }

    /// The store's directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What the manifest says.
    pub fn info(&self) -> &StoreInfo {
        &self.info
    }

    /// The shards, as the manifest names them.
    pub fn entries(&self) -> &[ShardEntry] {
        &self.entries
    }

    /// Looks a password up, hashed the store's way.
    ///
    /// # Errors
    /// The shard it belongs to is missing or damaged.
    pub fn lookup(&self, password: &str) -> Result<Lookup, StoreError> {
        self.lookup_key(self.info.mode.key(password))
    }

    /// Looks a hash prefix up.
    ///
    /// # Errors
    /// As [`Store::lookup`].
    pub fn lookup_key(&self, key: StoreKey) -> Result<Lookup, StoreError> {
        let shard = self.shard(key.shard(self.info.shard_bits))?;
        if !shard.filter_contains(key)? {
            return Ok(Lookup::Absent);
        }
        Ok(match shard.exact_contains(key)? {
            None => Lookup::Probable,
            Some(true) => Lookup::Confirmed,
            Some(false) => Lookup::Absent,
        })
    }

    /// Checks every shard completely: header, length, id, and every block's checksum. Calls
    /// `progress` after each shard.
    ///
    /// # Errors
    /// The first damaged or missing shard.
    pub fn verify(&self, mut progress: impl FnMut(usize)) -> Result<(), StoreError> {
        for i in 0..self.entries.len() {
            self.shard(i)?.check_all()?;
            progress(i);
        }
        Ok(())
    }

    /// Bytes of fingerprints and of the exact tier in all shards (opens every shard).
    ///
    /// # Errors
    /// A missing or damaged shard.
    pub fn sizes(&self) -> Result<(u64, u64), StoreError> {
        let mut total = (0u64, 0u64);
        for i in 0..self.entries.len() {
            let (fp, exact) = self.shard(i)?.sizes();
            total = (total.0 + fp as u64, total.1 + exact as u64);
        }
        Ok(total)
    }

    fn shard(&self, index: usize) -> Result<&Shard, StoreError> {
        let slot = self.shards.get(index).ok_or_else(|| {
            StoreError::damaged(&self.path, &format!("no shard {index} in the manifest"))
        })?;
        slot.get_or_init(|| self.open_shard(index)).as_ref().map_err(Clone::clone)
    }

    fn open_shard(&self, index: usize) -> Result<Shard, StoreError> {
        let entry = self.entries.get(index).copied().unwrap_or(ShardEntry {
            generation: 0,
            keys: 0,
            id: [0; 16],
        });
        let path = shard_path(&self.path, index, entry.generation);
        let file = open_trusted(&path)?;
        let reads = match self.access {
            StoreAccess::Sparse => crate::mapped::Reads::Scattered,
            StoreAccess::Resident => crate::mapped::Reads::ScatteredResident,
        };
        let map = crate::mapped::map(&file, reads).map_err(|e| StoreError::io(&path, &e))?;
        let header = format::parse_shard(&map, &path, &self.info, index, &entry)?;
        Ok(Shard::new(map, header, self.info.fingerprint_bits, self.info.exact, path))
    }
}

/// Reads a small file whole, refusing one larger than `max` bytes.
fn read_bounded(path: &Path, max: u64) -> Result<Vec<u8>, StoreError> {
    use std::io::Read as _;
    let file = open_trusted(path)?;
    let mut bytes = Vec::new();
    file.take(max + 1).read_to_end(&mut bytes).map_err(|e| StoreError::io(path, &e))?;
    if bytes.len() as u64 > max {
        return Err(StoreError::damaged(path, "larger than any manifest"));
    }
    Ok(bytes)
}

/// Opens a store file as root may trust it: a regular file owned by root or this user that
/// nobody else may write, no symlink followed, no FIFO blocked on (a shard others could
/// truncate while it is mapped would fault the process).
#[cfg(any(unix, windows))]
fn open_trusted(path: &Path) -> Result<std::fs::File, StoreError> {
    crate::files::open_trusted(path, false).map_err(StoreError::file)
}

/// Elsewhere (WebAssembly): the platform has no owners to check.
#[cfg(not(any(unix, windows)))]
fn open_trusted(path: &Path) -> Result<std::fs::File, StoreError> {
    std::fs::File::open(path).map_err(|e| StoreError::io(path, &e))
}

/// Checks a store directory: owned by root or this user, writable by nobody else, no link.
#[cfg(any(unix, windows))]
fn trusted_dir(path: &Path) -> Result<(), StoreError> {
    crate::files::trusted_dir(path).map_err(StoreError::file)
}

#[cfg(not(any(unix, windows)))]
fn trusted_dir(_: &Path) -> Result<(), StoreError> {
    Ok(())
}
