//! `policyc export`.

use super::policy_arg::PolicyNames;
use super::{EXIT_OK, FormatArg};
use policyc_import::export::{RuleNote, apple};
use std::path::PathBuf;

/// Write a policy as another checker's configuration, and say, rule by rule, how faithfully:
/// exact, stricter, weaker, or not expressed.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  policyc export apple policies/office365.policy\n  policyc export apple policies/ad-default.policy policies/office365.policy --json\n\nWith several policies, the export asks what a password needs to meet them all."
)]
pub(crate) struct Args {
    /// The checker's format.
    #[arg(value_name = "FORMAT")]
    checker: Format,
    /// The policies (artifacts or policy files); several: what a password needs for all.
    #[arg(required = true, value_name = "POLICY_OR_ARTIFACT")]
    policies: Vec<PathBuf>,
    #[command(flatten)]
    names: PolicyNames,
    /// Where to write the configuration (`-`: standard output) [default: standard output].
    #[arg(short, long)]
    output: Option<PathBuf>,
    #[command(flatten)]
    format_arg: FormatArg,
}

/// The formats `policyc export` writes.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Format {
    /// Apple's password rules (the `passwordrules` HTML attribute, iOS password rules), for
    /// password managers to propose a compliant password.
    Apple,
}

impl Format {
    fn name(self) -> &'static str {
        match self {
            Format::Apple => "apple",
        }
    }
}

#[derive(serde::Serialize)]
struct Report<'a> {
    format: &'static str,
    value: &'a str,
    rules: &'a [RuleNote],
}

pub(crate) fn run(a: Args) -> Result<u8, String> {
    let paths: Vec<&std::path::Path> = a.policies.iter().map(PathBuf::as_path).collect();
    let validators = a.names.load_all(&paths)?;
    let programs: Vec<_> = validators.iter().map(|v| v.program()).collect();
    let export = match a.checker {
        Format::Apple => apple::export(&programs),
    };
    let text = match a.format_arg.json() {
        true => {
            let report =
                Report { format: a.checker.name(), value: &export.value, rules: &export.notes };
            serde_json::to_string_pretty(&super::versioned(&report))
                .map_err(|e| format!("error: internal: {e}"))?
                + "\n"
        }
        false => {
            for n in &export.notes {
                super::style::note!(
                    "{}.{}: {}: {}",
                    n.policy,
                    n.rule.as_str(),
                    n.fidelity.as_str(),
                    n.note
                );
            }
            format!("{}\n", export.value)
        }
    };
    match a.output.as_deref().filter(|p| !super::input::is_stdio(p)) {
        Some(path) => std::fs::write(path, text)
            .map_err(|e| format!("error: cannot write `{}`: {e}", path.display()))?,
        None => out!("{text}"),
    }
    Ok(EXIT_OK)
}
