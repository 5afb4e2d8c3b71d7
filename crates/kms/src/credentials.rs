//! The loopback API's credentials: one SecretId/SecretKey pair, made on first use and kept in the
//! encrypted keystore body beside the keys, so only someone who can unlock the keystore can read it.

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::Kms;
use super::error::{ErrorCode, Result, err};
use keyconsole_base::crypto;

/// Both halves are 32 characters of `[A-Za-z0-9]`, the SecretId prefixed `AKID` as the cloud's are
/// (so tools that recognise Tencent Cloud ids keep working). 32 such characters hold 190 bits.
const SECRET_CHARS: usize = 32;
const ALPHABET: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

#[derive(Clone, Serialize, Deserialize)]
pub struct ApiCredentials {
    pub secret_id: String,
    pub secret_key: Zeroizing<String>,
    /// When this pair was made (Unix seconds); rotation replaces both halves.
    pub created: i64,
}

impl std::fmt::Debug for ApiCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiCredentials")
            .field("secret_id", &self.secret_id)
            .field("secret_key", &"<redacted>")
            .field("created", &self.created)
            .finish()
    }
}

impl ApiCredentials {
    pub fn generate(now: i64) -> Self {
        Self {
            secret_id: format!("AKID{}", &*random_alphanumeric(SECRET_CHARS)),
            secret_key: random_alphanumeric(SECRET_CHARS),
            created: now,
        }
    }
}

/// Uniform characters from the OS CSPRNG: bytes at or above 248 (= 4 × 62) are dropped so that
/// `byte % 62` has no bias.
fn random_alphanumeric(len: usize) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::with_capacity(len));
    let mut bytes = Zeroizing::new([0u8; 64]);
    while out.len() < len {
        crypto::fill_random(bytes.as_mut());
        for &b in bytes.iter().filter(|&&b| b < 248) {
            if out.len() == len {
                break;
            }
            out.push(char::from(ALPHABET[usize::from(b % 62)]));
        }
    }
    out
}

impl Kms {
    /// The API credentials if they were ever made (the console shows them; nothing is created).
    pub fn existing_api_credentials(&self) -> Option<ApiCredentials> {
        self.ring().api_credentials.clone()
    }

    /// The API credentials, made and saved on first use.
    pub fn api_credentials(&self) -> Result<ApiCredentials> {
        if let Some(existing) = &self.ring().api_credentials {
            return Ok(existing.clone());
        }
        self.transact(|ring, now| {
            // Another process may have made them since we last looked.
            Ok(ring
                .api_credentials
                .get_or_insert_with(|| ApiCredentials::generate(now))
                .clone())
        })
    }

    /// Replaces the API credentials with a new pair; the old SecretKey stops working at once.
    pub fn rotate_api_credentials(&self) -> Result<ApiCredentials> {
        self.transact(|ring, now| {
            let fresh = ApiCredentials::generate(now);
            ring.api_credentials = Some(fresh.clone());
            Ok(fresh)
        })
    }

    /// The SecretKey that signs requests made with `secret_id`.
    pub fn api_secret_key(&self, secret_id: &str) -> Result<Zeroizing<String>> {
        match &self.ring().api_credentials {
            Some(c) if c.secret_id == secret_id => Ok(c.secret_key.clone()),
            _ => err(
                ErrorCode::SecretIdNotFound,
                keyconsole_base::text!("errors.no_such_secretid_use_the_one"),
            ),
        }
    }
}

#[cfg(any(test, feature = "testing"))]
impl Kms {
    /// For tests replaying requests that the official SDKs signed with fixed, made-up credentials.
    pub fn install_api_credentials(&self, secret_id: &str, secret_key: &str) -> Result<()> {
        self.transact(|ring, now| {
            ring.api_credentials = Some(ApiCredentials {
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
        let a = ApiCredentials::generate(1);
        let b = ApiCredentials::generate(1);
        assert_eq!(a.secret_id.len(), 36);
        assert!(a.secret_id.starts_with("AKID"));
        assert_eq!(a.secret_key.len(), 32);
        assert!(a.secret_key.bytes().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a.secret_id, b.secret_id);
        assert_ne!(*a.secret_key, *b.secret_key);
        assert!(!format!("{a:?}").contains(a.secret_key.as_str()));
    }
}
