//! Secrets Manager: named, versioned secrets kept in the keystore, each version's value sealed
//! under a fresh data key that the secret's CMK wraps (envelope encryption), bound to the secret's
//! name and the version id. A CMK that cannot decrypt (disabled, archived, pending deletion) makes
//! the value unreadable with the KMS reason, as in the cloud.

pub mod database;
pub mod driver;
pub mod product;
pub mod record;
pub mod rules;
pub mod ssh;

use std::collections::BTreeMap;

use uuid::Uuid;
use zeroize::Zeroizing;

use super::Kms;
use super::blob::{Blob, CanonicalContext};
use super::crypto_ops::seal_blob_in_change;
use super::error::{ErrorCode, KmsError, Result, err};
use super::keyring::Keyring;
use super::keys::query::resolve_in;
use super::keys::rules::{
    SECONDS_PER_DAY, check_list_limit, search_needle, state_error as key_state_error,
};
use super::keys::{KeyOrigin, KeyRecord, KeyState, KeyUsage, KeyVersion};
use super::tags::{Tag, TagFilter};
pub use database::{CreateDatabaseSecret, RotationDetail, RotationStep, test_login};
use keyconsole_base::crypto;
pub use product::{CreateProductSecret, DbInstance, ProductTask, TaskStatus};
use record::binding;
pub use record::{
    DatabaseMetadata, DatabaseSecret, ProductAccount, RotationRecord, SecretMetadata, SecretRecord,
    SecretState, SecretStateFilter, SecretVersion,
};
use rules::*;
pub use ssh::{CreateSshKeyPairSecret, SshKeyPair};

/// A secret's value: SecretString or SecretBinary. Wiped when dropped.
#[derive(Clone, PartialEq, Eq)]
pub enum SecretValue {
    Text(Zeroizing<String>),
    Binary(Zeroizing<Vec<u8>>),
}

impl std::fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SecretValue::Text(_) => f.write_str("Text(<redacted>)"),
            SecretValue::Binary(_) => f.write_str("Binary(<redacted>)"),
        }
    }
}

impl SecretValue {
    pub fn bytes(&self) -> &[u8] {
        match self {
            SecretValue::Text(text) => text.as_bytes(),
            SecretValue::Binary(bytes) => bytes,
        }
    }

    pub fn is_binary(&self) -> bool {
        matches!(self, SecretValue::Binary(_))
    }
}

/// CreateSecret's inputs.
#[derive(Debug, Clone)]
pub struct CreateSecret {
    pub name: String,
    /// `SSM_v1` when not given.
    pub version_id: Option<String>,
    pub description: String,
    /// A KeyId or alias; the service's default key (made on first use) when not given.
    pub key: Option<String>,
    pub value: SecretValue,
    pub tags: Vec<Tag>,
}

/// ListSecrets' inputs.
#[derive(Debug, Clone, Default)]
pub struct SecretQuery {
    pub state: SecretStateFilter,
    pub search: Option<String>,
    pub offset: usize,
    pub limit: Option<usize>,
    /// Newest first unless set.
    pub oldest_first: bool,
    /// Only secrets of this type; all when not set.
    pub kind: Option<SecretType>,
    /// Only database secrets of these products (`Mysql`, `PostgreSQL`: the cloud's
    /// ProductName); any when empty.
    pub products: Vec<String>,
    /// Every filter must match (see `TagFilter`).
    pub tags: Vec<TagFilter>,
    /// Only product secrets made through this instance.
    pub instance: Option<String>,
}

/// What a secret holds, as the cloud's SecretType numbers it (0, 1, 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretType {
    /// The user's own value.
    Custom,
    /// Database credentials that rotate.
    Database,
    /// An SSH key pair made here.
    SshKeyPair,
}

impl SecretType {
    pub fn number(self) -> u8 {
        match self {
            SecretType::Custom => 0,
            SecretType::Database => 1,
            SecretType::SshKeyPair => 2,
        }
    }

    pub fn from_number(number: u64) -> Option<SecretType> {
        [
            SecretType::Custom,
            SecretType::Database,
            SecretType::SshKeyPair,
        ]
        .into_iter()
        .find(|t| u64::from(t.number()) == number)
    }
}

impl SecretType {
    /// The type of a secret with (or without) a database connection and an SSH key pair.
    fn of(database: bool, ssh: bool) -> SecretType {
        match (database, ssh) {
            (true, _) => SecretType::Database,
            (false, true) => SecretType::SshKeyPair,
            (false, false) => SecretType::Custom,
        }
    }
}

impl SecretRecord {
    pub fn secret_type(&self) -> SecretType {
        SecretType::of(self.database.is_some(), self.ssh.is_some())
    }
}

impl SecretMetadata {
    pub fn secret_type(&self) -> SecretType {
        SecretType::of(self.database.is_some(), self.ssh.is_some())
    }
}

/// What ListSecrets' filter looks at of one secret.
struct Listed<'a> {
    name: &'a str,
    state: SecretState,
    kind: SecretType,
    product: Option<&'static str>,
    instance: Option<&'a str>,
    tags: &'a [Tag],
}

impl<'a> Listed<'a> {
    /// What the filter looks at of a secret as the keystore holds it (the engine's listing)...
    fn of_record(secret: &'a SecretRecord) -> Self {
        let database = secret.database.as_ref();
        Listed {
            name: &secret.name,
            state: secret.state,
            kind: secret.secret_type(),
            product: database.map(DatabaseSecret::product_name),
            instance: database
                .and_then(|d| d.product.as_ref())
                .map(|p| p.instance_id.as_str()),
            tags: &secret.tags,
        }
    }

    /// ...and of a listed secret (a face's snapshot): the same filter either way.
    fn of_metadata(secret: &'a SecretMetadata) -> Self {
        let database = secret.database.as_ref();
        Listed {
            name: &secret.name,
            state: secret.state,
            kind: secret.secret_type(),
            product: database.map(DatabaseMetadata::product_name),
            instance: database
                .and_then(|d| d.product.as_ref())
                .map(|p| p.instance_id.as_str()),
            tags: &secret.tags,
        }
    }
}

impl SecretQuery {
    /// ListSecrets' filter: state, kind, product, tags and a fragment of the name (`needle`,
    /// lowercased).
    fn admits(&self, needle: &str, secret: Listed) -> bool {
        self.state.matches(secret.state)
            && self.kind.is_none_or(|kind| kind == secret.kind)
            && (self.products.is_empty()
                || secret
                    .product
                    .is_some_and(|p| self.products.iter().any(|q| q == p)))
            && crate::tags::all_match(&self.tags, secret.tags)
            && self
                .instance
                .as_deref()
                .is_none_or(|id| secret.instance == Some(id))
            && (needle.is_empty() || secret.name.to_ascii_lowercase().contains(needle))
    }

    /// The same filter over listed secrets (a face's snapshot).
    pub fn matcher(&self) -> impl Fn(&SecretMetadata) -> bool + '_ {
        let needle = search_needle(self.search.as_deref());
        move |s| self.admits(&needle, Listed::of_metadata(s))
    }
}

#[derive(Debug, Clone)]
pub struct SecretPage {
    pub total: usize,
    pub secrets: Vec<SecretMetadata>,
}

/// The alias the service's own default key gets (with a number after it if a user took it).
const DEFAULT_KEY_ALIAS: &str = "ssm-default";

pub(crate) fn not_found(name: &str) -> KmsError {
    KmsError::new(
        ErrorCode::SecretNotExist,
        keyconsole_base::text!("errors.there_is_no_secret_named_name", name = name),
    )
}

fn version_not_found(name: &str, version_id: &str) -> KmsError {
    KmsError::new(
        ErrorCode::SecretNotExist,
        keyconsole_base::text!(
            "errors.secret_name_has_no_version_version",
            name = name,
            version_id = version_id
        ),
    )
}

fn find(ring: &Keyring, name: &str) -> Result<usize> {
    ring.secrets
        .iter()
        .position(|s| s.name == name)
        .ok_or_else(|| not_found(name))
}

/// The position of `version_id` among the secret's versions.
fn version_index(secret: &SecretRecord, version_id: &str) -> Result<usize> {
    secret
        .versions
        .iter()
        .position(|v| v.version_id == version_id)
        .ok_or_else(|| version_not_found(&secret.name, version_id))
}

/// Where in `ring` the CMK that seals the secret's values is.
fn key_index(ring: &Keyring, secret: &SecretRecord) -> Result<usize> {
    ring.by_id.get(&secret.key_id).copied().ok_or_else(|| {
        access_kms_error(KmsError::new(
            ErrorCode::CmkNotFound,
            keyconsole_base::text!("errors.the_key_was_deleted"),
        ))
    })
}

/// The encryption context that binds a version's data key to the secret and version.
fn data_key_context(name: &str, version_id: &str) -> CanonicalContext {
    let map = BTreeMap::from([
        ("SecretName".to_owned(), name.to_owned()),
        ("VersionId".to_owned(), version_id.to_owned()),
    ]);
    CanonicalContext::from_map(&map)
}

/// The KMS reason a value cannot be read or written, as the cloud reports it.
fn access_kms_error(e: KmsError) -> KmsError {
    KmsError::new(
        ErrorCode::AccessKmsError,
        keyconsole_base::text!(
            "errors.the_secret_s_cmk_cannot_be",
            message = e.message,
            code = e.code
        ),
    )
}

/// Seals `value` as version `version_id` of secret `name` under the CMK at `key` in `ring`.
/// Seals inside a change, counting the encryption in the keyring the change saves.
pub(crate) fn seal_value(
    key: &mut KeyRecord,
    name: &str,
    version_id: &str,
    value: &SecretValue,
    now: i64,
) -> Result<SecretVersion> {
    if !key.state.may_encrypt() {
        return Err(access_kms_error(key_state_error(
            key,
            keyconsole_base::text!("errors.seal_a_secret"),
        )));
    }
    let data_key = crypto::random_key();
    let wrapped_key = seal_blob_in_change(key, &data_key[..], &data_key_context(name, version_id))?;
    let nonce: [u8; crypto::NONCE_LEN] = crypto::random_bytes();
    let mut sealed = Zeroizing::new(value.bytes().to_vec());
    crypto::seal_in_place(&data_key, &nonce, &binding(name, version_id), &mut sealed).map_err(
        |_| {
            KmsError::new(
                ErrorCode::InternalError,
                keyconsole_base::text!("errors.sealing_the_secret_failed"),
            )
        },
    )?;
    Ok(SecretVersion {
        version_id: version_id.to_owned(),
        create_time: now,
        binary: value.is_binary(),
        wrapped_key,
        nonce: nonce.to_vec(),
        sealed: std::mem::take(&mut *sealed),
    })
}

/// The service's default CMK in `ring`, made (and marked as such) on first use.
pub(crate) fn default_key(ring: &mut Keyring, now: i64) -> Result<usize> {
    if let Some(index) = ring
        .ssm_default_key
        .and_then(|id| ring.by_id.get(&id).copied())
    {
        return Ok(index);
    }
    let mut alias = DEFAULT_KEY_ALIAS.to_owned();
    let mut n = 2;
    while ring.alias_taken(&alias, None) {
        alias = format!("{DEFAULT_KEY_ALIAS}-{n}");
        n += 1;
    }
    let record = KeyRecord {
        key_id: Uuid::new_v4(),
        alias,
        description: "Made by the secrets manager to protect secrets that name no key.".to_owned(),
        state: KeyState::Enabled,
        usage: KeyUsage::EncryptDecrypt,
        spec: Default::default(),
        origin: KeyOrigin::Generated,
        create_time: now,
        rotation_enabled: false,
        rotate_days: super::keys::rules::ROTATE_DAYS_DEFAULT,
        last_rotate_time: 0,
        next_rotate_time: 0,
        deletion_date: 0,
        versions: vec![KeyVersion::new(&*crypto::random_key(), now)],
        tags: Vec::new(),
        owner: super::keys::KeyOwner::SecretsManager,
        import: None,
    };
    ring.ssm_default_key = Some(record.key_id);
    ring.keys.push(record);
    ring.reindex();
    Ok(ring.keys.len() - 1)
}

impl Kms {
    /// Would `name` be accepted for a new secret? For live validation in forms; creating checks
    /// again.
    pub fn check_secret_name(&self, name: &str) -> Result<()> {
        validate_name(name)?;
        if self.ring().secrets.iter().any(|s| s.name == name) {
            return err(
                ErrorCode::SecretExists,
                keyconsole_base::text!("errors.a_secret_named_name_already_exists", name = name),
            );
        }
        Ok(())
    }

    /// CreateSecret: a new secret with its first version.
    pub fn create_secret(&self, request: CreateSecret) -> Result<(String, String)> {
        self.insert_secret(request, None, None)
    }

    /// A new secret with its first version, and for database credentials their connection and
    /// rotation (whose first due time counts from now).
    pub(crate) fn insert_secret(
        &self,
        request: CreateSecret,
        mut database: Option<DatabaseSecret>,
        ssh: Option<SshKeyPair>,
    ) -> Result<(String, String)> {
        validate_name(&request.name)?;
        let version_id = request
            .version_id
            .clone()
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| FIRST_VERSION_ID.to_owned());
        validate_version_id(&version_id)?;
        validate_description(&request.description)?;
        validate_value(request.value.bytes().len())?;
        crate::tags::validate_tags(&request.tags)?;
        self.transact(|ring, now| {
            if ring.secrets.len() >= SECRETS_MAX {
                return err(
                    ErrorCode::LimitExceeded,
                    keyconsole_base::text!(
                        "errors.this_keystore_holds_max_secrets",
                        max = SECRETS_MAX
                    ),
                );
            }
            if ring.secrets.iter().any(|s| s.name == request.name) {
                return err(
                    ErrorCode::SecretExists,
                    keyconsole_base::text!(
                        "errors.a_secret_named_name_already_exists",
                        name = request.name
                    ),
                );
            }
            let (key_index, default) = match request.key.as_deref().map(str::trim) {
                Some(key) if !key.is_empty() => (resolve_in(ring, key)?, false),
                _ => (default_key(ring, now)?, true),
            };
            let key = &mut ring.keys[key_index];
            let version = seal_value(key, &request.name, &version_id, &request.value, now)?;
            let key_id = key.key_id;
            if let Some(database) = &mut database {
                database.current_version = version_id.clone();
                if database.rotation_enabled {
                    database.next_rotation_time =
                        now + i64::from(database.rotate_days) * SECONDS_PER_DAY;
                }
            }
            ring.secrets.push(SecretRecord {
                name: request.name.clone(),
                description: request.description.clone(),
                state: SecretState::Enabled,
                key_id,
                default_key: default,
                create_time: now,
                delete_time: 0,
                versions: vec![version],
                database,
                tags: request.tags.clone(),
                ssh,
            });
            Ok((request.name.clone(), version_id.clone()))
        })
    }

    /// GetSecretValue: the value of one version (`SSM_Current`: the one in use); only while the
    /// secret is enabled and its CMK can decrypt.
    pub fn get_secret_value(&self, name: &str, version_id: &str) -> Result<SecretValue> {
        let ring = self.ring();
        let secret = &ring.secrets[find(&ring, name)?];
        if !secret.state.may_read() {
            return Err(state_error(
                secret,
                keyconsole_base::text!("errors.read_its_value"),
            ));
        }
        let version = secret
            .version(version_id)
            .or_else(|| {
                (version_id == CURRENT_VERSION_ID)
                    .then(|| match &secret.database {
                        Some(database) => secret.version(&database.current_version),
                        None => secret.versions.last(),
                    })
                    .flatten()
            })
            .ok_or_else(|| version_not_found(name, version_id))?;
        open_version(self, &secret.name, version)
    }

    /// PutSecretValue: a new version (at most 10 a secret).
    pub fn put_secret_value(&self, name: &str, version_id: &str, value: SecretValue) -> Result<()> {
        validate_version_id(version_id)?;
        validate_value(value.bytes().len())?;
        self.transact(|ring, now| {
            let index = find(ring, name)?;
            let secret = &ring.secrets[index];
            refuse_database_value(secret)?;
            if !secret.state.may_change_values() {
                return Err(state_error(
                    secret,
                    keyconsole_base::text!("errors.add_a_version"),
                ));
            }
            if secret.version(version_id).is_some() {
                return err(
                    ErrorCode::VersionIdExists,
                    keyconsole_base::text!(
                        "errors.secret_name_already_has_a_version",
                        name = name,
                        version_id = version_id
                    ),
                );
            }
            if secret.versions.len() >= VERSIONS_MAX {
                return err(
                    ErrorCode::LimitExceeded,
                    keyconsole_base::text!(
                        "errors.secret_name_has_versions_max_versions",
                        name = name,
                        versions_max = VERSIONS_MAX
                    ),
                );
            }
            let key = key_index(ring, secret)?;
            let version = seal_value(&mut ring.keys[key], name, version_id, &value, now)?;
            ring.secrets[index].versions.push(version);
            Ok(())
        })
    }
}

/// Database secrets get their values from rotation only: a value put by hand would be a
/// password the database does not know.
/// A value the service owns is not set by hand: a database secret's password (rotation sets
/// it) or an SSH key pair's private key (its public half is recorded beside it).
fn refuse_database_value(secret: &SecretRecord) -> Result<()> {
    if secret.database.is_some() {
        return err(
            ErrorCode::AutoRotatedResource,
            keyconsole_base::text!(
                "errors.secret_name_holds_database_credentials_its",
                name = secret.name
            ),
        );
    }
    if secret.ssh.is_some() {
        return err(
            ErrorCode::UnsupportedOperation,
            keyconsole_base::text!("errors.secret_holds_an_ssh_key_pair", name = secret.name),
        );
    }
    Ok(())
}

/// The value of `version` of `secret`, opened with its data key.
pub(crate) fn open_version(kms: &Kms, name: &str, version: &SecretVersion) -> Result<SecretValue> {
    {
        let version_id = version.version_id.as_str();
        let blob = Blob::decode(&version.wrapped_key)?;
        let (_, data_key) = kms
            .open_blob(&blob, &data_key_context(name, version_id))
            .map_err(access_kms_error)?;
        let damaged = || {
            KmsError::new(
                ErrorCode::DecryptError,
                keyconsole_base::text!(
                    "errors.version_version_id_of_secret_name_2",
                    version_id = version_id,
                    name = name
                ),
            )
        };
        let (Ok(data_key), Ok(nonce)) = (
            <&[u8; crypto::KEY_LEN]>::try_from(&data_key[..]),
            <[u8; crypto::NONCE_LEN]>::try_from(&version.nonce[..]),
        ) else {
            return Err(damaged());
        };
        let mut value = Zeroizing::new(version.sealed.clone());
        crypto::open_in_place(data_key, &nonce, &binding(name, version_id), &mut value)
            .map_err(|_| damaged())?;
        if version.binary {
            return Ok(SecretValue::Binary(value));
        }
        match String::from_utf8(std::mem::take(&mut *value)) {
            Ok(text) => Ok(SecretValue::Text(Zeroizing::new(text))),
            Err(e) => {
                let mut bytes = e.into_bytes();
                zeroize::Zeroize::zeroize(&mut bytes);
                Err(damaged())
            }
        }
    }
}

impl Kms {
    /// UpdateSecret: overwrites the value of an existing version.
    pub fn update_secret_value(
        &self,
        name: &str,
        version_id: &str,
        value: SecretValue,
    ) -> Result<()> {
        validate_value(value.bytes().len())?;
        self.transact(|ring, now| {
            let index = find(ring, name)?;
            let secret = &ring.secrets[index];
            refuse_database_value(secret)?;
            if !secret.state.may_change_values() {
                return Err(state_error(
                    secret,
                    keyconsole_base::text!("errors.change_a_value"),
                ));
            }
            let position = version_index(secret, version_id)?;
            let create_time = secret.versions[position].create_time;
            let key = key_index(ring, secret)?;
            let mut version = seal_value(&mut ring.keys[key], name, version_id, &value, now)?;
            version.create_time = create_time;
            ring.secrets[index].versions[position] = version;
            Ok(())
        })
    }

    pub fn update_secret_description(&self, name: &str, description: &str) -> Result<()> {
        validate_description(description)?;
        self.change_secret(name, |secret, _| {
            if !secret.state.may_change_values() {
                return Err(state_error(
                    secret,
                    keyconsole_base::text!("errors.change_its_description"),
                ));
            }
            secret.description = description.to_owned();
            Ok(())
        })
    }

    /// Adds or changes the tags in `set` and removes those keyed in `remove`, in one step (in any
    /// state: tags say what a secret is for, not what it holds).
    pub fn tag_secret(&self, name: &str, set: &[Tag], remove: &[String]) -> Result<()> {
        crate::tags::validate_tags(set)?;
        self.change_secret(name, |secret, _| {
            secret.tags = crate::tags::edited(&secret.tags, set, remove)?;
            Ok(())
        })
    }

    pub fn enable_secret(&self, name: &str) -> Result<()> {
        self.change_secret(name, |secret, _| {
            if !secret.state.may_enable() {
                return Err(transition_error(secret, "enabled"));
            }
            secret.state = SecretState::Enabled;
            Ok(())
        })
    }

    pub fn disable_secret(&self, name: &str) -> Result<()> {
        self.change_secret(name, |secret, _| {
            if !secret.state.may_disable() {
                return Err(transition_error(secret, "disabled"));
            }
            secret.state = SecretState::Disabled;
            Ok(())
        })
    }

    /// DeleteSecret: a disabled secret is deleted at once (`recovery_days` 0) or after 1–30 days
    /// (PendingDelete until then). Returns the DeleteTime (now, for at once).
    pub fn delete_secret(&self, name: &str, recovery_days: u32) -> Result<i64> {
        validate_recovery_days(u64::from(recovery_days))?;
        self.transact(|ring, now| {
            let index = find(ring, name)?;
            let secret = &mut ring.secrets[index];
            if secret.state == SecretState::PendingDelete {
                return Err(KmsError::new(
                    ErrorCode::OperationDenied,
                    keyconsole_base::text!(
                        "errors.secret_name_is_already_scheduled_for_deletion",
                        name = name,
                        date = keyconsole_base::util::format_time(secret.delete_time)
                    ),
                ));
            }
            if !secret.state.may_delete() {
                return Err(KmsError::new(
                    ErrorCode::OperationDenied,
                    keyconsole_base::text!(
                        "errors.secret_name_is_state_disable_it",
                        name = name,
                        state = secret.state.as_str()
                    ),
                ));
            }
            if secret.ssh.is_some() && recovery_days != 0 {
                return err(
                    ErrorCode::InvalidParameterValue,
                    keyconsole_base::text!("errors.ssh_key_pair_deleted_at_once", name = name),
                );
            }
            if recovery_days == 0 {
                // Dropping the record drops its sealed values; their data keys die with it.
                ring.secrets.remove(index);
                return Ok(now);
            }
            secret.state = SecretState::PendingDelete;
            secret.delete_time = now + i64::from(recovery_days) * SECONDS_PER_DAY;
            Ok(secret.delete_time)
        })
    }

    /// RestoreSecret: PendingDelete → Disabled (never straight to Enabled).
    pub fn restore_secret(&self, name: &str) -> Result<()> {
        self.change_secret(name, |secret, _| {
            if !secret.state.may_restore() {
                return Err(KmsError::new(
                    ErrorCode::OperationDenied,
                    keyconsole_base::text!(
                        "errors.secret_name_is_not_pending_deletion",
                        name = name
                    ),
                ));
            }
            secret.state = SecretState::Disabled;
            secret.delete_time = 0;
            Ok(())
        })
    }

    /// DeleteSecretVersion: removes one version at once (not the last one: a secret keeps a value).
    pub fn delete_secret_version(&self, name: &str, version_id: &str) -> Result<()> {
        self.change_secret(name, |secret, _| {
            if !secret.state.may_change_values() {
                return Err(state_error(
                    secret,
                    keyconsole_base::text!("errors.delete_a_version"),
                ));
            }
            let position = version_index(secret, version_id)?;
            if let Some(database) = &mut secret.database {
                if [
                    Some(&database.current_version),
                    database.pending_version.as_ref(),
                ]
                .contains(&Some(&secret.versions[position].version_id))
                {
                    return err(
                        ErrorCode::OperationDenied,
                        keyconsole_base::text!(
                            "errors.version_id_holds_the_password_secret",
                            version_id = version_id,
                            name = name
                        ),
                    );
                }
                if database.previous_version.as_deref() == Some(version_id) {
                    database.previous_version = None;
                }
            }
            if secret.versions.len() == 1 {
                return err(
                    ErrorCode::OperationDenied,
                    keyconsole_base::text!(
                        "errors.version_id_is_the_only_version",
                        version_id = version_id,
                        name = name
                    ),
                );
            }
            secret.versions.remove(position);
            Ok(())
        })
    }

    pub fn describe_secret(&self, name: &str) -> Result<SecretMetadata> {
        let ring = self.ring();
        Ok(ring.secrets[find(&ring, name)?].metadata())
    }

    /// ListSecretVersionIds: (VersionId, CreateTime), oldest first.
    pub fn secret_versions(&self, name: &str) -> Result<Vec<(String, i64)>> {
        let ring = self.ring();
        let secret = &ring.secrets[find(&ring, name)?];
        Ok(secret
            .versions
            .iter()
            .map(|v| (v.version_id.clone(), v.create_time))
            .collect())
    }

    /// ListSecrets: filtered by state and a name fragment, newest first unless asked, paged.
    pub fn list_secrets(&self, query: &SecretQuery) -> Result<SecretPage> {
        let limit = query.limit.unwrap_or(LIST_LIMIT_DEFAULT);
        check_list_limit(limit, LIST_LIMIT_MAX)?;
        let needle = search_needle(query.search.as_deref());
        let ring = self.ring();
        let mut matches: Vec<&SecretRecord> = ring
            .secrets
            .iter()
            .filter(|s| query.admits(&needle, Listed::of_record(s)))
            .collect();
        if query.oldest_first {
            matches.sort_by_key(|s| s.create_time);
        } else {
            matches.reverse();
            matches.sort_by_key(|s| std::cmp::Reverse(s.create_time));
        }
        Ok(SecretPage {
            total: matches.len(),
            secrets: matches
                .into_iter()
                .skip(query.offset)
                .take(limit)
                .map(SecretRecord::metadata)
                .collect(),
        })
    }

    fn change_secret<T>(
        &self,
        name: &str,
        change: impl FnOnce(&mut SecretRecord, i64) -> Result<T>,
    ) -> Result<T> {
        self.transact(|ring, now| {
            let index = find(ring, name)?;
            change(&mut ring.secrets[index], now)
        })
    }
}

fn transition_error(secret: &SecretRecord, to: &str) -> KmsError {
    KmsError::new(
        ErrorCode::OperationDenied,
        keyconsole_base::text!(
            "errors.secret_name_is_state_it_cannot",
            name = secret.name,
            state = secret.state.as_str(),
            to = to
        ),
    )
}

/// Whether maintenance should destroy the secret now.
pub(crate) fn deletion_due(secret: &SecretRecord, now: i64) -> bool {
    secret.state == SecretState::PendingDelete && secret.delete_time <= now
}

#[cfg(any(test, feature = "testing"))]
impl Kms {
    /// For tests of long listings: `names` as secrets of the default key holding `value`, made
    /// in one save instead of one save each.
    pub fn create_secrets_at_once(&self, names: &[String], value: &SecretValue) -> Result<()> {
        self.transact(|ring, now| {
            let key_index = default_key(ring, now)?;
            for name in names {
                validate_name(name)?;
                let key = &mut ring.keys[key_index];
                let version = seal_value(key, name, FIRST_VERSION_ID, value, now)?;
                let key_id = key.key_id;
                ring.secrets.push(SecretRecord {
                    name: name.clone(),
                    description: String::new(),
                    state: SecretState::Enabled,
                    key_id,
                    default_key: true,
                    create_time: now,
                    delete_time: 0,
                    versions: vec![version],
                    database: None,
                    tags: Vec::new(),
                    ssh: None,
                });
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::TestKeystore;

    fn text(value: &str) -> SecretValue {
        SecretValue::Text(Zeroizing::new(value.to_owned()))
    }

    fn create(kms: &Kms, name: &str, value: &str) {
        kms.create_secret(CreateSecret {
            name: name.to_owned(),
            version_id: None,
            description: String::new(),
            key: None,
            value: text(value),
            tags: Vec::new(),
        })
        .unwrap();
    }

    /// Each value opens only under its own name and version: moving sealed values between
    /// versions or secrets in the keystore makes them unreadable, never another secret's value.
    #[test]
    fn values_are_bound_to_their_secret_and_version() {
        let (_ks, kms) = TestKeystore::new();
        create(&kms, "a", "value of a");
        create(&kms, "b", "value of b");
        kms.put_secret_value("a", "v2", text("second of a"))
            .unwrap();
        let swap = |field: fn(&mut SecretVersion) -> &mut Vec<u8>| {
            kms.transact(|ring, _| {
                let (first, rest) = ring.secrets.split_at_mut(1);
                std::mem::swap(
                    field(&mut first[0].versions[0]),
                    field(&mut rest[0].versions[0]),
                );
                Ok(())
            })
            .unwrap();
        };
        swap(|v| &mut v.sealed);
        for (name, version) in [("a", "SSM_v1"), ("b", "SSM_v1")] {
            let e = kms.get_secret_value(name, version).unwrap_err();
            assert_eq!(e.code, ErrorCode::DecryptError, "{e}");
        }
        swap(|v| &mut v.sealed);
        // The data keys too: a wrapped key names its secret and version in its context.
        kms.transact(|ring, _| {
            let moved = ring.secrets[0].versions[1].wrapped_key.clone();
            ring.secrets[0].versions[0].wrapped_key = moved;
            Ok(())
        })
        .unwrap();
        let e = kms.get_secret_value("a", "SSM_v1").unwrap_err();
        assert_eq!(e.code, ErrorCode::AccessKmsError, "{e}");
        assert_eq!(
            kms.get_secret_value("b", "SSM_v1").unwrap(),
            text("value of b")
        );
        assert_eq!(
            kms.get_secret_value("a", "v2").unwrap(),
            text("second of a")
        );
    }
}
