//! A secret as the keystore holds it: its metadata and its versions, each value sealed under a
//! data key of its own that the secret's CMK wraps. No value is ever held unsealed in the keyring.

use crate::tags::Tag;
use serde::{Deserialize, Serialize};

use uuid::Uuid;

use keyconsole_base::crypto::NONCE_LEN;
use keyconsole_base::util::database::{DbEndpoint, DbEngine};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SecretState {
    Enabled,
    Disabled,
    PendingDelete,
}

impl SecretState {
    /// As the API's `Status` spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            SecretState::Enabled => "Enabled",
            SecretState::Disabled => "Disabled",
            SecretState::PendingDelete => "PendingDelete",
        }
    }
}

/// Which states a listing asks for (the API's State: 0 all, 1 Enabled, 2 Disabled, 3 PendingDelete).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SecretStateFilter {
    #[default]
    All,
    Only(SecretState),
}

impl SecretStateFilter {
    pub fn matches(self, state: SecretState) -> bool {
        match self {
            SecretStateFilter::All => true,
            SecretStateFilter::Only(s) => s == state,
        }
    }
}

/// One version's value, sealed. `wrapped_key` is a CiphertextBlob of the version's data key under
/// the secret's CMK, with the secret name and version id as its encryption context; the value is
/// sealed under that data key with the same binding as associated data.
#[derive(Clone, Serialize, Deserialize)]
pub struct SecretVersion {
    pub version_id: String,
    pub create_time: i64,
    /// SecretBinary (true) or SecretString.
    pub binary: bool,
    pub wrapped_key: String,
    #[serde(with = "bytes_base64")]
    pub nonce: Vec<u8>,
    #[serde(with = "bytes_base64")]
    pub sealed: Vec<u8>,
}

impl std::fmt::Debug for SecretVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretVersion")
            .field("version_id", &self.version_id)
            .field("create_time", &self.create_time)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SecretRecord {
    pub name: String,
    pub description: String,
    pub state: SecretState,
    /// The CMK whose data keys seal the values.
    pub key_id: Uuid,
    /// Whether that CMK is the service's own default key (KmsKeyType DEFAULT) or one the user chose.
    pub default_key: bool,
    pub create_time: i64,
    /// When a PendingDelete secret is destroyed; 0 otherwise.
    pub delete_time: i64,
    /// Oldest first.
    pub versions: Vec<SecretVersion>,
    /// For database credentials (the cloud's product secrets): where they log in and how they
    /// rotate. Schema 4; older secrets have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<DatabaseSecret>,
    /// Keystores written before tags were kept have none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
    /// For an SSH key-pair secret: the pair's id, name and public key (the private key is the
    /// sealed value).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssh: Option<super::ssh::SshKeyPair>,
}

/// A database secret's connection, its versions' roles and its rotation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DatabaseSecret {
    pub endpoint: DbEndpoint,
    /// The version the database accepts (what `SSM_Current` reads).
    pub current_version: String,
    /// The version in use before the last rotation; still readable by its id.
    pub previous_version: Option<String>,
    /// A rotation's new password, saved before the database is told; set until the rotation
    /// finishes. While set, the database holds either this password or the current one.
    pub pending_version: Option<String>,
    pub rotation_enabled: bool,
    pub rotate_days: u32,
    /// When automatic rotation is next due (0: not scheduled).
    pub next_rotation_time: i64,
    pub last_rotation_time: i64,
    /// Newest last, at most `rules::ROTATION_HISTORY_MAX`.
    pub history: Vec<RotationRecord>,
    /// The rotation that may talk to the database now, whichever process runs it (see
    /// `secrets::database`). Schema 5; none before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotation_claim: Option<RotationClaim>,
    /// Rotation attempts ever recorded (the API's FlowID); the history keeps the last 50 only.
    #[serde(default)]
    pub attempts: u64,
    /// For an account keyconsole made (a product secret): through which instance, and what it
    /// was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<ProductAccount>,
}

/// How a product secret's account was made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductAccount {
    pub instance_id: String,
    /// MySQL/MariaDB's host part (`%`); empty for PostgreSQL.
    pub host: String,
    pub grants: Vec<keyconsole_base::util::db_accounts::Grant>,
}

/// A rotation's hold on a database secret: only its owner changes the database's password until
/// it gives the claim back or `until` passes (a crashed or hung owner).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RotationClaim {
    /// The process that holds it: its id and a random tag (ids are reused; tags are not).
    pub owner: String,
    pub until: i64,
    /// Its process id and the machine's boot id, so that a claim of a process that is gone
    /// from this very machine (killed mid-rotation) is not waited out.
    #[serde(default)]
    pub pid: u32,
    #[serde(default)]
    pub boot: String,
}

/// One rotation attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RotationRecord {
    pub time: i64,
    /// The version the rotation made (or tried to make) current.
    pub version_id: String,
    /// Empty when it succeeded; otherwise why not (in English; a database's own words as it
    /// said them).
    pub error: String,
    /// The same in Simplified Chinese, for a console that speaks it (empty in records made
    /// before it was kept).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub error_zh: String,
    /// How long the attempt took.
    pub millis: u64,
    /// A failure after which the database may hold the new password all the same (it did not
    /// answer, or the connection broke after the password was sent). Schema 5.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub uncertain: bool,
}

impl RotationRecord {
    /// Why it failed, in `language` where the record has it.
    pub fn error_in(&self, language: keyconsole_base::util::i18n::Language) -> &str {
        match language {
            keyconsole_base::util::i18n::Language::SimplifiedChinese
                if !self.error_zh.is_empty() =>
            {
                &self.error_zh
            }
            _ => &self.error,
        }
    }

    pub fn succeeded(&self) -> bool {
        self.error.is_empty()
    }

    /// When a failed attempt is tried again: soon when the database could not tell what happened.
    pub fn retry_after(&self) -> i64 {
        if self.uncertain {
            super::rules::ROTATION_UNCERTAIN_RETRY_SECONDS
        } else {
            super::rules::ROTATION_RETRY_SECONDS
        }
    }
}

/// What is shown of a database secret's connection and rotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseMetadata {
    pub endpoint: DbEndpoint,
    pub current_version: String,
    pub previous_version: Option<String>,
    pub pending_version: Option<String>,
    pub rotation_enabled: bool,
    pub rotate_days: u32,
    pub next_rotation_time: i64,
    pub last_rotation_time: i64,
    pub product: Option<ProductAccount>,
}

/// ProductName as the cloud spells it for its database product secrets.
pub fn product_name(engine: DbEngine) -> &'static str {
    match engine {
        DbEngine::MySql => "Mysql",
        DbEngine::PostgreSql => "PostgreSQL",
    }
}

impl DatabaseMetadata {
    pub fn product_name(&self) -> &'static str {
        product_name(self.endpoint.engine)
    }
}

impl DatabaseSecret {
    pub fn product_name(&self) -> &'static str {
        product_name(self.endpoint.engine)
    }
}

/// What is shown of a secret: no value, field names as the API spells them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretMetadata {
    pub name: String,
    pub description: String,
    pub key_id: String,
    pub default_key: bool,
    pub state: SecretState,
    pub create_time: i64,
    pub delete_time: i64,
    pub version_count: usize,
    pub database: Option<DatabaseMetadata>,
    pub tags: Vec<Tag>,
    pub ssh: Option<super::ssh::SshKeyPair>,
}

impl SecretRecord {
    pub fn metadata(&self) -> SecretMetadata {
        SecretMetadata {
            name: self.name.clone(),
            description: self.description.clone(),
            key_id: self.key_id.to_string(),
            default_key: self.default_key,
            state: self.state,
            create_time: self.create_time,
            delete_time: self.delete_time,
            version_count: self.versions.len(),
            database: self.database.as_ref().map(|d| DatabaseMetadata {
                endpoint: d.endpoint.clone(),
                current_version: d.current_version.clone(),
                previous_version: d.previous_version.clone(),
                pending_version: d.pending_version.clone(),
                rotation_enabled: d.rotation_enabled,
                rotate_days: d.rotate_days,
                next_rotation_time: d.next_rotation_time,
                last_rotation_time: d.last_rotation_time,
                product: d.product.clone(),
            }),
            tags: self.tags.clone(),
            ssh: self.ssh.clone(),
        }
    }

    pub fn version(&self, version_id: &str) -> Option<&SecretVersion> {
        self.versions.iter().find(|v| v.version_id == version_id)
    }
}

/// The binding of a value to its place: sealed under one secret name and version id, it opens
/// under no other.
pub fn binding(name: &str, version_id: &str) -> Vec<u8> {
    let mut aad = b"keyconsole secret 1\0".to_vec();
    aad.extend_from_slice(name.as_bytes());
    aad.push(0);
    aad.extend_from_slice(version_id.as_bytes());
    aad
}

pub const VALUE_NONCE_LEN: usize = NONCE_LEN;

mod bytes_base64 {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        STANDARD.decode(text).map_err(serde::de::Error::custom)
    }
}
