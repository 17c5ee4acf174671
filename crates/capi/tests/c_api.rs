//! The C API from C: `tests/c/capi_test.c` compiled by `cc` against the built `libpolicyc.so`
//! and `policyc.h`, run plain, under AddressSanitizer with UndefinedBehaviorSanitizer (leaks
//! included), under Valgrind, and linked against `libpolicyc.a`. A missing compiler or Valgrind
//! fails the test: it never skips.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails by panicking"
)]

mod common;

use common::{built, policies, tool};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

/// How the C program is built.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Build {
    Shared,
    Sanitized,
    Static,
}

/// Compiles the C program (once per build kind).
fn program(build: Build) -> PathBuf {
    static BUILT: OnceLock<std::sync::Mutex<Vec<(Build, PathBuf)>>> = OnceLock::new();
    let built_ones = BUILT.get_or_init(Default::default);
    let mut done = built_ones.lock().unwrap();
    if let Some((_, p)) = done.iter().find(|(b, _)| *b == build) {
        return p.clone();
    }
    let lib = built();
    let out = std::env::temp_dir().join(format!("policyc-capi-{}-{build:?}", std::process::id()));
    let mut cc = Command::new(tool("cc"));
    cc.args(["-std=c11", "-D_POSIX_C_SOURCE=200809L", "-Wall", "-Wextra", "-Werror", "-g", "-I"])
        .arg(&lib)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/c/capi_test.c"))
        .arg("-o")
        .arg(&out);
    match build {
        Build::Shared | Build::Sanitized => {
            if build == Build::Sanitized {
                cc.args(["-fsanitize=address,undefined", "-fno-omit-frame-pointer"]);
            }
            cc.arg("-L").arg(&lib).arg("-lpolicyc").arg(format!("-Wl,-rpath,{}", lib.display()));
        }
        Build::Static => {
            cc.arg(lib.join("libpolicyc.a"));
            cc.args(["-lgcc_s", "-lutil", "-lrt", "-lpthread", "-lm", "-ldl", "-lc"]);
        }
    }
    cc.arg("-lpthread");
    let status = cc.status().unwrap();
    assert!(status.success(), "cc failed for {build:?}: {cc:?}");
    done.push((build, out.clone()));
    out
}

/// Runs the C program (`valgrind`: under Valgrind's memcheck) with `args` and `stdin`.
fn run(build: Build, valgrind: bool, args: &[&Path], stdin: &str) -> Output {
    let exe = program(build);
    let mut cmd = if valgrind {
        let mut c = Command::new(tool("valgrind"));
        c.args([
            "-q",
            "--error-exitcode=99",
            "--leak-check=full",
            "--errors-for-leak-kinds=definite,indirect",
        ])
        .arg(&exe);
        c
    } else {
        Command::new(&exe)
    };
    cmd.args(args)
        .env("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
        .env("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    use std::io::Write as _;
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn ok(out: &Output) -> (String, String) {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "exit {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}", out.status);
    (stdout, stderr)
}

fn every_build(args: &[&Path]) -> Vec<(String, String)> {
    let mut seen = Vec::new();
    for (build, valgrind) in [
        (Build::Shared, false),
        (Build::Sanitized, false),
        (Build::Shared, true),
        (Build::Static, false),
    ] {
        seen.push(ok(&run(build, valgrind, args, "")));
    }
    seen
}

/// Open, check (with and without a user), read every part of a verdict, explain as JSON, free
/// everything: office365, ad-default with a user's names, Entra's scoring. No leak, no error.
#[test]
fn a_c_program_checks_passwords_and_reads_verdicts() {
    let p = policies();
    let mode = Path::new("basic");
    for (stdout, _) in every_build(&[mode, &p.office365, &p.ad_default, &p.entra]) {
        assert!(stdout.starts_with("policyc 0.1.0 (artifact formats"), "{stdout}");
        assert!(stdout.contains("short: Use 8 to 256 characters."), "{stdout}");
        assert!(stdout.contains("ad-default with a user: "), "{stdout}");
        assert!(stdout.contains("entra: "), "{stdout}");
    }
}

/// NULL, wrong lengths, invalid UTF-8, a handle of another kind, freed twice: each refused with
/// a code and a message, never followed; the double frees are said on standard error.
#[test]
fn misuse_is_refused_never_followed() {
    let p = policies();
    for (stdout, stderr) in every_build(&[Path::new("misuse"), &p.office365, &p.damaged]) {
        assert!(stdout.contains("missing: "), "{stdout}");
        assert!(
            stdout.contains("attribute: attribute 99 is not a policyc_attribute (0 to 6)"),
            "{stdout}"
        );
        assert!(stdout.contains("/nonexistent/p.policyc"), "the file is named: {stdout}");
        assert!(stdout.contains("invalid utf-8: The password could not be checked: the password is not valid UTF-8 (at byte 0)."), "{stdout}");
        assert!(
            stderr.contains("policyc_verdict_free: refused a pointer that is not live"),
            "{stderr}"
        );
        assert!(stderr.contains("policyc_validator_free: refused"), "{stderr}");
        assert!(stderr.contains("policyc_string_free: refused"), "{stderr}");
    }
}

/// One validator shared by four threads: every answer right, no race (Valgrind's memcheck and
/// ASan watch the memory).
#[test]
fn one_validator_serves_many_threads() {
    let p = policies();
    every_build(&[Path::new("threads"), &p.office365]);
}

/// The header the build generates is the one committed (the C contract changes only on
/// purpose), and pkg-config finds the library.
#[test]
fn the_header_is_the_committed_contract_and_pkg_config_finds_the_library() {
    let lib = built();
    let generated = std::fs::read_to_string(lib.join("policyc.h")).unwrap();
    let committed =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("include/policyc.h"))
            .unwrap();
    assert!(
        generated == committed,
        "policyc.h changed: review it, then `cp {}/policyc.h crates/capi/include/policyc.h`",
        lib.display()
    );
    for name in [
        "policyc_validator_open",
        "policyc_check",
        "policyc_verdict_compliant",
        "policyc_verdict_violation_count",
        "policyc_verdict_violation_rule",
        "policyc_verdict_violation_message",
        "policyc_verdict_free",
        "policyc_validator_free",
        "policyc_error_message",
        "policyc_error_free",
    ] {
        assert!(generated.contains(&format!("{name}(")), "{name} missing from policyc.h");
    }
    let out = Command::new(tool("pkg-config"))
        .args(["--cflags", "--libs", "policyc-uninstalled"])
        .env("PKG_CONFIG_PATH", &lib)
        .output()
        .unwrap();
    let flags = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && flags.contains("-lpolicyc"), "{flags}");
    assert!(flags.contains(&format!("-I{}", lib.display())), "{flags}");
}

/// The gate from C: decisions under the fail mode, recorded with `"source":"capi"` before a
/// yes, a damaged new policy refused while the running one stays, a changed one taken within a
/// second; bad settings refused with a code. No password in any output.
#[test]
fn the_gate_decides_records_and_reloads_from_c() {
    let p = policies();
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.policyc");
    std::fs::copy(&p.office365, &policy).unwrap();
    let audit = dir.path().join("log/audit.jsonl");
    let settings = format!("policy={} audit={}", policy.display(), audit.display());
    let damaged = std::fs::read(&p.damaged).unwrap();
    let ad_default = std::fs::read(&p.ad_default).unwrap();
    // The program reads `ACCOUNT PASSWORD` lines; `wait` sleeps past the reload interval. The
    // policy file is replaced between runs, so each step is its own run of the same gate
    // settings, and one run sees a change while it lives.
    let step = |input: &str| {
        let (stdout, stderr) =
            ok(&run(Build::Sanitized, false, &[Path::new("gate"), Path::new(&settings)], input));
        assert!(!stdout.contains("Xjdoe") && !stderr.contains("Xjdoe"), "{stdout}{stderr}");
        stdout
    };
    let out = step("alice short\nalice Tr0ub4dor&3\n");
    assert!(out.contains("alice no rejected length classes | Use 8 to 256 characters."), "{out}");
    assert!(out.contains("alice yes accepted | \n"), "{out}");

    // A damaged file in place: the running policy stays (this run loaded it first).
    let replace = |bytes: &[u8]| {
        let tmp = dir.path().join("new.policyc");
        std::fs::write(&tmp, bytes).unwrap();
        std::fs::rename(&tmp, &policy).unwrap();
    };
    std::fs::copy(&p.office365, &policy).unwrap();
    let mut child = Command::new(program(Build::Shared))
        .args([Path::new("gate"), Path::new(&settings)])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    // One decision: the line it printed.
    let mut decide = |input: &str| {
        use std::io::{BufRead as _, Write as _};
        stdin.write_all(input.as_bytes()).unwrap();
        stdin.flush().unwrap();
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        line
    };
    let out = decide("bob short\n");
    assert!(out.starts_with("bob no rejected length classes"), "{out}");
    replace(&damaged);
    let out = decide("wait\nbob Xjdoe-2024!\n");
    assert!(out.starts_with("bob yes accepted"), "the running office365 stays: {out}");
    replace(&ad_default);
    let out = decide("wait\njdoe Xjdoe-2024!\n");
    assert!(out.starts_with("jdoe no rejected names"), "ad-default in force, with the user: {out}");
    drop(stdin);
    assert!(child.wait().unwrap().success());

    let log = std::fs::read_to_string(&audit).unwrap();
    let lines: Vec<serde_json::Value> =
        log.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(lines.iter().all(|l| l["source"] == "capi"), "{log}");
    let outcomes: Vec<&str> = lines.iter().map(|l| l["outcome"].as_str().unwrap()).collect();
    assert!(outcomes.contains(&"policy_reload_failed"), "{log}");
    assert!(outcomes.contains(&"rejected") && outcomes.contains(&"accepted"), "{outcomes:?}");
    assert!(
        !log.contains("short") && !log.contains("Tr0ub4dor") && !log.contains("Xjdoe"),
        "{log}"
    );

    // No policy: refused under fail-closed, accepted unchecked under fail-open, loudly.
    let missing = dir.path().join("missing.policyc");
    for (fail, expected) in
        [("closed", "carol no rejected_no_policy"), ("open", "carol yes accepted_unchecked")]
    {
        let settings = format!("policy={} audit=none fail={fail}", missing.display());
        let out = ok(&run(
            Build::Shared,
            false,
            &[Path::new("gate"), Path::new(&settings)],
            "carol Tr0ub4dor&3\n",
        ))
        .0;
        assert!(out.contains(expected), "{out}");
        assert!(out.contains("problem: POLICY UNAVAILABLE"), "{out}");
    }
    let out =
        ok(&run(Build::Shared, false, &[Path::new("gate"), Path::new("fail=sometimes")], "")).0;
    assert!(out.contains("open: 6 setting `fail=sometimes`: expected `closed` or `open`"), "{out}");
}

/// The README's C example compiles against the library and prints what the README shows.
#[test]
fn the_readme_c_example_prints_what_the_readme_shows() {
    let readme = std::fs::read_to_string(common::root().join("README.md")).unwrap();
    let block = |fence: &str, from: usize| -> (String, usize) {
        let start = readme[from..].find(fence).map(|i| from + i + fence.len()).unwrap();
        let end = start + readme[start..].find("```").unwrap();
        (readme[start..end].to_string(), end)
    };
    let (source, end) = block("```c\n", 0);
    let (expected, _) = block("```text\n", end);
    let dir = tempfile::tempdir().unwrap();
    let c = dir.path().join("example.c");
    std::fs::write(&c, source).unwrap();
    let exe = dir.path().join("example");
    common::compile_c(&c, &exe, &["-std=c11", "-Wall", "-Werror"]);
    std::fs::copy(&policies().office365, dir.path().join("office365.policyc")).unwrap();
    let out = Command::new(&exe).current_dir(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "noncompliant: exit 1");
    assert_eq!(String::from_utf8_lossy(&out.stdout), expected);
}

/// A signed policy opens with its key and a serial it meets, and is refused (`TRUST`) with
/// another key, a higher minimum serial, or unsigned.
#[test]
fn a_signed_policy_opens_only_with_its_key_and_serial() {
    use policyc_gate::signing::{keygen, sign};
    let p = policies();
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("signing.key");
    keygen(&secret).unwrap();
    keygen(&dir.path().join("other.key")).unwrap();
    let signed = dir.path().join("signed.policyc");
    std::fs::copy(&p.office365, &signed).unwrap();
    let bytes = std::fs::read(&signed).unwrap();
    sign(&secret, &signed, &bytes, "office365", Some(5)).unwrap();
    let key = dir.path().join("signing.key.pub");
    let other = dir.path().join("other.key.pub");
    for (stdout, _) in every_build(&[Path::new("signed"), &signed, &key, &other, &p.office365]) {
        assert_eq!(stdout.matches("refused: ").count(), 3, "{stdout}");
        assert!(stdout.contains("serial"), "{stdout}");
    }
}
