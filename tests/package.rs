//! The Debian package and the static binary (issue 26): `scripts/package.sh` builds them; the
//! package installs on this machine (`dpkg -i`) with its directories, owners and modes, its
//! units verify, the hook and the agent it installs work against the doubles, the doctor passes,
//! logrotate rotates the audit log without losing a line, and `dpkg --purge` removes everything
//! it made. The musl binary is static and runs.
//!
//! It installs into the system (`/usr/bin`, `/etc/policyc`, `/var/lib/policyc`,
//! `/var/log/policyc`): run as root on a machine without policyc installed (CI's is fresh).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails by panicking"
)]

mod common;

use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const VERSION: &str = env!("CARGO_PKG_VERSION");

fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Purges the package (and the configuration the test wrote) however the test ends.
struct Installed;

impl Drop for Installed {
    fn drop(&mut self) {
        let _ = Command::new("dpkg").args(["--purge", "policyc"]).output();
        let _ = std::fs::remove_dir_all("/etc/policyc");
    }
}

/// Runs the installed hook as Samba would: the password on standard input.
fn hook(account: &str, user: &str, password: &str) -> Output {
    use std::io::Write as _;
    let mut child = Command::new("/usr/bin/policyc")
        .args(["hook", "samba", "--config", "/etc/policyc/agent.yaml"])
        .env("SAMBA_CPS_ACCOUNT_NAME", account)
        .env("SAMBA_CPS_USER_PRINCIPAL_NAME", user)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(password.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn mode(path: &str) -> (u32, u32, u32) {
    let m = std::fs::symlink_metadata(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    (m.mode() & 0o7777, m.uid(), m.gid())
}

/// `adm`'s group id.
fn adm() -> u32 {
    let group = std::fs::read_to_string("/etc/group").unwrap();
    group
        .lines()
        .find_map(|l| l.strip_prefix("adm:x:").and_then(|r| r.split(':').next()?.parse().ok()))
        .expect("group adm")
}

/// Whether an ELF file asks for a dynamic loader (a `PT_INTERP` program header).
fn has_interpreter(bytes: &[u8]) -> bool {
    let u16_at = |o: usize| u16::from_le_bytes([bytes[o], bytes[o + 1]]) as usize;
    let phoff = u64::from_le_bytes(bytes[0x20..0x28].try_into().unwrap()) as usize;
    let (size, count) = (u16_at(0x36), u16_at(0x38));
    (0..count).any(|i| {
        let at = phoff + i * size;
        u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) == 3
    })
}

#[test]
fn the_package_installs_works_against_the_doubles_rotates_and_purges() {
    assert_eq!(rustix::process::geteuid().as_raw(), 0, "dpkg -i needs root (CI runs as root)");
    assert!(
        Command::new("dpkg").args(["-s", "policyc"]).output().is_ok_and(|o| !o.status.success())
            && !Path::new("/etc/policyc").exists(),
        "policyc is already installed (or /etc/policyc exists) on this machine: this test installs and purges it"
    );
    run(&mut Command::new("scripts/package.sh"));
    let deb = PathBuf::from(format!("target/debian/policyc_{VERSION}_amd64.deb"));
    let listing = text(&run(Command::new("dpkg-deb").arg("-c").arg(&deb)));
    for file in [
        "./usr/bin/policyc",
        "./lib/systemd/system/policyc-agent.service",
        "./lib/systemd/system/policyc-agent-once.service",
        "./lib/systemd/system/policyc-agent.timer",
        "./etc/logrotate.d/policyc",
        "./usr/share/doc/policyc/smb.conf.snippet",
        "./usr/share/doc/policyc/examples/agent.yaml",
        "./usr/share/doc/policyc/agent.md",
        "./usr/share/policyc/policies/office365.policy",
        "./usr/share/policyc/policies/lists/common-passwords.txt",
        "./usr/share/man/man1/policyc.1.gz",
        "./usr/share/man/man1/policyc-doctor.1.gz",
        "./usr/share/bash-completion/completions/policyc",
        "./usr/share/zsh/vendor-completions/_policyc",
        "./usr/share/fish/vendor_completions.d/policyc.fish",
        "./usr/lib/x86_64-linux-gnu/libpolicyc.so",
        "./usr/lib/x86_64-linux-gnu/libpolicyc.a",
        "./usr/include/policyc.h",
        "./usr/lib/x86_64-linux-gnu/pkgconfig/policyc.pc",
        "./usr/lib/x86_64-linux-gnu/security/pam_policyc.so",
        "./usr/lib/ldap/policyc_ppolicy.so",
        "./usr/share/policyc/wasm/lean/policyc_wasm_bg.wasm",
        "./usr/share/policyc/wasm/full/policyc_wasm.js",
        "./usr/share/doc/policyc/browser.md",
    ] {
        assert!(
            listing.lines().any(|l| l.ends_with(file)),
            "{file} not in the package:\n{listing}"
        );
    }

    let installed = Installed;
    run(Command::new("dpkg").arg("-i").arg(&deb));
    assert_eq!(mode("/etc/policyc"), (0o755, 0, 0));
    for dir in
        ["/var/lib/policyc/queue", "/var/lib/policyc/queue/pending", "/var/lib/policyc/queue/tmp"]
    {
        assert_eq!(mode(dir), (0o700, 0, 0), "{dir}");
    }
    assert_eq!(mode("/var/log/policyc"), (0o750, 0, adm()));
    let said = text(&run(Command::new("/usr/bin/policyc").arg("--version")));
    assert!(said.starts_with(&format!("policyc {VERSION} (artifact formats")), "{said}");

    // The installed C library: a program built with pkg-config's flags links and runs it.
    let program = std::env::temp_dir().join(format!("policyc-pkg-{}", std::process::id()));
    let source = program.with_extension("c");
    std::fs::write(&source, "#include <policyc.h>\n#include <stdio.h>\nint main(void) { puts(policyc_version()); return 0; }\n").unwrap();
    let flags = text(&run(Command::new("pkg-config").args(["--cflags", "--libs", "policyc"])));
    run(Command::new("cc").arg(&source).arg("-o").arg(&program).args(flags.split_whitespace()));
    let said = text(&run(&mut Command::new(&program)));
    assert!(said.starts_with(&format!("policyc {VERSION} (artifact formats")), "{said}");
    let _ = std::fs::remove_file(&source);
    let _ = std::fs::remove_file(&program);

    // The self-service page from the installed binary and module, nothing else given.
    let site = std::env::temp_dir().join(format!("policyc-pkg-site-{}", std::process::id()));
    run(Command::new("/usr/bin/policyc")
        .args(["page", "/usr/share/policyc/policies/office365.policy", "-o"])
        .arg(&site));
    for file in ["index.html", "policyc.js", "policyc_wasm_bg.wasm", "policies/office365.policyc"] {
        assert!(site.join(file).is_file(), "{file} not in the page the package writes");
    }
    let _ = std::fs::remove_dir_all(&site);

    // The units: systemd's own verifier, and the same hardening in both services.
    let units = [
        "/lib/systemd/system/policyc-agent.service",
        "/lib/systemd/system/policyc-agent-once.service",
        "/lib/systemd/system/policyc-agent.timer",
    ];
    let verify = Command::new("systemd-analyze").arg("verify").args(units).output().unwrap();
    let complaints = String::from_utf8_lossy(&verify.stderr);
    let ours: Vec<&str> = complaints.lines().filter(|l| l.contains("policyc")).collect();
    assert!(verify.status.success() && ours.is_empty(), "systemd-analyze verify:\n{complaints}");
    let hardening = |unit: &str| -> Vec<String> {
        let text = std::fs::read_to_string(unit).unwrap();
        let after = text.split("# Hardening.").nth(1).unwrap_or("");
        let after = after.split("\n[").next().unwrap_or("").to_string();
        after
            .lines()
            .filter(|l| l.contains('=') && !l.starts_with('#'))
            .map(str::to_string)
            .collect()
    };
    let service = hardening(units[0]);
    assert!(service.iter().any(|l| l == "ProtectSystem=strict"), "{service:?}");
    assert!(service.iter().any(|l| l == "NoNewPrivileges=yes"));
    assert_eq!(service, hardening(units[1]), "the two services must be hardened alike");
    for unit in &units[..2] {
        let text = std::fs::read_to_string(unit).unwrap();
        assert!(text.contains("LoadCredential=client-secret:/etc/policyc/client-secret"), "{unit}");
    }

    // Configured as the example says, against the doubles.
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let cloud = common::cloud();
    cloud.add_users(["pat@example.com"]);
    let example = std::fs::read_to_string("/usr/share/doc/policyc/examples/agent.yaml").unwrap();
    let yaml = example
        .replace(
            "directory:\n  kind: samba\n  socket: /var/lib/samba/private/ldap_priv/ldapi",
            &format!("directory: {{kind: file, path: {}/directory.json}}\nsyslog: \"\"\nonce_every_secs: 60\nreconcile_interval_secs: 0", w.display()),
        )
        .replace("/var/lib/prometheus/node-exporter/", &format!("{}/", w.display()))
        .replace("https://graph.microsoft.com", cloud.url())
        .replace("https://login.microsoftonline.com/TENANT/oauth2/v2.0/token", &format!("{}/token", cloud.url()))
        .replace("00000000-0000-0000-0000-000000000000", common::CLIENT_ID);
    assert!(
        yaml.contains("kind: file") && yaml.contains(cloud.url()),
        "the example changed:\n{yaml}"
    );
    std::fs::write("/etc/policyc/agent.yaml", yaml).unwrap();
    std::fs::write("/etc/policyc/client-secret", format!("{}\n", common::CLIENT_SECRET)).unwrap();
    std::fs::set_permissions("/etc/policyc/client-secret", std::fs::Permissions::from_mode(0o600))
        .unwrap();
    run(Command::new("/usr/bin/policyc").args([
        "compile",
        "/usr/share/policyc/policies/office365.policy",
        "-o",
        "/etc/policyc/office365.policyc",
    ]));
    let snippet = std::fs::read_to_string("/usr/share/doc/policyc/smb.conf.snippet").unwrap();
    let line =
        snippet.lines().find(|l| l.trim_start().starts_with("check password script")).unwrap();
    let smb_conf = w.join("smb.conf");
    std::fs::write(
        &smb_conf,
        format!("[global]\n\tnetbios name = DC1\n\trealm = EXAMPLE.COM\n\tworkgroup = EXAMPLE\n\tserver role = active directory domain controller\n{line}\n"),
    )
    .unwrap();

    let settings = policyc_agent::directory::PasswordSettings { complexity: true, min_length: 1 };
    policyc_agent::directory::DirectoryDouble::new(w.join("directory.json"))
        .set_password_settings(settings)
        .unwrap();

    // A refused reset, an accepted one, delivered by the agent with the secret as a systemd
    // credential.
    assert_eq!(hook("pat", "pat@example.com", "short").status.code(), Some(1));
    let accepted = hook("pat", "pat@example.com", "Canary-Pat1-Xy9!");
    assert!(accepted.status.success(), "{}", String::from_utf8_lossy(&accepted.stderr));
    policyc_agent::directory::DirectoryDouble::new(w.join("directory.json"))
        .commit("pat", "Canary-Pat1-Xy9!")
        .unwrap();
    let creds = w.join("credentials");
    std::fs::create_dir(&creds).unwrap();
    std::fs::copy("/etc/policyc/client-secret", creds.join("client-secret")).unwrap();
    run(Command::new("/usr/bin/policyc")
        .args(["agent", "run", "--once", "--config", "/etc/policyc/agent.yaml"])
        .env("CREDENTIALS_DIRECTORY", &creds));
    common::assert_holds(&cloud, "pat@example.com", "Canary-Pat1-Xy9!");

    // The doctor passes.
    let doctor = Command::new("/usr/bin/policyc")
        .args(["doctor", "--config", "/etc/policyc/agent.yaml", "--smb-conf"])
        .arg(&smb_conf)
        .output()
        .unwrap();
    let report = text(&doctor);
    println!("{report}");
    assert!(doctor.status.success(), "{report}{}", String::from_utf8_lossy(&doctor.stderr));
    assert!(report.contains("all 15 checks passed"), "{report}");

    // logrotate: the log is renamed, the next line starts a new one, nothing is lost.
    let before = std::fs::read_to_string("/var/log/policyc/audit.jsonl").unwrap().lines().count();
    assert!(before >= 3);
    run(Command::new("logrotate")
        .arg("-f")
        .arg("-s")
        .arg(w.join("logrotate.state"))
        .arg("/etc/logrotate.d/policyc"));
    let rotated = std::fs::read_to_string("/var/log/policyc/audit.jsonl.1").unwrap();
    assert_eq!(rotated.lines().count(), before);
    assert_eq!(hook("pat", "pat@example.com", "weak").status.code(), Some(1));
    let fresh = std::fs::read_to_string("/var/log/policyc/audit.jsonl").unwrap();
    assert_eq!(fresh.lines().count(), 1, "{fresh}");
    assert!(fresh.contains("\"rejected\""), "{fresh}");
    assert_eq!(mode("/var/log/policyc/audit.jsonl"), (0o640, 0, adm()));
    for file in common::files_under(Path::new("/var/lib/policyc"))
        .into_iter()
        .chain(common::files_under(Path::new("/var/log/policyc")))
    {
        let bytes = std::fs::read(&file).unwrap();
        assert!(
            !String::from_utf8_lossy(&bytes).contains("Canary"),
            "{} holds a password",
            file.display()
        );
    }

    // Purged: the binary, the queue (sealed passwords and key), the logs.
    drop(installed);
    for gone in [
        "/usr/bin/policyc",
        "/var/lib/policyc",
        "/var/log/policyc",
        "/lib/systemd/system/policyc-agent.service",
        "/etc/logrotate.d/policyc",
        "/usr/lib/x86_64-linux-gnu/security/pam_policyc.so",
        "/usr/lib/ldap/policyc_ppolicy.so",
        "/usr/include/policyc.h",
    ] {
        assert!(!Path::new(gone).exists(), "{gone} is left after dpkg --purge");
    }

    // The static binary: no loader, and it compiles and checks.
    let tarball = format!("target/dist/policyc-{VERSION}-x86_64-linux-musl.tar.gz");
    run(Command::new("tar").arg("-xzf").arg(&tarball).arg("-C").arg(w));
    let musl = w.join(format!("policyc-{VERSION}-x86_64-linux-musl/policyc"));
    assert!(
        !has_interpreter(&std::fs::read(&musl).unwrap()),
        "the musl binary is dynamically linked"
    );
    run(Command::new(&musl)
        .args(["compile", "policies/office365.policy", "-o"])
        .arg(w.join("o365.policyc")));
    let mut check = Command::new(&musl)
        .arg("check")
        .arg(w.join("o365.policyc"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write as _;
        check.stdin.take().unwrap().write_all(b"Tr0ub4dor&3-Staple\nshort\n").unwrap();
    }
    let out = check.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1), "one of two passwords fails: {}", text(&out));
}
