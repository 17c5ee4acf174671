//! Loading an artifact: decoding, verifying every index the program holds, and planning.

use super::Validator;
use crate::artifact::region::Region;
use crate::artifact::{self, LoadError};
use crate::ir::{Award, Measure, Predicate, Program, Severity};
use crate::runtime::fast::FastPath;
use crate::runtime::plan::Step;
use crate::runtime::scan::{ClassTable, MAX_CLASSES, Needs};
use crate::store::StoreHandle;
use std::path::Path;
use std::sync::{Arc, OnceLock};

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
            crate::runtime::strength::warm_up();
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
        let fast_check =
            fast.is_some() && program.rules.iter().all(|r| r.severity == Severity::Enforce);
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
            fast_check,
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
