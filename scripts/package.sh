#!/usr/bin/env bash
# Builds what an administrator installs:
#   target/debian/policyc_VERSION_amd64.deb              Debian package (cargo-deb): binary, systemd
#                                                        units, logrotate, smb.conf snippet, example
#                                                        configuration, policies, docs
#   target/dist/policyc-VERSION-x86_64-linux-musl.tar.gz statically linked (musl) binary, the
#                                                        second option for other distributions
# Installs cargo-deb, the musl target and musl-tools when they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
if ! command -v cargo-deb >/dev/null; then
  echo "== installing cargo-deb"
  cargo install --locked --quiet cargo-deb@3.8.0
fi
if ! rustup target list --installed | grep -qx x86_64-unknown-linux-musl; then
  echo "== adding the x86_64-unknown-linux-musl target"
  rustup target add x86_64-unknown-linux-musl >/dev/null
fi
if ! command -v musl-gcc >/dev/null; then
  echo "== installing musl-tools (ring builds C for the musl target)"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends musl-tools >/dev/null
fi

version=$(cargo metadata --locked --no-deps --format-version 1 | python3 -c 'import json,sys; print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"]=="policyc"))')

echo "== Debian package"
cargo deb --locked --quiet --output "target/debian/policyc_${version}_amd64.deb"

echo "== static (musl) binary"
cargo build --locked --quiet --release --target x86_64-unknown-linux-musl --bin policyc
mkdir -p target/dist
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
dir="$stage/policyc-${version}-x86_64-linux-musl"
mkdir -p "$dir"
strip -o "$dir/policyc" target/x86_64-unknown-linux-musl/release/policyc
cp -r packaging "$dir/"
cp README.md "$dir/"
tar -C "$stage" -czf "target/dist/policyc-${version}-x86_64-linux-musl.tar.gz" "policyc-${version}-x86_64-linux-musl"

ls -l "target/debian/policyc_${version}_amd64.deb" "target/dist/policyc-${version}-x86_64-linux-musl.tar.gz"
