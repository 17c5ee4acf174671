//! The breached-password store at scale, by hand (BENCHMARKS.md, "Breached-password store"):
//!
//! ```sh
//! cargo run --release --example store_scale -- generate 100000000 /data/ntlm.txt
//! /usr/bin/time -v target/release/policyc store build --from /data/ntlm.txt -o /data/store
//! cargo run --release --example store_scale -- measure /data/store 10000000 resident
//! cargo run --release --example store_scale -- measure /data/store 10000000 sparse
//! ```
//!
//! `generate` writes N random NTLM hashes in the HIBP downloader's format (`HASH:COUNT`, CRLF;
//! not sorted: the build partitions its input, so order does not matter to it). `measure`
//! reports the false-positive rate over random non-members, warm lookup latency (p50, p99 over
//! batches), whether the shards got huge pages (`FilePmdMapped`), and cold lookups: the store's files evicted from the page cache
//! (`posix_fadvise(DONTNEED)`) before each, then open + lookup, p50 and p99.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a benchmark tool stops loudly"
)]

use policyc_runtime::store::{Store, StoreAccess, StoreKey};
use std::io::Write as _;
use std::time::Instant;

fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn generate(n: u64, out: &str) {
    let mut w = std::io::BufWriter::with_capacity(1 << 22, std::fs::File::create(out).unwrap());
    let mut s = 1u64;
    for _ in 0..n {
        let (a, b) = (splitmix(&mut s), splitmix(&mut s));
        let count = splitmix(&mut s) % 100 + 1;
        writeln!(w, "{a:016X}{b:016X}:{count}\r").unwrap();
    }
    w.flush().unwrap();
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// Evicts every file of the store from the page cache.
fn evict(store: &std::path::Path) {
    let files = std::iter::once(store.join("manifest"))
        .chain(std::fs::read_dir(store.join("shards")).unwrap().map(|e| e.unwrap().path()));
    for f in files {
        let file = std::fs::File::open(&f).unwrap();
        rustix::fs::fadvise(&file, 0, None, rustix::fs::Advice::DontNeed).unwrap();
    }
}

fn measure(path: &str, probes: u64, access: StoreAccess) {
    let path = std::path::Path::new(path);
    let t = Instant::now();
    let store = Store::open_with(path, access).unwrap();
    let open = t.elapsed();
    let info = store.info().clone();
    println!(
        "store: {} keys, {} shards, {}-bit fingerprints, open {open:.2?}",
        info.keys,
        1 << info.shard_bits,
        info.fingerprint_bits
    );
    let (fp, exact) = store.sizes().unwrap();
    println!(
        "size: {fp} bytes of fingerprints ({:.3} bytes/key), {exact} exact",
        fp as f64 / info.keys as f64
    );
    // Warm every shard first, then count false positives over random keys (not members: the
    // generator's keys come from another stream).
    let mut s = 0xDEAD_BEEFu64;
    let t = Instant::now();
    let hits = (0..probes)
        .filter(|_| store.lookup_key(StoreKey(splitmix(&mut s))).unwrap().is_breached())
        .count();
    let rate = hits as f64 / probes as f64;
    println!(
        "false positives: {hits} of {probes} ({rate:.3e}; 2^-{} = {:.3e}); {:.0} ns/lookup over the run",
        info.fingerprint_bits,
        (-(f64::from(info.fingerprint_bits))).exp2(),
        t.elapsed().as_nanos() as f64 / probes as f64
    );
    // Warm latency: batches of 1,000 random lookups, ns per lookup per batch.
    let mut batches: Vec<f64> = (0..2_000)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..1_000 {
                std::hint::black_box(store.lookup_key(StoreKey(splitmix(&mut s))).unwrap());
            }
            t.elapsed().as_nanos() as f64 / 1_000.0
        })
        .collect();
    batches.sort_by(f64::total_cmp);
    println!(
        "warm lookup: p50 {:.0} ns, p99 {:.0} ns (per lookup, batches of 1,000)",
        percentile(&batches, 0.5),
        percentile(&batches, 0.99)
    );
    // Password lookups, hashing included.
    let t = Instant::now();
    for i in 0..200_000u32 {
        std::hint::black_box(store.lookup(&format!("Summer{i}!")).unwrap());
    }
    println!(
        "warm password lookup (NT hash + lookup): {:.0} ns",
        t.elapsed().as_nanos() as f64 / 200_000.0
    );
    let huge: Vec<String> = std::fs::read_to_string("/proc/self/smaps_rollup")
        .unwrap_or_default()
        .lines()
        .filter(|l| l.starts_with("Rss") || l.starts_with("FilePmdMapped"))
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    println!("mapped ({access:?}): {}", huge.join(", "));
    drop(store);
    // Cold: evict, open, one lookup.
    let mut cold: Vec<f64> = (0..300)
        .map(|_| {
            evict(path);
            let key = StoreKey(splitmix(&mut s));
            let t = Instant::now();
            let store = Store::open_with(path, access).unwrap();
            std::hint::black_box(store.lookup_key(key).unwrap());
            t.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    cold.sort_by(f64::total_cmp);
    println!(
        "cold open + lookup (page cache evicted): p50 {:.0} µs, p99 {:.0} µs, max {:.0} µs",
        percentile(&cold, 0.5),
        percentile(&cold, 0.99),
        cold[cold.len() - 1]
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("generate") => generate(args[2].parse().unwrap(), &args[3]),
        Some("measure") => {
            let access = match args.get(4).map(String::as_str) {
                None | Some("resident") => StoreAccess::Resident,
                Some("sparse") => StoreAccess::Sparse,
                Some(other) => panic!("access `{other}`: resident or sparse"),
            };
            measure(&args[2], args.get(3).map_or(10_000_000, |n| n.parse().unwrap()), access)
        }
        _ => panic!("usage: store_scale generate N OUT | measure STORE [PROBES [resident|sparse]]"),
    }
}
