//! The "File tools" page: envelope-encrypt or decrypt a file of any size. The engine unwraps or
//! makes the data key on the UI thread (fast, in memory); the streaming runs on a worker thread
//! that reports progress through atomics, and can be cancelled.

use keyconsole_base::tr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::Receiver;
use std::time::Instant;

use crate::app::backend::{Session, console_caller};
use crate::command::Command;
use crate::model::Model;
use crate::platform::DialogPurpose;
use crate::widgets::{Answer, Confirmation};
use keyconsole_kms::envelope::{FileDecryptor, FileEncryptor, FileReport};
use keyconsole_kms::{ErrorCode, KmsError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FileMode {
    #[default]
    Encrypt,
    Decrypt,
}

/// What the File tools page asks to run: the inputs of one file job.
#[derive(Debug, Clone)]
pub struct FileJobRequest {
    pub mode: FileMode,
    /// The CMK, to encrypt; decryption finds it from the file.
    pub key: Option<String>,
    pub input: PathBuf,
    pub output: PathBuf,
    pub overwrite: bool,
}

/// A file operation running on a worker thread.
pub struct FileJob {
    /// What it was asked to do (to ask again with `overwrite` if its output exists).
    pub request: FileJobRequest,
    pub done: Arc<AtomicU64>,
    pub total: Arc<AtomicU64>,
    pub cancel: Arc<AtomicBool>,
    pub started: Instant,
    pub result: Receiver<Result<FileReport, KmsError>>,
    /// The output existed and replacing it was not asked for: nothing was done.
    pub output_exists: Arc<AtomicBool>,
}

impl FileJob {
    /// Starts `work` on a worker thread; it gets a progress callback that updates this job.
    pub fn start(
        request: FileJobRequest,
        ctx: &egui::Context,
        work: impl FnOnce(&mut dyn FnMut(u64, u64) -> bool) -> Result<FileReport, KmsError>
        + Send
        + 'static,
    ) -> Self {
        let (done, total, cancel) = (
            Arc::new(AtomicU64::new(0)),
            Arc::new(AtomicU64::new(0)),
            Arc::new(AtomicBool::new(false)),
        );
        let (sender, result) = std::sync::mpsc::channel();
        let (d, t, c, ctx) = (done.clone(), total.clone(), cancel.clone(), ctx.clone());
        let language = keyconsole_base::util::i18n::current();
        std::thread::spawn(move || {
            keyconsole_base::util::i18n::set_current(language);
            let mut progress = |now: u64, all: u64| {
                d.store(now, Ordering::Relaxed);
                t.store(all, Ordering::Relaxed);
                ctx.request_repaint();
                !c.load(Ordering::Relaxed)
            };
            let _ = sender.send(work(&mut progress));
            ctx.request_repaint();
        });
        Self {
            request,
            done,
            total,
            cancel,
            started: Instant::now(),
            result,
            output_exists: Arc::default(),
        }
    }
}

/// What one tab chose: Encrypt and Decrypt each keep their own, so nothing chosen for one (a
/// file, an output name) carries into the other.
#[derive(Default)]
struct FileChoice {
    input: Option<PathBuf>,
    output: Option<PathBuf>,
    /// The paths as typed (so they work without a file dialog, e.g. with no desktop portal).
    input_text: String,
    output_text: String,
}

#[derive(Default)]
pub struct FileToolsState {
    pub mode: FileMode,
    /// The CMK to encrypt under (KeyId).
    pub key: Option<String>,
    encrypt: FileChoice,
    decrypt: FileChoice,
    pub job: Option<FileJob>,
    /// An existing output the user is asked whether to replace (the request runs again with
    /// `overwrite` if they say yes).
    pub confirm_replace: Option<FileJobRequest>,
    pub last_result: Option<Result<String, KmsError>>,
}

impl FileToolsState {
    /// Prepares the service's side (the data key, made or unwrapped in memory; the key's state is
    /// checked before any output exists) and streams the file, both on the job's own thread:
    /// making a data key may wait for the keystore's lock or a server, and opening an encrypted
    /// file reads its header. The file itself never leaves this machine, local session or remote.
    /// An output that exists is never replaced unasked: the job stops before anything is done,
    /// and the page asks (naming the file).
    pub(crate) fn start_job(
        &mut self,
        session: &Arc<Session>,
        ctx: &egui::Context,
        request: FileJobRequest,
    ) {
        if self.job.is_some() {
            return;
        }
        self.confirm_replace = None;
        let FileJobRequest {
            mode,
            key,
            input,
            output,
            overwrite,
        } = request.clone();
        let session = session.clone();
        let exists = Arc::new(AtomicBool::new(false));
        let found = exists.clone();
        // Checked on the job's thread (a stat may meet a slow disk); the engine refuses again at
        // the rename if the file appears meanwhile.
        let refuse_existing = move |output: &Path| -> Result<(), KmsError> {
            if !overwrite && output.try_exists().unwrap_or(false) {
                found.store(true, Ordering::Relaxed);
                return Err(KmsError::new(
                    ErrorCode::FileExists,
                    tr!("ui.files.output_exists", path = output.display()),
                ));
            }
            Ok(())
        };
        let mut job = match mode {
            FileMode::Encrypt => {
                let key = key.unwrap_or_default();
                FileJob::start(request, ctx, move |progress| {
                    refuse_existing(&output)?;
                    FileEncryptor::prepare(session.service(), &console_caller(), &key)?
                        .encrypt(&input, &output, overwrite, progress)
                })
            }
            FileMode::Decrypt => FileJob::start(request, ctx, move |progress| {
                refuse_existing(&output)?;
                FileDecryptor::prepare(session.service(), &console_caller(), &input)?
                    .decrypt(&output, overwrite, progress)
            }),
        };
        job.output_exists = exists;
        self.job = Some(job);
        self.last_result = None;
    }

    /// The job ended: its message, or the question whether to replace an existing output.
    /// Returns what to notify (nothing while the question is open).
    pub(crate) fn finished(
        &mut self,
        result: Result<FileReport, KmsError>,
        done: impl FnOnce(&FileReport) -> String,
    ) -> Option<Result<String, KmsError>> {
        let job = self.job.take()?;
        let outcome = match result {
            Ok(report) => Ok(done(&report)),
            Err(_) if job.output_exists.load(Ordering::Relaxed) => {
                self.confirm_replace = Some(FileJobRequest {
                    overwrite: true,
                    ..job.request
                });
                return None;
            }
            Err(e) => Err(e),
        };
        self.last_result = Some(outcome.clone());
        Some(outcome)
    }

    fn choice(&self) -> &FileChoice {
        match self.mode {
            FileMode::Encrypt => &self.encrypt,
            FileMode::Decrypt => &self.decrypt,
        }
    }

    fn choice_mut(&mut self) -> &mut FileChoice {
        match self.mode {
            FileMode::Encrypt => &mut self.encrypt,
            FileMode::Decrypt => &mut self.decrypt,
        }
    }

    /// The open tab's file.
    pub fn input(&self) -> Option<&Path> {
        self.choice().input.as_deref()
    }

    /// Where the open tab writes.
    pub fn output(&self) -> Option<&Path> {
        self.choice().output.as_deref()
    }
}

fn megabytes(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// The output a user most likely wants: `x` → `x.kc` when encrypting, `x.kc` → `x` when decrypting.
pub fn suggested_output(mode: FileMode, input: &Path) -> PathBuf {
    match mode {
        FileMode::Encrypt => {
            let mut name = input.file_name().unwrap_or_default().to_os_string();
            name.push(".kc");
            input.with_file_name(name)
        }
        FileMode::Decrypt if input.extension().is_some_and(|e| e == "kc") => {
            input.with_extension("")
        }
        FileMode::Decrypt => {
            let mut name = input.file_name().unwrap_or_default().to_os_string();
            name.push(".decrypted");
            input.with_file_name(name)
        }
    }
}

impl FileToolsState {
    pub fn set_input(&mut self, path: PathBuf) {
        self.set_output(suggested_output(self.mode, &path));
        let choice = self.choice_mut();
        choice.input_text = path.display().to_string();
        choice.input = Some(path);
        self.last_result = None;
    }

    pub fn set_output(&mut self, path: PathBuf) {
        let choice = self.choice_mut();
        choice.output_text = path.display().to_string();
        choice.output = Some(path);
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, model: &Model, commands: &mut Vec<Command>) {
        ui.heading(tr!("ui.files.file_tools"));
        ui.label(tr!("ui.files.envelope_encryption_for_files_of_any"));
        ui.add_space(8.0);
        let busy = self.job.is_some();
        ui.add_enabled_ui(!busy, |ui| {
            ui.horizontal(|ui| {
                let before = self.mode;
                ui.selectable_value(
                    &mut self.mode,
                    FileMode::Encrypt,
                    tr!("ui.files.encrypt_a_file"),
                );
                ui.selectable_value(
                    &mut self.mode,
                    FileMode::Decrypt,
                    tr!("ui.files.decrypt_a_file"),
                );
                // The other tab's result is not about this one.
                if self.mode != before {
                    self.last_result = None;
                }
            });
            ui.add_space(6.0);
            egui::Grid::new("file tools")
                .num_columns(2)
                .spacing([12.0, 8.0])
                .show(ui, |ui| {
                    if self.mode == FileMode::Encrypt {
                        let label = ui.label(tr!("ui.files.key"));
                        let enabled: Vec<_> = model
                            .keys
                            .iter()
                            .filter(|k| k.key_state.may_encrypt())
                            .collect();
                        let selected = self
                            .key
                            .as_deref()
                            .and_then(|id| model.keys.find(id))
                            .map_or_else(
                                || tr!("ui.files.choose_a_key").to_owned(),
                                |k| k.alias.clone(),
                            );
                        egui::ComboBox::from_id_salt("file key")
                            .selected_text(selected)
                            .width(260.0)
                            .show_ui(ui, |ui| {
                                for key in enabled.iter().take(500) {
                                    ui.selectable_value(
                                        &mut self.key,
                                        Some(key.key_id.clone()),
                                        &key.alias,
                                    );
                                }
                            })
                            .response
                            .labelled_by(label.id);
                        ui.end_row();
                    }
                    let label = ui.label(tr!("ui.files.file"));
                    ui.horizontal(|ui| {
                        let field = ui
                            .add(
                                egui::TextEdit::singleline(&mut self.choice_mut().input_text)
                                    .hint_text(tr!("ui.files.choose_a_file_drop_one_on"))
                                    .desired_width(420.0)
                                    .font(egui::TextStyle::Monospace),
                            )
                            .labelled_by(label.id);
                        let typed = self.choice().input_text.trim().to_owned();
                        if field.lost_focus() && !typed.is_empty() {
                            self.set_input(PathBuf::from(typed));
                        }
                        if ui.button(tr!("ui.files.choose")).clicked() {
                            commands.push(Command::Dialog(DialogPurpose::FileInput));
                        }
                    });
                    ui.end_row();
                    let label = ui.label(tr!("ui.files.save_to"));
                    ui.horizontal(|ui| {
                        let field = ui
                            .add(
                                egui::TextEdit::singleline(&mut self.choice_mut().output_text)
                                    .desired_width(420.0)
                                    .font(egui::TextStyle::Monospace),
                            )
                            .labelled_by(label.id);
                        let typed = self.choice().output_text.trim().to_owned();
                        if field.lost_focus() && !typed.is_empty() {
                            self.set_output(PathBuf::from(typed));
                        }
                        if ui
                            .add_enabled(
                                self.input().is_some(),
                                egui::Button::new(tr!("ui.files.change")),
                            )
                            .clicked()
                        {
                            commands.push(Command::Dialog(DialogPurpose::FileOutput));
                        }
                    });
                    ui.end_row();
                });
            ui.add_space(6.0);
            let ready = self.input().is_some()
                && self.output().is_some()
                && (self.mode == FileMode::Decrypt || self.key.is_some());
            let action = match self.mode {
                FileMode::Encrypt => tr!("ui.files.encrypt_file"),
                FileMode::Decrypt => tr!("ui.files.decrypt_file"),
            };
            // Decryption names its key in the file, so only encryption is judged ahead.
            let why_not = match (&self.mode, &self.key) {
                (FileMode::Encrypt, Some(key)) => model.why_not_on_key("kms:GenerateDataKey", key),
                _ => None,
            };
            if crate::widgets::permitted_button(
                ui,
                ready,
                why_not,
                crate::widgets::primary_button(action),
            )
            .clicked()
                && let (Some(input), Some(output)) = (
                    self.input().map(Path::to_path_buf),
                    self.output().map(Path::to_path_buf),
                )
            {
                commands.push(Command::StartFileJob(FileJobRequest {
                    mode: self.mode,
                    key: self.key.clone(),
                    input,
                    output,
                    overwrite: false,
                }));
            }
        });
        if let Some(job) = &self.job {
            ui.add_space(10.0);
            let (done, total) = (
                job.done.load(Ordering::Relaxed),
                job.total.load(Ordering::Relaxed),
            );
            let fraction = if total == 0 {
                0.0
            } else {
                done as f32 / total as f32
            };
            let seconds = job.started.elapsed().as_secs_f64().max(1e-3);
            let speed = megabytes(done) / seconds;
            let left = if done == 0 {
                f64::NAN
            } else {
                seconds * (total.saturating_sub(done)) as f64 / done as f64
            };
            ui.add(
                egui::ProgressBar::new(fraction)
                    .show_percentage()
                    .desired_width(480.0),
            );
            ui.horizontal(|ui| {
                let left = if left.is_finite() {
                    tr!("ui.files.seconds_left", seconds = format!("{left:.0}"))
                } else {
                    tr!("ui.files.starting")
                };
                ui.label(tr!(
                    "ui.files.progress",
                    done = format!("{:.1}", megabytes(done)),
                    total = format!("{:.1}", megabytes(total)),
                    speed = format!("{:.0}", speed),
                    left = left
                ));
                if ui.button(tr!("ui.files.cancel")).clicked() {
                    job.cancel.store(true, Ordering::Relaxed);
                }
            });
        }
        match &self.last_result {
            Some(Ok(message)) => {
                ui.add_space(8.0);
                ui.colored_label(egui::Color32::from_rgb(60, 160, 90), message);
            }
            Some(Err(error)) => {
                ui.add_space(8.0);
                ui.colored_label(
                    ui.visuals().error_fg_color,
                    crate::widgets::error_text(error),
                );
            }
            None => {}
        }
        self.confirm_replace_ui(ui.ctx(), commands);
    }

    /// Asks before an existing output is replaced, naming it.
    fn confirm_replace_ui(&mut self, ctx: &egui::Context, commands: &mut Vec<Command>) {
        let Some(request) = &self.confirm_replace else {
            return;
        };
        let name = request.output.file_name().map_or_else(
            || request.output.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let folder = request
            .output
            .parent()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        let question = Confirmation {
            title: tr!("ui.files.replace_name", name = name),
            lines: vec![
                tr!(
                    "ui.files.name_exists_in_folder",
                    name = name,
                    folder = folder
                ),
                tr!("ui.files.replacing_it_loses_what_it_holds"),
            ],
            confirm: tr!("ui.files.replace"),
            danger: true,
        };
        match question.ui(ctx, "replace file output") {
            Answer::Open => {}
            Answer::Confirmed => {
                if let Some(request) = self.confirm_replace.take() {
                    commands.push(Command::StartFileJob(request));
                }
            }
            Answer::Cancelled => self.confirm_replace = None,
        }
    }
}
