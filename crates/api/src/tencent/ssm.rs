//! The Secrets Manager actions of the Tencent Cloud API (SSM 2019-09-23), served on the same
//! listener as KMS and told apart by version (and the `ssm` credential scope). Each reads its
//! parameters, calls the engine, and shapes the answer as the cloud does; no rule lives here.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use zeroize::Zeroizing;

use super::params::Params;
use super::{Reply, Served, Service};
use keyconsole_base::util::time::{format_api_time, parse_api_time};
use keyconsole_kms::secrets::rules::LIST_LIMIT_DEFAULT;
use keyconsole_kms::{
    CreateSecret, ErrorCode, KmsError, Result, SecretChange, SecretChanged, SecretMetadata,
    SecretQuery, SecretState, SecretStateFilter, SecretValue,
};

/// Tencent Cloud Secrets Manager, API version 2019-09-23.
pub const SERVICE: Service = Service {
    title: "Secrets Manager",
    name: "ssm",
    version: "2019-09-23",
    actions: ACTIONS,
};

super::actions! {
    GetSecretValue: Read,
    ListSecrets: Read,
    ListSecretVersionIds: Read,
    DescribeSecret: Read,
    GetServiceStatus: Read,
    CreateSecret: Change,
    PutSecretValue: Change,
    UpdateSecret: Change,
    UpdateDescription: Change,
    EnableSecret: Change,
    DisableSecret: Change,
    DeleteSecret: Change,
    RestoreSecret: Change,
    DeleteSecretVersion: Change,
    DescribeRotationDetail: Read,
    DescribeRotationHistory: Read,
    UpdateRotationStatus: Change,
    RotateProductSecret: Change,
}

fn reply(value: Value) -> Result<Reply> {
    match value {
        Value::Object(map) => Ok(map),
        _ => Ok(Reply::new()),
    }
}

fn name(params: &Params) -> Result<&str> {
    params.required_str("SecretName")
}

/// Exactly one of SecretString (text) and SecretBinary (base64).
fn value(params: &Params) -> Result<SecretValue> {
    match (params.str("SecretString")?, params.str("SecretBinary")?) {
        (Some(text), None) => Ok(SecretValue::Text(Zeroizing::new(text.to_owned()))),
        (None, Some(binary)) => STANDARD
            .decode(binary.trim())
            .map(|bytes| SecretValue::Binary(Zeroizing::new(bytes)))
            .map_err(|_| {
                KmsError::new(
                    ErrorCode::InvalidParameterValue,
                    keyconsole_base::text!("errors.secretbinary_must_be_base64"),
                )
            }),
        (Some(_), Some(_)) => Err(KmsError::new(
            ErrorCode::InvalidParameter,
            keyconsole_base::text!("errors.give_secretstring_or_secretbinary_not_both"),
        )),
        (None, None) => Err(KmsError::new(
            ErrorCode::MissingParameter,
            keyconsole_base::text!("errors.the_parameter_secretstring_or_secretbinary_is"),
        )),
    }
}

fn change(served: &Served, name: &str, change: SecretChange) -> Result<SecretChanged> {
    served.kms.change_secret(&served.caller, name, change)
}

fn metadata(secret: &SecretMetadata) -> Value {
    super::shapes::secret_metadata(secret)
}

#[allow(non_snake_case)]
fn GetServiceStatus(_served: &Served, _params: &Params) -> Result<Reply> {
    // InvalidType: 0 not purchased, 1 normal, 2 stopped for arrears, 3 released.
    reply(json!({"ServiceEnabled": true, "InvalidType": 1}))
}

#[allow(non_snake_case)]
fn CreateSecret(served: &Served, params: &Params) -> Result<Reply> {
    let (name, version_id) = served.kms.create_secret(
        &served.caller,
        CreateSecret {
            name: name(params)?.to_owned(),
            version_id: params.str("VersionId")?.map(str::to_owned),
            description: params.str("Description")?.unwrap_or_default().to_owned(),
            key: params.str("KmsKeyId")?.map(str::to_owned),
            value: value(params)?,
        },
    )?;
    reply(json!({"SecretName": name, "VersionId": version_id}))
}

#[allow(non_snake_case)]
fn GetSecretValue(served: &Served, params: &Params) -> Result<Reply> {
    let name = name(params)?;
    let version_id = params.required_str("VersionId")?;
    let value = served
        .kms
        .get_secret_value(&served.caller, name, version_id)?;
    let (text, binary) = match &value {
        SecretValue::Text(text) => (Zeroizing::new(text.to_string()), Zeroizing::default()),
        SecretValue::Binary(bytes) => {
            (Zeroizing::default(), Zeroizing::new(STANDARD.encode(bytes)))
        }
    };
    reply(json!({
        "SecretName": name,
        "VersionId": version_id,
        "SecretString": text.as_str(),
        "SecretBinary": binary.as_str(),
    }))
}

/// PutSecretValue (a new version) and UpdateSecret (a new value for a version): the same
/// parameters and answer, one change or the other.
fn send_value(
    served: &Served,
    params: &Params,
    to_change: fn(String, SecretValue) -> SecretChange,
) -> Result<Reply> {
    let name = name(params)?;
    let version_id = params.required_str("VersionId")?;
    change(
        served,
        name,
        to_change(version_id.to_owned(), value(params)?),
    )?;
    reply(json!({"SecretName": name, "VersionId": version_id}))
}

#[allow(non_snake_case)]
fn PutSecretValue(served: &Served, params: &Params) -> Result<Reply> {
    send_value(served, params, |version_id, value| SecretChange::PutValue {
        version_id,
        value,
    })
}

#[allow(non_snake_case)]
fn UpdateSecret(served: &Served, params: &Params) -> Result<Reply> {
    send_value(served, params, |version_id, value| {
        SecretChange::UpdateValue { version_id, value }
    })
}

#[allow(non_snake_case)]
fn UpdateDescription(served: &Served, params: &Params) -> Result<Reply> {
    let name = name(params)?;
    let description = params.required_str("Description")?.to_owned();
    change(served, name, SecretChange::SetDescription(description))?;
    reply(json!({"SecretName": name}))
}

#[allow(non_snake_case)]
fn EnableSecret(served: &Served, params: &Params) -> Result<Reply> {
    let name = name(params)?;
    change(served, name, SecretChange::Enable)?;
    reply(json!({"SecretName": name}))
}

#[allow(non_snake_case)]
fn DisableSecret(served: &Served, params: &Params) -> Result<Reply> {
    let name = name(params)?;
    change(served, name, SecretChange::Disable)?;
    reply(json!({"SecretName": name}))
}

#[allow(non_snake_case)]
fn DeleteSecret(served: &Served, params: &Params) -> Result<Reply> {
    let name = name(params)?;
    let days = params.u64("RecoveryWindowInDays")?.unwrap_or(0);
    // Checked at its full width, so 2^32 is refused as 2^32 (not as the u32 it would clip to).
    keyconsole_kms::secrets::rules::validate_recovery_days(days)?;
    let days = u32::try_from(days).unwrap_or(u32::MAX);
    let delete_time = match change(
        served,
        name,
        SecretChange::Delete {
            recovery_days: days,
        },
    )? {
        SecretChanged::DeleteTime(time) => time,
        SecretChanged::Done | SecretChanged::Rotated { .. } => 0,
    };
    reply(json!({"SecretName": name, "DeleteTime": delete_time}))
}

#[allow(non_snake_case)]
fn RestoreSecret(served: &Served, params: &Params) -> Result<Reply> {
    let name = name(params)?;
    change(served, name, SecretChange::Restore)?;
    reply(json!({"SecretName": name}))
}

#[allow(non_snake_case)]
fn DeleteSecretVersion(served: &Served, params: &Params) -> Result<Reply> {
    let name = name(params)?;
    let version_id = params.required_str("VersionId")?;
    let version = version_id.to_owned();
    change(
        served,
        name,
        SecretChange::DeleteVersion {
            version_id: version,
        },
    )?;
    reply(json!({"SecretName": name, "VersionId": version_id}))
}

#[allow(non_snake_case)]
fn DescribeSecret(served: &Served, params: &Params) -> Result<Reply> {
    let secret = served.kms.describe_secret(&served.caller, name(params)?)?;
    reply(metadata(&secret))
}

#[allow(non_snake_case)]
fn ListSecretVersionIds(served: &Served, params: &Params) -> Result<Reply> {
    let name = name(params)?;
    let versions: Vec<Value> = served
        .kms
        .secret_versions(&served.caller, name)?
        .into_iter()
        .map(|(id, time)| json!({"VersionId": id, "CreateTime": time}))
        .collect();
    reply(json!({"SecretName": name, "Versions": versions}))
}

#[allow(non_snake_case)]
fn ListSecrets(served: &Served, params: &Params) -> Result<Reply> {
    let state = match params.u64("State")?.unwrap_or(0) {
        0 => SecretStateFilter::All,
        1 => SecretStateFilter::Only(SecretState::Enabled),
        2 => SecretStateFilter::Only(SecretState::Disabled),
        3 => SecretStateFilter::Only(SecretState::PendingDelete),
        // PendingCreate and CreateFailed: product secrets being made by the cloud. keyconsole
        // makes a secret at once or not at all, so none is ever in either state.
        4 | 5 => return reply(json!({"TotalCount": 0, "SecretMetadatas": []})),
        other => {
            return Err(KmsError::new(
                ErrorCode::InvalidParameterValue,
                keyconsole_base::text!("errors.state_is_other_use_0_all", other = other),
            ));
        }
    };
    let oldest_first = match params.u64("OrderType")?.unwrap_or(0) {
        0 => false,
        1 => true,
        other => {
            return Err(KmsError::new(
                ErrorCode::InvalidParameterValue,
                keyconsole_base::text!("errors.ordertype_is_other_use_0_newest", other = other),
            ));
        }
    };
    // 0, like no Limit at all, is the default page of 20 (the SDK's model says so).
    let limit = match params.u64("Limit")? {
        None | Some(0) => LIST_LIMIT_DEFAULT as u64,
        Some(limit) => limit,
    };
    let page = served.kms.list_secrets(
        &served.caller,
        &SecretQuery {
            state,
            search: params.str("SearchSecretName")?.map(str::to_owned),
            offset: usize::try_from(params.u64("Offset")?.unwrap_or(0)).unwrap_or(usize::MAX),
            limit: Some(usize::try_from(limit).unwrap_or(usize::MAX)),
            oldest_first,
            database: match params.u64("SecretType")? {
                None => None,
                Some(0) => Some(false),
                Some(1) => Some(true),
                Some(other) => {
                    return Err(KmsError::new(
                        ErrorCode::InvalidParameterValue,
                        keyconsole_base::text!(
                            "errors.secrettype_is_other_use_0_your",
                            other = other
                        ),
                    ));
                }
            },
        },
    )?;
    let secrets: Vec<Value> = page.secrets.iter().map(metadata).collect();
    reply(json!({"TotalCount": page.total, "SecretMetadatas": secrets}))
}

#[allow(non_snake_case)]
fn DescribeRotationDetail(served: &Served, params: &Params) -> Result<Reply> {
    let detail = served.kms.rotation_detail(&served.caller, name(params)?)?;
    reply(json!({
        "EnableRotation": detail.enabled,
        "Frequency": detail.rotate_days,
        "LatestRotateTime": format_api_time(detail.last_rotation_time),
        "NextRotateBeginTime": format_api_time(detail.next_rotation_time),
    }))
}

#[allow(non_snake_case)]
fn DescribeRotationHistory(served: &Served, params: &Params) -> Result<Reply> {
    let detail = served.kms.rotation_detail(&served.caller, name(params)?)?;
    let versions: Vec<&str> = detail
        .history
        .iter()
        .filter(|r| r.succeeded())
        .map(|r| r.version_id.as_str())
        .collect();
    reply(json!({
        "VersionIDs": versions,
        "TotalCount": versions.len(),
        "AccountInfoList": [],
    }))
}

#[allow(non_snake_case)]
fn UpdateRotationStatus(served: &Served, params: &Params) -> Result<Reply> {
    let name = name(params)?;
    let enable = params.bool("EnableRotation")?.ok_or_else(|| {
        KmsError::new(
            ErrorCode::MissingParameter,
            keyconsole_base::text!("errors.the_parameter_enablerotation_is_missing"),
        )
    })?;
    let begin = match params.str("RotationBeginTime")? {
        Some(text) if !text.trim().is_empty() => Some(parse_api_time(text).ok_or_else(|| {
            KmsError::new(
                ErrorCode::InvalidParameterValue,
                keyconsole_base::text!(
                    "errors.rotationbegintime_is_text_write_it_as",
                    text = format!("{:?}", text)
                ),
            )
        })?),
        _ => None,
    };
    let days = params.u32("Frequency")?;
    let rotation = SecretChange::SetRotation {
        enabled: enable,
        days,
        begin,
    };
    change(served, name, rotation)?;
    reply(json!({}))
}

/// Rotates now and answers when the rotation has finished (or failed, with the database's
/// words); FlowID numbers the secret's rotation attempts.
#[allow(non_snake_case)]
fn RotateProductSecret(served: &Served, params: &Params) -> Result<Reply> {
    let name = name(params)?;
    let attempts = match change(served, name, SecretChange::Rotate)? {
        SecretChanged::Rotated { attempts, .. } => attempts,
        SecretChanged::Done | SecretChanged::DeleteTime(_) => 0,
    };
    reply(json!({"FlowID": attempts}))
}
