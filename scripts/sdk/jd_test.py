"""JD Cloud's official Python SDK (jdcloud-sdk, signing JDCLOUD3) against a running `keyconsole
serve`, with only the endpoint and the credentials changed: create a key, list and describe it,
Encrypt/Decrypt, GenerateDataKey, disable then refuse (the SDK's error object: it never raises),
schedule and cancel deletion. Its default logger prints request bodies, plaintexts included: a
quiet Logger(ERROR) is given, as the README says.

Then seed 003's steps: small data through Encrypt/Decrypt, and a secret's whole life through the
secrets interface (机密): create, versions, list, describe, disable, refuse, delete.

Usage: jd_test.py ENDPOINT (host:port); KEYCONSOLE_SECRET_ID / KEYCONSOLE_SECRET_KEY in the
environment (the keystore's JD pair: `keyconsole api credentials --cloud jd`); TENCENT_SECRET_ID /
TENCENT_SECRET_KEY (which JD requests must not pass); KEYCONSOLE_CA for HTTPS (given to requests as
REQUESTS_CA_BUNDLE); JD_CIPHERTEXT_OUT, a file for one ciphertext Tencent's Decrypt must open.
Prints "N passed, 0 failed".
"""
import base64
import os
import subprocess
import sys
import tempfile
import uuid

import checks
from checks import CA, SCHEME, check, must
from jdcloud_sdk.core.config import Config
from jdcloud_sdk.core.credential import Credential
from jdcloud_sdk.core.logger import ERROR, Logger
from jdcloud_sdk.services.kms.apis.CancelKeyDeletionRequest import CancelKeyDeletionParameters, CancelKeyDeletionRequest
from jdcloud_sdk.services.kms.apis.CreateKeyRequest import CreateKeyParameters, CreateKeyRequest
from jdcloud_sdk.services.kms.apis.DecryptRequest import DecryptParameters, DecryptRequest
from jdcloud_sdk.services.kms.apis.DescribeKeyDetailRequest import DescribeKeyDetailParameters, DescribeKeyDetailRequest
from jdcloud_sdk.services.kms.apis.DescribeKeyListRequest import DescribeKeyListParameters, DescribeKeyListRequest
from jdcloud_sdk.services.kms.apis.DescribeKeyRequest import DescribeKeyParameters, DescribeKeyRequest
from jdcloud_sdk.services.kms.apis.DisableKeyRequest import DisableKeyParameters, DisableKeyRequest
from jdcloud_sdk.services.kms.apis.EnableKeyRequest import EnableKeyParameters, EnableKeyRequest
from jdcloud_sdk.services.kms.apis.EncryptRequest import EncryptParameters, EncryptRequest
from jdcloud_sdk.services.kms.apis.GenerateDataKeyRequest import GenerateDataKeyParameters, GenerateDataKeyRequest
from jdcloud_sdk.services.kms.apis.GetPublicKeyRequest import GetPublicKeyParameters, GetPublicKeyRequest
from jdcloud_sdk.services.kms.apis.SignRequest import SignParameters, SignRequest
from jdcloud_sdk.services.kms.apis.ValidateRequest import ValidateParameters, ValidateRequest
from jdcloud_sdk.services.kms.apis.ScheduleKeyDeletionRequest import ScheduleKeyDeletionParameters, ScheduleKeyDeletionRequest
from jdcloud_sdk.services.kms.client.KmsClient import KmsClient
from jdcloud_sdk.services.kms.apis.CreateSecretRequest import CreateSecretParameters, CreateSecretRequest
from jdcloud_sdk.services.kms.apis.CreateSecretVersionRequest import CreateSecretVersionParameters, CreateSecretVersionRequest
from jdcloud_sdk.services.kms.apis.DeleteSecretRequest import DeleteSecretParameters, DeleteSecretRequest
from jdcloud_sdk.services.kms.apis.DeleteSecretVersionRequest import DeleteSecretVersionParameters, DeleteSecretVersionRequest
from jdcloud_sdk.services.kms.apis.DescribeSecretListRequest import DescribeSecretListParameters, DescribeSecretListRequest
from jdcloud_sdk.services.kms.apis.DescribeSecretVersionInfoRequest import DescribeSecretVersionInfoParameters, DescribeSecretVersionInfoRequest
from jdcloud_sdk.services.kms.apis.DescribeSecretVersionListRequest import DescribeSecretVersionListParameters, DescribeSecretVersionListRequest
from jdcloud_sdk.services.kms.apis.DisableSecretRequest import DisableSecretParameters, DisableSecretRequest
from jdcloud_sdk.services.kms.apis.DisableSecretVersionRequest import DisableSecretVersionParameters, DisableSecretVersionRequest
from jdcloud_sdk.services.kms.apis.EnableSecretRequest import EnableSecretParameters, EnableSecretRequest
from jdcloud_sdk.services.kms.apis.UpdateSecretRequest import UpdateSecretParameters, UpdateSecretRequest
from jdcloud_sdk.services.kms.models.KeyCfg import KeyCfg
from jdcloud_sdk.services.kms.models.SecretCfg import SecretCfg
from jdcloud_sdk.services.kms.models.SecretDescCfg import SecretDescCfg
from jdcloud_sdk.services.kms.models.SecretTimeCfg import SecretTimeCfg
from jdcloud_sdk.services.kms.models.SecretVersionCfg import SecretVersionCfg
from jdcloud_sdk.services.kms.models.KeyDescCfg import KeyDescCfg

ENDPOINT = sys.argv[1]
# The SDK has no TLS option: requests trusts the local CA through REQUESTS_CA_BUNDLE.
if CA:
    os.environ["REQUESTS_CA_BUNDLE"] = CA


client = KmsClient(Credential(os.environ["KEYCONSOLE_SECRET_ID"], os.environ["KEYCONSOLE_SECRET_KEY"]),
                   Config(ENDPOINT, scheme=SCHEME, timeout=10), Logger(ERROR))


# Conformance: each result against JD's documented models (the types are the Go SDK's struct
# fields, exact there: an int sent as a string would fail to unmarshal): exactly these fields,
# of these types. (The Python SDK's models name the fields but carry no types.)
KEY_INFO = {"keyId": str, "keyName": str, "keyStatus": int, "createTime": str, "keyDesc": str,
            "rotationCycle": int, "deleteTime": str}
SECRET_INFO = {"secretId": str, "secretName": str, "secretDesc": str, "secretStatus": int, "createTime": str}
VERSION_ITEM = {"secretVersion": str, "secretStatus": int, "startTime": str, "expireTime": str, "secretData": str}
RESULTS = {
    "CreateKey": {"keyId": str},
    "DescribeKeyList": {"keyList": [KEY_INFO], "totalCount": int},
    "DescribeKey": {"keyInfo": KEY_INFO},
    "DescribeKeyDetail": {"keyDetail": {"keyId": str, "keyName": str, "rotationCycle": int, "keyVersionCount": int,
                                        "keyVersionList": [{"keyVersion": str, "createTime": str, "keyStatus": int,
                                                            "deleteTime": str}]}},
    "Encrypt": {"ciphertextBlob": str},
    "Decrypt": {"plaintext": str},
    "GenerateDataKey": {"plaintext": str, "ciphertextBlob": str},
    "CreateSecret": {"secretId": str},
    "DescribeSecretList": {"secretList": [SECRET_INFO], "totalCount": int},
    "DescribeSecretVersionList": {"secretDetail": {"secretInfo": SECRET_INFO, "secretVersionCount": int,
                                                   "secretVersionList": [VERSION_ITEM]}},
    "DescribeSecretVersionInfo": VERSION_ITEM,
    "GetPublicKey": {"publicKeyBlob": str},
    "Sign": {"signature": str},
    "Validate": {"validated": bool},
}
conformed = {"results": 0, "fields": 0}


def conforms(value, shape, where):
    if isinstance(shape, dict):
        must(isinstance(value, dict) and set(value) == set(shape),
              f"{where}: exactly the fields {sorted(shape)} ({sorted(value) if isinstance(value, dict) else value!r})")
        for key, inner in shape.items():
            conforms(value[key], inner, f"{where}.{key}")
    elif isinstance(shape, list):
        must(isinstance(value, list), f"{where}: a list")
        for i, item in enumerate(value):
            conforms(item, shape[0], f"{where}[{i}]")
    else:
        must(isinstance(value, shape) and not (shape is int and isinstance(value, bool)),
              f"{where}: {shape.__name__}, not {type(value).__name__}")
        conformed["fields"] += 1


def ok(request, what):
    response = client.send(request)
    check(response.error is None, f"{what}: {response.error and (response.error.code, response.error.status, response.error.message)}")
    action = type(request).__name__.removesuffix("Request")
    if action in RESULTS:
        conforms(response.result, RESULTS[action], action)
        conformed["results"] += 1
    elif response.result is not None:
        check(False, f"{action} answers no result, as the model has none ({response.result})")
    return response.result


name = f"jd-{uuid.uuid4().hex[:8]}"
created = ok(CreateKeyRequest(CreateKeyParameters(KeyCfg(KeyDescCfg(name, "made by the JD SDK")))), "CreateKey")
key = created["keyId"]
check(str(uuid.UUID(key)) == key, "CreateKey answers a keyId")
info = ok(DescribeKeyRequest(DescribeKeyParameters(key)), "DescribeKey")["keyInfo"]
key_detail = ok(DescribeKeyDetailRequest(DescribeKeyDetailParameters(key)), "DescribeKeyDetail")["keyDetail"]
check(key_detail["keyVersionCount"] == 1 and key_detail["keyVersionList"][0]["keyVersion"] == "1",
      "DescribeKeyDetail: one version")
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

# An RSA key (keyType 1): its public key, Sign (PKCS#1 v1.5 over SHA-256, the one algorithm JD
# names), checked by OpenSSL as an outsider would, then Validate.
pair_cfg = KeyDescCfg(f"jd-rsa-{uuid.uuid4().hex[:8]}", "signing key", keyType=1)
pair = ok(CreateKeyRequest(CreateKeyParameters(KeyCfg(pair_cfg))), "CreateKey keyType 1")["keyId"]
pem = ok(GetPublicKeyRequest(GetPublicKeyParameters(pair)), "GetPublicKey")["publicKeyBlob"]
check(pem.startswith("-----BEGIN PUBLIC KEY-----"), "GetPublicKey: a PEM public key")
message = "release 1.4.2 签名".encode() * 50
params = SignParameters(pair)
params.setPlaintext(base64.b64encode(message).decode())
signature = ok(SignRequest(params), "Sign")["signature"]
with tempfile.TemporaryDirectory() as folder:
    for file_name, content in [("key.pem", pem.encode()), ("message", message),
                               ("signature", base64.b64decode(signature))]:
        with open(os.path.join(folder, file_name), "wb") as out:
            out.write(content)
    verified = subprocess.run(["openssl", "dgst", "-sha256", "-verify", "key.pem", "-signature", "signature",
                               "message"], cwd=folder, capture_output=True, text=True)
check(verified.returncode == 0 and "Verified OK" in verified.stdout,
      f"OpenSSL verifies JD's Sign as RSA PKCS#1 v1.5 SHA-256 ({verified.stdout}{verified.stderr})")
params = ValidateParameters(pair)
params.setPlaintext(base64.b64encode(message).decode())
params.setSignature(signature)
check(ok(ValidateRequest(params), "Validate")["validated"] is True, "Validate: the signature holds")
params.setPlaintext(base64.b64encode(message + b"!").decode())
check(ok(ValidateRequest(params), "Validate another message")["validated"] is False,
      "Validate: another message does not")
params = SignParameters(key)
params.setPlaintext(base64.b64encode(message).decode())
refused = client.send(SignRequest(params))
check(refused.error is not None and refused.error.code == 400,
      f"Sign with an AES key is refused ({refused.error and vars(refused.error)})")

wrong = KmsClient(Credential(os.environ["KEYCONSOLE_SECRET_ID"], "wrong"), Config(ENDPOINT, scheme=SCHEME, timeout=10),
                  Logger(ERROR))
denied = wrong.send(DescribeKeyRequest(DescribeKeyParameters(key)))
check(denied.error is not None, "a wrong secret key is refused")
tencent = KmsClient(Credential(os.environ["TENCENT_SECRET_ID"], os.environ["TENCENT_SECRET_KEY"]),
                    Config(ENDPOINT, scheme=SCHEME, timeout=10), Logger(ERROR))
denied = tencent.send(DescribeKeyRequest(DescribeKeyParameters(key)))
check(denied.error is not None and denied.error.code == 401, "Tencent's pair does not sign JD requests")

# A team's read-only user (READER_SECRET_ID / READER_SECRET_KEY, its JD pair): it lists keys and is
# refused encryption with 403 PERMISSION_DENIED in the error object.
if os.environ.get("READER_SECRET_ID"):
    reader = KmsClient(Credential(os.environ["READER_SECRET_ID"], os.environ["READER_SECRET_KEY"]),
                       Config(ENDPOINT, scheme=SCHEME, timeout=10), Logger(ERROR))
    check(reader.send(DescribeKeyListRequest(listing)).error is None, "a read-only user lists keys")
    params = EncryptParameters(key)
    params.setPlaintext(base64.b64encode(b"x").decode())
    denied = reader.send(EncryptRequest(params))
    check(denied.error is not None and denied.error.code == 403 and denied.error.status == "PERMISSION_DENIED",
          f"a read-only user's Encrypt: 403 PERMISSION_DENIED ({denied.error and vars(denied.error)})")

# Seed 003's secrets (机密): a secret's whole life. JD's defaults for the validity window (start
# now, never expire) are what keyconsole keeps; anything else is refused, not dropped.
secret_name = f"jd-secret-{uuid.uuid4().hex[:8]}"
made = ok(CreateSecretRequest(CreateSecretParameters(SecretCfg(
    SecretDescCfg(secret_name, "made by the JD SDK"), SecretTimeCfg(None, None), "password-one 密码"))), "CreateSecret")
secret_id = made["secretId"]
ok(CreateSecretVersionRequest(CreateSecretVersionParameters(secret_id, SecretVersionCfg("password-two", None))),
   "CreateSecretVersion")
listing = DescribeSecretListParameters()
listing.setPageSize(100)
secrets = ok(DescribeSecretListRequest(listing), "DescribeSecretList")
check(any(s["secretId"] == secret_id and s["secretStatus"] == 0 for s in secrets["secretList"]),
      "DescribeSecretList lists it, enabled")
detail = ok(DescribeSecretVersionListRequest(DescribeSecretVersionListParameters(secret_id)),
            "DescribeSecretVersionList")["secretDetail"]
check(detail["secretVersionCount"] == 2 and [v["secretData"] for v in detail["secretVersionList"]]
      == ["password-one 密码", "password-two"], f"two versions with their values ({detail['secretVersionCount']})")
info = ok(DescribeSecretVersionInfoRequest(DescribeSecretVersionInfoParameters(secret_id, "v2")),
          "DescribeSecretVersionInfo")
check(info["secretData"] == "password-two" and info["secretVersion"] == "v2" and info["expireTime"] == "",
      "DescribeSecretVersionInfo: v2's value, no expiry")
ok(UpdateSecretRequest(UpdateSecretParameters(secret_id, SecretDescCfg(secret_name, "changed"))), "UpdateSecret")
far = CreateSecretVersionRequest(CreateSecretVersionParameters(
    secret_id, SecretVersionCfg("later", SecretTimeCfg(None, "2099-01-01T00:00:00Z"))))
refused_expiry = client.send(far)
check(refused_expiry.error is not None and refused_expiry.error.code == 400,
      "a version expiry is refused, not dropped")
refused_version = client.send(DisableSecretVersionRequest(DisableSecretVersionParameters(secret_id, "v1")))
check(refused_version.error is not None and refused_version.error.status == "FAILED_PRECONDITION",
      "disabling one version is refused, saying why")
ok(DeleteSecretVersionRequest(DeleteSecretVersionParameters(secret_id, "v1")), "DeleteSecretVersion")
gone = client.send(DescribeSecretVersionInfoRequest(DescribeSecretVersionInfoParameters(secret_id, "v1")))
check(gone.error is not None and gone.error.code == 404, "a deleted version is NOT_FOUND")
ok(DisableSecretRequest(DisableSecretParameters(secret_id)), "DisableSecret")
disabled = client.send(DescribeSecretVersionInfoRequest(DescribeSecretVersionInfoParameters(secret_id, "v2")))
check(disabled.error is not None and disabled.error.code == 400, "a disabled secret gives no value")
ok(EnableSecretRequest(EnableSecretParameters(secret_id)), "EnableSecret")
enabled_delete = client.send(DeleteSecretRequest(DeleteSecretParameters(secret_id)))
check(enabled_delete.error is not None and enabled_delete.error.status == "FAILED_PRECONDITION",
      "an enabled secret is not deleted")
ok(DisableSecretRequest(DisableSecretParameters(secret_id)), "DisableSecret")
ok(DeleteSecretRequest(DeleteSecretParameters(secret_id)), "DeleteSecret")
after = client.send(DescribeSecretVersionListRequest(DescribeSecretVersionListParameters(secret_id)))
check(after.error is not None and after.error.code == 404, "a deleted secret is NOT_FOUND")

check(conformed["results"] >= 12, "the results above were checked against the models")
print(f"JD results against the documented models: {conformed['results']} results, {conformed['fields']} fields conform")
with open(os.environ.get("JD_CIPHERTEXT_OUT", os.devnull), "w") as out:
    out.write(blob)
print(f"the official JD Cloud Python SDK over {SCHEME}: {checks.passed} passed, 0 failed")
