//! Helpers shared by the agent's test binaries (and its benchmark).

#![allow(dead_code, reason = "each test binary uses a subset of these helpers")]
#![allow(clippy::unwrap_used, reason = "test setup fails loudly")]

use policyc_agent::directory::DirectoryDouble;
use policyc_agent::double::{CloudDouble, Credentials};
use policyc_gate::queue::{Change, Queue};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The client id and secret the test double accepts.
pub const CLIENT_ID: &str = "id";
pub const CLIENT_SECRET: &str = "Client-S3cret-7d1e";

/// A cloud double on a free loopback port.
pub fn cloud() -> CloudDouble {
    let creds = Credentials {
        client_id: CLIENT_ID.into(),
        client_secret: CLIENT_SECRET.into(),
        token_ttl: Duration::from_secs(3600),
    };
    CloudDouble::start("127.0.0.1:0", creds).unwrap()
}

/// An agent configuration: queue, audit log and directory double under `dir`, the given
/// policy, this cloud; `extra` adds YAML lines (retry, poll interval...). Reconciliation is off
/// unless `extra` sets `reconcile_interval_secs` (its own tests turn it on).
pub fn agent_yaml(dir: &Path, policy: &Path, cloud: &CloudDouble, extra: &str) -> String {
    let extra = if extra.contains("reconcile_interval_secs") {
        extra.to_string()
    } else {
        format!("{extra}\nreconcile_interval_secs: 0")
    };
    format!(
        "policy: {policy}\nqueue: {d}/queue\naudit_log: {d}/audit.jsonl\n\
         directory: {{kind: file, path: {d}/directory.json}}\n{extra}\ngraph:\n  base_url: {u}\n  \
         token_url: {u}/token\n  client_id: {CLIENT_ID}\n  client_secret: {CLIENT_SECRET}\n  timeout_secs: 5\n",
        policy = policy.display(),
        d = dir.display(),
        u = cloud.url()
    )
}

/// The directory double `agent_yaml` points at.
pub fn directory(dir: &Path) -> DirectoryDouble {
    DirectoryDouble::new(dir.join("directory.json"))
}

/// What the hook and the directory do for one accepted reset: queue the change, and commit
/// the password in the directory.
pub fn reset(queue: &Queue, dir: &Path, account: &str, user: &str, password: &str) -> Change {
    let change = queue.enqueue(account, Some(user), None, password, "test").unwrap();
    directory(dir).commit(account, password).unwrap();
    change
}

/// Compiles the shipped Office 365 policy to `path`.
pub fn office365_artifact(path: &Path) {
    let c = policyc::compile_path("policies/office365.policy", &policyc::CompileOptions::default())
        .unwrap();
    std::fs::write(path, c.artifact).unwrap();
}

/// Every file under `dir`, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// A breached-password store at `dir/pwned` built from these passwords (a plain list, NTLM).
pub fn plain_store(dir: &Path, passwords: &[&str]) -> PathBuf {
    let list = dir.join("breached.txt");
    std::fs::write(&list, passwords.join("\n")).unwrap();
    let store = dir.join("pwned");
    let mut options = policyc_runtime::store::build::BuildOptions::new(&store, vec![list]);
    options.shard_bits = Some(1);
    policyc_runtime::store::build::build(&options, &policyc_runtime::store::build::Quiet).unwrap();
    store
}

/// Fails unless the cloud double holds `password` for `user` (compared by NT hash).
pub fn assert_holds(cloud: &CloudDouble, user: &str, password: &str) {
    assert!(cloud.holds(user, password), "the cloud does not hold {password} for {user}");
}

/// Output for a golden file: the temp dir, times, ages and ids replaced by placeholders.
pub fn redacted(text: &str, dir: &Path) -> String {
    let text = text.replace(&dir.display().to_string(), "[DIR]");
    // Policy labels (`name@` and 12 hex digits of the artifact's digest) change with the format.
    let mut text = text;
    let mut from = 0;
    while let Some(at) = text[from..].find('@').map(|i| i + from) {
        let digest = text.get(at + 1..at + 13).filter(|d| d.bytes().all(|b| b.is_ascii_hexdigit()));
        let ends = !text
            .get(at + 13..at + 14)
            .is_some_and(|c| c.bytes().all(|b| b.is_ascii_alphanumeric()));
        if digest.is_some() && ends {
            text.replace_range(at + 1..at + 13, "[DIGEST]");
        }
        from = at + 1;
    }
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    let shape = |at: usize, pattern: &str| {
        pattern.chars().enumerate().all(|(k, p)| {
            chars.get(at + k).is_some_and(|&c| if p == 'd' { c.is_ascii_digit() } else { c == p })
        })
    };
    while i < chars.len() {
        if shape(i, "dddd-dd-ddTdd:dd:dd") {
            i += 19;
            while chars.get(i).is_some_and(|c| c.is_ascii_digit() || *c == '.') {
                i += 1;
            }
            if chars.get(i) == Some(&'Z') {
                i += 1;
            }
            out.push_str("[TIME]");
        } else if chars[i].is_ascii_digit() && (i == 0 || !chars[i - 1].is_alphanumeric()) {
            let start = i;
            while chars.get(i).is_some_and(|c| c.is_ascii_hexdigit() || *c == '-') {
                i += 1;
            }
            let token: String = chars[start..i].iter().collect();
            // Ids, digests and seconds vary; small counts and HTTP statuses stay.
            let seconds = chars.get(i) == Some(&'s')
                || (chars.get(i) == Some(&' ') && chars.get(i + 1) == Some(&'s'));
            let keep = token.len() <= 3 && !token.contains('-') && !seconds;
            out.push_str(if keep { &token } else { "[N]" });
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}
