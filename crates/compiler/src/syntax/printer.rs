//! The canonical printer behind `policyc fmt`: two-space indentation, one item per line, single
//! spaces around operators, at most one blank line between items (where the source had one), and
//! every comment kept (a comment inside an item moves above it). Printing is idempotent.

use super::ast::{
    Award, Bound, Comment, Condition, File, Item, ModeKw, NormStepDef, Policy, Predicate, Rule,
    SetExpr, SetOp, SeverityKw, TermsSource,
};

/// Formats a parsed file; `source` is the text it was parsed from.
pub fn format(file: &File, source: &str) -> String {
    let mut p = Printer { source, comments: &file.comments, next: 0, out: String::new() };
    let mut prev_end: Option<usize> = None;
    for import in &file.imports {
        p.leading(import.span.start, 0, &mut prev_end);
        p.line(0, &format!("import {}", string(&import.value)));
        p.trailing(import.span.end);
        prev_end = Some(import.span.end);
    }
    for policy in &file.policies {
        let after_item = prev_end.is_some();
        let printed = p.next;
        p.leading(policy.span.start, 0, &mut prev_end);
        // Policies are separated from the items before them by a blank line.
        if after_item && printed == p.next && !p.out.ends_with("\n\n") {
            p.out.push('\n');
        }
        p.policy(policy);
        prev_end = Some(policy.span.end);
    }
    p.leading(usize::MAX, 0, &mut prev_end);
    p.out
}

struct Printer<'a> {
    source: &'a str,
    comments: &'a [Comment],
    /// Index of the first comment not printed yet.
    next: usize,
    out: String,
}

impl Printer<'_> {
    /// Writes `text` indented; each of its lines (a long rule's list) at `indent` more.
    fn line(&mut self, indent: usize, text: &str) {
        for l in text.lines() {
            for _ in 0..indent {
                self.out.push_str("  ");
            }
            self.out.push_str(l);
            self.out.push('\n');
        }
    }

    /// Whether the source has a blank line between two offsets.
    fn blank_between(&self, from: usize, to: usize) -> bool {
        let gap = self.source.get(from..to.min(self.source.len())).unwrap_or("");
        let mut newlines = 0;
        for c in gap.chars() {
            match c {
                '\n' => newlines += 1,
                ' ' | '\t' | '\r' => {}
                _ => newlines = 0,
            }
            if newlines >= 2 {
                return true;
            }
        }
        false
    }

    /// Prints the comments that start before `before`, each on its own line, keeping blank
    /// lines between elements.
    fn leading(&mut self, before: usize, indent: usize, prev_end: &mut Option<usize>) {
        while let Some(c) = self.comments.get(self.next) {
            if c.span.start >= before {
                break;
            }
            self.separate(*prev_end, c.span.start);
            self.line(indent, &c.text);
            *prev_end = Some(c.span.end);
            self.next += 1;
        }
        if before != usize::MAX {
            self.separate(*prev_end, before);
        }
    }

    fn separate(&mut self, prev_end: Option<usize>, start: usize) {
        if let Some(end) = prev_end
            && self.blank_between(end, start)
            && !self.out.ends_with("\n\n")
            && !self.out.ends_with("{\n")
        {
            self.out.push('\n');
        }
    }

    /// Appends a comment that follows `end` on the same source line.
    fn trailing(&mut self, end: usize) {
        let Some(c) = self.comments.get(self.next) else { return };
        let gap = self.source.get(end..c.span.start).unwrap_or("\n");
        if c.span.start >= end && !gap.contains('\n') {
            self.out.pop();
            self.out.push(' ');
            self.out.push_str(&c.text);
            self.out.push('\n');
            self.next += 1;
        }
    }

    fn policy(&mut self, policy: &Policy) {
        let mut head = format!("policy {}", policy.name.value);
        if let Some(b) = &policy.extends {
            head.push_str(&format!(" extends {}", b.value));
        }
        head.push_str(" {");
        self.line(0, &head);
        self.trailing_at_line_of(policy.name.span.end);
        self.block(&policy.items, 1, policy.span.end);
        self.line(0, "}");
        self.trailing(policy.span.end);
    }

    /// A trailing comment on the header line of a block (`policy x { # ...`).
    fn trailing_at_line_of(&mut self, pos: usize) {
        let line_end = self
            .source
            .get(pos..)
            .and_then(|r| r.find('\n'))
            .map_or(self.source.len(), |i| pos + i);
        if let Some(c) = self.comments.get(self.next)
            && c.span.start >= pos
            && c.span.start < line_end
        {
            self.trailing(c.span.start);
        }
    }

    fn block(&mut self, items: &[Item], indent: usize, end: usize) {
        let mut prev_end = None;
        for item in items {
            let span = item.span();
            // Comments inside a one-line item move above it; a block keeps its own comments.
            let before = if matches!(item, Item::When(_)) { span.start } else { span.end };
            self.leading(before, indent, &mut prev_end);
            match item {
                Item::When(w) => {
                    let conds: Vec<String> = w.conditions.iter().map(condition).collect();
                    self.line(indent, &format!("when {} {{", conds.join(" and ")));
                    self.trailing_at_line_of(w.span.start);
                    self.block(&w.items, indent + 1, w.span.end);
                    self.line(indent, "}");
                }
                other => self.line(indent, &item_text(other)),
            }
            self.trailing(span.end);
            prev_end = Some(span.end);
        }
        // Comments after the last item, before the closing brace.
        let close = end.saturating_sub(1);
        while let Some(c) = self.comments.get(self.next) {
            if c.span.start >= close {
                break;
            }
            self.separate(prev_end, c.span.start);
            self.line(indent, &c.text);
            prev_end = Some(c.span.end);
            self.next += 1;
        }
    }
}

fn item_text(item: &Item) -> String {
    match item {
        Item::Description(s) => format!("description {}", string(&s.value)),
        Item::Reference(s) => format!("reference {}", string(&s.value)),
        Item::Class(c) => format!("class {} = {}", c.name.value, set(&c.set)),
        Item::Rule(r) => rule(r),
        Item::Override(r) => format!("override {}", rule(r)),
        Item::Drop(d) => format!("drop rule {}", d.id.value),
        Item::When(_) => String::new(),
        Item::Terms(t) => {
            let source = match &t.source {
                TermsSource::File(f) => format!("file {}", string(&f.value)),
                TermsSource::Inline(terms) => {
                    let terms: Vec<String> = terms.iter().map(|s| string(&s.value)).collect();
                    format!("[{}]", terms.join(", "))
                }
            };
            let limits = if t.entra_limits { " with entra limits" } else { "" };
            format!("terms {} = {source}{limits}", t.name.value)
        }
        Item::Store(s) => format!("store {} = {}", s.name.value, string(&s.path.value)),
        Item::Normalization(n) => {
            let steps: Vec<String> = n
                .steps
                .iter()
                .map(|step| match step {
                    NormStepDef::Lowercase(_) => "lowercase".to_string(),
                    NormStepDef::Substitute(map) => map
                        .iter()
                        .map(|(a, b)| format!("{} -> {}", string(&a.value), string(&b.value)))
                        .collect::<Vec<_>>()
                        .join(", "),
                    NormStepDef::Delete(s) => format!("delete {}", set(s)),
                    NormStepDef::Trim(s) => format!("trim {}", set(s)),
                })
                .collect();
            // A long normalization gets a line per step, the later ones starting with `then`.
            let one = steps.join(" then ");
            let sep = if one.len() <= ONE_LINE { " then " } else { "\n  then " };
            format!("normalization {} = {}", n.name.value, steps.join(sep))
        }
    }
}

fn rule(r: &Rule) -> String {
    let severity = match r.severity.as_ref().map(|s| s.value) {
        Some(SeverityKw::Audit) => "audit ",
        Some(SeverityKw::Enforce) => "enforce ",
        None => "",
    };
    let head = format!("{severity}rule {} {} :", r.id.value, string(&r.message.value));
    let body = predicate(&r.predicate);
    match &r.predicate {
        // A long `or` or `and` starts on the next line, a part per line.
        Predicate::Or(_) | Predicate::And(_) if body.contains('\n') => {
            format!("{head}\n  {}", body.replace('\n', "\n  "))
        }
        _ => format!("{head} {body}"),
    }
}

fn predicate(p: &Predicate) -> String {
    match p {
        Predicate::Length(b, u) => format!("length{} {}", unit(u), bound(b)),
        Predicate::Only(s) => format!("only {}", set(s)),
        Predicate::No(s) => format!("no {}", set(s)),
        Predicate::AtLeast { n, sets } => {
            let sets: Vec<String> = sets.iter().map(set).collect();
            format!("at least {} of {{ {} }}", n.value, sets.join(", "))
        }
        Predicate::Count(s, None, u, b) => format!("count {}{} {}", set(s), unit(u), bound(b)),
        Predicate::Count(s, Some(edge), _, b) => {
            format!("count {} except at {} {}", set(s), edge.value.as_str(), bound(b))
        }
        Predicate::AtLeastOfRules { n, parts } => {
            let parts: Vec<String> = parts.iter().map(predicate).collect();
            braced(&format!("at least {} of", n.value), &parts)
        }
        Predicate::Or(parts) => joined(parts, " or "),
        Predicate::And(parts) => joined(parts, " and "),
        Predicate::Group(inner, _) => format!("({})", predicate(inner).replace('\n', "\n  ")),
        Predicate::Points { op, points, awards, .. } => {
            let awards: Vec<String> = awards.iter().map(award).collect();
            braced(&format!("points {} {} from", op.value.as_str(), points.value), &awards)
        }
        Predicate::Matches { negated, pattern } => {
            let not = if *negated { "not " } else { "" };
            format!("{not}matches /{}/", regex(&pattern.value))
        }
        Predicate::LongestRepeat(u, op, n) => {
            format!("longest repeat{} {} {}", unit(u), op.value.as_str(), n.value)
        }
        Predicate::LongestSequence(u, op, n) => {
            format!("longest sequence{} {} {}", unit(u), op.value.as_str(), n.value)
        }
        Predicate::LongestRun(s, u, op, n) => {
            format!("longest run of {}{} {} {}", set(s), unit(u), op.value.as_str(), n.value)
        }
        Predicate::LongestKeyboard(op, n) => {
            format!("longest keyboard sequence {} {}", op.value.as_str(), n.value)
        }
        Predicate::NotContains {
            attribute,
            unit: u,
            split_on,
            skip_shorter_than,
            or_reversed,
            closer_than,
            as_patterns,
        } => {
            let mut s = format!("not contains user.{}{}", attribute.value, unit(u));
            if as_patterns.is_some() {
                s.push_str(" as patterns");
            }
            if let Some(d) = split_on {
                s.push_str(&format!(" split on {}", string(&d.value)));
            }
            if let Some(n) = skip_shorter_than {
                s.push_str(&format!(" skip shorter than {}", n.value));
            }
            if *or_reversed {
                s.push_str(" or reversed");
            }
            if let Some(n) = closer_than {
                s.push_str(&format!(" or closer than {}", n.value));
            }
            s
        }
        Predicate::NotContainsAdNames(_) => "not contains ad_names".to_string(),
        Predicate::Avoid { list, mode, after } => {
            let mode = match mode.value {
                ModeKw::Exact => "exact",
                ModeKw::Contains => "contains",
                ModeKw::Fuzzy => "fuzzy",
            };
            match after {
                Some(n) => format!("avoid {} {mode} after {}", list.value, n.value),
                None => format!("avoid {} {mode}", list.value),
            }
        }
        Predicate::EntraScore { op, points, lists } => {
            let lists: Vec<&str> = lists.iter().map(|l| l.value.as_str()).collect();
            format!(
                "entra score {} {} using {{ {} }}",
                op.value.as_str(),
                points.value,
                lists.join(", ")
            )
        }
        Predicate::Strength(op, n) => format!("strength {} {}", op.value.as_str(), n.value),
        Predicate::NotIn(store) => format!("not in {}", store.value),
        Predicate::NotPalindrome { ignoring_case: false, .. } => "not palindrome".to_string(),
        Predicate::NotPalindrome { ignoring_case: true, .. } => {
            "not palindrome ignoring case".to_string()
        }
        Predicate::Distinct(b, u) => format!("distinct{} {}", unit(u), bound(b)),
        Predicate::NotEquals(attribute) => format!("not equals user.{}", attribute.value),
    }
}

/// ` in bytes`, ` in utf16 units`, or nothing.
fn unit(u: &Option<crate::syntax::ast::Spanned<crate::syntax::ast::UnitKw>>) -> String {
    u.as_ref().map_or_else(String::new, |u| format!(" in {}", u.value.as_str()))
}

/// Longest braced list kept on the rule's line; longer ones get a line per item.
const ONE_LINE: usize = 72;

/// `HEAD { A, B }`, or with one item per line (and a trailing comma) when that is long.
fn braced(head: &str, items: &[String]) -> String {
    let one = format!("{head} {{ {} }}", items.join(", "));
    if one.len() <= ONE_LINE && !one.contains('\n') {
        return one;
    }
    let mut s = format!("{head} {{\n");
    for item in items {
        s.push_str(&format!("  {},\n", item.replace('\n', "\n  ")));
    }
    s.push('}');
    s
}

/// `A or B`, `A and B`; when that is long, each part on a line of its own, the later ones
/// starting with the operator.
fn joined(parts: &[Predicate], with: &str) -> String {
    let parts: Vec<String> = parts.iter().map(predicate).collect();
    let one = parts.join(with);
    if one.len() <= ONE_LINE && !one.contains('\n') {
        return one;
    }
    parts.join(&format!("\n{} ", with.trim()))
}

fn award(a: &Award) -> String {
    match a {
        Award::Per { points, set: s, cap, unit: u } => {
            let what = s.as_ref().map_or_else(|| "character".to_string(), set) + &unit(u);
            match cap {
                Some(m) => format!("{} per {what} up to {}", points.value, m.value),
                None => format!("{} per {what}", points.value),
            }
        }
        Award::If { points, predicate: p } => format!("{} if {}", points.value, predicate(p)),
    }
}

fn condition(c: &Condition) -> String {
    match c {
        Condition::Length { op, value, .. } => {
            format!("length {} {}", op.value.as_str(), value.value)
        }
        Condition::Has { negated, attribute, value, .. } => {
            let not = if *negated { "not " } else { "" };
            format!("{not}user.{} has {}", attribute.value, string(&value.value))
        }
    }
}

fn bound(b: &Bound) -> String {
    match b {
        Bound::Compare(op, n) => format!("{} {}", op.value.as_str(), n.value),
        Bound::Between(a, z) => format!("between {} and {}", a.value, z.value),
    }
}

/// A set expression as `policyc fmt` writes it (also the name of a class written inline, so
/// that formatting a policy never changes what `explain` calls its classes).
pub fn set(e: &SetExpr) -> String {
    match e {
        SetExpr::Literal(l) => l.text.clone(),
        SetExpr::Name(n) => n.value.clone(),
        SetExpr::Group(inner, _) => format!("({})", set(inner)),
        SetExpr::Binary(l, op, r) => {
            let op = match op.value {
                SetOp::Union => "|",
                SetOp::Difference => "-",
                SetOp::Intersection => "&",
            };
            format!("{} {op} {}", set(l), set(r))
        }
    }
}

/// A string literal with the canonical escapes.
pub fn string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:X}}}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A pattern with `/` escaped so that it fits between slashes.
fn regex(pattern: &str) -> String {
    let mut out = String::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                out.push('\\');
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            }
            '/' => out.push_str("\\/"),
            c => out.push(c),
        }
    }
    out
}
