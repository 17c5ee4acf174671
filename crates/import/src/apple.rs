//! Apple's password rules (`passwordrules` HTML attribute, `UITextInputPasswordRules`,
//! apple/password-manager-resources): `minlength: 8; required: upper; required: digit;
//! allowed: lower, [-().&@?'#,/"+]; max-consecutive: 2`, read as Apple's
//! `PasswordRulesParser.js` reads it:
//!
//! | property | rule |
//! |---|---|
//! | each `required: A, B` | `count (A \| B) >= 1`: one character of the union at least |
//! | `allowed` with every `required` | `only (…)`: the union of them all; none given: ASCII printable; `unicode`: no rule |
//! | `max-consecutive: N` (the smallest) | `longest repeat <= N` |
//! | `minlength: N` (the largest), `maxlength: N` (the smallest) | `length in utf16 units >= N`, `<= N` (as HTML counts) |
//!
//! Classes: `upper` A–Z, `lower` a–z, `digit` 0–9, `special` the 33 ASCII printable characters
//! that are neither (the space among them), `ascii-printable` U+0020–U+007E, `unicode` every
//! character, and `[…]` custom classes of ASCII printable characters (`]` last only). A value
//! of 0 is no rule, and a custom class loses a character that is not ASCII printable and a `-`
//! that is not first, as Apple's parser drops them: the policy says each in a comment. Anything
//! else Apple's parser would skip or stop at is an error here, naming it: a rule silently lost
//! would be a password accepted.

use super::{ImportError, Policy, printable};
use policyc_compiler::syntax::printer::string as quoted;
use std::fmt::Write as _;

/// Named classes: the name, its policyc set, and how messages say one and several.
const NAMED: [(&str, &str, &str, &str); 6] = [
    ("upper", "[A-Z]", "an upper-case letter", "upper-case letters"),
    ("lower", "[a-z]", "a lower-case letter", "lower-case letters"),
    ("digit", "[0-9]", "a digit", "digits"),
    ("special", "apple_special", "a special character", "special characters"),
    (
        "ascii-printable",
        "ascii_printable",
        "an ASCII printable character",
        "ASCII printable characters",
    ),
    ("unicode", "any", "any character", "any characters"),
];

/// One character class of a value.
enum Class {
    /// One of [`NAMED`], by index.
    Named(usize),
    /// `[…]`: its characters.
    Custom(Vec<char>),
}

impl Class {
    /// The class as a policyc set.
    fn set(&self) -> String {
        match self {
            Class::Named(k) => NAMED[*k].1.to_string(),
            Class::Custom(chars) => {
                let mut s = String::from("[");
                for c in chars {
                    if matches!(c, '\\' | ']' | '-' | '[') {
                        s.push('\\');
                    }
                    s.push(*c);
                }
                s.push(']');
                s
            }
        }
    }

    /// How a message names one of it, or (`many`) its characters.
    fn words(&self, many: bool) -> String {
        match (self, many) {
            (Class::Named(k), false) => NAMED[*k].2.to_string(),
            (Class::Named(k), true) => NAMED[*k].3.to_string(),
            (Class::Custom(chars), _) => {
                let chars: String = chars.iter().collect();
                if many { format!("`{chars}`") } else { format!("one of `{chars}`") }
            }
        }
    }
}

/// The `name: value` properties, split at each `;` outside a custom class (Apple's parser reads
/// a class character by character: a `;` inside one is a member). A `]` closes a class unless
/// another `]` follows it, as [`custom`] reads it.
fn properties(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut start, mut in_class) = (0, false);
    let mut it = text.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        match c {
            '[' if !in_class => in_class = true,
            ']' if in_class && it.peek().is_none_or(|&(_, n)| n != ']') => in_class = false,
            ';' if !in_class => {
                out.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&text[start..]);
    out
}

/// A `[…]` custom class as Apple's parser reads it.
struct Custom<'a> {
    /// Its members.
    chars: Vec<char>,
    /// What the parser drops: characters that are not ASCII printable, and a `-` not first.
    dropped: String,
    /// What follows the `]`.
    tail: &'a str,
}

/// Reads a `[…]` at the start of `s` (after the `[`).
fn custom(s: &str) -> Result<Custom<'_>, String> {
    let (mut chars, mut dropped) = (Vec::new(), String::new());
    let mut it = s.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        let last = it.peek().is_none_or(|&(_, n)| n != ']');
        match c {
            // `]]`: the first is a member, the second closes.
            ']' if last => return Ok(Custom { chars, dropped, tail: &s[i + 1..] }),
            c if !(' '..='~').contains(&c) || (c == '-' && !chars.is_empty()) => {
                dropped.push(c);
            }
            c => {
                if !chars.contains(&c) {
                    chars.push(c);
                }
            }
        }
    }
    Err("a custom class is not closed with `]`".into())
}

/// The classes of a `required` or `allowed` value; what Apple's parser drops is said in
/// `notes` (`name`: the property).
fn classes(name: &str, value: &str, notes: &mut String) -> Result<Vec<Class>, String> {
    let mut out = Vec::new();
    let mut rest = value.trim();
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('[') {
            let Custom { chars, dropped, tail } = custom(after)?;
            if !dropped.is_empty() {
                let _ = writeln!(
                    notes,
                    "  # {name}: `{}` dropped from a custom class, as Apple's parser drops a character that is not ASCII printable and a `-` that is not first",
                    printable(&dropped)
                );
            }
            match chars.is_empty() {
                true => {
                    let _ = writeln!(notes, "  # {name}: an empty custom class, dropped");
                }
                false => out.push(Class::Custom(chars)),
            }
            rest = tail.trim_start();
        } else {
            let end = rest.find([',', ' ', '\t']).unwrap_or(rest.len());
            let name = rest[..end].to_ascii_lowercase();
            let k = NAMED.iter().position(|(n, _, _, _)| *n == name).ok_or_else(|| {
                format!(
                    "unknown character class `{}`; Apple's are upper, lower, digit, special, ascii-printable, unicode and [...]",
                    printable(&rest[..end])
                )
            })?;
            out.push(Class::Named(k));
            rest = rest[end..].trim_start();
        }
        match rest.strip_prefix(',') {
            Some(tail) if !tail.trim().is_empty() => rest = tail.trim_start(),
            Some(_) => return Err("a `,` with no class after it".into()),
            None if rest.is_empty() => {}
            None => return Err(format!("`{}`: expected `,` or `;`", printable(rest))),
        }
    }
    Ok(out)
}

/// Imports Apple password rules (`path` names their source in comments and errors).
///
/// # Errors
/// Rules Apple's parser would not read whole.
pub fn import(text: &str, path: &str) -> Result<String, ImportError> {
    let bad = |message: String| ImportError::Malformed { path: path.into(), line: 1, message };
    let mut required: Vec<Vec<Class>> = Vec::new();
    let mut allowed: Vec<Class> = Vec::new();
    let (mut min, mut max, mut consecutive) = (None::<u32>, None::<u32>, None::<u32>);
    let mut notes = String::new();
    for property in properties(text.trim()).into_iter().map(str::trim).filter(|p| !p.is_empty()) {
        let (name, value) = property
            .split_once(':')
            .ok_or_else(|| bad(format!("`{}`: expected `name: value`", printable(property))))?;
        let (name, value) = (name.trim(), value.trim());
        let number = || {
            value
                .parse::<u32>()
                .map_err(|_| bad(format!("`{name}` needs a number, not `{}`", printable(value))))
        };
        const NAMES: [&str; 5] =
            ["required", "allowed", "minlength", "maxlength", "max-consecutive"];
        if !NAMES.contains(&name) {
            return Err(bad(format!(
                "unknown property `{}`; Apple's are required, allowed, max-consecutive, minlength and maxlength",
                printable(name)
            )));
        }
        if value.is_empty() {
            let _ = writeln!(notes, "  # {name}: empty, no rule (Apple's parser drops it)");
            continue;
        }
        match name {
            "required" => {
                let classes = classes(name, value, &mut notes).map_err(bad)?;
                match classes.is_empty() {
                    true => {
                        let _ = writeln!(notes, "  # required: no class left, no rule");
                    }
                    false => required.push(classes),
                }
            }
            "allowed" => allowed.extend(classes(name, value, &mut notes).map_err(bad)?),
            // The length properties.
            _ => {
                let n = number()?;
                if n == 0 {
                    let _ = writeln!(notes, "  # {name}: 0 is no rule (Apple's parser drops it)");
                    continue;
                }
                let slot = match name {
                    "minlength" => &mut min,
                    "maxlength" => &mut max,
                    _ => &mut consecutive,
                };
                // The strictest of repeated properties, as Apple's parser keeps.
                *slot = Some(match (name, *slot) {
                    ("minlength", Some(m)) => m.max(n),
                    (_, Some(m)) => m.min(n),
                    (_, None) => n,
                });
            }
        }
    }
    if let (Some(lo), Some(hi)) = (min, max)
        && lo > hi
    {
        return Err(bad(format!("minlength {lo} is more than maxlength {hi}: no password passes")));
    }
    let mut rules = String::new();
    for (i, classes) in required.iter().enumerate() {
        let sets: Vec<String> = classes.iter().map(Class::set).collect();
        let words: Vec<String> = classes.iter().map(|c| c.words(false)).collect();
        let id = if required.len() == 1 {
            "required".to_string()
        } else {
            format!("required_{}", i + 1)
        };
        let message = quoted(&format!("Use {}.", super::or_list(&words)));
        let _ = writeln!(rules, "  rule {id} {message} : count {} >= 1", sets.join(" | "));
    }
    // Allowed: every required and allowed class; ASCII printable when none is given.
    let mut all: Vec<&Class> = required.iter().flatten().chain(&allowed).collect();
    let printable_class = Class::Named(4);
    if all.is_empty() {
        rules.push_str(
            "  # no `allowed` or `required`: ASCII printable characters (Apple's default)\n",
        );
        all.push(&printable_class);
    }
    if !all.iter().any(|c| matches!(c, Class::Named(5))) {
        let sets: Vec<String> = all.iter().map(|c| c.set()).collect();
        let words: Vec<String> = all.iter().map(|c| c.words(true)).collect();
        let message = quoted(&format!("Use only: {}.", super::and_list(&words)));
        let _ = writeln!(rules, "  rule allowed {message} : only {}", sets.join(" | "));
    }
    if let Some(n) = consecutive {
        let _ = writeln!(
            rules,
            "  rule max_consecutive \"Use a character at most {n} times in a row.\" : longest repeat <= {n}"
        );
    }
    if let Some(n) = min {
        let _ = writeln!(
            rules,
            "  rule minlength \"Use at least {n} characters.\" : length in utf16 units >= {n}"
        );
    }
    if let Some(n) = max {
        let _ = writeln!(
            rules,
            "  rule maxlength \"Use at most {n} characters.\" : length in utf16 units <= {n}"
        );
    }
    Policy {
        format: "apple",
        path,
        about: "# Apple's password rules, as Apple's PasswordRulesParser reads them: each `required` one\n\
                # character of its classes at least, every character from the `required` and `allowed`\n\
                # classes, lengths in UTF-16 units as HTML counts them.\n",
        what: "the Apple password rules",
        reference: "https://developer.apple.com/password-rules/",
        body: &[
            "  class apple_special = [ -/:-@\\[-`{-~]\n  class ascii_printable = [ -~]\n\n",
            &notes,
            &rules,
        ],
    }
    .write()
}
