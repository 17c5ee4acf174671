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
#[allow(unsafe_code)]
pub fn map(file: &File, reads: Reads) -> std::io::Result<Mmap> {
    // SAFETY: see above; the map is only ever read through bounds-checked slices.
    let map = unsafe { Mmap::map(file) }?;
    #[cfg(unix)]
    if reads != Reads::Whole {
        map.advise(memmap2::Advice::Random)?;
    }
    // A hint: where the kernel cannot map this file with huge pages (transparent huge pages
    // off, a file system without large folios), the map simply keeps 4 KiB pages.
    #[cfg(target_os = "linux")]
    if reads == Reads::ScatteredResident {
        let _ = map.advise(memmap2::Advice::HugePage);
    }
    #[cfg(not(unix))]
    let _ = reads;
    Ok(map)
}

/// How a mapped file will be read, which decides the kernel's read-ahead and page size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reads {
    /// Most of the file, in order (an artifact): the kernel's defaults.
    Whole,
    /// A few scattered pages per process (a store shard in the Samba hook): read-ahead off
    /// (`MADV_RANDOM`), so that a cold lookup reads those pages and not the megabytes around
    /// them.
    Scattered,
    /// Scattered pages, many times over in a long-running process (a store shard in the
    /// agent): read-ahead off and 2 MiB pages where the kernel maps files with them
    /// (`MADV_HUGEPAGE`; Linux 6.16+ on ext4, XFS, tmpfs), so that a warm lookup rarely misses
    /// the TLB. A cold first touch then reads 2 MiB.
    ScatteredResident,
}
