//! Throughput of the embedded validator (every shipped policy, every rule kind alone, inputs
//! of 8 to 256 characters, ASCII and not), and the cost of compiling and loading a policy.
//! Run: `cargo bench --bench validator` (CI runs it once in test mode).

#![allow(clippy::panic, reason = "a benchmark with a broken setup should stop loudly")]

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use policyc::{CompileOptions, Context, Validator, compile_path, compile_str};
use policyc_runtime::ir::Attribute;
use std::hint::black_box;

fn artifact(path: &str) -> Vec<u8> {
    match compile_path(path, &CompileOptions::default()) {
        Ok(c) => c.artifact,
        Err(e) => panic!("{e}"),
    }
}

/// A compliant ASCII password of exactly `len` characters.
fn password(len: usize) -> String {
    "Tr0ub4dor&3-".chars().cycle().take(len).collect()
}

/// The same with one accented letter: `len` characters, not ASCII.
fn accented(len: usize) -> String {
    "Tr0übädor&3-".chars().cycle().take(len).collect()
}

fn check(c: &mut Criterion) {
    let user = Context::new()
        .with(Attribute::SamAccountName, "jdoe")
        .with(Attribute::DisplayName, "Erin M. Hagens");
    for (name, path) in [
        ("office365", "policies/office365.policy"),
        ("ad-default", "policies/ad-default.policy"),
        ("entra-password-protection", "policies/entra-password-protection.policy"),
    ] {
        let Ok(v) = Validator::from_bytes(&artifact(path)) else {
            panic!("artifact does not load")
        };
        let mut group = c.benchmark_group(format!("check/{name}"));
        group.throughput(Throughput::Elements(1));
        for len in [8usize, 12, 16, 32, 64, 256] {
            let pw = password(len);
            group.bench_with_input(BenchmarkId::new("ascii", len), &pw, |b, pw| {
                b.iter(|| v.check(black_box(pw), &user).is_compliant())
            });
            group.bench_with_input(BenchmarkId::new("complies/ascii", len), &pw, |b, pw| {
                b.iter(|| v.complies(black_box(pw), &user))
            });
            let pw = accented(len);
            group.bench_with_input(BenchmarkId::new("non-ascii", len), &pw, |b, pw| {
                b.iter(|| v.check(black_box(pw), &user).is_compliant())
            });
        }
        group.finish();
    }
}

/// Each rule kind alone, on a 16-character password, so that its own cost shows.
fn rule_kinds(c: &mut Criterion) {
    let user = Context::new()
        .with(Attribute::SamAccountName, "jdoe")
        .with(Attribute::DisplayName, "Erin M. Hagens");
    let kinds = [
        ("length", "length between 8 and 256"),
        ("only", "only any - control"),
        ("no", "no [\\t\\u{E9}]"),
        ("at-least", "at least 3 of { lower, upper, digit, punct }"),
        ("count", "count digit <= 4"),
        ("regex", "not matches /(19|20)[0-9]{2}/"),
        ("repeat", "longest repeat <= 2"),
        ("sequence", "longest sequence < 4"),
        (
            "contains-attribute",
            "not contains user.displayName split on \" -.\" skip shorter than 4",
        ),
        ("ad-names", "not contains ad_names"),
        ("avoid-exact", "avoid t exact after lowercase"),
        ("avoid-contains", "avoid t contains after entra"),
        ("avoid-fuzzy", "avoid t fuzzy after entra"),
        ("entra-score", "entra score >= 5 using { t }"),
        ("strength", "strength >= 3"),
    ];
    let mut group = c.benchmark_group("rule");
    group.throughput(Throughput::Elements(1));
    let pw = password(16);
    for (name, predicate) in kinds {
        let source = format!(
            "policy p {{\n  terms t = [\"password\", \"dragon\", \"monkey\", \"letmein\"]\n  \
             rule r \"m\" : {predicate}\n}}\n"
        );
        let artifact = match compile_str("kind.policy", &source, &CompileOptions::default()) {
            Ok(c) => c.artifact,
            Err(e) => panic!("{name}: {e}"),
        };
        let Ok(v) = Validator::from_bytes(&artifact) else { panic!("{name} does not load") };
        group.bench_with_input(BenchmarkId::from_parameter(name), &pw, |b, pw| {
            b.iter(|| v.check(black_box(pw), &user).is_compliant())
        });
    }
    group.finish();
}

/// Strength rules: zxcvbn on the first 16 characters, including inputs built from l33t
/// substitutions, zxcvbn's slowest case (each character has several readings).
fn strength(c: &mut Criterion) {
    let Ok(v) = Validator::from_bytes(&artifact("tests/policies/strength.policy")) else {
        panic!("artifact does not load")
    };
    let user = Context::new().with(Attribute::SamAccountName, "jdoe");
    let mut group = c.benchmark_group("check/strength");
    group.throughput(Throughput::Elements(1));
    let leet = "@!1|$5+7@!1|$5+7".repeat(8);
    for (name, pw) in [
        ("random-12", "xK9#mQ2$vL7p".to_string()),
        ("passphrase-28", "correct horse battery staple".to_string()),
        ("leet-16", leet.chars().take(16).collect()),
        ("leet-128", leet.clone()),
    ] {
        group.bench_with_input(BenchmarkId::from_parameter(name), &pw, |b, pw| {
            b.iter(|| v.explain(black_box(pw), &user).is_compliant())
        });
    }
    group.finish();
}

fn compile_and_load(c: &mut Criterion) {
    c.bench_function("compile/office365", |b| {
        b.iter(|| artifact(black_box("policies/office365.policy")))
    });
    let bytes = artifact("policies/office365.policy");
    c.bench_function("load/office365", |b| {
        b.iter(|| Validator::from_bytes(black_box(&bytes)).is_ok())
    });
}

criterion_group!(benches, check, rule_kinds, strength, compile_and_load);
criterion_main!(benches);
