//! Term lists and normalization tables: reading list files into terms (with diagnostics that
//! point into the list), checking Entra's custom-list limits, validating normalizations, and
//! normalizing terms for the rule program.

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::span::{FileId, SourceMap, Span};
use crate::syntax::ast::{NormStepDef, NormalizationDef, Spanned, TermsDef, TermsSource};
use policyc_runtime::ir::{NormStep, Normalization};
use policyc_runtime::runtime::fold::Folding;
use policyc_runtime::runtime::terms::normalize_into;
use std::collections::HashMap;

/// Longest term accepted, in characters.
pub const MAX_TERM_CHARS: usize = 64;
/// Entra's custom banned-password list limits (checked as warnings with `with entra limits`).
pub const ENTRA_MAX_TERMS: usize = 1000;

/// Most terms one list may hold. The hook loads the policy on every password change: with a
/// list this size (searched fuzzily and scored), a run takes 0.6-0.75 s and 195 MB, under
/// Samba's one-second warning (1,000,000 terms took 1.2-1.4 s). README, "Banned-term lists".
pub const MAX_LIST_TERMS: usize = 500_000;
/// Entra's term length limits, in characters.
pub const ENTRA_TERM_CHARS: std::ops::RangeInclusive<usize> = 4..=16;
/// At most this many warnings of one kind are shown for one list; a summary counts the rest.
const MAX_LIST_WARNINGS: usize = 5;

/// Reads a list's terms (trimmed, comments and blank lines skipped), reporting bad ones.
pub(crate) fn read_list(
    def: &TermsDef,
    lists: &HashMap<Span, FileId>,
    sources: &SourceMap,
    diags: &mut Diagnostics,
) -> Option<Vec<String>> {
    let mut terms: Vec<(String, Span)> = Vec::new();
    match &def.source {
        TermsSource::Inline(items) => {
            for s in items {
                terms.push((s.value.trim().to_string(), s.span));
            }
        }
        TermsSource::File(f) => {
            let id = *lists.get(&f.span)?;
            let text = &sources.get(id)?.text;
            let mut offset = 0;
            for line in text.split_inclusive('\n') {
                let content = line.trim_end_matches(['\n', '\r']);
                let trimmed = content.trim();
                if !trimmed.is_empty() && !trimmed.starts_with('#') {
                    let start = offset + (content.len() - content.trim_start().len());
                    terms.push((trimmed.to_string(), Span::new(id, start, start + trimmed.len())));
                }
                offset += line.len();
            }
        }
    }
    let mut ok = true;
    if terms.len() > MAX_LIST_TERMS {
        diags.push(Diagnostic::error(
            format!(
                "list `{}` has {} terms; the limit is {MAX_LIST_TERMS} (the hook loads the policy on every password change, and a list this size would make each one slow)",
                def.name.value,
                terms.len()
            ),
            def.name.span,
            "this list",
        ));
        return None;
    }
    let mut first_seen: HashMap<&str, Span> = HashMap::new();
    let mut duplicates = Vec::new();
    for (term, span) in &terms {
        let chars = term.chars().count();
        if chars == 0 {
            diags.push(Diagnostic::error(
                "empty term",
                *span,
                "a term needs at least one character",
            ));
            ok = false;
        } else if chars > MAX_TERM_CHARS {
            diags.push(Diagnostic::error(
                format!("term is {chars} characters long; the limit is {MAX_TERM_CHARS}"),
                *span,
                "too long",
            ));
            ok = false;
        }
        match first_seen.get(term.as_str()) {
            Some(first) => duplicates.push((*span, *first)),
            None => {
                first_seen.insert(term, *span);
            }
        }
    }
    for (span, first) in duplicates.iter().take(MAX_LIST_WARNINGS) {
        let (line, _) = sources.get(first.file).map_or((0, 0), |f| f.line_col(first.start));
        diags.push(Diagnostic::warning(
            format!("duplicate term in list `{}`", def.name.value),
            *span,
            format!("already on line {line}"),
        ));
    }
    summarize(diags, duplicates.len(), "duplicate terms", def);
    if def.entra_limits {
        entra_limits(def, &terms, diags);
    }
    ok.then(|| terms.into_iter().map(|(t, _)| t).collect())
}

fn summarize(diags: &mut Diagnostics, n: usize, what: &str, def: &TermsDef) {
    if n > MAX_LIST_WARNINGS {
        diags.push(Diagnostic::warning(
            format!("list `{}` has {n} {what} ({} shown)", def.name.value, MAX_LIST_WARNINGS),
            def.name.span,
            "this list",
        ));
    }
}

/// Entra's documented limits for a custom banned-password list, as warnings.
fn entra_limits(def: &TermsDef, terms: &[(String, Span)], diags: &mut Diagnostics) {
    if terms.len() > ENTRA_MAX_TERMS {
        diags.push(
            Diagnostic::warning(
                format!(
                    "list `{}` has {} terms; Entra's custom list allows at most {ENTRA_MAX_TERMS}",
                    def.name.value,
                    terms.len()
                ),
                def.name.span,
                "too many terms for Entra",
            )
            .with_help(
                "the cloud will not accept this list as it is; policyc still enforces all of it",
            ),
        );
    }
    let bad: Vec<&(String, Span)> =
        terms.iter().filter(|(t, _)| !ENTRA_TERM_CHARS.contains(&t.chars().count())).collect();
    for (t, span) in bad.iter().take(MAX_LIST_WARNINGS) {
        diags.push(Diagnostic::warning(
            format!("term has {} characters; Entra's custom list takes 4 to 16", t.chars().count()),
            *span,
            "outside Entra's limits",
        ));
    }
    summarize(diags, bad.len(), "terms outside Entra's 4-16 characters", def);
}

/// Validates a user-defined normalization; its sets are evaluated in `scope`.
pub(crate) fn normalization(
    def: &NormalizationDef,
    scope: &super::sets::Scope,
    diags: &mut Diagnostics,
) -> Option<Normalization> {
    let mut ok = true;
    let mut steps = Vec::with_capacity(def.steps.len());
    for step in &def.steps {
        let step = match step {
            NormStepDef::Lowercase(_) => Some(NormStep::Lowercase),
            NormStepDef::Substitute(pairs) => substitutions(pairs, diags).map(NormStep::Substitute),
            NormStepDef::Delete(e) => {
                scope.eval(e, diags).map(|set| NormStep::Delete(super::sets::ranges(&set)))
            }
            NormStepDef::Trim(e) => {
                scope.eval(e, diags).map(|set| NormStep::Trim(super::sets::ranges(&set)))
            }
        };
        match step {
            Some(step) => steps.push(step),
            None => ok = false,
        }
    }
    ok.then(|| Normalization::new(&def.name.value, steps))
}

/// Validates one step's single-character substitutions, sorted by the character replaced.
fn substitutions(
    pairs: &[(Spanned<String>, Spanned<String>)],
    diags: &mut Diagnostics,
) -> Option<Vec<(char, char)>> {
    let mut map: Vec<(char, char)> = Vec::new();
    let mut ok = true;
    for (from, to) in pairs {
        let single = |s: &Spanned<String>, diags: &mut Diagnostics| {
            let mut chars = s.value.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => Some(c),
                _ => {
                    let mut d = Diagnostic::error(
                        "a substitution maps one character to one character",
                        s.span,
                        "not a single character",
                    );
                    if s.value.is_empty() {
                        d = d.with_help("to delete characters, add a step: `then delete [...]`");
                    }
                    diags.push(d);
                    None
                }
            }
        };
        let (Some(a), Some(b)) = (single(from, diags), single(to, diags)) else {
            ok = false;
            continue;
        };
        if map.iter().any(|m| m.0 == a) {
            diags.push(Diagnostic::error(
                format!("`{a}` is substituted twice"),
                from.span,
                "already mapped earlier in this step",
            ));
            ok = false;
        }
        map.push((a, b));
    }
    map.sort_unstable();
    ok.then_some(map)
}

/// Normalizes terms with a table, as the validator will normalize passwords.
pub(crate) fn normalize_terms(
    terms: &[String],
    norm: &Normalization,
    folds: &[(u32, u32)],
) -> Vec<String> {
    let folding = Folding::new(folds);
    terms
        .iter()
        .map(|t| {
            let mut out = String::with_capacity(t.len());
            normalize_into(norm, folding, t, &mut out);
            out
        })
        .collect()
}
