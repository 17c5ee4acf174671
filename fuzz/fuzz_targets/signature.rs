//! A policy signature (`ARTIFACT.sig`: key id, policy name, serial, time, Ed25519 signature),
//! as the hook, the agent and the Windows filter read it: parsed and verified, or refused with a
//! message; never a panic. Half the inputs are a real signature with one field replaced by the
//! input, so that the fuzzer reaches the verification.
#![no_main]
use libfuzzer_sys::fuzz_target;
use policyc_gate::signing::{PublicKey, keygen, parse_signature, sign, signature_path};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

const ARTIFACT: &[u8] = b"policyc artifact bytes";

/// A key and a valid signature of [`ARTIFACT`], made once.
fn base() -> &'static (tempfile::TempDir, PublicKey, String) {
    static B: OnceLock<(tempfile::TempDir, PublicKey, String)> = OnceLock::new();
    B.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap_or_else(|_| std::process::abort());
        let secret = dir.path().join("key");
        let public = keygen(&secret).unwrap_or_else(|_| std::process::abort());
        let artifact = dir.path().join("a.policyc");
        if sign(&secret, &artifact, ARTIFACT, "corp", Some(7)).is_err() {
            std::process::abort();
        }
        let text = std::fs::read_to_string(signature_path(&artifact))
            .unwrap_or_else(|_| std::process::abort());
        (dir, public, text)
    })
}

fuzz_target!(|data: &[u8]| {
    let (_, key, valid) = base();
    let input = String::from_utf8_lossy(data);
    let text = match data.first() {
        Some(&b) if b % 2 == 0 => {
            let mut fields: Vec<&str> = valid.split_whitespace().collect();
            let at = usize::from(b / 2) % fields.len();
            fields[at] = input.get(1..).unwrap_or("");
            fields.join(" ")
        }
        _ => input.into_owned(),
    };
    let sig = PathBuf::from("a.policyc.sig");
    let _ = parse_signature(&text, &sig);
    if let Ok(signed) = key.verify_text(&text, &sig, Path::new("a.policyc"), ARTIFACT) {
        // Only the real signature verifies.
        if signed.name != "corp" || signed.serial != 7 {
            std::process::abort();
        }
    }
});
