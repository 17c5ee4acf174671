//! `policyc page`: the self-service page, a static site any web server can host.

use super::EXIT_OK;
use super::policy_arg::PolicyNames;
use policyc_import::export::apple;
use policyc_runtime::Validator;
use policyc_runtime::ir::Predicate;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// The page's files, from `crates/wasm/web`.
const INDEX: &str = include_str!("../../crates/wasm/web/index.html");
const STATIC: [(&str, &str); 3] = [
    ("page.css", include_str!("../../crates/wasm/web/page.css")),
    ("page.js", include_str!("../../crates/wasm/web/page.js")),
    ("policyc.js", include_str!("../../crates/wasm/web/policyc.js")),
];
const STRINGS: &str = include_str!("../../crates/wasm/web/strings.json");
/// What `scripts/wasm.sh` writes in each flavour's directory.
const MODULE: [&str; 2] = ["policyc_wasm.js", "policyc_wasm_bg.wasm"];

/// Write the self-service page: a static site (HTML, CSS, JS, the WebAssembly validator and the
/// compiled policies) where a user sees, as they type a new password, every rule of every
/// policy met or not, and whether the domain and the cloud will accept it. The password never
/// leaves the browser: after loading, the page makes no request at all.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  policyc page policies/ad-default.policy='Active Directory' policies/office365.policy='Microsoft 365' -o /var/www/password
  policyc page office365.policyc -o site --strings strings.de.json
  policyc page office365.policyc -o site --key /etc/policyc/policy.pub

Each policy may be named as the page shows it, after `=` (default: the policy's name). The site
works from any web server (its Content-Security-Policy is in the page); users may give their
account in the address: index.html?sAMAccountName=jdoe&displayName=John%20Doe.")]
pub(crate) struct Args {
    /// The policies (artifacts or policy files), each optionally `=TITLE`, in the order shown.
    #[arg(required = true, value_name = "POLICY_OR_ARTIFACT[=TITLE]")]
    policies: Vec<String>,
    #[command(flatten)]
    names: PolicyNames,
    /// The directory to write the site to (created if missing; the site's files are replaced).
    #[arg(short, long, value_name = "DIR")]
    output: PathBuf,
    /// The tenant (organization) name, which Entra Password Protection scores like a banned
    /// term (the address may give it too: ?tenant=NAME).
    #[arg(long)]
    tenant: Option<String>,
    /// The page's own strings: a translation of the default strings.json (the policies'
    /// messages come from the policies).
    #[arg(long, value_name = "FILE")]
    strings: Option<PathBuf>,
    /// The browser module: a directory holding `lean/` and `full/` as scripts/wasm.sh writes
    /// them [default: target/wasm next to a built policyc, or share/policyc/wasm installed].
    #[arg(long, value_name = "DIR")]
    wasm: Option<PathBuf>,
    /// A public key (`policyc keygen`): every policy must be an artifact signed with it
    /// (`ARTIFACT.sig`, verified as the hook verifies it), and the page names each signature.
    #[arg(long, value_name = "PUBLIC_KEY")]
    key: Option<PathBuf>,
}

/// One policy on the page.
#[derive(serde::Serialize)]
struct Shown {
    title: String,
    policy: String,
    artifact: String,
    digest: String,
    /// The signature verified with `--key`: its serial.
    #[serde(skip_serializing_if = "Option::is_none")]
    signed_serial: Option<u64>,
}

#[derive(serde::Serialize)]
struct Site<'a> {
    policies: &'a [Shown],
    #[serde(skip_serializing_if = "Option::is_none")]
    tenant: Option<&'a str>,
    passwordrules: &'a str,
}

/// `path=Title` → the path and the title; a path that exists is taken whole.
fn titled(arg: &str) -> (PathBuf, Option<String>) {
    match arg.rsplit_once('=') {
        Some((path, title)) if !Path::new(arg).exists() && !title.is_empty() => {
            (PathBuf::from(path), Some(title.to_string()))
        }
        _ => (PathBuf::from(arg), None),
    }
}

/// Where the browser module is looked for, in order.
fn module_homes(explicit: Option<&Path>) -> Vec<PathBuf> {
    if let Some(dir) = explicit {
        return vec![dir.to_path_buf()];
    }
    let mut homes = Vec::new();
    if let Some(bin) = std::env::current_exe().ok().and_then(|e| e.parent().map(Path::to_path_buf))
    {
        homes.push(bin.join("../share/policyc/wasm"));
        // target/debug/policyc → target/wasm (scripts/wasm.sh)
        homes.push(bin.join("../wasm"));
    }
    homes.push(PathBuf::from("/usr/share/policyc/wasm"));
    homes
}

/// The module's files for the flavour (`lean` or `full`).
fn module(explicit: Option<&Path>, flavour: &str) -> Result<Vec<(&'static str, Vec<u8>)>, String> {
    let homes = module_homes(explicit);
    let Some(dir) =
        homes.iter().map(|h| h.join(flavour)).find(|d| MODULE.iter().all(|f| d.join(f).is_file()))
    else {
        let looked: Vec<String> =
            homes.iter().map(|h| format!("\n  {}", h.join(flavour).display())).collect();
        return Err(format!(
            "error: the browser module ({flavour}: {}) was not found; looked in:{}\nBuild it with scripts/wasm.sh, or give its directory with --wasm DIR.",
            MODULE.join(", "),
            looked.concat()
        ));
    };
    MODULE
        .iter()
        .map(|f| {
            let path = dir.join(f);
            std::fs::read(&path)
                .map(|bytes| (*f, bytes))
                .map_err(|e| format!("error: cannot read `{}`: {e}", path.display()))
        })
        .collect()
}

/// index.html: the template with the strings and the `passwordrules` filled in.
fn index(strings: &serde_json::Map<String, serde_json::Value>, passwordrules: &str) -> String {
    let mut html = INDEX.replace("{{passwordrules}}", &super::escape_markup(passwordrules));
    for (key, value) in strings {
        let text = value.as_str().unwrap_or_default();
        html = html.replace(&format!("{{{{{key}}}}}"), &super::escape_markup(text));
    }
    html
}

fn strings(
    path: Option<&Path>,
) -> Result<(String, serde_json::Map<String, serde_json::Value>), String> {
    let text = match path {
        Some(p) => super::input::read_text(p)?,
        None => STRINGS.to_string(),
    };
    let defaults: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(STRINGS).map_err(|e| format!("error: internal: strings.json: {e}"))?;
    let given: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&text)
        .map_err(|e| format!("error: the strings are not a JSON object of texts: {e}"))?;
    let missing: Vec<&str> =
        defaults.keys().filter(|k| !given.contains_key(*k)).map(String::as_str).collect();
    if !missing.is_empty() {
        return Err(format!(
            "error: the strings lack {}: translate every key of the default strings.json",
            missing.join(", ")
        ));
    }
    if let Some((key, _)) = given.iter().find(|(_, v)| !v.is_string()) {
        return Err(format!("error: the strings' `{key}` is not text (a JSON string)"));
    }
    Ok((text, given))
}

pub(crate) fn run(a: Args) -> Result<u8, String> {
    let (paths, titles): (Vec<PathBuf>, Vec<Option<String>>) =
        a.policies.iter().map(|p| titled(p)).unzip();
    let refs: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
    let loaded = a.names.load_artifacts(&refs)?;
    let key = a
        .key
        .as_deref()
        .map(policyc_gate::signing::PublicKey::from_file)
        .transpose()
        .map_err(|e| format!("error: {e}"))?;
    let mut shown = Vec::new();
    for (((bytes, v), title), path) in loaded.iter().zip(titles).zip(&paths) {
        let signed_serial = key
            .as_ref()
            .map(|key| key.verify(path, bytes).map(|signed| signed.serial))
            .transpose()
            .map_err(|e| format!("error: {}: {e}", path.display()))?;
        if shown.iter().any(|s: &Shown| s.policy == v.name()) {
            return Err(format!("error: the policy `{}` is given twice", v.name()));
        }
        shown.push(Shown {
            title: title.unwrap_or_else(|| v.name().to_string()),
            policy: v.name().to_string(),
            artifact: format!("policies/{}.policyc", v.name()),
            digest: v.digest_hex(),
            signed_serial,
        });
    }
    let programs: Vec<_> = loaded.iter().map(|(_, v)| v.program()).collect();
    let rules = apple::export(&programs);
    let strength = |v: &Validator| v.program().has(|p| matches!(p, Predicate::Strength { .. }));
    let flavour = if loaded.iter().any(|(_, v)| strength(v)) { "full" } else { "lean" };
    let module = module(a.wasm.as_deref(), flavour)?;
    let (strings_text, strings) = strings(a.strings.as_deref())?;
    let site = serde_json::to_string_pretty(&super::versioned(&Site {
        policies: &shown,
        tenant: a.tenant.as_deref(),
        passwordrules: &rules.value,
    }))
    .map_err(|e| format!("error: internal: {e}"))?;

    // index.html last: a server that serves the directory while it is rewritten shows the new
    // page only once everything it loads is in place.
    let mut files: Vec<(String, Vec<u8>)> = shown
        .iter()
        .zip(&loaded)
        .map(|(s, (bytes, _))| (s.artifact.clone(), bytes.clone()))
        .collect();
    files.extend(module.into_iter().map(|(name, bytes)| (name.to_string(), bytes)));
    files.extend(STATIC.iter().map(|(name, text)| (name.to_string(), text.as_bytes().to_vec())));
    files.push(("strings.json".into(), strings_text.into_bytes()));
    files.push(("site.json".into(), site.into_bytes()));
    files.push(("index.html".into(), index(&strings, &rules.value).into_bytes()));
    write(&a.output, &files)?;

    let raw: usize = files.iter().map(|(_, b)| b.len()).sum();
    let gzip: usize = files.iter().map(|(_, b)| gzipped(b)).sum();
    super::style::note!(
        "wrote the page to {} ({}, {} module; {} KiB, {} KiB gzip); passwordrules: {}",
        a.output.display(),
        super::count(files.len() as u64, "file", "files"),
        flavour,
        raw.div_ceil(1024),
        gzip.div_ceil(1024),
        rules.value
    );
    Ok(EXIT_OK)
}

/// Writes the site's files into `dir` (created if missing): each replaced whole (a new file
/// renamed over the old, never written through a link), its `policies/` a real directory.
fn write(dir: &Path, files: &[(String, Vec<u8>)]) -> Result<(), String> {
    for (name, bytes) in files {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("error: cannot create `{}`: {e}", parent.display()))?;
            if parent != dir && std::fs::symlink_metadata(parent).is_ok_and(|m| !m.is_dir()) {
                return Err(format!(
                    "error: `{}` is a link, not a directory: remove it, policyc page writes there",
                    parent.display()
                ));
            }
        }
        policyc_runtime::files::replace(&path, bytes, 0o644)
            .map_err(|e| format!("error: cannot write `{}`: {e}", path.display()))?;
    }
    Ok(())
}

/// The size a server sending gzip transfers.
fn gzipped(bytes: &[u8]) -> usize {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    match encoder.write_all(bytes).and_then(|()| encoder.finish()) {
        Ok(out) => out.len(),
        Err(_) => bytes.len(),
    }
}
