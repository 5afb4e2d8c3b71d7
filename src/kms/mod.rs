//! The engine: every KMS rule lives here, once. The GUI, the CLI and the API translate their input
//! into these calls and the results and errors back; none of them knows a rule of its own.

pub mod blob;
pub mod chunked;
pub mod credentials;
pub mod crypto;
pub mod error;
pub mod file;
pub mod key;

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use serde::{Deserialize, Serialize};
use uuid::Uuid;
use zeroize::Zeroizing;

pub use blob::{Blob, CanonicalContext};
pub use credentials::ApiCredentials;
pub use error::{ErrorCode, KmsError, Result};
pub use key::{KeyMetadata, KeyOrigin, KeyRecord, KeyState, KeyUsage, KeyVersion};

use crate::store::{KdfParams, Store, ZeroizingWriter};
use error::err;
use key::{
    PENDING_WINDOW_MAX_DAYS, PENDING_WINDOW_MIN_DAYS, ROTATE_DAYS_DEFAULT, SECONDS_PER_DAY,
    validate_alias, validate_description, validate_rotate_days,
};

/// Encrypt takes 1 to 4096 bytes of plaintext.
pub const PLAINTEXT_MAX_BYTES: usize = 4096;
/// Batch enable/disable takes up to 100 keys.
pub const BATCH_MAX_KEYS: usize = 100;
/// GenerateDataKey's NumberOfBytes and GenerateRandom's NumberOfBytes: 1 to 1024.
pub const RANDOM_MAX_BYTES: u32 = 1024;
/// ListKeyDetail returns at most 200 keys a page.
pub const LIST_LIMIT_MAX: usize = 200;
/// Random 96-bit nonces are safe for 2^32 encryptions under one key (NIST SP 800-38D). We rotate a
/// version at half that, which leaves room for encryptions other processes have not saved yet…
pub const ROTATE_AFTER_ENCRYPTIONS: u64 = 1 << 31;
/// …and refuse outright well before the limit, should rotation somehow not have happened.
pub const REFUSE_AFTER_ENCRYPTIONS: u64 = (1 << 32) - (1 << 28);
/// Encryption counts are saved with the next change, or on their own once this many piled up.
pub const SAVE_USAGE_AFTER: u64 = 1 << 12;

/// Seconds since the Unix epoch. Injected so tests can move time forward.
pub trait Clock: Send + Sync {
    fn now(&self) -> i64;
}

#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0)
    }
}

/// The keystore body as serialized (inside the encryption).
#[derive(Default, Serialize, Deserialize)]
struct Body {
    #[serde(default)]
    keys: Vec<KeyRecord>,
    /// Added with the loopback API; older keystores have none until first use.
    #[serde(default)]
    api_credentials: Option<ApiCredentials>,
}

/// The keys in memory, with indexes by id and by (case-folded) alias.
#[derive(Default)]
struct Keyring {
    keys: Vec<KeyRecord>,
    by_id: HashMap<Uuid, usize>,
    by_alias: HashMap<String, usize>,
    api_credentials: Option<ApiCredentials>,
}

impl Keyring {
    fn from_body(body: Body) -> Self {
        let mut ring = Keyring {
            keys: body.keys,
            api_credentials: body.api_credentials,
            ..Keyring::default()
        };
        ring.reindex();
        ring
    }

    fn reindex(&mut self) {
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

    fn alias_taken(&self, alias: &str, except: Option<usize>) -> bool {
        self.by_alias
            .get(&alias.to_ascii_lowercase())
            .is_some_and(|&i| Some(i) != except)
    }

    fn encode(&self) -> Result<Zeroizing<Vec<u8>>> {
        let mut writer = ZeroizingWriter::with_capacity(256 + self.keys.len() * 512);
        #[derive(Serialize)]
        struct BodyRef<'a> {
            keys: &'a [KeyRecord],
            #[serde(skip_serializing_if = "Option::is_none")]
            api_credentials: Option<&'a ApiCredentials>,
        }
        let body = BodyRef {
            keys: &self.keys,
            api_credentials: self.api_credentials.as_ref(),
        };
        serde_json::to_writer(&mut writer, &body).map_err(|e| {
            KmsError::new(
                ErrorCode::InternalError,
                format!("Serializing the keystore failed: {e}."),
            )
        })?;
        Ok(writer.into_inner())
    }

    fn decode(bytes: &[u8], path: &Path) -> Result<Keyring> {
        let body: Body = serde_json::from_slice(bytes).map_err(|_| {
            KmsError::new(
                ErrorCode::KeystoreDamaged,
                format!(
                    "{} decrypts but its contents cannot be read.",
                    path.display()
                ),
            )
        })?;
        if body.keys.iter().any(|k| k.versions.is_empty()) {
            return err(
                ErrorCode::KeystoreDamaged,
                format!("{} holds a key without key material.", path.display()),
            );
        }
        Ok(Keyring::from_body(body))
    }

    /// Encryption counts this process has not saved yet, to carry over when the file is re-read.
    fn unsaved_usage(&self) -> Vec<(Uuid, usize, u64)> {
        let mut usage = Vec::new();
        for key in &self.keys {
            for (i, version) in key.versions.iter().enumerate() {
                let n = version.unsaved_encryptions.load(Ordering::Relaxed);
                if n > 0 {
                    usage.push((key.key_id, i, n));
                }
            }
        }
        usage
    }

    fn add_unsaved_usage(&mut self, usage: &[(Uuid, usize, u64)]) {
        for &(key_id, index, n) in usage {
            if let Some(version) = self
                .by_id
                .get(&key_id)
                .and_then(|&k| self.keys[k].versions.get(index))
            {
                version.unsaved_encryptions.fetch_add(n, Ordering::Relaxed);
            }
        }
    }

    /// Moves the unsaved counts into the saved ones, right before a save.
    fn fold_usage(&mut self) {
        for version in self.keys.iter_mut().flat_map(|k| k.versions.iter_mut()) {
            let n = version.unsaved_encryptions.swap(0, Ordering::Relaxed);
            version.encryptions = version.encryptions.saturating_add(n);
        }
    }
}

/// Sort order of key lists, by creation time (ListKeyDetail's OrderType 0 and 1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Order {
    #[default]
    NewestFirst,
    OldestFirst,
}

/// A filtered, sorted, paged listing (ListKeys / ListKeyDetail).
#[derive(Debug, Clone, Default)]
pub struct KeyQuery {
    pub state: Option<KeyState>,
    /// Case-insensitive substring of the KeyId or the alias.
    pub search: Option<String>,
    pub order: Order,
    pub offset: usize,
    /// At most `LIST_LIMIT_MAX` when given; `None` lists every match.
    pub limit: Option<usize>,
}

#[derive(Debug, Clone, Default)]
pub struct KeyPage {
    /// Matches before paging.
    pub total: usize,
    pub keys: Vec<KeyMetadata>,
}

#[derive(Debug, Clone, Default)]
pub struct CreateKey {
    pub alias: String,
    pub description: String,
    /// Only `ENCRYPT_DECRYPT` (the default) is supported.
    pub key_usage: Option<String>,
    /// Some(days) turns automatic rotation on.
    pub rotate_days: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encrypted {
    pub key_id: String,
    pub ciphertext_blob: String,
}

pub struct Decrypted {
    pub key_id: String,
    pub plaintext: Zeroizing<Vec<u8>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReEncrypted {
    pub ciphertext_blob: String,
    pub key_id: String,
    pub source_key_id: String,
    /// Whether the new ciphertext is under another key, a newer version or another context.
    pub re_encrypted: bool,
}

pub struct DataKey {
    pub key_id: String,
    pub plaintext: Zeroizing<Vec<u8>>,
    pub ciphertext_blob: String,
}

/// What automatic maintenance did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Maintenance {
    pub rotated: Vec<String>,
    pub destroyed: Vec<String>,
}

impl Maintenance {
    pub fn is_empty(&self) -> bool {
        self.rotated.is_empty() && self.destroyed.is_empty()
    }
}

/// The engine over one unlocked keystore.
pub struct Kms {
    store: Store,
    ring: Keyring,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Kms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kms")
            .field("store", &self.store)
            .field("keys", &self.ring.keys.len())
            .finish_non_exhaustive()
    }
}

/// One engine shared by faces running side by side in a process (the console and its API server):
/// reads (encrypt, decrypt, describe, list) run together; changes take turns.
#[derive(Debug, Clone)]
pub struct SharedKms(Arc<RwLock<Kms>>);

impl SharedKms {
    pub fn new(kms: Kms) -> Self {
        Self(Arc::new(RwLock::new(kms)))
    }

    /// A panic while holding the lock cannot leave a half-made change behind (every change checks
    /// before it mutates, and a failed save reloads the file), so a poisoned lock is still usable.
    pub fn read(&self) -> RwLockReadGuard<'_, Kms> {
        self.0.read().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn write(&self) -> RwLockWriteGuard<'_, Kms> {
        self.0.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// A read guard on an engine that has caught up with changes other processes saved, so a key
    /// disabled by the CLI a moment ago is refused here too. One `stat` when nothing changed.
    pub fn read_current(&self) -> Result<RwLockReadGuard<'_, Kms>> {
        {
            let kms = self.read();
            if kms.is_current() {
                return Ok(kms);
            }
        }
        self.write().refresh()?;
        Ok(self.read())
    }
}

fn state_error(key: &KeyRecord, action: &str) -> KmsError {
    let name = format!("Key {} ({})", key.alias, key.key_id);
    match key.state {
        KeyState::Disabled => KmsError::new(
            ErrorCode::CmkDisabled,
            format!("{name} is disabled; enable it to {action}."),
        ),
        KeyState::Archived => KmsError::new(
            ErrorCode::CmkArchived,
            format!("{name} is archived; unarchive it to {action}."),
        ),
        KeyState::PendingDelete => KmsError::new(
            ErrorCode::CmkStateNotSupport,
            format!("{name} is pending deletion; cancel the deletion to {action}."),
        ),
        KeyState::Enabled => KmsError::new(
            ErrorCode::CmkStateNotSupport,
            format!("{name} is enabled, which does not allow this; cannot {action}."),
        ),
    }
}

/// Case-insensitive (ASCII) substring test without allocating; keys ids and aliases are ASCII.
fn contains_ignore_case(haystack: &str, needle_lower: &str) -> bool {
    let (h, n) = (haystack.as_bytes(), needle_lower.as_bytes());
    n.is_empty()
        || h.windows(n.len())
            .any(|w| w.iter().zip(n).all(|(a, b)| a.to_ascii_lowercase() == *b))
}

fn check_plaintext(plaintext: &[u8]) -> Result<()> {
    if plaintext.is_empty() {
        return err(
            ErrorCode::InvalidPlaintext,
            "The plaintext is empty; give 1 to 4096 bytes.",
        );
    }
    if plaintext.len() > PLAINTEXT_MAX_BYTES {
        return err(
            ErrorCode::InvalidPlaintext,
            format!(
                "The plaintext is {} bytes; at most {PLAINTEXT_MAX_BYTES} can be encrypted directly (use file encryption for more).",
                plaintext.len()
            ),
        );
    }
    Ok(())
}

fn check_random_len(n: u32, what: &str) -> Result<usize> {
    if !(1..=RANDOM_MAX_BYTES).contains(&n) {
        return err(
            ErrorCode::InvalidParameterValue,
            format!("{what} is {n}; it must be between 1 and {RANDOM_MAX_BYTES}."),
        );
    }
    Ok(n as usize)
}

impl Kms {
    /// Creates a keystore at `path` protected by `password` and opens it.
    pub fn create(path: &Path, password: &[u8], kdf: KdfParams) -> Result<Kms> {
        Self::create_with_clock(path, password, kdf, Arc::new(SystemClock))
    }

    pub fn create_with_clock(
        path: &Path,
        password: &[u8],
        kdf: KdfParams,
        clock: Arc<dyn Clock>,
    ) -> Result<Kms> {
        let ring = Keyring::default();
        let store = Store::create(path, password, kdf, ring.encode()?)?;
        Ok(Kms { store, ring, clock })
    }

    /// Unlocks the keystore at `path`, then carries out any rotation or deletion that fell due.
    pub fn open(path: &Path, password: &[u8]) -> Result<Kms> {
        Self::open_with_clock(path, password, Arc::new(SystemClock))
    }

    pub fn open_with_clock(path: &Path, password: &[u8], clock: Arc<dyn Clock>) -> Result<Kms> {
        let (store, body) = Store::open(path, password)?;
        let ring = Keyring::decode(&body, path)?;
        drop(body);
        let mut kms = Kms { store, ring, clock };
        kms.maintain()?;
        Ok(kms)
    }

    pub fn path(&self) -> &Path {
        self.store.path()
    }

    /// The keystore's save counter; it moves whenever anyone saves.
    pub fn generation(&self) -> u64 {
        self.store.generation()
    }

    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// The engine's clock, for faces that time-stamp what they do (the API's access log).
    pub fn clock(&self) -> Arc<dyn Clock> {
        self.clock.clone()
    }

    /// Whether no other process saved since we last read the file (one `stat`). When it says no,
    /// call `refresh`.
    pub fn is_current(&self) -> bool {
        self.store.is_current()
    }

    /// Picks up changes another process saved. Cheap (one `stat`) when there are none.
    pub fn refresh(&mut self) -> Result<bool> {
        match self.store.read_if_changed()? {
            Some(body) => {
                self.replace_ring(&body)?;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    fn replace_ring(&mut self, body: &[u8]) -> Result<()> {
        let usage = self.ring.unsaved_usage();
        let mut ring = Keyring::decode(body, self.store.path())?;
        ring.add_unsaved_usage(&usage);
        self.ring = ring;
        Ok(())
    }

    /// One change: lock, catch up with the file, apply, save, unlock. `change` must check everything
    /// before it mutates, so a refused change leaves memory and disk as they were.
    fn transact<T>(&mut self, change: impl FnOnce(&mut Keyring, i64) -> Result<T>) -> Result<T> {
        let guard = self.store.lock()?;
        self.refresh()?;
        let now = self.clock.now();
        let out = change(&mut self.ring, now)?;
        self.ring.fold_usage();
        let saved = self
            .ring
            .encode()
            .and_then(|body| self.store.save(&guard, body));
        if let Err(e) = saved {
            // Memory ran ahead of the disk; go back to what the disk holds.
            self.store.forget_stamp();
            let _ = self.refresh();
            return Err(e);
        }
        Ok(out)
    }

    /// A transaction on one key: resolve it after catching up with the file, then change it.
    fn change_key<T>(
        &mut self,
        key: &str,
        change: impl FnOnce(&mut KeyRecord, i64) -> Result<T>,
    ) -> Result<T> {
        self.transact(|ring, now| {
            let i = Self::resolve_in(ring, key)?;
            change(&mut ring.keys[i], now)
        })
    }

    fn resolve_in(ring: &Keyring, key: &str) -> Result<usize> {
        let key = key.trim();
        if key.is_empty() {
            return err(
                ErrorCode::MissingParameter,
                "KeyId is missing; give a KeyId or an alias.",
            );
        }
        if let Ok(id) = Uuid::parse_str(key) {
            return ring.by_id.get(&id).copied().ok_or_else(|| {
                KmsError::new(
                    ErrorCode::CmkNotFound,
                    format!("No key has the KeyId {key}."),
                )
            });
        }
        if validate_alias(key).is_err() {
            return err(
                ErrorCode::InvalidKeyId,
                "That is neither a KeyId (a UUID) nor a valid alias.",
            );
        }
        ring.by_alias
            .get(&key.to_ascii_lowercase())
            .copied()
            .ok_or_else(|| {
                KmsError::new(
                    ErrorCode::CmkNotFound,
                    format!("No key has the alias {key}."),
                )
            })
    }

    fn key(&self, key: &str) -> Result<&KeyRecord> {
        Ok(&self.ring.keys[Self::resolve_in(&self.ring, key)?])
    }

    /// Every key, in keystore order (creation order).
    pub fn keys(&self) -> &[KeyRecord] {
        &self.ring.keys
    }

    // ---- key management ----

    pub fn create_key(&mut self, request: CreateKey) -> Result<KeyMetadata> {
        validate_alias(&request.alias)?;
        validate_description(&request.description)?;
        if let Some(usage) = request.key_usage.as_deref().filter(|u| !u.is_empty())
            && usage != KeyUsage::EncryptDecrypt.as_str()
        {
            return err(
                ErrorCode::InvalidParameterValue,
                format!("KeyUsage {usage} is not supported; use ENCRYPT_DECRYPT."),
            );
        }
        if let Some(days) = request.rotate_days {
            validate_rotate_days(days)?;
        }
        self.transact(|ring, now| {
            if ring.alias_taken(&request.alias, None) {
                return err(
                    ErrorCode::AliasAlreadyExists,
                    format!(
                        "The alias {} is already used by another key.",
                        request.alias
                    ),
                );
            }
            let record = KeyRecord {
                key_id: Uuid::new_v4(),
                alias: request.alias,
                description: request.description,
                state: KeyState::Enabled,
                usage: KeyUsage::EncryptDecrypt,
                origin: KeyOrigin::Generated,
                create_time: now,
                rotation_enabled: request.rotate_days.is_some(),
                rotate_days: request.rotate_days.unwrap_or(ROTATE_DAYS_DEFAULT),
                last_rotate_time: 0,
                next_rotate_time: request
                    .rotate_days
                    .map_or(0, |d| now + i64::from(d) * SECONDS_PER_DAY),
                deletion_date: 0,
                versions: vec![KeyVersion::new(crypto::random_key(), now)],
            };
            let metadata = record.metadata();
            ring.by_id.insert(record.key_id, ring.keys.len());
            ring.by_alias
                .insert(record.alias.to_ascii_lowercase(), ring.keys.len());
            ring.keys.push(record);
            Ok(metadata)
        })
    }

    pub fn describe_key(&self, key: &str) -> Result<KeyMetadata> {
        Ok(self.key(key)?.metadata())
    }

    pub fn list_keys(&self, query: &KeyQuery) -> Result<KeyPage> {
        let matches = self.matching_keys(query)?;
        let total = matches.len();
        let keys = matches
            .into_iter()
            .skip(query.offset)
            .take(query.limit.unwrap_or(usize::MAX))
            .map(|i| self.ring.keys[i].metadata())
            .collect();
        Ok(KeyPage { total, keys })
    }

    /// Positions in `keys()` of every key the query matches, sorted, before paging. Lets a face
    /// show 100,000 keys without copying them.
    pub fn matching_keys(&self, query: &KeyQuery) -> Result<Vec<usize>> {
        if let Some(limit) = query.limit
            && !(1..=LIST_LIMIT_MAX).contains(&limit)
        {
            return err(
                ErrorCode::InvalidParameterValue,
                format!("Limit is {limit}; it must be between 1 and {LIST_LIMIT_MAX}."),
            );
        }
        let needle = query
            .search
            .as_deref()
            .map(|s| s.trim().to_ascii_lowercase())
            .unwrap_or_default();
        let mut id_text = [0u8; uuid::fmt::Hyphenated::LENGTH];
        let mut matches: Vec<usize> = self
            .ring
            .keys
            .iter()
            .enumerate()
            .filter(|(_, k)| query.state.is_none_or(|s| k.state == s))
            .filter(|(_, k)| {
                needle.is_empty()
                    || contains_ignore_case(&k.alias, &needle)
                    || contains_ignore_case(
                        k.key_id.hyphenated().encode_lower(&mut id_text),
                        &needle,
                    )
            })
            .map(|(i, _)| i)
            .collect();
        // Stable sorts: keys made in the same second keep their creation order.
        let created = |i: &usize| self.ring.keys[*i].create_time;
        match query.order {
            Order::OldestFirst => matches.sort_by_key(created),
            Order::NewestFirst => {
                matches.reverse();
                matches.sort_by_key(|i| std::cmp::Reverse(created(i)));
            }
        }
        Ok(matches)
    }

    /// Would `alias` be accepted for a new key (or, with `except`, as the new alias of that key)?
    /// For live validation in forms; the change itself checks again.
    pub fn check_alias(&self, alias: &str, except: Option<&str>) -> Result<()> {
        validate_alias(alias)?;
        let except = match except {
            Some(key) => Some(Self::resolve_in(&self.ring, key)?),
            None => None,
        };
        if self.ring.alias_taken(alias, except) {
            return err(
                ErrorCode::AliasAlreadyExists,
                format!("The alias {alias} is already used by another key."),
            );
        }
        Ok(())
    }

    pub fn update_alias(&mut self, key: &str, alias: &str) -> Result<()> {
        self.update_key(key, Some(alias), None)
    }

    pub fn update_description(&mut self, key: &str, description: &str) -> Result<()> {
        self.update_key(key, None, Some(description))
    }

    /// Changes the alias, the description or both, in one step: both apply or neither does.
    pub fn update_key(
        &mut self,
        key: &str,
        alias: Option<&str>,
        description: Option<&str>,
    ) -> Result<()> {
        if let Some(alias) = alias {
            validate_alias(alias)?;
        }
        if let Some(description) = description {
            validate_description(description)?;
        }
        self.transact(|ring, _| {
            let i = Self::resolve_in(ring, key)?;
            if let Some(alias) = alias {
                if ring.alias_taken(alias, Some(i)) {
                    return err(
                        ErrorCode::AliasAlreadyExists,
                        format!("The alias {alias} is already used by another key."),
                    );
                }
                let old = std::mem::replace(&mut ring.keys[i].alias, alias.to_owned());
                ring.by_alias.remove(&old.to_ascii_lowercase());
                ring.by_alias.insert(alias.to_ascii_lowercase(), i);
            }
            if let Some(description) = description {
                ring.keys[i].description = description.to_owned();
            }
            Ok(())
        })
    }

    pub fn enable_key(&mut self, key: &str) -> Result<()> {
        self.set_keys_enabled(&[key], true)
    }

    pub fn disable_key(&mut self, key: &str) -> Result<()> {
        self.set_keys_enabled(&[key], false)
    }

    /// EnableKeys: all or nothing, up to 100 keys.
    pub fn enable_keys<S: AsRef<str>>(&mut self, keys: &[S]) -> Result<()> {
        self.set_keys_enabled(keys, true)
    }

    /// DisableKeys: all or nothing, up to 100 keys.
    pub fn disable_keys<S: AsRef<str>>(&mut self, keys: &[S]) -> Result<()> {
        self.set_keys_enabled(keys, false)
    }

    /// EnableKeys or DisableKeys, as `enable` says.
    pub fn set_keys_enabled<S: AsRef<str>>(&mut self, keys: &[S], enable: bool) -> Result<()> {
        if keys.is_empty() {
            return err(ErrorCode::MissingParameter, "No keys were given.");
        }
        if keys.len() > BATCH_MAX_KEYS {
            return err(
                ErrorCode::InvalidParameterValue,
                format!(
                    "{} keys were given; at most {BATCH_MAX_KEYS} can be changed at once.",
                    keys.len()
                ),
            );
        }
        self.transact(|ring, _| {
            let mut targets = Vec::with_capacity(keys.len());
            for key in keys {
                let i = Self::resolve_in(ring, key.as_ref())?;
                let record = &ring.keys[i];
                match record.state {
                    KeyState::Enabled | KeyState::Disabled => targets.push(i),
                    _ => {
                        return Err(state_error(
                            record,
                            if enable { "enable it" } else { "disable it" },
                        ));
                    }
                }
            }
            let state = if enable {
                KeyState::Enabled
            } else {
                KeyState::Disabled
            };
            for i in targets {
                ring.keys[i].state = state;
            }
            Ok(())
        })
    }

    /// Schedules a Disabled key's destruction in 7 to 30 days; returns the deletion date.
    pub fn schedule_key_deletion(&mut self, key: &str, pending_window_days: u32) -> Result<i64> {
        if !(PENDING_WINDOW_MIN_DAYS..=PENDING_WINDOW_MAX_DAYS).contains(&pending_window_days) {
            return err(
                ErrorCode::InvalidPendingWindowInDays,
                format!(
                    "PendingWindowInDays is {pending_window_days}; it must be between {PENDING_WINDOW_MIN_DAYS} and {PENDING_WINDOW_MAX_DAYS}."
                ),
            );
        }
        self.change_key(key, |record, now| match record.state {
            KeyState::Disabled => {
                record.state = KeyState::PendingDelete;
                record.deletion_date = now + i64::from(pending_window_days) * SECONDS_PER_DAY;
                Ok(record.deletion_date)
            }
            KeyState::PendingDelete => Err(KmsError::new(
                ErrorCode::CmkStateNotSupport,
                format!("Key {} is already pending deletion.", record.alias),
            )),
            _ => Err(KmsError::new(
                ErrorCode::CmkShouldBeDisabled,
                format!(
                    "Key {} must be disabled before its deletion can be scheduled.",
                    record.alias
                ),
            )),
        })
    }

    /// Cancels a scheduled deletion; the key goes back to Disabled, never straight to Enabled.
    pub fn cancel_key_deletion(&mut self, key: &str) -> Result<()> {
        self.change_key(key, |record, _| {
            if record.state != KeyState::PendingDelete {
                return err(
                    ErrorCode::CmkNotPendingDelete,
                    format!("Key {} is not pending deletion.", record.alias),
                );
            }
            record.state = KeyState::Disabled;
            record.deletion_date = 0;
            Ok(())
        })
    }

    /// Archives an Enabled key: it still decrypts but no longer encrypts.
    pub fn archive_key(&mut self, key: &str) -> Result<()> {
        self.change_key(key, |record, _| match record.state {
            KeyState::Enabled | KeyState::Archived => {
                record.state = KeyState::Archived;
                Ok(())
            }
            _ => Err(state_error(record, "archive it")),
        })
    }

    pub fn cancel_key_archive(&mut self, key: &str) -> Result<()> {
        self.change_key(key, |record, _| {
            if record.state != KeyState::Archived {
                return err(
                    ErrorCode::CmkStateNotSupport,
                    format!("Key {} is not archived.", record.alias),
                );
            }
            record.state = KeyState::Enabled;
            Ok(())
        })
    }

    /// Adds a new key version now; returns its number. Old ciphertexts still decrypt.
    pub fn rotate_key(&mut self, key: &str) -> Result<u32> {
        self.change_key(key, |record, now| {
            if record.state != KeyState::Enabled {
                return Err(state_error(record, "rotate it"));
            }
            Ok(rotate(record, now))
        })
    }

    pub fn enable_key_rotation(&mut self, key: &str, rotate_days: Option<u32>) -> Result<()> {
        let days = rotate_days.unwrap_or(ROTATE_DAYS_DEFAULT);
        validate_rotate_days(days)?;
        self.change_key(key, |record, now| {
            if record.state == KeyState::PendingDelete {
                return Err(state_error(record, "change its rotation"));
            }
            record.rotation_enabled = true;
            record.rotate_days = days;
            record.next_rotate_time = now + i64::from(days) * SECONDS_PER_DAY;
            Ok(())
        })
    }

    pub fn disable_key_rotation(&mut self, key: &str) -> Result<()> {
        self.change_key(key, |record, _| {
            if record.state == KeyState::PendingDelete {
                return Err(state_error(record, "change its rotation"));
            }
            record.rotation_enabled = false;
            record.next_rotate_time = 0;
            Ok(())
        })
    }

    pub fn get_key_rotation_status(&self, key: &str) -> Result<bool> {
        Ok(self.key(key)?.rotation_enabled)
    }

    /// Is there due rotation, deletion, or a pile of unsaved encryption counts?
    fn maintenance_due(&self, now: i64) -> bool {
        self.ring.keys.iter().any(|k| {
            (k.state == KeyState::PendingDelete && k.deletion_date <= now)
                || (k.state == KeyState::Enabled && rotation_due(k, now))
                || k.versions
                    .iter()
                    .any(|v| v.unsaved_encryptions.load(Ordering::Relaxed) >= SAVE_USAGE_AFTER)
        })
    }

    /// Destroys keys whose deletion date has passed and rotates keys that are due. Runs at unlock;
    /// long-running faces call it now and then (it is a no-op when nothing is due).
    pub fn maintain(&mut self) -> Result<Maintenance> {
        if !self.maintenance_due(self.clock.now()) {
            return Ok(Maintenance::default());
        }
        self.transact(|ring, now| {
            let mut done = Maintenance::default();
            ring.keys.retain(|k| {
                let expired = k.state == KeyState::PendingDelete && k.deletion_date <= now;
                if expired {
                    done.destroyed.push(k.key_id.to_string());
                }
                !expired // dropping the record wipes its key material
            });
            for record in ring
                .keys
                .iter_mut()
                .filter(|k| k.state == KeyState::Enabled)
            {
                if rotation_due(record, now) {
                    rotate(record, now);
                    done.rotated.push(record.key_id.to_string());
                }
            }
            if !done.destroyed.is_empty() {
                ring.reindex();
            }
            Ok(done)
        })
    }

    /// Saves the encryption counts of this process now (long-running faces call it on exit).
    pub fn flush_usage(&mut self) -> Result<()> {
        if self.ring.unsaved_usage().is_empty() {
            return Ok(());
        }
        self.transact(|_, _| Ok(()))
    }

    // ---- cryptography ----

    /// Encrypt: 1 to 4096 bytes under the key's newest version, bound to `context`.
    pub fn encrypt(
        &self,
        key: &str,
        plaintext: &[u8],
        context: &CanonicalContext,
    ) -> Result<Encrypted> {
        let record = self.key(key)?;
        if record.state != KeyState::Enabled {
            return Err(state_error(record, "encrypt"));
        }
        check_plaintext(plaintext)?;
        let blob = seal_blob(record, plaintext, context)?;
        Ok(Encrypted {
            key_id: record.key_id.to_string(),
            ciphertext_blob: blob,
        })
    }

    /// Decrypt: the blob names its key and version, so no KeyId is needed. Any tampering, a foreign
    /// blob or another context is `FailedOperation.DecryptError`; never partial plaintext.
    pub fn decrypt(&self, ciphertext_blob: &str, context: &CanonicalContext) -> Result<Decrypted> {
        let blob = Blob::decode(ciphertext_blob)?;
        let (record, plaintext) = self.open_blob(&blob, context)?;
        Ok(Decrypted {
            key_id: record.key_id.to_string(),
            plaintext,
        })
    }

    fn open_blob(
        &self,
        blob: &Blob,
        context: &CanonicalContext,
    ) -> Result<(&KeyRecord, Zeroizing<Vec<u8>>)> {
        let Some(&i) = self.ring.by_id.get(&blob.key_id) else {
            return err(
                ErrorCode::DecryptError,
                "The ciphertext was made with a key this keystore does not hold (another keystore, or a deleted key).",
            );
        };
        let record = &self.ring.keys[i];
        if !matches!(record.state, KeyState::Enabled | KeyState::Archived) {
            return Err(state_error(record, "decrypt"));
        }
        let Some(version) = record.version(blob.version) else {
            return err(
                ErrorCode::DecryptError,
                "The ciphertext names a key version that does not exist.",
            );
        };
        let aad = Blob::aad(&blob.key_id, blob.version, context);
        let mut buf = Zeroizing::new(blob.sealed.clone());
        crypto::open_in_place(version.material(), &blob.nonce, &aad, &mut buf).map_err(|_| {
            KmsError::new(
                ErrorCode::DecryptError,
                "Decryption failed: the ciphertext was changed, or the encryption context differs from the one used to encrypt.",
            )
        })?;
        Ok((record, buf))
    }

    /// ReEncrypt: decrypt, then encrypt under the newest version of `destination` (default: the same key).
    pub fn re_encrypt(
        &self,
        ciphertext_blob: &str,
        destination: Option<&str>,
        source_context: &CanonicalContext,
        destination_context: &CanonicalContext,
    ) -> Result<ReEncrypted> {
        let blob = Blob::decode(ciphertext_blob)?;
        let (source, plaintext) = self.open_blob(&blob, source_context)?;
        let target = match destination.map(str::trim).filter(|d| !d.is_empty()) {
            Some(d) => self.key(d)?,
            None => source,
        };
        if target.state != KeyState::Enabled {
            return Err(state_error(target, "encrypt"));
        }
        let new_blob = seal_blob(target, &plaintext, destination_context)?;
        let (newest, _) = target.newest_version();
        Ok(ReEncrypted {
            ciphertext_blob: new_blob,
            key_id: target.key_id.to_string(),
            source_key_id: source.key_id.to_string(),
            re_encrypted: target.key_id != source.key_id
                || newest != blob.version
                || source_context != destination_context,
        })
    }

    /// GenerateDataKey: a fresh random key, returned in plaintext and sealed under the CMK.
    /// NumberOfBytes (1..=1024) wins over KeySpec (AES_256 or AES_128); one of them is required.
    pub fn generate_data_key(
        &self,
        key: &str,
        key_spec: Option<&str>,
        number_of_bytes: Option<u32>,
        context: &CanonicalContext,
    ) -> Result<DataKey> {
        let record = self.key(key)?;
        if record.state != KeyState::Enabled {
            return Err(state_error(record, "generate a data key"));
        }
        let len = match (
            number_of_bytes,
            key_spec.map(str::trim).filter(|s| !s.is_empty()),
        ) {
            (Some(n), _) => check_random_len(n, "NumberOfBytes")?,
            (None, Some("AES_256")) => 32,
            (None, Some("AES_128")) => 16,
            (None, Some(other)) => {
                return err(
                    ErrorCode::InvalidParameterValue,
                    format!("KeySpec {other} is not supported; use AES_256 or AES_128."),
                );
            }
            (None, None) => {
                return err(
                    ErrorCode::MissingParameter,
                    "Give KeySpec or NumberOfBytes.",
                );
            }
        };
        let mut plaintext = Zeroizing::new(vec![0u8; len]);
        crypto::fill_random(&mut plaintext);
        let blob = seal_blob(record, &plaintext, context)?;
        Ok(DataKey {
            key_id: record.key_id.to_string(),
            plaintext,
            ciphertext_blob: blob,
        })
    }

    /// GenerateRandom: 1 to 1024 bytes from the OS CSPRNG.
    pub fn generate_random(&self, number_of_bytes: u32) -> Result<Zeroizing<Vec<u8>>> {
        let len = check_random_len(number_of_bytes, "NumberOfBytes")?;
        let mut out = Zeroizing::new(vec![0u8; len]);
        crypto::fill_random(&mut out);
        Ok(out)
    }

    // ---- the loopback API's credentials ----

    /// The API credentials if they were ever made (the console shows them; nothing is created).
    pub fn existing_api_credentials(&self) -> Option<&ApiCredentials> {
        self.ring.api_credentials.as_ref()
    }

    /// The API credentials, made and saved on first use.
    pub fn api_credentials(&mut self) -> Result<ApiCredentials> {
        if let Some(existing) = &self.ring.api_credentials {
            return Ok(existing.clone());
        }
        self.transact(|ring, now| {
            // Another process may have made them since we last looked.
            Ok(ring
                .api_credentials
                .get_or_insert_with(|| ApiCredentials::generate(now))
                .clone())
        })
    }

    /// Replaces the API credentials with a new pair; the old SecretKey stops working at once.
    pub fn rotate_api_credentials(&mut self) -> Result<ApiCredentials> {
        self.transact(|ring, now| {
            let fresh = ApiCredentials::generate(now);
            ring.api_credentials = Some(fresh.clone());
            Ok(fresh)
        })
    }

    /// The SecretKey that signs requests made with `secret_id`.
    pub fn api_secret_key(&self, secret_id: &str) -> Result<&str> {
        match &self.ring.api_credentials {
            Some(c) if c.secret_id == secret_id => Ok(c.secret_key.as_str()),
            _ => err(
                ErrorCode::SecretIdNotFound,
                "No such SecretId; use the one the console (or `keyconsole api credentials`) shows.",
            ),
        }
    }

    // ---- the keystore itself ----

    /// Changes the keystore password (re-proving the current one). Only the wrapped master key
    /// changes; the key records are not re-encrypted.
    pub fn change_password(
        &mut self,
        current: &[u8],
        new: &[u8],
        kdf: Option<KdfParams>,
    ) -> Result<()> {
        self.store.verify_password(current)?;
        let guard = self.store.lock()?;
        self.refresh()?;
        self.ring.fold_usage();
        let kdf = kdf.unwrap_or(self.store.kdf_params());
        let body = self.ring.encode()?;
        self.store.change_password(&guard, new, kdf, body)
    }
}

fn rotation_due(key: &KeyRecord, now: i64) -> bool {
    (key.rotation_enabled && key.next_rotate_time <= now)
        || key.newest_version().1.total_encryptions() >= ROTATE_AFTER_ENCRYPTIONS
}

fn rotate(record: &mut KeyRecord, now: i64) -> u32 {
    record
        .versions
        .push(KeyVersion::new(crypto::random_key(), now));
    record.last_rotate_time = now;
    if record.rotation_enabled {
        record.next_rotate_time = now + i64::from(record.rotate_days) * SECONDS_PER_DAY;
    }
    record.versions.len() as u32
}

fn seal_blob(record: &KeyRecord, plaintext: &[u8], context: &CanonicalContext) -> Result<String> {
    let (number, version) = record.newest_version();
    let used = version.unsaved_encryptions.fetch_add(1, Ordering::Relaxed) + version.encryptions;
    if used >= REFUSE_AFTER_ENCRYPTIONS {
        version.unsaved_encryptions.fetch_sub(1, Ordering::Relaxed);
        return err(
            ErrorCode::InternalError,
            format!(
                "Key {} has reached the safe number of encryptions for its version; rotate it.",
                record.alias
            ),
        );
    }
    let nonce = crypto::random_bytes();
    let aad = Blob::aad(&record.key_id, number, context);
    let mut sealed = Zeroizing::new(plaintext.to_vec());
    crypto::seal_in_place(version.material(), &nonce, &aad, &mut sealed)
        .map_err(|_| KmsError::new(ErrorCode::InternalError, "Encryption failed."))?;
    Ok(Blob {
        key_id: record.key_id,
        version: number,
        nonce,
        sealed: std::mem::take(&mut *sealed),
    }
    .encode())
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAST: KdfParams = KdfParams {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    };

    #[test]
    fn a_version_is_rotated_at_half_its_nonce_budget_and_refused_near_the_end() {
        let dir = tempfile::tempdir().unwrap();
        let mut kms = Kms::create(&dir.path().join("k.kcks"), b"pw", FAST).unwrap();
        kms.create_key(CreateKey {
            alias: "busy".into(),
            ..CreateKey::default()
        })
        .unwrap();
        let ctx = CanonicalContext::none();
        kms.ring.keys[0].versions[0].encryptions = ROTATE_AFTER_ENCRYPTIONS - 1;
        kms.encrypt("busy", b"x", &ctx).unwrap();
        assert_eq!(kms.maintain().unwrap().rotated.len(), 1);
        assert_eq!(kms.describe_key("busy").unwrap().version_count, 2);
        assert_eq!(
            kms.keys()[0].versions[0].encryptions,
            ROTATE_AFTER_ENCRYPTIONS,
            "the count was saved"
        );

        kms.ring.keys[0].versions[1].encryptions = REFUSE_AFTER_ENCRYPTIONS;
        let refused = kms.encrypt("busy", b"x", &ctx).unwrap_err();
        assert_eq!(refused.code, ErrorCode::InternalError);
        assert_eq!(
            kms.keys()[0].versions[1].total_encryptions(),
            REFUSE_AFTER_ENCRYPTIONS
        );
    }

    #[test]
    fn many_unsaved_encryptions_are_saved_by_maintenance() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.kcks");
        let mut kms = Kms::create(&path, b"pw", FAST).unwrap();
        kms.create_key(CreateKey {
            alias: "k".into(),
            ..CreateKey::default()
        })
        .unwrap();
        for _ in 0..SAVE_USAGE_AFTER {
            kms.encrypt("k", b"x", &CanonicalContext::none()).unwrap();
        }
        kms.maintain().unwrap();
        let reopened = Kms::open(&path, b"pw").unwrap();
        assert_eq!(reopened.keys()[0].versions[0].encryptions, SAVE_USAGE_AFTER);
    }
}
