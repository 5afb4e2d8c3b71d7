//! Errors of the engine: a domain kind (what went wrong, in the engine's words) and a message in
//! either language. The kinds follow what the cloud KMS consoles distinguish, so each dialect can
//! name every one with its cloud's code (`api::tencent::codes`). Messages never carry key material
//! or plaintext.

use std::fmt;

use keyconsole_base::util::i18n::{Language, Text};

/// What went wrong: the distinctions the cloud KMS APIs make, plus a few of keyconsole's own for
/// the keystore file (which a cloud KMS does not have).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    InvalidParameter,
    InvalidParameterValue,
    InvalidKeyId,
    InvalidAlias,
    AliasAlreadyExists,
    InvalidCiphertext,
    InvalidPlaintext,
    InvalidEncryptionContext,
    InvalidPendingWindowInDays,
    /// A resource's tags name one key twice.
    TagKeysDuplicated,
    /// A request names a parameter its action does not have (API only).
    UnknownParameter,
    /// A request names an HSM cluster: keyconsole has none.
    InvalidHsmClusterId,
    CmkNotFound,
    CmkDisabled,
    CmkArchived,
    CmkShouldBeDisabled,
    CmkNotPendingDelete,
    CmkStateNotSupport,
    /// A key of another usage than the operation needs (Encrypt with a signing key, say), or a
    /// usage CreateKey does not know.
    InvalidKeyUsage,
    /// Import operations on a key whose material keyconsole made.
    NotExternalCmk,
    /// The import token is not the one handed out, or is past its 24 hours.
    TokenExpired,
    /// The wrapped material does not unwrap with the import key, or is not the key's length.
    DecryptMaterialError,
    /// Material imported again is not the material first imported.
    MaterialNotMatch,
    /// Keys with imported material do not rotate.
    ExternalCmkCanNotRotate,
    /// CreateKey's Type is none the cloud knows.
    InvalidType,
    /// The key cannot rotate (key pairs).
    RotateNotSupported,
    /// Encrypting an answer to the caller's public key failed (its EncryptionPublicKey).
    EncryptionError,
    /// The CMK protects secrets (the cloud: used by a cloud product), so it cannot be deleted.
    CmkUsedByCloudProduct,
    DecryptError,
    MissingParameter,
    InternalError,
    SignatureFailure,
    SignatureExpire,
    SecretIdNotFound,
    /// The Authorization header is missing or not TC3-HMAC-SHA256 (API only).
    InvalidAuthorization,
    /// The API has no such action (API only).
    InvalidAction,
    /// X-TC-Version is not 2019-01-18 (API only).
    NoSuchVersion,
    /// The request body is over 64 KiB (API only).
    RequestSizeLimitExceeded,
    /// Neither GET nor POST (API only).
    UnsupportedRequestMethod,
    // Secrets Manager (SSM 2019-09-23).
    SecretExists,
    VersionIdExists,
    SecretNotExist,
    ResourceDisabled,
    ResourcePendingDeleted,
    LimitExceeded,
    /// CreateKey past the keystore's key quota.
    CmkLimitExceeded,
    OperationDenied,
    /// The CMK protecting a secret cannot decrypt it (disabled, archived, pending deletion, gone).
    AccessKmsError,
    /// The action does not apply here (rotation of a secret that holds no database credentials).
    UnsupportedOperation,
    /// A value that rotation owns (a database secret's password) cannot be set by hand.
    AutoRotatedResource,
    /// Something outside the keystore refused (a database during rotation); the message says what.
    FailedOperation,
    /// The keystore password is wrong (the header is intact, the master key does not unwrap).
    WrongPassword,
    /// The keystore file is damaged or not a keystore at all.
    KeystoreDamaged,
    /// No keystore at the given path.
    KeystoreNotFound,
    /// A keystore already exists where one was to be created.
    KeystoreExists,
    /// Another process held the keystore lock for too long.
    KeystoreBusy,
    /// Reading or writing the keystore file failed.
    KeystoreIo,
    /// An output file exists and overwriting was not asked for, or it names the keystore.
    FileExists,
    /// Reading or writing a file other than the keystore failed (a full disk, say); the message
    /// carries the operating system's reason.
    FileIo,
    /// The user cancelled a long operation.
    Cancelled,
    /// A remote server (`--endpoint`, the console's connection) could not be reached, refused
    /// the TLS connection, did not answer in time, or answered with something other than the API.
    ServerUnreachable,
    /// The caller's policy does not allow the action on the resource.
    UnauthorizedOperation,
    /// No user of that name.
    UserNotFound,
    /// A user of that name exists.
    UserExists,
    /// The audit trail cannot record the operation (a full disk, a damaged trail), so the
    /// operation was refused: keyconsole does nothing it cannot record.
    AuditUnavailable,
    /// Inside the engine only: an encryption found nothing reserved for its key and may not wait
    /// for a save here (an async worker); the message is the KeyId. The API runs the request
    /// again on a blocking thread; a client never sees it.
    ReservationNeeded,
}

/// The kind's own name (`CmkDisabled`). What a cloud calls it is each dialect's business
/// (`api::tencent::codes`: `ResourceUnavailable.CmkDisabled`).
impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// An engine error: a code for programs and a one-sentence message for people, in English in
/// `message` and in any language by [`KmsError::localized`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KmsError {
    pub code: ErrorCode,
    pub message: String,
    pub text: Text,
}

impl KmsError {
    pub fn new(code: ErrorCode, message: impl Into<Text>) -> Self {
        let text = message.into();
        Self {
            code,
            message: text.render(Language::English),
            text,
        }
    }

    /// The message in `language`.
    pub fn localized(&self, language: Language) -> String {
        self.text.render(language)
    }

    /// The message in the language of this thread's text (the console's language).
    pub fn message_here(&self) -> String {
        self.localized(keyconsole_base::util::i18n::current())
    }
}

impl fmt::Display for KmsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for KmsError {}

pub type Result<T, E = KmsError> = std::result::Result<T, E>;

/// Shorthand used throughout the engine: `err(CmkDisabled, text!(KEY, name = value))`.
pub(crate) fn err<T>(code: ErrorCode, message: impl Into<Text>) -> Result<T> {
    Err(KmsError::new(code, message))
}

/// The store's errors become the engine's codes here, at the store's edge.
impl From<keyconsole_store::StoreError> for KmsError {
    fn from(e: keyconsole_store::StoreError) -> Self {
        use keyconsole_store::StoreErrorKind as Kind;
        let code = match e.kind {
            Kind::WrongPassword => ErrorCode::WrongPassword,
            Kind::Damaged => ErrorCode::KeystoreDamaged,
            Kind::NotFound => ErrorCode::KeystoreNotFound,
            Kind::Exists => ErrorCode::KeystoreExists,
            Kind::Busy => ErrorCode::KeystoreBusy,
            Kind::Io => ErrorCode::KeystoreIo,
            Kind::InvalidSettings => ErrorCode::InvalidParameterValue,
            Kind::TooLarge => ErrorCode::LimitExceeded,
            Kind::Rekeyed => ErrorCode::WrongPassword,
            Kind::Internal => ErrorCode::InternalError,
        };
        KmsError::new(code, e.text)
    }
}
