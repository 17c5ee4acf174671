#!/usr/bin/env bash
# The whole test suite, as the README gives it. Installs nothing by hand: cargo fetches the crates.
set -euo pipefail
cd "$(dirname "$0")/.."

# The end-to-end tests run a real Samba AD DC on 127.0.0.1 (tests/samba_e2e.rs), and two
# replicating DCs in network namespaces with GPG-encrypted cleartext (tests/samba_two_dcs.rs).
if ! command -v samba >/dev/null || ! command -v samba-tool >/dev/null || ! command -v ldapmodify >/dev/null \
  || ! command -v gpg >/dev/null || ! command -v ip >/dev/null; then
  echo "== installing the Samba AD DC packages for the end-to-end test"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    samba samba-dsdb-modules samba-vfs-modules samba-ad-provision ldap-utils krb5-user gpg gpg-agent iproute2 >/dev/null
fi

# The agent's clock test runs the hook under libfaketime (a clock that steps back); its queue
# test makes pending/ immutable (chattr, e2fsprogs), which even root cannot unlink in.
# The package test (tests/package.rs) rotates the audit log with the shipped logrotate file.
if ! command -v faketime >/dev/null || ! command -v chattr >/dev/null || ! command -v logrotate >/dev/null; then
  echo "== installing faketime, e2fsprogs and logrotate for the clock, queue and package tests"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends faketime e2fsprogs logrotate >/dev/null
fi

# The comparison bench (run once in test mode below) calls libpwquality and passwdqc.
if ! /sbin/ldconfig -p | grep -q libpwquality.so.1 || ! /sbin/ldconfig -p | grep -q libpasswdqc.so.1; then
  echo "== installing libpwquality and passwdqc for the comparison bench"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    libpwquality1 cracklib-runtime libpasswdqc1 >/dev/null
fi

# libpolicyc's C tests (crates/capi/tests/c_api.rs) compile C against the library and run it
# under AddressSanitizer and Valgrind, and ask pkg-config for the flags.
if ! command -v cc >/dev/null || ! command -v valgrind >/dev/null || ! command -v pkg-config >/dev/null; then
  echo "== installing gcc, valgrind and pkg-config for the C library's tests"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends gcc libc6-dev valgrind pkg-config >/dev/null
fi

# pam_policyc.so links libpam (libpam0g-dev) and is tested in a real PAM stack through
# pam_wrapper and pypamtest (crates/pam/tests/pam_wrapper.rs), with nothing in /etc/pam.d.
if [ ! -e /usr/lib/x86_64-linux-gnu/libpam.so ] || [ ! -e /usr/lib/x86_64-linux-gnu/libpam_wrapper.so ] \
  || ! /usr/bin/python3 -c 'import pypamtest' 2>/dev/null; then
  echo "== installing libpam0g-dev, libpam-wrapper and python3-pypamtest for the PAM module's tests"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends libpam0g-dev libpam-wrapper python3-pypamtest >/dev/null
fi

# policyc_ppolicy.so is tested in a real slapd (crates/ldap/tests/slapd.rs), started by the test
# on 127.0.0.1; the package's own slapd service is kept from starting (policy-rc.d).
if [ ! -x /usr/sbin/slapd ] || ! command -v ldappasswd >/dev/null; then
  echo "== installing slapd and ldap-utils for the OpenLDAP module's test (the service is not started)"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  blocker=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
    $sudo chmod +x /usr/sbin/policy-rc.d
    blocker=/usr/sbin/policy-rc.d
  fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends slapd ldap-utils >/dev/null
  if [ -n "$blocker" ]; then $sudo rm -f "$blocker"; fi
fi

# The self-service page is tested in Debian's headless Chromium, driven through chromedriver
# (tests/page.rs); its WebAssembly module is built by scripts/wasm.sh (the wasm32 target and the
# wasm-bindgen CLI at Cargo.lock's version are installed there if missing).
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
  echo "== installing chromium and chromium-driver for the self-service page's test"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
fi
scripts/wasm.sh

# ppm (OpenLDAP's check_password module) is not in Debian: the import and export tests compile
# ppm.c from OpenLDAP's source, fetched and checked here.
scripts/ppm-source.sh

# The Windows LSA filter: built for x86_64-pc-windows-gnu and run under Wine by
# tests/windows_filter.rs (which runs scripts/windows.sh itself; here it installs what it needs).
scripts/windows.sh

echo "== unit, integration, golden, property, end-to-end and doc tests (benches run once, in test mode)"
cargo test --locked --workspace --all-targets
cargo test --locked --workspace --doc

echo "== the Windows filter's own unit tests (on Linux: strings, settings)"
cargo test --locked --manifest-path lsa/Cargo.toml

echo "== the shipped policies' own cases (policyc test)"
cargo run --locked -q -- test policies/tests tests/cases

echo "== the embedded validator alone (no default features) builds, passes its unit tests, and has no compiler crates"
cargo test --locked -p policyc-runtime --no-default-features --lib
cargo test --locked -p policyc --no-default-features --doc
# Cargo already refuses an arrow from the runtime to the compiler (no such dependency can be
# declared without this check failing); the check stays, for what a feature could pull in.
forbid() { # forbid PACKAGE-AND-FLAGS -- CRATES…
  local args=() tree
  while [ "$1" != "--" ]; do args+=("$1"); shift; done
  shift
  tree=$(cargo tree --locked "${args[@]}" -e normal --prefix none)
  for forbidden in "$@"; do
    if grep -q "^$forbidden " <<<"$tree"; then
      echo "error: cargo tree ${args[*]} depends on $forbidden" >&2
      exit 1
    fi
  done
  echo "cargo tree ${args[*]}: none of $*"
}
forbid -p policyc-runtime --no-default-features -- policyc-compiler pest regex-syntax serde_norway clap
forbid -p policyc --no-default-features -- policyc-compiler pest regex-syntax serde_norway clap
forbid -p policyc-gate -- policyc-compiler pest regex-syntax serde_norway clap ureq ldap3
forbid -p policyc-agent -- policyc-compiler pest regex-syntax clap
# The browser module: no compiler and no gate; without strength rules no regex compiler either
# (zxcvbn's own patterns bring regex-syntax with them).
forbid -p policyc-wasm --target wasm32-unknown-unknown --no-default-features -- policyc-compiler policyc-gate pest regex-syntax serde_norway clap
forbid -p policyc-wasm --target wasm32-unknown-unknown -- policyc-compiler policyc-gate pest serde_norway clap
