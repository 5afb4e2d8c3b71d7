//! Envelope encryption of files, format 1.
//!
//! ```text
//! offset  size  field
//!      0     6  magic "KCFILE"
//!      6     1  format version = 1
//!      7     4  chunk size (u32 BE) = 16384, the only one accepted
//!     11     2  n = length of the wrapped data key (u16 BE)
//!     13     n  the data key, a CiphertextBlob (binary, not base64) under the CMK: names key and version
//!   13+n     …  C2SP chunked encryption of the file (see `chunked`) with the data key as input key
//!               and bytes 0..13+n (the header) as the context
//! ```
//! Binding the header as context means any change to it fails the commitment check before a
//! single chunk is decrypted. Output goes to a temp file beside the target, renamed into place only
//! when complete; on any error or cancel it is removed.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use super::Kms;
use super::blob::{Blob, CanonicalContext};
use super::chunked::{self, CHUNK_LEN, ChunkedError, Derived, SALT_LEN, SEALED_CHUNK_LEN};
use super::crypto::{self, KEY_LEN, TAG_LEN};
use super::error::{ErrorCode, KmsError, Result};

pub const MAGIC: &[u8; 6] = b"KCFILE";
pub const FORMAT: u8 = 1;
const FIXED_HEADER_LEN: usize = 13;
/// Chunks handled per batch: 4 MiB of plaintext, shared out among the cores.
const BATCH_CHUNKS: usize = 256;

/// What a finished file operation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileReport {
    pub key_id: String,
    /// Plaintext bytes.
    pub bytes: u64,
}

/// Told `(bytes done, bytes total)` now and then; returning false cancels the operation.
pub type Progress<'a> = &'a mut dyn FnMut(u64, u64) -> bool;

fn decrypt_error(why: &str) -> KmsError {
    KmsError::new(
        ErrorCode::DecryptError,
        format!("The file cannot be decrypted: {why}."),
    )
}

fn chunked_error(e: ChunkedError) -> KmsError {
    match e {
        ChunkedError::InvalidKeySize => decrypt_error("its data key has the wrong size"),
        ChunkedError::Truncated => decrypt_error("it is truncated"),
        ChunkedError::Commitment => decrypt_error("its header or key commitment was changed"),
        ChunkedError::Chunk(i) => decrypt_error(&format!(
            "chunk {i} is damaged, missing, out of order, or followed by extra data"
        )),
        ChunkedError::TooLong => decrypt_error("it has more chunks than the format allows"),
    }
}

/// A read or write failing in the middle of a stream.
fn stream_error(e: io::Error) -> KmsError {
    KmsError::new(
        ErrorCode::InternalError,
        format!("Reading or writing failed: {e}."),
    )
}

fn io_error(what: &str, path: &Path, e: &io::Error) -> KmsError {
    KmsError::new(
        ErrorCode::InvalidParameterValue,
        format!("Cannot {what} {}: {e}.", path.display()),
    )
}

/// Reads until `buf` is full or the input ends; returns how much was read.
fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Runs `work` on every job (one chunk each), spread over the cores; stops at the first error.
fn in_parallel<'a, T: Send>(
    jobs: Vec<T>,
    work: impl Fn(T) -> std::result::Result<(), ChunkedError> + Sync + 'a,
) -> std::result::Result<(), ChunkedError> {
    let per_thread = jobs.len().div_ceil(threads()).max(1);
    let mut jobs = jobs;
    let mut groups = Vec::new();
    while !jobs.is_empty() {
        let rest = jobs.split_off(per_thread.min(jobs.len()));
        groups.push(std::mem::replace(&mut jobs, rest));
    }
    let work = &work;
    std::thread::scope(|scope| {
        let mut handles = Vec::new();
        let last = groups.pop();
        for group in groups {
            handles.push(scope.spawn(move || group.into_iter().try_for_each(work)));
        }
        let mine = last.map_or(Ok(()), |group| group.into_iter().try_for_each(work));
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or(Err(ChunkedError::TooLong)))
            .chain([mine])
            .collect()
    })
}

/// Read → transform → write as three overlapping stages: a reader thread, the transform on this
/// thread (itself spread over the cores), and a writer thread, with two buffers in flight per stage.
/// `transform(input, input_ended, output)` returns how many output bytes it produced;
/// `progress(input bytes, output bytes)` returns false to cancel.
fn pipeline<R: Read + Send, W: Write + Send>(
    reader: &mut R,
    writer: &mut W,
    (in_len, out_len): (usize, usize),
    mut transform: impl FnMut(&[u8], bool, &mut [u8]) -> Result<usize>,
    mut progress: impl FnMut(u64, u64) -> bool,
) -> Result<()> {
    use std::sync::mpsc::sync_channel;
    let (free_in_tx, free_in) = sync_channel::<Zeroizing<Vec<u8>>>(2);
    let (full_in_tx, full_in) = sync_channel::<io::Result<(Zeroizing<Vec<u8>>, usize)>>(2);
    let (free_out_tx, free_out) = sync_channel::<Zeroizing<Vec<u8>>>(2);
    let (full_out_tx, full_out) = sync_channel::<(Zeroizing<Vec<u8>>, usize)>(2);
    for _ in 0..2 {
        let _ = free_in_tx.send(Zeroizing::new(vec![0u8; in_len]));
        let _ = free_out_tx.send(Zeroizing::new(vec![0u8; out_len]));
    }
    std::thread::scope(|scope| {
        scope.spawn(move || {
            while let Ok(mut buf) = free_in.recv() {
                let read = read_full(reader, &mut buf);
                let end = !matches!(read, Ok(n) if n == buf.len());
                if full_in_tx.send(read.map(|n| (buf, n))).is_err() || end {
                    return;
                }
            }
        });
        let written = scope.spawn(move || -> io::Result<()> {
            for (buf, n) in full_out {
                writer.write_all(&buf[..n])?;
                if free_out_tx.send(buf).is_err() {
                    break;
                }
            }
            Ok(())
        });
        let (mut read, mut produced_total) = (0u64, 0u64);
        let transformed = (|| loop {
            let (input, n) = full_in
                .recv()
                .map_err(|_| stream_error(io::Error::other("the reader stopped")))?
                .map_err(stream_error)?;
            let end = n < input.len();
            let mut output = free_out
                .recv()
                .map_err(|_| stream_error(io::Error::other("the writer stopped")))?;
            let produced = transform(&input[..n], end, &mut output)?;
            let _ = free_in_tx.send(input);
            full_out_tx
                .send((output, produced))
                .map_err(|_| stream_error(io::Error::other("the writer stopped")))?;
            read += n as u64;
            produced_total += produced as u64;
            if !progress(read, produced_total) {
                return Err(KmsError::new(
                    ErrorCode::Cancelled,
                    "Cancelled; no output was kept.",
                ));
            }
            if end {
                return Ok(());
            }
        })();
        drop(full_out_tx);
        drop(free_in_tx);
        let written = written
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the writer panicked")));
        transformed?;
        written.map_err(stream_error)
    })
}

/// The body of an encrypted file: salt, commitment, chunks. Streams in constant memory.
fn encrypt_body<R: Read + Send, W: Write + Send>(
    derived: &Derived,
    salt: &[u8; SALT_LEN],
    reader: &mut R,
    writer: &mut W,
    total: u64,
    progress: Progress<'_>,
) -> Result<u64> {
    writer.write_all(salt).map_err(stream_error)?;
    writer
        .write_all(&derived.commitment)
        .map_err(stream_error)?;
    let mut counter = 0u64;
    let mut done = 0u64;
    pipeline(
        reader,
        writer,
        (BATCH_CHUNKS * CHUNK_LEN, BATCH_CHUNKS * SEALED_CHUNK_LEN),
        |plain, end, sealed| {
            let n = plain.len();
            // A batch that ends the input carries the short final chunk (empty if n is a multiple).
            let count = if end {
                n / CHUNK_LEN + 1
            } else {
                n / CHUNK_LEN
            };
            let out_len = n + count * TAG_LEN;
            let jobs: Vec<_> = plain
                .chunks(CHUNK_LEN)
                .chain((end && n.is_multiple_of(CHUNK_LEN)).then_some(&[][..]))
                .zip(sealed[..out_len].chunks_mut(SEALED_CHUNK_LEN))
                .enumerate()
                .map(|(i, job)| (counter + i as u64, job))
                .collect();
            in_parallel(jobs, |(i, (p, s))| derived.seal_chunk(i, p, s)).map_err(chunked_error)?;
            counter += count as u64;
            Ok(out_len)
        },
        |n, _| {
            done = n;
            progress(n, total.max(n))
        },
    )?;
    Ok(done)
}

/// Decrypts the chunks after the commitment. A chunk is final when the input ends inside it.
fn decrypt_chunks<R: Read + Send, W: Write + Send>(
    derived: &Derived,
    reader: &mut R,
    writer: &mut W,
    total: u64,
    progress: Progress<'_>,
) -> Result<u64> {
    let mut counter = 0u64;
    let mut done = 0u64;
    pipeline(
        reader,
        writer,
        (BATCH_CHUNKS * SEALED_CHUNK_LEN, BATCH_CHUNKS * CHUNK_LEN),
        |sealed, end, plain| {
            let n = sealed.len();
            if end && n % SEALED_CHUNK_LEN < TAG_LEN {
                // No short final chunk: the file was cut at a chunk boundary or inside a tag.
                return Err(chunked_error(ChunkedError::Chunk(
                    counter + (n / SEALED_CHUNK_LEN) as u64,
                )));
            }
            let count = n.div_ceil(SEALED_CHUNK_LEN);
            let out_len = n - count * TAG_LEN;
            let jobs: Vec<_> = sealed
                .chunks(SEALED_CHUNK_LEN)
                .zip(
                    plain[..out_len]
                        .chunks_mut(CHUNK_LEN)
                        .chain(std::iter::once(&mut [][..])),
                )
                .enumerate()
                .map(|(i, job)| (counter + i as u64, job))
                .collect();
            in_parallel(jobs, |(i, (s, p))| {
                derived.open_chunk(i, s, &mut p[..s.len() - TAG_LEN])
            })
            .map_err(chunked_error)?;
            counter += count as u64;
            Ok(out_len)
        },
        |_, n| {
            done = n;
            progress(n, total.max(n))
        },
    )?;
    Ok(done)
}

/// Encrypts a whole stream in the C2SP format under `input_key`, with the given salt and context.
/// Files use it with a random salt and their header as context; the test vectors with theirs.
pub fn encrypt_stream<R: Read + Send, W: Write + Send>(
    input_key: &[u8],
    salt: &[u8; SALT_LEN],
    context: &[u8],
    reader: &mut R,
    writer: &mut W,
    total: u64,
    progress: Progress<'_>,
) -> Result<u64> {
    let derived = Derived::new(input_key, salt, context).map_err(chunked_error)?;
    encrypt_body(&derived, salt, reader, writer, total, progress)
}

/// Decrypts a whole C2SP stream: the salt and commitment first (checked before any chunk is
/// read), then every chunk, the last of which must be short.
pub fn decrypt_stream<R: Read + Send, W: Write + Send>(
    input_key: &[u8],
    context: &[u8],
    reader: &mut R,
    writer: &mut W,
    total: u64,
    progress: Progress<'_>,
) -> Result<u64> {
    let derived = open_prefix(input_key, context, reader)?;
    decrypt_chunks(&derived, reader, writer, total, progress)
}

/// Reads the salt and the commitment, derives the chunk key, and checks the commitment: a wrong
/// key, a wrong context or a changed header fails here, before any chunk is read.
fn open_prefix(input_key: &[u8], context: &[u8], reader: &mut impl Read) -> Result<Derived> {
    let mut prefix = [0u8; chunked::PREFIX_LEN];
    let n = read_full(reader, &mut prefix).map_err(|e| decrypt_error(&e.to_string()))?;
    if n < prefix.len() {
        return Err(chunked_error(ChunkedError::Truncated));
    }
    let mut salt = [0u8; SALT_LEN];
    salt.copy_from_slice(&prefix[..SALT_LEN]);
    let derived = Derived::new(input_key, &salt, context).map_err(chunked_error)?;
    derived
        .check_commitment(&prefix[SALT_LEN..])
        .map_err(chunked_error)?;
    Ok(derived)
}

/// Writes through a temp file beside `target`; `finish` fsyncs and renames it into place, and
/// dropping it unfinished removes it. Refuses to replace an existing file unless `overwrite`.
struct TempOutput {
    file: Option<io::BufWriter<File>>,
    temp: PathBuf,
    target: PathBuf,
}

impl TempOutput {
    fn create(target: &Path, overwrite: bool) -> Result<Self> {
        if target.exists() && !overwrite {
            return Err(KmsError::new(
                ErrorCode::FileExists,
                format!(
                    "{} already exists; choose another name or allow overwriting.",
                    target.display()
                ),
            ));
        }
        let name = target.file_name().unwrap_or_default().to_string_lossy();
        remove_orphaned_temp_files(target, &name);
        let suffix: String = crypto::random_bytes::<6>()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let temp = target.with_file_name(format!(".{name}.kctmp-{}-{suffix}", std::process::id()));
        let file = crate::store::save::create_private_file(&temp)
            .map_err(|e| io_error("create a file beside", target, &e))?;
        Ok(Self {
            file: Some(io::BufWriter::with_capacity(1 << 20, file)),
            temp,
            target: target.to_path_buf(),
        })
    }

    fn writer(&mut self) -> &mut io::BufWriter<File> {
        self.file
            .as_mut()
            .expect("the output is open until finished")
    }

    fn finish(mut self) -> Result<()> {
        let file = self.file.take().expect("finish is called once");
        let file = file
            .into_inner()
            .map_err(|e| io_error("write", &self.temp, e.error()))?;
        file.sync_all()
            .map_err(|e| io_error("write", &self.temp, &e))?;
        drop(file);
        fs::rename(&self.temp, &self.target)
            .map_err(|e| io_error("rename the output to", &self.target, &e))?;
        if let Some(folder) = self.target.parent().filter(|p| !p.as_os_str().is_empty()) {
            let _ = crate::store::save::sync_folder(folder);
        }
        Ok(())
    }
}

/// Removes temp files a killed keyconsole left beside `target` (`.NAME.kctmp-PID-…` whose process
/// is gone); a live process's temp file is left alone.
fn remove_orphaned_temp_files(target: &Path, name: &str) {
    let prefix = format!(".{name}.kctmp-");
    let folder = target
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let Ok(entries) = fs::read_dir(folder) else {
        return;
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = file_name
            .strip_prefix(&prefix)
            .and_then(|rest| rest.split('-').next())
        else {
            continue;
        };
        let alive = pid.parse::<u32>().is_ok_and(|pid| {
            pid == std::process::id() || Path::new(&format!("/proc/{pid}")).exists()
        });
        if !alive {
            let _ = fs::remove_file(entry.path());
        }
    }
}

impl Drop for TempOutput {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = fs::remove_file(&self.temp);
        }
    }
}

fn same_file(input: &Path, output: &Path) -> bool {
    match (fs::canonicalize(input), fs::canonicalize(output)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

fn open_input(input: &Path) -> Result<(File, u64)> {
    let file = File::open(input).map_err(|e| io_error("open", input, &e))?;
    let len = file
        .metadata()
        .map_err(|e| io_error("read", input, &e))?
        .len();
    Ok((file, len))
}

/// Ready to encrypt files under one CMK: a fresh data key and the header that carries it wrapped.
pub struct FileEncryptor {
    key_id: String,
    data_key: Zeroizing<Vec<u8>>,
    header: Vec<u8>,
}

impl FileEncryptor {
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// Encrypts `input` into `output`. Nothing is left at `output` unless it completes.
    pub fn encrypt(
        &self,
        input: &Path,
        output: &Path,
        overwrite: bool,
        progress: Progress<'_>,
    ) -> Result<FileReport> {
        if same_file(input, output) {
            return Err(KmsError::new(
                ErrorCode::InvalidParameterValue,
                "The output must be another file than the input.",
            ));
        }
        let (mut reader, total) = open_input(input)?;
        let mut out = TempOutput::create(output, overwrite)?;
        let salt: [u8; SALT_LEN] = crypto::random_bytes();
        out.writer()
            .write_all(&self.header)
            .map_err(|e| io_error("write", output, &e))?;
        let bytes = encrypt_stream(
            &self.data_key,
            &salt,
            &self.header,
            &mut io::BufReader::with_capacity(1 << 20, &mut reader),
            out.writer(),
            total,
            progress,
        )?;
        out.finish()?;
        Ok(FileReport {
            key_id: self.key_id.clone(),
            bytes,
        })
    }
}

/// An encrypted file whose header was read and whose data key was unwrapped by the CMK it names.
pub struct FileDecryptor {
    input: PathBuf,
    key_id: String,
    data_key: Zeroizing<Vec<u8>>,
    header: Vec<u8>,
}

/// Reads and checks the header of an encrypted file; returns its bytes and the wrapped data key.
fn read_header(reader: &mut impl Read) -> Result<(Vec<u8>, Blob)> {
    let mut fixed = [0u8; FIXED_HEADER_LEN];
    let n = read_full(reader, &mut fixed).map_err(|e| decrypt_error(&e.to_string()))?;
    if n < FIXED_HEADER_LEN || &fixed[..6] != MAGIC {
        return Err(decrypt_error("it is not a file encrypted by keyconsole"));
    }
    if fixed[6] != FORMAT {
        return Err(decrypt_error(&format!(
            "it has format {}; this keyconsole reads format {FORMAT}",
            fixed[6]
        )));
    }
    let chunk = u32::from_be_bytes([fixed[7], fixed[8], fixed[9], fixed[10]]);
    if chunk as usize != CHUNK_LEN {
        return Err(decrypt_error(
            "its header names a chunk size other than 16 KiB",
        ));
    }
    let blob_len = usize::from(u16::from_be_bytes([fixed[11], fixed[12]]));
    if blob_len > super::blob::MAX_LEN {
        return Err(decrypt_error("its wrapped data key is too long"));
    }
    let mut header = fixed.to_vec();
    header.resize(FIXED_HEADER_LEN + blob_len, 0);
    let n = read_full(reader, &mut header[FIXED_HEADER_LEN..])
        .map_err(|e| decrypt_error(&e.to_string()))?;
    if n < blob_len {
        return Err(decrypt_error("it is truncated"));
    }
    let blob = Blob::from_bytes(&header[FIXED_HEADER_LEN..])
        .map_err(|_| decrypt_error("its wrapped data key is malformed"))?;
    Ok((header, blob))
}

impl FileDecryptor {
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// Decrypts into `output`. Every chunk is authenticated before the output is renamed into place.
    pub fn decrypt(
        &self,
        output: &Path,
        overwrite: bool,
        progress: Progress<'_>,
    ) -> Result<FileReport> {
        if same_file(&self.input, output) {
            return Err(KmsError::new(
                ErrorCode::InvalidParameterValue,
                "The output must be another file than the input.",
            ));
        }
        let (file, total) = open_input(&self.input)?;
        let mut reader = io::BufReader::with_capacity(1 << 20, file);
        let (header, _) = read_header(&mut reader)?;
        if header != self.header {
            return Err(decrypt_error("it changed while being decrypted"));
        }
        let derived = open_prefix(&self.data_key, &self.header, &mut reader)?;
        let mut out = TempOutput::create(output, overwrite)?;
        let body_total = total.saturating_sub((self.header.len() + chunked::PREFIX_LEN) as u64);
        let plain_total = body_total
            .saturating_sub(body_total.div_ceil(SEALED_CHUNK_LEN as u64).max(1) * TAG_LEN as u64);
        let bytes = decrypt_chunks(&derived, &mut reader, out.writer(), plain_total, progress)?;
        out.finish()?;
        Ok(FileReport {
            key_id: self.key_id.clone(),
            bytes,
        })
    }
}

impl Kms {
    /// Prepares envelope encryption under `key`: it must be Enabled (checked now, before any
    /// output exists). The data key is generated here and sealed under the key's newest version.
    pub fn file_encryptor(&self, key: &str) -> Result<FileEncryptor> {
        let data_key =
            self.generate_data_key(key, Some("AES_256"), None, &CanonicalContext::none())?;
        let wrapped = Blob::decode(&data_key.ciphertext_blob)?.to_bytes();
        let mut header = Vec::with_capacity(FIXED_HEADER_LEN + wrapped.len());
        header.extend_from_slice(MAGIC);
        header.push(FORMAT);
        header.extend_from_slice(&(CHUNK_LEN as u32).to_be_bytes());
        header.extend_from_slice(&(wrapped.len() as u16).to_be_bytes());
        header.extend_from_slice(&wrapped);
        Ok(FileEncryptor {
            key_id: data_key.key_id,
            data_key: data_key.plaintext,
            header,
        })
    }

    /// Reads an encrypted file's header and unwraps its data key with the CMK it names (which must
    /// be Enabled or Archived). Nothing is written yet.
    pub fn file_decryptor(&self, input: &Path) -> Result<FileDecryptor> {
        let (file, _) = open_input(input)?;
        let (header, blob) = read_header(&mut io::BufReader::new(file))?;
        let (key, data_key) = self.open_blob(&blob, &CanonicalContext::none())?;
        if data_key.len() != KEY_LEN {
            return Err(decrypt_error("its data key has the wrong size"));
        }
        Ok(FileDecryptor {
            input: input.to_path_buf(),
            key_id: key.key_id.to_string(),
            data_key,
            header,
        })
    }
}
