"""Drives a running `keyconsole serve` through the official Tencent Cloud Secrets Manager SDK.

Usage: ssm_test.py ENDPOINT (host:port); KEYCONSOLE_SECRET_ID / KEYCONSOLE_SECRET_KEY in the environment.
The whole lifecycle runs once over POST and once over GET: create, get, put, list, versions,
describe, update description, disable -> get refused, delete with a recovery window, restore ->
Disabled, enable, delete a version, delete at once, and the error codes the flow can reach.
Prints "N passed, 0 failed" or exits non-zero at the first mismatch.
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
from tencentcloud.ssm.v20190923 import models, ssm_client

ENDPOINT = sys.argv[1]


def client(method):
    http = checks.http_profile(ENDPOINT, method)
    cred = credential.Credential(os.environ["KEYCONSOLE_SECRET_ID"], os.environ["KEYCONSOLE_SECRET_KEY"])
    return ssm_client.SsmClient(cred, "ap-guangzhou", ClientProfile(httpProfile=http))








def run(method):
    ssm = client(method)
    name = f"orders-db-{method.lower()}-{uuid.uuid4().hex[:6]}"
    created = ssm.CreateSecret(request(models.CreateSecretRequest, SecretName=name,
                                       Description="MySQL orders", SecretString="S3cr3t!pass"))
    check(created.SecretName == name and created.VersionId == "SSM_v1", "CreateSecret answers the name and SSM_v1")
    got = ssm.GetSecretValue(request(models.GetSecretValueRequest, SecretName=name, VersionId="SSM_v1"))
    check(got.SecretString == "S3cr3t!pass" and got.SecretBinary == "", "GetSecretValue gives the text back")
    refused("ResourceInUse.SecretExists",
            lambda: ssm.CreateSecret(request(models.CreateSecretRequest, SecretName=name, SecretString="x")),
            "CreateSecret twice")

    binary = bytes(range(256))
    ssm.PutSecretValue(request(models.PutSecretValueRequest, SecretName=name, VersionId="v2",
                               SecretBinary=base64.b64encode(binary).decode()))
    got = ssm.GetSecretValue(request(models.GetSecretValueRequest, SecretName=name, VersionId="v2"))
    check(base64.b64decode(got.SecretBinary) == binary and got.SecretString == "", "a binary version round-trips")
    refused("ResourceInUse.VersionIdExists",
            lambda: ssm.PutSecretValue(request(models.PutSecretValueRequest, SecretName=name, VersionId="v2",
                                               SecretString="x")),
            "PutSecretValue with a used VersionId")
    ssm.UpdateSecret(request(models.UpdateSecretRequest, SecretName=name, VersionId="SSM_v1", SecretString="changed"))
    got = ssm.GetSecretValue(request(models.GetSecretValueRequest, SecretName=name, VersionId="SSM_v1"))
    check(got.SecretString == "changed", "UpdateSecret overwrites a version")

    versions = ssm.ListSecretVersionIds(request(models.ListSecretVersionIdsRequest, SecretName=name))
    check([v.VersionId for v in versions.Versions] == ["SSM_v1", "v2"], "ListSecretVersionIds")
    listed = ssm.ListSecrets(request(models.ListSecretsRequest, SearchSecretName=name))
    check(listed.TotalCount == 1 and listed.SecretMetadatas[0].SecretName == name
          and listed.SecretMetadatas[0].Status == "Enabled", "ListSecrets finds it")
    ssm.UpdateDescription(request(models.UpdateDescriptionRequest, SecretName=name, Description="orders, prod"))
    described = ssm.DescribeSecret(request(models.DescribeSecretRequest, SecretName=name))
    check(described.Description == "orders, prod" and described.Status == "Enabled"
          and listed.SecretMetadatas[0].KmsKeyType == "DEFAULT" and described.KmsKeyId, "DescribeSecret")
    # The model's types: RotationStatus a bool, NextRotationTime a string.
    check(described.RotationStatus is False and described.NextRotationTime == ""
          and isinstance(described.SecretType, int), "DescribeSecret's fields have the model's types")
    check(ssm.ListSecrets(request(models.ListSecretsRequest, SearchSecretName=name, Limit=0)).TotalCount == 1,
          "ListSecrets with Limit=0 is the default page")
    for state in (4, 5):
        none = ssm.ListSecrets(request(models.ListSecretsRequest, State=state))
        check(none.TotalCount == 0 and none.SecretMetadatas == [], f"ListSecrets State={state} (no such secrets here)")
    status = ssm.GetServiceStatus(request(models.GetServiceStatusRequest))
    check(status.ServiceEnabled is True and status.InvalidType == 1, "GetServiceStatus: enabled, InvalidType 1 (normal)")

    # DeleteSecret documents no OperationDenied: the common FailedOperation, the message says why.
    refused("FailedOperation", lambda: ssm.DeleteSecret(request(models.DeleteSecretRequest, SecretName=name)),
            "DeleteSecret of an enabled secret")
    disabled = ssm.DisableSecret(request(models.DisableSecretRequest, SecretName=name))
    check(disabled.SecretName == name, "DisableSecret answers the SecretName")
    refused("ResourceUnavailable.ResourceDisabled",
            lambda: ssm.GetSecretValue(request(models.GetSecretValueRequest, SecretName=name, VersionId="SSM_v1")),
            "GetSecretValue of a disabled secret")
    deleted = ssm.DeleteSecret(request(models.DeleteSecretRequest, SecretName=name, RecoveryWindowInDays=7))
    check(deleted.DeleteTime > 0, "DeleteSecret with a window answers the DeleteTime")
    refused("ResourceUnavailable.ResourcePendingDeleted",
            lambda: ssm.GetSecretValue(request(models.GetSecretValueRequest, SecretName=name, VersionId="SSM_v1")),
            "GetSecretValue while pending deletion")
    ssm.RestoreSecret(request(models.RestoreSecretRequest, SecretName=name))
    described = ssm.DescribeSecret(request(models.DescribeSecretRequest, SecretName=name))
    check(described.Status == "Disabled", "RestoreSecret leaves it Disabled")
    enabled = ssm.EnableSecret(request(models.EnableSecretRequest, SecretName=name))
    check(enabled.SecretName == name, "EnableSecret answers the SecretName")
    ssm.DeleteSecretVersion(request(models.DeleteSecretVersionRequest, SecretName=name, VersionId="v2"))
    refused("ResourceNotFound.SecretNotExist",
            lambda: ssm.GetSecretValue(request(models.GetSecretValueRequest, SecretName=name, VersionId="v2")),
            "GetSecretValue of a deleted version")
    refused("InvalidParameterValue",
            lambda: ssm.CreateSecret(request(models.CreateSecretRequest, SecretName="bad name", SecretString="x")),
            "CreateSecret with a bad name")
    ssm.DisableSecret(request(models.DisableSecretRequest, SecretName=name))
    ssm.DeleteSecret(request(models.DeleteSecretRequest, SecretName=name, RecoveryWindowInDays=0))
    # DescribeSecret documents only the category (GetSecretValue the full code).
    refused("ResourceNotFound",
            lambda: ssm.DescribeSecret(request(models.DescribeSecretRequest, SecretName=name)),
            "DescribeSecret after deleting at once")


for method in ("POST", "GET"):
    run(method)
print(f"the official Python SSM SDK over {checks.SCHEME}: {checks.passed} passed, 0 failed")
