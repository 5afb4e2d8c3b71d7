//! The keyring: the keystore body in memory (keys with their indexes, the API credentials), its
//! serialization with a schema version, and the encryption counts not saved yet.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::Ordering;

use serde::{Deserialize, Serialize};
use uuid::Uuid;
use zeroize::Zeroizing;

use super::credentials::ApiCredentials;
use super::error::{ErrorCode, KmsError, Result, err};
use super::keys::KeyRecord;
use crate::util::ZeroizingWriter;

/// The body's schema: 1 is the body as first written (keys, then API credentials, both optional).
/// A body without the field is schema 1; one with a newer schema is refused rather than misread.
pub const SCHEMA_VERSION: u32 = 1;

fn schema_one() -> u32 {
    1
}

/// The keystore body as serialized (inside the encryption).
#[derive(Default, Serialize, Deserialize)]
struct Body {
    #[serde(default = "schema_one")]
    schema: u32,
    #[serde(default)]
    keys: Vec<KeyRecord>,
    /// Added with the loopback API; older keystores have none until first use.
    #[serde(default)]
    api_credentials: Option<ApiCredentials>,
}

/// The keys in memory, with indexes by id and by (case-folded) alias.
#[derive(Default)]
pub(crate) struct Keyring {
    pub(crate) keys: Vec<KeyRecord>,
    pub(crate) by_id: HashMap<Uuid, usize>,
    pub(crate) by_alias: HashMap<String, usize>,
    pub(crate) api_credentials: Option<ApiCredentials>,
}

impl Keyring {
    fn from_body(body: Body) -> Self {
        let mut ring = Keyring {
            keys: body.keys,
            api_credentials: body.api_credentials,
            ..Keyring::default()
        };
        ring.reindex();
        ring
    }

    pub(crate) fn reindex(&mut self) {
        self.by_id = self
            .keys
            .iter()
            .enumerate()
            .map(|(i, k)| (k.key_id, i))
            .collect();
        self.by_alias = self
            .keys
            .iter()
            .enumerate()
            .map(|(i, k)| (k.alias.to_ascii_lowercase(), i))
            .collect();
    }

    pub(crate) fn alias_taken(&self, alias: &str, except: Option<usize>) -> bool {
        self.by_alias
            .get(&alias.to_ascii_lowercase())
            .is_some_and(|&i| Some(i) != except)
    }

    pub(crate) fn encode(&self) -> Result<Zeroizing<Vec<u8>>> {
        let mut writer = ZeroizingWriter::with_capacity(256 + self.keys.len() * 512);
        #[derive(Serialize)]
        struct BodyRef<'a> {
            schema: u32,
            keys: &'a [KeyRecord],
            #[serde(skip_serializing_if = "Option::is_none")]
            api_credentials: Option<&'a ApiCredentials>,
        }
        let body = BodyRef {
            schema: SCHEMA_VERSION,
            keys: &self.keys,
            api_credentials: self.api_credentials.as_ref(),
        };
        serde_json::to_writer(&mut writer, &body).map_err(|e| {
            KmsError::new(
                ErrorCode::InternalError,
                format!("Serializing the keystore failed: {e}."),
            )
        })?;
        Ok(writer.into_inner())
    }

    pub(crate) fn decode(bytes: &[u8], path: &Path) -> Result<Keyring> {
        let body: Body = serde_json::from_slice(bytes).map_err(|_| {
            KmsError::new(
                ErrorCode::KeystoreDamaged,
                format!(
                    "{} decrypts but its contents cannot be read.",
                    path.display()
                ),
            )
        })?;
        if body.schema > SCHEMA_VERSION {
            return err(
                ErrorCode::KeystoreDamaged,
                format!(
                    "{} was written by a newer keyconsole (body schema {}; this one reads up to {SCHEMA_VERSION}).",
                    path.display(),
                    body.schema
                ),
            );
        }
        if body.keys.iter().any(|k| k.versions.is_empty()) {
            return err(
                ErrorCode::KeystoreDamaged,
                format!("{} holds a key without key material.", path.display()),
            );
        }
        Ok(Keyring::from_body(body))
    }

    /// Encryption counts this process has not saved yet, to carry over when the file is re-read.
    pub(crate) fn unsaved_usage(&self) -> Vec<(Uuid, usize, u64)> {
        let mut usage = Vec::new();
        for key in &self.keys {
            for (i, version) in key.versions.iter().enumerate() {
                let n = version.unsaved_encryptions.load(Ordering::Relaxed);
                if n > 0 {
                    usage.push((key.key_id, i, n));
                }
            }
        }
        usage
    }

    pub(crate) fn add_unsaved_usage(&mut self, usage: &[(Uuid, usize, u64)]) {
        for &(key_id, index, n) in usage {
            if let Some(version) = self
                .by_id
                .get(&key_id)
                .and_then(|&k| self.keys[k].versions.get(index))
            {
                version.unsaved_encryptions.fetch_add(n, Ordering::Relaxed);
            }
        }
    }

    /// Moves the unsaved counts into the saved ones, right before a save.
    pub(crate) fn fold_usage(&mut self) {
        for version in self.keys.iter_mut().flat_map(|k| k.versions.iter_mut()) {
            let n = version.unsaved_encryptions.swap(0, Ordering::Relaxed);
            version.encryptions = version.encryptions.saturating_add(n);
        }
    }
}
