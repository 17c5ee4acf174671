//! `check_password`: what slapd's ppolicy overlay calls for a new password.
#![allow(unsafe_code, reason = "the boundary with slapd")]

use crate::entry::{self, BerVal, Entry};
use policyc_gate::point::{Level, MISCONFIGURED_MESSAGE, Points, syslog_voice};
use std::ffi::{CStr, c_char, c_int};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::LazyLock;

/// `LDAP_SUCCESS`: the password may be set.
const LDAP_SUCCESS: c_int = 0;
/// `LDAP_CONSTRAINT_VIOLATION`: refused (ppolicy answers the client with it and the message).
const LDAP_CONSTRAINT_VIOLATION: c_int = 19;
/// The longest message ppolicy passes to the client, in bytes.
pub(crate) const MAX_MESSAGE: usize = 255;

/// One point per `pwdCheckModuleArg`.
static POINTS: LazyLock<Points> = LazyLock::new(Points::default);

/// Judges `password` for the entry, by the settings in `arg`: `Ok` to accept, `Err(message)`.
fn judge(password: &CStr, entry: *const Entry, arg: Option<&[u8]>) -> Result<(), String> {
    let voice = || syslog_voice("policyc_ppolicy");
    let Ok(words) = std::str::from_utf8(arg.unwrap_or_default()) else {
        voice()(
            Level::Error,
            "policyc ldap: pwdCheckModuleArg is not UTF-8; refusing every change",
        );
        return Err(MISCONFIGURED_MESSAGE.into());
    };
    // A NUL ends a berval's value as slapd prints it.
    let words = words.trim_end_matches('\0');
    let point = match POINTS.get("ldap", words, &[], voice) {
        Ok(point) => point,
        Err(e) => {
            voice()(
                Level::Error,
                &format!("policyc ldap: pwdCheckModuleArg: {e}; refusing every change"),
            );
            return Err(MISCONFIGURED_MESSAGE.into());
        }
    };
    // SAFETY: slapd's entry for the change, alive for the call.
    let (ctx, account) = unsafe { entry::context(entry) };
    let Ok(password) = password.to_str() else {
        return Err("The password could not be checked: it is not valid UTF-8.".into());
    };
    let decision = point.decide(password, &ctx, account.as_deref());
    if decision.accept { Ok(()) } else { Err(decision.message) }
}

/// `message` cut to ppolicy's limit, at a character boundary.
pub(crate) fn fit(message: &str) -> &str {
    let mut end = message.len().min(MAX_MESSAGE);
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    &message[..end]
}

/// Keeps this module loaded once slapd has loaded it. slapd 2.5 opens the module for every
/// check and closes it after; pinned (`RTLD_NODELETE`), its loaded policy and reload state
/// survive between checks instead of being loaded and verified again each time.
fn pin_in_memory() {
    static PINNED: std::sync::Once = std::sync::Once::new();
    PINNED.call_once(|| {
        // SAFETY: dladdr reads the loader's tables for an address inside this library and fills
        // `info`; dlopen with RTLD_NOLOAD only marks the already loaded library (by the path the
        // loader gave) as not to be unloaded, and its handle is kept for the process's life.
        unsafe {
            let mut info: libc::Dl_info = std::mem::zeroed();
            let here = pin_in_memory as fn() as *const libc::c_void;
            if libc::dladdr(here, &mut info) != 0 && !info.dli_fname.is_null() {
                libc::dlopen(
                    info.dli_fname,
                    libc::RTLD_NOW | libc::RTLD_NOLOAD | libc::RTLD_NODELETE,
                );
            }
        }
    });
}

/// Runs [`judge`] with every failure (a panic, caught) a refusal.
fn guarded(password: *const c_char, entry: *const Entry, arg: *const BerVal) -> Result<(), String> {
    catch_unwind(AssertUnwindSafe(|| {
        pin_in_memory();
        if password.is_null() {
            return Err("The password could not be checked: slapd passed none.".to_string());
        }
        // SAFETY: slapd's NUL-terminated cleartext password, read in place for the call.
        let password = unsafe { CStr::from_ptr(password) };
        // SAFETY: NULL or the policy's pwdCheckModuleArg.
        let arg = unsafe { arg.as_ref() }.and_then(|bv| unsafe { entry::bytes(bv) });
        judge(password, entry, arg)
    }))
    .unwrap_or_else(|_| Err("The password could not be checked: internal error.".to_string()))
}

/// The check module's entry point, OpenLDAP 2.5's form: `*err` gets a `malloc`ed message that
/// slapd frees.
///
/// # Safety
/// Called by slapd's ppolicy overlay with the cleartext password, an out-pointer for the
/// message, the entry and NULL or the `pwdCheckModuleArg` berval.
#[cfg(not(feature = "openldap-2-6"))]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn check_password(
    password: *mut c_char,
    err: *mut *mut c_char,
    entry: *mut Entry,
    arg: *mut std::ffi::c_void,
) -> c_int {
    match guarded(password, entry, arg.cast::<BerVal>()) {
        Ok(()) => LDAP_SUCCESS,
        Err(message) => {
            if !err.is_null() {
                let text =
                    std::ffi::CString::new(fit(&message).replace('\0', " ")).unwrap_or_default();
                // SAFETY: `err` is slapd's out-pointer; strdup's copy is freed by slapd with free().
                unsafe { *err = libc::strdup(text.as_ptr()) };
            }
            LDAP_CONSTRAINT_VIOLATION
        }
    }
}

/// The check module's entry point, OpenLDAP 2.6's form: the message is written into the buffer
/// slapd passes (`ERRBUFSIZ`, 256 bytes), cut to fit.
///
/// # Safety
/// Called by slapd's ppolicy overlay with the cleartext password, its message berval (a
/// buffer and its size), the entry and NULL or the `pwdCheckModuleArg` berval.
#[cfg(feature = "openldap-2-6")]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn check_password(
    password: *mut c_char,
    errmsg: *mut BerVal,
    entry: *mut Entry,
    arg: *mut BerVal,
) -> c_int {
    match guarded(password, entry, arg) {
        Ok(()) => LDAP_SUCCESS,
        Err(message) => {
            // SAFETY: slapd's message berval: `bv_len` writable bytes at `bv_val`.
            if let Some(bv) = unsafe { errmsg.as_mut() }.filter(|bv| !bv.bv_val.is_null()) {
                let room = usize::try_from(bv.bv_len).unwrap_or(0).saturating_sub(1);
                let text = fit(&message);
                let mut n = text.len().min(room);
                while !text.is_char_boundary(n) {
                    n -= 1;
                }
                // SAFETY: `n + 1` bytes fit in the buffer.
                unsafe {
                    std::ptr::copy_nonoverlapping(text.as_ptr(), bv.bv_val.cast::<u8>(), n);
                    *bv.bv_val.add(n) = 0;
                }
                bv.bv_len = n as std::ffi::c_ulong;
            }
            LDAP_CONSTRAINT_VIOLATION
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_is_cut_to_ppolicys_limit_at_a_character_boundary() {
        let long = "é".repeat(200);
        let cut = fit(&long);
        assert!(cut.len() <= MAX_MESSAGE && cut.len() == 254, "{}", cut.len());
        assert_eq!(fit("short"), "short");
    }
}
