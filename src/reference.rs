//! The reference evaluator: interprets the rule [`Program`] directly and plainly (iterate the
//! characters, count, compare), with independent machinery where the validator is clever: class
//! membership by scanning ranges, regexes with regex-automata's PikeVM instead of the compiled
//! DFAs, and case-insensitive matching with regex-syntax's case folding instead of [`fold`].
//! It is the oracle the property tests hold the [`Validator`] to; it is not meant to be fast.
//!
//! [`fold`]: crate::runtime::fold::fold
//! [`Validator`]: crate::Validator

use crate::Context;
use crate::ir::{Condition, Containment, Predicate, Program, Rule};
use crate::runtime::{INPUT_SIZE_RULE, MAX_INPUT_BYTES};
use regex_automata::nfa::thompson::pikevm::PikeVM;

/// The ids of the rules `password` violates, in policy order (enforce and audit alike).
pub fn violations(program: &Program, password: &str, ctx: &Context) -> Vec<String> {
    if password.len() > MAX_INPUT_BYTES {
        return vec![INPUT_SIZE_RULE.to_string()];
    }
    program
        .rules
        .iter()
        .filter(|r| applies(r, password, ctx) && !holds(program, r, password, ctx))
        .map(|r| r.id.as_str().to_string())
        .collect()
}

fn length(password: &str) -> u32 {
    password.chars().count() as u32
}

fn applies(rule: &Rule, password: &str, ctx: &Context) -> bool {
    rule.conditions.iter().all(|c| match c {
        Condition::Length(b) => b.contains(length(password)),
        Condition::Has { attribute, value } => ctx
            .get(*attribute)
            .iter()
            .any(|v| matches_ignoring_case(&format!("^{}$", regex_syntax::escape(value)), v)),
    })
}

fn holds(program: &Program, rule: &Rule, password: &str, ctx: &Context) -> bool {
    let class = |id: &crate::ir::ClassId| program.classes.get(id.0 as usize);
    let count = |id: &crate::ir::ClassId| {
        class(id).map_or(0, |c| password.chars().filter(|ch| c.contains(*ch)).count() as u32)
    };
    match &rule.predicate {
        Predicate::Length(b) => b.contains(length(password)),
        Predicate::Only(c) => count(c) == length(password),
        Predicate::NoneOf(c) => count(c) == 0,
        Predicate::AtLeastOf { n, classes } => {
            classes.iter().filter(|c| count(c) > 0).count() >= *n as usize
        }
        Predicate::Count { class, bounds } => bounds.contains(count(class)),
        Predicate::Regex { pattern, negated, .. } => match PikeVM::new(pattern) {
            Ok(vm) => {
                let mut cache = vm.create_cache();
                vm.is_match(&mut cache, password) != *negated
            }
            Err(_) => false,
        },
        Predicate::MaxRepeat(max) => longest_run(password, |a, b| a == b) <= *max,
        Predicate::MaxSequence(max) => {
            let up = longest_run(password, |a, b| a.checked_add(1) == Some(b));
            let down = longest_run(password, |a, b| a.checked_sub(1) == Some(b));
            up.max(down) <= *max
        }
        Predicate::NotContains(checks) => {
            !checks.iter().any(|c| contains_attribute(c, password, ctx))
        }
    }
}

/// Length of the longest run of characters where each follows the previous by `next`.
fn longest_run(password: &str, next: impl Fn(u32, u32) -> bool) -> u32 {
    let chars: Vec<u32> = password.chars().map(|c| c as u32).collect();
    let mut best = 0;
    for start in 0..chars.len() {
        let mut len = 1;
        while start + len < chars.len() && next(chars[start + len - 1], chars[start + len]) {
            len += 1;
        }
        best = best.max(len as u32);
    }
    best
}

fn contains_attribute(check: &Containment, password: &str, ctx: &Context) -> bool {
    ctx.get(check.attribute).iter().any(|value| {
        let tokens: Vec<&str> = if check.delimiters.is_empty() {
            vec![value.as_str()]
        } else {
            value.split(|c| check.delimiters.contains(&c)).collect()
        };
        tokens.into_iter().any(|t| {
            t.chars().count() >= check.min_chars.max(1) as usize
                && matches_ignoring_case(&regex_syntax::escape(t), password)
        })
    })
}

fn matches_ignoring_case(pattern: &str, haystack: &str) -> bool {
    match PikeVM::new(&format!("(?i){pattern}")) {
        Ok(vm) => {
            let mut cache = vm.create_cache();
            vm.is_match(&mut cache, haystack)
        }
        Err(_) => false,
    }
}
