//! The self-service page in Chromium (Debian's, headless, through chromedriver), on this machine:
//! time to ready (page, module and policies loaded), the cost of each keystroke (check and
//! explain against every policy on the page, and the whole input handler with the page
//! updated), and what a browser downloads. For office365 with ad-default, and for the Entra
//! policy.
//! Run: `cargo bench --bench page`. Under `cargo test` it runs once, small, so it cannot rot.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::expect_used,
    reason = "a benchmark with a broken setup should stop loudly"
)]

#[path = "../tests/common/browser.rs"]
mod browser;

use browser::{Browser, Server};
use serde_json::{Value, json};
use std::io::Write as _;
use std::path::Path;

/// Milliseconds at the quantile, from sorted samples.
fn at(sorted: &[f64], q: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

fn quantiles(samples: &Value) -> (f64, f64, usize) {
    let mut v: Vec<f64> = samples.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
    v.sort_by(f64::total_cmp);
    (at(&v, 0.5), at(&v, 0.99), v.len())
}

fn gzip(bytes: &[u8]) -> usize {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(bytes).unwrap();
    e.finish().unwrap().len()
}

/// Every file of the site: (raw, gzip) bytes in all, and the module's.
fn sizes(site: &Path) -> ((usize, usize), (usize, usize)) {
    let mut all = (0, 0);
    let mut module = (0, 0);
    let mut stack = vec![site.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let bytes = std::fs::read(&path).unwrap();
            let size = (bytes.len(), gzip(&bytes));
            all = (all.0 + size.0, all.1 + size.1);
            if path.extension().is_some_and(|e| e == "wasm") {
                module = size;
            }
        }
    }
    (all, module)
}

/// Types every prefix of each password (a keystroke each) and times, per keystroke, check and
/// explain against every policy on the page, and the input handler that updates the page.
const TYPING: &str = r#"
const [passwords, user, done] = arguments;
import(new URL('policyc.js', location.href).href).then(({ policies }) => {
  const all = policies();
  const check = [], explain = [], keystroke = [];
  const input = document.getElementById('password');
  for (const password of passwords) {
    const chars = Array.from(password);
    for (let i = 1; i <= chars.length; i++) {
      const typed = chars.slice(0, i).join('');
      let t = performance.now();
      for (const p of all) p.check(typed, user);
      check.push(performance.now() - t);
      t = performance.now();
      for (const p of all) p.explain(typed, user);
      explain.push(performance.now() - t);
      input.value = typed;
      t = performance.now();
      input.dispatchEvent(new Event('input'));
      keystroke.push(performance.now() - t);
    }
  }
  done({ check, explain, keystroke, isolated: crossOriginIsolated });
}, (e) => done({ error: String(e) }));
"#;

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let (loads, count) = if full { (20, 300) } else { (1, 5) };
    let words = policyc_cli::corpus::common_passwords();
    let passwords = policyc_cli::corpus::generate(&words, count, 29);
    let work = tempfile::tempdir().unwrap();
    let browser = Browser::start();
    let sites: [(&str, &[&str], Value); 2] = [
        (
            "office365 + ad-default",
            &[
                "policies/ad-default.policy=Active Directory",
                "policies/office365.policy=Microsoft 365",
            ],
            json!({ "sAMAccountName": "jdoe", "displayName": "John Doe" }),
        ),
        (
            "entra-password-protection",
            &["policies/entra-password-protection.policy=Microsoft 365"],
            json!({ "tenant": "Contoso", "displayName": "John Doe" }),
        ),
    ];
    println!(
        "page ({}, {} loads, {} passwords typed a character at a time):",
        version(),
        loads,
        passwords.len()
    );
    for (name, policies, user) in sites {
        let site = work.path().join(name.replace([' ', '+'], "_"));
        browser::page(&site, policies, &[]);
        let server = Server::start(&site);
        let mut ready = Vec::new();
        for _ in 0..loads {
            browser.goto(&server.url("index.html"));
            assert_eq!(browser.wait_ready(), "true");
            let t = browser.run(
                "return performance.getEntriesByName('policyc-ready')[0].startTime",
                json!([]),
            );
            ready.push(t.as_f64().unwrap());
        }
        ready.sort_by(f64::total_cmp);
        let typed = browser.run_async(TYPING, json!([passwords, user]));
        assert!(typed.get("error").is_none(), "{typed}");
        assert_eq!(
            typed["isolated"], true,
            "the page is not cross-origin isolated: timings would be rounded to 100 µs"
        );
        let ((raw, gz), (module_raw, module_gz)) = sizes(&site);
        let (c50, c99, keys) = quantiles(&typed["check"]);
        let (e50, e99, _) = quantiles(&typed["explain"]);
        let (k50, k99, _) = quantiles(&typed["keystroke"]);
        println!("  {name}:");
        println!(
            "    ready            p50 {:.1} ms, max {:.1} ms",
            at(&ready, 0.5),
            at(&ready, 1.0)
        );
        println!("    check            p50 {:.3} ms, p99 {:.3} ms ({keys} keystrokes)", c50, c99);
        println!("    explain          p50 {:.3} ms, p99 {:.3} ms", e50, e99);
        println!(
            "    keystroke        p50 {:.3} ms, p99 {:.3} ms (input handler: check + explain + page update)",
            k50, k99
        );
        println!(
            "    transfer         {} KiB ({} KiB gzip); module {} KiB ({} KiB gzip)",
            raw.div_ceil(1024),
            gz.div_ceil(1024),
            module_raw.div_ceil(1024),
            module_gz.div_ceil(1024)
        );
    }
}

/// Chromium's version, for the report.
fn version() -> String {
    let out = std::process::Command::new("/usr/bin/chromium").arg("--version").output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}
