//! `policyc_ppolicy.so` in a real slapd (Debian's 2.5, started by this test on 127.0.0.1 with
//! the ppolicy overlay, stopped by its PID): a user's own password change (`ldappasswd`, the
//! passwords in files, never on a command line) that breaks the policy is refused with
//! policyc's message; a compliant one succeeds; a missing policy follows the fail mode; the
//! entry's attributes, the Entra policy and a breached-password store work there too. A
//! missing slapd fails the test with the package to install; it never skips.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails by panicking"
)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const SUFFIX: &str = "dc=example,dc=com";
const POLICY_DN: &str = "cn=default,ou=policies,dc=example,dc=com";
const ALICE: &str = "uid=alice,ou=people,dc=example,dc=com";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A slapd of its own: a temporary directory, a free port, stopped by PID when dropped.
struct Slapd {
    dir: tempfile::TempDir,
    url: String,
    child: Child,
    module: PathBuf,
    admin_pw: PathBuf,
}

impl Drop for Slapd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The module, built by the cargo running this test (`cargo test` builds no cdylib).
fn module(dir: &Path) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile = exe.parent().and_then(Path::parent).unwrap().to_path_buf();
    let mut cargo = Command::new(env!("CARGO"));
    cargo.args(["build", "-p", "policyc-ldap", "--lib"]).current_dir(root());
    if profile.file_name().is_some_and(|n| n == "release") {
        cargo.arg("--release");
    }
    assert!(cargo.status().unwrap().success(), "building policyc_ppolicy.so failed");
    let module = dir.join("policyc_ppolicy.so");
    std::fs::copy(profile.join("libpolicyc_ppolicy.so"), &module).unwrap();
    module
}

fn secret_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

impl Slapd {
    fn start() -> Slapd {
        for (tool, package) in [("/usr/sbin/slapd", "slapd"), ("/usr/bin/ldappasswd", "ldap-utils")]
        {
            assert!(Path::new(tool).exists(), "{tool} is missing: apt-get install {package}");
        }
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir(d.join("db")).unwrap();
        let module = module(d);
        let conf = format!(
            "include /etc/ldap/schema/core.schema\n\
             include /etc/ldap/schema/cosine.schema\n\
             include /etc/ldap/schema/nis.schema\n\
             include /etc/ldap/schema/inetorgperson.schema\n\
             modulepath /usr/lib/ldap\nmoduleload back_mdb\nmoduleload ppolicy\n\
             pidfile {d}/slapd.pid\nargsfile {d}/slapd.args\n\
             access to attrs=userPassword by self write by anonymous auth by * none\n\
             access to * by * read\n\
             database mdb\nmaxsize 10485760\nsuffix \"{SUFFIX}\"\n\
             rootdn \"cn=admin,{SUFFIX}\"\nrootpw admin-secret-9\ndirectory {d}/db\n\
             overlay ppolicy\nppolicy_default \"{POLICY_DN}\"\n",
            d = d.display()
        );
        std::fs::write(d.join("slapd.conf"), conf).unwrap();
        let port = free_port();
        let url = format!("ldap://127.0.0.1:{port}/");
        let child = Command::new("/usr/sbin/slapd")
            .args(["-d", "0", "-f"])
            .arg(d.join("slapd.conf"))
            .args(["-h", &url])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let admin_pw = secret_file(d, "admin.pw", "admin-secret-9");
        let slapd = Slapd { dir, url, child, module, admin_pw };
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(start.elapsed() < Duration::from_secs(10), "slapd did not start on {port}");
            std::thread::sleep(Duration::from_millis(50));
        }
        slapd
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Runs an LDAP tool as the directory's admin with `ldif` on standard input.
    fn admin(&self, tool: &str, ldif: &str) -> Output {
        let mut child = Command::new(tool)
            .args(["-x", "-H", &self.url, "-D", &format!("cn=admin,{SUFFIX}"), "-y"])
            .arg(&self.admin_pw)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write as _;
        child.stdin.take().unwrap().write_all(ldif.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{tool}: {}", String::from_utf8_lossy(&out.stderr));
        out
    }

    /// Points the policy's `pwdCheckModuleArg` at `settings`.
    fn settings(&self, settings: &str) {
        self.admin(
            "ldapmodify",
            &format!("dn: {POLICY_DN}\nchangetype: modify\nreplace: pwdCheckModuleArg\npwdCheckModuleArg: {settings}\n"),
        );
    }

    /// Alice changes her own password (`ldappasswd`, both passwords in files): the client's
    /// exit code and what slapd answered.
    fn change(&self, old: &str, new: &str) -> (bool, String) {
        let old_file = secret_file(self.dir.path(), "old.pw", old);
        let new_file = secret_file(self.dir.path(), "new.pw", new);
        let out = Command::new("ldappasswd")
            .args(["-x", "-H", &self.url, "-D", ALICE, "-y"])
            .arg(&old_file)
            .arg("-T")
            .arg(&new_file)
            .output()
            .unwrap();
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), said)
    }
}

fn compile(dir: &Path, name: &str, source: Option<&str>) -> PathBuf {
    let options = policyc_compiler::CompileOptions::default();
    let compiled = match source {
        Some(text) => {
            policyc_compiler::compile_str(dir.join(format!("{name}.policy")), text, &options)
        }
        None => policyc_compiler::compile_path(
            root().join("policies").join(format!("{name}.policy")),
            &options,
        ),
    };
    let path = dir.join(format!("{name}.policyc"));
    std::fs::write(&path, compiled.unwrap().artifact).unwrap();
    path
}

#[test]
fn slapd_refuses_with_policyc_and_follows_the_fail_mode() {
    let slapd = Slapd::start();
    let d = slapd.dir.path();
    let office365 = compile(d, "office365", None);
    let audit = slapd.path("audit.jsonl");
    let settings = format!("policy={} audit={}", office365.display(), audit.display());
    slapd.admin(
        "ldapadd",
        &format!(
            "dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\no: Example\ndc: example\n\n\
             dn: ou=policies,{SUFFIX}\nobjectClass: organizationalUnit\nou: policies\n\n\
             dn: {POLICY_DN}\nobjectClass: device\nobjectClass: pwdPolicy\nobjectClass: pwdPolicyChecker\n\
             cn: default\npwdAttribute: userPassword\npwdCheckQuality: 2\npwdAllowUserChange: TRUE\n\
             pwdCheckModule: {}\npwdCheckModuleArg: {settings}\n\n\
             dn: ou=people,{SUFFIX}\nobjectClass: organizationalUnit\nou: people\n\n\
             dn: {ALICE}\nobjectClass: inetOrgPerson\nuid: alice\ncn: Alice Liddell\nsn: Liddell\n\
             givenName: Alice\nmail: alice@example.com\nuserPassword: Initial-Passw0rd\n",
            slapd.module.display()
        ),
    );

    // office365: a short password is refused with policyc's message; a compliant one is set.
    let (ok, said) = slapd.change("Initial-Passw0rd", "short");
    assert!(!ok, "{said}");
    assert!(said.contains("Constraint violation"), "{said}");
    assert!(
        said.contains("Use 8 to 256 characters."),
        "policyc's message reaches the client: {said}"
    );
    let (ok, said) = slapd.change("Initial-Passw0rd", "Tr0ub4dor&3");
    assert!(ok, "{said}");

    // The entry's attributes: ad-default refuses a password holding the uid or a name.
    let ad_default = compile(d, "ad-default", None);
    slapd.settings(&format!("policy={} audit={}", ad_default.display(), audit.display()));
    let (ok, said) = slapd.change("Tr0ub4dor&3", "Liddell-2024!");
    assert!(!ok && said.contains("Do not use your account name"), "{said}");

    // Entra's banned-word scoring.
    let entra = compile(d, "entra-password-protection", None);
    slapd.settings(&format!("policy={} audit={}", entra.display(), audit.display()));
    let (ok, said) = slapd.change("Tr0ub4dor&3", "Password123!");
    assert!(!ok, "{said}");

    // A breached-password store.
    let list = secret_file(d, "breached.txt", "Winter-Garden-77\nSummer-Lake-2024\n");
    let store = d.join("breached.store");
    let mut o = policyc_runtime::store::build::BuildOptions::new(&store, vec![list]);
    o.threads = 1;
    policyc_runtime::store::build::build(&o, &policyc_runtime::store::build::Quiet).unwrap();
    let source = format!(
        "policy breached {{\n  store pwned = \"{}\"\n  rule length \"Use 8 or more characters.\" : length >= 8\n  \
         rule breached \"This password appeared in a data breach.\" : not in pwned\n}}\n",
        store.display()
    );
    let breached = compile(d, "breached", Some(&source));
    slapd.settings(&format!("policy={} audit={}", breached.display(), audit.display()));
    let (ok, said) = slapd.change("Tr0ub4dor&3", "Winter-Garden-77");
    assert!(!ok && said.contains("This password appeared in a data breach."), "{said}");
    let (ok, said) = slapd.change("Tr0ub4dor&3", "Autumn-Forest-31");
    assert!(ok, "{said}");

    // No policy: refused (fail closed, the default); accepted unchecked with fail=open.
    let missing = slapd.path("missing.policyc");
    slapd.settings(&format!("policy={} audit={}", missing.display(), audit.display()));
    let (ok, said) = slapd.change("Autumn-Forest-31", "Spring-River-52");
    assert!(!ok && said.contains("the password policy is unavailable"), "{said}");
    slapd.settings(&format!("policy={} audit={} fail=open", missing.display(), audit.display()));
    let (ok, said) = slapd.change("Autumn-Forest-31", "Spring-River-52");
    assert!(ok, "{said}");
    // Bad settings refuse every change.
    slapd.settings("fail=sometimes");
    let (ok, said) = slapd.change("Spring-River-52", "Another-Good-One-8");
    assert!(!ok && said.contains("misconfigured"), "{said}");

    let log = std::fs::read_to_string(&audit).unwrap();
    let lines: Vec<serde_json::Value> =
        log.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(lines.iter().all(|l| l["source"] == "ldap"), "{log}");
    let outcomes: Vec<&str> = lines.iter().map(|l| l["outcome"].as_str().unwrap()).collect();
    for expected in ["rejected", "accepted", "rejected_no_policy", "accepted_unchecked"] {
        assert!(outcomes.contains(&expected), "{expected} missing: {outcomes:?}");
    }
    assert!(lines.iter().any(|l| l["account"] == "alice"), "{log}");
    for password in
        ["short", "Tr0ub4dor", "Liddell-2024", "Password123", "Winter-Garden", "Spring-River"]
    {
        assert!(!log.contains(password), "a password in the audit log: {log}");
    }
}
