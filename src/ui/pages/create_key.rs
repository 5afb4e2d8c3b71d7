//! The "Create key" dialog: alias with live validation (the engine's rules, the reason under the
//! field), description with a byte counter, automatic rotation.

use egui::{Color32, Key, RichText};

use crate::kms::keys::rules::{DESCRIPTION_MAX_BYTES, ROTATE_DAYS_DEFAULT};
use crate::kms::{CreateKey, Kms, KmsError};
use crate::ui::command::Command;
use crate::ui::widgets::rotation_period_ui;

#[derive(Debug)]
pub struct CreateKeyDialog {
    pub alias: String,
    pub description: String,
    pub rotation: bool,
    pub rotate_days: u32,
    /// The engine's answer to the last attempt, if it refused.
    pub error: Option<KmsError>,
    focus_alias: bool,
}

impl Default for CreateKeyDialog {
    fn default() -> Self {
        Self {
            alias: String::new(),
            description: String::new(),
            rotation: false,
            rotate_days: ROTATE_DAYS_DEFAULT,
            error: None,
            focus_alias: true,
        }
    }
}

impl CreateKeyDialog {
    /// Draws the dialog; returns false when the user closed it.
    pub fn ui(&mut self, ctx: &egui::Context, kms: &Kms, commands: &mut Vec<Command>) -> bool {
        let mut open = true;
        let modal = egui::Modal::new(egui::Id::unique("create key dialog")).show(ctx, |ui| {
            ui.set_width(440.0);
            ui.heading("Create key");
            ui.label("A symmetric customer master key (AES-256-GCM) for Encrypt and Decrypt.");
            ui.add_space(8.0);

            let label = ui.label("Alias");
            let alias = ui
                .add(
                    egui::TextEdit::singleline(&mut self.alias)
                        .hint_text("e.g. db-password")
                        .desired_width(f32::INFINITY),
                )
                .labelled_by(label.id);
            if std::mem::take(&mut self.focus_alias) {
                alias.request_focus();
            }
            if alias.changed() {
                self.error = None;
            }
            let check = if self.alias.is_empty() {
                None
            } else {
                Some(kms.check_alias(&self.alias, None))
            };
            match &check {
                None => {
                    ui.label(
                        RichText::new(
                            "1 to 60 letters, digits, '_' or '-', starting with a letter or digit.",
                        )
                        .small(),
                    );
                }
                Some(Ok(())) => {
                    ui.colored_label(Color32::from_rgb(60, 160, 90), "✔ This alias is free.");
                }
                Some(Err(e)) => {
                    ui.colored_label(ui.visuals().error_fg_color, &e.message);
                }
            }
            ui.add_space(6.0);

            let label = ui.label("Description (optional)");
            ui.add(
                egui::TextEdit::multiline(&mut self.description)
                    .desired_rows(2)
                    .desired_width(f32::INFINITY),
            )
            .labelled_by(label.id);
            let bytes = self.description.len();
            let counter = format!("{bytes}/{DESCRIPTION_MAX_BYTES} bytes");
            if bytes > DESCRIPTION_MAX_BYTES {
                ui.colored_label(ui.visuals().error_fg_color, counter);
            } else {
                ui.label(RichText::new(counter).small());
            }
            ui.add_space(6.0);

            rotation_period_ui(ui, &mut self.rotation, &mut self.rotate_days);

            if let Some(error) = &self.error {
                ui.add_space(6.0);
                ui.colored_label(
                    ui.visuals().error_fg_color,
                    format!("{}: {}", error.code, error.message),
                );
            }
            ui.add_space(10.0);
            ui.horizontal(|ui| {
                let submit = ui.input(|i| i.key_pressed(Key::Enter)) && alias.lost_focus();
                if ui.button(RichText::new("Create").strong()).clicked() || submit {
                    commands.push(Command::CreateKey(CreateKey {
                        alias: self.alias.clone(),
                        description: self.description.clone(),
                        key_usage: None,
                        rotate_days: self.rotation.then_some(self.rotate_days),
                    }));
                }
                if ui.button("Cancel").clicked() {
                    open = false;
                }
            });
        });
        if modal.should_close() {
            open = false;
        }
        open
    }
}
