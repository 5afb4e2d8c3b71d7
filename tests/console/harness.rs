//! The console under egui_kittest with fake dialogs, a fake clipboard and a hand-moved clock.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use keyconsole::api::{AccessLog, ApiServer, ServerConfig, tls};
use keyconsole::kms::local_ca::local_ca_path;
use keyconsole::kms::{CreateKey, Kms, SharedKms, SystemClock};
use keyconsole::testing::{FAST_KDF, FakeClipboard, FakeDialogs, START, TestClock};
use keyconsole::ui::{AppEnvironment, KeyconsoleApp};
use keyconsole::util::i18n::Language;

/// The password typed into the console (the keystores here are made with it).
pub const PASSWORD: &str = "console test password 7";

pub struct Console {
    pub harness: Harness<'static, KeyconsoleApp>,
    pub clipboard: FakeClipboard,
    pub dialogs: FakeDialogs,
    pub clock: Arc<TestClock>,
    pub dir: tempfile::TempDir,
    pub path: PathBuf,
    /// The team's server the console is connected to (`Console::connected`).
    pub server: Option<TeamServer>,
}

/// A team's `keyconsole serve --tls`, in this process: its own keystore, the local CA's HTTPS and
/// its API credential. The console reaches it only over HTTPS, as it would another machine.
pub struct TeamServer {
    pub kms: SharedKms,
    pub api: Option<ApiServer>,
    pub ca_file: PathBuf,
    /// The server's keystore file.
    pub path: PathBuf,
    pub secret_id: String,
    pub secret_key: String,
    _dir: tempfile::TempDir,
}

impl TeamServer {
    /// A server on a keystore holding `aliases`. Its engine keeps real time: clients sign with it.
    pub fn start(aliases: &[&str]) -> TeamServer {
        let dir = tempfile::tempdir().unwrap();
        let path = keystore_with(dir.path(), TestClock::new(START), aliases);
        let kms = Kms::open_with_clock(&path, PASSWORD.as_bytes(), Arc::new(SystemClock)).unwrap();
        let kms = SharedKms::new(kms);
        let credentials = kms.api_credentials().unwrap();
        let identity = kms
            .issue_server_identity(&["127.0.0.1".to_owned()])
            .unwrap();
        let config = ServerConfig {
            tls: Some(tls::from_identity(&identity).unwrap()),
            ..ServerConfig::loopback("127.0.0.1:0".parse().unwrap())
        };
        let api = ApiServer::start(kms.clone(), &config, Arc::new(AccessLog::new(100))).unwrap();
        TeamServer {
            ca_file: local_ca_path(&path),
            path: path.clone(),
            secret_id: credentials.secret_id.clone(),
            secret_key: credentials.secret_key.to_string(),
            kms,
            api: Some(api),
            _dir: dir,
        }
    }

    pub fn url(&self) -> String {
        self.api.as_ref().map(ApiServer::url).unwrap_or_default()
    }
}

impl Drop for TeamServer {
    fn drop(&mut self) {
        if let Some(api) = self.api.take() {
            api.stop();
        }
    }
}

/// A keystore with the given aliases (cheap KDF), made through the engine before the app starts.
pub fn keystore_with(dir: &Path, clock: Arc<TestClock>, aliases: &[&str]) -> PathBuf {
    let path = dir.join("keystore.kcks");
    let kms = Kms::create_with_clock(&path, PASSWORD.as_bytes(), FAST_KDF, clock.clone()).unwrap();
    for alias in aliases {
        kms.create_key(CreateKey {
            alias: (*alias).to_owned(),
            ..CreateKey::default()
        })
        .unwrap();
        clock.advance(60);
    }
    path
}

impl Console {
    /// The app on a keystore holding `aliases` (none: no keystore file yet), still locked.
    pub fn start(aliases: Option<&[&str]>) -> Console {
        let dir = tempfile::tempdir().unwrap();
        let clock = TestClock::new(START);
        let path = match aliases {
            Some(aliases) => keystore_with(dir.path(), clock.clone(), aliases),
            None => dir.path().join("keystore.kcks"),
        };
        Self::start_at(dir, path, clock)
    }

    pub fn start_at(dir: tempfile::TempDir, path: PathBuf, clock: Arc<TestClock>) -> Console {
        Self::build(dir, path, clock, true, Language::English)
    }

    /// As `start`, on a system whose locale asks for `language`.
    pub fn start_in(language: Language, aliases: Option<&[&str]>) -> Console {
        let dir = tempfile::tempdir().unwrap();
        let clock = TestClock::new(START);
        let path = match aliases {
            Some(aliases) => keystore_with(dir.path(), clock.clone(), aliases),
            None => dir.path().join("keystore.kcks"),
        };
        Self::build(dir, path, clock, true, language)
    }

    /// As `start_at`, without egui_kittest's check that every input has an accessible name: for
    /// the snapshot of keyconsole's own file dialog, whose path and name fields (egui_file's)
    /// have none. Every other screen keeps the check.
    pub fn start_without_accessibility_check(
        dir: tempfile::TempDir,
        path: PathBuf,
        clock: Arc<TestClock>,
    ) -> Console {
        Self::build(dir, path, clock, false, Language::English)
    }

    fn build(
        dir: tempfile::TempDir,
        path: PathBuf,
        clock: Arc<TestClock>,
        accessibility_check: bool,
        system_language: Language,
    ) -> Console {
        let clipboard = FakeClipboard::default();
        let dialogs = FakeDialogs::default();
        let env = AppEnvironment {
            clipboard: Box::new(clipboard.clone()),
            dialogs: Box::new(dialogs.clone()),
            clock: clock.clone(),
            system_language,
        };
        let app_path = path.clone();
        let mut harness = Harness::builder()
            .with_size(egui::vec2(1280.0, 800.0))
            .with_accessibility_check(accessibility_check)
            .build_eframe(move |cc| KeyconsoleApp::new(cc, env, Some(app_path)));
        harness.run_steps(2);
        Console {
            harness,
            clipboard,
            dialogs,
            clock,
            dir,
            path,
            server: None,
        }
    }

    /// A console connected to a team's server holding `aliases`, through the unlock screen's
    /// *Connect to a server* form; this machine has no keystore.
    pub fn connected(aliases: &[&str]) -> Console {
        let server = TeamServer::start(aliases);
        let (secret_id, secret_key) = (server.secret_id.clone(), server.secret_key.clone());
        Self::connect(server, &secret_id, &secret_key)
    }

    /// A console connected to a team's server holding `aliases` with the credentials of a user
    /// the server's owner made: `policy` is given the server's KeyIds by alias.
    pub fn connected_as(
        aliases: &[&str],
        user: &str,
        policy: impl FnOnce(&dyn Fn(&str) -> String) -> keyconsole_kms::policy::Policy,
    ) -> Console {
        let server = TeamServer::start(aliases);
        let key_id = |alias: &str| server.kms.describe_key(alias).unwrap().key_id;
        let credentials = server.kms.create_user(user, policy(&key_id)).unwrap();
        let secret_key = credentials.secret_key.to_string();
        Self::connect(server, &credentials.secret_id, &secret_key)
    }

    fn connect(server: TeamServer, secret_id: &str, secret_key: &str) -> Console {
        let mut console = Self::start(None);
        console.click("Connect to a server");
        console.type_into("Endpoint", &server.url());
        console.type_into("SecretId", secret_id);
        console.type_into("SecretKey", secret_key);
        console.type_into("CA certificate", server.ca_file.to_str().unwrap());
        console.click("Connect");
        console.wait_until("the console to connect", |c| !c.app().is_locked());
        console.server = Some(server);
        console
    }

    /// An unlocked console on a keystore holding `aliases`.
    pub fn unlocked(aliases: &[&str]) -> Console {
        let mut console = Self::start(Some(aliases));
        console.type_into("Password", PASSWORD);
        console.click("Unlock");
        console.wait_until("the console to unlock", |c| !c.app().is_locked());
        console
    }

    pub fn app(&self) -> &KeyconsoleApp {
        self.harness.state()
    }

    /// Whether the console manages a team's server.
    pub fn is_remote(&self) -> bool {
        self.server.is_some()
    }

    /// The keystore the console manages: its own, or the team server's.
    pub fn managed_keystore(&self) -> &Path {
        match &self.server {
            Some(server) => &server.path,
            None => &self.path,
        }
    }

    /// The engine the console manages: its own keystore's, or the team server's.
    pub fn kms(&self) -> &Kms {
        match &self.server {
            Some(server) => &server.kms,
            None => self.app().kms().expect("the console is unlocked"),
        }
    }

    /// Steps until `done` holds (the KDF runs on a worker thread); fails after 20 s.
    pub fn wait_until(&mut self, what: &str, done: impl Fn(&Console) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !done(self) {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            self.harness.step();
            std::thread::sleep(Duration::from_millis(10));
        }
        self.settle();
    }

    /// Runs frames until the console's worker has answered every call and the UI is still
    /// (ignoring the console's timed repaints); fails after 20 s.
    pub fn settle(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        // An answer may ask for more (a new selection's details): idle for a few frames in a row.
        let mut idle_frames = 0;
        while idle_frames < 3 {
            self.harness.step();
            if self.app().is_busy() {
                idle_frames = 0;
                assert!(
                    Instant::now() < deadline,
                    "timed out waiting for the console's worker"
                );
                std::thread::sleep(Duration::from_millis(2));
            } else {
                idle_frames += 1;
            }
        }
        for _ in 0..4 {
            self.harness.step();
        }
    }

    pub fn click(&mut self, label: &str) {
        self.harness.get_by_label(label).click();
        self.settle();
    }

    /// Opens the combo box named `combo` and picks `option` in it.
    pub fn choose(&mut self, combo: &str, option: &str) {
        self.harness
            .get_by_role_and_label(Role::ComboBox, combo)
            .click();
        self.settle();
        self.harness
            .get_by_role_and_label(Role::Button, option)
            .click();
        self.settle();
    }

    /// The text field labelled `label` (a column header or a caption of the same text is not it).
    pub fn field<'a>(&'a self, label: &'a str) -> egui_kittest::Node<'a> {
        let mut fields = self.harness.query_all_by(|node| {
            matches!(
                node.role(),
                Role::TextInput | Role::MultilineTextInput | Role::PasswordInput
            ) && node.label().as_deref() == Some(label)
        });
        let field = fields
            .next()
            .unwrap_or_else(|| panic!("no text field labelled {label:?}"));
        assert!(
            fields.next().is_none(),
            "two text fields labelled {label:?}"
        );
        field
    }

    pub fn type_into(&mut self, label: &str, text: &str) {
        self.field(label).focus();
        self.harness.step();
        self.field(label).type_text(text);
        self.settle();
    }

    /// Selects all text in the field and types over it.
    pub fn replace_in(&mut self, label: &str, text: &str) {
        self.field(label).focus();
        self.harness.step();
        self.harness
            .key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
        self.harness.step();
        if text.is_empty() {
            self.harness.key_press(egui::Key::Backspace);
        } else {
            self.field(label).type_text(text);
        }
        self.settle();
    }

    pub fn shows(&self, text: &str) -> bool {
        self.harness
            .query_all_by_label_contains(text)
            .next()
            .is_some()
    }

    /// Whether some text field (a snippet, say) holds `text`.
    pub fn field_holds(&self, text: &str) -> bool {
        let holds = egui_kittest::kittest::by()
            .predicate(move |node| node.value().is_some_and(|v| v.contains(text)));
        self.harness.query_all(holds).next().is_some()
    }

    /// What the console's engine decrypts `blob` to (no encryption context).
    pub fn plaintext_of(&self, blob: &str) -> Vec<u8> {
        self.kms()
            .decrypt(blob, &keyconsole::kms::CanonicalContext::none())
            .unwrap()
            .plaintext
            .to_vec()
    }

    /// Every label and value a screen reader would find on the screen now.
    pub fn texts(&self) -> Vec<String> {
        self.harness
            .query_all_by(|_| true)
            .flat_map(|node| {
                let node = node.accesskit_node();
                [node.label(), node.value()]
            })
            .flatten()
            .collect()
    }

    /// Whether the widget labelled `label` takes input now (a running job disables some).
    pub fn enabled(&self, label: &str) -> bool {
        !self
            .harness
            .get_by_label(label)
            .accesskit_node()
            .is_disabled()
    }

    /// The tooltip a disabled widget labelled `label` shows when hovered.
    pub fn disabled_reason(&mut self, label: &str) -> Vec<String> {
        assert!(!self.enabled(label), "{label} is disabled");
        let before = self.texts();
        self.harness.get_by_label(label).hover();
        self.settle();
        self.texts()
            .into_iter()
            .filter(|text| !before.contains(text))
            .collect()
    }

    pub fn value_of(&self, label: &str) -> String {
        self.field(label).value().unwrap_or_default()
    }

    pub fn shortcut(&mut self, key: egui::Key) {
        self.harness
            .key_press_modifiers(egui::Modifiers::COMMAND, key);
        self.settle();
    }
}
