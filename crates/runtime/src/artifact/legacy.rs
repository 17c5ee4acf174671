//! The rule program as versions 5 and 6 wrote it, read into today's [`Program`]: there a
//! normalization was optional case folding then one table of substitutions (version 7 made it
//! a list of steps, adding deletion and trimming). Everything else decodes unchanged (version
//! 6 only appended predicates).

use crate::ir::{CharClass, NormStep, Normalization, Program, Rule, StoreRef, TermSet};
use serde::Deserialize;

/// The first format with normalization steps.
pub(super) const NORMALIZATION_STEPS: u16 = 7;

#[derive(Deserialize)]
pub(super) struct LegacyProgram {
    name: String,
    description: String,
    reference: String,
    classes: Vec<CharClass>,
    rules: Vec<Rule>,
    term_sets: Vec<LegacyTermSet>,
    stores: Vec<StoreRef>,
    case_folds: Vec<(u32, u32)>,
}

#[derive(Deserialize)]
struct LegacyTermSet {
    name: String,
    normalization: LegacyNormalization,
    text: String,
    ends: Vec<u32>,
}

#[derive(Deserialize)]
struct LegacyNormalization {
    name: String,
    lowercase: bool,
    map: Vec<(char, char)>,
}

impl From<LegacyNormalization> for Normalization {
    fn from(n: LegacyNormalization) -> Normalization {
        let fold = n.lowercase.then_some(NormStep::Lowercase);
        let map = (!n.map.is_empty()).then_some(NormStep::Substitute(n.map));
        Normalization { name: n.name, steps: fold.into_iter().chain(map).collect() }
    }
}

impl From<LegacyProgram> for Program {
    fn from(p: LegacyProgram) -> Program {
        Program {
            name: p.name,
            description: p.description,
            reference: p.reference,
            classes: p.classes,
            rules: p.rules,
            term_sets: p
                .term_sets
                .into_iter()
                .map(|t| TermSet {
                    name: t.name,
                    normalization: t.normalization.into(),
                    text: t.text,
                    ends: t.ends,
                })
                .collect(),
            stores: p.stores,
            case_folds: p.case_folds,
        }
    }
}
