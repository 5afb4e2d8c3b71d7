//! The engine: every KMS rule lives here, once. The GUI, the CLI and the API translate their input
//! into these calls and the results and errors back; none of them knows a rule of its own.
//!
//! `Kms` (this file) is the facade over one unlocked keystore and its transaction; the operations
//! live beside it by concern: `keys/` (records, rules, specs, queries, key changes), `crypto_ops`,
//! `maintenance`, `credentials`, `envelope/` (files), and `shared` (one engine for several faces
//! in a process, with the one maintenance tick).

pub mod blob;
pub mod context;
pub mod credentials;
pub mod crypto_ops;
pub mod envelope;
pub mod error;
pub mod keyring;
pub mod keys;
pub mod maintenance;
pub mod shared;

use std::path::Path;
use std::sync::Arc;

pub use blob::{Blob, CanonicalContext};
pub use credentials::ApiCredentials;
pub use crypto_ops::{DataKey, Decrypted, Encrypted, ReEncrypted};
pub use error::{ErrorCode, KmsError, Result};
pub use keys::rules::{
    BATCH_MAX_KEYS, DESCRIBE_MAX_KEYS, LIST_LIMIT_MAX, PLAINTEXT_MAX_BYTES, RANDOM_MAX_BYTES,
};
pub use keys::{
    CreateKey, DataKeySpec, KeyMetadata, KeyOrigin, KeyPage, KeyQuery, KeyRecord, KeyState,
    KeyUsage, KeyVersion, Order, StateFilter,
};
pub use maintenance::Maintenance;
pub use shared::SharedKms;

use crate::store::{KdfParams, Store};
use keyring::Keyring;
use keys::rules::check_password;

/// Seconds since the Unix epoch. Injected so tests can move time forward.
pub trait Clock: Send + Sync {
    fn now(&self) -> i64;
}

#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0)
    }
}

/// The engine over one unlocked keystore.
pub struct Kms {
    store: Store,
    ring: Keyring,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Kms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kms")
            .field("store", &self.store)
            .field("keys", &self.ring.keys.len())
            .finish_non_exhaustive()
    }
}

impl Kms {
    /// Creates a keystore at `path` protected by `password` and opens it.
    pub fn create(path: &Path, password: &[u8], kdf: KdfParams) -> Result<Kms> {
        Self::create_with_clock(path, password, kdf, Arc::new(SystemClock))
    }

    pub fn create_with_clock(
        path: &Path,
        password: &[u8],
        kdf: KdfParams,
        clock: Arc<dyn Clock>,
    ) -> Result<Kms> {
        check_password(password)?;
        let ring = Keyring::default();
        let store = Store::create(path, password, kdf, ring.encode()?)?;
        Ok(Kms { store, ring, clock })
    }

    /// Unlocks the keystore at `path`, then carries out any rotation or deletion that fell due.
    pub fn open(path: &Path, password: &[u8]) -> Result<Kms> {
        Self::open_with_clock(path, password, Arc::new(SystemClock))
    }

    pub fn open_with_clock(path: &Path, password: &[u8], clock: Arc<dyn Clock>) -> Result<Kms> {
        check_password(password)?;
        let (store, body) = Store::open(path, password)?;
        let ring = Keyring::decode(&body, path)?;
        drop(body);
        let mut kms = Kms { store, ring, clock };
        kms.maintain()?;
        Ok(kms)
    }

    pub fn path(&self) -> &Path {
        self.store.path()
    }

    /// The keystore's save counter; it moves whenever anyone saves.
    pub fn generation(&self) -> u64 {
        self.store.generation()
    }

    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// The engine's clock, for faces that time-stamp what they do (the API's access log).
    pub fn clock(&self) -> Arc<dyn Clock> {
        self.clock.clone()
    }

    /// Whether no other process saved since we last read the file (one `stat`). When it says no,
    /// call `refresh`.
    pub fn is_current(&self) -> bool {
        self.store.is_current()
    }

    /// Picks up changes another process saved. Cheap (one `stat`) when there are none.
    pub fn refresh(&mut self) -> Result<bool> {
        match self.store.read_if_changed()? {
            Some(body) => {
                self.replace_ring(&body)?;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    fn replace_ring(&mut self, body: &[u8]) -> Result<()> {
        let usage = self.ring.unsaved_usage();
        let mut ring = Keyring::decode(body, self.store.path())?;
        ring.add_unsaved_usage(&usage);
        self.ring = ring;
        Ok(())
    }

    /// One change: lock, catch up with the file, apply, save, unlock. `change` must check everything
    /// before it mutates, so a refused change leaves memory and disk as they were.
    pub(crate) fn transact<T>(
        &mut self,
        change: impl FnOnce(&mut Keyring, i64) -> Result<T>,
    ) -> Result<T> {
        let guard = self.store.lock()?;
        self.refresh()?;
        let now = self.clock.now();
        let out = change(&mut self.ring, now)?;
        self.ring.fold_usage();
        let saved = self
            .ring
            .encode()
            .and_then(|body| Ok(self.store.save(&guard, body)?));
        if let Err(e) = saved {
            // Memory ran ahead of the disk; go back to what the disk holds.
            self.store.forget_stamp();
            let _ = self.refresh();
            return Err(e);
        }
        Ok(out)
    }

    /// Changes the keystore password (re-proving the current one). Only the wrapped master key
    /// changes; the key records are not re-encrypted.
    pub fn change_password(
        &mut self,
        current: &[u8],
        new: &[u8],
        kdf: Option<KdfParams>,
    ) -> Result<()> {
        check_password(new)?;
        self.store.verify_password(current)?;
        let guard = self.store.lock()?;
        self.refresh()?;
        self.ring.fold_usage();
        let kdf = kdf.unwrap_or(self.store.kdf_params());
        let body = self.ring.encode()?;
        Ok(self.store.change_password(&guard, new, kdf, body)?)
    }
}
