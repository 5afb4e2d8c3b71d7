//! The API's credentials: one access key pair per cloud dialect (Tencent's SecretId/SecretKey,
//! Huawei's AK/SK, JD Cloud's AccessKey/SecretKey), each made on first use and kept in the
//! encrypted keystore body beside the keys, so only someone who can unlock the keystore can read
//! them. A pair signs only its own cloud's requests.

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::Kms;
use super::error::{ErrorCode, Result, err};
use keyconsole_base::crypto;

const ALPHABET: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const UPPER_DIGITS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const UPPER_HEX: &[u8] = b"0123456789ABCDEF";

/// The cloud whose API dialect a pair of credentials signs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Cloud {
    #[default]
    Tencent,
    Huawei,
    Jd,
}

impl Cloud {
    pub const ALL: [Cloud; 3] = [Cloud::Tencent, Cloud::Huawei, Cloud::Jd];

    /// As the CLI's `--cloud` spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Cloud::Tencent => "tencent",
            Cloud::Huawei => "huawei",
            Cloud::Jd => "jd",
        }
    }

    pub fn from_name(name: &str) -> Option<Cloud> {
        Cloud::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(name))
    }

    /// What the cloud calls the two halves.
    pub fn labels(self) -> (&'static str, &'static str) {
        match self {
            Cloud::Tencent => ("SecretId", "SecretKey"),
            Cloud::Huawei => ("AK", "SK"),
            Cloud::Jd => ("AccessKey", "SecretKey"),
        }
    }
}

#[derive(Clone, Serialize, Deserialize)]
pub struct ApiCredentials {
    /// Keystores from before there were other clouds hold Tencent's only.
    #[serde(default)]
    pub cloud: Cloud,
    pub secret_id: String,
    pub secret_key: Zeroizing<String>,
    /// When this pair was made (Unix seconds); rotation replaces both halves.
    pub created: i64,
}

impl std::fmt::Debug for ApiCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiCredentials")
            .field("cloud", &self.cloud)
            .field("secret_id", &self.secret_id)
            .field("secret_key", &"<redacted>")
            .field("created", &self.created)
            .finish()
    }
}

impl ApiCredentials {
    /// A new pair in the cloud's own shape, so tools that recognise its keys keep working:
    /// Tencent `AKID` + 32 and 32 characters of `[A-Za-z0-9]` (190 bits), Huawei 20 and 40 of
    /// `[A-Z0-9]` / `[A-Za-z0-9]` (238 bits in the SK), JD 32 and 32 upper-case hex (128 bits).
    pub fn generate(cloud: Cloud, now: i64) -> Self {
        let (secret_id, secret_key) = match cloud {
            Cloud::Tencent => (
                format!("AKID{}", &*random_chars(ALPHABET, 32)),
                random_chars(ALPHABET, 32),
            ),
            Cloud::Huawei => (
                random_chars(UPPER_DIGITS, 20).to_string(),
                random_chars(ALPHABET, 40),
            ),
            Cloud::Jd => (
                random_chars(UPPER_HEX, 32).to_string(),
                random_chars(UPPER_HEX, 32),
            ),
        };
        Self {
            cloud,
            secret_id,
            secret_key,
            created: now,
        }
    }
}

/// Uniform characters of `alphabet` from the OS CSPRNG: bytes at or above the largest multiple
/// of the alphabet's length are dropped so that `byte % len` has no bias.
fn random_chars(alphabet: &[u8], len: usize) -> Zeroizing<String> {
    let size = alphabet.len();
    let limit = 256 - 256 % size;
    let mut out = Zeroizing::new(String::with_capacity(len));
    let mut bytes = Zeroizing::new([0u8; 64]);
    while out.len() < len {
        crypto::fill_random(bytes.as_mut());
        for &b in bytes.iter().filter(|&&b| usize::from(b) < limit) {
            if out.len() == len {
                break;
            }
            out.push(char::from(alphabet[usize::from(b) % size]));
        }
    }
    out
}

impl Kms {
    /// A cloud's API credentials if they were ever made (the console shows them; nothing is
    /// created).
    pub fn existing_api_credentials_for(&self, cloud: Cloud) -> Option<ApiCredentials> {
        self.ring().credentials(cloud).cloned()
    }

    /// Tencent's API credentials if they were ever made.
    pub fn existing_api_credentials(&self) -> Option<ApiCredentials> {
        self.existing_api_credentials_for(Cloud::Tencent)
    }

    /// A cloud's API credentials, made and saved on first use.
    pub fn api_credentials_for(&self, cloud: Cloud) -> Result<ApiCredentials> {
        if let Some(existing) = self.ring().credentials(cloud) {
            return Ok(existing.clone());
        }
        self.transact(|ring, now| {
            // Another process may have made them since we last looked.
            if let Some(existing) = ring.credentials(cloud) {
                return Ok(existing.clone());
            }
            let fresh = ApiCredentials::generate(cloud, now);
            ring.set_credentials(fresh.clone());
            Ok(fresh)
        })
    }

    /// Tencent's API credentials, made and saved on first use.
    pub fn api_credentials(&self) -> Result<ApiCredentials> {
        self.api_credentials_for(Cloud::Tencent)
    }

    /// Replaces a cloud's API credentials with a new pair; the old key stops working at once.
    pub fn rotate_api_credentials_for(&self, cloud: Cloud) -> Result<ApiCredentials> {
        self.transact(|ring, now| {
            let fresh = ApiCredentials::generate(cloud, now);
            ring.set_credentials(fresh.clone());
            Ok(fresh)
        })
    }

    pub fn rotate_api_credentials(&self) -> Result<ApiCredentials> {
        self.rotate_api_credentials_for(Cloud::Tencent)
    }

    /// The secret half that signs `cloud`'s requests made with the access key `secret_id`.
    pub fn api_secret_key_for(&self, cloud: Cloud, secret_id: &str) -> Result<Zeroizing<String>> {
        match self.ring().credentials(cloud) {
            Some(c) if c.secret_id == secret_id => Ok(c.secret_key.clone()),
            _ if let Some(key) = self.user_secret_key(cloud, secret_id) => Ok(key),
            _ => err(
                ErrorCode::SecretIdNotFound,
                keyconsole_base::text!("errors.no_such_secretid_use_the_one"),
            ),
        }
    }

    /// The SecretKey that signs Tencent requests made with `secret_id`.
    pub fn api_secret_key(&self, secret_id: &str) -> Result<Zeroizing<String>> {
        self.api_secret_key_for(Cloud::Tencent, secret_id)
    }
}

#[cfg(any(test, feature = "testing"))]
impl Kms {
    /// For tests replaying requests that the official SDKs signed with fixed, made-up credentials.
    pub fn install_api_credentials(&self, secret_id: &str, secret_key: &str) -> Result<()> {
        self.transact(|ring, now| {
            ring.set_credentials(ApiCredentials {
                cloud: Cloud::Tencent,
                secret_id: secret_id.to_owned(),
                secret_key: Zeroizing::new(secret_key.to_owned()),
                created: now,
            });
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_pairs_have_the_cloud_shape_and_differ() {
        let a = ApiCredentials::generate(Cloud::Tencent, 1);
        let b = ApiCredentials::generate(Cloud::Tencent, 1);
        assert_eq!(a.secret_id.len(), 36);
        assert!(a.secret_id.starts_with("AKID"));
        assert_eq!(a.secret_key.len(), 32);
        assert!(a.secret_key.bytes().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a.secret_id, b.secret_id);
        assert_ne!(*a.secret_key, *b.secret_key);
        assert!(!format!("{a:?}").contains(a.secret_key.as_str()));
    }

    #[test]
    fn each_cloud_has_its_own_key_shape() {
        let huawei = ApiCredentials::generate(Cloud::Huawei, 1);
        assert_eq!(huawei.secret_id.len(), 20);
        assert!(huawei.secret_id.bytes().all(|c| UPPER_DIGITS.contains(&c)));
        assert_eq!(huawei.secret_key.len(), 40);
        let jd = ApiCredentials::generate(Cloud::Jd, 1);
        assert_eq!((jd.secret_id.len(), jd.secret_key.len()), (32, 32));
        assert!(jd.secret_key.bytes().all(|c| UPPER_HEX.contains(&c)));
        assert_ne!(jd.secret_id, *jd.secret_key);
        assert_eq!(Cloud::from_name("JD"), Some(Cloud::Jd));
        assert_eq!(Cloud::from_name("aws"), None);
    }
}
