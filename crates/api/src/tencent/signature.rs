//! TC3-HMAC-SHA256 request signatures, computed exactly as the Tencent Cloud API v3 and its SDKs do.
//!
//! ```text
//! CanonicalRequest = method \n "/" \n query \n "content-type:" ct \n "host:" host \n \n "content-type;host" \n hex(SHA256(payload))
//! StringToSign     = "TC3-HMAC-SHA256" \n timestamp \n date "/" service "/tc3_request" \n hex(SHA256(CanonicalRequest))
//! kDate = HMAC("TC3" + SecretKey, date); kService = HMAC(kDate, service); kSigning = HMAC(kService, "tc3_request")
//! Signature        = hex(HMAC(kSigning, StringToSign))
//! ```
//! `query` is the raw query string of a GET (empty for POST); the host includes the port; `date` is
//! the UTC day of the timestamp; `service` is the one the credential scope names (`kms`, …), which
//! the dialect checks against the service the request's version belongs to.

use crate::signed::{constant_time_eq, with_signing_key};
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::macros::format_description;

use keyconsole_base::util::i18n::Text;
use keyconsole_kms::{ErrorCode, KmsError, Result};
use zeroize::Zeroizing;

pub const ALGORITHM: &str = "TC3-HMAC-SHA256";
pub const SIGNED_HEADERS: &str = "content-type;host";
/// A request whose timestamp is further than this from our clock is refused (AuthFailure.SignatureExpire).
pub const MAX_CLOCK_SKEW_SECONDS: i64 = 300;

/// The parts of an HTTP request that the signature covers.
#[derive(Debug, Clone, Copy)]
pub struct SignedParts<'a> {
    pub method: &'a str,
    /// The raw query string after `?` (GET); empty for POST.
    pub query: &'a str,
    pub content_type: &'a str,
    /// The Host header as sent, port included.
    pub host: &'a str,
    pub payload: &'a [u8],
    /// `X-TC-Content-SHA256: UNSIGNED-PAYLOAD`: the body is not signed (the SDKs' unsignedPayload);
    /// the canonical request then hashes the words `UNSIGNED-PAYLOAD` instead.
    pub unsigned_payload: bool,
    /// X-TC-Timestamp, Unix seconds.
    pub timestamp: i64,
}

/// The Authorization header, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    pub secret_id: String,
    pub date: String,
    pub service: String,
    pub signed_headers: String,
    pub signature: String,
}

fn failure(message: impl Into<Text>) -> KmsError {
    KmsError::new(ErrorCode::SignatureFailure, message)
}

fn malformed(message: impl Into<Text>) -> KmsError {
    KmsError::new(ErrorCode::InvalidAuthorization, message)
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC takes keys of any length; new_from_slice cannot fail for it.
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC accepts any key length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// The UTC day (`yyyy-mm-dd`) of a Unix time, as the credential scope names it.
pub fn scope_date(timestamp: i64) -> Option<String> {
    OffsetDateTime::from_unix_timestamp(timestamp)
        .ok()?
        .format(format_description!("[year]-[month]-[day]"))
        .ok()
}

impl Authorization {
    /// Parses `TC3-HMAC-SHA256 Credential=ID/DATE/SERVICE/tc3_request, SignedHeaders=…, Signature=…`.
    pub fn parse(header: &str) -> Result<Authorization> {
        let rest = header.trim().strip_prefix(ALGORITHM).ok_or_else(|| {
            malformed(keyconsole_base::text!(
                "errors.the_authorization_header_does_not_use"
            ))
        })?;
        let (mut credential, mut signed_headers, mut signature) = (None, None, None);
        for part in rest.split(',') {
            let (name, value) = part.trim().split_once('=').ok_or_else(|| {
                malformed(keyconsole_base::text!(
                    "errors.the_authorization_header_is_malformed"
                ))
            })?;
            match name.trim() {
                "Credential" => credential = Some(value.trim()),
                "SignedHeaders" => signed_headers = Some(value.trim()),
                "Signature" => signature = Some(value.trim()),
                _ => {}
            }
        }
        let (Some(credential), Some(signed_headers), Some(signature)) =
            (credential, signed_headers, signature)
        else {
            return Err(malformed(keyconsole_base::text!(
                "errors.the_authorization_header_lacks_credential_signed"
            )));
        };
        let mut scope = credential.split('/');
        let (Some(secret_id), Some(date), Some(service), Some("tc3_request"), None) = (
            scope.next(),
            scope.next(),
            scope.next(),
            scope.next(),
            scope.next(),
        ) else {
            return Err(malformed(keyconsole_base::text!(
                "errors.the_credential_scope_in_the_authorization"
            )));
        };
        Ok(Authorization {
            secret_id: secret_id.to_owned(),
            date: date.to_owned(),
            service: service.to_owned(),
            signed_headers: signed_headers.to_owned(),
            signature: signature.to_ascii_lowercase(),
        })
    }
}

/// The `Authorization` header a client sends for `parts` (content-type and host signed), as the
/// SDKs write it.
pub fn authorization(
    secret_id: &str,
    secret_key: &str,
    service: &str,
    parts: &SignedParts<'_>,
    date: &str,
) -> String {
    let signature = sign(secret_key, service, parts, date);
    format!(
        "TC3-HMAC-SHA256 Credential={secret_id}/{date}/{service}/tc3_request, SignedHeaders=content-type;host, Signature={signature}"
    )
}

/// The signature (lowercase hex) of `parts` under `secret_key` for the scope day `date`.
pub fn sign(secret_key: &str, service: &str, parts: &SignedParts<'_>, date: &str) -> String {
    String::from_utf8_lossy(&signature_hex(secret_key, service, parts, date)).into_owned()
}

/// Lowercase hex of a SHA-256 digest, on the stack.
fn hex_digest(digest: &[u8]) -> [u8; 64] {
    let mut out = [0u8; 64];
    keyconsole_base::util::hex_into(digest, &mut out);
    out
}

/// `sign`, without building the canonical request or the string to sign: their pieces are fed
/// to the hash and the HMAC as they are (every request is checked this way, so no allocation).
fn signature_hex(secret_key: &str, service: &str, parts: &SignedParts<'_>, date: &str) -> [u8; 64] {
    let payload: &[u8] = if parts.unsigned_payload {
        b"UNSIGNED-PAYLOAD"
    } else {
        parts.payload
    };
    let payload_hash = hex_digest(&Sha256::digest(payload));
    let mut canonical = Sha256::new();
    for piece in [
        parts.method.as_bytes(),
        b"\n/\n",
        parts.query.as_bytes(),
        b"\ncontent-type:",
        parts.content_type.as_bytes(),
        b"\nhost:",
        parts.host.as_bytes(),
        b"\n\n",
        SIGNED_HEADERS.as_bytes(),
        b"\n",
        &payload_hash,
    ] {
        canonical.update(piece);
    }
    let canonical_hash = hex_digest(&canonical.finalize());
    let mut timestamp = [0u8; 24];
    let timestamp = decimal(parts.timestamp, &mut timestamp);
    let derive = || signing_key(secret_key, date, service);
    with_signing_key(secret_key, &["TC3", date, service], derive, |k_signing| {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(k_signing)
            .expect("HMAC accepts any key length");
        for piece in [
            ALGORITHM.as_bytes(),
            b"\n",
            timestamp,
            b"\n",
            date.as_bytes(),
            b"/",
            service.as_bytes(),
            b"/tc3_request\n",
            &canonical_hash,
        ] {
            mac.update(piece);
        }
        hex_digest(&mac.finalize().into_bytes())
    })
}

/// `n` in decimal, written into `buffer`.
fn decimal(n: i64, buffer: &mut [u8; 24]) -> &[u8] {
    use std::io::Write;
    let mut cursor = std::io::Cursor::new(&mut buffer[..]);
    // 20 digits and a sign fit in 24 bytes, so the write cannot fail.
    let _ = write!(cursor, "{n}");
    let len = cursor.position() as usize;
    &buffer[..len]
}

/// kSigning: three HMACs that are the same for every request of a SecretKey, day and service.
fn signing_key(secret_key: &str, date: &str, service: &str) -> Zeroizing<Vec<u8>> {
    let prefixed = Zeroizing::new(format!("TC3{secret_key}"));
    let k_date = Zeroizing::new(hmac(prefixed.as_bytes(), date.as_bytes()));
    let k_service = Zeroizing::new(hmac(&k_date, service.as_bytes()));
    Zeroizing::new(hmac(&k_service, b"tc3_request"))
}

/// Checks a request's signature, scope and freshness. `now` is our clock, Unix seconds.
pub fn verify(
    secret_key: &str,
    parts: &SignedParts<'_>,
    authorization: &Authorization,
    now: i64,
) -> Result<()> {
    if !within_skew(now, parts.timestamp) {
        return Err(KmsError::new(
            ErrorCode::SignatureExpire,
            keyconsole_base::text!(
                "errors.the_request_s_timestamp_is_more",
                value = MAX_CLOCK_SKEW_SECONDS / 60
            ),
        ));
    }
    if authorization.signed_headers != SIGNED_HEADERS {
        return Err(failure(keyconsole_base::text!(
            "errors.the_signature_must_cover_the_headers"
        )));
    }
    if scope_date(parts.timestamp).as_deref() != Some(authorization.date.as_str()) {
        return Err(failure(keyconsole_base::text!(
            "errors.the_credential_date_does_not_match"
        )));
    }
    // The Host as sent first; some SDKs (Node.js, Go) sign it without the port they send.
    let without_port = host_without_port(parts.host);
    let hosts = std::iter::once(parts.host).chain(without_port.filter(|h| *h != parts.host));
    for host in hosts {
        let expected = signature_hex(
            secret_key,
            &authorization.service,
            &SignedParts { host, ..*parts },
            &authorization.date,
        );
        if constant_time_eq(&expected, authorization.signature.as_bytes()) {
            return Ok(());
        }
    }
    Err(failure(keyconsole_base::text!(
        "errors.the_signature_does_not_match_hosts",
        hosts = match without_port {
            Some(h) => format!("{} / {h}", parts.host),
            None => parts.host.to_string(),
        }
    )))
}

/// Whether a request's timestamp is within `MAX_CLOCK_SKEW_SECONDS` of our clock. Computed without
/// overflow: a timestamp near either end of i64 is far off, never wrapped into range.
fn within_skew(now: i64, timestamp: i64) -> bool {
    now.abs_diff(timestamp) <= MAX_CLOCK_SKEW_SECONDS.unsigned_abs()
}

/// `127.0.0.1:19267` → `127.0.0.1`, `[::1]:19267` → `[::1]`; None when there is no port.
fn host_without_port(host: &str) -> Option<&str> {
    let (name, port) = host.rsplit_once(':')?;
    let bracketed_or_plain = name.ends_with(']') || !name.contains(':');
    (bracketed_or_plain && !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()))
        .then_some(name)
}

/// The v1 signature (`SignatureMethod` HmacSHA1 or HmacSHA256, all parameters in the query or a
/// form body), as the SDKs still offer it: base64(HMAC(SecretKey, method + host + "/?" + every
/// parameter but Signature, sorted, `k=v` joined by `&`, not URL-encoded)).
pub fn verify_v1(
    secret_key: &str,
    method: &str,
    host: &str,
    params: &[(String, String)],
    now: i64,
) -> Result<()> {
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let signature = get("Signature").ok_or_else(|| {
        malformed(keyconsole_base::text!(
            "errors.the_signature_parameter_is_missing"
        ))
    })?;
    let timestamp: i64 = get("Timestamp")
        .and_then(|t| t.trim().parse().ok())
        .ok_or_else(|| {
            KmsError::new(
                ErrorCode::MissingParameter,
                keyconsole_base::text!("errors.the_timestamp_parameter_is_missing_or"),
            )
        })?;
    if get("Nonce").is_none() {
        return Err(KmsError::new(
            ErrorCode::MissingParameter,
            keyconsole_base::text!("errors.the_nonce_parameter_is_missing"),
        ));
    }
    if !within_skew(now, timestamp) {
        return Err(KmsError::new(
            ErrorCode::SignatureExpire,
            keyconsole_base::text!(
                "errors.the_request_s_timestamp_is_more_2",
                value = MAX_CLOCK_SKEW_SECONDS / 60
            ),
        ));
    }
    let method_name = get("SignatureMethod").unwrap_or("HmacSHA1");
    let mut signed: Vec<(&str, &str)> = params
        .iter()
        .filter(|(k, _)| k != "Signature")
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    signed.sort_unstable();
    let query: Vec<String> = signed.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let query = query.join("&");
    let given = signature.trim();
    let without_port = host_without_port(host);
    for host in std::iter::once(host).chain(without_port) {
        let text = format!("{method}{host}/?{query}");
        let mac = match method_name {
            "HmacSHA256" => hmac(secret_key.as_bytes(), text.as_bytes()),
            "HmacSHA1" => {
                let mut mac = <Hmac<sha1::Sha1> as KeyInit>::new_from_slice(secret_key.as_bytes())
                    .expect("HMAC accepts any key length");
                mac.update(text.as_bytes());
                mac.finalize().into_bytes().to_vec()
            }
            other => {
                return Err(malformed(keyconsole_base::text!(
                    "errors.signaturemethod_other_is_not_supported",
                    other = other
                )));
            }
        };
        let expected = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, mac);
        if constant_time_eq(expected.as_bytes(), given.as_bytes()) {
            return Ok(());
        }
    }
    Err(failure(keyconsole_base::text!(
        "errors.the_method_name_signature_does_not_match",
        method_name = method_name,
        host = host
    )))
}

#[cfg(test)]
mod tests {
    use super::{SignedParts, sign, signing_key, within_skew};

    /// The skew check holds at the ends of i64, where `now - timestamp` would overflow (and wrap
    /// into range in a release build).
    #[test]
    fn the_clock_skew_check_never_overflows() {
        let now = 1_800_000_000;
        for far in [
            i64::MIN,
            i64::MIN + 1,
            now - (1 << 62) - (1 << 62),
            i64::MAX,
            -1,
        ] {
            assert!(!within_skew(now, far), "{far}");
        }
        for near in [now, now - 300, now + 300] {
            assert!(within_skew(now, near));
        }
        assert!(!within_skew(now, now + 301));
        assert!(!within_skew(i64::MAX, i64::MIN));
    }

    /// The per-thread kSigning gives the same signatures as deriving it every time, and a
    /// SecretKey, day or service that changes is never served a stale one.
    #[test]
    fn the_kept_signing_key_never_goes_stale() {
        let parts = SignedParts {
            method: "POST",
            query: "",
            content_type: "application/json",
            host: "127.0.0.1:19267",
            payload: b"{}",
            unsigned_payload: false,
            timestamp: 1_795_000_000,
        };
        let uncached = |key: &str, service: &str, date: &str| {
            let k = signing_key(key, date, service);
            let expected = sign(key, service, &parts, date);
            (k, expected)
        };
        let mut seen = Vec::new();
        for (key, service, date) in [
            ("key one", "kms", "2026-11-18"),
            ("key one", "kms", "2026-11-18"),
            ("key two", "kms", "2026-11-18"),
            ("key one", "ssm", "2026-11-18"),
            ("key one", "kms", "2026-11-19"),
            ("key one", "kms", "2026-11-18"),
        ] {
            let (k, signature) = uncached(key, service, date);
            seen.push(((key, service, date), k.to_vec(), signature));
        }
        for (a, ka, sa) in &seen {
            for (b, kb, sb) in &seen {
                assert_eq!(a == b, ka == kb, "{a:?} / {b:?}");
                assert_eq!(a == b, sa == sb, "{a:?} / {b:?}");
            }
        }
    }
}
