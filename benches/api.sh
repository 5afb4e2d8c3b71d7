#!/usr/bin/env bash
# Load on the loopback API from a second process: wrk sends Encrypt of 1 KB (POST, JSON body, signed
# TC3-HMAC-SHA256) to `keyconsole serve` as fast as its connections allow. The request is signed once
# and replayed (any request is valid for 5 minutes); the server still checks the signature, decodes,
# encrypts and answers every time. Prints wrk's requests/s and latency percentiles.
# Usage: benches/api.sh [SECONDS] [CONNECTIONS]   (defaults 10 and 8; installs wrk if missing, as root)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
connections=${2:-8}
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
cargo build --release --quiet
bin=target/release/keyconsole
work=$(mktemp -d "${TMPDIR:-/tmp}/kc-api.XXXXXX")
server=
trap '[[ -n $server ]] && kill $server 2>/dev/null && wait $server; rm -rf "$work"' EXIT
export KEYCONSOLE_KEYSTORE=$work/keystore.kcks KEYCONSOLE_PASSWORD=benchmark-password
$bin init --kdf-memory-mib 8 >/dev/null 2>&1
$bin key create --alias bench >/dev/null
$bin api credentials >"$work/credentials"

# The access log goes where a service's stdout usually goes: a file.
$bin serve --listen 127.0.0.1:0 >"$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 100); do
  endpoint=$(grep -o -m1 '127\.0\.0\.1:[0-9]*' "$work/serve.log" || true)
  [[ -n $endpoint ]] && break
  sleep 0.1
done

python3 - "$endpoint" "$work/credentials" >"$work/encrypt.lua" <<'PY'
import base64, hashlib, hmac, json, os, sys, time
endpoint, credentials = sys.argv[1], dict(l.split(":", 1) for l in open(sys.argv[2]))
secret_id, secret_key = credentials["SecretId"].strip(), credentials["SecretKey"].strip()
body = json.dumps({"KeyId": "bench", "Plaintext": base64.b64encode(os.urandom(1024)).decode()})
ts = int(time.time()); date = time.strftime("%Y-%m-%d", time.gmtime(ts))
h = lambda b: hashlib.sha256(b.encode()).hexdigest()
canonical = f"POST\n/\n\ncontent-type:application/json\nhost:{endpoint}\n\ncontent-type;host\n{h(body)}"
to_sign = f"TC3-HMAC-SHA256\n{ts}\n{date}/kms/tc3_request\n{h(canonical)}"
key = ("TC3" + secret_key).encode()
for part in (date, "kms", "tc3_request"):
    key = hmac.new(key, part.encode(), hashlib.sha256).digest()
signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
headers = {"Content-Type": "application/json", "X-TC-Action": "Encrypt", "X-TC-Version": "2019-01-18",
           "X-TC-Timestamp": str(ts), "Authorization": f"TC3-HMAC-SHA256 Credential={secret_id}/{date}/kms/tc3_request, "
           f"SignedHeaders=content-type;host, Signature={signature}"}
print('wrk.method = "POST"')
print(f"wrk.body = {json.dumps(body)}")
for name, value in headers.items():
    print(f'wrk.headers["{name}"] = "{value}"')
# Count answers that are not a success, so a benchmark of errors cannot pass for one of Encrypt.
# (Each wrk thread has its own Lua state; done() reads their counters through setup's handles.)
print('''local threads = {}
setup = function(thread) table.insert(threads, thread) end
failures = 0
response = function(status, headers, body)
  if status ~= 200 or not string.find(body, "CiphertextBlob", 1, true) then failures = failures + 1 end
end
done = function(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do total = total + thread:get("failures") end
  io.write(string.format("answers without a CiphertextBlob: %d\\n", total))
end''')
PY

wrk -t1 -c"$connections" -d"${seconds}s" --latency -s "$work/encrypt.lua" "http://$endpoint/"
echo "access log lines written: $(wc -l <"$work/serve.log")"
