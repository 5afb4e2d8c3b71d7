//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod api_client;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use keyconsole::kms::{Clock, CreateKey, KeyMetadata, Kms};
use keyconsole::store::KdfParams;

pub const PASSWORD: &[u8] = b"correct horse battery staple";

/// A cheap KDF so the tests spend their time on what they test. The default KDF is covered by the
/// benchmarks and by one test that uses it on purpose.
pub const FAST_KDF: KdfParams = KdfParams {
    memory_kib: 256,
    iterations: 1,
    parallelism: 1,
};

/// A clock the test moves by hand.
#[derive(Debug)]
pub struct TestClock(AtomicI64);

impl TestClock {
    pub fn new(now: i64) -> Arc<Self> {
        Arc::new(Self(AtomicI64::new(now)))
    }
    pub fn advance_days(&self, days: i64) {
        self.0.fetch_add(days * 86_400, Ordering::SeqCst);
    }
}

impl Clock for TestClock {
    fn now(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

pub struct TestKeystore {
    pub dir: tempfile::TempDir,
    pub path: PathBuf,
    pub clock: Arc<TestClock>,
}

impl TestKeystore {
    pub fn new() -> (Self, Kms) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("keystore.kcks");
        let clock = TestClock::new(1_800_000_000);
        let kms = Kms::create_with_clock(&path, PASSWORD, FAST_KDF, clock.clone())
            .expect("create keystore");
        (Self { dir, path, clock }, kms)
    }

    pub fn reopen(&self) -> Kms {
        Kms::open_with_clock(&self.path, PASSWORD, self.clock.clone()).expect("reopen keystore")
    }
}

pub fn create(kms: &mut Kms, alias: &str) -> KeyMetadata {
    kms.create_key(CreateKey {
        alias: alias.to_owned(),
        ..CreateKey::default()
    })
    .expect("create key")
}

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
