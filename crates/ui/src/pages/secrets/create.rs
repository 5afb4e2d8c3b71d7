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
    /// A product account: the instance it is made through, its name's prefix, where it logs in
    /// from (MySQL/MariaDB), and what it is given.
    pub instance: Option<String>,
    pub user_prefix: String,
    pub account_host: String,
    pub privileges: Vec<PrivilegeRow>,
    /// An instance being registered from the form.
    pub register: Option<InstanceForm>,
}

/// One privilege row of the product form.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PrivilegeRow {
    /// 0 every database, 1 a database, 2 a table.
    pub level: u8,
    pub database: String,
    pub table: String,
    /// `SELECT, INSERT`.
    pub privileges: String,
}

impl PrivilegeRow {
    fn grant(&self) -> Grant {
        let level = match self.level {
            0 => GrantLevel::Global,
            1 => GrantLevel::Database(self.database.trim().to_owned()),
            _ => GrantLevel::Table {
                database: self.database.trim().to_owned(),
                schema: String::new(),
                table: self.table.trim().to_owned(),
            },
        };
        Grant {
            level,
            privileges: self
                .privileges
                .split(',')
                .map(|p| p.trim().to_ascii_uppercase())
                .filter(|p| !p.is_empty())
                .collect(),
        }
    }
}

/// Registering an administrator's connection as an instance.
#[derive(Debug, Clone, Default)]
pub struct InstanceForm {
    pub id: String,
    /// `mysql://ADMIN@HOST:PORT` or `postgres://…`.
    pub url: String,
    pub password: Zeroizing<String>,
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
            instance: None,
            user_prefix: String::new(),
            account_host: "%".to_owned(),
            privileges: vec![PrivilegeRow {
                level: 1,
                privileges: "SELECT".to_owned(),
                ..PrivilegeRow::default()
            }],
            register: None,
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
                            (
                                SecretKind::ProductAccount,
                                tr!("ui.secrets.product_account"),
                            ),
                        ] {
                            // A database secret logs in from this machine, and instances are
                            // registered here: local keystores only.
                            if matches!(kind, SecretKind::Database | SecretKind::ProductAccount)
                                && model.remote
                            {
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
                    } else if form.kind == SecretKind::ProductAccount {
                        product_form_ui(ui, form, model, commands);
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
                } else if form.kind == SecretKind::ProductAccount {
                    let ready = problem.is_none()
                        && form.instance.is_some()
                        && !form.user_prefix.trim().is_empty()
                        && form.tags.problem().is_none()
                        && !creating;
                    if create_pressed(ui, ready, enter)
                        && let Some(instance) = &form.instance
                    {
                        let product = model
                            .db_instances
                            .iter()
                            .find(|i| &i.instance_id == instance)
                            .map_or("", |i| {
                                keyconsole_kms::secrets::record::product_name(i.endpoint.engine)
                            });
                        commands.push(Command::Secret(SecretRequest::CreateProduct(
                            CreateProductSecret {
                                name: form.name.clone(),
                                description: form.description.clone(),
                                key: form.key.clone(),
                                instance_id: instance.clone(),
                                product: product.to_owned(),
                                user_name_prefix: form.user_prefix.trim().to_owned(),
                                domains: vec![form.account_host.trim().to_owned()]
                                    .into_iter()
                                    .filter(|h| !h.is_empty() && product == "Mysql")
                                    .collect(),
                                grants: form.privileges.iter().map(PrivilegeRow::grant).collect(),
                                rotate_days: form.rotate.then_some(form.rotate_days),
                                rotation_begin: None,
                                tags: form.tags.tags(),
                            },
                        )));
                    }
                    if creating {
                        ui.spinner();
                        ui.label(tr!("ui.secrets.making_the_account"));
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

/// The product account's rows of the create form: the instance (and registering one), the
/// account's name prefix and host, its privileges, and rotation.
fn product_form_ui(
    ui: &mut egui::Ui,
    form: &mut CreateSecretForm,
    model: &Model,
    commands: &mut Vec<Command>,
) {
    let label = ui.label(tr!("ui.secrets.instance"));
    ui.horizontal(|ui| {
        let chosen = form
            .instance
            .clone()
            .unwrap_or_else(|| tr!("ui.secrets.choose_an_instance"));
        egui::ComboBox::from_id_salt("product instance")
            .selected_text(chosen)
            .width(220.0)
            .show_ui(ui, |ui| {
                for instance in model.db_instances.iter() {
                    ui.selectable_value(
                        &mut form.instance,
                        Some(instance.instance_id.clone()),
                        format!("{} ({})", instance.instance_id, instance.endpoint),
                    );
                }
            })
            .response
            .labelled_by(label.id);
        if ui.button(tr!("ui.secrets.register_an_instance")).clicked() {
            form.register = Some(InstanceForm::default());
        }
    });
    ui.end_row();
    let mut close_register = false;
    if let Some(register) = &mut form.register {
        let label = ui.label(tr!("ui.secrets.instance_id"));
        ui.add(egui::TextEdit::singleline(&mut register.id).desired_width(200.0))
            .labelled_by(label.id);
        ui.end_row();
        let label = ui.label(tr!("ui.secrets.administrator"));
        ui.add(
            egui::TextEdit::singleline(&mut register.url)
                .desired_width(300.0)
                .hint_text("mysql://admin@127.0.0.1:3306"),
        )
        .labelled_by(label.id);
        ui.end_row();
        let label = ui.label(tr!("ui.secrets.administrator_password"));
        ui.add(
            egui::TextEdit::singleline(&mut *register.password)
                .password(true)
                .desired_width(200.0),
        )
        .labelled_by(label.id);
        ui.end_row();
        ui.label("");
        ui.horizontal(|ui| {
            let ready = !register.id.trim().is_empty()
                && !register.url.trim().is_empty()
                && !register.password.is_empty();
            if ui
                .add_enabled(ready, egui::Button::new(tr!("ui.secrets.register")))
                .on_hover_text(tr!("ui.secrets.logs_in_as_the_administrator_first"))
                .clicked()
            {
                commands.push(Command::Secret(SecretRequest::RegisterInstance {
                    id: register.id.trim().to_owned(),
                    url: register.url.trim().to_owned(),
                    password: register.password.clone(),
                }));
            }
            if ui.button(tr!("ui.secrets.cancel_registration")).clicked() {
                close_register = true;
            }
        });
        ui.end_row();
    }
    if close_register {
        form.register = None;
    }
    let engine = form.instance.as_ref().and_then(|id| {
        model
            .db_instances
            .iter()
            .find(|i| &i.instance_id == id)
            .map(|i| i.endpoint.engine)
    });
    let label = ui.label(tr!("ui.secrets.user_name_prefix"));
    ui.add(
        egui::TextEdit::singleline(&mut form.user_prefix)
            .desired_width(120.0)
            .hint_text(tr!("ui.secrets.user_name_prefix_hint")),
    )
    .labelled_by(label.id);
    ui.end_row();
    if engine == Some(DbEngine::MySql) {
        let label = ui.label(tr!("ui.secrets.logs_in_from"));
        ui.add(egui::TextEdit::singleline(&mut form.account_host).desired_width(160.0))
            .labelled_by(label.id);
        ui.end_row();
    }
    ui.label(tr!("ui.secrets.privileges"));
    ui.vertical(|ui| {
        let mut remove = None;
        let levels = [
            tr!("ui.secrets.every_database"),
            tr!("ui.secrets.a_database"),
            tr!("ui.secrets.a_table"),
        ];
        for (i, row) in form.privileges.iter_mut().enumerate() {
            ui.horizontal(|ui| {
                let on = ui.label(tr!("ui.secrets.applies_to"));
                egui::ComboBox::from_id_salt(("privilege level", i))
                    .selected_text(levels[usize::from(row.level.min(2))].clone())
                    .width(110.0)
                    .show_ui(ui, |ui| {
                        for (value, text) in levels.iter().enumerate() {
                            ui.selectable_value(&mut row.level, value as u8, text.clone());
                        }
                    })
                    .response
                    .labelled_by(on.id);
                if row.level >= 1 {
                    let label = ui.label(tr!("ui.secrets.database_name"));
                    ui.add(egui::TextEdit::singleline(&mut row.database).desired_width(90.0))
                        .labelled_by(label.id);
                }
                if row.level == 2 {
                    let label = ui.label(tr!("ui.secrets.table_name"));
                    ui.add(egui::TextEdit::singleline(&mut row.table).desired_width(90.0))
                        .labelled_by(label.id);
                }
                let label = ui.label(tr!("ui.secrets.privilege_names"));
                ui.add(
                    egui::TextEdit::singleline(&mut row.privileges)
                        .desired_width(150.0)
                        .hint_text("SELECT, INSERT"),
                )
                .labelled_by(label.id);
                if ui
                    .small_button("✖")
                    .on_hover_text(tr!("ui.secrets.remove_privilege"))
                    .clicked()
                {
                    remove = Some(i);
                }
            });
        }
        if let Some(i) = remove {
            form.privileges.remove(i);
        }
        if ui.button(tr!("ui.secrets.add_privilege")).clicked() {
            form.privileges.push(PrivilegeRow {
                level: 1,
                ..PrivilegeRow::default()
            });
        }
        if let Some(engine) = engine {
            let names = keyconsole_base::util::db_accounts::allowed_privileges(
                engine,
                &GrantLevel::Database(String::new()),
            );
            ui.label(
                RichText::new(tr!(
                    "ui.secrets.privileges_of_a_database",
                    names = names.join(", ")
                ))
                .weak()
                .small(),
            );
        }
    });
    ui.end_row();
    rotation_row_ui(ui, form);
    // The caller ends this last row, as it does the value's.
}

/// The form's *Rotation* row (inside its grid; the caller ends it).
fn rotation_row_ui(ui: &mut egui::Ui, form: &mut CreateSecretForm) {
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
    rotation_row_ui(ui, form);
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
