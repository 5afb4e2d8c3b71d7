//! The rotation's rules against fake databases (the engine's `DatabaseDriver`), in milliseconds:
//! what each answer of the database leads to. `database.rs` runs the same flows against real
//! MariaDB and PostgreSQL servers.

use std::sync::Arc;

use keyconsole::kms::secrets::CreateDatabaseSecret;
use keyconsole::kms::{ErrorCode, Kms, SecretValue};
use keyconsole::testing::TestKeystore;
use keyconsole::testing::database::{ChangeFault, FakeDatabases};
use keyconsole::util::database::{DbEndpoint, DbEngine};

const FIRST: &str = "first password 1";

fn endpoint() -> DbEndpoint {
    DbEndpoint {
        engine: DbEngine::MySql,
        host: "db.test".to_owned(),
        port: 3306,
        user: "orders".to_owned(),
    }
}

/// An engine whose databases are `fake`, holding the database secret `orders-db`.
fn engine_with_secret() -> (TestKeystore, Kms, FakeDatabases) {
    let (keystore, kms) = TestKeystore::new();
    let fake = FakeDatabases::default();
    fake.create_user(&endpoint(), FIRST);
    kms.set_database_driver(Arc::new(fake.clone()));
    kms.create_database_secret(CreateDatabaseSecret {
        name: "orders-db".to_owned(),
        description: String::new(),
        key: None,
        endpoint: endpoint(),
        password: FIRST.to_owned().into(),
        rotate_days: None,
    })
    .unwrap();
    (keystore, kms, fake)
}

/// The password `SSM_Current` holds.
fn current_password(kms: &Kms) -> String {
    let SecretValue::Text(json) = kms.get_secret_value("orders-db", "SSM_Current").unwrap() else {
        panic!("a database secret's value is text");
    };
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    value["Password"].as_str().unwrap().to_owned()
}

#[test]
fn a_wrong_password_is_refused_before_anything_is_kept() {
    let (_keystore, kms) = TestKeystore::new();
    let fake = FakeDatabases::default();
    fake.create_user(&endpoint(), FIRST);
    kms.set_database_driver(Arc::new(fake));
    let refused = kms
        .create_database_secret(CreateDatabaseSecret {
            name: "orders-db".to_owned(),
            description: String::new(),
            key: None,
            endpoint: endpoint(),
            password: "not it".to_owned().into(),
            rotate_days: None,
        })
        .unwrap_err();
    assert_eq!(refused.code, ErrorCode::FailedOperation);
    assert!(kms.describe_secret("orders-db").is_err());
}

#[test]
fn a_rotation_sets_the_new_password_and_makes_it_current() {
    let (_keystore, kms, fake) = engine_with_secret();
    let record = kms.rotate_due("orders-db").unwrap();
    let new = current_password(&kms);
    assert_ne!(new, FIRST);
    assert_eq!(fake.password_of(&endpoint()).as_deref(), Some(new.as_str()));
    assert_eq!(record.version_id, "SSM_v2");
    assert!(record.succeeded());
}

#[test]
fn a_change_applied_whose_answer_was_lost_is_found_done() {
    let (_keystore, kms, fake) = engine_with_secret();
    fake.fail_next_change(ChangeFault::AppliedAnswerLost);
    let record = kms.rotate_due("orders-db").unwrap();
    assert!(record.succeeded());
    let new = current_password(&kms);
    assert_eq!(fake.password_of(&endpoint()).as_deref(), Some(new.as_str()));
    assert_eq!(
        fake.changes(),
        1,
        "asked which password logs in, not set again"
    );
}

#[test]
fn a_refused_change_keeps_the_current_password_and_is_not_uncertain() {
    let (_keystore, kms, fake) = engine_with_secret();
    fake.fail_next_change(ChangeFault::Refuse);
    let failed = kms.rotate_due("orders-db").unwrap_err();
    assert_eq!(failed.code, ErrorCode::FailedOperation);
    assert_eq!(current_password(&kms), FIRST);
    assert_eq!(fake.password_of(&endpoint()).as_deref(), Some(FIRST));
    let last = kms
        .rotation_detail("orders-db")
        .unwrap()
        .history
        .pop()
        .unwrap();
    assert!(!last.succeeded() && !last.uncertain, "{last:?}");
}

#[test]
fn a_change_lost_before_it_was_applied_is_uncertain_and_tried_again() {
    let (_keystore, kms, fake) = engine_with_secret();
    fake.fail_next_change(ChangeFault::LostBeforeApplied);
    kms.rotate_due("orders-db").unwrap_err();
    assert_eq!(fake.password_of(&endpoint()).as_deref(), Some(FIRST));
    let detail = kms.rotation_detail("orders-db").unwrap();
    assert!(detail.history.last().unwrap().uncertain);
    assert_eq!(detail.pending_version.as_deref(), Some("SSM_v2"));
    // The next attempt finishes the same pending version.
    let record = kms.rotate_due("orders-db").unwrap();
    assert_eq!(record.version_id, "SSM_v2");
    assert_eq!(
        fake.password_of(&endpoint()).as_deref(),
        Some(current_password(&kms).as_str())
    );
}
