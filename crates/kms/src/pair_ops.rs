//! Operations with key pairs: the public key, signing and verifying, decrypting what was encrypted
//! to a public key, and encrypting an answer to the caller's own public key. Like `crypto_ops`
//! they read the keyring and never change it.

use keyconsole_base::crypto::asymmetric::{
    self, DecryptAlgorithm, KeyPair, MessageType, PairError, PublicEncryption, SignAlgorithm,
};
use keyconsole_base::util::SecretBytes;
use std::sync::Arc;

use super::Kms;
use super::crypto_ops::Decrypted;
use super::error::{ErrorCode, KmsError, Result, err};
use super::keyring::KeyRef;
use super::keys::rules::{PLAINTEXT_MAX_BYTES, state_error};

/// A key pair's public key: SubjectPublicKeyInfo DER and PEM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    pub key_id: String,
    pub der: Vec<u8>,
    pub pem: String,
}

/// SignByAsymmetricKey's `MessageType` by name: `RAW` (the default) or `DIGEST`.
pub fn message_type(name: Option<&str>) -> Result<MessageType> {
    match name.map(str::trim).unwrap_or("") {
        "" | "RAW" => Ok(MessageType::Raw),
        "DIGEST" => Ok(MessageType::Digest),
        other => err(
            ErrorCode::InvalidParameterValue,
            keyconsole_base::text!("errors.messagetype_other_is_not_raw_or", other = other),
        ),
    }
}

/// The usable algorithm names, for messages.
fn names<T: Copy>(all: &[T], name: impl Fn(T) -> &'static str) -> String {
    all.iter().map(|&a| name(a)).collect::<Vec<_>>().join(", ")
}

impl Kms {
    /// A key pair of this keyring, its newest (and only) version parsed, in a state that allows
    /// decrypting (`decrypting`: archived keys still do) or else signing.
    fn key_pair(&self, key: &str, decrypting: bool) -> Result<(KeyRef, Arc<KeyPair>)> {
        let record = self.key(key)?;
        let Some(kind) = record.usage.pair_kind() else {
            return err(
                ErrorCode::InvalidKeyUsage,
                keyconsole_base::text!("errors.key_alias_is_a_symmetric_key", alias = record.alias),
            );
        };
        let allowed = if decrypting {
            record.state.may_decrypt()
        } else {
            record.state.may_encrypt()
        };
        if !allowed {
            return Err(state_error(
                &record,
                keyconsole_base::text!("errors.use_its_key_pair"),
            ));
        }
        let pair = record.newest_version().1.key_pair(kind).map_err(|_| {
            KmsError::new(
                ErrorCode::KeystoreDamaged,
                keyconsole_base::text!("errors.the_key_pair_of_alias_cannot", alias = record.alias),
            )
        })?;
        Ok((record, pair))
    }

    /// GetPublicKey.
    pub fn public_key(&self, key: &str) -> Result<PublicKey> {
        let (record, pair) = self.key_pair(key, true)?;
        Ok(PublicKey {
            key_id: record.key_id.to_string(),
            der: pair.public_key_der().to_vec(),
            pem: pair.public_key_pem(),
        })
    }

    fn signing(
        &self,
        key: &str,
        algorithm: &str,
        message_type: MessageType,
        message: &[u8],
    ) -> Result<(Arc<KeyPair>, SignAlgorithm)> {
        let (record, pair) = self.key_pair(key, false)?;
        if !record.usage.signs() {
            return err(
                ErrorCode::InvalidKeyUsage,
                keyconsole_base::text!(
                    "errors.key_alias_decrypts_it_does_not",
                    alias = record.alias
                ),
            );
        }
        let allowed = pair.kind().sign_algorithms();
        let Some(algorithm) =
            SignAlgorithm::from_name(algorithm.trim()).filter(|a| allowed.contains(a))
        else {
            return err(
                ErrorCode::InvalidParameterValue,
                keyconsole_base::text!(
                    "errors.algorithm_name_is_not_one_alias",
                    name = algorithm,
                    alias = record.alias,
                    names = names(allowed, SignAlgorithm::name)
                ),
            );
        };
        match message_type {
            MessageType::Raw if message.is_empty() || message.len() > PLAINTEXT_MAX_BYTES => err(
                ErrorCode::InvalidParameterValue,
                keyconsole_base::text!(
                    "errors.a_message_to_sign_is_1",
                    max = PLAINTEXT_MAX_BYTES,
                    len = message.len()
                ),
            ),
            MessageType::Digest if message.len() != algorithm.digest_len() => err(
                ErrorCode::InvalidParameterValue,
                keyconsole_base::text!(
                    "errors.a_digest_for_name_is_len",
                    name = algorithm.name(),
                    len = algorithm.digest_len(),
                    given = message.len()
                ),
            ),
            _ => Ok((pair, algorithm)),
        }
    }

    /// SignByAsymmetricKey: the signature as OpenSSL makes it (DER for ECDSA and SM2).
    pub fn sign(
        &self,
        key: &str,
        algorithm: &str,
        message_type: MessageType,
        message: &[u8],
    ) -> Result<Vec<u8>> {
        let (pair, algorithm) = self.signing(key, algorithm, message_type, message)?;
        pair.sign(algorithm, message_type, message)
            .map_err(pair_error)
    }

    /// VerifyByAsymmetricKey: whether `signature` is the key's signature of `message`.
    pub fn verify(
        &self,
        key: &str,
        algorithm: &str,
        message_type: MessageType,
        message: &[u8],
        signature: &[u8],
    ) -> Result<bool> {
        let (pair, algorithm) = self.signing(key, algorithm, message_type, message)?;
        pair.verify(algorithm, message_type, message, signature)
            .map_err(pair_error)
    }

    /// AsymmetricRsaDecrypt (`algorithm` one of the RSAES names) and AsymmetricSm2Decrypt
    /// (`algorithm` None): what was encrypted to the key's public key.
    pub fn asymmetric_decrypt(
        &self,
        key: &str,
        algorithm: Option<&str>,
        ciphertext: &[u8],
    ) -> Result<Decrypted> {
        let (record, pair) = self.key_pair(key, true)?;
        let allowed = pair.kind().decrypt_algorithms();
        if allowed.is_empty() {
            return err(
                ErrorCode::InvalidKeyUsage,
                keyconsole_base::text!("errors.key_alias_signs_it_does_not", alias = record.alias),
            );
        }
        let algorithm = match algorithm.map(str::trim) {
            None => DecryptAlgorithm::Sm2,
            Some(name) => DecryptAlgorithm::rsa_from_name(name).ok_or_else(|| {
                KmsError::new(
                    ErrorCode::InvalidParameterValue,
                    keyconsole_base::text!(
                        "errors.algorithm_name_is_not_one_alias_2",
                        name = name,
                        names = "RSAES_PKCS1_V1_5, RSAES_OAEP_SHA_1, RSAES_OAEP_SHA_256"
                    ),
                )
            })?,
        };
        if !allowed.contains(&algorithm) {
            // An SM2 key asked for RSA, or an RSA key for SM2: the other action is the one.
            return err(
                ErrorCode::InvalidKeyUsage,
                keyconsole_base::text!(
                    "errors.key_alias_is_usage_decrypt_it",
                    alias = record.alias,
                    usage = record.usage.as_str()
                ),
            );
        }
        let plaintext = pair.decrypt(algorithm, ciphertext).map_err(|_| {
            KmsError::new(
                ErrorCode::DecryptError,
                keyconsole_base::text!("errors.the_ciphertext_does_not_decrypt_under"),
            )
        })?;
        Ok(Decrypted {
            key_id: record.key_id.to_string(),
            plaintext: SecretBytes::from(plaintext.to_vec()),
        })
    }
}

/// The `EncryptionPublicKey` / `EncryptionAlgorithm` pair of Decrypt, GenerateDataKey and
/// GetSecretValue: `plaintext` encrypted to the caller's PEM public key (SM2 C1C3C2 by default),
/// so the answer never carries it in the clear.
pub fn encrypt_for_caller(
    public_key_pem: &str,
    algorithm: Option<&str>,
    plaintext: &[u8],
) -> Result<Vec<u8>> {
    let algorithm = match algorithm.map(str::trim).filter(|a| !a.is_empty()) {
        None => PublicEncryption::default(),
        Some(name) => PublicEncryption::from_name(name).ok_or_else(|| {
            KmsError::new(
                ErrorCode::InvalidParameterValue,
                keyconsole_base::text!(
                    "errors.encryptionalgorithm_name_is_not_one_of",
                    name = name,
                    names = names(&PublicEncryption::ALL, PublicEncryption::name)
                ),
            )
        })?,
    };
    asymmetric::encrypt_to_public_key(public_key_pem, algorithm, plaintext).map_err(|e| match e {
        PairError::BadPublicKey => KmsError::new(
            ErrorCode::InvalidParameterValue,
            keyconsole_base::text!(
                "errors.encryptionpublickey_is_not_a_pem",
                name = algorithm.name()
            ),
        ),
        _ => KmsError::new(
            ErrorCode::EncryptionError,
            keyconsole_base::text!("errors.encrypting_the_answer_to_your_public"),
        ),
    })
}

fn pair_error(error: PairError) -> KmsError {
    match error {
        PairError::Malformed => KmsError::new(
            ErrorCode::KeystoreDamaged,
            keyconsole_base::text!("errors.the_key_pair_cannot_be_read"),
        ),
        _ => KmsError::new(
            ErrorCode::InternalError,
            keyconsole_base::text!("errors.signing_failed"),
        ),
    }
}
