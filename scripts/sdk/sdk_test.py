"""Drives a running `keyconsole serve` through the official Tencent Cloud SDK for Python.

Usage: sdk_test.py ENDPOINT (host:port); KEYCONSOLE_SECRET_ID / KEYCONSOLE_SECRET_KEY in the environment.
Every step runs once over POST (JSON body) and once over GET (query string). Exits non-zero on the
first thing that is not as the cloud would answer.
"""
import base64
import json
import os
import sys
import uuid

import checks
from checks import check, refused, request
from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.kms.v20190118 import kms_client, models

ENDPOINT = sys.argv[1]
SECRET_ID = os.environ["KEYCONSOLE_SECRET_ID"]
SECRET_KEY = os.environ["KEYCONSOLE_SECRET_KEY"]


def client(method, secret_id=SECRET_ID, secret_key=SECRET_KEY, language="zh-CN"):
    http = checks.http_profile(ENDPOINT, method)
    return kms_client.KmsClient(credential.Credential(secret_id, secret_key), "ap-guangzhou",
                                ClientProfile(httpProfile=http, language=language))


def message_of(call):
    try:
        call()
    except TencentCloudSDKException as e:
        return e.get_message()
    raise SystemExit("FAILED: the call was expected to fail")








def b64(data):
    return base64.b64encode(data).decode()


def run(method):
    kms = client(method)
    status = kms.GetServiceStatus(request(models.GetServiceStatusRequest))
    check(status.ServiceEnabled is True and status.InvalidType == 1 and status.UserLevel == 0,
          "GetServiceStatus: enabled, InvalidType 1 (normal), UserLevel 0")
    alias = f"sdk-{method.lower()}-{uuid.uuid4().hex[:8]}"
    created = kms.CreateKey(request(models.CreateKeyRequest, Alias=alias, Description=f"made over {method}"))
    key = created.KeyId
    check(created.Alias == alias and created.KeyState == "Enabled" and created.KeyUsage == "ENCRYPT_DECRYPT",
          "CreateKey answers like the cloud")
    check(str(uuid.UUID(key)) == key, "KeyId is a UUID")

    secret = b"db password: S3cr3t!\x00\xff"
    enc = kms.Encrypt(request(models.EncryptRequest, KeyId=alias, Plaintext=b64(secret)))
    check(enc.KeyId == key, "Encrypt by alias names the KeyId")
    dec = kms.Decrypt(request(models.DecryptRequest, CiphertextBlob=enc.CiphertextBlob))
    check(base64.b64decode(dec.Plaintext) == secret and dec.KeyId == key, "Decrypt gives the plaintext back")

    context = json.dumps({"app": "billing", "env": "prod"})
    enc_ctx = kms.Encrypt(request(models.EncryptRequest, KeyId=key, Plaintext=b64(b"x"), EncryptionContext=context))
    dec_ctx = kms.Decrypt(request(models.DecryptRequest, CiphertextBlob=enc_ctx.CiphertextBlob,
                                  EncryptionContext=json.dumps({"env": "prod", "app": "billing"})))
    check(base64.b64decode(dec_ctx.Plaintext) == b"x", "the context is canonical (key order does not matter)")
    refused("InvalidParameterValue.InvalidCiphertext",
            lambda: kms.Decrypt(request(models.DecryptRequest, CiphertextBlob=enc_ctx.CiphertextBlob)),
            "Decrypt without the context")

    kms.DisableKey(request(models.DisableKeyRequest, KeyId=key))
    refused("ResourceUnavailable.CmkDisabled",
            lambda: kms.Encrypt(request(models.EncryptRequest, KeyId=key, Plaintext=b64(secret))),
            "Encrypt under a disabled key")
    # The SDK sends X-TC-Language (zh-CN unless told otherwise); messages follow it, codes do not.
    chinese = message_of(lambda: kms.Encrypt(request(models.EncryptRequest, KeyId=key, Plaintext=b64(secret))))
    check("已禁用" in chinese, f"the message is in Chinese for language zh-CN: {chinese}")
    english = message_of(lambda: client(method, language="en-US").Encrypt(
        request(models.EncryptRequest, KeyId=key, Plaintext=b64(secret))))
    check("is disabled" in english, f"the message is in English for language en-US: {english}")
    disabled = kms.ListKeyDetail(request(models.ListKeyDetailRequest, KeyState=2, Limit=200))
    check(key in [k.KeyId for k in disabled.KeyMetadatas], "ListKeyDetail KeyState=2 lists the disabled key")
    check(all(k.KeyState == "Disabled" for k in disabled.KeyMetadatas), "the state filter holds")
    kms.EnableKey(request(models.EnableKeyRequest, KeyId=key))
    enabled = kms.ListKeyDetail(request(models.ListKeyDetailRequest, KeyState=1, SearchKeyAlias=alias))
    check([k.KeyId for k in enabled.KeyMetadatas] == [key] and enabled.TotalCount == 1,
          "ListKeyDetail KeyState=1 with SearchKeyAlias finds the enabled key")

    data_key = kms.GenerateDataKey(request(models.GenerateDataKeyRequest, KeyId=key, KeySpec="AES_256"))
    check(len(base64.b64decode(data_key.Plaintext)) == 32, "GenerateDataKey AES_256 gives 32 bytes")
    opened = kms.Decrypt(request(models.DecryptRequest, CiphertextBlob=data_key.CiphertextBlob))
    check(opened.Plaintext == data_key.Plaintext, "Decrypt of the data key's blob gives the data key")

    other = kms.CreateKey(request(models.CreateKeyRequest, Alias=alias + "-b")).KeyId
    moved = kms.ReEncrypt(request(models.ReEncryptRequest, CiphertextBlob=enc.CiphertextBlob, DestinationKeyId=other))
    check(moved.KeyId == other and moved.SourceKeyId == key and moved.ReEncrypted, "ReEncrypt to another key")
    again = kms.Decrypt(request(models.DecryptRequest, CiphertextBlob=moved.CiphertextBlob))
    check(base64.b64decode(again.Plaintext) == secret and again.KeyId == other, "the re-encrypted blob decrypts")

    described = kms.DescribeKey(request(models.DescribeKeyRequest, KeyId=alias)).KeyMetadata
    check(described.KeyId == key and described.Description == f"made over {method}", "DescribeKey")
    listed = kms.ListKeys(request(models.ListKeysRequest, Limit=200))
    check(key in [k.KeyId for k in listed.Keys] and listed.TotalCount >= 2, "ListKeys")
    kms.EnableKeyRotation(request(models.EnableKeyRotationRequest, KeyId=key, RotateDays=90))
    check(kms.GetKeyRotationStatus(request(models.GetKeyRotationStatusRequest, KeyId=key)).KeyRotationEnabled,
          "EnableKeyRotation / GetKeyRotationStatus")
    random = kms.GenerateRandom(request(models.GenerateRandomRequest, NumberOfBytes=24))
    check(len(base64.b64decode(random.Plaintext)) == 24, "GenerateRandom")
    kms.DisableKeys(request(models.DisableKeysRequest, KeyIds=[key, other]))
    check(kms.DescribeKey(request(models.DescribeKeyRequest, KeyId=other)).KeyMetadata.KeyState == "Disabled",
          "DisableKeys (a list parameter)")

    refused("InvalidParameter.InvalidPendingWindowInDays",
            lambda: kms.ScheduleKeyDeletion(request(models.ScheduleKeyDeletionRequest, KeyId=key,
                                                    PendingWindowInDays=3)),
            "ScheduleKeyDeletion with 3 days")
    scheduled = kms.ScheduleKeyDeletion(request(models.ScheduleKeyDeletionRequest, KeyId=key, PendingWindowInDays=7))
    check(scheduled.DeletionDate > 0, "ScheduleKeyDeletion gives a DeletionDate")
    pending = kms.DescribeKey(request(models.DescribeKeyRequest, KeyId=key)).KeyMetadata
    check(pending.KeyState == "PendingDelete" and pending.DeletionDate == scheduled.DeletionDate, "PendingDelete")
    # Decrypt documents no code of its own for a key pending deletion: the category.
    refused("ResourceUnavailable",
            lambda: kms.Decrypt(request(models.DecryptRequest, CiphertextBlob=enc.CiphertextBlob)),
            "Decrypt under a key pending deletion")
    kms.CancelKeyDeletion(request(models.CancelKeyDeletionRequest, KeyId=key))
    check(kms.DescribeKey(request(models.DescribeKeyRequest, KeyId=key)).KeyMetadata.KeyState == "Disabled",
          "CancelKeyDeletion leaves the key Disabled")

    kms.EnableKeys(request(models.EnableKeysRequest, KeyIds=[other]))
    refused("ResourceUnavailable.CmkNotFound",
            lambda: kms.DescribeKey(request(models.DescribeKeyRequest, KeyId=str(uuid.uuid4()))), "an unknown key")
    refused("MissingParameter", lambda: kms.Encrypt(request(models.EncryptRequest, KeyId=other)),
            "Encrypt without Plaintext")
    refused("InvalidParameterValue.InvalidPlaintext",
            lambda: kms.Encrypt(request(models.EncryptRequest, KeyId=other, Plaintext=b64(bytes(4097)))),
            "4097 bytes of plaintext")
    refused("AuthFailure.SignatureFailure",
            lambda: client(method, secret_key="wrong" + SECRET_KEY[5:]).ListKeys(models.ListKeysRequest()),
            "a wrong SecretKey")
    refused("AuthFailure.SecretIdNotFound",
            lambda: client(method, secret_id="AKID" + "0" * 32).ListKeys(models.ListKeysRequest()),
            "an unknown SecretId")
    print(f"{method}: ok")


for method in ("POST", "GET"):
    run(method)
print(f"the official Python SDK over {checks.SCHEME}: {checks.passed} passed, 0 failed")
