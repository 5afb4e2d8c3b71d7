//! The store's own errors. The engine turns them into its codes (`FailedOperation.KeystoreDamaged`,
//! …) at its edge, so this layer knows nothing of the KMS API. Messages never hold a secret.

use std::fmt;

use keyconsole_base::util::i18n::{Language, Text};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreErrorKind {
    /// The header is intact but the master key does not unwrap.
    WrongPassword,
    /// Not a keystore, or damaged.
    Damaged,
    NotFound,
    /// A keystore is already where one was to be created.
    Exists,
    /// Another process held the lock too long.
    Busy,
    /// Reading or writing failed.
    Io,
    /// KDF settings (or a password) this store refuses to use.
    InvalidSettings,
    /// A save would make the file larger than the store opens (or grow a nearly full one).
    TooLarge,
    /// Another process gave the keystore a new master key; unlock it again.
    Rekeyed,
    Internal,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError {
    pub kind: StoreErrorKind,
    /// In English; `text` renders it in any language.
    pub message: String,
    pub text: Text,
}

impl StoreError {
    pub fn new(kind: StoreErrorKind, message: impl Into<Text>) -> Self {
        let text = message.into();
        Self {
            kind,
            message: text.render(Language::English),
            text,
        }
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {}", self.kind, self.message)
    }
}

impl std::error::Error for StoreError {}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
