//! The rule program: what a checked policy means, as a flat list of rules.
//!
//! The compiler produces it from the syntax tree; it is stored (with serde) in the artifact; the
//! embedded [`Validator`](crate::Validator) runs it with compiled tables and automata, and the
//! reference evaluator interprets it plainly. It lives on the runtime side of the line because the
//! runtime must read it without the compiler.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A checked, resolved policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Program {
    /// The policy's name (`office365`).
    pub name: String,
    /// Its description, if given.
    pub description: String,
    /// Where its rules come from, if given.
    pub reference: String,
    /// The character classes the rules refer to, by [`ClassId`].
    pub classes: Vec<CharClass>,
    /// The rules, in source order (base policy first).
    pub rules: Vec<Rule>,
    /// Banned-term sets, each normalized with its own table, by index.
    pub term_sets: Vec<TermSet>,
    /// Breached-password stores the rules name, by index. Referenced, not embedded.
    pub stores: Vec<StoreRef>,
    /// Unicode simple case folding, for the rules that compare ignoring case: `(c, r)` for every
    /// non-ASCII character `c` whose folding representative `r` differs from it, sorted by `c`.
    /// Empty when no rule ignores case. Shipping the table keeps case-insensitive matching
    /// pinned to the compiler's Unicode version, whatever the runtime's standard library knows.
    pub case_folds: Vec<(u32, u32)>,
}

impl Program {
    /// The user attributes some rule reads: what a directory hook must look up before it checks
    /// a password against this program (nothing, for a policy like office365).
    pub fn attributes(&self) -> AttributeSet {
        self.rules.iter().fold(AttributeSet::default(), |set, r| set.union(r.attributes()))
    }

    /// Whether some rule has a predicate, at any depth, for which `f` holds (what a program
    /// needs from whoever runs it: strength rules, the tenant's name).
    pub fn has(&self, f: impl Fn(&Predicate) -> bool) -> bool {
        let mut found = false;
        for rule in &self.rules {
            rule.predicate.walk(&mut |p| found |= f(p));
        }
        found
    }
}

impl Rule {
    /// The user attributes this rule reads, in its conditions or its predicate.
    pub fn attributes(&self) -> AttributeSet {
        let mut set = AttributeSet::default();
        for c in &self.conditions {
            if let Condition::Has { attribute, .. } | Condition::Lacks { attribute, .. } = c {
                set.insert(*attribute);
            }
        }
        self.predicate.walk(&mut |p| match p {
            Predicate::NotContains(list)
            | Predicate::NotContainsEitherWay(list)
            | Predicate::NotContainsInBytes { checks: list, .. } => {
                list.iter().for_each(|c| set.insert(c.attribute))
            }
            Predicate::NotContainsPatterns(c) => set.insert(c.attribute),
            Predicate::NotEquals(attribute) => set.insert(*attribute),
            Predicate::EntraScore { .. } => {
                set.insert(Attribute::GivenName);
                set.insert(Attribute::Surname);
            }
            Predicate::Strength { .. } => Attribute::ALL
                .into_iter()
                .filter(|a| *a != Attribute::MemberOf)
                .for_each(|a| set.insert(a)),
            _ => {}
        });
        set
    }
}

/// A set of Unicode scalar values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CharClass {
    /// How the class is named in messages (`symbol`, `[a-z]`).
    pub name: String,
    /// Sorted, disjoint, non-adjacent inclusive ranges of scalar values.
    pub ranges: Vec<(u32, u32)>,
}

impl CharClass {
    /// Whether `c` is in the class (a plain scan; the validator uses compiled tables).
    pub fn contains(&self, c: char) -> bool {
        let c = c as u32;
        self.ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi)
    }
}

/// Index of a class in [`Program::classes`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ClassId(pub u16);

/// A rule's stable id, as written in the policy.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RuleId(pub String);

impl RuleId {
    /// The id as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether a failing rule rejects the password. Named `enforce` or `audit` in JSON (the artifact
/// stores the variant's index, which the names do not change).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// A violation makes the password noncompliant.
    Enforce,
    /// A violation is reported but never rejects (like Entra's audit mode).
    Audit,
}

impl Severity {
    /// `enforce` or `audit`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Enforce => "enforce",
            Severity::Audit => "audit",
        }
    }
}

/// One rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    /// Stable id.
    pub id: RuleId,
    /// What the user should do when the rule fails.
    pub message: String,
    /// Enforce or audit.
    pub severity: Severity,
    /// The rule applies only when all of these hold.
    pub conditions: Vec<Condition>,
    /// What the password must satisfy.
    pub predicate: Predicate,
}

/// An inclusive range of counts; `max: None` is unbounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bounds {
    /// Smallest allowed value.
    pub min: u32,
    /// Largest allowed value, if any.
    pub max: Option<u32>,
}

impl Bounds {
    /// Whether `n` is within the bounds.
    pub fn contains(&self, n: u32) -> bool {
        n >= self.min && self.max.is_none_or(|m| n <= m)
    }
}

impl fmt::Display for Bounds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.max {
            None => write!(f, "at least {}", self.min),
            Some(m) if m == self.min => write!(f, "exactly {m}"),
            Some(m) if self.min == 0 => write!(f, "at most {m}"),
            Some(m) => write!(f, "{} to {}", self.min, m),
        }
    }
}

/// When a rule applies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Condition {
    /// The password's length (in scalar values) is within the bounds.
    Length(Bounds),
    /// One of the user's values of the attribute equals `value`, ignoring case.
    Has {
        /// The attribute.
        attribute: Attribute,
        /// The value looked for.
        value: String,
    },
    /// None of the user's values of the attribute equals `value` (`when not user.A has "v"`:
    /// the rules for users outside a group, as a fine-grained policy replaces the domain's).
    Lacks {
        /// The attribute.
        attribute: Attribute,
        /// The value looked for.
        value: String,
    },
}

/// What a rule requires of the password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Predicate {
    /// The number of scalar values is within the bounds.
    Length(Bounds),
    /// Every character is in the class.
    Only(ClassId),
    /// No character is in the class.
    NoneOf(ClassId),
    /// At least `n` of the classes have a character in the password.
    AtLeastOf {
        /// How many must be present.
        n: u32,
        /// The classes, as listed.
        classes: Vec<ClassId>,
    },
    /// The number of characters in the class is within the bounds.
    Count {
        /// The class counted.
        class: ClassId,
        /// The allowed counts.
        bounds: Bounds,
    },
    /// The password matches (or, negated, does not match) a regular expression anywhere.
    Regex {
        /// The pattern as written.
        pattern: String,
        /// `not matches`.
        negated: bool,
        /// Index of its automaton in the artifact.
        dfa: u32,
    },
    /// No character is repeated more than this many times in a row.
    MaxRepeat(u32),
    /// No run of consecutive code points (`abc`, `4321`) is longer than this.
    MaxSequence(u32),
    /// The password does not contain, ignoring case, any of these attribute values or tokens.
    NotContains(Vec<Containment>),
    /// The normalized password does not match a term of the set in the given mode.
    Avoid {
        /// Index in [`Program::term_sets`].
        set: u32,
        /// How a term must occur to count.
        mode: MatchMode,
    },
    /// Entra Password Protection: normalize, reject the user's first or last name, then score
    /// the password against the sets (fuzzy) and the tenant name; at least `min_points` passes.
    EntraScore {
        /// Indices in [`Program::term_sets`] (normalized with the Entra table).
        sets: Vec<u32>,
        /// Points needed (Entra: 5).
        min_points: u32,
    },
    /// zxcvbn's score (0-4) of the password, with the user's attributes as user inputs.
    Strength {
        /// Lowest accepted score.
        min_score: u8,
    },
    /// The password is not in a breached-password store (hashed the store's way).
    NotIn {
        /// Index in [`Program::stores`].
        store: u32,
    },
    /// The password does not read the same backwards (characters compared exactly, or
    /// ignoring case as attribute containment does).
    NotPalindrome {
        /// Compare ignoring case.
        ignore_case: bool,
    },
    /// The number of different characters (case-sensitive) is within the bounds.
    Distinct(Bounds),
    /// The password is not exactly, case-sensitively, a value of the attribute.
    NotEquals(Attribute),
    /// As [`Predicate::NotContains`], and the values or tokens read backwards are not contained
    /// either.
    NotContainsEitherWay(Vec<Containment>),
    /// At least `n` of the parts hold: `A or B` is 1 of 2, `A and B` is 2 of 2, `at least 3 of
    /// { ... }` over rules is 3 of them.
    Quorum {
        /// How many parts must hold (1 to `parts.len()`).
        n: u32,
        /// The parts, as written.
        parts: Vec<Predicate>,
    },
    /// The points the awards give reach `min` (Lithnet's complexity points, libpwquality's
    /// credits).
    Points {
        /// Points needed.
        min: u32,
        /// What gives points, as written.
        awards: Vec<Award>,
    },
    /// The length counted in a unit other than characters (what a byte-counting C library or a
    /// UTF-16 directory counts).
    LengthIn {
        /// The unit counted.
        unit: Unit,
        /// The allowed lengths.
        bounds: Bounds,
    },
    /// The number of characters in the class within the bounds, a character at one end of the
    /// password not counted (passwdqc: a leading capital, a trailing digit).
    CountExcept {
        /// The class counted.
        class: ClassId,
        /// The allowed counts.
        bounds: Bounds,
        /// The end whose character does not count.
        edge: Edge,
    },
    /// No run of keys next to each other on one row of a US keyboard (`qwer`, `lkjh`, `7890`)
    /// is longer than this, shift ignored.
    MaxKeyboardRun(u32),
    /// A measure of the password's code units in `unit`: what a byte-counting C library
    /// (`in bytes`) or Windows (`in utf16 units`) counts where the predicates above count
    /// characters; and runs of one class (`longest run of SET`), in any unit.
    Measured {
        /// The unit counted.
        unit: Unit,
        /// What is measured.
        measure: Measure,
    },
    /// `not contains user.ATTR in bytes` (format 9): no value or token of the attributes
    /// occurs in the password compared as bytes, ASCII letters ignoring case and nothing else
    /// (what libpwquality does, in the C locale); `min_chars` counts bytes. With `reversed`,
    /// the values' bytes read backwards are looked for too. With `closer_than` N above 0, a
    /// password whose [`pwquality_distance`] from a value (or, with `reversed`, its bytes
    /// backwards) is below N is refused too (libpwquality's `wordcheck` with `difok` N). Last,
    /// so that older programs decode.
    NotContainsInBytes {
        /// The attributes looked for.
        checks: Vec<Containment>,
        /// Also the values' bytes backwards.
        reversed: bool,
        /// Refused below this distance from the whole password; 0: no distance check.
        closer_than: u32,
    },
    /// `not contains user.ATTR in bytes as patterns` (format 9): each token of the attribute's
    /// values read as a POSIX basic regular expression, as glibc's `regcomp(…, REG_ICASE)`
    /// reads it in the C locale ([`crate::runtime::posix`]), and looked for in the password:
    /// what ppm does with the RDN and `checkAttributes`. A token that does not compile ends
    /// the search, the password passing, as ppm's does; one the runtime cannot search (a
    /// back-reference) refuses it.
    NotContainsPatterns(Containment),
}

/// What a [`Predicate::Measured`] measures over the password's code units. A code unit belongs
/// to one character, and is in a class when its character is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Measure {
    /// The number of units of characters in the class is within the bounds.
    Count {
        /// The class counted.
        class: ClassId,
        /// The allowed counts.
        bounds: Bounds,
    },
    /// No unit is repeated more than this many times in a row.
    MaxRepeat(u32),
    /// No run of consecutive unit values, ascending or descending, is longer than this.
    MaxSequence(u32),
    /// The number of different units is within the bounds.
    Distinct(Bounds),
    /// No run of units of characters in the class is longer than `max`.
    MaxRun {
        /// The class of the run.
        class: ClassId,
        /// The longest run allowed.
        max: u32,
    },
}

impl Predicate {
    /// The predicate's kind, a stable snake_case name (what `policyc inspect` lists).
    pub fn kind(&self) -> &'static str {
        match self {
            Predicate::Length(_) => "length",
            Predicate::Only(_) => "only",
            Predicate::NoneOf(_) => "no",
            Predicate::AtLeastOf { .. } => "at_least_of",
            Predicate::Count { .. } => "count",
            Predicate::Regex { .. } => "regex",
            Predicate::MaxRepeat(_) => "max_repeat",
            Predicate::MaxSequence(_) => "max_sequence",
            Predicate::NotContains(_) => "not_contains",
            Predicate::Avoid { .. } => "avoid",
            Predicate::EntraScore { .. } => "entra_score",
            Predicate::Strength { .. } => "strength",
            Predicate::NotIn { .. } => "not_in_store",
            Predicate::NotPalindrome { .. } => "not_palindrome",
            Predicate::Distinct(_) => "distinct",
            Predicate::NotEquals(_) => "not_equals",
            Predicate::NotContainsEitherWay(_) => "not_contains_either_way",
            Predicate::NotContainsInBytes { .. } => "not_contains_in_bytes",
            Predicate::NotContainsPatterns(_) => "not_contains_patterns",
            Predicate::Quorum { .. } => "quorum",
            Predicate::Points { .. } => "points",
            Predicate::LengthIn { .. } => "length_in",
            Predicate::CountExcept { .. } => "count_except",
            Predicate::MaxKeyboardRun(_) => "max_keyboard_run",
            Predicate::Measured { .. } => "measured",
        }
    }

    /// Calls `f` on this predicate and on every predicate nested in it, outermost first.
    pub fn walk<'p>(&'p self, f: &mut impl FnMut(&'p Predicate)) {
        f(self);
        for inner in self.nested() {
            inner.walk(f);
        }
    }

    /// As [`Predicate::walk`], mutably.
    pub fn walk_mut(&mut self, f: &mut impl FnMut(&mut Predicate)) {
        f(self);
        match self {
            Predicate::Quorum { parts, .. } => parts.iter_mut().for_each(|p| p.walk_mut(f)),
            Predicate::Points { awards, .. } => awards.iter_mut().for_each(|a| {
                if let Award::If { predicate, .. } = a {
                    predicate.walk_mut(f)
                }
            }),
            _ => {}
        }
    }

    /// The predicates directly inside this one (none for a simple predicate).
    pub fn nested(&self) -> Vec<&Predicate> {
        match self {
            Predicate::Quorum { parts, .. } => parts.iter().collect(),
            Predicate::Points { awards, .. } => awards
                .iter()
                .filter_map(|a| match a {
                    Award::If { predicate, .. } => Some(predicate),
                    Award::Per { .. } | Award::PerUnit { .. } => None,
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Whether this predicate or one nested in it satisfies `test`.
    pub fn any(&self, test: &impl Fn(&Predicate) -> bool) -> bool {
        test(self) || self.nested().into_iter().any(|p| p.any(test))
    }
}

impl Measure {
    /// The values the measure allows: a count's bounds, or at most the longest run allowed.
    pub fn bounds(&self) -> Bounds {
        match self {
            Measure::Count { bounds, .. } | Measure::Distinct(bounds) => *bounds,
            Measure::MaxRepeat(max) | Measure::MaxSequence(max) | Measure::MaxRun { max, .. } => {
                Bounds { min: 0, max: Some(*max) }
            }
        }
    }
}

/// What gives points in a [`Predicate::Points`] rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Award {
    /// `N per CLASS [up to M]`, `N per character [up to M]`: `points` for each character of the
    /// class (of any class: `None`), at most `cap` points in all.
    Per {
        /// Points per character.
        points: u32,
        /// The class counted; `None` counts every character.
        class: Option<ClassId>,
        /// Most points this award gives.
        cap: Option<u32>,
    },
    /// `N if PREDICATE`: `points` when the predicate holds.
    If {
        /// Points given.
        points: u32,
        /// The condition.
        predicate: Predicate,
    },
    /// `N per CLASS in UNIT [up to M]`: as [`Award::Per`], `points` for each code unit of the
    /// class's characters (libpwquality's credits count bytes).
    PerUnit {
        /// Points per unit.
        points: u32,
        /// The class counted; `None` counts every character's units.
        class: Option<ClassId>,
        /// Most points this award gives.
        cap: Option<u32>,
        /// The unit counted.
        unit: Unit,
    },
}

/// What a length is counted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Unit {
    /// UTF-16 code units (what Windows counts: a character outside the BMP is two).
    Utf16,
    /// UTF-8 bytes (what a C library calling `strlen` counts).
    Bytes,
    /// Characters (Unicode scalar values), what the predicates count without a unit.
    Characters,
}

impl Unit {
    /// The length of `text` in this unit.
    pub fn length(self, text: &str) -> u32 {
        let n = match self {
            Unit::Utf16 => text.chars().map(char::len_utf16).sum(),
            Unit::Bytes => text.len(),
            Unit::Characters => text.chars().count(),
        };
        u32::try_from(n).unwrap_or(u32::MAX)
    }

    /// How many units `c` is.
    pub fn of(self, c: char) -> u32 {
        match self {
            Unit::Utf16 => c.len_utf16() as u32,
            Unit::Bytes => c.len_utf8() as u32,
            Unit::Characters => 1,
        }
    }
}

/// The rows of a US keyboard, unshifted and shifted: a character's row and column.
const KEYBOARD_ROWS: [(&str, &str); 4] = [
    ("`1234567890-=", "~!@#$%^&*()_+"),
    ("qwertyuiop[]\\", "QWERTYUIOP{}|"),
    ("asdfghjkl;'", "ASDFGHJKL:\""),
    ("zxcvbnm,./", "ZXCVBNM<>?"),
];

/// Where `c` is on a US keyboard: its row and column, shift ignored.
pub fn keyboard_position(c: char) -> Option<(u8, u8)> {
    KEYBOARD_ROWS.iter().zip(0u8..).find_map(|((plain, shifted), row)| {
        let col =
            plain.chars().position(|k| k == c).or_else(|| shifted.chars().position(|k| k == c))?;
        Some((row, u8::try_from(col).ok()?))
    })
}

/// The longest run of keys next to each other on one keyboard row, in one direction.
pub fn longest_keyboard_run(password: &str) -> u32 {
    let (mut best, mut up, mut down) = (0u32, 0u32, 0u32);
    let mut prev: Option<(u8, u8)> = None;
    for c in password.chars() {
        let here = keyboard_position(c);
        let step = |d: i16| match (prev, here) {
            (Some((r, a)), Some((s, b))) => r == s && i16::from(b) - i16::from(a) == d,
            _ => false,
        };
        up = if step(1) { up + 1 } else { 1 };
        down = if step(-1) { down + 1 } else { 1 };
        best = best.max(up).max(down);
        prev = here;
    }
    best
}

/// One end of the password.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Edge {
    /// The first character.
    Start,
    /// The last character.
    End,
}

impl Edge {
    /// The character at this end of `password`.
    pub fn char_of(self, password: &str) -> Option<char> {
        match self {
            Edge::Start => password.chars().next(),
            Edge::End => password.chars().next_back(),
        }
    }
}

/// A breached-password store as a policy names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreRef {
    /// Its name in the policy.
    pub name: String,
    /// Its directory (absolute: resolved against the policy file when compiled).
    pub path: String,
}

/// How a banned term must occur in the normalized password to match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MatchMode {
    /// The whole password equals the term.
    Exact,
    /// The term occurs anywhere in the password.
    Contains,
    /// The term occurs anywhere with at most one edit (substitution, insertion, deletion).
    Fuzzy,
}

impl MatchMode {
    /// `exact`, `contains` or `fuzzy`.
    pub fn as_str(self) -> &'static str {
        match self {
            MatchMode::Exact => "exact",
            MatchMode::Contains => "contains",
            MatchMode::Fuzzy => "fuzzy",
        }
    }
}

/// A normalization: steps applied in order, to the terms when the policy is compiled and to the
/// password when it is checked.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Normalization {
    /// How the table is named (`entra`, `leet`).
    pub name: String,
    /// The steps, in order.
    pub steps: Vec<NormStep>,
}

/// One step of a normalization.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum NormStep {
    /// Unicode simple case folding (the compiler's table, shipped in the program).
    Lowercase,
    /// Single-character substitutions, sorted by the character replaced.
    Substitute(Vec<(char, char)>),
    /// Every character in these ranges (sorted, disjoint) is deleted.
    Delete(Vec<(u32, u32)>),
    /// Characters in these ranges are deleted from the start and from the end.
    Trim(Vec<(u32, u32)>),
}

impl NormStep {
    /// Whether the step depends on a character's place (so it is not applied per character).
    pub fn is_positional(&self) -> bool {
        matches!(self, NormStep::Trim(_))
    }
}

/// Whether `c` lies in sorted, disjoint ranges.
pub fn in_ranges(ranges: &[(u32, u32)], c: char) -> bool {
    ranges.binary_search_by(|&(lo, hi)| range_order(lo, hi, c as u32)).is_ok()
}

/// Where the range `lo..=hi` lies relative to `c`, for a binary search of sorted ranges.
pub fn range_order(lo: u32, hi: u32, c: u32) -> std::cmp::Ordering {
    if hi < c {
        std::cmp::Ordering::Less
    } else if lo > c {
        std::cmp::Ordering::Greater
    } else {
        std::cmp::Ordering::Equal
    }
}

impl Normalization {
    /// A normalization of these steps.
    pub fn new(name: &str, steps: Vec<NormStep>) -> Normalization {
        Normalization { name: name.to_string(), steps }
    }

    /// A built-in normalization by name (`entra`, `lowercase`, `none`; [`Normalization::BUILTIN`]).
    pub fn builtin(name: &str) -> Option<Normalization> {
        match name {
            "entra" => Some(Normalization::entra()),
            "lowercase" => Some(Normalization::new(name, vec![NormStep::Lowercase])),
            "none" => Some(Normalization::new(name, Vec::new())),
            _ => None,
        }
    }

    /// The names of the built-in normalizations.
    pub const BUILTIN: &'static [&'static str] = &["entra", "lowercase", "none"];

    /// Entra Password Protection's documented normalization: lowercase, then
    /// `0→o`, `1→l`, `$→s`, `@→a`.
    pub fn entra() -> Normalization {
        Normalization::new(
            "entra",
            vec![
                NormStep::Lowercase,
                NormStep::Substitute(vec![('$', 's'), ('0', 'o'), ('1', 'l'), ('@', 'a')]),
            ],
        )
    }

    /// Whether some step folds case.
    pub fn folds_case(&self) -> bool {
        self.steps.contains(&NormStep::Lowercase)
    }

    /// Whether some step trims (so the normalization is not a per-character map).
    pub fn trims(&self) -> bool {
        self.steps.iter().any(NormStep::is_positional)
    }
}

/// Terms shorter than this many characters are matched exactly even in fuzzy mode: one edit
/// of a three-character term matches far too much (Entra's own lists start at four).
pub const FUZZY_MIN_CHARS: u32 = 4;

/// A banned-term list, normalized: distinct terms, sorted, stored as one string and end offsets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TermSet {
    /// The list's name in the policy.
    pub name: String,
    /// The normalization applied to the terms and, at check time, to the password.
    pub normalization: Normalization,
    /// The terms, concatenated.
    pub text: String,
    /// End offset of each term in `text`.
    pub ends: Vec<u32>,
}

impl TermSet {
    /// Builds a set from normalized terms (sorted and deduplicated here).
    pub fn new(name: String, normalization: Normalization, mut terms: Vec<String>) -> TermSet {
        terms.sort_unstable();
        terms.dedup();
        let mut text = String::new();
        let mut ends = Vec::with_capacity(terms.len());
        for t in &terms {
            text.push_str(t);
            ends.push(u32::try_from(text.len()).unwrap_or(u32::MAX));
        }
        TermSet { name, normalization, text, ends }
    }

    /// The terms, in sorted order.
    pub fn terms(&self) -> impl Iterator<Item = &str> {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts
            .zip(self.ends.iter().copied())
            .map(|(a, b)| self.text.get(a as usize..b as usize).unwrap_or(""))
    }

    /// The term with this index.
    pub fn term(&self, index: u32) -> &str {
        let i = index as usize;
        let start = if i == 0 { 0 } else { self.ends.get(i - 1).copied().unwrap_or(0) };
        let end = self.ends.get(i).copied().unwrap_or(start);
        self.text.get(start as usize..end as usize).unwrap_or("")
    }

    /// How many terms.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether the set has no term.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
}

/// libpwquality's distance between two texts (`check.c`, `distance`), ASCII letters lower-cased:
/// the cheapest path through the table of their bytes that moves on in one, the other or both,
/// paying a step only where the two bytes it arrives at differ. So repeating or dropping a
/// repeated byte is free (`sumer2024` is 0 from `summer2024`); it is not the Levenshtein
/// distance. Two rows of the table: time `a.len() × b.len()`, bounded by what is compared.
pub fn pwquality_distance(a: &[u8], b: &[u8]) -> usize {
    let lower = |x: u8| x.to_ascii_lowercase();
    let mut above: Vec<usize> = (0..=b.len()).collect();
    let mut row = vec![0; b.len() + 1];
    for (i, &x) in a.iter().enumerate() {
        row[0] = i + 1;
        for (j, &y) in b.iter().enumerate() {
            let cheapest = above[j].min(above[j + 1]).min(row[j]);
            row[j + 1] = cheapest + usize::from(lower(x) != lower(y));
        }
        std::mem::swap(&mut above, &mut row);
    }
    above[b.len()]
}

/// One attribute-containment check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Containment {
    /// The attribute whose values are looked for.
    pub attribute: Attribute,
    /// Characters the value is split on; empty means the whole value.
    pub delimiters: Vec<char>,
    /// Values or tokens with fewer UTF-16 code units than this are not checked (what a
    /// Windows password filter counts: an astral character is two).
    pub min_chars: u32,
}

impl Containment {
    /// The parts of one attribute value that are looked for: the value, or with delimiters its
    /// tokens, each with at least `min_chars` UTF-16 units; a value none of whose tokens is
    /// that long is looked for whole, when it is (the stricter reading of AD's "entire
    /// displayName" check: `Li Na` is checked as `li na`).
    pub fn tokens<'v>(&'v self, value: &'v str) -> impl Iterator<Item = &'v str> + 'v {
        let min = self.min_chars.max(1) as usize;
        let long = move |t: &&str| t.encode_utf16().count() >= min;
        // With no delimiters, `split` yields the whole value once.
        let mut tokens = value.split(|c| self.delimiters.contains(&c)).filter(long).peekable();
        let whole = (tokens.peek().is_none() && long(&value)).then_some(value);
        tokens.chain(whole)
    }

    /// The parts of one attribute value looked for by [`Predicate::NotContainsInBytes`] and
    /// [`Predicate::NotContainsPatterns`]: the value, or with delimiters its tokens, each of at
    /// least `min_chars` bytes. The value is split at every byte of the delimiters' UTF-8, as a
    /// C library's `strtok` does (ppm's `£` is two delimiters, `0xC2` and `0xA3`), so a token
    /// may end inside a character.
    pub fn byte_tokens<'v>(&'v self, value: &'v str) -> impl Iterator<Item = &'v [u8]> + 'v {
        let min = self.min_chars.max(1) as usize;
        let mut cut = [false; 256];
        for c in &self.delimiters {
            for b in c.to_string().bytes() {
                cut[usize::from(b)] = true;
            }
        }
        value.as_bytes().split(move |b| cut[usize::from(*b)]).filter(move |t| t.len() >= min)
    }
}

/// A user attribute, by its directory (LDAP) name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Attribute {
    /// `sAMAccountName`: the pre-Windows 2000 logon name.
    SamAccountName,
    /// `userPrincipalName`: `user@example.com`.
    UserPrincipalName,
    /// `displayName`: the full name.
    DisplayName,
    /// `givenName`: the first name.
    GivenName,
    /// `sn`: the surname.
    Surname,
    /// `mail`.
    Mail,
    /// `memberOf`: group DNs (multi-valued).
    MemberOf,
}

impl Attribute {
    /// Every attribute, in a fixed order.
    pub const ALL: [Attribute; 7] = [
        Attribute::SamAccountName,
        Attribute::UserPrincipalName,
        Attribute::DisplayName,
        Attribute::GivenName,
        Attribute::Surname,
        Attribute::Mail,
        Attribute::MemberOf,
    ];

    /// The LDAP name.
    pub fn ldap_name(self) -> &'static str {
        match self {
            Attribute::SamAccountName => "sAMAccountName",
            Attribute::UserPrincipalName => "userPrincipalName",
            Attribute::DisplayName => "displayName",
            Attribute::GivenName => "givenName",
            Attribute::Surname => "sn",
            Attribute::Mail => "mail",
            Attribute::MemberOf => "memberOf",
        }
    }

    /// Position in [`Attribute::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

/// A set of [`Attribute`]s.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct AttributeSet(u8);

impl AttributeSet {
    /// Adds one.
    pub fn insert(&mut self, attribute: Attribute) {
        self.0 |= 1 << attribute.index();
    }

    /// Whether it holds `attribute`.
    pub fn contains(self, attribute: Attribute) -> bool {
        self.0 & (1 << attribute.index()) != 0
    }

    /// Whether it is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The members not in `other`.
    pub fn without(self, other: AttributeSet) -> AttributeSet {
        AttributeSet(self.0 & !other.0)
    }

    /// Both sets' members.
    pub fn union(self, other: AttributeSet) -> AttributeSet {
        AttributeSet(self.0 | other.0)
    }

    /// The members, in [`Attribute::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = Attribute> {
        Attribute::ALL.into_iter().filter(move |a| self.contains(*a))
    }
}

impl FromIterator<Attribute> for AttributeSet {
    fn from_iter<I: IntoIterator<Item = Attribute>>(iter: I) -> AttributeSet {
        let mut set = AttributeSet::default();
        iter.into_iter().for_each(|a| set.insert(a));
        set
    }
}

impl fmt::Display for AttributeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.iter().map(Attribute::ldap_name).collect();
        f.write_str(&names.join(", "))
    }
}

impl fmt::Display for Attribute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.ldap_name())
    }
}

/// An attribute name that is not one of [`Attribute::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown user attribute `{name}`; known attributes: sAMAccountName, userPrincipalName, displayName, givenName, sn, mail, memberOf"
)]
pub struct UnknownAttribute {
    /// The name given.
    pub name: String,
}

impl FromStr for Attribute {
    type Err = UnknownAttribute;

    /// LDAP attribute names are case-insensitive.
    fn from_str(s: &str) -> Result<Attribute, UnknownAttribute> {
        Attribute::ALL
            .into_iter()
            .find(|a| a.ldap_name().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownAttribute { name: s.to_string() })
    }
}

#[cfg(test)]
mod tests {
    use super::pwquality_distance;

    /// libpwquality's distance is not Levenshtein's: a repeated byte comes and goes for free,
    /// case is ignored, and a step is paid where the bytes compared differ.
    #[test]
    fn pwquality_distance_charges_only_where_bytes_differ() {
        let d = |a: &str, b: &str| pwquality_distance(a.as_bytes(), b.as_bytes());
        assert_eq!(d("Sumer2024", "summer2024"), 0);
        assert_eq!(d("summer20024", "summer2024"), 0);
        assert_eq!(d("smer2024", "summer2024"), 1);
        assert_eq!(d("summer20", "summer2024"), 2);
        assert_eq!(d("", "abcd"), 4);
        assert_eq!(d("abcd", ""), 4);
        assert_eq!(d("xbcd", "abcd"), 1);
        // Levenshtein says 2 here (delete two `b`s); libpwquality pays nothing for the run,
        // but pays for each `b` where there is none to compare with.
        assert_eq!(d("abbbc", "abc"), 0);
        assert_eq!(d("abbbc", "ac"), 3);
    }
}
