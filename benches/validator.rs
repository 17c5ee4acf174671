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

fn compile_and_load(c: &mut Criterion) {
    c.bench_function("compile/office365", |b| {
        b.iter(|| artifact(black_box("policies/office365.policy")))
    });
    let bytes = artifact("policies/office365.policy");
    c.bench_function("load/office365", |b| {
        b.iter(|| Validator::from_bytes(black_box(&bytes)).is_ok())
    });
}

criterion_group!(benches, check, compile_and_load);
criterion_main!(benches);
