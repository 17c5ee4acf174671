//! The sync agent against the cloud double: delivery, newest-per-user, retries through faults,
//! policy drift, re-validation, health, and no cleartext anywhere on disk.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails by panicking"
)]

mod common;

use policyc::{CompileOptions, compile_str};
use policyc_agent::AgentError;
use policyc_agent::config::AgentConfig;
use policyc_agent::double::{CloudDouble, Faults};
use policyc_agent::status::status;
use policyc_agent::sync::SyncAgent;
use policyc_gate::queue::{Filler, Queue};
use std::path::Path;
use std::time::{Duration, Instant};

fn double() -> CloudDouble {
    common::cloud()
}

/// A policy file in `dir` compiled from `source`.
fn policy(dir: &Path, name: &str, source: &str) -> std::path::PathBuf {
    let artifact =
        compile_str(dir.join("test.policy"), source, &CompileOptions::default()).unwrap().artifact;
    let path = dir.join(name);
    std::fs::write(&path, artifact).unwrap();
    path
}

const O365: &str = include_str!("../policies/office365.policy");

fn config(dir: &Path, double: &CloudDouble) -> AgentConfig {
    let extra = "retry: {initial_ms: 5, max_ms: 50}
unhealthy_after_secs: 3600";
    serde_yaml::from_str(&common::agent_yaml(dir, &dir.join("policy.policyc"), double, extra))
        .unwrap()
}

/// A temp dir with `source` compiled as the agent's policy, a cloud double, and the config.
fn setup(source: &str) -> (tempfile::TempDir, CloudDouble, AgentConfig) {
    let dir = tempfile::tempdir().unwrap();
    let cloud = double();
    policy(dir.path(), "policy.policyc", source);
    let cfg = config(dir.path(), &cloud);
    (dir, cloud, cfg)
}

fn queue(cfg: &AgentConfig) -> Queue {
    Queue::open(&cfg.queue, &cfg.key_path()).unwrap()
}

/// Runs passes until the queue is empty (or a deadline).
fn drain(agent: &mut SyncAgent, cfg: &AgentConfig) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        agent.tick();
        let (pending, _) = policyc_gate::queue::list_pending(&cfg.queue).unwrap();
        if pending.is_empty() {
            return;
        }
        if Instant::now() >= deadline {
            let audit = std::fs::read_to_string(&cfg.audit_log).unwrap_or_default();
            let tail: Vec<&str> = audit.lines().rev().take(8).collect();
            panic!(
                "{} changes still pending; last audit records:\n{}",
                pending.len(),
                tail.join("\n")
            );
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// No file under `dir` contains any of the secrets.
fn assert_no_cleartext(dir: &Path, secrets: &[String]) {
    for entry in common::files_under(dir) {
        let bytes = std::fs::read(&entry).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        for s in secrets {
            assert!(
                !text.contains(s.as_str()),
                "{} contains a cleartext password",
                entry.display()
            );
        }
    }
}

#[test]
fn delivers_only_the_newest_change_per_user() {
    let (dir, cloud, cfg) = setup(O365);
    let q = queue(&cfg);
    let mut secrets = Vec::new();
    cloud.add_users(["alice@example.com", "bob@example.com", "carol@example.com"]);
    for (user, n) in [("alice", 3), ("bob", 1), ("carol", 2)] {
        for i in 0..n {
            let pw = format!("Canary-{user}-{i}-Xy9!");
            common::reset(&q, dir.path(), user, &format!("{user}@example.com"), &pw);
            secrets.push(pw);
        }
    }
    let mut agent = SyncAgent::new(cfg.clone()).unwrap();
    drain(&mut agent, &cfg);
    common::assert_holds(&cloud, "alice@example.com", "Canary-alice-2-Xy9!");
    common::assert_holds(&cloud, "bob@example.com", "Canary-bob-0-Xy9!");
    common::assert_holds(&cloud, "carol@example.com", "Canary-carol-1-Xy9!");
    assert_eq!(cloud.stats().set, 3, "superseded changes are never sent");
    let s = status(&cfg);
    assert!(s.healthy, "{:?}", s.problems);
    assert_eq!(s.counts.get("delivered"), Some(&3));
    assert_eq!(s.counts.get("superseded"), Some(&3));
    assert_no_cleartext(dir.path(), &secrets);
}

#[test]
fn retries_through_throttling_errors_and_dropped_connections() {
    let dir = tempfile::tempdir().unwrap();
    let cloud = double();
    cloud.set_faults(Faults {
        throttle: 0.2,
        retry_after_secs: 0.01,
        server_error: 0.2,
        drop: 0.1,
        delay: Duration::ZERO,
        ..Faults::default()
    });
    policy(dir.path(), "policy.policyc", O365);
    let cfg = config(dir.path(), &cloud);
    let q = queue(&cfg);
    for i in 0..40 {
        let upn = format!("u{i}@example.com");
        cloud.add_users([upn.as_str()]);
        common::reset(&q, dir.path(), &format!("u{i}"), &upn, &format!("Canary-{i}-Xy9!"));
    }
    let mut agent = SyncAgent::new(cfg.clone()).unwrap();
    drain(&mut agent, &cfg);
    for i in 0..40 {
        assert!(cloud.holds(&format!("u{i}@example.com"), &format!("Canary-{i}-Xy9!")), "u{i}");
    }
    assert!(cloud.stats().faults > 0, "faults were injected");
    let s = status(&cfg);
    assert!(s.counts.get("retry").copied().unwrap_or(0) > 0);
    assert_eq!(s.counts.get("delivered"), Some(&40));
}

#[test]
fn a_slow_cloud_is_waited_for_and_a_timeout_is_retried() {
    let (dir, cloud, mut cfg) = setup(O365);
    cloud.add_users(["gus@example.com"]);
    cloud.set_faults(Faults { delay: Duration::from_millis(300), ..Faults::default() });
    common::reset(&queue(&cfg), dir.path(), "gus", "gus@example.com", "Canary-Slow-9x!");
    // Slower than the client's timeout: a retry, nothing lost.
    cfg.graph.timeout_secs = 0;
    let mut agent = SyncAgent::new(cfg.clone()).unwrap();
    let t = agent.tick();
    assert_eq!((t.delivered, t.waiting), (0, 1));
    drop(agent);
    // Within the timeout: delivered.
    cfg.graph.timeout_secs = 5;
    let mut agent = SyncAgent::new(cfg.clone()).unwrap();
    drain(&mut agent, &cfg);
    common::assert_holds(&cloud, "gus@example.com", "Canary-Slow-9x!");
}

/// A webhook receiver on 127.0.0.1: collects the bodies posted to it.
fn webhook() -> (String, std::sync::mpsc::Receiver<String>, std::thread::JoinHandle<()>) {
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let url = format!("http://127.0.0.1:{}/hook", server.server_addr().to_ip().unwrap().port());
    let (tx, rx) = std::sync::mpsc::channel();
    let handle = std::thread::spawn(move || {
        // One alarm is expected: take it and stop.
        if let Ok(Some(mut req)) = server.recv_timeout(Duration::from_secs(10)) {
            let mut body = String::new();
            let _ = std::io::Read::read_to_string(req.as_reader(), &mut body);
            let _ = req.respond(tiny_http::Response::empty(204));
            let _ = tx.send(body);
        }
    });
    (url, rx, handle)
}

#[test]
fn a_weaker_local_policy_raises_a_drift_alarm() {
    let dir = tempfile::tempdir().unwrap();
    let cloud = double();
    // Accepts anything of 8+ characters: weaker than the cloud.
    policy(dir.path(), "policy.policyc", "policy weak {\n  rule length \"8+\" : length >= 8\n}\n");
    let mut cfg = config(dir.path(), &cloud);
    let (url, posted, receiver) = webhook();
    cfg.webhook = Some(url);
    cloud.add_users(["dave@example.com"]);
    common::reset(&queue(&cfg), dir.path(), "dave", "dave@example.com", "Résumé-Canary");
    let mut agent = SyncAgent::new(cfg.clone()).unwrap();
    drain(&mut agent, &cfg);
    assert!(!cloud.has_password("dave@example.com"));
    let s = status(&cfg);
    assert_eq!(s.counts.get("policy_drift"), Some(&1));
    assert_eq!(s.failed, 1);
    assert!(!s.healthy, "undelivered changes make the agent unhealthy");
    let audit = std::fs::read_to_string(&cfg.audit_log).unwrap();
    assert!(audit.contains(r#""outcome":"policy_drift""#), "{audit}");
    assert!(audit.contains("does not comply with password complexity"));
    assert_no_cleartext(dir.path(), &["Résumé-Canary".to_string()]);
    let alarm: serde_json::Value =
        serde_json::from_str(&posted.recv_timeout(Duration::from_secs(5)).unwrap()).unwrap();
    assert_eq!(alarm["event"], "policy_drift");
    assert_eq!(alarm["account"], "dave");
    assert!(alarm["policy"].as_str().unwrap().starts_with("weak@"));
    assert!(!alarm.to_string().contains("Canary"), "no password in the webhook");
    drop(posted);
    receiver.join().unwrap();
}

#[test]
fn changes_are_revalidated_against_a_reloaded_policy() {
    let (dir, cloud, cfg) = setup(O365);
    let mut agent = SyncAgent::new(cfg.clone()).unwrap();
    let q = queue(&cfg);
    cloud.add_users(["erin@example.com"]);
    common::reset(&q, dir.path(), "erin", "erin@example.com", "Short-Canary1");
    // The policy file is replaced by a stricter one before the agent's next pass.
    std::thread::sleep(Duration::from_millis(20));
    policy(
        dir.path(),
        "policy.policyc",
        "policy strict {\n  rule length \"Use 16+.\" : length >= 16\n}\n",
    );
    drain(&mut agent, &cfg);
    assert!(!cloud.has_password("erin@example.com"));
    assert!(agent.policy().starts_with("strict@"));
    let audit = std::fs::read_to_string(&cfg.audit_log).unwrap();
    // The directory committed it: held in failed/ (unhealthy), never dropped in silence.
    assert!(audit.contains(r#""outcome":"held_by_policy","account":"erin""#), "{audit}");
    assert!(!status(&cfg).healthy, "a held change keeps status unhealthy");
    assert!(audit.contains(r#""rules":["length"]"#));
    // A damaged replacement is refused and the running policy kept.
    std::thread::sleep(Duration::from_millis(20));
    std::fs::write(dir.path().join("policy.policyc"), b"POLICYC\0garbage").unwrap();
    agent.tick();
    assert!(agent.policy().starts_with("strict@"));
    assert!(std::fs::read_to_string(&cfg.audit_log).unwrap().contains("policy_reload_failed"));
}

#[test]
fn status_reports_an_old_pending_change_as_unhealthy() {
    let (_dir, _cloud, mut cfg) = setup(O365);
    cfg.unhealthy_after_secs = 0;
    queue(&cfg).enqueue("fay", Some("fay@example.com"), None, "Canary-Xy9!-1", "t").unwrap();
    std::thread::sleep(Duration::from_millis(1100));
    let s = status(&cfg);
    assert_eq!(s.pending, 1);
    assert!(!s.healthy);
    assert!(s.problems.iter().any(|p| p.contains("oldest pending change")), "{:?}", s.problems);
}

#[test]
fn a_key_file_others_can_read_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("key");
    Queue::open(&dir.path().join("q"), &key).unwrap();
    assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let e = Queue::open(&dir.path().join("q"), &key).unwrap_err();
    assert!(e.to_string().contains("chmod 600"), "{e}");
}

#[test]
fn the_double_enforces_the_cloud_policy_on_its_own() {
    use policyc_agent::double::cloud_policy_accepts;
    assert!(cloud_policy_accepts("Tr0ub4dor&3"));
    assert!(!cloud_policy_accepts("Pass wor"), "a space is not a symbol");
    assert!(!cloud_policy_accepts("Résumé12"));
    assert!(!cloud_policy_accepts("Tab\there1"));
    assert!(!cloud_policy_accepts("Short1!"));
    assert!(cloud_policy_accepts(&"Aa1".repeat(85)));
    assert!(!cloud_policy_accepts(&"Aa1".repeat(86)));
}

#[test]
fn debug_output_shows_no_secret() {
    let (_dir, _cloud, cfg) = setup(O365);
    let agent = SyncAgent::new(cfg.clone()).unwrap();
    for text in [format!("{cfg:?}"), format!("{agent:?}")] {
        assert!(!text.contains(common::CLIENT_SECRET), "{text}");
    }
}

/// The audit log's outcomes, in order.
fn outcomes(cfg: &AgentConfig) -> Vec<String> {
    std::fs::read_to_string(&cfg.audit_log)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["outcome"].to_string())
        .map(|o| o.trim_matches('"').to_string())
        .collect()
}

fn pending(cfg: &AgentConfig) -> usize {
    policyc_gate::queue::list_pending(&cfg.queue).unwrap().0.len()
}

#[test]
fn only_what_the_directory_committed_is_delivered() {
    let (dir, cloud, mut cfg) = setup(O365);
    cfg.commit_grace_secs = 1;
    let (url, posted, receiver) = webhook();
    cfg.webhook = Some(url);
    cloud.add_users(["alice@example.com"]);
    let q = queue(&cfg);
    // P1 → P2 committed and delivered; then a change back to P1 the directory refuses
    // (history): the hook accepted it, the directory never committed it.
    common::reset(&q, dir.path(), "alice", "alice@example.com", "Canary-P1-Xy9!");
    common::reset(&q, dir.path(), "alice", "alice@example.com", "Canary-P2-Xy9!");
    let mut agent = SyncAgent::new(cfg.clone()).unwrap();
    assert_eq!(agent.tick().delivered, 1);
    q.enqueue("alice", Some("alice@example.com"), None, "Canary-P1-Xy9!", "t").unwrap();
    // Within the grace window it waits for the commit.
    let t = agent.tick();
    assert_eq!((t.delivered, t.waiting), (0, 1));
    std::thread::sleep(Duration::from_millis(1100));
    let t = agent.tick();
    assert_eq!(t.delivered, 0);
    assert!(t.events.iter().any(|(o, _)| o.as_str() == "refused_by_directory"), "{t:?}");
    common::assert_holds(&cloud, "alice@example.com", "Canary-P2-Xy9!");
    assert_eq!(cloud.stats().set, 1, "the refused password never reached the cloud");
    assert_eq!(pending(&cfg), 0);
    let s = status(&cfg);
    assert_eq!(s.counts.get("refused_by_directory"), Some(&1));
    assert_eq!(s.counts.get("superseded"), Some(&1));
    assert!(outcomes(&cfg).contains(&"refused_by_directory".to_string()));
    let alarm: serde_json::Value =
        serde_json::from_str(&posted.recv_timeout(Duration::from_secs(5)).unwrap()).unwrap();
    assert_eq!(alarm["event"], "refused_by_directory");
    assert_eq!(alarm["account"], "alice");
    assert!(!alarm.to_string().contains("Canary"), "no password in the webhook");
    drop(posted);
    receiver.join().unwrap();
}

#[test]
fn a_change_commits_late_and_is_then_delivered_and_one_replaced_in_the_directory_is_not() {
    let (dir, cloud, mut cfg) = setup(O365);
    cfg.commit_grace_secs = 1;
    cloud.add_users(["bob@example.com", "carl@example.com"]);
    let q = queue(&cfg);
    q.enqueue("bob", Some("bob@example.com"), None, "Canary-Late-Xy9!", "t").unwrap();
    let mut agent = SyncAgent::new(cfg.clone()).unwrap();
    assert_eq!(agent.tick().waiting, 1, "not committed yet: waits");
    common::directory(dir.path()).commit("bob", "Canary-Late-Xy9!").unwrap();
    assert_eq!(agent.tick().delivered, 1);
    // carl's change is accepted, then the directory gets another password this queue never saw.
    q.enqueue("carl", Some("carl@example.com"), None, "Canary-Mine-Xy9!", "t").unwrap();
    std::thread::sleep(Duration::from_millis(5));
    common::directory(dir.path()).commit("carl", "Elsewhere-Xy9!").unwrap();
    std::thread::sleep(Duration::from_millis(1100));
    let t = agent.tick();
    assert!(t.events.iter().any(|(o, _)| o.as_str() == "superseded_in_directory"), "{t:?}");
    assert!(!cloud.has_password("carl@example.com"));
    assert_eq!(status(&cfg).counts.get("superseded_in_directory"), Some(&1));
}

/// A config file on disk for the binary, with `graph` lines replaced by `graph`.
fn config_file(
    dir: &Path,
    cloud: &CloudDouble,
    extra: &str,
    secret: &str,
    base: &str,
    token: &str,
) -> std::path::PathBuf {
    let yaml = format!(
        "policy: {d}/policy.policyc\nqueue: {d}/queue\naudit_log: {d}/audit.jsonl\n\
         directory: {{kind: file, path: {d}/directory.json}}\nretry: {{initial_ms: 5, max_ms: 50}}\nreconcile_interval_secs: 0\n{extra}\n\
         graph:\n  base_url: {u}{base}\n  token_url: {u}{token}\n  client_id: {id}\n  client_secret: {secret}\n  timeout_secs: 5\n",
        d = dir.display(),
        u = cloud.url(),
        id = common::CLIENT_ID,
    );
    let path = dir.join("agent.yaml");
    std::fs::write(&path, yaml).unwrap();
    path
}

fn once(config: &Path) -> (i32, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_policyc"))
        .args(["agent", "run", "--once", "--config"])
        .arg(config)
        .output()
        .unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn every_permanent_error_is_named_unhealthy_at_once_and_loses_nothing() {
    use policyc_agent::double::{CloudAccount, Permissions};
    // (what is wrong, secret, base suffix, token path, outcome, words in the reason)
    let cases = [
        ("wrong secret", "wrong", "", "/token", "token_refused", "AADSTS7000215"),
        (
            "wrong token URL",
            common::CLIENT_SECRET,
            "",
            "/oauth2/v2.0/token",
            "wrong_endpoint",
            "token_url",
        ),
        ("wrong base URL", common::CLIENT_SECRET, "/graph", "/token", "wrong_endpoint", "base_url"),
        (
            "no permission",
            common::CLIENT_SECRET,
            "",
            "/token",
            "permission_denied",
            "User Administrator",
        ),
    ];
    for (what, secret, base, token, outcome, words) in cases {
        let dir = tempfile::tempdir().unwrap();
        let cloud = double();
        cloud.add_users(["hal@example.com"]);
        if what == "no permission" {
            cloud.set_permissions(Permissions { set_passwords: false, privileged: false });
        }
        policy(dir.path(), "policy.policyc", O365);
        let config = config_file(dir.path(), &cloud, "", secret, base, token);
        let cfg = AgentConfig::load(&config).unwrap();
        common::reset(&queue(&cfg), dir.path(), "hal", "hal@example.com", "Canary-Hal-Xy9!");
        let (code, stderr) = once(&config);
        assert_eq!(code, 1, "{what}: --once must fail: {stderr}");
        assert!(stderr.contains(outcome) && stderr.contains(words), "{what}: {stderr}");
        let s = status(&cfg);
        assert!(!s.healthy, "{what}");
        assert!(
            s.problems.iter().any(|p| p.contains("configuration error") && p.contains(outcome)),
            "{what}: {:?}",
            s.problems
        );
        assert_eq!(s.pending, 1, "{what}: the change stays queued for after the fix");
        assert_eq!(s.failed, 0, "{what}");
        assert!(outcomes(&cfg).contains(&outcome.to_string()), "{what}");
    }
    // A base URL that already ends in /v1.0 is understood, not a dead end.
    let dir = tempfile::tempdir().unwrap();
    let cloud = double();
    cloud.add_users(["ivy@example.com"]);
    policy(dir.path(), "policy.policyc", O365);
    let config = config_file(dir.path(), &cloud, "", common::CLIENT_SECRET, "/v1.0/", "/token");
    let cfg = AgentConfig::load(&config).unwrap();
    common::reset(&queue(&cfg), dir.path(), "ivy", "ivy@example.com", "Canary-Ivy-Xy9!");
    assert_eq!(once(&config).0, 0);
    common::assert_holds(&cloud, "ivy@example.com", "Canary-Ivy-Xy9!");
    // Per-user errors: unknown user and an administrator without the privileged role go to
    // failed/ with their reason; a synced user is never PATCHed.
    let dir = tempfile::tempdir().unwrap();
    let cloud = double();
    cloud.add_user("boss@example.com", CloudAccount { admin: true, ..CloudAccount::default() });
    cloud.add_user("sync@example.com", CloudAccount { synced: true, ..CloudAccount::default() });
    cloud.set_permissions(Permissions { set_passwords: true, privileged: false });
    policy(dir.path(), "policy.policyc", O365);
    let config = config_file(dir.path(), &cloud, "", common::CLIENT_SECRET, "", "/token");
    let cfg = AgentConfig::load(&config).unwrap();
    let q = queue(&cfg);
    common::reset(&q, dir.path(), "ghost", "ghost@example.com", "Canary-Ghost-Xy9!");
    common::reset(&q, dir.path(), "sync", "sync@example.com", "Canary-Sync-Xy9!");
    let (code, stderr) = once(&config);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("user_not_found") && stderr.contains("synced_by_entra_connect"),
        "{stderr}"
    );
    let s = status(&cfg);
    assert_eq!(s.failed_by_reason.get("user_not_found"), Some(&1), "{s:?}");
    assert_eq!(s.counts.get("synced_by_entra_connect"), Some(&1));
    assert_eq!(cloud.stats().set, 0);
    assert_eq!(s.pending, 0);
    common::reset(&q, dir.path(), "boss", "boss@example.com", "Canary-Boss-Xy9!");
    let (code, stderr) = once(&config);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("permission_denied")
            && stderr.contains("Privileged Authentication Administrator"),
        "{stderr}"
    );
    assert_eq!(status(&cfg).pending, 1, "kept queued until the role is granted");
    cloud.set_permissions(Permissions::default());
    assert_eq!(once(&config).0, 0);
    common::assert_holds(&cloud, "boss@example.com", "Canary-Boss-Xy9!");
    // Transient errors keep their backoff, are not a configuration error, and say how long.
    cloud.set_faults(Faults { server_error: 1.0, ..Faults::default() });
    common::reset(&q, dir.path(), "boss", "boss@example.com", "Canary-Boss2-Xy9!");
    assert_eq!(once(&config).0, 0, "a transient error is not a failure of the pass");
    let s = status(&cfg);
    assert!(
        s.transient.as_deref().is_some_and(|t| t.contains("cloud error (500") && t.contains(" s,")),
        "{s:?}"
    );
}

#[test]
fn failed_changes_can_be_listed_retried_and_purged() {
    let dir = tempfile::tempdir().unwrap();
    let cloud = double();
    policy(dir.path(), "policy.policyc", O365);
    let config = config_file(dir.path(), &cloud, "", common::CLIENT_SECRET, "", "/token");
    let cfg = AgentConfig::load(&config).unwrap();
    let q = queue(&cfg);
    common::reset(&q, dir.path(), "newbie", "newbie@example.com", "Canary-New-Xy9!");
    common::reset(&q, dir.path(), "gone", "gone@example.com", "Canary-Gone-Xy9!");
    assert_eq!(once(&config).0, 1);
    let cli = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_policyc"))
            .args(["agent", "failed"])
            .args(args)
            .arg("--config")
            .arg(&config)
            .output()
            .unwrap();
        (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let (code, list) = cli(&["list"]);
    assert_eq!(code, 0);
    assert!(
        list.contains("newbie") && list.contains("gone") && list.contains("user_not_found"),
        "{list}"
    );
    assert!(!list.contains("Canary"), "no password in the listing");
    // The user is created in the cloud: retry newbie's change; purge gone's.
    cloud.add_users(["newbie@example.com"]);
    assert_eq!(cli(&["retry", "--account", "newbie"]).0, 0);
    assert_eq!(cli(&["purge", "--account", "gone"]).0, 0);
    assert_eq!(cli(&["purge", "--account", "nobody"]).0, 2, "naming nothing is an error");
    assert_eq!(once(&config).0, 0);
    common::assert_holds(&cloud, "newbie@example.com", "Canary-New-Xy9!");
    let s = status(&cfg);
    assert_eq!((s.failed, s.pending), (0, 0));
    let o = outcomes(&cfg);
    assert!(o.contains(&"retried".to_string()) && o.contains(&"purged".to_string()), "{o:?}");
}

#[test]
fn one_agent_per_queue_and_status_knows_when_none_runs() {
    let dir = tempfile::tempdir().unwrap();
    let cloud = double();
    cloud.add_users(["kim@example.com"]);
    policy(dir.path(), "policy.policyc", O365);
    let config = config_file(
        dir.path(),
        &cloud,
        "poll_interval_ms: 100",
        common::CLIENT_SECRET,
        "",
        "/token",
    );
    let cfg = AgentConfig::load(&config).unwrap();
    let before = status(&cfg);
    assert!(
        before.problems.iter().any(|p| p.contains("no agent has run")),
        "{:?}",
        before.problems
    );
    let spawn = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_policyc"))
            .args(["agent", "run", "--config"])
            .arg(&config)
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let mut first = spawn();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !status(&cfg).healthy {
        assert!(Instant::now() < deadline, "{:?}", status(&cfg).problems);
        std::thread::sleep(Duration::from_millis(50));
    }
    let second = spawn().wait_with_output().unwrap();
    assert_eq!(second.status.code(), Some(2));
    let said = String::from_utf8_lossy(&second.stderr);
    assert!(
        said.contains("another agent holds the queue")
            && said.contains(&format!("pid {}", first.id())),
        "{said}"
    );
    // SIGKILL releases the lock; status notices the silence.
    first.kill().unwrap();
    first.wait().unwrap();
    std::thread::sleep(Duration::from_millis(3200));
    let s = status(&cfg);
    assert!(s.problems.iter().any(|p| p.contains("agent not running since")), "{:?}", s.problems);
    // A new agent takes over and delivers; SIGTERM stops it cleanly.
    let mut third = spawn();
    common::reset(&queue(&cfg), dir.path(), "kim", "kim@example.com", "Canary-Kim-Xy9!");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !cloud.has_password("kim@example.com") {
        assert!(Instant::now() < deadline, "the new agent did not deliver");
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = std::process::Command::new("kill").args(["-TERM", &third.id().to_string()]).status();
    let deadline = Instant::now() + Duration::from_secs(5);
    let code = loop {
        if let Some(code) = third.try_wait().unwrap() {
            break code;
        }
        assert!(Instant::now() < deadline, "SIGTERM did not stop the agent");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(code.success(), "{code}");
    assert!(outcomes(&cfg).contains(&"agent_stopped".to_string()));
}

#[test]
fn a_directory_that_cannot_be_read_holds_every_change_and_says_so() {
    let (dir, cloud, cfg) = setup(O365);
    cloud.add_users(["lou@example.com"]);
    common::reset(&queue(&cfg), dir.path(), "lou", "lou@example.com", "Canary-Lou-Xy9!");
    std::fs::write(dir.path().join("directory.json"), b"{ broken").unwrap();
    let mut agent = SyncAgent::new(cfg.clone()).unwrap();
    for _ in 0..3 {
        let t = agent.tick();
        assert_eq!((t.delivered, t.waiting), (0, 1));
        assert!(t.events.iter().any(|(o, _)| o.as_str() == "directory_unavailable"), "{t:?}");
    }
    assert!(!cloud.has_password("lou@example.com"), "nothing is sent unconfirmed");
    let s = status(&cfg);
    assert!(s.transient.as_deref().is_some_and(|t| t.contains("directory_unavailable")), "{s:?}");
    let lines = outcomes(&cfg).iter().filter(|o| *o == "directory_unavailable").count();
    assert_eq!(lines, 1, "one audit line for the problem, not one per pass");
    // Once the directory answers, the change goes out.
    std::fs::remove_file(dir.path().join("directory.json")).unwrap();
    common::directory(dir.path()).commit("lou", "Canary-Lou-Xy9!").unwrap();
    assert_eq!(agent.tick().delivered, 1);
    assert!(status(&cfg).transient.is_none());
}

#[test]
fn status_and_failed_list_read_well() {
    let dir = tempfile::tempdir().unwrap();
    let cloud = double();
    cloud.add_users(["ann@example.com"]);
    policy(dir.path(), "policy.policyc", O365);
    let config = config_file(dir.path(), &cloud, "", "wrong-secret", "", "/token");
    let cfg = AgentConfig::load(&config).unwrap();
    let q = queue(&cfg);
    common::reset(&q, dir.path(), "ann", "ann@example.com", "Canary-Ann-Xy9!");
    let (_, once_stderr) = once(&config);
    // The secret is fixed; an unknown user's change goes to failed/.
    let config = config_file(dir.path(), &cloud, "", common::CLIENT_SECRET, "", "/token");
    common::reset(&q, dir.path(), "ghost", "ghost@example.com", "Canary-Ghost-Xy9!");
    let cli = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_policyc"))
            .args(args)
            .arg("--config")
            .arg(&config)
            .output()
            .unwrap();
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
    };
    let run = cli(&["agent", "run", "--once"]);
    let status = cli(&["agent", "status"]);
    let failed = cli(&["agent", "failed", "list"]);
    let all = format!(
        "$ policyc agent run --once   (wrong client secret)\n{once_stderr}\n$ policyc agent run --once   (fixed; one unknown user)\n{run}\n$ policyc agent status\n{status}\n$ policyc agent failed list\n{failed}"
    );
    assert!(!all.contains("Canary"), "no password in what a person reads");
    insta::assert_snapshot!("agent_status_and_failed_list", common::redacted(&all, dir.path()));
}

// Hostile or broken HTTP peers (issue: harden what runs as root).

#[test]
fn plain_http_is_refused_except_on_loopback() {
    let (_dir, _cloud, cfg) = setup(O365);
    let start = |what: &str, url: &str| {
        let mut c = cfg.clone();
        match what {
            "base_url" => c.graph.base_url = url.into(),
            "token_url" => c.graph.token_url = url.into(),
            _ => c.webhook = Some(url.into()),
        }
        SyncAgent::new(c).map(drop)
    };
    for (what, url) in [
        ("base_url", "http://graph.example.com"),
        ("token_url", "http://10.1.2.3/token"),
        ("webhook", "http://alerts.example/x"),
        ("webhook", "http://user@[2001:db8::1]:80/"),
    ] {
        let e = start(what, url).unwrap_err();
        assert!(matches!(e, AgentError::Config(_)), "a configuration error: {e:?}");
        let e = e.to_string();
        assert!(e.contains(what) && e.contains("plain HTTP"), "{e}");
    }
    let e = start("base_url", "ftp://graph.example.com").unwrap_err().to_string();
    assert!(e.contains("not an https:// URL"), "{e}");
    for url in ["http://localhost:9/x", "http://[::1]:9/x", "https://alerts.example/x"] {
        start("webhook", url).unwrap();
    }
}

#[test]
fn a_redirect_is_a_named_error_and_never_followed() {
    let (dir, cloud, cfg) = setup(O365);
    cloud.add_users(["rita@example.com"]);
    cloud.set_faults(Faults { redirect: 1.0, ..Faults::default() });
    common::reset(&queue(&cfg), dir.path(), "rita", "rita@example.com", "Canary-Rita-Xy9!");
    let mut agent = SyncAgent::new(cfg.clone()).unwrap();
    let t = agent.tick();
    assert!(
        t.events
            .iter()
            .any(|(o, d)| o.as_str() == "wrong_endpoint" && d.contains("redirects (302)")),
        "{t:?}"
    );
    assert_eq!((t.delivered, pending(&cfg)), (0, 1), "the change stays queued");
    assert_eq!(cloud.stats().set, 0);
    assert!(!status(&cfg).healthy);
}

#[test]
fn a_token_that_claims_to_live_forever_is_clamped() {
    let dir = tempfile::tempdir().unwrap();
    let creds = policyc_agent::double::Credentials {
        client_id: common::CLIENT_ID.into(),
        client_secret: common::CLIENT_SECRET.into(),
        token_ttl: Duration::from_secs(u64::MAX),
    };
    let cloud = CloudDouble::start("127.0.0.1:0", creds).unwrap();
    cloud.add_users(["tim@example.com"]);
    policy(dir.path(), "policy.policyc", O365);
    let cfg = config(dir.path(), &cloud);
    let q = queue(&cfg);
    common::reset(&q, dir.path(), "tim", "tim@example.com", "Canary-Tim-Xy9!");
    let mut agent = SyncAgent::new(cfg.clone()).unwrap();
    assert_eq!(agent.tick().delivered, 1);
    common::reset(&q, dir.path(), "tim", "tim@example.com", "Canary-Tim2-Xy9!");
    assert_eq!(agent.tick().delivered, 1, "the cached token is used, no overflow");
    assert_eq!(cloud.stats().tokens, 1);
}

#[test]
fn retry_after_zero_is_floored_and_recorded_once() {
    let (dir, cloud, cfg) = setup(O365);
    cloud.add_users(["zed@example.com"]);
    cloud.set_faults(Faults { throttle: 1.0, retry_after_secs: 0.0, ..Faults::default() });
    common::reset(&queue(&cfg), dir.path(), "zed", "zed@example.com", "Canary-Zed-Xy9!");
    let mut agent = SyncAgent::new(cfg.clone()).unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let runner = {
        let stop = stop.clone();
        std::thread::spawn(move || agent.run(&stop))
    };
    std::thread::sleep(Duration::from_secs(1));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    runner.join().unwrap();
    let attempts = cloud.stats().faults;
    assert!((2..=12).contains(&attempts), "{attempts} attempts in a second: at least 100 ms apart");
    let retries = outcomes(&cfg).iter().filter(|o| *o == "retry").count();
    assert_eq!(retries, 1, "one audit line for the state, not one per attempt");
    assert_eq!(status(&cfg).counts.get("retry").copied(), Some(attempts));
}

#[test]
fn a_hostile_error_body_is_bounded_cleaned_and_never_stored_with_the_password() {
    let (dir, cloud, mut cfg) = setup(O365);
    let (url, posted, receiver) = webhook();
    cfg.webhook = Some(url);
    cloud.add_users(["vic@example.com"]);
    let q = queue(&cfg);
    common::reset(&q, dir.path(), "vic", "vic@example.com", "Canary-Vic1-Xy9!");
    let mut agent = SyncAgent::new(cfg.clone()).unwrap();
    assert_eq!(agent.tick().delivered, 1, "the cloud user is now known (cached)");
    // Now the server answers the PATCH with a megabyte of control characters echoing it.
    cloud.set_faults(Faults { garbage: 1.0, ..Faults::default() });
    common::reset(&q, dir.path(), "vic", "vic@example.com", "Canary-Vic2-Xy9!");
    let t = agent.tick();
    assert!(t.has_errors(), "{t:?}");
    drop(agent);
    let audit = std::fs::read_to_string(&cfg.audit_log).unwrap();
    for line in audit.lines() {
        assert!(line.len() < 2000, "an audit line of {} bytes", line.len());
        assert!(!line.chars().any(|c| c.is_control()), "control characters in {line}");
    }
    assert!(audit.contains("echoed the password and is not recorded"), "{audit}");
    let alarm = posted.recv_timeout(Duration::from_secs(5)).unwrap();
    assert!(alarm.len() < 2000 && !alarm.contains("Canary"));
    drop(posted);
    receiver.join().unwrap();
    let s = status(&cfg);
    assert_eq!(s.failed, 1);
    let text = serde_json::to_string(&s).unwrap();
    assert!(text.len() < 4000 && !text.contains("Canary"));
    assert_no_cleartext(dir.path(), &["Canary-Vic2-Xy9!".to_string()]);
}

/// Issue 12's ways for an older password to reach the cloud after a newer one: the directory's
/// current password decides, whatever the queue's order says.
#[test]
fn an_older_password_never_overtakes_a_newer_one() {
    let (dir, cloud, mut cfg) = setup(O365);
    cfg.commit_grace_secs = 1;
    let d = dir.path();
    cloud.add_users([
        "clock@example.com",
        "dmg@example.com",
        "replay@example.com",
        "jdoe@contoso.com",
    ]);
    let q = queue(&cfg);
    let directory = common::directory(d);
    // The clock stepped back between two resets: the newer one got the smaller id.
    q.enqueue("clock", Some("clock@example.com"), None, "Canary-Newer-Xy9!", "t").unwrap();
    q.enqueue("clock", Some("clock@example.com"), None, "Canary-Older-Xy9!", "t").unwrap();
    directory.commit("clock", "Canary-Older-Xy9!").unwrap();
    directory.commit("clock", "Canary-Newer-Xy9!").unwrap();
    // The newest record is damaged: the older one must not go out instead.
    common::reset(&q, d, "dmg", "dmg@example.com", "Canary-Dmg1-Xy9!");
    let newest = common::reset(&q, d, "dmg", "dmg@example.com", "Canary-Dmg2-Xy9!");
    let path = cfg.queue.join("pending").join(format!("{}.json", newest.id));
    let tampered =
        std::fs::read_to_string(&path).unwrap().replace("\"sealed\":\"", "\"sealed\":\"AAAA");
    std::fs::write(&path, tampered).unwrap();
    // A UPN differing only in case is the same user.
    q.enqueue("jdoe", Some("jdoe@contoso.com"), None, "Canary-Jdoe1-Xy9!", "t").unwrap();
    common::reset(&q, d, "jdoe", "JDoe@Contoso.com", "Canary-Jdoe2-Xy9!");
    // A delivered record, kept aside to be replayed later.
    let old = common::reset(&q, d, "replay", "replay@example.com", "Canary-Replay1-Xy9!");
    let old_path = cfg.queue.join("pending").join(format!("{}.json", old.id));
    let old_bytes = std::fs::read(&old_path).unwrap();
    let mut agent = SyncAgent::new(cfg.clone()).unwrap();
    agent.tick();
    common::reset(&q, d, "replay", "replay@example.com", "Canary-Replay2-Xy9!");
    agent.tick();
    std::fs::write(&old_path, old_bytes).unwrap();
    std::thread::sleep(Duration::from_millis(1100));
    agent.tick();
    common::assert_holds(&cloud, "clock@example.com", "Canary-Newer-Xy9!");
    assert!(!cloud.has_password("dmg@example.com"), "the older change was not sent instead");
    common::assert_holds(&cloud, "jdoe@contoso.com", "Canary-Jdoe2-Xy9!");
    common::assert_holds(&cloud, "replay@example.com", "Canary-Replay2-Xy9!");
    assert_eq!(cloud.stats().set, 4, "one delivery per user, none of an older password");
    assert_eq!(pending(&cfg), 0);
    let o = outcomes(&cfg);
    assert!(
        o.contains(&"damaged".to_string()) && o.contains(&"superseded_in_directory".to_string()),
        "{o:?}"
    );
}

#[test]
fn the_seal_binds_every_field_the_agent_trusts_and_old_records_still_open() {
    use base64::Engine as _;
    let (dir, cloud, cfg) = setup(O365);
    cloud.add_users(["mia@example.com", "old@example.com"]);
    let q = queue(&cfg);
    // A record whose account was edited no longer opens: damaged, never delivered.
    let c = common::reset(&q, dir.path(), "mia", "mia@example.com", "Canary-Mia-Xy9!");
    common::directory(dir.path()).commit("eve", "Canary-Mia-Xy9!").unwrap();
    let path = cfg.queue.join("pending").join(format!("{}.json", c.id));
    let edited =
        std::fs::read_to_string(&path).unwrap().replace(r#""account":"mia""#, r#""account":"eve""#);
    std::fs::write(&path, edited).unwrap();
    // A record written before seals bound every field (id and user only) still opens.
    let key = policyc_gate::crypto::QueueKey::load_or_create(&cfg.key_path()).unwrap();
    let id = "000000000000000000000001-0000000001-00000000";
    let (nonce, sealed) =
        key.seal(b"Canary-Old-Xy9!", format!("{id}\0old@example.com").as_bytes()).unwrap();
    let b64 = base64::engine::general_purpose::STANDARD;
    let legacy = serde_json::json!({"id": id, "account": "old", "user": "old@example.com",
        "created_ms": policyc_gate::queue::now_ms(), "policy": "t",
        "nonce": b64.encode(nonce), "sealed": b64.encode(sealed)});
    std::fs::write(cfg.queue.join("pending").join(format!("{id}.json")), legacy.to_string())
        .unwrap();
    common::directory(dir.path()).commit("old", "Canary-Old-Xy9!").unwrap();
    let mut agent = SyncAgent::new(cfg.clone()).unwrap();
    let t = agent.tick();
    assert!(t.events.iter().any(|(o, _)| o.as_str() == "damaged"), "{t:?}");
    assert!(!cloud.has_password("mia@example.com"));
    common::assert_holds(&cloud, "old@example.com", "Canary-Old-Xy9!");
}

#[test]
fn a_missing_key_stops_the_agent_instead_of_orphaning_the_queue() {
    let (dir, _cloud, cfg) = setup(O365);
    common::reset(&queue(&cfg), dir.path(), "kay", "kay@example.com", "Canary-Kay-Xy9!");
    std::fs::remove_file(cfg.key_path()).unwrap();
    let e = SyncAgent::new(cfg.clone()).unwrap_err();
    assert!(matches!(e, AgentError::Queue(_)), "the queue's error: {e:?}");
    let e = e.to_string();
    assert!(e.contains("missing") && e.contains("1 queued changes are sealed with it"), "{e}");
    assert!(!cfg.key_path().exists(), "no new key was made");
    assert_eq!(pending(&cfg), 1, "the change is still there for when the key is restored");
}

#[test]
fn concurrent_key_creation_yields_one_key_for_everyone() {
    use policyc_gate::crypto::QueueKey;
    for _ in 0..30 {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("key");
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(12));
        let threads: Vec<_> = (0..12)
            .map(|_| {
                let (key, barrier) = (key.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    QueueKey::load_or_create(&key).map(|k| k.seal(b"x", b"c").unwrap())
                })
            })
            .collect();
        let sealed: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        let winner = QueueKey::load_or_create(&key).unwrap();
        for s in sealed {
            let (nonce, ct) = s.unwrap_or_else(|e| panic!("a hook could not get the key: {e}"));
            winner.open(&nonce, &ct, b"c").expect("everyone sealed with the key that won");
        }
    }
}

/// Puts a policy that accepts anything in place of the agent's (a newer file), and runs a pass.
fn replace_with_permissive_policy(dir: &Path, agent: &mut SyncAgent) {
    std::thread::sleep(Duration::from_millis(20));
    policy(dir, "policy.policyc", "policy permissive {\n  rule length \"1+\" : length >= 1\n}\n");
    agent.tick();
}

#[test]
fn a_policy_change_is_loud_and_audited() {
    let (dir, _cloud, cfg) = setup(O365);
    let mut agent = SyncAgent::new(cfg.clone()).unwrap();
    replace_with_permissive_policy(dir.path(), &mut agent);
    let audit = std::fs::read_to_string(&cfg.audit_log).unwrap();
    assert!(
        audit.contains("policy changed: office365@") && audit.contains("-> permissive@"),
        "{audit}"
    );
}

#[test]
fn with_a_public_key_the_agent_runs_and_reloads_only_signed_policies() {
    use policyc_gate::signing;
    let (dir, _cloud, mut cfg) = setup(O365);
    let key = dir.path().join("signing.key");
    signing::keygen(&key).unwrap();
    cfg.policy_public_key = Some(dir.path().join("signing.key.pub"));
    let e = SyncAgent::new(cfg.clone()).unwrap_err();
    assert!(matches!(e, AgentError::Policy(_)), "the policy's error: {e:?}");
    assert!(e.to_string().contains("is not signed"), "{e}");
    let artifact = std::fs::read(&cfg.policy).unwrap();
    signing::sign(&key, &cfg.policy, &artifact, "office365", None).unwrap();
    let mut agent = SyncAgent::new(cfg.clone()).unwrap();
    assert!(agent.policy().starts_with("office365@"));
    // An unsigned replacement is refused; the signed policy stays in force.
    replace_with_permissive_policy(dir.path(), &mut agent);
    assert!(agent.policy().starts_with("office365@"));
    let audit = std::fs::read_to_string(&cfg.audit_log).unwrap();
    assert!(
        audit.contains("policy_reload_failed") && audit.contains("changed after it was signed"),
        "{audit}"
    );
    assert!(!status(&cfg).healthy, "status says the policy on disk does not load");
}

/// The hook as Samba runs it, with the agent's configuration file; `clock` runs it under
/// libfaketime with that offset from the real time (`+1h`: the machine's clock an hour fast).
fn hook_with(config: &Path, account: &str, user: &str, password: &str, clock: Option<&str>) {
    let (code, said) = hook_run(config, account, Some(user), password, clock);
    assert_eq!(code, 0, "{said}");
}

/// The hook, run with `config` for `account` (and `user`, when Samba passes one; under
/// libfaketime with `clock`), returns its exit code and standard error.
fn hook_run(
    config: &Path,
    account: &str,
    user: Option<&str>,
    password: &str,
    clock: Option<&str>,
) -> (i32, String) {
    use std::io::Write;
    let policyc = env!("CARGO_BIN_EXE_policyc");
    let mut cmd = match clock {
        Some(offset) => {
            assert!(
                Path::new("/usr/bin/faketime").exists(),
                "faketime (libfaketime) is required: scripts/test.sh installs it"
            );
            let mut c = std::process::Command::new("faketime");
            c.args(["-f", offset, policyc]);
            c
        }
        None => std::process::Command::new(policyc),
    };
    cmd.args(["hook", "samba", "--config"]).arg(config).env("SAMBA_CPS_ACCOUNT_NAME", account);
    if let Some(user) = user {
        cmd.env("SAMBA_CPS_USER_PRINCIPAL_NAME", user);
    }
    let mut child = cmd
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(password.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn after_the_clock_steps_back_a_newer_change_still_comes_after_an_older_one() {
    let (dir, cloud, _) = setup(O365);
    let d = dir.path();
    cloud.add_users(["tick@example.com"]);
    let path = config_file(d, &cloud, "", common::CLIENT_SECRET, "", "/token");
    let cfg: AgentConfig = serde_yaml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let directory = common::directory(d);
    // The first reset while the clock is an hour fast; then NTP steps it back, and the second
    // reset is queued, but not yet committed by the directory, when the agent looks.
    hook_with(&path, "tick", "tick@example.com", "Canary-Older-Xy9!", Some("+1h"));
    directory.commit("tick", "Canary-Older-Xy9!").unwrap();
    hook_with(&path, "tick", "tick@example.com", "Canary-Newer-Xy9!", None);
    let (changes, _) = policyc_gate::queue::list_pending(&cfg.queue).unwrap();
    assert!(changes[0].created_ms > changes[1].created_ms, "the wall clock did step back");
    let mut agent = SyncAgent::new(cfg.clone()).unwrap();
    let t = agent.tick();
    assert_eq!((t.delivered, t.waiting), (1, 1), "the newer change waits for its commit: {t:?}");
    directory.commit("tick", "Canary-Newer-Xy9!").unwrap();
    agent.tick();
    common::assert_holds(&cloud, "tick@example.com", "Canary-Newer-Xy9!");
    assert_eq!(pending(&cfg), 0);
    assert!(!outcomes(&cfg).contains(&"superseded".to_string()), "{:?}", outcomes(&cfg));
}

/// Two resets of one account on two DCs in the same second: AD keeps the one from the DC with
/// the higher invocation id, whatever `pwdLastSet` says. The winner can carry the earlier
/// `pwdLastSet`: ordering by it dropped the winner as `stale` and left the cloud with the loser.
#[test]
fn the_replicated_winner_is_delivered_even_with_an_earlier_pwd_last_set() {
    use policyc_agent::replication::ReplStamp;
    let (dir, cloud, cfg) = setup(O365);
    let d = dir.path();
    cloud.add_users(["twin@example.com"]);
    let q = queue(&cfg);
    let directory = common::directory(d);
    let stamp = |dc: u8| ReplStamp { version: 3, time: 13_441_015_170, invocation: [dc; 16] };
    let second = policyc_gate::queue::now_ms() / 1000 * 1000;
    // DC1's reset at .600 reaches this DC first and is delivered.
    q.enqueue("twin", Some("twin@example.com"), None, "Canary-Twin-Dc1!", "t").unwrap();
    directory.replicate_in("twin", "Canary-Twin-Dc1!", second + 600, stamp(1)).unwrap();
    let mut agent = SyncAgent::new(cfg.clone()).unwrap();
    assert_eq!(agent.tick().delivered, 1);
    // DC2's reset at .300 of the same second wins (higher invocation id) and replicates in.
    q.enqueue("twin", Some("twin@example.com"), None, "Canary-Twin-Dc2!", "t").unwrap();
    directory.replicate_in("twin", "Canary-Twin-Dc2!", second + 300, stamp(2)).unwrap();
    let t = agent.tick();
    assert_eq!(t.delivered, 1, "{t:?}");
    assert!(cloud.holds("twin@example.com", "Canary-Twin-Dc2!"), "the cloud holds AD's winner");
    // And a DC that goes back to the loser (restored from a backup) is stale, never pushed.
    q.enqueue("twin", Some("twin@example.com"), None, "Canary-Twin-Dc1!", "t").unwrap();
    directory.replicate_in("twin", "Canary-Twin-Dc1!", second + 600, stamp(1)).unwrap();
    let t = agent.tick();
    assert!(t.events.iter().any(|(o, _)| o.as_str() == "stale"), "{t:?}");
    assert!(cloud.holds("twin@example.com", "Canary-Twin-Dc2!"));
}

#[test]
fn a_delivered_password_is_never_sent_again_nor_after_a_newer_one() {
    use policyc_agent::directory::Directory as _;
    let (dir, cloud, cfg) = setup(O365);
    let d = dir.path();
    cloud.add_users(["back@example.com"]);
    let q = queue(&cfg);
    let mut directory = common::directory(d);
    let first = common::reset(&q, d, "back", "back@example.com", "Canary-Back1-Xy9!");
    let first_path = cfg.queue.join("pending").join(format!("{}.json", first.id));
    let first_bytes = std::fs::read(&first_path).unwrap();
    let first_set = directory.password("back").unwrap().unwrap().last_set_ms;
    let mut agent = SyncAgent::new(cfg.clone()).unwrap();
    assert_eq!(agent.tick().delivered, 1);
    // The record comes back (as after a crash between the cloud's answer and the removal):
    // finished as delivered, not sent again.
    std::fs::write(&first_path, &first_bytes).unwrap();
    agent.tick();
    assert_eq!(cloud.stats().set, 1, "no second PATCH of the same change");
    assert_eq!(pending(&cfg), 0);
    common::reset(&q, d, "back", "back@example.com", "Canary-Back2-Xy9!");
    assert_eq!(agent.tick().delivered, 1);
    // The domain controller is restored from a backup taken after the first reset: the
    // directory holds the first password again, and its queued record is back.
    directory.restore("back", "Canary-Back1-Xy9!", first_set).unwrap();
    std::fs::write(&first_path, &first_bytes).unwrap();
    let t = agent.tick();
    assert!(t.events.iter().any(|(o, _)| o.as_str() == "stale"), "{t:?}");
    common::assert_holds(&cloud, "back@example.com", "Canary-Back2-Xy9!");
    assert_eq!(cloud.stats().set, 2);
    assert_eq!(pending(&cfg), 0);
    // A new reset goes out as usual.
    common::reset(&q, d, "back", "back@example.com", "Canary-Back3-Xy9!");
    assert_eq!(agent.tick().delivered, 1);
    common::assert_holds(&cloud, "back@example.com", "Canary-Back3-Xy9!");
    let o = outcomes(&cfg);
    assert_eq!(o.iter().filter(|o| *o == "delivered").count(), 4, "{o:?}");
    let audit = std::fs::read_to_string(&cfg.audit_log).unwrap();
    assert!(audit.contains("not sent again") && audit.contains("never overwrites a newer"));
}

#[test]
fn with_a_notified_directory_the_newest_queued_change_is_the_committed_one() {
    // The Windows filter queues a change only once Windows stored it: no directory to ask.
    let (_dir, cloud, mut cfg) = setup(O365);
    cfg.directory = Some(policyc_agent::directory::DirectoryConfig::Notified);
    cloud.add_users(["win@example.com"]);
    let q = queue(&cfg);
    q.claim(Filler::WindowsFilter).unwrap();
    let first = q.enqueue("win", Some("win@example.com"), None, "Canary-Win1-Xy9!", "t").unwrap();
    let first_path = cfg.queue.join("pending").join(format!("{}.json", first.id));
    let first_bytes = std::fs::read(&first_path).unwrap();
    q.enqueue("win", Some("win@example.com"), None, "Canary-Win2-Xy9!", "t").unwrap();
    let mut agent = SyncAgent::new(cfg.clone()).unwrap();
    assert_eq!(agent.tick().delivered, 1);
    common::assert_holds(&cloud, "win@example.com", "Canary-Win2-Xy9!");
    // The older record put back (a restored backup) is older than what was delivered.
    std::fs::write(&first_path, first_bytes).unwrap();
    let t = agent.tick();
    assert!(t.events.iter().any(|(o, _)| o.as_str() == "stale"), "{t:?}");
    common::assert_holds(&cloud, "win@example.com", "Canary-Win2-Xy9!");
    assert_eq!(pending(&cfg), 0);
    let o = outcomes(&cfg);
    assert!(o.contains(&"superseded".to_string()), "{o:?}");
}

#[test]
fn with_a_notified_directory_a_clock_stepped_back_does_not_make_a_new_change_stale() {
    let (dir, cloud, _) = setup(O365);
    let d = dir.path();
    cloud.add_users(["tock@example.com"]);
    let path = config_file(d, &cloud, "", common::CLIENT_SECRET, "", "/token");
    let mut cfg: AgentConfig =
        serde_yaml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    cfg.directory = Some(policyc_agent::directory::DirectoryConfig::Notified);
    // Queued while the clock is an hour fast, and delivered; then NTP steps the clock back.
    hook_with(&path, "tock", "tock@example.com", "Canary-Tock1-Xy9!", Some("+1h"));
    // The hook stands in for the Windows filter (both take the queue's sequence the same way,
    // and only the hook runs under faketime here): the marker says the filter filled it.
    let marker = cfg.queue.join(policyc_gate::queue::FILLER_FILE);
    std::fs::write(&marker, "windows-filter\n").unwrap();
    let mut agent = SyncAgent::new(cfg.clone()).unwrap();
    assert_eq!(agent.tick().delivered, 1);
    std::fs::write(&marker, "samba-hook\n").unwrap();
    hook_with(&path, "tock", "tock@example.com", "Canary-Tock2-Xy9!", None);
    std::fs::write(&marker, "windows-filter\n").unwrap();
    let t = agent.tick();
    assert_eq!(t.delivered, 1, "the newer change is not stale: {t:?}");
    common::assert_holds(&cloud, "tock@example.com", "Canary-Tock2-Xy9!");
}

/// A change the directory committed is never refused because the agent cannot read the
/// breached-password store its re-check needs: it waits (`store_unavailable`, loud) and
/// delivers once the store is back.
#[test]
fn a_store_the_recheck_cannot_read_holds_the_change_until_it_is_back() {
    let dir = tempfile::tempdir().unwrap();
    let cloud = double();
    let store = common::plain_store(dir.path(), &["Summer-2024-Rocks!"]);
    let source = format!(
        "policy p {{\n  store pwned = \"{}\"\n  rule length \"Use 8+.\" : length >= 8\n  \
         rule breached \"Breached.\" : not in pwned\n}}\n",
        store.display()
    );
    policy(dir.path(), "policy.policyc", &source);
    let cfg = config(dir.path(), &cloud);
    let mut agent = SyncAgent::new(cfg.clone()).unwrap();
    let q = queue(&cfg);
    cloud.add_users(["fay@example.com", "gus@example.com"]);
    common::reset(&q, dir.path(), "fay", "fay@example.com", "Canary-Fay-Passw0rd");
    common::reset(&q, dir.path(), "gus", "gus@example.com", "Summer-2024-Rocks!");
    let moved = dir.path().join("pwned.away");
    std::fs::rename(&store, &moved).unwrap();
    for _ in 0..3 {
        agent.tick();
    }
    assert!(!cloud.has_password("fay@example.com"));
    let (pending, _) = policyc_gate::queue::list_pending(&cfg.queue).unwrap();
    assert_eq!(pending.len(), 2, "nothing dropped while the store is unreadable");
    let audit = std::fs::read_to_string(&cfg.audit_log).unwrap();
    assert!(audit.contains(r#""outcome":"store_unavailable""#), "{audit}");
    assert!(audit.contains("cannot re-check the change: rule `breached`"), "{audit}");
    std::fs::rename(&moved, &store).unwrap();
    // The handle looks again at most once a second.
    std::thread::sleep(Duration::from_millis(1100));
    drain(&mut agent, &cfg);
    assert!(cloud.holds("fay@example.com", "Canary-Fay-Passw0rd"));
    assert!(!cloud.has_password("gus@example.com"), "the breached one is refused");
    let audit = std::fs::read_to_string(&cfg.audit_log).unwrap();
    assert!(audit.contains(r#""outcome":"held_by_policy","account":"gus""#), "{audit}");
}

#[test]
fn the_replicated_model_says_what_it_needs_before_it_starts() {
    let (dir, _cloud, mut cfg) = setup(O365);
    cfg.delivery = policyc_agent::config::DeliveryModel::Replicated;
    let err = SyncAgent::new(cfg.clone()).unwrap_err();
    assert!(matches!(err, AgentError::Config(_)), "{err:?}");
    let err = err.to_string();
    assert!(err.contains("needs `gpg_secret_key`"), "{err}");
    let key = dir.path().join("sync-gpg.key");
    std::fs::write(&key, "not a key").unwrap();
    std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    cfg.gpg_secret_key = Some(key.clone());
    let err = SyncAgent::new(cfg.clone()).unwrap_err().to_string();
    assert!(err.contains("reads the replicated passwords from a Samba DC"), "{err}");
    cfg.directory = Some(policyc_agent::directory::DirectoryConfig::samba("/nonexistent/ldapi"));
    let err = SyncAgent::new(cfg.clone()).unwrap_err();
    assert!(matches!(err, AgentError::Secret(_)), "the key's error: {err:?}");
    let err = err.to_string();
    assert!(err.contains("is not an OpenPGP secret key"), "{err}");
    std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    let err = SyncAgent::new(cfg).unwrap_err().to_string();
    assert!(
        err.contains("cannot read the gpg secret key"),
        "a key others can read is refused: {err}"
    );
}

/// Issue 25 finding 8: the agent wrote account names to stderr (the journal) unescaped: a name
/// with a line break forged a `policyc agent: delivered …` line, with ANSI escapes.
#[test]
fn the_agent_escapes_what_it_writes_to_the_journal() {
    let dir = tempfile::tempdir().unwrap();
    let cloud = double();
    policy(dir.path(), "policy.policyc", O365);
    let config = config_file(dir.path(), &cloud, "", common::CLIENT_SECRET, "", "/token");
    let cfg = AgentConfig::load(&config).unwrap();
    let evil = "evil\u{1b}[31m\npolicyc agent: delivered 99, waiting 0";
    // No such cloud user: the pass reports it on stderr, naming the account.
    common::reset(&queue(&cfg), dir.path(), evil, "ghost@example.com", "Canary-Evil-Xy9!");
    let (_, stderr) = once(&config);
    assert!(stderr.contains("user_not_found"), "{stderr}");
    assert!(!stderr.contains('\u{1b}'), "an escape code reached the journal: {stderr:?}");
    assert!(
        !stderr.lines().any(|l| l.starts_with("policyc agent: delivered 99")),
        "a forged line: {stderr}"
    );
}

/// Issue 25 finding 6: the guard against recording an answer that echoes the password searched
/// the raw JSON, so a password with `"` or `\\` (escaped in JSON) slipped through into the
/// audit log, failed/, state.json and the webhook.
#[test]
fn an_echoed_password_is_caught_in_its_json_escaped_forms() {
    let (dir, cloud, mut cfg) = setup(O365);
    let (url, posted, receiver) = webhook();
    cfg.webhook = Some(url);
    cloud.add_users(["quo@example.com"]);
    let q = queue(&cfg);
    common::reset(&q, dir.path(), "quo", "quo@example.com", "Canary-Quo1-Xy9!");
    let mut agent = SyncAgent::new(cfg.clone()).unwrap();
    assert_eq!(agent.tick().delivered, 1);
    cloud.set_faults(Faults { garbage: 1.0, ..Faults::default() });
    let password = r#"Can"ary\Quo2-Xy9!"#;
    common::reset(&q, dir.path(), "quo", "quo@example.com", password);
    assert!(agent.tick().has_errors());
    drop(agent);
    let escaped = r#"Can\"ary\\Quo2-Xy9!"#;
    let audit = std::fs::read_to_string(&cfg.audit_log).unwrap();
    assert!(audit.contains("echoed the password and is not recorded"), "{audit}");
    let alarm = posted.recv_timeout(Duration::from_secs(5)).unwrap();
    drop(posted);
    receiver.join().unwrap();
    let status_text = serde_json::to_string(&status(&cfg)).unwrap();
    for (what, text) in [("audit", &audit), ("webhook", &alarm), ("status", &status_text)] {
        assert!(
            !text.contains("ary\\Quo2") && !text.contains("Quo2-Xy9"),
            "{what} holds it: {text}"
        );
        assert!(!text.contains(escaped), "{what} holds it escaped");
    }
    assert_no_cleartext(dir.path(), &[password.to_string(), "Quo2-Xy9".to_string()]);
}

/// Issue 25, item 5 (the agent's side): before, an agent with `directory: {kind: notified}`
/// delivered the Samba hook's queue unchecked (no commit check: a password Samba refused for
/// its history went to the cloud), and one with `kind: samba` took the Windows filter's queue.
#[test]
fn the_agent_refuses_a_directory_kind_that_does_not_fit_who_fills_the_queue() {
    use policyc_agent::directory::DirectoryConfig;
    let (dir, cloud, cfg) = setup(O365);
    let path = config_file(dir.path(), &cloud, "", common::CLIENT_SECRET, "", "/token");
    hook_with(&path, "sam", "sam@example.com", "Canary-Sam1-Xy9!", None);
    let marker = cfg.queue.join(policyc_gate::queue::FILLER_FILE);
    assert_eq!(std::fs::read_to_string(&marker).unwrap(), "samba-hook\n");
    let notified = AgentConfig { directory: Some(DirectoryConfig::Notified), ..cfg.clone() };
    let e = SyncAgent::new(notified.clone()).unwrap_err();
    assert!(matches!(e, AgentError::Config(_)), "{e:?}");
    let e = e.to_string();
    assert!(e.contains("filled by the Samba hook") && e.contains("kind: samba"), "{e}");
    // The Windows filter may not queue into the hook's queue either.
    let e = queue(&cfg).claim(Filler::WindowsFilter).unwrap_err().to_string();
    assert!(e.contains("filled by the Samba hook") && e.contains("own queue"), "{e}");

    // The Windows filter's queue, and an agent that would check it against a directory.
    std::fs::remove_dir_all(&cfg.queue).unwrap();
    queue(&cfg).claim(Filler::WindowsFilter).unwrap();
    let e = SyncAgent::new(cfg.clone()).unwrap_err().to_string();
    assert!(e.contains("filled by the Windows LSA filter") && e.contains("kind: notified"), "{e}");
    let e = queue(&cfg).claim(Filler::SambaHook).unwrap_err().to_string();
    assert!(e.contains("filled by the Windows LSA filter"), "{e}");
    SyncAgent::new(notified.clone()).unwrap();

    // Nothing queued yet: `notified` has no Windows filter to stand for off Windows.
    std::fs::remove_dir_all(&cfg.queue).unwrap();
    let e = SyncAgent::new(notified).unwrap_err().to_string();
    assert!(e.contains("on a Windows DC"), "{e}");
}

/// Issue 25, item 4: before, with `cloud_id: mail`, `jdoe` and `jdoe-adm` both mapping to
/// `jdoe@contoso.com` were both PATCHed, in account-name order: the user's cloud account ended
/// with the admin account's older password.
#[test]
fn two_accounts_on_one_cloud_user_deliver_neither_and_say_so() {
    use policyc_agent::directory::DirectoryDouble;
    let (dir, cloud, _) = setup(O365);
    let d = dir.path();
    cloud.add_users(["jdoe@contoso.com", "solo@contoso.com"]);
    let directory = DirectoryDouble::new(d.join("directory.json"));
    for (account, mail) in [
        ("jdoe", "jdoe@contoso.com"),
        ("jdoe-adm", "JDoe@contoso.com"),
        ("solo", "solo@contoso.com"),
    ] {
        directory.set_attribute(account, policyc_runtime::ir::Attribute::Mail, &[mail]).unwrap();
    }
    let path =
        config_file(d, &cloud, "users: {cloud_id: mail}", common::CLIENT_SECRET, "", "/token");
    let cfg = AgentConfig::load(&path).unwrap();
    let q = queue(&cfg);

    // The hook: accepted on-premises, not queued, and said so naming both accounts.
    let (code, said) = hook_run(&path, "jdoe", None, "Canary-Jdoe1-Xy9!", None);
    assert_eq!(code, 0, "{said}");
    assert!(
        said.contains("NOT SENT to the cloud")
            && said.contains("`jdoe` and `jdoe-adm` map to the same cloud user `jdoe@contoso.com`"),
        "{said}"
    );
    assert_eq!(pending(&cfg), 0);
    assert_eq!(outcomes(&cfg).last().unwrap(), "cloud_id_collision");
    let (code, _) = hook_run(&path, "solo", None, "Canary-Solo1-Xy9!", None);
    assert_eq!(code, 0);
    assert_eq!(pending(&cfg), 1, "an account of its own is queued as ever");
    directory.commit("solo", "Canary-Solo1-Xy9!").unwrap();

    // The agent: changes queued before the mapping collided (an older hook, a mail changed
    // since) are held, neither delivered, each naming the other.
    common::reset(&q, d, "jdoe", "jdoe@contoso.com", "Canary-Jdoe2-Xy9!");
    common::reset(&q, d, "jdoe-adm", "jdoe@contoso.com", "Canary-Adm2-Xy9!");
    let mut agent = SyncAgent::new(cfg.clone()).unwrap();
    let t = agent.tick();
    assert_eq!(t.delivered, 1, "only solo's: {t:?}");
    assert!(!cloud.has_password("jdoe@contoso.com"), "neither password reached the cloud");
    common::assert_holds(&cloud, "solo@contoso.com", "Canary-Solo1-Xy9!");
    let audit = std::fs::read_to_string(&cfg.audit_log).unwrap();
    let held: Vec<&str> = audit
        .lines()
        .filter(|l| l.contains(r#""outcome":"cloud_id_collision","account""#))
        .collect();
    assert_eq!(held.len(), 3, "the hook's and one for each queued change: {audit}");
    assert!(
        held.iter()
            .any(|l| l.contains(r#""account":"jdoe-adm""#) && l.contains("`jdoe-adm` and `jdoe`"))
    );
    let (failed, _) = policyc_gate::queue::list_failed(&cfg.queue).unwrap();
    assert_eq!(failed.len(), 2);
    let s = status(&cfg);
    assert!(!s.healthy, "{s:?}");

    // Without a directory to search (queued in one pass), the two still hold each other.
    std::fs::remove_file(d.join("directory.json")).unwrap();
    common::reset(&q, d, "ann", "shared@contoso.com", "Canary-Ann3-Xy9!");
    common::reset(&q, d, "bob", "shared@contoso.com", "Canary-Bob3-Xy9!");
    cloud.add_users(["shared@contoso.com"]);
    let t = agent.tick();
    assert_eq!(t.delivered, 0, "{t:?}");
    assert!(!cloud.has_password("shared@contoso.com"));
}

/// `policyc agent status --user ACCOUNT`, its exit code and standard output.
fn user_status(config: &Path, account: &str, json: bool) -> (i32, String) {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_policyc"));
    cmd.args(["agent", "status", "--config"]).arg(config).args(["--user", account]);
    if json {
        cmd.arg("--json");
    }
    let out = cmd.output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Issue 26 (the help desk's view): "did my reset reach the cloud?" was answered only by
/// grepping the audit log. Refused at the DC (with the rule's message and which DC), delivered,
/// waiting (with the last error and the next try), held, and changed in the cloud since, each in
/// one sentence, with the exit code monitoring reads, and never a password.
#[test]
fn the_help_desk_sees_one_accounts_resets_and_never_a_password() {
    use policyc_agent::directory::DirectoryDouble;
    let (dir, cloud, _) = setup(O365);
    let d = dir.path();
    cloud.add_users(["bob@example.com"]);
    let path = config_file(d, &cloud, "", common::CLIENT_SECRET, "", "/token");
    let cfg = AgentConfig::load(&path).unwrap();
    let directory = DirectoryDouble::new(d.join("directory.json"));
    let passwords = ["Cn1!xyz", "Canary-Bob1-Xy9!", "Canary-Dan1-Xy9!", "Canary-Cat1-Xy9!"];
    let (code, _) = hook_run(&path, "ann", Some("ann@example.com"), passwords[0], None);
    assert_eq!(code, 1, "too short: refused at the DC");
    for (account, password) in [("bob", passwords[1]), ("dan", passwords[2])] {
        hook_with(&path, account, &format!("{account}@example.com"), password, None);
        directory.commit(account, password).unwrap();
    }
    let mut agent = SyncAgent::new(cfg.clone()).unwrap();
    agent.tick();
    drop(agent);
    hook_with(&path, "cat", "cat@example.com", passwords[3], None);

    let (code, ann) = user_status(&path, "ANN", false);
    assert_eq!(code, 1, "{ann}");
    assert!(
        ann.contains("in short: the last reset, at ")
            && ann.contains(&format!(
                "was refused at the DC {}: rules length (\"Use 8 to 256 characters.\")",
                policyc_gate::audit::host()
            ))
            && ann.contains(&format!("hook  rejected on {} rules", policyc_gate::audit::host())),
        "{ann}"
    );
    let (code, bob) = user_status(&path, "bob", false);
    assert_eq!(code, 0, "{bob}");
    assert!(bob.contains("in short: the cloud has the password delivered at "), "{bob}");
    assert!(bob.contains("cloud user: bob@example.com") && bob.contains(" delivered"), "{bob}");
    // cat's change is committed, but the cloud throttles: when the next try is, and why.
    directory.commit("cat", passwords[3]).unwrap();
    cloud.set_faults(policyc_agent::double::Faults {
        throttle: 1.0,
        retry_after_secs: 120.0,
        ..Default::default()
    });
    assert_eq!(once(&path).0, 0);
    cloud.set_faults(policyc_agent::double::Faults::default());
    let (code, cat) = user_status(&path, "cat", false);
    assert_eq!(code, 0, "{cat}");
    assert!(cat.contains("in short: a change is waiting for the cloud since "), "{cat}");
    assert!(cat.contains("last error: throttled (429) (attempt 1)"), "{cat}");
    assert!(cat.contains("; next try at ") && cat.contains(", next try "), "{cat}");

    // bob's password changed in the cloud after the delivery (KB 2652040 cause 3).
    std::thread::sleep(Duration::from_millis(1100));
    assert!(cloud.portal_reset("bob@example.com", "Portal-Bob9-Xy9!"));
    let reconciled = std::process::Command::new(env!("CARGO_BIN_EXE_policyc"))
        .args(["agent", "reconcile", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(
        reconciled.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&reconciled.stdout)
    );
    let (code, drifted) = user_status(&path, "bob", false);
    assert_eq!(code, 1, "{drifted}");
    assert!(
        drifted.contains("in short: the directory and the cloud differ (KB 2652040 cause 3)")
            && drifted.contains("reconciliation: changed_in_cloud since "),
        "{drifted}"
    );
    let (code, dan) = user_status(&path, "dan", true);
    assert_eq!(code, 1, "{dan}");
    let dan: serde_json::Value = serde_json::from_str(&dan).unwrap();
    assert_eq!(dan["failed"].as_array().unwrap().len(), 1, "{dan}");
    assert!(dan["summary"].as_str().unwrap().contains("held in failed/ (user_not_found"), "{dan}");
    let (_, nobody) = user_status(&path, "zed", false);
    assert!(nobody.contains("nothing recorded for this account"), "{nobody}");
    for out in [&ann, &bob, &cat, &drifted, &dan.to_string()] {
        for p in passwords {
            assert!(!out.contains(p), "a password in the help desk's view: {out}");
        }
    }
}

/// Issue 26 (report-only rollout): `mode: report` never refuses: the hook accepts and records
/// `would_refuse` with the rules, the agent delivers as before and says so too; status stays
/// healthy and counts them. `--report-only` does the same for a hook run with flags.
#[test]
fn report_only_mode_refuses_nothing_and_records_what_it_would_refuse() {
    use policyc_agent::directory::DirectoryDouble;
    let strict = "policy strict {\n  rule long \"Use 20 or more characters.\" : length >= 20\n}\n";
    let (dir, cloud, _) = setup(strict);
    let d = dir.path();
    cloud.add_users(["rita@example.com"]);
    let path = config_file(d, &cloud, "mode: report", common::CLIENT_SECRET, "", "/token");
    let cfg = AgentConfig::load(&path).unwrap();
    let (code, said) = hook_run(&path, "rita", Some("rita@example.com"), "Canary-Rita1-Xy9!", None);
    assert_eq!(code, 0, "report-only never refuses: {said}");
    assert!(
        said.contains("REPORT-ONLY: the policy would refuse") && said.contains("rules: long"),
        "{said}"
    );
    DirectoryDouble::new(d.join("directory.json")).commit("rita", "Canary-Rita1-Xy9!").unwrap();
    let mut agent = SyncAgent::new(cfg.clone()).unwrap();
    assert_eq!(agent.tick().delivered, 1);
    common::assert_holds(&cloud, "rita@example.com", "Canary-Rita1-Xy9!");
    let audit = std::fs::read_to_string(&cfg.audit_log).unwrap();
    let would: Vec<&str> =
        audit.lines().filter(|l| l.contains(r#""outcome":"would_refuse""#)).collect();
    assert_eq!(would.len(), 2, "the hook's and the agent's: {audit}");
    assert!(would.iter().all(|l| l.contains(r#""rules":["long"]"#)), "{audit}");
    let s = status(&cfg);
    assert!(s.healthy, "{s:?}");
    assert_eq!(s.counts.get("would_refuse"), Some(&1), "the agent's count: {:?}", s.counts);

    // An account with no cloud user: still counted as would-refuse (the rollout's measure is
    // what the policy would refuse on the DC), saying it is not synced.
    let (code, said) = hook_run(&path, "svc", None, "Canary-Svc1-Xy9!", None);
    assert_eq!(code, 0, "{said}");
    let audit = std::fs::read_to_string(&cfg.audit_log).unwrap();
    let svc = audit.lines().find(|l| l.contains(r#""account":"svc""#)).unwrap();
    assert!(
        svc.contains(r#""outcome":"would_refuse""#) && svc.contains(r#""rules":["long"]"#),
        "{svc}"
    );
    assert!(svc.contains("not synced to the cloud"), "{svc}");
    assert_eq!(pending(&cfg), 0, "not queued");

    // Enforcing again: the same reset is refused.
    let path = config_file(d, &cloud, "", common::CLIENT_SECRET, "", "/token");
    let (code, _) = hook_run(&path, "rita", Some("rita@example.com"), "Canary-Rita2-Xy9!", None);
    assert_eq!(code, 1);
    // A hook run with flags and --report-only.
    let policy = cfg.policy.display().to_string();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_policyc"))
        .args(["hook", "samba", "--report-only", "--policy", &policy, "--audit-log"])
        .arg(d.join("flags.jsonl"))
        .env("SAMBA_CPS_ACCOUNT_NAME", "rita")
        .env("SAMBA_CPS_USER_PRINCIPAL_NAME", "rita@example.com")
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(b"Canary-Rita3-Xy9!")?;
            c.wait_with_output()
        })
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let flags = std::fs::read_to_string(d.join("flags.jsonl")).unwrap();
    assert!(flags.contains(r#""outcome":"would_refuse""#), "{flags}");
}

/// Issue 26 (monitoring): `agent run --once` from cron was reported "agent not running" 4 s
/// after it finished, so a cron set-up always alarmed. With `once_every_secs: N` a finished run
/// counts as alive until a run is overdue (N + 60 s).
#[test]
fn in_cron_mode_a_finished_run_is_alive_until_the_next_is_overdue() {
    let (dir, cloud, _) = setup(O365);
    let d = dir.path();
    let beat_ago = |secs: u64| {
        let path = d.join("queue/state.json");
        let mut state: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let now =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis()
                as u64;
        state["heartbeat_ms"] = serde_json::json!(now - secs * 1000);
        std::fs::write(&path, state.to_string()).unwrap();
    };
    let plain = config_file(d, &cloud, "", common::CLIENT_SECRET, "", "/token");
    assert_eq!(once(&plain).0, 0);
    beat_ago(10);
    let s = status(&AgentConfig::load(&plain).unwrap());
    assert!(s.problems.iter().any(|p| p.contains("agent not running since")), "{s:?}");
    let cron = config_file(d, &cloud, "once_every_secs: 300", common::CLIENT_SECRET, "", "/token");
    let cfg = AgentConfig::load(&cron).unwrap();
    assert!(status(&cfg).healthy, "{:?}", status(&cfg));
    beat_ago(300 + 61);
    let s = status(&cfg);
    assert!(
        !s.healthy && s.problems.iter().any(|p| p.contains("a run every 300 s is overdue")),
        "{s:?}"
    );
}

/// Issue 26 (monitoring covers the hook): with the audit log or the queue unwritable the hook
/// refused every compliant reset while `agent status` said healthy. The hook now leaves its
/// failures in `QUEUE/hook-health.json` (the audit log may be what failed), status probes what
/// the hook writes, and a good run of the hook clears it.
#[test]
fn status_sees_the_hook_failing_even_when_the_audit_log_is_what_failed() {
    use policyc_agent::directory::DirectoryDouble;
    let (dir, cloud, _) = setup(O365);
    let d = dir.path();
    cloud.add_users(["hal@example.com"]);
    let path = config_file(d, &cloud, "once_every_secs: 300", common::CLIENT_SECRET, "", "/token");
    let cfg = AgentConfig::load(&path).unwrap();
    assert_eq!(once(&path).0, 0);
    assert!(status(&cfg).healthy, "{:?}", status(&cfg));

    // The audit log replaced by a link: the hook refuses (fail closed) and cannot say so there.
    let audit = cfg.audit_log.clone();
    std::fs::rename(&audit, d.join("audit.moved")).unwrap();
    std::os::unix::fs::symlink(d.join("audit.moved"), &audit).unwrap();
    let (code, _) = hook_run(&path, "hal", Some("hal@example.com"), "Canary-Hal1-Xy9!", None);
    assert_eq!(code, 1);
    let s = status(&cfg);
    assert!(!s.healthy, "{s:?}");
    assert!(
        s.problems.iter().any(|p| p.contains("the hook is failing: 1 time(s)")
            && p.contains("account `hal`")
            && p.contains("AUDIT LOG UNAVAILABLE")),
        "{s:?}"
    );
    assert!(s.problems.iter().any(|p| p.contains("the audit log cannot be written")), "{s:?}");

    // Fixed, but the hook has not run since: still named; its next good run clears it.
    std::fs::remove_file(&audit).unwrap();
    std::fs::rename(d.join("audit.moved"), &audit).unwrap();
    assert!(status(&cfg).problems.iter().any(|p| p.contains("the hook is failing")));
    hook_with(&path, "hal", "hal@example.com", "Canary-Hal2-Xy9!", None);
    DirectoryDouble::new(d.join("directory.json")).commit("hal", "Canary-Hal2-Xy9!").unwrap();
    assert_eq!(once(&path).0, 0);
    assert!(status(&cfg).healthy, "{:?}", status(&cfg));

    // The queue's tmp/ unusable: the hook cannot queue, and status says so at once.
    let tmp = cfg.queue.join("tmp");
    std::fs::remove_dir_all(&tmp).unwrap();
    std::fs::write(&tmp, "not a directory").unwrap();
    let (code, said) = hook_run(&path, "hal", Some("hal@example.com"), "Canary-Hal3-Xy9!", None);
    assert_eq!(code, 1, "{said}");
    let s = status(&cfg);
    assert!(s.problems.iter().any(|p| p.contains("the hook cannot queue changes")), "{s:?}");
    assert!(
        s.problems.iter().any(|p| p.contains("the hook is failing") && p.contains("error: ")),
        "{s:?}"
    );
}

/// Issue 26 (day-2 changes): a corrected `client_secret_file` was not read again: the agent
/// kept getting 401 until it was restarted. The file is read before every token request now.
#[test]
fn a_corrected_client_secret_file_is_used_without_a_restart() {
    let (dir, cloud, _) = setup(O365);
    let d = dir.path();
    cloud.add_users(["sue@example.com"]);
    let path = config_file(d, &cloud, "", "wrong-secret", "", "/token");
    let secret = d.join("client-secret");
    std::fs::write(&secret, "wrong-secret\n").unwrap();
    std::fs::set_permissions(&secret, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let yaml = std::fs::read_to_string(&path).unwrap().replace(
        "client_secret: wrong-secret",
        &format!("client_secret_file: {}", secret.display()),
    );
    std::fs::write(&path, yaml).unwrap();
    let cfg = AgentConfig::load(&path).unwrap();
    let q = queue(&cfg);
    common::reset(&q, d, "sue", "sue@example.com", "Canary-Sue1-Xy9!");
    let mut agent = SyncAgent::new(cfg.clone()).unwrap();
    let t = agent.tick();
    assert_eq!(t.delivered, 0);
    assert!(t.events.iter().any(|(o, _)| o.as_str() == "token_refused"), "{t:?}");
    std::fs::write(&secret, format!("{}\n", common::CLIENT_SECRET)).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !cloud.has_password("sue@example.com") && Instant::now() < deadline {
        agent.tick();
        std::thread::sleep(Duration::from_millis(50));
    }
    common::assert_holds(&cloud, "sue@example.com", "Canary-Sue1-Xy9!");
}

/// `chattr +i` on a directory for as long as the guard lives: even root cannot unlink in it.
struct Immutable(std::path::PathBuf);

impl Immutable {
    fn new(dir: &Path) -> Immutable {
        let ok = std::process::Command::new("chattr").arg("+i").arg(dir).status().unwrap();
        assert!(
            ok.success(),
            "chattr +i {} failed (e2fsprogs, an ext4 file system)",
            dir.display()
        );
        Immutable(dir.to_path_buf())
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        let _ = std::process::Command::new("chattr").arg("-i").arg(&self.0).status();
    }
}

/// Issue 26 (day-2 changes): with `pending/` unremovable the agent wrote `delivered … not sent
/// again` on every pass and counted a delivery each time. Now the first failure is recorded once
/// (`queue_unwritable`), later passes only count it, status names it with the count, and once
/// the directory is fixed the record leaves without another delivery or line.
#[test]
fn a_change_that_cannot_leave_pending_is_recorded_once_with_a_count() {
    let (dir, cloud, _) = setup(O365);
    let d = dir.path();
    cloud.add_users(["ida@example.com"]);
    let path = config_file(d, &cloud, "", common::CLIENT_SECRET, "", "/token");
    let cfg = AgentConfig::load(&path).unwrap();
    let q = queue(&cfg);
    common::reset(&q, d, "ida", "ida@example.com", "Canary-Ida1-Xy9!");
    let guard = Immutable::new(&cfg.queue.join("pending"));
    for _ in 0..4 {
        once(&path);
    }
    let lines = outcomes(&cfg);
    let count = |o: &str| lines.iter().filter(|l| *l == o).count();
    assert_eq!(count("delivered"), 1, "{lines:?}");
    assert_eq!(count("queue_unwritable"), 1, "{lines:?}");
    assert_eq!(cloud.stats().set, 1, "sent once");
    let s = status(&cfg);
    assert_eq!(s.counts.get("delivered"), Some(&1), "{s:?}");
    assert!(!s.healthy);
    assert!(
        s.problems.iter().any(|p| p.contains("1 finished change(s) cannot leave pending/")
            && p.contains("4 times")
            && p.contains("not sent again")),
        "{s:?}"
    );
    drop(guard);
    once(&path);
    assert_eq!(pending(&cfg), 0);
    let lines = outcomes(&cfg);
    assert_eq!(lines.iter().filter(|l| *l == "delivered").count(), 1, "{lines:?}");
    assert_eq!(cloud.stats().set, 1);
    assert!(status(&cfg).healthy, "{:?}", status(&cfg));
}

/// Parses a Prometheus exposition and returns `(name, labels, value)` of every sample; the
/// parser refuses what is not the text format.
fn scrape(text: &str) -> Vec<(String, std::collections::BTreeMap<String, String>, f64)> {
    let lines = text.lines().map(|l| Ok(l.to_string()));
    let parsed = prometheus_parse::Scrape::parse(lines).expect("Prometheus text format");
    // Each family's samples follow its TYPE line, together (the format requires it).
    let mut family = "";
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            family = rest.split(' ').next().unwrap_or("");
        } else if !line.starts_with('#') && !line.is_empty() {
            let name = line.split(['{', ' ']).next().unwrap_or("");
            let base = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|x| name.strip_suffix(x).filter(|b| *b == family))
                .unwrap_or(name);
            assert_eq!(base, family, "`{line}` is not under its TYPE line");
        }
    }
    // Every sample's family is announced with a HELP and a TYPE line.
    for s in &parsed.samples {
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|suffix| s.metric.strip_suffix(suffix))
            .filter(|f| parsed.docs.contains_key(*f))
            .unwrap_or(&s.metric);
        assert!(parsed.docs.contains_key(family), "{} has no HELP line", s.metric);
        assert!(text.contains(&format!("# TYPE {family} ")), "{} has no TYPE line", s.metric);
    }
    parsed
        .samples
        .into_iter()
        .map(|s| {
            let value = match s.value {
                prometheus_parse::Value::Counter(v)
                | prometheus_parse::Value::Gauge(v)
                | prometheus_parse::Value::Untyped(v) => v,
                // The `+Inf` bucket: every observation.
                prometheus_parse::Value::Histogram(h) => {
                    h.iter().find(|b| b.less_than.is_infinite()).map_or(f64::NAN, |b| b.count)
                }
                prometheus_parse::Value::Summary(_) => f64::NAN,
            };
            let labels = s.labels.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            (s.metric, labels, value)
        })
        .collect()
}

/// The value of `name` with these labels (among others).
fn metric(
    samples: &[(String, std::collections::BTreeMap<String, String>, f64)],
    name: &str,
    labels: &[(&str, &str)],
) -> Option<f64> {
    samples
        .iter()
        .find(|(n, l, _)| {
            n == name && labels.iter().all(|(k, v)| l.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|(_, _, v)| *v)
}

/// Issue 26 (metrics): the agent publishes Prometheus metrics as a textfile after each pass, on
/// `listen` while it runs, and once from `agent metrics`: queue depth, outcomes of the hook and
/// the agent (would_refuse included), delivery latency, last success, drift, the policy; parsed
/// by a Prometheus text parser, and never naming an account or a password.
#[test]
fn metrics_are_published_as_a_textfile_on_a_port_and_once_and_parse() {
    let (dir, cloud, _) = setup(O365);
    let d = dir.path();
    cloud.add_users(["max@example.com", "liz@example.com"]);
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let textfile = d.join("policyc.prom");
    let extra = format!(
        "metrics: {{textfile: {}, listen: \"127.0.0.1:{port}\"}}\nsyslog: \"\"",
        textfile.display()
    );
    let path = config_file(d, &cloud, &extra, common::CLIENT_SECRET, "", "/token");
    let cfg = AgentConfig::load(&path).unwrap();
    // One refused, one accepted and delivered, one the policy refuses in report-only mode.
    assert_eq!(hook_run(&path, "max", Some("max@example.com"), "short", None).0, 1);
    hook_with(&path, "liz", "liz@example.com", "Canary-Liz1-Xy9!", None);
    common::directory(d).commit("liz", "Canary-Liz1-Xy9!").unwrap();
    let report = std::fs::read_to_string(&path).unwrap() + "mode: report\n";
    let report_path = d.join("report.yaml");
    std::fs::write(&report_path, report).unwrap();
    assert_eq!(hook_run(&report_path, "max", Some("max@example.com"), "weak", None).0, 0);
    std::fs::remove_dir_all(cfg.queue.join("pending")).unwrap();
    std::fs::create_dir(cfg.queue.join("pending")).unwrap();
    hook_with(&path, "liz", "liz@example.com", "Canary-Liz2-Xy9!", None);
    common::directory(d).commit("liz", "Canary-Liz2-Xy9!").unwrap();
    assert_eq!(once(&path).0, 0);

    // A reconciliation, so that its standings are scraped too.
    let reconciled = std::process::Command::new(env!("CARGO_BIN_EXE_policyc"))
        .args(["agent", "reconcile", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(reconciled.status.success(), "{}", String::from_utf8_lossy(&reconciled.stdout));

    let check = |text: &str| {
        for secret in ["Canary", "short", "weak", "max", "liz", "example.com"] {
            assert!(!text.contains(secret), "`{secret}` in the metrics:\n{text}");
        }
        let s = scrape(text);
        assert_eq!(metric(&s, "policyc_queue_pending", &[]), Some(0.0), "{text}");
        let hook =
            |o: &str| metric(&s, "policyc_outcomes_total", &[("source", "hook"), ("outcome", o)]);
        assert_eq!(
            (hook("rejected"), hook("accepted"), hook("would_refuse")),
            (Some(1.0), Some(2.0), Some(1.0)),
            "{text}"
        );
        let agent =
            |o: &str| metric(&s, "policyc_outcomes_total", &[("source", "agent"), ("outcome", o)]);
        assert_eq!(agent("delivered"), Some(1.0), "{text}");
        assert_eq!(metric(&s, "policyc_delivery_latency_seconds", &[]), Some(1.0), "{text}");
        assert!(text.contains("policyc_delivery_latency_seconds_count 1\n"), "{text}");
        assert!(metric(&s, "policyc_agent_last_success_timestamp_seconds", &[]).unwrap() > 1.7e9);
        assert_eq!(
            metric(&s, "policyc_policy_info", &[("name", "office365"), ("serial", "0")]),
            Some(1.0),
            "{text}"
        );
        assert_eq!(metric(&s, "policyc_policy_loaded", &[]), Some(1.0));
        assert_eq!(metric(&s, "policyc_hook_failing", &[]), Some(0.0));
        assert!(
            metric(&s, "policyc_agent_info", &[("delivery", "queue"), ("mode", "enforce")])
                .is_some()
        );
    };
    // The textfile the pass wrote, and `agent metrics`.
    check(&std::fs::read_to_string(&textfile).unwrap());
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_policyc"))
        .args(["agent", "metrics", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let scraped = String::from_utf8(out.stdout).unwrap();
    check(&scraped);
    let in_sync =
        metric(&scrape(&scraped), "policyc_reconcile_accounts", &[("standing", "in_sync")]);
    assert!(in_sync.is_some_and(|n| n >= 1.0), "{scraped}");
    // Pinned, with what changes from run to run (times, the host; the digest) replaced.
    let pinned: Vec<String> = common::redacted(&scraped, d)
        .lines()
        .map(|l| {
            let varies = ["_timestamp_seconds ", "_seconds_sum ", "policyc_agent_info{"];
            let bucket = l.contains("_bucket{") && !l.contains("+Inf");
            match l.starts_with('#') || !(bucket || varies.iter().any(|v| l.contains(v))) {
                true => l.to_string(),
                // A bucket keeps its bound; the host label goes.
                false if bucket => format!("{} [VARIES]", l.rsplit_once(' ').unwrap_or((l, "")).0),
                false => format!(
                    "{} [VARIES]",
                    l.split(' ').next().unwrap_or("").split('{').next().unwrap_or("")
                ),
            }
        })
        .collect();
    insta::assert_snapshot!("agent_metrics", pinned.join("\n"));

    // Served while the agent runs.
    let mut agent = std::process::Command::new(env!("CARGO_BIN_EXE_policyc"))
        .args(["agent", "run", "--config"])
        .arg(&path)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let body = loop {
        if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            use std::io::{Read, Write};
            write!(s, "GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n").unwrap();
            let mut r = String::new();
            s.read_to_string(&mut r).unwrap();
            break r;
        }
        assert!(Instant::now() < deadline, "the agent never served /metrics");
        std::thread::sleep(Duration::from_millis(50));
    };
    let _ = std::process::Command::new("kill").arg(agent.id().to_string()).status();
    agent.wait().unwrap();
    let (head, text) = body.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.0 200") || head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(head.contains("text/plain; version=0.0.4"), "{head}");
    check(text);

    // A textfile that cannot be written: status names it (it was only said on stderr), and
    // it clears once the file can be written again.
    let moved = d.join("textfiles-gone");
    let yaml = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        yaml.replace(
            &textfile.display().to_string(),
            &moved.join("policyc.prom").display().to_string(),
        ),
    )
    .unwrap();
    assert_eq!(once(&path).0, 0);
    let s = status(&AgentConfig::load(&path).unwrap());
    assert!(
        s.problems
            .iter()
            .any(|p| p.contains("cannot write the metrics textfile") && p.contains("stale")),
        "{s:?}"
    );
    std::fs::create_dir(&moved).unwrap();
    assert_eq!(once(&path).0, 0);
    let s = status(&AgentConfig::load(&path).unwrap());
    assert!(!s.problems.iter().any(|p| p.contains("metrics textfile")), "{s:?}");
    std::fs::write(&path, yaml).unwrap();

    // A textfile name node_exporter would not read is refused before the agent starts.
    let bad = std::fs::read_to_string(&path).unwrap().replace("policyc.prom", "policyc.txt");
    std::fs::write(&path, bad).unwrap();
    let (code, said) = once(&path);
    assert_eq!(code, 2, "{said}");
    assert!(said.contains("must end in `.prom`"), "{said}");
}

/// Issue 26 (packages and service): under systemd, the client secret comes from
/// `LoadCredential=` (`$CREDENTIALS_DIRECTORY/NAME`, `client_secret_credential: NAME`); outside
/// the unit (the doctor, by hand) from `client_secret_file`; with neither, a named error.
#[test]
fn the_client_secret_comes_from_a_systemd_credential_under_the_unit() {
    let (dir, cloud, _) = setup(O365);
    let d = dir.path();
    cloud.add_users(["una@example.com"]);
    let path = config_file(d, &cloud, "", "unused", "", "/token");
    let private = |p: &Path, text: &str| {
        std::fs::write(p, text).unwrap();
        std::fs::set_permissions(p, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    };
    let creds = d.join("credentials");
    std::fs::create_dir(&creds).unwrap();
    std::fs::set_permissions(&creds, std::os::unix::fs::PermissionsExt::from_mode(0o500)).unwrap();
    private(&creds.join("client-secret"), &format!("{}\n", common::CLIENT_SECRET));
    private(&d.join("stale-secret"), "an-old-secret\n");
    let yaml = std::fs::read_to_string(&path).unwrap().replace(
        "client_secret: unused",
        &format!(
            "client_secret_credential: client-secret\n  client_secret_file: {}",
            d.join("stale-secret").display()
        ),
    );
    std::fs::write(&path, &yaml).unwrap();
    let cfg = AgentConfig::load(&path).unwrap();
    common::reset(&queue(&cfg), d, "una", "una@example.com", "Canary-Una1-Xy9!");
    let run = |creds: Option<&Path>| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_policyc"));
        cmd.args(["agent", "run", "--once", "--config"])
            .arg(&path)
            .env_remove("CREDENTIALS_DIRECTORY");
        if let Some(c) = creds {
            cmd.env("CREDENTIALS_DIRECTORY", c);
        }
        let out = cmd.output().unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    // Outside the unit: the (stale) file, refused by the cloud.
    let (code, said) = run(None);
    assert_eq!(code, Some(1), "{said}");
    assert!(said.contains("token_refused"), "{said}");
    // Under the unit: the credential.
    let (code, said) = run(Some(&creds));
    assert_eq!(code, Some(0), "{said}");
    common::assert_holds(&cloud, "una@example.com", "Canary-Una1-Xy9!");
    // Neither: said what to do.
    std::fs::write(
        &path,
        yaml.replace(&format!("\n  client_secret_file: {}", d.join("stale-secret").display()), ""),
    )
    .unwrap();
    let (code, said) = run(None);
    assert_eq!(code, Some(2), "{said}");
    assert!(said.contains("LoadCredential=client-secret:PATH"), "{said}");
}

/// Issue 27 (the command line): `agent status > /dev/full` panicked, and `agent status`,
/// `agent failed list` panicked on a closed pipe. Now: exit 2 with a message on a full device;
/// a closed pipe keeps the command's own code.
#[test]
fn agent_commands_survive_a_full_device_and_a_closed_pipe() {
    let (_dir, _cloud, path) = configured_queue();
    let path = path.to_str().unwrap();
    for args in [
        vec!["agent", "status", "--config", path],
        vec!["agent", "status", "--config", path, "--json"],
        vec!["agent", "status", "--config", path, "--user", "ann"],
        vec!["agent", "failed", "list", "--config", path],
        vec!["agent", "metrics", "--config", path],
    ] {
        for full in [true, false] {
            let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_policyc"));
            cmd.args(&args).stderr(std::process::Stdio::piped());
            if full {
                cmd.stdout(std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap());
            } else {
                cmd.stdout(std::process::Stdio::piped());
            }
            let mut child = cmd.spawn().unwrap();
            drop(child.stdout.take());
            let out = child.wait_with_output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
            let code = out.status.code();
            match full {
                true => {
                    assert_eq!(code, Some(2), "{args:?} > /dev/full: {stderr}");
                    assert!(stderr.contains("cannot write to standard output"), "{stderr}");
                }
                false => {
                    assert!(matches!(code, Some(0 | 1)), "{args:?} | closed: {code:?} {stderr}")
                }
            }
        }
    }
}

/// Issue 27 (conventions): one flag vocabulary: `--format json` wherever `--json` was (which
/// stays, saying the same).
#[test]
fn every_json_form_answers_to_format_json() {
    let (_dir, _cloud, path) = configured_queue();
    let path = path.to_str().unwrap();
    for args in [
        vec!["agent", "status", "--config", path],
        vec!["agent", "status", "--config", path, "--user", "ann"],
        vec!["agent", "failed", "list", "--config", path],
        vec!["doctor", "--config", path],
    ] {
        let run = |extra: &[&str]| {
            let out = std::process::Command::new(env!("CARGO_BIN_EXE_policyc"))
                .args(&args)
                .args(extra)
                .output()
                .unwrap();
            String::from_utf8_lossy(&out.stdout).into_owned()
        };
        let (format, json) = (run(&["--format", "json"]), run(&["--json"]));
        // Issue 27: every JSON document (or JSON line) says its schema version first.
        let documents: Vec<serde_json::Value> = match serde_json::from_str(&format) {
            Ok(document) => vec![document],
            Err(_) => format.lines().map(|l| serde_json::from_str(l).unwrap()).collect(),
        };
        for d in &documents {
            assert_eq!(d["schema"], 1, "{args:?}: {d}");
        }
        assert!(
            format.trim().is_empty()
                || serde_json::from_str::<serde_json::Value>(format.lines().next().unwrap_or(""))
                    .is_ok()
                || serde_json::from_str::<serde_json::Value>(&format).is_ok(),
            "{args:?} --format json: {format}"
        );
        let strip = |t: &str| {
            t.lines()
                .filter(|l| {
                    !l.contains("heartbeat") && !l.contains("answered in") && !l.contains("within")
                })
                .collect::<Vec<_>>()
                .join("\n")
        };
        assert_eq!(strip(&format), strip(&json), "{args:?}");
    }
}

/// The shipped policy, a configuration file against the double, and its queue made: what the
/// read-only commands need.
fn configured_queue() -> (tempfile::TempDir, CloudDouble, std::path::PathBuf) {
    let (dir, cloud, cfg) = setup(O365);
    let path = config_file(dir.path(), &cloud, "", common::CLIENT_SECRET, "", "/token");
    queue(&cfg);
    (dir, cloud, path)
}
