//! The sync agent against the cloud double: delivery, newest-per-user, retries through faults,
//! policy drift, re-validation, health, and no cleartext anywhere on disk.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails by panicking"
)]

mod common;

use policyc::agent::config::AgentConfig;
use policyc::agent::double::{CloudDouble, Faults};
use policyc::agent::queue::Queue;
use policyc::agent::status::status;
use policyc::agent::sync::SyncAgent;
use policyc::{CompileOptions, compile_str};
use std::path::Path;
use std::time::{Duration, Instant};

fn double() -> CloudDouble {
    common::cloud()
}

/// A policy file in `dir` compiled from `source`.
fn policy(dir: &Path, name: &str, source: &str) -> std::path::PathBuf {
    let artifact = compile_str("test.policy", source, &CompileOptions::default()).unwrap().artifact;
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
        let (pending, _) = policyc::agent::queue::list_pending(&cfg.queue).unwrap();
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
    for (user, n) in [("alice", 3), ("bob", 1), ("carol", 2)] {
        for i in 0..n {
            let pw = format!("Canary-{user}-{i}-Xy9!");
            q.enqueue(user, Some(&format!("{user}@example.com")), None, &pw, "test").unwrap();
            secrets.push(pw);
        }
    }
    let mut agent = SyncAgent::new(cfg.clone()).unwrap();
    drain(&mut agent, &cfg);
    assert_eq!(cloud.password("alice@example.com").unwrap().as_str(), "Canary-alice-2-Xy9!");
    assert_eq!(cloud.password("bob@example.com").unwrap().as_str(), "Canary-bob-0-Xy9!");
    assert_eq!(cloud.password("carol@example.com").unwrap().as_str(), "Canary-carol-1-Xy9!");
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
    });
    policy(dir.path(), "policy.policyc", O365);
    let cfg = config(dir.path(), &cloud);
    let q = queue(&cfg);
    for i in 0..40 {
        q.enqueue(
            &format!("u{i}"),
            Some(&format!("u{i}@example.com")),
            None,
            &format!("Canary-{i}-Xy9!"),
            "t",
        )
        .unwrap();
    }
    let mut agent = SyncAgent::new(cfg.clone()).unwrap();
    drain(&mut agent, &cfg);
    for i in 0..40 {
        assert_eq!(
            cloud.password(&format!("u{i}@example.com")).unwrap().as_str(),
            format!("Canary-{i}-Xy9!")
        );
    }
    assert!(cloud.stats().faults > 0, "faults were injected");
    let s = status(&cfg);
    assert!(s.counts.get("retry").copied().unwrap_or(0) > 0);
    assert_eq!(s.counts.get("delivered"), Some(&40));
}

#[test]
fn a_slow_cloud_is_waited_for_and_a_timeout_is_retried() {
    let (_dir, cloud, mut cfg) = setup(O365);
    cloud.set_faults(Faults { delay: Duration::from_millis(300), ..Faults::default() });
    queue(&cfg).enqueue("gus", Some("gus@example.com"), None, "Canary-Slow-9x!", "t").unwrap();
    // Slower than the client's timeout: a retry, nothing lost.
    cfg.graph.timeout_secs = 0;
    let mut agent = SyncAgent::new(cfg.clone()).unwrap();
    let t = agent.tick();
    assert_eq!((t.delivered, t.waiting), (0, 1));
    // Within the timeout: delivered.
    cfg.graph.timeout_secs = 5;
    let mut agent = SyncAgent::new(cfg.clone()).unwrap();
    drain(&mut agent, &cfg);
    assert_eq!(cloud.password("gus@example.com").unwrap().as_str(), "Canary-Slow-9x!");
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
    queue(&cfg).enqueue("dave", Some("dave@example.com"), None, "Résumé-Canary", "t").unwrap();
    let mut agent = SyncAgent::new(cfg.clone()).unwrap();
    drain(&mut agent, &cfg);
    assert!(cloud.password("dave@example.com").is_none());
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
    q.enqueue("erin", Some("erin@example.com"), None, "Short-Canary1", "t").unwrap();
    // The policy file is replaced by a stricter one before the agent's next pass.
    std::thread::sleep(Duration::from_millis(20));
    policy(
        dir.path(),
        "policy.policyc",
        "policy strict {\n  rule length \"Use 16+.\" : length >= 16\n}\n",
    );
    drain(&mut agent, &cfg);
    assert!(cloud.password("erin@example.com").is_none());
    assert!(agent.policy().starts_with("strict@"));
    let audit = std::fs::read_to_string(&cfg.audit_log).unwrap();
    assert!(audit.contains(r#""outcome":"rejected","account":"erin""#), "{audit}");
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
    assert!(s.problems[0].contains("oldest pending change"), "{:?}", s.problems);
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
    use policyc::agent::double::cloud_policy_accepts;
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
