//! CloudAudit's `LookUpEvents` (API 2019-03-19) over the keystore's audit trail, so the official
//! `tencentcloud-sdk-python-cloudaudit` client and tccli read it; and the same shape read back by
//! the remote client (the console's Audit page against a team's server).

use serde_json::{Value, json};

use super::params::Params;
use super::{Reply, Served, Service};
use keyconsole_kms::audit::{AuditEvent, AuditFilter, AuditQuery};
use keyconsole_kms::{ErrorCode, KmsError, Result};

/// Tencent Cloud CloudAudit, API version 2019-03-19.
pub const SERVICE: Service = Service {
    title: "CloudAudit",
    name: "cloudaudit",
    version: "2019-03-19",
    actions: ACTIONS,
};

// Reading the trail reads files: off the async workers, as changes are.
super::actions! {
    LookUpEvents: Change [StartTime, EndTime, LookupAttributes, NextToken, MaxResults, Mode],
}

/// The cloud answers at most 50 events a call, 10 unless asked.
pub const MAX_RESULTS: u64 = 50;
const DEFAULT_RESULTS: u64 = 10;

/// The lookup attributes CloudAudit knows.
const ATTRIBUTE_KEYS: &[&str] = &[
    "RequestId",
    "EventName",
    "ActionType",
    "PrincipalId",
    "ResourceId",
    "ResourceName",
    "AccessKeyId",
    "SensitiveAction",
    "ApiErrorCode",
    "CamErrorCode",
    "SourceIP",
];

fn invalid(message: impl Into<keyconsole_base::util::i18n::Text>) -> KmsError {
    KmsError::new(ErrorCode::InvalidParameterValue, message)
}

/// Reads as the cloud's documentation gives it: a read is an action that changes nothing.
fn is_read(action: &str) -> bool {
    ["Describe", "List", "Get", "LookUp"]
        .iter()
        .any(|prefix| action.starts_with(prefix))
}

#[allow(non_snake_case)]
fn LookUpEvents(served: &Served, params: &Params) -> Result<Reply> {
    let start = params.u64("StartTime")?;
    let end = params.u64("EndTime")?;
    let (Some(start), Some(end)) = (start, end) else {
        return Err(KmsError::new(
            ErrorCode::MissingParameter,
            keyconsole_base::text!("errors.lookup_needs_times"),
        ));
    };
    if start > end {
        return Err(invalid(keyconsole_base::text!("errors.lookup_times_order")));
    }
    let limit = params.u64("MaxResults")?.unwrap_or(DEFAULT_RESULTS);
    if limit == 0 || limit > MAX_RESULTS {
        return Err(invalid(keyconsole_base::text!(
            "errors.lookup_max_results",
            max = MAX_RESULTS
        )));
    }
    let before = match params.str("NextToken")? {
        None | Some("") => None,
        Some(token) => Some(
            token
                .parse::<u64>()
                .map_err(|_| invalid(keyconsole_base::text!("errors.lookup_next_token")))?,
        ),
    };
    let mut filter = AuditFilter {
        since: Some(start as i64),
        until: Some(end as i64),
        ..AuditFilter::default()
    };
    let mut action_type = None;
    let attributes = params.objects(
        "LookupAttributes",
        |item| {
            let key = item.get("AttributeKey")?.as_str()?.to_owned();
            let value = item
                .get("AttributeValue")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            Some((key, value))
        },
        || keyconsole_base::text!("errors.lookup_attributes"),
    )?;
    for (key, value) in attributes {
        let value = Some(value);
        match key.as_str() {
            "RequestId" => filter.request_id = value,
            "EventName" => filter.event_name = value,
            "PrincipalId" => filter.user = value,
            "ResourceId" | "ResourceName" => filter.resource = value,
            "AccessKeyId" => filter.credential = value,
            "SourceIP" => filter.source = value,
            // The cloud's code (`ResourceUnavailable.CmkDisabled`) as the engine's outcome.
            "ApiErrorCode" => {
                filter.outcome =
                    value.map(|v| super::codes::kind_of(&v).map_or(v, |kind| kind.to_string()))
            }
            "CamErrorCode" => filter.event_name_outcome(value),
            "ActionType" => action_type = value,
            "SensitiveAction" => {}
            other if ATTRIBUTE_KEYS.contains(&other) => {}
            other => {
                return Err(invalid(keyconsole_base::text!(
                    "errors.lookup_attribute_key",
                    key = other
                )));
            }
        }
    }
    let mut page = served.kms.look_up_events(
        &served.caller,
        &AuditQuery {
            filter,
            before,
            limit: 0,
        },
    )?;
    if let Some(kind) = action_type.filter(|k| !k.is_empty()) {
        let reads = kind.eq_ignore_ascii_case("Read");
        page.events.retain(|e| is_read(&e.action) == reads);
    }
    let total = page.events.len();
    let more = total > limit as usize;
    page.events.truncate(limit as usize);
    let next = if more {
        page.events.last().map(|e| e.seq.to_string())
    } else {
        None
    };
    let events: Vec<Value> = page.events.iter().map(event_json).collect();
    let mut reply = Reply::new();
    reply.insert("Events".into(), Value::Array(events));
    reply.insert("ListOver".into(), Value::Bool(!more));
    reply.insert("TotalCount".into(), json!(total));
    reply.insert("NextToken".into(), next.map_or(Value::Null, Value::String));
    Ok(reply)
}

trait CamOutcome {
    fn event_name_outcome(&mut self, value: Option<String>);
}

impl CamOutcome for AuditFilter {
    /// CamErrorCode: any value asks for the refusals of the caller's policy.
    fn event_name_outcome(&mut self, value: Option<String>) {
        if value.is_some_and(|v| !v.is_empty()) {
            self.text = Some("UnauthorizedOperation".to_owned());
            self.succeeded = Some(false);
        }
    }
}

/// One event in CloudAudit's shape; `CloudAuditEvent` carries the whole event as JSON.
fn event_json(event: &AuditEvent) -> Value {
    let (resource_type, resource_name) = if !event.key_id.is_empty() {
        ("kms_key", event.key_id.clone())
    } else if !event.secret.is_empty() {
        ("ssm_secret", event.secret.clone())
    } else {
        ("", event.target.clone())
    };
    let source = match (event.face.as_str(), event.dialect.as_str()) {
        ("api", "tencent") | ("api", "") => {
            if keyconsole_kms::policy::SSM_ACTIONS.contains(&event.action.as_str()) {
                "ssm.tencentcloudapi.com".to_owned()
            } else {
                "kms.tencentcloudapi.com".to_owned()
            }
        }
        ("api", dialect) => format!("{dialect} api"),
        (face, _) => format!("keyconsole {face}"),
    };
    json!({
        "EventId": event.seq.to_string(),
        "Username": event.user,
        "EventTime": event.time.to_string(),
        "CloudAuditEvent": serde_json::to_string(event).unwrap_or_default(),
        "ResourceTypeCn": resource_type,
        "ErrorCode": if event.outcome == "UnauthorizedOperation" { 403 } else { 0 },
        "EventName": event.action,
        "SecretId": event.credential,
        "EventSource": source,
        "RequestID": event.request_id,
        "ResourceRegion": "",
        "AccountID": 0,
        "SourceIPAddress": event.source,
        "EventNameCn": event.action,
        "Resources": {"ResourceType": resource_type, "ResourceName": resource_name},
        "EventRegion": "",
        "Location": "",
    })
}

/// An event CloudAudit's shape carries (the remote client's side of `event_json`).
pub fn event_from(value: &Value) -> Option<AuditEvent> {
    let detail = value.get("CloudAuditEvent")?.as_str()?;
    serde_json::from_str(detail).ok()
}
