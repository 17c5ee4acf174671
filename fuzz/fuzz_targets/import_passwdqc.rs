//! `policyc import passwdqc` on arbitrary configuration text, with and without skipping the
//! options it cannot express: a policy or an error naming the line or option, never a panic,
//! and never a policy that does not compile (`ImportError::Defect`).
#![no_main]
use libfuzzer_sys::fuzz_target;
use policyc_import::{ImportError, passwdqc};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let skip: Vec<String> =
        ["match", "wordlist", "denylist", "filter", "config", "max", "random", "passphrase"]
            .map(String::from)
            .to_vec();
    for skip in [&[][..], &skip[..]] {
        if let Err(ImportError::Defect(e)) = passwdqc::import(text, "fuzz.conf", skip) {
            panic!("an imported policy does not compile: {e}");
        }
    }
});
