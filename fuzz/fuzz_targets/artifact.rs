//! The artifact loader on raw bytes: refused with an error, or loaded and usable.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(v) = policyc_runtime::Validator::from_bytes(data) {
        let ctx = policyc_runtime::Context::new();
        let _ = v.check("Tr0ub4dor&3", &ctx);
        let _ = v.complies("é日😀\u{0}", &ctx);
        let _ = v.explain("x", &ctx);
    }
});
