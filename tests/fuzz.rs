//! Fuzz targets for every parser of outside input: the keystore file (header and sealed body), the
//! keystore body JSON, CiphertextBlobs, encrypted files (header and chunk stream), encryption
//! contexts, and API requests (parameters and signature check). Each runs its seeds from
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
}
