//! One engine shared by the faces running side by side in a process (the console and its API
//! server), and the one maintenance tick they all use.

use std::sync::Arc;

use super::Kms;

/// How often long-running faces (the console, `serve`) call `Kms::tick`.
pub const TICK_SECONDS: u64 = 1;

/// One engine shared by faces running side by side in a process (the console and its API server).
/// The engine synchronizes itself: reads never wait, changes take turns (see `Kms`).
#[derive(Debug, Clone)]
pub struct SharedKms(Arc<Kms>);

impl SharedKms {
    pub fn new(kms: Kms) -> Self {
        Self(Arc::new(kms))
    }
}

impl std::ops::Deref for SharedKms {
    type Target = Kms;
    fn deref(&self) -> &Kms {
        &self.0
    }
}
