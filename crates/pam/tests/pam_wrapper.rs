//! `pam_policyc.so` in a real PAM stack: libpam with pam_wrapper (service files in a temporary
//! directory, nothing in /etc/pam.d) driven by pypamtest, as the password change of `passwd`
//! would be. A missing package fails the test with the package to install; it never skips.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails by panicking"
)]

mod common;

use common::{PAM_AUTHTOK_ERR, PAM_SUCCESS, change, setup};
use std::path::PathBuf;

fn policy(name: &str) -> String {
    setup().dir.path().join(format!("{name}.policyc")).display().to_string()
}

fn audit(name: &str) -> PathBuf {
    setup().dir.path().join(format!("audit-{name}.jsonl"))
}

fn audit_lines(name: &str) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(audit(name)).unwrap();
    text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// office365 in a stack: a password it refuses fails the change with the rules' messages
/// shown as pam_pwquality shows its own; a compliant one is set (after the retype prompt);
/// each is recorded with `"source":"pam"`.
#[test]
fn the_module_refuses_with_the_rules_and_accepts_a_compliant_password() {
    let args = format!(
        "policy={} audit={} enforce_for_root",
        policy("office365"),
        audit("office365").display()
    );
    let refused = change("refuse", &args, "root", &["short"], PAM_AUTHTOK_ERR);
    assert_eq!(
        refused.errors,
        [
            "BAD PASSWORD: Use 8 to 256 characters. Use at least three of: lowercase letters, uppercase letters, digits, symbols."
        ],
    );
    let accepted = change("accept", &args, "root", &["Tr0ub4dor&3", "Tr0ub4dor&3"], PAM_SUCCESS);
    assert!(accepted.errors.is_empty(), "{:?}", accepted.errors);
    let lines = audit_lines("office365");
    let seen: Vec<(&str, &str)> = lines
        .iter()
        .map(|l| (l["source"].as_str().unwrap(), l["outcome"].as_str().unwrap()))
        .collect();
    assert_eq!(
        seen,
        [
            ("pam", "policy_loaded"),
            ("pam", "rejected"),
            ("pam", "policy_loaded"),
            ("pam", "accepted")
        ]
    );
    assert_eq!(lines[1]["account"], "root");
}

/// `retry=2`: the first refusal asks again, and the second try's compliant password is set.
#[test]
fn retry_asks_again_after_a_refusal() {
    let args = format!("policy={} audit=none retry=2 enforce_for_root", policy("office365"));
    let c = change("retry", &args, "root", &["short", "Tr0ub4dor&3", "Tr0ub4dor&3"], PAM_SUCCESS);
    assert_eq!(c.errors.len(), 1, "{:?}", c.errors);
    let c = change("retry-out", &args, "root", &["short", "password"], 11);
    assert_eq!(c.errors.len(), 2, "PAM_MAXTRIES after two refusals: {:?}", c.errors);
}

/// Root without `enforce_for_root` is warned, not refused (as pam_pwquality); the audit log
/// says `would_refuse`.
#[test]
fn root_is_warned_not_refused_unless_enforced() {
    let args = format!("policy={} audit={}", policy("office365"), audit("root").display());
    let c = change("root", &args, "root", &["short", "short"], PAM_SUCCESS);
    assert_eq!(c.errors.len(), 1, "{:?}", c.errors);
    assert!(c.errors[0].starts_with("BAD PASSWORD: Use 8 to 256"), "{:?}", c.errors);
    assert_eq!(audit_lines("root").last().unwrap()["outcome"], "would_refuse");
}

/// The user's name and GECOS name are attributes (ad-default refuses a password holding
/// them); Entra's banned-word scoring works in the stack too.
#[test]
fn user_attributes_and_the_entra_policy_work_in_a_stack() {
    let args = format!("policy={} audit=none enforce_for_root", policy("ad-default"));
    let c = change("names", &args, "root", &["Xroot-2024!"], PAM_AUTHTOK_ERR);
    assert!(c.errors[0].contains("Do not use your account name"), "{:?}", c.errors);
    let args =
        format!("policy={} audit=none enforce_for_root", policy("entra-password-protection"));
    let c = change("entra", &args, "root", &["Password123!"], PAM_AUTHTOK_ERR);
    assert!(c.errors[0].starts_with("BAD PASSWORD: "), "{:?}", c.errors);
    change(
        "entra-ok",
        &args,
        "root",
        &["correct-horse-battery-staple-9", "correct-horse-battery-staple-9"],
        PAM_SUCCESS,
    );
}

/// No policy: refused under the default fail-closed with a message for the user and
/// `rejected_no_policy` in the audit log; bad settings refuse every change.
#[test]
fn without_a_policy_the_change_is_refused_and_bad_settings_refuse_everything() {
    let missing = setup().dir.path().join("missing.policyc");
    let args = format!(
        "policy={} audit={} enforce_for_root",
        missing.display(),
        audit("missing").display()
    );
    let c = change("missing", &args, "root", &["Tr0ub4dor&3"], PAM_AUTHTOK_ERR);
    assert_eq!(
        c.errors,
        [
            "BAD PASSWORD: The password could not be checked: the password policy is unavailable; contact your administrator."
        ]
    );
    let lines = audit_lines("missing");
    assert_eq!(lines.last().unwrap()["outcome"], "rejected_no_policy");
    assert_eq!(lines.last().unwrap()["source"], "pam");
    let c = change("bad", "fail=sometimes", "root", &["Tr0ub4dor&3", "Tr0ub4dor&3"], 3);
    assert_eq!(
        c.errors,
        [
            "The password could not be checked: the password policy module is misconfigured; contact your administrator."
        ],
        "the user is told, not only syslog"
    );
}

/// `local_users_only`: a user outside /etc/passwd (a directory user) is not checked; a local one
/// is.
#[test]
fn local_users_only_leaves_directory_users_unchecked() {
    let args =
        format!("policy={} audit=none enforce_for_root local_users_only", policy("office365"));
    change("nonlocal", &args, "policyc-directory-user", &["short", "short"], PAM_SUCCESS);
    change("local", &args, "root", &["short"], PAM_AUTHTOK_ERR);
}
