//! `policyc import samba` on arbitrary text: a policy or an error naming the line,
//! never a panic, and never a policy that does not compile (`ImportError::Defect`).
#![no_main]
use libfuzzer_sys::fuzz_target;
use policyc_import::{ImportError, samba};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Err(ImportError::Defect(e)) = samba::import(text, "fuzz.txt") {
        panic!("an imported policy does not compile: {e}");
    }
});
