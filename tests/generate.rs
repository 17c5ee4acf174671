//! `generate`: every password passes every policy given; the length and alphabet follow the
//! policies; impossible combinations say so.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails by panicking"
)]

use policyc::{CompileOptions, Context, Validator, compile_path, compile_str};
use policyc_compiler::analysis::generate::{
    GenerateError, GenerateOptions, Seeded, alphabet, generate,
};
use policyc_runtime::ir::Attribute;
use proptest::prelude::*;

fn load(path: &str) -> Validator {
    Validator::from_bytes(&compile_path(path, &CompileOptions::default()).unwrap().artifact)
        .unwrap()
}

fn os_random(buf: &mut [u8]) -> Result<(), String> {
    getrandom::fill(buf).map_err(|e| e.to_string())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn generated_passwords_pass_every_policy(length in 8u32..40, seed in any::<u64>(), account in "[a-z]{3,8}") {
        let validators = vec![
            load("policies/office365.policy"),
            load("policies/ad-default.policy"),
            load("policies/entra-password-protection.policy"),
        ];
        let ctx = Context::new().with(Attribute::SamAccountName, account).with(Attribute::DisplayName, "Erin M. Hagens");
        // A seeded source here, so that failures reproduce; the CLI uses the OS's CSPRNG.
        let mut seeded = Seeded::new(seed);
        let mut random = |buf: &mut [u8]| seeded.fill(buf);
        let options = GenerateOptions { length: Some(length), count: 3, ..GenerateOptions::default() };
        let passwords = generate(&validators, &ctx, &options, &mut random).unwrap();
        prop_assert_eq!(passwords.len(), 3);
        for p in &passwords {
            prop_assert_eq!(p.chars().count() as u32, length);
            for v in &validators {
                prop_assert!(v.check(p, &ctx).is_compliant(), "{} refuses a generated password", v.program().name);
            }
        }
    }
}

#[test]
fn the_alphabet_is_what_every_policy_allows() {
    let o365 = load("policies/office365.policy");
    let a = alphabet(&[o365.program()]);
    assert_eq!(a.len(), 94, "all visible ASCII");
    let only_letters = compile_str(
        "x.policy",
        "policy p {\n  rule l \"m\" : only lower | upper\n  rule n \"m\" : no [xyzXYZ]\n}\n",
        &CompileOptions::default(),
    )
    .unwrap();
    let v = Validator::from_bytes(&only_letters.artifact).unwrap();
    let a = alphabet(&[o365.program(), v.program()]);
    assert_eq!(a.len(), 46);
    assert!(a.iter().all(|c| c.is_ascii_alphabetic() && !"xyzXYZ".contains(*c)));
}

/// The `policy.rule` names of a conflict error, sorted.
fn conflicting(e: &GenerateError) -> Vec<String> {
    let GenerateError::Conflict(rules) = e else { panic!("not a proved conflict: {e}") };
    let mut names: Vec<String> = rules.iter().map(|r| format!("{}.{}", r.policy, r.rule)).collect();
    names.sort();
    names
}

#[test]
fn impossible_combinations_are_explained() {
    let short = Validator::from_bytes(
        &compile_str(
            "s.policy",
            "policy s {\n  rule l \"m\" : length <= 6\n}\n",
            &CompileOptions::default(),
        )
        .unwrap()
        .artifact,
    )
    .unwrap();
    let o365 = load("policies/office365.policy");
    let e = generate(&[o365, short], &Context::new(), &GenerateOptions::default(), &mut os_random)
        .unwrap_err();
    assert_eq!(conflicting(&e), ["office365.length", "s.l"]);
    let digits_only = Validator::from_bytes(
        &compile_str(
            "d.policy",
            "policy d {\n  rule d \"m\" : only digit\n}\n",
            &CompileOptions::default(),
        )
        .unwrap()
        .artifact,
    )
    .unwrap();
    let o365 = load("policies/office365.policy");
    let options = GenerateOptions { max_attempts: 200, ..GenerateOptions::default() };
    let e = generate(&[o365, digits_only], &Context::new(), &options, &mut os_random).unwrap_err();
    assert_eq!(conflicting(&e), ["d.d", "office365.classes"]);
    assert!(e.to_string().contains("relax one of them"), "{e}");
    let o365 = load("policies/office365.policy");
    let options = GenerateOptions { length: Some(7), ..GenerateOptions::default() };
    assert!(matches!(
        generate(&[o365], &Context::new(), &options, &mut os_random),
        Err(GenerateError::Length { .. })
    ));
}

#[test]
fn a_conflict_among_three_policies_that_no_two_have_is_proved() {
    let policy = |name: &str, rule: &str| {
        let source = format!("policy {name} {{\n  rule r \"m\" : {rule}\n}}\n");
        let compiled = compile_str("p.policy", &source, &CompileOptions::default()).unwrap();
        Validator::from_bytes(&compiled.artifact).unwrap()
    };
    let make = || {
        [
            policy("lower_or_digits", "only lower | digit"),
            policy("no_digits", "no digit"),
            policy("two_kinds", "at least 2 of { lower, upper, digit }"),
        ]
    };
    let options = GenerateOptions { length: Some(10), count: 1, max_attempts: 2_000 };
    let ctx = Context::new();
    for skip in 0..3 {
        let some: Vec<Validator> =
            make().into_iter().enumerate().filter(|(i, _)| *i != skip).map(|(_, v)| v).collect();
        let passwords = generate(&some, &ctx, &options, &mut os_random).unwrap();
        assert!(some.iter().all(|v| v.check(&passwords[0], &ctx).is_compliant()));
    }
    let e = generate(&make(), &ctx, &options, &mut os_random).unwrap_err();
    assert_eq!(conflicting(&e), ["lower_or_digits.r", "no_digits.r", "two_kinds.r"]);
}

#[test]
fn a_hard_but_possible_set_is_not_called_a_conflict() {
    // Eight characters, all digits: satisfiable, but five uniform draws over the
    // visible ASCII characters all but never hit one.
    let source = "policy hard {\n  rule l \"m\" : length between 8 and 8\n  rule d \"m\" : count digit >= 8\n}\n";
    let compiled = compile_str("h.policy", source, &CompileOptions::default()).unwrap();
    let hard = Validator::from_bytes(&compiled.artifact).unwrap();
    let options = GenerateOptions { length: None, count: 1, max_attempts: 5 };
    let e = generate(&[hard], &Context::new(), &options, &mut os_random).unwrap_err();
    assert!(matches!(e, GenerateError::NotFound(5, ref rules) if rules == "d"), "{e}");
    assert!(e.to_string().contains("no conflict between the rules was proved"), "{e}");
}
