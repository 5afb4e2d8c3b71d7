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

pub mod chunked;
pub mod format;
pub mod pipeline;

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use super::Kms;
use super::blob::{Blob, CanonicalContext};
use super::error::{ErrorCode, KmsError, Result};
use super::keys::DataKeySpec;
use super::outputs::check_output_path;
use super::service::{Caller, Face, KmsService};
use chunked::{ChunkedError, SALT_LEN, SEALED_CHUNK_LEN};
pub use format::{FORMAT, MAGIC};
use format::{build_header, read_header};
use keyconsole_base::crypto::{self, KEY_LEN, TAG_LEN};
use keyconsole_base::util::atomic_file::{self, AtomicFile};
use keyconsole_base::util::i18n::Text;
use pipeline::{decrypt_chunks, open_prefix};
pub use pipeline::{decrypt_stream, encrypt_stream};

/// What a finished file operation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileReport {
    pub key_id: String,
    /// Plaintext bytes.
    pub bytes: u64,
}

/// Told `(bytes done, bytes total)` now and then; returning false cancels the operation.
pub type Progress<'a> = &'a mut dyn FnMut(u64, u64) -> bool;

pub(crate) fn decrypt_error(why: impl Into<Text>) -> KmsError {
    let why: Text = why.into();
    KmsError::new(
        ErrorCode::DecryptError,
        keyconsole_base::text!("errors.the_file_cannot_be_decrypted_why", why = why),
    )
}

pub(crate) fn chunked_error(e: ChunkedError) -> KmsError {
    match e {
        ChunkedError::InvalidKeySize => {
            decrypt_error(keyconsole_base::text!("errors.its_data_key_has_the_wrong"))
        }
        ChunkedError::Truncated => decrypt_error(keyconsole_base::text!("errors.it_is_truncated")),
        ChunkedError::Commitment => decrypt_error(keyconsole_base::text!(
            "errors.its_header_or_key_commitment_was"
        )),
        ChunkedError::Chunk(i) => decrypt_error(keyconsole_base::text!(
            "errors.chunk_i_is_damaged_missing_out",
            i = i
        )),
        ChunkedError::TooLong => {
            decrypt_error(keyconsole_base::text!("errors.it_has_more_chunks_than_the"))
        }
    }
}

/// A read or write failing in the middle of a stream.
pub(crate) fn stream_error(e: io::Error) -> KmsError {
    KmsError::new(
        ErrorCode::FileIo,
        keyconsole_base::text!("errors.reading_or_writing_failed_e", e = e),
    )
}

/// A file that is not there or may not be opened is the caller's parameter; anything else (a full
/// disk, an I/O error) is the file system's, with its reason.
fn io_error(what: Text, path: &Path, e: &io::Error) -> KmsError {
    let code = match e.kind() {
        io::ErrorKind::NotFound | io::ErrorKind::PermissionDenied | io::ErrorKind::IsADirectory => {
            ErrorCode::InvalidParameterValue
        }
        _ => ErrorCode::FileIo,
    };
    KmsError::new(
        code,
        keyconsole_base::text!(
            "errors.cannot_what_path_e",
            what = what,
            path = path.display(),
            e = e
        ),
    )
}

fn file_exists(target: &Path) -> KmsError {
    KmsError::new(
        ErrorCode::FileExists,
        keyconsole_base::text!(
            "errors.target_already_exists_choose_another_name",
            target = target.display()
        ),
    )
}

/// Writes through an `AtomicFile` beside `target`; refuses to replace an existing file unless
/// `overwrite`. Temp files of killed processes (`.NAME.kctmp-PID-…`) are removed first.
struct TempOutput {
    file: AtomicFile,
    overwrite: bool,
}

/// The tag of an output's temp file.
const TEMP_TAG: &str = ".kctmp-";

impl TempOutput {
    fn create(target: &Path, overwrite: bool) -> Result<Self> {
        if target.exists() && !overwrite {
            return Err(file_exists(target));
        }
        atomic_file::remove_temp_files(target, TEMP_TAG, atomic_file::process_is_gone);
        // As large as a write slice: BufWriter then passes the slices straight through.
        AtomicFile::create(target, TEMP_TAG, pipeline::WRITE_SLICE)
            .map(|file| Self { file, overwrite })
            .map_err(|e| {
                io_error(
                    keyconsole_base::text!("errors.create_a_file_beside"),
                    target,
                    &e,
                )
            })
    }

    fn writer(&mut self) -> &mut io::BufWriter<keyconsole_base::util::writeback::WritebackFile> {
        self.file.writer()
    }

    /// Places the finished output. Without `overwrite`, a file that appeared at the target while
    /// we wrote (another process writing the same name) is never replaced.
    fn finish(self) -> Result<()> {
        let temp = self.file.temp_path().to_path_buf();
        let target = self.file.target().to_path_buf();
        let placed = if self.overwrite {
            self.file.commit()
        } else {
            self.file.commit_new()
        };
        placed.map_err(|e| {
            if e.kind() == io::ErrorKind::AlreadyExists {
                file_exists(&target)
            } else {
                io_error(keyconsole_base::text!("errors.write"), &temp, &e)
            }
        })
    }
}

fn same_file(input: &Path, output: &Path) -> bool {
    match (fs::canonicalize(input), fs::canonicalize(output)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

fn open_input(input: &Path) -> Result<(File, u64)> {
    let file = File::open(input)
        .map_err(|e| io_error(keyconsole_base::text!("errors.open"), input, &e))?;
    let len = file
        .metadata()
        .map_err(|e| io_error(keyconsole_base::text!("errors.read"), input, &e))?
        .len();
    Ok((file, len))
}

/// Ready to encrypt files under one CMK: a fresh data key and the header that carries it wrapped.
pub struct FileEncryptor {
    key_id: String,
    /// A local keystore's path: outputs may never name it or its own files.
    keystore: Option<PathBuf>,
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
                keyconsole_base::text!("errors.the_output_must_be_another_file"),
            ));
        }
        if let Some(keystore) = &self.keystore {
            check_output_path(keystore, output)?;
        }
        let (mut reader, total) = open_input(input)?;
        let mut out = TempOutput::create(output, overwrite)?;
        let salt: [u8; SALT_LEN] = crypto::random_bytes();
        out.writer()
            .write_all(&self.header)
            .map_err(|e| io_error(keyconsole_base::text!("errors.write"), output, &e))?;
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
    keystore: Option<PathBuf>,
    data_key: Zeroizing<Vec<u8>>,
    header: Vec<u8>,
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
                keyconsole_base::text!("errors.the_output_must_be_another_file"),
            ));
        }
        if let Some(keystore) = &self.keystore {
            check_output_path(keystore, output)?;
        }
        let (file, total) = open_input(&self.input)?;
        let mut reader = io::BufReader::with_capacity(1 << 20, file);
        let (header, _) = read_header(&mut reader)?;
        if header != self.header {
            return Err(decrypt_error(keyconsole_base::text!(
                "errors.it_changed_while_being_decrypted"
            )));
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

impl FileEncryptor {
    /// Prepares envelope encryption under `key` through `service` (a local keystore or a server):
    /// the key must be Enabled, checked now, before any output exists. The data key is generated
    /// there and comes back sealed under the key's newest version, and in memory here.
    pub fn prepare(service: &dyn KmsService, caller: &Caller, key: &str) -> Result<Self> {
        let data_key = service.generate_data_key(
            caller,
            key,
            DataKeySpec::Aes256,
            &CanonicalContext::none(),
        )?;
        let wrapped = Blob::decode(&data_key.ciphertext_blob)?.to_bytes();
        Ok(FileEncryptor {
            key_id: data_key.key_id,
            keystore: service.keystore_path().map(Path::to_path_buf),
            data_key: data_key.plaintext.into(),
            header: build_header(&wrapped),
        })
    }
}

impl FileDecryptor {
    /// Reads an encrypted file's header and has `service` unwrap its data key with the CMK it
    /// names (which must be Enabled or Archived). Nothing is written yet.
    pub fn prepare(service: &dyn KmsService, caller: &Caller, input: &Path) -> Result<Self> {
        let (file, _) = open_input(input)?;
        let (header, blob) = read_header(&mut io::BufReader::new(file))?;
        let decrypted = service.decrypt(caller, &blob.encode(), &CanonicalContext::none())?;
        if decrypted.plaintext.len() != KEY_LEN {
            return Err(decrypt_error(keyconsole_base::text!(
                "errors.its_data_key_has_the_wrong"
            )));
        }
        Ok(FileDecryptor {
            keystore: service.keystore_path().map(Path::to_path_buf),
            input: input.to_path_buf(),
            key_id: decrypted.key_id,
            data_key: decrypted.plaintext.into(),
            header,
        })
    }
}

impl Kms {
    /// `FileEncryptor::prepare` on this keystore, as its owner (tests and benchmarks).
    pub fn file_encryptor(&self, key: &str) -> Result<FileEncryptor> {
        FileEncryptor::prepare(self, &owner(), key)
    }

    /// `FileDecryptor::prepare` on this keystore, as its owner (tests and benchmarks).
    pub fn file_decryptor(&self, input: &Path) -> Result<FileDecryptor> {
        FileDecryptor::prepare(self, &owner(), input)
    }
}

fn owner() -> Caller {
    Caller::local(Face::Engine, keyconsole_base::util::i18n::current())
}
