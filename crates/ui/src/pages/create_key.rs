//! The "Create key" dialog: alias with live validation (the engine's rules, the reason under the
//! field), description with a byte counter, automatic rotation.

use egui::{Color32, Key, RichText};
use keyconsole_base::tr;

use crate::app::backend::{Outcome, PageCalls, console_caller};
use crate::command::Command;
use crate::model::Model;
use crate::pages::tags::TagRows;
use crate::widgets::rotation_period_ui;
use keyconsole_kms::keys::rules::{DESCRIPTION_MAX_BYTES, ROTATE_DAYS_DEFAULT};
use keyconsole_kms::{CreateKey, KeySpec, KeyUsage, KmsError};

/// The kinds of key the dialog offers: the cloud's usages, with AES-256 or SM4 for symmetric keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KeyKindChoice {
    #[default]
    Aes256,
    Sm4,
    RsaDecrypt,
    Sm2Decrypt,
    RsaSign,
    EccP256Sign,
    EccP384Sign,
    Sm2Sign,
}

impl KeyKindChoice {
    pub const ALL: [KeyKindChoice; 8] = [
        KeyKindChoice::Aes256,
        KeyKindChoice::Sm4,
        KeyKindChoice::RsaDecrypt,
        KeyKindChoice::Sm2Decrypt,
        KeyKindChoice::RsaSign,
        KeyKindChoice::EccP256Sign,
        KeyKindChoice::EccP384Sign,
        KeyKindChoice::Sm2Sign,
    ];

    /// The usage and spec CreateKey is asked for.
    pub fn request(self) -> (KeyUsage, Option<KeySpec>) {
        match self {
            KeyKindChoice::Aes256 => (KeyUsage::EncryptDecrypt, None),
            KeyKindChoice::Sm4 => (KeyUsage::EncryptDecrypt, Some(KeySpec::Sm4)),
            KeyKindChoice::RsaDecrypt => (KeyUsage::DecryptRsa2048, None),
            KeyKindChoice::Sm2Decrypt => (KeyUsage::DecryptSm2, None),
            KeyKindChoice::RsaSign => (KeyUsage::SignRsa2048, None),
            KeyKindChoice::EccP256Sign => (KeyUsage::SignEccP256, None),
            KeyKindChoice::EccP384Sign => (KeyUsage::SignEcdsa384, None),
            KeyKindChoice::Sm2Sign => (KeyUsage::SignSm2, None),
        }
    }

    pub fn is_symmetric(self) -> bool {
        matches!(self, KeyKindChoice::Aes256 | KeyKindChoice::Sm4)
    }

    pub fn label(self) -> String {
        match self {
            KeyKindChoice::Aes256 => tr!("ui.create_key.kind_aes256"),
            KeyKindChoice::Sm4 => tr!("ui.create_key.kind_sm4"),
            KeyKindChoice::RsaDecrypt => tr!("ui.create_key.kind_rsa_decrypt"),
            KeyKindChoice::Sm2Decrypt => tr!("ui.create_key.kind_sm2_decrypt"),
            KeyKindChoice::RsaSign => tr!("ui.create_key.kind_rsa_sign"),
            KeyKindChoice::EccP256Sign => tr!("ui.create_key.kind_ecc_p256_sign"),
            KeyKindChoice::EccP384Sign => tr!("ui.create_key.kind_ecc_p384_sign"),
            KeyKindChoice::Sm2Sign => tr!("ui.create_key.kind_sm2_sign"),
        }
    }
}

#[derive(Debug)]
pub struct CreateKeyDialog {
    pub kind: KeyKindChoice,
    /// Import the material (an EXTERNAL key); symmetric keys only.
    pub external: bool,
    pub alias: String,
    pub description: String,
    pub rotation: bool,
    pub rotate_days: u32,
    /// The engine's answer to the last attempt, if it refused.
    pub error: Option<KmsError>,
    focus_alias: bool,
    pub tags: TagRows,
}

impl Default for CreateKeyDialog {
    fn default() -> Self {
        Self {
            kind: KeyKindChoice::default(),
            external: false,
            alias: String::new(),
            description: String::new(),
            rotation: false,
            rotate_days: ROTATE_DAYS_DEFAULT,
            error: None,
            focus_alias: true,
            tags: TagRows::default(),
        }
    }
}

impl CreateKeyDialog {
    /// Draws the dialog; returns false when the user closed it.
    pub fn ui(&mut self, ctx: &egui::Context, model: &Model, commands: &mut Vec<Command>) -> bool {
        let mut open = true;
        let modal = egui::Modal::new(egui::Id::unique("create key dialog")).show(ctx, |ui| {
            ui.set_width(440.0);
            ui.heading(tr!("ui.create_key.create_key"));
            ui.add_space(4.0);
            let label = ui.label(tr!("ui.create_key.key_type"));
            egui::ComboBox::from_id_salt("create key kind")
                .selected_text(self.kind.label())
                .width(ui.available_width())
                .show_ui(ui, |ui| {
                    for kind in KeyKindChoice::ALL {
                        ui.selectable_value(&mut self.kind, kind, kind.label());
                    }
                })
                .response
                .labelled_by(label.id);
            ui.label(
                RichText::new(if self.kind.is_symmetric() {
                    tr!("ui.create_key.a_symmetric_customer_master_key_aes")
                } else {
                    tr!("ui.create_key.a_key_pair_explained")
                })
                .small(),
            );
            if self.kind.is_symmetric() {
                ui.checkbox(
                    &mut self.external,
                    tr!("ui.create_key.import_my_own_material"),
                );
            } else {
                self.external = false;
            }
            ui.add_space(8.0);

            let label = ui.label(tr!("ui.create_key.alias"));
            let alias = ui
                .add(
                    egui::TextEdit::singleline(&mut self.alias)
                        .hint_text(tr!("ui.create_key.e_g_db_password"))
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
                Some(model.keys.check_alias(&self.alias, None))
            };
            match &check {
                None => {
                    ui.label(RichText::new(tr!("ui.create_key.1_to_60_letters_digits_or")).small());
                }
                Some(Ok(())) => {
                    ui.colored_label(
                        Color32::from_rgb(60, 160, 90),
                        tr!("ui.create_key.this_alias_is_free"),
                    );
                }
                Some(Err(e)) => {
                    ui.colored_label(ui.visuals().error_fg_color, e.message_here());
                }
            }
            ui.add_space(6.0);

            let label = ui.label(tr!("ui.create_key.description_optional"));
            ui.add(
                egui::TextEdit::multiline(&mut self.description)
                    .desired_rows(2)
                    .desired_width(f32::INFINITY),
            )
            .labelled_by(label.id);
            let bytes = self.description.len();
            let counter = tr!(
                "ui.create_key.bytes_description_max_bytes_bytes",
                bytes = bytes,
                description_max_bytes = DESCRIPTION_MAX_BYTES
            );
            if bytes > DESCRIPTION_MAX_BYTES {
                ui.colored_label(ui.visuals().error_fg_color, counter);
            } else {
                ui.label(RichText::new(counter).small());
            }
            ui.add_space(6.0);

            if self.kind.is_symmetric() && !self.external {
                rotation_period_ui(ui, &mut self.rotation, &mut self.rotate_days);
                ui.add_space(6.0);
            }
            ui.label(tr!("ui.tags.tags_optional"));
            self.tags.ui(ui, "new key tags");

            if let Some(error) = &self.error {
                ui.add_space(6.0);
                ui.colored_label(
                    ui.visuals().error_fg_color,
                    crate::widgets::error_text(error),
                );
            }
            ui.add_space(10.0);
            ui.horizontal(|ui| {
                let submit = ui.input(|i| i.key_pressed(Key::Enter)) && alias.lost_focus();
                if ui
                    .add(crate::widgets::primary_button(tr!("ui.create_key.create")))
                    .clicked()
                    || submit
                {
                    let (usage, spec) = self.kind.request();
                    let rotates = self.kind.is_symmetric() && !self.external && self.rotation;
                    commands.push(Command::CreateKey(CreateKey {
                        alias: self.alias.clone(),
                        description: self.description.clone(),
                        key_usage: Some(usage.as_str().to_owned()),
                        spec,
                        external: self.external,
                        rotate_days: rotates.then_some(self.rotate_days),
                        tags: self.tags.tags(),
                    }));
                }
                if ui.button(tr!("ui.create_key.cancel")).clicked() {
                    open = false;
                }
            });
        });
        if crate::widgets::closes_keeping_input(&modal) {
            open = false;
        }
        open
    }
}

/// The dialog's *Create*: the dialog closes when the key is made, and shows the error otherwise.
pub(crate) fn create(
    request: CreateKey,
    mut calls: PageCalls<'_, Option<CreateKeyDialog>>,
) -> Outcome {
    calls.change(
        move |session| session.service().create_key(&console_caller(), request),
        |dialog, created| match created {
            Ok(key) => {
                if let Some(dialog) = dialog {
                    *dialog = None;
                }
                Ok(Some(tr!(
                    "ui.commands.created_key_alias_key_id",
                    alias = key.alias,
                    key_id = key.key_id
                )))
            }
            Err(e) => {
                if let Some(Some(dialog)) = dialog {
                    dialog.error = Some(e.clone());
                    // Back in the alias field, to correct it.
                    dialog.focus_alias = true;
                }
                Err(e)
            }
        },
    )
}
