//! What the console asks of the desktop: file dialogs and the clipboard. The app holds them as
//! traits, so tests drive every flow with fakes and the real ones stay out of the drawing code.

use keyconsole_base::tr;
use keyconsole_kms::{ErrorCode, KmsError};
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, Sender, channel};

/// Why a dialog was opened; the answer is routed back by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialogPurpose {
    OpenKeystore,
    NewKeystore,
    SaveCiphertext,
    SaveDataKeyCiphertext,
    SavePlaintext,
    OpenCiphertext,
    /// The file to encrypt or decrypt on the File tools page.
    FileInput,
    /// Where its result goes.
    FileOutput,
    /// A file whose content becomes a new secret's value.
    SecretValueFile,
    /// Where an SSH key pair's private key is written.
    SshPrivateKey,
    /// Where a key pair's public key (PEM) is written.
    SavePublicKey,
    /// Where an import's wrapping public key (PEM) is written.
    SaveWrappingKey,
    /// The wrapped key material to import.
    OpenWrappedMaterial,
    /// A file to sign or verify.
    OpenMessageFile,
    /// Where the Audit page's events go.
    SaveAuditJsonl,
    SaveAuditCsv,
}

impl DialogPurpose {
    pub fn is_save(self) -> bool {
        matches!(
            self,
            Self::NewKeystore
                | Self::SaveCiphertext
                | Self::SaveDataKeyCiphertext
                | Self::SavePlaintext
                | Self::FileOutput
                | Self::SshPrivateKey
                | Self::SavePublicKey
                | Self::SaveWrappingKey
                | Self::SaveAuditJsonl
                | Self::SaveAuditCsv
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DialogRequest {
    pub purpose: DialogPurpose,
    pub title: String,
    /// The file name a save dialog suggests.
    pub default_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DialogAnswer {
    pub purpose: DialogPurpose,
    /// None when the user cancelled.
    pub path: Option<PathBuf>,
    /// Why the desktop's dialog could not open; the console then opens its own.
    pub unavailable: Option<String>,
}

/// File dialogs that never block the UI: `request` opens one, `poll` returns the answer later.
pub trait FileDialogs {
    fn request(&mut self, request: DialogRequest);
    fn poll(&mut self) -> Option<DialogAnswer>;
}

pub trait Clipboard {
    fn set_text(&mut self, text: &str) -> Result<(), String>;
    fn get_text(&mut self) -> Option<String>;
    fn clear(&mut self);
}

/// The platform's dialogs (xdg-desktop-portal on Linux), each run on its own thread.
pub struct NativeDialogs {
    sender: Sender<DialogAnswer>,
    receiver: Receiver<DialogAnswer>,
    repaint: Option<egui::Context>,
}

impl NativeDialogs {
    pub fn new(repaint: Option<egui::Context>) -> Self {
        let (sender, receiver) = channel();
        Self {
            sender,
            receiver,
            repaint,
        }
    }
}

impl FileDialogs for NativeDialogs {
    fn request(&mut self, request: DialogRequest) {
        let sender = self.sender.clone();
        let repaint = self.repaint.clone();
        std::thread::spawn(move || {
            // rfd answers None both when the user cancels and when no dialog could open; find
            // out first, so a desktop without one gets keyconsole's own instead of nothing.
            if let Err(why) = native_dialog_available() {
                let _ = sender.send(DialogAnswer {
                    purpose: request.purpose,
                    path: None,
                    unavailable: Some(why),
                });
                if let Some(ctx) = repaint {
                    ctx.request_repaint();
                }
                return;
            }
            let mut dialog = rfd::FileDialog::new().set_title(&request.title);
            if let Some(name) = &request.default_name {
                dialog = dialog.set_file_name(name);
            }
            let path = if request.purpose.is_save() {
                dialog.save_file()
            } else {
                dialog.pick_file()
            };
            let _ = sender.send(DialogAnswer {
                purpose: request.purpose,
                path,
                unavailable: None,
            });
            if let Some(ctx) = repaint {
                ctx.request_repaint();
            }
        });
    }

    fn poll(&mut self) -> Option<DialogAnswer> {
        self.receiver.try_recv().ok()
    }
}

/// Whether the desktop can show its file dialog: rfd uses the XDG desktop portal's FileChooser
/// on Linux, and zenity when the portal fails.
fn native_dialog_available() -> Result<(), String> {
    #[cfg(target_os = "linux")]
    {
        let portal = portal_file_chooser();
        if portal.is_ok() || program_on_path("zenity") {
            return Ok(());
        }
        Err(tr!(
            "ui.platform.no_desktop_portal_with_a_file",
            portal = portal.err().unwrap_or_default()
        ))
    }
    #[cfg(not(target_os = "linux"))]
    Ok(())
}

/// The portal's FileChooser interface version; asking starts the portal if D-Bus can activate it.
#[cfg(target_os = "linux")]
fn portal_file_chooser() -> Result<u32, String> {
    let connection = zbus::blocking::Connection::session().map_err(|e| e.to_string())?;
    let proxy = zbus::blocking::Proxy::new(
        &connection,
        "org.freedesktop.portal.Desktop",
        "/org/freedesktop/portal/desktop",
        "org.freedesktop.portal.FileChooser",
    )
    .map_err(|e| e.to_string())?;
    proxy
        .get_property::<u32>("version")
        .map_err(|e| e.to_string())
}

#[cfg(target_os = "linux")]
fn program_on_path(name: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(name).is_file()))
}

/// The system clipboard through arboard; silently absent where there is none (e.g. no display).
#[derive(Default)]
pub struct SystemClipboard {
    inner: Option<arboard::Clipboard>,
}

impl SystemClipboard {
    fn clipboard(&mut self) -> Result<&mut arboard::Clipboard, String> {
        if self.inner.is_none() {
            self.inner = Some(arboard::Clipboard::new().map_err(|e| e.to_string())?);
        }
        self.inner
            .as_mut()
            .ok_or_else(|| tr!("ui.platform.no_clipboard").to_owned())
    }
}

impl Clipboard for SystemClipboard {
    fn set_text(&mut self, text: &str) -> Result<(), String> {
        self.clipboard()?.set_text(text).map_err(|e| e.to_string())
    }

    fn get_text(&mut self) -> Option<String> {
        self.clipboard().ok()?.get_text().ok()
    }

    fn clear(&mut self) {
        if let Ok(clipboard) = self.clipboard() {
            let _ = clipboard.clear();
        }
    }
}

/// What a failed read or write of `path` says.
pub fn file_error(path: &std::path::Path, e: &std::io::Error, writing: bool) -> KmsError {
    let message = if writing {
        tr!(
            "ui.commands.cannot_write_path_e",
            path = path.display(),
            e = e
        )
    } else {
        tr!(
            "ui.commands.cannot_read_path_e",
            path = path.display(),
            e = e
        )
    };
    KmsError::new(ErrorCode::FileIo, message)
}
