//! `policyc export pwquality|passwdqc|ppm|keycloak|samba` on any policy that compiles: what each
//! writes reads back through the same checker's importer (a configuration the checker reads),
//! never a panic. (The diff that confirms an export is the analysis' own, fuzzed elsewhere.)
#![no_main]
use libfuzzer_sys::fuzz_target;
use policyc_import::{ImportError, export, keycloak, passwdqc, ppm, pwquality, samba};
use policyc_runtime::Validator;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let options = policyc_compiler::CompileOptions::default();
    let Ok(compiled) = policyc_compiler::compile_str("fuzz.policy", text, &options) else { return };
    let Ok(v) = Validator::from_bytes(&compiled.artifact) else { return };
    let p = v.program();
    let checks: [(&str, String, Result<String, ImportError>); 5] = {
        let a = export::pwquality::export(p).value;
        let b = export::passwdqc::export(p).value;
        let c = export::ppm::export(p).value;
        let d = export::keycloak::export(p).value;
        let e = export::samba::export(p).value;
        [
            ("pwquality", a.clone(), pwquality::import(&a, "e", &[])),
            ("passwdqc", b.clone(), passwdqc::import(&b, "e", &[])),
            ("ppm", c.clone(), ppm::import(&c, "e", &[])),
            ("keycloak", d.clone(), keycloak::import(&d, "e", &[])),
            ("samba", e.clone(), samba::import(&export::samba::shown(&e), "e")),
        ]
    };
    for (checker, value, imported) in checks {
        match imported {
            Ok(_) | Err(ImportError::NoPasswordPasses { .. }) => {}
            Err(e) => panic!("the {checker} export `{value}` does not read back: {e}"),
        }
    }
});
