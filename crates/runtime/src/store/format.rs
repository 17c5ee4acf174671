//! The on-disk format of a store (see `docs/store-format.md`): a manifest naming one file per
//! shard, and the shard files. All integers little-endian. Nothing is trusted before it is
//! checked: the manifest's SHA-256 at open, a shard's header SHA-256 and length at first use,
//! and each 4 KiB block of a shard's data against its CRC-32 when a lookup first touches it.
//!
//! ```text
//! manifest                                  shard file
//!  0  8  magic "PCSTORE\0"                   0  8  magic "PCSHARD\0"
//!  8  2  format version                      8  2  format version
//! 10  1  hash mode (1 sha1, 2 ntlm)         10  1  hash mode
//! 11  1  fingerprint bits (8, 16)           11  1  fingerprint bits
//! 12  1  shard bits (0..=16)                12  1  shard bits
//! 13  1  flags (bit 0: exact tier)          13  1  flags
//! 14  2  source text length                 14  2  reserved
//! 16  8  generation                         16  4  shard index
//! 24  8  keys in all shards                 20  4  fingerprints
//! 32 32  SHA-256 of bytes 0..32 and 64..    24  8  keys
//! 64  …  per shard: generation u64,         32  8  filter seed
//!        keys u64, id [u8; 16]              40  4  segment length
//!     …  source text (UTF-8)                44  4  segment length mask
//!                                           48  4  segment count × length
//!                                           52  4  reserved
//!                                           56 32  SHA-256 of the shard's sorted keys
//!                                           88 32  SHA-256 of bytes 0..88 and the block table
//!                                          120  …  block table: CRC-32 per 4 KiB data block
//!                                            …     data, 4 KiB aligned: fingerprints, then
//!                                                  (exact tier) the sorted keys, 8 B each
//! ```
//! A shard's id in the manifest is the first 16 bytes of its header SHA-256, so a shard file
//! from another build or generation is refused, not read.

use super::HashMode;
use super::error::StoreError;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

pub(crate) const MANIFEST_MAGIC: [u8; 8] = *b"PCSTORE\0";
pub(crate) const SHARD_MAGIC: [u8; 8] = *b"PCSHARD\0";
/// The store format this build reads and writes.
pub const STORE_FORMAT_VERSION: u16 = 1;
pub(crate) const MANIFEST_HEADER: usize = 64;
pub(crate) const ENTRY_LEN: usize = 32;
pub(crate) const SHARD_HEADER: usize = 120;
/// Data blocks are checked on first touch, one CRC-32 per block.
pub(crate) const BLOCK: usize = 4096;
/// Most shards a store may have (`1 << 16`).
pub const MAX_SHARD_BITS: u8 = 16;
/// The manifest's file name in a store directory.
pub const MANIFEST_FILE: &str = "manifest";
/// The directory of shard files.
pub const SHARDS_DIR: &str = "shards";
const FLAG_EXACT: u8 = 1;

/// What a store holds: the manifest's header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreInfo {
    /// The hash of the passwords it holds.
    pub mode: HashMode,
    /// Bits per fingerprint: the false-positive rate is about 2^-bits.
    pub fingerprint_bits: u8,
    /// `1 << shard_bits` shards, chosen by the leading bits of the hash.
    pub shard_bits: u8,
    /// Whether each shard also holds its sorted 64-bit keys, so that a filter hit is confirmed.
    pub exact: bool,
    /// Bumped by every build or update.
    pub generation: u64,
    /// Distinct keys in all shards.
    pub keys: u64,
    /// What it was built from (files, modes, minimum count), as the build wrote it.
    pub source: String,
}

/// One shard as the manifest names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShardEntry {
    /// The generation in its file name.
    pub generation: u64,
    /// Distinct keys in it.
    pub keys: u64,
    /// The first 16 bytes of its header's SHA-256.
    pub id: [u8; 16],
}

/// A parsed, checked manifest.
#[derive(Debug, Clone)]
pub(crate) struct Manifest {
    pub info: StoreInfo,
    pub shards: Vec<ShardEntry>,
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    let mut a = [0u8; 2];
    a.copy_from_slice(b.get(at..at + 2).unwrap_or(&[0; 2]));
    u16::from_le_bytes(a)
}

pub(crate) fn u32_at(b: &[u8], at: usize) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(b.get(at..at + 4).unwrap_or(&[0; 4]));
    u32::from_le_bytes(a)
}

pub(crate) fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(b.get(at..at + 8).unwrap_or(&[0; 8]));
    u64::from_le_bytes(a)
}

/// The path of a shard file.
pub fn shard_path(store: &Path, index: usize, generation: u64) -> PathBuf {
    store.join(SHARDS_DIR).join(format!("{index:04x}-{generation:016x}.shard"))
}

/// Checks the magic and version shared by both headers.
fn check_start(
    bytes: &[u8],
    magic: &[u8; 8],
    what: &str,
    path: &Path,
) -> Result<(HashMode, u8, u8, bool), StoreError> {
    let n = bytes.len().min(8);
    if bytes.get(..n) != magic.get(..n) || bytes.len() < 16 {
        return Err(StoreError::NotAStore { path: path.to_path_buf(), what: what.into() });
    }
    let version = u16_at(bytes, 8);
    if version != STORE_FORMAT_VERSION {
        return Err(StoreError::UnsupportedVersion {
            path: path.to_path_buf(),
            found: version,
            supported: STORE_FORMAT_VERSION,
        });
    }
    let damaged = |reason: &str| StoreError::damaged(path, reason);
    let mode = HashMode::from_code(bytes[10]).ok_or_else(|| damaged("unknown hash mode"))?;
    let bits = bytes[11];
    if bits != 8 && bits != 16 {
        return Err(damaged("fingerprints are neither 8 nor 16 bits"));
    }
    let shard_bits = bytes[12];
    if shard_bits > MAX_SHARD_BITS {
        return Err(damaged("more than 65,536 shards"));
    }
    Ok((mode, bits, shard_bits, bytes[13] & FLAG_EXACT != 0))
}

/// Parses and checks a manifest.
pub(crate) fn parse_manifest(bytes: &[u8], path: &Path) -> Result<Manifest, StoreError> {
    let (mode, fingerprint_bits, shard_bits, exact) =
        check_start(bytes, &MANIFEST_MAGIC, "manifest", path)?;
    let shards = 1usize << shard_bits;
    let source_len = usize::from(u16_at(bytes, 14));
    let expected = MANIFEST_HEADER + shards * ENTRY_LEN + source_len;
    if bytes.len() != expected {
        return Err(StoreError::damaged(
            path,
            &format!(
                "truncated or overlong: {} bytes, the header announces {expected}",
                bytes.len()
            ),
        ));
    }
    if bytes[32..64] != manifest_digest(bytes)[..] {
        return Err(StoreError::damaged(path, "its SHA-256 does not match its contents"));
    }
    let entries = bytes.get(MANIFEST_HEADER..MANIFEST_HEADER + shards * ENTRY_LEN).unwrap_or(&[]);
    let shards: Vec<ShardEntry> = entries
        .chunks_exact(ENTRY_LEN)
        .map(|e| {
            let mut id = [0u8; 16];
            id.copy_from_slice(&e[16..32]);
            ShardEntry { generation: u64_at(e, 0), keys: u64_at(e, 8), id }
        })
        .collect();
    let source = String::from_utf8_lossy(bytes.get(expected - source_len..).unwrap_or(&[])).into();
    let keys = u64_at(bytes, 24);
    if shards.iter().map(|s| s.keys).fold(0u64, u64::saturating_add) != keys {
        return Err(StoreError::damaged(path, "its shards' key counts do not add up"));
    }
    let info = StoreInfo {
        mode,
        fingerprint_bits,
        shard_bits,
        exact,
        generation: u64_at(bytes, 16),
        keys,
        source,
    };
    Ok(Manifest { info, shards })
}

/// SHA-256 of a manifest's bytes except the digest field.
fn manifest_digest(bytes: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(bytes.get(..32).unwrap_or(&[]));
    h.update(bytes.get(MANIFEST_HEADER..).unwrap_or(&[]));
    h.finalize().into()
}

/// Writes a manifest's bytes.
#[cfg(feature = "build")]
pub(crate) fn encode_manifest(info: &StoreInfo, shards: &[ShardEntry]) -> Vec<u8> {
    let source = info.source.as_bytes();
    let source = source.get(..source.len().min(usize::from(u16::MAX))).unwrap_or(&[]);
    let mut out = Vec::with_capacity(MANIFEST_HEADER + shards.len() * ENTRY_LEN + source.len());
    out.extend_from_slice(&MANIFEST_MAGIC);
    out.extend_from_slice(&STORE_FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&[
        info.mode.code(),
        info.fingerprint_bits,
        info.shard_bits,
        if info.exact { FLAG_EXACT } else { 0 },
    ]);
    out.extend_from_slice(&(source.len() as u16).to_le_bytes());
    out.extend_from_slice(&info.generation.to_le_bytes());
    out.extend_from_slice(&info.keys.to_le_bytes());
    out.extend_from_slice(&[0; 32]);
    for s in shards {
        out.extend_from_slice(&s.generation.to_le_bytes());
        out.extend_from_slice(&s.keys.to_le_bytes());
        out.extend_from_slice(&s.id);
    }
    out.extend_from_slice(source);
    let digest = manifest_digest(&out);
    out[32..64].copy_from_slice(&digest);
    out
}

/// A shard's header, parsed and checked against its manifest entry.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ShardHeader {
    pub fingerprints: usize,
    pub keys: u64,
    pub seed: u64,
    pub segment_length: u32,
    pub segment_length_mask: u32,
    pub segment_count_length: u32,
    /// Where the data starts (4 KiB aligned) and how long it is.
    pub data_start: usize,
    pub data_len: usize,
    /// Where the exact tier starts in the data (8-byte aligned, after the fingerprints).
    pub exact_start: usize,
}

/// Byte layout of a shard with these counts: (block table entries, data start, data length,
/// exact tier start within the data).
pub(crate) fn shard_layout(
    fingerprints: usize,
    fingerprint_bits: u8,
    exact_keys: usize,
) -> (usize, usize, usize, usize) {
    let fp_bytes = fingerprints * usize::from(fingerprint_bits / 8);
    let exact_start = fp_bytes.div_ceil(8) * 8;
    let data_len = exact_start + exact_keys * 8;
    let blocks = data_len.div_ceil(BLOCK);
    let data_start = (SHARD_HEADER + blocks * 4).div_ceil(BLOCK) * BLOCK;
    (blocks, data_start, data_len, exact_start)
}

/// SHA-256 over a shard's header fields and its block table.
pub(crate) fn shard_header_digest(header: &[u8], table: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(header.get(..88).unwrap_or(&[]));
    h.update(table);
    h.finalize().into()
}

/// Parses a shard file's header and block table and checks them against the store and the
/// manifest entry: same mode and widths, the right index, the id, a length that fits exactly,
/// and a filter layout whose every probe stays inside the fingerprints.
pub(crate) fn parse_shard(
    bytes: &[u8],
    path: &Path,
    info: &StoreInfo,
    index: usize,
    entry: &ShardEntry,
) -> Result<ShardHeader, StoreError> {
    let (_, bits, shard_bits, exact) = check_start(bytes, &SHARD_MAGIC, "shard", path)?;
    let damaged = |reason: &str| StoreError::damaged(path, reason);
    if (bytes[10], bits, shard_bits, exact)
        != (info.mode.code(), info.fingerprint_bits, info.shard_bits, info.exact)
        || u32_at(bytes, 16) as usize != index
    {
        return Err(damaged("it belongs to another store or shard"));
    }
    let fingerprints = u32_at(bytes, 20) as usize;
    let keys = u64_at(bytes, 24);
    let exact_keys = if exact { usize::try_from(keys).unwrap_or(usize::MAX) } else { 0 };
    let (blocks, data_start, data_len, exact_start) =
        shard_layout(fingerprints, bits, exact_keys.min(usize::MAX / 16));
    let expected = data_start.checked_add(data_len).ok_or_else(|| damaged("impossible size"))?;
    if bytes.len() != expected {
        return Err(damaged(&format!(
            "truncated or overlong: {} bytes, its header announces {expected}",
            bytes.len()
        )));
    }
    let table = bytes.get(SHARD_HEADER..SHARD_HEADER + blocks * 4).unwrap_or(&[]);
    let digest = shard_header_digest(bytes, table);
    if bytes.get(88..120) != Some(&digest[..]) {
        return Err(damaged("its header's SHA-256 does not match"));
    }
    if digest[..16] != entry.id || keys != entry.keys {
        return Err(damaged("it is not the shard the manifest names (another build?)"));
    }
    let header = ShardHeader {
        fingerprints,
        keys,
        seed: u64_at(bytes, 32),
        segment_length: u32_at(bytes, 40),
        segment_length_mask: u32_at(bytes, 44),
        segment_count_length: u32_at(bytes, 48),
        data_start,
        data_len,
        exact_start,
    };
    if keys > 0 && !layout_in_bounds(&header) {
        return Err(damaged("its filter layout points outside its fingerprints"));
    }
    Ok(header)
}

/// Whether every index a lookup can compute is inside the fingerprint array: the largest is
/// `segment_count_length - 1 + 2 × segment_length` (see `filter::probe`).
fn layout_in_bounds(h: &ShardHeader) -> bool {
    let len = u64::from(h.segment_length);
    len.is_power_of_two()
        && u64::from(h.segment_length_mask) == len - 1
        && h.segment_count_length > 0
        && u64::from(h.segment_count_length) % len == 0
        && u64::from(h.segment_count_length) + 2 * len <= h.fingerprints as u64
}
