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
