#!/usr/bin/env bash
# The loopback API against the official Tencent Cloud SDKs: installs them (Python KMS and SSM into
# target/sdk-venv, Node.js into target/node-sdk), starts `keyconsole serve` on a free port with a
# fresh keystore, and runs scripts/sdk/: sdk_test.py (every KMS action over POST and GET),
# ssm_test.py (the Secrets Manager lifecycle), signatures_test.py (v1 signatures, unsigned
# payload), node_test.js (the Node.js SDK, KMS and SSM) and the seed document's sample
# (seed_sample.py). Each prints its count of checks. scripts/test.sh runs it after the Rust tests.
# Usage: scripts/sdk_test.sh [path/to/keyconsole]   (default: target/debug/keyconsole, built if missing)
set -euo pipefail
cd "$(dirname "$0")/.."

SDK_VERSION=3.1.192
# The SSM client's nearest release (it needs a common package at least this new).
SSM_SDK_VERSION=3.1.194
binary=${1:-target/debug/keyconsole}
[[ -x $binary ]] || cargo build --quiet
venv=target/sdk-venv

if [[ ! -x $venv/bin/python ]] || ! "$venv/bin/python" -c "import tencentcloud.kms, tencentcloud.ssm" 2>/dev/null; then
  rm -rf "$venv"
  if ! python3 -m venv "$venv" 2>/dev/null; then
    echo "scripts/sdk_test.sh: installing python3-venv" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
    rm -rf "$venv"
    /usr/bin/python3 -m venv "$venv"
  fi
  "$venv/bin/pip" install --quiet --disable-pip-version-check "tencentcloud-sdk-python-kms==$SDK_VERSION" \
    "tencentcloud-sdk-python-ssm==$SSM_SDK_VERSION"
fi

# The Node.js SDK (pinned), into target/node-sdk.
NODE_SDK_VERSION=4.1.313
node_sdk=target/node-sdk
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "scripts/sdk_test.sh: installing nodejs and npm" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi
if [[ ! -f $node_sdk/node_modules/tencentcloud-sdk-nodejs/package.json ]] ||
   ! grep -q "\"version\": \"$NODE_SDK_VERSION\"" "$node_sdk/node_modules/tencentcloud-sdk-nodejs/package.json"; then
  mkdir -p "$node_sdk"
  npm install --prefix "$node_sdk" --no-audit --no-fund --silent "tencentcloud-sdk-nodejs@$NODE_SDK_VERSION" >/dev/null 2>&1
fi

work=$(mktemp -d)
server=
cleanup() {
  [[ -n $server ]] && kill "$server" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

export KEYCONSOLE_KEYSTORE=$work/keystore.kcks
export KEYCONSOLE_PASSWORD=sdk-test-password-not-secret
"$binary" init --kdf-memory-mib 8 --kdf-iterations 1 >/dev/null 2>&1
"$binary" api credentials >"$work/credentials"
KEYCONSOLE_SECRET_ID=$(awk '/^SecretId:/ {print $2}' "$work/credentials")
KEYCONSOLE_SECRET_KEY=$(awk '/^SecretKey:/ {print $2}' "$work/credentials")
export KEYCONSOLE_SECRET_ID KEYCONSOLE_SECRET_KEY
"$binary" key create --alias seed-config-key >/dev/null

"$binary" serve --listen 127.0.0.1:0 >"$work/serve.log" 2>&1 &
server=$!
endpoint=
for _ in $(seq 100); do
  endpoint=$(grep -o -m1 '127\.0\.0\.1:[0-9]*' "$work/serve.log" || true)
  [[ -n $endpoint ]] && break
  kill -0 "$server" 2>/dev/null || { cat "$work/serve.log" >&2; exit 1; }
  sleep 0.1
done
[[ -n $endpoint ]] || { echo "keyconsole serve did not start" >&2; cat "$work/serve.log" >&2; exit 1; }

"$venv/bin/python" scripts/sdk/sdk_test.py "$endpoint"
"$venv/bin/python" scripts/sdk/ssm_test.py "$endpoint"
"$venv/bin/python" scripts/sdk/signatures_test.py "$endpoint"
NODE_PATH=$node_sdk/node_modules node scripts/sdk/node_test.js "$endpoint"
(cd "$work" && "$OLDPWD/$venv/bin/python" "$OLDPWD/scripts/sdk/seed_sample.py" "$endpoint" seed-config-key >/dev/null)
echo "the seed's sample encrypted and decrypted through keyconsole"

# The access log has every request and nothing secret in it.
grep -q ' Encrypt key=seed-config-key Success\| Encrypt key=[0-9a-f-]* Success' "$work/serve.log"
if grep -q "$KEYCONSOLE_SECRET_KEY\|this plaintext for test\|dGhpcyBwbGFpbnRleHQgZm9yIHRlc3Q" "$work/serve.log"; then
  echo "the access log holds a secret" >&2
  exit 1
fi
kill -TERM "$server"
wait "$server"
server=
echo "keyconsole serve stopped cleanly on SIGTERM"
