//! Checking an export against its policy: the checker's configuration imported back with the
//! importer of the same checker, and `diff` both ways, for an example user. The notes' fidelity
//! comes from there, each difference with its witness password.

use super::{Fidelity, RuleNote};
use crate::ImportError;
use policyc_compiler::analysis::generate::{GenerateOptions, Seeded, generate};
use policyc_compiler::analysis::{DiffLimits, Direction, diff};
use policyc_compiler::{CompileOptions, compile_str};
use policyc_runtime::ir::{Attribute, Program, Rule, RuleId, Severity};
use policyc_runtime::{Context, Validator};

/// The user the witnesses are found for (rules about names need one).
pub const EXAMPLE_USER: [(Attribute, &str); 6] = [
    (Attribute::SamAccountName, "jsmith"),
    (Attribute::UserPrincipalName, "jsmith@example.com"),
    (Attribute::DisplayName, "John Smith"),
    (Attribute::GivenName, "John"),
    (Attribute::Surname, "Smith"),
    (Attribute::Mail, "john.smith@example.com"),
];

/// What an exporter writes, before the check.
#[derive(Debug, Clone)]
pub struct Draft {
    /// The checker's configuration.
    pub value: String,
    /// One note per rule of the policy, in order: what the export does with it, and the
    /// fidelity the exporter expects ([`Fidelity::NotExpressed`] for a rule it leaves out).
    pub notes: Vec<RuleNote>,
    /// The rules the configuration imports back as (their ids in the import) and the
    /// policy's rule each comes from; `None` for what the checker does on its own.
    pub sources: Vec<(String, Option<RuleId>)>,
}

/// What an exporter makes of one rule: the fidelity it expects, the note, and the rules of the
/// configuration's import it reads back as.
pub(crate) type Mapped = (Fidelity, String, Vec<String>);

/// The notes of `program`'s rules, each mapped by `one`, and the import's rules each reads back
/// as. An audit rule refuses nothing, and no checker has `when`: those are not expressed,
/// without asking `one`.
pub(crate) fn map_rules(
    program: &Program,
    checker: &str,
    mut one: impl FnMut(&Rule) -> Mapped,
) -> (Vec<RuleNote>, Vec<(String, Option<RuleId>)>) {
    let mut notes = Vec::new();
    let mut sources = Vec::new();
    for rule in &program.rules {
        let (fidelity, note, ids) = match (rule.severity, rule.conditions.is_empty()) {
            (Severity::Audit, _) => {
                (Fidelity::NotExpressed, "audit only: it refuses nothing".to_string(), Vec::new())
            }
            (_, false) => (
                Fidelity::NotExpressed,
                format!("applies only when its `when` holds; {checker} has no conditions"),
                Vec::new(),
            ),
            _ => one(rule),
        };
        sources.extend(ids.into_iter().map(|id| (id, Some(rule.id.clone()))));
        notes.push(RuleNote {
            policy: program.name.clone(),
            rule: rule.id.clone(),
            fidelity,
            note,
            accepted: None,
            refused: None,
        });
    }
    (notes, sources)
}

/// An export: the checker's configuration, and a note per rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Export {
    /// The configuration, as the checker reads it.
    pub value: String,
    /// One note per rule, in order, then one per rule the checker adds on its own.
    pub notes: Vec<RuleNote>,
}

/// Checks `draft` (an export of `policy` for `checker`) through `imported`, its configuration
/// imported back: each note's fidelity as the diff finds it, with a witness password for each
/// difference. An error is an exporter's defect: what it wrote does not import back.
pub fn confirm(
    policy: &Validator,
    checker: &str,
    draft: Draft,
    imported: Result<String, ImportError>,
) -> Result<Export, String> {
    let defect = |e: String| {
        format!("the {checker} export does not read back (a policyc defect, please report it): {e}")
    };
    let text = imported.map_err(|e| defect(e.to_string()))?;
    let compiled = compile_str(format!("{checker}.policy"), &text, &CompileOptions::default())
        .map_err(|e| defect(e.to_string()))?;
    let back = Validator::from_bytes(&compiled.artifact).map_err(|e| defect(e.to_string()))?;
    let ctx = EXAMPLE_USER.iter().fold(Context::new(), |c, (a, v)| c.with(*a, *v));
    // [what the policy accepts and the checker refuses, what the checker accepts and the
    // policy refuses].
    let [stricter, weaker] = diff(policy, &back, &ctx, LIMITS);
    // Where the diff could only sample or ran out of budget, probing finds more: the policy's
    // own passwords, as they are and changed a little (a space, a letter of another script, a
    // length at its edge, a name).
    let (probed_weaker, probed_stricter) = probe(policy, &back, &ctx);
    let mut notes = Vec::new();
    for mut note in draft.notes {
        let weak = witness(&weaker, note.rule.as_str()).or_else(|| {
            probed_weaker.iter().find(|(r, _)| *r == note.rule.as_str()).map(|(_, w)| w.clone())
        });
        let strict =
            draft.sources.iter().filter(|(_, from)| from.as_ref() == Some(&note.rule)).find_map(
                |(id, _)| {
                    witness(&stricter, id).or_else(|| {
                        probed_stricter.iter().find(|(r, _)| r == id).map(|(_, w)| w.clone())
                    })
                },
            );
        let undecided =
            weaker.sampled.iter().chain(&weaker.exhausted).any(|r| r == note.rule.as_str());
        note.fidelity = match (&weak, &strict) {
            (Some(_), _) if note.fidelity == Fidelity::NotExpressed => Fidelity::NotExpressed,
            (Some(_), Some(_)) => Fidelity::StricterAndWeaker,
            (Some(_), None) => Fidelity::Weaker,
            (None, Some(_)) => Fidelity::Stricter,
            (None, None) if undecided => {
                note.note.push_str(" (no difference found by sampling; not proved)");
                note.fidelity
            }
            (None, None) => {
                if note.fidelity == Fidelity::NotExpressed {
                    note.note.push_str("; the rest of the export implies it (diff proves it)");
                }
                Fidelity::Exact
            }
        };
        (note.accepted, note.refused) = (weak, strict);
        notes.push(note);
    }
    // What the checker refuses on its own, beyond every rule of the policy: with a witness
    // from the diff or probing, else (the diff could only sample it, as pwquality's
    // palindromes) said but not proved. One note per rule of the import, the first found.
    let witnessed = stricter.witnesses.iter().map(|w| (&w.rule, Some(&w.password)));
    let probed = probed_stricter.iter().map(|(r, w)| (r, Some(w)));
    let undecided = stricter.sampled.iter().chain(&stricter.exhausted).map(|r| (r, None));
    for (id, password) in witnessed.chain(probed).chain(undecided) {
        let mapped = draft.sources.iter().any(|(s, from)| s == id && from.is_some());
        if mapped || notes.iter().any(|n| n.policy == checker && n.rule.as_str() == id) {
            continue;
        }
        let rule = back.program().rules.iter().find(|r| r.id.as_str() == id);
        let message = rule.map_or("", |r| r.message.as_str());
        let note = match password {
            Some(_) => format!("{checker} refuses on its own: {message}"),
            None => format!(
                "{checker} may refuse on its own (no password found by sampling; not proved either way): {message}"
            ),
        };
        notes.push(RuleNote {
            policy: checker.to_string(),
            rule: RuleId(id.clone()),
            fidelity: Fidelity::Stricter,
            note,
            accepted: None,
            refused: password.cloned(),
        });
    }
    Ok(Export { value: draft.value, notes })
}

/// Changes to try on a password the policy accepts: characters that checkers class
/// differently (a space, letters and digits of other scripts, an astral character, symbols).
const PROBES: [&str; 12] =
    [" ", "é", "Ω", "\u{663}", "\u{1D7D8}", "😀", "_", "~", "a", "ß", "\u{212A}", "İ"];

/// The search budget of the diff: smaller than `policyc diff`'s, as probing follows it.
const LIMITS: DiffLimits =
    DiffLimits { states: 300_000, time: std::time::Duration::from_secs(2), samples: 3_000 };

/// Witnesses by probing, each with the rule it breaks (one per rule, the one breaking fewest
/// others): passwords the checker (`back`) accepts and a rule of the policy refuses, and
/// passwords the policy accepts and a rule of the checker's refuses. From a few hundred of
/// the policy's own passwords, as they are and changed once or twice.
fn probe(policy: &Validator, back: &Validator, ctx: &Context) -> (Witnesses, Witnesses) {
    let mut random = Seeded::new(0x0E_C0DE);
    let options = GenerateOptions { count: 200, ..GenerateOptions::default() };
    let seeds = generate(std::slice::from_ref(policy), ctx, &options, &mut |b| random.fill(b))
        .unwrap_or_default();
    let (mut weaker, mut stricter): (Vec<Found>, Vec<Found>) = (Vec::new(), Vec::new());
    for seed in &seeds {
        keep(&mut stricter, back, policy, seed, ctx);
        for _ in 0..32 {
            let mut pw: Vec<char> = seed.chars().collect();
            for _ in 0..1 + random.below(2) {
                let at = random.below(pw.len());
                let kind = |c: char| match c {
                    c if c.is_ascii_digit() => 0,
                    c if c.is_ascii_uppercase() => 1,
                    c if c.is_ascii_lowercase() => 2,
                    _ => 3,
                };
                match random.below(7) {
                    // Read the same backwards (libpwquality refuses that).
                    6 => {
                        let back: Vec<char> = pw.iter().rev().copied().collect();
                        pw.extend(back);
                    }
                    // A part of the user's names, as a user writes it: in capitals, `ss` as
                    // `ß`, `k` as the Kelvin sign, `i` as `İ` (folding that checkers differ on).
                    5 => {
                        let values: Vec<&str> = EXAMPLE_USER
                            .iter()
                            .flat_map(|(_, v)| v.split([' ', '.', '@']))
                            .collect();
                        let token = values[random.below(values.len())].to_uppercase();
                        let token = match random.below(4) {
                            0 => token.replace("SS", "ß").replace('S', "ß"),
                            1 => token.replace('K', "\u{212A}"),
                            2 => token.replace('I', "İ"),
                            _ => token,
                        };
                        let at = at.min(pw.len());
                        pw.splice(at..at, token.chars());
                    }
                    // Every character of one kind replaced: a kind gone.
                    4 if at < pw.len() => {
                        let (gone, probe) = (kind(pw[at]), PROBES[random.below(PROBES.len())]);
                        let with: Vec<char> = probe.chars().collect();
                        pw = pw
                            .iter()
                            .flat_map(|&c| if kind(c) == gone { with.clone() } else { vec![c] })
                            .collect();
                    }
                    0 if !pw.is_empty() => {
                        pw.remove(at.min(pw.len() - 1));
                    }
                    1 => pw.truncate(at),
                    _ => {
                        let probe: Vec<char> = PROBES[random.below(PROBES.len())].chars().collect();
                        if at < pw.len() {
                            pw.splice(at..=at, probe);
                        } else {
                            pw.extend(probe);
                        }
                    }
                }
            }
            let pw: String = pw.into_iter().collect();
            keep(&mut weaker, policy, back, &pw, ctx);
            keep(&mut stricter, back, policy, &pw, ctx);
        }
    }
    let pairs = |found: Vec<Found>| found.into_iter().map(|(r, w, _)| (r, w)).collect();
    (pairs(weaker), pairs(stricter))
}

/// A rule, a witness, and how many rules it breaks.
type Found = (String, String, usize);

/// Rules and a witness for each.
type Witnesses = Vec<(String, String)>;

/// Keeps `pw` as a witness for the rules of `refusing` it breaks, if `accepting` accepts it
/// (one per rule: the one breaking fewest rules).
fn keep(
    found: &mut Vec<Found>,
    refusing: &Validator,
    accepting: &Validator,
    pw: &str,
    ctx: &Context,
) {
    if !accepting.check(pw, ctx).is_compliant() {
        return;
    }
    let verdict = refusing.check(pw, ctx);
    let broken: Vec<String> = verdict
        .violations()
        .iter()
        .filter(|v| v.severity() == policyc_runtime::ir::Severity::Enforce)
        .map(|v| v.rule().to_string())
        .collect();
    for rule in &broken {
        match found.iter_mut().find(|(r, _, _)| r == rule) {
            Some(f) if f.2 > broken.len() => *f = (rule.clone(), pw.to_string(), broken.len()),
            Some(_) => {}
            None => found.push((rule.clone(), pw.to_string(), broken.len())),
        }
    }
}

/// The witness password a direction holds for `rule`, if any.
fn witness(direction: &Direction, rule: &str) -> Option<String> {
    direction.witnesses.iter().find(|w| w.rule == rule).map(|w| w.password.clone())
}
