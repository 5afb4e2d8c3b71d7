//! What the drawing code asks for. Panels push commands while they draw; the app carries them out
//! after the frame is laid out, so no engine call, file or dialog ever runs inside drawing code.
//! A command carries its inputs (what the user typed and chose), so carrying it out does not
//! depend on reading a page's fields.

use zeroize::Zeroizing;

use std::path::PathBuf;

use crate::pages::files::FileJobRequest;
use crate::platform::{DialogAnswer, DialogPurpose};
use keyconsole_base::util::database::DbEndpoint;
use keyconsole_kms::secrets::CreateDatabaseSecret;
use keyconsole_kms::{CreateKey, CreateSecret, DataKeySpec, KmsError, SecretValue};

#[derive(Debug)]
pub enum Command {
    // The unlock screen.
    Unlock,
    CreateKeystore,
    /// Connect to the server the unlock screen's form names.
    Connect,
    SetKeystorePath(PathBuf),

    // Everywhere.
    Lock,
    /// keyconsole's own file dialog answered.
    DialogAnswered(DialogAnswer),
    /// A problem found while drawing (input that does not parse), for a notification.
    Report(KmsError),
    Dialog(DialogPurpose),
    Copy {
        text: Zeroizing<String>,
        what: String,
    },

    // Navigation.
    ShowKeys,
    ShowKey(String),
    /// The key's page with its *Schedule deletion* dialog open (the key list's row operation).
    ShowKeyDeletion(String),
    /// The File tools page, with this key chosen for encryption if given.
    ShowFiles(Option<String>),
    OpenCreateKey,

    // Key management; keys are KeyIds.
    CreateKey(CreateKey),
    SetEnabled {
        keys: Vec<String>,
        enable: bool,
    },
    UpdateKey {
        key: String,
        alias: Option<String>,
        description: Option<String>,
    },
    Archive(String),
    Unarchive(String),
    Rotate(String),
    SetRotation {
        key: String,
        enabled: bool,
        days: u32,
    },
    ScheduleDeletion {
        key: String,
        days: u32,
    },
    CancelDeletion(String),

    // The online tools of the open key; the answers go back to its page.
    Encrypt {
        key: String,
        /// The bytes to encrypt, or why the input could not be read (base64 that is not).
        plaintext: Result<Zeroizing<Vec<u8>>, KmsError>,
        context: String,
    },
    Decrypt {
        ciphertext: String,
        context: String,
    },
    GenerateDataKey {
        key: String,
        spec: DataKeySpec,
        context: String,
    },

    // Secrets (the Secrets page); secrets are named.
    ShowSecrets,
    CreateSecret(CreateSecret),
    RevealSecret {
        name: String,
        version_id: String,
    },
    PutSecretValue {
        name: String,
        version_id: String,
        value: SecretValue,
    },
    SetSecretEnabled {
        name: String,
        enable: bool,
    },
    DeleteSecret {
        name: String,
        recovery_days: u32,
    },
    RestoreSecret(String),
    UpdateSecretDescription {
        name: String,
        description: String,
    },
    DeleteSecretVersion {
        name: String,
        version_id: String,
    },
    /// Log in to a database, off the UI thread (the create form's *Test connection*).
    TestDatabaseConnection {
        endpoint: DbEndpoint,
        password: Zeroizing<String>,
    },
    /// Create a database secret (it logs in first), off the UI thread.
    CreateDatabaseSecret(CreateDatabaseSecret),
    /// Rotate a database secret now, off the UI thread.
    RotateSecret(String),
    SetSecretRotation {
        name: String,
        enabled: bool,
        days: u32,
    },

    /// Encrypt or decrypt a file (the File tools page).
    StartFileJob(FileJobRequest),

    // The API access page.
    ShowApi,
    StartApi,
    StopApi,
    CreateApiCredentials,
    RotateApiCredentials,
}
