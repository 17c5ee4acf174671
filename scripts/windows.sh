#!/usr/bin/env bash
# Builds the Windows LSA filter (lsa/) for x86_64-pc-windows-gnu, and what running it under Wine
# needs, into target/windows/:
#   release/    policyc_filter.dll (the shipped DLL), policyc-filter-test.exe, policyc.exe (the
#               agent, a debug build)
#   panic-test/ the same, built with the `panic-test` feature (tests only)
#   both with bcryptprimitives.dll: a test-only shim for Wine 8.0, which lacks ProcessPrng
#   (Rust >= 1.78's std imports it; real Windows 10+ has it). Never install the shim.
# Installs the rustup target, mingw-w64 and wine64 when missing, and fails loudly if it can't.
set -euo pipefail
cd "$(dirname "$0")/.."

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
if ! rustup target list --installed | grep -qx x86_64-pc-windows-gnu; then
  echo "== adding the rustup target x86_64-pc-windows-gnu"
  rustup target add x86_64-pc-windows-gnu
fi
if ! command -v x86_64-w64-mingw32-gcc >/dev/null || [ ! -x /usr/lib/wine/wine64 ]; then
  echo "== installing mingw-w64 and wine64 for the Windows filter"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    gcc-mingw-w64-x86-64 wine64 >/dev/null
fi
for need in x86_64-w64-mingw32-gcc /usr/lib/wine/wine64; do
  command -v "$need" >/dev/null || { echo "error: $need is missing: cannot build or test the Windows filter" >&2; exit 1; }
done

out=target/windows
mkdir -p "$out/release" "$out/panic-test"
# The panic-test variant first (only the lsa crate is rebuilt for it, not its dependencies),
# then the shipped DLL: what stays in lsa/target is never the test variant.
lsa_build() {
  cargo build --locked --quiet --manifest-path lsa/Cargo.toml --target x86_64-pc-windows-gnu --release "$@"
}
built=lsa/target/x86_64-pc-windows-gnu/release
lsa_build --features panic-test
cp "$built/policyc_filter.dll" "$built/policyc-filter-test.exe" "$out/panic-test/"
lsa_build
cp "$built/policyc_filter.dll" "$built/policyc-filter-test.exe" "$out/release/"
# The agent for Windows, for the tests (debug: quick to build; docs/windows.md has the
# release build an administrator installs).
cargo build --locked --quiet --target x86_64-pc-windows-gnu --bin policyc
shim="$out/bcryptprimitives.dll"
if [ ! -f "$shim" ] || [ scripts/windows-shim.c -nt "$shim" ]; then
  x86_64-w64-mingw32-gcc -shared -O2 -o "$shim" scripts/windows-shim.c -ladvapi32
fi
cp "$shim" "$out/release/"
cp "$shim" "$out/panic-test/"
cp target/x86_64-pc-windows-gnu/debug/policyc.exe "$out/release/"
echo "windows filter: $(stat -c %s "$out/release/policyc_filter.dll") bytes -> $out/release/policyc_filter.dll"
