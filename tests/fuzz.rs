//! Fuzz targets for every parser of outside input: the keystore file (header and sealed body), the
//! keystore body JSON, CiphertextBlobs, encrypted files (header and chunk stream), encryption
//! contexts, and API requests (parameters and signature check; Tencent's, and Huawei's and JD's
//! signed as their SDKs sign, so that the mutations reach each operation). Each runs its seeds from
//! `tests/fuzz/corpus/<target>/`, then mutations of them for `KC_FUZZ_SECONDS` (5 s by default);
//! a finding is saved under `target/fuzz-findings/` with the seed to replay it (`KC_FUZZ_SEED`).
//! `cargo test --test fuzz -- --ignored make_corpus` writes the seeds again.

use keyconsole::api::tencent::{self, ApiRequest};
use keyconsole::kms::{CanonicalContext, Kms};
use keyconsole::store::format::Header;
use keyconsole::testing::api_client::{Signer, signed_request};
use keyconsole::testing::fuzz::{self, corpus_dir, load_corpus};
use keyconsole::testing::{FAST_KDF, PASSWORD, START, TestClock, compat};
use serde_json::json;
use zeroize::Zeroizing;

fn compat_kms() -> (tempfile::TempDir, Kms) {
    compat::open_copy(TestClock::new(START))
}

#[test]
fn keystore_file() {
    let corpus = load_corpus("keystore_file");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fuzz.kcks");
    fuzz::run("keystore_file", &corpus, |input| {
        std::fs::write(&path, input).unwrap();
        if Kms::open(&path, PASSWORD).is_ok() {
            // The header hash and the AEAD leave no room: only an unchanged file opens.
            assert!(
                corpus.iter().any(|seed| seed == input),
                "a changed keystore opened"
            );
        }
        let _ = std::fs::remove_file(&path);
    });
}

#[test]
fn keystore_header() {
    let corpus = load_corpus("keystore_file");
    fuzz::run("keystore_header", &corpus, |input| {
        if let Ok(header) = Header::decode(input) {
            assert_eq!(&header.encode()[..], &input[..header.encode().len()]);
        }
    });
}

#[test]
fn keystore_body() {
    let corpus = load_corpus("keystore_body");
    fuzz::run("keystore_body", &corpus, |input| {
        let _ = fuzz::keystore_body(input);
    });
}

#[test]
fn ciphertext_blob() {
    let corpus = load_corpus("ciphertext_blob");
    let (_dir, kms) = compat_kms();
    let context = CanonicalContext::parse(Some(r#"{"app":"compat"}"#)).unwrap();
    fuzz::run("ciphertext_blob", &corpus, |input| {
        let text = String::from_utf8_lossy(input);
        if let Ok(decrypted) = kms.decrypt(&text, &context) {
            assert_eq!(
                &decrypted.plaintext[..],
                compat::PLAINTEXT,
                "a changed blob decrypted to something else"
            );
        }
        let _ = kms.re_encrypt(&text, None, &context, &CanonicalContext::none());
    });
}

#[test]
fn file_stream() {
    let corpus = load_corpus("file_stream");
    let (dir, kms) = compat_kms();
    let plaintext = compat::file_plaintext();
    let input_path = dir.path().join("in.kc");
    let output_path = dir.path().join("out");
    fuzz::run("file_stream", &corpus, |input| {
        std::fs::write(&input_path, input).unwrap();
        let opened = kms
            .file_decryptor(&input_path)
            .and_then(|d| d.decrypt(&output_path, true, &mut |_, _| true));
        match opened {
            Ok(_) => assert_eq!(std::fs::read(&output_path).unwrap(), plaintext),
            Err(_) => assert!(
                !output_path.exists(),
                "a failed decryption left output behind"
            ),
        }
        let _ = std::fs::remove_file(&output_path);
    });
}

#[test]
fn encryption_context() {
    let corpus = load_corpus("encryption_context");
    fuzz::run("encryption_context", &corpus, |input| {
        let text = String::from_utf8_lossy(input);
        if let Ok(context) = CanonicalContext::parse(Some(&text)) {
            let again = CanonicalContext::parse(Some(context.as_str())).unwrap();
            assert_eq!(again, context, "the canonical form is stable");
        }
    });
}

/// A request as corpus bytes: its eight header fields, one per line, then the body.
fn request_to_bytes(request: &ApiRequest) -> Vec<u8> {
    let fields = [
        request.method.clone(),
        request.query.clone(),
        request.content_type.clone(),
        request.host.clone(),
        request.action.clone().unwrap_or_default(),
        request.version.clone().unwrap_or_default(),
        request.timestamp.clone().unwrap_or_default(),
        request.authorization.clone().unwrap_or_default(),
    ];
    let mut bytes = fields.join("\n").into_bytes();
    bytes.push(b'\n');
    bytes.extend_from_slice(&request.body);
    bytes
}

fn request_from_bytes(input: &[u8]) -> ApiRequest {
    let mut parts = input.splitn(9, |&b| b == b'\n');
    let mut field = || String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let optional = |s: String| (!s.is_empty()).then_some(s);
    let (method, query, content_type, host) = (field(), field(), field(), field());
    let (action, version, timestamp, authorization) = (field(), field(), field(), field());
    ApiRequest {
        method,
        query,
        content_type,
        host,
        action: optional(action),
        version: optional(version),
        timestamp: optional(timestamp),
        authorization: optional(authorization),
        content_sha256: None,
        language: None,
        body: keyconsole::util::SecretBytes::from(parts.next().unwrap_or_default().to_vec()),
        peer: None,
    }
}

#[test]
fn api_request() {
    let corpus = load_corpus("api_request");
    let (_dir, kms) = compat_kms();
    fuzz::run("api_request", &corpus, |input| {
        let outcome = tencent::process(&kms, &request_from_bytes(input));
        let body = tencent::response_body(
            outcome.action,
            outcome.result,
            "fuzz",
            keyconsole::util::i18n::Language::English,
        );
        let answer: serde_json::Value = serde_json::from_slice(&body).expect("JSON answer");
        assert!(answer["Response"]["RequestId"].is_string(), "{answer}");
    });
}

/// A Huawei or JD request as corpus bytes: `MODE\nMETHOD\nTARGET\nBODY`. MODE `huawei`, `jd2` or
/// `jd3` signs the request as that cloud's SDKs do, with the keystore's pair for the cloud (so a
/// mutated body or path is checked by the operation, not refused by the signature); any other
/// MODE is sent as the `Authorization` header itself.
fn dialect_request_bytes(
    mode: &str,
    method: &str,
    target: &str,
    body: &serde_json::Value,
) -> Vec<u8> {
    let mut bytes = format!("{mode}\n{method}\n{target}\n").into_bytes();
    bytes.extend_from_slice(body.to_string().as_bytes());
    bytes
}

/// The request `input` describes, as the transport hands it to a dialect (None when hyper would
/// not have parsed it: a method or target that is not HTTP).
fn dialect_request(input: &[u8], kms: &Kms) -> Option<(hyper::http::request::Parts, Vec<u8>)> {
    use keyconsole::api::{huawei, jd};
    use keyconsole::kms::Cloud;
    let mut parts = input.splitn(4, |&b| b == b'\n');
    let mut field = || String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let (mode, method, target) = (field(), field(), field());
    let body = parts.next().unwrap_or_default().to_vec();
    let uri: hyper::Uri = target.parse().ok()?;
    let (path, query) = (
        uri.path().to_owned(),
        uri.query().unwrap_or_default().to_owned(),
    );
    let date = time::OffsetDateTime::from_unix_timestamp(START)
        .unwrap()
        .format(time::macros::format_description!(
            "[year][month][day]T[hour][minute][second]Z"
        ))
        .unwrap();
    let (host, content_type) = ("127.0.0.1:19267", "application/json");
    let signed_headers = "content-type;host";
    let authorization = match mode.as_str() {
        "huawei" => {
            let pair = kms.api_credentials_for(Cloud::Huawei).unwrap();
            let headers = [
                ("content-type", content_type),
                ("host", host),
                ("x-sdk-date", &date),
            ];
            let received = huawei::signature::Received {
                method: &method,
                path: &path,
                query: &query,
                headers: &headers,
                body: &body,
            };
            let signed_headers = "content-type;host;x-sdk-date";
            let canonical = huawei::signature::canonical_request(&received, signed_headers).ok()?;
            let signature = huawei::signature::signature(
                pair.secret_key.as_str(),
                &huawei::signature::string_to_sign(&canonical, &date),
            );
            format!(
                "SDK-HMAC-SHA256 Access={}, SignedHeaders={signed_headers}, Signature={signature}",
                pair.secret_id
            )
        }
        "jd2" | "jd3" => {
            let pair = kms.api_credentials_for(Cloud::Jd).unwrap();
            let version = if mode == "jd2" {
                jd::signature::Version::Two
            } else {
                jd::signature::Version::Three
            };
            let headers = [("content-type", content_type), ("host", host)];
            let received = jd::signature::Received {
                method: &method,
                path: &path,
                query: &query,
                headers: &headers,
                body: &body,
            };
            let authorization = jd::signature::Authorization {
                version,
                access_key: &pair.secret_id,
                day: &date[..8],
                region: "cn-north-1",
                service: "kms",
                signed_headers,
                signature: "",
            };
            let signature = jd::signature::signature(
                &received,
                &authorization,
                pair.secret_key.as_str(),
                &date,
            )
            .ok()?;
            format!(
                "{} Credential={}/{}/cn-north-1/kms/{}, SignedHeaders={signed_headers}, Signature={signature}",
                version.algorithm(),
                pair.secret_id,
                &date[..8],
                if mode == "jd2" {
                    "jdcloud2_request"
                } else {
                    "jdcloud3_request"
                },
            )
        }
        other => other.to_owned(),
    };
    let request = hyper::Request::builder()
        .method(method.as_bytes())
        .uri(uri)
        .header("host", host)
        .header("content-type", content_type)
        .header("x-sdk-date", &date)
        .header("x-jdcloud-date", &date)
        .header("authorization", authorization)
        .body(())
        .ok()?;
    Some((request.into_parts().0, body))
}

/// Runs a request through the dialect its headers name, as the transport would: the answer is
/// that cloud's JSON, an error with its envelope, and never a panic.
fn run_dialect_request(kms: &Kms, input: &[u8]) -> Option<(u16, serde_json::Value)> {
    let (head, body) = dialect_request(input, kms)?;
    let dialect = keyconsole::api::dialect::of(&head);
    let call = dialect.read(&head, keyconsole::util::SecretBytes::from(body));
    let outcome = call.run(kms, "fuzz", true);
    let written = dialect.answer(outcome.action, outcome.result, "fuzz", call.language());
    let answer: serde_json::Value = serde_json::from_slice(&written.body).expect("JSON answer");
    assert!((200..600).contains(&written.status), "{}", written.status);
    match dialect.name() {
        "huawei" if written.status >= 400 => {
            let error = answer.get("error").unwrap_or(&answer);
            assert!(error["error_code"].is_string(), "{answer}");
            assert!(error["error_msg"].is_string(), "{answer}");
        }
        "jd" => {
            assert!(answer["requestId"].is_string(), "{answer}");
            if written.status >= 400 {
                assert_eq!(answer["error"]["code"], written.status, "{answer}");
            }
        }
        "tencent" => assert!(answer["Response"]["RequestId"].is_string(), "{answer}"),
        _ => {}
    }
    Some((written.status, answer))
}

#[test]
fn signed_dialects() {
    let corpus = load_corpus("signed_dialects");
    let (_dir, kms) = compat_kms();
    fuzz::run("signed_dialects", &corpus, |input| {
        run_dialect_request(&kms, input);
    });
}

/// Parses a raw HTTP request made by `signed_request` into the fields `process` takes.
fn parse_raw(raw: &[u8]) -> ApiRequest {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let mut lines = head.lines();
    let request_line: Vec<&str> = lines.next().unwrap().split(' ').collect();
    let header = |name: &str| {
        head.lines().find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
        })
    };
    ApiRequest {
        method: request_line[0].to_owned(),
        query: request_line[1]
            .split_once('?')
            .map(|(_, q)| q.to_owned())
            .unwrap_or_default(),
        content_type: header("content-type").unwrap_or_default(),
        host: header("host").unwrap_or_default(),
        action: header("x-tc-action"),
        version: header("x-tc-version"),
        timestamp: header("x-tc-timestamp"),
        authorization: header("authorization"),
        content_sha256: header("x-tc-content-sha256"),
        language: header("x-tc-language"),
        body: keyconsole::util::SecretBytes::from(body.as_bytes().to_vec()),
        peer: None,
    }
}

fn write_seeds(target: &str, seeds: &[Vec<u8>]) {
    let dir = corpus_dir(target);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for (i, seed) in seeds.iter().enumerate() {
        std::fs::write(dir.join(format!("seed-{i:02}")), seed).unwrap();
    }
}

#[test]
#[ignore = "writes the seed corpus; run by hand"]
fn make_corpus() {
    // Keystore files and bodies: an empty keystore and one with keys in several states.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("seed.kcks");
    let kms = Kms::create(&path, PASSWORD, FAST_KDF).unwrap();
    let empty_file = std::fs::read(&path).unwrap();
    let empty_body = fuzz::keystore_body_seed(&kms);
    for alias in ["app-db", "backup", "old"] {
        keyconsole::testing::create(&kms, alias);
    }
    kms.disable_key("backup").unwrap();
    kms.rotate_key("app-db").unwrap();
    kms.api_credentials().unwrap();
    write_seeds(
        "keystore_file",
        &[empty_file, std::fs::read(&path).unwrap()],
    );
    write_seeds(
        "keystore_body",
        &[empty_body, fuzz::keystore_body_seed(&kms)],
    );

    let fixture = |name: &str| std::fs::read(compat::dir().join(name)).unwrap();
    write_seeds(
        "ciphertext_blob",
        &[
            fixture("blob-v1.kc"),
            fixture("blob-v2.kc"),
            fixture("blob-archived.kc"),
        ],
    );
    write_seeds("file_stream", &[fixture("secret.txt.kc")]);
    write_seeds(
        "encryption_context",
        &[
            br#"{"app":"billing"}"#.to_vec(),
            br#"{"b":"2","a":"1","unicode":"\u00e9\u4e2d"}"#.to_vec(),
            b"{}".to_vec(),
        ],
    );

    let (_dir, kms) = compat_kms();
    let credentials = kms.existing_api_credentials().unwrap();
    let addr = "127.0.0.1:19267".parse().unwrap();
    let signer = || Signer {
        secret_id: &credentials.secret_id,
        secret_key: credentials.secret_key.as_str(),
        timestamp: START,
    };
    let blob = String::from_utf8(fixture("blob-v1.kc")).unwrap();
    kms.create_secret(keyconsole::kms::CreateSecret {
        name: "seed-secret".into(),
        version_id: None,
        description: String::new(),
        key: Some("compat-key".into()),
        value: keyconsole::kms::SecretValue::Text(Zeroizing::new("seed value".into())),
        tags: Vec::new(),
    })
    .unwrap();
    let requests = [
        (
            "POST",
            "Encrypt",
            json!({"KeyId": "compat-key", "Plaintext": "aGVsbG8=", "EncryptionContext": "{\"app\":\"compat\"}"}),
        ),
        (
            "GET",
            "Decrypt",
            json!({"CiphertextBlob": blob, "EncryptionContext": "{\"app\":\"compat\"}"}),
        ),
        (
            "POST",
            "DescribeKeys",
            json!({"KeyIds": ["compat-key", "compat-disabled"]}),
        ),
        (
            "POST",
            "ListKeyDetail",
            json!({"Limit": 10, "KeyState": 1, "SearchKeyAlias": "compat"}),
        ),
        (
            "POST",
            "GenerateDataKey",
            json!({"KeyId": "compat-key", "KeySpec": "AES_128"}),
        ),
        (
            "POST",
            "UpdateKeyDescription",
            json!({"KeyId": "compat-key", "Description": "fuzzed"}),
        ),
        (
            "POST",
            "GetSecretValue",
            json!({"SecretName": "seed-secret", "VersionId": "SSM_v1"}),
        ),
        (
            "GET",
            "PutSecretValue",
            json!({"SecretName": "seed-secret", "VersionId": "v2", "SecretBinary": "AAEC"}),
        ),
        (
            "POST",
            "ListSecrets",
            json!({"State": 1, "SearchSecretName": "seed"}),
        ),
    ];
    let seeds: Vec<Vec<u8>> = requests
        .iter()
        .map(|(method, action, params)| {
            let version = if action.contains("Secret") {
                "2019-09-23"
            } else {
                "2019-01-18"
            };
            let raw = signed_request(addr, method, action, version, params, signer());
            let request = parse_raw(&raw);
            // The seeds are accepted as they are.
            let outcome = tencent::process(&kms, &request);
            assert!(
                outcome.result.is_ok(),
                "{action}: {:?}",
                outcome.result.err()
            );
            request_to_bytes(&request)
        })
        .collect();
    write_seeds("api_request", &seeds);

    // Huawei's and JD's operations, signed; a ciphertext made through each to decrypt.
    let huawei = |op: &str| format!("/v1.0/0123456789abcdef/kms/{op}");
    let seed = |mode: &str, method: &str, target: &str, body: serde_json::Value| {
        let bytes = dialect_request_bytes(mode, method, target, &body);
        let (status, answer) = run_dialect_request(&kms, &bytes).unwrap();
        // The seeds are accepted as they are.
        assert!(status < 400, "{target}: {answer}");
        (bytes, answer)
    };
    let (encrypted, sealed) = seed(
        "huawei",
        "POST",
        &huawei("encrypt-data"),
        json!({"key_id": "compat-key", "plain_text": "db password", "additional_authenticated_data": "app"}),
    );
    let (jd_encrypted, jd_sealed) = seed(
        "jd3",
        "POST",
        "/v1/key/compat-key:Encrypt",
        json!({"plaintext": "aGVsbG8="}),
    );
    let mut seeds = vec![encrypted, jd_encrypted];
    for (mode, method, target, body) in [
        (
            "huawei",
            "POST",
            huawei("decrypt-data"),
            json!({"cipher_text": sealed["cipher_text"], "additional_authenticated_data": "app"}),
        ),
        (
            "huawei",
            "POST",
            huawei("create-datakey"),
            json!({"key_id": "compat-key", "datakey_length": "256"}),
        ),
        (
            "huawei",
            "POST",
            huawei("describe-key"),
            json!({"key_id": "compat-key"}),
        ),
        (
            "huawei",
            "POST",
            huawei("list-keys"),
            json!({"limit": "10", "key_spec": "ALL"}),
        ),
        (
            "huawei",
            "POST",
            huawei("gen-random"),
            json!({"random_data_length": "256"}),
        ),
        (
            "huawei",
            "POST",
            "/v1/0123456789abcdef/secrets".to_owned(),
            json!({"name": "huawei-seed", "secret_string": "s3cret"}),
        ),
        (
            "huawei",
            "GET",
            "/v1/0123456789abcdef/secrets/huawei-seed/versions/latest".to_owned(),
            json!({}),
        ),
        (
            "huawei",
            "GET",
            "/v1/0123456789abcdef/secrets?limit=5".to_owned(),
            json!({}),
        ),
        (
            "jd2",
            "POST",
            "/v1/key/compat-key%3ADecrypt".to_owned(),
            json!({"ciphertextBlob": jd_sealed["result"]["ciphertextBlob"]}),
        ),
        (
            "jd3",
            "GET",
            "/v1/key/compat-key:GenerateDataKey".to_owned(),
            json!({}),
        ),
        (
            "jd3",
            "GET",
            "/v1/key?pageNumber=1&pageSize=10".to_owned(),
            json!({}),
        ),
        (
            "jd3",
            "GET",
            "/v1/key/compat-key:describeKeyDetail".to_owned(),
            json!({}),
        ),
        (
            "jd3",
            "POST",
            "/v1/secret:create".to_owned(),
            json!({"secretCfg": {"secretDescCfg": {"secretName": "jd-seed", "secretDesc": "seed"}, "secretData": "s3cret"}}),
        ),
        (
            "jd2",
            "GET",
            "/v1/secret/jd-seed/version/v1".to_owned(),
            json!({}),
        ),
    ] {
        seeds.push(seed(mode, method, &target, body).0);
    }
    // Unsigned: the refusals' own path.
    seeds.push(dialect_request_bytes(
        "SDK-HMAC-SHA256 Access=x, SignedHeaders=host;x-sdk-date, Signature=00",
        "POST",
        &huawei("encrypt-data"),
        &json!({"key_id": "compat-key", "plain_text": "x"}),
    ));
    write_seeds("signed_dialects", &seeds);
}
