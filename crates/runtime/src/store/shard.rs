//! One shard, mapped: a binary fuse filter (3-wise, as xorf builds it) queried in place, and
//! optionally its sorted keys. Each 4 KiB data block is checked against its CRC-32 the first
//! time a lookup touches it, then remembered as checked (a bit per block).

use super::StoreKey;
use super::error::StoreError;
use super::format::{BLOCK, ShardHeader, u32_at};
use memmap2::Mmap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

/// A mapped shard whose header was checked.
#[derive(Debug)]
pub(crate) struct Shard {
    map: Mmap,
    header: ShardHeader,
    fingerprint_bytes: usize,
    exact: bool,
    /// One bit per data block: its CRC-32 matched.
    checked: Vec<AtomicU64>,
    path: PathBuf,
}

/// The filter's hash of a key: MurmurHash3's finalizer over key + seed (xorf's `mix`).
fn mix(key: u64, seed: u64) -> u64 {
    let mut k = key.wrapping_add(seed);
    k ^= k >> 33;
    k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
    k ^= k >> 33;
    k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    k ^ (k >> 33)
}

impl Shard {
    pub(crate) fn new(
        map: Mmap,
        header: ShardHeader,
        bits: u8,
        exact: bool,
        path: PathBuf,
    ) -> Shard {
        let blocks = header.data_len.div_ceil(BLOCK);
        let checked = (0..blocks.div_ceil(64)).map(|_| AtomicU64::new(0)).collect();
        Shard { map, header, fingerprint_bytes: usize::from(bits / 8), exact, checked, path }
    }

    /// The data byte range `at..at + len` (offsets within the data), after checking the blocks
    /// it lies in.
    fn data(&self, at: usize, len: usize) -> Result<&[u8], StoreError> {
        let end = at.checked_add(len).filter(|&e| e <= self.header.data_len);
        let end =
            end.ok_or_else(|| StoreError::damaged(&self.path, "a lookup ran past its data"))?;
        for block in at / BLOCK..end.div_ceil(BLOCK) {
            self.check_block(block)?;
        }
        let start = self.header.data_start + at;
        self.map
            .get(start..start + len)
            .ok_or_else(|| StoreError::damaged(&self.path, "a lookup ran past its data"))
    }

    fn check_block(&self, block: usize) -> Result<(), StoreError> {
        let word = self.checked.get(block / 64);
        let bit = 1u64 << (block % 64);
        if word.is_some_and(|w| w.load(Ordering::Acquire) & bit != 0) {
            return Ok(());
        }
        let start = self.header.data_start + block * BLOCK;
        let end = (start + BLOCK).min(self.header.data_start + self.header.data_len);
        let bytes = self.map.get(start..end).unwrap_or(&[]);
        let expected = u32_at(&self.map, super::format::SHARD_HEADER + block * 4);
        if bytes.is_empty() || crc32fast::hash(bytes) != expected {
            return Err(StoreError::damaged(
                &self.path,
                &format!("data block {block} does not match its checksum"),
            ));
        }
        if let Some(w) = word {
            w.fetch_or(bit, Ordering::Release);
        }
        Ok(())
    }

    /// Whether the filter holds `key` (false positives at about 2^-bits; no false negatives).
    /// The three fingerprints lie in three pages: their blocks are checked (a bit test once
    /// they have been), then the three loads are issued together.
    pub(crate) fn filter_contains(&self, key: StoreKey) -> Result<bool, StoreError> {
        let h = &self.header;
        if h.keys == 0 {
            return Ok(false);
        }
        let hash = mix(key.0, h.seed);
        let h0 = ((u128::from(hash) * u128::from(h.segment_count_length)) >> 64) as u32;
        let h1 = (h0 + h.segment_length) ^ (((hash >> 18) as u32) & h.segment_length_mask);
        let h2 = (h0 + 2 * h.segment_length) ^ ((hash as u32) & h.segment_length_mask);
        let w = self.fingerprint_bytes;
        let at = [h0 as usize * w, h1 as usize * w, h2 as usize * w];
        for a in at {
            if a + w > h.data_len {
                return Err(StoreError::damaged(&self.path, "a lookup ran past its data"));
            }
            self.check_block(a / BLOCK)?;
        }
        let data = self.map.get(h.data_start..h.data_start + h.data_len).unwrap_or(&[]);
        let read = |a: usize| -> u16 {
            match w {
                1 => data.get(a).map_or(0, |&b| u16::from(b)),
                _ => data.get(a..a + 2).map_or(0, |b| u16::from_le_bytes([b[0], b[1]])),
            }
        };
        let mask = if w == 1 { 0xFF } else { 0xFFFF };
        let f = ((hash ^ (hash >> 32)) & mask) as u16;
        Ok(f ^ read(at[0]) ^ read(at[1]) ^ read(at[2]) == 0)
    }

    /// Whether the exact tier holds `key` (a binary search over the sorted keys); `None` when
    /// the shard has no exact tier.
    pub(crate) fn exact_contains(&self, key: StoreKey) -> Result<Option<bool>, StoreError> {
        if !self.exact {
            return Ok(None);
        }
        let base = self.header.exact_start;
        let at = |i: usize| -> Result<u64, StoreError> {
            let b = self.data(base + i * 8, 8)?;
            let mut a = [0u8; 8];
            a.copy_from_slice(b);
            Ok(u64::from_le_bytes(a))
        };
        let (mut lo, mut hi) = (0usize, usize::try_from(self.header.keys).unwrap_or(0));
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match at(mid)?.cmp(&key.0) {
                std::cmp::Ordering::Equal => return Ok(Some(true)),
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
            }
        }
        Ok(Some(false))
    }

    /// Checks every data block (what `policyc store verify` does for each shard).
    pub(crate) fn check_all(&self) -> Result<(), StoreError> {
        (0..self.header.data_len.div_ceil(BLOCK)).try_for_each(|b| self.check_block(b))
    }

    /// Fingerprint bytes and the exact tier's.
    pub(crate) fn sizes(&self) -> (usize, usize) {
        let fp = self.header.fingerprints * self.fingerprint_bytes;
        (fp, self.header.data_len - self.header.exact_start.min(self.header.data_len))
    }
}
