//! What the Secrets page asks of the service, and how it applies the answers to itself: the
//! list's snapshot comes with each change, the page closes the form or the edit that went through,
//! and a value it asked to see is tied to the version it belongs to. Database work (a connection
//! test, creating a database secret, a rotation) runs on a `SecretTask` of its own, with a spinner.

use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use keyconsole_base::tr;
use keyconsole_base::util::database::DbEndpoint;
use keyconsole_kms::secrets::CreateDatabaseSecret;
use keyconsole_kms::secrets::rules::VALUE_MAX_BYTES;
use keyconsole_kms::{CreateSecret, ErrorCode, KmsError, SecretChange, SecretChanged, SecretValue};
use zeroize::Zeroizing;

use super::{RevealedValue, SecretKind, SecretTask, SecretTaskKind, SecretsState};
use crate::app::backend::{Outcome, PageCalls, Session, console_caller};
use crate::platform::file_error;

#[derive(Debug)]
pub enum SecretRequest {
    Create(CreateSecret),
    /// Logs in to the database first, off the UI thread.
    CreateDatabase(CreateDatabaseSecret),
    /// The create form's *Test connection*.
    TestConnection {
        endpoint: DbEndpoint,
        password: Zeroizing<String>,
    },
    Reveal {
        name: String,
        version_id: String,
    },
    PutValue {
        name: String,
        version_id: String,
        value: SecretValue,
    },
    SetEnabled {
        name: String,
        enable: bool,
    },
    Delete {
        name: String,
        recovery_days: u32,
    },
    Restore(String),
    UpdateDescription {
        name: String,
        description: String,
    },
    DeleteVersion {
        name: String,
        version_id: String,
    },
    /// A database account made through an instance and kept as a database secret.
    CreateProduct(keyconsole_kms::secrets::CreateProductSecret),
    /// An administrator's connection registered as an instance (after logging in with it).
    RegisterInstance {
        id: String,
        url: String,
        password: Zeroizing<String>,
    },
    /// A new SSH key pair kept as a secret.
    CreateSshKeyPair(keyconsole_kms::CreateSshKeyPairSecret),
    /// An SSH key pair's public key, fetched (a server's metadata does not carry it).
    FetchSshPublicKey(String),
    /// An SSH key pair's private key, written (unencrypted, readable by the user only) to a file
    /// the save dialog chose.
    SaveSshPrivateKey {
        name: String,
        path: PathBuf,
    },
    /// Tags added or changed, and tag keys removed.
    Tag {
        name: String,
        set: Vec<keyconsole_kms::Tag>,
        remove: Vec<String>,
    },
    /// A database secret's *Rotate now*.
    Rotate(String),
    SetRotation {
        name: String,
        enabled: bool,
        days: u32,
    },
    /// A file chosen as the new secret's value (read on the worker).
    ReadValueFile(PathBuf),
}

impl SecretRequest {
    pub(crate) fn run(
        self,
        page: &mut SecretsState,
        mut calls: PageCalls<'_, SecretsState>,
    ) -> Outcome {
        match self {
            SecretRequest::Create(request) => calls.change(
                move |session| session.service().create_secret(&console_caller(), request),
                |page, created| {
                    let (name, version_id) = created?;
                    if let Some(page) = page {
                        page.created(&name);
                    }
                    Ok(Some(tr!(
                        "ui.commands.created_secret_name_version_version_id",
                        name = name,
                        version_id = version_id
                    )))
                },
            ),
            SecretRequest::CreateSshKeyPair(request) => calls.change(
                move |session| {
                    session
                        .service()
                        .create_ssh_key_pair_secret(&console_caller(), request)
                },
                |page, created| {
                    let (name, pair) = created?;
                    if let Some(page) = page {
                        page.created(&name);
                    }
                    Ok(Some(tr!(
                        "ui.commands.created_ssh_key_pair",
                        name = name,
                        key_id = pair.key_id
                    )))
                },
            ),
            SecretRequest::FetchSshPublicKey(name) => calls.call(
                move |session| {
                    session
                        .service()
                        .ssh_key_pair_value(&console_caller(), Some(&name), None)
                        .map(|(pair, _, _private)| (name, pair.public_key))
                },
                |page, fetched| {
                    let fetched = fetched?;
                    if let Some(page) = page {
                        page.ssh_public_key = Some(fetched);
                    }
                    Ok(None)
                },
            ),
            SecretRequest::SaveSshPrivateKey { name, path } => calls.call(
                move |session| {
                    let service = session.service();
                    // The save dialog already asked before replacing a file; the keystore and its
                    // own files are refused always.
                    if let Some(keystore) = service.keystore_path() {
                        keyconsole_kms::outputs::check_output_path(keystore, &path)?;
                    }
                    let (_, _, private) =
                        service.ssh_key_pair_value(&console_caller(), Some(&name), None)?;
                    keyconsole_base::util::atomic_file::replace_file(&path, private.as_bytes())
                        .map_err(|e| crate::platform::file_error(&path, &e, true))?;
                    Ok((name, path))
                },
                |_, saved| {
                    let (name, path) = saved?;
                    Ok(Some(tr!(
                        "ui.commands.saved_the_private_key",
                        name = name,
                        path = path.display()
                    )))
                },
            ),
            SecretRequest::CreateProduct(request) => {
                let session = calls.session().clone();
                let name = request.name.clone();
                page.tasks.push(SecretTask::start(
                    SecretTaskKind::Create(name),
                    calls.ctx(),
                    move || {
                        let service = session.service();
                        let (name, flow_id) =
                            service.create_product_secret(&console_caller(), request)?;
                        let task = service.product_task(&console_caller(), flow_id)?;
                        let description = task
                            .description_in(keyconsole_base::util::i18n::current())
                            .to_owned();
                        match task.status {
                            keyconsole_kms::secrets::TaskStatus::Failed => {
                                Err(KmsError::new(ErrorCode::FailedOperation, description))
                            }
                            _ => Ok(tr!(
                                "ui.commands.created_product_secret",
                                name = name,
                                what = description
                            )),
                        }
                    },
                ));
                Ok(None)
            }
            SecretRequest::RegisterInstance { id, url, password } => calls.change(
                move |session| {
                    let endpoint = DbEndpoint::parse(&url)
                        .map_err(|why| KmsError::new(ErrorCode::InvalidParameterValue, why))?;
                    session
                        .admin()?
                        .add_db_instance(&console_caller(), &id, endpoint, &password)
                },
                |page, added| {
                    let instance = added?;
                    if let Some(form) = page.and_then(|p| p.create.as_mut()) {
                        form.register = None;
                        form.instance = Some(instance.instance_id.clone());
                    }
                    Ok(Some(tr!(
                        "ui.commands.registered_instance",
                        id = instance.instance_id,
                        endpoint = instance.endpoint
                    )))
                },
            ),
            SecretRequest::CreateDatabase(request) => {
                let session = calls.session().clone();
                let name = request.name.clone();
                page.tasks.push(SecretTask::start(
                    SecretTaskKind::Create(name),
                    calls.ctx(),
                    move || {
                        session
                            .service()
                            .create_database_secret(&console_caller(), request)
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
            SecretRequest::TestConnection { endpoint, password } => {
                let session = calls.session().clone();
                page.tasks.push(SecretTask::start(
                    SecretTaskKind::TestConnection,
                    calls.ctx(),
                    move || {
                        session
                            .service()
                            .test_database_login(&console_caller(), &endpoint, &password)
                            .map(|()| tr!("ui.commands.logged_in_to_endpoint", endpoint = endpoint))
                    },
                ));
                Ok(None)
            }
            SecretRequest::Reveal { name, version_id } => {
                let (asked, asked_version) = (name.clone(), version_id.clone());
                calls.call(
                    move |session| {
                        session.service().get_secret_value(
                            &console_caller(),
                            &asked,
                            &asked_version,
                        )
                    },
                    move |page, value| {
                        let value = value?;
                        let binary = value.is_binary();
                        let text = match &value {
                            SecretValue::Text(text) => text.clone(),
                            SecretValue::Binary(bytes) => Zeroizing::new(STANDARD.encode(bytes)),
                        };
                        if let Some(page) = page {
                            page.revealed = Some(RevealedValue {
                                name,
                                version_id,
                                text,
                                binary,
                                shown_with: None,
                            });
                        }
                        Ok(None)
                    },
                )
            }
            SecretRequest::PutValue {
                name,
                version_id,
                value,
            } => {
                let change = SecretChange::PutValue {
                    version_id: version_id.clone(),
                    value,
                };
                change_secret(&mut calls, name, change, move |page, name, _| {
                    if let Some(page) = page {
                        page.new_version_id.clear();
                        page.new_value = Zeroizing::default();
                    }
                    tr!(
                        "ui.commands.added_version_version_id_to_name",
                        version_id = version_id,
                        name = name
                    )
                })
            }
            SecretRequest::SetEnabled { name, enable } => {
                let change = if enable {
                    SecretChange::Enable
                } else {
                    SecretChange::Disable
                };
                change_secret(&mut calls, name, change, move |page, name, _| {
                    if let Some(page) = page {
                        page.revealed = None;
                    }
                    let state = if enable {
                        tr!("ui.commands.state_enabled")
                    } else {
                        tr!("ui.commands.state_disabled")
                    };
                    tr!("ui.commands.secret_name_state", name = name, state = state)
                })
            }
            SecretRequest::Delete {
                name,
                recovery_days,
            } => change_secret(
                &mut calls,
                name,
                SecretChange::Delete { recovery_days },
                move |page, name, changed| {
                    if let Some(page) = page {
                        page.confirm_name.clear();
                    }
                    let when = match changed {
                        SecretChanged::DeleteTime(when) => when,
                        SecretChanged::Done | SecretChanged::Rotated { .. } => 0,
                    };
                    if recovery_days == 0 {
                        tr!("ui.commands.deleted_secret_name", name = name)
                    } else {
                        tr!(
                            "ui.commands.secret_name_will_be_deleted_on",
                            name = name,
                            date = keyconsole_base::util::format_time(when)
                        )
                    }
                },
            ),
            SecretRequest::Restore(name) => {
                change_secret(&mut calls, name, SecretChange::Restore, |_, name, _| {
                    tr!(
                        "ui.commands.restored_secret_name_it_is_disabled",
                        name = name
                    )
                })
            }
            SecretRequest::UpdateDescription { name, description } => change_secret(
                &mut calls,
                name,
                SecretChange::SetDescription(description),
                |page, name, _| {
                    if let Some(page) = page {
                        page.editing_description = None;
                    }
                    tr!("ui.commands.saved_the_description_of_name", name = name)
                },
            ),
            SecretRequest::Tag { name, set, remove } => change_secret(
                &mut calls,
                name,
                SecretChange::Tag { set, remove },
                |page, name, _| {
                    if let Some(page) = page {
                        page.tags.editing = None;
                    }
                    tr!("ui.commands.saved_the_tags_of_name", name = name)
                },
            ),
            SecretRequest::DeleteVersion { name, version_id } => {
                let change = SecretChange::DeleteVersion {
                    version_id: version_id.clone(),
                };
                change_secret(&mut calls, name, change, move |page, name, _| {
                    if let Some(page) = page
                        && page
                            .revealed
                            .as_ref()
                            .is_some_and(|r| r.name == name && r.version_id == version_id)
                    {
                        page.revealed = None;
                    }
                    tr!(
                        "ui.commands.deleted_version_version_id_of_name",
                        version_id = version_id,
                        name = name
                    )
                })
            }
            SecretRequest::Rotate(name) => {
                page.tasks
                    .push(SecretTask::rotation(calls.session(), name, calls.ctx()));
                Ok(None)
            }
            SecretRequest::SetRotation {
                name,
                enabled,
                days,
            } => {
                let change = SecretChange::SetRotation {
                    enabled,
                    days: enabled.then_some(days),
                    begin: None,
                };
                change_secret(&mut calls, name, change, move |page, name, _| {
                    if let Some(page) = page {
                        page.rotation_edit = None;
                    }
                    if enabled {
                        tr!(
                            "ui.commands.secret_name_rotates_every_days_days",
                            name = name,
                            days = days
                        )
                    } else {
                        tr!("ui.commands.automatic_rotation_of_name_is_off", name = name)
                    }
                })
            }
            SecretRequest::ReadValueFile(path) => {
                if page.create.is_none() {
                    return Ok(None);
                }
                calls.call(move |_| read_value_file(path), apply_value_file)
            }
        }
    }
}

/// One change to the secret `name` on the worker; `said` settles the page and words the success.
fn change_secret(
    calls: &mut PageCalls<'_, SecretsState>,
    name: String,
    change: SecretChange,
    said: impl FnOnce(Option<&mut SecretsState>, &str, SecretChanged) -> String + Send + 'static,
) -> Outcome {
    let asked = name.clone();
    calls.change(
        move |session| {
            session
                .service()
                .change_secret(&console_caller(), &asked, change)
        },
        move |page, changed| Ok(Some(said(page, &name, changed?))),
    )
}

/// A file chosen as a new secret's value, at most the secrets' 32 KiB.
fn read_value_file(path: PathBuf) -> Result<(PathBuf, Zeroizing<Vec<u8>>), KmsError> {
    let mut bytes = Zeroizing::new(Vec::new());
    std::fs::File::open(&path)
        .and_then(|file| {
            file.take(VALUE_MAX_BYTES as u64 + 1)
                .read_to_end(&mut bytes)
        })
        .map_err(|e| file_error(&path, &e, false))?;
    if bytes.len() > VALUE_MAX_BYTES {
        return Err(KmsError::new(
            ErrorCode::InvalidParameterValue,
            tr!(
                "ui.commands.path_is_larger_than_limit_bytes",
                path = path.display(),
                limit = VALUE_MAX_BYTES
            ),
        ));
    }
    Ok((path, bytes))
}

/// Text stays text, anything else becomes base64 of its bytes (SecretBinary); the form, if still
/// open, gets the value.
fn apply_value_file(
    page: Option<&mut SecretsState>,
    read: Result<(PathBuf, Zeroizing<Vec<u8>>), KmsError>,
) -> Outcome {
    let (path, bytes) = read?;
    let Some(form) = page.and_then(|page| page.create.as_mut()) else {
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
}

impl SecretTask {
    /// A rotation of `name` on a worker thread (*Rotate now*, or due by schedule), through the
    /// service: the password changes in the database first, then in the secret.
    pub(crate) fn rotation(
        session: &Arc<Session>,
        name: String,
        ctx: &egui::Context,
    ) -> SecretTask {
        let session = session.clone();
        SecretTask::start(SecretTaskKind::Rotate(name.clone()), ctx, move || {
            let started = std::time::Instant::now();
            let changed =
                session
                    .service()
                    .change_secret(&console_caller(), &name, SecretChange::Rotate)?;
            let version_id = match changed {
                SecretChanged::Rotated { version_id, .. } => version_id,
                SecretChanged::Done | SecretChanged::DeleteTime(_) => String::new(),
            };
            Ok(tr!(
                "ui.commands.rotated_secret_name_version_id_is",
                name = name,
                version_id = version_id,
                millis = started.elapsed().as_millis()
            ))
        })
    }
}
