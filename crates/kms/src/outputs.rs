//! Where outputs may go: never onto the keystore, its backups, its lock file or its CA certificate, however the path
//! is spelled. Writing a plaintext there would destroy every key.

use std::path::{Path, PathBuf};

use super::error::{ErrorCode, KmsError, Result};
use keyconsole_store::{lock::lock_path, save::BACKUP_GENERATIONS, save::backup_path};

pub fn check_output_path(keystore: &Path, target: &Path) -> Result<()> {
    let target = resolved(target);
    let mut protected = vec![
        keystore.to_path_buf(),
        lock_path(keystore),
        super::local_ca::local_ca_path(keystore),
    ];
    protected.extend((1..=BACKUP_GENERATIONS).map(|g| backup_path(keystore, g)));
    if protected.iter().any(|p| resolved(p) == target) {
        return Err(KmsError::new(
            ErrorCode::FileExists,
            keyconsole_base::text!(
                "errors.target_is_the_keystore_or_one",
                target = target.display()
            ),
        ));
    }
    Ok(())
}

/// A path with its folder resolved (symlinks, `..`) and, when it exists, itself resolved, so two
/// spellings of one file compare equal.
fn resolved(path: &Path) -> PathBuf {
    if let Ok(full) = std::fs::canonicalize(path) {
        return full;
    }
    let folder = keyconsole_base::util::atomic_file::folder_of(path);
    match (std::fs::canonicalize(folder), path.file_name()) {
        (Ok(folder), Some(name)) => folder.join(name),
        _ => path.to_path_buf(),
    }
}
