//! The Secrets page: every secret (name, state, versions, CMK, created, description; search and a
//! state filter), a form to create one, and the chosen secret's details: its versions, a value
//! shown only on request (and copied with the clipboard clearing), a new version, enable/disable,
//! deletion with a recovery window and the typed name, restore. Database credentials: a
//! connection checked with *Test connection*, *Rotate now*, the rotation schedule and history;
//! the network work runs on worker threads (`SecretTask`) with a spinner.
//!
//! This file holds the page's state, the list and its filters; `create.rs` the create form,
//! `detail.rs` the chosen secret (versions, value, state, a database secret's rotation).

mod create;
mod detail;
mod requests;

pub use create::CreateSecretForm;
pub use requests::SecretRequest;

use keyconsole_base::tr;
use std::sync::mpsc::Receiver;
use std::time::Instant;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use egui::RichText;
use egui_extras::{Column, TableBuilder};
use zeroize::Zeroizing;

use crate::command::Command;
use crate::model::Model;
use crate::widgets::{Answer, Confirmation, state_filter_ui};
use keyconsole_base::util::database::{DbEndpoint, DbEngine};
use keyconsole_base::util::db_accounts::{Grant, GrantLevel};
use keyconsole_base::util::format_time;
use keyconsole_base::util::i18n::current;
use keyconsole_kms::secrets::rules::{ROTATION_DAYS_DEFAULT, ROTATION_DAYS_MAX, ROTATION_DAYS_MIN};
use keyconsole_kms::secrets::{
    CreateDatabaseSecret, CreateProductSecret, CreateSshKeyPairSecret, DatabaseMetadata,
};
use keyconsole_kms::{
    CreateSecret, ErrorCode, KmsError, SecretMetadata, SecretQuery, SecretState, SecretStateFilter,
    SecretValue,
};

/// What a new secret holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SecretKind {
    #[default]
    Text,
    /// Binary, typed or pasted as base64 (SecretBinary).
    Base64,
    /// A database user's credentials, rotated in the database.
    Database,
    /// An SSH key pair made here; its private key is the value.
    SshKeyPair,
    /// A database account keyconsole makes through a registered instance (a product secret).
    ProductAccount,
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
        // The message is worded on this thread: in the language the console speaks now.
        let language = keyconsole_base::util::i18n::current();
        std::thread::spawn(move || {
            keyconsole_base::util::i18n::set_current(language);
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
    /// The secret's versions and their roles when the value was first shown: when they change (a
    /// rotation made another version current, a version was deleted) the value is hidden, so it
    /// never stands under a version it does not belong to.
    pub shown_with: Option<String>,
}

/// A question the Secrets page asks before a change that cannot be undone or that applications
/// feel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretQuestion {
    DeleteVersion {
        name: String,
        version_id: String,
    },
    Rotate {
        name: String,
    },
    /// Writing an SSH key pair's private key to a file, unencrypted.
    SaveSshPrivateKey {
        name: String,
    },
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
    /// The chosen secret's tags, shown and edited on the detail page.
    pub tags: super::tags::TagsSection,
    /// An SSH key pair's public key fetched from a server (its metadata does not carry it):
    /// the secret's name and the key.
    pub ssh_public_key: Option<(String, String)>,
    /// The rotation schedule as edited on the detail page of a database secret.
    pub rotation_edit: Option<(String, bool, u32)>,
    /// Database work in progress.
    pub tasks: Vec<SecretTask>,
    /// Asked before it is done.
    pub question: Option<SecretQuestion>,
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
            tags: super::tags::TagsSection::default(),
            ssh_public_key: None,
            tasks: Vec::new(),
            question: None,
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
    /// A secret was made from the form: the form closes and the new secret is chosen.
    pub fn created(&mut self, name: &str) {
        self.create = None;
        self.select(Some(name.to_owned()));
    }

    /// A secret was chosen (or none): forget what belonged to the previous one.
    pub fn select(&mut self, name: Option<String>) {
        self.selected = name;
        self.revealed = None;
        self.new_version_id.clear();
        self.new_value = Zeroizing::default();
        self.confirm_name.clear();
        self.rotation_edit = None;
        self.editing_description = None;
        self.tags.editing = None;
        self.ssh_public_key = None;
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
            if crate::widgets::permitted_button(
                ui,
                true,
                model.why_not("ssm:CreateSecret", "*"),
                crate::widgets::primary_button(tr!("ui.secrets.create_secret")),
            )
            .clicked()
            {
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
            .take(keyconsole_kms::secrets::rules::LIST_LIMIT_MAX)
            .collect();
        if model.secrets.is_empty() && self.create.is_none() {
            // The first visit: what a secret is for, and the one thing to do.
            ui.add_space(30.0);
            ui.vertical_centered(|ui| {
                ui.label(RichText::new(tr!("ui.secrets.no_secrets_yet")).size(18.0));
                ui.label(tr!("ui.secrets.no_secrets_yet_hint"));
            });
            return;
        }
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
                                match (&secret.database, &secret.ssh) {
                                    (Some(db), _) => ui
                                        .label(db.endpoint.engine.label())
                                        .on_hover_text(db.endpoint.to_string()),
                                    (None, Some(_)) => ui.label(tr!("ui.secrets.ssh_key_pair")),
                                    (None, None) => ui.label(tr!("ui.secrets.custom")),
                                };
                            });
                            row.col(|ui| {
                                ui.label(state_label(secret.state));
                            });
                            row.col(|ui| {
                                ui.label(crate::widgets::count_text(secret.version_count));
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
}
