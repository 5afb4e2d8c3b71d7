//! The console application: what is persisted, what runs between frames (workers, dialogs, refresh,
//! auto-lock, clipboard clearing), and the command handling that calls the engine.

use std::path::PathBuf;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use egui::{Key, KeyboardShortcut, Modifiers, RichText};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::api_access::ApiAccessState;
use super::command::Command;
use super::create_key::CreateKeyDialog;
use super::file_tools::{FileJob, FileMode, FileToolsState};
use super::key_detail::KeyDetailState;
use super::key_list::KeyListState;
use super::notifications::Notifications;
use super::online_tools::{DataKeySpec, GeneratedDataKey, Revealed};
use super::platform::{Clipboard, DialogAnswer, DialogPurpose, DialogRequest, FileDialogs};
use super::unlock::UnlockScreen;
use crate::api::{ApiServer, ServerConfig};
use crate::kms::{CanonicalContext, Clock, ErrorCode, Kms, KmsError, SharedKms, SystemClock};
use crate::store::{self, kdf};

/// The key under which preferences are stored in eframe's persistence file.
pub const PREFERENCES_KEY: &str = "keyconsole.preferences";
/// A copy is cleared from the clipboard this long after, if it is still there.
pub const CLIPBOARD_CLEAR_SECONDS: i64 = 30;
const REFRESH_SECONDS: i64 = 1;
const MAINTAIN_SECONDS: i64 = 60;
/// Ciphertext files opened in the decrypt tool are blobs of a few KB; refuse anything huge.
const MAX_CIPHERTEXT_FILE_BYTES: u64 = 64 * 1024;

/// What the console asks of the desktop, held as traits so tests can pass fakes.
pub struct AppEnvironment {
    pub clipboard: Box<dyn Clipboard>,
    pub dialogs: Box<dyn FileDialogs>,
    pub clock: Arc<dyn Clock>,
}

impl AppEnvironment {
    pub fn native(ctx: &egui::Context) -> Self {
        Self {
            clipboard: Box::new(super::platform::SystemClipboard::default()),
            dialogs: Box::new(super::platform::NativeDialogs::new(Some(ctx.clone()))),
            clock: Arc::new(SystemClock),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Theme {
    #[default]
    Dark,
    Light,
}

/// Everything the console remembers between runs. No secret is ever put here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Preferences {
    pub theme: Theme,
    pub auto_lock_minutes: u32,
    /// The keystore used last (a path, not a secret).
    pub keystore: Option<PathBuf>,
    pub oldest_first: bool,
    /// Where the API access page starts the server.
    pub api_listen: String,
}

impl Default for Preferences {
    fn default() -> Self {
        Self {
            theme: Theme::Dark,
            auto_lock_minutes: 5,
            keystore: None,
            oldest_first: false,
            api_listen: crate::api::DEFAULT_LISTEN.to_owned(),
        }
    }
}

enum Page {
    Keys,
    Key(Box<KeyDetailState>),
    Files,
    Api,
}

/// The unlocked console: the engine and the state of its pages. Dropping it drops every secret.
struct Console {
    /// Shared with the API server when it runs.
    kms: SharedKms,
    path: PathBuf,
    page: Page,
    key_list: KeyListState,
    /// Kept across pages, so a running file job goes on while the user looks at keys.
    files: FileToolsState,
    create_key: Option<CreateKeyDialog>,
    /// Kept across pages, so the server goes on while the user looks at keys.
    api: ApiAccessState,
    last_refresh: i64,
    last_maintenance: i64,
    last_refresh_error: Option<String>,
}

enum Screen {
    Locked(UnlockScreen),
    Unlocked(Box<Console>),
}

/// A copy we made, remembered by digest (never the text) so it can be cleared later.
struct CopiedText {
    digest: [u8; 32],
    at: i64,
}

fn digest(text: &str) -> [u8; 32] {
    Sha256::digest(text.as_bytes()).into()
}

pub struct KeyconsoleApp {
    prefs: Preferences,
    env: AppEnvironment,
    screen: Screen,
    notifications: Notifications,
    copied: Option<CopiedText>,
    last_activity: i64,
    title: String,
    ctx: egui::Context,
}

impl KeyconsoleApp {
    /// `keystore`: `--keystore`/`KEYCONSOLE_KEYSTORE` if given; else the last one used; else the default.
    pub fn new(
        cc: &eframe::CreationContext<'_>,
        env: AppEnvironment,
        keystore: Option<PathBuf>,
    ) -> Self {
        let prefs: Preferences = cc
            .storage
            .and_then(|storage| eframe::get_value(storage, PREFERENCES_KEY))
            .unwrap_or_default();
        let path = keystore
            .or_else(|| prefs.keystore.clone())
            .unwrap_or_else(store::default_path);
        let now = env.clock.now();
        let app = Self {
            screen: Screen::Locked(UnlockScreen::new(path)),
            prefs,
            env,
            notifications: Notifications::default(),
            copied: None,
            last_activity: now,
            title: String::new(),
            ctx: cc.egui_ctx.clone(),
        };
        app.apply_theme();
        app
    }

    pub fn preferences(&self) -> &Preferences {
        &self.prefs
    }

    pub fn is_locked(&self) -> bool {
        matches!(self.screen, Screen::Locked(_))
    }

    /// The engine, while unlocked (tests check its state through this).
    pub fn kms(&self) -> Option<std::sync::RwLockReadGuard<'_, Kms>> {
        match &self.screen {
            Screen::Unlocked(console) => Some(console.kms.read()),
            Screen::Locked(_) => None,
        }
    }

    /// The API server's address while it runs.
    pub fn api_address(&self) -> Option<std::net::SocketAddr> {
        match &self.screen {
            Screen::Unlocked(console) => console.api.server.as_ref().map(|s| s.local_addr()),
            Screen::Locked(_) => None,
        }
    }

    pub fn notifications(&self) -> &super::notifications::Notifications {
        &self.notifications
    }

    pub fn keystore_path(&self) -> PathBuf {
        match &self.screen {
            Screen::Locked(unlock) => unlock.path.clone(),
            Screen::Unlocked(console) => console.path.clone(),
        }
    }

    fn now(&self) -> i64 {
        self.env.clock.now()
    }

    fn apply_theme(&self) {
        self.ctx.set_theme(match self.prefs.theme {
            Theme::Dark => egui::Theme::Dark,
            Theme::Light => egui::Theme::Light,
        });
    }

    fn fail(&mut self, error: &KmsError) {
        let now = self.now();
        self.notifications.error(now, error);
    }

    fn succeed(&mut self, text: impl Into<String>) {
        let now = self.now();
        self.notifications.success(now, text);
    }

    /// Locks the console: the engine, its keys and every secret on screen are dropped (and wiped),
    /// egui's per-widget memory (text-edit undo history can hold typed plaintext) is cleared, and
    /// anything we copied leaves the clipboard now rather than in 30 s.
    pub fn lock(&mut self) {
        if let Screen::Unlocked(console) = &mut self.screen {
            // The server goes first: it holds the engine too, and its requests must end before the keys go.
            if let Some(server) = console.api.server.take() {
                server.stop();
            }
            if let Err(e) = console.kms.write().flush_usage() {
                self.notifications.error(self.env.clock.now(), &e);
            }
            if let Some(job) = &console.files.job {
                // The worker stops at its next batch and removes its temp file.
                job.cancel.store(true, std::sync::atomic::Ordering::Relaxed);
            }
            let path = console.path.clone();
            self.screen = Screen::Locked(UnlockScreen::new(path));
            self.ctx.data_mut(|data| data.clear());
            self.clear_our_clipboard();
        }
    }

    /// Clears the clipboard if it still holds what we copied last.
    fn clear_our_clipboard(&mut self) {
        if let Some(copied) = self.copied.take()
            && self
                .env
                .clipboard
                .get_text()
                .is_some_and(|text| digest(&text) == copied.digest)
        {
            self.env.clipboard.clear();
        }
    }

    // ---- between frames ----

    /// Everything that is not drawing: worker results, dialog answers, refresh, timers.
    fn background(&mut self, ctx: &egui::Context) {
        let now = self.now();
        if ctx.input(|i| !i.events.is_empty()) {
            self.last_activity = now;
        }
        if let Screen::Locked(unlock) = &mut self.screen
            && let Some(result) = unlock.poll()
        {
            match result {
                Ok(kms) => {
                    let path = kms.path().to_path_buf();
                    self.prefs.keystore = Some(path.clone());
                    let mut key_list = KeyListState::default();
                    key_list.oldest_first = self.prefs.oldest_first;
                    self.screen = Screen::Unlocked(Box::new(Console {
                        kms: SharedKms::new(kms),
                        path: path.clone(),
                        page: Page::Keys,
                        key_list,
                        files: FileToolsState::default(),
                        create_key: None,
                        api: ApiAccessState::new(self.prefs.api_listen.clone()),
                        last_refresh: now,
                        last_maintenance: now,
                        last_refresh_error: None,
                    }));
                    self.last_activity = now;
                    self.succeed(format!("Unlocked {}", path.display()));
                }
                Err(error) => {
                    unlock.keystore_exists = unlock.path.exists();
                    unlock.error = Some(error);
                }
            }
        }
        while let Some(answer) = self.env.dialogs.poll() {
            self.dialog_answered(answer);
        }
        if let Screen::Unlocked(console) = &mut self.screen {
            self.prefs.oldest_first = console.key_list.oldest_first;
            if console.api.listen != self.prefs.api_listen {
                self.prefs.api_listen.clone_from(&console.api.listen);
            }
            // A file dropped on the window goes to the File tools page.
            let dropped = ctx.input(|i| {
                i.raw
                    .dropped_files
                    .iter()
                    .map(|f| f.path().to_path_buf())
                    .find(|p| !p.as_os_str().is_empty())
            });
            if let Some(path) = dropped
                && console.files.job.is_none()
            {
                console.files.set_input(path);
                console.page = Page::Files;
            }
            if let Some(job) = &console.files.job
                && let Ok(result) = job.result.try_recv()
            {
                let seconds = job.started.elapsed().as_secs_f64().max(1e-3);
                let verb = match job.mode {
                    FileMode::Encrypt => "Encrypted",
                    FileMode::Decrypt => "Decrypted",
                };
                let output = console.files.output.clone().unwrap_or_default();
                match result {
                    Ok(report) => {
                        let mib = report.bytes as f64 / (1024.0 * 1024.0);
                        let message = format!(
                            "{verb} {mib:.1} MiB into {} in {seconds:.1} s ({:.0} MB/s).",
                            output.display(),
                            mib / seconds
                        );
                        console.files.last_result = Some(Ok(message.clone()));
                        self.notifications.success(now, message);
                    }
                    Err(e) => {
                        self.notifications.error(now, &e);
                        console.files.last_result = Some(Err(e));
                    }
                }
                console.files.job = None;
            }
            // Changes made by other processes (the CLI, another console) show within two seconds.
            if now - console.last_refresh >= REFRESH_SECONDS {
                console.last_refresh = now;
                let refreshed = console.kms.write().refresh();
                match refreshed {
                    Ok(_) => console.last_refresh_error = None,
                    Err(e) => {
                        if console.last_refresh_error.as_deref() != Some(e.message.as_str()) {
                            console.last_refresh_error = Some(e.message.clone());
                            self.notifications.error(now, &e);
                        }
                    }
                }
            }
            if now - console.last_maintenance >= MAINTAIN_SECONDS {
                console.last_maintenance = now;
                let maintained = console.kms.write().maintain();
                match maintained {
                    Ok(done) if !done.is_empty() => self.notifications.success(
                        now,
                        format!(
                            "Rotated {} key(s); destroyed {} key(s) whose deletion date passed.",
                            done.rotated.len(),
                            done.destroyed.len()
                        ),
                    ),
                    Ok(_) => {}
                    Err(e) => self.notifications.error(now, &e),
                }
            }
            // Waiting for a file job is not idleness: auto-lock comes after it ends (Lock still cancels it).
            if console.files.job.is_some() {
                self.last_activity = now;
            }
            let idle_limit = i64::from(self.prefs.auto_lock_minutes.max(1)) * 60;
            if now - self.last_activity >= idle_limit {
                self.lock();
                self.notifications.success(
                    now,
                    format!(
                        "Locked after {} minutes without use.",
                        self.prefs.auto_lock_minutes
                    ),
                );
            }
        }
        // Only clear what we put there: the user may have copied something else since.
        if self
            .copied
            .as_ref()
            .is_some_and(|copied| now - copied.at >= CLIPBOARD_CLEAR_SECONDS)
        {
            self.clear_our_clipboard();
        }
        self.notifications.expire(now);
        ctx.request_repaint_after(std::time::Duration::from_millis(500));
    }

    fn shortcuts(&mut self, ctx: &egui::Context, commands: &mut Vec<Command>) {
        let pressed = |key| {
            ctx.input_mut(|i| i.consume_shortcut(&KeyboardShortcut::new(Modifiers::COMMAND, key)))
        };
        if let Screen::Unlocked(console) = &mut self.screen {
            if pressed(Key::L) {
                commands.push(Command::Lock);
            }
            if pressed(Key::N) {
                commands.push(Command::OpenCreateKey);
            }
            if pressed(Key::F) {
                console.page = Page::Keys;
                console.key_list.focus_search = true;
            }
        }
    }

    fn update_title(&mut self, ctx: &egui::Context) {
        let path = self.keystore_path();
        let name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let state = if self.is_locked() {
            "locked"
        } else {
            "unlocked"
        };
        let title = format!("keyconsole — {name} ({state})");
        if title != self.title {
            ctx.send_viewport_cmd(egui::ViewportCommand::Title(title.clone()));
            self.title = title;
        }
    }

    // ---- drawing ----

    fn top_bar_ui(&mut self, ui: &mut egui::Ui, commands: &mut Vec<Command>) {
        egui::Panel::top("top bar").show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.label(RichText::new("🔑 keyconsole").strong().size(16.0));
                ui.separator();
                if let Screen::Unlocked(console) = &self.screen {
                    let on_keys = matches!(console.page, Page::Keys);
                    if ui.selectable_label(on_keys, "Keys").clicked() {
                        commands.push(Command::ShowKeys);
                    }
                    let on_files = matches!(console.page, Page::Files);
                    let files = if console.files.job.is_some() {
                        "File tools ⏳"
                    } else {
                        "File tools"
                    };
                    if ui.selectable_label(on_files, files).clicked() {
                        commands.push(Command::ShowFiles(None));
                    }
                    let on_api = matches!(console.page, Page::Api);
                    let api = if console.api.is_running() {
                        "API access (running)"
                    } else {
                        "API access"
                    };
                    if ui.selectable_label(on_api, api).clicked() {
                        commands.push(Command::ShowApi);
                    }
                }
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    if !self.is_locked()
                        && ui
                            .button("🔒 Lock")
                            .on_hover_text("Lock the console (Ctrl+L)")
                            .clicked()
                    {
                        commands.push(Command::Lock);
                    }
                    ui.menu_button("⚙ Settings", |ui| {
                        ui.label("Theme");
                        let mut theme = self.prefs.theme;
                        ui.radio_value(&mut theme, Theme::Dark, "Dark");
                        ui.radio_value(&mut theme, Theme::Light, "Light");
                        if theme != self.prefs.theme {
                            self.prefs.theme = theme;
                            self.apply_theme();
                        }
                        ui.separator();
                        ui.horizontal(|ui| {
                            let label = ui.label("Lock after");
                            ui.add(
                                egui::DragValue::new(&mut self.prefs.auto_lock_minutes)
                                    .range(1..=240),
                            )
                            .labelled_by(label.id);
                            ui.label("minutes idle");
                        });
                    });
                    let path = self.keystore_path();
                    ui.label(RichText::new(path.display().to_string()).small().weak())
                        .on_hover_text("The keystore file");
                });
            });
        });
    }

    // ---- commands ----

    fn handle(&mut self, command: Command) {
        match command {
            Command::Unlock | Command::CreateKeystore => {
                self.start_unlock(matches!(command, Command::CreateKeystore))
            }
            Command::SetKeystorePath(path) => {
                if let Screen::Locked(unlock) = &mut self.screen
                    && !unlock.busy()
                {
                    *unlock = UnlockScreen::new(path);
                }
            }
            Command::Lock => self.lock(),
            Command::Dialog(purpose) => self.open_dialog(purpose),
            Command::Copy { text, what } => {
                match self.env.clipboard.set_text(&text) {
                    Ok(()) => {
                        self.copied = Some(CopiedText {
                            digest: digest(&text),
                            at: self.now(),
                        });
                        self.succeed(format!("Copied {what}; the clipboard is cleared in {CLIPBOARD_CLEAR_SECONDS} s."));
                    }
                    Err(why) => self.fail(&KmsError::new(
                        ErrorCode::InternalError,
                        format!("The clipboard is not available: {why}."),
                    )),
                }
            }
            other => self.handle_console(other),
        }
    }

    fn start_unlock(&mut self, create: bool) {
        let Screen::Locked(unlock) = &mut self.screen else {
            return;
        };
        if unlock.busy() {
            return;
        }
        let path = unlock.path.clone();
        let password = Zeroizing::new(unlock.password.as_bytes().to_vec());
        if create {
            if *unlock.confirm != *unlock.password {
                unlock.error = Some(KmsError::new(
                    ErrorCode::InvalidParameterValue,
                    "The two passwords differ.",
                ));
                return;
            }
            unlock.start(&self.ctx, move || {
                Kms::create(&path, &password, kdf::DEFAULT_PARAMS)
            });
        } else {
            let clock = self.env.clock.clone();
            unlock.start(&self.ctx, move || {
                Kms::open_with_clock(&path, &password, clock)
            });
        }
    }

    fn handle_console(&mut self, command: Command) {
        let now = self.now();
        let ctx = self.ctx.clone();
        let Screen::Unlocked(console) = &mut self.screen else {
            return;
        };
        let console = &mut **console;
        if let Some(outcome) = api_command(console, &command) {
            match outcome {
                Ok(Some(message)) => self.notifications.success(now, message),
                Ok(None) => {}
                Err(e) => self.notifications.error(now, &e),
            }
            return;
        }
        let shared = console.kms.clone();
        let mut kms = shared.write();
        let kms = &mut *kms;
        // Each arm returns the success message, or the engine's error.
        let outcome: Result<Option<String>, KmsError> = match command {
            Command::ShowKeys => {
                console.page = Page::Keys;
                Ok(None)
            }
            Command::ShowKey(id) => kms.describe_key(&id).map(|key| {
                console.page = Page::Key(Box::new(KeyDetailState::new(&key)));
                None
            }),
            Command::ShowFiles(key) => {
                if key.is_some() && console.files.job.is_none() {
                    console.files.mode = FileMode::Encrypt;
                    console.files.key = key;
                }
                console.page = Page::Files;
                Ok(None)
            }
            Command::StartFileJob => start_file_job(kms, &mut console.files, &ctx),
            Command::OpenCreateKey => {
                console.create_key = Some(CreateKeyDialog::default());
                Ok(None)
            }
            Command::CreateKey(request) => match kms.create_key(request) {
                Ok(key) => {
                    console.create_key = None;
                    Ok(Some(format!("Created key {} ({}).", key.alias, key.key_id)))
                }
                Err(e) => {
                    if let Some(dialog) = &mut console.create_key {
                        dialog.error = Some(e.clone());
                    }
                    Err(e)
                }
            },
            Command::SetEnabled { keys, enable } => kms.set_keys_enabled(&keys, enable).map(|()| {
                if keys.len() > 1 {
                    console.key_list.selected.clear();
                }
                let verb = if enable { "Enabled" } else { "Disabled" };
                Some(format!("{verb} {} key(s).", keys.len()))
            }),
            Command::UpdateKey {
                key,
                alias,
                description,
            } => kms
                .update_key(&key, alias.as_deref(), description.as_deref())
                .map(|()| {
                    if let Page::Key(detail) = &mut console.page {
                        if alias.is_some() {
                            detail.editing_alias = None;
                        }
                        if description.is_some() {
                            detail.editing_description = None;
                        }
                    }
                    Some("Saved.".to_owned())
                }),
            Command::Archive(key) => kms
                .archive_key(&key)
                .map(|()| Some("Archived: the key decrypts but no longer encrypts.".to_owned())),
            Command::Unarchive(key) => kms
                .cancel_key_archive(&key)
                .map(|()| Some("Unarchived.".to_owned())),
            Command::Rotate(key) => kms.rotate_key(&key).map(|v| {
                Some(format!(
                    "Rotated: key version {v} now encrypts; older ciphertexts still decrypt."
                ))
            }),
            Command::SetRotation { key, enabled, days } => if enabled {
                kms.enable_key_rotation(&key, Some(days))
            } else {
                kms.disable_key_rotation(&key)
            }
            .map(|()| Some("Rotation settings saved.".to_owned())),
            Command::ScheduleDeletion { key, days } => {
                kms.schedule_key_deletion(&key, days).map(|date| {
                    Some(format!(
                        "Deletion scheduled for {}.",
                        crate::display::format_time(date)
                    ))
                })
            }
            Command::CancelDeletion(key) => kms
                .cancel_key_deletion(&key)
                .map(|()| Some("Deletion cancelled; the key is disabled.".to_owned())),
            Command::Encrypt | Command::Decrypt | Command::GenerateDataKey => {
                let Page::Key(detail) = &mut console.page else {
                    return;
                };
                run_tool(kms, detail, &command)
            }
            Command::Unlock
            | Command::CreateKeystore
            | Command::SetKeystorePath(_)
            | Command::Lock
            | Command::Dialog(_)
            | Command::Copy { .. }
            | Command::ShowApi
            | Command::StartApi
            | Command::StopApi
            | Command::CreateApiCredentials
            | Command::RotateApiCredentials => Ok(None),
        };
        match outcome {
            Ok(Some(message)) => self.notifications.success(now, message),
            Ok(None) => {}
            Err(e) => self.notifications.error(now, &e),
        }
    }

    fn open_dialog(&mut self, purpose: DialogPurpose) {
        let alias = match &self.screen {
            Screen::Unlocked(console) => match &console.page {
                Page::Key(detail) => console
                    .kms
                    .read()
                    .describe_key(&detail.key_id)
                    .map(|k| k.alias)
                    .unwrap_or_default(),
                Page::Keys | Page::Files | Page::Api => String::new(),
            },
            Screen::Locked(_) => String::new(),
        };
        let (title, default_name) = match purpose {
            DialogPurpose::OpenKeystore => ("Open a keystore", None),
            DialogPurpose::NewKeystore => (
                "Create a keystore",
                Some(store::DEFAULT_FILE_NAME.to_owned()),
            ),
            DialogPurpose::SaveCiphertext => ("Save the ciphertext", Some(format!("{alias}.kc"))),
            DialogPurpose::SaveDataKeyCiphertext => (
                "Save the encrypted data key",
                Some(format!("{alias}-datakey.kc")),
            ),
            DialogPurpose::SavePlaintext => (
                "Save the plaintext (unencrypted!)",
                Some("plaintext.txt".to_owned()),
            ),
            DialogPurpose::OpenCiphertext => ("Open a ciphertext file", None),
            DialogPurpose::FileInput => ("Choose a file", None),
            DialogPurpose::FileOutput => ("Save the result as", self.files_output_name()),
        };
        self.env.dialogs.request(DialogRequest {
            purpose,
            title: title.to_owned(),
            default_name,
        });
    }

    fn dialog_answered(&mut self, answer: DialogAnswer) {
        let Some(path) = answer.path else { return };
        let result = match answer.purpose {
            DialogPurpose::OpenKeystore | DialogPurpose::NewKeystore => {
                if let Screen::Locked(unlock) = &mut self.screen
                    && !unlock.busy()
                {
                    *unlock = UnlockScreen::new(path);
                }
                Ok(None)
            }
            purpose => self.file_io(purpose, &path),
        };
        match result {
            Ok(Some(message)) => self.succeed(message),
            Ok(None) => {}
            Err(e) => self.fail(&e),
        }
    }

    fn files_output_name(&self) -> Option<String> {
        let Screen::Unlocked(console) = &self.screen else {
            return None;
        };
        console
            .files
            .output
            .as_ref()
            .and_then(|p| p.file_name())
            .map(|n| n.to_string_lossy().into_owned())
    }

    /// Reads or writes the file a dialog chose, for the open key's online tools.
    fn file_io(
        &mut self,
        purpose: DialogPurpose,
        path: &std::path::Path,
    ) -> Result<Option<String>, KmsError> {
        let Screen::Unlocked(console) = &mut self.screen else {
            return Ok(None);
        };
        match purpose {
            DialogPurpose::FileInput => {
                console.files.set_input(path.to_path_buf());
                return Ok(None);
            }
            DialogPurpose::FileOutput => {
                console.files.set_output(path.to_path_buf());
                return Ok(None);
            }
            _ => {}
        }
        let Page::Key(detail) = &mut console.page else {
            return Ok(None);
        };
        let tools = &mut detail.tools;
        let io_error = |e: std::io::Error| {
            KmsError::new(
                ErrorCode::InvalidParameterValue,
                format!("Cannot use {}: {e}.", path.display()),
            )
        };
        let write = |bytes: &[u8]| store::save::replace_file(path, bytes, false).map_err(io_error);
        match purpose {
            DialogPurpose::SaveCiphertext => {
                write(tools.ciphertext.as_bytes())?;
                Ok(Some(format!("Saved the ciphertext to {}.", path.display())))
            }
            DialogPurpose::SaveDataKeyCiphertext => {
                let blob = tools
                    .data_key
                    .as_ref()
                    .map(|d| d.ciphertext_blob.clone())
                    .unwrap_or_default();
                write(blob.as_bytes())?;
                Ok(Some(format!(
                    "Saved the encrypted data key to {}.",
                    path.display()
                )))
            }
            DialogPurpose::SavePlaintext => {
                let Some(revealed) = &tools.decrypted else {
                    return Ok(None);
                };
                let bytes = if revealed.is_base64 {
                    Zeroizing::new(STANDARD.decode(revealed.text.as_str()).unwrap_or_default())
                } else {
                    Zeroizing::new(revealed.text.as_bytes().to_vec())
                };
                write(&bytes)?;
                Ok(Some(format!(
                    "Saved the plaintext to {} (readable by you only).",
                    path.display()
                )))
            }
            DialogPurpose::OpenCiphertext => {
                let size = std::fs::metadata(path).map_err(io_error)?.len();
                if size > MAX_CIPHERTEXT_FILE_BYTES {
                    return Err(KmsError::new(
                        ErrorCode::InvalidCiphertext,
                        format!(
                            "{} is {size} bytes, too large to be a ciphertext blob.",
                            path.display()
                        ),
                    ));
                }
                let text = std::fs::read_to_string(path).map_err(|_| {
                    KmsError::new(
                        ErrorCode::InvalidCiphertext,
                        format!(
                            "{} is not a text file with a CiphertextBlob.",
                            path.display()
                        ),
                    )
                })?;
                tools.decrypt_input = text.trim().to_owned();
                tools.decrypted = None;
                tools.decrypt_error = None;
                Ok(None)
            }
            DialogPurpose::OpenKeystore
            | DialogPurpose::NewKeystore
            | DialogPurpose::FileInput
            | DialogPurpose::FileOutput => Ok(None),
        }
    }
}

/// The API access page's commands. They run before the engine is locked for writing, since
/// stopping the server waits for its requests, which may be waiting for the engine.
fn api_command(
    console: &mut Console,
    command: &Command,
) -> Option<Result<Option<String>, KmsError>> {
    let api = &mut console.api;
    let outcome =
        match command {
            Command::ShowApi => {
                console.page = Page::Api;
                Ok(None)
            }
            Command::StartApi if api.server.is_none() => {
                let started = api
                    .listen
                    .trim()
                    .parse::<std::net::SocketAddr>()
                    .map_err(|_| {
                        KmsError::new(
                            ErrorCode::InvalidParameterValue,
                            format!(
                                "{} is not an address and port, like {}.",
                                api.listen.trim(),
                                crate::api::DEFAULT_LISTEN
                            ),
                        )
                    })
                    // The credentials are made on first use, so a new keystore serves at once.
                    .and_then(|addr| console.kms.write().api_credentials().map(|_| addr))
                    .and_then(|addr| {
                        ApiServer::start(
                            console.kms.clone(),
                            &ServerConfig::loopback(addr),
                            api.log.clone(),
                        )
                    });
                match started {
                    Ok(server) => {
                        let message = format!("The API listens on http://{}.", server.local_addr());
                        api.server = Some(server);
                        api.error = None;
                        Ok(Some(message))
                    }
                    Err(e) => {
                        api.error = Some(e.clone());
                        Err(e)
                    }
                }
            }
            Command::StopApi => {
                if let Some(server) = api.server.take() {
                    server.stop();
                }
                Ok(Some("The API server stopped.".to_owned()))
            }
            Command::CreateApiCredentials => console
                .kms
                .write()
                .api_credentials()
                .map(|_| Some("API credentials created.".to_owned())),
            Command::RotateApiCredentials => {
                api.confirm_rotation = false;
                console.kms.write().rotate_api_credentials().map(|_| {
                    Some("New API credentials: the old SecretKey no longer works.".to_owned())
                })
            }
            _ => return None,
        };
    Some(outcome)
}

/// Prepares the engine's side on this thread (the data key, made or unwrapped in memory; the key's
/// state is checked here, before any output exists) and streams the file on a worker thread.
fn start_file_job(
    kms: &Kms,
    files: &mut FileToolsState,
    ctx: &egui::Context,
) -> Result<Option<String>, KmsError> {
    let (Some(input), Some(output)) = (files.input.clone(), files.output.clone()) else {
        return Ok(None);
    };
    if files.job.is_some() {
        return Ok(None);
    }
    let overwrite = files.overwrite;
    let prepared = match files.mode {
        FileMode::Encrypt => {
            let key = files.key.clone().unwrap_or_default();
            kms.file_encryptor(&key).map(|encryptor| {
                FileJob::start(FileMode::Encrypt, ctx, move |progress| {
                    encryptor.encrypt(&input, &output, overwrite, progress)
                })
            })
        }
        FileMode::Decrypt => kms.file_decryptor(&input).map(|decryptor| {
            FileJob::start(FileMode::Decrypt, ctx, move |progress| {
                decryptor.decrypt(&output, overwrite, progress)
            })
        }),
    };
    match prepared {
        Ok(job) => {
            files.job = Some(job);
            files.last_result = None;
            Ok(None)
        }
        Err(e) => {
            files.last_result = Some(Err(e.clone()));
            Err(e)
        }
    }
}

/// Runs one of the online tools against the engine and puts the result (or the error) in its panel.
fn run_tool(
    kms: &Kms,
    detail: &mut KeyDetailState,
    command: &Command,
) -> Result<Option<String>, KmsError> {
    let tools = &mut detail.tools;
    match command {
        Command::Encrypt => {
            let result = tools.plaintext_bytes().and_then(|bytes| {
                let context = CanonicalContext::parse(Some(&tools.encrypt_context))?;
                kms.encrypt(&detail.key_id, &bytes, &context)
                    .map(|e| (e, bytes.len()))
            });
            match result {
                Ok((encrypted, n)) => {
                    tools.ciphertext = encrypted.ciphertext_blob;
                    tools.encrypt_error = None;
                    Ok(Some(format!("Encrypted {n} bytes.")))
                }
                Err(e) => {
                    tools.ciphertext.clear();
                    tools.encrypt_error = Some(e.clone());
                    Err(e)
                }
            }
        }
        Command::Decrypt => {
            let result = CanonicalContext::parse(Some(&tools.decrypt_context))
                .and_then(|context| kms.decrypt(&tools.decrypt_input, &context));
            match result {
                Ok(decrypted) => {
                    tools.decrypted = Some(Revealed::new(&decrypted.plaintext));
                    tools.decrypt_error = None;
                    Ok(Some(format!(
                        "Decrypted {} bytes.",
                        decrypted.plaintext.len()
                    )))
                }
                Err(e) => {
                    tools.decrypted = None;
                    tools.decrypt_error = Some(e.clone());
                    Err(e)
                }
            }
        }
        Command::GenerateDataKey => {
            let (spec, bytes) = match tools.data_key_spec {
                DataKeySpec::Aes256 => (Some("AES_256"), None),
                DataKeySpec::Aes128 => (Some("AES_128"), None),
                DataKeySpec::Bytes => (None, Some(tools.data_key_bytes)),
            };
            let result = CanonicalContext::parse(Some(&tools.data_key_context))
                .and_then(|context| kms.generate_data_key(&detail.key_id, spec, bytes, &context));
            match result {
                Ok(data_key) => {
                    tools.data_key = Some(GeneratedDataKey {
                        plaintext_base64: Zeroizing::new(STANDARD.encode(&data_key.plaintext)),
                        ciphertext_blob: data_key.ciphertext_blob,
                    });
                    tools.data_key_error = None;
                    Ok(Some(format!(
                        "Generated a {}-byte data key.",
                        data_key.plaintext.len()
                    )))
                }
                Err(e) => {
                    tools.data_key = None;
                    tools.data_key_error = Some(e.clone());
                    Err(e)
                }
            }
        }
        _ => Ok(None),
    }
}

impl eframe::App for KeyconsoleApp {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.background(ctx);
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let ctx = ui.ctx().clone();
        let mut commands = Vec::new();
        self.shortcuts(&ctx, &mut commands);
        self.top_bar_ui(ui, &mut commands);
        match &mut self.screen {
            Screen::Locked(unlock) => unlock.ui(ui, &mut commands),
            Screen::Unlocked(console) => {
                let console = &mut **console;
                // One read guard for the whole frame: the API server's reads go on beside it.
                let kms = console.kms.read();
                egui::CentralPanel::default().show(ui, |ui| match &mut console.page {
                    Page::Keys => console.key_list.ui(ui, &kms, &mut commands),
                    Page::Key(detail) => detail.ui(ui, &kms, &mut commands),
                    Page::Files => console.files.ui(ui, &kms, &mut commands),
                    Page::Api => {
                        let credentials = kms.existing_api_credentials();
                        console.api.ui(ui, credentials, &mut commands);
                    }
                });
                if let Some(dialog) = &mut console.create_key
                    && !dialog.ui(&ctx, &kms, &mut commands)
                {
                    console.create_key = None;
                }
            }
        }
        self.notifications.ui(&ctx);
        for command in commands {
            self.handle(command);
        }
        self.update_title(&ctx);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, PREFERENCES_KEY, &self.prefs);
    }

    /// egui's memory holds text-edit undo history, which can contain typed secrets: never persist it.
    fn persist_egui_memory(&self) -> bool {
        false
    }

    fn on_exit(&mut self, _gl: Option<&eframe::glow::Context>) {
        self.lock();
    }
}
