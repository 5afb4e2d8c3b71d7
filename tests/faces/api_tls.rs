//! HTTPS: the API over TLS with a certificate from the keystore's local CA (or the user's own
//! files), trusted only by clients that trust that CA; the CA's key sealed in the keystore, never
//! on disk in the clear; listening beyond loopback only over TLS unless plain HTTP is asked for.

use std::io::Read;
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use keyconsole::api::{AccessLog, ApiServer, ServerConfig, tls};
use keyconsole::crypto::certs;
use keyconsole::kms::local_ca::{LOOPBACK_NAMES, local_ca_path};
use keyconsole::kms::{Kms, SharedKms};
use keyconsole::testing::api_client::{Signer, exchange, exchange_tls, signed_request};
use keyconsole::testing::{TestKeystore, all_files, contains, create};
use serde_json::json;

fn loopback_names() -> Vec<String> {
    LOOPBACK_NAMES.iter().map(|n| (*n).to_owned()).collect()
}

fn https_server(kms: &Kms, shared: SharedKms, config: ServerConfig) -> ApiServer {
    let identity = kms.issue_server_identity(&loopback_names()).unwrap();
    let config = ServerConfig {
        tls: Some(tls::from_identity(&identity).unwrap()),
        ..config
    };
    ApiServer::start(shared, &config, Arc::new(AccessLog::new(10))).unwrap()
}

fn encrypt_request(kms: &Kms, server: &ApiServer, alias: &str) -> Vec<u8> {
    let credentials = kms.api_credentials().unwrap();
    signed_request(
        server.local_addr(),
        "POST",
        "Encrypt",
        "2019-01-18",
        &json!({"KeyId": alias, "Plaintext": STANDARD.encode(b"over tls")}),
        Signer {
            secret_id: &credentials.secret_id,
            secret_key: &credentials.secret_key,
            timestamp: kms.now(),
        },
    )
}

#[test]
fn https_answers_only_clients_that_trust_the_local_ca_and_names_loopback() {
    let (keystore, kms) = TestKeystore::new();
    create(&kms, "tls-app");
    let kms = SharedKms::new(kms);
    let server = https_server(
        &kms,
        kms.clone(),
        ServerConfig::loopback("127.0.0.1:0".parse().unwrap()),
    );
    assert!(server.is_https());
    assert!(server.url().starts_with("https://127.0.0.1:"));
    let ca = kms.local_ca().unwrap();
    let request = encrypt_request(&kms, &server, "tls-app");
    for name in ["127.0.0.1", "localhost"] {
        let reply = exchange_tls(server.local_addr(), name, &ca.cert_pem, &request)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(reply.code(), "Success", "{}", reply.json);
        assert!(reply.field("CiphertextBlob").is_string());
    }
    // Another CA (another keystore's, say) is not trusted, nor a name the certificate lacks.
    let stranger = certs::new_ca("keyconsole local CA stranger").unwrap();
    let refused = exchange_tls(
        server.local_addr(),
        "127.0.0.1",
        &stranger.cert_pem,
        &request,
    )
    .unwrap_err();
    assert!(refused.contains("UnknownIssuer"), "{refused}");
    let refused = exchange_tls(
        server.local_addr(),
        "kms.example.lan",
        &ca.cert_pem,
        &request,
    )
    .unwrap_err();
    assert!(refused.contains("not valid for name"), "{refused}");
    // Plain HTTP to the HTTPS port gets no API answer.
    let plain = exchange(server.local_addr(), &request);
    assert!(plain.is_none(), "{plain:?}");
    drop(keystore);
}

#[test]
fn a_client_that_never_says_hello_is_dropped_at_the_header_timeout() {
    let (_keystore, kms) = TestKeystore::new();
    create(&kms, "tls-idle");
    let kms = SharedKms::new(kms);
    let config = ServerConfig {
        header_timeout: Duration::from_millis(300),
        ..ServerConfig::loopback("127.0.0.1:0".parse().unwrap())
    };
    let server = https_server(&kms, kms.clone(), config);
    let mut silent = TcpStream::connect(server.local_addr()).unwrap();
    silent
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut byte = [0u8; 1];
    let n = silent
        .read(&mut byte)
        .expect("closed by the server, not timed out here");
    assert_eq!(n, 0);
    let ca = kms.local_ca().unwrap();
    let request = encrypt_request(&kms, &server, "tls-idle");
    let reply = exchange_tls(server.local_addr(), "127.0.0.1", &ca.cert_pem, &request).unwrap();
    assert_eq!(reply.code(), "Success");
}

#[test]
fn the_local_ca_is_made_once_its_key_sealed_in_the_keystore() {
    let (keystore, kms) = TestKeystore::new();
    let ca = kms.local_ca().unwrap();
    assert_eq!(ca.path, local_ca_path(&keystore.path));
    assert_eq!(std::fs::read_to_string(&ca.path).unwrap(), ca.cert_pem);
    assert_eq!(kms.local_ca().unwrap().cert_pem, ca.cert_pem);
    drop(kms);
    let reopened = keystore.reopen();
    assert_eq!(reopened.local_ca().unwrap().cert_pem, ca.cert_pem);
    // Issuing a server certificate makes its key in memory only: nothing private on disk.
    let identity = reopened.issue_server_identity(&loopback_names()).unwrap();
    for (path, bytes) in all_files(keystore.dir.path()) {
        assert!(!contains(&bytes, b"PRIVATE KEY"), "{}", path.display());
        assert!(
            !contains(&bytes, &identity.key_der[..]),
            "{}",
            path.display()
        );
    }
    // A deleted certificate file comes back; renewing makes a new CA.
    std::fs::remove_file(&ca.path).unwrap();
    assert_eq!(reopened.local_ca().unwrap().cert_pem, ca.cert_pem);
    assert!(ca.path.exists());
    let renewed = reopened.renew_local_ca().unwrap();
    assert_ne!(renewed.cert_pem, ca.cert_pem);
    assert_eq!(std::fs::read_to_string(&ca.path).unwrap(), renewed.cert_pem);
    // No output may replace it.
    let refused = reopened.check_output_path(&ca.path).unwrap_err();
    assert_eq!(
        keyconsole::api::tencent::codes::code(refused.code),
        "FailedOperation.FileExists"
    );
    // A name that is neither an IP address nor a DNS name is refused with the reason.
    let bad = reopened
        .issue_server_identity(&["not a name!".to_owned()])
        .err()
        .unwrap();
    assert_eq!(
        keyconsole::api::tencent::codes::code(bad.code),
        "InvalidParameterValue"
    );
}

/// The local CA vouches for private names only, and says so in its certificate: OpenSSL reads
/// the name constraints, accepts a server certificate for a private name and would refuse one
/// for a public name, which the CA does not issue at all.
#[test]
fn the_local_ca_is_constrained_to_private_names() {
    let (keystore, kms) = TestKeystore::new();
    let ca = kms.local_ca().unwrap();
    let dir = keystore.dir.path();
    let openssl = |args: &[&str]| {
        let output = std::process::Command::new("openssl")
            .args(args)
            .output()
            .expect("openssl runs");
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned()
                + &String::from_utf8_lossy(&output.stderr),
        )
    };
    let ca_file = ca.path.to_str().unwrap();
    let (ok, text) = openssl(&["x509", "-noout", "-ext", "nameConstraints", "-in", ca_file]);
    assert!(ok, "{text}");
    for permitted in [
        "critical",
        "Permitted",
        "DNS:lan",
        "DNS:localhost",
        "IP:10.0.0.0/255.0.0.0",
    ] {
        assert!(text.contains(permitted), "{permitted} in {text}");
    }
    let names = ["kms.lan".to_owned(), "192.168.7.7".to_owned()];
    let identity = kms.issue_server_identity(&names).unwrap();
    let server = dir.join("server.pem");
    std::fs::write(&server, pem("CERTIFICATE", &identity.chain_der[0])).unwrap();
    let (ok, text) = openssl(&["verify", "-CAfile", ca_file, server.to_str().unwrap()]);
    assert!(ok, "{text}");
    let e = kms
        .issue_server_identity(&["kms.example.com".to_owned()])
        .err()
        .unwrap();
    assert!(e.message.contains("not a private name"), "{}", e.message);
}

#[test]
fn beyond_loopback_only_over_tls_unless_plain_http_is_asked_for() {
    let (_keystore, kms) = TestKeystore::new();
    let kms = SharedKms::new(kms);
    let remote = || ServerConfig {
        allow_remote: true,
        ..ServerConfig::loopback("0.0.0.0:0".parse().unwrap())
    };
    let refused =
        ApiServer::start(kms.clone(), &remote(), Arc::new(AccessLog::new(10))).unwrap_err();
    assert_eq!(
        keyconsole::api::tencent::codes::code(refused.code),
        "InvalidParameterValue"
    );
    assert!(refused.message.contains("--tls"), "{}", refused.message);
    let insecure = ServerConfig {
        insecure_http: true,
        ..remote()
    };
    let plain = ApiServer::start(kms.clone(), &insecure, Arc::new(AccessLog::new(10))).unwrap();
    assert!(!plain.is_https());
    drop(plain);
    let tls_server = https_server(&kms, kms.clone(), remote());
    assert!(tls_server.url().starts_with("https://0.0.0.0:"));
}

fn pem(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

#[test]
fn your_own_certificate_files_serve_and_bad_ones_are_named() {
    let (keystore, kms) = TestKeystore::new();
    create(&kms, "own-cert");
    let ca = kms.local_ca().unwrap();
    let identity = kms.issue_server_identity(&loopback_names()).unwrap();
    let dir = keystore.dir.path();
    let cert_file = dir.join("server.pem");
    let key_file = dir.join("server.key");
    let chain: String = identity
        .chain_der
        .iter()
        .map(|der| pem("CERTIFICATE", der))
        .collect();
    std::fs::write(&cert_file, chain).unwrap();
    std::fs::write(&key_file, pem("PRIVATE KEY", &identity.key_der)).unwrap();
    let config = ServerConfig {
        tls: Some(tls::from_pem_files(&cert_file, &key_file).unwrap()),
        ..ServerConfig::loopback("127.0.0.1:0".parse().unwrap())
    };
    let kms = SharedKms::new(kms);
    let server = ApiServer::start(kms.clone(), &config, Arc::new(AccessLog::new(10))).unwrap();
    let request = encrypt_request(&kms, &server, "own-cert");
    let reply = exchange_tls(server.local_addr(), "localhost", &ca.cert_pem, &request).unwrap();
    assert_eq!(reply.code(), "Success");

    // The key where the certificate belongs, an empty file, a missing one: each named.
    let swapped = tls::from_pem_files(&key_file, &cert_file).unwrap_err();
    assert!(
        swapped.message.contains("no CERTIFICATE"),
        "{}",
        swapped.message
    );
    let empty = dir.join("empty.pem");
    std::fs::write(&empty, "").unwrap();
    let no_key = tls::from_pem_files(&cert_file, &empty).unwrap_err();
    assert!(
        no_key.message.contains("no private key"),
        "{}",
        no_key.message
    );
    let missing = tls::from_pem_files(&dir.join("absent.pem"), &key_file).unwrap_err();
    assert_eq!(
        keyconsole::api::tencent::codes::code(missing.code),
        "FailedOperation.FileIo"
    );
    // A key that does not belong to the certificate.
    let other = kms.issue_server_identity(&loopback_names()).unwrap();
    std::fs::write(&key_file, pem("PRIVATE KEY", &other.key_der)).unwrap();
    let mismatched = tls::from_pem_files(&cert_file, &key_file).unwrap_err();
    assert_eq!(
        keyconsole::api::tencent::codes::code(mismatched.code),
        "InvalidParameterValue"
    );
    // An encrypted PKCS#8 key is named as such, not as "no private key".
    let encrypted = dir.join("encrypted.key");
    std::fs::write(&encrypted, pem("ENCRYPTED PRIVATE KEY", &other.key_der)).unwrap();
    let e = tls::from_pem_files(&cert_file, &encrypted).unwrap_err();
    assert!(e.message.contains("encrypted private key"), "{}", e.message);
    // A FIFO (or any file that is not a regular one) is refused at once instead of waited on.
    let fifo = dir.join("fifo.key");
    let fifo_c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a path we own, as a C string.
    assert_eq!(unsafe { libc::mkfifo(fifo_c.as_ptr(), 0o600) }, 0);
    let e = tls::from_pem_files(&cert_file, &fifo).unwrap_err();
    assert!(e.message.contains("not a regular file"), "{}", e.message);
}
