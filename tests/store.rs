//! The keystore file: passwords, damage, hostile headers, backups, locking, crashes, and secrets on disk.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use keyconsole::kms::{CanonicalContext, ErrorCode, Kms, KmsError};
use keyconsole::store::format::{HEADER_LEN, Header};
use keyconsole::store::{KdfParams, lock, save};
use keyconsole::testing::{FAST_KDF, PASSWORD, TestKeystore, all_files, contains, create};

fn open_code(path: &std::path::Path, password: &[u8]) -> Option<ErrorCode> {
    Kms::open(path, password).err().map(|e| e.code)
}

#[test]
fn wrong_password_and_damaged_file_are_told_apart() {
    let (ks, kms) = TestKeystore::new();
    create(&kms, "k");
    assert_eq!(
        open_code(&ks.path, b"wrong"),
        Some(ErrorCode::WrongPassword)
    );
    assert_eq!(open_code(&ks.path, PASSWORD), None);
    let good = std::fs::read(&ks.path).unwrap();

    // Every single-bit flip anywhere in the file: damaged, never "wrong password", never opened.
    for bit in 0..good.len() * 8 {
        let mut bad = good.clone();
        bad[bit / 8] ^= 1 << (bit % 8);
        std::fs::write(&ks.path, &bad).unwrap();
        assert_eq!(
            open_code(&ks.path, PASSWORD),
            Some(ErrorCode::KeystoreDamaged),
            "bit {bit}"
        );
    }
    for len in 0..good.len() {
        std::fs::write(&ks.path, &good[..len]).unwrap();
        assert_eq!(
            open_code(&ks.path, PASSWORD),
            Some(ErrorCode::KeystoreDamaged),
            "truncated to {len}"
        );
    }
    std::fs::write(&ks.path, b"not a keystore at all").unwrap();
    assert_eq!(
        open_code(&ks.path, PASSWORD),
        Some(ErrorCode::KeystoreDamaged)
    );
    std::fs::remove_file(&ks.path).unwrap();
    assert_eq!(
        open_code(&ks.path, PASSWORD),
        Some(ErrorCode::KeystoreNotFound)
    );
}

#[test]
fn absurd_kdf_parameters_are_refused_before_any_work() {
    let (ks, _kms) = TestKeystore::new();
    let good = std::fs::read(&ks.path).unwrap();
    let header = Header::decode(&good).unwrap();
    let hostile = [
        KdfParams {
            memory_kib: u32::MAX,
            iterations: 3,
            parallelism: 1,
        },
        // The case: a header edited to the old caps cost 19 s and 1 GiB.
        KdfParams {
            memory_kib: 1024 * 1024,
            iterations: 20,
            parallelism: 1,
        },
        KdfParams {
            memory_kib: 256 * 1024 + 1,
            iterations: 1,
            parallelism: 1,
        },
        // Within each cap, over their product (memory × passes ≤ 768 MiB).
        KdfParams {
            memory_kib: 256 * 1024,
            iterations: 4,
            parallelism: 1,
        },
        KdfParams {
            memory_kib: 65536,
            iterations: 13,
            parallelism: 1,
        },
        KdfParams {
            memory_kib: 65536,
            iterations: 1_000_000,
            parallelism: 1,
        },
        KdfParams {
            memory_kib: 65536,
            iterations: 3,
            parallelism: 100_000,
        },
        KdfParams {
            memory_kib: 65536,
            iterations: 0,
            parallelism: 1,
        },
    ];
    for kdf in hostile {
        // A well-formed header (valid hash) that asks for an absurd amount of work.
        let mut bytes = Header {
            kdf,
            ..header.clone()
        }
        .encode()
        .to_vec();
        bytes.extend_from_slice(&good[HEADER_LEN..]);
        std::fs::write(&ks.path, &bytes).unwrap();
        let error = Kms::open(&ks.path, PASSWORD).unwrap_err();
        assert_eq!(error.code, ErrorCode::KeystoreDamaged, "{kdf:?}");
        assert!(error.message.contains("KDF"), "{}", error.message);
    }
}

#[test]
fn the_default_kdf_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("default.kcks");
    let kms = Kms::create(&path, PASSWORD, keyconsole::store::kdf::DEFAULT_PARAMS).unwrap();
    create(&kms, "k");
    drop(kms);
    let header = Header::decode(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(
        header.kdf,
        KdfParams {
            memory_kib: 65536,
            iterations: 3,
            parallelism: 1
        }
    );
    assert_eq!(Kms::open(&path, PASSWORD).unwrap().keys().len(), 1);
}

#[test]
fn password_change_rewraps_only_the_master_key() {
    let (ks, kms) = TestKeystore::new();
    create(&kms, "k");
    let blob = kms
        .encrypt("k", b"kept", &CanonicalContext::none())
        .unwrap()
        .ciphertext_blob;
    let other_process = ks.reopen();
    assert_eq!(
        kms.change_password(b"not the password", b"new password", None)
            .unwrap_err()
            .code,
        ErrorCode::WrongPassword
    );
    kms.change_password(PASSWORD, b"new password", None)
        .unwrap();
    assert_eq!(
        open_code(&ks.path, PASSWORD),
        Some(ErrorCode::WrongPassword)
    );
    let reopened = Kms::open(&ks.path, b"new password").unwrap();
    assert_eq!(
        *reopened
            .decrypt(&blob, &CanonicalContext::none())
            .unwrap()
            .plaintext,
        b"kept"
    );
    // A process that unlocked before the change goes on working and keeps the new password.
    create(&other_process, "later");
    assert_eq!(
        Kms::open(&ks.path, b"new password").unwrap().keys().len(),
        2
    );
}

#[test]
fn three_backup_generations_are_kept() {
    let (ks, kms) = TestKeystore::new();
    for i in 0..5 {
        create(&kms, &format!("k{i}"));
    }
    let generation = |path: &std::path::Path| {
        Header::decode(&std::fs::read(path).unwrap())
            .unwrap()
            .generation
    };
    let current = generation(&ks.path);
    for n in 1..=3 {
        let backup = save::backup_path(&ks.path, n);
        assert_eq!(generation(&backup), current - u64::from(n));
        // A backup is a complete keystore: it opens with the same password.
        assert_eq!(
            Kms::open(&backup, PASSWORD).unwrap().keys().len(),
            5 - n as usize
        );
    }
    assert!(!save::backup_path(&ks.path, 4).exists());
}

#[test]
fn a_lock_held_too_long_is_a_clear_error() {
    let (ks, kms) = TestKeystore::new();
    let held = lock::acquire(&ks.path, Duration::from_secs(1)).unwrap();
    // The store's own error, as the engine reports it.
    let error = KmsError::from(lock::acquire(&ks.path, Duration::from_millis(100)).unwrap_err());
    assert_eq!(error.code, ErrorCode::KeystoreBusy);
    drop(held);
    create(&kms, "after");
}

#[test]
fn creating_over_an_existing_keystore_is_refused() {
    let (ks, _kms) = TestKeystore::new();
    let error = Kms::create(&ks.path, b"other", FAST_KDF).unwrap_err();
    assert_eq!(error.code, ErrorCode::KeystoreExists);
    assert_eq!(
        open_code(&ks.path, PASSWORD),
        None,
        "the old keystore is untouched"
    );
}

#[test]
fn no_secret_reaches_the_disk() {
    let (ks, kms) = TestKeystore::new();
    let secret = b"hunter2-db-password-0c7f";
    create(&kms, "k");
    let blob = kms
        .encrypt("k", secret, &CanonicalContext::none())
        .unwrap()
        .ciphertext_blob;
    let data_key = kms
        .generate_data_key(
            "k",
            keyconsole::kms::DataKeySpec::Aes256,
            &CanonicalContext::none(),
        )
        .unwrap();
    kms.rotate_key("k").unwrap();
    kms.change_password(PASSWORD, b"second password!", None)
        .unwrap();
    create(&kms, "k2");
    std::fs::write(ks.dir.path().join("secret.kc"), &blob).unwrap();
    drop(kms);
    let kms = Kms::open(&ks.path, b"second password!").unwrap();
    assert_eq!(
        *kms.decrypt(&blob, &CanonicalContext::none())
            .unwrap()
            .plaintext,
        secret
    );

    let mut needles: Vec<Vec<u8>> = vec![
        secret.to_vec(),
        PASSWORD.to_vec(),
        b"second password!".to_vec(),
        data_key.plaintext.to_vec(),
    ];
    for key in kms.keys().iter() {
        for version in &key.versions {
            needles.push(version.material().to_vec());
            use base64::Engine;
            needles.push(
                base64::engine::general_purpose::STANDARD
                    .encode(version.material())
                    .into_bytes(),
            );
        }
    }
    let files = all_files(ks.dir.path());
    assert!(
        files.len() >= 5,
        "keystore, backups, lock and the blob: {}",
        files.len()
    );
    for (path, bytes) in &files {
        for needle in &needles {
            assert!(
                !contains(bytes, needle),
                "{} holds a secret",
                path.display()
            );
        }
    }
}

/// The child side of the crash test: saves in a loop and reports each generation it saved.
#[test]
#[ignore = "run by crash_loop_keeps_the_last_or_previous_state"]
fn crash_child() {
    let Ok(path) = std::env::var("KC_CRASH_KEYSTORE") else {
        return;
    };
    let kms = Kms::open(std::path::Path::new(&path), PASSWORD).unwrap();
    loop {
        let n = kms.generation();
        create(&kms, &format!("g{n}"));
        println!("saved {}", kms.generation());
    }
}

#[test]
fn crash_loop_keeps_the_last_or_previous_state() {
    let (ks, kms) = TestKeystore::new();
    drop(kms);
    let iterations: u32 = std::env::var("KC_CRASH_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let mut killed_mid_save_candidates = 0;
    for round in 0..iterations {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "crash_child",
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("KC_CRASH_KEYSTORE", &ks.path)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (first_save, saved) = std::sync::mpsc::channel();
        let reader = std::thread::spawn(move || {
            let mut last = None;
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(n) = line
                    .strip_prefix("saved ")
                    .and_then(|n| n.parse::<u64>().ok())
                {
                    if last.is_none() {
                        let _ = first_save.send(());
                    }
                    last = Some(n);
                }
            }
            last
        });
        // The kill lands among saves, not in the child's start-up (whose length varies with the
        // machine's load): wait for its first save, then a random moment.
        saved
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("round {round}: the child never saved"));
        // Random moments: a pseudo-random delay from a cheap LCG over the round number.
        let delay = 5 + (u64::from(round).wrapping_mul(2_654_435_761) % 70);
        std::thread::sleep(Duration::from_millis(delay));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let last_reported = reader.join().unwrap();

        let kms = Kms::open(&ks.path, PASSWORD).unwrap_or_else(|e| panic!("round {round}: {e}"));
        let generation = kms.generation();
        if let Some(last) = last_reported {
            assert!(
                generation == last || generation == last + 1,
                "round {round}: generation {generation}, child last reported {last}"
            );
            if generation == last + 1 {
                killed_mid_save_candidates += 1;
            }
        }
        // Each save added exactly one key: the content matches the generation, nothing half-applied.
        assert_eq!(kms.keys().len() as u64, generation - 1, "round {round}");
    }
    let saves = Kms::open(&ks.path, PASSWORD).unwrap().generation();
    eprintln!(
        "{iterations} kills over {saves} saves; {killed_mid_save_candidates} landed after a save but before its report"
    );
    assert!(
        saves > u64::from(iterations),
        "the children must get to save, or the kills test nothing"
    );
}

#[test]
fn files_that_are_not_keystores_are_refused_before_they_are_read() {
    let (ks, _kms) = TestKeystore::new();
    // A device that never ends and a FIFO that never answers: refused, not read.
    for path in ["/dev/zero", "/dev/null"] {
        let error = Kms::open(Path::new(path), PASSWORD).unwrap_err();
        assert_eq!(error.code, ErrorCode::KeystoreDamaged, "{path}: {error}");
        assert!(error.message.contains("not a regular file"), "{error}");
    }
    let fifo = ks.dir.path().join("fifo.kcks");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let error = Kms::open(&fifo, PASSWORD).unwrap_err();
    assert!(error.message.contains("not a regular file"), "{error}");

    // A sparse file of 2 GB with a valid header: refused by its size, nothing allocated.
    let good = std::fs::read(&ks.path).unwrap();
    let huge = ks.dir.path().join("huge.kcks");
    let file = std::fs::File::create(&huge).unwrap();
    std::io::Write::write_all(&mut &file, &good[..HEADER_LEN]).unwrap();
    file.set_len(2_000_000_000).unwrap();
    let error = Kms::open(&huge, PASSWORD).unwrap_err();
    assert_eq!(error.code, ErrorCode::KeystoreDamaged);
    assert!(
        error.message.contains("more than a keystore can be"),
        "{error}"
    );
}

/// A keystore opened through a symbolic link: saves replace the real file (the link stays a
/// link), and a process that opened the link and one that opened the file lock the same lock
/// file and keep each other's changes.
#[test]
fn a_keystore_opened_through_a_link_is_saved_where_it_lives() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real.kcks");
    let link = dir.path().join("link.kcks");
    Kms::create(&real, PASSWORD, FAST_KDF).unwrap();
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let through_link = Kms::open(&link, PASSWORD).unwrap();
    let direct = Kms::open(&real, PASSWORD).unwrap();
    create(&through_link, "by-link");
    create(&direct, "by-file");
    create(&through_link, "by-link-again");
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink(),
        "the link is still a link"
    );
    let reopened = Kms::open(&real, PASSWORD).unwrap();
    let aliases: Vec<String> = reopened.keys().iter().map(|k| k.alias.clone()).collect();
    assert_eq!(aliases, ["by-link", "by-file", "by-link-again"]);
    assert_eq!(through_link.path(), direct.path());
    // A link to nowhere is named as such.
    let dangling = dir.path().join("dangling.kcks");
    std::os::unix::fs::symlink(dir.path().join("gone.kcks"), &dangling).unwrap();
    let e = Kms::open(&dangling, PASSWORD).unwrap_err();
    assert!(e.message.contains("leads nowhere"), "{e}");
}

/// `passwd --rekey`: a new master key seals everything anew and the backups (which the old
/// password opened) are gone, so nothing on disk opens with the old password; ciphertexts still
/// decrypt; an engine that was open elsewhere is told to unlock again instead of "damaged".
/// Plain `passwd` keeps the master key: its backups still open with the old password.
#[test]
fn rekeying_leaves_nothing_the_old_password_opens() {
    let (ks, kms) = TestKeystore::new();
    create(&kms, "k");
    let blob = kms
        .encrypt("k", b"kept across the rekey", &CanonicalContext::none())
        .unwrap()
        .ciphertext_blob;
    create(&kms, "second");
    let elsewhere = ks.reopen();
    // Plain passwd: the backups are the old files, sealed under the same master key.
    kms.change_password(PASSWORD, b"interim password", None)
        .unwrap();
    assert!(
        keyconsole::store::Store::open(&save::backup_path(&ks.path, 1), PASSWORD).is_ok(),
        "after plain passwd the newest backup still opens with the old password"
    );
    kms.rekey(b"interim password", b"brand new password", None)
        .unwrap();
    for generation in 1..=3 {
        assert!(!save::backup_path(&ks.path, generation).exists());
    }
    for (path, _) in all_files(ks.dir.path()) {
        for old in [PASSWORD, b"interim password".as_slice()] {
            assert!(
                keyconsole::store::Store::open(&path, old).is_err(),
                "{} opens with an old password",
                path.display()
            );
        }
    }
    let reopened = Kms::open(&ks.path, b"brand new password").unwrap();
    assert_eq!(
        reopened
            .decrypt(&blob, &CanonicalContext::none())
            .unwrap()
            .plaintext
            .as_slice(),
        b"kept across the rekey"
    );
    // The engine in this process keeps working on the new key.
    create(&kms, "after");
    assert_eq!(
        Kms::open(&ks.path, b"brand new password")
            .unwrap()
            .keys()
            .len(),
        3
    );
    // The one opened before is told what happened.
    let e = elsewhere.refresh().unwrap_err();
    assert_eq!(e.code, ErrorCode::WrongPassword, "{e}");
    assert!(e.message.contains("new master key"), "{e}");
}

/// A damaged keystore's message names the backups that exist, and only those.
#[test]
fn a_damaged_keystore_names_only_the_backups_it_has() {
    let (ks, kms) = TestKeystore::new();
    let damage = |path: &Path| {
        let mut bytes = std::fs::read(path).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        std::fs::write(path, bytes).unwrap();
    };
    let fresh = ks.dir.path().join("fresh.kcks");
    std::fs::copy(&ks.path, &fresh).unwrap();
    damage(&fresh);
    let e = Kms::open(&fresh, PASSWORD).unwrap_err();
    assert_eq!(e.code, ErrorCode::KeystoreDamaged);
    assert!(e.message.contains("It has no backups."), "{e}");
    create(&kms, "one");
    create(&kms, "two");
    drop(kms);
    damage(&ks.path);
    let e = Kms::open(&ks.path, PASSWORD).unwrap_err();
    let backup = |n| save::backup_path(&ks.path, n).display().to_string();
    assert!(
        e.message.contains(&backup(1)) && e.message.contains(&backup(2)),
        "{e}"
    );
    assert!(!e.message.contains(&backup(3)), "{e}");
}
