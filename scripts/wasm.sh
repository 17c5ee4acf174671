#!/usr/bin/env bash
# Builds the browser module (crates/wasm) twice, bound by wasm-bindgen for ES modules:
#   target/wasm/lean/   without strength rules (zxcvbn): what most policies need, ~150 KB gzip
#   target/wasm/full/   with them, ~950 KB gzip
# each holding policyc_wasm.js and policyc_wasm_bg.wasm. `policyc page` copies the one its
# policies need. Installs what it needs: the wasm32 target, and the wasm-bindgen CLI at the
# exact version Cargo.lock pins (the CLI and the crate must match).
set -euo pipefail
cd "$(dirname "$0")/.."
if command -v rustup > /dev/null && ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  rustup target add wasm32-unknown-unknown
fi
version=$(awk '$0 == "name = \"wasm-bindgen\"" { getline; gsub(/version = |"/, ""); print }' Cargo.lock)
if [ "$(wasm-bindgen --version 2> /dev/null)" != "wasm-bindgen $version" ]; then
  cargo install --quiet wasm-bindgen-cli --version "$version"
fi
build() {
  cargo build --locked --quiet -p policyc-wasm --target wasm32-unknown-unknown --profile wasm "$@"
}
bind() {
  wasm-bindgen --target web --no-typescript --remove-name-section --remove-producers-section \
    --out-dir "target/wasm/$1" target/wasm32-unknown-unknown/wasm/policyc_wasm.wasm
}
build --no-default-features && bind lean
build && bind full
for flavour in lean full; do
  echo "target/wasm/$flavour: $(wc -c < "target/wasm/$flavour/policyc_wasm_bg.wasm") bytes of module"
done
