//! End to end with a real Samba AD DC on 127.0.0.1 (see `../shared/specs/samba-dc.md`): the
//! hook is Samba's `check password script`; resets go through `samba-tool user setpassword`
//! and an LDAPS `unicodePwd` reset against the running daemon. Compliant resets are accepted
//! and reach the cloud double through the agent; noncompliant ones are refused by Samba with
//! its constraint-violation error, never reach the cloud, and are in the audit log with their
//! rule ids. The DC is always stopped by its PID, also when the test fails.
//!
//! Samba must be installed (`scripts/test.sh` installs it): a missing Samba fails this test.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails by panicking"
)]

mod common;

use base64::Engine as _;
use policyc::agent::sync::SyncAgent;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const REALM: &str = "CPSTEST.LAN";
const BASE: &str = "DC=cpstest,DC=lan";
const ADMIN_PASSWORD: &str = "Adm1n-Pa55word!";

/// The throwaway domain: its directory and, once started, the daemon (stopped on drop).
struct Dc {
    dir: tempfile::TempDir,
    daemon: Option<Child>,
}

impl Dc {
    fn conf(&self) -> PathBuf {
        self.dir.path().join("dc/etc/smb.conf")
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.daemon.take() {
            let pid = child.id().to_string();
            let _ = Command::new("kill").args(["-TERM", &pid]).status();
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Dc {
    fn drop(&mut self) {
        self.stop();
    }
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

fn require(tool: &str) {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "`{tool}` is not installed: Samba is required for this test (scripts/test.sh installs it)"
    );
}

fn provision(policy: &Path) -> Dc {
    for tool in ["samba", "samba-tool", "ldapmodify", "ldapsearch"] {
        require(tool);
    }
    let dir = tempfile::Builder::new().prefix("samba-cps.").tempdir_in("/tmp").unwrap();
    let t = dir.path().to_path_buf();
    std::fs::write(t.join("empty.conf"), "").unwrap();
    let out = run(Command::new("samba-tool")
        .args(["domain", "provision", "-s"])
        .arg(t.join("empty.conf"))
        .arg(format!("--targetdir={}", t.join("dc").display()))
        .args([
            &format!("--realm={REALM}"),
            "--domain=CPSTEST",
            "--server-role=dc",
            "--dns-backend=NONE",
        ])
        .args(["--host-name=dc1", "--host-ip=127.0.0.1", &format!("--adminpass={ADMIN_PASSWORD}")])
        .args(["--option=interfaces = 127.0.0.1", "--option=bind interfaces only = yes"])
        .args(["--option=server services = ldap, kdc"])
        .arg(format!("--option=pid directory = {}", t.join("dc/run").display()))
        .arg(format!("--option=ncalrpc dir = {}", t.join("dc/run/ncalrpc").display()))
        .arg(format!("--option=log file = {}", t.join("dc/log.%m").display())));
    assert!(out.status.success(), "provision failed:\n{}", String::from_utf8_lossy(&out.stderr));
    let dc = Dc { dir, daemon: None };
    // The hook goes in only now: at provision time it would be asked about Administrator's and
    // the DNS account's passwords.
    let script = format!(
        "\tcheck password script = {} hook samba --policy {} --queue {} --audit-log {}\n",
        env!("CARGO_BIN_EXE_policyc"),
        policy.display(),
        t.join("queue").display(),
        t.join("audit.jsonl").display()
    );
    let conf = std::fs::read_to_string(dc.conf()).unwrap().replacen(
        "[global]\n",
        &format!("[global]\n{script}"),
        1,
    );
    std::fs::write(dc.conf(), conf).unwrap();
    // The script runs only while complexity is on; let it alone decide.
    let out = run(Command::new("samba-tool")
        .args(["domain", "passwordsettings", "set", "-s"])
        .arg(dc.conf())
        .args(["--complexity=on", "--min-pwd-length=1", "--min-pwd-age=0", "--history-length=0"]));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    dc
}

fn setpassword(dc: &Dc, password: &str) -> Output {
    run(Command::new("samba-tool")
        .args(["user", "setpassword", "-s"])
        .arg(dc.conf())
        .args(["alice", &format!("--newpassword={password}")]))
}

fn unicode_pwd(password: &str) -> String {
    let quoted: Vec<u8> =
        format!("\"{password}\"").encode_utf16().flat_map(u16::to_le_bytes).collect();
    base64::engine::general_purpose::STANDARD.encode(quoted)
}

/// Admin reset over LDAPS: replace unicodePwd.
fn ldaps_reset(password: &str) -> Output {
    let ldif = format!(
        "dn: CN=Alice Smith,CN=Users,{BASE}\nchangetype: modify\nreplace: unicodePwd\nunicodePwd:: {}\n-\n",
        unicode_pwd(password)
    );
    let mut child = Command::new("ldapmodify")
        .args([
            "-H",
            "ldaps://127.0.0.1",
            "-x",
            "-D",
            &format!("CN=Administrator,CN=Users,{BASE}"),
            "-w",
            ADMIN_PASSWORD,
        ])
        .env("LDAPTLS_REQCERT", "never")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), ldif.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn audit(dc: &Dc) -> Vec<serde_json::Value> {
    std::fs::read_to_string(dc.dir.path().join("audit.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[test]
fn samba_refuses_what_the_cloud_would_refuse_and_the_rest_reaches_the_cloud() {
    let work = tempfile::tempdir().unwrap();
    let policy = work.path().join("office365.policyc");
    let compiled =
        policyc::compile_path("policies/office365.policy", &policyc::CompileOptions::default())
            .unwrap();
    std::fs::write(&policy, compiled.artifact).unwrap();
    let mut dc = provision(&policy);

    // Offline: samba-tool against the local database, through the real dsdb password path.
    let out = run(Command::new("samba-tool").args(["user", "add", "-s"]).arg(dc.conf()).args([
        "alice",
        "Good-Passw0rd-1",
        "--given-name=Alice",
        "--surname=Smith",
    ]));
    assert!(out.status.success(), "compliant user add refused: {}", text(&out));
    for (pw, rule) in
        [("Résumé12", "charset"), ("Short1!", "length"), ("Tab\there-Passw0rd", "charset")]
    {
        let out = setpassword(&dc, pw);
        assert!(!out.status.success(), "{pw:?} was accepted");
        assert!(text(&out).contains("Constraint violation"), "{}", text(&out));
        let last = audit(&dc).pop().unwrap();
        assert_eq!(last["outcome"], "rejected");
        assert_eq!(last["account"], "alice");
        assert_eq!(last["rules"][0], rule, "{last}");
    }

    // Online: the daemon, and an LDAPS admin reset.
    let t = dc.dir.path().to_path_buf();
    let log = std::fs::File::create(t.join("samba.out")).unwrap();
    dc.daemon = Some(
        Command::new("samba")
            .arg("-s")
            .arg(dc.conf())
            .args(["-i", "--maximum-runtime=600"])
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let probe = run(Command::new("ldapsearch").args([
            "-x",
            "-H",
            "ldap://127.0.0.1",
            "-s",
            "base",
            "-b",
            "",
            "namingContexts",
        ]));
        if probe.status.success() {
            break;
        }
        if let Some(d) = dc.daemon.as_mut()
            && let Ok(Some(status)) = d.try_wait()
        {
            panic!(
                "samba exited ({status}): {}",
                std::fs::read_to_string(t.join("samba.out")).unwrap_or_default()
            );
        }
        assert!(Instant::now() < deadline, "samba did not answer LDAP within 60 s");
        std::thread::sleep(Duration::from_millis(200));
    }
    let started = Instant::now();
    let out = ldaps_reset("Good-Passw0rd-2");
    let accept_time = started.elapsed();
    assert!(out.status.success(), "compliant LDAPS reset refused: {}", text(&out));
    let out = ldaps_reset("Résumé12");
    assert_eq!(out.status.code(), Some(19), "{}", text(&out));
    assert!(text(&out).contains("0000052D: Constraint violation"), "{}", text(&out));
    assert_eq!(audit(&dc).pop().unwrap()["rules"][0], "charset");
    dc.stop();

    // The agent delivers the accepted changes; only the newest reaches the cloud.
    let cloud = common::cloud();
    let yaml = common::agent_yaml(&t, &policy, &cloud, "");
    let mut agent = SyncAgent::new(serde_yaml::from_str(&yaml).unwrap()).unwrap();
    let tick = agent.tick();
    assert_eq!(tick.delivered, 1);
    assert_eq!(cloud.password("alice@cpstest.lan").unwrap().as_str(), "Good-Passw0rd-2");
    assert_eq!(cloud.stats().refused, 0, "nothing the cloud refuses was sent");
    let outcomes: Vec<String> =
        audit(&dc).iter().map(|e| e["outcome"].as_str().unwrap_or("").to_string()).collect();
    assert_eq!(outcomes.iter().filter(|o| *o == "rejected").count(), 4, "{outcomes:?}");
    assert!(outcomes.contains(&"delivered".to_string()));
    for file in ["audit.jsonl", "samba.out"] {
        let content = std::fs::read_to_string(t.join(file)).unwrap_or_default();
        for pw in ["Good-Passw0rd-1", "Good-Passw0rd-2", "Résumé12", "Short1!"] {
            assert!(!content.contains(pw), "{file} contains a password");
        }
    }
    eprintln!("LDAPS reset through the hook, accepted: {accept_time:.0?}");
}
