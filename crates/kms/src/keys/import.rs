//! Imported key material (BYOK): an EXTERNAL key waits in PendingImport; GetParametersForImport
//! hands out an RSA-2048 wrapping public key and a token (24 hours); ImportKeyMaterial unwraps the
//! material with it (256 bits for an AES key, 128 for SM4), optionally until `ValidTo`;
//! DeleteImportedKeyMaterial (or the expiry, by the maintenance tick) takes the material away and
//! the key waits again. Material imported again must be the same as the first.

use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::record::{ImportParameters, KeyOrigin, KeyRecord, KeyState, KeyVersion};
use crate::Kms;
use crate::error::{ErrorCode, KmsError, Result, err};
use keyconsole_base::crypto::{self, asymmetric};

/// The wrapping key and token are valid this long, as in the cloud.
pub const IMPORT_PARAMETERS_SECONDS: i64 = 24 * 3600;
/// The latest `ValidTo` the cloud accepts.
pub const VALID_TO_MAX: i64 = 2_147_443_200;

/// What GetParametersForImport answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportParametersOut {
    pub key_id: String,
    pub token: String,
    /// The wrapping public key, SubjectPublicKeyInfo DER.
    pub public_key: Vec<u8>,
    pub valid_to: i64,
}

fn not_external(record: &KeyRecord) -> KmsError {
    KmsError::new(
        ErrorCode::NotExternalCmk,
        keyconsole_base::text!("errors.key_alias_is_not_external", alias = record.alias),
    )
}

fn material_check(record: &KeyRecord, material: &[u8]) -> String {
    let mut hash = Sha256::new();
    hash.update(b"keyconsole imported material v1\0");
    hash.update(record.key_id.as_bytes());
    hash.update(material);
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Takes an EXTERNAL key's material away (deletion or expiry): ciphertexts made with it open
/// again only once the same material is imported.
pub(crate) fn drop_material(record: &mut KeyRecord) {
    record.versions.clear(); // dropping the versions wipes the material
    if record.state != KeyState::PendingDelete {
        record.state = KeyState::PendingImport;
    }
    if let Some(import) = &mut record.import {
        import.valid_to = 0;
    }
}

/// Whether an EXTERNAL key's material has passed its `ValidTo`.
pub(crate) fn material_expired(record: &KeyRecord, now: i64) -> bool {
    !record.versions.is_empty()
        && record
            .import
            .as_ref()
            .is_some_and(|i| i.valid_to != 0 && i.valid_to <= now)
}

impl Kms {
    /// GetParametersForImport: a fresh wrapping key pair and token for an EXTERNAL key waiting
    /// for its material (each call replaces the one before).
    pub fn get_parameters_for_import(
        &self,
        key: &str,
        wrapping_algorithm: &str,
        wrapping_key_spec: Option<&str>,
    ) -> Result<ImportParametersOut> {
        if asymmetric::DecryptAlgorithm::rsa_from_name(wrapping_algorithm.trim()).is_none() {
            return err(
                ErrorCode::InvalidParameterValue,
                keyconsole_base::text!(
                    "errors.wrappingalgorithm_name_is_not_one_of",
                    name = wrapping_algorithm
                ),
            );
        }
        if let Some(spec) = wrapping_key_spec.map(str::trim).filter(|s| !s.is_empty())
            && spec != "RSA_2048"
        {
            return err(
                ErrorCode::InvalidParameterValue,
                keyconsole_base::text!("errors.wrappingkeyspec_spec_is_not_rsa_2048", spec = spec),
            );
        }
        // Made before the transaction: an RSA key pair takes ~100 ms.
        let wrapping_key =
            asymmetric::generate(asymmetric::PairKind::RsaDecrypt).map_err(|_| {
                KmsError::new(
                    ErrorCode::InternalError,
                    keyconsole_base::text!("errors.making_a_key_pair_failed"),
                )
            })?;
        let pair =
            asymmetric::KeyPair::from_private(asymmetric::PairKind::RsaDecrypt, &wrapping_key)
                .map_err(|_| {
                    KmsError::new(
                        ErrorCode::InternalError,
                        keyconsole_base::text!("errors.making_a_key_pair_failed"),
                    )
                })?;
        let token_bytes: [u8; 32] = crypto::random_bytes();
        let token = base64_simd::URL_SAFE_NO_PAD.encode_to_string(token_bytes);
        self.change_key(key, |record, now| {
            if record.origin != KeyOrigin::External {
                return Err(not_external(record));
            }
            if record.state != KeyState::PendingImport {
                return Err(super::rules::state_error(
                    record,
                    keyconsole_base::text!("errors.import_material"),
                ));
            }
            let valid_to = now + IMPORT_PARAMETERS_SECONDS;
            record.import.get_or_insert_default().parameters = Some(ImportParameters {
                token: token.clone(),
                algorithm: wrapping_algorithm.trim().to_owned(),
                wrapping_key: wrapping_key.clone(),
                valid_to,
            });
            Ok(ImportParametersOut {
                key_id: record.key_id.to_string(),
                token: token.clone(),
                public_key: pair.public_key_der().to_vec(),
                valid_to,
            })
        })
    }

    /// ImportKeyMaterial: `encrypted_material` is the material wrapped with the public key and
    /// algorithm GetParametersForImport gave with `token`. `valid_to` 0 never expires.
    pub fn import_key_material(
        &self,
        key: &str,
        encrypted_material: &[u8],
        token: &str,
        valid_to: i64,
    ) -> Result<()> {
        if valid_to != 0 && !(self.now() < valid_to && valid_to <= VALID_TO_MAX) {
            return err(
                ErrorCode::InvalidParameterValue,
                keyconsole_base::text!(
                    "errors.validto_is_valid_to_use_0",
                    valid_to = valid_to,
                    max = VALID_TO_MAX
                ),
            );
        }
        self.change_key(key, |record, now| {
            if record.origin != KeyOrigin::External {
                return Err(not_external(record));
            }
            if record.state != KeyState::PendingImport {
                return Err(super::rules::state_error(
                    record,
                    keyconsole_base::text!("errors.import_material"),
                ));
            }
            let Some(parameters) = record
                .import
                .as_ref()
                .and_then(|i| i.parameters.as_ref())
                .filter(|p| p.token == token.trim())
            else {
                return err(
                    ErrorCode::TokenExpired,
                    keyconsole_base::text!("errors.the_import_token_is_not_the"),
                );
            };
            if parameters.valid_to <= now {
                return err(
                    ErrorCode::TokenExpired,
                    keyconsole_base::text!("errors.the_import_token_has_expired"),
                );
            }
            let algorithm = asymmetric::DecryptAlgorithm::rsa_from_name(&parameters.algorithm)
                .unwrap_or(asymmetric::DecryptAlgorithm::RsaesOaepSha256);
            let material: Zeroizing<Vec<u8>> = asymmetric::KeyPair::from_private(
                asymmetric::PairKind::RsaDecrypt,
                &parameters.wrapping_key,
            )
            .and_then(|pair| pair.decrypt(algorithm, encrypted_material))
            .map_err(|_| {
                KmsError::new(
                    ErrorCode::DecryptMaterialError,
                    keyconsole_base::text!(
                        "errors.the_material_does_not_unwrap_with",
                        algorithm = parameters.algorithm
                    ),
                )
            })?;
            let expected = record.spec.cipher().map_or(0, |c| c.key_len());
            if material.len() != expected {
                return err(
                    ErrorCode::DecryptMaterialError,
                    keyconsole_base::text!(
                        "errors.the_material_is_len_bytes_a",
                        len = material.len(),
                        spec = record.spec.as_str(),
                        expected = expected
                    ),
                );
            }
            let check = material_check(record, &material);
            let import = record.import.get_or_insert_default();
            if !import.material_check.is_empty() && import.material_check != check {
                return err(
                    ErrorCode::MaterialNotMatch,
                    keyconsole_base::text!("errors.this_is_not_the_material_the"),
                );
            }
            import.material_check = check;
            import.valid_to = valid_to;
            // The token is spent.
            import.parameters = None;
            record.versions = vec![KeyVersion::new(&material, now)];
            record.state = KeyState::Enabled;
            Ok(())
        })
    }

    /// DeleteImportedKeyMaterial: the key goes back to PendingImport; its ciphertexts open again
    /// once the same material is imported.
    pub fn delete_imported_key_material(&self, key: &str) -> Result<()> {
        self.change_key(key, |record, _| {
            if record.origin != KeyOrigin::External {
                return Err(not_external(record));
            }
            if !matches!(
                record.state,
                KeyState::Enabled | KeyState::Disabled | KeyState::PendingImport
            ) {
                return Err(super::rules::state_error(
                    record,
                    keyconsole_base::text!("errors.delete_its_material"),
                ));
            }
            drop_material(record);
            Ok(())
        })
    }
}
