//! The compiler driver: policy source → checked program → automata → artifact bytes.

use crate::automata::DfaLimits;
use crate::check::{self, load};
use crate::diagnostic::Diagnostics;
use crate::span::SourceMap;
use policyc_runtime::artifact;
use policyc_runtime::ir::Program;
use std::fmt;
use std::path::{Path, PathBuf};

/// The compiler's input limits: largest policy file and term-list file (bytes), most terms in
/// one list, longest term (characters).
pub use crate::check::load::{MAX_LIST_BYTES, MAX_SOURCE_BYTES};
pub use crate::check::terms::{MAX_LIST_TERMS, MAX_TERM_CHARS};

/// What to compile and within which limits.
#[derive(Debug, Clone, Default)]
pub struct CompileOptions {
    /// The policy to compile when the file defines several (else the file's only policy).
    pub policy: Option<String>,
    /// Resource limits for regex automata.
    pub limits: DfaLimits,
    /// Folders besides the policy file's own (and theirs below) whose files the policy may
    /// name in `file`, `import` and `store` (`policyc compile --allow-path`). Anything else is
    /// refused: a policy compiled as root must not embed `/etc/shadow` in an artifact.
    pub allow_paths: Vec<PathBuf>,
}

/// A compiled policy.
#[derive(Debug)]
#[non_exhaustive]
pub struct Compiled {
    /// The checked rule program.
    pub program: Program,
    /// The artifact bytes, ready to write or to load with [`Validator::from_bytes`](policyc_runtime::Validator::from_bytes).
    pub artifact: Vec<u8>,
    /// Warnings (compilation succeeded).
    pub warnings: Diagnostics,
    /// The sources, to render the warnings.
    pub sources: SourceMap,
}

/// A policy that did not compile: every diagnostic, and the sources to render them.
#[derive(Debug)]
pub struct CompileError {
    /// Errors and warnings, in source order.
    pub diagnostics: Diagnostics,
    /// The sources they point into.
    pub sources: SourceMap,
}

impl CompileError {
    /// Every diagnostic and the summary, in a terminal's colours when `color` (`Display` gives
    /// the same text without them).
    pub fn render(&self, color: bool) -> String {
        self.diagnostics.render_styled(&self.sources, color).trim_end().to_string()
    }
}

impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(false))
    }
}

impl std::error::Error for CompileError {}

/// Compiles a policy file (and the files it imports).
///
/// # Errors
/// [`CompileError`] with every diagnostic found.
pub fn compile_path(
    path: impl AsRef<Path>,
    options: &CompileOptions,
) -> Result<Compiled, CompileError> {
    let mut sources = SourceMap::new();
    let mut diags = Diagnostics::new();
    let roots = load::Roots::new(path.as_ref(), &options.allow_paths);
    let loaded = load::load_path(path.as_ref(), &roots, &mut sources, &mut diags);
    finish(loaded, sources, diags, options)
}

/// Compiles policy text; `path` names it in diagnostics and anchors its imports.
///
/// # Errors
/// [`CompileError`] with every diagnostic found.
pub fn compile_str(
    path: impl AsRef<Path>,
    text: &str,
    options: &CompileOptions,
) -> Result<Compiled, CompileError> {
    let mut sources = SourceMap::new();
    let mut diags = Diagnostics::new();
    let roots = load::Roots::new(path.as_ref(), &options.allow_paths);
    let loaded = load::load_text(path.as_ref(), text, &roots, &mut sources, &mut diags);
    finish(loaded, sources, diags, options)
}

fn finish(
    loaded: load::Loaded,
    sources: SourceMap,
    mut diags: Diagnostics,
    options: &CompileOptions,
) -> Result<Compiled, CompileError> {
    let checked = if loaded.incomplete {
        None
    } else {
        check::check(&loaded, &sources, options.policy.as_deref(), options.limits, &mut diags)
    };
    diags.sort();
    match checked {
        Some(c) if !diags.has_errors() => {
            let artifact = artifact::encode(&c.program, &c.dfas);
            Ok(Compiled { program: c.program, artifact, warnings: diags, sources })
        }
        _ => Err(CompileError { diagnostics: diags, sources }),
    }
}
