//! Compile-time analysis of one policy: no password can pass, a rule can never fail, a rule is
//! implied by another; and whether a set of policies conflicts (what `generate` explains). The
//! same product search as `diff`, over the class fragment, regular expressions, repeats,
//! sequences and (for a given user) containment; banned-term lists are left to `diff`:
//! proving things about 100,000 terms would slow every compile. Leaving rules out only widens
//! a search, so a proof that no password passes still holds.

use super::space::{RuleRef, Search, Space, State, enforced, in_fragment};
use policyc_runtime::Context;
use policyc_runtime::ir::{Condition, Predicate, Program, Rule, Severity};

/// Whether the search decides `rule`: without a user, only rules that do not depend on one.
fn searchable(rule: &Rule, user: bool) -> bool {
    let decidable = in_fragment(rule)
        || matches!(
            rule.predicate,
            Predicate::Regex { .. }
                | Predicate::MaxRepeat(_)
                | Predicate::MaxSequence(_)
                | Predicate::LengthIn { .. }
        )
        || (user
            && matches!(
                rule.predicate,
                Predicate::NotContains(_) | Predicate::NotContainsEitherWay(_)
            ));
    decidable && (user || rule.conditions.iter().all(|c| matches!(c, Condition::Length(_))))
}

/// If no password satisfies every policy of `programs` together for the user `ctx` (proved),
/// the rules that conflict, with their policies: a minimal set that no password passes
/// together (dropping any one of them lets some password pass). `None` when some password may
/// pass, or the search ran out of its `limit` of states first.
pub fn conflict<'p>(
    programs: &[&'p Program],
    ctx: &Context,
    limit: usize,
) -> Option<Vec<(&'p Program, &'p Rule)>> {
    let study: Vec<RuleRef> = programs
        .iter()
        .enumerate()
        .flat_map(|(p, prog)| {
            enforced(prog, p)
                .filter(|&(_, i)| prog.rules.get(i).is_some_and(|r| searchable(r, true)))
        })
        .collect();
    let space = Space::new(programs, &study, ctx);
    let culprits = Search::new(&space, limit).conflict(&study, ctx)?;
    culprits
        .into_iter()
        .map(|(p, i)| programs.get(p).and_then(|prog| Some((*prog, prog.rules.get(i)?))))
        .collect()
}

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
        .filter(|(_, r)| searchable(r, false))
        .map(|(i, _)| i)
        .collect();
    let study: Vec<RuleRef> = analyzed.iter().map(|&i| (0, i)).collect();
    let space = Space::new(&[program], &study, &ctx);
    let rule = |i: usize| program.rules.get(i);
    let passes = |i: usize, s: &State| space.passes((0, i), s, &ctx);
    let enforce: Vec<usize> = analyzed
        .iter()
        .copied()
        .filter(|&i| rule(i).is_some_and(|r| r.severity == Severity::Enforce))
        .collect();
    let mut search = Search::new(&space, limit);
    let mut findings = Vec::new();
    let must_pass: Vec<RuleRef> = enforce.iter().map(|&i| (0, i)).collect();
    if let Some(culprits) = search.conflict(&must_pass, &ctx) {
        findings.push(Finding::Unsatisfiable(culprits.into_iter().map(|(_, i)| i).collect()));
        return findings;
    }
    let mut never = Vec::new();
    for &i in &analyzed {
        if search.exists(&|s| !passes(i, s)) == Some(false) {
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
            let implied = search.exists(&|s| passes(by, s) && !passes(r, s)) == Some(false);
            // Equivalent rules: report only the later one.
            let equivalent =
                implied && search.exists(&|s| passes(r, s) && !passes(by, s)) == Some(false);
            if implied && !(equivalent && r < by) {
                findings.push(Finding::Implied { rule: r, by });
                break;
            }
        }
    }
    findings
}
