//! The cloud's JSON shapes and numbers for the engine's plain data: KeyMetadata and
//! SecretMetadata as the SDKs read them, ListKeyDetail's state and order numbers. The loopback API
//! answers with them, the remote client reads them back, and the CLI's `--json` prints them (the
//! cloud's shapes, so a script written for the cloud's SDK output reads keyconsole's too).

use serde_json::{Map, Value, json};

use keyconsole_kms::secrets::DatabaseMetadata;
use keyconsole_kms::{
    ErrorCode, KeyMetadata, KeyState, KmsError, Order, Result, SecretMetadata, StateFilter,
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
        "Type": 1,
        "CreatorUin": 0,
        "KeyRotationEnabled": key.key_rotation_enabled,
        "Owner": "user",
        "NextRotateTime": key.next_rotate_time,
        "DeletionDate": key.deletion_date,
        "Origin": GENERATED_ORIGIN,
        "ValidTo": 0,
        "ResourceId": format!("qcs::kms:local:uin/0:key/{}", key.key_id),
        "RotateDays": key.rotate_days,
        "LastRotateTime": key.last_rotate_time,
    });
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// The cloud's KeyMetadata plus keyconsole's one extension, `VersionCount` (`key list --json`,
/// `key describe --json`).
pub fn key_metadata_with_versions(key: &KeyMetadata) -> Map<String, Value> {
    let mut map = key_metadata(key);
    map.insert("VersionCount".to_owned(), json!(key.version_count));
    map
}

/// The cloud's SecretMetadata (DescribeSecret's fields, ListSecrets' entries).
pub fn secret_metadata(secret: &SecretMetadata) -> Value {
    let database = secret.database.as_ref();
    json!({
        "SecretName": secret.name,
        "Description": secret.description,
        "KmsKeyId": secret.key_id,
        "CreateUin": 0,
        "Status": secret.state.as_str(),
        "DeleteTime": secret.delete_time,
        "CreateTime": secret.create_time,
        "KmsKeyType": if secret.default_key { "DEFAULT" } else { "CUSTOMER" },
        // The SDK's model: a bool, and a string (Unix seconds; empty when not rotating).
        "RotationStatus": database.is_some_and(|d| d.rotation_enabled),
        "NextRotationTime": database
            .filter(|d| d.rotation_enabled)
            .map_or_else(String::new, |d| d.next_rotation_time.to_string()),
        "SecretType": i32::from(database.is_some()),
        "ProductName": database.map_or("", DatabaseMetadata::product_name),
        "RotationFrequency": database.map_or(0, |d| d.rotate_days),
    })
}

/// The number ListKeyDetail's `KeyState` filter uses for a state (0 means all states).
pub fn state_number(state: KeyState) -> u32 {
    match state {
        KeyState::Enabled => 1,
        KeyState::Disabled => 2,
        KeyState::PendingDelete => 3,
        KeyState::Archived => 5,
    }
}

/// ListKeyDetail's `KeyState`: 0 all, 1 Enabled, 2 Disabled, 3 PendingDelete, 4 PendingImport,
/// 5 Archived.
pub fn state_filter(number: u64) -> Result<StateFilter> {
    if number == 0 {
        return Ok(StateFilter::Any);
    }
    if number == 4 {
        return Ok(StateFilter::PendingImport);
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
        StateFilter::PendingImport => 4,
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
