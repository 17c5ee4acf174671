//! `policyc import`.

use super::EXIT_OK;
use std::path::PathBuf;

/// Write another checker's configuration as a policy: each option it supports as a rule
/// citing its line, a clear error naming each option policyc cannot express exactly.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  policyc import pwquality /etc/security/pwquality.conf -o pwquality.policy\n  policyc import pwquality pwquality.conf --skip dictcheck --skip gecoscheck\n  policyc import passwdqc /etc/passwdqc.conf --skip match\n  policyc import keycloak realm-export.json -o keycloak.policy\n  ldapsearch -LLL -b cn=ppolicy,dc=example,dc=com pwdCheckModuleArg > ppolicy.ldif\n  policyc import ppm ppolicy.ldif -o ppm.policy\n  { samba-tool domain passwordsettings show; samba-tool domain passwordsettings pso show AdminsPSO; } > samba.txt\n  policyc import samba samba.txt -o directory.policy"
)]
pub(crate) struct Args {
    /// The input's format.
    format: Format,
    /// The configuration file (`-`: standard input).
    input: PathBuf,
    /// Where to write the policy (`-`: standard output) [default: standard output].
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Leave out an option policyc cannot express (the policy says so); repeat for several.
    #[arg(long, value_name = "OPTION")]
    skip: Vec<String>,
}

/// The formats `policyc import` reads.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Format {
    /// libpwquality's pwquality.conf (pam_pwquality).
    Pwquality,
    /// passwdqc's passwdqc.conf (pam_passwdqc, pwqcheck).
    Passwdqc,
    /// A Keycloak password policy string, or a realm export (JSON) holding one.
    Keycloak,
    /// ppm's configuration (OpenLDAP ppolicy's `pwdCheckModuleArg`), or an LDIF entry holding it.
    Ppm,
    /// Apple's password rules (the `passwordrules` HTML attribute).
    Apple,
    /// The directory's policy: `samba-tool domain passwordsettings show` and `pso show` output.
    Samba,
}

pub(crate) fn run(a: Args) -> Result<u8, String> {
    let text = super::input::read_text(&a.input)?;
    let name = a.input.display().to_string();
    let policy = match a.format {
        Format::Pwquality => policyc_import::pwquality::import(&text, &name, &a.skip),
        Format::Passwdqc => policyc_import::passwdqc::import(&text, &name, &a.skip),
        Format::Ppm => policyc_import::ppm::import(&ppm_config(&text)?, &name, &a.skip),
        Format::Apple => policyc_import::apple::import(&text, &name),
        Format::Samba => policyc_import::samba::import(&text, &name),
        Format::Keycloak => {
            policyc_import::keycloak::import(&keycloak_policy(&text)?, &name, &a.skip)
        }
    }
    .map_err(|e| format!("error: {e}"))?;
    if !enforces(&policy, &name) {
        let skipped = match a.skip.is_empty() {
            true => String::new(),
            false => format!(" (`--skip {}` left out what it had)", a.skip.join(" --skip ")),
        };
        eprintln!(
            "warning: the imported policy has no enforce rule{skipped}: it accepts every password"
        );
    }
    match a.output.as_deref().filter(|p| !super::input::is_stdio(p)) {
        Some(path) => std::fs::write(path, policy)
            .map_err(|e| format!("error: cannot write `{}`: {e}", path.display()))?,
        None => out!("{policy}"),
    }
    Ok(EXIT_OK)
}

/// Whether an imported policy refuses anything: it has an enforce rule (an import always
/// compiles; a policy that did not is treated as refusing, the importer's error says why).
fn enforces(policy: &str, name: &str) -> bool {
    let options = policyc_compiler::CompileOptions::default();
    policyc_compiler::compile_str(name, policy, &options).map_or(true, |c| {
        c.program.rules.iter().any(|r| r.severity == policyc_runtime::ir::Severity::Enforce)
    })
}

/// The policy string of a Keycloak input: the file itself, or the `passwordPolicy` of a realm
/// export.
fn keycloak_policy(text: &str) -> Result<String, String> {
    if !text.trim_start().starts_with('{') {
        return Ok(text.to_string());
    }
    let realm: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| format!("error: not a Keycloak realm export: {e}"))?;
    match realm.get("passwordPolicy") {
        Some(serde_json::Value::String(policy)) => Ok(policy.clone()),
        Some(_) => Err("error: the realm's `passwordPolicy` is not a string".to_string()),
        None => Err(
            "error: the realm export has no `passwordPolicy` (the realm has no password policy)"
                .to_string(),
        ),
    }
}

/// The ppm configuration of an input: the file itself, or the `pwdCheckModuleArg` of an LDIF
/// entry (`pwdCheckModuleArg:: BASE64`, as ldapsearch writes a value with line breaks, or
/// `pwdCheckModuleArg: TEXT`; continuation lines start with a space).
fn ppm_config(text: &str) -> Result<String, String> {
    use base64::Engine as _;
    let mut value: Option<(bool, String)> = None;
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let Some(rest) = line.strip_prefix("pwdCheckModuleArg:") else { continue };
        let (encoded, first) = match rest.strip_prefix(':') {
            Some(b64) => (true, b64.trim_start().to_string()),
            None => (false, rest.trim_start().to_string()),
        };
        let mut joined = first;
        while let Some(cont) = lines.peek().and_then(|l| l.strip_prefix(' ')) {
            joined.push_str(cont);
            lines.next();
        }
        value = Some((encoded, joined));
        break;
    }
    match value {
        None if text.lines().any(|l| l.starts_with("dn:")) => {
            Err("error: the LDIF entry has no `pwdCheckModuleArg` (ask ldapsearch for it by name)"
                .to_string())
        }
        None => Ok(text.to_string()),
        Some((false, plain)) => Ok(plain),
        Some((true, b64)) => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .map_err(|e| format!("error: `pwdCheckModuleArg::` is not base64: {e}"))?;
            String::from_utf8(bytes)
                .map_err(|_| "error: the decoded `pwdCheckModuleArg` is not UTF-8".to_string())
        }
    }
}
