//! Compiler diagnostics: an error or warning with a span, a label under it and an optional help
//! line, rendered like rustc's (`file:line:col`, the source line, a caret underline).

use crate::span::{SourceMap, Span};
use annotate_snippets::{Level as SnippetLevel, Renderer, Snippet};
use std::fmt::Write as _;

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Compilation fails.
    Error,
    /// Compilation goes on; the user should look.
    Warning,
}

/// One problem found in a policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub level: Level,
    /// What is wrong, one line, lowercase, user text in backticks.
    pub message: String,
    /// Where, if the problem has a place in the source.
    pub span: Option<Span>,
    /// The text under the caret (what was expected, or what this is).
    pub label: String,
    /// How to fix it, when there is something useful to say.
    pub help: Option<String>,
}

impl Diagnostic {
    /// An error at `span`.
    pub fn error(message: impl Into<String>, span: Span, label: impl Into<String>) -> Diagnostic {
        Diagnostic {
            level: Level::Error,
            message: message.into(),
            span: Some(span),
            label: label.into(),
            help: None,
        }
    }

    /// A warning at `span`.
    pub fn warning(message: impl Into<String>, span: Span, label: impl Into<String>) -> Diagnostic {
        Diagnostic { level: Level::Warning, ..Diagnostic::error(message, span, label) }
    }

    /// An error with no place in the source (a file that cannot be read, say).
    pub fn global(message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            level: Level::Error,
            message: message.into(),
            span: None,
            label: String::new(),
            help: None,
        }
    }

    /// Adds a help line.
    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// Renders this diagnostic against the sources it points into, without colours.
    pub fn render(&self, sources: &SourceMap) -> String {
        self.render_styled(sources, false)
    }

    /// Renders this diagnostic, in a terminal's colours when `color` (rustc's: red errors,
    /// yellow warnings, blue line numbers and notes).
    pub fn render_styled(&self, sources: &SourceMap, color: bool) -> String {
        let level = match self.level {
            Level::Error => SnippetLevel::Error,
            Level::Warning => SnippetLevel::Warning,
        };
        let mut message = level.title(&self.message);
        let file = self.span.and_then(|s| sources.get(s.file).map(|f| (s, f)));
        let origin;
        if let Some((span, file)) = file {
            origin = file.path.display().to_string();
            let (start, end) = visible_range(&file.text, span);
            message = message.snippet(
                Snippet::source(&file.text)
                    .line_start(1)
                    .origin(&origin)
                    .fold(true)
                    .annotation(level.span(start..end).label(&self.label)),
            );
        }
        if let Some(help) = &self.help {
            message = message.footer(SnippetLevel::Help.title(help));
        }
        let renderer = if color { Renderer::styled() } else { Renderer::plain() };
        renderer.render(message).to_string()
    }
}

/// A span widened to at least one character, so that the caret is visible.
fn visible_range(text: &str, span: Span) -> (usize, usize) {
    let start = span.start.min(text.len());
    let end = span.end.min(text.len()).max(start);
    if end > start {
        return (start, end);
    }
    match text.get(start..).and_then(|rest| rest.chars().next()) {
        Some(c) if c != '\n' => (start, start + c.len_utf8()),
        _ => (start, start),
    }
}

/// Every diagnostic of one compilation, in source order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    /// No diagnostics.
    pub fn new() -> Diagnostics {
        Diagnostics::default()
    }

    /// Records one.
    pub fn push(&mut self, d: Diagnostic) {
        self.items.push(d);
    }

    /// Records all of `other`.
    pub fn extend(&mut self, other: Diagnostics) {
        self.items.extend(other.items);
    }

    /// Whether any is an error.
    pub fn has_errors(&self) -> bool {
        self.items.iter().any(|d| d.level == Level::Error)
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The diagnostics, in the order recorded (source order after [`Diagnostics::sort`]).
    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter()
    }

    /// Sorts by file and position, keeping the order of equal positions.
    pub fn sort(&mut self) {
        self.items.sort_by_key(|d| d.span.map(|s| (s.file, s.start)));
    }

    /// Renders all of them, then a summary line (`error: policy rejected: 2 errors`).
    pub fn render(&self, sources: &SourceMap) -> String {
        self.render_styled(sources, false)
    }

    /// Renders all of them and the summary line, in a terminal's colours when `color`.
    pub fn render_styled(&self, sources: &SourceMap, color: bool) -> String {
        let mut out = String::new();
        for d in &self.items {
            out.push_str(&d.render_styled(sources, color));
            out.push_str("\n\n");
        }
        let errors = self.items.iter().filter(|d| d.level == Level::Error).count();
        let warnings = self.items.len() - errors;
        if errors > 0 {
            // The summary's `error` as rustc colours it: bold red.
            let error = if color { "\x1b[1;31merror\x1b[0m" } else { "error" };
            let _ = write!(out, "{error}: policy rejected: {}", plural(errors, "error"));
            if warnings > 0 {
                let _ = write!(out, ", {}", plural(warnings, "warning"));
            }
            out.push('\n');
        }
        out
    }
}

/// `1 error`, `2 errors`.
pub fn plural(n: usize, word: &str) -> String {
    if n == 1 { format!("1 {word}") } else { format!("{n} {word}s") }
}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Diagnostics {
        Diagnostics { items: vec![d] }
    }
}
