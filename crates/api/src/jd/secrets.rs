//! JD Cloud's secrets interface (机密, `kms` v1 `/v1/secret…`) on keyconsole's secrets. A secret's
//! `secretId` is its name; versions are numbered `v1`, `v2`, … as JD numbers them; `secretData`
//! is plain text both ways.
//!
//! keyconsole keeps no validity window per version: `secretTimeCfg` may carry JD's defaults (a
//! start now or before, no expiry: empty or null), and anything else is refused rather than
//! dropped; answers show a version's creation time as `startTime` and an empty `expireTime`.
//! Enabling or disabling one version is refused likewise (`FAILED_PRECONDITION`); whole secrets
//! are enabled and disabled.

use serde_json::{Map, Value, json};
use zeroize::Zeroizing;

use super::{Route, invalid, iso, page, reply, text};
use crate::dialect::Answer;
use crate::signed::{RawRequest, next_version_id};
use keyconsole_kms::{
    Caller, CreateSecret, ErrorCode, KmsError, Result, SecretChange, SecretMetadata, SecretQuery,
    SecretState, SecretValue, ServedKms,
};

const OPERATIONS: &[(&str, bool)] = &[
    ("CreateSecret", true),
    ("DescribeSecretList", false),
    ("DescribeSecretVersionList", false),
    ("DescribeSecretVersionInfo", false),
    ("CreateSecretVersion", true),
    ("UpdateSecret", true),
    ("UpdateSecretVersion", true),
    ("EnableSecret", true),
    ("DisableSecret", true),
    ("EnableSecretVersion", true),
    ("DisableSecretVersion", true),
    ("DeleteSecret", true),
    ("DeleteSecretVersion", true),
];

pub fn serves(operation: &str) -> bool {
    OPERATIONS.iter().any(|(name, _)| *name == operation)
}

/// The operation a path under `/v1/secret` names (`rest`: what follows, decoded).
pub(super) fn route(method: &str, rest: &str) -> Option<Route> {
    let (operation, secret, version) = match (method, rest) {
        ("POST", ":create") => ("CreateSecret", None, None),
        ("GET", "") | ("GET", "/") => ("DescribeSecretList", None, None),
        _ => {
            let rest = rest.strip_prefix('/')?;
            let (path, action) = match rest.split_once(':') {
                Some((path, action)) => (path, Some(action)),
                None => (rest, None),
            };
            let (secret, version) = match path.split_once("/version/") {
                Some((secret, version)) => (secret, Some(version)),
                None => (path, None),
            };
            if secret.is_empty() || secret.contains('/') || version.is_some_and(str::is_empty) {
                return None;
            }
            let operation = match (method, version.is_some(), action) {
                ("GET", false, None) => "DescribeSecretVersionList",
                ("GET", true, None) => "DescribeSecretVersionInfo",
                ("POST", false, Some("createSecretVersion")) => "CreateSecretVersion",
                ("PATCH", false, None) => "UpdateSecret",
                ("PATCH", true, None) => "UpdateSecretVersion",
                ("PATCH", false, Some("enable")) => "EnableSecret",
                ("PATCH", false, Some("disable")) => "DisableSecret",
                ("PATCH", true, Some("enable")) => "EnableSecretVersion",
                ("PATCH", true, Some("disable")) => "DisableSecretVersion",
                ("DELETE", false, Some("delete")) => "DeleteSecret",
                ("DELETE", true, Some("delete")) => "DeleteSecretVersion",
                _ => return None,
            };
            (operation, Some(secret), version)
        }
    };
    let change = OPERATIONS
        .iter()
        .any(|(name, change)| *name == operation && *change);
    Some(Route {
        operation,
        change,
        target: secret.map(str::to_owned),
        version: version.map(str::to_owned),
    })
}

/// 0 enabled, 1 disabled (a secret waiting for deletion is not usable either).
fn status(state: SecretState) -> u32 {
    match state {
        SecretState::Enabled => 0,
        SecretState::Disabled | SecretState::PendingDelete => 1,
    }
}

fn secret_info(secret: &SecretMetadata) -> Value {
    json!({
        "secretId": secret.name,
        "secretName": secret.name,
        "secretDesc": secret.description,
        "secretStatus": status(secret.state),
        "createTime": iso(secret.create_time),
    })
}

fn data(value: &SecretValue) -> Zeroizing<String> {
    Zeroizing::new(String::from_utf8_lossy(value.bytes()).into_owned())
}

/// A version as JD shows it, its value included.
fn version_item(
    kms: &dyn ServedKms,
    caller: &Caller,
    secret: &SecretMetadata,
    (version, created): &(String, i64),
) -> Result<Value> {
    let value = kms.get_secret_value(caller, &secret.name, version)?;
    Ok(json!({
        "secretVersion": version,
        "secretStatus": status(secret.state),
        "startTime": iso(*created),
        "expireTime": "",
        "secretData": data(&value).as_str(),
    }))
}

fn object<'a>(parent: &'a Map<String, Value>, name: &str) -> Result<&'a Map<String, Value>> {
    parent
        .get(name)
        .and_then(Value::as_object)
        .ok_or_else(|| invalid(name))
}

fn secret_data(cfg: &Map<String, Value>) -> Result<SecretValue> {
    text(cfg, "secretData")
        .map(|d| SecretValue::Text(Zeroizing::new(d.to_owned())))
        .ok_or_else(|| invalid("secretData"))
}

/// `secretTimeCfg` as keyconsole keeps it: valid from now (or an earlier start) until deleted.
fn check_time_cfg(cfg: &Map<String, Value>, now: i64) -> Result<()> {
    let Some(times) = cfg.get("secretTimeCfg").and_then(Value::as_object) else {
        return Ok(());
    };
    if text(times, "expireTime").is_some_and(|t| !t.is_empty()) {
        return Err(version_unsupported());
    }
    match text(times, "startTime").filter(|t| !t.is_empty()) {
        None => Ok(()),
        Some(start) => match parse_iso(start) {
            // A minute's grace for the client's clock.
            Some(at) if at <= now + 60 => Ok(()),
            Some(_) => Err(version_unsupported()),
            None => Err(invalid("startTime")),
        },
    }
}

/// `YYYY-MM-DDTHH:mm:ssZ` as Unix seconds.
fn parse_iso(text: &str) -> Option<i64> {
    time::PrimitiveDateTime::parse(
        text,
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z"),
    )
    .ok()
    .map(|t| t.assume_utc().unix_timestamp())
}

fn version_unsupported() -> KmsError {
    KmsError::new(
        ErrorCode::UnsupportedOperation,
        keyconsole_base::text!("errors.jd_version_state_not_kept"),
    )
}

pub(super) fn serve(
    kms: &dyn ServedKms,
    caller: &Caller,
    route: &Route,
    body: &Map<String, Value>,
    request: &RawRequest,
) -> Result<Answer> {
    let name = || route.target.clone().ok_or_else(|| invalid("secretId"));
    let change = |change: SecretChange| -> Result<Answer> {
        kms.change_secret(caller, &name()?, change)?;
        Ok(Answer::new())
    };
    match route.operation {
        "CreateSecret" => {
            let cfg = object(body, "secretCfg")?;
            let desc = object(cfg, "secretDescCfg")?;
            check_time_cfg(cfg, kms.now())?;
            let (name, _) = kms.create_secret(
                caller,
                CreateSecret {
                    name: text(desc, "secretName")
                        .ok_or_else(|| invalid("secretName"))?
                        .to_owned(),
                    version_id: Some("v1".to_owned()),
                    description: text(desc, "secretDesc").unwrap_or_default().to_owned(),
                    key: None,
                    value: secret_data(cfg)?,
                    tags: Vec::new(),
                },
            )?;
            reply(json!({"secretId": name}))
        }
        "DescribeSecretList" => {
            let (number, size) = page(request);
            let listed = kms.list_secrets(
                caller,
                &SecretQuery {
                    offset: (number - 1) * size,
                    limit: Some(size),
                    oldest_first: true,
                    ..SecretQuery::default()
                },
            )?;
            reply(json!({
                "secretList": listed.secrets.iter().map(secret_info).collect::<Vec<_>>(),
                "totalCount": listed.total,
            }))
        }
        "DescribeSecretVersionList" => {
            let secret = kms.describe_secret(caller, &name()?)?;
            let versions = kms.secret_versions(caller, &secret.name)?;
            let (number, size) = page(request);
            let items = versions
                .iter()
                .skip((number - 1) * size)
                .take(size)
                .map(|v| version_item(kms, caller, &secret, v))
                .collect::<Result<Vec<_>>>()?;
            reply(json!({"secretDetail": {
                "secretInfo": secret_info(&secret),
                "secretVersionCount": versions.len(),
                "secretVersionList": items,
            }}))
        }
        "DescribeSecretVersionInfo" => {
            let secret = kms.describe_secret(caller, &name()?)?;
            let wanted = route.version.clone().unwrap_or_default();
            let versions = kms.secret_versions(caller, &secret.name)?;
            let version = versions
                .iter()
                .find(|(id, _)| *id == wanted)
                .ok_or_else(|| {
                    KmsError::new(
                        ErrorCode::NoSuchVersion,
                        keyconsole_base::text!("errors.csms_no_such_version", version = wanted),
                    )
                })?;
            let item = version_item(kms, caller, &secret, version)?;
            reply(item)
        }
        "CreateSecretVersion" => {
            let cfg = object(body, "secretVersionCfg")?;
            check_time_cfg(cfg, kms.now())?;
            let value = secret_data(cfg)?;
            let name = name()?;
            let version_id = next_version_id(&kms.secret_versions(caller, &name)?);
            change(SecretChange::PutValue { version_id, value })
        }
        "UpdateSecret" => {
            let desc = object(body, "secretDescCfg")?;
            let name = name()?;
            if text(desc, "secretName").is_some_and(|n| n != name) {
                return Err(KmsError::new(
                    ErrorCode::UnsupportedOperation,
                    keyconsole_base::text!("errors.jd_secret_names_do_not_change"),
                ));
            }
            change(SecretChange::SetDescription(
                text(desc, "secretDesc").unwrap_or_default().to_owned(),
            ))
        }
        "EnableSecret" => change(SecretChange::Enable),
        "DisableSecret" => change(SecretChange::Disable),
        "DeleteSecret" => change(SecretChange::Delete { recovery_days: 0 }),
        "DeleteSecretVersion" => change(SecretChange::DeleteVersion {
            version_id: route.version.clone().unwrap_or_default(),
        }),
        "UpdateSecretVersion" | "EnableSecretVersion" | "DisableSecretVersion" => {
            Err(version_unsupported())
        }
        _ => Err(KmsError::new(
            ErrorCode::InvalidAction,
            keyconsole_base::text!("errors.no_such_operation"),
        )),
    }
}
