//! `policyc import keycloak` on arbitrary policy strings, with and without skipping the
//! options it cannot express: a policy or an error naming the line or option, never a panic,
//! and never a policy that does not compile (`ImportError::Defect`).
#![no_main]
use libfuzzer_sys::fuzz_target;
use policyc_import::{ImportError, keycloak};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let skip: Vec<String> = [
        "regexPattern",
        "passwordBlacklist",
        "passwordDenylist",
        "notContainsName",
        "notPersonalInformation",
        "passwordStrength",
    ]
    .map(String::from)
    .to_vec();
    for skip in [&[][..], &skip[..]] {
        if let Err(ImportError::Defect(e)) = keycloak::import(text, "fuzz.txt", skip) {
            panic!("an imported policy does not compile: {e}");
        }
    }
});
