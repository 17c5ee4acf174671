//! Banned-term lists of 1k, 10k and 100k terms: compile, load (read and verified whole, or
//! mapped and checked as read) and check times, plus artifact size and memory (printed once). Run: `cargo bench --bench terms`.
//!
//! The lists are the shipped common-password list followed by deterministic variants of it
//! (suffixes and substitutions), so every size is realistic and reproducible.

#![allow(
    clippy::panic,
    clippy::unwrap_used,
    reason = "a benchmark with a broken setup should stop loudly"
)]

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use policyc::{CompileOptions, Context, Validator, compile_path};
use std::hint::black_box;
use std::path::PathBuf;
use std::time::Instant;

const SIZES: [usize; 3] = [1_000, 10_000, 100_000];

fn terms(n: usize) -> Vec<String> {
    policyc_cli::corpus::term_list(&policyc_cli::corpus::common_passwords(), n)
}

/// Writes a policy over an `n`-term list into a temp dir and returns its path.
fn policy(dir: &std::path::Path, n: usize) -> PathBuf {
    let list = dir.join(format!("terms-{n}.txt"));
    std::fs::write(&list, terms(n).join("\n")).unwrap();
    let path = dir.join(format!("terms-{n}.policy"));
    std::fs::write(
        &path,
        format!(
            "policy p {{\n  terms banned = file \"terms-{n}.txt\"\n  \
             rule fuzzy \"m\" : avoid banned fuzzy after entra\n  \
             rule entra \"m\" : entra score >= 5 using {{ banned }}\n}}\n"
        ),
    )
    .unwrap();
    path
}

fn bench(c: &mut Criterion) {
    let dir = std::env::temp_dir().join("policyc-bench-terms");
    std::fs::create_dir_all(&dir).unwrap();
    let passwords =
        ["xK9#mQ2$vL7p", "Summer2024!", "C0ntos0Bl@nkf9!", "correct-horse-battery-staple"];
    let user = Context::new();
    for n in SIZES {
        let path = policy(&dir, n);
        let t = Instant::now();
        let artifact = compile_path(&path, &CompileOptions::default())
            .unwrap_or_else(|e| panic!("{e}"))
            .artifact;
        let compile = t.elapsed();
        let t = Instant::now();
        let v = Validator::from_bytes(&artifact).unwrap();
        let load = t.elapsed();
        eprintln!(
            "terms/{n}: compile {compile:.2?}, artifact {} bytes, load {load:.2?}, heap {} bytes",
            artifact.len(),
            v.heap_bytes()
        );
        let mut group = c.benchmark_group(format!("terms/{n}"));
        group.sample_size(10);
        group.bench_function("load", |b| {
            b.iter(|| Validator::from_bytes(black_box(&artifact)).is_ok())
        });
        // As the Samba hook loads it: mapped, the term lists checked as checks read them.
        let file = dir.join(format!("terms-{n}.policyc"));
        std::fs::write(&file, &artifact).unwrap();
        group.bench_function("load mapped", |b| {
            b.iter(|| {
                let f = std::fs::File::open(black_box(&file)).unwrap();
                Validator::from_file(&f, &file).is_ok()
            })
        });
        group.bench_function("load mapped + first check", |b| {
            b.iter(|| {
                let f = std::fs::File::open(black_box(&file)).unwrap();
                let v = Validator::from_file(&f, &file).unwrap();
                v.check(black_box("Summer2024!"), &user).is_compliant()
            })
        });
        group.throughput(Throughput::Elements(1));
        group.sample_size(50);
        for pw in passwords {
            group.bench_with_input(BenchmarkId::new("check", pw.len()), pw, |b, pw| {
                b.iter(|| v.check(black_box(pw), &user).is_compliant())
            });
        }
        group.finish();
    }
}

/// The worst case known for the Entra score (issue 25): every a/b string of 3 to 12 characters
/// as banned terms, and a 4,096-character a/b password. Bounded by the evaluation's step budget
/// (`policyc_runtime::runtime::entra::MAX_STEPS`), which this measures.
fn entra_worst_case(c: &mut Criterion) {
    let dir = std::env::temp_dir().join("policyc-bench-terms");
    std::fs::create_dir_all(&dir).unwrap();
    let (terms, password) = policyc_cli::corpus::entra_worst_case();
    std::fs::write(dir.join("ab.txt"), terms.join("\n")).unwrap();
    let path = dir.join("ab.policy");
    std::fs::write(
        &path,
        "policy p {\n  terms ab = file \"ab.txt\" with entra limits\n  \
         rule banned \"m\" : entra score >= 5 using { ab }\n}\n",
    )
    .unwrap();
    let artifact = compile_path(&path, &CompileOptions::default()).unwrap().artifact;
    let v = Validator::from_bytes(&artifact).unwrap();
    let user = Context::new();
    let mut group = c.benchmark_group("entra worst case");
    group.sample_size(10);
    group.bench_function("check", |b| {
        b.iter(|| v.check(black_box(&password), &user).is_compliant())
    });
    group.bench_function("explain", |b| {
        b.iter(|| v.explain(black_box(&password), &user).is_compliant())
    });
    group.finish();
}

criterion_group!(benches, bench, entra_worst_case);
criterion_main!(benches);
