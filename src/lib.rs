//! policyc: a password-policy compiler and its embedded validator.
//!
//! A policy written in the policyc language is parsed, checked and compiled into a
//! self-contained, versioned artifact; the [`Validator`] loads that artifact and checks
//! passwords against it, reporting every violated rule.
//!
//! ```
//! use policyc::{CompileOptions, Context, Validator, compile_str};
//! use policyc::ir::Attribute;
//!
//! // Compile (needs the default `compiler` feature)…
//! let source = r#"
//!     policy corp {
//!       rule length "Use 12 to 256 characters." : length between 12 and 256
//!       rule classes "Mix three of: lowercase, uppercase, digits, symbols."
//!         : at least 3 of { lower, upper, digit, punct }
//!       rule names "Do not use your name." : not contains ad_names
//!     }
//! "#;
//! let compiled = compile_str("corp.policy", source, &CompileOptions::default())?;
//!
//! // …then load the artifact bytes (this part is all a sync agent needs)…
//! let validator = Validator::from_bytes(&compiled.artifact)?;
//!
//! // …and check passwords for a user.
//! let user = Context::new().with(Attribute::SamAccountName, "jdoe");
//! let verdict = validator.check("Jdoe-Summer-2024", &user);
//! assert!(!verdict.is_compliant());
//! assert_eq!(verdict.violations()[0].rule, "names");
//! assert!(validator.check("correct-Horse-battery-9", &user).is_compliant());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Layers
//! `syntax` (pest grammar → AST with spans) → `check` (names, types, limits, conflicts; every
//! diagnostic at once) → [`ir`] (the rule program) → [`automata`] (regex rules as dense DFAs)
//! → [`artifact`] (versioned, checksummed bytes) → [`runtime`] (the [`Validator`]). The runtime
//! never depends on the compiler: with default features off, this crate is the validator alone.
//!
//! # Features
//! - `compiler` (default): the language, checks, automata construction and artifact encoding.
//! - `cli` (default): the `policyc` command line.

// Unsafe code only where an API has no safe form: mapping a file (`mapped`) and the
// Windows file-security module (`files`, the Win32 API). Each allows it locally.
#![deny(unsafe_code)]

#[cfg(feature = "queue")]
pub mod agent;
#[cfg(feature = "compiler")]
pub mod analysis;
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
#[cfg(feature = "cli")]
pub mod corpus;
#[cfg(feature = "compiler")]
pub mod diagnostic;
#[cfg(any(unix, windows))]
pub mod files;
#[cfg(feature = "compiler")]
pub mod generate;
#[cfg(feature = "compiler")]
pub mod import;
pub mod ir;
mod mapped;
#[cfg(feature = "compiler")]
pub mod reference;
pub mod runtime;
pub mod store;
#[cfg(feature = "compiler")]
pub mod syntax;

#[cfg(feature = "compiler")]
pub use compile::{CompileError, CompileOptions, Compiled, compile_path, compile_str};
pub use runtime::{Context, Validator, Verdict, Violation};
