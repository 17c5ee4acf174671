//! `policyc doctor`: every piece a working set-up needs, checked in a few seconds, each
//! failure with its fix. Reads and probes; changes nothing but a probe file in the queue's
//! `tmp/` (removed at once) and a new audit log where none was yet.

use super::config::{AgentConfig, DeliveryModel};
use super::directory::DirectoryConfig;
use crate::AgentError;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

/// How long each outside program or server may take (the whole run stays under 5 s).
const STEP_TIMEOUT: Duration = Duration::from_secs(2);

/// The clock skew (against the token endpoint) beyond which tokens, reconciliation's "changed
/// after the delivery" and Kerberos go wrong.
const MAX_SKEW_SECS: u64 = 60;

/// One check's result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Works.
    Ok,
    /// Broken: `policyc doctor` exits 1.
    Fail,
    /// Does not apply to this set-up (said why).
    Skip,
}

/// One thing checked.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// Its stable name (`config`, `hook`, `policy`, `store`, `queue`, `key`, `audit_log`,
    /// `agent`, `graph`, `permission`, `clock`, `directory`, `complexity`, `syslog`,
    /// `metrics`).
    pub name: &'static str,
    /// How it went.
    pub verdict: Verdict,
    /// What was found (never a secret).
    pub detail: String,
    /// What to do, when it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Check {
    fn ok(name: &'static str, detail: impl Into<String>) -> Check {
        Check { name, verdict: Verdict::Ok, detail: detail.into(), fix: None }
    }

    fn fail(name: &'static str, detail: impl Into<String>, fix: impl Into<String>) -> Check {
        Check { name, verdict: Verdict::Fail, detail: detail.into(), fix: Some(fix.into()) }
    }

    fn skip(name: &'static str, detail: impl Into<String>) -> Check {
        Check { name, verdict: Verdict::Skip, detail: detail.into(), fix: None }
    }
}

/// Where the doctor looks besides the configuration.
#[derive(Debug, Clone)]
pub struct Options {
    /// The configuration file.
    pub config: PathBuf,
    /// Samba's configuration (`testparm -s FILE`; default: Samba's own).
    pub smb_conf: Option<PathBuf>,
}

/// Runs every check, in order.
pub fn doctor(options: &Options) -> Vec<Check> {
    let config = match AgentConfig::load(&options.config) {
        Ok(c) => c,
        Err(e) => {
            return vec![Check::fail(
                "config",
                e.to_string(),
                "fix the file (`docs/agent.md` lists every key; /usr/share/doc/policyc/examples/agent.yaml is an example)",
            )];
        }
    };
    let mut checks = vec![Check::ok("config", format!("{} parses", options.config.display()))];
    checks.push(hook(options, &config));
    checks.extend(policy(&config));
    let queue = queue(&config);
    let queue_ok = queue.verdict == Verdict::Ok;
    checks.push(queue);
    checks.push(if queue_ok {
        key(&config)
    } else {
        Check::skip("key", "checked once the queue passes (the key opens the queue)")
    });
    checks.push(audit_log(&config));
    checks.push(agent(&config));
    checks.extend(graph(&config));
    checks.extend(directory(&config));
    checks.push(syslog(&config));
    checks.push(metrics(&config));
    checks
}

/// The hook (Samba's `check password script`) or the filter is registered, with this
/// configuration, and the binary it runs reads the artifact's format.
fn hook(options: &Options, config: &AgentConfig) -> Check {
    const NAME: &str = "hook";
    let expected = format!("/usr/bin/policyc hook samba --config {}", options.config.display());
    let fix = format!(
        "add to the [global] section of smb.conf (see /usr/share/doc/policyc/smb.conf.snippet): `check password script = {expected}`, then `smbcontrol all reload-config`"
    );
    if matches!(config.directory, Some(DirectoryConfig::Notified)) {
        return Check::skip(
            NAME,
            "`directory: notified`: the Windows LSA filter fills the queue; on the DC, `reg query HKLM\\SYSTEM\\CurrentControlSet\\Control\\Lsa /v \"Notification Packages\"` must list policyc_filter (docs/windows.md)",
        );
    }
    let mut cmd = std::process::Command::new("testparm");
    cmd.arg("-s");
    if let Some(conf) = &options.smb_conf {
        cmd.arg(conf);
    }
    let output = match run_bounded(cmd) {
        Ok(o) => o,
        Err(e) => {
            return Check::fail(
                NAME,
                format!("cannot run Samba's `testparm -s`: {e}"),
                "run the doctor on the domain controller (samba-common-bin provides testparm)",
            );
        }
    };
    let Some(script) = output.lines().find_map(|l| {
        let (key, value) = l.split_once('=')?;
        (key.trim() == "check password script").then(|| value.trim().to_string())
    }) else {
        return Check::fail(
            NAME,
            "smb.conf sets no `check password script`: Samba does not run the hook, so no reset is checked or queued",
            fix,
        );
    };
    let words: Vec<&str> = script.split_whitespace().collect();
    if !words.windows(2).any(|w| w == ["hook", "samba"]) {
        return Check::fail(
            NAME,
            format!("`check password script = {script}` is not policyc's hook"),
            fix,
        );
    }
    let named = words.windows(2).find(|w| w[0] == "--config").map(|w| PathBuf::from(w[1]));
    let same = |a: &Path, b: &Path| {
        a == b || matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y)
    };
    match &named {
        Some(p) if !same(p, &options.config) => {
            return Check::fail(
                NAME,
                format!(
                    "the hook runs with another configuration (`{}`): its queue and audit log are not the ones checked here",
                    p.display()
                ),
                fix,
            );
        }
        None => {
            let queue = words.windows(2).find(|w| w[0] == "--queue").map(|w| PathBuf::from(w[1]));
            if !queue.as_deref().is_some_and(|q| same(q, &config.queue)) {
                return Check::fail(
                    NAME,
                    format!(
                        "`check password script = {script}` does not queue into {}",
                        config.queue.display()
                    ),
                    fix,
                );
            }
        }
        Some(_) => {}
    }
    let binary = words.first().copied().unwrap_or("");
    let mut version = std::process::Command::new(binary);
    version.arg("--version");
    let said = match run_bounded(version) {
        Ok(v) => v,
        Err(e) => {
            return Check::fail(
                NAME,
                format!("smb.conf runs `{binary}`, which does not run: {e}"),
                "install the package (it puts policyc in /usr/bin) or fix the path in smb.conf",
            );
        }
    };
    let format = std::fs::read(&config.policy)
        .ok()
        .and_then(|b| policyc_runtime::artifact::format_version(&b));
    match (format, reads_formats(&said)) {
        (Some(f), Some((oldest, newest))) if !(oldest..=newest).contains(&f) => Check::fail(
            NAME,
            format!(
                "`{binary}` reads artifact formats {oldest} to {newest}, the policy is format {f}: every reset would be refused"
            ),
            "install the same policyc version as the one that compiled the policy, or compile it again with the installed one",
        ),
        _ => Check::ok(NAME, format!("Samba runs `{script}` ({})", said.trim())),
    }
}

/// `(oldest, newest)` from `policyc --version` (`policyc 0.1.0 (artifact formats 5 to 9)`).
fn reads_formats(version: &str) -> Option<(u16, u16)> {
    let rest = version.split("artifact formats ").nth(1)?;
    let mut words = rest.split(|c: char| !c.is_ascii_digit()).filter(|w| !w.is_empty());
    Some((words.next()?.parse().ok()?, words.next()?.parse().ok()?))
}

/// The artifact loads and passes the trust checks; its stores open.
fn policy(config: &AgentConfig) -> Vec<Check> {
    let path = config.policy.display();
    let loaded = config
        .trust(false)
        .and_then(|t| policyc_gate::policy_file::load_policy(&config.policy, &t));
    let validator = match loaded {
        Ok(v) => v,
        Err(e) => {
            return vec![Check::fail(
                "policy",
                e.to_string(),
                format!(
                    "compile (and sign, with `policy_public_key`) the policy again: `policyc compile POLICY -o {path}{}`",
                    if config.policy_public_key.is_some() { " --sign SECRET_KEY" } else { "" }
                ),
            )];
        }
    };
    let format = std::fs::read(&config.policy)
        .ok()
        .and_then(|b| policyc_runtime::artifact::format_version(&b));
    let signed = match &config.policy_public_key {
        Some(k) => format!(", signature checked against {}", k.display()),
        None => ", unsigned (no `policy_public_key`)".into(),
    };
    let mut checks = vec![Check::ok(
        "policy",
        format!(
            "{path}: {} (artifact format {}){signed}",
            validator.label(),
            format.map_or_else(|| "?".into(), |f| f.to_string())
        ),
    )];
    // A random password: the rules that need a store say whether it could be read.
    let mut probe = [0u8; 24];
    let _ = policyc_gate::crypto::random(&mut probe);
    let password: String = probe.iter().map(|b| char::from(b'a' + b % 26)).collect();
    let verdict = validator.check(&password, &policyc_runtime::Context::new());
    checks.push(if !verdict.unavailable().is_empty() {
        Check::fail(
            "store",
            format!("a breached-password store the policy needs cannot be read: {}", verdict.unavailable_reasons()),
            "build or copy the store where the policy names it (`policyc store build`), owned by root, not writable by others; `policyc store verify DIR` says what is wrong",
        )
    } else {
        Check::ok("store", "every rule can be evaluated (the stores the policy names, if any, open)")
    });
    checks
}

/// The queue's directories exist, are root's (or this user's), and can be written.
fn queue(config: &AgentConfig) -> Check {
    const NAME: &str = "queue";
    let q = &config.queue;
    let fix = format!(
        "install -d -m 0700 -o root -g root {0} {0}/pending {0}/failed {0}/tmp (the package does this)",
        q.display()
    );
    for dir in [q.clone(), q.join("pending"), q.join("failed"), q.join("tmp")] {
        if let Err(e) = policyc_gate::files::trusted_dir(&dir) {
            return Check::fail(NAME, e.to_string(), fix);
        }
    }
    let probe = q.join("tmp").join(format!(".doctor-probe-{}", std::process::id()));
    match policyc_gate::files::create_new(&probe, 0o600) {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
        }
        Err(e) => return Check::fail(NAME, format!("cannot write in the queue: {e}"), fix),
    }
    match policyc_gate::queue::list_pending(q) {
        Ok((pending, damaged)) => Check::ok(
            NAME,
            format!(
                "{}: {} pending, {} damaged; writable",
                q.display(),
                pending.len(),
                damaged.len()
            ),
        ),
        Err(e) => Check::fail(NAME, e.to_string(), fix),
    }
}

/// The queue key is there, private, and opens the queue (and the sync key, for `replicated`).
fn key(config: &AgentConfig) -> Check {
    const NAME: &str = "key";
    let path = config.key_path();
    if std::fs::symlink_metadata(&path).is_err() {
        return Check::fail(
            NAME,
            format!("no queue key at {}", path.display()),
            "the hook creates it (0600) on its first change; or set `key:` to where it is",
        );
    }
    if let Err(e) = policyc_gate::files::open_trusted(&path, true) {
        return Check::fail(
            NAME,
            e.to_string(),
            format!("chown root:root {0} && chmod 0600 {0}", path.display()),
        );
    }
    if let Err(e) = policyc_gate::queue::Queue::open_sealed(&config.queue, &path) {
        return Check::fail(
            NAME,
            e.to_string(),
            "restore the key the queue's records were sealed with",
        );
    }
    if config.delivery == DeliveryModel::Replicated
        && let Some(k) = &config.gpg_secret_key
        && let Err(e) = super::gpg::SyncKey::from_file(k)
    {
        return Check::fail(
            NAME,
            e.to_string(),
            "see docs/agent.md, \"Several domain controllers\": the sync key",
        );
    }
    Check::ok(NAME, format!("{}: private, opens the queue", path.display()))
}

/// The audit log can be appended to, with safe owner and mode.
fn audit_log(config: &AgentConfig) -> Check {
    match policyc_gate::audit::AuditLog::new(&config.audit_log).open() {
        Ok(_) => Check::ok("audit_log", format!("{}: writable", config.audit_log.display())),
        Err(e) => Check::fail(
            "audit_log",
            format!("{e}: the hook refuses every change it cannot record"),
            format!(
                "install -d -m 0750 {} && chown root:adm {} (0640); never a symlink",
                config.audit_log.parent().map_or_else(String::new, |p| p.display().to_string()),
                config.audit_log.display()
            ),
        ),
    }
}

/// The agent is alive (or, in cron mode, its runs are not overdue).
fn agent(config: &AgentConfig) -> Check {
    let state = super::state::AgentState::load(&config.queue.join("state.json"));
    match super::status::agent_problem(config, &state) {
        Some(p) => Check::fail(
            "agent",
            p,
            if config.once_every_secs.is_some() {
                "systemctl enable --now policyc-agent.timer"
            } else {
                "systemctl enable --now policyc-agent.service; `journalctl -u policyc-agent` says why it stopped"
            },
        ),
        None => Check::ok(
            "agent",
            format!(
                "heartbeat {}",
                state.heartbeat_ms.map_or_else(|| "-".into(), super::reconcile::rfc3339)
            ),
        ),
    }
}

/// A token, the permission to set passwords, a read of one user, and the clock.
fn graph(config: &AgentConfig) -> Vec<Check> {
    let mut graph_config = config.graph.clone();
    graph_config.timeout_secs = graph_config.timeout_secs.clamp(1, STEP_TIMEOUT.as_secs());
    let mut graph = match super::graph::Graph::new(graph_config) {
        Ok(g) => g,
        Err(e) => {
            return vec![Check::fail("graph", e.to_string(), "fix `graph:` in the configuration")];
        }
    };
    let asked = SystemTime::now();
    let probe = graph.probe();
    let fix_of = |d: &super::graph::Delivery| match d {
        super::graph::Delivery::Retry { .. } => {
            "check the network path to the token endpoint and Graph (proxy, firewall, DNS)"
        }
        _ => "docs/agent.md, \"The app registration\": client id, secret, tenant, admin consent",
    };
    let said = |d: &super::graph::Delivery| match d {
        super::graph::Delivery::Retry { reason, .. } => reason.clone(),
        super::graph::Delivery::Config { detail, .. }
        | super::graph::Delivery::User { detail, .. } => detail.clone(),
        other => format!("{other:?}"),
    };
    let mut checks = Vec::new();
    match &probe.token {
        Ok(()) => match &probe.user {
            Some(Ok(())) => checks.push(Check::ok(
                "graph",
                format!(
                    "token from {}; one user read from {}",
                    config.graph.token_url, config.graph.base_url
                ),
            )),
            Some(Err(e)) => checks.push(Check::fail(
                "graph",
                format!("token issued, but reading a user failed: {}", said(e)),
                "grant the app User.Read.All (application permission) with admin consent",
            )),
            None => {}
        },
        Err(e) => checks.push(Check::fail("graph", said(e), fix_of(e))),
    }
    const WRITE: [&str; 3] =
        ["User-PasswordProfile.ReadWrite.All", "User.ReadWrite.All", "Directory.ReadWrite.All"];
    checks.push(match &probe.roles {
        Some(roles) if roles.iter().any(|r| WRITE.contains(&r.as_str())) => Check::ok(
            "permission",
            format!(
                "the token carries {}; the app also needs a directory role that may reset these users' passwords (User Administrator, or Privileged Authentication Administrator for administrators)",
                roles.iter().filter(|r| WRITE.contains(&r.as_str())).cloned().collect::<Vec<_>>().join(", ")
            ),
        ),
        Some(roles) => Check::fail(
            "permission",
            format!(
                "the token's application permissions ({}) cannot set passwords: every delivery would be refused (403)",
                if roles.is_empty() { "none".to_string() } else { roles.join(", ") }
            ),
            "grant the app User-PasswordProfile.ReadWrite.All (application permission), give admin consent, and assign it the User Administrator role",
        ),
        None if probe.token.is_ok() => Check::skip(
            "permission",
            "the token is not a JWT (not Entra's): the first delivery will tell",
        ),
        None => Check::skip("permission", "no token"),
    });
    checks.push(match probe.server_date {
        Some(date) => {
            let (ahead, skew) = match asked.duration_since(date) {
                Ok(d) => (true, d.as_secs()),
                Err(e) => (false, e.duration().as_secs()),
            };
            let direction = if ahead { "ahead of" } else { "behind" };
            if skew > MAX_SKEW_SECS {
                Check::fail(
                    "clock",
                    format!("this machine's clock is {skew} s {direction} the token endpoint's"),
                    "synchronize the clock (chrony or systemd-timesyncd; on a DC, the domain's time source)",
                )
            } else {
                Check::ok("clock", format!("within {skew} s of the token endpoint's (at most {MAX_SKEW_SECS} s)"))
            }
        }
        None if probe.token.is_ok() => Check::fail(
            "clock",
            "the token endpoint sent no `Date` header to compare the clock with",
            "check that token_url is Entra's (login.microsoftonline.com) or a proxy that keeps its headers",
        ),
        None => Check::skip("clock", "the token endpoint did not answer"),
    });
    checks
}

/// The directory answers (Samba's ldapi socket, or the file a test uses), and its password
/// settings let Samba run the hook.
fn directory(config: &AgentConfig) -> Vec<Check> {
    const NAME: &str = "directory";
    let Some(d) = &config.directory else {
        return vec![Check::fail(
            NAME,
            "no `directory` in the configuration: the agent does not start without one",
            "set `directory: {kind: samba, socket: /var/lib/samba/private/ldap_priv/ldapi}`",
        )];
    };
    if matches!(d, DirectoryConfig::Notified) {
        return vec![
            Check::skip(NAME, "`directory: notified`: Windows tells the filter what it stored"),
            Check::skip(
                "complexity",
                "Windows calls the LSA filter whatever its complexity setting",
            ),
        ];
    }
    let started = Instant::now();
    let mut directory = d.open();
    if let Err(e) = directory.password("policyc-doctor-probe") {
        return vec![
            Check::fail(
                NAME,
                e.to_string(),
                "is Samba running (`systemctl status samba-ad-dc`)? the agent runs as root to use the privileged ldapi socket",
            ),
            Check::skip("complexity", "the directory did not answer"),
        ];
    }
    let answered = Check::ok(NAME, format!("answered in {} ms", started.elapsed().as_millis()));
    let complexity = match directory.password_settings() {
        Ok(Some(s)) if s.complexity => Check::ok(
            "complexity",
            format!(
                "password complexity is on: Samba runs the hook (after its own minimum length check, minPwdLength {})",
                s.min_length
            ),
        ),
        Ok(Some(_)) => Check::fail(
            "complexity",
            "password complexity is off: Samba does not run `check password script` at all, so no reset is checked or queued for the cloud",
            "samba-tool domain passwordsettings set --complexity=on --min-pwd-length=1 (the policy then decides alone)",
        ),
        Ok(None) => {
            Check::skip("complexity", "this directory does not keep the domain's password settings")
        }
        Err(e) => Check::fail(
            "complexity",
            format!("cannot read the domain's password settings: {e}"),
            "`samba-tool domain passwordsettings show` says them; complexity must be on",
        ),
    };
    vec![answered, complexity]
}

/// Syslog's socket, where the hook writes refusals and its failures.
fn syslog(config: &AgentConfig) -> Check {
    const NAME: &str = "syslog";
    if config.syslog.as_os_str().is_empty() {
        return Check::skip(
            NAME,
            "`syslog: \"\"`: refusals go to Samba's log and the audit log only",
        );
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        match std::fs::metadata(&config.syslog) {
            Ok(m) if m.file_type().is_socket() => {
                return Check::ok(NAME, format!("{} is a socket", config.syslog.display()));
            }
            Ok(_) => {
                return Check::fail(
                    NAME,
                    format!("{} is not a socket", config.syslog.display()),
                    "set `syslog:` to journald's or rsyslog's socket (/dev/log)",
                );
            }
            Err(_) => {}
        }
    }
    Check::fail(
        NAME,
        format!("{} does not exist: the hook's refusals reach no journal", config.syslog.display()),
        "install and start systemd-journald or rsyslog, or set `syslog: \"\"`",
    )
}

/// Where the metrics go can be written.
fn metrics(config: &AgentConfig) -> Check {
    const NAME: &str = "metrics";
    let m = &config.metrics;
    if let Err(e) = m.check() {
        return Check::fail(NAME, e.to_string(), "name the textfile `policyc.prom`");
    }
    if let Some(t) = &m.textfile {
        let dir = t.parent().unwrap_or(Path::new("."));
        if !dir.is_dir() {
            return Check::fail(
                NAME,
                format!("{} does not exist", dir.display()),
                "install prometheus-node-exporter (its textfile directory is /var/lib/prometheus/node-exporter) or point `metrics.textfile` at its directory",
            );
        }
    }
    if let Some(addr) = &m.listen
        && addr.parse::<std::net::SocketAddr>().is_err()
    {
        return Check::fail(
            NAME,
            format!("`metrics.listen` `{addr}` is not an address"),
            "write it as 127.0.0.1:9817",
        );
    }
    match (&m.textfile, &m.listen) {
        (None, None) => {
            Check::skip(NAME, "no `metrics:`; `policyc agent metrics` prints them on demand")
        }
        (t, l) => Check::ok(
            NAME,
            [
                t.as_ref().map(|t| format!("textfile {}", t.display())),
                l.as_ref().map(|l| format!("http://{l}/metrics")),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(", "),
        ),
    }
}

/// Runs `cmd` with [`STEP_TIMEOUT`]: its standard output, or why not.
fn run_bounded(mut cmd: std::process::Command) -> Result<String, AgentError> {
    use std::io::Read as _;
    let mut child = cmd
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| AgentError::System(e.to_string()))?;
    // Read as it comes: a full pipe must not stall the program until the deadline.
    let drain = |pipe: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            if let Some(p) = pipe {
                let _ = p.take(1 << 20).read_to_string(&mut text);
            }
            text
        })
    };
    let out = drain(child.stdout.take().map(|p| Box::new(p) as Box<dyn std::io::Read + Send>));
    let err = drain(child.stderr.take().map(|p| Box::new(p) as Box<dyn std::io::Read + Send>));
    let deadline = Instant::now() + STEP_TIMEOUT;
    let status = loop {
        match child.try_wait().map_err(|e| AgentError::System(e.to_string()))? {
            Some(status) => break status,
            None if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(AgentError::System(format!(
                    "did not finish within {} s",
                    STEP_TIMEOUT.as_secs()
                )));
            }
            None => std::thread::sleep(Duration::from_millis(10)),
        }
    };
    let out = out.join().unwrap_or_default();
    let err = err.join().unwrap_or_default();
    match status.success() {
        true => Ok(out),
        false => {
            Err(AgentError::System(format!("{status}: {}", super::graph::bounded(err.trim()))))
        }
    }
}
