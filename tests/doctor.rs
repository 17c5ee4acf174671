//! `policyc doctor` (issue 26): a healthy set-up passes every check within 5 s; each broken
//! piece fails its own check, with a fix, and exit 1.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails by panicking"
)]

mod common;

use policyc_agent::directory::PasswordSettings;
use policyc_agent::double::Permissions;
use policyc_gate::queue::Queue;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const POLICYC: &str = env!("CARGO_BIN_EXE_policyc");

/// A set-up against the doubles: policy, queue with its key, an agent run (cron mode), an
/// smb.conf naming the hook, a syslog socket, a metrics directory.
struct Setup {
    dir: tempfile::TempDir,
    cloud: policyc_agent::double::CloudDouble,
    config: PathBuf,
    smb_conf: PathBuf,
    _syslog: std::os::unix::net::UnixDatagram,
}

impl Setup {
    fn new() -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let cloud = common::cloud();
        cloud.add_users(["kim@example.com"]);
        common::office365_artifact(&d.join("policy.policyc"));
        let syslog = d.join("log.sock");
        let socket = std::os::unix::net::UnixDatagram::bind(&syslog).unwrap();
        std::fs::create_dir(d.join("textfiles")).unwrap();
        let extra = format!(
            "once_every_secs: 300\nsyslog: {}\nmetrics: {{textfile: {}/textfiles/policyc.prom}}",
            syslog.display(),
            d.display()
        );
        let yaml = common::agent_yaml(d, &d.join("policy.policyc"), &cloud, &extra);
        let config = d.join("agent.yaml");
        std::fs::write(&config, yaml).unwrap();
        let settings = PasswordSettings { complexity: true, min_length: 1 };
        common::directory(d).set_password_settings(settings).unwrap();
        let queue = Queue::open(&d.join("queue"), &d.join("queue/key")).unwrap();
        common::reset(&queue, d, "kim", "kim@example.com", "Canary-Kim1-Xy9!");
        let run = Command::new(POLICYC)
            .args(["agent", "run", "--once", "--config"])
            .arg(&config)
            .output()
            .unwrap();
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
        let smb_conf = d.join("smb.conf");
        write_smb_conf(
            &smb_conf,
            &format!("check password script = {POLICYC} hook samba --config {}", config.display()),
        );
        Setup { dir, cloud, config, smb_conf, _syslog: socket }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Runs the doctor: exit code, and the checks by name (verdict, detail, fix).
    fn doctor(&self) -> (i32, Vec<serde_json::Value>) {
        self.doctor_with(&[])
    }

    /// Runs the doctor for a person: exit code and report.
    fn doctor_text(&self) -> (i32, String) {
        let out = Command::new(POLICYC)
            .args(["doctor", "--config"])
            .arg(&self.config)
            .arg("--smb-conf")
            .arg(&self.smb_conf)
            .output()
            .unwrap();
        (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned())
    }

    fn doctor_with(&self, env: &[(&str, &str)]) -> (i32, Vec<serde_json::Value>) {
        let started = Instant::now();
        let out = Command::new(POLICYC)
            .args(["doctor", "--json", "--config"])
            .arg(&self.config)
            .arg("--smb-conf")
            .arg(&self.smb_conf)
            .envs(env.iter().copied())
            .output()
            .unwrap();
        assert!(started.elapsed() < Duration::from_secs(5), "doctor took {:?}", started.elapsed());
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(!text.contains("Canary") && !text.contains(common::CLIENT_SECRET), "{text}");
        let v: serde_json::Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{e}: {text}\n{}", String::from_utf8_lossy(&out.stderr)));
        assert_eq!(v["healthy"], out.status.code() == Some(0), "{v}");
        (out.status.code().unwrap_or(-1), v["checks"].as_array().unwrap().clone())
    }
}

fn write_smb_conf(path: &Path, script: &str) {
    std::fs::write(
        path,
        format!("[global]\n\tnetbios name = DC1\n\trealm = EXAMPLE.COM\n\tworkgroup = EXAMPLE\n\tserver role = active directory domain controller\n{script}\n"),
    )
    .unwrap();
}

fn check<'a>(checks: &'a [serde_json::Value], name: &str) -> &'a serde_json::Value {
    checks
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no `{name}` check: {checks:?}"))
}

/// Asserts that `name` (and no other check) failed, with a fix, and that the detail says `words`.
fn fails(setup: &Setup, name: &str, words: &str) {
    let (code, checks) = setup.doctor();
    assert_eq!(code, 1, "{checks:#?}");
    let c = check(&checks, name);
    assert_eq!(c["verdict"], "fail", "{c}");
    assert!(c["detail"].as_str().unwrap().contains(words), "{c}");
    assert!(!c["fix"].as_str().unwrap_or("").is_empty(), "{c}");
    let others: Vec<_> =
        checks.iter().filter(|c| c["verdict"] == "fail" && c["name"] != name).collect();
    assert!(others.is_empty(), "only `{name}` should fail: {others:#?}");
}

#[test]
fn a_healthy_set_up_passes_and_each_broken_piece_fails_its_own_check_with_a_fix() {
    let s = Setup::new();
    let d = s.path().to_path_buf();
    let (code, checks) = s.doctor();
    assert_eq!(code, 0, "{checks:#?}");
    for name in [
        "config",
        "hook",
        "policy",
        "store",
        "queue",
        "key",
        "audit_log",
        "agent",
        "graph",
        "permission",
        "clock",
        "directory",
        "complexity",
        "syslog",
        "metrics",
    ] {
        assert_eq!(check(&checks, name)["verdict"], "ok", "{name}: {checks:#?}");
    }
    assert!(check(&checks, "hook")["detail"].as_str().unwrap().contains("artifact formats"));

    // The hook: not registered; registered with another configuration.
    write_smb_conf(&s.smb_conf, "");
    fails(&s, "hook", "sets no `check password script`");
    write_smb_conf(
        &s.smb_conf,
        &format!("check password script = {POLICYC} hook samba --config /etc/policyc/other.yaml"),
    );
    fails(&s, "hook", "another configuration");
    write_smb_conf(
        &s.smb_conf,
        &format!("check password script = {POLICYC} hook samba --config {}", s.config.display()),
    );

    // The policy: damaged.
    let policy = d.join("policy.policyc");
    let good = std::fs::read(&policy).unwrap();
    std::fs::write(&policy, &good[..good.len() / 2]).unwrap();
    let (code, checks) = s.doctor();
    assert_eq!(
        (code, check(&checks, "policy")["verdict"].as_str()),
        (1, Some("fail")),
        "{checks:#?}"
    );
    std::fs::write(&policy, &good).unwrap();

    // The queue: writable by others.
    let chmod = |p: &Path, mode: u32| {
        std::fs::set_permissions(p, std::os::unix::fs::PermissionsExt::from_mode(mode)).unwrap()
    };
    chmod(&d.join("queue"), 0o777);
    fails(&s, "queue", "others can write");
    chmod(&d.join("queue"), 0o700);

    // The key: readable by others.
    chmod(&d.join("queue/key"), 0o644);
    fails(&s, "key", "key");
    chmod(&d.join("queue/key"), 0o600);

    // The audit log: a symlink.
    let audit = d.join("audit.jsonl");
    std::fs::rename(&audit, d.join("audit.real")).unwrap();
    std::os::unix::fs::symlink(d.join("audit.real"), &audit).unwrap();
    fails(&s, "audit_log", "symbolic link");
    std::fs::remove_file(&audit).unwrap();
    std::fs::rename(d.join("audit.real"), &audit).unwrap();

    // The agent: its last run is overdue (cron mode, every 300 s).
    let state = d.join("queue/state.json");
    let saved = std::fs::read_to_string(&state).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&saved).unwrap();
    v["heartbeat_ms"] = serde_json::json!(v["heartbeat_ms"].as_u64().unwrap() - 3_600_000);
    std::fs::write(&state, v.to_string()).unwrap();
    fails(&s, "agent", "overdue");
    std::fs::write(&state, saved).unwrap();

    // Graph: the app may not set passwords.
    s.cloud.set_permissions(Permissions { set_passwords: false, privileged: false });
    fails(&s, "permission", "cannot set passwords");
    s.cloud.set_permissions(Permissions::default());

    // Graph: a wrong secret.
    let yaml = std::fs::read_to_string(&s.config).unwrap();
    std::fs::write(&s.config, yaml.replace(common::CLIENT_SECRET, "wrong")).unwrap();
    let (code, checks) = s.doctor();
    assert_eq!(code, 1);
    let g = check(&checks, "graph");
    assert_eq!(g["verdict"], "fail");
    assert!(g["detail"].as_str().unwrap().contains("AADSTS7000215"), "{g}");
    std::fs::write(&s.config, &yaml).unwrap();

    // The clock: ten minutes ahead of the token endpoint (libfaketime).
    assert!(
        Path::new("/usr/bin/faketime").exists(),
        "faketime is required: scripts/test.sh installs it"
    );
    let lib = [
        "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
        "/usr/lib/faketime/libfaketime.so.1",
    ]
    .into_iter()
    .find(|p| Path::new(p).exists())
    .expect("libfaketime.so.1");
    let (code, checks) = s.doctor_with(&[("LD_PRELOAD", lib), ("FAKETIME", "+600")]);
    assert_eq!(code, 1, "{checks:#?}");
    let c = check(&checks, "clock");
    assert_eq!(c["verdict"], "fail", "{checks:#?}");
    assert!(c["detail"].as_str().unwrap().contains("ahead of the token endpoint"), "{c}");

    // The directory: unreadable.
    let directory = d.join("directory.json");
    let saved = std::fs::read(&directory).unwrap();
    std::fs::write(&directory, "{ not json").unwrap();
    fails(&s, "directory", "");
    std::fs::write(&directory, saved).unwrap();

    // Complexity off: Samba would not run the hook at all.
    let off = PasswordSettings { complexity: false, min_length: 7 };
    common::directory(&d).set_password_settings(off).unwrap();
    fails(&s, "complexity", "password complexity is off");
    let on = PasswordSettings { complexity: true, min_length: 1 };
    common::directory(&d).set_password_settings(on).unwrap();

    // Syslog: not a socket.
    let yaml = std::fs::read_to_string(&s.config).unwrap();
    std::fs::write(&s.config, yaml.replace("log.sock", "agent.yaml")).unwrap();
    fails(&s, "syslog", "not a socket");
    std::fs::write(&s.config, &yaml).unwrap();

    // Metrics: a directory that is not there.
    std::fs::write(&s.config, yaml.replace("textfiles/", "missing/")).unwrap();
    fails(&s, "metrics", "does not exist");
    std::fs::write(&s.config, &yaml).unwrap();

    // A configuration that does not parse: one failed check, exit 1.
    std::fs::write(&s.config, "policy: [").unwrap();
    let (code, checks) = s.doctor();
    assert_eq!((code, checks.len()), (1, 1), "{checks:#?}");
    assert_eq!(check(&checks, "config")["verdict"], "fail");
    std::fs::write(&s.config, &yaml).unwrap();

    // The text form.
    let (code, text) = s.doctor_text();
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("all 15 checks passed"), "{text}");
}

/// What a person reads, pinned: the healthy report, and one with two failures and their fixes.
#[test]
fn the_doctor_reads_well() {
    let s = Setup::new();
    let text = |s: &Setup| {
        let (code, said) = s.doctor_text();
        format!("exit {code}\n{}", redact(&said, s))
    };
    let healthy = text(&s);
    write_smb_conf(&s.smb_conf, "");
    let key = s.path().join("queue/key");
    std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    let broken = text(&s);
    insta::assert_snapshot!("doctor_report", format!("{healthy}\n{broken}"));
}

/// The report with what changes from run to run replaced: paths, the double's port, times.
fn redact(text: &str, s: &Setup) -> String {
    let text = text.replace(POLICYC, "[POLICYC]").replace(s.cloud.url(), "http://[CLOUD]");
    let text = common::redacted(&text, s.path());
    text.lines()
        .map(|line| {
            let mut line = line.to_string();
            for (marker, stop) in [("heartbeat ", ' '), ("answered in ", ' '), ("within ", ' ')] {
                if let Some(at) = line.find(marker) {
                    let from = at + marker.len();
                    let len = line[from..].find(stop).unwrap_or(line.len() - from);
                    line.replace_range(from..from + len, "[N]");
                }
            }
            line
        })
        .collect::<Vec<_>>()
        .join("\n")
}
