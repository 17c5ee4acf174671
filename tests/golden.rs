//! Golden files for everything a person reads: compiler diagnostics, `policyc fmt` output and
//! `policyc import` output.
//! Review changes with `cargo insta review` (or `INSTA_UPDATE=always cargo test --test golden`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails by panicking"
)]

use policyc::{CompileOptions, compile_path};
use policyc_import::{ImportError, apple, keycloak, passwdqc, ppm, pwquality, samba};
use std::path::Path;

/// The path relative to the crate root, so that snapshots do not depend on the checkout.
fn relative(path: &Path) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    path.strip_prefix(root).unwrap_or(path).to_string_lossy().into_owned()
}

#[test]
fn diagnostics() {
    insta::glob!("golden/diagnostics/*.policy", |path| {
        let rel = relative(path);
        let rendered = match compile_path(&rel, &CompileOptions::default()) {
            Ok(c) => {
                assert!(
                    !c.warnings.is_empty(),
                    "{rel} compiles cleanly: a diagnostics golden file must produce a diagnostic"
                );
                c.warnings.render(&c.sources)
            }
            Err(e) => e.to_string(),
        };
        insta::assert_snapshot!(rendered);
    });
}

#[test]
fn formatter() {
    insta::glob!("golden/fmt/*.policy", |path| {
        let text = std::fs::read_to_string(path).unwrap();
        let mut sources = policyc_compiler::span::SourceMap::new();
        let id = sources.add(path, text.clone());
        let ast = policyc_compiler::syntax::parse(&text, id).unwrap();
        insta::assert_snapshot!(policyc_compiler::syntax::printer::format(&ast, &text));
    });
}

/// The import as a person reads it: the policy, or the error; where options are refused, the
/// import with them skipped too.
fn rendered_import(
    import: fn(&str, &str, &[String]) -> Result<String, ImportError>,
    path: &Path,
) -> String {
    let rel = relative(path);
    let text = std::fs::read_to_string(path).unwrap();
    match import(&text, &rel, &[]) {
        Ok(policy) => policy,
        Err(e @ ImportError::Unsupported { .. }) => {
            let ImportError::Unsupported { options, .. } = &e else { unreachable!() };
            let skip: Vec<String> = options.iter().map(|u| u.option.clone()).collect();
            let skipped = match import(&text, &rel, &skip) {
                Ok(policy) => policy,
                Err(again) => format!("error: {again}\n"),
            };
            format!("error: {e}\n\nwith --skip {}:\n{skipped}", skip.join(" --skip "))
        }
        Err(e) => format!("error: {e}"),
    }
}

#[test]
fn pwquality_imports_read_well() {
    insta::glob!("golden/import/pwquality/*.conf", |path| {
        insta::assert_snapshot!(rendered_import(pwquality::import, path));
    });
}

#[test]
fn passwdqc_imports_read_well() {
    insta::glob!("golden/import/passwdqc/*.conf", |path| {
        insta::assert_snapshot!(rendered_import(passwdqc::import, path));
    });
}

#[test]
fn keycloak_imports_read_well() {
    insta::glob!("golden/import/keycloak/*.txt", |path| {
        insta::assert_snapshot!(rendered_import(keycloak::import, path));
    });
}

#[test]
fn ppm_imports_read_well() {
    insta::glob!("golden/import/ppm/*.conf", |path| {
        insta::assert_snapshot!(rendered_import(ppm::import, path));
    });
}

/// Apple's rules and Samba's output have no options to skip: the same rendering, without.
#[test]
fn apple_imports_read_well() {
    insta::glob!("golden/import/apple/*.txt", |path| {
        insta::assert_snapshot!(rendered_import(|text, rel, _| apple::import(text, rel), path));
    });
}

#[test]
fn samba_imports_read_well() {
    insta::glob!("golden/import/samba/*.txt", |path| {
        insta::assert_snapshot!(rendered_import(|text, rel, _| samba::import(text, rel), path));
    });
}

/// What `policyc export` says, per checker, of the shipped policies: the configuration on
/// standard output, a note per rule with its witnesses on standard error (as an administrator
/// reads them).
#[test]
fn exports_read_well() {
    for checker in ["pwquality", "passwdqc", "ppm", "keycloak", "samba", "apple"] {
        for policy in ["policies/office365.policy", "policies/ad-default.policy"] {
            let out = std::process::Command::new(env!("CARGO_BIN_EXE_policyc"))
                .args(["export", checker, policy])
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{checker} {policy}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let name = Path::new(policy).file_stem().unwrap().to_str().unwrap();
            insta::assert_snapshot!(
                format!("export_{checker}_{name}"),
                format!(
                    "$ policyc export {checker} {policy}\n{}--- standard error\n{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                )
            );
        }
    }
}
