//! Permissions in the shape of Tencent Cloud's CAM policies: statements that allow or deny
//! actions (`kms:Encrypt`, `ssm:GetSecretValue`, wildcards `kms:Get*`, `*`) on resources
//! (`qcs::kms::uin/local:key/<KeyId>`, `qcs::ssm::uin/local:secret/<name>`, wildcards), under
//! conditions on the source address (`ip_equal` / `ip_not_equal` on `qcs:ip`) and on encryption
//! context values (`string_equal` / `string_not_equal` / `string_like` on
//! `kms:encryption_context/<name>`).
//!
//! Evaluation is CAM's: an explicit deny wins; otherwise a matching allow allows; otherwise the
//! request is denied (nothing is allowed unless a statement allows it). A policy is checked when
//! it is set (version, effects, action names, condition operators and keys, addresses), so a typo
//! is an error then rather than a silent non-match later.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::error::{ErrorCode, KmsError, Result};

/// The resource name of a key, as policies write it.
pub fn key_resource(key_id: &str) -> String {
    format!("qcs::kms::uin/local:key/{key_id}")
}

/// The resource name of a secret, as policies write it.
pub fn secret_resource(name: &str) -> String {
    format!("qcs::ssm::uin/local:secret/{name}")
}

/// The actions a policy may name without a wildcard, by service.
pub const KMS_ACTIONS: &[&str] = &[
    "ArchiveKey",
    "AsymmetricRsaDecrypt",
    "AsymmetricSm2Decrypt",
    "CancelKeyArchive",
    "CancelKeyDeletion",
    "CreateKey",
    "Decrypt",
    "DeleteImportedKeyMaterial",
    "DescribeKey",
    "DescribeKeys",
    "DisableKey",
    "DisableKeyRotation",
    "DisableKeys",
    "EnableKey",
    "EnableKeyRotation",
    "EnableKeys",
    "Encrypt",
    "GenerateDataKey",
    "GenerateRandom",
    "GetKeyRotationStatus",
    "GetParametersForImport",
    "GetPublicKey",
    "GetServiceStatus",
    "ImportKeyMaterial",
    "ListAlgorithms",
    "ListKeyDetail",
    "ListKeys",
    "ReEncrypt",
    "RotateKey",
    "ScheduleKeyDeletion",
    "SignByAsymmetricKey",
    "TagKey",
    "UpdateAlias",
    "UpdateKeyDescription",
    "VerifyByAsymmetricKey",
];

pub const SSM_ACTIONS: &[&str] = &[
    "CreateProductSecret",
    "CreateSSHKeyPairSecret",
    "CreateSecret",
    "DeleteSecret",
    "DeleteSecretVersion",
    "DescribeAsyncRequestInfo",
    "DescribeRotationDetail",
    "DescribeRotationHistory",
    "DescribeSecret",
    "DescribeSupportedProducts",
    "DisableSecret",
    "EnableSecret",
    "GetSSHKeyPairValue",
    "GetSecretValue",
    "GetServiceStatus",
    "ListSecretVersionIds",
    "ListSecrets",
    "PutSecretValue",
    "RestoreSecret",
    "RotateProductSecret",
    "TagSecret",
    "UpdateDescription",
    "UpdateRotationStatus",
    "UpdateSecret",
];

pub const CLOUDAUDIT_ACTIONS: &[&str] = &["LookUpEvents"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Effect {
    Allow,
    Deny,
}

/// One value or several, as CAM lets either be written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    pub fn values(&self) -> &[String] {
        match self {
            OneOrMany::One(one) => std::slice::from_ref(one),
            OneOrMany::Many(many) => many,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statement {
    pub effect: Effect,
    pub action: OneOrMany,
    pub resource: OneOrMany,
    /// Operator → condition key → values (any value matches; every key and operator must).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub condition: BTreeMap<String, BTreeMap<String, OneOrMany>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    pub version: String,
    pub statement: Vec<Statement>,
}

/// What a request asks, as a policy judges it.
#[derive(Debug, Clone, Default)]
pub struct Request<'a> {
    /// `service:Action`, e.g. `kms:Encrypt`.
    pub action: &'a str,
    /// The resource acted on (`*` for actions on no one resource: CreateKey, ListKeys).
    pub resource: &'a str,
    pub source_ip: Option<IpAddr>,
    /// The encryption context's values by name (empty when the call has none).
    pub context: BTreeMap<String, String>,
}

/// How a policy judged a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// A deny statement (its index) matched: nothing else can allow it.
    ExplicitDeny(usize),
    /// No statement allowed it.
    ImplicitDeny,
}

impl Decision {
    pub fn allows(self) -> bool {
        self == Decision::Allow
    }
}

const IP_KEY: &str = "qcs:ip";
const CONTEXT_PREFIX: &str = "kms:encryption_context/";
const OPERATORS: &[&str] = &[
    "ip_equal",
    "ip_not_equal",
    "string_equal",
    "string_not_equal",
    "string_like",
];

fn invalid(message: keyconsole_base::util::i18n::Text) -> KmsError {
    KmsError::new(ErrorCode::InvalidParameterValue, message)
}

impl Policy {
    /// Reads a policy from its JSON and checks it.
    pub fn parse(json: &str) -> Result<Policy> {
        let policy: Policy = serde_json::from_str(json).map_err(|e| {
            invalid(keyconsole_base::text!(
                "errors.policy_is_not_valid_json",
                error = e
            ))
        })?;
        policy.check()?;
        Ok(policy)
    }

    /// The policy's own rules: version 2.0, at least one statement, known actions, operators and
    /// keys, addresses that parse.
    pub fn check(&self) -> Result<()> {
        if self.version != "2.0" {
            return Err(invalid(keyconsole_base::text!(
                "errors.policy_version_must_be_2"
            )));
        }
        if self.statement.is_empty() {
            return Err(invalid(keyconsole_base::text!(
                "errors.policy_has_no_statement"
            )));
        }
        for (index, statement) in self.statement.iter().enumerate() {
            let number = index + 1;
            if statement.action.values().is_empty() || statement.resource.values().is_empty() {
                return Err(invalid(keyconsole_base::text!(
                    "errors.policy_statement_needs_action_and_resource",
                    number = number
                )));
            }
            for action in statement.action.values() {
                if !action_is_known(action) {
                    return Err(invalid(keyconsole_base::text!(
                        "errors.policy_unknown_action",
                        number = number,
                        action = action
                    )));
                }
            }
            for (operator, keys) in &statement.condition {
                if !OPERATORS.contains(&operator.as_str()) {
                    return Err(invalid(keyconsole_base::text!(
                        "errors.policy_unknown_condition",
                        number = number,
                        name = operator
                    )));
                }
                let on_ip = operator.starts_with("ip_");
                for (key, values) in keys {
                    let known = if on_ip {
                        key == IP_KEY
                    } else {
                        key.strip_prefix(CONTEXT_PREFIX)
                            .is_some_and(|name| !name.is_empty())
                    };
                    if !known {
                        return Err(invalid(keyconsole_base::text!(
                            "errors.policy_unknown_condition",
                            number = number,
                            name = key
                        )));
                    }
                    if on_ip
                        && let Some(bad) = values.values().iter().find(|v| network(v).is_none())
                    {
                        return Err(invalid(keyconsole_base::text!(
                            "errors.policy_bad_address",
                            number = number,
                            address = bad
                        )));
                    }
                }
            }
        }
        Ok(())
    }

    /// CAM's evaluation: an explicit deny wins, then an allow, else denied.
    pub fn evaluate(&self, request: &Request<'_>) -> Decision {
        let mut allowed = false;
        for (index, statement) in self.statement.iter().enumerate() {
            if !statement.matches(request) {
                continue;
            }
            match statement.effect {
                Effect::Deny => return Decision::ExplicitDeny(index),
                Effect::Allow => allowed = true,
            }
        }
        if allowed {
            Decision::Allow
        } else {
            Decision::ImplicitDeny
        }
    }
}

/// What a caller may do, as its server tells it: the user, its policy, and the address the server
/// sees its calls come from (for the policy's address conditions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerPolicy {
    pub user: String,
    pub policy: Policy,
    pub source_ip: Option<IpAddr>,
}

impl CallerPolicy {
    /// Why the caller may not do `action` (`kms:DisableKey`) on `resource`, judged before the
    /// call: `None` when the policy allows it. A call's encryption context is not known yet, so a
    /// condition on it counts as met for an allow and unmet for a deny: the server judges the call
    /// itself, and a button is never disabled that might have worked.
    pub fn why_not(
        &self,
        action: &str,
        resource: &str,
    ) -> Option<keyconsole_base::util::i18n::Text> {
        let request = Request {
            action,
            resource,
            source_ip: self.source_ip,
            context: BTreeMap::new(),
        };
        let mut allowed = false;
        for (index, statement) in self.policy.statement.iter().enumerate() {
            let deny = statement.effect == Effect::Deny;
            if !statement.matches_ahead(&request, !deny) {
                continue;
            }
            if deny {
                return Some(keyconsole_base::text!(
                    "errors.policy_denies_ahead",
                    user = self.user,
                    action = action,
                    number = index + 1
                ));
            }
            allowed = true;
        }
        (!allowed).then(|| {
            keyconsole_base::text!(
                "errors.policy_allows_no_ahead",
                user = self.user,
                action = action
            )
        })
    }
}

impl Statement {
    fn matches(&self, request: &Request<'_>) -> bool {
        self.matches_as(request, None)
    }

    /// `matches` with the encryption context unknown: its conditions count as `context_holds`.
    fn matches_ahead(&self, request: &Request<'_>, context_holds: bool) -> bool {
        self.matches_as(request, Some(context_holds))
    }

    fn matches_as(&self, request: &Request<'_>, unknown_context: Option<bool>) -> bool {
        self.action.values().iter().any(|pattern| {
            wildcard_match(
                &pattern.to_ascii_lowercase(),
                &request.action.to_ascii_lowercase(),
            )
        }) && self
            .resource
            .values()
            .iter()
            .any(|pattern| wildcard_match(pattern, request.resource))
            && self.condition.iter().all(|(operator, keys)| {
                keys.iter().all(|(key, values)| match unknown_context {
                    Some(assumed) if key.starts_with(CONTEXT_PREFIX) => assumed,
                    _ => holds(operator, key, values.values(), request),
                })
            })
    }
}

/// Whether a condition holds. A negated operator holds when the request has no such value (no
/// address, no such context entry), as CAM and AWS do; the others then do not.
fn holds(operator: &str, key: &str, values: &[String], request: &Request<'_>) -> bool {
    if operator.starts_with("ip_") {
        let inside = request.source_ip.map(|ip| {
            values
                .iter()
                .filter_map(|v| network(v))
                .any(|(net, prefix)| keyconsole_base::crypto::certs::in_network(ip, net, prefix))
        });
        return match operator {
            "ip_equal" => inside == Some(true),
            _ => inside != Some(true),
        };
    }
    let name = key.strip_prefix(CONTEXT_PREFIX).unwrap_or_default();
    let given = request.context.get(name);
    match operator {
        "string_equal" => given.is_some_and(|g| values.iter().any(|v| v == g)),
        "string_not_equal" => given.is_none_or(|g| values.iter().all(|v| v != g)),
        "string_like" => given.is_some_and(|g| values.iter().any(|v| wildcard_match(v, g))),
        _ => false,
    }
}

/// An address or a CIDR block: `10.0.0.0/8`, `192.168.1.7`, `::1/128`.
fn network(text: &str) -> Option<(IpAddr, u8)> {
    let (address, prefix) = match text.trim().split_once('/') {
        Some((address, prefix)) => (address, Some(prefix.parse::<u8>().ok()?)),
        None => (text.trim(), None),
    };
    let address: IpAddr = address.parse().ok()?;
    let max = if address.is_ipv4() { 32 } else { 128 };
    let prefix = prefix.unwrap_or(max);
    (prefix <= max).then_some((address, prefix))
}

fn action_is_known(action: &str) -> bool {
    if action == "*" {
        return true;
    }
    let Some((service, name)) = action.split_once(':') else {
        return false;
    };
    let names = match service.to_ascii_lowercase().as_str() {
        "kms" => KMS_ACTIONS,
        "ssm" => SSM_ACTIONS,
        "cloudaudit" => CLOUDAUDIT_ACTIONS,
        _ => return false,
    };
    if name.contains('*') {
        return true;
    }
    names.iter().any(|known| known.eq_ignore_ascii_case(name))
}

/// `*` matches any run of characters (none included); everything else matches itself.
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut pi, mut ti) = (0, 0);
    // Where the last `*` was, and where in the text its match would resume.
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some((star_pi, star_ti)) = star {
            pi = star_pi + 1;
            ti = star_ti + 1;
            star = Some((star_pi, star_ti + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

/// The ready-made policies a person picks in the console and the CLI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    /// Describe and list keys and secrets; no use of either, no change.
    ReadOnly,
    /// Encrypt, decrypt, make data keys, sign and verify with the chosen keys.
    CryptoUser,
    /// Read the chosen secrets' values.
    SecretReader,
    /// Manage keys (create, enable, disable, rotate, schedule deletion, tag), not use them.
    KeyAdmin,
    /// Everything.
    Admin,
}

impl Preset {
    pub const ALL: [Preset; 5] = [
        Preset::ReadOnly,
        Preset::CryptoUser,
        Preset::SecretReader,
        Preset::KeyAdmin,
        Preset::Admin,
    ];

    /// As the CLI's `--preset` spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Preset::ReadOnly => "read-only",
            Preset::CryptoUser => "crypto-user",
            Preset::SecretReader => "secret-reader",
            Preset::KeyAdmin => "key-admin",
            Preset::Admin => "admin",
        }
    }

    pub fn from_name(name: &str) -> Option<Preset> {
        Preset::ALL.into_iter().find(|p| p.as_str() == name)
    }

    /// The policy, on `resources` (KeyIds for the crypto user, secret names for the secret
    /// reader; every one when empty).
    pub fn policy(self, resources: &[String]) -> Policy {
        let on = |resource: fn(&str) -> String| -> Vec<String> {
            if resources.is_empty() {
                vec![resource("*")]
            } else {
                resources.iter().map(|r| resource(r)).collect()
            }
        };
        let statement = |actions: &[&str], resource: Vec<String>| Statement {
            effect: Effect::Allow,
            action: OneOrMany::Many(actions.iter().map(|a| (*a).to_owned()).collect()),
            resource: OneOrMany::Many(resource),
            condition: BTreeMap::new(),
        };
        let everywhere = || vec!["*".to_owned()];
        let statements = match self {
            Preset::ReadOnly => vec![statement(
                &[
                    "kms:Describe*",
                    "kms:List*",
                    "kms:GetKeyRotationStatus",
                    "kms:GetPublicKey",
                    "kms:GetServiceStatus",
                    "ssm:Describe*",
                    "ssm:List*",
                    "ssm:GetServiceStatus",
                ],
                everywhere(),
            )],
            Preset::CryptoUser => vec![
                statement(
                    &[
                        "kms:Encrypt",
                        "kms:Decrypt",
                        "kms:ReEncrypt",
                        "kms:GenerateDataKey",
                        "kms:SignByAsymmetricKey",
                        "kms:VerifyByAsymmetricKey",
                        "kms:AsymmetricRsaDecrypt",
                        "kms:AsymmetricSm2Decrypt",
                        "kms:GetPublicKey",
                        "kms:DescribeKey",
                    ],
                    on(key_resource),
                ),
                statement(
                    &["kms:ListKeys", "kms:ListKeyDetail", "kms:GenerateRandom"],
                    everywhere(),
                ),
            ],
            Preset::SecretReader => vec![
                statement(
                    &[
                        "ssm:GetSecretValue",
                        "ssm:DescribeSecret",
                        "ssm:ListSecretVersionIds",
                    ],
                    on(secret_resource),
                ),
                statement(&["ssm:ListSecrets"], everywhere()),
            ],
            Preset::KeyAdmin => vec![statement(
                &[
                    "kms:CreateKey",
                    "kms:Describe*",
                    "kms:List*",
                    "kms:Get*",
                    "kms:Enable*",
                    "kms:Disable*",
                    "kms:Update*",
                    "kms:ScheduleKeyDeletion",
                    "kms:CancelKeyDeletion",
                    "kms:ArchiveKey",
                    "kms:CancelKeyArchive",
                    "kms:RotateKey",
                    "kms:TagKey",
                    "kms:ImportKeyMaterial",
                    "kms:DeleteImportedKeyMaterial",
                ],
                everywhere(),
            )],
            Preset::Admin => vec![statement(&["*"], everywhere())],
        };
        Policy {
            version: "2.0".to_owned(),
            statement: statements,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(json: serde_json::Value) -> Policy {
        Policy::parse(&json.to_string()).unwrap()
    }

    fn ask<'a>(action: &'a str, resource: &'a str) -> Request<'a> {
        Request {
            action,
            resource,
            ..Request::default()
        }
    }

    #[test]
    fn wildcards_match_as_cam_writes_them() {
        for (pattern, text, expected) in [
            ("*", "", true),
            ("*", "kms:Encrypt", true),
            ("kms:*", "kms:Encrypt", true),
            ("kms:Get*", "kms:GetPublicKey", true),
            ("kms:Get*", "kms:Encrypt", false),
            (
                "qcs::kms::uin/local:key/*",
                "qcs::kms::uin/local:key/abc",
                true,
            ),
            ("qcs::kms:*:key/a*c", "qcs::kms::uin/local:key/abbbc", true),
            ("qcs::kms:*:key/a*c", "qcs::kms::uin/local:key/abcd", false),
            ("a**b", "ab", true),
            ("abc", "ab", false),
            ("", "", true),
        ] {
            assert_eq!(
                wildcard_match(pattern, text),
                expected,
                "{pattern} ~ {text}"
            );
        }
    }

    #[test]
    fn evaluation_table() {
        let key = key_resource("k1");
        let other = key_resource("k2");
        let p = policy(serde_json::json!({
            "version": "2.0",
            "statement": [
                {"effect": "allow", "action": ["kms:Encrypt", "kms:Decrypt"], "resource": [key]},
                {"effect": "allow", "action": "kms:List*", "resource": "*"},
                {"effect": "deny", "action": "kms:Decrypt", "resource": "*",
                 "condition": {"ip_not_equal": {"qcs:ip": ["10.0.0.0/8"]}}},
                {"effect": "allow", "action": "kms:GenerateDataKey", "resource": "*",
                 "condition": {"string_equal": {"kms:encryption_context/app": ["orders"]}}},
            ]
        }));
        let inside: IpAddr = "10.1.2.3".parse().unwrap();
        let outside: IpAddr = "192.168.1.1".parse().unwrap();
        let cases: Vec<(Request<'_>, Decision)> = vec![
            (ask("kms:Encrypt", &key), Decision::Allow),
            (ask("kms:encrypt", &key), Decision::Allow),
            (ask("kms:Encrypt", &other), Decision::ImplicitDeny),
            (ask("kms:ListKeys", "*"), Decision::Allow),
            (ask("kms:ScheduleKeyDeletion", &key), Decision::ImplicitDeny),
            (ask("kms:NoSuchAction", &key), Decision::ImplicitDeny),
            (
                Request {
                    source_ip: Some(inside),
                    ..ask("kms:Decrypt", &key)
                },
                Decision::Allow,
            ),
            (
                Request {
                    source_ip: Some(outside),
                    ..ask("kms:Decrypt", &key)
                },
                Decision::ExplicitDeny(2),
            ),
            // No address known: the negated condition holds, so the deny applies.
            (ask("kms:Decrypt", &key), Decision::ExplicitDeny(2)),
            (
                Request {
                    context: BTreeMap::from([("app".to_owned(), "orders".to_owned())]),
                    ..ask("kms:GenerateDataKey", &other)
                },
                Decision::Allow,
            ),
            (
                Request {
                    context: BTreeMap::from([("app".to_owned(), "billing".to_owned())]),
                    ..ask("kms:GenerateDataKey", &other)
                },
                Decision::ImplicitDeny,
            ),
            (ask("kms:GenerateDataKey", &other), Decision::ImplicitDeny),
        ];
        for (request, expected) in cases {
            assert_eq!(p.evaluate(&request), expected, "{request:?}");
        }
    }

    #[test]
    fn a_deny_wins_over_any_allow() {
        let p = policy(serde_json::json!({"version": "2.0", "statement": [
            {"effect": "allow", "action": "*", "resource": "*"},
            {"effect": "deny", "action": "ssm:GetSecretValue", "resource": secret_resource("prod-*")},
        ]}));
        assert_eq!(
            p.evaluate(&ask("ssm:GetSecretValue", &secret_resource("prod-db"))),
            Decision::ExplicitDeny(1)
        );
        assert!(
            p.evaluate(&ask("ssm:GetSecretValue", &secret_resource("dev-db")))
                .allows()
        );
    }

    #[test]
    fn bad_policies_are_refused_when_set() {
        for (json, why) in [
            (
                r#"{"version":"1.0","statement":[{"effect":"allow","action":"*","resource":"*"}]}"#,
                "version",
            ),
            (r#"{"version":"2.0","statement":[]}"#, "no statement"),
            (
                r#"{"version":"2.0","statement":[{"effect":"maybe","action":"*","resource":"*"}]}"#,
                "effect",
            ),
            (
                r#"{"version":"2.0","statement":[{"effect":"allow","action":"kms:Encrpyt","resource":"*"}]}"#,
                "typo",
            ),
            (
                r#"{"version":"2.0","statement":[{"effect":"allow","action":"cvm:RunInstances","resource":"*"}]}"#,
                "service",
            ),
            (
                r#"{"version":"2.0","statement":[{"effect":"allow","action":[],"resource":"*"}]}"#,
                "no action",
            ),
            (
                r#"{"version":"2.0","statement":[{"effect":"allow","action":"*","resource":"*","condition":{"ip_equal":{"qcs:ip":["10.0.0.0/40"]}}}]}"#,
                "prefix",
            ),
            (
                r#"{"version":"2.0","statement":[{"effect":"allow","action":"*","resource":"*","condition":{"date_after":{"qcs:time":["x"]}}}]}"#,
                "operator",
            ),
            (
                r#"{"version":"2.0","statement":[{"effect":"allow","action":"*","resource":"*","condition":{"string_equal":{"qcs:user":["x"]}}}]}"#,
                "key",
            ),
            ("not json", "json"),
        ] {
            let refused = Policy::parse(json);
            assert_eq!(
                refused.map_err(|e| e.code),
                Err(ErrorCode::InvalidParameterValue),
                "{why}"
            );
        }
    }

    #[test]
    fn presets_allow_what_they_say_and_nothing_else() {
        let keys = vec!["k1".to_owned()];
        let crypto = Preset::CryptoUser.policy(&keys);
        crypto.check().unwrap();
        assert!(
            crypto
                .evaluate(&ask("kms:Decrypt", &key_resource("k1")))
                .allows()
        );
        assert!(
            !crypto
                .evaluate(&ask("kms:Decrypt", &key_resource("k2")))
                .allows()
        );
        assert!(
            !crypto
                .evaluate(&ask("kms:ScheduleKeyDeletion", &key_resource("k1")))
                .allows()
        );
        let admin = Preset::KeyAdmin.policy(&[]);
        assert!(
            admin
                .evaluate(&ask("kms:ScheduleKeyDeletion", &key_resource("k1")))
                .allows()
        );
        assert!(
            !admin
                .evaluate(&ask("kms:Decrypt", &key_resource("k1")))
                .allows()
        );
        let read_only = Preset::ReadOnly.policy(&[]);
        assert!(
            read_only
                .evaluate(&ask("ssm:DescribeSecret", &secret_resource("s")))
                .allows()
        );
        assert!(
            !read_only
                .evaluate(&ask("ssm:GetSecretValue", &secret_resource("s")))
                .allows()
        );
        for preset in Preset::ALL {
            preset.policy(&keys).check().unwrap();
            assert_eq!(Preset::from_name(preset.as_str()), Some(preset));
        }
    }

    /// Judged ahead (the console's buttons): the address as the server saw it; a condition on
    /// the encryption context, not known yet, never disables what might be allowed.
    #[test]
    fn judged_ahead_a_context_condition_never_disables() {
        let caller = |source: &str| CallerPolicy {
            user: "carol".to_owned(),
            policy: policy(serde_json::json!({"version": "2.0", "statement": [
                {"effect": "allow", "action": "kms:Decrypt", "resource": "*",
                 "condition": {"string_equal": {"kms:encryption_context/app": "billing"}}},
                {"effect": "allow", "action": "kms:Encrypt", "resource": "*",
                 "condition": {"ip_equal": {"qcs:ip": "10.0.0.0/8"}}},
                {"effect": "deny", "action": "kms:Encrypt", "resource": key_resource("k2"),
                 "condition": {"string_equal": {"kms:encryption_context/app": "x"}}},
                {"effect": "deny", "action": "kms:DisableKey", "resource": key_resource("k2")},
                {"effect": "allow", "action": "kms:DisableKey", "resource": "*"},
            ]})),
            source_ip: source.parse().ok(),
        };
        let inside = caller("10.1.2.3");
        let outside = caller("192.0.2.1");
        let k1 = key_resource("k1");
        let k2 = key_resource("k2");
        // Allowed under a context condition: offered.
        assert_eq!(inside.why_not("kms:Decrypt", &k1), None);
        // Denied under a context condition: still offered (the call may carry another context).
        assert_eq!(inside.why_not("kms:Encrypt", &k2), None);
        // The address condition is judged on the address the server saw.
        let why = outside.why_not("kms:Encrypt", &k1).unwrap();
        assert_eq!(why.key(), "errors.policy_allows_no_ahead");
        assert!(why.here().contains("carol") && why.here().contains("kms:Encrypt"));
        // An unconditional deny wins over the allow, and names its statement.
        assert_eq!(inside.why_not("kms:DisableKey", &k1), None);
        let why = inside.why_not("kms:DisableKey", &k2).unwrap();
        assert_eq!(why.key(), "errors.policy_denies_ahead");
        assert!(why.here().contains("statement 4"), "{}", why.here());
        // Nothing allows it at all.
        assert!(inside.why_not("kms:CreateKey", "*").is_some());
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    fn pattern() -> impl Strategy<Value = String> {
        prop::sample::select(vec![
            "*",
            "kms:*",
            "kms:Encrypt",
            "kms:Decrypt",
            "kms:Get*",
            "ssm:GetSecretValue",
        ])
        .prop_map(str::to_owned)
    }

    fn resource_pattern() -> impl Strategy<Value = String> {
        prop::sample::select(vec![
            "*",
            "qcs::kms::uin/local:key/a*",
            "qcs::kms::uin/local:key/b",
            "qcs::ssm::*",
        ])
        .prop_map(str::to_owned)
    }

    fn statement() -> impl Strategy<Value = Statement> {
        (
            any::<bool>(),
            prop::collection::vec(pattern(), 1..3),
            prop::collection::vec(resource_pattern(), 1..3),
            any::<bool>(),
        )
            .prop_map(|(allow, action, resource, on_ip)| Statement {
                effect: if allow { Effect::Allow } else { Effect::Deny },
                action: OneOrMany::Many(action),
                resource: OneOrMany::Many(resource),
                condition: if on_ip {
                    BTreeMap::from([(
                        "ip_equal".to_owned(),
                        BTreeMap::from([(
                            "qcs:ip".to_owned(),
                            OneOrMany::One("10.0.0.0/8".to_owned()),
                        )]),
                    )])
                } else {
                    BTreeMap::new()
                },
            })
    }

    proptest! {
        /// Nothing is allowed unless an allow statement matches, and a matching deny always wins.
        #[test]
        fn no_request_is_allowed_without_a_matching_allow(
            statements in prop::collection::vec(statement(), 1..6),
            action in prop::sample::select(vec!["kms:Encrypt", "kms:Decrypt", "kms:GetPublicKey", "ssm:GetSecretValue", "kms:CreateKey"]),
            resource in prop::sample::select(vec!["qcs::kms::uin/local:key/a1", "qcs::kms::uin/local:key/b", "qcs::ssm::uin/local:secret/s", "*"]),
            ip in prop::option::of(prop::sample::select(vec!["10.1.1.1", "192.168.0.1"])),
        ) {
            let policy = Policy { version: "2.0".to_owned(), statement: statements };
            let request = Request {
                action,
                resource,
                source_ip: ip.map(|ip| ip.parse().unwrap()),
                context: BTreeMap::new(),
            };
            let matching = |effect| policy.statement.iter().any(|s| s.effect == effect && s.matches(&request));
            match policy.evaluate(&request) {
                Decision::Allow => prop_assert!(matching(Effect::Allow) && !matching(Effect::Deny)),
                Decision::ExplicitDeny(i) => {
                    prop_assert_eq!(policy.statement[i].effect, Effect::Deny);
                    prop_assert!(policy.statement[i].matches(&request));
                }
                Decision::ImplicitDeny => prop_assert!(!matching(Effect::Allow) && !matching(Effect::Deny)),
            }
        }
    }
}
