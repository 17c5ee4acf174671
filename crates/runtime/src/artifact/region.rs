//! The artifact's checked-on-touch region: the words of every term set's trie and terms, each
//! 4 KiB block checked against its CRC-32 the first time a check reads it (then a bit says it
//! was), and the first damage found remembered. A short-lived process (the Samba hook) pays
//! only for the blocks its one check reads, whatever the size of the lists; a loader that
//! wants every error at once calls [`Region::check_all`] (the validator does, except when it
//! maps a file for one check).
//!
//! Damage is never trusted and never silent: a read of a bad block, or a structure that breaks
//! an invariant (see `terms`), answers "nothing here" and records why; the validator turns a
//! rule evaluated over a damaged region into a rule that could not be evaluated (fail closed).

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Bytes per checked block (the artifact's trie blocks).
pub(crate) const BLOCK: usize = super::BLOCK;
const WORDS_PER_BLOCK: usize = BLOCK / 4;

/// Where the words are.
enum Storage {
    Owned(Vec<u32>),
    Mapped(std::sync::Arc<memmap2::Mmap>, std::ops::Range<usize>),
}

/// The words, their block checksums, which blocks were checked, and the first damage found.
pub(crate) struct Region {
    storage: Storage,
    /// Per block, its CRC-32 (the artifact's table, covered by the header's SHA-256).
    crcs: Vec<u32>,
    /// One bit per block: its CRC-32 matched (or the words were built here, not read).
    checked: Box<[AtomicU64]>,
    /// Every block was checked (or built here): reads skip the per-block test.
    all_checked: AtomicBool,
    damage: OnceLock<String>,
}

impl std::fmt::Debug for Region {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Region")
            .field("words", &self.words().len())
            .field("damage", &self.damage.get())
            .finish_non_exhaustive()
    }
}

impl Region {
    /// Words read from an artifact, checked when first touched against `crcs`.
    pub(crate) fn owned(words: Vec<u32>, crcs: Vec<u32>) -> Region {
        Region::new(Storage::Owned(words), crcs, false)
    }

    /// Words in a mapped artifact (`range`: their bytes, 4-byte aligned), checked when first
    /// touched against `crcs`.
    pub(crate) fn mapped(
        map: std::sync::Arc<memmap2::Mmap>,
        range: std::ops::Range<usize>,
        crcs: Vec<u32>,
    ) -> Region {
        Region::new(Storage::Mapped(map, range), crcs, false)
    }

    /// Words built in this process (by the compiler or an analysis): nothing to check.
    #[cfg(feature = "build")]
    pub(crate) fn trusted(words: Vec<u32>) -> Region {
        Region::new(Storage::Owned(words), Vec::new(), true)
    }

    fn new(storage: Storage, crcs: Vec<u32>, trusted: bool) -> Region {
        let blocks = match &storage {
            Storage::Owned(w) => w.len(),
            Storage::Mapped(_, r) => r.len() / 4,
        }
        .div_ceil(WORDS_PER_BLOCK);
        let fill = if trusted { u64::MAX } else { 0 };
        let checked = (0..blocks.div_ceil(64)).map(|_| AtomicU64::new(fill)).collect();
        let all_checked = AtomicBool::new(trusted);
        Region { storage, crcs, checked, all_checked, damage: OnceLock::new() }
    }

    /// All the words (unchecked: for [`Region::check_all`] and the structure checks after it).
    pub(crate) fn words(&self) -> &[u32] {
        match &self.storage {
            Storage::Owned(w) => w,
            Storage::Mapped(map, range) => {
                bytemuck::try_cast_slice(map.get(range.clone()).unwrap_or(&[])).unwrap_or(&[])
            }
        }
    }

    /// Heap bytes held (a mapped region holds none).
    pub(crate) fn heap_bytes(&self) -> usize {
        match &self.storage {
            Storage::Owned(w) => w.capacity() * 4,
            Storage::Mapped(..) => 0,
        }
    }

    /// The view that reads the region: checking blocks as it reads them (`LAZY`), or not,
    /// which only a region checked whole may be read with (see [`Region::fully_checked`]).
    pub(crate) fn checked<const LAZY: bool>(&self) -> Checked<'_, LAZY> {
        Checked { region: self }
    }

    /// Whether every block was checked (or built here): reads need not check them.
    pub(crate) fn fully_checked(&self) -> bool {
        self.all_checked.load(Ordering::Acquire)
    }

    /// Checks every block now. Records and returns the first damage.
    pub(crate) fn check_all(&self) -> Result<(), String> {
        let view = self.checked::<true>();
        let blocks = self.words().len().div_ceil(WORDS_PER_BLOCK);
        // A block that fails records why (`check_block`) and stops the pass.
        let _ = (0..blocks).all(|block| view.touch(block));
        match self.damage() {
            Some(d) => Err(d.to_string()),
            None => {
                self.all_checked.store(true, Ordering::Release);
                Ok(())
            }
        }
    }

    /// The first damage found, if any.
    pub(crate) fn damage(&self) -> Option<&str> {
        self.damage.get().map(String::as_str)
    }

    /// Records damage (the first reason is kept).
    pub(crate) fn damaged(&self, why: impl FnOnce() -> String) {
        let _ = self.damage.get_or_init(why);
    }

    #[cold]
    #[inline(never)]
    fn check_block(&self, words: &[u32], block: usize) -> bool {
        let start = block * WORDS_PER_BLOCK;
        let end = (start + WORDS_PER_BLOCK).min(words.len());
        let bytes: &[u8] = bytemuck::cast_slice(words.get(start..end).unwrap_or(&[]));
        let ok = self.crcs.get(block).is_some_and(|&crc| crc32fast::hash(bytes) == crc);
        if !ok {
            self.damaged(|| format!("trie block {block} does not match its checksum"));
            return false;
        }
        if let Some(w) = self.checked.get(block / 64) {
            w.fetch_or(1 << (block % 64), Ordering::Release);
        }
        true
    }
}

/// The region's words, read through block checks. `Copy`: made per check.
///
/// `LAZY`: whether reads check blocks (a mapped artifact) or the region was checked whole
/// (`false`: reads are plain slice reads, as fast as an unchecked walk). Searches are compiled
/// for both; the validator picks one per check.
#[derive(Clone, Copy)]
pub(crate) struct Checked<'a, const LAZY: bool> {
    region: &'a Region,
}

/// Words of one array, and where the first lies in the region (for its block).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Words<'a> {
    pub(crate) data: &'a [u32],
    at: usize,
}

/// Bytes of one array, and the byte offset of the first in the region.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Bytes<'a> {
    pub(crate) data: &'a [u8],
    at: usize,
}

impl<const LAZY: bool> std::fmt::Debug for Checked<'_, LAZY> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checked").field("lazy", &LAZY).finish()
    }
}

impl<'a, const LAZY: bool> Checked<'a, LAZY> {
    /// Whether block `block` was checked, checking it now if not.
    #[inline(always)]
    fn touch(&self, block: usize) -> bool {
        let bit = 1u64 << (block % 64);
        match self.region.checked.get(block / 64) {
            Some(w) if w.load(Ordering::Relaxed) & bit != 0 => true,
            _ => self.region.check_block(self.region.words(), block),
        }
    }

    /// The `len` words at word offset `at` (empty if they are not all in the region).
    pub(crate) fn words(&self, at: u32, len: u32) -> Words<'a> {
        let (at, len) = (at as usize, len as usize);
        let data = self.region.words().get(at..at.saturating_add(len)).unwrap_or(&[]);
        Words { data, at }
    }

    /// The `len` bytes from word offset `at` (empty if they are not all in the region).
    pub(crate) fn bytes(&self, at: u32, len: u32) -> Bytes<'a> {
        let all: &'a [u8] = bytemuck::cast_slice(self.region.words());
        let at = at as usize * 4;
        let data = all.get(at..at.saturating_add(len as usize)).unwrap_or(&[]);
        Bytes { data, at }
    }

    /// Entry `i` of `w`, if it exists and its block is sound.
    #[inline(always)]
    pub(crate) fn word(&self, w: Words<'a>, i: u32) -> Option<u32> {
        let v = *w.data.get(i as usize)?;
        (!LAZY || self.touch((w.at + i as usize) / WORDS_PER_BLOCK)).then_some(v)
    }

    /// Bytes `range` of `b`, if they exist and their blocks are sound.
    #[inline(always)]
    pub(crate) fn byte_range(
        &self,
        b: Bytes<'a>,
        range: std::ops::Range<usize>,
    ) -> Option<&'a [u8]> {
        let out = b.data.get(range.clone())?;
        if !LAZY || out.is_empty() {
            return Some(out);
        }
        let (first, last) = ((b.at + range.start) / BLOCK, (b.at + range.end - 1) / BLOCK);
        (first..=last).all(|block| self.touch(block)).then_some(out)
    }

    /// Records damage found by a structure check.
    #[cold]
    pub(crate) fn damaged(&self, why: &'static str) {
        self.region.damaged(|| why.to_string());
    }
}
