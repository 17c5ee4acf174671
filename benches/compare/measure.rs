//! Timing: whole passes over an input set, the median of several rounds.

use std::hint::black_box;
use std::time::{Duration, Instant};

/// One checker on one input set.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// Median nanoseconds per check.
    pub ns: f64,
    /// Inputs accepted in one pass.
    pub accepted: usize,
}

impl Timing {
    pub fn per_second(&self) -> f64 {
        1e9 / self.ns
    }
}

/// How long to measure.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    pub rounds: usize,
    /// Each round makes whole passes until this much time has passed (at least one pass).
    pub min: Duration,
}

/// Times `check` over `inputs`: the median over rounds of nanoseconds per check.
pub fn time<T>(inputs: &[T], budget: Budget, check: impl Fn(&T) -> bool) -> Timing {
    time_all(inputs, budget, &[&check])[0]
}

/// Times several checkers on the same inputs with their rounds interleaved (A B C, A B C, …):
/// a machine that slows down for a while slows each of them alike, so their ratios hold.
pub fn time_all<T>(inputs: &[T], budget: Budget, checks: &[&dyn Fn(&T) -> bool]) -> Vec<Timing> {
    let mut per_round: Vec<Vec<f64>> = vec![Vec::new(); checks.len()];
    let mut accepted: Vec<Option<usize>> = vec![None; checks.len()];
    for _ in 0..budget.rounds.max(1) {
        for (i, check) in checks.iter().enumerate() {
            let start = Instant::now();
            let mut passes = 0usize;
            loop {
                let mut ok = 0usize;
                for x in inputs {
                    ok += usize::from(check(black_box(x)));
                }
                accepted[i].get_or_insert(ok);
                passes += 1;
                if start.elapsed() >= budget.min {
                    break;
                }
            }
            let checks = passes * inputs.len();
            per_round[i].push(start.elapsed().as_nanos() as f64 / checks.max(1) as f64);
        }
    }
    per_round
        .into_iter()
        .zip(accepted)
        .map(|(mut rounds, accepted)| {
            rounds.sort_by(f64::total_cmp);
            let ns = rounds.get(rounds.len() / 2).copied().unwrap_or(f64::NAN);
            Timing { ns, accepted: accepted.unwrap_or(0) }
        })
        .collect()
}

/// Checks per second with `threads` threads, each making passes over its share of `inputs`
/// for `min`.
pub fn throughput<T: Sync>(
    inputs: &[T],
    threads: usize,
    min: Duration,
    check: &(impl Fn(&T) -> bool + Sync),
) -> f64 {
    let chunk = inputs.len().div_ceil(threads.max(1)).max(1);
    let start = Instant::now();
    let checks: usize = std::thread::scope(|scope| {
        let handles: Vec<_> = inputs
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    let t = Instant::now();
                    let mut checks = 0;
                    let mut ok = 0usize;
                    while checks == 0 || t.elapsed() < min {
                        for x in part {
                            ok += usize::from(check(black_box(x)));
                        }
                        checks += part.len();
                    }
                    black_box(ok);
                    checks
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or(0)).sum()
    });
    checks as f64 / start.elapsed().as_secs_f64()
}
