//! The KMS actions of the Tencent Cloud API (2019-01-18): each reads its parameters, calls the
//! engine, and shapes the answer as the cloud does. No rule lives here; the engine checks everything.

use keyconsole_base::util::{SecretBytes, SecretString};
use serde_json::{Value, json};

use super::params::Params;
use super::{Reply, Service};
use keyconsole_kms::{
    CanonicalContext, CreateKey, DataKeySpec, ErrorCode, KeyQuery, Kms, KmsError, Result,
};

/// Tencent Cloud KMS, API version 2019-01-18.
pub const SERVICE: Service = Service {
    title: "KMS",
    name: "kms",
    version: "2019-01-18",
    actions: ACTIONS,
};

super::actions! {
    Encrypt: Read,
    Decrypt: Read,
    ReEncrypt: Read,
    GenerateDataKey: Read,
    GenerateRandom: Read,
    DescribeKey: Read,
    DescribeKeys: Read,
    ListKeys: Read,
    ListKeyDetail: Read,
    GetKeyRotationStatus: Read,
    GetServiceStatus: Read,
    CreateKey: Change,
    EnableKey: Change,
    DisableKey: Change,
    EnableKeys: Change,
    DisableKeys: Change,
    ScheduleKeyDeletion: Change,
    CancelKeyDeletion: Change,
    UpdateAlias: Change,
    UpdateKeyDescription: Change,
    EnableKeyRotation: Change,
    DisableKeyRotation: Change,
    ArchiveKey: Change,
    CancelKeyArchive: Change,
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
fn Encrypt(kms: &Kms, params: &Params) -> Result<Reply> {
    let key = key_param(params)?;
    let plaintext = decode_plaintext(params.required_str("Plaintext")?)?;
    let encrypted = kms.encrypt(key, &plaintext, &context(params, "EncryptionContext")?)?;
    reply(json!({"CiphertextBlob": encrypted.ciphertext_blob, "KeyId": encrypted.key_id}))
}

#[allow(non_snake_case)]
fn Decrypt(kms: &Kms, params: &Params) -> Result<Reply> {
    let blob = params.required_str("CiphertextBlob")?;
    let decrypted = kms.decrypt(blob, &context(params, "EncryptionContext")?)?;
    let plaintext = encode(&decrypted.plaintext);
    reply(json!({"KeyId": decrypted.key_id, "Plaintext": plaintext.as_str()}))
}

#[allow(non_snake_case)]
fn ReEncrypt(kms: &Kms, params: &Params) -> Result<Reply> {
    let done = kms.re_encrypt(
        params.required_str("CiphertextBlob")?,
        params.str("DestinationKeyId")?,
        &context(params, "SourceEncryptionContext")?,
        &context(params, "DestinationEncryptionContext")?,
    )?;
    reply(json!({
        "CiphertextBlob": done.ciphertext_blob,
        "KeyId": done.key_id,
        "SourceKeyId": done.source_key_id,
        "ReEncrypted": done.re_encrypted,
    }))
}

#[allow(non_snake_case)]
fn GenerateDataKey(kms: &Kms, params: &Params) -> Result<Reply> {
    let key = key_param(params)?;
    let spec = DataKeySpec::from_api(params.str("KeySpec")?, params.u32("NumberOfBytes")?)?;
    let data_key = kms.generate_data_key(key, spec, &context(params, "EncryptionContext")?)?;
    let plaintext = encode(&data_key.plaintext);
    reply(json!({
        "KeyId": data_key.key_id,
        "Plaintext": plaintext.as_str(),
        "CiphertextBlob": data_key.ciphertext_blob,
    }))
}

#[allow(non_snake_case)]
fn GenerateRandom(kms: &Kms, params: &Params) -> Result<Reply> {
    let random = kms.generate_random(params.required_u32("NumberOfBytes")?)?;
    let plaintext = encode(&random);
    reply(json!({"Plaintext": plaintext.as_str()}))
}

// ---- reading keys ----

#[allow(non_snake_case)]
fn DescribeKey(kms: &Kms, params: &Params) -> Result<Reply> {
    let key = kms.describe_key(key_param(params)?)?;
    reply(json!({"KeyMetadata": key_metadata(&key)}))
}

#[allow(non_snake_case)]
fn DescribeKeys(kms: &Kms, params: &Params) -> Result<Reply> {
    let keys: Vec<Value> = kms
        .describe_keys(&params.required_str_list("KeyIds")?)?
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

#[allow(non_snake_case)]
fn ListKeys(kms: &Kms, params: &Params) -> Result<Reply> {
    let mut query = KeyQuery::default();
    paging(params, &mut query)?;
    let page = kms.list_keys(&query)?;
    let keys: Vec<Value> = page
        .keys
        .iter()
        .map(|k| json!({"KeyId": k.key_id}))
        .collect();
    reply(json!({"Keys": keys, "TotalCount": page.total}))
}

#[allow(non_snake_case)]
fn ListKeyDetail(kms: &Kms, params: &Params) -> Result<Reply> {
    let mut query = KeyQuery::default();
    paging(params, &mut query)?;
    query.order = super::shapes::order(params.u64("OrderType")?.unwrap_or(0))?;
    query.state = super::shapes::state_filter(params.u64("KeyState")?.unwrap_or(0))?;
    query.search = params.str("SearchKeyAlias")?.map(str::to_owned);
    let page = kms.list_keys(&query)?;
    let keys: Vec<Value> = page.keys.iter().map(key_metadata).collect();
    reply(json!({"TotalCount": page.total, "KeyMetadatas": keys}))
}

#[allow(non_snake_case)]
fn GetKeyRotationStatus(kms: &Kms, params: &Params) -> Result<Reply> {
    let enabled = kms.get_key_rotation_status(key_param(params)?)?;
    reply(json!({"KeyRotationEnabled": enabled}))
}

#[allow(non_snake_case)]
fn GetServiceStatus(_kms: &Kms, _params: &Params) -> Result<Reply> {
    reply(json!({"ServiceEnabled": true}))
}

// ---- changing keys ----

#[allow(non_snake_case)]
fn CreateKey(kms: &Kms, params: &Params) -> Result<Reply> {
    if let Some(kind) = params.u64("Type")?
        && kind != 1
        && kind != 2
    {
        return Err(KmsError::new(
            ErrorCode::InvalidParameterValue,
            keyconsole_base::text!("errors.type_is_kind_use_1_default", kind = kind),
        ));
    }
    let key = kms.create_key(CreateKey {
        alias: params.required_str("Alias")?.to_owned(),
        description: params.str("Description")?.unwrap_or_default().to_owned(),
        key_usage: params.str("KeyUsage")?.map(str::to_owned),
        rotate_days: None,
    })?;
    reply(json!({
        "KeyId": key.key_id,
        "Alias": key.alias,
        "CreateTime": key.create_time,
        "Description": key.description,
        "KeyState": key.key_state.as_str(),
        "KeyUsage": key.key_usage,
    }))
}

fn done() -> Result<Reply> {
    Ok(Reply::new())
}

/// Actions that change one key and answer with nothing but the RequestId.
macro_rules! key_changes {
    ($($name:ident => $method:ident,)*) => {$(
        #[allow(non_snake_case)]
        fn $name(kms: &Kms, params: &Params) -> Result<Reply> {
            kms.$method(key_param(params)?)?;
            done()
        }
    )*};
}

key_changes! {
    EnableKey => enable_key,
    DisableKey => disable_key,
    DisableKeyRotation => disable_key_rotation,
    ArchiveKey => archive_key,
    CancelKeyArchive => cancel_key_archive,
}

#[allow(non_snake_case)]
fn EnableKeys(kms: &Kms, params: &Params) -> Result<Reply> {
    kms.enable_keys(&params.required_str_list("KeyIds")?)?;
    done()
}

#[allow(non_snake_case)]
fn DisableKeys(kms: &Kms, params: &Params) -> Result<Reply> {
    kms.disable_keys(&params.required_str_list("KeyIds")?)?;
    done()
}

#[allow(non_snake_case)]
fn ScheduleKeyDeletion(kms: &Kms, params: &Params) -> Result<Reply> {
    let key = key_param(params)?;
    let days = params.required_u32("PendingWindowInDays")?;
    let date = kms.schedule_key_deletion(key, days)?;
    let key_id = kms.describe_key(key)?.key_id;
    reply(json!({"DeletionDate": date, "KeyId": key_id}))
}

#[allow(non_snake_case)]
fn CancelKeyDeletion(kms: &Kms, params: &Params) -> Result<Reply> {
    let key = key_param(params)?;
    kms.cancel_key_deletion(key)?;
    let key_id = kms.describe_key(key)?.key_id;
    reply(json!({"KeyId": key_id}))
}

#[allow(non_snake_case)]
fn UpdateAlias(kms: &Kms, params: &Params) -> Result<Reply> {
    kms.update_alias(key_param(params)?, params.required_str("Alias")?)?;
    done()
}

#[allow(non_snake_case)]
fn UpdateKeyDescription(kms: &Kms, params: &Params) -> Result<Reply> {
    // An empty description is allowed: it clears the old one.
    let description = params.str("Description")?.ok_or_else(|| {
        KmsError::new(
            ErrorCode::MissingParameter,
            keyconsole_base::text!("errors.the_parameter_description_is_missing"),
        )
    })?;
    kms.update_description(key_param(params)?, description)?;
    done()
}

#[allow(non_snake_case)]
fn EnableKeyRotation(kms: &Kms, params: &Params) -> Result<Reply> {
    kms.enable_key_rotation(key_param(params)?, params.u32("RotateDays")?)?;
    done()
}
