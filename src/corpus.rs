//! A deterministic password corpus for benchmarks (`policyc bench --generate N --seed S`): the
//! same seed gives the same file on every machine. The mix follows the performance anchors
//! (`specs/perf-anchors.md`): common passwords, words with l33t substitutions and digits or
//! years appended, random printable strings, passphrases, non-ASCII entries and long entries of
//! 64 to 256 characters. Words come from the shipped common-password list.

use policyc_compiler::analysis::generate::Seeded;

/// The seed of the published figures (`policyc bench --generate 200000 --seed 20240611`).
pub const SEED: u64 = 20240611;

/// The shipped common-password list (`policies/lists/common-passwords.txt`), comments left
/// out: the words of the corpus and of the benchmarks' term lists.
pub fn common_passwords() -> Vec<&'static str> {
    include_str!("../policies/lists/common-passwords.txt")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .collect()
}

fn pick<'a, T>(rng: &mut Seeded, items: &'a [T]) -> Option<&'a T> {
    items.get(rng.below(items.len()))
}

/// The words of 4+ ASCII letters: the ones worth substituting and joining.
fn alphabetic<'a>(words: &[&'a str]) -> Vec<&'a str> {
    words
        .iter()
        .copied()
        .filter(|w| w.len() >= 4 && w.chars().all(|c| c.is_ascii_alphabetic()))
        .collect()
}

fn word<'a>(rng: &mut Seeded, base: &[&'a str]) -> &'a str {
    base.get(rng.below(base.len())).copied().unwrap_or("password")
}

/// `len` random printable ASCII characters (space included).
fn printable(rng: &mut Seeded, len: usize) -> String {
    (0..len).map(|_| char::from(b' ' + rng.below(95) as u8)).collect()
}

/// A word with l33t substitutions, maybe capitalized, with digits and maybe a symbol appended.
fn leet(rng: &mut Seeded, base: &[&str]) -> String {
    let mut s: String = word(rng, base)
        .chars()
        .map(|c| match LEET.iter().find(|l| l.0 == c.to_ascii_lowercase()) {
            Some((_, subs)) if rng.below(10) < 6 => {
                subs.chars().nth(rng.below(subs.len())).unwrap_or(c)
            }
            _ => c,
        })
        .collect();
    if rng.below(10) < 4 {
        s = s
            .chars()
            .enumerate()
            .map(|(i, c)| if i == 0 { c.to_ascii_uppercase() } else { c })
            .collect();
    }
    for _ in 0..rng.below(5) {
        s.push(char::from(b'0' + rng.below(10) as u8));
    }
    if rng.below(10) < 3 {
        s.push(SYMBOLS.chars().nth(rng.below(SYMBOLS.len())).unwrap_or('!'));
    }
    s
}

const LEET: &[(char, &str)] = &[
    ('a', "@4"),
    ('e', "3"),
    ('i', "1!"),
    ('o', "0"),
    ('s', "$5"),
    ('t', "7"),
    ('l', "1"),
    ('g', "9"),
    ('b', "8"),
];
const NON_ASCII: &[&str] =
    &["é", "è", "ü", "ñ", "ß", "ø", "ç", "€", "£", "日本", "пароль", "😀", "🔒", "👍🏽", "❤️"];
const SYMBOLS: &str = "!@#$%&*?.-_";

/// `n` passwords of exactly `len` characters, deterministic in `seed`: half random printable
/// ASCII, half runs of l33t-substituted words (for per-length timings).
pub fn of_length(words: &[&str], n: usize, len: usize, seed: u64) -> Vec<String> {
    let mut rng = Seeded::new(seed);
    let base = alphabetic(words);
    (0..n)
        .map(|i| {
            if i % 2 == 0 {
                return printable(&mut rng, len);
            }
            let mut s = String::new();
            while s.chars().count() < len {
                s.push_str(&leet(&mut rng, &base));
            }
            s.chars().take(len).collect()
        })
        .collect()
}

/// A list of `n` distinct banned terms for benchmarks: `base` (the shipped common-password
/// list), then `base` again with suffixes (`!`, `1`, `2024`, ...), so every size is realistic
/// and reproducible.
pub fn term_list(base: &[&str], n: usize) -> Vec<String> {
    ["", "!", "1", "2024", "123", "#", "99", "x"]
        .iter()
        .flat_map(|suffix| base.iter().map(move |t| format!("{t}{suffix}")))
        .take(n)
        .collect()
}

/// `n` passwords from `words` (typically the common-password list), deterministic in `seed`.
pub fn generate(words: &[&str], n: usize, seed: u64) -> Vec<String> {
    let mut rng = Seeded::new(seed);
    let base = alphabetic(words);
    (0..n)
        .map(|_| match rng.below(100) {
            0..15 => words.get(rng.below(words.len())).copied().unwrap_or("123456").to_string(),
            15..30 => word(&mut rng, &base).to_string(),
            30..55 => leet(&mut rng, &base),
            55..90 => {
                let len = 6 + rng.below(19);
                printable(&mut rng, len)
            }
            90..93 => {
                (0..2 + rng.below(3)).map(|_| word(&mut rng, &base)).collect::<Vec<_>>().join(" ")
            }
            93..95 => format!(
                "{}{}{}",
                word(&mut rng, &base),
                pick(&mut rng, NON_ASCII).copied().unwrap_or("é"),
                rng.below(1000)
            ),
            _ => {
                let len = 64 + rng.below(193);
                printable(&mut rng, len)
            }
        })
        .collect()
}

/// The worst case known for the Entra score (issue 25): as banned terms, every string of `a` and
/// `b` of 3 to 12 characters (8,184 terms); as the password, 4,096 `a`s and `b`s (xorshift). Every
/// position of the password starts hundreds of candidates; the evaluation's step budget bounds
/// the work (benches/terms.rs measures it, tests/limits.rs checks it fails closed).
pub fn entra_worst_case() -> (Vec<String>, String) {
    let mut terms = Vec::new();
    for len in 3..=12u32 {
        for bits in 0..(1u32 << len) {
            terms.push((0..len).map(|i| if bits >> i & 1 == 1 { 'b' } else { 'a' }).collect());
        }
    }
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let password = (0..4096)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            if x & 1 == 1 { 'b' } else { 'a' }
        })
        .collect();
    (terms, password)
}
