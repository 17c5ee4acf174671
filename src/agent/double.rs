//! A Microsoft Graph-compatible cloud double, for tests and for trying the agent without a
//! tenant (`policyc cloud-double`). It listens on 127.0.0.1, issues OAuth2 client-credentials
//! tokens, keeps each user's password, and enforces the Entra ID cloud password policy with its
//! own code, written from Microsoft's documentation and deliberately not using policyc's
//! validator, so that it is a real second opinion. It can inject faults: 429 with
//! `Retry-After`, 500, slow answers, dropped connections.

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
    passwords: HashMap<String, Zeroizing<String>>,
    tokens: HashMap<String, Instant>,
    faults: Faults,
    stats: Stats,
    rng: u64,
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
        let state = Arc::new(Mutex::new(State {
            rng: 0x9E37_79B9_7F4A_7C15 ^ u64::from(port),
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
        Ok(CloudDouble { server, state, stop, threads, url: format!("http://127.0.0.1:{port}") })
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

    /// The user's current cloud password (tests compare it with the newest change).
    pub fn password(&self, user: &str) -> Option<Zeroizing<String>> {
        self.state().passwords.get(&user.to_lowercase()).cloned()
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
    let response = match (&method, url.as_str()) {
        (tiny_http::Method::Post, "/token") => token(&body, state, creds),
        (tiny_http::Method::Patch, path) if path.starts_with("/v1.0/users/") => {
            let user = path.trim_start_matches("/v1.0/users/").to_lowercase();

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
                None => patch(&user, authorization.as_deref(), &body, state),
            }
        }
        _ => error(404, "Request_ResourceNotFound", "Unknown endpoint."),
    };
    let _ = request.respond(response);
}

enum Fault {
    Drop,
    Throttle(f64),
    ServerError,
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
    if get("grant_type") != Some("client_credentials")
        || get("client_id") != Some(creds.client_id.as_str())
        || get("client_secret") != Some(creds.client_secret.as_str())
    {
        return json(
            401,
            r#"{"error":"invalid_client","error_description":"Invalid client credentials."}"#,
        );
    }
    let mut raw = [0u8; 16];
    if super::crypto::random(&mut raw).is_err() {
        return error(500, "InternalServerError", "No randomness.");
    }
    let token: String = raw.iter().map(|b| format!("{b:02x}")).collect();
    let mut s = lock(state);
    s.tokens.insert(token.clone(), Instant::now() + creds.token_ttl);
    s.stats.tokens += 1;
    let body = serde_json::json!({"token_type": "Bearer", "expires_in": creds.token_ttl.as_secs(), "access_token": token});
    json(200, &body.to_string())
}

fn patch(
    user: &str,
    auth: Option<&str>,
    body: &[u8],
    state: &Mutex<State>,
) -> tiny_http::Response<std::io::Cursor<Vec<u8>>> {
    let mut s = lock(state);
    let valid = auth
        .and_then(|a| a.strip_prefix("Bearer "))
        .and_then(|t| s.tokens.get(t))
        .is_some_and(|exp| *exp > Instant::now());
    if !valid {
        return error(
            401,
            "InvalidAuthenticationToken",
            "Access token is empty, invalid or expired.",
        );
    }
    let Ok(parsed) = serde_json::from_slice::<PatchBody>(body) else {
        return error(400, "Request_BadRequest", "Invalid request body.");
    };
    let password = parsed.password_profile.password;
    if !cloud_policy_accepts(&password) {
        s.stats.refused += 1;
        return error(400, "Request_BadRequest", COMPLEXITY_MESSAGE);
    }
    s.passwords.insert(user.to_string(), password);
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
