//! A minimal HTTP client for the loopback API: signs requests as the SDKs do (TC3-HMAC-SHA256; a JSON
//! body for POST, a query string for GET) and reads whole answers.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use crate::api::tencent::signature::{SignedParts, authorization, scope_date};
use serde_json::Value;

#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub json: Value,
}

impl Reply {
    pub fn code(&self) -> &str {
        self.json["Response"]["Error"]["Code"]
            .as_str()
            .unwrap_or("Success")
    }
    pub fn field(&self, name: &str) -> &Value {
        &self.json["Response"][name]
    }
}

/// Who signs, and when (the server checks the time against its engine's clock).
#[derive(Clone, Copy)]
pub struct Signer<'a> {
    pub secret_id: &'a str,
    pub secret_key: &'a str,
    pub timestamp: i64,
}

/// Sends raw bytes and reads the whole answer (requests ask the server to close).
pub fn exchange(addr: SocketAddr, request: &[u8]) -> Option<Reply> {
    let mut stream = TcpStream::connect(addr).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    stream.write_all(request).ok()?;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    parse_reply(&answer)
}

/// `exchange` over TLS, trusting only `ca_pem` and checking the certificate names `server_name`.
/// Err says why the TLS connection failed (an unknown issuer, a name not in the certificate).
pub fn exchange_tls(
    addr: SocketAddr,
    server_name: &str,
    ca_pem: &str,
    request: &[u8],
) -> Result<Reply, String> {
    use rustls::pki_types::{CertificateDer, ServerName, pem::PemObject};
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots
            .add(cert.map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
    }
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = ServerName::try_from(server_name.to_owned()).map_err(|e| e.to_string())?;
    let connection = rustls::ClientConnection::new(std::sync::Arc::new(config), name)
        .map_err(|e| e.to_string())?;
    let socket = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    let mut stream = rustls::StreamOwned::new(connection, socket);
    stream.write_all(request).map_err(|e| e.to_string())?;
    let mut answer = Vec::new();
    // The server closes without close_notify at times; what arrived before is the answer.
    let _ = stream.read_to_end(&mut answer);
    parse_reply(&answer).ok_or_else(|| "no HTTP answer".to_owned())
}

fn parse_reply(answer: &[u8]) -> Option<Reply> {
    let text = String::from_utf8_lossy(answer);
    let (head, body) = text.split_once("\r\n\r\n")?;
    let status = head.split(' ').nth(1)?.parse().ok()?;
    let content_type = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-type: ")
                .map(str::to_owned)
        })
        .unwrap_or_default();
    Some(Reply {
        status,
        content_type,
        json: serde_json::from_str(body).unwrap_or(Value::Null),
    })
}

/// A request signed as the SDK signs it.
pub fn signed_request(
    addr: SocketAddr,
    method: &str,
    action: &str,
    version: &str,
    params: &Value,
    signer: Signer<'_>,
) -> Vec<u8> {
    let host = addr.to_string();
    let timestamp = signer.timestamp;
    let (query, body, content_type) = if method == "GET" {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (name, value) in params.as_object().unwrap() {
            match value {
                Value::String(s) => {
                    query.append_pair(name, s);
                }
                Value::Array(items) => {
                    for (i, item) in items.iter().enumerate() {
                        query.append_pair(&format!("{name}.{i}"), item.as_str().unwrap());
                    }
                }
                other => {
                    query.append_pair(name, &other.to_string());
                }
            }
        }
        (
            query.finish(),
            Vec::new(),
            "application/x-www-form-urlencoded",
        )
    } else {
        (
            String::new(),
            serde_json::to_vec(params).unwrap(),
            "application/json",
        )
    };
    let date = scope_date(timestamp).unwrap();
    let parts = SignedParts {
        method,
        query: &query,
        content_type,
        host: &host,
        payload: &body,
        unsigned_payload: false,
        timestamp,
    };
    // The service of the version asked for, as the SDKs sign it (`kms`, `ssm`).
    let service = crate::api::tencent::service_of(version).map_or("kms", |s| s.name);
    let authorization = authorization(signer.secret_id, signer.secret_key, service, &parts, &date);
    let target = if query.is_empty() {
        "/".to_owned()
    } else {
        format!("/?{query}")
    };
    let mut request = format!(
        "{} {target} HTTP/1.1\r\nHost: {host}\r\nContent-Type: {content_type}\r\nX-TC-Action: {}\r\nX-TC-Version: {}\r\nX-TC-Timestamp: {timestamp}\r\nX-TC-Region: ap-guangzhou\r\nAuthorization: {authorization}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        method,
        action,
        version,
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(&body);
    request
}

/// A POST of `body` exactly as given (escaped as another SDK escapes it), signed.
pub fn signed_raw_request(
    addr: SocketAddr,
    action: &str,
    version: &str,
    body: &[u8],
    signer: Signer<'_>,
) -> Vec<u8> {
    let host = addr.to_string();
    let timestamp = signer.timestamp;
    let date = scope_date(timestamp).unwrap();
    let parts = SignedParts {
        method: "POST",
        query: "",
        content_type: "application/json",
        host: &host,
        payload: body,
        unsigned_payload: false,
        timestamp,
    };
    let service = crate::api::tencent::service_of(version).map_or("kms", |s| s.name);
    let authorization = authorization(signer.secret_id, signer.secret_key, service, &parts, &date);
    let mut request = format!(
        "POST / HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nX-TC-Action: {action}\r\nX-TC-Version: {version}\r\nX-TC-Timestamp: {timestamp}\r\nAuthorization: {authorization}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    request
}

/// POSTs `action` with `params`, signed.
pub fn call(addr: SocketAddr, action: &str, params: Value, signer: Signer<'_>) -> Reply {
    let request = signed_request(addr, "POST", action, "2019-01-18", &params, signer);
    exchange(addr, &request).expect("an HTTP answer")
}

/// A Huawei Cloud KMS request (`POST /v1.0/{project}/kms/<operation>`) signed `SDK-HMAC-SHA256`
/// as huaweicloudsdkcore signs it, with `signer`'s AK/SK at its time.
pub fn huawei_request(
    addr: SocketAddr,
    operation: &str,
    body: &Value,
    signer: Signer<'_>,
) -> Vec<u8> {
    use crate::api::huawei::signature::{Received, canonical_request, signature, string_to_sign};
    let host = addr.to_string();
    let path = format!("/v1.0/0123456789abcdef/kms/{operation}");
    let body = serde_json::to_vec(body).unwrap();
    let date = time::OffsetDateTime::from_unix_timestamp(signer.timestamp)
        .unwrap()
        .format(time::macros::format_description!(
            "[year][month][day]T[hour][minute][second]Z"
        ))
        .unwrap();
    let content_type = "application/json;charset=UTF-8";
    let signed_headers = "content-type;host;x-sdk-date";
    let headers = [
        ("content-type", content_type),
        ("host", host.as_str()),
        ("x-sdk-date", date.as_str()),
    ];
    let received = Received {
        method: "POST",
        path: &path,
        query: "",
        headers: &headers,
        body: &body,
    };
    let canonical = canonical_request(&received, signed_headers).unwrap();
    let signature = signature(signer.secret_key, &string_to_sign(&canonical, &date));
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: {content_type}\r\nX-Sdk-Date: {date}\r\nAuthorization: SDK-HMAC-SHA256 Access={}, SignedHeaders={signed_headers}, Signature={signature}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        signer.secret_id,
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(&body);
    request
}
