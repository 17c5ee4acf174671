//! The one place a file is memory-mapped: breached-password store shards, and artifacts
//! loaded from a file (their tries are walked in place).

use memmap2::Mmap;
use std::fs::File;

/// Maps a whole file read-only.
///
/// Mapping is `unsafe` because the mapped bytes change if the file is changed in place. Neither
/// kind of file is: `policyc store build` and `store update` write new shard files and rename
/// a new manifest over the old one, and artifacts are replaced by renaming a new file into
/// place (`policyc compile` writes a new file; deployments copy then rename), so a map always
/// shows the file it was made from (an unlinked file stays intact while it is mapped). Both
/// must be writable by root or SYSTEM only (the hook and the agent check artifacts' owners and
/// modes; `docs/store-format.md`); another writer that truncated a mapped file would fault the
/// reader (SIGBUS), which is why they must not be writable by anyone else.
///
/// `random`: lookups will touch a few scattered pages (a store shard): read-ahead is turned off
/// (`MADV_RANDOM`), so that a cold lookup reads those pages and not the megabytes around them.
#[allow(unsafe_code)]
pub(crate) fn map(file: &File, random: bool) -> std::io::Result<Mmap> {
    // SAFETY: see above; the map is only ever read through bounds-checked slices.
    let map = unsafe { Mmap::map(file) }?;
    #[cfg(unix)]
    if random {
        map.advise(memmap2::Advice::Random)?;
    }
    #[cfg(not(unix))]
    let _ = random;
    Ok(map)
}
