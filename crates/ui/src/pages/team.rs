//! The API access page's *Users* section: a team's users of this keystore, each with a policy
//! and API keys of its own (the keystore's owner manages them; a server serving this keystore
//! checks each user's requests against its policy). Create with a ready-made policy, disable or
//! enable, rotate a key with a grace period, delete after a confirmation; a new key is shown
//! once, its secret half hidden until asked for.

use keyconsole_base::tr;

use egui::RichText;
use egui_extras::{Column, TableBuilder};
use zeroize::Zeroizing;

use crate::command::Command;
use keyconsole_base::util::format_time;
use keyconsole_kms::policy::{Policy, Preset};
use keyconsole_kms::users::{UserChange, UserInfo};
use keyconsole_kms::{ApiCredentials, Cloud, KmsError};

use super::api_access::ApiRequest;

#[derive(Default)]
pub struct TeamState {
    pub new_name: String,
    pub preset: Option<Preset>,
    /// Keys (crypto user) or secrets (secret reader) the preset is for, comma-separated.
    pub on: String,
    pub grace_hours: String,
    /// The user whose key rotation or deletion waits for a confirmation.
    pub confirm: Option<(String, Confirm)>,
    /// A key just made, shown once: the user's name and the key.
    pub shown: Option<(String, ApiCredentials)>,
    pub show_secret: bool,
    pub error: Option<KmsError>,
    /// The user whose policy is being edited, and the JSON as typed.
    pub editing: Option<(String, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirm {
    Rotate,
    Delete,
}

fn preset_name(preset: Preset) -> String {
    match preset {
        Preset::ReadOnly => tr!("ui.team.preset_read_only"),
        Preset::CryptoUser => tr!("ui.team.preset_crypto_user"),
        Preset::SecretReader => tr!("ui.team.preset_secret_reader"),
        Preset::KeyAdmin => tr!("ui.team.preset_key_admin"),
        Preset::Admin => tr!("ui.team.preset_admin"),
    }
}

/// What a policy allows, briefly: its actions, the first few.
fn policy_summary(policy: &Policy) -> String {
    let mut actions: Vec<&str> = policy
        .statement
        .iter()
        .flat_map(|s| s.action.values().iter().map(String::as_str))
        .collect();
    actions.dedup();
    let more = actions.len().saturating_sub(3);
    let mut text = actions.into_iter().take(3).collect::<Vec<_>>().join(", ");
    if more > 0 {
        text.push_str(&tr!("ui.team.and_more", count = more));
    }
    text
}

impl TeamState {
    pub fn ui(&mut self, ui: &mut egui::Ui, users: &[UserInfo], commands: &mut Vec<Command>) {
        crate::widgets::section_title(ui, tr!("ui.team.users"));
        ui.label(RichText::new(tr!("ui.team.each_teammate_gets_a_user")).weak());
        self.create_ui(ui, commands);
        if let Some(error) = &self.error {
            ui.colored_label(
                ui.visuals().error_fg_color,
                crate::widgets::error_text(error),
            );
        }
        self.shown_ui(ui, commands);
        if users.is_empty() {
            ui.label(RichText::new(tr!("ui.team.no_users_yet")).weak());
            return;
        }
        self.confirm_ui(ui, commands);
        self.policy_editor_ui(ui, commands);
        TableBuilder::new(ui)
            .id_salt("users")
            .striped(true)
            .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
            .column(Column::initial(140.0))
            .column(Column::initial(80.0))
            .column(Column::initial(260.0).clip(true))
            .column(Column::initial(170.0).clip(true))
            .column(Column::initial(200.0).clip(true))
            .column(Column::remainder().at_least(240.0))
            .header(22.0, |mut header| {
                for title in [
                    tr!("ui.team.name"),
                    tr!("ui.team.state"),
                    tr!("ui.team.keys"),
                    tr!("ui.team.last_used"),
                    tr!("ui.team.policy"),
                    tr!("ui.team.operations"),
                ] {
                    header.col(|ui| {
                        ui.strong(title);
                    });
                }
            })
            .body(|body| {
                body.rows(24.0, users.len(), |mut row| {
                    let user = &users[row.index()];
                    row.col(|ui| {
                        ui.label(&user.name);
                    });
                    row.col(|ui| {
                        if user.disabled {
                            ui.colored_label(ui.visuals().warn_fg_color, tr!("ui.team.disabled"));
                        } else {
                            ui.label(tr!("ui.team.enabled"));
                        }
                    });
                    row.col(|ui| {
                        let keys: Vec<String> = user
                            .keys
                            .iter()
                            .map(|(cloud, id, _, expires)| {
                                if *expires == 0 {
                                    format!("{} {id}", cloud.as_str())
                                } else {
                                    tr!(
                                        "ui.team.key_until",
                                        key = format!("{} {id}", cloud.as_str()),
                                        time = format_time(*expires)
                                    )
                                }
                            })
                            .collect();
                        ui.monospace(keys.join(", "));
                    });
                    row.col(|ui| match &user.last_used {
                        Some((time, source)) if source.is_empty() => {
                            ui.label(format_time(*time));
                        }
                        Some((time, source)) => {
                            ui.label(format!("{} · {source}", format_time(*time)));
                        }
                        None => {
                            ui.label(RichText::new(tr!("ui.team.never")).weak());
                        }
                    });
                    row.col(|ui| {
                        ui.label(policy_summary(&user.policy));
                    });
                    row.col(|ui| {
                        let name = user.name.clone();
                        let (label, change) = if user.disabled {
                            (tr!("ui.team.enable"), UserChange::Enable(name.clone()))
                        } else {
                            (tr!("ui.team.disable"), UserChange::Disable(name.clone()))
                        };
                        if ui.button(label).clicked() {
                            commands.push(Command::Api(ApiRequest::User(change)));
                        }
                        if ui.button(tr!("ui.team.edit_policy")).clicked() {
                            let json =
                                serde_json::to_string_pretty(&user.policy).unwrap_or_default();
                            self.editing = Some((name.clone(), json));
                        }
                        if ui.button(tr!("ui.team.rotate_key")).clicked() {
                            self.confirm = Some((name.clone(), Confirm::Rotate));
                            self.grace_hours = "24".to_owned();
                        }
                        if ui.button(tr!("ui.team.delete")).clicked() {
                            self.confirm = Some((name, Confirm::Delete));
                        }
                    });
                });
            });
    }

    fn create_ui(&mut self, ui: &mut egui::Ui, commands: &mut Vec<Command>) {
        ui.horizontal_wrapped(|ui| {
            let label = ui.label(tr!("ui.team.new_user"));
            ui.add(
                egui::TextEdit::singleline(&mut self.new_name)
                    .desired_width(140.0)
                    .hint_text(tr!("ui.team.name_hint")),
            )
            .labelled_by(label.id);
            let chosen = self
                .preset
                .map_or_else(|| tr!("ui.team.choose_policy"), preset_name);
            // Named by its own label (drawn after it), which screen readers read as its name.
            egui::ComboBox::from_label(tr!("ui.team.policy"))
                .selected_text(chosen)
                .show_ui(ui, |ui| {
                    for preset in Preset::ALL {
                        ui.selectable_value(&mut self.preset, Some(preset), preset_name(preset));
                    }
                });
            if matches!(self.preset, Some(Preset::CryptoUser | Preset::SecretReader)) {
                let on = ui.label(tr!("ui.team.on"));
                ui.add(
                    egui::TextEdit::singleline(&mut self.on)
                        .desired_width(200.0)
                        .hint_text(tr!("ui.team.on_hint")),
                )
                .labelled_by(on.id);
            }
            let ready = !self.new_name.trim().is_empty() && self.preset.is_some();
            if ui
                .add_enabled(
                    ready,
                    crate::widgets::primary_button(tr!("ui.team.create_user")),
                )
                .clicked()
                && let Some(preset) = self.preset
            {
                commands.push(Command::Api(ApiRequest::CreateUser {
                    name: self.new_name.trim().to_owned(),
                    preset,
                    on: self
                        .on
                        .split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                        .collect(),
                }));
            }
        });
    }

    /// A key just made: its two halves, once, the secret one hidden until *Show*.
    fn shown_ui(&mut self, ui: &mut egui::Ui, commands: &mut Vec<Command>) {
        let Some((user, key)) = &self.shown else {
            return;
        };
        let (id_label, key_label) = key.cloud.labels();
        let mut show_secret = self.show_secret;
        let mut done = false;
        ui.group(|ui| {
            ui.label(RichText::new(tr!("ui.team.new_key_for", user = user)).strong());
            ui.horizontal(|ui| {
                ui.label(id_label);
                ui.monospace(&key.secret_id);
                if ui
                    .button(tr!("ui.api_access.copy_id", id = id_label))
                    .clicked()
                {
                    commands.push(Command::Copy {
                        text: Zeroizing::new(key.secret_id.clone()),
                        what: id_label.to_owned(),
                    });
                }
            });
            ui.horizontal(|ui| {
                ui.label(key_label);
                if show_secret {
                    ui.monospace(key.secret_key.as_str());
                } else {
                    ui.monospace("•".repeat(key.secret_key.len()));
                }
                if ui
                    .button(tr!("ui.api_access.copy_key", key = key_label))
                    .clicked()
                {
                    commands.push(Command::Copy {
                        text: key.secret_key.clone(),
                        what: key_label.to_owned(),
                    });
                }
                let toggle = if show_secret {
                    tr!("ui.api_access.hide")
                } else {
                    tr!("ui.api_access.show")
                };
                if ui.button(toggle).clicked() {
                    show_secret = !show_secret;
                }
            });
            ui.label(RichText::new(tr!("ui.team.shown_once")).weak());
            done = ui.button(tr!("ui.team.done")).clicked();
        });
        self.show_secret = show_secret && !done;
        if done {
            self.shown = None;
        }
    }

    /// A user's policy as JSON in CAM's shape, checked as it is typed; saved only when valid.
    fn policy_editor_ui(&mut self, ui: &mut egui::Ui, commands: &mut Vec<Command>) {
        let Some((name, json)) = &mut self.editing else {
            return;
        };
        let mut close = false;
        ui.group(|ui| {
            let label =
                ui.label(RichText::new(tr!("ui.team.policy_of", user = name.as_str())).strong());
            ui.add(
                egui::TextEdit::multiline(json)
                    .code_editor()
                    .desired_rows(10)
                    .desired_width(f32::INFINITY),
            )
            .labelled_by(label.id);
            let parsed = Policy::parse(json);
            ui.horizontal(|ui| match &parsed {
                Ok(policy) => {
                    ui.label(tr!(
                        "ui.team.policy_valid",
                        summary = policy_summary(policy)
                    ));
                }
                Err(e) => {
                    ui.colored_label(ui.visuals().error_fg_color, e.message_here());
                }
            });
            ui.horizontal(|ui| {
                if ui
                    .add_enabled(
                        parsed.is_ok(),
                        crate::widgets::primary_button(tr!("ui.team.save_policy")),
                    )
                    .clicked()
                    && let Ok(policy) = parsed
                {
                    commands.push(Command::Api(ApiRequest::User(UserChange::SetPolicy {
                        name: name.clone(),
                        policy,
                    })));
                    close = true;
                }
                if ui.button(tr!("ui.api_access.cancel")).clicked() {
                    close = true;
                }
            });
        });
        if close {
            self.editing = None;
        }
    }

    fn confirm_ui(&mut self, ui: &mut egui::Ui, commands: &mut Vec<Command>) {
        let Some((name, what)) = self.confirm.clone() else {
            return;
        };
        ui.horizontal_wrapped(|ui| match what {
            Confirm::Rotate => {
                ui.label(tr!("ui.team.rotate_which", user = name));
                let label = ui.label(tr!("ui.team.grace_hours"));
                ui.add(egui::TextEdit::singleline(&mut self.grace_hours).desired_width(50.0))
                    .labelled_by(label.id);
                let hours = self.grace_hours.trim().parse::<u32>().ok();
                if ui
                    .add_enabled(
                        hours.is_some(),
                        egui::Button::new(tr!("ui.team.rotate_now")),
                    )
                    .clicked()
                    && let Some(grace_hours) = hours
                {
                    commands.push(Command::Api(ApiRequest::User(UserChange::RotateKey {
                        name: name.clone(),
                        cloud: Cloud::Tencent,
                        grace_hours,
                    })));
                    self.confirm = None;
                }
                if ui.button(tr!("ui.api_access.cancel")).clicked() {
                    self.confirm = None;
                }
            }
            Confirm::Delete => {
                ui.colored_label(
                    ui.visuals().warn_fg_color,
                    tr!("ui.team.delete_which", user = name),
                );
                if ui.button(tr!("ui.team.delete_user")).clicked() {
                    commands.push(Command::Api(ApiRequest::User(UserChange::Delete(
                        name.clone(),
                    ))));
                    self.confirm = None;
                }
                if ui.button(tr!("ui.api_access.cancel")).clicked() {
                    self.confirm = None;
                }
            }
        });
    }
}
