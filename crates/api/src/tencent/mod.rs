//! The Tencent Cloud API v3 dialect: TC3-HMAC-SHA256 signatures (with the service the request's
//! credential scope names), `X-TC-*` headers, parameters from a JSON body or a query string,
//! `{"Response": …}` answers with the cloud's codes, and one action table per service and version.
//!
//! `process` is the whole protocol as a plain function over an [`ApiRequest`], so tests drive it
//! without sockets. A new service (Secrets Manager) is one more table in `SERVICES`.

/// An action table: every action of a service with its handler, Read or Change.
/// Each action names the parameters it reads and, after `refuses`, those the cloud documents that
/// keyconsole does not do (refused unless given their default); anything else is unknown.
macro_rules! actions {
    ($($name:ident: $kind:ident [$($param:ident),* $(,)?] $(refuses [$($refused:ident),* $(,)?])?,)*) => {
        /// Every action the loopback API serves for this service.
        pub const ACTIONS: &[super::Action] = &[
            $(super::Action {
                name: stringify!($name),
                handler: super::Handler::$kind($name),
                params: &[$(stringify!($param)),*],
                refused: &[$($(stringify!($refused)),*)?],
            },)*
        ];
    };
}
pub(crate) use actions;

pub mod cam;
pub mod client;
pub mod cloudaudit;
pub mod codes;
pub mod kms;
pub mod params;
pub mod shapes;
pub mod signature;
pub mod ssm;

use std::borrow::Cow;

use keyconsole_base::util::i18n::{Language, Text};
use serde_json::{Map, Value, json};

use crate::dialect::{Call, Dialect};
use hyper::http::request::Parts;
use keyconsole_kms::{Caller, Cloud, ErrorCode, KmsError, Result, ServedKms};
use params::Params;
use signature::{Authorization, SignedParts};

/// The answer's content type, exactly: the Python SDK only parses errors under this very string.
pub const JSON_CONTENT_TYPE: &str = "application/json";

/// The fields of a successful answer (the server adds `RequestId`).
pub type Reply = Map<String, Value>;

/// What an action runs with: the service (the local engine, which the server is) and the caller
/// the request was signed by. Actions reach the engine only through the service's calls.
pub struct Served<'a> {
    pub kms: &'a dyn ServedKms,
    pub caller: Caller,
}

type ReadFn = fn(&Served, &Params) -> Result<Reply>;
type ChangeFn = fn(&Served, &Params) -> Result<Reply>;

/// Reads run on the async workers (they never wait); changes save with fsync and wait for the
/// keystore's lock, so the transport runs them on blocking threads.
#[derive(Clone, Copy)]
pub enum Handler {
    Read(ReadFn),
    Change(ChangeFn),
}

pub struct Action {
    pub name: &'static str,
    pub handler: Handler,
    /// The parameters the action reads.
    pub params: &'static [&'static str],
    /// Parameters the cloud documents for it that keyconsole does not do.
    pub refused: &'static [&'static str],
}

/// What a GET query or a v1 form carries beside the action's own parameters.
const COMMON_PARAMS: &[&str] = &[
    "Action",
    "Version",
    "Region",
    "Timestamp",
    "Nonce",
    "SecretId",
    "Signature",
    "SignatureMethod",
    "Token",
    "Language",
    "RequestClient",
];

impl Action {
    pub fn is_change(&self) -> bool {
        matches!(self.handler, Handler::Change(_))
    }

    /// No parameter is dropped unread: one the action does not have is `UnknownParameter`, and
    /// one it documents but keyconsole does not do is refused unless it asks for the default.
    /// Checked before the action runs, so nothing is half done.
    pub fn check_params(&self, params: &Params) -> Result<()> {
        for (name, value) in params.entries() {
            if self.params.contains(&name) || COMMON_PARAMS.contains(&name) {
                continue;
            }
            if self.refused.contains(&name) {
                if params::is_default(value) {
                    continue;
                }
                return Err(error(
                    ErrorCode::UnsupportedOperation,
                    keyconsole_base::text!(
                        "errors.parameter_not_supported",
                        name = name,
                        action = self.name
                    ),
                ));
            }
            return Err(error(
                ErrorCode::UnknownParameter,
                keyconsole_base::text!("errors.unknown_parameter", name = name, action = self.name),
            ));
        }
        Ok(())
    }

    pub fn run(&self, served: &Served, params: &Params) -> Result<Reply> {
        self.check_params(params)?;
        match self.handler {
            Handler::Read(read) => read(served, params),
            Handler::Change(change) => change(served, params),
        }
    }
}

/// One API service at one version: the name its signatures scope, and its actions.
pub struct Service {
    /// As people call it, for messages.
    pub title: &'static str,
    /// The service in the credential scope (`…/kms/tc3_request`).
    pub name: &'static str,
    /// X-TC-Version.
    pub version: &'static str,
    pub actions: &'static [Action],
}

impl Service {
    pub fn find(&self, action: &str) -> Option<&'static Action> {
        self.actions.iter().find(|a| a.name == action)
    }
}

/// Every service served, told apart by the version the request names.
pub const SERVICES: &[Service] = &[
    kms::SERVICE,
    ssm::SERVICE,
    cloudaudit::SERVICE,
    cam::SERVICE,
];

/// The service a request's X-TC-Version names.
pub fn service_of(version: &str) -> Option<&'static Service> {
    SERVICES.iter().find(|s| s.version == version)
}

/// The action a request names, in the service its version names.
fn find_action(request: &ApiRequest) -> Option<&'static Action> {
    let service = service_of(&request.version_name()?)?;
    service.find(&request.action_name()?)
}

/// Whether the request is a change (run it off the async workers).
pub fn is_change(request: &ApiRequest) -> bool {
    find_action(request).is_some_and(Action::is_change)
}

fn error(code: ErrorCode, message: impl Into<Text>) -> KmsError {
    KmsError::new(code, message)
}

/// An action name safe to log: requests may name anything.
pub fn loggable_action(action: Option<&str>) -> &'static str {
    match action {
        Some(name) => SERVICES
            .iter()
            .find_map(|s| s.find(name))
            .map_or("(unknown)", |action| action.name),
        None => "(none)",
    }
}

/// One HTTP request, reduced to what the protocol looks at.
#[derive(Debug, Clone, Default)]
pub struct ApiRequest {
    pub method: String,
    /// The raw query string (after `?`), as sent.
    pub query: String,
    pub content_type: String,
    pub host: String,
    pub action: Option<String>,
    pub version: Option<String>,
    pub timestamp: Option<String>,
    pub authorization: Option<String>,
    /// X-TC-Content-SHA256 (`UNSIGNED-PAYLOAD` when the body is not signed).
    pub content_sha256: Option<String>,
    /// X-TC-Language.
    pub language: Option<String>,
    /// Wiped when the request is dropped: it carries plaintexts.
    pub body: keyconsole_base::util::SecretBytes,
    /// Where it came from (policies' source address conditions); none when not over a socket.
    pub peer: Option<std::net::IpAddr>,
}

impl ApiRequest {
    fn is_form(&self) -> bool {
        self.content_type
            .starts_with("application/x-www-form-urlencoded")
    }

    /// Where a v1-signed request carries its parameters: a form body of a POST, else the query
    /// string. Everything the request does comes from there, and only from there.
    fn v1_carrier(&self) -> Cow<'_, str> {
        if self.method == "POST" && self.is_form() && !self.body.is_empty() {
            String::from_utf8_lossy(&self.body)
        } else {
            Cow::Borrowed(self.query.as_str())
        }
    }

    /// A v1 request has no Authorization header and names its action, version and signature
    /// in its parameters.
    fn is_v1(&self) -> bool {
        self.authorization.is_none()
            && form_urlencoded::parse(self.v1_carrier().as_bytes()).any(|(k, _)| k == "Signature")
    }

    fn v1_param(&self, name: &str) -> Option<String> {
        form_urlencoded::parse(self.v1_carrier().as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }

    /// A header's value as sent (a TC3 request), or a v1 request's signed parameter `v1_name`
    /// (the header is then never read: `check_v1_binding` refuses one that disagrees).
    fn header_or_v1_param<'a>(
        &'a self,
        header: &'a Option<String>,
        v1_name: &str,
    ) -> Option<Cow<'a, str>> {
        if self.is_v1() {
            return self.v1_param(v1_name).map(Cow::Owned);
        }
        header.as_deref().map(Cow::Borrowed)
    }

    /// X-TC-Action, or a v1 request's Action parameter.
    pub fn action_name(&self) -> Option<Cow<'_, str>> {
        self.header_or_v1_param(&self.action, "Action")
    }

    /// The `Language` parameter of a v1-signed request (TC3 requests send `X-TC-Language`).
    pub fn v1_language(&self) -> Option<String> {
        self.is_v1().then(|| self.v1_param("Language")).flatten()
    }

    fn version_name(&self) -> Option<Cow<'_, str>> {
        self.header_or_v1_param(&self.version, "Version")
    }

    /// A v1 signature covers its parameters and nothing else, so a v1 request may carry nothing
    /// beside them that could change what it does: no second set of parameters (a JSON body
    /// beside a signed query, a query beside a signed form body), no parameter named twice (the
    /// signature covers both values, the action would read one), and no `X-TC-*` header that
    /// names another action, version, timestamp or language than the signed parameters do.
    fn check_v1_binding(&self, params: &[(String, String)]) -> Result<()> {
        let refuse = |message: Text| Err(error(ErrorCode::SignatureFailure, message));
        let carried_in_body = self.method == "POST" && self.is_form() && !self.body.is_empty();
        let unsigned_rest = if carried_in_body {
            !self.query.is_empty()
        } else {
            !self.body.iter().all(u8::is_ascii_whitespace)
        };
        if unsigned_rest {
            return refuse(keyconsole_base::text!(
                "errors.a_v1_signed_request_carries_unsigned"
            ));
        }
        let mut names: Vec<&str> = params.iter().map(|(k, _)| k.as_str()).collect();
        names.sort_unstable();
        if let Some(pair) = names.windows(2).find(|pair| pair[0] == pair[1]) {
            return refuse(keyconsole_base::text!(
                "errors.the_v1_parameter_name_is_given_twice",
                name = pair[0]
            ));
        }
        let signed = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v);
        for (header, value, name) in [
            ("X-TC-Action", &self.action, "Action"),
            ("X-TC-Version", &self.version, "Version"),
            ("X-TC-Timestamp", &self.timestamp, "Timestamp"),
            ("X-TC-Language", &self.language, "Language"),
        ] {
            if let Some(value) = value
                && signed(name) != Some(value)
            {
                return refuse(keyconsole_base::text!(
                    "errors.the_header_header_disagrees_with_the_signed",
                    header = header,
                    name = name
                ));
            }
        }
        Ok(())
    }
}

/// How a request proved who sent it.
enum Authorized {
    /// TC3-HMAC-SHA256, scoped to a service.
    Tc3(Authorization),
    /// HmacSHA1/HmacSHA256 (v1): no service scope.
    V1 { secret_id: String },
}

impl Authorized {
    /// The SecretId the request was signed with: who the service is told asks.
    fn secret_id(&self) -> &str {
        match self {
            Authorized::Tc3(authorization) => &authorization.secret_id,
            Authorized::V1 { secret_id } => secret_id,
        }
    }
}

/// What `process` did: the answer's fields or the error, and what the access log records.
pub use crate::dialect::Outcome;

/// Tencent Cloud's API v3 as a dialect of the transport: its requests carry `X-TC-Action` (or
/// sign it as a v1 parameter); it is also the dialect of requests no other recognizes.
pub struct TencentDialect;

fn header(head: &Parts, name: &str) -> Option<String> {
    crate::signed::header_value(head, name).map(str::to_owned)
}

impl Dialect for TencentDialect {
    fn name(&self) -> &'static str {
        "tencent"
    }

    fn recognizes(&self, head: &Parts) -> bool {
        head.headers.contains_key("x-tc-action")
            || crate::signed::header_value(head, "authorization")
                .is_some_and(|a| a.starts_with("TC3-HMAC-SHA256"))
    }

    fn read(&self, head: &Parts, body: keyconsole_base::util::SecretBytes) -> Box<dyn Call> {
        Box::new(ApiRequest {
            method: head.method.as_str().to_owned(),
            query: head.uri.query().unwrap_or_default().to_owned(),
            content_type: header(head, "content-type").unwrap_or_default(),
            host: header(head, "host").unwrap_or_default(),
            action: header(head, "x-tc-action"),
            version: header(head, "x-tc-version"),
            timestamp: header(head, "x-tc-timestamp"),
            authorization: header(head, "authorization"),
            content_sha256: header(head, "x-tc-content-sha256"),
            language: header(head, "x-tc-language"),
            body,
            peer: crate::dialect::peer(head),
        })
    }

    fn loggable_action(&self, head: &Parts) -> &'static str {
        loggable_action(header(head, "x-tc-action").as_deref())
    }

    fn language(&self, head: &Parts) -> Language {
        response_language(header(head, "x-tc-language").as_deref())
    }

    fn code(&self, action: &str, kind: ErrorCode) -> &'static str {
        codes::code_for(action, kind)
    }

    fn answer(
        &self,
        action: &str,
        result: Result<Reply>,
        request_id: &str,
        language: Language,
    ) -> crate::dialect::Written {
        crate::dialect::Written {
            status: 200,
            content_type: JSON_CONTENT_TYPE,
            headers: Vec::new(),
            body: response_body(action, result, request_id, language),
        }
    }
}

impl Call for ApiRequest {
    fn is_change(&self) -> bool {
        is_change(self)
    }

    fn run(&self, kms: &dyn ServedKms, request_id: &str, may_wait: bool) -> Outcome {
        serve(kms, self, request_id, may_wait)
    }

    /// A v1 request's language is the one it signed.
    fn language(&self) -> Language {
        response_language(
            self.v1_language()
                .or_else(|| self.language.clone())
                .as_deref(),
        )
    }
}

/// The KeyId to log for what a caller put in KeyId: only when it names a key this keystore holds,
/// so a secret pasted into the field by mistake never reaches the log. (A SecretName is logged
/// the same way, as `secret:NAME`, only when the secret exists.)
fn loggable_key(kms: &dyn ServedKms, key: &str) -> Option<String> {
    kms.key_id_of(key)
}

/// Authenticates, then runs the action, as a request that may wait for the keystore's lock.
/// Never panics on input. (Tests drive the protocol through this, without sockets.)
pub fn process(kms: &dyn ServedKms, request: &ApiRequest) -> Outcome {
    let request_id = uuid::Uuid::new_v4().to_string();
    serve(kms, request, &request_id, true)
}

/// Authenticates, then runs the action through the service as the SecretId that signed it.
/// Reads the published keyring as it is: the transport catches up with other processes' saves
/// (`Kms::is_current`) before it calls this.
fn serve(kms: &dyn ServedKms, request: &ApiRequest, request_id: &str, may_wait: bool) -> Outcome {
    let action = loggable_action(request.action_name().as_deref());
    let mut key_id = None;
    let result = authenticate(kms, request).and_then(|authorized| {
        let (action, params) = parse(request, &authorized)?;
        let served = Served {
            kms,
            caller: Caller::api(
                authorized.secret_id(),
                request.language(),
                request_id,
                may_wait,
            )
            .from_address(request.peer)
            .in_dialect("tencent"),
        };
        let key = params.str("KeyId").ok().flatten();
        // A secret is named before the action runs (deleting it would leave nothing to look up).
        let secret = match key {
            None => params
                .str("SecretName")
                .ok()
                .flatten()
                .and_then(|name| kms.secret_named(name))
                .map(|name| format!("secret:{name}")),
            Some(_) => None,
        };
        let result = action.run(&served, &params);
        // An answer names its key itself; a refusal is logged under the key it was asked about,
        // looked up only then, so a successful request does not pay for a second lookup (keys
        // are never removed at once, so the lookup after the action still finds it).
        let answered = match &result {
            Ok(reply) => reply
                .get("KeyId")
                .and_then(Value::as_str)
                .map(str::to_owned),
            Err(_) => None,
        };
        key_id = answered
            .or_else(|| key.and_then(|key| loggable_key(kms, key)))
            .or(secret);
        result
    });
    Outcome {
        action,
        key_id,
        result,
    }
}

/// Checks the signature with the SecretKey of the published keyring: TC3-HMAC-SHA256 from the
/// Authorization header, or the v1 signature from the parameters.
fn authenticate(kms: &dyn ServedKms, request: &ApiRequest) -> Result<Authorized> {
    if request.method != "GET" && request.method != "POST" {
        return Err(error(
            ErrorCode::UnsupportedRequestMethod,
            keyconsole_base::text!(
                "errors.method_is_not_supported_use_post",
                method = request.method
            ),
        ));
    }
    if request.is_v1() {
        let params: Vec<(String, String)> = form_urlencoded::parse(request.v1_carrier().as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let secret_id = params
            .iter()
            .find(|(k, _)| k == "SecretId")
            .map(|(_, v)| v.as_str())
            .ok_or_else(|| {
                error(
                    ErrorCode::MissingParameter,
                    keyconsole_base::text!("errors.the_secretid_parameter_is_missing"),
                )
            })?;
        let secret_key = kms.api_secret_key(Cloud::Tencent, secret_id)?;
        signature::verify_v1(
            &secret_key,
            &request.method,
            &request.host,
            &params,
            kms.now(),
        )?;
        let secret_id = secret_id.to_owned();
        request.check_v1_binding(&params)?;
        return Ok(Authorized::V1 { secret_id });
    }
    let header = request.authorization.as_deref().ok_or_else(|| {
        error(
            ErrorCode::InvalidAuthorization,
            keyconsole_base::text!("errors.the_authorization_header_is_missing_and"),
        )
    })?;
    let authorization = Authorization::parse(header)?;
    let timestamp = request
        .timestamp
        .as_deref()
        .ok_or_else(|| {
            error(
                ErrorCode::MissingParameter,
                keyconsole_base::text!("errors.the_x_tc_timestamp_header_is"),
            )
        })?
        .trim()
        .parse::<i64>()
        .map_err(|_| {
            error(
                ErrorCode::InvalidParameter,
                keyconsole_base::text!("errors.x_tc_timestamp_must_be_unix"),
            )
        })?;
    let parts = SignedParts {
        method: &request.method,
        query: &request.query,
        content_type: &request.content_type,
        host: &request.host,
        payload: &request.body,
        unsigned_payload: request.content_sha256.as_deref() == Some("UNSIGNED-PAYLOAD"),
        timestamp,
    };
    let secret_key = kms.api_secret_key(Cloud::Tencent, &authorization.secret_id)?;
    signature::verify(&secret_key, &parts, &authorization, kms.now())?;
    Ok(Authorized::Tc3(authorization))
}

/// The action (from the service the version names; a TC3 signature must scope that service) and
/// the parameters.
fn parse(request: &ApiRequest, authorized: &Authorized) -> Result<(&'static Action, Params)> {
    let Some(version) = request.version_name() else {
        return Err(error(
            ErrorCode::MissingParameter,
            keyconsole_base::text!("errors.the_x_tc_version_header_is"),
        ));
    };
    let version: &str = &version;
    let service = service_of(version).ok_or_else(|| {
        let served: Vec<&str> = SERVICES.iter().map(|s| s.version).collect();
        error(
            ErrorCode::NoSuchVersion,
            keyconsole_base::text!(
                "errors.api_version_version_is_not_served",
                version = version,
                served = served.join(" / ")
            ),
        )
    })?;
    // The Node.js and Go SDKs take the service from the endpoint's first label (`127` for
    // 127.0.0.1): a scope naming no service served here is accepted (the SecretKey still keys the
    // signature). One naming the other served service is refused, so a request signed for
    // Secrets Manager is never taken as a KMS one.
    if let Authorized::Tc3(authorization) = authorized
        && authorization.service != service.name
        && SERVICES.iter().any(|s| s.name == authorization.service)
    {
        return Err(error(
            ErrorCode::SignatureFailure,
            keyconsole_base::text!(
                "errors.the_signature_s_credential_scope_names",
                service = authorization.service,
                version = version,
                name = service.name
            ),
        ));
    }
    let name = request.action_name();
    let name = name.as_deref().ok_or_else(|| {
        error(
            ErrorCode::MissingParameter,
            keyconsole_base::text!("errors.the_x_tc_action_header_is"),
        )
    })?;
    let action = service.find(name).ok_or_else(|| {
        error(
            ErrorCode::InvalidAction,
            keyconsole_base::text!(
                "errors.no_such_action_in_the_title",
                title = service.title,
                version = version
            ),
        )
    })?;
    let params = match (request.method.as_str(), request.is_form()) {
        _ if matches!(authorized, Authorized::V1 { .. }) => {
            Params::from_form(&request.v1_carrier())
        }
        ("POST", false) => Params::from_json(&request.body)?,
        ("POST", true) => Params::from_form(&String::from_utf8_lossy(&request.body)),
        _ => Params::from_form(&request.query),
    };
    Ok((action, params))
}

/// About how many bytes `map` serializes to (a little more, so strings with a few escapes fit).
fn json_size_hint(map: &Map<String, Value>) -> usize {
    fn value_size(value: &Value) -> usize {
        match value {
            Value::String(text) => text.len() + text.len() / 16 + 2,
            Value::Array(items) => 2 + items.iter().map(|v| value_size(v) + 1).sum::<usize>(),
            Value::Object(map) => json_size_hint(map),
            Value::Null | Value::Bool(_) | Value::Number(_) => 24,
        }
    }
    2 + map
        .iter()
        .map(|(key, value)| key.len() + 4 + value_size(value))
        .sum::<usize>()
}

/// The language of error messages for a request's `X-TC-Language` (or v1 `Language`): Chinese for
/// `zh-CN`, as the cloud does; English for `en-US`, anything else, or nothing.
pub fn response_language(requested: Option<&str>) -> Language {
    match requested.map(str::trim) {
        Some(tag) if tag.eq_ignore_ascii_case("zh-CN") => Language::SimplifiedChinese,
        _ => Language::English,
    }
}

/// `{"Response": {...fields, "RequestId"}}`, or `{"Response": {"Error": {Code, Message}, "RequestId"}}`
/// with the message in `language`.
/// The answer's bytes, serialized without leaving copies behind (the reply's strings and every
/// buffer on the way are wiped).
pub fn response_body(
    action: &str,
    result: Result<Reply>,
    request_id: &str,
    language: Language,
) -> keyconsole_base::util::SecretBytes {
    let mut response = Map::new();
    match result {
        Ok(mut fields) => {
            fields.insert("RequestId".to_owned(), Value::String(request_id.to_owned()));
            response.insert("Response".to_owned(), Value::Object(fields));
        }
        Err(e) => {
            response.insert(
                "Response".to_owned(),
                json!({
                    "Error": {"Code": codes::code_for(action, e.code), "Message": e.localized(language)},
                    "RequestId": request_id,
                }),
            );
        }
    }
    // Room for the whole answer up front: each time the buffer grows, the old one is wiped and
    // copied (an Encrypt answer grew twice from a fixed 512 bytes).
    let mut writer =
        keyconsole_base::util::ZeroizingWriter::with_capacity(json_size_hint(&response));
    let _ = write_json_object(&mut writer, &response);
    params::wipe_map(&mut response);
    writer.into_inner()
}

/// `map` as compact JSON, byte for byte what serde_json writes, except that a string with nothing
/// to escape (base64, ids: nearly every string of an answer) is copied as it is rather than
/// checked byte by byte: a third of the time spent writing an Encrypt answer went there.
fn write_json_object(
    out: &mut impl std::io::Write,
    map: &Map<String, Value>,
) -> std::io::Result<()> {
    out.write_all(b"{")?;
    for (index, (key, value)) in map.iter().enumerate() {
        if index > 0 {
            out.write_all(b",")?;
        }
        write_json_string(out, key)?;
        out.write_all(b":")?;
        write_json_value(out, value)?;
    }
    out.write_all(b"}")
}

fn write_json_value(out: &mut impl std::io::Write, value: &Value) -> std::io::Result<()> {
    match value {
        Value::String(text) => write_json_string(out, text),
        Value::Object(map) => write_json_object(out, map),
        Value::Array(items) => {
            out.write_all(b"[")?;
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.write_all(b",")?;
                }
                write_json_value(out, item)?;
            }
            out.write_all(b"]")
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {
            serde_json::to_writer(&mut *out, value).map_err(std::io::Error::other)
        }
    }
}

fn write_json_string(out: &mut impl std::io::Write, text: &str) -> std::io::Result<()> {
    // serde_json escapes quotes, backslashes and control characters only. Checked a block at a
    // time without stopping at the first hit, which the compiler turns into vector compares (a
    // byte at a time, this scan was 4% of an Encrypt's CPU: its answer is 1.4 KB of base64).
    let plain = text.as_bytes().chunks(64).all(|block| {
        block.iter().fold(true, |plain, &b| {
            plain & (b >= 0x20) & (b != b'"') & (b != b'\\')
        })
    });
    if plain {
        out.write_all(b"\"")?;
        out.write_all(text.as_bytes())?;
        out.write_all(b"\"")
    } else {
        serde_json::to_writer(&mut *out, text).map_err(std::io::Error::other)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Map, Value, json};

    /// The answer's writer gives exactly serde_json's bytes, escapes and all.
    #[test]
    fn answers_are_written_as_serde_json_writes_them() {
        let answers = [
            json!({"Response": {"CiphertextBlob": "A+/=".repeat(300), "KeyId": "k", "N": 3,
                                "F": 1.5, "Yes": true, "No": null, "Empty": "", "List": [],
                                "Keys": [{"KeyId": "a"}, {"KeyId": "b\u{1}"}], "Map": {}}}),
            json!({"Response": {"Error": {"Code": "InvalidParameter",
                                          "Message": "quote \" backslash \\ tab \t newline \n \u{7f} 中文 \u{1f600}"},
                                "RequestId": "r"}}),
        ];
        for answer in answers {
            let map: Map<String, Value> = answer.as_object().unwrap().clone();
            let mut written = Vec::new();
            super::write_json_object(&mut written, &map).unwrap();
            assert_eq!(
                String::from_utf8(written).unwrap(),
                serde_json::to_string(&answer).unwrap()
            );
        }
    }

    /// The buffer is sized once: the hint covers what the answer serializes to.
    #[test]
    fn the_size_hint_covers_the_serialized_answer() {
        let answers = [
            json!({"Response": {"CiphertextBlob": "A".repeat(1452), "KeyId": "k".repeat(36),
                                "RequestId": "r".repeat(36)}}),
            json!({"Response": {"Error": {"Code": "InvalidParameter",
                                          "Message": "quote \" backslash \\ tab \t newline \n"},
                                "RequestId": "r"}}),
            json!({"Response": {"Keys": [{"KeyId": "a"}, {"KeyId": "b"}], "TotalCount": 2,
                                "Truncated": false, "Nothing": null}}),
        ];
        for answer in answers {
            let map: Map<String, Value> = answer.as_object().unwrap().clone();
            let size = serde_json::to_vec(&answer).unwrap().len();
            assert!(super::json_size_hint(&map) >= size, "{answer}");
        }
    }
}
