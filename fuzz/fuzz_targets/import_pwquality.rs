//! `policyc import pwquality` on arbitrary configuration text, with and without skipping the
//! options it cannot express: a policy or an error naming the line or option, never a panic,
//! and never a policy that does not compile (`ImportError::Defect`).
#![no_main]
use libfuzzer_sys::fuzz_target;
use policyc_import::{ImportError, pwquality};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let skip: Vec<String> = [
        "dictcheck",
        "usercheck",
        "dcredit",
        "ucredit",
        "lcredit",
        "ocredit",
        "gecoscheck",
        "badwords",
        "maxrepeat",
        "maxsequence",
    ]
    .map(String::from)
    .to_vec();
    for skip in [&[][..], &skip[..]] {
        if let Err(ImportError::Defect(e)) = pwquality::import(text, "fuzz.conf", skip) {
            panic!("an imported policy does not compile: {e}");
        }
    }
});
