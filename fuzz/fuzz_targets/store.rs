//! A real breached-password store with one of its files mutated: the manifest or a shard,
//! raw (the checksums must catch it) or resealed (checksums, block table and the manifest's id
//! recomputed, so that only the structure checks stand between the bytes and a lookup). Opening,
//! looking up and verifying must give an answer or an error: never a panic, never a hang.
#![no_main]
use libfuzzer_sys::fuzz_target;
use policyc_runtime::store::build::{BuildOptions, Quiet, build};
use policyc_runtime::store::{Store, shard_path};
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::sync::OnceLock;

/// The pristine store's files (path relative to the store, bytes), built once.
fn base() -> &'static (tempfile::TempDir, Vec<(PathBuf, Vec<u8>)>) {
    static B: OnceLock<(tempfile::TempDir, Vec<(PathBuf, Vec<u8>)>)> = OnceLock::new();
    B.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap_or_else(|_| std::process::abort());
        let list = dir.path().join("list.txt");
        let words: Vec<String> = (0..3000).map(|i| format!("password{i}")).collect();
        let _ = std::fs::write(&list, words.join("\n"));
        let store = dir.path().join("store");
        let mut o = BuildOptions::new(&store, vec![list]);
        o.shard_bits = Some(1);
        o.exact = true;
        o.threads = 1;
        if build(&o, &Quiet).is_err() {
            std::process::abort();
        }
        let s = Store::open(&store).unwrap_or_else(|_| std::process::abort());
        let mut files = vec![(
            PathBuf::from("manifest"),
            std::fs::read(store.join("manifest")).unwrap_or_default(),
        )];
        for (i, e) in s.entries().iter().enumerate() {
            let p = shard_path(&store, i, e.generation);
            let rel = p.strip_prefix(&store).map(PathBuf::from).unwrap_or_default();
            files.push((rel, std::fs::read(&p).unwrap_or_default()));
        }
        (dir, files)
    })
}

/// Recomputes a shard's block table and header digest; returns its new id.
fn reseal_shard(b: &mut [u8]) -> [u8; 16] {
    if b.len() < 4096 {
        return [0; 16];
    }
    let blocks = (b.len() - 4096).div_ceil(4096);
    for k in 0..blocks {
        let start = 4096 + k * 4096;
        let crc = crc32fast::hash(&b[start..(start + 4096).min(b.len())]);
        let at = 120 + 4 * k;
        if at + 4 <= 4096 {
            b[at..at + 4].copy_from_slice(&crc.to_le_bytes());
        }
    }
    let table_end = (120 + 4 * blocks).min(4096);
    let mut h = Sha256::new();
    h.update(&b[..88]);
    h.update(&b[120..table_end]);
    let d: [u8; 32] = h.finalize().into();
    b[88..120].copy_from_slice(&d);
    let mut id = [0u8; 16];
    id.copy_from_slice(&d[..16]);
    id
}

fn reseal_manifest(m: &mut [u8]) {
    if m.len() < 64 {
        return;
    }
    let mut h = Sha256::new();
    h.update(&m[..32]);
    h.update(&m[64..]);
    let d: [u8; 32] = h.finalize().into();
    m[32..64].copy_from_slice(&d);
}

fuzz_target!(|data: &[u8]| {
    let (_keep, files) = base();
    let Some((&how, edits)) = data.split_first() else { return };
    let target = usize::from(how >> 1) % files.len();
    let reseal = how & 1 == 1;
    let mut files = files.clone();
    {
        let bytes = &mut files[target].1;
        if bytes.is_empty() {
            return;
        }
        // Each three input bytes flip one byte; a trailing byte truncates.
        for e in edits.chunks_exact(3) {
            let at = (usize::from(e[0]) << 8 | usize::from(e[1])) % bytes.len();
            bytes[at] ^= e[2];
        }
        if edits.len() % 3 == 1 {
            let cut = usize::from(edits[edits.len() - 1]) * 64;
            bytes.truncate(bytes.len().saturating_sub(cut));
        }
    }
    if reseal && target > 0 {
        let id = reseal_shard(&mut files[target].1);
        let at = 64 + (target - 1) * 32 + 16;
        if let Some(slot) = files[0].1.get_mut(at..at + 16) {
            slot.copy_from_slice(&id);
        }
    }
    if reseal {
        reseal_manifest(&mut files[0].1);
    }
    let Ok(dir) = tempfile::tempdir() else { return };
    let store = dir.path().join("store");
    let _ = std::fs::create_dir_all(store.join("shards"));
    for (rel, bytes) in &files {
        let _ = std::fs::write(store.join(rel), bytes);
    }
    if let Ok(s) = Store::open(&store) {
        for pw in ["password1", "password2999", "not-in-it", "Résumé日12"] {
            let _ = s.lookup(pw);
        }
        let _ = s.verify(|_| {});
        let _ = s.sizes();
    }
});
