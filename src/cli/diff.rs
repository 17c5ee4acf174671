//! `policyc diff`: what one policy accepts that the other refuses, with witness passwords.

use super::{EXIT_NONCOMPLIANT, EXIT_OK, input, policy_arg};
use policyc_compiler::analysis::{DiffLimits, Direction, Method, diff};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;
use unicode_width::UnicodeWidthStr as _;

/// Compare two policies in both directions: for each rule of one that refuses a password the
/// other accepts, a short witness password; or a proof that there is none.
///
/// Exit codes: 0 the policies accept the same passwords (proved), 1 they differ (a witness
/// shows it), 3 inconclusive (no witness found, but a search budget ran out or a rule could only
/// be sampled: raise --max-states or --max-seconds), 2 error.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  policyc diff policies/ad-default.policy policies/office365.policy"
)]
pub(crate) struct Args {
    /// The first policy (or artifact), e.g. on-premises AD.
    a: PathBuf,
    /// The second policy (or artifact), e.g. the cloud.
    b: PathBuf,
    /// A user attribute, ATTR=VALUE (repeatable), for rules about the user.
    #[arg(long = "user", value_name = "ATTR=VALUE")]
    user: Vec<String>,
    #[command(flatten)]
    names: policy_arg::PolicyNames,
    #[command(flatten)]
    format: super::FormatArg,
    /// Most search states per rule, before giving up on a proof.
    #[arg(long, value_name = "N", default_value_t = DiffLimits::default().states)]
    max_states: usize,
    /// Longest search per rule, in seconds.
    #[arg(long, value_name = "S", default_value_t = DiffLimits::default().time.as_secs_f64())]
    max_seconds: f64,
}

pub(crate) fn run(args: Args) -> Result<u8, String> {
    let [a, b]: [_; 2] = args
        .names
        .load_all(&[&args.a, &args.b])?
        .try_into()
        .map_err(|_| "error: internal: two policies expected".to_string())?;
    let ctx = input::user_context(&args.user)?;
    if args.user.is_empty() {
        say_assumed_user(&[&a, &b]);
    }
    let time = Duration::try_from_secs_f64(args.max_seconds)
        .map_err(|_| format!("--max-seconds {}: expected a positive number", args.max_seconds))?;
    let limits = DiffLimits { states: args.max_states, time, ..DiffLimits::default() };
    let directions = diff(&a, &b, &ctx, limits);
    if args.format.json() {
        let document = serde_json::json!({"directions": directions});
        outln!("{}", serde_json::to_string_pretty(&super::versioned(&document)).unwrap_or_default())
    } else {
        out!("{}", render(&directions, &limits))
    }
    let differ = directions.iter().any(|d| !d.witnesses.is_empty());
    Ok(match (differ, directions.iter().all(Direction::proved_inclusion)) {
        (true, _) => EXIT_NONCOMPLIANT,
        (false, true) => EXIT_OK,
        (false, false) => EXIT_INCONCLUSIVE,
    })
}

/// Exit code: no witness was found, but not every rule was proved (a search budget ran out, or
/// a rule could only be sampled).
const EXIT_INCONCLUSIVE: u8 = 3;

/// The report, as printed.
pub(crate) fn render(directions: &[Direction], limits: &DiffLimits) -> String {
    let mut out = String::new();
    for (i, d) in directions.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        if d.proved_inclusion() {
            let _ =
                writeln!(out, "Every password {} accepts, {} accepts too (proved).", d.from, d.to);
            continue;
        }
        if d.witnesses.is_empty() {
            let _ = writeln!(
                out,
                "No password {} accepts was found that {} refuses, but not all is proved:",
                d.from, d.to
            );
        } else {
            let _ = writeln!(out, "{} accepts, {} refuses:", d.from, d.to);
        }
        let width = d.witnesses.iter().map(|w| w.rule.len()).max().unwrap_or(0);
        for w in &d.witnesses {
            let how = match w.method {
                Method::Search => "",
                Method::Sampling => " (found by sampling)",
                Method::Construction => " (constructed)",
            };
            // Padded by display width: a CJK character takes two columns.
            let password = format!("{:?}", w.password);
            let pad = 24usize.saturating_sub(password.width());
            let also = match w.also_breaks.as_slice() {
                [] => String::new(),
                rules => format!(" (also breaks {})", ticks(rules)),
            };
            let _ = writeln!(
                out,
                "  {:width$}  {password}{:pad$} {}{how}{also}",
                w.rule, "", w.message
            );
        }
        if !d.proved.is_empty() {
            let _ = writeln!(
                out,
                "  proved: no password {} accepts breaks {}",
                d.from,
                ticks(&d.proved)
            );
        }
        if !d.sampled.is_empty() {
            let _ = writeln!(
                out,
                "  not proved: no sample broke {} (checked by sampling only)",
                ticks(&d.sampled)
            );
        }
        if !d.exhausted.is_empty() {
            let _ = writeln!(
                out,
                "  not proved: the search budget ({} states, {} s per rule) ran out for {}; \
                 raise it with --max-states or --max-seconds",
                limits.states,
                limits.time.as_secs_f64(),
                ticks(&d.exhausted)
            );
        }
    }
    out
}

fn ticks(ids: &[String]) -> String {
    ids.iter().map(|i| format!("`{i}`")).collect::<Vec<_>>().join(", ")
}

/// Without `--user`, rules about the user are compared for a user with no attributes (a rule
/// such as "not contains sAMAccountName" then accepts every password): say which, on standard
/// error, so that a proof is not read as covering every user.
fn say_assumed_user(policies: &[&policyc_runtime::Validator]) {
    let rules: Vec<String> = policies
        .iter()
        .flat_map(|v| {
            let name = v.name();
            v.program()
                .rules
                .iter()
                .filter(|r| !r.attributes().is_empty())
                .map(move |r| format!("{name}.{}", r.id))
        })
        .collect();
    if !rules.is_empty() {
        eprintln!(
            "note: no --user given: {} about the user ({}) compared for a user with no attributes; give --user ATTR=VALUE to compare them for one",
            super::count(rules.len() as u64, "rule", "rules"),
            rules.join(", ")
        );
    }
}
