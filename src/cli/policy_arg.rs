//! `POLICY_OR_ARTIFACT`: a compiled artifact, or policy source compiled on the fly.

use super::input;
use policyc_compiler::{CompileOptions, compile_path};
use policyc_runtime::artifact::MAGIC;
use policyc_runtime::{Context, Validator};
use std::path::{Path, PathBuf};

/// The policy to check against and the user to check for (shared by `check` and `explain`).
#[derive(Debug, clap::Args)]
pub(crate) struct Target {
    /// A compiled artifact or a policy file.
    policy: PathBuf,
    /// A user attribute, ATTR=VALUE (repeatable): sAMAccountName, userPrincipalName,
    /// displayName, givenName, sn, mail, memberOf.
    #[arg(long = "user", value_name = "ATTR=VALUE")]
    user: Vec<String>,
    /// The tenant (organization) name, scored like a banned term by `entra score` rules.
    #[arg(long)]
    tenant: Option<String>,
    /// The policy to use when the policy file defines several; with an artifact, the name it
    /// must have.
    #[arg(long, value_name = "NAME")]
    policy_name: Option<String>,
}

impl Target {
    /// Whether the policy is read from standard input (`-`), which then cannot hold passwords.
    pub(crate) fn reads_stdin(&self) -> bool {
        input::is_stdio(&self.policy)
    }

    /// The validator and the user. On failure, the message to print.
    pub(crate) fn load(&self) -> Result<(Validator, Context), String> {
        let validator = load(&self.policy, self.policy_name.as_deref())?;
        let mut ctx = input::user_context(&self.user)?;
        if let Some(t) = &self.tenant {
            ctx.set_tenant(t.clone());
        }
        Ok((validator, ctx))
    }
}

/// `--policy-name` for the commands that take several policies (`diff`, `generate`): none, or
/// one per policy argument, in order.
#[derive(Debug, clap::Args)]
pub(crate) struct PolicyNames {
    /// The policy to use in a policy file that defines several (with an artifact: the name it
    /// must have). Repeatable: one per policy argument, in order.
    #[arg(long = "policy-name", value_name = "NAME")]
    names: Vec<String>,
}

impl PolicyNames {
    /// Loads each of `paths` with its name. On failure, the message to print.
    pub(crate) fn load_all(&self, paths: &[&Path]) -> Result<Vec<Validator>, String> {
        Ok(self.load_artifacts(paths)?.into_iter().map(|(_, v)| v).collect())
    }

    /// As [`PolicyNames::load_all`], with each artifact's bytes.
    pub(crate) fn load_artifacts(
        &self,
        paths: &[&Path],
    ) -> Result<Vec<(Vec<u8>, Validator)>, String> {
        if !self.names.is_empty() && self.names.len() != paths.len() {
            return Err(format!(
                "error: {} given for {}: give one per policy argument, in order",
                super::count(self.names.len() as u64, "--policy-name", "--policy-name options"),
                super::count(paths.len() as u64, "policy", "policies"),
            ));
        }
        let names = self.names.iter().map(|n| Some(n.as_str())).chain(std::iter::repeat(None));
        paths.iter().zip(names).map(|(path, name)| load_artifact(path, name)).collect()
    }
}

/// Loads a validator from an artifact file or a policy file. On failure, the message to print.
/// With `policy`, a policy file's policy of that name, or an artifact that must be of it.
/// `-` reads either from standard input.
pub(crate) fn load(path: &Path, policy: Option<&str>) -> Result<Validator, String> {
    load_artifact(path, policy).map(|(_, validator)| validator)
}

/// As [`load`], with the artifact's bytes (compiled here for a policy file).
pub(crate) fn load_artifact(
    path: &Path,
    policy: Option<&str>,
) -> Result<(Vec<u8>, Validator), String> {
    let started = std::time::Instant::now();
    let (bytes, validator) = load_from(path, policy)?;
    super::style::detail!(
        "policy {} from {} ({}, loaded in {:.1?})",
        validator.label(),
        if input::is_stdio(path) { "standard input".into() } else { path.display().to_string() },
        super::count(validator.program().rules.len() as u64, "rule", "rules"),
        started.elapsed()
    );
    Ok((bytes, validator))
}

fn load_from(path: &Path, policy: Option<&str>) -> Result<(Vec<u8>, Validator), String> {
    let (bytes, name) = input::read_bytes(path)?;
    if bytes.starts_with(&MAGIC) {
        let validator = Validator::from_bytes(&bytes).map_err(|e| format!("error: {name}: {e}"))?;
        return match policy {
            Some(wanted) if wanted != validator.name() => Err(format!(
                "error: {name} is the compiled policy `{}`, not `{wanted}` (--policy-name)",
                validator.name()
            )),
            _ => Ok((bytes, validator)),
        };
    }
    let options =
        CompileOptions { policy: policy.map(str::to_string), ..CompileOptions::default() };
    let compiled = if input::is_stdio(path) {
        let text = String::from_utf8(bytes)
            .map_err(|_| format!("error: {name} is neither a compiled policy nor UTF-8 text"))?;
        // Files the policy names resolve from the current directory.
        let origin = std::env::current_dir().unwrap_or_default().join("<stdin>");
        policyc_compiler::compile_str(origin, &text, &options)
    } else {
        compile_path(path, &options)
    }
    .map_err(|e| super::style::compile_error(&e))?;
    if !compiled.warnings.is_empty() {
        let color = super::style::color_stderr();
        eprint!("{}", compiled.warnings.render_styled(&compiled.sources, color));
    }
    let validator = Validator::from_bytes(&compiled.artifact)
        .map_err(|e| format!("error: internal: compiled artifact does not load: {e}"))?;
    Ok((compiled.artifact, validator))
}
