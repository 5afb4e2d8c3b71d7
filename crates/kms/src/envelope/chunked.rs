//! C2SP chunked encryption (c2sp.org/chunked-encryption), instantiated with AES-256-GCM and
//! HKDF-Expand-SHA-512 as in the Wycheproof vectors ("Cobblestone-256"). Kept apart from the file
//! format so the vectors test exactly this code.
//!
//! ```text
//! key ‖ base nonce ‖ commitment = HKDF-Expand-SHA-512(prk = input key,
//!     info = "c2sp.org/chunked-encryption@v1+" ‖ "AEAD_AES_256_GCM" ‖ 0x00 ‖ salt ‖ context, 76 bytes)
//! ciphertext = salt (24) ‖ commitment (32) ‖ AEAD(chunk 0) ‖ AEAD(chunk 1) ‖ …
//! ```
//! Chunks are 16 KiB; the final one is always shorter (possibly empty). Chunk i is sealed with the
//! nonce base nonce XOR i (big-endian), no associated data.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha512;
use zeroize::Zeroizing;

use keyconsole_base::crypto::{ChunkCipher, KEY_LEN, NONCE_LEN, TAG_LEN};

pub const CHUNK_LEN: usize = 16 * 1024;
pub const SEALED_CHUNK_LEN: usize = CHUNK_LEN + TAG_LEN;
pub const SALT_LEN: usize = 24;
pub const COMMITMENT_LEN: usize = 32;
pub const PREFIX_LEN: usize = SALT_LEN + COMMITMENT_LEN;
/// The spec's limit on the chunk counter.
pub const MAX_CHUNKS: u64 = 1 << 40;
const INFO_PREFIX: &[u8] = b"c2sp.org/chunked-encryption@v1+";
const AEAD_NAME: &[u8] = b"AEAD_AES_256_GCM";

/// Why a chunked ciphertext was refused; each maps to `FailedOperation.DecryptError` above this layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChunkedError {
    InvalidKeySize,
    /// Shorter than the salt and commitment.
    Truncated,
    /// The commitment does not match: wrong key, wrong context, or a changed salt/commitment.
    Commitment,
    /// A chunk did not authenticate (changed, reordered, truncated, or trailing data).
    Chunk(u64),
    TooLong,
}

/// The per-message key, base nonce and commitment.
pub struct Derived {
    cipher: ChunkCipher,
    base_nonce: [u8; NONCE_LEN],
    pub commitment: [u8; COMMITMENT_LEN],
    key: Zeroizing<[u8; KEY_LEN]>,
}

impl Derived {
    pub fn new(
        input_key: &[u8],
        salt: &[u8; SALT_LEN],
        context: &[u8],
    ) -> Result<Self, ChunkedError> {
        if input_key.len() != KEY_LEN {
            return Err(ChunkedError::InvalidKeySize);
        }
        // HKDF-Expand (RFC 5869 §2.3) with the input key as PRK. The `hkdf` crate insists on a PRK
        // as long as the hash, but C2SP uses the 32-byte input key directly, so expand by hand.
        let mut okm = Zeroizing::new([0u8; 128]);
        let mut previous: Zeroizing<Vec<u8>> = Zeroizing::default();
        for block in 0..2u8 {
            let mut mac = <Hmac<Sha512> as KeyInit>::new_from_slice(input_key)
                .map_err(|_| ChunkedError::InvalidKeySize)?;
            mac.update(&previous);
            mac.update(INFO_PREFIX);
            mac.update(AEAD_NAME);
            mac.update(&[0]);
            mac.update(salt);
            mac.update(context);
            mac.update(&[block + 1]);
            let t = mac.finalize().into_bytes();
            okm[usize::from(block) * 64..usize::from(block + 1) * 64].copy_from_slice(&t);
            previous = Zeroizing::new(t.to_vec());
        }
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        key.copy_from_slice(&okm[..KEY_LEN]);
        let mut base_nonce = [0u8; NONCE_LEN];
        base_nonce.copy_from_slice(&okm[KEY_LEN..KEY_LEN + NONCE_LEN]);
        let mut commitment = [0u8; COMMITMENT_LEN];
        commitment.copy_from_slice(&okm[KEY_LEN + NONCE_LEN..KEY_LEN + NONCE_LEN + COMMITMENT_LEN]);
        Ok(Self {
            cipher: ChunkCipher::new(&key),
            base_nonce,
            commitment,
            key,
        })
    }

    /// The derived AEAD key and base nonce (raw mode), for checking against test vectors.
    pub fn raw(&self) -> (&[u8; KEY_LEN], &[u8; NONCE_LEN]) {
        (&self.key, &self.base_nonce)
    }

    fn nonce(&self, counter: u64) -> [u8; NONCE_LEN] {
        let mut nonce = self.base_nonce;
        for (n, c) in nonce[NONCE_LEN - 8..].iter_mut().zip(counter.to_be_bytes()) {
            *n ^= c;
        }
        nonce
    }

    /// Seals `plain` (at most one chunk) into `out`, which is `plain.len() + 16` bytes.
    pub fn seal_chunk(
        &self,
        counter: u64,
        plain: &[u8],
        out: &mut [u8],
    ) -> Result<(), ChunkedError> {
        if counter >= MAX_CHUNKS {
            return Err(ChunkedError::TooLong);
        }
        let (body, tag_out) = out.split_at_mut(plain.len());
        let tag = self
            .cipher
            .seal(&self.nonce(counter), plain, body)
            .map_err(|_| ChunkedError::Chunk(counter))?;
        tag_out.copy_from_slice(&tag);
        Ok(())
    }

    /// Opens a sealed chunk into `out` (`sealed.len() - 16` bytes).
    pub fn open_chunk(
        &self,
        counter: u64,
        sealed: &[u8],
        out: &mut [u8],
    ) -> Result<(), ChunkedError> {
        if counter >= MAX_CHUNKS {
            return Err(ChunkedError::TooLong);
        }
        let Some(body_len) = sealed.len().checked_sub(TAG_LEN) else {
            return Err(ChunkedError::Chunk(counter));
        };
        let (body, tag_bytes) = sealed.split_at(body_len);
        let mut tag = [0u8; TAG_LEN];
        tag.copy_from_slice(tag_bytes);
        self.cipher
            .open(&self.nonce(counter), body, out, &tag)
            .map_err(|_| ChunkedError::Chunk(counter))
    }

    /// Constant-time check of a commitment read from a ciphertext.
    pub fn check_commitment(&self, commitment: &[u8]) -> Result<(), ChunkedError> {
        if commitment.len() != COMMITMENT_LEN {
            return Err(ChunkedError::Truncated);
        }
        let difference = self
            .commitment
            .iter()
            .zip(commitment)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        if difference == 0 {
            Ok(())
        } else {
            Err(ChunkedError::Commitment)
        }
    }
}
