#!/usr/bin/env bash
# Builds the native enforcement points (release), named as they are installed:
#   target/release/libpolicyc.so, libpolicyc.a   the C library (crates/capi)
#   target/release/policyc.h, policyc.pc         its header (cbindgen) and pkg-config file
#   target/release/pam_policyc.so                the PAM module (crates/pam)
#   target/release/policyc_ppolicy.so            the OpenLDAP ppolicy check module (crates/ldap;
#                                                OpenLDAP 2.6's ABI: POLICYC_OPENLDAP=2.6)
# Cargo names every shared library lib*.so; PAM and slapd load modules by file name, so the two
# modules are copied to the names their configuration lines use.
set -euo pipefail
cd "$(dirname "$0")/.."
features=()
[ "${POLICYC_OPENLDAP:-2.5}" = "2.6" ] && features=(--features policyc-ldap/openldap-2-6)
cargo build --locked --quiet --release -p policyc-capi -p policyc-pam -p policyc-ldap "${features[@]}"
cp target/release/libpam_policyc.so target/release/pam_policyc.so
cp target/release/libpolicyc_ppolicy.so target/release/policyc_ppolicy.so
ls -l target/release/{libpolicyc.so,libpolicyc.a,policyc.h,policyc.pc,pam_policyc.so,policyc_ppolicy.so}
