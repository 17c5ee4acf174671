//! The cloud sink: Microsoft Graph `PATCH {base}/v1.0/users/{userPrincipalName}` with a
//! `passwordProfile`, after an OAuth2 client-credentials token (cached until shortly before it
//! expires). Every answer is classified into a [`Delivery`] the loop can act on.

use serde::Deserialize;
use std::time::{Duration, Instant};
use zeroize::Zeroizing;

/// Where and how to reach the cloud.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GraphConfig {
    /// Graph's base URL, e.g. `https://graph.microsoft.com`.
    pub base_url: String,
    /// The token endpoint, e.g. `https://login.microsoftonline.com/TENANT/oauth2/v2.0/token`.
    pub token_url: String,
    /// The app registration's client id.
    pub client_id: String,
    /// A file holding the client secret (preferred: keeps it out of the config).
    #[serde(default)]
    pub client_secret_file: Option<std::path::PathBuf>,
    /// The client secret itself.
    #[serde(default)]
    pub client_secret: Option<Secret>,
    /// The token scope.
    #[serde(default = "default_scope")]
    pub scope: String,
    /// Ask users to change the password at next sign-in.
    #[serde(default)]
    pub force_change_password_next_sign_in: bool,
    /// Per-request timeout, in seconds.
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
}

/// A secret from the configuration: wiped on drop, never shown by `Debug`.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct Secret(Zeroizing<String>);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

fn default_scope() -> String {
    "https://graph.microsoft.com/.default".into()
}

fn default_timeout() -> u64 {
    30
}

/// What happened to one delivery.
#[derive(Debug, Clone, PartialEq)]
pub enum Delivery {
    /// The cloud took the password (2xx).
    Done,
    /// Try again later (network error, 5xx, 429, expired token); `after` is the server's
    /// `Retry-After`, if it gave one.
    Retry {
        /// The server's requested wait.
        after: Option<Duration>,
        /// Why, for the log.
        reason: String,
    },
    /// The cloud refused the password as too weak: our policy accepted what the cloud
    /// refuses. A policy-drift alarm.
    Drift {
        /// The cloud's message.
        detail: String,
    },
    /// The cloud refused the request for another reason (unknown user, no permission):
    /// retrying will not help.
    Failed {
        /// HTTP status.
        status: u16,
        /// The cloud's message.
        detail: String,
    },
}

/// A Graph client with a token cache. Its `Debug` shows neither the secret nor the token.
pub struct Graph {
    config: GraphConfig,
    secret: Zeroizing<String>,
    http: ureq::Agent,
    token: Option<(Zeroizing<String>, Instant)>,
}

impl std::fmt::Debug for Graph {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Graph")
            .field("base_url", &self.config.base_url)
            .field("token_url", &self.config.token_url)
            .field("client_id", &self.config.client_id)
            .field("has_token", &self.token.is_some())
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: Zeroizing<String>,
    #[serde(default)]
    expires_in: u64,
}

#[derive(Deserialize)]
struct GraphError {
    error: GraphErrorBody,
}

#[derive(Deserialize)]
struct GraphErrorBody {
    #[serde(default)]
    message: String,
}

impl Graph {
    /// A client for `config`; reads the client secret file now.
    pub fn new(config: GraphConfig) -> Result<Graph, String> {
        let secret = match (&config.client_secret_file, &config.client_secret) {
            (Some(path), _) => std::fs::read_to_string(path)
                .map(|s| Zeroizing::new(s.trim().to_string()))
                .map_err(|e| format!("cannot read client secret `{}`: {e}", path.display()))?,
            (None, Some(s)) => s.0.clone(),
            (None, None) => {
                return Err("graph: set `client_secret_file` (or `client_secret`)".into());
            }
        };
        let http: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(config.timeout_secs)))
            .http_status_as_error(false)
            .build()
            .into();
        Ok(Graph { config, secret, http, token: None })
    }

    fn bearer(&mut self) -> Result<Zeroizing<String>, Delivery> {
        if let Some((t, until)) = &self.token
            && Instant::now() < *until
        {
            return Ok(t.clone());
        }
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", self.config.client_id.as_str()),
            ("client_secret", self.secret.as_str()),
            ("scope", self.config.scope.as_str()),
        ];
        let retry = |reason: String| Delivery::Retry { after: None, reason };
        let mut resp = self
            .http
            .post(&self.config.token_url)
            .send_form(form)
            .map_err(|e| retry(format!("token request failed: {e}")))?;
        let status = resp.status().as_u16();
        let body = resp.body_mut().read_to_string().unwrap_or_default();
        if status != 200 {
            return Err(retry(format!("token endpoint answered {status}")));
        }
        let answer: TokenAnswer = serde_json::from_str(&body)
            .map_err(|_| retry("token endpoint answered no token".into()))?;
        // Renew a minute early (or halfway, for short-lived tokens).
        let ttl = Duration::from_secs(answer.expires_in.max(1));
        let margin = Duration::from_secs(60).min(ttl / 2);
        self.token = Some((answer.access_token.clone(), Instant::now() + ttl - margin));
        Ok(answer.access_token)
    }

    /// Sets a user's cloud password.
    pub fn set_password(&mut self, user: &str, password: &str) -> Delivery {
        let token = match self.bearer() {
            Ok(t) => t,
            Err(d) => return d,
        };
        let url = format!(
            "{}/v1.0/users/{}",
            self.config.base_url.trim_end_matches('/'),
            percent_encode(user)
        );
        let body = Zeroizing::new(
            serde_json::json!({"passwordProfile": {
                "forceChangePasswordNextSignIn": self.config.force_change_password_next_sign_in,
                "password": password,
            }})
            .to_string(),
        );
        let sent = self
            .http
            .patch(&url)
            .header("Authorization", format!("Bearer {}", token.as_str()))
            .content_type("application/json")
            .send(body.as_bytes());
        let mut resp = match sent {
            Ok(r) => r,
            Err(e) => return Delivery::Retry { after: None, reason: format!("network: {e}") },
        };
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get("Retry-After")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map(|s| Duration::from_secs_f64(s.min(3600.0)));
        let text = resp.body_mut().read_to_string().unwrap_or_default();
        let message =
            serde_json::from_str::<GraphError>(&text).map(|e| e.error.message).unwrap_or_default();
        match status {
            200..=299 => Delivery::Done,
            401 => {
                self.token = None;
                Delivery::Retry { after: None, reason: "token rejected (401); renewing it".into() }
            }
            429 => Delivery::Retry { after: retry_after, reason: "throttled (429)".into() },
            500..=599 => {
                Delivery::Retry { after: retry_after, reason: format!("cloud error ({status})") }
            }
            400 if message.contains("does not comply with password complexity") => {
                Delivery::Drift { detail: message }
            }
            _ => Delivery::Failed { status, detail: message },
        }
    }
}

/// Percent-encodes a path segment (a userPrincipalName has `@`, and may have `'` or `#`).
fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'@' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
