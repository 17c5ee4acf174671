//! Lowering of one rule or condition from syntax to the rule program, with the checks that need
//! only that rule: bounds, classes, regexes, attributes.

use super::sets::{self, Scope, Set};
use super::{Checked, Placed, lints};
use crate::automata::{DfaLimits, RegexError, build_regex};
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::span::{SourceMap, Span};
use crate::syntax::ast::ModeKw;
use crate::syntax::ast::{self, Bound, CmpOp, SetExpr, SeverityKw, Spanned};
use policyc_runtime::ir::{
    self, Attribute, Bounds, CharClass, ClassId, Containment, Predicate, Program, RuleId, Severity,
};
use policyc_runtime::ir::{Award, Edge, MatchMode, Measure, Normalization, TermSet, Unit};
use policyc_runtime::runtime::{MAX_CLASSES, MAX_INPUT_BYTES};
use std::collections::HashMap;

/// The Active Directory complexity name checks (`not contains ad_names`): the whole
/// sAMAccountName when it has 3+ UTF-16 units, and displayName tokens of 3+ UTF-16 units split
/// on comma, period, hyphen, underscore, space, `#` and tab, and, as the stricter reading of
/// "spaces" and "dashes" (docs/language.md), NO-BREAK SPACE and EN DASH.
pub const AD_DISPLAY_NAME_DELIMITERS: [char; 9] =
    [',', '.', '-', '_', ' ', '#', '\t', '\u{a0}', '\u{2013}'];

pub(crate) struct Lowerer<'s> {
    sources: &'s SourceMap,
    limits: DfaLimits,
    /// Every class used so far, deduplicated by content.
    classes: Vec<CharClass>,
    /// Built automata by pattern (`None`: the pattern failed and was reported).
    regexes: HashMap<String, Option<Vec<u8>>>,
    /// Term sets built so far, by (list, normalization).
    term_sets: Vec<TermSet>,
    term_index: HashMap<(String, String), u32>,
    /// Every store named so far.
    stores: Vec<ir::StoreRef>,
    /// The case-folding table, computed when first needed.
    folds: Option<Vec<(u32, u32)>>,
    /// How deep inside `or`, `and`, `at least N of` or `points` the predicate lowered now is.
    nesting: u32,
}

impl<'s> Lowerer<'s> {
    pub(crate) fn new(sources: &'s SourceMap, limits: DfaLimits) -> Lowerer<'s> {
        Lowerer {
            sources,
            limits,
            classes: Vec::new(),
            regexes: HashMap::new(),
            term_sets: Vec::new(),
            term_index: HashMap::new(),
            stores: Vec::new(),
            folds: None,
            nesting: 0,
        }
    }

    pub(crate) fn rule(
        &mut self,
        r: &ast::Rule,
        conds: &[ir::Condition],
        scope: &Scope,
        diags: &mut Diagnostics,
    ) -> Option<ir::Rule> {
        if r.message.value.trim().is_empty() {
            diags.push(
                Diagnostic::error(
                    "rule message is empty",
                    r.message.span,
                    "users see this text when the rule fails",
                )
                .with_help("say what to do, e.g. \"Use at least 8 characters.\""),
            );
        }
        let predicate = self.predicate(&r.predicate, &r.id, scope, diags)?;
        let severity = match r.severity.as_ref().map(|s| s.value) {
            Some(SeverityKw::Audit) => Severity::Audit,
            _ => Severity::Enforce,
        };
        Some(ir::Rule {
            id: RuleId(r.id.value.clone()),
            message: r.message.value.clone(),
            severity,
            conditions: conds.to_vec(),
            predicate,
        })
    }

    pub(crate) fn condition(
        &mut self,
        c: &ast::Condition,
        diags: &mut Diagnostics,
    ) -> Option<ir::Condition> {
        match c {
            ast::Condition::Length { op, value, span } => {
                if op.value == CmpOp::Lt && value.value == 0 {
                    diags.push(Diagnostic::warning(
                        "condition can never hold",
                        *span,
                        "no password is shorter than 0 characters",
                    ));
                }
                Some(ir::Condition::Length(compare_bounds(op, value, diags)?))
            }
            ast::Condition::Has { negated: false, attribute, value, .. } => {
                Some(ir::Condition::Has {
                    attribute: attribute_of(attribute, diags)?,
                    value: value.value.clone(),
                })
            }
            ast::Condition::Has { negated: true, attribute, value, .. } => {
                Some(ir::Condition::Lacks {
                    attribute: attribute_of(attribute, diags)?,
                    value: value.value.clone(),
                })
            }
        }
    }

    fn predicate(
        &mut self,
        p: &ast::Predicate,
        id: &Spanned<String>,
        scope: &Scope,
        diags: &mut Diagnostics,
    ) -> Option<Predicate> {
        Some(match p {
            ast::Predicate::Length(b, unit) => {
                let bounds = bounds(b, diags)?;
                if bounds.min as usize > MAX_INPUT_BYTES {
                    diags.push(Diagnostic::error(
                        "no password can pass this rule",
                        b.span(),
                        format!(
                            "the validator checks passwords of at most {MAX_INPUT_BYTES} bytes"
                        ),
                    ));
                }
                match unit_of(unit) {
                    Unit::Characters => Predicate::Length(bounds),
                    unit => Predicate::LengthIn { unit, bounds },
                }
            }
            ast::Predicate::Only(e) => {
                let (class, set) = self.class(e, scope, diags)?;
                if set.ranges().is_empty() {
                    diags.push(Diagnostic::error(
                        "`only` an empty set: no password can pass",
                        e.span(),
                        "this set contains no character",
                    ));
                }
                Predicate::Only(class)
            }
            // A rule that can never fail (an empty `no` set, `at least 0`) is reported by the
            // whole-policy analysis, with every other such rule.
            ast::Predicate::No(e) => Predicate::NoneOf(self.class(e, scope, diags)?.0),
            ast::Predicate::AtLeast { n, sets } => {
                let mut classes = Vec::new();
                for e in sets {
                    let (class, set) = self.class(e, scope, diags)?;
                    if set.ranges().is_empty() {
                        diags.push(Diagnostic::warning(
                            "empty class can never be present",
                            e.span(),
                            "this set contains no character",
                        ));
                    }
                    classes.push(class);
                }
                let m = sets.len() as u64;
                if n.value > m {
                    diags.push(
                        Diagnostic::error(
                            format!("`at least {} of` {m} classes can never hold", n.value),
                            n.span,
                            format!("larger than the {m} classes listed"),
                        )
                        .with_help(format!("use a number from 1 to {m}")),
                    );
                }
                Predicate::AtLeastOf { n: n.value.min(m) as u32, classes }
            }
            ast::Predicate::Count(e, edge, unit, b) => {
                let (class, _) = self.class(e, scope, diags)?;
                let bounds = bounds(b, diags)?;
                match edge.as_ref().map(|e| e.value) {
                    None => match unit_of(unit) {
                        Unit::Characters => Predicate::Count { class, bounds },
                        unit => {
                            Predicate::Measured { unit, measure: Measure::Count { class, bounds } }
                        }
                    },
                    Some(ast::EdgeKw::Start) => {
                        Predicate::CountExcept { class, bounds, edge: Edge::Start }
                    }
                    Some(ast::EdgeKw::End) => {
                        Predicate::CountExcept { class, bounds, edge: Edge::End }
                    }
                }
            }
            ast::Predicate::Group(inner, _) => self.predicate(inner, id, scope, diags)?,
            ast::Predicate::Or(parts) => {
                Predicate::Quorum { n: 1, parts: self.parts(parts, id, scope, diags)? }
            }
            ast::Predicate::And(parts) => {
                let parts = self.parts(parts, id, scope, diags)?;
                Predicate::Quorum { n: u32::try_from(parts.len()).unwrap_or(u32::MAX), parts }
            }
            ast::Predicate::AtLeastOfRules { n, parts } => {
                let parts = self.parts(parts, id, scope, diags)?;
                let m = parts.len() as u64;
                if n.value > m || n.value == 0 {
                    let (what, help) = match n.value {
                        0 => ("`at least 0 of` always holds", "at least 1".to_string()),
                        _ => ("more parts than listed can never hold", format!("at most {m}")),
                    };
                    diags.push(
                        Diagnostic::error(what, n.span, format!("{m} parts are listed"))
                            .with_help(format!("use a number from 1 to {m} (here {help})")),
                    );
                    return None;
                }
                Predicate::Quorum { n: n.value as u32, parts }
            }
            ast::Predicate::Points { op, points, awards, span } => {
                let min = match op.value {
                    CmpOp::Ge => number(points, diags)?,
                    CmpOp::Gt => number(points, diags)?.saturating_add(1),
                    _ => {
                        diags.push(
                            Diagnostic::error(
                                "`points` takes a lower limit",
                                op.span,
                                "expected `>=` or `>`",
                            )
                            .with_help(format!("write `points >= {}`", points.value)),
                        );
                        return None;
                    }
                };
                self.nesting += 1;
                let lowered: Vec<Option<Award>> =
                    awards.iter().map(|a| self.award(a, id, scope, diags)).collect();
                self.nesting -= 1;
                let awards: Vec<Award> = lowered.into_iter().collect::<Option<_>>()?;
                let most = awards.iter().try_fold(0u64, |sum, a| match a {
                    Award::Per { cap: None, .. } | Award::PerUnit { cap: None, .. } => None,
                    Award::Per { cap: Some(c), .. } | Award::PerUnit { cap: Some(c), .. } => {
                        Some(sum + u64::from(*c))
                    }
                    Award::If { points, .. } => Some(sum + u64::from(*points)),
                });
                if let Some(most) = most.filter(|m| *m < u64::from(min)) {
                    diags.push(
                        Diagnostic::error(
                            "no password can pass this rule",
                            *span,
                            format!("the awards give at most {most} points, {min} are needed"),
                        )
                        .with_help("lower the points needed, or raise an `up to` limit"),
                    );
                    return None;
                }
                Predicate::Points { min, awards }
            }
            ast::Predicate::Matches { negated, pattern } => {
                let ok = self.regex(pattern, &id.value, diags);
                ok.then(|| Predicate::Regex {
                    pattern: pattern.value.clone(),
                    negated: *negated,
                    dfa: 0,
                })?
            }
            ast::Predicate::LongestRepeat(_, op, n)
            | ast::Predicate::LongestSequence(_, op, n)
            | ast::Predicate::LongestKeyboard(op, n)
            | ast::Predicate::LongestRun(_, _, op, n) => {
                let max = match op.value {
                    CmpOp::Le => n.value,
                    CmpOp::Lt => n.value.saturating_sub(1),
                    _ => {
                        diags.push(
                            Diagnostic::error(
                                "a `longest` limit must be `<=` or `<`",
                                op.span,
                                "expected `<=` or `<`",
                            )
                            .with_help(format!("write `<= {}`", n.value)),
                        );
                        return None;
                    }
                };
                if max == 0 && !matches!(p, ast::Predicate::LongestRun(..)) {
                    diags.push(Diagnostic::error(
                        "no non-empty password can pass this rule",
                        n.span,
                        "every password has a run of at least 1",
                    ));
                }
                let max = u32::try_from(max).unwrap_or(u32::MAX);
                let measured = |unit, measure| match unit {
                    Unit::Characters => None,
                    unit => Some(Predicate::Measured { unit, measure }),
                };
                match p {
                    ast::Predicate::LongestRepeat(u, ..) => {
                        measured(unit_of(u), Measure::MaxRepeat(max))
                            .unwrap_or(Predicate::MaxRepeat(max))
                    }
                    ast::Predicate::LongestSequence(u, ..) => {
                        measured(unit_of(u), Measure::MaxSequence(max))
                            .unwrap_or(Predicate::MaxSequence(max))
                    }
                    ast::Predicate::LongestRun(e, u, ..) => Predicate::Measured {
                        unit: unit_of(u),
                        measure: Measure::MaxRun { class: self.class(e, scope, diags)?.0, max },
                    },
                    _ => Predicate::MaxKeyboardRun(max),
                }
            }
            ast::Predicate::NotContains {
                attribute,
                unit,
                split_on,
                skip_shorter_than,
                or_reversed,
                closer_than,
                as_patterns,
            } => {
                let attribute = attribute_of(attribute, diags)?;
                let mut delimiters: Vec<char> = Vec::new();
                if let Some(s) = split_on {
                    if s.value.is_empty() {
                        diags.push(Diagnostic::error(
                            "no delimiters to split on",
                            s.span,
                            "this string is empty",
                        ));
                    }
                    for c in s.value.chars() {
                        if !delimiters.contains(&c) {
                            delimiters.push(c);
                        }
                    }
                }
                let min_chars = skip_shorter_than
                    .as_ref()
                    .map_or(0, |n| u32::try_from(n.value).unwrap_or(u32::MAX));
                let checks = vec![Containment { attribute, delimiters, min_chars }];
                if let Some(span) = as_patterns {
                    let problem = match (unit_of(unit), *or_reversed, closer_than) {
                        (Unit::Bytes, false, None) => None,
                        (Unit::Bytes, _, _) => Some((
                            "a pattern is not read backwards or by distance",
                            "drop `or reversed` and `or closer than`",
                        )),
                        _ => Some((
                            "patterns are read over bytes, as glibc does",
                            "write `in bytes as patterns`",
                        )),
                    };
                    if let Some((message, help)) = problem {
                        diags.push(
                            Diagnostic::error(message, *span, "not with these").with_help(help),
                        );
                        return None;
                    }
                    let check = checks.into_iter().next()?;
                    return Some(Predicate::NotContainsPatterns(check));
                }
                match (unit_of(unit), unit) {
                    (Unit::Bytes, _) => {
                        let closer_than = closer_than
                            .as_ref()
                            .map_or(0, |n| u32::try_from(n.value).unwrap_or(u32::MAX));
                        return Some(Predicate::NotContainsInBytes {
                            checks,
                            reversed: *or_reversed,
                            closer_than,
                        });
                    }
                    (Unit::Utf16, Some(u)) => {
                        diags.push(
                            Diagnostic::error(
                                "`not contains` counts characters or bytes, not UTF-16 units",
                                u.span,
                                "not supported here",
                            )
                            .with_help("drop `in utf16 units`, or write `in bytes`"),
                        );
                        return None;
                    }
                    _ => {}
                }
                if let Some(n) = closer_than {
                    diags.push(
                        Diagnostic::error(
                            "`or closer than` is libpwquality's distance, over bytes",
                            n.span,
                            "needs `in bytes`",
                        )
                        .with_help("write `not contains user.ATTR in bytes … or closer than N`"),
                    );
                    return None;
                }
                if *or_reversed {
                    Predicate::NotContainsEitherWay(checks)
                } else {
                    Predicate::NotContains(checks)
                }
            }
            ast::Predicate::NotPalindrome { ignoring_case, .. } => {
                Predicate::NotPalindrome { ignore_case: *ignoring_case }
            }
            ast::Predicate::Distinct(b, unit) => {
                let bounds = bounds(b, diags)?;
                match unit_of(unit) {
                    Unit::Characters => Predicate::Distinct(bounds),
                    unit => Predicate::Measured { unit, measure: Measure::Distinct(bounds) },
                }
            }
            ast::Predicate::NotEquals(attribute) => {
                Predicate::NotEquals(attribute_of(attribute, diags)?)
            }
            ast::Predicate::NotContainsAdNames(_) => Predicate::NotContains(vec![
                Containment {
                    attribute: Attribute::SamAccountName,
                    delimiters: Vec::new(),
                    min_chars: 3,
                },
                Containment {
                    attribute: Attribute::DisplayName,
                    delimiters: AD_DISPLAY_NAME_DELIMITERS.to_vec(),
                    min_chars: 3,
                },
            ]),
            ast::Predicate::Avoid { list, mode, after } => {
                let norm = match after {
                    Some(n) => match scope.norm(&n.value) {
                        Some(norm) => norm,
                        None => {
                            diags.push(sets::unknown_name(
                                "normalization",
                                &n.value,
                                n.span,
                                scope.norm_names(),
                            ));
                            return None;
                        }
                    },
                    None => Normalization::new("none", Vec::new()),
                };
                let set = self.term_set(list, &norm, scope, diags)?;
                let mode = match mode.value {
                    ModeKw::Exact => MatchMode::Exact,
                    ModeKw::Contains => MatchMode::Contains,
                    ModeKw::Fuzzy => MatchMode::Fuzzy,
                };
                Predicate::Avoid { set, mode }
            }
            ast::Predicate::EntraScore { op, points, lists } => {
                let min_points = match op.value {
                    CmpOp::Ge => points.value,
                    CmpOp::Gt => points.value + 1,
                    _ => {
                        diags.push(
                            Diagnostic::error("an `entra score` takes a lower limit", op.span, "expected `>=` or `>`")
                                .with_help("Entra passes a password with at least 5 points: write `entra score >= 5`"),
                        );
                        return None;
                    }
                };
                let mut sets = Vec::new();
                for l in lists {
                    sets.push(self.term_set(l, &Normalization::entra(), scope, diags)?);
                }
                Predicate::EntraScore {
                    sets,
                    min_points: u32::try_from(min_points).unwrap_or(u32::MAX),
                }
            }
            ast::Predicate::Strength(op, n) => {
                if self.nesting > 0 {
                    diags.push(
                        Diagnostic::error("a `strength` rule must stand alone", op.span, "inside `or`, `and`, `at least N of` or `points`")
                            .with_help("zxcvbn runs last, and only when every other rule passed: give it a rule of its own"),
                    );
                    return None;
                }
                if n.value > 4 {
                    diags.push(
                        Diagnostic::error(
                            format!("strength score {} is out of range", n.value),
                            n.span,
                            "zxcvbn scores run from 0 to 4",
                        )
                        .with_help("3 is \"safely unguessable\", 4 \"very unguessable\""),
                    );
                    return None;
                }
                let min_score = match op.value {
                    CmpOp::Ge => n.value,
                    CmpOp::Gt if n.value < 4 => n.value + 1,
                    _ => {
                        diags.push(Diagnostic::error(
                            "a `strength` rule takes a lower limit",
                            op.span,
                            "expected `>=`, or `>` below 4",
                        ));
                        return None;
                    }
                };
                Predicate::Strength { min_score: u8::try_from(min_score).unwrap_or(4) }
            }
            ast::Predicate::NotIn(name) => {
                let Some(path) = scope.store(&name.value) else {
                    diags.push(sets::unknown_name(
                        "store",
                        &name.value,
                        name.span,
                        scope.store_names(),
                    ));
                    return None;
                };
                let store = match self.stores.iter().position(|s| s.name == name.value) {
                    Some(i) => i,
                    None => {
                        self.stores
                            .push(ir::StoreRef { name: name.value.clone(), path: path.into() });
                        self.stores.len() - 1
                    }
                };
                Predicate::NotIn { store: u32::try_from(store).ok()? }
            }
        })
    }

    /// The index of the term set for a list under a normalization, building it once.
    fn term_set(
        &mut self,
        list: &Spanned<String>,
        norm: &Normalization,
        scope: &Scope,
        diags: &mut Diagnostics,
    ) -> Option<u32> {
        let Some(terms) = scope.list(&list.value) else {
            diags.push(sets::unknown_name("term list", &list.value, list.span, scope.list_names()));
            return None;
        };
        let key = (list.value.clone(), norm.name.clone());
        if let Some(&i) = self.term_index.get(&key) {
            return Some(i);
        }
        let folds = self.folds.get_or_insert_with(sets::case_fold_table);
        let mut normalized = super::terms::normalize_terms(&terms, norm, folds);
        if let Some(first) = normalized.iter().position(String::is_empty) {
            let example = terms.get(first).map_or("", String::as_str);
            let before = normalized.len();
            normalized.retain(|t| !t.is_empty());
            let emptied = before - normalized.len();
            diags.push(
                Diagnostic::warning(
                    format!(
                        "{emptied} {} of `{}` {} left out: normalization `{}` deletes every character (e.g. {})",
                        if emptied == 1 { "term" } else { "terms" },
                        list.value,
                        if emptied == 1 { "is" } else { "are" },
                        norm.name,
                        crate::syntax::printer::string(example)
                    ),
                    list.span,
                    "empty after normalization",
                )
                .with_help("an empty term would match every password"),
            );
        }
        let i = u32::try_from(self.term_sets.len()).ok()?;
        self.term_sets.push(TermSet::new(list.value.clone(), norm.clone(), normalized));
        self.term_index.insert(key, i);
        Some(i)
    }

    /// Evaluates a set expression and interns it as a class.
    fn class(
        &mut self,
        e: &SetExpr,
        scope: &Scope,
        diags: &mut Diagnostics,
    ) -> Option<(ClassId, Set)> {
        let set = scope.eval(e, diags)?;
        let ranges = sets::ranges(&set);
        let index = match self.classes.iter().position(|c| c.ranges == ranges) {
            Some(i) => i,
            None => {
                let name = crate::syntax::printer::set(e);
                self.classes.push(CharClass { name, ranges });
                self.classes.len() - 1
            }
        };
        Some((ClassId(u16::try_from(index).ok()?), set))
    }

    /// Builds (once per pattern) the automaton of a regex rule; reports errors at the pattern.
    fn regex(&mut self, pattern: &Spanned<String>, rule: &str, diags: &mut Diagnostics) -> bool {
        if let Some(done) = self.regexes.get(&pattern.value) {
            return done.is_some();
        }
        let built = match build_regex(&pattern.value, self.limits) {
            Ok(bytes) => Some(bytes),
            Err(e) => {
                diags.push(self.regex_error(e, pattern, rule));
                None
            }
        };
        let ok = built.is_some();
        self.regexes.insert(pattern.value.clone(), built);
        ok
    }

    fn regex_error(&self, e: RegexError, pattern: &Spanned<String>, rule: &str) -> Diagnostic {
        match e {
            RegexError::Syntax { message, span } => {
                let source = self.sources.text(pattern.span);
                let at = |offset: usize| pattern.span.start + source_offset(source, offset);
                let span = Span::new(pattern.span.file, at(span.start), at(span.end));
                Diagnostic::error("invalid regular expression", span, message)
            }
            RegexError::TooLarge { limit } => Diagnostic::error(
                format!("size limit exceeded: the automaton for rule `{rule}` would be larger than {limit} bytes"),
                pattern.span,
                "this pattern",
            )
            .with_help("simplify the pattern: avoid large counted repetitions such as `{8,256}` and Unicode classes inside them"),
            RegexError::Unsupported(message) => Diagnostic::error(
                format!("regular expression cannot be compiled to an automaton: {message}"),
                pattern.span,
                "this pattern",
            )
            .with_help("Unicode word boundaries (`\\b`) are not supported; use `(?-u:\\b)` for ASCII ones"),
        }
    }

    /// The parts of `or`, `and` or `at least N of`, lowered; `None` if any part failed (each
    /// failure is reported).
    fn parts(
        &mut self,
        parts: &[ast::Predicate],
        id: &Spanned<String>,
        scope: &Scope,
        diags: &mut Diagnostics,
    ) -> Option<Vec<Predicate>> {
        self.nesting += 1;
        let lowered: Vec<Option<Predicate>> =
            parts.iter().map(|p| self.predicate(p, id, scope, diags)).collect();
        self.nesting -= 1;
        lowered.into_iter().collect()
    }

    fn award(
        &mut self,
        a: &ast::Award,
        id: &Spanned<String>,
        scope: &Scope,
        diags: &mut Diagnostics,
    ) -> Option<Award> {
        Some(match a {
            ast::Award::Per { points, set, cap, unit } => {
                let class = match set {
                    Some(e) => Some(self.class(e, scope, diags)?.0),
                    None => None,
                };
                let cap = match cap {
                    Some(c) => Some(number(c, diags)?),
                    None => None,
                };
                let points = number(points, diags)?;
                match unit_of(unit) {
                    Unit::Characters => Award::Per { points, class, cap },
                    unit => Award::PerUnit { points, class, cap, unit },
                }
            }
            ast::Award::If { points, predicate } => Award::If {
                points: number(points, diags)?,
                predicate: self.predicate(predicate, id, scope, diags)?,
            },
        })
    }

    /// Finishes the program: keeps only the classes the final rules use, numbers the automata in
    /// rule order, and runs the whole-policy checks.
    pub(crate) fn finish(
        &mut self,
        name: &str,
        description: String,
        reference: String,
        mut placed: Vec<Placed>,
        diags: &mut Diagnostics,
    ) -> Option<Checked> {
        let mut remap: HashMap<u16, ClassId> = HashMap::new();
        let mut classes: Vec<CharClass> = Vec::new();
        let mut dfas = Vec::new();
        // Old term-set index -> new, and the old indices kept, in first-use order.
        let mut set_map: HashMap<u32, u32> = HashMap::new();
        let mut term_sets: Vec<u32> = Vec::new();
        let (mut store_map, mut stores) = (HashMap::new(), Vec::new());
        for p in &mut placed {
            let mut too_many = false;
            let mut map = |c: &mut ClassId| {
                let next = classes.len();
                let new = *remap.entry(c.0).or_insert_with(|| {
                    classes.push(
                        self.classes
                            .get(c.0 as usize)
                            .cloned()
                            .unwrap_or(CharClass { name: String::new(), ranges: Vec::new() }),
                    );
                    ClassId(u16::try_from(next).unwrap_or(u16::MAX))
                });
                too_many |= new.0 as usize >= MAX_CLASSES;
                *c = new;
            };
            p.rule.predicate.walk_mut(&mut |predicate| match predicate {
                Predicate::Only(c) | Predicate::NoneOf(c) => map(c),
                Predicate::Count { class, .. }
                | Predicate::CountExcept { class, .. }
                | Predicate::Measured {
                    measure: Measure::Count { class, .. } | Measure::MaxRun { class, .. },
                    ..
                } => map(class),
                Predicate::Points { awards, .. } => awards.iter_mut().for_each(|a| {
                    if let Award::Per { class: Some(c), .. }
                    | Award::PerUnit { class: Some(c), .. } = a
                    {
                        map(c)
                    }
                }),
                Predicate::AtLeastOf { classes, .. } => classes.iter_mut().for_each(&mut map),
                Predicate::Regex { pattern, dfa, .. } => {
                    *dfa = u32::try_from(dfas.len()).unwrap_or(u32::MAX);
                    dfas.push(
                        self.regexes.get(pattern.as_str()).cloned().flatten().unwrap_or_default(),
                    );
                }
                Predicate::Avoid { set, .. } => *set = keep_set(*set, &mut set_map, &mut term_sets),
                Predicate::EntraScore { sets, .. } => {
                    for s in sets.iter_mut() {
                        *s = keep_set(*s, &mut set_map, &mut term_sets);
                    }
                }
                Predicate::NotIn { store } => {
                    *store = keep_set(*store, &mut store_map, &mut stores);
                }
                _ => {}
            });
            if too_many {
                diags.push(
                    Diagnostic::error(format!("size limit exceeded: rule `{}` needs more than {MAX_CLASSES} distinct character classes in the policy", p.rule.id), p.span, "one class too many")
                        .with_help("reuse classes: define a set once with `class` and refer to it"),
                );
                return None;
            }
        }
        let term_sets: Vec<TermSet> =
            term_sets.into_iter().filter_map(|i| self.term_sets.get(i as usize).cloned()).collect();
        let ignores_case = term_sets.iter().any(|s| s.normalization.folds_case())
            || placed.iter().any(|p| {
                p.rule
                    .predicate
                    .any(&|q| matches!(q, Predicate::NotContains(_) | Predicate::EntraScore { .. }))
                    || p.rule.conditions.iter().any(|c| {
                        matches!(c, ir::Condition::Has { .. } | ir::Condition::Lacks { .. })
                    })
            });
        let program = Program {
            name: name.to_string(),
            description,
            reference,
            classes,
            rules: placed.iter().map(|p| p.rule.clone()).collect(),
            term_sets,
            stores: stores
                .into_iter()
                .filter_map(|i| self.stores.get(i as usize).cloned())
                .collect(),
            case_folds: if ignores_case {
                self.folds.take().unwrap_or_else(sets::case_fold_table)
            } else {
                Vec::new()
            },
        };
        lints::check_program(&program, &placed, diags);
        Some(Checked { program, dfas })
    }
}

/// The new index of a used term set (or store), recording it on first use.
fn keep_set(old: u32, map: &mut HashMap<u32, u32>, kept: &mut Vec<u32>) -> u32 {
    *map.entry(old).or_insert_with(|| {
        kept.push(old);
        u32::try_from(kept.len() - 1).unwrap_or(u32::MAX)
    })
}

/// Maps a byte offset in a pattern (where `\/` became `/`) back to the source text.
fn source_offset(source: &str, pattern_offset: usize) -> usize {
    let mut pat = 0;
    let mut src = 0;
    let bytes = source.as_bytes();
    while pat < pattern_offset && src < bytes.len() {
        if bytes[src] == b'\\' && bytes.get(src + 1) == Some(&b'/') {
            src += 2;
        } else {
            src += 1;
        }
        pat += 1;
    }
    src
}

fn attribute_of(a: &Spanned<String>, diags: &mut Diagnostics) -> Option<Attribute> {
    match a.value.parse::<Attribute>() {
        Ok(attr) => Some(attr),
        Err(_) => {
            let names = Attribute::ALL.iter().map(|a| a.ldap_name());
            diags.push(
                sets::unknown_name("user attribute", &a.value, a.span, names)
                    .with_help(match sets::suggest(&a.value, Attribute::ALL.iter().map(|a| a.ldap_name())) {
                        Some(s) => format!("did you mean `{s}`? known attributes: sAMAccountName, userPrincipalName, displayName, givenName, sn, mail, memberOf"),
                        None => "known attributes: sAMAccountName, userPrincipalName, displayName, givenName, sn, mail, memberOf".to_string(),
                    }),
            );
            None
        }
    }
}

fn number(n: &Spanned<u64>, diags: &mut Diagnostics) -> Option<u32> {
    match u32::try_from(n.value) {
        Ok(v) => Some(v),
        Err(_) => {
            diags.push(Diagnostic::error(
                format!("number `{}` is too large", n.value),
                n.span,
                format!("at most {}", u32::MAX),
            ));
            None
        }
    }
}

fn compare_bounds(
    op: &Spanned<CmpOp>,
    n: &Spanned<u64>,
    diags: &mut Diagnostics,
) -> Option<Bounds> {
    let v = number(n, diags)?;
    Some(match op.value {
        CmpOp::Lt => Bounds { min: 0, max: Some(v.saturating_sub(1)) },
        CmpOp::Le => Bounds { min: 0, max: Some(v) },
        CmpOp::Eq => Bounds { min: v, max: Some(v) },
        CmpOp::Ge => Bounds { min: v, max: None },
        CmpOp::Gt => Bounds { min: v.saturating_add(1), max: None },
    })
}

fn bounds(b: &Bound, diags: &mut Diagnostics) -> Option<Bounds> {
    match b {
        Bound::Compare(op, n) => {
            if op.value == CmpOp::Lt && n.value == 0 {
                diags.push(Diagnostic::error(
                    "`< 0` can never hold",
                    b.span(),
                    "no count is below 0",
                ));
                return None;
            }
            compare_bounds(op, n, diags)
        }
        Bound::Between(lo, hi) => {
            let (a, z) = (number(lo, diags)?, number(hi, diags)?);
            if a > z {
                diags.push(
                    Diagnostic::error(
                        format!("empty range: minimum {a} is larger than maximum {z}"),
                        b.span(),
                        "min > max",
                    )
                    .with_help(format!("write `between {z} and {a}`")),
                );
                return None;
            }
            Some(Bounds { min: a, max: Some(z) })
        }
    }
}

/// The unit written (`in bytes`, `in utf16 units`), characters when none is.
fn unit_of(unit: &Option<Spanned<ast::UnitKw>>) -> Unit {
    match unit.as_ref().map(|u| u.value) {
        None => Unit::Characters,
        Some(ast::UnitKw::Bytes) => Unit::Bytes,
        Some(ast::UnitKw::Utf16) => Unit::Utf16,
    }
}
