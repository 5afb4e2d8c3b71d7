//! The cloud's JSON shapes and numbers for the engine's plain data: KeyMetadata and
//! SecretMetadata as the SDKs read them, ListKeyDetail's state and order numbers. The loopback API
//! answers with them, the remote client reads them back, and the CLI's `--json` prints them (the
//! cloud's shapes, so a script written for the cloud's SDK output reads keyconsole's too).

use serde_json::{Map, Value, json};

use super::Reply;

use keyconsole_kms::secrets::DatabaseMetadata;
use keyconsole_kms::{
    ErrorCode, KeyMetadata, KeyState, KmsError, Order, OriginFilter, Result, SecretMetadata,
    StateFilter,
};

/// What the cloud calls key material its KMS generated itself.
pub const GENERATED_ORIGIN: &str = "TENCENT_KMS";

/// The cloud's KeyMetadata: every field its SDKs read, and nothing else (they warn on unknown
/// fields). The API answers with it.
pub fn key_metadata(key: &KeyMetadata) -> Map<String, Value> {
    let value = json!({
        "KeyId": key.key_id,
        "Alias": key.alias,
        "CreateTime": key.create_time,
        "Description": key.description,
        "KeyState": key.key_state.as_str(),
        "KeyUsage": key.key_usage,
        // 2: FIPS-approved algorithms (AES-256, RSA, ECC); 4: 国密 (SM4, SM2).
        "Type": if keyconsole_kms::KeySpec::from_name(&key.key_spec).is_some_and(|s| s.is_guomi()) { 4 } else { 2 },
        "CreatorUin": 0,
        "CreatorUinString": "0",
        "KeyRotationEnabled": key.key_rotation_enabled,
        "Owner": key.owner.as_str(),
        "NextRotateTime": key.next_rotate_time,
        "DeletionDate": key.deletion_date,
        "Origin": if key.origin == keyconsole_kms::KeyOrigin::External.as_str() { "EXTERNAL" } else { GENERATED_ORIGIN },
        "ValidTo": key.valid_to,
        // As the cloud documents it: creatorUin/$creatorUin/$keyId (the local uin is 0).
        "ResourceId": format!("creatorUin/0/{}", key.key_id),
        "HsmClusterId": "",
        "RotateDays": key.rotate_days,
        "LastRotateTime": key.last_rotate_time,
        // Cross-region replicas and member accounts: none here.
        "IsSyncReplica": 0,
        "SourceRegion": "",
        "SyncStatus": 0,
        "SyncMessages": "",
        "SyncStartTime": 0,
        "SyncEndTime": 0,
        "SourceHsmClusterId": "",
        "AccountAppId": 0,
        "AccountUin": 0,
        "AccountName": "",
    });
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// Tags as the cloud writes them: `[{"TagKey", "TagValue"}]`.
pub fn tags_json(tags: &[keyconsole_kms::Tag]) -> Value {
    tags.iter()
        .map(|t| json!({"TagKey": t.key, "TagValue": t.value}))
        .collect()
}

/// The cloud's KeyMetadata plus keyconsole's extensions, `VersionCount` and `Tags` (`key list --json`,
/// `key describe --json`).
pub fn key_metadata_with_versions(key: &KeyMetadata) -> Map<String, Value> {
    let mut map = key_metadata(key);
    map.insert("VersionCount".to_owned(), json!(key.version_count));
    map.insert("Tags".to_owned(), tags_json(&key.tags));
    map
}

/// The fields ListSecrets' SecretMetadata and DescribeSecret share.
fn secret_fields(secret: &SecretMetadata) -> Map<String, Value> {
    let database = secret.database.as_ref();
    let ssh = secret.ssh.as_ref();
    let value = json!({
        "SecretName": secret.name,
        "Description": secret.description,
        "KmsKeyId": secret.key_id,
        "CreateUin": 0,
        "CreateUinString": "0",
        "Status": secret.state.as_str(),
        "DeleteTime": secret.delete_time,
        "CreateTime": secret.create_time,
        "SecretType": secret.secret_type().number(),
        "ProductName": database.map_or("", DatabaseMetadata::product_name),
        // A product secret's instance; an SSH key pair's id (and below its name and project).
        "ResourceID": database
            .and_then(|d| d.product.as_ref())
            .map(|p| p.instance_id.as_str())
            .or(ssh.map(|p| p.key_id.as_str()))
            .unwrap_or_default(),
        "RotationFrequency": database.map_or(0, |d| d.rotate_days),
        "ResourceName": ssh.map_or("", |p| p.key_name.as_str()),
        "ProjectID": ssh.map_or(0, |p| p.project_id),
        "AssociatedInstanceIDs": [],
        "TargetUin": 0,
        "TargetUinString": "",
        "EncryptType": 0,
        "EncryptSwitching": false,
    });
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn rotating(secret: &SecretMetadata) -> Option<&DatabaseMetadata> {
    secret.database.as_ref().filter(|d| d.rotation_enabled)
}

/// ListSecrets' SecretMetadata: RotationStatus is a number there (1 on, 0 off) and
/// NextRotationTime a Unix time (0 when not rotating), as its model says.
pub fn secret_metadata(secret: &SecretMetadata) -> Value {
    let mut map = secret_fields(secret);
    map.insert("KmsKeyType".to_owned(), json!(kms_key_type(secret)));
    map.insert(
        "RotationStatus".to_owned(),
        json!(i32::from(rotating(secret).is_some())),
    );
    map.insert(
        "NextRotationTime".to_owned(),
        json!(rotating(secret).map_or(0, |d| d.next_rotation_time)),
    );
    map.insert(
        "RotationBeginTime".to_owned(),
        json!(rotating(secret).map_or_else(String::new, |d| api_time(d.next_rotation_time))),
    );
    Value::Object(map)
}

/// DescribeSecret's answer: RotationStatus a bool and NextRotationTime a string there (Unix
/// seconds; empty when not rotating), as its model says.
pub fn describe_secret(secret: &SecretMetadata) -> Reply {
    let mut map = secret_fields(secret);
    map.insert(
        "RotationStatus".to_owned(),
        json!(rotating(secret).is_some()),
    );
    map.insert(
        "NextRotationTime".to_owned(),
        json!(rotating(secret).map_or_else(String::new, |d| d.next_rotation_time.to_string())),
    );
    map.insert("AdditionalConfig".to_owned(), json!(""));
    map.insert("AccountInfoList".to_owned(), json!([]));
    map
}

fn kms_key_type(secret: &SecretMetadata) -> &'static str {
    if secret.default_key {
        "DEFAULT"
    } else {
        "CUSTOMER"
    }
}

/// The cloud's `YYYY-MM-DD HH:MM:SS` (UTC) of a Unix time.
fn api_time(time: i64) -> String {
    keyconsole_base::util::time::format_api_time(time)
}

/// The number ListKeyDetail's `KeyState` filter uses for a state (0 means all states).
pub fn state_number(state: KeyState) -> u32 {
    match state {
        KeyState::Enabled => 1,
        KeyState::Disabled => 2,
        KeyState::PendingDelete => 3,
        KeyState::PendingImport => 4,
        KeyState::Archived => 5,
    }
}

/// ListKeyDetail's `KeyState`: 0 all, 1 Enabled, 2 Disabled, 3 PendingDelete, 4 PendingImport,
/// 5 Archived.
pub fn state_filter(number: u64) -> Result<StateFilter> {
    if number == 0 {
        return Ok(StateFilter::Any);
    }
    KeyState::ALL
        .into_iter()
        .find(|&s| u64::from(state_number(s)) == number)
        .map(StateFilter::Only)
        .ok_or_else(|| {
            KmsError::new(
                ErrorCode::InvalidParameterValue,
                keyconsole_base::text!("errors.keystate_is_number_use_0_all", number = number),
            )
        })
}

/// The number of a state filter, for asking a server.
pub fn state_filter_number(filter: StateFilter) -> u32 {
    match filter {
        StateFilter::Any => 0,
        StateFilter::Only(state) => state_number(state),
    }
}

/// ListKeyDetail's `OrderType`: 0 newest first, 1 oldest first.
pub fn order(number: u64) -> Result<Order> {
    match number {
        0 => Ok(Order::NewestFirst),
        1 => Ok(Order::OldestFirst),
        other => Err(KmsError::new(
            ErrorCode::InvalidParameterValue,
            keyconsole_base::text!("errors.ordertype_is_other_use_0_newest", other = other),
        )),
    }
}

/// The number of an order, for asking a server.
pub fn order_number(order: Order) -> u32 {
    match order {
        Order::NewestFirst => 0,
        Order::OldestFirst => 1,
    }
}

/// ListKeyDetail's `Origin`: `TENCENT_KMS` (made by the service), `EXTERNAL` (imported), `ALL`
/// or nothing for both.
pub fn origin_filter(name: Option<&str>) -> Result<OriginFilter> {
    match name.map(str::trim).unwrap_or("") {
        "" | "ALL" => Ok(OriginFilter::Any),
        GENERATED_ORIGIN => Ok(OriginFilter::Generated),
        "EXTERNAL" => Ok(OriginFilter::Imported),
        other => Err(KmsError::new(
            ErrorCode::InvalidParameter,
            keyconsole_base::text!("errors.origin_is_other", other = other),
        )),
    }
}

/// The `Origin` to ask a server for.
pub fn origin_name(filter: OriginFilter) -> &'static str {
    match filter {
        OriginFilter::Any => "ALL",
        OriginFilter::Generated => GENERATED_ORIGIN,
        OriginFilter::Imported => "EXTERNAL",
    }
}

/// The key usages the cloud names (symmetric, then asymmetric).
pub const KEY_USAGES: [&str; 7] = [
    "ENCRYPT_DECRYPT",
    "ASYMMETRIC_DECRYPT_RSA_2048",
    "ASYMMETRIC_DECRYPT_SM2",
    "ASYMMETRIC_SIGN_VERIFY_SM2",
    "ASYMMETRIC_SIGN_VERIFY_ECC",
    "ASYMMETRIC_SIGN_VERIFY_RSA_2048",
    "ASYMMETRIC_SIGN_VERIFY_ECDSA384",
];

/// A key's spec from what the cloud's KeyMetadata says: its usage, and for a symmetric key its
/// Type (4: SM4).
pub fn key_spec_of(usage: &str, kind: i64) -> &'static str {
    use keyconsole_kms::{KeySpec, KeyUsage};
    match KeyUsage::from_name(usage).and_then(KeyUsage::pair_spec) {
        Some(spec) => spec.as_str(),
        None if kind == 4 => KeySpec::Sm4.as_str(),
        None => KeySpec::Aes256.as_str(),
    }
}

/// ListKeyDetail's `KeyUsage`: nothing means `ENCRYPT_DECRYPT` only (the cloud's default), `ALL`
/// every usage, a usage name that one.
pub fn usage_filter(name: Option<&str>) -> Result<Option<String>> {
    match name.map(str::trim).unwrap_or("") {
        "" => Ok(Some(KEY_USAGES[0].to_owned())),
        "ALL" => Ok(None),
        usage if KEY_USAGES.contains(&usage) => Ok(Some(usage.to_owned())),
        other => Err(KmsError::new(
            ErrorCode::InvalidParameter,
            keyconsole_base::text!("errors.keyusage_filter_is_other", other = other),
        )),
    }
}
