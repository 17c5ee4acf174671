//! The browser module's user (JSON the page builds from its address, which anyone can write):
//! attributes or an error, never a panic; a user it accepts is checked against ad-default
//! (which reads the account and full names) without a panic either.
#![no_main]
use libfuzzer_sys::fuzz_target;
use policyc_runtime::Validator;
use std::sync::LazyLock;

static AD: LazyLock<Validator> = LazyLock::new(|| {
    let compiled = policyc_compiler::compile_path(
        concat!(env!("CARGO_MANIFEST_DIR"), "/../policies/ad-default.policy"),
        &policyc_compiler::CompileOptions::default(),
    )
    .expect("ad-default compiles");
    Validator::from_bytes(&compiled.artifact).expect("ad-default loads")
});

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(ctx) = policyc_wasm::user::context(text) {
        let _ = AD.check("Jdoe-2024-pass", &ctx);
    }
});
