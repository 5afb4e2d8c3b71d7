//! What the console's pages draw: snapshots the backend worker made of the keys and secrets (no key
//! material, no engine record), replaced whole when something changed. Pages read only this while
//! drawing, so a frame never waits for the engine, its lock or a server.

use std::collections::HashSet;
use std::sync::Arc;

use keyconsole_kms::policy::{CallerPolicy, key_resource, secret_resource};
use keyconsole_kms::secrets::RotationDetail;
use keyconsole_kms::secrets::rules::validate_name;
use keyconsole_kms::{
    ApiCredentials, ErrorCode, KeyIndex, KmsError, Result, SecretMetadata, SecretQuery,
};

/// A secret's versions and rotation, fetched for the chosen secret only.
#[derive(Debug, Clone, Default)]
pub struct SecretDetail {
    pub name: String,
    /// Oldest first, with their creation times.
    pub versions: Vec<(String, i64)>,
    /// A database secret's schedule, history, and whether a rotation is under way.
    pub rotation: Option<RotationDetail>,
}

#[derive(Debug, Default, Clone)]
pub struct Model {
    /// Every key, in creation order.
    pub keys: Arc<KeyIndex>,
    /// Every secret, newest first.
    pub secrets: Arc<Vec<SecretMetadata>>,
    /// The chosen secret's details.
    pub secret: Option<Arc<SecretDetail>>,
    /// The API's credentials of each cloud made so far (a local keystore only).
    pub credentials: Vec<ApiCredentials>,
    /// The team's users (a local keystore only).
    pub users: Vec<keyconsole_kms::users::UserInfo>,
    /// The first snapshot has arrived.
    pub loaded: bool,
    /// The keystore generation it shows (a local keystore; a server's is not known).
    pub generation: Option<u64>,
    /// The console manages a server: what only a local keystore has is not offered.
    pub remote: bool,
    /// KeyIds of the keys the secrets manager made for itself (its default key), which the key
    /// list shows apart, as the cloud consoles list their services' default keys.
    pub service_keys: Arc<HashSet<String>>,
    /// The database administrator connections registered for product secrets (a local
    /// keystore only).
    pub db_instances: Arc<Vec<keyconsole_kms::secrets::DbInstance>>,
    /// What the connected user may do, as its server says (`None`: everything, or unknown).
    pub caller_policy: Option<Arc<CallerPolicy>>,
}

impl Model {
    /// The KeyIds of the keys a service made for itself: those the keys' owner names, and the
    /// secrets manager's default key as its secrets name it.
    pub fn service_keys_of(keys: &KeyIndex, secrets: &[SecretMetadata]) -> HashSet<String> {
        keys.iter()
            .filter(|k| k.owner != keyconsole_kms::KeyOwner::User)
            .map(|k| k.key_id.clone())
            .chain(
                secrets
                    .iter()
                    .filter(|s| s.default_key)
                    .map(|s| s.key_id.clone()),
            )
            .collect()
    }

    /// Why the connected user may not do `action` (`kms:DisableKey`) on `resource`; `None` when
    /// it may (or when nothing is known: the server judges every call anyway).
    pub fn why_not(&self, action: &str, resource: &str) -> Option<String> {
        self.caller_policy
            .as_ref()
            .and_then(|caller| caller.why_not(action, resource))
            .map(|text| text.here())
    }

    /// `why_not` for an action on the key `key_id`.
    pub fn why_not_on_key(&self, action: &str, key_id: &str) -> Option<String> {
        self.caller_policy.as_ref()?;
        self.why_not(action, &key_resource(key_id))
    }

    /// `why_not` for an action on the secret `name`.
    pub fn why_not_on_secret(&self, action: &str, name: &str) -> Option<String> {
        self.caller_policy.as_ref()?;
        self.why_not(action, &secret_resource(name))
    }

    pub fn is_service_key(&self, key_id: &str) -> bool {
        self.service_keys.contains(key_id)
    }

    /// The names of the secrets `key_id` protects, in the snapshot's order.
    pub fn secrets_protected_by(&self, key_id: &str) -> Vec<&str> {
        self.secrets
            .iter()
            .filter(|s| s.key_id == key_id)
            .map(|s| s.name.as_str())
            .collect()
    }

    pub fn describe_secret(&self, name: &str) -> Option<&SecretMetadata> {
        self.secrets.iter().find(|s| s.name == name)
    }

    /// The secrets `query` matches, in the snapshot's order (newest first); no paging.
    pub fn matching_secrets<'a>(
        &'a self,
        query: &'a SecretQuery,
    ) -> impl Iterator<Item = &'a SecretMetadata> + 'a {
        let admits = query.matcher();
        self.secrets.iter().filter(move |s| admits(s))
    }

    fn detail_of(&self, name: &str) -> Option<&SecretDetail> {
        self.secret.as_deref().filter(|d| d.name == name)
    }

    /// The versions of `name`, if they were fetched.
    pub fn secret_versions(&self, name: &str) -> &[(String, i64)] {
        self.detail_of(name).map_or(&[], |d| d.versions.as_slice())
    }

    pub fn rotation(&self, name: &str) -> Option<&RotationDetail> {
        self.detail_of(name).and_then(|d| d.rotation.as_ref())
    }

    pub fn is_rotating(&self, name: &str) -> bool {
        self.rotation(name).is_some_and(|r| r.rotating)
    }

    /// Would `name` be accepted for a new secret? The engine's rule and words, against this
    /// snapshot; creating checks again.
    pub fn check_secret_name(&self, name: &str) -> Result<()> {
        validate_name(name)?;
        if self.describe_secret(name).is_some() {
            return Err(KmsError::new(
                ErrorCode::SecretExists,
                keyconsole_base::text!("errors.a_secret_named_name_already_exists", name = name),
            ));
        }
        Ok(())
    }
}
