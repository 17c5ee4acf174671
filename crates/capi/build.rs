//! Generates `policyc.h` (cbindgen) and the pkg-config files beside the built libraries:
//! `target/<profile>/{policyc.h, policyc.pc, policyc-uninstalled.pc}`.

use std::path::{Path, PathBuf};

fn main() {
    let crate_dir = PathBuf::from(env("CARGO_MANIFEST_DIR"));
    let out = PathBuf::from(env("OUT_DIR"));
    println!("cargo::rerun-if-changed=src");
    println!("cargo::rerun-if-changed=cbindgen.toml");
    let config = match cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")) {
        Ok(c) => c,
        Err(e) => fail(&format!("cbindgen.toml: {e}")),
    };
    let header = out.join("policyc.h");
    match cbindgen::Builder::new().with_crate(&crate_dir).with_config(config).generate() {
        Ok(bindings) => {
            bindings.write_to_file(&header);
        }
        Err(e) => fail(&format!("generating policyc.h: {e}")),
    }
    // OUT_DIR is target/<profile>/build/<crate>-<hash>/out: the libraries are three levels up.
    let Some(profile_dir) = out.ancestors().nth(3) else {
        fail("OUT_DIR has no profile directory")
    };
    copy(&header, &profile_dir.join("policyc.h"));
    let version = env("CARGO_PKG_VERSION");
    let pc = |prefix: &str, libdir: &str, includedir: &str| {
        format!(
            "prefix={prefix}\nlibdir={libdir}\nincludedir={includedir}\n\n\
             Name: policyc\nDescription: policyc's password-policy validator and gate\n\
             Version: {version}\nLibs: -L${{libdir}} -lpolicyc\n\
             Libs.private: -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc\n\
             Cflags: -I${{includedir}}\n"
        )
    };
    write(
        &profile_dir.join("policyc.pc"),
        &pc("/usr", "${prefix}/lib/x86_64-linux-gnu", "${prefix}/include"),
    );
    let here = profile_dir.display().to_string();
    write(&profile_dir.join("policyc-uninstalled.pc"), &pc(&here, "${prefix}", "${prefix}"));
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| fail(&format!("{name} is not set")))
}

fn copy(from: &Path, to: &Path) {
    if let Err(e) = std::fs::copy(from, to) {
        fail(&format!("copying {} to {}: {e}", from.display(), to.display()));
    }
}

fn write(path: &Path, text: &str) {
    if let Err(e) = std::fs::write(path, text) {
        fail(&format!("writing {}: {e}", path.display()));
    }
}

fn fail(why: &str) -> ! {
    println!("cargo::error={why}");
    std::process::exit(1)
}
