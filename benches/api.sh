#!/usr/bin/env bash
# Load on the loopback API from a second process: wrk sends Encrypt of 1 KB (POST, JSON body, signed
# TC3-HMAC-SHA256) to `keyconsole serve` as fast as its connections allow. The request is signed once
# and replayed (any request is valid for 5 minutes); the server still checks the signature, decodes,
# encrypts and answers every time. Prints wrk's requests/s and latency percentiles.
# Usage: benches/api.sh [SECONDS] [CONNECTIONS] [ACTION] [SCHEME]   (defaults 10, 8, Encrypt, http;
# installs wrk if missing, as root). ACTION GetSecretValue reads a 1 KB secret over Secrets Manager
# (SSM 2019-09-23) instead. SCHEME https runs `serve --tls` (the local CA's certificate) and wrk over
# TLS with keep-alive: the handshake is paid once per connection, as by any pooling client.
# ACTION SignByAsymmetricKey signs a 1 KB message with a key pair (KC_ALGORITHM: ECC_P256_R1 by
# default, RSA_PSS_SHA_256, ECDSA384 or SM2DSA). ACTION HuaweiEncryptData sends Huawei Cloud's
# encrypt-data (SDK-HMAC-SHA256) of 1 KB of text, JdEncrypt JD Cloud's Encrypt (JDCLOUD2) of 1 KB,
# each signed with that cloud's own credentials.
# KEYCONSOLE_AUDIT=off (in the environment) runs every process without the audit trail, to measure
# what the trail costs; the keystore's trail records that it was turned off.
# KC_USERS=N adds N users with the read-only policy first (the requests stay the owner's, so each
# one pays the policy lookup that users bring).
# KC_KEYS=N serves a keystore of N keys (written in one save by examples/bench_keystore.rs) and
# encrypts under one of them, to see what the keystore's size costs.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
connections=${2:-8}
action=${3:-Encrypt}
scheme=${4:-http}
tls_args=()
[[ $scheme == https ]] && tls_args=(--tls)
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
# KC_BIN: a binary built before (say, to compare two builds); otherwise this tree, built now.
[[ -n ${KC_BIN:-} ]] || cargo build --release --quiet
bin=${KC_BIN:-target/release/keyconsole}
keys=${KC_KEYS:-1}
work=$(mktemp -d "${TMPDIR:-/tmp}/kc-api.XXXXXX")
server=
trap '[[ -n $server ]] && kill $server 2>/dev/null && wait $server; rm -rf "$work"' EXIT
source benches/api_server.sh
start_api_server "$work"

source benches/wrk_with_steal.sh
# CPU time per request as well as requests/s: a VM's neighbours steal wall time (and with it
# requests/s) from one minute to the next, but not the CPU time each request costs. "server" is the
# keyconsole process (its workers and the audit trail's writer); "machine" is every CPU's busy time
# (wrk and the kernel's writeback included).
server_cpu() { awk '{print $14 + $15}' "/proc/$server/stat"; }
busy_cpu() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8}' /proc/stat; }
server_before=$(server_cpu) busy_before=$(busy_cpu)
wrk_with_steal -t1 -c"$connections" -d"${seconds}s" --latency -s "$work/encrypt.lua" "$scheme://$endpoint/" |
  tee "$work/wrk.out"
server_after=$(server_cpu) busy_after=$(busy_cpu)
awk -v r="$(awk '/requests in/ {print $1}' "$work/wrk.out")" -v hz="$(getconf CLK_TCK)" \
  -v s=$((server_after - server_before)) -v b=$((busy_after - busy_before)) \
  'BEGIN {if (r > 0) printf "CPU per request: server %.2f us, machine %.2f us\n", 1e6 * s / hz / r, 1e6 * b / hz / r}'
echo "access log lines written: $(grep -c ' UTC ' "$work/serve.log")"
