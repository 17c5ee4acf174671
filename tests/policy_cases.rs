//! Runs every case table (the shipped policies' own cases and the rule-kind table) with the
//! compiled validator, and holds the reference evaluator to the same answers.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails by panicking"
)]

use policyc_testkit::reference;
use std::path::Path;

fn run(path: &str) {
    let suite = policyc_cli::cases::load(Path::new(path)).unwrap_or_else(|e| panic!("{e}"));
    let (n, failures) = suite.run();
    assert!(n > 0, "{path} has no cases");
    for f in &failures {
        eprintln!("{path}: {}: {}", f.case, f.difference);
    }
    assert!(failures.is_empty(), "{} of {n} cases failed in {path}", failures.len());
    for (i, case) in suite.file.cases.iter().enumerate() {
        let ctx = case.context().unwrap();
        for password in case.passwords(&suite.base).unwrap() {
            let verdict = suite.validator.check(&password, &ctx);
            let compiled: Vec<&str> = verdict.violations().iter().map(|v| v.rule()).collect();
            let oracle = reference::violations(&suite.program, &password, &ctx);
            assert_eq!(
                compiled,
                oracle,
                "{path}: {}: validator and reference disagree",
                case.label(i)
            );
        }
    }
}

#[test]
fn office365_cases() {
    run("policies/tests/office365.yaml");
}

#[test]
fn ad_default_cases() {
    run("policies/tests/ad-default.yaml");
}

#[test]
fn banned_terms_and_entra_scoring() {
    run("tests/cases/terms.yaml");
}

#[test]
fn entra_password_protection_cases() {
    run("policies/tests/entra-password-protection.yaml");
}

#[test]
fn normalizations_that_delete_and_trim() {
    run("tests/cases/normalize.yaml");
}

#[test]
fn composite_rules() {
    run("tests/cases/composite.yaml");
}

#[test]
fn counting_units() {
    run("tests/cases/units.yaml");
}

#[test]
fn strength_rules() {
    run("tests/cases/strength.yaml");
}

#[test]
fn every_rule_kind() {
    run("tests/cases/all_rules.yaml");
}

#[test]
fn every_shipped_policy_has_cases() {
    for entry in std::fs::read_dir("policies").unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "policy") {
            let stem = path.file_stem().unwrap().to_string_lossy().to_string();
            let cases = Path::new("policies/tests").join(format!("{stem}.yaml"));
            assert!(cases.exists(), "{} has no case file {}", path.display(), cases.display());
        }
    }
}
