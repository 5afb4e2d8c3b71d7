# Sourced by the API benchmarks: `start_api_server WORK` makes a keystore in the folder WORK with
# the key (and secret, key pair, users) that $action needs, starts `keyconsole serve` on a free
# loopback port ($scheme), and writes WORK/encrypt.lua, the signed request wrk replays. Sets
# `server` (its process) and `endpoint`. Reads $bin, $keys, $action, $scheme, $tls_args and the
# KC_* settings benches/api.sh describes; KEYCONSOLE_AUDIT=off in the environment is passed on.
start_api_server() {
  local work=$1
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
  for i in $(seq "${KC_USERS:-0}"); do $bin user create "bench-user-$i" --preset read-only >/dev/null; done
  $bin api credentials >"$work/credentials"
  case $action in
    HuaweiEncryptData) $bin api credentials --cloud huawei >"$work/credentials" ;;
    JdEncrypt) $bin api credentials --cloud jd >"$work/credentials" ;;
  esac

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
secret_id, secret_key = [v.strip() for v in credentials.values()][:2]
path = "/"
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
if action in ("HuaweiEncryptData", "JdEncrypt"):
    service = version = None
ts = int(time.time()); date = time.strftime("%Y-%m-%d", time.gmtime(ts))
h = lambda b: hashlib.sha256(b.encode()).hexdigest()
mac = lambda key, text: hmac.new(key, text.encode(), hashlib.sha256)
sdk_date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(ts))
if action == "HuaweiEncryptData":
    # SDK-HMAC-SHA256: the canonical URI ends in "/", the secret key signs directly.
    expect, path = "cipher_text", "/v1.0/0123456789abcdef/kms/encrypt-data"
    body = json.dumps({"key_id": "bench", "plain_text": "x" * 1024})
    canonical = (f"POST\n{path}/\n\ncontent-type:application/json;charset=utf-8\nhost:{endpoint}\n"
                 f"x-sdk-date:{sdk_date}\n\ncontent-type;host;x-sdk-date\n{h(body)}")
    signature = mac(secret_key.encode(), f"SDK-HMAC-SHA256\n{sdk_date}\n{h(canonical)}").hexdigest()
    headers = {"Content-Type": "application/json;charset=utf-8", "X-Sdk-Date": sdk_date,
               "Authorization": f"SDK-HMAC-SHA256 Access={secret_id}, SignedHeaders=content-type;host;x-sdk-date, "
               f"Signature={signature}"}
elif action == "JdEncrypt":
    # JDCLOUD2-HMAC-SHA256 (the Go and Node.js SDKs' version), SigV4's key derivation.
    expect, path = "ciphertextBlob", "/v1/key/bench:Encrypt"
    body = json.dumps({"plaintext": base64.b64encode(os.urandom(1024)).decode()})
    day, nonce = sdk_date[:8], "0d6d4a3c-6f7e-4c1f-9c62-8a3f2c1b5e7d"
    canonical = (f"POST\n{path}\n\ncontent-type:application/json\nhost:{endpoint}\nx-jdcloud-date:{sdk_date}\n"
                 f"x-jdcloud-nonce:{nonce}\n\ncontent-type;host;x-jdcloud-date;x-jdcloud-nonce\n{h(body)}")
    scope = f"{day}/jdcloud-api/kms/jdcloud2_request"
    key = ("JDCLOUD2" + secret_key).encode()
    for part in (day, "jdcloud-api", "kms", "jdcloud2_request"):
        key = mac(key, part).digest()
    signature = mac(key, f"JDCLOUD2-HMAC-SHA256\n{sdk_date}\n{scope}\n{h(canonical)}").hexdigest()
    headers = {"Content-Type": "application/json", "X-Jdcloud-Date": sdk_date, "X-Jdcloud-Nonce": nonce,
               "Authorization": f"JDCLOUD2-HMAC-SHA256 Credential={secret_id}/{scope}, "
               f"SignedHeaders=content-type;host;x-jdcloud-date;x-jdcloud-nonce, Signature={signature}"}
else:
    canonical = f"POST\n/\n\ncontent-type:application/json\nhost:{endpoint}\n\ncontent-type;host\n{h(body)}"
    to_sign = f"TC3-HMAC-SHA256\n{ts}\n{date}/{service}/tc3_request\n{h(canonical)}"
    key = ("TC3" + secret_key).encode()
    for part in (date, service, "tc3_request"):
        key = mac(key, part).digest()
    signature = mac(key, to_sign).hexdigest()
    headers = {"Content-Type": "application/json", "X-TC-Action": action, "X-TC-Version": version,
               "X-TC-Timestamp": str(ts), "Authorization": f"TC3-HMAC-SHA256 Credential={secret_id}/{date}/{service}/tc3_request, "
               f"SignedHeaders=content-type;host, Signature={signature}"}
print('wrk.method = "POST"')
print(f'wrk.path = "{path}"')
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
}
