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
# default, RSA_PSS_SHA_256, ECDSA384 or SM2DSA).
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
cargo build --release --quiet
bin=${KC_BIN:-target/release/keyconsole}
keys=${KC_KEYS:-1}
work=$(mktemp -d "${TMPDIR:-/tmp}/kc-api.XXXXXX")
server=
trap '[[ -n $server ]] && kill $server 2>/dev/null && wait $server; rm -rf "$work"' EXIT
export KEYCONSOLE_KEYSTORE=$work/keystore.kcks KEYCONSOLE_PASSWORD=benchmark-password
if [[ $keys -gt 1 ]]; then
  cargo run --release --quiet --example bench_keystore -- "$KEYCONSOLE_KEYSTORE" "$keys"
  $bin key update app-00042 --alias bench >/dev/null
else
  $bin init --kdf-memory-mib 8 >/dev/null 2>&1
  $bin key create --alias bench >/dev/null
fi
head -c 768 /dev/urandom | base64 -w0 | $bin secret create bench-secret --value-stdin --key bench 2>/dev/null
algorithm=${KC_ALGORITHM:-ECC_P256_R1}
case $algorithm in
  RSA_PSS_SHA_256 | RSA_PKCS1_SHA_256) usage=ASYMMETRIC_SIGN_VERIFY_RSA_2048 ;;
  ECDSA384) usage=ASYMMETRIC_SIGN_VERIFY_ECDSA384 ;;
  SM2DSA) usage=ASYMMETRIC_SIGN_VERIFY_SM2 ;;
  *) usage=ASYMMETRIC_SIGN_VERIFY_ECC ;;
esac
[[ $action == SignByAsymmetricKey ]] && $bin key create --alias bench-sign --usage "$usage" >/dev/null
$bin api credentials >"$work/credentials"

# The access log goes where a service's stdout usually goes: a file.
$bin serve --listen 127.0.0.1:0 "${tls_args[@]}" ${KC_SERVE_ARGS:-} >"$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 100); do
  endpoint=$(grep -o -m1 '127\.0\.0\.1:[0-9]*' "$work/serve.log" || true)
  [[ -n $endpoint ]] && break
  sleep 0.1
done

python3 - "$endpoint" "$work/credentials" "$action" "$algorithm" >"$work/encrypt.lua" <<'PY'
import base64, hashlib, hmac, json, os, sys, time
endpoint, credentials, action = sys.argv[1], dict(l.split(":", 1) for l in open(sys.argv[2])), sys.argv[3]
algorithm = sys.argv[4]
secret_id, secret_key = credentials["SecretId"].strip(), credentials["SecretKey"].strip()
if action == "GetSecretValue":
    service, version, expect = "ssm", "2019-09-23", "SecretString"
    body = json.dumps({"SecretName": "bench-secret", "VersionId": "SSM_v1"})
elif action == "SignByAsymmetricKey":
    service, version, expect = "kms", "2019-01-18", "Signature"
    body = json.dumps({"KeyId": "bench-sign", "Algorithm": algorithm,
                       "Message": base64.b64encode(os.urandom(1024)).decode(), "MessageType": "RAW"})
else:
    service, version, expect = "kms", "2019-01-18", "CiphertextBlob"
    body = json.dumps({"KeyId": "bench", "Plaintext": base64.b64encode(os.urandom(1024)).decode()})
ts = int(time.time()); date = time.strftime("%Y-%m-%d", time.gmtime(ts))
h = lambda b: hashlib.sha256(b.encode()).hexdigest()
canonical = f"POST\n/\n\ncontent-type:application/json\nhost:{endpoint}\n\ncontent-type;host\n{h(body)}"
to_sign = f"TC3-HMAC-SHA256\n{ts}\n{date}/{service}/tc3_request\n{h(canonical)}"
key = ("TC3" + secret_key).encode()
for part in (date, service, "tc3_request"):
    key = hmac.new(key, part.encode(), hashlib.sha256).digest()
signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
headers = {"Content-Type": "application/json", "X-TC-Action": action, "X-TC-Version": version,
           "X-TC-Timestamp": str(ts), "Authorization": f"TC3-HMAC-SHA256 Credential={secret_id}/{date}/{service}/tc3_request, "
           f"SignedHeaders=content-type;host, Signature={signature}"}
print('wrk.method = "POST"')
print(f"wrk.body = {json.dumps(body)}")
for name, value in headers.items():
    print(f'wrk.headers["{name}"] = "{value}"')
# Count answers that are not a success, so a benchmark of errors cannot pass for one of Encrypt.
# (Each wrk thread has its own Lua state; done() reads their counters through setup's handles.)
print(f'local expect = "{expect}"')
print('''local threads = {}
setup = function(thread) table.insert(threads, thread) end
failures = 0
response = function(status, headers, body)
  if status ~= 200 or not string.find(body, expect, 1, true) then failures = failures + 1 end
end
done = function(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do total = total + thread:get("failures") end
  io.write(string.format("answers without a %s: %d\\n", expect, total))
end''')
PY

source benches/wrk_with_steal.sh
wrk_with_steal -t1 -c"$connections" -d"${seconds}s" --latency -s "$work/encrypt.lua" "$scheme://$endpoint/"
echo "access log lines written: $(grep -c ' UTC ' "$work/serve.log")"
