//! Tags on keys and secrets, and the listing filters the cloud has (owner, origin, usage, tags):
//! kept across a reopen, edited in one step, matched as `TagFilters` match.

use keyconsole::kms::secrets::SecretQuery;
use keyconsole::kms::testing::TestKeystore;
use keyconsole::kms::{
    CreateKey, CreateSecret, ErrorCode, KeyOwner, KeyQuery, OriginFilter, SecretValue, Tag,
    TagFilter,
};
use zeroize::Zeroizing;

fn key(alias: &str, tags: &[(&str, &str)]) -> CreateKey {
    CreateKey {
        alias: alias.to_owned(),
        tags: tags.iter().map(|(k, v)| Tag::new(*k, *v)).collect(),
        ..CreateKey::default()
    }
}

fn filter(key: &str, values: &[&str]) -> TagFilter {
    TagFilter {
        key: key.to_owned(),
        values: values.iter().map(|v| v.to_string()).collect(),
    }
}

fn aliases(kms: &keyconsole::kms::Kms, query: KeyQuery) -> Vec<String> {
    let mut found: Vec<String> = kms
        .list_keys(&query)
        .unwrap()
        .keys
        .into_iter()
        .map(|k| k.alias)
        .collect();
    found.sort();
    found
}

#[test]
fn key_tags_are_kept_edited_in_one_step_and_filter_listings() {
    let (ks, kms) = TestKeystore::new();
    kms.create_key(key("pay", &[("env", "prod"), ("team", "pay")]))
        .unwrap();
    kms.create_key(key("ops", &[("env", "test")])).unwrap();
    kms.create_key(key("bare", &[])).unwrap();
    let refused = kms
        .create_key(key("twice", &[("a", "1"), ("a", "2")]))
        .unwrap_err();
    assert_eq!(refused.code, ErrorCode::TagKeysDuplicated);
    assert!(kms.describe_key("twice").is_err(), "nothing half made");

    let tagged = |filters: Vec<TagFilter>| {
        aliases(
            &kms,
            KeyQuery {
                tags: filters,
                ..KeyQuery::default()
            },
        )
    };
    assert_eq!(tagged(vec![filter("env", &[])]), ["ops", "pay"]);
    assert_eq!(tagged(vec![filter("env", &["prod", "dev"])]), ["pay"]);
    assert_eq!(
        tagged(vec![filter("env", &[]), filter("team", &["pay"])]),
        ["pay"]
    );
    assert!(tagged(vec![filter("nope", &[])]).is_empty());

    kms.tag_key("pay", &[Tag::new("env", "staging")], &["team".to_owned()])
        .unwrap();
    // A change that breaks the rules changes nothing.
    let reserved = kms
        .tag_key("pay", &[Tag::new("qcloud:x", "1")], &["env".to_owned()])
        .unwrap_err();
    assert_eq!(reserved.code, ErrorCode::InvalidParameterValue);
    let reopened = ks.reopen();
    assert_eq!(
        reopened.describe_key("pay").unwrap().tags,
        [Tag::new("env", "staging")]
    );
    assert!(reopened.describe_key("bare").unwrap().tags.is_empty());
}

#[test]
fn listings_by_owner_origin_and_usage() {
    let (_ks, kms) = TestKeystore::new();
    kms.create_key(key("mine", &[])).unwrap();
    // The secrets manager makes its own key on first use.
    kms.create_secret(CreateSecret {
        name: "s".to_owned(),
        version_id: None,
        description: String::new(),
        key: None,
        value: SecretValue::Text(Zeroizing::new("v".to_owned())),
        tags: vec![Tag::new("env", "prod")],
    })
    .unwrap();
    let by_owner = |owner| {
        aliases(
            &kms,
            KeyQuery {
                owner,
                ..KeyQuery::default()
            },
        )
    };
    assert_eq!(by_owner(Some(KeyOwner::User)), ["mine"]);
    assert_eq!(by_owner(Some(KeyOwner::SecretsManager)), ["ssm-default"]);
    assert_eq!(by_owner(None), ["mine", "ssm-default"]);
    let imported = aliases(
        &kms,
        KeyQuery {
            origin: OriginFilter::Imported,
            ..KeyQuery::default()
        },
    );
    assert!(imported.is_empty(), "no key has imported material");
    let symmetric = aliases(
        &kms,
        KeyQuery {
            usage: Some("ENCRYPT_DECRYPT".to_owned()),
            origin: OriginFilter::Generated,
            ..KeyQuery::default()
        },
    );
    assert_eq!(symmetric, ["mine", "ssm-default"]);

    let secrets = |tags: Vec<TagFilter>| {
        kms.list_secrets(&SecretQuery {
            tags,
            ..SecretQuery::default()
        })
        .unwrap()
        .total
    };
    assert_eq!(secrets(vec![filter("env", &["prod"])]), 1);
    assert_eq!(secrets(vec![filter("env", &["dev"])]), 0);
    kms.tag_secret("s", &[], &["env".to_owned()]).unwrap();
    assert_eq!(secrets(vec![filter("env", &[])]), 0);
    assert!(kms.describe_secret("s").unwrap().tags.is_empty());
}
