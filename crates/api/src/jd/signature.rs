//! JD Cloud's request signatures: `JDCLOUD2-HMAC-SHA256` (the Go, Node.js and Java SDKs) and
//! `JDCLOUD3-HMAC-SHA256` (the Python SDK), both of AWS SigV4's shape:
//!
//! ```text
//! CanonicalRequest = METHOD \n CanonicalURI \n CanonicalQuery \n CanonicalHeaders \n SignedHeaders \n hex(SHA256(body))
//! StringToSign     = ALG \n x-jdcloud-date \n YYYYMMDD/region/service/term \n hex(SHA256(CanonicalRequest))
//! kDate = HMAC(V + SK, YYYYMMDD); kRegion = HMAC(kDate, region); kService = HMAC(kRegion, service);
//! kSigning = HMAC(kService, term); Signature = hex(HMAC(kSigning, StringToSign))
//! ```
//! with V `JDCLOUD2` / `JDCLOUD3` and term `jdcloud2_request` / `jdcloud3_request`. Version 2
//! signs the raw path and query as sent (its clients send them escaped); version 3 decodes and
//! re-encodes them (the Python client sends `:` raw). Header values are trimmed; version 2 also
//! collapses inner runs of spaces. The region is not checked (clients send different ones).

use std::borrow::Cow;

use hmac::{Hmac, KeyInit, Mac};

use crate::signed::{
    self, accepted, authorization_fields, canonical_headers, parse_compact_date, percent_decode,
    percent_encode, with_signing_key, within_window,
};
pub use crate::signed::{Received, SignatureError};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// A request whose date is further than this from our clock is refused.
pub const MAX_CLOCK_SKEW_SECONDS: i64 = 15 * 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    Two,
    Three,
}

impl Version {
    pub fn algorithm(self) -> &'static str {
        match self {
            Version::Two => "JDCLOUD2-HMAC-SHA256",
            Version::Three => "JDCLOUD3-HMAC-SHA256",
        }
    }

    fn key_prefix(self) -> &'static str {
        match self {
            Version::Two => "JDCLOUD2",
            Version::Three => "JDCLOUD3",
        }
    }

    fn terminator(self) -> &'static str {
        match self {
            Version::Two => "jdcloud2_request",
            Version::Three => "jdcloud3_request",
        }
    }
}

/// The Authorization header, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization<'a> {
    pub version: Version,
    pub access_key: &'a str,
    pub day: &'a str,
    pub region: &'a str,
    pub service: &'a str,
    pub signed_headers: &'a str,
    pub signature: &'a str,
}

impl<'a> Authorization<'a> {
    /// `ALG Credential=AK/YYYYMMDD/REGION/SERVICE/TERM, SignedHeaders=a;b, Signature=64 hex`.
    pub fn parse(header: &'a str) -> Result<Self, SignatureError> {
        let (algorithm, rest) = header.split_once(' ').ok_or(SignatureError::Malformed)?;
        let version = [Version::Two, Version::Three]
            .into_iter()
            .find(|v| v.algorithm() == algorithm)
            .ok_or(SignatureError::Malformed)?;
        let [credential, signed, signature] =
            authorization_fields(rest, ["Credential", "SignedHeaders", "Signature"])?;
        let scope: Vec<&str> = credential
            .ok_or(SignatureError::Malformed)?
            .split('/')
            .collect();
        let [access_key, day, region, service, term] = scope[..] else {
            return Err(SignatureError::Malformed);
        };
        if term != version.terminator() || access_key.is_empty() || day.len() != 8 {
            return Err(SignatureError::Malformed);
        }
        Ok(Authorization {
            version,
            access_key,
            day,
            region,
            service,
            signed_headers: signed
                .filter(|s| !s.is_empty())
                .ok_or(SignatureError::Malformed)?,
            signature: signature
                .filter(|s| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()))
                .ok_or(SignatureError::Malformed)?,
        })
    }
}

/// Version 3's canonical path: decoded, `//` runs collapsed, re-encoded keeping `/`.
fn canonical_uri_v3(path: &str) -> String {
    let decoded = percent_decode(path, true);
    let mut collapsed = Vec::with_capacity(decoded.len());
    for &b in &decoded {
        if !(b == b'/' && collapsed.last() == Some(&b'/')) {
            collapsed.push(b);
        }
    }
    let mut out = String::new();
    percent_encode(&collapsed, true, &mut out);
    out
}

/// Version 3's canonical query: pairs with a key and an `=`, decoded, re-encoded, sorted.
fn canonical_query_v3(query: &str) -> String {
    let pairs = query
        .split('&')
        .filter_map(|p| p.split_once('='))
        .filter(|(name, _)| !name.is_empty());
    signed::canonical_query(pairs, true)
}

use keyconsole_base::util::hex;

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC accepts any key length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// The canonical request of `request` under `authorization`.
pub fn canonical_request(
    request: &Received<'_>,
    authorization: &Authorization<'_>,
) -> Result<String, SignatureError> {
    // Version 2 makes inner runs of spaces one; version 3 keeps the value as sent.
    let collapse_spaces = authorization.version == Version::Two;
    let headers = canonical_headers(request, authorization.signed_headers, collapse_spaces)?;
    let (uri, query) = match authorization.version {
        Version::Two => (Cow::Borrowed(request.path), Cow::Borrowed(request.query)),
        Version::Three => (
            Cow::Owned(canonical_uri_v3(request.path)),
            Cow::Owned(canonical_query_v3(request.query)),
        ),
    };
    Ok(format!(
        "{}\n{uri}\n{query}\n{headers}\n{}\n{}",
        request.method,
        authorization.signed_headers,
        hex(&Sha256::digest(request.body))
    ))
}

/// kSigning, SigV4's chain of four HMACs from the secret key.
fn signing_key(secret_key: &str, authorization: &Authorization<'_>) -> Zeroizing<Vec<u8>> {
    let version = authorization.version;
    let key = Zeroizing::new(format!("{}{secret_key}", version.key_prefix()));
    let k_date = Zeroizing::new(hmac(key.as_bytes(), authorization.day.as_bytes()));
    let k_region = Zeroizing::new(hmac(&k_date, authorization.region.as_bytes()));
    let k_service = Zeroizing::new(hmac(&k_region, authorization.service.as_bytes()));
    Zeroizing::new(hmac(&k_service, version.terminator().as_bytes()))
}

/// The signature (hex) of `request` with `secret_key`, at `date` (`x-jdcloud-date`).
pub fn signature(
    request: &Received<'_>,
    authorization: &Authorization<'_>,
    secret_key: &str,
    date: &str,
) -> Result<String, SignatureError> {
    let canonical = canonical_request(request, authorization)?;
    let version = authorization.version;
    let scope = format!(
        "{}/{}/{}/{}",
        authorization.day,
        authorization.region,
        authorization.service,
        version.terminator()
    );
    let to_sign = format!(
        "{}\n{date}\n{scope}\n{}",
        version.algorithm(),
        hex(&Sha256::digest(canonical.as_bytes()))
    );
    let scope = [
        version.key_prefix(),
        authorization.day,
        authorization.region,
        authorization.service,
    ];
    let derive = || signing_key(secret_key, authorization);
    let signature = with_signing_key(secret_key, &scope, derive, |k_signing| {
        hex(&hmac(k_signing, to_sign.as_bytes()))
    });
    Ok(signature)
}

/// Verifies `request`'s signature; returns its access key.
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
    if !authorization.signed_headers.split(';').any(|h| h == "host") {
        return Err(SignatureError::HeadersNotSigned);
    }
    let date = request
        .header("x-jdcloud-date")
        .ok_or(SignatureError::Expired)?
        .trim();
    let at = parse_compact_date(date).ok_or(SignatureError::Expired)?;
    if !date.starts_with(authorization.day) || !within_window(now, at, MAX_CLOCK_SKEW_SECONDS) {
        return Err(SignatureError::Expired);
    }
    let secret_key =
        secret_key_of(authorization.access_key).ok_or(SignatureError::UnknownAccessKey)?;
    let expected = signature(request, &authorization, &secret_key, date)?;
    accepted(&expected, authorization.signature, authorization.access_key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signed::vectors::with_vector;

    #[test]
    fn the_sdks_captured_requests_verify_and_changed_ones_do_not() {
        for name in [
            "jd3_python_encrypt",
            "jd3_python_get_with_query",
            "jd2_go_encrypt",
            "jd2_node_delete_with_query",
        ] {
            with_vector(name, |request, v| {
                let auth = Authorization::parse(request.header("authorization").unwrap()).unwrap();
                assert_eq!(
                    canonical_request(request, &auth).unwrap(),
                    v["canonical_request"].as_str().unwrap(),
                    "{name}"
                );
                let date = request.header("x-jdcloud-date").unwrap();
                let now = parse_compact_date(date).unwrap() + 30;
                let sk = v["secret_key"].as_str().unwrap().to_owned();
                let ak = v["access_key"].as_str().unwrap();
                let lookup = |id: &str| (id == ak).then(|| zeroize::Zeroizing::new(sk.clone()));
                assert_eq!(verify(request, now, lookup), Ok(ak), "{name}");
                assert_eq!(
                    verify(request, now, |_| Some(zeroize::Zeroizing::new(
                        "wrong".into()
                    ))),
                    Err(SignatureError::Mismatch)
                );
                assert_eq!(
                    verify(request, now + MAX_CLOCK_SKEW_SECONDS + 31, lookup),
                    Err(SignatureError::Expired)
                );
                let mut changed = request.body.to_vec();
                changed.push(b'x');
                assert_eq!(
                    verify(
                        &Received {
                            body: &changed,
                            ..*request
                        },
                        now,
                        lookup
                    ),
                    Err(SignatureError::Mismatch),
                    "{name}: a changed body"
                );
            });
        }
    }
}
