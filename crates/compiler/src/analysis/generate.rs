//! Random passwords that satisfy every policy given: the documented workaround for a failed
//! sync (a temporary password both on-premises AD and the cloud accept), done right.
//!
//! Characters are drawn uniformly, from the operating system's CSPRNG, from the visible ASCII
//! characters (`!` to `~`) that every policy allows; a candidate is kept only if every
//! validator accepts it. Rejection sampling keeps the result uniform over the compliant
//! passwords of that length and alphabet. When nothing is found, the product search of
//! [`analysis::conflict`](super::conflict) proves, where it can, that nothing
//! exists, and names the rules that conflict.

use policyc_runtime::ir::{Bounds, Predicate, Program, Severity};
use policyc_runtime::{Context, Validator};
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
    /// No password satisfies every policy (proved): these rules conflict.
    #[error("{}", conflict_report(.0))]
    Conflict(Vec<PolicyRule>),
    /// Nothing passed within the attempt budget, and no conflict was proved.
    #[error(
        "no candidate passed every policy in {0} attempts (the last were refused by {1}), \
         though no conflict between the rules was proved: try another length"
    )]
    NotFound(usize, String),
    /// The random source failed.
    #[error("no randomness from the operating system: {0}")]
    Random(String),
}

/// A rule of one of the policies given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyRule {
    /// The policy's name.
    pub policy: String,
    /// The rule's id.
    pub rule: String,
    /// The rule's message.
    pub message: String,
}

fn conflict_report(rules: &[PolicyRule]) -> String {
    let width = rules.iter().map(|r| r.policy.len() + r.rule.len() + 1).max().unwrap_or(0);
    let mut out =
        String::from("no password satisfies every policy given (proved); these rules conflict:");
    for r in rules {
        let name = format!("{}.{}", r.policy, r.rule);
        out.push_str(&format!("\n  {name:width$}  {}", r.message));
    }
    out.push_str("\nrelax one of them, or generate for fewer policies");
    out
}

/// States the search that explains a failure may explore.
const CONFLICT_STATES: usize = 200_000;

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
                        let class = |id: &policyc_runtime::ir::ClassId| {
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

/// Generates passwords every validator accepts for `ctx`, drawing bytes from `random`. Where
/// none is found and no password can exist, the error names the rules that conflict.
pub fn generate(
    validators: &[Validator],
    ctx: &Context,
    options: &GenerateOptions,
    random: &mut dyn FnMut(&mut [u8]) -> Result<(), String>,
) -> Result<Vec<Zeroizing<String>>, GenerateError> {
    let programs: Vec<&Program> = validators.iter().map(Validator::program).collect();
    draw_compliant(validators, &programs, ctx, options, random).map_err(|e| match e {
        GenerateError::EmptyAlphabet | GenerateError::NoLength | GenerateError::NotFound(..) => {
            proved_conflict(&programs, ctx).unwrap_or(e)
        }
        other => other,
    })
}

/// The [`GenerateError::Conflict`] naming the rules that conflict, if the search proves that
/// no password satisfies every policy.
fn proved_conflict(programs: &[&Program], ctx: &Context) -> Option<GenerateError> {
    let rules = super::conflict(programs, ctx, CONFLICT_STATES)?;
    let named = rules.into_iter().map(|(p, r)| PolicyRule {
        policy: p.name.clone(),
        rule: r.id.to_string(),
        message: r.message.clone(),
    });
    Some(GenerateError::Conflict(named.collect()))
}

/// Rejection sampling: candidates drawn uniformly until every validator accepts one.
fn draw_compliant(
    validators: &[Validator],
    programs: &[&Program],
    ctx: &Context,
    options: &GenerateOptions,
    random: &mut dyn FnMut(&mut [u8]) -> Result<(), String>,
) -> Result<Vec<Zeroizing<String>>, GenerateError> {
    let chars = alphabet(programs);
    if chars.is_empty() {
        return Err(GenerateError::EmptyAlphabet);
    }
    let mut bounds = Bounds { min: 0, max: None };
    for p in programs {
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
                        .filter(|x| x.severity() == Severity::Enforce)
                        .map(|x| x.rule().to_string())
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

/// `length` characters drawn uniformly from `chars` (rejection sampling: no modulo bias). The
/// random bytes are fetched a candidate at a time (one system call, not one per character)
/// and wiped after use: they spell the password.
fn draw(
    chars: &[char],
    length: u32,
    random: &mut dyn FnMut(&mut [u8]) -> Result<(), String>,
) -> Result<Zeroizing<String>, GenerateError> {
    let n = chars.len() as u32;
    let limit = u32::MAX - u32::MAX % n;
    let mut s = Zeroizing::new(String::with_capacity(length as usize));
    let mut bytes = Zeroizing::new(vec![0u8; 4 * length as usize]);
    let (mut left, mut drawn) = (0, 0);
    while drawn < length {
        if left == 0 {
            random(&mut bytes).map_err(GenerateError::Random)?;
            left = bytes.len() / 4;
        }
        left -= 1;
        let word = bytes.get(4 * left..4 * left + 4).and_then(|w| <[u8; 4]>::try_from(w).ok());
        let x = word.map_or(u32::MAX, u32::from_le_bytes);
        if x < limit {
            s.push(chars[(x % n) as usize]);
            drawn += 1;
        }
    }
    Ok(s)
}
