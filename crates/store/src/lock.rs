//! The keystore's writer lock: an exclusive `flock` on `<keystore>.lock`, held for one short
//! transaction. The OS releases it when a process dies, so a crash never leaves it stuck; a process
//! that hangs while holding it makes others fail with `KeystoreBusy` instead of hanging too.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::error::{Result, StoreError, StoreErrorKind};

pub const LOCK_TIMEOUT: Duration = Duration::from_secs(10);

pub fn lock_path(keystore: &Path) -> PathBuf {
    let mut name = keystore.file_name().unwrap_or_default().to_os_string();
    name.push(".lock");
    keystore.with_file_name(name)
}

/// Held while a transaction runs; dropping it releases the lock.
#[derive(Debug)]
pub struct LockGuard {
    _file: File,
}

pub fn acquire(keystore: &Path, timeout: Duration) -> Result<LockGuard> {
    let path = lock_path(keystore);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| {
            StoreError::new(
                StoreErrorKind::Io,
                keyconsole_base::text!(
                    "errors.cannot_open_the_lock_file_path",
                    path = path.display(),
                    e = e
                ),
            )
        })?;
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(1);
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(LockGuard { _file: file }),
            Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(25));
            }
            Err(TryLockError::WouldBlock) => {
                return Err(StoreError::new(
                    StoreErrorKind::Busy,
                    keyconsole_base::text!(
                        "errors.another_keyconsole_process_has_held_the",
                        timeout = timeout.as_secs()
                    ),
                ));
            }
            Err(TryLockError::Error(e)) => {
                return Err(StoreError::new(
                    StoreErrorKind::Io,
                    keyconsole_base::text!(
                        "errors.cannot_lock_path_e",
                        path = path.display(),
                        e = e
                    ),
                ));
            }
        }
    }
}
