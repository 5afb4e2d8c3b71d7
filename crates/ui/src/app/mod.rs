//! The console application, as rerun's viewer arranges it: this file holds the App (what is
//! persisted, construction, locking, the top bar and the eframe glue); `logic` is the work between
//! frames (workers, dialogs, the engine's tick, auto-lock, clipboard clearing); `commands` carries
//! out the commands the pages pushed while drawing.

pub mod backend;
mod commands;
mod logic;

use keyconsole_base::tr;
use std::path::PathBuf;
use std::sync::Arc;

use egui::RichText;
use serde::{Deserialize, Serialize};

use keyconsole_base::util::i18n::{self, Language};
use sha2::{Digest, Sha256};

use super::command::Command;
use super::notifications::Notifications;
use super::pages::api_access::ApiAccessState;
use super::pages::create_key::CreateKeyDialog;
use super::pages::files::FileToolsState;
use super::pages::key_detail::KeyDetailState;
use super::pages::keys::KeyListState;
use super::pages::secrets::SecretsState;
use super::pages::unlock::UnlockScreen;
use super::platform::{Clipboard, FileDialogs};
use crate::file_dialog::{DialogPreference, InAppDialog};
use crate::model::Model;
use backend::Session;
use keyconsole_kms::{Clock, Kms, KmsError, SystemClock};
use keyconsole_store as store;

/// The key under which preferences are stored in eframe's persistence file.
pub const PREFERENCES_KEY: &str = "keyconsole.preferences";
/// A copy is cleared from the clipboard this long after, if it is still there.
pub const CLIPBOARD_CLEAR_SECONDS: i64 = 30;

/// What the console asks of the desktop, held as traits so tests can pass fakes.
pub struct AppEnvironment {
    pub clipboard: Box<dyn Clipboard>,
    pub dialogs: Box<dyn FileDialogs>,
    pub clock: Arc<dyn Clock>,
    /// The language the system's locale asks for; the console speaks it unless Settings say otherwise.
    pub system_language: Language,
}

impl AppEnvironment {
    pub fn native(ctx: &egui::Context) -> Self {
        Self {
            clipboard: Box::new(super::platform::SystemClipboard::default()),
            dialogs: Box::new(super::platform::NativeDialogs::new(Some(ctx.clone()))),
            clock: Arc::new(SystemClock),
            system_language: Language::from_env(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Theme {
    /// As the desktop says; light when it says nothing.
    #[default]
    System,
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
    /// Whether it serves HTTPS with the local CA.
    pub api_https: bool,
    /// The desktop's file dialog, or keyconsole's own.
    pub file_dialog: DialogPreference,
    /// Folders files were last saved to or opened from, newest first (keyconsole's dialog).
    pub recent_places: Vec<PathBuf>,
    /// The language chosen in Settings; `None` follows the system's locale.
    pub language: Option<Language>,
    /// The server connected to last (never its SecretKey).
    pub server: Option<SavedServer>,
}

impl Preferences {
    /// The connect form as it was last used (the SecretKey is asked again).
    fn fill_connect_form(&self, unlock: &mut UnlockScreen) {
        if let Some(server) = &self.server {
            unlock.connect.endpoint.clone_from(&server.endpoint);
            unlock.connect.secret_id.clone_from(&server.secret_id);
            unlock.connect.ca_file.clone_from(&server.ca_file);
        }
    }
}

/// A server the console connected to: what the connect form fills in next time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct SavedServer {
    pub endpoint: String,
    pub secret_id: String,
    pub ca_file: String,
}

impl Default for Preferences {
    fn default() -> Self {
        Self {
            theme: Theme::System,
            auto_lock_minutes: 5,
            keystore: None,
            oldest_first: false,
            api_listen: keyconsole_api::DEFAULT_LISTEN.to_owned(),
            api_https: false,
            file_dialog: DialogPreference::Desktop,
            recent_places: Vec::new(),
            language: None,
            server: None,
        }
    }
}

/// The page to go back to after unlocking again (a key by KeyId, a secret by name: neither is a
/// secret; nothing typed is kept).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Resume {
    Keys,
    Key(String),
    Files,
    Api,
    Secrets(Option<String>),
    Audit,
}

enum Page {
    Keys,
    Key(Box<KeyDetailState>),
    Files,
    Api,
    Secrets,
    Audit,
}

/// The unlocked console: the engine and the state of its pages. Dropping it drops every secret.
struct Console {
    /// The keystore (shared with the API server when it runs) or the server it manages.
    session: Arc<Session>,
    /// What the pages draw, as the worker last saw it.
    model: Model,
    path: PathBuf,
    page: Page,
    key_list: KeyListState,
    /// Kept across pages, so a running file job goes on while the user looks at keys.
    files: FileToolsState,
    create_key: Option<CreateKeyDialog>,
    /// Kept across pages, so the server goes on while the user looks at keys.
    api: ApiAccessState,
    secrets: SecretsState,
    audit: crate::pages::audit::AuditState,
    /// Runs changes, the online tools and the tick off the UI thread.
    backend: backend::Backend,
    /// A maintenance tick is on the worker.
    tick_pending: bool,
    /// The page to open once the first snapshot arrives (after locking, the page it was on).
    resume: Option<Resume>,
    /// When the engine's maintenance tick last ran, and the last error it reported (shown once).
    last_tick: i64,
    last_tick_error: Option<String>,
}

enum Screen {
    Locked(Box<UnlockScreen>),
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
    /// keyconsole's own file dialog, while open.
    in_app_dialog: Option<InAppDialog>,
    /// Why the desktop's file dialog cannot open here, once found out (then ours opens at once).
    desktop_dialog_unavailable: Option<String>,
    /// Where the console was when it locked, to go back there once unlocked.
    resume: Option<Resume>,
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
        let mut unlock = UnlockScreen::new(path);
        prefs.fill_connect_form(&mut unlock);
        let app = Self {
            screen: Screen::Locked(Box::new(unlock)),
            prefs,
            env,
            notifications: Notifications::default(),
            copied: None,
            last_activity: now,
            title: String::new(),
            ctx: cc.egui_ctx.clone(),
            in_app_dialog: None,
            desktop_dialog_unavailable: None,
            resume: None,
        };
        app.apply_theme();
        crate::fonts::install_cjk_fallback(&cc.egui_ctx);
        app
    }

    /// Settings → Theme, as if chosen there (tests take pictures in each).
    pub fn set_theme(&mut self, theme: Theme) {
        self.prefs.theme = theme;
        self.apply_theme();
    }

    /// Settings → Language, as if chosen there; `None` follows the system's locale.
    pub fn set_language(&mut self, language: Option<Language>) {
        self.prefs.language = language;
    }

    /// The language the console speaks now.
    pub fn language(&self) -> Language {
        self.prefs.language.unwrap_or(self.env.system_language)
    }

    pub fn preferences(&self) -> &Preferences {
        &self.prefs
    }

    /// Whether the console's worker has calls under way (a change waiting for the keystore).
    pub fn is_busy(&self) -> bool {
        matches!(&self.screen, Screen::Unlocked(console) if console.backend.busy())
    }

    pub fn is_locked(&self) -> bool {
        matches!(self.screen, Screen::Locked(_))
    }

    /// The engine, while unlocked (tests check its state through this).
    pub fn kms(&self) -> Option<&Kms> {
        match &self.screen {
            Screen::Unlocked(console) => console.session.local().ok().map(|kms| &**kms),
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

    /// The server the console manages, if it manages one.
    pub fn server_endpoint(&self) -> Option<String> {
        match &self.screen {
            Screen::Unlocked(console) => match &*console.session {
                Session::Remote(remote) => Some(remote.endpoint().to_string()),
                Session::Local(_) => None,
            },
            Screen::Locked(_) => None,
        }
    }

    fn now(&self) -> i64 {
        self.env.clock.now()
    }

    fn apply_theme(&self) {
        // The cloud consoles are light; so is ours where the desktop does not say.
        self.ctx
            .options_mut(|options| options.fallback_theme = egui::Theme::Light);
        self.ctx.set_theme(match self.prefs.theme {
            Theme::System => egui::ThemePreference::System,
            Theme::Dark => egui::ThemePreference::Dark,
            Theme::Light => egui::ThemePreference::Light,
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
        self.lock_because(None);
    }

    /// `lock`, saying why on the unlock screen (auto-lock); the page is remembered so unlocking
    /// goes back to it.
    fn lock_because(&mut self, reason: Option<String>) {
        if let Screen::Unlocked(console) = &mut self.screen {
            self.resume = Some(match &console.page {
                Page::Keys => Resume::Keys,
                Page::Key(detail) => Resume::Key(detail.key_id.clone()),
                Page::Files => Resume::Files,
                Page::Api => Resume::Api,
                Page::Secrets => Resume::Secrets(console.secrets.selected.clone()),
                Page::Audit => Resume::Audit,
            });
            // The server goes first: it holds the engine too, and its requests must end before the keys go.
            if let Some(server) = console.api.server.take() {
                server.stop();
            }
            if let Some(job) = &console.files.job {
                // The worker stops at its next batch and removes its temp file.
                job.cancel.store(true, std::sync::atomic::Ordering::Relaxed);
            }
            let mut unlock = UnlockScreen::new(console.path.clone());
            self.prefs.fill_connect_form(&mut unlock);
            if console.session.is_remote() {
                unlock.mode = crate::pages::unlock::UnlockMode::Remote;
            }
            unlock.locked_because = reason;
            self.screen = Screen::Locked(Box::new(unlock));
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

    fn update_title(&mut self, ctx: &egui::Context) {
        let path = self.keystore_path();
        let name = self.server_endpoint().unwrap_or_else(|| {
            path.file_name().map_or_else(
                || path.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            )
        });
        let state = if self.is_locked() {
            tr!("ui.app.locked")
        } else {
            tr!("ui.app.unlocked")
        };
        let title = tr!("ui.app.keyconsole_name_state", name = name, state = state);
        if title != self.title {
            ctx.send_viewport_cmd(egui::ViewportCommand::Title(title.clone()));
            self.title = title;
        }
    }

    // ---- drawing ----

    fn top_bar_ui(&mut self, ui: &mut egui::Ui, commands: &mut Vec<Command>) {
        egui::Panel::top("top_bar").show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.label(RichText::new(tr!("ui.app.keyconsole")).strong().size(16.0));
                ui.separator();
                if let Screen::Unlocked(console) = &self.screen {
                    let on_keys = matches!(console.page, Page::Keys);
                    if ui.selectable_label(on_keys, tr!("ui.app.keys")).clicked() {
                        commands.push(Command::ShowKeys);
                    }
                    let on_secrets = matches!(console.page, Page::Secrets);
                    if ui
                        .selectable_label(on_secrets, tr!("ui.app.secrets"))
                        .clicked()
                    {
                        commands.push(Command::ShowSecrets);
                    }
                    // Files stay on this machine either way: a server only makes and opens
                    // their data keys.
                    let on_files = matches!(console.page, Page::Files);
                    let files = if console.files.job.is_some() {
                        tr!("ui.app.file_tools")
                    } else {
                        tr!("ui.app.file_tools_2")
                    };
                    if ui.selectable_label(on_files, files).clicked() {
                        commands.push(Command::ShowFiles(None));
                    }
                    // The API server is this machine's: a server's console does not offer it.
                    if !console.session.is_remote() {
                        let on_api = matches!(console.page, Page::Api);
                        let api = if console.api.is_running() {
                            tr!("ui.app.api_access_running")
                        } else {
                            tr!("ui.app.api_access")
                        };
                        if ui.selectable_label(on_api, api).clicked() {
                            commands.push(Command::ShowApi);
                        }
                    }
                    let on_audit = matches!(console.page, Page::Audit);
                    if ui.selectable_label(on_audit, tr!("ui.app.audit")).clicked() {
                        commands.push(Command::ShowAudit);
                    }
                }
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    if self.is_busy() {
                        ui.spinner();
                        ui.label(tr!("ui.app.working"));
                    }
                    if !self.is_locked()
                        && ui
                            .button(tr!("ui.app.lock"))
                            .on_hover_text(tr!("ui.app.lock_the_console_ctrl_l"))
                            .clicked()
                    {
                        commands.push(Command::Lock);
                    }
                    ui.menu_button(tr!("ui.app.settings"), |ui| {
                        ui.label(tr!("ui.app.language"));
                        let system = tr!(
                            "ui.app.system_language",
                            language = self.env.system_language.native_name()
                        );
                        ui.radio_value(&mut self.prefs.language, None, system);
                        for language in Language::ALL {
                            ui.radio_value(
                                &mut self.prefs.language,
                                Some(language),
                                language.native_name(),
                            );
                        }
                        // Switched at once: the rest of this frame is drawn in the new language.
                        i18n::set_current(self.language());
                        ui.separator();
                        ui.label(tr!("ui.app.theme"));
                        let mut theme = self.prefs.theme;
                        ui.radio_value(&mut theme, Theme::System, tr!("ui.app.as_the_desktop"));
                        ui.radio_value(&mut theme, Theme::Dark, tr!("ui.app.dark"));
                        ui.radio_value(&mut theme, Theme::Light, tr!("ui.app.light"));
                        if theme != self.prefs.theme {
                            self.prefs.theme = theme;
                            self.apply_theme();
                        }
                        ui.separator();
                        ui.label(tr!("ui.app.file_dialogs"));
                        ui.radio_value(
                            &mut self.prefs.file_dialog,
                            DialogPreference::Desktop,
                            tr!("ui.app.the_desktop_s_keyconsole_s_where"),
                        );
                        ui.radio_value(
                            &mut self.prefs.file_dialog,
                            DialogPreference::InApp,
                            tr!("ui.app.keyconsole_s_own"),
                        );
                        ui.separator();
                        ui.horizontal(|ui| {
                            let label = ui.label(tr!("ui.app.lock_after"));
                            ui.add(
                                egui::DragValue::new(&mut self.prefs.auto_lock_minutes)
                                    .range(1..=240),
                            )
                            .labelled_by(label.id);
                            ui.label(tr!("ui.app.minutes_idle"));
                        });
                    });
                    match self.server_endpoint() {
                        Some(endpoint) => {
                            ui.label(RichText::new(endpoint).small().weak())
                                .on_hover_text(tr!("ui.app.the_server"));
                        }
                        None => {
                            let path = self.keystore_path();
                            ui.label(RichText::new(path.display().to_string()).small().weak())
                                .on_hover_text(tr!("ui.app.the_keystore_file"));
                        }
                    }
                });
            });
        });
    }
}

impl eframe::App for KeyconsoleApp {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        // Everything this frame makes (labels, notifications, titles) is in the chosen language.
        i18n::set_current(self.language());
        self.background(ctx);
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        i18n::set_current(self.language());
        let ctx = ui.ctx().clone();
        let mut commands = Vec::new();
        self.shortcuts(&ctx, &mut commands);
        self.top_bar_ui(ui, &mut commands);
        self.notifications.ui(ui);
        match &mut self.screen {
            Screen::Locked(unlock) => unlock.ui(ui, &mut commands),
            Screen::Unlocked(console) => {
                let console = &mut **console;
                // Pages draw the worker's last snapshot: a frame never waits for the engine.
                let model = &console.model;
                egui::CentralPanel::default().show(ui, |ui| match &mut console.page {
                    _ if !model.loaded => {
                        ui.add_space(40.0);
                        ui.vertical_centered(|ui| ui.spinner());
                    }
                    Page::Keys => console.key_list.ui(ui, model, &mut commands),
                    Page::Key(detail) => detail.ui(ui, model, &mut commands),
                    Page::Files => console.files.ui(ui, model, &mut commands),
                    Page::Secrets => console.secrets.ui(ui, model, &mut commands),
                    Page::Api => {
                        console
                            .api
                            .ui(ui, &model.credentials, &model.users, &mut commands)
                    }
                    Page::Audit => {
                        let remote = console.session.is_remote();
                        let why_not = model.why_not("cloudaudit:LookUpEvents", "*");
                        let may_read = why_not.is_none();
                        console.audit.ui(ui, remote, why_not, &mut commands);
                        // Typing in a filter asks the worker again once the last answer came.
                        if console.audit.wants_load() && may_read {
                            commands.push(Command::Audit(crate::pages::audit::AuditRequest::Load));
                        } else if console.audit.wants_filter() {
                            commands
                                .push(Command::Audit(crate::pages::audit::AuditRequest::Filter));
                        }
                    }
                });
                if let Some(dialog) = &mut console.create_key
                    && !dialog.ui(&ctx, model, &mut commands)
                {
                    console.create_key = None;
                }
            }
        }
        if let Some(dialog) = &mut self.in_app_dialog
            && let Some(answer) = dialog.ui(&ctx)
        {
            self.in_app_dialog = None;
            // Carried out with the other commands, after the frame: it may write a file.
            commands.push(Command::DialogAnswered(answer));
        }
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
