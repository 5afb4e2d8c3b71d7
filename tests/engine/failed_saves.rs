//! A change whose save fails leaves nothing behind: memory equals the disk afterwards, nothing
//! made by the failed change can be used, and a later successful save does not carry it.

use keyconsole::kms::{CanonicalContext, CreateKey, ErrorCode, KeyMetadata, KeyState, Kms};
use keyconsole::testing::{TestKeystore, create};

/// What the engine shows of every key, comparable between memory and disk.
fn state_of(kms: &Kms) -> Vec<KeyMetadata> {
    kms.keys().iter().map(|k| k.metadata()).collect()
}

fn assert_memory_equals_disk(ks: &TestKeystore, kms: &Kms) {
    let disk = ks.reopen();
    assert_eq!(state_of(kms), state_of(&disk), "memory equals the disk");
    assert_eq!(
        kms.existing_api_credentials().map(|c| c.secret_id),
        disk.existing_api_credentials().map(|c| c.secret_id)
    );
}

fn assert_failed_save(result: keyconsole::kms::Result<impl std::fmt::Debug>) {
    let e = result.expect_err("the save fails");
    assert_eq!(e.code, ErrorCode::KeystoreIo, "{e}");
    assert!(e.message.contains("No space left on device"), "{e}");
}

#[test]
fn a_key_created_by_a_failed_save_does_not_exist() {
    let (ks, kms) = TestKeystore::new();
    create(&kms, "kept");
    kms.fail_next_saves(1);
    assert_failed_save(kms.create_key(CreateKey {
        alias: "phantom".into(),
        ..CreateKey::default()
    }));
    let refused = kms
        .encrypt("phantom", b"secret", &CanonicalContext::none())
        .expect_err("no ciphertext under a key the disk does not hold");
    assert_eq!(refused.code, ErrorCode::CmkNotFound);
    assert_memory_equals_disk(&ks, &kms);

    // A later, unrelated save does not write the failed change either.
    create(&kms, "later");
    assert_memory_equals_disk(&ks, &kms);
    assert!(ks.reopen().describe_key("phantom").is_err());
    assert_eq!(ks.reopen().keys().len(), 2);
}

#[test]
fn a_key_disabled_by_a_failed_save_stays_enabled() {
    let (ks, kms) = TestKeystore::new();
    create(&kms, "k");
    kms.fail_next_saves(1);
    assert_failed_save(kms.disable_key("k"));
    assert_eq!(kms.describe_key("k").unwrap().key_state, KeyState::Enabled);
    kms.encrypt("k", b"still works", &CanonicalContext::none())
        .expect("the key is as the disk says: enabled");
    assert_memory_equals_disk(&ks, &kms);
    kms.update_description("k", "unrelated").unwrap();
    assert_eq!(
        ks.reopen().describe_key("k").unwrap().key_state,
        KeyState::Enabled
    );
}

#[test]
fn a_version_made_by_a_failed_rotation_is_never_used() {
    let (ks, kms) = TestKeystore::new();
    create(&kms, "k");
    kms.fail_next_saves(1);
    assert_failed_save(kms.rotate_key("k"));
    assert_eq!(kms.describe_key("k").unwrap().version_count, 1);
    let blob = kms
        .encrypt("k", b"x", &CanonicalContext::none())
        .unwrap()
        .ciphertext_blob;
    assert_memory_equals_disk(&ks, &kms);
    // The blob is under the version the disk holds, so it decrypts after a restart.
    ks.reopen()
        .decrypt(&blob, &CanonicalContext::none())
        .expect("decrypts with what the disk holds");
}

#[test]
fn a_failed_automatic_rotation_and_deletion_change_nothing() {
    let (ks, kms) = TestKeystore::new();
    kms.create_key(CreateKey {
        alias: "rotating".into(),
        rotate_days: Some(7),
        ..CreateKey::default()
    })
    .unwrap();
    create(&kms, "doomed");
    kms.disable_key("doomed").unwrap();
    kms.schedule_key_deletion("doomed", 7).unwrap();
    ks.clock.advance_days(8);
    let (before, file_before) = (state_of(&kms), std::fs::read(&ks.path).unwrap());
    kms.fail_next_saves(1);
    assert_failed_save(kms.maintain());
    assert_eq!(kms.describe_key("rotating").unwrap().version_count, 1);
    assert_eq!(
        kms.describe_key("doomed").unwrap().key_state,
        KeyState::PendingDelete
    );
    // Memory equals the disk, which the failed save did not touch (reopening would maintain).
    assert_eq!(state_of(&kms), before);
    assert_eq!(std::fs::read(&ks.path).unwrap(), file_before);
    // Once saves work again, maintenance does it for real.
    let done = kms.maintain().unwrap();
    assert_eq!(done.rotated.len(), 1);
    assert_eq!(done.destroyed.len(), 1);
    assert_memory_equals_disk(&ks, &kms);
}

#[test]
fn credentials_made_or_rotated_by_a_failed_save_are_not_used() {
    let (ks, kms) = TestKeystore::new();
    kms.fail_next_saves(1);
    assert_failed_save(kms.api_credentials());
    assert!(kms.existing_api_credentials().is_none());
    assert_memory_equals_disk(&ks, &kms);

    let first = kms.api_credentials().unwrap();
    kms.fail_next_saves(1);
    assert_failed_save(kms.rotate_api_credentials());
    let now = kms.existing_api_credentials().unwrap();
    assert_eq!(now.secret_id, first.secret_id, "the old pair still signs");
    assert!(kms.api_secret_key(&first.secret_id).is_ok());
    assert_memory_equals_disk(&ks, &kms);
}

/// An encryption needs its count reserved on disk first: when that save fails, the encryption
/// is refused with the save's error (no ciphertext exists that the count lacks), and the next
/// one goes through.
#[test]
fn an_encryption_whose_reservation_cannot_be_saved_is_refused() {
    let (ks, kms) = TestKeystore::new();
    create(&kms, "k");
    kms.fail_next_saves(1);
    assert_failed_save(kms.encrypt("k", b"x", &CanonicalContext::none()));
    assert_eq!(kms.keys()[0].versions[0].encryptions_by_this_process(), 0);
    assert_eq!(ks.reopen().keys()[0].versions[0].encryptions, 0);
    kms.encrypt("k", b"x", &CanonicalContext::none()).unwrap();
    assert_eq!(kms.keys()[0].versions[0].encryptions_by_this_process(), 1);
    assert!(ks.reopen().keys()[0].versions[0].encryptions >= 1);
}

#[test]
fn a_failed_password_change_keeps_the_old_password() {
    let (ks, kms) = TestKeystore::new();
    create(&kms, "k");
    kms.fail_next_saves(1);
    assert_failed_save(kms.change_password(keyconsole::testing::PASSWORD, b"new password", None));
    assert_memory_equals_disk(&ks, &kms);
    create(&kms, "after");
    assert!(Kms::open(&ks.path, b"new password").is_err());
    assert_eq!(ks.reopen().keys().len(), 2);
}

#[test]
fn a_keystore_that_cannot_be_written_still_opens_when_maintenance_is_due() {
    let (ks, kms) = TestKeystore::new();
    create(&kms, "kept");
    create(&kms, "doomed");
    kms.disable_key("doomed").unwrap();
    kms.schedule_key_deletion("doomed", 7).unwrap();
    let blob = kms
        .encrypt("kept", b"readable", &CanonicalContext::none())
        .unwrap()
        .ciphertext_blob;
    drop(kms);
    let file_before = std::fs::read(&ks.path).unwrap();
    // The lock file cannot be opened for writing (as on a read-only mount, or a keystore the user
    // may read but not write; a directory in its place works even for root).
    let lock_file = keyconsole::store::lock::lock_path(&ks.path);
    std::fs::remove_file(&lock_file).unwrap();
    std::fs::create_dir(&lock_file).unwrap();
    ks.clock.advance_days(8);

    let kms = Kms::open_with_clock(&ks.path, keyconsole::testing::PASSWORD, ks.clock.clone())
        .expect("opening never needs to write");
    let warnings = kms.take_warnings();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("lock file"), "{}", warnings[0]);
    let gone = kms
        .describe_key("doomed")
        .expect_err("past its deletion date");
    assert_eq!(gone.code, ErrorCode::CmkNotFound);
    assert_eq!(kms.keys().len(), 1);
    let plain = kms.decrypt(&blob, &CanonicalContext::none()).unwrap();
    assert_eq!(&*plain.plaintext, b"readable");
    assert_eq!(
        std::fs::read(&ks.path).unwrap(),
        file_before,
        "nothing was written"
    );
}

#[test]
fn a_secret_change_that_failed_to_save_is_not_kept() {
    use keyconsole::kms::{CreateSecret, SecretValue};
    let (ks, kms) = TestKeystore::new();
    let value = |v: &str| SecretValue::Text(zeroize::Zeroizing::new(v.to_owned()));
    kms.create_secret(CreateSecret {
        name: "db".into(),
        version_id: None,
        description: String::new(),
        key: None,
        value: value("first"),
        tags: Vec::new(),
    })
    .unwrap();
    kms.fail_next_saves(1);
    assert_failed_save(kms.put_secret_value("db", "v2", value("phantom")));
    assert!(kms.get_secret_value("db", "v2").is_err());
    kms.fail_next_saves(1);
    assert_failed_save(kms.disable_secret("db"));
    assert!(
        kms.get_secret_value("db", "SSM_v1").is_ok(),
        "still enabled"
    );
    kms.update_secret_description("db", "unrelated").unwrap();
    let disk = ks.reopen();
    assert!(disk.get_secret_value("db", "v2").is_err());
    assert_eq!(disk.secret_versions("db").unwrap().len(), 1);
}

/// A change that would make the keystore larger than it can be opened is refused before anything
/// is written (LimitExceeded), so the keystore and every backup still open; a change that frees
/// room still saves.
#[test]
fn the_keystore_never_grows_past_what_opens_again() {
    use keyconsole::kms::{CreateSecret, SecretValue};
    use keyconsole::store::{Store, save::backup_path};
    use zeroize::Zeroizing;
    const LIMIT: u64 = 512 * 1024;
    let (ks, kms) = TestKeystore::new();
    kms.set_keystore_size_limit(LIMIT);
    let value = |i: usize| {
        let letter = char::from(b'a' + (i % 26) as u8);
        SecretValue::Text(Zeroizing::new(letter.to_string().repeat(30 * 1024)))
    };
    let mut made = 0;
    let refused = loop {
        let secret = format!("config-{}", made / 10);
        let result = if made % 10 == 0 {
            kms.create_secret(CreateSecret {
                name: secret,
                version_id: None,
                description: String::new(),
                key: None,
                value: value(made),
                tags: Vec::new(),
            })
            .map(drop)
        } else {
            kms.put_secret_value(&secret, &format!("v{made}"), value(made))
        };
        match result {
            Ok(()) => made += 1,
            Err(e) => break e,
        }
        assert!(made < 100, "a 512 KiB keystore took 100 values of 30 KiB");
    };
    assert_eq!(refused.code, ErrorCode::LimitExceeded, "{refused}");
    assert!(refused.message.contains("past its limit"), "{refused}");
    assert!(made >= 8, "only {made} values fitted");
    // Memory and disk agree, and every file opens under the limit it was saved with.
    let listed = |kms: &Kms| -> usize {
        kms.list_secrets(&Default::default())
            .unwrap()
            .secrets
            .iter()
            .map(|s| kms.secret_versions(&s.name).unwrap().len())
            .sum()
    };
    assert_eq!(listed(&kms), made);
    for path in [
        ks.path.clone(),
        backup_path(&ks.path, 1),
        backup_path(&ks.path, 2),
        backup_path(&ks.path, 3),
    ] {
        let len = std::fs::metadata(&path).unwrap().len();
        assert!(len <= LIMIT, "{} is {len} bytes", path.display());
        Store::open_limited(&path, keyconsole::testing::PASSWORD, LIMIT)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
    // Freeing room works at the limit, and then the refused value fits.
    kms.delete_secret_version("config-0", "v1").unwrap();
    kms.put_secret_value("config-0", "again", value(1)).unwrap();
    assert_eq!(listed(&kms), made);
}
