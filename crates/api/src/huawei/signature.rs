//! Huawei Cloud's `SDK-HMAC-SHA256` request signatures, checked as its SDKs make them
//! (huaweicloudsdkcore's `Signer`):
//!
//! ```text
//! CanonicalRequest = METHOD \n CanonicalURI \n CanonicalQuery \n CanonicalHeaders \n SignedHeaders \n hex(SHA256(body))
//! StringToSign     = "SDK-HMAC-SHA256" \n X-Sdk-Date \n hex(SHA256(CanonicalRequest))
//! Signature        = hex(HMAC-SHA256(SK, StringToSign))        (no key derivation, no scope)
//! ```
//! CanonicalURI: each path segment percent-decoded then encoded (unreserved kept), a `/` added at
//! the end; CanonicalQuery: pairs sorted, each side encoded; CanonicalHeaders: `name:value` (value
//! trimmed) for every signed header, each followed by `\n`. The body is hashed as received (the
//! SDK escapes non-ASCII as `\uXXXX`; re-serializing would break the signature).

use crate::signed::{
    self, accepted, authorization_fields, canonical_headers, parse_compact_date, percent_decode,
    percent_encode, within_window,
};
use hmac::{Hmac, KeyInit, Mac};

pub use crate::signed::{Received, SignatureError};
use sha2::{Digest, Sha256};

pub const ALGORITHM: &str = "SDK-HMAC-SHA256";
/// The real gateway allows 15 minutes between `X-Sdk-Date` and its clock.
pub const MAX_CLOCK_SKEW_SECONDS: i64 = 15 * 60;

/// The Authorization header, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization<'a> {
    pub access_key: &'a str,
    pub signed_headers: &'a str,
    pub signature: &'a str,
}

impl<'a> Authorization<'a> {
    /// `SDK-HMAC-SHA256 Access=AK, SignedHeaders=a;b;c, Signature=64 hex`.
    pub fn parse(header: &'a str) -> Result<Self, SignatureError> {
        let rest = header
            .strip_prefix(ALGORITHM)
            .filter(|r| r.starts_with(char::is_whitespace))
            .ok_or(SignatureError::Malformed)?;
        let [access, signed, signature] =
            authorization_fields(rest, ["Access", "SignedHeaders", "Signature"])?;
        let signature = signature
            .filter(|s| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or(SignatureError::Malformed)?;
        Ok(Authorization {
            access_key: access
                .filter(|a| !a.is_empty())
                .ok_or(SignatureError::Malformed)?,
            signed_headers: signed
                .filter(|s| !s.is_empty())
                .ok_or(SignatureError::Malformed)?,
            signature,
        })
    }
}

/// Each path segment decoded and encoded again, a `/` at the end.
fn canonical_uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len() + 8);
    for (i, segment) in path.split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        percent_encode(&percent_decode(segment, false), false, &mut out);
    }
    if !out.ends_with('/') {
        out.push('/');
    }
    out
}

fn canonical_query(query: &str) -> String {
    let pairs = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")));
    signed::canonical_query(pairs, false)
}

use keyconsole_base::util::hex;

/// The canonical request of `request` under `signed_headers`.
pub fn canonical_request(
    request: &Received<'_>,
    signed_headers: &str,
) -> Result<String, SignatureError> {
    let headers = canonical_headers(request, signed_headers, false)?;
    let body_hash = hex(&Sha256::digest(request.body));
    // The SDK signs a given X-Sdk-Content-Sha256 in place of the body's hash (`UNSIGNED-PAYLOAD`
    // for uploads). These APIs never send one, and a signature must bind the body it allows: a
    // given one must be this body's hash.
    if let Some(given) = request.header("x-sdk-content-sha256")
        && !given.trim().eq_ignore_ascii_case(&body_hash)
    {
        return Err(SignatureError::Mismatch);
    }
    Ok(format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        request.method,
        canonical_uri(request.path),
        canonical_query(request.query),
        headers,
        signed_headers,
        body_hash
    ))
}

/// The string to sign of a canonical request at `date` (`X-Sdk-Date`).
pub fn string_to_sign(canonical_request: &str, date: &str) -> String {
    format!(
        "{ALGORITHM}\n{date}\n{}",
        hex(&Sha256::digest(canonical_request.as_bytes()))
    )
}

/// The signature (hex) of `string_to_sign` with the secret key.
pub fn signature(secret_key: &str, string_to_sign: &str) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret_key.as_bytes())
        .expect("HMAC accepts any key length");
    mac.update(string_to_sign.as_bytes());
    hex(&mac.finalize().into_bytes())
}

/// Verifies `request`'s signature; returns its access key. `secret_key_of` looks the secret key up.
pub fn verify<'a>(
    request: &Received<'a>,
    now: i64,
    secret_key_of: impl FnOnce(&str) -> Option<zeroize::Zeroizing<String>>,
) -> Result<&'a str, SignatureError> {
    let authorization = Authorization::parse(
        request
            .header("authorization")
            .ok_or(SignatureError::Malformed)?,
    )?;
    let signed: Vec<&str> = authorization.signed_headers.split(';').collect();
    if !signed.contains(&"host") || !signed.contains(&"x-sdk-date") {
        return Err(SignatureError::HeadersNotSigned);
    }
    let date = request
        .header("x-sdk-date")
        .ok_or(SignatureError::HeadersNotSigned)?;
    let at = parse_compact_date(date.trim()).ok_or(SignatureError::Expired)?;
    if !within_window(now, at, MAX_CLOCK_SKEW_SECONDS) {
        return Err(SignatureError::Expired);
    }
    let secret_key =
        secret_key_of(authorization.access_key).ok_or(SignatureError::UnknownAccessKey)?;
    let canonical = canonical_request(request, authorization.signed_headers)?;
    let expected = signature(&secret_key, &string_to_sign(&canonical, date.trim()));
    accepted(&expected, authorization.signature, authorization.access_key)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::signed::vectors::with_vector;

    #[test]
    fn the_sdks_captured_requests_verify_and_changed_ones_do_not() {
        for name in ["huawei_encrypt_data", "huawei_csms_get_with_query"] {
            with_vector(name, |request, v| {
                let auth = Authorization::parse(request.header("authorization").unwrap()).unwrap();
                let canonical = canonical_request(request, auth.signed_headers).unwrap();
                assert_eq!(
                    canonical,
                    v["canonical_request"].as_str().unwrap(),
                    "{name}"
                );
                let date = request.header("x-sdk-date").unwrap();
                assert_eq!(
                    string_to_sign(&canonical, date),
                    v["string_to_sign"].as_str().unwrap()
                );
                let now = parse_compact_date(date).unwrap() + 60;
                let sk = v["secret_key"].as_str().unwrap().to_owned();
                let ak = v["access_key"].as_str().unwrap();
                let lookup = |id: &str| (id == ak).then(|| zeroize::Zeroizing::new(sk.clone()));
                assert_eq!(verify(request, now, lookup), Ok(ak));
                // The wrong secret key, a time outside the window, a changed body.
                assert_eq!(
                    verify(request, now, |_| Some(zeroize::Zeroizing::new(
                        "other".into()
                    ))),
                    Err(SignatureError::Mismatch)
                );
                assert_eq!(
                    verify(request, now + MAX_CLOCK_SKEW_SECONDS + 61, lookup),
                    Err(SignatureError::Expired)
                );
                assert_eq!(
                    verify(request, now, |_| None),
                    Err(SignatureError::UnknownAccessKey)
                );
                let mut changed = request.body.to_vec();
                changed.push(b' ');
                let tampered = Received {
                    body: &changed,
                    ..*request
                };
                assert_eq!(
                    verify(&tampered, now, lookup),
                    Err(SignatureError::Mismatch)
                );
                let other_path = Received {
                    path: "/v1.0/x/kms/decrypt-data",
                    ..*request
                };
                assert_eq!(
                    verify(&other_path, now, lookup),
                    Err(SignatureError::Mismatch)
                );
            });
        }
    }

    /// A request signed as the SDK signs one with `X-Sdk-Content-Sha256: given` (the given value
    /// in place of the body's hash), at `date`.
    fn signed_with_content_hash<R>(
        given: &str,
        body: &[u8],
        check: impl FnOnce(&Received<'_>, i64) -> R,
    ) -> R {
        let date = "20261204T120000Z";
        let mut headers = vec![
            ("host", "127.0.0.1:19267"),
            ("x-sdk-content-sha256", given),
            ("x-sdk-date", date),
        ];
        let signed_headers = "host;x-sdk-content-sha256;x-sdk-date";
        let canonical = format!(
            "POST\n/v1.0/p/kms/encrypt-data/\n\nhost:127.0.0.1:19267\nx-sdk-content-sha256:{given}\n\
             x-sdk-date:{date}\n\n{signed_headers}\n{given}"
        );
        let sig = signature("sk", &string_to_sign(&canonical, date));
        let authorization =
            format!("{ALGORITHM} Access=ak, SignedHeaders={signed_headers}, Signature={sig}");
        headers.push(("authorization", &authorization));
        let request = Received {
            method: "POST",
            path: "/v1.0/p/kms/encrypt-data",
            query: "",
            headers: &headers,
            body,
        };
        check(&request, parse_compact_date(date).unwrap())
    }

    #[test]
    fn a_signature_binds_the_body_even_when_it_names_its_hash() {
        let body = br#"{"key_id":"k","plain_text":"p"}"#;
        let lookup = |_: &str| Some(zeroize::Zeroizing::new("sk".to_owned()));
        // The body's own hash, given: what the SDK would sign anyway.
        let own = hex(&Sha256::digest(body));
        let verified = signed_with_content_hash(&own, body, |r, now| {
            verify(r, now, lookup).map(str::to_owned)
        });
        assert_eq!(verified.as_deref(), Ok("ak"));
        // An unsigned payload, or another body's hash: the signature would not cover this body.
        let other = hex(&Sha256::digest(b"{}"));
        for given in ["UNSIGNED-PAYLOAD", other.as_str()] {
            let verified = signed_with_content_hash(given, body, |r, now| {
                verify(r, now, lookup).map(str::to_owned)
            });
            assert_eq!(verified, Err(SignatureError::Mismatch), "{given}");
        }
    }

    #[test]
    fn malformed_authorizations_are_refused() {
        for header in [
            "",
            "SDK-HMAC-SHA256",
            "SDK-HMAC-SHA256Access=a, SignedHeaders=host;x-sdk-date, Signature=00",
            "SDK-HMAC-SHA256 Access=a, SignedHeaders=host;x-sdk-date, Signature=zz",
            "TC3-HMAC-SHA256 Credential=a/b/c/tc3_request, SignedHeaders=x, Signature=00",
        ] {
            assert_eq!(
                Authorization::parse(header),
                Err(SignatureError::Malformed),
                "{header}"
            );
        }
    }
}
