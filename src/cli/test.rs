//! `policyc test`: table-driven policy tests in YAML.

use super::{EXIT_ERROR, EXIT_NONCOMPLIANT, EXIT_OK};
use crate::cases;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Run policy test cases (YAML): each case a password (or a file of them), user attributes,
/// the expected verdict and, optionally, the rules expected to fail.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  policyc test policies/tests\n  policyc test --format junit policies/tests > junit.xml\n\n\
A case file:\n  policy: ../office365.policy\n  cases:\n    - name: seven characters\n      password: \"Short1!\"\n      \
user: { sAMAccountName: jdoe }\n      compliant: false\n      fails: [length]"
)]
pub(crate) struct Args {
    /// Case files, or folders searched for `*.yaml` [default: policies/tests].
    paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    Text,
    Junit,
}

fn collect(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        entries.sort();
        for p in entries {
            if p.is_dir() || p.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                collect(&p, out);
            }
        }
    } else {
        out.push(path.to_path_buf());
    }
}

pub(crate) fn run(args: Args) -> u8 {
    let roots =
        if args.paths.is_empty() { vec![PathBuf::from("policies/tests")] } else { args.paths };
    let mut files = Vec::new();
    for r in &roots {
        collect(r, &mut files);
    }
    if files.is_empty() {
        eprintln!(
            "error: no case files found in {}",
            roots.iter().map(|r| r.display().to_string()).collect::<Vec<_>>().join(", ")
        );
        return EXIT_ERROR;
    }
    let (mut passed, mut failed, mut errors) = (0usize, 0usize, 0usize);
    let mut junit = String::new();
    for file in &files {
        let name = file.display().to_string();
        let suite = match cases::load(file) {
            Ok(s) => s,
            Err(e) => {
                errors += 1;
                eprintln!("error: {e}");
                let _ = write!(
                    junit,
                    "  <testsuite name=\"{}\" tests=\"1\" errors=\"1\">\n    <testcase name=\"load\"><error message=\"{}\"/></testcase>\n  </testsuite>\n",
                    super::escape_markup(&name),
                    super::escape_markup(&e)
                );
                continue;
            }
        };
        let (n, failures) = suite.run();
        passed += n - failures.len();
        failed += failures.len();
        for f in &failures {
            if args.format == Format::Text {
                outln!("FAIL {name}: {}: {}", f.case, f.difference);
            }
        }
        let _ = writeln!(
            junit,
            "  <testsuite name=\"{}\" tests=\"{n}\" failures=\"{}\">",
            super::escape_markup(&name),
            failures.len()
        );
        for (i, case) in suite.file.cases.iter().enumerate() {
            let label = case.label(i);
            match failures.iter().find(|f| f.case == label) {
                Some(f) => {
                    let _ = writeln!(
                        junit,
                        "    <testcase name=\"{}\" classname=\"{}\"><failure message=\"{}\"/></testcase>",
                        super::escape_markup(&label),
                        super::escape_markup(&suite.program.name),
                        super::escape_markup(&f.difference)
                    );
                }
                None => {
                    let _ = writeln!(
                        junit,
                        "    <testcase name=\"{}\" classname=\"{}\"/>",
                        super::escape_markup(&label),
                        super::escape_markup(&suite.program.name)
                    );
                }
            }
        }
        junit.push_str("  </testsuite>\n");
    }
    match args.format {
        Format::Text => {
            if errors > 0 {
                let files = super::count(errors as u64, "case file", "case files");
                outln!("{files} could not be loaded");
            }
            outln!("{passed} passed, {failed} failed");
        }
        Format::Junit => {
            outln!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
            outln!(
                "<testsuites tests=\"{}\" failures=\"{failed}\" errors=\"{errors}\">",
                passed + failed + errors
            );
            out!("{junit}");
            outln!("</testsuites>");
        }
    }
    if errors > 0 {
        EXIT_ERROR
    } else if failed > 0 {
        EXIT_NONCOMPLIANT
    } else {
        EXIT_OK
    }
}
