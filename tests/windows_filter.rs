//! The Windows LSA filter (`lsa/`), built for x86_64-pc-windows-gnu by `scripts/windows.sh` and
//! run under Wine by `policyc-filter-test.exe`, which loads the DLL and calls its exports as
//! LSA does. The event log is Wine's: `ReportEventW` prints each entry on its `eventlog` debug
//! channel (standard error here). Wine needs `scripts/windows.sh` to succeed: a missing
//! toolchain or Wine fails these tests, never skips them. One Wine prefix is shared by the
//! tests, which take turns (the registry settings are per prefix).
//!
//! Under Wine, a file's DACL is made from its Unix mode: the filter runs with umask 077, as
//! the protected DACL it gives its directories would have its files on Windows.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails by panicking"
)]

mod common;

use policyc::{Context, Validator};
use policyc_runtime::ir::Attribute;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::Duration;

struct Wine {
    prefix: tempfile::TempDir,
    bin: PathBuf,
}

static WINE: OnceLock<Wine> = OnceLock::new();
static TURN: Mutex<()> = Mutex::new(());

/// Builds the DLL (once per test run) and takes this test's turn with the Wine prefix.
fn wine() -> (&'static Wine, MutexGuard<'static, ()>) {
    let turn = TURN.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let w = WINE.get_or_init(|| {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let out = Command::new(root.join("scripts/windows.sh")).output().unwrap();
        assert!(
            out.status.success(),
            "scripts/windows.sh failed (the Windows filter needs the rustup target, mingw-w64 and wine64):\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        Wine {
            prefix: tempfile::Builder::new().prefix("policyc-wine.").tempdir().unwrap(),
            bin: root.join("target/windows"),
        }
    });
    (w, turn)
}

/// A Linux path as Wine shows it to Windows programs.
fn win(p: &Path) -> String {
    format!("Z:{}", p.display().to_string().replace('/', "\\"))
}

struct Run {
    stdout: String,
    /// Wine's messages, the event log among them.
    stderr: String,
}

impl Run {
    fn lines(&self) -> Vec<&str> {
        self.stdout.lines().collect()
    }

    /// The event log entries (`err` errors, `warn` warnings, `trace` information).
    fn events(&self) -> Vec<&str> {
        self.stderr.lines().filter(|l| l.contains(":eventlog:ReportEventW")).collect()
    }
}

/// A `policyc-filter-test.exe` process under Wine (`kind`: `release` or `panic-test`), with
/// umask 077.
fn spawn(w: &Wine, kind: &str, args: &[&str]) -> std::process::Child {
    spawn_with_umask(w, kind, args, "077")
}

/// The same with another umask (what Wine turns into the DACL of the files it creates).
fn spawn_with_umask(w: &Wine, kind: &str, args: &[&str], umask: &str) -> std::process::Child {
    let dir = w.bin.join(kind);
    Command::new("sh")
        .arg("-c")
        .arg(format!("umask {umask}; exec /usr/lib/wine/wine64 \"$@\""))
        .arg("sh")
        .arg(dir.join("policyc-filter-test.exe"))
        .args(args)
        .current_dir(&dir)
        .env("WINEPREFIX", w.prefix.path())
        .env("WINEDEBUG", "-all,+eventlog")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Runs the test program with `input` on standard input.
fn run(w: &Wine, kind: &str, args: &[&str], input: &str) -> Run {
    let mut child = spawn(w, kind, args);
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let run = Run {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(out.status.success(), "the test program failed:\n{}\n{}", run.stdout, run.stderr);
    run
}

/// A place for one test's files, and the settings that point the filter at them.
struct Site {
    dir: tempfile::TempDir,
}

impl Site {
    fn new() -> Site {
        let dir = tempfile::tempdir().unwrap();
        Site { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `--configure` arguments: this site's policy, queue and audit log, and `extra`.
    fn settings(&self, extra: &[&str]) -> Vec<String> {
        let mut a: Vec<String> = ["--configure", "--policy"].map(String::from).to_vec();
        a.push(win(&self.path("policy.policyc")));
        a.extend(["--queue".into(), win(&self.path("queue"))]);
        a.extend(["--audit-log".into(), win(&self.path("audit.jsonl"))]);
        a.extend(extra.iter().map(|s| (*s).to_string()));
        a
    }

    fn audit(&self) -> String {
        std::fs::read_to_string(self.path("audit.jsonl")).unwrap_or_default()
    }
}

fn args(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

fn hex(password: &str) -> String {
    password.encode_utf16().map(|u| format!("{u:04x}")).collect()
}

fn compile(policy: &str, to: &Path) -> Validator {
    let c = policyc::compile_path(policy, &policyc::CompileOptions::default()).unwrap();
    std::fs::write(to, &c.artifact).unwrap();
    Validator::from_bytes(&c.artifact).unwrap()
}

/// Every password of a case file.
fn case_passwords(file: &str) -> Vec<String> {
    let suite = policyc_cli::cases::load(Path::new(file)).unwrap();
    let base = Path::new(file).parent().unwrap();
    let mut out = Vec::new();
    for case in &suite.file.cases {
        for p in case.passwords(base).unwrap() {
            out.push(p.to_string());
        }
    }
    out
}

#[test]
fn the_shipped_policies_give_the_linux_verdicts_through_the_dll() {
    let (w, _turn) = wine();
    for (policy, cases) in [
        ("policies/office365.policy", "policies/tests/office365.yaml"),
        (
            "policies/entra-password-protection.policy",
            "policies/tests/entra-password-protection.yaml",
        ),
    ] {
        let site = Site::new();
        let validator = compile(policy, &site.path("policy.policyc"));
        let mut passwords = case_passwords(cases);
        let canary = "Canary-Wine-Xy9!";
        passwords.extend(
            ["", "a", "Résumé-12x", "jdoe-Summer-2024!", "😀😀😀Aa1!xyz", canary].map(String::from),
        );
        let input: String = passwords.iter().map(|p| hex(p) + "\n").collect();
        let mut a = site.settings(&["--utf16-hex", "--account", "jdoe", "--full-name", "John Doe"]);
        a.insert(0, "--change".into());
        let r = run(w, "release", &args(&a), &input);
        let ctx = Context::new()
            .with(Attribute::SamAccountName, "jdoe")
            .with(Attribute::DisplayName, "John Doe");
        assert_eq!(r.lines().len(), passwords.len(), "{}", r.stdout);
        for (p, line) in passwords.iter().zip(r.lines()) {
            let v = validator.check(p, &ctx);
            let expected = if v.is_compliant() {
                "ACCEPT accepted".to_string()
            } else {
                let why: Vec<&str> = v.violations().iter().map(|v| v.message()).collect();
                format!("REFUSE refused: {}", why.join(" "))
            };
            assert_eq!(line, expected, "{policy}: {p:?}");
        }
        assert!(!r.stderr.contains(":err:"), "{}", r.stderr);
        // Refusals are warnings in the event log; the audit log has a line per decision.
        let refused = r.lines().iter().filter(|l| l.starts_with("REFUSE")).count();
        assert_eq!(r.events().iter().filter(|e| e.contains(":warn:")).count(), refused);
        let audit = site.audit();
        assert_eq!(
            audit.lines().filter(|l| l.contains(r#""source":"filter""#)).count(),
            passwords.len() + 1
        );
        assert!(!r.stderr.contains(canary) && !audit.contains(canary), "a password leaked");
    }
}

#[test]
fn strings_that_are_not_text_are_refused_with_their_reason_and_machine_accounts_pass() {
    let (w, _turn) = wine();
    let site = Site::new();
    compile("policies/office365.policy", &site.path("policy.policyc"));
    let a = site.settings(&[]);
    let cases: [(&[&str], &str, &str); 7] = [
        (&["--null-password"], "", "REFUSE no_password: LSA passed no password"),
        (&["--null-buffer"], "", "REFUSE invalid_text: the string has a length but no buffer"),
        (
            &["--odd-length"],
            "Correct-Horse-9x!\n",
            "REFUSE invalid_text: the string's length (33 bytes) is odd: not UTF-16",
        ),
        (
            &["--utf16-hex"],
            "0041d800004200310021\n",
            "REFUSE invalid_text: the text holds an unpaired UTF-16 surrogate at unit 1: it is not Unicode text",
        ),
        // UNICODE_STRING's Length is 16 bits: 32,767 units is the longest password LSA can pass.
        (
            &["--max-length"],
            "",
            "REFUSE refused: The password is too long to check (more than 4096 bytes).",
        ),
        (&["--account", "DC01$"], "short\n", "ACCEPT machine_account"),
        // A name that is not text would otherwise be checked as no name: refused.
        (
            &["--odd-account"],
            "Correct-Horse-9x!\n",
            "REFUSE invalid_text: the string's length (11 bytes) is odd: not UTF-16",
        ),
    ];
    for (extra, input, expected) in cases {
        let mut all = args(&a);
        all.extend_from_slice(extra);
        let r = run(w, "release", &all, input);
        assert_eq!(r.lines(), [expected], "{extra:?}\n{}", r.stderr);
    }
    // A 1 MB password: UNICODE_STRING cannot carry it (the test program passes what LSA could,
    // 65,534 bytes), and the DLL answers at once.
    let r = run(w, "release", &args(&a), &format!("{}\n", "x".repeat(1 << 20)));
    assert_eq!(
        r.lines(),
        ["REFUSE refused: The password is too long to check (more than 4096 bytes)."]
    );
    let audit = site.audit();
    assert!(audit.contains(r#""outcome":"machine_account""#), "{audit}");
    assert!(audit.contains("unpaired UTF-16 surrogate"), "{audit}");
}

#[test]
fn a_missing_or_damaged_policy_follows_the_fail_mode_loudly() {
    let (w, _turn) = wine();
    let site = Site::new();
    // Missing: refused by default, accepted unchecked when failing open; loud either way.
    let r = run(w, "release", &args(&site.settings(&[])), "Correct-Horse-9x!\n");
    assert!(r.lines()[0].starts_with("REFUSE no_policy: POLICY UNAVAILABLE ("), "{}", r.stdout);
    assert!(r.lines()[0].ends_with("FAIL-CLOSED: refused"), "{}", r.stdout);
    assert!(
        r.events().iter().any(|e| e.contains(":err:") && e.contains("POLICY UNAVAILABLE")),
        "{}",
        r.stderr
    );
    let r = run(w, "release", &args(&site.settings(&["--fail-open"])), "Correct-Horse-9x!\n");
    assert!(r.lines()[0].starts_with("ACCEPT no_policy"), "{}", r.stdout);
    assert!(
        r.events().iter().any(|e| e.contains(":err:") && e.contains("FAIL-OPEN")),
        "{}",
        r.stderr
    );
    // Damaged: the same, naming the damage.
    std::fs::write(site.path("policy.policyc"), b"PLCY garbage that is not an artifact").unwrap();
    let r = run(w, "release", &args(&site.settings(&[])), "Correct-Horse-9x!\n");
    assert!(r.lines()[0].starts_with("REFUSE no_policy: POLICY UNAVAILABLE ("), "{}", r.stdout);
    let audit = site.audit();
    assert!(
        audit.contains(r#""outcome":"rejected_no_policy""#)
            && audit.contains(r#""outcome":"accepted_unchecked""#),
        "{audit}"
    );
}

#[test]
fn a_policy_replaced_while_loaded_is_verified_then_used() {
    let (w, _turn) = wine();
    let site = Site::new();
    let policy = site.path("policy.policyc");
    compile("policies/office365.policy", &policy);
    let mut child = spawn(w, "release", &args(&site.settings(&[])));
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut ask = |password: &str| {
        stdin.write_all(format!("{password}\n").as_bytes()).unwrap();
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        line.trim_end().to_string()
    };
    assert!(ask("Short1!").starts_with("REFUSE refused"));
    // A permissive policy replaces it while LSASS runs: used after the next check (1 s).
    let permissive = policyc::compile_str(
        "p.policy",
        "policy permissive {\n  rule r \"1+\" : length >= 1\n}\n",
        &Default::default(),
    )
    .unwrap();
    std::fs::write(&policy, &permissive.artifact).unwrap();
    std::thread::sleep(Duration::from_millis(1200));
    assert_eq!(ask("Short1!"), "ACCEPT accepted");
    // A damaged replacement does not verify: the running policy stays, loudly.
    std::fs::write(&policy, b"not an artifact at all").unwrap();
    std::thread::sleep(Duration::from_millis(1200));
    assert_eq!(ask("Short1!"), "ACCEPT accepted");
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let audit = site.audit();
    assert!(
        audit.contains("policy changed: office365@") && audit.contains("-> permissive@"),
        "{audit}"
    );
    assert!(
        audit.contains(r#""outcome":"policy_reload_failed""#)
            && audit.contains("keeping permissive@"),
        "{audit}"
    );
    assert!(stderr.contains("POLICY UNUSABLE"), "{stderr}");
}

#[test]
fn a_panic_inside_the_filter_is_caught_and_answered_by_the_fail_mode() {
    let (w, _turn) = wine();
    let site = Site::new();
    compile("policies/office365.policy", &site.path("policy.policyc"));
    for (extra, expected) in [
        (&[][..], ["REFUSE internal_error: internal error (caught)", "REFUSE"]),
        (&["--fail-open"][..], ["ACCEPT internal_error", "ACCEPT"]),
    ] {
        let mut a = site.settings(&["--account", "policyc-panic-test"]);
        a.extend(extra.iter().map(|s| (*s).to_string()));
        // Two calls: the first panic is answered, and the DLL goes on answering.
        let r = run(w, "panic-test", &args(&a), "Correct-Horse-9x!\nCorrect-Horse-9x!\n");
        assert_eq!(r.lines(), [expected[0], expected[0]], "{}", r.stderr);
        let mut plain = a.clone();
        plain.push("--plain".into());
        let r2 = run(w, "panic-test", &args(&plain), "Correct-Horse-9x!\n");
        assert_eq!(r2.lines(), [expected[1]], "{}", r2.stderr);
        assert!(
            r.events().iter().any(|e| e.contains("internal error at") && e.contains("(caught)")),
            "{}",
            r.stderr
        );
        assert!(!r.stderr.contains("injected"), "a panic's payload never reaches a log");
    }
}

#[test]
fn a_stored_password_is_queued_and_the_agent_delivers_it() {
    let (w, _turn) = wine();
    let site = Site::new();
    let d = site.dir.path();
    compile("policies/office365.policy", &site.path("policy.policyc"));
    let canary = "Canary-Lsa-Xy9!";
    let r = run(
        w,
        "release",
        &args(&site.settings(&["--notify", "--account", "alice", "--upn-suffix", "example.com"])),
        &format!("{canary}\n"),
    );
    assert_eq!(r.lines(), ["ACCEPT accepted", "NOTIFY 0x0"], "{}", r.stderr);
    let audit = site.audit();
    assert!(
        audit.contains(r#""outcome":"queued","account":"alice","user":"alice@example.com""#),
        "{audit}"
    );
    // The agent, on Windows too, delivers what the filter queued: the filter queues only
    // passwords Windows stored, so the agent's directory is `notified`.
    let cloud = common::cloud();
    cloud.add_users(["alice@example.com"]);
    let config = site.path("agent.yaml");
    std::fs::write(
        &config,
        format!(
            "policy: '{p}'\nqueue: '{q}'\naudit_log: '{a}'\ndirectory: {{kind: notified}}\ngraph:\n  base_url: {u}\n  \
             token_url: {u}/token\n  client_id: {id}\n  client_secret: {secret}\n",
            p = win(&site.path("policy.policyc")),
            q = win(&site.path("queue")),
            a = win(&site.path("agent-audit.jsonl")),
            u = cloud.url(),
            id = common::CLIENT_ID,
            secret = common::CLIENT_SECRET
        ),
    )
    .unwrap();
    let mut agent = Command::new("sh")
        .arg("-c")
        .arg("umask 077; exec /usr/lib/wine/wine64 \"$@\"")
        .arg("sh")
        .arg(w.bin.join("release/policyc.exe"))
        .args(["agent", "run", "--once", "--config"])
        .arg(win(&config))
        .current_dir(w.bin.join("release"))
        .env("WINEPREFIX", w.prefix.path())
        .env("WINEDEBUG", "-all")
        .output()
        .unwrap();
    agent.stderr.extend_from_slice(&agent.stdout);
    let said = String::from_utf8_lossy(&agent.stderr).into_owned();
    assert!(agent.status.success(), "{said}");
    assert!(said.contains("delivered 1, waiting 0"), "{said}");
    common::assert_holds(&cloud, "alice@example.com", canary);
    let delivered = std::fs::read_to_string(site.path("agent-audit.jsonl")).unwrap();
    assert!(delivered.contains(r#""outcome":"delivered","account":"alice""#), "{delivered}");
    // No cleartext anywhere: queue, audit logs, the event log.
    for f in common::files_under(d) {
        let bytes = std::fs::read(&f).unwrap();
        assert!(!String::from_utf8_lossy(&bytes).contains(canary), "cleartext in {}", f.display());
        let utf16: Vec<u8> = canary.encode_utf16().flat_map(u16::to_le_bytes).collect();
        assert!(
            !bytes.windows(utf16.len()).any(|w| w == utf16),
            "UTF-16 cleartext in {}",
            f.display()
        );
    }
    assert!(!r.stderr.contains(canary) && !r.stdout.contains(canary) && !said.contains(canary));
}

#[test]
fn the_bench_mode_runs() {
    let (w, _turn) = wine();
    let site = Site::new();
    compile("policies/entra-password-protection.policy", &site.path("policy.policyc"));
    let mut a = site.settings(&["--bench", "200"]);
    a.push("--account".into());
    a.push("jdoe".into());
    let r = run(w, "release", &args(&a), "Correct-Horse-Battery-9x!\n");
    assert!(r.lines()[0].starts_with("PasswordFilter x200: p50 "), "{}", r.stdout);
}

#[test]
fn a_queue_key_others_may_read_is_refused_by_its_dacl() {
    let (w, _turn) = wine();
    let site = Site::new();
    compile("policies/office365.policy", &site.path("policy.policyc"));
    // Files made with umask 022: Wine gives Everyone (S-1-1-0) read access in their DACL.
    let mut child = spawn_with_umask(
        w,
        "release",
        &args(&site.settings(&["--notify", "--account", "alice", "--upn-suffix", "example.com"])),
        "022",
    );
    child.stdin.take().unwrap().write_all(b"Canary-Acl-Xy9!\n").unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stdout.starts_with("ACCEPT accepted\nNOTIFY 0x0"), "{stdout}");
    let audit = site.audit();
    assert!(
        audit.contains("NOT QUEUED")
            && audit.contains("gives S-1-1-0 access rights")
            && audit.contains("icacls"),
        "{audit}"
    );
    assert!(stderr.contains(":err:eventlog") && stderr.contains("NOT QUEUED"), "{stderr}");
    assert_eq!(std::fs::read_dir(site.path("queue/pending")).map_or(0, |d| d.count()), 0);
}
