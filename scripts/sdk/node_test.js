// The official Tencent Cloud SDK for Node.js against a running `keyconsole serve`, over POST and
// GET: the KMS flow (CreateKey, Encrypt, Decrypt, Disable -> Encrypt refused, Enable,
// GenerateDataKey, ListKeyDetail, ReEncrypt, ScheduleKeyDeletion/CancelKeyDeletion), key pairs
// (an ECC signature Node's crypto verifies, RSA-OAEP from Node decrypted) and the Secrets Manager
// flow. It signs the Host without its port and scopes the service from the
// endpoint's first label, as it does against any endpoint.
// Usage: node node_test.js ENDPOINT [http|https]; KEYCONSOLE_SECRET_ID / KEYCONSOLE_SECRET_KEY in
// the environment. For https, Node trusts keyconsole's local CA through NODE_EXTRA_CA_CERTS (set
// before node starts), the setting the README gives.
// Prints "N passed, 0 failed" or exits 1 at the first mismatch.
const tencentcloud = require("tencentcloud-sdk-nodejs");

const endpoint = process.argv[2];
const scheme = process.argv[3] || "http";
const credential = {
  secretId: process.env.KEYCONSOLE_SECRET_ID,
  secretKey: process.env.KEYCONSOLE_SECRET_KEY,
};
let checks = 0;

function check(condition, what) {
  if (!condition) {
    console.error(`FAILED: ${what}`);
    process.exit(1);
  }
  checks += 1;
}

async function refused(code, call, what) {
  try {
    await call();
  } catch (e) {
    check(e.code === code, `${what}: expected ${code}, got ${e.code} (${e.message})`);
    return;
  }
  check(false, `${what}: expected ${code}, but the call succeeded`);
}

function client(Client, method) {
  return new Client({
    credential,
    region: "ap-guangzhou",
    profile: { httpProfile: { endpoint, protocol: `${scheme}://`, reqMethod: method, reqTimeout: 10 } },
  });
}

const b64 = (text) => Buffer.from(text).toString("base64");

async function kmsFlow(method) {
  const kms = client(tencentcloud.kms.v20190118.Client, method);
  const alias = `node-${method.toLowerCase()}-${Date.now()}`;
  const created = await kms.CreateKey({ Alias: alias, Description: `made by Node over ${method}` });
  check(created.Alias === alias && created.KeyState === "Enabled", `${method} CreateKey`);
  const key = created.KeyId;
  const enc = await kms.Encrypt({ KeyId: alias, Plaintext: b64("node secret"), EncryptionContext: '{"app":"node"}' });
  check(enc.KeyId === key, `${method} Encrypt names the KeyId`);
  const dec = await kms.Decrypt({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: '{"app":"node"}' });
  check(Buffer.from(dec.Plaintext, "base64").toString() === "node secret", `${method} Decrypt`);
  await kms.DisableKey({ KeyId: key });
  await refused("ResourceUnavailable.CmkDisabled", () => kms.Encrypt({ KeyId: key, Plaintext: b64("x") }),
    `${method} Encrypt under a disabled key`);
  await kms.EnableKey({ KeyId: key });
  const dataKey = await kms.GenerateDataKey({ KeyId: key, KeySpec: "AES_256" });
  check(Buffer.from(dataKey.Plaintext, "base64").length === 32, `${method} GenerateDataKey`);
  const listed = await kms.ListKeyDetail({ Limit: 100, SearchKeyAlias: alias });
  check(listed.TotalCount === 1 && listed.KeyMetadatas[0].KeyId === key, `${method} ListKeyDetail`);
  const re = await kms.ReEncrypt({ CiphertextBlob: enc.CiphertextBlob, SourceEncryptionContext: '{"app":"node"}' });
  check(re.KeyId === key && re.SourceKeyId === key, `${method} ReEncrypt`);
  await kms.DisableKey({ KeyId: key });
  const scheduled = await kms.ScheduleKeyDeletion({ KeyId: key, PendingWindowInDays: 7 });
  check(scheduled.DeletionDate > 0, `${method} ScheduleKeyDeletion`);
  await kms.CancelKeyDeletion({ KeyId: key });
  const described = await kms.DescribeKey({ KeyId: key });
  check(described.KeyMetadata.KeyState === "Disabled", `${method} CancelKeyDeletion leaves it Disabled`);
}

async function ssmFlow(method) {
  const ssm = client(tencentcloud.ssm.v20190923.Client, method);
  const name = `node-${method.toLowerCase()}-${Date.now()}`;
  const created = await ssm.CreateSecret({ SecretName: name, SecretString: "n0de-pass" });
  check(created.VersionId === "SSM_v1", `${method} CreateSecret`);
  const got = await ssm.GetSecretValue({ SecretName: name, VersionId: "SSM_v1" });
  check(got.SecretString === "n0de-pass", `${method} GetSecretValue`);
  await ssm.PutSecretValue({ SecretName: name, VersionId: "v2", SecretString: "second" });
  const versions = await ssm.ListSecretVersionIds({ SecretName: name });
  check(versions.Versions.length === 2, `${method} ListSecretVersionIds`);
  await ssm.DisableSecret({ SecretName: name });
  await refused("ResourceUnavailable.ResourceDisabled",
    () => ssm.GetSecretValue({ SecretName: name, VersionId: "SSM_v1" }), `${method} GetSecretValue when disabled`);
  const deleted = await ssm.DeleteSecret({ SecretName: name, RecoveryWindowInDays: 0 });
  check(deleted.SecretName === name, `${method} DeleteSecret`);
  await refused("ResourceNotFound", () => ssm.DescribeSecret({ SecretName: name }),
    `${method} DescribeSecret after deletion`);
}

// Key pairs: an ECC key's signature checked by Node's own crypto, and an RSA key decrypting what
// Node encrypted to its public key.
async function keyPairFlow(method) {
  const crypto = require("crypto");
  const kms = client(tencentcloud.kms.v20190118.Client, method);
  const signer = await kms.CreateKey({ Alias: `node-ecc-${method.toLowerCase()}-${Date.now()}`,
    KeyUsage: "ASYMMETRIC_SIGN_VERIFY_ECC" });
  const pub = await kms.GetPublicKey({ KeyId: signer.KeyId });
  const message = Buffer.from(`node ${method} 签名`);
  const signed = await kms.SignByAsymmetricKey({ KeyId: signer.KeyId, Algorithm: "ECC_P256_R1",
    Message: message.toString("base64"), MessageType: "RAW" });
  const signature = Buffer.from(signed.Signature, "base64");
  check(crypto.verify("sha256", message, pub.PublicKeyPem, signature), `${method} Node verifies the ECC signature`);
  const valid = await kms.VerifyByAsymmetricKey({ KeyId: signer.KeyId, Algorithm: "ECC_P256_R1",
    Message: message.toString("base64"), SignatureValue: signed.Signature });
  check(valid.SignatureValid === true, `${method} VerifyByAsymmetricKey`);
  const decrypter = await kms.CreateKey({ Alias: `node-rsa-${method.toLowerCase()}-${Date.now()}`,
    KeyUsage: "ASYMMETRIC_DECRYPT_RSA_2048" });
  const rsaPub = await kms.GetPublicKey({ KeyId: decrypter.KeyId });
  const ciphertext = crypto.publicEncrypt({ key: rsaPub.PublicKeyPem, oaepHash: "sha256",
    padding: crypto.constants.RSA_PKCS1_OAEP_PADDING }, Buffer.from("node secret"));
  const opened = await kms.AsymmetricRsaDecrypt({ KeyId: decrypter.KeyId,
    Ciphertext: ciphertext.toString("base64"), Algorithm: "RSAES_OAEP_SHA_256" });
  check(Buffer.from(opened.Plaintext, "base64").toString() === "node secret",
    `${method} AsymmetricRsaDecrypt opens what Node encrypted`);
  const algorithms = await kms.ListAlgorithms({});
  check(algorithms.AsymmetricSignVerifyAlgorithms.some((a) => a.Algorithm === "SM2DSA"),
    `${method} ListAlgorithms`);
}

(async () => {
  for (const method of ["POST", "GET"]) {
    await kmsFlow(method);
    await keyPairFlow(method);
    await ssmFlow(method);
  }
  console.log(`the official Node.js SDK over ${scheme}: ${checks} passed, 0 failed`);
})().catch((e) => {
  console.error(`FAILED: ${e.code || ""} ${e.message}`);
  process.exit(1);
});
