//! Crash safety: 1,000 changes for 100 users are queued while the real agent process delivers
//! them to the cloud double with faults injected, and is killed with SIGKILL at random moments
//! and restarted. At the end every user's cloud password is their newest change, nothing is
//! lost, and no cleartext password is on disk or in any log.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails by panicking"
)]

mod common;

use policyc_agent::double::Faults;
use policyc_gate::queue::{Queue, list_pending};
use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const USERS: usize = 100;
const CHANGES: usize = 1000;

/// A small deterministic generator for kill timings.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % below
    }
}

#[test]
fn kill_9_at_random_moments_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cloud = common::cloud();
    cloud.set_faults(Faults {
        throttle: 0.1,
        retry_after_secs: 0.02,
        server_error: 0.1,
        drop: 0.05,
        delay: Duration::ZERO,
        ..Faults::default()
    });
    let artifact =
        policyc::compile_path("policies/office365.policy", &policyc::CompileOptions::default())
            .unwrap()
            .artifact;
    std::fs::write(d.join("policy.policyc"), artifact).unwrap();
    let config = d.join("agent.yaml");
    let extra = "poll_interval_ms: 20
retry: {initial_ms: 10, max_ms: 100}";
    std::fs::write(&config, common::agent_yaml(d, &d.join("policy.policyc"), &cloud, extra))
        .unwrap();
    let queue = Queue::open(&d.join("queue"), &d.join("queue/key")).unwrap();
    let upns: Vec<String> = (0..USERS).map(|u| format!("user{u:03}@example.com")).collect();
    cloud.add_users(upns.iter().map(String::as_str));
    let root = d.to_path_buf();

    // The directory side: changes keep arriving while the agent crashes and restarts.
    let newest: Arc<Mutex<HashMap<String, String>>> = Arc::default();
    let done = Arc::new(AtomicBool::new(false));
    let producer = {
        let (newest, done) = (newest.clone(), done.clone());
        std::thread::spawn(move || {
            for i in 0..CHANGES {
                let user = format!("user{:03}@example.com", i % USERS);
                let pw = format!("Canary{:03}-{i:04}-Xy9!", i % USERS);
                common::reset(&queue, &root, &format!("user{:03}", i % USERS), &user, &pw);
                newest.lock().unwrap().insert(user, pw);
                if i % 10 == 0 {
                    std::thread::sleep(Duration::from_millis(15));
                }
            }
            done.store(true, Ordering::SeqCst);
        })
    };

    let mut rng = Lcg(0x5eed);
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut kills: u64 = 0;
    loop {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(d.join("agent.log"))
            .unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_policyc"))
            .args(["agent", "run", "--config"])
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(20 + rng.next(200)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        kills += 1;
        let finished = done.load(Ordering::SeqCst);
        if finished && list_pending(&d.join("queue")).unwrap().0.is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "the queue did not drain");
    }
    producer.join().unwrap();
    assert!(kills >= 5, "the agent was killed {kills} times");

    let newest = newest.lock().unwrap();
    assert_eq!(newest.len(), USERS);
    for (user, pw) in newest.iter() {
        assert!(cloud.has_password(user), "{user} has no cloud password");
        assert!(cloud.holds(user, pw), "{user}: the cloud does not have the newest change");
    }
    assert!(list_pending(&d.join("queue")).unwrap().0.is_empty());
    assert_eq!(std::fs::read_dir(d.join("queue/failed")).unwrap().count(), 0, "nothing failed");
    for file in common::files_under(d) {
        let text = String::from_utf8_lossy(&std::fs::read(&file).unwrap()).into_owned();
        assert!(!text.contains("Canary"), "{} contains a cleartext password", file.display());
    }
    // Two agents never run at once (the queue lock): a change is PATCHed again only when a
    // kill fell between the cloud's 2xx and the record's removal, at most once per kill.
    let audit = std::fs::read_to_string(d.join("audit.jsonl")).unwrap();
    let delivered = audit.lines().filter(|l| l.contains(r#""outcome":"delivered""#)).count() as u64;
    let set = cloud.stats().set;
    assert!(
        set >= delivered && set <= delivered + kills,
        "{set} PATCHes for {delivered} deliveries and {kills} kills"
    );
    eprintln!("killed the agent {kills} times; cloud stats {:?}", cloud.stats());
}
