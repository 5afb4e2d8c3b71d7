//! One engine shared by the faces running side by side in a process (the console and its API
//! server), and the one maintenance tick they all use.

use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use super::error::Result;
use super::{Kms, Maintenance};

/// How often long-running faces (the console, `serve`) call `SharedKms::tick`.
pub const TICK_SECONDS: u64 = 1;

/// One engine shared by faces running side by side in a process (the console and its API server):
/// reads (encrypt, decrypt, describe, list) run together; changes take turns.
#[derive(Debug, Clone)]
pub struct SharedKms(Arc<RwLock<Kms>>);

impl SharedKms {
    pub fn new(kms: Kms) -> Self {
        Self(Arc::new(RwLock::new(kms)))
    }

    /// A panic while holding the lock cannot leave a half-made change behind (every change checks
    /// before it mutates, and a failed save reloads the file), so a poisoned lock is still usable.
    pub fn read(&self) -> RwLockReadGuard<'_, Kms> {
        self.0.read().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn write(&self) -> RwLockWriteGuard<'_, Kms> {
        self.0.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// A read guard on an engine that has caught up with changes other processes saved, so a key
    /// disabled by the CLI a moment ago is refused here too. One `stat` when nothing changed.
    pub fn read_current(&self) -> Result<RwLockReadGuard<'_, Kms>> {
        {
            let kms = self.read();
            if kms.is_current() {
                return Ok(kms);
            }
        }
        self.write().refresh()?;
        Ok(self.read())
    }
}

impl SharedKms {
    /// The one maintenance tick: catch up with changes other processes saved, then carry out the
    /// rotations and deletions that fell due (and save piled-up encryption counts). Takes the engine
    /// for writing only when there is something to do.
    pub fn tick(&self) -> Result<Maintenance> {
        {
            let kms = self.read();
            if kms.is_current() && !kms.maintenance_due(kms.now()) {
                return Ok(Maintenance::default());
            }
        }
        let mut kms = self.write();
        kms.refresh()?;
        kms.maintain()
    }
}
