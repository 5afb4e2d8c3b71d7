//! The CiphertextBlob, format 1.
//!
//! ```text
//! base64( "KC" | 0x01 | key id (16) | key version (u32 BE) | nonce (12) | ciphertext | tag (16) )
//! ```
//! The associated data is every byte before the nonce followed by the canonical context, so the key,
//! the version and the context are all bound to the ciphertext. Parsing is kept apart from the crypto.

use uuid::Uuid;

pub use super::context::CanonicalContext;
use super::error::{ErrorCode, Result, err};
use keyconsole_base::crypto::{NONCE_LEN, TAG_LEN};

pub const MAGIC: &[u8; 2] = b"KC";
pub const FORMAT: u8 = 1;
/// Bytes before the nonce: magic, format, key id, version.
pub const HEADER_LEN: usize = 2 + 1 + 16 + 4;
/// The smallest blob: a header, a nonce, one byte of ciphertext and a tag.
pub const MIN_LEN: usize = HEADER_LEN + NONCE_LEN + 1 + TAG_LEN;
/// The largest blob we accept: a 4096-byte plaintext plus overhead (data keys are at most 1024).
pub const MAX_LEN: usize =
    HEADER_LEN + NONCE_LEN + super::keys::rules::PLAINTEXT_MAX_BYTES + TAG_LEN;

/// A parsed blob, borrowing nothing: the header fields and the sealed bytes (ciphertext + tag).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blob {
    pub key_id: Uuid,
    pub version: u32,
    pub nonce: [u8; NONCE_LEN],
    pub sealed: Vec<u8>,
}

impl Blob {
    pub fn header(key_id: &Uuid, version: u32) -> [u8; HEADER_LEN] {
        let mut header = [0u8; HEADER_LEN];
        header[..2].copy_from_slice(MAGIC);
        header[2] = FORMAT;
        header[3..19].copy_from_slice(key_id.as_bytes());
        header[19..23].copy_from_slice(&version.to_be_bytes());
        header
    }

    /// The associated data that seals this blob under `context`.
    pub fn aad(key_id: &Uuid, version: u32, context: &CanonicalContext) -> Vec<u8> {
        let mut aad = Vec::with_capacity(HEADER_LEN + context.as_str().len());
        aad.extend_from_slice(&Self::header(key_id, version));
        aad.extend_from_slice(context.as_str().as_bytes());
        aad
    }

    /// The binary form (what `from_bytes` reads); files carry their data key this way.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(HEADER_LEN + NONCE_LEN + self.sealed.len());
        bytes.extend_from_slice(&Self::header(&self.key_id, self.version));
        bytes.extend_from_slice(&self.nonce);
        bytes.extend_from_slice(&self.sealed);
        bytes
    }

    pub fn encode(&self) -> String {
        base64_simd::STANDARD.encode_to_string(self.to_bytes())
    }

    /// Parses the base64 text of a blob. Whitespace around it is trimmed; anything else that is not
    /// canonical base64 of a well-formed blob is `InvalidCiphertext`.
    pub fn decode(text: &str) -> Result<Blob> {
        let text = text.trim();
        if text.is_empty() {
            return err(
                ErrorCode::InvalidCiphertext,
                keyconsole_base::text!("errors.the_ciphertext_is_empty"),
            );
        }
        // Base64 of MAX_LEN bytes; refuse longer input before decoding it.
        if text.len() > MAX_LEN.div_ceil(3) * 4 {
            return err(
                ErrorCode::InvalidCiphertext,
                keyconsole_base::text!("errors.the_ciphertext_is_longer_than_any"),
            );
        }
        let bytes = base64_simd::STANDARD.decode_to_vec(text).map_err(|_| {
            super::KmsError::new(
                ErrorCode::InvalidCiphertext,
                keyconsole_base::text!("errors.the_ciphertext_is_not_valid_base64"),
            )
        })?;
        Self::from_bytes(&bytes)
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Blob> {
        if bytes.len() < MIN_LEN || &bytes[..2] != MAGIC {
            return err(
                ErrorCode::InvalidCiphertext,
                keyconsole_base::text!("errors.this_is_not_a_keyconsole_ciphertext"),
            );
        }
        if bytes[2] != FORMAT {
            return err(
                ErrorCode::InvalidCiphertext,
                keyconsole_base::text!(
                    "errors.the_ciphertext_has_format_bytes_this",
                    bytes = bytes[2],
                    value = FORMAT
                ),
            );
        }
        let key_id = Uuid::from_slice(&bytes[3..19]).map_err(|_| {
            super::KmsError::new(
                ErrorCode::InvalidCiphertext,
                keyconsole_base::text!("errors.the_ciphertext_s_key_id_is"),
            )
        })?;
        let version = u32::from_be_bytes([bytes[19], bytes[20], bytes[21], bytes[22]]);
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&bytes[HEADER_LEN..HEADER_LEN + NONCE_LEN]);
        Ok(Blob {
            key_id,
            version,
            nonce,
            sealed: bytes[HEADER_LEN + NONCE_LEN..].to_vec(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;

    #[test]
    fn context_is_canonical() {
        let a = CanonicalContext::parse(Some(r#"{"b":"2", "a":"1"}"#)).unwrap();
        let b = CanonicalContext::parse(Some(r#"{"a":"1","b":"2"}"#)).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.as_str(), r#"{"a":"1","b":"2"}"#);
        assert_eq!(
            CanonicalContext::parse(Some("{}")).unwrap(),
            CanonicalContext::none()
        );
        assert_eq!(
            CanonicalContext::parse(None).unwrap(),
            CanonicalContext::none()
        );
        for bad in ["[]", r#"{"a":1}"#, "nope", r#"{"a":"1""#] {
            assert_eq!(
                CanonicalContext::parse(Some(bad)).unwrap_err().code,
                ErrorCode::InvalidEncryptionContext
            );
        }
    }

    #[test]
    fn blob_round_trip_and_strictness() {
        let blob = Blob {
            key_id: Uuid::new_v4(),
            version: 7,
            nonce: [9; NONCE_LEN],
            sealed: vec![1; 20],
        };
        let text = blob.encode();
        assert_eq!(Blob::decode(&format!("  {text}\n")).unwrap(), blob);
        let mut inner = text.clone();
        inner.insert(10, ' ');
        assert!(Blob::decode(&inner).is_err());
        // Below the minimum length, or with another marker or format, parsing itself refuses.
        let too_short = STANDARD.encode([b'K', b'C', FORMAT].repeat(MIN_LEN / 3));
        assert_eq!(
            Blob::decode(&too_short).unwrap_err().code,
            ErrorCode::InvalidCiphertext
        );
        let mut bytes = STANDARD.decode(&text).unwrap();
        bytes[2] = 2;
        assert!(
            Blob::decode(&STANDARD.encode(&bytes))
                .unwrap_err()
                .message
                .contains("format 2")
        );
    }
}
