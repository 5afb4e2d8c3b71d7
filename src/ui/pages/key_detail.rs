//! A key's detail page: every metadata field, in-place edits, state actions, rotation settings,
//! scheduling deletion, and the online tools.

use egui::{Color32, RichText};
use zeroize::Zeroizing;

use super::online_tools::OnlineTools;
use crate::kms::keys::rules::{PENDING_WINDOW_MAX_DAYS, PENDING_WINDOW_MIN_DAYS};
use crate::kms::{KeyMetadata, KeyState, Kms};
use crate::ui::command::Command;
use crate::ui::widgets::{rotation_period_ui, state_color, state_label};
use crate::util::format_time;

pub struct DeletionDialog {
    pub days: u32,
    pub confirm_alias: String,
}

pub struct KeyDetailState {
    pub key_id: String,
    pub editing_alias: Option<String>,
    pub editing_description: Option<String>,
    pub rotation_enabled: bool,
    pub rotation_days: u32,
    pub deletion: Option<DeletionDialog>,
    pub tools: OnlineTools,
}

impl KeyDetailState {
    /// Opens the *Schedule deletion* dialog.
    pub fn open_deletion(&mut self) {
        self.deletion = Some(DeletionDialog {
            days: PENDING_WINDOW_MAX_DAYS,
            confirm_alias: String::new(),
        });
    }

    pub fn new(key: &KeyMetadata) -> Self {
        Self {
            key_id: key.key_id.clone(),
            editing_alias: None,
            editing_description: None,
            rotation_enabled: key.key_rotation_enabled,
            rotation_days: key.rotate_days,
            deletion: None,
            tools: OnlineTools::default(),
        }
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, kms: &Kms, commands: &mut Vec<Command>) {
        if ui.link("⬅ All keys").clicked() {
            commands.push(Command::ShowKeys);
        }
        let Ok(key) = kms.describe_key(&self.key_id) else {
            ui.add_space(20.0);
            ui.label(RichText::new("This key no longer exists.").size(18.0));
            ui.label("Its deletion date passed, or it was deleted in another keyconsole.");
            return;
        };
        ui.horizontal(|ui| {
            ui.heading(RichText::new(&key.alias).size(22.0));
            ui.label(
                RichText::new(state_label(key.key_state))
                    .color(state_color(key.key_state, ui.visuals()))
                    .strong(),
            );
        });
        ui.add_space(6.0);
        egui::ScrollArea::vertical()
            .auto_shrink(false)
            .show(ui, |ui| {
                ui.columns(2, |columns| {
                    columns[0].strong("Key information");
                    self.metadata_ui(&mut columns[0], kms, &key, commands);
                    columns[1].strong("Actions");
                    self.actions_ui(&mut columns[1], &key, commands);
                    columns[1].add_space(12.0);
                    columns[1].strong("Rotation");
                    self.rotation_ui(&mut columns[1], &key, commands);
                });
                ui.add_space(12.0);
                ui.separator();
                ui.strong("Online tools");
                self.tools.ui(ui, &key.key_id, &key.alias, commands);
            });
        if self.deletion.is_some() {
            self.deletion_ui(ui.ctx(), &key, commands);
        }
    }

    fn metadata_ui(
        &mut self,
        ui: &mut egui::Ui,
        kms: &Kms,
        key: &KeyMetadata,
        commands: &mut Vec<Command>,
    ) {
        egui::Grid::new("key metadata")
            .num_columns(2)
            .spacing([14.0, 6.0])
            .striped(true)
            .show(ui, |ui| {
                ui.label("KeyId");
                ui.horizontal(|ui| {
                    ui.monospace(&key.key_id);
                    if ui
                        .small_button("📋")
                        .on_hover_text("Copy the KeyId")
                        .clicked()
                    {
                        commands.push(Command::Copy {
                            text: Zeroizing::new(key.key_id.clone()),
                            what: "the KeyId",
                        });
                    }
                });
                ui.end_row();

                let label = ui.label("Alias");
                let mut stop_editing = false;
                ui.vertical(|ui| match &mut self.editing_alias {
                    Some(alias) => {
                        ui.horizontal(|ui| {
                            ui.add(egui::TextEdit::singleline(alias).desired_width(180.0))
                                .labelled_by(label.id);
                            if ui.button("Save").clicked() {
                                commands.push(Command::UpdateKey {
                                    key: key.key_id.clone(),
                                    alias: Some(alias.clone()),
                                    description: None,
                                });
                            }
                            stop_editing = ui.button("Cancel").clicked();
                        });
                        if let Err(e) = kms.check_alias(alias, Some(&key.key_id)) {
                            ui.colored_label(ui.visuals().error_fg_color, e.message);
                        }
                    }
                    None => {
                        ui.horizontal(|ui| {
                            ui.label(&key.alias);
                            if ui
                                .small_button("✏")
                                .on_hover_text("Edit the alias")
                                .clicked()
                            {
                                self.editing_alias = Some(key.alias.clone());
                            }
                        });
                    }
                });
                if stop_editing {
                    self.editing_alias = None;
                }
                ui.end_row();

                let label = ui.label("Description");
                let mut stop_editing = false;
                ui.vertical(|ui| match &mut self.editing_description {
                    Some(description) => {
                        ui.add(
                            egui::TextEdit::multiline(description)
                                .desired_rows(2)
                                .desired_width(260.0),
                        )
                        .labelled_by(label.id);
                        ui.horizontal(|ui| {
                            ui.label(
                                RichText::new(format!("{}/1024 bytes", description.len())).small(),
                            );
                            if ui.button("Save").clicked() {
                                commands.push(Command::UpdateKey {
                                    key: key.key_id.clone(),
                                    alias: None,
                                    description: Some(description.clone()),
                                });
                            }
                            stop_editing = ui.button("Cancel").clicked();
                        });
                    }
                    None => {
                        ui.horizontal(|ui| {
                            let shown = if key.description.is_empty() {
                                "—"
                            } else {
                                key.description.as_str()
                            };
                            ui.add(egui::Label::new(shown).wrap());
                            if ui
                                .small_button("✏")
                                .on_hover_text("Edit the description")
                                .clicked()
                            {
                                self.editing_description = Some(key.description.clone());
                            }
                        });
                    }
                });
                if stop_editing {
                    self.editing_description = None;
                }
                ui.end_row();

                let rows = [
                    ("KeyState", state_label(key.key_state).to_owned()),
                    ("KeyUsage", key.key_usage.clone()),
                    ("Origin", key.origin.clone()),
                    ("Created", format_time(key.create_time)),
                    ("Key versions", key.version_count.to_string()),
                    (
                        "Automatic rotation",
                        if key.key_rotation_enabled {
                            format!("on, every {} days", key.rotate_days)
                        } else {
                            "off".to_owned()
                        },
                    ),
                    ("Last rotation", format_time(key.last_rotate_time)),
                    ("Next rotation", format_time(key.next_rotate_time)),
                ];
                for (name, value) in rows {
                    ui.label(name);
                    ui.label(value);
                    ui.end_row();
                }
                if key.key_state == KeyState::PendingDelete {
                    ui.label("Deletion date");
                    ui.colored_label(
                        state_color(KeyState::PendingDelete, ui.visuals()),
                        format_time(key.deletion_date),
                    );
                    ui.end_row();
                }
            });
    }

    fn actions_ui(&mut self, ui: &mut egui::Ui, key: &KeyMetadata, commands: &mut Vec<Command>) {
        let id = key.key_id.clone();
        // Which actions a state allows is the engine's rule; the buttons follow it.
        let state = key.key_state;
        ui.horizontal_wrapped(|ui| {
            if state.may_enable_or_disable() {
                let enable = !state.may_encrypt();
                if ui
                    .button(if enable { "Enable" } else { "Disable" })
                    .clicked()
                {
                    commands.push(Command::SetEnabled {
                        keys: vec![id.clone()],
                        enable,
                    });
                }
            }
            if state.may_archive()
                && !state.may_unarchive()
                && ui
                    .button("Archive")
                    .on_hover_text("Decrypt only; no new encryptions")
                    .clicked()
            {
                commands.push(Command::Archive(id.clone()));
            }
            if state.may_rotate()
                && ui
                    .button("Rotate now")
                    .on_hover_text("Add a new key version; old ciphertexts still decrypt")
                    .clicked()
            {
                commands.push(Command::Rotate(id.clone()));
            }
            // Offered to enabled keys too: the dialog says to disable first, as the cloud's does.
            if state.may_enable_or_disable() && ui.button("Schedule deletion…").clicked() {
                self.open_deletion();
            }
            if state.may_encrypt()
                && ui
                    .button("Encrypt a file…")
                    .on_hover_text("Envelope-encrypt a file of any size with this key")
                    .clicked()
            {
                commands.push(Command::ShowFiles(Some(id.clone())));
            }
            if state.may_cancel_deletion() && ui.button("Cancel deletion").clicked() {
                commands.push(Command::CancelDeletion(id.clone()));
            }
            if state.may_unarchive() && ui.button("Unarchive").clicked() {
                commands.push(Command::Unarchive(id.clone()));
            }
        });
    }

    fn rotation_ui(&mut self, ui: &mut egui::Ui, key: &KeyMetadata, commands: &mut Vec<Command>) {
        rotation_period_ui(ui, &mut self.rotation_enabled, &mut self.rotation_days);
        let changed = self.rotation_enabled != key.key_rotation_enabled
            || (self.rotation_enabled && self.rotation_days != key.rotate_days);
        ui.horizontal(|ui| {
            if ui
                .add_enabled(changed, egui::Button::new("Apply rotation settings"))
                .clicked()
            {
                commands.push(Command::SetRotation {
                    key: key.key_id.clone(),
                    enabled: self.rotation_enabled,
                    days: self.rotation_days,
                });
            }
        });
    }

    fn deletion_ui(&mut self, ctx: &egui::Context, key: &KeyMetadata, commands: &mut Vec<Command>) {
        let Some(dialog) = &mut self.deletion else {
            return;
        };
        let mut close = false;
        let modal = egui::Modal::new(egui::Id::unique("schedule deletion")).show(ctx, |ui| {
            ui.set_width(440.0);
            ui.heading("Schedule key deletion");
            ui.label(
                "When the waiting period ends the key material is destroyed. Every ciphertext made with \
                 this key can then never be decrypted again. You can cancel until then.",
            );
            ui.add_space(6.0);
            let disabled = key.key_state.may_schedule_deletion();
            if !disabled {
                ui.colored_label(ui.visuals().warn_fg_color, "The key must be disabled first.");
            }
            ui.horizontal(|ui| {
                let label = ui.label("Waiting period");
                ui.add(egui::DragValue::new(&mut dialog.days).range(PENDING_WINDOW_MIN_DAYS..=PENDING_WINDOW_MAX_DAYS))
                    .labelled_by(label.id);
                ui.label(format!("days ({PENDING_WINDOW_MIN_DAYS}-{PENDING_WINDOW_MAX_DAYS})"));
            });
            let label = ui.label(format!("Type the alias ({}) to confirm", key.alias));
            ui.add(egui::TextEdit::singleline(&mut dialog.confirm_alias).desired_width(f32::INFINITY))
                .labelled_by(label.id);
            ui.add_space(8.0);
            ui.horizontal(|ui| {
                let confirmed = dialog.confirm_alias == key.alias;
                let button = egui::Button::new(RichText::new("Schedule deletion").color(Color32::WHITE))
                    .fill(Color32::from_rgb(170, 50, 40));
                if ui.add_enabled(disabled && confirmed, button).clicked() {
                    commands.push(Command::ScheduleDeletion { key: key.key_id.clone(), days: dialog.days });
                    close = true;
                }
                if ui.button("Cancel").clicked() {
                    close = true;
                }
            });
        });
        if close || modal.should_close() {
            self.deletion = None;
        }
    }
}
