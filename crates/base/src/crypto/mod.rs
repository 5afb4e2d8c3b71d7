//! The engine's cryptography. One AEAD code path: blobs, the keystore body, the wrapped master key
//! and the Wycheproof tests all go through `seal_aead`/`open_aead` (AES-256-GCM, or SM4-GCM for 国密
//! keys), so the vectors test what users run. Key pairs are in `asymmetric`.

pub mod asymmetric;
pub mod certs;

use aes_gcm::aead::inout::InOutBuf;
use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce, Tag};
use zeroize::{Zeroize, Zeroizing};

pub const KEY_LEN: usize = 32;
pub const NONCE_LEN: usize = 12;
pub const TAG_LEN: usize = 16;

/// The authentication failed: wrong key, wrong associated data, or changed bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AeadError;

/// Encrypts `buf` in place and appends the 16-byte tag.
pub fn seal_in_place(
    key: &[u8; KEY_LEN],
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    buf: &mut Vec<u8>,
) -> Result<(), AeadError> {
    seal_aead(&Aes256Gcm::new(key.into()), nonce, aad, buf)
}

/// Checks the tag at the end of `buf` and decrypts the rest in place, leaving the plaintext in `buf`.
/// On failure `buf` is wiped, so no unauthenticated plaintext ever escapes.
pub fn open_in_place(
    key: &[u8; KEY_LEN],
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    buf: &mut Vec<u8>,
) -> Result<(), AeadError> {
    open_aead(&Aes256Gcm::new(key.into()), nonce, aad, buf)
}

/// SM4 in GCM mode (the 国密 block cipher with the same construction and nonce/tag sizes).
type Sm4Gcm = aes_gcm::AesGcm<sm4::Sm4, aes_gcm::aead::consts::U12>;

/// The symmetric cipher of a customer key: AES-256-GCM (the cloud's FIPS keys) or SM4-GCM (its
/// 国密 keys). Both take 96-bit nonces and give 128-bit tags, so blobs look alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cipher {
    Aes256Gcm,
    Sm4Gcm,
}

impl Cipher {
    pub fn key_len(self) -> usize {
        match self {
            Cipher::Aes256Gcm => KEY_LEN,
            Cipher::Sm4Gcm => 16,
        }
    }

    /// Fresh random key material for this cipher, wiped when dropped.
    pub fn random_key(self) -> Zeroizing<Vec<u8>> {
        let mut key = Zeroizing::new(vec![0u8; self.key_len()]);
        fill_random(&mut key);
        key
    }

    /// [`seal_in_place`] with this cipher; a key of the wrong length is an error, never a panic.
    pub fn seal(
        self,
        key: &[u8],
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        buf: &mut Vec<u8>,
    ) -> Result<(), AeadError> {
        match self {
            Cipher::Aes256Gcm => seal_aead(
                &Aes256Gcm::new_from_slice(key).map_err(|_| AeadError)?,
                nonce,
                aad,
                buf,
            ),
            Cipher::Sm4Gcm => seal_aead(
                &Sm4Gcm::new_from_slice(key).map_err(|_| AeadError)?,
                nonce,
                aad,
                buf,
            ),
        }
    }

    /// [`open_in_place`] with this cipher.
    pub fn open(
        self,
        key: &[u8],
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        buf: &mut Vec<u8>,
    ) -> Result<(), AeadError> {
        let result = match self {
            Cipher::Aes256Gcm => Aes256Gcm::new_from_slice(key)
                .map_err(|_| AeadError)
                .and_then(|c| open_aead(&c, nonce, aad, buf)),
            Cipher::Sm4Gcm => Sm4Gcm::new_from_slice(key)
                .map_err(|_| AeadError)
                .and_then(|c| open_aead(&c, nonce, aad, buf)),
        };
        if result.is_err() {
            buf.zeroize();
        }
        result
    }
}

fn seal_aead<C>(
    cipher: &C,
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    buf: &mut Vec<u8>,
) -> Result<(), AeadError>
where
    C: AeadInOut
        + aes_gcm::aead::AeadCore<
            NonceSize = aes_gcm::aead::consts::U12,
            TagSize = aes_gcm::aead::consts::U16,
        >,
{
    let tag = cipher
        .encrypt_inout_detached(&(*nonce).into(), aad, buf.as_mut_slice().into())
        .map_err(|_| AeadError)?;
    buf.extend_from_slice(tag.as_slice());
    Ok(())
}

fn open_aead<C>(
    cipher: &C,
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    buf: &mut Vec<u8>,
) -> Result<(), AeadError>
where
    C: AeadInOut
        + aes_gcm::aead::AeadCore<
            NonceSize = aes_gcm::aead::consts::U12,
            TagSize = aes_gcm::aead::consts::U16,
        >,
{
    let Some(body_len) = buf.len().checked_sub(TAG_LEN) else {
        return Err(AeadError);
    };
    let tag = aes_gcm::aead::Tag::<C>::try_from(&buf[body_len..]).map_err(|_| AeadError)?;
    let (body, _) = buf.split_at_mut(body_len);
    match cipher.decrypt_inout_detached(&(*nonce).into(), aad, body.into(), &tag) {
        Ok(()) => {
            buf.truncate(body_len);
            Ok(())
        }
        Err(_) => {
            zeroize::Zeroize::zeroize(buf);
            Err(AeadError)
        }
    }
}

/// AES-256-GCM with one key for many messages (the chunks of a file), tags kept apart from the
/// data. Input and output are separate buffers: the cipher reads one and writes the other in the
/// same pass, so a chunk is never copied before it is encrypted (a tenth of a file's CPU time
/// when it was). The same cipher as above.
pub struct ChunkCipher(Aes256Gcm);

impl ChunkCipher {
    pub fn new(key: &[u8; KEY_LEN]) -> Self {
        Self(Aes256Gcm::new(key.into()))
    }

    /// Encrypts `plain` into `out` (the same length) and returns the tag.
    pub fn seal(
        &self,
        nonce: &[u8; NONCE_LEN],
        plain: &[u8],
        out: &mut [u8],
    ) -> Result<[u8; TAG_LEN], AeadError> {
        let buffer = InOutBuf::new(plain, out).map_err(|_| AeadError)?;
        let tag = self
            .0
            .encrypt_inout_detached(&Nonce::from(*nonce), &[], buffer)
            .map_err(|_| AeadError)?;
        let mut tag_bytes = [0u8; TAG_LEN];
        tag_bytes.copy_from_slice(tag.as_slice());
        Ok(tag_bytes)
    }

    /// Checks `tag` over `sealed` and only then decrypts it into `out` (the same length): on
    /// failure nothing is written to `out`, so no unauthenticated plaintext escapes.
    pub fn open(
        &self,
        nonce: &[u8; NONCE_LEN],
        sealed: &[u8],
        out: &mut [u8],
        tag: &[u8; TAG_LEN],
    ) -> Result<(), AeadError> {
        let buffer = InOutBuf::new(sealed, out).map_err(|_| AeadError)?;
        self.0
            .decrypt_inout_detached(&Nonce::from(*nonce), &[], buffer, &Tag::from(*tag))
            .map_err(|_| AeadError)
    }
}

/// Fills a buffer from the operating system's CSPRNG.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    fill_random(&mut out);
    out
}

/// Bytes of the OS CSPRNG, fetched a pool at a time per thread: nonces and request ids are needed
/// on every API request, and a `getrandom` call for each was a system call per request (two with
/// the request id). The pool is the kernel's output, unchanged; what is handed out is wiped from
/// it. keyconsole never forks without exec, so no two processes can share a pool. Keys and salts
/// still come straight from `fill_random`.
pub fn nonce_bytes<const N: usize>() -> [u8; N] {
    const POOL: usize = 4096;
    struct Pool {
        bytes: Zeroizing<[u8; POOL]>,
        used: usize,
    }
    thread_local! {
        static POOL_BYTES: std::cell::RefCell<Pool> = std::cell::RefCell::new(Pool {
            bytes: Zeroizing::new([0u8; POOL]),
            used: POOL,
        });
    }
    let mut out = [0u8; N];
    if N > POOL {
        fill_random(&mut out);
        return out;
    }
    POOL_BYTES.with_borrow_mut(|pool| {
        if POOL - pool.used < N {
            fill_random(pool.bytes.as_mut());
            pool.used = 0;
        }
        let taken = &mut pool.bytes[pool.used..pool.used + N];
        out.copy_from_slice(taken);
        taken.zeroize();
        pool.used += N;
    });
    out
}

/// A fresh random 256-bit key, wiped when dropped.
pub fn random_key() -> Zeroizing<[u8; KEY_LEN]> {
    let mut key = Zeroizing::new([0u8; KEY_LEN]);
    fill_random(key.as_mut());
    key
}

pub fn fill_random(out: &mut [u8]) {
    // The OS RNG failing leaves no safe way on; every caller needs fresh randomness for keys or nonces.
    getrandom::fill(out).expect("the operating system's random number generator failed");
}

#[cfg(test)]
mod nonce_tests {
    use crate::crypto::nonce_bytes;
    use std::collections::HashSet;

    #[test]
    fn nonces_never_repeat_across_pool_refills_and_threads() {
        // 12-byte nonces: 4096 / 12 leaves 4 bytes over, so refills happen mid-stream.
        let mine: Vec<[u8; 12]> = (0..2000).map(|_| nonce_bytes()).collect();
        let theirs: Vec<[u8; 12]> =
            std::thread::spawn(|| (0..2000).map(|_| nonce_bytes()).collect())
                .join()
                .expect("thread");
        let all: HashSet<[u8; 12]> = mine.iter().chain(&theirs).copied().collect();
        assert_eq!(all.len(), 4000);
        // Not the wiped (zero) bytes of the pool.
        assert!(all.iter().all(|n| n != &[0u8; 12]));
        let ids: HashSet<[u8; 16]> = (0..1000).map(|_| nonce_bytes()).collect();
        assert_eq!(ids.len(), 1000);
    }
}

#[cfg(test)]
mod chunk_cipher_tests {
    use crate::crypto::{ChunkCipher, seal_in_place};

    /// The chunk cipher's separate buffers give what the one in-place path gives, and a changed
    /// chunk or tag is refused before a byte of `out` is written.
    #[test]
    fn seals_like_the_in_place_path_and_writes_nothing_it_cannot_authenticate() {
        let (key, nonce) = ([7u8; 32], [9u8; 12]);
        let plain: Vec<u8> = (0..1000u32).map(|i| (i % 251) as u8).collect();
        let cipher = ChunkCipher::new(&key);
        let mut sealed = vec![0u8; plain.len()];
        let tag = cipher.seal(&nonce, &plain, &mut sealed).unwrap();
        let mut in_place = plain.clone();
        seal_in_place(&key, &nonce, &[], &mut in_place).unwrap();
        assert_eq!([&sealed[..], &tag[..]].concat(), in_place);

        let mut opened = vec![0u8; plain.len()];
        cipher.open(&nonce, &sealed, &mut opened, &tag).unwrap();
        assert_eq!(opened, plain);

        let mut changed = sealed.clone();
        changed[500] ^= 1;
        let mut bad_tag = tag;
        bad_tag[0] ^= 1;
        for (body, tag) in [(&changed, &tag), (&sealed, &bad_tag)] {
            let mut out = vec![0xAAu8; plain.len()];
            assert!(cipher.open(&nonce, body, &mut out, tag).is_err());
            assert!(out.iter().all(|&b| b == 0xAA), "nothing written");
        }
        // Buffers of different lengths are refused, not a panic.
        assert!(cipher.seal(&nonce, &plain, &mut [0u8; 10]).is_err());
        assert!(cipher.open(&nonce, &sealed, &mut [0u8; 10], &tag).is_err());
    }
}
