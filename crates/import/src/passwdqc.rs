//! passwdqc's configuration (`/etc/passwdqc.conf`, pam_passwdqc's and `pwqcheck`'s options), as
//! passwdqc 2.0 reads it (`passwdqc_load.c`, `passwdqc_parse.c`) and checks a new password
//! (`passwdqc_check.c`: the length limits, then `is_simple`):
//!
//! | option | rule |
//! |---|---|
//! | `min=N0,N1,N2,N3,N4` (default `disabled,24,11,8,7`), `passphrase=W` (default 3) | one rule: `(at least 4 of { KINDS } and length in bytes >= N4 and distinct in bytes >= D4) or …` |
//! | `max=N` (default 72) | `length in bytes <= N` |
//! | `enforce=none` | every rule an `audit rule` |
//!
//! passwdqc counts the kinds of characters (digits, lower case, upper case, other) a password
//! uses, an upper-case letter first and a digit last not counted
//! (`count … except at start|end`); a password of K kinds passes with the length of any K' ≤ K
//! kinds (N0 for one kind, N1 for two, N3 for three, N4 for four), or, with two kinds or more,
//! as a passphrase of W words (a word starts where an ASCII letter follows a non-letter) and
//! N2 bytes. Each length also needs that many different bytes: the number a random
//! password of that length would have (`expected_different`: over 10, 36, 27, 62 and 95
//! characters), less one.
//!
//! passwdqc classifies and counts bytes; characters outside ASCII are "unknown": a kind of
//! their own for a password of no other kind, or of one kind that is digits or has two words,
//! and a word starts at one after an ASCII space (`is_simple`). The imported policy counts
//! bytes and different bytes as passwdqc does and writes those cases out, so it agrees with
//! the library on every UTF-8 password (the differential test, `tests/import.rs`, against the
//! real library on ASCII and non-ASCII passwords).
//!
//! Not expressible, so refused unless skipped: `match` (on by default: passwdqc refuses a
//! password based on its built-in 4,096 words, common sequences, years and the user's
//! account, GECOS and home directory, a search of substrings with credit for what remains),
//! `wordlist`, `denylist`, `filter`, `max=8` (passwdqc then checks the first 8 bytes only),
//! `random=N,only` (no chosen password passes) and `config` (an included file: import it
//! separately). `similar` compares with the old password, which a directory hook does not see;
//! `random` only sizes generated passphrases; `retry` and the PAM flags are PAM's business:
//! noted, no rule.

use super::{ImportError, Policy, Refusals, printable};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// passwdqc's `disabled` (INT_MAX).
const DISABLED: u32 = i32::MAX as u32;

/// The largest `passphrase` imported: its rule is a regular expression of W word starts.
const MAX_WORDS: u32 = 32;

/// Flags (options without a value) passwdqc knows, and what they mean.
const FLAGS: [(&str, &str); 6] = [
    ("non-unix", "PAM: do not use the Unix password database"),
    ("check_oldauthtok", "PAM: check the old password"),
    ("use_first_pass", "PAM: use the password of an earlier module"),
    ("use_authtok", "PAM: use the new password of an earlier module"),
    ("noaudit", "PAM: no audit records"),
    ("ask_oldauthtok", "PAM: ask for the old password"),
];

/// Options with a value passwdqc knows.
const OPTIONS: [&str; 12] = [
    "min",
    "max",
    "passphrase",
    "match",
    "similar",
    "random",
    "wordlist",
    "denylist",
    "filter",
    "enforce",
    "retry",
    "config",
];

/// One option as the file sets it (the last setting wins).
#[derive(Debug, Clone)]
struct Setting {
    value: String,
    line: usize,
}

/// The options, read and checked as passwdqc reads them.
struct Params {
    min: [u32; 5],
    min_line: usize,
    max: u32,
    words: u32,
    settings: BTreeMap<String, Setting>,
}

/// Reads the file as `passwdqc_params_load` does: blank lines and lines starting with `#`
/// skipped, surrounding blanks trimmed, one option per line, each checked as passwdqc checks it.
fn read(text: &str, path: &str) -> Result<Params, ImportError> {
    let mut p = Params {
        min: [DISABLED, 24, 11, 8, 7],
        min_line: 0,
        max: 72,
        words: 3,
        settings: BTreeMap::new(),
    };
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let option = raw.trim_matches([' ', '\t', '\r']);
        if option.is_empty() || option.starts_with('#') {
            continue;
        }
        let bad = |why: &str| ImportError::Malformed {
            path: path.into(),
            line,
            message: format!("`{option}`: {why} (passwdqc refuses it too)"),
        };
        let (name, value) = match option.split_once('=') {
            Some((n, v)) => (n, v),
            None => (option, ""),
        };
        let is_flag = FLAGS.iter().any(|(f, _)| *f == name);
        if !is_flag && !OPTIONS.contains(&name) || is_flag && option.contains('=') {
            let ok = name == "ask_oldauthtok" && value == "update";
            if !ok {
                let known: Vec<&str> =
                    OPTIONS.iter().copied().chain(FLAGS.iter().map(|(f, _)| *f)).collect();
                return Err(bad(&format!("unknown option; known: {}", known.join(", "))));
            }
        }
        match name {
            "min" => {
                let mut values = [0u32; 5];
                let parts: Vec<&str> = value.split(',').collect();
                if parts.len() != 5 {
                    return Err(bad("`min` takes five values, such as disabled,24,11,8,7"));
                }
                for (k, part) in parts.iter().enumerate() {
                    let v = match *part {
                        "disabled" => DISABLED,
                        n => {
                            number(n).ok_or_else(|| bad("each value is a number or `disabled`"))?
                        }
                    };
                    if k > 0 && v > values[k - 1] {
                        return Err(bad("the values must not increase from left to right"));
                    }
                    values[k] = v;
                }
                p.min = values;
                p.min_line = line;
            }
            "max" => {
                let v = number(value).filter(|v| *v >= 8).ok_or_else(|| bad("at least 8"))?;
                p.max = v.min(10_000);
            }
            "passphrase" => p.words = number(value).ok_or_else(|| bad("a number"))?,
            "match" | "retry" => {
                number(value).ok_or_else(|| bad("a number"))?;
            }
            "similar" if !matches!(value, "permit" | "deny") => {
                return Err(bad("`permit` or `deny`"));
            }
            "enforce" if !matches!(value, "none" | "users" | "everyone") => {
                return Err(bad("`none`, `users` or `everyone`"));
            }
            "random" => {
                let bits = value.strip_suffix(",only").unwrap_or(value);
                let v = number(bits).ok_or_else(|| bad("a number of bits"))?;
                if v != 0 && !(24..=136).contains(&v) {
                    return Err(bad("0, or 24 to 136 bits"));
                }
            }
            _ => {}
        }
        p.settings.insert(name.to_string(), Setting { value: value.to_string(), line });
    }
    Ok(p)
}

/// A decimal number up to INT_MAX (`strtoul` then passwdqc's range check; empty is 0).
fn number(s: &str) -> Option<u32> {
    if s.is_empty() {
        return Some(0);
    }
    s.bytes()
        .all(|b| b.is_ascii_digit())
        .then(|| s.parse::<u32>().ok())
        .flatten()
        .filter(|v| *v <= DISABLED)
}

/// passwdqc's `expected_different`: the expected number of different characters in a random
/// string of `length` over `charset` characters, rounded down, in its 15-bit fixed point.
fn expected_different(charset: u64, length: u32) -> u64 {
    const BITS: u32 = 15;
    let x = ((charset - 1) << BITS) / charset;
    let mut y = x;
    for _ in 1..length {
        y = (y * x) >> BITS;
    }
    (charset * ((1 << BITS) - y)) >> BITS
}

/// The kinds passwdqc counts, as parts of `at least K of`.
const KINDS: &str = "count ascii_digit except at end >= 1, count ascii_lower >= 1, count ascii_upper except at start >= 1, count ascii_other >= 1";

/// Where passwdqc's `is_simple` starts a word: an ASCII letter at the start or after an ASCII
/// non-letter, or a character outside ASCII at the start or after an ASCII space (`isspace`).
const WORD_START: &str =
    "(?:(?:^|[\\x00-@\\[-`{-\\x7f])[A-Za-z]|(?:^|[\\t\\n\\x0B\\x0C\\r ])[^\\x00-\\x7f])";

/// A pattern matching `words` word starts.
fn words(words: u32) -> String {
    let starts: Vec<&str> = (0..words).map(|_| WORD_START).collect();
    format!("(?s){}", starts.join(".*"))
}

/// At least `k` kinds as passwdqc counts them: characters outside ASCII ("unknown") add a kind
/// to a password of no kind, or of one kind that is digits or with two words or more.
fn kinds(k: u32) -> String {
    let ascii = format!("at least {k} of {{ {KINDS} }}");
    match k {
        1 => format!("({ascii} or count non_ascii >= 1)"),
        2 => format!(
            "({ascii} or (count non_ascii >= 1 and at least 1 of {{ {KINDS} }} and (count ascii_digit except at end >= 1 or matches /{}/)))",
            words(2)
        ),
        _ => ascii,
    }
}

/// One way to pass: a password of at least `k` kinds, `min` bytes, and (for a passphrase)
/// `passphrase` words.
fn branch(k: u32, min: u32, charset: u64, passphrase: Option<u32>) -> String {
    let mut parts = vec![kinds(k)];
    if let Some(w) = passphrase {
        parts.push(format!("matches /{}/", words(w)));
    }
    if min > 0 {
        parts.push(format!("length in bytes >= {min}"));
    }
    let distinct = expected_different(charset, min).saturating_sub(1);
    if distinct >= 2 {
        parts.push(format!("distinct in bytes >= {distinct}"));
    }
    format!("({})", parts.join(" and "))
}

/// Imports a passwdqc configuration (its text; `path` names it in comments and errors). `skip`:
/// options to leave out although policyc cannot express them (the policy says which).
///
/// # Errors
/// A line passwdqc would refuse, or options policyc cannot express that were not skipped.
pub fn import(text: &str, path: &str, skip: &[String]) -> Result<String, ImportError> {
    let p = read(text, path)?;
    let mut refusals = Refusals::new(skip);
    let setting = |name: &str| p.settings.get(name);
    let line_of = |name: &str| setting(name).map_or(0, |s| s.line);
    match setting("match") {
        Some(s) if number(&s.value) == Some(0) => {}
        other => refusals.refuse(
            "match",
            other.map_or(0, |s| s.line),
            "passwdqc refuses a password based on its built-in 4,096 words, common sequences, years and the user's account, GECOS and home directory (substrings of `match` characters or more removed, the rest checked again), which policyc cannot express; set match=0, and refuse words with `avoid LIST`",
        ),
    }
    for (name, why) in [
        ("wordlist", "a password based on a word of the list is refused as `match` does"),
        ("denylist", "the list is compared after passwdqc's own look-alike folding"),
        ("filter", "passwdqc's binary filter format; build a policyc store from the same list"),
        ("config", "an included file: import it separately"),
    ] {
        if setting(name).is_some_and(|s| !s.value.is_empty()) {
            refusals.refuse(name, line_of(name), why);
        }
    }
    if p.max == 8 && p.settings.contains_key("max") {
        refusals.refuse(
            "max",
            line_of("max"),
            "with max=8 passwdqc checks only the first 8 bytes of a longer password",
        );
    }
    if setting("random").is_some_and(|s| s.value.ends_with(",only")) {
        refusals.refuse(
            "random",
            line_of("random"),
            "with `,only` passwdqc accepts no password a user chooses",
        );
    }
    if p.words > MAX_WORDS {
        refusals.refuse(
            "passphrase",
            line_of("passphrase"),
            &format!("more than {MAX_WORDS} words makes an automaton larger than policyc builds"),
        );
    }
    let skipped = refusals.check(path)?;
    let [n0, n1, n2, n3, n4] = p.min;
    if n4 == DISABLED {
        return Err(ImportError::Malformed {
            path: path.into(),
            line: p.min_line,
            message: "every `min` value is `disabled`: passwdqc accepts no password".into(),
        });
    }
    if n4 > p.max {
        return Err(ImportError::Malformed {
            path: path.into(),
            line: p.min_line.max(line_of("max")),
            message: format!(
                "every `min` length is more than max={}: passwdqc accepts no password",
                p.max
            ),
        });
    }
    let enforce = setting("enforce").map(|s| s.value.as_str());
    let kind = if enforce == Some("none") { "audit rule" } else { "rule" };
    let mut branches = Vec::new();
    let mut said = Vec::new();
    for (kinds, min, charset, words, what) in [
        (4, n4, 95, None, "four kinds of character"),
        (3, n3, 62, None, "three kinds"),
        (2, n1, 36, None, "two kinds"),
        (2, n2, 27, Some(p.words).filter(|w| *w > 0), "a passphrase"),
        (1, n0, 10, None, "one kind"),
    ] {
        if min == DISABLED || (what == "a passphrase" && words.is_none()) {
            continue;
        }
        branches.push(branch(kinds, min, charset, words));
        let unit = if said.is_empty() { " bytes" } else { "" };
        said.push(match words {
            Some(w) => format!("{min}{unit} for a passphrase of {w} words"),
            None => format!("{min}{unit} with {what}"),
        });
    }
    let mut rules = String::new();
    let _ = writeln!(
        rules,
        "  # min = {} ({}), passphrase = {} ({})",
        p.min.map(|m| if m == DISABLED { "disabled".into() } else { m.to_string() }).join(","),
        cited(p.min_line),
        p.words,
        cited(line_of("passphrase"))
    );
    rules.push_str(
        "  # a kind counts when one of its characters is used; an upper-case letter first\n",
    );
    rules.push_str(
        "  # and a digit last do not count; characters outside ASCII are a kind of their own\n",
    );
    rules.push_str(
        "  # for a password of no other kind, or of one that is digits or has two words\n",
    );
    let _ = writeln!(
        rules,
        "  {kind} min \"Use at least {}, and enough different characters. A capital letter first and a digit last do not count as a kind.\" : {}",
        super::or_list(&said),
        branches.join(" or ")
    );
    let _ = writeln!(rules, "  # max = {} ({})", p.max, cited(line_of("max")));
    let _ = writeln!(
        rules,
        "  {kind} max \"Use at most {} bytes (a character outside ASCII is two or more).\" : length in bytes <= {}",
        p.max, p.max
    );
    let mut notes = String::new();
    for (name, what) in [
        ("similar", "compares with the old password, which a directory hook does not see"),
        ("random", "sizes the passphrases passwdqc generates"),
        ("retry", "PAM's prompt count"),
        ("match", "passwdqc's dictionary, sequence and personal-information checks are off"),
    ] {
        // `match` and `random=N,only` that are not off were refused or skipped above.
        let noted = |s: &&Setting| match name {
            "match" => number(&s.value) == Some(0),
            "random" => !s.value.ends_with(",only"),
            _ => true,
        };
        if let Some(s) = setting(name).filter(noted) {
            let value = printable(&s.value);
            let _ = writeln!(notes, "  # {name}={value} (line {}): no rule: {what}", s.line);
        }
    }
    for (flag, what) in FLAGS {
        if let Some(s) = setting(flag) {
            let _ = writeln!(notes, "  # {flag} (line {}): no rule: {what}", s.line);
        }
    }
    match (enforce, setting("enforce")) {
        (Some("none"), Some(s)) => {
            let _ = writeln!(
                notes,
                "  # enforce=none (line {}): passwdqc only warns, so every rule is an audit rule",
                s.line
            );
        }
        (Some("users"), Some(s)) => {
            let _ = writeln!(notes, "  # enforce=users (line {}): not enforced for root", s.line);
        }
        _ => {}
    }
    Policy {
        format: "passwdqc",
        path,
        about: "# Each rule cites the options it comes from. What the file leaves out takes passwdqc\n\
                # 2.0's defaults (2.0.2, Debian 12's: min=disabled,24,11,8,7 max=72 passphrase=3);\n\
                # passwdqc 2.1 changed its defaults, so set min, max and passphrase in the file to\n\
                # be sure of them. passwdqc counts and classifies bytes, as the rules here do.\n",
        what: "the passwdqc configuration",
        reference: "https://www.openwall.com/passwdqc/",
        body: &[
            "  class ascii_digit = [0-9]\n  class ascii_lower = [a-z]\n  class ascii_upper = [A-Z]\n  class ascii_other = [\\u{0}-\\u{7f}] - [0-9A-Za-z]\n\n",
            &notes,
            &skipped,
            &rules,
        ],
    }
    .write()
}

/// `line N`, or `passwdqc 2.0's default` for a default (2.1 changed them).
fn cited(line: usize) -> String {
    match line {
        0 => "passwdqc 2.0's default".to_string(),
        n => format!("line {n}"),
    }
}

#[cfg(test)]
mod tests {
    use super::expected_different;

    /// Values from passwdqc's own arithmetic (15-bit fixed point), for its default lengths.
    #[test]
    fn expected_different_matches_passwdqc() {
        assert_eq!(expected_different(36, 24), 17);
        assert_eq!(expected_different(27, 11), 9);
        assert_eq!(expected_different(62, 8), 7);
        assert_eq!(expected_different(95, 7), 6);
        assert_eq!(expected_different(10, 1), 1);
        assert_eq!(expected_different(10, 0), 1);
        assert_eq!(expected_different(95, 40), 32);
    }
}
