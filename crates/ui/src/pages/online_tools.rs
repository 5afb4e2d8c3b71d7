//! The "Online tools" panel of a key, as in the cloud consoles: Encrypt, Decrypt and Data key.
//! Every secret shown here lives in wiped-on-drop buffers and is dropped when the console locks.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use egui::{Key, Modifiers, RichText};
use keyconsole_base::tr;
use zeroize::Zeroizing;

use std::path::{Path, PathBuf};

use super::key_detail::KeyDetailState;
use crate::app::backend::{Outcome, PageCalls, console_caller};
use crate::command::Command;
use crate::model::Model;
use crate::platform::{DialogPurpose, file_error};
use keyconsole_kms::{
    CanonicalContext, DataKey, DataKeySpec, Decrypted, Encrypted, ErrorCode, KmsError, KmsService,
    PLAINTEXT_MAX_BYTES, RANDOM_MAX_BYTES,
};

/// What the tools of the key page `key` ask for; the answer goes to that page's panel.
#[derive(Debug)]
pub enum ToolRequest {
    Encrypt {
        key: String,
        /// The bytes to encrypt, or why the input could not be read (base64 that is not).
        plaintext: Result<Zeroizing<Vec<u8>>, KmsError>,
        context: String,
    },
    Decrypt {
        /// The page that asked (the ciphertext names its own key).
        key: String,
        ciphertext: String,
        context: String,
    },
    GenerateDataKey {
        key: String,
        spec: DataKeySpec,
        context: String,
    },
    /// Put a ciphertext file's text in the Decrypt box (read on the worker).
    OpenCiphertext { key: String, path: PathBuf },
}

/// Ciphertext files opened in the decrypt tool are blobs of a few KB; refuse anything huge.
const MAX_CIPHERTEXT_FILE_BYTES: u64 = 64 * 1024;

impl OnlineTools {
    /// Forgets the errors shown: they were about a state the key is no longer in.
    pub fn clear_errors(&mut self) {
        self.encrypt_error = None;
        self.decrypt_error = None;
        self.data_key_error = None;
    }
}

impl ToolRequest {
    /// Runs on the worker and puts the result (or the error) in the panel of the key page that
    /// asked, if it is still open on that key.
    pub(crate) fn run(self, mut calls: PageCalls<'_, KeyDetailState>) -> Outcome {
        type Work = Box<dyn FnOnce(&dyn KmsService) -> Result<ToolAnswer, KmsError> + Send>;
        let (page_key, tab, work): (String, ToolTab, Work) = match self {
            ToolRequest::Encrypt {
                key,
                plaintext,
                context,
            } => (
                key.clone(),
                ToolTab::Encrypt,
                Box::new(move |service| {
                    let bytes = plaintext?;
                    let context = CanonicalContext::parse(Some(&context))?;
                    let encrypted = service.encrypt(&console_caller(), &key, &bytes, &context)?;
                    Ok(ToolAnswer::Encrypted(encrypted, bytes.len()))
                }),
            ),
            ToolRequest::Decrypt {
                key,
                ciphertext,
                context,
            } => (
                key,
                ToolTab::Decrypt,
                Box::new(move |service| {
                    let context = CanonicalContext::parse(Some(&context))?;
                    service
                        .decrypt(&console_caller(), &ciphertext, &context)
                        .map(ToolAnswer::Decrypted)
                }),
            ),
            ToolRequest::GenerateDataKey { key, spec, context } => (
                key.clone(),
                ToolTab::DataKey,
                Box::new(move |service| {
                    let context = CanonicalContext::parse(Some(&context))?;
                    service
                        .generate_data_key(&console_caller(), &key, spec, &context)
                        .map(ToolAnswer::DataKey)
                }),
            ),
            ToolRequest::OpenCiphertext { key, path } => {
                return calls.call(
                    move |_| read_ciphertext_file(&path),
                    move |page, text| {
                        let text = text?;
                        if let Some(tools) = tools_of(page, &key) {
                            tools.decrypt_input = text.trim().to_owned();
                            tools.decrypted = None;
                            tools.decrypt_error = None;
                        }
                        Ok(None)
                    },
                );
            }
        };
        calls.call(
            move |session| work(session.service()),
            move |page, answer| {
                if let Some(tools) = tools_of(page, &page_key) {
                    tools.apply(tab, &answer);
                }
                answer.map(|answer| Some(answer.said()))
            },
        )
    }
}

/// The panel of the key page, if it still shows `key`.
fn tools_of<'a>(page: Option<&'a mut KeyDetailState>, key: &str) -> Option<&'a mut OnlineTools> {
    page.filter(|detail| detail.key_id == key)
        .map(|detail| &mut detail.tools)
}

/// A ciphertext file's text, refused when it is huge or not text.
fn read_ciphertext_file(path: &Path) -> Result<String, KmsError> {
    let size = std::fs::metadata(path)
        .map_err(|e| file_error(path, &e, false))?
        .len();
    if size > MAX_CIPHERTEXT_FILE_BYTES {
        return Err(KmsError::new(
            ErrorCode::InvalidCiphertext,
            tr!(
                "ui.commands.path_is_size_bytes_too_large",
                path = path.display(),
                size = size
            ),
        ));
    }
    std::fs::read_to_string(path).map_err(|_| {
        KmsError::new(
            ErrorCode::InvalidCiphertext,
            tr!("ui.commands.path_is_not_a_text_file", path = path.display()),
        )
    })
}

/// What one of the tools answered (run on the console's worker).
pub enum ToolAnswer {
    /// The ciphertext and how many bytes went in.
    Encrypted(Encrypted, usize),
    Decrypted(Decrypted),
    DataKey(DataKey),
}

impl ToolAnswer {
    /// The notification for it.
    pub fn said(&self) -> String {
        match self {
            ToolAnswer::Encrypted(_, n) => tr!("ui.commands.encrypted_n_bytes", n = n),
            ToolAnswer::Decrypted(decrypted) => tr!(
                "ui.commands.decrypted_plaintext_bytes",
                plaintext = decrypted.plaintext.len()
            ),
            ToolAnswer::DataKey(data_key) => tr!(
                "ui.commands.generated_a_plaintext_byte_data_key",
                plaintext = data_key.plaintext.len()
            ),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ToolTab {
    #[default]
    Encrypt,
    Decrypt,
    DataKey,
}

/// Decrypted plaintext, as text when it is UTF-8, else as base64.
pub struct Revealed {
    pub text: Zeroizing<String>,
    pub is_base64: bool,
}

impl Revealed {
    pub fn new(bytes: &[u8]) -> Self {
        match std::str::from_utf8(bytes) {
            Ok(text) => Self {
                text: Zeroizing::new(text.to_owned()),
                is_base64: false,
            },
            Err(_) => Self {
                text: Zeroizing::new(STANDARD.encode(bytes)),
                is_base64: true,
            },
        }
    }
}

pub struct GeneratedDataKey {
    pub plaintext_base64: Zeroizing<String>,
    pub ciphertext_blob: String,
}

#[derive(Default)]
pub struct OnlineTools {
    pub tab: ToolTab,

    pub plaintext: Zeroizing<String>,
    pub plaintext_is_base64: bool,
    pub encrypt_context: String,
    pub ciphertext: String,
    pub encrypt_error: Option<KmsError>,

    pub decrypt_input: String,
    pub decrypt_context: String,
    pub decrypted: Option<Revealed>,
    pub decrypt_error: Option<KmsError>,
    pub confirm_save_plaintext: bool,

    pub data_key_spec: DataKeySpec,
    pub data_key_bytes: u32,
    pub data_key_context: String,
    pub data_key: Option<GeneratedDataKey>,
    pub data_key_error: Option<KmsError>,
}

impl OnlineTools {
    /// The bytes to encrypt: the text as UTF-8, or decoded base64 for binary input.
    pub fn plaintext_bytes(&self) -> Result<Zeroizing<Vec<u8>>, KmsError> {
        if self.plaintext_is_base64 {
            STANDARD
                .decode(self.plaintext.trim())
                .map(Zeroizing::new)
                .map_err(|_| {
                    KmsError::new(
                        ErrorCode::InvalidPlaintext,
                        tr!("ui.online_tools.the_plaintext_is_not_valid_base64"),
                    )
                })
        } else {
            Ok(Zeroizing::new(self.plaintext.as_bytes().to_vec()))
        }
    }

    /// Puts the answer to what `tab` asked (or its error) in that tab, and says how it went.
    pub fn apply(&mut self, tab: ToolTab, answer: &Result<ToolAnswer, KmsError>) {
        match (tab, answer) {
            (ToolTab::Encrypt, Ok(ToolAnswer::Encrypted(encrypted, _))) => {
                self.ciphertext.clone_from(&encrypted.ciphertext_blob);
                self.encrypt_error = None;
            }
            (ToolTab::Decrypt, Ok(ToolAnswer::Decrypted(decrypted))) => {
                self.decrypted = Some(Revealed::new(&decrypted.plaintext));
                self.decrypt_error = None;
            }
            (ToolTab::DataKey, Ok(ToolAnswer::DataKey(data_key))) => {
                self.data_key = Some(GeneratedDataKey {
                    plaintext_base64: Zeroizing::new(STANDARD.encode(&data_key.plaintext)),
                    ciphertext_blob: data_key.ciphertext_blob.clone(),
                });
                self.data_key_error = None;
            }
            (ToolTab::Encrypt, Err(e)) => {
                self.ciphertext.clear();
                self.encrypt_error = Some(e.clone());
            }
            (ToolTab::Decrypt, Err(e)) => {
                self.decrypted = None;
                self.decrypt_error = Some(e.clone());
            }
            (ToolTab::DataKey, Err(e)) => {
                self.data_key = None;
                self.data_key_error = Some(e.clone());
            }
            // An answer always matches the tab that asked (see `ToolAnswer::tab`).
            (_, Ok(_)) => {}
        }
    }

    pub fn clear_encrypt(&mut self) {
        self.plaintext = Zeroizing::default();
        self.ciphertext.clear();
        self.encrypt_error = None;
    }

    /// The tools for the key `key_id` (shown by its `alias`).
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        key_id: &str,
        alias: &str,
        model: &Model,
        commands: &mut Vec<Command>,
    ) {
        ui.horizontal(|ui| {
            ui.selectable_value(
                &mut self.tab,
                ToolTab::Encrypt,
                tr!("ui.online_tools.encrypt"),
            );
            ui.selectable_value(
                &mut self.tab,
                ToolTab::Decrypt,
                tr!("ui.online_tools.decrypt"),
            );
            ui.selectable_value(
                &mut self.tab,
                ToolTab::DataKey,
                tr!("ui.online_tools.data_key"),
            );
        });
        ui.separator();
        let action = match self.tab {
            ToolTab::Encrypt => "kms:Encrypt",
            ToolTab::Decrypt => "kms:Decrypt",
            ToolTab::DataKey => "kms:GenerateDataKey",
        };
        let why_not = model.why_not_on_key(action, key_id);
        let why_not = why_not.as_deref();
        let execute =
            ui.input_mut(|i| i.consume_key(Modifiers::COMMAND, Key::Enter)) && why_not.is_none();
        match self.tab {
            ToolTab::Encrypt => self.encrypt_ui(ui, key_id, alias, execute, why_not, commands),
            ToolTab::Decrypt => self.decrypt_ui(ui, key_id, execute, why_not, commands),
            ToolTab::DataKey => self.data_key_ui(ui, key_id, execute, why_not, commands),
        }
        if self.confirm_save_plaintext {
            self.confirm_save_ui(ui.ctx(), commands);
        }
    }

    fn encrypt_ui(
        &mut self,
        ui: &mut egui::Ui,
        key_id: &str,
        alias: &str,
        execute: bool,
        why_not: Option<&str>,
        commands: &mut Vec<Command>,
    ) {
        ui.label(tr!(
            "ui.online_tools.encrypt_up_to_plaintext_max_bytes",
            plaintext_max_bytes = PLAINTEXT_MAX_BYTES,
            alias = alias
        ));
        side_by_side_ui(ui, |ui, pane| match pane {
            Pane::Input => {
                let label = ui.label(tr!("ui.online_tools.plaintext"));
                ui.add(
                    egui::TextEdit::multiline(&mut *self.plaintext)
                        .hint_text(tr!("ui.online_tools.type_or_paste_the_secret"))
                        .desired_rows(6)
                        .desired_width(f32::INFINITY)
                        .font(egui::TextStyle::Monospace),
                )
                .labelled_by(label.id);
                ui.horizontal(|ui| {
                    ui.checkbox(
                        &mut self.plaintext_is_base64,
                        tr!("ui.online_tools.base64_input_binary_data"),
                    );
                    ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                        let counter = match self.plaintext_bytes() {
                            Ok(bytes) => {
                                let text = tr!(
                                    "ui.online_tools.bytes_plaintext_max_bytes_bytes",
                                    bytes = bytes.len(),
                                    plaintext_max_bytes = PLAINTEXT_MAX_BYTES
                                );
                                if bytes.len() > PLAINTEXT_MAX_BYTES {
                                    RichText::new(text).color(ui.visuals().error_fg_color)
                                } else {
                                    RichText::new(text)
                                }
                            }
                            Err(_) => RichText::new(tr!("ui.online_tools.not_valid_base64"))
                                .color(ui.visuals().error_fg_color),
                        };
                        ui.label(counter);
                    });
                });
                context_ui(ui, &mut self.encrypt_context);
            }
            Pane::Actions => {
                if execute_button(ui, &tr!("ui.online_tools.execute"), why_not) || execute {
                    commands.push(Command::Tool(ToolRequest::Encrypt {
                        key: key_id.to_owned(),
                        plaintext: self.plaintext_bytes(),
                        context: self.encrypt_context.clone(),
                    }));
                }
                if ui.button(tr!("ui.online_tools.clear")).clicked() {
                    self.clear_encrypt();
                }
            }
            Pane::Output => {
                output_ui(ui, &tr!("ui.online_tools.ciphertext"), &self.ciphertext, 6);
                ui.horizontal(|ui| {
                    let ready = !self.ciphertext.is_empty();
                    if ui
                        .add_enabled(ready, egui::Button::new(tr!("ui.online_tools.copy")))
                        .clicked()
                    {
                        commands.push(Command::Copy {
                            text: Zeroizing::new(self.ciphertext.clone()),
                            what: tr!("ui.online_tools.the_ciphertext"),
                        });
                    }
                    if ui
                        .add_enabled(ready, egui::Button::new(tr!("ui.online_tools.download")))
                        .on_hover_text(tr!("ui.online_tools.save_the_ciphertextblob_to_a_file"))
                        .clicked()
                    {
                        commands.push(Command::Dialog(DialogPurpose::SaveCiphertext));
                    }
                });
            }
        });
        error_ui(ui, self.encrypt_error.as_ref());
    }

    fn decrypt_ui(
        &mut self,
        ui: &mut egui::Ui,
        key_id: &str,
        execute: bool,
        why_not: Option<&str>,
        commands: &mut Vec<Command>,
    ) {
        ui.label(tr!("ui.online_tools.decrypt_a_ciphertextblob_made_by_this"));
        side_by_side_ui(ui, |ui, pane| match pane {
            Pane::Input => {
                let label = ui.label(tr!("ui.online_tools.ciphertext_to_decrypt"));
                ui.add(
                    egui::TextEdit::multiline(&mut self.decrypt_input)
                        .hint_text(tr!("ui.online_tools.paste_a_ciphertextblob_or_open_a"))
                        .desired_rows(6)
                        .desired_width(f32::INFINITY)
                        .font(egui::TextStyle::Monospace),
                )
                .labelled_by(label.id);
                context_ui(ui, &mut self.decrypt_context);
            }
            Pane::Actions => {
                if execute_button(ui, &tr!("ui.online_tools.execute"), why_not) || execute {
                    commands.push(Command::Tool(ToolRequest::Decrypt {
                        key: key_id.to_owned(),
                        ciphertext: self.decrypt_input.clone(),
                        context: self.decrypt_context.clone(),
                    }));
                }
                if ui.button(tr!("ui.online_tools.open_file")).clicked() {
                    commands.push(Command::Dialog(DialogPurpose::OpenCiphertext));
                }
                if ui.button(tr!("ui.online_tools.clear")).clicked() {
                    self.decrypt_input.clear();
                    self.decrypted = None;
                    self.decrypt_error = None;
                }
            }
            Pane::Output => {
                let (title, text) = match &self.decrypted {
                    Some(revealed) if revealed.is_base64 => (
                        tr!("ui.online_tools.plaintext_not_utf_8_shown_as"),
                        revealed.text.as_str(),
                    ),
                    Some(revealed) => (tr!("ui.online_tools.plaintext"), revealed.text.as_str()),
                    None => (tr!("ui.online_tools.plaintext"), ""),
                };
                output_ui(ui, &title, text, 6);
                ui.horizontal(|ui| {
                    let ready = self.decrypted.is_some();
                    if ui
                        .add_enabled(
                            ready,
                            egui::Button::new(tr!("ui.online_tools.copy_plaintext")),
                        )
                        .clicked()
                        && let Some(revealed) = &self.decrypted
                    {
                        commands.push(Command::Copy {
                            text: revealed.text.clone(),
                            what: tr!("ui.online_tools.the_plaintext"),
                        });
                    }
                    if ui
                        .add_enabled(
                            ready,
                            egui::Button::new(tr!("ui.online_tools.save_plaintext_to_file")),
                        )
                        .clicked()
                    {
                        self.confirm_save_plaintext = true;
                    }
                });
            }
        });
        error_ui(ui, self.decrypt_error.as_ref());
    }

    fn confirm_save_ui(&mut self, ctx: &egui::Context, commands: &mut Vec<Command>) {
        let modal = egui::Modal::new(egui::Id::unique("confirm save plaintext")).show(ctx, |ui| {
            ui.set_width(420.0);
            ui.heading(tr!("ui.online_tools.save_the_plaintext_to_disk"));
            ui.label(tr!(
                "ui.online_tools.the_secret_will_be_written_unencrypted"
            ));
            ui.add_space(8.0);
            ui.horizontal(|ui| {
                if ui
                    .button(tr!("ui.online_tools.save_plaintext_anyway"))
                    .clicked()
                {
                    self.confirm_save_plaintext = false;
                    commands.push(Command::Dialog(DialogPurpose::SavePlaintext));
                }
                if ui.button(tr!("ui.online_tools.cancel")).clicked() {
                    self.confirm_save_plaintext = false;
                }
            });
        });
        if modal.should_close() {
            self.confirm_save_plaintext = false;
        }
    }

    fn data_key_ui(
        &mut self,
        ui: &mut egui::Ui,
        key_id: &str,
        execute: bool,
        why_not: Option<&str>,
        commands: &mut Vec<Command>,
    ) {
        ui.label(tr!("ui.online_tools.generate_a_data_key_for_envelope"));
        side_by_side_ui(ui, |ui, pane| match pane {
            Pane::Input => {
                ui.horizontal(|ui| {
                    let label = ui.label(tr!("ui.online_tools.key_spec"));
                    egui::ComboBox::from_id_salt("data key spec")
                        .selected_text(match self.data_key_spec {
                            DataKeySpec::Aes256 => "AES_256".to_owned(),
                            DataKeySpec::Aes128 => "AES_128".to_owned(),
                            DataKeySpec::Bytes(_) => tr!("ui.online_tools.number_of_bytes"),
                        })
                        .show_ui(ui, |ui| {
                            ui.selectable_value(
                                &mut self.data_key_spec,
                                DataKeySpec::Aes256,
                                "AES_256",
                            );
                            ui.selectable_value(
                                &mut self.data_key_spec,
                                DataKeySpec::Aes128,
                                "AES_128",
                            );
                            let bytes = DataKeySpec::Bytes(self.data_key_bytes);
                            if ui
                                .selectable_label(
                                    matches!(self.data_key_spec, DataKeySpec::Bytes(_)),
                                    tr!("ui.online_tools.number_of_bytes"),
                                )
                                .clicked()
                            {
                                self.data_key_spec = bytes;
                            }
                        })
                        .response
                        .labelled_by(label.id);
                    if matches!(self.data_key_spec, DataKeySpec::Bytes(_)) {
                        if self.data_key_bytes == 0 {
                            self.data_key_bytes = 32;
                        }
                        ui.add(
                            egui::DragValue::new(&mut self.data_key_bytes)
                                .range(1..=RANDOM_MAX_BYTES),
                        );
                    }
                });
                context_ui(ui, &mut self.data_key_context);
            }
            Pane::Actions => {
                if execute_button(ui, &tr!("ui.online_tools.generate"), why_not) || execute {
                    let spec = match self.data_key_spec {
                        DataKeySpec::Bytes(_) => DataKeySpec::Bytes(self.data_key_bytes),
                        other => other,
                    };
                    commands.push(Command::Tool(ToolRequest::GenerateDataKey {
                        key: key_id.to_owned(),
                        spec,
                        context: self.data_key_context.clone(),
                    }));
                }
            }
            Pane::Output => {
                let (plaintext, blob) = match &self.data_key {
                    Some(d) => (d.plaintext_base64.as_str(), d.ciphertext_blob.as_str()),
                    None => ("", ""),
                };
                let ready = self.data_key.is_some();
                output_ui(
                    ui,
                    &tr!("ui.online_tools.plaintext_data_key_base64"),
                    plaintext,
                    1,
                );
                if ui
                    .add_enabled(
                        ready,
                        egui::Button::new(tr!("ui.online_tools.copy_data_key")),
                    )
                    .clicked()
                    && let Some(data_key) = &self.data_key
                {
                    commands.push(Command::Copy {
                        text: data_key.plaintext_base64.clone(),
                        what: tr!("ui.online_tools.the_data_key"),
                    });
                }
                output_ui(
                    ui,
                    &tr!("ui.online_tools.encrypted_data_key_ciphertextblob"),
                    blob,
                    2,
                );
                ui.horizontal(|ui| {
                    if ui
                        .add_enabled(
                            ready,
                            egui::Button::new(tr!("ui.online_tools.copy_encrypted_key")),
                        )
                        .clicked()
                        && let Some(data_key) = &self.data_key
                    {
                        commands.push(Command::Copy {
                            text: Zeroizing::new(data_key.ciphertext_blob.clone()),
                            what: tr!("ui.online_tools.the_encrypted_data_key"),
                        });
                    }
                    if ui
                        .add_enabled(ready, egui::Button::new(tr!("ui.online_tools.download")))
                        .clicked()
                    {
                        commands.push(Command::Dialog(DialogPurpose::SaveDataKeyCiphertext));
                    }
                });
            }
        });
        error_ui(ui, self.data_key_error.as_ref());
    }
}

fn context_ui(ui: &mut egui::Ui, context: &mut String) {
    ui.horizontal(|ui| {
        let label = ui.label(tr!("ui.online_tools.encryption_context"));
        ui.add(
            egui::TextEdit::singleline(context)
                .hint_text(tr!("ui.online_tools.context_hint"))
                .desired_width(f32::INFINITY)
                .font(egui::TextStyle::Monospace),
        )
        .labelled_by(label.id);
    });
}

/// The three parts of a tool, as the cloud consoles lay them out: the input on the left, the
/// buttons between, the output (with Copy and Download) on the right.
#[derive(Clone, Copy)]
enum Pane {
    Input,
    Actions,
    Output,
}

/// Draws a tool's panes side by side, or stacked when the panel is narrow.
fn side_by_side_ui(ui: &mut egui::Ui, mut pane_ui: impl FnMut(&mut egui::Ui, Pane)) {
    const ACTIONS_WIDTH: f32 = 110.0;
    const WIDE_ENOUGH: f32 = 760.0;
    // What is visible: a page wider than the window (a long row above) must not push the output
    // pane past the window's edge.
    let width = ui
        .available_width()
        .min(ui.clip_rect().right() - ui.cursor().left() - ui.spacing().item_spacing.x);
    if width < WIDE_ENOUGH {
        pane_ui(ui, Pane::Input);
        ui.horizontal(|ui| pane_ui(ui, Pane::Actions));
        pane_ui(ui, Pane::Output);
        return;
    }
    // Three panes and the two gaps between them fill the width exactly.
    let spacing = ui.spacing().item_spacing.x;
    let gap = spacing * 2.0;
    let side = ((width - ACTIONS_WIDTH - 2.0 * gap) / 2.0).floor();
    ui.horizontal_top(|ui| {
        ui.spacing_mut().item_spacing.x = gap;
        for (pane, width) in [
            (Pane::Input, side),
            (Pane::Actions, ACTIONS_WIDTH),
            (Pane::Output, side),
        ] {
            let layout = match pane {
                Pane::Actions => egui::Layout::top_down_justified(egui::Align::Center),
                _ => egui::Layout::top_down(egui::Align::Min),
            };
            ui.allocate_ui_with_layout(egui::vec2(width, 0.0), layout, |ui| {
                ui.spacing_mut().item_spacing.x = spacing;
                if let Pane::Actions = pane {
                    ui.add_space(40.0);
                }
                pane_ui(ui, pane);
            });
        }
    });
}

/// A labelled, read-only, selectable box for a result (ciphertext, plaintext, data key).
fn output_ui(ui: &mut egui::Ui, label: &str, text: &str, rows: usize) {
    let label = ui.label(label);
    let mut text = text;
    let edit = if rows > 1 {
        egui::TextEdit::multiline(&mut text)
    } else {
        egui::TextEdit::singleline(&mut text)
    };
    ui.add(
        edit.background_color(ui.visuals().extreme_bg_color)
            .desired_rows(rows)
            .desired_width(f32::INFINITY)
            .font(egui::TextStyle::Monospace),
    )
    .labelled_by(label.id);
}

/// The tool's main button; Ctrl+Enter does the same. Disabled, saying why, when the connected
/// user's policy forbids it.
fn execute_button(ui: &mut egui::Ui, name: &str, why_not: Option<&str>) -> bool {
    crate::widgets::permitted_button(
        ui,
        true,
        why_not.map(str::to_owned),
        crate::widgets::primary_button(name),
    )
    .on_hover_text(tr!("ui.online_tools.ctrl_enter"))
    .clicked()
}

fn error_ui(ui: &mut egui::Ui, error: Option<&KmsError>) {
    if let Some(error) = error {
        ui.colored_label(
            ui.visuals().error_fg_color,
            crate::widgets::error_text(error),
        );
    }
}
