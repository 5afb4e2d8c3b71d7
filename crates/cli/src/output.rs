//! Printing: times, tables, and writing output files without leaving half-written ones.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use clap::Args;

use zeroize::Zeroizing;

use keyconsole_base::util::ZeroizingWriter;
pub use keyconsole_base::util::format_time;
use keyconsole_kms::outputs::check_output_path;
use keyconsole_kms::{ErrorCode, KeyMetadata, KmsError, Result};

pub fn rotation_summary(key: &KeyMetadata) -> String {
    if key.key_rotation_enabled {
        format!("every {} days", key.rotate_days)
    } else {
        "off".to_owned()
    }
}

/// Text as a terminal may safely show it: control characters (escape sequences, carriage returns,
/// C1 codes) in an alias, a description or an error message are shown escaped, never acted on.
pub fn terminal_safe(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Prints rows under a header, each column as wide as its widest cell.
pub fn print_table(header: &[&str], rows: &[Vec<String>]) {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            row.iter()
                .map(|cell| terminal_safe(cell).into_owned())
                .collect()
        })
        .collect();
    let rows = &rows;
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut out = String::new();
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            if i + 1 == cells.len() {
                out.push_str(cell);
            } else {
                out.push_str(&format!("{cell:<w$}  "));
            }
        }
        out
    };
    let mut stdout = io::stdout().lock();
    let _ = writeln!(stdout, "{}", line(header.to_vec()));
    for row in rows {
        let _ = writeln!(stdout, "{}", line(row.iter().map(String::as_str).collect()));
    }
}

fn io_failed(what: &str, path: Option<&Path>, e: io::Error) -> KmsError {
    let place = path.map_or("standard input/output".to_owned(), |p| {
        p.display().to_string()
    });
    let code = match e.kind() {
        io::ErrorKind::NotFound | io::ErrorKind::PermissionDenied | io::ErrorKind::IsADirectory => {
            ErrorCode::InvalidParameterValue
        }
        io::ErrorKind::AlreadyExists => ErrorCode::FileExists,
        _ => ErrorCode::FileIo,
    };
    KmsError::new(code, format!("Cannot {what} {place}: {e}."))
}

/// A CiphertextBlob of the largest plaintext is under 6 KiB of base64; anything much longer is not one.
pub const BLOB_INPUT_MAX_BYTES: usize = 64 * 1024;

fn too_long(path: Option<&Path>, limit: usize) -> KmsError {
    let place = path.map_or("Standard input".to_owned(), |p| p.display().to_string());
    KmsError::new(
        ErrorCode::InvalidParameterValue,
        format!("{place} is longer than the {limit} bytes this command takes."),
    )
}

/// Reads FILE, or standard input, into memory that is wiped afterwards; at most `limit` bytes are
/// kept (`/dev/zero` or a huge file is cut there, and the engine refuses what is too long).
pub fn read_input(path: Option<&Path>, limit: usize) -> Result<Zeroizing<Vec<u8>>> {
    let mut writer = ZeroizingWriter::with_capacity(limit.min(8192));
    let limit = limit as u64;
    let copied = match path {
        Some(path) => {
            std::fs::File::open(path).and_then(|f| io::copy(&mut f.take(limit), &mut writer))
        }
        None => io::copy(&mut io::stdin().lock().take(limit), &mut writer),
    };
    copied.map_err(|e| io_failed("read", path, e))?;
    Ok(writer.into_inner().into())
}

/// Reads text (a blob) from FILE or standard input; more than `limit` bytes is refused.
pub fn read_text(path: Option<&Path>, limit: usize) -> Result<String> {
    let mut text = String::new();
    let cap = limit as u64 + 1;
    let read = match path {
        Some(path) => std::fs::File::open(path).and_then(|f| f.take(cap).read_to_string(&mut text)),
        None => io::stdin().lock().take(cap).read_to_string(&mut text),
    };
    read.map_err(|e| io_failed("read", path, e))?;
    if text.len() > limit {
        return Err(too_long(path, limit));
    }
    Ok(text)
}

/// `--out FILE [--force]`: where a command writes its result instead of standard output.
#[derive(Debug, Clone, Args)]
pub struct OutputFile {
    /// Write the result to FILE (readable by you only) instead of standard output
    #[arg(long = "out", value_name = "FILE")]
    pub path: Option<PathBuf>,
    /// Replace FILE if it exists
    #[arg(long, requires = "path")]
    pub force: bool,
}

impl OutputFile {
    /// Refuses FILE before any work is done: the keystore's own files always, an existing file
    /// without `--force` (the write checks again; this spares an encryption that goes nowhere).
    pub fn check(&self, keystore: Option<&Path>) -> Result<()> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        if let Some(keystore) = keystore {
            check_output_path(keystore, path)?;
        }
        if !self.force && path.exists() {
            return Err(KmsError::new(
                ErrorCode::FileExists,
                format!(
                    "{} already exists; give --force to replace it.",
                    path.display()
                ),
            ));
        }
        Ok(())
    }

    /// Writes to FILE atomically (temp file, fsync, rename; readable by the user only), or to
    /// standard output. An existing FILE is kept unless `--force`; the keystore and its own files
    /// are refused always.
    pub fn write(&self, keystore: Option<&Path>, bytes: &[u8]) -> Result<()> {
        let Some(path) = &self.path else {
            return write_stdout(bytes);
        };
        if let Some(keystore) = keystore {
            check_output_path(keystore, path)?;
        }
        let written = if self.force {
            keyconsole_base::util::atomic_file::replace_file(path, bytes)
        } else {
            keyconsole_base::util::atomic_file::create_file(path, bytes)
        };
        written.map_err(|e| {
            if e.kind() == io::ErrorKind::AlreadyExists {
                KmsError::new(
                    ErrorCode::FileExists,
                    format!(
                        "{} already exists; give --force to replace it.",
                        path.display()
                    ),
                )
            } else {
                io_failed("write", Some(path), e)
            }
        })
    }
}

pub fn write_stdout(bytes: &[u8]) -> Result<()> {
    let mut stdout = io::stdout().lock();
    stdout
        .write_all(bytes)
        .and_then(|()| stdout.flush())
        .map_err(|e| io_failed("write", None, e))
}

#[cfg(test)]
mod tests {
    use super::terminal_safe;

    #[test]
    fn control_characters_are_shown_escaped() {
        assert_eq!(terminal_safe("plain 文字"), "plain 文字");
        assert_eq!(
            terminal_safe("a\u{1b}[2Jb\rc\u{9b}d"),
            "a\\u{1b}[2Jb\\rc\\u{9b}d"
        );
    }
}
