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
    /// The policy to compile when a policy file defines several.
    #[arg(long)]
    policy_name: Option<String>,
}

impl Target {
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

/// Loads a validator from an artifact file or a policy file. On failure, the message to print.
pub(crate) fn load(path: &Path, policy: Option<&str>) -> Result<Validator, String> {
    let bytes =
        std::fs::read(path).map_err(|e| format!("error: cannot read `{}`: {e}", path.display()))?;
    if bytes.starts_with(&MAGIC) {
        return Validator::from_bytes(&bytes)
            .map_err(|e| format!("error: `{}`: {e}", path.display()));
    }
    let options =
        CompileOptions { policy: policy.map(str::to_string), ..CompileOptions::default() };
    let compiled = compile_path(path, &options).map_err(|e| e.to_string())?;
    if !compiled.warnings.is_empty() {
        eprint!("{}", compiled.warnings.render(&compiled.sources));
    }
    Validator::from_bytes(&compiled.artifact)
        .map_err(|e| format!("error: internal: compiled artifact does not load: {e}"))
}
