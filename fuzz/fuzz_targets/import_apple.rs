//! `policyc import apple` on arbitrary password-rules text: a policy or an error naming what
//! Apple's parser would not read, never a panic, and never a policy that does not compile
//! (`ImportError::Defect`).
#![no_main]
use libfuzzer_sys::fuzz_target;
use policyc_import::{ImportError, apple};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Err(ImportError::Defect(e)) = apple::import(text, "fuzz.txt") {
        panic!("an imported policy does not compile: {e}");
    }
});
