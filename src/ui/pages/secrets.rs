//! The Secrets page: every secret (name, state, versions, CMK, created, description; search and a
//! state filter), a form to create one, and the chosen secret's details: its versions, a value
//! shown only on request (and copied with the clipboard clearing), a new version, enable/disable,
//! deletion with a recovery window and the typed name, restore. Database credentials: a
//! connection checked with *Test connection*, *Rotate now*, the rotation schedule and history;
//! the network work runs on worker threads (`SecretTask`) with a spinner.

use crate::tr;
use std::sync::mpsc::Receiver;
use std::time::Instant;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use egui::RichText;
use egui_extras::{Column, TableBuilder};
use zeroize::Zeroizing;

use crate::kms::secrets::rules::{ROTATION_DAYS_DEFAULT, ROTATION_DAYS_MAX, ROTATION_DAYS_MIN};
use crate::kms::secrets::{CreateDatabaseSecret, DatabaseMetadata};
use crate::kms::{
    CreateSecret, ErrorCode, KmsError, SecretMetadata, SecretQuery, SecretState, SecretStateFilter,
    SecretValue,
};
use crate::ui::command::Command;
use crate::ui::model::Model;
use crate::ui::widgets::state_filter_ui;
use crate::util::database::{DbEndpoint, DbEngine};
use crate::util::format_time;

/// What a new secret holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SecretKind {
    #[default]
    Text,
    /// Binary, typed or pasted as base64 (SecretBinary).
    Base64,
    /// A database user's credentials, rotated in the database.
    Database,
}

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
}

impl Default for CreateSecretForm {
    fn default() -> Self {
        Self {
            name: String::new(),
            kind: SecretKind::Text,
            value: Zeroizing::default(),
            description: String::new(),
            key: None,
            engine: DbEngine::MySql,
            host: "127.0.0.1".to_owned(),
            port: DbEngine::MySql.default_port().to_string(),
            user: String::new(),
            password: Zeroizing::default(),
            rotate: false,
            rotate_days: ROTATION_DAYS_DEFAULT,
            connection: None,
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

/// Work on a database that runs off the UI thread: a connection test, creating a database
/// secret (which logs in first), or a rotation. The result is a message for a notification.
pub struct SecretTask {
    pub kind: SecretTaskKind,
    pub started: Instant,
    pub result: Receiver<Result<String, KmsError>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretTaskKind {
    TestConnection,
    Create(String),
    Rotate(String),
}

impl std::fmt::Debug for SecretTask {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretTask")
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

impl SecretTask {
    /// Runs `work` on a worker thread and asks for a frame when it is done.
    pub fn start(
        kind: SecretTaskKind,
        ctx: &egui::Context,
        work: impl FnOnce() -> Result<String, KmsError> + Send + 'static,
    ) -> Self {
        let (sender, result) = std::sync::mpsc::channel();
        let ctx = ctx.clone();
        std::thread::spawn(move || {
            let _ = sender.send(work());
            ctx.request_repaint();
        });
        Self {
            kind,
            started: Instant::now(),
            result,
        }
    }
}

/// A value the user asked to see. Dropped when another secret is chosen, on Hide, and at lock.
pub struct RevealedValue {
    pub name: String,
    pub version_id: String,
    /// The text, or base64 of a binary value.
    pub text: Zeroizing<String>,
    pub binary: bool,
}

impl std::fmt::Debug for RevealedValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RevealedValue")
            .field("name", &self.name)
            .field("version_id", &self.version_id)
            .finish_non_exhaustive()
    }
}

#[derive(Debug)]
pub struct SecretsState {
    pub search: String,
    pub state_filter: Option<SecretState>,
    pub selected: Option<String>,
    pub create: Option<CreateSecretForm>,
    pub revealed: Option<RevealedValue>,
    pub new_version_id: String,
    pub new_value: Zeroizing<String>,
    pub recovery_days: u32,
    pub confirm_name: String,
    /// The description being edited on the detail page.
    pub editing_description: Option<String>,
    /// The rotation schedule as edited on the detail page of a database secret.
    pub rotation_edit: Option<(String, bool, u32)>,
    /// Database work in progress.
    pub tasks: Vec<SecretTask>,
}

impl SecretsState {
    pub fn busy(&self, kind: &SecretTaskKind) -> bool {
        self.tasks.iter().any(|t| &t.kind == kind)
    }
}

impl Default for SecretsState {
    fn default() -> Self {
        Self {
            search: String::new(),
            state_filter: None,
            selected: None,
            create: None,
            revealed: None,
            new_version_id: String::new(),
            new_value: Zeroizing::default(),
            recovery_days: 7,
            confirm_name: String::new(),
            rotation_edit: None,
            editing_description: None,
            tasks: Vec::new(),
        }
    }
}

fn state_label(state: SecretState) -> String {
    match state {
        SecretState::Enabled => tr!("ui.secrets.enabled"),
        SecretState::Disabled => tr!("ui.secrets.disabled"),
        SecretState::PendingDelete => tr!("ui.secrets.pending_deletion"),
    }
}

impl SecretsState {
    /// A secret was chosen (or none): forget what belonged to the previous one.
    pub fn select(&mut self, name: Option<String>) {
        self.selected = name;
        self.revealed = None;
        self.new_version_id.clear();
        self.new_value = Zeroizing::default();
        self.confirm_name.clear();
        self.rotation_edit = None;
        self.editing_description = None;
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, model: &Model, commands: &mut Vec<Command>) {
        ui.horizontal(|ui| {
            ui.heading(tr!("ui.secrets.secrets"));
            ui.label(
                RichText::new(tr!(
                    "ui.secrets.named_versioned_values_that_applications_fetch"
                ))
                .weak(),
            );
        });
        ui.add_space(4.0);
        ui.horizontal(|ui| {
            if ui.button(tr!("ui.secrets.create_secret")).clicked() {
                self.create = Some(CreateSecretForm::default());
            }
            ui.separator();
            let label = ui.label(tr!("ui.secrets.search"));
            ui.add(
                egui::TextEdit::singleline(&mut self.search)
                    .hint_text(tr!("ui.secrets.search_by_name"))
                    .desired_width(200.0),
            )
            .labelled_by(label.id);
            let label = ui.label(tr!("ui.secrets.state"));
            state_filter_ui(
                ui,
                "secret state filter",
                label.id,
                (
                    tr!("ui.secrets.all_states"),
                    &[
                        SecretState::Enabled,
                        SecretState::Disabled,
                        SecretState::PendingDelete,
                    ],
                ),
                state_label,
                &mut self.state_filter,
            );
        });
        if self.create.is_some() {
            ui.add_space(6.0);
            self.create_ui(ui, model, commands);
        }
        ui.add_space(6.0);
        let query = SecretQuery {
            state: self
                .state_filter
                .map_or(SecretStateFilter::All, SecretStateFilter::Only),
            search: Some(self.search.clone()),
            ..SecretQuery::default()
        };
        let page: Vec<&SecretMetadata> = model
            .matching_secrets(&query)
            .take(crate::kms::secrets::rules::LIST_LIMIT_MAX)
            .collect();
        ui.label(tr!("ui.secrets.page_secrets", page = page.len()));
        self.table_ui(ui, model, &page);
        ui.add_space(8.0);
        if let Some(name) = self.selected.clone() {
            match model.describe_secret(&name) {
                Some(secret) => {
                    ui.separator();
                    self.detail_ui(ui, model, secret, commands);
                }
                // Gone, or not in this snapshot yet (made on a worker a moment ago): the choice
                // stays for the next one, a shown value does not.
                None => self.revealed = None,
            }
        }
    }

    fn create_ui(&mut self, ui: &mut egui::Ui, model: &Model, commands: &mut Vec<Command>) {
        let busy_creating = self
            .tasks
            .iter()
            .any(|t| matches!(t.kind, SecretTaskKind::Create(_)));
        let testing = self.busy(&SecretTaskKind::TestConnection);
        let Some(form) = &mut self.create else {
            return;
        };
        let mut close = false;
        let problem = model.check_secret_name(&form.name).err();
        egui::Frame::group(ui.style()).show(ui, |ui| {
            ui.strong(tr!("ui.secrets.new_secret"));
            egui::Grid::new("create secret")
                .num_columns(2)
                .spacing([12.0, 6.0])
                .show(ui, |ui| {
                    let label = ui.label(tr!("ui.secrets.name"));
                    ui.add(egui::TextEdit::singleline(&mut form.name).desired_width(260.0))
                        .labelled_by(label.id);
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
                                        crate::ui::platform::DialogPurpose::SecretValueFile,
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
            ui.horizontal(|ui| {
                let creating = busy_creating;
                if form.kind == SecretKind::Database {
                    let ready = problem.is_none()
                        && !form.user.trim().is_empty()
                        && !form.host.trim().is_empty()
                        && !form.password.is_empty()
                        && !creating;
                    if ui
                        .add_enabled(ready, egui::Button::new(tr!("ui.secrets.create")))
                        .on_hover_text(tr!("ui.secrets.logs_in_with_the_password_first"))
                        .clicked()
                    {
                        commands.push(Command::CreateDatabaseSecret(CreateDatabaseSecret {
                            name: form.name.clone(),
                            description: form.description.clone(),
                            key: form.key.clone(),
                            endpoint: form.endpoint(),
                            password: form.password.clone(),
                            rotate_days: form.rotate.then_some(form.rotate_days),
                        }));
                    }
                    if creating {
                        ui.spinner();
                        ui.label(tr!("ui.secrets.logging_in"));
                    }
                } else {
                    let ready = problem.is_none() && !form.value.is_empty();
                    if ui
                        .add_enabled(ready, egui::Button::new(tr!("ui.secrets.create")))
                        .clicked()
                    {
                        match form.value() {
                            Ok(value) => commands.push(Command::CreateSecret(CreateSecret {
                                name: form.name.clone(),
                                version_id: None,
                                description: form.description.clone(),
                                key: form.key.clone(),
                                value,
                            })),
                            Err(e) => commands.push(Command::Report(e)),
                        }
                    }
                }
                if ui.button(tr!("ui.secrets.cancel")).clicked() {
                    close = true;
                }
            });
        });
        if close {
            self.create = None;
        }
    }

    fn table_ui(&mut self, ui: &mut egui::Ui, model: &Model, secrets: &[&SecretMetadata]) {
        let mut chosen = None;
        // A narrow window scrolls the table sideways rather than cutting its last columns off.
        egui::ScrollArea::horizontal()
            .id_salt("secrets table sideways")
            .show(ui, |ui| {
                TableBuilder::new(ui)
                    .id_salt("secrets table")
                    .striped(true)
                    .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
                    .column(Column::initial(180.0).at_least(100.0).clip(true))
                    .column(Column::initial(110.0).clip(true))
                    .column(Column::initial(110.0))
                    .column(Column::initial(60.0))
                    .column(Column::initial(130.0).clip(true))
                    .column(Column::initial(185.0))
                    .column(Column::initial(90.0))
                    .column(Column::remainder().at_least(80.0).clip(true))
                    .max_scroll_height(220.0)
                    .header(22.0, |mut header| {
                        for title in [
                            tr!("ui.secrets.name"),
                            tr!("ui.secrets.type"),
                            tr!("ui.secrets.state"),
                            tr!("ui.secrets.versions"),
                            tr!("ui.secrets.key"),
                            tr!("ui.secrets.created"),
                            tr!("ui.secrets.rotation"),
                            tr!("ui.secrets.description"),
                        ] {
                            header.col(|ui| {
                                ui.strong(title);
                            });
                        }
                    })
                    .body(|body| {
                        body.rows(24.0, secrets.len(), |mut row| {
                            let secret = &secrets[row.index()];
                            row.col(|ui| {
                                let selected =
                                    self.selected.as_deref() == Some(secret.name.as_str());
                                if ui.selectable_label(selected, &secret.name).clicked() {
                                    chosen = Some(secret.name.clone());
                                }
                            });
                            row.col(|ui| {
                                match &secret.database {
                                    Some(db) => ui
                                        .label(db.endpoint.engine.label())
                                        .on_hover_text(db.endpoint.to_string()),
                                    None => ui.label(tr!("ui.secrets.custom")),
                                };
                            });
                            row.col(|ui| {
                                ui.label(state_label(secret.state));
                            });
                            row.col(|ui| {
                                ui.label(crate::ui::widgets::count_text(secret.version_count));
                            });
                            row.col(|ui| {
                                let alias = model
                                    .keys
                                    .find(&secret.key_id)
                                    .map_or_else(|| secret.key_id.clone(), |k| k.alias.clone());
                                ui.label(alias).on_hover_text(&secret.key_id);
                            });
                            row.col(|ui| {
                                ui.label(format_time(secret.create_time));
                            });
                            row.col(|ui| {
                                ui.label(match &secret.database {
                                    Some(db) if db.rotation_enabled => {
                                        tr!(
                                            "ui.secrets.rotate_days_days",
                                            rotate_days = db.rotate_days
                                        )
                                    }
                                    Some(_) => tr!("ui.common.off"),
                                    None => "-".to_owned(),
                                });
                            });
                            row.col(|ui| {
                                ui.label(&secret.description);
                            });
                        });
                    });
            });
        if let Some(name) = chosen {
            self.select(Some(name));
        }
    }

    fn detail_ui(
        &mut self,
        ui: &mut egui::Ui,
        model: &Model,
        secret: &SecretMetadata,
        commands: &mut Vec<Command>,
    ) {
        ui.heading(&secret.name);
        egui::Grid::new("secret detail")
            .num_columns(2)
            .spacing([12.0, 4.0])
            .show(ui, |ui| {
                ui.label(tr!("ui.secrets.state"));
                ui.label(state_label(secret.state));
                ui.end_row();
                let label = ui.label(tr!("ui.secrets.description"));
                ui.horizontal(|ui| match &mut self.editing_description {
                    Some(text) => {
                        ui.add(egui::TextEdit::singleline(text).desired_width(320.0))
                            .labelled_by(label.id);
                        if ui.button(tr!("ui.secrets.save")).clicked() {
                            commands.push(Command::UpdateSecretDescription {
                                name: secret.name.clone(),
                                description: text.clone(),
                            });
                        }
                        if ui.button(tr!("ui.secrets.cancel")).clicked() {
                            self.editing_description = None;
                        }
                    }
                    None => {
                        ui.label(&secret.description);
                        if ui
                            .add_enabled(
                                secret.state != SecretState::PendingDelete,
                                egui::Button::new(tr!("ui.secrets.edit_description")).small(),
                            )
                            .on_disabled_hover_text(tr!(
                                "ui.secrets.a_secret_pending_deletion_cannot_change"
                            ))
                            .clicked()
                        {
                            self.editing_description = Some(secret.description.clone());
                        }
                    }
                });
                ui.end_row();
                ui.label(tr!("ui.secrets.key"));
                let alias = model
                    .keys
                    .find(&secret.key_id)
                    .map_or_else(|| tr!("ui.secrets.deleted_key"), |k| k.alias.clone());
                let kind = if secret.default_key {
                    tr!("ui.secrets.the_secrets_manager_s_default_key_2")
                } else {
                    String::new()
                };
                ui.label(format!("{alias} ({}{kind})", secret.key_id));
                ui.end_row();
                ui.label(tr!("ui.secrets.created"));
                ui.label(format_time(secret.create_time));
                ui.end_row();
                if secret.state == SecretState::PendingDelete {
                    ui.label(tr!("ui.secrets.deleted_on"));
                    ui.label(format_time(secret.delete_time));
                    ui.end_row();
                }
            });
        ui.add_space(6.0);
        ui.strong(tr!("ui.secrets.versions"));
        let versions = model.secret_versions(&secret.name);
        let newest = versions.last().map(|(id, _)| id.clone());
        let role = |version_id: &String| match &secret.database {
            Some(db) if &db.current_version == version_id => tr!("ui.secrets.current"),
            Some(db) if db.previous_version.as_ref() == Some(version_id) => {
                tr!("ui.secrets.previous")
            }
            Some(db) if db.pending_version.as_ref() == Some(version_id) => {
                tr!("ui.secrets.pending")
            }
            Some(_) => String::new(),
            None if Some(version_id) == newest.as_ref() => tr!("ui.secrets.current"),
            None => String::new(),
        };
        // A grid, so the buttons line up whatever the version ids' lengths.
        egui::Grid::new("secret versions")
            .num_columns(3)
            .spacing([12.0, 4.0])
            .show(ui, |ui| {
                for (version_id, created) in versions {
                    ui.monospace(format!("{version_id}{}", role(version_id)));
                    ui.label(RichText::new(format_time(*created)).weak());
                    ui.horizontal(|ui| {
                        let shown = self
                            .revealed
                            .as_ref()
                            .is_some_and(|r| r.name == secret.name && &r.version_id == version_id);
                        if shown {
                            if ui.button(tr!("ui.secrets.hide")).clicked() {
                                self.revealed = None;
                            }
                        } else if ui
                            .add_enabled(
                                secret.state == SecretState::Enabled,
                                egui::Button::new(tr!("ui.secrets.show")),
                            )
                            .on_disabled_hover_text(tr!(
                                "ui.secrets.only_an_enabled_secret_s_values"
                            ))
                            .clicked()
                        {
                            commands.push(Command::RevealSecret {
                                name: secret.name.clone(),
                                version_id: version_id.clone(),
                            });
                        }
                        // The database's current and pending passwords stay; a secret keeps one version.
                        let in_use = secret.database.as_ref().is_some_and(|db| {
                            &db.current_version == version_id
                                || db.pending_version.as_ref() == Some(version_id)
                        });
                        if versions.len() > 1
                            && !in_use
                            && secret.state != SecretState::PendingDelete
                            && ui
                                .small_button(tr!("ui.secrets.delete"))
                                .on_hover_text(tr!(
                                    "ui.secrets.delete_version_version_id_now",
                                    version_id = version_id
                                ))
                                .clicked()
                        {
                            commands.push(Command::DeleteSecretVersion {
                                name: secret.name.clone(),
                                version_id: version_id.clone(),
                            });
                        }
                    });
                    ui.end_row();
                }
            });
        if let Some(revealed) = self.revealed.as_ref().filter(|r| r.name == secret.name) {
            ui.horizontal(|ui| {
                let what = if revealed.binary {
                    tr!("ui.secrets.value_base64")
                } else {
                    tr!("ui.secrets.value")
                };
                let label = ui.label(what);
                let mut shown = revealed.text.as_str();
                ui.add(
                    egui::TextEdit::multiline(&mut shown)
                        .desired_rows(2)
                        .desired_width(360.0),
                )
                .labelled_by(label.id);
                if ui.button(tr!("ui.secrets.copy_value")).clicked() {
                    commands.push(Command::Copy {
                        text: revealed.text.clone(),
                        what: tr!("ui.secrets.the_secret_value"),
                    });
                }
            });
        }
        if let Some(database) = &secret.database {
            let rotating = self.busy(&SecretTaskKind::Rotate(secret.name.clone()))
                || model.is_rotating(&secret.name);
            if self
                .rotation_edit
                .as_ref()
                .is_some_and(|(name, _, _)| name != &secret.name)
            {
                self.rotation_edit = None;
            }
            database_detail_ui(
                ui,
                secret,
                database,
                model,
                &mut self.rotation_edit,
                rotating,
                commands,
            );
        } else {
            self.new_version_ui(ui, secret, commands);
        }
        ui.add_space(6.0);
        self.state_actions_ui(ui, secret, commands);
    }

    fn new_version_ui(
        &mut self,
        ui: &mut egui::Ui,
        secret: &SecretMetadata,
        commands: &mut Vec<Command>,
    ) {
        ui.add_space(6.0);
        ui.horizontal(|ui| {
            let label = ui.label(tr!("ui.secrets.new_version"));
            ui.add(
                egui::TextEdit::singleline(&mut self.new_version_id)
                    .hint_text("VersionId")
                    .desired_width(120.0),
            )
            .labelled_by(label.id);
            let label = ui.label(tr!("ui.secrets.new_value"));
            ui.add(egui::TextEdit::singleline(&mut *self.new_value).desired_width(220.0))
                .labelled_by(label.id);
            let ready = !self.new_version_id.trim().is_empty() && !self.new_value.is_empty();
            if ui
                .add_enabled(ready, egui::Button::new(tr!("ui.secrets.add_version")))
                .clicked()
            {
                commands.push(Command::PutSecretValue {
                    name: secret.name.clone(),
                    version_id: self.new_version_id.trim().to_owned(),
                    value: SecretValue::Text(self.new_value.clone()),
                });
            }
        });
    }

    fn state_actions_ui(
        &mut self,
        ui: &mut egui::Ui,
        secret: &SecretMetadata,
        commands: &mut Vec<Command>,
    ) {
        ui.horizontal(|ui| match secret.state {
            SecretState::Enabled => {
                if ui.button(tr!("ui.secrets.disable")).clicked() {
                    commands.push(Command::SetSecretEnabled {
                        name: secret.name.clone(),
                        enable: false,
                    });
                }
            }
            SecretState::Disabled => {
                if ui.button(tr!("ui.secrets.enable")).clicked() {
                    commands.push(Command::SetSecretEnabled {
                        name: secret.name.clone(),
                        enable: true,
                    });
                }
                ui.separator();
                ui.label(tr!("ui.secrets.delete_after"));
                ui.add(
                    egui::DragValue::new(&mut self.recovery_days)
                        .range(0..=30)
                        .suffix(tr!("ui.secrets.days")),
                );
                let label = ui.label(tr!("ui.secrets.type_the_name_to_confirm"));
                ui.add(egui::TextEdit::singleline(&mut self.confirm_name).desired_width(140.0))
                    .labelled_by(label.id);
                let confirmed = self.confirm_name == secret.name;
                if ui
                    .add_enabled(
                        confirmed,
                        egui::Button::new(tr!("ui.secrets.delete_secret")),
                    )
                    .clicked()
                {
                    commands.push(Command::DeleteSecret {
                        name: secret.name.clone(),
                        recovery_days: self.recovery_days,
                    });
                }
            }
            SecretState::PendingDelete => {
                if ui.button(tr!("ui.secrets.restore")).clicked() {
                    commands.push(Command::RestoreSecret(secret.name.clone()));
                }
            }
        });
    }
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
            commands.push(Command::TestDatabaseConnection {
                endpoint: form.endpoint(),
                password: form.password.clone(),
            });
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

/// The connection and rotation of a database secret on its detail page.
fn database_detail_ui(
    ui: &mut egui::Ui,
    secret: &SecretMetadata,
    database: &DatabaseMetadata,
    model: &Model,
    edit: &mut Option<(String, bool, u32)>,
    rotating: bool,
    commands: &mut Vec<Command>,
) {
    ui.add_space(6.0);
    ui.strong(tr!("ui.secrets.database_credentials"));
    egui::Grid::new("secret database")
        .num_columns(2)
        .spacing([12.0, 4.0])
        .show(ui, |ui| {
            ui.label(tr!("ui.secrets.connection"));
            ui.monospace(database.endpoint.to_string());
            ui.end_row();
            ui.label(tr!("ui.secrets.last_rotation"));
            ui.label(format_time(database.last_rotation_time));
            ui.end_row();
            ui.label(tr!("ui.secrets.next_rotation"));
            ui.label(if database.rotation_enabled {
                format_time(database.next_rotation_time)
            } else {
                tr!("ui.common.off")
            });
            ui.end_row();
            if let Some(pending) = &database.pending_version {
                ui.label(tr!("ui.secrets.pending_2"));
                ui.colored_label(
                    ui.visuals().warn_fg_color,
                    tr!(
                        "ui.secrets.pending_a_rotation_was_cut_off",
                        pending = pending
                    ),
                );
                ui.end_row();
            }
        });
    ui.horizontal(|ui| {
        let enabled = secret.state == SecretState::Enabled && !rotating;
        if ui
            .add_enabled(enabled, egui::Button::new(tr!("ui.secrets.rotate_now")))
            .on_hover_text(tr!("ui.secrets.a_new_random_password_set_in"))
            .on_disabled_hover_text(tr!("ui.secrets.only_an_enabled_secret_rotates_one"))
            .clicked()
        {
            commands.push(Command::RotateSecret(secret.name.clone()));
        }
        if rotating {
            ui.spinner();
            ui.label(tr!("ui.secrets.rotating"));
        }
        ui.separator();
        let (_, on, days) = edit.get_or_insert_with(|| {
            (
                secret.name.clone(),
                database.rotation_enabled,
                database.rotate_days,
            )
        });
        ui.checkbox(on, tr!("ui.secrets.rotate_automatically_every"));
        ui.add_enabled(
            *on,
            egui::DragValue::new(days)
                .range(ROTATION_DAYS_MIN..=ROTATION_DAYS_MAX)
                .suffix(tr!("ui.secrets.days")),
        );
        let changed = *on != database.rotation_enabled || (*on && *days != database.rotate_days);
        if ui
            .add_enabled(changed, egui::Button::new(tr!("ui.secrets.save_schedule")))
            .clicked()
        {
            commands.push(Command::SetSecretRotation {
                name: secret.name.clone(),
                enabled: *on,
                days: *days,
            });
        }
    });
    let history = model
        .rotation(&secret.name)
        .map(|d| d.history.as_slice())
        .unwrap_or_default();
    if history.is_empty() {
        return;
    }
    ui.add_space(4.0);
    egui::CollapsingHeader::new(tr!(
        "ui.secrets.rotation_history_history",
        history = history.len()
    ))
    .id_salt("rotation history")
    .id_salt("rotation history")
    .default_open(true)
    .show(ui, |ui| {
        egui::Grid::new("rotation history grid")
            .num_columns(4)
            .striped(true)
            .spacing([12.0, 2.0])
            .show(ui, |ui| {
                for title in [
                    tr!("ui.secrets.time"),
                    tr!("ui.secrets.version"),
                    tr!("ui.secrets.result"),
                    tr!("ui.secrets.took"),
                ] {
                    ui.strong(title);
                }
                ui.end_row();
                for record in history.iter().rev().take(20) {
                    ui.label(format_time(record.time));
                    ui.monospace(&record.version_id);
                    if record.succeeded() {
                        ui.label(tr!("ui.secrets.rotated"));
                    } else {
                        ui.colored_label(ui.visuals().error_fg_color, &record.error);
                    }
                    ui.label(tr!("ui.secrets.millis_ms", millis = record.millis));
                    ui.end_row();
                }
            });
    });
}
