//! The keystore file layout, parsed in one place and kept apart from the crypto.
//!
//! ```text
//! offset size  field
//!      0    4  magic "KCKS"
//!      4    2  format version (u16 BE) = 1
//!      6    1  KDF id: 1 = Argon2id v1.3
//!      7    4  KDF memory in KiB (u32 BE)
//!     11    4  KDF iterations (u32 BE)
//!     15    4  KDF parallelism (u32 BE)
//!     19   16  KDF salt
//!     35   12  nonce of the wrapped master key
//!     47   48  master key (32) sealed with AES-256-GCM under the password KEK, tag included
//!     95    8  generation (u64 BE), +1 on every save
//!    103   12  body nonce
//!    115   32  SHA-256 of bytes 0..115 (tells a damaged header from a wrong password)
//!    147    …  body: JSON of the key records, sealed with AES-256-GCM under the master key,
//!              associated data = bytes 0..115
//! ```
//! The wrapped master key's associated data is bytes 0..35 (magic to salt), so the KDF settings are
//! bound to it as well.

use sha2::{Digest, Sha256};

use keyconsole_base::crypto::{KEY_LEN, NONCE_LEN, TAG_LEN};

pub const MAGIC: &[u8; 4] = b"KCKS";
pub const FORMAT_VERSION: u16 = 1;
pub const KDF_ARGON2ID: u8 = 1;
pub const SALT_LEN: usize = 16;
pub const WRAPPED_KEY_LEN: usize = KEY_LEN + TAG_LEN;
/// Bytes covered by the header hash and used as the body's associated data.
pub const AUTHENTICATED_LEN: usize = 115;
pub const HEADER_LEN: usize = AUTHENTICATED_LEN + 32;
/// Bytes bound to the wrapped master key: everything up to and including the salt.
pub const KEY_WRAP_AAD_LEN: usize = 35;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfParams {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub kdf: KdfParams,
    pub salt: [u8; SALT_LEN],
    pub key_nonce: [u8; NONCE_LEN],
    pub wrapped_key: [u8; WRAPPED_KEY_LEN],
    pub generation: u64,
    pub body_nonce: [u8; NONCE_LEN],
}

/// Why a file could not be read as a keystore.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormatError {
    NotAKeystore,
    UnsupportedVersion(u16),
    UnknownKdf(u8),
    HeaderDamaged,
}

impl Header {
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        out[0..4].copy_from_slice(MAGIC);
        out[4..6].copy_from_slice(&FORMAT_VERSION.to_be_bytes());
        out[6] = KDF_ARGON2ID;
        out[7..11].copy_from_slice(&self.kdf.memory_kib.to_be_bytes());
        out[11..15].copy_from_slice(&self.kdf.iterations.to_be_bytes());
        out[15..19].copy_from_slice(&self.kdf.parallelism.to_be_bytes());
        out[19..35].copy_from_slice(&self.salt);
        out[35..47].copy_from_slice(&self.key_nonce);
        out[47..95].copy_from_slice(&self.wrapped_key);
        out[95..103].copy_from_slice(&self.generation.to_be_bytes());
        out[103..115].copy_from_slice(&self.body_nonce);
        let digest = Sha256::digest(&out[..AUTHENTICATED_LEN]);
        out[AUTHENTICATED_LEN..].copy_from_slice(&digest);
        out
    }

    /// Parses the first bytes of a keystore file. Checks the layout and the header hash, nothing secret.
    pub fn decode(bytes: &[u8]) -> Result<Header, FormatError> {
        if bytes.len() < 6 || &bytes[0..4] != MAGIC {
            return Err(FormatError::NotAKeystore);
        }
        let version = u16::from_be_bytes([bytes[4], bytes[5]]);
        if version != FORMAT_VERSION {
            return Err(FormatError::UnsupportedVersion(version));
        }
        if bytes.len() < HEADER_LEN + TAG_LEN {
            return Err(FormatError::HeaderDamaged);
        }
        let digest = Sha256::digest(&bytes[..AUTHENTICATED_LEN]);
        if digest.as_slice() != &bytes[AUTHENTICATED_LEN..HEADER_LEN] {
            return Err(FormatError::HeaderDamaged);
        }
        if bytes[6] != KDF_ARGON2ID {
            return Err(FormatError::UnknownKdf(bytes[6]));
        }
        let u32_at = |at: usize| {
            u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
        };
        let mut header = Header {
            kdf: KdfParams {
                memory_kib: u32_at(7),
                iterations: u32_at(11),
                parallelism: u32_at(15),
            },
            salt: [0; SALT_LEN],
            key_nonce: [0; NONCE_LEN],
            wrapped_key: [0; WRAPPED_KEY_LEN],
            generation: 0,
            body_nonce: [0; NONCE_LEN],
        };
        header.salt.copy_from_slice(&bytes[19..35]);
        header.key_nonce.copy_from_slice(&bytes[35..47]);
        header.wrapped_key.copy_from_slice(&bytes[47..95]);
        let mut generation = [0u8; 8];
        generation.copy_from_slice(&bytes[95..103]);
        header.generation = u64::from_be_bytes(generation);
        header.body_nonce.copy_from_slice(&bytes[103..115]);
        Ok(header)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trip_and_hash() {
        let header = Header {
            kdf: KdfParams {
                memory_kib: 65536,
                iterations: 3,
                parallelism: 1,
            },
            salt: [1; SALT_LEN],
            key_nonce: [2; NONCE_LEN],
            wrapped_key: [3; WRAPPED_KEY_LEN],
            generation: 42,
            body_nonce: [4; NONCE_LEN],
        };
        let mut bytes = header.encode().to_vec();
        bytes.extend_from_slice(&[0; TAG_LEN]);
        assert_eq!(Header::decode(&bytes), Ok(header));
        bytes[100] ^= 1;
        assert_eq!(Header::decode(&bytes), Err(FormatError::HeaderDamaged));
        assert_eq!(
            Header::decode(b"PK\x03\x04 zip"),
            Err(FormatError::NotAKeystore)
        );
    }
}
