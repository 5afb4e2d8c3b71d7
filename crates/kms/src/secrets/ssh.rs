//! SSH key-pair secrets (the cloud's SecretType 2): an Ed25519 key pair made here, its private
//! key (OpenSSH format) kept as the secret's sealed value, its public key (OpenSSH
//! `authorized_keys` line) and id in the secret's record for anyone allowed to describe it.

use serde::{Deserialize, Serialize};
use ssh_key::{LineEnding, PrivateKey, private::Ed25519Keypair};
use zeroize::Zeroizing;

use super::{CreateSecret, SecretValue, rules::FIRST_VERSION_ID};
use crate::Kms;
use crate::error::{ErrorCode, Result, err};
use crate::tags::Tag;

/// An SSH key name: letters, digits and `_`, starting with a letter or digit, at most 25.
pub const KEY_NAME_MAX_CHARS: usize = 25;

/// What a secret holding a key pair says of it (never the private key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SshKeyPair {
    /// `skey-` and 8 letters or digits, as the cloud numbers key pairs.
    pub key_id: String,
    pub key_name: String,
    /// `ssh-ed25519 AAAA… NAME`.
    pub public_key: String,
    pub project_id: u64,
}

/// CreateSSHKeyPairSecret's inputs.
#[derive(Debug, Clone, Default)]
pub struct CreateSshKeyPairSecret {
    pub name: String,
    pub description: String,
    /// A KeyId or alias; the service's default key when not given.
    pub key: Option<String>,
    /// The key pair's name; the secret's name (when it fits the rule) or the key id when not given.
    pub key_name: Option<String>,
    pub project_id: u64,
    pub tags: Vec<Tag>,
}

pub fn validate_key_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.chars().count() <= KEY_NAME_MAX_CHARS
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.starts_with(|c: char| c.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        err(
            ErrorCode::InvalidParameterValue,
            keyconsole_base::text!(
                "errors.ssh_key_name_rule",
                name = name,
                max = KEY_NAME_MAX_CHARS
            ),
        )
    }
}

/// A fresh key pair named `name`: the record and the private key in OpenSSH format.
fn make_key_pair(name: &str, project_id: u64) -> Result<(SshKeyPair, Zeroizing<String>)> {
    let id_bytes: [u8; 8] = keyconsole_base::crypto::random_bytes();
    key_pair_from(
        &keyconsole_base::crypto::random_key(),
        id_bytes,
        name,
        project_id,
    )
}

/// The key pair of `seed`, numbered from `id_bytes`.
fn key_pair_from(
    seed: &[u8; 32],
    id_bytes: [u8; 8],
    name: &str,
    project_id: u64,
) -> Result<(SshKeyPair, Zeroizing<String>)> {
    let keypair = Ed25519Keypair::from_seed(seed);
    let mut private = PrivateKey::from(keypair);
    private.set_comment(name);
    let failed = |e: ssh_key::Error| {
        crate::error::KmsError::new(
            ErrorCode::InternalError,
            keyconsole_base::text!("errors.ssh_key_encoding_failed", e = e.to_string()),
        )
    };
    let private_text = private.to_openssh(LineEnding::LF).map_err(failed)?;
    let public_key = private.public_key().to_openssh().map_err(failed)?;
    let alphabet = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let key_id: String = id_bytes
        .iter()
        .map(|b| alphabet[usize::from(*b) % alphabet.len()] as char)
        .collect();
    Ok((
        SshKeyPair {
            key_id: format!("skey-{key_id}"),
            key_name: name.to_owned(),
            public_key,
            project_id,
        },
        Zeroizing::new(private_text.to_string()),
    ))
}

impl Kms {
    /// CreateSSHKeyPairSecret: a new key pair, its private key sealed as the secret's first
    /// version. Returns the secret's name and the pair's public part.
    pub fn create_ssh_key_pair_secret(
        &self,
        request: CreateSshKeyPairSecret,
    ) -> Result<(String, SshKeyPair)> {
        self.create_ssh_key_pair_secret_from(request, None)
    }

    /// The same with a given seed and id, so that pictures of the console are the same every
    /// run (tests only).
    #[cfg(feature = "testing")]
    pub fn create_ssh_key_pair_secret_seeded(
        &self,
        request: CreateSshKeyPairSecret,
        seed: [u8; 32],
    ) -> Result<(String, SshKeyPair)> {
        self.create_ssh_key_pair_secret_from(request, Some(seed))
    }

    fn create_ssh_key_pair_secret_from(
        &self,
        request: CreateSshKeyPairSecret,
        seed: Option<[u8; 32]>,
    ) -> Result<(String, SshKeyPair)> {
        super::rules::validate_name(&request.name)?;
        let key_name = match request.key_name.filter(|n| !n.trim().is_empty()) {
            Some(name) => {
                validate_key_name(&name)?;
                name
            }
            None if validate_key_name(&request.name).is_ok() => request.name.clone(),
            None => String::new(),
        };
        let (mut pair, private) = match seed {
            Some(seed) => key_pair_from(&seed, [7; 8], &key_name, request.project_id)?,
            None => make_key_pair(&key_name, request.project_id)?,
        };
        if pair.key_name.is_empty() {
            pair.key_name = pair.key_id.replace('-', "_");
        }
        let (name, _) = self.insert_secret(
            CreateSecret {
                name: request.name,
                version_id: Some(FIRST_VERSION_ID.to_owned()),
                description: request.description,
                key: request.key,
                value: SecretValue::Text(private),
                tags: request.tags,
            },
            None,
            Some(pair.clone()),
        )?;
        Ok((name, pair))
    }

    /// GetSSHKeyPairValue: the key pair of an SSH key-pair secret (named, or found by the
    /// pair's id) with its private key, while the secret is readable.
    pub fn ssh_key_pair_value(
        &self,
        name: Option<&str>,
        key_id: Option<&str>,
    ) -> Result<(SshKeyPair, String, Zeroizing<String>)> {
        let (secret_name, pair, description) = {
            let ring = self.ring();
            let found = ring.secrets.iter().find(|s| {
                name.is_none_or(|n| s.name == n)
                    && key_id.is_none_or(|id| s.ssh.as_ref().is_some_and(|p| p.key_id == id))
                    && (name.is_some() || key_id.is_some())
            });
            let Some(secret) = found else {
                return Err(match name {
                    Some(name) if ring.secrets.iter().any(|s| s.name == name) => {
                        not_a_key_pair(name)
                    }
                    Some(name) => super::not_found(name),
                    None => crate::error::KmsError::new(
                        ErrorCode::SecretNotExist,
                        keyconsole_base::text!(
                            "errors.no_ssh_key_pair_has_the_id",
                            id = key_id.unwrap_or_default()
                        ),
                    ),
                });
            };
            let Some(pair) = secret.ssh.clone() else {
                return Err(not_a_key_pair(&secret.name));
            };
            (secret.name.clone(), pair, secret.description.clone())
        };
        let private = match self.get_secret_value(&secret_name, FIRST_VERSION_ID)? {
            SecretValue::Text(text) => text,
            SecretValue::Binary(_) => return Err(not_a_key_pair(&secret_name)),
        };
        Ok((pair, description, private))
    }
}

fn not_a_key_pair(name: &str) -> crate::error::KmsError {
    crate::error::KmsError::new(
        ErrorCode::UnsupportedOperation,
        keyconsole_base::text!("errors.secret_is_not_an_ssh_key_pair", name = name),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pair is a real Ed25519 pair: the private key parses and its public half is the one
    /// recorded.
    #[test]
    fn a_made_pair_parses_and_matches() {
        let (pair, private) = make_key_pair("deploy", 0).unwrap();
        let parsed = PrivateKey::from_openssh(private.as_str()).unwrap();
        assert_eq!(parsed.public_key().to_openssh().unwrap(), pair.public_key);
        assert!(pair.public_key.starts_with("ssh-ed25519 AAAA"));
        assert!(pair.public_key.ends_with(" deploy"));
        assert!(pair.key_id.starts_with("skey-") && pair.key_id.len() == 13);
        assert!(validate_key_name("deploy_1").is_ok());
        for bad in ["", "_x", "has-dash", "a234567890123456789012345x"] {
            assert!(validate_key_name(bad).is_err(), "{bad}");
        }
    }
}
