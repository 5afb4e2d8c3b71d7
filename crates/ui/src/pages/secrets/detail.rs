//! The chosen secret: its metadata and description, its versions and a value shown only on
//! request, a new version, enable/disable, deletion and restore, and a database secret's
//! connection, schedule and rotation history.

use super::*;
use crate::widgets::permitted_button;

impl SecretsState {
    /// The question asked before a version is deleted or a password rotated.
    fn question_ui(&mut self, ctx: &egui::Context, commands: &mut Vec<Command>) {
        let Some(question) = &self.question else {
            return;
        };
        let confirmation = match question {
            SecretQuestion::DeleteVersion { name, version_id } => Confirmation {
                title: tr!(
                    "ui.secrets.delete_version_of_name",
                    version_id = version_id,
                    name = name
                ),
                lines: vec![tr!(
                    "ui.secrets.the_version_is_deleted_for_good",
                    version_id = version_id
                )],
                confirm: tr!("ui.secrets.delete_version"),
                danger: true,
            },
            SecretQuestion::Rotate { name } => Confirmation {
                title: tr!("ui.secrets.rotate_the_password_of_name", name = name),
                lines: vec![
                    tr!("ui.secrets.a_new_password_is_set_in_the_database"),
                    tr!("ui.secrets.applications_must_fetch_it_again"),
                ],
                confirm: tr!("ui.secrets.rotate_now_confirm"),
                danger: false,
            },
            SecretQuestion::SaveSshPrivateKey { name } => Confirmation {
                title: tr!("ui.secrets.download_the_private_key_of_name", name = name),
                lines: vec![
                    tr!("ui.secrets.the_private_key_is_written_unencrypted"),
                    tr!("ui.secrets.anyone_who_reads_it_logs_in"),
                ],
                confirm: tr!("ui.secrets.choose_where_to_save"),
                danger: false,
            },
        };
        match confirmation.ui(ctx, "secret question") {
            Answer::Open => {}
            Answer::Cancelled => self.question = None,
            Answer::Confirmed => {
                let request = match self.question.take() {
                    Some(SecretQuestion::DeleteVersion { name, version_id }) => {
                        SecretRequest::DeleteVersion { name, version_id }
                    }
                    Some(SecretQuestion::Rotate { name }) => SecretRequest::Rotate(name),
                    // Where to write it is asked next; the request follows the dialog's answer.
                    Some(SecretQuestion::SaveSshPrivateKey { .. }) => {
                        commands.push(Command::Dialog(
                            crate::platform::DialogPurpose::SshPrivateKey,
                        ));
                        return;
                    }
                    None => return,
                };
                commands.push(Command::Secret(request));
            }
        }
    }

    /// An SSH key pair's id, name, public key (copy) and private key (download, asked first).
    fn ssh_ui(
        &mut self,
        ui: &mut egui::Ui,
        name: &str,
        pair: &keyconsole_kms::SshKeyPair,
        commands: &mut Vec<Command>,
    ) {
        ui.add_space(6.0);
        crate::widgets::section_title(ui, tr!("ui.secrets.ssh_key_pair"));
        // A server's metadata does not carry the public key: fetched when asked for.
        let fetched = self
            .ssh_public_key
            .as_ref()
            .filter(|(of, _)| of == name)
            .map(|(_, key)| key.as_str());
        let public_key = Some(pair.public_key.as_str())
            .filter(|k| !k.is_empty())
            .or(fetched);
        egui::Grid::new("ssh key pair")
            .num_columns(2)
            .spacing([12.0, 4.0])
            .show(ui, |ui| {
                ui.label(tr!("ui.secrets.ssh_key_id"));
                ui.monospace(&pair.key_id);
                ui.end_row();
                ui.label(tr!("ui.secrets.ssh_key_name"));
                ui.label(&pair.key_name);
                ui.end_row();
                let label = ui.label(tr!("ui.secrets.public_key"));
                match public_key {
                    Some(key) => {
                        ui.add(egui::Label::new(RichText::new(key).monospace()).wrap())
                            .labelled_by(label.id);
                    }
                    None => {
                        if ui.button(tr!("ui.secrets.show_public_key")).clicked() {
                            commands.push(Command::Secret(SecretRequest::FetchSshPublicKey(
                                name.to_owned(),
                            )));
                        }
                    }
                }
                ui.end_row();
            });
        ui.horizontal(|ui| {
            if let Some(key) = public_key
                && ui.button(tr!("ui.secrets.copy_public_key")).clicked()
            {
                commands.push(Command::Copy {
                    text: Zeroizing::new(key.to_owned()),
                    what: tr!("ui.secrets.the_public_key"),
                });
            }
            if ui.button(tr!("ui.secrets.download_private_key")).clicked() {
                self.question = Some(SecretQuestion::SaveSshPrivateKey {
                    name: name.to_owned(),
                });
            }
        });
    }

    pub(super) fn detail_ui(
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
                            commands.push(Command::Secret(SecretRequest::UpdateDescription {
                                name: secret.name.clone(),
                                description: text.clone(),
                            }));
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
        if let Some(pair) = &secret.ssh {
            self.ssh_ui(ui, &secret.name, pair, commands);
        }
        ui.add_space(6.0);
        crate::widgets::section_title(ui, tr!("ui.tags.tags"));
        if let Some((set, remove)) = self.tags.ui(ui, "secret tags", &secret.tags, !model.remote) {
            commands.push(Command::Secret(SecretRequest::Tag {
                name: secret.name.clone(),
                set,
                remove,
            }));
        }
        ui.add_space(6.0);
        crate::widgets::section_title(ui, tr!("ui.secrets.versions"));
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
                        } else if permitted_button(
                            ui,
                            secret.state == SecretState::Enabled,
                            model.why_not_on_secret("ssm:GetSecretValue", &secret.name),
                            egui::Button::new(tr!("ui.secrets.show")),
                        )
                        .on_disabled_hover_text(tr!("ui.secrets.only_an_enabled_secret_s_values"))
                        .clicked()
                        {
                            commands.push(Command::Secret(SecretRequest::Reveal {
                                name: secret.name.clone(),
                                version_id: version_id.clone(),
                            }));
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
                            self.question = Some(SecretQuestion::DeleteVersion {
                                name: secret.name.clone(),
                                version_id: version_id.clone(),
                            });
                        }
                    });
                    ui.end_row();
                }
            });
        // A shown value belongs to the versions it was shown with; when they change it goes.
        let shown_with = format!(
            "{versions:?} {:?}",
            secret
                .database
                .as_ref()
                .map(|db| (&db.current_version, &db.pending_version))
        );
        if let Some(revealed) = self.revealed.as_mut().filter(|r| r.name == secret.name) {
            match &revealed.shown_with {
                None => revealed.shown_with = Some(shown_with),
                Some(seen) if *seen != shown_with => self.revealed = None,
                Some(_) => {}
            }
        }
        if let Some(revealed) = self.revealed.as_ref().filter(|r| r.name == secret.name) {
            ui.horizontal(|ui| {
                let what = if revealed.binary {
                    tr!(
                        "ui.secrets.value_of_version_base64",
                        version_id = revealed.version_id
                    )
                } else {
                    tr!(
                        "ui.secrets.value_of_version",
                        version_id = revealed.version_id
                    )
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
                (&mut self.rotation_edit, &mut self.question),
                rotating,
                commands,
            );
        } else if secret.ssh.is_none() {
            // An SSH key pair's private key is not replaced by hand.
            self.new_version_ui(ui, secret, model, commands);
        }
        ui.add_space(6.0);
        self.state_actions_ui(ui, secret, model, commands);
        self.question_ui(ui.ctx(), commands);
    }

    fn new_version_ui(
        &mut self,
        ui: &mut egui::Ui,
        secret: &SecretMetadata,
        model: &Model,
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
            if permitted_button(
                ui,
                ready,
                model.why_not_on_secret("ssm:PutSecretValue", &secret.name),
                egui::Button::new(tr!("ui.secrets.add_version")),
            )
            .clicked()
            {
                commands.push(Command::Secret(SecretRequest::PutValue {
                    name: secret.name.clone(),
                    version_id: self.new_version_id.trim().to_owned(),
                    value: SecretValue::Text(self.new_value.clone()),
                }));
            }
        });
    }

    fn state_actions_ui(
        &mut self,
        ui: &mut egui::Ui,
        secret: &SecretMetadata,
        model: &Model,
        commands: &mut Vec<Command>,
    ) {
        let button = |ui: &mut egui::Ui, enabled: bool, action: &str, text: String| {
            permitted_button(
                ui,
                enabled,
                model.why_not_on_secret(action, &secret.name),
                egui::Button::new(text),
            )
        };
        ui.horizontal(|ui| match secret.state {
            SecretState::Enabled => {
                if button(ui, true, "ssm:DisableSecret", tr!("ui.secrets.disable")).clicked() {
                    commands.push(Command::Secret(SecretRequest::SetEnabled {
                        name: secret.name.clone(),
                        enable: false,
                    }));
                }
            }
            SecretState::Disabled => {
                if button(ui, true, "ssm:EnableSecret", tr!("ui.secrets.enable")).clicked() {
                    commands.push(Command::Secret(SecretRequest::SetEnabled {
                        name: secret.name.clone(),
                        enable: true,
                    }));
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
                if button(
                    ui,
                    confirmed,
                    "ssm:DeleteSecret",
                    tr!("ui.secrets.delete_secret"),
                )
                .clicked()
                {
                    commands.push(Command::Secret(SecretRequest::Delete {
                        name: secret.name.clone(),
                        recovery_days: self.recovery_days,
                    }));
                }
            }
            SecretState::PendingDelete => {
                if button(ui, true, "ssm:RestoreSecret", tr!("ui.secrets.restore")).clicked() {
                    commands.push(Command::Secret(SecretRequest::Restore(secret.name.clone())));
                }
            }
        });
    }
}

/// The connection and rotation of a database secret on its detail page.
fn database_detail_ui(
    ui: &mut egui::Ui,
    secret: &SecretMetadata,
    database: &DatabaseMetadata,
    model: &Model,
    (edit, question): (
        &mut Option<(String, bool, u32)>,
        &mut Option<SecretQuestion>,
    ),
    rotating: bool,
    commands: &mut Vec<Command>,
) {
    ui.add_space(6.0);
    crate::widgets::section_title(ui, tr!("ui.secrets.database_credentials"));
    egui::Grid::new("secret database")
        .num_columns(2)
        .spacing([12.0, 4.0])
        .show(ui, |ui| {
            ui.label(tr!("ui.secrets.connection"));
            ui.monospace(database.endpoint.to_string());
            ui.end_row();
            if let Some(product) = &database.product {
                ui.label(tr!("ui.secrets.made_through"));
                ui.label(tr!(
                    "ui.secrets.instance_and_host",
                    instance = product.instance_id,
                    host = if product.host.is_empty() {
                        "-"
                    } else {
                        product.host.as_str()
                    }
                ));
                ui.end_row();
                ui.label(tr!("ui.secrets.privileges"));
                ui.vertical(|ui| {
                    for grant in &product.grants {
                        ui.monospace(grant.to_string());
                    }
                });
                ui.end_row();
            }
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
            let last_failure = model
                .rotation(&secret.name)
                .and_then(|d| d.history.last())
                .filter(|r| !r.succeeded());
            if let Some(failed) = last_failure {
                // What failed and what to do: clicking Rotate now only helps once that is fixed.
                ui.label(tr!("ui.secrets.last_rotation_failed"));
                ui.vertical(|ui| {
                    ui.colored_label(
                        ui.visuals().error_fg_color,
                        tr!(
                            "ui.secrets.rotation_failed_at",
                            time = format_time(failed.time),
                            error = failed.error_in(current())
                        ),
                    );
                    ui.label(tr!("ui.secrets.rotation_failed_what_to_do"));
                });
                ui.end_row();
            } else if let Some(pending) = &database.pending_version {
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
            *question = Some(SecretQuestion::Rotate {
                name: secret.name.clone(),
            });
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
            commands.push(Command::Secret(SecretRequest::SetRotation {
                name: secret.name.clone(),
                enabled: *on,
                days: *days,
            }));
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
                        ui.colored_label(ui.visuals().error_fg_color, record.error_in(current()));
                    }
                    ui.label(tr!("ui.secrets.millis_ms", millis = record.millis));
                    ui.end_row();
                }
            });
    });
}
