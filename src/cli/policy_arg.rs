//! `POLICY_OR_ARTIFACT`: a compiled artifact, or policy source compiled on the fly.

use crate::artifact::MAGIC;
use crate::{CompileOptions, Validator, compile_path};
use std::path::Path;

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
