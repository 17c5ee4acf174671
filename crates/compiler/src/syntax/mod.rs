//! Syntax: the pest grammar, the syntax tree with spans, and the canonical printer.

pub mod ast;
pub mod parser;
pub mod printer;

pub use parser::{parse, parse_recovering};
