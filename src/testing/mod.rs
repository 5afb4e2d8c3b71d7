//! Test helpers, in one place for every test and benchmark (feature `testing`, which the crate's
//! dev-dependency on itself turns on; never in a release build): a cheap KDF, a clock the test
//! moves, temporary keystores, and fake dialogs and clipboard for the console.

pub mod api_client;
pub mod database;
pub mod fuzz;

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::store::KdfParams;
use crate::ui::platform::{Clipboard, DialogAnswer, DialogPurpose, DialogRequest, FileDialogs};

// The engine's own helpers live in the engine crate (its unit tests use them too).
pub use crate::kms::testing::{FAST_KDF, PASSWORD, START, TestClock, TestKeystore, create};

/// Every file under `dir`, with its bytes.
pub fn all_files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(all_files(&path));
        } else if let Ok(bytes) = std::fs::read(&path) {
            out.push((path, bytes));
        }
    }
    out
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// A clipboard in memory; clones share it, so a test keeps one to look inside.
#[derive(Debug, Clone, Default)]
pub struct FakeClipboard(Arc<Mutex<Option<String>>>);

impl FakeClipboard {
    pub fn contents(&self) -> Option<String> {
        self.0.lock().ok()?.clone()
    }

    /// What another application copying something would do.
    pub fn replace(&self, text: &str) {
        if let Ok(mut slot) = self.0.lock() {
            *slot = Some(text.to_owned());
        }
    }
}

impl Clipboard for FakeClipboard {
    fn set_text(&mut self, text: &str) -> Result<(), String> {
        self.replace(text);
        Ok(())
    }

    fn get_text(&mut self) -> Option<String> {
        self.contents()
    }

    fn clear(&mut self) {
        if let Ok(mut slot) = self.0.lock() {
            *slot = None;
        }
    }
}

/// Dialogs answered from a queue the test fills; clones share the queue and the request log.
/// What a fake dialog answers: a path, None (cancelled), or Err: it could not open, for this
/// reason.
type FakeAnswer = Result<Option<PathBuf>, String>;

#[derive(Debug, Clone, Default)]
pub struct FakeDialogs {
    answers: Arc<Mutex<VecDeque<FakeAnswer>>>,
    requests: Arc<Mutex<Vec<DialogRequest>>>,
    pending: Arc<Mutex<VecDeque<DialogPurpose>>>,
}

impl FakeDialogs {
    /// The next dialog will answer `path` (None: the user cancels).
    pub fn answer_next(&self, path: Option<PathBuf>) {
        if let Ok(mut answers) = self.answers.lock() {
            answers.push_back(Ok(path));
        }
    }

    /// The next dialog cannot open (as on a desktop without a portal or zenity), for `reason`.
    pub fn unavailable_next(&self, reason: &str) {
        if let Ok(mut answers) = self.answers.lock() {
            answers.push_back(Err(reason.to_owned()));
        }
    }

    pub fn requests(&self) -> Vec<DialogRequest> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

impl FileDialogs for FakeDialogs {
    fn request(&mut self, request: DialogRequest) {
        if let (Ok(mut pending), Ok(mut requests)) = (self.pending.lock(), self.requests.lock()) {
            pending.push_back(request.purpose);
            requests.push(request);
        }
    }

    fn poll(&mut self) -> Option<DialogAnswer> {
        let purpose = self.pending.lock().ok()?.pop_front()?;
        let answer = self.answers.lock().ok()?.pop_front().unwrap_or(Ok(None));
        Some(match answer {
            Ok(path) => DialogAnswer {
                purpose,
                path,
                unavailable: None,
            },
            Err(reason) => DialogAnswer {
                purpose,
                path: None,
                unavailable: Some(reason),
            },
        })
    }
}

/// Writes a keystore of `n` enabled keys (aliases `app-00000`…) in one save, for benchmarks of
/// large keystores; half of them rotate yearly.
pub fn keystore_with_keys(path: &Path, password: &[u8], kdf: KdfParams, n: usize) {
    use crate::kms::{KeyOrigin, KeyOwner, KeyRecord, KeyState, KeyUsage, KeyVersion};
    let now = START;
    let keys: Vec<KeyRecord> = (0..n)
        .map(|i| KeyRecord {
            key_id: uuid::Uuid::new_v4(),
            alias: format!("app-{i:05}"),
            description: format!("key number {i} for the benchmark"),
            state: KeyState::Enabled,
            usage: KeyUsage::EncryptDecrypt,
            spec: Default::default(),
            origin: KeyOrigin::Generated,
            create_time: now + i as i64,
            rotation_enabled: i % 2 == 0,
            rotate_days: 365,
            last_rotate_time: 0,
            next_rotate_time: if i % 2 == 0 { now + 365 * 86_400 } else { 0 },
            deletion_date: 0,
            versions: vec![KeyVersion::new(&*crate::crypto::random_key(), now)],
            tags: Vec::new(),
            owner: KeyOwner::User,
            import: None,
        })
        .collect();
    let mut body = crate::util::ZeroizingWriter::with_capacity(n * 512);
    serde_json::to_writer(&mut body, &serde_json::json!({ "keys": keys })).expect("serialize");
    crate::store::Store::create(path, password, kdf, body.into_inner().into())
        .expect("create keystore");
}

/// The compat fixture (`tests/fixtures/compat/`, made by `make.sh` with the binary of 14f5ec7).
pub mod compat {
    use std::path::{Path, PathBuf};

    pub const PASSWORD: &[u8] = b"compat fixture password";
    /// What every blob of the fixture holds.
    pub const PLAINTEXT: &[u8] = b"the MySQL password from before the change";

    pub fn dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/compat")
    }

    /// The fixture's keystore copied to a temporary folder (opening may save, and the fixture stays
    /// as made), opened with `clock`.
    pub fn open_copy(
        clock: std::sync::Arc<dyn crate::kms::Clock>,
    ) -> (tempfile::TempDir, crate::kms::Kms) {
        let folder = tempfile::tempdir().expect("temp dir");
        let path = folder.path().join("keystore.kcks");
        std::fs::copy(dir().join("keystore.kcks"), &path).expect("copy the fixture");
        let kms =
            crate::kms::Kms::open_with_clock(&path, PASSWORD, clock).expect("open the fixture");
        (folder, kms)
    }

    /// The encrypted file's plaintext, as make.sh wrote it: 40,000 bytes of numbered lines.
    pub fn file_plaintext() -> Vec<u8> {
        let mut text = Vec::new();
        let mut i = 0;
        while text.len() < 40_000 {
            text.extend_from_slice(format!("line {i:05} of the compat fixture\n").as_bytes());
            i += 1;
        }
        text.truncate(40_000);
        text
    }
}
