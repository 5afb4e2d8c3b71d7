//! Speed of the engine and the keystore: Encrypt/Decrypt of 4 KB, saving and unlocking 10,000 keys.
//! Run: `cargo bench --bench engine`. Figures go in the README; tests never assert on time.

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use keyconsole::crypto::random_key;
use keyconsole::kms::{
    CanonicalContext, CreateKey, KeyOrigin, KeyRecord, KeyState, KeyUsage, KeyVersion, Kms,
};
use keyconsole::store::{Store, kdf};
use keyconsole::util::ZeroizingWriter;

const PASSWORD: &[u8] = b"benchmark password";

/// Writes a keystore of `n` keys in one save, with the default (production) KDF.
fn keystore_with_keys(path: &Path, n: usize) {
    let now = 1_800_000_000;
    let keys: Vec<KeyRecord> = (0..n)
        .map(|i| KeyRecord {
            key_id: uuid::Uuid::new_v4(),
            alias: format!("app-{i:05}"),
            description: format!("key number {i} for the benchmark"),
            state: KeyState::Enabled,
            usage: KeyUsage::EncryptDecrypt,
            origin: KeyOrigin::Generated,
            create_time: now + i as i64,
            rotation_enabled: i % 2 == 0,
            rotate_days: 365,
            last_rotate_time: 0,
            next_rotate_time: if i % 2 == 0 { now + 365 * 86_400 } else { 0 },
            deletion_date: 0,
            versions: vec![KeyVersion::new(random_key(), now)],
        })
        .collect();
    let mut body = ZeroizingWriter::with_capacity(n * 512);
    serde_json::to_writer(&mut body, &serde_json::json!({ "keys": keys })).unwrap();
    Store::create(path, PASSWORD, kdf::DEFAULT_PARAMS, body.into_inner()).unwrap();
}

fn encrypt_decrypt(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bench.kcks");
    let kms = Kms::create(&path, PASSWORD, kdf::DEFAULT_PARAMS).unwrap();
    kms.create_key(CreateKey {
        alias: "bench".into(),
        ..CreateKey::default()
    })
    .unwrap();
    let plaintext = vec![0x5a; 4096];
    let context = CanonicalContext::none();
    let blob = kms
        .encrypt("bench", &plaintext, &context)
        .unwrap()
        .ciphertext_blob;
    let mut group = c.benchmark_group("small data");
    group.throughput(criterion::Throughput::Bytes(4096));
    group.bench_function("encrypt 4 KB", |b| {
        b.iter(|| {
            kms.encrypt(black_box("bench"), black_box(&plaintext), &context)
                .unwrap()
        })
    });
    group.bench_function("decrypt 4 KB", |b| {
        b.iter(|| kms.decrypt(black_box(&blob), &context).unwrap())
    });
    group.finish();
}

fn keystore_10k(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.kcks");
    keystore_with_keys(&path, 10_000);
    let mut group = c.benchmark_group("keystore of 10,000 keys");
    group.sample_size(20);
    group.bench_function("unlock (Argon2id 64 MiB t=3, then open)", |b| {
        b.iter(|| Kms::open(&path, PASSWORD).unwrap())
    });
    let kms = Kms::open(&path, PASSWORD).unwrap();
    let mut n = 0u64;
    group.bench_function(
        "save one change (lock, seal, fsync, rename, backups)",
        |b| {
            b.iter(|| {
                n += 1;
                kms.update_description("app-00042", &format!("edit {n}"))
                    .unwrap()
            })
        },
    );
    group.finish();
    println!(
        "keystore file: {} bytes",
        std::fs::metadata(&path).unwrap().len()
    );
}

criterion_group!(benches, encrypt_decrypt, keystore_10k);
criterion_main!(benches);
