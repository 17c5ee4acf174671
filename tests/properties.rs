//! Property tests: the compiled validator agrees with the reference evaluator on every shipped
//! policy over generated passwords and users; case folding agrees with regex-syntax; untrusted
//! inputs (policy text, artifact bytes) never panic; formatting is idempotent and keeps meaning.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails by panicking"
)]

use policyc::{CompileOptions, Context, Validator, compile_path, compile_str};
use policyc_runtime::ir::Attribute;
use policyc_runtime::runtime::fold::Folding;
use policyc_testkit::reference;
use proptest::prelude::*;
use std::sync::OnceLock;

struct Policy {
    program: policyc_runtime::ir::Program,
    validator: Validator,
    artifact: Vec<u8>,
}

fn compiled(path: &str, name: Option<&str>) -> Policy {
    let options = CompileOptions { policy: name.map(str::to_string), ..CompileOptions::default() };
    let c = compile_path(path, &options).unwrap_or_else(|e| panic!("{e}"));
    Policy {
        validator: Validator::from_bytes(&c.artifact).unwrap(),
        program: c.program,
        artifact: c.artifact,
    }
}

fn policies() -> &'static [Policy] {
    static P: OnceLock<Vec<Policy>> = OnceLock::new();
    P.get_or_init(|| {
        let mut v: Vec<Policy> = std::fs::read_dir("policies")
            .unwrap()
            .filter_map(|e| {
                let p = e.unwrap().path();
                (p.extension()? == "policy").then(|| compiled(p.to_str().unwrap(), None))
            })
            .collect();
        v.push(compiled("tests/policies/all_rules.policy", Some("all_rules")));
        v.push(compiled("tests/policies/terms.policy", None));
        v.push(compiled("tests/policies/strength.policy", None));
        v.push(compiled("tests/policies/classes_only.policy", None));
        v.push(compiled("tests/policies/composite.policy", None));
        v.push(compiled("tests/policies/normalize.policy", None));
        v.push(compiled("tests/policies/units.policy", None));
        assert!(v.len() >= 3);
        v
    })
}

/// Characters that exercise every class boundary: ASCII, symbols, controls, accented and
/// case-folding oddities (Kelvin sign, long s, final sigma, dotted I, sharp s), Greek, CJK, emoji.
fn interesting_char() -> impl Strategy<Value = char> {
    prop_oneof![
        6 => proptest::char::range(' ', '~'),
        1 => proptest::sample::select(vec![
            '\t', '\0', '\n', 'é', 'É', 'ß', 'ẞ', 'K', 'ſ', 'ς', 'Σ', 'İ', 'ı', 'α', 'β', 'γ', 'Ω', 'ǅ',
            '日', '本', '😀', '€', '£', 'ª', 'Ⅻ', '\u{345}', 'П', 'а', '\u{a0}',
            '\u{307}', '\u{2013}', 'ﬁ', 'Ⓐ', '𝐀', 'ŉ', 'ΐ', '\u{2082}', '\u{10452}', '\u{1F7DF}',
        ]),
        1 => any::<char>(),
    ]
}

fn password() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => proptest::collection::vec(interesting_char(), 0..24).prop_map(|v| v.into_iter().collect()),
        1 => proptest::collection::vec(interesting_char(), 24..300).prop_map(|v| v.into_iter().collect()),
        // Passwords built around a user's name, to exercise the containment rules.
        2 => (name(), proptest::collection::vec(interesting_char(), 0..8), any::<bool>()).prop_map(|(n, tail, upper)| {
            let n = if upper { n.to_uppercase() } else { n };
            let tail: String = tail.into_iter().collect();
            format!("{tail}{n}{tail}")
        }),
        1 => "[a-zA-Z0-9]{1,3}".prop_map(|s| s.repeat(1500)),
        // Palindromes, odd and even.
        1 => (proptest::collection::vec(interesting_char(), 0..8), proptest::option::of(interesting_char())).prop_map(|(half, mid)| {
            let front: String = half.iter().collect();
            let back: String = half.iter().rev().collect();
            format!("{front}{}{back}", mid.map(String::from).unwrap_or_default())
        }),
        // A user's name exactly, or reversed.
        1 => (name(), any::<bool>()).prop_map(|(n, rev)| if rev { n.chars().rev().collect() } else { n }),
        // A user's name with a character doubled or dropped (libpwquality's distance 0 or 1).
        1 => (name(), any::<prop::sample::Index>(), any::<bool>()).prop_map(|(n, at, double)| {
            let mut chars: Vec<char> = n.chars().collect();
            let i = at.index(chars.len());
            if double { chars.insert(i, chars[i]) } else { chars.remove(i); }
            chars.into_iter().collect()
        }),
    ]
}

fn name() -> impl Strategy<Value = String> {
    proptest::sample::select(vec![
        "jdoe",
        "Erin",
        "Hagens",
        "Ödön",
        "smith",
        "Mary-Ann",
        "al",
        "ΣΊΣΥΦΟΣ",
        "kelvin",
        "Root",
        "Strauß",
        "ivan",
        "İlker",
        "Li",
        "𝔄𝔅",
        "fix",
        "j.smith",
        "ab[cd",
        "x*y.q",
    ])
    .prop_map(str::to_string)
}

fn user() -> impl Strategy<Value = Context> {
    (
        proptest::option::of(name()),
        proptest::option::of((
            name(),
            name(),
            proptest::sample::select(vec![
                " ", ", ", ".", "-", "\t", "#", "_", "\u{a0}", "\u{2013}",
            ]),
        )),
        proptest::option::of(name()),
        any::<bool>(),
    )
        .prop_map(|(sam, display, given, admin)| {
            let mut ctx = Context::new();
            if let Some(s) = sam {
                ctx.set(Attribute::SamAccountName, s);
            }
            if let Some((a, b, sep)) = display {
                ctx.set(Attribute::DisplayName, format!("{a}{sep}{b}"));
            }
            if let Some(g) = given {
                ctx.set(Attribute::GivenName, g.clone());
                ctx.set(Attribute::Mail, format!("{g}@example.com"));
            }
            if admin {
                ctx.add(Attribute::MemberOf, "cn=ADMINS,dc=example,dc=com");
            }
            ctx
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 768, ..ProptestConfig::default() })]

    #[test]
    fn compiled_validator_agrees_with_reference(pw in password(), ctx in user()) {
        // Policies with large term lists have their own, smaller test below: the brute-force
        // oracle is slow on them.
        for p in policies().iter().filter(|p| p.program.term_sets.iter().all(|s| s.len() < 1000)) {
            let verdict = p.validator.check(&pw, &ctx);
            let compiled: Vec<&str> = verdict.violations().iter().map(|v| v.rule()).collect();
            let oracle = reference::violations(&p.program, &pw, &ctx);
            prop_assert_eq!(&compiled, &oracle, "policy {}", p.program.name);
            // explain and complies give the same outcome as check.
            let explained = p.validator.explain(&pw, &ctx);
            prop_assert_eq!(explained.is_compliant(), verdict.is_compliant());
            prop_assert_eq!(p.validator.complies(&pw, &ctx), verdict.is_compliant());
        }
    }

    #[test]
    fn artifact_decoder_never_panics_or_accepts_damage(
        which in 0usize..3,
        flips in proptest::collection::vec((any::<usize>(), 1u8..=255), 1..4),
        cut in proptest::option::of(any::<usize>()),
    ) {
        let p = &policies()[which % policies().len()];
        let mut bytes = p.artifact.clone();
        for (at, x) in &flips {
            let i = at % bytes.len();
            bytes[i] ^= x;
        }
        if let Some(c) = cut {
            bytes.truncate(c % bytes.len());
        }
        // Any damage outside the reserved header bytes must be refused.
        let reserved = |i: usize| (12..16).contains(&i) || (56..64).contains(&i);
        let damaged = cut.is_some() || flips.iter().any(|(at, _)| !reserved(at % p.artifact.len()));
        let loaded = Validator::from_bytes(&bytes);
        if damaged {
            prop_assert!(loaded.is_err());
        }
    }

    #[test]
    fn parser_never_panics(text in "(policy|rule|class|when|[a-z{}\\[\\]\"/:=|&()#\n ]|[0-9]|length|only|at least){0,60}") {
        let _ = compile_str("fuzz.policy", &text, &CompileOptions::default());
    }

    #[test]
    fn fold_matches_simple_case_folding(c in any::<char>()) {
        check_fold(c);
    }
}

/// The folding table the compiler ships for policies that compare ignoring case.
fn folds() -> &'static [(u32, u32)] {
    let p = policies().iter().find(|p| p.program.name == "ad_default").unwrap();
    assert!(!p.program.case_folds.is_empty());
    &p.program.case_folds
}

/// Characters that make banned-term matches likely: a tiny alphabet plus Entra's substitutions.
fn term_text(len: std::ops::Range<usize>) -> impl Strategy<Value = String> {
    proptest::collection::vec(
        proptest::sample::select(vec!['a', 'b', 'c', 'A', '0', '1', '$', '@', 's', 'l', 'é', ' ']),
        len,
    )
    .prop_map(|v| v.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// The trie search agrees with brute force over every substring and term, in every mode,
    /// and so does the Entra score, on random lists.
    #[test]
    fn term_matching_agrees_with_brute_force(
        terms in proptest::collection::vec(term_text(1..7), 1..12),
        pw in term_text(0..14),
        given in proptest::option::of(term_text(3..6)),
        tenant in proptest::option::of(term_text(3..7)),
    ) {
        let list: Vec<String> = terms.iter().map(|t| format!("{:?}", t.trim())).filter(|t| t != "\"\"").collect();
        prop_assume!(!list.is_empty());
        let source = format!(
            "policy p {{\n  terms t = [{}]\n  normalization n = lowercase then \"a\" -> \"b\"\n  \
             rule e \"m\" : avoid t exact\n  rule c \"m\" : avoid t contains after entra\n  \
             rule f \"m\" : avoid t fuzzy after n\n  rule s \"m\" : entra score >= 5 using {{ t }}\n}}\n",
            list.join(", ")
        );
        let c = compile_str("prop.policy", &source, &CompileOptions::default()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let v = Validator::from_bytes(&c.artifact).unwrap();
        let mut ctx = Context::new();
        if let Some(g) = given {
            ctx.set(Attribute::GivenName, g);
        }
        if let Some(t) = tenant {
            ctx.set_tenant(t);
        }
        let compiled: Vec<&str> = v.check(&pw, &ctx).violations().iter().map(|x| x.rule()).collect();
        prop_assert_eq!(compiled, reference::violations(&c.program, &pw, &ctx));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// The shipped Entra policy (30,000-term list) against the oracle, on short passwords.
    #[test]
    fn large_lists_agree_with_reference(
        pw in prop_oneof![
            term_text(0..20),
            "(pass|word|love|summer|dragon|[a-z0-9!@$]){1,6}",
        ],
        ctx in user(),
    ) {
        for p in policies().iter().filter(|p| p.program.term_sets.iter().any(|s| s.len() >= 1000)) {
            let compiled: Vec<&str> = p.validator.check(&pw, &ctx).violations().iter().map(|v| v.rule()).collect();
            prop_assert_eq!(compiled, reference::violations(&p.program, &pw, &ctx), "policy {}", p.program.name);
        }
    }
}

fn check_fold(c: char) {
    let fold = |c| Folding::new(folds()).fold(c);
    use regex_syntax::hir::{ClassUnicode, ClassUnicodeRange};
    let mut class = ClassUnicode::new([ClassUnicodeRange::new(c, c)]);
    class.case_fold_simple();
    let orbit: Vec<char> = class.iter().flat_map(|r| r.start()..=r.end()).collect();
    assert!(orbit.contains(&fold(c)), "fold({c:?}) = {:?} is not in {orbit:?}", fold(c));
    for other in orbit {
        assert_eq!(fold(other), fold(c), "{c:?} and {other:?} fold differently");
    }
}

#[test]
fn fold_matches_simple_case_folding_everywhere() {
    for c in (0..=0x10_FFFF).filter_map(char::from_u32) {
        check_fold(c);
    }
}

#[test]
fn formatting_is_idempotent_and_keeps_meaning() {
    let mut files: Vec<String> = ["policies", "tests/policies", "tests/golden/fmt"]
        .iter()
        .filter_map(|d| std::fs::read_dir(d).ok())
        .flatten()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "policy"))
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert!(!files.is_empty());
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let mut sources = policyc_compiler::span::SourceMap::new();
        let id = sources.add(&path, text.clone());
        let Ok(ast) = policyc_compiler::syntax::parse(&text, id) else { continue };
        let once = policyc_compiler::syntax::printer::format(&ast, &text);
        let ast2 = policyc_compiler::syntax::parse(&once, id)
            .unwrap_or_else(|e| panic!("{path}: formatted output does not parse: {e:?}"));
        let twice = policyc_compiler::syntax::printer::format(&ast2, &once);
        assert_eq!(once, twice, "{path}: formatting is not idempotent");
        let comments = |a: &policyc_compiler::syntax::ast::File| {
            a.comments.iter().map(|c| c.text.clone()).collect::<Vec<_>>()
        };
        assert_eq!(comments(&ast), comments(&ast2), "{path}: comments changed");
        // Same meaning: both compile to the same program (or fail alike).
        let names: Vec<String> = ast.policies.iter().map(|p| p.name.value.clone()).collect();
        for name in names {
            let options =
                CompileOptions { policy: Some(name.clone()), ..CompileOptions::default() };
            let a = compile_str(&path, &text, &options).map(|c| c.program).map_err(|_| ());
            let b = compile_str(&path, &once, &options).map(|c| c.program).map_err(|_| ());
            assert_eq!(a, b, "{path}: policy `{name}` means something else after formatting");
        }
    }
}

/// A group DN written the way a person or a server might write it: random case, spaces
/// around separators, `;` for `,`, characters escaped with `\c` or `\HH` (UTF-8).
fn dn_spelling(parts: &[(String, String)], noise: &[u8]) -> String {
    let mut noise = noise.iter().copied().cycle();
    let mut pick = |n: u8| noise.next().unwrap_or(0) % n;
    let mut out = String::new();
    for (i, (ty, value)) in parts.iter().enumerate() {
        if i > 0 {
            out.push_str(&" ".repeat(pick(2) as usize));
            out.push(if pick(4) == 0 { ';' } else { ',' });
            out.push_str(&" ".repeat(pick(2) as usize));
        }
        // Case changes that round-trip only: `ß` does not become `SS`, nor `ı` `I`.
        let flip = |c: char, up: bool| -> Option<char> {
            let mut m =
                if up { c.to_uppercase().collect::<Vec<_>>() } else { c.to_lowercase().collect() };
            (m.len() == 1).then(|| m.remove(0))
        };
        let one = |c: char, up: bool| match flip(c, up) {
            Some(m) if flip(m, !up) == Some(c) || m == c => m,
            _ => c,
        };
        let case = |s: &str, p: u8| {
            s.chars().map(|c| if p < 2 { one(c, p == 0) } else { c }).collect::<String>()
        };
        out.push_str(&case(ty, pick(3)));
        out.push_str(&" ".repeat(pick(2) as usize));
        out.push('=');
        out.push_str(&" ".repeat(pick(2) as usize));
        for c in case(value, pick(3)).chars() {
            let special = ",;+=\\\"<>#".contains(c);
            match pick(5) {
                0 => {
                    let mut buf = [0u8; 4];
                    for b in c.encode_utf8(&mut buf).bytes() {
                        out.push_str(&format!("\\{b:02X}"));
                    }
                }
                1 if !c.is_ascii_hexdigit() => {
                    out.push('\\');
                    out.push(c);
                }
                _ if special => {
                    out.push('\\');
                    out.push(c);
                }
                _ => out.push(c),
            }
        }
    }
    out
}

fn dn_parts() -> impl Strategy<Value = Vec<(String, String)>> {
    let ty = proptest::sample::select(vec!["CN", "OU", "DC", "O"]);
    let value = "[A-Za-z0-9 ,+=éÉßİı日-]{1,8}"
        .prop_map(|v| v.trim().to_string())
        .prop_filter("non-empty", |v| !v.is_empty());
    proptest::collection::vec((ty.prop_map(str::to_string), value), 1..4)
}

fn group_rule(dn: &str) -> Validator {
    let escaped = dn.replace('\\', "\\\\").replace('"', "\\\"");
    let source = format!(
        "policy g {{\n  when user.memberOf has \"{escaped}\" {{\n    rule member \"Members need 64.\" : length >= 64\n  }}\n}}\n"
    );
    let c = compile_str("g.policy", &source, &CompileOptions::default())
        .unwrap_or_else(|e| panic!("{e}\n{source}"));
    Validator::from_bytes(&c.artifact).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// `memberOf` conditions compare DNs as AD does, and the validator agrees with the reference
    /// evaluator's independent DN parser on every spelling, equal or not.
    #[test]
    fn group_dns_compare_as_directory_names(parts in dn_parts(), other in dn_parts(), a in proptest::collection::vec(any::<u8>(), 8..32), b in proptest::collection::vec(any::<u8>(), 8..32)) {
        let policy_dn = dn_spelling(&parts, &a);
        let validator = group_rule(&policy_dn);
        for (member, same) in [(dn_spelling(&parts, &b), true), (dn_spelling(&other, &b), parts.iter().zip(&other).all(|(x, y)| x.0.eq_ignore_ascii_case(&y.0) && x.1.to_lowercase() == y.1.to_lowercase()) && parts.len() == other.len())] {
            let mut ctx = Context::new();
            ctx.add(Attribute::MemberOf, member.clone());
            let applies = !validator.check("short", &ctx).is_compliant();
            let oracle = !reference::violations(validator.program(), "short", &ctx).is_empty();
            prop_assert_eq!(applies, oracle, "validator and reference disagree: {:?} vs {:?}", policy_dn, member);
            if same {
                prop_assert!(applies, "{:?} and {:?} name the same group", policy_dn, member);
            }
        }
    }
}
