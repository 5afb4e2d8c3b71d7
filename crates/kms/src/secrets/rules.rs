//! The rules of Secrets Manager (SSM 2019-09-23), once: names, version ids, values, descriptions,
//! states and their transitions, the version and recovery-window limits.

use super::record::{SecretRecord, SecretState};
use crate::error::{ErrorCode, KmsError, Result, err};
use keyconsole_base::util::i18n::Text;

pub const NAME_MAX_BYTES: usize = 128;
pub const VERSION_ID_MAX_BYTES: usize = 64;
pub const VALUE_MAX_BYTES: usize = 32 * 1024;
pub const DESCRIPTION_MAX_BYTES: usize = 2048;
pub const VERSIONS_MAX: usize = 10;
/// The most secrets a keystore holds (the keystore's size limit may come first: 10,000 secrets of
/// ten 32 KiB versions would not fit, 10,000 database passwords take about 20 MiB).
pub const SECRETS_MAX: usize = 10_000;
pub const RECOVERY_DAYS_MAX: u32 = 30;
/// The VersionId that reads the version in use: for a database secret the current password, for
/// any other secret its newest version (unless a version has that very id).
pub const CURRENT_VERSION_ID: &str = "SSM_Current";
/// The version CreateSecret makes when no VersionId is given.
pub const FIRST_VERSION_ID: &str = "SSM_v1";
pub const LIST_LIMIT_DEFAULT: usize = 20;
pub const LIST_LIMIT_MAX: usize = 1000;

fn id_like(text: &str, what: Text, max: usize, extra: &[char]) -> Result<()> {
    let invalid = |why: Text| {
        err(
            ErrorCode::InvalidParameterValue,
            keyconsole_base::text!("errors.what_why", what = what, why = why),
        )
    };
    if text.is_empty() {
        return invalid(keyconsole_base::text!(
            "errors.is_empty_give_1_to_max",
            max = max
        ));
    }
    if text.len() > max {
        return invalid(keyconsole_base::text!(
            "errors.is_longer_than_max_bytes",
            max = max
        ));
    }
    if let Some(bad) = text
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || extra.contains(c)))
    {
        let allowed: String = extra.iter().map(|c| format!(" '{c}'")).collect();
        return invalid(keyconsole_base::text!(
            "errors.contains_bad_only_letters_digits_and",
            bad = format!("{:?}", bad),
            allowed = allowed
        ));
    }
    if !text.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return invalid(keyconsole_base::text!(
            "errors.must_start_with_a_letter_or_a_digit"
        ));
    }
    Ok(())
}

pub fn validate_name(name: &str) -> Result<()> {
    id_like(
        name,
        keyconsole_base::text!("errors.the_secret_name"),
        NAME_MAX_BYTES,
        &['_', '-'],
    )
}

pub fn validate_version_id(version_id: &str) -> Result<()> {
    id_like(
        version_id,
        keyconsole_base::text!("errors.the_versionid"),
        VERSION_ID_MAX_BYTES,
        &['.', '_', '-'],
    )
}

pub fn validate_value(len: usize) -> Result<()> {
    if len > VALUE_MAX_BYTES {
        return err(
            ErrorCode::InvalidParameterValue,
            keyconsole_base::text!(
                "errors.the_secret_value_is_len_bytes",
                len = len,
                value_max_bytes = VALUE_MAX_BYTES
            ),
        );
    }
    Ok(())
}

pub fn validate_description(description: &str) -> Result<()> {
    if description.len() > DESCRIPTION_MAX_BYTES {
        return err(
            ErrorCode::InvalidParameterValue,
            keyconsole_base::text!(
                "errors.the_description_is_longer_than_description",
                description_max_bytes = DESCRIPTION_MAX_BYTES
            ),
        );
    }
    Ok(())
}

pub fn validate_recovery_days(days: u64) -> Result<()> {
    if days > u64::from(RECOVERY_DAYS_MAX) {
        return err(
            ErrorCode::InvalidParameterValue,
            keyconsole_base::text!(
                "errors.recoverywindowindays_is_days_give_0_delete",
                days = days,
                recovery_days_max = RECOVERY_DAYS_MAX
            ),
        );
    }
    Ok(())
}

/// Why a secret in its state cannot have its value read (or changed, `action`).
pub fn state_error(secret: &SecretRecord, action: Text) -> KmsError {
    match secret.state {
        SecretState::Disabled => KmsError::new(
            ErrorCode::ResourceDisabled,
            keyconsole_base::text!(
                "errors.secret_name_is_disabled_enable_it",
                name = secret.name,
                action = action
            ),
        ),
        SecretState::PendingDelete => KmsError::new(
            ErrorCode::ResourcePendingDeleted,
            keyconsole_base::text!(
                "errors.secret_name_is_pending_deletion_restore",
                name = secret.name,
                action = action
            ),
        ),
        SecretState::Enabled => KmsError::new(
            ErrorCode::OperationDenied,
            keyconsole_base::text!(
                "errors.secret_name_is_enabled_action_is",
                name = secret.name,
                action = action
            ),
        ),
    }
}

impl SecretState {
    /// GetSecretValue.
    pub fn may_read(self) -> bool {
        self == SecretState::Enabled
    }

    /// PutSecretValue, UpdateSecret, UpdateDescription, DeleteSecretVersion.
    pub fn may_change_values(self) -> bool {
        matches!(self, SecretState::Enabled | SecretState::Disabled)
    }

    pub fn may_enable(self) -> bool {
        self == SecretState::Disabled
    }

    pub fn may_disable(self) -> bool {
        self == SecretState::Enabled
    }

    pub fn may_delete(self) -> bool {
        self == SecretState::Disabled
    }

    pub fn may_restore(self) -> bool {
        self == SecretState::PendingDelete
    }
}

/// Automatic rotation of database secrets: every 1 to 365 days, 30 unless given.
pub const ROTATION_DAYS_MIN: u32 = 1;
pub const ROTATION_DAYS_MAX: u32 = 365;
pub const ROTATION_DAYS_DEFAULT: u32 = 30;
/// Rotation attempts a database secret remembers.
pub const ROTATION_HISTORY_MAX: usize = 50;
/// After a failed automatic rotation that the database refused, when to try again.
pub const ROTATION_RETRY_SECONDS: i64 = 3600;
/// After one whose outcome is unknown (no answer, a connection that broke after the new password
/// was sent), when to try again: soon, since the database may hold the new password already.
pub const ROTATION_UNCERTAIN_RETRY_SECONDS: i64 = 60;
/// How long a rotation's claim holds without being renewed: far longer than its database calls
/// may take (a few `util::database::DEADLINE`s), so only a crashed or hung owner loses it.
pub const ROTATION_CLAIM_SECONDS: i64 = 300;
/// A version made by a rotation is not pruned for this long, whatever the version count: a
/// rotation that lost its claim while hung may still set it in the database, and it must stay
/// at hand to log in with and repair.
pub const ROTATION_VERSION_KEEP_SECONDS: i64 = 3600;
/// A rotation's new password: letters and digits only (about 190 bits), so it needs no quoting
/// in SQL, shells, URLs or connection strings.
pub const ROTATION_PASSWORD_LEN: usize = 32;

pub fn validate_rotation_days(days: u32) -> Result<()> {
    if !(ROTATION_DAYS_MIN..=ROTATION_DAYS_MAX).contains(&days) {
        return err(
            ErrorCode::InvalidParameterValue,
            keyconsole_base::text!(
                "errors.the_rotation_frequency_is_days_days",
                days = days,
                rotation_days_min = ROTATION_DAYS_MIN,
                rotation_days_max = ROTATION_DAYS_MAX
            ),
        );
    }
    Ok(())
}

/// The VersionId a rotation gives its new password: `SSM_v<n>`, one past the highest `SSM_v<n>`
/// the secret has or had (its history counts, so an id is never used twice).
pub fn next_version_id(secret: &SecretRecord) -> String {
    let number = |id: &str| id.strip_prefix("SSM_v").and_then(|n| n.parse::<u64>().ok());
    let highest = secret
        .versions
        .iter()
        .map(|v| v.version_id.as_str())
        .chain(
            secret
                .database
                .iter()
                .flat_map(|d| d.history.iter().map(|r| r.version_id.as_str())),
        )
        .filter_map(number)
        .max()
        .unwrap_or(0);
    format!("SSM_v{}", highest + 1)
}
