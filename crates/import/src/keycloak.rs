//! A Keycloak realm's password policy string (`length(12) and digits(2) and notUsername`, the
//! realm's `passwordPolicy`), as Keycloak's policy providers check a password
//! (`org.keycloak.policy`, server-spi-private):
//!
//! | policy | rule |
//! |---|---|
//! | `length(N)` (default 8) | `length in utf16 units >= N` (a Java `String`'s length) |
//! | `maxLength(N)` (default 64) | `length in utf16 units <= N` |
//! | `digits(N)` (default 1) | `count java_digit >= N` (`Character.isDigit` on each UTF-16 unit) |
//! | `lowerCase(N)`, `upperCase(N)` (default 1) | `count java_lower/java_upper >= N` (`isLowerCase`, `isUpperCase`) |
//! | `specialChars(N)` (default 1) | `points >= N from { 1 per java_special, 2 per astral }`: each UTF-16 unit that is not `isLetterOrDigit`, so a character outside the BMP counts twice |
//! | `notUsername` | `not equals user.sAMAccountName` (case-sensitive, as `String.equals`) |
//! | `notContainsUsername` | `not contains user.sAMAccountName` |
//! | `notEmail` | `not contains user.mail` (stricter: Keycloak refuses the address itself, ignoring case) |
//!
//! Java's `Character` methods look at one UTF-16 unit at a time: a surrogate is no digit, letter
//! or cased character, so the classes here are restricted to the BMP.
//!
//! Not expressible, so refused unless skipped: `regexPattern` (a Java regular expression that
//! must match the whole password: `\w`, `\d`, `\s` and `.` differ from policyc's),
//! `passwordBlacklist`/`passwordDenylist` (a server-side file), `notContainsName` and
//! `notPersonalInformation` (user profile attributes). Policies about history, expiry and
//! hashing (`passwordHistory`, `passwordAge`, `forceExpiredPasswordChange`, `hashAlgorithm`,
//! `hashIterations`, `maxAuthAge`, `recoveryCodesWarningThreshold`) do not judge a new
//! password's text: noted, no rule.

use super::{ImportError, Policy, Refusals, printable};
use std::fmt::Write as _;

/// The policies that judge a new password, with their default value (`None`: no value).
const CHECKS: [(&str, Option<u32>); 9] = [
    ("length", Some(8)),
    ("maxLength", Some(64)),
    ("digits", Some(1)),
    ("lowerCase", Some(1)),
    ("upperCase", Some(1)),
    ("specialChars", Some(1)),
    ("notUsername", None),
    ("notContainsUsername", None),
    ("notEmail", None),
];

/// Policies refused unless skipped, and why.
const REFUSED: [(&str, &str); 6] = [
    (
        "regexPattern",
        "a Java regular expression that must match the whole password; Java's \\w, \\d, \\s and . differ from policyc's, so write it by hand as `matches /^(?:...)$/`",
    ),
    (
        "passwordBlacklist",
        "a list on the Keycloak server; build an `avoid LIST exact` rule or a store from it",
    ),
    (
        "passwordDenylist",
        "a list on the Keycloak server; build an `avoid LIST exact` rule or a store from it",
    ),
    ("notContainsName", "the user's first and last names as Keycloak's user profile holds them"),
    ("notPersonalInformation", "attributes of Keycloak's user profile"),
    ("passwordStrength", "Keycloak's own strength estimate"),
];

/// Policies that do not judge the text of a new password.
const NOTED: [(&str, &str); 7] = [
    ("passwordHistory", "compares with earlier passwords, which a directory hook does not see"),
    ("passwordAge", "compares with earlier passwords, which a directory hook does not see"),
    ("forceExpiredPasswordChange", "password expiry"),
    ("hashAlgorithm", "how Keycloak stores passwords"),
    ("hashIterations", "how Keycloak stores passwords"),
    ("maxAuthAge", "re-authentication before a change"),
    ("recoveryCodesWarningThreshold", "recovery codes"),
];

/// Java's `Character` classes, on one UTF-16 unit.
const CLASSES: &str = "  class bmp = [\\u{0}-\\u{ffff}]
  class astral = [\\u{10000}-\\u{10ffff}]
  class java_digit = [\\p{Nd}] & bmp
  class java_lower = [\\p{Lowercase}] & bmp
  class java_upper = [\\p{Uppercase}] & bmp
  class java_special = bmp - [\\p{L}\\p{Nd}]

";

/// One `name(value)` of the string.
struct Item<'t> {
    name: &'t str,
    value: Option<&'t str>,
}

/// Splits the string as Keycloak's `PasswordPolicy.parse` does: items joined by `and`, each a
/// name with an optional value in parentheses.
fn items<'t>(text: &'t str, path: &str) -> Result<Vec<Item<'t>>, ImportError> {
    let mut out = Vec::new();
    let bad = |message: String| ImportError::Malformed { path: path.into(), line: 1, message };
    for raw in text.trim().split(" and ").map(str::trim).filter(|s| !s.is_empty()) {
        let (name, value) = match raw.split_once('(') {
            Some((name, rest)) => {
                let value = rest
                    .strip_suffix(')')
                    .ok_or_else(|| bad(format!("`{raw}`: a value ends with `)`")))?;
                (name.trim(), Some(value.trim()))
            }
            None => (raw, None),
        };
        let known = CHECKS.iter().any(|(n, _)| *n == name)
            || REFUSED.iter().any(|(n, _)| *n == name)
            || NOTED.iter().any(|(n, _)| *n == name);
        if !known || name.is_empty() {
            let known: Vec<&str> = CHECKS
                .iter()
                .map(|(n, _)| *n)
                .chain(REFUSED.iter().map(|(n, _)| *n))
                .chain(NOTED.iter().map(|(n, _)| *n))
                .collect();
            return Err(bad(format!(
                "unknown password policy `{}`; Keycloak's are {}",
                printable(name),
                known.join(", ")
            )));
        }
        out.push(Item { name, value: value.filter(|v| !v.is_empty() && *v != "undefined") });
    }
    Ok(out)
}

/// Imports a Keycloak password policy string (`path` names its source in comments and
/// errors). `skip`: policies to leave out although policyc cannot express them.
///
/// # Errors
/// A string Keycloak would not parse, or policies policyc cannot express that were not skipped.
pub fn import(text: &str, path: &str, skip: &[String]) -> Result<String, ImportError> {
    let items = items(text, path)?;
    let mut refusals = Refusals::new(skip);
    let mut notes = String::new();
    // Each policy's rule, in the order first given; a policy given again replaces its rule, as
    // Keycloak's `PasswordPolicy.parse` puts each into a map (the last value wins).
    let mut blocks: Vec<(&str, String)> = Vec::new();
    for item in &items {
        if let Some((_, why)) = REFUSED.iter().find(|(n, _)| *n == item.name) {
            refusals.refuse(item.name, 1, why);
            continue;
        }
        if let Some((_, why)) = NOTED.iter().find(|(n, _)| *n == item.name) {
            let _ = writeln!(notes, "  # {}: no rule: {why}", shown(item));
            continue;
        }
        let default = CHECKS.iter().find(|(n, _)| *n == item.name).and_then(|(_, d)| *d);
        let n = match (default, item.value) {
            (Some(_), Some(v)) => Some(v.parse::<u32>().map_err(|_| ImportError::Malformed {
                path: path.into(),
                line: 1,
                message: format!("`{}` needs a number, not `{}`", item.name, printable(v)),
            })?),
            (d, _) => d,
        };
        let mut rules = format!("  # {}\n", shown(item));
        let n = n.unwrap_or(0);
        let plural =
            |one: &str, many: &str| if n == 1 { one.to_string() } else { many.to_string() };
        let (message, predicate) = match item.name {
            "length" => {
                (format!("Use at least {n} characters."), format!("length in utf16 units >= {n}"))
            }
            "maxLength" => {
                (format!("Use at most {n} characters."), format!("length in utf16 units <= {n}"))
            }
            "digits" => (
                format!("Use at least {n} {}.", plural("digit", "digits")),
                format!("count java_digit >= {n}"),
            ),
            "lowerCase" => (
                format!("Use at least {n} lower-case {}.", plural("letter", "letters")),
                format!("count java_lower >= {n}"),
            ),
            "upperCase" => (
                format!("Use at least {n} upper-case {}.", plural("letter", "letters")),
                format!("count java_upper >= {n}"),
            ),
            "specialChars" => (
                format!("Use at least {n} special {}.", plural("character", "characters")),
                format!("points >= {n} from {{ 1 per java_special, 2 per astral }}"),
            ),
            "notUsername" => (
                "Do not use your username as the password.".to_string(),
                "not equals user.sAMAccountName".to_string(),
            ),
            "notContainsUsername" => (
                "Do not use your username in the password.".to_string(),
                "not contains user.sAMAccountName".to_string(),
            ),
            // notEmail, the last of CHECKS.
            _ => {
                rules.push_str(
                    "  # (stricter: Keycloak refuses the address itself, ignoring case)\n",
                );
                (
                    "Do not use your email address in the password.".to_string(),
                    "not contains user.mail".to_string(),
                )
            }
        };
        let id = item.name;
        let _ = writeln!(rules, "  rule {id} \"{message}\" : {predicate}");
        match blocks.iter_mut().find(|(name, _)| *name == item.name) {
            Some((_, earlier)) => {
                let _ = writeln!(
                    notes,
                    "  # {} given again: Keycloak keeps the last value ({})",
                    item.name,
                    shown(item)
                );
                *earlier = rules;
            }
            None => blocks.push((item.name, rules)),
        }
    }
    let rules: String = blocks.into_iter().map(|(_, rules)| rules).collect();
    let skipped = refusals.check(path)?;
    Policy {
        format: "keycloak",
        path,
        about: "# Each rule cites the Keycloak policy it comes from. Keycloak counts and classifies\n\
                # UTF-16 units (Java `char`s): a character outside the BMP is two units, and neither\n\
                # half is a letter or digit. Keycloak's username is read as sAMAccountName.\n",
        what: "the Keycloak password policy",
        reference: "https://www.keycloak.org/docs/latest/server_admin/#_password-policies",
        body: &[CLASSES, &notes, &skipped, &rules],
    }
    .write()
}

/// The item as written (`length(12)`, `notUsername`), with the default it takes.
fn shown(item: &Item<'_>) -> String {
    let default = CHECKS.iter().find(|(n, _)| *n == item.name).and_then(|(_, d)| *d);
    match (item.value, default) {
        (Some(v), _) => format!("{}({})", item.name, printable(v)),
        (None, Some(d)) => format!("{} (Keycloak's default: {d})", item.name),
        (None, None) => item.name.to_string(),
    }
}
