//! A team's users: each one's policy decides what its API calls may do, through the service every
//! dialect calls; keys rotate with a grace period; a disabled or deleted user is refused.

use keyconsole::kms::policy::{Policy, Preset, key_resource, secret_resource};
use keyconsole::kms::service::{Caller, KmsService};
use keyconsole::kms::{CanonicalContext, Cloud, CreateSecret, ErrorCode, SecretValue};
use keyconsole::testing::{TestKeystore, create};
use keyconsole::util::i18n::Language;
use zeroize::Zeroizing;

fn as_user(secret_id: &str) -> Caller {
    Caller::api(secret_id, Language::English, "request", true)
}

fn code<T>(result: keyconsole::kms::Result<T>) -> Option<ErrorCode> {
    result.err().map(|e| e.code)
}

#[test]
fn two_users_side_by_side_each_refused_what_it_may_not_do() {
    let (_ks, kms) = TestKeystore::new();
    let orders = create(&kms, "orders");
    let billing = create(&kms, "billing");
    kms.create_secret(CreateSecret {
        name: "orders-db".into(),
        version_id: None,
        description: String::new(),
        key: Some("orders".into()),
        value: SecretValue::Text(Zeroizing::new("s3cret".into())),
        tags: Vec::new(),
    })
    .unwrap();
    let alice = kms
        .create_user(
            "alice",
            Preset::CryptoUser.policy(std::slice::from_ref(&orders.key_id)),
        )
        .unwrap();
    let bob = kms
        .create_user(
            "bob",
            Policy::parse(
                &serde_json::json!({"version": "2.0", "statement": [
                    {"effect": "allow", "action": ["ssm:GetSecretValue", "ssm:ListSecrets"],
                     "resource": "*"},
                    {"effect": "allow", "action": "kms:List*", "resource": "*"},
                ]})
                .to_string(),
            )
            .unwrap(),
        )
        .unwrap();
    let none = CanonicalContext::none();
    let service: &dyn KmsService = &kms;

    // Alice encrypts and decrypts under her key (by alias too), not under another.
    let (a, b) = (as_user(&alice.secret_id), as_user(&bob.secret_id));
    let sealed = service.encrypt(&a, "orders", b"x", &none).unwrap();
    assert_eq!(
        service
            .decrypt(&a, &sealed.ciphertext_blob, &none)
            .unwrap()
            .plaintext
            .as_ref(),
        b"x"
    );
    assert_eq!(
        code(service.encrypt(&a, "billing", b"x", &none)),
        Some(ErrorCode::UnauthorizedOperation)
    );
    let refusal = service
        .encrypt(&a, &billing.key_id, b"x", &none)
        .unwrap_err();
    assert!(
        refusal.message.contains("alice")
            && refusal.message.contains("kms:Encrypt")
            && refusal.message.contains(&key_resource(&billing.key_id)),
        "{}",
        refusal.message
    );
    assert_eq!(
        code(service.get_secret_value(&a, "orders-db", "SSM_v1")),
        Some(ErrorCode::UnauthorizedOperation)
    );
    assert_eq!(
        code(service.change_keys(
            &a,
            std::slice::from_ref(&orders.key_id),
            keyconsole::kms::service::KeyChange::Disable
        )),
        Some(ErrorCode::UnauthorizedOperation)
    );

    // Bob reads the secret, may list keys, and may neither decrypt nor encrypt.
    assert_eq!(
        service
            .get_secret_value(&b, "orders-db", "SSM_v1")
            .unwrap()
            .bytes(),
        b"s3cret"
    );
    assert!(service.list_keys(&b, &Default::default()).is_ok());
    assert_eq!(
        code(service.decrypt(&b, &sealed.ciphertext_blob, &none)),
        Some(ErrorCode::UnauthorizedOperation)
    );

    // The owner (the keystore's own credentials, or anyone at this machine) may do everything.
    let owner = kms.api_credentials().unwrap();
    assert!(
        service
            .encrypt(&as_user(&owner.secret_id), "billing", b"x", &none)
            .is_ok()
    );
    let local = Caller::local(keyconsole::kms::service::Face::Cli, Language::English);
    assert!(service.encrypt(&local, "billing", b"x", &none).is_ok());

    // The users' keys authenticate; a disabled user's do not, nor a deleted one's.
    assert!(kms.api_secret_key(&alice.secret_id).is_ok());
    kms.set_user_disabled("alice", true).unwrap();
    assert!(kms.api_secret_key(&alice.secret_id).is_err());
    kms.set_user_disabled("alice", false).unwrap();
    kms.delete_user("bob").unwrap();
    assert!(kms.api_secret_key(&bob.secret_id).is_err());
    assert_eq!(code(kms.delete_user("bob")), Some(ErrorCode::UserNotFound));
    assert_eq!(
        code(kms.create_user("alice", Preset::Admin.policy(&[]))),
        Some(ErrorCode::UserExists)
    );
    assert_eq!(
        code(kms.create_user("no spaces", Preset::Admin.policy(&[]))),
        Some(ErrorCode::InvalidParameterValue)
    );
    // Everything above is in the keystore, as another process reads it.
    let names: Vec<String> = _ks.reopen().users().into_iter().map(|u| u.name).collect();
    assert_eq!(names, ["alice"]);
}

#[test]
fn a_rotated_key_works_through_its_grace_period_then_is_refused() {
    let (ks, kms) = TestKeystore::new();
    let first = kms
        .create_user("carol", Preset::ReadOnly.policy(&[]))
        .unwrap();
    let second = kms.rotate_user_key("carol", Cloud::Tencent, 2).unwrap();
    assert_ne!(first.secret_id, second.secret_id);
    assert!(
        kms.api_secret_key(&first.secret_id).is_ok(),
        "within the grace"
    );
    assert!(kms.api_secret_key(&second.secret_id).is_ok());
    ks.clock.advance(2 * 3600 + 1);
    assert!(
        kms.api_secret_key(&first.secret_id).is_err(),
        "after the grace"
    );
    assert!(kms.api_secret_key(&second.secret_id).is_ok());
    // No grace: the old key is refused at once.
    let third = kms.rotate_user_key("carol", Cloud::Tencent, 0).unwrap();
    assert!(kms.api_secret_key(&second.secret_id).is_err());
    assert!(kms.api_secret_key(&third.secret_id).is_ok());
    // Another cloud's key, made on first ask, signs only that cloud's requests.
    let huawei = kms.user_credentials("carol", Cloud::Huawei).unwrap();
    assert!(
        kms.api_secret_key_for(Cloud::Huawei, &huawei.secret_id)
            .is_ok()
    );
    assert!(kms.api_secret_key(&huawei.secret_id).is_err());
    assert_eq!(
        kms.user_credentials("carol", Cloud::Huawei)
            .unwrap()
            .secret_id,
        huawei.secret_id,
        "asked again: the same key"
    );
}

#[test]
fn conditions_on_the_source_address_and_the_encryption_context() {
    let (_ks, kms) = TestKeystore::new();
    let key = create(&kms, "app");
    let policy = Policy::parse(
        &serde_json::json!({"version": "2.0", "statement": [
            {"effect": "allow", "action": "kms:Encrypt", "resource": key_resource(&key.key_id),
             "condition": {"ip_equal": {"qcs:ip": ["10.0.0.0/8"]},
                           "string_equal": {"kms:encryption_context/app": ["orders"]}}},
            {"effect": "deny", "action": "ssm:*", "resource": secret_resource("*")},
        ]})
        .to_string(),
    )
    .unwrap();
    let dave = kms.create_user("dave", policy).unwrap();
    let service: &dyn KmsService = &kms;
    let orders = CanonicalContext::parse(Some(r#"{"app":"orders"}"#)).unwrap();
    let other = CanonicalContext::parse(Some(r#"{"app":"billing"}"#)).unwrap();
    let inside = as_user(&dave.secret_id).from_address(Some("10.2.3.4".parse().unwrap()));
    let outside = as_user(&dave.secret_id).from_address(Some("192.168.9.9".parse().unwrap()));
    assert!(service.encrypt(&inside, "app", b"x", &orders).is_ok());
    for (caller, context) in [
        (&inside, &other),
        (&outside, &orders),
        (&as_user(&dave.secret_id), &orders),
    ] {
        assert_eq!(
            code(service.encrypt(caller, "app", b"x", context)),
            Some(ErrorCode::UnauthorizedOperation)
        );
    }
}
