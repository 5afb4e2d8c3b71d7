"""The official command-line client, tccli, against a running `keyconsole serve`, unchanged.

Usage: tccli_test.py TCCLI ENDPOINT http|https
The credentials come from TENCENTCLOUD_SECRET_ID / TENCENTCLOUD_SECRET_KEY (tccli's own variables,
so the SecretKey never shows in a process list). Over http the endpoint is given as
http://HOST:PORT; over https as HOST:PORT, and tccli must already trust keyconsole's local CA
(scripts/sdk_test.sh adds it to the certificate bundle of tccli's own Python, as the README says).
Prints "N passed, 0 failed" or exits non-zero at the first mismatch.
"""
import base64
import json
import subprocess
import sys
import time

TCCLI, ENDPOINT, SCHEME = sys.argv[1], sys.argv[2], sys.argv[3]
passed = 0


def check(condition, what):
    global passed
    if not condition:
        raise SystemExit(f"FAILED: tccli over {SCHEME}: {what}")
    passed += 1


def tccli(service, action, **params):
    """Runs one action; returns (answer as JSON or None, error text)."""
    endpoint = f"http://{ENDPOINT}" if SCHEME == "http" else ENDPOINT
    args = [TCCLI, service, action, "--region", "ap-guangzhou", "--endpoint", endpoint]
    for name, value in params.items():
        args += [f"--{name}", value]
    run = subprocess.run(args, capture_output=True, text=True, timeout=60)
    try:
        return json.loads(run.stdout), run.stderr
    except ValueError:
        return None, run.stdout + run.stderr


def b64(text):
    return base64.b64encode(text.encode()).decode()


alias = f"tccli-{SCHEME}-{int(time.time() * 1000)}"
created, error = tccli("kms", "CreateKey", Alias=alias, Description="made by tccli")
check(created and created.get("Alias") == alias, f"CreateKey: {error}")
key = created["KeyId"]

encrypted, error = tccli("kms", "Encrypt", KeyId=alias, Plaintext=b64("tccli secret"))
check(encrypted and encrypted.get("KeyId") == key, f"Encrypt: {error}")
decrypted, error = tccli("kms", "Decrypt", CiphertextBlob=encrypted["CiphertextBlob"])
check(decrypted and base64.b64decode(decrypted["Plaintext"]) == b"tccli secret", f"Decrypt: {error}")

disabled, error = tccli("kms", "DisableKey", KeyId=key)
check(disabled is not None, f"DisableKey: {error}")
refused, error = tccli("kms", "Encrypt", KeyId=key, Plaintext=b64("x"))
check(refused is None and "ResourceUnavailable.CmkDisabled" in error,
      f"Encrypt under a disabled key is refused with ResourceUnavailable.CmkDisabled: {error}")
enabled, error = tccli("kms", "EnableKey", KeyId=key)
check(enabled is not None, f"EnableKey: {error}")

listed, error = tccli("kms", "ListKeyDetail", Limit="100")
check(listed and any(k["KeyId"] == key for k in listed["KeyMetadatas"]), f"ListKeyDetail: {error}")

name = f"{alias}-secret"
made, error = tccli("ssm", "CreateSecret", SecretName=name, VersionId="v1", SecretString="mysql-password")
check(made and made.get("SecretName") == name, f"CreateSecret: {error}")
fetched, error = tccli("ssm", "GetSecretValue", SecretName=name, VersionId="v1")
check(fetched and fetched.get("SecretString") == "mysql-password", f"GetSecretValue: {error}")

# The audit trail through CloudAudit's LookUpEvents: the key made above is an event.
now = int(time.time())
looked, error = tccli("cloudaudit", "LookUpEvents", StartTime=str(now - 600), EndTime=str(now + 60),
                      MaxResults="50",
                      LookupAttributes=json.dumps([{"AttributeKey": "EventName", "AttributeValue": "CreateKey"}]))
made = [json.loads(e["CloudAuditEvent"]) for e in (looked or {}).get("Events", [])]
check(any(e.get("alias") == alias and e.get("outcome") == "Success" for e in made),
      f"cloudaudit LookUpEvents finds the CreateKey: {error or made}")

print(f"tccli over {SCHEME}: {passed} passed, 0 failed")
