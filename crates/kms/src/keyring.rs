//! The keyring: the keystore body in memory (keys with their indexes, the API credentials), its
//! serialization with a schema version, and the encryption counts not saved yet.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use crate::secrets::product::{DbInstanceRecord, ProductTask};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use zeroize::Zeroizing;

use super::audit::{AuditAnchor, AuditHead};
use super::credentials::{ApiCredentials, Cloud};
use super::error::{ErrorCode, KmsError, Result, err};
use super::keys::KeyRecord;
use super::local_ca::LocalCaRecord;
use super::secrets::SecretRecord;
use super::users::UserRecord;
use keyconsole_base::util::ZeroizingWriter;

/// The body's schema: 1 is the body as first written (keys, then API credentials, both optional);
/// 2 adds the secrets manager's secrets and its default key (a schema-1 body reads as no secrets);
/// 3 adds the local CA of `serve --tls` (older bodies have none until first use);
/// 4 adds database secrets (a secret's connection, rotation and history; older secrets have none);
/// 5 adds a database secret's rotation claim and attempt count (older secrets have neither);
/// 6 adds tags on keys and secrets, a key's owner, SSH key-pair secrets, and product secrets'
/// instances and tasks (older records have none: no tags, the user's, no key pair, none);
/// 7 adds key kinds: a key's usage beyond ENCRYPT_DECRYPT, its spec (SM4, RSA, ECC, SM2; older
/// keys are AES-256) and material of other lengths than 32 bytes.
/// 8 adds other clouds' credentials; 9 a team's users;
/// 10 the audit trail's secret and the head of its chain as of the save; 11 where a pruned
/// trail begins.
/// A body without the field is schema 1; one with a newer schema is refused rather than misread,
/// so an older keyconsole never drops secrets it does not know.
pub const SCHEMA_VERSION: u32 = 11;

fn schema_one() -> u32 {
    1
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// The keystore body as serialized (inside the encryption).
#[derive(Default, Serialize, Deserialize)]
struct Body {
    #[serde(default = "schema_one")]
    schema: u32,
    #[serde(default)]
    keys: Vec<KeyRecord>,
    /// Added with the loopback API; older keystores have none until first use.
    #[serde(default)]
    api_credentials: Option<ApiCredentials>,
    /// Schema 2.
    #[serde(default)]
    secrets: Vec<SecretRecord>,
    #[serde(default)]
    ssm_default_key: Option<Uuid>,
    /// Schema 3.
    #[serde(default)]
    local_ca: Option<LocalCaRecord>,
    /// Product secrets' administrator connections and tasks; older keystores have none.
    #[serde(default)]
    db_instances: Vec<DbInstanceRecord>,
    #[serde(default)]
    product_tasks: Vec<ProductTask>,
    #[serde(default)]
    next_flow_id: u64,
    /// Schema 8: the other clouds' API credentials (Tencent's stay in `api_credentials`).
    #[serde(default)]
    cloud_credentials: Vec<ApiCredentials>,
    /// Schema 9: a team's users and their policies.
    #[serde(default)]
    users: Vec<UserRecord>,
    /// Schema 10: what the audit trail's keys come from (hex), and its chain's end at this save.
    #[serde(default)]
    audit_secret: Option<Zeroizing<String>>,
    #[serde(default)]
    audit_head: Option<AuditHead>,
    /// Schema 11.
    #[serde(default)]
    audit_anchor: Option<AuditAnchor>,
}

/// The keys in memory, with indexes by id and by (case-folded) alias.
#[derive(Default, Clone)]
pub(crate) struct Keyring {
    pub(crate) keys: Vec<KeyRecord>,
    pub(crate) by_id: HashMap<Uuid, usize>,
    pub(crate) by_alias: HashMap<String, usize>,
    pub(crate) api_credentials: Option<ApiCredentials>,
    pub(crate) secrets: Vec<SecretRecord>,
    /// The CMK the secrets manager made for itself (KmsKeyType DEFAULT).
    pub(crate) ssm_default_key: Option<Uuid>,
    /// The CA that signs the API's HTTPS certificates.
    pub(crate) local_ca: Option<LocalCaRecord>,
    pub(crate) db_instances: Vec<DbInstanceRecord>,
    pub(crate) product_tasks: Vec<ProductTask>,
    pub(crate) next_flow_id: u64,
    pub(crate) cloud_credentials: Vec<ApiCredentials>,
    pub(crate) users: Vec<UserRecord>,
    pub(crate) audit_secret: Option<Zeroizing<String>>,
    pub(crate) audit_head: Option<AuditHead>,
    pub(crate) audit_anchor: Option<AuditAnchor>,
    /// Reservations of encryptions this keyring raised; usable once it is saved.
    pub(crate) credits: super::usage::Credits,
}

impl Keyring {
    /// The user one of whose access keys is `secret_id` (a caller's principal); `None` for the
    /// keystore's own credentials.
    pub(crate) fn user_signing_with(&self, secret_id: &str) -> Option<&UserRecord> {
        self.users
            .iter()
            .find(|u| u.keys.iter().any(|k| k.secret_id == secret_id))
    }

    /// A cloud's API credentials, if made.
    pub(crate) fn credentials(&self, cloud: Cloud) -> Option<&ApiCredentials> {
        match cloud {
            Cloud::Tencent => self.api_credentials.as_ref(),
            _ => self.cloud_credentials.iter().find(|c| c.cloud == cloud),
        }
    }

    /// Sets (or replaces) the credentials of their cloud.
    pub(crate) fn set_credentials(&mut self, credentials: ApiCredentials) {
        match credentials.cloud {
            Cloud::Tencent => self.api_credentials = Some(credentials),
            cloud => {
                self.cloud_credentials.retain(|c| c.cloud != cloud);
                self.cloud_credentials.push(credentials);
            }
        }
    }

    /// The audit trail's secret, once a save kept it.
    pub(crate) fn audit_secret(&self) -> Option<Zeroizing<[u8; 32]>> {
        let hex = self.audit_secret.as_ref()?;
        let mut secret = Zeroizing::new([0u8; 32]);
        if hex.len() != 64 {
            return None;
        }
        for (i, pair) in hex.as_bytes().chunks(2).enumerate() {
            secret[i] = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
        }
        Some(secret)
    }

    pub(crate) fn set_audit_secret(&mut self, secret: &[u8; 32]) {
        if self.audit_secret.is_none() {
            self.audit_secret = Some(Zeroizing::new(keyconsole_base::util::hex(secret)));
        }
    }

    fn from_body(body: Body) -> Self {
        let mut ring = Keyring {
            keys: body.keys,
            api_credentials: body.api_credentials,
            secrets: body.secrets,
            ssm_default_key: body.ssm_default_key,
            local_ca: body.local_ca,
            db_instances: body.db_instances,
            product_tasks: body.product_tasks,
            next_flow_id: body.next_flow_id,
            cloud_credentials: body.cloud_credentials,
            users: body.users,
            audit_secret: body.audit_secret,
            audit_head: body.audit_head,
            audit_anchor: body.audit_anchor,
            ..Keyring::default()
        };
        // Keystores from before keys knew their owner.
        if let Some(id) = ring.ssm_default_key
            && let Some(key) = ring.keys.iter_mut().find(|k| k.key_id == id)
        {
            key.owner = crate::keys::KeyOwner::SecretsManager;
        }
        ring.reindex();
        ring
    }

    pub(crate) fn reindex(&mut self) {
        self.by_id = self
            .keys
            .iter()
            .enumerate()
            .map(|(i, k)| (k.key_id, i))
            .collect();
        self.by_alias = self
            .keys
            .iter()
            .enumerate()
            .map(|(i, k)| (k.alias.to_ascii_lowercase(), i))
            .collect();
    }

    pub(crate) fn alias_taken(&self, alias: &str, except: Option<usize>) -> bool {
        self.by_alias
            .get(&alias.to_ascii_lowercase())
            .is_some_and(|&i| Some(i) != except)
    }

    pub(crate) fn encode(&self) -> Result<Zeroizing<Vec<u8>>> {
        let mut writer = ZeroizingWriter::with_capacity(256 + self.keys.len() * 512);
        #[derive(Serialize)]
        struct BodyRef<'a> {
            schema: u32,
            keys: &'a [KeyRecord],
            #[serde(skip_serializing_if = "Option::is_none")]
            api_credentials: Option<&'a ApiCredentials>,
            secrets: &'a [SecretRecord],
            #[serde(skip_serializing_if = "Option::is_none")]
            ssm_default_key: Option<Uuid>,
            #[serde(skip_serializing_if = "Option::is_none")]
            local_ca: Option<&'a LocalCaRecord>,
            #[serde(skip_serializing_if = "<[_]>::is_empty")]
            db_instances: &'a [DbInstanceRecord],
            #[serde(skip_serializing_if = "<[_]>::is_empty")]
            product_tasks: &'a [ProductTask],
            #[serde(skip_serializing_if = "is_zero")]
            next_flow_id: u64,
            #[serde(skip_serializing_if = "<[_]>::is_empty")]
            cloud_credentials: &'a [ApiCredentials],
            #[serde(skip_serializing_if = "<[_]>::is_empty")]
            users: &'a [UserRecord],
            #[serde(skip_serializing_if = "Option::is_none")]
            audit_secret: Option<&'a Zeroizing<String>>,
            #[serde(skip_serializing_if = "Option::is_none")]
            audit_head: Option<&'a AuditHead>,
            #[serde(skip_serializing_if = "Option::is_none")]
            audit_anchor: Option<&'a AuditAnchor>,
        }
        let body = BodyRef {
            schema: SCHEMA_VERSION,
            keys: &self.keys,
            api_credentials: self.api_credentials.as_ref(),
            secrets: &self.secrets,
            ssm_default_key: self.ssm_default_key,
            local_ca: self.local_ca.as_ref(),
            db_instances: &self.db_instances,
            product_tasks: &self.product_tasks,
            next_flow_id: self.next_flow_id,
            cloud_credentials: &self.cloud_credentials,
            users: &self.users,
            audit_secret: self.audit_secret.as_ref(),
            audit_head: self.audit_head.as_ref(),
            audit_anchor: self.audit_anchor.as_ref(),
        };
        serde_json::to_writer(&mut writer, &body).map_err(|e| {
            KmsError::new(
                ErrorCode::InternalError,
                keyconsole_base::text!("errors.serializing_the_keystore_failed_e", e = e),
            )
        })?;
        Ok(writer.into_inner().into())
    }

    pub(crate) fn decode(bytes: &[u8], path: &Path) -> Result<Keyring> {
        let body: Body = serde_json::from_slice(bytes).map_err(|_| {
            KmsError::new(
                ErrorCode::KeystoreDamaged,
                keyconsole_base::text!(
                    "errors.path_decrypts_but_its_contents_cannot",
                    path = path.display()
                ),
            )
        })?;
        if body.schema > SCHEMA_VERSION {
            return err(
                ErrorCode::KeystoreDamaged,
                keyconsole_base::text!(
                    "errors.path_was_written_by_a_newer",
                    path = path.display(),
                    schema = body.schema,
                    schema_version = SCHEMA_VERSION
                ),
            );
        }
        // A symmetric key's material is exactly its cipher's key length (a key pair's is checked
        // when it is parsed, on first use).
        let wrong_length = |k: &KeyRecord| {
            k.spec.cipher().is_some_and(|cipher| {
                k.versions
                    .iter()
                    .any(|v| v.material().len() != cipher.key_len())
            })
        };
        // Only an EXTERNAL key waiting for its material has no version.
        let missing =
            |k: &KeyRecord| k.versions.is_empty() && k.origin != crate::keys::KeyOrigin::External;
        if body.keys.iter().any(|k| missing(k) || wrong_length(k)) {
            return err(
                ErrorCode::KeystoreDamaged,
                keyconsole_base::text!(
                    "errors.path_holds_a_key_without_key",
                    path = path.display()
                ),
            );
        }
        Ok(Keyring::from_body(body))
    }
}

/// One key of a published keyring, holding that keyring so the record stays valid however many
/// changes are published meanwhile.
#[derive(Clone)]
pub(crate) struct KeyRef {
    ring: Arc<Keyring>,
    index: usize,
}

impl KeyRef {
    pub(crate) fn new(ring: Arc<Keyring>, index: usize) -> Self {
        Self { ring, index }
    }
}

impl std::ops::Deref for KeyRef {
    type Target = KeyRecord;
    fn deref(&self) -> &KeyRecord {
        &self.ring.keys[self.index]
    }
}

/// The keys of one published keyring, in keystore order; positions stay valid for this value.
#[derive(Clone)]
pub struct Keys(Arc<Keyring>);

impl Keys {
    pub(crate) fn new(ring: Arc<Keyring>) -> Self {
        Self(ring)
    }

    /// Whether both are the same published keyring (nothing was published in between).
    pub fn is_same(&self, other: &Keys) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// A handle that tells this keyring again without keeping it (and its key material) alive.
    pub(crate) fn downgrade(&self) -> std::sync::Weak<Keyring> {
        Arc::downgrade(&self.0)
    }

    pub(crate) fn is(&self, weak: &std::sync::Weak<Keyring>) -> bool {
        std::ptr::eq(Arc::as_ptr(&self.0), weak.as_ptr())
    }
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Keys({})", self.0.keys.len())
    }
}

impl std::ops::Deref for Keys {
    type Target = [KeyRecord];
    fn deref(&self) -> &[KeyRecord] {
        &self.0.keys
    }
}
