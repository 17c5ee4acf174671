//! ppm's configuration (ltb-project/ppm, the OpenLDAP `check_password` module; the text of the
//! policy entry's `pwdCheckModuleArg`), as `ppm.c` reads it (`read_config_attr`: a line per
//! parameter, `NAME VALUE [MIN MINFORPOINT MAX]`, fields split on spaces and tabs, `#`
//! comments, the last setting wins, numbers read with `atoi`) and checks a password
//! (`check_password`):
//!
//! | parameter | rule |
//! |---|---|
//! | `class-NAME CHARS MIN MINFORPOINT MAX` (defaults: upperCase, lowerCase, digit, special, each `0 1 0`) | a class; `count C >= MIN`; `count C <= MAX` when MAX is not 0 |
//! | `minQuality N` (default 3) | `at least N of { count C >= MINFORPOINT, … }`: a point per class with enough characters (a class with MINFORPOINT 0 always gives its point) |
//! | `forbiddenChars CHARS` | `no [CHARS]` |
//! | `maxConsecutivePerClass N` | per class, `longest run of C <= N` |
//! | `checkRDN 1` | `not contains user.sAMAccountName in bytes as patterns split on " ,;-_£\t" skip shorter than 3` (the RDN's value: `uid=` is the account name) |
//! | `checkAttributes a,b` | the same for each attribute, split on `" ,;-_@\t"` |
//!
//! ppm compiles each token of 3 bytes or more as a POSIX basic regular expression
//! (`regcomp(…, REG_ICASE)`: a uid `j.smith` refuses `Aj_smith1`) and stops looking at the
//! first one that does not compile (`ab[cd`): `as patterns` does the same, glibc's way
//! (`policyc_runtime::runtime::posix`, checked against glibc itself). It splits on bytes, so
//! `£` is two delimiters (0xC2, 0xA3) and `in bytes` splits there too.
//!
//! ppm matches bytes (`strchr` over the password's bytes): a class member such as `é` counts
//! once per UTF-8 byte, and a password's `ñ` (C3 B1) counts once as `special` because `é`
//! starts with C3. The imported policy counts characters, what the configuration's author
//! meant: the two agree on ASCII passwords (the differential test, `tests/import.rs`).
//!
//! Refused unless skipped: `useCracklib 1` (cracklib's dictionary: use `avoid LIST`), an
//! attribute of `checkAttributes` the hooks do not pass, and a parameter ppm does not know
//! (ppm ignores it: most likely a typo).

use super::{ImportError, Policy, Refusals, printable};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// ppm's built-in classes: name, characters (`ppm.c`, `check_password`'s defaults).
const DEFAULT_CLASSES: [(&str, &str); 4] = [
    ("upperCase", "ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
    ("lowerCase", "abcdefghijklmnopqrstuvwxyz"),
    ("digit", "0123456789"),
    ("special", "<>,?;.:/!§ù%*µ^¨$£²&é~\"#'{([-|è`_\\ç^à@)]°=}+"),
];

/// The parameters ppm reads besides the classes.
const PARAMETERS: [&str; 7] = [
    "minQuality",
    "checkRDN",
    "checkAttributes",
    "forbiddenChars",
    "maxConsecutivePerClass",
    "useCracklib",
    "cracklibDict",
];

/// The most classes imported (a policy holds at most 32, and the rules need a few of their own).
const MAX_PPM_CLASSES: usize = 24;

/// ppm's RDN token delimiters (`TOKENS_DELIMITERS`) and attribute ones (`ATTR_TOKENS_DELIMITERS`).
const RDN_DELIMITERS: &str = " ,;-_£\t";
const ATTRIBUTE_DELIMITERS: &str = " ,;-_@\t";

/// One parameter as the configuration sets it (the last setting wins).
#[derive(Debug, Clone)]
struct Setting {
    value: String,
    min: i64,
    min_for_point: i64,
    max: i64,
    /// 1-based line, 0 for ppm's default.
    line: usize,
}

/// C's `atoi`: leading white space, a sign, digits up to the first other character; 0 if none.
fn atoi(s: &str) -> i64 {
    let s = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (sign, digits) = match s.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, s.strip_prefix('+').unwrap_or(s)),
    };
    let n = digits
        .chars()
        .take_while(char::is_ascii_digit)
        .fold(0i64, |n, d| n.saturating_mul(10).saturating_add(i64::from(d as u8 - b'0')));
    (sign * n).clamp(i64::from(i32::MIN), i64::from(i32::MAX))
}

/// Reads the parameters as `read_config_attr` does, ppm's defaults first.
fn read(text: &str) -> BTreeMap<String, Setting> {
    let mut settings = BTreeMap::new();
    let default = |value: &str, min_for_point: i64| Setting {
        value: value.to_string(),
        min: 0,
        min_for_point,
        max: 0,
        line: 0,
    };
    settings.insert("minQuality".to_string(), default("3", 0));
    for (name, chars) in DEFAULT_CLASSES {
        settings.insert(format!("class-{name}"), default(chars, 1));
    }
    for (i, line) in text.split('\n').enumerate() {
        let start = line.trim_start_matches(|c: char| c.is_ascii_whitespace() || c == '\x0b');
        if start.starts_with(|c: char| !c.is_ascii()) || start.starts_with('#') {
            continue;
        }
        let mut fields = start.split([' ', '\t']).filter(|f| !f.is_empty());
        let (Some(name), Some(value)) = (fields.next(), fields.next()) else { continue };
        let mut number = || fields.next().map_or(0, atoi);
        let (min, min_for_point, max) = (number(), number(), number());
        let setting = Setting { value: value.to_string(), min, min_for_point, max, line: i + 1 };
        settings.insert(name.to_string(), setting);
    }
    settings
}

/// Runs of consecutive characters, sorted and without repeats: `(first, last)`.
fn runs(chars: &[char]) -> Vec<(char, char)> {
    let mut chars = chars.to_vec();
    chars.sort_unstable();
    chars.dedup();
    let mut out: Vec<(char, char)> = Vec::new();
    for c in chars {
        match out.last_mut() {
            Some((_, last)) if *last as u32 + 1 == c as u32 => *last = c,
            _ => out.push((c, c)),
        }
    }
    out
}

/// Characters as runs, each written by `one`: ranges of three or more as `a-z`.
fn ranged(chars: &[char], one: &dyn Fn(char) -> String) -> String {
    runs(chars)
        .into_iter()
        .map(|(a, b)| match b as u32 - a as u32 {
            0 => one(a),
            1 => format!("{}{}", one(a), one(b)),
            _ => format!("{}-{}", one(a), one(b)),
        })
        .collect()
}

/// A set literal of these characters.
fn set_literal(chars: &[char]) -> String {
    let one = |c: char| match c {
        '\\' | ']' | '[' | '-' | '^' => format!("\\{c}"),
        c if c.is_control() => format!("\\u{{{:x}}}", c as u32),
        c => c.to_string(),
    };
    format!("[{}]", ranged(chars, &one))
}

/// `character` or `characters`.
fn characters(n: i64) -> &'static str {
    if n == 1 { "character" } else { "characters" }
}

/// A rule message as a policy string (the input's text made printable and quoted).
fn message_text(text: &str) -> String {
    policyc_compiler::syntax::printer::string(&printable(text))
}

/// A policy name from a ppm class name (`class-upperCase` → `ppm_upperCase`).
fn class_ident(name: &str, taken: &[String]) -> String {
    let base: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
    let base = format!("ppm_{base}");
    let mut ident = base.clone();
    let mut n = 2;
    while taken.contains(&ident) {
        ident = format!("{base}_{n}");
        n += 1;
    }
    ident
}

/// `# NAME VALUE … (line N)` or `(ppm's default)`.
fn cite(name: &str, s: &Setting) -> String {
    let at = if s.line == 0 { "ppm's default".to_string() } else { format!("line {}", s.line) };
    format!("  # {} {} ({at})\n", printable(name), printable(&s.value))
}

/// The attributes `checkAttributes` may name: those the hooks pass, by their LDAP names (`uid`
/// is the account name).
fn attribute(name: &str) -> Option<&'static str> {
    Some(match name {
        "uid" | "sAMAccountName" => "sAMAccountName",
        "mail" => "mail",
        "givenName" => "givenName",
        "sn" => "sn",
        "displayName" => "displayName",
        "userPrincipalName" => "userPrincipalName",
        _ => return None,
    })
}

/// Imports a ppm configuration (the text of `pwdCheckModuleArg`; `path` names it in comments
/// and errors). `skip`: options to leave out rather than refuse.
pub fn import(text: &str, path: &str, skip: &[String]) -> Result<String, ImportError> {
    let settings = read(text);
    let mut refusals = Refusals::new(skip);
    let int = |name: &str| settings.get(name).map_or(0, |s| atoi(&s.value));
    let line = |name: &str| settings.get(name).map_or(0, |s| s.line);
    let no_password = |detail: String| ImportError::NoPasswordPasses { path: path.into(), detail };
    for (name, s) in &settings {
        if !name.starts_with("class-") && !PARAMETERS.contains(&name.as_str()) {
            let reason = match name.starts_with("class") {
                true => "ppm ignores it; a class is named `class-NAME`".to_string(),
                false => format!(
                    "ppm ignores a parameter it does not know (a typo?); it knows {} and class-NAME",
                    PARAMETERS.join(", ")
                ),
            };
            refusals.refuse(name, s.line, &reason);
        }
    }
    if int("useCracklib") > 0 {
        refusals.refuse(
            "useCracklib",
            line("useCracklib"),
            "cracklib's dictionary check is not imported; refuse dictionary words with `avoid LIST` and a word list, and set `useCracklib 0`",
        );
    }
    let checked: Vec<&str> = settings
        .get("checkAttributes")
        .map(|s| s.value.split(',').filter(|a| !a.is_empty()).collect())
        .unwrap_or_default();
    for a in &checked {
        if attribute(a).is_none() {
            refusals.refuse(
                "checkAttributes",
                line("checkAttributes"),
                &format!(
                    "the hooks pass uid (the account name), mail, givenName, sn, displayName and userPrincipalName, not `{}`",
                    printable(a)
                ),
            );
        }
    }
    let run = int("maxConsecutivePerClass");
    let classes_set = settings.keys().filter(|n| n.starts_with("class-")).count();
    if classes_set > MAX_PPM_CLASSES {
        refusals.refuse(
            "class-NAME",
            0,
            &format!(
                "{classes_set} classes (with ppm's four): policyc imports at most {MAX_PPM_CLASSES} (a policy holds at most 32 classes)"
            ),
        );
    }
    let skipped = refusals.check(path)?;

    // Classes, in the order ppm keeps them (its defaults first, then new ones as read).
    let mut classes: Vec<(&str, &Setting)> = settings
        .iter()
        .filter_map(|(n, s)| n.strip_prefix("class-").map(|short| (short, s)))
        .collect();
    let rank = |n: &str| DEFAULT_CLASSES.iter().position(|d| d.0 == n).unwrap_or(usize::MAX);
    classes.sort_by_key(|(n, s)| (rank(n), s.line));
    // Skipped (or refused above): the classes past the limit are left out.
    classes.truncate(MAX_PPM_CLASSES);
    let mut defs = String::new();
    let mut idents: Vec<String> = Vec::new();
    for (short, s) in &classes {
        let ident = class_ident(short, &idents);
        defs.push_str(&cite(&format!("class-{short}"), s));
        let chars: Vec<char> = s.value.chars().collect();
        let _ = writeln!(defs, "  class {ident} = {}", set_literal(&chars));
        idents.push(ident);
    }
    defs.push('\n');

    let mut rules = String::new();
    // minQuality: a point per class with at least MINFORPOINT characters.
    let quality = settings.get("minQuality");
    let min_quality = int("minQuality");
    let free = classes.iter().filter(|(_, s)| s.min_for_point <= 0).count() as i64;
    let pointed: Vec<(usize, i64)> = classes
        .iter()
        .enumerate()
        .filter(|(_, (_, s))| s.min_for_point > 0)
        .map(|(i, (_, s))| (i, s.min_for_point))
        .collect();
    let need = min_quality - free;
    if let Some(q) = quality {
        rules.push_str(&cite("minQuality", q));
    }
    if need > pointed.len() as i64 {
        return Err(no_password(format!(
            "minQuality {min_quality} needs more points than the {} classes can give",
            classes.len()
        )));
    } else if need > 0 {
        let names: Vec<String> = pointed.iter().map(|&(i, _)| classes[i].0.to_string()).collect();
        let parts: Vec<String> = pointed
            .iter()
            .map(|&(i, k)| match k {
                1 => idents[i].clone(),
                k => format!("count {} >= {k}", idents[i]),
            })
            .collect();
        let all_single = pointed.iter().all(|&(_, k)| k == 1);
        let enough: Vec<String> =
            pointed.iter().map(|&(i, k)| format!("{k} {}", classes[i].0)).collect();
        let message = match all_single {
            true => format!("Use characters of at least {need} of: {}.", super::or_list(&names)),
            false => format!("Use at least {need} of: {}.", super::or_list(&enough)),
        };
        let parts = match all_single {
            true => parts,
            false => pointed.iter().map(|&(i, k)| format!("count {} >= {k}", idents[i])).collect(),
        };
        if free > 0 {
            let (classes, give) = match free {
                1 => ("class", "gives its point"),
                _ => ("classes", "give their points"),
            };
            let _ = writeln!(
                rules,
                "  # ({free} {classes} with MINFORPOINT 0 always {give}: {need} more needed)"
            );
        }
        let _ = writeln!(
            rules,
            "  rule ppm_quality {} : at least {need} of {{ {} }}",
            message_text(&message),
            parts.join(", ")
        );
    }
    for (i, (short, s)) in classes.iter().enumerate() {
        if s.max < 0 {
            return Err(no_password(format!(
                "class-{short} has a negative maximum ({}): ppm refuses every password",
                s.max
            )));
        }
        let ident = &idents[i];
        for (kind, least, op, n) in [("min", "least", ">=", s.min), ("max", "most", "<=", s.max)] {
            if n > 0 {
                let message = format!("Use at {least} {n} {short} {}.", characters(n));
                let _ = writeln!(
                    rules,
                    "  rule ppm_{kind}_{} {} : count {ident} {op} {n}",
                    &ident[4..],
                    message_text(&message)
                );
            }
        }
    }
    if let Some(f) = settings.get("forbiddenChars") {
        let chars: Vec<char> = f.value.chars().collect();
        rules.push_str(&cite("forbiddenChars", f));
        let _ = writeln!(
            rules,
            "  rule ppm_forbidden {} : no {}",
            message_text(&format!("Do not use any of these characters: {}.", f.value)),
            set_literal(&chars)
        );
    }
    if let Some(s) = settings.get("maxConsecutivePerClass").filter(|_| run != 0) {
        rules.push_str(&cite("maxConsecutivePerClass", s));
    }
    if run < 0 {
        return Err(no_password(format!(
            "maxConsecutivePerClass {run} is negative: ppm refuses every password"
        )));
    } else if run > 0 {
        for (i, (short, _)) in classes.iter().enumerate() {
            let _ = writeln!(
                rules,
                "  rule ppm_run_{} {} : longest run of {} <= {run}",
                &idents[i][4..],
                message_text(&format!("Use at most {run} {short} {} in a row.", characters(run))),
                idents[i]
            );
        }
    }
    if let Some(s) = settings.get("checkRDN").filter(|_| int("checkRDN") == 1) {
        rules.push_str(&cite("checkRDN", s));
        rules.push_str("  # (the RDN's value, `uid=…`, is the account name the hook passes)\n");
        let _ = writeln!(
            rules,
            "  rule ppm_rdn \"Do not use a part of your user name.\" : not contains user.sAMAccountName in bytes as patterns split on \"{}\" skip shorter than 3",
            RDN_DELIMITERS.replace('\t', "\\t")
        );
    }
    if let Some(s) = settings.get("checkAttributes").filter(|_| !checked.is_empty()) {
        rules.push_str(&cite("checkAttributes", s));
        let mut seen = Vec::new();
        for a in checked.iter().filter_map(|a| attribute(a)) {
            if seen.contains(&a) {
                continue;
            }
            seen.push(a);
            let _ = writeln!(
                rules,
                "  rule ppm_attribute_{a} \"Do not use a part of your {a}.\" : not contains user.{a} in bytes as patterns split on \"{}\" skip shorter than 3",
                ATTRIBUTE_DELIMITERS.replace('\t', "\\t")
            );
        }
    }
    let mut notes = String::new();
    if let Some(s) = settings.get("cracklibDict").filter(|_| int("useCracklib") <= 0) {
        let _ = writeln!(notes, "  # cracklibDict (line {}): no rule: useCracklib is off", s.line);
    }
    Policy {
        format: "ppm",
        path,
        about: "# Each rule cites the parameter it comes from; ppm's defaults fill in what the configuration\n\
                # leaves out. ppm matches bytes where policyc matches characters: the two agree on ASCII\n\
                # passwords; a non-ASCII class member counts once here (ppm counts each of its bytes).\n\
                # RDN and attribute tokens are POSIX basic regular expressions, as ppm reads them.\n",
        what: "the ppm configuration",
        reference: "https://github.com/ltb-project/ppm",
        body: &[&defs, &notes, &skipped, &rules],
    }
    .write()
}
