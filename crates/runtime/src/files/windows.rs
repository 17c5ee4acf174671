//! Windows: what policyc creates gets a protected DACL (SYSTEM and Administrators only); no
//! reparse point (symlink, junction) is followed; and instead of Unix modes, the owner must be
//! SYSTEM, Administrators or this process's user, and no access-allowed entry of the DACL may
//! give anyone else write access (or, for private files, any access).

#![allow(unsafe_code, reason = "the Win32 security API has no safe binding")]

use super::{FileError, unsafe_path};
use std::fs::OpenOptions;
use std::os::windows::ffi::OsStrExt;
use std::os::windows::fs::OpenOptionsExt;
use std::path::Path;
use windows_sys::Win32::Foundation::{
    CloseHandle, ERROR_SUCCESS, GENERIC_ALL, GENERIC_READ, GENERIC_WRITE, HANDLE, LocalFree,
};
use windows_sys::Win32::Security::Authorization::{
    ConvertSidToStringSidW, ConvertStringSecurityDescriptorToSecurityDescriptorW,
    GetNamedSecurityInfoW, SDDL_REVISION_1, SE_FILE_OBJECT,
};
use windows_sys::Win32::Security::{
    ACCESS_ALLOWED_ACE, ACE_HEADER, ACL, DACL_SECURITY_INFORMATION, EqualSid, GetAce,
    GetTokenInformation, INHERIT_ONLY_ACE, IsWellKnownSid, OWNER_SECURITY_INFORMATION, PSID,
    SECURITY_ATTRIBUTES, TOKEN_QUERY, TOKEN_USER, TokenUser, WinBuiltinAdministratorsSid,
    WinLocalSystemSid,
};
use windows_sys::Win32::Storage::FileSystem::{
    CreateDirectoryW, DELETE, FILE_APPEND_DATA, FILE_FLAG_BACKUP_SEMANTICS,
    FILE_FLAG_OPEN_REPARSE_POINT, FILE_READ_DATA, FILE_WRITE_ATTRIBUTES, FILE_WRITE_DATA,
    FILE_WRITE_EA, WRITE_DAC, WRITE_OWNER,
};
use windows_sys::Win32::System::SystemServices::ACCESS_ALLOWED_ACE_TYPE;
use windows_sys::Win32::System::Threading::{GetCurrentProcess, OpenProcessToken};

/// SYSTEM and Administrators, full control, inherited by everything below; nothing inherited
/// from above (`P`).
const PRIVATE_SDDL: &str = "D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)";

const WRITE_RIGHTS: u32 = FILE_WRITE_DATA
    | FILE_APPEND_DATA
    | FILE_WRITE_EA
    | FILE_WRITE_ATTRIBUTES
    | DELETE
    | WRITE_DAC
    | WRITE_OWNER
    | GENERIC_WRITE
    | GENERIC_ALL;
const READ_RIGHTS: u32 = FILE_READ_DATA | GENERIC_READ;

fn wide(path: &Path) -> Vec<u16> {
    path.as_os_str().encode_wide().chain(Some(0)).collect()
}

pub(super) fn private_umask() {}

pub(super) fn not_dumpable() {}

/// Creates `dir` and any missing parents with the private DACL.
pub(super) fn create_dir(dir: &Path) -> std::io::Result<()> {
    let mut missing: Vec<&Path> =
        dir.ancestors().take_while(|p| std::fs::symlink_metadata(p).is_err()).collect();
    missing.reverse();
    let sddl: Vec<u16> = PRIVATE_SDDL.encode_utf16().chain(Some(0)).collect();
    let mut sd = std::ptr::null_mut();
    // SAFETY: `sddl` is NUL-terminated; `sd` receives a LocalAlloc'd descriptor, freed below.
    let ok = unsafe {
        ConvertStringSecurityDescriptorToSecurityDescriptorW(
            sddl.as_ptr(),
            SDDL_REVISION_1,
            &mut sd,
            std::ptr::null_mut(),
        )
    };
    if ok == 0 {
        return Err(std::io::Error::last_os_error());
    }
    let attributes = SECURITY_ATTRIBUTES {
        nLength: size_of::<SECURITY_ATTRIBUTES>() as u32,
        lpSecurityDescriptor: sd,
        bInheritHandle: 0,
    };
    let mut result = Ok(());
    for p in missing {
        // SAFETY: a NUL-terminated path and a valid SECURITY_ATTRIBUTES.
        if unsafe { CreateDirectoryW(wide(p).as_ptr(), &attributes) } == 0 {
            result = Err(std::io::Error::last_os_error());
            break;
        }
    }
    // SAFETY: allocated by ConvertStringSecurityDescriptorToSecurityDescriptorW.
    unsafe { LocalFree(sd) };
    result
}

/// A directory handle (backup semantics) flushed: the renames in it reach the disk.
pub(super) fn sync_dir(dir: &Path) -> std::io::Result<()> {
    OpenOptions::new()
        .write(true)
        .custom_flags(FILE_FLAG_BACKUP_SEMANTICS)
        .open(dir)
        .and_then(|d| d.sync_all())
}

/// Opens a reparse point itself, never its target (refused as a symlink once opened).
pub(super) fn no_follow(options: &mut OpenOptions, _mode: u32) -> &mut OpenOptions {
    options.custom_flags(FILE_FLAG_OPEN_REPARSE_POINT)
}

pub(super) fn open_error(path: &Path, e: std::io::Error) -> FileError {
    FileError::Io { path: path.to_path_buf(), source: e }
}

/// The SID as text (`S-1-5-18`).
fn sid_text(sid: PSID) -> String {
    let mut text = std::ptr::null_mut();
    // SAFETY: `sid` is valid for the call; the string is LocalAlloc'd and freed here.
    unsafe {
        if ConvertSidToStringSidW(sid, &mut text) == 0 {
            return "an unknown SID".into();
        }
        let len = (0..).take_while(|&i| *text.add(i) != 0).count();
        let s = String::from_utf16_lossy(std::slice::from_raw_parts(text, len));
        LocalFree(text.cast());
        s
    }
}

/// This process's user SID, copied into `buffer` (TOKEN_USER).
fn process_user(buffer: &mut Vec<u8>) -> Option<PSID> {
    let mut token: HANDLE = std::ptr::null_mut();
    // SAFETY: standard token query into a buffer of the size the system asked for.
    unsafe {
        if OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &mut token) == 0 {
            return None;
        }
        let mut needed = 0u32;
        GetTokenInformation(token, TokenUser, std::ptr::null_mut(), 0, &mut needed);
        buffer.resize(needed as usize, 0);
        let ok =
            GetTokenInformation(token, TokenUser, buffer.as_mut_ptr().cast(), needed, &mut needed);
        CloseHandle(token);
        if ok == 0 {
            return None;
        }
        Some((*(buffer.as_ptr().cast::<TOKEN_USER>())).User.Sid)
    }
}

/// Whether `sid` is SYSTEM, Administrators or `me`.
fn trusted(sid: PSID, me: Option<PSID>) -> bool {
    // SAFETY: valid SIDs for the duration of the calls.
    unsafe {
        IsWellKnownSid(sid, WinLocalSystemSid) != 0
            || IsWellKnownSid(sid, WinBuiltinAdministratorsSid) != 0
            || me.is_some_and(|me| EqualSid(sid, me) != 0)
    }
}

/// Refuses what someone other than SYSTEM, Administrators (or this process's user) owns or may
/// write (or, when `private`, read).
pub(super) fn check_owner_and_mode(
    path: &Path,
    _meta: &std::fs::Metadata,
    private: bool,
) -> Result<(), FileError> {
    let fix = format!(
        "icacls \"{}\" /inheritance:r /grant:r SYSTEM:F Administrators:F /setowner SYSTEM",
        path.display()
    );
    let mut owner: PSID = std::ptr::null_mut();
    let mut dacl: *mut ACL = std::ptr::null_mut();
    let mut sd = std::ptr::null_mut();
    // SAFETY: a NUL-terminated path; the out pointers point into `sd`, freed at the end.
    let status = unsafe {
        GetNamedSecurityInfoW(
            wide(path).as_ptr(),
            SE_FILE_OBJECT,
            OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION,
            &mut owner,
            std::ptr::null_mut(),
            &mut dacl,
            std::ptr::null_mut(),
            &mut sd,
        )
    };
    if status != ERROR_SUCCESS {
        return Err(FileError::Io {
            path: path.to_path_buf(),
            source: std::io::Error::from_raw_os_error(status as i32),
        });
    }
    let mut me_buffer = Vec::new();
    let me = process_user(&mut me_buffer);
    let result = (|| {
        if owner.is_null() || !trusted(owner, me) {
            let who = if owner.is_null() { "nobody".into() } else { sid_text(owner) };
            return Err(unsafe_path(
                path,
                format!("is owned by {who}, not by SYSTEM, Administrators or this service's user"),
                fix.clone(),
            ));
        }
        if dacl.is_null() {
            return Err(unsafe_path(path, "has no DACL: everyone has full access", fix.clone()));
        }
        let forbidden = if private { WRITE_RIGHTS | READ_RIGHTS } else { WRITE_RIGHTS };
        // SAFETY: `dacl` is valid; GetAce yields entries inside it, each starting with a header.
        let count = unsafe { (*dacl).AceCount };
        for i in 0..u32::from(count) {
            let mut ace = std::ptr::null_mut();
            if unsafe { GetAce(dacl, i, &mut ace) } == 0 {
                continue;
            }
            let header = unsafe { &*(ace as *const ACE_HEADER) };
            if u32::from(header.AceType) != ACCESS_ALLOWED_ACE_TYPE
                || u32::from(header.AceFlags) & INHERIT_ONLY_ACE != 0
            {
                continue;
            }
            let allowed = unsafe { &*(ace as *const ACCESS_ALLOWED_ACE) };
            let sid: PSID = (&raw const allowed.SidStart).cast_mut().cast();
            if allowed.Mask & forbidden != 0 && !trusted(sid, me) {
                let what = if private { "access" } else { "write" };
                return Err(unsafe_path(
                    path,
                    format!("gives {} {what} rights (mask {:#x})", sid_text(sid), allowed.Mask),
                    fix.clone(),
                ));
            }
        }
        Ok(())
    })();
    // SAFETY: allocated by GetNamedSecurityInfoW.
    unsafe { LocalFree(sd) };
    result
}

/// Windows: new directories get the protected DACL of [`create_dir`].
pub(super) fn create_shared_dir(dir: &Path) -> std::io::Result<()> {
    create_dir(dir)
}

/// Windows has no sticky bit: the rules of [`check_owner_and_mode`].
pub(super) fn check_output_dir(path: &Path, meta: &std::fs::Metadata) -> Result<(), FileError> {
    check_owner_and_mode(path, meta, false)
}

/// Windows: one process writes a file (the filter in LSASS), through `&mut`: no lock needed.
pub(super) struct Lock;

impl Lock {
    pub(super) fn exclusive(_: &std::fs::File) -> std::io::Result<Lock> {
        Ok(Lock)
    }
}

/// The byte at `offset`.
pub(super) fn byte_at(file: &std::fs::File, offset: u64) -> std::io::Result<u8> {
    let mut b = [0u8; 1];
    let n = std::os::windows::fs::FileExt::seek_read(file, &mut b, offset)?;
    if n == 0 {
        return Err(std::io::ErrorKind::UnexpectedEof.into());
    }
    Ok(b[0])
}
