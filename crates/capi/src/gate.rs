//! The gate for C: the whole decision of an enforcement point (policy reloaded once it
//! verifies, the fail mode, audit before yes, syslog) behind one call, as the OpenLDAP and PAM
//! modules make it. Audit lines say `"source":"capi"`.
#![allow(unsafe_code, reason = "the boundary with C: exported, unmangled functions")]

use crate::error::{not_live, policyc_error, policyc_status, reported};
use crate::guard::guard;
use crate::handle::{self, Handle, Kind, Live};
use crate::text::{c_str, c_string, refused_free, utf8};
use crate::user::{context, policyc_user};
use ::policyc_gate::point::{Decision, EnforcementPoint, PointSettings, syslog_voice};
use std::ffi::{CString, c_char};

/// An enforcement point. Shared by threads; free with `policyc_gate_free`.
#[derive(Debug)]
pub struct policyc_gate {
    point: EnforcementPoint,
}

impl Handle for policyc_gate {
    const KIND: Kind = Kind::Gate;
}

/// A decision. Free with `policyc_decision_free`.
#[derive(Debug)]
pub struct policyc_decision {
    accepted: bool,
    outcome: CString,
    message: CString,
    problem: Option<CString>,
    rules: Vec<CString>,
}

impl Handle for policyc_decision {
    const KIND: Kind = Kind::Decision;
}

impl From<&Decision> for policyc_decision {
    fn from(d: &Decision) -> policyc_decision {
        policyc_decision {
            accepted: d.accept,
            outcome: c_string(d.outcome.as_str()),
            message: c_string(&d.message),
            problem: d.problem.as_deref().map(c_string),
            rules: d.rules.iter().map(|r| c_string(&r.rule)).collect(),
        }
    }
}

/// Opens a gate from `key=value` words separated by spaces (NULL: every default):
/// `policy=PATH` (default `/etc/policyc/policy.policyc`), `key=PATH` and `min_serial=N` (signed
/// policies only), `serials=DIR`, `audit=PATH|none` (default `/var/log/policyc/audit.jsonl`),
/// `fail=closed|open` (default closed), `mode=enforce|report`. The policy is loaded on the
/// first check, and again when its file changes and the new one verifies. NULL on bad
/// settings, with `*error` set.
#[unsafe(no_mangle)]
pub extern "C" fn policyc_gate_open(
    settings: *const c_char,
    error: *mut *mut policyc_error,
) -> *mut policyc_gate {
    let opened = reported(error, || {
        let words = c_str(settings, "settings")?.unwrap_or("");
        let (settings, _) =
            PointSettings::parse(words.split_ascii_whitespace(), &[]).map_err(|e| {
                policyc_error::new(policyc_status::POLICYC_ERROR_SETTINGS, e.to_string())
            })?;
        Ok(EnforcementPoint::new("capi", settings, syslog_voice("policyc")))
    });
    opened.map_or(std::ptr::null_mut(), |point| {
        guard(std::ptr::null_mut, || handle::give(policyc_gate { point }))
    })
}

/// Judges `len` bytes of UTF-8 at `password` for `user` (NULL: no attributes); `account`
/// (NUL-terminated, or NULL) is the name the audit line and syslog give. Never NULL: a call
/// that cannot be judged (a NULL or freed gate, invalid UTF-8) is refused, and says why in
/// `policyc_decision_problem`. Free it with `policyc_decision_free`.
#[unsafe(no_mangle)]
pub extern "C" fn policyc_gate_check(
    g: *const policyc_gate,
    password: *const c_char,
    len: usize,
    user: *const policyc_user,
    account: *const c_char,
) -> *mut policyc_decision {
    let refused = |why: &str| policyc_decision {
        accepted: false,
        outcome: c_string("error"),
        message: c_string(&format!("The password could not be checked: {why}.")),
        problem: Some(c_string(why)),
        rules: Vec::new(),
    };
    let decision = guard(
        || refused("internal error (caught)"),
        || {
            let live = Live::read();
            let decided = (|| {
                let g = live.get(g).ok_or_else(|| not_live("gate", "policyc_gate"))?;
                let ctx = context(&live, user)?;
                let account = c_str(account, "account")?;
                let password = utf8(password, len, "password")?;
                Ok(policyc_decision::from(&g.point.decide(password, &ctx, account)))
            })();
            decided.unwrap_or_else(|e: policyc_error| refused(&e.text().to_string_lossy()))
        },
    );
    guard(std::ptr::null_mut, || handle::give(decision))
}

/// Whether the change may go ahead (false for a pointer that is not a live decision).
#[unsafe(no_mangle)]
pub extern "C" fn policyc_decision_accepted(d: *const policyc_decision) -> bool {
    guard(|| false, || Live::read().get(d).is_some_and(|d| d.accepted))
}

/// Reads a string of a live decision (valid until it is freed); NULL otherwise.
fn read(
    d: *const policyc_decision,
    field: impl Fn(&policyc_decision) -> Option<&CString>,
) -> *const c_char {
    guard(std::ptr::null, || {
        Live::read().get(d).and_then(&field).map_or(std::ptr::null(), |s| s.as_ptr())
    })
}

/// The audit outcome: `accepted`, `rejected`, `would_refuse`, `rejected_no_policy`,
/// `accepted_unchecked`, `rejected_store_unavailable`, `accepted_store_unavailable`, `error`.
#[unsafe(no_mangle)]
pub extern "C" fn policyc_decision_outcome(d: *const policyc_decision) -> *const c_char {
    read(d, |d| Some(&d.outcome))
}

/// What the user is told: the violated rules' messages, or that the password could not be
/// checked; empty when accepted.
#[unsafe(no_mangle)]
pub extern "C" fn policyc_decision_message(d: *const policyc_decision) -> *const c_char {
    read(d, |d| Some(&d.message))
}

/// What went wrong, for the administrator (also in syslog and the audit log); NULL when nothing
/// did.
#[unsafe(no_mangle)]
pub extern "C" fn policyc_decision_problem(d: *const policyc_decision) -> *const c_char {
    read(d, |d| d.problem.as_ref())
}

/// How many rules the password violates.
#[unsafe(no_mangle)]
pub extern "C" fn policyc_decision_rule_count(d: *const policyc_decision) -> usize {
    guard(|| 0, || Live::read().get(d).map_or(0, |d| d.rules.len()))
}

/// The `i`th violated rule's id; NULL past the end.
#[unsafe(no_mangle)]
pub extern "C" fn policyc_decision_rule(d: *const policyc_decision, i: usize) -> *const c_char {
    read(d, |d| d.rules.get(i))
}

/// Frees a decision. NULL is ignored; a pointer that is not a live decision is refused.
#[unsafe(no_mangle)]
pub extern "C" fn policyc_decision_free(d: *mut policyc_decision) {
    guard(|| (), || refused_free(d.is_null() || handle::free(d), "policyc_decision_free"));
}

/// Frees a gate. NULL is ignored; a pointer that is not a live gate is refused.
#[unsafe(no_mangle)]
pub extern "C" fn policyc_gate_free(g: *mut policyc_gate) {
    guard(|| (), || refused_free(g.is_null() || handle::free(g), "policyc_gate_free"));
}
