//! The Secrets Manager actions of the Tencent Cloud API (SSM 2019-09-23), served on the same
//! listener as KMS and told apart by version (and the `ssm` credential scope). Each reads its
//! parameters, calls the engine, and shapes the answer as the cloud does; no rule lives here.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use zeroize::Zeroizing;

use super::params::Params;
use super::{Reply, Served, Service};
use keyconsole_base::util::db_accounts::{Grant, GrantLevel};
use keyconsole_base::util::time::{format_api_time, parse_api_time};
use keyconsole_kms::secrets::TaskStatus;
use keyconsole_kms::secrets::rules::LIST_LIMIT_DEFAULT;
use keyconsole_kms::{
    CreateSecret, CreateSshKeyPairSecret, ErrorCode, KmsError, Result, SecretChange, SecretChanged,
    SecretQuery, SecretState, SecretStateFilter, SecretType, SecretValue,
};

/// Tencent Cloud Secrets Manager, API version 2019-09-23.
pub const SERVICE: Service = Service {
    title: "Secrets Manager",
    name: "ssm",
    version: "2019-09-23",
    actions: ACTIONS,
};

super::actions! {
    GetSecretValue: Read [SecretName, VersionId, EncryptionPublicKey, EncryptionAlgorithm],
    ListSecrets: Read [Offset, Limit, OrderType, State, SearchSecretName, TagFilters, SecretType,
        ProductName, EncryptType, InstanceID],
    ListSecretVersionIds: Read [SecretName],
    DescribeSecret: Read [SecretName],
    GetServiceStatus: Read [],
    CreateSecret: Change [SecretName, VersionId, Description, KmsKeyId, SecretType, SecretBinary,
        SecretString, Tags, KmsHsmClusterId, EncryptType] refuses [AdditionalConfig],
    PutSecretValue: Change [SecretName, VersionId, SecretBinary, SecretString],
    UpdateSecret: Change [SecretName, VersionId, SecretBinary, SecretString],
    UpdateDescription: Change [SecretName, Description],
    EnableSecret: Change [SecretName],
    DisableSecret: Change [SecretName],
    DeleteSecret: Change [SecretName, RecoveryWindowInDays] refuses [CleanSSHKey, DeleteMode],
    RestoreSecret: Change [SecretName],
    DeleteSecretVersion: Change [SecretName, VersionId],
    DescribeRotationDetail: Read [SecretName],
    DescribeRotationHistory: Read [SecretName],
    UpdateRotationStatus: Change [SecretName, EnableRotation, Frequency, RotationBeginTime],
    RotateProductSecret: Change [SecretName],
    CreateSSHKeyPairSecret: Change [SecretName, ProjectId, Description, KmsKeyId, Tags, SSHKeyName,
        KmsHsmClusterId, EncryptType],
    GetSSHKeyPairValue: Read [SecretName, SSHKeyId],
    DescribeSupportedProducts: Read [],
    CreateProductSecret: Change [SecretName, UserNamePrefix, ProductName, InstanceID, Domains,
        PrivilegesList, Description, KmsKeyId, Tags, RotationBeginTime, EnableRotation,
        RotationFrequency, KmsHsmClusterId, EncryptType] refuses [AccountRemark, AccountType],
    DescribeAsyncRequestInfo: Read [FlowID],
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

/// `RotationBeginTime` (`2006-01-02 15:04:05`, UTC) as Unix seconds, if given.
fn rotation_begin(params: &Params) -> Result<Option<i64>> {
    match params.str("RotationBeginTime")? {
        Some(text) if !text.trim().is_empty() => parse_api_time(text).map(Some).ok_or_else(|| {
            KmsError::new(
                ErrorCode::InvalidParameterValue,
                keyconsole_base::text!(
                    "errors.rotationbegintime_is_text_write_it_as",
                    text = format!("{text:?}")
                ),
            )
        }),
        _ => Ok(None),
    }
}

/// EncryptType 0 (under a KMS key) is what every secret here is; 1 (a software key) is not done.
fn only_kms_encryption(params: &Params) -> Result<()> {
    match params.u64("EncryptType")? {
        None | Some(0) => Ok(()),
        Some(other) => Err(KmsError::new(
            ErrorCode::InvalidParameterValue,
            keyconsole_base::text!("errors.encrypttype_only_kms", kind = other),
        )),
    }
}

#[allow(non_snake_case)]
fn GetServiceStatus(served: &Served, _params: &Params) -> Result<Reply> {
    let secrets = served
        .kms
        .list_secrets(
            &served.caller,
            &SecretQuery {
                limit: Some(1),
                ..SecretQuery::default()
            },
        )?
        .total;
    // InvalidType: 0 not purchased, 1 normal, 2 stopped for arrears, 3 released. Nothing is
    // bought here: no plan, no expiry, no request quota (0), no API key escrow.
    reply(json!({
        "ServiceEnabled": true,
        "InvalidType": 1,
        "AccessKeyEscrowEnabled": false,
        "ExpireTime": "",
        "QPSLimit": 0,
        "SecretLimit": keyconsole_kms::secrets::rules::SECRETS_MAX,
        "PayModel": "",
        "RenewFlag": 0,
        "ResourceId": "",
        "TotalCount": secrets,
        "ResourceRegion": 0,
    }))
}

#[allow(non_snake_case)]
fn CreateSecret(served: &Served, params: &Params) -> Result<Reply> {
    // SecretType 0 is the user's own secret, what CreateSecret makes here; EncryptType 0 is
    // encryption under a KMS key, the only kind there is.
    if let Some(kind) = params.u64("SecretType")?
        && kind != 0
    {
        return Err(KmsError::new(
            ErrorCode::InvalidParameterValue,
            keyconsole_base::text!("errors.createsecret_makes_secret_type_0", kind = kind),
        ));
    }
    only_kms_encryption(params)?;
    params.no_hsm_cluster("KmsHsmClusterId", ErrorCode::InvalidParameterValue)?;
    let (name, version_id) = served.kms.create_secret(
        &served.caller,
        CreateSecret {
            name: name(params)?.to_owned(),
            version_id: params.str("VersionId")?.map(str::to_owned),
            description: params.str("Description")?.unwrap_or_default().to_owned(),
            key: params.str("KmsKeyId")?.map(str::to_owned),
            value: value(params)?,
            tags: params.tags("Tags")?,
        },
    )?;
    // TagCode 0: the tags were bound (with the secret, in the same change).
    reply(json!({"SecretName": name, "VersionId": version_id, "TagCode": 0, "TagMsg": ""}))
}

#[allow(non_snake_case)]
fn GetSecretValue(served: &Served, params: &Params) -> Result<Reply> {
    let name = name(params)?;
    let version_id = params.required_str("VersionId")?;
    let value = served
        .kms
        .get_secret_value(&served.caller, name, version_id)?;
    // With an EncryptionPublicKey, the value leaves only encrypted to it: base64 of the
    // ciphertext, in the field the value would have been in.
    let public_key = params
        .str("EncryptionPublicKey")?
        .filter(|k| !k.trim().is_empty());
    let sealed = |bytes: &[u8]| -> Result<Zeroizing<String>> {
        let pem = public_key.unwrap_or_default();
        let ciphertext =
            keyconsole_kms::encrypt_for_caller(pem, params.str("EncryptionAlgorithm")?, bytes)?;
        Ok(Zeroizing::new(STANDARD.encode(ciphertext)))
    };
    let (text, binary) = match (&value, public_key) {
        (SecretValue::Text(text), None) => (Zeroizing::new(text.to_string()), Zeroizing::default()),
        (SecretValue::Binary(bytes), None) => {
            (Zeroizing::default(), Zeroizing::new(STANDARD.encode(bytes)))
        }
        (SecretValue::Text(text), Some(_)) => (sealed(text.as_bytes())?, Zeroizing::default()),
        (SecretValue::Binary(bytes), Some(_)) => (Zeroizing::default(), sealed(bytes)?),
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
    // FlowID: the task deleting a product secret's database account; none here.
    reply(json!({"SecretName": name, "DeleteTime": delete_time, "FlowID": 0}))
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
    Ok(super::shapes::describe_secret(&secret))
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
    // SecretType 0 (the default) lists the user's own secrets, 1 database (product) secrets;
    // 2 SSH key pairs, 3 API key pairs and 4 Redis secrets are none here. ProductName (a
    // comma-separated list) narrows type 1 only.
    let secret_type = params.u64("SecretType")?.unwrap_or(0);
    let kind = SecretType::from_number(secret_type);
    let products: Vec<String> = match (secret_type, params.str("ProductName")?) {
        (1, Some(names)) => names
            .split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    };
    // 3 (API key pairs) and 4 (Redis) are kinds keyconsole does not hold.
    let none_here = matches!(secret_type, 3 | 4)
        // EncryptType 1 is a software key: no secret here is encrypted so.
        || params.u64("EncryptType")?.unwrap_or(0) == 1;
    let instance = params
        .str("InstanceID")?
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .map(str::to_owned);
    if secret_type > 4 {
        return Err(KmsError::new(
            ErrorCode::InvalidParameterValue,
            keyconsole_base::text!("errors.secrettype_is_other_use_0_your", other = secret_type),
        ));
    }
    let tags = params.tag_filters("TagFilters")?;
    if none_here {
        return reply(json!({"TotalCount": 0, "SecretMetadatas": []}));
    }
    let page = served.kms.list_secrets(
        &served.caller,
        &SecretQuery {
            state,
            search: params.str("SearchSecretName")?.map(str::to_owned),
            offset: usize::try_from(params.u64("Offset")?.unwrap_or(0)).unwrap_or(usize::MAX),
            limit: Some(usize::try_from(limit).unwrap_or(usize::MAX)),
            oldest_first,
            kind,
            products,
            tags,
            instance,
        },
    )?;
    let secrets: Vec<Value> = page
        .secrets
        .iter()
        .map(super::shapes::secret_metadata)
        .collect();
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
    let begin = rotation_begin(params)?;
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
/// words); FlowID names the finished rotation's task, which DescribeAsyncRequestInfo answers for.
#[allow(non_snake_case)]
fn RotateProductSecret(served: &Served, params: &Params) -> Result<Reply> {
    let name = name(params)?;
    let flow_id = match change(served, name, SecretChange::Rotate)? {
        SecretChanged::Rotated { flow_id, .. } => flow_id,
        SecretChanged::Done | SecretChanged::DeleteTime(_) => 0,
    };
    reply(json!({"FlowID": flow_id}))
}

#[allow(non_snake_case)]
fn CreateSSHKeyPairSecret(served: &Served, params: &Params) -> Result<Reply> {
    only_kms_encryption(params)?;
    params.no_hsm_cluster("KmsHsmClusterId", ErrorCode::InvalidParameterValue)?;
    let (name, pair) = served.kms.create_ssh_key_pair_secret(
        &served.caller,
        CreateSshKeyPairSecret {
            name: name(params)?.to_owned(),
            description: params.str("Description")?.unwrap_or_default().to_owned(),
            key: params.str("KmsKeyId")?.map(str::to_owned),
            key_name: params.str("SSHKeyName")?.map(str::to_owned),
            project_id: params.u64("ProjectId")?.unwrap_or(0),
            tags: params.tags("Tags")?,
        },
    )?;
    reply(json!({
        "SecretName": name,
        "SSHKeyID": pair.key_id,
        "SSHKeyName": pair.key_name,
        "TagCode": 0,
        "TagMsg": "",
    }))
}

/// The pair with both keys as the cloud sends them: the OpenSSH texts, base64-encoded.
#[allow(non_snake_case)]
fn GetSSHKeyPairValue(served: &Served, params: &Params) -> Result<Reply> {
    let name = params.str("SecretName")?.filter(|n| !n.is_empty());
    let key_id = params.str("SSHKeyId")?.filter(|n| !n.is_empty());
    if name.is_none() && key_id.is_none() {
        return Err(KmsError::new(
            ErrorCode::MissingParameter,
            keyconsole_base::text!("errors.give_secretname_or_sshkeyid"),
        ));
    }
    let (pair, description, private) =
        served
            .kms
            .ssh_key_pair_value(&served.caller, name, key_id)?;
    let private = Zeroizing::new(STANDARD.encode(private.as_bytes()));
    reply(json!({
        "SSHKeyID": pair.key_id,
        "PublicKey": STANDARD.encode(pair.public_key.as_bytes()),
        "PrivateKey": private.as_str(),
        "ProjectID": pair.project_id,
        "SSHKeyDescription": description,
        "SSHKeyName": pair.key_name,
    }))
}

#[allow(non_snake_case)]
fn DescribeSupportedProducts(_served: &Served, _params: &Params) -> Result<Reply> {
    let products = keyconsole_kms::secrets::product::SUPPORTED_PRODUCTS;
    reply(json!({"Products": products, "TotalCount": products.len()}))
}

/// `PrivilegesList`: `[{PrivilegeName, Privileges, Database, TableName, SchemaName}]`.
fn grants(params: &Params) -> Result<Vec<Grant>> {
    let what = || keyconsole_base::text!("errors.a_list_of_privilege_units");
    let units = params.objects("PrivilegesList", |unit| Some(unit.clone()), what)?;
    units
        .iter()
        .map(|unit| {
            let text = |name: &str| {
                unit.get(name)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned()
            };
            let privileges = unit
                .get("Privileges")
                .and_then(Value::as_array)
                .map(|list| {
                    list.iter()
                        .filter_map(Value::as_str)
                        .map(|p| p.trim().to_ascii_uppercase())
                        .collect()
                })
                .unwrap_or_default();
            let level = match text("PrivilegeName").as_str() {
                "GlobalPrivileges" => GrantLevel::Global,
                "DatabasePrivileges" => GrantLevel::Database(text("Database")),
                "TablePrivileges" => GrantLevel::Table {
                    database: text("Database"),
                    schema: text("SchemaName"),
                    table: text("TableName"),
                },
                other => {
                    return Err(KmsError::new(
                        ErrorCode::InvalidParameterValue,
                        keyconsole_base::text!("errors.privilege_name_not_here", name = other),
                    ));
                }
            };
            Ok(Grant { level, privileges })
        })
        .collect()
}

#[allow(non_snake_case)]
fn CreateProductSecret(served: &Served, params: &Params) -> Result<Reply> {
    only_kms_encryption(params)?;
    params.no_hsm_cluster("KmsHsmClusterId", ErrorCode::InvalidParameterValue)?;
    let enable = params.bool("EnableRotation")?.unwrap_or(false);
    // The cloud's default frequency is one day; the begin time is required with rotation on.
    let days = params.u32("RotationFrequency")?.unwrap_or(1);
    let begin = rotation_begin(params)?;
    if enable && begin.is_none() {
        return Err(KmsError::new(
            ErrorCode::MissingParameter,
            keyconsole_base::text!("errors.rotationbegintime_needed"),
        ));
    }
    let domains: Vec<String> = params.get_list("Domains")?.unwrap_or_default();
    let (name, flow_id) = served.kms.create_product_secret(
        &served.caller,
        keyconsole_kms::secrets::CreateProductSecret {
            name: name(params)?.to_owned(),
            description: params.str("Description")?.unwrap_or_default().to_owned(),
            key: params.str("KmsKeyId")?.map(str::to_owned),
            instance_id: params.required_str("InstanceID")?.to_owned(),
            product: params.required_str("ProductName")?.to_owned(),
            user_name_prefix: params.required_str("UserNamePrefix")?.to_owned(),
            domains,
            grants: grants(params)?,
            rotate_days: enable.then_some(days),
            rotation_begin: begin.filter(|_| enable),
            tags: params.tags("Tags")?,
        },
    )?;
    reply(json!({"SecretName": name, "TagCode": 0, "TagMsg": "", "FlowID": flow_id}))
}

/// TaskStatus 0 running, 1 succeeded, 2 failed; the description in the request's language.
#[allow(non_snake_case)]
fn DescribeAsyncRequestInfo(served: &Served, params: &Params) -> Result<Reply> {
    let flow_id = params.u64("FlowID")?.ok_or_else(|| {
        KmsError::new(
            ErrorCode::MissingParameter,
            keyconsole_base::text!("errors.the_parameter_name_is_missing", name = "FlowID"),
        )
    })?;
    let task = served.kms.product_task(&served.caller, flow_id)?;
    let status = match task.status {
        TaskStatus::Running => 0,
        TaskStatus::Succeeded => 1,
        TaskStatus::Failed => 2,
    };
    reply(json!({
        "TaskStatus": status,
        "Description": task.description_in(served.caller.language),
    }))
}
