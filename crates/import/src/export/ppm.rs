//! A ppm configuration (OpenLDAP's `check_password` module: the text of the password policy
//! entry's `pwdCheckModuleArg`) for a policy, checked through `policyc import ppm` and `diff`
//! ([`super::confirm`]).
//!
//! | rule | parameter |
//! |---|---|
//! | `at least N of { … }` | `minQuality N`, a class per member (minimum 0, a point for 1) |
//! | `count CLASS >= N` | the class's minimum `N` |
//! | `no CLASS`, `only CLASS` | `forbiddenChars` (the printable ASCII characters it forbids) |
//! | `longest run of CLASS <= N` | `maxConsecutivePerClass N` (for every class) |
//! | `not contains user.sAMAccountName …` | `checkRDN 1` (the RDN's tokens, as regular expressions) |
//! | `not contains user.mail`, `…givenName`, `…sn`, `…displayName` | `checkAttributes` |
//!
//! ppm has no length: a policy's minimum goes in the ppolicy entry's `pwdMinLength`, which
//! this export names in a comment. ppm's four default classes are overridden by the policy's
//! (or emptied of a point), so only the policy's classes count.

use super::confirm::map_rules;
use super::{Draft, Fidelity};
use policyc_runtime::ir::{
    Attribute, CharClass, ClassId, Measure, Predicate, Program, Rule, RuleId,
};
use std::fmt::Write as _;

/// ppm's default class names: the first classes exported take them.
const DEFAULT_NAMES: [&str; 4] = ["upperCase", "lowerCase", "digit", "special"];

/// A class as ppm reads it: its characters (printable ASCII but the space, which ppm's
/// configuration cannot hold), minimum, and the count that gives a point (0: none asked).
struct PpmClass {
    chars: String,
    min: u32,
    point: u32,
    /// The rule that asked the minimum.
    min_from: Option<RuleId>,
}

#[derive(Default)]
struct Parameters {
    quality: u32,
    classes: Vec<(ClassId, PpmClass)>,
    forbidden: Vec<char>,
    max_run: Option<u32>,
    /// The rule that asked the run limit.
    run_from: Option<RuleId>,
    check_rdn: bool,
    attributes: Vec<&'static str>,
    min_length: Option<u32>,
}

/// A class's characters ppm can hold: printable ASCII without the space.
fn chars(class: &CharClass) -> String {
    (0x21u32..=0x7e)
        .filter(|c| class.ranges.iter().any(|&(lo, hi)| (lo..=hi).contains(c)))
        .filter_map(char::from_u32)
        .collect()
}

impl Parameters {
    fn class(&mut self, program: &Program, id: ClassId) -> Option<&mut PpmClass> {
        if !self.classes.iter().any(|(c, _)| *c == id) {
            let chars = chars(program.classes.get(usize::from(id.0))?);
            if chars.is_empty() {
                return None;
            }
            self.classes.push((id, PpmClass { chars, min: 0, point: 0, min_from: None }));
        }
        self.classes.iter_mut().find(|(c, _)| *c == id).map(|(_, c)| c)
    }
}

/// The configuration for `program`, with a note per rule.
pub fn export(program: &Program) -> Draft {
    let mut p = Parameters::default();
    let (notes, mut sources) = map_rules(program, "ppm", |rule| {
        let (fidelity, note, ids) = one(program, rule, &mut p);
        (fidelity, note, ids)
    });
    let mut text = format!(
        "# ppm configuration (pwdCheckModuleArg) written by `policyc export ppm` from the policy `{}`.\n",
        program.name
    );
    if let Some(n) = p.min_length {
        let _ = writeln!(
            text,
            "# ppm checks no length: set pwdMinLength: {n} in the password policy entry."
        );
    }
    let _ = writeln!(text, "minQuality {}", p.quality);
    let _ = writeln!(text, "checkRDN {}", u8::from(p.check_rdn));
    if !p.attributes.is_empty() {
        let _ = writeln!(text, "checkAttributes {}", p.attributes.join(","));
    }
    if !p.forbidden.is_empty() {
        let _ = writeln!(text, "forbiddenChars {}", p.forbidden.iter().collect::<String>());
    }
    let _ = writeln!(text, "maxConsecutivePerClass {}", p.max_run.unwrap_or(0));
    text.push_str("useCracklib 0\n");
    // The policy's classes, under ppm's default names where their characters are ppm's (the
    // others as `policyN`); defaults left over give no point.
    let defaults = ["ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz", "0123456789"];
    let mut unused: Vec<&str> = DEFAULT_NAMES.to_vec();
    let mut named: Vec<String> = Vec::new();
    for (_, c) in &p.classes {
        let default = defaults.iter().position(|d| *d == c.chars).map(|i| DEFAULT_NAMES[i]);
        match default.filter(|d| unused.contains(d)) {
            Some(d) => {
                unused.retain(|u| *u != d);
                named.push(d.to_string());
            }
            None => named.push(String::new()),
        }
    }
    for (i, name) in named.iter_mut().enumerate() {
        if name.is_empty() {
            *name = match unused.iter().position(|u| *u == "special") {
                Some(at) => unused.remove(at).to_string(),
                None => format!("policy{}", i + 1),
            };
        }
    }
    let names = unused.into_iter();
    for ((_, c), name) in p.classes.iter().zip(&named) {
        let _ = writeln!(text, "class-{name} {} {} {} 0", c.chars, c.min, c.point);
        // The rules these read back as (`policyc import ppm` names them so).
        if let Some(from) = &c.min_from {
            sources.push((format!("ppm_min_{name}"), Some(from.clone())));
        }
        sources.push((format!("ppm_run_{name}"), p.run_from.clone()));
    }
    for name in names {
        sources.push((format!("ppm_run_{name}"), p.run_from.clone()));
        // No point and no minimum: a class the configuration does not use.
        let _ = writeln!(text, "class-{name} \u{7f} 0 1000 0");
    }
    Draft { value: text, notes, sources }
}

fn one(program: &Program, rule: &Rule, p: &mut Parameters) -> (Fidelity, String, Vec<String>) {
    use Fidelity::{Exact, NotExpressed};
    match &rule.predicate {
        Predicate::Length(b) | Predicate::LengthIn { bounds: b, .. } if b.min > 0 => {
            p.min_length = Some(p.min_length.map_or(b.min, |m| m.max(b.min)));
            (
                NotExpressed,
                format!("ppm checks no length: pwdMinLength {} in the ppolicy entry", b.min),
                Vec::new(),
            )
        }
        Predicate::AtLeastOf { n, classes } => {
            let mut kept = 0;
            for id in classes {
                if let Some(c) = p.class(program, *id) {
                    c.point = 1;
                    kept += 1;
                }
            }
            p.quality = p.quality.max(*n);
            (
                Exact,
                format!("minQuality {n} over {kept} classes (their printable ASCII characters)"),
                vec!["ppm_quality".into()],
            )
        }
        Predicate::Count { class, bounds } if bounds.min > 0 && bounds.max.is_none() => {
            let name = program
                .classes
                .get(usize::from(class.0))
                .map(|c| c.name.clone())
                .unwrap_or_default();
            match p.class(program, *class) {
                Some(c) => {
                    c.min = c.min.max(bounds.min);
                    c.min_from = Some(rule.id.clone());
                    (Exact, format!("a class for {name} with minimum {}", bounds.min), Vec::new())
                }
                None => {
                    (NotExpressed, format!("{name} has no printable ASCII character"), Vec::new())
                }
            }
        }
        Predicate::NoneOf(class) | Predicate::Only(class) => {
            let Some(c) = program.classes.get(usize::from(class.0)) else {
                return (NotExpressed, "an unknown class".into(), Vec::new());
            };
            let inside = chars(c);
            let forbid: Vec<char> = match &rule.predicate {
                Predicate::NoneOf(_) => inside.chars().collect(),
                _ => ('!'..='~').filter(|x| !inside.contains(*x)).collect(),
            };
            for x in &forbid {
                if !p.forbidden.contains(x) {
                    p.forbidden.push(*x);
                }
            }
            (
                Exact,
                format!("forbiddenChars: {} printable ASCII characters", forbid.len()),
                vec!["ppm_forbidden".into()],
            )
        }
        Predicate::Measured { measure: Measure::MaxRun { max, .. }, .. } => {
            p.max_run = Some(p.max_run.map_or(*max, |m| m.min(*max)));
            p.run_from = Some(rule.id.clone());
            (Exact, format!("maxConsecutivePerClass {max} (for every class)"), Vec::new())
        }
        Predicate::NotContains(checks)
        | Predicate::NotContainsEitherWay(checks)
        | Predicate::NotContainsInBytes { checks, .. } => {
            let (mut said, mut ids) = (Vec::new(), Vec::new());
            for c in checks {
                match c.attribute {
                    Attribute::SamAccountName => {
                        p.check_rdn = true;
                        said.push("checkRDN 1".to_string());
                        ids.push("ppm_rdn".to_string());
                    }
                    a => {
                        let name = match a {
                            Attribute::Mail => "mail",
                            Attribute::GivenName => "givenName",
                            Attribute::Surname => "sn",
                            Attribute::DisplayName => "displayName",
                            _ => continue,
                        };
                        if !p.attributes.contains(&name) {
                            p.attributes.push(name);
                        }
                        said.push(format!("checkAttributes {name}"));
                        ids.push(format!("ppm_attribute_{}", a.ldap_name()));
                    }
                }
            }
            match said.is_empty() {
                true => (
                    NotExpressed,
                    "ppm looks for the RDN and the entry's attributes only".into(),
                    ids,
                ),
                false => {
                    (Exact, format!("{}: tokens read as regular expressions", said.join(", ")), ids)
                }
            }
        }
        Predicate::NotContainsPatterns(c) if c.attribute == Attribute::SamAccountName => {
            p.check_rdn = true;
            (Exact, "checkRDN 1".into(), vec!["ppm_rdn".into()])
        }
        _ => (NotExpressed, "ppm has no such parameter".into(), Vec::new()),
    }
}
