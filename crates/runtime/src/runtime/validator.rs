//! The embedded validator: load an artifact, check passwords. The [`Validator`] and its public
//! surface are here; loading and verifying an artifact in [`load`], evaluating a rule in
//! [`evaluate`], and what `explain` says of each rule in [`detail`]; the per-rule plan is
//! [`super::plan`].

mod detail;
mod evaluate;
mod load;

use super::plan::Step;
use super::verdict::{INLINE_VIOLATIONS, MAX_INPUT_BYTES};
use evaluate::{Cause, Scratch};

use super::context::Context;
use super::explain::{Detail, Explanation, Outcome, RuleReport};
use super::fast::FastPath;
use super::scan::{ClassTable, Needs, Scan};
use super::verdict::{Unavailable, Verdict, Violation};
use crate::artifact::region::Region;
use crate::artifact::trie::TrieLayout;
use crate::ir::{Predicate, Program, Rule, Severity};
use crate::store::{StoreAccess, StoreHandle};
use regex_automata::dfa::dense::DFA;
use std::sync::{Arc, OnceLock};

/// A loaded, verified policy, ready to check passwords. `Send + Sync`: share it across threads.
///
/// ```
/// use policyc_runtime::{Context, Validator};
///
/// // An artifact `policyc compile` wrote (here the shipped Microsoft 365 policy).
/// let bytes = include_bytes!("../../../../tests/golden/artifacts/office365.policyc");
/// let validator = Validator::from_bytes(bytes)?;
/// let nobody = Context::new();
///
/// assert!(validator.complies("Tr0ub4dor&3", &nobody));
/// let verdict = validator.check("Résumé12", &nobody);
/// assert!(!verdict.is_compliant());
/// assert_eq!(verdict.violations()[0].rule(), "charset");
///
/// // Rule by rule, for a help desk: what was measured, never the password.
/// let explanation = validator.explain("short", &nobody);
/// assert_eq!(explanation.rules.len(), validator.program().rules.len());
/// # Ok::<(), policyc_runtime::artifact::LoadError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Validator {
    /// The program as the artifact holds it: its term sets without their terms, which lie in
    /// `region` with their tries.
    program: Program,
    /// The program with its terms, read from `region` when first asked for.
    full: OnceLock<Program>,
    dfas: Vec<DFA<Vec<u32>>>,
    table: ClassTable,
    /// One trie per term set, in the artifact's form, in `region`.
    tries: Vec<TrieLayout>,
    region: Arc<Region>,
    /// One handle per breached-password store, opened at the first lookup.
    stores: Vec<StoreHandle>,
    /// Per rule, how to decide it: most rules reduce to a mask test on the scan.
    plan: Vec<Step>,
    /// For class-only programs: `complies` in one table-driven pass.
    fast: Option<FastPath>,
    /// The fast path decides every rule (no audit rule, which it skips), so `check` takes it
    /// too: its one pass names the failing rules of an ASCII password without a refused
    /// character.
    fast_check: bool,
    needs: Needs,
    /// Some rule is a strength rule (evaluated last, and only when the others pass).
    has_strength: bool,
    digest: [u8; 32],
}

impl Validator {
    /// The rule program this validator runs, with its term lists (read from the artifact's
    /// trie words the first time: a validator that checks as it reads, see
    /// [`Validator::from_file`], records any damage found then in [`Validator::damage`]).
    pub fn program(&self) -> &Program {
        if self.program.term_sets.is_empty() {
            return &self.program;
        }
        self.full.get_or_init(|| {
            let mut full = self.program.clone();
            let r = self.region.checked::<true>();
            for (set, layout) in full.term_sets.iter_mut().zip(&self.tries) {
                let trie = layout.trie(r);
                for term in (0..trie.terms()).filter_map(|i| trie.term(i)) {
                    set.text.push_str(term);
                    set.ends.push(u32::try_from(set.text.len()).unwrap_or(u32::MAX));
                }
            }
            full
        })
    }

    /// The user attributes the policy's rules read (what a directory hook looks up).
    pub fn attributes(&self) -> crate::ir::AttributeSet {
        self.program.attributes()
    }

    /// This validator for a process that will use the policy's breached-password stores as
    /// `access` says (by default [`StoreAccess::Sparse`], for a process that checks a few
    /// passwords; a long-running one gains from [`StoreAccess::Resident`]). Stores opened before
    /// are opened again on the next lookup.
    #[must_use]
    pub fn with_store_access(mut self, access: StoreAccess) -> Validator {
        self.stores =
            self.stores.iter().map(|s| StoreHandle::with_access(s.path(), access)).collect();
        self
    }

    /// Damage found in the artifact while checking, if any (only a validator that checks as it
    /// reads, [`Validator::from_file`], can find it then): every rule evaluated over the
    /// damaged part since could not be evaluated and refused the password.
    pub fn damage(&self) -> Option<&str> {
        self.region.damage()
    }

    /// SHA-256 of the artifact's payload: identifies the exact policy version.
    pub fn digest(&self) -> &[u8; 32] {
        &self.digest
    }

    /// Approximate heap memory held by the loaded policy: term lists and their search tries,
    /// automata, tables.
    pub fn heap_bytes(&self) -> usize {
        let dfas: usize = self.dfas.iter().map(|d| d.memory_usage()).sum();
        // The program with its terms, once `program` was asked for.
        let terms: usize = self.full.get().map_or(0, |p| {
            p.term_sets.iter().map(|s| s.text.capacity() + s.ends.capacity() * 4).sum()
        });
        self.region.heap_bytes() + terms + dfas + self.program.case_folds.capacity() * 8
    }

    /// The policy's name.
    pub fn name(&self) -> &str {
        &self.program.name
    }

    /// `name@digest-prefix`: the policy version, as logs and reports name it.
    pub fn label(&self) -> String {
        format!("{}@{}", self.program.name, self.digest_hex().get(..12).unwrap_or(""))
    }

    /// The digest as lowercase hex.
    pub fn digest_hex(&self) -> String {
        self.digest.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Whether a password complies, without listing violations: stops at the first violated
    /// enforce rule and skips audit rules. Same answer as `check(..).is_compliant()`, faster
    /// for refusals and for policies with audit or strength rules.
    #[inline]
    pub fn complies(&self, password: &str, ctx: &Context) -> bool {
        if password.len() > MAX_INPUT_BYTES {
            return false;
        }
        if let Some(fast) = &self.fast
            && let Some(verdict) = fast.complies(password)
        {
            return verdict;
        }
        self.complies_in_general(password, ctx)
    }

    #[inline(never)]
    fn complies_in_general(&self, password: &str, ctx: &Context) -> bool {
        let mut scan = Scan::new();
        self.table.scan_into(password, self.needs, &mut scan);
        let mut scratch = Scratch::default();
        let mut decide = |strength: bool| {
            self.rules().all(|(r, step)| {
                r.severity == Severity::Audit
                    || matches!(r.predicate, Predicate::Strength { .. }) != strength
                    || self.passes(r, step, &scan, password, ctx, &mut scratch)
            })
        };
        // Cheap rules first, strength rules (zxcvbn) only if all of those pass.
        decide(false) && (!self.has_strength || decide(true))
    }

    fn rules(&self) -> impl Iterator<Item = (&Rule, Step)> {
        self.program.rules.iter().zip(self.plan.iter().copied())
    }

    /// Whether a rule passes (or does not apply).
    #[inline(always)]
    fn passes(
        &self,
        rule: &Rule,
        step: Step,
        scan: &Scan,
        password: &str,
        ctx: &Context,
        scratch: &mut Scratch,
    ) -> bool {
        match step {
            Step::Length { min, max } => scan.chars >= min && scan.chars <= max,
            Step::Only(mask) => scan.every & mask != 0,
            Step::NoneOf(mask) => scan.seen & mask == 0,
            Step::AtLeast { n, mask } => (scan.seen & mask).count_ones() >= n,
            Step::General => {
                !self.applies(rule, scan, ctx) || self.holds(rule, scan, password, ctx, scratch)
            }
        }
    }

    /// Checks a password for a user. Lists every violated rule; allocates nothing for ASCII
    /// passwords (a few violations are kept inline) unless the policy has attribute-containment
    /// or banned-term rules.
    ///
    /// Inlined: the verdict of the fast path is built where the caller keeps it (returned from
    /// a call, its inline violations would be copied).
    #[inline]
    pub fn check<'v>(&'v self, password: &str, ctx: &Context) -> Verdict<'v> {
        if password.len() > MAX_INPUT_BYTES {
            return Verdict::oversized();
        }
        if self.fast_check
            && let Some(fast) = &self.fast
            && let Some(mut failed) = fast.failures(password)
        {
            // Built by value, never through a pointer, so that it is written where the caller
            // keeps it: a copy of the inline violations cost more than the pass.
            let violation = |i: u32| self.program.rules.get(i as usize).map(Violation::of);
            let Some(first) = violation(failed.trailing_zeros()) else {
                return Verdict {
                    violations: super::verdict::Violations::new(),
                    unavailable: Vec::new(),
                };
            };
            let all = failed;
            let mut buf = [first; INLINE_VIOLATIONS];
            let mut n = 0;
            for slot in &mut buf {
                if let Some(v) = violation(failed.trailing_zeros()) {
                    *slot = v;
                    n += 1;
                }
                failed &= failed.wrapping_sub(1);
            }
            if failed != 0 {
                // More than fit inline.
                return self.fast_verdict(all);
            }
            return Verdict {
                violations: super::verdict::Violations::from_buf_and_len(buf, n),
                unavailable: Vec::new(),
            };
        }
        self.check_in_general(password, ctx)
    }

    /// The verdict naming the rules in `failed` (bit i for rule i), in policy order. One local,
    /// returned on the only path: it is built in the caller's slot.
    #[inline(never)]
    fn fast_verdict(&self, mut failed: u64) -> Verdict<'_> {
        let mut verdict =
            Verdict { violations: super::verdict::Violations::new(), unavailable: Vec::new() };
        while failed != 0 {
            if let Some(rule) = self.program.rules.get(failed.trailing_zeros() as usize) {
                verdict.violations.push(Violation::of(rule));
            }
            failed &= failed - 1;
        }
        verdict
    }

    /// [`Validator::check`] rule by rule.
    #[inline(never)]
    fn check_in_general<'v>(&'v self, password: &str, ctx: &Context) -> Verdict<'v> {
        // Built in place and returned as is: moving the inline violations would copy them.
        let mut verdict =
            Verdict { violations: super::verdict::Violations::new(), unavailable: Vec::new() };
        let violations = &mut verdict.violations;
        let mut scan = Scan::new();
        self.table.scan_into(password, self.needs, &mut scan);
        let mut scratch = Scratch::default();
        let unavailable = &mut verdict.unavailable;
        let mut violation = |rule: &'v Rule, scratch: &mut Scratch| match scratch.unavailable.take()
        {
            Some(cause) => {
                unavailable.push(Unavailable { rule: rule.id.as_str(), reason: cause.reason() });
                Violation::told(rule, cause.told())
            }
            None => Violation::of(rule),
        };
        if !self.has_strength {
            for (rule, step) in self.rules() {
                if !self.passes(rule, step, &scan, password, ctx, &mut scratch) {
                    violations.push(violation(rule, &mut scratch));
                }
            }
            return verdict;
        }
        // Strength rules are expensive: they run last, and only if every other enforce rule passed.
        for strength_pass in [false, true] {
            if strength_pass
                && violations.iter().any(|v: &Violation<'_>| v.severity() == Severity::Enforce)
            {
                break;
            }
            for (rule, step) in self.rules() {
                let is_strength = matches!(rule.predicate, Predicate::Strength { .. });
                if is_strength == strength_pass
                    && !self.passes(rule, step, &scan, password, ctx, &mut scratch)
                {
                    violations.push(violation(rule, &mut scratch));
                }
            }
        }
        // Keep policy order whatever the evaluation order was.
        let order = |id: &str| self.program.rules.iter().position(|r| r.id.as_str() == id);
        violations.sort_by_key(|v| order(v.rule()));
        verdict
    }

    /// Checks a password and reports on every rule: pass, fail or not applicable, and why.
    pub fn explain<'v>(&'v self, password: &str, ctx: &Context) -> Explanation<'v> {
        if password.len() > MAX_INPUT_BYTES {
            return Explanation { refused_input: Some(MAX_INPUT_BYTES), rules: Vec::new() };
        }
        let all = Needs { counts: true, runs: true };
        let mut scan = Scan::new();
        self.table.scan_into(password, all, &mut scan);
        let mut scratch = Scratch::default();
        let rules = self
            .program
            .rules
            .iter()
            .map(|rule| {
                if !self.applies(rule, &scan, ctx) {
                    return RuleReport {
                        rule,
                        outcome: Outcome::NotApplicable,
                        detail: Detail::None,
                    };
                }
                let passed = self.holds(rule, &scan, password, ctx, &mut scratch);
                let detail = match scratch.unavailable.take() {
                    // A store that cannot be read has its own detail, saying why.
                    Some(Cause::Damaged(why)) => {
                        Detail::Unavailable { reason: Cause::Damaged(why).reason() }
                    }
                    _ => self.detail(&rule.predicate, &scan, password, ctx, &mut scratch),
                };
                // The detail re-evaluates the parts of a composite rule: what it found belongs
                // to this rule, not the next.
                scratch.unavailable = None;
                RuleReport {
                    rule,
                    outcome: if passed { Outcome::Passed } else { Outcome::Failed },
                    detail,
                }
            })
            .collect();
        Explanation { refused_input: None, rules }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs with and without the `strength` feature (`scripts/test.sh` runs both).
    #[test]
    fn strength_rules_need_the_strength_feature() {
        let bytes = include_bytes!("../../../../tests/golden/artifacts/strength.policyc");
        let loaded = Validator::from_bytes(bytes);
        #[cfg(feature = "strength")]
        assert!(loaded.is_ok());
        #[cfg(not(feature = "strength"))]
        assert!(matches!(loaded, Err(crate::artifact::LoadError::Unsupported(_))));
        let other = include_bytes!("../../../../tests/golden/artifacts/terms.policyc");
        assert!(Validator::from_bytes(other).is_ok());
    }

    /// The cloud policy takes the one-pass fast path and agrees with the general path; a policy
    /// with other rules does not take it.
    #[test]
    fn class_only_policies_take_the_fast_path() {
        let bytes = include_bytes!("../../../../tests/golden/artifacts/office365.policyc");
        let Ok(v) = Validator::from_bytes(bytes) else { panic!("office365 loads") };
        assert!(v.fast.is_some());
        let ctx = Context::new();
        for pw in ["", "short1A", "Passw0rd", "password", "Passw0rd\t", "Pässw0rd", "Pa55 word!"] {
            let fast = v.fast.as_ref().and_then(|f| f.complies(pw));
            // ASCII is decided; other passwords go to the general path unless refused earlier.
            assert!(if pw.is_ascii() { fast.is_some() } else { fast != Some(true) }, "{pw:?}");
            assert_eq!(v.complies(pw, &ctx), v.check(pw, &ctx).is_compliant(), "{pw:?}");
        }
        assert!(v.complies("Passw0rd", &ctx) && !v.complies("password", &ctx));
        // No audit rule: `check` takes the fast path, and names the rules the general path
        // names (a refused or non-ASCII character goes there).
        assert!(v.fast_check);
        let fast = v.fast.as_ref().map(|f| (f.failures("short"), f.failures("x\tyyyyyyyyy")));
        assert_eq!(fast, Some((Some(0b101), None)));
        assert!(v.check("Passw0rd", &ctx).violations().is_empty());
        assert_eq!(v.check("password", &ctx).violations().len(), 1);
        let names = |pw: &str| -> Vec<&str> {
            v.check(pw, &ctx).violations().iter().map(|x| x.rule()).collect()
        };
        assert_eq!(names("short"), ["length", "classes"]);
        assert_eq!(names("short\t"), ["length", "charset", "classes"]);
        assert_eq!(names("Pässw0rd"), ["charset"]);
        // A refused or non-ASCII character anywhere, in every block and in the last eight bytes
        // read again, at every length up to three blocks.
        for len in 1..=24 {
            let base: String = "aB3$".chars().cycle().take(len).collect();
            assert_eq!(v.complies(&base, &ctx), len >= 8, "{base:?}");
            for at in 0..len {
                for odd in ['\t', 'é'] {
                    let pw: String = base
                        .chars()
                        .enumerate()
                        .map(|(i, c)| if i == at { odd } else { c })
                        .collect();
                    assert!(!v.complies(&pw, &ctx), "{pw:?}");
                    assert!(names(&pw).contains(&"charset"), "{pw:?}");
                }
            }
        }
        let terms = include_bytes!("../../../../tests/golden/artifacts/terms.policyc");
        let Ok(t) = Validator::from_bytes(terms) else { panic!("terms loads") };
        assert!(t.fast.is_none());
    }
}
