//! The plan: per rule, how the validator decides it (most rules reduce to a mask test on the
//! single pass's summary).

use crate::ir::{Predicate, Rule};
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
    pub(super) fn new(rule: &Rule) -> Step {
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

pub(super) fn bit(class: u16) -> u32 {
    1u32.checked_shl(u32::from(class)).unwrap_or(0)
}
