//! What `explain` says of one rule: what was measured, and how to fix it.

use super::Validator;
use super::evaluate::{
    Scratch, distinct_chars, equals_attribute, found_in_bytes, found_patterns, found_reversed,
    found_tokens, is_palindrome,
};
use crate::ir::{Award, Measure, Predicate, Unit};
use crate::runtime::context::Context;
use crate::runtime::entra;
use crate::runtime::explain::{Detail, Given, Measurement, Part};
use crate::runtime::measure;
use crate::runtime::plan::bit;
use crate::runtime::scan::Scan;

impl Validator {
    pub(super) fn detail(
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
            Predicate::NotContainsInBytes { checks, reversed, closer_than } => Detail::Contains {
                checked: checks.iter().map(|c| c.attribute).collect(),
                found: checks
                    .iter()
                    .flat_map(|c| {
                        let found = found_in_bytes(c, *reversed, *closer_than, password, ctx);
                        found.into_iter().map(|t| (c.attribute, t))
                    })
                    .collect(),
            },
            Predicate::NotContainsPatterns(c) => Detail::Contains {
                checked: vec![c.attribute],
                found: found_patterns(c, password, ctx)
                    .into_iter()
                    .map(|t| (c.attribute, t))
                    .collect(),
            },
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
