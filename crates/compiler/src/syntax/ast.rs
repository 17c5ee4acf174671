//! The syntax tree of a policy file. Every node carries the [`Span`] it was parsed from, so that
//! every later diagnostic can point at the source.

use crate::span::Span;

/// A value with the span it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spanned<T> {
    /// The value.
    pub value: T,
    /// Where it was written.
    pub span: Span,
}

/// A name (policy, class or rule id) as written.
pub type Ident = Spanned<String>;

/// One parsed source file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    /// `import "path"` lines, in order.
    pub imports: Vec<Spanned<String>>,
    /// The policies the file defines, in order.
    pub policies: Vec<Policy>,
    /// Every comment in the file, in order (the formatter puts them back).
    pub comments: Vec<Comment>,
}

/// A `# ...` comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    /// The text, including the leading `#`, without the line break.
    pub text: String,
    /// Where it was written.
    pub span: Span,
}

/// `policy NAME [extends BASE] { ... }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// The policy's name.
    pub name: Ident,
    /// The policy it extends, if any.
    pub extends: Option<Ident>,
    /// Its items, in order.
    pub items: Vec<Item>,
    /// The whole policy.
    pub span: Span,
}

/// One item in a policy body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// `description "..."`.
    Description(Spanned<String>),
    /// `reference "..."`.
    Reference(Spanned<String>),
    /// `class NAME = SET`.
    Class(ClassDef),
    /// `rule ...`.
    Rule(Rule),
    /// `override rule ...`: replaces a rule of the base policy.
    Override(Rule),
    /// `drop rule ID`: removes a rule of the base policy.
    Drop(DropRule),
    /// `when CONDITION { ... }`.
    When(When),
    /// `terms NAME = file "PATH"` or `terms NAME = ["a", "b"]`.
    Terms(TermsDef),
    /// `normalization NAME = STEP then STEP …`.
    Normalization(NormalizationDef),
    /// `store NAME = "PATH"`: a breached-password store.
    Store(StoreDef),
}

/// `store NAME = "PATH"`: a breached-password store, referenced by path (relative to the
/// policy file), never embedded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreDef {
    /// The store's name in rules.
    pub name: Ident,
    /// Its directory, as written.
    pub path: Spanned<String>,
    /// The whole definition.
    pub span: Span,
}

/// `terms NAME = file "PATH" [with entra limits]` or `terms NAME = ["a", "b"]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TermsDef {
    /// The list's name.
    pub name: Ident,
    /// Where the terms are.
    pub source: TermsSource,
    /// `with entra limits`: check Entra's custom-list limits (as warnings).
    pub entra_limits: bool,
    /// The whole definition.
    pub span: Span,
}

/// Where a term list's terms are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TermsSource {
    /// A file, relative to the policy file: one term per line, `#` comments.
    File(Spanned<String>),
    /// Terms written in the policy.
    Inline(Vec<Spanned<String>>),
}

/// `normalization NAME = STEP then STEP …`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NormalizationDef {
    /// The table's name.
    pub name: Ident,
    /// The steps, in order.
    pub steps: Vec<NormStepDef>,
    /// The whole definition.
    pub span: Span,
}

/// One step of a normalization, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NormStepDef {
    /// `lowercase`.
    Lowercase(Span),
    /// `"a" -> "b", …`: single-character substitutions.
    Substitute(Vec<(Spanned<String>, Spanned<String>)>),
    /// `delete SET`.
    Delete(SetExpr),
    /// `trim SET`.
    Trim(SetExpr),
}

/// How a term must occur (`exact`, `contains`, `fuzzy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModeKw {
    /// The whole password.
    Exact,
    /// Anywhere.
    Contains,
    /// Anywhere, within one edit.
    Fuzzy,
}

/// The unit of `length in UNIT` (and of counts, runs, `distinct` and awards).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitKw {
    /// `bytes`.
    Bytes,
    /// `utf16 units`.
    Utf16,
}

impl UnitKw {
    /// As written.
    pub fn as_str(self) -> &'static str {
        match self {
            UnitKw::Bytes => "bytes",
            UnitKw::Utf16 => "utf16 units",
        }
    }
}

/// The end of `except at start|end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdgeKw {
    /// `start`.
    Start,
    /// `end`.
    End,
}

impl EdgeKw {
    /// As written.
    pub fn as_str(self) -> &'static str {
        match self {
            EdgeKw::Start => "start",
            EdgeKw::End => "end",
        }
    }
}

impl Item {
    /// The span of the whole item.
    pub fn span(&self) -> Span {
        match self {
            Item::Description(s) | Item::Reference(s) => s.span,
            Item::Class(c) => c.span,
            Item::Rule(r) | Item::Override(r) => r.span,
            Item::Drop(d) => d.span,
            Item::When(w) => w.span,
            Item::Terms(t) => t.span,
            Item::Normalization(n) => n.span,
            Item::Store(s) => s.span,
        }
    }
}

/// `class NAME = SET`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassDef {
    /// The class name.
    pub name: Ident,
    /// Its definition.
    pub set: SetExpr,
    /// The whole definition.
    pub span: Span,
}

/// `drop rule ID`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DropRule {
    /// The id of the dropped rule.
    pub id: Ident,
    /// The whole item.
    pub span: Span,
}

/// Whether a rule rejects or only reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeverityKw {
    /// `enforce`: a violation makes the password noncompliant.
    Enforce,
    /// `audit`: a violation is reported but never rejects.
    Audit,
}

/// `[enforce|audit] rule ID "message" : PREDICATE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// The severity keyword, if written (the default is enforce).
    pub severity: Option<Spanned<SeverityKw>>,
    /// The rule's stable id.
    pub id: Ident,
    /// The message shown to the user when the rule fails.
    pub message: Spanned<String>,
    /// What the password must satisfy.
    pub predicate: Predicate,
    /// The whole rule.
    pub span: Span,
}

/// `when CONDITION { ... }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct When {
    /// The conditions, all of which must hold (`and`).
    pub conditions: Vec<Condition>,
    /// Rules and nested `when` blocks.
    pub items: Vec<Item>,
    /// The whole block.
    pub span: Span,
}

/// One condition of a `when` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// `length OP N`.
    Length {
        /// The comparison.
        op: Spanned<CmpOp>,
        /// The number compared with.
        value: Spanned<u64>,
        /// The whole condition.
        span: Span,
    },
    /// `[not] user.ATTR has "value"`.
    Has {
        /// `not`: the rules apply when the user has no such value.
        negated: bool,
        /// The attribute name as written (without `user.`).
        attribute: Spanned<String>,
        /// The value looked for.
        value: Spanned<String>,
        /// The whole condition.
        span: Span,
    },
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `==`
    Eq,
    /// `>=`
    Ge,
    /// `>`
    Gt,
}

impl CmpOp {
    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Eq => "==",
            CmpOp::Ge => ">=",
            CmpOp::Gt => ">",
        }
    }
}

/// A numeric bound: `OP N` or `between A and B`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bound {
    /// `OP N`.
    Compare(Spanned<CmpOp>, Spanned<u64>),
    /// `between A and B`, both ends included.
    Between(Spanned<u64>, Spanned<u64>),
}

impl Bound {
    /// The span of the whole bound.
    pub fn span(&self) -> Span {
        match self {
            Bound::Compare(op, n) => op.span.to(n.span),
            Bound::Between(a, b) => a.span.to(b.span),
        }
    }
}

/// What a rule requires of the password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Predicate {
    /// `length [in UNIT] BOUND`.
    Length(Bound, Option<Spanned<UnitKw>>),
    /// `only SET`: every character is in the set.
    Only(SetExpr),
    /// `no SET`: no character is in the set.
    No(SetExpr),
    /// `at least N of { SET, ... }`.
    AtLeast {
        /// How many of the sets must be present.
        n: Spanned<u64>,
        /// The sets.
        sets: Vec<SetExpr>,
    },
    /// `count SET [in UNIT | except at start|end] BOUND`.
    Count(SetExpr, Option<Spanned<EdgeKw>>, Option<Spanned<UnitKw>>, Bound),
    /// `at least N of { PREDICATE, ... }`.
    AtLeastOfRules {
        /// How many of the parts must hold.
        n: Spanned<u64>,
        /// The parts.
        parts: Vec<Predicate>,
    },
    /// `A or B or ...`.
    Or(Vec<Predicate>),
    /// `A and B and ...`.
    And(Vec<Predicate>),
    /// `( PREDICATE )`, kept so that `policyc fmt` keeps the parentheses.
    Group(Box<Predicate>, Span),
    /// `points OP N from { AWARD, ... }`.
    Points {
        /// The comparison.
        op: Spanned<CmpOp>,
        /// Points.
        points: Spanned<u64>,
        /// What gives points.
        awards: Vec<Award>,
        /// Where the rule is written.
        span: Span,
    },
    /// `[not] matches /regex/`.
    Matches {
        /// `not matches`.
        negated: bool,
        /// The pattern, with `\/` already turned into `/`.
        pattern: Spanned<String>,
    },
    /// `longest repeat [in UNIT] OP N`.
    LongestRepeat(Option<Spanned<UnitKw>>, Spanned<CmpOp>, Spanned<u64>),
    /// `longest sequence [in UNIT] OP N`.
    LongestSequence(Option<Spanned<UnitKw>>, Spanned<CmpOp>, Spanned<u64>),
    /// `longest run of SET [in UNIT] OP N`.
    LongestRun(SetExpr, Option<Spanned<UnitKw>>, Spanned<CmpOp>, Spanned<u64>),
    /// `longest keyboard sequence OP N`.
    LongestKeyboard(Spanned<CmpOp>, Spanned<u64>),
    /// `not contains user.ATTR [in bytes] [split on "..."] [skip shorter than N] [or reversed]`.
    NotContains {
        /// The attribute name as written.
        attribute: Spanned<String>,
        /// `in bytes`: compared byte by byte, ASCII letters ignoring case, lengths in bytes.
        unit: Option<Spanned<UnitKw>>,
        /// Delimiters to split the value on.
        split_on: Option<Spanned<String>>,
        /// Values or tokens shorter than this are not checked.
        skip_shorter_than: Option<Spanned<u64>>,
        /// `or reversed`: the values read backwards are looked for too.
        or_reversed: bool,
        /// `or closer than N` (with `in bytes`): libpwquality's distance from the whole
        /// password below N refuses too.
        closer_than: Option<Spanned<u64>>,
        /// `as patterns` (with `in bytes`): each token a POSIX basic expression, as ppm reads it.
        as_patterns: Option<Span>,
    },
    /// `not contains ad_names`: the Active Directory complexity name checks.
    NotContainsAdNames(Span),
    /// `avoid LIST MODE [after NORMALIZATION]`.
    Avoid {
        /// The term list.
        list: Ident,
        /// How a term must occur.
        mode: Spanned<ModeKw>,
        /// The normalization applied to terms and password.
        after: Option<Ident>,
    },
    /// `entra score OP N using { LIST, ... }`.
    EntraScore {
        /// The comparison.
        op: Spanned<CmpOp>,
        /// Points.
        points: Spanned<u64>,
        /// The banned lists.
        lists: Vec<Ident>,
    },
    /// `strength OP N`.
    Strength(Spanned<CmpOp>, Spanned<u64>),
    /// `not in STORE`: the password is not in a breached-password store.
    NotIn(Ident),
    /// `not palindrome [ignoring case]`: the password does not read the same backwards.
    NotPalindrome {
        /// Where it is written.
        span: Span,
        /// `ignoring case`.
        ignoring_case: bool,
    },
    /// `distinct [in UNIT] BOUND`: the number of different characters (or units).
    Distinct(Bound, Option<Spanned<UnitKw>>),
    /// `not equals user.ATTR`: the password is not exactly (case-sensitively) a value.
    NotEquals(Spanned<String>),
}

/// What gives points in a `points` rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Award {
    /// `N per SET [in UNIT] [up to M]`; `set: None` is `per character`.
    Per {
        /// Points per character.
        points: Spanned<u64>,
        /// The characters counted; `None`: every character.
        set: Option<SetExpr>,
        /// `up to M`: most points given.
        cap: Option<Spanned<u64>>,
        /// `in UNIT`: points per unit of the characters, not per character.
        unit: Option<Spanned<UnitKw>>,
    },
    /// `N if PREDICATE`.
    If {
        /// Points given.
        points: Spanned<u64>,
        /// The condition.
        predicate: Predicate,
    },
}

/// A character-set expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetExpr {
    /// `[...]`.
    Literal(SetLiteral),
    /// A class name (built-in or defined with `class`).
    Name(Ident),
    /// `( SET )`.
    Group(Box<SetExpr>, Span),
    /// `A | B`, `A - B`, `A & B`.
    Binary(Box<SetExpr>, Spanned<SetOp>, Box<SetExpr>),
}

impl SetExpr {
    /// The span of the whole expression.
    pub fn span(&self) -> Span {
        match self {
            SetExpr::Literal(l) => l.span,
            SetExpr::Name(n) => n.span,
            SetExpr::Group(_, s) => *s,
            SetExpr::Binary(l, _, r) => l.span().to(r.span()),
        }
    }
}

/// A set operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetOp {
    /// `|`: union.
    Union,
    /// `-`: difference.
    Difference,
    /// `&`: intersection.
    Intersection,
}

/// `[a-z0-9\-\p{Greek}]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetLiteral {
    /// The items in order.
    pub items: Vec<SetItem>,
    /// The literal as written, brackets included (the formatter keeps it).
    pub text: String,
    /// Where it was written.
    pub span: Span,
}

/// One item of a set literal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetItem {
    /// One character.
    Char(Spanned<char>),
    /// `a-z`, both ends included.
    Range(Spanned<char>, Spanned<char>),
    /// `\p{Name}`: a Unicode property or category.
    Property(Spanned<String>),
}
