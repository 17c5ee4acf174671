//! The agent's throughput: queue-to-cloud deliveries against the local cloud double (HTTP on
//! loopback, token cached), and the hook's decision plus durable enqueue, in process.
//! Run: `cargo bench --bench agent`. (Hook start-to-exit as a process: see README.)

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "a benchmark with a broken setup should stop loudly"
)]

#[path = "../tests/common/mod.rs"]
mod common;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use policyc_agent::hook::{HookOptions, SambaAccount, samba};
use policyc_agent::sync::SyncAgent;
use policyc_gate::queue::Queue;
use std::time::{Duration, Instant};

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let artifact =
        policyc::compile_path("policies/office365.policy", &policyc::CompileOptions::default())
            .unwrap()
            .artifact;
    std::fs::write(d.join("policy.policyc"), artifact).unwrap();
    let cloud = common::cloud();
    cloud.add_users(
        (0..100)
            .map(|i| format!("user{i}@example.com"))
            .collect::<Vec<_>>()
            .iter()
            .map(String::as_str),
    );
    let yaml = common::agent_yaml(d, &d.join("policy.policyc"), &cloud, "");
    let config: policyc_agent::config::AgentConfig = serde_yaml::from_str(&yaml).unwrap();
    let queue = Queue::open(&config.queue, &config.key_path()).unwrap();
    let mut agent = SyncAgent::new(config).unwrap();

    let mut group = c.benchmark_group("agent");
    group.sample_size(10);
    const BATCH: u64 = 100;
    group.throughput(Throughput::Elements(BATCH));
    group.bench_function("deliver", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                for i in 0..BATCH {
                    let pw = format!("Tr0ub4dor&3-Bench{i}");
                    common::reset(
                        &queue,
                        d,
                        &format!("u{i}"),
                        &format!("user{i}@example.com"),
                        &pw,
                    );
                }
                let t = Instant::now();
                let tick = agent.tick();
                total += t.elapsed();
                assert_eq!(tick.delivered as u64, BATCH);
            }
            total
        })
    });
    group.throughput(Throughput::Elements(1));
    let options = HookOptions {
        policy: d.join("policy.policyc"),
        queue: Some(d.join("hookq")),
        key: None,
        public_key: None,
        policy_min_serial: 0,
        serials: Some(d.join("hookq")),
        audit_log: d.join("hook-audit.jsonl"),
        fail_open: false,
        report_only: false,
        syslog: None,
        directory: None,
        users: Default::default(),
    };
    let who = SambaAccount {
        account: Some("alice".into()),
        user_principal_name: Some("alice@x".into()),
        full_name: None,
    };
    group.bench_function("hook-accept", |b| {
        b.iter(|| assert!(samba(&options, b"Tr0ub4dor&3-Bench", &who).accept))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
