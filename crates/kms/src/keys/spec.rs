//! Typed specifications the faces pass in, parsed once here from the cloud's strings and numbers.

use super::record::KeyState;
use super::rules::check_random_len;
use crate::error::{ErrorCode, Result, err};

/// What GenerateDataKey makes: the cloud's KeySpec (AES_256, AES_128) or NumberOfBytes (1–1024).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DataKeySpec {
    #[default]
    Aes256,
    Aes128,
    Bytes(u32),
}

impl DataKeySpec {
    /// The API's pair of parameters: NumberOfBytes wins over KeySpec; one of them is required.
    pub fn from_api(key_spec: Option<&str>, number_of_bytes: Option<u32>) -> Result<Self> {
        match (
            number_of_bytes,
            key_spec.map(str::trim).filter(|s| !s.is_empty()),
        ) {
            (Some(n), _) => Ok(Self::Bytes(n)),
            (None, Some(name)) => Self::from_name(name),
            (None, None) => err(
                ErrorCode::MissingParameter,
                keyconsole_base::text!("errors.give_keyspec_or_numberofbytes"),
            ),
        }
    }

    /// `AES_256` or `AES_128`.
    pub fn from_name(name: &str) -> Result<Self> {
        match name {
            "AES_256" => Ok(Self::Aes256),
            "AES_128" => Ok(Self::Aes128),
            other => err(
                ErrorCode::InvalidParameterValue,
                keyconsole_base::text!("errors.keyspec_other_is_not_supported_use", other = other),
            ),
        }
    }

    /// The key length in bytes, once the spec is checked (1 to 1024 bytes).
    pub fn byte_len(self) -> Result<usize> {
        match self {
            Self::Aes256 => Ok(32),
            Self::Aes128 => Ok(16),
            Self::Bytes(n) => check_random_len(n, "NumberOfBytes"),
        }
    }
}

/// ListKeyDetail's KeyState filter, as the cloud numbers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StateFilter {
    #[default]
    Any,
    Only(KeyState),
}

impl From<Option<KeyState>> for StateFilter {
    fn from(state: Option<KeyState>) -> Self {
        state.map_or(Self::Any, Self::Only)
    }
}

impl StateFilter {
    pub fn matches(self, state: KeyState) -> bool {
        match self {
            Self::Any => true,
            Self::Only(only) => only == state,
        }
    }
}
