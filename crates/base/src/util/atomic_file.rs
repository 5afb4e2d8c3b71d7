//! The one crash-safe way keyconsole writes a file: a temp file beside the target, readable by the
//! user only; written, fsynced, renamed over the target, then the folder fsynced. The target always
//! names a complete file, old or new, and a temp file dropped before `commit` is removed. Large files are
//! handed to the disk as they are written (`WritebackFile`), so the fsync has little left to do.
//!
//! Temp files are named `.<target name, first 40 bytes at most><tag><pid>-<random>`, so the owner
//! of a left-over one can be told from its name (see `remove_temp_files`), and the name stays short
//! enough beside a target whose own name is near the 255-byte limit.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use super::writeback::WritebackFile;

/// The folder a path lives in (`.` for a bare file name).
pub fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// How much of the target's name a temp file's name repeats.
const NAME_IN_TEMP: usize = 40;

/// The name prefix of the temp files `AtomicFile::create(target, tag)` makes.
pub fn temp_prefix(target: &Path, tag: &str) -> String {
    let name = target.file_name().unwrap_or_default().to_string_lossy();
    let mut end = name.len().min(NAME_IN_TEMP);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    format!(".{}{tag}", &name[..end])
}

/// Creates a new file only readable by the user (0600 on Unix); fails if it exists.
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

pub fn sync_folder(folder: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(folder)?.sync_all()?;
    }
    #[cfg(not(unix))]
    let _ = folder;
    Ok(())
}

/// Removes the temp files beside `target` with this `tag` for which `is_stale(pid)` says so.
pub fn remove_temp_files(target: &Path, tag: &str, is_stale: impl Fn(Option<u32>) -> bool) {
    let prefix = temp_prefix(target, tag);
    let Ok(entries) = fs::read_dir(folder_of(target)) else {
        return;
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = file_name.strip_prefix(&prefix) else {
            continue;
        };
        let pid = rest.split('-').next().and_then(|p| p.parse::<u32>().ok());
        if is_stale(pid) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Whether the process that named a temp file is gone (so its file is an orphan).
pub fn process_is_gone(pid: Option<u32>) -> bool {
    !pid.is_some_and(|pid| pid == std::process::id() || Path::new(&format!("/proc/{pid}")).exists())
}

/// A file being written beside its target; see the module documentation.
pub struct AtomicFile {
    file: Option<BufWriter<WritebackFile>>,
    temp: PathBuf,
    target: PathBuf,
}

impl AtomicFile {
    /// Opens a new temp file beside `target`, buffered by `buffer` bytes.
    pub fn create(target: &Path, tag: &str, buffer: usize) -> io::Result<Self> {
        let mut suffix = [0u8; 6];
        crate::crypto::fill_random(&mut suffix);
        let suffix = super::hex(&suffix);
        let temp = target.with_file_name(format!(
            "{}{}-{suffix}",
            temp_prefix(target, tag),
            std::process::id()
        ));
        let file = create_private_file(&temp)?;
        Ok(Self {
            file: Some(BufWriter::with_capacity(buffer, WritebackFile::new(file))),
            temp,
            target: target.to_path_buf(),
        })
    }

    pub fn temp_path(&self) -> &Path {
        &self.temp
    }

    pub fn target(&self) -> &Path {
        &self.target
    }

    pub fn writer(&mut self) -> &mut BufWriter<WritebackFile> {
        self.file
            .as_mut()
            .expect("the temp file is open until committed")
    }

    /// Flushes and fsyncs the temp file, runs `before_rename` (the keystore keeps its backups
    /// there), renames it over the target and fsyncs the folder. On any error the temp file is
    /// removed and the target is as it was.
    pub fn commit_with(mut self, before_rename: impl FnOnce() -> io::Result<()>) -> io::Result<()> {
        let writer = self.file.take().expect("commit is called once");
        let result = (|| {
            let file = writer.into_inner().map_err(|e| e.into_error())?.finish()?;
            file.sync_all()?;
            drop(file);
            before_rename()?;
            fs::rename(&self.temp, &self.target)?;
            sync_folder(folder_of(&self.target))
        })();
        if result.is_err() {
            let _ = fs::remove_file(&self.temp);
        }
        result
    }

    pub fn commit(self) -> io::Result<()> {
        self.commit_with(|| Ok(()))
    }

    /// Like `commit`, but fails with `AlreadyExists` (and removes the temp file) if the target
    /// exists, checked and placed in one step: two writers racing for one name cannot both win.
    pub fn commit_new(mut self) -> io::Result<()> {
        let writer = self.file.take().expect("commit is called once");
        let result = (|| {
            let file = writer.into_inner().map_err(|e| e.into_error())?.finish()?;
            file.sync_all()?;
            drop(file);
            place_new(&self.temp, &self.target)?;
            sync_folder(folder_of(&self.target))
        })();
        let _ = fs::remove_file(&self.temp);
        result
    }
}

/// Gives `temp` the name `target` unless `target` exists. A hard link fails if the name is taken
/// and is atomic; the temp name is removed by the caller afterwards. Where links are not
/// supported, `renameat2(RENAME_NOREPLACE)` does the same on Linux.
fn place_new(temp: &Path, target: &Path) -> io::Result<()> {
    match fs::hard_link(temp, target) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(e),
        Err(link_error) => rename_no_replace(temp, target).map_err(|_| link_error),
    }
}

#[cfg(target_os = "linux")]
fn rename_no_replace(temp: &Path, target: &Path) -> io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let from = std::ffi::CString::new(temp.as_os_str().as_bytes())?;
    let to = std::ffi::CString::new(target.as_os_str().as_bytes())?;
    // SAFETY: both paths are NUL-terminated strings that live across the call.
    let done = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            from.as_ptr(),
            libc::AT_FDCWD,
            to.as_ptr(),
            libc::RENAME_NOREPLACE,
        )
    };
    if done == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
fn rename_no_replace(_temp: &Path, _target: &Path) -> io::Result<()> {
    Err(io::Error::from(io::ErrorKind::Unsupported))
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = fs::remove_file(&self.temp);
        }
    }
}

/// The tag of `replace_file`'s temp files (`.NAME.tmp-PID-RANDOM`).
pub const REPLACE_TAG: &str = ".tmp-";

/// Atomically replaces `path` with `bytes`.
pub fn replace_file(path: &Path, bytes: &[u8]) -> io::Result<()> {
    replace_file_with(path, bytes, || Ok(()))
}

/// Writes `bytes` as a new file at `path`; fails with `AlreadyExists` if there is one.
pub fn create_file(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = AtomicFile::create(path, REPLACE_TAG, 0)?;
    file.writer().write_all(bytes)?;
    file.commit_new()
}

/// `replace_file`, running `before_rename` once the new file is durable (see `commit_with`).
pub fn replace_file_with(
    path: &Path,
    bytes: &[u8],
    before_rename: impl FnOnce() -> io::Result<()>,
) -> io::Result<()> {
    let mut file = AtomicFile::create(path, REPLACE_TAG, 0)?;
    file.writer().write_all(bytes)?;
    file.commit_with(before_rename)
}
