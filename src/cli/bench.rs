//! `policyc bench`: how fast is a policy on a corpus, and a deterministic corpus to measure on.

use super::{EXIT_OK, input, policy_arg};
use policyc_runtime::Validator;
use std::io::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Measure a policy: checks per second, ns per check (p50, p99), acceptance rate, on a corpus
/// of passwords (one per line). `--generate N --seed S` writes a deterministic corpus instead.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  policyc bench --generate 200000 --seed 20240611 -o corpus.txt\n  \
policyc bench policies/office365.policy --corpus corpus.txt --threads 2\n  \
policyc bench policies/office365.policy --corpus corpus.txt --format json"
)]
pub(crate) struct Args {
    /// A policy or artifact.
    policy: Option<PathBuf>,
    /// The corpus: one password per line.
    #[arg(long)]
    corpus: Option<PathBuf>,
    /// The policy to use when the policy file defines several; with an artifact, the name it
    /// must have.
    #[arg(long, value_name = "NAME")]
    policy_name: Option<String>,
    /// Threads checking in parallel (each takes a share of the corpus).
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Run for at least this many seconds (whole passes over the corpus).
    #[arg(long, default_value_t = 2.0)]
    seconds: f64,
    /// A user attribute, ATTR=VALUE (repeatable).
    #[arg(long = "user", value_name = "ATTR=VALUE")]
    user: Vec<String>,
    /// Write a deterministic corpus of this many passwords instead of measuring.
    #[arg(long, value_name = "N")]
    generate: Option<usize>,
    /// The corpus seed.
    #[arg(long, default_value_t = crate::corpus::SEED)]
    seed: u64,
    /// Where to write the generated corpus [default: standard output].
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// `json`: the measurement as one document (for a CI that tracks it).
    #[command(flatten)]
    format: super::FormatArg,
}

/// A measurement, as `--format json` writes it.
#[derive(Debug, serde::Serialize)]
struct Measured {
    policy: String,
    digest: String,
    passwords: usize,
    bytes: usize,
    threads: usize,
    seconds: f64,
    checks_per_second: f64,
    /// Per check, over batches of [`BATCH`] checks, per thread.
    ns_per_check: Percentiles,
    accepted: usize,
}

#[derive(Debug, serde::Serialize)]
struct Percentiles {
    mean: f64,
    p50: f64,
    p99: f64,
}

/// Checks timed together; per-check percentiles are over these batches' means.
const BATCH: usize = 64;

pub(crate) fn run(a: Args) -> Result<u8, String> {
    if let Some(n) = a.generate {
        return generate(n, a.seed, a.output.as_deref());
    }
    let (Some(policy), Some(corpus)) = (&a.policy, &a.corpus) else {
        return Err(
            "error: give a POLICY and --corpus FILE (or --generate N to make a corpus)".into()
        );
    };
    let validator = policy_arg::load(policy, a.policy_name.as_deref())?;
    let ctx = input::user_context(&a.user)?;
    let text = std::fs::read(corpus)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .map_err(|e| format!("error: cannot read `{}`: {e}", corpus.display()))?;
    let lines: Vec<&str> = text.lines().collect();
    if lines.is_empty() {
        return Err("error: the corpus is empty".into());
    }
    let accepted = lines.iter().filter(|p| validator.check(p, &ctx).is_compliant()).count();
    let threads = a.threads.max(1);
    let chunk = lines.len().div_ceil(threads);
    let budget = Duration::from_secs_f64(a.seconds.max(0.01));
    let progress = indicatif::ProgressBar::new(budget.as_millis() as u64);
    let start = Instant::now();
    let results: Vec<(usize, Vec<f64>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = lines
            .chunks(chunk)
            .map(|part| {
                let (v, ctx, progress) = (&validator, &ctx, &progress);
                scope.spawn(move || measure(v, ctx, part, budget, progress))
            })
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    let wall = start.elapsed();
    progress.finish_and_clear();
    let checks: usize = results.iter().map(|r| r.0).sum();
    let mut batches: Vec<f64> = results.into_iter().flat_map(|r| r.1).collect();
    batches.sort_by(f64::total_cmp);
    let pct =
        |p: f64| batches.get(((batches.len() as f64 - 1.0) * p) as usize).copied().unwrap_or(0.0);
    let m = Measured {
        policy: validator.name().to_string(),
        digest: validator.digest_hex(),
        passwords: lines.len(),
        bytes: text.len(),
        threads,
        seconds: wall.as_secs_f64(),
        checks_per_second: checks as f64 / wall.as_secs_f64(),
        ns_per_check: Percentiles {
            mean: batches.iter().sum::<f64>() / batches.len().max(1) as f64,
            p50: pct(0.5),
            p99: pct(0.99),
        },
        accepted,
    };
    if a.format.json() {
        outln!("{}", serde_json::to_string_pretty(&super::versioned(&m)).unwrap_or_default());
        return Ok(EXIT_OK);
    }
    outln!("policy: {} ({})", m.policy, m.digest.get(..16).unwrap_or(""));
    outln!(
        "corpus: {}, {} bytes; {threads} thread(s), {:.1} s",
        super::count(m.passwords as u64, "password", "passwords"),
        m.bytes,
        m.seconds
    );
    outln!("checks/s: {:.0}", m.checks_per_second);
    outln!(
        "ns/check: mean {:.1}, p50 {:.1}, p99 {:.1} (per {BATCH}-check batch, per thread)",
        m.ns_per_check.mean,
        m.ns_per_check.p50,
        m.ns_per_check.p99
    );
    outln!(
        "accepted: {accepted} of {} ({:.1} %)",
        m.passwords,
        100.0 * accepted as f64 / m.passwords as f64
    );
    Ok(EXIT_OK)
}

/// Whole passes over `part` until `budget` is spent: (checks, ns per check of each batch).
fn measure(
    v: &Validator,
    ctx: &policyc_runtime::Context,
    part: &[&str],
    budget: Duration,
    progress: &indicatif::ProgressBar,
) -> (usize, Vec<f64>) {
    let start = Instant::now();
    let mut checks = 0;
    let mut batches = Vec::new();
    loop {
        for batch in part.chunks(BATCH) {
            let t = Instant::now();
            let mut ok = 0usize;
            for pw in batch {
                ok += usize::from(v.complies(std::hint::black_box(pw), ctx));
            }
            std::hint::black_box(ok);
            batches.push(t.elapsed().as_nanos() as f64 / batch.len() as f64);
            checks += batch.len();
        }
        progress.set_position(start.elapsed().as_millis() as u64);
        if start.elapsed() >= budget {
            return (checks, batches);
        }
    }
}

fn generate(n: usize, seed: u64, output: Option<&std::path::Path>) -> Result<u8, String> {
    let corpus = crate::corpus::generate(&crate::corpus::common_passwords(), n, seed);
    let mut text = corpus.join("\n");
    text.push('\n');
    let written = match output {
        Some(path) => std::fs::write(path, text.as_bytes()),
        None => super::out::Stdout.write_all(text.as_bytes()),
    };
    written.map(|()| EXIT_OK).map_err(|e| format!("error: cannot write the corpus: {e}"))
}
