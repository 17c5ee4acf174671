//! The directory's own password policy, as `samba-tool domain passwordsettings show` and
//! `samba-tool domain passwordsettings pso show NAME` print it (the outputs concatenated in one
//! file): the domain's minimum length and complexity, and each fine-grained policy (PSO) for the
//! groups it applies to.
//!
//! | setting | rule |
//! |---|---|
//! | `Minimum password length: N` | `length in utf16 units >= N` (as Samba counts) |
//! | `Password complexity: on` | `not contains ad_names` and three of the five AD categories |
//! | a PSO applied to groups or users | its rules in `when user.memberOf has "DN"` blocks (the hook's `memberOf` holds the user's own DN too) |
//!
//! A PSO replaces the domain policy for its members, and of several PSOs the one with the
//! lowest precedence wins: each PSO's block also says `not user.memberOf has` every group of the
//! better ones, and the domain's rules apply when the user is in none of them. Group membership
//! is what the directory hook reads, nested groups included (the hook resolves `tokenGroups`),
//! as AD resolves a user's PSO; two PSOs of equal precedence, which AD orders by GUID, keep
//! their order in the input. History, ages and lockout do not judge a new password's text:
//! noted, no rule.
//!
//! Samba 4.17 checks no names in a complex password, Windows does: the imported policy keeps
//! Windows' `not contains ad_names`, the stricter reading (the real-DC test counts the cases).

use super::{ImportError, Policy, printable};
use policyc_compiler::syntax::printer::string as quoted;
use std::fmt::Write as _;

/// One section of the input: the domain's policy or a PSO.
#[derive(Debug, Default)]
struct Settings {
    /// The PSO's name; `None` for the domain.
    pso: Option<String>,
    /// Where the section starts (1-based line).
    line: usize,
    precedence: Option<u32>,
    complexity: Option<bool>,
    min_length: Option<u32>,
    /// What the PSO applies to, as listed.
    applies_to: Vec<String>,
    /// Settings that are not rules, as printed.
    other: Vec<String>,
}

/// Reads the outputs, section by section.
fn read(text: &str, path: &str) -> Result<Vec<Settings>, ImportError> {
    let mut sections: Vec<Settings> = Vec::new();
    let mut listing = false;
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let bad = |message: String| ImportError::Malformed { path: path.into(), line, message };
        let l = raw.trim();
        if l.is_empty() {
            listing = false;
            continue;
        }
        if let Some(rest) = l.strip_prefix("Password information for ") {
            let name = rest.split('\'').nth(1).unwrap_or("").to_string();
            let pso = rest.starts_with("PSO").then_some(name);
            sections.push(Settings { pso, line, ..Settings::default() });
            listing = false;
            continue;
        }
        let Some(s) = sections.last_mut() else {
            return Err(bad(format!(
                "`{}` before any `Password information for …` line: expected the output of `samba-tool domain passwordsettings show`",
                printable(l)
            )));
        };
        if listing && raw.starts_with(' ') {
            s.applies_to.push(l.to_string());
            continue;
        }
        if l.starts_with("PSO applies directly to") {
            listing = true;
            continue;
        }
        if l.starts_with("Note: PSO does not apply") {
            continue;
        }
        let Some((key, value)) = l.split_once(':') else {
            return Err(bad(format!("`{}`: expected `Setting: value`", printable(l))));
        };
        let value = value.trim();
        let number = || {
            value
                .parse::<u32>()
                .map_err(|_| bad(format!("`{key}` needs a number, not `{}`", printable(value))))
        };
        match key {
            "Password complexity" => {
                s.complexity = Some(match value {
                    "on" => true,
                    "off" => false,
                    _ => {
                        return Err(bad(format!(
                            "`{key}` is `on` or `off`, not `{}`",
                            printable(value)
                        )));
                    }
                });
            }
            "Minimum password length" => s.min_length = Some(number()?),
            "Precedence (lowest is best)" => s.precedence = Some(number()?),
            _ => s.other.push(printable(l)),
        }
    }
    if let Some(second) = sections.iter().filter(|s| s.pso.is_none()).nth(1) {
        return Err(ImportError::Malformed {
            path: path.into(),
            line: second.line,
            message: "a second domain policy: give one domain's output".into(),
        });
    }
    if !sections.iter().any(|s| s.pso.is_none()) {
        return Err(ImportError::Malformed {
            path: path.into(),
            line: 0,
            message: "no domain policy: start with the output of `samba-tool domain passwordsettings show`".into(),
        });
    }
    Ok(sections)
}

/// The rules of one policy section, with ids prefixed by `prefix`.
fn rules(s: &Settings, prefix: &str, indent: &str) -> String {
    let mut out = String::new();
    if let Some(n) = s.min_length.filter(|n| *n > 0) {
        let message = quoted(&format!("Use at least {n} characters."));
        let _ = writeln!(
            out,
            "{indent}rule {prefix}min_length {message} : length in utf16 units >= {n}"
        );
    }
    if s.complexity == Some(true) {
        let _ = writeln!(
            out,
            "{indent}rule {prefix}names \"Do not use your account name or any part of your full name.\" : not contains ad_names"
        );
        let _ = writeln!(
            out,
            "{indent}rule {prefix}complexity \"Use three of: uppercase letters, lowercase letters, digits, symbols, letters of other scripts.\" : at least 3 of {{ ad_upper, ad_lower, digit, punct, ad_other_alpha }}"
        );
    }
    for other in &s.other {
        let _ = writeln!(out, "{indent}# {other}: no rule");
    }
    out
}

/// A rule-id prefix for the `n`th PSO: its place, then its name's letters and digits.
fn prefix(n: usize, name: &str) -> String {
    let p: String =
        name.chars().filter(char::is_ascii_alphanumeric).collect::<String>().to_ascii_lowercase();
    format!("pso{n}_{p}_")
}

/// Imports the directory's password policy (`path` names its source in comments and errors).
///
/// # Errors
/// Text `samba-tool` does not print.
pub fn import(text: &str, path: &str) -> Result<String, ImportError> {
    let sections = read(text, path)?;
    let domain = sections.iter().find(|s| s.pso.is_none());
    let mut psos: Vec<&Settings> = sections.iter().filter(|s| s.pso.is_some()).collect();
    psos.sort_by_key(|s| s.precedence.unwrap_or(u32::MAX));
    let mut body = String::new();
    // Groups of the better PSOs, whose members a later block leaves out.
    let mut better: Vec<&str> = Vec::new();
    for (n, pso) in psos.iter().enumerate() {
        let name = pso.pso.as_deref().unwrap_or("");
        let precedence = pso.precedence.map_or("none".to_string(), |p| p.to_string());
        let _ = writeln!(
            body,
            "  # PSO {} (line {}), precedence {precedence}",
            printable(name),
            pso.line
        );
        if pso.applies_to.is_empty() {
            body.push_str("  # applies to no user or group: no rule\n");
            continue;
        }
        for (k, group) in pso.applies_to.iter().enumerate() {
            let mut conditions = vec![format!("user.memberOf has {}", quoted(group))];
            conditions
                .extend(better.iter().map(|g| format!("not user.memberOf has {}", quoted(g))));
            let _ = writeln!(body, "  when {} {{", conditions.join(" and "));
            let id = if pso.applies_to.len() == 1 {
                prefix(n + 1, name)
            } else {
                format!("{}g{}_", prefix(n + 1, name), k + 1)
            };
            body.push_str(&rules(pso, &id, "    "));
            body.push_str("  }\n");
            better.push(group);
        }
    }
    if let Some(d) = domain {
        let _ = writeln!(body, "  # the domain's policy (line {})", d.line);
        if better.is_empty() {
            body.push_str(&rules(d, "", "  "));
        } else {
            let conditions: Vec<String> =
                better.iter().map(|g| format!("not user.memberOf has {}", quoted(g))).collect();
            let _ = writeln!(body, "  when {} {{", conditions.join(" and "));
            body.push_str(&rules(d, "", "    "));
            body.push_str("  }\n");
        }
    }
    Policy {
        format: "samba",
        path,
        about: "# The directory's own policy, as samba-tool prints it: each PSO for the groups it applies\n\
                # to, in order of precedence, and the domain's policy for everyone else. Lengths count\n\
                # UTF-16 units, as Samba counts minPwdLength.\n",
        what: "the Samba directory's password settings",
        reference: "https://wiki.samba.org/index.php/Password_Settings_Objects",
        body: &[&body],
    }
    .write()
}
