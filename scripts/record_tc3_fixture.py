#!/usr/bin/env python3
"""Records requests signed by the official Tencent Cloud SDK as test fixtures: TC3-HMAC-SHA256 into
tests/fixtures/tc3_requests.json, and the older v1 signatures (HmacSHA256, HmacSHA1) into
tests/fixtures/v1_requests.json, which the replay tests take apart and put together differently.

Run in a virtualenv with `pip install tencentcloud-sdk-python-kms`. A loopback HTTP server captures
each request exactly as sent (method, path and query, headers, body) and answers like the cloud, so
tests/fixtures/tc3_requests.json lets the Rust signature code be checked against the real SDK.
The credentials are made up for the fixture.
"""
import json, pathlib, threading
from http.server import BaseHTTPRequestHandler, HTTPServer

from tencentcloud.common import credential
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.kms.v20190118 import kms_client, models

SECRET_ID = "AKIDkeyconsoleFixture0000000000000000"
SECRET_KEY = "fixtureSecretKey0123456789abcdefgh"
captured = []

class Capture(BaseHTTPRequestHandler):
    def _handle(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        captured.append({"method": self.command, "path": self.path,
                         "headers": {k: v for k, v in self.headers.items()},
                         "body": body.decode()})
        reply = json.dumps({"Response": {"CiphertextBlob": "x", "KeyId": "k", "RequestId": "r"}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)
    do_GET = do_POST = _handle
    def log_message(self, *args):
        pass

server = HTTPServer(("127.0.0.1", 0), Capture)
threading.Thread(target=server.serve_forever, daemon=True).start()
endpoint = f"127.0.0.1:{server.server_port}"
for method in ("POST", "GET"):
    http = HttpProfile(protocol="http", endpoint=endpoint, reqMethod=method)
    client = kms_client.KmsClient(credential.Credential(SECRET_ID, SECRET_KEY), "ap-guangzhou", ClientProfile(httpProfile=http))
    request = models.EncryptRequest()
    request.KeyId = "db-password"
    request.Plaintext = "UzNjcjN0IXBhc3M="
    client.Encrypt(request)
fixtures = pathlib.Path(__file__).resolve().parent.parent / "tests" / "fixtures"
def write(name, requests):
    out = fixtures / name
    out.write_text(json.dumps({"secret_id": SECRET_ID, "secret_key": SECRET_KEY, "requests": requests}, indent=2) + "\n")
    print(f"wrote {out} ({len(requests)} requests)")
write("tc3_requests.json", captured)

# v1: the cheapest action one can capture (GetServiceStatus) and an Encrypt, each way the SDK sends them.
captured = []
for sign_method, method in (("HmacSHA256", "POST"), ("HmacSHA256", "GET"), ("HmacSHA1", "POST")):
    http = HttpProfile(protocol="http", endpoint=endpoint, reqMethod=method)
    profile = ClientProfile(signMethod=sign_method, httpProfile=http)
    client = kms_client.KmsClient(credential.Credential(SECRET_ID, SECRET_KEY), "ap-guangzhou", profile)
    client.GetServiceStatus(models.GetServiceStatusRequest())
    request = models.EncryptRequest()
    request.KeyId = "db-password"
    request.Plaintext = "UzNjcjN0IXBhc3M="
    client.Encrypt(request)
server.shutdown()
write("v1_requests.json", captured)
