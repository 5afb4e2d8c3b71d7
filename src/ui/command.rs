//! What the drawing code asks for. Panels push commands while they draw; the app carries them out
//! after the frame is laid out, so no engine call, file or dialog ever runs inside drawing code.

use zeroize::Zeroizing;

use crate::kms::CreateKey;
use crate::ui::platform::DialogPurpose;

#[derive(Debug)]
pub enum Command {
    // The unlock screen.
    Unlock,
    CreateKeystore,
    SetKeystorePath(std::path::PathBuf),

    // Everywhere.
    Lock,
    Dialog(DialogPurpose),
    Copy {
        text: Zeroizing<String>,
        what: &'static str,
    },

    // Navigation.
    ShowKeys,
    ShowKey(String),
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

    // The online tools of the open key.
    Encrypt,
    Decrypt,
    GenerateDataKey,

    /// Start encrypting or decrypting the file chosen on the File tools page.
    StartFileJob,

    // The API access page.
    ShowApi,
    StartApi,
    StopApi,
    CreateApiCredentials,
    RotateApiCredentials,
}
