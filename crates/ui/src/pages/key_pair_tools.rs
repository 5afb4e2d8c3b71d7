//! A key pair's page tools: its public key (copy, download .pem), Sign and Verify (text or a file,
//! the message or its digest, the algorithm) for signing keys, Decrypt (of what was encrypted to
//! the public key) for decryption keys; and, for an EXTERNAL key, the import of its material
//! (wrapping key and token, the wrapped file, the expiry). The work runs on the console's worker.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use egui::RichText;
use keyconsole_base::tr;
use zeroize::Zeroizing;

use std::path::{Path, PathBuf};

use super::key_detail::KeyDetailState;
use super::online_tools::Revealed;
use crate::app::backend::{Outcome, PageCalls, console_caller};
use crate::command::Command;
use crate::model::Model;
use crate::platform::{DialogPurpose, file_error};
use crate::widgets::{Answer, Confirmation, error_text, permitted_button, primary_button};
use keyconsole_base::crypto::asymmetric::{PairKind, SignAlgorithm};
use keyconsole_kms::keys::import::ImportParametersOut;
use keyconsole_kms::{
    ErrorCode, KeyChange, KeyMetadata, KeyUsage, KmsError, MessageType, PLAINTEXT_MAX_BYTES,
    PublicKey,
};

/// Files signed or verified are read whole up to this; larger ones are signed by their digest.
const MESSAGE_FILE_MAX_BYTES: u64 = 64 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PairTab {
    #[default]
    PublicKey,
    Sign,
    Verify,
    Decrypt,
}

/// What is signed or verified: the typed text, or a file's content.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum MessageSource {
    #[default]
    Text,
    File(PathBuf),
}

#[derive(Default)]
pub struct KeyPairTools {
    pub tab: PairTab,
    pub public_key: Option<PublicKey>,
    /// Asked once when the page first draws the tools.
    public_key_asked: bool,
    pub public_key_error: Option<KmsError>,

    pub algorithm: Option<SignAlgorithm>,
    pub message: Zeroizing<String>,
    pub source: MessageSource,
    /// The input is a digest in hex (32 bytes; 48 for ECDSA384), not the message.
    pub input_is_digest: bool,
    pub signature: String,
    pub sign_error: Option<KmsError>,

    pub signature_to_check: String,
    pub verified: Option<bool>,
    pub verify_error: Option<KmsError>,

    pub rsa_algorithm: &'static str,
    pub ciphertext: String,
    pub decrypted: Option<Revealed>,
    pub decrypt_error: Option<KmsError>,
}

/// The import of an EXTERNAL key's material, step by step.
pub struct ImportPanel {
    pub wrapping_algorithm: &'static str,
    pub parameters: Option<ImportParametersOut>,
    pub material_file: Option<PathBuf>,
    pub expires: bool,
    pub valid_days: u32,
    pub error: Option<KmsError>,
    pub confirm_delete: bool,
}

impl Default for ImportPanel {
    fn default() -> Self {
        Self {
            wrapping_algorithm: WRAPPING_ALGORITHMS[0],
            parameters: None,
            material_file: None,
            expires: false,
            valid_days: 365,
            error: None,
            confirm_delete: false,
        }
    }
}

const WRAPPING_ALGORITHMS: [&str; 3] =
    ["RSAES_OAEP_SHA_256", "RSAES_OAEP_SHA_1", "RSAES_PKCS1_V1_5"];

/// What the tools ask of the service for the key page `key`.
#[derive(Debug)]
pub enum PairRequest {
    PublicKey {
        key: String,
    },
    Sign {
        key: String,
        algorithm: String,
        message: MessageInput,
    },
    Verify {
        key: String,
        algorithm: String,
        message: MessageInput,
        signature: String,
    },
    Decrypt {
        key: String,
        algorithm: Option<String>,
        ciphertext: String,
    },
    ImportParameters {
        key: String,
        algorithm: String,
    },
    Import {
        key: String,
        token: String,
        material_file: PathBuf,
        /// The material expires this many days from now; never when None.
        valid_days: Option<u32>,
    },
}

/// The message as the page has it: text, a hex digest, or a file to read on the worker.
#[derive(Debug)]
pub enum MessageInput {
    Text(Zeroizing<Vec<u8>>),
    Digest(String),
    File(PathBuf),
}

/// What the tools got back.
enum PairAnswer {
    PublicKey(PublicKey),
    Signed(Vec<u8>),
    Verified(bool),
    Decrypted(Zeroizing<Vec<u8>>),
    ImportParameters(ImportParametersOut),
    Imported,
}

impl MessageInput {
    /// The bytes to send and how: a file over 4 KB goes as its digest (RSA and ECDSA only; SM2's
    /// digest needs the key's Z value, so SM2 signs files of at most 4 KB).
    fn read(self, algorithm: SignAlgorithm) -> Result<(MessageType, Zeroizing<Vec<u8>>), KmsError> {
        match self {
            MessageInput::Text(bytes) => Ok((MessageType::Raw, bytes)),
            MessageInput::Digest(hex) => {
                Ok((MessageType::Digest, Zeroizing::new(parse_hex(&hex)?)))
            }
            MessageInput::File(path) => {
                let size = std::fs::metadata(&path)
                    .map_err(|e| file_error(&path, &e, false))?
                    .len();
                if size > MESSAGE_FILE_MAX_BYTES {
                    return Err(KmsError::new(
                        ErrorCode::InvalidParameterValue,
                        tr!("ui.key_pairs.file_too_large", path = path.display()),
                    ));
                }
                let bytes =
                    Zeroizing::new(std::fs::read(&path).map_err(|e| file_error(&path, &e, false))?);
                if bytes.len() <= PLAINTEXT_MAX_BYTES {
                    return Ok((MessageType::Raw, bytes));
                }
                file_digest(&path, &bytes, algorithm).map(|d| (MessageType::Digest, d))
            }
        }
    }
}

fn file_digest(
    path: &Path,
    bytes: &[u8],
    algorithm: SignAlgorithm,
) -> Result<Zeroizing<Vec<u8>>, KmsError> {
    keyconsole_base::crypto::asymmetric::message_digest(algorithm, bytes)
        .map(Zeroizing::new)
        .ok_or_else(|| {
            KmsError::new(
                ErrorCode::InvalidParameterValue,
                tr!("ui.key_pairs.sm2_files_up_to_4_kb", path = path.display()),
            )
        })
}

fn parse_hex(text: &str) -> Result<Vec<u8>, KmsError> {
    let text: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let bad = || {
        KmsError::new(
            ErrorCode::InvalidParameterValue,
            tr!("ui.key_pairs.the_digest_is_not_hex"),
        )
    };
    if !text.len().is_multiple_of(2) {
        return Err(bad());
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2).unwrap_or("zz"), 16).map_err(|_| bad()))
        .collect()
}

fn base64_input(text: &str, what: &str) -> Result<Vec<u8>, KmsError> {
    STANDARD.decode(text.trim()).map_err(|_| {
        KmsError::new(
            ErrorCode::InvalidParameterValue,
            tr!("ui.key_pairs.what_is_not_valid_base64", what = what),
        )
    })
}

impl PairRequest {
    pub(crate) fn run(self, mut calls: PageCalls<'_, KeyDetailState>) -> Outcome {
        let page_key = match &self {
            PairRequest::PublicKey { key }
            | PairRequest::Sign { key, .. }
            | PairRequest::Verify { key, .. }
            | PairRequest::Decrypt { key, .. }
            | PairRequest::ImportParameters { key, .. }
            | PairRequest::Import { key, .. } => key.clone(),
        };
        let import = matches!(self, PairRequest::Import { .. });
        let work = move |session: &crate::app::backend::Session| -> Result<PairAnswer, KmsError> {
            let service = session.service();
            let caller = console_caller();
            match self {
                PairRequest::PublicKey { key } => {
                    service.public_key(&caller, &key).map(PairAnswer::PublicKey)
                }
                PairRequest::Sign {
                    key,
                    algorithm,
                    message,
                } => {
                    let parsed =
                        SignAlgorithm::from_name(&algorithm).unwrap_or(SignAlgorithm::Sm2Dsa);
                    let (message_type, bytes) = message.read(parsed)?;
                    service
                        .sign(&caller, &key, &algorithm, message_type, &bytes)
                        .map(PairAnswer::Signed)
                }
                PairRequest::Verify {
                    key,
                    algorithm,
                    message,
                    signature,
                } => {
                    let signature = base64_input(&signature, &tr!("ui.key_pairs.the_signature"))?;
                    let parsed =
                        SignAlgorithm::from_name(&algorithm).unwrap_or(SignAlgorithm::Sm2Dsa);
                    let (message_type, bytes) = message.read(parsed)?;
                    service
                        .verify(&caller, &key, &algorithm, message_type, &bytes, &signature)
                        .map(PairAnswer::Verified)
                }
                PairRequest::Decrypt {
                    key,
                    algorithm,
                    ciphertext,
                } => {
                    let ciphertext =
                        base64_input(&ciphertext, &tr!("ui.key_pairs.the_ciphertext"))?;
                    service
                        .asymmetric_decrypt(&caller, &key, algorithm.as_deref(), &ciphertext)
                        .map(|d| PairAnswer::Decrypted(Zeroizing::new(d.plaintext.to_vec())))
                }
                PairRequest::ImportParameters { key, algorithm } => service
                    .get_parameters_for_import(&caller, &key, &algorithm, Some("RSA_2048"))
                    .map(PairAnswer::ImportParameters),
                PairRequest::Import {
                    key,
                    token,
                    material_file,
                    valid_days,
                } => {
                    let now = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
                    let valid_to = valid_days.map_or(0, |days| now + i64::from(days) * 86_400);
                    let wrapped = std::fs::read(&material_file)
                        .map_err(|e| file_error(&material_file, &e, false))?;
                    service
                        .change_keys(
                            &caller,
                            &[key],
                            KeyChange::ImportMaterial {
                                encrypted_material: wrapped,
                                token,
                                valid_to,
                            },
                        )
                        .map(|_| PairAnswer::Imported)
                }
            }
        };
        let apply = move |page: Option<&mut KeyDetailState>,
                          answer: Result<PairAnswer, KmsError>| {
            let Some(page) = page.filter(|p| p.key_id == page_key) else {
                return answer.map(|_| None);
            };
            page.pairs.apply(&mut page.import, answer)
        };
        // An import changes the key (its state): the pages get a new snapshot.
        if import {
            calls.change(work, apply)
        } else {
            calls.call(work, apply)
        }
    }
}

impl KeyPairTools {
    /// Puts an answer where it belongs; returns the notification.
    fn apply(&mut self, import: &mut ImportPanel, answer: Result<PairAnswer, KmsError>) -> Outcome {
        let answer = match answer {
            Ok(answer) => answer,
            Err(e) => {
                match self.tab {
                    PairTab::PublicKey => self.public_key_error = Some(e.clone()),
                    PairTab::Sign => self.sign_error = Some(e.clone()),
                    PairTab::Verify => self.verify_error = Some(e.clone()),
                    PairTab::Decrypt => self.decrypt_error = Some(e.clone()),
                }
                import.error = Some(e.clone());
                return Err(e);
            }
        };
        Ok(match answer {
            PairAnswer::PublicKey(public) => {
                self.public_key = Some(public);
                self.public_key_error = None;
                None
            }
            PairAnswer::Signed(signature) => {
                self.signature = STANDARD.encode(&signature);
                self.sign_error = None;
                Some(tr!("ui.key_pairs.signed"))
            }
            PairAnswer::Verified(valid) => {
                self.verified = Some(valid);
                self.verify_error = None;
                Some(if valid {
                    tr!("ui.key_pairs.the_signature_is_valid")
                } else {
                    tr!("ui.key_pairs.the_signature_is_not_valid")
                })
            }
            PairAnswer::Decrypted(plaintext) => {
                self.decrypted = Some(Revealed::new(&plaintext));
                self.decrypt_error = None;
                Some(tr!(
                    "ui.commands.decrypted_plaintext_bytes",
                    plaintext = plaintext.len()
                ))
            }
            PairAnswer::ImportParameters(parameters) => {
                import.parameters = Some(parameters);
                import.error = None;
                Some(tr!("ui.key_pairs.wrapping_key_and_token_ready"))
            }
            PairAnswer::Imported => {
                *import = ImportPanel::default();
                Some(tr!("ui.commands.key_material_imported_the_key_is"))
            }
        })
    }

    /// The tools for a key pair `key`.
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        key: &KeyMetadata,
        model: &Model,
        commands: &mut Vec<Command>,
    ) {
        let Some(kind) = KeyUsage::from_name(&key.key_usage).and_then(KeyUsage::pair_kind) else {
            return;
        };
        let why_not = |action: &str| model.why_not_on_key(action, &key.key_id);
        let public_key_refused = why_not("kms:GetPublicKey");
        if public_key_refused.is_none() && !std::mem::replace(&mut self.public_key_asked, true) {
            // Asked once per page; the answer stays while the page is open.
            commands.push(Command::Pair(PairRequest::PublicKey {
                key: key.key_id.clone(),
            }));
        }
        ui.horizontal(|ui| {
            ui.selectable_value(
                &mut self.tab,
                PairTab::PublicKey,
                tr!("ui.key_pairs.public_key"),
            );
            if kind.signs() {
                ui.selectable_value(&mut self.tab, PairTab::Sign, tr!("ui.key_pairs.sign"));
                ui.selectable_value(&mut self.tab, PairTab::Verify, tr!("ui.key_pairs.verify"));
            } else {
                ui.selectable_value(
                    &mut self.tab,
                    PairTab::Decrypt,
                    tr!("ui.online_tools.decrypt"),
                );
            }
        });
        ui.separator();
        let decrypt_action = if kind == PairKind::RsaDecrypt {
            "kms:AsymmetricRsaDecrypt"
        } else {
            "kms:AsymmetricSm2Decrypt"
        };
        match self.tab {
            PairTab::PublicKey => match public_key_refused {
                Some(why) => {
                    ui.colored_label(ui.visuals().warn_fg_color, why);
                }
                None => self.public_key_ui(ui, key, commands),
            },
            PairTab::Sign if kind.signs() => {
                let why = why_not("kms:SignByAsymmetricKey");
                self.sign_ui(ui, key, kind, why, commands)
            }
            PairTab::Verify if kind.signs() => {
                let why = why_not("kms:VerifyByAsymmetricKey");
                self.verify_ui(ui, key, kind, why, commands)
            }
            PairTab::Decrypt if !kind.signs() => {
                let why = why_not(decrypt_action);
                self.decrypt_ui(ui, key, kind, why, commands)
            }
            _ => self.tab = PairTab::PublicKey,
        }
    }

    fn public_key_ui(&mut self, ui: &mut egui::Ui, key: &KeyMetadata, commands: &mut Vec<Command>) {
        ui.label(tr!("ui.key_pairs.public_key_explained"));
        let pem = self.public_key.as_ref().map_or("", |p| p.pem.as_str());
        let mut shown = pem;
        ui.add(
            egui::TextEdit::multiline(&mut shown)
                .desired_rows(6)
                .desired_width(f32::INFINITY)
                .font(egui::TextStyle::Monospace),
        );
        ui.horizontal(|ui| {
            let ready = self.public_key.is_some();
            if ui
                .add_enabled(
                    ready,
                    egui::Button::new(tr!("ui.key_pairs.copy_public_key")),
                )
                .clicked()
                && let Some(public) = &self.public_key
            {
                commands.push(Command::Copy {
                    text: Zeroizing::new(public.pem.clone()),
                    what: tr!("ui.key_pairs.the_public_key"),
                });
            }
            if ui
                .add_enabled(ready, egui::Button::new(tr!("ui.key_pairs.download_pem")))
                .clicked()
            {
                commands.push(Command::Dialog(DialogPurpose::SavePublicKey));
            }
            if ui.button(tr!("ui.key_pairs.reload")).clicked() {
                self.public_key = None;
                self.public_key_error = None;
                self.public_key_asked = false;
            }
        });
        if let Some(e) = &self.public_key_error {
            ui.colored_label(ui.visuals().error_fg_color, error_text(e));
        }
        let _ = key;
    }

    /// The algorithm and what is signed (text, a file, or a digest), on one row; shared by Sign
    /// and Verify.
    fn message_choices_ui(
        &mut self,
        ui: &mut egui::Ui,
        kind: PairKind,
        commands: &mut Vec<Command>,
    ) {
        let algorithms = kind.sign_algorithms();
        let algorithm = *self
            .algorithm
            .get_or_insert(algorithms.first().copied().unwrap_or(SignAlgorithm::Sm2Dsa));
        ui.horizontal_wrapped(|ui| {
            let label = ui.label(tr!("ui.key_pairs.algorithm"));
            egui::ComboBox::from_id_salt("sign algorithm")
                .selected_text(algorithm.name())
                .show_ui(ui, |ui| {
                    for &a in algorithms {
                        ui.selectable_value(&mut self.algorithm, Some(a), a.name());
                    }
                })
                .response
                .labelled_by(label.id);
            ui.separator();
            ui.radio_value(
                &mut self.source,
                MessageSource::Text,
                tr!("ui.key_pairs.text"),
            );
            let file_label = match &self.source {
                MessageSource::File(path) => tr!(
                    "ui.key_pairs.file_name",
                    name = path
                        .file_name()
                        .map(|n| n.to_string_lossy())
                        .unwrap_or_default()
                ),
                MessageSource::Text => tr!("ui.key_pairs.file"),
            };
            if ui
                .radio(matches!(self.source, MessageSource::File(_)), file_label)
                .clicked()
            {
                commands.push(Command::Dialog(DialogPurpose::OpenMessageFile));
            }
            if self.source == MessageSource::Text {
                ui.separator();
                ui.checkbox(
                    &mut self.input_is_digest,
                    tr!(
                        "ui.key_pairs.the_input_is_a_digest",
                        len = algorithm.digest_len()
                    ),
                );
            }
        });
    }

    /// The message field (or what a file choice means).
    fn message_field_ui(&mut self, ui: &mut egui::Ui) {
        if self.source == MessageSource::Text {
            let hint = if self.input_is_digest {
                tr!("ui.key_pairs.digest_hint")
            } else {
                tr!("ui.key_pairs.message_hint")
            };
            let label = ui.label(tr!("ui.key_pairs.message"));
            ui.add(
                egui::TextEdit::multiline(&mut *self.message)
                    .hint_text(hint)
                    .desired_rows(4)
                    .desired_width(f32::INFINITY),
            )
            .labelled_by(label.id);
        } else {
            ui.label(RichText::new(tr!("ui.key_pairs.files_over_4_kb")).small());
        }
    }

    fn message_input(&self) -> MessageInput {
        match (&self.source, self.input_is_digest) {
            (MessageSource::File(path), _) => MessageInput::File(path.clone()),
            (MessageSource::Text, true) => MessageInput::Digest(self.message.to_string()),
            (MessageSource::Text, false) => {
                MessageInput::Text(Zeroizing::new(self.message.as_bytes().to_vec()))
            }
        }
    }

    fn sign_ui(
        &mut self,
        ui: &mut egui::Ui,
        key: &KeyMetadata,
        kind: PairKind,
        why_not: Option<String>,
        commands: &mut Vec<Command>,
    ) {
        self.message_choices_ui(ui, kind, commands);
        ui.columns(2, |columns| {
            self.message_field_ui(&mut columns[0]);
            // Shown, not edited: the signature is the engine's.
            signature_box_ui(&mut columns[1], &mut self.signature.as_str());
        });
        ui.horizontal(|ui| {
            if permitted_button(
                ui,
                true,
                why_not,
                primary_button(tr!("ui.key_pairs.sign_the_message")),
            )
            .clicked()
            {
                commands.push(Command::Pair(PairRequest::Sign {
                    key: key.key_id.clone(),
                    algorithm: self.algorithm.map_or("", SignAlgorithm::name).to_owned(),
                    message: self.message_input(),
                }));
            }
            let signed = !self.signature.is_empty();
            if ui
                .add_enabled(
                    signed,
                    egui::Button::new(tr!("ui.key_pairs.copy_signature")),
                )
                .clicked()
            {
                commands.push(Command::Copy {
                    text: Zeroizing::new(self.signature.clone()),
                    what: tr!("ui.key_pairs.the_signature"),
                });
            }
            if ui
                .add_enabled(
                    signed,
                    egui::Button::new(tr!("ui.key_pairs.check_it_in_verify")),
                )
                .clicked()
            {
                self.signature_to_check = self.signature.clone();
                self.verified = None;
                self.tab = PairTab::Verify;
            }
        });
        if let Some(e) = &self.sign_error {
            ui.colored_label(ui.visuals().error_fg_color, error_text(e));
        }
    }

    fn verify_ui(
        &mut self,
        ui: &mut egui::Ui,
        key: &KeyMetadata,
        kind: PairKind,
        why_not: Option<String>,
        commands: &mut Vec<Command>,
    ) {
        self.message_choices_ui(ui, kind, commands);
        ui.columns(2, |columns| {
            self.message_field_ui(&mut columns[0]);
            if signature_box_ui(&mut columns[1], &mut self.signature_to_check).changed() {
                self.verified = None;
            }
        });
        ui.horizontal(|ui| {
            if permitted_button(
                ui,
                true,
                why_not,
                primary_button(tr!("ui.key_pairs.verify_the_signature")),
            )
            .clicked()
            {
                commands.push(Command::Pair(PairRequest::Verify {
                    key: key.key_id.clone(),
                    algorithm: self.algorithm.map_or("", SignAlgorithm::name).to_owned(),
                    message: self.message_input(),
                    signature: self.signature_to_check.clone(),
                }));
            }
            match self.verified {
                Some(true) => {
                    ui.colored_label(
                        egui::Color32::from_rgb(40, 150, 80),
                        tr!("ui.key_pairs.the_signature_is_valid"),
                    );
                }
                Some(false) => {
                    ui.colored_label(
                        ui.visuals().error_fg_color,
                        tr!("ui.key_pairs.the_signature_is_not_valid"),
                    );
                }
                None => {}
            }
        });
        if let Some(e) = &self.verify_error {
            ui.colored_label(ui.visuals().error_fg_color, error_text(e));
        }
    }

    fn decrypt_ui(
        &mut self,
        ui: &mut egui::Ui,
        key: &KeyMetadata,
        kind: PairKind,
        why_not: Option<String>,
        commands: &mut Vec<Command>,
    ) {
        ui.label(tr!("ui.key_pairs.decrypt_explained"));
        let rsa = kind == PairKind::RsaDecrypt;
        if self.rsa_algorithm.is_empty() {
            self.rsa_algorithm = WRAPPING_ALGORITHMS[0];
        }
        if rsa {
            ui.horizontal(|ui| {
                let label = ui.label(tr!("ui.key_pairs.algorithm"));
                egui::ComboBox::from_id_salt("rsa decrypt algorithm")
                    .selected_text(self.rsa_algorithm)
                    .show_ui(ui, |ui| {
                        for a in WRAPPING_ALGORITHMS {
                            ui.selectable_value(&mut self.rsa_algorithm, a, a);
                        }
                    })
                    .response
                    .labelled_by(label.id);
            });
        }
        let label = ui.label(tr!("ui.key_pairs.ciphertext_base64"));
        ui.add(
            egui::TextEdit::multiline(&mut self.ciphertext)
                .desired_rows(4)
                .desired_width(f32::INFINITY)
                .font(egui::TextStyle::Monospace),
        )
        .labelled_by(label.id);
        if permitted_button(
            ui,
            true,
            why_not,
            primary_button(tr!("ui.key_pairs.decrypt_the_ciphertext")),
        )
        .clicked()
        {
            commands.push(Command::Pair(PairRequest::Decrypt {
                key: key.key_id.clone(),
                algorithm: rsa.then(|| self.rsa_algorithm.to_owned()),
                ciphertext: self.ciphertext.clone(),
            }));
        }
        let text = self.decrypted.as_ref().map_or("", |r| r.text.as_str());
        let mut shown = text;
        let label = ui.label(tr!("ui.online_tools.plaintext"));
        ui.add(
            egui::TextEdit::multiline(&mut shown)
                .desired_rows(3)
                .desired_width(f32::INFINITY),
        )
        .labelled_by(label.id);
        if ui
            .add_enabled(
                self.decrypted.is_some(),
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
        if let Some(e) = &self.decrypt_error {
            ui.colored_label(ui.visuals().error_fg_color, error_text(e));
        }
    }
}

/// "Signature (base64)" and its box.
fn signature_box_ui(ui: &mut egui::Ui, text: &mut dyn egui::TextBuffer) -> egui::Response {
    let label = ui.label(tr!("ui.key_pairs.signature_base64"));
    ui.add(
        egui::TextEdit::multiline(text)
            .desired_rows(4)
            .desired_width(f32::INFINITY)
            .font(egui::TextStyle::Monospace),
    )
    .labelled_by(label.id)
}

impl ImportPanel {
    /// The import walk-through of an EXTERNAL key; deleting its material once it has some.
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        key: &KeyMetadata,
        model: &Model,
        commands: &mut Vec<Command>,
    ) {
        use keyconsole_kms::KeyState;
        let why_not = |action: &str| model.why_not_on_key(action, &key.key_id);
        if key.key_state != KeyState::PendingImport {
            ui.label(if key.valid_to == 0 {
                tr!("ui.key_pairs.material_never_expires")
            } else {
                tr!(
                    "ui.key_pairs.material_expires_at",
                    time = keyconsole_base::util::format_time(key.valid_to)
                )
            });
            if matches!(key.key_state, KeyState::Enabled | KeyState::Disabled)
                && permitted_button(
                    ui,
                    true,
                    why_not("kms:DeleteImportedKeyMaterial"),
                    egui::Button::new(tr!("ui.key_pairs.delete_key_material")),
                )
                .clicked()
            {
                self.confirm_delete = true;
            }
            if self.confirm_delete {
                let answer = Confirmation {
                    title: tr!("ui.key_pairs.delete_the_key_material"),
                    lines: vec![
                        tr!(
                            "ui.key_pairs.delete_the_key_material_body",
                            alias = key.alias
                        ),
                        tr!("ui.key_pairs.delete_the_key_material_keep"),
                    ],
                    confirm: tr!("ui.key_pairs.delete_the_material"),
                    danger: true,
                }
                .ui(ui.ctx(), "delete key material");
                match answer {
                    Answer::Confirmed => {
                        self.confirm_delete = false;
                        commands.push(Command::KeyPageChange(
                            super::key_changes::KeyRequest::Change {
                                key: key.key_id.clone(),
                                change: KeyChange::DeleteMaterial,
                            },
                        ));
                    }
                    Answer::Cancelled => self.confirm_delete = false,
                    Answer::Open => {}
                }
            }
            return;
        }
        ui.label(tr!("ui.key_pairs.import_step_1"));
        ui.horizontal(|ui| {
            let label = ui.label(tr!("ui.key_pairs.wrapping_algorithm"));
            egui::ComboBox::from_id_salt("wrapping algorithm")
                .selected_text(self.wrapping_algorithm)
                .show_ui(ui, |ui| {
                    for a in WRAPPING_ALGORITHMS {
                        ui.selectable_value(&mut self.wrapping_algorithm, a, a);
                    }
                })
                .response
                .labelled_by(label.id);
            if permitted_button(
                ui,
                true,
                why_not("kms:GetParametersForImport"),
                egui::Button::new(tr!("ui.key_pairs.get_wrapping_key_and_token")),
            )
            .clicked()
            {
                commands.push(Command::Pair(PairRequest::ImportParameters {
                    key: key.key_id.clone(),
                    algorithm: self.wrapping_algorithm.to_owned(),
                }));
            }
        });
        if let Some(parameters) = &self.parameters {
            ui.label(tr!(
                "ui.key_pairs.token_valid_until",
                time = keyconsole_base::util::format_time(parameters.valid_to)
            ));
            ui.horizontal(|ui| {
                if ui
                    .button(tr!("ui.key_pairs.download_wrapping_key"))
                    .clicked()
                {
                    commands.push(Command::Dialog(DialogPurpose::SaveWrappingKey));
                }
                if ui.button(tr!("ui.key_pairs.copy_token")).clicked() {
                    commands.push(Command::Copy {
                        text: Zeroizing::new(parameters.token.clone()),
                        what: tr!("ui.key_pairs.the_import_token"),
                    });
                }
            });
            ui.add_space(6.0);
            ui.label(tr!(
                "ui.key_pairs.import_step_2",
                algorithm = self.wrapping_algorithm,
                bits = if key.key_spec == "SM4" { 128 } else { 256 }
            ));
            ui.horizontal(|ui| {
                if ui
                    .button(tr!("ui.key_pairs.choose_wrapped_material"))
                    .clicked()
                {
                    commands.push(Command::Dialog(DialogPurpose::OpenWrappedMaterial));
                }
                if let Some(path) = &self.material_file {
                    ui.monospace(path.display().to_string());
                }
            });
            ui.horizontal(|ui| {
                ui.checkbox(
                    &mut self.expires,
                    tr!("ui.key_pairs.material_expires_after"),
                );
                ui.add_enabled(
                    self.expires,
                    egui::DragValue::new(&mut self.valid_days).range(1..=3650),
                )
                .widget_info(|| {
                    egui::WidgetInfo::labeled(
                        egui::Role::SpinButton,
                        self.expires,
                        tr!("ui.key_pairs.days_until_the_material_expires"),
                    )
                });
                ui.label(tr!("ui.key_pairs.days"));
            });
            let ready = self.material_file.is_some();
            if permitted_button(
                ui,
                ready,
                why_not("kms:ImportKeyMaterial"),
                primary_button(tr!("ui.key_pairs.import")),
            )
            .clicked()
                && let Some(path) = &self.material_file
            {
                commands.push(Command::Pair(PairRequest::Import {
                    key: key.key_id.clone(),
                    token: parameters.token.clone(),
                    material_file: path.clone(),
                    valid_days: self.expires.then_some(self.valid_days),
                }));
            }
        }
        if let Some(e) = &self.error {
            ui.colored_label(ui.visuals().error_fg_color, error_text(e));
        }
    }
}
