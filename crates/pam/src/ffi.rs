//! The few functions of libpam (Linux-PAM's `security/pam_ext.h`, `pam_modutil.h`) the module
//! calls, declared by hand: no crate covers `pam_get_authtok_noverify` and its kin.
#![allow(unsafe_code, reason = "the boundary with libpam")]
#![allow(non_camel_case_types, reason = "libpam's names")]

use std::ffi::{c_char, c_int, c_void};

/// libpam's handle.
#[repr(C)]
pub(crate) struct pam_handle_t {
    _private: [u8; 0],
}

pub(crate) const PAM_SUCCESS: c_int = 0;
pub(crate) const PAM_SERVICE_ERR: c_int = 3;
pub(crate) const PAM_SYSTEM_ERR: c_int = 4;
pub(crate) const PAM_MAXTRIES: c_int = 11;
pub(crate) const PAM_AUTHTOK_ERR: c_int = 20;
pub(crate) const PAM_AUTHTOK: c_int = 6;
pub(crate) const PAM_ERROR_MSG: c_int = 3;
pub(crate) const PAM_PRELIM_CHECK: c_int = 0x4000;
pub(crate) const PAM_CHANGE_EXPIRED_AUTHTOK: c_int = 0x0020;

#[link(name = "pam")]
unsafe extern "C" {
    pub(crate) fn pam_get_user(
        pamh: *mut pam_handle_t,
        user: *mut *const c_char,
        prompt: *const c_char,
    ) -> c_int;
    pub(crate) fn pam_get_authtok_noverify(
        pamh: *mut pam_handle_t,
        authtok: *mut *const c_char,
        prompt: *const c_char,
    ) -> c_int;
    pub(crate) fn pam_get_authtok_verify(
        pamh: *mut pam_handle_t,
        authtok: *mut *const c_char,
        prompt: *const c_char,
    ) -> c_int;
    pub(crate) fn pam_set_item(
        pamh: *mut pam_handle_t,
        item_type: c_int,
        item: *const c_void,
    ) -> c_int;
    /// `pam_error(pamh, fmt, ...)` is a macro for this with `PAM_ERROR_MSG`.
    pub(crate) fn pam_prompt(
        pamh: *mut pam_handle_t,
        style: c_int,
        response: *mut *mut c_char,
        fmt: *const c_char,
        ...
    ) -> c_int;
    pub(crate) fn pam_modutil_check_user_in_passwd(
        pamh: *mut pam_handle_t,
        user: *const c_char,
        file: *const c_char,
    ) -> c_int;
}
