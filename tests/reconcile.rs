//! Reconciliation against the directory double and the cloud double: every gap between the
//! directory and the cloud is found, named, audited and keeps `agent status` unhealthy
//! (KB 2652040 cause 3 `changed_in_cloud`; `not_delivered` for a reset the agent never saw);
//! a tenant whose `lastPasswordChangeDateTime` does not move is reported as such, never as
//! "in sync"; the paged user list honours 429 and costs one request per 999 users.
//! (Two real DCs: `tests/samba_two_dcs.rs`.)

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails by panicking"
)]

mod common;

use policyc_agent::config::AgentConfig;
use policyc_agent::double::{CloudDouble, Faults};
use policyc_agent::sync::SyncAgent;
use policyc_gate::queue::Queue;
use policyc_runtime::ir::Attribute;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

fn setup() -> (tempfile::TempDir, CloudDouble, PathBuf, AgentConfig) {
    setup_with("")
}

fn setup_with(extra: &str) -> (tempfile::TempDir, CloudDouble, PathBuf, AgentConfig) {
    let dir = tempfile::tempdir().unwrap();
    let cloud = common::cloud();
    common::office365_artifact(&dir.path().join("policy.policyc"));
    let yaml = common::agent_yaml(
        dir.path(),
        &dir.path().join("policy.policyc"),
        &cloud,
        &format!("retry: {{initial_ms: 5, max_ms: 50}}\nreconcile_interval_secs: 3600\n{extra}"),
    );
    let path = dir.path().join("agent.yaml");
    std::fs::write(&path, &yaml).unwrap();
    let cfg = AgentConfig::load(&path).unwrap();
    (dir, cloud, path, cfg)
}

fn reconcile(config: &Path, extra: &[&str]) -> (i32, serde_json::Value, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_policyc"))
        .args(["agent", "reconcile", "--config"])
        .arg(config)
        .args(extra)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let json = serde_json::from_str(&stdout).unwrap_or(serde_json::Value::Null);
    (out.status.code().unwrap_or(-1), json, stdout + &String::from_utf8_lossy(&out.stderr))
}

fn healthy(config: &Path) -> bool {
    Command::new(env!("CARGO_BIN_EXE_policyc"))
        .args(["agent", "status", "--config"])
        .arg(config)
        .output()
        .unwrap()
        .status
        .success()
}

fn finding<'r>(report: &'r serde_json::Value, account: &str) -> &'r serde_json::Value {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["account"] == account)
        .unwrap_or_else(|| panic!("no finding for {account}: {report}"))
}

/// The users, with their UPNs in the directory (the mapping reads them).
fn users(dir: &Path, cloud: &CloudDouble, names: &[&str]) {
    for n in names {
        let upn = format!("{n}@example.com");
        cloud.add_users([upn.as_str()]);
        common::directory(dir).set_attribute(n, Attribute::UserPrincipalName, &[&upn]).unwrap();
    }
}

fn deliver(q: &Queue, dir: &Path, agent: &mut SyncAgent, account: &str, password: &str) {
    common::reset(q, dir, account, &format!("{account}@example.com"), password);
    for _ in 0..50 {
        agent.tick();
        if policyc_gate::queue::list_pending(&dir.join("queue")).unwrap().0.is_empty() {
            return;
        }
    }
    panic!("{account}'s change was not delivered");
}

/// A webhook receiver on 127.0.0.1: every body posted to it, until it is dropped.
fn webhook() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let url = format!("http://127.0.0.1:{}/hook", server.server_addr().to_ip().unwrap().port());
    let got = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = got.clone();
    std::thread::spawn(move || {
        while let Ok(Some(mut req)) = server.recv_timeout(Duration::from_secs(60)) {
            let mut body = String::new();
            let _ = std::io::Read::read_to_string(req.as_reader(), &mut body);
            let _ = req.respond(tiny_http::Response::empty(204));
            sink.lock().unwrap().push(body);
        }
    });
    (url, got)
}

#[test]
fn every_gap_is_found_named_and_kept_unhealthy_until_resolved() {
    let (hook, posted) = webhook();
    let (d, cloud, config, cfg) = setup_with(&format!("webhook: {hook}"));
    let dir = d.path();
    users(dir, &cloud, &["alice", "bob", "carol"]);
    let q = Queue::open(&cfg.queue, &cfg.key_path()).unwrap();
    let mut agent = SyncAgent::new(cfg.clone()).unwrap();
    deliver(&q, dir, &mut agent, "alice", "Canary-Alice-1x!");
    deliver(&q, dir, &mut agent, "bob", "Canary-Bob-1x!");
    let (code, report, text) = reconcile(&config, &["--json"]);
    assert_eq!(code, 0, "{text}");
    assert_eq!(report["in_sync"], 2, "{report}");
    assert!(healthy(&config));

    // KB cause 3: bob's password changed in the portal (Graph's stamps are to the second).
    std::thread::sleep(Duration::from_millis(1100));
    assert!(cloud.portal_reset("bob@example.com", "Portal-Bob-2x!"));
    // A reset on a DC that runs no agent: committed in the directory, never queued.
    common::directory(dir).commit("carol", "Canary-Carol-1x!").unwrap();
    let (code, report, text) = reconcile(&config, &["--json"]);
    assert_eq!(code, 1, "{text}");
    let bob = finding(&report, "bob");
    assert_eq!(bob["standing"], "changed_in_cloud");
    assert_eq!(bob["user"], "bob@example.com");
    assert_eq!(bob["kb_cause"], 3);
    assert!(bob["remedy"].as_str().unwrap().contains("KB 2652040 cause 3"));
    let carol = finding(&report, "carol");
    assert_eq!(carol["standing"], "not_delivered");
    assert!(carol["detail"].as_str().unwrap().contains("never reached the cloud"), "{carol}");
    assert_eq!(carol["kb_cause"], 4, "set where no agent delivers from: sync broken");
    assert_eq!(report["in_sync"], 1);
    // Unhealthy, naming both, in status and the audit log; no password, no hash anywhere.
    assert!(!healthy(&config));
    let s = policyc_agent::status::status(&cfg);
    assert!(s.problems.iter().any(|p| p.starts_with("changed_in_cloud `bob`")), "{:?}", s.problems);
    assert!(s.problems.iter().any(|p| p.starts_with("not_delivered `carol`")), "{:?}", s.problems);
    let audit = std::fs::read_to_string(&cfg.audit_log).unwrap();
    assert!(audit.contains(r#""outcome":"changed_in_cloud","account":"bob""#), "{audit}");
    assert!(audit.contains(r#""outcome":"not_delivered","account":"carol""#), "{audit}");
    // The webhook heard of each gap once, without a password.
    let bodies = posted.lock().unwrap().clone();
    assert!(
        bodies.iter().any(
            |b| b.contains(r#""event":"changed_in_cloud""#) && b.contains(r#""account":"bob""#)
        ),
        "{bodies:?}"
    );
    assert!(bodies.iter().any(|b| b.contains(r#""event":"not_delivered""#) && b.contains(r#""account":"carol""#)), "{bodies:?}");
    assert!(bodies.iter().all(|b| !b.contains("Canary") && !b.contains("Portal-")), "{bodies:?}");
    // The same gaps again: no second audit line.
    let (code, _, _) = reconcile(&config, &[]);
    assert_eq!(code, 1);
    let again = std::fs::read_to_string(&cfg.audit_log).unwrap();
    assert_eq!(
        again.matches("changed_in_cloud").count(),
        audit.matches("changed_in_cloud").count()
    );
    // The text report names each gap and its remedy (golden), and status lists them.
    let (_, _, text) = reconcile(&config, &[]);
    assert!(text.starts_with("DRIFT: 3 accounts compared, 1 in sync"), "{text}");
    let status = Command::new(env!("CARGO_BIN_EXE_policyc"))
        .args(["agent", "status", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    let problems: String = String::from_utf8_lossy(&status.stdout)
        .lines()
        .filter(|l| {
            l.starts_with("health")
                || l.contains("problem: changed_in")
                || l.contains("problem: not_del")
                || l.starts_with("reconciled")
        })
        .map(|l| format!("{l}\n"))
        .collect();
    insta::assert_snapshot!(
        "reconcile_report_and_status",
        common::redacted(
            &format!(
                "$ policyc agent reconcile\n{text}\n$ policyc agent status (gaps)\n{problems}"
            ),
            dir
        )
    );

    // The admin accepts bob's cloud password; carol resets again on a DC with an agent.
    let (code, report, text) = reconcile(&config, &["--json", "--acknowledge", "bob"]);
    assert_eq!(code, 1, "carol's gap remains: {text}");
    assert_eq!(finding(&report, "bob")["standing"], "acknowledged");
    deliver(&q, dir, &mut agent, "carol", "Canary-Carol-2x!");
    // A later on-premises reset of bob is delivered as usual and overwrites the cloud's.
    deliver(&q, dir, &mut agent, "bob", "Canary-Bob-3x!");
    assert!(cloud.holds("bob@example.com", "Canary-Bob-3x!"));
    let (code, report, text) = reconcile(&config, &["--json"]);
    assert_eq!(code, 0, "{text}");
    assert_eq!(report["in_sync"], 3, "{report}");
    assert!(healthy(&config));
    let audit = std::fs::read_to_string(&cfg.audit_log).unwrap();
    assert!(audit.contains(r#""outcome":"gap_closed","account":"carol""#), "{audit}");
    assert!(audit.contains(r#""outcome":"acknowledged","account":"bob""#), "{audit}");
    for file in common::files_under(dir) {
        let text = String::from_utf8_lossy(&std::fs::read(&file).unwrap()).into_owned();
        for secret in ["Canary-", "Portal-Bob"] {
            assert!(!text.contains(secret), "{} holds a password", file.display());
        }
    }
}

#[test]
fn a_cloud_that_does_not_show_its_changes_is_never_reported_in_sync() {
    let (d, cloud, config, cfg) = setup();
    users(d.path(), &cloud, &["dave"]);
    cloud.set_admin_resets_move_stamp(false);
    let q = Queue::open(&cfg.queue, &cfg.key_path()).unwrap();
    let mut agent = SyncAgent::new(cfg.clone()).unwrap();
    deliver(&q, d.path(), &mut agent, "dave", "Canary-Dave-1x!");
    let (code, report, text) = reconcile(&config, &["--json"]);
    assert_eq!(code, 0, "not a gap: nothing is known to differ: {text}");
    assert_eq!(report["in_sync"], 0);
    let dave = finding(&report, "dave");
    assert_eq!(dave["standing"], "cloud_unobservable");
    assert!(dave["detail"].as_str().unwrap().contains("cannot be seen"), "{dave}");
    let (_, _, text) = reconcile(&config, &[]);
    assert!(text.contains("cloud_unobservable `dave`"), "{text}");
}

#[test]
fn the_paged_user_list_honours_429_and_costs_one_request_per_999_users() {
    let (d, cloud, config, cfg) = setup();
    users(d.path(), &cloud, &["erin"]);
    let many: Vec<String> = (0..1500).map(|i| format!("user{i:04}@example.com")).collect();
    cloud.add_users(many.iter().map(String::as_str));
    let q = Queue::open(&cfg.queue, &cfg.key_path()).unwrap();
    let mut agent = SyncAgent::new(cfg.clone()).unwrap();
    deliver(&q, d.path(), &mut agent, "erin", "Canary-Erin-1x!");
    let (code, report, text) = reconcile(&config, &["--json"]);
    assert_eq!(code, 0, "{text}");
    assert_eq!(report["requests"], 2, "1,501 users: two pages of at most 999");
    // Throttled: each request answered 429 a fifth of the time, with Retry-After: every run still
    // reads every page (the double's faults are random; a few runs make a 429 certain).
    cloud.set_faults(Faults { throttle: 0.2, retry_after_secs: 0.05, ..Faults::default() });
    for _ in 0..20 {
        let (code, report, text) = reconcile(&config, &["--json"]);
        assert_eq!(code, 0, "{text}");
        assert_eq!(report["in_sync"], 1, "{report}");
        if cloud.stats().faults > 0 {
            break;
        }
    }
    assert!(cloud.stats().faults > 0, "429s were answered");
    // Always throttled: reconcile gives up with an error (exit 2), never "in sync".
    cloud.set_faults(Faults { throttle: 1.0, retry_after_secs: 0.01, ..Faults::default() });
    let (code, _, text) = reconcile(&config, &[]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("cannot read the cloud's users"), "{text}");
}

/// Marks written before they kept a digest and the cloud's stamp (an agent upgraded in place):
/// reconciliation cannot compare them and says so, instead of raising a gap for every account.
#[test]
fn marks_from_before_reconciliation_are_unverified_not_gaps() {
    let (d, cloud, config, cfg) = setup();
    users(d.path(), &cloud, &["olga"]);
    let q = Queue::open(&cfg.queue, &cfg.key_path()).unwrap();
    let mut agent = SyncAgent::new(cfg.clone()).unwrap();
    deliver(&q, d.path(), &mut agent, "olga", "Canary-Olga-1x!");
    let marks = policyc_agent::marks::Marks::new(&cfg.queue);
    let mut old = marks.get("olga").unwrap().unwrap();
    (old.digest, old.stamp, old.cloud_changed, old.cloud_signal) = (None, None, None, None);
    marks.set(&old).unwrap();
    let (code, report, text) = reconcile(&config, &["--json"]);
    assert_eq!(code, 0, "{text}");
    assert_eq!(report["unverified"], 1, "{report}");
    assert!(report["findings"].as_array().unwrap().is_empty(), "{report}");
    // The next delivery writes a full mark: compared from then on.
    deliver(&q, d.path(), &mut agent, "olga", "Canary-Olga-2x!");
    let (code, report, _) = reconcile(&config, &["--json"]);
    assert_eq!((code, report["in_sync"].as_u64()), (0, Some(1)), "{report}");
}

/// A reconciliation report status cannot read is a problem it names, never "no gaps".
#[test]
fn a_damaged_report_is_not_read_as_no_gaps() {
    let (d, cloud, config, cfg) = setup();
    users(d.path(), &cloud, &["paul"]);
    let q = Queue::open(&cfg.queue, &cfg.key_path()).unwrap();
    let mut agent = SyncAgent::new(cfg.clone()).unwrap();
    deliver(&q, d.path(), &mut agent, "paul", "Canary-Paul-1x!");
    assert_eq!(reconcile(&config, &[]).0, 0);
    assert!(healthy(&config));
    std::fs::write(cfg.queue.join("reconcile.json"), b"{ torn").unwrap();
    assert!(!healthy(&config), "an unreadable report must not pass for no gaps");
    let s = policyc_agent::status::status(&cfg);
    assert!(s.problems.iter().any(|p| p.contains("reconciliation report")), "{:?}", s.problems);
}
