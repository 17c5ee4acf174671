//! Text → [`ast::File`], with the pest grammar in `grammar/policy.pest`.
//!
//! Syntax errors become [`Diagnostic`]s that say what was expected; numbers that do not fit and
//! malformed escapes are reported here too, all at once where the grammar allows.

use super::ast::{
    self, Bound, ClassDef, CmpOp, Comment, Condition, DropRule, File, Ident, Item, Policy,
    Predicate, SetExpr, SetItem, SetLiteral, SetOp, SeverityKw, Spanned, When,
};
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::span::{FileId, Span};
use pest::Parser as _;
use pest::error::{ErrorVariant, InputLocation};
use pest::iterators::Pair;

#[derive(pest_derive::Parser)]
#[grammar = "../../../grammar/policy.pest"]
struct PolicyParser;

/// Deepest nesting of `(` and `{` a policy may have: far beyond any real policy, far below what
/// would exhaust the parser's stack (5,000 parentheses or 4,000 `when` blocks did).
pub const MAX_NESTING: usize = 256;

/// Where the nesting of `(` and `{` outside strings, regexes, character sets and comments first
/// exceeds [`MAX_NESTING`], if it does. A plain scan, before the (recursive) parser runs.
fn too_deep(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut chars = text.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '(' | '{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(i);
                }
            }
            ')' | '}' => depth = depth.saturating_sub(1),
            '#' => {
                chars.by_ref().find(|&(_, c)| c == '\n');
            }
            '"' | '/' | '[' => {
                let close = if c == '[' { ']' } else { c };
                while let Some((_, c)) = chars.next() {
                    match c {
                        '\\' => {
                            chars.next();
                        }
                        '\n' if close != ']' => break,
                        c if c == close => break,
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    None
}

/// Parses one file; any diagnostic is an error.
pub fn parse(text: &str, file: FileId) -> Result<File, Diagnostics> {
    match parse_recovering(text, file) {
        (Some(f), d) if !d.has_errors() => Ok(f),
        (_, d) => Err(d),
    }
}

/// Parses one file. A grammar error yields no tree; errors inside well-formed tokens (bad
/// escapes, numbers too large) are reported beside the tree, so that later checks can report
/// theirs too.
pub fn parse_recovering(text: &str, file: FileId) -> (Option<File>, Diagnostics) {
    if let Some(at) = too_deep(text) {
        let message = format!("nesting deeper than {MAX_NESTING} levels");
        let label = "parentheses, braces and `when` blocks nest this deep here";
        return (None, Diagnostic::error(message, Span::new(file, at, at + 1), label).into());
    }
    // Bounds the parser's work on hostile input; a real policy needs a tiny fraction of it.
    pest::set_call_limit(std::num::NonZeroUsize::new(50_000_000));
    let mut pairs = match PolicyParser::parse(Rule::file, text) {
        Ok(p) => p,
        Err(e) => {
            let (mut diags, recovered) = syntax_errors(&e, file, text);
            // Only rules were blanked out: the rest is checked too, so that a syntax error
            // does not hide every other error (nothing refers to a rule by what it says).
            let Some(work) = recovered else { return (None, diags) };
            let (tree, more) = parse_recovering(&work, file);
            diags.extend(more);
            return (tree, diags);
        }
    };
    let Some(root) = pairs.next() else {
        return (None, Diagnostic::global("empty parse tree").into());
    };
    let comments: Vec<Comment> = root
        .clone()
        .into_inner()
        .flatten()
        .filter(|p| p.as_rule() == Rule::COMMENT)
        .map(|p| {
            let s = p.as_span();
            Comment {
                text: p.as_str().trim_end().to_string(),
                span: Span::new(file, s.start(), s.end()),
            }
        })
        .collect();
    let comment_ranges =
        comments.iter().map(|c| (c.span.start, c.span.start + c.text.len())).collect();
    let mut b = Builder { file, text, comments: comment_ranges, diags: Diagnostics::new() };
    let mut out = File { imports: Vec::new(), policies: Vec::new(), comments };
    for p in inner(root) {
        match p.as_rule() {
            Rule::import => {
                if let Some(s) = inner(p).find(|p| p.as_rule() == Rule::string) {
                    out.imports.push(b.string(s));
                }
            }
            Rule::policy => out.policies.push(b.policy(p)),
            _ => {}
        }
    }
    (Some(out), b.diags)
}

/// The children of a pair, without comments.
fn inner(p: Pair<'_, Rule>) -> impl Iterator<Item = Pair<'_, Rule>> {
    p.into_inner().filter(|p| p.as_rule() != Rule::COMMENT && p.as_rule() != Rule::EOI)
}

/// The children that are not keywords.
fn parts(p: Pair<'_, Rule>) -> Vec<Pair<'_, Rule>> {
    inner(p).filter(|p| !is_keyword(p.as_rule())).collect()
}

/// Keywords and punctuation: syntax that carries no value of its own.
fn is_keyword(r: Rule) -> bool {
    keyword_text(r).is_some()
        || matches!(
            r,
            Rule::lbrace
                | Rule::rbrace
                | Rule::lparen
                | Rule::rparen
                | Rule::colon
                | Rule::comma
                | Rule::equals
                | Rule::lbracket
                | Rule::rbracket
                | Rule::arrow
        )
}

/// The text of a keyword rule, or `None` for other rules.
fn keyword_text(r: Rule) -> Option<&'static str> {
    Some(match r {
        Rule::kw_import => "import",
        Rule::kw_policy => "policy",
        Rule::kw_extends => "extends",
        Rule::kw_description => "description",
        Rule::kw_reference => "reference",
        Rule::kw_class => "class",
        Rule::kw_drop => "drop",
        Rule::kw_override => "override",
        Rule::kw_rule => "rule",
        Rule::kw_enforce => "enforce",
        Rule::kw_audit => "audit",
        Rule::kw_when => "when",
        Rule::kw_and => "and",
        Rule::kw_has => "has",
        Rule::kw_length => "length",
        Rule::kw_only => "only",
        Rule::kw_no => "no",
        Rule::kw_at => "at",
        Rule::kw_least => "least",
        Rule::kw_of => "of",
        Rule::kw_count => "count",
        Rule::kw_not => "not",
        Rule::kw_matches => "matches",
        Rule::kw_longest => "longest",
        Rule::kw_repeat => "repeat",
        Rule::kw_sequence => "sequence",
        Rule::kw_contains => "contains",
        Rule::kw_ad_names => "ad_names",
        Rule::kw_split => "split",
        Rule::kw_on => "on",
        Rule::kw_skip => "skip",
        Rule::kw_shorter => "shorter",
        Rule::kw_than => "than",
        Rule::kw_between => "between",
        Rule::kw_terms => "terms",
        Rule::kw_store => "store",
        Rule::kw_in => "in",
        Rule::kw_file => "file",
        Rule::kw_with => "with",
        Rule::kw_entra => "entra",
        Rule::kw_limits => "limits",
        Rule::kw_normalization => "normalization",
        Rule::kw_lowercase => "lowercase",
        Rule::kw_then => "then",
        Rule::kw_delete => "delete",
        Rule::kw_trim => "trim",
        Rule::kw_avoid => "avoid",
        Rule::kw_exact => "exact",
        Rule::kw_fuzzy => "fuzzy",
        Rule::kw_after => "after",
        Rule::kw_score => "score",
        Rule::kw_using => "using",
        Rule::kw_strength => "strength",
        Rule::kw_palindrome => "palindrome",
        Rule::kw_distinct => "distinct",
        Rule::kw_equals => "equals",
        Rule::kw_or => "or",
        Rule::kw_reversed => "reversed",
        Rule::kw_closer => "closer",
        Rule::kw_as => "as",
        Rule::kw_patterns => "patterns",
        Rule::kw_ignoring => "ignoring",
        Rule::kw_case => "case",
        Rule::kw_bytes => "bytes",
        Rule::kw_utf16 => "utf16",
        Rule::kw_units => "units",
        Rule::kw_except => "except",
        Rule::kw_start => "start",
        Rule::kw_end => "end",
        Rule::kw_points => "points",
        Rule::kw_from => "from",
        Rule::kw_per => "per",
        Rule::kw_character => "character",
        Rule::kw_up => "up",
        Rule::kw_to => "to",
        Rule::kw_if => "if",
        Rule::kw_keyboard => "keyboard",
        Rule::kw_run => "run",
        _ => return None,
    })
}

/// How a grammar rule is named in "expected ..." messages.
fn describe(r: Rule) -> String {
    if let Some(k) = keyword_text(r) {
        return format!("`{k}`");
    }
    match r {
        Rule::EOI => "end of file",
        Rule::lbrace => "`{`",
        Rule::rbrace => "`}`",
        Rule::lparen => "`(`",
        Rule::rparen => "`)`",
        Rule::colon => "`:`",
        Rule::comma => "`,`",
        Rule::equals => "`=`",
        Rule::lbracket => "`[`",
        Rule::rbracket => "`]`",
        Rule::arrow => "`->`",
        Rule::terms_def => "`terms`",
        Rule::store_def => "`store`",
        Rule::normalization_def => "`normalization`",
        Rule::terms_file => "`file`",
        Rule::terms_inline => "`[`",
        Rule::entra_limits => "`with entra limits`",
        Rule::match_mode => "`exact`, `contains` or `fuzzy`",
        Rule::mapping | Rule::mappings => "a mapping (`\"a\" -> \"b\"`)",
        Rule::norm_lowercase => "`lowercase`",
        Rule::norm_delete => "`delete`",
        Rule::norm_trim => "`trim`",
        Rule::ident => "a name",
        Rule::number => "a number",
        Rule::string | Rule::string_inner => "a quoted string",
        Rule::regex | Rule::regex_body => "a regular expression `/.../`",
        Rule::cmp_op => "a comparison (`<`, `<=`, `==`, `>=`, `>`)",
        Rule::set_expr | Rule::set_literal | Rule::set_group => "a character set",
        Rule::set_op => "a set operator (`|`, `-`, `&`)",
        Rule::set_char | Rule::set_range | Rule::set_property => "a character",
        Rule::property_name => "a Unicode property name",
        Rule::escape => "an escape (`\\t`, `\\n`, `\\s`, `\\u{...}` or `\\` before punctuation)",
        Rule::attribute => "a user attribute (`user.NAME`)",
        Rule::policy => "`policy`",
        Rule::import => "`import`",
        Rule::severity => "`enforce` or `audit`",
        Rule::rule => "a rule",
        Rule::description => "`description`",
        Rule::reference => "`reference`",
        Rule::class_def => "`class`",
        Rule::drop => "`drop`",
        Rule::override_rule => "`override`",
        Rule::when => "`when`",
        Rule::condition | Rule::cond_length | Rule::cond_has => "a condition",
        Rule::between | Rule::compare => "a bound (`>= N` or `between A and B`)",
        Rule::negation => "`not`",
        Rule::split_on => "`split`",
        Rule::skip_shorter => "`skip`",
        Rule::or_reversed => "`or reversed`",
        Rule::ignoring_case => "`ignoring case`",
        Rule::unit_in => "`in bytes` or `in utf16 units`",
        Rule::except_at => "`except at start` or `except at end`",
        Rule::up_to => "`up to`",
        Rule::award_per | Rule::award_if => "points (`N per SET` or `N if PREDICATE`)",
        Rule::pred_expr | Rule::pred_conj => {
            "a predicate (`length`, `only`, `no`, `at least`, `count`, `matches`, `longest`, `not`, `avoid`, `entra`, `strength`, `distinct`, `points` or `(`)"
        }
        Rule::pred_group => "`(`",
        Rule::at_least_parts => "a list of predicates",
        Rule::at_least_sets => "a list of character sets",
        Rule::pred_length
        | Rule::pred_only
        | Rule::pred_no
        | Rule::pred_at_least
        | Rule::pred_count
        | Rule::pred_matches
        | Rule::pred_repeat
        | Rule::pred_sequence
        | Rule::pred_run
        | Rule::pred_not_contains
        | Rule::pred_avoid
        | Rule::pred_entra
        | Rule::pred_strength
        | Rule::pred_not_in
        | Rule::pred_palindrome
        | Rule::pred_distinct
        | Rule::pred_not_equals
        | Rule::pred_points
        | Rule::pred_keyboard => "a predicate",
        _ => "something else",
    }
    .to_string()
}

/// `a`, `a or b`, `a, b or c`.
fn one_of(mut items: Vec<String>) -> String {
    items.dedup();
    match items.len() {
        0 => "something else".to_string(),
        1 => items.remove(0),
        n => format!("{} or {}", items[..n - 1].join(", "), items[n - 1]),
    }
}

/// At most this many syntax errors are reported for one file.
const MAX_SYNTAX_ERRORS: usize = 10;

/// Item keywords: a line starting with one of these starts a new item, where parsing resumes
/// after a syntax error.
const ITEM_STARTS: &[&str] = &[
    "rule ",
    "audit ",
    "enforce ",
    "override ",
    "drop ",
    "class ",
    "when ",
    "description ",
    "reference ",
    "terms ",
    "store ",
    "}",
];

/// The items a syntax error may blank out and still leave the rest worth checking.
const RULE_STARTS: &[&str] = &["rule ", "audit ", "enforce "];

/// The first syntax error, then the next ones: the item that failed is blanked out (with
/// spaces, so offsets stay valid) and the file parsed again, as long as the blanked text holds
/// no brace (which would make the errors that follow spurious). With the text that then parses,
/// when every item blanked was a rule.
fn syntax_errors(
    first: &pest::error::Error<Rule>,
    file: FileId,
    text: &str,
) -> (Diagnostics, Option<String>) {
    let mut diags = Diagnostics::new();
    diags.push(syntax_error(first, file, text));
    let mut work = text.to_string();
    let mut pos = error_pos(first);
    let mut only_rules = true;
    while diags.iter().count() < MAX_SYNTAX_ERRORS {
        let Some(item) = blank_item(&mut work, pos) else { break };
        only_rules &= RULE_STARTS.iter().any(|k| item.starts_with(k));
        match PolicyParser::parse(Rule::file, &work) {
            Ok(_) => return (diags, only_rules.then_some(work)),
            Err(e) => {
                let next = error_pos(&e);
                if next <= pos {
                    break;
                }
                diags.push(syntax_error(&e, file, &work));
                pos = next;
            }
        }
    }
    (diags, None)
}

/// Replaces the item around `pos` with spaces, from the start of its line to the next line that
/// starts an item, and returns its first line. An error at the very start of an item is the
/// previous item's (it ended too early): that one is blanked. `None` when that is not safe or
/// not possible.
fn blank_item(work: &mut String, pos: usize) -> Option<String> {
    let before = work.get(..pos)?;
    let mut start = before.rfind('\n').map_or(0, |i| i + 1);
    let at_item_start = before.get(start..).is_some_and(|b| b.trim().is_empty())
        && work.get(pos..).is_some_and(|r| ITEM_STARTS.iter().any(|k| r.starts_with(k)));
    let mut end = work.len();
    if at_item_start {
        // Back to the line that starts the previous item.
        end = start;
        let mut line_start = start;
        loop {
            let Some(prev) = work.get(..line_start.checked_sub(1)?)?.rfind('\n') else {
                line_start = 0;
                break;
            };
            line_start = prev + 1;
            let line = work.get(line_start..).unwrap_or("").trim_start();
            if ITEM_STARTS.iter().any(|k| line.starts_with(k)) {
                break;
            }
        }
        start = line_start;
    } else {
        let mut offset = work.get(pos..).and_then(|r| r.find('\n')).map(|i| pos + i + 1);
        while let Some(line_start) = offset {
            let line = work.get(line_start..).unwrap_or("");
            if ITEM_STARTS.iter().any(|k| line.trim_start().starts_with(k)) {
                end = line_start;
                break;
            }
            offset = line.find('\n').map(|i| line_start + i + 1);
        }
    }
    let region = work.get(start..end)?;
    if end <= start || end == work.len() || region.contains(['{', '}']) {
        return None;
    }
    let first_line = region.trim_start().lines().next().unwrap_or("").to_string();
    let blanked: String = region
        .chars()
        .flat_map(|c| {
            let n = if c == '\n' { 0 } else { c.len_utf8() };
            std::iter::repeat_n(' ', n).chain((c == '\n').then_some('\n'))
        })
        .collect();
    work.replace_range(start..end, &blanked);
    Some(first_line)
}

fn error_pos(e: &pest::error::Error<Rule>) -> usize {
    match e.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    }
}

fn syntax_error(e: &pest::error::Error<Rule>, file: FileId, text: &str) -> Diagnostic {
    let pos = error_pos(e);
    let rest = text.get(pos..).unwrap_or("");
    let word: String =
        rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').take(24).collect();
    let span = Span::new(file, pos, pos + word.len());
    let found = match rest.chars().next() {
        None => "end of file".to_string(),
        Some('\n') | Some('\r') => "end of line".to_string(),
        Some(c) if word.is_empty() && c.is_control() => format!("`{}`", c.escape_default()),
        Some(c) if word.is_empty() => format!("`{c}`"),
        Some(_) => format!("`{word}`"),
    };
    if unterminated_string(rest) {
        return Diagnostic::error(
            "unterminated string",
            Span::new(file, pos, pos + 1),
            "this string is not closed on its line",
        )
        .with_help("close it with `\"`; write `\\\"` for a quote inside a string");
    }
    match &e.variant {
        ErrorVariant::ParsingError { positives, .. } => {
            let mut expected: Vec<String> = positives
                .iter()
                .filter(|r| !matches!(r, Rule::COMMENT | Rule::WHITESPACE))
                .map(|r| describe(*r))
                .collect();
            expected.sort();
            let expected = one_of(expected);
            // At the end of file the caret would point at nothing: point at what is open.
            if rest.trim().is_empty()
                && let Some(brace) = unclosed_brace(text)
            {
                return Diagnostic::error(
                    format!(
                        "syntax error: unclosed `{{`: expected {expected} before the end of file"
                    ),
                    Span::new(file, brace, brace + 1),
                    "this `{` is never closed",
                )
                .with_help("close it with `}`");
            }
            Diagnostic::error(
                format!("syntax error: expected {expected}, found {found}"),
                span,
                format!("expected {expected}"),
            )
        }
        ErrorVariant::CustomError { message } => {
            Diagnostic::error(format!("syntax error: {message}"), span, "here")
        }
    }
}

/// The byte offset of the innermost `{` that is never closed, outside strings and comments.
fn unclosed_brace(text: &str) -> Option<usize> {
    let mut open = Vec::new();
    let mut chars = text.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '{' => open.push(i),
            '}' => {
                open.pop();
            }
            '#' => {
                for (_, c) in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            '"' => {
                let mut escaped = false;
                for (_, c) in chars.by_ref() {
                    match c {
                        '"' if !escaped => break,
                        '\\' => escaped = !escaped,
                        '\n' => break,
                        _ => escaped = false,
                    }
                }
            }
            _ => {}
        }
    }
    open.pop()
}

/// Whether `rest` starts with a string that is not closed on its line (a closed string where
/// the grammar wanted something else is an ordinary syntax error).
fn unterminated_string(rest: &str) -> bool {
    let Some(body) = rest.strip_prefix('"') else { return false };
    let mut escaped = false;
    for c in body.chars() {
        match c {
            '\n' | '\r' => return true,
            '"' if !escaped => return false,
            '\\' => escaped = !escaped,
            _ => escaped = false,
        }
    }
    true
}

/// Decodes the escape at the start of `s` (which begins with `\\`): the character and how many
/// characters of `s` it used.
pub(crate) fn decode_escape(s: &str) -> Option<(char, usize)> {
    let mut it = s.chars();
    if it.next() != Some('\\') {
        return None;
    }
    let c = it.next()?;
    Some(match c {
        't' => ('\t', 2),
        'n' => ('\n', 2),
        'r' => ('\r', 2),
        's' => (' ', 2),
        'u' => {
            let rest = s.get(2..)?;
            let close = rest.find('}')?;
            let hex = rest.get(1..close)?;
            if !rest.starts_with('{') || hex.is_empty() || hex.len() > 6 {
                return None;
            }
            let v = u32::from_str_radix(hex, 16).ok()?;
            (char::from_u32(v)?, 3 + close)
        }
        c if c.is_ascii_punctuation() => (c, 2),
        _ => return None,
    })
}

struct Builder<'a> {
    file: FileId,
    text: &'a str,
    /// Byte ranges of the comments, to keep them out of node spans.
    comments: Vec<(usize, usize)>,
    diags: Diagnostics,
}

impl<'a> Builder<'a> {
    /// A node's span, without the whitespace and comments pest leaves at the end of rules that
    /// end in a repetition.
    fn span(&self, p: &Pair<'_, Rule>) -> Span {
        let s = p.as_span();
        let mut end = s.end();
        loop {
            let trimmed = self.text.get(s.start()..end).unwrap_or("").trim_end();
            end = s.start() + trimmed.len();
            match self.comments.iter().find(|c| c.1 == end && c.0 >= s.start()) {
                Some(c) => end = c.0,
                None => break,
            }
        }
        Span::new(self.file, s.start(), end)
    }

    fn ident(&self, p: Pair<'_, Rule>) -> Ident {
        Spanned { value: p.as_str().to_string(), span: self.span(&p) }
    }

    fn number(&mut self, p: Pair<'_, Rule>) -> Spanned<u64> {
        let span = self.span(&p);
        let value = p.as_str().parse::<u64>().unwrap_or_else(|_| {
            self.diags.push(Diagnostic::error(
                format!("number `{}` is too large", p.as_str()),
                span,
                "too large",
            ));
            0
        });
        Spanned { value, span }
    }

    /// Decodes the escapes of `raw`, which starts at byte `offset` of the file.
    fn unescape(&mut self, raw: &str, offset: usize) -> String {
        let mut value = String::new();
        let mut rest = raw;
        let mut at = offset;
        while let Some(c) = rest.chars().next() {
            let used = if c == '\\' {
                match decode_escape(rest) {
                    Some((decoded, n)) => {
                        value.push(decoded);
                        rest.char_indices().nth(n).map_or(rest.len(), |(i, _)| i)
                    }
                    None => {
                        // Keep the escaped character, so that one error does not cause others.
                        value.extend(rest.chars().nth(1));
                        let len = rest.chars().take(2).map(char::len_utf8).sum();
                        self.diags.push(
                            Diagnostic::error(
                                "invalid escape",
                                Span::new(self.file, at, at + len),
                                "not a known escape",
                            )
                            .with_help("escapes are `\\t`, `\\n`, `\\r`, `\\s` (space), `\\u{HEX}`, or `\\` before punctuation"),
                        );
                        len
                    }
                }
            } else {
                value.push(c);
                c.len_utf8()
            };
            rest = rest.get(used..).unwrap_or("");
            at += used;
        }
        value
    }

    fn string(&mut self, p: Pair<'_, Rule>) -> Spanned<String> {
        let span = self.span(&p);
        let raw = self.text.get(span.start + 1..span.end.saturating_sub(1)).unwrap_or("");
        let value = self.unescape(raw, span.start + 1);
        Spanned { value, span }
    }

    fn policy(&mut self, p: Pair<'_, Rule>) -> Policy {
        let span = self.span(&p);
        let mut name = None;
        let mut extends = None;
        let mut items = Vec::new();
        for c in parts(p) {
            match c.as_rule() {
                Rule::ident => name = Some(self.ident(c)),
                Rule::extends => extends = parts(c).into_iter().next().map(|i| self.ident(i)),
                _ => items.extend(self.item(c)),
            }
        }
        let name = name.unwrap_or(Spanned { value: String::new(), span });
        Policy { name, extends, items, span }
    }

    fn item(&mut self, p: Pair<'_, Rule>) -> Option<Item> {
        let span = self.span(&p);
        Some(match p.as_rule() {
            Rule::description => Item::Description(self.first_string(p)?),
            Rule::reference => Item::Reference(self.first_string(p)?),
            Rule::class_def => {
                let mut it = parts(p).into_iter();
                let name = self.ident(it.next()?);
                let set = self.set_expr(it.next()?)?;
                Item::Class(ClassDef { name, set, span })
            }
            Rule::drop => {
                Item::Drop(DropRule { id: self.ident(parts(p).into_iter().next()?), span })
            }
            Rule::override_rule => Item::Override(self.rule(parts(p).into_iter().next()?)?),
            Rule::rule => Item::Rule(self.rule(p)?),
            Rule::terms_def => {
                let mut name = None;
                let mut source = None;
                let mut entra_limits = false;
                for c in parts(p) {
                    match c.as_rule() {
                        Rule::ident => name = Some(self.ident(c)),
                        Rule::terms_file => {
                            let s = parts(c).into_iter().next()?;
                            source = Some(ast::TermsSource::File(self.string(s)));
                        }
                        Rule::terms_inline => {
                            let terms = parts(c).into_iter().map(|s| self.string(s)).collect();
                            source = Some(ast::TermsSource::Inline(terms));
                        }
                        Rule::entra_limits => entra_limits = true,
                        _ => {}
                    }
                }
                Item::Terms(ast::TermsDef { name: name?, source: source?, entra_limits, span })
            }
            Rule::store_def => {
                let mut it = parts(p).into_iter();
                let name = self.ident(it.next()?);
                let path = self.string(it.next()?);
                Item::Store(ast::StoreDef { name, path, span })
            }
            Rule::normalization_def => {
                let mut it = parts(p).into_iter();
                let name = self.ident(it.next()?);
                let mut steps = Vec::new();
                for step in it {
                    let at = self.span(&step);
                    steps.push(match step.as_rule() {
                        Rule::norm_lowercase => ast::NormStepDef::Lowercase(at),
                        Rule::mappings => ast::NormStepDef::Substitute(self.mappings(step)),
                        Rule::norm_delete => ast::NormStepDef::Delete(
                            self.set_expr(parts(step).into_iter().next()?)?,
                        ),
                        Rule::norm_trim => {
                            ast::NormStepDef::Trim(self.set_expr(parts(step).into_iter().next()?)?)
                        }
                        _ => continue,
                    });
                }
                Item::Normalization(ast::NormalizationDef { name, steps, span })
            }
            Rule::when => {
                let mut it = parts(p).into_iter();
                let conditions = self.condition(it.next()?);
                let items = it.filter_map(|i| self.item(i)).collect();
                Item::When(When { conditions, items, span })
            }
            _ => return None,
        })
    }

    fn mappings(&mut self, p: Pair<'_, Rule>) -> Vec<(Spanned<String>, Spanned<String>)> {
        let mut out = Vec::new();
        for m in parts(p) {
            let mut it = parts(m).into_iter();
            if let (Some(a), Some(b)) = (it.next(), it.next()) {
                out.push((self.string(a), self.string(b)));
            }
        }
        out
    }

    fn first_string(&mut self, p: Pair<'_, Rule>) -> Option<Spanned<String>> {
        let s = parts(p).into_iter().find(|p| p.as_rule() == Rule::string)?;
        Some(self.string(s))
    }

    fn rule(&mut self, p: Pair<'_, Rule>) -> Option<ast::Rule> {
        let span = self.span(&p);
        let mut severity = None;
        let mut it = parts(p).into_iter().peekable();
        if it.peek().map(|p| p.as_rule()) == Some(Rule::severity) {
            let s = it.next()?;
            let audit = inner(s.clone()).any(|k| k.as_rule() == Rule::kw_audit);
            let value = if audit { SeverityKw::Audit } else { SeverityKw::Enforce };
            severity = Some(Spanned { value, span: self.span(&s) });
        }
        let id = self.ident(it.next()?);
        let message = self.string(it.next()?);
        let predicate = self.pred_expr(it.next()?)?;
        Some(ast::Rule { severity, id, message, predicate, span })
    }

    fn condition(&mut self, p: Pair<'_, Rule>) -> Vec<Condition> {
        let mut out = Vec::new();
        for c in parts(p) {
            let span = self.span(&c);
            let kind = c.as_rule();
            let mut it = parts(c).into_iter().peekable();
            let negated = it.next_if(|p| p.as_rule() == Rule::negation).is_some();
            let (Some(a), Some(b)) = (it.next(), it.next()) else { continue };
            out.push(match kind {
                Rule::cond_length => {
                    Condition::Length { op: self.cmp(a), value: self.number(b), span }
                }
                _ => Condition::Has {
                    negated,
                    attribute: self.attribute(a),
                    value: self.string(b),
                    span,
                },
            });
        }
        out
    }

    /// `user.NAME`: keeps NAME, with its own span.
    fn attribute(&self, p: Pair<'_, Rule>) -> Spanned<String> {
        match inner(p.clone()).find(|p| p.as_rule() == Rule::ident) {
            Some(i) => self.ident(i),
            None => self.ident(p),
        }
    }

    fn cmp(&self, p: Pair<'_, Rule>) -> Spanned<CmpOp> {
        let value = match p.as_str() {
            "<" => CmpOp::Lt,
            "<=" => CmpOp::Le,
            "==" => CmpOp::Eq,
            ">=" => CmpOp::Ge,
            _ => CmpOp::Gt,
        };
        Spanned { value, span: self.span(&p) }
    }

    fn bound(&mut self, p: Pair<'_, Rule>) -> Option<Bound> {
        let kind = p.as_rule();
        let mut it = parts(p).into_iter();
        let (a, b) = (it.next()?, it.next()?);
        Some(match kind {
            Rule::between => Bound::Between(self.number(a), self.number(b)),
            _ => Bound::Compare(self.cmp(a), self.number(b)),
        })
    }

    /// `A or B`, `A and B`, `(A)` or one predicate. Mixing `and` and `or` without parentheses
    /// is an error: the reader should not need to know which binds tighter.
    fn pred_expr(&mut self, p: Pair<'_, Rule>) -> Option<Predicate> {
        let span = self.span(&p);
        match p.as_rule() {
            Rule::pred_expr | Rule::pred_conj => {
                let or = p.as_rule() == Rule::pred_expr;
                let units = parts(p);
                let mut items = Vec::with_capacity(units.len());
                for u in units {
                    items.push(self.pred_expr(u)?);
                }
                if items.len() == 1 {
                    return items.pop();
                }
                if or && items.iter().any(|i| matches!(i, Predicate::And(_))) {
                    self.diags.push(
                        Diagnostic::error(
                            "`and` and `or` mixed without parentheses",
                            span,
                            "group the `and` part in parentheses",
                        )
                        .with_help("write `(A and B) or C`, or `A and (B or C)`"),
                    );
                }
                Some(if or { Predicate::Or(items) } else { Predicate::And(items) })
            }
            Rule::pred_group => {
                let inner = parts(p).into_iter().find(|c| c.as_rule() == Rule::pred_expr)?;
                Some(Predicate::Group(Box::new(self.pred_expr(inner)?), span))
            }
            _ => self.predicate(p),
        }
    }

    fn predicate(&mut self, p: Pair<'_, Rule>) -> Option<Predicate> {
        let span = self.span(&p);
        let kind = p.as_rule();
        if kind == Rule::pred_not_contains {
            return self.not_contains(p, span);
        }
        let mut it = parts(p).into_iter();
        Some(match kind {
            Rule::pred_length => {
                let (unit, next) = self.unit_in(&mut it)?;
                Predicate::Length(self.bound(next)?, unit)
            }
            Rule::pred_only => Predicate::Only(self.set_expr(it.next()?)?),
            Rule::pred_no => Predicate::No(self.set_expr(it.next()?)?),
            Rule::pred_at_least => {
                let n = self.number(it.next()?);
                let list = it.next()?;
                let rules = list.as_rule() == Rule::at_least_parts;
                let items = parts(list).into_iter();
                if rules {
                    let parts = items.filter_map(|c| self.pred_expr(c)).collect();
                    Predicate::AtLeastOfRules { n, parts }
                } else {
                    let sets = items.filter_map(|s| self.set_expr(s)).collect();
                    Predicate::AtLeast { n, sets }
                }
            }
            Rule::pred_count => {
                let set = self.set_expr(it.next()?)?;
                let (unit, mut next) = self.unit_in(&mut it)?;
                let mut edge = None;
                if next.as_rule() == Rule::except_at {
                    let value = match inner(next.clone()).any(|k| k.as_rule() == Rule::kw_start) {
                        true => ast::EdgeKw::Start,
                        false => ast::EdgeKw::End,
                    };
                    edge = Some(Spanned { value, span: self.span(&next) });
                    next = it.next()?;
                }
                Predicate::Count(set, edge, unit, self.bound(next)?)
            }
            Rule::pred_points => {
                let op = self.cmp(it.next()?);
                let points = self.number(it.next()?);
                let awards = it.filter_map(|a| self.award(a)).collect();
                Predicate::Points { op, points, awards, span }
            }
            Rule::pred_matches => {
                let mut negated = false;
                let mut pattern = None;
                for c in it {
                    match c.as_rule() {
                        Rule::negation => negated = true,
                        Rule::regex => {
                            let body = inner(c).next()?;
                            let value = body.as_str().replace("\\/", "/");
                            pattern = Some(Spanned { value, span: self.span(&body) });
                        }
                        _ => {}
                    }
                }
                Predicate::Matches { negated, pattern: pattern? }
            }
            Rule::pred_repeat => {
                let (unit, next) = self.unit_in(&mut it)?;
                Predicate::LongestRepeat(unit, self.cmp(next), self.number(it.next()?))
            }
            Rule::pred_run => {
                let set = self.set_expr(it.next()?)?;
                let (unit, next) = self.unit_in(&mut it)?;
                Predicate::LongestRun(set, unit, self.cmp(next), self.number(it.next()?))
            }
            Rule::pred_avoid => {
                let list = self.ident(it.next()?);
                let m = it.next()?;
                let value = match inner(m.clone()).next().map(|k| k.as_rule()) {
                    Some(Rule::kw_exact) => ast::ModeKw::Exact,
                    Some(Rule::kw_fuzzy) => ast::ModeKw::Fuzzy,
                    _ => ast::ModeKw::Contains,
                };
                let mode = Spanned { value, span: self.span(&m) };
                let after = it.next().map(|n| self.ident(n));
                Predicate::Avoid { list, mode, after }
            }
            Rule::pred_entra => {
                let op = self.cmp(it.next()?);
                let points = self.number(it.next()?);
                let lists = it.map(|n| self.ident(n)).collect();
                Predicate::EntraScore { op, points, lists }
            }
            Rule::pred_strength => {
                let op = self.cmp(it.next()?);
                Predicate::Strength(op, self.number(it.next()?))
            }
            Rule::pred_not_in => Predicate::NotIn(self.ident(it.next()?)),
            Rule::pred_palindrome => {
                Predicate::NotPalindrome { span, ignoring_case: it.next().is_some() }
            }
            Rule::pred_distinct => {
                let (unit, next) = self.unit_in(&mut it)?;
                Predicate::Distinct(self.bound(next)?, unit)
            }
            Rule::pred_not_equals => Predicate::NotEquals(self.attribute(it.next()?)),
            Rule::pred_sequence => {
                let (unit, next) = self.unit_in(&mut it)?;
                Predicate::LongestSequence(unit, self.cmp(next), self.number(it.next()?))
            }
            Rule::pred_keyboard => {
                let op = self.cmp(it.next()?);
                Predicate::LongestKeyboard(op, self.number(it.next()?))
            }
            _ => return None,
        })
    }

    /// An optional `in UNIT` next in `it`, and the pair after it.
    fn unit_in<'i>(
        &self,
        it: &mut impl Iterator<Item = Pair<'i, Rule>>,
    ) -> Option<(Option<Spanned<ast::UnitKw>>, Pair<'i, Rule>)> {
        let next = it.next()?;
        if next.as_rule() != Rule::unit_in {
            return Some((None, next));
        }
        Some((Some(self.unit(&next)), it.next()?))
    }

    /// `in bytes` or `in utf16 units`.
    fn unit(&self, p: &Pair<'_, Rule>) -> Spanned<ast::UnitKw> {
        let value = match inner(p.clone()).any(|k| k.as_rule() == Rule::kw_bytes) {
            true => ast::UnitKw::Bytes,
            false => ast::UnitKw::Utf16,
        };
        Spanned { value, span: self.span(p) }
    }

    /// `N per SET [in UNIT] [up to M]`, `N per character …` or `N if PREDICATE`.
    fn award(&mut self, p: Pair<'_, Rule>) -> Option<ast::Award> {
        let kind = p.as_rule();
        let mut it = parts(p).into_iter();
        let points = self.number(it.next()?);
        if kind == Rule::award_if {
            return Some(ast::Award::If { points, predicate: self.pred_expr(it.next()?)? });
        }
        let mut set = None;
        let mut cap = None;
        let mut unit = None;
        for c in it {
            match c.as_rule() {
                Rule::set_expr => set = self.set_expr(c),
                Rule::unit_in => unit = Some(self.unit(&c)),
                Rule::up_to => cap = parts(c).into_iter().next().map(|n| self.number(n)),
                _ => {}
            }
        }
        Some(ast::Award::Per { points, set, cap, unit })
    }

    fn not_contains(&mut self, p: Pair<'_, Rule>, span: Span) -> Option<Predicate> {
        let mut attribute = None;
        let mut split_on = None;
        let mut skip_shorter_than = None;
        let mut or_reversed = false;
        let mut unit = None;
        let mut closer_than = None;
        let mut as_patterns = None;
        for c in inner(p) {
            match c.as_rule() {
                Rule::kw_ad_names => return Some(Predicate::NotContainsAdNames(self.span(&c))),
                Rule::attribute => attribute = Some(self.attribute(c)),
                Rule::unit_in => unit = Some(self.unit(&c)),
                Rule::split_on => {
                    split_on = parts(c).into_iter().next().map(|s| self.string(s));
                }
                Rule::skip_shorter => {
                    skip_shorter_than = parts(c).into_iter().next().map(|n| self.number(n));
                }
                Rule::or_reversed => or_reversed = true,
                Rule::as_patterns => as_patterns = Some(self.span(&c)),
                Rule::or_closer => {
                    closer_than = parts(c).into_iter().next().map(|n| self.number(n));
                }
                _ => {}
            }
        }
        let attribute = attribute.unwrap_or(Spanned { value: String::new(), span });
        Some(Predicate::NotContains {
            attribute,
            unit,
            split_on,
            skip_shorter_than,
            or_reversed,
            closer_than,
            as_patterns,
        })
    }

    fn set_expr(&mut self, p: Pair<'_, Rule>) -> Option<SetExpr> {
        match p.as_rule() {
            Rule::set_expr => {
                let mut it = parts(p).into_iter();
                let mut lhs = self.set_expr(it.next()?)?;
                while let (Some(op), Some(rhs)) = (it.next(), it.next()) {
                    let value = match op.as_str() {
                        "|" => SetOp::Union,
                        "-" => SetOp::Difference,
                        _ => SetOp::Intersection,
                    };
                    let op = Spanned { value, span: self.span(&op) };
                    let rhs = self.set_expr(rhs)?;
                    lhs = SetExpr::Binary(Box::new(lhs), op, Box::new(rhs));
                }
                Some(lhs)
            }
            Rule::set_group => {
                let span = self.span(&p);
                let e = self.set_expr(parts(p).into_iter().next()?)?;
                Some(SetExpr::Group(Box::new(e), span))
            }
            Rule::ident => Some(SetExpr::Name(self.ident(p))),
            Rule::set_literal => Some(SetExpr::Literal(self.set_literal(p))),
            _ => None,
        }
    }

    fn set_literal(&mut self, p: Pair<'_, Rule>) -> SetLiteral {
        let span = self.span(&p);
        let text = p.as_str().to_string();
        let mut items = Vec::new();
        for c in inner(p) {
            match c.as_rule() {
                Rule::set_char => {
                    if let Some(ch) = self.set_char(c) {
                        items.push(SetItem::Char(ch));
                    }
                }
                Rule::set_range => {
                    let mut ends = inner(c).filter_map(|e| self.set_char(e));
                    if let (Some(a), Some(b)) = (ends.next(), ends.next()) {
                        items.push(SetItem::Range(a, b));
                    }
                }
                Rule::set_property => {
                    if let Some(n) = inner(c).next() {
                        items.push(SetItem::Property(self.ident(n)));
                    }
                }
                _ => {}
            }
        }
        SetLiteral { items, text, span }
    }

    fn set_char(&mut self, p: Pair<'_, Rule>) -> Option<Spanned<char>> {
        let span = self.span(&p);
        let value = self.unescape(p.as_str(), span.start).chars().next()?;
        Some(Spanned { value, span })
    }
}

#[cfg(test)]
mod tests {
    use super::decode_escape;

    #[test]
    fn escapes() {
        assert_eq!(decode_escape("\\t"), Some(('\t', 2)));
        assert_eq!(decode_escape("\\s"), Some((' ', 2)));
        assert_eq!(decode_escape("\\]x"), Some((']', 2)));
        assert_eq!(decode_escape("\\u{E9}rest"), Some(('é', 6)));
        assert_eq!(decode_escape("\\u{D800}"), None, "surrogates are not scalar values");
        assert_eq!(decode_escape("\\q"), None);
        assert_eq!(decode_escape("\\u{}"), None);
    }
}
