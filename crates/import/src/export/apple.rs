//! Apple's `passwordrules` (the HTML attribute and iOS `UITextInputPasswordRules`, see
//! <https://developer.apple.com/password-rules/>): what a password manager reads to propose a
//! password the site accepts. It has `minlength`, `maxlength`, `max-consecutive`, `required`
//! (at least one of a set, per clause) and `allowed`, over ASCII only; no N-of-M, no words.
//!
//! The export is meant for generators, so where the language falls short it errs stricter: a
//! password built to the exported rules should pass the policy. `at least 3 of {lower, upper,
//! digit, symbol}` becomes three `required` clauses; a character class with letters of other
//! scripts keeps its ASCII part. Rules on words, names, strength or stores are not expressed
//! (a random generated password passes them except by chance), and the notes say so.

use super::confirm::map_rules;
use super::{Export, Fidelity};
use policyc_runtime::ir::{Bounds, CharClass, Predicate, Program, Rule, Unit};

/// A set of printable ASCII characters (space to `~`), one bit each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Ascii(u128);

const PRINTABLE: Ascii = Ascii(((1u128 << 95) - 1) << 0x20);
/// `A-Z`, `a-z` and `0-9`: what is not Apple's `special`.
const ALNUM: Ascii = Ascii(
    (((1u128 << 26) - 1) << b'A') | (((1u128 << 26) - 1) << b'a') | (((1u128 << 10) - 1) << b'0'),
);

impl Ascii {
    fn range(from: u8, to: u8) -> Ascii {
        Ascii((from..=to).fold(0, |bits, c| bits | 1 << c))
    }

    /// The printable ASCII part of a class.
    fn of(class: &CharClass) -> Ascii {
        let bits = class.ranges.iter().fold(0u128, |bits, &(lo, hi)| {
            (lo.max(0x20)..=hi.min(0x7e)).fold(bits, |b, c| b | 1 << c)
        });
        Ascii(bits)
    }

    /// Whether the class has characters outside printable ASCII.
    fn beyond(class: &CharClass) -> bool {
        class.ranges.iter().any(|&(lo, hi)| lo < 0x20 || hi > 0x7e)
    }

    fn and(self, other: Ascii) -> Ascii {
        Ascii(self.0 & other.0)
    }

    fn without(self, other: Ascii) -> Ascii {
        Ascii(self.0 & !other.0)
    }

    fn covers(self, other: Ascii) -> bool {
        other.0 & !self.0 == 0
    }

    fn is_empty(self) -> bool {
        self.0 == 0
    }

    fn chars(self) -> impl Iterator<Item = char> {
        (0x20u8..=0x7e).filter(move |c| self.0 & 1 << c != 0).map(char::from)
    }

    /// As a `required:` or `allowed:` value: the named classes it covers, then a custom class
    /// `[...]` for the rest (`-` first and `]` last, as the language asks).
    fn words(self) -> String {
        if self == PRINTABLE {
            return "ascii-printable".into();
        }
        let named = [
            ("upper", Ascii::range(b'A', b'Z')),
            ("lower", Ascii::range(b'a', b'z')),
            ("digit", Ascii::range(b'0', b'9')),
            ("special", PRINTABLE.without(ALNUM)),
        ];
        let mut parts = Vec::new();
        let mut rest = self;
        for (name, set) in named {
            if self.covers(set) {
                parts.push(name.to_string());
                rest = rest.without(set);
            }
        }
        if !rest.is_empty() {
            let dash = rest.chars().any(|c| c == '-');
            let bracket = rest.chars().any(|c| c == ']');
            let middle: String = rest.chars().filter(|c| *c != '-' && *c != ']').collect();
            parts.push(format!(
                "[{}{middle}{}]",
                if dash { "-" } else { "" },
                if bracket { "]" } else { "" }
            ));
        }
        parts.join(", ")
    }
}

/// The rules, merged over every policy given.
#[derive(Debug)]
struct Rules {
    min: u32,
    max: Option<u32>,
    max_consecutive: Option<u32>,
    required: Vec<Ascii>,
    allowed: Ascii,
}

impl Rules {
    fn text(&self) -> String {
        let mut out = Vec::new();
        if self.min > 0 {
            out.push(format!("minlength: {};", self.min));
        }
        if let Some(max) = self.max {
            out.push(format!("maxlength: {max};"));
        }
        if let Some(n) = self.max_consecutive {
            out.push(format!("max-consecutive: {n};"));
        }
        for set in &self.required {
            out.push(format!("required: {};", set.words()));
        }
        let required = self.required.iter().fold(Ascii(0), |all, s| Ascii(all.0 | s.0));
        if self.allowed != required || self.required.is_empty() {
            out.push(format!("allowed: {};", self.allowed.words()));
        }
        out.join(" ")
    }
}

/// Exports the policies (one, or several a password must meet together) as `passwordrules`.
pub fn export(programs: &[&Program]) -> Export {
    let mut rules = Rules {
        min: 0,
        max: None,
        max_consecutive: None,
        required: Vec::new(),
        allowed: PRINTABLE,
    };
    let mut notes = Vec::new();
    for program in programs {
        let (mapped, _) = map_rules(program, "passwordrules", |rule| {
            let (fidelity, note) = one(program, rule, &mut rules);
            (fidelity, note, Vec::new())
        });
        notes.extend(mapped);
    }
    // A required set only the allowed characters can meet.
    let allowed = rules.allowed;
    let mut required: Vec<Ascii> = Vec::new();
    for set in rules.required.iter().map(|s| s.and(allowed)) {
        if !set.is_empty() && !required.contains(&set) {
            required.push(set);
        }
    }
    rules.required = required;
    Export { value: rules.text(), notes }
}

fn one(program: &Program, rule: &Rule, rules: &mut Rules) -> (Fidelity, String) {
    use Fidelity::{Exact, NotExpressed, Stricter, Weaker};
    let class = |id: policyc_runtime::ir::ClassId| &program.classes[usize::from(id.0)];
    match &rule.predicate {
        Predicate::Length(bounds) => (length(rules, *bounds), format!("length {bounds}")),
        Predicate::LengthIn { unit, bounds } => {
            length(rules, *bounds);
            let unit = match unit {
                Unit::Bytes => "bytes",
                _ => "UTF-16 units",
            };
            (Exact, format!("length {bounds} in {unit}: the same count for the ASCII a generator uses"))
        }
        Predicate::Only(id) => {
            let c = class(*id);
            let Some(narrowed) = nonempty(rules.allowed.and(Ascii::of(c))) else {
                return (Weaker, format!("only {}: leaves no ASCII character, and passwordrules has only ASCII", c.name));
            };
            rules.allowed = narrowed;
            match Ascii::beyond(c) {
                true => (Stricter, format!("only {}: its ASCII characters allowed", c.name)),
                false => (Exact, format!("only {}", c.name)),
            }
        }
        Predicate::NoneOf(id) => {
            let Some(narrowed) = nonempty(rules.allowed.without(Ascii::of(class(*id)))) else {
                return (Weaker, format!("no {}: leaves no ASCII character, and passwordrules has only ASCII", class(*id).name));
            };
            rules.allowed = narrowed;
            (Exact, format!("no {}", class(*id).name))
        }
        Predicate::AtLeastOf { n, classes } => {
            let sets: Vec<(Ascii, &CharClass)> = classes
                .iter()
                .map(|id| (Ascii::of(class(*id)), class(*id)))
                .filter(|(a, _)| !a.is_empty())
                .collect();
            let n = *n as usize;
            if sets.len() < n {
                return (Weaker, format!("at least {n} of {} classes: only {} have ASCII characters", classes.len(), sets.len()));
            }
            rules.required.extend(sets.iter().take(n).map(|(a, _)| *a));
            let named: Vec<&str> = sets.iter().take(n).map(|(_, c)| c.name.as_str()).collect();
            match n == classes.len() && sets.iter().all(|(_, c)| !Ascii::beyond(c)) {
                true => (Exact, format!("each of {}", named.join(", "))),
                false => (Stricter, format!("at least {n} of {}: requires {}", classes.len(), named.join(", "))),
            }
        }
        Predicate::Count { class: id, bounds } if bounds.min >= 1 => {
            if Ascii::of(class(*id)).is_empty() {
                return (Weaker, format!("{bounds} of {}: it has no ASCII character", class(*id).name));
            }
            rules.required.push(Ascii::of(class(*id)));
            match (bounds.min, bounds.max) {
                (1, None) => (Exact, format!("a character of {}", class(*id).name)),
                _ => (Weaker, format!("{bounds} of {}: passwordrules requires one", class(*id).name)),
            }
        }
        Predicate::MaxRepeat(n) => {
            rules.max_consecutive = Some(rules.max_consecutive.map_or(*n, |m| m.min(*n)));
            (Exact, format!("no character more than {n} times in a row"))
        }
        Predicate::Avoid { .. }
        | Predicate::EntraScore { .. }
        | Predicate::Strength { .. }
        | Predicate::NotIn { .. }
        | Predicate::NotContains(_)
        | Predicate::NotContainsEitherWay(_)
        | Predicate::NotContainsInBytes { .. }
        | Predicate::NotContainsPatterns(_)
        | Predicate::NotEquals(_)
        | Predicate::NotPalindrome { .. }
        | Predicate::MaxSequence(_)
        | Predicate::MaxKeyboardRun(_) => (
            NotExpressed,
            "words, names, sequences or strength: not expressible; a random generated password passes it except by chance".into(),
        ),
        _ => (NotExpressed, "not expressible in passwordrules".into()),
    }
}

/// The allowed characters narrowed to `to`, unless that leaves none.
fn nonempty(to: Ascii) -> Option<Ascii> {
    (!to.is_empty()).then_some(to)
}

/// Narrows the length; exact for character counts.
fn length(rules: &mut Rules, bounds: Bounds) -> Fidelity {
    rules.min = rules.min.max(bounds.min);
    if let Some(max) = bounds.max {
        rules.max = Some(rules.max.map_or(max, |m| m.min(max)));
    }
    Fidelity::Exact
}
