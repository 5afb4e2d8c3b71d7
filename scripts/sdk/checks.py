"""What the SDK test scripts share: counting checks, the scheme and CA, and for Tencent's SDK the
HTTP profile, building a request model from fields and expecting a refusal. Tencent's SDK is
imported only by those, so the Huawei and JD scripts (venvs of their own) count with it too."""
import json
import os

# HTTPS trusting keyconsole's local CA when KEYCONSOLE_CA names its certificate (`keyconsole api ca
# --path`), plain HTTP otherwise: exactly the two settings the README gives.
CA = os.environ.get("KEYCONSOLE_CA")
SCHEME = "https" if CA else "http"


def http_profile(endpoint, method):
    from tencentcloud.common.profile.http_profile import HttpProfile

    if CA:
        return HttpProfile(protocol="https", endpoint=endpoint, reqMethod=method, reqTimeout=10,
                           certification=CA)
    return HttpProfile(protocol="http", endpoint=endpoint, reqMethod=method, reqTimeout=10)

passed = 0


def request(cls, **fields):
    req = cls()
    req.from_json_string(json.dumps(fields))
    return req


def check(condition, what):
    global passed
    if not condition:
        raise SystemExit(f"FAILED: {what}")
    passed += 1


def must(condition, what):
    """A conformance condition: fails like a check, counted in a conformance line instead."""
    if not condition:
        raise SystemExit(f"FAILED: {what}")


def refused(code, call, what):
    """The call fails with `code` (and a RequestId), as the cloud answers."""
    from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

    try:
        call()
    except TencentCloudSDKException as e:
        check(e.get_code() == code, f"{what}: expected {code}, got {e.get_code()} ({e.get_message()})")
        check(e.get_request_id(), f"{what}: the error carries a RequestId")
        return
    raise SystemExit(f"FAILED: {what}: expected {code}, but the call succeeded")
