//! policyc
pub mod artifact;
#[cfg(feature = "compiler")]
pub mod automata;
#[cfg(feature = "cli")]
pub mod cases;
#[cfg(feature = "compiler")]
mod check;
#[cfg(feature = "cli")]
pub mod cli;
#[cfg(feature = "compiler")]
pub mod compile;
#[cfg(feature = "compiler")]
pub mod diagnostic;
pub mod ir;
#[cfg(feature = "compiler")]
pub mod reference;
pub mod runtime;
#[cfg(feature = "compiler")]
pub mod syntax;

#[cfg(feature = "compiler")]
pub use compile::{CompileError, CompileOptions, Compiled, compile_path, compile_str};
pub use runtime::{Context, Validator, Verdict, Violation};
