//! Tags in the console: given when a key or secret is made, shown on its page, edited there, and
//! on a team's server shown as not editable from here.

use crate::harness::Console;
use egui_kittest::kittest::{NodeT as _, Queryable};
use keyconsole::kms::{SecretValue, Tag};

/// A key made with a tag from the dialog, its tags edited on its page (a value changed, a bad
/// key refused before anything is sent, a tag removed).
#[test]
fn a_key_is_made_with_a_tag_and_its_tags_are_edited_on_its_page() {
    let mut console = Console::unlocked(&["other"]);
    console.click("➕ Create key");
    console.type_into("Alias", "pay-db");
    console.click("Add tag");
    console.type_into("Tag key", "env");
    console.type_into("Tag value", "prod");
    console.click("Create");
    let key = console.kms().describe_key("pay-db").unwrap();
    assert_eq!(key.tags, [Tag::new("env", "prod")]);

    console.click("pay-db");
    assert!(console.shows("env: prod"), "the page shows the tag");
    console.click("Edit tags");
    console.replace_in("Tag value", "test");
    console.click("Save tags");
    assert!(console.shows("Tags saved."));
    assert_eq!(
        console.kms().describe_key("pay-db").unwrap().tags,
        [Tag::new("env", "test")]
    );
    assert!(
        console.shows("env: test"),
        "the editor closed on the new tags"
    );

    // A key the cloud keeps for itself is refused in the editor, before anything is sent.
    console.click("Edit tags");
    console.replace_in("Tag key", "qcloud:owner");
    assert!(console.shows("prefix the cloud keeps"));
    assert!(
        console
            .harness
            .get_by_label("Save tags")
            .accesskit_node()
            .is_disabled(),
        "Save waits for tags the rules accept"
    );
    console.click("✖");
    console.click("Save tags");
    assert!(
        console
            .kms()
            .describe_key("pay-db")
            .unwrap()
            .tags
            .is_empty()
    );
    assert!(console.shows("No tags"));
}

#[test]
fn a_secret_is_made_with_a_tag_and_its_tags_are_edited() {
    let mut console = Console::unlocked(&["app"]);
    console.click("Secrets");
    console.click("➕ Create secret");
    console.type_into("Name", "orders-db");
    console.type_into("Value", "S3cr3t!pass");
    console.click("Add tag");
    console.type_into("Tag key", "项目");
    console.type_into("Tag value", "支付");
    console.click("Create");
    assert!(console.shows("Created secret orders-db"));
    let secret = console.kms().describe_secret("orders-db").unwrap();
    assert_eq!(secret.tags, [Tag::new("项目", "支付")]);
    assert_eq!(
        console
            .kms()
            .get_secret_value("orders-db", "SSM_v1")
            .unwrap(),
        SecretValue::Text("S3cr3t!pass".to_owned().into())
    );
    assert!(console.shows("项目: 支付"));
    console.click("Edit tags");
    console.replace_in("Tag value", "订单");
    console.click("Save tags");
    assert!(console.shows("Saved the tags of orders-db"));
    assert_eq!(
        console.kms().describe_secret("orders-db").unwrap().tags,
        [Tag::new("项目", "订单")]
    );
}

/// On a team's server the console shows where tags are edited instead of an editor that would
/// fail (the cloud's API edits tags through a service keyconsole does not serve).
#[test]
fn on_a_server_tags_are_not_edited_from_the_console() {
    let mut console = Console::connected(&["remote-key"]);
    console.click("remote-key");
    assert!(console.shows("Tags are edited where the server runs."));
    assert!(console.harness.query_by_label("Edit tags").is_none());
}
