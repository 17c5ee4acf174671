//! Resource limits of the compiler, as a reviewer attacking it found them: a policy or list
//! naming a device or FIFO is refused before any read; a list too large for the hook to load
//! on every password change is a clear compile error.

#![allow(clippy::unwrap_used, clippy::panic, reason = "a test fails by panicking")]

use policyc::{CompileOptions, compile_path};

fn compile_error(policy: &str, dir: &std::path::Path) -> String {
    let path = dir.join("p.policy");
    std::fs::write(&path, policy).unwrap();
    // `/dev` allowed: what is tested here is that a device is never read.
    let options = CompileOptions { allow_paths: vec!["/dev".into()], ..CompileOptions::default() };
    match compile_path(&path, &options) {
        Ok(_) => panic!("compiled"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_device_or_fifo_named_as_a_list_or_import_is_refused_unread() {
    let dir = tempfile::tempdir().unwrap();
    let e = compile_error(
        "policy p {\n  terms t = file \"/dev/zero\"\n  rule r \"No.\" : avoid t exact\n}\n",
        dir.path(),
    );
    assert!(e.contains("cannot read term list `/dev/zero`: it is not a regular file"), "{e}");
    let fifo = dir.path().join("fifo.policy");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let e = compile_error(
        "import \"fifo.policy\"\npolicy p {\n  rule r \"8.\" : length >= 8\n}\n",
        dir.path(),
    );
    assert!(e.contains("it is not a regular file"), "{e}");
}

#[test]
fn a_list_over_the_term_limit_is_a_compile_error() {
    let dir = tempfile::tempdir().unwrap();
    let n = policyc_compiler::compile::MAX_LIST_TERMS + 1;
    let list: String = (0..n).map(|i| format!("t{i:07}\n")).collect();
    std::fs::write(dir.path().join("big.txt"), list).unwrap();
    let e = compile_error(
        "policy p {\n  terms big = file \"big.txt\"\n  rule r \"No.\" : avoid big exact\n}\n",
        dir.path(),
    );
    let limit = policyc_compiler::compile::MAX_LIST_TERMS;
    assert!(e.contains(&format!("list `big` has {n} terms; the limit is {limit}")), "{e}");
}

#[test]
fn nesting_deep_enough_to_exhaust_the_stack_is_a_diagnostic() {
    let dir = tempfile::tempdir().unwrap();
    let max = policyc_compiler::syntax::parser::MAX_NESTING;
    let parens = |n: usize| {
        format!(
            "policy p {{\n  class c = {}digit{}\n  rule r \"x\" : only c\n}}\n",
            "(".repeat(n),
            ")".repeat(n)
        )
    };
    let whens = |n: usize| {
        format!(
            "policy p {{\n{}rule r \"x\" : length >= 8\n{}}}\n",
            "when length >= 1 {\n".repeat(n),
            "}\n".repeat(n)
        )
    };
    for deep in [parens(5000), whens(4000), parens(max)] {
        let e = compile_error(&deep, dir.path());
        assert!(e.contains(&format!("nesting deeper than {max} levels")), "{e}");
    }
    // Just under the limit compiles; brackets inside strings, sets and regexes do not count.
    let path = dir.path().join("ok.policy");
    std::fs::write(&path, parens(max - 2)).unwrap();
    compile_path(&path, &CompileOptions::default()).unwrap();
    let literals = format!(
        "policy p {{\n  description \"{}\"\n  rule r \"x\" : not matches /{}/\n  class s = [{}]\n}}\n",
        "(".repeat(300),
        "\\(".repeat(300),
        "\\{".repeat(300)
    );
    std::fs::write(&path, literals).unwrap();
    compile_path(&path, &CompileOptions::default()).unwrap();
}

/// Issue 25, item 9: before, `compile` read any path a policy named (`terms t = file
/// "/etc/shadow"` compiled as root embedded the shadow lines in a 0644 artifact).
#[test]
fn a_policy_names_files_under_its_own_folder_only_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("policies");
    std::fs::create_dir(&folder).unwrap();
    let secret = dir.path().join("secret.txt");
    std::fs::write(&secret, "root:$6$hash:19000:0:99999:7:::\n").unwrap();
    std::os::unix::fs::symlink(&secret, folder.join("link.txt")).unwrap();
    std::fs::write(folder.join("words.txt"), "contoso\n").unwrap();
    let compile = |source: &str, allow: Vec<std::path::PathBuf>| {
        let path = folder.join("p.policy");
        std::fs::write(&path, source).unwrap();
        compile_path(&path, &CompileOptions { allow_paths: allow, ..CompileOptions::default() })
            .map_err(|e| e.to_string())
    };
    let list = |file: &str| {
        format!("policy p {{\n  terms t = file \"{file}\"\n  rule r \"No.\" : avoid t exact\n}}\n")
    };
    for outside in [secret.display().to_string(), "../secret.txt".into(), "link.txt".into()] {
        let e = compile(&list(&outside), vec![]).unwrap_err();
        assert!(e.contains("is outside the folders this policy may read"), "{outside}: {e}");
        assert!(
            e.contains(&format!("--allow-path {}", dir.path().canonicalize().unwrap().display())),
            "{e}"
        );
        assert!(!e.contains("root:$6$"), "nothing of it is read: {e}");
    }
    let import = "import \"../other.policy\"\npolicy p {\n  rule r \"8.\" : length >= 8\n}\n";
    std::fs::write(
        dir.path().join("other.policy"),
        "policy o {\n  rule r \"8.\" : length >= 8\n}\n",
    )
    .unwrap();
    assert!(compile(import, vec![]).unwrap_err().contains("policy file"));
    let store =
        "policy p {\n  store s = \"/var/lib/policyc/pwned\"\n  rule r \"No.\" : not in s\n}\n";
    let e = compile(store, vec![]).unwrap_err();
    assert!(
        e.contains("breached-password store") && e.contains("--allow-path /var/lib/policyc"),
        "{e}"
    );
    // Inside its folder, or in a folder allowed: as before.
    compile(&list("words.txt"), vec![]).unwrap();
    compile(&list("../secret.txt"), vec![dir.path().to_path_buf()]).unwrap();
    compile(import, vec![dir.path().to_path_buf()]).unwrap();

    // The command line: refused with the diagnostic, then allowed with `--allow-path`.
    let path = folder.join("p.policy");
    std::fs::write(&path, list("../secret.txt")).unwrap();
    let run = |extra: &[&std::ffi::OsStr]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_policyc"))
            .arg("compile")
            .arg(&path)
            .arg("-o")
            .arg(dir.path().join("p.policyc"))
            .args(extra)
            .output()
            .unwrap()
    };
    let out = run(&[]);
    assert_eq!(out.status.code(), Some(2));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("p.policy:2:") && said.contains("^"), "{said}");
    let out = run(&["--allow-path".as_ref(), dir.path().as_os_str()]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
}

/// Every a/b string of 3 to 12 characters (8,184 terms), and a policy that scores with it.
fn crafted_entra_policy(dir: &std::path::Path) -> policyc::Validator {
    let (terms, _) = policyc_cli::corpus::entra_worst_case();
    std::fs::write(dir.join("ab.txt"), terms.join("\n") + "\n").unwrap();
    let path = dir.join("p.policy");
    std::fs::write(
        &path,
        "policy p {\n  terms ab = file \"ab.txt\" with entra limits\n  rule banned \"Too guessable.\" : entra score >= 5 using { ab }\n}\n",
    )
    .unwrap();
    let c = compile_path(&path, &CompileOptions::default()).unwrap();
    policyc::Validator::from_bytes(&c.artifact).unwrap()
}

/// Issue 25, item 7: before, a crafted list (every a/b string) and a 4,096-character a/b
/// password took 32 s for one check (the hook's watchdog refused it with a misleading message).
/// The search's work is bounded by a step budget: such a password is decided within it, refused
/// with its own reason, and the same for explanations.
#[test]
fn the_entra_search_is_bounded_by_its_step_budget_and_fails_closed() {
    let dir = tempfile::tempdir().unwrap();
    let v = crafted_entra_policy(dir.path());
    let (_, password) = policyc_cli::corpus::entra_worst_case();
    let verdict = v.check(&password, &policyc::Context::new());
    assert_eq!(verdict.violations()[0].rule(), "banned", "refused, to be safe");
    let e = v.explain(&password, &policyc::Context::new());
    let banned = e.rules.iter().find(|r| r.rule.id.as_str() == "banned").unwrap();
    assert!(
        matches!(
            banned.detail,
            policyc_runtime::runtime::Detail::Entra {
                unsettled: Some(policyc_runtime::runtime::entra::Unsettled::OutOfSteps),
                ..
            }
        ),
        "{:?}",
        banned.detail
    );
    // The command line says why, in words.
    let policy = dir.path().join("p.policy");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_policyc"))
        .arg("explain")
        .arg(&policy)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), password.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("within the evaluation's step budget"), "{said}");
    // A real password against the same list is scored exactly, well within the budget.
    let e = v.explain("Contoso-Pine-Ridge-42", &policyc::Context::new());
    let banned = e.rules.iter().find(|r| r.rule.id.as_str() == "banned").unwrap();
    assert!(matches!(
        banned.detail,
        policyc_runtime::runtime::Detail::Entra { unsettled: None, .. }
    ));
}
