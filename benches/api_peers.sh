#!/usr/bin/env bash
# The loopback API beside its peers, interleaved: keyconsole's Encrypt of 1 KB (benches/api.sh:
# signed TC3-HMAC-SHA256, verified, encrypted and logged every time) on keystores of 1, 10,000 and
# 50,000 keys; nginx answering a fixed body of the same size (a real keyconsole answer, captured
# first) to the same POST, with its access log on, as the ceiling for any HTTP server on this
# machine; and moto's KMS server (`moto[server]`, the Python mock of AWS KMS that projects test
# against) encrypting 1 KB under one key. Every round runs every server once at each connection
# count, in turn. Prints requests/s and p99 per run, then medians and keyconsole as a share of nginx.
# Usage: benches/api_peers.sh [SECONDS] [ROUNDS] [CONNECTIONS...]   (defaults 10, 3, "8 32").
# KC_BEFORE_BIN=PATH also runs that keyconsole binary (an earlier build) in every round, right after
# this one at each keystore size, so a change is measured against what it replaces in one run.
# Installs wrk and nginx with apt-get when missing (as root) and moto into target/moto-venv.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
rounds=${2:-3}
shift $(($# > 2 ? 2 : $#))
connection_counts=("${@:-8 32}")
read -r -a connection_counts <<<"${connection_counts[*]}"
need=()
command -v wrk >/dev/null || need+=(wrk)
command -v nginx >/dev/null || need+=(nginx)
command -v curl >/dev/null || need+=(curl)
if [[ ${#need[@]} -gt 0 ]]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
if [[ ! -x target/moto-venv/bin/moto_server ]]; then
  python3 -m venv target/moto-venv
  target/moto-venv/bin/pip install --quiet 'moto[server]==5.1.*'
fi
cargo build --release --quiet
cargo build --release --quiet --example bench_keystore
work=$(mktemp -d "${TMPDIR:-/tmp}/kc-peers.XXXXXX")
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$work"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# "requests/s p99-in-ms" from wrk's report on stdin.
summarize() {
  awk '/Requests\/sec/ {rps = $2}
       / 99%/ {v = $2; if (v ~ /us$/) ms = v / 1000; else if (v ~ /ms$/) ms = v + 0; else if (v ~ /s$/) ms = v * 1000; }
       /^answers without/ {bad = $NF}
       /^cpu steal during the run/ {steal = $NF + 0}
       END {if (bad == "") bad = 0; printf "%.0f %.2f %s %.1f\n", rps, ms, bad, steal}'
}
source benches/wrk_with_steal.sh

# One real answer of keyconsole's to the benchmark's request: nginx sends the same bytes.
answer=$(KEYCONSOLE_KEYSTORE=$work/k.kcks KEYCONSOLE_PASSWORD=p sh -c '
  target/release/keyconsole init --kdf-memory-mib 8 >/dev/null 2>&1
  target/release/keyconsole key create --alias bench >/dev/null
  head -c 1024 /dev/urandom | target/release/keyconsole encrypt --key bench' | tr -d '\n')
key_id=$(uuidgen 2>/dev/null || python3 -c 'import uuid; print(uuid.uuid4())')
body="{\"Response\":{\"CiphertextBlob\":\"$answer\",\"KeyId\":\"$key_id\",\"RequestId\":\"$key_id\"}}"
nginx_port=$(free_port)
mkdir -p "$work/nginx"
cat >"$work/nginx/nginx.conf" <<NGINX
worker_processes $(nproc);
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 1024; }
http {
  access_log $work/nginx/access.log;
  client_body_temp_path $work/nginx/body;
  proxy_temp_path $work/nginx/proxy;
  fastcgi_temp_path $work/nginx/fastcgi;
  uwsgi_temp_path $work/nginx/uwsgi;
  scgi_temp_path $work/nginx/scgi;
  server {
    listen 127.0.0.1:$nginx_port;
    location / { default_type application/json; return 200 '$body'; }
  }
}
NGINX
nginx -c "$work/nginx/nginx.conf" -g 'daemon off;' &
pids+=($!)

moto_port=$(free_port)
target/moto-venv/bin/moto_server -H 127.0.0.1 -p "$moto_port" >"$work/moto.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
  curl -s -o /dev/null "http://127.0.0.1:$moto_port/" && break
  sleep 0.2
done
# moto routes by the service its (unchecked) SigV4 credential scope names.
aws_auth='AWS4-HMAC-SHA256 Credential=AKIDBENCH/20261123/us-east-1/kms/aws4_request, SignedHeaders=host, Signature=0'
moto_key=$(curl -s -X POST "http://127.0.0.1:$moto_port/" -H 'X-Amz-Target: TrentService.CreateKey' \
  -H 'Content-Type: application/x-amz-json-1.1' -H "Authorization: $aws_auth" -d '{}' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["KeyMetadata"]["KeyId"])')
plaintext=$(head -c 1024 /dev/urandom | base64 -w0)
cat >"$work/moto.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"KeyId": "$moto_key", "Plaintext": "$plaintext"}'
wrk.headers["Content-Type"] = "application/x-amz-json-1.1"
wrk.headers["X-Amz-Target"] = "TrentService.Encrypt"
wrk.headers["Authorization"] = "$aws_auth"
local threads = {}
setup = function(thread) table.insert(threads, thread) end
failures = 0
response = function(status, headers, body)
  if status ~= 200 or not string.find(body, "CiphertextBlob", 1, true) then failures = failures + 1 end
end
done = function(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do total = total + thread:get("failures") end
  io.write(string.format("answers without a CiphertextBlob: %d\n", total))
end
LUA
cat >"$work/nginx.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"KeyId": "bench", "Plaintext": "$plaintext"}'
wrk.headers["Content-Type"] = "application/json"
LUA

: >"$work/results"
for ((round = 1; round <= rounds; round++)); do
  for connections in "${connection_counts[@]}"; do
    line=$(wrk_with_steal -t1 -c"$connections" -d"${seconds}s" --latency -s "$work/nginx.lua" "http://127.0.0.1:$nginx_port/" | summarize)
    echo "nginx, fixed answer|$connections|$line" | tee -a "$work/results"
    for keys in 1 10000 50000; do
      line=$(KC_KEYS=$keys benches/api.sh "$seconds" "$connections" | summarize)
      echo "keyconsole, $keys key(s)|$connections|$line" | tee -a "$work/results"
      if [[ -n ${KC_BEFORE_BIN:-} ]]; then
        line=$(KC_BIN=$KC_BEFORE_BIN KC_KEYS=$keys benches/api.sh "$seconds" "$connections" | summarize)
        echo "keyconsole before, $keys key(s)|$connections|$line" | tee -a "$work/results"
      fi
    done
    line=$(wrk_with_steal -t1 -c"$connections" -d"${seconds}s" --latency -s "$work/moto.lua" "http://127.0.0.1:$moto_port/" | summarize)
    echo "moto KMS|$connections|$line" | tee -a "$work/results"
  done
done

echo
echo "$rounds interleaved rounds of ${seconds} s on $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), wrk -t1 on the same machine"
echo
python3 - "$work/results" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    name, conns, rest = line.rstrip("\n").split("|")
    rps, p99, bad, steal = rest.split()
    runs.setdefault((name, int(conns)), []).append((float(rps), float(p99), int(bad or 0), float(steal)))
nginx = {c: statistics.median(r[0] for r in v) for (n, c), v in runs.items() if n.startswith("nginx")}
print("| server | connections | requests/s (median) | runs | p99 ms (median) | p99 ms per run | % of nginx | failed answers | CPU steal per run |")
print("|---|---|---|---|---|---|---|---|---|")
order = lambda name: (0 if name.startswith("nginx") else 2 if name.startswith("moto") else 1, len(name), name)
for (name, conns), v in sorted(runs.items(), key=lambda kv: (kv[0][1], order(kv[0][0]))):
    rps = statistics.median(r[0] for r in v)
    p99 = statistics.median(r[1] for r in v)
    every = " / ".join(f"{r[0]:,.0f}" for r in v)
    p99s = " / ".join(f"{r[1]:.2f}" for r in v)
    steals = " / ".join(f"{r[3]:.1f}%" for r in v)
    share = f"{100 * rps / nginx[conns]:.1f}%" if conns in nginx else "-"
    print(f"| {name} | {conns} | {rps:,.0f} | {every} | {p99:.2f} | {p99s} | {share} | {sum(r[2] for r in v)} | {steals} |")
PY
