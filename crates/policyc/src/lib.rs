//! policyc: a password-policy compiler and its embedded validator.
//!
//! A policy written in the policyc language is parsed, checked and compiled into a
//! self-contained, versioned artifact; the [`Validator`] loads that artifact and checks
//! passwords against it, reporting every violated rule.
//!
//! ```
//! # #[cfg(feature = "compiler")] {
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
//! assert_eq!(verdict.violations()[0].rule(), "names");
//! assert!(validator.check("correct-Horse-battery-9", &user).is_compliant());
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Features
//! - `compiler` (default): the language, its checks and diagnostics, artifact encoding.
//!   Without it this crate is the validator alone (`cargo tree` shows what that links).
//! - `strength` (default): strength rules (zxcvbn).
//! - `import`: the importers (the `import` module); implies `compiler`.

#![deny(unsafe_code)]
#![deny(missing_docs)]

/// Why an artifact cannot be loaded: the validator is never built from a damaged one.
///
/// ```
/// use policyc::{LoadError, Validator};
///
/// let mut bytes = include_bytes!("../../../tests/golden/artifacts/office365.policyc").to_vec();
/// let last = bytes.len() - 1;
/// bytes[last] ^= 1; // one bit flipped in transit
/// let error = Validator::from_bytes(&bytes).unwrap_err();
/// assert!(matches!(error, LoadError::ChecksumMismatch));
/// assert!(error.to_string().contains("recompile"), "{error}");
/// ```
pub use policyc_runtime::artifact::LoadError;

/// A user attribute a policy's rules may read (`not contains ad_names`), by its directory name.
///
/// ```
/// use policyc::{Attribute, Context};
///
/// assert_eq!(Attribute::SamAccountName.ldap_name(), "sAMAccountName");
/// let user = Context::new()
///     .with(Attribute::SamAccountName, "jdoe")
///     .with(Attribute::DisplayName, "Jane Doe");
/// assert_eq!(user.get(Attribute::DisplayName), ["Jane Doe"]);
/// ```
pub use policyc_runtime::ir::Attribute;

/// Whether a rule rejects ([`Severity::Enforce`]) or only reports ([`Severity::Audit`], as
/// Entra's audit mode).
///
/// ```
/// use policyc::{Context, Severity, Validator};
///
/// let validator =
///     Validator::from_bytes(include_bytes!("../../../tests/golden/artifacts/office365.policyc"))?;
/// let verdict = validator.check("short", &Context::new());
/// assert!(verdict.violations().iter().all(|v| v.severity() == Severity::Enforce));
/// assert_eq!(Severity::Audit.as_str(), "audit");
/// # Ok::<(), policyc::LoadError>(())
/// ```
pub use policyc_runtime::ir::Severity;

/// Every rule of the policy with its outcome for one password, and what was measured (never
/// the password): what a help desk shows.
///
/// ```
/// use policyc::{Context, Detail, Outcome, Validator};
///
/// let validator =
///     Validator::from_bytes(include_bytes!("../../../tests/golden/artifacts/office365.policyc"))?;
/// let explanation = validator.explain("short", &Context::new());
/// assert!(!explanation.is_compliant());
/// let length = &explanation.rules[0];
/// assert_eq!((length.id(), length.outcome), ("length", Outcome::Failed));
/// assert!(matches!(length.detail, Detail::Length { actual: 5, .. }));
/// # Ok::<(), policyc::LoadError>(())
/// ```
pub use policyc_runtime::runtime::Explanation;

/// One rule of an [`Explanation`]: the rule, its [`Outcome`] and the [`Detail`] measured.
///
/// ```
/// use policyc::{Context, Outcome, Validator};
///
/// let validator =
///     Validator::from_bytes(include_bytes!("../../../tests/golden/artifacts/office365.policyc"))?;
/// for report in validator.explain("Tr0ub4dor&3", &Context::new()).rules {
///     assert_eq!(report.outcome, Outcome::Passed, "{}", report.message());
/// }
/// # Ok::<(), policyc::LoadError>(())
/// ```
pub use policyc_runtime::runtime::RuleReport;

/// What happened to one rule: passed, failed, or not applicable (its `when` does not hold).
///
/// ```
/// use policyc::Outcome;
///
/// let failed = Outcome::Failed;
/// assert_ne!(failed, Outcome::Passed);
/// ```
pub use policyc_runtime::runtime::Outcome;

/// What one rule measured, in terms a person can act on (positions are 1-based characters).
///
/// ```
/// use policyc::{Context, Detail, Validator};
///
/// let validator =
///     Validator::from_bytes(include_bytes!("../../../tests/golden/artifacts/office365.policyc"))?;
/// let explanation = validator.explain("Pässw0rd", &Context::new());
/// let charset = explanation.rules.iter().find(|r| r.id() == "charset").unwrap();
/// assert!(matches!(&charset.detail, Detail::Only { positions, .. } if positions == &[2]));
/// # Ok::<(), policyc::LoadError>(())
/// ```
pub use policyc_runtime::runtime::Detail;

pub use policyc_runtime::{Context, Validator};

/// The answer to "may this password be set?": every violated rule, in policy order.
/// Serializes to the JSON `policyc check --format json` writes, never with the password.
///
/// ```
/// use policyc::{Context, Validator};
///
/// let validator =
///     Validator::from_bytes(include_bytes!("../../../tests/golden/artifacts/office365.policyc"))?;
/// let verdict = validator.check("short", &Context::new());
/// assert!(!verdict.is_compliant());
/// let rules: Vec<&str> = verdict.violations().iter().map(|v| v.rule()).collect();
/// assert_eq!(rules, ["length", "classes"]);
/// # Ok::<(), policyc::LoadError>(())
/// ```
pub use policyc_runtime::Verdict;

/// One violated rule: its id, the message for the user, and its [`Severity`].
///
/// ```
/// use policyc::{Context, Validator};
///
/// let validator =
///     Validator::from_bytes(include_bytes!("../../../tests/golden/artifacts/office365.policyc"))?;
/// let verdict = validator.check("Résumé12", &Context::new());
/// let violation = &verdict.violations()[0];
/// assert_eq!(violation.rule(), "charset");
/// assert!(violation.message().starts_with("Use only letters A-Z and a-z"));
/// # Ok::<(), policyc::LoadError>(())
/// ```
pub use policyc_runtime::Violation;

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

/// One problem found in a policy: level, message, place, the label under the caret, help.
///
/// ```
/// use policyc::{CompileOptions, compile_str};
///
/// let error = compile_str("bad.policy", "policy p { rule r \"m\" : length >> 8 }", &CompileOptions::default())
///     .unwrap_err();
/// let first = error.diagnostics.iter().next().unwrap();
/// assert!(first.span.is_some(), "a syntax error has a place: {}", first.message);
/// ```
#[cfg(feature = "compiler")]
pub use policyc_compiler::diagnostic::Diagnostic;

/// A policy that did not compile: every diagnostic and the sources they point into. `Display`
/// renders them as rustc does (file, line, column, a caret and what was expected).
///
/// ```
/// use policyc::{CompileOptions, compile_str};
///
/// let source = "policy p {\n  rule r \"Use 8.\" : length between 8 and\n}\n";
/// let error = compile_str("p.policy", source, &CompileOptions::default()).unwrap_err();
/// let text = error.to_string();
/// assert!(text.contains("p.policy:3:1"), "{text}");
/// assert!(text.contains('^'), "{text}");
/// ```
#[cfg(feature = "compiler")]
pub use policyc_compiler::CompileError;

/// What to compile and within which limits: the policy to pick from a file with several, and
/// the directories its `file`, `import` and `store` may name.
///
/// ```
/// use policyc::CompileOptions;
///
/// let options = CompileOptions { policy: Some("office365".into()), ..CompileOptions::default() };
/// let compiled = policyc::compile_path("../../policies/office365.policy", &options)?;
/// assert_eq!(compiled.program.name, "office365");
/// # Ok::<(), policyc::CompileError>(())
/// ```
#[cfg(feature = "compiler")]
pub use policyc_compiler::CompileOptions;

/// A compiled policy: the artifact's bytes (what `policyc compile` writes), the program, and
/// the warnings.
///
/// ```
/// use policyc::{CompileOptions, Validator, compile_str};
///
/// let source = "policy p { rule length \"Use 12 or more characters.\" : length between 12 and 256 }";
/// let compiled = compile_str("p.policy", source, &CompileOptions::default())?;
/// assert!(compiled.warnings.iter().next().is_none());
/// let validator = Validator::from_bytes(&compiled.artifact)?;
/// assert_eq!(validator.name(), "p");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[cfg(feature = "compiler")]
pub use policyc_compiler::Compiled;

/// Compiles a policy file and the files it imports; with several policies in the file,
/// [`CompileOptions::policy`] names one.
///
/// ```
/// use policyc::{CompileOptions, Context, Validator, compile_path};
///
/// let compiled = compile_path("../../policies/office365.policy", &CompileOptions::default())?;
/// let validator = Validator::from_bytes(&compiled.artifact)?;
/// assert!(validator.complies("Tr0ub4dor&3", &Context::new()));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[cfg(feature = "compiler")]
pub use policyc_compiler::compile_path;

/// Compiles policy text; the path names it in diagnostics and anchors its imports.
///
/// ```
/// use policyc::{CompileOptions, compile_str};
///
/// let compiled = compile_str(
///     "corp.policy",
///     "policy corp { rule length \"Use 8 to 64 characters.\" : length between 8 and 64 }",
///     &CompileOptions::default(),
/// )?;
/// assert!(!compiled.artifact.is_empty());
/// # Ok::<(), policyc::CompileError>(())
/// ```
#[cfg(feature = "compiler")]
pub use policyc_compiler::compile_str;
