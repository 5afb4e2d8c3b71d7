//! The encrypted keystore file: password → Argon2id KEK → wrapped random master key → sealed body.
//!
//! The store knows bytes, not keys: the engine hands it the plaintext body to seal and gets the
//! opened body back. Every change runs under the file lock (see `lock`) after `read_if_changed`, so
//! several processes can share one keystore without losing each other's changes.

pub mod error;
pub mod format;
pub mod kdf;
pub mod lock;
pub mod save;

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

pub use error::{Result, StoreError, StoreErrorKind};
pub use format::{FormatError, Header, KdfParams};
use keyconsole_base::crypto::{self, KEY_LEN, NONCE_LEN};
use keyconsole_base::util::i18n::Text;
pub use lock::LockGuard;

pub const DEFAULT_FILE_NAME: &str = "keystore.kcks";

/// The largest keystore file read: about 500,000 keys. A bigger file (a sparse 2 GB file, say) is
/// refused before anything is read, so a hostile file cannot make the reader allocate gigabytes.
/// A save never writes a bigger one (`Store::save`), so whatever was saved opens again.
pub const MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;

/// Above this share of the size limit (15/16: 240 MiB of 256), a save that makes the file larger
/// is refused; one that keeps it or shrinks it still goes through. The last 16 MiB are room for
/// the changes that free space (deleting keys and secrets) and for bookkeeping (usage counts), so
/// a full keystore never gets stuck.
fn growth_limit(size_limit: u64) -> u64 {
    size_limit - size_limit / 16
}

/// Reads a keystore file: a regular file (not a FIFO, a device or `/dev/zero`) of at most
/// `size_limit` bytes, checked before reading; the read itself stops there too (a file that grows).
fn read_keystore(path: &Path, size_limit: u64) -> Result<Vec<u8>> {
    use std::io::Read;
    let meta =
        fs::metadata(path).map_err(|e| io_error(path, keyconsole_base::text!("errors.read"), e))?;
    if !meta.is_file() {
        return Err(damaged(
            path,
            keyconsole_base::text!("errors.it_is_not_a_regular_file"),
        ));
    }
    if meta.len() > size_limit {
        return Err(damaged(
            path,
            keyconsole_base::text!(
                "errors.it_is_mib_more_than_a_keystore",
                size = keyconsole_base::util::byte_size(meta.len()),
                max = keyconsole_base::util::byte_size(size_limit)
            ),
        ));
    }
    let file = fs::File::open(path)
        .map_err(|e| io_error(path, keyconsole_base::text!("errors.read"), e))?;
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(size_limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| io_error(path, keyconsole_base::text!("errors.read"), e))?;
    if bytes.len() as u64 > size_limit {
        return Err(damaged(
            path,
            keyconsole_base::text!("errors.it_grew_past_the_size_a"),
        ));
    }
    Ok(bytes)
}

/// The file a keystore path names: the path itself, or where it leads when it is a symbolic link.
/// Resolved once, when the keystore is opened or created, so every save replaces the real file
/// (not the link) and every process locks the same lock file, whichever path it was given.
fn resolve_link(path: &Path) -> Result<PathBuf> {
    let is_link = fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    if !is_link {
        return Ok(path.to_path_buf());
    }
    fs::canonicalize(path).map_err(|e| {
        StoreError::new(
            StoreErrorKind::Io,
            keyconsole_base::text!(
                "errors.path_is_a_link_that_leads_nowhere",
                path = path.display(),
                e = e
            ),
        )
    })
}

/// The keystore path: `--keystore`/`KEYCONSOLE_KEYSTORE` if given, else the platform's data folder.
pub fn default_path() -> PathBuf {
    directories::ProjectDirs::from("", "", "keyconsole")
        .map(|dirs| dirs.data_dir().join(DEFAULT_FILE_NAME))
        .unwrap_or_else(|| PathBuf::from(DEFAULT_FILE_NAME))
}

/// What identifies one version of the file on disk; every save renames a new file into place, so a
/// changed stamp means someone saved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileStamp {
    len: u64,
    modified: Option<std::time::SystemTime>,
    inode: u64,
}

impl FileStamp {
    /// The file's size in bytes.
    pub fn size(&self) -> u64 {
        self.len
    }

    pub fn of(path: &Path) -> io::Result<Self> {
        let meta = fs::metadata(path)?;
        #[cfg(unix)]
        let inode = std::os::unix::fs::MetadataExt::ino(&meta);
        #[cfg(not(unix))]
        let inode = 0;
        Ok(Self {
            len: meta.len(),
            modified: meta.modified().ok(),
            inode,
        })
    }
}

/// Reads the keystore file as it is now, beside its `Store` (which a change may hold meanwhile):
/// the file's path and the master key, which opens every body the keystore ever had.
pub struct FileReader {
    path: PathBuf,
    master_key: Zeroizing<[u8; KEY_LEN]>,
    /// The salt of the header the master key came with (a new salt and a body the key does not
    /// open: the keystore was re-keyed).
    salt: [u8; 16],
    size_limit: u64,
}

impl std::fmt::Debug for FileReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileReader")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl FileReader {
    /// The file's stamp (taken before reading, so a file replaced meanwhile only reads as changed
    /// once more), its generation and its opened body.
    pub fn read(&self) -> Result<(FileStamp, u64, Zeroizing<Vec<u8>>)> {
        let stamp = FileStamp::of(&self.path)
            .map_err(|e| io_error(&self.path, keyconsole_base::text!("errors.read"), e))?;
        let mut bytes = read_keystore(&self.path, self.size_limit)?;
        let header = Header::decode(&bytes).map_err(|e| format_error(&self.path, e))?;
        let aad = header.encode();
        let mut body = Zeroizing::new(bytes.split_off(format::HEADER_LEN));
        crypto::open_in_place(
            &self.master_key,
            &header.body_nonce,
            &aad[..format::AUTHENTICATED_LEN],
            &mut body,
        )
        .map_err(|_| {
            if header.salt != self.salt {
                rekeyed(&self.path)
            } else {
                damaged(
                    &self.path,
                    keyconsole_base::text!("errors.its_contents_are_damaged_or_were"),
                )
            }
        })?;
        Ok((stamp, header.generation, body))
    }
}

/// An open (unlocked) keystore: its path, its current header and the master key.
pub struct Store {
    path: PathBuf,
    header: Header,
    master_key: Zeroizing<[u8; KEY_LEN]>,
    stamp: Option<FileStamp>,
    /// The largest file this store opens or saves: `MAX_FILE_BYTES`, smaller in tests.
    size_limit: u64,
    /// Saves still to fail on purpose (tests of what a failed save leaves behind).
    #[cfg(feature = "testing")]
    failing_saves: u32,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.path)
            .field("generation", &self.header.generation)
            .finish_non_exhaustive()
    }
}

fn io_error(path: &Path, action: Text, e: io::Error) -> StoreError {
    if e.kind() == io::ErrorKind::NotFound {
        StoreError::new(
            StoreErrorKind::NotFound,
            keyconsole_base::text!("errors.there_is_no_keystore_at_path", path = path.display()),
        )
    } else {
        StoreError::new(
            StoreErrorKind::Io,
            keyconsole_base::text!(
                "errors.cannot_action_path_e",
                action = action,
                path = path.display(),
                e = e
            ),
        )
    }
}

fn damaged(path: &Path, why: impl Into<Text>) -> StoreError {
    let why: Text = why.into();
    // Only the backups that are there: a message naming files that do not exist sends a person
    // looking for nothing.
    let backups: Vec<String> = (1..=save::BACKUP_GENERATIONS)
        .map(|generation| save::backup_path(path, generation))
        .filter(|backup| backup.is_file())
        .map(|backup| backup.display().to_string())
        .collect();
    let backups = if backups.is_empty() {
        keyconsole_base::text!("errors.it_has_no_backups")
    } else {
        keyconsole_base::text!("errors.its_backups_are_list", list = backups.join(", "))
    };
    StoreError::new(
        StoreErrorKind::Damaged,
        keyconsole_base::text!(
            "errors.path_cannot_be_opened_why_its",
            path = path.display(),
            why = why,
            backups = backups
        ),
    )
}

/// Another process gave the keystore a new master key (`passwd --rekey`): the key this process
/// holds opens nothing new, so it must be unlocked again with the new password.
fn rekeyed(path: &Path) -> StoreError {
    StoreError::new(
        StoreErrorKind::Rekeyed,
        keyconsole_base::text!("errors.path_was_re_keyed_elsewhere", path = path.display()),
    )
}

fn format_error(path: &Path, e: FormatError) -> StoreError {
    match e {
        FormatError::NotAKeystore => damaged(
            path,
            keyconsole_base::text!("errors.it_is_not_a_keyconsole_keystore"),
        ),
        FormatError::UnsupportedVersion(v) => damaged(
            path,
            keyconsole_base::text!("errors.it_has_format_version_v_which", v = v),
        ),
        FormatError::UnknownKdf(id) => damaged(
            path,
            keyconsole_base::text!("errors.it_names_an_unknown_kdf_id", id = id),
        ),
        FormatError::HeaderDamaged => {
            damaged(path, keyconsole_base::text!("errors.its_header_is_damaged"))
        }
    }
}

fn wrap_master_key(
    kek: &[u8; KEY_LEN],
    header: &mut Header,
    master_key: &[u8; KEY_LEN],
) -> Result<()> {
    header.key_nonce = crypto::random_bytes();
    let aad = header.encode();
    let mut sealed = Zeroizing::new(master_key.to_vec());
    crypto::seal_in_place(
        kek,
        &header.key_nonce,
        &aad[..format::KEY_WRAP_AAD_LEN],
        &mut sealed,
    )
    .map_err(|_| {
        StoreError::new(
            StoreErrorKind::Internal,
            keyconsole_base::text!("errors.sealing_the_master_key_failed"),
        )
    })?;
    header.wrapped_key.copy_from_slice(&sealed);
    Ok(())
}

/// Derives the KEK from `password` (absurd KDF settings are refused as damage, before any work)
/// and unwraps the master key. The header hash already matched, so the header is intact: if the
/// key does not unwrap, the password is what is wrong, and the error says `wrong_password`.
fn unwrap_master_key(
    path: &Path,
    header: &Header,
    password: &[u8],
    wrong_password: Text,
) -> Result<Zeroizing<[u8; KEY_LEN]>> {
    let kek =
        kdf::derive_kek(password, &header.salt, &header.kdf).map_err(|why| damaged(path, why))?;
    let encoded = header.encode();
    let mut master = Zeroizing::new(header.wrapped_key.to_vec());
    crypto::open_in_place(
        &kek,
        &header.key_nonce,
        &encoded[..format::KEY_WRAP_AAD_LEN],
        &mut master,
    )
    .map_err(|_| StoreError::new(StoreErrorKind::WrongPassword, wrong_password))?;
    let mut master_key = Zeroizing::new([0u8; KEY_LEN]);
    master_key.copy_from_slice(&master);
    Ok(master_key)
}

impl Store {
    /// Creates a new keystore holding `body`. Fails if a file is already there.
    pub fn create(
        path: &Path,
        password: &[u8],
        kdf: KdfParams,
        body: Zeroizing<Vec<u8>>,
    ) -> Result<Store> {
        let path = &resolve_link(path)?;
        if let Err(why) = kdf::check_params(&kdf) {
            return Err(StoreError::new(
                StoreErrorKind::InvalidSettings,
                keyconsole_base::text!("errors.the_keystore_cannot_be_created_why", why = why),
            ));
        }
        if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            fs::create_dir_all(folder).map_err(|e| {
                io_error(
                    folder,
                    keyconsole_base::text!("errors.create_the_folder"),
                    e,
                )
            })?;
        }
        let guard = lock::acquire(path, lock::LOCK_TIMEOUT)?;
        if path.exists() {
            return Err(StoreError::new(
                StoreErrorKind::Exists,
                keyconsole_base::text!(
                    "errors.a_keystore_already_exists_at_path",
                    path = path.display()
                ),
            ));
        }
        let master_key = crypto::random_key();
        let mut header = Header {
            kdf,
            salt: crypto::random_bytes(),
            key_nonce: [0; NONCE_LEN],
            wrapped_key: [0; format::WRAPPED_KEY_LEN],
            generation: 0,
            body_nonce: [0; NONCE_LEN],
        };
        let kek = kdf::derive_kek(password, &header.salt, &kdf)
            .map_err(|why| StoreError::new(StoreErrorKind::InvalidSettings, why))?;
        wrap_master_key(&kek, &mut header, &master_key)?;
        let mut store = Store {
            path: path.to_path_buf(),
            header,
            master_key,
            stamp: None,
            size_limit: MAX_FILE_BYTES,
            #[cfg(feature = "testing")]
            failing_saves: 0,
        };
        store.save(&guard, body)?;
        Ok(store)
    }

    /// Opens a keystore with its password. Tells a wrong password from a damaged file.
    pub fn open(path: &Path, password: &[u8]) -> Result<(Store, Zeroizing<Vec<u8>>)> {
        Self::open_limited(path, password, MAX_FILE_BYTES)
    }

    /// `open`, for a file of at most `size_limit` bytes (and saving no larger one): tests use a
    /// small limit to reach it in a moment.
    pub fn open_limited(
        path: &Path,
        password: &[u8],
        size_limit: u64,
    ) -> Result<(Store, Zeroizing<Vec<u8>>)> {
        let path = &resolve_link(path)?;
        let stamp = FileStamp::of(path)
            .map_err(|e| io_error(path, keyconsole_base::text!("errors.read"), e))?;
        let bytes = read_keystore(path, size_limit)?;
        let header = Header::decode(&bytes).map_err(|e| format_error(path, e))?;
        let master_key = unwrap_master_key(
            path,
            &header,
            password,
            keyconsole_base::text!("errors.the_password_is_wrong_not_changed"),
        )?;
        let mut store = Store {
            path: path.to_path_buf(),
            header,
            master_key,
            stamp: None,
            size_limit,
            #[cfg(feature = "testing")]
            failing_saves: 0,
        };
        let body = store.open_body(bytes)?;
        store.stamp = Some(stamp);
        Ok((store, body))
    }

    /// Decrypts the body of a file whose header has already been parsed into `self.header`.
    fn open_body(&self, mut bytes: Vec<u8>) -> Result<Zeroizing<Vec<u8>>> {
        let aad = self.header.encode();
        let mut body = Zeroizing::new(bytes.split_off(format::HEADER_LEN));
        crypto::open_in_place(
            &self.master_key,
            &self.header.body_nonce,
            &aad[..format::AUTHENTICATED_LEN],
            &mut body,
        )
        .map_err(|_| {
            damaged(
                &self.path,
                keyconsole_base::text!("errors.its_contents_are_damaged_or_were"),
            )
        })?;
        Ok(body)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A reader of this keystore's file that needs no turn of this store's.
    pub fn file_reader(&self) -> FileReader {
        FileReader {
            path: self.path.clone(),
            master_key: self.master_key.clone(),
            salt: self.header.salt,
            size_limit: self.size_limit,
        }
    }

    /// A key for one purpose (`label`) derived from the master key: the same in every process
    /// that opens this keystore, and unknown to anyone without its password.
    pub fn derived_key(&self, label: &str) -> Zeroizing<[u8; KEY_LEN]> {
        use hmac::{Hmac, KeyInit, Mac};
        let mut mac = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(&self.master_key[..])
            .expect("HMAC takes a key of any length");
        mac.update(label.as_bytes());
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        key.copy_from_slice(&mac.finalize().into_bytes());
        key
    }

    pub fn generation(&self) -> u64 {
        self.header.generation
    }

    pub fn kdf_params(&self) -> KdfParams {
        self.header.kdf
    }

    pub fn lock(&self) -> Result<LockGuard> {
        lock::acquire(&self.path, lock::LOCK_TIMEOUT)
    }

    /// Returns the body if another process saved since we last read or wrote the file.
    /// A cheap `stat` when nothing changed.
    pub fn read_if_changed(&mut self) -> Result<Option<Zeroizing<Vec<u8>>>> {
        let stamp = FileStamp::of(&self.path)
            .map_err(|e| io_error(&self.path, keyconsole_base::text!("errors.read"), e))?;
        if self.stamp == Some(stamp) {
            return Ok(None);
        }
        let bytes = read_keystore(&self.path, self.size_limit)?;
        let header = Header::decode(&bytes).map_err(|e| format_error(&self.path, e))?;
        if header == self.header {
            self.stamp = Some(stamp);
            return Ok(None);
        }
        // The master key stays the same when another process changes the password, so the body
        // opens with the key we hold; we adopt the file's header (salt, wrapped key) as it is.
        // Only `passwd --rekey` changes it: then this process must be unlocked again.
        let salt_changed = header.salt != self.header.salt;
        let previous = std::mem::replace(&mut self.header, header);
        match self.open_body(bytes) {
            Ok(body) => {
                self.stamp = Some(stamp);
                Ok(Some(body))
            }
            Err(e) => {
                self.header = previous;
                Err(if salt_changed { rekeyed(&self.path) } else { e })
            }
        }
    }

    /// Whether the file is still the one we last read or wrote (one `stat`, no reading). Lets a
    /// server check, before each request, that no other process changed the keys under it.
    pub fn is_current(&self) -> bool {
        self.stamp.is_some() && FileStamp::of(&self.path).ok() == self.stamp
    }

    /// The file as we last read or wrote it.
    pub fn stamp(&self) -> Option<FileStamp> {
        self.stamp
    }

    #[cfg(feature = "testing")]
    pub fn fail_next_saves(&mut self, n: u32) {
        self.failing_saves = n;
    }

    #[cfg(feature = "testing")]
    pub fn set_size_limit(&mut self, bytes: u64) {
        self.size_limit = bytes;
    }

    /// Refuses a file of `file_len` bytes that could not be opened again (over the size limit),
    /// or that grows a file already past the growth limit; before anything is written.
    fn check_size(&self, file_len: u64) -> Result<()> {
        let current = self.stamp.map_or(0, |s| s.size());
        let refused = file_len > self.size_limit
            || (file_len > growth_limit(self.size_limit) && file_len > current);
        if refused {
            return Err(StoreError::new(
                StoreErrorKind::TooLarge,
                keyconsole_base::text!(
                    "errors.the_keystore_would_grow_to_size",
                    size = keyconsole_base::util::byte_size(file_len),
                    limit = keyconsole_base::util::byte_size(growth_limit(self.size_limit)),
                ),
            ));
        }
        Ok(())
    }

    /// Seals `body` (wiping the plaintext as it goes) and atomically replaces the file, keeping
    /// the file it replaces as the newest backup.
    pub fn save(&mut self, guard: &LockGuard, body: Zeroizing<Vec<u8>>) -> Result<()> {
        let keep_backups = self.header.generation > 0;
        self.save_with(guard, body, keep_backups)
    }

    fn save_with(
        &mut self,
        _guard: &LockGuard,
        mut body: Zeroizing<Vec<u8>>,
        keep_backups: bool,
    ) -> Result<()> {
        #[cfg(feature = "testing")]
        if self.failing_saves > 0 {
            self.failing_saves -= 1;
            return Err(io_error(
                &self.path,
                keyconsole_base::text!("errors.write"),
                io::Error::from_raw_os_error(libc::ENOSPC),
            ));
        }
        self.check_size((format::HEADER_LEN + body.len() + crypto::TAG_LEN) as u64)?;
        save::remove_stale_temp_files(&self.path);
        let mut header = self.header.clone();
        header.generation += 1;
        header.body_nonce = crypto::random_bytes();
        let encoded = header.encode();
        crypto::seal_in_place(
            &self.master_key,
            &header.body_nonce,
            &encoded[..format::AUTHENTICATED_LEN],
            &mut body,
        )
        .map_err(|_| {
            StoreError::new(
                StoreErrorKind::Internal,
                keyconsole_base::text!("errors.sealing_the_keystore_failed"),
            )
        })?;
        let mut file = Vec::with_capacity(format::HEADER_LEN + body.len());
        file.extend_from_slice(&encoded);
        file.extend_from_slice(&body);
        save::replace_file(&self.path, &file, keep_backups)
            .map_err(|e| io_error(&self.path, keyconsole_base::text!("errors.write"), e))?;
        self.header = header;
        self.stamp = FileStamp::of(&self.path).ok();
        Ok(())
    }

    /// Checks that `password` is this keystore's password (for changes that must re-prove it).
    pub fn verify_password(&self, password: &[u8]) -> Result<()> {
        unwrap_master_key(
            &self.path,
            &self.header,
            password,
            keyconsole_base::text!("errors.the_current_password_is_wrong"),
        )
        .map(drop)
    }

    /// Wraps the same master key under a new password (fresh salt), then saves `body`. The key
    /// records are not re-encrypted: only the 48-byte wrapped key and the header change.
    pub fn change_password(
        &mut self,
        guard: &LockGuard,
        new_password: &[u8],
        kdf: KdfParams,
        body: Zeroizing<Vec<u8>>,
    ) -> Result<()> {
        self.replace_password(guard, new_password, kdf, body, false)
    }

    /// `change_password` with a new master key as well: the body is sealed under the new key, and
    /// the backups, which the old password and key still open, are deleted once the new file is
    /// in place (this save keeps none of the old file). Afterwards nothing on disk opens with the
    /// old password, and a master key copied while the old password was known opens nothing new.
    pub fn rekey(
        &mut self,
        guard: &LockGuard,
        new_password: &[u8],
        kdf: KdfParams,
        body: Zeroizing<Vec<u8>>,
    ) -> Result<()> {
        self.replace_password(guard, new_password, kdf, body, true)?;
        for generation in 1..=save::BACKUP_GENERATIONS {
            let backup = save::backup_path(&self.path, generation);
            match fs::remove_file(&backup) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(io_error(
                        &backup,
                        keyconsole_base::text!("errors.delete"),
                        e,
                    ));
                }
            }
        }
        keyconsole_base::util::atomic_file::sync_folder(
            keyconsole_base::util::atomic_file::folder_of(&self.path),
        )
        .map_err(|e| io_error(&self.path, keyconsole_base::text!("errors.write"), e))
    }

    /// A new salt and password (and, with `new_master_key`, a new master key, saved without
    /// keeping the old file as a backup); the header and key go back as they were if it fails.
    fn replace_password(
        &mut self,
        guard: &LockGuard,
        new_password: &[u8],
        kdf: KdfParams,
        body: Zeroizing<Vec<u8>>,
        new_master_key: bool,
    ) -> Result<()> {
        if let Err(why) = kdf::check_params(&kdf) {
            return Err(StoreError::new(
                StoreErrorKind::InvalidSettings,
                keyconsole_base::text!("errors.the_password_cannot_be_changed_why", why = why),
            ));
        }
        let previous = (self.header.clone(), self.master_key.clone());
        self.header.kdf = kdf;
        self.header.salt = crypto::random_bytes();
        let kek = kdf::derive_kek(new_password, &self.header.salt, &kdf)
            .map_err(|why| StoreError::new(StoreErrorKind::InvalidSettings, why))?;
        let master_key = if new_master_key {
            crypto::random_key()
        } else {
            self.master_key.clone()
        };
        let result = wrap_master_key(&kek, &mut self.header, &master_key).and_then(|()| {
            self.master_key = master_key;
            let keep_backups = !new_master_key && self.header.generation > 0;
            self.save_with(guard, body, keep_backups)
        });
        if result.is_err() {
            (self.header, self.master_key) = previous;
        }
        result
    }
}

/// A short hint about a weak password, or None when it looks reasonable.
pub fn password_strength_hint(password: &str) -> Option<Text> {
    let classes = [
        password.chars().any(|c| c.is_ascii_lowercase()),
        password.chars().any(|c| c.is_ascii_uppercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_ascii_alphanumeric()),
    ]
    .iter()
    .filter(|&&b| b)
    .count();
    let len = password.chars().count();
    if len < 8 {
        Some(keyconsole_base::text!("errors.this_password_is_short"))
    } else if len < 12 && classes < 3 {
        Some(keyconsole_base::text!("errors.this_password_is_weak"))
    } else {
        None
    }
}
