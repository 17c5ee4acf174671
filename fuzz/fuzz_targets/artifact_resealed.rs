//! A real artifact with its payload mutated and its checksums recomputed, so that only the
//! structure checks stand between the bytes and the validator: refused, or loaded, and then
//! in agreement with the reference evaluator on the program it decoded. Regex and term-list
//! rules are left out of the comparison: the artifact holds each regex twice (the pattern,
//! which the reference compiles, and the DFA the runtime walks) and each term list twice (the
//! terms, which the reference reads, and the trie the runtime walks), and a resealed artifact
//! can make the two disagree (found by this target for regexes); only a signature can tell such
//! an artifact from the compiler's.
#![no_main]
use libfuzzer_sys::fuzz_target;
use policyc_runtime::artifact::HEADER_LEN;
use std::sync::OnceLock;

fn base() -> &'static [u8] {
    static B: OnceLock<Vec<u8>> = OnceLock::new();
    B.get_or_init(|| {
        let source = include_str!("../../tests/policies/all_rules.policy");
        let options =
            policyc_compiler::CompileOptions { policy: Some("all_rules".into()), ..Default::default() };
        policyc_compiler::compile_str("all_rules.policy", source, &options)
            .map(|c| c.artifact)
            .unwrap_or_default()
    })
}

fuzz_target!(|data: &[u8]| {
    let mut bytes = base().to_vec();
    if bytes.len() <= HEADER_LEN || data.len() < 2 {
        return;
    }
    // Each pair of input bytes flips one payload byte.
    for pair in data.chunks_exact(3) {
        let at = HEADER_LEN
            + (usize::from(pair[0]) << 8 | usize::from(pair[1])) % (bytes.len() - HEADER_LEN);
        bytes[at] ^= pair[2];
    }
    policyc_runtime::artifact::reseal(&mut bytes);
    if let Ok(v) = policyc_runtime::Validator::from_bytes(&bytes) {
        let ctx = policyc_runtime::Context::new().with(policyc_runtime::ir::Attribute::SamAccountName, "jdoe");
        let regex: Vec<&str> = v
            .program()
            .rules
            .iter()
            .filter(|r| {
                matches!(
                    r.predicate,
                    policyc_runtime::ir::Predicate::Regex { .. }
                        | policyc_runtime::ir::Predicate::Avoid { .. }
                        | policyc_runtime::ir::Predicate::EntraScore { .. }
                )
            })
            .map(|r| r.id.as_str())
            .collect();
        let kept = |ids: Vec<String>| -> Vec<String> {
            ids.into_iter().filter(|id| !regex.contains(&id.as_str())).collect()
        };
        for pw in ["Tr0ub4dor&3", "jdoe-Summer-2024", "aaaaaaaa", "Résumé日12"] {
            let got =
                kept(v.check(pw, &ctx).violations().iter().map(|x| x.rule().to_string()).collect());
            let want = kept(policyc_testkit::reference::violations(v.program(), pw, &ctx));
            assert_eq!(got, want, "validator and reference disagree on a loaded artifact");
        }
    }
});
