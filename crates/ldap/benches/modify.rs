//! A password modify in slapd with `policyc_ppolicy.so` against without it (`cargo bench -p
//! policyc-ldap`): alice replaces her `userPassword` 1,000 times over one connection
//! (`ldapmodify`, the LDIF on standard input), with the module (office365, then the Entra
//! policy) and with ppolicy's quality check off, three rounds each. Prints the mean per modify
//! of each set-up's fastest round.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a bench fails by panicking"
)]

#[path = "../tests/common/mod.rs"]
mod common;

use common::{ALICE, POLICY_DN, Slapd, compile, secret_file};
use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::Instant;

const PASSWORDS: [&str; 2] = ["Correct-Horse-Battery-9", "Another-Staple-Horse-8"];

/// Microseconds per modify of `count` replacements of alice's password, bound as alice.
fn modifies(slapd: &Slapd, count: usize) -> f64 {
    let current = secret_file(slapd.dir.path(), "current.pw", PASSWORDS[0]);
    let mut ldif = String::new();
    for i in 0..count {
        // The last one sets PASSWORDS[0] again, so the next run binds with it.
        let new = PASSWORDS[(i + 1) % 2];
        ldif.push_str(&format!(
            "dn: {ALICE}\nchangetype: modify\nreplace: userPassword\nuserPassword: {new}\n\n"
        ));
    }
    let start = Instant::now();
    let mut child = Command::new("ldapmodify")
        .args(["-x", "-H", &slapd.url, "-D", ALICE, "-y"])
        .arg(&current)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(ldif.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let elapsed = start.elapsed();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    elapsed.as_secs_f64() * 1e6 / count as f64
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
    let slapd = Slapd::start();
    let d = slapd.dir.path();
    let office365 = compile(d, "office365", None);
    let entra = compile(d, "entra-password-protection", None);
    let settings = |p: &std::path::Path| format!("policy={} audit=none", p.display());
    slapd.populate(&settings(&office365));
    // alice's first password is PASSWORDS[0].
    slapd.admin(
        "ldapmodify",
        &format!(
            "dn: {ALICE}\nchangetype: modify\nreplace: userPassword\nuserPassword: {}\n",
            PASSWORDS[0]
        ),
    );
    println!("### slapd 2.5 password modify (1,000 over one connection)\n");
    println!("| pwdCheckModule | µs per modify |");
    println!("|---|---:|");
    // Three rounds of the three set-ups, each the fastest of its rounds (a busy machine only
    // ever slows a round down).
    let quality = |n: u8| {
        let ldif = format!(
            "dn: {POLICY_DN}\nchangetype: modify\nreplace: pwdCheckQuality\npwdCheckQuality: {n}\n"
        );
        slapd.admin("ldapmodify", &ldif);
    };
    let (mut with_office365, mut with_entra, mut without) = (f64::MAX, f64::MAX, f64::MAX);
    let (count, rounds) = if measuring { (1000, 3) } else { (10, 1) };
    for _ in 0..rounds {
        quality(2);
        slapd.settings(&settings(&office365));
        with_office365 = with_office365.min(modifies(&slapd, count));
        slapd.settings(&settings(&entra));
        with_entra = with_entra.min(modifies(&slapd, count));
        quality(0);
        without = without.min(modifies(&slapd, count));
    }
    println!("| none (pwdCheckQuality 0) | {without:.0} |");
    println!("| policyc_ppolicy.so, office365 | {with_office365:.0} |");
    println!("| policyc_ppolicy.so, entra-password-protection | {with_entra:.0} |");
}
