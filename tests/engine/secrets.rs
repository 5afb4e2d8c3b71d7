//! Secrets Manager in the engine: every rule and code, states and the recovery window on the test
//! clock, values bound to the CMK's state, round trips of text and binary values up to 32 KiB.

use keyconsole::kms::{
    CreateSecret, ErrorCode, Kms, SecretQuery, SecretState, SecretStateFilter, SecretValue,
};
use keyconsole::testing::{TestKeystore, all_files, contains, create};
use proptest::prelude::*;
use zeroize::Zeroizing;

fn text(value: &str) -> SecretValue {
    SecretValue::Text(Zeroizing::new(value.to_owned()))
}

fn new_secret(name: &str, value: SecretValue) -> CreateSecret {
    CreateSecret {
        name: name.to_owned(),
        version_id: None,
        description: String::new(),
        key: None,
        value,
        tags: Vec::new(),
    }
}

fn code<T: std::fmt::Debug>(result: keyconsole::kms::Result<T>) -> ErrorCode {
    result.expect_err("refused").code
}

#[test]
fn a_secret_is_created_read_and_versioned() {
    let (ks, kms) = TestKeystore::new();
    let (name, version) = kms
        .create_secret(new_secret("orders-db", text("S3cr3t!pass")))
        .unwrap();
    assert_eq!((name.as_str(), version.as_str()), ("orders-db", "SSM_v1"));
    assert_eq!(
        kms.get_secret_value("orders-db", "SSM_v1").unwrap(),
        text("S3cr3t!pass")
    );

    // The service made its own default key, marked as such, and reuses it.
    let described = kms.describe_secret("orders-db").unwrap();
    assert!(described.default_key);
    let default_key = kms.describe_key(&described.key_id).unwrap();
    assert_eq!(default_key.alias, "ssm-default");
    kms.create_secret(new_secret("api-token", text("t")))
        .unwrap();
    assert_eq!(
        kms.describe_secret("api-token").unwrap().key_id,
        described.key_id
    );
    assert_eq!(kms.keys().len(), 1);

    // A chosen CMK, a binary value, more versions, overwrite, delete a version.
    create(&kms, "certs");
    kms.create_secret(CreateSecret {
        key: Some("certs".into()),
        version_id: Some("2026-11".into()),
        description: "TLS key".into(),
        ..new_secret(
            "tls",
            SecretValue::Binary(Zeroizing::new(vec![0, 159, 255])),
        )
    })
    .unwrap();
    let tls = kms.describe_secret("tls").unwrap();
    assert!(!tls.default_key);
    assert_eq!(tls.description, "TLS key");
    assert_eq!(
        kms.get_secret_value("tls", "2026-11").unwrap(),
        SecretValue::Binary(Zeroizing::new(vec![0, 159, 255]))
    );
    kms.put_secret_value("orders-db", "v2", text("second"))
        .unwrap();
    kms.update_secret_value("orders-db", "SSM_v1", text("first, changed"))
        .unwrap();
    assert_eq!(
        kms.get_secret_value("orders-db", "SSM_v1").unwrap(),
        text("first, changed")
    );
    let versions: Vec<String> = kms
        .secret_versions("orders-db")
        .unwrap()
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(versions, ["SSM_v1", "v2"]);
    kms.delete_secret_version("orders-db", "SSM_v1").unwrap();
    assert_eq!(
        code(kms.get_secret_value("orders-db", "SSM_v1")),
        ErrorCode::SecretNotExist
    );
    assert_eq!(
        code(kms.delete_secret_version("orders-db", "v2")),
        ErrorCode::OperationDenied
    );

    // Everything survives a reopen, and no value lies in any file.
    let reopened = ks.reopen();
    assert_eq!(
        reopened.get_secret_value("orders-db", "v2").unwrap(),
        text("second")
    );
    for (path, bytes) in all_files(ks.dir.path()) {
        for value in [&b"second"[..], b"first, changed", b"S3cr3t!pass"] {
            assert!(!contains(&bytes, value), "{} holds a value", path.display());
        }
    }
}

#[test]
fn every_limit_has_its_code() {
    let (_ks, kms) = TestKeystore::new();
    for bad in [
        "",
        "-starts-with-dash",
        "has space",
        "dots.not.allowed",
        &"n".repeat(129),
    ] {
        assert_eq!(
            code(kms.create_secret(new_secret(bad, text("x")))),
            ErrorCode::InvalidParameterValue,
            "{bad:?}"
        );
    }
    kms.create_secret(new_secret(&"n".repeat(128), text("x")))
        .unwrap();
    assert_eq!(
        code(kms.create_secret(new_secret("big", text(&"x".repeat(32 * 1024 + 1))))),
        ErrorCode::InvalidParameterValue
    );
    kms.create_secret(new_secret("big", text(&"x".repeat(32 * 1024))))
        .unwrap();
    assert_eq!(
        code(kms.create_secret(CreateSecret {
            description: "d".repeat(2049),
            ..new_secret("described", text("x"))
        })),
        ErrorCode::InvalidParameterValue
    );
    assert_eq!(
        code(kms.create_secret(new_secret("big", text("again")))),
        ErrorCode::SecretExists
    );
    for bad in ["", ".v", "v/1", &"v".repeat(65)] {
        assert_eq!(
            code(kms.put_secret_value("big", bad, text("x"))),
            ErrorCode::InvalidParameterValue,
            "{bad:?}"
        );
    }
    assert_eq!(
        code(kms.put_secret_value("big", "SSM_v1", text("x"))),
        ErrorCode::VersionIdExists
    );
    for i in 2..=10 {
        kms.put_secret_value("big", &format!("v{i}"), text("x"))
            .unwrap();
    }
    assert_eq!(
        code(kms.put_secret_value("big", "v11", text("x"))),
        ErrorCode::LimitExceeded
    );
    assert_eq!(
        code(kms.get_secret_value("nope", "SSM_v1")),
        ErrorCode::SecretNotExist
    );
    assert_eq!(
        code(kms.delete_secret("big", 31)),
        ErrorCode::InvalidParameterValue
    );
    assert_eq!(
        code(kms.create_secret(CreateSecret {
            key: Some("no-such-key".into()),
            ..new_secret("keyed", text("x"))
        })),
        ErrorCode::CmkNotFound
    );
}

#[test]
fn states_and_the_recovery_window() {
    let (ks, kms) = TestKeystore::new();
    kms.create_secret(new_secret("s", text("v"))).unwrap();
    assert_eq!(code(kms.enable_secret("s")), ErrorCode::OperationDenied);
    assert_eq!(code(kms.delete_secret("s", 0)), ErrorCode::OperationDenied);
    kms.disable_secret("s").unwrap();
    assert_eq!(
        code(kms.get_secret_value("s", "SSM_v1")),
        ErrorCode::ResourceDisabled
    );
    // Values and descriptions can still change while disabled.
    kms.put_secret_value("s", "v2", text("w")).unwrap();
    kms.update_secret_description("s", "paused").unwrap();
    assert_eq!(code(kms.restore_secret("s")), ErrorCode::OperationDenied);

    let delete_time = kms.delete_secret("s", 7).unwrap();
    assert_eq!(delete_time, kms.now() + 7 * 86_400);
    let described = kms.describe_secret("s").unwrap();
    assert_eq!(described.state, SecretState::PendingDelete);
    assert_eq!(described.delete_time, delete_time);
    assert_eq!(
        code(kms.get_secret_value("s", "SSM_v1")),
        ErrorCode::ResourcePendingDeleted
    );
    assert_eq!(
        code(kms.put_secret_value("s", "v3", text("x"))),
        ErrorCode::ResourcePendingDeleted
    );
    kms.restore_secret("s").unwrap();
    assert_eq!(
        kms.describe_secret("s").unwrap().state,
        SecretState::Disabled,
        "never straight to Enabled"
    );
    kms.enable_secret("s").unwrap();
    assert_eq!(kms.get_secret_value("s", "v2").unwrap(), text("w"));

    // Deleted when the window ends, by the same maintenance as keys.
    kms.disable_secret("s").unwrap();
    kms.delete_secret("s", 1).unwrap();
    ks.clock.advance(86_399);
    assert!(kms.maintain().unwrap().destroyed_secrets.is_empty());
    ks.clock.advance(1);
    assert_eq!(kms.maintain().unwrap().destroyed_secrets, ["s"]);
    assert_eq!(code(kms.describe_secret("s")), ErrorCode::SecretNotExist);
    assert_eq!(
        code(ks.reopen().describe_secret("s")),
        ErrorCode::SecretNotExist
    );

    // At once.
    kms.create_secret(new_secret("now", text("v"))).unwrap();
    kms.disable_secret("now").unwrap();
    kms.delete_secret("now", 0).unwrap();
    assert_eq!(code(kms.describe_secret("now")), ErrorCode::SecretNotExist);
}

#[test]
fn a_cmk_that_cannot_decrypt_makes_the_value_unreadable_with_the_kms_reason() {
    let (_ks, kms) = TestKeystore::new();
    create(&kms, "k");
    kms.create_secret(CreateSecret {
        key: Some("k".into()),
        ..new_secret("s", text("v"))
    })
    .unwrap();
    kms.disable_key("k").unwrap();
    let e = kms.get_secret_value("s", "SSM_v1").unwrap_err();
    assert_eq!(e.code, ErrorCode::AccessKmsError);
    assert!(
        e.message.contains("disabled") && e.message.contains("CmkDisabled"),
        "{e}"
    );
    assert_eq!(
        code(kms.put_secret_value("s", "v2", text("x"))),
        ErrorCode::AccessKmsError
    );
    // A key that protects a secret is not scheduled for deletion at all.
    assert_eq!(
        code(kms.schedule_key_deletion("k", 7)),
        ErrorCode::CmkUsedByCloudProduct
    );
    kms.enable_key("k").unwrap();
    assert_eq!(kms.get_secret_value("s", "SSM_v1").unwrap(), text("v"));
}

#[test]
fn listing_filters_searches_and_pages() {
    let (ks, kms) = TestKeystore::new();
    for (i, name) in ["app-db", "app-token", "billing-db"].iter().enumerate() {
        kms.create_secret(new_secret(name, text("v"))).unwrap();
        ks.clock.advance(i as i64 + 1);
    }
    kms.disable_secret("app-token").unwrap();
    let names = |query: SecretQuery| -> Vec<String> {
        kms.list_secrets(&query)
            .unwrap()
            .secrets
            .into_iter()
            .map(|s| s.name)
            .collect()
    };
    assert_eq!(
        names(SecretQuery::default()),
        ["billing-db", "app-token", "app-db"]
    );
    assert_eq!(
        names(SecretQuery {
            search: Some("APP".into()),
            oldest_first: true,
            ..SecretQuery::default()
        }),
        ["app-db", "app-token"]
    );
    assert_eq!(
        names(SecretQuery {
            state: SecretStateFilter::Only(SecretState::Disabled),
            ..SecretQuery::default()
        }),
        ["app-token"]
    );
    let page = kms
        .list_secrets(&SecretQuery {
            offset: 1,
            limit: Some(1),
            ..SecretQuery::default()
        })
        .unwrap();
    assert_eq!((page.total, page.secrets.len()), (3, 1));
    assert_eq!(
        code(kms.list_secrets(&SecretQuery {
            limit: Some(0),
            ..SecretQuery::default()
        })),
        ErrorCode::InvalidParameterValue
    );
}

#[test]
fn a_keystore_from_before_secrets_opens_with_none_and_takes_them() {
    let (_dir, kms) =
        keyconsole::testing::compat::open_copy(std::sync::Arc::new(keyconsole::kms::SystemClock));
    assert_eq!(kms.list_secrets(&SecretQuery::default()).unwrap().total, 0);
    kms.create_secret(new_secret("added", text("v"))).unwrap();
    let reopened = Kms::open(kms.path(), keyconsole::testing::compat::PASSWORD).unwrap();
    assert_eq!(
        reopened.get_secret_value("added", "SSM_v1").unwrap(),
        text("v")
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn values_round_trip(
        bytes in proptest::collection::vec(any::<u8>(), 0..=32 * 1024),
        text_value in "\\PC{0,200}",
    ) {
        let (_ks, kms) = TestKeystore::new();
        let binary = SecretValue::Binary(Zeroizing::new(bytes));
        kms.create_secret(new_secret("bin", binary.clone())).unwrap();
        prop_assert_eq!(kms.get_secret_value("bin", "SSM_v1").unwrap(), binary);
        kms.create_secret(new_secret("txt", text(&text_value))).unwrap();
        prop_assert_eq!(kms.get_secret_value("txt", "SSM_v1").unwrap(), text(&text_value));
    }
}

/// A key that protects secrets (the secrets manager's default key too) cannot be scheduled for
/// deletion: the refusal names the secrets, as the cloud refuses a key a product uses. Once the
/// secrets are gone, the key can go.
#[test]
fn a_key_that_protects_secrets_is_not_deleted_under_them() {
    let (_ks, kms) = TestKeystore::new();
    create(&kms, "orders-key");
    let mut own = new_secret("orders-db", text("one"));
    own.key = Some("orders-key".to_owned());
    kms.create_secret(own).unwrap();
    kms.create_secret(new_secret("default-one", text("two")))
        .unwrap();
    let default_key = kms.describe_secret("default-one").unwrap().key_id;
    for (key, secret) in [
        ("orders-key", "orders-db"),
        (default_key.as_str(), "default-one"),
    ] {
        kms.disable_key(key).unwrap();
        let e = kms.schedule_key_deletion(key, 7).unwrap_err();
        assert_eq!(e.code, ErrorCode::CmkUsedByCloudProduct, "{e}");
        assert_eq!(
            keyconsole::api::tencent::codes::code(e.code),
            "FailedOperation.CmkUsedByCloudProduct"
        );
        assert!(e.message.contains(secret), "{e}");
        kms.disable_secret(secret).unwrap();
        kms.delete_secret(secret, 0).unwrap();
        kms.schedule_key_deletion(key, 7).unwrap();
    }
    // A pending-delete secret's refusal says so (not "disable it first").
    create(&kms, "third");
    kms.create_secret(CreateSecret {
        key: Some("third".into()),
        ..new_secret("kept", text("three"))
    })
    .unwrap();
    kms.disable_secret("kept").unwrap();
    kms.delete_secret("kept", 7).unwrap();
    let e = kms.delete_secret("kept", 7).unwrap_err();
    assert!(e.message.contains("already scheduled for deletion"), "{e}");
}
