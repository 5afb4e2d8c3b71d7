//! The KMS actions of the Tencent Cloud API (2019-01-18): each reads its parameters, calls the
//! engine, and shapes the answer as the cloud does. No rule lives here; the engine checks everything.

use keyconsole_base::util::{SecretBytes, SecretString};
use serde_json::{Value, json};

use super::params::Params;
use super::{Reply, Served, Service};
use keyconsole_kms::{
    CanonicalContext, CreateKey, DataKeySpec, ErrorCode, KeyChange, KeyChanged, KeyOwner, KeyQuery,
    KmsError, Result,
};

/// Tencent Cloud KMS, API version 2019-01-18.
pub const SERVICE: Service = Service {
    title: "KMS",
    name: "kms",
    version: "2019-01-18",
    actions: ACTIONS,
};

super::actions! {
    Encrypt: Read [KeyId, Plaintext, EncryptionContext],
    Decrypt: Read [CiphertextBlob, EncryptionContext, EncryptionPublicKey, EncryptionAlgorithm],
    ReEncrypt: Read [CiphertextBlob, DestinationKeyId, SourceEncryptionContext,
        DestinationEncryptionContext],
    GenerateDataKey: Read [KeyId, KeySpec, NumberOfBytes, EncryptionContext, HsmClusterId,
        EncryptionPublicKey, EncryptionAlgorithm]
        refuses [IsHostedByKms, DataKeyName, Description, Tags],
    GetPublicKey: Read [KeyId],
    SignByAsymmetricKey: Read [Algorithm, Message, KeyId, MessageType],
    VerifyByAsymmetricKey: Read [KeyId, SignatureValue, Message, Algorithm, MessageType],
    AsymmetricRsaDecrypt: Read [KeyId, Ciphertext, Algorithm],
    AsymmetricSm2Decrypt: Read [KeyId, Ciphertext],
    ListAlgorithms: Read [],
    GetParametersForImport: Change [KeyId, WrappingAlgorithm, WrappingKeySpec],
    ImportKeyMaterial: Change [EncryptedKeyMaterial, ImportToken, KeyId, ValidTo],
    DeleteImportedKeyMaterial: Change [KeyId],
    GenerateRandom: Read [NumberOfBytes],
    DescribeKey: Read [KeyId] refuses [MemberAccount],
    DescribeKeys: Read [KeyIds] refuses [MemberAccount],
    ListKeys: Read [Offset, Limit, Role, HsmClusterId],
    ListKeyDetail: Read [Offset, Limit, Role, OrderType, KeyState, SearchKeyAlias, Origin,
        KeyUsage, TagFilters, HsmClusterId] refuses [MemberAccounts],
    GetKeyRotationStatus: Read [KeyId] refuses [MemberAccount],
    GetServiceStatus: Read [],
    CreateKey: Change [Alias, Description, KeyUsage, Type, Tags, HsmClusterId],
    EnableKey: Change [KeyId] refuses [MemberAccount],
    DisableKey: Change [KeyId] refuses [MemberAccount],
    EnableKeys: Change [KeyIds] refuses [MemberAccount],
    DisableKeys: Change [KeyIds] refuses [MemberAccount],
    ScheduleKeyDeletion: Change [KeyId, PendingWindowInDays] refuses [MemberAccount],
    CancelKeyDeletion: Change [KeyId] refuses [MemberAccount],
    UpdateAlias: Change [KeyId, Alias] refuses [MemberAccount],
    UpdateKeyDescription: Change [KeyId, Description] refuses [MemberAccount],
    EnableKeyRotation: Change [KeyId, RotateDays] refuses [MemberAccount],
    DisableKeyRotation: Change [KeyId] refuses [MemberAccount],
    RotateKey: Change [KeyId] refuses [MemberAccount],
    ArchiveKey: Change [KeyId] refuses [MemberAccount],
    CancelKeyArchive: Change [KeyId] refuses [MemberAccount],
}

fn reply(value: Value) -> Result<Reply> {
    match value {
        Value::Object(map) => Ok(map),
        _ => Ok(Reply::new()),
    }
}

fn context(params: &Params, name: &str) -> Result<CanonicalContext> {
    CanonicalContext::parse(params.str(name)?)
}

fn key_metadata(key: &keyconsole_kms::KeyMetadata) -> Value {
    Value::Object(super::shapes::key_metadata(key))
}

fn decode_plaintext(text: &str) -> Result<SecretBytes> {
    base64_simd::STANDARD
        .decode_to_vec(text.trim())
        .map(SecretBytes::from)
        .map_err(|_| {
            KmsError::new(
                ErrorCode::InvalidPlaintext,
                keyconsole_base::text!("errors.plaintext_must_be_base64_the_sdks"),
            )
        })
}

fn encode(bytes: &[u8]) -> SecretString {
    SecretString::from(base64_simd::STANDARD.encode_to_string(bytes))
}

fn key_param(params: &Params) -> Result<&str> {
    params.required_str("KeyId")
}

// ---- cryptography ----

#[allow(non_snake_case)]
fn Encrypt(served: &Served, params: &Params) -> Result<Reply> {
    let key = key_param(params)?;
    let plaintext = decode_plaintext(params.required_str("Plaintext")?)?;
    let encrypted = served.kms.encrypt(
        &served.caller,
        key,
        &plaintext,
        &context(params, "EncryptionContext")?,
    )?;
    reply(json!({"CiphertextBlob": encrypted.ciphertext_blob, "KeyId": encrypted.key_id}))
}

#[allow(non_snake_case)]
fn Decrypt(served: &Served, params: &Params) -> Result<Reply> {
    let blob = params.required_str("CiphertextBlob")?;
    let decrypted = served
        .kms
        .decrypt(&served.caller, blob, &context(params, "EncryptionContext")?)
        .map_err(as_invalid_ciphertext)?;
    let plaintext = answered_plaintext(params, &decrypted.plaintext)?;
    reply(json!({"KeyId": decrypted.key_id, "Plaintext": plaintext.as_str()}))
}

/// A plaintext as the answer carries it: base64, or, when the request gives an
/// `EncryptionPublicKey`, base64 of its encryption to that key (never the plaintext itself).
fn answered_plaintext(params: &Params, plaintext: &[u8]) -> Result<SecretString> {
    match params
        .str("EncryptionPublicKey")?
        .filter(|k| !k.trim().is_empty())
    {
        None => Ok(encode(plaintext)),
        Some(pem) => {
            let sealed = keyconsole_kms::encrypt_for_caller(
                pem,
                params.str("EncryptionAlgorithm")?,
                plaintext,
            )?;
            Ok(encode(&sealed))
        }
    }
}

/// A base64 parameter's bytes; anything else is `InvalidParameterValue`.
fn base64_param(params: &Params, name: &str) -> Result<Vec<u8>> {
    base64_simd::STANDARD
        .decode_to_vec(params.required_str(name)?.trim())
        .map_err(|_| {
            KmsError::new(
                ErrorCode::InvalidParameterValue,
                keyconsole_base::text!("errors.name_must_be_base64", name = name),
            )
        })
}

// ---- key pairs ----

#[allow(non_snake_case)]
fn GetPublicKey(served: &Served, params: &Params) -> Result<Reply> {
    let public = served.kms.public_key(&served.caller, key_param(params)?)?;
    reply(json!({
        "KeyId": public.key_id,
        "PublicKey": base64_simd::STANDARD.encode_to_string(&public.der),
        "PublicKeyPem": public.pem,
    }))
}

#[allow(non_snake_case)]
fn SignByAsymmetricKey(served: &Served, params: &Params) -> Result<Reply> {
    let message = SecretBytes::from(base64_param(params, "Message")?);
    let signature = served.kms.sign(
        &served.caller,
        key_param(params)?,
        params.required_str("Algorithm")?,
        keyconsole_kms::pair_ops::message_type(params.str("MessageType")?)?,
        &message,
    )?;
    reply(json!({"Signature": base64_simd::STANDARD.encode_to_string(&signature)}))
}

#[allow(non_snake_case)]
fn VerifyByAsymmetricKey(served: &Served, params: &Params) -> Result<Reply> {
    let message = SecretBytes::from(base64_param(params, "Message")?);
    let valid = served.kms.verify(
        &served.caller,
        key_param(params)?,
        params.required_str("Algorithm")?,
        keyconsole_kms::pair_ops::message_type(params.str("MessageType")?)?,
        &message,
        &base64_param(params, "SignatureValue")?,
    )?;
    reply(json!({"SignatureValid": valid}))
}

#[allow(non_snake_case)]
fn AsymmetricRsaDecrypt(served: &Served, params: &Params) -> Result<Reply> {
    asymmetric_decrypt(served, params, Some(params.required_str("Algorithm")?))
}

#[allow(non_snake_case)]
fn AsymmetricSm2Decrypt(served: &Served, params: &Params) -> Result<Reply> {
    asymmetric_decrypt(served, params, None)
}

fn asymmetric_decrypt(served: &Served, params: &Params, algorithm: Option<&str>) -> Result<Reply> {
    let decrypted = served.kms.asymmetric_decrypt(
        &served.caller,
        key_param(params)?,
        algorithm,
        &base64_param(params, "Ciphertext")?,
    )?;
    let plaintext = encode(&decrypted.plaintext);
    reply(json!({"KeyId": decrypted.key_id, "Plaintext": plaintext.as_str()}))
}

// ---- imported key material ----

#[allow(non_snake_case)]
fn GetParametersForImport(served: &Served, params: &Params) -> Result<Reply> {
    let out = served.kms.get_parameters_for_import(
        &served.caller,
        key_param(params)?,
        params.required_str("WrappingAlgorithm")?,
        params.str("WrappingKeySpec")?,
    )?;
    reply(json!({
        "KeyId": out.key_id,
        "ImportToken": out.token,
        "PublicKey": base64_simd::STANDARD.encode_to_string(&out.public_key),
        "ParametersValidTo": out.valid_to,
    }))
}

#[allow(non_snake_case)]
fn ImportKeyMaterial(served: &Served, params: &Params) -> Result<Reply> {
    let material = SecretBytes::from(base64_param(params, "EncryptedKeyMaterial")?);
    let valid_to = params.u64("ValidTo")?.unwrap_or(0);
    change(
        served,
        one_key(params)?,
        KeyChange::ImportMaterial {
            encrypted_material: material.to_vec(),
            token: params.required_str("ImportToken")?.to_owned(),
            valid_to: i64::try_from(valid_to).unwrap_or(i64::MAX),
        },
    )
}

/// Every usage with the algorithms keyconsole does for it, in the cloud's three groups.
#[allow(non_snake_case)]
fn ListAlgorithms(_served: &Served, _params: &Params) -> Result<Reply> {
    use keyconsole_kms::{KeySpec, KeyUsage};
    let item = |usage: KeyUsage, algorithm: &str| json!({"KeyUsage": usage.as_str(), "Algorithm": algorithm});
    let symmetric: Vec<Value> = [KeySpec::Aes256, KeySpec::Sm4]
        .into_iter()
        .map(|spec| item(KeyUsage::EncryptDecrypt, spec.as_str()))
        .collect();
    let mut decrypting = Vec::new();
    let mut signing = Vec::new();
    for usage in KeyUsage::ALL {
        let (Some(kind), Some(spec)) = (usage.pair_kind(), usage.pair_spec()) else {
            continue;
        };
        if kind.signs() {
            signing.extend(kind.sign_algorithms().iter().map(|a| item(usage, a.name())));
        } else {
            decrypting.push(item(usage, spec.as_str()));
        }
    }
    reply(json!({
        "SymmetricAlgorithms": symmetric,
        "AsymmetricAlgorithms": decrypting,
        "AsymmetricSignVerifyAlgorithms": signing,
    }))
}

/// A ciphertext that does not open (tampered, another keystore's, the wrong encryption context)
/// is what Decrypt and ReEncrypt document as `InvalidParameterValue.InvalidCiphertext`; the
/// engine's own kind (`DecryptError`, which the CLI's file commands keep) is not among their codes.
fn as_invalid_ciphertext(e: KmsError) -> KmsError {
    if e.code == ErrorCode::DecryptError {
        KmsError {
            code: ErrorCode::InvalidCiphertext,
            ..e
        }
    } else {
        e
    }
}

#[allow(non_snake_case)]
fn ReEncrypt(served: &Served, params: &Params) -> Result<Reply> {
    let done = served
        .kms
        .re_encrypt(
            &served.caller,
            params.required_str("CiphertextBlob")?,
            params.str("DestinationKeyId")?,
            &context(params, "SourceEncryptionContext")?,
            &context(params, "DestinationEncryptionContext")?,
        )
        .map_err(as_invalid_ciphertext)?;
    reply(json!({
        "CiphertextBlob": done.ciphertext_blob,
        "KeyId": done.key_id,
        "SourceKeyId": done.source_key_id,
        "ReEncrypted": done.re_encrypted,
    }))
}

#[allow(non_snake_case)]
fn GenerateDataKey(served: &Served, params: &Params) -> Result<Reply> {
    let key = key_param(params)?;
    params.no_hsm_cluster("HsmClusterId", ErrorCode::InvalidHsmClusterId)?;
    let spec = DataKeySpec::from_api(params.str("KeySpec")?, params.u32("NumberOfBytes")?)?;
    let data_key = served.kms.generate_data_key(
        &served.caller,
        key,
        spec,
        &context(params, "EncryptionContext")?,
    )?;
    let plaintext = answered_plaintext(params, &data_key.plaintext)?;
    reply(json!({
        "KeyId": data_key.key_id,
        "Plaintext": plaintext.as_str(),
        "CiphertextBlob": data_key.ciphertext_blob,
        // Not hosted by the service (IsHostedByKms 0): no id, no tags.
        "DataKeyId": "",
        "TagCode": 0,
        "TagMsg": "",
    }))
}

#[allow(non_snake_case)]
fn GenerateRandom(served: &Served, params: &Params) -> Result<Reply> {
    let random = served
        .kms
        .generate_random(&served.caller, params.required_u32("NumberOfBytes")?)?;
    let plaintext = encode(&random);
    reply(json!({"Plaintext": plaintext.as_str()}))
}

// ---- reading keys ----

#[allow(non_snake_case)]
fn DescribeKey(served: &Served, params: &Params) -> Result<Reply> {
    let key = served
        .kms
        .describe_key(&served.caller, key_param(params)?)?;
    reply(json!({"KeyMetadata": key_metadata(&key)}))
}

#[allow(non_snake_case)]
fn DescribeKeys(served: &Served, params: &Params) -> Result<Reply> {
    let keys: Vec<Value> = served
        .kms
        .describe_keys(&served.caller, &params.required_str_list("KeyIds")?)?
        .iter()
        .map(key_metadata)
        .collect();
    reply(json!({"KeyMetadatas": keys}))
}

/// Offset and Limit as the cloud reads them: Limit defaults to 10.
fn paging(params: &Params, query: &mut KeyQuery) -> Result<()> {
    query.offset = usize::try_from(params.u64("Offset")?.unwrap_or(0)).unwrap_or(usize::MAX);
    let limit = params.u64("Limit")?.unwrap_or(10);
    query.limit = Some(usize::try_from(limit).unwrap_or(usize::MAX));
    Ok(())
}

/// Role 0 (the default): keys the user made; 1: keys services made for themselves.
fn owner(params: &Params) -> Result<Option<KeyOwner>> {
    match params.u64("Role")?.unwrap_or(0) {
        0 => Ok(Some(KeyOwner::User)),
        1 => Ok(Some(KeyOwner::SecretsManager)),
        other => Err(KmsError::new(
            ErrorCode::InvalidParameter,
            keyconsole_base::text!("errors.role_is_other_use_0_or_1", other = other),
        )),
    }
}

#[allow(non_snake_case)]
fn ListKeys(served: &Served, params: &Params) -> Result<Reply> {
    params.no_hsm_cluster("HsmClusterId", ErrorCode::InvalidHsmClusterId)?;
    let mut query = KeyQuery {
        owner: owner(params)?,
        ..KeyQuery::default()
    };
    paging(params, &mut query)?;
    let page = served.kms.list_keys(&served.caller, &query)?;
    let keys: Vec<Value> = page
        .keys
        .iter()
        .map(|k| json!({"KeyId": k.key_id}))
        .collect();
    reply(json!({"Keys": keys, "TotalCount": page.total}))
}

#[allow(non_snake_case)]
fn ListKeyDetail(served: &Served, params: &Params) -> Result<Reply> {
    params.no_hsm_cluster("HsmClusterId", ErrorCode::InvalidHsmClusterId)?;
    let mut query = KeyQuery {
        owner: owner(params)?,
        origin: super::shapes::origin_filter(params.str("Origin")?)?,
        usage: super::shapes::usage_filter(params.str("KeyUsage")?)?,
        tags: params.tag_filters("TagFilters")?,
        ..KeyQuery::default()
    };
    paging(params, &mut query)?;
    query.order = super::shapes::order(params.u64("OrderType")?.unwrap_or(0))?;
    query.state = super::shapes::state_filter(params.u64("KeyState")?.unwrap_or(0))?;
    query.search = params.str("SearchKeyAlias")?.map(str::to_owned);
    let page = served.kms.list_keys(&served.caller, &query)?;
    let keys: Vec<Value> = page.keys.iter().map(key_metadata).collect();
    reply(json!({"TotalCount": page.total, "KeyMetadatas": keys}))
}

#[allow(non_snake_case)]
fn GetKeyRotationStatus(served: &Served, params: &Params) -> Result<Reply> {
    let enabled = served
        .kms
        .describe_key(&served.caller, key_param(params)?)?
        .key_rotation_enabled;
    reply(json!({"KeyRotationEnabled": enabled}))
}

#[allow(non_snake_case)]
fn GetServiceStatus(served: &Served, _params: &Params) -> Result<Reply> {
    let user_keys = served
        .kms
        .list_keys(
            &served.caller,
            &KeyQuery {
                owner: Some(KeyOwner::User),
                limit: Some(1),
                ..KeyQuery::default()
            },
        )?
        .total;
    // InvalidType 1: normal (0 would be "not purchased"); UserLevel 0: the standard edition (no
    // HSM clusters, no hosted data keys, no replication, no member accounts, no paid plan).
    reply(json!({
        "ServiceEnabled": true,
        "InvalidType": 1,
        "UserLevel": 0,
        "ProExpireTime": 0,
        "ProRenewFlag": 0,
        "ProResourceId": "",
        "ExclusiveVSMEnabled": false,
        "ExclusiveHSMEnabled": false,
        "SubscriptionInfo": "",
        "CmkUserCount": user_keys,
        "CmkLimit": keyconsole_kms::keys::rules::KEYS_MAX,
        "ExclusiveHSMList": [],
        "IsAllowedDataKeyHosted": false,
        "DataKeyLimit": 0,
        "FreeDataKeyLimit": 0,
        "DataKeyUsedCount": 0,
        "SyncTaskList": [],
        "IsAllowedSync": false,
        // No request quota: 0 is "not limited" here.
        "QpsLimit": 0,
        "QpsTotalLimit": 0,
        "RegionsQps": [],
        "ResourceZone": 0,
        "ResourceRegion": 0,
        "MultiAccountLimit": 0,
        "MultiAccountUsedCount": 0,
    }))
}

// ---- changing keys ----

#[allow(non_snake_case)]
fn CreateKey(served: &Served, params: &Params) -> Result<Reply> {
    // Type 1 (the default): material keyconsole makes; 2: EXTERNAL, material the user imports;
    // 4, keyconsole's own: a 国密 SM4 key (the cloud decides that by region; KeyMetadata's Type 4
    // says it).
    let (spec, external) = match params.u64("Type")?.unwrap_or(1) {
        1 => (None, false),
        2 => (None, true),
        4 => (Some(keyconsole_kms::KeySpec::Sm4), false),
        kind => {
            return Err(KmsError::new(
                ErrorCode::InvalidType,
                keyconsole_base::text!("errors.type_is_kind_use_1_default", kind = kind),
            ));
        }
    };
    params.no_hsm_cluster("HsmClusterId", ErrorCode::InvalidHsmClusterId)?;
    let key = served.kms.create_key(
        &served.caller,
        CreateKey {
            alias: params.required_str("Alias")?.to_owned(),
            description: params.str("Description")?.unwrap_or_default().to_owned(),
            key_usage: params.str("KeyUsage")?.map(str::to_owned),
            spec,
            external,
            rotate_days: None,
            tags: params.tags("Tags")?,
        },
    )?;
    reply(json!({
        "KeyId": key.key_id,
        "Alias": key.alias,
        "CreateTime": key.create_time,
        "Description": key.description,
        "KeyState": key.key_state.as_str(),
        "KeyUsage": key.key_usage,
        // TagCode 0: the tags were bound (with the key, in the same change).
        "TagCode": 0,
        "TagMsg": "",
        "HsmClusterId": "",
    }))
}

/// The KeyId the request's KeyId or alias names (the answer gives the KeyId, not the alias).
fn key_id(served: &Served, params: &Params) -> Result<String> {
    let key = key_param(params)?;
    Ok(served.kms.key_id_of(key).unwrap_or_else(|| key.to_owned()))
}

fn done() -> Result<Reply> {
    Ok(Reply::new())
}

/// Applies `change` to the keys named, answering with nothing but the RequestId.
fn change(served: &Served, keys: Vec<String>, change: KeyChange) -> Result<Reply> {
    served.kms.change_keys(&served.caller, &keys, change)?;
    done()
}

fn one_key(params: &Params) -> Result<Vec<String>> {
    Ok(vec![key_param(params)?.to_owned()])
}

/// Actions that change one key and answer with nothing but the RequestId.
macro_rules! key_changes {
    ($($name:ident => $change:expr,)*) => {$(
        #[allow(non_snake_case)]
        fn $name(served: &Served, params: &Params) -> Result<Reply> {
            change(served, one_key(params)?, $change)
        }
    )*};
}

/// Rotates now; the answer's TaskId names the rotation (the key and its new version), which is
/// done when the answer comes: DescribeKey shows the new LastRotateTime.
#[allow(non_snake_case)]
fn RotateKey(served: &Served, params: &Params) -> Result<Reply> {
    let changed = served
        .kms
        .change_keys(&served.caller, &one_key(params)?, KeyChange::Rotate)?;
    let version = match changed {
        KeyChanged::Version(version) => version,
        KeyChanged::Done | KeyChanged::DeletionDate(_) => 0,
    };
    reply(json!({"TaskId": format!("{}-v{version}", key_id(served, params)?)}))
}

key_changes! {
    DeleteImportedKeyMaterial => KeyChange::DeleteMaterial,
    EnableKey => KeyChange::Enable,
    DisableKey => KeyChange::Disable,
    DisableKeyRotation => KeyChange::DisableRotation,
    ArchiveKey => KeyChange::Archive,
    CancelKeyArchive => KeyChange::Unarchive,
}

#[allow(non_snake_case)]
fn EnableKeys(served: &Served, params: &Params) -> Result<Reply> {
    change(
        served,
        params.required_str_list("KeyIds")?,
        KeyChange::Enable,
    )
}

#[allow(non_snake_case)]
fn DisableKeys(served: &Served, params: &Params) -> Result<Reply> {
    change(
        served,
        params.required_str_list("KeyIds")?,
        KeyChange::Disable,
    )
}

#[allow(non_snake_case)]
fn ScheduleKeyDeletion(served: &Served, params: &Params) -> Result<Reply> {
    let days = params.required_u32("PendingWindowInDays")?;
    let changed = served.kms.change_keys(
        &served.caller,
        &one_key(params)?,
        KeyChange::ScheduleDeletion { days },
    )?;
    let date = match changed {
        KeyChanged::DeletionDate(date) => date,
        KeyChanged::Done | KeyChanged::Version(_) => 0,
    };
    reply(json!({"DeletionDate": date, "KeyId": key_id(served, params)?}))
}

#[allow(non_snake_case)]
fn CancelKeyDeletion(served: &Served, params: &Params) -> Result<Reply> {
    change(served, one_key(params)?, KeyChange::CancelDeletion)?;
    reply(json!({"KeyId": key_id(served, params)?}))
}

#[allow(non_snake_case)]
fn UpdateAlias(served: &Served, params: &Params) -> Result<Reply> {
    let alias = params.required_str("Alias")?.to_owned();
    change(
        served,
        one_key(params)?,
        KeyChange::Update {
            alias: Some(alias),
            description: None,
        },
    )
}

#[allow(non_snake_case)]
fn UpdateKeyDescription(served: &Served, params: &Params) -> Result<Reply> {
    // An empty description is allowed: it clears the old one.
    let description = params.str("Description")?.ok_or_else(|| {
        KmsError::new(
            ErrorCode::MissingParameter,
            keyconsole_base::text!("errors.the_parameter_description_is_missing"),
        )
    })?;
    change(
        served,
        one_key(params)?,
        KeyChange::Update {
            alias: None,
            description: Some(description.to_owned()),
        },
    )
}

#[allow(non_snake_case)]
fn EnableKeyRotation(served: &Served, params: &Params) -> Result<Reply> {
    let days = params.u32("RotateDays")?;
    change(served, one_key(params)?, KeyChange::EnableRotation { days })
}
