//! What the drawing code asks for. Panels push commands while they draw; the app carries them out
//! after the frame is laid out, so no engine call, file or dialog ever runs inside drawing code.
//! A command carries its inputs (what the user typed and chose), so carrying it out does not
//! depend on reading a page's fields.
//!
//! The app's own effects (unlocking, locking, navigation, dialogs, the clipboard) are variants
//! here; what a page asks of the service is that page's request type, which the page itself
//! carries out and whose answers it applies to its own state (`app::backend::PageCalls`).

use zeroize::Zeroizing;

use std::path::PathBuf;

use crate::pages::api_access::ApiRequest;
use crate::pages::audit::AuditRequest;
use crate::pages::files::FileJobRequest;
use crate::pages::key_changes::KeyRequest;
use crate::pages::key_pair_tools::PairRequest;
use crate::pages::online_tools::ToolRequest;
use crate::pages::secrets::SecretRequest;
use crate::platform::{DialogAnswer, DialogPurpose};
use keyconsole_kms::{CreateKey, KmsError};

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
    ShowSecrets,
    ShowApi,
    ShowAudit,

    // What the pages ask of the service, each answered to the page that asked.
    /// The create-key dialog's *Create*.
    CreateKey(CreateKey),
    /// A change the key list asked for (its rows, its batch buttons).
    KeyListChange(KeyRequest),
    /// A change the open key's page asked for.
    KeyPageChange(KeyRequest),
    /// The open key's online tools.
    Tool(ToolRequest),
    /// The open key pair's tools, or an EXTERNAL key's import.
    Pair(PairRequest),
    Secret(SecretRequest),
    Api(ApiRequest),
    Audit(AuditRequest),
    /// Encrypt or decrypt a file (the File tools page).
    StartFileJob(FileJobRequest),
}
