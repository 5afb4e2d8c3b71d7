//! What a caller may do, asked of the server by the caller itself, so the console connected with
//! a user's credentials disables what the user may not do (with the reason) before it is tried.
//!
//! The cloud has no one action for this (CAM answers it in three calls, by the user's numeric
//! Uin); `GetCallerPolicy` is keyconsole's own, in CAM's namespace and version. Every caller may
//! ask it of itself, as every caller may ask STS's `GetCallerIdentity`. Against the cloud it is an
//! unknown action, and the console then offers everything (the server still judges each call).

use serde_json::{Value, json};

use super::params::Params;
use super::{Reply, Served, Service};
use keyconsole_kms::Result;

/// CAM, API version 2019-01-16 (the version only keyconsole's own action is served at).
pub const SERVICE: Service = Service {
    title: "CAM",
    name: "cam",
    version: "2019-01-16",
    actions: ACTIONS,
};

super::actions! {
    GetCallerPolicy: Read [],
}

/// `Type` `RootAccount` (the keystore's own credentials: everything) or `CAMUser` with the
/// user's `UserName`, its `PolicyDocument` (CAM's JSON, as `GetPolicy` gives it) and the
/// `SourceIP` the server sees (the policy's address conditions are judged on it).
#[allow(non_snake_case)]
fn GetCallerPolicy(served: &Served, _params: &Params) -> Result<Reply> {
    let mut reply = Reply::new();
    match served.kms.caller_policy(&served.caller)? {
        None => {
            reply.insert("Type".into(), json!("RootAccount"));
        }
        Some(caller) => {
            reply.insert("Type".into(), json!("CAMUser"));
            reply.insert("UserName".into(), json!(caller.user));
            let document = serde_json::to_string(&caller.policy).unwrap_or_default();
            reply.insert("PolicyDocument".into(), json!(document));
            let source = caller
                .source_ip
                .map_or(Value::Null, |ip| json!(ip.to_string()));
            reply.insert("SourceIP".into(), source);
        }
    }
    Ok(reply)
}
