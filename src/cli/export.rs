//! `policyc export`.

use super::policy_arg::PolicyNames;
use super::{EXIT_OK, FormatArg};
use policyc_import::export::{self, Draft, Export, RuleNote, apple};
use std::path::PathBuf;

/// Write a policy as another checker's configuration, and say, rule by rule, how faithfully:
/// exact, stricter, weaker, or not expressed.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  policyc export pwquality policies/office365.policy -o /etc/security/pwquality.conf\n  policyc export keycloak policies/office365.policy\n  policyc export ppm policies/office365.policy --ldif cn=default,ou=policies,dc=example,dc=com -o ppm.ldif\n  policyc export samba policies/ad-default.policy\n  policyc export apple policies/ad-default.policy policies/office365.policy --json\n\nEach rule's note says whether the export is exact, stricter or weaker, with a password that shows\nthe difference (found by importing the export back and comparing both ways, as `policyc diff` does,\nfor an example user jsmith, John Smith). Apple's takes several policies: what a password needs to\nmeet them all; the others take one."
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
    /// ppm only: write an LDIF change for `ldapmodify` setting `pwdCheckModuleArg` of the
    /// password policy entry DN (the configuration base64-encoded, as it holds line breaks).
    #[arg(long, value_name = "DN")]
    ldif: Option<String>,
    #[command(flatten)]
    format_arg: FormatArg,
}

/// The formats `policyc export` writes.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Format {
    /// libpwquality's pwquality.conf (pam_pwquality on Linux hosts).
    Pwquality,
    /// passwdqc's passwdqc.conf (pam_passwdqc, pwqcheck).
    Passwdqc,
    /// ppm's configuration (OpenLDAP ppolicy's `pwdCheckModuleArg`).
    Ppm,
    /// A Keycloak realm's password policy string.
    Keycloak,
    /// `samba-tool domain passwordsettings set` (a Samba or Windows domain's own policy).
    Samba,
    /// Apple's password rules (the `passwordrules` HTML attribute, iOS password rules), for
    /// password managers to propose a compliant password.
    Apple,
}

impl Format {
    fn name(self) -> &'static str {
        match self {
            Format::Pwquality => "pwquality",
            Format::Passwdqc => "passwdqc",
            Format::Ppm => "ppm",
            Format::Keycloak => "keycloak",
            Format::Samba => "samba",
            Format::Apple => "apple",
        }
    }

    /// The checker's configuration for one policy, checked by importing it back.
    fn export(self, policy: &policyc_runtime::Validator) -> Result<Export, String> {
        use policyc_import as import;
        let program = policy.program();
        let path = format!("{}-export", self.name());
        let (draft, imported): (Draft, _) = match self {
            Format::Pwquality => {
                let d = export::pwquality::export(program);
                let i = import::pwquality::import(&d.value, &path, &[]);
                (d, i)
            }
            Format::Passwdqc => {
                let d = export::passwdqc::export(program);
                let i = import::passwdqc::import(&d.value, &path, &[]);
                (d, i)
            }
            Format::Ppm => {
                let d = export::ppm::export(program);
                let i = import::ppm::import(&d.value, &path, &[]);
                (d, i)
            }
            Format::Keycloak => {
                let d = export::keycloak::export(program);
                let i = import::keycloak::import(&d.value, &path, &[]);
                (d, i)
            }
            Format::Samba => {
                let d = export::samba::export(program);
                let i = import::samba::import(&export::samba::shown(&d.value), &path);
                (d, i)
            }
            Format::Apple => return Ok(apple::export(&[program])),
        };
        export::confirm(policy, self.name(), draft, imported).map_err(|e| format!("error: {e}"))
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
    let export = match (a.checker, validators.as_slice()) {
        (Format::Apple, _) => apple::export(&programs),
        (checker, [one]) => checker.export(one)?,
        (checker, _) => {
            return Err(format!(
                "error: `policyc export {}` takes one policy ({} given): {} has one configuration",
                checker.name(),
                validators.len(),
                checker.name()
            ));
        }
    };
    let export = match (&a.ldif, a.checker) {
        (None, _) => export,
        (Some(dn), Format::Ppm) => Export { value: ldif(dn, &export.value)?, notes: export.notes },
        (Some(_), checker) => {
            return Err(format!(
                "error: --ldif is for ppm's configuration (an LDAP attribute), not {}",
                checker.name()
            ));
        }
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
            let checker = a.checker.name();
            for n in &export.notes {
                let witness = match (&n.accepted, &n.refused) {
                    (Some(a), Some(r)) => format!(" ({checker} accepts {a:?}, refuses {r:?})"),
                    (Some(a), None) => format!(" ({checker} accepts {a:?})"),
                    (None, Some(r)) => format!(" ({checker} refuses {r:?})"),
                    (None, None) => String::new(),
                };
                super::style::note!(
                    "{}.{}: {}: {}{witness}",
                    n.policy,
                    n.rule.as_str(),
                    n.fidelity.as_str(),
                    n.note
                );
            }
            match export.value.ends_with('\n') {
                true => export.value.clone(),
                false => format!("{}\n", export.value),
            }
        }
    };
    match a.output.as_deref().filter(|p| !super::input::is_stdio(p)) {
        Some(path) => std::fs::write(path, text)
            .map_err(|e| format!("error: cannot write `{}`: {e}", path.display()))?,
        None => out!("{text}"),
    }
    Ok(EXIT_OK)
}

/// An LDIF change setting `pwdCheckModuleArg` of the entry `dn` to `config`.
fn ldif(dn: &str, config: &str) -> Result<String, String> {
    use base64::Engine as _;
    if dn.trim().is_empty() || dn.contains(['\n', '\r']) {
        return Err("error: --ldif needs the password policy entry's DN, on one line".to_string());
    }
    let value = base64::engine::general_purpose::STANDARD.encode(config);
    Ok(format!(
        "# For ldapmodify: ppm's configuration, written by `policyc export ppm`.\ndn: {dn}\nchangetype: modify\nreplace: pwdCheckModuleArg\npwdCheckModuleArg:: {value}\n-\n"
    ))
}
