#!/usr/bin/env bash
# What the audit trail costs the API: two `keyconsole serve` side by side, one with the trail
# ("trail") and one without ("no-trail", KEYCONSOLE_AUDIT=off), each given benches/api.sh's Encrypt
# of 1 KB by wrk in turn, SECONDS at a time, ROUNDS times (benches/rounds.sh: the order swapped
# every round, rounds with more than 1% steal left out, the median of the rounds' ratios). Also
# prints the medians of requests/s and of the server's CPU time per request.
# Usage: benches/audit_cost.sh [ROUNDS] [SECONDS] [CONNECTIONS...]   (defaults 15, 3, "8 32")
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/api_server.sh
source benches/rounds.sh
read_round_arguments "8 32" "$@"
keys=1 action=Encrypt scheme=http tls_args=()
unset KEYCONSOLE_AUDIT
work_on=$(mktemp -d "${TMPDIR:-/tmp}/kc-audit-on.XXXXXX")
work_off=$(mktemp -d "${TMPDIR:-/tmp}/kc-audit-off.XXXXXX")
trap 'for p in "${variant_pids[@]}"; do kill "$p" 2>/dev/null && wait "$p"; done; rm -rf "$work_on" "$work_off"' EXIT
start_api_server "$work_on"
add_variant trail "$work_on"
KEYCONSOLE_AUDIT=off start_api_server "$work_off"
add_variant no-trail "$work_off"
run_rounds "$work_on/rounds.log" "$rounds" "$seconds" "${connections[@]}"
summarize "$work_on/rounds.log" no-trail
