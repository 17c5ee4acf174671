//! What the slapd test and the modify bench share: a slapd of their own with the ppolicy overlay
//! and the module, the directory's entries, the policies.
#![allow(dead_code, reason = "each of the test and the bench uses a part")]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const SUFFIX: &str = "dc=example,dc=com";
pub const POLICY_DN: &str = "cn=default,ou=policies,dc=example,dc=com";
pub const ALICE: &str = "uid=alice,ou=people,dc=example,dc=com";

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A slapd of its own: a temporary directory, a free port, stopped by PID when dropped.
pub struct Slapd {
    pub dir: tempfile::TempDir,
    pub url: String,
    child: Child,
    pub module: PathBuf,
    pub admin_pw: PathBuf,
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

pub fn secret_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

impl Slapd {
    pub fn start() -> Slapd {
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

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Runs an LDAP tool as the directory's admin with `ldif` on standard input.
    pub fn admin(&self, tool: &str, ldif: &str) -> Output {
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

    /// The directory: the suffix, the default password policy (ppolicy, quality checked by the
    /// module with `settings` as its `pwdCheckModuleArg`), and alice.
    pub fn populate(&self, settings: &str) {
        self.admin(
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
                self.module.display()
            ),
        );
    }

    /// Points the policy's `pwdCheckModuleArg` at `settings`.
    pub fn settings(&self, settings: &str) {
        self.admin(
            "ldapmodify",
            &format!("dn: {POLICY_DN}\nchangetype: modify\nreplace: pwdCheckModuleArg\npwdCheckModuleArg: {settings}\n"),
        );
    }

    /// Alice changes her own password (`ldappasswd`, both passwords in files): the client's
    /// exit code and what slapd answered.
    pub fn change(&self, old: &str, new: &str) -> (bool, String) {
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

pub fn compile(dir: &Path, name: &str, source: Option<&str>) -> PathBuf {
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
