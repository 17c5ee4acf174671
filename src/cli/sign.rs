//! `policyc sign`: signs (or signs again) a compiled artifact.

use super::EXIT_OK;
use std::path::{Path, PathBuf};

/// Sign a compiled artifact, writing `ARTIFACT.sig`: its bytes with the policy's name, a serial
/// that only grows, and the time. Hooks, the agent and the Windows filter with a
/// `policy_public_key` use only a signed artifact, and never one with a serial older than one
/// they used (a replayed or downgraded policy).
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  policyc sign /etc/policyc/office365.policyc --key /root/policyc-signing.key\n  policyc sign office365.policyc --key /root/policyc-signing.key --serial 1765000000"
)]
pub(crate) struct Args {
    /// The compiled artifact.
    artifact: PathBuf,
    /// The secret key (`policyc keygen`).
    #[arg(long, value_name = "SECRET_KEY")]
    key: PathBuf,
    /// The serial [default: the time in seconds, above the serial of a signature already at
    /// `ARTIFACT.sig`].
    #[arg(long)]
    serial: Option<u64>,
}

pub(crate) fn run(a: Args) -> Result<u8, String> {
    let bytes = std::fs::read(&a.artifact)
        .map_err(|e| format!("error: cannot read `{}`: {e}", a.artifact.display()))?;
    let validator = policyc_runtime::Validator::from_bytes(&bytes)
        .map_err(|e| format!("error: `{}`: {e}", a.artifact.display()))?;
    let said = signed(&a.key, &a.artifact, &bytes, validator.name(), a.serial)
        .map_err(|e| format!("error: cannot sign: {e}"))?;
    super::style::note!("{said}");
    Ok(EXIT_OK)
}

/// Signs and says what was signed.
pub(crate) fn signed(
    secret: &Path,
    artifact: &Path,
    bytes: &[u8],
    name: &str,
    serial: Option<u64>,
) -> Result<String, String> {
    let (id, s) = policyc_gate::signing::sign(secret, artifact, bytes, name, serial)
        .map_err(|e| e.to_string())?;
    Ok(format!(
        "signed policy `{}` serial {} with key {id} -> {}",
        s.name,
        s.serial,
        policyc_gate::signing::signature_path(artifact).display()
    ))
}
