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

use policyc::{CompileOptions, Context, Validator, compile_str};
use policyc_import::{apple, keycloak, passwdqc, ppm, pwquality};
use policyc_runtime::ir::Attribute;
use std::ffi::{CStr, CString};

/// The real peers the tests call: ppm.c, compiled by the test.
mod peers {
    pub mod ppm;
}

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

/// Characters outside ASCII whose UTF-8 bytes reach the byte-counting checks' edges: two-,
/// three- and four-byte ones, `₂` (e2 82 82, a repeated byte), `₃` and U+10452 (f0 90 91 92,
/// consecutive bytes), U+1F7DF (f0 9f 9f 9f), letters that case-fold (`É`, `ß`, `İ`).
const WIDE: [char; 16] = [
    'é',
    'É',
    'ß',
    'Ω',
    'İ',
    '€',
    '₂',
    '₃',
    '日',
    '\u{a0}',
    '😀',
    '\u{10452}',
    '\u{1F7DF}',
    'ç',
    '°',
    '\u{7FF}',
];

/// [`passwords`] with characters outside ASCII mixed in: one, a few, runs of them, a
/// character repeated, and palindromes around them.
fn wide_passwords(n: usize, seed: u64, longest: u64) -> Vec<String> {
    let mut s = seed ^ 0x5717_DE00;
    let mut r = move |m: u64| splitmix(&mut s) % m;
    passwords(n, seed, longest)
        .into_iter()
        .map(|pw| {
            let mut chars: Vec<char> = pw.chars().collect();
            let wide = WIDE[r(WIDE.len() as u64) as usize];
            let at = r(chars.len() as u64 + 1) as usize;
            match r(5) {
                0 => chars.insert(at, wide),
                1 => chars
                    .splice(at..at, std::iter::repeat_n(wide, 1 + r(4) as usize))
                    .for_each(drop),
                2 => {
                    let run: Vec<char> =
                        (0..1 + r(4)).map(|_| WIDE[r(WIDE.len() as u64) as usize]).collect();
                    chars.splice(at..at, run).for_each(drop);
                }
                3 => {
                    // A palindrome around a wide character (never one byte by byte).
                    let back: Vec<char> = chars.iter().rev().copied().collect();
                    chars.push(wide);
                    chars.extend(back);
                }
                _ => {
                    for _ in 0..1 + r(3) {
                        let at = r(chars.len() as u64 + 1) as usize;
                        chars.insert(at, WIDE[r(WIDE.len() as u64) as usize]);
                    }
                }
            }
            chars.into_iter().collect()
        })
        .collect()
}

/// Checks `policy` against `library` (the checker it was imported from, or a model of it) on
/// `all`: every verdict the same, and both sides well represented.
fn agree(name: &str, policy: &str, library: &dyn Fn(&CStr) -> bool, all: &[String]) {
    agree_for(name, policy, &Context::new(), library, all);
}

/// [`agree`] for a user: `ctx` holds the attributes both sides check.
fn agree_for(
    name: &str,
    policy: &str,
    ctx: &Context,
    library: &dyn Fn(&CStr) -> bool,
    all: &[String],
) {
    let compiled = compile_str("imported.policy", policy, &CompileOptions::default()).unwrap();
    let validator = Validator::from_bytes(&compiled.artifact).unwrap();
    let (mut accepted, mut disagreements) = (0usize, Vec::new());
    for pw in all {
        let ours = validator.check(pw, ctx).violations().is_empty();
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
    let margin = (all.len() / 20).min(1_000);
    assert!(
        accepted > margin && accepted < all.len() - margin,
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

/// Every configuration: 100,000 ASCII passwords and 100,000 with characters outside ASCII, the
/// same verdict from libpwquality and from the imported policy (for `enforcing = 0`, the audit
/// rules' findings stand for the warnings).
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
        let wide = format!("{name}, outside ASCII");
        agree(&wide, &policy, &accepts, &wide_passwords(100_000, 0xC0FFEE + i as u64, 20));
    }
}

/// `base` with words mixed into half of them, as users put them: forwards or backwards, in any
/// case, whole or one character changed, dropped or doubled (near misses), `ss` written `ß`.
fn with_words(base: Vec<String>, seed: u64, words: &[&str]) -> Vec<String> {
    let mut s = seed ^ 0x00A7_0D5E;
    let mut r = move |m: u64| splitmix(&mut s) % m;
    base.into_iter()
        .map(|pw| {
            if words.is_empty() || r(2) == 0 {
                return pw;
            }
            let word = words[r(words.len() as u64) as usize];
            let mut w: Vec<char> = match r(3) {
                0 => word.chars().rev().collect(),
                _ => word.chars().collect(),
            };
            for c in w.iter_mut() {
                if r(3) == 0 {
                    *c = c.to_ascii_uppercase();
                }
            }
            let at = r(w.len() as u64) as usize;
            match r(8) {
                0 => w[at] = char::from(b'a' + r(26) as u8),
                1 => drop(w.remove(at)),
                2 => w.insert(at, w[at]),
                3 => {
                    let text: String = w.iter().collect();
                    w = text.replace("ss", "ß").replace("SS", "ß").chars().collect();
                }
                _ => {}
            }
            let mut chars: Vec<char> = pw.chars().collect();
            let at = r(chars.len() as u64 + 1) as usize;
            chars.splice(at..at, w).for_each(drop);
            chars.into_iter().collect()
        })
        .collect()
}

/// Configurations with bad words (`badwords`, libpwquality's `wordcheck`), from hardening
/// guides and the distribution's defaults, none used above: name, file.
const WORD_CONFIGS: [(&str, &str); 4] = [
    (
        "CIS benchmark",
        "minlen = 14\nminclass = 4\nmaxrepeat = 3\nmaxsequence = 3\ndictcheck = 0\nusercheck = 0\nenforce_for_root\nbadwords = Contoso acme Summer2024\n",
    ),
    (
        "distribution default, difok 0",
        "dictcheck = 0\nusercheck = 0\ndifok = 0\nbadwords = Contoso  acme ab pa55word\n",
    ),
    (
        "DISA STIG, difok 1",
        "ucredit = -1\nlcredit = -1\ndcredit = -1\nocredit = -1\nminlen = 15\nminclass = 4\nmaxrepeat = 3\nmaxclassrepeat = 4\ndictcheck = 0\nusercheck = 0\ndifok = 1\nbadwords = Summer2024 administrator\n",
    ),
    (
        "doubled letters",
        "minlen = 6\nbadwords = Ross summer2024 aabbcc\nusercheck = 0\ndictcheck = 0\n",
    ),
];

/// `badwords` imported exactly (libpwquality 1.4: each word of 4 bytes or more, lower-cased,
/// forwards or backwards, in the lower-cased password, or the whole password the word up to
/// repeated characters): 20,000 ASCII passwords and 20,000 with characters outside ASCII per
/// configuration, half of them holding a bad word as users write it (near misses included), the
/// same verdict from libpwquality.
#[test]
fn imported_bad_words_agree_with_libpwquality() {
    let dir = tempfile::tempdir().unwrap();
    for (i, (name, conf)) in WORD_CONFIGS.iter().enumerate() {
        let path = dir.path().join(format!("w{i}.conf"));
        std::fs::write(&path, conf).unwrap();
        let policy = pwquality::import(conf, path.to_str().unwrap(), &[]).unwrap();
        assert!(policy.contains("rule badwords"), "{policy}");
        let library = native::Pwquality::with_config(&path)
            .unwrap_or_else(|e| panic!("libpwquality (apt-get install libpwquality1): {e}"));
        let accepts = library.checker().unwrap();
        let words = ["Contoso", "acme", "Summer2024", "pa55word", "Ross", "ab", "aabbcc"];
        let seed = 0xBAD_0000 + i as u64;
        let ascii = with_words(passwords(20_000, seed, 24), seed, &words);
        agree(name, &policy, &accepts, &ascii);
        let wide = with_words(wide_passwords(20_000, seed, 24), seed, &words);
        agree(&format!("{name}, outside ASCII"), &policy, &accepts, &wide);
    }
}

/// Configurations that look for the user name (`usercheck`, on by default), from hardening
/// guides and the distribution's defaults, none used above: name, file, user. DISA STIG's
/// `difok = 8` and a `difok = 3`: libpwquality 1.4.5 compares its distance with its default
/// difok whatever the file sets.
const USER_CONFIGS: [(&str, &str, &str); 5] = [
    (
        "CIS benchmark",
        "minlen = 14\nminclass = 4\nmaxrepeat = 3\nmaxsequence = 3\ndictcheck = 0\nenforce_for_root\n",
        "jsmith",
    ),
    ("distribution default", "dictcheck = 0\n", "alice"),
    (
        "DISA STIG",
        "ucredit = -1\nlcredit = -1\ndcredit = -1\nocredit = -1\nminlen = 15\nminclass = 4\nmaxrepeat = 3\nmaxclassrepeat = 4\ndictcheck = 0\ndifok = 8\n",
        "administrator",
    ),
    ("difok 3, a short minimum", "minlen = 6\ndifok = 3\ndictcheck = 0\n", "summer2024"),
    (
        "difok 0, usersubstr under 4",
        "minlen = 8\nusersubstr = 3\ndifok = 0\ndictcheck = 0\n",
        "Ross",
    ),
];

/// `usercheck` imported exactly (libpwquality 1.4: the name lower-cased, forwards or backwards,
/// in the lower-cased password, or the whole password 0 of its steps from it): 20,000 ASCII passwords and 20,000 with characters outside ASCII per configuration, half
/// of them holding the user name as users write it (near misses, `ss` as `ß`), the same verdict
/// from libpwquality called with that user.
#[test]
fn imported_user_checks_agree_with_libpwquality() {
    let dir = tempfile::tempdir().unwrap();
    for (i, (name, conf, user)) in USER_CONFIGS.iter().enumerate() {
        let path = dir.path().join(format!("u{i}.conf"));
        std::fs::write(&path, conf).unwrap();
        let policy = pwquality::import(conf, path.to_str().unwrap(), &[]).unwrap();
        assert!(policy.contains("rule usercheck"), "{policy}");
        let library = native::Pwquality::with_config(&path)
            .unwrap_or_else(|e| panic!("libpwquality (apt-get install libpwquality1): {e}"));
        let accepts = library.checker_for(Some(CString::new(*user).unwrap())).unwrap();
        let ctx = Context::new().with(Attribute::SamAccountName, *user);
        let seed = 0x05E2_0000 + i as u64;
        let ascii = with_words(passwords(20_000, seed, 24), seed, &[user]);
        agree_for(name, &policy, &ctx, &accepts, &ascii);
        let wide = with_words(wide_passwords(20_000, seed, 24), seed, &[user]);
        agree_for(&format!("{name}, outside ASCII"), &policy, &ctx, &accepts, &wide);
    }
}

/// What policyc cannot express is refused, naming the reason, rather than imported looser:
/// `usersubstr` of 4 or more (pieces of the name), a bad word outside ASCII (reversed byte by
/// byte).
#[test]
fn pwquality_checks_policyc_cannot_express_are_refused_with_the_reason() {
    let pieces = "usersubstr = 5\ndictcheck = 0\n";
    let e = pwquality::import(pieces, "pieces.conf", &[]).unwrap_err().to_string();
    assert!(e.contains("`usersubstr`") && e.contains("5-character piece"), "{e}");
    let wide = "badwords = école\ndictcheck = 0\nusercheck = 0\n";
    let e = pwquality::import(wide, "wide.conf", &[]).unwrap_err().to_string();
    assert!(e.contains("`badwords`") && e.contains("not ASCII"), "{e}");
}

/// passwdqc configurations covering every option the importer supports; `match=0` in each
/// (the dictionary and personal checks are not imported).
const PASSWDQC_CONFIGS: [(&str, &str); 8] = [
    // Held out from the exports' tests: a hardening guide's (14 characters of three kinds or
    // more, no passphrase) and a long-passphrase configuration.
    (
        "hardening guide, three kinds",
        "min=disabled,disabled,disabled,14,14\nmax=64\nmatch=0\npassphrase=0\nsimilar=deny\n",
    ),
    ("long passphrases", "min=disabled,24,20,12,10\nmatch=0\npassphrase=5\nmax=128\n"),
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

/// Every passwdqc configuration: 100,000 ASCII passwords, the same verdict from passwdqc
/// (Debian's libpasswdqc1, reading the same file with `passwdqc_params_load`) and the imported
/// policy; and 100,000 with characters outside ASCII, which passwdqc counts as a kind of their
/// own in some cases and as word starts after a space.
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
        let wide = format!("{name}, outside ASCII");
        agree(&wide, &policy, &accepts, &wide_passwords(100_000, 0xBEEF + i as u64, 32));
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
    let configs: [&[(&str, u32)]; 5] = [
        &[("length", 12), ("digits", 2), ("lowerCase", 1), ("upperCase", 1), ("specialChars", 2)],
        &[("length", 8), ("maxLength", 16), ("specialChars", 3)],
        &[("digits", 1), ("upperCase", 2), ("lowerCase", 3), ("length", 10)],
        // Repeated: Keycloak keeps the last value (its `PasswordPolicy.parse` fills a map).
        &[("length", 20), ("digits", 3), ("length", 9), ("upperCase", 1)],
        &[("maxLength", 12), ("specialChars", 1), ("maxLength", 40), ("lowerCase", 2)],
    ];
    for (i, config) in configs.iter().enumerate() {
        let text: Vec<String> = config.iter().map(|(name, n)| format!("{name}({n})")).collect();
        let text = text.join(" and ");
        let policy = keycloak::import(&text, "keycloak.txt", &[]).unwrap();
        // The model as Keycloak reads the string: each policy's last value.
        let last: Vec<(&str, u32)> = config
            .iter()
            .enumerate()
            .filter(|(i, (name, _))| !config[i + 1..].iter().any(|(n, _)| n == name))
            .map(|(_, p)| *p)
            .collect();
        let model = |pw: &CStr| keycloak_accepts(&last, pw.to_str().unwrap());
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
        validator.check(pw, &ctx).violations().iter().map(|v| v.rule().to_string()).collect()
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

#[derive(Clone)]
/// A ppm configuration, as the model reads it (independently of the importer's reader).
struct PpmConfig {
    min_quality: i64,
    /// Name, characters, MIN, MINFORPOINT, MAX.
    classes: Vec<(&'static str, &'static str, i64, i64, i64)>,
    forbidden: &'static str,
    max_run: i64,
    check_rdn: bool,
    /// `checkAttributes` (LDAP names the model looks up in the user's values).
    attributes: &'static str,
}

impl PpmConfig {
    /// The configuration text ppm reads.
    fn text(&self) -> String {
        let mut t = format!(
            "minQuality {}\ncheckRDN {}\nmaxConsecutivePerClass {}\n",
            self.min_quality,
            u8::from(self.check_rdn),
            self.max_run
        );
        if !self.forbidden.is_empty() {
            t.push_str(&format!("forbiddenChars {}\n", self.forbidden));
        }
        if !self.attributes.is_empty() {
            t.push_str(&format!("checkAttributes {}\n", self.attributes));
        }
        for (name, chars, min, point, max) in &self.classes {
            t.push_str(&format!("class-{name} {chars} {min} {point} {max}\n"));
        }
        t
    }
}

/// ppm's `check_password` (ppm.c), over units: the password's and the configuration's bytes,
/// as ppm runs, or their characters (`bytes` false), as the imported policy reads them. `rdn`
/// is the value of the entry's RDN; `values` the checked attributes' values.
fn ppm_accepts(c: &PpmConfig, password: &str, rdn: &str, values: &[&str], bytes: bool) -> bool {
    let units = |s: &str| -> Vec<u32> {
        match bytes {
            true => s.bytes().map(u32::from).collect(),
            false => s.chars().map(u32::from).collect(),
        }
    };
    let pw = units(password);
    let count = |class: &[u32]| pw.iter().filter(|u| class.contains(u)).count() as i64;
    // ppm's four classes stay unless the configuration sets them again.
    let defaults = [
        ("upperCase", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", 0, 1, 0),
        ("lowerCase", "abcdefghijklmnopqrstuvwxyz", 0, 1, 0),
        ("digit", "0123456789", 0, 1, 0),
        ("special", "<>,?;.:/!§ù%*µ^¨$£²&é~\"#'{([-|è`_\\ç^à@)]°=}+", 0, 1, 0),
    ];
    let unset = defaults.iter().filter(|d| c.classes.iter().all(|k| k.0 != d.0));
    let classes: Vec<(Vec<u32>, i64, i64, i64)> = unset
        .chain(&c.classes)
        .map(|&(_, chars, min, point, max)| (units(chars), min, point, max))
        .collect();
    let quality = classes.iter().filter(|(cl, _, point, _)| count(cl) >= *point).count() as i64;
    if quality < c.min_quality {
        return false;
    }
    if classes.iter().any(|(cl, min, _, _)| count(cl) < *min) {
        return false;
    }
    if classes.iter().any(|(cl, _, _, max)| *max != 0 && count(cl) > *max) {
        return false;
    }
    let forbidden = units(c.forbidden);
    if pw.iter().any(|u| forbidden.contains(u)) {
        return false;
    }
    if c.max_run != 0 {
        for (cl, ..) in &classes {
            let (mut run, mut best) = (0i64, 0i64);
            for u in &pw {
                run = if cl.contains(u) { run + 1 } else { 0 };
                best = best.max(run);
            }
            if best > c.max_run {
                return false;
            }
        }
    }
    // Tokens longer than 2 units, found ignoring (ASCII) case: regcomp(REG_ICASE) in C.
    let contains_token = |value: &str, delimiters: &str| {
        let delims = units(delimiters);
        let v = units(value);
        let lower = |u: &u32| char::from_u32(*u).map_or(*u, |c| c.to_ascii_lowercase() as u32);
        let hay: Vec<u32> = pw.iter().map(lower).collect();
        v.split(|u| delims.contains(u)).filter(|t| t.len() > 2).any(|t| {
            let t: Vec<u32> = t.iter().map(lower).collect();
            hay.windows(t.len()).any(|w| w == t.as_slice())
        })
    };
    if c.check_rdn && contains_token(rdn, " ,;-_£\t") {
        return false;
    }
    !values.iter().any(|v| contains_token(v, " ,;-_@\t"))
}

/// Passwords for the ppm model: ASCII of every class and runs of one class, with (`wide`) the
/// configuration's non-ASCII members and other accented letters mixed in, and the user's tokens.
fn ppm_passwords(n: usize, seed: u64, tokens: &[&str], wide: bool) -> Vec<String> {
    let mut s = seed;
    let mut r = move |m: u64| splitmix(&mut s) % m;
    let mut pool: Vec<char> = (b'!'..=b'~').map(char::from).collect();
    if wide {
        pool.extend("éèàùç§£°²µñÉ€".chars());
    }
    let runs = ["ABCDEFGH", "abcdefgh", "01234567", ".;.;.;.;"];
    (0..n)
        .map(|_| {
            let mut pw: String = (0..r(26)).map(|_| pool[r(pool.len() as u64) as usize]).collect();
            match r(6) {
                0 => {
                    let run = runs[r(4) as usize];
                    let at = r(pw.len() as u64 + 1) as usize;
                    let at = pw.char_indices().nth(at).map_or(pw.len(), |(i, _)| i);
                    pw.insert_str(at, &run[..1 + r(run.len() as u64) as usize]);
                }
                1 if !tokens.is_empty() => {
                    let t = tokens[r(tokens.len() as u64) as usize];
                    let t = if r(2) == 0 { t.to_ascii_uppercase() } else { t.to_string() };
                    let n = t.chars().count() as u64;
                    pw.extend(t.chars().take(1 + r(n.max(1)) as usize));
                }
                _ => {}
            }
            pw
        })
        .collect()
}

/// Whether ppm's walk over `values` (the checked attributes' values, in the entry's order,
/// split as `checkAttributes` splits them) meets a token it cannot compile before one it finds
/// in `password`.
fn stops_first(values: &[&str], password: &str) -> bool {
    use policyc_runtime::runtime::posix::{Search, search};
    for v in values {
        for t in v.as_bytes().split(|b| b" ,;-_@\t".contains(b)).filter(|t| t.len() > 2) {
            match search(t, password.as_bytes()) {
                Search::Invalid => return true,
                Search::Found | Search::Unsupported => return false,
                Search::NotFound => {}
            }
        }
    }
    false
}

/// The user names the ppm tests give the entry's RDN: what the held-out check found (`j.smith`,
/// where ppm's `.` matches any character; `ab[cd`, which ppm cannot compile and so stops
/// looking), other regular-expression characters, ppm's delimiters, a name too short to check,
/// a non-ASCII one. Each is the RDN value as slapd normalizes it (lower case), none needing a
/// DN escape.
const PPM_USERS: [&str; 7] =
    ["j.smith", "ab[cd", "mary-ann.o'hara", "de^x*y.q", "jean_luc.picard", "li", "josé.garcía"];

/// The real ppm.c (OpenLDAP 2.6.10's, compiled by the test: `tests/peers/ppm.rs`) and the
/// imported policies give the same verdict on 21,000 ASCII passwords per configuration (ppm's
/// three unit-test configurations and four of the project's, 3,000 for each user of
/// [`PPM_USERS`] as the RDN and attributes), a sixth of them holding the user's tokens as users
/// write them; on 21,000 passwords with characters outside ASCII they differ only where ppm
/// counts a class's bytes (the import counts characters, what the configuration means): each
/// such password is one where ppm over bytes and ppm over characters disagree.
#[test]
fn imported_ppm_configurations_agree_with_the_real_ppm() {
    let real = peers::ppm::Ppm::build().unwrap_or_else(|e| panic!("ppm.c: {e}"));
    let special = "<>,?;.:/!§ù%*µ^¨$£²&é~\"#'{([-|è`_\\ç^à@)]°=}+";
    let four = |min: i64, point: i64, max: i64| {
        vec![
            ("upperCase", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", min, point, max),
            ("lowerCase", "abcdefghijklmnopqrstuvwxyz", min, point, max),
            ("digit", "0123456789", min, point, max),
            ("special", special, 0, point, max),
        ]
    };
    let configs = [
        // ppm's unit-test configurations 1 to 3 (unit_tests.sh).
        PpmConfig {
            min_quality: 3,
            classes: four(0, 1, 0),
            forbidden: "",
            max_run: 0,
            check_rdn: false,
            attributes: "",
        },
        PpmConfig {
            min_quality: 3,
            classes: four(2, 4, 10),
            forbidden: "à",
            max_run: 5,
            check_rdn: false,
            attributes: "",
        },
        PpmConfig {
            min_quality: 3,
            classes: four(0, 1, 0),
            forbidden: "",
            max_run: 0,
            check_rdn: true,
            attributes: "",
        },
        // Smaller limits, so that each side is well represented, and attributes.
        PpmConfig {
            min_quality: 2,
            classes: four(1, 2, 6),
            forbidden: "#%",
            max_run: 3,
            check_rdn: true,
            attributes: "mail,givenName",
        },
        PpmConfig {
            min_quality: 2,
            classes: vec![
                ("hex", "0123456789abcdef", 0, 0, 0),
                ("upperCase", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", 1, 2, 0),
                ("digit", "0123456789", 0, 3, 8),
            ],
            forbidden: "",
            max_run: 4,
            check_rdn: false,
            attributes: "uid",
        },
        PpmConfig {
            min_quality: 1,
            classes: four(0, 1, 0),
            forbidden: "",
            max_run: 0,
            check_rdn: true,
            attributes: "uid,sn",
        },
        PpmConfig {
            min_quality: 2,
            classes: four(0, 1, 0),
            forbidden: "",
            max_run: 2,
            check_rdn: true,
            attributes: "",
        },
    ];
    let (mut passwords, mut explained, mut stopped) = (0usize, 0usize, 0usize);
    for (i, config) in configs.iter().enumerate() {
        let text = config.text();
        let policy = ppm::import(&text, "ppm.conf", &[]).unwrap();
        let compiled = compile_str("imported.policy", &policy, &CompileOptions::default()).unwrap();
        let validator = Validator::from_bytes(&compiled.artifact).unwrap();
        let classes_only = PpmConfig { check_rdn: false, attributes: "", ..config.clone() };
        for (u, uid) in PPM_USERS.iter().enumerate() {
            let (mail, given, sn) = (format!("{uid}@example.com"), "Jonathan", "O'Hara-Smith");
            let ctx = Context::new()
                .with(Attribute::SamAccountName, *uid)
                .with(Attribute::Mail, mail.as_str())
                .with(Attribute::GivenName, given)
                .with(Attribute::Surname, sn);
            let dn = format!("uid={uid},ou=people,dc=example,dc=com");
            let entry: [(&str, &[&str]); 4] =
                [("uid", &[uid]), ("mail", &[&mail]), ("givenName", &[given]), ("sn", &[sn])];
            let theirs = |pw: &CStr| real.accepts(&text, pw.to_str().unwrap(), &dn, &entry);
            // The user's tokens, and each with its dots as other characters (`.` matches any).
            let mut tokens: Vec<String> = Vec::new();
            for t in
                uid.split([' ', ',', ';', '-', '_', '£', '\t', '@', '.']).chain([*uid, given, sn])
            {
                tokens.push(t.to_string());
                tokens.push(t.replace('.', "_"));
            }
            let tokens: Vec<&str> = tokens.iter().map(String::as_str).collect();
            let name = format!("ppm configuration {}, uid {uid}", i + 1);
            let seed = 0x99_00 + (i * 16 + u) as u64;
            let checked_names: Vec<&str> = config.attributes.split(',').collect();
            let checked = checked_names.as_slice();
            let ascii = ppm_passwords(3_000, seed, &tokens, false);
            let wide = ppm_passwords(3_000, seed ^ 0x77, &tokens, true);
            let mut accepted = 0;
            for pw in ascii.iter().chain(&wide) {
                let ours = validator.check(pw, &ctx).violations().is_empty();
                let c = CString::new(pw.as_str()).unwrap();
                let ppm_says = theirs(&c);
                accepted += usize::from(ppm_says);
                passwords += 1;
                if ours == ppm_says {
                    continue;
                }
                // Only beyond ASCII (a password, or the user's token in it), and only where
                // ppm counts a class's bytes: its class, forbidden-character and run checks
                // over bytes and over characters disagree.
                let bytes = ppm_accepts(&classes_only, pw, uid, &[], true);
                let chars = ppm_accepts(&classes_only, pw, uid, &[], false);
                if !pw.is_ascii() && bytes != chars {
                    explained += 1;
                    continue;
                }
                // Or ppm stopped at a token it could not compile in an attribute the entry
                // holds before the one whose token policyc found (one rule per attribute: the
                // entry's order is slapd's, not the policy's).
                let walk: Vec<&str> = entry
                    .iter()
                    .filter(|(n, _)| checked.contains(n))
                    .flat_map(|(_, v)| v.iter().copied())
                    .collect();
                assert!(
                    ppm_says && !ours && stops_first(&walk, pw),
                    "{name}: {pw:?}: ppm {ppm_says}, policyc {ours}, neither ppm's byte counting nor its stop\npolicy:\n{policy}"
                );
                stopped += 1;
            }
            let all = ascii.len() + wide.len();
            assert!(
                accepted > all / 50 && accepted < all - all / 50,
                "{name}: {accepted} of {all} accepted"
            );
        }
    }
    eprintln!(
        "ppm.c: {passwords} passwords, every verdict the same but {explained} non-ASCII ones where ppm counts a class's bytes and {stopped} where ppm stopped at an earlier attribute's token it could not compile"
    );
}

/// ppm's own unit tests (ltb-project/ppm unit_tests.sh): its 18 vectors over its three
/// configurations, through the imported policies.
#[test]
fn ppm_unit_test_vectors_hold_through_the_import() {
    let conf = |name: &str| {
        std::fs::read_to_string(format!("tests/golden/import/ppm/{name}.conf")).unwrap()
    };
    let cases: [(&str, &str, &str, bool); 18] = [
        ("quality", "test", "azerty", false),
        ("quality", "test", "azeRTY", false),
        ("quality", "test", "azeRTY123", true),
        ("quality", "test", "azeRTY.", true),
        ("limits", "test", "AAaaa01AAaaa01AAaaa0", true),
        ("limits", "test", "AAaaa01AAaaa01AAaaaà", false),
        ("limits", "test", "AAaaa01AAaaa01AAAAAA", false),
        ("limits", "test", "Aaaaa01aaaaa01aa.;.;", false),
        ("limits", "test", "aaAAA01BB0123AAA.;.;", false),
        ("limits", "test", "1AAAA.;BBB.;.;AA.;.;", false),
        ("limits", "test", "AAaaaBBBBaaa01AAaaaa", false),
        ("limits", "test", "AAaa01AAaa01AA..AA..AAAA", false),
        ("limits", "test", "AAaaa01AAaaa01AAaaa0aaaa", false),
        ("limits", "test", "AA11aa11AA11aa11..11..11", false),
        ("limits", "test", "AA..aa..11..AA..aa..11..", false),
        ("rdn", "User_Password10-test", "Password10", false),
        ("rdn", "User_Passw0rd-test", "Password10", true),
        ("rdn", "User-Pw-Test", "Password10", true),
    ];
    for (config, uid, password, pass) in cases {
        let policy = ppm::import(&conf(config), &format!("{config}.conf"), &[]).unwrap();
        let compiled = compile_str("ppm.policy", &policy, &CompileOptions::default()).unwrap();
        let v = Validator::from_bytes(&compiled.artifact).unwrap();
        let ctx = Context::new().with(Attribute::SamAccountName, uid);
        let verdict = v.check(password, &ctx);
        assert_eq!(
            verdict.is_compliant(),
            pass,
            "{config} uid={uid}: {password}: {:?}",
            verdict.violations()
        );
    }
}
