//! The loopback API over real sockets: the protocol's answers, its refusals, and that nothing a
//! client sends can stop it. (The official SDK itself is driven by scripts/sdk_test.sh.)

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use keyconsole::api::tencent::signature::{SignedParts, scope_date, sign};
use keyconsole::api::{AccessLog, ApiServer, ServerConfig};
use keyconsole::kms::{Clock, Kms, SharedKms};
use keyconsole::testing::api_client::{Reply, Signer, exchange, signed_request};
use keyconsole::testing::{PASSWORD, TestKeystore};
use serde_json::{Value, json};

struct Harness {
    keystore: TestKeystore,
    kms: SharedKms,
    log: Arc<AccessLog>,
    server: ApiServer,
    secret_id: String,
    secret_key: String,
}

fn start() -> Harness {
    let (keystore, kms) = TestKeystore::new();
    let credentials = kms.api_credentials().unwrap();
    let kms = SharedKms::new(kms);
    let log = Arc::new(AccessLog::new(100));
    let server = ApiServer::start(
        kms.clone(),
        &ServerConfig::loopback("127.0.0.1:0".parse().unwrap()),
        log.clone(),
    )
    .unwrap();
    Harness {
        keystore,
        kms,
        log,
        server,
        secret_id: credentials.secret_id.clone(),
        secret_key: credentials.secret_key.to_string(),
    }
}

struct Call<'a> {
    method: &'a str,
    action: &'a str,
    params: Value,
    secret_id: Option<&'a str>,
    secret_key: Option<&'a str>,
    clock_offset: i64,
    version: &'a str,
}

impl<'a> Call<'a> {
    fn new(method: &'a str, action: &'a str, params: Value) -> Self {
        Call {
            method,
            action,
            params,
            secret_id: None,
            secret_key: None,
            clock_offset: 0,
            version: "2019-01-18",
        }
    }
}

impl Harness {
    fn now(&self) -> i64 {
        self.keystore.clock.now()
    }

    fn call(&self, action: &str, params: Value) -> Reply {
        self.send(Call::new("POST", action, params))
    }

    fn get(&self, action: &str, params: Value) -> Reply {
        self.send(Call::new("GET", action, params))
    }

    /// Signs and sends a request as the SDK does.
    fn send(&self, call: Call<'_>) -> Reply {
        let addr = self.server.local_addr();
        let signer = Signer {
            secret_id: call.secret_id.unwrap_or(&self.secret_id),
            secret_key: call.secret_key.unwrap_or(&self.secret_key),
            timestamp: self.now() + call.clock_offset,
        };
        let request = signed_request(
            addr,
            call.method,
            call.action,
            call.version,
            &call.params,
            signer,
        );
        exchange(addr, &request).expect("an HTTP answer")
    }

    fn create_key(&self, alias: &str) -> String {
        let reply = self.call("CreateKey", json!({"Alias": alias}));
        assert_eq!(reply.code(), "Success", "{}", reply.json);
        reply.field("KeyId").as_str().unwrap().to_owned()
    }
}

#[test]
fn encrypts_and_decrypts_over_post_and_get_with_the_cloud_shapes() {
    let h = start();
    let key = h.create_key("app-config");
    for send in [Harness::call, Harness::get] {
        let enc = send(
            &h,
            "Encrypt",
            json!({"KeyId": "app-config", "Plaintext": STANDARD.encode(b"s3cret"),
                   "EncryptionContext": "{\"app\":\"billing\"}"}),
        );
        assert_eq!(enc.status, 200);
        assert_eq!(enc.content_type, "application/json");
        assert_eq!(enc.code(), "Success");
        assert_eq!(enc.field("KeyId"), &json!(key));
        assert!(enc.field("RequestId").as_str().unwrap().len() == 36);
        let blob = enc.field("CiphertextBlob").as_str().unwrap();
        let dec = send(
            &h,
            "Decrypt",
            json!({"CiphertextBlob": blob, "EncryptionContext": "{\"app\":\"billing\"}"}),
        );
        assert_eq!(dec.field("Plaintext"), &json!(STANDARD.encode(b"s3cret")));
        // Decrypt documents InvalidParameterValue.InvalidCiphertext for a blob that does not open.
        let wrong = send(&h, "Decrypt", json!({"CiphertextBlob": blob}));
        assert_eq!(wrong.code(), "InvalidParameterValue.InvalidCiphertext");
        assert_eq!(wrong.status, 200);
        assert_eq!(wrong.content_type, "application/json");
        assert!(wrong.field("Error")["Message"].as_str().unwrap().len() > 10);
    }
    let described = h.get("DescribeKey", json!({"KeyId": key}));
    let metadata = described.field("KeyMetadata").as_object().unwrap();
    let mut fields: Vec<&str> = metadata.keys().map(String::as_str).collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        [
            "AccountAppId",
            "AccountName",
            "AccountUin",
            "Alias",
            "CreateTime",
            "CreatorUin",
            "CreatorUinString",
            "DeletionDate",
            "Description",
            "HsmClusterId",
            "IsSyncReplica",
            "KeyId",
            "KeyRotationEnabled",
            "KeyState",
            "KeyUsage",
            "LastRotateTime",
            "NextRotateTime",
            "Origin",
            "Owner",
            "ResourceId",
            "RotateDays",
            "SourceHsmClusterId",
            "SourceRegion",
            "SyncEndTime",
            "SyncMessages",
            "SyncStartTime",
            "SyncStatus",
            "Type",
            "ValidTo",
        ]
    );
    assert_eq!(metadata["KeyState"], "Enabled");
    assert_eq!(metadata["CreateTime"], json!(h.now()));
}

#[test]
fn every_state_rule_comes_back_with_its_code() {
    let h = start();
    let key = h.create_key("rules");
    let plaintext = STANDARD.encode(b"x");
    let encrypt = |h: &Harness| h.call("Encrypt", json!({"KeyId": key, "Plaintext": plaintext}));
    let blob = encrypt(&h).field("CiphertextBlob").clone();
    assert_eq!(
        h.call(
            "ScheduleKeyDeletion",
            json!({"KeyId": key, "PendingWindowInDays": 7})
        )
        .code(),
        "ResourceUnavailable.CmkShouldBeDisabled"
    );
    h.call("DisableKey", json!({"KeyId": key}));
    assert_eq!(encrypt(&h).code(), "ResourceUnavailable.CmkDisabled");
    assert_eq!(
        h.call(
            "ScheduleKeyDeletion",
            json!({"KeyId": key, "PendingWindowInDays": 31})
        )
        .code(),
        "InvalidParameter.InvalidPendingWindowInDays"
    );
    let scheduled = h.call(
        "ScheduleKeyDeletion",
        json!({"KeyId": key, "PendingWindowInDays": 7}),
    );
    assert_eq!(
        scheduled.field("DeletionDate"),
        &json!(h.now() + 7 * 86_400)
    );
    // Decrypt documents no code for a key pending deletion: its category.
    assert_eq!(
        h.call("Decrypt", json!({"CiphertextBlob": blob})).code(),
        "ResourceUnavailable"
    );
    let pending = h.get("ListKeyDetail", json!({"KeyState": 3}));
    assert_eq!(pending.field("TotalCount"), &json!(1));
    assert_eq!(
        h.call("EnableKey", json!({"KeyId": key})).code(),
        "ResourceUnavailable.CmkStateNotSupport"
    );
    h.call("CancelKeyDeletion", json!({"KeyId": key}));
    assert_eq!(
        h.call("CancelKeyDeletion", json!({"KeyId": key})).code(),
        "ResourceUnavailable.CmkNotPendingDelete"
    );
    h.call("EnableKey", json!({"KeyId": key}));
    assert_eq!(
        h.call("ArchiveKey", json!({"KeyId": key})).code(),
        "Success"
    );
    assert_eq!(encrypt(&h).code(), "ResourceUnavailable.CmkArchived");
    assert_eq!(
        h.call("Decrypt", json!({"CiphertextBlob": blob})).code(),
        "Success"
    );
    assert_eq!(
        h.call("CreateKey", json!({"Alias": "Rules"})).code(),
        "InvalidParameterValue.AliasAlreadyExists"
    );
    assert_eq!(
        h.call("CreateKey", json!({"Alias": "kms-x"})).code(),
        "InvalidParameterValue.InvalidAlias"
    );
    let many: Vec<String> = (0..101).map(|i| format!("k{i}")).collect();
    assert_eq!(
        h.call("EnableKeys", json!({"KeyIds": many})).code(),
        "InvalidParameterValue"
    );
    assert_eq!(
        h.call("GenerateRandom", json!({"NumberOfBytes": 1025}))
            .code(),
        "InvalidParameterValue"
    );
    assert_eq!(
        h.call("ListKeyDetail", json!({"Limit": 201})).code(),
        "InvalidParameterValue"
    );
}

#[test]
fn authentication_failures_have_their_codes() {
    let h = start();
    let call = |secret_id, secret_key, clock_offset, version| {
        h.send(Call {
            method: "POST",
            action: "ListKeys",
            params: json!({}),
            secret_id,
            secret_key,
            clock_offset,
            version,
        })
        .code()
        .to_owned()
    };
    assert_eq!(call(None, None, 0, "2019-01-18"), "Success");
    assert_eq!(call(None, None, 299, "2019-01-18"), "Success");
    assert_eq!(
        call(None, Some("wrong-secret-key"), 0, "2019-01-18"),
        "AuthFailure.SignatureFailure"
    );
    assert_eq!(
        call(Some("AKIDnobody"), None, 0, "2019-01-18"),
        "AuthFailure.SecretIdNotFound"
    );
    assert_eq!(
        call(None, None, -301, "2019-01-18"),
        "AuthFailure.SignatureExpire"
    );
    assert_eq!(
        call(None, None, 301, "2019-01-18"),
        "AuthFailure.SignatureExpire"
    );
    assert_eq!(call(None, None, 0, "2017-03-12"), "NoSuchVersion");

    let addr = h.server.local_addr();
    let unsigned = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nX-TC-Action: ListKeys\r\nX-TC-Version: 2019-01-18\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}"
    );
    let reply = exchange(addr, unsigned.as_bytes()).unwrap();
    assert_eq!(reply.code(), "AuthFailure.InvalidAuthorization");
    let put = unsigned.replacen("POST", "PUT", 1);
    assert_eq!(
        exchange(addr, put.as_bytes()).unwrap().code(),
        "UnsupportedProtocol"
    );

    // A rotation takes effect at once: the old SecretKey no longer signs.
    let old_key = h.secret_key.clone();
    let fresh = h.kms.rotate_api_credentials().unwrap();
    assert_eq!(
        h.send(Call {
            method: "POST",
            action: "ListKeys",
            params: json!({}),
            secret_id: Some(&fresh.secret_id),
            secret_key: Some(&old_key),
            clock_offset: 0,
            version: "2019-01-18",
        })
        .code(),
        "AuthFailure.SignatureFailure"
    );
    assert_eq!(
        call(
            Some(&fresh.secret_id),
            Some(&fresh.secret_key),
            0,
            "2019-01-18"
        ),
        "Success"
    );
}

#[test]
fn bad_input_gets_clean_errors_and_never_stops_the_server() {
    let h = start();
    h.create_key("k");
    assert_eq!(h.call("NoSuchThing", json!({})).code(), "InvalidAction");
    assert_eq!(
        h.call("Encrypt", json!({"KeyId": "k"})).code(),
        "MissingParameter"
    );
    assert_eq!(h.call("Decrypt", json!({})).code(), "MissingParameter");
    assert_eq!(
        h.call("Encrypt", json!({"KeyId": 5, "Plaintext": "eA=="}))
            .code(),
        "InvalidParameter"
    );
    assert_eq!(
        h.call("Encrypt", json!({"KeyId": "k", "Plaintext": "not base64!"}))
            .code(),
        "InvalidParameterValue.InvalidPlaintext"
    );
    assert_eq!(
        h.call("Decrypt", json!({"CiphertextBlob": "AAAA"})).code(),
        "InvalidParameterValue.InvalidCiphertext"
    );
    assert_eq!(
        h.call(
            "Encrypt",
            json!({"KeyId": "k", "Plaintext": "eA==", "EncryptionContext": "[1]"})
        )
        .code(),
        "InvalidParameterValue"
    );

    let addr = h.server.local_addr();
    // A body that is not JSON, signed correctly, is refused after authentication.
    let host = addr.to_string();
    let request = keyconsole::testing::api_client::signed_raw_request(
        addr,
        "Encrypt",
        "2019-01-18",
        b"{\"KeyId\": ",
        Signer {
            secret_id: &h.secret_id,
            secret_key: &h.secret_key,
            timestamp: h.now(),
        },
    );
    assert_eq!(exchange(addr, &request).unwrap().code(), "InvalidParameter");

    // Over 256 KiB: refused before anything else reads it.
    let big = vec![b'a'; 256 * 1024 + 1];
    let mut request = format!(
        "POST / HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nX-TC-Action: Encrypt\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        big.len()
    )
    .into_bytes();
    request.extend_from_slice(&big);
    let reply = exchange(addr, &request).unwrap();
    assert_eq!(reply.code(), "RequestSizeLimitExceeded");
    assert_eq!(reply.status, 200);

    // A GET whose request line passes 64 KiB (a large value the SDK put in the query): the
    // cloud's JSON refusal too, not the bare 414 the HTTP library would answer with.
    let request = format!(
        "GET /?Action=Encrypt&Plaintext={} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n",
        "a".repeat(70_000)
    );
    let reply = exchange(addr, request.as_bytes()).unwrap();
    assert_eq!(reply.status, 200);
    assert_eq!(reply.content_type, "application/json");
    assert_eq!(reply.code(), "RequestSizeLimitExceeded");
    assert!(reply.field("RequestId").as_str().unwrap().len() == 36);

    // Garbage, half requests and hang-ups: the server answers the next request regardless.
    for junk in [
        &b"\x00\x01\x02 garbage\r\n\r\n"[..],
        b"GET",
        b"POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\nshort",
        b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    ] {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream.write_all(junk).unwrap();
        // Hang up mid-request; the server must just drop the connection.
        stream.shutdown(std::net::Shutdown::Write).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let _ = stream.read_to_end(&mut Vec::new());
    }
    assert_eq!(h.call("ListKeys", json!({})).code(), "Success");
}

#[test]
fn changes_made_by_another_process_apply_to_the_next_request() {
    let h = start();
    let key = h.create_key("shared");
    // The CLI in another process: its own engine on the same file.
    let cli = Kms::open(&h.keystore.path, PASSWORD).unwrap();
    cli.disable_key(&key).unwrap();
    assert_eq!(
        h.call("Encrypt", json!({"KeyId": key, "Plaintext": "eA=="}))
            .code(),
        "ResourceUnavailable.CmkDisabled"
    );
    cli.enable_key(&key).unwrap();
    assert_eq!(
        h.call("Encrypt", json!({"KeyId": key, "Plaintext": "eA=="}))
            .code(),
        "Success"
    );
}

#[test]
fn concurrent_clients_are_all_served() {
    let h = start();
    let key = h.create_key("busy");
    std::thread::scope(|scope| {
        for t in 0..8 {
            let h = &h;
            let key = &key;
            scope.spawn(move || {
                for i in 0..25 {
                    let reply = if i % 5 == 0 {
                        h.call("CreateKey", json!({"Alias": format!("t{t}-{i}")}))
                    } else {
                        h.call("Encrypt", json!({"KeyId": key, "Plaintext": "eA=="}))
                    };
                    assert_eq!(reply.code(), "Success", "{}", reply.json);
                }
            });
        }
    });
    let listed = h.call("ListKeys", json!({"Limit": 200}));
    assert_eq!(listed.field("TotalCount"), &json!(1 + 8 * 5));
    assert_eq!(h.log.total(), 1 + 8 * 25 + 1);
}

#[test]
fn the_access_log_and_the_keystore_hold_no_secret() {
    let h = start();
    let key = h.create_key("logged");
    let plaintext = STANDARD.encode(b"the launch code is 0000");
    let enc = h.call("Encrypt", json!({"KeyId": key, "Plaintext": plaintext}));
    let blob = enc.field("CiphertextBlob").as_str().unwrap().to_owned();
    h.call("Decrypt", json!({"CiphertextBlob": blob}));
    h.call(
        "Encrypt",
        json!({"KeyId": "pasted secret, not a key", "Plaintext": plaintext}),
    );
    // A secret that happens to look like an alias (it used to be logged as one).
    h.call(
        "Encrypt",
        json!({"KeyId": "Hunter2-db-password", "Plaintext": plaintext}),
    );
    let entries = h.log.recent();
    let text: String = entries.iter().map(|e| format!("{e}\n")).collect();
    assert!(
        text.contains(&format!("Decrypt key={key} Success")),
        "{text}"
    );
    assert!(
        text.contains("Encrypt key=- InvalidParameterValue.InvalidKeyId"),
        "{text}"
    );
    for secret in [
        plaintext.as_str(),
        "launch code",
        &blob,
        &h.secret_key,
        "pasted",
        "Hunter2",
    ] {
        assert!(!text.contains(secret), "the log holds {secret}");
    }
    let file = std::fs::read(&h.keystore.path).unwrap();
    let holds = |needle: &[u8]| file.windows(needle.len()).any(|w| w == needle);
    assert!(!holds(h.secret_key.as_bytes()));
    assert!(!holds(h.secret_id.as_bytes()));
}

#[test]
fn credentials_are_made_once_kept_in_the_keystore_and_refused_beyond_loopback() {
    let (keystore, kms) = TestKeystore::new();
    assert!(kms.existing_api_credentials().is_none());
    let first = kms.api_credentials().unwrap();
    assert_eq!(kms.api_credentials().unwrap().secret_id, first.secret_id);
    drop(kms);
    let reopened = keystore.reopen();
    assert_eq!(
        reopened.api_credentials().unwrap().secret_id,
        first.secret_id
    );
    let rotated = reopened.rotate_api_credentials().unwrap();
    assert_ne!(rotated.secret_id, first.secret_id);
    assert_eq!(
        keystore.reopen().api_credentials().unwrap().secret_id,
        rotated.secret_id
    );
    let refused = ApiServer::start(
        SharedKms::new(reopened),
        &ServerConfig::loopback("0.0.0.0:0".parse().unwrap()),
        Arc::new(AccessLog::new(10)),
    )
    .unwrap_err();
    assert_eq!(
        keyconsole::api::tencent::codes::code(refused.code),
        "InvalidParameterValue"
    );
    assert!(refused.message.contains("--allow-remote"));
}

#[test]
fn secrets_manager_on_the_same_listener_logs_names_never_values() {
    let h = start();
    let ssm = |action: &str, params: Value| {
        let mut call = Call::new("POST", action, params);
        call.version = "2019-09-23";
        h.send(call)
    };
    let created = ssm(
        "CreateSecret",
        json!({"SecretName": "orders-db", "SecretString": "the-db-password-9"}),
    );
    assert_eq!(created.code(), "Success", "{}", created.json);
    assert_eq!(created.field("VersionId"), "SSM_v1");
    let got = ssm(
        "GetSecretValue",
        json!({"SecretName": "orders-db", "VersionId": "SSM_v1"}),
    );
    assert_eq!(got.field("SecretString"), "the-db-password-9");
    let missing = ssm("GetSecretValue", json!({"SecretName": "orders-db"}));
    assert_eq!(missing.code(), "MissingParameter");
    // A KMS action under the SSM version is not one of its actions.
    assert_eq!(ssm("Encrypt", json!({})).code(), "InvalidAction");
    // A signature scoped to kms for an SSM version is refused.
    let mut wrong_scope = Call::new(
        "POST",
        "GetSecretValue",
        json!({"SecretName": "orders-db", "VersionId": "SSM_v1"}),
    );
    wrong_scope.version = "2019-01-18";
    assert_eq!(h.send(wrong_scope).code(), "InvalidAction");

    let text: String = h.log.recent().iter().map(|e| format!("{e}\n")).collect();
    assert!(
        text.contains("GetSecretValue key=secret:orders-db Success"),
        "{text}"
    );
    assert!(!text.contains("the-db-password-9"), "{text}");

    // The largest legal values, JSON-escaped as the SDKs send them: 32,768 newlines (64 KiB
    // escaped) and 8,000 emoji as Python's json.dumps writes them (`\ud83d\ude00`, 96 KB).
    let newlines = ssm(
        "CreateSecret",
        json!({"SecretName": "newlines", "SecretString": "\n".repeat(32 * 1024)}),
    );
    assert_eq!(newlines.code(), "Success", "{}", newlines.json);
    let addr = h.server.local_addr();
    let escaped_emoji = "\\ud83d\\ude00".repeat(8000);
    let body = format!(r#"{{"SecretName": "emoji", "SecretString": "{escaped_emoji}"}}"#);
    let request = keyconsole::testing::api_client::signed_raw_request(
        addr,
        "CreateSecret",
        "2019-09-23",
        body.as_bytes(),
        Signer {
            secret_id: &h.secret_id,
            secret_key: &h.secret_key,
            timestamp: h.now(),
        },
    );
    let reply = exchange(addr, &request).unwrap();
    assert_eq!(reply.code(), "Success", "{}", reply.json);
    let got = ssm(
        "GetSecretValue",
        json!({"SecretName": "emoji", "VersionId": "SSM_v1"}),
    );
    assert_eq!(got.field("SecretString"), &"\u{1f600}".repeat(8000));
    // Negative deletion windows and 2^32 are refused as what they are.
    let far = ssm(
        "DeleteSecret",
        json!({"SecretName": "emoji", "RecoveryWindowInDays": 4_294_967_296u64}),
    );
    assert!(
        far.field("Error")["Message"]
            .as_str()
            .is_some_and(|m| m.contains("4294967296")),
        "{}",
        far.json
    );
}

/// As the Node.js and Go SDKs sign: the Host without its port (while sending it with the port),
/// and the service taken from the endpoint's first label (`127`) rather than `kms`: both are
/// accepted. A signature scoped to the other served service (`ssm`) is refused, naming it.
#[test]
fn a_host_signed_without_its_port_is_accepted() {
    let h = start();
    h.create_key("node");
    let addr = h.server.local_addr();
    let host = addr.to_string();
    let body = br#"{"KeyId":"node","Plaintext":"aGVsbG8="}"#;
    let timestamp = h.now();
    let date = scope_date(timestamp).unwrap();
    let send = |signed_host: &str, service: &str| {
        let parts = SignedParts {
            method: "POST",
            query: "",
            content_type: "application/json",
            host: signed_host,
            payload: body,
            unsigned_payload: false,
            timestamp,
        };
        let signature = sign(&h.secret_key, service, &parts, &date);
        let request = format!(
            "POST / HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nX-TC-Action: Encrypt\r\nX-TC-Version: 2019-01-18\r\nX-TC-Timestamp: {timestamp}\r\nAuthorization: TC3-HMAC-SHA256 Credential={}/{date}/{service}/tc3_request, SignedHeaders=content-type;host, Signature={signature}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
            h.secret_id,
            body.len(),
            String::from_utf8_lossy(body)
        );
        exchange(addr, request.as_bytes()).unwrap()
    };
    assert_eq!(send("127.0.0.1", "kms").code(), "Success");
    assert_eq!(send(&host, "kms").code(), "Success");
    assert_eq!(send("127.0.0.1", "127").code(), "Success");
    let wrong = send(&host, "ssm");
    assert_eq!(wrong.code(), "AuthFailure.SignatureFailure");
    assert!(
        wrong.json.to_string().contains("names the service ssm"),
        "{}",
        wrong.json
    );
}

/// As the cloud does: `X-TC-Language: zh-CN` gets the error message in Chinese, anything else in
/// English; the code is the same either way.
#[test]
fn error_messages_are_in_the_language_the_request_asks_for() {
    let h = start();
    h.create_key("app-config");
    h.call("DisableKey", json!({"KeyId": "app-config"}));
    let addr = h.server.local_addr();
    let ask = |language: Option<&str>| {
        let signer = Signer {
            secret_id: &h.secret_id,
            secret_key: &h.secret_key,
            timestamp: h.now(),
        };
        let mut request = signed_request(
            addr,
            "POST",
            "Encrypt",
            "2019-01-18",
            &json!({"KeyId": "app-config", "Plaintext": STANDARD.encode(b"x")}),
            signer,
        );
        if let Some(language) = language {
            // Not among the signed headers (the SDKs sign content-type and host only).
            let line_end = request.windows(2).position(|w| w == b"\r\n").unwrap() + 2;
            let header = format!("X-TC-Language: {language}\r\n");
            request.splice(line_end..line_end, header.into_bytes());
        }
        let reply = exchange(addr, &request).expect("an HTTP answer");
        assert_eq!(reply.code(), "ResourceUnavailable.CmkDisabled");
        reply.field("Error")["Message"].as_str().unwrap().to_owned()
    };
    let chinese = ask(Some("zh-CN"));
    assert!(chinese.contains("已禁用；请启用后再加密"), "{chinese}");
    let english = ask(Some("en-US"));
    assert!(
        english.contains("is disabled; enable it to encrypt"),
        "{english}"
    );
    assert_eq!(ask(None), english);
    assert_eq!(ask(Some("fr-FR")), english);
    // A protocol error before the engine is reached is translated too.
    let reply = h.call("NoSuchThing", json!({}));
    assert_eq!(reply.code(), "InvalidAction");
}

/// A server is ready once every enabled key has its first block of encryptions saved, so the
/// first requests wait for no save; `serve` announces itself only then.
#[test]
fn a_server_is_ready_once_its_first_reservations_are_saved() {
    let (keystore, kms) = TestKeystore::new();
    keyconsole::testing::create(&kms, "ready");
    let kms = SharedKms::new(kms);
    let server = ApiServer::start(
        kms.clone(),
        &ServerConfig::loopback("127.0.0.1:0".parse().unwrap()),
        Arc::new(AccessLog::new(10)),
    )
    .unwrap();
    assert!(server.wait_until_ready(Duration::from_secs(30)));
    let on_disk = keystore.reopen().keys()[0].versions[0].encryptions;
    assert!(on_disk >= 1 << 20, "{on_disk}");
    server.stop();
    assert_eq!(keystore.reopen().keys()[0].versions[0].encryptions, 0);
}

/// The server reserves large blocks of encryptions; a clean stop gives back what no request
/// used, so the count on disk is what was made, not a million more.
#[test]
fn a_clean_stop_gives_back_the_unused_reservations() {
    let h = start();
    h.create_key("busy");
    for _ in 0..5 {
        let enc = h.call(
            "Encrypt",
            json!({"KeyId": "busy", "Plaintext": STANDARD.encode(b"x")}),
        );
        assert_eq!(enc.code(), "Success", "{}", enc.json);
    }
    let saved = |kms: &Kms| kms.keys()[0].versions[0].encryptions;
    assert!(saved(&h.keystore.reopen()) >= 1 << 20, "a server's block");
    h.server.stop();
    assert_eq!(saved(&h.keystore.reopen()), 5);
}

/// The API reaches the engine through the service: each request is one event naming the SecretId
/// that signed it, the request's language, and the RequestId its answer carries; a request whose
/// signature fails reaches no operation at all.
#[test]
fn api_requests_reach_the_service_as_the_credential_that_signed_them() {
    use keyconsole::kms::{Face, ServiceEvent};
    use keyconsole::util::i18n::Language;
    use std::sync::Mutex;

    let h = start();
    h.create_key("events");
    let events: Arc<Mutex<Vec<ServiceEvent>>> = Arc::default();
    let heard = events.clone();
    h.kms
        .set_event_hook(Some(Arc::new(move |event: &ServiceEvent| {
            heard.lock().unwrap().push(event.clone());
        })));
    let sealed = h.call(
        "Encrypt",
        json!({"KeyId": "events", "Plaintext": STANDARD.encode(b"plaintext 42")}),
    );
    assert_eq!(sealed.code(), "Success");
    let disabled = h.call("DisableKey", json!({"KeyId": "events"}));
    assert_eq!(disabled.code(), "Success");
    let refused = h.call("EnableKeys", json!({"KeyIds": ["no-such-key"]}));
    assert_eq!(refused.code(), "ResourceUnavailable.CmkNotFound");
    let forged = h.send(Call {
        secret_key: Some("not the key"),
        ..Call::new("POST", "DisableKey", json!({"KeyId": "events"}))
    });
    assert_eq!(forged.code(), "AuthFailure.SignatureFailure");
    h.kms.set_event_hook(None);

    let events = events.lock().unwrap();
    let seen: Vec<(&str, &str, bool)> = events
        .iter()
        .map(|e| (e.operation, e.target.as_str(), e.outcome.is_ok()))
        .collect();
    assert_eq!(
        seen,
        vec![
            ("Encrypt", "events", true),
            ("DisableKey", "events", true),
            ("EnableKey", "no-such-key", false),
        ]
    );
    for (event, answer) in events.iter().zip([&sealed, &disabled, &refused]) {
        assert_eq!(event.caller.face, Face::Api);
        assert_eq!(event.caller.principal, h.secret_id);
        assert_eq!(event.caller.language, Language::English);
        assert_eq!(
            event.caller.request_id,
            answer.field("RequestId").as_str().unwrap()
        );
    }
}

/// Counts the connections a client opens to the server and passes their bytes through; `cut`
/// closes the open ones, as a server does with an idle connection.
struct CountingProxy {
    addr: std::net::SocketAddr,
    accepted: Arc<std::sync::atomic::AtomicUsize>,
    open: Arc<std::sync::Mutex<Vec<TcpStream>>>,
}

impl CountingProxy {
    fn start(server: std::net::SocketAddr) -> CountingProxy {
        use std::sync::atomic::Ordering;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let accepted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let open: Arc<std::sync::Mutex<Vec<TcpStream>>> = Arc::default();
        let (count, streams) = (accepted.clone(), open.clone());
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { break };
                count.fetch_add(1, Ordering::SeqCst);
                let upstream = TcpStream::connect(server).unwrap();
                streams.lock().unwrap().push(client.try_clone().unwrap());
                for (mut from, mut to) in [
                    (client.try_clone().unwrap(), upstream.try_clone().unwrap()),
                    (upstream, client),
                ] {
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut from, &mut to);
                        let _ = to.shutdown(std::net::Shutdown::Both);
                    });
                }
            }
        });
        CountingProxy {
            addr,
            accepted,
            open,
        }
    }

    fn accepted(&self) -> usize {
        self.accepted.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn cut(&self) {
        for stream in self.open.lock().unwrap().drain(..) {
            let _ = stream.shutdown(std::net::Shutdown::Both);
        }
    }
}

/// The console's and the CLI's client keeps its connection for the next read, and when the
/// server has closed it meanwhile, the read goes out again on a new one. A change always goes
/// out on a new connection (were a kept one to fail, nobody could tell whether it was done).
#[test]
fn the_remote_client_reuses_its_connection_and_reconnects_once_it_is_closed() {
    use keyconsole::api::tencent::client::{Endpoint, RemoteService, RemoteSettings};
    use keyconsole::kms::{Caller, Face, KmsService};
    use keyconsole::util::i18n::Language;

    let h = start();
    // The client signs with this machine's clock: the server's test clock is set to it.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    h.keystore.clock.advance(now - h.now());
    h.create_key("pooled");
    let proxy = CountingProxy::start(h.server.local_addr());
    let remote = RemoteService::new(RemoteSettings {
        endpoint: Endpoint::parse(&format!("http://{}", proxy.addr)).unwrap(),
        secret_id: h.secret_id.clone(),
        secret_key: h.secret_key.clone().into(),
        ca_file: None,
        region: "ap-guangzhou".to_owned(),
    })
    .unwrap();
    let caller = Caller::local(Face::Cli, Language::English);
    for _ in 0..5 {
        assert_eq!(
            remote.describe_key(&caller, "pooled").unwrap().alias,
            "pooled"
        );
    }
    assert_eq!(proxy.accepted(), 1, "five calls over one connection");
    proxy.cut();
    let sealed = remote
        .encrypt(&caller, "pooled", b"plaintext", &Default::default())
        .unwrap();
    assert!(!sealed.ciphertext_blob.is_empty());
    assert_eq!(proxy.accepted(), 2, "one new connection after the cut");
    let change = keyconsole::kms::KeyChange::Update {
        alias: None,
        description: Some("pooled key".to_owned()),
    };
    remote
        .change_keys(&caller, &["pooled".to_owned()], change)
        .unwrap();
    assert_eq!(proxy.accepted(), 3, "a change on a connection of its own");
    let described = remote.describe_key(&caller, "pooled").unwrap();
    assert_eq!(described.description, "pooled key");
    assert_eq!(
        proxy.accepted(),
        3,
        "the change's connection kept for reads"
    );
}
