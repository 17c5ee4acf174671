//! `policyc_ppolicy.so` in a real slapd (Debian's 2.5, started by this test on 127.0.0.1 with
//! the ppolicy overlay, stopped by its PID): a user's own password change (`ldappasswd`, the
//! passwords in files, never on a command line) that breaks the policy is refused with
//! policyc's message; a compliant one succeeds; a missing policy follows the fail mode; the
//! entry's attributes, the Entra policy and a breached-password store work there too. A
//! missing slapd fails the test with the package to install; it never skips.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails by panicking"
)]

mod common;

use common::{Slapd, compile, secret_file};

#[test]
fn slapd_refuses_with_policyc_and_follows_the_fail_mode() {
    let slapd = Slapd::start();
    let d = slapd.dir.path();
    let office365 = compile(d, "office365", None);
    let audit = slapd.path("audit.jsonl");
    let settings = format!("policy={} audit={}", office365.display(), audit.display());
    slapd.populate(&settings);

    // office365: a short password is refused with policyc's message; a compliant one is set.
    let (ok, said) = slapd.change("Initial-Passw0rd", "short");
    assert!(!ok, "{said}");
    assert!(said.contains("Constraint violation"), "{said}");
    assert!(
        said.contains("Use 8 to 256 characters."),
        "policyc's message reaches the client: {said}"
    );
    let (ok, said) = slapd.change("Initial-Passw0rd", "Tr0ub4dor&3");
    assert!(ok, "{said}");

    // The policy file replaced in place (as `policyc compile` replaces it): the module, kept
    // loaded, takes the new policy within a second once it verifies. ad-default refuses a
    // password holding the entry's uid or a name, which office365 accepts.
    let ad_default = compile(d, "ad-default", None);
    let staged = slapd.path("staged.policyc");
    std::fs::copy(&ad_default, &staged).unwrap();
    std::fs::rename(&staged, &office365).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let (ok, said) = slapd.change("Tr0ub4dor&3", "Liddell-2024!");
    assert!(!ok && said.contains("Do not use your account name"), "{said}");

    // Entra's banned-word scoring.
    let entra = compile(d, "entra-password-protection", None);
    slapd.settings(&format!("policy={} audit={}", entra.display(), audit.display()));
    let (ok, said) = slapd.change("Tr0ub4dor&3", "Password123!");
    assert!(!ok, "{said}");

    // A breached-password store.
    let list = secret_file(d, "breached.txt", "Winter-Garden-77\nSummer-Lake-2024\n");
    let store = d.join("breached.store");
    let mut o = policyc_runtime::store::build::BuildOptions::new(&store, vec![list]);
    o.threads = 1;
    policyc_runtime::store::build::build(&o, &policyc_runtime::store::build::Quiet).unwrap();
    let source = format!(
        "policy breached {{\n  store pwned = \"{}\"\n  rule length \"Use 8 or more characters.\" : length >= 8\n  \
         rule breached \"This password appeared in a data breach.\" : not in pwned\n}}\n",
        store.display()
    );
    let breached = compile(d, "breached", Some(&source));
    slapd.settings(&format!("policy={} audit={}", breached.display(), audit.display()));
    let (ok, said) = slapd.change("Tr0ub4dor&3", "Winter-Garden-77");
    assert!(!ok && said.contains("This password appeared in a data breach."), "{said}");
    let (ok, said) = slapd.change("Tr0ub4dor&3", "Autumn-Forest-31");
    assert!(ok, "{said}");

    // A damaged artifact: refused under fail-closed (a policy that does not verify is none).
    let mut bytes = std::fs::read(&office365).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xFF;
    let damaged = slapd.path("damaged.policyc");
    std::fs::write(&damaged, bytes).unwrap();
    slapd.settings(&format!("policy={} audit={}", damaged.display(), audit.display()));
    let (ok, said) = slapd.change("Autumn-Forest-31", "Spring-River-52");
    assert!(!ok && said.contains("the password policy is unavailable"), "{said}");

    // No policy: refused (fail closed, the default); accepted unchecked with fail=open.
    let missing = slapd.path("missing.policyc");
    slapd.settings(&format!("policy={} audit={}", missing.display(), audit.display()));
    let (ok, said) = slapd.change("Autumn-Forest-31", "Spring-River-52");
    assert!(!ok && said.contains("the password policy is unavailable"), "{said}");
    slapd.settings(&format!("policy={} audit={} fail=open", missing.display(), audit.display()));
    let (ok, said) = slapd.change("Autumn-Forest-31", "Spring-River-52");
    assert!(ok, "{said}");
    // Bad settings refuse every change.
    slapd.settings("fail=sometimes");
    let (ok, said) = slapd.change("Spring-River-52", "Another-Good-One-8");
    assert!(!ok && said.contains("misconfigured"), "{said}");

    let log = std::fs::read_to_string(&audit).unwrap();
    let lines: Vec<serde_json::Value> =
        log.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(lines.iter().all(|l| l["source"] == "ldap"), "{log}");
    let outcomes: Vec<&str> = lines.iter().map(|l| l["outcome"].as_str().unwrap()).collect();
    for expected in ["rejected", "accepted", "rejected_no_policy", "accepted_unchecked"] {
        assert!(outcomes.contains(&expected), "{expected} missing: {outcomes:?}");
    }
    assert!(lines.iter().any(|l| l["account"] == "alice"), "{log}");
    for password in
        ["short", "Tr0ub4dor", "Liddell-2024", "Password123", "Winter-Garden", "Spring-River"]
    {
        assert!(!log.contains(password), "a password in the audit log: {log}");
    }
}
