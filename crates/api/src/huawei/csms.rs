//! Huawei Cloud's secrets service (CSMS, `huaweicloudsdkcsms.v1`) on keyconsole's secrets:
//! `/v1/{project_id}/secrets…` with snake_case JSON, errors `{"error_code","error_msg"}` at the
//! top level. Times are Unix milliseconds, as Huawei's own examples show them.
//!
//! Versions are numbered `v1`, `v2`, … as the service numbers them; the stage `SYSCURRENT` is the
//! newest version (a database secret's current one) and `SYSPREVIOUS` the one before. Custom
//! stages, version expiry, automatic rotation through FunctionGraph and event subscriptions are
//! not kept by keyconsole: asking for them is refused with a message that says so, never
//! silently dropped.

use serde_json::{Value, json};
use zeroize::Zeroizing;

use super::{Route, Served, invalid, missing, reply};
use crate::dialect::Answer;
use crate::signed::{RawRequest, next_version_id};
use keyconsole_kms::secrets::rules::LIST_LIMIT_MAX;
use keyconsole_kms::{
    CreateSecret, ErrorCode, KmsError, Result, SecretChange, SecretMetadata, SecretQuery,
    SecretState, SecretValue,
};

/// The CSMS operations, as the SDK's methods name them (the access log shows these).
const OPERATIONS: &[&str] = &[
    "create-secret",
    "list-secrets",
    "show-secret",
    "update-secret",
    "delete-secret",
    "delete-secret-for-schedule",
    "restore-secret",
    "create-secret-version",
    "list-secret-versions",
    "show-secret-version",
    "update-version",
    "show-secret-stage",
    "update-secret-stage",
    "delete-secret-stage",
];

const CURRENT: &str = "SYSCURRENT";
const PREVIOUS: &str = "SYSPREVIOUS";

pub fn serves(operation: &str) -> bool {
    OPERATIONS.contains(&operation)
}

/// The operation a CSMS path names (`rest`: the parts after `/v1/{project_id}/`).
pub(super) fn route(method: &str, rest: &[&str]) -> Option<Route> {
    let (operation, change) = match (method, rest) {
        ("POST", ["secrets"]) => ("create-secret", true),
        ("GET", ["secrets"]) => ("list-secrets", false),
        ("GET", ["secrets", _]) => ("show-secret", false),
        ("PUT", ["secrets", _]) => ("update-secret", true),
        ("DELETE", ["secrets", _]) => ("delete-secret", true),
        ("POST", ["secrets", _, "scheduled-deleted-tasks", "create"]) => {
            ("delete-secret-for-schedule", true)
        }
        ("POST", ["secrets", _, "scheduled-deleted-tasks", "cancel"]) => ("restore-secret", true),
        ("POST", ["secrets", _, "versions"]) => ("create-secret-version", true),
        ("GET", ["secrets", _, "versions"]) => ("list-secret-versions", false),
        ("GET", ["secrets", _, "versions", _]) => ("show-secret-version", false),
        ("PUT", ["secrets", _, "versions", _]) => ("update-version", true),
        ("GET", ["secrets", _, "stages", _]) => ("show-secret-stage", false),
        ("PUT", ["secrets", _, "stages", _]) => ("update-secret-stage", true),
        ("DELETE", ["secrets", _, "stages", _]) => ("delete-secret-stage", true),
        _ => return None,
    };
    Some(Route {
        operation,
        change,
        secret: rest.get(1).map(|s| (*s).to_owned()),
        item: rest.get(3).map(|s| (*s).to_owned()),
    })
}

/// The HTTP status and CSMS code of an engine error kind (codes from Huawei's DEW error page
/// where it has one: `CSMS.0005` no such resource, `CSMS.0103` pending deletion).
pub fn code(kind: ErrorCode) -> (u16, &'static str) {
    use ErrorCode::*;
    match kind {
        SignatureFailure | SignatureExpire | SecretIdNotFound | InvalidAuthorization => {
            (401, "APIGW.0301")
        }
        InvalidAction => (404, "APIGW.0101"),
        UnauthorizedOperation => (403, "CSMS.0403"),
        SecretNotExist | NoSuchVersion | CmkNotFound => (404, "CSMS.0005"),
        SecretExists | VersionIdExists => (409, "CSMS.0004"),
        ResourcePendingDeleted => (400, "CSMS.0103"),
        ResourceDisabled | CmkDisabled | CmkArchived | CmkStateNotSupport | AccessKmsError => {
            (400, "CSMS.0104")
        }
        LimitExceeded | CmkLimitExceeded => (400, "CSMS.0301"),
        UnsupportedOperation | OperationDenied | AutoRotatedResource => (400, "CSMS.0302"),
        RequestSizeLimitExceeded => (413, "CSMS.0413"),
        InternalError | KeystoreIo | KeystoreBusy | AuditUnavailable | KeystoreDamaged
        | FailedOperation => (500, "CSMS.0500"),
        _ => (400, "CSMS.0001"),
    }
}

fn unsupported(what: &str) -> KmsError {
    KmsError::new(
        ErrorCode::UnsupportedOperation,
        keyconsole_base::text!("errors.csms_not_kept", what = what),
    )
}

fn millis(seconds: i64) -> i64 {
    seconds.saturating_mul(1000)
}

fn state_name(state: SecretState) -> &'static str {
    match state {
        SecretState::Enabled => "ENABLED",
        SecretState::Disabled => "DISABLED",
        SecretState::PendingDelete => "PENDING_DELETE",
    }
}

/// A secret's versions, oldest first, and which of them the two built-in stages point at.
struct Versions {
    all: Vec<(String, i64)>,
    current: Option<String>,
    previous: Option<String>,
}

impl Versions {
    fn of(served: &Served, secret: &SecretMetadata) -> Result<Versions> {
        let all = served.kms.secret_versions(&served.caller, &secret.name)?;
        // A database secret knows its current and previous versions; any other's newest is
        // current and the one before it previous.
        let (current, previous) = match &secret.database {
            Some(db) => (
                Some(db.current_version.clone()).filter(|v| !v.is_empty()),
                db.previous_version.clone().filter(|v| !v.is_empty()),
            ),
            None => {
                let mut newest = all.iter().rev().map(|(id, _)| id.clone());
                (newest.next(), newest.next())
            }
        };
        Ok(Versions {
            all,
            current,
            previous,
        })
    }

    fn stages(&self, version: &str) -> Vec<&'static str> {
        let mut stages = Vec::new();
        if self.current.as_deref() == Some(version) {
            stages.push(CURRENT);
        }
        if self.previous.as_deref() == Some(version) {
            stages.push(PREVIOUS);
        }
        stages
    }

    fn created(&self, version: &str) -> i64 {
        self.all
            .iter()
            .find(|(id, _)| id == version)
            .map_or(0, |(_, t)| *t)
    }

    fn metadata(&self, secret: &SecretMetadata, version: &str) -> Value {
        json!({
            "id": version,
            "create_time": millis(self.created(version)),
            "expire_time": null,
            "kms_key_id": secret.key_id,
            "secret_name": secret.name,
            "version_stages": self.stages(version),
        })
    }

    /// The version a path names: an id, or `latest` (the current one).
    fn named(&self, id: &str) -> Result<String> {
        let wanted = if id == "latest" {
            self.current.clone()
        } else {
            Some(id.to_owned())
        };
        wanted
            .filter(|v| self.all.iter().any(|(id, _)| id == v))
            .ok_or_else(|| {
                KmsError::new(
                    ErrorCode::NoSuchVersion,
                    keyconsole_base::text!("errors.csms_no_such_version", version = id),
                )
            })
    }
}

/// Huawei's Secret for a secret.
fn secret_json(secret: &SecretMetadata, versions: &Versions) -> Value {
    let updated = versions.all.last().map_or(secret.create_time, |(_, t)| *t);
    json!({
        "id": secret.name,
        "name": secret.name,
        "state": state_name(secret.state),
        "kms_key_id": secret.key_id,
        "description": secret.description,
        "create_time": millis(secret.create_time),
        "update_time": millis(updated),
        "scheduled_delete_time": if secret.state == SecretState::PendingDelete {
            json!(millis(secret.delete_time))
        } else {
            Value::Null
        },
        "secret_type": if secret.database.is_some() { "RDS-FG" } else { "COMMON" },
        "auto_rotation": secret.database.as_ref().is_some_and(|d| d.rotation_enabled),
        "rotation_period": secret
            .database
            .as_ref()
            .filter(|d| d.rotation_enabled)
            .map(|d| format!("{}d", d.rotate_days))
            .unwrap_or_default(),
        "rotation_config": "",
        "rotation_time": secret.database.as_ref().map_or(0, |d| millis(d.last_rotation_time)),
        "next_rotation_time": secret.database.as_ref().map_or(0, |d| millis(d.next_rotation_time)),
        "event_subscriptions": [],
        "enterprise_project_id": "0",
        "rotation_func_urn": "",
    })
}

/// Exactly one of `secret_string` (text) and `secret_binary` (base64).
fn value(served: &Served) -> Result<SecretValue> {
    match (served.text("secret_string"), served.text("secret_binary")) {
        (Some(text), None) => Ok(SecretValue::Text(Zeroizing::new(text))),
        (None, Some(binary)) => base64_simd::STANDARD
            .decode_to_vec(binary.trim())
            .map(|bytes| SecretValue::Binary(Zeroizing::new(bytes)))
            .map_err(|_| invalid("secret_binary")),
        (Some(_), Some(_)) => Err(KmsError::new(
            ErrorCode::InvalidParameter,
            keyconsole_base::text!("errors.csms_string_or_binary_not_both"),
        )),
        (None, None) => Err(missing("secret_string")),
    }
}

/// Refuses what keyconsole does not keep rather than dropping it: automatic rotation of a
/// common secret, event subscriptions, FunctionGraph rotation.
fn refuse_unkept(served: &Served) -> Result<()> {
    if served.body.get("auto_rotation").and_then(Value::as_bool) == Some(true) {
        return Err(unsupported("auto_rotation"));
    }
    for name in ["rotation_func_urn", "rotation_config"] {
        if served.text(name).is_some_and(|v| !v.is_empty()) {
            return Err(unsupported(name));
        }
    }
    if served
        .body
        .get("event_subscriptions")
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty())
    {
        return Err(unsupported("event_subscriptions"));
    }
    Ok(())
}

/// Runs a CSMS operation.
pub(super) fn serve(served: &Served, route: &Route, request: &RawRequest) -> Result<Answer> {
    let (kms, caller) = (served.kms, &served.caller);
    let name = || route.secret.clone().ok_or_else(|| missing("secret_name"));
    let described = |name: &str| -> Result<(SecretMetadata, Versions)> {
        let secret = kms.describe_secret(caller, name)?;
        let versions = Versions::of(served, &secret)?;
        Ok((secret, versions))
    };
    let secret_answer = |name: &str| -> Result<Answer> {
        let (secret, versions) = described(name)?;
        reply(json!({"secret": secret_json(&secret, &versions)}))
    };
    match route.operation {
        "create-secret" => {
            match served.text("secret_type").as_deref() {
                None | Some("COMMON") => {}
                Some(_) => return Err(unsupported("secret_type")),
            }
            refuse_unkept(served)?;
            let (name, _) = kms.create_secret(
                caller,
                CreateSecret {
                    name: served.required("name")?,
                    version_id: Some("v1".to_owned()),
                    description: served.text("description").unwrap_or_default(),
                    key: served.text("kms_key_id").filter(|k| !k.is_empty()),
                    value: value(served)?,
                    tags: Vec::new(),
                },
            )?;
            secret_answer(&name)
        }
        "list-secrets" => list_secrets(served, request),
        "show-secret" => secret_answer(&name()?),
        "update-secret" => {
            let name = name()?;
            refuse_unkept(served)?;
            if let Some(key) = served.text("kms_key_id").filter(|k| !k.is_empty()) {
                let (secret, _) = described(&name)?;
                if kms.describe_key(caller, &key)?.key_id != secret.key_id {
                    return Err(unsupported("kms_key_id"));
                }
            }
            if let Some(description) = served.text("description") {
                kms.change_secret(caller, &name, SecretChange::SetDescription(description))?;
            }
            secret_answer(&name)
        }
        "delete-secret" => {
            delete(served, &name()?, 0)?;
            Ok(Answer::new())
        }
        "delete-secret-for-schedule" => {
            let name = name()?;
            let days = served
                .number("recovery_window_in_days")?
                .ok_or_else(|| missing("recovery_window_in_days"))?;
            if !(7..=30).contains(&days) {
                return Err(invalid("recovery_window_in_days"));
            }
            delete(served, &name, u32::try_from(days).unwrap_or(30))?;
            secret_answer(&name)
        }
        "restore-secret" => {
            let name = name()?;
            // The engine restores a secret disabled (as Tencent's does); Huawei's comes back
            // usable, and has no call to enable it.
            kms.change_secret(caller, &name, SecretChange::Restore)?;
            kms.change_secret(caller, &name, SecretChange::Enable)?;
            secret_answer(&name)
        }
        "create-secret-version" => {
            let name = name()?;
            if let Some(stages) = served.body.get("version_stages").filter(|v| !v.is_null()) {
                let default = stages
                    .as_array()
                    .is_some_and(|a| a.len() == 1 && a[0] == CURRENT);
                if !default {
                    return Err(unsupported("version_stages"));
                }
            }
            if served.body.get("expire_time").is_some_and(|v| !v.is_null()) {
                return Err(unsupported("expire_time"));
            }
            let value = value(served)?;
            let (_, versions) = described(&name)?;
            let version_id = next_version_id(&versions.all);
            kms.change_secret(
                caller,
                &name,
                SecretChange::PutValue {
                    version_id: version_id.clone(),
                    value,
                },
            )?;
            let (secret, versions) = described(&name)?;
            reply(json!({"version_metadata": versions.metadata(&secret, &version_id)}))
        }
        "list-secret-versions" => {
            let (secret, versions) = described(&name()?)?;
            let limit = page_limit(request)?;
            // Newest first, paged after the marker (a version id).
            let newest_first: Vec<&String> = versions.all.iter().rev().map(|(id, _)| id).collect();
            let start = match request.query_value("marker").filter(|m| !m.is_empty()) {
                Some(marker) => newest_first
                    .iter()
                    .position(|id| **id == marker)
                    .map_or(newest_first.len(), |i| i + 1),
                None => 0,
            };
            let page: Vec<&String> = newest_first
                .iter()
                .skip(start)
                .take(limit)
                .copied()
                .collect();
            let more = start + page.len() < newest_first.len();
            reply(json!({
                "version_metadatas": page.iter().map(|id| versions.metadata(&secret, id)).collect::<Vec<_>>(),
                "page_info": {
                    "next_marker": if more { page.last().map(|id| id.to_string()) } else { None },
                    "previous_marker": request.query_value("marker").filter(|m| !m.is_empty()),
                    "current_count": page.len(),
                },
            }))
        }
        "show-secret-version" => {
            let (secret, versions) = described(&name()?)?;
            let version = versions.named(route.item.as_deref().unwrap_or_default())?;
            let value = kms.get_secret_value(caller, &secret.name, &version)?;
            let mut shown = json!({"version_metadata": versions.metadata(&secret, &version)});
            match &value {
                SecretValue::Text(text) => shown["secret_string"] = json!(text.as_str()),
                SecretValue::Binary(bytes) => {
                    shown["secret_binary"] =
                        json!(base64_simd::STANDARD.encode_to_string(bytes.as_slice()))
                }
            }
            reply(json!({"version": shown}))
        }
        "update-version" => Err(unsupported("expire_time")),
        "show-secret-stage" => {
            let (secret, versions) = described(&name()?)?;
            let stage = route.item.clone().unwrap_or_default();
            let version = match stage.as_str() {
                CURRENT => versions.current.clone(),
                PREVIOUS => versions.previous.clone(),
                _ => None,
            }
            .ok_or_else(|| {
                KmsError::new(
                    ErrorCode::NoSuchVersion,
                    keyconsole_base::text!("errors.csms_no_such_stage", stage = stage),
                )
            })?;
            reply(json!({"stage": {
                "name": stage,
                "update_time": millis(versions.created(&version)),
                "secret_name": secret.name,
                "version_id": version,
            }}))
        }
        "update-secret-stage" | "delete-secret-stage" => Err(unsupported("stages")),
        _ => Err(KmsError::new(
            ErrorCode::InvalidAction,
            keyconsole_base::text!("errors.no_such_operation"),
        )),
    }
}

fn page_limit(request: &RawRequest) -> Result<usize> {
    match request.query_value("limit").filter(|l| !l.is_empty()) {
        None => Ok(50),
        Some(limit) => limit
            .parse::<usize>()
            .ok()
            .filter(|l| (1..=200).contains(l))
            .ok_or_else(|| invalid("limit")),
    }
}

/// Deletion as Huawei has it: there is no call to disable a secret first, so an enabled one is
/// disabled here and, if the deletion is then refused, enabled again (nothing half done).
fn delete(served: &Served, name: &str, recovery_days: u32) -> Result<()> {
    let (kms, caller) = (served.kms, &served.caller);
    let secret = kms.describe_secret(caller, name)?;
    let was_enabled = secret.state == SecretState::Enabled;
    if was_enabled {
        kms.change_secret(caller, name, SecretChange::Disable)?;
    }
    match kms.change_secret(caller, name, SecretChange::Delete { recovery_days }) {
        Ok(_) => Ok(()),
        Err(e) => {
            if was_enabled {
                // Best effort: the refusal is what the caller must hear.
                let _ = kms.change_secret(caller, name, SecretChange::Enable);
            }
            Err(e)
        }
    }
}

/// Every secret by name, paged after the marker (a secret's name), `limit` a page.
fn list_secrets(served: &Served, request: &RawRequest) -> Result<Answer> {
    let limit = page_limit(request)?;
    let mut all = Vec::new();
    loop {
        let page = served.kms.list_secrets(
            &served.caller,
            &SecretQuery {
                oldest_first: true,
                offset: all.len(),
                limit: Some(LIST_LIMIT_MAX),
                ..SecretQuery::default()
            },
        )?;
        let done = page.secrets.is_empty() || all.len() + page.secrets.len() >= page.total;
        all.extend(page.secrets);
        if done {
            break;
        }
    }
    all.sort_by(|a, b| a.name.cmp(&b.name));
    let marker = request.query_value("marker").filter(|m| !m.is_empty());
    let start = marker.as_deref().map_or(0, |m| {
        all.iter()
            .position(|s| s.name.as_str() > m)
            .unwrap_or(all.len())
    });
    let page: Vec<&SecretMetadata> = all.iter().skip(start).take(limit).collect();
    let more = start + page.len() < all.len();
    let secrets = page
        .iter()
        .map(|s| Versions::of(served, s).map(|v| secret_json(s, &v)))
        .collect::<Result<Vec<_>>>()?;
    reply(json!({
        "secrets": secrets,
        "page_info": {
            "next_marker": if more { page.last().map(|s| s.name.clone()) } else { None },
            "previous_marker": marker,
            "current_count": page.len(),
        },
    }))
}
