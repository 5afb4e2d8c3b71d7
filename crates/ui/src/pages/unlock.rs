//! The first screen: unlock the keystore, create one on first run, or connect to a team's server.
//! The KDF (and the first call to a server) runs on a worker thread, so the window keeps drawing
//! (a spinner) while Argon2id works.

use keyconsole_base::tr;
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, TryRecvError};

use egui::{Color32, Key, RichText};
use zeroize::Zeroizing;

use crate::command::Command;
use crate::platform::DialogPurpose;
use keyconsole_api::tencent::client::RemoteService;
use keyconsole_kms::{ErrorCode, Kms, KmsError};

/// What the first screen opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnlockMode {
    Local,
    Remote,
}

/// What unlocking or connecting gave.
pub enum Opened {
    Local(Box<Kms>),
    Remote(Box<RemoteService>),
}

/// A server to connect to: where, the API credential, and the CA to trust. Only the SecretKey is
/// never remembered (it is asked each time).
#[derive(Default)]
pub struct ConnectForm {
    pub endpoint: String,
    pub secret_id: String,
    pub secret_key: Zeroizing<String>,
    /// A CA certificate file (PEM); empty trusts the system's CAs.
    pub ca_file: String,
}

pub struct UnlockScreen {
    pub mode: UnlockMode,
    pub connect: ConnectForm,
    pub path: PathBuf,
    path_text: String,
    /// Whether a file is at `path`; checked when the path is set, never while drawing.
    pub keystore_exists: bool,
    pub password: Zeroizing<String>,
    pub confirm: Zeroizing<String>,
    pub error: Option<KmsError>,
    /// Why the console locked by itself (shown above the form). While it is set the password
    /// field waits for a click: what the user was typing when it locked must not land in it.
    pub locked_because: Option<String>,
    job: Option<Receiver<Result<Opened, KmsError>>>,
}

impl UnlockScreen {
    pub fn new(path: PathBuf) -> Self {
        Self {
            keystore_exists: path.exists(),
            path_text: path.display().to_string(),
            path,
            mode: UnlockMode::Local,
            connect: ConnectForm::default(),
            password: Zeroizing::default(),
            confirm: Zeroizing::default(),
            error: None,
            locked_because: None,
            job: None,
        }
    }

    pub fn busy(&self) -> bool {
        self.job.is_some()
    }

    /// Runs `work` (the KDF and the file I/O) on a worker thread; the password moves with it.
    pub fn start(
        &mut self,
        ctx: &egui::Context,
        work: impl FnOnce() -> Result<Opened, KmsError> + Send + 'static,
    ) {
        let (sender, receiver) = std::sync::mpsc::channel();
        let ctx = ctx.clone();
        std::thread::spawn(move || {
            let _ = sender.send(work());
            ctx.request_repaint();
        });
        self.job = Some(receiver);
        self.error = None;
        self.password = Zeroizing::default();
        self.confirm = Zeroizing::default();
        self.connect.secret_key = Zeroizing::default();
    }

    /// The worker's result, once it is there.
    pub fn poll(&mut self) -> Option<Result<Opened, KmsError>> {
        let receiver = self.job.as_ref()?;
        match receiver.try_recv() {
            Ok(result) => {
                self.job = None;
                Some(result)
            }
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => {
                self.job = None;
                Some(Err(KmsError::new(
                    ErrorCode::InternalError,
                    tr!("ui.unlock.the_unlock_worker_stopped_unexpectedly_try"),
                )))
            }
        }
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, commands: &mut Vec<Command>) {
        egui::CentralPanel::default().show(ui, |ui| {
            ui.vertical_centered(|ui| {
                ui.add_space((ui.available_height() * 0.12).max(12.0));
                ui.set_max_width(460.0);
                ui.heading(RichText::new(tr!("ui.unlock.keyconsole")).size(28.0));
                ui.label(tr!("ui.unlock.a_key_management_console_on_your"));
                ui.add_space(16.0);
                if let Some(reason) = &self.locked_because {
                    ui.label(
                        RichText::new(format!("🔒 {reason}"))
                            .color(ui.visuals().warn_fg_color)
                            .strong(),
                    );
                    ui.label(tr!("ui.unlock.unlock_to_go_back"));
                    ui.add_space(8.0);
                }
                egui::Frame::group(ui.style())
                    .inner_margin(18.0)
                    .show(ui, |ui| {
                        ui.set_width(420.0);
                        ui.with_layout(egui::Layout::top_down(egui::Align::Min), |ui| {
                            ui.horizontal(|ui| {
                                let busy = self.busy();
                                ui.add_enabled_ui(!busy, |ui| {
                                    ui.selectable_value(
                                        &mut self.mode,
                                        UnlockMode::Local,
                                        tr!("ui.unlock.open_a_local_keystore"),
                                    );
                                    ui.selectable_value(
                                        &mut self.mode,
                                        UnlockMode::Remote,
                                        tr!("ui.unlock.connect_to_a_server"),
                                    );
                                });
                            });
                            ui.separator();
                            match self.mode {
                                UnlockMode::Local => self.form_ui(ui, commands),
                                UnlockMode::Remote => self.connect_ui(ui, commands),
                            }
                        });
                    });
            });
        });
    }

    fn form_ui(&mut self, ui: &mut egui::Ui, commands: &mut Vec<Command>) {
        let creating = !self.keystore_exists;
        ui.heading(if creating {
            tr!("ui.unlock.create_a_keystore")
        } else {
            tr!("ui.unlock.unlock_your_keystore")
        });
        if creating {
            ui.label(tr!("ui.unlock.no_keystore_is_at_this_path"));
        }
        ui.add_space(8.0);

        let label = ui.label(tr!("ui.unlock.keystore_file"));
        ui.horizontal(|ui| {
            let path_field = ui
                .add(egui::TextEdit::singleline(&mut self.path_text).desired_width(250.0))
                .labelled_by(label.id);
            if path_field.lost_focus() && self.path_text.trim() != self.path.display().to_string() {
                commands.push(Command::SetKeystorePath(PathBuf::from(
                    self.path_text.trim(),
                )));
            }
            if ui
                .button(tr!("ui.unlock.open"))
                .on_hover_text(tr!("ui.unlock.open_another_keystore_file"))
                .clicked()
            {
                commands.push(Command::Dialog(DialogPurpose::OpenKeystore));
            }
            if ui
                .button(tr!("ui.unlock.new"))
                .on_hover_text(tr!("ui.unlock.create_a_keystore_at_a_new"))
                .clicked()
            {
                commands.push(Command::Dialog(DialogPurpose::NewKeystore));
            }
        });
        ui.add_space(8.0);

        let enabled = !self.busy();
        let label = ui.label(tr!("ui.unlock.password"));
        let password = ui
            .add_enabled(
                enabled,
                egui::TextEdit::singleline(&mut *self.password)
                    .password(true)
                    .desired_width(f32::INFINITY),
            )
            .labelled_by(label.id);
        if self.error.is_none()
            && self.locked_because.is_none()
            && !self.busy()
            && self.password.is_empty()
            && !ui.memory(|m| m.has_focus(password.id))
        {
            password.request_focus();
        }
        let mut submit = password.lost_focus() && ui.input(|i| i.key_pressed(Key::Enter));

        if creating {
            let label = ui.label(tr!("ui.unlock.confirm_password"));
            let confirm = ui
                .add_enabled(
                    enabled,
                    egui::TextEdit::singleline(&mut *self.confirm)
                        .password(true)
                        .desired_width(f32::INFINITY),
                )
                .labelled_by(label.id);
            submit |= confirm.lost_focus() && ui.input(|i| i.key_pressed(Key::Enter));
            strength_ui(ui, &self.password);
            if !self.confirm.is_empty() && *self.confirm != *self.password {
                ui.colored_label(
                    ui.visuals().warn_fg_color,
                    tr!("ui.unlock.the_passwords_differ"),
                );
            }
        }
        ui.add_space(10.0);

        ui.horizontal(|ui| {
            let action = if creating {
                tr!("ui.unlock.create_keystore")
            } else {
                tr!("ui.unlock.unlock")
            };
            let ready = enabled
                && !self.password.is_empty()
                && (!creating || *self.confirm == *self.password);
            if ui
                .add_enabled(ready, crate::widgets::primary_button(action))
                .clicked()
                || (submit && ready)
            {
                commands.push(if creating {
                    Command::CreateKeystore
                } else {
                    Command::Unlock
                });
            }
            if self.busy() {
                ui.spinner();
                ui.label(if creating {
                    tr!("ui.unlock.creating")
                } else {
                    tr!("ui.unlock.unlocking")
                });
            }
        });
        if let Some(error) = &self.error {
            ui.add_space(8.0);
            let text = match error.code {
                ErrorCode::WrongPassword => tr!("ui.unlock.wrong_password_try_again").to_owned(),
                ErrorCode::KeystoreDamaged => {
                    tr!("ui.unlock.the_keystore_file_is_damaged").to_owned()
                }
                _ => tr!("ui.unlock.that_did_not_work").to_owned(),
            };
            ui.colored_label(ui.visuals().error_fg_color, RichText::new(text).strong());
            ui.add(egui::Label::new(
                RichText::new(crate::widgets::error_text(error)).color(ui.visuals().error_fg_color),
            ));
        }
    }
}

impl UnlockScreen {
    /// The form for a team's `keyconsole serve --tls` (or any Tencent Cloud KMS endpoint).
    fn connect_ui(&mut self, ui: &mut egui::Ui, commands: &mut Vec<Command>) {
        ui.heading(tr!("ui.unlock.connect_to_a_server"));
        ui.label(tr!("ui.unlock.connect_explained"));
        ui.add_space(8.0);
        let enabled = !self.busy();
        let form = &mut self.connect;
        let mut submit = false;
        egui::Grid::new("connect form")
            .num_columns(2)
            .spacing([10.0, 6.0])
            .show(ui, |ui| {
                let label = ui.label(tr!("ui.unlock.endpoint"));
                ui.add_enabled(
                    enabled,
                    egui::TextEdit::singleline(&mut form.endpoint)
                        .hint_text("https://kms.example.lan:8443")
                        .desired_width(260.0),
                )
                .labelled_by(label.id);
                ui.end_row();
                let label = ui.label("SecretId");
                ui.add_enabled(
                    enabled,
                    egui::TextEdit::singleline(&mut form.secret_id).desired_width(260.0),
                )
                .labelled_by(label.id);
                ui.end_row();
                let label = ui.label("SecretKey");
                let key = ui
                    .add_enabled(
                        enabled,
                        egui::TextEdit::singleline(&mut *form.secret_key)
                            .password(true)
                            .desired_width(260.0),
                    )
                    .labelled_by(label.id);
                submit = key.lost_focus() && ui.input(|i| i.key_pressed(Key::Enter));
                ui.end_row();
                let label = ui.label(tr!("ui.unlock.ca_certificate"));
                ui.add_enabled(
                    enabled,
                    egui::TextEdit::singleline(&mut form.ca_file)
                        .hint_text(tr!("ui.unlock.ca_hint"))
                        .desired_width(260.0),
                )
                .labelled_by(label.id);
                ui.end_row();
            });
        ui.label(
            RichText::new(tr!("ui.unlock.secret_key_not_kept"))
                .small()
                .weak(),
        );
        ui.add_space(10.0);
        ui.horizontal(|ui| {
            let ready = enabled
                && !form.endpoint.trim().is_empty()
                && !form.secret_id.trim().is_empty()
                && !form.secret_key.is_empty();
            if ui
                .add_enabled(
                    ready,
                    crate::widgets::primary_button(tr!("ui.unlock.connect")),
                )
                .clicked()
                || (submit && ready)
            {
                commands.push(Command::Connect);
            }
            if self.job.is_some() {
                ui.spinner();
                ui.label(tr!("ui.unlock.connecting"));
            }
        });
        if let Some(error) = &self.error {
            ui.add_space(8.0);
            ui.add(egui::Label::new(
                RichText::new(crate::widgets::error_text(error)).color(ui.visuals().error_fg_color),
            ));
        }
    }
}

fn strength_ui(ui: &mut egui::Ui, password: &str) {
    if password.is_empty() {
        return;
    }
    match keyconsole_store::password_strength_hint(password) {
        Some(hint) => ui.colored_label(
            ui.visuals().warn_fg_color,
            tr!("ui.unlock.weak_hint", hint = hint.here()),
        ),
        None => ui.colored_label(
            Color32::from_rgb(60, 160, 90),
            tr!("ui.unlock.strong_enough"),
        ),
    };
}
