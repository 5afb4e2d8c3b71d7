"""The audit trail through the official Tencent Cloud SDK (tencentcloud-sdk-python's CloudAudit
client, LookUpEvents 2019-03-19) against a running `keyconsole serve`: a user's calls, allowed and
refused, are events an auditor looks up by user, action and request id, page by page; the
lookup's limits answer the cloud's codes; a user without cloudaudit:LookUpEvents is refused; the
CLI lists the same events and verifies the chain.

Usage: audit_test.py ENDPOINT KEYSTORE_BINARY; the keystore's environment (KEYCONSOLE_KEYSTORE,
KEYCONSOLE_PASSWORD) as for the binary, KEYCONSOLE_CA for HTTPS. The key `seed-config-key` must
exist. Prints "N passed, 0 failed".
"""
import base64
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid

import checks
from checks import check
from tencentcloud.cloudaudit.v20190319 import cloudaudit_client, models as audit_models
from tencentcloud.common import credential
from tencentcloud.common.common_client import CommonClient
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.kms.v20190118 import kms_client, models

ENDPOINT, BINARY = sys.argv[1], sys.argv[2]


def keyconsole(*args, check_status=True):
    return subprocess.run([BINARY, *args], check=check_status, capture_output=True, text=True)


def profile():
    return ClientProfile(httpProfile=checks.http_profile(ENDPOINT, "POST"))


def kms_as(user):
    return kms_client.KmsClient(credential.Credential(user["SecretId"], user["SecretKey"]), "ap-guangzhou", profile())


def audit_as(user):
    return cloudaudit_client.CloudauditClient(credential.Credential(user["SecretId"], user["SecretKey"]),
                                              "ap-guangzhou", profile())


def code_of(call):
    try:
        call()
    except TencentCloudSDKException as e:
        return e.code
    return None


suffix = uuid.uuid4().hex[:6]
key_id = json.loads(keyconsole("key", "describe", "seed-config-key", "--json").stdout)["KeyId"]
alice = json.loads(keyconsole("user", "create", f"alice-{suffix}", "--preset", "crypto-user",
                              "--on", "seed-config-key", "--json").stdout)
with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as policy:
    json.dump({"version": "2.0", "statement": [
        {"effect": "allow", "action": ["cloudaudit:LookUpEvents"], "resource": ["*"]}]}, policy)
auditor = json.loads(keyconsole("user", "create", f"auditor-{suffix}", "--policy", policy.name,
                                "--json").stdout)
os.unlink(policy.name)

start = int(time.time()) - 5
plaintext = base64.b64encode(b"audited secret").decode()
encrypted = kms_as(alice).Encrypt(checks.request(models.EncryptRequest, KeyId="seed-config-key",
                                                 Plaintext=plaintext))
decrypted = kms_as(alice).Decrypt(checks.request(models.DecryptRequest, CiphertextBlob=encrypted.CiphertextBlob))
check(decrypted.Plaintext == plaintext, "alice encrypts and decrypts")
refused = code_of(lambda: kms_as(alice).DisableKey(checks.request(models.DisableKeyRequest, KeyId=key_id)))
check(refused == "UnauthorizedOperation", f"alice may not disable the key ({refused})")


def look_up(who, **fields):
    fields.setdefault("StartTime", start)
    fields.setdefault("EndTime", int(time.time()) + 5)
    return audit_as(who).LookUpEvents(checks.request(audit_models.LookUpEventsRequest, **fields))


by_alice = look_up(auditor, MaxResults=50,
                   LookupAttributes=[{"AttributeKey": "PrincipalId", "AttributeValue": f"alice-{suffix}"}])
names = [e.EventName for e in by_alice.Events]
check(names == ["DisableKey", "Decrypt", "Encrypt"], f"alice's three calls, newest first ({names})")
check(by_alice.ListOver is True and by_alice.TotalCount == 3, "one page holds them")
denied, decrypt_event, encrypt_event = by_alice.Events
check(denied.ErrorCode == 403 and json.loads(denied.CloudAuditEvent)["outcome"] == "UnauthorizedOperation",
      "the refusal is recorded with its code")
check(decrypt_event.Resources.ResourceName == key_id and decrypt_event.Resources.ResourceType == "kms_key",
      "the key is the event's resource")
check(encrypt_event.SecretId == alice["SecretId"] and encrypt_event.Username == f"alice-{suffix}",
      "the credential and the user")
check(encrypt_event.SourceIPAddress == "127.0.0.1" and encrypt_event.EventSource == "kms.tencentcloudapi.com",
      "where the call came from")
check(start <= int(encrypt_event.EventTime) <= time.time() + 5, "the time, Unix seconds as the cloud gives it")
detail = json.loads(decrypt_event.CloudAuditEvent)
check(detail["alias"] == "seed-config-key" and detail["dialect"] == "tencent", "the detail names alias and dialect")
everything = json.dumps([json.loads(e.CloudAuditEvent) for e in by_alice.Events])
check(plaintext not in everything and encrypted.CiphertextBlob[:40] not in everything,
      "no plaintext or ciphertext in the events")

# By request id and by action.
one = look_up(auditor, LookupAttributes=[{"AttributeKey": "RequestId", "AttributeValue": decrypt_event.RequestID}])
check([e.EventName for e in one.Events] == ["Decrypt"], "looked up by request id")
decrypts = look_up(auditor, MaxResults=50, LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "Decrypt"}])
check(all(e.EventName == "Decrypt" for e in decrypts.Events) and decrypts.Events, "looked up by event name")
refusals = look_up(auditor, MaxResults=50,
                   LookupAttributes=[{"AttributeKey": "ApiErrorCode", "AttributeValue": "UnauthorizedOperation"}])
check(refusals.Events and all(json.loads(e.CloudAuditEvent)["outcome"] == "UnauthorizedOperation"
                              for e in refusals.Events), "looked up by the outcome's code (ApiErrorCode)")

# Page by page: two at a time, no event twice, down to the first.
seen, token, pages = [], None, 0
while True:
    fields = {"MaxResults": 2}
    if token:
        fields["NextToken"] = token
    page = look_up(auditor, **fields)
    seen.extend(e.EventId for e in page.Events)
    pages += 1
    if page.ListOver:
        break
    token = page.NextToken
check(len(seen) == len(set(seen)) and pages >= 3, f"{len(seen)} events over {pages} pages, none twice")
check([int(s) for s in seen] == sorted((int(s) for s in seen), reverse=True), "newest first across pages")

# The lookup's limits, and who may look.
check(code_of(lambda: look_up(auditor, MaxResults=51)) == "InvalidParameterValue", "MaxResults over 50")
check(code_of(lambda: look_up(auditor, LookupAttributes=[{"AttributeKey": "Colour", "AttributeValue": "x"}]))
      == "InvalidParameterValue", "an attribute key CloudAudit does not know")
check(code_of(lambda: look_up(auditor, StartTime=start + 100, EndTime=start)) == "InvalidParameterValue",
      "a start after the end")
check(code_of(lambda: look_up(alice)) == "UnauthorizedOperation", "alice may not read the trail")

# The CLI reads the same trail and finds the chain whole.
listed = [json.loads(line) for line in keyconsole("audit", "list", "--user", f"alice-{suffix}", "--json").stdout.splitlines()]
actions = [(e["action"], e["outcome"]) for e in listed]
check(actions == [("LookUpEvents", "UnauthorizedOperation"), ("DisableKey", "UnauthorizedOperation"),
                  ("Decrypt", "Success"), ("Encrypt", "Success")],
      f"`audit list --user` shows the same, and alice's refused lookup ({actions})")
verified = keyconsole("audit", "verify", check_status=False)
check(verified.returncode == 0 and "intact" in verified.stdout, f"`audit verify`: {verified.stdout.strip()}")

# What a caller may do, asked by the caller itself (keyconsole's own CAM action, which the
# console asks to disable what the user may not do): a user gets its policy and the address the
# server sees; the owner's credential is the root account.
def caller_policy(user):
    client = CommonClient("cam", "2019-01-16", credential.Credential(user["SecretId"], user["SecretKey"]),
                          "ap-guangzhou", profile=profile())
    return client.call_json("GetCallerPolicy", {})["Response"]


mine = caller_policy(alice)
document = json.loads(mine["PolicyDocument"])
check(mine["Type"] == "CAMUser" and mine["UserName"] == f"alice-{suffix}" and mine["SourceIP"] == "127.0.0.1",
      "GetCallerPolicy names the user and its address")
check("kms:Decrypt" in json.dumps(document) and document["version"] == "2.0", "and gives its policy")
owner = {"SecretId": os.environ["KEYCONSOLE_SECRET_ID"], "SecretKey": os.environ["KEYCONSOLE_SECRET_KEY"]}
check(caller_policy(owner)["Type"] == "RootAccount", "the owner's credential may do everything")

keyconsole("user", "delete", f"alice-{suffix}")
keyconsole("user", "delete", f"auditor-{suffix}")
print(f"the audit trail through CloudAudit's Python client over {'https' if checks.CA else 'http'}: "
      f"{checks.passed} passed, 0 failed")
