//! Importers: other checkers' configurations written as policies (`policyc import`). Each
//! importer reads one format, maps every option it supports onto rules whose verdicts agree
//! with the original checker (tested against the real library where Debian ships one), cites
//! the line each rule comes from, and refuses an option it cannot express exactly with an
//! error naming it, unless the caller asks to skip that option, which the policy then says.
//!
//! And the other way, [`export`]: a compiled policy as another checker's configuration
//! (`policyc export`), with a note per rule on how faithfully.

pub mod apple;
pub mod export;
pub mod keycloak;
pub mod passwdqc;
pub mod ppm;
pub mod pwquality;
pub mod samba;

use policyc_compiler::span::SourceMap;
use policyc_compiler::syntax::{parse, printer};

/// Why an import failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    /// A line the original checker would not read either.
    #[error("{path}:{line}: {message}")]
    Malformed {
        /// The input, as named by the caller.
        path: String,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// Options policyc cannot express exactly (each with the reason); `--skip` leaves them out.
    #[error("{path}: cannot import {}", unsupported_list(.options))]
    Unsupported {
        /// The input.
        path: String,
        /// Each option (with its line, 0 for a default the file does not set) and why.
        options: Vec<Unsupported>,
    },
    /// The input's rules together let no password pass (the checker would accept none either).
    #[error("{path}: no password can pass these settings together:\n{detail}")]
    NoPasswordPasses {
        /// The input.
        path: String,
        /// The compiler's account of the conflict.
        detail: String,
    },
    /// The policy written does not compile: a defect of the importer.
    #[error("the imported policy does not compile (a policyc defect, please report it): {0}")]
    Defect(String),
}

/// One option an importer cannot express.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported {
    /// The option's name.
    pub option: String,
    /// Its line, or 0 when it is the checker's default.
    pub line: usize,
    /// Why, and what to do.
    pub reason: String,
}

fn unsupported_list(options: &[Unsupported]) -> String {
    let items: Vec<String> = options
        .iter()
        .map(|u| {
            let at = if u.line == 0 {
                "(the default)".to_string()
            } else {
                format!("(line {})", u.line)
            };
            format!("\n  - `{}` {at}: {}", u.option, u.reason)
        })
        .collect();
    format!(
        "{} option{}:{}\nSet them off in the input, or pass `--skip OPTION` to import without them (the policy says so).",
        options.len(),
        if options.len() == 1 { "" } else { "s" },
        items.concat()
    )
}

/// Policy text as `policyc fmt` writes it, after checking that it compiles (`path`: the input).
fn finish(text: &str, name: &str, path: &str) -> Result<String, ImportError> {
    let mut sources = SourceMap::new();
    let id = sources.add(std::path::PathBuf::from(name), text.to_string());
    let file = parse(text, id).map_err(|d| ImportError::Defect(d.render(&sources)))?;
    let formatted = printer::format(&file, text);
    policyc_compiler::compile_str(name, &formatted, &policyc_compiler::CompileOptions::default())
        .map_err(|e| {
        let detail = e.to_string();
        // The compiler's proof that the rules conflict: the input's fault, not the importer's.
        match detail.contains("no password can pass") {
            true => ImportError::NoPasswordPasses { path: path.to_string(), detail },
            false => ImportError::Defect(detail),
        }
    })?;
    Ok(formatted)
}

/// A policy name from a file name: letters, digits and `_`, starting with a letter.
fn policy_name(path: &str, fallback: &str) -> String {
    let stem = std::path::Path::new(path).file_stem().and_then(|s| s.to_str()).unwrap_or("");
    let name: String =
        stem.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
    if name.starts_with(|c: char| c.is_ascii_alphabetic()) { name } else { fallback.to_string() }
}

/// `a`, `a and b`, `a, b and c`: for rule messages.
fn and_list(items: &[String]) -> String {
    listed(items, "and")
}

/// `a`, `a or b`, `a, b or c`: for rule messages.
fn or_list(items: &[String]) -> String {
    listed(items, "or")
}

fn listed(items: &[String], last_with: &str) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} {last_with} {last}", init.join(", ")),
    }
}

/// The options an importer cannot express: refused, or with `--skip` noted in the policy.
struct Refusals<'s> {
    skip: &'s [String],
    refused: Vec<Unsupported>,
    /// Comment lines for the skipped ones.
    skipped: String,
}

impl<'s> Refusals<'s> {
    fn new(skip: &'s [String]) -> Refusals<'s> {
        Refusals { skip, refused: Vec::new(), skipped: String::new() }
    }

    /// `option` (at `line`, 0 for a default) cannot be expressed, because `reason`.
    fn refuse(&mut self, option: &str, line: usize, reason: &str) {
        if self.skip.iter().any(|s| s.eq_ignore_ascii_case(option)) {
            self.skipped.push_str(&format!("  # {option} skipped (--skip): {reason}\n"));
        } else {
            self.refused.push(Unsupported { option: option.into(), line, reason: reason.into() });
        }
    }

    /// The comments for the skipped options, or the error naming the refused ones.
    fn check(self, path: &str) -> Result<String, ImportError> {
        match self.refused.is_empty() {
            true => Ok(self.skipped),
            false => Err(ImportError::Unsupported { path: path.into(), options: self.refused }),
        }
    }
}

/// What an importer writes around its rules.
struct Policy<'a> {
    /// The `policyc import` format (`pwquality`).
    format: &'a str,
    /// The input, as named by the caller.
    path: &'a str,
    /// The header comment after the first line: how the checker counts and classifies.
    about: &'a str,
    /// What the input is, for the description (`the passwdqc configuration`).
    what: &'a str,
    /// Where the checker is documented.
    reference: &'a str,
    /// Class definitions, notes, skipped options and rules, in that order.
    body: &'a [&'a str],
}

impl Policy<'_> {
    /// The policy text, formatted and checked to compile.
    fn write(&self) -> Result<String, ImportError> {
        let name = policy_name(self.path, self.format);
        let path = printable(self.path);
        let mut out = format!("# Imported by `policyc import {}` from `{path}`.\n", self.format);
        out.push_str(self.about);
        out.push_str(&format!("policy {name} {{\n"));
        out.push_str(&format!(
            "  description \"Imported from {} {}\"\n",
            self.what,
            path.replace(['"', '\\'], "_")
        ));
        out.push_str(&format!("  reference \"{}\"\n\n", self.reference));
        self.body.iter().for_each(|part| out.push_str(part));
        out.push_str("}\n");
        finish(&out, &format!("{name}.policy"), self.path)
    }
}

/// Text from the input as a comment or string may hold it: control characters (a line break
/// would end the comment) written as `\u{..}`.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| match c.is_control() {
            true => format!("\\u{{{:x}}}", c as u32),
            false => c.to_string(),
        })
        .collect()
}
