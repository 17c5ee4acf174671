//! The one place a store file is memory-mapped.

use memmap2::Mmap;
use std::fs::File;

/// Maps a whole file read-only.
///
/// Mapping is `unsafe` because the mapped bytes change if the file is changed in place. A store
/// is never changed in place: `policyc store build` and `store update` write new shard files
/// and rename a new manifest over the old one, so a map always shows the file it was made
/// from (an unlinked file stays intact while it is mapped). Store files are written by root or
/// SYSTEM only (`docs/store-format.md`); another writer that truncated a mapped file would
/// fault the reader (SIGBUS), which is why stores must not be writable by anyone else.
#[allow(unsafe_code)]
pub(crate) fn map(file: &File) -> std::io::Result<Mmap> {
    // SAFETY: see above; the map is only ever read through bounds-checked slices.
    unsafe { Mmap::map(file) }
}
