//! A real browser for the self-service page's test and bench: Debian's Chromium, driven by
//! chromedriver (WebDriver, and DevTools commands through chromedriver's `goog/cdp/execute`),
//! and a static web server on 127.0.0.1 that records every request it serves.

#![allow(dead_code, reason = "the test and the bench use a subset")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test setup fails loudly"
)]

use serde_json::{Value, json};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A free loopback port (bound, then released for the process that will listen on it).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Builds the browser module (`scripts/wasm.sh`: incremental, installs the wasm32 target and
/// the wasm-bindgen CLI if missing) and writes the page for `policies` into `dir`.
pub fn page(dir: &Path, policies: &[&str], extra: &[&str]) {
    let out = run_page(dir, policies, extra);
    assert!(out.status.success(), "policyc page: {}", String::from_utf8_lossy(&out.stderr));
}

/// `policyc page POLICIES EXTRA -o DIR --wasm target/wasm`, run from the repository, the module
/// built first; what it did.
pub fn run_page(dir: &Path, policies: &[&str], extra: &[&str]) -> std::process::Output {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    static BUILT: std::sync::Once = std::sync::Once::new();
    BUILT.call_once(|| {
        let status = Command::new("bash").arg(root.join("scripts/wasm.sh")).status().unwrap();
        assert!(status.success(), "scripts/wasm.sh failed: the browser module cannot be built");
    });
    Command::new(env!("CARGO_BIN_EXE_policyc"))
        .current_dir(root)
        .arg("page")
        .args(policies)
        .args(extra)
        .arg("-o")
        .arg(dir)
        .arg("--wasm")
        .arg(root.join("target/wasm"))
        .output()
        .unwrap()
}

/// A static web server for one directory, on a free loopback port, recording each request's
/// path. Sends the cross-origin isolation headers, which give the page's clock 5 µs
/// resolution for the bench (without them Chromium rounds `performance.now()` to 100 µs).
pub struct Server {
    port: u16,
    server: Arc<tiny_http::Server>,
    requests: Arc<Mutex<Vec<String>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    pub fn start(root: &Path) -> Server {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").unwrap());
        let port = server.server_addr().to_ip().unwrap().port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (s, r, root) = (server.clone(), requests.clone(), root.to_path_buf());
        let thread = std::thread::spawn(move || {
            for request in s.incoming_requests() {
                let path = request.url().split('?').next().unwrap_or("/").to_string();
                r.lock().unwrap().push(path.clone());
                let file = root.join(path.trim_start_matches('/'));
                let response = match std::fs::read(&file) {
                    Ok(bytes) => {
                        let kind = match file.extension().and_then(|e| e.to_str()) {
                            Some("html") => "text/html; charset=utf-8",
                            Some("js") => "text/javascript",
                            Some("css") => "text/css",
                            Some("json") => "application/json",
                            Some("wasm") => "application/wasm",
                            _ => "application/octet-stream",
                        };
                        tiny_http::Response::from_data(bytes)
                            .with_header(header("Content-Type", kind))
                            .with_header(header("Cross-Origin-Opener-Policy", "same-origin"))
                            .with_header(header("Cross-Origin-Embedder-Policy", "require-corp"))
                            .with_header(header("Cache-Control", "no-store"))
                    }
                    Err(_) => tiny_http::Response::from_string("not found").with_status_code(404),
                };
                let _ = request.respond(response);
            }
        });
        Server { port, server, requests, thread: Some(thread) }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}/{path}", self.port)
    }

    /// The paths served so far.
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }

    /// Stops serving: the port is closed when this returns.
    pub fn stop(&mut self) {
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

fn header(name: &str, value: &str) -> tiny_http::Header {
    tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()).unwrap()
}

/// Headless Chromium in a WebDriver session. Its profile is a temporary directory, removed
/// with it; chromedriver is stopped by PID.
pub struct Browser {
    driver: Child,
    base: String,
    http: ureq::Agent,
    _profile: tempfile::TempDir,
}

/// Debian's paths (packages `chromium` and `chromium-driver`).
const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

impl Browser {
    pub fn start() -> Browser {
        for path in [CHROMIUM, CHROMEDRIVER] {
            assert!(
                Path::new(path).exists(),
                "{path} is missing: install Debian's chromium and chromium-driver (scripts/test.sh does)"
            );
        }
        let port = free_port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let http: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(120)))
            .build()
            .into();
        let root = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        while http.get(format!("{root}/status")).call().is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start on port {port}");
            std::thread::sleep(Duration::from_millis(50));
        }
        let profile = tempfile::tempdir().unwrap();
        let caps = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--window-size=820,1100", "--no-first-run", "--disable-extensions",
                         format!("--user-data-dir={}", profile.path().display())],
            },
            "goog:loggingPrefs": { "performance": "ALL", "browser": "ALL" },
        }}});
        let mut browser = Browser { driver, base: root.clone(), http, _profile: profile };
        let session = browser.send("POST", "/session", Some(caps));
        let id = session["sessionId"].as_str().expect("a session id").to_string();
        browser.base = format!("{root}/session/{id}");
        browser
    }

    fn send(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{path}", self.base);
        let mut response = match body {
            Some(b) => {
                self.http.post(&url).header("Content-Type", "application/json").send(b.to_string())
            }
            None if method == "DELETE" => self.http.delete(&url).call(),
            None => self.http.get(&url).call(),
        }
        .unwrap_or_else(|e| panic!("WebDriver {method} {path}: {e}"));
        let status = response.status();
        let value: Value =
            serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap();
        assert!(status.is_success(), "WebDriver {method} {path}: {status}: {value}");
        value.get("value").cloned().unwrap_or(value)
    }

    fn post(&self, path: &str, body: Value) -> Value {
        self.send("POST", path, Some(body))
    }

    pub fn goto(&self, url: &str) {
        self.post("/url", json!({ "url": url }));
    }

    /// Runs a script in the page (`return …;` gives a value back).
    pub fn run(&self, script: &str, args: Value) -> Value {
        self.post("/execute/sync", json!({ "script": script, "args": args }))
    }

    /// Runs an async script: it calls `arguments[arguments.length - 1]` with its result.
    pub fn run_async(&self, script: &str, args: Value) -> Value {
        self.post("/execute/async", json!({ "script": script, "args": args }))
    }

    /// A DevTools command.
    pub fn cdp(&self, cmd: &str, params: Value) -> Value {
        self.post("/goog/cdp/execute", json!({ "cmd": cmd, "params": params }))
    }

    /// Types `text` into the focused element as a keyboard (or an input method, for characters
    /// no key gives) would: one input event per character.
    pub fn type_text(&self, text: &str) {
        for c in text.chars() {
            self.cdp("Input.insertText", json!({ "text": c.to_string() }));
        }
    }

    /// Presses a key (`"Tab"`, `"Enter"`, `" "`) as a keyboard does: down, then up.
    pub fn press(&self, key: &str, code: &str, key_code: u32) {
        // A key that types a character (Enter's "\r") goes down as `keyDown` with its text,
        // which is what activates a button on Enter.
        let text = if key == "Enter" { "\r" } else { "" };
        for kind in [if text.is_empty() { "rawKeyDown" } else { "keyDown" }, "keyUp"] {
            self.cdp(
                "Input.dispatchKeyEvent",
                json!({ "type": kind, "key": key, "code": code, "windowsVirtualKeyCode": key_code, "text": text }),
            );
        }
    }

    /// Resizes the window (CSS pixels, the browser's frame included).
    pub fn resize(&self, width: u32, height: u32) {
        self.post("/window/rect", json!({ "width": width, "height": height }));
    }

    /// Waits until the page says it is ready (`body[data-ready]`); its value.
    pub fn wait_ready(&self) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let ready = self
                .run("return document.body ? document.body.dataset.ready || '' : ''", json!([]));
            if let Some(r) = ready.as_str().filter(|r| !r.is_empty()) {
                return r.to_string();
            }
            assert!(Instant::now() < deadline, "the page never became ready");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The DevTools events logged since the last call (the performance log).
    pub fn network_events(&self) -> Vec<Value> {
        let entries = self.post("/se/log", json!({ "type": "performance" }));
        entries
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| serde_json::from_str::<Value>(e["message"].as_str()?).ok())
            .map(|m| m["message"].clone())
            .filter(|m| m["method"].as_str().is_some_and(|n| n.starts_with("Network.")))
            .collect()
    }

    /// The console's messages since the last call.
    pub fn console(&self) -> Vec<Value> {
        self.post("/se/log", json!({ "type": "browser" })).as_array().cloned().unwrap_or_default()
    }

    pub fn screenshot(&self, path: &Path) {
        let png = self.send("GET", "/screenshot", None);
        use base64::Engine as _;
        let bytes =
            base64::engine::general_purpose::STANDARD.decode(png.as_str().unwrap()).unwrap();
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if self.base.contains("/session/") {
            let _ = self.http.delete(&self.base).call();
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Where review artifacts (screenshots) go: target/page-screenshots.
pub fn artifacts() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/page-screenshots")
}
