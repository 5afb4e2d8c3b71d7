"""Huawei Cloud's official KMS and CSMS SDKs (huaweicloudsdkkms, huaweicloudsdkcsms) against a
running `keyconsole serve`, with only the endpoint, the credentials and a project id changed: create
a key, encrypt/decrypt data, create and decrypt a data key, disable then refuse with the SDK's own
exception, schedule and cancel deletion, seed 004's envelope steps, a secret's whole life, and a
ciphertext made here that Tencent's Decrypt opens (one keystore, two clouds).

Usage: huawei_test.py ENDPOINT (host:port); KEYCONSOLE_SECRET_ID / KEYCONSOLE_SECRET_KEY in the
environment (the keystore's Huawei AK/SK: `keyconsole api credentials --cloud huawei`);
TENCENT_SECRET_ID / TENCENT_SECRET_KEY (Tencent's pair, which Huawei requests must not pass);
KEYCONSOLE_CA for HTTPS. Prints "N passed, 0 failed".
"""
import hashlib
import importlib
import json
import os
import sys
import uuid

import checks
from checks import CA, SCHEME, check, must
import huaweicloudsdkcore.client as core_client
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkcore.http.http_config import HttpConfig
from huaweicloudsdkcsms.v1 import (
    CreateSecretRequest, CreateSecretRequestBody, CreateSecretVersionRequest,
    CreateSecretVersionRequestBody, CsmsClient, DeleteSecretForScheduleRequest,
    DeleteSecretForScheduleRequestBody, DeleteSecretRequest, ListSecretVersionsRequest,
    ListSecretsRequest, RestoreSecretRequest, ShowSecretRequest, ShowSecretStageRequest,
    ShowSecretVersionRequest, UpdateSecretRequest, UpdateSecretRequestBody,
    UpdateSecretStageRequest, UpdateSecretStageRequestBody,
)
from huaweicloudsdkkms.v2 import (
    CancelKeyDeletionRequest, CreateDatakeyRequest, CreateDatakeyRequestBody, CreateKeyRequest,
    CreateKeyRequestBody, CreateRandomRequest, DecryptDataRequest, DecryptDataRequestBody,
    DecryptDatakeyRequest, DecryptDatakeyRequestBody, DeleteKeyRequest, DisableKeyRequest,
    EnableKeyRequest, EncryptDataRequest, EncryptDataRequestBody, GenRandomRequestBody, KmsClient,
    ListKeyDetailRequest, ListKeysRequest, ListKeysRequestBody, OperateKeyRequestBody,
    ScheduleKeyDeletionRequestBody, ShowPublicKeyRequest, SignRequest, SignRequestBody,
    ValidateSignatureRequest, VerifyRequestBody,
)

ENDPOINT = sys.argv[1]


# Conformance: every successful answer, raw, against the SDK's own response model: each field
# the answer has is one the model declares (by its wire name), with the model's type (str, int,
# bool, lists, nested models; a bool is not an int), nested models likewise. Fields the model
# declares and the answer leaves out are counted, not failed (the SDK leaves them None).
TYPES = {"str": str, "int": int, "bool": bool, "float": (int, float), "object": object}
conformance = {"answers": 0, "fields": 0, "omitted": set()}


def conforms(value, type_name, model_module, where):
    if value is None:
        return
    if type_name.startswith("list["):
        must(isinstance(value, list), f"{where}: a list")
        for i, item in enumerate(value):
            conforms(item, type_name[5:-1], model_module, f"{where}[{i}]")
        return
    if type_name.startswith("dict("):
        must(isinstance(value, dict), f"{where}: an object")
        return
    if type_name in TYPES:
        ok = isinstance(value, TYPES[type_name]) and not (type_name == "int" and isinstance(value, bool))
        must(ok, f"{where}: {type_name} as the model says, not {type(value).__name__} ({value!r})")
        return
    conforms_model(value, getattr(model_module, type_name), model_module, where)


def conforms_model(value, model, model_module, where):
    must(isinstance(value, dict), f"{where}: an object ({model.__name__})")
    wire = {model.attribute_map[name]: name for name in model.openapi_types}
    for key, item in value.items():
        must(key in wire, f"{where}.{key}: a field {model.__name__} declares")
        conforms(item, model.openapi_types[wire[key]], model_module, f"{where}.{key}")
        conformance["fields"] += 1
    for key in wire:
        if key not in value and not key.startswith("x_"):
            conformance["omitted"].add(f"{model.__name__}.{key}")


answered = core_client.Client.sync_response_handler


def checked_answer(self, response, response_type, *rest):
    result = answered(self, response, response_type, *rest)
    if 200 <= response.status_code < 300 and response.content:
        model = type(result)
        module = importlib.import_module(model.__module__.rsplit(".", 1)[0])
        conforms_model(json.loads(response.content), model, module, model.__name__)
        conformance["answers"] += 1
    return result


core_client.Client.sync_response_handler = checked_answer


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

# Tencent's pair does not sign Huawei requests: each cloud has its own credentials.
tencent = (KmsClient.new_builder().with_http_config(config)
           .with_credentials(BasicCredentials(os.environ["TENCENT_SECRET_ID"], os.environ["TENCENT_SECRET_KEY"],
                                              "0123456789abcdef0123456789abcdef"))
           .with_endpoint(f"{SCHEME}://{ENDPOINT}").build())
try:
    tencent.create_random(CreateRandomRequest(body=GenRandomRequestBody(random_data_length="64")))
    check(False, "Tencent's credentials must not sign Huawei requests")
except ClientRequestException as e:
    check(e.status_code == 401, f"Tencent's pair on the Huawei dialect: 401 ({e.error_code})")

# Key pairs: get-publickey, sign (Huawei's default: a digest) checked by `cryptography`, verify;
# RSA and SM2 encrypt-data/decrypt-data with the key pair.
import base64  # noqa: E402

from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, utils  # noqa: E402

ecc = kms.create_key(CreateKeyRequest(body=CreateKeyRequestBody(
    key_alias=f"hw-ecc-{uuid.uuid4().hex[:6]}", key_spec="EC_P256", key_usage="SIGN_VERIFY"))).key_info.key_id
pem = kms.show_public_key(ShowPublicKeyRequest(body=OperateKeyRequestBody(key_id=ecc))).public_key
public = serialization.load_pem_public_key(pem.encode())
check(isinstance(public, ec.EllipticCurvePublicKey), "get-publickey: a PEM P-256 key")
digest = hashlib.sha256(b"signed through Huawei's SDK").digest()
signed = kms.sign(SignRequest(body=SignRequestBody(
    key_id=ecc, message=base64.b64encode(digest).decode(), signing_algorithm="ECDSA_SHA_256")))
public.verify(base64.b64decode(signed.signature), digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))
check(signed.key_id == ecc, "sign: a DER ECDSA signature cryptography verifies")
valid = kms.validate_signature(ValidateSignatureRequest(body=VerifyRequestBody(
    key_id=ecc, message=base64.b64encode(digest).decode(), signature=signed.signature,
    signing_algorithm="ECDSA_SHA_256")))
forged = kms.validate_signature(ValidateSignatureRequest(body=VerifyRequestBody(
    key_id=ecc, message=base64.b64encode(hashlib.sha256(b"other").digest()).decode(),
    signature=signed.signature, signing_algorithm="ECDSA_SHA_256")))
check(valid.signature_valid == "true" and forged.signature_valid == "false", "verify: \"true\" and \"false\"")
for spec, algorithm in (("RSA_2048", "RSAES_OAEP_SHA_256"), ("SM2", "SM2_ENCRYPT")):
    pair = kms.create_key(CreateKeyRequest(body=CreateKeyRequestBody(
        key_alias=f"hw-{spec.lower()}-{uuid.uuid4().hex[:6]}", key_spec=spec, key_usage="ENCRYPT_DECRYPT"))).key_info.key_id
    sealed = kms.encrypt_data(EncryptDataRequest(body=EncryptDataRequestBody(
        key_id=pair, plain_text="pair secret 密", encryption_algorithm=algorithm))).cipher_text
    opened = kms.decrypt_data(DecryptDataRequest(body=DecryptDataRequestBody(
        key_id=pair, cipher_text=sealed, encryption_algorithm=algorithm)))
    check(opened.plain_text == "pair secret 密", f"{spec}: encrypt-data / decrypt-data with {algorithm}")

# A team's read-only user (READER_SECRET_ID / READER_SECRET_KEY, its Huawei pair): it lists keys
# and is refused encryption with 403, which the SDK raises as its own exception.
if os.environ.get("READER_SECRET_ID"):
    reader = (KmsClient.new_builder().with_http_config(config)
              .with_credentials(BasicCredentials(os.environ["READER_SECRET_ID"], os.environ["READER_SECRET_KEY"],
                                                 "0123456789abcdef0123456789abcdef"))
              .with_endpoint(f"{SCHEME}://{ENDPOINT}").build())
    check(key in reader.list_keys(ListKeysRequest(body=ListKeysRequestBody(limit="1000"))).keys,
          "a read-only user lists keys")
    try:
        reader.encrypt_data(EncryptDataRequest(body=EncryptDataRequestBody(key_id=key, plain_text="x")))
        check(False, "a read-only user may not encrypt")
    except ClientRequestException as e:
        check(e.status_code == 403 and e.error_code == "KMS.0303" and "kms:Encrypt" in e.error_msg,
              f"a read-only user's encrypt-data: 403 KMS.0303 naming the action ({e.status_code} {e.error_code})")

# A region and no project id: the SDK first asks IAM for the project, here keyconsole's
# GET /v3/projects (the credentials' with_iam_endpoint, as HUAWEICLOUD_SDK_IAM_ENDPOINT sets it).
from huaweicloudsdkcore.region.region import Region  # noqa: E402

regional = (KmsClient.new_builder().with_http_config(config)
            .with_credentials(BasicCredentials(os.environ["KEYCONSOLE_SECRET_ID"], os.environ["KEYCONSOLE_SECRET_KEY"])
                              .with_iam_endpoint(f"{SCHEME}://{ENDPOINT}"))
            .with_region(Region("local-1", f"{SCHEME}://{ENDPOINT}")).build())
check(len(regional.create_random(CreateRandomRequest(body=GenRandomRequestBody(random_data_length="64")))
          .random_data) == 16, "a region without a project id: the project comes from GET /v3/projects")

# Seed 004: create a CMK, create-datakey, encrypt a file locally with the plaintext DEK (AES-GCM
# here, as the seed's Java sample), keep only the encrypted DEK, and decrypt-datakey to open it.
from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: E402

cmk = kms.create_key(CreateKeyRequest(body=CreateKeyRequestBody(key_alias=f"seed004-{uuid.uuid4().hex[:6]}"))).key_info.key_id
dek = kms.create_datakey(CreateDatakeyRequest(body=CreateDatakeyRequestBody(key_id=cmk, datakey_length="256")))
nonce = os.urandom(12)
document = b"seed 004: a file encrypted locally under a data key " * 100
sealed_file = AESGCM(bytes.fromhex(dek.plain_text)).encrypt(nonce, document, None)
encrypted_dek = dek.cipher_text  # all the seed keeps beside the file
reopened = kms.decrypt_datakey(DecryptDatakeyRequest(body=DecryptDatakeyRequestBody(
    key_id=cmk, cipher_text=encrypted_dek, datakey_cipher_length="32")))
check(AESGCM(bytes.fromhex(reopened.data_key)).decrypt(nonce, sealed_file, None) == document,
      "seed 004: the file opens with the data key decrypt-datakey gives back")

# CSMS: a secret's whole life.
csms = (CsmsClient.new_builder().with_http_config(config).with_credentials(credentials)
        .with_endpoint(f"{SCHEME}://{ENDPOINT}").build())
name = f"hw-secret-{uuid.uuid4().hex[:8]}"
made = csms.create_secret(CreateSecretRequest(body=CreateSecretRequestBody(
    name=name, secret_string="password-one 密码", description="made by the CSMS SDK"))).secret
check(made.name == name and made.state == "ENABLED" and made.kms_key_id and isinstance(made.create_time, int),
      f"create-secret: ENABLED under a KMS key ({made.state})")
shown = csms.show_secret(ShowSecretRequest(secret_name=name)).secret
check(shown.description == "made by the CSMS SDK" and shown.secret_type == "COMMON", "show-secret")
listed = csms.list_secrets(ListSecretsRequest(limit="200"))
check(any(s.name == name for s in listed.secrets) and listed.page_info.current_count == len(listed.secrets),
      "list-secrets lists it")
second = csms.create_secret_version(CreateSecretVersionRequest(
    secret_name=name, body=CreateSecretVersionRequestBody(secret_string="password-two"))).version_metadata
check(second.id == "v2" and second.version_stages == ["SYSCURRENT"], f"create-secret-version: v2 is SYSCURRENT ({second})")
latest = csms.show_secret_version(ShowSecretVersionRequest(secret_name=name, version_id="latest")).version
check(latest.secret_string == "password-two" and latest.version_metadata.id == "v2", "versions/latest is the newest value")
first = csms.show_secret_version(ShowSecretVersionRequest(secret_name=name, version_id="v1")).version
check(first.secret_string == "password-one 密码" and first.version_metadata.version_stages == ["SYSPREVIOUS"],
      "v1 keeps its value and is SYSPREVIOUS")
versions = csms.list_secret_versions(ListSecretVersionsRequest(secret_name=name)).version_metadatas
check([v.id for v in versions] == ["v2", "v1"], f"list-secret-versions, newest first ({[v.id for v in versions]})")
stage = csms.show_secret_stage(ShowSecretStageRequest(secret_name=name, stage_name="SYSCURRENT")).stage
check(stage.version_id == "v2" and stage.secret_name == name, "stages/SYSCURRENT names v2")
updated = csms.update_secret(UpdateSecretRequest(secret_name=name, body=UpdateSecretRequestBody(description="changed"))).secret
check(updated.description == "changed", "update-secret: the description")
try:
    csms.update_secret_stage(UpdateSecretStageRequest(secret_name=name, stage_name="SYSCURRENT",
                                                      body=UpdateSecretStageRequestBody(version_id="v1")))
    check(False, "moving a stage is refused: keyconsole does not keep stages")
except ClientRequestException as e:
    check(e.status_code == 400 and "stages" in e.error_msg, f"update-secret-stage refused, saying why ({e.error_msg})")
binary = csms.create_secret(CreateSecretRequest(body=CreateSecretRequestBody(
    name=name + "-bin", secret_binary="AAECAwQF/w=="))).secret
check(csms.show_secret_version(ShowSecretVersionRequest(secret_name=binary.name, version_id="latest"))
      .version.secret_binary == "AAECAwQF/w==", "a binary secret comes back as the same base64")
pending = csms.delete_secret_for_schedule(DeleteSecretForScheduleRequest(
    secret_name=name, body=DeleteSecretForScheduleRequestBody(recovery_window_in_days=7))).secret
check(pending.state == "PENDING_DELETE" and pending.scheduled_delete_time > made.create_time,
      "delete-secret-for-schedule: PENDING_DELETE with a time")
try:
    csms.show_secret_version(ShowSecretVersionRequest(secret_name=name, version_id="latest"))
    check(False, "a secret pending deletion gives no value")
except ClientRequestException as e:
    check(e.status_code == 400 and e.error_code == "CSMS.0103", f"pending deletion: 400 CSMS.0103 ({e.error_code})")
restored = csms.restore_secret(RestoreSecretRequest(secret_name=name)).secret
check(restored.state == "ENABLED", "restore-secret: ENABLED again")
csms.delete_secret(DeleteSecretRequest(secret_name=name))
csms.delete_secret(DeleteSecretRequest(secret_name=binary.name))
try:
    csms.show_secret(ShowSecretRequest(secret_name=name))
    check(False, "a deleted secret is gone")
except ClientRequestException as e:
    check(e.status_code == 404 and e.error_code == "CSMS.0005", f"deleted: 404 CSMS.0005 ({e.error_code})")

with open(os.environ.get("HUAWEI_CIPHERTEXT_OUT", os.devnull), "w") as out:
    out.write(encrypted.cipher_text)
check(conformance["answers"] >= 30, "every answer above was checked against its model")
print(f"Huawei answers against the SDK's models: {conformance['answers']} answers, {conformance['fields']} fields "
      f"conform; declared but not sent: {', '.join(sorted(conformance['omitted'])) or 'none'}")
print(f"the official Huawei KMS and CSMS SDKs over {SCHEME}: {checks.passed} passed, 0 failed")
