//! What runs as root on a domain controller, attacked as an unprivileged user would (the
//! attacker's steps run as `nobody` through `setpriv`): Samba's `umask(0)`, planted symlinks,
//! FIFOs, files of someone else's, deleting queued changes. Each attack is refused, loudly,
//! and nothing hangs.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails by panicking"
)]

mod common;

use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A directory others may enter (the tests' own temp dirs are root-only), removed on drop.
fn world_dir() -> tempfile::TempDir {
    let d = tempfile::Builder::new().prefix("policyc-attack.").tempdir_in("/tmp").unwrap();
    std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    d
}

/// Runs a shell command as `nobody`; returns whether it succeeded.
fn as_nobody(script: &str) -> bool {
    assert!(Path::new("/usr/bin/setpriv").exists(), "setpriv (util-linux) is required");
    Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "sh", "-c", script])
        .stderr(Stdio::null())
        .status()
        .unwrap()
        .success()
}

struct Run {
    code: i32,
    stderr: String,
    took: Duration,
}

/// The hook as Samba runs it: umask 0, root, the password on stdin.
fn hook(policy: &Path, queue: &Path, audit: &Path, extra: &[&str]) -> Run {
    let started = Instant::now();
    let mut child = Command::new("sh")
        .arg("-c")
        .arg("umask 0; exec \"$@\"")
        .arg("sh")
        .arg(env!("CARGO_BIN_EXE_policyc"))
        .args(["hook", "samba", "--policy"])
        .arg(policy)
        .arg("--queue")
        .arg(queue)
        .arg("--audit-log")
        .arg(audit)
        .args(extra)
        .env("SAMBA_CPS_ACCOUNT_NAME", "alice")
        .env("SAMBA_CPS_USER_PRINCIPAL_NAME", "alice@example.com")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let _ = child.stdin.take().unwrap().write_all(b"Canary-Attack-Xy9!");
    // Samba kills the script at 10 s; it must never get near that.
    let deadline = Instant::now() + Duration::from_secs(5);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the hook hung");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        took: started.elapsed(),
    }
}

fn mode(p: &Path) -> u32 {
    std::fs::symlink_metadata(p).unwrap().mode() & 0o777
}

fn policy(dir: &Path) -> PathBuf {
    let p = dir.join("o365.policyc");
    common::office365_artifact(&p);
    p
}

fn fifo(path: &Path) {
    assert!(Command::new("mkfifo").arg(path).status().unwrap().success());
}

#[test]
fn under_samba_umask_0_everything_the_hook_creates_is_private() {
    let w = world_dir();
    let (q, log) = (w.path().join("queue"), w.path().join("log/audit.jsonl"));
    let r = hook(&policy(w.path()), &q, &log, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for d in [q.clone(), q.join("pending"), q.join("failed"), q.join("tmp"), w.path().join("log")] {
        assert_eq!(mode(&d), 0o700, "{}", d.display());
    }
    assert_eq!(mode(&q.join("key")), 0o600);
    assert_eq!(mode(&log), 0o600, "the audit log is root's alone");
    let record = std::fs::read_dir(q.join("pending")).unwrap().next().unwrap().unwrap().path();
    assert_eq!(mode(&record), 0o600);
    // An unprivileged user can neither read nor delete queued changes.
    assert!(!as_nobody(&format!(
        "rm -f {}/pending/*.json; ls {}/pending",
        q.display(),
        q.display()
    )));
    assert!(record.exists(), "the queued change is still there");
}

#[test]
fn a_world_writable_directory_or_a_planted_symlink_is_refused_and_never_followed() {
    let w = world_dir();
    let p = policy(w.path());
    let victim = w.path().join("root-only");
    std::fs::write(&victim, "root's file\n").unwrap();
    std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o600)).unwrap();
    // The log directory as the old hook left it under umask 0; the attacker plants a link.
    let logs = w.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    std::fs::set_permissions(&logs, std::fs::Permissions::from_mode(0o777)).unwrap();
    assert!(as_nobody(&format!("ln -s {} {}/audit.jsonl", victim.display(), logs.display())));
    let r = hook(&p, &w.path().join("q1"), &logs.join("audit.jsonl"), &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("AUDIT LOG UNAVAILABLE") && r.stderr.contains("others can write it"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains(&format!("chmod go-w {}", logs.display())), "{}", r.stderr);
    // Even in a root-owned directory, a link as the log is refused, not followed.
    let safe = w.path().join("safe");
    std::fs::create_dir(&safe).unwrap();
    std::os::unix::fs::symlink(&victim, safe.join("audit.jsonl")).unwrap();
    let r = hook(&p, &w.path().join("q2"), &safe.join("audit.jsonl"), &[]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("is a symbolic link"), "{}", r.stderr);
    assert_eq!(
        std::fs::read_to_string(&victim).unwrap(),
        "root's file\n",
        "the target is untouched"
    );
    assert_eq!(std::fs::read_dir(w.path().join("q2/pending")).map_or(0, |d| d.count()), 0);
}

#[test]
fn a_key_of_someone_else_or_a_fifo_is_refused_without_hanging() {
    let w = world_dir();
    let p = policy(w.path());
    // A 0600 key owned by nobody.
    let q = w.path().join("q1");
    std::fs::create_dir(&q).unwrap();
    std::fs::set_permissions(&q, std::fs::Permissions::from_mode(0o700)).unwrap();
    std::fs::write(q.join("key"), [7u8; 32]).unwrap();
    std::fs::set_permissions(q.join("key"), std::fs::Permissions::from_mode(0o600)).unwrap();
    std::os::unix::fs::chown(q.join("key"), Some(65534), Some(65534)).unwrap();
    let r = hook(&p, &q, &w.path().join("a1.jsonl"), &[]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("owned by uid 65534") && r.stderr.contains("chown root"),
        "{}",
        r.stderr
    );
    // A FIFO as the key, and as the audit log: refused at once.
    let q = w.path().join("q2");
    std::fs::create_dir(&q).unwrap();
    fifo(&q.join("key"));
    fifo(&w.path().join("a3.jsonl"));
    for (queue, audit) in
        [(q, w.path().join("a2.jsonl")), (w.path().join("q3"), w.path().join("a3.jsonl"))]
    {
        let r = hook(&p, &queue, &audit, &[]);
        assert_eq!(r.code, 1);
        let quick = r.took < Duration::from_secs(2);
        assert!(r.stderr.contains("not a regular file") && quick, "{} {:?}", r.stderr, r.took);
    }
}

#[test]
fn the_agent_neither_follows_a_planted_state_link_nor_hangs_on_a_fifo() {
    use policyc_agent::status::status;
    use policyc_agent::sync::SyncAgent;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cloud = common::cloud();
    cloud.add_users(["alice@example.com"]);
    common::office365_artifact(&d.join("policy.policyc"));
    let cfg: policyc_agent::config::AgentConfig =
        serde_yaml::from_str(&common::agent_yaml(d, &d.join("policy.policyc"), &cloud, ""))
            .unwrap();
    let q = policyc_gate::queue::Queue::open(&cfg.queue, &cfg.key_path()).unwrap();
    common::reset(&q, d, "alice", "alice@example.com", "Canary-Agent-Xy9!");
    let victim = d.join("victim");
    std::fs::write(&victim, "keep\n").unwrap();
    std::os::unix::fs::symlink(&victim, cfg.queue.join("state.json.tmp")).unwrap();
    fifo(&cfg.queue.join("pending/trap.json"));
    let started = Instant::now();
    let mut agent = SyncAgent::new(cfg.clone()).unwrap();
    let t = agent.tick();
    drop(agent);
    assert!(started.elapsed() < Duration::from_secs(3), "the agent hung");
    assert_eq!(t.delivered, 1);
    assert!(
        t.events.iter().any(|(o, d)| o.as_str() == "damaged" && d.contains("not a regular file")),
        "{t:?}"
    );
    assert_eq!(
        std::fs::read_to_string(&victim).unwrap(),
        "keep\n",
        "the link's target is untouched"
    );
    let started = Instant::now();
    let s = status(&cfg);
    assert!(started.elapsed() < Duration::from_secs(2), "status hung");
    assert!(s.failed_by_reason.contains_key("damaged"), "{s:?}");
}

#[test]
fn an_artifact_others_may_write_is_refused() {
    let w = world_dir();
    let p = policy(w.path());
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o666)).unwrap();
    let r = hook(&p, &w.path().join("q"), &w.path().join("a.jsonl"), &[]);
    assert_eq!(r.code, 1, "a policy anyone could have replaced is not trusted");
    assert!(
        r.stderr.contains("POLICY UNAVAILABLE") && r.stderr.contains("others can write it"),
        "{}",
        r.stderr
    );
}

/// The hook for `account`, with its standard input left open for the caller.
fn spawn_hook(p: &Path, audit: &Path, account: &str, extra: &[&str]) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_policyc"))
        .args(["hook", "samba"])
        .args(extra)
        .arg("--policy")
        .arg(p)
        .arg("--audit-log")
        .arg(audit)
        .env("SAMBA_CPS_ACCOUNT_NAME", account)
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn the_hook_gives_up_before_samba_kills_it_and_its_log_lines_cannot_be_forged() {
    let w = world_dir();
    let (p, audit) = (policy(w.path()), w.path().join("a.jsonl"));
    // Standard input never closed: the hook refuses on its own, well before Samba's 10 s.
    let started = Instant::now();
    let mut child = spawn_hook(&p, &audit, "alice", &["--timeout-ms", "300"]);
    let _stdin = child.stdin.take();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(started.elapsed() < Duration::from_secs(3));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("did not finish within"), "{said}");
    // Issue 25, item 7: it says what did not finish, and the refusal has its audit line.
    assert!(said.contains("reading the password from standard input"), "{said}");
    let log = std::fs::read_to_string(&audit).unwrap();
    let last = log.lines().last().unwrap();
    assert!(
        last.contains(r#""outcome":"error","account":"alice""#)
            && last.contains("did not finish within 300ms: it was reading the password"),
        "{last}"
    );
    // A newline in the account name stays inside its line in Samba's log.
    let mut child =
        spawn_hook(&p, &audit, "eve\npolicyc: accepted password change for `admin`", &[]);
    child.stdin.take().unwrap().write_all(b"short").unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("eve\\npolicyc"), "{stderr}");
}

fn policyc(args: &[&std::ffi::OsStr]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_policyc")).args(args).output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn with_a_public_key_only_a_signed_artifact_is_used() {
    let w = world_dir();
    let d = w.path();
    let os = |s: &str| std::ffi::OsString::from(s);
    let key = d.join("signing.key");
    let other = d.join("other.key");
    for k in [&key, &other] {
        let (code, said) = policyc(&[&os("keygen"), &os("-o"), k.as_os_str()]);
        assert_eq!(code, 0, "{said}");
    }
    assert_eq!(mode(&key), 0o600);
    assert_eq!(policyc(&[&os("keygen"), &os("-o"), key.as_os_str()]).0, 2, "never over a key");
    let artifact = d.join("o365.policyc");
    let compile = |sign: &Path| {
        let src =
            std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("policies/office365.policy");
        policyc(&[
            &os("compile"),
            src.as_os_str(),
            &os("-o"),
            artifact.as_os_str(),
            &os("--sign"),
            sign.as_os_str(),
        ])
    };
    let (code, said) = compile(&key);
    assert_eq!(code, 0, "{said}");
    assert!(
        said.contains("signed policy `office365` serial") && said.contains("with key"),
        "{said}"
    );
    let public = format!("{}.pub", key.display());
    let (q, audit) = (d.join("q"), d.join("a.jsonl"));
    let with_key = ["--public-key", public.as_str()];
    assert_eq!(hook(&artifact, &q, &audit, &with_key).code, 0, "signed by the configured key");
    // Signed by another key.
    assert_eq!(compile(&other).0, 0);
    let r = hook(&artifact, &q, &audit, &with_key);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("not by the configured key"), "{}", r.stderr);
    // A permissive policy put in place of the signed one.
    assert_eq!(compile(&key).0, 0);
    let permissive = policyc::compile_str(
        "p.policy",
        "policy p {\n  rule r \"1+\" : length >= 1\n}\n",
        &Default::default(),
    )
    .unwrap()
    .artifact;
    std::fs::write(&artifact, &permissive).unwrap();
    let r = hook(&artifact, &q, &audit, &with_key);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("was changed after it was signed"), "{}", r.stderr);
    std::fs::remove_file(format!("{}.sig", artifact.display())).unwrap();
    let r = hook(&artifact, &q, &audit, &with_key);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("is not signed") && r.stderr.contains("--sign"), "{}", r.stderr);
    // Without a key configured, the same artifact is used (signing is opt-in).
    assert_eq!(hook(&artifact, &q, &audit, &[]).code, 0);
}

/// Runs `script` with `sh` in a private mount namespace in which `$FULL` is a small tmpfs; the
/// script calls `fill` to use up its space. `$HOOK` runs the hook as Samba does (umask 0, the
/// password from `$PASSWORD_FILE`) with the queue and audit log the script passes, and prints
/// its exit code and standard error. The namespace, and the tmpfs, end with the script: what
/// is to be looked at on the full disk is printed by the script.
fn on_a_full_disk(policy: &Path, script: &str) -> String {
    assert!(Path::new("/usr/bin/unshare").exists(), "unshare (util-linux) is required");
    let w = world_dir();
    let full = w.path().join("full");
    std::fs::create_dir(&full).unwrap();
    let password = w.path().join("password");
    std::fs::write(&password, "Canary-Full-Xy9!").unwrap();
    let prelude = r#"set -u
mount -t tmpfs -o size=256k,mode=0700 policyc-full "$FULL" || { echo "cannot mount a tmpfs"; exit 90; }
fill() { dd if=/dev/zero of="$FULL/filler" bs=4k >/dev/null 2>&1; echo "filled: $(df --output=avail -k "$FULL" | tail -1 | tr -d ' ') KiB free"; }
hook() { (umask 0; SAMBA_CPS_ACCOUNT_NAME=alice SAMBA_CPS_USER_PRINCIPAL_NAME=alice@example.com "$POLICYC" hook samba --policy "$POLICY" "$@" <"$PASSWORD_FILE" 2>"$FULL.err"); echo "exit=$? $(cat "$FULL.err")"; }
count() { echo "$1: $(ls -A "$2" | wc -l)"; }
"#;
    let out = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c"])
        .arg(format!("{prelude}{script}"))
        .env("FULL", &full)
        .env("POLICYC", env!("CARGO_BIN_EXE_policyc"))
        .env("POLICY", policy)
        .env("PASSWORD_FILE", &password)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{said}{}", String::from_utf8_lossy(&out.stderr));
    assert!(said.contains("filled: 0 KiB free"), "the disk did not fill: {said}");
    said
}

#[test]
fn a_full_disk_refuses_the_change_loudly_and_leaves_nothing_behind() {
    let w = world_dir();
    let p = policy(w.path());
    let audit = w.path().join("audit.jsonl");
    // The queue's disk fills: the change is refused (not accepted unqueued), and the temporary
    // file it was being written to is removed, not left behind empty.
    let said = on_a_full_disk(
        &p,
        &format!(
            r#"hook --queue "$FULL/q" --audit-log {audit}
fill
hook --queue "$FULL/q" --audit-log {audit}
count tmp "$FULL/q/tmp"
count pending "$FULL/q/pending"
"#,
            audit = audit.display()
        ),
    );
    let runs: Vec<&str> = said.lines().filter(|l| l.starts_with("exit=")).collect();
    assert!(runs[0].starts_with("exit=0"), "{said}");
    assert!(
        runs[1].starts_with("exit=1")
            && runs[1].contains("cannot queue it for the cloud")
            && runs[1].contains("No space left on device"),
        "{said}"
    );
    assert!(said.contains("tmp: 0") && said.contains("pending: 1"), "{said}");
    let log = std::fs::read_to_string(&audit).unwrap();
    assert!(log.lines().last().unwrap().contains(r#""outcome":"error""#), "{log}");

    // The audit log's disk fills after the change is queued: by default the change is taken
    // back and refused (a decision that cannot be recorded is not made); with --fail-open it
    // is accepted and queued, and Samba's log says the audit line is missing.
    let queue = w.path().join("q2");
    let said = on_a_full_disk(
        &p,
        &format!(
            r#"mkdir -m 0700 "$FULL/log"
: >"$FULL/log/audit.jsonl"
chmod 0600 "$FULL/log/audit.jsonl"
fill
hook --queue {q} --audit-log "$FULL/log/audit.jsonl"
count pending {q}/pending
hook --queue {q} --audit-log "$FULL/log/audit.jsonl" --fail-open
count pending-after-fail-open {q}/pending
"#,
            q = queue.display()
        ),
    );
    let runs: Vec<&str> = said.lines().filter(|l| l.starts_with("exit=")).collect();
    assert!(
        runs[0].starts_with("exit=1")
            && runs[0].contains("cannot write the audit log")
            && runs[0].contains("No space left on device")
            && runs[0].contains("FAIL-CLOSED"),
        "{said}"
    );
    assert!(said.contains("pending: 0"), "the unrecorded change was taken back: {said}");
    assert!(
        runs[1].starts_with("exit=0") && runs[1].contains("cannot write the audit log"),
        "{said}"
    );
    assert!(said.contains("pending-after-fail-open: 1"), "{said}");
    assert!(!said.contains("Canary-Full"), "no password in any message: {said}");
}

/// A store built as root from `passwords` at `dir/name`, and a policy that refuses what it
/// holds, compiled next to it.
fn store_policy(dir: &Path, name: &str, passwords: &str) -> PathBuf {
    let list = dir.join(format!("{name}.txt"));
    std::fs::write(&list, passwords).unwrap();
    let store = dir.join(name);
    let os = |p: &Path| p.as_os_str().to_owned();
    let (code, said) = policyc(&[
        "store".as_ref(),
        "build".as_ref(),
        "--from".as_ref(),
        &os(&list),
        "-o".as_ref(),
        &os(&store),
        "--shard-bits".as_ref(),
        "1".as_ref(),
    ]);
    assert_eq!(code, 0, "{said}");
    let src = dir.join(format!("{name}.policy"));
    std::fs::write(
        &src,
        format!(
            "policy p {{\n  store pwned = \"{name}\"\n  rule length \"Use 8 or more characters.\" : length >= 8\n  rule breached \"This password appeared in a data breach.\" : not in pwned\n}}\n"
        ),
    )
    .unwrap();
    let artifact = dir.join(format!("{name}.policyc"));
    let (code, said) = policyc(&["compile".as_ref(), &os(&src), "-o".as_ref(), &os(&artifact)]);
    assert_eq!(code, 0, "{said}");
    artifact
}

/// Issue 25, item 1: a store is trusted like an artifact. Before, the hook read whatever the
/// store's directory held: an unprivileged owner swapped in an empty store (the breached
/// password was accepted), and a FIFO at `manifest` held every reset for 8 s.
#[test]
fn a_store_someone_else_owns_or_may_write_or_a_fifo_manifest_is_refused_at_once() {
    let w = world_dir();
    let d = w.path();
    let (q, audit) = (d.join("q"), d.join("a.jsonl"));
    let p = store_policy(d, "pwned", "Canary-Attack-Xy9!\n");
    let r = hook(&p, &q, &audit, &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("rules: breached"), "{}", r.stderr);

    // The store copied with `cp -a` from a build account: its owner swaps in an empty store.
    store_policy(d, "empty", "nothing-of-note\n");
    let store = d.join("pwned");
    assert!(
        Command::new("chown").args(["-R", "65534:65534"]).arg(&store).status().unwrap().success()
    );
    assert!(
        Command::new("chown")
            .args(["-R", "65534:65534"])
            .arg(d.join("empty"))
            .status()
            .unwrap()
            .success()
    );
    let swap = format!(
        "rm -rf {s}/manifest {s}/shards && mv {e}/manifest {e}/shards {s}/",
        s = store.display(),
        e = d.join("empty").display()
    );
    assert!(as_nobody(&swap), "the owner of the store's directory may do this");
    let r = hook(&p, &q, &audit, &[]);
    assert_eq!(r.code, 1, "a store of someone else's is never trusted: {}", r.stderr);
    assert!(
        r.stderr.contains("owned by uid 65534") && r.stderr.contains("chown root"),
        "{}",
        r.stderr
    );
    let last = std::fs::read_to_string(&audit).unwrap();
    let last = last.lines().last().unwrap();
    assert!(
        last.contains("\"outcome\":\"rejected_store_unavailable\"")
            && last.contains("owned by uid 65534"),
        "{last}"
    );

    // Back to root's store, but a shard others may write (truncated while mapped: SIGBUS).
    let p = store_policy(d, "pwned2", "Canary-Attack-Xy9!\n");
    let shard = std::fs::read_dir(d.join("pwned2/shards")).unwrap().next().unwrap().unwrap().path();
    std::fs::set_permissions(&shard, std::fs::Permissions::from_mode(0o666)).unwrap();
    let r = hook(&p, &q, &audit, &[]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("others can write it"), "{}", r.stderr);
    std::fs::set_permissions(&shard, std::fs::Permissions::from_mode(0o644)).unwrap();
    assert_eq!(hook(&p, &q, &audit, &[]).code, 1, "the breached password is refused again");

    // A FIFO at `manifest`: refused at once, saying so, with its audit line.
    let manifest = d.join("pwned2/manifest");
    std::fs::remove_file(&manifest).unwrap();
    fifo(&manifest);
    let lines = std::fs::read_to_string(&audit).unwrap().lines().count();
    let r = hook(&p, &q, &audit, &[]);
    assert_eq!(r.code, 1);
    assert!(r.took < Duration::from_secs(2), "took {:?}", r.took);
    assert!(r.stderr.contains("FIFO") && !r.stderr.contains("standard input"), "{}", r.stderr);
    let after = std::fs::read_to_string(&audit).unwrap();
    assert_eq!(after.lines().count(), lines + 1, "one audit line: {after}");
    let s = d.join("pwned2");
    for cmd in ["verify", "info", "audit"] {
        let started = Instant::now();
        let (code, said) = policyc(&["store".as_ref(), cmd.as_ref(), s.as_os_str()]);
        assert_eq!(code, 2, "store {cmd}: {said}");
        assert!(said.contains("FIFO"), "store {cmd}: {said}");
        assert!(started.elapsed() < Duration::from_secs(2), "store {cmd} hung");
    }
}

/// `policyc store build` as root, with its output in `out`.
fn build_store(list: &Path, out: &Path) -> (i32, String) {
    policyc(&[
        "store".as_ref(),
        "build".as_ref(),
        "--from".as_ref(),
        list.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
        "--shard-bits".as_ref(),
        "1".as_ref(),
    ])
}

/// Issue 25, item 2: before, a link planted at `shards/…shard.tmp` in a store directory others
/// may write made root's build overwrite the link's target (a root-only file became a shard).
#[test]
fn store_build_never_writes_through_a_planted_link() {
    let w = world_dir();
    let d = w.path();
    let victim = d.join("victim");
    std::fs::write(&victim, "root's own\n").unwrap();
    std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o600)).unwrap();
    let list = d.join("list.txt");
    std::fs::write(&list, "password\n123456\n").unwrap();
    let untouched = || assert_eq!(std::fs::read_to_string(&victim).unwrap(), "root's own\n");

    // A store directory anyone may write, links planted where the build writes.
    let open = d.join("open");
    std::fs::create_dir_all(open.join("shards")).unwrap();
    for dir in [&open, &open.join("shards")] {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    }
    let plant = |at: &Path| {
        let script = format!("ln -s {} {}", victim.display(), at.display());
        assert!(as_nobody(&script), "{script}");
    };
    for i in 0..2 {
        plant(&open.join(format!("shards/{i:04x}-{:016x}.shard.tmp", 1)));
    }
    plant(&open.join("manifest.tmp"));
    let (code, said) = build_store(&list, &open);
    assert_eq!(code, 2, "{said}");
    assert!(said.contains("others can write it") && said.contains("open"), "{said}");
    untouched();

    // A directory of someone else's (created before root's build, or copied with `cp -a`).
    let theirs = d.join("theirs");
    std::fs::create_dir(&theirs).unwrap();
    std::os::unix::fs::chown(&theirs, Some(65534), Some(65534)).unwrap();
    let (code, said) = build_store(&list, &theirs);
    assert_eq!(code, 2, "{said}");
    assert!(said.contains("owned by uid 65534"), "{said}");

    // A sticky directory anyone may write, as `/tmp` is (allowed, as `mktemp` allows it): a link
    // planted at the manifest's temporary name is replaced, never followed.
    let sticky = d.join("sticky");
    std::fs::create_dir(&sticky).unwrap();
    std::fs::set_permissions(&sticky, std::fs::Permissions::from_mode(0o1777)).unwrap();
    plant(&sticky.join("manifest.tmp"));
    let (code, said) = build_store(&list, &sticky);
    assert_eq!(code, 0, "{said}");
    untouched();
    let manifest = std::fs::symlink_metadata(sticky.join("manifest")).unwrap();
    assert!(manifest.is_file() && manifest.uid() == 0 && manifest.mode() & 0o777 == 0o644);
    assert!(!sticky.join("manifest.tmp").exists());

    // An interrupted build's `.build/` of someone else's is refused, not resumed.
    let resumed = d.join("resumed");
    std::fs::create_dir(&resumed).unwrap();
    std::fs::create_dir(resumed.join(".build")).unwrap();
    std::os::unix::fs::chown(resumed.join(".build"), Some(65534), Some(65534)).unwrap();
    plant(&resumed.join(".build/0000.keys"));
    let (code, said) = build_store(&list, &resumed);
    assert_eq!(code, 2, "{said}");
    assert!(said.contains(".build") && said.contains("owned by uid 65534"), "{said}");
    untouched();
}

/// Issue 25, item 10 (second half): before, a full disk left a torn `"outcome":"accepted"`
/// fragment of the refused change in the audit log, and the next line was glued onto it.
#[test]
fn a_full_audit_disk_leaves_no_torn_line_and_the_next_line_stands_alone() {
    let w = world_dir();
    let p = policy(w.path());
    // 4,000 bytes of earlier lines: the page the next line starts in has 96 bytes left.
    let earlier = format!("{{\"earlier\":\"{}\"}}\n", "x".repeat(4000 - 15));
    assert_eq!(earlier.len(), 4000);
    let said = on_a_full_disk(
        &p,
        &format!(
            r#"mkdir -m 0700 "$FULL/log"
printf '%s\n' '{line}' >"$FULL/log/audit.jsonl"
chmod 0600 "$FULL/log/audit.jsonl"
fill
hook --queue {q} --audit-log "$FULL/log/audit.jsonl"
echo "size-when-full: $(wc -c <"$FULL/log/audit.jsonl")"
rm "$FULL/filler"
hook --queue {q} --audit-log "$FULL/log/audit.jsonl"
echo "--- log"
cat "$FULL/log/audit.jsonl"
"#,
            line = earlier.trim_end(),
            q = w.path().join("q").display()
        ),
    );
    let runs: Vec<&str> = said.lines().filter(|l| l.starts_with("exit=")).collect();
    assert!(runs[0].starts_with("exit=1") && runs[0].contains("No space left"), "{said}");
    assert!(said.contains("size-when-full: 4000"), "the torn line was cut off: {said}");
    assert!(runs[1].starts_with("exit=0"), "{said}");
    let log = said.split("--- log\n").nth(1).unwrap();
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines.len(), 2, "{log}");
    for line in &lines {
        serde_json::from_str::<serde_json::Value>(line).unwrap_or_else(|e| panic!("{e}: {line}"));
    }
    assert!(lines[1].contains(r#""outcome":"accepted""#), "{log}");
}

/// Issue 25, item 3: before, the signature covered the artifact's bytes only: an older signed
/// artifact (a weaker policy), copied back with its `.sig`, was used by the hook and the agent.
#[test]
fn a_signed_policy_cannot_be_replayed_or_downgraded() {
    let w = world_dir();
    let d = w.path();
    let os = |s: &str| std::ffi::OsString::from(s);
    let key = d.join("signing.key");
    assert_eq!(policyc(&[&os("keygen"), &os("-o"), key.as_os_str()]).0, 0);
    let public = format!("{}.pub", key.display());
    // Version 1 allows one character; version 2 needs twelve. Same policy, later serial.
    let version = |n: u32, length: u32, serial: &str| {
        let src = d.join(format!("corp-v{n}.policy"));
        std::fs::write(
            &src,
            format!("policy corp {{\n  rule length \"{length}+\" : length >= {length}\n}}\n"),
        )
        .unwrap();
        let out = d.join(format!("corp-v{n}.policyc"));
        let (code, said) = policyc(&[
            &os("compile"),
            src.as_os_str(),
            &os("-o"),
            out.as_os_str(),
            &os("--sign"),
            key.as_os_str(),
            &os("--serial"),
            &os(serial),
        ]);
        assert_eq!(code, 0, "{said}");
        assert!(said.contains(&format!("signed policy `corp` serial {serial}")), "{said}");
        out
    };
    let (v1, v2) = (version(1, 1, "100"), version(2, 12, "200"));
    let deployed = d.join("corp.policyc");
    let deploy = |from: &Path| {
        std::fs::copy(from, &deployed).unwrap();
        std::fs::copy(format!("{}.sig", from.display()), format!("{}.sig", deployed.display()))
            .unwrap();
    };
    let (q, audit) = (d.join("q"), d.join("a.jsonl"));
    let with_key = ["--public-key", public.as_str()];
    deploy(&v2);
    assert_eq!(hook(&deployed, &q, &audit, &with_key).code, 0, "the current policy");
    let serials = std::fs::read_to_string(q.join("policy-serials")).unwrap();
    assert_eq!(serials, r#"{"corp":200}"#);
    assert_eq!(mode(&q.join("policy-serials")), 0o600);

    // The older signed pair copied back: refused, loudly, with its audit line.
    deploy(&v1);
    let r = hook(&deployed, &q, &audit, &with_key);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("POLICY UNAVAILABLE")
            && r.stderr.contains("serial 100, older than serial 200")
            && r.stderr.contains("policyc sign"),
        "{}",
        r.stderr
    );
    let log = std::fs::read_to_string(&audit).unwrap();
    assert!(log.lines().last().unwrap().contains(r#""outcome":"rejected_no_policy""#), "{log}");
    // The agent (and `agent status`, which reads the same state) refuses it too.
    let config = d.join("agent.yaml");
    std::fs::write(
        &config,
        format!(
            "policy: {p}\nqueue: {q}\naudit_log: {a}\npolicy_public_key: {public}\n\
             directory: {{kind: file, path: {d}/directory.json}}\n\
             graph: {{base_url: 'http://127.0.0.1:1', token_url: 'http://127.0.0.1:1/token', client_id: x, client_secret: y}}\n",
            p = deployed.display(),
            q = q.display(),
            a = d.join("agent.jsonl").display(),
            d = d.display()
        ),
    )
    .unwrap();
    let config = policyc_agent::config::AgentConfig::load(&config).unwrap();
    let e = policyc_agent::sync::SyncAgent::new(config.clone()).unwrap_err();
    assert!(matches!(e, policyc_agent::AgentError::Policy(_)), "the policy's error: {e:?}");
    assert!(e.to_string().contains("older than serial 200"), "{e}");
    let s = policyc_agent::status::status(&config);
    assert!(!s.healthy && s.problems.iter().any(|p| p.contains("older than serial 200")), "{s:?}");

    // A fresh server (no serial kept yet) with a configured minimum.
    let fresh = d.join("q-fresh");
    let min = ["--public-key", public.as_str(), "--policy-min-serial", "150"];
    let r = hook(&deployed, &fresh, &audit, &min);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("below the configured minimum 150"), "{}", r.stderr);

    // A signature of the first format (bytes only): refused, naming the command that re-signs.
    let sig = format!("{}.sig", deployed.display());
    let old = std::fs::read_to_string(&sig).unwrap();
    let f: Vec<&str> = old.split_whitespace().collect();
    std::fs::write(&sig, format!("policyc-signature-1 {} {}\n", f[1], f[5])).unwrap();
    let r = hook(&deployed, &q, &audit, &with_key);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("first format") && r.stderr.contains("policyc sign ARTIFACT"),
        "{}",
        r.stderr
    );
    // A serial edited in the file breaks the signature.
    std::fs::write(&sig, old.replace(" 100 ", " 900 ")).unwrap();
    let r = hook(&deployed, &q, &audit, &with_key);
    assert!(r.code == 1 && r.stderr.contains("was changed after it was signed"), "{}", r.stderr);

    // Going back on purpose: signing the older artifact again gives it a new, higher serial.
    let (code, said) = policyc(&[&os("sign"), deployed.as_os_str(), &os("--key"), key.as_os_str()]);
    assert_eq!(code, 0, "{said}");
    assert_eq!(hook(&deployed, &q, &audit, &with_key).code, 0, "re-signed, it is current");
    let (code, said) = policyc(&[
        &os("sign"),
        deployed.as_os_str(),
        &os("--key"),
        key.as_os_str(),
        &os("--serial"),
        &os("150"),
    ]);
    assert_eq!(code, 2, "a serial never goes back: {said}");
}
