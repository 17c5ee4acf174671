//! The hot path does not allocate: a compliant ASCII password costs no heap allocation, with or
//! without a user, for policies without attribute-containment rules (and with them, when both
//! the password and the user's values are ASCII).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails by panicking"
)]

use policyc::{CompileOptions, Context, Validator, compile_path};
use policyc_runtime::ir::Attribute;

fn validator(path: &str) -> Validator {
    Validator::from_bytes(&compile_path(path, &CompileOptions::default()).unwrap().artifact)
        .unwrap()
}

fn allocations(v: &Validator, password: &str, ctx: &Context) -> u64 {
    allocation_counter::measure(|| {
        let verdict = v.check(std::hint::black_box(password), ctx);
        assert!(verdict.is_compliant());
    })
    .count_total
}

#[test]
fn compliant_ascii_checks_do_not_allocate() {
    let o365 = validator("policies/office365.policy");
    let ad = validator("policies/ad-default.policy");
    let user = Context::new()
        .with(Attribute::SamAccountName, "jdoe")
        .with(Attribute::DisplayName, "Erin M. Hagens");
    for pw in ["Tr0ub4dor&3", "correct Horse battery 9", &"Aa1!".repeat(64)] {
        assert_eq!(allocations(&o365, pw, &Context::new()), 0, "office365");
        assert_eq!(allocations(&o365, pw, &user), 0, "office365 with a user");
        assert_eq!(allocations(&ad, pw, &user), 0, "ad-default with a user");
    }
    // Refusals do not allocate either: a few violations are kept inline.
    let refusal = allocation_counter::measure(|| {
        assert!(!std::hint::black_box(o365.check("short", &user)).is_compliant());
    });
    assert_eq!(refusal.count_total, 0);
    // The counter does see allocations.
    let counted = allocation_counter::measure(|| {
        std::hint::black_box(Box::new(42u64));
    });
    assert!(counted.count_total > 0);
}
