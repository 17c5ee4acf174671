//! A rule-by-rule account of one check, for `policyc explain` and help desks.

use crate::ir::{Attribute, Bounds, MatchMode, Rule, Unit};

/// Every rule of the policy with its outcome for one password.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Explanation<'v> {
    /// The password was refused before any rule ran (too large); the limit in bytes.
    pub refused_input: Option<usize>,
    /// One entry per rule, in policy order.
    pub rules: Vec<RuleReport<'v>>,
}

impl Explanation<'_> {
    /// Whether the password complies (same answer as [`Verdict::is_compliant`](crate::Verdict::is_compliant)).
    pub fn is_compliant(&self) -> bool {
        self.refused_input.is_none()
            && self.rules.iter().all(|r| {
                r.outcome != Outcome::Failed || r.rule.severity == crate::ir::Severity::Audit
            })
    }
}

/// What happened to one rule.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RuleReport<'v> {
    /// The rule.
    pub rule: &'v Rule,
    /// Pass, fail, or not applicable.
    pub outcome: Outcome,
    /// What was measured (never the password itself).
    pub detail: Detail,
}

impl RuleReport<'_> {
    /// The rule's id.
    pub fn id(&self) -> &str {
        self.rule.id.as_str()
    }

    /// The rule's message for the user.
    pub fn message(&self) -> &str {
        &self.rule.message
    }
}

/// A rule's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The rule holds.
    Passed,
    /// The rule is violated.
    Failed,
    /// A `when` condition does not hold, so the rule does not apply.
    NotApplicable,
}

/// What a rule measured, in terms a person can act on. Positions are 1-based character positions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Detail {
    /// Length in characters against the allowed bounds.
    Length {
        /// Characters in the password.
        actual: u32,
        /// Allowed.
        bounds: Bounds,
    },
    /// `only`: positions of characters outside the class.
    Only {
        /// The class.
        class: String,
        /// Positions of offending characters.
        positions: Vec<u32>,
    },
    /// `no`: positions of characters inside the class.
    NoneOf {
        /// The class.
        class: String,
        /// Positions of offending characters.
        positions: Vec<u32>,
    },
    /// `at least N of`: which classes are present and which are missing.
    AtLeastOf {
        /// How many are needed.
        n: u32,
        /// Present classes.
        present: Vec<String>,
        /// Missing classes.
        missing: Vec<String>,
    },
    /// `count`: how many characters of the class.
    Count {
        /// The class.
        class: String,
        /// How many the password has.
        actual: u32,
        /// Allowed.
        bounds: Bounds,
    },
    /// A regular-expression rule.
    Regex {
        /// The pattern.
        pattern: String,
        /// Whether it matched.
        matched: bool,
        /// Whether the rule forbids a match.
        negated: bool,
    },
    /// Longest repeated run.
    Repeat {
        /// Longest run found.
        longest: u32,
        /// Allowed.
        max: u32,
    },
    /// Longest consecutive sequence.
    Sequence {
        /// Longest run found.
        longest: u32,
        /// Allowed.
        max: u32,
    },
    /// Attribute containment: which attribute values or tokens were found.
    Contains {
        /// Attributes checked.
        checked: Vec<Attribute>,
        /// (attribute, the value or token found in the password).
        found: Vec<(Attribute, String)>,
    },
    /// A banned-term rule: the term matched, if any (never the password).
    Terms {
        /// The list's name.
        list: String,
        /// The match mode.
        mode: MatchMode,
        /// The (normalized) term found; `Some("")` when it is the whole password (not shown).
        matched: Option<String>,
    },
    /// Entra Password Protection scoring.
    Entra {
        /// The password's points.
        points: u32,
        /// Points needed.
        min_points: u32,
        /// A first or last name found in the password (an outright rejection).
        name: Option<Attribute>,
        /// The banned terms counted, in order.
        terms: Vec<String>,
        /// The whole password is a banned term (not shown).
        whole_password: bool,
        /// Why the search for the fewest points gave up (a check then fails, to be safe).
        unsettled: Option<super::entra::Unsettled>,
    },
    /// A strength rule.
    Strength {
        /// zxcvbn's score of the password (0-4).
        score: u8,
        /// Lowest accepted score.
        min_score: u8,
    },
    /// A breached-password store rule.
    Breached {
        /// The store's name in the policy.
        store: String,
        /// What the lookup found, or why the store could not be read.
        found: Result<crate::store::Lookup, String>,
    },
    /// `not palindrome`.
    Palindrome {
        /// The password reads the same backwards.
        palindrome: bool,
    },
    /// `distinct`: the number of different characters.
    Distinct {
        /// Different characters found.
        actual: u32,
        /// The allowed numbers.
        bounds: Bounds,
    },
    /// `not equals user.ATTR`.
    Equals {
        /// The attribute compared.
        attribute: Attribute,
        /// The password is exactly one of its values.
        equal: bool,
    },
    /// Longest run of keys next to each other on a keyboard row.
    Keyboard {
        /// Longest run found.
        longest: u32,
        /// Allowed.
        max: u32,
    },
    /// A length counted in another unit than characters.
    LengthIn {
        /// The unit.
        unit: Unit,
        /// The length in that unit.
        actual: u32,
        /// The allowed lengths.
        bounds: Bounds,
    },
    /// A measure in code units, or a run of one class ([`crate::ir::Predicate::Measured`]).
    Measured {
        /// The unit counted.
        unit: Unit,
        /// What was measured.
        what: Measurement,
        /// The value found.
        actual: u32,
        /// The allowed values (for runs, at most the longest allowed).
        bounds: Bounds,
    },
    /// `or`, `and`, `at least N of`: which parts held.
    Quorum {
        /// How many must hold.
        n: u32,
        /// Each part, in order.
        parts: Vec<Part>,
    },
    /// `points`: what each award gave.
    Points {
        /// Points needed.
        min: u32,
        /// Per award, in order, what it gave.
        awards: Vec<Given>,
    },
    /// The rule could not be evaluated (a damaged part of the artifact): it fails closed.
    Unavailable {
        /// Why, for the administrator.
        reason: String,
    },
    /// Nothing to report (the rule did not apply).
    None,
}

/// One part of an `or`, `and` or `at least N of` rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// Whether it held.
    pub held: bool,
    /// What was measured.
    pub detail: Detail,
}

/// What one award of a `points` rule gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Given {
    /// The points it gave.
    pub points: u32,
    /// For `N per CLASS`, the class; `character` for `N per character`; `None` for `N if P`.
    pub per: Option<String>,
    /// What `N per` counts: characters, or their bytes or UTF-16 units.
    pub unit: Unit,
    /// For `N if P`: what P measured.
    pub detail: Detail,
}

/// What a [`Detail::Measured`] measured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Measurement {
    /// The units of the characters of a class (its name).
    Count(String),
    /// The longest repeat of one unit.
    Repeat,
    /// The longest run of consecutive unit values.
    Sequence,
    /// The number of different units.
    Distinct,
    /// The longest run of units of a class (its name).
    Run(String),
}
