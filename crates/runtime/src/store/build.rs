//! Building and updating a store (`policyc store build`, `store update`).
//!
//! Two passes, so that a billion keys build in little memory on two cores, and both resumable:
//! 1. **Partition**: every input line becomes a 64-bit key, appended to its shard's bucket file
//!    in `STORE/.build/`. After each input file the bucket lengths are checkpointed; a resumed
//!    build cuts the buckets back to the checkpoint and goes on with the next file.
//! 2. **Shards**: each bucket is sorted, deduplicated and built into a binary fuse filter
//!    (xorf), written as `shards/IIII-GGGG….shard` (synced, renamed into place). A shard file
//!    already written by this build is kept on resume; on update, a shard whose keys did not
//!    change keeps its existing file.
//!
//! Then the new manifest is synced and renamed over the old one (the one atomic step readers
//! see), and shard files no manifest names any more are removed.

use super::format::{
    self, BLOCK, MANIFEST_FILE, SHARD_HEADER, SHARD_MAGIC, SHARDS_DIR, STORE_FORMAT_VERSION,
    ShardEntry, StoreInfo, shard_path,
};
use super::{HashMode, Store, StoreError, StoreKey};
use sha2::{Digest, Sha256};
use std::fs::{self, File};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// What to build.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// Input files: HIBP downloader output (one file of `HASH:COUNT` lines, or a directory of
    /// range files `PPPPP.txt` holding `SUFFIX:COUNT` lines) or plain password lists.
    pub inputs: Vec<PathBuf>,
    /// The store directory.
    pub store: PathBuf,
    /// Leave out hashes seen fewer times than this (HIBP's padding lines have count 0).
    pub min_count: u64,
    /// 8 or 16.
    pub fingerprint_bits: u8,
    /// `1 << shard_bits` shards; `None`: about 8 Mi keys per shard, estimated from the
    /// inputs' size.
    pub shard_bits: Option<u8>,
    /// Also keep each shard's sorted keys, so that a filter hit is confirmed.
    pub exact: bool,
    /// The hash of plain password lists, and what HIBP inputs must be; `None`: the HIBP
    /// inputs' mode, or NTLM if there are only plain lists.
    pub mode: Option<HashMode>,
    /// Threads for the shard pass.
    pub threads: usize,
}

impl BuildOptions {
    /// The defaults for a store at `store` built from `inputs`: 16-bit fingerprints, shards
    /// sized for the inputs, no exact tier, every hash seen at least once.
    pub fn new(store: impl Into<PathBuf>, inputs: Vec<PathBuf>) -> BuildOptions {
        BuildOptions {
            inputs,
            store: store.into(),
            min_count: 1,
            fingerprint_bits: 16,
            shard_bits: None,
            exact: false,
            mode: None,
            threads: default_threads(),
        }
    }
}

/// Why a build stopped. Whatever was already built is kept for a resumed run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// A line of an input is not what its file's format says.
    #[error("{path}:{line}: {reason}")]
    Input {
        /// The input.
        path: PathBuf,
        /// 1-based line.
        line: u64,
        /// What is wrong.
        reason: String,
    },
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The options or inputs do not fit together.
    #[error("{0}")]
    Options(String),
    /// A shard's filter could not be constructed.
    #[error("shard {shard}: cannot build its filter ({reason})")]
    Filter {
        /// The shard.
        shard: usize,
        /// xorf's reason.
        reason: String,
    },
    /// A directory or file of the build that root may not write: someone else's, writable by
    /// others, or a link planted where a file of the build goes.
    #[error(transparent)]
    Unsafe(#[from] crate::files::FileError),
    /// The existing store (for an update) is unusable.
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> BuildError + '_ {
    move |source| BuildError::Io { path: path.to_path_buf(), source }
}

/// What a build did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildReport {
    /// The store's manifest as written.
    pub info: StoreInfo,
    /// Input lines read (all files), and lines left out for their count.
    pub lines: u64,
    /// Lines below `min_count`.
    pub below_min_count: u64,
    /// Shards written, and shards kept unchanged (update) or from an interrupted run.
    pub written: usize,
    /// Shards kept.
    pub kept: usize,
    /// Whether the partition pass resumed from a checkpoint.
    pub resumed: bool,
    /// Shard files of earlier generations that could not be removed (in use on Windows, say):
    /// nothing reads them; the next update tries again.
    pub left_behind: usize,
}

/// Progress callbacks: the partition pass reports input bytes read, the shard pass shards done.
pub trait Progress: Sync {
    /// Starting a pass with this many units of work.
    fn start(&self, pass: &str, total: u64);
    /// `n` more units done.
    fn advance(&self, n: u64);
}

/// No progress display.
#[derive(Debug)]
pub struct Quiet;

impl Progress for Quiet {
    fn start(&self, _: &str, _: u64) {}
    fn advance(&self, _: u64) {}
}

/// How one input file is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    /// `HASH:COUNT` lines with the whole hash.
    Hashes(HashMode),
    /// A range file `PPPPP.txt`: `SUFFIX:COUNT` lines, the prefix from the name.
    Range(HashMode, u32),
    /// One password per line.
    Plain,
}

/// Whether a line is `HEX:COUNT` with `hex` hex digits.
fn hash_line(line: &str, hex: usize) -> bool {
    line.split_once(':').is_some_and(|(h, c)| {
        h.len() == hex
            && h.bytes().all(|b| b.is_ascii_hexdigit())
            && !c.is_empty()
            && c.bytes().all(|b| b.is_ascii_digit())
    })
}

/// Decides a file's format from its name and first line.
fn detect(path: &Path, first: &str) -> Format {
    let first = first.trim_end_matches(['\r', '\n']);
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
    let prefix = (stem.len() == 5).then(|| u32::from_str_radix(stem, 16).ok()).flatten();
    for mode in [HashMode::Sha1, HashMode::Ntlm] {
        if hash_line(first, mode.hex_len()) {
            return Format::Hashes(mode);
        }
        if let Some(p) = prefix
            && hash_line(first, mode.hex_len() - 5)
        {
            return Format::Range(mode, p);
        }
    }
    Format::Plain
}

/// The files the inputs name: a directory stands for its `*.txt` files, in name order.
fn expand(inputs: &[PathBuf]) -> Result<Vec<PathBuf>, BuildError> {
    let mut files = Vec::new();
    for input in inputs {
        if input.is_dir() {
            let mut names: Vec<PathBuf> = fs::read_dir(input)
                .map_err(io(input))?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "txt"))
                .collect();
            names.sort();
            files.extend(names);
        } else {
            files.push(input.clone());
        }
    }
    if files.is_empty() {
        return Err(BuildError::Options("no input files (a directory holds no *.txt)".into()));
    }
    Ok(files)
}

/// Reads an input's first line, to detect its format.
fn first_line(path: &Path) -> Result<String, BuildError> {
    let mut r = BufReader::new(File::open(path).map_err(io(path))?);
    let mut buf = Vec::new();
    r.by_ref().take(4096).read_until(b'\n', &mut buf).map_err(io(path))?;
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

/// The hash mode of the build: all HIBP inputs must agree, and with `--mode` if given.
fn decide_mode(
    formats: &[(PathBuf, Format)],
    wanted: Option<HashMode>,
) -> Result<HashMode, BuildError> {
    let mut mode = wanted;
    for (path, f) in formats {
        let m = match f {
            Format::Hashes(m) | Format::Range(m, _) => *m,
            Format::Plain => continue,
        };
        match mode {
            Some(have) if have != m => {
                return Err(BuildError::Options(format!(
                    "{} holds {} hashes, but the store is {}: build one store per hash mode",
                    path.display(),
                    m.name(),
                    have.name()
                )));
            }
            _ => mode = Some(m),
        }
    }
    Ok(mode.unwrap_or(HashMode::Ntlm))
}

/// Shards for about 8 Mi keys each, counting an input line per 40 bytes (an HIBP line is 37 to
/// 45 bytes; a plain list's lines are shorter, which only means more, smaller shards): a binary
/// fuse filter is at its smallest (1.125 slots a key) from about a million keys, and a shard of
/// about 19 MB is mostly 2 MiB stretches that a long-running reader maps as huge pages
/// ([`StoreAccess::Resident`](super::StoreAccess::Resident)), while one shard's construction
/// scratch stays near 300 MB a thread. HIBP's billion hashes get 128 shards.
fn auto_shard_bits(files: &[PathBuf]) -> u8 {
    shard_bits_for(files.iter().map(|f| fs::metadata(f).map_or(0, |m| m.len())).sum())
}

/// [`auto_shard_bits`] for inputs of `bytes` in all.
fn shard_bits_for(bytes: u64) -> u8 {
    let shards = (bytes / 40).div_ceil(KEYS_PER_SHARD);
    (0..=format::MAX_SHARD_BITS).find(|&b| (1u64 << b) >= shards).unwrap_or(format::MAX_SHARD_BITS)
}

/// The keys a shard is sized for when the shard count is not given.
const KEYS_PER_SHARD: u64 = 8 << 20;

/// Threads building shards by default: the cores, at most 8, so that the shard pass's memory
/// (one shard's keys and construction scratch a thread, about 320 MB) stays under 3 GB.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get()).min(8)
}

/// The shard bits of options whose `shard_bits` [`build`] has decided.
fn bits(options: &BuildOptions) -> u8 {
    options.shard_bits.unwrap_or(0)
}

/// Where an interrupted build keeps its work.
fn build_dir(store: &Path) -> PathBuf {
    store.join(".build")
}

fn bucket_path(store: &Path, shard: usize) -> PathBuf {
    build_dir(store).join(format!("{shard:04x}.keys"))
}

/// The checkpoint of the partition pass: which build (its options and inputs), how many files
/// are done, and the bucket lengths after them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct Checkpoint {
    build: String,
    generation: u64,
    files_done: usize,
    partitioned: bool,
    lengths: Vec<u64>,
}

/// What identifies a build's inputs and options, so that a resume never mixes two builds.
fn build_identity(options: &BuildOptions, files: &[PathBuf], mode: HashMode) -> String {
    let mut h = Sha256::new();
    for f in files {
        h.update(f.to_string_lossy().as_bytes());
        h.update(fs::metadata(f).map(|m| m.len()).unwrap_or(0).to_le_bytes());
    }
    let d: [u8; 32] = h.finalize().into();
    let d: String = d.iter().take(12).map(|b| format!("{b:02x}")).collect();
    format!(
        "v{STORE_FORMAT_VERSION} {} fp{} shards{} exact{} min{} files{} {d}",
        mode.name(),
        options.fingerprint_bits,
        bits(options),
        options.exact,
        options.min_count,
        files.len()
    )
}

/// Writes `path` whole through a new temporary file, never through a link ([`crate::files::replace`]).
fn write_atomically(path: &Path, bytes: &[u8], mode: u32) -> Result<(), BuildError> {
    Ok(crate::files::replace(path, bytes, mode)?)
}

/// Readers of a store (the hook, the agent's user) read its files.
const STORE_FILE_MODE: u32 = 0o644;

/// The build's own files (`.build/`: hashes of the inputs, checkpoints) are private.
const BUILD_FILE_MODE: u32 = 0o600;

/// The largest checkpoint: 65,536 bucket lengths and the build's identity.
const MAX_CHECKPOINT: usize = 1 << 20;

/// Reads the checkpoint of an interrupted build, if any (one of another build is ignored).
fn read_checkpoint(path: &Path) -> Result<Option<Checkpoint>, BuildError> {
    match crate::files::read_bounded(path, MAX_CHECKPOINT, true) {
        Ok(bytes) => Ok(postcard::from_bytes(&bytes).ok()),
        Err(crate::files::FileError::Io { source, .. })
            if source.kind() == std::io::ErrorKind::NotFound =>
        {
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

/// Opens a file of the store or the build for reading as root may trust it; `None` if absent.
fn open_existing(path: &Path) -> Result<Option<File>, BuildError> {
    match crate::files::open_trusted(path, false) {
        Ok(f) => Ok(Some(f)),
        Err(crate::files::FileError::Io { source, .. })
            if source.kind() == std::io::ErrorKind::NotFound =>
        {
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

/// Builds (or, over an existing store, updates) a store. Progress goes to `progress`.
///
/// # Errors
/// A [`BuildError`]; the work done so far stays in `STORE/.build` for a resumed run.
pub fn build(options: &BuildOptions, progress: &dyn Progress) -> Result<BuildReport, BuildError> {
    if options.fingerprint_bits != 8 && options.fingerprint_bits != 16 {
        return Err(BuildError::Options("--fingerprint must be 8 or 16".into()));
    }
    let files = expand(&options.inputs)?;
    let shard_bits = match options.shard_bits {
        Some(b) if b > format::MAX_SHARD_BITS => {
            return Err(BuildError::Options("--shard-bits must be at most 16".into()));
        }
        Some(b) => b,
        None => auto_shard_bits(&files),
    };
    let options = &BuildOptions { shard_bits: Some(shard_bits), ..options.clone() };
    let mut formats = Vec::with_capacity(files.len());
    for f in &files {
        let first = first_line(f)?;
        formats.push((f.clone(), detect(f, &first)));
    }
    let mode = decide_mode(&formats, options.mode)?;
    let store = &options.store;
    crate::files::output_dir(store)?;
    crate::files::output_dir(&store.join(SHARDS_DIR))?;
    crate::files::secure_dir(&build_dir(store))?;
    let old = match store.join(MANIFEST_FILE).exists() {
        true => Some(Store::open(store)?),
        false => None,
    };
    let identity = build_identity(options, &files, mode);
    let shards = 1usize << shard_bits;
    let checkpoint_path = build_dir(store).join("checkpoint");
    let resumed: Option<Checkpoint> = read_checkpoint(&checkpoint_path)?
        .filter(|c: &Checkpoint| c.build == identity && c.lengths.len() == shards);
    let was_resumed = resumed.is_some();
    let mut checkpoint = resumed.unwrap_or_else(|| Checkpoint {
        build: identity.clone(),
        generation: old.as_ref().map_or(1, |s| s.info().generation + 1),
        files_done: 0,
        partitioned: false,
        lengths: vec![0; shards],
    });
    let mut counts = (0u64, 0u64);
    if !checkpoint.partitioned {
        partition(
            options,
            &formats,
            mode,
            &mut checkpoint,
            &checkpoint_path,
            &mut counts,
            progress,
        )?;
    }
    let (entries, written, kept) =
        build_shards(options, mode, &checkpoint, old.as_ref(), progress)?;
    let keys = entries.iter().map(|e| e.keys).sum();
    if keys == 0 {
        let _ = fs::remove_dir_all(build_dir(store));
        return Err(BuildError::Options(format!(
            "the inputs hold no password or hash ({} lines read, {} below --min-count {}): nothing to build",
            counts.0, counts.1, options.min_count
        )));
    }
    let names: Vec<String> = files
        .iter()
        .take(3)
        .map(|f| f.file_name().unwrap_or_default().to_string_lossy().into())
        .collect();
    let more =
        if files.len() > 3 { format!(" and {} more", files.len() - 3) } else { String::new() };
    let info = StoreInfo {
        mode,
        fingerprint_bits: options.fingerprint_bits,
        shard_bits,
        exact: options.exact,
        generation: checkpoint.generation,
        keys,
        source: format!(
            "{} file(s): {}{more}; min count {}",
            files.len(),
            names.join(", "),
            options.min_count
        ),
    };
    write_atomically(
        &store.join(MANIFEST_FILE),
        &format::encode_manifest(&info, &entries),
        STORE_FILE_MODE,
    )?;
    let left_behind = remove_unreferenced(store, &entries);
    let _ = fs::remove_dir_all(build_dir(store));
    Ok(BuildReport {
        info,
        lines: counts.0,
        below_min_count: counts.1,
        written,
        kept,
        resumed: was_resumed,
        left_behind,
    })
}

/// Parses one line into a key, or `None` for a line left out (empty, or below the count).
fn parse_line(
    line: &str,
    format: Format,
    mode: HashMode,
    min_count: u64,
) -> Result<Option<StoreKey>, String> {
    let line = line.strip_suffix('\r').unwrap_or(line);
    let hashed = |hex: usize, prefix: Option<u32>| -> Result<Option<StoreKey>, String> {
        let (h, count) = line.split_once(':').ok_or("expected HASH:COUNT")?;
        if h.len() != hex || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!("expected {hex} hex digits before the colon"));
        }
        let count: u64 = count.trim().parse().map_err(|_| "the count is not a number")?;
        if count < min_count {
            return Ok(None);
        }
        let mut digits = String::with_capacity(16);
        if let Some(p) = prefix {
            digits.push_str(&format!("{p:05X}"));
        }
        digits.extend(h.chars().take(16 - digits.len()));
        let key = u64::from_str_radix(&digits, 16).map_err(|_| "bad hex")?;
        Ok(Some(StoreKey(key)))
    };
    match format {
        Format::Hashes(m) => hashed(m.hex_len(), None),
        Format::Range(m, p) => hashed(m.hex_len() - 5, Some(p)),
        Format::Plain if line.is_empty() => Ok(None),
        Format::Plain => Ok(Some(mode.key(line))),
    }
}

/// Buffers of keys per shard, flushed to the bucket files.
struct Buckets<'a> {
    store: &'a Path,
    buffers: Vec<Vec<u8>>,
    lengths: Vec<u64>,
    limit: usize,
}

impl Buckets<'_> {
    fn push(&mut self, shard: usize, key: StoreKey) -> Result<(), BuildError> {
        let Some(buf) = self.buffers.get_mut(shard) else { return Ok(()) };
        buf.extend_from_slice(&key.0.to_le_bytes());
        if buf.len() >= self.limit {
            self.flush(shard)?;
        }
        Ok(())
    }

    fn flush(&mut self, shard: usize) -> Result<(), BuildError> {
        let Some(buf) = self.buffers.get_mut(shard) else { return Ok(()) };
        if buf.is_empty() {
            return Ok(());
        }
        let path = bucket_path(self.store, shard);
        let mut f = crate::files::open_append(&path, BUILD_FILE_MODE)?;
        f.write_all(buf).map_err(io(&path))?;
        if let Some(l) = self.lengths.get_mut(shard) {
            *l += buf.len() as u64;
        }
        buf.clear();
        Ok(())
    }

    /// Flushes and syncs every bucket (before a checkpoint names their lengths).
    fn sync(&mut self) -> Result<(), BuildError> {
        for shard in 0..self.buffers.len() {
            self.flush(shard)?;
            let path = bucket_path(self.store, shard);
            if let Some(f) = open_existing(&path)? {
                f.sync_all().map_err(io(&path))?;
            }
        }
        Ok(())
    }
}

/// Pass 1: every input line into its shard's bucket, checkpointed (at a file's end) once a
/// second.
fn partition(
    options: &BuildOptions,
    formats: &[(PathBuf, Format)],
    mode: HashMode,
    checkpoint: &mut Checkpoint,
    checkpoint_path: &Path,
    counts: &mut (u64, u64),
    progress: &dyn Progress,
) -> Result<(), BuildError> {
    let store = &options.store;
    let shards = checkpoint.lengths.len();
    // Cut the buckets back to the checkpoint: what a killed run appended after it is redone.
    for (shard, &len) in checkpoint.lengths.iter().enumerate() {
        let path = bucket_path(store, shard);
        if len > 0 || open_existing(&path)?.is_some() {
            crate::files::open_private(&path, BUILD_FILE_MODE)?.set_len(len).map_err(io(&path))?;
        }
    }
    let total: u64 = formats.iter().map(|(p, _)| fs::metadata(p).map_or(0, |m| m.len())).sum();
    progress.start("reading", total);
    let done: u64 = formats
        .iter()
        .take(checkpoint.files_done)
        .map(|(p, _)| fs::metadata(p).map_or(0, |m| m.len()))
        .sum();
    progress.advance(done);
    let limit = (256 << 20) / shards.max(1);
    let mut buckets = Buckets {
        store,
        buffers: vec![Vec::with_capacity(limit.min(1 << 16)); shards],
        lengths: checkpoint.lengths.clone(),
        limit: limit.clamp(4096, 1 << 16),
    };
    let mut saved = std::time::Instant::now();
    let last = formats.len();
    for (done, (path, format)) in formats.iter().enumerate().skip(checkpoint.files_done) {
        let file = File::open(path).map_err(io(path))?;
        let size = file.metadata().map_or(0, |m| m.len()) as usize;
        let mut reader = BufReader::with_capacity(size.clamp(4096, 1 << 20), file);
        let mut line = Vec::new();
        let mut number = 0u64;
        loop {
            line.clear();
            let n = reader.read_until(b'\n', &mut line).map_err(io(path))?;
            if n == 0 {
                break;
            }
            number += 1;
            progress.advance(n as u64);
            let text = line.strip_suffix(b"\n").unwrap_or(&line);
            let text = std::str::from_utf8(text).map_err(|_| BuildError::Input {
                path: path.clone(),
                line: number,
                reason: "not UTF-8 text".into(),
            })?;
            counts.0 += 1;
            match parse_line(text, *format, mode, options.min_count) {
                Ok(Some(key)) => buckets.push(key.shard(bits(options)), key)?,
                Ok(None) if matches!(format, Format::Plain) => {}
                Ok(None) => counts.1 += 1,
                Err(reason) => {
                    return Err(BuildError::Input { path: path.clone(), line: number, reason });
                }
            }
        }
        zeroize::Zeroize::zeroize(&mut line);
        // A checkpoint a second at most: a million range files must not mean a million syncs.
        if saved.elapsed() >= std::time::Duration::from_secs(1) || done + 1 == last {
            buckets.sync()?;
            checkpoint.files_done = done + 1;
            checkpoint.lengths.clone_from(&buckets.lengths);
            save_checkpoint(checkpoint_path, checkpoint)?;
            saved = std::time::Instant::now();
        }
    }
    checkpoint.partitioned = true;
    save_checkpoint(checkpoint_path, checkpoint)
}

fn save_checkpoint(path: &Path, c: &Checkpoint) -> Result<(), BuildError> {
    let bytes = postcard::to_allocvec(c).map_err(|e| BuildError::Options(e.to_string()))?;
    write_atomically(path, &bytes, BUILD_FILE_MODE)
}

/// Pass 2: every bucket into a shard file, on `threads` threads.
fn build_shards(
    options: &BuildOptions,
    mode: HashMode,
    checkpoint: &Checkpoint,
    old: Option<&Store>,
    progress: &dyn Progress,
) -> Result<(Vec<ShardEntry>, usize, usize), BuildError> {
    let shards = checkpoint.lengths.len();
    progress.start("building shards", shards as u64);
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<(ShardEntry, bool)>>> = Mutex::new(vec![None; shards]);
    let failure: Mutex<Option<BuildError>> = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..options.threads.max(1) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= shards || failure.lock().is_ok_and(|f| f.is_some()) {
                        return;
                    }
                    match build_shard(options, mode, checkpoint, old, i) {
                        Ok(r) => {
                            if let Ok(mut v) = results.lock()
                                && let Some(slot) = v.get_mut(i)
                            {
                                *slot = Some(r);
                            }
                            progress.advance(1);
                        }
                        Err(e) => {
                            if let Ok(mut f) = failure.lock() {
                                f.get_or_insert(e);
                            }
                            return;
                        }
                    }
                }
            });
        }
    });
    if let Some(e) = failure.into_inner().ok().flatten() {
        return Err(e);
    }
    let results = results.into_inner().unwrap_or_default();
    let mut entries = Vec::with_capacity(shards);
    let (mut written, mut kept) = (0, 0);
    for r in results {
        let (entry, was_written) =
            r.ok_or_else(|| BuildError::Options("a shard was not built".into()))?;
        if was_written {
            written += 1
        } else {
            kept += 1
        }
        entries.push(entry);
    }
    Ok((entries, written, kept))
}

/// Reads a bucket's keys, sorted and distinct.
fn bucket_keys(store: &Path, shard: usize, len: u64) -> Result<Vec<u64>, BuildError> {
    let path = bucket_path(store, shard);
    let mut bytes = Vec::new();
    match open_existing(&path)? {
        Some(f) => {
            f.take(len).read_to_end(&mut bytes).map_err(io(&path))?;
        }
        None if len == 0 => {}
        None => {
            return Err(BuildError::Options(format!(
                "`{}` is missing: run the build again from its inputs (remove `{}`)",
                path.display(),
                build_dir(store).display()
            )));
        }
    }
    let mut keys: Vec<u64> = bytes
        .chunks_exact(8)
        .map(|c| u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
        .collect();
    keys.sort_unstable();
    keys.dedup();
    Ok(keys)
}

fn keys_digest(keys: &[u64]) -> [u8; 32] {
    let mut h = Sha256::new();
    for k in keys {
        h.update(k.to_le_bytes());
    }
    h.finalize().into()
}

/// Reads the header of an existing shard file and returns its entry if it holds exactly these
/// keys (same content digest) in the same layout.
fn reusable(path: &Path, digest: &[u8; 32], keys: u64, header: &[u8; 16]) -> Option<ShardEntry> {
    let mut f = crate::files::open_trusted(path, false).ok()?;
    let mut head = vec![0u8; SHARD_HEADER];
    f.read_exact(&mut head).ok()?;
    (head.get(..16) == Some(&header[..])
        && head.get(56..88) == Some(&digest[..])
        && format::u64_at(&head, 24) == keys)
        .then(|| {
            let mut id = [0u8; 16];
            id.copy_from_slice(&head[88..104]);
            ShardEntry { generation: 0, keys, id }
        })
}

/// The first 16 header bytes every shard of this build has.
fn header_start(options: &BuildOptions, mode: HashMode) -> [u8; 16] {
    let mut h = [0u8; 16];
    h[..8].copy_from_slice(&SHARD_MAGIC);
    h[8..10].copy_from_slice(&STORE_FORMAT_VERSION.to_le_bytes());
    h[10] = mode.code();
    h[11] = options.fingerprint_bits;
    h[12] = bits(options);
    h[13] = u8::from(options.exact);
    h
}

/// Builds one shard (or keeps an identical one). Returns its entry and whether it was written.
fn build_shard(
    options: &BuildOptions,
    mode: HashMode,
    checkpoint: &Checkpoint,
    old: Option<&Store>,
    i: usize,
) -> Result<(ShardEntry, bool), BuildError> {
    let store = &options.store;
    let len = checkpoint.lengths.get(i).copied().unwrap_or(0);
    let keys = bucket_keys(store, i, len)?;
    let digest = keys_digest(&keys);
    let start = header_start(options, mode);
    let count = keys.len() as u64;
    // An identical shard in the store being updated, or written by an interrupted run.
    if let Some(old) = old
        && let Some(entry) = old.entries().get(i)
        && let Some(e) = reusable(&shard_path(store, i, entry.generation), &digest, count, &start)
        && e.id == entry.id
    {
        return Ok((ShardEntry { generation: entry.generation, ..e }, false));
    }
    let path = shard_path(store, i, checkpoint.generation);
    if let Some(e) = reusable(&path, &digest, count, &start) {
        return Ok((ShardEntry { generation: checkpoint.generation, ..e }, false));
    }
    let bytes = encode_shard(options, &start, i, &keys, &digest)?;
    write_atomically(&path, &bytes, STORE_FILE_MODE)?;
    let mut id = [0u8; 16];
    id.copy_from_slice(&bytes[88..104]);
    Ok((ShardEntry { generation: checkpoint.generation, keys: count, id }, true))
}

/// The bytes of a shard file.
fn encode_shard(
    options: &BuildOptions,
    start: &[u8; 16],
    index: usize,
    keys: &[u64],
    digest: &[u8; 32],
) -> Result<Vec<u8>, BuildError> {
    use xorf::{BinaryFuse8, BinaryFuse16};
    let failed = |reason: &str| BuildError::Filter { shard: index, reason: reason.into() };
    // (descriptor, fingerprint bytes)
    let (d, fingerprints): (xorf::Descriptor, Vec<u8>) =
        match (keys.len(), options.fingerprint_bits) {
            (0, _) => (
                xorf::Descriptor {
                    seed: 0,
                    segment_length: 0,
                    segment_length_mask: 0,
                    segment_count_length: 0,
                },
                Vec::new(),
            ),
            (_, 8) => {
                let f = BinaryFuse8::try_from(keys).map_err(failed)?;
                (f.descriptor.clone(), f.fingerprints.to_vec())
            }
            _ => {
                let f = BinaryFuse16::try_from(keys).map_err(failed)?;
                (
                    f.descriptor.clone(),
                    f.fingerprints.iter().flat_map(|x| x.to_le_bytes()).collect(),
                )
            }
        };
    let count = fingerprints.len() / usize::from(options.fingerprint_bits / 8);
    let exact_keys = if options.exact { keys.len() } else { 0 };
    let (blocks, data_start, data_len, exact_start) =
        format::shard_layout(count, options.fingerprint_bits, exact_keys);
    let mut data = fingerprints;
    data.resize(exact_start, 0);
    if options.exact {
        data.extend(keys.iter().flat_map(|k| k.to_le_bytes()));
    }
    debug_assert_eq!(data.len(), data_len);
    let mut out = Vec::with_capacity(data_start + data_len);
    out.extend_from_slice(start);
    out.extend_from_slice(&(index as u32).to_le_bytes());
    out.extend_from_slice(&(count as u32).to_le_bytes());
    out.extend_from_slice(&(keys.len() as u64).to_le_bytes());
    out.extend_from_slice(&d.seed.to_le_bytes());
    out.extend_from_slice(&d.segment_length.to_le_bytes());
    out.extend_from_slice(&d.segment_length_mask.to_le_bytes());
    out.extend_from_slice(&d.segment_count_length.to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(digest);
    out.extend_from_slice(&[0; 32]);
    let table: Vec<u8> =
        data.chunks(BLOCK).flat_map(|b| crc32fast::hash(b).to_le_bytes()).collect();
    debug_assert_eq!(table.len(), blocks * 4);
    let header_digest = format::shard_header_digest(&out, &table);
    out[88..120].copy_from_slice(&header_digest);
    out.extend_from_slice(&table);
    out.resize(data_start, 0);
    out.extend_from_slice(&data);
    Ok(out)
}

/// Removes shard files (and leftovers) that the manifest does not name; returns how many could
/// not be. A reader that still maps one keeps its copy (Unix); where a file is in use it stays
/// until the next update.
fn remove_unreferenced(store: &Path, entries: &[ShardEntry]) -> usize {
    let keep: std::collections::HashSet<PathBuf> =
        entries.iter().enumerate().map(|(i, e)| shard_path(store, i, e.generation)).collect();
    let Ok(dir) = fs::read_dir(store.join(SHARDS_DIR)) else { return 0 };
    dir.filter_map(Result::ok)
        .filter(|e| !keep.contains(&e.path()))
        .filter(|e| fs::remove_file(e.path()).is_err())
        .count()
}

/// The reference lookup the validator is tested against: reads the shard file whole and asks
/// xorf's own filter (not the in-place probe), then searches the exact tier linearly.
///
/// # Errors
/// The store or the shard cannot be read or is damaged.
pub fn reference_lookup(store: &Path, password: &str) -> Result<super::Lookup, StoreError> {
    use xorf::Filter as _;
    let opened = Store::open(store)?;
    let info = opened.info();
    let key = info.mode.key(password);
    let index = key.shard(info.shard_bits);
    let entry = opened
        .entries()
        .get(index)
        .copied()
        .ok_or_else(|| StoreError::damaged(store, "no such shard"))?;
    let path = shard_path(store, index, entry.generation);
    let bytes = fs::read(&path).map_err(|e| StoreError::io(&path, &e))?;
    let h = format::parse_shard(&bytes, &path, info, index, &entry)?;
    if h.keys == 0 {
        return Ok(super::Lookup::Absent);
    }
    let data = bytes.get(h.data_start..).unwrap_or(&[]);
    let descriptor = xorf::Descriptor {
        seed: h.seed,
        segment_length: h.segment_length,
        segment_length_mask: h.segment_length_mask,
        segment_count_length: h.segment_count_length,
    };
    let hit = match info.fingerprint_bits {
        8 => xorf::BinaryFuse8 {
            descriptor,
            fingerprints: data.get(..h.fingerprints).unwrap_or(&[]).into(),
        }
        .contains(&key.0),
        _ => {
            let fingerprints: Box<[u16]> = data
                .get(..h.fingerprints * 2)
                .unwrap_or(&[])
                .chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .collect();
            xorf::BinaryFuse16 { descriptor, fingerprints }.contains(&key.0)
        }
    };
    if !hit {
        return Ok(super::Lookup::Absent);
    }
    if !info.exact {
        return Ok(super::Lookup::Probable);
    }
    let exact = data.get(h.exact_start..).unwrap_or(&[]);
    let found = exact.chunks_exact(8).any(|c| c == key.0.to_le_bytes());
    Ok(if found { super::Lookup::Confirmed } else { super::Lookup::Absent })
}

#[cfg(test)]
mod tests {
    use super::shard_bits_for;

    /// About 8 Mi keys a shard: one shard for small inputs, 16 for the 100 M-line benchmark
    /// input (3.69 GB), 128 for HIBP's export (about 38 GB, under a billion lines), never past 2^16.
    #[test]
    fn shards_hold_about_eight_million_keys() {
        assert_eq!(shard_bits_for(0), 0);
        assert_eq!(shard_bits_for(40 * (8 << 20)), 0);
        assert_eq!(shard_bits_for(40 * (8 << 20) + 40), 1);
        assert_eq!(shard_bits_for(3_690_000_000), 4);
        assert_eq!(shard_bits_for(38_000_000_000), 7);
        assert_eq!(shard_bits_for(u64::MAX), super::format::MAX_SHARD_BITS);
    }
}
