//! The Secrets page: every secret (name, state, versions, CMK, created, description; search and a
//! state filter), a form to create one, and the chosen secret's details: its versions, a value
//! shown only on request (and copied with the clipboard clearing), a new version, enable/disable,
//! deletion with a recovery window and the typed name, restore.

use egui::RichText;
use egui_extras::{Column, TableBuilder};
use zeroize::Zeroizing;

use crate::kms::{
    CreateSecret, Kms, SecretMetadata, SecretQuery, SecretState, SecretStateFilter, SecretValue,
};
use crate::ui::command::Command;
use crate::ui::widgets::state_filter_ui;
use crate::util::format_time;

/// The create form.
#[derive(Debug, Default)]
pub struct CreateSecretForm {
    pub name: String,
    pub value: Zeroizing<String>,
    pub description: String,
    /// A KeyId, or None for the service's default key.
    pub key: Option<String>,
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
        }
    }
}

fn state_label(state: SecretState) -> &'static str {
    match state {
        SecretState::Enabled => "Enabled",
        SecretState::Disabled => "Disabled",
        SecretState::PendingDelete => "Pending deletion",
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
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, kms: &Kms, commands: &mut Vec<Command>) {
        ui.horizontal(|ui| {
            ui.heading("Secrets");
            ui.label(
                RichText::new(
                    "Named, versioned values that applications fetch by name (GetSecretValue).",
                )
                .weak(),
            );
        });
        ui.add_space(4.0);
        ui.horizontal(|ui| {
            if ui.button("➕ Create secret").clicked() {
                self.create = Some(CreateSecretForm::default());
            }
            ui.separator();
            let label = ui.label("Search");
            ui.add(
                egui::TextEdit::singleline(&mut self.search)
                    .hint_text("Search by name")
                    .desired_width(200.0),
            )
            .labelled_by(label.id);
            let label = ui.label("State");
            state_filter_ui(
                ui,
                "secret state filter",
                label.id,
                (
                    "All states",
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
            self.create_ui(ui, kms, commands);
        }
        ui.add_space(6.0);
        let page = kms
            .list_secrets(&SecretQuery {
                state: self
                    .state_filter
                    .map_or(SecretStateFilter::All, SecretStateFilter::Only),
                search: Some(self.search.clone()),
                limit: Some(crate::kms::secrets::rules::LIST_LIMIT_MAX),
                ..SecretQuery::default()
            })
            .map(|p| p.secrets)
            .unwrap_or_default();
        ui.label(format!("{} secrets", page.len()));
        self.table_ui(ui, kms, &page);
        ui.add_space(8.0);
        if let Some(name) = self.selected.clone() {
            match kms.describe_secret(&name) {
                Ok(secret) => {
                    ui.separator();
                    self.detail_ui(ui, kms, &secret, commands);
                }
                Err(_) => self.select(None),
            }
        }
    }

    fn create_ui(&mut self, ui: &mut egui::Ui, kms: &Kms, commands: &mut Vec<Command>) {
        let Some(form) = &mut self.create else {
            return;
        };
        let mut close = false;
        let problem = kms.check_secret_name(&form.name).err();
        egui::Frame::group(ui.style()).show(ui, |ui| {
            ui.strong("New secret");
            egui::Grid::new("create secret")
                .num_columns(2)
                .spacing([12.0, 6.0])
                .show(ui, |ui| {
                    let label = ui.label("Name");
                    ui.add(egui::TextEdit::singleline(&mut form.name).desired_width(260.0))
                        .labelled_by(label.id);
                    ui.end_row();
                    ui.label("");
                    match &problem {
                        Some(e) if !form.name.is_empty() => {
                            ui.colored_label(ui.visuals().error_fg_color, &e.message)
                        }
                        _ => ui.label(
                            RichText::new("Letters, digits, '_' and '-'; never renamed.").weak(),
                        ),
                    };
                    ui.end_row();
                    let label = ui.label("Value");
                    ui.add(
                        egui::TextEdit::multiline(&mut *form.value)
                            .desired_rows(3)
                            .desired_width(360.0),
                    )
                    .labelled_by(label.id);
                    ui.end_row();
                    let label = ui.label("Description");
                    ui.add(egui::TextEdit::singleline(&mut form.description).desired_width(360.0))
                        .labelled_by(label.id);
                    ui.end_row();
                    let key_label = ui.label("Key");
                    let keys = kms.keys();
                    let chosen = form
                        .key
                        .as_deref()
                        .and_then(|id| kms.describe_key(id).ok())
                        .map_or_else(
                            || "The secrets manager's default key".to_owned(),
                            |k| k.alias,
                        );
                    egui::ComboBox::from_id_salt("secret key")
                        .selected_text(chosen)
                        .width(260.0)
                        .show_ui(ui, |ui| {
                            ui.selectable_value(
                                &mut form.key,
                                None,
                                "The secrets manager's default key",
                            );
                            for key in keys.iter().filter(|k| k.state.may_encrypt()).take(500) {
                                ui.selectable_value(
                                    &mut form.key,
                                    Some(key.key_id.to_string()),
                                    key.alias.as_str(),
                                );
                            }
                        })
                        .response
                        .labelled_by(key_label.id);
                    ui.end_row();
                });
            ui.horizontal(|ui| {
                let ready = problem.is_none() && !form.value.is_empty();
                if ui.add_enabled(ready, egui::Button::new("Create")).clicked() {
                    commands.push(Command::CreateSecret(CreateSecret {
                        name: form.name.clone(),
                        version_id: None,
                        description: form.description.clone(),
                        key: form.key.clone(),
                        value: SecretValue::Text(form.value.clone()),
                    }));
                }
                if ui.button("Cancel").clicked() {
                    close = true;
                }
            });
        });
        if close {
            self.create = None;
        }
    }

    fn table_ui(&mut self, ui: &mut egui::Ui, kms: &Kms, secrets: &[SecretMetadata]) {
        let mut chosen = None;
        TableBuilder::new(ui)
            .id_salt("secrets table")
            .striped(true)
            .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
            .column(Column::initial(200.0).at_least(100.0).clip(true))
            .column(Column::initial(120.0))
            .column(Column::initial(70.0))
            .column(Column::initial(160.0).clip(true))
            .column(Column::initial(150.0))
            .column(Column::remainder().at_least(80.0).clip(true))
            .max_scroll_height(220.0)
            .header(22.0, |mut header| {
                for title in ["Name", "State", "Versions", "Key", "Created", "Description"] {
                    header.col(|ui| {
                        ui.strong(title);
                    });
                }
            })
            .body(|body| {
                body.rows(24.0, secrets.len(), |mut row| {
                    let secret = &secrets[row.index()];
                    row.col(|ui| {
                        let selected = self.selected.as_deref() == Some(secret.name.as_str());
                        if ui.selectable_label(selected, &secret.name).clicked() {
                            chosen = Some(secret.name.clone());
                        }
                    });
                    row.col(|ui| {
                        ui.label(state_label(secret.state));
                    });
                    row.col(|ui| {
                        ui.label(secret.version_count.to_string());
                    });
                    row.col(|ui| {
                        let alias = kms
                            .describe_key(&secret.key_id)
                            .map_or_else(|_| secret.key_id.clone(), |k| k.alias);
                        ui.label(alias).on_hover_text(&secret.key_id);
                    });
                    row.col(|ui| {
                        ui.label(format_time(secret.create_time));
                    });
                    row.col(|ui| {
                        ui.label(&secret.description);
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
        kms: &Kms,
        secret: &SecretMetadata,
        commands: &mut Vec<Command>,
    ) {
        ui.heading(&secret.name);
        egui::Grid::new("secret detail")
            .num_columns(2)
            .spacing([12.0, 4.0])
            .show(ui, |ui| {
                ui.label("State");
                ui.label(state_label(secret.state));
                ui.end_row();
                ui.label("Description");
                ui.label(&secret.description);
                ui.end_row();
                ui.label("Key");
                let alias = kms
                    .describe_key(&secret.key_id)
                    .map_or_else(|_| "(deleted)".to_owned(), |k| k.alias);
                let kind = if secret.default_key {
                    ", the secrets manager's default key"
                } else {
                    ""
                };
                ui.label(format!("{alias} ({}{kind})", secret.key_id));
                ui.end_row();
                ui.label("Created");
                ui.label(format_time(secret.create_time));
                ui.end_row();
                if secret.state == SecretState::PendingDelete {
                    ui.label("Deleted on");
                    ui.label(format_time(secret.delete_time));
                    ui.end_row();
                }
            });
        ui.add_space(6.0);
        ui.strong("Versions");
        let versions = kms.secret_versions(&secret.name).unwrap_or_default();
        let newest = versions.last().map(|(id, _)| id.clone());
        for (version_id, created) in &versions {
            ui.horizontal(|ui| {
                let current = if Some(version_id) == newest.as_ref() {
                    " (current)"
                } else {
                    ""
                };
                ui.monospace(format!("{version_id}{current}"));
                ui.label(RichText::new(format_time(*created)).weak());
                let shown = self
                    .revealed
                    .as_ref()
                    .is_some_and(|r| r.name == secret.name && &r.version_id == version_id);
                if shown {
                    if ui.button("Hide").clicked() {
                        self.revealed = None;
                    }
                } else if ui
                    .add_enabled(
                        secret.state == SecretState::Enabled,
                        egui::Button::new("Show"),
                    )
                    .on_disabled_hover_text("Only an enabled secret's values can be read.")
                    .clicked()
                {
                    commands.push(Command::RevealSecret {
                        name: secret.name.clone(),
                        version_id: version_id.clone(),
                    });
                }
            });
        }
        if let Some(revealed) = self.revealed.as_ref().filter(|r| r.name == secret.name) {
            ui.horizontal(|ui| {
                let what = if revealed.binary {
                    "Value (base64)"
                } else {
                    "Value"
                };
                let label = ui.label(what);
                let mut shown = revealed.text.as_str();
                ui.add(
                    egui::TextEdit::multiline(&mut shown)
                        .desired_rows(2)
                        .desired_width(360.0),
                )
                .labelled_by(label.id);
                if ui.button("📋 Copy value").clicked() {
                    commands.push(Command::Copy {
                        text: revealed.text.clone(),
                        what: "the secret value",
                    });
                }
            });
        }
        ui.add_space(6.0);
        ui.horizontal(|ui| {
            let label = ui.label("New version");
            ui.add(
                egui::TextEdit::singleline(&mut self.new_version_id)
                    .hint_text("VersionId")
                    .desired_width(120.0),
            )
            .labelled_by(label.id);
            let label = ui.label("New value");
            ui.add(egui::TextEdit::singleline(&mut *self.new_value).desired_width(220.0))
                .labelled_by(label.id);
            let ready = !self.new_version_id.trim().is_empty() && !self.new_value.is_empty();
            if ui
                .add_enabled(ready, egui::Button::new("Add version"))
                .clicked()
            {
                commands.push(Command::PutSecretValue {
                    name: secret.name.clone(),
                    version_id: self.new_version_id.trim().to_owned(),
                    value: SecretValue::Text(self.new_value.clone()),
                });
            }
        });
        ui.add_space(6.0);
        ui.horizontal(|ui| match secret.state {
            SecretState::Enabled => {
                if ui.button("Disable").clicked() {
                    commands.push(Command::SetSecretEnabled {
                        name: secret.name.clone(),
                        enable: false,
                    });
                }
            }
            SecretState::Disabled => {
                if ui.button("Enable").clicked() {
                    commands.push(Command::SetSecretEnabled {
                        name: secret.name.clone(),
                        enable: true,
                    });
                }
                ui.separator();
                ui.label("Delete after");
                ui.add(
                    egui::DragValue::new(&mut self.recovery_days)
                        .range(0..=30)
                        .suffix(" days"),
                );
                let label = ui.label("Type the name to confirm");
                ui.add(egui::TextEdit::singleline(&mut self.confirm_name).desired_width(140.0))
                    .labelled_by(label.id);
                let confirmed = self.confirm_name == secret.name;
                if ui
                    .add_enabled(confirmed, egui::Button::new("🗑 Delete secret"))
                    .clicked()
                {
                    commands.push(Command::DeleteSecret {
                        name: secret.name.clone(),
                        recovery_days: self.recovery_days,
                    });
                }
            }
            SecretState::PendingDelete => {
                if ui.button("Restore").clicked() {
                    commands.push(Command::RestoreSecret(secret.name.clone()));
                }
            }
        });
    }
}
