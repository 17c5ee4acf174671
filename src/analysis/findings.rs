//! Compile-time analysis of one policy: no password can pass, a rule can never fail, a rule is
//! implied by another. The same product search as `diff`, over the rules that do not depend on
//! the user: the class fragment, regular expressions, repeats and sequences (banned-term lists
//! are left to `diff`: proving things about 100,000 terms would slow every compile).

use super::space::{Outcome, RuleRef, Search, Space, State, in_fragment};
use crate::Context;
use crate::ir::{Condition, Predicate, Program, Severity};

/// What the compile-time analysis found about one policy's rules (indices into the program's
/// rules).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Finding {
    /// No password passes; removing any one of these rules would let some pass.
    Unsatisfiable(Vec<usize>),
    /// The rule can never fail.
    NeverFails(usize),
    /// The rule fails only when the other one fails too.
    Implied {
        /// The redundant rule.
        rule: usize,
        /// The rule that implies it.
        by: usize,
    },
}

/// Satisfiability, rules that can never fail, and rules implied by another (rules conditioned
/// on user attributes are left out). Searches that run out of budget report nothing.
pub(crate) fn analyze(program: &Program, limit: usize) -> Vec<Finding> {
    let ctx = Context::new();
    let analyzed: Vec<usize> = program
        .rules
        .iter()
        .enumerate()
        .filter(|(_, r)| {
            let decidable = in_fragment(r)
                || matches!(
                    r.predicate,
                    Predicate::Regex { .. } | Predicate::MaxRepeat(_) | Predicate::MaxSequence(_)
                );
            decidable && r.conditions.iter().all(|c| matches!(c, Condition::Length(_)))
        })
        .map(|(i, _)| i)
        .collect();
    let study: Vec<RuleRef> = analyzed.iter().map(|&i| (0, i)).collect();
    let space = Space::new(program, program, &study, &ctx);
    let rule = |i: usize| program.rules.get(i);
    let passes = |i: usize, s: &State| space.passes((0, i), s, &ctx);
    let enforce: Vec<usize> = analyzed
        .iter()
        .copied()
        .filter(|&i| rule(i).is_some_and(|r| r.severity == Severity::Enforce))
        .collect();
    let search = std::cell::RefCell::new(Search::new(&space, limit));
    // Some(true): a password reaches the goal; Some(false): none can; None: out of budget.
    let exists = |goal: &dyn Fn(&State) -> bool| match search.borrow_mut().find(
        goal,
        None,
        usize::MAX,
        &mut |_| true,
    ) {
        Outcome::Found(_) => Some(true),
        Outcome::None => Some(false),
        Outcome::Unconfirmed | Outcome::Exhausted => None,
    };
    let mut findings = Vec::new();
    if exists(&|s| enforce.iter().all(|&i| passes(i, s))) == Some(false) {
        let culprits: Vec<usize> = enforce
            .iter()
            .copied()
            .filter(|&skip| {
                exists(&|s| enforce.iter().filter(|&&i| i != skip).all(|&i| passes(i, s)))
                    == Some(true)
            })
            .collect();
        findings.push(Finding::Unsatisfiable(if culprits.is_empty() { enforce } else { culprits }));
        return findings;
    }
    let mut never = Vec::new();
    for &i in &analyzed {
        if exists(&|s| !passes(i, s)) == Some(false) {
            never.push(i);
            findings.push(Finding::NeverFails(i));
        }
    }
    let unconditional: Vec<usize> = enforce
        .iter()
        .copied()
        .filter(|&i| !never.contains(&i) && rule(i).is_some_and(|r| r.conditions.is_empty()))
        .collect();
    for &r in &unconditional {
        for &by in &unconditional {
            if r == by {
                continue;
            }
            let implied = exists(&|s| passes(by, s) && !passes(r, s)) == Some(false);
            // Equivalent rules: report only the later one.
            let equivalent = implied && exists(&|s| passes(r, s) && !passes(by, s)) == Some(false);
            if implied && !(equivalent && r < by) {
                findings.push(Finding::Implied { rule: r, by });
                break;
            }
        }
    }
    findings
}
