//! The service boundary over the wire: a [`KmsService`] that asks a `keyconsole serve` (or any
//! endpoint of the Tencent Cloud KMS and SSM APIs) instead of a local keystore. It signs every
//! request with TC3-HMAC-SHA256, as the official SDKs do, and reads the cloud's answers back into
//! the engine's plain data and codes.
//!
//! Each call opens one connection (TLS for `https://`), with a deadline on connecting (10 s) and on
//! the whole exchange (30 s); answers over 1 MiB are refused. `http://` is for loopback only: a
//! plaintext or a secret's value must not cross a network unencrypted.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::http::SecretBuf;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http_body_util::{BodyExt, Full, Limited};
use serde_json::{Map, Value, json};
use zeroize::Zeroizing;

use super::signature::{SignedParts, authorization, scope_date};
use keyconsole_base::util::database::DbEndpoint;
use keyconsole_base::util::db_accounts::GrantLevel;
use keyconsole_base::util::i18n::Language;
use keyconsole_base::util::{SecretBytes, SecretString};
use keyconsole_kms::keys::import::ImportParametersOut;
use keyconsole_kms::service::{
    Caller, KeyChange, KeyChanged, KmsService, SecretChange, SecretChanged,
};
use keyconsole_kms::{
    CanonicalContext, CreateKey, CreateSecret, DataKey, DataKeySpec, Decrypted, Encrypted,
    ErrorCode, KeyMetadata, KeyOwner, KeyPage, KeyQuery, KeyState, KmsError, LIST_LIMIT_MAX,
    MessageType, Order, PublicKey, ReEncrypted, Result, SecretMetadata, SecretPage, SecretQuery,
    SecretState, SecretStateFilter, SecretType, SecretValue, SshKeyPair, TagFilter,
    secrets::{
        CreateDatabaseSecret, CreateProductSecret, CreateSshKeyPairSecret, ProductTask,
        RotationDetail, TaskStatus,
    },
};

const KMS_VERSION: &str = "2019-01-18";
const SSM_VERSION: &str = "2019-09-23";
const CLOUDAUDIT_VERSION: &str = "2019-03-19";
const CAM_VERSION: &str = "2019-01-16";
/// The newest events the console reads of a server's trail (CloudAudit answers 50 a call).
pub const REMOTE_AUDIT_EVENTS_MAX: usize = 2_000;
const CONNECT_DEADLINE: Duration = Duration::from_secs(10);
const CALL_DEADLINE: Duration = Duration::from_secs(30);
const ANSWER_MAX_BYTES: usize = 1 << 20;

/// Where a server is: `https://HOST[:PORT]` (443 by default) or, on loopback only,
/// `http://HOST[:PORT]` (80).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub tls: bool,
    pub host: String,
    pub port: u16,
}

impl Endpoint {
    pub fn parse(text: &str) -> Result<Endpoint> {
        let bad = || {
            KmsError::new(
                ErrorCode::InvalidParameterValue,
                keyconsole_base::text!("errors.endpoint_is_text_write_it_as", text = text),
            )
        };
        let trimmed = text.trim();
        let (tls, rest) = if let Some(rest) = strip_prefix_ignore_case(trimmed, "https://") {
            (true, rest)
        } else if let Some(rest) = strip_prefix_ignore_case(trimmed, "http://") {
            (false, rest)
        } else {
            return Err(bad());
        };
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        if authority.is_empty() || authority.contains(['/', '?', '#', '@', ' ']) {
            return Err(bad());
        }
        let default_port = if tls { 443 } else { 80 };
        let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
            // An IPv6 address: [::1]:8443
            let (host, after) = bracketed.split_once(']').ok_or_else(bad)?;
            let port = match after.strip_prefix(':') {
                Some(port) => port.parse().map_err(|_| bad())?,
                None if after.is_empty() => default_port,
                None => return Err(bad()),
            };
            (host.to_owned(), port)
        } else {
            match authority.rsplit_once(':') {
                Some((host, port)) => (host.to_owned(), port.parse().map_err(|_| bad())?),
                None => (authority.to_owned(), default_port),
            }
        };
        if host.is_empty() || port == 0 {
            return Err(bad());
        }
        let endpoint = Endpoint { tls, host, port };
        if !tls && !endpoint.is_loopback() {
            return Err(KmsError::new(
                ErrorCode::InvalidParameterValue,
                keyconsole_base::text!("errors.http_only_on_loopback", text = text),
            ));
        }
        Ok(endpoint)
    }

    fn is_loopback(&self) -> bool {
        self.host.eq_ignore_ascii_case("localhost")
            || self
                .host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    }

    /// The Host header (and the signed `host`): the port only when it is not the scheme's own.
    fn host_header(&self, host: &str) -> String {
        let default_port = if self.tls { 443 } else { 80 };
        let host = if host.contains(':') {
            format!("[{host}]")
        } else {
            host.to_owned()
        };
        if self.port == default_port {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scheme = if self.tls { "https" } else { "http" };
        write!(f, "{scheme}://{}", self.host_header(&self.host))
    }
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

/// What a connection needs: where, who (the API credential) and whom to trust.
pub struct RemoteSettings {
    pub endpoint: Endpoint,
    pub secret_id: String,
    pub secret_key: SecretString,
    /// A PEM file of the CA that signed the server's certificate (`keyconsole api ca` prints
    /// keyconsole's own); the system's trusted CAs when not given.
    pub ca_file: Option<std::path::PathBuf>,
    /// The X-TC-Region header the cloud needs (a `keyconsole serve` ignores it).
    pub region: String,
}

/// A [`KmsService`] on a remote server, over the Tencent Cloud API.
pub struct RemoteService {
    endpoint: Endpoint,
    tls: Option<tokio_rustls::TlsConnector>,
    secret_id: String,
    secret_key: SecretString,
    region: String,
    runtime: tokio::runtime::Runtime,
    /// The connection of the last call, kept open for the next (a key list of 100,000 keys is
    /// 500 calls; each new TLS connection costs a handshake).
    idle: std::sync::Mutex<Option<Connection>>,
}

/// An open HTTP/1.1 connection to the server: its request half and the task that drives it.
struct Connection {
    host: String,
    sender: hyper::client::conn::http1::SendRequest<Full<SecretBuf>>,
    driver: tokio::task::JoinHandle<()>,
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.driver.abort();
    }
}

impl std::fmt::Debug for RemoteService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteService")
            .field("endpoint", &self.endpoint.to_string())
            .field("secret_id", &self.secret_id)
            .finish_non_exhaustive()
    }
}

fn unreachable(endpoint: &Endpoint, why: impl std::fmt::Display) -> KmsError {
    KmsError::new(
        ErrorCode::ServerUnreachable,
        keyconsole_base::text!(
            "errors.server_unreachable",
            endpoint = endpoint.to_string(),
            why = why.to_string()
        ),
    )
}

impl RemoteService {
    /// Prepares the connection (reads the CA file); the server is first asked by the first call.
    pub fn new(settings: RemoteSettings) -> Result<RemoteService> {
        let endpoint = settings.endpoint;
        if settings.secret_id.trim().is_empty() || settings.secret_key.is_empty() {
            return Err(KmsError::new(
                ErrorCode::MissingParameter,
                keyconsole_base::text!("errors.remote_needs_credentials"),
            ));
        }
        let tls = if endpoint.tls {
            Some(tls_connector(settings.ca_file.as_deref())?)
        } else {
            None
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()
            .map_err(|e| unreachable(&endpoint, e))?;
        Ok(RemoteService {
            endpoint,
            tls,
            secret_id: settings.secret_id,
            secret_key: settings.secret_key,
            region: settings.region,
            runtime,
            idle: std::sync::Mutex::new(None),
        })
    }

    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// One action: signs it, sends it, and answers the `Response` object (an error answer
    /// becomes the engine's code with the server's message).
    fn call(
        &self,
        caller: &Caller,
        version: &str,
        action: &str,
        params: &Value,
    ) -> Result<Map<String, Value>> {
        let body = keyconsole_base::util::SecretBytes::from(
            serde_json::to_vec(params).unwrap_or_default(),
        );
        let service = match version {
            SSM_VERSION => "ssm",
            CLOUDAUDIT_VERSION => "cloudaudit",
            CAM_VERSION => "cam",
            _ => "kms",
        };
        // The cloud serves SSM and CloudAudit on their own hosts (ssm.tencentcloudapi.com beside
        // kms.…); a keyconsole server serves all on one.
        let host = match self.endpoint.host.strip_prefix("kms.") {
            Some(rest) if service != "kms" => format!("{service}.{rest}"),
            _ => self.endpoint.host.clone(),
        };
        let host_header = self.endpoint.host_header(&host);
        let timestamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let date = scope_date(timestamp).unwrap_or_default();
        let parts = SignedParts {
            method: "POST",
            query: "",
            content_type: "application/json",
            host: &host_header,
            payload: &body,
            unsigned_payload: false,
            timestamp,
        };
        let authorization =
            authorization(&self.secret_id, &self.secret_key, service, &parts, &date);
        let language = match caller.language {
            Language::SimplifiedChinese => "zh-CN",
            _ => "en-US",
        };
        let request = hyper::Request::post("/")
            .header("host", &host_header)
            .header("content-type", "application/json")
            .header("x-tc-action", action)
            .header("x-tc-version", version)
            .header("x-tc-timestamp", timestamp.to_string())
            .header("x-tc-region", &self.region)
            .header("x-tc-language", language)
            .header("x-tc-requestclient", "keyconsole")
            .header("authorization", authorization)
            .body(())
            .map_err(|e| unreachable(&self.endpoint, e))?;
        let (head, ()) = request.into_parts();
        let dial_host = host.clone();
        let is_change = super::service_of(version)
            .and_then(|service| service.find(action))
            .is_none_or(super::Action::is_change);
        let answer = self.runtime.block_on(async {
            tokio::time::timeout(
                CALL_DEADLINE,
                self.exchange(&dial_host, &head, &body, is_change),
            )
            .await
            .unwrap_or_else(|_| {
                Err(unreachable(
                    &self.endpoint,
                    format!("no answer within {} s", CALL_DEADLINE.as_secs()),
                ))
            })
        })?;
        let mut document: Value = serde_json::from_slice(&answer).map_err(|_| {
            unreachable(
                &self.endpoint,
                "the answer is not the Tencent Cloud API's JSON",
            )
        })?;
        let Some(Value::Object(mut response)) = document.get_mut("Response").map(Value::take)
        else {
            return Err(unreachable(
                &self.endpoint,
                "the answer has no Response object",
            ));
        };
        if let Some(error) = response.remove("Error") {
            let code_text = error["Code"].as_str().unwrap_or("InternalError");
            let message = error["Message"].as_str().unwrap_or_default();
            return Err(match super::codes::kind_in(action, code_text) {
                Some(code) => KmsError::new(code, message),
                // A code keyconsole does not know (the cloud has many): kept in the message.
                None => KmsError::new(
                    ErrorCode::FailedOperation,
                    format!("{code_text}: {message}"),
                ),
            });
        }
        Ok(response)
    }

    /// Sends `request` and reads the answer. A read goes out on the connection kept from the
    /// last call, and again on a new one if that fails before an answer (the server may have
    /// closed it as idle just then). A change always goes out on a new connection, once: when a
    /// kept connection fails, nobody can tell whether the server carried the change out.
    async fn exchange(
        &self,
        host: &str,
        head: &hyper::http::request::Parts,
        body: &keyconsole_base::util::SecretBytes,
        is_change: bool,
    ) -> Result<keyconsole_base::util::SecretBytes> {
        let endpoint = &self.endpoint;
        // Each attempt sends its own copy of the body, wiped once sent.
        let request =
            || hyper::Request::from_parts(head.clone(), Full::new(SecretBuf::new(body.clone())));
        let idle = self
            .idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(mut connection) = idle.filter(|c| c.host == host && !is_change)
            && connection.sender.ready().await.is_ok()
            && let Ok(response) = connection.sender.send_request(request()).await
        {
            return self.answer(connection, response).await;
        }
        let mut connection = self.connect(host).await?;
        let response = connection
            .sender
            .send_request(request())
            .await
            .map_err(|e| unreachable(endpoint, e))?;
        self.answer(connection, response).await
    }

    async fn connect(&self, host: &str) -> Result<Connection> {
        let endpoint = &self.endpoint;
        let socket = tokio::time::timeout(
            CONNECT_DEADLINE,
            tokio::net::TcpStream::connect((host, endpoint.port)),
        )
        .await
        .map_err(|_| {
            unreachable(
                endpoint,
                format!("no connection within {} s", CONNECT_DEADLINE.as_secs()),
            )
        })?
        .map_err(|e| unreachable(endpoint, e))?;
        let _ = socket.set_nodelay(true);
        let (sender, driver) = match &self.tls {
            Some(connector) => {
                let name = rustls::pki_types::ServerName::try_from(host.to_owned())
                    .map_err(|e| unreachable(endpoint, e))?;
                let stream = connector
                    .connect(name, socket)
                    .await
                    .map_err(|e| unreachable(endpoint, e))?;
                handshake(endpoint, stream).await?
            }
            None => handshake(endpoint, socket).await?,
        };
        Ok(Connection {
            host: host.to_owned(),
            sender,
            driver,
        })
    }

    /// Reads the answer, then keeps the connection for the next call.
    async fn answer(
        &self,
        connection: Connection,
        response: hyper::Response<hyper::body::Incoming>,
    ) -> Result<keyconsole_base::util::SecretBytes> {
        let answer = read_answer(&self.endpoint, response).await?;
        if !connection.sender.is_closed() {
            *self
                .idle
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(connection);
        }
        Ok(answer)
    }

    fn kms(&self, caller: &Caller, action: &str, params: &Value) -> Result<Map<String, Value>> {
        self.call(caller, KMS_VERSION, action, params)
    }

    fn ssm(&self, caller: &Caller, action: &str, params: &Value) -> Result<Map<String, Value>> {
        self.call(caller, SSM_VERSION, action, params)
    }
}

async fn handshake<S>(
    endpoint: &Endpoint,
    stream: S,
) -> Result<(
    hyper::client::conn::http1::SendRequest<Full<SecretBuf>>,
    tokio::task::JoinHandle<()>,
)>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .map_err(|e| unreachable(endpoint, e))?;
    let driver = tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok((sender, driver))
}

async fn read_answer(
    endpoint: &Endpoint,
    response: hyper::Response<hyper::body::Incoming>,
) -> Result<keyconsole_base::util::SecretBytes> {
    // Answers carry plaintexts: each piece is copied into wiped memory and wiped where it came.
    let mut body = Limited::new(response.into_body(), ANSWER_MAX_BYTES);
    // Growing it wipes the buffer it leaves.
    let mut answer = keyconsole_base::util::ZeroizingWriter::with_capacity(4096);
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| unreachable(endpoint, e))?;
        if let Ok(data) = frame.into_data() {
            let _ = std::io::Write::write_all(&mut answer, &data);
            if let Ok(mut only) = data.try_into_mut() {
                zeroize::Zeroize::zeroize(only.as_mut());
            }
        }
    }
    Ok(answer.into_inner())
}

/// Trusts the CA in `ca_file`, or the system's trusted CAs.
fn tls_connector(ca_file: Option<&Path>) -> Result<tokio_rustls::TlsConnector> {
    use rustls::pki_types::{CertificateDer, pem::PemObject};
    let mut roots = rustls::RootCertStore::empty();
    let bad_ca = |why: String| {
        KmsError::new(
            ErrorCode::InvalidParameterValue,
            keyconsole_base::text!("errors.ca_file_unusable", why = why),
        )
    };
    match ca_file {
        Some(path) => {
            let pem =
                std::fs::read(path).map_err(|e| bad_ca(format!("{}: {e}", path.display())))?;
            for cert in CertificateDer::pem_slice_iter(&pem) {
                let cert = cert.map_err(|e| bad_ca(format!("{}: {e}", path.display())))?;
                roots
                    .add(cert)
                    .map_err(|e| bad_ca(format!("{}: {e}", path.display())))?;
            }
            if roots.is_empty() {
                return Err(bad_ca(format!("{}: no certificate in it", path.display())));
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            for cert in found.certs {
                let _ = roots.add(cert);
            }
            if roots.is_empty() {
                return Err(bad_ca(
                    "the system has no trusted CAs; give --ca".to_owned(),
                ));
            }
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| bad_ca(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(tokio_rustls::TlsConnector::from(Arc::new(config)))
}

// ---- reading the cloud's shapes ----

fn answer_error(field: &str) -> KmsError {
    KmsError::new(
        ErrorCode::ServerUnreachable,
        keyconsole_base::text!("errors.server_answer_lacks_field", field = field),
    )
}

fn text_field(map: &Map<String, Value>, field: &str) -> Result<String> {
    map.get(field)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| answer_error(field))
}

fn number_field(map: &Map<String, Value>, field: &str) -> i64 {
    map.get(field).and_then(Value::as_i64).unwrap_or(0)
}

/// The cloud edits tags through its tag service (its own API), which keyconsole does not serve:
/// a server's tags are edited where it runs.
fn remote_tags_unsupported() -> KmsError {
    KmsError::new(
        ErrorCode::UnsupportedOperation,
        keyconsole_base::text!("errors.remote_tags_unsupported"),
    )
}

fn key_metadata(value: &Value) -> Result<KeyMetadata> {
    let map = value
        .as_object()
        .ok_or_else(|| answer_error("KeyMetadata"))?;
    let key_state: KeyState = map
        .get("KeyState")
        .cloned()
        .and_then(|v| serde_json::from_value(v).ok())
        .ok_or_else(|| answer_error("KeyState"))?;
    Ok(KeyMetadata {
        key_id: text_field(map, "KeyId")?,
        alias: text_field(map, "Alias").unwrap_or_default(),
        create_time: number_field(map, "CreateTime"),
        description: text_field(map, "Description").unwrap_or_default(),
        key_state,
        key_spec: super::shapes::key_spec_of(
            map.get("KeyUsage")
                .and_then(Value::as_str)
                .unwrap_or_default(),
            number_field(map, "Type"),
        )
        .to_owned(),
        key_usage: text_field(map, "KeyUsage").unwrap_or_default(),
        valid_to: number_field(map, "ValidTo"),
        origin: text_field(map, "Origin").unwrap_or_default(),
        key_rotation_enabled: map
            .get("KeyRotationEnabled")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        rotate_days: u32::try_from(number_field(map, "RotateDays")).unwrap_or(0),
        last_rotate_time: number_field(map, "LastRotateTime"),
        next_rotate_time: number_field(map, "NextRotateTime"),
        deletion_date: number_field(map, "DeletionDate"),
        // The cloud's KeyMetadata does not say; 0 reads as "not told".
        version_count: u32::try_from(number_field(map, "VersionCount")).unwrap_or(0),
        // Tags are the cloud's tag service's business, not KeyMetadata's.
        tags: Vec::new(),
        owner: match map.get("Owner").and_then(Value::as_str) {
            Some("user") | None => KeyOwner::User,
            Some(_) => KeyOwner::SecretsManager,
        },
    })
}

fn secret_metadata(value: &Value) -> Result<SecretMetadata> {
    let map = value
        .as_object()
        .ok_or_else(|| answer_error("SecretMetadata"))?;
    let state = match map.get("Status").and_then(Value::as_str) {
        Some("Enabled") => SecretState::Enabled,
        Some("Disabled") => SecretState::Disabled,
        Some("PendingDelete") => SecretState::PendingDelete,
        _ => return Err(answer_error("Status")),
    };
    Ok(SecretMetadata {
        name: text_field(map, "SecretName")?,
        description: text_field(map, "Description").unwrap_or_default(),
        key_id: text_field(map, "KmsKeyId").unwrap_or_default(),
        default_key: map.get("KmsKeyType").and_then(Value::as_str) == Some("DEFAULT"),
        state,
        create_time: number_field(map, "CreateTime"),
        delete_time: number_field(map, "DeleteTime"),
        version_count: 0,
        // A database secret's endpoint and users are not in the cloud's metadata.
        database: None,
        tags: Vec::new(),
        // An SSH key pair's id, name and project are; its public key comes with
        // GetSSHKeyPairValue only.
        ssh: (number_field(map, "SecretType") == 2).then(|| SshKeyPair {
            key_id: text_field(map, "ResourceID").unwrap_or_default(),
            key_name: text_field(map, "ResourceName").unwrap_or_default(),
            public_key: String::new(),
            project_id: u64::try_from(number_field(map, "ProjectID")).unwrap_or(0),
        }),
    })
}

fn tag_filters_param(filters: &[TagFilter]) -> Value {
    filters
        .iter()
        .map(|f| json!({"TagKey": f.key, "TagValue": f.values}))
        .collect()
}

/// Adds an encryption context under `field` when there is one (none is sent as no parameter).
fn add_context(params: &mut Value, field: &str, context: &CanonicalContext) {
    if !context.as_str().is_empty() {
        params[field] = json!(context.as_str());
    }
}

/// The base64 `Plaintext` of an answer (Decrypt, GenerateDataKey, GenerateRandom), decoded into
/// wiped memory.
fn plaintext_field(answer: &Map<String, Value>) -> Result<SecretBytes> {
    let text = answer
        .get("Plaintext")
        .and_then(Value::as_str)
        .unwrap_or_default();
    base64_simd::STANDARD
        .decode_to_vec(text.as_bytes())
        .map(SecretBytes::from)
        .map_err(|_| answer_error("Plaintext"))
}

/// A base64 field of an answer (a public key, a signature).
fn base64_field(answer: &Map<String, Value>, field: &str) -> Result<Vec<u8>> {
    let text = answer
        .get(field)
        .and_then(Value::as_str)
        .unwrap_or_default();
    base64_simd::STANDARD
        .decode_to_vec(text.as_bytes())
        .map_err(|_| answer_error(field))
}

fn message_type_name(message_type: MessageType) -> &'static str {
    match message_type {
        MessageType::Raw => "RAW",
        MessageType::Digest => "DIGEST",
    }
}

fn value_params(params: &mut Map<String, Value>, value: &SecretValue) {
    match value {
        SecretValue::Text(text) => {
            params.insert("SecretString".to_owned(), Value::String(text.to_string()));
        }
        SecretValue::Binary(bytes) => {
            params.insert(
                "SecretBinary".to_owned(),
                Value::String(STANDARD.encode(bytes)),
            );
        }
    }
}

/// Wipes the strings of a request's parameters once it is sent (a plaintext, a secret's value).
fn wipe(mut value: Value) {
    if let Value::Object(map) = &mut value {
        super::params::wipe_map(map);
    }
}

impl KmsService for RemoteService {
    /// keyconsole's `GetCallerPolicy`; a server that does not know it (the cloud) says nothing,
    /// and everything is offered.
    fn caller_policy(
        &self,
        caller: &Caller,
    ) -> Result<Option<keyconsole_kms::policy::CallerPolicy>> {
        let answer = match self.call(caller, CAM_VERSION, "GetCallerPolicy", &json!({})) {
            Ok(answer) => answer,
            Err(e)
                if matches!(
                    e.code,
                    ErrorCode::UnsupportedOperation | ErrorCode::InvalidAction
                ) =>
            {
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        if answer.get("Type").and_then(Value::as_str) != Some("CAMUser") {
            return Ok(None);
        }
        let text = |name: &str| answer.get(name).and_then(Value::as_str).unwrap_or_default();
        let policy = keyconsole_kms::policy::Policy::parse(text("PolicyDocument"))?;
        Ok(Some(keyconsole_kms::policy::CallerPolicy {
            user: text("UserName").to_owned(),
            policy,
            source_ip: text("SourceIP").parse().ok(),
        }))
    }

    /// CloudAudit's LookUpEvents, 50 at a time, up to the query's limit (at most
    /// `REMOTE_AUDIT_EVENTS_MAX`); what its attributes cannot ask is filtered here.
    fn look_up_events(
        &self,
        caller: &Caller,
        query: &keyconsole_kms::audit::AuditQuery,
    ) -> Result<keyconsole_kms::audit::AuditPage> {
        let filter = &query.filter;
        let mut attributes = Vec::new();
        let mut attribute = |key: &str, value: &Option<String>| {
            if let Some(value) = value.as_deref().filter(|v| !v.trim().is_empty()) {
                attributes.push(json!({"AttributeKey": key, "AttributeValue": value.trim()}));
            }
        };
        attribute("PrincipalId", &filter.user);
        attribute("EventName", &filter.event_name);
        attribute("RequestId", &filter.request_id);
        attribute("AccessKeyId", &filter.credential);
        attribute("SourceIP", &filter.source);
        let wanted = match query.limit {
            0 => REMOTE_AUDIT_EVENTS_MAX,
            n => n.min(REMOTE_AUDIT_EVENTS_MAX),
        };
        let mut events = Vec::new();
        let mut token: Option<String> = query.before.map(|b| b.to_string());
        let mut more = true;
        while more && events.len() < wanted {
            let mut params = json!({
                "StartTime": filter.since.unwrap_or(0).max(0),
                "EndTime": filter.until.unwrap_or(i64::from(u32::MAX)),
                "MaxResults": super::cloudaudit::MAX_RESULTS,
                "LookupAttributes": attributes,
            });
            if let Some(token) = &token {
                params["NextToken"] = json!(token);
            }
            let answer = self.call(caller, CLOUDAUDIT_VERSION, "LookUpEvents", &params)?;
            let page: Vec<keyconsole_kms::audit::AuditEvent> = answer
                .get("Events")
                .and_then(Value::as_array)
                .map(|list| {
                    list.iter()
                        .filter_map(super::cloudaudit::event_from)
                        .collect()
                })
                .unwrap_or_default();
            more = answer.get("ListOver").and_then(Value::as_bool) == Some(false);
            token = answer
                .get("NextToken")
                .and_then(Value::as_str)
                .map(str::to_owned);
            more &= token.is_some() && !page.is_empty();
            events.extend(page.into_iter().filter(|e| filter.matches(e)));
        }
        let next = if more || events.len() > wanted {
            events.truncate(wanted);
            events.last().map(|e| e.seq)
        } else {
            None
        };
        Ok(keyconsole_kms::audit::AuditPage { events, next })
    }

    fn keystore_path(&self) -> Option<&Path> {
        None
    }

    fn create_key(&self, caller: &Caller, request: CreateKey) -> Result<KeyMetadata> {
        let mut params = json!({"Alias": request.alias, "Description": request.description});
        if let Some(usage) = &request.key_usage {
            params["KeyUsage"] = json!(usage);
        }
        if request.spec == Some(keyconsole_kms::KeySpec::Sm4) {
            params["Type"] = json!(4);
        }
        if request.external {
            // The cloud's Type says EXTERNAL or SM4, not both.
            if request.spec == Some(keyconsole_kms::KeySpec::Sm4) {
                return Err(KmsError::new(
                    ErrorCode::UnsupportedOperation,
                    keyconsole_base::text!("errors.an_sm4_key_with_imported_material"),
                ));
            }
            params["Type"] = json!(2);
        }
        if !request.tags.is_empty() {
            params["Tags"] = super::shapes::tags_json(&request.tags);
        }
        let answer = self.kms(caller, "CreateKey", &params)?;
        let key_id = text_field(&answer, "KeyId")?;
        // The cloud's CreateKey has no rotation: turned on after, as the console does.
        if let Some(days) = request.rotate_days {
            self.change_keys(
                caller,
                std::slice::from_ref(&key_id),
                KeyChange::EnableRotation { days: Some(days) },
            )?;
        }
        self.describe_key(caller, &key_id)
    }

    fn describe_key(&self, caller: &Caller, key: &str) -> Result<KeyMetadata> {
        let answer = self.kms(caller, "DescribeKey", &json!({"KeyId": key}))?;
        key_metadata(answer.get("KeyMetadata").unwrap_or(&Value::Null))
    }

    fn list_keys(&self, caller: &Caller, query: &KeyQuery) -> Result<KeyPage> {
        match query.owner {
            Some(owner) => self.list_keys_of(caller, query, owner),
            // The cloud lists one owner at a time (Role 0 the user's keys, 1 those services made
            // for themselves): both, merged into one listing and paged here.
            None => {
                let every = KeyQuery {
                    offset: 0,
                    limit: None,
                    ..query.clone()
                };
                let mut keys = self.list_keys_of(caller, &every, KeyOwner::User)?.keys;
                keys.extend(
                    self.list_keys_of(caller, &every, KeyOwner::SecretsManager)?
                        .keys,
                );
                match query.order {
                    Order::NewestFirst => keys.sort_by_key(|k| std::cmp::Reverse(k.create_time)),
                    Order::OldestFirst => keys.sort_by_key(|k| k.create_time),
                }
                Ok(paged(keys, query.offset, query.limit, |keys, total| {
                    KeyPage { total, keys }
                }))
            }
        }
    }

    fn change_keys(
        &self,
        caller: &Caller,
        keys: &[String],
        change: KeyChange,
    ) -> Result<KeyChanged> {
        let one = || match keys {
            [key] => Ok(key.as_str()),
            _ => Err(KmsError::new(
                ErrorCode::InvalidParameter,
                keyconsole_base::text!("errors.one_key_at_a_time"),
            )),
        };
        let simple = |action: &str| -> Result<KeyChanged> {
            self.kms(caller, action, &json!({"KeyId": one()?}))?;
            Ok(KeyChanged::Done)
        };
        match change {
            KeyChange::Enable => {
                self.kms(caller, "EnableKeys", &json!({"KeyIds": keys}))?;
                Ok(KeyChanged::Done)
            }
            KeyChange::Disable => {
                self.kms(caller, "DisableKeys", &json!({"KeyIds": keys}))?;
                Ok(KeyChanged::Done)
            }
            KeyChange::Update { alias, description } => {
                let key = one()?;
                if alias.is_none() && description.is_none() {
                    return Err(KmsError::new(
                        ErrorCode::MissingParameter,
                        keyconsole_base::text!("errors.nothing_to_change_give_a_new"),
                    ));
                }
                // Two actions on the wire (the cloud has no one action for both).
                if let Some(alias) = alias {
                    self.kms(
                        caller,
                        "UpdateAlias",
                        &json!({"KeyId": key, "Alias": alias}),
                    )?;
                }
                if let Some(description) = description {
                    self.kms(
                        caller,
                        "UpdateKeyDescription",
                        &json!({"KeyId": key, "Description": description}),
                    )?;
                }
                Ok(KeyChanged::Done)
            }
            KeyChange::ScheduleDeletion { days } => {
                let answer = self.kms(
                    caller,
                    "ScheduleKeyDeletion",
                    &json!({"KeyId": one()?, "PendingWindowInDays": days}),
                )?;
                Ok(KeyChanged::DeletionDate(number_field(
                    &answer,
                    "DeletionDate",
                )))
            }
            KeyChange::CancelDeletion => simple("CancelKeyDeletion"),
            KeyChange::Archive => simple("ArchiveKey"),
            KeyChange::Unarchive => simple("CancelKeyArchive"),
            KeyChange::Rotate => {
                simple("RotateKey")?;
                // RotateKey answers a task, not the version: 0 is "not told".
                Ok(KeyChanged::Version(0))
            }
            KeyChange::Tag { .. } => Err(remote_tags_unsupported()),
            KeyChange::EnableRotation { days } => {
                let mut params = json!({"KeyId": one()?});
                if let Some(days) = days {
                    params["RotateDays"] = json!(days);
                }
                self.kms(caller, "EnableKeyRotation", &params)?;
                Ok(KeyChanged::Done)
            }
            KeyChange::DisableRotation => simple("DisableKeyRotation"),
            KeyChange::ImportMaterial {
                encrypted_material,
                token,
                valid_to,
            } => {
                self.kms(
                    caller,
                    "ImportKeyMaterial",
                    &json!({
                        "KeyId": one()?,
                        "EncryptedKeyMaterial": base64_simd::STANDARD.encode_to_string(encrypted_material),
                        "ImportToken": token,
                        "ValidTo": valid_to,
                    }),
                )?;
                Ok(KeyChanged::Done)
            }
            KeyChange::DeleteMaterial => simple("DeleteImportedKeyMaterial"),
        }
    }

    fn encrypt(
        &self,
        caller: &Caller,
        key: &str,
        plaintext: &[u8],
        context: &CanonicalContext,
    ) -> Result<Encrypted> {
        let mut params = json!({
            "KeyId": key,
            "Plaintext": base64_simd::STANDARD.encode_to_string(plaintext),
        });
        add_context(&mut params, "EncryptionContext", context);
        let answer = self.kms(caller, "Encrypt", &params);
        wipe(params);
        let answer = answer?;
        Ok(Encrypted {
            key_id: text_field(&answer, "KeyId")?,
            ciphertext_blob: text_field(&answer, "CiphertextBlob")?,
        })
    }

    fn decrypt(
        &self,
        caller: &Caller,
        ciphertext_blob: &str,
        context: &CanonicalContext,
    ) -> Result<Decrypted> {
        let mut params = json!({"CiphertextBlob": ciphertext_blob});
        add_context(&mut params, "EncryptionContext", context);
        let mut answer = self.kms(caller, "Decrypt", &params)?;
        let plaintext = plaintext_field(&answer);
        let key_id = text_field(&answer, "KeyId");
        super::params::wipe_map(&mut answer);
        Ok(Decrypted {
            key_id: key_id?,
            plaintext: plaintext?,
        })
    }

    fn re_encrypt(
        &self,
        caller: &Caller,
        ciphertext_blob: &str,
        destination_key: Option<&str>,
        source_context: &CanonicalContext,
        destination_context: &CanonicalContext,
    ) -> Result<ReEncrypted> {
        let mut params = json!({"CiphertextBlob": ciphertext_blob});
        if let Some(key) = destination_key {
            params["DestinationKeyId"] = json!(key);
        }
        add_context(&mut params, "SourceEncryptionContext", source_context);
        add_context(
            &mut params,
            "DestinationEncryptionContext",
            destination_context,
        );
        let answer = self.kms(caller, "ReEncrypt", &params)?;
        Ok(ReEncrypted {
            ciphertext_blob: text_field(&answer, "CiphertextBlob")?,
            key_id: text_field(&answer, "KeyId")?,
            source_key_id: text_field(&answer, "SourceKeyId")?,
            re_encrypted: answer
                .get("ReEncrypted")
                .and_then(Value::as_bool)
                .unwrap_or(true),
        })
    }

    fn generate_data_key(
        &self,
        caller: &Caller,
        key: &str,
        spec: DataKeySpec,
        context: &CanonicalContext,
    ) -> Result<DataKey> {
        let mut params = json!({"KeyId": key});
        add_context(&mut params, "EncryptionContext", context);
        match spec {
            DataKeySpec::Bytes(n) => params["NumberOfBytes"] = json!(n),
            DataKeySpec::Aes256 => params["KeySpec"] = json!("AES_256"),
            DataKeySpec::Aes128 => params["KeySpec"] = json!("AES_128"),
        }
        let mut answer = self.kms(caller, "GenerateDataKey", &params)?;
        let plaintext = plaintext_field(&answer);
        let key_id = text_field(&answer, "KeyId");
        let blob = text_field(&answer, "CiphertextBlob");
        super::params::wipe_map(&mut answer);
        Ok(DataKey {
            key_id: key_id?,
            plaintext: plaintext?,
            ciphertext_blob: blob?,
        })
    }

    fn generate_random(&self, caller: &Caller, number_of_bytes: u32) -> Result<SecretBytes> {
        let mut answer = self.kms(
            caller,
            "GenerateRandom",
            &json!({"NumberOfBytes": number_of_bytes}),
        )?;
        let bytes = plaintext_field(&answer);
        super::params::wipe_map(&mut answer);
        bytes
    }

    fn get_parameters_for_import(
        &self,
        caller: &Caller,
        key: &str,
        wrapping_algorithm: &str,
        wrapping_key_spec: Option<&str>,
    ) -> Result<ImportParametersOut> {
        let mut params = json!({"KeyId": key, "WrappingAlgorithm": wrapping_algorithm});
        if let Some(spec) = wrapping_key_spec {
            params["WrappingKeySpec"] = json!(spec);
        }
        let answer = self.kms(caller, "GetParametersForImport", &params)?;
        Ok(ImportParametersOut {
            key_id: text_field(&answer, "KeyId")?,
            token: text_field(&answer, "ImportToken")?,
            public_key: base64_field(&answer, "PublicKey")?,
            valid_to: number_field(&answer, "ParametersValidTo"),
        })
    }

    fn public_key(&self, caller: &Caller, key: &str) -> Result<PublicKey> {
        let answer = self.kms(caller, "GetPublicKey", &json!({"KeyId": key}))?;
        Ok(PublicKey {
            key_id: text_field(&answer, "KeyId")?,
            der: base64_field(&answer, "PublicKey")?,
            pem: text_field(&answer, "PublicKeyPem")?,
        })
    }

    fn sign(
        &self,
        caller: &Caller,
        key: &str,
        algorithm: &str,
        message_type: MessageType,
        message: &[u8],
    ) -> Result<Vec<u8>> {
        let params = json!({
            "KeyId": key,
            "Algorithm": algorithm,
            "MessageType": message_type_name(message_type),
            "Message": base64_simd::STANDARD.encode_to_string(message),
        });
        let answer = self.kms(caller, "SignByAsymmetricKey", &params);
        wipe(params);
        base64_field(&answer?, "Signature")
    }

    fn verify(
        &self,
        caller: &Caller,
        key: &str,
        algorithm: &str,
        message_type: MessageType,
        message: &[u8],
        signature: &[u8],
    ) -> Result<bool> {
        let params = json!({
            "KeyId": key,
            "Algorithm": algorithm,
            "MessageType": message_type_name(message_type),
            "Message": base64_simd::STANDARD.encode_to_string(message),
            "SignatureValue": base64_simd::STANDARD.encode_to_string(signature),
        });
        let answer = self.kms(caller, "VerifyByAsymmetricKey", &params);
        wipe(params);
        answer?
            .get("SignatureValid")
            .and_then(Value::as_bool)
            .ok_or_else(|| answer_error("SignatureValid"))
    }

    fn decrypt_to_public_key(
        &self,
        caller: &Caller,
        ciphertext_blob: &str,
        context: &CanonicalContext,
        public_key_pem: &str,
        algorithm: Option<&str>,
    ) -> Result<(String, Vec<u8>)> {
        let mut params = json!({
            "CiphertextBlob": ciphertext_blob,
            "EncryptionPublicKey": public_key_pem,
        });
        if let Some(algorithm) = algorithm {
            params["EncryptionAlgorithm"] = json!(algorithm);
        }
        add_context(&mut params, "EncryptionContext", context);
        let answer = self.kms(caller, "Decrypt", &params)?;
        Ok((
            text_field(&answer, "KeyId")?,
            base64_field(&answer, "Plaintext")?,
        ))
    }

    fn asymmetric_decrypt(
        &self,
        caller: &Caller,
        key: &str,
        algorithm: Option<&str>,
        ciphertext: &[u8],
    ) -> Result<Decrypted> {
        let mut params = json!({
            "KeyId": key,
            "Ciphertext": base64_simd::STANDARD.encode_to_string(ciphertext),
        });
        let action = match algorithm {
            Some(algorithm) => {
                params["Algorithm"] = json!(algorithm);
                "AsymmetricRsaDecrypt"
            }
            None => "AsymmetricSm2Decrypt",
        };
        let mut answer = self.kms(caller, action, &params)?;
        let plaintext = plaintext_field(&answer);
        let key_id = text_field(&answer, "KeyId");
        super::params::wipe_map(&mut answer);
        Ok(Decrypted {
            key_id: key_id?,
            plaintext: plaintext?,
        })
    }

    fn create_secret(&self, caller: &Caller, request: CreateSecret) -> Result<(String, String)> {
        let mut params = Map::new();
        params.insert("SecretName".to_owned(), json!(request.name));
        params.insert("Description".to_owned(), json!(request.description));
        if let Some(version_id) = &request.version_id {
            params.insert("VersionId".to_owned(), json!(version_id));
        }
        if let Some(key) = &request.key {
            params.insert("KmsKeyId".to_owned(), json!(key));
        }
        if !request.tags.is_empty() {
            params.insert("Tags".to_owned(), super::shapes::tags_json(&request.tags));
        }
        value_params(&mut params, &request.value);
        let params = Value::Object(params);
        let answer = self.ssm(caller, "CreateSecret", &params);
        wipe(params);
        let answer = answer?;
        Ok((
            text_field(&answer, "SecretName")?,
            text_field(&answer, "VersionId")?,
        ))
    }

    fn get_secret_value(
        &self,
        caller: &Caller,
        name: &str,
        version_id: &str,
    ) -> Result<SecretValue> {
        let mut answer = self.ssm(
            caller,
            "GetSecretValue",
            &json!({"SecretName": name, "VersionId": version_id}),
        )?;
        let text = answer
            .get("SecretString")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let binary = answer
            .get("SecretBinary")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let value = if binary.is_empty() {
            Ok(SecretValue::Text(Zeroizing::new(text.to_owned())))
        } else {
            STANDARD
                .decode(binary)
                .map(|bytes| SecretValue::Binary(Zeroizing::new(bytes)))
                .map_err(|_| answer_error("SecretBinary"))
        };
        super::params::wipe_map(&mut answer);
        value
    }

    fn describe_secret(&self, caller: &Caller, name: &str) -> Result<SecretMetadata> {
        let answer = self.ssm(caller, "DescribeSecret", &json!({"SecretName": name}))?;
        let mut secret = secret_metadata(&Value::Object(answer))?;
        secret.version_count = self.secret_versions(caller, name)?.len();
        // DescribeSecret does not say whose key it is; the key's Owner does.
        secret.default_key = self
            .describe_key(caller, &secret.key_id)
            .is_ok_and(|key| key.owner == KeyOwner::SecretsManager);
        Ok(secret)
    }

    fn list_secrets(&self, caller: &Caller, query: &SecretQuery) -> Result<SecretPage> {
        match query.kind {
            Some(kind) => self.list_secrets_of(caller, query, kind),
            // The cloud lists one type at a time (SecretType 0, the default, the user's own; 1
            // database secrets; 2 SSH key pairs): all, merged into one listing and paged here.
            None => {
                let every = SecretQuery {
                    offset: 0,
                    limit: Some(keyconsole_kms::secrets::rules::LIST_LIMIT_MAX),
                    ..query.clone()
                };
                let mut secrets = Vec::new();
                for kind in [
                    SecretType::Custom,
                    SecretType::Database,
                    SecretType::SshKeyPair,
                ] {
                    secrets.extend(self.list_secrets_of(caller, &every, kind)?.secrets);
                }
                if query.oldest_first {
                    secrets.sort_by_key(|s| s.create_time);
                } else {
                    secrets.sort_by_key(|s| std::cmp::Reverse(s.create_time));
                }
                let limit = query
                    .limit
                    .or(Some(keyconsole_kms::secrets::rules::LIST_LIMIT_DEFAULT));
                Ok(paged(secrets, query.offset, limit, |secrets, total| {
                    SecretPage { total, secrets }
                }))
            }
        }
    }

    fn secret_versions(&self, caller: &Caller, name: &str) -> Result<Vec<(String, i64)>> {
        let answer = self.ssm(caller, "ListSecretVersionIds", &json!({"SecretName": name}))?;
        answer
            .get("Versions")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .map(|v| {
                let map = v.as_object().ok_or_else(|| answer_error("Versions"))?;
                Ok((
                    text_field(map, "VersionId")?,
                    number_field(map, "CreateTime"),
                ))
            })
            .collect()
    }

    fn change_secret(
        &self,
        caller: &Caller,
        name: &str,
        change: SecretChange,
    ) -> Result<SecretChanged> {
        let simple = |action: &str, mut params: Value| -> Result<SecretChanged> {
            params["SecretName"] = json!(name);
            self.ssm(caller, action, &params)?;
            Ok(SecretChanged::Done)
        };
        match change {
            SecretChange::Enable => simple("EnableSecret", json!({})),
            SecretChange::Disable => simple("DisableSecret", json!({})),
            SecretChange::Restore => simple("RestoreSecret", json!({})),
            SecretChange::Delete { recovery_days } => {
                let answer = self.ssm(
                    caller,
                    "DeleteSecret",
                    &json!({"SecretName": name, "RecoveryWindowInDays": recovery_days}),
                )?;
                Ok(SecretChanged::DeleteTime(number_field(
                    &answer,
                    "DeleteTime",
                )))
            }
            SecretChange::DeleteVersion { version_id } => {
                simple("DeleteSecretVersion", json!({"VersionId": version_id}))
            }
            SecretChange::SetDescription(description) => {
                simple("UpdateDescription", json!({"Description": description}))
            }
            SecretChange::PutValue { version_id, value } => {
                self.send_value(caller, "PutSecretValue", name, &version_id, &value)
            }
            SecretChange::UpdateValue { version_id, value } => {
                self.send_value(caller, "UpdateSecret", name, &version_id, &value)
            }
            SecretChange::SetRotation {
                enabled,
                days,
                begin,
            } => {
                let mut params = json!({"EnableRotation": enabled});
                if let Some(days) = days {
                    params["Frequency"] = json!(days);
                }
                if let Some(begin) = begin {
                    params["RotationBeginTime"] =
                        json!(keyconsole_base::util::time::format_api_time(begin));
                }
                simple("UpdateRotationStatus", params)
            }
            SecretChange::Tag { .. } => Err(remote_tags_unsupported()),
            SecretChange::Rotate => {
                let answer =
                    self.ssm(caller, "RotateProductSecret", &json!({"SecretName": name}))?;
                // The cloud's answer names no version, only the task.
                Ok(SecretChanged::Rotated {
                    version_id: String::new(),
                    flow_id: u64::try_from(number_field(&answer, "FlowID")).unwrap_or(0),
                })
            }
        }
    }

    /// The cloud's DescribeRotationDetail carries the settings but not the history of attempts
    /// this engine keeps, so a server's detail is not offered rather than shown half empty.
    fn rotation_detail(&self, _caller: &Caller, _name: &str) -> Result<RotationDetail> {
        Err(KmsError::new(
            ErrorCode::UnsupportedOperation,
            keyconsole_base::text!("errors.remote_rotation_detail"),
        ))
    }

    /// The cloud makes a database user of its own (CreateProductSecret takes an instance, not a
    /// login), so a secret for an existing login is made on the server's own machine.
    fn create_database_secret(
        &self,
        _caller: &Caller,
        _request: CreateDatabaseSecret,
    ) -> Result<(String, String)> {
        Err(KmsError::new(
            ErrorCode::UnsupportedOperation,
            keyconsole_base::text!("errors.remote_database_secret"),
        ))
    }

    fn test_database_login(
        &self,
        _caller: &Caller,
        _endpoint: &DbEndpoint,
        _password: &str,
    ) -> Result<()> {
        Err(KmsError::new(
            ErrorCode::UnsupportedOperation,
            keyconsole_base::text!("errors.remote_database_secret"),
        ))
    }

    fn create_product_secret(
        &self,
        caller: &Caller,
        request: CreateProductSecret,
    ) -> Result<(String, u64)> {
        let privileges: Vec<Value> = request
            .grants
            .iter()
            .map(|grant| match &grant.level {
                GrantLevel::Global => {
                    json!({"PrivilegeName": "GlobalPrivileges", "Privileges": grant.privileges})
                }
                GrantLevel::Database(database) => json!({
                    "PrivilegeName": "DatabasePrivileges", "Privileges": grant.privileges,
                    "Database": database,
                }),
                GrantLevel::Table {
                    database,
                    schema,
                    table,
                } => json!({
                    "PrivilegeName": "TablePrivileges", "Privileges": grant.privileges,
                    "Database": database, "SchemaName": schema, "TableName": table,
                }),
            })
            .collect();
        let mut params = json!({
            "SecretName": request.name,
            "Description": request.description,
            "InstanceID": request.instance_id,
            "ProductName": request.product,
            "UserNamePrefix": request.user_name_prefix,
            "Domains": request.domains,
            "PrivilegesList": privileges,
        });
        if let Some(key) = &request.key {
            params["KmsKeyId"] = json!(key);
        }
        if let Some(days) = request.rotate_days {
            params["EnableRotation"] = json!(true);
            params["RotationFrequency"] = json!(days);
            let begin = request.rotation_begin.unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs() as i64)
            });
            params["RotationBeginTime"] =
                json!(keyconsole_base::util::time::format_api_time(begin));
        }
        if !request.tags.is_empty() {
            params["Tags"] = super::shapes::tags_json(&request.tags);
        }
        let answer = self.ssm(caller, "CreateProductSecret", &params)?;
        Ok((
            text_field(&answer, "SecretName")?,
            u64::try_from(number_field(&answer, "FlowID")).unwrap_or(0),
        ))
    }

    fn product_task(&self, caller: &Caller, flow_id: u64) -> Result<ProductTask> {
        let answer = self.ssm(
            caller,
            "DescribeAsyncRequestInfo",
            &json!({"FlowID": flow_id}),
        )?;
        let status = match number_field(&answer, "TaskStatus") {
            0 => TaskStatus::Running,
            1 => TaskStatus::Succeeded,
            _ => TaskStatus::Failed,
        };
        let description = text_field(&answer, "Description").unwrap_or_default();
        Ok(ProductTask {
            flow_id,
            secret_name: String::new(),
            status,
            description: description.clone(),
            description_zh: description,
            time: 0,
        })
    }

    fn create_ssh_key_pair_secret(
        &self,
        caller: &Caller,
        request: CreateSshKeyPairSecret,
    ) -> Result<(String, SshKeyPair)> {
        let mut params = json!({
            "SecretName": request.name,
            "Description": request.description,
            "ProjectId": request.project_id,
        });
        if let Some(key) = &request.key {
            params["KmsKeyId"] = json!(key);
        }
        if let Some(key_name) = &request.key_name {
            params["SSHKeyName"] = json!(key_name);
        }
        if !request.tags.is_empty() {
            params["Tags"] = super::shapes::tags_json(&request.tags);
        }
        let answer = self.ssm(caller, "CreateSSHKeyPairSecret", &params)?;
        let name = text_field(&answer, "SecretName")?;
        let (pair, _, _) = self.ssh_key_pair_value(caller, Some(&name), None)?;
        Ok((name, pair))
    }

    fn ssh_key_pair_value(
        &self,
        caller: &Caller,
        name: Option<&str>,
        key_id: Option<&str>,
    ) -> Result<(SshKeyPair, String, Zeroizing<String>)> {
        let mut params = json!({});
        if let Some(name) = name {
            params["SecretName"] = json!(name);
        }
        if let Some(key_id) = key_id {
            params["SSHKeyId"] = json!(key_id);
        }
        let mut answer = self.ssm(caller, "GetSSHKeyPairValue", &params)?;
        let decoded = |field: &str| -> Result<Zeroizing<String>> {
            let text = answer
                .get(field)
                .and_then(Value::as_str)
                .ok_or_else(|| answer_error(field))?;
            let bytes = Zeroizing::new(STANDARD.decode(text).map_err(|_| answer_error(field))?);
            String::from_utf8(bytes.to_vec())
                .map(Zeroizing::new)
                .map_err(|_| answer_error(field))
        };
        let private = decoded("PrivateKey");
        let public = decoded("PublicKey");
        let pair = SshKeyPair {
            key_id: text_field(&answer, "SSHKeyID")?,
            key_name: text_field(&answer, "SSHKeyName").unwrap_or_default(),
            public_key: public?.to_string(),
            project_id: u64::try_from(number_field(&answer, "ProjectID")).unwrap_or(0),
        };
        let description = text_field(&answer, "SSHKeyDescription").unwrap_or_default();
        super::params::wipe_map(&mut answer);
        Ok((pair, description, private?))
    }
}

/// One page of `items` (all of them, sorted), and how many there were.
fn paged<T, P>(
    items: Vec<T>,
    offset: usize,
    limit: Option<usize>,
    page: impl FnOnce(Vec<T>, usize) -> P,
) -> P {
    let total = items.len();
    let items = items
        .into_iter()
        .skip(offset)
        .take(limit.unwrap_or(usize::MAX))
        .collect();
    page(items, total)
}

impl RemoteService {
    /// ListKeyDetail for the keys of one owner (Role), every page the query asks for.
    fn list_keys_of(&self, caller: &Caller, query: &KeyQuery, owner: KeyOwner) -> Result<KeyPage> {
        let state = super::shapes::state_filter_number(query.state);
        let order = super::shapes::order_number(query.order);
        // Every match when no limit is given: page through at the API's largest page.
        let wanted = query.limit.unwrap_or(usize::MAX);
        let mut page = KeyPage::default();
        let mut offset = query.offset;
        loop {
            let limit = (wanted - page.keys.len()).min(LIST_LIMIT_MAX);
            let mut params = json!({
                "Offset": offset, "Limit": limit, "KeyState": state, "OrderType": order,
                "Role": u8::from(owner != KeyOwner::User),
                "Origin": super::shapes::origin_name(query.origin),
                "KeyUsage": query.usage.as_deref().unwrap_or("ALL"),
            });
            if let Some(search) = &query.search {
                params["SearchKeyAlias"] = json!(search);
            }
            if !query.tags.is_empty() {
                params["TagFilters"] = tag_filters_param(&query.tags);
            }
            let answer = self.kms(caller, "ListKeyDetail", &params)?;
            page.total = usize::try_from(number_field(&answer, "TotalCount")).unwrap_or(0);
            let keys = answer
                .get("KeyMetadatas")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or_default();
            for key in keys {
                page.keys.push(key_metadata(key)?);
            }
            offset += keys.len();
            if keys.is_empty() || page.keys.len() >= wanted || offset >= page.total {
                return Ok(page);
            }
        }
    }

    /// ListSecrets for one type: the user's own secrets (SecretType 0) or database ones (1).
    fn list_secrets_of(
        &self,
        caller: &Caller,
        query: &SecretQuery,
        kind: SecretType,
    ) -> Result<SecretPage> {
        let state = match query.state {
            SecretStateFilter::All => 0,
            SecretStateFilter::Only(SecretState::Enabled) => 1,
            SecretStateFilter::Only(SecretState::Disabled) => 2,
            SecretStateFilter::Only(SecretState::PendingDelete) => 3,
        };
        let mut params = json!({
            "Offset": query.offset,
            "Limit": query.limit.unwrap_or(keyconsole_kms::secrets::rules::LIST_LIMIT_DEFAULT),
            "State": state,
            "OrderType": u8::from(query.oldest_first),
            "SecretType": kind.number(),
        });
        if let Some(search) = &query.search {
            params["SearchSecretName"] = json!(search);
        }
        if let Some(instance) = &query.instance {
            params["InstanceID"] = json!(instance);
        }
        if kind == SecretType::Database && !query.products.is_empty() {
            params["ProductName"] = json!(query.products.join(","));
        }
        if !query.tags.is_empty() {
            params["TagFilters"] = tag_filters_param(&query.tags);
        }
        let answer = self.ssm(caller, "ListSecrets", &params)?;
        let secrets = answer
            .get("SecretMetadatas")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .map(secret_metadata)
            .collect::<Result<Vec<_>>>()?;
        Ok(SecretPage {
            total: usize::try_from(number_field(&answer, "TotalCount")).unwrap_or(0),
            secrets,
        })
    }

    /// PutSecretValue or UpdateSecret: the value's strings are wiped once sent.
    fn send_value(
        &self,
        caller: &Caller,
        action: &str,
        name: &str,
        version_id: &str,
        value: &SecretValue,
    ) -> Result<SecretChanged> {
        let mut params = Map::new();
        params.insert("SecretName".to_owned(), json!(name));
        params.insert("VersionId".to_owned(), json!(version_id));
        value_params(&mut params, value);
        let params = Value::Object(params);
        let answer = self.ssm(caller, action, &params);
        wipe(params);
        answer.map(|_| SecretChanged::Done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> Option<(bool, String, u16)> {
        Endpoint::parse(text).ok().map(|e| (e.tls, e.host, e.port))
    }

    #[test]
    fn endpoints_are_https_or_loopback_http() {
        let some = |tls, host: &str, port| Some((tls, host.to_owned(), port));
        assert_eq!(parsed("https://kms.lan:8443"), some(true, "kms.lan", 8443));
        assert_eq!(parsed(" HTTPS://kms.lan/ "), some(true, "kms.lan", 443));
        assert_eq!(parsed("https://[fd00::1]:9"), some(true, "fd00::1", 9));
        assert_eq!(
            parsed("http://127.0.0.1:8080"),
            some(false, "127.0.0.1", 8080)
        );
        assert_eq!(parsed("http://[::1]"), some(false, "::1", 80));
        assert_eq!(parsed("http://localhost:1"), some(false, "localhost", 1));
        for bad in [
            "kms.lan:8443",
            "https://",
            "https://:8443",
            "https://kms.lan:0",
            "https://kms.lan:99999",
            "https://kms.lan/path",
            "https://user@kms.lan",
            "https://[::1",
            "http://10.0.0.5:8080",
            "http://kms.lan",
        ] {
            assert_eq!(parsed(bad), None, "{bad}");
        }
        let endpoint = Endpoint::parse("https://[fd00::1]:443").unwrap();
        assert_eq!(endpoint.to_string(), "https://[fd00::1]");
        assert_eq!(endpoint.host_header("fd00::1"), "[fd00::1]");
    }
}
