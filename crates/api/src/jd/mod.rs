//! JD Cloud's KMS wire (`kms` v1) as a dialect of the transport: requests signed
//! `JDCLOUD2-HMAC-SHA256` (Go, Node.js, Java SDKs) or `JDCLOUD3-HMAC-SHA256` (Python SDK), paths
//! `/v1/key…` with `:action` suffixes (sent as `%3A` by some SDKs: routed on the decoded path),
//! camelCase JSON, answers in the envelope `{"requestId","result"}` and errors as
//! `{"requestId","error":{"code":<HTTP status>,"status","message"}}` with that status.
//!
//! The secrets interface (`/v1/secret…`) is in `secrets`. Requests are signed with the keystore's
//! JD AccessKey/SecretKey (`keyconsole api credentials --cloud jd`).

pub mod secrets;
pub mod signature;

use hyper::http::request::Parts;
use serde_json::{Map, Value, json};

use crate::dialect::{Answer, Call, Dialect, Outcome, Written};
pub(crate) use crate::signed::invalid;
use crate::signed::{RawRequest, base64, header_value, loggable_target, unbase64};
use keyconsole_base::util::SecretBytes;
use keyconsole_base::util::i18n::Language;
use keyconsole_kms::{
    Caller, CanonicalContext, Cloud, CreateKey, DataKeySpec, ErrorCode, KeyChange, KeyMetadata,
    KeyQuery, KeySpec, KeyState, KmsError, MessageType, Result, ServedKms,
};

const JSON: &str = "application/json; charset=utf-8";

pub struct JdDialect;

/// The request and what it asks for (routed once, when read).
pub struct JdRequest(RawRequest, Option<Route>);

/// What a request asks for: the operation, whether it changes the keystore, the key or secret the
/// path names, and a secret's version.
pub(crate) struct Route {
    pub operation: &'static str,
    pub change: bool,
    pub target: Option<String>,
    pub version: Option<String>,
}

/// The operations that change the keystore.
const CHANGES: &[&str] = &[
    "CreateKey",
    "UpdateKeyDescription",
    "EnableKey",
    "DisableKey",
    "ScheduleKeyDeletion",
    "CancelKeyDeletion",
    "KeyRotation",
];

impl JdRequest {
    fn query_value(&self, name: &str) -> Option<String> {
        self.0.query_value(name)
    }
}

/// Routed on the decoded path (the Go and Node.js SDKs send `:` as `%3A`).
fn route_of(request: &RawRequest) -> Option<Route> {
    let path = request.decoded_path();
    let method = request.method.as_str();
    if let Some(rest) = path.strip_prefix("/v1/secret") {
        return secrets::route(method, rest);
    }
    let rest = path.strip_prefix("/v1/key")?;
    let (operation, key) = match (method, rest) {
        ("POST", ":create") => ("CreateKey", None),
        ("GET", "") | ("GET", "/") => ("DescribeKeyList", None),
        _ => {
            let rest = rest.strip_prefix('/')?;
            let (key, action) = match rest.split_once(':') {
                Some((key, action)) => (key, Some(action)),
                None => (rest, None),
            };
            if key.is_empty() || key.contains('/') {
                return None;
            }
            let operation = match (method, action) {
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
                ("GET", Some("GetPublicKey")) => "GetPublicKey",
                ("POST", Some("Sign")) => "Sign",
                ("POST", Some("Validate")) => "Validate",
                _ => return None,
            };
            (operation, Some(key.to_owned()))
        }
    };
    Some(Route {
        operation,
        change: CHANGES.contains(&operation),
        target: key,
        version: None,
    })
}

impl Dialect for JdDialect {
    fn name(&self) -> &'static str {
        "jd"
    }

    fn recognizes(&self, head: &Parts) -> bool {
        header_value(head, "authorization").is_some_and(|a| a.starts_with("JDCLOUD"))
    }

    fn read(&self, head: &Parts, body: SecretBytes) -> Box<dyn Call> {
        let request = RawRequest::read(head, body);
        let route = route_of(&request);
        Box::new(JdRequest(request, route))
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
        UnauthorizedOperation => (403, "PERMISSION_DENIED"),
        InvalidAction | CmkNotFound | SecretNotExist | NoSuchVersion => (404, "NOT_FOUND"),
        AliasAlreadyExists | SecretExists | VersionIdExists => (409, "ALREADY_EXISTS"),
        ResourceDisabled
        | ResourcePendingDeleted
        | UnsupportedOperation
        | RotateNotSupported
        | OperationDenied
        | AutoRotatedResource => (400, "FAILED_PRECONDITION"),
        CmkDisabled
        | CmkArchived
        | CmkShouldBeDisabled
        | CmkNotPendingDelete
        | CmkStateNotSupport
        | CmkUsedByCloudProduct => (400, "FAILED_PRECONDITION"),
        LimitExceeded | CmkLimitExceeded => (429, "RESOURCE_EXHAUSTED"),
        InternalError | KeystoreIo | KeystoreBusy | AuditUnavailable | KeystoreDamaged
        | FailedOperation => (500, "INTERNAL"),
        _ => (400, "INVALID_ARGUMENT"),
    }
}

impl Call for JdRequest {
    fn is_change(&self) -> bool {
        self.1.as_ref().is_some_and(|r| r.change)
    }

    fn run(&self, kms: &dyn ServedKms, request_id: &str, may_wait: bool) -> Outcome {
        let route = self.1.as_ref();
        let action = route.as_ref().map_or("jdcloud", |r| r.operation);
        let result = self.authenticate(kms).and_then(|access_key| {
            let Some(route) = route else {
                return Err(KmsError::new(
                    ErrorCode::InvalidAction,
                    keyconsole_base::text!("errors.no_such_operation"),
                ));
            };
            let body = self.0.json_body()?;
            let caller = Caller::api(&access_key, Language::English, request_id, may_wait)
                .from_address(self.0.peer)
                .in_dialect("jd");
            if secrets::serves(route.operation) {
                secrets::serve(kms, &caller, route, &body, &self.0)
            } else {
                self.serve(kms, &caller, route, &body)
            }
        });
        Outcome {
            action,
            key_id: route.and_then(|r| {
                let target = r.target.as_deref();
                if secrets::serves(r.operation) {
                    loggable_target(kms, None, target)
                } else {
                    loggable_target(kms, target, None)
                }
            }),
            result,
        }
    }

    fn language(&self) -> Language {
        Language::English
    }
}

/// Page number and size from the query (1 and 10 by default, 1–100 a page).
pub(crate) fn page(request: &RawRequest) -> (usize, usize) {
    let number = request
        .query_value("pageNumber")
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or(1)
        .max(1);
    let size = request
        .query_value("pageSize")
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or(10)
        .clamp(1, 100);
    (number, size)
}

pub(crate) fn reply(value: Value) -> Result<Answer> {
    match value {
        Value::Object(map) => Ok(map),
        _ => Ok(Answer::new()),
    }
}

pub(crate) fn iso(time: i64) -> String {
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

pub(crate) fn text<'a>(body: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    body.get(name).and_then(Value::as_str)
}

impl JdRequest {
    fn authenticate(&self, kms: &dyn ServedKms) -> Result<String> {
        self.0
            .verified(|received| {
                signature::verify(received, kms.now(), |ak| {
                    kms.api_secret_key(Cloud::Jd, ak).ok()
                })
                .map(str::to_owned)
            })
            .map_err(|e| e.refusal(keyconsole_base::text!("errors.incorrect_jd_signature")))
    }

    fn serve(
        &self,
        kms: &dyn ServedKms,
        caller: &Caller,
        route: &Route,
        body: &Map<String, Value>,
    ) -> Result<Answer> {
        let key = || route.target.clone().ok_or_else(|| invalid("keyId"));
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
                let (number, size) = page(&self.0);
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
                // Optional in JD's model: none is no bytes.
                let plaintext = unbase64(text(body, "plaintext").unwrap_or_default(), "plaintext")
                    .map(SecretBytes::from)?;
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
            "GetPublicKey" => {
                let public = kms.public_key(caller, &key()?)?;
                reply(json!({"publicKeyBlob": public.pem}))
            }
            // JD signs with RSA keys (keyType 1) only, "RSA_PKCS1_PADDING": PKCS#1 v1.5 over the
            // SHA-256 of the message (up to 4 KB), as `openssl dgst -sha256 -sign` makes it.
            "Sign" | "Validate" => {
                // A base64 field of the body (missing or not base64: that field is not valid).
                let field = |name: &str| {
                    text(body, name)
                        .ok_or_else(|| invalid(name))
                        .and_then(|value| unbase64(value, name))
                };
                let message = field("plaintext")?;
                if route.operation == "Sign" {
                    let signature = kms.sign(
                        caller,
                        &key()?,
                        JD_SIGNING_ALGORITHM,
                        MessageType::Raw,
                        &message,
                    )?;
                    return reply(json!({"signature": base64(&signature)}));
                }
                let signature = field("signature")?;
                let valid = kms.verify(
                    caller,
                    &key()?,
                    JD_SIGNING_ALGORITHM,
                    MessageType::Raw,
                    &message,
                    &signature,
                )?;
                reply(json!({"validated": valid}))
            }
            _ => Err(KmsError::new(
                ErrorCode::InvalidAction,
                keyconsole_base::text!("errors.no_such_operation"),
            )),
        }
    }
}

/// The one algorithm JD's Sign and Validate use (the engine's name for it).
const JD_SIGNING_ALGORITHM: &str = "RSA_PKCS1_SHA_256";
