//! policyc's compiler: policy text → checked rule program → signed-ready artifact bytes, and
//! the analyses over policies (`diff` with witness passwords, `generate`).
//!
//! `syntax` (pest grammar → AST with spans) → `check` (names, types, limits, conflicts; every
//! diagnostic at once) → `policyc_runtime::ir` (the rule program) → [`automata`] (regex rules
//! as dense DFAs) → `policyc_runtime::artifact` (versioned, checksummed bytes). The runtime
//! crate never depends on this one.
//!
//! ```
//! use policyc_compiler::{CompileOptions, compile_str};
//! use policyc_runtime::{Context, Validator};
//!
//! let compiled = compile_str(
//!     "corp.policy",
//!     r#"policy corp { rule length "Use 12 or more characters." : length between 12 and 256 }"#,
//!     &CompileOptions::default(),
//! )?;
//! let validator = Validator::from_bytes(&compiled.artifact)?;
//! assert!(!validator.check("short", &Context::new()).is_compliant());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![deny(unsafe_code)]

pub mod analysis;
pub mod automata;
mod check;
pub mod compile;
pub mod diagnostic;
pub mod span;
pub mod syntax;

pub use compile::{CompileError, CompileOptions, Compiled, compile_path, compile_str};
