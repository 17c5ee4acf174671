//! The compiler on arbitrary policy text: a diagnostic or an artifact, never a panic; an
//! artifact it makes always loads.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(c) = policyc_compiler::compile_str("fuzz.policy", text, &policyc_compiler::CompileOptions::default()) {
        assert!(
            policyc_runtime::Validator::from_bytes(&c.artifact).is_ok(),
            "the compiler's own artifact must load"
        );
    }
});
