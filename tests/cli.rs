//! The real `policyc` binary: commands, formats, exit codes, bad input, and no password ever in
//! the output.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails by panicking"
)]

use std::io::Write;
use std::process::{Command, Stdio};

#[derive(Debug)]
struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn policyc(args: &[&str], stdin: &[u8]) -> Out {
    let mut child = Command::new(env!("CARGO_BIN_EXE_policyc"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    let o = Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(!o.stderr.contains("panicked"), "policyc panicked: {}", o.stderr);
    assert!(!o.stderr.contains("RUST_BACKTRACE"), "policyc panicked: {}", o.stderr);
    o
}

fn assert_secret_absent(out: &Out, secrets: &[&str]) {
    for s in secrets {
        assert!(!out.stdout.contains(s), "password {s:?} leaked to stdout:\n{}", out.stdout);
        assert!(!out.stderr.contains(s), "password {s:?} leaked to stderr:\n{}", out.stderr);
    }
}

const O365: &str = "policies/office365.policy";

fn compiled_o365(dir: &tempfile::TempDir) -> String {
    let path = dir.path().join("o365.policyc").to_string_lossy().into_owned();
    let out = policyc(&["compile", O365, "-o", &path], b"");
    assert_eq!(out.code, 0, "{}", out.stderr);
    path
}

#[test]
fn help_for_every_command_has_an_example() {
    for cmd in [
        &["--help"][..],
        &["compile", "--help"],
        &["check", "--help"],
        &["explain", "--help"],
        &["fmt", "--help"],
    ] {
        let out = policyc(cmd, b"");
        assert_eq!(out.code, 0, "{cmd:?}");
        assert!(out.stdout.contains("Example"), "{cmd:?} help has no example:\n{}", out.stdout);
    }
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(policyc(&[], b"").code, 2);
    assert_eq!(policyc(&["check"], b"").code, 2);
    assert_eq!(policyc(&["frobnicate"], b"").code, 2);
}

#[test]
fn compile_writes_a_loadable_artifact() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.policyc");
    let out = policyc(&["compile", O365, "-o", path.to_str().unwrap()], b"");
    assert_eq!(out.code, 0);
    assert!(out.stderr.contains("compiled policy `office365`: 3 rules"), "{}", out.stderr);
    assert!(policyc::Validator::from_path(&path).is_ok());
}

#[test]
fn compile_errors_are_diagnostics_with_exit_2() {
    let out =
        policyc(&["compile", "tests/golden/diagnostics/bounds.policy", "-o", "/dev/null"], b"");
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("--> tests/golden/diagnostics/bounds.policy:2:43"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("^^^^^^^^ min > max"));
    assert!(out.stderr.contains("policy rejected: 7 errors"));
    let out = policyc(&["compile", "no/such.policy"], b"");
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("cannot read policy file `no/such.policy`"));
}

#[test]
fn check_text_reports_every_violation_and_never_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let artifact = compiled_o365(&dir);
    let pws = ["Tr0ub4dor&3xQ", "shrtZq", "RésuméZq12"];
    let stdin = format!("{}\n{}\r\n{}", pws[0], pws[1], pws[2]);
    for policy in [artifact.as_str(), O365] {
        let out = policyc(&["check", policy], stdin.as_bytes());
        assert_eq!(out.code, 1);
        assert_eq!(
            out.stdout,
            "line 1: compliant\n\
             line 2: noncompliant\n  - length: Use 8 to 256 characters.\n  - classes: Use at least three of: lowercase letters, uppercase letters, digits, symbols.\n\
             line 3: noncompliant\n  - charset: Use only letters A-Z and a-z, digits, spaces and the symbols @ # $ % ^ & * - _ ! + = [ ] { } | \\ : ' , . ? / ` ~ \" ( ) ; < >.\n"
        );
        assert_secret_absent(&out, &pws);
    }
}

#[test]
fn check_exits_0_when_all_comply() {
    let out = policyc(&["check", O365], b"Tr0ub4dor&3\nCorrect Horse 9\n");
    assert_eq!(out.code, 0);
    assert_eq!(out.stdout.lines().count(), 2);
}

#[test]
fn check_json_is_one_object_per_input_in_order() {
    let out =
        policyc(&["check", O365, "--format", "json"], "Tr0ub4dor&3\nshort\nRésumé12\n".as_bytes());
    assert_eq!(out.code, 1);
    let lines: Vec<serde_json::Value> =
        out.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(
        lines[0],
        serde_json::json!({"schema": 1, "line": 1, "compliant": true, "violations": []})
    );
    assert_eq!(lines[2]["line"], 3);
    assert_eq!(lines[1]["compliant"], false);
    assert_eq!(lines[1]["violations"][0]["rule"], "length");
    assert_eq!(lines[1]["violations"][0]["severity"], "enforce");
    assert_eq!(lines[1]["violations"][1]["rule"], "classes");
    assert_eq!(lines[2]["violations"][0]["rule"], "charset");
    assert_secret_absent(&out, &["Tr0ub4dor&3", "Résumé12"]);
}

#[test]
fn check_jsonl_input_with_users() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("resets.jsonl");
    std::fs::write(
        &input,
        concat!(
            r#"{"password": "Pässwörd1", "user": {"sAMAccountName": "jdoe", "displayName": "Erin M. Hagens"}}"#, "\n",
            r#"{"password": "Erin2024!x", "user": {"displayName": "Erin M. Hagens"}}"#, "\n",
            "\n",
            r#"{"password": "Jdoe!2345", "user": {"samaccountname": "jdoe", "memberOf": ["CN=A", "CN=B"]}}"#, "\n",
            r#"{"password": "Secret123!", "user": {"favouriteColour": "blue"}}"#, "\n",
            r#"{"password": 12345678}"#, "\n",
            r#"{"password": "AbcdEf12!", "id": "reset-7"}"#, "\n",
        ),
    )
    .unwrap();
    let out = policyc(
        &[
            "check",
            "policies/ad-default.policy",
            "--input",
            input.to_str().unwrap(),
            "--format",
            "json",
        ],
        b"",
    );
    assert_eq!(out.code, 2, "input errors make the exit code 2: {}", out.stderr);
    let lines: Vec<serde_json::Value> =
        out.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    // Issue 27: every input line has its result, with its line number (a blank line too, which
    // was skipped), and an entry's `id` is given back.
    assert_eq!(lines.len(), 7, "{}", out.stdout);
    let numbers: Vec<u64> = lines.iter().map(|l| l["line"].as_u64().unwrap()).collect();
    assert_eq!(numbers, [1, 2, 3, 4, 5, 6, 7]);
    assert_eq!(lines[0]["compliant"], true);
    assert_eq!(lines[1]["violations"][0]["rule"], "names");
    assert_eq!(lines[2]["error"], "a blank line, not a JSON entry");
    assert_eq!(lines[3]["violations"][0]["rule"], "names");
    assert!(
        lines[4]["error"].as_str().unwrap().contains("unknown user attribute `favouriteColour`")
    );
    assert!(lines[5]["error"].as_str().unwrap().contains("expected {\"password\""));
    assert_eq!(lines[6]["compliant"], true, "entries after bad ones are still checked");
    assert_eq!(lines[6]["id"], "reset-7");
    assert!(lines[..6].iter().all(|l| l.get("id").is_none()));
    assert!(out.stderr.contains("input line 6"), "{}", out.stderr);
    assert_secret_absent(
        &out,
        &["Pässwörd1", "Erin2024!x", "Jdoe!2345", "Secret123!", "12345678", "AbcdEf12!"],
    );
}

#[test]
fn check_user_attributes_from_the_command_line() {
    let args = [
        "check",
        "policies/ad-default.policy",
        "--user",
        "sAMAccountName=jdoe",
        "--user",
        "displayName=Erin M. Hagens",
    ];
    let out = policyc(&args, b"hAgEnS#2024\nxxM.xx12A\n");
    assert_eq!(out.code, 1);
    assert!(out.stdout.starts_with("line 1: noncompliant\n  - names:"), "{}", out.stdout);
    assert!(out.stdout.contains("line 2: compliant"));
    let out = policyc(&["check", O365, "--user", "shoeSize=42"], b"x\n");
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("unknown user attribute `shoeSize`"), "{}", out.stderr);
    let out = policyc(&["check", O365, "--user", "sAMAccountName"], b"x\n");
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("expected ATTR=VALUE"));
}

#[test]
fn invalid_utf8_is_an_input_error_and_later_lines_still_count() {
    let out = policyc(&["check", O365], b"Tr0ub4dor&3\nbad\xff\xfeinput\nTr0ub4dor&3\n");
    assert_eq!(out.code, 2);
    assert!(out.stdout.contains("line 2: error: not valid UTF-8"), "{}", out.stdout);
    assert!(out.stdout.contains("line 3: compliant"));
    assert!(out.stderr.contains("input line 2: not valid UTF-8"));
}

#[test]
fn huge_passwords_are_refused_not_processed() {
    let mut stdin = "Aa1!".repeat(256 * 1024).into_bytes(); // 1 MiB
    stdin.push(b'\n');
    stdin.extend_from_slice(&vec![b'a'; 3 << 20]); // 3 MiB line, over the line limit
    stdin.extend_from_slice(b"\nTr0ub4dor&3\n");
    let out = policyc(&["check", O365, "--format", "json"], &stdin);
    assert_eq!(out.code, 1);
    let lines: Vec<serde_json::Value> =
        out.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["violations"][0]["rule"], "input_size");
    assert_eq!(lines[1]["violations"][0]["rule"], "input_size");
    assert_eq!(lines[2]["compliant"], true);
}

#[test]
fn damaged_artifacts_are_refused_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let artifact = compiled_o365(&dir);
    let mut bytes = std::fs::read(&artifact).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xFF;
    std::fs::write(&artifact, &bytes).unwrap();
    let out = policyc(&["check", &artifact], b"Tr0ub4dor&3\n");
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("artifact is corrupted"), "{}", out.stderr);
    assert!(out.stdout.is_empty(), "nothing may be judged with a damaged artifact");
    std::fs::write(&artifact, &bytes[..100]).unwrap();
    let out = policyc(&["check", &artifact], b"Tr0ub4dor&3\n");
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("truncated"), "{}", out.stderr);
}

#[test]
fn several_policies_need_a_name() {
    let file = "tests/golden/diagnostics/two_policies.policy";
    let out = policyc(&["check", file], b"Tr0ub4dor&3\n");
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("choose one with `--policy-name NAME`"), "{}", out.stderr);
    let out = policyc(&["check", file, "--policy-name", "second"], b"Tr0ub4dor&3\n");
    assert_eq!(out.code, 1);
    assert!(out.stdout.contains("Use 12 characters."));
}

/// Issue 27: `--policy-name` on every command that takes a policy file (`generate`, `diff` and
/// `bench` had none), and a name that matches nothing is an error, not silently ignored (an
/// artifact's name was never compared).
#[test]
fn policy_name_works_everywhere_and_a_wrong_one_is_an_error() {
    let file = "tests/golden/diagnostics/two_policies.policy";
    let dir = tempfile::tempdir().unwrap();
    let artifact = compiled_o365(&dir);
    for command in ["check", "explain"] {
        let out = policyc(&[command, &artifact, "--policy-name", "second"], b"Tr0ub4dor&3\n");
        assert_eq!(out.code, 2, "{command}: {out:?}");
        assert!(
            out.stderr.contains("is the compiled policy `office365`, not `second`"),
            "{command}: {}",
            out.stderr
        );
        let out = policyc(&[command, &artifact, "--policy-name", "office365"], b"Tr0ub4dor&3\n");
        assert_eq!(out.code, 0, "{command}: {out:?}");
    }
    let out = policyc(&["check", file, "--policy-name", "third"], b"Tr0ub4dor&3\n");
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("no policy named `third`"), "{}", out.stderr);

    // diff: one name per policy argument, in order.
    let out =
        policyc(&["diff", file, file, "--policy-name", "first", "--policy-name", "second"], b"");
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stdout.contains("Use 12 characters."), "{}", out.stdout);
    let out = policyc(&["diff", file, file, "--policy-name", "first"], b"");
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("1 --policy-name given for 2 policies"), "{}", out.stderr);
    let out = policyc(&["diff", file, file], b"");
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("--policy-name NAME"), "{}", out.stderr);

    let out = policyc(&["generate", file, "--policy-name", "second", "--count", "2"], b"");
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.lines().all(|l| l.chars().count() >= 12), "{}", out.stdout);
    let out = policyc(&["bench", file, "--policy-name", "nope", "--corpus", file], b"");
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("no policy named `nope`"), "{}", out.stderr);
}

#[test]
fn explain_speaks_plainly_about_every_rule() {
    let out = policyc(
        &[
            "explain",
            "tests/policies/all_rules.policy",
            "--policy-name",
            "all_rules",
            "--user",
            "givenName=Root",
        ],
        "BkBk12345#é".as_bytes(),
    );
    assert_eq!(out.code, 1);
    let s = &out.stdout;
    assert!(s.starts_with("policy all_rules (Every rule kind)\nresult: NONCOMPLIANT"), "{s}");
    assert!(s.contains("FAIL   overridden"), "{s}");
    assert!(s.contains("It has 5 characters from `digit`; the rule allows at most 4."), "{s}");
    assert!(s.contains("1 character is forbidden (in `odd`): position 11."), "{s}");
    assert!(
        s.contains("The longest run of consecutive characters is 5; at most 3 allowed."),
        "{s}"
    );
    assert!(s.contains("n/a    short_needs_symbol"), "{s}");
    assert!(s.contains("PASS   root_no_slash"), "{s}");
    assert_secret_absent(&out, &["BkBk12345#é"]);
    let out = policyc(&["explain", O365], b"Tr0ub4dor&3");
    assert_eq!(out.code, 0);
    assert!(out.stdout.contains("result: COMPLIANT"));
    let out = policyc(&["explain", O365], b"");
    assert_eq!(out.code, 2);
}

#[test]
fn fmt_check_and_rewrite() {
    let out = policyc(
        &["fmt", "--check", "policies/office365.policy", "policies/ad-default.policy"],
        b"",
    );
    assert_eq!(out.code, 0, "shipped policies are formatted: {}", out.stdout);
    let dir = tempfile::tempdir().unwrap();
    let messy = dir.path().join("messy.policy");
    std::fs::copy("tests/golden/fmt/messy.policy", &messy).unwrap();
    let out = policyc(&["fmt", "--check", messy.to_str().unwrap()], b"");
    assert_eq!(out.code, 1);
    assert!(out.stdout.contains("not formatted"));
    let out = policyc(&["fmt", messy.to_str().unwrap()], b"");
    assert_eq!(out.code, 0);
    let out = policyc(&["fmt", "--check", messy.to_str().unwrap()], b"");
    assert_eq!(out.code, 0);
    let out = policyc(&["fmt", "tests/golden/diagnostics/syntax_missing_colon.policy"], b"");
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("expected `:`"));
}

#[test]
fn explain_names_the_banned_term_but_never_the_password() {
    let policy = "tests/policies/terms.policy";
    let out = policyc(&["explain", policy], "C0ntos0Blank12".as_bytes());
    assert_eq!(out.code, 1);
    assert!(
        out.stdout.contains("It scores 4 points (banned terms `contoso`, `blank`"),
        "{}",
        out.stdout
    );
    assert_secret_absent(&out, &["C0ntos0Blank12", "contosoblankl2"]);
    // A password that is itself a banned term is not echoed back, even normalized.
    let out = policyc(&["explain", policy], b"GREEN");
    assert!(
        out.stdout.contains("The whole password is a banned term of the list `colors`"),
        "{}",
        out.stdout
    );
    assert_secret_absent(&out, &["GREEN", "`green`"]);
    let out = policyc(&["explain", policy, "--user", "givenName=Poll"], b"p0LL23fb");
    assert!(out.stdout.contains("It contains the user's first name"), "{}", out.stdout);
    let out =
        policyc(&["check", policy, "--tenant", "Fabrikam", "--format", "json"], b"fabrikam99!\n");
    assert_eq!(out.code, 1);
    assert!(out.stdout.contains(r#""rule":"entra""#), "{}", out.stdout);
}

#[test]
fn policy_test_command_reports_differences_and_junit() {
    let out = policyc(&["test", "policies/tests", "tests/cases"], b"");
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.trim_end().ends_with(" passed, 0 failed"), "{}", out.stdout);

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("weak.txt"), "password\nqwerty12\n").unwrap();
    let cases = dir.path().join("cases.yaml");
    let policy = std::fs::canonicalize("policies/office365.policy").unwrap();
    std::fs::write(
        &cases,
        format!(
            "policy: {}\ncases:\n  - name: right\n    password: \"Tr0ub4dor&3\"\n    compliant: true\n  \
             - name: wrong rule\n    password: \"Short1!\"\n    compliant: false\n    fails: [charset]\n  \
             - name: weak ones from a file\n    password_file: weak.txt\n    compliant: false\n    fails: [classes]\n",
            policy.display()
        ),
    )
    .unwrap();
    let out = policyc(&["test", cases.to_str().unwrap()], b"");
    assert_eq!(out.code, 1);
    assert!(out.stdout.contains("FAIL "), "{}", out.stdout);
    assert!(
        out.stdout.contains("wrong rule: expected violations [charset], got [length]"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.ends_with("2 passed, 1 failed\n"), "{}", out.stdout);
    let out = policyc(&["test", "--format", "junit", cases.to_str().unwrap()], b"");
    assert_eq!(out.code, 1);
    assert!(out.stdout.starts_with("<?xml"));
    assert!(
        out.stdout.contains(r#"<testsuites tests="3" failures="1" errors="0">"#),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("<failure message=\"expected violations [charset], got [length]\"/>")
    );
    std::fs::write(&cases, "policy: [not, a, path\n").unwrap();
    let out = policyc(&["test", cases.to_str().unwrap()], b"");
    assert_eq!(out.code, 2, "{}", out.stderr);
}

#[test]
fn generate_prints_passwords_that_both_policies_accept() {
    let out = policyc(
        &[
            "generate",
            "policies/ad-default.policy",
            "policies/office365.policy",
            "--count",
            "5",
            "--user",
            "sAMAccountName=jdoe",
        ],
        b"",
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let passwords: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(passwords.len(), 5);
    let stdin = out.stdout.clone();
    for policy in ["policies/ad-default.policy", "policies/office365.policy"] {
        let check = policyc(&["check", policy, "--user", "sAMAccountName=jdoe"], stdin.as_bytes());
        assert_eq!(check.code, 0, "{policy} refuses a generated password:\n{}", check.stdout);
    }
    let out = policyc(&["generate", "policies/office365.policy", "--length", "7"], b"");
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("length 7 is outside what the policies allow (8 to 256)"),
        "{}",
        out.stderr
    );
    // A set nothing satisfies: proved, with the rules that conflict.
    let out = policyc(&["generate", "tests/policies/pin.policy", "policies/office365.policy"], b"");
    assert_eq!(out.code, 2);
    assert_eq!(out.stdout, "");
    insta::assert_snapshot!(out.stderr, @r"
    error: no password satisfies every policy given (proved); these rules conflict:
      pin.digits         Use digits only.
      office365.classes  Use at least three of: lowercase letters, uppercase letters, digits, symbols.
    relax one of them, or generate for fewer policies
    ");
}

#[test]
fn diff_of_the_shipped_policies_is_pinned() {
    let out = policyc(
        &[
            "diff",
            "policies/ad-default.policy",
            "policies/office365.policy",
            "--user",
            "sAMAccountName=jdoe",
        ],
        b"",
    );
    assert_eq!(out.code, 1, "the policies differ: {}", out.stderr);
    insta::assert_snapshot!(out.stdout);
    let out = policyc(&["diff", "policies/office365.policy", "policies/office365.policy"], b"");
    assert_eq!(out.code, 0);
    let out = policyc(
        &["diff", "policies/office365.policy", "policies/ad-default.policy", "--format", "json"],
        b"",
    );
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(json["schema"], 1);
    let json = &json["directions"];
    assert_eq!(json[0]["from"], "office365");
    assert_eq!(json[1]["witnesses"][0]["rule"], "length");
    assert_eq!(json[1]["witnesses"][0]["method"], "search");
}

#[test]
fn diff_says_when_its_budget_runs_out() {
    let (ad, cloud) = ("policies/ad-default.policy", "policies/office365.policy");
    let out = policyc(&["diff", ad, cloud, "--max-states", "50"], b"");
    assert_eq!(out.code, 3, "nothing is proved, no witness found: inconclusive: {}", out.stdout);
    assert!(
        out.stdout.contains("not proved: the search budget (50 states, 10 s per rule) ran out for `length`, `charset`, `classes`; raise it with --max-states or --max-seconds"),
        "{}",
        out.stdout
    );
    let out = policyc(&["diff", ad, cloud, "--max-seconds", "nan"], b"");
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("--max-seconds NaN: expected a positive number"), "{}", out.stderr);
}

#[test]
fn bench_generates_a_reproducible_corpus_and_measures() {
    let a = policyc(&["bench", "--generate", "500", "--seed", "7"], b"");
    let b = policyc(&["bench", "--generate", "500", "--seed", "7"], b"");
    let c = policyc(&["bench", "--generate", "500", "--seed", "8"], b"");
    assert_eq!(a.code, 0);
    assert_eq!(a.stdout, b.stdout, "the same seed gives the same corpus");
    assert_ne!(a.stdout, c.stdout);
    assert_eq!(a.stdout.lines().count(), 500);
    assert!(a.stdout.lines().any(|l| !l.is_ascii()), "non-ASCII entries");
    assert!(a.stdout.lines().any(|l| l.chars().count() >= 64), "long entries");
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("corpus.txt");
    std::fs::write(&corpus, &a.stdout).unwrap();
    let out = policyc(
        &[
            "bench",
            O365,
            "--corpus",
            corpus.to_str().unwrap(),
            "--seconds",
            "0.05",
            "--threads",
            "2",
        ],
        b"",
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("checks/s: "), "{}", out.stdout);
    assert!(out.stdout.contains("ns/check: mean "));
    let v = policyc::Validator::from_bytes(
        &policyc::compile_path(O365, &Default::default()).unwrap().artifact,
    )
    .unwrap();
    let accepted = a.stdout.lines().filter(|l| v.check(l, &policyc::Context::new()).is_compliant());
    assert!(
        out.stdout.contains(&format!("accepted: {} of 500", accepted.count())),
        "{}",
        out.stdout
    );
}

/// `policyc import`: a policy written where `-o` says, which compiles and checks; an option it
/// cannot express is exit 2 with the option named and nothing written; `--skip` imports without
/// it; a missing input is exit 2 with the path.
#[test]
fn import_writes_a_policy_or_names_what_it_cannot_express() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("pwquality.conf");
    let out = dir.path().join("imported.policy");
    let (conf_s, out_s) = (conf.to_str().unwrap(), out.to_str().unwrap());
    std::fs::write(&conf, "minlen = 10\nminclass = 3\n").unwrap();
    let o = policyc(&["import", "pwquality", conf_s, "-o", out_s], b"");
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(o.stderr.contains("`dictcheck` (the default)"), "{}", o.stderr);
    assert!(!out.exists(), "nothing is written when the import fails");
    let o = policyc(&["import", "pwquality", conf_s, "-o", out_s, "--skip", "dictcheck"], b"");
    assert_eq!(o.code, 0, "{}", o.stderr);
    let policy = std::fs::read_to_string(&out).unwrap();
    assert!(policy.contains("# dictcheck skipped (--skip)"), "{policy}");
    let checked = policyc(&["check", out_s], b"short1A\nAbcdefgh12\nabcdefghij\n");
    assert_eq!(checked.code, 1, "{}", checked.stdout);
    for expected in [
        "line 1: noncompliant",
        "  - minlen:",
        "line 2: compliant",
        "line 3: noncompliant",
        "  - minclass:",
    ] {
        assert!(checked.stdout.contains(expected), "{expected}: {}", checked.stdout);
    }
    let o = policyc(&["import", "pwquality", "/nonexistent/pwquality.conf"], b"");
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("/nonexistent/pwquality.conf"), "{}", o.stderr);
}

/// `policyc import passwdqc`: Debian's file names `match` (on there) and writes nothing; with
/// `--skip match` the policy checks passwords as passwdqc's length and kind rules do.
#[test]
fn import_passwdqc_names_match_and_imports_without_it() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("passwdqc.conf");
    let out = dir.path().join("imported.policy");
    let (conf_s, out_s) = (conf.to_str().unwrap(), out.to_str().unwrap());
    std::fs::write(&conf, "min=disabled,24,11,8,7\nmax=40\npassphrase=3\nmatch=4\n").unwrap();
    let o = policyc(&["import", "passwdqc", conf_s, "-o", out_s], b"");
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(o.stderr.contains("`match` (line 4)"), "{}", o.stderr);
    assert!(!out.exists(), "nothing is written when the import fails");
    let o = policyc(&["import", "passwdqc", conf_s, "-o", out_s, "--skip", "match"], b"");
    assert_eq!(o.code, 0, "{}", o.stderr);
    // Four kinds in 7+ bytes; a capital first and a digit last do not count (three kinds left
    // in 7 bytes: refused); a passphrase of three words; over max.
    let checked = policyc(
        &["check", out_s],
        b"aB3#dE9\nAbc#de9\ncorrect horse battery\nabcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNO1#\n",
    );
    for expected in [
        "line 1: compliant",
        "line 2: noncompliant",
        "line 3: compliant",
        "line 4: noncompliant",
        "  - max:",
    ] {
        assert!(checked.stdout.contains(expected), "{expected}: {}", checked.stdout);
    }
}

/// `policyc import keycloak` reads a realm export's `passwordPolicy`, or says why not.
#[test]
fn import_keycloak_reads_a_realm_export() {
    let dir = tempfile::tempdir().unwrap();
    let realm = dir.path().join("realm.json");
    let realm_s = realm.to_str().unwrap();
    std::fs::write(
        &realm,
        r#"{"realm": "corp", "enabled": true, "passwordPolicy": "length(10) and digits(2) and notUsername(undefined)"}"#,
    )
    .unwrap();
    let o = policyc(&["import", "keycloak", realm_s], b"");
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(
        o.stdout.contains("rule digits \"Use at least 2 digits.\" : count java_digit >= 2"),
        "{}",
        o.stdout
    );
    std::fs::write(&realm, r#"{"realm": "corp"}"#).unwrap();
    let o = policyc(&["import", "keycloak", realm_s], b"");
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("has no `passwordPolicy`"), "{}", o.stderr);
    std::fs::write(&realm, "{not json").unwrap();
    let o = policyc(&["import", "keycloak", realm_s], b"");
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("not a Keycloak realm export"), "{}", o.stderr);
}

/// `explain` on rules made of rules: each part of an `or`, `and` or `at least N of`, and what
/// each award of a `points` rule gave, indented under its rule.
#[test]
fn explain_of_composite_rules_is_pinned() {
    let args = ["explain", "tests/policies/composite.policy", "--user", "sAMAccountName=jdoe"];
    let report = refusals_explained(&args, &["bK7mnp2q!", "Abcdefghijk7", "jdoe#Bk7mNp2qA!😀😀😀"]);
    insta::assert_snapshot!(report);
}

/// `policyc ARGS` on each password (each refused), the reports one after the other; none
/// may show the password.
fn refusals_explained(args: &[&str], passwords: &[&str]) -> String {
    let mut report = String::new();
    for password in passwords {
        let out = policyc(args, password.as_bytes());
        assert_eq!(out.code, 1, "{}", out.stderr);
        assert!(!out.stdout.contains(password), "explain must never print the password");
        report.push_str(&out.stdout);
        report.push('\n');
    }
    report
}

/// `explain` on measures in code units: each says its unit, and, failing, how characters
/// outside ASCII count.
#[test]
fn explain_of_measures_in_code_units_is_pinned() {
    let args = ["explain", "tests/policies/units.policy"];
    let report = refusals_explained(&args, &["Zq9\u{1F7DF}Lm4Xw", "Zq9€€!Lm4", "Zq9!#%Lm"]);
    insta::assert_snapshot!(report);
}

/// An Entra score the search cannot settle (every run of four of 43 characters banned) is
/// refused, and `explain` says why instead of showing a score that looks high enough.
#[test]
fn explain_says_when_an_entra_score_was_not_settled() {
    let password = "bcdfghjkmnpqrtuvwxyz%&*()-_=+[]{};:,.<>?/~^";
    let chars: Vec<char> = password.chars().collect();
    let terms: Vec<String> = chars
        .windows(4)
        .map(|w| policyc_compiler::syntax::printer::string(&w.iter().collect::<String>()))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("crowded.policy");
    std::fs::write(
        &policy,
        format!(
            "policy crowded {{\n  terms crowded = [{}]\n  rule entra \"Score 10.\" : entra score >= 10 using {{ crowded }}\n}}\n",
            terms.join(", ")
        ),
    )
    .unwrap();
    let out = policyc(&["explain", policy.to_str().unwrap()], password.as_bytes());
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stdout.contains("could not be settled"), "{}", out.stdout);
    assert!(!out.stdout.contains(password), "explain must never print the password");
    let out = policyc(&["check", policy.to_str().unwrap()], password.as_bytes());
    assert_eq!(out.code, 1, "{}", out.stderr);
    // With 5 points needed the check settles (any choice of terms leaves enough), and explain
    // says the exact score was not settled rather than print a number it does not know.
    let text = std::fs::read_to_string(&policy).unwrap().replace(">= 10", ">= 5");
    std::fs::write(&policy, text).unwrap();
    let out = policyc(&["explain", policy.to_str().unwrap()], password.as_bytes());
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("exact score was not settled"), "{}", out.stdout);
}

/// `policyc import ppm` reads the configuration from an LDIF entry, as ldapsearch writes the
/// policy's `pwdCheckModuleArg` (base64, folded), or says the entry lacks it.
#[test]
fn import_ppm_reads_pwdcheckmodulearg_from_ldif() {
    let dir = tempfile::tempdir().unwrap();
    let ldif = dir.path().join("ppolicy.ldif");
    let ldif_s = ldif.to_str().unwrap();
    // "minQuality 2\ncheckRDN 1\nforbiddenChars #\n", folded after 20 characters.
    let (head, tail) = ("bWluUXVhbGl0eSAyCmNo", "ZWNrUkROIDEKZm9yYmlkZGVuQ2hhcnMgIwo=");
    let entry = format!(
        "dn: cn=default,ou=policies,dc=example,dc=com\npwdCheckModuleArg:: {head}\n {tail}\npwdMinLength: 8\n"
    );
    std::fs::write(&ldif, entry).unwrap();
    let o = policyc(&["import", "ppm", ldif_s], b"");
    assert_eq!(o.code, 0, "{}", o.stderr);
    for expected in ["# minQuality 2 (line 1)", "rule ppm_rdn", "rule ppm_forbidden", "no [#]"] {
        assert!(o.stdout.contains(expected), "{expected}: {}", o.stdout);
    }
    std::fs::write(&ldif, "dn: cn=default,ou=policies,dc=example,dc=com\npwdMinLength: 8\n")
        .unwrap();
    let o = policyc(&["import", "ppm", ldif_s], b"");
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("has no `pwdCheckModuleArg`"), "{}", o.stderr);
}

/// Issue 26 (day-2 changes): `compile -o` onto the live artifact wrote it in place, so that a
/// hook loading it meanwhile found it truncated and refused a compliant reset. It now replaces
/// the file whole: a reader sees the old artifact or the new one.
#[test]
fn recompiling_onto_the_live_artifact_never_shows_a_reader_a_part() {
    let dir = tempfile::tempdir().unwrap();
    let live = dir.path().join("live.policyc");
    let live_arg = live.to_str().unwrap().to_string();
    assert_eq!(policyc(&["compile", "policies/office365.policy", "-o", &live_arg], b"").code, 0);
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let (done, live) = (done.clone(), live.clone());
        std::thread::spawn(move || {
            let (mut loads, mut failures) = (0u32, Vec::new());
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                loads += 1;
                if let Err(e) = policyc::Validator::from_path(&live) {
                    failures.push(e.to_string());
                }
            }
            (loads, failures)
        })
    };
    for _ in 0..20 {
        let out = policyc(&["compile", "policies/office365.policy", "-o", &live_arg], b"");
        assert_eq!(out.code, 0, "{}", out.stderr);
    }
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let (loads, failures) = reader.join().unwrap();
    assert!(loads > 20, "the reader ran alongside: {loads} loads");
    assert!(
        failures.is_empty(),
        "{} of {loads} loads failed: {:?}",
        failures.len(),
        failures.first()
    );
    assert!(!dir.path().join("live.policyc.tmp").exists());
}

/// Runs `policyc` with `stdin`, its standard output either `/dev/full` or a pipe whose reader
/// has already gone (as `| head -1` leaves it): exit code and standard error.
fn with_broken_stdout(args: &[&str], stdin: &[u8], full: bool) -> (i32, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_policyc"));
    cmd.args(args).stdin(Stdio::piped()).stderr(Stdio::piped());
    if full {
        cmd.stdout(std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap());
    } else {
        cmd.stdout(Stdio::piped());
    }
    let mut child = cmd.spawn().unwrap();
    // The reader goes away before the first line is written.
    drop(child.stdout.take());
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "policyc {args:?} panicked: {stderr}");
    (out.status.code().unwrap_or(-1), stderr)
}

/// Issue 27 (the command line): a closed pipe panicked (exit 101) in `generate`, `explain`,
/// `diff`, `test` and `agent` commands; `check | head -1` exited 0 though a later line is
/// noncompliant; `check > /dev/full` exited 0 with the results lost. A closed pipe now ends
/// quietly with the true verdict code; any other write error is exit 2 with a message.
#[test]
fn write_errors_are_exit_2_and_a_closed_pipe_never_changes_the_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let artifact = compiled_o365(&dir);
    let lines: Vec<u8> =
        b"Tr0ub4dor&3-Staple\n".repeat(2000).into_iter().chain(*b"short\n").collect();
    // A closed pipe: every line is still judged.
    let (code, stderr) = with_broken_stdout(&["check", &artifact], &lines, false);
    assert_eq!(code, 1, "the last line is noncompliant: {stderr}");
    let (code, stderr) = with_broken_stdout(&["check", &artifact], b"Tr0ub4dor&3-Staple\n", false);
    assert_eq!(code, 0, "{stderr}");
    // A full device: exit 2, said.
    let (code, stderr) = with_broken_stdout(&["check", &artifact], b"Tr0ub4dor&3-Staple\n", true);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("cannot write to standard output: No space left on device"),
        "{stderr}"
    );
    // The other commands: no panic, the same rule.
    for args in [
        vec!["generate", O365, "--count", "500"],
        vec!["explain", &artifact],
        vec!["diff", "policies/ad-default.policy", O365],
        vec!["test", "policies/tests"],
        vec!["fmt", "--check", O365],
    ] {
        let (code, stderr) = with_broken_stdout(&args, b"short\n", false);
        assert!(code == 0 || code == 1, "{args:?} with a closed pipe: exit {code}: {stderr}");
        let (code, stderr) = with_broken_stdout(&args, b"short\n", true);
        let quiet = args[0] == "fmt"; // `fmt --check` of a formatted file prints nothing
        if !quiet {
            assert_eq!(code, 2, "{args:?} > /dev/full: {stderr}");
            assert!(stderr.contains("cannot write to standard output"), "{args:?}: {stderr}");
        }
    }
}

/// Runs `policyc ARGS` on a terminal (a pty, through util-linux `script`), typing `password`
/// once the prompt shows (or after 5 s), ending the session once `answer` shows (or after
/// 10 s): everything the terminal showed, and the exit code.
fn on_a_terminal(args: &[&str], password: &str, answer: &str) -> (String, Option<i32>, bool) {
    use std::io::Read;
    let command: Vec<String> = std::iter::once(env!("CARGO_BIN_EXE_policyc").to_string())
        .chain(args.iter().map(|a| a.to_string()))
        .collect();
    let mut child = Command::new("script")
        .args(["-q", "-e", "-c", &command.join(" "), "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script (util-linux) runs a command on a pty");
    let mut stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut seen = Vec::new();
        let mut buf = [0u8; 256];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 {
                break;
            }
            seen.extend_from_slice(&buf[..n]);
            let _ = tx.send(String::from_utf8_lossy(&seen).into_owned());
        }
        String::from_utf8_lossy(&seen).into_owned()
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while std::time::Instant::now() < deadline {
        match rx.recv_timeout(std::time::Duration::from_millis(100)) {
            Ok(seen) if seen.contains("Password") => break,
            _ => {}
        }
    }
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(format!("{password}\n").as_bytes()).unwrap();
    // script ends the session at the end of its input: close it once the command answered.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut answered = false;
    while !answered && std::time::Instant::now() < deadline {
        answered = rx
            .recv_timeout(std::time::Duration::from_millis(100))
            .is_ok_and(|seen| seen.contains(answer));
    }
    drop(stdin);
    let status = child.wait().unwrap();
    (reader.join().unwrap(), status.code(), answered)
}

/// Issue 27 (the command line) and the brief ("passwords never in a terminal echo"): `explain`
/// and `check` read a password typed at a terminal with echo on. Now: a prompt, no echo, and
/// the answer at once (not after the end of input).
#[test]
fn a_password_typed_at_a_terminal_is_not_echoed() {
    let dir = tempfile::tempdir().unwrap();
    let artifact = compiled_o365(&dir);
    for (command, expected) in [("explain", "policy office365"), ("check", "line 1: compliant")] {
        let (shown, code, answered) =
            on_a_terminal(&[command, &artifact], "Canary-Tty1-Xy9!", expected);
        assert!(answered, "{command} waited for more input after the one password: {shown}");
        assert!(shown.contains("Password (not shown): "), "{command}: {shown}");
        assert!(shown.contains(expected), "{command}: {shown}");
        assert!(!shown.contains("Canary-Tty1"), "{command} echoed the password: {shown}");
        assert_eq!(code, Some(0), "{command}: {shown}");
    }
}

/// `explain` says when it used only the first of several lines, and when a password ends with a
/// space.
#[test]
fn explain_says_what_it_read() {
    let dir = tempfile::tempdir().unwrap();
    let artifact = compiled_o365(&dir);
    let out = policyc(&["explain", &artifact], b"Tr0ub4dor&3-Staple \nsecond\n");
    assert!(out.stderr.contains("the first line was used"), "{}", out.stderr);
    assert!(out.stderr.contains("ends with a space or tab"), "{}", out.stderr);
    let out = policyc(&["explain", &artifact], b"Tr0ub4dor&3-Staple\n");
    assert!(out.stderr.is_empty(), "{}", out.stderr);
}

/// Issue 27 (the command line): counts agree with their nouns ("1 rules" before), and `test`
/// printed `error: error:` for a case file whose policy does not compile.
#[test]
fn counts_read_as_english_and_errors_say_error_once() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("one.policy");
    std::fs::write(&policy, "policy one {\n  rule length \"Use 8 or more.\" : length >= 8\n}\n")
        .unwrap();
    let out = policyc(
        &[
            "compile",
            policy.to_str().unwrap(),
            "-o",
            dir.path().join("one.policyc").to_str().unwrap(),
        ],
        b"",
    );
    assert!(out.stderr.contains("compiled policy `one`: 1 rule, "), "{}", out.stderr);
    std::fs::write(
        dir.path().join("broken.policy"),
        "policy broken {\n  rule x \"X.\" : only symbl\n}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("broken.yaml"),
        "policy: broken.policy\ncases:\n  - password: abc\n    compliant: false\n",
    )
    .unwrap();
    let out = policyc(&["test", dir.path().join("broken.yaml").to_str().unwrap()], b"");
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert!(!out.stderr.contains("error: error:"), "{}", out.stderr);
    assert!(
        out.stderr.contains("its policy") && out.stderr.contains("does not compile"),
        "{}",
        out.stderr
    );
    assert!(out.stdout.contains("1 case file could not be loaded"), "{}", out.stdout);
}

/// Issue 27 (the command line): `-` is standard input or output everywhere a file is named
/// (`compile -o -` wrote a file named `-`).
#[test]
fn a_dash_is_standard_input_or_output() {
    let dir = tempfile::tempdir().unwrap();
    let source = std::fs::read(O365).unwrap();
    // compile - (to standard output by default), and -o -.
    for args in [vec!["compile", "-"], vec!["compile", "-", "-o", "-"]] {
        let out = Command::new(env!("CARGO_BIN_EXE_policyc"))
            .args(&args)
            .current_dir(dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .and_then(|mut c| {
                c.stdin.take().unwrap().write_all(&source)?;
                c.wait_with_output()
            })
            .unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(!dir.path().join("-").exists(), "{args:?} wrote a file named `-`");
        policyc::Validator::from_bytes(&out.stdout).expect("the artifact on standard output");
    }
    let artifact = dir.path().join("o365.policyc");
    let out = policyc(&["compile", O365, "-o", artifact.to_str().unwrap()], b"");
    assert_eq!(out.code, 0, "{}", out.stderr);
    // check --input -.
    let out = policyc(
        &["check", artifact.to_str().unwrap(), "--input", "-", "--format", "json"],
        b"{\"password\": \"Tr0ub4dor&3-Staple\"}\n{\"password\": \"short\"}\n",
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_eq!(out.stdout.lines().count(), 2, "{}", out.stdout);
    // fmt -: formatted to standard output; --check says whether it would change.
    let messy = b"policy p {\n        rule length \"Use 8 or more.\"   :   length >= 8\n}\n";
    let out = policyc(&["fmt", "-"], messy);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("  rule length \"Use 8 or more.\" : length >= 8"),
        "{}",
        out.stdout
    );
    assert_eq!(policyc(&["fmt", "--check", "-"], messy).code, 1);
    assert_eq!(policyc(&["fmt", "--check", "-"], out.stdout.as_bytes()).code, 0);
    // import … -.
    let out = policyc(
        &["import", "pwquality", "-", "--skip", "dictcheck", "--skip", "usercheck"],
        b"minlen = 12\n",
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("length"), "{}", out.stdout);
}

/// Issue 27 (the command line): `diff` exited 1 both for "they differ" and for "inconclusive,
/// budget spent"; inconclusive is 3 now.
#[test]
fn diff_gives_inconclusive_its_own_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.policy");
    let b = dir.path().join("b.policy");
    std::fs::write(&a, "policy a {\n  rule length \"Use 8 or more.\" : length >= 8\n  rule re \"No aaa.\" : not matches /aaa/\n}\n").unwrap();
    std::fs::write(&b, "policy b {\n  rule length \"Use 8 or more.\" : length >= 8\n  rule re \"No aaa.\" : not matches /a{3}/\n}\n").unwrap();
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
    let out = policyc(&["diff", a, b, "--max-states", "2"], b"");
    assert_eq!(out.code, 3, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("not proved: the search budget"), "{}", out.stdout);
    assert_eq!(policyc(&["diff", a, b], b"").code, 0, "proved equal with the default budget");
    assert_eq!(policyc(&["diff", "policies/ad-default.policy", O365], b"").code, 1);
}

/// Issue 27 (conventions): shell completions and man pages, from the clap definitions.
#[test]
fn completions_and_man_pages_are_generated() {
    for (shell, mark) in
        [("bash", "_policyc()"), ("zsh", "#compdef policyc"), ("fish", "complete -c policyc")]
    {
        let out = policyc(&["completions", shell], b"");
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert!(
            out.stdout.contains(mark) && out.stdout.contains("doctor"),
            "{shell}: {}",
            out.stdout
        );
    }
    let out = policyc(&["man"], b"");
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains(".TH policyc 1"), "{}", out.stdout);
    let dir = tempfile::tempdir().unwrap();
    let out = policyc(&["man", "-o", dir.path().to_str().unwrap()], b"");
    assert_eq!(out.code, 0, "{}", out.stderr);
    for page in ["policyc.1", "policyc-check.1", "policyc-agent-status.1", "policyc-doctor.1"] {
        assert!(dir.path().join(page).exists(), "{page} missing");
    }
    let out = policyc(&["--version"], b"");
    assert!(
        out.stdout.contains("artifact formats 5 to 9, writes 9; features: compiler, agent"),
        "{}",
        out.stdout
    );
}

/// Issue 27: `policyc inspect ARTIFACT [--format json]` shows what an artifact holds (name,
/// digest, format, sizes, signature and whether it verifies, rules); a policy file given to
/// `inspect`, or an artifact given to `compile` or `fmt`, says what it is.
#[test]
fn inspect_shows_what_an_artifact_holds() {
    let golden = "tests/golden/artifacts/office365.policyc";
    let out = policyc(&["inspect", golden], b"");
    assert_eq!(out.code, 0, "{out:?}");
    insta::assert_snapshot!(out.stdout);

    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
    let (key, other) = (path("signing.key"), path("other.key"));
    assert_eq!(policyc(&["keygen", "-o", &key], b"").code, 0);
    assert_eq!(policyc(&["keygen", "-o", &other], b"").code, 0);
    let artifact = path("o365.policyc");
    let out =
        policyc(&["compile", "policies/office365.policy", "-o", &artifact, "--sign", &key], b"");
    assert_eq!(out.code, 0, "{out:?}");
    let json = |args: &[&str]| -> serde_json::Value {
        let out = policyc(args, b"");
        assert_eq!(out.code, 0, "{out:?}");
        serde_json::from_str(&out.stdout).unwrap()
    };
    let shown = json(&["inspect", &artifact, "--format", "json"]);
    assert_eq!(shown["schema"], 1);
    assert_eq!(shown["policy"], "office365");
    assert_eq!(shown["format_version"], 9);
    assert_eq!(shown["rules"].as_array().unwrap().len(), 3);
    assert_eq!(shown["rules"][2]["kind"], "at_least_of");
    assert!(shown["signature"]["status"].as_str().unwrap().starts_with("not verified"));
    let shown = json(&["inspect", &artifact, "--key", &format!("{key}.pub"), "--json"]);
    assert_eq!(shown["signature"]["status"], "verified");
    let shown = json(&["inspect", &artifact, "--key", &format!("{other}.pub"), "--json"]);
    assert!(shown["signature"]["status"].as_str().unwrap().starts_with("DOES NOT VERIFY"));

    let out = policyc(&["inspect", "policies/office365.policy"], b"");
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("is not a compiled policy"), "{}", out.stderr);
    let out = policyc(&["inspect", "-", "--json"], &std::fs::read(golden).unwrap());
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("\"policy\": \"office365\""), "{}", out.stdout);
    for command in [&["compile", golden, "-o", &path("x")][..], &["fmt", golden]] {
        let out = policyc(command, b"");
        assert_eq!(out.code, 2, "{command:?}");
        assert!(
            out.stderr.contains("is a compiled policy (artifact format 9), not policy source"),
            "{command:?}: {}",
            out.stderr
        );
        assert!(!out.stderr.contains("UTF-8"), "{}", out.stderr);
    }
}

/// Issue 27: `-` for standard input everywhere: `check -` reads the policy or artifact from
/// standard input (the passwords then come from --input), and says so when standard input
/// would have to hold both.
#[test]
fn check_reads_the_policy_from_standard_input() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("p.jsonl");
    std::fs::write(&input, "{\"password\": \"short\"}\n").unwrap();
    let input = input.to_str().unwrap();
    let artifact = std::fs::read(compiled_o365(&dir)).unwrap();
    let source = std::fs::read(O365).unwrap();
    for policy in [artifact, source] {
        let out = policyc(&["check", "-", "--input", input, "--json"], &policy);
        assert_eq!(out.code, 1, "{out:?}");
        assert!(out.stdout.contains("\"rule\":\"length\""), "{}", out.stdout);
    }
    let out = policyc(&["check", "-"], b"short\n");
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("cannot hold both the policy"), "{}", out.stderr);
    let out = policyc(&["explain", "-"], b"short\n");
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("give the policy as a file"), "{}", out.stderr);
}

/// Issue 27 (conventions): `--color auto|always|never` with NO_COLOR, for diagnostics and
/// `explain`; `-q` and `-v` on every command.
#[test]
fn color_and_how_much_is_said_follow_the_global_flags() {
    let bad = "tests/golden/diagnostics/unclosed_brace.policy";
    let esc = "\x1b[";
    // Into a pipe, auto is plain; always colours, even with NO_COLOR; never never does.
    let run = |args: &[&str], no_color: bool| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_policyc"));
        cmd.args(args).env_remove("NO_COLOR");
        if no_color {
            cmd.env("NO_COLOR", "1");
        }
        let out = cmd.stdin(Stdio::null()).output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.policyc");
    let out = out.to_str().unwrap();
    let (code, _, plain) = run(&["compile", bad, "-o", out], false);
    assert_eq!(code, Some(2));
    assert!(plain.contains("unclosed `{`") && !plain.contains(esc), "{plain}");
    let (_, _, colored) = run(&["compile", bad, "-o", out, "--color", "always"], true);
    assert!(colored.contains(esc) && colored.contains("policy rejected"), "{colored}");
    let (_, _, never) = run(&["--color", "never", "compile", bad, "-o", out], false);
    assert!(!never.contains(esc), "{never}");

    let artifact = compiled_o365(&dir);
    let explain = |extra: &[&str]| {
        let args: Vec<&str> =
            ["explain", artifact.as_str()].into_iter().chain(extra.iter().copied()).collect();
        policyc(&args, b"short\n").stdout
    };
    assert!(!explain(&[]).contains(esc));
    let colored = explain(&["--color", "always"]);
    assert!(colored.contains("\x1b[1;31mFAIL \x1b[0m"), "{colored}");
    assert!(colored.contains("\x1b[1;31mNONCOMPLIANT\x1b[0m"), "{colored}");

    // -q: the summary line goes; errors stay. -v: the policy in use is named.
    let o365 = "policies/office365.policy";
    let (code, _, said) = run(&["compile", o365, "-o", out], false);
    assert_eq!(code, Some(0));
    assert!(said.contains("compiled policy `office365`"), "{said}");
    let (code, _, said) = run(&["compile", o365, "-o", out, "-q"], false);
    assert_eq!(code, Some(0));
    assert!(said.is_empty(), "{said}");
    let (code, _, said) = run(&["-q", "compile", bad, "-o", out], false);
    assert_eq!(code, Some(2));
    assert!(said.contains("unclosed `{`"), "{said}");
    let (_, _, said) = run(&["check", out, "-v"], false);
    assert!(said.contains("policy office365@") && said.contains("3 rules"), "{said}");
    let (code, _, said) = run(&["check", out, "-q", "-v"], false);
    assert_eq!(code, Some(2), "{said}");
}

/// Issue 27: `explain --format json`: the verdict and, per rule, the text report's words, with
/// the schema version; never the password.
#[test]
fn explain_speaks_json_too() {
    let dir = tempfile::tempdir().unwrap();
    let artifact = compiled_o365(&dir);
    let out = policyc(&["explain", &artifact, "--format", "json"], "Résumé-Canary".as_bytes());
    assert_eq!(out.code, 1, "{out:?}");
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(json["schema"], 1);
    assert_eq!(json["policy"], "office365");
    assert_eq!(json["compliant"], false);
    let rules = json["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 3);
    assert_eq!(rules[1]["rule"], "charset");
    assert_eq!(rules[1]["outcome"], "failed");
    assert!(rules[1]["explanation"].as_str().unwrap().contains("position 2, 6"), "{json}");
    assert_eq!(rules[0]["outcome"], "passed");
    assert_secret_absent(&out, &["Résumé-Canary", "Canary"]);
    let text = policyc(&["explain", &artifact], "Résumé-Canary".as_bytes());
    for r in rules {
        assert!(text.stdout.contains(r["explanation"].as_str().unwrap()), "{r}");
    }
}

/// `generate`, `bench` and `store info` had no JSON form (store info is in tests/store.rs).
#[test]
fn generate_and_bench_speak_json_too() {
    let dir = tempfile::tempdir().unwrap();
    let artifact = compiled_o365(&dir);
    let out = policyc(&["generate", &artifact, "--count", "2", "--format", "json"], b"");
    assert_eq!(out.code, 0, "{out:?}");
    let lines: Vec<serde_json::Value> =
        out.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2);
    for one in &lines {
        assert_eq!(one["schema"], 1);
        assert_eq!(one["length"], 16);
        assert!(one["policies"][0].as_str().unwrap().starts_with("office365@"), "{one}");
        let pw = one["password"].as_str().unwrap();
        let check = policyc(&["check", &artifact], pw.as_bytes());
        assert_eq!(check.code, 0, "a generated password complies: {check:?}");
    }
    let corpus = dir.path().join("corpus.txt");
    std::fs::write(&corpus, "short\nTr0ub4dor&3\nPassw0rd\n").unwrap();
    let corpus = corpus.to_str().unwrap();
    let args = ["bench", &artifact, "--corpus", corpus, "--seconds", "0.05", "--format", "json"];
    let out = policyc(&args, b"");
    assert_eq!(out.code, 0, "{out:?}");
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(json["schema"], 1);
    assert_eq!((json["policy"].as_str(), json["passwords"].as_u64()), (Some("office365"), Some(3)));
    assert_eq!(json["accepted"], 2);
    assert!(json["checks_per_second"].as_f64().unwrap() > 0.0, "{json}");
    assert!(json["ns_per_check"]["p50"].as_f64().unwrap() > 0.0, "{json}");
}

/// A policy that refuses nothing is said, never compiled or imported silently: `compile` warns
/// of a policy with no enforce rule, and `import` of one `--skip` left empty.
#[test]
fn a_policy_without_an_enforce_rule_is_said() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("realm.txt");
    std::fs::write(&input, "regexPattern(^[a-z]+$)\n").unwrap();
    let o =
        policyc(&["import", "keycloak", input.to_str().unwrap(), "--skip", "regexPattern"], b"");
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(
        o.stderr.contains("warning: the imported policy has no enforce rule (`--skip regexPattern` left out what it had): it accepts every password"),
        "{}",
        o.stderr
    );
    let policy = dir.path().join("audit.policy");
    std::fs::write(&policy, "policy audit_only {\n  audit rule long \"Long.\" : length >= 20\n}\n")
        .unwrap();
    let out = dir.path().join("audit.policyc");
    let o = policyc(&["compile", policy.to_str().unwrap(), "-o", out.to_str().unwrap()], b"");
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(
        o.stderr.contains(
            "warning: policy `audit_only` has no enforce rule: it accepts every password"
        ),
        "{}",
        o.stderr
    );
}

/// `policyc export ppm --ldif DN`: an LDIF change for ldapmodify that `policyc import ppm` reads
/// back as the same configuration; `--ldif` for another checker, or several policies for one
/// configuration, is exit 2 with nothing written.
#[test]
fn export_writes_each_checkers_configuration_or_says_why_not() {
    let dir = tempfile::tempdir().unwrap();
    let ldif = dir.path().join("ppm.ldif");
    let (ldif_s, plain_s) = (ldif.to_str().unwrap(), dir.path().join("ppm.conf"));
    let o = policyc(
        &[
            "export",
            "ppm",
            "policies/office365.policy",
            "--ldif",
            "cn=default,ou=policies,dc=example,dc=com",
            "-o",
            ldif_s,
        ],
        b"",
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    let text = std::fs::read_to_string(&ldif).unwrap();
    assert!(text.contains("dn: cn=default,ou=policies,dc=example,dc=com\nchangetype: modify\nreplace: pwdCheckModuleArg\npwdCheckModuleArg:: "), "{text}");
    let o = policyc(
        &["export", "ppm", "policies/office365.policy", "-o", plain_s.to_str().unwrap()],
        b"",
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    let from_ldif = policyc(&["import", "ppm", ldif_s], b"");
    let from_plain = policyc(&["import", "ppm", plain_s.to_str().unwrap()], b"");
    assert_eq!(from_ldif.code, 0, "{}", from_ldif.stderr);
    let body = |s: &str| {
        s.lines()
            .filter(|l| !l.starts_with('#') && !l.contains("description"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(body(&from_ldif.stdout), body(&from_plain.stdout));
    let bad = dir.path().join("bad.conf");
    let o = policyc(
        &[
            "export",
            "pwquality",
            "policies/office365.policy",
            "--ldif",
            "cn=x",
            "-o",
            bad.to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("--ldif is for ppm's configuration"), "{}", o.stderr);
    let o = policyc(
        &[
            "export",
            "keycloak",
            "policies/office365.policy",
            "policies/ad-default.policy",
            "-o",
            bad.to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("takes one policy (2 given)"), "{}", o.stderr);
    assert!(!bad.exists(), "nothing is written on an error");
    let o = policyc(&["export", "pwquality", "policies/office365.policy", "--format", "json"], b"");
    assert_eq!(o.code, 0, "{}", o.stderr);
    let report: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    assert_eq!(report["format"], "pwquality");
    assert!(
        report["rules"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["fidelity"] == "weaker" && r["accepted"].is_string()),
        "{report}"
    );
}
