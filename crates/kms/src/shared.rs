//! One engine shared by the faces running side by side in a process (the console and its API
//! server), and the one maintenance tick they all use.

use std::sync::Arc;

use super::error::Result;
use super::{Kms, Maintenance};

/// How often long-running faces (the console, `serve`) call `SharedKms::tick`.
pub const TICK_SECONDS: u64 = 1;

/// One engine shared by faces running side by side in a process (the console and its API server).
/// The engine synchronizes itself: reads never wait, changes take turns (see `Kms`).
#[derive(Debug, Clone)]
pub struct SharedKms(Arc<Kms>);

impl SharedKms {
    pub fn new(kms: Kms) -> Self {
        Self(Arc::new(kms))
    }

    /// The one maintenance tick: catch up with changes other processes saved, then carry out the
    /// rotations and deletions that fell due (and save piled-up encryption counts). Blocks while
    /// another change of this process saves, so run it off the request path.
    pub fn tick(&self) -> Result<Maintenance> {
        if self.is_current() && !self.maintenance_due(self.now()) {
            return Ok(Maintenance::default());
        }
        self.refresh()?;
        self.maintain()
    }
}

impl std::ops::Deref for SharedKms {
    type Target = Kms;
    fn deref(&self) -> &Kms {
        &self.0
    }
}
