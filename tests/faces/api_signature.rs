//! The TC3-HMAC-SHA256 check against requests signed by the official Tencent Cloud Python SDK
//! (recorded by scripts/record_tc3_fixture.py into tests/fixtures/tc3_requests.json).

use keyconsole::api::tencent::signature::{Authorization, SignedParts, sign, verify};
use keyconsole::kms::ErrorCode;
use serde_json::Value;

struct Recorded {
    method: String,
    query: String,
    content_type: String,
    host: String,
    body: Vec<u8>,
    timestamp: i64,
    authorization: String,
}

fn fixture() -> (String, Vec<Recorded>) {
    let text = std::fs::read_to_string("tests/fixtures/tc3_requests.json").unwrap();
    let json: Value = serde_json::from_str(&text).unwrap();
    let requests = json["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let header = |name: &str| r["headers"][name].as_str().unwrap().to_owned();
            let path = r["path"].as_str().unwrap();
            Recorded {
                method: r["method"].as_str().unwrap().to_owned(),
                query: path
                    .split_once('?')
                    .map(|(_, q)| q.to_owned())
                    .unwrap_or_default(),
                content_type: header("Content-Type"),
                host: header("Host"),
                body: r["body"].as_str().unwrap().as_bytes().to_vec(),
                timestamp: header("X-TC-Timestamp").parse().unwrap(),
                authorization: header("Authorization"),
            }
        })
        .collect();
    (json["secret_key"].as_str().unwrap().to_owned(), requests)
}

fn parts(r: &Recorded) -> SignedParts<'_> {
    SignedParts {
        method: &r.method,
        query: &r.query,
        content_type: &r.content_type,
        host: &r.host,
        payload: &r.body,
        unsigned_payload: false,
        timestamp: r.timestamp,
    }
}

#[test]
fn requests_signed_by_the_sdk_verify() {
    let (secret_key, requests) = fixture();
    assert_eq!(requests.len(), 2);
    for r in &requests {
        let auth = Authorization::parse(&r.authorization).unwrap();
        assert_eq!(auth.secret_id, "AKIDkeyconsoleFixture0000000000000000");
        assert_eq!(
            sign(&secret_key, "kms", &parts(r), &auth.date),
            auth.signature,
            "{} request",
            r.method
        );
        verify(&secret_key, &parts(r), &auth, r.timestamp).unwrap();
        verify(&secret_key, &parts(r), &auth, r.timestamp + 300).unwrap();
    }
}

#[test]
fn anything_changed_is_refused_with_its_code() {
    let (secret_key, requests) = fixture();
    for r in &requests {
        let auth = Authorization::parse(&r.authorization).unwrap();
        let code =
            |p: &SignedParts<'_>, key: &str, now: i64| verify(key, p, &auth, now).unwrap_err().code;
        assert_eq!(
            code(&parts(r), "wrong key", r.timestamp),
            ErrorCode::SignatureFailure
        );
        assert_eq!(
            code(&parts(r), &secret_key, r.timestamp + 301),
            ErrorCode::SignatureExpire
        );
        assert_eq!(
            code(&parts(r), &secret_key, r.timestamp - 301),
            ErrorCode::SignatureExpire
        );
        let mut changed = parts(r);
        changed.host = "127.0.0.1:1";
        assert_eq!(
            code(&changed, &secret_key, r.timestamp),
            ErrorCode::SignatureFailure
        );
        let body = [r.body.as_slice(), b" "].concat();
        let mut changed = parts(r);
        changed.payload = &body;
        if r.method == "POST" {
            assert_eq!(
                code(&changed, &secret_key, r.timestamp),
                ErrorCode::SignatureFailure
            );
        }
        let query = format!("{}&KeyId=other", r.query);
        let mut changed = parts(r);
        changed.query = &query;
        assert_eq!(
            code(&changed, &secret_key, r.timestamp),
            ErrorCode::SignatureFailure
        );
        let mut changed = parts(r);
        changed.timestamp += 1;
        assert_eq!(
            code(&changed, &secret_key, r.timestamp),
            ErrorCode::SignatureFailure
        );
    }
    for bad in [
        "",
        "Basic abc",
        "TC3-HMAC-SHA256 Credential=a/b/kms/tc3_request",
        "TC3-HMAC-SHA256 Credential=a/b, SignedHeaders=x, Signature=y",
    ] {
        assert_eq!(
            Authorization::parse(bad).unwrap_err().code,
            ErrorCode::InvalidAuthorization,
            "{bad:?}"
        );
    }
}

/// v1 (HmacSHA256, HmacSHA1) requests as the official Python SDK sent them
/// (tests/fixtures/v1_requests.json), replayed whole and put together differently.
mod v1 {
    use keyconsole::api::tencent::{self, ApiRequest};
    use keyconsole::kms::{ErrorCode, Kms};
    use keyconsole::testing::{FAST_KDF, PASSWORD, TestClock, create};
    use serde_json::Value;

    struct Captured {
        method: String,
        path: String,
        headers: Vec<(String, String)>,
        body: String,
    }

    fn fixture() -> (String, String, Vec<Captured>) {
        let text = std::fs::read_to_string("tests/fixtures/v1_requests.json").unwrap();
        let json: Value = serde_json::from_str(&text).unwrap();
        let requests = json["requests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| Captured {
                method: r["method"].as_str().unwrap().to_owned(),
                path: r["path"].as_str().unwrap().to_owned(),
                headers: r["headers"]
                    .as_object()
                    .unwrap()
                    .iter()
                    .map(|(k, v)| (k.to_ascii_lowercase(), v.as_str().unwrap().to_owned()))
                    .collect(),
                body: r["body"].as_str().unwrap().to_owned(),
            })
            .collect();
        let field = |name: &str| json[name].as_str().unwrap().to_owned();
        (field("secret_id"), field("secret_key"), requests)
    }

    impl Captured {
        fn header(&self, name: &str) -> Option<String> {
            self.headers
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        }

        /// What the transport hands the dialect for this request.
        fn request(&self) -> ApiRequest {
            ApiRequest {
                method: self.method.clone(),
                query: self
                    .path
                    .split_once('?')
                    .map(|(_, q)| q.to_owned())
                    .unwrap_or_default(),
                content_type: self.header("content-type").unwrap_or_default(),
                host: self.header("host").unwrap_or_default(),
                action: self.header("x-tc-action"),
                version: self.header("x-tc-version"),
                timestamp: self.header("x-tc-timestamp"),
                authorization: self.header("authorization"),
                content_sha256: self.header("x-tc-content-sha256"),
                language: self.header("x-tc-language"),
                body: keyconsole::util::SecretBytes::from(self.body.as_bytes().to_vec()),
                peer: None,
            }
        }

        fn signed(&self, name: &str) -> String {
            let carrier = if self.method == "POST" {
                self.body.clone()
            } else {
                self.path.split_once('?').unwrap().1.to_owned()
            };
            form_urlencoded::parse(carrier.as_bytes())
                .find(|(k, _)| k == name)
                .unwrap()
                .1
                .into_owned()
        }
    }

    /// A keystore whose clock stands at the fixture's time, with its credentials and the key the
    /// captured Encrypts name.
    fn keystore() -> (tempfile::TempDir, Kms, Vec<Captured>) {
        let (secret_id, secret_key, requests) = fixture();
        let timestamp: i64 = requests[0].signed("Timestamp").parse().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let kms = Kms::create_with_clock(
            &dir.path().join("keystore.kcks"),
            PASSWORD,
            FAST_KDF,
            TestClock::new(timestamp + 60),
        )
        .unwrap();
        kms.install_api_credentials(&secret_id, &secret_key)
            .unwrap();
        create(&kms, "db-password");
        (dir, kms, requests)
    }

    fn code(kms: &Kms, request: &ApiRequest) -> Option<ErrorCode> {
        tencent::process(kms, request).result.err().map(|e| e.code)
    }

    #[test]
    fn captured_requests_run_as_signed() {
        let (_dir, kms, requests) = keystore();
        assert_eq!(requests.len(), 6);
        for captured in &requests {
            let outcome = tencent::process(&kms, &captured.request());
            let reply = outcome.result.unwrap_or_else(|e| {
                panic!("{} {}: {e}", captured.method, captured.signed("Action"))
            });
            assert_eq!(outcome.action, captured.signed("Action"));
            if captured.signed("Action") == "Encrypt" {
                assert!(reply["CiphertextBlob"].is_string());
            }
        }
    }

    /// The replay the signature must not allow: a captured GetServiceStatus sent again under
    /// another action (an X-TC-Action header), or with its signed parameters moved to the query
    /// and other parameters in a JSON body.
    #[test]
    fn a_captured_request_cannot_be_turned_into_another() {
        let (_dir, kms, requests) = keystore();
        let keys_before = kms.keys().len();
        for captured in requests
            .iter()
            .filter(|c| c.signed("Action") == "GetServiceStatus")
        {
            for action in ["CreateKey", "Encrypt", "ListKeys", "DisableKey"] {
                let mut request = captured.request();
                request.action = Some(action.to_owned());
                assert_eq!(
                    code(&kms, &request),
                    Some(ErrorCode::SignatureFailure),
                    "{} as {action}",
                    captured.method
                );
                // The same header with the signed action is harmless.
                request.action = Some("GetServiceStatus".to_owned());
                assert_eq!(code(&kms, &request), None);
            }
            let mut request = captured.request();
            request.version = Some("2019-09-23".to_owned());
            assert_eq!(code(&kms, &request), Some(ErrorCode::SignatureFailure));
            let mut request = captured.request();
            request.language = Some("en-US".to_owned());
            assert_eq!(code(&kms, &request), Some(ErrorCode::SignatureFailure));
        }
        // The signed POST form body moved to the query, a JSON body beside it naming what to do.
        for captured in requests.iter().filter(|c| c.method == "POST") {
            let mut request = captured.request();
            request.query = captured.body.clone();
            request.content_type = "application/json".to_owned();
            request.body = keyconsole::util::SecretBytes::from(
                br#"{"KeyId":"db-password","Plaintext":"cmVwbGF5ZWQ=","Alias":"replayed"}"#
                    .to_vec(),
            );
            for action in [None, Some("CreateKey"), Some("Encrypt")] {
                request.action = action.map(str::to_owned);
                assert_eq!(
                    code(&kms, &request),
                    Some(ErrorCode::SignatureFailure),
                    "{action:?}"
                );
            }
            // A query beside the signed form body.
            let mut request = captured.request();
            request.query = "KeyId=other".to_owned();
            assert_eq!(code(&kms, &request), Some(ErrorCode::SignatureFailure));
        }
        // A body beside a signed GET query.
        let get = requests.iter().find(|c| c.method == "GET").unwrap();
        let mut request = get.request();
        request.body = keyconsole::util::SecretBytes::from(b"{\"KeyId\":\"x\"}".to_vec());
        assert_eq!(code(&kms, &request), Some(ErrorCode::SignatureFailure));
        assert_eq!(kms.keys().len(), keys_before);
    }
}
