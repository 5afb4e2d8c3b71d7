//! Carrying out the commands the pages pushed while drawing: engine calls, dialogs, the
//! clipboard, the API server and file jobs. Each command carries its inputs; results go back to
//! the page that asked (if it is still open) and to a notification.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use keyconsole_base::tr;
use zeroize::Zeroizing;

use super::backend::Session;
use super::{
    CLIPBOARD_CLEAR_SECONDS, Console, CopiedText, KeyconsoleApp, Page, SavedServer, Screen, digest,
};
use crate::command::Command;
use crate::file_dialog::{DialogPreference, InAppDialog, remember_place};
use crate::pages::create_key::CreateKeyDialog;
use crate::pages::files::{FileJob, FileJobRequest, FileMode, FileToolsState};
use crate::pages::key_detail::KeyDetailState;
use crate::pages::online_tools::{OnlineTools, ToolAnswer, ToolTab};
use crate::pages::secrets::{RevealedValue, SecretKind, SecretTask, SecretTaskKind};
use crate::pages::unlock::{Opened, UnlockScreen};
use crate::platform::{DialogAnswer, DialogPurpose, DialogRequest};
use keyconsole_api::tencent::client::{Endpoint, RemoteService, RemoteSettings};
use keyconsole_api::{ApiServer, ServerConfig, tls};
use keyconsole_kms::envelope::{FileDecryptor, FileEncryptor};
use keyconsole_kms::local_ca::server_names;
use keyconsole_kms::outputs::check_output_path;
use keyconsole_kms::{
    Caller, CanonicalContext, ErrorCode, Face, KeyChange, KeyChanged, Kms, KmsError, KmsService,
    SecretChange, SecretChanged, SecretValue,
};
use keyconsole_store::kdf;
use std::path::PathBuf;
use std::sync::Arc;

/// Ciphertext files opened in the decrypt tool are blobs of a few KB; refuse anything huge.
const MAX_CIPHERTEXT_FILE_BYTES: u64 = 64 * 1024;

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
            remote.key_index(&Caller::local(Face::Console, language))?;
            Ok(Opened::Remote(Box::new(remote)))
        });
    }

    fn handle_console(&mut self, command: Command) {
        let now = self.now();
        let ctx = self.ctx.clone();
        let Screen::Unlocked(console) = &mut self.screen else {
            return;
        };
        let console = &mut **console;
        if let Some(outcome) = api_command(console, &command) {
            match outcome {
                Ok(Some(message)) => self.notifications.success(now, message),
                Ok(None) => {}
                Err(e) => self.notifications.error(now, &e),
            }
            return;
        }
        // Each arm returns the success message, or the engine's error.
        let outcome: Result<Option<String>, KmsError> = match command {
            Command::ShowKeys => {
                console.page = Page::Keys;
                Ok(None)
            }
            Command::ShowKey(id) => known_key(console, &id).map(|key| {
                console.page = Page::Key(Box::new(KeyDetailState::new(&key)));
                None
            }),
            Command::ShowKeyDeletion(id) => known_key(console, &id).map(|key| {
                let mut detail = KeyDetailState::new(&key);
                detail.open_deletion();
                console.page = Page::Key(Box::new(detail));
                None
            }),
            Command::ShowFiles(key) => {
                if key.is_some() && console.files.job.is_none() {
                    console.files.mode = FileMode::Encrypt;
                    console.files.key = key;
                }
                console.page = Page::Files;
                Ok(None)
            }
            Command::StartFileJob(request) => {
                start_file_job(&console.session, &mut console.files, &ctx, request)
            }
            Command::OpenCreateKey => {
                console.create_key = Some(CreateKeyDialog::default());
                Ok(None)
            }
            Command::CreateKey(request) => console.backend.change(
                move |kms| service(kms).create_key(&caller(), request),
                |console, _, created| match created {
                    Ok(key) => {
                        console.create_key = None;
                        Ok(Some(tr!(
                            "ui.commands.created_key_alias_key_id",
                            alias = key.alias,
                            key_id = key.key_id
                        )))
                    }
                    Err(e) => {
                        if let Some(dialog) = &mut console.create_key {
                            dialog.error = Some(e.clone());
                        }
                        Err(e)
                    }
                },
            ),
            Command::ShowSecrets => {
                console.page = Page::Secrets;
                Ok(None)
            }
            Command::CreateSecret(request) => console.backend.change(
                move |kms| service(kms).create_secret(&caller(), request),
                |console, _, created| {
                    let (name, version_id) = created?;
                    console.secrets.create = None;
                    console.secrets.select(Some(name.clone()));
                    Ok(Some(tr!(
                        "ui.commands.created_secret_name_version_version_id",
                        name = name,
                        version_id = version_id
                    )))
                },
            ),
            Command::RevealSecret { name, version_id } => {
                let (asked, asked_version) = (name.clone(), version_id.clone());
                console.backend.call(
                    move |kms| service(kms).get_secret_value(&caller(), &asked, &asked_version),
                    move |console, _, value| {
                        let value = value?;
                        let binary = value.is_binary();
                        let text = match &value {
                            SecretValue::Text(text) => text.clone(),
                            SecretValue::Binary(bytes) => Zeroizing::new(STANDARD.encode(bytes)),
                        };
                        console.secrets.revealed = Some(RevealedValue {
                            name,
                            version_id,
                            text,
                            binary,
                        });
                        Ok(None)
                    },
                )
            }
            Command::PutSecretValue {
                name,
                version_id,
                value,
            } => {
                let change = SecretChange::PutValue {
                    version_id: version_id.clone(),
                    value,
                };
                let asked = name.clone();
                console.backend.change(
                    move |kms| service(kms).change_secret(&caller(), &asked, change),
                    move |console, _, changed| {
                        changed?;
                        console.secrets.new_version_id.clear();
                        console.secrets.new_value = Zeroizing::default();
                        Ok(Some(tr!(
                            "ui.commands.added_version_version_id_to_name",
                            version_id = version_id,
                            name = name
                        )))
                    },
                )
            }
            Command::SetSecretEnabled { name, enable } => {
                let change = if enable {
                    SecretChange::Enable
                } else {
                    SecretChange::Disable
                };
                let asked = name.clone();
                console.backend.change(
                    move |kms| service(kms).change_secret(&caller(), &asked, change),
                    move |console, _, changed| {
                        changed?;
                        console.secrets.revealed = None;
                        let state = if enable {
                            tr!("ui.commands.state_enabled")
                        } else {
                            tr!("ui.commands.state_disabled")
                        };
                        Ok(Some(tr!(
                            "ui.commands.secret_name_state",
                            name = name,
                            state = state
                        )))
                    },
                )
            }
            Command::DeleteSecret {
                name,
                recovery_days,
            } => {
                let asked = name.clone();
                console.backend.change(
                    move |kms| {
                        service(kms).change_secret(
                            &caller(),
                            &asked,
                            SecretChange::Delete { recovery_days },
                        )
                    },
                    move |console, _, changed| {
                        let when = match changed? {
                            SecretChanged::DeleteTime(when) => when,
                            SecretChanged::Done | SecretChanged::Rotated { .. } => 0,
                        };
                        console.secrets.confirm_name.clear();
                        Ok(Some(if recovery_days == 0 {
                            tr!("ui.commands.deleted_secret_name", name = name)
                        } else {
                            tr!(
                                "ui.commands.secret_name_will_be_deleted_on",
                                name = name,
                                date = keyconsole_base::util::format_time(when)
                            )
                        }))
                    },
                )
            }
            Command::TestDatabaseConnection { endpoint, password } => {
                let session = console.session.clone();
                console.secrets.tasks.push(SecretTask::start(
                    SecretTaskKind::TestConnection,
                    &ctx,
                    move || {
                        service(&session)
                            .test_database_login(&caller(), &endpoint, &password)
                            .map(|()| tr!("ui.commands.logged_in_to_endpoint", endpoint = endpoint))
                    },
                ));
                Ok(None)
            }
            Command::CreateDatabaseSecret(request) => {
                let session = console.session.clone();
                let name = request.name.clone();
                console.secrets.tasks.push(SecretTask::start(
                    SecretTaskKind::Create(name),
                    &ctx,
                    move || {
                        service(&session)
                            .create_database_secret(&caller(), request)
                            .map(|(name, version)| {
                                tr!(
                                    "ui.commands.created_database_secret_name_version_version",
                                    name = name,
                                    version = version
                                )
                            })
                    },
                ));
                Ok(None)
            }
            Command::RotateSecret(name) => {
                let task = rotation_task(&console.session, name, &ctx);
                console.secrets.tasks.push(task);
                Ok(None)
            }
            Command::SetSecretRotation {
                name,
                enabled,
                days,
            } => {
                let asked = name.clone();
                let change = SecretChange::SetRotation {
                    enabled,
                    days: enabled.then_some(days),
                    begin: None,
                };
                console.backend.change(
                    move |kms| service(kms).change_secret(&caller(), &asked, change),
                    move |console, _, changed| {
                        changed?;
                        console.secrets.rotation_edit = None;
                        Ok(Some(if enabled {
                            tr!(
                                "ui.commands.secret_name_rotates_every_days_days",
                                name = name,
                                days = days
                            )
                        } else {
                            tr!("ui.commands.automatic_rotation_of_name_is_off", name = name)
                        }))
                    },
                )
            }
            Command::Report(e) => Err(e),
            Command::UpdateSecretDescription { name, description } => {
                let asked = name.clone();
                console.backend.change(
                    move |kms| {
                        service(kms).change_secret(
                            &caller(),
                            &asked,
                            SecretChange::SetDescription(description),
                        )
                    },
                    move |console, _, changed| {
                        changed?;
                        console.secrets.editing_description = None;
                        Ok(Some(tr!(
                            "ui.commands.saved_the_description_of_name",
                            name = name
                        )))
                    },
                )
            }
            Command::DeleteSecretVersion { name, version_id } => {
                let change = SecretChange::DeleteVersion {
                    version_id: version_id.clone(),
                };
                let asked = name.clone();
                console.backend.change(
                    move |kms| service(kms).change_secret(&caller(), &asked, change),
                    move |console, _, changed| {
                        changed?;
                        if console
                            .secrets
                            .revealed
                            .as_ref()
                            .is_some_and(|r| r.version_id == version_id)
                        {
                            console.secrets.revealed = None;
                        }
                        Ok(Some(tr!(
                            "ui.commands.deleted_version_version_id_of_name",
                            version_id = version_id,
                            name = name
                        )))
                    },
                )
            }
            Command::RestoreSecret(name) => {
                let asked = name.clone();
                console.backend.change(
                    move |kms| service(kms).change_secret(&caller(), &asked, SecretChange::Restore),
                    move |_, _, changed| {
                        changed?;
                        Ok(Some(tr!(
                            "ui.commands.restored_secret_name_it_is_disabled",
                            name = name
                        )))
                    },
                )
            }
            Command::SetEnabled { keys, enable } => {
                let count = keys.len();
                let change = if enable {
                    KeyChange::Enable
                } else {
                    KeyChange::Disable
                };
                console.backend.change(
                    move |kms| service(kms).change_keys(&caller(), &keys, change),
                    move |console, _, changed| {
                        changed?;
                        if count > 1 {
                            console.key_list.selected.clear();
                        }
                        let verb = if enable {
                            tr!("ui.commands.enabled")
                        } else {
                            tr!("ui.commands.disabled")
                        };
                        Ok(Some(tr!(
                            "ui.commands.verb_keys_key_s",
                            verb = verb,
                            keys = count
                        )))
                    },
                )
            }
            Command::UpdateKey {
                key,
                alias,
                description,
            } => {
                let (new_alias, new_description) = (alias.is_some(), description.is_some());
                let change = KeyChange::Update { alias, description };
                console.backend.change(
                    move |kms| service(kms).change_keys(&caller(), &[key], change),
                    move |console, _, changed| {
                        changed?;
                        if let Page::Key(detail) = &mut console.page {
                            if new_alias {
                                detail.editing_alias = None;
                            }
                            if new_description {
                                detail.editing_description = None;
                            }
                        }
                        Ok(Some(tr!("ui.commands.saved")))
                    },
                )
            }
            Command::Archive(key) => change_key(console, key, KeyChange::Archive, |_| {
                tr!("ui.commands.archived_the_key_decrypts_but_no").to_owned()
            }),
            Command::Unarchive(key) => change_key(console, key, KeyChange::Unarchive, |_| {
                tr!("ui.commands.unarchived")
            }),
            Command::Rotate(key) => change_key(console, key, KeyChange::Rotate, |changed| {
                let v = match changed {
                    KeyChanged::Version(v) => v,
                    _ => 0,
                };
                tr!("ui.commands.rotated_key_version_v_now_encrypts", v = v)
            }),
            Command::SetRotation { key, enabled, days } => {
                let change = if enabled {
                    KeyChange::EnableRotation { days: Some(days) }
                } else {
                    KeyChange::DisableRotation
                };
                change_key(console, key, change, |_| {
                    tr!("ui.commands.rotation_settings_saved").to_owned()
                })
            }
            Command::ScheduleDeletion { key, days } => change_key(
                console,
                key,
                KeyChange::ScheduleDeletion { days },
                |changed| {
                    let date = match changed {
                        KeyChanged::DeletionDate(date) => date,
                        _ => 0,
                    };
                    tr!(
                        "ui.commands.deletion_scheduled_for_date",
                        date = keyconsole_base::util::format_time(date)
                    )
                },
            ),
            Command::CancelDeletion(key) => {
                change_key(console, key, KeyChange::CancelDeletion, |_| {
                    tr!("ui.commands.deletion_cancelled_the_key_is_disabled").to_owned()
                })
            }
            tool @ (Command::Encrypt { .. }
            | Command::Decrypt { .. }
            | Command::GenerateDataKey { .. }) => run_tool(console, tool),
            Command::Unlock
            | Command::CreateKeystore
            | Command::Connect
            | Command::SetKeystorePath(_)
            | Command::Lock
            | Command::Dialog(_)
            | Command::DialogAnswered(_)
            | Command::Copy { .. }
            | Command::ShowApi
            | Command::StartApi
            | Command::StopApi
            | Command::CreateApiCredentials
            | Command::RotateApiCredentials => Ok(None),
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
                Page::Keys | Page::Files | Page::Api | Page::Secrets => String::new(),
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

    fn files_output_name(&self) -> Option<String> {
        let Screen::Unlocked(console) = &self.screen else {
            return None;
        };
        console
            .files
            .output
            .as_ref()
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
            DialogPurpose::SecretValueFile => return read_secret_file(console, path),
            _ => {}
        }
        let Page::Key(detail) = &console.page else {
            return Ok(None);
        };
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
            DialogPurpose::OpenCiphertext => return open_ciphertext(console, page_key, path),
            DialogPurpose::OpenKeystore
            | DialogPurpose::NewKeystore
            | DialogPurpose::FileInput
            | DialogPurpose::FileOutput
            | DialogPurpose::SecretValueFile => return Ok(None),
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
                    _ => tr!(
                        "ui.commands.saved_the_plaintext_to_path_readable",
                        path = path
                    ),
                }))
            },
        )
    }
}

/// What a failed read or write of `path` says.
fn file_error(path: &std::path::Path, e: &std::io::Error, writing: bool) -> KmsError {
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

/// A ciphertext file chosen for the online tools' decrypt box: read on the worker, put in the
/// box of the key page that asked, if it is still open.
fn open_ciphertext(
    console: &mut Console,
    page_key: String,
    path: PathBuf,
) -> Result<Option<String>, KmsError> {
    console.backend.call(
        move |_| {
            let size = std::fs::metadata(&path)
                .map_err(|e| file_error(&path, &e, false))?
                .len();
            if size > MAX_CIPHERTEXT_FILE_BYTES {
                return Err(KmsError::new(
                    ErrorCode::InvalidCiphertext,
                    tr!(
                        "ui.commands.path_is_size_bytes_too_large",
                        path = path.display(),
                        size = size
                    ),
                ));
            }
            std::fs::read_to_string(&path).map_err(|_| {
                KmsError::new(
                    ErrorCode::InvalidCiphertext,
                    tr!("ui.commands.path_is_not_a_text_file", path = path.display()),
                )
            })
        },
        move |console, _, text| {
            let text = text?;
            if let Some(tools) = tools_of(console, &page_key) {
                tools.decrypt_input = text.trim().to_owned();
                tools.decrypted = None;
                tools.decrypt_error = None;
            }
            Ok(None)
        },
    )
}

/// A file chosen as a new secret's value: text stays text, anything else becomes base64 of its
/// bytes (SecretBinary). At most the secrets' 32 KiB. Read on the worker; the form, if still
/// open, gets the value.
fn read_secret_file(console: &mut Console, path: PathBuf) -> Result<Option<String>, KmsError> {
    use std::io::Read;
    if console.secrets.create.is_none() {
        return Ok(None);
    }
    let limit = keyconsole_kms::secrets::rules::VALUE_MAX_BYTES;
    console.backend.call(
        move |_| {
            let mut bytes = Zeroizing::new(Vec::new());
            std::fs::File::open(&path)
                .and_then(|file| file.take(limit as u64 + 1).read_to_end(&mut bytes))
                .map_err(|e| file_error(&path, &e, false))?;
            if bytes.len() > limit {
                return Err(KmsError::new(
                    ErrorCode::InvalidParameterValue,
                    tr!(
                        "ui.commands.path_is_larger_than_limit_bytes",
                        path = path.display(),
                        limit = limit
                    ),
                ));
            }
            Ok((path, bytes))
        },
        move |console, _, read| {
            let (path, bytes) = read?;
            let Some(form) = &mut console.secrets.create else {
                return Ok(None);
            };
            match std::str::from_utf8(&bytes) {
                Ok(text) => {
                    form.kind = SecretKind::Text;
                    form.value = Zeroizing::new(text.to_owned());
                }
                Err(_) => {
                    form.kind = SecretKind::Base64;
                    form.value = Zeroizing::new(STANDARD.encode(&bytes));
                }
            }
            Ok(Some(tr!(
                "ui.commands.read_bytes_bytes_from_path",
                bytes = bytes.len(),
                path = path.display()
            )))
        },
    )
}

/// The API access page's commands, on the worker: making credentials and a certificate saves the
/// keystore, and stopping the server waits for its requests.
fn api_command(
    console: &mut Console,
    command: &Command,
) -> Option<Result<Option<String>, KmsError>> {
    let api = &mut console.api;
    let outcome = match command {
        Command::ShowApi => {
            console.page = Page::Api;
            Ok(None)
        }
        Command::StartApi if api.server.is_none() => {
            let listen = api.listen.trim().to_owned();
            let https = api.https;
            let log = api.log.clone();
            console.backend.change(
                move |session| {
                    let kms = session.local()?;
                    let admin = session.admin()?;
                    let addr = listen.parse::<std::net::SocketAddr>().map_err(|_| {
                        KmsError::new(
                            ErrorCode::InvalidParameterValue,
                            keyconsole_base::text!(
                                "ui.commands.api_is_not_an_address_and",
                                api = listen.as_str(),
                                example = keyconsole_api::DEFAULT_LISTEN
                            ),
                        )
                    })?;
                    // The credentials are made on first use, so a new keystore serves at once.
                    admin.api_credential(&caller(), false)?;
                    let tls = if https {
                        let names = server_names(addr.ip(), &[]);
                        let identity = admin.server_identity(&caller(), &names)?;
                        Some(tls::from_identity(&identity)?)
                    } else {
                        None
                    };
                    let config = ServerConfig {
                        tls,
                        ..ServerConfig::loopback(addr)
                    };
                    ApiServer::start(kms.clone(), &config, log)
                },
                |console, _, started| {
                    let api = &mut console.api;
                    match started {
                        Ok(server) => {
                            let message = tr!(
                                "ui.commands.the_api_listens_on_server",
                                server = server.url()
                            );
                            api.server = Some(server);
                            api.error = None;
                            Ok(Some(message))
                        }
                        Err(e) => {
                            api.error = Some(e.clone());
                            Err(e)
                        }
                    }
                },
            )
        }
        Command::StopApi => match api.server.take() {
            Some(server) => console.backend.call(
                move |_| {
                    server.stop();
                    Ok(())
                },
                |_, _, stopped| {
                    stopped?;
                    Ok(Some(tr!("ui.commands.the_api_server_stopped").to_owned()))
                },
            ),
            None => Ok(None),
        },
        Command::CreateApiCredentials => console.backend.change(
            |session| session.admin()?.api_credential(&caller(), false),
            |_, _, made| {
                made?;
                Ok(Some(tr!("ui.commands.api_credentials_created").to_owned()))
            },
        ),
        Command::RotateApiCredentials => {
            api.confirm_rotation = false;
            console.backend.change(
                |session| session.admin()?.api_credential(&caller(), true),
                |_, _, made| {
                    made?;
                    Ok(Some(
                        tr!("ui.commands.new_api_credentials_the_old_secretkey").to_owned(),
                    ))
                },
            )
        }
        _ => return None,
    };
    Some(outcome)
}

/// Prepares the service's side (the data key, made or unwrapped in memory; the key's state is
/// checked before any output exists) and streams the file, both on the job's own thread: making a
/// data key may wait for the keystore's lock or a server, and opening an encrypted file reads its
/// header. The file itself never leaves this machine, local session or remote.
fn start_file_job(
    session: &Arc<Session>,
    files: &mut FileToolsState,
    ctx: &egui::Context,
    request: FileJobRequest,
) -> Result<Option<String>, KmsError> {
    if files.job.is_some() {
        return Ok(None);
    }
    let FileJobRequest {
        mode,
        key,
        input,
        output,
        overwrite,
    } = request;
    let session = session.clone();
    let job = match mode {
        FileMode::Encrypt => {
            let key = key.unwrap_or_default();
            FileJob::start(FileMode::Encrypt, ctx, move |progress| {
                FileEncryptor::prepare(session.service(), &caller(), &key)?
                    .encrypt(&input, &output, overwrite, progress)
            })
        }
        FileMode::Decrypt => FileJob::start(FileMode::Decrypt, ctx, move |progress| {
            FileDecryptor::prepare(session.service(), &caller(), &input)?
                .decrypt(&output, overwrite, progress)
        }),
    };
    files.job = Some(job);
    files.last_result = None;
    Ok(None)
}

/// The open key's panel, if the page that asked is still open on that key.
fn tools_of<'a>(console: &'a mut Console, key_id: &str) -> Option<&'a mut OnlineTools> {
    match &mut console.page {
        Page::Key(detail) if detail.key_id == key_id => Some(&mut detail.tools),
        _ => None,
    }
}

/// Runs one of the online tools on the worker and puts the result (or the error) in the open
/// key's panel, if it is still open.
fn run_tool(console: &mut Console, command: Command) -> Result<Option<String>, KmsError> {
    let Page::Key(detail) = &console.page else {
        return Ok(None);
    };
    let page_key = detail.key_id.clone();
    type Work = Box<dyn FnOnce(&dyn KmsService) -> Result<ToolAnswer, KmsError> + Send>;
    let (tab, work): (ToolTab, Work) = match command {
        Command::Encrypt {
            key,
            plaintext,
            context,
        } => (
            ToolTab::Encrypt,
            Box::new(move |service| {
                let bytes = plaintext?;
                let context = CanonicalContext::parse(Some(&context))?;
                let encrypted = service.encrypt(&caller(), &key, &bytes, &context)?;
                Ok(ToolAnswer::Encrypted(encrypted, bytes.len()))
            }),
        ),
        Command::Decrypt {
            ciphertext,
            context,
        } => (
            ToolTab::Decrypt,
            Box::new(move |service| {
                let context = CanonicalContext::parse(Some(&context))?;
                service
                    .decrypt(&caller(), &ciphertext, &context)
                    .map(ToolAnswer::Decrypted)
            }),
        ),
        Command::GenerateDataKey { key, spec, context } => (
            ToolTab::DataKey,
            Box::new(move |service| {
                let context = CanonicalContext::parse(Some(&context))?;
                service
                    .generate_data_key(&caller(), &key, spec, &context)
                    .map(ToolAnswer::DataKey)
            }),
        ),
        _ => return Ok(None),
    };
    // The key page that asked puts the answer in its panel, if it is still open.
    console.backend.call(
        move |session| work(service(session)),
        move |console, _, answer| {
            if let Some(tools) = tools_of(console, &page_key) {
                tools.apply(tab, &answer);
            }
            answer.map(|answer| Some(answer.said()))
        },
    )
}

/// What the session's service is, local or remote.
fn service(session: &Session) -> &dyn KmsService {
    session.service()
}

/// A key of the snapshot, by KeyId or alias.
fn known_key(console: &Console, key: &str) -> Result<keyconsole_kms::KeyMetadata, KmsError> {
    console.model.keys.find(key).cloned().ok_or_else(|| {
        KmsError::new(
            ErrorCode::CmkNotFound,
            keyconsole_base::text!("errors.no_key_has_the_keyid_key", key = key),
        )
    })
}

/// The person at the console, in the language the console speaks now.
fn caller() -> Caller {
    Caller::local(Face::Console, keyconsole_base::util::i18n::current())
}

/// One change to one key on the worker; `said` words the success.
fn change_key(
    console: &mut Console,
    key: String,
    change: KeyChange,
    said: impl FnOnce(KeyChanged) -> String + Send + 'static,
) -> Result<Option<String>, KmsError> {
    console.backend.change(
        move |kms| service(kms).change_keys(&caller(), &[key], change),
        move |_, _, changed| Ok(Some(said(changed?))),
    )
}

/// A rotation of `name` on a worker thread (*Rotate now*, or due by schedule), through the service:
/// the password changes in the database first, then in the secret.
pub(super) fn rotation_task(
    session: &Arc<Session>,
    name: String,
    ctx: &egui::Context,
) -> SecretTask {
    let session = session.clone();
    SecretTask::start(SecretTaskKind::Rotate(name.clone()), ctx, move || {
        let started = std::time::Instant::now();
        match service(&session).change_secret(&caller(), &name, SecretChange::Rotate)? {
            SecretChanged::Rotated { version_id, .. } => Ok(tr!(
                "ui.commands.rotated_secret_name_version_id_is",
                name = name,
                version_id = version_id,
                millis = started.elapsed().as_millis()
            )),
            SecretChanged::Done | SecretChanged::DeleteTime(_) => Ok(tr!(
                "ui.commands.rotated_secret_name_version_id_is",
                name = name,
                version_id = "",
                millis = started.elapsed().as_millis()
            )),
        }
    })
}
