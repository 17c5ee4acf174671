//! Table-driven policy test cases in YAML: a policy, and passwords with user attributes and the
//! verdict each must get.
//!
//! ```yaml
//! policy: ../office365.policy      # relative to this file
//! policy_name: office365           # optional: when the file defines several policies
//! cases:
//!   - name: seven characters
//!     password: "Short1!"
//!     user: { sAMAccountName: jdoe, memberOf: ["CN=Admins,DC=example,DC=com"] }
//!     compliant: false
//!     fails: [length]               # optional: exactly these rules, in policy order
//! ```

use policyc_compiler::{CompileOptions, compile_path};
use policyc_runtime::{Context, Validator};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// A case file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseFile {
    /// The policy, relative to the case file.
    pub policy: PathBuf,
    /// Which policy of the file, when it defines several.
    #[serde(default)]
    pub policy_name: Option<String>,
    /// The cases.
    pub cases: Vec<Case>,
}

/// One case.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// What the case shows.
    #[serde(default)]
    pub name: Option<String>,
    /// The password (test data, not a secret).
    #[serde(default)]
    pub password: Option<Zeroizing<String>>,
    /// A file of passwords, one per line, relative to the case file; each must get the verdict.
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// User attributes by LDAP name; a list for multi-valued ones.
    #[serde(default)]
    pub user: BTreeMap<String, Values>,
    /// The tenant (organization) name, for Entra scoring.
    #[serde(default)]
    pub tenant: Option<String>,
    /// The expected verdict.
    pub compliant: bool,
    /// The exact violated rule ids, in policy order, when given.
    #[serde(default)]
    pub fails: Option<Vec<String>>,
}

/// One value or several.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Values {
    /// `attr: value`.
    One(String),
    /// `attr: [a, b]`.
    Many(Vec<String>),
}

impl Case {
    /// The case's user as a [`Context`].
    ///
    /// # Errors
    /// The message for an unknown attribute.
    pub fn context(&self) -> Result<Context, String> {
        let mut ctx = Context::new();
        for (name, values) in &self.user {
            let values = match values {
                Values::One(v) => std::slice::from_ref(v),
                Values::Many(v) => v.as_slice(),
            };
            for v in values {
                ctx.add_named(name, v.clone()).map_err(|e| e.to_string())?;
            }
        }
        if let Some(t) = &self.tenant {
            ctx.set_tenant(t.clone());
        }
        Ok(ctx)
    }

    /// The case's passwords: its `password`, or the lines of its `password_file` (read
    /// relative to `base`).
    ///
    /// # Errors
    /// The message when neither or both are given, or the file cannot be read.
    pub fn passwords(&self, base: &Path) -> Result<Vec<Zeroizing<String>>, String> {
        match (&self.password, &self.password_file) {
            (Some(p), None) => Ok(vec![p.clone()]),
            (None, Some(f)) => {
                let path = base.join(f);
                let text = Zeroizing::new(
                    std::fs::read_to_string(&path)
                        .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?,
                );
                Ok(text.lines().map(|l| Zeroizing::new(l.to_string())).collect())
            }
            _ => Err("give either `password` or `password_file`".into()),
        }
    }

    /// A label for reports: the name, else the case's position.
    pub fn label(&self, index: usize) -> String {
        self.name.clone().unwrap_or_else(|| format!("case {}", index + 1))
    }
}

/// The outcome of one case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The case's label.
    pub case: String,
    /// What differed.
    pub difference: String,
}

/// A loaded case file with its compiled policy.
#[derive(Debug)]
pub struct Suite {
    /// The cases.
    pub file: CaseFile,
    /// The compiled policy.
    pub validator: Validator,
    /// The checked program (for the reference evaluator).
    pub program: policyc_runtime::ir::Program,
    /// The case file's folder (password files are relative to it).
    pub base: PathBuf,
}

/// Reads a case file and compiles its policy.
///
/// # Errors
/// A message naming the file and what is wrong (YAML, policy diagnostics).
pub fn load(path: &Path) -> Result<Suite, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    let file: CaseFile =
        serde_yaml::from_str(&text).map_err(|e| format!("`{}`: {e}", path.display()))?;
    let policy = path.parent().unwrap_or(Path::new(".")).join(&file.policy);
    let options = CompileOptions { policy: file.policy_name.clone(), ..CompileOptions::default() };
    let compiled = compile_path(&policy, &options).map_err(|e| {
        // The diagnostics carry their own `error:` lines.
        format!("`{}`: its policy `{}` does not compile:\n{e}", path.display(), policy.display())
    })?;
    let validator = Validator::from_bytes(&compiled.artifact).map_err(|e| e.to_string())?;
    let base = path.parent().unwrap_or(Path::new(".")).to_path_buf();
    Ok(Suite { file, validator, program: compiled.program, base })
}

impl Suite {
    /// Runs every case; returns the number run and the failures.
    pub fn run(&self) -> (usize, Vec<Failure>) {
        let mut failures = Vec::new();
        for (i, case) in self.file.cases.iter().enumerate() {
            let label = case.label(i);
            let (ctx, passwords) =
                match case.context().and_then(|c| Ok((c, case.passwords(&self.base)?))) {
                    Ok(x) => x,
                    Err(e) => {
                        failures.push(Failure { case: label, difference: e });
                        continue;
                    }
                };
            let mut diffs = Vec::new();
            for (n, password) in passwords.iter().enumerate() {
                let which = if passwords.len() > 1 {
                    format!("password {}: ", n + 1)
                } else {
                    String::new()
                };
                for d in self.differences(case, password, &ctx) {
                    diffs.push(format!("{which}{d}"));
                }
            }
            if !diffs.is_empty() {
                failures.push(Failure { case: label, difference: diffs.join("; ") });
            }
        }
        (self.file.cases.len(), failures)
    }

    /// How the verdict for one password differs from the case's expectation.
    fn differences(&self, case: &Case, password: &str, ctx: &Context) -> Vec<String> {
        let verdict = self.validator.check(password, ctx);
        let got: Vec<&str> = verdict.violations().iter().map(|v| v.rule()).collect();
        let mut diffs = Vec::new();
        if verdict.is_compliant() != case.compliant {
            diffs.push(format!(
                "expected {}, got {} (violations: [{}])",
                verdict_word(case.compliant),
                verdict_word(verdict.is_compliant()),
                got.join(", ")
            ));
        }
        if let Some(want) = &case.fails
            && want.iter().map(String::as_str).ne(got.iter().copied())
        {
            diffs.push(format!(
                "expected violations [{}], got [{}]",
                want.join(", "),
                got.join(", ")
            ));
        }
        diffs
    }
}

fn verdict_word(compliant: bool) -> &'static str {
    if compliant { "compliant" } else { "noncompliant" }
}
