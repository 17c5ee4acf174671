//! The Samba hook through the real binary: Samba's contract (stdin, SAMBA_CPS_*, exit code),
//! the audit log, fail-closed and fail-open, and the sealed queue.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails by panicking"
)]

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

struct Run {
    code: i32,
    stderr: String,
}

fn hook(dir: &Path, policy: &Path, password: &[u8], env: &[(&str, &str)], extra: &[&str]) -> Run {
    let mut args: Vec<std::ffi::OsString> = vec!["--policy".into(), policy.into()];
    args.extend(["--queue".into(), dir.join("queue").into()]);
    args.extend(["--audit-log".into(), dir.join("audit.jsonl").into()]);
    args.extend(extra.iter().map(Into::into));
    run_hook(&args, password, env)
}

/// The hook with `--config`: the agent's file in `dir`, with the directory double beside it.
fn hook_with_config(dir: &Path, password: &[u8], env: &[(&str, &str)], extra: &[&str]) -> Run {
    let mut args: Vec<std::ffi::OsString> = vec!["--config".into(), dir.join("agent.yaml").into()];
    args.extend(extra.iter().map(Into::into));
    run_hook(&args, password, env)
}

/// `policyc hook samba ARGS` with the password on stdin and only these SAMBA_CPS_* variables.
fn run_hook(args: &[std::ffi::OsString], password: &[u8], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_policyc"));
    cmd.args(["hook", "samba"])
        .args(args)
        .env_remove("SAMBA_CPS_ACCOUNT_NAME")
        .env_remove("SAMBA_CPS_USER_PRINCIPAL_NAME")
        .env_remove("SAMBA_CPS_FULL_NAME")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    // The hook may stop reading early (oversized input): a broken pipe is fine.
    let _ = child.stdin.take().unwrap().write_all(password);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    Run { code: out.status.code().unwrap_or(-1), stderr }
}

const ALICE: &[(&str, &str)] = &[
    ("SAMBA_CPS_ACCOUNT_NAME", "alice"),
    ("SAMBA_CPS_USER_PRINCIPAL_NAME", "alice@cpstest.lan"),
    ("SAMBA_CPS_FULL_NAME", "Alice Smith"),
];

fn artifact(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("o365.policyc");
    let c = policyc::compile_path("policies/office365.policy", &policyc::CompileOptions::default())
        .unwrap();
    std::fs::write(&path, c.artifact).unwrap();
    path
}

fn audit(dir: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(dir.join("audit.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn pending(dir: &Path) -> usize {
    std::fs::read_dir(dir.join("queue/pending")).map_or(0, |d| d.count())
}

fn files_contain(dir: &Path, needle: &str) -> bool {
    fn walk(dir: &Path, needle: &str) -> bool {
        std::fs::read_dir(dir).unwrap().any(|e| {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, needle)
            } else {
                String::from_utf8_lossy(&std::fs::read(&p).unwrap()).contains(needle)
            }
        })
    }
    walk(dir, needle)
}

#[test]
fn accepts_queues_and_audits_a_compliant_reset() {
    let dir = tempfile::tempdir().unwrap();
    let policy = artifact(dir.path());
    let r = hook(dir.path(), &policy, b"Canary-Good-Passw0rd", ALICE, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(pending(dir.path()), 1);
    let a = audit(dir.path());
    assert_eq!(a[0]["outcome"], "accepted");
    assert_eq!(a[0]["account"], "alice");
    assert_eq!(a[0]["user"], "alice@cpstest.lan");
    assert!(!files_contain(dir.path(), "Canary-Good-Passw0rd"), "cleartext on disk");
}

#[test]
fn refuses_a_noncompliant_reset_with_its_rules() {
    let dir = tempfile::tempdir().unwrap();
    let policy = artifact(dir.path());
    for pw in ["Résumé12", "Short1!", "Tab\there1"] {
        let r = hook(dir.path(), &policy, pw.as_bytes(), ALICE, &[]);
        assert_eq!(r.code, 1, "{pw:?} must be refused");
        assert!(r.stderr.contains("refused password change for `alice`"), "{}", r.stderr);
        assert!(!r.stderr.contains(pw));
    }
    let a = audit(dir.path());
    assert_eq!(a.len(), 3);
    assert_eq!(a[0]["rules"], serde_json::json!(["charset"]));
    assert_eq!(a[1]["rules"], serde_json::json!(["length"]));
    assert_eq!(a[2]["rules"], serde_json::json!(["charset"]));
    assert_eq!(pending(dir.path()), 0, "refused changes are never queued");
    assert!(!files_contain(dir.path(), "Résumé12"));
}

#[test]
fn fails_closed_by_default_and_open_when_told() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.policyc");
    let r = hook(dir.path(), &missing, b"Canary-Passw0rd-1", ALICE, &[]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("POLICY UNAVAILABLE") && r.stderr.contains("FAIL-CLOSED"),
        "{}",
        r.stderr
    );
    let r = hook(dir.path(), &missing, b"Canary-Passw0rd-2", ALICE, &["--fail-open"]);
    assert_eq!(r.code, 0);
    assert!(r.stderr.contains("FAIL-OPEN"), "{}", r.stderr);
    let a = audit(dir.path());
    assert_eq!(a[0]["outcome"], "rejected_no_policy");
    assert_eq!(a[1]["outcome"], "accepted_unchecked");
    assert_eq!(pending(dir.path()), 1, "fail-open still queues; the agent re-validates");
    // A corrupted artifact is no better than a missing one.
    let bad = dir.path().join("bad.policyc");
    std::fs::write(&bad, b"POLICYC\0truncated").unwrap();
    assert_eq!(hook(dir.path(), &bad, b"Canary-Passw0rd-3", ALICE, &[]).code, 1);
}

/// The hook maps its policy and checks the term lists' blocks as the check reads them: a
/// damaged block found then is a damaged policy, refused (fail closed) or accepted unchecked
/// (fail open), loudly, like one refused at load.
#[test]
fn a_trie_block_found_damaged_while_checking_fails_as_a_damaged_policy() {
    let dir = tempfile::tempdir().unwrap();
    let source = "policy p {\n  terms banned = [\"contoso\", \"summer\", \"winter\"]\n  rule banned \"No banned word.\" : avoid banned contains after entra\n}\n";
    let c = policyc::compile_str("p.policy", source, &policyc::CompileOptions::default()).unwrap();
    let mut bytes = c.artifact;
    let words = policyc_runtime::artifact::HEADER_LEN
        + u64::from_le_bytes(bytes[56..64].try_into().unwrap()) as usize;
    bytes[words + 4] ^= 0x01; // the root's edge offsets: read by every term search
    let bad = dir.path().join("terms.policyc");
    std::fs::write(&bad, bytes).unwrap();
    let r = hook(dir.path(), &bad, b"Canary-Xq7#vLm2$pT9", ALICE, &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains(
            "POLICY UNAVAILABLE (artifact is corrupted: trie block 0 does not match its checksum); FAIL-CLOSED"
        ),
        "{}",
        r.stderr
    );
    let r = hook(dir.path(), &bad, b"Canary-Xq7#vLm2$pT9", ALICE, &["--fail-open"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("FAIL-OPEN"), "{}", r.stderr);
    let a = audit(dir.path());
    assert_eq!(a[0]["outcome"], "rejected_no_policy");
    assert_eq!(a[1]["outcome"], "accepted_unchecked");
    assert!(a[0]["detail"].as_str().unwrap().contains("trie block 0"), "{}", a[0]);
    assert!(!files_contain(dir.path(), "Canary-Xq7"), "cleartext on disk");
}

#[test]
fn refuses_what_it_cannot_judge() {
    let dir = tempfile::tempdir().unwrap();
    let policy = artifact(dir.path());
    let r = hook(dir.path(), &policy, b"Good-Passw0rd", &[], &[]);
    assert_eq!(r.code, 1, "no account name: not called by Samba");
    assert!(r.stderr.contains("SAMBA_CPS_ACCOUNT_NAME"));
    let r = hook(dir.path(), &policy, b"Good-\xff\xfe-Passw0rd", ALICE, &[]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("not valid UTF-8"));
    let r = hook(dir.path(), &policy, &vec![b'a'; 1 << 20], ALICE, &[]);
    assert_eq!(r.code, 1);
    assert_eq!(pending(dir.path()), 0);
}

const ADMINS: &str = "CN=Domain Admins,CN=Users,DC=corp,DC=example";

fn group_policy(dir: &Path, users: &str) {
    let source = format!(
        "import \"{}/policies/office365.policy\"\npolicy corp extends office365 {{\n  when user.memberOf has \"cn=domain admins, cn=users, dc=corp, dc=example\" {{\n    rule admins \"Administrators need 14 characters.\" : length >= 14\n  }}\n}}\n",
        env!("CARGO_MANIFEST_DIR")
    );
    let c =
        policyc::compile_str("corp.policy", &source, &policyc::CompileOptions::default()).unwrap();
    std::fs::write(dir.join("corp.policyc"), c.artifact).unwrap();
    let yaml = format!(
        "policy: {d}/corp.policyc\nqueue: {d}/queue\naudit_log: {d}/audit.jsonl\ndirectory: {{kind: file, path: {d}/directory.json}}\n{users}\ngraph: {{base_url: 'https://graph.microsoft.com', token_url: 'https://login.microsoftonline.com/t/oauth2/v2.0/token', client_id: x, client_secret: y}}\n",
        d = dir.display()
    );
    std::fs::write(dir.join("agent.yaml"), yaml).unwrap();
}

#[test]
fn group_rules_apply_at_the_hook_with_groups_from_the_directory() {
    use policyc_agent::directory::DirectoryDouble;
    use policyc_runtime::ir::Attribute;
    let dir = tempfile::tempdir().unwrap();
    group_policy(dir.path(), "");
    let directory = DirectoryDouble::new(dir.path().join("directory.json"));
    directory.set_attribute("admin", Attribute::MemberOf, &[ADMINS]).unwrap();
    directory
        .set_attribute("alice", Attribute::MemberOf, &["CN=Staff,DC=corp,DC=example"])
        .unwrap();
    let admin = [
        ("SAMBA_CPS_ACCOUNT_NAME", "admin"),
        ("SAMBA_CPS_USER_PRINCIPAL_NAME", "admin@corp.example"),
    ];
    let r = hook_with_config(dir.path(), b"Short-Pass12", &admin, &[]);
    assert_eq!(r.code, 1, "a 12-character password for a Domain Admin: {}", r.stderr);
    assert!(r.stderr.contains("admins"), "{}", r.stderr);
    let r = hook_with_config(dir.path(), b"Short-Pass12", ALICE, &[]);
    assert_eq!(r.code, 0, "the same password for a non-member: {}", r.stderr);
    let a = audit(dir.path());
    assert_eq!(a[0]["rules"], serde_json::json!(["admins"]));
    assert_eq!(a[1]["outcome"], "accepted");
    // A directory that cannot be read refuses (fail closed), or checks without it (fail open).
    std::fs::write(dir.path().join("directory.json"), b"{ not json").unwrap();
    let r = hook_with_config(dir.path(), b"Long-Enough-Pass12", &admin, &[]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("DIRECTORY LOOKUP FAILED") && r.stderr.contains("FAIL-CLOSED"),
        "{}",
        r.stderr
    );
    let r = hook_with_config(dir.path(), b"Long-Enough-Pass12", &admin, &["--fail-open"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("FAIL-OPEN"), "{}", r.stderr);
    let a = audit(dir.path());
    assert_eq!(a[2]["outcome"], "rejected_lookup_failed");
    assert_eq!(a[3]["outcome"], "accepted_lookup_failed");
    assert_eq!(pending(dir.path()), 2, "alice's and the fail-open change");
}

#[test]
fn a_policy_that_needs_the_directory_without_one_is_refused_loudly() {
    let dir = tempfile::tempdir().unwrap();
    group_policy(dir.path(), "");
    let r = hook(dir.path(), &dir.path().join("corp.policyc"), b"Long-Enough-Pass12", ALICE, &[]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("POLICY UNUSABLE") && r.stderr.contains("memberOf"), "{}", r.stderr);
    assert_eq!(audit(dir.path())[0]["outcome"], "rejected_no_policy");
}

#[test]
fn an_account_without_a_cloud_user_is_accepted_and_recorded_not_synced() {
    use policyc_agent::directory::DirectoryDouble;
    use policyc_runtime::ir::Attribute;
    let dir = tempfile::tempdir().unwrap();
    let users = "users:\n  cloud_id: userPrincipalName\n  upn_suffix: {from: corp.example, to: contoso.com}\n  exclude_groups: ['CN=No Sync,DC=corp,DC=example']\n";
    group_policy(dir.path(), users);
    let directory = DirectoryDouble::new(dir.path().join("directory.json"));
    directory
        .set_attribute("eve", Attribute::MemberOf, &["CN=No Sync, DC=corp, DC=example"])
        .unwrap();
    let no_upn = [("SAMBA_CPS_ACCOUNT_NAME", "svc")];
    let r = hook_with_config(dir.path(), b"Long-Enough-Pass12", &no_upn, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("not synced"), "{}", r.stderr);
    let eve =
        [("SAMBA_CPS_ACCOUNT_NAME", "eve"), ("SAMBA_CPS_USER_PRINCIPAL_NAME", "eve@corp.example")];
    assert_eq!(hook_with_config(dir.path(), b"Long-Enough-Pass12", &eve, &[]).code, 0);
    let bob =
        [("SAMBA_CPS_ACCOUNT_NAME", "bob"), ("SAMBA_CPS_USER_PRINCIPAL_NAME", "bob@corp.example")];
    assert_eq!(hook_with_config(dir.path(), b"Long-Enough-Pass12", &bob, &[]).code, 0);
    let a = audit(dir.path());
    assert_eq!(a[0]["outcome"], "not_synced");
    assert!(a[0]["detail"].as_str().unwrap().contains("no userPrincipalName"));
    assert_eq!(a[1]["outcome"], "not_synced");
    assert!(a[1]["detail"].as_str().unwrap().contains("excluded group"));
    assert_eq!(a[2]["outcome"], "accepted");
    assert_eq!(a[2]["user"], "bob@contoso.com", "the UPN suffix is rewritten");
    assert_eq!(pending(dir.path()), 1, "only bob's change is queued");
}

#[test]
fn hooks_starting_together_on_a_fresh_queue_share_one_key() {
    let dir = tempfile::tempdir().unwrap();
    let policy = artifact(dir.path());
    let runs: Vec<_> = (0..12)
        .map(|i| {
            let (d, p) = (dir.path().to_path_buf(), policy.clone());
            std::thread::spawn(move || {
                let account = format!("user{i}");
                let env = [
                    ("SAMBA_CPS_ACCOUNT_NAME", account.as_str()),
                    ("SAMBA_CPS_USER_PRINCIPAL_NAME", "u@x"),
                ];
                hook(&d, &p, format!("Canary-Race-{i}-Xy9!").as_bytes(), &env, &[])
            })
        })
        .collect();
    for r in runs {
        let r = r.join().unwrap();
        assert_eq!(r.code, 0, "a compliant password was refused: {}", r.stderr);
    }
    let queue =
        policyc_gate::queue::Queue::open(&dir.path().join("queue"), &dir.path().join("queue/key"))
            .unwrap();
    let (changes, damaged) = queue.pending().unwrap();
    assert_eq!((changes.len(), damaged.len()), (12, 0));
    for c in &changes {
        queue.password(c).expect("every change opens with the one key");
    }
}

/// Office 365 plus a breached-password store built from a plain list: what the real hook does
/// with a breached password, and with a store it cannot read (fail closed, or open when told).
#[test]
fn breached_passwords_are_refused_and_an_unreadable_store_follows_the_fail_mode() {
    let dir = tempfile::tempdir().unwrap();
    let store = common::plain_store(dir.path(), &["Summer-2024-Rocks!", "Welcome-To-Contoso-1"]);
    let policy_file = dir.path().join("breached.policy");
    std::fs::write(
        &policy_file,
        format!(
            "import \"{}\"\npolicy cloud_breached extends office365 {{\n  store pwned = \"pwned\"\n  \
             rule breached \"This password appeared in a data breach.\" : not in pwned\n}}\n",
            std::fs::canonicalize("policies/office365.policy").unwrap().display()
        ),
    )
    .unwrap();
    // The shipped policy is imported from the project's folder, which the policy must allow.
    let options = policyc::CompileOptions {
        allow_paths: vec![std::fs::canonicalize("policies").unwrap()],
        ..policyc::CompileOptions::default()
    };
    let c = policyc::compile_path(&policy_file, &options).unwrap();
    let policy = dir.path().join("breached.policyc");
    std::fs::write(&policy, c.artifact).unwrap();

    for pw in ["Summer-2024-Rocks!", "Welcome-To-Contoso-1"] {
        let r = hook(dir.path(), &policy, pw.as_bytes(), ALICE, &[]);
        assert_eq!(r.code, 1, "{pw} is breached: {}", r.stderr);
        assert!(!r.stderr.contains(pw));
    }
    assert_eq!(hook(dir.path(), &policy, b"Canary-Unbreached-Passw0rd", ALICE, &[]).code, 0);
    let a = audit(dir.path());
    assert_eq!(a[0]["outcome"], "rejected");
    assert_eq!(a[0]["rules"], serde_json::json!(["breached"]));
    assert_eq!(a[2]["outcome"], "accepted");
    assert_eq!(pending(dir.path()), 1);

    // The store goes away (a botched copy, a full disk, another format).
    std::fs::rename(&store, dir.path().join("pwned.moved")).unwrap();
    let r = hook(dir.path(), &policy, b"Canary-Passw0rd-Closed-1", ALICE, &[]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("BREACHED-PASSWORD STORE UNAVAILABLE (rule `breached`: cannot read")
            && r.stderr.contains("FAIL-CLOSED"),
        "{}",
        r.stderr
    );
    let r = hook(dir.path(), &policy, b"Canary-Passw0rd-Open-2", ALICE, &["--fail-open"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("FAIL-OPEN: accepting") && r.stderr.contains("every other rule accepts"),
        "{}",
        r.stderr
    );
    // What another rule refuses stays refused, whatever the store.
    let r = hook(dir.path(), &policy, b"short", ALICE, &["--fail-open"]);
    assert_eq!(r.code, 1);
    let a = audit(dir.path());
    assert_eq!(a[3]["outcome"], "rejected_store_unavailable");
    assert_eq!(a[3]["rules"], serde_json::json!(["breached"]));
    assert!(a[3]["detail"].as_str().unwrap().contains("manifest"), "{}", a[3]);
    assert_eq!(a[4]["outcome"], "accepted_store_unavailable");
    assert_eq!(a[5]["outcome"], "rejected");
    assert_eq!(pending(dir.path()), 2, "the fail-open acceptance is queued");
    assert!(!files_contain(dir.path(), "Canary-Passw0rd-Open-2"));
}

/// Issue 25 finding 5 (the hook's side): `directory: {kind: notified}` silently turned off the
/// group lookups (and the agent's commit check) under Samba: now the hook refuses, saying why.
#[test]
fn the_samba_hook_refuses_the_windows_filters_directory_kind() {
    let dir = tempfile::tempdir().unwrap();
    let policy = artifact(dir.path());
    let yaml = format!(
        "policy: {}\nqueue: {d}/queue\naudit_log: {d}/audit.jsonl\ndirectory: {{kind: notified}}\ngraph:\n  base_url: http://127.0.0.1:1\n  token_url: http://127.0.0.1:1/token\n  client_id: id\n  client_secret: s\n",
        policy.display(),
        d = dir.path().display()
    );
    std::fs::write(dir.path().join("agent.yaml"), yaml).unwrap();
    let r = hook_with_config(dir.path(), b"Compliant-Passw0rd!", ALICE, &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("`directory: {kind: notified}` is for a queue the Windows filter fills"),
        "{}",
        r.stderr
    );
    assert_eq!(pending(dir.path()), 0, "nothing queued");
    let last = audit(dir.path()).pop().unwrap();
    assert_eq!(last["outcome"], "rejected_no_policy", "{last}");
}

/// Issue 25 finding 10 (first half): after the queue key was lost, the next hook run created a
/// new key without a word, and the changes sealed with the old one could never be read again.
/// Now the hook refuses, naming the key and the remedy, and creates nothing.
#[test]
fn a_lost_queue_key_is_never_replaced_while_sealed_changes_wait() {
    let dir = tempfile::tempdir().unwrap();
    let policy = artifact(dir.path());
    let r = hook(dir.path(), &policy, b"Compliant-Passw0rd!", ALICE, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(pending(dir.path()), 1);
    std::fs::remove_file(dir.path().join("queue/key")).unwrap();
    let r = hook(dir.path(), &policy, b"Another-Passw0rd!", ALICE, &[]);
    assert_eq!(r.code, 1, "refused: {}", r.stderr);
    assert!(r.stderr.contains("restore it from a backup"), "{}", r.stderr);
    assert!(!dir.path().join("queue/key").exists(), "no new key was made");
    assert_eq!(pending(dir.path()), 1, "nothing new queued");
}

/// Issue 26 (the help desk): Samba 4.17 does not put the script's standard error in its log, so
/// the rules behind a refusal were only in the audit log. The hook writes each refusal (the
/// rules and what they tell the user, never the password) and each failure of its own to
/// syslog (the journal on systemd).
#[test]
fn refusals_and_failures_go_to_syslog_with_the_rules_messages_and_never_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("log");
    let syslog = std::os::unix::net::UnixDatagram::bind(&socket).unwrap();
    syslog.set_read_timeout(Some(std::time::Duration::from_secs(5))).unwrap();
    let receive = || {
        let mut buf = vec![0u8; 4096];
        let n = syslog.recv(&mut buf).unwrap();
        String::from_utf8_lossy(&buf[..n]).into_owned()
    };
    let p = artifact(dir.path());
    let to = ["--syslog", socket.to_str().unwrap()];
    let r = hook(dir.path(), &p, b"Sh0rt!", ALICE, &to);
    assert_eq!(r.code, 1);
    let line = receive();
    // <facility authpriv (10) * 8 + warning (4)>
    assert!(line.starts_with("<84>"), "{line}");
    assert!(
        line.contains("policyc[")
            && line.contains("refused password change for `alice` (alice@cpstest.lan): length (\"Use 8 to 256 characters.\")"),
        "{line}"
    );
    assert!(!line.contains("Sh0rt!"), "{line}");
    // A failure of the hook's own: an error.
    let missing = dir.path().join("missing.policyc");
    let r = hook(dir.path(), &missing, b"Canary-Syslog-Xy9!", ALICE, &to);
    assert_eq!(r.code, 1);
    let line = receive();
    assert!(line.starts_with("<83>") && line.contains("POLICY UNAVAILABLE"), "{line}");
    assert!(!line.contains("Canary-Syslog"), "{line}");
    // A refusal no rule message explains (not UTF-8) is there too, with its reason.
    let r = hook(dir.path(), &p, b"\xff\xfeCanary", ALICE, &to);
    assert_eq!(r.code, 1);
    let line = receive();
    assert!(line.starts_with("<84>") && line.contains("not valid UTF-8"), "{line}");
    // An accepted change says nothing there.
    let r = hook(dir.path(), &p, b"Canary-Syslog2-Xy9!", ALICE, &to);
    assert_eq!(r.code, 0, "{}", r.stderr);
    syslog.set_nonblocking(true).unwrap();
    assert!(syslog.recv(&mut [0u8; 16]).is_err(), "nothing for an accepted change");
}
