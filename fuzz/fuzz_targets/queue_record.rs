//! A queue record as a planted or damaged file presents it: parsed, opened with a key, or
//! refused, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn queue() -> &'static (tempfile_dir::Dir, policyc_gate::queue::Queue) {
    static Q: OnceLock<(tempfile_dir::Dir, policyc_gate::queue::Queue)> = OnceLock::new();
    Q.get_or_init(|| {
        let dir = tempfile_dir::Dir::new();
        let q = policyc_gate::queue::Queue::open(&dir.0.join("q"), &dir.0.join("q/key"))
            .expect("queue");
        (dir, q)
    })
}

mod tempfile_dir {
    /// A private directory for the fuzz run.
    pub struct Dir(pub std::path::PathBuf);
    impl Dir {
        pub fn new() -> Dir {
            let p = std::env::temp_dir().join(format!("policyc-fuzz-{}", std::process::id()));
            let _ = std::fs::create_dir_all(&p);
            Dir(p)
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let (dir, q) = queue();
    if let Ok(change) = serde_json::from_slice::<policyc_gate::queue::Change>(data) {
        let _ = q.password(&change);
        let _ = change.age_ms();
    }
    // The same bytes as a file in pending/: listed as a change or as damaged.
    let path = dir.0.join("q/pending/fuzz.json");
    if std::fs::write(&path, data).is_ok() {
        let _ = q.pending();
        let _ = std::fs::remove_file(&path);
    }
});
