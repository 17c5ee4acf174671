//! `policyc keygen`: a key pair for signing artifacts.

use super::EXIT_OK;
use std::path::PathBuf;

/// Make an Ed25519 key pair for signing artifacts: the secret key (mode 0600; keep it off the
/// domain controllers) and `KEY.pub` for the hook's and the agent's `policy_public_key`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  policyc keygen -o /root/policyc-signing.key\n  policyc compile policies/office365.policy -o office365.policyc --sign /root/policyc-signing.key\n  # agent.yaml: policy_public_key: /etc/policyc/policyc-signing.key.pub"
)]
pub(crate) struct Args {
    /// Where to write the secret key (never over an existing file); the public key goes to
    /// the same path with `.pub` appended.
    #[arg(short, long)]
    output: PathBuf,
}

pub(crate) fn run(a: Args) -> Result<u8, String> {
    let public = policyc_gate::signing::keygen(&a.output).map_err(|e| format!("error: {e}"))?;
    super::style::note!(
        "key {} -> {} (secret, keep it safe) and {}.pub (public)",
        public.id(),
        a.output.display(),
        a.output.display()
    );
    Ok(EXIT_OK)
}
