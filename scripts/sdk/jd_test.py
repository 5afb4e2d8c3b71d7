"""JD Cloud's official Python SDK (jdcloud-sdk, signing JDCLOUD3) against a running `keyconsole
serve`, with only the endpoint and the credentials changed: create a key, list and describe it,
Encrypt/Decrypt, GenerateDataKey, disable then refuse (the SDK's error object: it never raises),
schedule and cancel deletion. Its default logger prints request bodies, plaintexts included: a
quiet Logger(ERROR) is given, as the README says.

Usage: jd_test.py ENDPOINT (host:port); KEYCONSOLE_SECRET_ID / KEYCONSOLE_SECRET_KEY in the
environment (the AK/SK for now); KEYCONSOLE_CA for HTTPS (given to requests as REQUESTS_CA_BUNDLE). Prints "N passed, 0 failed".
"""
import base64
import os
import sys
import uuid

from jdcloud_sdk.core.config import Config
from jdcloud_sdk.core.const import SCHEME_HTTP, SCHEME_HTTPS
from jdcloud_sdk.core.credential import Credential
from jdcloud_sdk.core.logger import ERROR, Logger
from jdcloud_sdk.services.kms.apis.CancelKeyDeletionRequest import CancelKeyDeletionParameters, CancelKeyDeletionRequest
from jdcloud_sdk.services.kms.apis.CreateKeyRequest import CreateKeyParameters, CreateKeyRequest
from jdcloud_sdk.services.kms.apis.DecryptRequest import DecryptParameters, DecryptRequest
from jdcloud_sdk.services.kms.apis.DescribeKeyListRequest import DescribeKeyListParameters, DescribeKeyListRequest
from jdcloud_sdk.services.kms.apis.DescribeKeyRequest import DescribeKeyParameters, DescribeKeyRequest
from jdcloud_sdk.services.kms.apis.DisableKeyRequest import DisableKeyParameters, DisableKeyRequest
from jdcloud_sdk.services.kms.apis.EnableKeyRequest import EnableKeyParameters, EnableKeyRequest
from jdcloud_sdk.services.kms.apis.EncryptRequest import EncryptParameters, EncryptRequest
from jdcloud_sdk.services.kms.apis.GenerateDataKeyRequest import GenerateDataKeyParameters, GenerateDataKeyRequest
from jdcloud_sdk.services.kms.apis.ScheduleKeyDeletionRequest import ScheduleKeyDeletionParameters, ScheduleKeyDeletionRequest
from jdcloud_sdk.services.kms.client.KmsClient import KmsClient
from jdcloud_sdk.services.kms.models.KeyCfg import KeyCfg
from jdcloud_sdk.services.kms.models.KeyDescCfg import KeyDescCfg

ENDPOINT = sys.argv[1]
# The SDK has no TLS option: requests trusts the local CA through REQUESTS_CA_BUNDLE.
CA = os.environ.get("KEYCONSOLE_CA")
SCHEME = SCHEME_HTTPS if CA else SCHEME_HTTP
if CA:
    os.environ["REQUESTS_CA_BUNDLE"] = CA
passed = 0


def check(condition, what):
    global passed
    if not condition:
        raise SystemExit(f"FAILED: {what}")
    passed += 1


client = KmsClient(Credential(os.environ["KEYCONSOLE_SECRET_ID"], os.environ["KEYCONSOLE_SECRET_KEY"]),
                   Config(ENDPOINT, scheme=SCHEME, timeout=10), Logger(ERROR))


def ok(request, what):
    response = client.send(request)
    check(response.error is None, f"{what}: {response.error and (response.error.code, response.error.status, response.error.message)}")
    return response.result


name = f"jd-{uuid.uuid4().hex[:8]}"
created = ok(CreateKeyRequest(CreateKeyParameters(KeyCfg(KeyDescCfg(name, "made by the JD SDK")))), "CreateKey")
key = created["keyId"]
check(str(uuid.UUID(key)) == key, "CreateKey answers a keyId")
info = ok(DescribeKeyRequest(DescribeKeyParameters(key)), "DescribeKey")["keyInfo"]
check(info["keyName"] == name and info["keyStatus"] == 0, f"DescribeKey: name and status 0 ({info})")
listing = DescribeKeyListParameters()
listing.setPageSize(100)
listed = ok(DescribeKeyListRequest(listing), "DescribeKeyList")
check(any(k["keyId"] == key for k in listed["keyList"]), "DescribeKeyList lists the key")

secret = "db password: 密码".encode()
params = EncryptParameters(key)
params.setPlaintext(base64.b64encode(secret).decode())
blob = ok(EncryptRequest(params), "Encrypt")["ciphertextBlob"]
params = DecryptParameters(key)
params.setCiphertextBlob(blob)
check(base64.b64decode(ok(DecryptRequest(params), "Decrypt")["plaintext"]) == secret, "Encrypt/Decrypt round trip")
data_key = ok(GenerateDataKeyRequest(GenerateDataKeyParameters(key)), "GenerateDataKey")
params = DecryptParameters(key)
params.setCiphertextBlob(data_key["ciphertextBlob"])
check(ok(DecryptRequest(params), "Decrypt the data key")["plaintext"] == data_key["plaintext"]
      and len(base64.b64decode(data_key["plaintext"])) == 32, "GenerateDataKey: 32 bytes that decrypt")

client.send(DisableKeyRequest(DisableKeyParameters(key)))
params = EncryptParameters(key)
params.setPlaintext(base64.b64encode(b"x").decode())
refused = client.send(EncryptRequest(params))
check(refused.error is not None and refused.error.status == 400 and refused.error.code == "FAILED_PRECONDITION"
      or (refused.error is not None and refused.error.code == 400),
      f"a disabled key is refused in the error object ({refused.error and vars(refused.error)})")
deletion = ScheduleKeyDeletionParameters(key)
deletion.setDelayDays(10)
ok(ScheduleKeyDeletionRequest(deletion), "ScheduleKeyDeletion")
check(ok(DescribeKeyRequest(DescribeKeyParameters(key)), "DescribeKey")["keyInfo"]["keyStatus"] == 2,
      "pending deletion is keyStatus 2")
ok(CancelKeyDeletionRequest(CancelKeyDeletionParameters(key)), "CancelKeyDeletion")
ok(EnableKeyRequest(EnableKeyParameters(key)), "EnableKey")

wrong = KmsClient(Credential(os.environ["KEYCONSOLE_SECRET_ID"], "wrong"), Config(ENDPOINT, scheme=SCHEME, timeout=10),
                  Logger(ERROR))
denied = wrong.send(DescribeKeyRequest(DescribeKeyParameters(key)))
check(denied.error is not None, "a wrong secret key is refused")
print(f"the official JD Cloud Python SDK over {SCHEME}: {passed} passed, 0 failed")
