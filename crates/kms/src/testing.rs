//! The engine's test helpers (feature `testing`, and this crate's own unit tests): a cheap KDF, a
//! clock the test moves, temporary keystores. The root crate's `testing` re-exports them.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use keyconsole_store::KdfParams;

use crate::{Clock, CreateKey, KeyMetadata, Kms};

/// A cheap KDF so tests spend their time on what they test. The default KDF is covered by the
/// benchmarks and by the tests that use it on purpose.
pub const FAST_KDF: KdfParams = KdfParams {
    memory_kib: 256,
    iterations: 1,
    parallelism: 1,
};

/// The password of the keystores made here.
pub const PASSWORD: &[u8] = b"correct horse battery staple";

/// Where test clocks start: 2027-01-15.
pub const START: i64 = 1_800_000_000;

/// A clock the test moves by hand.
#[derive(Debug)]
pub struct TestClock(AtomicI64);

impl TestClock {
    pub fn new(now: i64) -> Arc<Self> {
        Arc::new(Self(AtomicI64::new(now)))
    }

    pub fn advance(&self, seconds: i64) {
        self.0.fetch_add(seconds, Ordering::SeqCst);
    }

    pub fn advance_days(&self, days: i64) {
        self.advance(days * 86_400);
    }
}

impl Clock for TestClock {
    fn now(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// A keystore in a temporary folder (removed when dropped), with a test clock and the fast KDF.
pub struct TestKeystore {
    pub dir: tempfile::TempDir,
    pub path: PathBuf,
    pub clock: Arc<TestClock>,
}

impl TestKeystore {
    /// A new, empty keystore and its engine.
    pub fn new() -> (Self, Kms) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("keystore.kcks");
        let clock = TestClock::new(START);
        let kms = Kms::create_with_clock(&path, PASSWORD, FAST_KDF, clock.clone())
            .expect("create keystore");
        (Self { dir, path, clock }, kms)
    }

    pub fn reopen(&self) -> Kms {
        Kms::open_with_clock(&self.path, PASSWORD, self.clock.clone()).expect("reopen keystore")
    }
}

/// Creates a key with `alias` and the defaults.
pub fn create(kms: &Kms, alias: &str) -> KeyMetadata {
    kms.create_key(CreateKey {
        alias: alias.to_owned(),
        ..CreateKey::default()
    })
    .expect("create key")
}

/// The keystore body parser (`Keyring::decode`), which the crate keeps to itself: Ok with the
/// number of keys, after checking that what it read encodes and decodes to the same keys.
pub fn keystore_body(bytes: &[u8]) -> Result<usize, crate::KmsError> {
    use crate::keyring::Keyring;
    use std::path::Path;
    let path = Path::new("fuzz.kcks");
    let ring = Keyring::decode(bytes, path)?;
    let again = Keyring::decode(&ring.encode()?, path)?;
    assert_eq!(ring.keys.len(), again.keys.len());
    for (a, b) in ring.keys.iter().zip(&again.keys) {
        assert_eq!(a.metadata(), b.metadata());
    }
    Ok(ring.keys.len())
}

/// A well-formed keystore body with `keys` keys, as a seed.
pub fn keystore_body_seed(kms: &crate::Kms) -> Vec<u8> {
    kms.ring().encode().map(|b| b.to_vec()).unwrap_or_default()
}
