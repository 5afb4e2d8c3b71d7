//! Crash-safe replacement of the keystore file, keeping three earlier generations.
//!
//! Order: write `.<name>.tmp-<pid>-<rand>` beside the keystore, fsync it, shift the backups
//! (`.2`→`.3`, `.1`→`.2`, hard-link the current file as `.1`), rename the temp file over the
//! keystore, fsync the folder. The keystore path always names a complete file, old or new.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

pub const BACKUP_GENERATIONS: u32 = 3;

pub fn backup_path(keystore: &Path, generation: u32) -> PathBuf {
    let mut name = keystore.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".{generation}"));
    keystore.with_file_name(name)
}

fn temp_prefix(keystore: &Path) -> String {
    format!(
        ".{}.tmp-",
        keystore.file_name().unwrap_or_default().to_string_lossy()
    )
}

fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Removes temp files that crashed writers left behind. Only called under the keystore lock, when
/// no other writer can be mid-save.
pub fn remove_stale_temp_files(keystore: &Path) {
    let prefix = temp_prefix(keystore);
    if let Ok(entries) = fs::read_dir(folder_of(keystore)) {
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().starts_with(&prefix) {
                let _ = fs::remove_file(entry.path());
            }
        }
    }
}

/// Writes `bytes` to a new file only readable by the user (0600 on Unix).
pub fn create_private_file(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// Atomically replaces `path` with `bytes`, optionally rotating backups. The caller holds the lock.
pub fn replace_file(path: &Path, bytes: &[u8], keep_backups: bool) -> io::Result<()> {
    let mut suffix = [0u8; 6];
    crate::kms::crypto::fill_random(&mut suffix);
    let suffix: String = suffix.iter().map(|b| format!("{b:02x}")).collect();
    let temp = path.with_file_name(format!(
        "{}{}-{suffix}",
        temp_prefix(path),
        std::process::id()
    ));
    let result = (|| {
        let mut file = create_private_file(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        if keep_backups && path.exists() {
            rotate_backups(path)?;
        }
        fs::rename(&temp, path)?;
        sync_folder(folder_of(path))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
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

pub fn sync_folder(folder: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(folder)?.sync_all()?;
    }
    #[cfg(not(unix))]
    let _ = folder;
    Ok(())
}
