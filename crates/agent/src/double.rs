//! A Microsoft Graph-compatible cloud double, for tests and for trying the agent without a
//! tenant (`policyc cloud-double`). It listens on 127.0.0.1, issues OAuth2 client-credentials
//! tokens, keeps each user's password, and enforces the Entra ID cloud password policy with its
//! own code, written from Microsoft's documentation and deliberately not using policyc's
//! validator, so that it is a real second opinion. Like Graph, it knows its users: unknown ones
//! get 404 `Request_ResourceNotFound`, users synced by Entra Connect get Graph's 400 for
//! on-premises mastered objects, an app without the permission or directory role gets 403
//! `Authorization_RequestDenied`, a wrong client id or secret gets the token endpoint's
//! `unauthorized_client` / `invalid_client` with their AADSTS codes, and a wrong path Graph's
//! `BadRequest`. It can inject faults: 429 with `Retry-After`, 500, slow answers, dropped
//! connections.

use serde::Deserialize;
use std::collections::HashMap;
use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use zeroize::Zeroizing;

/// The message Graph returns for a password the cloud policy refuses (observed, see
/// `specs/microsoft-password-rules.md` §4.2).
pub const COMPLEXITY_MESSAGE: &str = "The specified password does not comply with password complexity requirements. Please provide a different password.";

/// Graph's message for a password update of a user Entra Connect syncs
/// (microsoftgraph/microsoft-graph-docs#7301).
pub const SYNCED_MESSAGE: &str = "Unable to update the specified properties for on-premises mastered Directory Sync objects or objects currently undergoing migration.";

/// Graph's message when the app lacks the permission or directory role.
pub const DENIED_MESSAGE: &str = "Insufficient privileges to complete the operation.";

/// A cloud user.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CloudAccount {
    /// Entra Connect syncs it (`onPremisesSyncEnabled`): Graph refuses to set its password.
    pub synced: bool,
    /// It holds an administrator role: setting its password needs Privileged Authentication
    /// Administrator.
    pub admin: bool,
}

/// What the app may do, as Entra's permissions and directory roles decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Permissions {
    /// `User-PasswordProfile.ReadWrite.All` and the User Administrator role (or better).
    pub set_passwords: bool,
    /// Privileged Authentication Administrator: may set administrators' passwords.
    pub privileged: bool,
}

impl Default for Permissions {
    fn default() -> Permissions {
        Permissions { set_passwords: true, privileged: true }
    }
}

/// Faults to inject, as probabilities per PATCH request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Faults {
    /// Answer 429 with `Retry-After: retry_after_secs`.
    pub throttle: f64,
    /// The `Retry-After` value, in seconds (fractions allowed, as Graph sends them).
    pub retry_after_secs: f64,
    /// Answer 500.
    pub server_error: f64,
    /// Close the connection without answering.
    pub drop: f64,
    /// Wait this long before answering.
    pub delay: Duration,
    /// Answer `302 Found` to elsewhere (a misconfigured proxy or URL).
    pub redirect: f64,
    /// Answer 400 with a megabyte of control characters that echoes the request, password
    /// included (a broken server or proxy).
    pub garbage: f64,
}

/// Counters for tests and for the double's log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Passwords set (204).
    pub set: u64,
    /// Passwords refused by the cloud policy (400).
    pub refused: u64,
    /// Faults injected.
    pub faults: u64,
    /// Tokens issued.
    pub tokens: u64,
}

#[derive(Default)]
struct State {
    /// By lower-cased userPrincipalName.
    users: HashMap<String, User>,
    /// Create unknown users on first PATCH (for trying the agent by hand), instead of 404.
    any_user: bool,
    permissions: Permissions,
    tokens: HashMap<String, Instant>,
    next_id: u64,
    faults: Faults,
    stats: Stats,
    rng: u64,
    /// A password set through Graph leaves `lastPasswordChangeDateTime` as it was.
    admin_resets_stay: bool,
    /// The double's own base URL (for `@odata.nextLink`).
    url: String,
}

impl State {
    /// `lastPasswordChangeDateTime` for a change now: to the second, as Graph writes it.
    fn clock(&self) -> String {
        humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
    }
}

struct User {
    id: String,
    upn: String,
    account: CloudAccount,
    /// The NT hash of the current password (the double never keeps a cleartext).
    nt_hash: Option<[u8; 16]>,
    last_password_change: Option<String>,
}

impl User {
    fn new(id: String, upn: String, account: CloudAccount) -> User {
        User { id, upn, account, nt_hash: None, last_password_change: None }
    }
}

/// A running double. Stopped when dropped.
pub struct CloudDouble {
    server: Arc<tiny_http::Server>,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
    url: String,
}

impl std::fmt::Debug for CloudDouble {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CloudDouble").field("url", &self.url).finish()
    }
}

/// The credentials the double accepts.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// OAuth2 client id.
    pub client_id: String,
    /// OAuth2 client secret.
    pub client_secret: String,
    /// Token lifetime.
    pub token_ttl: Duration,
}

impl CloudDouble {
    /// Starts on `addr` (use `127.0.0.1:0` for a free port) with four worker threads.
    pub fn start(addr: &str, credentials: Credentials) -> std::io::Result<CloudDouble> {
        let server = tiny_http::Server::http(addr).map_err(std::io::Error::other)?;
        let port = server.server_addr().to_ip().map_or(0, |a| a.port());
        let server = Arc::new(server);
        let url = format!("http://127.0.0.1:{port}");
        let state = Arc::new(Mutex::new(State {
            rng: 0x9E37_79B9_7F4A_7C15 ^ u64::from(port),
            url: url.clone(),
            ..State::default()
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::new();
        for _ in 0..4 {
            let (server, state, stop, creds) =
                (server.clone(), state.clone(), stop.clone(), credentials.clone());
            threads.push(std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match server.recv_timeout(Duration::from_millis(100)) {
                        Ok(Some(request)) => handle(request, &state, &creds),
                        Ok(None) => {}
                        Err(_) => break,
                    }
                }
            }));
        }
        Ok(CloudDouble { server, state, stop, threads, url })
    }

    /// Base URL (`http://127.0.0.1:PORT`): Graph at `/v1.0`, tokens at `/token`.
    pub fn url(&self) -> &str {
        &self.url
    }

    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// Replaces the faults.
    pub fn set_faults(&self, faults: Faults) {
        self.state().faults = faults;
    }

    /// Adds a cloud user.
    pub fn add_user(&self, upn: &str, account: CloudAccount) {
        let mut s = self.state();
        s.next_id += 1;
        let id = format!("00000000-0000-4000-8000-{:012x}", s.next_id);
        s.users.insert(upn.to_lowercase(), User::new(id, upn.to_string(), account));
    }

    /// Adds cloud-managed users.
    pub fn add_users<'a>(&self, upns: impl IntoIterator<Item = &'a str>) {
        for upn in upns {
            self.add_user(upn, CloudAccount::default());
        }
    }

    /// Creates unknown users on their first PATCH instead of answering 404 (for trying the
    /// agent by hand; Graph never does this).
    pub fn accept_any_user(&self, yes: bool) {
        self.state().any_user = yes;
    }

    /// Sets what the app may do.
    pub fn set_permissions(&self, permissions: Permissions) {
        self.state().permissions = permissions;
    }

    /// The NT hash of the user's current cloud password (tests compare it with the one each
    /// DC holds).
    pub fn nt_hash(&self, user: &str) -> Option<[u8; 16]> {
        self.state().users.get(&user.to_lowercase()).and_then(|u| u.nt_hash)
    }

    /// Whether the user's cloud password is `password` (by its NT hash).
    pub fn holds(&self, user: &str, password: &str) -> bool {
        self.nt_hash(user) == Some(*policyc_runtime::store::nt_hash(password))
    }

    /// Whether the user has a cloud password at all.
    pub fn has_password(&self, user: &str) -> bool {
        self.nt_hash(user).is_some()
    }

    /// The user's `lastPasswordChangeDateTime`, as `GET` returns it.
    pub fn last_password_change(&self, user: &str) -> Option<String> {
        self.state().users.get(&user.to_lowercase()).and_then(|u| u.last_password_change.clone())
    }

    /// A password change made in the cloud, not through the agent (the portal, the user's
    /// self-service reset): KB 2652040 cause 3. It moves `lastPasswordChangeDateTime`.
    pub fn portal_reset(&self, user: &str, password: &str) -> bool {
        let mut s = self.state();
        let now = s.clock();
        match s.users.get_mut(&user.to_lowercase()) {
            Some(u) => {
                u.nt_hash = Some(*policyc_runtime::store::nt_hash(password));
                u.last_password_change = Some(now);
                true
            }
            None => false,
        }
    }

    /// Whether a password set through Graph (an admin reset, as the agent makes) moves
    /// `lastPasswordChangeDateTime` (the default). Some answers from Microsoft report that it
    /// may not: with `false` the double behaves so, and the agent must say it cannot see a
    /// change in the cloud instead of reporting "in sync".
    pub fn set_admin_resets_move_stamp(&self, yes: bool) {
        self.state().admin_resets_stay = !yes;
    }

    /// The counters.
    pub fn stats(&self) -> Stats {
        self.state().stats.clone()
    }

    /// Stops the server and joins its threads.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        self.server.unblock();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

impl Drop for CloudDouble {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The Entra ID cloud policy, from the documentation: 8 to 256 characters; only A-Z, a-z, 0-9,
/// the 32 listed symbols and the blank space; three of lowercase, uppercase, digits, symbols
/// (the blank space is allowed but is not a symbol).
pub fn cloud_policy_accepts(password: &str) -> bool {
    const SYMBOLS: &str = "@#$%^&*-_!+=[]{}|\\:',.?/`~\"();<>";
    let n = password.chars().count();
    if !(8..=256).contains(&n) {
        return false;
    }
    let mut kinds = [false; 4];
    for c in password.chars() {
        match c {
            'a'..='z' => kinds[0] = true,
            'A'..='Z' => kinds[1] = true,
            '0'..='9' => kinds[2] = true,
            ' ' => {}
            c if SYMBOLS.contains(c) => kinds[3] = true,
            _ => return false,
        }
    }
    kinds.iter().filter(|k| **k).count() >= 3
}

fn json(status: u16, body: &str) -> tiny_http::Response<std::io::Cursor<Vec<u8>>> {
    let mut r = tiny_http::Response::from_string(body).with_status_code(status);
    if let Ok(h) = tiny_http::Header::from_bytes("Content-Type", "application/json") {
        r = r.with_header(h);
    }
    r
}

fn error(status: u16, code: &str, message: &str) -> tiny_http::Response<std::io::Cursor<Vec<u8>>> {
    let body = serde_json::json!({"error": {"code": code, "message": message}});
    json(status, &body.to_string())
}

#[derive(Deserialize)]
struct PatchBody {
    #[serde(rename = "passwordProfile")]
    password_profile: PasswordProfile,
}

#[derive(Deserialize)]
struct PasswordProfile {
    password: Zeroizing<String>,
}

fn handle(mut request: tiny_http::Request, state: &Mutex<State>, creds: &Credentials) {
    let method = request.method().clone();
    let url = request.url().to_string();
    let mut body = Zeroizing::new(Vec::new());
    let _ = request.as_reader().take(64 * 1024).read_to_end(&mut body);
    let authorization = request
        .headers()
        .iter()
        .find(|h| h.field.equiv("Authorization"))
        .map(|h| h.value.as_str().to_string());
    let (path, query) = url.split_once('?').unwrap_or((url.as_str(), ""));
    let response = match (&method, path) {
        (tiny_http::Method::Post, "/token") => token(&body, state, creds),
        (tiny_http::Method::Patch | tiny_http::Method::Get, p)
            if p == "/v1.0/users" || p.starts_with("/v1.0/users/") =>
        {
            let user = percent_decode(p.trim_start_matches("/v1.0/users/")).to_lowercase();
            let (fault, delay) = {
                let mut s = lock(state);
                (pick_fault(&mut s), s.faults.delay)
            };
            if !delay.is_zero() {
                std::thread::sleep(delay);
            }
            match fault {
                Some(Fault::Drop) => {
                    // A broken answer: the connection dies mid-response, as behind a failing
                    // proxy. (Closing the socket outright is not possible with tiny_http.)
                    let mut w = request.into_writer();
                    let _ = std::io::Write::write_all(&mut w, b"\x00\x00 connection reset\r\n\r\n");
                    let _ = std::io::Write::flush(&mut w);
                    return;
                }
                Some(Fault::Throttle(secs)) => {
                    let mut r = error(429, "TooManyRequests", "Please retry again later.");
                    if let Ok(h) = tiny_http::Header::from_bytes("Retry-After", format!("{secs}")) {
                        r = r.with_header(h);
                    }
                    r
                }
                Some(Fault::ServerError) => error(500, "InternalServerError", "Injected fault."),
                Some(Fault::Redirect) => {
                    let mut r = tiny_http::Response::from_string("").with_status_code(302);
                    if let Ok(h) = tiny_http::Header::from_bytes("Location", "/elsewhere") {
                        r = r.with_header(h);
                    }
                    r
                }
                Some(Fault::Garbage) => {
                    let mut text = String::from_utf8_lossy(&body).into_owned();
                    text.push_str(&"\u{1b}[31m\r\n\u{7}".repeat(1 << 18));
                    error(400, "Request_BadRequest", &text)
                }
                None if path == "/v1.0/users" && method == tiny_http::Method::Get => {
                    list_users(authorization.as_deref(), query, state)
                }
                None if path == "/v1.0/users" => error(
                    405,
                    "Request_BadRequest",
                    "Specified HTTP method is not allowed for the request target.",
                ),
                None if method == tiny_http::Method::Get => {
                    get_user(&user, authorization.as_deref(), query, state)
                }
                None => patch(&user, authorization.as_deref(), &body, state),
            }
        }
        // The sign-in host answers a token request to any other path with a bare 404.
        (tiny_http::Method::Post, _) => {
            tiny_http::Response::from_string("<html><body>Not Found</body></html>")
                .with_status_code(404)
        }
        (_, p) => wrong_path(p),
    };
    let _ = request.respond(response);
}

/// Graph's answer to a path it does not serve: an unknown version, or an unknown segment.
fn wrong_path(path: &str) -> tiny_http::Response<std::io::Cursor<Vec<u8>>> {
    let mut segments = path.trim_start_matches('/').split('/');
    let version = segments.next().unwrap_or("");
    if version != "v1.0" && version != "beta" {
        return error(400, "BadRequest", &format!("Invalid version: {version}"));
    }
    let segment = segments.next().unwrap_or("");
    error(400, "BadRequest", &format!("Resource not found for the segment '{segment}'."))
}

enum Fault {
    Drop,
    Throttle(f64),
    ServerError,
    Redirect,
    Garbage,
}

fn pick_fault(s: &mut State) -> Option<Fault> {
    // xorshift64*: deterministic per port, good enough for fault injection.
    s.rng ^= s.rng >> 12;
    s.rng ^= s.rng << 25;
    s.rng ^= s.rng >> 27;
    let r = (s.rng.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64;
    let f = &s.faults;
    let fault = if r < f.drop {
        Some(Fault::Drop)
    } else if r < f.drop + f.throttle {
        Some(Fault::Throttle(f.retry_after_secs))
    } else if r < f.drop + f.throttle + f.server_error {
        Some(Fault::ServerError)
    } else if r < f.drop + f.throttle + f.server_error + f.redirect {
        Some(Fault::Redirect)
    } else if r < f.drop + f.throttle + f.server_error + f.redirect + f.garbage {
        Some(Fault::Garbage)
    } else {
        None
    };
    if fault.is_some() {
        s.stats.faults += 1;
    }
    fault
}

fn token(
    body: &[u8],
    state: &Mutex<State>,
    creds: &Credentials,
) -> tiny_http::Response<std::io::Cursor<Vec<u8>>> {
    let form: HashMap<String, String> = url_decode_form(body);
    let get = |k: &str| form.get(k).map(String::as_str);
    let refuse = |status: u16, code: &str, aadsts: u32, text: &str| {
        let body = serde_json::json!({
            "error": code,
            "error_description": format!("AADSTS{aadsts}: {text} Trace ID: 00000000-0000-0000-0000-000000000000 Correlation ID: 00000000-0000-0000-0000-000000000000 Timestamp: 2026-01-01 00:00:00Z"),
            "error_codes": [aadsts],
            "error_uri": format!("https://login.microsoftonline.com/error?code={aadsts}"),
        });
        json(status, &body.to_string())
    };
    if get("grant_type") != Some("client_credentials") {
        return refuse(
            400,
            "unsupported_grant_type",
            70003,
            "The app requested an unsupported grant type.",
        );
    }
    if get("client_id") != Some(creds.client_id.as_str()) {
        let id = get("client_id").unwrap_or("");
        return refuse(
            400,
            "unauthorized_client",
            700016,
            &format!(
                "Application with identifier '{id}' was not found in the directory 'policyc-double'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant."
            ),
        );
    }
    if get("client_secret") != Some(creds.client_secret.as_str()) {
        return refuse(
            401,
            "invalid_client",
            7000215,
            &format!(
                "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{}'.",
                creds.client_id
            ),
        );
    }
    let mut raw = [0u8; 16];
    if policyc_gate::crypto::random(&mut raw).is_err() {
        return error(500, "InternalServerError", "No randomness.");
    }
    let mut s = lock(state);
    // Shaped as Entra's: a JWT whose `roles` claim lists the app's permissions (the signature
    // part is random: only the double checks it, by looking the token up).
    let roles: &[&str] = match s.permissions.set_passwords {
        true => &["User.Read.All", "User-PasswordProfile.ReadWrite.All"],
        false => &["User.Read.All"],
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let claims = serde_json::json!({
        "aud": "https://graph.microsoft.com",
        "iat": now,
        "nbf": now,
        "exp": now + creds.token_ttl.as_secs().min(86_400),
        "appid": creds.client_id,
        "roles": roles,
    });
    let b64 = |b: &[u8]| {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
    };
    let signature: String = raw.iter().map(|b| format!("{b:02x}")).collect();
    let token = format!(
        "{}.{}.{}",
        b64(br#"{"typ":"JWT","alg":"RS256"}"#),
        b64(claims.to_string().as_bytes()),
        b64(signature.as_bytes())
    );
    let far = Instant::now() + Duration::from_secs(100 * 365 * 86_400);
    s.tokens.insert(token.clone(), Instant::now().checked_add(creds.token_ttl).unwrap_or(far));
    s.stats.tokens += 1;
    let body = serde_json::json!({"token_type": "Bearer", "expires_in": creds.token_ttl.as_secs(), "access_token": token});
    json(200, &body.to_string())
}

/// Whether the request carries a token the double issued and that has not expired.
/// The double's state, for a request with a valid token; else Graph's 401.
#[allow(clippy::result_large_err, reason = "the response is the error path's whole answer")]
fn signed_in<'s>(
    state: &'s Mutex<State>,
    auth: Option<&str>,
) -> Result<MutexGuard<'s, State>, tiny_http::Response<std::io::Cursor<Vec<u8>>>> {
    let s = lock(state);
    if authorized(&s, auth) { Ok(s) } else { Err(unauthorized()) }
}

fn authorized(s: &State, auth: Option<&str>) -> bool {
    auth.and_then(|a| a.strip_prefix("Bearer "))
        .and_then(|t| s.tokens.get(t))
        .is_some_and(|exp| *exp > Instant::now())
}

fn unauthorized() -> tiny_http::Response<std::io::Cursor<Vec<u8>>> {
    error(401, "InvalidAuthenticationToken", "Access token is empty, invalid or expired.")
}

fn not_found(user: &str) -> tiny_http::Response<std::io::Cursor<Vec<u8>>> {
    error(
        404,
        "Request_ResourceNotFound",
        &format!(
            "Resource '{user}' does not exist or one of its queried reference-property objects are not present."
        ),
    )
}

/// `GET /v1.0/users/{id}?$select=…`: the selected properties only, as Graph returns them.
fn get_user(
    user: &str,
    auth: Option<&str>,
    query: &str,
    state: &Mutex<State>,
) -> tiny_http::Response<std::io::Cursor<Vec<u8>>> {
    let s = match signed_in(state, auth) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let Some(u) = s.users.get(user) else { return not_found(user) };
    let params = query_params(query);
    let select = params.get("$select").map_or("id,userPrincipalName", String::as_str);
    let mut body = user_json(u, select);
    body.insert(
        "@odata.context".into(),
        "https://graph.microsoft.com/v1.0/$metadata#users/$entity".into(),
    );
    json(200, &serde_json::Value::Object(body).to_string())
}

/// A query string's parameters, decoded.
fn query_params(query: &str) -> HashMap<String, String> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (percent_decode(k), percent_decode(v)))
        .collect()
}

/// The `$select`ed properties of a user, as Graph renders them.
fn user_json(u: &User, select: &str) -> serde_json::Map<String, serde_json::Value> {
    let mut body = serde_json::Map::new();
    for field in select.split(',') {
        let value = match field {
            "id" => serde_json::Value::from(u.id.clone()),
            "userPrincipalName" => u.upn.clone().into(),
            // Graph gives null, not false, for cloud-only users.
            "onPremisesSyncEnabled" => {
                if u.account.synced {
                    true.into()
                } else {
                    serde_json::Value::Null
                }
            }
            "lastPasswordChangeDateTime" => {
                u.last_password_change.clone().map_or(serde_json::Value::Null, Into::into)
            }
            _ => serde_json::Value::Null,
        };
        body.insert(field.to_string(), value);
    }
    body
}

/// `GET /v1.0/users?$select=…&$top=N`: one page of users by id, with `@odata.nextLink` (a
/// `$skiptoken`) while more remain, as Graph pages them (`$top` at most 999, default 100).
fn list_users(
    auth: Option<&str>,
    query: &str,
    state: &Mutex<State>,
) -> tiny_http::Response<std::io::Cursor<Vec<u8>>> {
    let s = match signed_in(state, auth) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let params = query_params(query);
    let select = params.get("$select").map_or("id,userPrincipalName", String::as_str);
    let top = match params.get("$top").map(|t| t.parse::<usize>()) {
        None => 100,
        Some(Ok(t)) if (1..=999).contains(&t) => t,
        Some(_) => {
            return error(
                400,
                "Request_UnsupportedQuery",
                "Invalid page size specified: '0'. Must be between 1 and 999 inclusive.",
            );
        }
    };
    let skip = params.get("$skiptoken").and_then(|t| t.parse::<usize>().ok()).unwrap_or(0);
    let mut users: Vec<&User> = s.users.values().collect();
    users.sort_by(|a, b| a.id.cmp(&b.id));
    let page: Vec<serde_json::Value> = users
        .iter()
        .skip(skip)
        .take(top)
        .map(|u| serde_json::Value::Object(user_json(u, select)))
        .collect();
    let mut body = serde_json::Map::new();
    body.insert("@odata.context".into(), "https://graph.microsoft.com/v1.0/$metadata#users".into());
    if skip + top < users.len() {
        let next =
            format!("{}/v1.0/users?$select={select}&$top={top}&$skiptoken={}", s.url, skip + top);
        body.insert("@odata.nextLink".into(), next.into());
    }
    body.insert("value".into(), page.into());
    json(200, &serde_json::Value::Object(body).to_string())
}

fn patch(
    user: &str,
    auth: Option<&str>,
    body: &[u8],
    state: &Mutex<State>,
) -> tiny_http::Response<std::io::Cursor<Vec<u8>>> {
    let mut s = match signed_in(state, auth) {
        Ok(s) => s,
        Err(r) => return r,
    };
    if !s.users.contains_key(user) && s.any_user {
        s.next_id += 1;
        let id = format!("00000000-0000-4000-8000-{:012x}", s.next_id);
        s.users.insert(user.to_string(), User::new(id, user.to_string(), CloudAccount::default()));
    }
    let permissions = s.permissions;
    let Some(u) = s.users.get(user) else { return not_found(user) };
    if !permissions.set_passwords || (u.account.admin && !permissions.privileged) {
        return error(403, "Authorization_RequestDenied", DENIED_MESSAGE);
    }
    if u.account.synced {
        return error(400, "Request_BadRequest", SYNCED_MESSAGE);
    }
    let Ok(parsed) = serde_json::from_slice::<PatchBody>(body) else {
        return error(400, "Request_BadRequest", "Invalid request body.");
    };
    let password = parsed.password_profile.password;
    if !cloud_policy_accepts(&password) {
        s.stats.refused += 1;
        return error(400, "Request_BadRequest", COMPLEXITY_MESSAGE);
    }
    let changed = (!s.admin_resets_stay).then(|| s.clock());
    if let Some(u) = s.users.get_mut(user) {
        u.nt_hash = Some(*policyc_runtime::store::nt_hash(&password));
        if changed.is_some() {
            u.last_password_change = changed;
        }
    }
    s.stats.set += 1;
    tiny_http::Response::from_string("").with_status_code(204)
}

/// Decodes `application/x-www-form-urlencoded`.
fn url_decode_form(body: &[u8]) -> HashMap<String, String> {
    let text = String::from_utf8_lossy(body);
    text.split('&')
        .filter_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            Some((percent_decode(k), percent_decode(v)))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(v) => {
                        out.push(v);
                        i += 2;
                    }
                    None => out.push(b),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
