//! End to end with a real Samba AD DC on 127.0.0.1 (see `../shared/specs/samba-dc.md`): the
//! hook is Samba's `check password script` (sharing the agent's configuration), with group
//! lookups over Samba's privileged ldapi socket; resets go through `samba-tool` offline and
//! LDAPS admin resets and user changes against the running daemon, with Samba's password
//! history and minimum age on. Only what Samba committed reaches the cloud double through the
//! agent, which confirms each change against the account's `unicodePwd`; what the hook
//! accepted but Samba then refused is `refused_by_directory`, never delivered. The DC is always
//! stopped by its PID, also when the test fails. One DC for the whole test (its ports are
//! fixed), in phases.
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
use policyc_agent::config::AgentConfig;
use policyc_agent::double::CloudDouble;
use policyc_agent::sync::SyncAgent;
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

fn provision(t: &Path) -> Dc {
    for tool in ["samba", "samba-tool", "ldapmodify", "ldapsearch"] {
        require(tool);
    }
    let dir = tempfile::Builder::new().prefix("samba-cps.").tempdir_in("/tmp").unwrap();
    let d = dir.path().to_path_buf();
    std::fs::write(d.join("empty.conf"), "").unwrap();
    let out = run(Command::new("samba-tool")
        .args(["domain", "provision", "-s"])
        .arg(d.join("empty.conf"))
        .arg(format!("--targetdir={}", d.join("dc").display()))
        .args([
            &format!("--realm={REALM}"),
            "--domain=CPSTEST",
            "--server-role=dc",
            "--dns-backend=NONE",
        ])
        .args(["--host-name=dc1", "--host-ip=127.0.0.1", &format!("--adminpass={ADMIN_PASSWORD}")])
        .args(["--option=interfaces = 127.0.0.1", "--option=bind interfaces only = yes"])
        .args(["--option=server services = ldap, kdc"])
        .arg(format!("--option=pid directory = {}", d.join("dc/run").display()))
        .arg(format!("--option=ncalrpc dir = {}", d.join("dc/run/ncalrpc").display()))
        .arg(format!("--option=log file = {}", d.join("dc/log.%m").display())));
    assert!(out.status.success(), "provision failed:\n{}", String::from_utf8_lossy(&out.stderr));
    let dc = Dc { dir, daemon: None };
    // The hook goes in only now: at provision time it would be asked about Administrator's and
    // the DNS account's passwords. It shares the agent's configuration file.
    let script = format!(
        "\tcheck password script = {} hook samba --config {}\n",
        env!("CARGO_BIN_EXE_policyc"),
        t.join("agent.yaml").display()
    );
    let conf = std::fs::read_to_string(dc.conf()).unwrap().replacen(
        "[global]\n",
        &format!("[global]\n{script}"),
        1,
    );
    std::fs::write(dc.conf(), conf).unwrap();
    // The script runs only while complexity is on; let it alone decide, with Samba's history
    // off for the set-up.
    passwordsettings(
        &dc,
        &["--complexity=on", "--min-pwd-length=1", "--min-pwd-age=0", "--history-length=0"],
    );
    dc
}

fn passwordsettings(dc: &Dc, settings: &[&str]) {
    let out = run(Command::new("samba-tool")
        .args(["domain", "passwordsettings", "set", "-s"])
        .arg(dc.conf())
        .args(settings));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

fn samba_tool(dc: &Dc, args: &[&str]) -> Output {
    run(Command::new("samba-tool").args(args).arg("-s").arg(dc.conf()))
}

fn setpassword(dc: &Dc, password: &str) -> Output {
    samba_tool(dc, &["user", "setpassword", "alice", &format!("--newpassword={password}")])
}

fn unicode_pwd(password: &str) -> String {
    let quoted: Vec<u8> =
        format!("\"{password}\"").encode_utf16().flat_map(u16::to_le_bytes).collect();
    base64::engine::general_purpose::STANDARD.encode(quoted)
}

fn ldapmodify(bind_dn: &str, bind_password: &str, ldif: &str) -> Output {
    let mut child = Command::new("ldapmodify")
        .args(["-H", "ldaps://127.0.0.1", "-x", "-D", bind_dn, "-w", bind_password])
        .env("LDAPTLS_REQCERT", "never")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), ldif.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

/// Admin reset over LDAPS: replace unicodePwd, bound as Administrator (skips history and age).
fn ldaps_reset(dn: &str, password: &str) -> Output {
    let ldif = format!(
        "dn: {dn},{BASE}\nchangetype: modify\nreplace: unicodePwd\nunicodePwd:: {}\n-\n",
        unicode_pwd(password)
    );
    ldapmodify(&format!("CN=Administrator,CN=Users,{BASE}"), ADMIN_PASSWORD, &ldif)
}

/// The user's own change over LDAPS: delete the old unicodePwd, add the new, bound as the
/// user (history and minimum age apply).
fn ldaps_change(user: &str, dn: &str, old: &str, new: &str) -> Output {
    let ldif = format!(
        "dn: {dn},{BASE}\nchangetype: modify\ndelete: unicodePwd\nunicodePwd:: {}\n-\nadd: unicodePwd\nunicodePwd:: {}\n-\n",
        unicode_pwd(old),
        unicode_pwd(new)
    );
    ldapmodify(&format!("{user}@cpstest.lan"), old, &ldif)
}

const ALICE: &str = "CN=Alice Smith,CN=Users";
const BOB: &str = "CN=bob,CN=Users";
const CAROL: &str = "CN=carol,CN=Users";
const ADMINISTRATOR: &str = "CN=Administrator,CN=Users";

fn audit(t: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(t.join("audit.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn last_hook_record(t: &Path) -> serde_json::Value {
    audit(t).into_iter().rev().find(|e| e["source"] == "hook").unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn compile(t: &Path, source: &str) {
    let c =
        policyc::compile_str("e2e.policy", source, &policyc::CompileOptions::default()).unwrap();
    std::fs::write(t.join("policy.policyc"), c.artifact).unwrap();
}

/// office365 plus group rules: Domain Admins (a DN written with spaces after the commas and
/// another case), and Helpdesk Admins, of which carol is a member through a nested group; and
/// a rule for alice's own DN, as an imported PSO linked to her reads.
fn corp_policy() -> String {
    format!(
        "import \"{}/policies/office365.policy\"\npolicy corp extends office365 {{\n  \
         when user.memberOf has \"cn=domain admins, cn=users, dc=cpstest, dc=lan\" {{\n    \
         rule admins \"Administrators need 14 characters.\" : length >= 14\n  }}\n  \
         when user.memberOf has \"CN=Helpdesk Admins,CN=Users,DC=cpstest,DC=lan\" {{\n    \
         rule helpdesk \"Help desk administrators need 15 characters.\" : length >= 15\n  }}\n  \
         when user.memberOf has \"CN=Alice Smith,CN=Users,DC=cpstest,DC=lan\" {{\n    \
         rule alice_direct \"Alice's own policy needs 15 characters.\" : length >= 15\n  }}\n}}\n",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn write_config(t: &Path, dc: &Dc, cloud: &CloudDouble) -> AgentConfig {
    let yaml = format!(
        "policy: {d}/policy.policyc\nqueue: {d}/queue\naudit_log: {d}/audit.jsonl\n\
         directory: {{kind: samba, socket: {s}}}\ncommit_grace_secs: 2\n\
         graph:\n  base_url: {u}\n  token_url: {u}/token\n  client_id: {id}\n  client_secret: {secret}\n  timeout_secs: 5\n",
        d = t.display(),
        s = dc.dir.path().join("dc/private/ldap_priv/ldapi").display(),
        u = cloud.url(),
        id = common::CLIENT_ID,
        secret = common::CLIENT_SECRET,
    );
    std::fs::write(t.join("agent.yaml"), &yaml).unwrap();
    serde_yaml::from_str(&yaml).unwrap()
}

fn start(dc: &mut Dc) {
    let t = dc.dir.path().to_path_buf();
    let log = std::fs::File::create(t.join("samba.out")).unwrap();
    dc.daemon = Some(
        Command::new("samba")
            .arg("-s")
            .arg(dc.conf())
            .args(["-i", "--maximum-runtime=900"])
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
            return;
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
}

fn refused(out: &Output) {
    assert_eq!(out.status.code(), Some(19), "{}", text(out));
    assert!(text(out).contains("0000052D: Constraint violation"), "{}", text(out));
}

#[test]
fn samba_end_to_end_only_what_samba_committed_reaches_the_cloud() {
    let work = tempfile::tempdir().unwrap();
    let t = work.path().to_path_buf();
    let cloud = common::cloud();
    cloud.add_users(["alice@cpstest.lan", "bob@cpstest.lan", "carol@cpstest.lan"]);
    compile(&t, include_str!("../policies/office365.policy"));
    let mut dc = provision(&t);
    let cfg = write_config(&t, &dc, &cloud);

    // Offline: samba-tool against the local database, through the real dsdb password path.
    for (user, extra) in [
        ("alice", ["--given-name=Alice", "--surname=Smith"]),
        ("bob", ["--given-name=", "--surname="]),
        ("carol", ["--given-name=", "--surname="]),
    ] {
        let mut args = vec!["user", "add", user, "Good-Passw0rd-1"];
        args.extend(extra.iter().filter(|a| !a.ends_with('=')));
        let out = samba_tool(&dc, &args);
        assert!(out.status.success(), "compliant user add refused: {}", text(&out));
    }
    for (pw, rule) in
        [("Résumé12", "charset"), ("Short1!", "length"), ("Tab\there-Passw0rd", "charset")]
    {
        let out = setpassword(&dc, pw);
        assert!(!out.status.success(), "{pw:?} was accepted");
        assert!(text(&out).contains("Constraint violation"), "{}", text(&out));
        let last = last_hook_record(&t);
        assert_eq!(last["outcome"], "rejected");
        assert_eq!(last["account"], "alice");
        assert_eq!(last["rules"][0], rule, "{last}");
    }
    // Carol is in Tier1, which is in Helpdesk Admins.
    for args in [
        &["group", "add", "Helpdesk Admins"][..],
        &["group", "add", "Tier1"],
        &["group", "addmembers", "Helpdesk Admins", "Tier1"],
        &["group", "addmembers", "Tier1", "carol"],
    ] {
        let out = samba_tool(&dc, args);
        assert!(out.status.success(), "{args:?}: {}", text(&out));
    }
    // From here on the policy has group rules: without the daemon, the lookup they need
    // fails, and the hook refuses (fail closed).
    compile(&t, &corp_policy());
    let out = setpassword(&dc, "Long-Enough-Passw0rd");
    assert!(!out.status.success(), "a reset the hook could not look up was accepted");
    assert_eq!(last_hook_record(&t)["outcome"], "rejected_lookup_failed");

    // Online.
    start(&mut dc);
    // Group rules: a 12-character reset is too short for a Domain Admin and for carol (nested
    // Helpdesk Admins); the same password is fine for bob.
    let started = Instant::now();
    refused(&ldaps_reset(ADMINISTRATOR, "Short-Pass12"));
    let group_reset_time = started.elapsed();
    assert_eq!(last_hook_record(&t)["rules"], serde_json::json!(["admins"]));
    let out = ldaps_reset(BOB, "Short-Pass12");
    assert!(out.status.success(), "the same password for a non-member: {}", text(&out));
    refused(&ldaps_reset(CAROL, "Fourteen-Pass1"));
    assert_eq!(last_hook_record(&t)["rules"], serde_json::json!(["helpdesk"]));
    let out = ldaps_reset(BOB, "Fourteen-Pass1");
    assert!(out.status.success(), "bob is in no group: {}", text(&out));
    // A rule for a user's own DN (a PSO linked to the user) holds for that user.
    refused(&ldaps_reset(ALICE, "Fourteen-Pass1"));
    assert_eq!(last_hook_record(&t)["rules"], serde_json::json!(["alice_direct"]));
    // Administrator has no userPrincipalName: accepted, never queued. (An admin reset to its
    // own password: admin resets skip history.)
    let out = ldaps_reset(ADMINISTRATOR, ADMIN_PASSWORD);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(last_hook_record(&t)["outcome"], "not_synced");

    // Samba's history on: alice changes P1 -> P3 (committed), then back to P1, which the hook
    // accepts and Samba then refuses (in history).
    passwordsettings(&dc, &["--history-length=24"]);
    let out = ldaps_change("alice", ALICE, "Good-Passw0rd-1", "Good-Passw0rd-3");
    assert!(out.status.success(), "{}", text(&out));
    let out = ldaps_change("alice", ALICE, "Good-Passw0rd-3", "Good-Passw0rd-1");
    refused(&out);
    assert_eq!(
        last_hook_record(&t)["outcome"],
        "accepted",
        "the hook said yes before Samba's history said no"
    );
    // Minimum age: a second change right after the first is refused by Samba too. Samba 4.17
    // checks the age before it calls the script: the hook is not asked, nothing is queued.
    passwordsettings(&dc, &["--history-length=0", "--min-pwd-age=1"]);
    let hook_calls = audit(&t).len();
    refused(&ldaps_change("alice", ALICE, "Good-Passw0rd-3", "Good-Passw0rd-4"));
    assert_eq!(audit(&t).len(), hook_calls, "Samba refused the too-young change before the hook");
    passwordsettings(&dc, &["--min-pwd-age=0"]);
    // Two quick admin resets of bob: both committed, the second wins.
    for pw in ["Quick-Passw0rd-1", "Quick-Passw0rd-2"] {
        let out = ldaps_reset(BOB, pw);
        assert!(out.status.success(), "{}", text(&out));
    }

    // The agent, on the DC, past the grace window: it reads each account's unicodePwd.
    std::thread::sleep(Duration::from_millis(2100));
    let mut agent = SyncAgent::new(cfg.clone()).unwrap();
    let tick = agent.tick();
    assert_eq!(tick.delivered, 3, "{tick:?}");
    assert!(!tick.has_errors(), "{tick:?}");
    drop(agent);
    // `policyc store audit`: the accounts whose current password is in a breached-password
    // store, from the NT hashes Samba holds (read over ldapi as root). The list lives outside
    // `t`, whose files are checked for passwords below.
    let lists = tempfile::tempdir().unwrap();
    let list = lists.path().join("breached.txt");
    std::fs::write(&list, "Quick-Passw0rd-2\nGood-Passw0rd-1\nnever-set-Passw0rd-9\n").unwrap();
    let store = lists.path().join("pwned");
    let socket = dc.dir.path().join("dc/private/ldap_priv/ldapi");
    let policyc = env!("CARGO_BIN_EXE_policyc");
    let built = run(Command::new(policyc)
        .arg("store")
        .arg("build")
        .arg("--from")
        .arg(&list)
        .arg("-o")
        .arg(&store)
        .arg("--exact"));
    assert!(built.status.success(), "{}", text(&built));
    let audited = run(Command::new(policyc)
        .arg("store")
        .arg("audit")
        .arg(&store)
        .arg("--directory")
        .arg(&socket));
    assert_eq!(audited.status.code(), Some(1), "{}", text(&audited));
    assert_eq!(String::from_utf8_lossy(&audited.stdout), "bob\ncarol\n", "{}", text(&audited));
    assert!(
        text(&audited).contains("2 of them in the breached-password store"),
        "{}",
        text(&audited)
    );
    let printed = text(&audited).to_lowercase();
    for pw in ["Quick-Passw0rd-2", "Good-Passw0rd-1", "Good-Passw0rd-3"] {
        let hash: String =
            policyc_runtime::store::nt_hash(pw).iter().map(|b| format!("{b:02x}")).collect();
        assert!(!printed.contains(&hash), "an NT hash was printed");
        assert!(!printed.contains(&pw.to_lowercase()), "a password was printed");
    }
    // The doctor against the real DC: the hook registered in its smb.conf, the ldapi socket
    // answers, complexity on; with complexity off (Samba would not run the hook), it says so.
    let doctor = |dc: &Dc| {
        let out = run(Command::new(policyc)
            .args(["doctor", "--json", "--config"])
            .arg(t.join("agent.yaml"))
            .arg("--smb-conf")
            .arg(dc.conf()));
        let v: serde_json::Value =
            serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out)));
        let verdicts: Vec<(String, String)> = v["checks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["name"].as_str().unwrap().into(), c["verdict"].as_str().unwrap().into()))
            .collect();
        (v, verdicts)
    };
    let verdict = |v: &[(String, String)], name: &str| {
        v.iter().find(|(n, _)| n == name).map(|(_, x)| x.clone()).unwrap_or_default()
    };
    let (v, verdicts) = doctor(&dc);
    for name in ["hook", "policy", "queue", "key", "audit_log", "graph", "directory", "complexity"]
    {
        assert_eq!(verdict(&verdicts, name), "ok", "{name}: {v:#}");
    }
    passwordsettings(&dc, &["--complexity=off"]);
    let (v, verdicts) = doctor(&dc);
    assert_eq!(verdict(&verdicts, "complexity"), "fail", "{v:#}");
    passwordsettings(&dc, &["--complexity=on"]);
    dc.stop();
    common::assert_holds(&cloud, "alice@cpstest.lan", "Good-Passw0rd-3");
    common::assert_holds(&cloud, "bob@cpstest.lan", "Quick-Passw0rd-2");
    common::assert_holds(&cloud, "carol@cpstest.lan", "Good-Passw0rd-1");
    assert_eq!(cloud.stats().set, 3, "one delivery per user, nothing Samba refused");
    assert_eq!(cloud.stats().refused, 0, "nothing the cloud refuses was sent");
    let agent_outcomes: Vec<String> = audit(&t)
        .iter()
        .filter(|e| e["source"] == "agent")
        .map(|e| {
            format!(
                "{} {}",
                e["outcome"].as_str().unwrap_or(""),
                e["account"].as_str().unwrap_or("")
            )
        })
        .collect();
    let count = |what: &str| agent_outcomes.iter().filter(|o| *o == what).count();
    assert_eq!(
        count("refused_by_directory alice"),
        1,
        "the change back into history: {agent_outcomes:?}"
    );
    assert_eq!(count("superseded alice"), 1, "{agent_outcomes:?}");
    assert_eq!(count("delivered alice") + count("delivered bob") + count("delivered carol"), 3);
    assert!(count("superseded bob") >= 2, "{agent_outcomes:?}");
    for file in ["audit.jsonl"] {
        let content = std::fs::read_to_string(t.join(file)).unwrap_or_default();
        for pw in ["Good-Passw0rd-1", "Good-Passw0rd-3", "Quick-Passw0rd-2", "Résumé12", "Short1!"]
        {
            assert!(!content.contains(pw), "{file} contains a password");
        }
    }
    for file in common::files_under(&t) {
        let content = String::from_utf8_lossy(&std::fs::read(&file).unwrap()).into_owned();
        assert!(!content.contains("Passw0rd"), "{} contains a password", file.display());
    }
    eprintln!("LDAPS reset through the hook with a group lookup, refused: {group_reset_time:.0?}");
}
