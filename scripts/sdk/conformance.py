"""The loopback API checked action by action against the official Python SDK's own models.

Usage: conformance.py ENDPOINT [--table FILE] [--readme README.md]
KEYCONSOLE_SECRET_ID / KEYCONSOLE_SECRET_KEY in the environment (KEYCONSOLE_CA for HTTPS).

For every action of the KMS and Secrets Manager clients it asks the server whether it is served
(an empty call answered InvalidAction is not). For every served action it runs representative
calls, over POST and over GET, and checks:
- answers: every field the SDK's response model declares is there with the model's type (int,
  str, bool, float, lists, nested models; null only where the model says the field may be null),
  and no field the model does not declare (the SDK warns of those);
- parameters: every parameter the request model documents is used by a call that succeeded
  (the calls check its effect), or, given a value other than its default, is refused with a code
  (never silently dropped);
- error codes: every code an answer carries is one the cloud documents for that action
  (crates/api/src/tencent/error-codes.json, from the cloud's API reference) or one of its
  common codes, and is one the service's errorcodes.py knows.
It prints "<service>: N passed, M failed" and exits non-zero on any failure. With --table it
writes the coverage table (served / refused with a code / not served) as Markdown; with --readme
it checks that the README holds that very table between its coverage markers.
"""
import base64
import importlib
import inspect
import json
import os
import re
import sys
import uuid

import checks
from tencentcloud.common import credential
from tencentcloud.common.common_client import CommonClient
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile

HERE = os.path.dirname(os.path.abspath(__file__))
CODES_FILE = os.path.join(HERE, "..", "..", "crates", "api", "src", "tencent", "error-codes.json")
DOCUMENTED = json.load(open(CODES_FILE, encoding="utf-8"))
# The cloud's common error codes: any action may answer them.
COMMON = {
    "AuthFailure.InvalidAuthorization", "AuthFailure.InvalidSecretId", "AuthFailure.MFAFailure",
    "AuthFailure.SecretIdNotFound", "AuthFailure.SignatureExpire", "AuthFailure.SignatureFailure",
    "AuthFailure.TokenFailure", "AuthFailure.UnauthorizedOperation", "DryRunOperation",
    "FailedOperation", "InternalError", "InvalidAction", "InvalidParameter", "InvalidParameterValue",
    "InvalidRequest", "IpInBlacklist", "IpNotInWhitelist", "LimitExceeded", "MissingParameter",
    "NoSuchProduct", "NoSuchVersion", "RequestLimitExceeded",
    "RequestLimitExceeded.GlobalRegionUinLimitExceeded", "RequestLimitExceeded.IPLimitExceeded",
    "RequestLimitExceeded.UinLimitExceeded", "RequestSizeLimitExceeded", "ResourceInUse",
    "ResourceInsufficient", "ResourceNotFound", "ResourceUnavailable", "ResponseSizeLimitExceeded",
    "ServiceUnavailable", "UnauthorizedOperation", "UnknownParameter", "UnsupportedOperation",
    "UnsupportedProtocol", "UnsupportedRegion",
}
SERVICES = {
    "kms": ("2019-01-18", "tencentcloud.kms.v20190118", "kms_client", "KmsClient"),
    "ssm": ("2019-09-23", "tencentcloud.ssm.v20190923", "ssm_client", "SsmClient"),
}
# Served actions whose successful answers need a database (they rotate its password): their
# shapes are checked by database_test.py, against a private MariaDB, with check_answer below.
CHECKED_WITH_A_DATABASE = {"DescribeRotationDetail", "DescribeRotationHistory", "UpdateRotationStatus",
                           "RotateProductSecret", "CreateProductSecret", "DescribeAsyncRequestInfo"}
# What a documented parameter keyconsole does not do is refused with.
REFUSALS = {"UnsupportedOperation", "InvalidParameterValue.InvalidHsmClusterId"}
TABLE_BEGIN = "<!-- conformance table: scripts/sdk/conformance.py writes it -->"
TABLE_END = "<!-- end of conformance table -->"


# ---- the SDK's models ----

def model_fields(cls):
    """name -> (type, may be null) from the model's docstring (`:param _X:` / `:type X:`)."""
    fields, current = {}, None
    for line in (cls.__init__.__doc__ or "").splitlines():
        m = re.match(r"\s*:param _?(\w+):(.*)", line)
        if m:
            current = m.group(1)
            fields[current] = {"doc": m.group(2), "type": None}
            continue
        m = re.match(r"\s*:type (\w+): (.*)", line)
        if m and m.group(1) in fields:
            fields[m.group(1)]["type"] = m.group(2).strip()
            current = None
            continue
        if current:
            fields[current]["doc"] += line
    return {name: (f["type"], "null" in f["doc"]) for name, f in fields.items()}


def model_class(models, type_text):
    name = type_text.split(".")[-1].strip("`")
    return getattr(models, name, None)


def type_problems(models, value, type_text, path):
    """What is wrong with `value` as the model's `type_text` (an empty list when nothing)."""
    if type_text.startswith("list of "):
        if not isinstance(value, list):
            return [f"{path} is {type(value).__name__}, the model says a list"]
        problems = []
        for i, item in enumerate(value):
            problems += type_problems(models, item, type_text[len("list of "):], f"{path}[{i}]")
        return problems
    simple = {"int": (int,), "str": (str,), "bool": (bool,), "float": (int, float)}
    if type_text in simple:
        ok = isinstance(value, simple[type_text]) and (type_text == "bool" or not isinstance(value, bool))
        return [] if ok else [f"{path} is {type(value).__name__} {value!r:.40}, the model says {type_text}"]
    cls = model_class(models, type_text)
    if cls is None:
        return [f"{path}: the model's type {type_text} is unknown to this script"]
    if not isinstance(value, dict):
        return [f"{path} is {type(value).__name__}, the model says {cls.__name__}"]
    return object_problems(models, value, cls, path)


def object_problems(models, value, cls, path):
    problems = []
    fields = model_fields(cls)
    for name, (type_text, nullable) in fields.items():
        if value.get(name) is None:
            if not nullable:
                problems.append(f"{path}.{name} is missing (the model does not say it may be null)")
            continue
        problems += type_problems(models, value[name], type_text, f"{path}.{name}")
    for name in value:
        if name not in fields:
            problems.append(f"{path}.{name} is not in the model (the SDK warns of it)")
    return problems


def check_answer(service, action, answer):
    """The problems of a successful answer (the `Response` object) against the SDK's model."""
    models = importlib.import_module(SERVICES[service][1] + ".models")
    return object_problems(models, answer, getattr(models, action + "Response"), action)


def probe_value(models, type_text):
    """A value other than the default, of the parameter's type."""
    if type_text.startswith("list of "):
        return [probe_value(models, type_text[len("list of "):])]
    simple = {"int": 7, "str": "conformance-probe", "bool": True, "float": 1.5}
    if type_text in simple:
        return simple[type_text]
    cls = model_class(models, type_text)
    fields = model_fields(cls) if cls else {}
    return {name: probe_value(models, t) for name, (t, _) in list(fields.items())[:2]}


# ---- the run ----

class Conformance:
    def __init__(self, endpoint, method):
        self.method = method
        cred = credential.Credential(os.environ["KEYCONSOLE_SECRET_ID"], os.environ["KEYCONSOLE_SECRET_KEY"])
        profile = ClientProfile(httpProfile=checks.http_profile(endpoint, method))
        self.clients = {name: CommonClient(name, version, cred, "ap-guangzhou", profile=profile)
                        for name, (version, *_rest) in SERVICES.items()}
        self.models = {name: importlib.import_module(spec[1] + ".models") for name, spec in SERVICES.items()}
        self.errorcodes = {}
        for name, spec in SERVICES.items():
            module = importlib.import_module(spec[1] + ".errorcodes")
            self.errorcodes[name] = {v for k, v in vars(module).items() if k.isupper() and isinstance(v, str)}
        self.passed = {name: 0 for name in SERVICES}
        self.failures = {name: [] for name in SERVICES}
        self.used = {}       # (service, action) -> parameters of calls that succeeded
        self.refused = {}    # (service, action) -> parameters refused by probes
        self.bases = {}      # (service, action) -> a function giving parameters that succeed
        self.called = set()  # (service, action) with a successful call

    def check(self, service, ok, what):
        if ok:
            self.passed[service] += 1
        else:
            self.failures[service].append(f"{self.method} {what}")

    def call(self, service, action, params, expect=None, base=None):
        """Calls `action`; checks the answer or the error code. Returns the Response object of a
        success (None for an error). `expect` is the code the call must fail with."""
        if base is not None:
            self.bases[(service, action)] = base
        try:
            answer = self.clients[service].call_json(action, params)["Response"]
        except TencentCloudSDKException as e:
            code = e.get_code()
            documented = code in COMMON or code in DOCUMENTED[service].get(action, [])
            self.check(service, documented, f"{action}: {code} is not a code the cloud documents for it "
                                            f"({e.get_message()})")
            self.check(service, code in COMMON or code in self.errorcodes[service],
                       f"{action}: {code} is not in the SDK's errorcodes.py")
            self.check(service, expect is not None,
                       f"{action} {json.dumps(params)[:200]} failed: {code} {e.get_message()}")
            if expect not in (None, "any"):
                self.check(service, code == expect, f"{action}: expected {expect}, got {code} ({e.get_message()})")
            return None
        self.check(service, expect is None, f"{action}: expected {expect}, but it succeeded")
        for problem in check_answer(service, action, answer):
            self.check(service, False, problem)
        self.check(service, True, f"{action} answered")
        self.used.setdefault((service, action), set()).update(k for k, v in params.items() if v is not None)
        self.called.add((service, action))
        return answer

    def served(self, service):
        """Every action of the SDK's client, and whether the server serves it."""
        _, package, module, client = SERVICES[service]
        cls = getattr(importlib.import_module(f"{package}.{module}"), client)
        actions = sorted(n for n, _ in inspect.getmembers(cls, inspect.isfunction) if n[:1].isupper())
        served = {}
        for action in actions:
            try:
                self.clients[service].call_json(action, {})
                served[action] = True
            except TencentCloudSDKException as e:
                served[action] = e.get_code() != "InvalidAction"
        return served

    def probe_parameters(self, service, actions):
        """Each documented parameter no successful call used is given a value other than its
        default on a call that succeeds without it: it must be refused with a code."""
        models = self.models[service]
        for action in actions:
            request = getattr(models, action + "Request")
            base = self.bases.get((service, action))
            for name, (type_text, _) in model_fields(request).items():
                if name in self.used.get((service, action), set()):
                    continue
                if base is None:
                    self.check(service, action in CHECKED_WITH_A_DATABASE,
                               f"{action}: {name} is neither used by a call nor probed (no base call)")
                    continue
                params = dict(base())
                params[name] = probe_value(models, type_text)
                try:
                    self.clients[service].call_json(action, params)
                    self.check(service, False, f"{action}: {name}={params[name]!r} was accepted but no call "
                                               f"shows it honoured (silently dropped?)")
                except TencentCloudSDKException as e:
                    # Refused because keyconsole does not do it, not for some other reason that
                    # would hide a parameter dropped unread.
                    self.check(service, e.get_code() in REFUSALS,
                               f"{action}: {name} was refused with {e.get_code()} ({e.get_message()}); "
                               f"a refusal of what keyconsole does not do is one of {sorted(REFUSALS)}")
                    self.check(service, e.get_code() in COMMON or e.get_code() in DOCUMENTED[service].get(action, []),
                               f"{action}: {e.get_code()} is not a code the cloud documents for it")
                self.refused.setdefault((service, action), set()).add(name)


def fresh(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def b64(data):
    return base64.b64encode(data).decode()


def kms_cases(run):
    call = lambda action, params, **kw: run.call("kms", action, params, **kw)
    tags = [{"TagKey": "env", "TagValue": "prod"}, {"TagKey": "项目", "TagValue": "支付 (一期)"}]
    call("GetServiceStatus", {})
    created = call("CreateKey", {"Alias": fresh("conf"), "Description": "conformance", "KeyUsage": "ENCRYPT_DECRYPT",
                                 "Type": 1, "Tags": tags, "HsmClusterId": ""},
                   base=lambda: {"Alias": fresh("conf")})
    key = created["KeyId"]
    other = call("CreateKey", {"Alias": fresh("conf-other")})["KeyId"]
    call("CreateKey", {"Alias": created["Alias"]}, expect="InvalidParameterValue.AliasAlreadyExists")
    call("CreateKey", {"Alias": fresh("conf"), "HsmClusterId": "cls-1"},
         expect="InvalidParameterValue.InvalidHsmClusterId")
    call("CreateKey", {"Alias": fresh("conf"), "Tags": tags + [{"TagKey": "env", "TagValue": "dev"}]},
         expect="InvalidParameterValue.TagKeysDuplicated")
    call("CreateKey", {"Alias": fresh("conf"), "Unknown": 1}, expect="UnknownParameter")

    described = call("DescribeKey", {"KeyId": key}, base=lambda: {"KeyId": key})["KeyMetadata"]
    run.check("kms", described["Type"] in (2, 4), "KeyMetadata.Type is 2 (FIPS) or 4 (SM)")
    run.check("kms", described["ResourceId"] == f"creatorUin/{described['CreatorUin']}/{key}",
              f"KeyMetadata.ResourceId is creatorUin/$uin/$keyId: {described['ResourceId']}")
    run.check("kms", described["Origin"] == "TENCENT_KMS" and described["Owner"] == "user",
              "a key the user made is TENCENT_KMS, owned by user")
    call("DescribeKey", {"KeyId": str(uuid.uuid4())}, expect="ResourceUnavailable.CmkNotFound")
    call("DescribeKeys", {"KeyIds": [key, other]}, base=lambda: {"KeyIds": [key]})
    call("GetKeyRotationStatus", {"KeyId": key}, base=lambda: {"KeyId": key})

    listed = call("ListKeys", {"Offset": 0, "Limit": 200, "Role": 0, "HsmClusterId": ""},
                  base=lambda: {"Limit": 1})
    run.check("kms", {key, other} <= {k["KeyId"] for k in listed["Keys"]}, "ListKeys lists the keys")
    detail = lambda **p: call("ListKeyDetail", dict({"Limit": 200}, **p))
    run.bases[("kms", "ListKeyDetail")] = lambda: {"Limit": 1}
    ids = lambda answer: {k["KeyId"] for k in answer["KeyMetadatas"]}
    run.check("kms", key in ids(detail(Offset=0, OrderType=1, KeyState=1, SearchKeyAlias=created["Alias"][:12])),
              "ListKeyDetail finds the key by alias")
    run.check("kms", all(k["Origin"] == "EXTERNAL" for k in detail(Origin="EXTERNAL")["KeyMetadatas"])
              and key not in ids(detail(Origin="EXTERNAL")), "Origin=EXTERNAL lists EXTERNAL keys only")
    run.check("kms", key in ids(detail(Origin="TENCENT_KMS", KeyUsage="ALL")), "Origin=TENCENT_KMS lists the key")
    by_usage = detail(KeyUsage="ASYMMETRIC_SIGN_VERIFY_SM2")["KeyMetadatas"]
    run.check("kms", key not in {k["KeyId"] for k in by_usage}
              and all(k["KeyUsage"] == "ASYMMETRIC_SIGN_VERIFY_SM2" for k in by_usage),
              "KeyUsage lists keys of that usage only")
    run.check("kms", all(k["KeyUsage"] == "ENCRYPT_DECRYPT" for k in detail()["KeyMetadatas"]),
              "no KeyUsage lists ENCRYPT_DECRYPT keys only")
    tagged = ids(detail(TagFilters=[{"TagKey": "env", "TagValue": ["prod", "test"]}]))
    run.check("kms", key in tagged and other not in tagged, "TagFilters lists only the tagged key")
    run.check("kms", ids(detail(TagFilters=[{"TagKey": "env", "TagValue": ["dev"]}])) & {key} == set(),
              "TagFilters with another value does not list it")
    run.check("kms", key not in ids(detail(Role=1)), "Role=1 lists only keys services made")
    detail(HsmClusterId="", KeyState=0)

    plaintext = b64("conformance plaintext 中文".encode())
    context = json.dumps({"app": "conformance"})
    encrypted = call("Encrypt", {"KeyId": key, "Plaintext": plaintext, "EncryptionContext": context},
                     base=lambda: {"KeyId": key, "Plaintext": plaintext})
    blob = encrypted["CiphertextBlob"]
    call("Decrypt", {"CiphertextBlob": blob, "EncryptionContext": context},
         base=lambda: {"CiphertextBlob": blob, "EncryptionContext": context})
    call("Decrypt", {"CiphertextBlob": blob}, expect="InvalidParameterValue.InvalidCiphertext")
    tampered = blob[:-6] + ("AAAA" if blob[-6:-2] != "AAAA" else "BBBB") + blob[-2:]
    call("Decrypt", {"CiphertextBlob": tampered, "EncryptionContext": context},
         expect="InvalidParameterValue.InvalidCiphertext")
    call("ReEncrypt", {"CiphertextBlob": blob, "DestinationKeyId": other, "SourceEncryptionContext": context,
                       "DestinationEncryptionContext": "{\"to\":\"other\"}"},
         base=lambda: {"CiphertextBlob": blob, "SourceEncryptionContext": context})
    call("GenerateDataKey", {"KeyId": key, "KeySpec": "AES_256", "EncryptionContext": context, "HsmClusterId": ""},
         base=lambda: {"KeyId": key, "KeySpec": "AES_128"})
    call("GenerateDataKey", {"KeyId": key, "NumberOfBytes": 48})
    call("GenerateRandom", {"NumberOfBytes": 32}, base=lambda: {"NumberOfBytes": 16})

    call("UpdateAlias", {"KeyId": key, "Alias": fresh("conf-renamed")},
         base=lambda: {"KeyId": key, "Alias": fresh("conf-renamed")})
    call("UpdateKeyDescription", {"KeyId": key, "Description": "changed"},
         base=lambda: {"KeyId": key, "Description": "again"})
    call("EnableKeyRotation", {"KeyId": key, "RotateDays": 30}, base=lambda: {"KeyId": key})
    call("DisableKeyRotation", {"KeyId": key}, base=lambda: {"KeyId": key})
    before = call("DescribeKey", {"KeyId": key})["KeyMetadata"]
    call("RotateKey", {"KeyId": key}, base=lambda: {"KeyId": key})
    after = call("DescribeKey", {"KeyId": key})["KeyMetadata"]
    run.check("kms", after["LastRotateTime"] >= before["CreateTime"] and after["LastRotateTime"] > 0,
              "RotateKey rotates: LastRotateTime is set")
    run.check("kms", call("Decrypt", {"CiphertextBlob": blob, "EncryptionContext": context}) is not None,
              "a ciphertext from before RotateKey still decrypts")

    call("DisableKey", {"KeyId": other}, base=lambda: {"KeyId": other})
    call("Encrypt", {"KeyId": other, "Plaintext": plaintext}, expect="ResourceUnavailable.CmkDisabled")
    call("RotateKey", {"KeyId": other}, expect="ResourceUnavailable.CmkStateNotSupport")
    call("EnableKey", {"KeyId": other}, base=lambda: {"KeyId": other})
    call("DisableKeys", {"KeyIds": [other]}, base=lambda: {"KeyIds": [other]})
    call("EnableKeys", {"KeyIds": [other]}, base=lambda: {"KeyIds": [other]})
    call("ArchiveKey", {"KeyId": other}, base=lambda: {"KeyId": other})
    call("Encrypt", {"KeyId": other, "Plaintext": plaintext}, expect="ResourceUnavailable.CmkArchived")
    call("CancelKeyArchive", {"KeyId": other}, base=lambda: {"KeyId": other})

    doomed = call("CreateKey", {"Alias": fresh("conf-doomed")})["KeyId"]
    call("ScheduleKeyDeletion", {"KeyId": doomed, "PendingWindowInDays": 7},
         expect="ResourceUnavailable.CmkShouldBeDisabled")
    call("DisableKey", {"KeyId": doomed})

    def doomed_key():
        k = call("CreateKey", {"Alias": fresh("conf-doomed")})["KeyId"]
        call("DisableKey", {"KeyId": k})
        return {"KeyId": k, "PendingWindowInDays": 7}
    call("ScheduleKeyDeletion", {"KeyId": doomed, "PendingWindowInDays": 7}, base=doomed_key)
    # Encrypt documents no code for a key pending deletion but its category.
    call("Encrypt", {"KeyId": doomed, "Plaintext": plaintext}, expect="ResourceUnavailable")
    call("CancelKeyDeletion", {"KeyId": doomed}, base=lambda: {"KeyId": call(
        "ScheduleKeyDeletion", doomed_key())["KeyId"]})

    key_pair_cases(run, call, key, blob, context)


def key_pair_cases(run, call, key, blob, context):
    """Key pairs: every usage, its public key, signatures both ways, decryption of what was
    encrypted to a public key, and answers encrypted to the caller's public key."""
    algorithms = call("ListAlgorithms", {})
    signing = {(a["KeyUsage"], a["Algorithm"]) for a in algorithms["AsymmetricSignVerifyAlgorithms"]}
    run.check("kms", ("ASYMMETRIC_SIGN_VERIFY_SM2", "SM2DSA") in signing
              and ("ASYMMETRIC_SIGN_VERIFY_RSA_2048", "RSA_PSS_SHA_256") in signing,
              "ListAlgorithms lists SM2DSA and RSA_PSS_SHA_256")
    sm4 = call("CreateKey", {"Alias": fresh("conf-sm4"), "Type": 4})["KeyId"]
    run.check("kms", call("DescribeKey", {"KeyId": sm4})["KeyMetadata"]["Type"] == 4, "an SM4 key is Type 4")
    call("CreateKey", {"Alias": fresh("conf"), "Type": 3}, expect="InvalidParameterValue.InvalidType")
    call("CreateKey", {"Alias": fresh("conf"), "KeyUsage": "SIGN"}, expect="InvalidParameterValue.InvalidKeyUsage")
    message = b64("报表 2026, final".encode())
    for usage, algorithm in sorted(signing):
        pair = call("CreateKey", {"Alias": fresh("conf-sign"), "KeyUsage": usage})["KeyId"]
        public = call("GetPublicKey", {"KeyId": pair}, base=lambda: {"KeyId": pair})
        run.check("kms", public["PublicKeyPem"].startswith("-----BEGIN PUBLIC KEY-----"), "GetPublicKey gives PEM")
        signed = call("SignByAsymmetricKey", {"KeyId": pair, "Algorithm": algorithm, "Message": message,
                                              "MessageType": "RAW"},
                      base=lambda: {"KeyId": pair, "Algorithm": algorithm, "Message": message})
        valid = call("VerifyByAsymmetricKey", {"KeyId": pair, "Algorithm": algorithm, "Message": message,
                                               "SignatureValue": signed["Signature"], "MessageType": "RAW"},
                     base=lambda: {"KeyId": pair, "Algorithm": algorithm, "Message": message,
                                   "SignatureValue": signed["Signature"]})
        run.check("kms", valid["SignatureValid"] is True, f"{algorithm}: the signature verifies")
        other = call("VerifyByAsymmetricKey", {"KeyId": pair, "Algorithm": algorithm, "Message": b64(b"other"),
                                               "SignatureValue": signed["Signature"]})
        run.check("kms", other["SignatureValid"] is False, f"{algorithm}: not for another message")
        digest = b64(bytes(48 if algorithm == "ECDSA384" else 32))
        signed = call("SignByAsymmetricKey", {"KeyId": pair, "Algorithm": algorithm, "Message": digest,
                                              "MessageType": "DIGEST"})
        call("SignByAsymmetricKey", {"KeyId": pair, "Algorithm": algorithm, "Message": b64(b"short"),
                                     "MessageType": "DIGEST"}, expect="InvalidParameterValue")
        call("Encrypt", {"KeyId": pair, "Plaintext": message}, expect="InvalidParameterValue")
        call("RotateKey", {"KeyId": pair}, expect="UnsupportedOperation.RotateNotSupported")
    call("SignByAsymmetricKey", {"KeyId": key, "Algorithm": "SM2DSA", "Message": message}, expect="InvalidParameterValue")

    secret = b64(b"answer me encrypted")
    rsa = call("CreateKey", {"Alias": fresh("conf-rsa"), "KeyUsage": "ASYMMETRIC_DECRYPT_RSA_2048"})["KeyId"]
    rsa_pem = call("GetPublicKey", {"KeyId": rsa})["PublicKeyPem"]
    for algorithm in ["RSAES_OAEP_SHA_256", "RSAES_OAEP_SHA_1", "RSAES_PKCS1_V1_5"]:
        # Decrypt's answer encrypted to the RSA key's public key, then opened by that key.
        sealed = call("Decrypt", {"CiphertextBlob": blob, "EncryptionContext": context,
                                  "EncryptionPublicKey": rsa_pem, "EncryptionAlgorithm": algorithm})["Plaintext"]
        opened = call("AsymmetricRsaDecrypt", {"KeyId": rsa, "Ciphertext": sealed, "Algorithm": algorithm},
                      base=lambda: {"KeyId": rsa, "Ciphertext": sealed, "Algorithm": algorithm})
        run.check("kms", base64.b64decode(opened["Plaintext"]) == "conformance plaintext 中文".encode(),
                  f"Decrypt's answer under {algorithm} opens with AsymmetricRsaDecrypt")
    data_key = call("GenerateDataKey", {"KeyId": key, "KeySpec": "AES_256", "EncryptionPublicKey": rsa_pem,
                                        "EncryptionAlgorithm": "RSAES_OAEP_SHA_256"})
    opened = call("AsymmetricRsaDecrypt", {"KeyId": rsa, "Ciphertext": data_key["Plaintext"],
                                           "Algorithm": "RSAES_OAEP_SHA_256"})
    plain = call("Decrypt", {"CiphertextBlob": data_key["CiphertextBlob"]})["Plaintext"]
    run.check("kms", opened["Plaintext"] == plain, "GenerateDataKey's plaintext came encrypted to the public key")
    call("AsymmetricRsaDecrypt", {"KeyId": rsa, "Ciphertext": secret, "Algorithm": "RSAES_OAEP_SHA_256"},
         expect="FailedOperation.DecryptError")
    sm2 = call("CreateKey", {"Alias": fresh("conf-sm2"), "KeyUsage": "ASYMMETRIC_DECRYPT_SM2"})["KeyId"]
    sm2_pem = call("GetPublicKey", {"KeyId": sm2})["PublicKeyPem"]
    sealed = call("Decrypt", {"CiphertextBlob": blob, "EncryptionContext": context, "EncryptionPublicKey": sm2_pem,
                              "EncryptionAlgorithm": "SM2_C1C3C2_ASN1"})["Plaintext"]
    opened = call("AsymmetricSm2Decrypt", {"KeyId": sm2, "Ciphertext": sealed},
                  base=lambda: {"KeyId": sm2, "Ciphertext": sealed})
    run.check("kms", base64.b64decode(opened["Plaintext"]) == "conformance plaintext 中文".encode(),
              "Decrypt's answer under SM2_C1C3C2_ASN1 opens with AsymmetricSm2Decrypt")
    raw = call("Decrypt", {"CiphertextBlob": blob, "EncryptionContext": context, "EncryptionPublicKey": sm2_pem})
    run.check("kms", len(base64.b64decode(raw["Plaintext"])) == 97 + len("conformance plaintext 中文".encode()),
              "the default EncryptionAlgorithm is SM2 C1C3C2 (97 bytes more than the plaintext)")
    call("AsymmetricSm2Decrypt", {"KeyId": rsa, "Ciphertext": sealed}, expect="InvalidParameterValue.InvalidKeyUsage")
    call("Decrypt", {"CiphertextBlob": blob, "EncryptionContext": context, "EncryptionPublicKey": "junk"},
         expect="InvalidParameterValue")
    call("DisableKey", {"KeyId": sm2})
    call("AsymmetricSm2Decrypt", {"KeyId": sm2, "Ciphertext": sealed}, expect="ResourceUnavailable.CmkStateNotSupport")
    call("GetPublicKey", {"KeyId": sm2}, expect="ResourceUnavailable.CmkStateNotSupport")

    # Imported material: wrapped here by the server's own Decrypt with EncryptionPublicKey (the
    # material, encrypted under a helper key, answered encrypted to the wrapping key).
    material = os.urandom(32)
    helper = call("CreateKey", {"Alias": fresh("conf-wrap")})["KeyId"]
    material_blob = call("Encrypt", {"KeyId": helper, "Plaintext": b64(material)})["CiphertextBlob"]
    byok = call("CreateKey", {"Alias": fresh("conf-byok"), "Type": 2})["KeyId"]
    meta = call("DescribeKey", {"KeyId": byok})["KeyMetadata"]
    run.check("kms", meta["Origin"] == "EXTERNAL" and meta["KeyState"] == "PendingImport",
              "CreateKey Type=2 makes an EXTERNAL key in PendingImport")
    call("Encrypt", {"KeyId": byok, "Plaintext": message}, expect="ResourceUnavailable")
    call("GetParametersForImport", {"KeyId": key, "WrappingAlgorithm": "RSAES_OAEP_SHA_256",
                                    "WrappingKeySpec": "RSA_2048"}, expect="UnsupportedOperation.NotExternalCmk")

    def wrapped(algorithm):
        params = call("GetParametersForImport", {"KeyId": byok, "WrappingAlgorithm": algorithm,
                                                 "WrappingKeySpec": "RSA_2048"},
                      base=lambda: {"KeyId": byok, "WrappingAlgorithm": algorithm})
        body = "\n".join(params["PublicKey"][i:i + 64] for i in range(0, len(params["PublicKey"]), 64))
        pem = f"-----BEGIN PUBLIC KEY-----\n{body}\n-----END PUBLIC KEY-----\n"
        sealed = call("Decrypt", {"CiphertextBlob": material_blob, "EncryptionPublicKey": pem,
                                  "EncryptionAlgorithm": algorithm})["Plaintext"]
        return params, sealed

    params, sealed = wrapped("RSAES_OAEP_SHA_1")
    call("ImportKeyMaterial", {"KeyId": byok, "EncryptedKeyMaterial": sealed, "ImportToken": "other"},
         expect="ResourceUnavailable.TokenExpired")
    call("ImportKeyMaterial", {"KeyId": byok, "EncryptedKeyMaterial": secret, "ImportToken": params["ImportToken"]},
         expect="InvalidParameter.DecryptMaterialError")
    call("ImportKeyMaterial", {"KeyId": byok, "EncryptedKeyMaterial": sealed, "ImportToken": params["ImportToken"],
                               "ValidTo": 0})
    byok_blob = call("Encrypt", {"KeyId": byok, "Plaintext": message})["CiphertextBlob"]
    call("RotateKey", {"KeyId": byok}, expect="UnsupportedOperation")
    call("EnableKeyRotation", {"KeyId": byok}, expect="UnsupportedOperation.ExternalCmkCanNotRotate")
    call("DeleteImportedKeyMaterial", {"KeyId": byok}, base=lambda: {"KeyId": byok})
    call("Decrypt", {"CiphertextBlob": byok_blob}, expect="any")
    params, sealed = wrapped("RSAES_PKCS1_V1_5")

    def reimport():
        p, s = wrapped("RSAES_PKCS1_V1_5")
        return {"KeyId": byok, "EncryptedKeyMaterial": s, "ImportToken": p["ImportToken"]}
    run.bases[("kms", "ImportKeyMaterial")] = reimport
    import time
    call("ImportKeyMaterial", {"KeyId": byok, "EncryptedKeyMaterial": sealed, "ImportToken": params["ImportToken"],
                               "ValidTo": int(time.time()) + 86400})
    after = call("DescribeKey", {"KeyId": byok})["KeyMetadata"]
    run.check("kms", after["KeyState"] == "Enabled" and after["ValidTo"] > 0, "the same material again, with a ValidTo")
    run.check("kms", base64.b64decode(call("Decrypt", {"CiphertextBlob": byok_blob})["Plaintext"])
              == base64.b64decode(message), "a ciphertext from before the deletion opens again")
    call("DeleteImportedKeyMaterial", {"KeyId": key}, expect="UnsupportedOperation.NotExternalCmk")
    call("DeleteImportedKeyMaterial", {"KeyId": byok})


def ssm_cases(run):
    call = lambda action, params, **kw: run.call("ssm", action, params, **kw)
    kms_key = run.call("kms", "CreateKey", {"Alias": fresh("conf-ssm")})["KeyId"]
    tags = [{"TagKey": "env", "TagValue": "prod"}]
    call("GetServiceStatus", {})
    name = fresh("conf-secret")
    created = call("CreateSecret", {"SecretName": name, "VersionId": "v1", "Description": "conformance",
                                    "KmsKeyId": kms_key, "SecretType": 0, "SecretString": "pass-1",
                                    "Tags": tags, "KmsHsmClusterId": "", "EncryptType": 0},
                   base=lambda: {"SecretName": fresh("conf-secret"), "SecretString": "x"})
    run.check("ssm", created["VersionId"] == "v1", "CreateSecret answers its version")
    call("CreateSecret", {"SecretName": fresh("conf-secret"), "SecretBinary": b64(bytes(range(64)))})
    call("CreateSecret", {"SecretName": name, "SecretString": "x"}, expect="ResourceInUse.SecretExists")
    call("CreateSecret", {"SecretName": fresh("conf-secret"), "SecretString": "x", "SecretType": 4},
         expect="InvalidParameterValue")
    call("GetSecretValue", {"SecretName": name, "VersionId": "v1"},
         base=lambda: {"SecretName": name, "VersionId": "v1"})
    pair = run.call("kms", "CreateKey", {"Alias": fresh("conf-ssm-rsa"), "KeyUsage": "ASYMMETRIC_DECRYPT_RSA_2048"})
    pem = run.call("kms", "GetPublicKey", {"KeyId": pair["KeyId"]})["PublicKeyPem"]
    sealed = call("GetSecretValue", {"SecretName": name, "VersionId": "v1", "EncryptionPublicKey": pem,
                                     "EncryptionAlgorithm": "RSAES_OAEP_SHA_1"})
    opened = run.call("kms", "AsymmetricRsaDecrypt", {"KeyId": pair["KeyId"], "Ciphertext": sealed["SecretString"],
                                                      "Algorithm": "RSAES_OAEP_SHA_1"})
    run.check("ssm", base64.b64decode(opened["Plaintext"]) == b"pass-1",
              "GetSecretValue with EncryptionPublicKey answers the value encrypted to it")
    call("DescribeSecret", {"SecretName": name}, base=lambda: {"SecretName": name})
    call("DescribeSecret", {"SecretName": fresh("absent")}, expect="ResourceNotFound")
    call("ListSecretVersionIds", {"SecretName": name}, base=lambda: {"SecretName": name})

    listing = lambda **p: {s["SecretName"] for s in call("ListSecrets", dict({"Limit": 100}, **p))["SecretMetadatas"]}
    run.bases[("ssm", "ListSecrets")] = lambda: {"Limit": 1}
    run.check("ssm", name in listing(Offset=0, OrderType=1, State=1, SearchSecretName=name[:15], SecretType=0,
                                     EncryptType=0), "ListSecrets finds the secret")
    run.check("ssm", name in listing(TagFilters=[{"TagKey": "env", "TagValue": ["prod"]}]),
              "TagFilters lists the tagged secret")
    run.check("ssm", name not in listing(TagFilters=[{"TagKey": "env", "TagValue": ["dev"]}]),
              "TagFilters with another value does not")
    run.check("ssm", listing(SecretType=1, ProductName="Mysql") & {name} == set(),
              "SecretType=1 lists database secrets only")
    run.check("ssm", listing(InstanceID="cdb-1") == set(), "InstanceID lists the secrets of that instance: none")
    run.check("ssm", listing(EncryptType=1) == set(), "EncryptType=1 (software key) lists none")
    run.check("ssm", call("ListSecrets", {"Limit": 0}) is not None, "Limit=0 is the default page")

    call("PutSecretValue", {"SecretName": name, "VersionId": "v2", "SecretString": "pass-2"},
         base=lambda: {"SecretName": name, "VersionId": fresh("v"), "SecretString": "x"})
    call("PutSecretValue", {"SecretName": name, "VersionId": "v3", "SecretBinary": b64(b"\x00\x02")})
    call("UpdateSecret", {"SecretName": name, "VersionId": "v2", "SecretBinary": b64(b"\x00\x01")},
         base=lambda: {"SecretName": name, "VersionId": "v2", "SecretString": "y"})
    call("UpdateSecret", {"SecretName": name, "VersionId": "v3", "SecretString": "pass-3"})
    call("DeleteSecretVersion", {"SecretName": name, "VersionId": "v3"})
    if run.method == "POST":
        # The largest legal values, as the SDK escapes them: 32,760 bytes of Chinese (each
        # character 6 bytes as \uXXXX) and 32 KiB of control characters (6 bytes each).
        for value in ("密" * 10920, "\x01" * 32768):
            big = fresh("conf-big")
            call("CreateSecret", {"SecretName": big, "SecretString": value})
            got = call("GetSecretValue", {"SecretName": big, "VersionId": "SSM_v1"})
            run.check("ssm", got is not None and got["SecretString"] == value,
                      f"a {len(value.encode())}-byte value round-trips")
        call("CreateSecret", {"SecretName": fresh("conf-big"), "SecretString": "x" * 32769},
             expect="InvalidParameterValue")
    else:
        # Over GET the same value makes a URL longer than the server's 64 KiB request line: the
        # cloud's JSON refusal, not a bare HTTP 414 (the cloud's own GET limit is 32 KB).
        call("CreateSecret", {"SecretName": fresh("conf-big"), "SecretString": "密" * 10920},
             expect="RequestSizeLimitExceeded")
    call("UpdateDescription", {"SecretName": name, "Description": "changed"},
         base=lambda: {"SecretName": name, "Description": "again"})
    call("DeleteSecretVersion", {"SecretName": name, "VersionId": "v2"},
         base=lambda: {"SecretName": name, "VersionId": call(
             "PutSecretValue", {"SecretName": name, "VersionId": fresh("v"), "SecretString": "x"})["VersionId"]})
    call("DescribeRotationDetail", {"SecretName": name}, expect="UnsupportedOperation")
    call("DescribeRotationHistory", {"SecretName": name}, expect="UnsupportedOperation")
    call("RotateProductSecret", {"SecretName": name}, expect="UnsupportedOperation")
    call("UpdateRotationStatus", {"SecretName": name, "EnableRotation": True, "Frequency": 30},
         expect="UnsupportedOperation")
    call("DisableSecret", {"SecretName": name}, base=lambda: {"SecretName": name})
    call("GetSecretValue", {"SecretName": name, "VersionId": "v1"},
         expect="ResourceUnavailable.ResourceDisabled")
    call("EnableSecret", {"SecretName": name}, base=lambda: {"SecretName": name})

    # SSH key pairs: made here, read back as the cloud sends them (base64 of the OpenSSH texts).
    ssh_name = fresh("conf-ssh")
    made = call("CreateSSHKeyPairSecret", {"SecretName": ssh_name, "ProjectId": 3, "Description": "deploy key",
                                           "KmsKeyId": kms_key, "Tags": tags, "SSHKeyName": "deploy_key",
                                           "KmsHsmClusterId": "", "EncryptType": 0},
                base=lambda: {"SecretName": fresh("conf-ssh")})
    run.check("ssm", made["SSHKeyName"] == "deploy_key" and made["SSHKeyID"].startswith("skey-"),
              "CreateSSHKeyPairSecret answers the pair's id and name")
    by_name = call("GetSSHKeyPairValue", {"SecretName": ssh_name},
                   base=lambda: {"SecretName": ssh_name})
    by_id = call("GetSSHKeyPairValue", {"SSHKeyId": made["SSHKeyID"]})
    public = base64.b64decode(by_name["PublicKey"]).decode()
    private = base64.b64decode(by_name["PrivateKey"]).decode()
    run.check("ssm", public.startswith("ssh-ed25519 AAAA") and "BEGIN OPENSSH PRIVATE KEY" in private
              and by_id["PrivateKey"] == by_name["PrivateKey"] and by_name["ProjectID"] == 3
              and by_name["SSHKeyDescription"] == "deploy key", "GetSSHKeyPairValue gives the pair")
    described = call("DescribeSecret", {"SecretName": ssh_name})
    run.check("ssm", described["SecretType"] == 2 and described["ResourceID"] == made["SSHKeyID"]
              and described["ResourceName"] == "deploy_key", "DescribeSecret: an SSH key pair")
    run.check("ssm", ssh_name in listing(SecretType=2) and ssh_name not in listing(),
              "ListSecrets SecretType=2 lists SSH key pairs (and only then)")
    call("GetSSHKeyPairValue", {"SecretName": name}, expect="UnsupportedOperation")
    call("PutSecretValue", {"SecretName": ssh_name, "VersionId": "v2", "SecretString": "x"},
         expect="UnsupportedOperation")
    call("CreateSSHKeyPairSecret", {"SecretName": fresh("conf-ssh"), "SSHKeyName": "has-dash"},
         expect="InvalidParameterValue")
    call("DeleteSecret", {"SecretName": ssh_name}, expect="FailedOperation")  # enabled: disable it first
    call("DisableSecret", {"SecretName": ssh_name})
    call("DeleteSecret", {"SecretName": ssh_name, "RecoveryWindowInDays": 7}, expect="InvalidParameterValue")
    call("DeleteSecret", {"SecretName": ssh_name, "RecoveryWindowInDays": 0})

    # Product secrets need a database administrator (database_test.py makes one); here the
    # answers that need none.
    products = call("DescribeSupportedProducts", {})
    run.check("ssm", products["Products"] == ["Mysql", "PostgreSQL"] and products["TotalCount"] == 2,
              "DescribeSupportedProducts names the products")
    call("CreateProductSecret", {"SecretName": fresh("conf-product"), "UserNamePrefix": "app",
                                 "ProductName": "Mysql", "InstanceID": "no-such-instance",
                                 "PrivilegesList": [{"PrivilegeName": "DatabasePrivileges",
                                                     "Privileges": ["SELECT"], "Database": "shop"}]},
         expect="ResourceNotFound")
    call("CreateProductSecret", {"SecretName": fresh("conf-product"), "UserNamePrefix": "app",
                                 "ProductName": "Redis", "InstanceID": "x",
                                 "PrivilegesList": [{"PrivilegeName": "DatabasePrivileges",
                                                     "Privileges": ["SELECT"], "Database": "shop"}]},
         expect="InvalidParameterValue")
    call("DescribeAsyncRequestInfo", {"FlowID": 987654}, expect="InvalidParameterValue")

    def disabled_secret():
        other = fresh("conf-secret")
        call("CreateSecret", {"SecretName": other, "SecretString": "x"})
        call("DisableSecret", {"SecretName": other})
        return other
    doomed = disabled_secret()
    deleted = call("DeleteSecret", {"SecretName": doomed, "RecoveryWindowInDays": 7},
                   base=lambda: {"SecretName": disabled_secret()})
    run.check("ssm", deleted["DeleteTime"] > 0, "DeleteSecret with a window answers when")
    call("RestoreSecret", {"SecretName": doomed}, base=lambda: {"SecretName": call(
        "DeleteSecret", {"SecretName": disabled_secret(), "RecoveryWindowInDays": 7})["SecretName"]})


def refusal_summary(refused):
    """Parameters refused, grouped: `A, B: Action1, Action2` (a count when many actions share it)."""
    by_param = {}
    for action, params in refused.items():
        for param in params:
            by_param.setdefault(param, []).append(action)
    groups = {}
    for param, actions in sorted(by_param.items()):
        groups.setdefault(tuple(sorted(actions)), []).append(param)
    parts = []
    for actions, params in sorted(groups.items(), key=lambda g: (-len(g[0]), g[1])):
        where = ", ".join(actions) if len(actions) <= 4 else f"{len(actions)} actions"
        parts.append(f"{', '.join(params)} ({where})")
    return "; ".join(parts) or "-"


def table(served):
    rows = ["| Service | Served | Documented parameters refused with a code | Not served (`InvalidAction`) |",
            "|---|---|---|---|"]
    titles = {"kms": "KMS 2019-01-18", "ssm": "Secrets Manager 2019-09-23"}
    for service, (actions, refused) in served.items():
        yes = sorted(a for a, s in actions.items() if s)
        no = sorted(a for a, s in actions.items() if not s)
        rows.append(f"| {titles[service]}: {len(yes)} of {len(actions)} | {', '.join(yes)} | "
                    f"{refusal_summary(refused)} | {', '.join(no)} |")
    return "\n".join(rows) + "\n"


def main():
    endpoint = sys.argv[1]
    table_file = sys.argv[sys.argv.index("--table") + 1] if "--table" in sys.argv else None
    readme = sys.argv[sys.argv.index("--readme") + 1] if "--readme" in sys.argv else None
    failed = False
    coverage = {}
    for method in ("POST", "GET"):
        run = Conformance(endpoint, method)
        served = {service: run.served(service) for service in SERVICES}
        kms_cases(run)
        ssm_cases(run)
        for service in SERVICES:
            actions = [a for a, s in served[service].items() if s]
            for action in actions:
                run.check(service, (service, action) in run.called or action in CHECKED_WITH_A_DATABASE,
                          f"{action} is served but no call here succeeded")
            run.probe_parameters(service, actions)
            print(f"{service} over {method}: {run.passed[service]} passed, {len(run.failures[service])} failed")
            # Each distinct failure once (list items and repeated calls fail alike).
            seen = {}
            for failure in run.failures[service]:
                key = re.sub(r"\[\d+\]", "[]", failure)
                seen[key] = seen.get(key, 0) + 1
            for failure, times in seen.items():
                print(f"  FAILED: {failure}" + (f" ({times} times)" if times > 1 else ""))
            failed |= bool(run.failures[service])
            refused = {a: run.refused.get((service, a), set()) for a in actions}
            coverage[service] = (served[service], refused)
    text = table(coverage)
    if table_file:
        with open(table_file, "w", encoding="utf-8") as out:
            out.write(text)
    if readme:
        content = open(readme, encoding="utf-8").read()
        inside = content.split(TABLE_BEGIN)[1].split(TABLE_END)[0].strip() if TABLE_BEGIN in content else ""
        if inside != text.strip():
            print(f"FAILED: the README's coverage table is not what this run found; put this between its markers:\n{text}")
            failed = True
        else:
            print("the README's coverage table is this run's")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
