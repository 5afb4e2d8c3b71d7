//! The service boundary: what a face (the CLI today; the console and the API dialects next) asks of
//! keyconsole, as plain data, with who asks on every call. Two implementations: the engine over a
//! local keystore ([`Kms`]) and a client of a team's `keyconsole serve` (`api::remote`), so a face
//! written against [`KmsService`] works on either.
//!
//! No key material and no engine record crosses it: keys are [`KeyMetadata`], secrets
//! [`SecretMetadata`]; the only secrets that cross are the ones asked for (a plaintext, a data key,
//! a secret's value), in wiped memory. Every call on the local engine emits one [`ServiceEvent`]
//! with its outcome through [`Kms::set_event_hook`].

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use super::Kms;
use super::blob::CanonicalContext;
use super::credentials::Cloud;
use super::crypto_ops::{DataKey, Decrypted, Encrypted, ReEncrypted};
use super::error::{ErrorCode, Result};
use super::keys::import::ImportParametersOut;
use super::keys::{CreateKey, DataKeySpec, KeyIndex, KeyMetadata, KeyPage, KeyQuery};
use super::pair_ops::PublicKey;
use super::secrets::product::{CreateProductSecret, ProductTask};
use super::secrets::{
    CreateDatabaseSecret, CreateSecret, CreateSshKeyPairSecret, RotationDetail, SecretMetadata,
    SecretPage, SecretQuery, SecretValue, SshKeyPair,
};
use super::tags::Tag;
use keyconsole_base::crypto::asymmetric::MessageType;
use keyconsole_base::util::SecretBytes;
use keyconsole_base::util::database::DbEndpoint;
use keyconsole_base::util::i18n::Language;
use zeroize::Zeroizing;

/// Which face a call comes through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Face {
    Console,
    Cli,
    Api,
    /// Maintenance this process does of its own accord (due rotations, deletions).
    Engine,
}

impl Face {
    pub fn as_str(self) -> &'static str {
        match self {
            Face::Console => "console",
            Face::Cli => "cli",
            Face::Api => "api",
            Face::Engine => "engine",
        }
    }
}

/// Who asks: the face, the credential or user (`local` for the keystore's own password), the
/// language of the answer's messages, an id to find the call again, and whether the call may wait
/// for the keystore's lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub face: Face,
    pub principal: String,
    pub language: Language,
    pub request_id: String,
    /// False on a server's async workers, which must never block: an encryption whose reserved
    /// count ran out then fails with `ReservationNeeded` instead of saving, and the server runs
    /// it again where waiting is allowed.
    pub may_wait: bool,
    /// Where a request to a server came from (policies' `qcs:ip` conditions).
    pub source: Option<std::net::IpAddr>,
    /// The API dialect a request to a server spoke (`tencent`, `huawei`, `jd`); empty otherwise.
    pub dialect: &'static str,
}

impl Caller {
    /// Someone at this machine who unlocked the keystore with its password.
    pub fn local(face: Face, language: Language) -> Self {
        Caller {
            face,
            principal: "local".to_owned(),
            language,
            request_id: uuid::Uuid::new_v4().to_string(),
            may_wait: true,
            source: None,
            dialect: "",
        }
    }

    /// A request to a server, signed with the credential `principal` (a SecretId).
    pub fn api(principal: &str, language: Language, request_id: &str, may_wait: bool) -> Self {
        Caller {
            face: Face::Api,
            principal: principal.to_owned(),
            language,
            request_id: request_id.to_owned(),
            may_wait,
            source: None,
            dialect: "",
        }
    }

    /// The same caller, speaking `dialect`.
    pub fn in_dialect(mut self, dialect: &'static str) -> Self {
        self.dialect = dialect;
        self
    }

    /// The same caller, from `source`.
    pub fn from_address(mut self, source: Option<std::net::IpAddr>) -> Self {
        self.source = source;
        self
    }
}

/// A change to one key (enable and disable take up to 100 keys, all or none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyChange {
    Enable,
    Disable,
    /// A new alias, a new description, or both (checked before either is applied).
    Update {
        alias: Option<String>,
        description: Option<String>,
    },
    /// Deletion after 7-30 days; the key must be disabled.
    ScheduleDeletion {
        days: u32,
    },
    CancelDeletion,
    Archive,
    Unarchive,
    /// A new key version now.
    Rotate,
    /// Automatic rotation every `days` (365 when not given).
    EnableRotation {
        days: Option<u32>,
    },
    DisableRotation,
    /// Tags added or given a new value (`set`) and taken away (`remove`, by tag key), applied to
    /// the key's tags as they are when the change runs, so two editors do not undo each other.
    Tag {
        set: Vec<Tag>,
        remove: Vec<String>,
    },
    /// An EXTERNAL key's material, wrapped with the key GetParametersForImport gave with `token`;
    /// `valid_to` 0 never expires.
    ImportMaterial {
        encrypted_material: Vec<u8>,
        token: String,
        valid_to: i64,
    },
    /// An EXTERNAL key's material taken away (back to PendingImport).
    DeleteMaterial,
}

impl KeyChange {
    /// The operation's name in events.
    pub fn operation(&self) -> &'static str {
        match self {
            KeyChange::Enable => "EnableKey",
            KeyChange::Disable => "DisableKey",
            KeyChange::Update { .. } => "UpdateKey",
            KeyChange::ScheduleDeletion { .. } => "ScheduleKeyDeletion",
            KeyChange::CancelDeletion => "CancelKeyDeletion",
            KeyChange::Archive => "ArchiveKey",
            KeyChange::Unarchive => "CancelKeyArchive",
            KeyChange::Rotate => "RotateKey",
            KeyChange::EnableRotation { .. } => "EnableKeyRotation",
            KeyChange::DisableRotation => "DisableKeyRotation",
            KeyChange::Tag { .. } => "TagKey",
            KeyChange::ImportMaterial { .. } => "ImportKeyMaterial",
            KeyChange::DeleteMaterial => "DeleteImportedKeyMaterial",
        }
    }
}

/// What a key change tells beyond success.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyChanged {
    Done,
    /// ScheduleDeletion: when the key will be deleted (Unix seconds).
    DeletionDate(i64),
    /// Rotate: the new version's number (0 when the server does not say).
    Version(u32),
}

/// A change to one secret.
#[derive(Debug)]
pub enum SecretChange {
    Enable,
    Disable,
    /// Back from pending deletion (as Disabled).
    Restore,
    /// At once (0) or after 1-30 days; the secret must be disabled.
    Delete {
        recovery_days: u32,
    },
    DeleteVersion {
        version_id: String,
    },
    SetDescription(String),
    /// A new version.
    PutValue {
        version_id: String,
        value: SecretValue,
    },
    /// A new value for an existing version.
    UpdateValue {
        version_id: String,
        value: SecretValue,
    },
    /// A database secret's automatic rotation: on or off, every `days` (kept when `None`),
    /// starting at `begin` (Unix seconds; now when `None`).
    SetRotation {
        enabled: bool,
        days: Option<u32>,
        begin: Option<i64>,
    },
    /// A database secret's password, rotated now (in the database, then in the secret).
    Rotate,
    /// Tags added or given a new value, and taken away by tag key (see `KeyChange::Tag`).
    Tag {
        set: Vec<Tag>,
        remove: Vec<String>,
    },
}

impl SecretChange {
    pub fn operation(&self) -> &'static str {
        match self {
            SecretChange::Enable => "EnableSecret",
            SecretChange::Disable => "DisableSecret",
            SecretChange::Restore => "RestoreSecret",
            SecretChange::Delete { .. } => "DeleteSecret",
            SecretChange::DeleteVersion { .. } => "DeleteSecretVersion",
            SecretChange::SetDescription(_) => "UpdateDescription",
            SecretChange::PutValue { .. } => "PutSecretValue",
            SecretChange::UpdateValue { .. } => "UpdateSecret",
            SecretChange::SetRotation { .. } => "UpdateRotationStatus",
            SecretChange::Rotate => "RotateProductSecret",
            SecretChange::Tag { .. } => "TagSecret",
        }
    }
}

/// What a secret change tells beyond success.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretChanged {
    Done,
    /// Delete: when the secret goes for good (Unix seconds; now for an immediate deletion).
    DeleteTime(i64),
    /// Rotate: the version the rotation made current, and the task that records it (the
    /// cloud's FlowID, which DescribeAsyncRequestInfo answers for; 0 when not told).
    Rotated {
        version_id: String,
        flow_id: u64,
    },
}

/// One operation and how it ended, for the audit trail and tests. Never carries a plaintext, a
/// key or a secret's value: the target is a KeyId, an alias or a secret's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceEvent {
    pub caller: Caller,
    pub operation: &'static str,
    pub target: String,
    pub outcome: std::result::Result<(), ErrorCode>,
}

/// Hears every operation's event (set with [`Kms::set_event_hook`]); it runs on the caller's
/// thread, so it must be quick.
pub type EventHook = dyn Fn(&ServiceEvent) + Send + Sync;

/// What a face asks of keyconsole; the local engine and a remote server answer alike.
pub trait KmsService: Send + Sync {
    /// The keystore file when the service is local (an output must not overwrite it); `None`
    /// for a remote server.
    fn keystore_path(&self) -> Option<&Path>;

    // ---- keys ----
    fn create_key(&self, caller: &Caller, request: CreateKey) -> Result<KeyMetadata>;
    fn describe_key(&self, caller: &Caller, key: &str) -> Result<KeyMetadata>;
    /// Up to 100 keys at once, all found or an error.
    fn describe_keys(&self, caller: &Caller, keys: &[String]) -> Result<Vec<KeyMetadata>> {
        keys.iter()
            .map(|key| self.describe_key(caller, key))
            .collect()
    }
    fn list_keys(&self, caller: &Caller, query: &KeyQuery) -> Result<KeyPage>;
    /// Every key's metadata in one snapshot (a key list draws from it).
    fn key_index(&self, caller: &Caller) -> Result<Arc<KeyIndex>> {
        let query = KeyQuery {
            order: super::keys::Order::OldestFirst,
            ..KeyQuery::default()
        };
        let page = self.list_keys(caller, &query)?;
        Ok(Arc::new(KeyIndex::new(page.keys)))
    }
    /// Applies `change` to `keys` (more than one only for Enable and Disable), all or none.
    fn change_keys(
        &self,
        caller: &Caller,
        keys: &[String],
        change: KeyChange,
    ) -> Result<KeyChanged>;

    // ---- cryptography ----
    fn encrypt(
        &self,
        caller: &Caller,
        key: &str,
        plaintext: &[u8],
        context: &CanonicalContext,
    ) -> Result<Encrypted>;
    fn decrypt(
        &self,
        caller: &Caller,
        ciphertext_blob: &str,
        context: &CanonicalContext,
    ) -> Result<Decrypted>;
    fn re_encrypt(
        &self,
        caller: &Caller,
        ciphertext_blob: &str,
        destination_key: Option<&str>,
        source_context: &CanonicalContext,
        destination_context: &CanonicalContext,
    ) -> Result<ReEncrypted>;
    fn generate_data_key(
        &self,
        caller: &Caller,
        key: &str,
        spec: DataKeySpec,
        context: &CanonicalContext,
    ) -> Result<DataKey>;
    fn generate_random(&self, caller: &Caller, number_of_bytes: u32) -> Result<SecretBytes>;

    /// GetParametersForImport: a wrapping public key and token for an EXTERNAL key.
    fn get_parameters_for_import(
        &self,
        caller: &Caller,
        key: &str,
        wrapping_algorithm: &str,
        wrapping_key_spec: Option<&str>,
    ) -> Result<ImportParametersOut>;

    /// A key pair's public key (GetPublicKey).
    fn public_key(&self, caller: &Caller, key: &str) -> Result<PublicKey>;
    /// SignByAsymmetricKey.
    fn sign(
        &self,
        caller: &Caller,
        key: &str,
        algorithm: &str,
        message_type: MessageType,
        message: &[u8],
    ) -> Result<Vec<u8>>;
    /// VerifyByAsymmetricKey.
    fn verify(
        &self,
        caller: &Caller,
        key: &str,
        algorithm: &str,
        message_type: MessageType,
        message: &[u8],
        signature: &[u8],
    ) -> Result<bool>;
    /// Decrypt whose answer comes encrypted to the caller's public key (`EncryptionPublicKey`,
    /// PEM; `EncryptionAlgorithm`, SM2 C1C3C2 by default): the plaintext never leaves the
    /// service. Returns the KeyId and the encrypted plaintext.
    fn decrypt_to_public_key(
        &self,
        caller: &Caller,
        ciphertext_blob: &str,
        context: &CanonicalContext,
        public_key_pem: &str,
        algorithm: Option<&str>,
    ) -> Result<(String, Vec<u8>)>;

    /// AsymmetricRsaDecrypt (an RSAES algorithm) or AsymmetricSm2Decrypt (`None`).
    fn asymmetric_decrypt(
        &self,
        caller: &Caller,
        key: &str,
        algorithm: Option<&str>,
        ciphertext: &[u8],
    ) -> Result<Decrypted>;

    // ---- secrets ----
    /// Creates a secret with its first version; answers its name and that version's id.
    fn create_secret(&self, caller: &Caller, request: CreateSecret) -> Result<(String, String)>;
    fn get_secret_value(
        &self,
        caller: &Caller,
        name: &str,
        version_id: &str,
    ) -> Result<SecretValue>;
    fn describe_secret(&self, caller: &Caller, name: &str) -> Result<SecretMetadata>;
    fn list_secrets(&self, caller: &Caller, query: &SecretQuery) -> Result<SecretPage>;
    /// A secret's versions, oldest first, with their creation times.
    fn secret_versions(&self, caller: &Caller, name: &str) -> Result<Vec<(String, i64)>>;
    fn change_secret(
        &self,
        caller: &Caller,
        name: &str,
        change: SecretChange,
    ) -> Result<SecretChanged>;
    /// A database secret's rotation settings and its recent rotations.
    fn rotation_detail(&self, caller: &Caller, name: &str) -> Result<RotationDetail>;
    /// A secret holding a database user's credentials, made after logging in with them from
    /// where the service runs (which is where it will rotate them).
    fn create_database_secret(
        &self,
        caller: &Caller,
        request: CreateDatabaseSecret,
    ) -> Result<(String, String)>;
    /// Logs in to a database as *Test connection* does, from where the service runs.
    fn test_database_login(
        &self,
        caller: &Caller,
        endpoint: &DbEndpoint,
        password: &str,
    ) -> Result<()>;
    /// A database account made through a registered instance and kept as a database secret:
    /// answers the secret's name and the task's FlowID (the task says how it ended).
    fn create_product_secret(
        &self,
        caller: &Caller,
        request: CreateProductSecret,
    ) -> Result<(String, u64)>;
    /// A product secret's task by its FlowID.
    fn product_task(&self, caller: &Caller, flow_id: u64) -> Result<ProductTask>;
    /// A secret holding a new SSH key pair: answers its name and the pair's public part.
    fn create_ssh_key_pair_secret(
        &self,
        caller: &Caller,
        request: CreateSshKeyPairSecret,
    ) -> Result<(String, SshKeyPair)>;
    /// An SSH key-pair secret's pair (by the secret's name or the pair's id), its description and
    /// the private key (OpenSSH format).
    fn ssh_key_pair_value(
        &self,
        caller: &Caller,
        name: Option<&str>,
        key_id: Option<&str>,
    ) -> Result<(SshKeyPair, String, Zeroizing<String>)>;

    // ---- the audit trail ----
    /// A page of the audit trail, newest first (CloudAudit's LookUpEvents).
    fn look_up_events(
        &self,
        caller: &Caller,
        query: &super::audit::AuditQuery,
    ) -> Result<super::audit::AuditPage>;

    // ---- who is calling ----
    /// What the caller may do: its user's policy, or `None` when it may do everything (the
    /// keystore's owner; a server that does not say). Every caller may ask it of itself.
    fn caller_policy(&self, caller: &Caller) -> Result<Option<super::policy::CallerPolicy>>;
}

/// What a server's dialects need of the local engine besides the service's calls, none of which
/// is an operation of its own (no event): the SecretKey a SecretId signs with, the time
/// signatures are checked against, and the names the access log may show.
pub trait ServerSupport: Send + Sync {
    /// The secret half of `cloud`'s credentials whose access key is `secret_id`.
    fn api_secret_key(&self, cloud: Cloud, secret_id: &str) -> Result<Zeroizing<String>>;
    fn now(&self) -> i64;
    /// The KeyId that a KeyId or alias names here, if any.
    fn key_id_of(&self, key: &str) -> Option<String>;
    /// The secret's name when a secret of that name exists.
    fn secret_named(&self, name: &str) -> Option<String>;
}

/// The local engine as a server's dialects see it: the service and the server's support.
pub trait ServedKms: KmsService + ServerSupport {}

impl<T: KmsService + ServerSupport> ServedKms for T {}

impl ServerSupport for Kms {
    fn api_secret_key(&self, cloud: Cloud, secret_id: &str) -> Result<Zeroizing<String>> {
        Kms::api_secret_key_for(self, cloud, secret_id)
    }

    fn now(&self) -> i64 {
        Kms::now(self)
    }

    fn key_id_of(&self, key: &str) -> Option<String> {
        Kms::key_id_of(self, key)
    }

    fn secret_named(&self, name: &str) -> Option<String> {
        Kms::describe_secret(self, name)
            .ok()
            .map(|secret| secret.name)
    }
}

impl Kms {
    /// Sets the one hook that hears every operation's event (replacing the one before).
    pub fn set_event_hook(&self, hook: Option<Arc<EventHook>>) {
        self.event_hook.store(hook.map(Arc::new));
    }

    /// Runs `operation` and tells the hook how it ended.
    fn observed<T>(
        &self,
        caller: &Caller,
        operation: &'static str,
        target: &str,
        run: impl FnOnce() -> Result<T>,
    ) -> Result<T> {
        self.observed_as(caller, operation, operation, target, None, run)
    }

    /// `observed`, authorized as the CAM action `action` (which an operation's own name may not
    /// be: UpdateKey is UpdateAlias or UpdateKeyDescription) with the call's encryption context.
    fn observed_as<T>(
        &self,
        caller: &Caller,
        operation: &'static str,
        action: &str,
        target: &str,
        context: Option<&CanonicalContext>,
        run: impl FnOnce() -> Result<T>,
    ) -> Result<T> {
        let result = self
            .audit_ready(operation)
            .and_then(|()| self.permit(caller, action, target, context))
            .and_then(|()| waiting_as(caller, run));
        self.audited(caller, operation, target, context, result)
    }

    /// Whether the caller's policy allows `action` on each key or secret `target` names (`a,b`
    /// for several keys; none for actions on no one resource). The owner is never asked: only
    /// a server's users have policies.
    /// Whether the caller's calls are judged by a policy: only a server's callers, and only once
    /// the keystore has users (the owner's calls never are).
    fn has_policy(&self, caller: &Caller) -> bool {
        caller.face == Face::Api && !self.ring().users.is_empty()
    }

    fn permit(
        &self,
        caller: &Caller,
        action: &str,
        target: &str,
        context: Option<&CanonicalContext>,
    ) -> Result<()> {
        if !self.has_policy(caller) {
            return Ok(());
        }
        let secrets = super::policy::SSM_ACTIONS.contains(&action) || action == "TestDatabaseLogin";
        let (service, action) = match action {
            "TestDatabaseLogin" => ("ssm", "CreateSecret"),
            _ if super::policy::CLOUDAUDIT_ACTIONS.contains(&action) => ("cloudaudit", action),
            _ if secrets => ("ssm", action),
            _ => ("kms", action),
        };
        let cam_action = format!("{service}:{action}");
        let context: BTreeMap<String, String> = context
            .and_then(|c| serde_json::from_str(c.as_str()).ok())
            .unwrap_or_default();
        let resources: Vec<String> = if target.is_empty() || action == "CreateKey" {
            vec!["*".to_owned()]
        } else if secrets {
            vec![super::policy::secret_resource(target)]
        } else {
            target
                .split(',')
                .map(|key| {
                    super::policy::key_resource(
                        &self.key_id_of(key).unwrap_or_else(|| key.to_owned()),
                    )
                })
                .collect()
        };
        for resource in &resources {
            self.authorize(
                caller,
                &super::policy::Request {
                    action: &cam_action,
                    resource,
                    source_ip: caller.source,
                    context: context.clone(),
                },
            )?;
        }
        Ok(())
    }

    /// The KeyId a ciphertext names, read only when a policy will be asked about it (decryption
    /// reads the blob anyway).
    fn key_named_for_policy(&self, caller: &Caller, ciphertext_blob: &str) -> String {
        if self.has_policy(caller) {
            super::blob::Blob::decode(ciphertext_blob)
                .map(|b| b.key_id.to_string())
                .unwrap_or_default()
        } else {
            String::new()
        }
    }

    /// Refuses an operation before it starts while the audit trail could not record it.
    pub(crate) fn audit_ready(&self, operation: &str) -> Result<()> {
        match &self.audit {
            Some(trail) => trail
                .ready(must_be_recorded(operation))
                .map_err(super::audit_unavailable),
            None => Ok(()),
        }
    }

    /// Tells the hook and the audit trail how `operation` ended. An operation whose answer
    /// must not leave unrecorded fails when its event cannot be written (its answer, a plaintext
    /// say, is dropped here).
    pub(crate) fn audited<T>(
        &self,
        caller: &Caller,
        operation: &'static str,
        target: &str,
        context: Option<&CanonicalContext>,
        result: Result<T>,
    ) -> Result<T> {
        self.emit(caller, operation, target, &result);
        if !caller.may_wait && matches!(&result, Err(e) if e.code == ErrorCode::ReservationNeeded) {
            return result;
        }
        let Some(trail) = &self.audit else {
            return result;
        };
        let recorded = super::audit::with_event_buffer(|text| {
            self.audit_event(text, trail, caller, operation, target, context, &result);
            trail.record_text(text, must_be_recorded(operation))
        });
        match recorded {
            Ok(()) => result,
            Err(failure) => Err(super::audit_unavailable(failure)),
        }
    }

    /// The event's text, written straight from the call into `text` (no plaintext, key or value:
    /// names, ids, the outcome's code, the context as an HMAC).
    #[allow(clippy::too_many_arguments)]
    fn audit_event<T>(
        &self,
        text: &mut String,
        trail: &super::audit::AuditTrail,
        caller: &Caller,
        operation: &'static str,
        target: &str,
        context: Option<&CanonicalContext>,
        result: &Result<T>,
    ) {
        // Borrowed from the published snapshot, not cloned: a second reference count bumped on
        // every request is a cache line the workers would pass back and forth.
        let published = self.published.load();
        let ring = &*published.ring;
        let (user, credential) = match caller.face {
            Face::Engine => ("maintenance", ""),
            Face::Api => (
                ring.user_signing_with(&caller.principal)
                    .map_or("owner", |u| u.name.as_str()),
                caller.principal.as_str(),
            ),
            _ => ("owner", ""),
        };
        let mut text = super::audit::EventText::new(text, self.now());
        text.field("user", user)
            .field("face", caller.face.as_str())
            .field("dialect", caller.dialect)
            .field("credential", credential)
            .address("source", caller.source)
            .field("action", operation);
        if target.is_empty() {
            // Nothing named (a list, a random number).
        } else if names_keys(operation) && !target.contains(',') {
            // One key (nearly every call): its fields written without gathering them first.
            match super::keys::query::resolve_in(ring, target) {
                Ok(i) => {
                    let mut id = [0u8; 36];
                    text.field(
                        "key_id",
                        ring.keys[i].key_id.as_hyphenated().encode_lower(&mut id),
                    )
                    .field("alias", &ring.keys[i].alias);
                }
                // The target is the new key's alias.
                Err(_) if operation == "CreateKey" => {
                    text.field("alias", target);
                }
                Err(_) => {
                    text.field("key_id", target);
                }
            }
        } else if names_keys(operation) {
            let mut key_ids = String::new();
            let mut aliases = String::new();
            for (n, key) in target.split(',').enumerate() {
                if n > 0 {
                    key_ids.push(',');
                    aliases.push(',');
                }
                match super::keys::query::resolve_in(ring, key) {
                    Ok(i) => {
                        let mut id = [0u8; 36];
                        key_ids.push_str(ring.keys[i].key_id.as_hyphenated().encode_lower(&mut id));
                        aliases.push_str(&ring.keys[i].alias);
                    }
                    Err(_) => key_ids.push_str(key),
                }
            }
            text.field("key_id", &key_ids).field("alias", &aliases);
        } else if super::policy::SSM_ACTIONS.contains(&operation) {
            text.field("secret", target);
        } else {
            text.field("target", target);
        }
        let code;
        let outcome = match result {
            Ok(_) => "Success",
            Err(e) => {
                code = e.code.to_string();
                code.as_str()
            }
        };
        let context_hmac = context
            .filter(|c| !c.as_str().is_empty())
            .map(|c| trail.keys().context_hmac(c.as_str()))
            .unwrap_or_default();
        text.field("outcome", outcome)
            .field("request_id", &caller.request_id)
            .field("context_hmac", &context_hmac);
    }

    pub(crate) fn emit<T>(
        &self,
        caller: &Caller,
        operation: &'static str,
        target: &str,
        result: &Result<T>,
    ) {
        // A caller that may not wait gets this when the call needs a save first; it runs the call
        // again where it may wait, and that run is the operation's one event.
        if !caller.may_wait && matches!(result, Err(e) if e.code == ErrorCode::ReservationNeeded) {
            return;
        }
        if let Some(hook) = self.event_hook.load().as_ref() {
            hook(&ServiceEvent {
                caller: caller.clone(),
                operation,
                target: target.to_owned(),
                outcome: result.as_ref().map(|_| ()).map_err(|e| e.code),
            });
        }
    }
}

/// Operations whose answer is given only once their event is written: every change, every
/// decryption and every read of a secret. The rest (encryption, reading metadata, signing,
/// verifying) queue theirs, written within milliseconds.
fn must_be_recorded(operation: &str) -> bool {
    !matches!(
        operation,
        "Encrypt"
            | "DescribeKey"
            | "DescribeKeys"
            | "ListKeys"
            | "ListSecrets"
            | "DescribeSecret"
            | "ListSecretVersionIds"
            | "DescribeRotationDetail"
            | "DescribeAsyncRequestInfo"
            | "GetPublicKey"
            | "SignByAsymmetricKey"
            | "VerifyByAsymmetricKey"
            | "GenerateRandom"
            | "GetLocalCa"
            | "LookUpEvents"
            | "GetCallerPolicy"
    )
}

/// Operations whose target names keys (a KeyId, an alias, or several KeyIds).
fn names_keys(operation: &str) -> bool {
    matches!(
        operation,
        "Encrypt"
            | "Decrypt"
            | "GenerateDataKey"
            | "ReEncrypt"
            | "CreateKey"
            | "DeleteKey"
            | "ImportedKeyMaterialExpired"
            | "DescribeKey"
            | "DescribeKeys"
            | "EnableKey"
            | "DisableKey"
            | "UpdateKey"
            | "ScheduleKeyDeletion"
            | "CancelKeyDeletion"
            | "ArchiveKey"
            | "CancelKeyArchive"
            | "RotateKey"
            | "EnableKeyRotation"
            | "DisableKeyRotation"
            | "TagKey"
            | "ImportKeyMaterial"
            | "DeleteImportedKeyMaterial"
            | "GetParametersForImport"
            | "GetPublicKey"
            | "SignByAsymmetricKey"
            | "VerifyByAsymmetricKey"
            | "AsymmetricRsaDecrypt"
            | "AsymmetricSm2Decrypt"
    )
}

/// Runs `run` as `caller` may: without waiting for a save when it must not block.
fn waiting_as<T>(caller: &Caller, run: impl FnOnce() -> T) -> T {
    if caller.may_wait {
        run()
    } else {
        super::usage::without_waiting(run)
    }
}

impl KmsService for Kms {
    fn keystore_path(&self) -> Option<&Path> {
        Some(self.path())
    }

    fn create_key(&self, caller: &Caller, request: CreateKey) -> Result<KeyMetadata> {
        let alias = request.alias.clone();
        self.observed(caller, "CreateKey", &alias, || {
            Kms::create_key(self, request)
        })
    }

    fn describe_key(&self, caller: &Caller, key: &str) -> Result<KeyMetadata> {
        self.observed(caller, "DescribeKey", key, || Kms::describe_key(self, key))
    }

    fn describe_keys(&self, caller: &Caller, keys: &[String]) -> Result<Vec<KeyMetadata>> {
        self.observed(caller, "DescribeKeys", &keys.join(","), || {
            Kms::describe_keys(self, keys)
        })
    }

    fn list_keys(&self, caller: &Caller, query: &KeyQuery) -> Result<KeyPage> {
        self.observed(caller, "ListKeys", "", || Kms::list_keys(self, query))
    }

    /// Built once per keyring: a list that redraws at 100,000 keys copies nothing until a change.
    fn key_index(&self, caller: &Caller) -> Result<Arc<KeyIndex>> {
        self.observed(caller, "ListKeys", "", || {
            let keys = self.keys();
            let mut cached = self
                .key_index
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some((built_on, index)) = cached.as_ref()
                && keys.is(built_on)
            {
                return Ok(index.clone());
            }
            let index = Arc::new(KeyIndex::new(keys.iter().map(|k| k.metadata()).collect()));
            *cached = Some((keys.downgrade(), index.clone()));
            Ok(index)
        })
    }

    fn change_keys(
        &self,
        caller: &Caller,
        keys: &[String],
        change: KeyChange,
    ) -> Result<KeyChanged> {
        let target = keys.join(",");
        let action = match &change {
            KeyChange::Update { alias: Some(_), .. } => "UpdateAlias",
            KeyChange::Update { .. } => "UpdateKeyDescription",
            other => other.operation(),
        };
        self.observed_as(caller, change.operation(), action, &target, None, || {
            let one = || match keys {
                [key] => Ok(key.as_str()),
                _ => super::error::err(
                    ErrorCode::InvalidParameter,
                    keyconsole_base::text!("errors.one_key_at_a_time"),
                ),
            };
            Ok(match change {
                KeyChange::Enable => {
                    self.enable_keys(keys)?;
                    KeyChanged::Done
                }
                KeyChange::Disable => {
                    self.disable_keys(keys)?;
                    KeyChanged::Done
                }
                KeyChange::Update { alias, description } => {
                    self.update_key(one()?, alias.as_deref(), description.as_deref())?;
                    KeyChanged::Done
                }
                KeyChange::ScheduleDeletion { days } => {
                    KeyChanged::DeletionDate(self.schedule_key_deletion(one()?, days)?)
                }
                KeyChange::CancelDeletion => {
                    self.cancel_key_deletion(one()?)?;
                    KeyChanged::Done
                }
                KeyChange::Archive => {
                    self.archive_key(one()?)?;
                    KeyChanged::Done
                }
                KeyChange::Unarchive => {
                    self.cancel_key_archive(one()?)?;
                    KeyChanged::Done
                }
                KeyChange::Rotate => KeyChanged::Version(self.rotate_key(one()?)?),
                KeyChange::EnableRotation { days } => {
                    self.enable_key_rotation(one()?, days)?;
                    KeyChanged::Done
                }
                KeyChange::DisableRotation => {
                    self.disable_key_rotation(one()?)?;
                    KeyChanged::Done
                }
                KeyChange::Tag { set, remove } => {
                    self.tag_key(one()?, &set, &remove)?;
                    KeyChanged::Done
                }
                KeyChange::ImportMaterial {
                    encrypted_material,
                    token,
                    valid_to,
                } => {
                    self.import_key_material(one()?, &encrypted_material, &token, valid_to)?;
                    KeyChanged::Done
                }
                KeyChange::DeleteMaterial => {
                    self.delete_imported_key_material(one()?)?;
                    KeyChanged::Done
                }
            })
        })
    }

    fn encrypt(
        &self,
        caller: &Caller,
        key: &str,
        plaintext: &[u8],
        context: &CanonicalContext,
    ) -> Result<Encrypted> {
        self.observed_as(caller, "Encrypt", "Encrypt", key, Some(context), || {
            Kms::encrypt(self, key, plaintext, context)
        })
    }

    fn decrypt(
        &self,
        caller: &Caller,
        ciphertext_blob: &str,
        context: &CanonicalContext,
    ) -> Result<Decrypted> {
        // The key is known only once the blob is read: the event names it after the call. The
        // policy is asked about the key the blob names before anything is opened.
        // Read only when a policy will be asked: Kms::decrypt reads the blob anyway.
        let named = self.key_named_for_policy(caller, ciphertext_blob);
        let result = self
            .audit_ready("Decrypt")
            .and_then(|()| self.permit(caller, "Decrypt", &named, Some(context)))
            .and_then(|()| waiting_as(caller, || Kms::decrypt(self, ciphertext_blob, context)));
        let key_id = result.as_ref().map(|d| d.key_id.clone()).unwrap_or(named);
        self.audited(caller, "Decrypt", &key_id, Some(context), result)
    }

    fn re_encrypt(
        &self,
        caller: &Caller,
        ciphertext_blob: &str,
        destination_key: Option<&str>,
        source_context: &CanonicalContext,
        destination_context: &CanonicalContext,
    ) -> Result<ReEncrypted> {
        self.observed(caller, "ReEncrypt", destination_key.unwrap_or(""), || {
            Kms::re_encrypt(
                self,
                ciphertext_blob,
                destination_key,
                source_context,
                destination_context,
            )
        })
    }

    fn generate_data_key(
        &self,
        caller: &Caller,
        key: &str,
        spec: DataKeySpec,
        context: &CanonicalContext,
    ) -> Result<DataKey> {
        self.observed_as(
            caller,
            "GenerateDataKey",
            "GenerateDataKey",
            key,
            Some(context),
            || Kms::generate_data_key(self, key, spec, context),
        )
    }

    fn generate_random(&self, caller: &Caller, number_of_bytes: u32) -> Result<SecretBytes> {
        self.observed(caller, "GenerateRandom", "", || {
            Kms::generate_random(self, number_of_bytes)
        })
    }

    fn get_parameters_for_import(
        &self,
        caller: &Caller,
        key: &str,
        wrapping_algorithm: &str,
        wrapping_key_spec: Option<&str>,
    ) -> Result<ImportParametersOut> {
        self.observed(caller, "GetParametersForImport", key, || {
            Kms::get_parameters_for_import(self, key, wrapping_algorithm, wrapping_key_spec)
        })
    }

    fn public_key(&self, caller: &Caller, key: &str) -> Result<PublicKey> {
        self.observed(caller, "GetPublicKey", key, || Kms::public_key(self, key))
    }

    fn sign(
        &self,
        caller: &Caller,
        key: &str,
        algorithm: &str,
        message_type: MessageType,
        message: &[u8],
    ) -> Result<Vec<u8>> {
        self.observed(caller, "SignByAsymmetricKey", key, || {
            Kms::sign(self, key, algorithm, message_type, message)
        })
    }

    fn verify(
        &self,
        caller: &Caller,
        key: &str,
        algorithm: &str,
        message_type: MessageType,
        message: &[u8],
        signature: &[u8],
    ) -> Result<bool> {
        self.observed(caller, "VerifyByAsymmetricKey", key, || {
            Kms::verify(self, key, algorithm, message_type, message, signature)
        })
    }

    fn decrypt_to_public_key(
        &self,
        caller: &Caller,
        ciphertext_blob: &str,
        context: &CanonicalContext,
        public_key_pem: &str,
        algorithm: Option<&str>,
    ) -> Result<(String, Vec<u8>)> {
        // The policy is asked about the key the blob names, as for Decrypt.
        let named = self.key_named_for_policy(caller, ciphertext_blob);
        let result = self
            .audit_ready("Decrypt")
            .and_then(|()| self.permit(caller, "Decrypt", &named, Some(context)))
            .and_then(|()| {
                waiting_as(caller, || {
                    let decrypted = Kms::decrypt(self, ciphertext_blob, context)?;
                    let sealed = super::pair_ops::encrypt_for_caller(
                        public_key_pem,
                        algorithm,
                        &decrypted.plaintext,
                    )?;
                    Ok((decrypted.key_id, sealed))
                })
            });
        let key_id = result.as_ref().map(|(k, _)| k.clone()).unwrap_or(named);
        self.audited(caller, "Decrypt", &key_id, Some(context), result)
    }

    fn asymmetric_decrypt(
        &self,
        caller: &Caller,
        key: &str,
        algorithm: Option<&str>,
        ciphertext: &[u8],
    ) -> Result<Decrypted> {
        let operation = if algorithm.is_some() {
            "AsymmetricRsaDecrypt"
        } else {
            "AsymmetricSm2Decrypt"
        };
        self.observed(caller, operation, key, || {
            Kms::asymmetric_decrypt(self, key, algorithm, ciphertext)
        })
    }

    fn create_secret(&self, caller: &Caller, request: CreateSecret) -> Result<(String, String)> {
        let name = request.name.clone();
        self.observed(caller, "CreateSecret", &name, || {
            Kms::create_secret(self, request)
        })
    }

    fn get_secret_value(
        &self,
        caller: &Caller,
        name: &str,
        version_id: &str,
    ) -> Result<SecretValue> {
        self.observed(caller, "GetSecretValue", name, || {
            Kms::get_secret_value(self, name, version_id)
        })
    }

    fn describe_secret(&self, caller: &Caller, name: &str) -> Result<SecretMetadata> {
        self.observed(caller, "DescribeSecret", name, || {
            Kms::describe_secret(self, name)
        })
    }

    fn list_secrets(&self, caller: &Caller, query: &SecretQuery) -> Result<SecretPage> {
        self.observed(caller, "ListSecrets", "", || Kms::list_secrets(self, query))
    }

    fn secret_versions(&self, caller: &Caller, name: &str) -> Result<Vec<(String, i64)>> {
        self.observed(caller, "ListSecretVersionIds", name, || {
            Kms::secret_versions(self, name)
        })
    }

    fn change_secret(
        &self,
        caller: &Caller,
        name: &str,
        change: SecretChange,
    ) -> Result<SecretChanged> {
        self.observed(caller, change.operation(), name, || {
            Ok(match change {
                SecretChange::Enable => {
                    self.enable_secret(name)?;
                    SecretChanged::Done
                }
                SecretChange::Disable => {
                    self.disable_secret(name)?;
                    SecretChanged::Done
                }
                SecretChange::Restore => {
                    self.restore_secret(name)?;
                    SecretChanged::Done
                }
                SecretChange::Delete { recovery_days } => {
                    SecretChanged::DeleteTime(self.delete_secret(name, recovery_days)?)
                }
                SecretChange::DeleteVersion { version_id } => {
                    self.delete_secret_version(name, &version_id)?;
                    SecretChanged::Done
                }
                SecretChange::SetDescription(description) => {
                    self.update_secret_description(name, &description)?;
                    SecretChanged::Done
                }
                SecretChange::PutValue { version_id, value } => {
                    self.put_secret_value(name, &version_id, value)?;
                    SecretChanged::Done
                }
                SecretChange::UpdateValue { version_id, value } => {
                    self.update_secret_value(name, &version_id, value)?;
                    SecretChanged::Done
                }
                SecretChange::SetRotation {
                    enabled,
                    days,
                    begin,
                } => {
                    self.set_secret_rotation(name, enabled, days, begin)?;
                    SecretChanged::Done
                }
                SecretChange::Tag { set, remove } => {
                    self.tag_secret(name, &set, &remove)?;
                    SecretChanged::Done
                }
                SecretChange::Rotate => {
                    let record =
                        self.rotate_secret(name, &mut |_| std::ops::ControlFlow::Continue(()))?;
                    let flow_id = self.record_task(
                        name,
                        crate::secrets::TaskStatus::Succeeded,
                        &keyconsole_base::text!(
                            "errors.rotated_to_version",
                            version = record.version_id.as_str()
                        ),
                    )?;
                    SecretChanged::Rotated {
                        version_id: record.version_id,
                        flow_id,
                    }
                }
            })
        })
    }

    fn rotation_detail(&self, caller: &Caller, name: &str) -> Result<RotationDetail> {
        self.observed(caller, "DescribeRotationDetail", name, || {
            Kms::rotation_detail(self, name)
        })
    }

    fn create_database_secret(
        &self,
        caller: &Caller,
        request: CreateDatabaseSecret,
    ) -> Result<(String, String)> {
        let name = request.name.clone();
        self.observed(caller, "CreateProductSecret", &name, || {
            Kms::create_database_secret(self, request)
        })
    }

    fn create_product_secret(
        &self,
        caller: &Caller,
        request: CreateProductSecret,
    ) -> Result<(String, u64)> {
        let name = request.name.clone();
        self.observed(caller, "CreateProductSecret", &name, || {
            Kms::create_product_secret(self, request)
        })
    }

    fn product_task(&self, caller: &Caller, flow_id: u64) -> Result<ProductTask> {
        self.observed(
            caller,
            "DescribeAsyncRequestInfo",
            &flow_id.to_string(),
            || Kms::product_task(self, flow_id),
        )
    }

    fn create_ssh_key_pair_secret(
        &self,
        caller: &Caller,
        request: CreateSshKeyPairSecret,
    ) -> Result<(String, SshKeyPair)> {
        let name = request.name.clone();
        self.observed(caller, "CreateSSHKeyPairSecret", &name, || {
            Kms::create_ssh_key_pair_secret(self, request)
        })
    }

    fn ssh_key_pair_value(
        &self,
        caller: &Caller,
        name: Option<&str>,
        key_id: Option<&str>,
    ) -> Result<(SshKeyPair, String, Zeroizing<String>)> {
        let target = name.or(key_id).unwrap_or_default();
        self.observed(caller, "GetSSHKeyPairValue", target, || {
            Kms::ssh_key_pair_value(self, name, key_id)
        })
    }

    fn test_database_login(
        &self,
        caller: &Caller,
        endpoint: &DbEndpoint,
        password: &str,
    ) -> Result<()> {
        self.observed(caller, "TestDatabaseLogin", &endpoint.to_string(), || {
            self.check_database_login(endpoint, password)
        })
    }

    fn look_up_events(
        &self,
        caller: &Caller,
        query: &super::audit::AuditQuery,
    ) -> Result<super::audit::AuditPage> {
        self.observed(caller, "LookUpEvents", "", || self.audit_page(query))
    }

    fn caller_policy(&self, caller: &Caller) -> Result<Option<super::policy::CallerPolicy>> {
        // Not `observed`: no policy is asked whether a caller may read its own.
        let result = self.audit_ready("GetCallerPolicy").map(|()| {
            if !self.has_policy(caller) {
                return None;
            }
            self.ring()
                .user_signing_with(&caller.principal)
                .map(|u| super::policy::CallerPolicy {
                    user: u.name.clone(),
                    policy: u.policy.clone(),
                    source_ip: caller.source,
                })
        });
        self.audited(caller, "GetCallerPolicy", "", None, result)
    }
}
