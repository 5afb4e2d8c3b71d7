//! Key pairs of customer keys: RSA-2048 and ECDSA P-256 / P-384 through AWS-LC (constant-time
//! private-key operations), SM2 through RustCrypto's `sm2`. A private key is kept as bytes (PKCS#8
//! DER; SM2's 32-byte scalar), sealed in the keystore like symmetric material, and parsed into a
//! [`KeyPair`] when first used. No primitive is written here: this module only chooses, encodes
//! and checks lengths.

use aws_lc_rs::digest::{self, Digest};
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{
    KeySize, OAEP_SHA1_MGF1SHA1, OAEP_SHA256_MGF1SHA256, OaepPrivateDecryptingKey,
    OaepPublicEncryptingKey, Pkcs1PrivateDecryptingKey, Pkcs1PublicEncryptingKey,
    PrivateDecryptingKey, PublicEncryptingKey,
};
use aws_lc_rs::signature::{self, EcdsaKeyPair, KeyPair as _, RsaKeyPair, UnparsedPublicKey};
use sm2::elliptic_curve::Generate as _;
use sm2::pkcs8::{DecodePublicKey as _, EncodePublicKey as _};
use zeroize::Zeroizing;

/// The distinguishing identifier SM2 signatures use when none is given (GB/T 35276; OpenSSL's
/// and the cloud's default).
pub const SM2_DEFAULT_ID: &str = "1234567812345678";
/// RSA-2048's ciphertexts and signatures are 256 bytes.
pub const RSA_2048_BYTES: usize = 256;
/// The longest SM2 ciphertext the cloud decrypts (C1C3C2 ASN.1, raw bytes).
pub const SM2_CIPHERTEXT_MAX_BYTES: usize = 256;

/// What a key pair is and the one thing it does (the cloud's asymmetric KeyUsage values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PairKind {
    RsaDecrypt,
    RsaSign,
    EcdsaP256,
    EcdsaP384,
    Sm2Decrypt,
    Sm2Sign,
}

impl PairKind {
    pub fn signs(self) -> bool {
        matches!(
            self,
            PairKind::RsaSign | PairKind::EcdsaP256 | PairKind::EcdsaP384 | PairKind::Sm2Sign
        )
    }

    pub fn decrypts(self) -> bool {
        !self.signs()
    }

    /// The signature algorithms this kind signs with.
    pub fn sign_algorithms(self) -> &'static [SignAlgorithm] {
        match self {
            PairKind::RsaSign => &[SignAlgorithm::RsaPssSha256, SignAlgorithm::RsaPkcs1Sha256],
            PairKind::EcdsaP256 => &[SignAlgorithm::EccP256R1],
            PairKind::EcdsaP384 => &[SignAlgorithm::Ecdsa384],
            PairKind::Sm2Sign => &[SignAlgorithm::Sm2Dsa],
            PairKind::RsaDecrypt | PairKind::Sm2Decrypt => &[],
        }
    }

    /// The decryption algorithms this kind decrypts with.
    pub fn decrypt_algorithms(self) -> &'static [DecryptAlgorithm] {
        match self {
            PairKind::RsaDecrypt => &[
                DecryptAlgorithm::RsaesPkcs1V15,
                DecryptAlgorithm::RsaesOaepSha1,
                DecryptAlgorithm::RsaesOaepSha256,
            ],
            PairKind::Sm2Decrypt => &[DecryptAlgorithm::Sm2],
            _ => &[],
        }
    }
}

/// The cloud's signature algorithms (SignByAsymmetricKey's `Algorithm`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignAlgorithm {
    /// SM2 with SM3 over Z‖M, Z from the default identifier; DER signatures.
    Sm2Dsa,
    /// ECDSA on P-256 with SHA-256; DER signatures.
    EccP256R1,
    /// ECDSA on P-384 with SHA-384; DER signatures.
    Ecdsa384,
    /// RSASSA-PSS, SHA-256, MGF1-SHA-256, 32-byte salt.
    RsaPssSha256,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RsaPkcs1Sha256,
}

impl SignAlgorithm {
    pub const ALL: [SignAlgorithm; 5] = [
        SignAlgorithm::Sm2Dsa,
        SignAlgorithm::EccP256R1,
        SignAlgorithm::RsaPssSha256,
        SignAlgorithm::RsaPkcs1Sha256,
        SignAlgorithm::Ecdsa384,
    ];

    pub fn name(self) -> &'static str {
        match self {
            SignAlgorithm::Sm2Dsa => "SM2DSA",
            SignAlgorithm::EccP256R1 => "ECC_P256_R1",
            SignAlgorithm::Ecdsa384 => "ECDSA384",
            SignAlgorithm::RsaPssSha256 => "RSA_PSS_SHA_256",
            SignAlgorithm::RsaPkcs1Sha256 => "RSA_PKCS1_SHA_256",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.name() == name)
    }

    /// How long a DIGEST message is: the algorithm's hash (SM3 and SHA-256: 32 bytes, SHA-384: 48).
    pub fn digest_len(self) -> usize {
        match self {
            SignAlgorithm::Ecdsa384 => 48,
            _ => 32,
        }
    }
}

/// Whether a message to sign is the message itself or its digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MessageType {
    #[default]
    Raw,
    Digest,
}

/// Decryption with a key pair's private key (AsymmetricRsaDecrypt / AsymmetricSm2Decrypt).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DecryptAlgorithm {
    RsaesPkcs1V15,
    RsaesOaepSha1,
    RsaesOaepSha256,
    /// SM2 public-key encryption, C1C3C2 in ASN.1 (what OpenSSL writes).
    Sm2,
}

impl DecryptAlgorithm {
    pub fn name(self) -> &'static str {
        match self {
            DecryptAlgorithm::RsaesPkcs1V15 => "RSAES_PKCS1_V1_5",
            DecryptAlgorithm::RsaesOaepSha1 => "RSAES_OAEP_SHA_1",
            DecryptAlgorithm::RsaesOaepSha256 => "RSAES_OAEP_SHA_256",
            DecryptAlgorithm::Sm2 => "SM2",
        }
    }

    /// The RSA algorithms by the cloud's names.
    pub fn rsa_from_name(name: &str) -> Option<Self> {
        [
            DecryptAlgorithm::RsaesPkcs1V15,
            DecryptAlgorithm::RsaesOaepSha1,
            DecryptAlgorithm::RsaesOaepSha256,
        ]
        .into_iter()
        .find(|a| a.name() == name)
    }
}

/// Encryption to a public key the caller gives (the `EncryptionPublicKey` of Decrypt and
/// GenerateDataKey): the answer's plaintext leaves only in this form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum PublicEncryption {
    /// SM2, C1C3C2 as raw bytes (C1 uncompressed): the cloud's default.
    #[default]
    Sm2C1C3C2,
    Sm2C1C3C2Asn1,
    RsaesPkcs1V15,
    RsaesOaepSha1,
    RsaesOaepSha256,
}

impl PublicEncryption {
    pub const ALL: [PublicEncryption; 5] = [
        PublicEncryption::Sm2C1C3C2,
        PublicEncryption::Sm2C1C3C2Asn1,
        PublicEncryption::RsaesPkcs1V15,
        PublicEncryption::RsaesOaepSha1,
        PublicEncryption::RsaesOaepSha256,
    ];

    pub fn name(self) -> &'static str {
        match self {
            PublicEncryption::Sm2C1C3C2 => "SM2",
            PublicEncryption::Sm2C1C3C2Asn1 => "SM2_C1C3C2_ASN1",
            PublicEncryption::RsaesPkcs1V15 => "RSAES_PKCS1_V1_5",
            PublicEncryption::RsaesOaepSha1 => "RSAES_OAEP_SHA_1",
            PublicEncryption::RsaesOaepSha256 => "RSAES_OAEP_SHA_256",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.name() == name)
    }
}

/// Why a key-pair operation failed. None carries key material or plaintext.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PairError {
    /// The stored private key does not parse (a damaged keystore).
    Malformed,
    /// The algorithm is not one this kind of key does.
    WrongAlgorithm,
    /// A DIGEST message of the wrong length.
    DigestLength,
    /// The ciphertext does not decrypt under this key (wrong key, changed bytes, bad padding).
    DecryptFailed,
    /// The PEM public key given is not a public key of the kind the algorithm needs.
    BadPublicKey,
    /// The plaintext is too long for the public key and padding.
    TooLong,
    /// The library refused for a reason it does not say.
    Failed,
}

/// New private key bytes of `kind`, wiped when dropped.
pub fn generate(kind: PairKind) -> Result<Zeroizing<Vec<u8>>, PairError> {
    match kind {
        PairKind::RsaDecrypt | PairKind::RsaSign => {
            let pair = RsaKeyPair::generate(KeySize::Rsa2048).map_err(|_| PairError::Failed)?;
            let der = pair.as_der().map_err(|_| PairError::Failed)?;
            Ok(Zeroizing::new(der.as_ref().to_vec()))
        }
        PairKind::EcdsaP256 | PairKind::EcdsaP384 => {
            let pair =
                EcdsaKeyPair::generate(ecdsa_signing(kind)).map_err(|_| PairError::Failed)?;
            let der = pair.to_pkcs8v1().map_err(|_| PairError::Failed)?;
            Ok(Zeroizing::new(der.as_ref().to_vec()))
        }
        PairKind::Sm2Decrypt | PairKind::Sm2Sign => {
            let secret = sm2::SecretKey::generate();
            let bytes = Zeroizing::new(secret.to_bytes());
            Ok(Zeroizing::new(bytes.to_vec()))
        }
    }
}

fn ecdsa_signing(kind: PairKind) -> &'static signature::EcdsaSigningAlgorithm {
    if kind == PairKind::EcdsaP384 {
        &signature::ECDSA_P384_SHA384_ASN1_SIGNING
    } else {
        &signature::ECDSA_P256_SHA256_ASN1_SIGNING
    }
}

enum Private {
    RsaSign(RsaKeyPair),
    RsaDecrypt {
        oaep: OaepPrivateDecryptingKey,
        pkcs1: Pkcs1PrivateDecryptingKey,
    },
    Ecdsa(EcdsaKeyPair),
    Sm2Sign(Sm2Signing),
    Sm2Decrypt(Sm2Decrypting),
}

/// The scalar 1, big-endian: what an SM2 key's secret is overwritten with when it is dropped.
const SM2_BLANK: [u8; 32] = {
    let mut one = [0u8; 32];
    one[31] = 1;
    one
};

/// An SM2 signing key, its secret overwritten when dropped: `sm2` 0.14's keys do not wipe
/// themselves (AWS-LC's do), and their fields are private, so the whole key is replaced in place
/// by one whose secret is 1, and the store kept from being optimised away.
struct Sm2Signing(Box<sm2::dsa::SigningKey>);

impl Drop for Sm2Signing {
    fn drop(&mut self) {
        if let Ok(blank) = sm2::dsa::SigningKey::from_slice(SM2_DEFAULT_ID, &SM2_BLANK) {
            *self.0 = blank;
            std::hint::black_box(&*self.0);
        }
    }
}

/// An SM2 decryption key, wiped the same way.
struct Sm2Decrypting(Box<sm2::pke::DecryptingKey>);

impl Drop for Sm2Decrypting {
    fn drop(&mut self) {
        if let Ok(blank) = sm2::pke::DecryptingKey::from_slice(&SM2_BLANK) {
            *self.0 = blank;
            std::hint::black_box(&*self.0);
        }
    }
}

/// A parsed key pair, ready to sign or decrypt. The libraries wipe their copies of the private
/// key when it is dropped.
pub struct KeyPair {
    kind: PairKind,
    private: Private,
    /// SubjectPublicKeyInfo DER.
    public_der: Vec<u8>,
}

impl std::fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyPair")
            .field("kind", &self.kind)
            .field("private", &"<redacted>")
            .finish()
    }
}

impl KeyPair {
    /// Parses private key bytes as [`generate`] made them.
    pub fn from_private(kind: PairKind, bytes: &[u8]) -> Result<Self, PairError> {
        let (private, public_der) = match kind {
            PairKind::RsaSign => {
                let pair = RsaKeyPair::from_pkcs8(bytes).map_err(|_| PairError::Malformed)?;
                let public = spki(pair.public_key())?;
                (Private::RsaSign(pair), public)
            }
            PairKind::RsaDecrypt => {
                let key =
                    PrivateDecryptingKey::from_pkcs8(bytes).map_err(|_| PairError::Malformed)?;
                let public = spki(&key.public_key())?;
                let oaep =
                    OaepPrivateDecryptingKey::new(key.clone()).map_err(|_| PairError::Malformed)?;
                let pkcs1 =
                    Pkcs1PrivateDecryptingKey::new(key).map_err(|_| PairError::Malformed)?;
                (Private::RsaDecrypt { oaep, pkcs1 }, public)
            }
            PairKind::EcdsaP256 | PairKind::EcdsaP384 => {
                let pair = EcdsaKeyPair::from_pkcs8(ecdsa_signing(kind), bytes)
                    .map_err(|_| PairError::Malformed)?;
                let public = spki(pair.public_key())?;
                (Private::Ecdsa(pair), public)
            }
            PairKind::Sm2Sign | PairKind::Sm2Decrypt => {
                let secret = sm2::SecretKey::from_slice(bytes).map_err(|_| PairError::Malformed)?;
                let public = secret
                    .public_key()
                    .to_public_key_der()
                    .map_err(|_| PairError::Failed)?
                    .into_vec();
                let private = if kind == PairKind::Sm2Sign {
                    Private::Sm2Sign(Sm2Signing(Box::new(
                        sm2::dsa::SigningKey::new(SM2_DEFAULT_ID, &secret)
                            .map_err(|_| PairError::Malformed)?,
                    )))
                } else {
                    Private::Sm2Decrypt(Sm2Decrypting(Box::new(sm2::pke::DecryptingKey::new(
                        secret,
                    ))))
                };
                (private, public)
            }
        };
        Ok(KeyPair {
            kind,
            private,
            public_der,
        })
    }

    pub fn kind(&self) -> PairKind {
        self.kind
    }

    /// The public key as SubjectPublicKeyInfo DER (what OpenSSL reads with `-pubin -keyform DER`).
    pub fn public_key_der(&self) -> &[u8] {
        &self.public_der
    }

    /// The public key as PEM (`-----BEGIN PUBLIC KEY-----`).
    pub fn public_key_pem(&self) -> String {
        public_key_pem(&self.public_der)
    }

    /// Signs `message` (or its digest, by `message_type`). Signatures are DER for ECDSA and SM2
    /// and 256 bytes for RSA, as OpenSSL makes them.
    pub fn sign(
        &self,
        algorithm: SignAlgorithm,
        message_type: MessageType,
        message: &[u8],
    ) -> Result<Vec<u8>, PairError> {
        if !self.kind.sign_algorithms().contains(&algorithm) {
            return Err(PairError::WrongAlgorithm);
        }
        if message_type == MessageType::Digest && message.len() != algorithm.digest_len() {
            return Err(PairError::DigestLength);
        }
        match &self.private {
            Private::RsaSign(pair) => {
                let padding: &'static dyn signature::RsaEncoding =
                    if algorithm == SignAlgorithm::RsaPssSha256 {
                        &signature::RSA_PSS_SHA256
                    } else {
                        &signature::RSA_PKCS1_SHA256
                    };
                let mut out = vec![0u8; pair.public_modulus_len()];
                match message_type {
                    MessageType::Raw => pair
                        .sign(padding, &SystemRandom::new(), message, &mut out)
                        .map_err(|_| PairError::Failed)?,
                    MessageType::Digest => pair
                        .sign_digest(padding, &imported_digest(algorithm, message)?, &mut out)
                        .map_err(|_| PairError::Failed)?,
                }
                Ok(out)
            }
            Private::Ecdsa(pair) => {
                let signature = match message_type {
                    MessageType::Raw => pair.sign(&SystemRandom::new(), message),
                    MessageType::Digest => pair.sign_digest(&imported_digest(algorithm, message)?),
                }
                .map_err(|_| PairError::Failed)?;
                Ok(signature.as_ref().to_vec())
            }
            Private::Sm2Sign(Sm2Signing(key)) => {
                use sm2::dsa::signature::Signer as _;
                use sm2::dsa::signature::hazmat::PrehashSigner as _;
                let signature: sm2::dsa::Signature = match message_type {
                    MessageType::Raw => key.try_sign(message),
                    MessageType::Digest => key.sign_prehash(message),
                }
                .map_err(|_| PairError::Failed)?;
                Ok(signature.to_der().as_bytes().to_vec())
            }
            Private::RsaDecrypt { .. } | Private::Sm2Decrypt(_) => Err(PairError::WrongAlgorithm),
        }
    }

    /// Whether `signature` is this key's signature of `message`. A malformed signature is
    /// simply not valid.
    pub fn verify(
        &self,
        algorithm: SignAlgorithm,
        message_type: MessageType,
        message: &[u8],
        signature: &[u8],
    ) -> Result<bool, PairError> {
        if !self.kind.sign_algorithms().contains(&algorithm) {
            return Err(PairError::WrongAlgorithm);
        }
        verify_with_public_key(
            algorithm,
            &self.public_der,
            message_type,
            message,
            signature,
        )
    }

    /// Decrypts what was encrypted to this key's public key.
    pub fn decrypt(
        &self,
        algorithm: DecryptAlgorithm,
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, PairError> {
        if !self.kind.decrypt_algorithms().contains(&algorithm) {
            return Err(PairError::WrongAlgorithm);
        }
        match &self.private {
            Private::RsaDecrypt { oaep, pkcs1 } => {
                let mut out = Zeroizing::new(vec![0u8; RSA_2048_BYTES]);
                let len = match algorithm {
                    DecryptAlgorithm::RsaesPkcs1V15 => pkcs1.decrypt(ciphertext, &mut out),
                    DecryptAlgorithm::RsaesOaepSha1 => {
                        oaep.decrypt(&OAEP_SHA1_MGF1SHA1, ciphertext, &mut out, None)
                    }
                    _ => oaep.decrypt(&OAEP_SHA256_MGF1SHA256, ciphertext, &mut out, None),
                }
                .map_err(|_| PairError::DecryptFailed)?
                .len();
                out.truncate(len);
                Ok(out)
            }
            Private::Sm2Decrypt(Sm2Decrypting(key)) => {
                if ciphertext.len() > SM2_CIPHERTEXT_MAX_BYTES {
                    return Err(PairError::DecryptFailed);
                }
                key.decrypt_der(ciphertext)
                    .map(Zeroizing::new)
                    .map_err(|_| PairError::DecryptFailed)
            }
            _ => Err(PairError::WrongAlgorithm),
        }
    }
}

/// Whether `signature` is a signature of `message` (or of its digest) by the holder of the
/// public key `public_der` (SubjectPublicKeyInfo DER). A malformed signature is simply not valid;
/// a public key that does not parse for the algorithm is `BadPublicKey`.
pub fn verify_with_public_key(
    algorithm: SignAlgorithm,
    public_der: &[u8],
    message_type: MessageType,
    message: &[u8],
    signature: &[u8],
) -> Result<bool, PairError> {
    if message_type == MessageType::Digest && message.len() != algorithm.digest_len() {
        return Err(PairError::DigestLength);
    }
    let verification: &'static dyn signature::VerificationAlgorithm = match algorithm {
        SignAlgorithm::RsaPssSha256 => &signature::RSA_PSS_2048_8192_SHA256,
        SignAlgorithm::RsaPkcs1Sha256 => &signature::RSA_PKCS1_2048_8192_SHA256,
        SignAlgorithm::EccP256R1 => &signature::ECDSA_P256_SHA256_ASN1,
        SignAlgorithm::Ecdsa384 => &signature::ECDSA_P384_SHA384_ASN1,
        SignAlgorithm::Sm2Dsa => {
            use sm2::dsa::signature::Verifier as _;
            use sm2::dsa::signature::hazmat::PrehashVerifier as _;
            let public = sm2::PublicKey::from_public_key_der(public_der)
                .map_err(|_| PairError::BadPublicKey)?;
            let verifying = sm2::dsa::VerifyingKey::new(SM2_DEFAULT_ID, public)
                .map_err(|_| PairError::BadPublicKey)?;
            let Ok(signature) = sm2::dsa::Signature::from_der(signature) else {
                return Ok(false);
            };
            return Ok(match message_type {
                MessageType::Raw => verifying.verify(message, &signature).is_ok(),
                MessageType::Digest => verifying.verify_prehash(message, &signature).is_ok(),
            });
        }
    };
    let key = UnparsedPublicKey::new(verification, public_der)
        .parse()
        .map_err(|_| PairError::BadPublicKey)?;
    Ok(match message_type {
        MessageType::Raw => key.verify_sig(message, signature).is_ok(),
        MessageType::Digest => key
            .verify_digest_sig(&imported_digest(algorithm, message)?, signature)
            .is_ok(),
    })
}

fn spki(
    public: &impl AsDer<aws_lc_rs::encoding::PublicKeyX509Der<'static>>,
) -> Result<Vec<u8>, PairError> {
    Ok(public
        .as_der()
        .map_err(|_| PairError::Failed)?
        .as_ref()
        .to_vec())
}

fn imported_digest(algorithm: SignAlgorithm, message: &[u8]) -> Result<Digest, PairError> {
    let hash = if algorithm == SignAlgorithm::Ecdsa384 {
        &digest::SHA384
    } else {
        &digest::SHA256
    };
    Digest::import_less_safe(message, hash).map_err(|_| PairError::DigestLength)
}

/// The digest a DIGEST signature of `algorithm` is over (SHA-256; SHA-384 for ECDSA384). None for
/// SM2DSA, whose digest covers the signer's Z value too (sign the message itself).
pub fn message_digest(algorithm: SignAlgorithm, message: &[u8]) -> Option<Vec<u8>> {
    let hash = match algorithm {
        SignAlgorithm::Sm2Dsa => return None,
        SignAlgorithm::Ecdsa384 => &digest::SHA384,
        _ => &digest::SHA256,
    };
    Some(digest::digest(hash, message).as_ref().to_vec())
}

/// SubjectPublicKeyInfo DER as PEM.
pub fn public_key_pem(der: &[u8]) -> String {
    pem_rfc7468::encode_string("PUBLIC KEY", pem_rfc7468::LineEnding::LF, der).unwrap_or_default()
}

/// The DER inside a `PUBLIC KEY` PEM (surrounding whitespace allowed).
pub fn public_key_from_pem(pem: &str) -> Result<Vec<u8>, PairError> {
    let (label, der) =
        pem_rfc7468::decode_vec(pem.trim().as_bytes()).map_err(|_| PairError::BadPublicKey)?;
    if label != "PUBLIC KEY" {
        return Err(PairError::BadPublicKey);
    }
    Ok(der)
}

/// Encrypts `plaintext` to the public key in `pem` (RSA-2048 or SM2, by `algorithm`).
pub fn encrypt_to_public_key(
    pem: &str,
    algorithm: PublicEncryption,
    plaintext: &[u8],
) -> Result<Vec<u8>, PairError> {
    let der = public_key_from_pem(pem)?;
    match algorithm {
        PublicEncryption::Sm2C1C3C2 | PublicEncryption::Sm2C1C3C2Asn1 => {
            let public =
                sm2::PublicKey::from_public_key_der(&der).map_err(|_| PairError::BadPublicKey)?;
            let key = sm2::pke::EncryptingKey::new(public);
            let mut rng = sm2::elliptic_curve::rand_core::UnwrapErr(getrandom::SysRng);
            let sealed = if algorithm == PublicEncryption::Sm2C1C3C2 {
                key.encrypt(&mut rng, plaintext)
            } else {
                key.encrypt_der(&mut rng, plaintext)
            };
            sealed.map_err(|_| PairError::Failed)
        }
        PublicEncryption::RsaesPkcs1V15
        | PublicEncryption::RsaesOaepSha1
        | PublicEncryption::RsaesOaepSha256 => {
            let public =
                PublicEncryptingKey::from_der(&der).map_err(|_| PairError::BadPublicKey)?;
            if public.key_size_bits() != 2048 {
                return Err(PairError::BadPublicKey);
            }
            let mut out = vec![0u8; RSA_2048_BYTES];
            let len = if algorithm == PublicEncryption::RsaesPkcs1V15 {
                let key = Pkcs1PublicEncryptingKey::new(public).map_err(|_| PairError::Failed)?;
                if plaintext.len() > key.max_plaintext_size() {
                    return Err(PairError::TooLong);
                }
                key.encrypt(plaintext, &mut out)
                    .map_err(|_| PairError::Failed)?
                    .len()
            } else {
                let oaep = if algorithm == PublicEncryption::RsaesOaepSha1 {
                    &OAEP_SHA1_MGF1SHA1
                } else {
                    &OAEP_SHA256_MGF1SHA256
                };
                let key = OaepPublicEncryptingKey::new(public).map_err(|_| PairError::Failed)?;
                if plaintext.len() > key.max_plaintext_size(oaep) {
                    return Err(PairError::TooLong);
                }
                key.encrypt(oaep, plaintext, &mut out, None)
                    .map_err(|_| PairError::Failed)?
                    .len()
            };
            out.truncate(len);
            Ok(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL_KINDS: [PairKind; 6] = [
        PairKind::RsaDecrypt,
        PairKind::RsaSign,
        PairKind::EcdsaP256,
        PairKind::EcdsaP384,
        PairKind::Sm2Decrypt,
        PairKind::Sm2Sign,
    ];

    #[test]
    fn every_kind_signs_or_decrypts_what_it_should_and_nothing_else() {
        for kind in ALL_KINDS {
            let pair = KeyPair::from_private(kind, &generate(kind).unwrap()).unwrap();
            assert!(
                pair.public_key_pem()
                    .starts_with("-----BEGIN PUBLIC KEY-----\n")
            );
            for algorithm in SignAlgorithm::ALL {
                let allowed = kind.sign_algorithms().contains(&algorithm);
                let signed = pair.sign(algorithm, MessageType::Raw, b"message");
                assert_eq!(signed.is_ok(), allowed, "{kind:?} {algorithm:?}");
                if let Ok(signature) = signed {
                    assert!(
                        pair.verify(algorithm, MessageType::Raw, b"message", &signature)
                            .unwrap()
                    );
                    assert!(
                        !pair
                            .verify(algorithm, MessageType::Raw, b"massage", &signature)
                            .unwrap()
                    );
                    assert!(
                        !pair
                            .verify(algorithm, MessageType::Raw, b"message", b"junk")
                            .unwrap()
                    );
                    let digest = vec![7u8; algorithm.digest_len()];
                    let signature = pair.sign(algorithm, MessageType::Digest, &digest).unwrap();
                    assert!(
                        pair.verify(algorithm, MessageType::Digest, &digest, &signature)
                            .unwrap()
                    );
                    assert_eq!(
                        pair.sign(algorithm, MessageType::Digest, &digest[1..])
                            .unwrap_err(),
                        PairError::DigestLength
                    );
                }
            }
            let pem = pair.public_key_pem();
            for algorithm in PublicEncryption::ALL {
                let sm2 = matches!(
                    algorithm,
                    PublicEncryption::Sm2C1C3C2 | PublicEncryption::Sm2C1C3C2Asn1
                );
                let is_sm2 = matches!(kind, PairKind::Sm2Decrypt | PairKind::Sm2Sign);
                let is_rsa = matches!(kind, PairKind::RsaDecrypt | PairKind::RsaSign);
                let sealed = encrypt_to_public_key(&pem, algorithm, b"secret");
                assert_eq!(
                    sealed.is_ok(),
                    (sm2 && is_sm2) || (!sm2 && is_rsa),
                    "{kind:?} {algorithm:?}"
                );
                if kind.decrypts()
                    && let Ok(sealed) = sealed
                {
                    let decrypt = match algorithm {
                        PublicEncryption::RsaesPkcs1V15 => DecryptAlgorithm::RsaesPkcs1V15,
                        PublicEncryption::RsaesOaepSha1 => DecryptAlgorithm::RsaesOaepSha1,
                        PublicEncryption::RsaesOaepSha256 => DecryptAlgorithm::RsaesOaepSha256,
                        PublicEncryption::Sm2C1C3C2Asn1 => DecryptAlgorithm::Sm2,
                        PublicEncryption::Sm2C1C3C2 => continue,
                    };
                    assert_eq!(
                        pair.decrypt(decrypt, &sealed).unwrap().as_slice(),
                        b"secret"
                    );
                    let mut changed = sealed.clone();
                    let last = changed.len() - 1;
                    changed[last] ^= 1;
                    assert!(pair.decrypt(decrypt, &changed).is_err());
                }
            }
        }
    }

    fn hex(text: &str) -> Vec<u8> {
        let text: String = text.split_whitespace().collect();
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
            .collect()
    }

    /// GB/T 32905-2016 Appendix A: SM3 of "abc" and of "abcd" sixteen times (the hash inside
    /// SM2's signatures and encryption).
    #[test]
    fn sm3_matches_the_gb_t_32905_examples() {
        use sm3::Digest as _;
        assert_eq!(
            sm3::Sm3::digest(b"abc").to_vec(),
            hex("66c7f0f4 62eeedd9 d1f2d46b dc10e4e2 4167c487 5cf2f7a2 297da02b 8f4ba8e0")
        );
        assert_eq!(
            sm3::Sm3::digest(b"abcd".repeat(16)).to_vec(),
            hex("debe9ff9 2275b8a1 38604889 c18e5a4d 6fdb70e5 387e5765 293dcba3 9c0c5732")
        );
    }

    /// GB/T 32907-2016 Appendix A, example 1 (one block), and SM4-GCM as keyconsole's SM4 keys
    /// seal, checked against RFC 8998's SM4-GCM vector (Appendix A.1).
    #[test]
    fn sm4_matches_the_gb_t_32907_example_and_rfc_8998_gcm() {
        use sm4::cipher::{BlockCipherEncrypt as _, KeyInit as _};
        let key = hex("01234567 89abcdef fedcba98 76543210");
        let cipher = sm4::Sm4::new_from_slice(&key).unwrap();
        let mut block = sm4::cipher::Array::try_from(&key[..]).unwrap();
        cipher.encrypt_block(&mut block);
        assert_eq!(block.to_vec(), hex("681edf34 d206965e 86b3e94f 536e4246"));

        let nonce: [u8; 12] = hex("00001234 56780000 0000abcd").try_into().unwrap();
        let aad = hex("feedface deadbeef feedface deadbeef abaddad2");
        let plaintext = hex(
            "aaaaaaaaaaaaaaaa bbbbbbbbbbbbbbbb cccccccccccccccc dddddddddddddddd
             eeeeeeeeeeeeeeee ffffffffffffffff eeeeeeeeeeeeeeee aaaaaaaaaaaaaaaa",
        );
        let mut sealed = plaintext.clone();
        crate::crypto::Cipher::Sm4Gcm
            .seal(&key, &nonce, &aad, &mut sealed)
            .unwrap();
        assert_eq!(
            sealed,
            hex(
                "17f399f08c67d5ee19d0dc9969c4bb7d 5fd46fd3756489069157b282bb200735
                 d82710ca5c22f0ccfa7cbf93d496ac15 a56834cbcf98c397b4024a2691233b8d
                 83de3541e4c2b58177e065a9bf7b62ec"
            )
        );
        crate::crypto::Cipher::Sm4Gcm
            .open(&key, &nonce, &aad, &mut sealed)
            .unwrap();
        assert_eq!(sealed, plaintext);
        sealed = plaintext.clone();
        crate::crypto::Cipher::Sm4Gcm
            .seal(&key, &nonce, &aad, &mut sealed)
            .unwrap();
        sealed[0] ^= 1;
        assert!(
            crate::crypto::Cipher::Sm4Gcm
                .open(&key, &nonce, &aad, &mut sealed)
                .is_err()
        );
        assert!(sealed.iter().all(|&b| b == 0), "wiped on failure");
    }

    #[test]
    fn stored_bytes_that_do_not_parse_are_malformed_not_a_panic() {
        for kind in ALL_KINDS {
            assert_eq!(
                KeyPair::from_private(kind, &[1, 2, 3]).unwrap_err(),
                PairError::Malformed
            );
        }
        assert_eq!(
            encrypt_to_public_key("not pem", PublicEncryption::Sm2C1C3C2, b"x").unwrap_err(),
            PairError::BadPublicKey
        );
    }
}
