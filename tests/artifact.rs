//! The artifact: golden files keep loading and mean the same; every kind of damage is refused
//! with a clear error, never a panic, never a validator that accepts.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails by panicking"
)]

use policyc::{CompileOptions, Context, Validator, compile_path};
use policyc_runtime::artifact::{FORMAT_VERSION, HEADER_LEN, LoadError};
use policyc_runtime::ir::Attribute;

const GOLDEN: &[(&str, Option<&str>)] = &[
    ("office365", None),
    ("ad-default", None),
    ("all_rules", Some("all_rules")),
    ("terms", None),
    ("strength", None),
];

fn golden_path(name: &str) -> String {
    format!("tests/golden/artifacts/{name}.policyc")
}

fn compile(name: &str, policy: Option<&str>) -> Vec<u8> {
    let options =
        CompileOptions { policy: policy.map(str::to_string), ..CompileOptions::default() };
    compile_path(format!("tests/golden/artifacts/{name}.policy"), &options).unwrap().artifact
}

/// Committed artifacts must keep loading. When the encoding changes on purpose, bump
/// `FORMAT_VERSION` and regenerate them with `UPDATE_GOLDEN_ARTIFACTS=1 cargo test --test artifact`.
#[test]
fn golden_artifacts_load_and_match_the_compiler() {
    for (name, policy) in GOLDEN {
        let fresh = compile(name, *policy);
        if std::env::var_os("UPDATE_GOLDEN_ARTIFACTS").is_some() {
            std::fs::write(golden_path(name), &fresh).unwrap();
        }
        let committed = std::fs::read(golden_path(name)).unwrap();
        Validator::from_bytes(&committed)
            .unwrap_or_else(|e| panic!("golden {name} no longer loads: {e}"));
        assert!(
            committed == fresh,
            "the compiler now writes different bytes for {name}: if the format changed on purpose, bump \
             FORMAT_VERSION (now {FORMAT_VERSION}) and run UPDATE_GOLDEN_ARTIFACTS=1 cargo test --test artifact"
        );
    }
}

/// Artifacts of the formats before 5 (2: no stores; 3: tries rebuilt at load; 4: terms in the
/// hashed program, every trie block checked at load) are refused with
/// a message that says which version this binary reads and what to do.
#[test]
fn artifacts_of_previous_versions_are_refused_with_the_version_this_build_reads() {
    for version in [2u16, 3, 4] {
        for (name, _) in GOLDEN {
            let path = format!("tests/golden/artifacts/v{version}/{name}.policyc");
            let old = std::fs::read(path).unwrap();
            let e = Validator::from_bytes(&old).unwrap_err();
            assert!(matches!(
                e,
                LoadError::UnsupportedVersion { found, oldest: 5, supported: FORMAT_VERSION } if found == version
            ));
            assert_eq!(
                e.to_string(),
                format!(
                    "artifact format version {version} is not supported (this build reads versions 5 to {FORMAT_VERSION}); recompile the policy with this policyc"
                )
            );
        }
    }
}

/// Version 5 artifacts (before the predicates of version 6), version 6 artifacts (before
/// normalization steps, version 7), version 7 artifacts (before measures in code units,
/// version 8) and version 8 artifacts (before `not contains … in bytes`, version 9) still
/// load, and give the same verdicts as the same policies compiled now.
#[test]
fn artifacts_of_versions_5_to_8_still_load_and_agree_with_a_fresh_compile() {
    let passwords = ["Tr0ub4dor&3", "Résumé12", "Short1!", "Erin2024!", "contoso1!", "password"];
    let ctx = Context::new().with(Attribute::DisplayName, "Erin M. Hagens");
    for version in [5u16, 6, 7, 8] {
        for (name, policy) in GOLDEN {
            let path = format!("tests/golden/artifacts/v{version}/{name}.policyc");
            let old = std::fs::read(path).unwrap();
            assert_eq!(u16::from_le_bytes([old[8], old[9]]), version);
            let old =
                Validator::from_bytes(&old).unwrap_or_else(|e| panic!("v{version} {name}: {e}"));
            let fresh = Validator::from_bytes(&compile(name, *policy)).unwrap();
            // Rules added to the golden policies since are left out of the comparison.
            let known: Vec<&str> = old.program().rules.iter().map(|r| r.id.as_str()).collect();
            for pw in passwords {
                let ids = |v: &Validator| -> Vec<String> {
                    let verdict = v.check(pw, &ctx);
                    let ids = verdict.violations().iter().map(|x| x.rule().to_string());
                    ids.filter(|id| known.contains(&id.as_str())).collect()
                };
                assert_eq!(ids(&old), ids(&fresh), "v{version} {name}: {pw}");
            }
            // The old normalizations read as today's steps.
            for (a, b) in old.program().term_sets.iter().zip(&fresh.program().term_sets) {
                assert_eq!(a.normalization, b.normalization, "v{version} {name}");
            }
        }
    }
}

#[test]
fn golden_artifacts_give_the_documented_verdicts() {
    let o365 = Validator::from_path(golden_path("office365")).unwrap();
    let none = Context::new();
    assert!(o365.check("Tr0ub4dor&3", &none).is_compliant());
    let ids = |v: &Validator, pw: &str, ctx: &Context| -> Vec<String> {
        v.check(pw, ctx).violations().iter().map(|x| x.rule().to_string()).collect()
    };
    assert_eq!(ids(&o365, "Résumé12", &none), ["charset"]);
    assert_eq!(ids(&o365, "Short1!", &none), ["length"]);
    let ad = Validator::from_path(golden_path("ad-default")).unwrap();
    let erin = Context::new().with(Attribute::DisplayName, "Erin M. Hagens");
    assert!(ad.check("Pässwörd1", &erin).is_compliant());
    assert_eq!(ids(&ad, "Erin2024!", &erin), ["names"]);
    let all = Validator::from_path(golden_path("all_rules")).unwrap();
    assert_eq!(ids(&all, "Bk#mNp 1987", &none), ["years"]);
    let terms = Validator::from_path(golden_path("terms")).unwrap();
    assert!(terms.check("ContoS0Bl@nkf9!", &none).is_compliant());
    assert_eq!(ids(&terms, "C0ntos0Blank12", &none), ["entra"]);
    let strength = Validator::from_path(golden_path("strength")).unwrap();
    assert_eq!(ids(&strength, "password123", &none), ["strong", "very_strong"]);
}

fn office365() -> Vec<u8> {
    std::fs::read(golden_path("office365")).unwrap()
}

fn all_rules() -> Vec<u8> {
    std::fs::read(golden_path("all_rules")).unwrap()
}

fn refused(bytes: &[u8]) -> LoadError {
    match Validator::from_bytes(bytes) {
        Ok(_) => panic!("a damaged artifact was accepted"),
        Err(e) => {
            let msg = e.to_string();
            assert!(
                !msg.contains("Error {") && !msg.contains("Some("),
                "debug dump in error: {msg}"
            );
            e
        }
    }
}

/// Re-seals a payload so that only the structure checks stand between it and the validator.
fn reseal(mut bytes: Vec<u8>) -> Vec<u8> {
    policyc_runtime::artifact::reseal(&mut bytes);
    bytes
}

#[test]
fn every_truncation_is_refused() {
    let bytes = all_rules();
    for len in 0..bytes.len() {
        let e = refused(&bytes[..len]);
        assert!(e.is_corruption(), "truncated to {len}: {e}");
    }
}

#[test]
fn trailing_bytes_are_refused() {
    let mut bytes = office365();
    bytes.extend_from_slice(b"junk");
    assert!(matches!(refused(&bytes), LoadError::LengthMismatch { .. }));
}

#[test]
fn wrong_magic_version_and_byte_order_are_refused() {
    let good = office365();
    let mut b = good.clone();
    b[0] = b'X';
    assert!(matches!(refused(&b), LoadError::BadMagic));
    assert!(
        refused(b"#!/bin/sh\necho not an artifact\n")
            .to_string()
            .contains("not a policyc artifact")
    );

    let mut b = good.clone();
    b[8..10].copy_from_slice(&(FORMAT_VERSION + 1).to_le_bytes());
    let e = refused(&b);
    assert!(
        matches!(e, LoadError::UnsupportedVersion { found, .. } if found == FORMAT_VERSION + 1)
    );
    assert!(e.to_string().contains("recompile"));

    let mut b = good;
    b.swap(10, 11);
    assert!(matches!(refused(&b), LoadError::WrongByteOrder));
}

#[test]
fn every_flipped_payload_byte_is_refused() {
    let bytes = all_rules();
    for i in HEADER_LEN..bytes.len() {
        let mut b = bytes.clone();
        b[i] ^= 0x40;
        assert!(matches!(refused(&b), LoadError::ChecksumMismatch), "byte {i}");
    }
    let mut b = bytes;
    b[30] ^= 1; // the stored hash itself
    assert!(matches!(refused(&b), LoadError::ChecksumMismatch));
}

#[test]
fn resealed_garbage_is_refused_by_the_structure_checks() {
    let bytes = all_rules();
    let mut refused_count = 0;
    // Flip bytes throughout the payload and fix the checksum: a crafted file, not a damaged one.
    for i in (HEADER_LEN..bytes.len()).step_by(7) {
        let mut b = bytes.clone();
        b[i] ^= 0xA5;
        let b = reseal(b);
        if let Err(e) = Validator::from_bytes(&b) {
            assert!(matches!(e, LoadError::Malformed(_)), "byte {i}: {e}");
            refused_count += 1;
        }
    }
    assert!(refused_count > 0);
    // A payload cut short inside a section and resealed.
    let short = reseal(bytes[..bytes.len() - 9].to_vec());
    let e = refused(&short);
    assert!(matches!(e, LoadError::Malformed(_)), "{e}");
}

#[test]
fn a_missing_file_is_an_io_error() {
    let e = Validator::from_path("tests/golden/artifacts/no-such.policyc").unwrap_err();
    assert!(matches!(e, LoadError::Io { .. }));
    assert!(e.to_string().contains("no-such.policyc"));
}

#[test]
fn oversized_passwords_are_refused_unprocessed() {
    let v = Validator::from_bytes(&office365()).unwrap();
    let big = "Aa1!".repeat(1 << 18); // 1 MiB
    let verdict = v.check(&big, &Context::new());
    assert!(!verdict.is_compliant());
    let ids: Vec<&str> = verdict.violations().iter().map(|v| v.rule()).collect();
    assert_eq!(ids, [policyc_runtime::runtime::INPUT_SIZE_RULE]);
    let at_limit = "a".repeat(policyc_runtime::runtime::MAX_INPUT_BYTES);
    assert!(
        v.check(&at_limit, &Context::new()).violations().iter().all(|v| v.rule() != "input_size")
    );
}

#[test]
fn validator_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Validator>();
}

/// A mapped artifact (`from_file`, what the Samba hook uses) walks its tries where the file
/// lies and answers exactly as one loaded from bytes.
#[test]
fn a_mapped_artifact_answers_as_one_loaded_from_bytes() {
    let compiled =
        compile_path("policies/entra-password-protection.policy", &CompileOptions::default())
            .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("entra.policyc");
    std::fs::write(&path, &compiled.artifact).unwrap();
    let mapped = Validator::from_file(&std::fs::File::open(&path).unwrap(), &path).unwrap();
    let copied = Validator::from_bytes(&compiled.artifact).unwrap();
    assert_eq!(mapped.digest(), copied.digest());
    let ctx = Context::new().with(Attribute::GivenName, "Erin").with(Attribute::Surname, "Hagens");
    for pw in [
        "Tr0ub4dor&3",
        "P@ssw0rd2024",
        "Contoso-Summer-99!",
        "correct horse battery staple",
        "Erin-Rocks-2024!",
        "Xq7#vLm2$pT9",
    ] {
        let ids = |v: &Validator| -> Vec<String> {
            v.check(pw, &ctx).violations().iter().map(|x| x.rule().to_string()).collect()
        };
        assert_eq!(ids(&mapped), ids(&copied), "{pw}");
    }
    assert!(!mapped.check("P@ssw0rd2024", &ctx).is_compliant());
    // The mapped validator reads with block checks, the other without: the same answers on
    // the benchmark corpus (common passwords, l33t, passphrases, non-ASCII, long entries).
    let words = policyc_cli::corpus::common_passwords();
    for pw in policyc_cli::corpus::generate(&words, 5_000, 7) {
        let m = mapped.check(&pw, &ctx);
        let c = copied.check(&pw, &ctx);
        assert_eq!(m.violations(), c.violations());
        assert_eq!(mapped.complies(&pw, &ctx), copied.complies(&pw, &ctx));
        assert_eq!(mapped.explain(&pw, &ctx).rules.len(), copied.explain(&pw, &ctx).rules.len());
    }
    assert_eq!(mapped.damage(), None);
    assert_eq!(mapped.program(), copied.program(), "the terms read back from the trie words");
    assert_eq!(copied.program(), &compiled.program);
}

/// Where the trie words start in an artifact (header bytes 56..64: their offset in the payload).
fn trie_words_start(bytes: &[u8]) -> usize {
    HEADER_LEN + u64::from_le_bytes(bytes[56..64].try_into().unwrap()) as usize
}

/// Loads `bytes` the way the Samba hook does: mapped from a file, the term lists checked as
/// they are read.
fn mapped(dir: &std::path::Path, bytes: &[u8]) -> Result<Validator, LoadError> {
    let path = dir.join("mapped.policyc");
    std::fs::write(&path, bytes).unwrap();
    Validator::from_file(&std::fs::File::open(&path).unwrap(), &path)
}

/// A damaged trie block is refused at load by a validator that reads the artifact, and by a
/// mapped one at the first check that reads the block: the term rules fail closed with the
/// damaged-policy message, the reason names the block, and `damage` says it from then on.
#[test]
fn a_mapped_artifact_checks_its_trie_blocks_as_it_reads_them() {
    let compiled =
        compile_path("policies/entra-password-protection.policy", &CompileOptions::default())
            .unwrap();
    let mut bytes = compiled.artifact;
    // The root's edge offsets are in the first block: every term search reads them.
    let at = trie_words_start(&bytes) + 4;
    bytes[at] ^= 0x01;
    assert!(matches!(refused(&bytes), LoadError::ChecksumMismatch));
    let dir = tempfile::tempdir().unwrap();
    let v = mapped(dir.path(), &bytes).unwrap();
    assert_eq!(v.damage(), None, "nothing was read yet");
    let ctx = Context::new();
    let verdict = v.check("Xq7#vLm2$pT9-unlisted", &ctx);
    assert!(!verdict.is_compliant());
    let unavailable = verdict.unavailable();
    assert_eq!(unavailable.len(), 1, "{unavailable:?}");
    assert_eq!(unavailable[0].rule, "banned");
    assert_eq!(
        unavailable[0].reason,
        "the policy artifact is damaged (trie block 0 does not match its checksum)"
    );
    let banned = verdict.violations().iter().find(|x| x.rule() == "banned").unwrap();
    assert_eq!(banned.message(), policyc_runtime::runtime::DAMAGED_POLICY_MESSAGE);
    assert_eq!(v.damage(), Some("trie block 0 does not match its checksum"));
    assert!(!v.complies("Xq7#vLm2$pT9-unlisted", &ctx));
    // explain says why the rule failed, not only that it did.
    let explained = v.explain("Xq7#vLm2$pT9-unlisted", &ctx);
    let banned = explained.rules.iter().find(|r| r.rule.id.as_str() == "banned").unwrap();
    assert_eq!(banned.outcome, policyc_runtime::runtime::Outcome::Failed);
    assert_eq!(
        banned.detail,
        policyc_runtime::runtime::Detail::Unavailable {
            reason: "the policy artifact is damaged (trie block 0 does not match its checksum)"
                .into()
        }
    );
    // Rules that read no term list still answer: a short password is refused for its length.
    assert!(v.check("Ab1!", &ctx).violations().iter().any(|x| x.rule() == "length"));
}

/// Crafted trie words (resealed, so every checksum matches): a mapped validator finds each
/// broken structure as it walks it, and where the whole-artifact checks accept the words it
/// answers exactly as the validator that read them all; never a panic.
#[test]
fn resealed_trie_words_are_checked_as_they_are_read() {
    let bytes = std::fs::read(golden_path("terms")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ctx = Context::new().with(Attribute::GivenName, "Poll");
    let passwords = ["contoso1!", "Purple#2024", "R3d-p4ssw0rd", "blankblank", "xyzzy", "grean"];
    let ids = |v: &Validator, pw: &str| -> Vec<String> {
        v.check(pw, &ctx).violations().iter().map(|x| x.rule().to_string()).collect()
    };
    let (mut refused_at_load, mut found_while_checking) = (0, 0);
    for i in (trie_words_start(&bytes)..bytes.len()).step_by(3) {
        let mut b = bytes.clone();
        b[i] ^= 0xA5;
        let b = reseal(b);
        let lazy = mapped(dir.path(), &b).unwrap();
        let verdicts: Vec<Vec<String>> = passwords.iter().map(|pw| ids(&lazy, pw)).collect();
        let _ = lazy.program();
        match Validator::from_bytes(&b) {
            Ok(eager) => {
                assert_eq!(lazy.damage(), None, "byte {i}");
                let expected: Vec<Vec<String>> =
                    passwords.iter().map(|pw| ids(&eager, pw)).collect();
                assert_eq!(verdicts, expected, "byte {i}");
            }
            Err(e) => {
                assert!(matches!(e, LoadError::Malformed(_)), "byte {i}: {e}");
                refused_at_load += 1;
                found_while_checking += usize::from(lazy.damage().is_some());
            }
        }
    }
    assert!(refused_at_load > 0);
    // Reading the whole program reads every term: most damage is found.
    assert!(found_while_checking * 2 > refused_at_load, "{found_while_checking}/{refused_at_load}");
}
