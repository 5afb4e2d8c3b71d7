"""The other ways the official Python SDK signs, against a running `keyconsole serve`: the older
v1 signatures (ClientProfile(signMethod="HmacSHA256") and "HmacSHA1", parameters in the query or
form body) over POST and GET, and TC3 with an unsigned payload (ClientProfile.unsignedPayload).

Usage: signatures_test.py ENDPOINT; KEYCONSOLE_SECRET_ID / KEYCONSOLE_SECRET_KEY in the environment.
Prints "N passed, 0 failed" or exits non-zero at the first mismatch.
"""
import base64
import json
import os
import sys

import checks
from checks import check, refused, request
from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.kms.v20190118 import kms_client, models

ENDPOINT = sys.argv[1]




def client(method, sign_method="TC3-HMAC-SHA256", unsigned=False, secret_key=None):
    http = checks.http_profile(ENDPOINT, method)
    profile = ClientProfile(signMethod=sign_method, httpProfile=http)
    profile.unsignedPayload = unsigned
    cred = credential.Credential(os.environ["KEYCONSOLE_SECRET_ID"],
                                 secret_key or os.environ["KEYCONSOLE_SECRET_KEY"])
    return kms_client.KmsClient(cred, "ap-guangzhou", profile)




def round_trip(kms, what):
    plaintext = base64.b64encode(b"signed another way: " + what.encode()).decode()
    enc = kms.Encrypt(request(models.EncryptRequest, KeyId="seed-config-key", Plaintext=plaintext,
                              EncryptionContext=json.dumps({"app": "sign & test"})))
    dec = kms.Decrypt(request(models.DecryptRequest, CiphertextBlob=enc.CiphertextBlob,
                              EncryptionContext=json.dumps({"app": "sign & test"})))
    check(dec.Plaintext == plaintext, f"{what}: Encrypt then Decrypt")
    listed = kms.ListKeyDetail(request(models.ListKeyDetailRequest, Limit=5, KeyState=1))
    check(listed.TotalCount >= 1, f"{what}: ListKeyDetail")


for sign_method in ("HmacSHA256", "HmacSHA1"):
    for method in ("POST", "GET"):
        round_trip(client(method, sign_method), f"{sign_method} over {method}")
        try:
            client(method, sign_method, secret_key="wrong" * 6).Encrypt(
                request(models.EncryptRequest, KeyId="seed-config-key", Plaintext="eA=="))
            raise SystemExit(f"FAILED: {sign_method} over {method} with a wrong SecretKey succeeded")
        except TencentCloudSDKException as e:
            check(e.get_code() == "AuthFailure.SignatureFailure",
                  f"{sign_method} with a wrong key: got {e.get_code()} ({e.get_message()})")
round_trip(client("POST", unsigned=True), "TC3 with an unsigned payload")
print(f"the official Python SDK's other signatures over {checks.SCHEME}: {checks.passed} passed, 0 failed")
