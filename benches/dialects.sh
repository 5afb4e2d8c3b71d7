#!/usr/bin/env bash
# Each cloud's way of encrypting 1 KB, side by side: Tencent's Encrypt (TC3-HMAC-SHA256), Huawei's
# encrypt-data (SDK-HMAC-SHA256) and JD's Encrypt (JDCLOUD2-HMAC-SHA256), each signed with its
# cloud's own credentials (benches/api.sh's requests), three `keyconsole serve` given wrk in turn,
# SECONDS at a time, ROUNDS times (benches/rounds.sh: the order rotated every round, pairs with
# more than 1% steal left out). Prints Huawei's and JD's requests/s as a share of Tencent's.
# Usage: benches/dialects.sh [ROUNDS] [SECONDS] [CONNECTIONS...]   (defaults 15, 3, 8)
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/api_server.sh
source benches/rounds.sh
read_round_arguments "8" "$@"
keys=1 scheme=http tls_args=()
works=()
trap 'for p in "${variant_pids[@]}"; do kill "$p" 2>/dev/null && wait "$p"; done; rm -rf "${works[@]}"' EXIT
for action in Encrypt HuaweiEncryptData JdEncrypt; do
  work=$(mktemp -d "${TMPDIR:-/tmp}/kc-dialect.XXXXXX")
  works+=("$work")
  start_api_server "$work"
  case $action in
    Encrypt) add_variant tencent "$work" ;;
    HuaweiEncryptData) add_variant huawei "$work" ;;
    JdEncrypt) add_variant jd "$work" ;;
  esac
done
run_rounds "${works[0]}/rounds.log" "$rounds" "$seconds" "${connections[@]}"
summarize "${works[0]}/rounds.log" tencent
