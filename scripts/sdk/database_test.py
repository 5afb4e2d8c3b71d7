"""Database credentials through the official Secrets Manager SDK, against a real MariaDB.

Usage: database_test.py ENDPOINT SECRET_NAME (a database secret `keyconsole secret create --database`
made; its user's password logs in now). KEYCONSOLE_SECRET_ID / KEYCONSOLE_SECRET_KEY in the environment.
Started by the Rust test `sdk_rotates_database_passwords` (tests/faces/api_database.rs), which runs
a private MariaDB and `keyconsole serve`. Over POST and GET: DescribeSecret (SecretType 1, Mysql),
GetSecretValue(SSM_Current) logs in with PyMySQL, UpdateRotationStatus / DescribeRotationDetail,
RotateProductSecret, then the new password logs in and the old one does not,
DescribeRotationHistory, ListSecrets by SecretType, and the refusals. Prints "N passed, 0 failed".
"""
import json
import os
import sys

import pymysql

import checks
import conformance
from checks import check, refused, request
from tencentcloud.common.common_client import CommonClient
from tencentcloud.common import credential
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.ssm.v20190923 import models, ssm_client

ENDPOINT, NAME = sys.argv[1], sys.argv[2]


def client(method):
    http = checks.http_profile(ENDPOINT, method)
    cred = credential.Credential(os.environ["KEYCONSOLE_SECRET_ID"], os.environ["KEYCONSOLE_SECRET_KEY"])
    return ssm_client.SsmClient(cred, "ap-guangzhou", ClientProfile(httpProfile=http))


def connect(host, port, user, password):
    """What an application does with the fetched credentials: log in and ask something."""
    connection = pymysql.connect(host=host, port=port, user=user, password=password, connect_timeout=10)
    with connection.cursor() as cursor:
        cursor.execute("SELECT CURRENT_USER()")
        (who,) = cursor.fetchone()
    connection.close()
    return who


def logs_in(host, port, user, password):
    try:
        connect(host, port, user, password)
        return True
    except pymysql.err.OperationalError:
        return False


def run(method):
    ssm = client(method)
    described = ssm.DescribeSecret(request(models.DescribeSecretRequest, SecretName=NAME))
    check(described.SecretType == 1 and described.ProductName == "Mysql", "DescribeSecret: a MySQL product secret")
    current = ssm.GetSecretValue(request(models.GetSecretValueRequest, SecretName=NAME, VersionId="SSM_Current"))
    creds = json.loads(current.SecretString)
    host, port = os.environ["KEYCONSOLE_DB_HOST"], int(os.environ["KEYCONSOLE_DB_PORT"])
    check(connect(host, port, creds["UserName"], creds["Password"]).startswith(creds["UserName"] + "@"),
          "the fetched password logs in to MariaDB")

    ssm.UpdateRotationStatus(request(models.UpdateRotationStatusRequest, SecretName=NAME, EnableRotation=True,
                                     Frequency=7, RotationBeginTime="2099-01-02 03:04:05"))
    detail = ssm.DescribeRotationDetail(request(models.DescribeRotationDetailRequest, SecretName=NAME))
    check(detail.EnableRotation is True and detail.Frequency == 7 and detail.NextRotateBeginTime == "2099-01-02 03:04:05",
          "UpdateRotationStatus is what DescribeRotationDetail shows")
    refused("InvalidParameterValue",
            lambda: ssm.UpdateRotationStatus(request(models.UpdateRotationStatusRequest, SecretName=NAME,
                                                     EnableRotation=True, Frequency=400)),
            "a rotation frequency over 365 days")

    rotated = ssm.RotateProductSecret(request(models.RotateProductSecretRequest, SecretName=NAME))
    check(isinstance(rotated.FlowID, int) and rotated.FlowID > 0, "RotateProductSecret answers a FlowID")
    flow = ssm.DescribeAsyncRequestInfo(request(models.DescribeAsyncRequestInfoRequest, FlowID=rotated.FlowID))
    check(flow.TaskStatus == 1, f"DescribeAsyncRequestInfo says the rotation's task succeeded: {flow.Description}")
    after = ssm.GetSecretValue(request(models.GetSecretValueRequest, SecretName=NAME, VersionId="SSM_Current"))
    new = json.loads(after.SecretString)
    check(after.VersionId == "SSM_Current" and new["Password"] != creds["Password"], "SSM_Current is the new password")
    check(logs_in(host, port, new["UserName"], new["Password"]), "the new password logs in")
    check(not logs_in(host, port, creds["UserName"], creds["Password"]), "the old password no longer does")
    detail = ssm.DescribeRotationDetail(request(models.DescribeRotationDetailRequest, SecretName=NAME))
    check(detail.LatestRotateTime != "", "DescribeRotationDetail has the rotation's time")
    history = ssm.DescribeRotationHistory(request(models.DescribeRotationHistoryRequest, SecretName=NAME))
    versions = ssm.ListSecretVersionIds(request(models.ListSecretVersionIdsRequest, SecretName=NAME))
    check(history.TotalCount >= 1 and history.VersionIDs[-1] in [v.VersionId for v in versions.Versions],
          "DescribeRotationHistory names the new version")

    listed = ssm.ListSecrets(request(models.ListSecretsRequest, SecretType=1))
    check(NAME in [s.SecretName for s in listed.SecretMetadatas], "ListSecrets SecretType=1 lists it")
    listed = ssm.ListSecrets(request(models.ListSecretsRequest, SecretType=0))
    check(NAME not in [s.SecretName for s in listed.SecretMetadatas], "ListSecrets SecretType=0 leaves it out")
    refused("OperationDenied.AutoRotatedResource",
            lambda: ssm.PutSecretValue(request(models.PutSecretValueRequest, SecretName=NAME, VersionId="by-hand",
                                               SecretString="{}")),
            "PutSecretValue on database credentials (the code the cloud documents)")
    refused("OperationDenied.AutoRotatedResource",
            lambda: ssm.UpdateSecret(request(models.UpdateSecretRequest, SecretName=NAME, VersionId="SSM_Current",
                                             SecretString="{}")),
            "UpdateSecret on database credentials")
    # RotateProductSecret documents only the category for a missing secret.
    refused("ResourceNotFound",
            lambda: ssm.RotateProductSecret(request(models.RotateProductSecretRequest, SecretName="no-such-secret")),
            "RotateProductSecret of a missing secret")
    ssm.UpdateRotationStatus(request(models.UpdateRotationStatusRequest, SecretName=NAME, EnableRotation=False))
    detail = ssm.DescribeRotationDetail(request(models.DescribeRotationDetailRequest, SecretName=NAME))
    check(detail.EnableRotation is False, "rotation turned off")
    conforms(method)


def conforms(method):
    """The answers only a database secret gets, against the SDK's models (conformance.py checks
    every other action's)."""
    http = checks.http_profile(ENDPOINT, method)
    cred = credential.Credential(os.environ["KEYCONSOLE_SECRET_ID"], os.environ["KEYCONSOLE_SECRET_KEY"])
    common = CommonClient("ssm", "2019-09-23", cred, "ap-guangzhou", profile=ClientProfile(httpProfile=http))
    calls = [
        ("UpdateRotationStatus", {"SecretName": NAME, "EnableRotation": True, "Frequency": 30,
                                  "RotationBeginTime": "2099-01-02 03:04:05"}),
        ("DescribeRotationDetail", {"SecretName": NAME}),
        ("RotateProductSecret", {"SecretName": NAME}),
        ("DescribeRotationHistory", {"SecretName": NAME}),
        ("DescribeSecret", {"SecretName": NAME}),
        ("ListSecrets", {"SecretType": 1, "ProductName": "Mysql"}),
        ("UpdateRotationStatus", {"SecretName": NAME, "EnableRotation": False}),
    ]
    for action, params in calls:
        answer = common.call_json(action, params)["Response"]
        problems = conformance.check_answer("ssm", action, answer)
        check(not problems, f"{action} answers as the SDK's model says: {problems}")
    # A product secret: keyconsole makes the account through the instance the test registered
    # (main-db, an administrator of this MariaDB), with the privileges asked for.
    name = f"app-{method.lower()}"
    made = common.call_json("CreateProductSecret", {
        "SecretName": name, "UserNamePrefix": "app", "ProductName": "Mysql", "InstanceID": "main-db",
        "Domains": ["%"], "Description": "made through the SDK",
        "PrivilegesList": [{"PrivilegeName": "TablePrivileges", "Privileges": ["SELECT", "INSERT"],
                            "Database": "shop", "TableName": "orders"}],
        "EnableRotation": True, "RotationFrequency": 7, "RotationBeginTime": "2099-01-02 03:04:05",
        "Tags": [{"TagKey": "env", "TagValue": "prod"}]})["Response"]
    check(not conformance.check_answer("ssm", "CreateProductSecret", made), "CreateProductSecret's answer")
    task = common.call_json("DescribeAsyncRequestInfo", {"FlowID": made["FlowID"]})["Response"]
    check(not conformance.check_answer("ssm", "DescribeAsyncRequestInfo", task), "DescribeAsyncRequestInfo's answer")
    check(task["TaskStatus"] == 1, f"the account was made: {task}")
    value = common.call_json("GetSecretValue", {"SecretName": name, "VersionId": "SSM_Current"})["Response"]
    account = json.loads(value["SecretString"])
    host, port = os.environ["KEYCONSOLE_DB_HOST"], int(os.environ["KEYCONSOLE_DB_PORT"])
    check(account["UserName"].startswith("app_") and logs_in(host, port, account["UserName"], account["Password"]),
          "the product secret's account logs in")
    detail = common.call_json("DescribeRotationDetail", {"SecretName": name})["Response"]
    check(detail["EnableRotation"] is True and detail["NextRotateBeginTime"] == "2099-01-02 03:04:05",
          "its rotation starts when asked")
    products = common.call_json("DescribeSupportedProducts", {})["Response"]
    check("Mysql" in products["Products"], "DescribeSupportedProducts names Mysql")
    refused("ResourceNotFound", lambda: common.call_json("CreateProductSecret", {
        "SecretName": f"none-{method.lower()}", "UserNamePrefix": "x", "ProductName": "Mysql",
        "InstanceID": "no-such-instance",
        "PrivilegesList": [{"PrivilegeName": "DatabasePrivileges", "Privileges": ["SELECT"], "Database": "shop"}]}),
            "CreateProductSecret through an instance that is not registered")


for method in ("POST", "GET"):
    run(method)
print(f"database_test.py ({checks.SCHEME}): {checks.passed} passed, 0 failed")
