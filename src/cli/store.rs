//! `policyc store`: build, update, inspect and verify breached-password stores.

use super::{EXIT_ERROR, EXIT_OK, reported};
use policyc_runtime::store::build::{self, BuildOptions, BuildReport, Progress};
use policyc_runtime::store::{HashMode, Lookup, Store};
use std::path::PathBuf;

/// Breached-password stores (Have I Been Pwned's Pwned Passwords, or any password list).
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    Build(BuildArgs),
    Update(UpdateArgs),
    /// What a store holds: its mode (SHA-1 or NTLM), sources, hashes, shards, sizes.
    #[command(
        after_help = "Examples:\n  policyc store info /var/lib/policyc/pwned\n  policyc store info /var/lib/policyc/pwned --format json"
    )]
    Info(StoreInfoArgs),
    /// Check every shard and every block of a store against its checksums.
    #[command(after_help = "Example:\n  policyc store verify /var/lib/policyc/pwned")]
    Verify(InfoArgs),
    /// Look up passwords, read one per line from standard input, in a store; prints `found` or
    /// `not found` per line, never the password.
    #[command(
        after_help = "Example:\n  printf '%s\\n' 'Password1' | policyc store lookup /var/lib/policyc/pwned"
    )]
    Lookup(InfoArgs),
    Audit(AuditArgs),
}

/// List the accounts of the local Samba directory whose current password is in an NTLM store:
/// their NT hashes are read over Samba's privileged ldapi socket (as root) and looked up; only
/// names are printed, never hashes. Exit code 1 when some account is found.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  policyc store audit /var/lib/policyc/pwned --directory /var/lib/samba/private/ldap_priv/ldapi"
)]
struct AuditArgs {
    /// The store directory (NTLM mode).
    store: PathBuf,
    /// Samba's privileged ldapi socket.
    #[arg(long, default_value = policyc_agent::directory::DEFAULT_SAMBA_SOCKET)]
    directory: PathBuf,
}

/// Build a store from HIBP downloader output (`HASH:COUNT` lines, SHA-1 or NTLM, one file or a
/// directory of range files) and plain password lists. Resumable: run the same command again
/// after an interruption.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  haveibeenpwned-downloader -n pwnedpasswords_ntlm\n  policyc store build --from pwnedpasswords_ntlm.txt -o /var/lib/policyc/pwned --min-count 2"
)]
struct BuildArgs {
    /// Input files or directories of range files (`PPPPP.txt`).
    #[arg(long = "from", required = true, num_args = 1..)]
    from: Vec<PathBuf>,
    /// The store directory.
    #[arg(short, long)]
    output: PathBuf,
    /// Leave out hashes seen fewer times than this in breaches.
    #[arg(long, default_value_t = 1)]
    min_count: u64,
    /// Bits per fingerprint: 16 (false positives ≈ 1 in 65,536, 2.25 bytes per hash) or 8
    /// (≈ 1 in 256, 1.13 bytes).
    #[arg(long, default_value_t = 16, value_parser = parse_fingerprint)]
    fingerprint: u8,
    /// Shards: 2^N, chosen by the hash's leading bits [default: about 8 million hashes per
    /// shard, from the inputs' size: 7, 128 shards, for HIBP's billion].
    #[arg(long, value_parser = clap::value_parser!(u8).range(0..=16))]
    shard_bits: Option<u8>,
    /// Also keep every shard's sorted 64-bit hashes (8 bytes each), so that a filter hit is
    /// confirmed before a password is refused: no false refusals.
    #[arg(long)]
    exact: bool,
    /// The hash of plain password lists: `ntlm` (MD4 of UTF-16LE, what AD stores) or `sha1`.
    /// HIBP inputs must match it [default: the HIBP inputs' mode, else ntlm].
    #[arg(long, value_parser = parse_mode)]
    mode: Option<HashMode>,
    /// Threads building shards [default: the number of cores, at most 8].
    #[arg(long)]
    threads: Option<usize>,
}

/// Rebuild a store from new inputs, replacing only the shards whose hashes changed. Readers
/// (hooks, agents) keep working: they see the old store or the new one, never a mix.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  policyc store update /var/lib/policyc/pwned --from pwnedpasswords_ntlm.txt"
)]
struct UpdateArgs {
    /// The store directory.
    store: PathBuf,
    /// The new inputs (the whole data set, as for `build`).
    #[arg(long = "from", required = true, num_args = 1..)]
    from: Vec<PathBuf>,
    /// Leave out hashes seen fewer times than this.
    #[arg(long, default_value_t = 1)]
    min_count: u64,
    /// Threads building shards [default: the number of cores, at most 8].
    #[arg(long)]
    threads: Option<usize>,
}

/// A store directory, and how to say what it holds.
#[derive(Debug, clap::Args)]
struct StoreInfoArgs {
    #[command(flatten)]
    store: InfoArgs,
    #[command(flatten)]
    format: super::FormatArg,
}

/// What `store info --format json` writes.
#[derive(Debug, serde::Serialize)]
struct Described {
    store: String,
    format: u32,
    mode: &'static str,
    hashes: u64,
    fingerprint_bits: u8,
    exact: bool,
    shards: usize,
    generation: u64,
    fingerprint_bytes: u64,
    exact_bytes: u64,
    source: String,
}

/// A store directory.
#[derive(Debug, clap::Args)]
struct InfoArgs {
    /// The store directory.
    store: PathBuf,
}

fn parse_fingerprint(s: &str) -> Result<u8, String> {
    match s {
        "8" => Ok(8),
        "16" => Ok(16),
        _ => Err("expected 8 or 16".into()),
    }
}

fn parse_mode(s: &str) -> Result<HashMode, String> {
    match s {
        "ntlm" => Ok(HashMode::Ntlm),
        "sha1" => Ok(HashMode::Sha1),
        _ => Err("expected `ntlm` or `sha1`".into()),
    }
}

/// A progress bar on standard error (hidden when it is not a terminal).
struct Bar(indicatif::ProgressBar);

impl Progress for Bar {
    fn start(&self, pass: &str, total: u64) {
        self.0.set_length(total);
        self.0.set_position(0);
        self.0.set_message(pass.to_string());
    }

    fn advance(&self, n: u64) {
        self.0.inc(n);
    }
}

fn bar() -> Bar {
    let bar = indicatif::ProgressBar::new(0);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{msg:16} [{bar:40}] {percent:>3}% {elapsed} (eta {eta})",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    Bar(bar)
}

pub(crate) fn run(args: Args) -> u8 {
    match args.command {
        Command::Build(a) => reported(run_build(a)),
        Command::Update(a) => reported(run_update(a)),
        Command::Info(a) => reported(info(a)),
        Command::Verify(a) => reported(verify(a)),
        Command::Lookup(a) => reported(lookup(a)),
        Command::Audit(a) => reported(audit(a)),
    }
}

fn threads(n: Option<usize>) -> usize {
    n.unwrap_or_else(policyc_runtime::store::build::default_threads).max(1)
}

fn run_build(a: BuildArgs) -> Result<u8, String> {
    let mut options = BuildOptions::new(&a.output, a.from);
    options.min_count = a.min_count;
    options.fingerprint_bits = a.fingerprint;
    options.shard_bits = a.shard_bits;
    options.exact = a.exact;
    options.mode = a.mode;
    options.threads = threads(a.threads);
    if a.output.join(policyc_runtime::store::MANIFEST_FILE).exists() {
        return Err(format!(
            "error: `{}` already holds a store; use `policyc store update {}` to replace its contents",
            a.output.display(),
            a.output.display()
        ));
    }
    built(&options, "built")
}

fn run_update(a: UpdateArgs) -> Result<u8, String> {
    let old = Store::open(&a.store).map_err(|e| format!("error: {e}"))?;
    let info = old.info();
    let mut options = BuildOptions::new(&a.store, a.from);
    options.min_count = a.min_count;
    options.fingerprint_bits = info.fingerprint_bits;
    options.shard_bits = Some(info.shard_bits);
    options.exact = info.exact;
    options.mode = Some(info.mode);
    options.threads = threads(a.threads);
    built(&options, "updated")
}

fn built(options: &BuildOptions, verb: &str) -> Result<u8, String> {
    let bar = bar();
    let report = build::build(options, &bar).map_err(|e| format!("error: {e}"));
    bar.0.finish_and_clear();
    let r: BuildReport = report?;
    let resumed = if r.resumed { " (resumed)" } else { "" };
    super::style::note!(
        "{verb} store `{}`{resumed}: {} {} {} in {} ({} written, {} unchanged), generation {}; {} read, {} below --min-count",
        options.store.display(),
        r.info.keys,
        r.info.mode.name(),
        if r.info.keys == 1 { "hash" } else { "hashes" },
        super::count(1u64 << r.info.shard_bits, "shard", "shards"),
        r.written,
        r.kept,
        r.info.generation,
        super::count(r.lines, "line", "lines"),
        r.below_min_count
    );
    if r.left_behind > 0 {
        eprintln!(
            "note: {} shard files of earlier generations could not be removed (in use?); nothing reads them, and the next update tries again",
            r.left_behind
        );
    }
    Ok(EXIT_OK)
}

fn info(a: StoreInfoArgs) -> Result<u8, String> {
    let path = &a.store.store;
    let store = Store::open(path).map_err(|e| format!("error: {e}"))?;
    let i = store.info();
    let (fp, exact) = store.sizes().map_err(|e| format!("error: {e}"))?;
    if a.format.json() {
        let d = Described {
            store: path.display().to_string(),
            format: u32::from(policyc_runtime::store::STORE_FORMAT_VERSION),
            mode: i.mode.name(),
            hashes: i.keys,
            fingerprint_bits: i.fingerprint_bits,
            exact: i.exact,
            shards: 1usize << i.shard_bits,
            generation: i.generation,
            fingerprint_bytes: fp,
            exact_bytes: exact,
            source: i.source.clone(),
        };
        outln!("{}", serde_json::to_string_pretty(&super::versioned(&d)).unwrap_or_default());
        return Ok(EXIT_OK);
    }
    let per_key = if i.keys > 0 { (fp + exact) as f64 / i.keys as f64 } else { 0.0 };
    outln!("store:        {}", path.display());
    outln!("format:       {}", policyc_runtime::store::STORE_FORMAT_VERSION);
    outln!("hashes:       {} ({})", i.keys, i.mode.name());
    outln!(
        "fingerprints: {} bits (the filter takes about 1 in {} other passwords for breached ones)",
        i.fingerprint_bits,
        1u64 << i.fingerprint_bits
    );
    outln!(
        "exact tier:   {}",
        if i.exact { "yes: every filter hit is confirmed, no false refusals" } else { "no" }
    );
    outln!("shards:       {}", 1usize << i.shard_bits);
    outln!("generation:   {}", i.generation);
    outln!(
        "size:         {fp} bytes of fingerprints, {exact} bytes of exact hashes ({per_key:.2} bytes per hash)"
    );
    outln!("source:       {}", policyc_gate::files::log_line(&i.source));
    Ok(EXIT_OK)
}

fn verify(a: InfoArgs) -> Result<u8, String> {
    let store = Store::open(&a.store).map_err(|e| format!("error: {e}"))?;
    let bar = bar();
    bar.start("verifying", store.entries().len() as u64);
    let result = store.verify(|_| bar.advance(1));
    bar.0.finish_and_clear();
    match result {
        Ok(()) => {
            super::style::note!(
                "store `{}` is intact: {}, {}, every block's checksum matches",
                a.store.display(),
                super::count(store.entries().len() as u64, "shard", "shards"),
                super::count(store.info().keys, "hash", "hashes")
            );
            Ok(EXIT_OK)
        }
        Err(e) => {
            eprintln!("error: {e}");
            Ok(EXIT_ERROR)
        }
    }
}

fn lookup(a: InfoArgs) -> Result<u8, String> {
    use std::io::Write as _;
    let store = Store::open(&a.store).map_err(|e| format!("error: {e}"))?;
    let mut code = EXIT_OK;
    let mut reader = std::io::stdin().lock();
    let mut out = super::out::Stdout;
    let mut n = 0u64;
    while let Some(line) =
        super::input::read_line(&mut reader).map_err(|e| format!("error: reading input: {e}"))?
    {
        n += 1;
        let answer = match line.map_err(|_| "longer than any password".to_string()).and_then(|b| {
            super::input::utf8(b).map_err(|p| match p {
                super::input::Problem::Invalid(m) => m,
                super::input::Problem::TooLong => "longer than any password".into(),
            })
        }) {
            Err(m) => {
                code = EXIT_ERROR;
                format!("error: {m}")
            }
            Ok(pw) => match store.lookup(&pw) {
                Ok(Lookup::Absent) => "not found".into(),
                Ok(found) => {
                    code = code.max(super::EXIT_NONCOMPLIANT);
                    match found {
                        Lookup::Confirmed => "found (confirmed by the exact tier)".into(),
                        _ => "found".into(),
                    }
                }
                Err(e) => return Err(format!("error: line {n}: {e}")),
            },
        };
        if writeln!(out, "line {n}: {answer}").is_err() {
            break;
        }
    }
    Ok(code)
}

fn audit(a: AuditArgs) -> Result<u8, String> {
    let store = Store::open(&a.store).map_err(|e| format!("error: {e}"))?;
    if store.info().mode != HashMode::Ntlm {
        return Err(format!(
            "error: `{}` holds {} hashes; an audit compares the directory's NT hashes, so it needs a store built in NTLM mode (HIBP's `-n` download, or `--mode ntlm`)",
            a.store.display(),
            store.info().mode.name()
        ));
    }
    let mut directory = policyc_agent::directory::DirectoryConfig::samba(&a.directory).open();
    let accounts = directory.password_hashes().map_err(|e| format!("error: {e}"))?;
    let mut found: Vec<(String, bool, Lookup)> = Vec::new();
    for account in &accounts {
        let key = policyc_runtime::store::StoreKey::from_hash(&account.nt_hash[..]);
        match store.lookup_key(key) {
            Ok(Lookup::Absent) => {}
            Ok(l) => found.push((account.account.clone(), account.disabled, l)),
            Err(e) => return Err(format!("error: {e}")),
        }
    }
    found.sort_by(|x, y| x.0.cmp(&y.0));
    for (name, disabled, l) in &found {
        let mut notes = Vec::new();
        if *disabled {
            notes.push("disabled");
        }
        if *l == Lookup::Probable {
            notes.push("filter match: about 1 in 65,536 such matches is a false positive; build with --exact to confirm");
        }
        match notes.is_empty() {
            true => outln!("{}", policyc_gate::files::log_line(name)),
            false => outln!("{} ({})", policyc_gate::files::log_line(name), notes.join("; ")),
        }
    }
    super::style::note!(
        "store audit: {} accounts with a password, {} of them in the breached-password store `{}` ({} hashes, generation {})",
        accounts.len(),
        found.len(),
        a.store.display(),
        store.info().keys,
        store.info().generation
    );
    Ok(if found.is_empty() { EXIT_OK } else { super::EXIT_NONCOMPLIANT })
}
