//! `policyc inspect`: what a compiled artifact holds, without a password (as `opa inspect`).

use super::{EXIT_OK, count};
use policyc_gate::signing::{PublicKey, parse_signature, signature_path};
use policyc_runtime::Validator;
use policyc_runtime::artifact::format_version;
use serde::Serialize;
use std::path::PathBuf;

/// Show what a compiled artifact holds: the policy's name and description, its digest, format
/// version and size, its signature (key, serial, time; verified with --key), and its rules
/// (id, severity, kind, message), classes, term lists, stores and automata.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  policyc inspect office365.policyc
  policyc inspect /etc/policyc/office365.policyc --key /etc/policyc/policy.pub --format json")]
pub(crate) struct Args {
    /// The compiled artifact (`-`: standard input).
    artifact: PathBuf,
    /// A public key (`policyc keygen`): verify the signature at `ARTIFACT.sig` with it.
    #[arg(long, value_name = "PUBLIC_KEY")]
    key: Option<PathBuf>,
    #[command(flatten)]
    format: super::FormatArg,
}

#[derive(Debug, Serialize)]
struct Inspection {
    schema: u32,
    policy: String,
    description: String,
    reference: String,
    digest: String,
    format_version: u16,
    bytes: u64,
    heap_bytes: usize,
    signature: Option<Signature>,
    rules: Vec<RuleInfo>,
    classes: usize,
    automata: usize,
    term_lists: Vec<TermList>,
    stores: Vec<Store>,
}

#[derive(Debug, Serialize)]
struct Signature {
    key_id: String,
    serial: u64,
    signed_at: String,
    /// `verified`, `not verified` (no --key), or why verification failed.
    status: String,
}

#[derive(Debug, Serialize)]
struct RuleInfo {
    id: String,
    severity: &'static str,
    kind: &'static str,
    conditional: bool,
    message: String,
}

#[derive(Debug, Serialize)]
struct TermList {
    name: String,
    terms: usize,
}

#[derive(Debug, Serialize)]
struct Store {
    name: String,
    path: String,
}

pub(crate) fn run(a: Args) -> Result<u8, String> {
    let path = &a.artifact;
    let (bytes, name) = super::input::read_bytes(path)?;
    let Some(format_version) = format_version(&bytes) else {
        return Err(format!(
            "error: {name} is not a compiled policy (no policyc artifact header); compile a policy with `policyc compile`"
        ));
    };
    let validator = Validator::from_bytes(&bytes).map_err(|e| format!("error: {name}: {e}"))?;
    // An artifact read from standard input has no `ARTIFACT.sig` beside it.
    let signature = match super::input::is_stdio(path) {
        true if a.key.is_some() => {
            return Err("error: --key verifies `ARTIFACT.sig`: give the artifact as a file".into());
        }
        true => None,
        false => signature(path, &bytes, a.key.as_deref())?,
    };
    let program = validator.program();
    let inspection = Inspection {
        schema: super::JSON_SCHEMA,
        policy: program.name.clone(),
        description: program.description.clone(),
        reference: program.reference.clone(),
        digest: validator.digest_hex(),
        format_version,
        bytes: bytes.len() as u64,
        heap_bytes: validator.heap_bytes(),
        signature,
        rules: program
            .rules
            .iter()
            .map(|r| RuleInfo {
                id: r.id.to_string(),
                severity: r.severity.as_str(),
                kind: r.predicate.kind(),
                conditional: !r.conditions.is_empty(),
                message: r.message.clone(),
            })
            .collect(),
        classes: program.classes.len(),
        automata: program
            .rules
            .iter()
            .map(|r| {
                let mut n = 0;
                r.predicate.walk(&mut |p| {
                    n += usize::from(matches!(p, policyc_runtime::ir::Predicate::Regex { .. }))
                });
                n
            })
            .sum(),
        term_lists: program
            .term_sets
            .iter()
            .map(|t| TermList { name: t.name.clone(), terms: t.ends.len() })
            .collect(),
        stores: program
            .stores
            .iter()
            .map(|s| Store { name: s.name.clone(), path: s.path.clone() })
            .collect(),
    };
    if a.format.json() {
        outln!("{}", serde_json::to_string_pretty(&inspection).map_err(|e| e.to_string())?);
    } else {
        out!("{}", render(&inspection));
    }
    Ok(EXIT_OK)
}

/// The signature at `ARTIFACT.sig`, if there is one; verified with `key`.
fn signature(
    artifact: &std::path::Path,
    bytes: &[u8],
    key: Option<&std::path::Path>,
) -> Result<Option<Signature>, String> {
    let sig = signature_path(artifact);
    let text = match std::fs::read_to_string(&sig) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && key.is_none() => return Ok(None),
        Err(e) => return Err(format!("error: cannot read `{}`: {e}", sig.display())),
    };
    let parsed = parse_signature(&text, &sig).map_err(|e| format!("error: {e}"))?;
    let status = match key {
        None => "not verified (give --key PUBLIC_KEY)".to_string(),
        Some(key) => {
            let key = PublicKey::from_file(key).map_err(|e| format!("error: {e}"))?;
            match key.verify(artifact, bytes) {
                Ok(_) => "verified".to_string(),
                Err(e) => format!("DOES NOT VERIFY: {e}"),
            }
        }
    };
    let signed_at = humantime::format_rfc3339_seconds(
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(parsed.signed.time),
    )
    .to_string();
    Ok(Some(Signature { key_id: parsed.key_id, serial: parsed.signed.serial, signed_at, status }))
}

fn render(i: &Inspection) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let _ = writeln!(s, "policy      {}", i.policy);
    if !i.description.is_empty() {
        let _ = writeln!(s, "description {}", i.description);
    }
    if !i.reference.is_empty() {
        let _ = writeln!(s, "reference   {}", i.reference);
    }
    let _ = writeln!(s, "digest      sha256:{}", i.digest);
    let _ = writeln!(
        s,
        "artifact    format {}, {}, {} on the heap once loaded",
        i.format_version,
        count(i.bytes, "byte", "bytes"),
        count(i.heap_bytes as u64, "byte", "bytes")
    );
    match &i.signature {
        None => {
            let _ = writeln!(s, "signature   none");
        }
        Some(g) => {
            let _ = writeln!(
                s,
                "signature   key {}, serial {}, signed {}: {}",
                g.key_id, g.serial, g.signed_at, g.status
            );
        }
    }
    let _ = writeln!(
        s,
        "contents    {}, {}, {}, {}",
        count(i.classes as u64, "class", "classes"),
        count(i.automata as u64, "automaton", "automata"),
        count(i.term_lists.len() as u64, "term list", "term lists"),
        count(i.stores.len() as u64, "store", "stores"),
    );
    for t in &i.term_lists {
        let _ = writeln!(s, "  terms `{}`: {}", t.name, count(t.terms as u64, "term", "terms"));
    }
    for st in &i.stores {
        let _ = writeln!(s, "  store `{}`: {}", st.name, st.path);
    }
    let _ = writeln!(s, "{}:", count(i.rules.len() as u64, "rule", "rules"));
    let id_width = i.rules.iter().map(|r| r.id.chars().count()).max().unwrap_or(0);
    let kind_width = i.rules.iter().map(|r| r.kind.len()).max().unwrap_or(0);
    for r in &i.rules {
        let when = if r.conditional { " (when …)" } else { "" };
        let _ = writeln!(
            s,
            "  {:<id_width$}  {:<7}  {:<kind_width$}  {}{when}",
            r.id, r.severity, r.kind, r.message
        );
    }
    s
}
