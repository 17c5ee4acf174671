//! The agent's and the hook's metrics in Prometheus' text format (version 0.0.4): written as a
//! file for node_exporter's textfile collector, served on `ADDR/metrics`, or printed once by
//! `policyc agent metrics`. Everything comes from what `agent status` reads (the state, the
//! queue, the hook's health, the last reconciliation): a scrape never opens a sealed record, and
//! no label carries an account, a user or a password.

use super::config::AgentConfig;
use super::hook_health::HookHealth;
use super::state::{AgentState, LATENCY_BOUNDS_SECS};
use crate::AgentError;
use std::fmt::Write as _;

/// One scrape: every metric, with its HELP and TYPE lines.
pub fn render(config: &AgentConfig) -> String {
    let status = super::status::status(config);
    let state = AgentState::load(&config.queue.join("state.json"));
    let hook = super::hook_health::read(&config.queue).ok().flatten().unwrap_or_default();
    let mut out = Text::default();

    out.family("policyc_agent_healthy", "gauge", "1 when `agent status` finds no problem");
    out.sample("policyc_agent_healthy", &[], f64::from(u8::from(status.healthy)));
    out.family("policyc_agent_problems", "gauge", "Problems `agent status` lists");
    out.sample("policyc_agent_problems", &[], status.problems.len() as f64);
    out.family(
        "policyc_agent_info",
        "gauge",
        "The agent's host (the DC, where each DC runs an agent), delivery model and mode",
    );
    let host = policyc_gate::audit::host();
    let delivery = match config.delivery {
        super::config::DeliveryModel::Queue => "queue",
        super::config::DeliveryModel::Replicated => "replicated",
    };
    let mode = match config.mode {
        super::config::Mode::Enforce => "enforce",
        super::config::Mode::Report => "report",
    };
    out.sample(
        "policyc_agent_info",
        &[("host", host), ("delivery", delivery), ("mode", mode)],
        1.0,
    );
    out.timestamp(
        "policyc_agent_heartbeat_timestamp_seconds",
        "When the agent last showed it is alive",
        state.heartbeat_ms,
    );
    out.timestamp(
        "policyc_agent_last_success_timestamp_seconds",
        "When the cloud last took a password",
        state.last_success_ms,
    );
    out.timestamp(
        "policyc_agent_last_failure_timestamp_seconds",
        "When a delivery last failed (retried, refused or held)",
        state.last_failure_ms,
    );

    out.family("policyc_queue_pending", "gauge", "Changes waiting for the directory or the cloud");
    out.sample("policyc_queue_pending", &[], status.pending as f64);
    out.family(
        "policyc_queue_oldest_pending_seconds",
        "gauge",
        "Age of the oldest waiting change (0: none)",
    );
    out.sample(
        "policyc_queue_oldest_pending_seconds",
        &[],
        status.oldest_pending_secs.unwrap_or(0) as f64,
    );
    out.family(
        "policyc_queue_failed",
        "gauge",
        "Changes in failed/, waiting for a human, by reason",
    );
    for (reason, n) in &status.failed_by_reason {
        out.sample("policyc_queue_failed", &[("reason", reason)], *n as f64);
    }
    out.family(
        "policyc_queue_stuck",
        "gauge",
        "Finished changes whose record cannot leave pending/ (queue_unwritable)",
    );
    out.sample("policyc_queue_stuck", &[], state.stuck.len() as f64);

    out.family(
        "policyc_outcomes_total",
        "counter",
        "Password changes by outcome, as the hook and the agent recorded them (would_refuse included)",
    );
    for (outcome, n) in &hook.counts {
        out.sample(
            "policyc_outcomes_total",
            &[("source", "hook"), ("outcome", outcome)],
            *n as f64,
        );
    }
    for (outcome, n) in &state.counts {
        out.sample(
            "policyc_outcomes_total",
            &[("source", "agent"), ("outcome", outcome)],
            *n as f64,
        );
    }
    hook_failing(&mut out, &hook);

    out.family(
        "policyc_delivery_latency_seconds",
        "histogram",
        "From the hook's decision to the cloud's answer, per delivered change",
    );
    let mut buckets = state.latency.buckets.clone();
    buckets.resize(LATENCY_BOUNDS_SECS.len(), 0);
    for (bound, n) in LATENCY_BOUNDS_SECS.iter().zip(&buckets) {
        out.sample(
            "policyc_delivery_latency_seconds_bucket",
            &[("le", &bound.to_string())],
            *n as f64,
        );
    }
    let count = state.latency.count as f64;
    out.sample("policyc_delivery_latency_seconds_bucket", &[("le", "+Inf")], count);
    out.sample("policyc_delivery_latency_seconds_sum", &[], state.latency.sum_ms as f64 / 1000.0);
    out.sample("policyc_delivery_latency_seconds_count", &[], count);

    reconcile(&mut out, status.reconcile.as_ref());
    policy(
        &mut out,
        config,
        status.problems.iter().any(|p| p.starts_with("the policy does not load")),
    );
    out.0
}

/// Whether the hook is failing now, and since when.
fn hook_failing(out: &mut Text, hook: &HookHealth) {
    out.family(
        "policyc_hook_failing",
        "gauge",
        "1 while the hook cannot judge, queue or record changes (it refuses them, or accepts unchecked when failing open)",
    );
    out.sample("policyc_hook_failing", &[], f64::from(u8::from(hook.failing.is_some())));
    out.timestamp(
        "policyc_hook_failing_since_timestamp_seconds",
        "When the hook's current run of failures began",
        hook.failing.as_ref().map(|f| f.since_ms),
    );
}

/// The last reconciliation: accounts by standing, and when it ran.
fn reconcile(out: &mut Text, report: Option<&super::reconcile::Report>) {
    out.timestamp(
        "policyc_reconcile_timestamp_seconds",
        "When the directory and the cloud were last compared",
        report.map(|r| r.at_ms),
    );
    out.family(
        "policyc_reconcile_accounts",
        "gauge",
        "Accounts by standing at the last reconciliation (changed_in_cloud and not_delivered are the drift)",
    );
    let Some(report) = report else { return };
    let mut by: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    by.insert("in_sync", report.in_sync);
    by.insert("unverified", report.unverified);
    for s in ["changed_in_cloud", "not_delivered", "pending", "cloud_unobservable", "acknowledged"]
    {
        by.insert(s, 0);
    }
    for f in &report.findings {
        *by.entry(f.standing.as_str()).or_default() += 1;
    }
    for (standing, n) in by {
        out.sample("policyc_reconcile_accounts", &[("standing", standing)], n as f64);
    }
}

/// The policy in force: name, digest and signed serial.
fn policy(out: &mut Text, config: &AgentConfig, broken: bool) {
    out.family(
        "policyc_policy_loaded",
        "gauge",
        "1 when the policy file loads and passes the trust checks",
    );
    out.sample("policyc_policy_loaded", &[], f64::from(u8::from(!broken)));
    let Ok(v) = config
        .trust(false)
        .and_then(|t| policyc_gate::policy_file::load_policy(&config.policy, &t))
    else {
        return;
    };
    let serial = policyc_gate::files::read_bounded(
        &policyc_gate::signing::signature_path(&config.policy),
        4096,
        false,
    )
    .ok()
    .and_then(|b| String::from_utf8(b.to_vec()).ok())
    .and_then(|t| policyc_gate::signing::parse_signature(&t, &config.policy).ok())
    .map_or(0, |s| s.signed.serial);
    out.family(
        "policyc_policy_info",
        "gauge",
        "The policy in force: name, digest, signed serial (0: unsigned)",
    );
    out.sample(
        "policyc_policy_info",
        &[("name", v.name()), ("digest", &v.digest_hex()), ("serial", &serial.to_string())],
        1.0,
    );
    out.family(
        "policyc_policy_serial",
        "gauge",
        "The signed serial of the policy in force (0: unsigned)",
    );
    out.sample("policyc_policy_serial", &[], serial as f64);
}

/// The exposition being written.
#[derive(Default)]
struct Text(String);

impl Text {
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.0, "# HELP {name} {help}");
        let _ = writeln!(self.0, "# TYPE {name} {kind}");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.0.push_str(name);
        if !labels.is_empty() {
            let parts: Vec<String> =
                labels.iter().map(|(k, v)| format!("{k}=\"{}\"", escape(v))).collect();
            let _ = write!(self.0, "{{{}}}", parts.join(","));
        }
        let _ = writeln!(self.0, " {value}");
    }

    /// A timestamp gauge, in seconds; absent (never happened) is left out.
    fn timestamp(&mut self, name: &str, help: &str, ms: Option<u64>) {
        self.family(name, "gauge", help);
        if let Some(ms) = ms {
            self.sample(name, &[], ms as f64 / 1000.0);
        }
    }
}

/// A label value as the format wants it: backslash, quote and newline escaped.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// Writes the scrape to `path` whole (a collector never reads half of one), readable by the
/// collector (0644).
pub fn write_textfile(config: &AgentConfig, path: &std::path::Path) -> Result<(), AgentError> {
    policyc_gate::files::replace(path, render(config).as_bytes(), 0o644)
        .map_err(|e| AgentError::File(e.to_string()))
}

/// Serves `GET /metrics` on `addr` from a thread, each request a fresh [`render`].
pub fn serve(config: AgentConfig, addr: &str) -> Result<std::thread::JoinHandle<()>, AgentError> {
    let server = tiny_http::Server::http(addr).map_err(|e| {
        AgentError::System(format!("`metrics.listen`: cannot listen on `{addr}`: {e}"))
    })?;
    Ok(std::thread::spawn(move || {
        for request in server.incoming_requests() {
            let (code, body, kind) = match (request.method(), request.url()) {
                (tiny_http::Method::Get, "/metrics") => {
                    (200, render(&config), "text/plain; version=0.0.4; charset=utf-8")
                }
                (tiny_http::Method::Get, _) => (404, "only /metrics here\n".into(), "text/plain"),
                _ => (405, "GET only\n".into(), "text/plain"),
            };
            let mut response = tiny_http::Response::from_string(body).with_status_code(code);
            if let Ok(h) = tiny_http::Header::from_bytes("Content-Type", kind) {
                response = response.with_header(h);
            }
            let _ = request.respond(response);
        }
    }))
}
