//! Character-set expressions → sets of scalar values; the built-in classes.

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::span::Span;
use crate::syntax::ast::{SetExpr, SetItem, SetOp};
use policyc_runtime::ir::Normalization;
use regex_syntax::hir::{Class, ClassUnicode, ClassUnicodeRange, HirKind};
use std::collections::BTreeMap;
use std::rc::Rc;

/// A set of scalar values (regex-syntax's interval set).
pub(crate) type Set = ClassUnicode;

/// The built-in classes: name, what it contains (for docs and `help`), and its definition as a
/// regex class.
pub const BUILTINS: &[(&str, &str, &str)] = &[
    ("lower", "ASCII lowercase letters a-z", "[a-z]"),
    ("upper", "ASCII uppercase letters A-Z", "[A-Z]"),
    ("digit", "ASCII digits 0-9", "[0-9]"),
    (
        "punct",
        "the 32 ASCII punctuation characters !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
        r"[!-/:-@\[-`{-~]",
    ),
    ("space", "the blank space U+0020", "[ ]"),
    ("ascii", "all ASCII characters U+0000-U+007F", r"[\x00-\x7F]"),
    ("non_ascii", "every character outside ASCII", r"[^\x00-\x7F]"),
    ("any", "every character", r"[\x00-\x{10FFFF}]"),
    (
        "control",
        "control characters (Unicode category Cc), tab and line breaks among them",
        r"\p{Cc}",
    ),
    ("whitespace", "Unicode White_Space characters", r"\p{White_Space}"),
    (
        "unicode_upper",
        "Unicode uppercase (property Uppercase): A-Z, accented, Greek, Cyrillic ...",
        r"\p{Uppercase}",
    ),
    (
        "unicode_lower",
        "Unicode lowercase (property Lowercase): a-z, sharp s, accented, Greek, Cyrillic ...",
        r"\p{Lowercase}",
    ),
    (
        "unicode_other_alpha",
        "Unicode alphabetic characters that are neither uppercase nor lowercase (Asian scripts ...)",
        r"[\p{Alphabetic}--\p{Uppercase}--\p{Lowercase}]",
    ),
    (
        "ad_upper",
        "Active Directory's uppercase letters of European languages, read strictly: uppercase letters (Lu), not mathematical letters",
        r"[\p{Lu}--[\x{1D400}-\x{1D7FF}]]",
    ),
    (
        "ad_lower",
        "Active Directory's lowercase letters of European languages, read strictly: lowercase letters (Ll), not mathematical letters",
        r"[\p{Ll}--[\x{1D400}-\x{1D7FF}]]",
    ),
    (
        "ad_other_alpha",
        "Active Directory's alphabetic characters that are not uppercase or lowercase, read strictly: alphabetic, uncased, not titlecase",
        r"[\p{Alphabetic}--\p{Uppercase}--\p{Lowercase}--\p{Lt}]",
    ),
];

/// Parses a regex class expression into a set.
pub(crate) fn regex_class(pattern: &str) -> Option<Set> {
    let hir = regex_syntax::ParserBuilder::new().build().parse(pattern).ok()?;
    match hir.kind() {
        HirKind::Class(Class::Unicode(c)) => Some(c.clone()),
        HirKind::Literal(lit) => {
            let mut chars = std::str::from_utf8(&lit.0).ok()?.chars();
            let c = chars.next()?;
            chars.next().is_none().then(|| single(c, c))
        }
        _ => None,
    }
}

fn single(a: char, b: char) -> Set {
    ClassUnicode::new([ClassUnicodeRange::new(a, b)])
}

/// Classes in scope: the built-ins plus those defined with `class` (here or in a base policy).
#[derive(Debug, Clone)]
pub(crate) struct Scope {
    user: BTreeMap<String, Set>,
    /// Term lists by name: their terms as written (shared: a list can be large).
    lists: BTreeMap<String, Rc<Vec<String>>>,
    /// User-defined normalization tables by name.
    norms: BTreeMap<String, Normalization>,
    /// Breached-password stores by name: their directories, resolved against the policy file.
    stores: BTreeMap<String, String>,
}

impl Scope {
    pub(crate) fn new() -> Scope {
        Scope {
            user: BTreeMap::new(),
            lists: BTreeMap::new(),
            norms: BTreeMap::new(),
            stores: BTreeMap::new(),
        }
    }

    pub(crate) fn store(&self, name: &str) -> Option<&str> {
        self.stores.get(name).map(String::as_str)
    }

    pub(crate) fn define_store(&mut self, name: &str, path: String) {
        self.stores.insert(name.to_string(), path);
    }

    pub(crate) fn store_names(&self) -> impl Iterator<Item = &str> {
        self.stores.keys().map(String::as_str)
    }

    pub(crate) fn list(&self, name: &str) -> Option<Rc<Vec<String>>> {
        self.lists.get(name).cloned()
    }

    pub(crate) fn has_list(&self, name: &str) -> bool {
        self.lists.contains_key(name)
    }

    pub(crate) fn define_list(&mut self, name: &str, terms: Vec<String>) {
        self.lists.insert(name.to_string(), Rc::new(terms));
    }

    pub(crate) fn list_names(&self) -> impl Iterator<Item = &str> {
        self.lists.keys().map(String::as_str)
    }

    pub(crate) fn norm(&self, name: &str) -> Option<Normalization> {
        self.norms.get(name).cloned().or_else(|| Normalization::builtin(name))
    }

    pub(crate) fn has_norm(&self, name: &str) -> bool {
        self.norms.contains_key(name) || Normalization::BUILTIN.contains(&name)
    }

    pub(crate) fn define_norm(&mut self, norm: Normalization) {
        self.norms.insert(norm.name.clone(), norm);
    }

    pub(crate) fn norm_names(&self) -> impl Iterator<Item = &str> {
        self.norms.keys().map(String::as_str).chain(Normalization::BUILTIN.iter().copied())
    }

    pub(crate) fn get(&self, name: &str) -> Option<Set> {
        if let Some(s) = self.user.get(name) {
            return Some(s.clone());
        }
        BUILTINS.iter().find(|b| b.0 == name).and_then(|b| regex_class(b.2))
    }

    pub(crate) fn is_defined(&self, name: &str) -> bool {
        self.user.contains_key(name) || BUILTINS.iter().any(|b| b.0 == name)
    }

    pub(crate) fn define(&mut self, name: &str, set: Set) {
        self.user.insert(name.to_string(), set);
    }

    fn names(&self) -> impl Iterator<Item = &str> {
        self.user.keys().map(String::as_str).chain(BUILTINS.iter().map(|b| b.0))
    }

    /// Evaluates a set expression; unknown names and bad items are reported.
    pub(crate) fn eval(&self, e: &SetExpr, diags: &mut Diagnostics) -> Option<Set> {
        match e {
            SetExpr::Name(n) => {
                let s = self.get(&n.value);
                if s.is_none() {
                    diags.push(unknown_name("class", &n.value, n.span, self.names()));
                }
                s
            }
            SetExpr::Group(inner, _) => self.eval(inner, diags),
            SetExpr::Binary(l, op, r) => {
                let (l, r) = (self.eval(l, diags), self.eval(r, diags));
                let (mut l, r) = (l?, r?);
                match op.value {
                    SetOp::Union => l.union(&r),
                    SetOp::Difference => l.difference(&r),
                    SetOp::Intersection => l.intersect(&r),
                }
                Some(l)
            }
            SetExpr::Literal(lit) => {
                let mut set = ClassUnicode::empty();
                let mut ok = true;
                for item in &lit.items {
                    match item {
                        SetItem::Char(c) => set.union(&single(c.value, c.value)),
                        SetItem::Range(a, b) => {
                            if a.value > b.value {
                                diags.push(
                                    Diagnostic::error(
                                        format!(
                                            "character range `{}-{}` is reversed",
                                            a.value.escape_default(),
                                            b.value.escape_default()
                                        ),
                                        a.span.to(b.span),
                                        "the first character must not come after the last",
                                    )
                                    .with_help(format!(
                                        "write `{}-{}`",
                                        b.value.escape_default(),
                                        a.value.escape_default()
                                    )),
                                );
                                ok = false;
                            } else {
                                set.union(&single(a.value, b.value));
                            }
                        }
                        SetItem::Property(p) => match regex_class(&format!("\\p{{{}}}", p.value)) {
                            Some(s) => set.union(&s),
                            None => {
                                diags.push(Diagnostic::error(
                                    format!("unknown Unicode property `{}`", p.value),
                                    p.span,
                                    "not a Unicode property, category or script",
                                ).with_help("use a name such as `Greek`, `Lu`, `Uppercase_Letter` or `Alphabetic`"));
                                ok = false;
                            }
                        },
                    }
                }
                ok.then_some(set)
            }
        }
    }
}

/// "unknown class `symbl`", with a suggestion when a known name is close.
pub(crate) fn unknown_name<'a>(
    what: &str,
    name: &str,
    span: Span,
    known: impl Iterator<Item = &'a str>,
) -> Diagnostic {
    let d = Diagnostic::error(
        format!("unknown {what} `{name}`"),
        span,
        format!("no {what} has this name"),
    );
    match suggest(name, known) {
        Some(s) => d.with_help(format!("did you mean `{s}`?")),
        None => d,
    }
}

/// The closest known name, if it is close enough to be a likely typo.
pub(crate) fn suggest<'a>(name: &str, known: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    known
        .map(|k| (strsim::damerau_levenshtein(&name.to_lowercase(), &k.to_lowercase()), k))
        .map(|(d, k)| {
            let (a, b) = (name.to_lowercase(), k.to_lowercase());
            // A prefix of a long name (`samaccount` for `sAMAccountName`) is a likely typo too.
            let prefix = a.len() >= 4 && (b.starts_with(&a) || a.starts_with(&b));
            (if prefix { d.min(1) } else { d }, k)
        })
        .filter(|(d, k)| *d <= 2.max(k.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// A set as scalar-value ranges, for the rule program.
pub(crate) fn ranges(set: &Set) -> Vec<(u32, u32)> {
    set.ranges().iter().map(|r| (r.start() as u32, r.end() as u32)).collect()
}

/// The set described by scalar-value ranges.
pub(crate) fn from_ranges(ranges: &[(u32, u32)]) -> Set {
    ClassUnicode::new(
        ranges.iter().filter_map(|&(a, b)| {
            Some(ClassUnicodeRange::new(char::from_u32(a)?, char::from_u32(b)?))
        }),
    )
}

/// The simple-case-folding table for the rule program (see [`policyc_runtime::ir::Program::case_folds`]).
pub(crate) fn case_fold_table() -> Vec<(u32, u32)> {
    // Every character in a non-trivial folding class changes under case folding or case mapping.
    let candidates = regex_class(r"[\p{Changes_When_Casefolded}\p{Changes_When_Casemapped}]")
        .unwrap_or_else(ClassUnicode::empty);
    let mut table = Vec::new();
    for c in candidates.iter().flat_map(|r| r.start()..=r.end()) {
        if c.is_ascii() {
            continue;
        }
        let mut orbit = single(c, c);
        orbit.case_fold_simple();
        let members: Vec<char> = orbit.iter().flat_map(|r| r.start()..=r.end()).collect();
        let ascii = members.iter().copied().find(char::is_ascii_lowercase);
        let rep = ascii.or_else(|| members.iter().copied().min()).unwrap_or(c);
        if rep != c {
            table.push((c as u32, rep as u32));
        }
    }
    table
}
