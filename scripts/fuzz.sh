#!/usr/bin/env bash
# Fuzzes every untrusted input (cargo-fuzz, libFuzzer, nightly): each target first replays its
# regression inputs (fuzz/regressions/TARGET/), then runs for SECONDS (default 60). CI runs it
# short; run it long with e.g. `scripts/fuzz.sh 3600`, or one target with
# `cargo +nightly fuzz run -O TARGET`. A crash fails the script and leaves its input in
# fuzz/artifacts/TARGET/ (add it to fuzz/regressions/TARGET/ once fixed).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"

if ! rustup run nightly rustc --version >/dev/null 2>&1; then
  echo "== installing the nightly toolchain (cargo-fuzz needs it)"
  rustup toolchain install nightly --profile minimal
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "== installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi

echo "== building the fuzz targets"
cargo +nightly fuzz build -O
for target in $(cargo +nightly fuzz list); do
  regressions="fuzz/regressions/$target"
  if [ -d "$regressions" ]; then
    echo "== $target: regression inputs"
    cargo +nightly fuzz run -O "$target" "$regressions"/* -- -runs=1
  fi
  # Seeds: real inputs of each kind, so that the fuzzer starts past the first checks.
  seeds=()
  case "$target" in
    artifact) seeds=(tests/golden/artifacts) ;;
    compile) seeds=(tests/golden/diagnostics tests/golden/fmt) ;;
    import_pwquality) seeds=(tests/golden/import/pwquality) ;;
    import_passwdqc) seeds=(tests/golden/import/passwdqc) ;;
    import_ppm) seeds=(tests/golden/import/ppm) ;;
    import_keycloak) seeds=(tests/golden/import/keycloak) ;;
    import_apple) seeds=(tests/golden/import/apple) ;;
    export_apple | export_checkers) seeds=(tests/golden/fmt tests/policies) ;;
    import_samba) seeds=(tests/golden/import/samba) ;;
    samba_blobs) seeds=(tests/golden/samba_blobs) ;;
  esac
  mkdir -p "fuzz/corpus/$target"
  echo "== $target: ${seconds} s"
  log=$(mktemp)
  if ! cargo +nightly fuzz run -O "$target" "fuzz/corpus/$target" "${seeds[@]}" -- -max_total_time="$seconds" -rss_limit_mb=2048 >"$log" 2>&1; then
    tail -40 "$log"
    rm -f "$log"
    echo "error: fuzz target $target failed (input in fuzz/artifacts/$target/)" >&2
    exit 1
  fi
  grep -E '^#[0-9]+.*DONE' "$log" | tail -1 | sed "s/^/$target: /"
  rm -f "$log"
done
