//! Latency of one check through the C API (`cargo bench -p policyc-capi`): `tests/c/capi_bench.c`
//! compiled with `-O2` against the release `libpolicyc.so`, timing each `policyc_check` (and
//! each `policyc_gate_check`) with `clock_gettime`, on 10,000 generated passwords × 20 rounds,
//! for office365 and the Entra policy. Prints a markdown table for BENCHMARKS.md.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a bench fails by panicking"
)]

#[path = "../tests/common/mod.rs"]
mod common;

use common::{built, compile_c, policies};
use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

/// Passwords of 4 to 23 characters from letters, digits and symbols, the same every run.
fn passwords(n: usize) -> String {
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&*-_";
    let mut state: u64 = 20_240_611;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut out = String::new();
    for _ in 0..n {
        let len = 4 + (next() % 20) as usize;
        for _ in 0..len {
            out.push(CHARS[(next() % CHARS.len() as u64) as usize] as char);
        }
        out.push('\n');
    }
    out
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
    let lib = built();
    let exe = std::env::temp_dir().join(format!("policyc-capi-bench-{}", std::process::id()));
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/c/capi_bench.c");
    compile_c(&source, &exe, &["-O2", "-std=c11"]);
    let (count, rounds) = if measuring { (10_000, "20") } else { (200, "1") };
    let input = passwords(count);
    let p = policies();
    let run = |args: &[&str]| {
        let mut child = Command::new(&exe)
            .args(args)
            .arg(rounds)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        let text = String::from_utf8(out.stdout).unwrap();
        let field = |name: &str| -> u64 {
            let words: Vec<&str> = text.split_whitespace().collect();
            let at = words.iter().position(|w| *w == name).unwrap();
            words[at + 1].parse().unwrap()
        };
        (field("p50_ns"), field("p99_ns"), field("accepted") as f64 / field("checks") as f64)
    };
    let size = |name: &str| std::fs::metadata(lib.join(name)).unwrap().len() as f64 / 1e6;
    println!("### The C API (10,000 generated passwords × 20 rounds, one thread)\n");
    println!("| call | policy | p50 ns | p99 ns | accepted |");
    println!("|---|---|---:|---:|---:|");
    for (name, policy) in [("office365", &p.office365), ("entra-password-protection", &p.entra)] {
        let policy = policy.to_str().unwrap();
        let (p50, p99, ok) = run(&[policy]);
        println!("| `policyc_check` | {name} | {p50} | {p99} | {:.1} % |", ok * 100.0);
        let settings = format!("policy={policy} audit=none");
        let (p50, p99, ok) = run(&["--gate", &settings]);
        println!(
            "| `policyc_gate_check` (audit=none) | {name} | {p50} | {p99} | {:.1} % |",
            ok * 100.0
        );
    }
    println!(
        "\nlibpolicyc.so {:.1} MB, libpolicyc.a {:.1} MB (release, not stripped)",
        size("libpolicyc.so"),
        size("libpolicyc.a")
    );
    let _ = std::fs::remove_file(&exe);
}
