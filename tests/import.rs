//! `policyc import`: differential tests against the real library (the golden outputs are in
//! `tests/golden.rs`): the imported policy and libpwquality (Debian's
//! libpwquality1, loaded at run time, reading the same file with `pwquality_read_config`) give
//! the same verdict on every one of 100,000 generated passwords per configuration.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails by panicking"
)]

use policyc::import::{apple, keycloak, passwdqc, pwquality};
use policyc::{CompileOptions, Context, Validator, compile_str};
use std::ffi::{CStr, CString};

/// libpwquality through its C API, shared with the comparison bench.
#[path = "../benches/compare/native.rs"]
#[allow(dead_code, reason = "the bench's loaders with default settings are not used here")]
mod native;

fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// ASCII passwords (no NUL) shaped to reach every check's boundary: random ones of every
/// length around the minimum, palindromes in mixed case, runs of one character, ascending and
/// descending sequences, runs of one class, and few classes.
fn passwords(n: usize, seed: u64, longest: u64) -> Vec<String> {
    let mut s = seed;
    let mut r = move |m: u64| splitmix(&mut s) % m;
    let printable = |x: u64| char::from(b' ' + (x % 95) as u8);
    let classes: [&[u8]; 4] = [
        b"0123456789",
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        b"abcdefghijklmnopqrstuvwxyz",
        b" !#$%&*+-./:;=?@[]^_{}~\t\x7f",
    ];
    (0..n)
        .map(|_| {
            let len = r(longest) as usize;
            let mut pw: String = (0..len)
                .map(|_| {
                    // Mostly from one or two classes, so that class rules are near their edges.
                    let class = classes[r(4) as usize];
                    if r(4) == 0 {
                        printable(r(95))
                    } else {
                        char::from(class[r(class.len() as u64) as usize])
                    }
                })
                .collect();
            match r(11) {
                0 => {
                    // A palindrome, one half upper-cased at random.
                    let back: String = pw.chars().rev().collect();
                    let back = if r(2) == 0 { back.to_ascii_uppercase() } else { back };
                    if r(2) == 0 {
                        pw.push(printable(r(95)))
                    }
                    pw.push_str(&back);
                }
                1 => {
                    // A run of one character.
                    let c = printable(r(95));
                    let at = r(pw.len() as u64 + 1) as usize;
                    pw.insert_str(at, &c.to_string().repeat(1 + r(5) as usize));
                }
                2 => {
                    // An ascending or descending sequence.
                    let start = 0x21 + r(80) as u8;
                    let run: String = (0..1 + r(6) as u8)
                        .map(|i| {
                            char::from(if r(2) == 0 {
                                start + i
                            } else {
                                start.saturating_sub(i).max(0x20)
                            })
                        })
                        .collect();
                    let at = r(pw.len() as u64 + 1) as usize;
                    pw.insert_str(at, &run);
                }
                3 => {
                    // A run of one class.
                    let class = classes[r(4) as usize];
                    let run: String = (0..1 + r(7))
                        .map(|_| char::from(class[r(class.len() as u64) as usize]))
                        .collect();
                    let at = r(pw.len() as u64 + 1) as usize;
                    pw.insert_str(at, &run);
                }
                4 => {
                    // A passphrase: words of letters between separators.
                    pw.clear();
                    for w in 0..1 + r(5) {
                        if w > 0 {
                            pw.push(char::from(b" -.,_1"[r(6) as usize]));
                        }
                        for _ in 0..2 + r(6) {
                            pw.push(char::from(b'a' + r(26) as u8));
                        }
                    }
                }
                5 => {
                    // The common shape: a capital first, a digit last.
                    pw.insert(0, char::from(b'A' + r(26) as u8));
                    pw.push(char::from(b'0' + r(10) as u8));
                }
                6 => {
                    // Few different characters.
                    let unit: String = pw.chars().take(1 + r(3) as usize).collect();
                    pw = unit.repeat(1 + r(12) as usize);
                }
                _ => {}
            }
            pw
        })
        .collect()
}

/// Checks `policy` against `library` (the checker it was imported from, or a model of it) on
/// `all`: every verdict the same, and both sides well represented.
fn agree(name: &str, policy: &str, library: &dyn Fn(&CStr) -> bool, all: &[String]) {
    let compiled = compile_str("imported.policy", policy, &CompileOptions::default()).unwrap();
    let validator = Validator::from_bytes(&compiled.artifact).unwrap();
    let ctx = Context::new();
    let (mut accepted, mut disagreements) = (0usize, Vec::new());
    for pw in all {
        let ours = validator.check(pw, &ctx).violations().is_empty();
        let theirs = library(&CString::new(pw.as_str()).unwrap());
        accepted += usize::from(theirs);
        if ours != theirs {
            disagreements.push(format!("{pw:?}: library {theirs}, policyc {ours}"));
        }
    }
    eprintln!(
        "{name}: {} passwords, the library accepted {accepted}, disagreements {}",
        all.len(),
        disagreements.len()
    );
    assert!(
        disagreements.is_empty(),
        "{name}: {} of {} disagree, e.g.\n{}\npolicy:\n{policy}",
        disagreements.len(),
        all.len(),
        disagreements.iter().take(10).cloned().collect::<Vec<_>>().join("\n")
    );
    assert!(
        accepted > 1_000 && accepted < all.len() - 1_000,
        "{name}: {accepted} accepted: the generator misses one side"
    );
}

/// Configurations covering every option the importer supports, at and around their limits.
const CONFIGS: [(&str, &str); 9] = [
    ("lengths", "minlen = 10\ndictcheck = 0\nusercheck = 0\n"),
    ("floor", "minlen = 3\ndictcheck = 0\nusercheck = 0\n"),
    (
        "required classes",
        "minlen = 8\ndcredit = -2\nucredit = -1\nlcredit = -1\nocredit = -1\ndictcheck = 0\nusercheck = 0\n",
    ),
    ("minclass", "minlen = 6\nminclass = 3\ndictcheck = 0\nusercheck = 0\n"),
    ("runs", "minlen = 6\nmaxrepeat = 2\nmaxsequence = 3\ndictcheck = 0\nusercheck = 0\n"),
    ("class runs", "minlen = 6\nmaxclassrepeat = 3\nminclass = 9\ndictcheck = 0\nusercheck = 0\n"),
    (
        "positive credits",
        "minlen = 12\ndcredit = 2\nucredit = 1\nlcredit = 1\nocredit = 3\ndictcheck = 0\nusercheck = 0\n",
    ),
    (
        "credits of both signs, minclass",
        "minlen = 10\ndcredit = -1\nucredit = 2\nocredit = 1\nminclass = 2\ndictcheck = 0\nusercheck = 0\n",
    ),
    (
        "everything, warn only",
        "minlen = 12\ndcredit = -1\nocredit = -1\nminclass = 4\nmaxrepeat = 1\nmaxsequence = 2\nmaxclassrepeat = 2\nenforcing = 0\ndifok = 3\nretry = 2\ndictcheck = 0\nusercheck = 0\n",
    ),
];

/// Every configuration: 100,000 passwords, the same verdict from libpwquality and from the
/// imported policy (for `enforcing = 0`, the audit rules' findings stand for the warnings).
#[test]
fn imported_pwquality_policies_agree_with_libpwquality() {
    let dir = tempfile::tempdir().unwrap();
    for (i, (name, conf)) in CONFIGS.iter().enumerate() {
        let path = dir.path().join(format!("c{i}.conf"));
        std::fs::write(&path, conf).unwrap();
        let policy = pwquality::import(conf, path.to_str().unwrap(), &[]).unwrap();
        // A machine without libpwquality1 fails here, loudly: scripts/test.sh installs it.
        let library = native::Pwquality::with_config(&path)
            .unwrap_or_else(|e| panic!("libpwquality (apt-get install libpwquality1): {e}"));
        let accepts = library.checker().unwrap();
        agree(name, &policy, &accepts, &passwords(100_000, 0xC0FFEE + i as u64, 20));
    }
}

/// passwdqc configurations covering every option the importer supports; `match=0` in each
/// (the dictionary and personal checks are not imported).
const PASSWDQC_CONFIGS: [(&str, &str); 6] = [
    ("passwdqc defaults", "match=0\n"),
    ("shorter, two-word passphrases", "min=disabled,12,10,8,6\nmatch=0\npassphrase=2\n"),
    (
        "one length for all, no passphrase, a maximum",
        "min=8,8,8,8,8\nmax=16\nmatch=0\npassphrase=0\n",
    ),
    ("two kinds only as a passphrase", "min=disabled,disabled,16,12,10\nmatch=0\npassphrase=4\n"),
    (
        "every branch, one-word passphrase, warn only",
        "min=30,20,12,9,6\nmatch=0\npassphrase=1\nenforce=none\n",
    ),
    (
        "notes and flags",
        "# comment\n  min=disabled,24,11,8,7  \nmax=40\nmatch=0\nsimilar=permit\nrandom=0\nretry=1\nuse_authtok\n",
    ),
];

/// Every passwdqc configuration: 100,000 passwords, the same verdict from passwdqc (Debian's
/// libpasswdqc1, reading the same file with `passwdqc_params_load`) and the imported policy.
#[test]
fn imported_passwdqc_policies_agree_with_passwdqc() {
    let dir = tempfile::tempdir().unwrap();
    for (i, (name, conf)) in PASSWDQC_CONFIGS.iter().enumerate() {
        let path = dir.path().join(format!("q{i}.conf"));
        std::fs::write(&path, conf).unwrap();
        let policy = passwdqc::import(conf, path.to_str().unwrap(), &[]).unwrap();
        // A machine without libpasswdqc1 fails here, loudly: scripts/test.sh installs it.
        let library = native::Passwdqc::with_config(&path)
            .unwrap_or_else(|e| panic!("passwdqc (apt-get install libpasswdqc1): {e}"));
        let accepts = library.checker().unwrap();
        agree(name, &policy, &accepts, &passwords(100_000, 0xBEEF + i as u64, 32));
    }
}

/// Keycloak's password policy providers as their Java code reads (`org.keycloak.policy`): each
/// check over the password's UTF-16 units (`toCharArray`), a surrogate no letter or digit, the
/// `Character` predicates taken from the same Unicode tables policyc uses. Keycloak is a Java
/// server: this model of its code is what the import is held to.
fn keycloak_accepts(policy: &[(&str, u32)], password: &str) -> bool {
    use regex_automata::meta::Regex;
    static CLASSES: std::sync::OnceLock<[Regex; 4]> = std::sync::OnceLock::new();
    let [digit, lower, upper, letter] = CLASSES.get_or_init(|| {
        [r"^\p{Nd}$", r"^\p{Lowercase}$", r"^\p{Uppercase}$", r"^\p{L}$"]
            .map(|p| Regex::new(p).unwrap())
    });
    let units: Vec<u16> = password.encode_utf16().collect();
    let count = |re: &Regex, negate: bool| {
        units
            .iter()
            .filter(|&&u| {
                let is = char::from_u32(u32::from(u))
                    .is_some_and(|c| re.is_match(&*c.encode_utf8(&mut [0; 4])));
                is != negate
            })
            .count() as u32
    };
    policy.iter().all(|&(name, n)| match name {
        "length" => units.len() as u32 >= n,
        "maxLength" => units.len() as u32 <= n,
        "digits" => count(digit, false) >= n,
        "lowerCase" => count(lower, false) >= n,
        "upperCase" => count(upper, false) >= n,
        "specialChars" => {
            let special = units
                .iter()
                .filter(|&&u| {
                    char::from_u32(u32::from(u)).is_none_or(|c| {
                        let s = c.encode_utf8(&mut [0; 4]).to_string();
                        !letter.is_match(&s) && !digit.is_match(&s)
                    })
                })
                .count() as u32;
            special >= n
        }
        _ => unreachable!("{name}"),
    })
}

/// Passwords for the Keycloak model: ASCII, accented and other BMP letters and digits (Arabic-
/// Indic, fullwidth), cased symbols, and characters outside the BMP (emoji, mathematical
/// letters and digits), at lengths around the policies' limits.
fn keycloak_passwords(n: usize, seed: u64) -> Vec<String> {
    let mut s = seed;
    let mut r = move |m: u64| splitmix(&mut s) % m;
    let pool: Vec<char> =
        "aZ9#! éÉßİıǅⅫⓐª٣０Ａ_-😀𝐀𝟘𝔄日".chars().chain((b'!'..=b'~').map(char::from)).collect();
    (0..n).map(|_| (0..r(24)).map(|_| pool[r(pool.len() as u64) as usize]).collect()).collect()
}

/// Imported Keycloak policies give the model's verdict on 100,000 passwords each, non-ASCII and
/// astral characters included.
#[test]
fn imported_keycloak_policies_agree_with_keycloaks_checks() {
    let configs: [&[(&str, u32)]; 3] = [
        &[("length", 12), ("digits", 2), ("lowerCase", 1), ("upperCase", 1), ("specialChars", 2)],
        &[("length", 8), ("maxLength", 16), ("specialChars", 3)],
        &[("digits", 1), ("upperCase", 2), ("lowerCase", 3), ("length", 10)],
    ];
    for (i, config) in configs.iter().enumerate() {
        let text: Vec<String> = config.iter().map(|(name, n)| format!("{name}({n})")).collect();
        let text = text.join(" and ");
        let policy = keycloak::import(&text, "keycloak.txt", &[]).unwrap();
        let model = |pw: &CStr| keycloak_accepts(config, pw.to_str().unwrap());
        agree(&text, &policy, &model, &keycloak_passwords(100_000, 0x5EED + i as u64));
    }
}

/// Apple's password rules: the rules of Apple's own example, each holding and failing where its
/// definition says (`required` one of its classes, `allowed` the union, repeats, UTF-16 lengths).
#[test]
fn imported_apple_rules_check_as_defined() {
    let rules = "minlength: 8; maxlength: 12; required: upper; required: digit; required: [-().&@?'#,/\"+]; allowed: lower; max-consecutive: 2;";
    let policy = apple::import(rules, "apple.txt").unwrap();
    let compiled = compile_str("a.policy", &policy, &CompileOptions::default()).unwrap();
    let validator = Validator::from_bytes(&compiled.artifact).unwrap();
    let ctx = Context::new();
    let fails = |pw: &str| -> Vec<String> {
        validator.check(pw, &ctx).violations().iter().map(|v| v.rule.to_string()).collect()
    };
    assert!(fails("Abc1-defg").is_empty());
    assert_eq!(fails("abc1-defg"), ["required_1"]);
    assert_eq!(fails("Abcx-defgh"), ["required_2"]);
    assert_eq!(fails("Abc1defgh"), ["required_3"]);
    assert_eq!(fails("Abc1-defé"), ["allowed"]);
    assert_eq!(fails("Abc1-deeef"), ["max_consecutive"]);
    assert_eq!(fails("Ab1-d"), ["minlength"]);
    assert_eq!(fails("Abc1-defghijk"), ["maxlength"]);
    // An empty property is no rule, as Apple's parser drops it; a rule it cannot read is an error.
    assert!(apple::import("required: ; minlength: 8", "a.txt").is_ok());
    assert!(apple::import("required: upper lower", "a.txt").is_err());
}
