//! Customer master keys: the record and its metadata, the rules, typed specs, queries, and every
//! change to a key (create, update, enable/disable, deletion, archive, rotation).

pub mod import;
pub mod index;
pub mod query;
pub mod record;
pub mod rules;
pub mod spec;

use uuid::Uuid;

pub use index::KeyIndex;
pub use query::{KeyPage, KeyQuery, Order, OriginFilter};
pub use record::{
    ImportParameters, ImportRecord, KeyMetadata, KeyOrigin, KeyOwner, KeyRecord, KeySpec, KeyState,
    KeyUsage, KeyVersion,
};
pub use spec::{DataKeySpec, StateFilter};

use super::Kms;
use super::error::{ErrorCode, KmsError, Result, err};
use crate::tags::Tag;
use keyconsole_base::crypto;
use query::resolve_in;
use rules::{
    BATCH_MAX_KEYS, KEYS_MAX, PENDING_WINDOW_MAX_DAYS, PENDING_WINDOW_MIN_DAYS,
    ROTATE_DAYS_DEFAULT, SECONDS_PER_DAY, check_key_count, state_error, validate_alias,
    validate_description, validate_rotate_days,
};

#[derive(Debug, Clone, Default)]
pub struct CreateKey {
    pub alias: String,
    pub description: String,
    /// The cloud's KeyUsage name; `ENCRYPT_DECRYPT` when None or empty.
    pub key_usage: Option<String>,
    /// For `ENCRYPT_DECRYPT`: AES-256 (the default) or SM4. An asymmetric usage names its own
    /// material; a spec given with it must be that one.
    pub spec: Option<KeySpec>,
    /// Some(days) turns automatic rotation on.
    pub rotate_days: Option<u32>,
    pub tags: Vec<Tag>,
    /// An EXTERNAL key: its material is imported (ImportKeyMaterial) instead of made here; it
    /// waits in PendingImport until then. Symmetric keys only, as in the cloud.
    pub external: bool,
}

impl Kms {
    /// A transaction on one key: resolve it after catching up with the file, then change it.
    pub(crate) fn change_key<T>(
        &self,
        key: &str,
        change: impl FnOnce(&mut KeyRecord, i64) -> Result<T>,
    ) -> Result<T> {
        self.transact(|ring, now| {
            let i = resolve_in(ring, key)?;
            change(&mut ring.keys[i], now)
        })
    }

    pub fn create_key(&self, request: CreateKey) -> Result<KeyMetadata> {
        validate_alias(&request.alias)?;
        validate_description(&request.description)?;
        let (usage, spec) = usage_and_spec(request.key_usage.as_deref(), request.spec)?;
        if request.external && usage != KeyUsage::EncryptDecrypt {
            return err(
                ErrorCode::InvalidKeyUsage,
                keyconsole_base::text!("errors.only_encrypt_decrypt_keys_take_imported"),
            );
        }
        if request.external && request.rotate_days.is_some() {
            return err(
                ErrorCode::ExternalCmkCanNotRotate,
                keyconsole_base::text!("errors.a_key_with_imported_material_does"),
            );
        }
        if let Some(days) = request.rotate_days {
            validate_rotate_days(days)?;
        }
        crate::tags::validate_tags(&request.tags)?;
        // Made before the transaction: an RSA key takes ~100 ms, not to be spent holding the lock.
        let material = if request.external {
            None
        } else {
            Some(new_material(usage, spec)?)
        };
        self.transact(|ring, now| {
            if ring.keys.len() >= KEYS_MAX {
                return err(
                    ErrorCode::CmkLimitExceeded,
                    keyconsole_base::text!("errors.this_keystore_holds_max_keys", max = KEYS_MAX),
                );
            }
            if ring.alias_taken(&request.alias, None) {
                return err(
                    ErrorCode::AliasAlreadyExists,
                    keyconsole_base::text!(
                        "errors.the_alias_alias_is_already_used",
                        alias = request.alias
                    ),
                );
            }
            let record = KeyRecord {
                key_id: Uuid::new_v4(),
                alias: request.alias,
                description: request.description,
                state: if material.is_some() {
                    KeyState::Enabled
                } else {
                    KeyState::PendingImport
                },
                usage,
                spec,
                origin: if material.is_some() {
                    KeyOrigin::Generated
                } else {
                    KeyOrigin::External
                },
                create_time: now,
                rotation_enabled: request.rotate_days.is_some(),
                rotate_days: request.rotate_days.unwrap_or(ROTATE_DAYS_DEFAULT),
                last_rotate_time: 0,
                next_rotate_time: request
                    .rotate_days
                    .map_or(0, |d| now + i64::from(d) * SECONDS_PER_DAY),
                deletion_date: 0,
                versions: material.iter().map(|m| KeyVersion::new(m, now)).collect(),
                tags: request.tags,
                owner: KeyOwner::User,
                import: material.is_none().then(ImportRecord::default),
            };
            let metadata = record.metadata();
            ring.by_id.insert(record.key_id, ring.keys.len());
            ring.by_alias
                .insert(record.alias.to_ascii_lowercase(), ring.keys.len());
            ring.keys.push(record);
            Ok(metadata)
        })
    }

    /// Would `alias` be accepted for a new key (or, with `except`, as the new alias of that key)?
    /// For live validation in forms; the change itself checks again.
    pub fn check_alias(&self, alias: &str, except: Option<&str>) -> Result<()> {
        validate_alias(alias)?;
        let ring = self.ring();
        let except = match except {
            Some(key) => Some(resolve_in(&ring, key)?),
            None => None,
        };
        if ring.alias_taken(alias, except) {
            return err(
                ErrorCode::AliasAlreadyExists,
                keyconsole_base::text!("errors.the_alias_alias_is_already_used", alias = alias),
            );
        }
        Ok(())
    }

    pub fn update_alias(&self, key: &str, alias: &str) -> Result<()> {
        self.update_key(key, Some(alias), None)
    }

    pub fn update_description(&self, key: &str, description: &str) -> Result<()> {
        self.update_key(key, None, Some(description))
    }

    /// Changes the alias, the description or both, in one step: both apply or neither does.
    pub fn update_key(
        &self,
        key: &str,
        alias: Option<&str>,
        description: Option<&str>,
    ) -> Result<()> {
        if alias.is_none() && description.is_none() {
            return err(
                ErrorCode::MissingParameter,
                keyconsole_base::text!("errors.nothing_to_change_give_a_new"),
            );
        }
        if let Some(alias) = alias {
            validate_alias(alias)?;
        }
        if let Some(description) = description {
            validate_description(description)?;
        }
        // A change to what the key already has is done without a save.
        self.refresh()?;
        let current = self.key(key)?;
        if alias.is_none_or(|a| a == current.alias)
            && description.is_none_or(|d| d == current.description)
        {
            return Ok(());
        }
        self.transact(|ring, _| {
            let i = resolve_in(ring, key)?;
            if let Some(alias) = alias {
                if ring.alias_taken(alias, Some(i)) {
                    return err(
                        ErrorCode::AliasAlreadyExists,
                        keyconsole_base::text!(
                            "errors.the_alias_alias_is_already_used",
                            alias = alias
                        ),
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

    pub fn enable_key(&self, key: &str) -> Result<()> {
        self.set_keys_enabled(&[key], true)
    }

    pub fn disable_key(&self, key: &str) -> Result<()> {
        self.set_keys_enabled(&[key], false)
    }

    /// EnableKeys: all or nothing, up to 100 keys.
    pub fn enable_keys<S: AsRef<str>>(&self, keys: &[S]) -> Result<()> {
        self.set_keys_enabled(keys, true)
    }

    /// DisableKeys: all or nothing, up to 100 keys.
    pub fn disable_keys<S: AsRef<str>>(&self, keys: &[S]) -> Result<()> {
        self.set_keys_enabled(keys, false)
    }

    /// EnableKeys or DisableKeys, as `enable` says.
    pub fn set_keys_enabled<S: AsRef<str>>(&self, keys: &[S], enable: bool) -> Result<()> {
        check_key_count(
            keys.len(),
            BATCH_MAX_KEYS,
            keyconsole_base::text!("errors.changed"),
        )?;
        self.transact(|ring, _| {
            let mut targets = Vec::with_capacity(keys.len());
            for key in keys {
                let i = resolve_in(ring, key.as_ref())?;
                let record = &ring.keys[i];
                if !record.state.may_enable_or_disable() {
                    return Err(state_error(
                        record,
                        if enable {
                            keyconsole_base::text!("errors.enable_it")
                        } else {
                            keyconsole_base::text!("errors.disable_it")
                        },
                    ));
                }
                targets.push(i);
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
    pub fn schedule_key_deletion(&self, key: &str, pending_window_days: u32) -> Result<i64> {
        if !(PENDING_WINDOW_MIN_DAYS..=PENDING_WINDOW_MAX_DAYS).contains(&pending_window_days) {
            return err(
                ErrorCode::InvalidPendingWindowInDays,
                keyconsole_base::text!(
                    "errors.pendingwindowindays_is_pending_window_days_it",
                    pending_window_days = pending_window_days,
                    pending_window_min_days = PENDING_WINDOW_MIN_DAYS,
                    pending_window_max_days = PENDING_WINDOW_MAX_DAYS
                ),
            );
        }
        self.transact(|ring, now| {
            let index = resolve_in(ring, key)?;
            // A key that seals secrets' values (the secrets manager's default key included)
            // would take them with it: refused, naming them, as the cloud refuses a key in use
            // by one of its products. Deleting (or emptying) those secrets comes first.
            let protected: Vec<&str> = ring
                .secrets
                .iter()
                .filter(|s| s.key_id == ring.keys[index].key_id)
                .map(|s| s.name.as_str())
                .collect();
            if !protected.is_empty() {
                let shown = protected
                    .iter()
                    .take(5)
                    .copied()
                    .collect::<Vec<_>>()
                    .join(", ");
                let more = protected.len().saturating_sub(5);
                return err(
                    ErrorCode::CmkUsedByCloudProduct,
                    keyconsole_base::text!(
                        "errors.key_alias_protects_secrets_and_cannot_be_deleted",
                        alias = ring.keys[index].alias,
                        count = protected.len(),
                        secrets = if more > 0 {
                            format!("{shown} (+{more})")
                        } else {
                            shown
                        }
                    ),
                );
            }
            let record = &mut ring.keys[index];
            match record.state {
                KeyState::Disabled | KeyState::PendingImport => {
                    record.state = KeyState::PendingDelete;
                    record.deletion_date = now + i64::from(pending_window_days) * SECONDS_PER_DAY;
                    Ok(record.deletion_date)
                }
                KeyState::PendingDelete => Err(KmsError::new(
                    ErrorCode::CmkStateNotSupport,
                    keyconsole_base::text!(
                        "errors.key_alias_is_already_pending_deletion",
                        alias = record.alias
                    ),
                )),
                _ => Err(KmsError::new(
                    ErrorCode::CmkShouldBeDisabled,
                    keyconsole_base::text!(
                        "errors.key_alias_must_be_disabled_before",
                        alias = record.alias
                    ),
                )),
            }
        })
    }

    /// Cancels a scheduled deletion; the key goes back to Disabled, never straight to Enabled.
    pub fn cancel_key_deletion(&self, key: &str) -> Result<()> {
        self.change_key(key, |record, _| {
            if !record.state.may_cancel_deletion() {
                return err(
                    ErrorCode::CmkNotPendingDelete,
                    keyconsole_base::text!(
                        "errors.key_alias_is_not_pending_deletion",
                        alias = record.alias
                    ),
                );
            }
            // An EXTERNAL key without material goes back to waiting for it.
            record.state = if record.versions.is_empty() {
                KeyState::PendingImport
            } else {
                KeyState::Disabled
            };
            record.deletion_date = 0;
            Ok(())
        })
    }

    /// Archives an Enabled key: it still decrypts but no longer encrypts.
    pub fn archive_key(&self, key: &str) -> Result<()> {
        self.change_key(key, |record, _| {
            if !record.state.may_archive() {
                return Err(state_error(
                    record,
                    keyconsole_base::text!("errors.archive_it"),
                ));
            }
            record.state = KeyState::Archived;
            Ok(())
        })
    }

    pub fn cancel_key_archive(&self, key: &str) -> Result<()> {
        self.change_key(key, |record, _| {
            if !record.state.may_unarchive() {
                return err(
                    ErrorCode::CmkStateNotSupport,
                    keyconsole_base::text!(
                        "errors.key_alias_is_not_archived",
                        alias = record.alias
                    ),
                );
            }
            record.state = KeyState::Enabled;
            Ok(())
        })
    }

    /// Adds a new key version now; returns its number. Old ciphertexts still decrypt.
    pub fn rotate_key(&self, key: &str) -> Result<u32> {
        self.change_key(key, |record, now| {
            check_rotatable(record)?;
            if !record.state.may_rotate() {
                return Err(state_error(
                    record,
                    keyconsole_base::text!("errors.rotate_it"),
                ));
            }
            rotate(record, now)
        })
    }

    /// Adds or changes the tags in `set` and removes those keyed in `remove`, in one step.
    pub fn tag_key(&self, key: &str, set: &[Tag], remove: &[String]) -> Result<()> {
        crate::tags::validate_tags(set)?;
        self.change_key(key, |record, _| {
            record.tags = crate::tags::edited(&record.tags, set, remove)?;
            Ok(())
        })
    }

    pub fn enable_key_rotation(&self, key: &str, rotate_days: Option<u32>) -> Result<()> {
        let days = rotate_days.unwrap_or(ROTATE_DAYS_DEFAULT);
        validate_rotate_days(days)?;
        self.change_key(key, |record, now| {
            check_rotatable(record)?;
            if !record.state.may_change_rotation() {
                return Err(state_error(
                    record,
                    keyconsole_base::text!("errors.change_its_rotation"),
                ));
            }
            record.rotation_enabled = true;
            record.rotate_days = days;
            record.next_rotate_time = now + i64::from(days) * SECONDS_PER_DAY;
            Ok(())
        })
    }

    pub fn disable_key_rotation(&self, key: &str) -> Result<()> {
        self.change_key(key, |record, _| {
            if !record.state.may_change_rotation() {
                return Err(state_error(
                    record,
                    keyconsole_base::text!("errors.change_its_rotation"),
                ));
            }
            record.rotation_enabled = false;
            record.next_rotate_time = 0;
            Ok(())
        })
    }

    pub fn get_key_rotation_status(&self, key: &str) -> Result<bool> {
        Ok(self.key(key)?.rotation_enabled)
    }
}

/// Adds a new version to `record` now; returns its number. Only symmetric keys rotate.
pub(crate) fn rotate(record: &mut KeyRecord, now: i64) -> Result<u32> {
    let material = new_material(record.usage, record.spec)?;
    record.versions.push(KeyVersion::new(&material, now));
    record.last_rotate_time = now;
    if record.rotation_enabled {
        record.next_rotate_time = now + i64::from(record.rotate_days) * SECONDS_PER_DAY;
    }
    Ok(record.versions.len() as u32)
}

/// Key pairs do not rotate (as in the cloud: a new key pair would be a new public key), nor do
/// keys with imported material (their material is the user's).
fn check_rotatable(record: &KeyRecord) -> Result<()> {
    if record.origin == KeyOrigin::External {
        return err(
            ErrorCode::ExternalCmkCanNotRotate,
            keyconsole_base::text!("errors.a_key_with_imported_material_does"),
        );
    }
    if record.usage != KeyUsage::EncryptDecrypt {
        return err(
            ErrorCode::RotateNotSupported,
            keyconsole_base::text!("errors.key_alias_is_a_key_pair_key", alias = record.alias),
        );
    }
    Ok(())
}

/// The usage and material a CreateKey asks for, checked.
pub fn usage_and_spec(usage: Option<&str>, spec: Option<KeySpec>) -> Result<(KeyUsage, KeySpec)> {
    let usage = match usage.map(str::trim).filter(|u| !u.is_empty()) {
        None => KeyUsage::EncryptDecrypt,
        Some(name) => KeyUsage::from_name(name).ok_or_else(|| {
            KmsError::new(
                ErrorCode::InvalidKeyUsage,
                keyconsole_base::text!("errors.keyusage_usage_is_not_supported_use", usage = name),
            )
        })?,
    };
    let spec = match (usage.pair_spec(), spec) {
        (None, None) => KeySpec::Aes256,
        (None, Some(spec @ (KeySpec::Aes256 | KeySpec::Sm4))) => spec,
        (Some(own), None) => own,
        (Some(own), Some(given)) if own == given => own,
        (_, Some(given)) => {
            return err(
                ErrorCode::InvalidKeyUsage,
                keyconsole_base::text!(
                    "errors.a_spec_key_cannot_be_usage",
                    spec = given.as_str(),
                    usage = usage.as_str()
                ),
            );
        }
    };
    Ok((usage, spec))
}

/// Fresh material for a key (or a new version of it), wiped when dropped.
pub(crate) fn new_material(usage: KeyUsage, spec: KeySpec) -> Result<zeroize::Zeroizing<Vec<u8>>> {
    match (usage.pair_kind(), spec.cipher()) {
        (None, Some(cipher)) => Ok(cipher.random_key()),
        (Some(kind), _) => crypto::asymmetric::generate(kind).map_err(|_| {
            KmsError::new(
                ErrorCode::InternalError,
                keyconsole_base::text!("errors.making_a_key_pair_failed"),
            )
        }),
        (None, None) => err(
            ErrorCode::InternalError,
            keyconsole_base::text!("errors.making_a_key_pair_failed"),
        ),
    }
}
