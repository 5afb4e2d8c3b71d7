//! A cloud's wire protocol as a plug-in of the HTTP transport. The transport (`http`) knows HTTP,
//! limits, deadlines and the access log; a dialect knows everything of its cloud: which requests
//! are its own, their signatures and parameters, the engine calls they make, and the shape and
//! codes of the answers. Adding a cloud is one folder beside `tencent/` and one line in `DIALECTS`.

use hyper::http::request::Parts;

use keyconsole_base::util::SecretBytes;
use keyconsole_base::util::i18n::Language;
use keyconsole_kms::{ErrorCode, KmsError, ServedKms};

/// One request a dialect read, ready to run.
pub trait Call: Send + 'static {
    /// A change saves with fsync and waits for the keystore's lock: the transport runs it on a
    /// blocking thread. Reads run on the async workers and never wait.
    fn is_change(&self) -> bool;
    /// Verifies, parses and carries out the request through the service, under `request_id`
    /// (the answer's). `may_wait` is false on the async workers, which must not block.
    fn run(&self, kms: &dyn ServedKms, request_id: &str, may_wait: bool) -> Outcome;
    /// The language of the answer's messages.
    fn language(&self) -> Language;
}

/// What a call did: the answer or the error, and what the access log records.
#[derive(Debug)]
pub struct Outcome {
    /// The action, as the dialect names it (a name it knows, never the request's raw text).
    pub action: &'static str,
    pub key_id: Option<String>,
    pub result: Result<Answer, KmsError>,
}

/// A successful answer's fields, in the dialect's own shape.
pub type Answer = serde_json::Map<String, serde_json::Value>;

pub trait Dialect: Send + Sync + 'static {
    /// The cloud's name in the access log (`tencent`, `huawei`, `jd`).
    fn name(&self) -> &'static str;
    /// Whether the request is this dialect's (its headers, its `Authorization` scheme).
    fn recognizes(&self, head: &Parts) -> bool;
    /// Reads a request (no engine call, no I/O).
    fn read(&self, head: &Parts, body: SecretBytes) -> Box<dyn Call>;
    /// The action a request names, for the log when its body could not be read.
    fn loggable_action(&self, head: &Parts) -> &'static str;
    /// The language a request asks its errors in, before it is read.
    fn language(&self, head: &Parts) -> Language;
    /// The cloud's code for an error kind in an answer to `action` (the access log shows it).
    fn code(&self, action: &str, kind: ErrorCode) -> &'static str;
    /// The answer: its status, content type, headers and bytes (wiped once sent: answers carry
    /// plaintexts).
    fn answer(
        &self,
        action: &str,
        result: Result<Answer, KmsError>,
        request_id: &str,
        language: Language,
    ) -> Written;
}

/// The address a request came from, as the transport put it in the request's extensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerAddress(pub std::net::IpAddr);

/// The address `head` came from, if the transport said.
pub fn peer(head: &Parts) -> Option<std::net::IpAddr> {
    head.extensions.get::<PeerAddress>().map(|p| p.0)
}

/// An answer as the transport writes it.
pub struct Written {
    /// The HTTP status: Tencent answers errors with 200, Huawei and JD with 4xx/5xx.
    pub status: u16,
    pub content_type: &'static str,
    pub headers: Vec<(&'static str, String)>,
    pub body: SecretBytes,
}

/// Every dialect served, asked in order; a request none recognizes goes to the first, which
/// answers it with its own refusal (a missing signature, say).
pub static DIALECTS: &[&dyn Dialect] = &[
    &super::tencent::TencentDialect,
    &super::huawei::HuaweiDialect,
    &super::jd::JdDialect,
];

/// The dialect of a request.
pub fn of(head: &Parts) -> &'static dyn Dialect {
    DIALECTS
        .iter()
        .copied()
        .find(|d| d.recognizes(head))
        .unwrap_or(DIALECTS[0])
}
