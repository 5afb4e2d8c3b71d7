//! Speed of the console with 100,000 keys: a frame of the key list, a search over all keys, and the
//! first frame after start (before unlock). Run: `cargo bench --bench console`.
//!
//! Frames are measured through egui_kittest: layout, tessellation and the AccessKit tree (which the
//! real app builds only when a screen reader asks), without the GPU upload.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use keyconsole::crypto::random_key;
use keyconsole::kms::{
    Caller, Face, KeyIndex, KeyOrigin, KeyQuery, KeyRecord, KeyState, KeyUsage, KeyVersion,
    KmsService, SystemClock,
};
use keyconsole::store::{KdfParams, Store};
use keyconsole::testing::{FakeClipboard, FakeDialogs};
use keyconsole::ui::{AppEnvironment, KeyconsoleApp};
use keyconsole::util::ZeroizingWriter;

const PASSWORD: &str = "benchmark password";
const KEYS: usize = 100_000;

fn keystore(path: &Path, n: usize) {
    let now = 1_800_000_000;
    let states = [
        KeyState::Enabled,
        KeyState::Enabled,
        KeyState::Disabled,
        KeyState::Archived,
    ];
    let keys: Vec<KeyRecord> = (0..n)
        .map(|i| KeyRecord {
            key_id: uuid::Uuid::new_v4(),
            alias: format!("app-{i:06}"),
            description: String::new(),
            state: states[i % states.len()],
            usage: KeyUsage::EncryptDecrypt,
            spec: Default::default(),
            origin: KeyOrigin::Generated,
            create_time: now + i as i64,
            rotation_enabled: false,
            rotate_days: 365,
            last_rotate_time: 0,
            next_rotate_time: 0,
            deletion_date: 0,
            versions: vec![KeyVersion::new(&*random_key(), now)],
            tags: Vec::new(),
            owner: Default::default(),
            import: None,
        })
        .collect();
    let mut body = ZeroizingWriter::with_capacity(n * 400);
    serde_json::to_writer(&mut body, &serde_json::json!({ "keys": keys })).unwrap();
    // A cheap KDF: unlocking is measured by the engine benchmark; this one measures frames.
    let kdf = KdfParams {
        memory_kib: 256,
        iterations: 1,
        parallelism: 1,
    };
    Store::create(path, PASSWORD.as_bytes(), kdf, body.into_inner().into()).unwrap();
}

fn app(path: PathBuf) -> Harness<'static, KeyconsoleApp> {
    let env = AppEnvironment {
        clipboard: Box::new(FakeClipboard::default()),
        dialogs: Box::new(FakeDialogs::default()),
        clock: Arc::new(SystemClock),
        system_language: keyconsole::util::i18n::Language::English,
    };
    Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .build_eframe(move |cc| KeyconsoleApp::new(cc, env, Some(path)))
}

fn unlocked(path: PathBuf) -> Harness<'static, KeyconsoleApp> {
    let mut harness = app(path);
    harness.step();
    harness.get_by_label("Password").focus();
    harness.step();
    harness.get_by_label("Password").type_text(PASSWORD);
    harness.step();
    harness.get_by_label("Unlock").click();
    let deadline = Instant::now() + Duration::from_secs(60);
    while harness.state().is_locked() {
        assert!(Instant::now() < deadline, "unlock timed out");
        harness.step();
        std::thread::sleep(Duration::from_millis(5));
    }
    // The key list draws once the worker's first snapshot (the key index) arrived.
    while harness
        .query_by_label_contains("100000 of 100000 keys")
        .is_none()
    {
        assert!(Instant::now() < deadline, "the key list never showed");
        harness.step();
        std::thread::sleep(Duration::from_millis(5));
    }
    for _ in 0..5 {
        harness.step();
    }
    harness
}

fn console(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("100k.kcks");
    keystore(&path, KEYS);

    let mut group = c.benchmark_group("console with 100,000 keys");
    group.sample_size(30);

    let mut harness = unlocked(path.clone());
    assert!(
        harness
            .query_by_label_contains("100000 of 100000 keys")
            .is_some()
    );
    group.bench_function("key list frame", |b| b.iter(|| harness.step()));

    let kms = harness.state().kms().unwrap();
    // What the key list's rows are computed from: the snapshot index, built once per keyring
    // (measured here by building it from a keyring no index was made of).
    let caller = Caller::local(Face::Console, keyconsole::util::i18n::Language::English);
    let index = KmsService::key_index(kms, &caller).unwrap();
    group.bench_function("key index, built from 100,000 keys", |b| {
        b.iter(|| {
            black_box(KeyIndex::new(
                kms.keys().iter().map(KeyRecord::metadata).collect(),
            ))
        })
    });
    for (name, text) in [
        ("key list search, 1 match", "app-099999"),
        ("key list search, 11,111 matches", "app-01"),
    ] {
        let query = KeyQuery {
            search: Some(text.into()),
            ..KeyQuery::default()
        };
        group.bench_function(name, |b| b.iter(|| black_box(index.matching(&query))));
    }
    for (name, text) in [
        ("search, 1 match", "app-099999"),
        ("search, 11,111 matches", "app-01"),
        ("search by KeyId fragment", "4a2"),
    ] {
        let query = KeyQuery {
            search: Some(text.into()),
            ..KeyQuery::default()
        };
        group.bench_function(name, |b| {
            b.iter(|| black_box(kms.keys().matching(&query).unwrap()))
        });
    }
    let filter = KeyQuery {
        state: Some(KeyState::Disabled).into(),
        ..KeyQuery::default()
    };
    group.bench_function("filter by state", |b| {
        b.iter(|| black_box(kms.keys().matching(&filter).unwrap()))
    });
    drop(harness);

    group.bench_function("first frame after start (before unlock)", |b| {
        b.iter(|| {
            let mut harness = app(path.clone());
            harness.step();
            harness
        })
    });
    group.finish();
}

criterion_group!(benches, console);
criterion_main!(benches);
