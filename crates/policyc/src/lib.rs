//! policyc: a password-policy compiler and its embedded validator.
//!
//! A policy written in the policyc language is parsed, checked and compiled into a
//! self-contained, versioned artifact; the [`Validator`] loads that artifact and checks
//! passwords against it, reporting every violated rule.
//!
//! ```
//! use policyc::{Attribute, CompileOptions, Context, Validator, compile_str};
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
//! # Features
//! - `compiler` (default): the language, its checks and diagnostics, artifact encoding.
//!   Without it this crate is the validator alone (`cargo tree` shows what that links).
//! - `strength` (default): strength rules (zxcvbn).
//! - `import`: the importers ([`import`]); implies `compiler`.

#![deny(unsafe_code)]
#![deny(missing_docs)]

pub use policyc_runtime::artifact::LoadError;
pub use policyc_runtime::ir::Attribute;
pub use policyc_runtime::runtime::{Explanation, RuleReport};
pub use policyc_runtime::{Context, Validator, Verdict, Violation};

/// Breached-password stores, for an embedder that looks a password up itself (a policy's
/// `not in STORE` rules do it inside [`Validator::check`]).
///
/// ```no_run
/// let store = policyc::store::Store::open("/var/lib/policyc/pwned")?;
/// if store.lookup("Password1")?.is_breached() {
///     eprintln!("known from breaches");
/// }
/// # Ok::<(), policyc::store::StoreError>(())
/// ```
pub mod store {
    pub use policyc_runtime::store::{HashMode, Lookup, Store, StoreError, StoreInfo};
}

/// Importers: another checker's configuration (pwquality, passwdqc, Keycloak, Apple, Samba,
/// ppm) written as policy text, every option expressed exactly or refused by name (feature
/// `import`).
#[cfg(feature = "import")]
pub use policyc_import as import;

#[cfg(feature = "compiler")]
pub use policyc_compiler::diagnostic::Diagnostic;
#[cfg(feature = "compiler")]
pub use policyc_compiler::{CompileError, CompileOptions, Compiled, compile_path, compile_str};
