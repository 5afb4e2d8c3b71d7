//! The engine's rules, states and error codes, through its public API.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use keyconsole::kms::{
    CanonicalContext, Cloud, CreateKey, ErrorCode, KeyQuery, KeyState, Kms, Order,
    PLAINTEXT_MAX_BYTES,
};
use keyconsole::testing::{TestKeystore, create};
use proptest::prelude::*;

fn code<T>(result: keyconsole::kms::Result<T>) -> ErrorCode {
    match result {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.code,
    }
}

fn no_context() -> CanonicalContext {
    CanonicalContext::none()
}

fn state(kms: &Kms, key: &str) -> KeyState {
    kms.describe_key(key).unwrap().key_state
}

/// GenerateDataKey as the API takes it (KeySpec or NumberOfBytes), through the engine's typed spec.
trait DataKeyApi {
    fn generate_data_key_api(
        &self,
        key: &str,
        spec: Option<&str>,
        bytes: Option<u32>,
        context: &CanonicalContext,
    ) -> keyconsole::kms::Result<keyconsole::kms::DataKey>;
}

impl DataKeyApi for Kms {
    fn generate_data_key_api(
        &self,
        key: &str,
        spec: Option<&str>,
        bytes: Option<u32>,
        context: &CanonicalContext,
    ) -> keyconsole::kms::Result<keyconsole::kms::DataKey> {
        keyconsole::kms::DataKeySpec::from_api(spec, bytes)
            .and_then(|spec| self.generate_data_key(key, spec, context))
    }
}

#[test]
fn create_describe_and_find_by_id_or_alias() {
    let (_ks, kms) = TestKeystore::new();
    let key = kms
        .create_key(CreateKey {
            alias: "db-password".into(),
            description: "MySQL production".into(),
            key_usage: Some("ENCRYPT_DECRYPT".into()),
            rotate_days: Some(90),
            ..CreateKey::default()
        })
        .unwrap();
    assert_eq!(key.key_state, KeyState::Enabled);
    assert_eq!(key.key_usage, "ENCRYPT_DECRYPT");
    assert!(key.key_rotation_enabled);
    assert_eq!(key.rotate_days, 90);
    assert_eq!(key.next_rotate_time, key.create_time + 90 * 86_400);
    assert_eq!(key.version_count, 1);
    assert!(uuid::Uuid::parse_str(&key.key_id).is_ok());
    assert_eq!(kms.describe_key(&key.key_id).unwrap(), key);
    assert_eq!(
        kms.describe_key("DB-PASSWORD").unwrap(),
        key,
        "aliases are case-insensitive"
    );
    assert_eq!(code(kms.describe_key("nope")), ErrorCode::CmkNotFound);
    assert_eq!(
        code(kms.describe_key(&uuid::Uuid::new_v4().to_string())),
        ErrorCode::CmkNotFound
    );
    assert_eq!(
        code(kms.describe_key("not a key!")),
        ErrorCode::InvalidKeyId
    );
    assert_eq!(code(kms.describe_key("  ")), ErrorCode::MissingParameter);
}

#[test]
fn alias_and_description_rules() {
    let (_ks, mut kms) = TestKeystore::new();
    create(&kms, "app-1");
    let make = |kms: &mut Kms, alias: &str, description: &str| {
        kms.create_key(CreateKey {
            alias: alias.into(),
            description: description.into(),
            ..CreateKey::default()
        })
    };
    assert_eq!(
        code(make(&mut kms, "APP-1", "")),
        ErrorCode::AliasAlreadyExists
    );
    assert_eq!(code(make(&mut kms, "kms-x", "")), ErrorCode::InvalidAlias);
    assert_eq!(code(make(&mut kms, "", "")), ErrorCode::InvalidAlias);
    assert_eq!(code(make(&mut kms, "-x", "")), ErrorCode::InvalidAlias);
    assert_eq!(
        code(make(&mut kms, &"a".repeat(61), "")),
        ErrorCode::InvalidAlias
    );
    assert_eq!(
        code(make(&mut kms, &uuid::Uuid::new_v4().to_string(), "")),
        ErrorCode::InvalidAlias,
        "an alias must not be mistakable for a KeyId"
    );
    assert_eq!(
        code(make(&mut kms, "ok", &"d".repeat(1025))),
        ErrorCode::InvalidParameterValue
    );
    assert!(make(&mut kms, "ok", &"d".repeat(1024)).is_ok());
    assert_eq!(
        code(kms.create_key(CreateKey {
            alias: "sm4".into(),
            key_usage: Some("SIGN_VERIFY".into()),
            ..CreateKey::default()
        })),
        ErrorCode::InvalidKeyUsage
    );
    assert_eq!(
        code(kms.create_key(CreateKey {
            alias: "r".into(),
            rotate_days: Some(6),
            ..CreateKey::default()
        })),
        ErrorCode::InvalidParameterValue
    );

    kms.update_alias("app-1", "app-2").unwrap();
    assert_eq!(code(kms.describe_key("app-1")), ErrorCode::CmkNotFound);
    assert_eq!(
        code(kms.update_alias("app-2", "OK")),
        ErrorCode::AliasAlreadyExists
    );
    kms.update_alias("app-2", "APP-2").unwrap();
    assert_eq!(
        kms.describe_key("app-2").unwrap().alias,
        "APP-2",
        "a key may change its own alias's case"
    );
    // Both changes in one step: a refused alias leaves the description untouched too.
    assert_eq!(
        code(kms.update_key("app-2", Some("ok"), Some("new"))),
        ErrorCode::AliasAlreadyExists
    );
    assert_eq!(kms.describe_key("app-2").unwrap().description, "");
    kms.update_key("app-2", Some("app-3"), Some("new")).unwrap();
    let key = kms.describe_key("app-3").unwrap();
    assert_eq!(
        (key.alias.as_str(), key.description.as_str()),
        ("app-3", "new")
    );
}

#[test]
fn state_transitions_follow_the_table() {
    let (_ks, kms) = TestKeystore::new();
    create(&kms, "k");
    // Enabled: cannot be scheduled for deletion, cannot cancel a deletion or an archive.
    assert_eq!(
        code(kms.schedule_key_deletion("k", 7)),
        ErrorCode::CmkShouldBeDisabled
    );
    assert_eq!(
        code(kms.cancel_key_deletion("k")),
        ErrorCode::CmkNotPendingDelete
    );
    assert_eq!(
        code(kms.cancel_key_archive("k")),
        ErrorCode::CmkStateNotSupport
    );
    kms.enable_key("k").unwrap(); // idempotent
    kms.disable_key("k").unwrap();
    assert_eq!(state(&kms, "k"), KeyState::Disabled);
    kms.disable_key("k").unwrap();
    assert_eq!(code(kms.archive_key("k")), ErrorCode::CmkDisabled);
    assert_eq!(code(kms.rotate_key("k")), ErrorCode::CmkDisabled);
    assert_eq!(
        code(kms.schedule_key_deletion("k", 6)),
        ErrorCode::InvalidPendingWindowInDays
    );
    assert_eq!(
        code(kms.schedule_key_deletion("k", 31)),
        ErrorCode::InvalidPendingWindowInDays
    );
    let date = kms.schedule_key_deletion("k", 7).unwrap();
    assert_eq!(date, kms.now() + 7 * 86_400);
    let key = kms.describe_key("k").unwrap();
    assert_eq!(
        (key.key_state, key.deletion_date),
        (KeyState::PendingDelete, date)
    );
    assert_eq!(
        code(kms.schedule_key_deletion("k", 7)),
        ErrorCode::CmkStateNotSupport
    );
    assert_eq!(code(kms.enable_key("k")), ErrorCode::CmkStateNotSupport);
    assert_eq!(code(kms.disable_key("k")), ErrorCode::CmkStateNotSupport);
    assert_eq!(code(kms.archive_key("k")), ErrorCode::CmkStateNotSupport);
    assert_eq!(
        code(kms.enable_key_rotation("k", None)),
        ErrorCode::CmkStateNotSupport
    );
    kms.cancel_key_deletion("k").unwrap();
    let key = kms.describe_key("k").unwrap();
    assert_eq!(
        (key.key_state, key.deletion_date),
        (KeyState::Disabled, 0),
        "cancel goes back to Disabled"
    );
    kms.enable_key("k").unwrap();
    kms.archive_key("k").unwrap();
    assert_eq!(state(&kms, "k"), KeyState::Archived);
    assert_eq!(code(kms.enable_key("k")), ErrorCode::CmkArchived);
    assert_eq!(code(kms.disable_key("k")), ErrorCode::CmkArchived);
    assert_eq!(
        code(kms.schedule_key_deletion("k", 10)),
        ErrorCode::CmkShouldBeDisabled
    );
    kms.cancel_key_archive("k").unwrap();
    assert_eq!(state(&kms, "k"), KeyState::Enabled);
}

#[test]
fn cryptographic_operations_per_state() {
    let (_ks, kms) = TestKeystore::new();
    create(&kms, "k");
    let blob = kms
        .encrypt("k", b"secret", &no_context())
        .unwrap()
        .ciphertext_blob;
    let data_key = |kms: &Kms| kms.generate_data_key_api("k", Some("AES_256"), None, &no_context());

    kms.disable_key("k").unwrap();
    assert_eq!(
        code(kms.encrypt("k", b"x", &no_context())),
        ErrorCode::CmkDisabled
    );
    assert_eq!(
        code(kms.decrypt(&blob, &no_context())),
        ErrorCode::CmkDisabled
    );
    assert_eq!(code(data_key(&kms)), ErrorCode::CmkDisabled);
    assert_eq!(
        code(kms.re_encrypt(&blob, None, &no_context(), &no_context())),
        ErrorCode::CmkDisabled
    );

    kms.schedule_key_deletion("k", 30).unwrap();
    assert_eq!(
        code(kms.encrypt("k", b"x", &no_context())),
        ErrorCode::CmkStateNotSupport
    );
    assert_eq!(
        code(kms.decrypt(&blob, &no_context())),
        ErrorCode::CmkStateNotSupport
    );
    assert_eq!(code(data_key(&kms)), ErrorCode::CmkStateNotSupport);

    kms.cancel_key_deletion("k").unwrap();
    kms.enable_key("k").unwrap();
    kms.archive_key("k").unwrap();
    assert_eq!(
        code(kms.encrypt("k", b"x", &no_context())),
        ErrorCode::CmkArchived
    );
    assert_eq!(code(data_key(&kms)), ErrorCode::CmkArchived);
    assert_eq!(
        *kms.decrypt(&blob, &no_context()).unwrap().plaintext,
        b"secret",
        "Archived still decrypts"
    );
    assert_eq!(
        code(kms.re_encrypt(&blob, None, &no_context(), &no_context())),
        ErrorCode::CmkArchived,
        "ReEncrypt's target needs Enabled"
    );
}

#[test]
fn batches_are_all_or_nothing_and_capped() {
    let (_ks, kms) = TestKeystore::new();
    let keys: Vec<String> = (0..101)
        .map(|i| create(&kms, &format!("k{i}")).key_id)
        .collect();
    assert_eq!(
        code(kms.disable_keys(&keys)),
        ErrorCode::InvalidParameterValue
    );
    assert_eq!(
        code(kms.disable_keys::<String>(&[])),
        ErrorCode::MissingParameter
    );
    kms.disable_keys(&keys[..100]).unwrap();
    assert!(
        keys[..100]
            .iter()
            .all(|k| state(&kms, k) == KeyState::Disabled)
    );
    assert_eq!(state(&kms, &keys[100]), KeyState::Enabled);

    kms.schedule_key_deletion(&keys[0], 7).unwrap();
    assert_eq!(
        code(kms.enable_keys(&keys[..3])),
        ErrorCode::CmkStateNotSupport
    );
    assert_eq!(
        state(&kms, &keys[1]),
        KeyState::Disabled,
        "nothing changed when one key was refused"
    );
    assert_eq!(
        code(kms.enable_keys(&[keys[1].as_str(), "missing"])),
        ErrorCode::CmkNotFound
    );
    assert_eq!(state(&kms, &keys[1]), KeyState::Disabled);
    kms.enable_keys(&keys[1..3]).unwrap();
    assert_eq!(state(&kms, &keys[2]), KeyState::Enabled);
}

#[test]
fn deletion_destroys_key_material_once_the_date_passes() {
    let (ks, kms) = TestKeystore::new();
    create(&kms, "doomed");
    create(&kms, "kept");
    let blob = kms
        .encrypt("doomed", b"old secret", &no_context())
        .unwrap()
        .ciphertext_blob;
    kms.disable_key("doomed").unwrap();
    kms.schedule_key_deletion("doomed", 7).unwrap();
    ks.clock.advance_days(6);
    assert!(kms.maintain().unwrap().is_empty(), "not due yet");
    kms.cancel_key_deletion("doomed").unwrap();
    kms.schedule_key_deletion("doomed", 7).unwrap();
    ks.clock.advance_days(7);
    let done = kms.maintain().unwrap();
    assert_eq!(done.destroyed.len(), 1);
    assert_eq!(code(kms.describe_key("doomed")), ErrorCode::CmkNotFound);
    assert_eq!(
        code(kms.decrypt(&blob, &no_context())),
        ErrorCode::DecryptError
    );
    assert_eq!(kms.keys().len(), 1);
    assert_eq!(ks.reopen().keys().len(), 1, "the destruction was saved");
}

#[test]
fn deletion_also_happens_at_unlock() {
    let (ks, kms) = TestKeystore::new();
    create(&kms, "doomed");
    kms.disable_key("doomed").unwrap();
    kms.schedule_key_deletion("doomed", 30).unwrap();
    drop(kms);
    ks.clock.advance_days(31);
    let kms = ks.reopen();
    assert_eq!(code(kms.describe_key("doomed")), ErrorCode::CmkNotFound);
}

#[test]
fn rotation_keeps_old_ciphertexts_readable() {
    let (ks, kms) = TestKeystore::new();
    create(&kms, "k");
    let old = kms
        .encrypt("k", b"v1 secret", &no_context())
        .unwrap()
        .ciphertext_blob;
    assert_eq!(kms.rotate_key("k").unwrap(), 2);
    let key = kms.describe_key("k").unwrap();
    assert_eq!((key.version_count, key.last_rotate_time), (2, kms.now()));
    let new = kms
        .encrypt("k", b"v2 secret", &no_context())
        .unwrap()
        .ciphertext_blob;
    assert_eq!(
        *kms.decrypt(&old, &no_context()).unwrap().plaintext,
        b"v1 secret"
    );
    assert_eq!(
        *kms.decrypt(&new, &no_context()).unwrap().plaintext,
        b"v2 secret"
    );

    // ReEncrypt moves the old ciphertext to the newest version.
    let moved = kms
        .re_encrypt(&old, None, &no_context(), &no_context())
        .unwrap();
    assert!(moved.re_encrypted);
    assert_eq!(moved.key_id, moved.source_key_id);
    let again = kms
        .re_encrypt(&moved.ciphertext_blob, None, &no_context(), &no_context())
        .unwrap();
    assert!(!again.re_encrypted, "already under the newest version");
    assert_eq!(
        *kms.decrypt(&again.ciphertext_blob, &no_context())
            .unwrap()
            .plaintext,
        b"v1 secret"
    );

    drop(kms);
    let kms = ks.reopen();
    assert_eq!(
        *kms.decrypt(&old, &no_context()).unwrap().plaintext,
        b"v1 secret"
    );
}

#[test]
fn automatic_rotation_when_due() {
    let (ks, kms) = TestKeystore::new();
    create(&kms, "k");
    assert!(!kms.get_key_rotation_status("k").unwrap());
    assert_eq!(
        code(kms.enable_key_rotation("k", Some(6))),
        ErrorCode::InvalidParameterValue
    );
    assert_eq!(
        code(kms.enable_key_rotation("k", Some(366))),
        ErrorCode::InvalidParameterValue
    );
    kms.enable_key_rotation("k", Some(7)).unwrap();
    assert!(kms.get_key_rotation_status("k").unwrap());
    ks.clock.advance_days(6);
    assert!(kms.maintain().unwrap().rotated.is_empty());
    ks.clock.advance_days(1);
    assert_eq!(kms.maintain().unwrap().rotated.len(), 1);
    let key = kms.describe_key("k").unwrap();
    assert_eq!(key.version_count, 2);
    assert_eq!(key.next_rotate_time, kms.now() + 7 * 86_400);

    // Due while the app was closed: rotated at unlock. A disabled key is not rotated.
    create(&kms, "off");
    kms.enable_key_rotation("off", Some(7)).unwrap();
    kms.disable_key("off").unwrap();
    drop(kms);
    ks.clock.advance_days(8);
    let kms = ks.reopen();
    assert_eq!(kms.describe_key("k").unwrap().version_count, 3);
    assert_eq!(kms.describe_key("off").unwrap().version_count, 1);
    kms.disable_key_rotation("k").unwrap();
    let key = kms.describe_key("k").unwrap();
    assert!(!key.key_rotation_enabled);
    assert_eq!(key.next_rotate_time, 0);
}

#[test]
fn plaintext_limits() {
    let (_ks, kms) = TestKeystore::new();
    create(&kms, "k");
    assert_eq!(
        code(kms.encrypt("k", &[], &no_context())),
        ErrorCode::InvalidPlaintext
    );
    assert_eq!(
        code(kms.encrypt("k", &[0; PLAINTEXT_MAX_BYTES + 1], &no_context())),
        ErrorCode::InvalidPlaintext
    );
    let blob = kms
        .encrypt("k", &[7; PLAINTEXT_MAX_BYTES], &no_context())
        .unwrap()
        .ciphertext_blob;
    assert_eq!(
        *kms.decrypt(&blob, &no_context()).unwrap().plaintext,
        vec![7; PLAINTEXT_MAX_BYTES]
    );
}

#[test]
fn encryption_context_must_match() {
    let (_ks, kms) = TestKeystore::new();
    create(&kms, "k");
    let context = CanonicalContext::parse(Some(r#"{"app":"billing","env":"prod"}"#)).unwrap();
    let blob = kms.encrypt("k", b"pw", &context).unwrap().ciphertext_blob;
    let reordered =
        CanonicalContext::parse(Some(r#"{ "env": "prod", "app": "billing" }"#)).unwrap();
    assert_eq!(*kms.decrypt(&blob, &reordered).unwrap().plaintext, b"pw");
    assert_eq!(
        code(kms.decrypt(&blob, &no_context())),
        ErrorCode::DecryptError
    );
    let other = CanonicalContext::parse(Some(r#"{"app":"billing","env":"test"}"#)).unwrap();
    assert_eq!(code(kms.decrypt(&blob, &other)), ErrorCode::DecryptError);
    // No context and the empty object are the same thing.
    let plain = kms
        .encrypt("k", b"pw", &no_context())
        .unwrap()
        .ciphertext_blob;
    assert!(
        kms.decrypt(&plain, &CanonicalContext::parse(Some("{}")).unwrap())
            .is_ok()
    );
    assert_eq!(
        code(CanonicalContext::parse(Some(&format!(
            r#"{{"a":"{}"}}"#,
            "x".repeat(1020)
        )))),
        ErrorCode::InvalidEncryptionContext
    );
}

#[test]
fn every_tampered_blob_is_refused() {
    let (_ks, kms) = TestKeystore::new();
    create(&kms, "k");
    let blob = kms
        .encrypt("k", b"database password", &no_context())
        .unwrap()
        .ciphertext_blob;
    let bytes = STANDARD.decode(&blob).unwrap();
    for bit in 0..bytes.len() * 8 {
        let mut flipped = bytes.clone();
        flipped[bit / 8] ^= 1 << (bit % 8);
        let result = kms.decrypt(&STANDARD.encode(&flipped), &no_context());
        let code = result
            .err()
            .map(|e| e.code)
            .expect("a flipped bit must not decrypt");
        assert!(
            matches!(code, ErrorCode::DecryptError | ErrorCode::InvalidCiphertext),
            "bit {bit}: {code:?}"
        );
    }
    for len in 0..bytes.len() {
        assert!(
            kms.decrypt(&STANDARD.encode(&bytes[..len]), &no_context())
                .is_err(),
            "truncated to {len}"
        );
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(
        kms.decrypt(&STANDARD.encode(&longer), &no_context())
            .is_err(),
        "trailing data"
    );
    // The base64 text itself: every single-bit change of every character.
    let text = blob.as_bytes();
    for i in 0..text.len() {
        for bit in 0..8 {
            let mut changed = text.to_vec();
            changed[i] ^= 1 << bit;
            let Ok(changed) = String::from_utf8(changed) else {
                continue;
            };
            if changed.trim() == blob {
                continue; // a flip into surrounding whitespace that trimming removes
            }
            assert!(
                kms.decrypt(&changed, &no_context()).is_err(),
                "char {i} bit {bit}"
            );
        }
    }
}

#[test]
fn a_blob_from_another_keystore_is_refused() {
    let (_a, kms_a) = TestKeystore::new();
    let (_b, kms_b) = TestKeystore::new();
    create(&kms_a, "same-alias");
    create(&kms_b, "same-alias");
    let blob = kms_a
        .encrypt("same-alias", b"secret", &no_context())
        .unwrap()
        .ciphertext_blob;
    assert_eq!(
        code(kms_b.decrypt(&blob, &no_context())),
        ErrorCode::DecryptError
    );
}

#[test]
fn data_keys_and_random() {
    let (_ks, kms) = TestKeystore::new();
    create(&kms, "k");
    let ctx = no_context();
    let dk = kms
        .generate_data_key_api("k", Some("AES_256"), None, &ctx)
        .unwrap();
    assert_eq!(dk.plaintext.len(), 32);
    assert_eq!(
        *kms.decrypt(&dk.ciphertext_blob, &ctx).unwrap().plaintext,
        *dk.plaintext
    );
    assert_eq!(
        kms.generate_data_key_api("k", Some("AES_128"), None, &ctx)
            .unwrap()
            .plaintext
            .len(),
        16
    );
    assert_eq!(
        kms.generate_data_key_api("k", Some("AES_128"), Some(1024), &ctx)
            .unwrap()
            .plaintext
            .len(),
        1024
    );
    assert_eq!(
        kms.generate_data_key_api("k", None, Some(1), &ctx)
            .unwrap()
            .plaintext
            .len(),
        1
    );
    assert_eq!(
        code(kms.generate_data_key_api("k", None, Some(0), &ctx)),
        ErrorCode::InvalidParameterValue
    );
    assert_eq!(
        code(kms.generate_data_key_api("k", None, Some(1025), &ctx)),
        ErrorCode::InvalidParameterValue
    );
    assert_eq!(
        code(kms.generate_data_key_api("k", Some("AES_512"), None, &ctx)),
        ErrorCode::InvalidParameterValue
    );
    assert_eq!(
        code(kms.generate_data_key_api("k", None, None, &ctx)),
        ErrorCode::MissingParameter
    );
    let a = kms
        .generate_data_key_api("k", Some("AES_256"), None, &ctx)
        .unwrap();
    assert_ne!(*a.plaintext, *dk.plaintext);

    for n in [1, 32, 1024] {
        assert_eq!(kms.generate_random(n).unwrap().len(), n as usize);
    }
    assert_eq!(
        code(kms.generate_random(0)),
        ErrorCode::InvalidParameterValue
    );
    assert_eq!(
        code(kms.generate_random(1025)),
        ErrorCode::InvalidParameterValue
    );
}

#[test]
fn re_encrypt_to_another_key_with_another_context() {
    let (_ks, kms) = TestKeystore::new();
    create(&kms, "a");
    let b = create(&kms, "b");
    let ctx_a = CanonicalContext::parse(Some(r#"{"k":"a"}"#)).unwrap();
    let ctx_b = CanonicalContext::parse(Some(r#"{"k":"b"}"#)).unwrap();
    let blob = kms.encrypt("a", b"moving", &ctx_a).unwrap().ciphertext_blob;
    assert_eq!(
        code(kms.re_encrypt(&blob, Some("b"), &ctx_b, &ctx_b)),
        ErrorCode::DecryptError
    );
    let moved = kms.re_encrypt(&blob, Some("b"), &ctx_a, &ctx_b).unwrap();
    assert!(moved.re_encrypted);
    assert_eq!(moved.key_id, b.key_id);
    assert_eq!(
        *kms.decrypt(&moved.ciphertext_blob, &ctx_b)
            .unwrap()
            .plaintext,
        b"moving"
    );
    assert_eq!(
        code(kms.re_encrypt(&blob, Some("missing"), &ctx_a, &ctx_a)),
        ErrorCode::CmkNotFound
    );
    kms.disable_key("b").unwrap();
    assert_eq!(
        code(kms.re_encrypt(&blob, Some("b"), &ctx_a, &ctx_a)),
        ErrorCode::CmkDisabled
    );
}

#[test]
fn listing_searches_filters_sorts_and_pages() {
    let (ks, kms) = TestKeystore::new();
    let mut ids = Vec::new();
    for i in 0..12 {
        ids.push(
            create(
                &kms,
                &format!("{}-{i:02}", if i % 2 == 0 { "web" } else { "db" }),
            )
            .key_id,
        );
        ks.clock.advance_days(1);
    }
    kms.disable_keys(&ids[..3]).unwrap();
    let all = kms.list_keys(&KeyQuery::default()).unwrap();
    assert_eq!(all.total, 12);
    assert_eq!(all.keys[0].alias, "db-11", "newest first by default");
    let oldest = kms
        .list_keys(&KeyQuery {
            order: Order::OldestFirst,
            ..KeyQuery::default()
        })
        .unwrap();
    assert_eq!(oldest.keys[0].alias, "web-00");
    let web = kms
        .list_keys(&KeyQuery {
            search: Some("WEB".into()),
            ..KeyQuery::default()
        })
        .unwrap();
    assert_eq!(web.total, 6);
    let by_id = kms
        .list_keys(&KeyQuery {
            search: Some(ids[4][..8].to_uppercase()),
            ..KeyQuery::default()
        })
        .unwrap();
    assert!(by_id.keys.iter().any(|k| k.key_id == ids[4]));
    let disabled = kms
        .list_keys(&KeyQuery {
            state: Some(KeyState::Disabled).into(),
            ..KeyQuery::default()
        })
        .unwrap();
    assert_eq!(disabled.total, 3);
    let page = kms
        .list_keys(&KeyQuery {
            offset: 10,
            limit: Some(5),
            ..KeyQuery::default()
        })
        .unwrap();
    assert_eq!((page.total, page.keys.len()), (12, 2));
    assert_eq!(
        code(kms.list_keys(&KeyQuery {
            limit: Some(201),
            ..KeyQuery::default()
        })),
        ErrorCode::InvalidParameterValue
    );
    assert_eq!(
        code(kms.list_keys(&KeyQuery {
            limit: Some(0),
            ..KeyQuery::default()
        })),
        ErrorCode::InvalidParameterValue
    );
}

#[test]
fn two_engines_on_one_keystore_lose_nothing() {
    let (ks, a) = TestKeystore::new();
    let b = ks.reopen();
    create(&a, "from-a");
    create(&b, "from-b"); // b re-reads the file under the lock before its change
    assert!(a.refresh().unwrap());
    assert_eq!(a.keys().len(), 2);
    assert!(!a.refresh().unwrap(), "nothing new");
    a.disable_key("from-b").unwrap();
    b.refresh().unwrap();
    assert_eq!(state(&b, "from-b"), KeyState::Disabled);
    assert_eq!(ks.reopen().keys().len(), 2);
}

/// Encryptions are counted on disk before they are made, in blocks that double: whatever
/// happens to the process after (a crash, a kill), the count on disk is never short.
#[test]
fn encryption_counts_are_reserved_on_disk_before_use() {
    use keyconsole::kms::keys::rules::RESERVE_FIRST;
    let (ks, kms) = TestKeystore::new();
    create(&kms, "k");
    let on_disk = || ks.reopen().keys()[0].versions[0].encryptions;
    assert_eq!(on_disk(), 0, "nothing reserved before the first encryption");
    for _ in 0..10 {
        kms.encrypt("k", b"x", &no_context()).unwrap();
    }
    kms.generate_data_key_api("k", None, Some(16), &no_context())
        .unwrap();
    assert_eq!(kms.keys()[0].versions[0].encryptions_by_this_process(), 11);
    // Read while this engine is still open, as after a crash: already counted.
    assert_eq!(on_disk(), RESERVE_FIRST);
    for _ in 0..RESERVE_FIRST {
        kms.encrypt("k", b"x", &no_context()).unwrap();
    }
    assert_eq!(
        on_disk(),
        3 * RESERVE_FIRST,
        "the next block is twice the first"
    );
    // A change by another process is re-read; the reservation carries over, with no new save.
    let other = ks.reopen();
    create(&other, "other");
    kms.refresh().unwrap();
    kms.encrypt("k", b"x", &no_context()).unwrap();
    assert_eq!(on_disk(), 3 * RESERVE_FIRST);
    // A second engine reserves its own block on top.
    other.encrypt("k", b"x", &no_context()).unwrap();
    assert_eq!(on_disk(), 4 * RESERVE_FIRST);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn round_trip_any_plaintext(
        plaintext in proptest::collection::vec(any::<u8>(), 1..=PLAINTEXT_MAX_BYTES),
        context in proptest::option::of(proptest::collection::btree_map("[a-z]{1,8}", "[ -~]{0,16}", 0..4)),
    ) {
        thread_local! {
            static KMS: (TestKeystore, Kms) = {
                let (ks, kms) = TestKeystore::new();
                create(&kms, "prop");
                (ks, kms)
            };
        }
        let context = context.map_or_else(CanonicalContext::none, |m| CanonicalContext::from_map(&m));
        KMS.with(|(_, kms)| {
            let blob = kms.encrypt("prop", &plaintext, &context).unwrap().ciphertext_blob;
            let out = kms.decrypt(&blob, &context).unwrap();
            prop_assert_eq!(&*out.plaintext, &plaintext);
            Ok(())
        })?;
    }
}

/// The quotas: the 100,001st key is refused with the cloud's `LimitExceeded.CmkLimitExceeded`,
/// the 10,001st secret with `LimitExceeded`; nothing is saved by either.
#[test]
fn the_key_and_secret_quotas_hold() {
    use keyconsole::kms::{CreateKey, CreateSecret, ErrorCode, Kms, SecretValue};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("full.kcks");
    keyconsole::testing::keystore_with_keys(
        &path,
        keyconsole::testing::PASSWORD,
        keyconsole::testing::FAST_KDF,
        100_000,
    );
    let kms = Kms::open(&path, keyconsole::testing::PASSWORD).unwrap();
    let e = kms
        .create_key(CreateKey {
            alias: "one-too-many".to_owned(),
            ..CreateKey::default()
        })
        .unwrap_err();
    assert_eq!(
        keyconsole::api::tencent::codes::code(e.code),
        "LimitExceeded.CmkLimitExceeded",
        "{e}"
    );
    let value = SecretValue::Text(zeroize::Zeroizing::new("v".to_owned()));
    let names: Vec<String> = (0..10_000).map(|i| format!("s-{i:05}")).collect();
    kms.create_secrets_at_once(&names, &value).unwrap();
    let e = kms
        .create_secret(CreateSecret {
            name: "one-more".to_owned(),
            version_id: None,
            description: String::new(),
            key: None,
            value,
            tags: Vec::new(),
        })
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::LimitExceeded, "{e}");
    let reopened = Kms::open(&path, keyconsole::testing::PASSWORD).unwrap();
    assert_eq!(
        reopened.keys().len(),
        100_001,
        "the keys and the service's default key"
    );
    assert!(reopened.describe_secret("one-more").is_err());
}

/// Through the service boundary: every call, whatever its outcome, is one event naming the
/// caller, the operation and its target, and never a plaintext or a secret's value.
#[test]
fn the_service_boundary_tells_one_event_per_operation() {
    use keyconsole::kms::{
        Caller, CreateSecret, Face, KeyChange, KeyChanged, KmsService, SecretChange, SecretValue,
        ServiceEvent,
    };
    use keyconsole::util::i18n::Language;
    use std::sync::{Arc, Mutex};

    let (_ks, kms) = TestKeystore::new();
    let events: Arc<Mutex<Vec<ServiceEvent>>> = Arc::default();
    let heard = events.clone();
    kms.set_event_hook(Some(Arc::new(move |event: &ServiceEvent| {
        heard.lock().unwrap().push(event.clone());
    })));
    let service: &dyn KmsService = &kms;
    let caller = Caller::local(Face::Console, Language::SimplifiedChinese);
    let key = service
        .create_key(
            &caller,
            CreateKey {
                alias: "orders".into(),
                description: String::new(),
                ..CreateKey::default()
            },
        )
        .unwrap();
    let sealed = service
        .encrypt(&caller, "orders", b"plaintext 42", &no_context())
        .unwrap();
    let opened = service
        .decrypt(&caller, &sealed.ciphertext_blob, &no_context())
        .unwrap();
    assert_eq!(&opened.plaintext[..], b"plaintext 42");
    assert_eq!(
        service
            .change_keys(
                &caller,
                std::slice::from_ref(&key.key_id),
                KeyChange::Rotate
            )
            .unwrap(),
        KeyChanged::Version(2)
    );
    // More than one key only where the change takes many.
    let two = vec![key.key_id.clone(), "orders".to_owned()];
    assert_eq!(
        code(service.change_keys(&caller, &two, KeyChange::Archive)),
        ErrorCode::InvalidParameter
    );
    service
        .change_keys(&caller, &two[..1], KeyChange::Disable)
        .unwrap();
    assert_eq!(
        code(service.encrypt(&caller, "orders", b"x", &no_context())),
        ErrorCode::CmkDisabled
    );
    service
        .create_secret(
            &caller,
            CreateSecret {
                name: "db".into(),
                version_id: None,
                description: String::new(),
                key: None,
                value: SecretValue::Text(zeroize::Zeroizing::new("secret value 42".into())),
                tags: Vec::new(),
            },
        )
        .unwrap();
    service
        .change_secret(&caller, "db", SecretChange::Disable)
        .unwrap();
    assert!(service.keystore_path().is_some());

    let events = events.lock().unwrap();
    let seen: Vec<(&str, &str, Result<(), ErrorCode>)> = events
        .iter()
        .map(|e| (e.operation, e.target.as_str(), e.outcome))
        .collect();
    let id = key.key_id.as_str();
    let both = format!("{id},orders");
    assert_eq!(
        seen,
        vec![
            ("CreateKey", "orders", Ok(())),
            ("Encrypt", "orders", Ok(())),
            ("Decrypt", id, Ok(())),
            ("RotateKey", id, Ok(())),
            (
                "ArchiveKey",
                both.as_str(),
                Err(ErrorCode::InvalidParameter)
            ),
            ("DisableKey", id, Ok(())),
            ("Encrypt", "orders", Err(ErrorCode::CmkDisabled)),
            ("CreateSecret", "db", Ok(())),
            ("DisableSecret", "db", Ok(())),
        ]
    );
    assert!(events.iter().all(|e| e.caller == caller));
    let printed = format!("{events:?}");
    assert!(!printed.contains("plaintext 42") && !printed.contains("secret value 42"));
}

/// The owner's own operations (a new password, the API's credentials and certificates, upkeep that
/// did something) go through the same hook with their caller, so an audit trail records them as
/// it records a key's deletion; never with a password or a SecretKey.
#[test]
fn the_keystore_owners_operations_are_events_too() {
    use keyconsole::kms::{Caller, Face, KeystoreAdmin, ServiceEvent};
    use keyconsole::util::i18n::Language;
    use std::sync::{Arc, Mutex};

    let (_ks, kms) = TestKeystore::new();
    let events: Arc<Mutex<Vec<ServiceEvent>>> = Arc::default();
    let heard = events.clone();
    kms.set_event_hook(Some(Arc::new(move |event: &ServiceEvent| {
        heard.lock().unwrap().push(event.clone());
    })));
    let admin: &dyn KeystoreAdmin = &kms;
    let caller = Caller::local(Face::Cli, Language::English);
    let first = admin
        .api_credential(&caller, Cloud::Tencent, false)
        .unwrap();
    let second = admin.api_credential(&caller, Cloud::Tencent, true).unwrap();
    assert_ne!(first.secret_id, second.secret_id);
    assert_eq!(
        admin
            .existing_api_credential(Cloud::Tencent)
            .map(|c| c.secret_id),
        Some(second.secret_id.clone())
    );
    // Each cloud has its own pair, which signs only its own dialect's requests.
    assert!(admin.existing_api_credential(Cloud::Huawei).is_none());
    let huawei = admin.api_credential(&caller, Cloud::Huawei, false).unwrap();
    assert_eq!((huawei.cloud, huawei.secret_id.len()), (Cloud::Huawei, 20));
    assert_eq!(
        kms.api_secret_key_for(Cloud::Huawei, &huawei.secret_id)
            .unwrap()
            .as_str(),
        huawei.secret_key.as_str()
    );
    assert!(
        kms.api_secret_key_for(Cloud::Jd, &huawei.secret_id)
            .is_err()
    );
    assert!(kms.api_secret_key(&huawei.secret_id).is_err());
    assert_eq!(
        admin
            .existing_api_credential(Cloud::Tencent)
            .map(|c| c.secret_id),
        Some(second.secret_id.clone()),
        "making Huawei's pair leaves Tencent's as it was"
    );
    assert_eq!(
        code(admin.set_keystore_password(
            &caller,
            b"wrong password",
            b"new password 42!",
            None,
            false
        )),
        ErrorCode::WrongPassword
    );
    admin
        .set_keystore_password(
            &caller,
            keyconsole::testing::PASSWORD,
            b"new password 42!",
            None,
            false,
        )
        .unwrap();
    admin.local_ca_cert(&caller, false).unwrap();
    admin
        .server_identity(&caller, &["127.0.0.1".to_owned()])
        .unwrap();
    assert_eq!(
        code(admin.server_identity(&caller, &["not a host!".to_owned()])),
        ErrorCode::InvalidParameterValue
    );
    // Upkeep with nothing to do is not an event (it runs every second).
    let generation = admin.keystore_generation();
    assert!(admin.upkeep(&caller).unwrap().done.is_empty());

    let events = events.lock().unwrap();
    let seen: Vec<(&str, Result<(), ErrorCode>)> =
        events.iter().map(|e| (e.operation, e.outcome)).collect();
    assert_eq!(
        seen,
        vec![
            ("GetApiCredentials", Ok(())),
            ("RotateApiCredentials", Ok(())),
            ("GetApiCredentials", Ok(())),
            ("ChangeKeystorePassword", Err(ErrorCode::WrongPassword)),
            ("ChangeKeystorePassword", Ok(())),
            ("GetLocalCa", Ok(())),
            ("IssueServerCertificate", Ok(())),
            (
                "IssueServerCertificate",
                Err(ErrorCode::InvalidParameterValue)
            ),
        ]
    );
    assert_eq!(
        events[1].target, second.secret_id,
        "the credential by its SecretId"
    );
    assert!(events.iter().all(|e| e.caller == caller));
    let printed = format!("{events:?}");
    assert!(
        !printed.contains(second.secret_key.as_str()) && !printed.contains("new password 42!"),
        "no SecretKey or password in an event"
    );
    assert!(admin.keystore_generation() >= generation);
}
