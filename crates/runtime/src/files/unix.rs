//! Unix: a private umask, `O_NOFOLLOW | O_NONBLOCK` on every open, owners and modes checked.

use super::{FileError, symlink, unsafe_path};
use std::fs::OpenOptions;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::Path;

pub(super) fn private_umask() {
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
}

pub(super) fn not_dumpable() {
    let _ = rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable);
}

/// Creates `dir` and its parents, mode 0700.
pub(super) fn create_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)
}

/// Creates `dir` and its parents, mode 0755 (what readers of another user must enter).
pub(super) fn create_shared_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::DirBuilder::new().recursive(true).mode(0o755).create(dir)
}

pub(super) fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir).and_then(|d| d.sync_all())
}

/// `mode` for a created file; no symlink followed, no FIFO blocked on.
pub(super) fn no_follow(options: &mut OpenOptions, mode: u32) -> &mut OpenOptions {
    let flags = rustix::fs::OFlags::NOFOLLOW | rustix::fs::OFlags::NONBLOCK;
    if mode != 0 {
        options.mode(mode);
    }
    options.custom_flags(flags.bits() as i32)
}

/// Names what `O_NOFOLLOW` and `O_NONBLOCK` refused.
pub(super) fn open_error(path: &Path, e: std::io::Error) -> FileError {
    if e.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error()) {
        symlink(path)
    } else if e.raw_os_error() == Some(rustix::io::Errno::NXIO.raw_os_error()) {
        // A FIFO without a reader, opened for writing without blocking.
        unsafe_path(
            path,
            "is not a regular file (a FIFO)",
            "remove it: policyc reads and writes regular files only",
        )
    } else {
        FileError::Io { path: path.to_path_buf(), source: e }
    }
}

/// Owners a file or directory may have: root, or the user this process runs as.
fn trusted_owner(uid: u32) -> bool {
    uid == 0 || uid == rustix::process::geteuid().as_raw()
}

/// Refuses what someone other than root (or this process's user) owns or may write (or, when
/// `private`, read).
pub(super) fn check_owner_and_mode(
    path: &Path,
    meta: &std::fs::Metadata,
    private: bool,
) -> Result<(), FileError> {
    if !trusted_owner(meta.uid()) {
        return Err(unsafe_path(
            path,
            format!("is owned by uid {}, not by root or this service's user", meta.uid()),
            format!("chown root: {}", path.display()),
        ));
    }
    let mode = meta.mode() & 0o777;
    let forbidden = if private { 0o077 } else { 0o022 };
    if mode & forbidden != 0 {
        let (what, chmod) =
            if private { ("others can access it", "600") } else { ("others can write it", "go-w") };
        return Err(unsafe_path(
            path,
            format!("has mode {mode:o}: {what}"),
            format!("chmod {chmod} {}", path.display()),
        ));
    }
    Ok(())
}

/// A directory policyc writes new files into: as [`check_owner_and_mode`], except that one
/// others may write is allowed when it is sticky and this user's (others may add entries but
/// never replace or remove ours, as `mktemp` allows in `/tmp`).
pub(super) fn check_output_dir(path: &Path, meta: &std::fs::Metadata) -> Result<(), FileError> {
    let sticky = meta.mode() & 0o1000 != 0;
    if sticky && meta.uid() == rustix::process::geteuid().as_raw() {
        return Ok(());
    }
    check_owner_and_mode(path, meta, false)
}

/// An exclusive `flock` on a file, released when dropped.
pub(super) struct Lock<'a>(&'a std::fs::File);

impl<'a> Lock<'a> {
    pub(super) fn exclusive(file: &'a std::fs::File) -> std::io::Result<Lock<'a>> {
        rustix::fs::flock(file, rustix::fs::FlockOperation::LockExclusive)?;
        Ok(Lock(file))
    }
}

impl Drop for Lock<'_> {
    fn drop(&mut self) {
        let _ = rustix::fs::flock(self.0, rustix::fs::FlockOperation::Unlock);
    }
}

/// The byte at `offset`.
pub(super) fn byte_at(file: &std::fs::File, offset: u64) -> std::io::Result<u8> {
    let mut b = [0u8; 1];
    std::os::unix::fs::FileExt::read_exact_at(file, &mut b, offset)?;
    Ok(b[0])
}
