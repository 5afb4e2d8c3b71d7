#!/usr/bin/env bash
# The loopback API against the official Tencent Cloud clients: installs them (Python KMS and SSM
# into target/sdk-venv, tccli into target/tccli-venv, Node.js into target/node-sdk), starts
# `keyconsole serve` twice on free ports with a fresh keystore, over HTTP and over HTTPS with the
# local CA, and runs scripts/sdk/ against both: sdk_test.py (every KMS action over POST and GET),
# key_pairs_test.py (key pairs, SM4 and imported material, checked with `cryptography` and OpenSSL),
# ssm_test.py (the Secrets Manager lifecycle), users_test.py and audit_test.py (a team's users,
# CloudAudit's LookUpEvents over the audit trail), signatures_test.py (v1 signatures, unsigned
# payload), node_test.js (the Node.js SDK, KMS and SSM), tccli_test.py (the command-line client),
# conformance.py (every served action and parameter against the SDK's models and the codes the
# cloud documents; the README's coverage table must be what it finds), and the seed document's
# sample (seed_sample.py) over HTTP. Each prints "N passed, 0 failed".
# scripts/test.sh runs it after the Rust tests.
# Usage: scripts/sdk_test.sh [path/to/keyconsole]   (default: target/debug/keyconsole, built if missing)
set -euo pipefail
cd "$(dirname "$0")/.."

SDK_VERSION=3.1.192
# The SSM client's nearest release (it needs a common package at least this new).
SSM_SDK_VERSION=3.1.194
PYMYSQL_VERSION=1.1.1
# Python's `cryptography`, the outside check of signatures and encryption (key_pairs_test.py).
CRYPTOGRAPHY_VERSION=44.0.0
binary=${1:-target/debug/keyconsole}
[[ -x $binary ]] || cargo build --quiet
venv=target/sdk-venv

if [[ ! -x $venv/bin/python ]] || ! "$venv/bin/python" -c "import tencentcloud.kms, tencentcloud.ssm, pymysql, cryptography" 2>/dev/null; then
  rm -rf "$venv"
  if ! python3 -m venv "$venv" 2>/dev/null; then
    echo "scripts/sdk_test.sh: installing python3-venv" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
    rm -rf "$venv"
    /usr/bin/python3 -m venv "$venv"
  fi
  "$venv/bin/pip" install --quiet --disable-pip-version-check "tencentcloud-sdk-python-kms==$SDK_VERSION" \
    "tencentcloud-sdk-python-ssm==$SSM_SDK_VERSION" "PyMySQL==$PYMYSQL_VERSION" \
    "cryptography==$CRYPTOGRAPHY_VERSION"
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

# Huawei Cloud's and JD Cloud's official SDKs (pinned), each in a venv of its own, and JD's Node.js
# SDK into target/jd-node.
HUAWEI_SDK_VERSION=3.1.219
JD_SDK_VERSION=1.6.354
JD_NODE_SDK_VERSION=1.2.202
huawei_venv=target/huawei-venv
jd_venv=target/jd-venv
jd_node=target/jd-node
if [[ ! -x $huawei_venv/bin/python ]] ||
   ! "$huawei_venv/bin/python" -c "import huaweicloudsdkkms, huaweicloudsdkcsms, cryptography" 2>/dev/null; then
  rm -rf "$huawei_venv"
  python3 -m venv "$huawei_venv"
  # cryptography: seed 004 encrypts a file locally under the data key, as the seed's sample does.
  "$huawei_venv/bin/pip" install --quiet --disable-pip-version-check "huaweicloudsdkkms==$HUAWEI_SDK_VERSION" \
    "huaweicloudsdkcsms==$HUAWEI_SDK_VERSION" "cryptography==$CRYPTOGRAPHY_VERSION"
fi
if [[ ! -x $jd_venv/bin/python ]] || ! "$jd_venv/bin/python" -c "import jdcloud_sdk.services.kms" 2>/dev/null; then
  rm -rf "$jd_venv"
  python3 -m venv "$jd_venv"
  "$jd_venv/bin/pip" install --quiet --disable-pip-version-check "jdcloud-sdk==$JD_SDK_VERSION"
fi
if [[ ! -f $jd_node/node_modules/jdcloud-sdk-js/package.json ]] ||
   ! grep -q "\"version\": \"$JD_NODE_SDK_VERSION\"" "$jd_node/node_modules/jdcloud-sdk-js/package.json"; then
  mkdir -p "$jd_node"
  npm install --prefix "$jd_node" --no-audit --no-fund --silent "jdcloud-sdk-js@$JD_NODE_SDK_VERSION" >/dev/null 2>&1
fi

# tccli (pinned with the SDK it runs on), in its own venv: it brings the whole SDK, which would
# clash with the per-service packages above.
TCCLI_VERSION=3.1.189.1
TCCLI_SDK_VERSION=3.1.195
tccli_venv=target/tccli-venv
if [[ ! -x $tccli_venv/bin/tccli ]] || ! "$tccli_venv/bin/tccli" --version 2>/dev/null | grep -qx "$TCCLI_VERSION"; then
  rm -rf "$tccli_venv"
  python3 -m venv "$tccli_venv"
  "$tccli_venv/bin/pip" install --quiet --disable-pip-version-check "tccli==$TCCLI_VERSION" \
    "tencentcloud-sdk-python==$TCCLI_SDK_VERSION"
fi
# tccli trusts only the certificate bundle of its Python's certifi; the README's way to make it
# trust keyconsole's CA is to add the CA to that bundle. Keep the original to restore it after.
tccli_bundle=$("$tccli_venv/bin/python" -m certifi)
[[ -f $tccli_venv/certifi-original.pem ]] || cp "$tccli_bundle" "$tccli_venv/certifi-original.pem"

work=$(mktemp -d)
server=
tls_server=
cleanup() {
  # Stopped and waited for before their folder goes (a stopping server still writes its keystore).
  [[ -n $server ]] && { kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; } || true
  [[ -n $tls_server ]] && { kill "$tls_server" 2>/dev/null; wait "$tls_server" 2>/dev/null; } || true
  cp "$tccli_venv/certifi-original.pem" "$tccli_bundle" 2>/dev/null || true
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

# Starts `keyconsole serve ARGS...` on a free port; sets $started_pid and $started_endpoint.
start_server() {
  local log=$1
  shift
  "$binary" serve --listen 127.0.0.1:0 "$@" >"$log" 2>&1 &
  started_pid=$!
  started_endpoint=
  for _ in $(seq 100); do
    started_endpoint=$(grep -o -m1 '127\.0\.0\.1:[0-9]*' "$log" || true)
    [[ -n $started_endpoint ]] && return 0
    kill -0 "$started_pid" 2>/dev/null || { cat "$log" >&2; exit 1; }
    sleep 0.1
  done
  echo "keyconsole serve did not start" >&2
  cat "$log" >&2
  exit 1
}
start_server "$work/serve.log"
server=$started_pid
endpoint=$started_endpoint
start_server "$work/serve-tls.log" --tls
tls_server=$started_pid
tls_endpoint=$started_endpoint
grep -q "listening on https://$tls_endpoint" "$work/serve-tls.log"
ca=$("$binary" api ca --path)
[[ -f $ca ]]
# Each cloud signs with its own pair, made here while the servers run: a running server sees
# credentials another process made.
"$binary" api credentials --cloud huawei >"$work/huawei-credentials"
HUAWEI_AK=$(awk '/^AK:/ {print $2}' "$work/huawei-credentials")
HUAWEI_SK=$(awk '/^SK:/ {print $2}' "$work/huawei-credentials")
"$binary" api credentials --cloud jd >"$work/jd-credentials"
JD_AK=$(awk '/^AccessKey:/ {print $2}' "$work/jd-credentials")
JD_SK=$(awk '/^SecretKey:/ {print $2}' "$work/jd-credentials")
[[ ${#HUAWEI_AK} == 20 && ${#JD_AK} == 32 ]]
# A team's read-only user, and its Huawei and JD pairs: each dialect refuses it in its own way.
"$binary" user create sdk-reader --preset read-only >/dev/null
READER_HUAWEI=$("$binary" user credentials sdk-reader --cloud huawei --json)
READER_JD=$("$binary" user credentials sdk-reader --cloud jd --json)
reader_field() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }
export TENCENT_SECRET_ID=$KEYCONSOLE_SECRET_ID TENCENT_SECRET_KEY=$KEYCONSOLE_SECRET_KEY

export NODE_PATH=$node_sdk/node_modules
for scheme in http https; do
  if [[ $scheme == http ]]; then
    at=$endpoint
    unset KEYCONSOLE_CA NODE_EXTRA_CA_CERTS
  else
    at=$tls_endpoint
    export KEYCONSOLE_CA=$ca NODE_EXTRA_CA_CERTS=$ca
    cat "$tccli_venv/certifi-original.pem" "$ca" >"$tccli_bundle"
  fi
  "$venv/bin/python" scripts/sdk/sdk_test.py "$at"
  "$venv/bin/python" scripts/sdk/ssm_test.py "$at"
  "$venv/bin/python" scripts/sdk/signatures_test.py "$at"
  "$venv/bin/python" scripts/sdk/key_pairs_test.py "$at"
  node scripts/sdk/node_test.js "$at" "$scheme"
  HOME=$work TENCENTCLOUD_SECRET_ID=$KEYCONSOLE_SECRET_ID TENCENTCLOUD_SECRET_KEY=$KEYCONSOLE_SECRET_KEY \
    "$tccli_venv/bin/python" scripts/sdk/tccli_test.py "$tccli_venv/bin/tccli" "$at" "$scheme"
  # Huawei Cloud and JD Cloud applications, unchanged but for the endpoint and credentials.
  KEYCONSOLE_SECRET_ID=$HUAWEI_AK KEYCONSOLE_SECRET_KEY=$HUAWEI_SK HUAWEI_CIPHERTEXT_OUT=$work/huawei.ct \
    READER_SECRET_ID=$(reader_field "$READER_HUAWEI" SecretId) READER_SECRET_KEY=$(reader_field "$READER_HUAWEI" SecretKey) \
    "$huawei_venv/bin/python" scripts/sdk/huawei_test.py "$at"
  KEYCONSOLE_SECRET_ID=$JD_AK KEYCONSOLE_SECRET_KEY=$JD_SK JD_CIPHERTEXT_OUT=$work/jd.ct \
    READER_SECRET_ID=$(reader_field "$READER_JD" SecretId) READER_SECRET_KEY=$(reader_field "$READER_JD" SecretKey) \
    "$jd_venv/bin/python" scripts/sdk/jd_test.py "$at"
  # A team's users with different policies, side by side (the Tencent SDK; the CLI manages them).
  "$venv/bin/python" scripts/sdk/users_test.py "$at" "$binary"
  # CloudAudit's client comes with the whole SDK, which tccli's venv holds.
  "$tccli_venv/bin/python" scripts/sdk/audit_test.py "$at" "$binary"
  # (JD's Node.js SDK prints its canonical request and string to sign; only the result is shown.)
  jd_node_out=$(KEYCONSOLE_SECRET_ID=$JD_AK KEYCONSOLE_SECRET_KEY=$JD_SK NODE_PATH=$jd_node/node_modules \
    node scripts/sdk/jd_node_test.js "$at" "$scheme" 2>&1) || { echo "$jd_node_out" >&2; exit 1; }
  grep "passed, 0 failed" <<<"$jd_node_out"
  # One keystore, three clouds: what Huawei's encrypt-data and JD's Encrypt made, Tencent's
  # Decrypt opens.
  "$venv/bin/python" scripts/sdk/cross_dialect_test.py "$at" "$work/huawei.ct" 'db password: 密码 {"a":1}' \
    "$work/jd.ct" 'db password: 密码'

  # Every served action against the SDK's models; the README's coverage table must be its output.
  "$venv/bin/python" scripts/sdk/conformance.py "$at" --readme README.md
done
unset KEYCONSOLE_CA NODE_EXTRA_CA_CERTS
cp "$tccli_venv/certifi-original.pem" "$tccli_bundle"
(cd "$work" && "$OLDPWD/$venv/bin/python" "$OLDPWD/scripts/sdk/seed_sample.py" "$endpoint" seed-config-key >/dev/null)
echo "the seed's sample encrypted and decrypted through keyconsole"

# A client that does not trust the CA is refused by its own TLS check (the server is not plain HTTP
# in disguise, and the certificate is not accepted by accident).
if "$venv/bin/python" - "$tls_endpoint" <<'PY' 2>/dev/null; then
import ssl, sys, urllib.request
urllib.request.urlopen(f"https://{sys.argv[1]}/", data=b"{}", timeout=10)
PY
  echo "an HTTPS client that does not trust the local CA was not refused" >&2
  exit 1
fi
echo "an HTTPS client without the local CA is refused by its TLS check"

# The access log has every request and nothing secret in it.
grep -q ' Encrypt key=seed-config-key Success\| Encrypt key=[0-9a-f-]* Success' "$work/serve.log"
if grep -q "$KEYCONSOLE_SECRET_KEY\|this plaintext for test\|dGhpcyBwbGFpbnRleHQgZm9yIHRlc3Q" "$work/serve.log" "$work/serve-tls.log"; then
  echo "the access log holds a secret" >&2
  exit 1
fi
kill -TERM "$server" "$tls_server"
wait "$server" "$tls_server"
server=
tls_server=
echo "keyconsole serve (http and https) stopped cleanly on SIGTERM"

# Database credentials: the SSM SDK and PyMySQL against a private MariaDB, which a Rust test starts
# (with its own `keyconsole serve`) and removes after.
KEYCONSOLE_SDK_PYTHON=$PWD/$venv/bin/python cargo test --quiet --test faces sdk_rotates_database_passwords \
  -- --ignored --nocapture
