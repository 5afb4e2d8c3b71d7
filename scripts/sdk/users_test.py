"""A team's users through the official Tencent Cloud SDK against a running `keyconsole serve`: two
users with different policies side by side, each refused what it may not do with the cloud's
code, a rotated key that keeps working through its grace period, a disabled user refused.

Usage: users_test.py ENDPOINT KEYSTORE_BINARY; the keystore's environment (KEYCONSOLE_KEYSTORE,
KEYCONSOLE_PASSWORD) as for the binary, KEYCONSOLE_CA for HTTPS. The key `seed-config-key` must
exist. Prints "N passed, 0 failed".
"""
import base64
import json
import os
import subprocess
import sys
import uuid

import checks
from checks import check
from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.kms.v20190118 import kms_client, models
from tencentcloud.ssm.v20190923 import models as ssm_models, ssm_client

ENDPOINT, BINARY = sys.argv[1], sys.argv[2]


def keyconsole(*args):
    return subprocess.run([BINARY, *args], check=True, capture_output=True, text=True).stdout


def kms_as(user):
    return kms_client.KmsClient(credential.Credential(user["SecretId"], user["SecretKey"]), "ap-guangzhou",
                                ClientProfile(httpProfile=checks.http_profile(ENDPOINT, "POST")))


def refused_code(call):
    try:
        call()
    except TencentCloudSDKException as e:
        return e.code, e.message
    return None, None


suffix = uuid.uuid4().hex[:6]
key_id = json.loads(keyconsole("key", "describe", "seed-config-key", "--json"))["KeyId"]
keyconsole("key", "create", "--alias", f"users-other-{suffix}")
other = json.loads(keyconsole("key", "describe", f"users-other-{suffix}", "--json"))["KeyId"]
alice = json.loads(keyconsole("user", "create", f"alice-{suffix}", "--preset", "crypto-user",
                              "--on", "seed-config-key", "--json"))
bob = json.loads(keyconsole("user", "create", f"bob-{suffix}", "--preset", "read-only", "--json"))
check(alice["SecretId"].startswith("AKID") and len(alice["SecretKey"]) == 32, "user create --json: the pair")

plaintext = base64.b64encode(b"team secret").decode()
request = models.EncryptRequest()
request.KeyId, request.Plaintext = "seed-config-key", plaintext
blob = kms_as(alice).Encrypt(request).CiphertextBlob
decrypt = models.DecryptRequest()
decrypt.CiphertextBlob = blob
check(kms_as(alice).Decrypt(decrypt).Plaintext == plaintext, "alice encrypts and decrypts with her key")
request.KeyId = other
code, message = refused_code(lambda: kms_as(alice).Encrypt(request))
check(code == "UnauthorizedOperation" and "kms:Encrypt" in message and other in message,
      f"alice under another key: UnauthorizedOperation naming the action and resource ({code}: {message})")
code, _ = refused_code(lambda: kms_as(bob).Decrypt(decrypt))
check(code == "UnauthorizedOperation", f"bob (read-only) may not decrypt ({code})")
listed = kms_as(bob).ListKeys(models.ListKeysRequest())
check(listed.TotalCount >= 1, "bob lists keys")
code, _ = refused_code(lambda: kms_as(bob).CreateKey(checks.request(models.CreateKeyRequest, Alias=f"bob-{suffix}")))
check(code in ("UnauthorizedOperation", "AuthFailure.UnauthorizedOperation"), f"bob may not create a key ({code})")
ssm = ssm_client.SsmClient(credential.Credential(bob["SecretId"], bob["SecretKey"]), "ap-guangzhou",
                           ClientProfile(httpProfile=checks.http_profile(ENDPOINT, "POST")))
code, _ = refused_code(lambda: ssm.GetSecretValue(checks.request(
    ssm_models.GetSecretValueRequest, SecretName="nothing-here", VersionId="v1")))
check(code in ("UnauthorizedOperation", "AuthFailure.UnauthorizedOperation"), f"bob may not read secret values ({code})")

# A rotated key: both work through the grace period; with none, the old one is refused at once.
rotated = json.loads(keyconsole("user", "rotate-key", f"alice-{suffix}", "--grace-hours", "1", "--json"))
request.KeyId = "seed-config-key"
check(kms_as(alice).Encrypt(request).KeyId == key_id and kms_as(rotated).Encrypt(request).KeyId == key_id,
      "old and new keys both work during the grace")
final = json.loads(keyconsole("user", "rotate-key", f"alice-{suffix}", "--grace-hours", "0", "--json"))
code, _ = refused_code(lambda: kms_as(rotated).Encrypt(request))
check(code == "AuthFailure.SecretIdNotFound", f"a key rotated out without grace is refused ({code})")
keyconsole("user", "disable", f"alice-{suffix}")
code, _ = refused_code(lambda: kms_as(final).Encrypt(request))
check(code == "AuthFailure.SecretIdNotFound", f"a disabled user is refused ({code})")
keyconsole("user", "delete", f"alice-{suffix}")
keyconsole("user", "delete", f"bob-{suffix}")
print(f"users and permissions through the Python SDK over {'https' if checks.CA else 'http'}: "
      f"{checks.passed} passed, 0 failed")
