//! `policyc generate`: random passwords that satisfy every policy given.

use super::{EXIT_OK, input, policy_arg};
use policyc_compiler::analysis::generate::{GenerateOptions, generate};
use std::path::PathBuf;

/// Generate random passwords (from the OS's CSPRNG) that every given policy accepts, e.g. a
/// temporary password both on-premises AD and the cloud accept.
///
/// Characters are drawn uniformly from the visible ASCII characters every policy allows; each
/// password is confirmed by every validator before it is printed, one per line.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  policyc generate policies/ad-default.policy policies/office365.policy --count 3 --user sAMAccountName=jdoe\n  \
policyc generate policies/office365.policy --format json"
)]
pub(crate) struct Args {
    /// Policies or artifacts; a password must satisfy all of them.
    #[arg(required = true)]
    policies: Vec<PathBuf>,
    /// How many passwords.
    #[arg(long, default_value_t = 1)]
    count: usize,
    /// Length in characters [default: 16, or the policies' minimum if larger].
    #[arg(long)]
    length: Option<u32>,
    /// A user attribute, ATTR=VALUE (repeatable), for rules about the user.
    #[arg(long = "user", value_name = "ATTR=VALUE")]
    user: Vec<String>,
    #[command(flatten)]
    names: policy_arg::PolicyNames,
    /// `json`: one document per password, `{"schema", "password", "length", "policies"}`, the
    /// policies named with their versions (`name@digest`).
    #[command(flatten)]
    format: super::FormatArg,
}

/// One generated password, as `--format json` writes it.
#[derive(Debug, serde::Serialize)]
struct Generated<'a> {
    password: &'a str,
    length: usize,
    policies: &'a [String],
}

pub(crate) fn run(a: Args) -> Result<u8, String> {
    let validators =
        a.names.load_all(&a.policies.iter().map(PathBuf::as_path).collect::<Vec<_>>())?;
    let ctx = input::user_context(&a.user)?;
    let options =
        GenerateOptions { length: a.length, count: a.count, ..GenerateOptions::default() };
    let mut random = |buf: &mut [u8]| getrandom::fill(buf).map_err(|e| e.to_string());
    let passwords =
        generate(&validators, &ctx, &options, &mut random).map_err(|e| format!("error: {e}"))?;
    let policies: Vec<String> = validators.iter().map(|v| v.label()).collect();
    for p in passwords {
        if super::out::closed() {
            break;
        }
        if a.format.json() {
            let one = Generated { password: &p, length: p.chars().count(), policies: &policies };
            let line = zeroize::Zeroizing::new(
                serde_json::to_string(&super::versioned(&one)).unwrap_or_default(),
            );
            outln!("{}", line.as_str());
        } else {
            outln!("{}", p.as_str());
        }
    }
    Ok(EXIT_OK)
}
