//! The console connected with a user's credentials: what the user's policy forbids is shown
//! disabled, with the reason as its tooltip; what it allows works; the server refuses the rest.

use crate::harness::Console;
use keyconsole_kms::policy::{Policy, key_resource};

/// Reads and encrypts with every key and decrypts with `orders` only (an explicit deny on
/// `archive`); no change, no secret, no audit trail.
fn crypto_user(key_id: &dyn Fn(&str) -> String) -> Policy {
    Policy::parse(&format!(
        r#"{{"version":"2.0","statement":[
            {{"effect":"allow","action":["kms:Describe*","kms:List*","kms:Encrypt","kms:Decrypt"],"resource":"*"}},
            {{"effect":"deny","action":"kms:Decrypt","resource":"{}"}}
        ]}}"#,
        key_resource(&key_id("archive"))
    ))
    .unwrap()
}

/// The actions the server's trail shows refused to `user`.
fn refused_calls(console: &Console, user: &str) -> Vec<String> {
    console
        .kms()
        .audit_events(&Default::default())
        .unwrap()
        .into_iter()
        .filter(|e| e.user == user && !e.succeeded())
        .map(|e| e.action)
        .collect()
}

#[test]
fn a_user_sees_what_it_may_not_do_disabled_with_the_reason() {
    let mut console = Console::connected_as(&["orders", "archive"], "carol", crypto_user);
    console.wait_until("the key list", |c| c.shows("orders") && c.shows("archive"));

    // No kms:CreateKey: shown, disabled, saying why.
    let why = console.disabled_reason("➕ Create key");
    assert!(
        why.iter()
            .any(|t| t.contains("carol") && t.contains("kms:CreateKey")),
        "{why:?}"
    );

    // On a key: no change allowed; encrypting and decrypting are.
    console.click("orders");
    assert!(console.shows("Online tools"));
    let why = console.disabled_reason("Disable");
    assert!(why.iter().any(|t| t.contains("kms:DisableKey")), "{why:?}");
    assert!(!console.enabled("Schedule deletion…"));
    assert!(console.enabled("Execute"), "Encrypt is allowed");
    console.type_into("Plaintext", "s3cret");
    console.click("Execute");
    assert!(console.value_of("Ciphertext").starts_with("S0MB"));
    console.click("Decrypt");
    assert!(console.enabled("Execute"), "Decrypt with orders is allowed");

    // The explicit deny names its statement.
    console.click("⬅ All keys");
    console.click("archive");
    console.click("Decrypt");
    let why = console.disabled_reason("Execute");
    assert!(
        why.iter()
            .any(|t| t.contains("kms:Decrypt") && t.contains("statement 2")),
        "{why:?}"
    );

    // No ssm: the secrets page opens empty, creating is disabled.
    console.click("Secrets");
    assert!(!console.enabled("➕ Create secret"));

    // No cloudaudit:LookUpEvents: the Audit page says so instead of failing.
    console.click("Audit");
    assert!(!console.enabled("⟳ Reload"));
    assert!(console.shows("does not allow cloudaudit:LookUpEvents"));

    // The server judged it the same way: the refused calls were never made, the allowed ones were.
    let events = console.kms().audit_events(&Default::default()).unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.user == "carol" && e.action == "Encrypt" && e.succeeded())
    );
    assert!(
        events
            .iter()
            .any(|e| e.user == "carol" && e.action == "GetCallerPolicy")
    );
    let refused = refused_calls(&console, "carol");
    assert!(refused.is_empty(), "refused: {refused:?}");
}

/// A key pair's tools: signing and reading the public key, not allowed, say so.
#[test]
fn a_key_pair_s_tools_say_what_the_policy_forbids() {
    let mut console = Console::connected_as(&["orders", "archive"], "carol", crypto_user);
    console.wait_until("the key list", |c| c.shows("orders"));
    console
        .kms()
        .create_key(keyconsole::kms::CreateKey {
            alias: "signer".into(),
            key_usage: Some("ASYMMETRIC_SIGN_VERIFY_ECC".into()),
            ..Default::default()
        })
        .unwrap();
    console.clock.advance(5);
    console.wait_until("the new key", |c| c.shows("signer"));
    console.click("signer");
    assert!(console.shows("does not allow kms:GetPublicKey"));
    console.click("Sign");
    let why = console.disabled_reason("Sign the message");
    assert!(
        why.iter().any(|t| t.contains("kms:SignByAsymmetricKey")),
        "{why:?}"
    );
}

/// The owner's credentials: nothing disabled by a policy.
#[test]
fn the_owner_may_do_everything() {
    let mut console = Console::connected(&["orders"]);
    console.wait_until("the key list", |c| c.shows("orders"));
    assert!(console.enabled("➕ Create key"));
    console.click("orders");
    assert!(console.enabled("Disable"));
}

/// A user who may read secrets and nothing of keys: the key list is empty, and the console never
/// asked for it (a refused listing would be an event at every refresh).
#[test]
fn a_user_without_kms_list_is_never_refused_a_listing() {
    let secret_reader =
        |_: &dyn Fn(&str) -> String| keyconsole_kms::policy::Preset::SecretReader.policy(&[]);
    let mut console = Console::connected_as(&["orders"], "dave", secret_reader);
    let listings = |c: &Console| {
        c.kms()
            .audit_events(&Default::default())
            .unwrap()
            .iter()
            .filter(|e| e.user == "dave" && e.action == "ListSecrets")
            .count()
    };
    console.wait_until("the secrets page's listing", |c| listings(c) >= 1);
    assert!(!console.shows("orders"));
    // A second refresh, to be sure none of them asks.
    console.clock.advance(5);
    console.wait_until("another listing", |c| listings(c) >= 2);
    let refused = refused_calls(&console, "dave");
    assert!(refused.is_empty(), "refused: {refused:?}");
}
