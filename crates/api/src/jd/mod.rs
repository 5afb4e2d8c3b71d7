//! JD Cloud's KMS wire (`kms` v1) as a dialect of the transport: requests signed
//! `JDCLOUD2-HMAC-SHA256` (Go, Node.js, Java SDKs) or `JDCLOUD3-HMAC-SHA256` (Python SDK), paths
//! `/v1/key…` with `:action` suffixes (sent as `%3A` by some SDKs: routed on the decoded path),
//! camelCase JSON, answers in the envelope `{"requestId","result"}` and errors as
//! `{"requestId","error":{"code":<HTTP status>,"status","message"}}` with that status.
//!
//! Work in progress (issue 29): keys, Encrypt, Decrypt, GenerateDataKey; the secrets interface and
//! per-cloud credentials are not served yet. The Tencent credentials sign JD requests too.

pub mod signature;

use hyper::http::request::Parts;
use serde_json::{Map, Value, json};

use crate::dialect::{Answer, Call, Dialect, Outcome, Written};
use keyconsole_base::util::SecretBytes;
use keyconsole_base::util::i18n::Language;
use keyconsole_kms::{
    Caller, CanonicalContext, CreateKey, DataKeySpec, ErrorCode, KeyChange, KeyMetadata, KeyQuery,
    KeySpec, KeyState, KmsError, Result, ServedKms,
};

const JSON: &str = "application/json; charset=utf-8";

pub struct JdDialect;

pub struct JdRequest {
    method: String,
    /// Raw, as signed.
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    body: SecretBytes,
}

/// What a request asks for: the operation, and the key it names (if any).
struct Route {
    operation: &'static str,
    key: Option<String>,
}

fn percent_decoded(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(byte) = u8::from_str_radix(&path[i + 1..i + 3], 16)
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

impl JdRequest {
    fn route(&self) -> Option<Route> {
        let path = percent_decoded(&self.path);
        let rest = path.strip_prefix("/v1/key")?;
        let route = |operation, key: Option<&str>| {
            Some(Route {
                operation,
                key: key.map(str::to_owned),
            })
        };
        match (self.method.as_str(), rest) {
            ("POST", ":create") => route("CreateKey", None),
            ("GET", "") | ("GET", "/") => route("DescribeKeyList", None),
            _ => {
                let rest = rest.strip_prefix('/')?;
                let (key, action) = match rest.split_once(':') {
                    Some((key, action)) => (key, Some(action)),
                    None => (rest, None),
                };
                if key.is_empty() || key.contains('/') {
                    return None;
                }
                let operation = match (self.method.as_str(), action) {
                    ("GET", None) => "DescribeKey",
                    ("GET", Some("describeKeyDetail")) => "DescribeKeyDetail",
                    ("PATCH", None) => "UpdateKeyDescription",
                    ("PATCH", Some("enable")) => "EnableKey",
                    ("PATCH", Some("disable")) => "DisableKey",
                    ("DELETE", Some("delete")) => "ScheduleKeyDeletion",
                    ("PATCH", Some("cancelDelete")) => "CancelKeyDeletion",
                    ("PATCH", Some("rotate")) => "KeyRotation",
                    ("POST", Some("Encrypt")) => "Encrypt",
                    ("POST", Some("Decrypt")) => "Decrypt",
                    ("GET", Some("GenerateDataKey")) => "GenerateDataKey",
                    _ => return None,
                };
                route(operation, Some(key))
            }
        }
    }

    fn query_value(&self, name: &str) -> Option<String> {
        self.query
            .split('&')
            .filter_map(|p| p.split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| percent_decoded(v))
    }
}

fn header(head: &Parts, name: &str) -> Option<String> {
    head.headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

impl Dialect for JdDialect {
    fn recognizes(&self, head: &Parts) -> bool {
        header(head, "authorization").is_some_and(|a| a.starts_with("JDCLOUD"))
    }

    fn read(&self, head: &Parts, body: SecretBytes) -> Box<dyn Call> {
        Box::new(JdRequest {
            method: head.method.as_str().to_owned(),
            path: head.uri.path().to_owned(),
            query: head.uri.query().unwrap_or_default().to_owned(),
            headers: head
                .headers
                .iter()
                .filter_map(|(n, v)| Some((n.as_str().to_owned(), v.to_str().ok()?.to_owned())))
                .collect(),
            body,
        })
    }

    fn loggable_action(&self, _head: &Parts) -> &'static str {
        "jdcloud"
    }

    fn language(&self, _head: &Parts) -> Language {
        Language::English
    }

    fn code(&self, _action: &str, kind: ErrorCode) -> &'static str {
        status(kind).1
    }

    fn answer(
        &self,
        _action: &str,
        result: std::result::Result<Answer, KmsError>,
        request_id: &str,
        language: Language,
    ) -> Written {
        let (code, value) = match result {
            Ok(answer) => (
                200,
                json!({"requestId": request_id, "result": Value::Object(answer)}),
            ),
            Err(e) => {
                let (code, name) = status(e.code);
                (
                    code,
                    json!({"requestId": request_id, "error": {
                        "code": code, "status": name, "message": e.localized(language)
                    }}),
                )
            }
        };
        Written {
            status: code,
            content_type: JSON,
            headers: vec![("x-jdcloud-request-id", request_id.to_owned())],
            body: SecretBytes::from(serde_json::to_vec(&value).unwrap_or_default()),
        }
    }
}

/// The HTTP status and JD's (gRPC-style) status name of an engine error kind.
fn status(kind: ErrorCode) -> (u16, &'static str) {
    use ErrorCode::*;
    match kind {
        SignatureFailure | SignatureExpire | SecretIdNotFound | InvalidAuthorization => {
            (401, "UNAUTHENTICATED")
        }
        InvalidAction | CmkNotFound | SecretNotExist => (404, "NOT_FOUND"),
        AliasAlreadyExists | SecretExists => (409, "ALREADY_EXISTS"),
        CmkDisabled
        | CmkArchived
        | CmkShouldBeDisabled
        | CmkNotPendingDelete
        | CmkStateNotSupport
        | CmkUsedByCloudProduct => (400, "FAILED_PRECONDITION"),
        LimitExceeded | CmkLimitExceeded => (429, "RESOURCE_EXHAUSTED"),
        InternalError | KeystoreIo | KeystoreBusy | KeystoreDamaged | FailedOperation => {
            (500, "INTERNAL")
        }
        _ => (400, "INVALID_ARGUMENT"),
    }
}

impl Call for JdRequest {
    fn is_change(&self) -> bool {
        self.route().is_some_and(|r| {
            matches!(
                r.operation,
                "CreateKey"
                    | "UpdateKeyDescription"
                    | "EnableKey"
                    | "DisableKey"
                    | "ScheduleKeyDeletion"
                    | "CancelKeyDeletion"
                    | "KeyRotation"
            )
        })
    }

    fn run(&self, kms: &dyn ServedKms, request_id: &str, may_wait: bool) -> Outcome {
        let route = self.route();
        let action = route.as_ref().map_or("jdcloud", |r| r.operation);
        let result = self.authenticate(kms).and_then(|access_key| {
            let Some(route) = route else {
                return Err(KmsError::new(
                    ErrorCode::InvalidAction,
                    keyconsole_base::text!("errors.no_such_operation"),
                ));
            };
            let body: Map<String, Value> = if self.body.is_empty() {
                Map::new()
            } else {
                serde_json::from_slice(&self.body).map_err(|_| {
                    KmsError::new(
                        ErrorCode::InvalidParameter,
                        keyconsole_base::text!("errors.the_body_is_not_a_json_object"),
                    )
                })?
            };
            let caller = Caller::api(&access_key, Language::English, request_id, may_wait);
            self.serve(kms, &caller, &route, &body)
        });
        Outcome {
            action,
            key_id: None,
            result,
        }
    }

    fn language(&self) -> Language {
        Language::English
    }
}

fn reply(value: Value) -> Result<Answer> {
    match value {
        Value::Object(map) => Ok(map),
        _ => Ok(Answer::new()),
    }
}

fn invalid(name: &str) -> KmsError {
    KmsError::new(
        ErrorCode::InvalidParameterValue,
        keyconsole_base::text!("errors.the_parameter_name_is_not_valid", name = name),
    )
}

fn iso(time: i64) -> String {
    if time == 0 {
        return String::new();
    }
    time::OffsetDateTime::from_unix_timestamp(time)
        .ok()
        .and_then(|t| {
            t.format(time::macros::format_description!(
                "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
            ))
            .ok()
        })
        .unwrap_or_default()
}

/// JD's keyStatus: 0 enabled, 1 disabled (archived keys too: they still decrypt), 2 pending
/// deletion (and waiting for imported material: disabled, 1).
fn key_status(state: KeyState) -> u32 {
    match state {
        KeyState::Enabled => 0,
        KeyState::Disabled | KeyState::Archived | KeyState::PendingImport => 1,
        KeyState::PendingDelete => 2,
    }
}

fn key_info(key: &KeyMetadata) -> Value {
    json!({
        "keyId": key.key_id,
        "keyName": key.alias,
        "keyStatus": key_status(key.key_state),
        "createTime": iso(key.create_time),
        "keyDesc": key.description,
        "rotationCycle": if key.key_rotation_enabled { key.rotate_days } else { 0 },
        "deleteTime": iso(key.deletion_date),
    })
}

fn text<'a>(body: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    body.get(name).and_then(Value::as_str)
}

fn base64(bytes: &[u8]) -> String {
    base64_simd::STANDARD.encode_to_string(bytes)
}

impl JdRequest {
    fn authenticate(&self, kms: &dyn ServedKms) -> Result<String> {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let received = signature::Received {
            method: &self.method,
            path: &self.path,
            query: &self.query,
            headers: &headers,
            body: &self.body,
        };
        signature::verify(&received, kms.now(), |ak| kms.api_secret_key(ak).ok())
            .map(str::to_owned)
            .map_err(|e| {
                let code = match e {
                    signature::SignatureError::Expired => ErrorCode::SignatureExpire,
                    signature::SignatureError::UnknownAccessKey => ErrorCode::SecretIdNotFound,
                    signature::SignatureError::Malformed
                    | signature::SignatureError::HeadersNotSigned => {
                        ErrorCode::InvalidAuthorization
                    }
                    signature::SignatureError::Mismatch => ErrorCode::SignatureFailure,
                };
                KmsError::new(
                    code,
                    keyconsole_base::text!("errors.incorrect_jd_signature"),
                )
            })
    }

    fn serve(
        &self,
        kms: &dyn ServedKms,
        caller: &Caller,
        route: &Route,
        body: &Map<String, Value>,
    ) -> Result<Answer> {
        let key = || route.key.clone().ok_or_else(|| invalid("keyId"));
        let change = |change: KeyChange| -> Result<Answer> {
            kms.change_keys(caller, &[key()?], change)?;
            Ok(Answer::new())
        };
        match route.operation {
            "CreateKey" => {
                let cfg = body
                    .get("keyCfg")
                    .and_then(Value::as_object)
                    .ok_or_else(|| invalid("keyCfg"))?;
                let desc = cfg
                    .get("keyDescCfg")
                    .and_then(Value::as_object)
                    .ok_or_else(|| invalid("keyDescCfg"))?;
                let (usage, spec) = match desc.get("keyType").and_then(Value::as_u64).unwrap_or(0) {
                    0 => (None, None),
                    1 => (Some("ASYMMETRIC_SIGN_VERIFY_RSA_2048".to_owned()), None),
                    4 => (None, Some(KeySpec::Sm4)),
                    _ => return Err(invalid("keyType")),
                };
                let rotate_days = cfg
                    .get("keyRotateCfg")
                    .and_then(Value::as_object)
                    .filter(|r| {
                        r.get("autoRotate")
                            .and_then(Value::as_bool)
                            .unwrap_or(false)
                    })
                    .and_then(|r| r.get("rotationCycle").and_then(Value::as_u64))
                    .filter(|&d| d > 0)
                    .map(|d| u32::try_from(d).unwrap_or(u32::MAX));
                let key = kms.create_key(
                    caller,
                    CreateKey {
                        alias: text(desc, "keyName").unwrap_or_default().to_owned(),
                        description: text(desc, "keyDesc").unwrap_or_default().to_owned(),
                        key_usage: usage,
                        spec,
                        rotate_days,
                        ..CreateKey::default()
                    },
                )?;
                reply(json!({"keyId": key.key_id}))
            }
            "DescribeKeyList" => {
                let number = self
                    .query_value("pageNumber")
                    .and_then(|n| n.parse::<usize>().ok())
                    .unwrap_or(1)
                    .max(1);
                let size = self
                    .query_value("pageSize")
                    .and_then(|n| n.parse::<usize>().ok())
                    .unwrap_or(10)
                    .clamp(1, 100);
                let page = kms.list_keys(
                    caller,
                    &KeyQuery {
                        offset: (number - 1) * size,
                        limit: Some(size),
                        owner: Some(keyconsole_kms::KeyOwner::User),
                        ..KeyQuery::default()
                    },
                )?;
                reply(json!({
                    "keyList": page.keys.iter().map(key_info).collect::<Vec<_>>(),
                    "totalCount": page.total,
                }))
            }
            "DescribeKey" => {
                let key = kms.describe_key(caller, &key()?)?;
                reply(json!({"keyInfo": key_info(&key)}))
            }
            "DescribeKeyDetail" => {
                let key = kms.describe_key(caller, &key()?)?;
                let versions: Vec<Value> = (1..=key.version_count)
                    .map(|v| json!({"keyVersion": v.to_string(), "createTime": "", "keyStatus": key_status(key.key_state), "deleteTime": iso(key.deletion_date)}))
                    .collect();
                reply(json!({"keyDetail": {
                    "keyId": key.key_id,
                    "keyName": key.alias,
                    "rotationCycle": if key.key_rotation_enabled { key.rotate_days } else { 0 },
                    "keyVersionCount": key.version_count,
                    "keyVersionList": versions,
                }}))
            }
            "UpdateKeyDescription" => {
                let desc = body
                    .get("keyCfg")
                    .and_then(|c| c.get("keyDescCfg"))
                    .and_then(Value::as_object)
                    .ok_or_else(|| invalid("keyCfg"))?;
                change(KeyChange::Update {
                    alias: text(desc, "keyName").map(str::to_owned),
                    description: text(desc, "keyDesc").map(str::to_owned),
                })
            }
            "EnableKey" => change(KeyChange::Enable),
            "DisableKey" => change(KeyChange::Disable),
            "ScheduleKeyDeletion" => {
                let days = self.query_value("delayDays").map_or(Ok(7), |d| {
                    d.parse::<u32>().map_err(|_| invalid("delayDays"))
                })?;
                change(KeyChange::ScheduleDeletion { days })
            }
            "CancelKeyDeletion" => change(KeyChange::CancelDeletion),
            "KeyRotation" => change(KeyChange::Rotate),
            "Encrypt" => {
                let plaintext = base64_simd::STANDARD
                    .decode_to_vec(text(body, "plaintext").unwrap_or_default().trim())
                    .map(SecretBytes::from)
                    .map_err(|_| invalid("plaintext"))?;
                let sealed = kms.encrypt(caller, &key()?, &plaintext, &CanonicalContext::none())?;
                reply(json!({"ciphertextBlob": sealed.ciphertext_blob}))
            }
            "Decrypt" => {
                let blob = text(body, "ciphertextBlob").ok_or_else(|| invalid("ciphertextBlob"))?;
                let opened = kms.decrypt(caller, blob, &CanonicalContext::none())?;
                // The path names the key: a ciphertext of another key is not this key's.
                let named = kms.describe_key(caller, &key()?)?;
                if named.key_id != opened.key_id {
                    return Err(KmsError::new(
                        ErrorCode::InvalidCiphertext,
                        keyconsole_base::text!("errors.the_ciphertext_was_made_with_another_key"),
                    ));
                }
                reply(json!({"plaintext": base64(&opened.plaintext)}))
            }
            "GenerateDataKey" => {
                let data_key = kms.generate_data_key(
                    caller,
                    &key()?,
                    DataKeySpec::Aes256,
                    &CanonicalContext::none(),
                )?;
                reply(json!({
                    "plaintext": base64(&data_key.plaintext),
                    "ciphertextBlob": data_key.ciphertext_blob,
                }))
            }
            _ => Err(KmsError::new(
                ErrorCode::InvalidAction,
                keyconsole_base::text!("errors.no_such_operation"),
            )),
        }
    }
}
