"""Key pairs, SM4 keys and imported material through the official Python SDK, checked with tools
nobody here wrote: Python's `cryptography` (RSA and ECDSA signatures, RSA-OAEP encryption and
decryption, AES-GCM) and OpenSSL 3 (SM2, which `cryptography` does not do).

Usage: key_pairs_test.py ENDPOINT; KEYCONSOLE_SECRET_ID / KEYCONSOLE_SECRET_KEY in the environment
(KEYCONSOLE_CA for HTTPS). Every step runs over POST and over GET. Prints "N passed, 0 failed".
"""
import base64
import os
import subprocess
import sys
import tempfile
import time
import uuid

import checks
from checks import check, refused, request
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.exceptions import InvalidSignature
from tencentcloud.common import credential
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.kms.v20190118 import kms_client, models

ENDPOINT = sys.argv[1]


def client(method):
    http = checks.http_profile(ENDPOINT, method)
    creds = credential.Credential(os.environ["KEYCONSOLE_SECRET_ID"], os.environ["KEYCONSOLE_SECRET_KEY"])
    return kms_client.KmsClient(creds, "ap-guangzhou", ClientProfile(httpProfile=http))


def b64(data):
    return base64.b64encode(data).decode()


def openssl(workdir, *args):
    done = subprocess.run(["openssl", *args], cwd=workdir, capture_output=True, text=True)
    return done.returncode == 0, done.stdout + done.stderr


def create(kms, usage, **extra):
    return kms.CreateKey(request(models.CreateKeyRequest, Alias=f"pairs-{uuid.uuid4().hex[:10]}",
                                 KeyUsage=usage, **extra)).KeyId


def public_key(kms, key, sm2=False):
    answer = kms.GetPublicKey(request(models.GetPublicKeyRequest, KeyId=key))
    if sm2:
        # `cryptography` does not know the SM2 curve; OpenSSL reads this PEM below.
        check(answer.PublicKeyPem.startswith("-----BEGIN PUBLIC KEY-----"), "GetPublicKey: SM2 PEM")
        return None, answer.PublicKeyPem
    der = serialization.load_der_public_key(base64.b64decode(answer.PublicKey))
    pem = serialization.load_pem_public_key(answer.PublicKeyPem.encode())
    check(der.public_numbers() == pem.public_numbers(), "GetPublicKey: the DER and the PEM are one key")
    return der, answer.PublicKeyPem


def sign(kms, key, algorithm, message, message_type="RAW"):
    answer = kms.SignByAsymmetricKey(request(models.SignByAsymmetricKeyRequest, KeyId=key, Algorithm=algorithm,
                                             Message=b64(message), MessageType=message_type))
    return base64.b64decode(answer.Signature)


def verify(kms, key, algorithm, message, signature):
    return kms.VerifyByAsymmetricKey(request(models.VerifyByAsymmetricKeyRequest, KeyId=key, Algorithm=algorithm,
                                             Message=b64(message), SignatureValue=b64(signature))).SignatureValid


def run(method, workdir):
    kms = client(method)
    message = f"invoice 2026-{method} 合计 ¥1,024".encode()

    # RSA, ECC P-256 and P-384 signatures, checked by `cryptography`; its own signatures (made
    # with a key it generated) never verify under keyconsole's key.
    cases = [
        ("ASYMMETRIC_SIGN_VERIFY_RSA_2048", "RSA_PSS_SHA_256",
         lambda pub, sig, msg: pub.verify(sig, msg, padding.PSS(padding.MGF1(hashes.SHA256()), 32), hashes.SHA256())),
        ("ASYMMETRIC_SIGN_VERIFY_RSA_2048", "RSA_PKCS1_SHA_256",
         lambda pub, sig, msg: pub.verify(sig, msg, padding.PKCS1v15(), hashes.SHA256())),
        ("ASYMMETRIC_SIGN_VERIFY_ECC", "ECC_P256_R1",
         lambda pub, sig, msg: pub.verify(sig, msg, ec.ECDSA(hashes.SHA256()))),
        ("ASYMMETRIC_SIGN_VERIFY_ECDSA384", "ECDSA384",
         lambda pub, sig, msg: pub.verify(sig, msg, ec.ECDSA(hashes.SHA384()))),
    ]
    for usage, algorithm, outside_verify in cases:
        key = create(kms, usage)
        pub, _ = public_key(kms, key)
        signature = sign(kms, key, algorithm, message)
        outside_verify(pub, signature, message)
        check(True, f"{method} {algorithm}: cryptography verifies keyconsole's signature")
        try:
            outside_verify(pub, signature, message + b"!")
            check(False, f"{algorithm}: a changed message verified")
        except InvalidSignature:
            check(True, f"{algorithm}: not for a changed message")
        check(verify(kms, key, algorithm, message, signature) is True, f"{algorithm}: VerifyByAsymmetricKey says valid")
        # DIGEST: the client hashes, keyconsole signs the digest; the signature is the message's.
        h = hashes.Hash(hashes.SHA384() if algorithm == "ECDSA384" else hashes.SHA256())
        h.update(message)
        signature = sign(kms, key, algorithm, h.finalize(), "DIGEST")
        outside_verify(pub, signature, message)
        check(True, f"{algorithm}: a DIGEST signature verifies over the message")
        refused("UnsupportedOperation.RotateNotSupported",
                lambda: kms.RotateKey(request(models.RotateKeyRequest, KeyId=key)), f"{algorithm}: RotateKey")

    # SM2: OpenSSL 3 verifies keyconsole's signature (with the default id) and encrypts to its key.
    key = create(kms, "ASYMMETRIC_SIGN_VERIFY_SM2")
    _, pem = public_key(kms, key, sm2=True)
    with open(os.path.join(workdir, "sm2.pem"), "w") as f:
        f.write(pem)
    with open(os.path.join(workdir, "msg"), "wb") as f:
        f.write(message)
    with open(os.path.join(workdir, "sig"), "wb") as f:
        f.write(sign(kms, key, "SM2DSA", message))
    ok, out = openssl(workdir, "pkeyutl", "-verify", "-pubin", "-inkey", "sm2.pem", "-rawin", "-digest", "sm3",
                      "-in", "msg", "-sigfile", "sig", "-pkeyopt", "distid:1234567812345678")
    check(ok, f"{method} SM2DSA: OpenSSL verifies keyconsole's signature ({out.strip()})")

    # Decryption of what an outside tool encrypted to the key pair's public key.
    key = create(kms, "ASYMMETRIC_DECRYPT_RSA_2048")
    pub, _ = public_key(kms, key)
    secret = b"db password: S3cr3t!"
    for algorithm, pad in [
        ("RSAES_OAEP_SHA_256", padding.OAEP(padding.MGF1(hashes.SHA256()), hashes.SHA256(), None)),
        ("RSAES_OAEP_SHA_1", padding.OAEP(padding.MGF1(hashes.SHA1()), hashes.SHA1(), None)),
        ("RSAES_PKCS1_V1_5", padding.PKCS1v15()),
    ]:
        ciphertext = pub.encrypt(secret, pad)
        answer = kms.AsymmetricRsaDecrypt(request(models.AsymmetricRsaDecryptRequest, KeyId=key,
                                                  Ciphertext=b64(ciphertext), Algorithm=algorithm))
        check(base64.b64decode(answer.Plaintext) == secret and answer.KeyId == key,
              f"{method} AsymmetricRsaDecrypt {algorithm} opens what cryptography encrypted")
    refused("InvalidParameterValue.InvalidKeyUsage",
            lambda: kms.AsymmetricSm2Decrypt(request(models.AsymmetricSm2DecryptRequest, KeyId=key,
                                                     Ciphertext=b64(b"x" * 100))),
            "an RSA key through AsymmetricSm2Decrypt")
    key = create(kms, "ASYMMETRIC_DECRYPT_SM2")
    _, pem = public_key(kms, key, sm2=True)
    with open(os.path.join(workdir, "sm2enc.pem"), "w") as f:
        f.write(pem)
    with open(os.path.join(workdir, "pt"), "wb") as f:
        f.write(secret)
    ok, out = openssl(workdir, "pkeyutl", "-encrypt", "-pubin", "-inkey", "sm2enc.pem", "-in", "pt", "-out", "ct")
    check(ok, f"OpenSSL encrypts to the SM2 key ({out.strip()})")
    with open(os.path.join(workdir, "ct"), "rb") as f:
        ciphertext = f.read()
    answer = kms.AsymmetricSm2Decrypt(request(models.AsymmetricSm2DecryptRequest, KeyId=key, Ciphertext=b64(ciphertext)))
    check(base64.b64decode(answer.Plaintext) == secret, f"{method} AsymmetricSm2Decrypt opens what OpenSSL encrypted")

    # Answers encrypted to the caller's own key: Decrypt and GenerateDataKey never carry the
    # plaintext in the clear when given EncryptionPublicKey.
    mine = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    my_pem = mine.public_key().public_bytes(serialization.Encoding.PEM,
                                            serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    sym = kms.CreateKey(request(models.CreateKeyRequest, Alias=f"pairs-{uuid.uuid4().hex[:10]}")).KeyId
    blob = kms.Encrypt(request(models.EncryptRequest, KeyId=sym, Plaintext=b64(secret))).CiphertextBlob
    answer = kms.Decrypt(request(models.DecryptRequest, CiphertextBlob=blob, EncryptionPublicKey=my_pem,
                                 EncryptionAlgorithm="RSAES_OAEP_SHA_256"))
    sealed = base64.b64decode(answer.Plaintext)
    check(secret not in sealed, "Decrypt with EncryptionPublicKey: no plaintext in the answer")
    opened = mine.decrypt(sealed, padding.OAEP(padding.MGF1(hashes.SHA256()), hashes.SHA256(), None))
    check(opened == secret, f"{method} Decrypt's answer opens with the caller's private key")
    data_key = kms.GenerateDataKey(request(models.GenerateDataKeyRequest, KeyId=sym, KeySpec="AES_256",
                                           EncryptionPublicKey=my_pem, EncryptionAlgorithm="RSAES_PKCS1_V1_5"))
    plain = mine.decrypt(base64.b64decode(data_key.Plaintext), padding.PKCS1v15())
    again = kms.Decrypt(request(models.DecryptRequest, CiphertextBlob=data_key.CiphertextBlob))
    check(len(plain) == 32 and base64.b64decode(again.Plaintext) == plain,
          f"{method} GenerateDataKey's plaintext came encrypted to the caller's key")

    # Imported material: wrapped by `cryptography` with the import public key; a ciphertext made
    # under the known material opens with AES-GCM in `cryptography` (the blob's layout: "KC",
    # format 1, key id, version, nonce, ciphertext and tag; the AAD is the header before the nonce).
    byok = kms.CreateKey(request(models.CreateKeyRequest, Alias=f"pairs-{uuid.uuid4().hex[:10]}", Type=2)).KeyId
    params = kms.GetParametersForImport(request(models.GetParametersForImportRequest, KeyId=byok,
                                                WrappingAlgorithm="RSAES_OAEP_SHA_256", WrappingKeySpec="RSA_2048"))
    check(params.ParametersValidTo > time.time() + 23 * 3600, "the import parameters are valid 24 hours")
    wrapping = serialization.load_der_public_key(base64.b64decode(params.PublicKey))
    material = os.urandom(32)
    wrapped = wrapping.encrypt(material, padding.OAEP(padding.MGF1(hashes.SHA256()), hashes.SHA256(), None))
    kms.ImportKeyMaterial(request(models.ImportKeyMaterialRequest, KeyId=byok, EncryptedKeyMaterial=b64(wrapped),
                                  ImportToken=params.ImportToken, ValidTo=0))
    blob = base64.b64decode(kms.Encrypt(request(models.EncryptRequest, KeyId=byok, Plaintext=b64(secret))).CiphertextBlob)
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    header, nonce, sealed = blob[:23], blob[23:35], blob[35:]
    check(AESGCM(material).decrypt(nonce, sealed, header) == secret,
          f"{method} a ciphertext under imported material opens with that material in cryptography")
    kms.DeleteImportedKeyMaterial(request(models.DeleteImportedKeyMaterialRequest, KeyId=byok))
    described = kms.DescribeKey(request(models.DescribeKeyRequest, KeyId=byok)).KeyMetadata
    check(described.KeyState == "PendingImport" and described.Origin == "EXTERNAL",
          "DeleteImportedKeyMaterial: PendingImport again")

    # SM4 keys (Type 4) encrypt and decrypt, and say Type 4.
    sm4 = kms.CreateKey(request(models.CreateKeyRequest, Alias=f"pairs-{uuid.uuid4().hex[:10]}", Type=4)).KeyId
    check(kms.DescribeKey(request(models.DescribeKeyRequest, KeyId=sm4)).KeyMetadata.Type == 4, "an SM4 key is Type 4")
    blob = kms.Encrypt(request(models.EncryptRequest, KeyId=sm4, Plaintext=b64(secret))).CiphertextBlob
    check(base64.b64decode(kms.Decrypt(request(models.DecryptRequest, CiphertextBlob=blob)).Plaintext) == secret,
          f"{method} SM4 round trip")
    algorithms = kms.ListAlgorithms(request(models.ListAlgorithmsRequest))
    check({a.Algorithm for a in algorithms.SymmetricAlgorithms} == {"AES_256", "SM4"}, "ListAlgorithms: AES_256 and SM4")


with tempfile.TemporaryDirectory() as workdir:
    for method in ["POST", "GET"]:
        run(method, workdir)
print(f"key pairs through the Python SDK over {checks.SCHEME}: {checks.passed} passed, 0 failed")
