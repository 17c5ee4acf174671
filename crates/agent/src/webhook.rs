//! The webhook: a JSON post of each outcome an operator must hear of as it happens (no
//! password, ever), from the agent's pass and from `agent reconcile`.

use crate::AgentError;
use policyc_gate::audit::now;
use policyc_gate::outcome::Outcome;
use policyc_gate::queue::Change;
use std::time::Duration;

/// Where outcomes are posted, if anywhere.
#[derive(Debug)]
pub struct Webhook {
    url: Option<String>,
    http: ureq::Agent,
}

impl Webhook {
    /// The webhook at `url` (HTTPS, or plain HTTP on loopback), or none.
    pub fn new(url: Option<&str>) -> Result<Webhook, AgentError> {
        if let Some(url) = url {
            super::graph::check_transport("webhook", url)?;
        }
        let http = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(5)))
            .http_status_as_error(false)
            .max_redirects(0)
            .build()
            .into();
        Ok(Webhook { url: url.map(str::to_string), http })
    }

    /// Posts one outcome; a failure is said on stderr (the audit line has it anyway).
    pub fn post(
        &self,
        outcome: Outcome,
        change: Option<&Change>,
        rules: &[String],
        detail: Option<&str>,
        policy: Option<&str>,
    ) {
        let Some(url) = &self.url else { return };
        let body = serde_json::json!({
            "event": outcome.as_str(), "time": now(),
            "account": change.map(|c| c.account.as_str()), "user": change.and_then(|c| c.user.as_deref()),
            "rules": rules, "detail": detail, "policy": policy,
        });
        if let Err(e) = self.http.post(url).content_type("application/json").send(body.to_string())
        {
            policyc_gate::files::say(&format!("policyc: webhook `{url}` failed: {e}"));
        }
    }
}
