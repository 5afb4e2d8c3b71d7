"""One keystore, three clouds: ciphertexts made through the Huawei and JD dialects decrypt through
Tencent's Decrypt (the official Tencent SDK), to exactly the plaintext their tests encrypted.

Usage: cross_dialect_test.py ENDPOINT CIPHERTEXT_FILE PLAINTEXT [CIPHERTEXT_FILE PLAINTEXT ...]
(each file holds one base64 CiphertextBlob); KEYCONSOLE_SECRET_ID / KEYCONSOLE_SECRET_KEY are
Tencent's pair. Prints "N passed, 0 failed".
"""
import base64
import os
import sys

import checks
from tencentcloud.common import credential
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.kms.v20190118 import kms_client, models

endpoint, pairs = sys.argv[1], sys.argv[2:]
if not pairs or len(pairs) % 2:
    raise SystemExit("usage: cross_dialect_test.py ENDPOINT (CIPHERTEXT_FILE PLAINTEXT)...")
kms = kms_client.KmsClient(
    credential.Credential(os.environ["KEYCONSOLE_SECRET_ID"], os.environ["KEYCONSOLE_SECRET_KEY"]),
    "ap-guangzhou", ClientProfile(httpProfile=checks.http_profile(endpoint, "POST")))
passed = 0
for path, expected in zip(pairs[::2], pairs[1::2]):
    request = models.DecryptRequest()
    request.CiphertextBlob = open(path).read().strip()
    plaintext = base64.b64decode(kms.Decrypt(request).Plaintext).decode()
    if plaintext != expected:
        raise SystemExit(f"FAILED: {path} decrypted to {plaintext!r}, not {expected!r}")
    passed += 1
print(f"ciphertexts of the other dialects through Tencent's Decrypt: {passed} passed, 0 failed")
