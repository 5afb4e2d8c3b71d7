//! Huawei Cloud's KMS wire (DEW, `huaweicloudsdkkms.v2`) as a dialect of the transport: requests
//! signed `SDK-HMAC-SHA256`, `POST /v1.0/{project_id}/kms/<operation>` with snake_case JSON,
//! answers in Huawei's shapes (numbers as strings where its models say so), errors as an HTTP
//! status with `{"error":{"error_code","error_msg"}}` so the SDK raises its own exceptions.
//! `GET /v3/projects` answers the IAM lookup the SDK makes when given a region but no project.
//!
//! CSMS secrets (`/v1/{project_id}/secrets…`) are in `csms`. Requests are signed with the
//! keystore's Huawei AK/SK (`keyconsole api credentials --cloud huawei`).

pub mod csms;
pub mod signature;

use hyper::http::request::Parts;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::dialect::{Answer, Call, Dialect, Outcome, Written};
pub(crate) use crate::signed::invalid;
use crate::signed::{RawRequest, base64, header_value, loggable_target, unbase64};
use keyconsole_base::util::SecretBytes;
use keyconsole_base::util::i18n::Language;
use keyconsole_kms::{
    Caller, CanonicalContext, Cloud, CreateKey, DataKeySpec, ErrorCode, KeyChange, KeyMetadata,
    KeyQuery, KeySpec, KeyState, KeyUsage, KmsError, MessageType, Result, ServedKms, StateFilter,
};

pub const ALGORITHM: &str = signature::ALGORITHM;
const JSON: &str = "application/json;charset=UTF-8";

/// The operations served, by the path's last part; the access log names them so.
const OPERATIONS: &[(&str, bool)] = &[
    ("create-key", true),
    ("describe-key", false),
    ("list-keys", false),
    ("enable-key", true),
    ("disable-key", true),
    ("schedule-key-deletion", true),
    ("cancel-key-deletion", true),
    ("gen-random", false),
    ("create-datakey", false),
    ("create-datakey-without-plaintext", false),
    ("encrypt-datakey", false),
    ("decrypt-datakey", false),
    ("encrypt-data", false),
    ("decrypt-data", false),
    ("update-key-alias", true),
    ("update-key-description", true),
    ("get-publickey", false),
    ("sign", false),
    ("verify", false),
];

pub struct HuaweiDialect;

/// A Huawei request as received.
/// The request and what it asks for (routed once, when read).
pub struct HuaweiRequest(RawRequest, Option<Route>);

/// What a request asks for: the operation (as the access log names it), whether it changes the
/// keystore, and for CSMS the secret and the version or stage the path names.
pub(crate) struct Route {
    pub operation: &'static str,
    pub change: bool,
    pub secret: Option<String>,
    pub item: Option<String>,
}

/// `kms/<op>` under `/v1.0/{project}/`, CSMS paths under `/v1/{project}/`, or `projects` for
/// the IAM lookup.
fn route_of(request: &RawRequest) -> Option<Route> {
    if request.method == "GET" && request.path == "/v3/projects" {
        return Some(Route::of("projects", false));
    }
    let path = request.decoded_path();
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    match parts.as_slice() {
        ["v1.0", _project, "kms", op] => OPERATIONS
            .iter()
            .find(|(name, _)| name == op)
            .map(|&(name, change)| Route::of(name, change)),
        ["v1", _project, rest @ ..] => csms::route(&request.method, rest),
        _ => None,
    }
}

impl Route {
    fn of(operation: &'static str, change: bool) -> Self {
        Route {
            operation,
            change,
            secret: None,
            item: None,
        }
    }
}

impl Dialect for HuaweiDialect {
    fn name(&self) -> &'static str {
        "huawei"
    }

    fn recognizes(&self, head: &Parts) -> bool {
        header_value(head, "authorization").is_some_and(|a| a.starts_with(ALGORITHM))
    }

    fn read(&self, head: &Parts, body: SecretBytes) -> Box<dyn Call> {
        let request = RawRequest::read(head, body);
        let route = route_of(&request);
        Box::new(HuaweiRequest(request, route))
    }

    fn loggable_action(&self, _head: &Parts) -> &'static str {
        "huawei"
    }

    fn language(&self, _head: &Parts) -> Language {
        Language::English
    }

    fn code(&self, action: &str, kind: ErrorCode) -> &'static str {
        if csms::serves(action) {
            csms::code(kind).1
        } else {
            code(kind).1
        }
    }

    fn answer(
        &self,
        action: &str,
        result: std::result::Result<Answer, KmsError>,
        request_id: &str,
        language: Language,
    ) -> Written {
        // KMS nests its errors in "error", CSMS does not (as the real services answer).
        let (status, value) = match result {
            Ok(answer) => (200, Value::Object(answer)),
            Err(e) if csms::serves(action) => {
                let (status, code) = csms::code(e.code);
                (
                    status,
                    json!({"error_code": code, "error_msg": e.localized(language)}),
                )
            }
            Err(e) => {
                let (status, code) = code(e.code);
                let message = e.localized(language);
                (
                    status,
                    json!({"error": {"error_code": code, "error_msg": message}}),
                )
            }
        };
        Written {
            status,
            content_type: JSON,
            headers: vec![("x-request-id", request_id.to_owned())],
            body: SecretBytes::from(serde_json::to_vec(&value).unwrap_or_default()),
        }
    }
}

/// The HTTP status and Huawei-style code of an engine error kind.
fn code(kind: ErrorCode) -> (u16, &'static str) {
    use ErrorCode::*;
    match kind {
        SignatureFailure | SignatureExpire | SecretIdNotFound | InvalidAuthorization => {
            (401, "APIGW.0301")
        }
        InvalidAction => (404, "APIGW.0101"),
        UnauthorizedOperation => (403, "KMS.0303"),
        CmkNotFound => (404, "KMS.0207"),
        AliasAlreadyExists => (409, "KMS.0210"),
        CmkDisabled
        | CmkArchived
        | CmkShouldBeDisabled
        | CmkNotPendingDelete
        | CmkStateNotSupport
        | CmkUsedByCloudProduct => (400, "KMS.0209"),
        InternalError | KeystoreIo | KeystoreBusy | AuditUnavailable | KeystoreDamaged
        | FailedOperation => (500, "KMS.0001"),
        RequestSizeLimitExceeded => (413, "KMS.0413"),
        DecryptError | InvalidCiphertext => (400, "KMS.0205"),
        _ => (400, "KMS.0203"),
    }
}

impl Call for HuaweiRequest {
    fn is_change(&self) -> bool {
        self.1.as_ref().is_some_and(|r| r.change)
    }

    fn run(&self, kms: &dyn ServedKms, request_id: &str, may_wait: bool) -> Outcome {
        let route = self.1.as_ref();
        let action = route.as_ref().map_or("huawei", |r| r.operation);
        let body = self.0.json_body();
        let key = body
            .as_ref()
            .ok()
            .and_then(|b| b.get("key_id"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        let result = self.authenticate(kms).and_then(|access_key| {
            let Some(route) = route else {
                return Err(KmsError::new(
                    ErrorCode::InvalidAction,
                    keyconsole_base::text!("errors.no_such_operation"),
                ));
            };
            let caller = Caller::api(&access_key, Language::English, request_id, may_wait)
                .from_address(self.0.peer)
                .in_dialect("huawei");
            let served = Served {
                kms,
                caller,
                body: body?,
            };
            if route.secret.is_some() || csms::serves(route.operation) {
                csms::serve(&served, route, &self.0)
            } else {
                served.run(route.operation, &self.0.query)
            }
        });
        Outcome {
            action,
            key_id: loggable_target(kms, key.as_deref(), route.and_then(|r| r.secret.as_deref())),
            result,
        }
    }

    fn language(&self) -> Language {
        Language::English
    }
}

impl HuaweiRequest {
    fn authenticate(&self, kms: &dyn ServedKms) -> Result<String> {
        self.0
            .verified(|received| {
                signature::verify(received, kms.now(), |ak| {
                    kms.api_secret_key(Cloud::Huawei, ak).ok()
                })
                .map(str::to_owned)
            })
            .map_err(|e| {
                e.refusal(keyconsole_base::text!(
                    "errors.incorrect_iam_authentication_information"
                ))
            })
    }
}

/// One request's service, caller and JSON body.
pub(crate) struct Served<'a> {
    kms: &'a dyn ServedKms,
    caller: Caller,
    body: Map<String, Value>,
}

pub(crate) fn reply(value: Value) -> Result<Answer> {
    match value {
        Value::Object(map) => Ok(map),
        _ => Ok(Answer::new()),
    }
}

pub(crate) fn missing(name: &str) -> KmsError {
    KmsError::new(
        ErrorCode::MissingParameter,
        keyconsole_base::text!("errors.the_parameter_name_is_missing", name = name),
    )
}

/// Huawei's `encryption_algorithm` as the engine's public-key encryption, `None` for the
/// symmetric default.
fn public_encryption(name: Option<String>) -> Result<Option<&'static str>> {
    match name.as_deref() {
        None | Some("") | Some("SYMMETRIC_DEFAULT") => Ok(None),
        Some("RSAES_OAEP_SHA_256") => Ok(Some("RSAES_OAEP_SHA_256")),
        Some("RSAES_OAEP_SHA_1") => Ok(Some("RSAES_OAEP_SHA_1")),
        Some("SM2_ENCRYPT") => Ok(Some("SM2_C1C3C2_ASN1")),
        Some(_) => Err(invalid("encryption_algorithm")),
    }
}

/// Huawei's signing algorithm as the engine's (Tencent's) name; the SHA-384/512 RSA variants and
/// Ed25519 have no key kind here.
fn sign_algorithm(name: &str) -> Result<&'static str> {
    Ok(match name {
        "RSASSA_PSS_SHA_256" => "RSA_PSS_SHA_256",
        "RSASSA_PKCS1_V1_5_SHA_256" => "RSA_PKCS1_SHA_256",
        "ECDSA_SHA_256" => "ECC_P256_R1",
        "ECDSA_SHA_384" => "ECDSA384",
        "SM2DSA_SM3" => "SM2DSA",
        _ => return Err(invalid("signing_algorithm")),
    })
}

use keyconsole_base::util::hex;

fn unhex(text: &str, name: &str) -> Result<Vec<u8>> {
    let text = text.trim();
    if !text.len().is_multiple_of(2) {
        return Err(invalid(name));
    }
    (0..text.len())
        .step_by(2)
        .map(|i| {
            text.get(i..i + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                .ok_or_else(|| invalid(name))
        })
        .collect()
}

/// Huawei's KeyDetails for a key (every field a string, as the model says).
fn key_details(key: &KeyMetadata) -> Value {
    let usage = KeyUsage::from_name(&key.key_usage);
    json!({
        "key_id": key.key_id,
        "domain_id": "0",
        "key_alias": key.alias,
        "realm": "local",
        "key_spec": key.key_spec,
        "key_usage": match usage {
            Some(u) if u.signs() => "SIGN_VERIFY",
            _ => "ENCRYPT_DECRYPT",
        },
        "key_description": key.description,
        "creation_date": (key.create_time * 1000).to_string(),
        "scheduled_deletion_date": if key.deletion_date == 0 { String::new() } else { (key.deletion_date * 1000).to_string() },
        "key_state": state_number(key.key_state),
        "default_key_flag": "0",
        "key_type": "1",
        "expiration_time": if key.valid_to == 0 { String::new() } else { (key.valid_to * 1000).to_string() },
        "origin": if key.origin == "EXTERNAL" { "external" } else { "kms" },
        "key_rotation_enabled": if key.key_rotation_enabled { "true" } else { "false" },
        "sys_enterprise_project_id": "0",
        "keystore_id": "0",
    })
}

/// Huawei's key_state: "2" enabled, "3" disabled (archived keys too: they still decrypt), "4"
/// pending deletion, "5" pending import.
fn state_number(state: KeyState) -> &'static str {
    match state {
        KeyState::Enabled => "2",
        KeyState::Disabled | KeyState::Archived => "3",
        KeyState::PendingDelete => "4",
        KeyState::PendingImport => "5",
    }
}

/// The canonical context Huawei's `additional_authenticated_data` binds a ciphertext to: the
/// same as Tencent's EncryptionContext `{"aad": "<the string>"}`, so ciphertexts cross dialects.
fn aad_context(body: &Map<String, Value>) -> Result<CanonicalContext> {
    match body
        .get("additional_authenticated_data")
        .and_then(Value::as_str)
    {
        None | Some("") => Ok(CanonicalContext::none()),
        Some(aad) => CanonicalContext::parse(Some(&json!({ "aad": aad }).to_string())),
    }
}

impl Served<'_> {
    pub(crate) fn text(&self, name: &str) -> Option<String> {
        match self.body.get(name)? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    pub(crate) fn required(&self, name: &str) -> Result<String> {
        self.text(name)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| missing(name))
    }

    /// A number the model types as a string (`"512"`), given as either.
    pub(crate) fn number(&self, name: &str) -> Result<Option<u64>> {
        match self.text(name) {
            None => Ok(None),
            Some(text) => text.trim().parse().map(Some).map_err(|_| invalid(name)),
        }
    }

    fn key(&self) -> Result<String> {
        self.required("key_id")
    }

    fn run(&self, operation: &str, query: &str) -> Result<Answer> {
        let (kms, caller) = (self.kms, &self.caller);
        match operation {
            "projects" => {
                let name = query
                    .split('&')
                    .find_map(|p| p.strip_prefix("name="))
                    .unwrap_or("local");
                reply(json!({"projects": [{"id": "keyconsole", "name": name, "domain_id": "0"}]}))
            }
            "create-key" => {
                let spec = self.text("key_spec").unwrap_or_else(|| "AES_256".into());
                let usage = self.text("key_usage");
                let (key_usage, spec) = create_usage(&spec, usage.as_deref())?;
                let key = kms.create_key(
                    caller,
                    CreateKey {
                        alias: self.required("key_alias")?,
                        description: self.text("key_description").unwrap_or_default(),
                        key_usage: Some(key_usage.as_str().to_owned()),
                        spec,
                        external: self.text("origin").as_deref() == Some("external"),
                        ..CreateKey::default()
                    },
                )?;
                reply(
                    json!({"key_info": {"key_id": key.key_id, "domain_id": "0", "region_id": "local"}}),
                )
            }
            "describe-key" => {
                let key = kms.describe_key(caller, &self.key()?)?;
                reply(json!({"key_info": key_details(&key)}))
            }
            "list-keys" => self.list_keys(),
            "enable-key" | "disable-key" => {
                let key = self.key()?;
                let change = if operation == "enable-key" {
                    KeyChange::Enable
                } else {
                    KeyChange::Disable
                };
                kms.change_keys(caller, std::slice::from_ref(&key), change)?;
                let now = kms.describe_key(caller, &key)?;
                reply(
                    json!({"key_info": {"key_id": now.key_id, "key_state": state_number(now.key_state)}}),
                )
            }
            "schedule-key-deletion" => {
                let key = self.key()?;
                let days = self
                    .number("pending_days")?
                    .ok_or_else(|| missing("pending_days"))?;
                let days = u32::try_from(days).map_err(|_| invalid("pending_days"))?;
                kms.change_keys(
                    caller,
                    std::slice::from_ref(&key),
                    KeyChange::ScheduleDeletion { days },
                )?;
                let now = kms.describe_key(caller, &key)?;
                reply(json!({"key_id": now.key_id, "key_state": state_number(now.key_state)}))
            }
            "cancel-key-deletion" => {
                let key = self.key()?;
                kms.change_keys(
                    caller,
                    std::slice::from_ref(&key),
                    KeyChange::CancelDeletion,
                )?;
                let now = kms.describe_key(caller, &key)?;
                reply(json!({"key_id": now.key_id, "key_state": state_number(now.key_state)}))
            }
            "update-key-alias" => {
                let key = self.key()?;
                let alias = self.required("key_alias")?;
                kms.change_keys(
                    caller,
                    std::slice::from_ref(&key),
                    KeyChange::Update {
                        alias: Some(alias.clone()),
                        description: None,
                    },
                )?;
                reply(json!({"key_info": {"key_id": key, "key_alias": alias}}))
            }
            "update-key-description" => {
                let key = self.key()?;
                let description = self
                    .text("key_description")
                    .ok_or_else(|| missing("key_description"))?;
                kms.change_keys(
                    caller,
                    std::slice::from_ref(&key),
                    KeyChange::Update {
                        alias: None,
                        description: Some(description.clone()),
                    },
                )?;
                reply(json!({"key_info": {"key_id": key, "key_description": description}}))
            }
            "gen-random" => {
                let bits = self
                    .number("random_data_length")?
                    .ok_or_else(|| missing("random_data_length"))?;
                if bits == 0 || bits % 8 != 0 || bits > 8192 {
                    return Err(invalid("random_data_length"));
                }
                // Up to 8192 bits: the engine gives at most 1024 bytes a call, the same limit.
                let random = kms.generate_random(caller, u32::try_from(bits / 8).unwrap_or(0))?;
                reply(json!({"random_data": hex(&random)}))
            }
            "create-datakey" | "create-datakey-without-plaintext" => {
                let spec = match (self.number("datakey_length")?, self.text("key_spec")) {
                    (Some(bits), _) => {
                        if bits == 0 || bits % 8 != 0 || bits > 8192 {
                            return Err(invalid("datakey_length"));
                        }
                        DataKeySpec::Bytes(u32::try_from(bits / 8).unwrap_or(0))
                    }
                    (None, None) => DataKeySpec::Aes256,
                    (None, Some(spec)) => match spec.as_str() {
                        "AES_256" => DataKeySpec::Aes256,
                        "AES_128" | "SM4" => DataKeySpec::Aes128,
                        _ => return Err(invalid("key_spec")),
                    },
                };
                let data_key =
                    kms.generate_data_key(caller, &self.key()?, spec, &aad_context(&self.body)?)?;
                let blob = keyconsole_kms::Blob::decode(&data_key.ciphertext_blob)?.to_bytes();
                let mut answer = json!({"key_id": data_key.key_id, "cipher_text": hex(&blob)});
                if operation == "create-datakey" {
                    answer["plain_text"] = json!(hex(&data_key.plaintext));
                }
                reply(answer)
            }
            "encrypt-datakey" => {
                let bytes = self
                    .number("datakey_plain_length")?
                    .ok_or_else(|| missing("datakey_plain_length"))?;
                let given =
                    zeroize::Zeroizing::new(unhex(&self.required("plain_text")?, "plain_text")?);
                let len = usize::try_from(bytes).map_err(|_| invalid("datakey_plain_length"))?;
                if len == 0 || given.len() != len + 32 {
                    return Err(invalid("datakey_plain_length"));
                }
                let (key, digest) = given.split_at(len);
                if Sha256::digest(key).as_slice() != digest {
                    return Err(invalid("plain_text"));
                }
                let sealed = kms.encrypt(caller, &self.key()?, key, &aad_context(&self.body)?)?;
                let blob = keyconsole_kms::Blob::decode(&sealed.ciphertext_blob)?.to_bytes();
                reply(
                    json!({"key_id": sealed.key_id, "cipher_text": hex(&blob), "datakey_length": len.to_string()}),
                )
            }
            "decrypt-datakey" => {
                let blob = unhex(&self.required("cipher_text")?, "cipher_text")?;
                let blob = keyconsole_kms::Blob::from_bytes(&blob)?.encode();
                let opened = kms.decrypt(caller, &blob, &aad_context(&self.body)?)?;
                if let Some(expected) = self.number("datakey_cipher_length")?
                    && usize::try_from(expected).ok() != Some(opened.plaintext.len())
                {
                    return Err(invalid("datakey_cipher_length"));
                }
                reply(json!({
                    "data_key": hex(&opened.plaintext),
                    "datakey_length": opened.plaintext.len().to_string(),
                    "datakey_dgst": hex(&Sha256::digest(&opened.plaintext)),
                }))
            }
            "encrypt-data" => {
                let text = zeroize::Zeroizing::new(self.required("plain_text")?);
                let key = self.key()?;
                if let Some(algorithm) = public_encryption(self.text("encryption_algorithm"))? {
                    // A key pair's public half encrypts, as the cloud does it server-side.
                    let public = kms.public_key(caller, &key)?;
                    let sealed = keyconsole_kms::encrypt_for_caller(
                        &public.pem,
                        Some(algorithm),
                        text.as_bytes(),
                    )?;
                    return reply(json!({"key_id": public.key_id, "cipher_text": base64(&sealed)}));
                }
                let sealed =
                    kms.encrypt(caller, &key, text.as_bytes(), &aad_context(&self.body)?)?;
                reply(json!({"key_id": sealed.key_id, "cipher_text": sealed.ciphertext_blob}))
            }
            "decrypt-data" => {
                let cipher_text = self.required("cipher_text")?;
                let opened = match public_encryption(self.text("encryption_algorithm"))? {
                    Some(algorithm) => {
                        let ciphertext = unbase64(&cipher_text, "cipher_text")?;
                        // The engine names RSA paddings; SM2 is its default.
                        let rsa = algorithm.starts_with("RSAES").then_some(algorithm);
                        kms.asymmetric_decrypt(caller, &self.key()?, rsa, &ciphertext)?
                    }
                    None => kms.decrypt(caller, &cipher_text, &aad_context(&self.body)?)?,
                };
                let text = String::from_utf8_lossy(&opened.plaintext).into_owned();
                reply(json!({
                    "key_id": opened.key_id,
                    "plain_text": text,
                    "plain_text_base64": base64(&opened.plaintext),
                }))
            }
            "get-publickey" => {
                let public = kms.public_key(caller, &self.key()?)?;
                reply(json!({"key_id": public.key_id, "public_key": public.pem}))
            }
            "sign" | "verify" => {
                let key = self.key()?;
                let algorithm = sign_algorithm(&self.required("signing_algorithm")?)?;
                // Huawei's default is a digest (Tencent's is the raw message).
                let message_type = match self.text("message_type").as_deref() {
                    None | Some("") | Some("DIGEST") => MessageType::Digest,
                    Some("RAW") => MessageType::Raw,
                    Some(_) => return Err(invalid("message_type")),
                };
                let message = unbase64(&self.required("message")?, "message")?;
                let key_id = kms.key_id_of(&key).unwrap_or(key.clone());
                if operation == "sign" {
                    let signature = kms.sign(caller, &key, algorithm, message_type, &message)?;
                    return reply(json!({"key_id": key_id, "signature": base64(&signature)}));
                }
                let signature = unbase64(&self.required("signature")?, "signature")?;
                let valid =
                    kms.verify(caller, &key, algorithm, message_type, &message, &signature)?;
                reply(
                    json!({"key_id": key_id, "signature_valid": if valid { "true" } else { "false" }}),
                )
            }
            _ => Err(KmsError::new(
                ErrorCode::InvalidAction,
                keyconsole_base::text!("errors.no_such_operation"),
            )),
        }
    }

    fn list_keys(&self) -> Result<Answer> {
        let limit = self.number("limit")?.unwrap_or(1000).clamp(1, 1000) as usize;
        let offset = match self.text("marker").filter(|m| !m.is_empty()) {
            Some(marker) => marker.parse::<usize>().map_err(|_| invalid("marker"))?,
            None => 0,
        };
        let state = match self.text("key_state").as_deref() {
            None | Some("") => StateFilter::Any,
            Some("2") => StateFilter::Only(KeyState::Enabled),
            Some("3") => StateFilter::Only(KeyState::Disabled),
            Some("4") => StateFilter::Only(KeyState::PendingDelete),
            Some("5") => StateFilter::Only(KeyState::PendingImport),
            Some(_) => return Err(invalid("key_state")),
        };
        // As the cloud: without key_spec only AES_256 keys are listed; ALL lists every key.
        let spec = self.text("key_spec").unwrap_or_else(|| "AES_256".into());
        let every = self.kms.list_keys(
            &self.caller,
            &KeyQuery {
                state,
                owner: Some(keyconsole_kms::KeyOwner::User),
                ..KeyQuery::default()
            },
        )?;
        let matching: Vec<&KeyMetadata> = every
            .keys
            .iter()
            .filter(|k| spec == "ALL" || k.key_spec == spec)
            .collect();
        let page: Vec<&KeyMetadata> = matching.iter().skip(offset).take(limit).copied().collect();
        let next = offset + page.len();
        let truncated = next < matching.len();
        reply(json!({
            "keys": page.iter().map(|k| k.key_id.clone()).collect::<Vec<_>>(),
            "key_details": page.iter().map(|k| key_details(k)).collect::<Vec<_>>(),
            "next_marker": if truncated { next.to_string() } else { String::new() },
            "truncated": if truncated { "true" } else { "false" },
            "total": matching.len(),
        }))
    }
}

/// Huawei's key_spec and key_usage as keyconsole's usage and spec.
fn create_usage(spec: &str, usage: Option<&str>) -> Result<(KeyUsage, Option<KeySpec>)> {
    let signs = match usage {
        None | Some("") => !matches!(spec, "AES_256" | "SM4"),
        Some("SIGN_VERIFY") => true,
        Some("ENCRYPT_DECRYPT") => false,
        Some(_) => return Err(invalid("key_usage")),
    };
    Ok(match (spec, signs) {
        ("AES_256", false) => (KeyUsage::EncryptDecrypt, None),
        ("SM4", false) => (KeyUsage::EncryptDecrypt, Some(KeySpec::Sm4)),
        ("RSA_2048", false) => (KeyUsage::DecryptRsa2048, None),
        ("RSA_2048", true) => (KeyUsage::SignRsa2048, None),
        ("EC_P256", true) => (KeyUsage::SignEccP256, None),
        ("EC_P384", true) => (KeyUsage::SignEcdsa384, None),
        ("SM2", false) => (KeyUsage::DecryptSm2, None),
        ("SM2", true) => (KeyUsage::SignSm2, None),
        _ => return Err(invalid("key_spec")),
    })
}
