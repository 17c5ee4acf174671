//! The cloud sink: Microsoft Graph `PATCH {base}/v1.0/users/{userPrincipalName}` with a
//! `passwordProfile`, after an OAuth2 client-credentials token (cached until shortly before it
//! expires), and `GET` of the user first, to learn whether Entra Connect syncs it. Every answer is
//! classified into a [`Delivery`] the loop can act on: done, transient, a configuration error
//! (the change stays queued), or a per-user refusal. Redirects are never followed.

use crate::AgentError;
use policyc_gate::outcome::Outcome;
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
    /// The name of a systemd credential holding the client secret
    /// (`LoadCredential=NAME:/etc/policyc/client-secret` in the unit): read from
    /// `$CREDENTIALS_DIRECTORY/NAME` when the agent runs under systemd, else from
    /// `client_secret_file` (so that `policyc doctor`, run by hand, reads the same secret).
    #[serde(default)]
    pub client_secret_credential: Option<String>,
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

/// What happened to one request.
#[derive(Debug, Clone, PartialEq)]
pub enum Delivery {
    /// The cloud took the password (2xx).
    Done,
    /// Try again later (network error, 5xx, 429); `after` is the server's `Retry-After`.
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
    /// The agent's configuration is wrong (credentials, permissions, URLs): no change can be
    /// delivered until it is fixed, and every change stays queued.
    Config {
        /// [`Outcome::TokenRefused`], [`Outcome::PermissionDenied`] or [`Outcome::WrongEndpoint`].
        outcome: Outcome,
        /// What is wrong and how to fix it.
        detail: String,
    },
    /// The cloud will never take this change, for a reason of this user's.
    User {
        /// [`Outcome::SyncedByEntraConnect`], [`Outcome::UserNotFound`] or [`Outcome::Failed`].
        outcome: Outcome,
        /// The cloud's answer.
        detail: String,
    },
}

impl std::fmt::Display for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Delivery::Done => f.write_str("done"),
            Delivery::Retry { reason, .. } => write!(f, "{reason} (transient)"),
            Delivery::Drift { detail } => write!(f, "the cloud refused the password: {detail}"),
            Delivery::Config { outcome, detail } | Delivery::User { outcome, detail } => {
                write!(f, "{outcome}: {detail}")
            }
        }
    }
}

/// What the cloud knows of a user, from `GET /v1.0/users/{id}?$select=…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloudUser {
    /// The object id.
    pub id: String,
    /// `onPremisesSyncEnabled`: Entra Connect syncs the user, so Graph cannot set its password.
    pub synced: bool,
    /// `lastPasswordChangeDateTime`, as Graph wrote it.
    pub last_password_change: Option<String>,
}

/// One user of the paged user list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedUser {
    /// `userPrincipalName`.
    pub upn: String,
    /// What else the cloud knows of it.
    pub user: CloudUser,
}

/// The properties reconciliation reads, for one user or the paged list.
const USER_SELECT: &str = "id,userPrincipalName,onPremisesSyncEnabled,lastPasswordChangeDateTime";

/// Users per page of the list (Graph's largest `$top` for users).
const PAGE_SIZE: usize = 999;

/// A Graph client with a token cache. Its `Debug` shows neither the secret nor the token.
pub struct Graph {
    config: GraphConfig,
    /// `base_url` without a trailing `/` or `/v1.0`.
    base: String,
    secret: Zeroizing<String>,
    http: ureq::Agent,
    token: Option<(Zeroizing<String>, Instant)>,
}

impl std::fmt::Debug for Graph {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Graph")
            .field("base_url", &self.base)
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

/// What [`Graph::probe`] found.
#[derive(Debug)]
pub struct Probe {
    /// A token was issued, or why not.
    pub token: Result<(), Delivery>,
    /// The token endpoint's clock.
    pub server_date: Option<std::time::SystemTime>,
    /// The application permissions (`roles` claim) of the token, when it is a JWT.
    pub roles: Option<Vec<String>>,
    /// A read of one user, after a token.
    pub user: Option<Result<(), Delivery>>,
}

/// The `roles` claim of a JWT access token (read, not verified: the cloud verifies it; this
/// only says what the app was granted), each role cleaned and bounded as any server text, at
/// most 64 of them.
pub fn token_roles(token: &str) -> Option<Vec<String>> {
    use base64::Engine as _;
    #[derive(Deserialize)]
    struct Claims {
        #[serde(default)]
        roles: Vec<String>,
    }
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims = serde_json::from_slice::<Claims>(&bytes).ok()?;
    Some(claims.roles.iter().take(64).map(|r| bounded(r)).collect())
}

/// The token endpoint's error body (`{"error": "invalid_client", "error_description": "AADSTS…"}`).
#[derive(Deserialize)]
struct TokenError {
    error: String,
    #[serde(default)]
    error_description: String,
}

/// Graph's error body (`{"error": {"code": …, "message": …}}`).
#[derive(Deserialize)]
struct GraphError {
    error: GraphErrorBody,
}

#[derive(Deserialize)]
struct GraphErrorBody {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
}

/// The user properties the agent reads (`$select`).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UserAnswer {
    #[serde(default)]
    id: String,
    #[serde(default)]
    on_premises_sync_enabled: Option<bool>,
    #[serde(default)]
    last_password_change_date_time: Option<String>,
    #[serde(default)]
    user_principal_name: Option<String>,
}

impl UserAnswer {
    fn into_cloud_user(self) -> CloudUser {
        CloudUser {
            id: self.id,
            synced: self.on_premises_sync_enabled == Some(true),
            last_password_change: self.last_password_change_date_time,
        }
    }
}

/// A page of `GET /v1.0/users`.
#[derive(Deserialize)]
struct UserPage {
    #[serde(default)]
    value: Vec<UserAnswer>,
    #[serde(default, rename = "@odata.nextLink")]
    next_link: Option<String>,
}

/// The longest piece of a server's text the agent records.
const MAX_DETAIL_CHARS: usize = 300;

/// A server's text as it may be recorded: control characters replaced, bounded.
pub fn bounded(text: &str) -> String {
    let mut out: String =
        text.chars().map(|c| if c.is_control() { ' ' } else { c }).take(MAX_DETAIL_CHARS).collect();
    if text.chars().count() > MAX_DETAIL_CHARS {
        out.push('…');
    }
    out
}

/// Where the client secret is read from now: the systemd credential (under systemd), else
/// `client_secret_file`.
fn secret_path(config: &GraphConfig) -> Result<Option<std::path::PathBuf>, AgentError> {
    let Some(name) = &config.client_secret_credential else {
        return Ok(config.client_secret_file.clone());
    };
    if name.is_empty() || name.contains('/') || name.starts_with('.') {
        return Err(AgentError::Config(format!(
            "graph: `client_secret_credential` `{name}` is not a credential name (as in LoadCredential=NAME:PATH)"
        )));
    }
    match std::env::var_os("CREDENTIALS_DIRECTORY") {
        Some(dir) => Ok(Some(std::path::PathBuf::from(dir).join(name))),
        None if config.client_secret_file.is_some() => Ok(config.client_secret_file.clone()),
        None => Err(AgentError::Config(format!(
            "graph: `client_secret_credential: {name}`, but the agent was not started by systemd with `LoadCredential={name}:PATH` ($CREDENTIALS_DIRECTORY is not set); set `client_secret_file` too for runs outside the unit"
        ))),
    }
}

/// The client secret: the credential or `client_secret_file` read now, or `client_secret`.
fn read_secret(config: &GraphConfig) -> Result<Zeroizing<String>, AgentError> {
    match (secret_path(config)?, &config.client_secret) {
        (Some(path), _) => {
            let path = path.as_path();
            let bytes = policyc_gate::files::read_bounded(path, 4096, true)
                .map_err(|e| AgentError::Secret(format!("cannot read the client secret: {e}")))?;
            let text = std::str::from_utf8(&bytes).map_err(|_| {
                AgentError::Secret(format!("client secret `{}` is not UTF-8", path.display()))
            })?;
            Ok(Zeroizing::new(text.trim().to_string()))
        }
        (None, Some(s)) => Ok(s.0.clone()),
        (None, None) => {
            Err(AgentError::Config("graph: set `client_secret_file` (or `client_secret`)".into()))
        }
    }
}

/// An answer: status, body, `Retry-After`.
struct Answer {
    status: u16,
    body: String,
    retry_after: Option<Duration>,
}

impl Graph {
    /// A client for `config`; reads the client secret file now (and again before every token
    /// request, so that a rotated or corrected secret is used without a restart).
    pub fn new(config: GraphConfig) -> Result<Graph, AgentError> {
        let secret = read_secret(&config)?;
        check_transport("graph: base_url", &config.base_url)?;
        check_transport("graph: token_url", &config.token_url)?;
        let trimmed = config.base_url.trim_end_matches('/');
        let base = trimmed.strip_suffix("/v1.0").unwrap_or(trimmed).to_string();
        let http: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(config.timeout_secs)))
            .http_status_as_error(false)
            .max_redirects(0)
            .build()
            .into();
        Ok(Graph { config, base, secret, http, token: None })
    }

    /// A token, and whether it was issued just now.
    fn bearer(&mut self) -> Result<(Zeroizing<String>, bool), Delivery> {
        if let Some((t, until)) = &self.token
            && Instant::now() < *until
        {
            return Ok((t.clone(), false));
        }
        let (token, ttl, _) = self.fetch_token()?;
        // Renew a minute early (or halfway, for short-lived tokens).
        let margin = Duration::from_secs(60).min(ttl / 2);
        self.token = Some((token.clone(), Instant::now() + ttl - margin));
        Ok((token, true))
    }

    /// A new token from the token endpoint (the secret read again first), how long it lives,
    /// and the endpoint's clock (its `Date` header).
    fn fetch_token(
        &mut self,
    ) -> Result<(Zeroizing<String>, Duration, Option<std::time::SystemTime>), Delivery> {
        if self.config.client_secret_file.is_some()
            || self.config.client_secret_credential.is_some()
        {
            self.secret = read_secret(&self.config).map_err(|e| Delivery::Config {
                outcome: Outcome::TokenRefused,
                detail: e.to_string(),
            })?;
        }
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", self.config.client_id.as_str()),
            ("client_secret", self.secret.as_str()),
            ("scope", self.config.scope.as_str()),
        ];
        let url = &self.config.token_url;
        let mut resp = self.http.post(url).send_form(form).map_err(|e| Delivery::Retry {
            after: None,
            reason: format!("token request failed: {e}"),
        })?;
        let status = resp.status().as_u16();
        let date = resp
            .headers()
            .get("Date")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| httpdate::parse_http_date(v).ok());
        let body = resp.body_mut().read_to_string().unwrap_or_default();
        let (token, ttl) = token_answer(url, status, &body)?;
        Ok((token, ttl, date))
    }

    /// What `policyc doctor` asks of the cloud: a token (and the token endpoint's clock, and
    /// the app roles the token carries, when it is a JWT as Entra issues), then a read of one
    /// user. Never sets anything.
    pub fn probe(&mut self) -> Probe {
        let (token, ttl, date) = match self.fetch_token() {
            Ok(t) => t,
            Err(e) => return Probe { token: Err(e), server_date: None, roles: None, user: None },
        };
        let roles = token_roles(&token);
        let margin = Duration::from_secs(60).min(ttl / 2);
        self.token = Some((token, Instant::now() + ttl - margin));
        let url = format!("{}/v1.0/users?$select={USER_SELECT}&$top=1", self.base);
        let user = Some(self.get_json::<UserPage>(&url, "a list of users").map(|_| ()));
        Probe { token: Ok(()), server_date: date, roles, user }
    }

    /// Sends one request with a token; a rejected cached token is renewed once.
    fn call(&mut self, url: &str, body: Option<&[u8]>) -> Result<Answer, Delivery> {
        loop {
            let (token, fresh) = self.bearer()?;
            let auth = format!("Bearer {}", token.as_str());
            let sent = match body {
                Some(b) => self
                    .http
                    .patch(url)
                    .header("Authorization", &auth)
                    .content_type("application/json")
                    .send(b),
                None => self.http.get(url).header("Authorization", &auth).call(),
            };
            let mut resp = sent.map_err(|e| Delivery::Retry {
                after: None,
                reason: bounded(&format!("network: {e}")),
            })?;
            let status = resp.status().as_u16();
            let retry_after = resp
                .headers()
                .get("Retry-After")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<f64>().ok())
                .filter(|s| s.is_finite() && *s >= 0.0)
                .map(|s| Duration::from_secs_f64(s.min(3600.0)));
            let text = resp.body_mut().read_to_string().unwrap_or_default();
            if status == 401 {
                self.token = None;
                if !fresh {
                    continue;
                }
                return Err(Delivery::Config {
                    outcome: Outcome::TokenRefused,
                    detail: bounded(&format!(
                        "Graph refused a token just issued (401 {}): check scope (https://graph.microsoft.com/.default) and that token_url names this tenant",
                        graph_error(&text).map(|e| e.code).unwrap_or_default()
                    )),
                });
            }
            return Ok(Answer { status, body: text, retry_after });
        }
    }

    fn user_url(&self, user: &str) -> String {
        format!("{}/v1.0/users/{}", self.base, percent_encode(user))
    }

    /// What the cloud knows of `user` (`$select=id,onPremisesSyncEnabled,…`).
    pub fn cloud_user(&mut self, user: &str) -> Result<CloudUser, Delivery> {
        let url = format!("{}?$select={USER_SELECT}", self.user_url(user));
        self.get_json::<UserAnswer>(&url, "a Graph user").map(UserAnswer::into_cloud_user)
    }

    /// `GET url`, answered 2xx with a JSON body of `T` (`what`, for the error).
    fn get_json<T: serde::de::DeserializeOwned>(
        &mut self,
        url: &str,
        what: &str,
    ) -> Result<T, Delivery> {
        let answer = self.call(url, None)?;
        match classify(&answer) {
            Delivery::Done => {}
            other => return Err(other),
        }
        serde_json::from_str(&answer.body).map_err(|_| Delivery::Config {
            outcome: Outcome::WrongEndpoint,
            detail: format!(
                "`{url}` answered {} without {what}: is base_url right?",
                answer.status
            ),
        })
    }

    /// Every cloud user, through the paged `GET /v1.0/users?$select=…&$top=999` (no `$batch`,
    /// so any Graph-compatible server serves it), following `@odata.nextLink` only on this
    /// Graph. A 429 or 5xx waits (`Retry-After`, else 1 s) and asks again, at most `retries`
    /// times per page; `progress` is called before each request and each second of a wait
    /// (the agent's heartbeat). Returns the users and the number of requests made.
    pub fn list_users(
        &mut self,
        retries: u32,
        progress: &mut dyn FnMut(),
    ) -> Result<(Vec<ListedUser>, u32), Delivery> {
        let mut url =
            Some(format!("{}/v1.0/users?$select={USER_SELECT}&$top={PAGE_SIZE}", self.base));
        let mut users = Vec::new();
        let mut requests = 0;
        while let Some(next) = url.take() {
            let mut attempt = 0;
            let page = loop {
                requests += 1;
                progress();
                match self.get_json::<UserPage>(&next, "a list of users") {
                    Err(Delivery::Retry { after, .. }) if attempt < retries => {
                        attempt += 1;
                        let until = Instant::now()
                            + after.unwrap_or(Duration::from_secs(1)).min(Duration::from_secs(60));
                        while let Some(left) = until.checked_duration_since(Instant::now()) {
                            std::thread::sleep(left.min(Duration::from_secs(1)));
                            progress();
                        }
                    }
                    other => break other?,
                }
            };
            for u in page.value {
                let upn = u.user_principal_name.clone().unwrap_or_default();
                users.push(ListedUser { upn, user: u.into_cloud_user() });
            }
            if let Some(link) = page.next_link {
                if !link.starts_with(&format!("{}/", self.base)) {
                    return Err(Delivery::Config {
                        outcome: Outcome::WrongEndpoint,
                        detail: bounded(&format!(
                            "the user list's next page is on another server ({link}); not followed"
                        )),
                    });
                }
                url = Some(link);
            }
        }
        Ok((users, requests))
    }

    /// Sets a user's cloud password.
    pub fn set_password(&mut self, user: &str, password: &str) -> Delivery {
        let url = self.user_url(user);
        let body = Zeroizing::new(
            serde_json::json!({"passwordProfile": {
                "forceChangePasswordNextSignIn": self.config.force_change_password_next_sign_in,
                "password": password,
            }})
            .to_string(),
        );
        match self.call(&url, Some(body.as_bytes())) {
            Ok(answer) if echoes(&answer.body, password) => {
                // Never record an answer that echoes the password.
                match classify(&Answer { body: String::new(), ..answer }) {
                    Delivery::Done => Delivery::Done,
                    _ => Delivery::User {
                        outcome: Outcome::Failed,
                        detail: "the cloud refused the change; its answer echoed the password and is not recorded".into(),
                    },
                }
            }
            Ok(answer) => classify(&answer),
            Err(d) => d,
        }
    }
}

/// Whether a server's answer echoes `password` in any form a reader could recover it from: as
/// sent, JSON-escaped (`\"`, `\\`, and with non-ASCII as `\u` escapes too), in the raw body
/// or in any string it decodes to (JSON inside a JSON string included).
pub fn echoes(body: &str, password: &str) -> bool {
    if password.is_empty() {
        return false;
    }
    let forms = [
        password.to_string(),
        json_escaped(password, None),
        json_escaped(password, Some(false)),
        json_escaped(password, Some(true)),
    ];
    let mut texts = vec![body.to_string()];
    decoded_strings(body, 2, &mut texts);
    texts.iter().any(|t| forms.iter().any(|f| t.contains(f.as_str())))
}

/// `text` as a JSON string's content: `"` and `\` and control characters escaped, and with
/// `ascii` (`Some(upper-case hex)`) every non-ASCII character as `\uXXXX` (surrogate pairs
/// beyond the BMP).
fn json_escaped(text: &str, ascii: Option<bool>) -> String {
    let quoted = serde_json::to_string(text).unwrap_or_default();
    let inner = quoted.get(1..quoted.len().saturating_sub(1)).unwrap_or_default();
    let Some(upper) = ascii else { return inner.to_string() };
    let mut out = String::with_capacity(inner.len());
    for c in inner.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units).iter() {
                out.push_str(&if upper { format!("\\u{u:04X}") } else { format!("\\u{u:04x}") });
            }
        }
    }
    out
}

/// Every string value `text` holds when read as JSON, and, `depth` times over, the strings
/// those hold when they are JSON themselves.
fn decoded_strings(text: &str, depth: u8, out: &mut Vec<String>) {
    fn walk(v: &serde_json::Value, depth: u8, out: &mut Vec<String>) {
        match v {
            serde_json::Value::String(s) => {
                out.push(s.clone());
                decoded_strings(s, depth - 1, out);
            }
            serde_json::Value::Array(a) => a.iter().for_each(|v| walk(v, depth, out)),
            serde_json::Value::Object(o) => o.values().for_each(|v| walk(v, depth, out)),
            _ => {}
        }
    }
    if depth == 0 {
        return;
    }
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(text) {
        walk(&v, depth, out);
    }
}

/// Refuses a URL that is not HTTPS, except plain HTTP on loopback (the cloud double): the
/// agent sends a client secret and passwords.
pub fn check_transport(name: &str, url: &str) -> Result<(), AgentError> {
    if url.starts_with("https://") {
        return Ok(());
    }
    let Some(rest) = url.strip_prefix("http://") else {
        return Err(AgentError::Config(format!("{name} `{url}` is not an https:// URL")));
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit('@').next().unwrap_or("");
    let host = match host_port.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host_port.split(':').next().unwrap_or(""),
    };
    let loopback =
        host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
    if loopback {
        Ok(())
    } else {
        Err(AgentError::Config(format!(
            "{name} `{url}` is plain HTTP: use https:// (plain HTTP is allowed only on loopback, for the cloud double)"
        )))
    }
}

/// What a token endpoint's answer means: the token and how long it lives (clamped to a day),
/// or why there is none (transient, or a named configuration error).
pub fn token_answer(
    url: &str,
    status: u16,
    body: &str,
) -> Result<(Zeroizing<String>, Duration), Delivery> {
    let config = |outcome, detail: String| Delivery::Config { outcome, detail };
    match status {
        200 => {}
        429 | 500..=599 => {
            return Err(Delivery::Retry {
                after: None,
                reason: format!("token endpoint answered {status}"),
            });
        }
        300..=399 => {
            return Err(config(
                Outcome::WrongEndpoint,
                format!(
                    "the token endpoint `{url}` redirects ({status}); policyc never follows redirects: set token_url to the final URL"
                ),
            ));
        }
        404 => {
            return Err(config(
                Outcome::WrongEndpoint,
                format!(
                    "the token endpoint `{url}` answered 404: check token_url (https://login.microsoftonline.com/TENANT/oauth2/v2.0/token)"
                ),
            ));
        }
        _ => {
            // Entra appends trace and correlation ids to the description: not worth a line.
            let why = serde_json::from_str::<TokenError>(body).map_or_else(
                |_| format!("answered {status}"),
                |e| {
                    let text = e.error_description.split(" Trace ID:").next().unwrap_or("");
                    bounded(&format!("answered {status} {}: {text}", e.error))
                },
            );
            return Err(config(
                Outcome::TokenRefused,
                format!(
                    "the token endpoint refused the app's credentials ({why}); check client_id, the client secret and the tenant in token_url"
                ),
            ));
        }
    }
    let answer: TokenAnswer = serde_json::from_str(body).map_err(|_| {
        config(
            Outcome::WrongEndpoint,
            format!("the token endpoint `{url}` answered 200 without a token: is token_url right?"),
        )
    })?;
    Ok((answer.access_token, Duration::from_secs(answer.expires_in.clamp(1, 86_400))))
}

fn graph_error(body: &str) -> Option<GraphErrorBody> {
    serde_json::from_str::<GraphError>(body).ok().map(|e| e.error)
}

/// What a Graph answer (status, body, `Retry-After`) means for the change.
pub fn classify_answer(status: u16, body: &str, retry_after: Option<Duration>) -> Delivery {
    classify(&Answer { status, body: body.to_string(), retry_after })
}

fn classify(answer: &Answer) -> Delivery {
    let status = answer.status;
    let error = graph_error(&answer.body);
    let (code, message) =
        error.as_ref().map_or(("", ""), |e| (e.code.as_str(), e.message.as_str()));
    let said = bounded(&format!("{status} {code}: {message}"));
    let config = |outcome, detail: String| Delivery::Config { outcome, detail: bounded(&detail) };
    match status {
        200..=299 => Delivery::Done,
        429 => Delivery::Retry { after: answer.retry_after, reason: "throttled (429)".into() },
        500..=599 => Delivery::Retry {
            after: answer.retry_after,
            reason: bounded(&format!("cloud error ({status} {code})")),
        },
        300..=399 => config(
            Outcome::WrongEndpoint,
            format!("Graph redirects ({status}); policyc never follows redirects: check base_url"),
        ),
        400 if message.contains("does not comply with password complexity") => {
            Delivery::Drift { detail: bounded(message) }
        }
        400 if message.contains("on-premises mastered")
            || message.contains("originated within an external service") =>
        {
            Delivery::User { outcome: Outcome::SyncedByEntraConnect, detail: said }
        }
        403 => config(
            Outcome::PermissionDenied,
            format!(
                "Graph refused the app ({said}): grant it User-PasswordProfile.ReadWrite.All and User.Read.All, and the User Administrator role (Privileged Authentication Administrator for administrators' passwords)"
            ),
        ),
        404 if code == "Request_ResourceNotFound" => {
            Delivery::User { outcome: Outcome::UserNotFound, detail: said }
        }
        400 | 404
            if error.is_none()
                || message.contains("Resource not found for the segment")
                || message.contains("Invalid version") =>
        {
            config(
                Outcome::WrongEndpoint,
                format!("Graph answered {said}: check base_url (https://graph.microsoft.com)"),
            )
        }
        _ => Delivery::User { outcome: Outcome::Failed, detail: said },
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

#[cfg(test)]
mod tests {
    use super::echoes;

    #[test]
    fn an_echo_is_found_in_every_form_a_reader_could_recover() {
        let p = "Pä\"ss\\wörd-1";
        assert!(echoes(&format!("raw {p}"), p));
        // JSON-escaped once, in the raw body.
        assert!(echoes(r#"{"error":{"message":"got \"Pä\\\"ss\\\\wörd-1\""}}"#, p));
        // Non-ASCII as \u escapes, lower and upper case hex.
        assert!(echoes(r#"{"m":"P\u00e4\"ss\\w\u00f6rd-1"}"#, p));
        assert!(echoes(r#"x P\u00E4\"ss\\w\u00F6rd-1 x"#, p));
        // The request's JSON inside the error's message (escaped twice on the wire).
        let request = serde_json::json!({"passwordProfile": {"password": p}}).to_string();
        let answer = serde_json::json!({"error": {"message": request}}).to_string();
        assert!(echoes(&answer, p));
        assert!(!echoes(r#"{"error":{"message":"Invalid password"}}"#, p));
        assert!(!echoes("anything", ""));
    }
}
