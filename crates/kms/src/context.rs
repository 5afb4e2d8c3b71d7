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
                keyconsole_base::text!(
                    "errors.the_encryption_context_is_longer_than",
                    context_max_chars = CONTEXT_MAX_CHARS
                ),
            );
        }
        let map: UniqueKeys = serde_json::from_str(json).map_err(|e| {
            let message = match e.to_string() {
                why if why.starts_with(DUPLICATE) => keyconsole_base::text!(
                    "errors.the_encryption_context_names_twice",
                    name = why[DUPLICATE.len()..]
                        .split(" at line")
                        .next()
                        .unwrap_or_default()
                ),
                _ => keyconsole_base::text!("errors.the_encryption_context_must_be_an_object"),
            };
            KmsError::new(ErrorCode::InvalidEncryptionContext, message)
        })?;
        Ok(Self::from_map(&map.0))
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

const DUPLICATE: &str = "duplicate key ";

/// A JSON object of strings whose keys are all different: `{"a":"1","a":"2"}` is refused rather
/// than read as `{"a":"2"}` (two parsers could disagree on which value counts).
struct UniqueKeys(BTreeMap<String, String>);

impl<'de> serde::Deserialize<'de> for UniqueKeys {
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = UniqueKeys;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object of strings")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut access: A,
            ) -> std::result::Result<UniqueKeys, A::Error> {
                let mut map = BTreeMap::new();
                while let Some((key, value)) = access.next_entry::<String, String>()? {
                    if map.contains_key(&key) {
                        return Err(serde::de::Error::custom(format_args!("{DUPLICATE}{key:?}")));
                    }
                    map.insert(key, value);
                }
                Ok(UniqueKeys(map))
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_named_twice_is_refused() {
        let e = CanonicalContext::parse(Some(r#"{"a":"1","a":"2"}"#)).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidEncryptionContext);
        assert!(e.message.contains(r#""a" twice"#), "{}", e.message);
        let ok = CanonicalContext::parse(Some(r#"{"b":"2","a":"1"}"#)).unwrap();
        assert_eq!(ok.as_str(), r#"{"a":"1","b":"2"}"#);
    }
}
