//! What an explanation says, in words: the sentence under each rule of `policyc explain`, and
//! the JSON it and the C library write. Here, not in the command line, so that every caller
//! tells a user the same thing. Never the password: counts, classes and positions only.

use super::explain::{Detail, Explanation, Measurement, Outcome, RuleReport};

/// A JSON document with its schema number first, as the command line, the C library and the
/// browser module write them.
#[derive(Debug, serde::Serialize)]
pub struct Versioned<'a, T> {
    /// The schema's number (1).
    pub schema: u32,
    /// The document.
    #[serde(flatten)]
    pub body: &'a T,
}

/// An explanation as JSON (what `policyc explain --format json` and the C library's
/// `policyc_explain_json` write, after their schema number): the verdict and, per rule, what the
/// text report says of it. Never the password.
#[derive(Debug, serde::Serialize)]
pub struct ExplanationJson<'a> {
    /// The policy's name.
    pub policy: &'a str,
    /// Whether the password complies.
    pub compliant: bool,
    /// Set when the password was refused unread (longer than this many bytes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refused_input_over_bytes: Option<usize>,
    /// One entry per rule, in policy order.
    pub rules: Vec<RuleJson<'a>>,
}

/// One rule of an [`ExplanationJson`].
#[derive(Debug, serde::Serialize)]
pub struct RuleJson<'a> {
    /// The rule's id.
    pub rule: &'a str,
    /// `enforce` or `audit`.
    pub severity: &'a str,
    /// `passed`, `failed` or `not_applicable`.
    pub outcome: &'static str,
    /// The rule's message.
    pub message: &'a str,
    /// What was measured and how to fix it, as the text report words it.
    pub explanation: String,
}

/// The report as JSON: the same words as the text, per rule.
pub fn json<'a>(name: &'a str, e: &'a Explanation<'a>) -> ExplanationJson<'a> {
    ExplanationJson {
        policy: name,
        compliant: e.is_compliant(),
        refused_input_over_bytes: e.refused_input,
        rules: e
            .rules
            .iter()
            .map(|r| RuleJson {
                rule: r.rule.id.as_str(),
                severity: r.rule.severity.as_str(),
                outcome: match r.outcome {
                    Outcome::Passed => "passed",
                    Outcome::Failed => "failed",
                    Outcome::NotApplicable => "not_applicable",
                },
                message: &r.rule.message,
                explanation: why(r),
            })
            .collect(),
    }
}

/// What the report says under a rule: what was measured and, for a failure, what to change.
pub fn why(r: &RuleReport<'_>) -> String {
    match r.outcome {
        Outcome::NotApplicable => {
            "Does not apply to this password or user (its `when` condition does not hold)."
                .to_string()
        }
        _ => describe(&r.detail, r.outcome == Outcome::Passed),
    }
}

fn positions(p: &[u32]) -> String {
    let shown: Vec<String> = p.iter().take(10).map(u32::to_string).collect();
    let more = if p.len() > 10 { format!(" and {} more", p.len() - 10) } else { String::new() };
    format!("{}{more}", shown.join(", "))
}

fn chars(n: u32) -> String {
    if n == 1 { "1 character".into() } else { format!("{n} characters") }
}

/// One sentence on what was measured and, for a failure, what to change.
fn describe(d: &Detail, passed: bool) -> String {
    match d {
        Detail::Length { actual, bounds } => {
            let fix = if passed {
                String::new()
            } else if *actual < bounds.min {
                format!(" Add {} or more.", chars(bounds.min - actual))
            } else {
                format!(" Remove {} or more.", chars(actual - bounds.max.unwrap_or(*actual)))
            };
            format!("The password has {}; the rule allows {}.{fix}", chars(*actual), bounds)
        }
        Detail::Only { class, positions: p } => {
            if p.is_empty() {
                format!("Every character is in `{class}`.")
            } else {
                format!(
                    "{} not allowed (not in `{class}`): position {}. Replace them.",
                    count_chars(p.len()),
                    positions(p)
                )
            }
        }
        Detail::NoneOf { class, positions: p } => {
            if p.is_empty() {
                format!("No character is in `{class}`.")
            } else {
                format!(
                    "{} forbidden (in `{class}`): position {}. Replace them.",
                    count_chars(p.len()),
                    positions(p)
                )
            }
        }
        Detail::AtLeastOf { n, present, missing } => {
            let have = if present.is_empty() { "none".to_string() } else { present.join(", ") };
            let fix = if passed {
                String::new()
            } else {
                format!(
                    " Add characters from {} more of: {}.",
                    *n as usize - present.len(),
                    missing.join(", ")
                )
            };
            format!("It uses {} of the kinds ({have}); the rule needs {n}.{fix}", present.len())
        }
        Detail::Count { class, actual, bounds } => {
            format!("It has {} from `{class}`; the rule allows {}.", chars(*actual), bounds)
        }
        Detail::Regex { pattern, matched, negated } => match (matched, negated) {
            (true, true) => {
                format!("It matches the forbidden pattern /{pattern}/. Change that part.")
            }
            (false, true) => format!("It does not match the forbidden pattern /{pattern}/."),
            (true, false) => format!("It matches the required pattern /{pattern}/."),
            (false, false) => format!("It does not match the required pattern /{pattern}/."),
        },
        Detail::Repeat { longest, max } => {
            let fix = if passed { "" } else { " Break up the repeated characters." };
            format!(
                "The longest run of one repeated character is {longest}; at most {max} allowed.{fix}"
            )
        }
        Detail::Sequence { longest, max } => {
            let fix = if passed { "" } else { " Avoid runs like abcd or 4321." };
            format!(
                "The longest run of consecutive characters is {longest}; at most {max} allowed.{fix}"
            )
        }
        Detail::Contains { checked, found } => {
            if found.is_empty() {
                let names: Vec<&str> = checked.iter().map(|a| a.ldap_name()).collect();
                format!("It contains none of the user's {} values.", names.join(", "))
            } else {
                let parts: Vec<String> =
                    found.iter().map(|(a, t)| format!("`{t}` (from {a})")).collect();
                format!("It contains {}, ignoring case (or read backwards). Remove it.", parts.join(", "))
            }
        }
        Detail::Terms { list, mode, matched } => match matched {
            None => format!("No term of the list `{list}` matches ({}).", mode_words(*mode)),
            Some(t) if t.is_empty() => format!(
                "The whole password is a banned term of the list `{list}` ({}). Choose another password.",
                mode_words(*mode)
            ),
            Some(t) => format!(
                "It matches the banned term `{t}` from the list `{list}` ({}). Avoid that word and its look-alikes.",
                mode_words(*mode)
            ),
        },
        Detail::Entra { name: Some(attribute), .. } => {
            format!("It contains the user's {} (after normalization). Do not use your name.", name_words(*attribute))
        }
        Detail::Entra { unsettled: Some(why), .. } if !passed => format!(
            "{}: it is refused to be safe. Use fewer common words.",
            unsettled_words(*why)
        ),
        Detail::Entra { unsettled: Some(why), min_points, .. } => format!(
            "It scores at least the {min_points} points needed; the exact score was not settled ({}).",
            unsettled_words(*why).to_lowercase()
        ),
        Detail::Entra { whole_password: true, .. } => {
            "The whole password is a banned password, or one character away from one. Choose another password.".to_string()
        }
        Detail::Entra { points, min_points, name: None, terms, .. } => {
            let found = if terms.is_empty() {
                "no banned term".to_string()
            } else {
                format!("banned terms {}", terms.iter().map(|t| format!("`{t}`")).collect::<Vec<_>>().join(", "))
            };
            let fix = if passed { "" } else { " Add characters that are not part of a common word." };
            format!("It scores {points} points ({found}, 1 point each, plus 1 per other character); {min_points} are needed.{fix}")
        }
        Detail::Strength { score, min_score } => {
            let fix = if passed { "" } else { " Make it longer and less predictable." };
            format!("Its estimated strength is {score} of 4; the rule needs {min_score}.{fix}")
        }
        Detail::Breached { store, found: Ok(found) } => match found {
            crate::store::Lookup::Absent => format!("It is not in the breached-password store `{store}`."),
            crate::store::Lookup::Probable => format!("It is in the breached-password store `{store}` (its filter; a password that is not in it is reported with a chance of about 1 in 65,000 with 16-bit fingerprints). Choose another password."),
            crate::store::Lookup::Confirmed => format!("It is in the breached-password store `{store}`. Choose another password."),
        },
        Detail::Breached { store, found: Err(e) } => {
            format!("The breached-password store `{store}` could not be read: {e}")
        }
        Detail::Palindrome { palindrome: true } => {
            "It reads the same backwards. Choose a password that does not.".to_string()
        }
        Detail::Palindrome { palindrome: false } => "It does not read the same backwards.".to_string(),
        Detail::Distinct { actual, bounds } => {
            let fix = if passed { "" } else if *actual < bounds.min { " Use more different characters." } else { " Use fewer different characters." };
            format!("It has {actual} different characters; the rule allows {bounds}.{fix}")
        }
        Detail::Equals { attribute, equal: true } => {
            format!("It is exactly the user's {attribute}. Choose another password.")
        }
        Detail::Equals { attribute, equal: false } => {
            format!("It is not the user's {attribute}.")
        }
        Detail::Keyboard { longest, max } => {
            let fix = if passed { "" } else { " Avoid runs of neighbouring keys like qwer or 7890." };
            format!(
                "The longest run of neighbouring keys on one keyboard row is {longest}; at most {max} allowed.{fix}"
            )
        }
        Detail::LengthIn { unit, actual, bounds } => {
            let unit = unit_words(*unit);
            let fix = if passed {
                ""
            } else if *actual < bounds.min {
                " Make it longer."
            } else {
                " Make it shorter (characters outside ASCII count more than once)."
            };
            format!("The password is {actual} {unit} long; the rule allows {bounds}.{fix}")
        }
        Detail::Measured { unit, what, actual, bounds } => {
            let units = unit_words(*unit);
            let fix = match unit {
                _ if passed => "",
                crate::ir::Unit::Bytes => " (A character outside ASCII is 2 to 4 bytes.)",
                crate::ir::Unit::Utf16 => " (A character outside the BMP, such as an emoji, is 2 units.)",
                crate::ir::Unit::Characters => "",
            };
            let limit = bounds.max.unwrap_or(0);
            match what {
                Measurement::Count(class) => format!(
                    "It has {actual} {units} of characters from `{class}`; the rule allows {bounds}.{fix}"
                ),
                Measurement::Distinct => {
                    format!("It has {actual} different {units}; the rule allows {bounds}.{fix}")
                }
                Measurement::Repeat => format!(
                    "The longest repeat of one of its {units} is {actual}; at most {limit} allowed.{fix}"
                ),
                Measurement::Sequence => format!(
                    "The longest run of consecutive {units} is {actual}; at most {limit} allowed.{fix}"
                ),
                Measurement::Run(class) => {
                    let units = match (*actual, unit) {
                        (1, crate::ir::Unit::Characters) => "character",
                        (1, crate::ir::Unit::Bytes) => "byte (UTF-8)",
                        (1, crate::ir::Unit::Utf16) => "UTF-16 unit",
                        _ => units,
                    };
                    format!(
                        "The longest run of characters from `{class}` is {actual} {units}; at most {limit} allowed."
                    )
                }
            }
        }
        Detail::Quorum { n, parts } => {
            let held = parts.iter().filter(|p| p.held).count();
            let need = match (*n as usize, parts.len()) {
                (1, _) => "any one of them".to_string(),
                (n, m) if n == m => "all of them".to_string(),
                (n, _) => format!("{n} of them"),
            };
            let verb = if held == 1 { "holds" } else { "hold" };
            let mut s = format!("{held} of its {} parts {verb}; the rule needs {need}:", parts.len());
            for p in parts {
                let mark = if p.held { "holds" } else { "fails" };
                let text = describe(&p.detail, p.held).replace('\n', "\n    ");
                s.push_str(&format!("\n  - {mark}: {text}"));
            }
            s
        }
        Detail::Points { min, awards } => {
            let total: u64 = awards.iter().map(|g| u64::from(g.points)).sum();
            let fix = if passed { "" } else { " Add characters of the kinds that give points." };
            let mut s = format!("It scores {total} points; the rule needs {min}.{fix}");
            for g in awards {
                let text = match (&g.per, g.unit) {
                    (Some(c), crate::ir::Unit::Characters) if c == "character" => {
                        "for its length".to_string()
                    }
                    (Some(c), crate::ir::Unit::Characters) => format!("for characters from `{c}`"),
                    (Some(c), unit) if c == "character" => {
                        format!("for its length in {}", unit_words(unit))
                    }
                    (Some(c), unit) => {
                        format!("for the {} of characters from `{c}`", unit_words(unit))
                    }
                    (None, _) => describe(&g.detail, g.points > 0).replace('\n', "\n    "),
                };
                s.push_str(&format!("\n  - {:+}: {text}", g.points));
            }
            s
        }
        Detail::Unavailable { reason } => {
            format!("It could not be evaluated, so it refuses the password: {reason}. Reinstall the policy.")
        }
        Detail::None => String::new(),
    }
}

fn count_chars(n: usize) -> String {
    if n == 1 { "1 character is".into() } else { format!("{n} characters are") }
}

fn mode_words(mode: crate::ir::MatchMode) -> &'static str {
    match mode {
        crate::ir::MatchMode::Exact => "the whole password",
        crate::ir::MatchMode::Contains => "anywhere in the password",
        crate::ir::MatchMode::Fuzzy => {
            "anywhere, with up to one character changed, added or removed"
        }
    }
}

fn name_words(a: crate::ir::Attribute) -> &'static str {
    match a {
        crate::ir::Attribute::Surname => "last name",
        _ => "first name",
    }
}

/// How a unit is named in explanations.
fn unit_words(unit: crate::ir::Unit) -> &'static str {
    match unit {
        crate::ir::Unit::Bytes => "bytes (UTF-8)",
        crate::ir::Unit::Utf16 => "UTF-16 units",
        crate::ir::Unit::Characters => "characters",
    }
}

/// Why an Entra score was not settled, as a sentence's start.
fn unsettled_words(why: crate::runtime::entra::Unsettled) -> &'static str {
    match why {
        crate::runtime::entra::Unsettled::TooManySets => {
            "So many banned terms overlap in it that its score could not be settled (more than 100,000 combinations)"
        }
        crate::runtime::entra::Unsettled::OutOfSteps => {
            "Its score could not be settled within the evaluation's step budget (a very long password full of banned terms)"
        }
    }
}
