//! policyc's embedded validator: what runs wherever a password changes.
//!
//! An artifact (compiled by `policyc-compiler`) is loaded into a [`Validator`], which checks
//! passwords for a user ([`Context`]) and reports every violated rule ([`Verdict`]). Nothing here
//! depends on the compiler: with default features this crate has no parser, no regex compiler,
//! no YAML and no command line. The `build` feature adds the writers the compiler needs
//! (artifact encoding, term tries, breached-password store construction).
//!
//! Layers: [`ir`] (the rule program, serialized in the artifact) → [`artifact`] (the versioned,
//! checksummed file format) → [`runtime`] (the validator); [`store`] reads breached-password
//! stores; [`files`] opens what root or SYSTEM must open only after checking it.

// Unsafe code only where an API has no safe form: mapping a file (`mapped`) and the
// Windows file-security module (`files`, the Win32 API). Each allows it locally.
#![deny(unsafe_code)]

pub mod artifact;
#[cfg(any(unix, windows))]
pub mod files;
pub mod ir;
pub mod mapped;
pub mod runtime;
pub mod store;

pub use runtime::{Context, Validator, Verdict, Violation};
