//! The README's examples reproduce byte for byte: the quick start's output, and every `$ policyc
//! …` example with the output shown under it, run by the real binary in a scratch directory
//! holding the repository's `policies/` and `tests/`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails by panicking"
)]

use std::path::Path;
use std::process::{Command, Stdio};

/// One example: the command after `$ `, and the lines shown under it.
#[derive(Debug)]
struct Example {
    line: usize,
    command: String,
    expected: String,
}

/// Examples that need more than the binary and the repository (a configured agent and its
/// queue); the help-desk view they show is pinned by `tests/agent.rs` instead.
const NEEDS_A_RUNNING_SET_UP: &[&str] = &["policyc agent status --config /etc/policyc/agent.yaml"];

/// Every `$ ` line inside a fenced block, with the lines after it up to the next `$ ` line or
/// the block's end, indentation of the fence removed.
fn examples(readme: &str) -> Vec<Example> {
    let mut found = Vec::new();
    let mut fence: Option<usize> = None;
    let mut current: Option<Example> = None;
    for (n, raw) in readme.lines().enumerate() {
        let indent = raw.len() - raw.trim_start().len();
        if raw.trim_start().starts_with("```") {
            found.extend(current.take());
            fence = if fence.is_some() { None } else { Some(indent) };
            continue;
        }
        let Some(indent) = fence else { continue };
        let line = raw.get(indent..).unwrap_or("");
        if let Some(command) = line.strip_prefix("$ ") {
            found.extend(current.take());
            current =
                Some(Example { line: n + 1, command: command.into(), expected: String::new() });
        } else if let Some(example) = &mut current {
            example.expected.push_str(line);
            example.expected.push('\n');
        }
    }
    found
}

/// A scratch directory with the repository's `policies/` and `tests/`, and `policyc` first on
/// the PATH.
fn run(dir: &Path, command: &str) -> String {
    let bin = Path::new(env!("CARGO_BIN_EXE_policyc")).parent().unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let out = Command::new("sh")
        .args(["-c", command])
        .current_dir(dir)
        .env("PATH", path)
        .env_remove("NO_COLOR")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    // What a terminal shows: the results, then what went to standard error.
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

fn scratch() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    for d in ["policies", "tests"] {
        std::os::unix::fs::symlink(repo.join(d), dir.path().join(d)).unwrap();
    }
    dir
}

#[test]
fn the_quick_start_reproduces() {
    let readme = std::fs::read_to_string("README.md").unwrap();
    let start = readme.find("## Quick start").unwrap();
    let blocks: Vec<&str> = readme[start..].split("```").collect();
    // blocks[1] is "sh\n<command>\n", blocks[3] the output shown.
    let command = blocks[1].trim_start_matches("sh").trim();
    let shown = blocks[3].trim_start_matches('\n');
    assert!(command.starts_with("cargo run --release -q -- compile"), "{command}");
    // The same command with the binary under test in place of the release build.
    let command = command
        .replace("cargo run --release -q -- ", "policyc ")
        .replace("./target/release/policyc", "policyc");
    let dir = scratch();
    let said = run(dir.path(), &command);
    // `compile` says what it wrote on standard error before check's results: not shown.
    let results: String = said
        .lines()
        .filter(|l| !l.starts_with("compiled policy"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(results, shown, "README quick start, run as `{command}`");
}

#[test]
fn every_shown_example_reproduces() {
    let readme = std::fs::read_to_string("README.md").unwrap();
    let dir = scratch();
    // The examples use the artifact the quick start compiles.
    run(dir.path(), "policyc compile -q policies/office365.policy -o office365.policyc");
    let mut ran = 0;
    for e in examples(&readme) {
        if NEEDS_A_RUNNING_SET_UP.iter().any(|c| e.command.starts_with(c)) {
            continue;
        }
        let said = run(dir.path(), &e.command);
        assert_eq!(said, e.expected, "README.md:{}: `{}`", e.line, e.command);
        ran += 1;
    }
    assert!(ran >= 3, "only {ran} README examples found");
}

/// The other documents' shown commands (`$ ` lines) reproduce too.
#[test]
fn the_documents_examples_reproduce() {
    let dir = scratch();
    let mut ran = 0;
    for doc in ["docs/browser.md"] {
        let text = std::fs::read_to_string(doc).unwrap();
        for e in examples(&text) {
            let said = run(dir.path(), &e.command);
            assert_eq!(said, e.expected, "{doc}:{}: `{}`", e.line, e.command);
            ran += 1;
        }
    }
    assert!(ran >= 1, "no examples found in the documents");
}
