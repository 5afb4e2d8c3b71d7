# -*- coding: utf-8 -*-
"""The seed document's Python sample (Tencent Cloud KMS docs, "Encryption in the SDK for Python"),
changed only where the README says: the endpoint, protocol "http", and the console's credentials.
Run: KEYCONSOLE_SECRET_ID=... KEYCONSOLE_SECRET_KEY=... python seed_sample.py 127.0.0.1:19267 <KeyId or alias>
"""
import base64
import os
import sys

from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
# Import the KMS module
from tencentcloud.kms.v20190118 import kms_client, models

# Import the optional configuration classes
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile


def KmsInit(endpoint, region="ap-guangzhou"):
    SecretId = os.environ["KEYCONSOLE_SECRET_ID"]
    SecretKey = os.environ["KEYCONSOLE_SECRET_KEY"]

    try:
        cred = credential.Credential(SecretId, SecretKey)

        # keyconsole serves plain HTTP on loopback. Give protocol to the constructor: the SDK copies
        # it into .scheme there, so setting .protocol afterwards has no effect.
        httpProfile = HttpProfile(protocol="http")
        httpProfile.reqMethod = "GET"  # GET request; POST by default
        httpProfile.reqTimeout = 30
        httpProfile.endpoint = endpoint  # was "kms.tencentcloudapi.com"

        clientProfile = ClientProfile()
        clientProfile.signMethod = "TC3-HMAC-SHA256"
        clientProfile.language = "en-US"
        clientProfile.httpProfile = httpProfile

        return kms_client.KmsClient(cred, region, clientProfile)
    except TencentCloudSDKException as err:
        print(err)
        return None


def EncryptData(client, keyid, plaintext, path):
    req = models.EncryptRequest()
    encrypt_params = '''{
        "KeyId" : "%s",
        "Plaintext" : "%s"
        }
    ''' % (keyid, bytes.decode(plaintext))
    req.from_json_string(encrypt_params)
    encryptResp = client.Encrypt(req)
    print(encryptResp.to_json_string(indent=2))
    open(path, 'w').write(encryptResp.CiphertextBlob)


def DecryptData(client, ciphertext):
    req = models.DecryptRequest()
    req.from_json_string('{"CiphertextBlob" : "%s"}' % ciphertext)
    ciphertextResp = client.Decrypt(req)
    print(ciphertextResp.to_json_string(indent=2))
    return base64.b64decode(ciphertextResp.Plaintext)


if __name__ == '__main__':
    endpoint, key = sys.argv[1], sys.argv[2]
    path = sys.argv[3] if len(sys.argv) > 3 else 'test_encry.dat'
    client = KmsInit(endpoint)
    plaintext = base64.b64encode(b'this plaintext for test')
    EncryptData(client, key, plaintext, path)
    ciphertext = open(path, 'r').read()
    decrypted = DecryptData(client, ciphertext)
    print(decrypted)
    assert decrypted == b'this plaintext for test', decrypted
