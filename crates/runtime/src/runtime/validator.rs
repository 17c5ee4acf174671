//! The embedded validator: load an artifact, check passwords.

use super::context::Context;
use super::entra;
use super::explain::{Detail, Explanation, Given, Measurement, Outcome, Part, RuleReport};
use super::fast::FastPath;
use super::fold::{Folding, contains_folded, push_caseless};
use super::measure;
use super::region::Region;
use super::scan::{ClassTable, MAX_CLASSES, Needs, Scan};
use super::terms::{self, Trie, TrieLayout, normalize_into};
use super::verdict::{
    DAMAGED_POLICY_MESSAGE, UNAVAILABLE_MESSAGE, Unavailable, Verdict, Violation,
};
use crate::artifact::{self, LoadError};
use crate::ir::{
    Attribute, Award, Condition, Containment, Measure, Predicate, Program, Rule, Severity, Unit,
};
use crate::store::{Lookup, StoreAccess, StoreError, StoreHandle};
use regex_automata::Input;
use regex_automata::dfa::{Automaton, dense::DFA};
use std::path::Path;
use std::sync::{Arc, OnceLock};
use zeroize::Zeroizing;

/// Largest password accepted for checking, in bytes. Larger inputs are refused unprocessed
/// with the [`INPUT_SIZE_RULE`] violation (the cloud's own limit is 256 characters).
pub const MAX_INPUT_BYTES: usize = 4096;

/// The id of the violation reported for inputs over [`MAX_INPUT_BYTES`].
pub const INPUT_SIZE_RULE: &str = "input_size";
pub(crate) const INPUT_SIZE_MESSAGE: &str =
    "The password is too long to check (more than 4096 bytes).";

/// A loaded, verified policy, ready to check passwords. `Send + Sync`: share it across threads.
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
    needs: Needs,
    /// Some rule is a strength rule (evaluated last, and only when the others pass).
    has_strength: bool,
    digest: [u8; 32],
}

impl Validator {
    /// Loads an artifact from memory, verifying all of it: header, checksums, every automaton
    /// and every trie.
    ///
    /// # Errors
    /// A [`LoadError`] that says what is wrong with the bytes; never a validator built from a
    /// damaged artifact.
    pub fn from_bytes(bytes: &[u8]) -> Result<Validator, LoadError> {
        Validator::decode(bytes, None)
    }

    /// Loads an artifact from an open file, mapped, for a process that checks a few passwords
    /// and exits (the Samba hook): the header, the program and the automata are verified now;
    /// the term lists and their tries, whatever their size, are walked in place and each 4 KiB
    /// block is checked against its checksum when a check first reads it. A check that finds
    /// damage fails closed: the rules it could not evaluate are violations with
    /// [`DAMAGED_POLICY_MESSAGE`], listed in [`Verdict::unavailable`], and [`Validator::damage`]
    /// says why from then on. The file must not change in place while the validator lives (a
    /// file truncated under a map faults the process; renaming a new file into place is safe).
    /// [`Validator::from_path`] reads and verifies everything instead.
    ///
    /// # Errors
    /// [`LoadError::Io`] when the file cannot be mapped, else as [`Validator::from_bytes`] for
    /// the parts verified now.
    pub fn from_file(file: &std::fs::File, path: &Path) -> Result<Validator, LoadError> {
        let map = crate::mapped::map(file, crate::mapped::Reads::Whole)
            .map_err(|source| LoadError::Io { path: path.to_path_buf(), source })?;
        Validator::from_map(Arc::new(map))
    }

    /// Loads an artifact from a mapped file (already checked, e.g. its signature), verifying
    /// the term lists as they are read (see [`Validator::from_file`]).
    pub fn from_map(map: Arc<memmap2::Mmap>) -> Result<Validator, LoadError> {
        Validator::decode(&map, Some(&map))
    }

    /// Decodes and checks; the trie words stay in `mapped` when given (and aligned), checked
    /// as they are read, else are copied into aligned memory and checked now.
    fn decode(bytes: &[u8], mapped: Option<&Arc<memmap2::Mmap>>) -> Result<Validator, LoadError> {
        let decoded = artifact::decode(bytes)?;
        let range = decoded.trie_words.clone();
        let raw = bytes.get(range.clone()).unwrap_or(&[]);
        let (region, lazily) = match mapped {
            Some(map) if bytemuck::try_cast_slice::<u8, u32>(raw).is_ok() => {
                (Region::mapped(Arc::clone(map), range, decoded.crcs), true)
            }
            _ => {
                let mut words = vec![0u32; raw.len() / 4];
                bytemuck::cast_slice_mut::<u32, u8>(&mut words).copy_from_slice(raw);
                (Region::owned(words, decoded.crcs), false)
            }
        };
        let program = decoded.program;
        verify_program(&program, decoded.dfas.len())?;
        let table = ClassTable::new(&program.classes);
        let mut needs = Needs::default();
        let mut has_strength = false;
        for rule in &program.rules {
            rule.predicate.walk(&mut |p| match p {
                Predicate::Count { .. } | Predicate::CountExcept { .. } => needs.counts = true,
                Predicate::Points { awards, .. } => {
                    needs.counts |=
                        awards.iter().any(|a| matches!(a, Award::Per { class: Some(_), .. }))
                }
                Predicate::MaxRepeat(_) | Predicate::MaxSequence(_) => needs.runs = true,
                Predicate::Strength { .. } => has_strength = true,
                _ => {}
            });
        }
        if has_strength {
            #[cfg(feature = "strength")]
            super::strength::warm_up();
            #[cfg(not(feature = "strength"))]
            return Err(LoadError::Unsupported(
                "strength rules (the `strength` feature, zxcvbn)".into(),
            ));
        }
        if decoded.tries.len() != program.term_sets.len() {
            return Err(LoadError::Malformed("a term list has no trie".into()));
        }
        for layout in &decoded.tries {
            layout.open(region.checked()).map_err(|e| LoadError::Malformed(e.to_string()))?;
        }
        if !lazily {
            region.check_all().map_err(|_| LoadError::ChecksumMismatch)?;
            for layout in &decoded.tries {
                layout.verify(region.words()).map_err(|e| LoadError::Malformed(e.to_string()))?;
            }
        }
        let stores = program.stores.iter().map(|s| StoreHandle::new(&s.path)).collect();
        let plan: Vec<Step> = program.rules.iter().map(Step::new).collect();
        let fast = FastPath::new(program.rules.iter().zip(plan.iter().copied()), table.ascii());
        Ok(Validator {
            program,
            full: OnceLock::new(),
            dfas: decoded.dfas,
            table,
            tries: decoded.tries,
            region: Arc::new(region),
            stores,
            plan,
            fast,
            needs,
            has_strength,
            digest: decoded.digest,
        })
    }

    /// Loads an artifact file.
    ///
    /// # Errors
    /// [`LoadError::Io`] when the file cannot be read, else as [`Validator::from_bytes`].
    pub fn from_path(path: impl AsRef<Path>) -> Result<Validator, LoadError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path)
            .map_err(|source| LoadError::Io { path: path.to_path_buf(), source })?;
        Validator::from_bytes(&bytes)
    }

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
    pub fn check<'v>(&'v self, password: &str, ctx: &Context) -> Verdict<'v> {
        if password.len() > MAX_INPUT_BYTES {
            return Verdict::oversized();
        }
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
                let message = cause.message();
                unavailable.push(Unavailable { rule: rule.id.as_str(), reason: cause.reason() });
                Violation { rule: rule.id.as_str(), message, severity: rule.severity }
            }
            None => Violation {
                rule: rule.id.as_str(),
                message: &rule.message,
                severity: rule.severity,
            },
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
                && violations.iter().any(|v: &Violation<'_>| v.severity == Severity::Enforce)
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
        violations.sort_by_key(|v| order(v.rule));
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

    fn applies(&self, rule: &Rule, scan: &Scan, ctx: &Context) -> bool {
        rule.conditions.iter().all(|c| match c {
            Condition::Length(b) => b.contains(scan.chars),
            Condition::Has { attribute, value } => ctx.has(self.folding(), *attribute, value),
            Condition::Lacks { attribute, value } => !ctx.has(self.folding(), *attribute, value),
        })
    }

    fn holds(
        &self,
        rule: &Rule,
        scan: &Scan,
        password: &str,
        ctx: &Context,
        scratch: &mut Scratch,
    ) -> bool {
        self.eval(&rule.predicate, scan, password, ctx, scratch)
    }

    /// Whether a predicate holds. A part that could not be evaluated leaves its cause in
    /// `scratch` only when the whole predicate fails because of it.
    fn eval(
        &self,
        predicate: &Predicate,
        scan: &Scan,
        password: &str,
        ctx: &Context,
        scratch: &mut Scratch,
    ) -> bool {
        match predicate {
            Predicate::Length(b) => b.contains(scan.chars),
            Predicate::LengthIn { unit, bounds } => bounds.contains(unit.length(password)),
            Predicate::CountExcept { class, bounds, edge } => {
                bounds.contains(self.count_except(scan, password, *class, *edge))
            }
            Predicate::Quorum { n, parts } => {
                let mut held = 0;
                for (i, part) in parts.iter().enumerate() {
                    held += u32::from(self.eval(part, scan, password, ctx, scratch));
                    if held >= *n {
                        scratch.unavailable = None;
                        return true;
                    }
                    // Too few parts left to reach n.
                    let left = (parts.len() - i - 1) as u32;
                    if held + left < *n {
                        return false;
                    }
                }
                false
            }
            Predicate::Points { min, awards } => {
                let mut total = 0u64;
                for award in awards {
                    total += self.award(award, scan, password, ctx, scratch);
                    if total >= u64::from(*min) {
                        scratch.unavailable = None;
                        return true;
                    }
                }
                false
            }
            Predicate::Only(c) => scan.every & bit(c.0) != 0,
            Predicate::NoneOf(c) => scan.seen & bit(c.0) == 0,
            Predicate::AtLeastOf { n, classes } => {
                let present = classes.iter().filter(|c| scan.seen & bit(c.0) != 0).count();
                present >= *n as usize
            }
            Predicate::Count { class, bounds } => {
                bounds.contains(scan.counts.get(class.0 as usize).copied().unwrap_or(0))
            }
            Predicate::Regex { negated, dfa, .. } => match self.regex_matches(*dfa, password) {
                Some(matched) => matched != *negated,
                None => false,
            },
            Predicate::MaxRepeat(max) => scan.longest_repeat <= *max,
            Predicate::MaxSequence(max) => scan.longest_sequence <= *max,
            Predicate::MaxKeyboardRun(max) => crate::ir::longest_keyboard_run(password) <= *max,
            Predicate::Measured { unit, measure: m } => {
                m.bounds().contains(measure::value(*unit, m, password, self.in_class()))
            }
            Predicate::NotContains(checks) => checks
                .iter()
                .all(|c| found_tokens(c, password, ctx, &mut scratch.folded).next().is_none()),
            Predicate::NotContainsEitherWay(checks) => checks.iter().all(|c| {
                found_tokens(c, password, ctx, &mut scratch.folded).next().is_none()
                    && found_reversed(c, password, ctx, &mut scratch.folded).is_empty()
            }),
            Predicate::NotPalindrome { ignore_case } => !is_palindrome(password, *ignore_case),
            Predicate::Distinct(b) => b.contains(distinct_chars(password)),
            Predicate::NotEquals(attribute) => !equals_attribute(ctx, *attribute, password),
            Predicate::Avoid { set, mode } => {
                let found = self.find_term(*set, *mode, password);
                self.sound(scratch) && found.is_none()
            }
            Predicate::EntraScore { sets, min_points } => {
                let outcome = self.entra(sets, password, ctx, entra::Goal::Reach(*min_points));
                self.sound(scratch) && outcome.name.is_none() && outcome.points >= *min_points
            }
            Predicate::Strength { min_score } => scratch.strength(password, ctx) >= *min_score,
            Predicate::NotIn { store } => match self.lookup(*store, password) {
                Ok(found) => !found.is_breached(),
                Err(e) => {
                    scratch.unavailable = Some(Cause::Store(e));
                    false
                }
            },
        }
    }

    /// The characters of `class`, the one at `edge` not counted.
    fn count_except(
        &self,
        scan: &Scan,
        password: &str,
        class: crate::ir::ClassId,
        edge: crate::ir::Edge,
    ) -> u32 {
        let count = scan.counts.get(class.0 as usize).copied().unwrap_or(0);
        let skipped =
            edge.char_of(password).is_some_and(|c| self.table.mask(c) & bit(class.0) != 0);
        count - u32::from(skipped)
    }

    /// Whether a character is in a class, for [`measure::value`].
    fn in_class(&self) -> impl Fn(char, crate::ir::ClassId) -> bool + '_ {
        |c, class| self.table.mask(c) & bit(class.0) != 0
    }

    /// The points one award gives.
    fn award(
        &self,
        award: &Award,
        scan: &Scan,
        password: &str,
        ctx: &Context,
        scratch: &mut Scratch,
    ) -> u64 {
        match award {
            Award::Per { points, class, cap } => {
                let n = match class {
                    Some(c) => scan.counts.get(c.0 as usize).copied().unwrap_or(0),
                    None => scan.chars,
                };
                let got = u64::from(*points) * u64::from(n);
                cap.map_or(got, |m| got.min(u64::from(m)))
            }
            Award::PerUnit { points, class, cap, unit } => {
                let n = measure::count(*unit, *class, password, self.in_class());
                let got = u64::from(*points) * u64::from(n);
                cap.map_or(got, |m| got.min(u64::from(m)))
            }
            Award::If { points, predicate } => {
                match self.eval(predicate, scan, password, ctx, scratch) {
                    true => u64::from(*points),
                    false => 0,
                }
            }
        }
    }

    /// Whether the term lists read so far were sound; if not, the rule just evaluated over
    /// them could not be, and `scratch` says why.
    fn sound(&self, scratch: &mut Scratch) -> bool {
        match self.region.damage() {
            None => true,
            Some(why) => {
                scratch.unavailable = Some(Cause::Damaged(why.to_string()));
                false
            }
        }
    }

    /// Looks a password up in one of the policy's stores.
    fn lookup(&self, store: u32, password: &str) -> Result<Lookup, StoreError> {
        match self.stores.get(store as usize) {
            Some(handle) => handle.lookup(password),
            None => Err(StoreError::Damaged {
                path: Default::default(),
                reason: "the policy names a store it does not define".into(),
            }),
        }
    }

    /// The first term of a set the password matches in `mode`, if any.
    fn find_term(&self, set: u32, mode: crate::ir::MatchMode, password: &str) -> Option<String> {
        match self.region.fully_checked() {
            true => self.find_term_in::<false>(set, mode, password),
            false => self.find_term_in::<true>(set, mode, password),
        }
    }

    /// [`Validator::find_term`], reading the trie with or without block checks.
    fn find_term_in<const LAZY: bool>(
        &self,
        set: u32,
        mode: crate::ir::MatchMode,
        password: &str,
    ) -> Option<String> {
        let (Some(ts), Some(trie)) =
            (self.program.term_sets.get(set as usize), self.trie::<LAZY>(set))
        else {
            return Some(String::new());
        };
        let mut normalized = Zeroizing::new(String::with_capacity(password.len()));
        normalize_into(&ts.normalization, self.folding(), password, &mut normalized);
        // A term that is the whole password is reported without its text.
        terms::find(&trie, mode, &normalized).map(|m| {
            if m.start == 0 && m.end == normalized.len() {
                String::new()
            } else {
                trie.term(m.term).unwrap_or_default().to_string()
            }
        })
    }

    fn entra(
        &self,
        sets: &[u32],
        password: &str,
        ctx: &Context,
        goal: entra::Goal,
    ) -> entra::EntraOutcome {
        let names: Vec<(Attribute, &str)> = [Attribute::GivenName, Attribute::Surname]
            .into_iter()
            .flat_map(|a| ctx.get(a).iter().map(move |v| (a, v.as_str())))
            .collect();
        let (folding, tenant) = (self.folding(), ctx.tenant());
        match self.region.fully_checked() {
            true => {
                let sets: Vec<_> = sets.iter().filter_map(|&i| self.trie::<false>(i)).collect();
                entra::evaluate(&sets, folding, password, &names, tenant, goal)
            }
            false => {
                let sets: Vec<_> = sets.iter().filter_map(|&i| self.trie::<true>(i)).collect();
                entra::evaluate(&sets, folding, password, &names, tenant, goal)
            }
        }
    }

    /// The trie of a term set, walked in place (its layout was opened at load); `LAZY`: with
    /// block checks, which a region not checked whole needs.
    fn trie<const LAZY: bool>(&self, set: u32) -> Option<Trie<'_, LAZY>> {
        self.tries.get(set as usize).map(|l| l.trie(self.region.checked::<LAZY>()))
    }

    fn folding(&self) -> Folding<'_> {
        Folding::new(&self.program.case_folds)
    }

    /// Whether the rule's automaton matches anywhere; `None` if the search gave up (fail closed).
    fn regex_matches(&self, dfa: u32, password: &str) -> Option<bool> {
        let dfa = self.dfas.get(dfa as usize)?;
        dfa.try_search_fwd(&Input::new(password).earliest(true)).ok().map(|m| m.is_some())
    }

    fn detail(
        &self,
        predicate: &Predicate,
        scan: &Scan,
        password: &str,
        ctx: &Context,
        scratch: &mut Scratch,
    ) -> Detail {
        let name = |c: crate::ir::ClassId| {
            self.program.classes.get(c.0 as usize).map(|c| c.name.clone()).unwrap_or_default()
        };
        let positions = |want: bool, c: crate::ir::ClassId| -> Vec<u32> {
            password
                .chars()
                .zip(1u32..)
                .filter(|(ch, _)| (self.table.mask(*ch) & bit(c.0) != 0) == want)
                .map(|(_, i)| i)
                .collect()
        };
        match predicate {
            Predicate::Length(bounds) => Detail::Length { actual: scan.chars, bounds: *bounds },
            Predicate::LengthIn { unit, bounds } => {
                Detail::LengthIn { unit: *unit, actual: unit.length(password), bounds: *bounds }
            }
            Predicate::CountExcept { class, bounds, edge } => Detail::Count {
                class: format!(
                    "{}, not counting the {} character",
                    name(*class),
                    if *edge == crate::ir::Edge::Start { "first" } else { "last" }
                ),
                actual: self.count_except(scan, password, *class, *edge),
                bounds: *bounds,
            },
            Predicate::Quorum { n, parts } => Detail::Quorum {
                n: *n,
                parts: parts
                    .iter()
                    .map(|p| Part {
                        held: self.eval(p, scan, password, ctx, scratch),
                        detail: self.detail(p, scan, password, ctx, scratch),
                    })
                    .collect(),
            },
            Predicate::Points { min, awards } => Detail::Points {
                min: *min,
                awards: awards
                    .iter()
                    .map(|a| {
                        let points = self.award(a, scan, password, ctx, scratch);
                        let points = u32::try_from(points).unwrap_or(u32::MAX);
                        match a {
                            Award::If { predicate, .. } => Given {
                                points,
                                per: None,
                                unit: Unit::Characters,
                                detail: self.detail(predicate, scan, password, ctx, scratch),
                            },
                            Award::Per { class, .. } => Given {
                                points,
                                per: Some(class.map_or_else(|| "character".into(), name)),
                                unit: Unit::Characters,
                                detail: Detail::None,
                            },
                            Award::PerUnit { class, unit, .. } => Given {
                                points,
                                per: Some(class.map_or_else(|| "character".into(), name)),
                                unit: *unit,
                                detail: Detail::None,
                            },
                        }
                    })
                    .collect(),
            },
            Predicate::Only(c) => Detail::Only { class: name(*c), positions: positions(false, *c) },
            Predicate::NoneOf(c) => {
                Detail::NoneOf { class: name(*c), positions: positions(true, *c) }
            }
            Predicate::AtLeastOf { n, classes } => {
                let (present, missing): (Vec<&crate::ir::ClassId>, Vec<&crate::ir::ClassId>) =
                    classes.iter().partition(|c| scan.seen & bit(c.0) != 0);
                Detail::AtLeastOf {
                    n: *n,
                    present: present.into_iter().map(|c| name(*c)).collect(),
                    missing: missing.into_iter().map(|c| name(*c)).collect(),
                }
            }
            Predicate::Count { class, bounds } => Detail::Count {
                class: name(*class),
                actual: scan.counts.get(class.0 as usize).copied().unwrap_or(0),
                bounds: *bounds,
            },
            Predicate::Regex { pattern, negated, dfa } => Detail::Regex {
                pattern: pattern.clone(),
                matched: self.regex_matches(*dfa, password).unwrap_or(false),
                negated: *negated,
            },
            Predicate::MaxRepeat(max) => Detail::Repeat { longest: scan.longest_repeat, max: *max },
            Predicate::Measured { unit, measure: m } => Detail::Measured {
                unit: *unit,
                what: match m {
                    Measure::Count { class, .. } => Measurement::Count(name(*class)),
                    Measure::MaxRepeat(_) => Measurement::Repeat,
                    Measure::MaxSequence(_) => Measurement::Sequence,
                    Measure::Distinct(_) => Measurement::Distinct,
                    Measure::MaxRun { class, .. } => Measurement::Run(name(*class)),
                },
                actual: measure::value(*unit, m, password, self.in_class()),
                bounds: m.bounds(),
            },
            Predicate::MaxKeyboardRun(max) => {
                Detail::Keyboard { longest: crate::ir::longest_keyboard_run(password), max: *max }
            }
            Predicate::MaxSequence(max) => {
                Detail::Sequence { longest: scan.longest_sequence, max: *max }
            }
            Predicate::NotContains(checks) | Predicate::NotContainsEitherWay(checks) => {
                let reversed = matches!(predicate, Predicate::NotContainsEitherWay(_));
                let mut folded = None;
                let mut found = Vec::new();
                for c in checks {
                    for token in found_tokens(c, password, ctx, &mut folded) {
                        found.push((c.attribute, token.to_string()));
                    }
                    if reversed {
                        for token in found_reversed(c, password, ctx, &mut folded) {
                            found.push((c.attribute, token));
                        }
                    }
                }
                Detail::Contains { checked: checks.iter().map(|c| c.attribute).collect(), found }
            }
            Predicate::NotPalindrome { ignore_case } => {
                Detail::Palindrome { palindrome: is_palindrome(password, *ignore_case) }
            }
            Predicate::Distinct(bounds) => {
                Detail::Distinct { actual: distinct_chars(password), bounds: *bounds }
            }
            Predicate::NotEquals(attribute) => Detail::Equals {
                attribute: *attribute,
                equal: equals_attribute(ctx, *attribute, password),
            },
            Predicate::Avoid { set, mode } => Detail::Terms {
                list: self
                    .program
                    .term_sets
                    .get(*set as usize)
                    .map(|s| s.name.clone())
                    .unwrap_or_default(),
                mode: *mode,
                matched: self.find_term(*set, *mode, password),
            },
            Predicate::EntraScore { sets, min_points } => {
                let o = self.entra(sets, password, ctx, entra::Goal::Explain);
                Detail::Entra {
                    points: o.points,
                    min_points: *min_points,
                    name: o.name,
                    terms: o.terms,
                    whole_password: o.whole_password,
                    unsettled: o.unsettled,
                }
            }
            Predicate::Strength { min_score } => {
                Detail::Strength { score: scratch.strength(password, ctx), min_score: *min_score }
            }
            Predicate::NotIn { store } => Detail::Breached {
                store: self
                    .program
                    .stores
                    .get(*store as usize)
                    .map(|s| s.name.clone())
                    .unwrap_or_default(),
                found: self.lookup(*store, password).map_err(|e| e.to_string()),
            },
        }
    }
}

/// How the validator decides one rule. Unconditional length and class rules are mask tests on
/// the scan; everything else goes through the general evaluation.
#[derive(Debug, Clone, Copy)]
pub(super) enum Step {
    Length { min: u32, max: u32 },
    Only(u32),
    NoneOf(u32),
    AtLeast { n: u32, mask: u32 },
    General,
}

impl Step {
    fn new(rule: &Rule) -> Step {
        if !rule.conditions.is_empty() {
            return Step::General;
        }
        match &rule.predicate {
            Predicate::Length(b) => Step::Length { min: b.min, max: b.max.unwrap_or(u32::MAX) },
            Predicate::Only(c) => Step::Only(bit(c.0)),
            Predicate::NoneOf(c) => Step::NoneOf(bit(c.0)),
            Predicate::AtLeastOf { n, classes } => {
                let mask = classes.iter().fold(0, |m, c| m | bit(c.0));
                // A class listed twice counts twice: the mask cannot say that.
                if mask.count_ones() as usize == classes.len() {
                    Step::AtLeast { n: *n, mask }
                } else {
                    Step::General
                }
            }
            _ => Step::General,
        }
    }
}

/// Per-check working state: the case-folded password (built when first needed, wiped on drop)
/// and the strength score (computed once for all strength rules).
#[derive(Default)]
struct Scratch {
    folded: Option<Zeroizing<Vec<char>>>,
    strength: Option<u8>,
    /// The last rule could not be evaluated: it failed for that reason.
    unavailable: Option<Cause>,
}

/// Why a rule could not be evaluated.
enum Cause {
    /// Its breached-password store could not be read.
    Store(StoreError),
    /// The artifact was found damaged while the rule read it.
    Damaged(String),
}

impl Cause {
    /// What the user is told.
    fn message(&self) -> &'static str {
        match self {
            Cause::Store(_) => UNAVAILABLE_MESSAGE,
            Cause::Damaged(_) => DAMAGED_POLICY_MESSAGE,
        }
    }

    /// What the logs are told.
    fn reason(&self) -> String {
        match self {
            Cause::Store(e) => e.to_string(),
            Cause::Damaged(why) => format!("the policy artifact is damaged ({why})"),
        }
    }
}

impl Scratch {
    fn strength(&mut self, password: &str, ctx: &Context) -> u8 {
        *self.strength.get_or_insert_with(|| strength_score(password, ctx))
    }
}

#[cfg(feature = "strength")]
fn strength_score(password: &str, ctx: &Context) -> u8 {
    super::strength::score(password, ctx)
}

/// Never reached: artifacts with strength rules are refused at load without the feature.
#[cfg(not(feature = "strength"))]
fn strength_score(_password: &str, _ctx: &Context) -> u8 {
    0
}

fn bit(class: u16) -> u32 {
    1u32.checked_shl(u32::from(class)).unwrap_or(0)
}

/// The values or tokens of `check`'s attribute that occur in the password, ignoring case
/// ([`push_caseless`]).
fn found_tokens<'c>(
    check: &'c Containment,
    password: &'c str,
    ctx: &'c Context,
    folded: &'c mut Option<Zeroizing<Vec<char>>>,
) -> impl Iterator<Item = &'c str> + 'c {
    let tokens = ctx.get(check.attribute).iter().flat_map(move |v| check.tokens(v));
    tokens.filter(move |token| contains_caseless(password, token, folded))
}

/// The values or tokens of `check`'s attribute, read backwards, that occur in the password,
/// ignoring case (as they occur: `nire` for `Erin`).
fn found_reversed(
    check: &Containment,
    password: &str,
    ctx: &Context,
    folded: &mut Option<Zeroizing<Vec<char>>>,
) -> Vec<String> {
    let tokens = ctx.get(check.attribute).iter().flat_map(|v| check.tokens(v));
    tokens
        .map(|t| t.chars().rev().collect::<String>())
        .filter(|t| contains_caseless(password, t, folded))
        .collect()
}

/// Whether `token` occurs in `password`, ignoring case ([`push_caseless`]); `folded` keeps the
/// folded password between calls of one check.
fn contains_caseless(
    password: &str,
    token: &str,
    folded: &mut Option<Zeroizing<Vec<char>>>,
) -> bool {
    if password.is_ascii() && token.is_ascii() {
        let n = token.len();
        return password.as_bytes().windows(n).any(|w| w.eq_ignore_ascii_case(token.as_bytes()));
    }
    let hay = folded.get_or_insert_with(|| {
        let mut hay = Zeroizing::new(Vec::with_capacity(password.len()));
        push_caseless(password, &mut hay);
        hay
    });
    let mut needle = Vec::with_capacity(token.len());
    push_caseless(token, &mut needle);
    contains_folded(hay, &needle)
}

/// Whether the password is exactly (case-sensitively) one of the attribute's values.
fn equals_attribute(ctx: &Context, attribute: crate::ir::Attribute, password: &str) -> bool {
    ctx.get(attribute).iter().any(|v| v == password)
}

/// Whether the password reads the same backwards, character by character, or ignoring case
/// ([`push_caseless`]; libpwquality compares the lower-cased password, byte by byte).
fn is_palindrome(password: &str, ignore_case: bool) -> bool {
    if !ignore_case {
        return password.chars().eq(password.chars().rev());
    }
    let mut folded = Zeroizing::new(Vec::with_capacity(password.len()));
    push_caseless(password, &mut folded);
    folded.iter().eq(folded.iter().rev())
}

/// The number of different characters in the password (case-sensitive).
fn distinct_chars(password: &str) -> u32 {
    if password.is_ascii() {
        let seen = password.bytes().fold(0u128, |m, b| m | 1u128 << (b & 0x7F));
        return seen.count_ones();
    }
    let mut chars: Zeroizing<Vec<char>> = Zeroizing::new(password.chars().collect());
    chars.sort_unstable();
    chars.dedup();
    u32::try_from(chars.len()).unwrap_or(u32::MAX)
}

/// Refuses programs whose indices point outside the artifact (a crafted file).
fn verify_program(program: &Program, dfas: usize) -> Result<(), LoadError> {
    let bad = |what: &str| Err(LoadError::Malformed(what.to_string()));
    if program.classes.len() > MAX_CLASSES {
        return bad("more character classes than the validator supports");
    }
    for class in &program.classes {
        let mut prev: Option<u32> = None;
        for &(lo, hi) in &class.ranges {
            if lo > hi || hi > 0x10FFFF || prev.is_some_and(|p| lo <= p) {
                return bad("a character class has unsorted or invalid ranges");
            }
            prev = Some(hi);
        }
    }
    let folds = &program.case_folds;
    if folds.windows(2).any(|w| w[0].0 >= w[1].0)
        || folds.iter().any(|p| char::from_u32(p.1).is_none())
    {
        return bad("the case-folding table is unsorted or invalid");
    }
    for set in &program.term_sets {
        // The terms lie in the trie words; the program holds none.
        if !set.text.is_empty() || !set.ends.is_empty() {
            return bad("a term list is malformed");
        }
        let sorted = |r: &[(u32, u32)]| {
            r.iter().all(|&(lo, hi)| lo <= hi && hi <= 0x10FFFF)
                && r.windows(2).all(|w| w[0].1 < w[1].0)
        };
        let step_ok = |step: &crate::ir::NormStep| match step {
            crate::ir::NormStep::Lowercase => true,
            crate::ir::NormStep::Substitute(map) => map.windows(2).all(|w| w[0].0 < w[1].0),
            crate::ir::NormStep::Delete(r) | crate::ir::NormStep::Trim(r) => sorted(r),
        };
        if !set.normalization.steps.iter().all(step_ok) {
            return bad("a normalization table is malformed");
        }
    }
    let sets = program.term_sets.len();
    let class_ok = |c: &crate::ir::ClassId| (c.0 as usize) < program.classes.len();
    let bad_reference = |p: &Predicate| match p {
        Predicate::Only(c) | Predicate::NoneOf(c) => !class_ok(c),
        Predicate::Count { class, .. } | Predicate::CountExcept { class, .. } => !class_ok(class),
        Predicate::Measured {
            measure: Measure::Count { class, .. } | Measure::MaxRun { class, .. },
            ..
        } => !class_ok(class),
        Predicate::AtLeastOf { classes, .. } => !classes.iter().all(class_ok),
        Predicate::Points { awards, .. } => awards.iter().any(|a| match a {
            Award::Per { class: Some(c), .. } | Award::PerUnit { class: Some(c), .. } => {
                !class_ok(c)
            }
            _ => false,
        }),
        Predicate::Regex { dfa, .. } => (*dfa as usize) >= dfas,
        Predicate::Avoid { set, .. } => (*set as usize) >= sets,
        Predicate::EntraScore { sets: s, .. } => s.iter().any(|&i| (i as usize) >= sets),
        Predicate::NotIn { store } => (*store as usize) >= program.stores.len(),
        _ => false,
    };
    for rule in &program.rules {
        // Nested parts too: a crafted artifact may hide a bad index inside an `or`.
        if rule.predicate.any(&bad_reference) {
            return bad("a rule refers to a class or automaton that is not in the artifact");
        }
    }
    Ok(())
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
        assert!(matches!(loaded, Err(LoadError::Unsupported(_))));
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
        let terms = include_bytes!("../../../../tests/golden/artifacts/terms.policyc");
        let Ok(t) = Validator::from_bytes(terms) else { panic!("terms loads") };
        assert!(t.fast.is_none());
    }
}
