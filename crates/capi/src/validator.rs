//! The validator: load a policy artifact, check passwords, read verdicts, explain.
#![allow(unsafe_code, reason = "the boundary with C: exported, unmangled functions")]

use crate::error::{internal, not_live, policyc_error, policyc_status, reported};
use crate::guard::guard;
use crate::handle::{self, Handle, Kind, Live};
use crate::text::{c_str, c_string, refused_free, utf8};
use crate::user::{context, policyc_user};
use ::policyc_gate::policy_file::{PolicyError, Trust, load_policy};
use ::policyc_gate::signing::PublicKey;
use policyc_runtime::Validator;
use policyc_runtime::ir::Severity;
use policyc_runtime::runtime::words::Versioned;
use std::ffi::{CString, c_char};
use std::path::Path;

/// A loaded policy. Shared by threads; free with `policyc_validator_free`.
#[derive(Debug)]
pub struct policyc_validator {
    validator: Validator,
}

impl Handle for policyc_validator {
    const KIND: Kind = Kind::Validator;
}

/// A violation's severity.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum policyc_severity {
    /// The rule refuses the password.
    POLICYC_SEVERITY_ENFORCE = 0,
    /// The rule is reported only.
    POLICYC_SEVERITY_AUDIT = 1,
}

/// One violated rule, copied out of the policy (a verdict outlives its validator).
#[derive(Debug)]
struct Said {
    rule: CString,
    message: CString,
    severity: policyc_severity,
}

/// The result of one check. Free with `policyc_verdict_free`.
#[derive(Debug)]
pub struct policyc_verdict {
    compliant: bool,
    violations: Vec<Said>,
    /// Why the check could not be made, if it could not (then it is not compliant): a
    /// registered error the verdict owns, so `policyc_error_code` and `policyc_error_message`
    /// read it as any other.
    error: *mut policyc_error,
}

// SAFETY: the error pointer is owned by the verdict (registered, freed with it) and points at
// data that is itself `Send` and `Sync`.
unsafe impl Send for policyc_verdict {}
unsafe impl Sync for policyc_verdict {}

impl Drop for policyc_verdict {
    fn drop(&mut self) {
        if !self.error.is_null() {
            handle::free(self.error);
        }
    }
}

impl Handle for policyc_verdict {
    const KIND: Kind = Kind::Verdict;
}

/// The rule id of the violation a check that could not be made reports.
const INPUT_INVALID: &str = "input_invalid";

impl policyc_verdict {
    /// The verdict of a check that could not be made: not compliant, one violation saying so.
    fn unchecked(error: policyc_error) -> policyc_verdict {
        let message =
            format!("The password could not be checked: {}.", error.text().to_string_lossy());
        policyc_verdict {
            compliant: false,
            violations: vec![Said {
                rule: c_string(INPUT_INVALID),
                message: c_string(&message),
                severity: policyc_severity::POLICYC_SEVERITY_ENFORCE,
            }],
            error: handle::give(error),
        }
    }
}

fn severity(s: Severity) -> policyc_severity {
    match s {
        Severity::Audit => policyc_severity::POLICYC_SEVERITY_AUDIT,
        _ => policyc_severity::POLICYC_SEVERITY_ENFORCE,
    }
}

/// The library's version and the artifact formats it reads, e.g.
/// `policyc 0.1.0 (artifact formats 5 to 9)`. A static string: never freed.
#[unsafe(no_mangle)]
pub extern "C" fn policyc_version() -> *const c_char {
    static VERSION: std::sync::LazyLock<CString> = std::sync::LazyLock::new(|| {
        c_string(&policyc_runtime::artifact::version_line(env!("CARGO_PKG_VERSION")))
    });
    guard(std::ptr::null, || VERSION.as_ptr())
}

fn policy_error(e: &PolicyError) -> policyc_error {
    let code = match e {
        PolicyError::Invalid { .. } => policyc_status::POLICYC_ERROR_POLICY,
        PolicyError::Io { .. } | PolicyError::File(_) | PolicyError::TooLarge(_) => {
            policyc_status::POLICYC_ERROR_FILE
        }
        _ => policyc_status::POLICYC_ERROR_TRUST,
    };
    policyc_error::new(code, e.to_string())
}

/// Hands out what a call loaded, or NULL (its error reported).
fn given(loaded: Result<Validator, policyc_status>) -> *mut policyc_validator {
    loaded.map_or(std::ptr::null_mut(), |validator| {
        guard(std::ptr::null_mut, || handle::give(policyc_validator { validator }))
    })
}

/// Loads the compiled policy at `path` (a NUL-terminated UTF-8 path): a regular file of root's
/// or this user's that nobody else may write, not a symlink, its checksum verified. NULL on
/// failure, with `*error` set (if `error` is not NULL; free it with `policyc_error_free`).
#[unsafe(no_mangle)]
pub extern "C" fn policyc_validator_open(
    path: *const c_char,
    error: *mut *mut policyc_error,
) -> *mut policyc_validator {
    policyc_validator_open_signed(path, std::ptr::null(), 0, error)
}

/// As `policyc_validator_open`, and the policy is used only if signed by the Ed25519 public key
/// in the file `public_key` (NULL: unsigned policies too) with a serial of at least
/// `min_serial` (0: any).
#[unsafe(no_mangle)]
pub extern "C" fn policyc_validator_open_signed(
    path: *const c_char,
    public_key: *const c_char,
    min_serial: u64,
    error: *mut *mut policyc_error,
) -> *mut policyc_validator {
    given(reported(error, || {
        let Some(path) = c_str(path, "policy path")? else {
            return Err(policyc_error::new(
                policyc_status::POLICYC_ERROR_ARGUMENT,
                "the policy path is NULL",
            ));
        };
        let key = c_str(public_key, "public key path")?;
        let key = key.map(|k| PublicKey::from_file(Path::new(k))).transpose();
        let key = key.map_err(|e| policy_error(&PolicyError::from(e)))?;
        let trust = Trust { key, min_serial, serials: None, record: false };
        load_policy(Path::new(path), &trust).map_err(|e| policy_error(&e))
    }))
}

/// Loads a compiled policy from `len` bytes at `bytes` (copied; the caller keeps its buffer),
/// its checksum verified. NULL on failure, with `*error` set.
#[unsafe(no_mangle)]
pub extern "C" fn policyc_validator_open_bytes(
    bytes: *const u8,
    len: usize,
    error: *mut *mut policyc_error,
) -> *mut policyc_validator {
    given(reported(error, || {
        let bytes = crate::text::bytes(bytes, len, "policy")?;
        Validator::from_bytes(bytes)
            .map_err(|e| policyc_error::new(policyc_status::POLICYC_ERROR_POLICY, e.to_string()))
    }))
}

/// Frees a validator (verdicts it gave stay valid). NULL is ignored; a pointer that is not a
/// live validator is refused.
#[unsafe(no_mangle)]
pub extern "C" fn policyc_validator_free(v: *mut policyc_validator) {
    guard(|| (), || refused_free(v.is_null() || handle::free(v), "policyc_validator_free"));
}

/// Checks `len` bytes of UTF-8 at `password` (read in place, never copied) for `user` (NULL: no
/// attributes). Never NULL: a check that cannot be made (a NULL or freed validator, invalid
/// UTF-8) gives a verdict that is not compliant, with one violation `input_invalid` saying why
/// and `policyc_verdict_error` set. Free it with `policyc_verdict_free`.
#[unsafe(no_mangle)]
pub extern "C" fn policyc_check(
    v: *const policyc_validator,
    password: *const c_char,
    len: usize,
    user: *const policyc_user,
) -> *mut policyc_verdict {
    let verdict = guard(
        || policyc_verdict::unchecked(internal()),
        || {
            let checked = (|| {
                // Released before the verdict is handed out (that takes the write lock).
                let live = Live::read();
                let v = live.get(v).ok_or_else(|| not_live("validator", "policyc_validator"))?;
                let ctx = context(&live, user)?;
                let password = utf8(password, len, "password")?;
                let verdict = v.validator.check(password, &ctx);
                let violations = verdict
                    .violations()
                    .iter()
                    .map(|x| Said {
                        rule: c_string(x.rule()),
                        message: c_string(x.message()),
                        severity: severity(x.severity()),
                    })
                    .collect();
                Ok(policyc_verdict {
                    compliant: verdict.is_compliant(),
                    violations,
                    error: std::ptr::null_mut(),
                })
            })();
            checked.unwrap_or_else(policyc_verdict::unchecked)
        },
    );
    guard(std::ptr::null_mut, || handle::give(verdict))
}

/// Whether the password may be set (false for a pointer that is not a live verdict).
#[unsafe(no_mangle)]
pub extern "C" fn policyc_verdict_compliant(r: *const policyc_verdict) -> bool {
    guard(|| false, || Live::read().get(r).is_some_and(|r| r.compliant))
}

/// How many rules the password violates (enforce and audit; 0 for a pointer that is not a live
/// verdict).
#[unsafe(no_mangle)]
pub extern "C" fn policyc_verdict_violation_count(r: *const policyc_verdict) -> usize {
    guard(|| 0, || Live::read().get(r).map_or(0, |r| r.violations.len()))
}

/// The reads of one violation: NULL past the end or for a pointer that is not a live verdict.
fn said<T>(r: *const policyc_verdict, i: usize, read: impl Fn(&Said) -> T, none: fn() -> T) -> T {
    guard(none, || Live::read().get(r).and_then(|r| r.violations.get(i)).map_or_else(none, &read))
}

/// The `i`th violation's rule id (valid until the verdict is freed); NULL past the end.
#[unsafe(no_mangle)]
pub extern "C" fn policyc_verdict_violation_rule(
    r: *const policyc_verdict,
    i: usize,
) -> *const c_char {
    said(r, i, |s| s.rule.as_ptr(), std::ptr::null)
}

/// The `i`th violation's message for the user (valid until the verdict is freed); NULL past
/// the end.
#[unsafe(no_mangle)]
pub extern "C" fn policyc_verdict_violation_message(
    r: *const policyc_verdict,
    i: usize,
) -> *const c_char {
    said(r, i, |s| s.message.as_ptr(), std::ptr::null)
}

/// The `i`th violation's severity (`POLICYC_SEVERITY_ENFORCE` past the end).
#[unsafe(no_mangle)]
pub extern "C" fn policyc_verdict_violation_severity(
    r: *const policyc_verdict,
    i: usize,
) -> policyc_severity {
    said(r, i, |s| s.severity, || policyc_severity::POLICYC_SEVERITY_ENFORCE)
}

/// Why the check could not be made (valid until the verdict is freed), or NULL when it was made.
#[unsafe(no_mangle)]
pub extern "C" fn policyc_verdict_error(r: *const policyc_verdict) -> *const policyc_error {
    guard(std::ptr::null, || {
        let live = Live::read();
        live.get(r).map_or(std::ptr::null(), |r| r.error.cast_const())
    })
}

/// Frees a verdict. NULL is ignored; a pointer that is not a live verdict is refused.
#[unsafe(no_mangle)]
pub extern "C" fn policyc_verdict_free(r: *mut policyc_verdict) {
    guard(|| (), || refused_free(r.is_null() || handle::free(r), "policyc_verdict_free"));
}

/// Every rule, pass or fail, why, and how to fix it, as the JSON `policyc explain --format
/// json` writes (`{"schema": 1, "policy": …, "compliant": …, "rules": [{"rule", "severity",
/// "outcome", "message", "explanation"}]}`). Never the password. NULL on failure, with `*error`
/// set. Free it with `policyc_string_free`.
#[unsafe(no_mangle)]
pub extern "C" fn policyc_explain_json(
    v: *const policyc_validator,
    password: *const c_char,
    len: usize,
    user: *const policyc_user,
    error: *mut *mut policyc_error,
) -> *mut c_char {
    let json = reported(error, || {
        let live = Live::read();
        let v = live.get(v).ok_or_else(|| not_live("validator", "policyc_validator"))?;
        let ctx = context(&live, user)?;
        let password = utf8(password, len, "password")?;
        let explanation = v.validator.explain(password, &ctx);
        let name = &v.validator.program().name;
        let report = policyc_runtime::runtime::words::json(name, &explanation);
        serde_json::to_string(&Versioned { schema: 1, body: &report })
            .map_err(|e| policyc_error::new(policyc_status::POLICYC_ERROR_INTERNAL, e.to_string()))
    });
    json.map_or(std::ptr::null_mut(), |text| {
        guard(std::ptr::null_mut, || handle::give_string(c_string(&text)))
    })
}

/// Frees a string the library returned. NULL is ignored; any other pointer is refused.
#[unsafe(no_mangle)]
pub extern "C" fn policyc_string_free(s: *mut c_char) {
    guard(|| (), || refused_free(s.is_null() || handle::free_string(s), "policyc_string_free"));
}
