//! The rules on keys, once: limits, name syntax, and what each state allows. The faces ask these
//! predicates (to grey out a button, say) and the engine enforces them with the same code.

use uuid::Uuid;

use super::record::{KeyRecord, KeyState};
use crate::error::{ErrorCode, KmsError, Result, err};
use keyconsole_base::util::i18n::Text;

/// Encrypt takes 1 to 4096 bytes of plaintext.
pub const PLAINTEXT_MAX_BYTES: usize = 4096;
/// Batch enable/disable takes up to 100 keys.
pub const BATCH_MAX_KEYS: usize = 100;
/// GenerateDataKey's NumberOfBytes and GenerateRandom's NumberOfBytes: 1 to 1024.
pub const RANDOM_MAX_BYTES: u32 = 1024;
/// ListKeyDetail returns at most 200 keys a page.
pub const LIST_LIMIT_MAX: usize = 200;
/// Random 96-bit nonces are safe for 2^32 encryptions under one key (NIST SP 800-38D). We rotate a
/// version at half that, which leaves room for what processes reserved and have not used…
pub const ROTATE_AFTER_ENCRYPTIONS: u64 = 1 << 31;
/// …and refuse outright well before the limit, should rotation somehow not have happened.
pub const REFUSE_AFTER_ENCRYPTIONS: u64 = (1 << 32) - (1 << 28);
/// Encryptions are reserved on disk before they are used (see `kms::usage`): first this many a
/// version and process…
pub const RESERVE_FIRST: u64 = 1 << 8;
/// …then twice as many each time, up to this: a busy server saves once per this many (5.6 min at
/// 50,000 encryptions/s; each save of a 50,000-key keystore costs ~150 ms of a core), and a crash
/// spends at most this much of a version's budget (0.4%; a clean stop gives the rest back).
pub const RESERVE_MAX: u64 = 1 << 24;

/// DescribeKeys takes up to 100 KeyIds.
pub const DESCRIBE_MAX_KEYS: usize = 100;
pub const ALIAS_MAX_CHARS: usize = 60;
/// The most keys a keystore holds (the key list stays smooth at this many; the cloud's quota per
/// region is far lower). Keys pending deletion count until they are gone.
pub const KEYS_MAX: usize = 100_000;
pub const DESCRIPTION_MAX_BYTES: usize = 1024;
pub const ROTATE_DAYS_MIN: u32 = 7;
pub const ROTATE_DAYS_MAX: u32 = 365;
pub const ROTATE_DAYS_DEFAULT: u32 = 365;
pub const PENDING_WINDOW_MIN_DAYS: u32 = 7;
pub const PENDING_WINDOW_MAX_DAYS: u32 = 30;
pub const SECONDS_PER_DAY: i64 = 86_400;

impl KeyState {
    /// Encrypt, GenerateDataKey, ReEncrypt's destination and file encryption.
    pub fn may_encrypt(self) -> bool {
        self == KeyState::Enabled
    }

    /// Decrypt (and ReEncrypt's source, file decryption): archived keys still decrypt.
    pub fn may_decrypt(self) -> bool {
        matches!(self, KeyState::Enabled | KeyState::Archived)
    }

    /// EnableKey(s) and DisableKey(s) apply to Enabled and Disabled keys only.
    pub fn may_enable_or_disable(self) -> bool {
        matches!(self, KeyState::Enabled | KeyState::Disabled)
    }

    /// Only a Disabled key can be scheduled for deletion.
    /// A Disabled key, or an EXTERNAL key still waiting for its material, can be scheduled for
    /// deletion.
    pub fn may_schedule_deletion(self) -> bool {
        matches!(self, KeyState::Disabled | KeyState::PendingImport)
    }

    pub fn may_cancel_deletion(self) -> bool {
        self == KeyState::PendingDelete
    }

    pub fn may_archive(self) -> bool {
        matches!(self, KeyState::Enabled | KeyState::Archived)
    }

    pub fn may_unarchive(self) -> bool {
        self == KeyState::Archived
    }

    /// A new key version now.
    pub fn may_rotate(self) -> bool {
        self == KeyState::Enabled
    }

    /// Turning automatic rotation on or off.
    pub fn may_change_rotation(self) -> bool {
        self != KeyState::PendingDelete
    }
}

/// Why `key`'s state refuses `action` (e.g. "encrypt"), with the cloud's code.
pub fn state_error(key: &KeyRecord, action: Text) -> KmsError {
    let name = keyconsole_base::text!(
        "errors.key_alias_and_id",
        alias = key.alias,
        key_id = key.key_id
    );
    match key.state {
        KeyState::Disabled => KmsError::new(
            ErrorCode::CmkDisabled,
            keyconsole_base::text!(
                "errors.name_is_disabled_enable_it_to",
                name = name,
                action = action
            ),
        ),
        KeyState::Archived => KmsError::new(
            ErrorCode::CmkArchived,
            keyconsole_base::text!(
                "errors.name_is_archived_unarchive_it_to",
                name = name,
                action = action
            ),
        ),
        KeyState::PendingDelete => KmsError::new(
            ErrorCode::CmkStateNotSupport,
            keyconsole_base::text!(
                "errors.name_is_pending_deletion_cancel_the",
                name = name,
                action = action
            ),
        ),
        KeyState::Enabled => KmsError::new(
            ErrorCode::CmkStateNotSupport,
            keyconsole_base::text!(
                "errors.name_is_enabled_which_does_not",
                name = name,
                action = action
            ),
        ),
        KeyState::PendingImport => KmsError::new(
            ErrorCode::CmkStateNotSupport,
            keyconsole_base::text!(
                "errors.name_has_no_key_material_yet",
                name = name,
                action = action
            ),
        ),
    }
}

/// Checks an alias against the rules: 1–60 of `[A-Za-z0-9_-]`, starting with a letter or digit,
/// not the reserved prefix `kms-`, and not shaped like a KeyId. Uniqueness is checked by the engine, which sees all keys.
pub fn validate_alias(alias: &str) -> Result<()> {
    let invalid = |why: Text| {
        err(
            ErrorCode::InvalidAlias,
            keyconsole_base::text!("errors.the_alias_why", why = why),
        )
    };
    if alias.is_empty() {
        return invalid(keyconsole_base::text!("errors.is_empty_give_1_to_60"));
    }
    if alias.chars().count() > ALIAS_MAX_CHARS {
        return invalid(keyconsole_base::text!(
            "errors.is_longer_than_60_characters"
        ));
    }
    if let Some(bad) = alias
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-'))
    {
        return invalid(keyconsole_base::text!(
            "errors.contains_bad_only_letters_digits_underscore_dash",
            bad = format!("{bad:?}")
        ));
    }
    if !alias.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return invalid(keyconsole_base::text!("errors.must_start_with_a_letter_or"));
    }
    if alias.len() >= 4 && alias[..4].eq_ignore_ascii_case("kms-") {
        return invalid(keyconsole_base::text!(
            "errors.starts_with_the_reserved_prefix_kms"
        ));
    }
    // Keys are found by KeyId or alias, so an alias must never read as a KeyId.
    if Uuid::parse_str(alias).is_ok() {
        return invalid(keyconsole_base::text!(
            "errors.looks_like_a_keyid_choose_another"
        ));
    }
    Ok(())
}

pub fn validate_description(description: &str) -> Result<()> {
    if description.len() > DESCRIPTION_MAX_BYTES {
        return err(
            ErrorCode::InvalidParameterValue,
            keyconsole_base::text!(
                "errors.the_description_is_description_bytes_at",
                description = description.len(),
                description_max_bytes = DESCRIPTION_MAX_BYTES
            ),
        );
    }
    Ok(())
}

pub fn validate_rotate_days(days: u32) -> Result<()> {
    if !(ROTATE_DAYS_MIN..=ROTATE_DAYS_MAX).contains(&days) {
        return err(
            ErrorCode::InvalidParameterValue,
            keyconsole_base::text!(
                "errors.rotatedays_is_days_it_must_be",
                days = days,
                rotate_days_min = ROTATE_DAYS_MIN,
                rotate_days_max = ROTATE_DAYS_MAX
            ),
        );
    }
    Ok(())
}

pub fn check_plaintext(plaintext: &[u8]) -> Result<()> {
    if plaintext.is_empty() {
        return err(
            ErrorCode::InvalidPlaintext,
            keyconsole_base::text!("errors.the_plaintext_is_empty_give_1"),
        );
    }
    if plaintext.len() > PLAINTEXT_MAX_BYTES {
        return err(
            ErrorCode::InvalidPlaintext,
            keyconsole_base::text!(
                "errors.the_plaintext_is_plaintext_bytes_at",
                plaintext = plaintext.len(),
                plaintext_max_bytes = PLAINTEXT_MAX_BYTES
            ),
        );
    }
    Ok(())
}

pub fn check_random_len(n: u32, what: &str) -> Result<usize> {
    if !(1..=RANDOM_MAX_BYTES).contains(&n) {
        return err(
            ErrorCode::InvalidParameterValue,
            keyconsole_base::text!(
                "errors.what_is_n_it_must_be",
                what = what,
                n = n,
                random_max_bytes = RANDOM_MAX_BYTES
            ),
        );
    }
    Ok(n as usize)
}

/// Batch actions take 1 to `max` keys (EnableKeys/DisableKeys, DescribeKeys).
pub fn check_key_count(count: usize, max: usize, verb: Text) -> Result<()> {
    if count == 0 {
        return err(
            ErrorCode::MissingParameter,
            keyconsole_base::text!("errors.no_keys_were_given"),
        );
    }
    if count > max {
        return err(
            ErrorCode::InvalidParameterValue,
            keyconsole_base::text!(
                "errors.count_keys_were_given_at_most",
                count = count,
                max = max,
                verb = verb
            ),
        );
    }
    Ok(())
}

/// A keystore password must not be empty (every face asks for one; the engine refuses it).
pub fn check_password(password: &[u8]) -> Result<()> {
    if password.is_empty() {
        return err(
            ErrorCode::InvalidParameterValue,
            keyconsole_base::text!("errors.the_password_is_empty"),
        );
    }
    Ok(())
}

/// A listing's Limit (ListKeys, ListKeyDetail, ListSecrets): 1 to `max`.
pub fn check_list_limit(limit: usize, max: usize) -> Result<()> {
    if !(1..=max).contains(&limit) {
        return err(
            ErrorCode::InvalidParameterValue,
            keyconsole_base::text!("errors.limit_is_limit_it_must_be", limit = limit, max = max),
        );
    }
    Ok(())
}

/// A search text as listings match it: trimmed, ASCII case folded.
pub fn search_needle(search: Option<&str>) -> String {
    search
        .map(|s| s.trim().to_ascii_lowercase())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alias_rules() {
        for ok in [
            "a",
            "db-password",
            "Z_9",
            "0abc",
            &"x".repeat(60),
            "kms",
            "kmsx-1",
        ] {
            assert!(validate_alias(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "-a",
            "_a",
            "a b",
            "a.b",
            "ключ",
            &"x".repeat(61),
            "kms-1",
            "KMS-x",
            "Kms-",
        ] {
            assert_eq!(
                validate_alias(bad).unwrap_err().code,
                ErrorCode::InvalidAlias,
                "{bad}"
            );
        }
    }
}
