//! The reference evaluator: interprets the rule [`Program`] directly and plainly (iterate the
//! characters, count, compare), with independent machinery where the validator is clever: class
//! membership by scanning ranges, regexes with regex-automata's PikeVM instead of the compiled
//! DFAs, and case-insensitive matching with regex-syntax's case folding instead of [`fold`].
//! It is the oracle the property tests hold the [`Validator`] to; it is not meant to be fast.
//!
//! It shares no evaluation code with the validator. It has its own keyboard layout (for
//! `longest keyboard sequence`), its own Entra normalization (the language reference's table)
//! and its own strength path (zxcvbn called here, with the user inputs and the 16-character
//! prefix the language reference states). What it does share is data the artifact carries: the
//! classes' ranges, the terms and the simple-case-folding table (which the artifact holds so
//! that folding follows the compiler's Unicode version, not either side's standard library).
//!
//! [`fold`]: policyc_runtime::runtime::fold::fold
//! [`Validator`]: policyc_runtime::Validator

use policyc_runtime::Context;
use policyc_runtime::ir::{
    Attribute, Award, Condition, Containment, Edge, MatchMode, Measure, NormStep, Normalization,
    Predicate, Program, Rule, Severity, TermSet, Unit,
};
use policyc_runtime::runtime::posix::{self, Search};
use policyc_runtime::runtime::terms::FUZZY_MIN_CHARS;
use policyc_runtime::runtime::{INPUT_SIZE_RULE, MAX_INPUT_BYTES};
use regex_automata::nfa::thompson::pikevm::PikeVM;

/// The ids of the rules `password` violates, in policy order (enforce and audit alike).
pub fn violations(program: &Program, password: &str, ctx: &Context) -> Vec<String> {
    if password.len() > MAX_INPUT_BYTES {
        return vec![INPUT_SIZE_RULE.to_string()];
    }
    let failed =
        |r: &&Rule| applies(r, password, ctx) && !holds(program, &r.predicate, password, ctx);
    let is_strength = |r: &&Rule| matches!(r.predicate, Predicate::Strength { .. });
    // Strength rules are judged only when every other enforce rule passes.
    let others: Vec<&Rule> =
        program.rules.iter().filter(|r| !is_strength(r)).filter(failed).collect();
    let gate = others.iter().all(|r| r.severity == Severity::Audit);
    program
        .rules
        .iter()
        .filter(|r| {
            if is_strength(r) {
                gate && failed(r)
            } else {
                others.iter().any(|o| std::ptr::eq(*o, *r))
            }
        })
        .map(|r| r.id.as_str().to_string())
        .collect()
}

fn length(password: &str) -> u32 {
    password.chars().count() as u32
}

fn applies(rule: &Rule, password: &str, ctx: &Context) -> bool {
    let has = |attribute: Attribute, value: &str| match attribute {
        Attribute::MemberOf => ctx.get(attribute).iter().any(|v| same_dn(v, value)),
        _ => ctx.get(attribute).iter().any(|v| same_text(v, value)),
    };
    rule.conditions.iter().all(|c| match c {
        Condition::Length(b) => b.contains(length(password)),
        Condition::Has { attribute, value } => has(*attribute, value),
        Condition::Lacks { attribute, value } => !has(*attribute, value),
    })
}

fn holds(program: &Program, predicate: &Predicate, password: &str, ctx: &Context) -> bool {
    let class = |id: &policyc_runtime::ir::ClassId| program.classes.get(id.0 as usize);
    let count = |id: &policyc_runtime::ir::ClassId| {
        class(id).map_or(0, |c| password.chars().filter(|ch| c.contains(*ch)).count() as u32)
    };
    match predicate {
        Predicate::Length(b) => b.contains(length(password)),
        Predicate::LengthIn { unit, bounds } => {
            bounds.contains(code_units(password, *unit).len() as u32)
        }
        Predicate::CountExcept { class: c, bounds, edge } => {
            let at_edge = match edge {
                Edge::Start => password.chars().next(),
                Edge::End => password.chars().last(),
            };
            let skipped = at_edge.is_some_and(|ch| class(c).is_some_and(|k| k.contains(ch)));
            bounds.contains(count(c) - u32::from(skipped))
        }
        Predicate::Quorum { n, parts } => {
            parts.iter().filter(|p| holds(program, p, password, ctx)).count() >= *n as usize
        }
        Predicate::Points { min, awards } => {
            let total: u64 = awards
                .iter()
                .map(|a| match a {
                    Award::Per { points, class: c, cap } => {
                        let n = match c {
                            Some(c) => count(c),
                            None => length(password),
                        };
                        let got = u64::from(*points) * u64::from(n);
                        cap.map_or(got, |m| got.min(u64::from(m)))
                    }
                    Award::PerUnit { points, class: c, cap, unit } => {
                        let n = code_units(password, *unit)
                            .iter()
                            .filter(|u| {
                                c.is_none_or(|c| class(&c).is_some_and(|k| k.contains(u.1)))
                            })
                            .count();
                        let got = u64::from(*points) * n as u64;
                        cap.map_or(got, |m| got.min(u64::from(m)))
                    }
                    Award::If { points, predicate } => {
                        if holds(program, predicate, password, ctx) {
                            u64::from(*points)
                        } else {
                            0
                        }
                    }
                })
                .sum();
            total >= u64::from(*min)
        }
        Predicate::Only(c) => count(c) == length(password),
        Predicate::NoneOf(c) => count(c) == 0,
        Predicate::AtLeastOf { n, classes } => {
            classes.iter().filter(|c| count(c) > 0).count() >= *n as usize
        }
        Predicate::Count { class, bounds } => bounds.contains(count(class)),
        Predicate::Regex { pattern, negated, .. } => match PikeVM::new(pattern) {
            Ok(vm) => {
                let mut cache = vm.create_cache();
                vm.is_match(&mut cache, password) != *negated
            }
            Err(_) => false,
        },
        Predicate::MaxRepeat(max) => longest_run(password, |a, b| a == b) <= *max,
        Predicate::MaxKeyboardRun(max) => {
            // From every start, extend while each key is the previous one's right (or left)
            // neighbour on the same row.
            let keys: Vec<Option<(u8, u8)>> = password.chars().map(key_at).collect();
            let next = |a: Option<(u8, u8)>, b: Option<(u8, u8)>, d: i16| match (a, b) {
                (Some((r, x)), Some((q, y))) => r == q && i16::from(y) - i16::from(x) == d,
                _ => false,
            };
            let longest = (0..keys.len())
                .flat_map(|s| {
                    [1i16, -1].map(|d| {
                        let mut e = s + 1;
                        while e < keys.len() && next(keys[e - 1], keys[e], d) {
                            e += 1;
                        }
                        (e - s) as u32
                    })
                })
                .max()
                .unwrap_or(0);
            longest <= *max
        }
        Predicate::MaxSequence(max) => {
            let up = longest_run(password, |a, b| a.checked_add(1) == Some(b));
            let down = longest_run(password, |a, b| a.checked_sub(1) == Some(b));
            up.max(down) <= *max
        }
        Predicate::NotContains(checks) => {
            !checks.iter().any(|c| contains_attribute(c, password, ctx))
        }
        Predicate::NotContainsEitherWay(checks) => {
            // Reversing a value reverses each of its tokens (and their order).
            let mut reversed = Context::new();
            for c in checks {
                for v in ctx.get(c.attribute) {
                    reversed.add(c.attribute, v.chars().rev().collect::<String>());
                }
            }
            !checks.iter().any(|c| {
                contains_attribute(c, password, ctx) || contains_attribute(c, password, &reversed)
            })
        }
        Predicate::NotContainsInBytes { checks, reversed, closer_than } => {
            // Bytes, ASCII letters folded to lower case, each value or token of enough bytes
            // looked for at every position, its bytes backwards too when asked.
            let lower = |b: &u8| if b.is_ascii_uppercase() { b + 32 } else { *b };
            let text: Vec<u8> = password.bytes().map(|b| lower(&b)).collect();
            let found_at = |needle: &[u8]| {
                (0..=text.len()).any(|i| text.get(i..).is_some_and(|rest| rest.starts_with(needle)))
            };
            !checks.iter().any(|c| {
                ctx.get(c.attribute).iter().any(|v| {
                    v.as_bytes()
                        .split(|b| {
                            c.delimiters.iter().any(|d| d.to_string().as_bytes().contains(b))
                        })
                        .filter(|t| !t.is_empty() && t.len() >= c.min_chars as usize)
                        .any(|t| {
                            let forwards: Vec<u8> = t.iter().map(lower).collect();
                            let backwards: Vec<u8> = forwards.iter().rev().copied().collect();
                            let near = |word: &[u8]| {
                                (pwquality_steps(&text, word) as u64) < u64::from(*closer_than)
                            };
                            found_at(&forwards)
                                || near(&forwards)
                                || (*reversed && (found_at(&backwards) || near(&backwards)))
                        })
                })
            })
        }
        Predicate::NotContainsPatterns(c) => {
            // The pattern engine's own reference is glibc (tests/posix.rs); here, the order
            // of tokens and ppm's stop at the first that does not compile.
            let mut tokens = ctx.get(c.attribute).iter().flat_map(|v| {
                let parts: Vec<Vec<u8>> = v
                    .as_bytes()
                    .split(|b| c.delimiters.iter().any(|d| d.to_string().as_bytes().contains(b)))
                    .filter(|t| t.len() >= (c.min_chars as usize).max(1))
                    .map(<[u8]>::to_vec)
                    .collect();
                parts
            });
            loop {
                match tokens.next().map(|t| posix::search(&t, password.as_bytes())) {
                    None | Some(Search::Invalid) => break true,
                    Some(Search::Found | Search::Unsupported) => break false,
                    Some(Search::NotFound) => {}
                }
            }
        }
        Predicate::NotPalindrome { ignore_case } => {
            let text = if *ignore_case { caseless(password) } else { password.to_string() };
            let v: Vec<char> = text.chars().collect();
            !(0..v.len() / 2).all(|i| v[i] == v[v.len() - 1 - i])
        }
        Predicate::Distinct(b) => {
            let set: std::collections::BTreeSet<char> = password.chars().collect();
            b.contains(set.len() as u32)
        }
        Predicate::Measured { unit, measure } => measure_holds(program, *unit, measure, password),
        Predicate::NotEquals(attribute) => {
            ctx.get(*attribute).iter().all(|v| v.as_str() != password)
        }
        Predicate::Avoid { set, mode } => match program.term_sets.get(*set as usize) {
            Some(ts) => !matches_terms(program, ts, *mode, password),
            None => false,
        },
        Predicate::EntraScore { sets, min_points } => {
            let sets: Vec<&TermSet> =
                sets.iter().filter_map(|&i| program.term_sets.get(i as usize)).collect();
            entra_passes(program, &sets, password, ctx, *min_points)
        }
        Predicate::Strength { min_score } => strength(password, ctx) >= *min_score,
        Predicate::NotIn { store } => match program.stores.get(*store as usize) {
            Some(s) => policyc_runtime::store::build::reference_lookup(
                std::path::Path::new(&s.path),
                password,
            )
            .is_ok_and(|found| !found.is_breached()),
            None => false,
        },
    }
}

/// zxcvbn's score as the language reference states it: of the first 16 characters, with every
/// attribute value but `memberOf`, each value's alphanumeric tokens of 3 or more characters,
/// and the tenant name as user inputs.
fn strength(password: &str, ctx: &Context) -> u8 {
    let prefix: String = password.chars().take(16).collect();
    let mut inputs: Vec<String> = Vec::new();
    for attribute in Attribute::ALL.into_iter().filter(|a| *a != Attribute::MemberOf) {
        for value in ctx.get(attribute) {
            inputs.push(value.clone());
            for token in value.split(|c: char| !c.is_alphanumeric()) {
                if token.len() >= 3 {
                    inputs.push(token.to_string());
                }
            }
        }
    }
    inputs.extend(ctx.tenant().map(str::to_string));
    let inputs: Vec<&str> = inputs.iter().map(String::as_str).collect();
    u8::from(zxcvbn::zxcvbn(&prefix, &inputs).score())
}

/// Where a key is on a US keyboard, as (row, column), shift ignored: the layout written out key
/// by key, each key with its shifted character.
fn key_at(c: char) -> Option<(u8, u8)> {
    const ROWS: [&[&str]; 4] = [
        &["`~", "1!", "2@", "3#", "4$", "5%", "6^", "7&", "8*", "9(", "0)", "-_", "=+"],
        &["qQ", "wW", "eE", "rR", "tT", "yY", "uU", "iI", "oO", "pP", "[{", "]}", "\\|"],
        &["aA", "sS", "dD", "fF", "gG", "hH", "jJ", "kK", "lL", ";:", "'\""],
        &["zZ", "xX", "cC", "vV", "bB", "nN", "mM", ",<", ".>", "/?"],
    ];
    for (row, keys) in ROWS.iter().enumerate() {
        for (col, key) in keys.iter().enumerate() {
            if key.contains(c) {
                return Some((row as u8, col as u8));
            }
        }
    }
    None
}

/// Entra Password Protection's normalization as the language reference states it: case folding
/// (the artifact's table), then `0→o`, `1→l`, `$→s`, `@→a`.
fn entra_normalized(program: &Program, text: &str) -> Vec<char> {
    let folding = Normalization::new("entra", vec![NormStep::Lowercase]);
    normalized(program, &folding, text)
        .into_iter()
        .map(|c| match c {
            '0' => 'o',
            '1' => 'l',
            '$' => 's',
            '@' => 'a',
            c => c,
        })
        .collect()
}

/// A normalization's steps, one after the other over the whole text (the validator applies
/// runs of per-character steps in one pass).
fn normalized(program: &Program, norm: &Normalization, text: &str) -> Vec<char> {
    let inside = |ranges: &[(u32, u32)], c: char| {
        ranges.iter().any(|&(lo, hi)| (lo..=hi).contains(&(c as u32)))
    };
    let mut chars: Vec<char> = text.chars().collect();
    for step in &norm.steps {
        chars = match step {
            NormStep::Lowercase => chars
                .iter()
                .map(|&c| {
                    let folded = program.case_folds.iter().find(|p| p.0 == c as u32);
                    folded.and_then(|p| char::from_u32(p.1)).unwrap_or(c.to_ascii_lowercase())
                })
                .collect(),
            NormStep::Substitute(map) => {
                chars.iter().map(|&c| map.iter().find(|m| m.0 == c).map_or(c, |m| m.1)).collect()
            }
            NormStep::Delete(ranges) => chars.into_iter().filter(|&c| !inside(ranges, c)).collect(),
            NormStep::Trim(ranges) => {
                let first = chars.iter().position(|&c| !inside(ranges, c));
                let last = chars.iter().rposition(|&c| !inside(ranges, c));
                match (first, last) {
                    (Some(a), Some(b)) => chars.get(a..=b).unwrap_or_default().to_vec(),
                    _ => Vec::new(),
                }
            }
        };
    }
    chars
}

/// Whether `a` and `b` are at most one edit apart: past their first difference, the rest must
/// be equal after skipping one character of the longer (or one of each, if equally long).
fn within_one_edit(a: &[char], b: &[char]) -> bool {
    let (long, short) = if a.len() >= b.len() { (a, b) } else { (b, a) };
    if long.len() - short.len() > 1 {
        return false;
    }
    match long.iter().zip(short).position(|(x, y)| x != y) {
        None => true,
        Some(i) if long.len() == short.len() => long[i + 1..] == short[i + 1..],
        Some(i) => long[i + 1..] == short[i..],
    }
}

/// Edits between a substring and a term, if it is a match: exact only for short terms.
fn term_edits(sub: &[char], term: &[char], fuzzy: bool) -> Option<u8> {
    if sub == term {
        Some(0)
    } else if fuzzy
        && term.len() >= FUZZY_MIN_CHARS as usize
        && !sub.is_empty()
        && within_one_edit(sub, term)
    {
        Some(1)
    } else {
        None
    }
}

fn matches_terms(program: &Program, ts: &TermSet, mode: MatchMode, password: &str) -> bool {
    let p = normalized(program, &ts.normalization, password);
    ts.terms().any(|t| {
        let t: Vec<char> = t.chars().collect();
        match mode {
            MatchMode::Exact => p == t,
            MatchMode::Contains => p.windows(t.len().max(1)).any(|w| w == t.as_slice()),
            MatchMode::Fuzzy => (0..p.len()).any(|i| {
                // Substrings within one character of the term's length.
                let lo = (i + t.len()).saturating_sub(1).max(i + 1);
                let hi = (i + t.len() + 1).min(p.len());
                (lo..=hi).any(|j| term_edits(&p[i..j], &t, true).is_some())
            }),
        }
    })
}

fn entra_passes(
    program: &Program,
    sets: &[&TermSet],
    password: &str,
    ctx: &Context,
    min: u32,
) -> bool {
    let p = entra_normalized(program, password);
    let has = |needle: &[char]| needle.len() >= 4 && p.windows(needle.len()).any(|w| w == needle);
    for a in [Attribute::GivenName, Attribute::Surname] {
        if ctx.get(a).iter().any(|name| has(&entra_normalized(program, name))) {
            return false;
        }
    }
    let tenant: Vec<char> = ctx.tenant().map(|t| entra_normalized(program, t)).unwrap_or_default();
    // Terms by length: a substring is only compared with terms within one character of its length.
    let mut by_len: std::collections::HashMap<usize, Vec<Vec<char>>> =
        std::collections::HashMap::new();
    for t in sets.iter().flat_map(|s| s.terms()) {
        let t: Vec<char> = t.chars().collect();
        by_len.entry(t.len()).or_default().push(t);
    }
    let longest = by_len.keys().copied().max().unwrap_or(0).max(tenant.len()) + 1;
    // Whether p[i..j] is a candidate: within one edit of a term (not an exact match of that
    // term plus a character beside it), or the tenant name.
    let candidate = |sub: &[char]| {
        let near =
            (sub.len().saturating_sub(1)..=sub.len() + 1).filter_map(|n| by_len.get(&n)).flatten();
        let beside = |t: &Vec<char>| sub.len() > t.len() && sub.windows(t.len()).any(|w| w == t);
        near.into_iter().any(|t| term_edits(sub, t, true).is_some() && !beside(t))
            || (tenant.len() >= 4 && sub == tenant.as_slice())
    };
    // Every candidate, grouped by its text: the same banned text found twice is one point,
    // and once it is chosen all its occurrences cover the password.
    let n = p.len();
    let mut groups: Vec<(&[char], Vec<bool>)> = Vec::new();
    for s in 0..n {
        for e in s + 1..=n.min(s + longest) {
            if candidate(&p[s..e]) {
                let k = match groups.iter().position(|g| g.0 == &p[s..e]) {
                    Some(k) => k,
                    None => {
                        groups.push((&p[s..e], vec![false; n]));
                        groups.len() - 1
                    }
                };
                groups[k].1[s..e].iter_mut().for_each(|c| *c = true);
            }
        }
    }
    // Refused if some set of fewer than `min` texts leaves so few distinct characters
    // uncovered that the points stay under `min`.
    fn under(
        groups: &[(&[char], Vec<bool>)],
        p: &[char],
        from: usize,
        chosen: &mut Vec<usize>,
        min: u32,
    ) -> bool {
        let uncovered: std::collections::BTreeSet<char> = (0..p.len())
            .filter(|&i| !chosen.iter().any(|&g| groups[g].1[i]))
            .map(|i| p[i])
            .collect();
        if (chosen.len() + uncovered.len()) < min as usize {
            return true;
        }
        if chosen.len() + 1 >= min as usize {
            return false;
        }
        (from..groups.len()).any(|g| {
            chosen.push(g);
            let found = under(groups, p, g + 1, chosen, min);
            chosen.pop();
            found
        })
    }
    !under(&groups, &p, 0, &mut Vec::new(), min)
}

/// Length of the longest run of characters where each follows the previous by `next`.
fn longest_run(password: &str, next: impl Fn(u32, u32) -> bool) -> u32 {
    let units: Vec<(u32, char)> = code_units(password, Unit::Characters);
    longest_unit_run(&units, next)
}

/// Length of the longest run of code units where each follows the previous by `next`.
fn longest_unit_run(units: &[(u32, char)], next: impl Fn(u32, u32) -> bool) -> u32 {
    let chars: Vec<u32> = units.iter().map(|u| u.0).collect();
    let mut best = 0;
    for start in 0..chars.len() {
        let mut len = 1;
        while start + len < chars.len() && next(chars[start + len - 1], chars[start + len]) {
            len += 1;
        }
        best = best.max(len as u32);
    }
    best
}

/// The password's code units in `unit`, each with the character it belongs to.
fn code_units(password: &str, unit: Unit) -> Vec<(u32, char)> {
    password
        .chars()
        .flat_map(|c| {
            let units: Vec<u32> = match unit {
                Unit::Characters => vec![c as u32],
                Unit::Bytes => c.to_string().bytes().map(u32::from).collect(),
                Unit::Utf16 => c.to_string().encode_utf16().map(u32::from).collect(),
            };
            units.into_iter().map(move |u| (u, c))
        })
        .collect()
}

/// A [`Predicate::Measured`] measure, from the list of code units.
fn measure_holds(program: &Program, unit: Unit, measure: &Measure, password: &str) -> bool {
    let units = code_units(password, unit);
    let in_class = |id: &policyc_runtime::ir::ClassId, c: char| {
        program.classes.get(id.0 as usize).is_some_and(|k| k.contains(c))
    };
    match measure {
        Measure::Count { class, bounds } => {
            bounds.contains(units.iter().filter(|u| in_class(class, u.1)).count() as u32)
        }
        Measure::MaxRepeat(max) => longest_unit_run(&units, |a, b| a == b) <= *max,
        Measure::MaxSequence(max) => {
            let up = longest_unit_run(&units, |a, b| a.checked_add(1) == Some(b));
            let down = longest_unit_run(&units, |a, b| a.checked_sub(1) == Some(b));
            up.max(down) <= *max
        }
        Measure::Distinct(bounds) => {
            let set: std::collections::BTreeSet<u32> = units.iter().map(|u| u.0).collect();
            bounds.contains(set.len() as u32)
        }
        Measure::MaxRun { class, max } => {
            // From every start, the stretch of units whose characters are in the class.
            let longest = (0..units.len())
                .map(|s| units[s..].iter().take_while(|u| in_class(class, u.1)).count())
                .max()
                .unwrap_or(0);
            longest as u32 <= *max
        }
    }
}

fn contains_attribute(check: &Containment, password: &str, ctx: &Context) -> bool {
    let long = |t: &str| t.encode_utf16().count() >= check.min_chars.max(1) as usize;
    let password = caseless(password);
    ctx.get(check.attribute).iter().any(|value| {
        let mut tokens: Vec<&str> = if check.delimiters.is_empty() {
            vec![value.as_str()]
        } else {
            value.split(|c| check.delimiters.contains(&c)).filter(|t| long(t)).collect()
        };
        if tokens.is_empty() {
            tokens.push(value);
        }
        tokens.into_iter().any(|t| long(t) && password.contains(&caseless(t)))
    })
}

/// Text as attribute containment compares it: `İ` and `i` + COMBINING DOT ABOVE become `i`,
/// then the whole text is upper-cased and lower-cased again until nothing changes.
fn caseless(text: &str) -> String {
    let mut now = text.replace('İ', "i").replace("i\u{307}", "i");
    loop {
        let next: String =
            now.chars().flat_map(char::to_uppercase).flat_map(char::to_lowercase).collect();
        if next == now {
            return now.replace("i\u{307}", "i");
        }
        now = next;
    }
}

fn same_text(a: &str, b: &str) -> bool {
    matches_ignoring_case(&format!("^{}$", regex_syntax::escape(b)), a)
}

/// Whether two distinguished names are the same: both split into their parts, compared part by
/// part ignoring case.
fn same_dn(a: &str, b: &str) -> bool {
    let (a, b) = (dn_parts(a), dn_parts(b));
    a.len() == b.len() && a.iter().zip(&b).all(|((sa, ta), (sb, tb))| sa == sb && same_text(ta, tb))
}

/// A distinguished name as `(separator before, text)` parts, split at unescaped `,` `;` `+`
/// `=` (`;` read as `,`), escapes decoded, unescaped spaces at either end of a part dropped.
fn dn_parts(dn: &str) -> Vec<(char, String)> {
    // Each character with whether it was escaped.
    let mut chars: Vec<(char, bool)> = Vec::new();
    let mut parts = Vec::new();
    let mut separator = '^';
    let mut finish = |chars: &mut Vec<(char, bool)>, separator: char| {
        while chars.last().is_some_and(|&(c, escaped)| c == ' ' && !escaped) {
            chars.pop();
        }
        let start =
            chars.iter().position(|&(c, escaped)| c != ' ' || escaped).unwrap_or(chars.len());
        parts.push((separator, chars.drain(..).skip(start).map(|(c, _)| c).collect::<String>()));
    };
    let mut rest = dn.chars().peekable();
    while let Some(c) = rest.next() {
        match c {
            ',' | ';' | '+' | '=' => {
                finish(&mut chars, separator);
                separator = if c == ';' { ',' } else { c };
            }
            '\\' => {
                // A run of `\HH` escapes is one UTF-8 byte string; `\c` is the character c.
                let mut bytes = Vec::new();
                loop {
                    let mut look = rest.clone();
                    if !bytes.is_empty() && look.next() != Some('\\') {
                        break;
                    }
                    match (
                        look.next().and_then(|h| h.to_digit(16)),
                        look.next().and_then(|l| l.to_digit(16)),
                    ) {
                        (Some(h), Some(l)) => {
                            bytes.push((h * 16 + l) as u8);
                            rest = look;
                        }
                        _ => break,
                    }
                }
                if bytes.is_empty() {
                    chars.push((rest.next().unwrap_or('\\'), true));
                } else {
                    chars.extend(String::from_utf8_lossy(&bytes).chars().map(|c| (c, true)));
                }
            }
            c => chars.push((c, false)),
        }
    }
    finish(&mut chars, separator);
    parts
}

fn matches_ignoring_case(pattern: &str, haystack: &str) -> bool {
    match PikeVM::new(&format!("(?i){pattern}")) {
        Ok(vm) => {
            let mut cache = vm.create_cache();
            vm.is_match(&mut cache, haystack)
        }
        Err(_) => false,
    }
}

/// libpwquality's `distance` as its `check.c` computes it, from the far corner back with a
/// memo (independent of the runtime's two rows): a step where the two bytes differ, moving on
/// in either text or both for free otherwise. Both texts are already lower-cased.
fn pwquality_steps(a: &[u8], b: &[u8]) -> usize {
    fn at(memo: &mut Vec<Vec<Option<usize>>>, a: &[u8], b: &[u8], i: usize, j: usize) -> usize {
        if i == 0 || j == 0 {
            return i + j;
        }
        if let Some(d) = memo[i][j] {
            return d;
        }
        let best = at(memo, a, b, i - 1, j - 1).min(at(memo, a, b, i, j - 1)).min(at(
            memo,
            a,
            b,
            i - 1,
            j,
        ));
        let d = best + usize::from(a[i - 1] != b[j - 1]);
        memo[i][j] = Some(d);
        d
    }
    let mut memo = vec![vec![None; b.len() + 1]; a.len() + 1];
    at(&mut memo, a, b, a.len(), b.len())
}
