//! `policyc export apple` on any policy that compiles: the value it writes is always valid
//! password-rules text (Apple's grammar, as `policyc import apple` reads it), never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use policyc_import::{ImportError, apple, export};
use policyc_runtime::Validator;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let options = policyc_compiler::CompileOptions::default();
    let Ok(compiled) = policyc_compiler::compile_str("fuzz.policy", text, &options) else { return };
    let Ok(v) = Validator::from_bytes(&compiled.artifact) else { return };
    let exported = export::apple::export(&[v.program()]);
    match apple::import(&exported.value, "exported.txt") {
        Ok(_) | Err(ImportError::NoPasswordPasses { .. }) => {}
        Err(e) => panic!("`{}` is not valid password rules: {e}", exported.value),
    }
});
