//! Files and directories as code running as root on a domain controller must handle them. Samba
//! runs the hook with `umask(0)` and as root, so anything it creates would be world-writable, and
//! anything an unprivileged user plants (a symlink, a FIFO, a file of theirs) would be followed,
//! blocked on or trusted. Here: a private umask, explicit modes, owners and modes checked (root
//! or the user the process runs as; not writable by group or others), `O_NOFOLLOW` on every
//! open, `O_EXCL` for new files, regular files only, opens that never block and bounded reads,
//! each refusal naming the path and the fix. On Windows (the LSA filter runs as SYSTEM in
//! LSASS) the same rules read: owner SYSTEM or Administrators, no write (or read) access for
//! anyone else in the DACL, no reparse point followed ([`platform`]).

use std::fs::{File, OpenOptions};
use std::io::Read;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

#[cfg(unix)]
#[path = "unix.rs"]
mod platform;
#[cfg(windows)]
#[path = "windows.rs"]
mod platform;

/// Why a path is refused.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// The operating system said no.
    #[error("`{path}`: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The path is not safe to use as root.
    #[error("`{path}` {problem}; {fix}")]
    Unsafe {
        /// The path.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
        /// What to do.
        fix: String,
    },
}

impl From<FileError> for std::io::Error {
    fn from(e: FileError) -> std::io::Error {
        match e {
            FileError::Io { source, .. } => source,
            e => std::io::Error::other(e.to_string()),
        }
    }
}

/// Private by default: nothing this process creates is readable or writable by others,
/// whatever umask it was started with (Samba starts the hook with 0). (Windows: what policyc
/// creates gets a protected DACL instead, see [`secure_dir`].)
pub fn private_umask() {
    platform::private_umask();
}

/// Keeps the process out of core dumps and `ptrace` by other users while it holds passwords.
pub fn not_dumpable() {
    platform::not_dumpable();
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> FileError + '_ {
    move |source| FileError::Io { path: path.to_path_buf(), source }
}

fn symlink(path: &Path) -> FileError {
    unsafe_path(
        path,
        "is a symbolic link",
        "remove it: policyc never follows links it is given as files",
    )
}

fn unsafe_path(path: &Path, problem: impl Into<String>, fix: impl Into<String>) -> FileError {
    FileError::Unsafe { path: path.to_path_buf(), problem: problem.into(), fix: fix.into() }
}

/// Creates `dir` (mode 0700, parents too) if it does not exist, then checks it: a real
/// directory, not a symlink, owned by root or this user, not writable by group or others.
pub fn secure_dir(dir: &Path) -> Result<(), FileError> {
    if std::fs::symlink_metadata(dir).is_err() {
        platform::create_dir(dir).map_err(io(dir))?;
    }
    checked_dir(dir, "remove it and let policyc create the directory")
}

/// Checks an existing directory as [`secure_dir`] does, without creating it (a
/// breached-password store's directories).
pub fn trusted_dir(dir: &Path) -> Result<(), FileError> {
    checked_dir(dir, "name the directory itself: policyc never follows links it is given")
}

/// Creates `dir` (mode 0755, parents too) if it does not exist, then checks it as a place to
/// write files others will read (a breached-password store): a real directory, owned by root or
/// this user, writable by nobody else unless it is sticky and this user's.
pub fn output_dir(dir: &Path) -> Result<(), FileError> {
    if std::fs::symlink_metadata(dir).is_err() {
        platform::create_shared_dir(dir).map_err(io(dir))?;
    }
    let meta = std::fs::symlink_metadata(dir).map_err(io(dir))?;
    if !meta.is_dir() || meta.file_type().is_symlink() {
        return Err(unsafe_path(
            dir,
            "is not a directory (a symlink or a file stands there)",
            "name the directory itself: policyc never writes through links",
        ));
    }
    platform::check_output_dir(dir, &meta)
}

fn checked_dir(dir: &Path, fix: &str) -> Result<(), FileError> {
    let meta = std::fs::symlink_metadata(dir).map_err(io(dir))?;
    if !meta.is_dir() || meta.file_type().is_symlink() {
        return Err(unsafe_path(dir, "is not a directory (a symlink or a file stands there)", fix));
    }
    platform::check_owner_and_mode(dir, &meta, false)
}

/// Opens an existing regular file for reading without following a symlink or blocking on a
/// FIFO, checks its owner and mode (`private`: readable by its owner only), and reads at most
/// `max` bytes (more is an error).
pub fn read_bounded(
    path: &Path,
    max: usize,
    private: bool,
) -> Result<Zeroizing<Vec<u8>>, FileError> {
    let file = open_trusted(path, private)?;
    let mut bytes = Zeroizing::new(Vec::new());
    file.take(max as u64 + 1).read_to_end(&mut bytes).map_err(io(path))?;
    if bytes.len() > max {
        return Err(unsafe_path(
            path,
            format!("is larger than {max} bytes"),
            "it is not a file policyc wrote: remove it",
        ));
    }
    Ok(bytes)
}

/// Opens a regular file for reading without following a link or blocking on a FIFO, and
/// checks its owner and mode (with `private`, that nobody else may read it either).
pub fn open_trusted(path: &Path, private: bool) -> Result<File, FileError> {
    let file = open(path, OpenOptions::new().read(true), 0)?;
    let meta = file.metadata().map_err(io(path))?;
    regular(path, &meta)?;
    platform::check_owner_and_mode(path, &meta, private)?;
    Ok(file)
}

/// Opens (creating, mode `mode`) a regular file for appending, without following a symlink or
/// blocking on a FIFO, and checks its owner and mode.
pub fn open_append(path: &Path, mode: u32) -> Result<File, FileError> {
    let file = open(path, OpenOptions::new().read(true).append(true).create(true), mode)?;
    let meta = file.metadata().map_err(io(path))?;
    regular(path, &meta)?;
    platform::check_owner_and_mode(path, &meta, false)?;
    Ok(file)
}

/// Appends one record (a line) to a file opened by [`open_append`], whole or not at all: other
/// writers wait on a lock meanwhile (Unix), a record that could not be written whole (a full
/// disk) is cut off again, and one left torn by a crash before is ended first, so that the
/// next record never glues onto it.
pub fn append_record(file: &File, record: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut writer = file;
    let _lock = platform::Lock::exclusive(file)?;
    let len = file.metadata()?.len();
    let torn = len > 0 && platform::byte_at(file, len - 1)? != b'\n';
    let written =
        if torn { writer.write_all(b"\n") } else { Ok(()) }.and_then(|()| writer.write_all(record));
    if written.is_err() {
        // Not on Windows, where an append-only handle cannot truncate: the next record is then
        // put on a line of its own.
        let _ = file.set_len(len);
    }
    written
}

/// Runs `f` holding an exclusive lock on `file` (Unix `flock`; on Windows one process writes
/// each such file): a read-modify-write of a small state file by concurrent hooks.
pub fn locked<T>(file: &File, f: impl FnOnce() -> std::io::Result<T>) -> std::io::Result<T> {
    let _lock = platform::Lock::exclusive(file)?;
    f()
}

/// Reads a small state file (at most `max` bytes) under an exclusive lock and, when `change`
/// returns new contents, writes them in its place, synced: a read-modify-write that concurrent
/// hooks cannot interleave.
pub fn update_locked<T>(
    file: &File,
    max: usize,
    change: impl FnOnce(&str) -> std::io::Result<(T, Option<Vec<u8>>)>,
) -> std::io::Result<T> {
    use std::io::{Read as _, Seek as _, Write as _};
    locked(file, || {
        let mut text = String::new();
        (&*file).take(max as u64).read_to_string(&mut text)?;
        let (answer, new) = change(&text)?;
        if let Some(bytes) = new {
            file.set_len(0)?;
            (&*file).seek(std::io::SeekFrom::Start(0))?;
            (&*file).write_all(&bytes)?;
            file.sync_data()?;
        }
        Ok(answer)
    })
}

/// Opens (creating, mode `mode`) a regular file for reading and writing, without following a
/// symlink or blocking on a FIFO, and checks that only its owner may access it.
pub fn open_private(path: &Path, mode: u32) -> Result<File, FileError> {
    let file =
        open(path, OpenOptions::new().read(true).write(true).create(true).truncate(false), mode)?;
    let meta = file.metadata().map_err(io(path))?;
    regular(path, &meta)?;
    platform::check_owner_and_mode(path, &meta, true)?;
    Ok(file)
}

/// Creates a new file (mode `mode`); fails if anything, a symlink included, is already there.
pub fn create_new(path: &Path, mode: u32) -> Result<File, FileError> {
    open(path, OpenOptions::new().write(true).create_new(true), mode)
}

/// Replaces `path` whole with `bytes` (mode `mode`): written to `PATH.tmp` (a new file, never
/// through a link: a stale one is unlinked first), synced, then renamed over `path`, so that a
/// reader sees the old file or the new one, never a part (a policy recompiled while hooks load
/// it, a store's manifest).
pub fn replace(path: &Path, bytes: &[u8], mode: u32) -> Result<(), FileError> {
    use std::io::Write as _;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    match std::fs::remove_file(&tmp) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(&tmp)(e)),
        _ => {}
    }
    let mut f = create_new(&tmp, mode)?;
    f.write_all(bytes).and_then(|()| f.sync_all()).map_err(io(&tmp))?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(io(path))?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        // Makes the rename durable; not every platform can open a directory.
        let _ = sync_dir(dir);
    }
    Ok(())
}

/// Makes a rename or removal in `dir` durable (Unix: fsync of the directory; Windows:
/// FlushFileBuffers on a directory handle).
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    platform::sync_dir(dir)
}

/// Opens without following a symlink (or reparse point) and without blocking on a FIFO.
fn open(path: &Path, options: &mut OpenOptions, mode: u32) -> Result<File, FileError> {
    platform::no_follow(options, mode).open(path).map_err(|e| platform::open_error(path, e))
}

fn regular(path: &Path, meta: &std::fs::Metadata) -> Result<(), FileError> {
    if meta.is_file() {
        return Ok(());
    }
    if meta.file_type().is_symlink() {
        return Err(symlink(path));
    }
    Err(unsafe_path(
        path,
        "is not a regular file (a FIFO, device or directory)",
        "remove it: policyc reads and writes regular files only",
    ))
}

/// Writes one line to standard error (the journal, Samba's log) with control characters
/// escaped: an account name or a server's text cannot forge a line or send escape codes.
pub fn say(text: &str) {
    eprintln!("{}", log_line(text));
}

/// Text for standard error (Samba's log) with control characters escaped, so that a value
/// such as an account name with a newline cannot forge a line.
pub fn log_line(text: &str) -> String {
    text.chars()
        .flat_map(|c| if c.is_control() { c.escape_default().collect::<Vec<_>>() } else { vec![c] })
        .collect()
}
