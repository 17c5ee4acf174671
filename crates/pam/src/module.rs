//! `pam_sm_chauthtok`: what libpam calls for a `password` stack line.
#![allow(unsafe_code, reason = "the boundary with libpam: its handle, arguments and strings")]

use crate::ffi::{self, pam_handle_t};
use policyc_gate::point::{MISCONFIGURED_MESSAGE, Points, syslog_voice};
use policyc_runtime::Context;
use policyc_runtime::ir::Attribute;
use std::ffi::{CStr, CString, c_char, c_int};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::LazyLock;

/// One point per stack line: a daemon that changes passwords keeps its policy loaded.
static POINTS: LazyLock<Points> = LazyLock::new(Points::default);

/// The words the module reads itself (the rest are the gate's); `use_authtok` and
/// `authtok_type` are read by libpam's `pam_get_authtok`.
const OWN: &[&str] =
    &["retry", "enforce_for_root", "local_users_only", "use_authtok", "authtok_type", "debug"];

/// Changes of the authentication token: checks the new password.
///
/// # Safety
/// Called by libpam with its handle and the stack line's `argc` arguments.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pam_sm_chauthtok(
    pamh: *mut pam_handle_t,
    flags: c_int,
    argc: c_int,
    argv: *const *const c_char,
) -> c_int {
    if flags & ffi::PAM_PRELIM_CHECK != 0 {
        return ffi::PAM_SUCCESS;
    }
    // SAFETY: libpam passes `argc` NUL-terminated strings at `argv`.
    let args: Vec<&CStr> = (0..usize::try_from(argc).unwrap_or(0))
        .filter_map(|i| unsafe { argv.add(i).as_ref() }.filter(|p| !p.is_null()))
        .map(|&p| unsafe { CStr::from_ptr(p) })
        .collect();
    // A panic (a defect of ours) never unwinds into libpam: the change is refused.
    catch_unwind(AssertUnwindSafe(|| chauthtok(pamh, flags, &args))).unwrap_or(ffi::PAM_SYSTEM_ERR)
}

fn say(pamh: *mut pam_handle_t, text: &str) {
    let text = CString::new(text.replace('\0', " ")).unwrap_or_default();
    // SAFETY: a live handle, no response wanted, a "%s" format and one NUL-terminated string
    // for it: `pam_error(pamh, "%s", text)`.
    unsafe {
        ffi::pam_prompt(
            pamh,
            ffi::PAM_ERROR_MSG,
            std::ptr::null_mut(),
            c"%s".as_ptr(),
            text.as_ptr(),
        )
    };
}

fn chauthtok(pamh: *mut pam_handle_t, flags: c_int, args: &[&CStr]) -> c_int {
    let voice = || syslog_voice("pam_policyc");
    let Ok(words) = args.iter().map(|a| a.to_str()).collect::<Result<Vec<&str>, _>>() else {
        voice()(
            policyc_gate::point::Level::Error,
            "pam_policyc: an argument is not UTF-8; refusing every change",
        );
        say(pamh, MISCONFIGURED_MESSAGE);
        return ffi::PAM_SERVICE_ERR;
    };
    let has = |flag: &str| words.contains(&flag);
    let retry = words
        .iter()
        .filter_map(|w| w.strip_prefix("retry="))
        .filter_map(|n| n.parse::<u32>().ok())
        .next_back()
        .unwrap_or(1)
        .max(1);
    // SAFETY: getuid cannot fail.
    let root = unsafe { libc::getuid() } == 0;
    let enforcing =
        !root || has("enforce_for_root") || flags & ffi::PAM_CHANGE_EXPIRED_AUTHTOK != 0;
    // Root is warned, not refused (as pam_pwquality): the audit log says `would_refuse`.
    let line = match enforcing {
        true => words.join(" "),
        false => format!("{} mode=report", words.join(" ")),
    };
    let point = match POINTS.get("pam", &line, OWN, voice) {
        Ok(point) => point,
        Err(e) => {
            voice()(
                policyc_gate::point::Level::Error,
                &format!("pam_policyc: {e}; refusing every change"),
            );
            say(pamh, MISCONFIGURED_MESSAGE);
            return ffi::PAM_SERVICE_ERR;
        }
    };

    let mut user: *const c_char = std::ptr::null();
    // SAFETY: a live handle and an out-pointer libpam fills with a string it owns.
    let rc = unsafe { ffi::pam_get_user(pamh, &mut user, std::ptr::null()) };
    if rc != ffi::PAM_SUCCESS || user.is_null() {
        return if rc == ffi::PAM_SUCCESS { ffi::PAM_SERVICE_ERR } else { rc };
    }
    // SAFETY: libpam's NUL-terminated user name, alive for the call.
    let user_c = unsafe { CStr::from_ptr(user) };
    let name = user_c.to_string_lossy().into_owned();
    // SAFETY: a live handle and the user's name; NULL: /etc/passwd.
    let local = !has("local_users_only")
        || unsafe { ffi::pam_modutil_check_user_in_passwd(pamh, user, std::ptr::null()) }
            == ffi::PAM_SUCCESS;
    if !local {
        voice()(
            policyc_gate::point::Level::Info,
            &format!("pam_policyc: `{name}` is not in /etc/passwd: not checked (local_users_only)"),
        );
    }
    let ctx = context(user_c, &name);

    for _ in 0..retry {
        let mut token: *const c_char = std::ptr::null();
        // SAFETY: a live handle; libpam owns the token it returns.
        let rc = unsafe { ffi::pam_get_authtok_noverify(pamh, &mut token, std::ptr::null()) };
        if rc != ffi::PAM_SUCCESS {
            return rc;
        }
        if token.is_null() {
            return ffi::PAM_AUTHTOK_ERR;
        }
        if local {
            // SAFETY: libpam's NUL-terminated token, alive until it is set again; read in
            // place, never copied.
            let bytes = unsafe { CStr::from_ptr(token) };
            let decision = match bytes.to_str() {
                Ok(password) => point.decide(password, &ctx, Some(&name)),
                Err(_) => {
                    say(pamh, "BAD PASSWORD: The password is not valid UTF-8.");
                    clear(pamh);
                    continue;
                }
            };
            if !decision.message.is_empty() {
                say(pamh, &format!("BAD PASSWORD: {}", decision.message));
            }
            if !decision.accept {
                clear(pamh);
                continue;
            }
        }
        // SAFETY: as above: the retype prompt, compared by libpam.
        let rc = unsafe { ffi::pam_get_authtok_verify(pamh, &mut token, std::ptr::null()) };
        if rc != ffi::PAM_SUCCESS {
            clear(pamh);
            continue;
        }
        return ffi::PAM_SUCCESS;
    }
    if retry > 1 { ffi::PAM_MAXTRIES } else { ffi::PAM_AUTHTOK_ERR }
}

/// Forgets the refused token, so that the next try asks again.
fn clear(pamh: *mut pam_handle_t) {
    // SAFETY: a live handle; NULL clears the item.
    unsafe { ffi::pam_set_item(pamh, ffi::PAM_AUTHTOK, std::ptr::null()) };
}

/// The user's attributes: the login name and the GECOS full name (through NSS).
fn context(user: &CStr, name: &str) -> Context {
    let mut ctx = Context::new().with(Attribute::SamAccountName, name);
    if let Some(full) = gecos_name(user).filter(|n| !n.is_empty()) {
        ctx.add(Attribute::DisplayName, full);
    }
    ctx
}

/// The first field of the user's GECOS, if the user resolves.
fn gecos_name(user: &CStr) -> Option<String> {
    let mut buf = vec![0 as c_char; 16 * 1024];
    // SAFETY: zeroed is a valid `passwd` (pointers NULL) for getpwnam_r to fill.
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut found: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: the user's name, a buffer and its length, and out-pointers, as getpwnam_r takes.
    let rc = unsafe {
        libc::getpwnam_r(user.as_ptr(), &mut pwd, buf.as_mut_ptr(), buf.len(), &mut found)
    };
    if rc != 0 || found.is_null() || pwd.pw_gecos.is_null() {
        return None;
    }
    // SAFETY: getpwnam_r filled pw_gecos with a NUL-terminated string inside `buf`.
    let gecos = unsafe { CStr::from_ptr(pwd.pw_gecos) }.to_string_lossy();
    Some(gecos.split(',').next().unwrap_or("").trim().to_string())
}
