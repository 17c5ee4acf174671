//! `pam_policyc.so`: the password module of a PAM stack, enforcing a compiled policyc policy
//! the way `pam_pwquality` enforces its rules: `PAM_PRELIM_CHECK` succeeds; on
//! `PAM_UPDATE_AUTHTOK` the new password is read with `pam_get_authtok` (which honours
//! `use_authtok`), judged by policyc's gate (verified reload, fail mode, audit before yes,
//! syslog), a refusal shown with `pam_error` and the rules' messages, `retry=N` times; root is
//! warned but not refused unless `enforce_for_root`; `local_users_only` skips users not in
//! `/etc/passwd`. The user's name and GECOS full name are the policy's user attributes.
//!
//! Arguments: the gate's `key=value` words (`policy=`, `key=`, `min_serial=`, `serials=`,
//! `audit=`, `fail=`, `mode=`), and `retry=N`, `enforce_for_root`, `local_users_only`,
//! `use_authtok`, `authtok_type=` (the last two read by libpam itself).

mod ffi;
mod module;
