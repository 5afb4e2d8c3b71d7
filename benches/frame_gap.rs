//! The longest gap between two frames of the console while work that waits goes on: (a) another
//! process holds the keystore's lock for 5 s while the console disables a key; (b) the console
//! disables a key in a 50,000-key keystore (the save writes every key); (c) a database rotation runs
//! against a server that holds its `SET PASSWORD` for 4 s (needs MariaDB: scripts/test.sh installs
//! it; skipped without). Goal: no gap over 50 ms. Run: `cargo bench --bench frame_gap`.
//!
//! Frames are stepped through egui_kittest back to back (layout, tessellation, AccessKit; no GPU),
//! so a gap is the time one frame took: a frame that waits for the lock shows as a gap of seconds.
//! Only the console's public face is used (labels, the engine's state), so the same file measures
//! an older build for a before/after.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable};
use keyconsole::kms::{KeyState, Kms, SystemClock};
use keyconsole::store::KdfParams;
use keyconsole::testing::{FakeClipboard, FakeDialogs, keystore_with_keys};
use keyconsole::ui::{AppEnvironment, KeyconsoleApp};

const PASSWORD: &str = "benchmark password";
const KDF: KdfParams = KdfParams {
    memory_kib: 256,
    iterations: 1,
    parallelism: 1,
};

/// `n` enabled keys, `app-00000` oldest, written in one save (cheap KDF).
fn keystore(path: &Path, n: usize) {
    keystore_with_keys(path, PASSWORD.as_bytes(), KDF, n);
}

/// Frames stepped back to back, and the longest one.
struct Frames {
    harness: Harness<'static, KeyconsoleApp>,
    longest: Duration,
    count: usize,
}

impl Frames {
    fn step(&mut self) {
        let started = Instant::now();
        self.harness.step();
        self.longest = self.longest.max(started.elapsed());
        self.count += 1;
    }

    /// Steps until `done` holds (or `limit` passed).
    fn until(&mut self, limit: Duration, done: impl Fn(&KeyconsoleApp) -> bool) -> bool {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            self.step();
            if done(self.harness.state()) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        false
    }

    /// Steps until what is drawn satisfies `drawn` (or `limit` passed).
    fn until_drawn(
        &mut self,
        limit: Duration,
        drawn: impl Fn(&Harness<'static, KeyconsoleApp>) -> bool,
    ) -> bool {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            self.step();
            if drawn(&self.harness) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        false
    }

    fn click(&mut self, label: &str) {
        self.harness.get_by_label(label).click();
        self.step();
    }
}

/// Whether some text on screen (a label or a value) contains `needle`.
fn on_screen(harness: &Harness<'static, KeyconsoleApp>, needle: &str) -> bool {
    harness.query_all_by(|_| true).any(|n| {
        let node = n.accesskit_node();
        node.label().is_some_and(|l| l.contains(needle))
            || node.value().is_some_and(|v| v.contains(needle))
    })
}

/// The newest of `n` keys made by `keystore`: the key list's first row.
fn newest(n: usize) -> String {
    format!("app-{:05}", n - 1)
}

/// The console unlocked on `path` (whose keys `keystore` made, `n` of them), with the key list
/// drawn; the gaps count from here.
fn unlocked(path: PathBuf, n: usize) -> Frames {
    let env = AppEnvironment {
        clipboard: Box::new(FakeClipboard::default()),
        dialogs: Box::new(FakeDialogs::default()),
        clock: Arc::new(SystemClock),
        system_language: keyconsole::util::i18n::Language::English,
    };
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .build_eframe(move |cc| KeyconsoleApp::new(cc, env, Some(path)));
    harness.step();
    harness.get_by_label("Password").focus();
    harness.step();
    harness.get_by_label("Password").type_text(PASSWORD);
    harness.step();
    harness.get_by_label("Unlock").click();
    let mut frames = Frames {
        harness,
        longest: Duration::ZERO,
        count: 0,
    };
    assert!(
        frames.until(Duration::from_secs(60), |app| !app.is_locked()),
        "unlock"
    );
    let first_row = format!("Select {}", newest(n));
    let shown = |frames: &Frames| frames.harness.query_by_label_contains(&first_row).is_some();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !shown(&frames) {
        assert!(Instant::now() < deadline, "the key list never showed");
        frames.step();
        std::thread::sleep(Duration::from_millis(1));
    }
    frames.longest = Duration::ZERO;
    frames.count = 0;
    frames
}

fn state(app: &KeyconsoleApp, alias: &str) -> Option<KeyState> {
    app.kms()?.describe_key(alias).ok().map(|k| k.key_state)
}

fn report(name: &str, frames: &Frames, done: bool) {
    println!(
        "{name}: longest gap {:.1} ms over {} frames{}",
        frames.longest.as_secs_f64() * 1e3,
        frames.count,
        if done {
            ""
        } else {
            " (the change did not finish)"
        }
    );
}

/// The measured run (`cargo bench`), or a quick one that only shows it works (`cargo test`).
struct Sizes {
    lock_held: Duration,
    big_keystore: usize,
    database_hold: Duration,
    audit_events: usize,
}

/// (a) Another process holds the lock for 5 s while the console disables a key.
fn lock_held_elsewhere(sizes: &Sizes) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k.kcks");
    keystore(&path, 100);
    let mut frames = unlocked(path.clone(), 100);
    let key = newest(100);
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(keyconsole::store::lock::lock_path(&path))
        .unwrap();
    lock.lock().unwrap();
    let held = sizes.lock_held;
    let holder = std::thread::spawn(move || {
        std::thread::sleep(held);
        drop(lock);
    });
    frames.click(&format!("Disable {key}"));
    // Disabling asks first.
    frames.step();
    frames.click("Disable key");
    let done = frames.until(Duration::from_secs(20), |app| {
        state(app, &key) == Some(KeyState::Disabled)
    });
    holder.join().unwrap();
    report(
        &format!(
            "(a) lock held by another process for {} s",
            sizes.lock_held.as_secs_f64()
        ),
        &frames,
        done,
    );
}

/// (b) A change saves a 50,000-key keystore.
fn big_save(sizes: &Sizes) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.kcks");
    keystore(&path, sizes.big_keystore);
    let mut frames = unlocked(path, sizes.big_keystore);
    let key = newest(sizes.big_keystore);
    frames.click(&format!("Disable {key}"));
    // Disabling asks first.
    frames.step();
    frames.click("Disable key");
    let done = frames.until(Duration::from_secs(60), |app| {
        state(app, &key) == Some(KeyState::Disabled)
    });
    // And the list shows it (the new snapshot reached the page).
    let deadline = Instant::now() + Duration::from_secs(30);
    while frames
        .harness
        .query_by_label_contains(&format!("Enable {key}"))
        .is_none()
        && Instant::now() < deadline
    {
        frames.step();
        std::thread::sleep(Duration::from_millis(1));
    }
    report(
        &format!("(b) a change saving {} keys", sizes.big_keystore),
        &frames,
        done,
    );
}

/// (c) A database rotation against a server that holds `SET PASSWORD` for 4 s.
fn slow_rotation(sizes: &Sizes) {
    use keyconsole::kms::secrets::CreateDatabaseSecret;
    use keyconsole::testing::database::{DelayingProxy, PrivateDatabase};
    use keyconsole::util::database::DbEngine;
    let database = match PrivateDatabase::start(DbEngine::MySql) {
        Ok(database) => database,
        Err(why) => {
            println!("(c) skipped: no MariaDB here ({why})");
            return;
        }
    };
    database.create_user("orders", "first password 1").unwrap();
    let proxy = DelayingProxy::start(database.port, b"SET PASSWORD", sizes.database_hold);
    let mut endpoint = database.endpoint("orders");
    endpoint.port = proxy.port;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.kcks");
    keystore(&path, 10);
    {
        let kms = Kms::open_with_clock(&path, PASSWORD.as_bytes(), Arc::new(SystemClock)).unwrap();
        kms.create_database_secret(CreateDatabaseSecret {
            name: "orders-db".into(),
            description: String::new(),
            key: None,
            endpoint,
            password: "first password 1".to_owned().into(),
            rotate_days: None,
        })
        .unwrap();
    }
    let mut frames = unlocked(path, 10);
    frames.click("Secrets");
    frames.until(Duration::from_secs(1), |_| false);
    frames.click("orders-db");
    frames.until(Duration::from_secs(1), |_| false);
    frames.click("🔄 Rotate now");
    // Rotating asks first.
    frames.step();
    frames.click("Rotate now");
    let done = frames.until(Duration::from_secs(30), |app| {
        app.notifications()
            .items()
            .iter()
            .any(|n| n.text.contains("Rotated secret orders-db"))
    });
    report(
        &format!(
            "(c) a rotation whose SET PASSWORD waits {} s",
            sizes.database_hold.as_secs_f64()
        ),
        &frames,
        done,
    );
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --all-targets` runs a small version once.
    let sizes = if std::env::args().any(|a| a == "--bench") {
        Sizes {
            lock_held: Duration::from_secs(5),
            big_keystore: 50_000,
            database_hold: Duration::from_secs(4),
            audit_events: 100_000,
        }
    } else {
        Sizes {
            lock_held: Duration::from_millis(300),
            big_keystore: 200,
            database_hold: Duration::from_millis(300),
            audit_events: 500,
        }
    };
    lock_held_elsewhere(&sizes);
    big_save(&sizes);
    slow_rotation(&sizes);
    audit_page(&sizes);
}

/// (d) The Audit page over a trail of 100,000 events: read, scrolled from top to bottom by the
/// wheel, and filtered by typing (the filtering runs on the worker).
fn audit_page(sizes: &Sizes) {
    use keyconsole::kms::service::{Caller, Face, KmsService};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audited.kcks");
    keystore(&path, 3);
    {
        let kms = Kms::open(&path, PASSWORD.as_bytes()).unwrap();
        let caller = Caller::local(Face::Cli, keyconsole::util::i18n::Language::English);
        for _ in 0..sizes.audit_events {
            KmsService::describe_key(&kms, &caller, "app-00001").unwrap();
        }
    }
    let mut frames = unlocked(path, 3);
    frames.click("Audit");
    let read = frames.until_drawn(Duration::from_secs(120), |h| {
        h.query_all_by_label_contains("DescribeKey")
            .next()
            .is_some()
    });
    report("(d) the Audit page reading its events", &frames, read);
    frames.longest = Duration::ZERO;
    frames.count = 0;
    // Over the table, then 400 wheel turns: more than every row of 100,000 (a row and its
    // spacing are under 30 points).
    frames.harness.hover_at(egui::pos2(640.0, 500.0));
    for _ in 0..400 {
        frames.harness.event(egui::Event::MouseWheel {
            unit: egui::MouseWheelUnit::Point,
            delta: egui::vec2(0.0, -(sizes.audit_events as f32 * 30.0 / 400.0)),
            phase: egui::TouchPhase::Move,
            source: egui::MouseWheelSource::Unknown,
            modifiers: egui::Modifiers::NONE,
        });
        frames.step();
    }
    // The oldest rows are in view: event 3's number is drawn.
    let bottom = frames.harness.query_all_by(|_| true).any(|n| {
        let node = n.accesskit_node();
        node.label().as_deref() == Some("3") || node.value().as_deref() == Some("3")
    });
    let numbers: Vec<String> = frames
        .harness
        .query_all_by(|_| true)
        .filter_map(|n| n.accesskit_node().value().or(n.accesskit_node().label()))
        .filter(|t| t.parse::<u64>().is_ok())
        .take(5)
        .collect();
    println!("(d) event numbers in view at the end: {numbers:?}");
    report(
        "(d) the Audit page scrolled through every row",
        &frames,
        bottom,
    );
    frames.longest = Duration::ZERO;
    frames.count = 0;
    frames.harness.get_by_label("Search").focus();
    frames.step();
    frames.harness.get_by_label("Search").type_text("ListKeys");
    let filtered = frames.until_drawn(Duration::from_secs(30), |h| {
        !on_screen(h, "DescribeKey") && on_screen(h, "ListKeys")
    });
    report("(d) the Audit page filtered by typing", &frames, filtered);
}
