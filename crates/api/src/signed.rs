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
            .map(|(_, v)| String::from_utf8_lossy(&percent_decode(v, true)).into_owned())
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
    String::from_utf8_lossy(&percent_decode(text, false)).into_owned()
}

/// `%XX` escapes decoded, and `+` as a space when `plus_is_space` (Python's `unquote_plus`); a
/// broken escape is kept as it is, as the SDKs' `unquote` keeps it.
pub fn percent_decode(text: &str, plus_is_space: bool) -> Vec<u8> {
    let bytes = text.as_bytes();
    let hex_digit = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = match bytes.get(i..i + 3) {
            Some([b'%', high, low]) => hex_digit(*high).zip(hex_digit(*low)),
            _ => None,
        };
        match (escaped, bytes[i]) {
            (Some((high, low)), _) => {
                out.push(high << 4 | low);
                i += 3;
            }
            (None, b'+') if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            (None, other) => {
                out.push(other);
                i += 1;
            }
        }
    }
    out
}

/// RFC 3986 percent-encoding as the SDKs sign: unreserved bytes (and `/` when `keep_slash`) as
/// they are, every other byte as `%XX`.
pub fn percent_encode(bytes: &[u8], keep_slash: bool, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in bytes {
        if b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'_' | b'.' | b'~')
            || (keep_slash && b == b'/')
        {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 15)] as char);
        }
    }
}

/// A canonical query: each name and value decoded and encoded again, the pairs sorted, joined by
/// `&` (which pairs count is the dialect's: Huawei keeps a name without `=`, JD drops it).
pub fn canonical_query<'a>(
    pairs: impl Iterator<Item = (&'a str, &'a str)>,
    plus_is_space: bool,
) -> String {
    let mut encoded: Vec<(String, String)> = pairs
        .map(|(name, value)| {
            let (mut n, mut v) = (String::new(), String::new());
            percent_encode(&percent_decode(name, plus_is_space), false, &mut n);
            percent_encode(&percent_decode(value, plus_is_space), false, &mut v);
            (n, v)
        })
        .collect();
    encoded.sort_unstable();
    let mut out = String::new();
    for (i, (name, value)) in encoded.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(name);
        out.push('=');
        out.push_str(value);
    }
    out
}

/// The canonical headers: `name:value` and a newline for each signed header, the name in lower
/// case, the value trimmed (and inner runs of spaces made one when `collapse_spaces`). A signed
/// header the request lacks is refused.
pub fn canonical_headers(
    request: &Received<'_>,
    signed_headers: &str,
    collapse_spaces: bool,
) -> std::result::Result<String, SignatureError> {
    let mut out = String::new();
    for name in signed_headers.split(';') {
        let value = request
            .header(name)
            .ok_or(SignatureError::HeadersNotSigned)?
            .trim();
        out.push_str(&name.to_ascii_lowercase());
        out.push(':');
        if collapse_spaces {
            for (i, word) in value.split(' ').filter(|w| !w.is_empty()).enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(word);
            }
        } else {
            out.push_str(value);
        }
        out.push('\n');
    }
    Ok(out)
}

/// The `Name=value` fields after an Authorization header's scheme, for exactly `names` (a field
/// of another name, or one without `=`, makes the header malformed).
pub fn authorization_fields<'a, const N: usize>(
    fields: &'a str,
    names: [&str; N],
) -> std::result::Result<[Option<&'a str>; N], SignatureError> {
    let mut values = [None; N];
    for field in fields.split(',') {
        let (name, value) = field
            .trim()
            .split_once('=')
            .ok_or(SignatureError::Malformed)?;
        let at = names
            .iter()
            .position(|n| *n == name)
            .ok_or(SignatureError::Malformed)?;
        values[at] = Some(value);
    }
    Ok(values)
}

/// Unix seconds of `YYYYMMDDTHHMMSSZ` (Huawei's `X-Sdk-Date`, JD's `x-jdcloud-date`).
pub fn parse_compact_date(date: &str) -> Option<i64> {
    let format = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    time::PrimitiveDateTime::parse(date, format)
        .ok()
        .map(|t| t.assume_utc().unix_timestamp())
}

/// Whether a request signed at `at` is within `window` seconds of `now`, either way.
pub fn within_window(now: i64, at: i64, window: i64) -> bool {
    now.abs_diff(at) <= window.unsigned_abs()
}

/// A header's value, when it is text.
pub fn header_value<'a>(head: &'a Parts, name: &str) -> Option<&'a str> {
    head.headers.get(name).and_then(|v| v.to_str().ok())
}

/// A parameter whose value is not valid (both dialects say it so).
pub fn invalid(name: &str) -> KmsError {
    KmsError::new(
        ErrorCode::InvalidParameterValue,
        keyconsole_base::text!("errors.the_parameter_name_is_not_valid", name = name),
    )
}

pub fn base64(bytes: &[u8]) -> String {
    base64_simd::STANDARD.encode_to_string(bytes)
}

/// The bytes of the base64 parameter `name` (not base64: that parameter is not valid).
pub fn unbase64(text: &str, name: &str) -> Result<Vec<u8>> {
    base64_simd::STANDARD
        .decode_to_vec(text.trim())
        .map_err(|_| invalid(name))
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
        assert_eq!(percent_decoded("%+1%41"), "%+1A");
        assert_eq!(percent_decode("a+b%2B", true), b"a b+");
        assert_eq!(percent_decode("a+b", false), b"a+b");
        let mut encoded = String::new();
        percent_encode("a/b c~é".as_bytes(), true, &mut encoded);
        assert_eq!(encoded, "a/b%20c~%C3%A9");
        assert_eq!(
            canonical_query([("b", "2"), ("a", "x y"), ("a", "%41")].into_iter(), false),
            "a=A&a=x%20y&b=2"
        );
        assert!(!within_window(i64::MAX, i64::MIN + 5, 900));
        assert!(within_window(100, 1000, 900));
        assert_eq!(next_version_id(&[]), "v1");
        let existing = [
            ("v1".to_owned(), 0),
            ("v7".to_owned(), 0),
            ("x".to_owned(), 0),
        ];
        assert_eq!(next_version_id(&existing), "v8");
    }
}
