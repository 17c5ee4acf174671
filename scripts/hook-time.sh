#!/usr/bin/env bash
# The Samba hook's start-to-exit time per reset (BENCHMARKS.md, "Artifact load and the hook"):
# N resets in a bash loop, minus the same loop running /bin/true, for the shipped office365 and
# Entra policies, one password accepted and one refused by each. The account's givenName and sn
# come from the file-backed directory double (as they would from Samba's ldapi). By hand:
#   scripts/hook-time.sh [N]      (release build; default N = 300)
# With STORE=DIR (a store from `policyc store build`), office365 plus `not in` that store is
# timed too (policies/office365.policy with the rule added: "office365+store").
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-300}
cargo build --release -q
bin=$PWD/target/release/policyc
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
printf '{"accounts":{"alice":{"attributes":{"givenName":["Erin"],"sn":["Hagens"]}}}}' >"$dir/directory.json"
export SAMBA_CPS_ACCOUNT_NAME=alice SAMBA_CPS_USER_PRINCIPAL_NAME=alice@corp.example SAMBA_CPS_FULL_NAME="Erin Hagens"

# Milliseconds per run of "$@" with $2 on stdin, N times.
per_run() {
  local input=$1 start end
  shift
  start=$(date +%s%N)
  for ((i = 0; i < n; i++)); do printf '%s' "$input" | "$@" >/dev/null 2>&1 || true; done
  end=$(date +%s%N)
  echo $(((end - start) / n))
}

base=$(per_run x /bin/true)
printf 'bash loop with /bin/true: %d.%02d ms per run (subtracted below)\n' $((base / 1000000)) $((base / 10000 % 100))
policies="office365 entra-password-protection"
if [[ -n ${STORE:-} ]]; then
  sed -e "s|^  rule length |  store pwned = \"$STORE\"\n  rule breached \"This password appeared in a data breach.\" : not in pwned\n  rule length |" \
    policies/office365.policy >"$dir/office365+store.policy"
  policies+=" office365+store"
fi
for policy in $policies; do
  src=policies/$policy.policy
  [[ -f $src ]] || src=$dir/$policy.policy
  "$bin" compile "$src" -o "$dir/$policy.policyc" >/dev/null 2>&1
  cat >"$dir/$policy.yaml" <<EOF
policy: $dir/$policy.policyc
queue: $dir/queue-$policy
audit_log: $dir/audit-$policy.jsonl
directory: {kind: file, path: $dir/directory.json}
graph: {base_url: 'https://graph.microsoft.com', token_url: 'https://login.microsoftonline.com/t/oauth2/v2.0/token', client_id: x, client_secret: y}
EOF
  for case in "accept:Xq7#vLm2\$pT9-quartz" "refuse:password12"; do
    t=$(per_run "${case#*:}" "$bin" hook samba --config "$dir/$policy.yaml")
    t=$((t - base))
    printf '%-28s %-7s %d.%02d ms\n' "$policy" "${case%%:*}" $((t / 1000000)) $((t / 10000 % 100))
  done
  grep -q '"outcome":"accepted"' "$dir/audit-$policy.jsonl" || { echo "error: $policy never accepted" >&2; exit 1; }
  grep -q '"outcome":"rejected"' "$dir/audit-$policy.jsonl" || { echo "error: $policy never refused" >&2; exit 1; }
done
