//! `diff`: every witness is accepted by the first policy and refused by the second (checked
//! with the reference evaluator, not the validators the search used), and every "proved" claim
//! survives random passwords; the shipped policies' diff shows every documented reason a cloud
//! sync fails.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails by panicking"
)]

use policyc::analysis::{DiffLimits, diff};
use policyc::ir::Program;
use policyc::{CompileOptions, Context, Validator, compile_path, compile_str, reference};
use proptest::prelude::*;

fn load(path: &str) -> (Validator, Program) {
    let c = compile_path(path, &CompileOptions::default()).unwrap();
    (Validator::from_bytes(&c.artifact).unwrap(), c.program)
}

#[test]
fn shipped_policies_show_every_documented_reason() {
    let (ad, ad_program) = load("policies/ad-default.policy");
    let (cloud, cloud_program) = load("policies/office365.policy");
    let ctx = Context::new();
    let [to_cloud, to_ad] = diff(&ad, &cloud, &ctx, DiffLimits::default());
    let rules: Vec<&str> = to_cloud.witnesses.iter().map(|w| w.rule.as_str()).collect();
    assert_eq!(
        rules,
        ["length", "charset", "classes"],
        "too short, outside the cloud's characters, too few classes"
    );
    for w in &to_cloud.witnesses {
        assert!(
            reference::violations(&ad_program, &w.password, &ctx).is_empty(),
            "AD refuses {:?}",
            w.password
        );
        assert!(
            reference::violations(&cloud_program, &w.password, &ctx).contains(&w.rule),
            "{:?}",
            w.password
        );
    }
    assert!(to_cloud.witnesses.iter().any(|w| !w.password.is_ascii()), "a non-ASCII witness");
    assert!(to_cloud.witnesses.iter().any(|w| w.password.chars().count() < 8), "a short witness");
    assert_eq!(to_ad.proved, ["min_length", "complexity"]);
}

/// A small policy from generated parameters.
fn policy(name: &str, min: u32, max: u32, n: u32, only_ascii: bool, digits: Option<u32>) -> String {
    let mut s = format!("policy {name} {{\n  rule len \"m\" : length between {min} and {max}\n");
    s.push_str(&format!("  rule kinds \"m\" : at least {n} of {{ lower, upper, digit, punct, unicode_other_alpha }}\n"));
    if only_ascii {
        s.push_str("  rule ascii \"m\" : only ascii - control\n");
    }
    if let Some(d) = digits {
        s.push_str(&format!("  rule digits \"m\" : count digit <= {d}\n"));
    }
    s.push_str("}\n");
    s
}

fn compiled(source: &str) -> (Validator, Program) {
    let c = compile_str("p.policy", source, &CompileOptions::default()).unwrap();
    (Validator::from_bytes(&c.artifact).unwrap(), c.program)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    #[test]
    fn witnesses_are_real_and_proofs_hold(
        a in (1u32..10, 10u32..20, 1u32..4, any::<bool>(), proptest::option::of(0u32..4)),
        b in (1u32..10, 10u32..20, 1u32..4, any::<bool>(), proptest::option::of(0u32..4)),
        samples in proptest::collection::vec("[a-zA-Z0-9!é日 ]{1,20}", 200),
    ) {
        let (va, pa) = compiled(&policy("a", a.0, a.1, a.2, a.3, a.4));
        let (vb, pb) = compiled(&policy("b", b.0, b.1, b.2, b.3, b.4));
        let ctx = Context::new();
        let limits = DiffLimits { states: 200_000, samples: 300 };
        for (d, (from, to)) in diff(&va, &vb, &ctx, limits).iter().zip([(&pa, &pb), (&pb, &pa)]) {
            for w in &d.witnesses {
                prop_assert!(reference::violations(from, &w.password, &ctx).is_empty(), "{} refuses {:?}", d.from, w.password);
                prop_assert!(reference::violations(to, &w.password, &ctx).contains(&w.rule), "{:?}", w.password);
            }
            for pw in &samples {
                if reference::violations(from, pw, &ctx).is_empty() {
                    for broken in reference::violations(to, pw, &ctx) {
                        prop_assert!(!d.proved.contains(&broken), "`{}` was proved unbreakable, but {:?} breaks it", broken, pw);
                    }
                }
            }
        }
    }
}
