//! Resource limits of the compiler, as a reviewer attacking it found them: a policy or list
//! naming a device or FIFO is refused before any read; a list too large for the hook to load
//! on every password change is a clear compile error.

#![allow(clippy::unwrap_used, clippy::panic, reason = "a test fails by panicking")]

use policyc::{CompileOptions, compile_path};

fn compile_error(policy: &str, dir: &std::path::Path) -> String {
    let path = dir.join("p.policy");
    std::fs::write(&path, policy).unwrap();
    match compile_path(&path, &CompileOptions::default()) {
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
    let n = policyc::compile::MAX_LIST_TERMS + 1;
    let list: String = (0..n).map(|i| format!("t{i:07}\n")).collect();
    std::fs::write(dir.path().join("big.txt"), list).unwrap();
    let e = compile_error(
        "policy p {\n  terms big = file \"big.txt\"\n  rule r \"No.\" : avoid big exact\n}\n",
        dir.path(),
    );
    let limit = policyc::compile::MAX_LIST_TERMS;
    assert!(e.contains(&format!("list `big` has {n} terms; the limit is {limit}")), "{e}");
}

#[test]
fn nesting_deep_enough_to_exhaust_the_stack_is_a_diagnostic() {
    let dir = tempfile::tempdir().unwrap();
    let max = policyc::syntax::parser::MAX_NESTING;
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
