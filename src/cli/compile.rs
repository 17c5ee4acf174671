//! `policyc compile`.

use super::{EXIT_ERROR, EXIT_OK};
use policyc_compiler::{CompileOptions, compile_path};
use policyc_runtime::Validator;
use std::path::PathBuf;

/// Check a policy and compile it into an artifact.
///
/// Every error in the policy is reported at once, with file, line, column and what was expected.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  policyc compile policies/office365.policy -o office365.policyc\n  policyc compile policies/office365.policy -o office365.policyc --sign /root/policyc-signing.key\n  generate-policy | policyc compile - -o corp.policyc"
)]
pub(crate) struct Args {
    /// The policy file (`-`: standard input; the files it names resolve from the current
    /// directory).
    policy: PathBuf,
    /// Where to write the artifact (`-`: standard output) [default: the policy's path with the
    /// extension `.policyc`; standard output for a policy read from standard input].
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// The policy to compile when the file defines several.
    #[arg(long)]
    policy_name: Option<String>,
    /// Also let the policy name files (`file`, `import`, `store`) under this folder; by default
    /// only the policy file's own folder tree. Repeatable.
    #[arg(long, value_name = "DIR")]
    allow_path: Vec<PathBuf>,
    /// Sign the artifact with this secret key (`policyc keygen`), writing `OUT.sig`.
    #[arg(long, value_name = "SECRET_KEY")]
    sign: Option<PathBuf>,
    /// With --sign: the serial to sign with [default: the time in seconds, above the serial
    /// of a signature already at `OUT.sig`]. Verifiers refuse a serial older than one they used.
    #[arg(long, requires = "sign")]
    serial: Option<u64>,
}

pub(crate) fn run(args: Args) -> u8 {
    let options = CompileOptions {
        policy: args.policy_name,
        allow_paths: args.allow_path,
        ..CompileOptions::default()
    };
    let from_stdin = super::input::is_stdio(&args.policy);
    let started = std::time::Instant::now();
    let compiled = if from_stdin {
        // Files the policy names resolve from the current directory.
        let text = match super::input::read_text(&args.policy) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("{e}");
                return EXIT_ERROR;
            }
        };
        let name = std::env::current_dir().unwrap_or_default().join("<stdin>");
        policyc_compiler::compile_str(name, &text, &options)
    } else {
        compile_path(&args.policy, &options)
    };
    let compiled = match compiled {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{}", super::style::compile_error(&e));
            return EXIT_ERROR;
        }
    };
    super::style::detail!("compiled in {:.1?}", started.elapsed());
    if !compiled.warnings.is_empty() {
        eprint!(
            "{}",
            compiled.warnings.render_styled(&compiled.sources, super::style::color_stderr())
        );
    }
    let out = args.output.unwrap_or_else(|| match from_stdin {
        true => PathBuf::from("-"),
        false => args.policy.with_extension("policyc"),
    });
    if super::input::is_stdio(&out) {
        use std::io::{IsTerminal as _, Write as _};
        if std::io::stdout().is_terminal() {
            eprintln!(
                "error: the artifact is binary: redirect standard output (`-o - > FILE`) or name a file with -o"
            );
            return EXIT_ERROR;
        }
        if args.sign.is_some() {
            eprintln!("error: --sign writes OUT.sig beside the artifact: name a file with -o");
            return EXIT_ERROR;
        }
        let _ = super::out::Stdout.write_all(&compiled.artifact);
    } else if let Err(e) = policyc_runtime::files::replace(&out, &compiled.artifact, 0o644) {
        // Whole or not at all: hooks may be loading the artifact this replaces.
        eprintln!("error: cannot write the artifact: {e}");
        return EXIT_ERROR;
    }
    let digest = match Validator::from_bytes(&compiled.artifact) {
        Ok(v) => v.digest_hex(),
        Err(e) => {
            eprintln!("error: internal: compiled artifact does not load: {e}");
            return EXIT_ERROR;
        }
    };
    if let Some(secret) = &args.sign {
        let name = &compiled.program.name;
        match super::sign::signed(secret, &out, &compiled.artifact, name, args.serial) {
            Ok(said) => super::style::note!("{said}"),
            Err(e) => {
                eprintln!("error: cannot sign: {e}");
                return EXIT_ERROR;
            }
        }
    }
    super::style::note!(
        "compiled policy `{}`: {}, {} bytes, sha256 {} -> {}",
        compiled.program.name,
        super::count(compiled.program.rules.len() as u64, "rule", "rules"),
        compiled.artifact.len(),
        digest.get(..16).unwrap_or(&digest),
        out.display()
    );
    EXIT_OK
}
