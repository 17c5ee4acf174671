//! What every `--help` page (and so every man page) ends with: its examples (written next to
//! each command's arguments) and its exit status, kept here in one table so that the codes of
//! all commands can be read and compared side by side.

/// Each command's exit status, by its path under `policyc` ("" is `policyc` itself).
const EXIT_STATUS: &[(&str, &str)] = &[
    (
        "",
        "0 success; 1 a password does not comply, or a check found something (see each command); 2 an error (usage, policy, artifact, input, or output that cannot be written)",
    ),
    (
        "compile",
        "0 compiled; 2 the policy has errors (diagnostics on standard error) or a file cannot be read or written",
    ),
    (
        "check",
        "0 every password complies; 1 at least one does not; 2 an error (nothing read after it is reported as compliant)",
    ),
    ("explain", "0 the password complies; 1 it does not; 2 an error"),
    (
        "fmt",
        "0 formatted (with --check: already formatted); 1 with --check: the file would change; 2 an error",
    ),
    (
        "test",
        "0 every case passed; 1 a case failed; 2 an error (a case file or policy that cannot be read)",
    ),
    (
        "generate",
        "0 the passwords were printed; 2 an error, or no password satisfies every policy (the conflicting rules are named)",
    ),
    (
        "diff",
        "0 the policies accept the same passwords; 1 they differ (a witness password is shown); 3 inconclusive: the search budget ran out; 2 an error",
    ),
    ("bench", "0 measured; 2 an error"),
    (
        "export",
        "0 written (rules it cannot express exactly are said on standard error, not an error); 2 an error",
    ),
    (
        "page",
        "0 the site was written; 2 an error: a policy, the module, the strings or a signature with --key (nothing is written), or a file that cannot be written",
    ),
    (
        "inspect",
        "0 shown (a signature that does not verify with --key is shown as such); 2 not an artifact, a damaged one, or an error",
    ),
    ("hook", "see `policyc hook samba --help`"),
    (
        "hook samba",
        "0 the password change is accepted; 1 it is refused (what was refused and why is on standard error, in Samba's log, syslog and the audit log)",
    ),
    ("agent", "see each subcommand"),
    (
        "agent run",
        "0 stopped cleanly (SIGTERM, SIGINT), or with --once a pass without errors; 1 with --once a pass with errors; 2 an error (configuration, queue, lock held by another agent)",
    ),
    (
        "agent status",
        "0 healthy (with --user: nothing wrong for the account); 1 unhealthy (with --user: something is wrong for the account); 2 an error",
    ),
    (
        "agent reconcile",
        "0 every compared account is in sync; 1 a gap was found (changed_in_cloud, not_delivered); 2 an error",
    ),
    ("agent failed", "see each subcommand"),
    ("agent failed list", "0 listed; 2 an error"),
    (
        "agent failed retry",
        "0 moved back to the queue; 2 an error (such as an id that is not in failed/)",
    ),
    ("agent failed purge", "0 deleted; 2 an error"),
    ("agent metrics", "0 printed; 2 an error"),
    ("cloud-double", "0 stopped; 2 an error (such as an address in use)"),
    ("keygen", "0 the key pair was written; 2 an error"),
    ("sign", "0 signed; 2 an error"),
    ("store", "see each subcommand"),
    ("store build", "0 built; 2 an error (an interrupted build resumes when run again)"),
    ("store update", "0 updated; 2 an error"),
    ("store info", "0 shown; 2 the store cannot be opened or is damaged"),
    (
        "store verify",
        "0 every shard and block checks out; 2 the store is damaged or cannot be read",
    ),
    (
        "store lookup",
        "0 no password was found in the store; 1 at least one was found (unlike grep: a found password is a finding, as a noncompliant one is for `check`); 2 an error",
    ),
    (
        "store audit",
        "0 no account's password is in the store; 1 some account's is (their names are listed); 2 an error",
    ),
    (
        "import",
        "0 the policy was written; 2 an error, or an option that cannot be expressed exactly (named; see --skip)",
    ),
    ("doctor", "0 every check passed; 1 a check failed (each with its fix); 2 an error"),
    ("completions", "0 printed; 2 an error"),
    ("man", "0 written; 2 an error"),
];

/// `command` with each page's exit status after its examples.
pub(crate) fn with_exit_status(command: clap::Command) -> clap::Command {
    add(command, "")
}

fn add(mut command: clap::Command, path: &str) -> clap::Command {
    let names: Vec<String> = command
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .filter(|n| n != "help")
        .collect();
    for name in names {
        let sub = if path.is_empty() { name.clone() } else { format!("{path} {name}") };
        command = command.mut_subcommand(&name, |c| add(c, &sub));
    }
    let Some((_, status)) = EXIT_STATUS.iter().find(|(p, _)| *p == path) else {
        return command;
    };
    let before = command.get_after_help().map(|h| format!("{h}\n\n")).unwrap_or_default();
    command.after_help(format!("{before}Exit status: {status}"))
}

#[cfg(test)]
mod tests {
    /// Every page of `policyc --help`, each subcommand's included, shows an example and its
    /// exit status (issue 27: nine pages had no example, none gave its exit codes).
    #[test]
    fn every_help_page_has_an_example_and_its_exit_status() {
        fn walk(command: &clap::Command, path: &str, missing: &mut Vec<String>) {
            let help = command.get_after_help().map(|h| h.to_string()).unwrap_or_default();
            let children: Vec<_> =
                command.get_subcommands().filter(|c| c.get_name() != "help").collect();
            if !help.contains("Exit status: ") {
                missing.push(format!("`policyc {path}`: no exit status"));
            }
            // A page that only groups subcommands shows its examples on theirs.
            if children.is_empty() && !help.contains("Example") {
                missing.push(format!("`policyc {path}`: no example"));
            }
            for c in children {
                let sub = format!("{path} {}", c.get_name());
                walk(c, sub.trim(), missing);
            }
        }
        let mut missing = Vec::new();
        walk(&super::super::command(), "", &mut missing);
        assert!(missing.is_empty(), "{}", missing.join("\n"));
    }
}
