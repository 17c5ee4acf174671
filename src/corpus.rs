//! A deterministic password corpus for benchmarks (`policyc bench --generate N --seed S`): the
//! same seed gives the same file on every machine. The mix follows the performance anchors
//! (`specs/perf-anchors.md`): common passwords, words with l33t substitutions and digits or
//! years appended, random printable strings, passphrases, non-ASCII entries and long entries of
//! 64 to 256 characters. Words come from the shipped common-password list.

/// xorshift64*: small, fast, and the same everywhere.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator; the seed 0 is replaced by a fixed non-zero one.
    pub fn new(seed: u64) -> Rng {
        Rng(if seed == 0 { 0x9E37_79B9_7F4A_7C15 } else { seed })
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        items.get(self.below(items.len()))
    }
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

/// `n` passwords from `words` (typically the common-password list), deterministic in `seed`.
pub fn generate(words: &[&str], n: usize, seed: u64) -> Vec<String> {
    let mut rng = Rng::new(seed);
    let base: Vec<&str> = words
        .iter()
        .copied()
        .filter(|w| w.len() >= 4 && w.chars().all(|c| c.is_ascii_alphabetic()))
        .collect();
    let word = |rng: &mut Rng| base.get(rng.below(base.len())).copied().unwrap_or("password");
    let printable = |rng: &mut Rng, len: usize| -> String {
        (0..len).map(|_| char::from(b' ' + rng.below(95) as u8)).collect()
    };
    (0..n)
        .map(|_| match rng.below(100) {
            0..15 => words.get(rng.below(words.len())).copied().unwrap_or("123456").to_string(),
            15..30 => word(&mut rng).to_string(),
            30..55 => {
                let mut s: String = word(&mut rng)
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
            55..90 => {
                let len = 6 + rng.below(19);
                printable(&mut rng, len)
            }
            90..93 => (0..2 + rng.below(3)).map(|_| word(&mut rng)).collect::<Vec<_>>().join(" "),
            93..95 => format!(
                "{}{}{}",
                word(&mut rng),
                rng.pick(NON_ASCII).copied().unwrap_or("é"),
                rng.below(1000)
            ),
            _ => {
                let len = 64 + rng.below(193);
                printable(&mut rng, len)
            }
        })
        .collect()
}
