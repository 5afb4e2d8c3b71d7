// JD Cloud's official Node.js SDK (jdcloud-sdk-js, signing JDCLOUD2 and sending `:` as `%3A`)
// against a running `keyconsole serve`: CreateKey, Encrypt, Decrypt, GenerateDataKey, Disable →
// Encrypt refused (the promise rejects with the error envelope), ScheduleKeyDeletion (a DELETE with
// a query), CancelKeyDeletion; a secret: createSecret, createSecretVersion, describeSecretVersionInfo,
// disableSecret, deleteSecret; an RSA key's sign (checked by Node's crypto), getPublicKey, validate.
// Usage: node jd_node_test.js ENDPOINT [http|https]; KEYCONSOLE_SECRET_ID / KEYCONSOLE_SECRET_KEY
// in the environment; for https NODE_EXTRA_CA_CERTS names the local CA.
// Prints "N passed, 0 failed" or exits 1 at the first mismatch.
const crypto = require("crypto");
const KMS = require("jdcloud-sdk-js/src/services/kms");

const [endpoint, protocol = "http"] = process.argv.slice(2);
const kms = new KMS({
  credentials: {
    accessKeyId: process.env.KEYCONSOLE_SECRET_ID,
    secretAccessKey: process.env.KEYCONSOLE_SECRET_KEY,
  },
  endpoint: { host: endpoint, protocol },
  regionId: "cn-north-1",
});
let checks = 0;

function check(condition, what) {
  if (!condition) {
    console.error(`FAILED: ${what}`);
    process.exit(1);
  }
  checks += 1;
}

(async () => {
  const created = await kms.createKey({
    keyCfg: { keyDescCfg: { keyName: `jd-node-${Date.now()}`, keyDesc: "made by the JD Node SDK" } },
  });
  const keyId = created.result.keyId;
  check(typeof keyId === "string" && keyId.length === 36, "createKey answers a keyId");
  const plaintext = Buffer.from("node 密码").toString("base64");
  const encrypted = await kms.encrypt({ keyId, plaintext });
  const decrypted = await kms.decrypt({ keyId, ciphertextBlob: encrypted.result.ciphertextBlob });
  check(decrypted.result.plaintext === plaintext, "encrypt/decrypt round trip");
  const dataKey = await kms.generateDataKey({ keyId });
  check(Buffer.from(dataKey.result.plaintext, "base64").length === 32, "generateDataKey: 32 bytes");
  await kms.disableKey({ keyId });
  try {
    await kms.encrypt({ keyId, plaintext });
    check(false, "encrypt under a disabled key must be refused");
  } catch (e) {
    check(e.error && e.error.code === 400 && e.error.status === "FAILED_PRECONDITION" && e.requestId,
      `a disabled key: the error envelope (${JSON.stringify(e.error || e.message)})`);
  }
  await kms.scheduleKeyDeletion({ keyId, delayDays: 10 });
  const described = await kms.describeKey({ keyId });
  check(described.result.keyInfo.keyStatus === 2, "scheduleKeyDeletion (DELETE with a query): keyStatus 2");
  await kms.cancelKeyDeletion({ keyId });

  // An RSA key (keyType 1): Sign, checked by Node's crypto with the key GetPublicKey gives, and
  // Validate.
  const pair = await kms.createKey({
    keyCfg: { keyDescCfg: { keyName: `jd-node-rsa-${Date.now()}`, keyDesc: "signing", keyType: 1 } },
  });
  const message = Buffer.from("release 1.4.2 签名");
  const signed = await kms.sign({ keyId: pair.result.keyId, plaintext: message.toString("base64") });
  const pem = (await kms.getPublicKey({ keyId: pair.result.keyId })).result.publicKeyBlob;
  check(crypto.verify("sha256", message, pem, Buffer.from(signed.result.signature, "base64")),
    "Node's crypto verifies Sign (RSA PKCS#1 v1.5, SHA-256) with GetPublicKey's PEM");
  const validated = await kms.validate({
    keyId: pair.result.keyId, plaintext: message.toString("base64"), signature: signed.result.signature,
  });
  check(validated.result.validated === true, "validate: the signature holds");

  const secretName = `jd-node-secret-${Date.now()}`;
  const made = await kms.createSecret({
    secretCfg: { secretDescCfg: { secretName, secretDesc: "made by the JD Node SDK" }, secretData: "node 密码 one" },
  });
  const secretId = made.result.secretId;
  await kms.createSecretVersion({ secretId, secretVersionCfg: { secretData: "node two" } });
  const info = await kms.describeSecretVersionInfo({ secretId, version: "v2" });
  check(info.result.secretData === "node two", "createSecretVersion / describeSecretVersionInfo: v2's value");
  await kms.disableSecret({ secretId });
  await kms.deleteSecret({ secretId });
  try {
    await kms.describeSecretVersionList({ secretId });
    check(false, "a deleted secret must be gone");
  } catch (e) {
    check(e.error && e.error.code === 404, `a deleted secret: NOT_FOUND (${JSON.stringify(e.error || e.message)})`);
  }
  console.log(`the official JD Cloud Node.js SDK over ${protocol}: ${checks} passed, 0 failed`);
})().catch((e) => {
  console.error(`FAILED: ${JSON.stringify(e.error || e.message || e)}`);
  process.exit(1);
});
