//! Whole-policy checks on the finished program: rules that no password can satisfy together,
//! and conditions that can never hold.

use super::{Placed, class_set};
use crate::analysis::Finding;
use crate::diagnostic::{Diagnostic, Diagnostics};
use policyc_runtime::ir::{Bounds, Condition, Predicate, Program, Severity};
use regex_syntax::hir::ClassUnicode;

/// States the compile-time analysis may explore per question.
const ANALYSIS_STATES: usize = 20_000;

/// Reports what the search over the class fragment finds: a policy no password can pass,
/// rules that can never fail, rules implied by another.
fn analysis(program: &Program, placed: &[Placed], diags: &mut Diagnostics) {
    let id = |i: usize| placed.get(i).map_or("?", |p| p.rule.id.as_str());
    for finding in crate::analysis::analyze(program, ANALYSIS_STATES) {
        match finding {
            Finding::Unsatisfiable(rules) => {
                let names: Vec<&str> = rules.iter().map(|&i| id(i)).collect();
                if let Some(p) = rules.last().and_then(|&i| placed.get(i)) {
                    diags.push(
                        Diagnostic::error(
                            format!("no password can pass: {} conflict", list(&names)),
                            p.span,
                            "no password satisfies this rule and the others",
                        )
                        .with_help("relax one of these rules"),
                    );
                }
            }
            Finding::NeverFails(i) => {
                if let Some(p) = placed.get(i) {
                    diags.push(Diagnostic::warning(
                        format!("rule `{}` can never fail", id(i)),
                        p.span,
                        "every password passes it",
                    ));
                }
            }
            Finding::Implied { rule, by } => {
                if let Some(p) = placed.get(rule) {
                    diags.push(
                        Diagnostic::warning(
                            format!("rule `{}` is implied by rule `{}`", id(rule), id(by)),
                            p.span,
                            "it never fails when the other passes",
                        )
                        .with_help("remove it, or make it stricter"),
                    );
                }
            }
        }
    }
}

/// Reports conflicts among the rules that always apply and reject.
pub(crate) fn check_program(program: &Program, placed: &[Placed], diags: &mut Diagnostics) {
    let before = diags.iter().count();
    check_simple(program, placed, diags);
    // The deeper search only when the direct checks found nothing (they explain better).
    if diags.iter().skip(before).all(|d| d.level != crate::diagnostic::Level::Error) {
        analysis(program, placed, diags);
    }
}

/// The direct checks: length ranges, allowed characters against required classes.
fn check_simple(program: &Program, placed: &[Placed], diags: &mut Diagnostics) {
    let always: Vec<&Placed> = placed
        .iter()
        .filter(|p| p.rule.conditions.is_empty() && p.rule.severity == Severity::Enforce)
        .collect();

    // Length: the intersection of every unconditional length rule.
    let mut length = Bounds { min: 0, max: None };
    let mut length_rules: Vec<&str> = Vec::new();
    for p in &always {
        if let Predicate::Length(b) = &p.rule.predicate {
            let next = intersect(length, *b);
            if next.is_none() {
                diags.push(
                    Diagnostic::error(
                        format!(
                            "no password can pass: rule `{}` conflicts with {}",
                            p.rule.id,
                            list(&length_rules)
                        ),
                        p.span,
                        format!("requires a length of {b}, the other rules {length}"),
                    )
                    .with_help("make the length ranges overlap"),
                );
                return;
            }
            length = next.unwrap_or(length);
            length_rules.push(p.rule.id.as_str());
        }
    }

    // Characters: what `only` allows, minus what `no` forbids.
    let mut allowed =
        ClassUnicode::new([regex_syntax::hir::ClassUnicodeRange::new('\0', char::MAX)]);
    let mut limiting: Vec<&str> = Vec::new();
    for p in &always {
        match &p.rule.predicate {
            Predicate::Only(c) => allowed.intersect(&class_set(program, *c)),
            Predicate::NoneOf(c) => allowed.difference(&class_set(program, *c)),
            _ => continue,
        }
        limiting.push(p.rule.id.as_str());
    }
    if allowed.ranges().is_empty() && length.min > 0 {
        if let Some(p) = always.iter().rev().find(|p| limiting.contains(&p.rule.id.as_str())) {
            diags.push(Diagnostic::error(
                format!("no password can pass: no character is allowed (see {})", list(&limiting)),
                p.span,
                "no character is left",
            ));
        }
        return;
    }
    for p in &always {
        match &p.rule.predicate {
            Predicate::Count { class, bounds } if bounds.min > 0 => {
                let mut s = class_set(program, *class);
                s.intersect(&allowed);
                if s.ranges().is_empty() {
                    diags.push(
                        Diagnostic::error(
                            format!("no password can pass: rule `{}` requires characters that are not allowed (see {})", p.rule.id, list(&limiting)),
                            p.span,
                            "requires a class outside the allowed characters",
                        )
                        .with_help("add the class to the allowed set, or drop this requirement"),
                    );
                }
            }
            Predicate::AtLeastOf { n, classes } => {
                let possible = classes
                    .iter()
                    .filter(|c| {
                        let mut s = class_set(program, **c);
                        s.intersect(&allowed);
                        !s.ranges().is_empty()
                    })
                    .count();
                if possible < *n as usize {
                    diags.push(
                        Diagnostic::error(
                            format!("no password can pass: rule `{}` needs {n} of its classes, but only {possible} can occur (see {})", p.rule.id, list(&limiting)),
                            p.span,
                            "requires classes outside the allowed characters",
                        )
                        .with_help("allow more of these classes, or lower the number"),
                    );
                }
            }
            _ => {}
        }
    }

    // Conditions that the unconditional length rules make impossible.
    for p in placed {
        for c in &p.rule.conditions {
            if let Condition::Length(b) = c
                && intersect(length, *b).is_none()
            {
                diags.push(Diagnostic::warning(
                        format!("rule `{}` never applies: its condition needs a length of {b}, but every password has a length of {length} (see {})", p.rule.id, list(&length_rules)),
                        p.span,
                        "this rule is dead",
                    ));
            }
        }
    }
}

fn intersect(a: Bounds, b: Bounds) -> Option<Bounds> {
    let min = a.min.max(b.min);
    let max = match (a.max, b.max) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    };
    if max.is_some_and(|m| m < min) { None } else { Some(Bounds { min, max }) }
}

fn list(ids: &[&str]) -> String {
    match ids {
        [] => "the other rules".to_string(),
        [one] => format!("rule `{one}`"),
        many => format!(
            "rules {}",
            many.iter().map(|i| format!("`{i}`")).collect::<Vec<_>>().join(", ")
        ),
    }
}
