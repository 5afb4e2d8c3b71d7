//! The cryptographic operations: Encrypt, Decrypt, ReEncrypt, GenerateDataKey, GenerateRandom.
//! They read the keyring and never change it (only encryption counters move, atomically).

use keyconsole_base::util::SecretBytes;

use super::Kms;
use super::blob::{Blob, CanonicalContext};
use super::error::{ErrorCode, KmsError, Result, err};
use super::keyring::KeyRef;
use super::keys::rules::{check_plaintext, check_random_len, state_error};
use super::keys::{DataKeySpec, KeyRecord};
use super::usage::{count_in_change, reservation_needed};
use keyconsole_base::crypto;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encrypted {
    pub key_id: String,
    pub ciphertext_blob: String,
}

pub struct Decrypted {
    pub key_id: String,
    pub plaintext: SecretBytes,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReEncrypted {
    pub ciphertext_blob: String,
    pub key_id: String,
    pub source_key_id: String,
    /// Whether the new ciphertext is under another key, a newer version or another context.
    pub re_encrypted: bool,
}

pub struct DataKey {
    pub key_id: String,
    pub plaintext: SecretBytes,
    pub ciphertext_blob: String,
}

impl Kms {
    /// Encrypt: 1 to 4096 bytes under the key's newest version, bound to `context`.
    pub fn encrypt(
        &self,
        key: &str,
        plaintext: &[u8],
        context: &CanonicalContext,
    ) -> Result<Encrypted> {
        check_plaintext(plaintext)?;
        self.reserving(|| {
            let record = self.key(key)?;
            if !record.state.may_encrypt() {
                return Err(state_error(
                    &record,
                    keyconsole_base::text!("errors.encrypt"),
                ));
            }
            let blob = seal_blob(&record, plaintext, context)?;
            Ok(Encrypted {
                key_id: record.key_id.to_string(),
                ciphertext_blob: blob,
            })
        })
    }

    /// Decrypt: the blob names its key and version, so no KeyId is needed. Any tampering, a foreign
    /// blob or another context is `FailedOperation.DecryptError`; never partial plaintext.
    pub fn decrypt(&self, ciphertext_blob: &str, context: &CanonicalContext) -> Result<Decrypted> {
        let blob = Blob::decode(ciphertext_blob)?;
        let (record, plaintext) = self.open_blob(&blob, context)?;
        Ok(Decrypted {
            key_id: record.key_id.to_string(),
            plaintext,
        })
    }

    pub(crate) fn open_blob(
        &self,
        blob: &Blob,
        context: &CanonicalContext,
    ) -> Result<(KeyRef, SecretBytes)> {
        let ring = self.ring();
        let Some(&i) = ring.by_id.get(&blob.key_id) else {
            return err(
                ErrorCode::DecryptError,
                keyconsole_base::text!("errors.the_ciphertext_was_made_with_a"),
            );
        };
        let record = KeyRef::new(ring, i);
        if !record.state.may_decrypt() {
            return Err(state_error(
                &record,
                keyconsole_base::text!("errors.decrypt"),
            ));
        }
        let Some(version) = record.version(blob.version) else {
            return err(
                ErrorCode::DecryptError,
                keyconsole_base::text!("errors.the_ciphertext_names_a_key_version"),
            );
        };
        let cipher = symmetric_cipher(&record)?;
        let aad = Blob::aad(&blob.key_id, blob.version, context);
        let mut buf = SecretBytes::from(blob.sealed.clone());
        cipher
            .open(version.material(), &blob.nonce, &aad, &mut buf)
            .map_err(|_| {
                KmsError::new(
                    ErrorCode::DecryptError,
                    keyconsole_base::text!("errors.decryption_failed_the_ciphertext_was_changed"),
                )
            })?;
        Ok((record, buf))
    }

    /// ReEncrypt: decrypt, then encrypt under the newest version of `destination` (default: the same key).
    pub fn re_encrypt(
        &self,
        ciphertext_blob: &str,
        destination: Option<&str>,
        source_context: &CanonicalContext,
        destination_context: &CanonicalContext,
    ) -> Result<ReEncrypted> {
        self.reserving(|| {
            self.re_encrypt_once(
                ciphertext_blob,
                destination,
                source_context,
                destination_context,
            )
        })
    }

    fn re_encrypt_once(
        &self,
        ciphertext_blob: &str,
        destination: Option<&str>,
        source_context: &CanonicalContext,
        destination_context: &CanonicalContext,
    ) -> Result<ReEncrypted> {
        let blob = Blob::decode(ciphertext_blob)?;
        let (source, plaintext) = self.open_blob(&blob, source_context)?;
        let target = match destination.map(str::trim).filter(|d| !d.is_empty()) {
            Some(d) => self.key(d)?,
            None => source.clone(),
        };
        if !target.state.may_encrypt() {
            return Err(state_error(
                &target,
                keyconsole_base::text!("errors.encrypt"),
            ));
        }
        let new_blob = seal_blob(&target, &plaintext, destination_context)?;
        let (newest, _) = target.newest_version();
        Ok(ReEncrypted {
            ciphertext_blob: new_blob,
            key_id: target.key_id.to_string(),
            source_key_id: source.key_id.to_string(),
            re_encrypted: target.key_id != source.key_id
                || newest != blob.version
                || source_context != destination_context,
        })
    }

    /// GenerateDataKey: a fresh random key, returned in plaintext and sealed under the CMK.
    pub fn generate_data_key(
        &self,
        key: &str,
        spec: DataKeySpec,
        context: &CanonicalContext,
    ) -> Result<DataKey> {
        let len = spec.byte_len()?;
        self.reserving(|| {
            let record = self.key(key)?;
            if !record.state.may_encrypt() {
                return Err(state_error(
                    &record,
                    keyconsole_base::text!("errors.generate_a_data_key"),
                ));
            }
            let mut plaintext = SecretBytes::from(vec![0u8; len]);
            crypto::fill_random(&mut plaintext);
            let blob = seal_blob(&record, &plaintext, context)?;
            Ok(DataKey {
                key_id: record.key_id.to_string(),
                plaintext,
                ciphertext_blob: blob,
            })
        })
    }

    /// GenerateRandom: 1 to 1024 bytes from the OS CSPRNG.
    pub fn generate_random(&self, number_of_bytes: u32) -> Result<SecretBytes> {
        let len = check_random_len(number_of_bytes, "NumberOfBytes")?;
        let mut out = SecretBytes::from(vec![0u8; len]);
        crypto::fill_random(&mut out);
        Ok(out)
    }
}

/// The cipher of a symmetric key; a key pair is the wrong kind of key for blobs.
pub(crate) fn symmetric_cipher(record: &KeyRecord) -> Result<crypto::Cipher> {
    record.spec.cipher().ok_or_else(|| {
        KmsError::new(
            ErrorCode::InvalidKeyUsage,
            keyconsole_base::text!(
                "errors.key_alias_is_usage_not_a",
                alias = record.alias,
                usage = record.usage.as_str()
            ),
        )
    })
}

pub(crate) fn seal_blob(
    record: &KeyRecord,
    plaintext: &[u8],
    context: &CanonicalContext,
) -> Result<String> {
    let cipher = symmetric_cipher(record)?;
    let (number, version) = record.newest_version();
    // The count was raised on disk before this encryption (see `kms::usage`).
    if !version.reservation.take_one() {
        return Err(reservation_needed(&record.key_id));
    }
    seal_with(cipher, &record.key_id, number, version, plaintext, context)
}

/// Seals under the newest version of `record`, a key of a keyring that a change is about to
/// save, counting the encryption in that keyring: the result exists only if the save succeeds,
/// and then the count is on disk (secrets are sealed this way).
pub(crate) fn seal_blob_in_change(
    record: &mut KeyRecord,
    plaintext: &[u8],
    context: &CanonicalContext,
) -> Result<String> {
    let cipher = symmetric_cipher(record)?;
    let alias = record.alias.clone();
    let key_id = record.key_id;
    let number = u32::try_from(record.versions.len()).unwrap_or(u32::MAX);
    let version = record.versions.last_mut().ok_or_else(|| {
        KmsError::new(
            ErrorCode::InternalError,
            keyconsole_base::text!("errors.a_key_without_versions"),
        )
    })?;
    count_in_change(version, &alias)?;
    seal_with(cipher, &key_id, number, version, plaintext, context)
}

fn seal_with(
    cipher: crypto::Cipher,
    key_id: &uuid::Uuid,
    number: u32,
    version: &super::keys::KeyVersion,
    plaintext: &[u8],
    context: &CanonicalContext,
) -> Result<String> {
    let nonce = crypto::nonce_bytes();
    let aad = Blob::aad(key_id, number, context);
    let mut sealed = SecretBytes::from(plaintext.to_vec());
    cipher
        .seal(version.material(), &nonce, &aad, &mut sealed)
        .map_err(|_| {
            KmsError::new(
                ErrorCode::InternalError,
                keyconsole_base::text!("errors.encryption_failed"),
            )
        })?;
    Ok(Blob {
        key_id: *key_id,
        version: number,
        nonce,
        sealed: std::mem::take(&mut *sealed),
    }
    .encode())
}
