//! Printing: times, tables, and writing output files without leaving half-written ones.

use std::io::{self, Read, Write};
use std::path::Path;

use zeroize::Zeroizing;

use crate::kms::{ErrorCode, KeyMetadata, KmsError, Result};
use crate::util::ZeroizingWriter;
pub use crate::util::format_time;

pub fn rotation_summary(key: &KeyMetadata) -> String {
    if key.key_rotation_enabled {
        format!("every {} days", key.rotate_days)
    } else {
        "off".to_owned()
    }
}

/// Prints rows under a header, each column as wide as its widest cell.
pub fn print_table(header: &[&str], rows: &[Vec<String>]) {
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
    KmsError::new(
        ErrorCode::InvalidParameterValue,
        format!("Cannot {what} {place}: {e}."),
    )
}

/// Reads all of FILE, or standard input, into memory that is wiped afterwards.
pub fn read_input(path: Option<&Path>) -> Result<Zeroizing<Vec<u8>>> {
    let mut writer = ZeroizingWriter::with_capacity(8192);
    let copied = match path {
        Some(path) => std::fs::File::open(path).and_then(|mut f| io::copy(&mut f, &mut writer)),
        None => io::copy(&mut io::stdin().lock(), &mut writer),
    };
    copied.map_err(|e| io_failed("read", path, e))?;
    Ok(writer.into_inner())
}

/// Reads text (a blob) from FILE or standard input.
pub fn read_text(path: Option<&Path>) -> Result<String> {
    let mut text = String::new();
    let read = match path {
        Some(path) => std::fs::File::open(path).and_then(|mut f| f.read_to_string(&mut text)),
        None => io::stdin().lock().read_to_string(&mut text),
    };
    read.map_err(|e| io_failed("read", path, e))?;
    Ok(text)
}

/// Writes to FILE atomically (temp file, fsync, rename; readable by the user only), or to stdout.
pub fn write_output(path: Option<&Path>, bytes: &[u8]) -> Result<()> {
    match path {
        Some(path) => crate::util::atomic_file::replace_file(path, bytes)
            .map_err(|e| io_failed("write", Some(path), e)),
        None => {
            let mut stdout = io::stdout().lock();
            stdout
                .write_all(bytes)
                .and_then(|()| stdout.flush())
                .map_err(|e| io_failed("write", None, e))
        }
    }
}
