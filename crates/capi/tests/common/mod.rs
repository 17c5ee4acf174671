//! What the C tests and the latency bench share: the libraries built by the cargo that runs
//! them, the policies compiled once, the tools they need.
#![allow(dead_code, reason = "each of the test and the bench uses a part")]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// `target/<profile>`, where cargo puts the libraries, the header and the pkg-config files.
/// `cargo test` builds neither the shared nor the static library (no test links them): they
/// are built here, once, by the cargo that runs the test, with the same profile.
pub fn built() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(build).clone()
}

fn build() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(Path::parent).unwrap().to_path_buf();
    let mut cargo = Command::new(env!("CARGO"));
    cargo.args(["build", "-p", "policyc-capi", "--lib"]);
    if dir.file_name().is_some_and(|n| n == "release") {
        cargo.arg("--release");
    }
    let status = cargo.current_dir(root()).status().unwrap();
    assert!(status.success(), "building libpolicyc failed");
    for file in ["libpolicyc.so", "libpolicyc.a", "policyc.h", "policyc.pc"] {
        assert!(dir.join(file).exists(), "{} was not built in {}", file, dir.display());
    }
    dir
}

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The policies the C program checks against, compiled once.
pub struct Policies {
    _dir: tempfile::TempDir,
    pub office365: PathBuf,
    pub ad_default: PathBuf,
    pub entra: PathBuf,
    pub damaged: PathBuf,
}

pub fn policies() -> &'static Policies {
    static P: OnceLock<Policies> = OnceLock::new();
    P.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let compile = |name: &str| {
            let source = root().join("policies").join(format!("{name}.policy"));
            let options = policyc_compiler::CompileOptions::default();
            let compiled = policyc_compiler::compile_path(&source, &options)
                .unwrap_or_else(|e| panic!("{name}: {e:?}"));
            let path = dir.path().join(format!("{name}.policyc"));
            std::fs::write(&path, compiled.artifact).unwrap();
            path
        };
        let office365 = compile("office365");
        let ad_default = compile("ad-default");
        let entra = compile("entra-password-protection");
        let damaged = dir.path().join("damaged.policyc");
        let mut bytes = std::fs::read(&office365).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0xFF;
        std::fs::write(&damaged, bytes).unwrap();
        Policies { _dir: dir, office365, ad_default, entra, damaged }
    })
}

pub fn tool(name: &str) -> PathBuf {
    let found = std::env::var_os("PATH")
        .and_then(|p| std::env::split_paths(&p).map(|d| d.join(name)).find(|p| p.exists()));
    found.unwrap_or_else(|| {
        panic!("`{name}` is not installed: the C API tests need it (apt-get install gcc valgrind)")
    })
}

/// Compiles the C file `source` into `out` with `flags`, against the built header and linked to
/// the built `libpolicyc.so` (found again at run time through the rpath).
pub fn compile_c(source: &Path, out: &Path, flags: &[&str]) {
    let lib = built();
    let status = Command::new(tool("cc"))
        .args(flags)
        .arg("-I")
        .arg(&lib)
        .arg(source)
        .arg("-o")
        .arg(out)
        .arg("-L")
        .arg(&lib)
        .arg("-lpolicyc")
        .arg(format!("-Wl,-rpath,{}", lib.display()))
        .status()
        .unwrap();
    assert!(status.success(), "cc {} failed", source.display());
}
