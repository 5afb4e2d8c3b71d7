//! The rules of Secrets Manager (SSM 2019-09-23), once: names, version ids, values, descriptions,
//! states and their transitions, the version and recovery-window limits.

use super::record::{SecretRecord, SecretState};
use crate::kms::error::{ErrorCode, KmsError, Result, err};

pub const NAME_MAX_BYTES: usize = 128;
pub const VERSION_ID_MAX_BYTES: usize = 64;
pub const VALUE_MAX_BYTES: usize = 32 * 1024;
pub const DESCRIPTION_MAX_BYTES: usize = 2048;
pub const VERSIONS_MAX: usize = 10;
pub const RECOVERY_DAYS_MAX: u32 = 30;
/// The VersionId that reads the version in use: for a database secret the current password, for
/// any other secret its newest version (unless a version has that very id).
pub const CURRENT_VERSION_ID: &str = "SSM_Current";
/// The version CreateSecret makes when no VersionId is given.
pub const FIRST_VERSION_ID: &str = "SSM_v1";
pub const LIST_LIMIT_DEFAULT: usize = 20;
pub const LIST_LIMIT_MAX: usize = 1000;

fn id_like(text: &str, what: &str, max: usize, extra: &[char]) -> Result<()> {
    let invalid = |why: String| err(ErrorCode::InvalidParameterValue, format!("{what} {why}."));
    if text.is_empty() {
        return invalid(format!("is empty; give 1 to {max} characters"));
    }
    if text.len() > max {
        return invalid(format!("is longer than {max} bytes"));
    }
    if let Some(bad) = text
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || extra.contains(c)))
    {
        let allowed: String = extra.iter().map(|c| format!(" '{c}'")).collect();
        return invalid(format!(
            "contains {bad:?}; only letters, digits and{allowed} are allowed"
        ));
    }
    if !text.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return invalid("must start with a letter or a digit".to_owned());
    }
    Ok(())
}

pub fn validate_name(name: &str) -> Result<()> {
    id_like(name, "The secret name", NAME_MAX_BYTES, &['_', '-'])
}

pub fn validate_version_id(version_id: &str) -> Result<()> {
    id_like(
        version_id,
        "The VersionId",
        VERSION_ID_MAX_BYTES,
        &['.', '_', '-'],
    )
}

pub fn validate_value(len: usize) -> Result<()> {
    if len > VALUE_MAX_BYTES {
        return err(
            ErrorCode::InvalidParameterValue,
            format!("The secret value is {len} bytes; at most {VALUE_MAX_BYTES} are allowed."),
        );
    }
    Ok(())
}

pub fn validate_description(description: &str) -> Result<()> {
    if description.len() > DESCRIPTION_MAX_BYTES {
        return err(
            ErrorCode::InvalidParameterValue,
            format!("The description is longer than {DESCRIPTION_MAX_BYTES} bytes."),
        );
    }
    Ok(())
}

pub fn validate_recovery_days(days: u32) -> Result<()> {
    if days > RECOVERY_DAYS_MAX {
        return err(
            ErrorCode::InvalidParameterValue,
            format!(
                "RecoveryWindowInDays is {days}; give 0 (delete at once) or 1 to {RECOVERY_DAYS_MAX}."
            ),
        );
    }
    Ok(())
}

/// Why a secret in its state cannot have its value read (or changed, `action`).
pub fn state_error(secret: &SecretRecord, action: &str) -> KmsError {
    match secret.state {
        SecretState::Disabled => KmsError::new(
            ErrorCode::ResourceDisabled,
            format!("Secret {} is disabled; enable it to {action}.", secret.name),
        ),
        SecretState::PendingDelete => KmsError::new(
            ErrorCode::ResourcePendingDeleted,
            format!(
                "Secret {} is pending deletion; restore it to {action}.",
                secret.name
            ),
        ),
        SecretState::Enabled => KmsError::new(
            ErrorCode::OperationDenied,
            format!(
                "Secret {} is enabled; {action} is not allowed now.",
                secret.name
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
/// After a failed automatic rotation, when to try again.
pub const ROTATION_RETRY_SECONDS: i64 = 3600;
/// A rotation's new password: letters and digits only (about 190 bits), so it needs no quoting
/// in SQL, shells, URLs or connection strings.
pub const ROTATION_PASSWORD_LEN: usize = 32;

pub fn validate_rotation_days(days: u32) -> Result<()> {
    if !(ROTATION_DAYS_MIN..=ROTATION_DAYS_MAX).contains(&days) {
        return err(
            ErrorCode::InvalidParameterValue,
            format!(
                "The rotation frequency is {days} days; give {ROTATION_DAYS_MIN} to {ROTATION_DAYS_MAX}."
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
