//! Carrying out the commands the pages pushed while drawing: the app's own (unlocking, connecting,
//! navigation, dialogs and the files they chose, the clipboard), and routing what a page asks of
//! the service to that page's request type, which runs it and applies the answer to the page
//! (if it is still open) and to a notification.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use keyconsole_base::tr;
use zeroize::Zeroizing;

use super::backend::{Outcome, PageCalls};
use super::{
    CLIPBOARD_CLEAR_SECONDS, Console, CopiedText, KeyconsoleApp, Page, SavedServer, Screen, digest,
};
use crate::command::Command;
use crate::file_dialog::{DialogPreference, InAppDialog, remember_place};
use crate::model::Model;
use crate::pages::create_key::CreateKeyDialog;
use crate::pages::files::FileMode;
use crate::pages::key_detail::KeyDetailState;
use crate::pages::online_tools::ToolRequest;
use crate::pages::secrets::SecretRequest;
use crate::pages::unlock::{Opened, UnlockScreen};
use crate::platform::{DialogAnswer, DialogPurpose, DialogRequest, file_error};
use keyconsole_api::tencent::client::{Endpoint, RemoteService, RemoteSettings};
use keyconsole_kms::outputs::check_output_path;
use keyconsole_kms::{Caller, ErrorCode, Face, Kms, KmsError, KmsService};
use keyconsole_store::kdf;
use std::path::PathBuf;

impl KeyconsoleApp {
    pub(super) fn handle(&mut self, command: Command) {
        match command {
            Command::Unlock | Command::CreateKeystore => {
                self.start_unlock(matches!(command, Command::CreateKeystore))
            }
            Command::Connect => self.start_connect(),
            Command::SetKeystorePath(path) => {
                if let Screen::Locked(unlock) = &mut self.screen
                    && !unlock.busy()
                {
                    **unlock = UnlockScreen::new(path);
                }
            }
            Command::Lock => self.lock(),
            Command::Dialog(purpose) => self.open_dialog(purpose),
            Command::DialogAnswered(answer) => self.dialog_answered(answer),
            Command::Copy { text, what } => match self.env.clipboard.set_text(&text) {
                Ok(()) => {
                    self.copied = Some(CopiedText {
                        digest: digest(&text),
                        at: self.now(),
                    });
                    self.succeed(tr!(
                        "ui.commands.copied_what_the_clipboard_is_cleared",
                        what = what,
                        clipboard_clear_seconds = CLIPBOARD_CLEAR_SECONDS
                    ));
                }
                Err(why) => self.fail(&KmsError::new(
                    ErrorCode::InternalError,
                    tr!("ui.commands.the_clipboard_is_not_available_why", why = why),
                )),
            },
            other => self.handle_console(other),
        }
    }

    fn start_unlock(&mut self, create: bool) {
        let Screen::Locked(unlock) = &mut self.screen else {
            return;
        };
        if unlock.busy() {
            return;
        }
        let path = unlock.path.clone();
        let password = Zeroizing::new(unlock.password.as_bytes().to_vec());
        if create {
            if *unlock.confirm != *unlock.password {
                unlock.error = Some(KmsError::new(
                    ErrorCode::InvalidParameterValue,
                    tr!("ui.commands.the_two_passwords_differ"),
                ));
                return;
            }
            unlock.start(&self.ctx, move || {
                Kms::create(&path, &password, kdf::DEFAULT_PARAMS)
                    .map(|kms| Opened::Local(Box::new(kms)))
            });
        } else {
            let clock = self.env.clock.clone();
            unlock.start(&self.ctx, move || {
                Kms::open_with_clock(&path, &password, clock)
                    .map(|kms| Opened::Local(Box::new(kms)))
            });
        }
    }

    /// Connects to the server the form names, on the unlock worker: the first call (the key list)
    /// proves the endpoint, the CA and the credential before the console opens on it.
    fn start_connect(&mut self) {
        let language = self.language();
        let Screen::Locked(unlock) = &mut self.screen else {
            return;
        };
        if unlock.busy() {
            return;
        }
        let form = &unlock.connect;
        let ca_file = form.ca_file.trim();
        self.prefs.server = Some(SavedServer {
            endpoint: form.endpoint.trim().to_owned(),
            secret_id: form.secret_id.trim().to_owned(),
            ca_file: ca_file.to_owned(),
        });
        let settings = Endpoint::parse(&form.endpoint).map(|endpoint| RemoteSettings {
            endpoint,
            secret_id: form.secret_id.trim().to_owned(),
            secret_key: form.secret_key.as_str().to_owned().into(),
            ca_file: (!ca_file.is_empty()).then(|| PathBuf::from(ca_file)),
            region: "ap-guangzhou".to_owned(),
        });
        unlock.start(&self.ctx, move || {
            let remote = RemoteService::new(settings?)?;
            // Any caller may ask what it may do: the proof of the endpoint, CA and credential.
            remote.caller_policy(&Caller::local(Face::Console, language))?;
            Ok(Opened::Remote(Box::new(remote)))
        });
    }

    fn handle_console(&mut self, command: Command) {
        let now = self.now();
        let ctx = self.ctx.clone();
        let Screen::Unlocked(console) = &mut self.screen else {
            return;
        };
        let Console {
            session,
            backend,
            page,
            files,
            create_key,
            api,
            secrets,
            audit,
            model,
            ..
        } = &mut **console;
        // Navigation is the app's; what a page asks of the service, that page carries out and
        // answers to itself. Each arm returns the success message, or the error.
        let outcome: Outcome = match command {
            Command::ShowKeys => {
                *page = Page::Keys;
                Ok(None)
            }
            Command::ShowKey(id) => known_key(model, &id).map(|key| {
                *page = Page::Key(Box::new(KeyDetailState::new(&key)));
                None
            }),
            Command::ShowKeyDeletion(id) => known_key(model, &id).map(|key| {
                let mut detail = KeyDetailState::new(&key);
                detail.open_deletion();
                *page = Page::Key(Box::new(detail));
                None
            }),
            Command::ShowFiles(key) => {
                if key.is_some() && files.job.is_none() {
                    files.mode = FileMode::Encrypt;
                    files.key = key;
                }
                *page = Page::Files;
                Ok(None)
            }
            Command::OpenCreateKey => {
                *create_key = Some(CreateKeyDialog::default());
                Ok(None)
            }
            Command::ShowSecrets => {
                *page = Page::Secrets;
                Ok(None)
            }
            Command::ShowApi => {
                *page = Page::Api;
                Ok(None)
            }
            Command::ShowAudit => {
                *page = Page::Audit;
                // Read afresh each time the page opens (when the user may: the page says why not).
                if model.why_not("cloudaudit:LookUpEvents", "*").is_some() {
                    return;
                }
                crate::pages::audit::AuditRequest::Load.run(
                    audit,
                    PageCalls::new(backend, session, &ctx, |c| Some(&mut c.audit)),
                    now,
                )
            }
            Command::Audit(request) => request.run(
                audit,
                PageCalls::new(backend, session, &ctx, |c| Some(&mut c.audit)),
                now,
            ),
            Command::Report(e) => Err(e),
            Command::StartFileJob(request) => {
                files.start_job(session, &ctx, request);
                Ok(None)
            }
            Command::CreateKey(request) => crate::pages::create_key::create(
                request,
                PageCalls::new(backend, session, &ctx, |c| Some(&mut c.create_key)),
            ),
            Command::KeyListChange(request) => {
                request.run(PageCalls::new(backend, session, &ctx, |c| {
                    Some(&mut c.key_list)
                }))
            }
            Command::KeyPageChange(request) => {
                request.run(PageCalls::new(backend, session, &ctx, key_page))
            }
            Command::Tool(request) => request.run(PageCalls::new(backend, session, &ctx, key_page)),
            Command::Pair(request) => request.run(PageCalls::new(backend, session, &ctx, key_page)),
            Command::Secret(request) => request.run(
                secrets,
                PageCalls::new(backend, session, &ctx, |c| Some(&mut c.secrets)),
            ),
            Command::Api(request) => request.run(
                api,
                PageCalls::new(backend, session, &ctx, |c| Some(&mut c.api)),
            ),
            Command::Unlock
            | Command::CreateKeystore
            | Command::Connect
            | Command::SetKeystorePath(_)
            | Command::Lock
            | Command::Dialog(_)
            | Command::DialogAnswered(_)
            | Command::Copy { .. } => Ok(None),
        };
        match outcome {
            Ok(Some(message)) => self.notifications.success(now, message),
            Ok(None) => {}
            Err(e) => self.notifications.error(now, &e),
        }
    }

    pub(super) fn open_dialog(&mut self, purpose: DialogPurpose) {
        let alias = match &self.screen {
            Screen::Unlocked(console) => match &console.page {
                Page::Key(detail) => console
                    .model
                    .keys
                    .find(&detail.key_id)
                    .map(|k| k.alias.clone())
                    .unwrap_or_default(),
                Page::Keys | Page::Files | Page::Api | Page::Secrets | Page::Audit => String::new(),
            },
            Screen::Locked(_) => String::new(),
        };
        let (title, default_name) = match purpose {
            DialogPurpose::OpenKeystore => (tr!("ui.commands.open_a_keystore"), None),
            DialogPurpose::NewKeystore => (
                tr!("ui.commands.create_a_keystore"),
                Some(keyconsole_store::DEFAULT_FILE_NAME.to_owned()),
            ),
            DialogPurpose::SaveCiphertext => (
                tr!("ui.commands.save_the_ciphertext"),
                Some(format!("{alias}.kc")),
            ),
            DialogPurpose::SaveDataKeyCiphertext => (
                tr!("ui.commands.save_the_encrypted_data_key"),
                Some(format!("{alias}-datakey.kc")),
            ),
            DialogPurpose::SavePlaintext => (
                tr!("ui.commands.save_the_plaintext_unencrypted"),
                Some("plaintext.txt".to_owned()),
            ),
            DialogPurpose::OpenCiphertext => (tr!("ui.commands.open_a_ciphertext_file"), None),
            DialogPurpose::FileInput => (tr!("ui.commands.choose_a_file"), None),
            DialogPurpose::FileOutput => (
                tr!("ui.commands.save_the_result_as"),
                self.files_output_name(),
            ),
            DialogPurpose::SecretValueFile => (tr!("ui.commands.choose_the_secret_s_file"), None),
            DialogPurpose::SshPrivateKey => (
                tr!("ui.commands.save_the_ssh_private_key"),
                Some(self.ssh_private_key_name()),
            ),
            DialogPurpose::SavePublicKey => (
                tr!("ui.key_pairs.save_the_public_key"),
                Some(format!("{alias}-public.pem")),
            ),
            DialogPurpose::SaveWrappingKey => (
                tr!("ui.key_pairs.save_the_wrapping_key"),
                Some(format!("{alias}-wrapping-key.pem")),
            ),
            DialogPurpose::OpenWrappedMaterial => {
                (tr!("ui.key_pairs.choose_the_wrapped_material"), None)
            }
            DialogPurpose::OpenMessageFile => (tr!("ui.key_pairs.choose_the_file"), None),
            DialogPurpose::SaveAuditJsonl => (
                tr!("ui.audit.export_title"),
                Some("keyconsole-audit.jsonl".to_owned()),
            ),
            DialogPurpose::SaveAuditCsv => (
                tr!("ui.audit.export_title"),
                Some("keyconsole-audit.csv".to_owned()),
            ),
        };
        let request = DialogRequest {
            purpose,
            title: title.to_owned(),
            default_name,
        };
        if self.prefs.file_dialog == DialogPreference::InApp
            || self.desktop_dialog_unavailable.is_some()
        {
            self.in_app_dialog = Some(InAppDialog::open(request, &self.prefs.recent_places));
        } else {
            self.env.dialogs.request(request);
        }
    }

    pub(super) fn dialog_answered(&mut self, answer: DialogAnswer) {
        let Some(path) = answer.path else { return };
        if let Some(folder) = path.parent().filter(|f| !f.as_os_str().is_empty()) {
            remember_place(&mut self.prefs.recent_places, folder);
        }
        let result = match answer.purpose {
            DialogPurpose::OpenKeystore | DialogPurpose::NewKeystore => {
                if let Screen::Locked(unlock) = &mut self.screen
                    && !unlock.busy()
                {
                    **unlock = UnlockScreen::new(path);
                }
                Ok(None)
            }
            purpose => self.file_io(purpose, &path),
        };
        match result {
            Ok(Some(message)) => self.succeed(message),
            Ok(None) => {}
            Err(e) => self.fail(&e),
        }
    }

    /// `id_NAME` for the chosen secret's key pair, as ssh-keygen names its files.
    fn ssh_private_key_name(&self) -> String {
        let Screen::Unlocked(console) = &self.screen else {
            return "id_ed25519".to_owned();
        };
        console
            .secrets
            .selected
            .as_deref()
            .and_then(|name| console.model.secrets.iter().find(|s| s.name == name))
            .and_then(|s| s.ssh.as_ref())
            .map_or_else(|| "id_ed25519".to_owned(), |p| format!("id_{}", p.key_name))
    }

    fn files_output_name(&self) -> Option<String> {
        let Screen::Unlocked(console) = &self.screen else {
            return None;
        };
        console
            .files
            .output()
            .and_then(|p| p.file_name())
            .map(|n| n.to_string_lossy().into_owned())
    }

    /// Reads or writes the file a dialog chose, for the open key's online tools or the secret
    /// form, on the worker (a write ends with fsync; a read may meet a slow disk).
    fn file_io(
        &mut self,
        purpose: DialogPurpose,
        path: &std::path::Path,
    ) -> Result<Option<String>, KmsError> {
        let Screen::Unlocked(console) = &mut self.screen else {
            return Ok(None);
        };
        let path = path.to_path_buf();
        match purpose {
            DialogPurpose::FileInput => {
                console.files.set_input(path);
                return Ok(None);
            }
            DialogPurpose::FileOutput => {
                console.files.set_output(path);
                return Ok(None);
            }
            DialogPurpose::SecretValueFile => {
                self.handle_console(Command::Secret(SecretRequest::ReadValueFile(path)));
                return Ok(None);
            }
            DialogPurpose::SaveAuditJsonl | DialogPurpose::SaveAuditCsv => {
                let csv = purpose == DialogPurpose::SaveAuditCsv;
                self.handle_console(Command::Audit(crate::pages::audit::AuditRequest::Export {
                    path,
                    csv,
                }));
                return Ok(None);
            }
            DialogPurpose::SshPrivateKey => {
                if let Some(name) = console.secrets.selected.clone() {
                    self.handle_console(Command::Secret(SecretRequest::SaveSshPrivateKey {
                        name,
                        path,
                    }));
                }
                return Ok(None);
            }
            _ => {}
        }
        let Page::Key(detail) = &mut console.page else {
            return Ok(None);
        };
        match purpose {
            DialogPurpose::OpenWrappedMaterial => {
                detail.import.material_file = Some(path);
                return Ok(None);
            }
            DialogPurpose::OpenMessageFile => {
                detail.pairs.source = crate::pages::key_pair_tools::MessageSource::File(path);
                return Ok(None);
            }
            _ => {}
        }
        let page_key = detail.key_id.clone();
        let tools = &detail.tools;
        let bytes: Zeroizing<Vec<u8>> = match purpose {
            DialogPurpose::SaveCiphertext => Zeroizing::new(tools.ciphertext.as_bytes().to_vec()),
            DialogPurpose::SaveDataKeyCiphertext => Zeroizing::new(
                tools
                    .data_key
                    .as_ref()
                    .map(|d| d.ciphertext_blob.as_bytes().to_vec())
                    .unwrap_or_default(),
            ),
            DialogPurpose::SavePlaintext => {
                let Some(revealed) = &tools.decrypted else {
                    return Ok(None);
                };
                if revealed.is_base64 {
                    Zeroizing::new(STANDARD.decode(revealed.text.as_str()).unwrap_or_default())
                } else {
                    Zeroizing::new(revealed.text.as_bytes().to_vec())
                }
            }
            DialogPurpose::SavePublicKey => Zeroizing::new(
                detail
                    .pairs
                    .public_key
                    .as_ref()
                    .map(|p| p.pem.as_bytes().to_vec())
                    .unwrap_or_default(),
            ),
            DialogPurpose::SaveWrappingKey => Zeroizing::new(
                detail
                    .import
                    .parameters
                    .as_ref()
                    .map(|p| {
                        keyconsole_base::crypto::asymmetric::public_key_pem(&p.public_key)
                            .into_bytes()
                    })
                    .unwrap_or_default(),
            ),
            DialogPurpose::OpenCiphertext => {
                self.handle_console(Command::Tool(ToolRequest::OpenCiphertext {
                    key: page_key,
                    path,
                }));
                return Ok(None);
            }
            DialogPurpose::OpenKeystore
            | DialogPurpose::NewKeystore
            | DialogPurpose::FileInput
            | DialogPurpose::FileOutput
            | DialogPurpose::SecretValueFile
            | DialogPurpose::SshPrivateKey
            | DialogPurpose::OpenWrappedMaterial
            | DialogPurpose::OpenMessageFile
            | DialogPurpose::SaveAuditJsonl
            | DialogPurpose::SaveAuditCsv => return Ok(None),
        };
        console.backend.call(
            move |session| {
                // The save dialog already asked before replacing a file; the keystore is refused
                // always.
                if let Some(keystore) = session.service().keystore_path() {
                    check_output_path(keystore, &path)?;
                }
                keyconsole_base::util::atomic_file::replace_file(&path, &bytes)
                    .map_err(|e| file_error(&path, &e, true))?;
                Ok(path)
            },
            move |_, _, written| {
                let path = written?;
                let path = path.display();
                Ok(Some(match purpose {
                    DialogPurpose::SaveCiphertext => {
                        tr!("ui.commands.saved_the_ciphertext_to_path", path = path)
                    }
                    DialogPurpose::SaveDataKeyCiphertext => {
                        tr!("ui.commands.saved_the_encrypted_data_key_to", path = path)
                    }
                    DialogPurpose::SavePublicKey | DialogPurpose::SaveWrappingKey => {
                        tr!("ui.key_pairs.saved_the_public_key_to", path = path)
                    }
                    _ => tr!(
                        "ui.commands.saved_the_plaintext_to_path_readable",
                        path = path
                    ),
                }))
            },
        )
    }
}

/// The open key's page, for the answers of what it asked.
fn key_page(console: &mut Console) -> Option<&mut KeyDetailState> {
    match &mut console.page {
        Page::Key(detail) => Some(&mut **detail),
        Page::Keys | Page::Files | Page::Api | Page::Secrets | Page::Audit => None,
    }
}

/// A key of the snapshot, by KeyId or alias.
fn known_key(model: &Model, key: &str) -> Result<keyconsole_kms::KeyMetadata, KmsError> {
    model.keys.find(key).cloned().ok_or_else(|| {
        KmsError::new(
            ErrorCode::CmkNotFound,
            keyconsole_base::text!("errors.no_key_has_the_keyid_key", key = key),
        )
    })
}
