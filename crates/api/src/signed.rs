//! What the dialects signed over the whole HTTP request (Huawei's `SDK-HMAC-SHA256`, JD's
//! `JDCLOUD2/3-HMAC-SHA256`) share: the request exactly as received (raw path and query, every
//! header, the body bytes, for the signature to cover), its JSON body, query values, and why a
//! signature was refused.

use hyper::http::request::Parts;
use serde_json::{Map, Value};
use zeroize::Zeroizing;

use keyconsole_base::util::SecretBytes;
use keyconsole_base::util::i18n::Text;
use keyconsole_kms::{ErrorCode, KmsError, Result, ServedKms};

/// A request as the signature covers it, borrowed.
#[derive(Debug, Clone, Copy)]
pub struct Received<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: &'a str,
    pub headers: &'a [(&'a str, &'a str)],
    pub body: &'a [u8],
}

impl<'a> Received<'a> {
    pub fn header(&self, name: &str) -> Option<&'a str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    }
}

/// Whether two signatures are equal, in time that does not depend on where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The last signing key a thread derived (SigV4-style: a chain of HMACs from the secret key over
/// the parts of a scope) and what it was derived from; wiped when replaced or when the thread ends.
struct CachedSigningKey {
    secret_key: Zeroizing<String>,
    scope: Vec<String>,
    key: Zeroizing<Vec<u8>>,
}

thread_local! {
    static SIGNING_KEY: std::cell::RefCell<Option<CachedSigningKey>> =
        const { std::cell::RefCell::new(None) };
}

/// Runs `f` with the signing key of `secret_key` and `scope` (algorithm, day, region, service…),
/// derived by `derive` once per thread for each of them: the API's workers check a day's requests
/// from one client against the same key. A rotated secret key differs, so it is derived anew.
pub fn with_signing_key<R>(
    secret_key: &str,
    scope: &[&str],
    derive: impl FnOnce() -> Zeroizing<Vec<u8>>,
    f: impl FnOnce(&[u8]) -> R,
) -> R {
    SIGNING_KEY.with(|cell| {
        let mut cached = cell.borrow_mut();
        let entry = match cached.take() {
            Some(c)
                if c.scope.iter().map(String::as_str).eq(scope.iter().copied())
                    && constant_time_eq(c.secret_key.as_bytes(), secret_key.as_bytes()) =>
            {
                c
            }
            _ => CachedSigningKey {
                secret_key: Zeroizing::new(secret_key.to_owned()),
                scope: scope.iter().map(|s| (*s).to_owned()).collect(),
                key: derive(),
            },
        };
        let result = f(&entry.key);
        *cached = Some(entry);
        result
    })
}

/// The access key, when the signature given (hex, either case) is the one expected.
pub fn accepted<'a>(
    expected: &str,
    given: &str,
    access_key: &'a str,
) -> std::result::Result<&'a str, SignatureError> {
    if constant_time_eq(expected.as_bytes(), given.to_ascii_lowercase().as_bytes()) {
        Ok(access_key)
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// Why a request's signature was refused (401 in either dialect).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureError {
    /// No Authorization header of this scheme, or one that does not parse.
    Malformed,
    /// A header that must be signed is not, or a signed header is missing.
    HeadersNotSigned,
    /// The request's date does not parse or is too far from now.
    Expired,
    /// No such access key.
    UnknownAccessKey,
    /// The signature does not match.
    Mismatch,
}

impl SignatureError {
    /// The engine's error for the refusal, with the dialect's message.
    pub fn refusal(self, text: Text) -> KmsError {
        let code = match self {
            SignatureError::Expired => ErrorCode::SignatureExpire,
            SignatureError::UnknownAccessKey => ErrorCode::SecretIdNotFound,
            SignatureError::Malformed | SignatureError::HeadersNotSigned => {
                ErrorCode::InvalidAuthorization
            }
            SignatureError::Mismatch => ErrorCode::SignatureFailure,
        };
        KmsError::new(code, text)
    }
}

/// A request as received, owned until it runs.
pub struct RawRequest {
    pub method: String,
    /// Raw, as signed.
    pub path: String,
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: SecretBytes,
    /// Where it came from.
    pub peer: Option<std::net::IpAddr>,
}

impl RawRequest {
    pub fn read(head: &Parts, body: SecretBytes) -> Self {
        RawRequest {
            peer: crate::dialect::peer(head),
            method: head.method.as_str().to_owned(),
            path: head.uri.path().to_owned(),
            query: head.uri.query().unwrap_or_default().to_owned(),
            headers: head
                .headers
                .iter()
                .filter_map(|(n, v)| Some((n.as_str().to_owned(), v.to_str().ok()?.to_owned())))
                .collect(),
            body,
        }
    }

    /// Checks the signature with `verify` (given the request as signed) and answers the access
    /// key that signed it.
    pub fn verified<E>(
        &self,
        verify: impl FnOnce(&Received<'_>) -> std::result::Result<String, E>,
    ) -> std::result::Result<String, E> {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let received = Received {
            method: &self.method,
            path: &self.path,
            query: &self.query,
            headers: &headers,
            body: &self.body,
        };
        verify(&received)
    }

    /// The body as a JSON object (none is an empty one).
    pub fn json_body(&self) -> Result<Map<String, Value>> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Map::new());
        }
        serde_json::from_slice(&self.body).map_err(|_| {
            KmsError::new(
                ErrorCode::InvalidParameter,
                keyconsole_base::text!("errors.the_body_is_not_a_json_object"),
            )
        })
    }

    /// A query parameter's value, decoded.
    pub fn query_value(&self, name: &str) -> Option<String> {
        self.query
            .split('&')
            .filter_map(|p| p.split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| percent_decoded(&v.replace('+', " ")))
    }

    /// The path with its `%XX` escapes decoded (routing; the signature covers the raw one).
    pub fn decoded_path(&self) -> String {
        percent_decoded(&self.path)
    }
}

/// What the access log may show of the key or secret a request names: a KeyId when it names a key
/// the keystore holds, `secret:NAME` when a secret of that name exists, else nothing (so a value
/// pasted into the field is never logged).
pub fn loggable_target(
    kms: &dyn ServedKms,
    key: Option<&str>,
    secret: Option<&str>,
) -> Option<String> {
    match (key, secret) {
        (Some(key), _) => kms.key_id_of(key),
        (None, Some(name)) => kms.secret_named(name).map(|name| format!("secret:{name}")),
        (None, None) => None,
    }
}

/// `%XX` escapes decoded; anything else (a stray `%`, bytes that are not UTF-8) kept or replaced,
/// never an error: the result is only routed on.
pub fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(byte) = text
                .get(i + 1..i + 3)
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
        {
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The next version id of a secret whose versions are `existing` when the cloud numbers them
/// itself (Huawei's `v1`, `v2`, …, JD's likewise): one past the highest such number.
pub fn next_version_id(existing: &[(String, i64)]) -> String {
    let highest = existing
        .iter()
        .filter_map(|(id, _)| id.strip_prefix('v')?.parse::<u64>().ok())
        .max()
        .unwrap_or(0);
    format!("v{}", highest + 1)
}

#[cfg(test)]
pub(crate) mod vectors {
    //! The captured requests of `dialect-vectors.json`, as the signature tests read them.
    use super::Received;

    pub fn vector(name: &str) -> serde_json::Value {
        let all: serde_json::Value =
            serde_json::from_str(include_str!("dialect-vectors.json")).unwrap();
        all[name].clone()
    }

    /// Runs `check` on the captured request `name` and its vector.
    pub fn with_vector(name: &str, check: impl FnOnce(&Received<'_>, &serde_json::Value)) {
        let v = vector(name);
        let target = v["target"].as_str().unwrap();
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let headers: Vec<(String, String)> = v["headers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| {
                (
                    h[0].as_str().unwrap().to_owned(),
                    h[1].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        let headers: Vec<(&str, &str)> = headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let body = v["body"].as_str().unwrap().as_bytes().to_vec();
        let request = Received {
            method: v["method"].as_str().unwrap(),
            path,
            query,
            headers: &headers,
            body: &body,
        };
        check(&request, &v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoding_and_version_numbers() {
        assert_eq!(percent_decoded("/v1/key/k%3AEncrypt"), "/v1/key/k:Encrypt");
        assert_eq!(percent_decoded("100%"), "100%");
        assert_eq!(percent_decoded("%zz%4"), "%zz%4");
        assert_eq!(next_version_id(&[]), "v1");
        let existing = [
            ("v1".to_owned(), 0),
            ("v7".to_owned(), 0),
            ("x".to_owned(), 0),
        ];
        assert_eq!(next_version_id(&existing), "v8");
    }
}
