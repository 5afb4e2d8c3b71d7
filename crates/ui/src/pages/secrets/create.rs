//! The create form: a name checked as it is typed, a value (text, base64 or a file), the CMK, and
//! for database credentials the connection, tested before the secret is made.

use super::*;

/// The create form.
#[derive(Debug)]
pub struct CreateSecretForm {
    pub name: String,
    pub kind: SecretKind,
    pub value: Zeroizing<String>,
    pub description: String,
    /// A KeyId, or None for the service's default key.
    pub key: Option<String>,
    pub engine: DbEngine,
    pub host: String,
    /// As typed; a port that does not parse is refused with the engine's message.
    pub port: String,
    pub user: String,
    pub password: Zeroizing<String>,
    pub rotate: bool,
    pub rotate_days: u32,
    /// The last *Test connection*: Ok (what was reached) or why not.
    pub connection: Option<Result<String, String>>,
    /// The name field takes the focus when the form opens.
    focus_name: bool,
    pub tags: crate::pages::tags::TagRows,
    /// An SSH key pair's name (optional: the secret's name when it fits).
    pub ssh_key_name: String,
}

impl Default for CreateSecretForm {
    fn default() -> Self {
        Self {
            name: String::new(),
            kind: SecretKind::Text,
            value: Zeroizing::default(),
            description: String::new(),
            tags: Default::default(),
            ssh_key_name: String::new(),
            key: None,
            engine: DbEngine::MySql,
            host: "127.0.0.1".to_owned(),
            port: DbEngine::MySql.default_port().to_string(),
            user: String::new(),
            password: Zeroizing::default(),
            rotate: false,
            rotate_days: ROTATION_DAYS_DEFAULT,
            connection: None,
            focus_name: true,
        }
    }
}

impl CreateSecretForm {
    pub fn endpoint(&self) -> DbEndpoint {
        DbEndpoint {
            engine: self.engine,
            host: self.host.trim().to_owned(),
            port: self.port.trim().parse().unwrap_or(0),
            user: self.user.trim().to_owned(),
        }
    }

    /// The value typed for a text or binary secret.
    fn value(&self) -> Result<SecretValue, KmsError> {
        match self.kind {
            SecretKind::Base64 => STANDARD
                .decode(self.value.trim())
                .map(|bytes| SecretValue::Binary(Zeroizing::new(bytes)))
                .map_err(|_| {
                    KmsError::new(
                        ErrorCode::InvalidParameterValue,
                        tr!("ui.secrets.the_value_is_not_valid_base64"),
                    )
                }),
            _ => Ok(SecretValue::Text(self.value.clone())),
        }
    }
}

impl SecretsState {
    pub(super) fn create_ui(
        &mut self,
        ui: &mut egui::Ui,
        model: &Model,
        commands: &mut Vec<Command>,
    ) {
        let busy_creating = self
            .tasks
            .iter()
            .any(|t| matches!(t.kind, SecretTaskKind::Create(_)));
        let testing = self.busy(&SecretTaskKind::TestConnection);
        let Some(form) = &mut self.create else {
            return;
        };
        let mut close = false;
        let mut enter = false;
        let problem = model.check_secret_name(&form.name).err();
        egui::Frame::group(ui.style()).show(ui, |ui| {
            crate::widgets::section_title(ui, tr!("ui.secrets.new_secret"));
            egui::Grid::new("create secret")
                .num_columns(2)
                .spacing([12.0, 6.0])
                .show(ui, |ui| {
                    let label = ui.label(tr!("ui.secrets.name"));
                    let name = ui
                        .add(egui::TextEdit::singleline(&mut form.name).desired_width(260.0))
                        .labelled_by(label.id);
                    if std::mem::take(&mut form.focus_name) {
                        name.request_focus();
                    }
                    // Enter in the name submits the form, as it does in every dialog.
                    enter = name.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
                    ui.end_row();
                    ui.label("");
                    match &problem {
                        Some(e) if !form.name.is_empty() => {
                            ui.colored_label(ui.visuals().error_fg_color, e.message_here())
                        }
                        _ => ui.label(
                            RichText::new(tr!("ui.secrets.letters_digits_and_never_renamed"))
                                .weak(),
                        ),
                    };
                    ui.end_row();
                    let label = ui.label(tr!("ui.secrets.type"));
                    ui.horizontal(|ui| {
                        for (kind, text) in [
                            (SecretKind::Text, tr!("ui.secrets.text")),
                            (SecretKind::Base64, tr!("ui.secrets.binary_base64")),
                            (SecretKind::Database, tr!("ui.secrets.database_credentials")),
                            (SecretKind::SshKeyPair, tr!("ui.secrets.ssh_key_pair")),
                        ] {
                            // A database secret logs in from this machine: local keystores only.
                            if kind == SecretKind::Database && model.remote {
                                continue;
                            }
                            ui.radio_value(&mut form.kind, kind, text);
                        }
                    })
                    .response
                    .labelled_by(label.id);
                    ui.end_row();
                    if form.kind == SecretKind::Database {
                        database_form_ui(ui, form, testing, commands);
                    } else if form.kind == SecretKind::SshKeyPair {
                        let label = ui.label(tr!("ui.secrets.ssh_key_name"));
                        ui.vertical(|ui| {
                            ui.add(
                                egui::TextEdit::singleline(&mut form.ssh_key_name)
                                    .desired_width(260.0)
                                    .hint_text(tr!("ui.secrets.ssh_key_name_hint")),
                            )
                            .labelled_by(label.id);
                            ui.label(
                                RichText::new(tr!("ui.secrets.ssh_key_pair_made_here")).weak(),
                            );
                        });
                        ui.end_row();
                    } else {
                        let label = ui.label(tr!("ui.secrets.value"));
                        ui.vertical(|ui| {
                            ui.add(
                                egui::TextEdit::multiline(&mut *form.value)
                                    .desired_rows(3)
                                    .desired_width(360.0)
                                    .hint_text(if form.kind == SecretKind::Base64 {
                                        tr!("ui.secrets.base64_of_the_bytes")
                                    } else {
                                        tr!("ui.secrets.the_secret_text")
                                    }),
                            )
                            .labelled_by(label.id);
                            ui.horizontal(|ui| {
                                if ui.button(tr!("ui.secrets.from_file")).clicked() {
                                    commands.push(Command::Dialog(
                                        crate::platform::DialogPurpose::SecretValueFile,
                                    ));
                                }
                                ui.label(
                                    RichText::new(tr!(
                                        "ui.secrets.value_bytes",
                                        bytes = form.value().map_or(0, |v| v.bytes().len())
                                    ))
                                    .weak(),
                                );
                            });
                        });
                    }
                    ui.end_row();
                    let label = ui.label(tr!("ui.secrets.description"));
                    ui.add(egui::TextEdit::singleline(&mut form.description).desired_width(360.0))
                        .labelled_by(label.id);
                    ui.end_row();
                    let key_label = ui.label(tr!("ui.secrets.key"));
                    let chosen = form
                        .key
                        .as_deref()
                        .and_then(|id| model.keys.find(id))
                        .map_or_else(
                            || tr!("ui.secrets.the_secrets_manager_s_default_key").to_owned(),
                            |k| k.alias.clone(),
                        );
                    egui::ComboBox::from_id_salt("secret key")
                        .selected_text(chosen)
                        .width(260.0)
                        .show_ui(ui, |ui| {
                            ui.selectable_value(
                                &mut form.key,
                                None,
                                tr!("ui.secrets.the_secrets_manager_s_default_key"),
                            );
                            for key in model
                                .keys
                                .iter()
                                .filter(|k| k.key_state.may_encrypt())
                                .take(500)
                            {
                                ui.selectable_value(
                                    &mut form.key,
                                    Some(key.key_id.clone()),
                                    key.alias.as_str(),
                                );
                            }
                        })
                        .response
                        .labelled_by(key_label.id);
                    ui.end_row();
                });
            if form.kind != SecretKind::Database {
                ui.label(tr!("ui.tags.tags_optional"));
                form.tags.ui(ui, "new secret tags");
            }
            ui.horizontal(|ui| {
                let creating = busy_creating;
                if form.kind == SecretKind::Database {
                    let ready = problem.is_none()
                        && !form.user.trim().is_empty()
                        && !form.host.trim().is_empty()
                        && !form.password.is_empty()
                        && !creating;
                    if ui
                        .add_enabled(
                            ready,
                            crate::widgets::primary_button(tr!("ui.secrets.create")),
                        )
                        .on_hover_text(tr!("ui.secrets.logs_in_with_the_password_first"))
                        .clicked()
                        || (ready && enter)
                    {
                        commands.push(Command::Secret(SecretRequest::CreateDatabase(
                            CreateDatabaseSecret {
                                name: form.name.clone(),
                                description: form.description.clone(),
                                key: form.key.clone(),
                                endpoint: form.endpoint(),
                                password: form.password.clone(),
                                rotate_days: form.rotate.then_some(form.rotate_days),
                            },
                        )));
                    }
                    if creating {
                        ui.spinner();
                        ui.label(tr!("ui.secrets.logging_in"));
                    }
                } else if form.kind == SecretKind::SshKeyPair {
                    let ready = problem.is_none() && form.tags.problem().is_none();
                    if create_pressed(ui, ready, enter) {
                        let key_name = form.ssh_key_name.trim();
                        commands.push(Command::Secret(SecretRequest::CreateSshKeyPair(
                            CreateSshKeyPairSecret {
                                name: form.name.clone(),
                                description: form.description.clone(),
                                key: form.key.clone(),
                                key_name: (!key_name.is_empty()).then(|| key_name.to_owned()),
                                project_id: 0,
                                tags: form.tags.tags(),
                            },
                        )));
                    }
                } else {
                    let ready = problem.is_none()
                        && !form.value.is_empty()
                        && form.tags.problem().is_none();
                    if create_pressed(ui, ready, enter) {
                        match form.value() {
                            Ok(value) => commands.push(Command::Secret(SecretRequest::Create(
                                CreateSecret {
                                    name: form.name.clone(),
                                    version_id: None,
                                    description: form.description.clone(),
                                    key: form.key.clone(),
                                    value,
                                    tags: form.tags.tags(),
                                },
                            ))),
                            Err(e) => commands.push(Command::Report(e)),
                        }
                    }
                }
                if ui.button(tr!("ui.secrets.cancel")).clicked() {
                    close = true;
                }
            });
        });
        // Escape cancels the form, as it does every dialog (no popup is open to take it first).
        if !busy_creating
            && !ui.ctx().any_popup_open()
            && ui.input_mut(|i| i.consume_key(egui::Modifiers::NONE, egui::Key::Escape))
        {
            close = true;
        }
        if close {
            self.create = None;
        }
    }
}

/// *Create*, enabled when the form is `ready`; pressed, or Enter in the name field.
fn create_pressed(ui: &mut egui::Ui, ready: bool, enter: bool) -> bool {
    let clicked = ui
        .add_enabled(
            ready,
            crate::widgets::primary_button(tr!("ui.secrets.create")),
        )
        .clicked();
    clicked || (ready && enter)
}

/// The connection rows of the create form (inside its grid): engine, host, port, user, password,
/// automatic rotation, and *Test connection* with its answer.
fn database_form_ui(
    ui: &mut egui::Ui,
    form: &mut CreateSecretForm,
    testing: bool,
    commands: &mut Vec<Command>,
) {
    let label = ui.label(tr!("ui.secrets.database"));
    let before = form.engine;
    egui::ComboBox::from_id_salt("database engine")
        .selected_text(form.engine.label())
        .show_ui(ui, |ui| {
            for engine in [DbEngine::MySql, DbEngine::PostgreSql] {
                ui.selectable_value(&mut form.engine, engine, engine.label());
            }
        })
        .response
        .labelled_by(label.id);
    if form.engine != before && form.port.trim() == before.default_port().to_string() {
        form.port = form.engine.default_port().to_string();
    }
    ui.end_row();
    let label = ui.label(tr!("ui.secrets.host"));
    ui.horizontal(|ui| {
        ui.add(egui::TextEdit::singleline(&mut form.host).desired_width(200.0))
            .labelled_by(label.id);
        let label = ui.label(tr!("ui.secrets.port"));
        ui.add(egui::TextEdit::singleline(&mut form.port).desired_width(60.0))
            .labelled_by(label.id);
    });
    ui.end_row();
    let label = ui.label(tr!("ui.secrets.user"));
    ui.add(egui::TextEdit::singleline(&mut form.user).desired_width(200.0))
        .labelled_by(label.id);
    ui.end_row();
    let label = ui.label(tr!("ui.secrets.password"));
    ui.add(
        egui::TextEdit::singleline(&mut *form.password)
            .password(true)
            .desired_width(200.0),
    )
    .labelled_by(label.id);
    ui.end_row();
    ui.label(tr!("ui.secrets.rotation"));
    ui.horizontal(|ui| {
        ui.checkbox(
            &mut form.rotate,
            tr!("ui.secrets.rotate_automatically_every"),
        );
        ui.add_enabled(
            form.rotate,
            egui::DragValue::new(&mut form.rotate_days)
                .range(ROTATION_DAYS_MIN..=ROTATION_DAYS_MAX)
                .suffix(tr!("ui.secrets.days")),
        );
    });
    ui.end_row();
    ui.label("");
    ui.horizontal(|ui| {
        let ready = !testing && !form.user.trim().is_empty() && !form.password.is_empty();
        if ui
            .add_enabled(ready, egui::Button::new(tr!("ui.secrets.test_connection")))
            .clicked()
        {
            form.connection = None;
            commands.push(Command::Secret(SecretRequest::TestConnection {
                endpoint: form.endpoint(),
                password: form.password.clone(),
            }));
        }
        if testing {
            ui.spinner();
        } else {
            match &form.connection {
                Some(Ok(message)) => {
                    ui.colored_label(egui::Color32::from_rgb(0x2e, 0x9e, 0x4f), message);
                }
                Some(Err(why)) => {
                    ui.colored_label(ui.visuals().error_fg_color, why);
                }
                None => {
                    ui.label(RichText::new(tr!("ui.secrets.the_password_is_kept_in_the")).weak());
                }
            }
        }
    });
    // The caller ends this last row, as it does the value's.
}
