"""Huawei Cloud's official KMS SDK (huaweicloudsdkkms) against a running `keyconsole serve`, with
only the endpoint, the credentials and a project id changed: create a key, encrypt/decrypt data,
create and decrypt a data key, disable then refuse with the SDK's own exception, schedule and
cancel deletion, and a ciphertext made here that Tencent's Decrypt opens (one keystore, two clouds).

Usage: huawei_test.py ENDPOINT (host:port); KEYCONSOLE_SECRET_ID / KEYCONSOLE_SECRET_KEY in the
environment (the AK/SK for now); KEYCONSOLE_CA for HTTPS. Prints "N passed, 0 failed".
"""
import hashlib
import os
import sys
import uuid

from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkcore.http.http_config import HttpConfig
from huaweicloudsdkkms.v2 import (
    CancelKeyDeletionRequest, CreateDatakeyRequest, CreateDatakeyRequestBody, CreateKeyRequest,
    CreateKeyRequestBody, CreateRandomRequest, DecryptDataRequest, DecryptDataRequestBody,
    DecryptDatakeyRequest, DecryptDatakeyRequestBody, DeleteKeyRequest, DisableKeyRequest,
    EnableKeyRequest, EncryptDataRequest, EncryptDataRequestBody, GenRandomRequestBody, KmsClient,
    ListKeyDetailRequest, ListKeysRequest, ListKeysRequestBody, OperateKeyRequestBody,
    ScheduleKeyDeletionRequestBody,
)

ENDPOINT = sys.argv[1]
CA = os.environ.get("KEYCONSOLE_CA")
SCHEME = "https" if CA else "http"
passed = 0


def check(condition, what):
    global passed
    if not condition:
        raise SystemExit(f"FAILED: {what}")
    passed += 1


config = HttpConfig.get_default_config()
config.timeout = 10
if CA:
    config.ssl_ca_cert = CA
credentials = BasicCredentials(os.environ["KEYCONSOLE_SECRET_ID"], os.environ["KEYCONSOLE_SECRET_KEY"],
                               "0123456789abcdef0123456789abcdef")
kms = (KmsClient.new_builder().with_http_config(config).with_credentials(credentials)
       .with_endpoint(f"{SCHEME}://{ENDPOINT}").build())

alias = f"huawei-{uuid.uuid4().hex[:8]}"
created = kms.create_key(CreateKeyRequest(body=CreateKeyRequestBody(key_alias=alias, key_description="made by the Huawei SDK")))
key = created.key_info.key_id
check(str(uuid.UUID(key)) == key, "create-key answers a key_id")
detail = kms.list_key_detail(ListKeyDetailRequest(body=OperateKeyRequestBody(key_id=key))).key_info
check(detail.key_alias == alias and detail.key_state == "2" and detail.key_spec == "AES_256",
      f"describe-key: the alias, state \"2\", AES_256 ({detail.key_state}, {detail.key_spec})")

secret = "db password: 密码 {\"a\":1}"
encrypted = kms.encrypt_data(EncryptDataRequest(body=EncryptDataRequestBody(key_id=key, plain_text=secret)))
decrypted = kms.decrypt_data(DecryptDataRequest(body=DecryptDataRequestBody(cipher_text=encrypted.cipher_text)))
check(decrypted.plain_text == secret and decrypted.key_id == key, "encrypt-data / decrypt-data round trip")
with_aad = kms.encrypt_data(EncryptDataRequest(body=EncryptDataRequestBody(
    key_id=key, plain_text="bound", additional_authenticated_data="order-42")))
try:
    kms.decrypt_data(DecryptDataRequest(body=DecryptDataRequestBody(cipher_text=with_aad.cipher_text)))
    check(False, "decrypt-data without the AAD must fail")
except ClientRequestException as e:
    check(e.status_code == 400, f"decrypt-data without the AAD: HTTP 400 ({e.status_code} {e.error_code})")

data_key = kms.create_datakey(CreateDatakeyRequest(body=CreateDatakeyRequestBody(key_id=key, datakey_length="256")))
check(len(bytes.fromhex(data_key.plain_text)) == 32, "create-datakey: 256 bits, hex")
opened = kms.decrypt_datakey(DecryptDatakeyRequest(body=DecryptDatakeyRequestBody(
    key_id=key, cipher_text=data_key.cipher_text, datakey_cipher_length="32")))
check(opened.data_key == data_key.plain_text
      and opened.datakey_dgst == hashlib.sha256(bytes.fromhex(data_key.plain_text)).hexdigest(),
      "decrypt-datakey gives the data key and its SHA-256")

random = kms.create_random(CreateRandomRequest(body=GenRandomRequestBody(random_data_length="512")))
check(len(random.random_data) == 128, "gen-random: 512 bits as 128 hex digits")

listed = kms.list_keys(ListKeysRequest(body=ListKeysRequestBody(limit="100")))
check(key in listed.keys and listed.truncated == "false", "list-keys lists the key")

kms.disable_key(DisableKeyRequest(body=OperateKeyRequestBody(key_id=key)))
try:
    kms.encrypt_data(EncryptDataRequest(body=EncryptDataRequestBody(key_id=key, plain_text="x")))
    check(False, "encrypt-data under a disabled key must fail")
except ClientRequestException as e:
    check(e.status_code == 400 and e.error_code, f"a disabled key is refused with the SDK's exception ({e.error_code})")
scheduled = kms.delete_key(DeleteKeyRequest(body=ScheduleKeyDeletionRequestBody(key_id=key, pending_days="7")))
check(scheduled.key_state == "4", "schedule-key-deletion: state \"4\"")
cancelled = kms.cancel_key_deletion(CancelKeyDeletionRequest(body=OperateKeyRequestBody(key_id=key)))
check(cancelled.key_state == "3", "cancel-key-deletion: back to disabled, \"3\"")
kms.enable_key(EnableKeyRequest(body=OperateKeyRequestBody(key_id=key)))

# A wrong secret key is the gateway's 401.
bad = (KmsClient.new_builder().with_http_config(config)
       .with_credentials(BasicCredentials(os.environ["KEYCONSOLE_SECRET_ID"], "wrong", "0123456789abcdef0123456789abcdef"))
       .with_endpoint(f"{SCHEME}://{ENDPOINT}").build())
try:
    bad.create_random(CreateRandomRequest(body=GenRandomRequestBody(random_data_length="64")))
    check(False, "a wrong SK must be refused")
except ClientRequestException as e:
    check(e.status_code == 401 and e.error_code == "APIGW.0301", f"a wrong SK: 401 APIGW.0301 ({e.error_code})")

print(encrypted.cipher_text, file=open(os.environ.get("HUAWEI_CIPHERTEXT_OUT", os.devnull), "w"))
print(f"the official Huawei KMS SDK over {SCHEME}: {passed} passed, 0 failed")
