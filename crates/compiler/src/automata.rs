//! Regular-expression rules → regex-automata dense DFAs, serialized for the artifact.
//!
//! One small DFA per rule, unanchored (a rule matches anywhere unless its pattern anchors with
//! `^`/`$`), never minimized, with size limits from [`DfaLimits`]: combining rules or counting
//! lengths inside a DFA multiplies its states (see `docs/architecture.md`).

use regex_automata::dfa::{StartKind, dense};
use regex_automata::nfa::thompson;
use regex_automata::util::syntax;
use std::ops::Range;

/// Resource limits for one rule's automaton.
#[derive(Debug, Clone, Copy)]
pub struct DfaLimits {
    /// Largest DFA, in bytes.
    pub dfa_bytes: usize,
    /// Largest working memory during determinization, in bytes.
    pub determinize_bytes: usize,
}

impl Default for DfaLimits {
    fn default() -> DfaLimits {
        DfaLimits { dfa_bytes: 4 << 20, determinize_bytes: 32 << 20 }
    }
}

/// Why a pattern could not become an automaton.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegexError {
    /// The pattern is not a valid regular expression; `span` is a byte range in the pattern.
    Syntax {
        /// What is wrong.
        message: String,
        /// Where in the pattern.
        span: Range<usize>,
    },
    /// The automaton would exceed a [`DfaLimits`] bound.
    TooLarge {
        /// The bound, in bytes.
        limit: usize,
    },
    /// The pattern uses a feature a DFA cannot run (a Unicode word boundary, say).
    Unsupported(String),
}

/// Builds the DFA for one pattern and returns its native-endian serialized bytes.
pub fn build_regex(pattern: &str, limits: DfaLimits) -> Result<Vec<u8>, RegexError> {
    let dfa = regex_dfa(pattern, limits)?;
    let (bytes, pad) = dfa.to_bytes_native_endian();
    Ok(bytes.get(pad..).unwrap_or_default().to_vec())
}

/// Builds the DFA for one pattern, as the validator will run it (the analysis steps it too).
pub fn regex_dfa(pattern: &str, limits: DfaLimits) -> Result<dense::DFA<Vec<u32>>, RegexError> {
    let mut parser = regex_syntax::ast::parse::Parser::new();
    let ast = parser.parse(pattern).map_err(|e| RegexError::Syntax {
        message: e.kind().to_string(),
        span: e.span().start.offset..e.span().end.offset,
    })?;
    regex_syntax::hir::translate::Translator::new().translate(pattern, &ast).map_err(|e| {
        RegexError::Syntax {
            message: e.kind().to_string(),
            span: e.span().start.offset..e.span().end.offset,
        }
    })?;
    dense::Builder::new()
        .configure(
            dense::Config::new()
                .start_kind(StartKind::Unanchored)
                .minimize(false)
                .dfa_size_limit(Some(limits.dfa_bytes))
                .determinize_size_limit(Some(limits.determinize_bytes)),
        )
        .syntax(syntax::Config::new().unicode(true).utf8(true))
        .thompson(thompson::Config::new().utf8(true))
        .build(pattern)
        .map_err(|e| {
            if e.is_size_limit_exceeded() {
                RegexError::TooLarge { limit: limits.dfa_bytes }
            } else {
                RegexError::Unsupported(e.to_string())
            }
        })
}
