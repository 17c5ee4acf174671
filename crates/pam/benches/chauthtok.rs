//! A password change through a PAM stack, with and without `pam_policyc.so` (`cargo bench -p
//! policyc-pam`): pam_wrapper and pypamtest, one process, 300 changes each (pam_start, the
//! prelim and update passes, pam_end); office365 and the Entra policy. Prints a markdown table.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a bench fails by panicking"
)]

#[path = "../tests/common/mod.rs"]
mod common;

use common::{PAM_WRAPPER, SET_ITEMS, setup};
use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

/// p50 and p99 in µs of a change through a stack made of `lines`.
fn time(service: &str, lines: &str, rounds: &str) -> (u64, u64) {
    let s = setup();
    let services = s.dir.path().join(format!("bench-{service}"));
    std::fs::create_dir_all(&services).unwrap();
    std::fs::write(services.join(service), lines).unwrap();
    let mut child = Command::new("/usr/bin/python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pambench.py"))
        .args([service, "root", rounds])
        .env("LD_PRELOAD", PAM_WRAPPER)
        .env("PAM_WRAPPER", "1")
        .env("PAM_WRAPPER_SERVICE_DIR", &services)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"Correct-Horse-Battery-9").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{service}");
    let text = String::from_utf8(out.stdout).unwrap();
    let words: Vec<&str> = text.split_whitespace().collect();
    (words[1].parse().unwrap(), words[3].parse().unwrap())
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    // `cargo bench` passes --bench; `cargo test` runs the bench once, small, so it cannot rot.
    let measuring = std::env::args().any(|a| a == "--bench");
    if !measuring {
        println!("(test mode: a small run, not figures; `cargo bench` measures)");
    }
    let rounds = if measuring { "300" } else { "3" };
    let s = setup();
    println!("### PAM chauthtok (pam_wrapper, 300 changes, one process)\n");
    println!("| stack | p50 µs | p99 µs |");
    println!("|---|---:|---:|");
    let (p50, p99) = time("baseline", &format!("password required {SET_ITEMS}\n"), rounds);
    println!("| pam_set_items only (no check) | {p50} | {p99} |");
    for name in ["office365", "entra-password-protection"] {
        let policy = s.dir.path().join(format!("{name}.policyc"));
        let stack = format!(
            "password requisite {} policy={} audit=none enforce_for_root\npassword required {SET_ITEMS}\n",
            s.module.display(),
            policy.display()
        );
        let (p50, p99) = time(name, &stack, rounds);
        println!("| pam_policyc.so, {name} | {p50} | {p99} |");
    }
}
