//! The encryption context in canonical form, bound to a ciphertext as associated data.

use std::collections::BTreeMap;

use super::error::{ErrorCode, KmsError, Result, err};

pub const CONTEXT_MAX_CHARS: usize = 1024;

/// An encryption context in canonical form: a JSON object with its keys sorted, no whitespace.
/// The empty context (none given, or `{}`) is the empty string, so the two are the same.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CanonicalContext(String);

impl CanonicalContext {
    pub fn none() -> Self {
        Self::default()
    }

    /// Parses an optional context as the API and CLI take it: a JSON object of strings.
    pub fn parse(json: Option<&str>) -> Result<Self> {
        let Some(json) = json.map(str::trim).filter(|j| !j.is_empty()) else {
            return Ok(Self::none());
        };
        if json.chars().count() > CONTEXT_MAX_CHARS {
            return err(
                ErrorCode::InvalidEncryptionContext,
                format!("The encryption context is longer than {CONTEXT_MAX_CHARS} characters."),
            );
        }
        let map: BTreeMap<String, String> = serde_json::from_str(json).map_err(|_| {
            KmsError::new(
                ErrorCode::InvalidEncryptionContext,
                r#"The encryption context must be a JSON object of strings, like {"app":"billing"}."#,
            )
        })?;
        Ok(Self::from_map(&map))
    }

    pub fn from_map(map: &BTreeMap<String, String>) -> Self {
        if map.is_empty() {
            return Self::none();
        }
        // A BTreeMap serializes with its keys in order, which is the canonical form.
        Self(serde_json::to_string(map).unwrap_or_default())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}
