//! Throughput of the embedded validator, and the cost of compiling and loading a policy.
//! Run: `cargo bench --bench validator` (CI runs it once in test mode: `-- --test`).

#![allow(clippy::panic, reason = "a benchmark with a broken setup should stop loudly")]

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use policyc::ir::Attribute;
use policyc::{CompileOptions, Context, Validator, compile_path};
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

fn check(c: &mut Criterion) {
    let user = Context::new()
        .with(Attribute::SamAccountName, "jdoe")
        .with(Attribute::DisplayName, "Erin M. Hagens");
    for (name, path) in
        [("office365", "policies/office365.policy"), ("ad-default", "policies/ad-default.policy")]
    {
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
        }
        let accented = "Pässwörd-Résumé-1";
        group.bench_with_input(
            BenchmarkId::new("non-ascii", accented.chars().count()),
            accented,
            |b, pw| b.iter(|| v.check(black_box(pw), &user).is_compliant()),
        );
        group.finish();
    }
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

criterion_group!(benches, check, strength, compile_and_load);
criterion_main!(benches);
