//! libpwquality's `pwquality.conf` (pam_pwquality, `pwscore`), as libpwquality 1.4 reads it
//! (`settings.c`) and checks a new password (`check.c`, `password_check`):
//!
//! | option | rule |
//! |---|---|
//! | `minlen` (at least 6; default 8), credits 0 or less | `length in bytes >= N` |
//! | `minlen` with `dcredit`/`ucredit`/`lcredit`/`ocredit` above 0 | `points >= N from { 1 per character in bytes, 1 per CLASS up to CREDIT, 1 per other in bytes up to CREDIT }` |
//! | `dcredit`/`ucredit`/`lcredit`/`ocredit` below 0 | `count CLASS >= -N` (`other` in bytes) |
//! | `minclass` (1 to 4) | `at least N of { digit, upper, lower, other }` |
//! | always | `not palindrome ignoring case or count non_ascii >= 1` |
//! | `maxrepeat` above 0 | `longest repeat in bytes <= N` |
//! | `maxsequence` above 0 | `longest sequence in bytes <= N` |
//! | `maxclassrepeat` above 0 | `longest run of CLASS <= N` for each class (`other` in bytes) |
//! | `enforcing = 0` | every rule an `audit rule` |
//!
//! libpwquality reads a password as bytes and classifies them in the C locale (`isdigit`,
//! `isupper`, `islower`, the rest "other"): a character outside ASCII is 2 to 4 bytes of "other".
//! The imported rules count bytes wherever libpwquality does, so they agree with it on every
//! UTF-8 password, which the differential test checks against the real library on ASCII and
//! non-ASCII passwords (`tests/import.rs`): `₂` (e2 82 82) repeats a byte, `ééé` (c3 a9 c3 a9
//! c3 a9) does not, and only an ASCII string reads the same backwards byte by byte.
//!
//! | `usercheck` (on by default) | `not contains user.sAMAccountName in bytes skip shorter than 4 or reversed or closer than 1` |
//! | `badwords = W…` | `avoid pwquality_badwords contains after ascii_lowercase and not matches /^(?:…)$/`: each word of 4 bytes or more, lower-cased, and read backwards, in the password; or the password the word up to repeated characters |
//!
//! libpwquality (1.4) looks for the user name and each bad word (`wordcheck`) in the
//! lower-cased password, forwards and backwards, and refuses a password 0 steps from the word
//! by its own edit distance, which charges a step only where the characters compared differ:
//! the word up to repeated characters (`sumer2024` for `summer2024`). 1.4.5 compares with its
//! default `difok`, 1, whatever the file sets. For the user name the runtime computes that
//! distance (`or closer than 1`); the bad words are known here, so for them it is a pattern.
//!
//! Not expressible, so refused unless skipped: `dictcheck` (cracklib; on by default),
//! `gecoscheck` (the host's
//! password database), `usersubstr` of 4 or more (pieces of the user name), a bad word outside
//! ASCII, and negative `maxrepeat`/`maxsequence`. `difok` compares
//! with the old password, which a directory hook does not see; `retry`, `enforce_for_root`,
//! `local_users_only` and `dictpath` are PAM's or cracklib's business: noted, no rule.

use super::{ImportError, Policy, Refusals};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// One option as the file sets it.
#[derive(Debug, Clone)]
struct Setting {
    value: String,
    line: usize,
}

/// libpwquality's option names (`s_map` in `settings.c`).
const OPTIONS: [&str; 20] = [
    "difok",
    "minlen",
    "dcredit",
    "ucredit",
    "lcredit",
    "ocredit",
    "minclass",
    "maxrepeat",
    "maxclassrepeat",
    "maxsequence",
    "gecoscheck",
    "dictcheck",
    "usercheck",
    "usersubstr",
    "enforcing",
    "badwords",
    "dictpath",
    "retry",
    "enforce_for_root",
    "local_users_only",
];

/// Reads a `pwquality.conf` as libpwquality does: `#` starts a comment, `name = value` or
/// `name value` or a bare `name` (for the flags), names case-insensitive, the last setting of
/// an option wins; an unknown option or a bad integer stops it, as it stops libpwquality.
fn read(text: &str, path: &str) -> Result<BTreeMap<String, Setting>, ImportError> {
    let mut settings = BTreeMap::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let content = raw.split('#').next().unwrap_or("").trim();
        if content.is_empty() {
            continue;
        }
        let end = content.find(|c: char| c.is_whitespace() || c == '=').unwrap_or(content.len());
        let (name, rest) = content.split_at(end);
        let rest = rest.trim_start();
        let value = rest.strip_prefix('=').unwrap_or(rest).trim_start();
        let name = name.to_ascii_lowercase();
        if !OPTIONS.contains(&name.as_str()) {
            return Err(ImportError::Malformed {
                path: path.into(),
                line,
                message: format!(
                    "unknown option `{name}` (libpwquality refuses it too); known options: {}",
                    OPTIONS.join(", ")
                ),
            });
        }
        settings.insert(name, Setting { value: value.to_string(), line });
    }
    Ok(settings)
}

/// The options and their values, libpwquality's defaults filled in.
struct Options {
    settings: BTreeMap<String, Setting>,
    path: String,
}

impl Options {
    /// An integer option, or libpwquality's default; `Malformed` as libpwquality's
    /// `PWQ_ERROR_INTEGER`.
    fn int(&self, name: &str, default: i64) -> Result<(i64, usize), ImportError> {
        let Some(s) = self.settings.get(name) else { return Ok((default, 0)) };
        if matches!(name, "enforce_for_root" | "local_users_only") {
            return Ok((1, s.line));
        }
        let v = s.value.parse::<i64>().ok().filter(|v| (-(1 << 31) + 1..(1 << 31) - 1).contains(v));
        v.map(|v| (v, s.line)).ok_or_else(|| ImportError::Malformed {
            path: self.path.clone(),
            line: s.line,
            message: format!("`{name}` needs an integer, not `{}`", s.value),
        })
    }

    fn text(&self, name: &str) -> Option<&Setting> {
        self.settings.get(name).filter(|s| !s.value.is_empty())
    }
}

/// ` in bytes` for the class libpwquality's non-ASCII bytes fall in (the others are ASCII, where
/// characters and bytes are one).
fn in_bytes(class: &str) -> &'static str {
    if class == "other" { " in bytes" } else { "" }
}

/// A pattern for the texts libpwquality's `distance` puts 0 steps from `word` (lower-case
/// ASCII): the same characters in the same order, each repeated once or more, ASCII letters in
/// either case.
fn collapsed_pattern(word: &str) -> String {
    let mut out = String::new();
    let mut last = None;
    for c in word.chars() {
        if last == Some(c) {
            continue;
        }
        last = Some(c);
        match c.is_ascii_alphabetic() {
            true => {
                let _ = write!(out, "[{}{}]+", c, c.to_ascii_uppercase());
            }
            false if c.is_ascii_alphanumeric() => {
                let _ = write!(out, "{c}+");
            }
            false => {
                let _ = write!(out, "\\x{{{:x}}}+", c as u32);
            }
        }
    }
    out
}

/// Where a rule comes from, for its comment.
fn cite(name: &str, value: i64, line: usize) -> String {
    if line == 0 {
        format!("  # {name} = {value} (libpwquality's default)\n")
    } else {
        format!("  # {name} = {value} (line {line})\n")
    }
}

/// Imports a `pwquality.conf` (its text; `path` names it in comments and errors). `skip`: options
/// to leave out although policyc cannot express them (the policy says which).
///
/// # Errors
/// A line libpwquality would refuse, or options policyc cannot express that were not skipped.
pub fn import(text: &str, path: &str, skip: &[String]) -> Result<String, ImportError> {
    let o = Options { settings: read(text, path)?, path: path.to_string() };
    let mut refusals = Refusals::new(skip);
    let mut refuse =
        |option: &str, line: usize, reason: &str| refusals.refuse(option, line, reason);
    let credits = [
        ("dcredit", "digits", "digit", "digits"),
        ("ucredit", "uppercase letters", "upper", "uppercase letters"),
        ("lcredit", "lowercase letters", "lower", "lowercase letters"),
        ("ocredit", "other characters", "other", "characters other than letters and digits"),
    ];
    let mut rules = String::new();
    let (enforcing, enforcing_line) = o.int("enforcing", 1)?;
    let kind = if enforcing == 0 { "audit rule" } else { "rule" };
    let (minlen_set, minlen_line) = o.int("minlen", 8)?;
    let minlen = minlen_set.max(6);
    // Positive credits: each of the first N such characters counts twice toward minlen.
    let mut awards = vec!["1 per character in bytes".to_string()];
    let mut credited = Vec::new();
    let mut credit_cites = String::new();
    for (name, words, class, _) in credits {
        let (v, line) = o.int(name, 0)?;
        if v > 0 {
            credit_cites.push_str(&cite(name, v, line));
            awards.push(format!("1 per {class}{} up to {v}", in_bytes(class)));
            let words = if v == 1 { words.trim_end_matches('s') } else { words };
            let words = if v == 1 && class == "other" { "other character" } else { words };
            credited.push(format!("{v} {words}"));
        }
    }
    rules.push_str(&cite("minlen", minlen_set, minlen_line));
    if minlen != minlen_set {
        rules.push_str("  # (libpwquality raises a minlen under 6 to 6)\n");
    }
    if credited.is_empty() {
        let _ = writeln!(
            rules,
            "  {kind} minlen \"Use at least {minlen} characters (one outside ASCII counts as 2 to 4).\" : length in bytes >= {minlen}"
        );
    } else {
        rules.push_str(&credit_cites);
        rules.push_str(
            "  # (positive credits: each credited character counts once more toward minlen)\n",
        );
        let _ = writeln!(
            rules,
            "  {kind} minlen \"Use at least {minlen} characters; each of up to {} counts as two.\" : points >= {minlen} from {{ {} }}",
            super::and_list(&credited),
            awards.join(", ")
        );
    }
    for (name, words, class, plural) in credits {
        let (v, line) = o.int(name, 0)?;
        if v < 0 {
            let n = -v;
            rules.push_str(&cite(name, v, line));
            let noun =
                if n == 1 { words.trim_end_matches('s').to_string() } else { plural.to_string() };
            let noun = if n == 1 && class == "other" {
                "character other than a letter or digit".to_string()
            } else {
                noun
            };
            let _ = writeln!(
                rules,
                "  {kind} {name} \"Use at least {n} {noun}.\" : count {class}{} >= {n}",
                in_bytes(class)
            );
        }
    }
    let (minclass, line) = o.int("minclass", 0)?;
    if minclass > 0 {
        let n = minclass.min(4);
        rules.push_str(&cite("minclass", minclass, line));
        let _ = writeln!(
            rules,
            "  {kind} minclass \"Use at least {n} of: digits, uppercase letters, lowercase letters, other characters.\" : at least {n} of {{ digit, upper, lower, other }}"
        );
    }
    rules.push_str(
        "  # always: libpwquality refuses a password that reads the same backwards, lower-cased,\n  # byte by byte: only an ASCII string can\n",
    );
    let _ = writeln!(
        rules,
        "  {kind} palindrome \"Do not use a palindrome.\" : not palindrome ignoring case or count non_ascii >= 1"
    );
    for (name, what, form) in [
        (
            "maxrepeat",
            "Use the same character at most {v} times in a row.",
            "longest repeat in bytes",
        ),
        (
            "maxsequence",
            "Use at most {v} consecutive characters such as abc or 321 in a row.",
            "longest sequence in bytes",
        ),
    ] {
        let (v, line) = o.int(name, 0)?;
        if v < 0 {
            refuse(
                name,
                line,
                "a negative limit makes libpwquality refuse almost every password; set 0 to turn the check off",
            );
        } else if v > 0 {
            rules.push_str(&cite(name, v, line));
            let message = what.replace("{v}", &v.to_string());
            let _ = writeln!(rules, "  {kind} {name} \"{message}\" : {form} <= {v}");
        }
    }
    let (v, line) = o.int("maxclassrepeat", 0)?;
    if v > 0 {
        rules.push_str(&cite("maxclassrepeat", v, line));
        let runs: Vec<String> = credits
            .iter()
            .map(|(_, _, class, _)| format!("longest run of {class}{} <= {v}", in_bytes(class)))
            .collect();
        let _ = writeln!(
            rules,
            "  {kind} maxclassrepeat \"Use at most {v} characters of one kind in a row.\" :\n    {}",
            runs.join("\n    and ")
        );
    }
    for (name, default, reason) in [
        (
            "dictcheck",
            1,
            "cracklib's dictionary check is not imported; refuse dictionary words with `avoid LIST` and a word list, and set `dictcheck = 0`",
        ),
        (
            "gecoscheck",
            0,
            "the GECOS field is read from the password database of the host pam_pwquality runs on, which a directory hook does not see",
        ),
    ] {
        let (on, line) = o.int(name, default)?;
        if on != 0 {
            refuse(name, line, reason);
        }
    }
    // usercheck and badwords (`wordcheck`): the word, lower-cased, forwards or backwards in the
    // lower-cased password; words under 4 bytes are not looked for. And the whole password 0
    // steps from the word by libpwquality's `distance`, which charges a step only where the
    // characters compared differ: the word up to repeated characters (`sumer2024` for
    // `summer2024`). libpwquality 1.4.5 compares that distance with its default difok, 1,
    // whatever the file sets (checked against it: DISA STIG's difok = 8 changes nothing).
    let (usercheck, usercheck_line) = o.int("usercheck", 1)?;
    let (usersubstr, usersubstr_line) = o.int("usersubstr", 0)?;
    let mut words_rules = String::new();
    if usercheck != 0 {
        if usersubstr >= 4 {
            refuse(
                "usersubstr",
                usersubstr_line,
                &format!(
                    "libpwquality then looks for every {usersubstr}-character piece of the user name, which policyc cannot express; set usersubstr = 0 to look for the whole name"
                ),
            );
        } else {
            words_rules.push_str(&cite("usercheck", usercheck, usercheck_line));
            words_rules.push_str(
                "  # (the user name, lower-cased, forwards or backwards, in the password, or the whole password\n  # the name up to repeated characters: 0 of libpwquality's steps; a name under 4 bytes is not looked for)\n",
            );
            let _ = writeln!(
                words_rules,
                "  {kind} usercheck \"Do not use your user name, forwards or backwards.\" :\n    not contains user.sAMAccountName in bytes skip shorter than 4 or reversed or closer than 1"
            );
        }
    }
    let mut terms = String::new();
    if let Some(s) = o.text("badwords") {
        // libpwquality splits the list at each space; a word under 4 bytes is not looked for.
        let words: Vec<&str> = s.value.split(' ').filter(|w| w.len() >= 4).collect();
        let limit = policyc_compiler::compile::MAX_TERM_CHARS;
        if let Some(w) = words.iter().find(|w| w.chars().count() > limit) {
            refuse(
                "badwords",
                s.line,
                &format!(
                    "`{}…` is longer than the {limit} characters a policyc word list holds",
                    super::printable(&w.chars().take(16).collect::<String>())
                ),
            );
        } else if let Some(w) = words.iter().find(|w| !w.is_ascii()) {
            refuse(
                "badwords",
                s.line,
                &format!(
                    "`{}` is not ASCII: libpwquality reverses a bad word byte by byte, which matches no character of the word read backwards",
                    super::printable(w)
                ),
            );
        } else if !words.is_empty() {
            let mut listed: Vec<String> = Vec::new();
            for w in &words {
                let lower = w.to_ascii_lowercase();
                let back: String = lower.chars().rev().collect();
                for t in [lower, back] {
                    if !listed.contains(&t) {
                        listed.push(t);
                    }
                }
            }
            // In order: the same words give the same rule, however the file lists them.
            listed.sort();
            let quoted: Vec<String> =
                listed.iter().map(|t| policyc_compiler::syntax::printer::string(t)).collect();
            let _ = writeln!(terms, "  terms pwquality_badwords = [{}]", quoted.join(", "));
            let lower: Vec<String> =
                ('A'..='Z').map(|c| format!("\"{c}\" -> \"{}\"", c.to_ascii_lowercase())).collect();
            let _ = writeln!(terms, "  normalization ascii_lowercase = {}\n", lower.join(", "));
            let _ = writeln!(
                words_rules,
                "  # badwords = {} (line {})\n  # (each bad word, lower-cased, forwards or backwards; libpwquality lower-cases ASCII only)",
                super::printable(&s.value),
                s.line
            );
            let whole: Vec<String> = listed.iter().map(|t| collapsed_pattern(t)).collect();
            let _ = writeln!(
                words_rules,
                "  # (and the password as a whole one of them up to repeated characters, which libpwquality's\n  # edit distance counts as 0 steps: `sumer2024` for summer2024)"
            );
            let _ = writeln!(
                words_rules,
                "  {kind} badwords \"Do not use a word of the list of bad words.\" :\n    avoid pwquality_badwords contains after ascii_lowercase and not matches /^(?:{})$/",
                whole.join("|")
            );
        }
        let short: Vec<&str> =
            s.value.split(' ').filter(|w| !w.is_empty() && w.len() < 4).collect();
        if !short.is_empty() {
            let _ = writeln!(
                words_rules,
                "  # (not looked for, as libpwquality skips a word under 4 bytes: {})",
                super::printable(&short.join(" "))
            );
        }
    }
    rules.push_str(&words_rules);
    o.int("retry", 1)?;
    o.int("enforce_for_root", 0)?;
    o.int("local_users_only", 0)?;
    let skipped = refusals.check(path)?;
    let mut notes = String::new();
    for (name, what) in [
        ("difok", "compares with the old password, which a directory hook does not see"),
        ("usersubstr", "applies to usercheck (0 or under 4: the whole name)"),
        ("retry", "PAM's prompt count"),
        ("enforce_for_root", "PAM's behaviour for root"),
        ("local_users_only", "PAM's behaviour for users outside /etc/passwd"),
        ("dictpath", "cracklib's dictionary"),
    ] {
        if let Some(s) = o.settings.get(name) {
            let _ = writeln!(notes, "  # {name} (line {}): no rule: {what}", s.line);
        }
    }
    if enforcing == 0 {
        let _ = writeln!(
            notes,
            "  # enforcing = 0 (line {enforcing_line}): libpwquality only warns, so every rule is an audit rule"
        );
    }
    Policy {
        format: "pwquality",
        path,
        about: "# Each rule cites the option it comes from; libpwquality's defaults fill in what the file\n\
                # leaves out. libpwquality counts and classifies bytes (C locale): a character outside\n\
                # ASCII is 2 to 4 bytes of \"other\", so the rules count bytes where it does (`in bytes`).\n",
        what: "the libpwquality configuration",
        reference: "https://github.com/libpwquality/libpwquality",
        body: &["  class other = any - [0-9A-Za-z]\n\n", &terms, &notes, &skipped, &rules],
    }
    .write()
}
