#!/usr/bin/env bash
# ppm's source, for the import and export tests against the real ppm.c (tests/import.rs,
# tests/export.rs): Debian ships no ppm, so the tests compile ppm.c from OpenLDAP's own source,
# Debian's orig tarball of OpenLDAP 2.6.10 (trixie), checked against its SHA-256 from the
# Debian source package. Only ppm.c and ppm.h are kept, under target/ppm-src/ (nothing of it
# is committed); the test compiles them against a stub of slap.h.
set -euo pipefail
cd "$(dirname "$0")/.."

version=2.6.10
sha256=e871102bda1e42155fd4d6be4825a297e1c593cb0907b84fc7dde888dc847877
url="http://deb.debian.org/debian/pool/main/o/openldap/openldap_${version}+dfsg.orig.tar.xz"
out=target/ppm-src

if [ -f "$out/ppm.c" ] && [ -f "$out/ppm.h" ] && [ "$(cat "$out/VERSION" 2>/dev/null)" = "$version" ]; then
  exit 0
fi
echo "== fetching ppm.c from OpenLDAP $version (Debian's orig tarball) for the ppm tests"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
curl -fsS --retry 3 -o "$tmp/openldap.tar.xz" "$url"
echo "$sha256  $tmp/openldap.tar.xz" | sha256sum -c --quiet -
tar -xJf "$tmp/openldap.tar.xz" -C "$tmp" \
  "openldap-${version}/contrib/slapd-modules/ppm/ppm.c" "openldap-${version}/contrib/slapd-modules/ppm/ppm.h"
mkdir -p "$out"
cp "$tmp/openldap-${version}/contrib/slapd-modules/ppm/ppm.c" "$tmp/openldap-${version}/contrib/slapd-modules/ppm/ppm.h" "$out/"
echo "$version" > "$out/VERSION"
