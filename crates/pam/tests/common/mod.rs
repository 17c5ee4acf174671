//! What the PAM tests and the chauthtok bench share: the module built by the cargo that runs
//! them and installed under its PAM name, the policies, a stack run through pam_wrapper.
#![allow(dead_code, reason = "each of the test and the bench uses a part")]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

pub const PAM_WRAPPER: &str = "/usr/lib/x86_64-linux-gnu/libpam_wrapper.so";
pub const SET_ITEMS: &str = "/usr/lib/x86_64-linux-gnu/pam_wrapper/pam_set_items.so";
pub const PAM_SUCCESS: i32 = 0;
pub const PAM_AUTHTOK_ERR: i32 = 20;

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The module, built by the cargo running this test (`cargo test` builds no cdylib), installed
/// under its PAM name, and the policies it enforces.
pub struct Setup {
    pub dir: tempfile::TempDir,
    pub module: PathBuf,
}

pub fn setup() -> &'static Setup {
    static S: OnceLock<Setup> = OnceLock::new();
    S.get_or_init(|| {
        for (file, package) in [
            (PAM_WRAPPER, "libpam-wrapper"),
            ("/usr/lib/python3/dist-packages/pypamtest.so", "python3-pypamtest"),
        ] {
            let found = Path::new(file).exists()
                || (package == "python3-pypamtest"
                    && Command::new("/usr/bin/python3")
                        .args(["-c", "import pypamtest"])
                        .status()
                        .is_ok_and(|s| s.success()));
            assert!(found, "{file} is missing: apt-get install {package}");
        }
        let exe = std::env::current_exe().unwrap();
        let profile = exe.parent().and_then(Path::parent).unwrap().to_path_buf();
        let mut cargo = Command::new(env!("CARGO"));
        cargo.args(["build", "-p", "policyc-pam", "--lib"]).current_dir(root());
        if profile.file_name().is_some_and(|n| n == "release") {
            cargo.arg("--release");
        }
        assert!(cargo.status().unwrap().success(), "building pam_policyc.so failed");
        let dir = tempfile::tempdir().unwrap();
        let module = dir.path().join("pam_policyc.so");
        std::fs::copy(profile.join("libpam_policyc.so"), &module).unwrap();
        for name in ["office365", "ad-default", "entra-password-protection"] {
            let source = root().join("policies").join(format!("{name}.policy"));
            let compiled = policyc_compiler::compile_path(&source, &Default::default()).unwrap();
            std::fs::write(dir.path().join(format!("{name}.policyc")), compiled.artifact).unwrap();
        }
        Setup { dir, module }
    })
}

/// What one password change showed, and how it ended.
#[derive(Debug)]
pub struct Change {
    pub errors: Vec<String>,
}

/// Runs a password change of `user` through a stack whose policyc line has `args`, answering
/// the prompts with `passwords`; it must end with `expected`.
pub fn change(service: &str, args: &str, user: &str, passwords: &[&str], expected: i32) -> Change {
    let s = setup();
    let services = s.dir.path().join(format!("services-{service}"));
    std::fs::create_dir_all(&services).unwrap();
    std::fs::write(
        services.join(service),
        format!(
            "password requisite {} {args}\npassword required {SET_ITEMS}\n",
            s.module.display()
        ),
    )
    .unwrap();
    let mut child = Command::new("/usr/bin/python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pamtest.py"))
        .args([service, user, &expected.to_string()])
        .env("LD_PRELOAD", PAM_WRAPPER)
        .env("PAM_WRAPPER", "1")
        .env("PAM_WRAPPER_SERVICE_DIR", &services)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(passwords.join("\n").as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{service}: expected {expected}\n{stdout}\n{stderr}");
    for p in passwords {
        assert!(
            !stdout.contains(p) && !stderr.contains(p),
            "a password in the output: {stdout}{stderr}"
        );
    }
    let json: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    let errors = json["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap().to_string())
        .collect();
    Change { errors }
}
