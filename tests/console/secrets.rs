//! The Secrets page through egui_kittest, by role and label: create, show and copy a value (the
//! clipboard is cleared later), add a version, disable, delete with a recovery window, restore.

use keyconsole::kms::{SecretState, SecretValue};

use crate::harness::Console;

#[test]
fn a_secret_is_created_shown_copied_versioned_disabled_deleted_and_restored() {
    let mut console = Console::unlocked(&["app"]);
    console.click("Secrets");
    console.click("➕ Create secret");
    console.type_into("Name", "orders-db");
    console.type_into("Value", "S3cr3t!pass");
    console.type_into("Description", "MySQL orders");
    console.click("Create");
    assert!(console.shows("Created secret orders-db"));
    assert_eq!(
        console
            .kms()
            .get_secret_value("orders-db", "SSM_v1")
            .unwrap(),
        SecretValue::Text("S3cr3t!pass".to_owned().into())
    );
    // The new secret is chosen; its value stays hidden until asked for.
    assert!(!console.shows("S3cr3t!pass"));
    console.click("Show");
    assert_eq!(console.value_of("Value"), "S3cr3t!pass");
    console.click("📋 Copy value");
    assert_eq!(console.clipboard.contents().as_deref(), Some("S3cr3t!pass"));
    console.click("Hide");
    assert!(!console.shows("S3cr3t!pass"));

    console.type_into("New version", "v2");
    console.type_into("New value", "rotated-pass");
    console.click("Add version");
    assert!(console.shows("Added version v2 to orders-db"));
    assert_eq!(console.kms().secret_versions("orders-db").unwrap().len(), 2);

    console.click("Disable");
    assert_eq!(
        console.kms().describe_secret("orders-db").unwrap().state,
        SecretState::Disabled
    );
    // Deleting needs the typed name.
    console.type_into("Type the name to confirm", "orders-db");
    console.click("🗑 Delete secret");
    assert!(console.shows("can be restored until then"));
    assert_eq!(
        console.kms().describe_secret("orders-db").unwrap().state,
        SecretState::PendingDelete
    );
    console.click("Restore");
    assert_eq!(
        console.kms().describe_secret("orders-db").unwrap().state,
        SecretState::Disabled
    );
}

#[test]
fn the_create_form_says_what_is_wrong_with_a_name() {
    let mut console = Console::unlocked(&["app"]);
    console.click("Secrets");
    console.click("➕ Create secret");
    console.type_into("Name", "bad name");
    assert!(console.shows("contains ' '"));
    console.replace_in("Name", "taken");
    console
        .kms()
        .create_secret(keyconsole::kms::CreateSecret {
            name: "taken".into(),
            version_id: None,
            description: String::new(),
            key: None,
            value: SecretValue::Text("x".to_owned().into()),
        })
        .unwrap();
    console.settle();
    assert!(console.shows("A secret named taken already exists."));
}
