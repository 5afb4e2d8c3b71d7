//! Speed of the engine and the keystore: Encrypt/Decrypt of 4 KB, saving and unlocking 10,000 keys.
//! Run: `cargo bench --bench engine`. Figures go in the README; tests never assert on time.

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use keyconsole::kms::{CanonicalContext, CreateKey, Kms};
use keyconsole::store::kdf;

const PASSWORD: &[u8] = b"benchmark password";

/// A keystore of `n` keys in one save, with the default (production) KDF.
fn keystore_with_keys(path: &Path, n: usize) {
    keyconsole::testing::keystore_with_keys(path, PASSWORD, kdf::DEFAULT_PARAMS, n);
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

/// Sign and verify of a 1 KB message with each kind of signing key, in-process (the engine's path:
/// find the key, check its state and the algorithm, hash, sign). Compare with `openssl speed`.
fn key_pairs(c: &mut Criterion) {
    use keyconsole::kms::MessageType;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pairs.kcks");
    let kms = Kms::create(&path, PASSWORD, kdf::DEFAULT_PARAMS).unwrap();
    let message = vec![0x5a; 1024];
    let mut group = c.benchmark_group("key pairs, 1 KB message");
    for (usage, algorithm) in [
        ("ASYMMETRIC_SIGN_VERIFY_RSA_2048", "RSA_PSS_SHA_256"),
        ("ASYMMETRIC_SIGN_VERIFY_ECC", "ECC_P256_R1"),
        ("ASYMMETRIC_SIGN_VERIFY_ECDSA384", "ECDSA384"),
        ("ASYMMETRIC_SIGN_VERIFY_SM2", "SM2DSA"),
    ] {
        kms.create_key(CreateKey {
            alias: algorithm.into(),
            key_usage: Some(usage.into()),
            ..CreateKey::default()
        })
        .unwrap();
        let signature = kms
            .sign(algorithm, algorithm, MessageType::Raw, &message)
            .unwrap();
        group.bench_function(format!("sign {algorithm}"), |b| {
            b.iter(|| {
                kms.sign(black_box(algorithm), algorithm, MessageType::Raw, &message)
                    .unwrap()
            })
        });
        group.bench_function(format!("verify {algorithm}"), |b| {
            b.iter(|| {
                assert!(
                    kms.verify(
                        black_box(algorithm),
                        algorithm,
                        MessageType::Raw,
                        &message,
                        &signature
                    )
                    .unwrap()
                )
            })
        });
    }
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

criterion_group!(benches, encrypt_decrypt, key_pairs, keystore_10k);
criterion_main!(benches);
