//! The engine: every KMS rule lives here, once. The GUI, the CLI and the API translate their input
//! into these calls and the results and errors back; none of them knows a rule of its own.
//!
//! `Kms` (this file) is the facade over one unlocked keystore and its transaction; the operations
//! live beside it by concern: `keys/` (records, rules, specs, queries, key changes), `crypto_ops`,
//! `maintenance`, `credentials`, `envelope/` (files), and `shared` (one engine for several faces
//! in a process, with the one maintenance tick).

pub mod admin;
pub mod audit;
pub mod blob;
pub mod context;
pub mod credentials;
pub mod crypto_ops;
pub mod envelope;
pub mod error;
pub mod keyring;
pub mod keys;
pub mod local_ca;
pub mod maintenance;
pub mod outputs;
pub mod pair_ops;
pub mod policy;
pub mod secrets;
pub mod service;
pub mod shared;
pub mod tags;
pub mod usage;
pub mod users;

#[cfg(any(test, feature = "testing"))]
pub mod testing;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, TryLockError};

use arc_swap::ArcSwap;
use zeroize::Zeroizing;

pub use admin::{KeystoreAdmin, Upkeep};
pub use blob::{Blob, CanonicalContext};
pub use credentials::{ApiCredentials, Cloud};
pub use crypto_ops::{DataKey, Decrypted, Encrypted, ReEncrypted};
pub use error::{ErrorCode, KmsError, Result};
pub use keyconsole_base::crypto::asymmetric::MessageType;
pub use keyring::Keys;
pub use keys::rules::{
    BATCH_MAX_KEYS, DESCRIBE_MAX_KEYS, LIST_LIMIT_MAX, PLAINTEXT_MAX_BYTES, RANDOM_MAX_BYTES,
};
pub use keys::{
    CreateKey, DataKeySpec, KeyIndex, KeyMetadata, KeyOrigin, KeyOwner, KeyPage, KeyQuery,
    KeyRecord, KeySpec, KeyState, KeyUsage, KeyVersion, Order, OriginFilter, StateFilter,
};
pub use maintenance::Maintenance;
pub use pair_ops::{PublicKey, encrypt_for_caller};
pub use secrets::{
    CreateSecret, CreateSshKeyPairSecret, SecretMetadata, SecretPage, SecretQuery, SecretState,
    SecretStateFilter, SecretType, SecretValue, SshKeyPair,
};
pub use service::{
    Caller, Face, KeyChange, KeyChanged, KmsService, SecretChange, SecretChanged, ServedKms,
    ServerSupport, ServiceEvent,
};
pub use shared::SharedKms;
pub use tags::{Tag, TagFilter};

use keyconsole_store::{FileStamp, KdfParams, Store};
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

/// What readers see: the keyring as the disk holds it, and the file it came from. Immutable once
/// published; a change builds the next one.
struct Published {
    ring: Arc<Keyring>,
    stamp: Option<FileStamp>,
    generation: u64,
}

/// How long a change waits for readers to let go of the keyring it replaced (see `retire`).
const RETIRE_WAIT: std::time::Duration = std::time::Duration::from_millis(20);

/// Drops a replaced keyring here, on the thread that made the change, once the readers that still
/// hold it (for the microseconds of a request) are done: freeing a keyring of 50,000 keys and
/// wiping their material takes milliseconds, which the last reader would otherwise spend, in the
/// middle of answering a request. A reader that holds it longer (a page of the console) frees it
/// itself.
fn retire(old: Arc<Published>, now_published: &Published) {
    // A new stamp over the same keyring keeps the keyring: only the old record goes.
    let ring_goes = !Arc::ptr_eq(&old.ring, &now_published.ring);
    let started = std::time::Instant::now();
    while (Arc::strong_count(&old) > 1 || (ring_goes && Arc::strong_count(&old.ring) > 1))
        && started.elapsed() < RETIRE_WAIT
    {
        std::thread::sleep(std::time::Duration::from_micros(50));
    }
    drop(old);
}

/// The engine's error for a trail that cannot take an event.
pub(crate) fn audit_unavailable(failure: audit::AuditFailure) -> KmsError {
    KmsError::new(
        ErrorCode::AuditUnavailable,
        keyconsole_base::text!("errors.audit_unavailable", why = failure.0),
    )
}

/// Marks a save of this process in progress for as long as it lives (see `Kms::is_current`).
struct Saving<'a>(&'a std::sync::atomic::AtomicBool);

impl<'a> Saving<'a> {
    fn start(flag: &'a std::sync::atomic::AtomicBool) -> Self {
        flag.store(true, std::sync::atomic::Ordering::Release);
        Saving(flag)
    }
}

impl Drop for Saving<'_> {
    fn drop(&mut self) {
        self.0.store(false, std::sync::atomic::Ordering::Release);
    }
}

/// The engine over one unlocked keystore.
///
/// Readers never wait: they load the published keyring (an `Arc` swapped atomically). A change
/// takes the writer's turn, waits for the keystore's file lock, builds the next keyring from the
/// newest one on disk, saves it, and publishes it only once the save returned Ok; a failed save
/// publishes nothing, so memory always equals what the disk holds.
pub struct Kms {
    path: PathBuf,
    published: ArcSwap<Published>,
    /// The writer's turn: taken by changes and refreshes, never by a reader.
    store: Mutex<Store>,
    clock: Arc<dyn Clock>,
    /// Why opening could not carry out maintenance that fell due (a read-only keystore, say).
    warnings: Mutex<Vec<String>>,
    /// Database secrets this process is rotating.
    rotations: secrets::database::RotationsInProgress,
    /// Wakes a long-running face's maintenance when a reservation of encryptions runs low.
    top_up_waker: arc_swap::ArcSwapOption<usage::TopUpWaker>,
    /// Hears every operation through the service boundary (`service::KmsService`).
    event_hook: arc_swap::ArcSwapOption<Arc<service::EventHook>>,
    /// How database secrets reach their databases (the real servers; a fake in tests).
    database_driver: Mutex<Arc<dyn secrets::driver::DatabaseDriver>>,
    /// The key index of the last keyring one was asked of (`KmsService::key_index`).
    key_index: Mutex<Option<(std::sync::Weak<Keyring>, Arc<keys::KeyIndex>)>>,
    /// The smallest first block of encryptions a version reserves in this process.
    first_block: std::sync::atomic::AtomicU64,
    /// Changes in the keystore's folder, started by the first `is_current` (`None` inside: the
    /// system cannot watch, so every call looks at the file).
    folder_watch: std::sync::OnceLock<Option<keyconsole_base::util::folder_watch::FolderWatch>>,
    /// The folder's change count when the file last matched what is published.
    matched_at: std::sync::atomic::AtomicU64,
    /// A save of this process is under way (it holds the keystore's lock, so the file changes
    /// only by it, and it publishes what it wrote when done).
    saving: std::sync::atomic::AtomicBool,
    /// Reads the file without the writer's turn (`refresh_for_reader`), one reader at a time
    /// (replaced when this process gives the keystore a new master key).
    file_reader: Mutex<keyconsole_store::FileReader>,
    /// The audit trail beside the keystore (`None` only when turned off for a measurement).
    audit: Option<audit::AuditTrail>,
    /// What the trail's keys come from (kept in the keystore from its first save on).
    audit_secret: Zeroizing<[u8; 32]>,
    /// What `credential_last_use` read of the trail so far.
    last_use: Mutex<audit::LastUseScan>,
}

impl std::fmt::Debug for Kms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kms")
            .field("path", &self.path)
            .field("generation", &self.generation())
            .field("keys", &self.ring().keys.len())
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
        Ok(Kms::new(store, ring, clock))
    }

    /// Unlocks the keystore at `path`, then carries out any rotation or deletion that fell due.
    /// Opening never needs to write: when maintenance cannot save (a read-only keystore), keys past
    /// their deletion date are treated as gone in memory, and `warnings` says why.
    pub fn open(path: &Path, password: &[u8]) -> Result<Kms> {
        Self::open_with_clock(path, password, Arc::new(SystemClock))
    }

    pub fn open_with_clock(path: &Path, password: &[u8], clock: Arc<dyn Clock>) -> Result<Kms> {
        check_password(password)?;
        let (store, body) = Store::open(path, password)?;
        let ring = Keyring::decode(&body, path)?;
        drop(body);
        let kms = Kms::new(store, ring, clock);
        if let Err(e) = kms.maintain() {
            kms.forget_due_deletions_in_memory();
            kms.warn(format!(
                "Maintenance that fell due was not saved ({}: {}); keys past their deletion date are treated as deleted, and rotation waits until the keystore can be written.",
                e.code, e.message
            ));
        }
        Ok(kms)
    }

    fn new(store: Store, ring: Keyring, clock: Arc<dyn Clock>) -> Kms {
        // A keystore from before the trail: the secret is derived from the master key, so every
        // process that opens it agrees on it until the first save keeps it.
        let audit_secret = ring
            .audit_secret()
            .unwrap_or_else(|| store.derived_key("keyconsole audit trail v1"));
        let audit = audit::open_for(store.path(), &audit_secret);
        let published = Published {
            ring: Arc::new(ring),
            stamp: store.stamp(),
            generation: store.generation(),
        };
        let rotations = secrets::database::RotationsInProgress::new(store.path());
        let file_reader = store.file_reader();

        Kms {
            path: store.path().to_path_buf(),
            published: ArcSwap::from_pointee(published),
            store: Mutex::new(store),
            clock,
            warnings: Mutex::new(Vec::new()),
            rotations,
            top_up_waker: arc_swap::ArcSwapOption::empty(),
            event_hook: arc_swap::ArcSwapOption::empty(),
            key_index: Mutex::new(None),
            database_driver: Mutex::new(Arc::new(secrets::driver::RealDatabases)),
            first_block: std::sync::atomic::AtomicU64::new(0),
            folder_watch: std::sync::OnceLock::new(),
            matched_at: std::sync::atomic::AtomicU64::new(u64::MAX),
            saving: std::sync::atomic::AtomicBool::new(false),
            file_reader: Mutex::new(file_reader),
            audit,
            audit_secret,
            last_use: Mutex::new(audit::LastUseScan::default()),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The keystore's save counter; it moves whenever anyone saves.
    pub fn generation(&self) -> u64 {
        self.published.load().generation
    }

    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// The engine's clock, for faces that time-stamp what they do (the API's access log).
    pub fn clock(&self) -> Arc<dyn Clock> {
        self.clock.clone()
    }

    /// What went wrong without failing (maintenance that could not be saved), oldest first; taken
    /// by the face that shows them.
    pub fn take_warnings(&self) -> Vec<String> {
        std::mem::take(&mut *self.warnings.lock().unwrap_or_else(PoisonError::into_inner))
    }

    fn warn(&self, warning: String) {
        self.warnings
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(warning);
    }

    /// The published keyring. Never waits.
    pub(crate) fn ring(&self) -> Arc<Keyring> {
        self.published.load().ring.clone()
    }

    fn writer(&self) -> MutexGuard<'_, Store> {
        // A panic during a change publishes nothing (publishing is the last step), so the store
        // behind a poisoned lock is still the one on disk.
        self.store.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn publish(&self, ring: Arc<Keyring>, store: &Store) {
        let published = Arc::new(Published {
            ring,
            stamp: store.stamp(),
            generation: store.generation(),
        });
        let old = self.published.swap(published.clone());
        retire(old, &published);
    }

    /// Whether no other process saved since we last read the file (no lock; a `stat` only after
    /// something in the keystore's folder changed, an atomic load otherwise). When it says no,
    /// call `refresh`.
    pub fn is_current(&self) -> bool {
        use std::sync::atomic::Ordering;
        // Our own save renames the new file into place some time before it publishes it: readers
        // go on with what is published until then rather than each trying to catch up.
        if self.saving.load(Ordering::Acquire) {
            return true;
        }
        let watch = self.folder_watch.get_or_init(|| {
            keyconsole_base::util::folder_watch::FolderWatch::start(
                keyconsole_base::util::atomic_file::folder_of(&self.path),
            )
        });
        let changes = watch.as_ref().and_then(|watch| watch.changes());
        if changes.is_some_and(|c| c == self.matched_at.load(Ordering::Acquire)) {
            return true;
        }
        let published = self.published.load();
        let current =
            published.stamp.is_some() && FileStamp::of(&self.path).ok() == published.stamp;
        if let (true, Some(changes)) = (current, changes) {
            // Counted before the stat: a change after it moves the count again.
            self.matched_at.store(changes, Ordering::Release);
        }
        current
    }

    /// Picks up changes another process saved. Cheap (one `stat`) when there are none; waits for
    /// a change of this process in progress, so call it off the request path.
    pub fn refresh(&self) -> Result<bool> {
        let mut store = self.writer();
        self.refresh_locked(&mut store)
    }

    /// Catches up with what other processes saved, for a reader: takes the writer's turn when it
    /// is free; when a change of this process holds it (waiting for the keystore's lock, or
    /// saving), reads the file beside it instead, so a request never answers from a keyring older
    /// than a change another process finished before the request came (a key disabled, a SecretKey
    /// rotated). Publishes only a newer generation than the one published.
    pub fn refresh_for_reader(&self) -> Result<bool> {
        match self.store.try_lock() {
            Ok(mut store) => return self.refresh_locked(&mut store),
            Err(TryLockError::Poisoned(poisoned)) => {
                return self.refresh_locked(&mut poisoned.into_inner());
            }
            Err(TryLockError::WouldBlock) => {}
        }
        // One reader reads for all of them; the others find it current when it is done.
        let reader = self
            .file_reader
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if self.is_current() {
            return Ok(false);
        }
        let (stamp, generation, body) = reader.read()?;
        let mut ring = Keyring::decode(&body, &self.path)?;
        drop(body);
        ring.adopt_reservations(&self.ring());
        let newer = Arc::new(Published {
            ring: Arc::new(ring),
            stamp: Some(stamp),
            generation,
        });
        let before = self.published.rcu(|current| {
            if current.generation < generation {
                newer.clone()
            } else {
                current.clone()
            }
        });
        if before.generation >= generation {
            return Ok(false);
        }
        retire(before, &newer);
        Ok(true)
    }

    fn refresh_locked(&self, store: &mut Store) -> Result<bool> {
        let Some(body) = store.read_if_changed()? else {
            if self.published.load().stamp != store.stamp() {
                // The same keystore under a new stamp (touched, copied back): note the new stamp.
                self.publish(self.ring(), store);
            }
            return Ok(false);
        };
        let mut ring = Keyring::decode(&body, &self.path)?;
        ring.adopt_reservations(&self.ring());
        self.publish(Arc::new(ring), store);
        Ok(true)
    }

    /// One change: take the writer's turn, lock the file, catch up with it, apply `change` to a
    /// copy of the newest keyring, save the copy, and publish it only if the save returned Ok.
    /// A refused change or a failed save leaves memory and disk as they were.
    pub(crate) fn transact<T>(
        &self,
        change: impl FnOnce(&mut Keyring, i64) -> Result<T>,
    ) -> Result<T> {
        let mut store = self.writer();
        let guard = store.lock()?;
        self.refresh_locked(&mut store)?;
        let mut next = Keyring::clone(&self.ring());
        let now = self.clock.now();
        let out = change(&mut next, now)?;
        self.save_and_publish(&mut store, next, |store, body| store.save(&guard, body))?;
        Ok(out)
    }

    /// `transact` for a change that may find nothing to do once it holds the writer's turn
    /// (`None`): then nothing is saved.
    pub(crate) fn transact_if_needed<T>(
        &self,
        change: impl FnOnce(&mut Keyring, i64) -> Result<Option<T>>,
    ) -> Result<Option<T>> {
        let mut store = self.writer();
        let guard = store.lock()?;
        self.refresh_locked(&mut store)?;
        let mut next = Keyring::clone(&self.ring());
        let now = self.clock.now();
        let Some(out) = change(&mut next, now)? else {
            return Ok(None);
        };
        self.save_and_publish(&mut store, next, |store, body| store.save(&guard, body))?;
        Ok(Some(out))
    }

    /// Saves `next` with `write` (a plain save, or one under a new password) and publishes it only
    /// if that returned Ok. Otherwise the published keyring never saw the change.
    fn save_and_publish(
        &self,
        store: &mut Store,
        mut next: Keyring,
        write: impl FnOnce(&mut Store, Zeroizing<Vec<u8>>) -> keyconsole_store::Result<()>,
    ) -> Result<()> {
        // The keystore keeps the trail's secret and its head as of this save, so a trail cut
        // short later is found. A trail that cannot be written refuses the change.
        next.set_audit_secret(&self.audit_secret);
        if let Some(trail) = &self.audit {
            next.audit_head = Some(trail.sync().map_err(audit_unavailable)?);
        }
        let body = next.encode()?;
        let _saving = Saving::start(&self.saving);
        write(store, body)?;
        // Saved: the reservations it raised may be used now (still under the writer's turn, so
        // a second reservation for the same need sees this one).
        next.credits.credit_all();
        self.publish(Arc::new(next), store);
        Ok(())
    }

    /// Keys past their deletion date, dropped from memory only: for a keystore that cannot be
    /// written, so a key that is due to be gone is never used. Removing is all it does; nothing
    /// is made that the disk would lack.
    fn forget_due_deletions_in_memory(&self) {
        let _writer = self.writer();
        let now = self.clock.now();
        let current = self.published.load_full();
        let keys_due = current
            .ring
            .keys
            .iter()
            .any(|k| maintenance::deletion_due(k, now));
        let secrets_due = current
            .ring
            .secrets
            .iter()
            .any(|s| secrets::deletion_due(s, now));
        if !keys_due && !secrets_due {
            return;
        }
        let mut ring = Keyring::clone(&current.ring);
        ring.keys.retain(|k| !maintenance::deletion_due(k, now));
        ring.secrets.retain(|s| !secrets::deletion_due(s, now));
        ring.reindex();
        let published = Arc::new(Published {
            ring: Arc::new(ring),
            stamp: current.stamp,
            generation: current.generation,
        });
        let old = self.published.swap(published.clone());
        drop(current);
        retire(old, &published);
    }

    /// Changes the keystore password (re-proving the current one). Only the wrapped master key
    /// changes; the key records are not re-encrypted.
    pub fn change_password(
        &self,
        current: &[u8],
        new: &[u8],
        kdf: Option<KdfParams>,
    ) -> Result<()> {
        self.replace_password(current, new, kdf, false)
    }

    /// Changes the keystore password and gives it a new master key (`passwd --rekey`): every
    /// record is sealed anew, and the backups, which the old password still opened, are deleted.
    /// Other processes that have the keystore open must be unlocked again.
    pub fn rekey(&self, current: &[u8], new: &[u8], kdf: Option<KdfParams>) -> Result<()> {
        self.replace_password(current, new, kdf, true)
    }

    fn replace_password(
        &self,
        current: &[u8],
        new: &[u8],
        kdf: Option<KdfParams>,
        new_master_key: bool,
    ) -> Result<()> {
        check_password(new)?;
        let mut store = self.writer();
        store.verify_password(current)?;
        let guard = store.lock()?;
        self.refresh_locked(&mut store)?;
        let next = Keyring::clone(&self.ring());
        let kdf = kdf.unwrap_or(store.kdf_params());
        self.save_and_publish(&mut store, next, |store, body| {
            if new_master_key {
                store.rekey(&guard, new, kdf, body)
            } else {
                store.change_password(&guard, new, kdf, body)
            }
        })?;
        if new_master_key {
            *self
                .file_reader
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = store.file_reader();
        }
        Ok(())
    }

    /// Refuses an output path that names this keystore or one of its own files.
    pub fn check_output_path(&self, target: &Path) -> Result<()> {
        outputs::check_output_path(&self.path, target)
    }

    /// Makes the next `n` saves fail with an I/O error (a full disk), as the store reports it.
    #[cfg(feature = "testing")]
    pub fn fail_next_saves(&self, n: u32) {
        self.writer().fail_next_saves(n);
    }

    /// Makes the keystore's size limit `bytes` (for opening and saving) instead of 256 MiB, so a
    /// test reaches it in a moment.
    #[cfg(feature = "testing")]
    pub fn set_keystore_size_limit(&self, bytes: u64) {
        self.writer().set_size_limit(bytes);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crate::keyring::Keyring;
    use crate::testing::FAST_KDF;
    use crate::{CreateKey, Kms};

    fn engine() -> (tempfile::TempDir, Kms) {
        let dir = tempfile::tempdir().unwrap();
        let kms = Kms::create(&dir.path().join("k.kcks"), b"pw", FAST_KDF).unwrap();
        (dir, kms)
    }

    /// Between the rename of its own save and the publish, the file on disk is newer than what
    /// readers see, yet readers are not sent to catch up: the save publishes it in a moment.
    #[test]
    fn readers_do_not_catch_up_with_a_save_of_this_process_in_progress() {
        let (_dir, kms) = engine();
        assert!(kms.is_current());
        let mut store = kms.writer();
        let guard = store.lock().unwrap();
        let next = Keyring::clone(&kms.ring());
        let mut seen_during = None;
        kms.save_and_publish(&mut store, next, |store, body| {
            store.save(&guard, body)?;
            seen_during = Some(kms.is_current());
            Ok(())
        })
        .unwrap();
        assert_eq!(seen_during, Some(true), "renamed, not yet published");
        drop(guard);
        drop(store);
        assert!(kms.is_current(), "published: the stamp matches the file");
        // Once the save is done, another process's save is noticed again.
        let other = Kms::open(kms.path(), b"pw").unwrap();
        crate::testing::create(&other, "elsewhere");
        assert!(!kms.is_current());
    }

    /// A reader that holds the keyring while a change replaces it keeps reading it intact (the
    /// change goes on after `RETIRE_WAIT`), and the old keyring is freed once the last holder
    /// lets go.
    #[test]
    fn a_replaced_keyring_outlives_its_last_reader_only() {
        let (_dir, kms) = engine();
        crate::testing::create(&kms, "first");
        let held = kms.ring();
        let weak = Arc::downgrade(&held);
        kms.create_key(CreateKey {
            alias: "second".into(),
            ..CreateKey::default()
        })
        .unwrap();
        assert_eq!(
            held.keys.len(),
            1,
            "the reader's keyring is the one it loaded"
        );
        assert_eq!(kms.ring().keys.len(), 2);
        drop(held);
        assert!(weak.upgrade().is_none(), "freed with its last reader");
        // Nobody holding it: the change frees the keyring it replaced before it returns.
        let weak = Arc::downgrade(&kms.ring());
        crate::testing::create(&kms, "third");
        assert!(weak.upgrade().is_none());
    }
}
