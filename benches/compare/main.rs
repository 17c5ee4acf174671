//! The comparison harness: policyc against the checkers a user would pick, on one machine and
//! one corpus, in one run, with ratios to a hand-written single pass of the Office 365 rule.
//!
//! `cargo bench --bench compare` prints the tables kept in `BENCHMARKS.md` (about two
//! minutes); `cargo bench --bench compare -- length` runs one section (corpus, sample, length,
//! threads, load). The corpus is the one `policyc bench --generate 200000 --seed 20240611`
//! writes, or `POLICYC_CORPUS=FILE`. libpwquality and passwdqc are loaded at run time (Debian packages
//! libpwquality1 with cracklib-runtime, and libpasswdqc1); missing ones are reported as such.
//!
//! Without `--bench` (test mode: `cargo test --all-targets`, `cargo bench -- --test`) it runs
//! every checker once on a small corpus, times nothing, and fails if the implementations of the
//! Office 365 rule disagree on any input.

#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark with a broken setup should stop loudly"
)]

mod hand;
mod measure;
mod native;

use measure::{Budget, Timing, throughput, time, time_all};
use policyc::{CompileOptions, Context, Validator, compile_path};
use policyc_cli::corpus::{SEED, common_passwords};
use policyc_runtime::ir::Attribute;
use std::ffi::CString;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const LENGTHS: [usize; 6] = [8, 12, 16, 32, 64, 256];

/// How big a run is: the full measurement, or test mode's smoke run.
struct Scale {
    corpus: usize,
    /// Every `sample`-th corpus entry goes to the slow checkers.
    sample: usize,
    per_length: usize,
    terms: usize,
    fast: Budget,
    slow: Budget,
    /// Repetitions of compile and load (the median is kept).
    compiles: usize,
    loads: usize,
}

/// One table of the report.
type Section = fn(&Run);

/// Everything the sections measure: inputs, validators, users.
struct Run {
    scale: Scale,
    corpus: Vec<String>,
    sample: Vec<String>,
    by_length: Vec<(usize, Vec<String>)>,
    office365: Validator,
    ad_default: Validator,
    entra: Validator,
    /// The Entra policy with `scale.terms` terms, and its row labels.
    entra_big: Validator,
    big: String,
    big_settings: String,
    nobody: Context,
    user: Context,
}

fn main() {
    // Like criterion: `cargo bench` passes `--bench`; `--test` or its absence is test mode.
    let args: Vec<String> = std::env::args().collect();
    let bench = args.iter().any(|a| a == "--bench") && !args.iter().any(|a| a == "--test");
    // Like criterion, a word selects sections.
    let filter = args.iter().skip(1).find(|a| !a.starts_with('-')).cloned();
    let scale = if bench {
        Scale {
            corpus: 200_000,
            sample: 50,
            per_length: 2_000,
            terms: 100_000,
            fast: Budget { rounds: 5, min: Duration::from_millis(250) },
            slow: Budget { rounds: 1, min: Duration::ZERO },
            compiles: 20,
            loads: 1_000,
        }
    } else {
        Scale {
            corpus: 2_000,
            sample: 50,
            per_length: 50,
            terms: 1_000,
            fast: Budget { rounds: 1, min: Duration::ZERO },
            slow: Budget { rounds: 1, min: Duration::ZERO },
            compiles: 1,
            loads: 1,
        }
    };
    let run = setup(scale);
    let sections: [(&str, Section); 5] = [
        ("corpus", whole_corpus),
        ("sample", slow_checkers),
        ("length", by_length),
        ("threads", threads),
        ("load", compile_and_load),
    ];
    for (name, section) in sections {
        if filter.as_deref().is_none_or(|f| name.contains(f)) {
            section(&run);
        }
    }
}

/// Builds the corpus, the per-length sets and the validators, and checks that the Office 365
/// implementations agree on every input.
fn setup(scale: Scale) -> Run {
    let words = common_passwords();
    let corpus: Vec<String> = match std::env::var_os("POLICYC_CORPUS") {
        Some(path) => std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read POLICYC_CORPUS: {e}"))
            .lines()
            .map(str::to_string)
            .collect(),
        None => policyc_cli::corpus::generate(&words, scale.corpus, SEED),
    };
    let sample: Vec<String> = corpus.iter().step_by(scale.sample).cloned().collect();
    let by_length: Vec<(usize, Vec<String>)> = LENGTHS
        .iter()
        .map(|&len| {
            (len, policyc_cli::corpus::of_length(&words, scale.per_length, len, SEED + len as u64))
        })
        .collect();
    let dir = std::env::temp_dir().join(format!("policyc-compare-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let entra_big = load(entra_policy(&dir, &words, scale.terms));
    let _ = std::fs::remove_dir_all(&dir);
    let run = Run {
        big: format!("policyc entra-password-protection-{}k", scale.terms / 1000),
        big_settings: format!("`complies`, {} terms", scale.terms),
        office365: load("policies/office365.policy"),
        ad_default: load("policies/ad-default.policy"),
        entra: load("policies/entra-password-protection.policy"),
        entra_big,
        nobody: Context::new(),
        user: Context::new()
            .with(Attribute::SamAccountName, "jdoe")
            .with(Attribute::DisplayName, "Erin M. Hagens"),
        scale,
        corpus,
        sample,
        by_length,
    };
    agree(&run.office365, &run.corpus);
    for (_, inputs) in &run.by_length {
        agree(&run.office365, inputs);
    }
    println!(
        "corpus: {} passwords, {} bytes (seed {SEED}); slow checkers on every {}th: {} passwords",
        run.corpus.len(),
        run.corpus.iter().map(String::len).sum::<usize>(),
        run.scale.sample,
        run.sample.len()
    );
    println!("terms in {}: {}\n", run.big.trim_start_matches("policyc "), run.scale.terms);
    run
}

/// The fast checkers on the whole corpus.
fn whole_corpus(r: &Run) {
    let fast = r.scale.fast;
    let [hand, office365, check] = office365_trio(r, &r.corpus);
    let mut table = Table::new("whole corpus", hand);
    table.row("hand-written single pass", "Office 365 rule", hand);
    table.row("policyc office365", "`complies`", office365);
    table.row("policyc office365", "`check` (lists violations)", check);
    let ad = time(&r.corpus, fast, |p| r.ad_default.complies(p, &r.user));
    table.row("policyc ad-default", "`complies`, with a user", ad);
    let entra = time(&r.corpus, fast, |p| r.entra.complies(p, &r.user));
    table.row("policyc entra-password-protection", "`complies`, 30k shipped terms", entra);
    let big = time(&r.corpus, fast, |p| r.entra_big.complies(p, &r.user));
    table.row(&r.big, &r.big_settings, big);
    table.print();
}

/// The slow checkers, on the sample, beside the same fast ones.
fn slow_checkers(r: &Run) {
    let (fast, slow) = (r.scale.fast, r.scale.slow);
    let sample_c: Vec<CString> =
        r.sample.iter().map(|p| CString::new(p.as_str()).unwrap()).collect();
    let hand = floor(&r.sample, fast);
    let mut table = Table::new("sample", hand);
    table.row("hand-written single pass", "Office 365 rule", hand);
    let office365 = time(&r.sample, fast, |p| r.office365.complies(p, &r.nobody));
    table.row("policyc office365", "`complies`", office365);
    let big = time(&r.sample, fast, |p| r.entra_big.complies(p, &r.user));
    table.row(&r.big, &r.big_settings, big);
    match native::Pwquality::load().and_then(|q| {
        let check = q.checker()?;
        Ok(time(&sample_c, slow, |p| check(p)))
    }) {
        Ok(t) => {
            table.row("libpwquality `pwquality_check`", "defaults (cracklib on)", t);
            table.note(format!(
                "{} is {:.0}× libpwquality with its defaults on this sample",
                r.big,
                t.ns / big.ns
            ));
        }
        Err(e) => table.missing("libpwquality", &e),
    }
    match native::Passwdqc::load().and_then(|q| {
        let check = q.checker()?;
        Ok(time(&sample_c, slow, |p| check(p)))
    }) {
        Ok(t) => table.row("passwdqc `passwdqc_check`", "`passwdqc_params_reset` defaults", t),
        Err(e) => table.missing("passwdqc", &e),
    }
    let _ = zxcvbn::zxcvbn("warm-up", &[]);
    let strong = |p: &String| zxcvbn::zxcvbn(p, &[]).score() >= zxcvbn::Score::Three;
    table.row("zxcvbn 3.1.1 (Rust)", "`zxcvbn(pw, &[])`, score ≥ 3", time(&r.sample, slow, strong));
    table.print();
}

/// Office 365 by input length (ASCII): `complies` and `check` against the hand-written pass.
fn by_length(r: &Run) {
    println!("### Office 365 by input length (ASCII, {} inputs each)\n", r.scale.per_length);
    println!(
        "| length | hand-written ns | policyc `complies` ns | × hand | policyc `check` ns | × hand |"
    );
    println!("|---:|---:|---:|---:|---:|---:|");
    for (len, inputs) in &r.by_length {
        let [h, c, v] = office365_trio(r, inputs);
        let (hc, hv) = (c.ns / h.ns, v.ns / h.ns);
        println!("| {len} | {:.1} | {:.1} | {hc:.2} | {:.1} | {hv:.2} |", h.ns, c.ns, v.ns);
    }
    println!();
}

/// Checks per second on one and two threads.
fn threads(r: &Run) {
    println!("### Threads (whole corpus, checks/s)\n");
    println!("| checker | 1 thread | 2 threads | scaling |");
    println!("|---|---:|---:|---:|");
    let min = r.scale.fast.min * 2;
    let office365 = |p: &String| r.office365.complies(p, &r.nobody);
    let big = |p: &String| r.entra_big.complies(p, &r.user);
    let rows = [
        (
            "policyc office365",
            throughput(&r.corpus, 1, min, &office365),
            throughput(&r.corpus, 2, min, &office365),
        ),
        (r.big.as_str(), throughput(&r.corpus, 1, min, &big), throughput(&r.corpus, 2, min, &big)),
    ];
    for (name, one, two) in rows {
        println!("| {name} | {} | {} | {:.2}× |", si(one), si(two), two / one);
    }
    println!();
}

/// Compiling and loading the office365 policy.
fn compile_and_load(r: &Run) {
    let compile = median_of(r.scale.compiles, || {
        compile_path("policies/office365.policy", &CompileOptions::default()).unwrap();
    });
    let artifact =
        compile_path("policies/office365.policy", &CompileOptions::default()).unwrap().artifact;
    let load_time = median_of(r.scale.loads, || {
        Validator::from_bytes(&artifact).unwrap();
    });
    println!("### Compile and load (office365)\n");
    println!("| step | median |");
    println!("|---|---:|");
    println!("| compile (parse, check, lower, build DFAs, encode) | {compile:.2?} |");
    println!("| artifact load ({} bytes, verified) | {load_time:.2?} |", artifact.len());
}

/// Fails the run if the hand-written rule, `complies` and `check` disagree on any input.
fn agree(office365: &Validator, inputs: &[String]) {
    let ctx = Context::new();
    for (i, p) in inputs.iter().enumerate() {
        let hand = hand::office365(p.as_bytes());
        assert!(hand::COPIES.iter().all(|f| f(p.as_bytes()) == hand));
        let complies = office365.complies(p, &ctx);
        let check = office365.check(p, &ctx).is_compliant();
        assert!(
            hand == complies && complies == check,
            "input {i} (not shown): hand {hand}, complies {complies}, check {check}"
        );
    }
}

/// The hand-written pass on `inputs`: its fastest copy (see [`hand::COPIES`]).
fn floor(inputs: &[String], budget: Budget) -> Timing {
    let copies = hand_copies();
    let checks: Vec<&Checker> = copies.iter().map(|c| c.as_ref()).collect();
    fastest(time_all(inputs, budget, &checks))
}

/// One checker of a password.
type Checker<'a> = dyn Fn(&String) -> bool + 'a;

/// Every copy of the hand-written pass, as checkers.
fn hand_copies() -> Vec<Box<Checker<'static>>> {
    hand::COPIES.iter().map(|f| Box::new(move |p: &String| f(p.as_bytes())) as _).collect()
}

/// The hand-written pass (its fastest copy), office365's `complies` and its `check` on
/// `inputs`, their rounds interleaved.
fn office365_trio(r: &Run, inputs: &[String]) -> [Timing; 3] {
    let copies = hand_copies();
    let complies = |p: &String| r.office365.complies(p, &r.nobody);
    let check = |p: &String| r.office365.check(p, &r.nobody).is_compliant();
    let mut checks: Vec<&Checker> = copies.iter().map(|c| c.as_ref()).collect();
    checks.push(&complies);
    checks.push(&check);
    let mut timings = time_all(inputs, r.scale.fast, &checks);
    let check = timings.pop().unwrap();
    let complies = timings.pop().unwrap();
    [fastest(timings), complies, check]
}

fn fastest(timings: Vec<Timing>) -> Timing {
    timings.into_iter().min_by(|a, b| a.ns.total_cmp(&b.ns)).unwrap()
}

fn load(path: impl AsRef<Path>) -> Validator {
    let compiled =
        compile_path(path.as_ref(), &CompileOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    Validator::from_bytes(&compiled.artifact).unwrap()
}

/// The shipped Entra policy with its global list replaced by `n` terms.
fn entra_policy(dir: &Path, words: &[&str], n: usize) -> PathBuf {
    std::fs::copy("policies/office365.policy", dir.join("office365.policy")).unwrap();
    std::fs::write(dir.join("terms.txt"), policyc_cli::corpus::term_list(words, n).join("\n"))
        .unwrap();
    let path = dir.join("entra-big.policy");
    std::fs::write(
        &path,
        "import \"office365.policy\"\n\npolicy entra_big extends office365 {\n  \
         terms global = file \"terms.txt\"\n  \
         rule banned \"Banned.\" : entra score >= 5 using { global }\n}\n",
    )
    .unwrap();
    path
}

fn median_of(n: usize, mut f: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..n.max(1))
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}

/// `12.3 M`, `45.6 k`, `789`.
fn si(x: f64) -> String {
    if x >= 1e6 {
        format!("{:.1} M", x / 1e6)
    } else if x >= 1e4 {
        format!("{:.1} k", x / 1e3)
    } else {
        format!("{x:.0}")
    }
}

/// A markdown table of checkers against the hand-written pass on the same inputs.
struct Table {
    title: String,
    hand: Timing,
    rows: Vec<String>,
    notes: Vec<String>,
}

impl Table {
    fn new(title: &str, hand: Timing) -> Table {
        Table { title: title.to_string(), hand, rows: Vec::new(), notes: Vec::new() }
    }

    fn row(&mut self, checker: &str, settings: &str, t: Timing) {
        self.rows.push(format!(
            "| {checker} | {settings} | {} | {} | {:.2} | {} |",
            si(t.per_second()),
            if t.ns >= 1e4 { format!("{:.0}", t.ns) } else { format!("{:.1}", t.ns) },
            t.ns / self.hand.ns,
            t.accepted
        ));
    }

    fn missing(&mut self, checker: &str, why: &str) {
        self.rows.push(format!("| {checker} | not measured: {why} | | | | |"));
    }

    fn note(&mut self, note: String) {
        self.notes.push(note);
    }

    fn print(&self) {
        println!("### {}\n", self.title);
        println!("| checker | settings | checks/s | ns/check | × hand | accepted |");
        println!("|---|---|---:|---:|---:|---:|");
        for r in &self.rows {
            println!("{r}");
        }
        for n in &self.notes {
            println!("\n{n}");
        }
        println!();
    }
}
