#!/usr/bin/env bash
# The whole test suite, as the README gives it. Installs nothing by hand: cargo fetches the crates.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== unit, integration, golden, property and doc tests"
cargo test --locked --all-targets
cargo test --locked --doc

echo "== the embedded validator alone (no default features) builds, passes its unit tests, and has no compiler crates"
cargo test --locked --lib --no-default-features
tree=$(cargo tree --locked --no-default-features -e normal --prefix none)
for forbidden in pest regex-syntax serde_norway serde_yaml clap; do
  if grep -q "^$forbidden " <<<"$tree"; then
    echo "error: the runtime-only build depends on $forbidden" >&2
    exit 1
  fi
done
echo "runtime-only dependency tree is clean"
