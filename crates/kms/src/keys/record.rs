//! Customer master keys: their records as stored and their metadata as shown (and serialized: the
//! API's KeyMetadata and `key list --json` come from `api::tencent::shapes`).

use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::tags::Tag;
use crate::usage::Reservation;
use keyconsole_base::crypto::Cipher;
use keyconsole_base::crypto::asymmetric::{KeyPair, PairError, PairKind};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KeyState {
    Enabled,
    Disabled,
    PendingDelete,
    Archived,
    /// An EXTERNAL key without material: made so, or its material deleted or expired.
    PendingImport,
}

impl KeyState {
    pub const ALL: [KeyState; 5] = [
        KeyState::Enabled,
        KeyState::Disabled,
        KeyState::PendingDelete,
        KeyState::Archived,
        KeyState::PendingImport,
    ];

    /// The name the API uses (`KeyState` field).
    pub fn as_str(self) -> &'static str {
        match self {
            KeyState::Enabled => "Enabled",
            KeyState::Disabled => "Disabled",
            KeyState::PendingDelete => "PendingDelete",
            KeyState::Archived => "Archived",
            KeyState::PendingImport => "PendingImport",
        }
    }
}

/// What a key does: the cloud's `KeyUsage`. One symmetric usage (AES-256 or SM4 by its
/// [`KeySpec`]), six asymmetric ones, each a key pair that either decrypts or signs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KeyUsage {
    #[serde(rename = "ENCRYPT_DECRYPT")]
    EncryptDecrypt,
    #[serde(rename = "ASYMMETRIC_DECRYPT_RSA_2048")]
    DecryptRsa2048,
    #[serde(rename = "ASYMMETRIC_DECRYPT_SM2")]
    DecryptSm2,
    #[serde(rename = "ASYMMETRIC_SIGN_VERIFY_SM2")]
    SignSm2,
    #[serde(rename = "ASYMMETRIC_SIGN_VERIFY_ECC")]
    SignEccP256,
    #[serde(rename = "ASYMMETRIC_SIGN_VERIFY_RSA_2048")]
    SignRsa2048,
    #[serde(rename = "ASYMMETRIC_SIGN_VERIFY_ECDSA384")]
    SignEcdsa384,
}

impl KeyUsage {
    pub const ALL: [KeyUsage; 7] = [
        KeyUsage::EncryptDecrypt,
        KeyUsage::DecryptRsa2048,
        KeyUsage::DecryptSm2,
        KeyUsage::SignSm2,
        KeyUsage::SignEccP256,
        KeyUsage::SignRsa2048,
        KeyUsage::SignEcdsa384,
    ];

    /// The name the API uses (`KeyUsage` field).
    pub fn as_str(self) -> &'static str {
        match self {
            KeyUsage::EncryptDecrypt => "ENCRYPT_DECRYPT",
            KeyUsage::DecryptRsa2048 => "ASYMMETRIC_DECRYPT_RSA_2048",
            KeyUsage::DecryptSm2 => "ASYMMETRIC_DECRYPT_SM2",
            KeyUsage::SignSm2 => "ASYMMETRIC_SIGN_VERIFY_SM2",
            KeyUsage::SignEccP256 => "ASYMMETRIC_SIGN_VERIFY_ECC",
            KeyUsage::SignRsa2048 => "ASYMMETRIC_SIGN_VERIFY_RSA_2048",
            KeyUsage::SignEcdsa384 => "ASYMMETRIC_SIGN_VERIFY_ECDSA384",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|u| u.as_str() == name)
    }

    /// The key pair behind an asymmetric usage; None for the symmetric one.
    pub fn pair_kind(self) -> Option<PairKind> {
        match self {
            KeyUsage::EncryptDecrypt => None,
            KeyUsage::DecryptRsa2048 => Some(PairKind::RsaDecrypt),
            KeyUsage::DecryptSm2 => Some(PairKind::Sm2Decrypt),
            KeyUsage::SignSm2 => Some(PairKind::Sm2Sign),
            KeyUsage::SignEccP256 => Some(PairKind::EcdsaP256),
            KeyUsage::SignRsa2048 => Some(PairKind::RsaSign),
            KeyUsage::SignEcdsa384 => Some(PairKind::EcdsaP384),
        }
    }

    pub fn signs(self) -> bool {
        self.pair_kind().is_some_and(PairKind::signs)
    }

    pub fn decrypts_asymmetric(self) -> bool {
        self.pair_kind().is_some_and(PairKind::decrypts)
    }

    /// The material an asymmetric usage has (a symmetric key's is chosen: AES-256 or SM4).
    pub fn pair_spec(self) -> Option<KeySpec> {
        match self {
            KeyUsage::EncryptDecrypt => None,
            KeyUsage::DecryptRsa2048 | KeyUsage::SignRsa2048 => Some(KeySpec::Rsa2048),
            KeyUsage::DecryptSm2 | KeyUsage::SignSm2 => Some(KeySpec::Sm2),
            KeyUsage::SignEccP256 => Some(KeySpec::EccP256),
            KeyUsage::SignEcdsa384 => Some(KeySpec::EccP384),
        }
    }
}

/// A key's material: the algorithm and size (Huawei's `key_spec`; Tencent's `Type` tells FIPS
/// from 国密). Keystores from before key kinds hold AES-256 keys only.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KeySpec {
    #[default]
    #[serde(rename = "AES_256")]
    Aes256,
    #[serde(rename = "SM4")]
    Sm4,
    #[serde(rename = "RSA_2048")]
    Rsa2048,
    #[serde(rename = "EC_P256")]
    EccP256,
    #[serde(rename = "EC_P384")]
    EccP384,
    #[serde(rename = "SM2")]
    Sm2,
}

impl KeySpec {
    pub fn as_str(self) -> &'static str {
        match self {
            KeySpec::Aes256 => "AES_256",
            KeySpec::Sm4 => "SM4",
            KeySpec::Rsa2048 => "RSA_2048",
            KeySpec::EccP256 => "EC_P256",
            KeySpec::EccP384 => "EC_P384",
            KeySpec::Sm2 => "SM2",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        [
            KeySpec::Aes256,
            KeySpec::Sm4,
            KeySpec::Rsa2048,
            KeySpec::EccP256,
            KeySpec::EccP384,
            KeySpec::Sm2,
        ]
        .into_iter()
        .find(|s| s.as_str() == name)
    }

    /// 国密 (SM2, SM3, SM4): the cloud's KeyMetadata `Type` 4; the rest are FIPS algorithms, 2.
    pub fn is_guomi(self) -> bool {
        matches!(self, KeySpec::Sm4 | KeySpec::Sm2)
    }

    /// The symmetric cipher of a symmetric spec.
    pub fn cipher(self) -> Option<Cipher> {
        match self {
            KeySpec::Aes256 => Some(Cipher::Aes256Gcm),
            KeySpec::Sm4 => Some(Cipher::Sm4Gcm),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyOrigin {
    /// Key material generated by keyconsole (the cloud's `TENCENT_KMS`).
    #[serde(rename = "KEYCONSOLE")]
    Generated,
    /// Key material the user imports (BYOK; the cloud's `EXTERNAL`).
    #[serde(rename = "EXTERNAL")]
    External,
}

impl KeyOrigin {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyOrigin::Generated => "KEYCONSOLE",
            KeyOrigin::External => "EXTERNAL",
        }
    }
}

/// What an EXTERNAL key keeps about its imported material.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ImportRecord {
    /// When the material expires (Unix seconds); 0 never.
    pub valid_to: i64,
    /// A digest binding the first material imported to this key (SHA-256 over a label, the KeyId
    /// and the material): material imported again must be the same, or the key's ciphertexts
    /// would silently stop opening. Empty until the first import.
    pub material_check: String,
    /// The wrapping key pair and token GetParametersForImport handed out, until used or expired.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<ImportParameters>,
}

/// One GetParametersForImport: an RSA-2048 wrapping key pair and the token that names it.
#[derive(Clone, Serialize, Deserialize)]
pub struct ImportParameters {
    pub token: String,
    /// The cloud's WrappingAlgorithm name.
    pub algorithm: String,
    /// The wrapping key's private key (PKCS#8), sealed in the keystore with the rest.
    #[serde(with = "material_base64")]
    pub wrapping_key: Zeroizing<Vec<u8>>,
    pub valid_to: i64,
}

impl std::fmt::Debug for ImportParameters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImportParameters")
            .field("algorithm", &self.algorithm)
            .field("valid_to", &self.valid_to)
            .finish_non_exhaustive()
    }
}

/// One generation of a key's material. Encrypt uses the newest; Decrypt the one a blob names.
#[derive(Serialize, Deserialize)]
pub struct KeyVersion {
    /// Symmetric key bytes, or a key pair's private key (see `crypto::asymmetric`).
    #[serde(with = "material_base64")]
    material: Zeroizing<Vec<u8>>,
    pub created: i64,
    /// Encryptions reserved on disk under this version: never fewer than were ever made with it
    /// (see `kms::usage`).
    pub encryptions: u64,
    /// What this process reserved and used of it.
    #[serde(skip)]
    pub(crate) reservation: Arc<Reservation>,
    /// A key pair's private key, parsed once when first used (shared by the clones of this
    /// version in later keyrings).
    #[serde(skip)]
    pair: Arc<OnceLock<Result<Arc<KeyPair>, PairError>>>,
}

impl KeyVersion {
    /// A version holding a copy of `material` (the caller wipes its own).
    pub fn new(material: &[u8], created: i64) -> Self {
        Self {
            material: Zeroizing::new(material.to_vec()),
            created,
            encryptions: 0,
            reservation: Arc::default(),
            pair: Arc::default(),
        }
    }

    /// The raw key bytes. Only the engine's crypto uses them; no face ever shows or writes them.
    pub fn material(&self) -> &[u8] {
        &self.material
    }

    /// This version's key pair, if it is `kind`'s.
    pub fn key_pair(&self, kind: PairKind) -> Result<Arc<KeyPair>, PairError> {
        let pair = self
            .pair
            .get_or_init(|| KeyPair::from_private(kind, &self.material).map(Arc::new))
            .clone()?;
        if pair.kind() == kind {
            Ok(pair)
        } else {
            Err(PairError::Malformed)
        }
    }

    /// Encryptions under this version so far, at most: what is reserved on disk.
    pub fn total_encryptions(&self) -> u64 {
        self.encryptions
    }

    /// Encryptions this process made under this version.
    pub fn encryptions_by_this_process(&self) -> u64 {
        self.reservation.used()
    }
}

impl Clone for KeyVersion {
    fn clone(&self) -> Self {
        Self {
            material: self.material.clone(),
            created: self.created,
            encryptions: self.encryptions,
            reservation: self.reservation.clone(),
            pair: self.pair.clone(),
        }
    }
}

impl std::fmt::Debug for KeyVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyVersion")
            .field("material", &"<redacted>")
            .field("created", &self.created)
            .field("encryptions", &self.total_encryptions())
            .finish()
    }
}

/// A CMK as the keystore holds it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeyRecord {
    pub key_id: Uuid,
    pub alias: String,
    pub description: String,
    pub state: KeyState,
    pub usage: KeyUsage,
    /// AES-256 for keys from before key kinds.
    #[serde(default, skip_serializing_if = "is_aes256")]
    pub spec: KeySpec,
    pub origin: KeyOrigin,
    pub create_time: i64,
    pub rotation_enabled: bool,
    pub rotate_days: u32,
    /// When the newest version was made by a rotation; 0 if never rotated.
    pub last_rotate_time: i64,
    /// When automatic rotation is next due; 0 when rotation is off.
    pub next_rotate_time: i64,
    /// When the key material is destroyed; 0 unless PendingDelete.
    pub deletion_date: i64,
    pub versions: Vec<KeyVersion>,
    /// Keystores written before tags were kept have none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
    #[serde(default, skip_serializing_if = "KeyOwner::is_user")]
    pub owner: KeyOwner,
    /// EXTERNAL keys only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub import: Option<ImportRecord>,
}

fn is_aes256(spec: &KeySpec) -> bool {
    *spec == KeySpec::Aes256
}

impl KeyRecord {
    /// The newest version; only an EXTERNAL key waiting for its material has none, and it is
    /// never in a state that uses one.
    pub fn newest_version(&self) -> (u32, &KeyVersion) {
        let index = self.versions.len().saturating_sub(1);
        (index as u32 + 1, &self.versions[index])
    }

    /// Version numbers start at 1 (the key's first material).
    pub fn version(&self, number: u32) -> Option<&KeyVersion> {
        let index = usize::try_from(number).ok()?.checked_sub(1)?;
        self.versions.get(index)
    }

    pub fn metadata(&self) -> KeyMetadata {
        KeyMetadata {
            key_id: self.key_id.to_string(),
            alias: self.alias.clone(),
            create_time: self.create_time,
            description: self.description.clone(),
            key_state: self.state,
            key_usage: self.usage.as_str().to_owned(),
            key_spec: self.spec.as_str().to_owned(),
            origin: self.origin.as_str().to_owned(),
            key_rotation_enabled: self.rotation_enabled,
            rotate_days: self.rotate_days,
            last_rotate_time: self.last_rotate_time,
            next_rotate_time: self.next_rotate_time,
            deletion_date: self.deletion_date,
            version_count: self.versions.len() as u32,
            tags: self.tags.clone(),
            owner: self.owner,
            valid_to: self.import.as_ref().map_or(0, |i| i.valid_to),
        }
    }
}

/// What the console shows of a key: no key material, field names as the cloud API spells them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyMetadata {
    pub key_id: String,
    pub alias: String,
    pub create_time: i64,
    pub description: String,
    pub key_state: KeyState,
    pub key_usage: String,
    /// `AES_256`, `SM4`, `RSA_2048`, `EC_P256`, `EC_P384` or `SM2`.
    pub key_spec: String,
    pub origin: String,
    pub key_rotation_enabled: bool,
    pub rotate_days: u32,
    pub last_rotate_time: i64,
    pub next_rotate_time: i64,
    pub deletion_date: i64,
    pub version_count: u32,
    pub tags: Vec<Tag>,
    /// Who made the key: the user, or a service for itself (the secrets manager's default key).
    pub owner: KeyOwner,
    /// When an EXTERNAL key's imported material expires; 0 never (and for other keys).
    pub valid_to: i64,
}

impl KeyMetadata {
    /// Whether the key rotates: symmetric keys whose material keyconsole makes (a key pair keeps
    /// its public key; imported material is the user's).
    pub fn rotates(&self) -> bool {
        self.key_usage == KeyUsage::EncryptDecrypt.as_str()
            && self.origin != KeyOrigin::External.as_str()
    }

    /// Whether the key encrypts blobs, data keys and files (symmetric keys).
    pub fn is_symmetric(&self) -> bool {
        self.key_usage == KeyUsage::EncryptDecrypt.as_str()
    }
}

/// Who a key belongs to (the cloud's `Owner`: `user`, or the product that made it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyOwner {
    #[default]
    User,
    /// The secrets manager made it to protect secrets that name no key of their own.
    SecretsManager,
}

impl KeyOwner {
    pub fn is_user(&self) -> bool {
        *self == KeyOwner::User
    }

    /// The cloud's `Owner` field (ListKeyDetail's `Role` 0 and 1 tell them apart).
    pub fn as_str(self) -> &'static str {
        match self {
            KeyOwner::User => "user",
            KeyOwner::SecretsManager => "ssm",
        }
    }
}

/// Key material in the (encrypted) keystore body: base64, decoded straight into wiped memory.
mod material_base64 {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;

    pub fn serialize<S: Serializer>(
        material: &Zeroizing<Vec<u8>>,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        let mut encoded = Zeroizing::new(vec![0u8; material.len().div_ceil(3) * 4]);
        let written = STANDARD
            .encode_slice(material.as_slice(), encoded.as_mut_slice())
            .map_err(serde::ser::Error::custom)?;
        let text = std::str::from_utf8(&encoded[..written]).map_err(serde::ser::Error::custom)?;
        serializer.serialize_str(text)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<Zeroizing<Vec<u8>>, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Zeroizing<Vec<u8>>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("key material in base64")
            }
            fn visit_str<E: serde::de::Error>(
                self,
                text: &str,
            ) -> std::result::Result<Self::Value, E> {
                // Room for what the text could decode to, so the vector never reallocates (and
                // leaves an unwiped copy behind).
                let mut decoded = Zeroizing::new(vec![0u8; text.len().div_ceil(4) * 3]);
                let n = STANDARD
                    .decode_slice(text, decoded.as_mut_slice())
                    .map_err(E::custom)?;
                if n == 0 {
                    return Err(E::custom("empty key material"));
                }
                decoded.truncate(n);
                Ok(decoded)
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}
