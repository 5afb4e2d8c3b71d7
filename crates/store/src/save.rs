//! Crash-safe replacement of the keystore file, keeping three earlier generations.
//!
//! Order: write `.<name>.tmp-<pid>-<rand>` beside the keystore, fsync it, shift the backups
//! (`.2`→`.3`, `.1`→`.2`, hard-link the current file as `.1`), rename the temp file over the
//! keystore, fsync the folder. The keystore path always names a complete file, old or new.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use keyconsole_base::util::atomic_file::{self, REPLACE_TAG};

pub const BACKUP_GENERATIONS: u32 = 3;

pub fn backup_path(keystore: &Path, generation: u32) -> PathBuf {
    let mut name = keystore.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".{generation}"));
    keystore.with_file_name(name)
}

/// Removes temp files that crashed writers left behind (their process is gone). Called under the
/// keystore lock, when no other writer can be mid-save.
pub fn remove_stale_temp_files(keystore: &Path) {
    atomic_file::remove_temp_files(keystore, REPLACE_TAG, atomic_file::process_is_gone);
}

/// Atomically replaces `path` with `bytes`, optionally rotating backups. The caller holds the lock.
pub fn replace_file(path: &Path, bytes: &[u8], keep_backups: bool) -> io::Result<()> {
    atomic_file::replace_file_with(path, bytes, || {
        if keep_backups && path.exists() {
            rotate_backups(path)?;
        }
        Ok(())
    })
}

fn rotate_backups(path: &Path) -> io::Result<()> {
    for generation in (1..BACKUP_GENERATIONS).rev() {
        let from = backup_path(path, generation);
        if from.exists() {
            fs::rename(&from, backup_path(path, generation + 1))?;
        }
    }
    let newest = backup_path(path, 1);
    // A hard link costs nothing and is itself atomic; copy where links are not supported.
    if fs::hard_link(path, &newest).is_err() {
        let temp = newest.with_extension("copying");
        fs::copy(path, &temp)?;
        fs::rename(&temp, &newest)?;
    }
    Ok(())
}
