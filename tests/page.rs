//! The self-service page (`policyc page`) in a real browser: Debian's headless Chromium, driven
//! through chromedriver, against the page served on 127.0.0.1 by the test.
//!
//! One browser for every step (it is the slow set-up): each case password of the shipped
//! policies' case files and of tests/cases, typed, gets the verdict and the failing rules
//! `policyc check` gives; after loading, the page makes no request (the browser's network log
//! and the server's own log) and keeps working with its server stopped; a policy that does not
//! load is said on the page; screenshots of the empty, failing and passing states are kept in
//! target/page-screenshots for review.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "tests fail loudly")]

#[path = "common/browser.rs"]
mod browser;

use browser::{Browser, Server};
use policyc_cli::cases;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// One password to type, for a user.
struct Typed {
    label: String,
    password: String,
    /// Address parameters: attributes by LDAP name, and the tenant.
    query: Vec<(String, String)>,
}

/// `application/x-www-form-urlencoded`, for the page's address.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn query_string(query: &[(String, String)]) -> String {
    let parts: Vec<String> =
        query.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect();
    if parts.is_empty() { String::new() } else { format!("?{}", parts.join("&")) }
}

/// Every password of a case file, with its user, in order.
fn typed(path: &Path) -> (PathBuf, Option<String>, Vec<Typed>) {
    let suite = cases::load(path).unwrap();
    let policy = path.parent().unwrap().join(&suite.file.policy);
    let mut all = Vec::new();
    for (i, case) in suite.file.cases.iter().enumerate() {
        let mut query = Vec::new();
        for (name, values) in &case.user {
            match values {
                cases::Values::One(v) => query.push((name.clone(), v.clone())),
                cases::Values::Many(vs) => {
                    query.extend(vs.iter().map(|v| (name.clone(), v.clone())))
                }
            }
        }
        if let Some(t) = &case.tenant {
            query.push(("tenant".into(), t.clone()));
        }
        for password in case.passwords(&suite.base).unwrap() {
            all.push(Typed {
                label: case.label(i),
                password: password.to_string(),
                query: query.clone(),
            });
        }
    }
    (policy, suite.file.policy_name.clone(), all)
}

/// What `policyc check` says of each password: (compliant, violated rule ids).
fn expected(
    policy: &Path,
    name: Option<&str>,
    typed: &[Typed],
    dir: &Path,
) -> Vec<(bool, Vec<String>)> {
    let input = dir.join("passwords.jsonl");
    let lines: Vec<String> = typed
        .iter()
        .map(|t| {
            let mut user: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
            let mut tenant = None;
            for (k, v) in &t.query {
                match k.as_str() {
                    "tenant" => tenant = Some(v.as_str()),
                    _ => user.entry(k.as_str()).or_default().push(v.as_str()),
                }
            }
            json!({ "password": t.password, "user": user, "tenant": tenant }).to_string()
        })
        .collect();
    std::fs::write(&input, lines.join("\n") + "\n").unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_policyc"));
    cmd.arg("check").arg(policy).arg("--format").arg("json").arg("--input").arg(&input);
    if let Some(n) = name {
        cmd.arg("--policy-name").arg(n);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "policyc check: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            let rules = v["violations"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x["rule"].as_str().unwrap().to_string())
                .collect();
            (v["compliant"].as_bool().unwrap(), rules)
        })
        .collect()
}

/// The page's verdict and the rules it shows as not met (ids without the policy's prefix).
fn shown(browser: &Browser) -> (String, Vec<String>) {
    let v = browser.run(
        "return [document.getElementById('verdict').dataset.verdict,
                 [...document.querySelectorAll('li[data-met=\"false\"]')].map(e => e.dataset.rule)];",
        json!([]),
    );
    let verdict = v[0].as_str().unwrap().to_string();
    let rules = v[1]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().split_once('.').unwrap().1.to_string())
        .collect();
    (verdict, rules)
}

/// The verdict element's state and words.
fn verdict(browser: &Browser) -> (String, String) {
    let v = browser.run(
        "const v = document.getElementById('verdict'); return [v.dataset.verdict, v.textContent];",
        json!([]),
    );
    (v[0].as_str().unwrap().to_string(), v[1].as_str().unwrap().to_string())
}

/// Empties the password field (as selecting it all and deleting would) and focuses it.
fn clear(browser: &Browser) {
    browser.run(
        "const p = document.getElementById('password'); p.value = '';
         p.dispatchEvent(new Event('input')); p.focus();",
        json!([]),
    );
}

fn type_password(browser: &Browser, password: &str) {
    clear(browser);
    browser.type_text(password);
}

/// Every case password, typed, gets `policyc check`'s verdict and failing rules.
fn same_verdicts_as_check(browser: &Browser, work: &Path) -> usize {
    let mut files: Vec<PathBuf> = Vec::new();
    for dir in ["policies/tests", "tests/cases"] {
        let mut found: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
            .collect();
        found.sort();
        files.extend(found);
    }
    let mut mismatches = Vec::new();
    let mut count = 0;
    for file in &files {
        let (policy, name, typed) = typed(file);
        let site = work.join(file.file_stem().unwrap());
        let mut args = vec![policy.to_str().unwrap().to_string()];
        if let Some(n) = &name {
            args.extend(["--policy-name".to_string(), n.clone()]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        browser::page(&site, &args[..1], &args[1..]);
        let expected = expected(&policy, name.as_deref(), &typed, work);
        assert_eq!(
            expected.len(),
            typed.len(),
            "{}: policyc check answered for every password",
            file.display()
        );
        let server = Server::start(&site);
        let mut at = None;
        for (t, (compliant, rules)) in typed.iter().zip(expected) {
            let url = server.url(&format!("index.html{}", query_string(&t.query)));
            if at.as_ref() != Some(&url) {
                browser.goto(&url);
                assert_eq!(
                    browser.wait_ready(),
                    "true",
                    "{}: the page did not load",
                    file.display()
                );
                at = Some(url);
            }
            type_password(browser, &t.password);
            let (verdict, failing) = shown(browser);
            let want = if compliant { "accepted" } else { "refused" };
            if verdict != want || failing != rules {
                mismatches.push(format!(
                    "{} / {}: the page says {verdict} {failing:?}, policyc check says {want} {rules:?}",
                    file.display(),
                    t.label
                ));
            }
            count += 1;
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {count} passwords differ:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
    count
}

/// The hybrid set-up's page: the domain's policy and the cloud's, named as users know them.
const HYBRID: [&str; 2] =
    ["policies/ad-default.policy=Active Directory", "policies/office365.policy=Microsoft 365"];

/// After loading: no request at all, nothing stored, and the page works with its server gone.
fn offline_after_load(browser: &Browser, work: &Path) {
    let site = work.join("hybrid");
    browser::page(&site, &HYBRID, &[]);
    let mut server = Server::start(&site);
    browser.goto(&server.url("index.html?sAMAccountName=jdoe&displayName=John%20Doe"));
    assert_eq!(browser.wait_ready(), "true");
    let loading = browser.network_events();
    assert!(
        loading.iter().any(|e| e["method"] == "Network.requestWillBeSent"),
        "the network log holds the page's loading (else it proves nothing)"
    );
    let served = server.requests().len();

    // The empty state, then a failing and a passing password, as a user types them.
    clear(browser);
    browser.screenshot(&browser::artifacts().join("empty.png"));
    type_password(browser, "jdoe2024");
    let (state, failing) = shown(browser);
    assert_eq!(state, "refused");
    assert_eq!(failing, ["names", "complexity", "classes"], "{state}");
    browser.screenshot(&browser::artifacts().join("failing.png"));
    type_password(browser, "Tr0ub4dor&3");
    assert_eq!(shown(browser), ("accepted".to_string(), vec![]));
    assert_eq!(
        verdict(browser).1,
        "This password will be accepted by Active Directory and Microsoft 365."
    );
    browser.screenshot(&browser::artifacts().join("passing.png"));
    // The account field, the reveal toggle, and back.
    browser.run("document.getElementById('account').focus()", json!([]));
    browser.type_text("x");
    browser.run(
        "document.getElementById('reveal').click(); document.getElementById('reveal').click();",
        json!([]),
    );
    type_password(browser, "Pass wor");
    assert_eq!(shown(browser).1, ["complexity", "classes"]);

    let after = browser.network_events();
    let requests: Vec<&Value> =
        after.iter().filter(|e| e["method"] == "Network.requestWillBeSent").collect();
    assert!(requests.is_empty(), "requests after load: {requests:?}");
    assert_eq!(
        server.requests().len(),
        served,
        "the server was asked for {:?}",
        &server.requests()[served..]
    );
    let stored = browser.run(
        "return [localStorage.length, sessionStorage.length, document.cookie,
                 document.getElementById('password').getAttribute('autocomplete'),
                 document.getElementById('password').getAttribute('passwordrules')];",
        json!([]),
    );
    let rules = Command::new(env!("CARGO_BIN_EXE_policyc"))
        .current_dir(root())
        .args(["export", "apple", "policies/ad-default.policy", "policies/office365.policy"])
        .output()
        .unwrap();
    let rules = String::from_utf8(rules.stdout).unwrap();
    assert_eq!(stored, json!([0, 0, "", "new-password", rules.trim_end()]));

    // The server stops; the page goes on.
    server.stop();
    type_password(browser, "Short1!");
    assert_eq!(shown(browser), ("refused".to_string(), vec!["length".to_string()]));
    type_password(browser, "Zq#Kw9mPv");
    assert_eq!(shown(browser).0, "accepted");
}

/// A policy that does not load is said on the page, never shown as accepted.
fn a_broken_policy_is_said(browser: &Browser, work: &Path) {
    let site = work.join("broken");
    browser::page(&site, &["policies/office365.policy"], &[]);
    let artifact = site.join("policies/office365.policyc");
    let mut bytes = std::fs::read(&artifact).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&artifact, bytes).unwrap();
    let server = Server::start(&site);
    browser.goto(&server.url("index.html"));
    assert_eq!(browser.wait_ready(), "error");
    let (state, text) = verdict(browser);
    assert_eq!(state, "error");
    assert!(
        text.starts_with("The password rules could not be checked here (")
            && text.contains("SHA-256"),
        "{text}"
    );
    let disabled = browser.run("return document.getElementById('password').disabled", json!([]));
    assert_eq!(disabled, json!(true));
    // Without its strings, the page still says why, in the words written into it.
    let strings = std::fs::read(site.join("strings.json")).unwrap();
    std::fs::remove_file(site.join("strings.json")).unwrap();
    browser.goto(&server.url("index.html"));
    assert_eq!(browser.wait_ready(), "error");
    assert_eq!(
        verdict(browser),
        ("error".to_string(), "The password rules could not be checked here (cannot fetch strings.json: HTTP 404). Your new password is still checked when you change it.".to_string())
    );
    std::fs::write(site.join("strings.json"), strings).unwrap();
    std::fs::remove_file(site.join("policies/office365.policyc")).unwrap();
    browser.goto(&server.url("index.html"));
    assert_eq!(browser.wait_ready(), "error");
    let (state, text) = verdict(browser);
    assert!(state == "error" && text.contains("HTTP 404"), "{state}: {text}");
}

/// A breached-password store is not in the browser: its rule is said to be checked when the
/// password changes, never shown met, and a password every other rule accepts gets the
/// "unchecked" verdict, neither accepted nor refused.
fn stores_stay_on_the_domain_controllers(browser: &Browser, work: &Path) {
    let dir = work.join("breached");
    std::fs::create_dir_all(&dir).unwrap();
    let list = dir.join("breached.txt");
    std::fs::write(&list, "Summer-2024-Rocks!\n").unwrap();
    let store = dir.join("pwned");
    let mut options = policyc_runtime::store::build::BuildOptions::new(&store, vec![list]);
    options.shard_bits = Some(1);
    policyc_runtime::store::build::build(&options, &policyc_runtime::store::build::Quiet).unwrap();
    let policy = dir.join("breached.policy");
    std::fs::write(
        &policy,
        "policy breached {\n  store pwned = \"pwned\"\n  rule length \"Use 8 or more characters.\" : length >= 8\n  \
         rule breached \"This password appeared in a data breach.\" : not in pwned\n}\n",
    )
    .unwrap();
    let site = dir.join("site");
    browser::page(&site, &[&format!("{}=Directory", policy.display())], &[]);
    let server = Server::start(&site);
    browser.goto(&server.url("index.html"));
    assert_eq!(browser.wait_ready(), "true");
    type_password(browser, "Tr0ub4dor&3");
    let item = browser.run(
        "const i = document.querySelector('[data-rule=\"breached.breached\"]');
         return [i.dataset.met, i.dataset.unavailable, i.querySelector('.mark').textContent, i.querySelector('.hint').textContent];",
        json!([]),
    );
    assert_eq!(
        item,
        json!([
            "false",
            "true",
            "? Not checked here: ",
            "Checked when you change your password, not in the browser."
        ])
    );
    assert_eq!(
        verdict(browser),
        ("unchecked".to_string(), "Every rule that can be checked here is met; Directory checks the rest when you change your password.".to_string())
    );
    type_password(browser, "Short1");
    assert_eq!(verdict(browser).0, "refused");
}

/// The worked example of docs/browser.md: the live check on LTB Self Service Password's change
/// form (its fields, `#login` and `#newpassword`, as templates/change.tpl has them).
fn ltb_self_service_password(browser: &Browser, work: &Path) {
    let site = work.join("ssp");
    browser::page(&site, &HYBRID, &[]);
    std::fs::copy(root().join("docs/browser/ltb-ssp.js"), site.join("ltb-ssp.js")).unwrap();
    std::fs::write(
        site.join("change.html"),
        r##"<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>SSP</title></head><body>
<form action="#" method="post">
<input type="text" name="login" id="login">
<input type="password" autocomplete="current-password" name="oldpassword" id="oldpassword">
<input type="password" autocomplete="new-password" name="newpassword" id="newpassword">
<input type="password" autocomplete="new-password" name="confirmpassword" id="confirmpassword">
<button type="submit">Send</button>
</form>
<div id="policyc-rules" aria-live="polite"></div>
<script type="module" src="ltb-ssp.js"></script>
</body></html>"##,
    )
    .unwrap();
    let server = Server::start(&site);
    browser.goto(&server.url("change.html"));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let ready = loop {
        let r = browser
            .run("return document.getElementById('policyc-rules').dataset.ready || ''", json!([]));
        if r != "" {
            break r;
        }
        assert!(std::time::Instant::now() < deadline, "the SSP example never became ready");
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert_eq!(ready, "true");
    let state = |b: &Browser| {
        b.run(
            "const p = document.getElementById('policyc-rules');
             return [p.dataset.compliant, [...p.querySelectorAll('[data-rule]')].map(e => e.dataset.rule),
                     document.getElementById('newpassword').validity.customError];",
            json!([]),
        )
    };
    browser.run("document.getElementById('login').focus()", json!([]));
    browser.type_text("jdoe");
    browser.run("document.getElementById('newpassword').focus()", json!([]));
    browser.type_text("jdoe2024");
    assert_eq!(
        state(browser),
        json!(["false", ["ad_default.names", "ad_default.complexity", "office365.classes"], true])
    );
    browser.run(
        "const p = document.getElementById('newpassword'); p.value = ''; p.focus();",
        json!([]),
    );
    browser.type_text("Tr0ub4dor&3");
    assert_eq!(state(browser), json!(["true", [], false]));
}

/// WCAG contrast of an element's text against its background (the first opaque one up the tree).
const CONTRAST: &str = r"
const lum = (c) => {
  const [r, g, b] = c.match(/[\d.]+/g).slice(0, 3).map((v) => {
    v = v / 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
};
const background = (e) => {
  for (; e; e = e.parentElement) {
    const c = getComputedStyle(e).backgroundColor;
    if (!c.startsWith('rgba(0, 0, 0, 0)') && c !== 'transparent') return c;
  }
  return 'rgb(255, 255, 255)';
};
return [...document.querySelectorAll(arguments[0])].filter((e) => e.offsetParent).map((e) => {
  const [a, b] = [lum(getComputedStyle(e).color), lum(background(e))];
  return [e.id || e.className || e.tagName, (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)];
});
";

/// Labels, a live region, the keyboard alone, contrast, and a phone's width.
fn accessible_on_a_keyboard_and_a_phone(browser: &Browser, work: &Path) {
    let site = work.join("hybrid");
    let server = Server::start(&site);
    browser.goto(&server.url("index.html"));
    assert_eq!(browser.wait_ready(), "true");
    let unlabelled = browser.run(
        "return [...document.querySelectorAll('input')].filter(i => !i.hidden && i.labels.length === 0).map(i => i.id)",
        json!([]),
    );
    assert_eq!(unlabelled, json!([]));
    let live = browser.run(
        "const v = document.getElementById('verdict'); return [v.getAttribute('role'), v.getAttribute('aria-live')]",
        json!([]),
    );
    assert_eq!(live, json!(["status", "polite"]));

    // The keyboard alone: Tab to the password, type, Tab to the toggle, Space shows it.
    browser.run("document.activeElement.blur()", json!([]));
    let active = || browser.run("return document.activeElement.id", json!([]));
    let mut tabs = 0;
    while active() != "password" {
        browser.press("Tab", "Tab", 9);
        tabs += 1;
        assert!(tabs <= 4, "Tab never reaches the password (at {})", active());
    }
    browser.type_text("Tr0ub4dor&3");
    assert_eq!(shown(browser).0, "accepted");
    browser.press("Tab", "Tab", 9);
    assert_eq!(active(), "reveal");
    browser.press(" ", "Space", 32);
    let revealed = browser.run(
        "return [document.getElementById('password').type, document.getElementById('reveal').getAttribute('aria-pressed'), document.getElementById('reveal').textContent]",
        json!([]),
    );
    assert_eq!(revealed, json!(["text", "true", "Hide password"]));
    browser.press("Enter", "Enter", 13);
    let hidden = browser.run("return document.getElementById('password').type", json!([]));
    assert_eq!(hidden, "password");

    // Contrast (WCAG AA: 4.5) of every text, in each verdict's colours.
    type_password(browser, "short");
    for state in ["refused", "accepted", "unchecked", "error"] {
        browser.run(
            &format!("document.getElementById('verdict').dataset.verdict = '{state}'"),
            json!([]),
        );
        let ratios = browser.run(
            CONTRAST,
            json!(["h1, p, label, legend, button, #verdict, .mark, .message, .hint, h2"]),
        );
        for pair in ratios.as_array().unwrap() {
            let ratio = pair[1].as_f64().unwrap();
            assert!(ratio >= 4.5, "{state}: {} has contrast {ratio:.2}", pair[0]);
        }
    }

    // A phone: one column, nothing wider than the screen.
    browser.resize(390, 844);
    browser.goto(&server.url("index.html?sAMAccountName=jdoe"));
    assert_eq!(browser.wait_ready(), "true");
    type_password(browser, "jdoe2024");
    let overflow =
        browser.run("return [document.documentElement.scrollWidth, window.innerWidth]", json!([]));
    assert!(overflow[0].as_u64() <= overflow[1].as_u64(), "wider than the screen: {overflow}");
    browser.screenshot(&browser::artifacts().join("phone.png"));
}

#[test]
fn the_page_in_chromium() {
    let work = tempfile::tempdir().unwrap();
    let browser = Browser::start();
    let typed = same_verdicts_as_check(&browser, work.path());
    assert!(typed > 150, "only {typed} case passwords");
    offline_after_load(&browser, work.path());
    a_broken_policy_is_said(&browser, work.path());
    ltb_self_service_password(&browser, work.path());
    stores_stay_on_the_domain_controllers(&browser, work.path());
    accessible_on_a_keyboard_and_a_phone(&browser, work.path());
    let errors: Vec<Value> = browser
        .console()
        .into_iter()
        .filter(|m| {
            // The 404s the broken-policy step causes on purpose.
            let message = m["message"].as_str().unwrap_or("");
            m["level"] == "SEVERE"
                && !["office365.policyc", "strings.json"].iter().any(|f| message.contains(f))
        })
        .collect();
    assert!(errors.is_empty(), "console errors: {errors:?}");
}

/// What `policyc page` said, and its exit code.
fn page_fails(dir: &Path, policies: &[&str], extra: &[&str]) -> String {
    let out = browser::run_page(dir, policies, extra);
    assert_eq!(out.status.code(), Some(2), "policyc page {policies:?} {extra:?} succeeded");
    assert!(out.stdout.is_empty());
    String::from_utf8(out.stderr).unwrap()
}

#[test]
fn signed_policies_only_with_a_key() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let policyc = |args: &[&str]| {
        let out =
            Command::new(env!("CARGO_BIN_EXE_policyc")).current_dir(w).args(args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    let source = root().join("policies/office365.policy");
    let source = source.to_str().unwrap();
    policyc(&["keygen", "-o", "k.key"]);
    policyc(&["compile", source, "-o", "signed.policyc", "--sign", "k.key", "--serial", "7"]);
    policyc(&["compile", source, "-o", "unsigned.policyc"]);
    let key = w.join("k.key.pub");
    let key = key.to_str().unwrap();
    let signed = w.join("signed.policyc");
    browser::page(&w.join("site"), &[signed.to_str().unwrap()], &["--key", key]);
    let site: Value =
        serde_json::from_str(&std::fs::read_to_string(w.join("site/site.json")).unwrap()).unwrap();
    assert_eq!(site["policies"][0]["signed_serial"], 7);
    let unsigned = w.join("unsigned.policyc");
    let said = page_fails(&w.join("no"), &[unsigned.to_str().unwrap()], &["--key", key]);
    assert!(said.contains("is not signed") && said.contains("policyc compile --sign"), "{said}");
    let said = page_fails(&w.join("no"), &[source], &["--key", key]);
    assert!(said.contains("is not signed"), "{said}");
    assert!(!w.join("no").exists(), "a refused page wrote files");
}

#[test]
fn bad_arguments_are_said_and_write_nothing() {
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("site");
    let said =
        page_fails(&out, &["policies/office365.policy", "policies/office365.policy=Again"], &[]);
    assert_eq!(said, "error: the policy `office365` is given twice\n");
    let said = page_fails(&out, &["policies/missing.policy"], &[]);
    assert!(said.starts_with("error: cannot read"), "{said}");
    let strings = work.path().join("de.json");
    std::fs::write(&strings, r#"{"lang": "de", "title": "Neues Passwort"}"#).unwrap();
    let said =
        page_fails(&out, &["policies/office365.policy"], &["--strings", strings.to_str().unwrap()]);
    assert!(said.starts_with("error: the strings lack accepted, account, and, "), "{said}");
    let mut numbered: serde_json::Map<String, Value> = serde_json::from_str(
        &std::fs::read_to_string(root().join("crates/wasm/web/strings.json")).unwrap(),
    )
    .unwrap();
    numbered.insert("title".into(), json!(5));
    std::fs::write(&strings, serde_json::to_string(&numbered).unwrap()).unwrap();
    let said =
        page_fails(&out, &["policies/office365.policy"], &["--strings", strings.to_str().unwrap()]);
    assert_eq!(said, "error: the strings' `title` is not text (a JSON string)\n");
    std::fs::write(&strings, "[1, 2]").unwrap();
    let said =
        page_fails(&out, &["policies/office365.policy"], &["--strings", strings.to_str().unwrap()]);
    assert!(said.starts_with("error: the strings are not a JSON object of texts"), "{said}");
    let said = String::from_utf8(
        Command::new(env!("CARGO_BIN_EXE_policyc"))
            .current_dir(root())
            .args(["page", "policies/office365.policy", "-o"])
            .arg(&out)
            .args(["--wasm", "/nonexistent"])
            .output()
            .unwrap()
            .stderr,
    )
    .unwrap();
    assert_eq!(
        said,
        "error: the browser module (lean: policyc_wasm.js, policyc_wasm_bg.wasm) was not found; looked in:\n  /nonexistent/lean\nBuild it with scripts/wasm.sh, or give its directory with --wasm DIR.\n"
    );
    assert!(!out.exists(), "a refused page wrote files");
}

/// The page's own strings come from one file: a translation replaces every one of them.
#[test]
fn a_translation_replaces_the_page_strings() {
    let work = tempfile::tempdir().unwrap();
    let default: serde_json::Map<String, Value> = serde_json::from_str(
        &std::fs::read_to_string(root().join("crates/wasm/web/strings.json")).unwrap(),
    )
    .unwrap();
    let german: serde_json::Map<String, Value> = default
        .keys()
        .map(|k| {
            (k.clone(), Value::String(if k == "lang" { "de".into() } else { format!("DE:{k}") }))
        })
        .collect();
    let strings = work.path().join("de.json");
    std::fs::write(&strings, serde_json::to_string(&german).unwrap()).unwrap();
    let site = work.path().join("site");
    browser::page(&site, &["policies/office365.policy"], &["--strings", strings.to_str().unwrap()]);
    let html = std::fs::read_to_string(site.join("index.html")).unwrap();
    assert!(
        html.contains("<html lang=\"de\">") && html.contains("<title>DE:title</title>"),
        "{html}"
    );
    assert!(!html.contains("{{"), "a placeholder is left: {html}");
    for (key, value) in &default {
        let text = value.as_str().unwrap();
        if key != "lang" {
            assert!(!html.contains(&format!(">{text}<")), "`{key}` is still in English");
        }
    }
}
