//! Random passwords that satisfy every policy given: the documented workaround for a failed
//! sync (a temporary password both on-premises AD and the cloud accept), done right.
//!
//! Characters are drawn uniformly, from the operating system's CSPRNG, from the visible ASCII
//! characters (`!` to `~`) that every policy allows; a candidate is kept only if every
//! validator accepts it. Rejection sampling keeps the result uniform over the compliant
//! passwords of that length and alphabet.

use crate::ir::{Bounds, Predicate, Program, Severity};
use crate::{Context, Validator};
use zeroize::Zeroizing;

/// A seeded xorshift64* source, for output that must reproduce (reports, corpora, tests).
/// Never for real passwords: those come from the operating system's CSPRNG.
#[derive(Debug, Clone)]
pub struct Seeded(u64);

impl Seeded {
    /// A source; the seed 0 is replaced by a fixed non-zero one.
    pub fn new(seed: u64) -> Seeded {
        Seeded(if seed == 0 { 0x9E37_79B9_7F4A_7C15 } else { seed })
    }

    /// The next 64 bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// Fills `buf` (the shape [`generate`] takes its randomness in).
    pub fn fill(&mut self, buf: &mut [u8]) -> Result<(), String> {
        for chunk in buf.chunks_mut(8) {
            let bytes = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
        Ok(())
    }
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct GenerateOptions {
    /// Length in characters (default: 16, or more if a policy requires it).
    pub length: Option<u32>,
    /// How many passwords.
    pub count: usize,
    /// Candidates tried per password before giving up.
    pub max_attempts: usize,
}

impl Default for GenerateOptions {
    fn default() -> GenerateOptions {
        GenerateOptions { length: None, count: 1, max_attempts: 100_000 }
    }
}

/// Why no password could be generated.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum GenerateError {
    /// No visible ASCII character is allowed by every policy.
    #[error("no visible ASCII character is allowed by every policy")]
    EmptyAlphabet,
    /// The requested length is outside what the policies allow.
    #[error("length {length} is outside what the policies allow ({allowed})")]
    Length {
        /// Requested.
        length: u32,
        /// Allowed (intersection of the policies' length rules).
        allowed: String,
    },
    /// The policies' length rules do not overlap.
    #[error("the policies' length rules do not overlap: no password can satisfy all of them")]
    NoLength,
    /// Nothing passed within the attempt budget.
    #[error(
        "no candidate passed every policy in {0} attempts: the policies may conflict (rules: {1})"
    )]
    NotFound(usize, String),
    /// The random source failed.
    #[error("no randomness from the operating system: {0}")]
    Random(String),
}

/// The unconditional enforce length bounds of a program.
fn length_bounds(p: &Program) -> Bounds {
    let mut b = Bounds { min: 0, max: None };
    for r in &p.rules {
        if let (Predicate::Length(l), true, Severity::Enforce) =
            (&r.predicate, r.conditions.is_empty(), r.severity)
        {
            b.min = b.min.max(l.min);
            b.max = match (b.max, l.max) {
                (Some(x), Some(y)) => Some(x.min(y)),
                (x, None) => x,
                (None, y) => y,
            };
        }
    }
    b
}

/// Visible ASCII characters every policy's unconditional `only` and `no` rules allow.
pub fn alphabet(programs: &[&Program]) -> Vec<char> {
    ('!'..='~')
        .filter(|&c| {
            programs.iter().all(|p| {
                p.rules
                    .iter()
                    .filter(|r| r.conditions.is_empty() && r.severity == Severity::Enforce)
                    .all(|r| {
                        let class = |id: &crate::ir::ClassId| {
                            p.classes.get(id.0 as usize).is_some_and(|k| k.contains(c))
                        };
                        match &r.predicate {
                            Predicate::Only(id) => class(id),
                            Predicate::NoneOf(id) => !class(id),
                            _ => true,
                        }
                    })
            })
        })
        .collect()
}

/// Generates passwords every validator accepts for `ctx`, drawing bytes from `random`.
pub fn generate(
    validators: &[Validator],
    ctx: &Context,
    options: &GenerateOptions,
    random: &mut dyn FnMut(&mut [u8]) -> Result<(), String>,
) -> Result<Vec<Zeroizing<String>>, GenerateError> {
    let programs: Vec<&Program> = validators.iter().map(Validator::program).collect();
    let chars = alphabet(&programs);
    if chars.is_empty() {
        return Err(GenerateError::EmptyAlphabet);
    }
    let mut bounds = Bounds { min: 0, max: None };
    for p in &programs {
        let b = length_bounds(p);
        bounds.min = bounds.min.max(b.min);
        bounds.max = match (bounds.max, b.max) {
            (Some(x), Some(y)) => Some(x.min(y)),
            (x, None) => x,
            (None, y) => y,
        };
    }
    if bounds.max.is_some_and(|m| m < bounds.min) {
        return Err(GenerateError::NoLength);
    }
    let length = match options.length {
        Some(l) if !bounds.contains(l) => {
            return Err(GenerateError::Length { length: l, allowed: bounds.to_string() });
        }
        Some(l) => l,
        None => bounds.min.max(16).min(bounds.max.unwrap_or(u32::MAX)),
    };
    let mut out = Vec::with_capacity(options.count);
    let mut last_failures: Vec<String> = Vec::new();
    for _ in 0..options.count {
        let mut found = None;
        for _ in 0..options.max_attempts {
            let candidate = draw(&chars, length, random)?;
            let failing: Vec<String> = validators
                .iter()
                .flat_map(|v| {
                    v.check(&candidate, ctx)
                        .violations()
                        .iter()
                        .filter(|x| x.severity == Severity::Enforce)
                        .map(|x| x.rule.to_string())
                        .collect::<Vec<_>>()
                })
                .collect();
            if failing.is_empty() {
                found = Some(candidate);
                break;
            }
            last_failures = failing;
        }
        match found {
            Some(p) => out.push(p),
            None => {
                return Err(GenerateError::NotFound(
                    options.max_attempts,
                    last_failures.join(", "),
                ));
            }
        }
    }
    Ok(out)
}

/// `length` characters drawn uniformly from `chars` (rejection sampling: no modulo bias).
fn draw(
    chars: &[char],
    length: u32,
    random: &mut dyn FnMut(&mut [u8]) -> Result<(), String>,
) -> Result<Zeroizing<String>, GenerateError> {
    let n = chars.len() as u32;
    let limit = u32::MAX - u32::MAX % n;
    let mut s = Zeroizing::new(String::with_capacity(length as usize));
    let mut buf = [0u8; 4];
    while s.chars().count() < length as usize {
        random(&mut buf).map_err(GenerateError::Random)?;
        let x = u32::from_le_bytes(buf);
        if x < limit {
            s.push(chars[(x % n) as usize]);
        }
    }
    Ok(s)
}
