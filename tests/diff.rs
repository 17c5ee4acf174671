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

use policyc::{CompileOptions, Context, Validator, compile_path, compile_str};
use policyc_compiler::analysis::{DiffLimits, Direction, Method, diff};
use policyc_runtime::ir::Program;
use policyc_testkit::reference;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

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
        ["length", "charset", "charset", "classes"],
        "too short, non-ASCII, an ASCII character outside the cloud's set, too few classes"
    );
    let alone: Vec<bool> = to_cloud.witnesses.iter().map(|w| w.also_breaks.is_empty()).collect();
    assert_eq!(alone, [true, true, true, false], "only too few classes needs a non-ASCII letter");
    assert_eq!(to_cloud.witnesses[3].also_breaks, ["charset"]);
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
    assert!(
        to_cloud.witnesses.iter().any(|w| w.rule == "charset" && w.password.is_ascii()),
        "an ASCII witness of the character set"
    );
    assert!(to_cloud.witnesses.iter().any(|w| w.password.chars().count() < 8), "a short witness");
    assert_eq!(to_ad.proved, ["min_length", "names", "complexity"]);
}

/// A small policy from generated parameters.
fn policy(name: &str, min: u32, max: u32, n: u32, only_ascii: bool, digits: Option<u32>) -> String {
    // A minimum of 1 means no length rule at all: the analysis must not assume one.
    let mut s = format!("policy {name} {{\n");
    if min > 1 {
        s.push_str(&format!("  rule len \"m\" : length between {min} and {max}\n"));
    }
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

/// Regression: without a length rule (or with a small one) the search capped passwords at the
/// longest length a rule names, and called class rules that need more characters impossible.
#[test]
fn class_rules_need_no_length_rule_to_be_satisfiable() {
    for rules in [
        "rule r \"m\" : at least 2 of { lower, upper }",
        "rule r \"m\" : at least 4 of { lower, upper, digit, punct }",
        "rule r \"m\" : length >= 2\n  rule q \"m\" : at least 4 of { lower, upper, digit, punct }",
    ] {
        let source = format!("policy p {{\n  {rules}\n}}\n");
        let c = compile_str("p.policy", &source, &CompileOptions::default());
        assert!(c.is_ok(), "{rules}: {}", c.err().map(|e| e.to_string()).unwrap_or_default());
    }
    let impossible = "policy p {\n  rule r \"m\" : length <= 2\n  \
                      rule q \"m\" : at least 3 of { lower, upper, digit }\n}\n";
    assert!(compile_str("p.policy", impossible, &CompileOptions::default()).is_err());
}

fn compiled(source: &str) -> (Validator, Program) {
    let c = compile_str("p.policy", source, &CompileOptions::default()).unwrap();
    (Validator::from_bytes(&c.artifact).unwrap(), c.program)
}

/// Every witness is accepted by `from` and refused by `to` for its rule (by the reference
/// evaluator, not the validators the search used) and the other rules it lists, and no sample
/// that `from` accepts breaks a rule of `to` that was proved unbreakable.
fn sound(
    d: &Direction,
    from: &Program,
    to: &Program,
    ctx: &Context,
    samples: &[String],
) -> Result<(), TestCaseError> {
    for w in &d.witnesses {
        prop_assert!(
            reference::violations(from, &w.password, ctx).is_empty(),
            "{} refuses {:?}",
            d.from,
            w.password
        );
        let broken = reference::violations(to, &w.password, ctx);
        prop_assert!(broken.contains(&w.rule), "{:?}", w);
        let others: Vec<&String> = broken.iter().filter(|r| **r != w.rule).collect();
        prop_assert_eq!(others, w.also_breaks.iter().collect::<Vec<_>>());
    }
    for pw in samples {
        if reference::violations(from, pw, ctx).is_empty() {
            for broken in reference::violations(to, pw, ctx) {
                prop_assert!(
                    !d.proved.contains(&broken),
                    "`{broken}` proved, but {pw:?} breaks it"
                );
            }
        }
    }
    Ok(())
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
        let limits = DiffLimits { states: 200_000, samples: 300, ..DiffLimits::default() };
        for (d, (from, to)) in diff(&va, &vb, &ctx, limits).iter().zip([(&pa, &pb), (&pb, &pa)]) {
            sound(d, from, to, &ctx, &samples)?;
            // The search decides every rule here, so a witness that breaks other rules too
            // means no password breaks its rule alone.
            for w in d.witnesses.iter().filter(|w| !w.also_breaks.is_empty()) {
                for pw in &samples {
                    prop_assert!(
                        !reference::violations(from, pw, &ctx).is_empty()
                            || reference::violations(to, pw, &ctx) != [w.rule.clone()],
                        "{:?} breaks `{}` alone, yet the witness {:?} also breaks {:?}",
                        pw, w.rule, w.password, w.also_breaks
                    );
                }
            }
        }
    }
}

/// A policy with rules outside the class fragment, each optional.
#[derive(Debug, Clone)]
struct Regular {
    min: u32,
    max: u32,
    regex: Option<(usize, bool)>,
    repeat: Option<u32>,
    sequence: Option<u32>,
    terms: Option<usize>,
    name: bool,
}

const PATTERNS: [&str; 5] = ["[0-9]{2}", "^[A-Z]", "(?i)ab", "x$", "[a-c][0-9]"];
const MODES: [&str; 3] = ["exact", "contains", "fuzzy"];

fn regular(name: &str, r: &Regular) -> String {
    let mut s = format!(
        "policy {name} {{\n  terms colors = [\"red\", \"green\", \"blue7\", \"purple\"]\n  rule len \"m\" : length between {} and {}\n",
        r.min, r.max
    );
    if let Some((p, negated)) = r.regex {
        let not = if negated { "not " } else { "" };
        s.push_str(&format!("  rule re \"m\" : {not}matches /{}/\n", PATTERNS[p]));
    }
    if let Some(n) = r.repeat {
        s.push_str(&format!("  rule rep \"m\" : longest repeat <= {n}\n"));
    }
    if let Some(n) = r.sequence {
        s.push_str(&format!("  rule seq \"m\" : longest sequence <= {n}\n"));
    }
    if let Some(m) = r.terms {
        s.push_str(&format!("  rule colors \"m\" : avoid colors {} after lowercase\n", MODES[m]));
    }
    if r.name {
        s.push_str("  rule names \"m\" : not contains user.displayName split on \" \" skip shorter than 3\n");
    }
    s.push_str("}\n");
    s
}

fn arb_regular() -> impl Strategy<Value = Regular> {
    (
        0u32..6,
        6u32..12,
        proptest::option::of((0usize..PATTERNS.len(), any::<bool>())),
        proptest::option::of(1u32..3),
        proptest::option::of(1u32..4),
        proptest::option::of(0usize..MODES.len()),
        any::<bool>(),
    )
        .prop_map(|(min, max, regex, repeat, sequence, terms, name)| Regular {
            min,
            max,
            regex,
            repeat,
            sequence,
            terms,
            name,
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Regular expressions, repeats, sequences, banned terms and containment are decided by the
    /// search: every rule of the refusing policy gets a searched witness or a proof, witnesses
    /// are real, and proofs survive passwords built from the rules' own ingredients.
    #[test]
    fn regular_rules_are_decided_exactly(
        a in arb_regular(),
        b in arb_regular(),
        samples in proptest::collection::vec("(red|Gren|blue7|purpl|ab|AB|x|X|Ann|[a-c0-9xA-C!é]){0,6}", 300),
    ) {
        let (va, pa) = compiled(&regular("a", &a));
        let (vb, pb) = compiled(&regular("b", &b));
        let ctx = Context::new().with(policyc_runtime::ir::Attribute::DisplayName, "Ann Lee");
        let limits = DiffLimits { states: 400_000, samples: 100, ..DiffLimits::default() };
        for (d, (from, to)) in diff(&va, &vb, &ctx, limits).iter().zip([(&pa, &pb), (&pb, &pa)]) {
            prop_assert!(d.sampled.is_empty() && d.exhausted.is_empty(), "{:?}", d);
            for w in &d.witnesses {
                // Term lists are tried by construction first; everything else is searched.
                let constructed = w.rule == "colors" && w.method == Method::Construction;
                prop_assert!(w.method == Method::Search || constructed, "{:?}", w);
            }
            sound(d, from, to, &ctx, &samples)?;
        }
    }
}

/// Lengths in UTF-16 units and bytes are searched exactly: the shortest witness of each
/// difference with characters counted, and proofs where one unit implies the other.
#[test]
fn lengths_in_other_units_are_searched() {
    let (chars, pc) = compiled("policy c { rule len \"7 characters.\" : length >= 7 }");
    let (utf16, pu) =
        compiled("policy u { rule len \"7 UTF-16 units.\" : length in utf16 units >= 7 }");
    let (bytes, pb) = compiled("policy b { rule len \"At most 8 bytes.\" : length in bytes <= 8 }");
    let ctx = Context::new();
    let limits = DiffLimits::default();
    let [u_to_c, c_to_u] = diff(&utf16, &chars, &ctx, limits);
    // Fewer than 7 characters, 7 or more units: astral characters.
    let w = u_to_c.witnesses.first().expect("a UTF-16 witness");
    assert_eq!(w.rule, "len");
    assert!(w.password.chars().count() < 7 && w.password.encode_utf16().count() >= 7, "{w:?}");
    assert!(reference::violations(&pu, &w.password, &ctx).is_empty());
    // 7 characters are always at least 7 units: proved.
    assert_eq!(c_to_u.proved, ["len"], "{c_to_u:?}");
    assert!(c_to_u.witnesses.is_empty());
    let [c_to_b, _] = diff(&chars, &bytes, &ctx, limits);
    let w = c_to_b.witnesses.first().expect("a bytes witness");
    assert!(w.password.len() > 8, "{w:?}");
    assert!(!reference::violations(&pb, &w.password, &ctx).is_empty());
    assert!(reference::violations(&pc, &w.password, &ctx).is_empty());
}

/// A normalization that deletes characters is searched exactly (a deleted character is not
/// there for the terms); one that trims depends on where a character stands and is left to
/// sampling, which the report says.
#[test]
fn normalizations_that_delete_are_searched_and_trims_are_sampled() {
    let policy = |norm: &str, mode: &str| {
        format!(
            "policy p {{ terms w = [\"secret\"] normalization n = {norm}\n \
             rule r \"No secret.\" : avoid w {mode} after n }}"
        )
    };
    let ctx = Context::new();
    let limits = DiffLimits::default();
    let (plain, pp) = compiled(&policy("lowercase", "contains"));
    let (spaced, ps) = compiled(&policy("lowercase then delete [\\-_. ]", "contains"));
    let [plain_to_spaced, spaced_to_plain] = diff(&plain, &spaced, &ctx, limits);
    let w = plain_to_spaced.witnesses.first().expect("a witness with a separator inside");
    assert_eq!(w.method, Method::Search, "{w:?}");
    assert!(w.password.contains(['-', '_', '.', ' ']), "{w:?}");
    assert!(reference::violations(&pp, &w.password, &ctx).is_empty());
    assert_eq!(reference::violations(&ps, &w.password, &ctx), ["r"]);
    // Whatever contains `secret` still does with separators deleted: proved.
    assert_eq!(spaced_to_plain.proved, ["r"], "{spaced_to_plain:?}");

    let (exact, _) = compiled(&policy("lowercase", "exact"));
    let (trimmed, _) = compiled(&policy("lowercase then trim digit", "exact"));
    let [exact_to_trimmed, _] = diff(&exact, &trimmed, &ctx, limits);
    assert!(exact_to_trimmed.proved.is_empty(), "{exact_to_trimmed:?}");
    let found = exact_to_trimmed.witnesses.iter().any(|w| w.rule == "r");
    assert!(found || exact_to_trimmed.sampled == ["r"], "{exact_to_trimmed:?}");
}
