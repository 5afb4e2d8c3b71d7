//! The streaming pipeline: a reader thread, chunks sealed or opened in parallel on every core, a
//! writer thread; memory stays bounded (a few batches of 4 MiB) whatever the file size.

use std::io::{self, Read, Write};

use zeroize::Zeroizing;

use super::chunked::{self, CHUNK_LEN, ChunkedError, Derived, SALT_LEN, SEALED_CHUNK_LEN};
use super::format::read_full;
use super::{Progress, chunked_error, decrypt_error, stream_error};
use crate::error::{ErrorCode, KmsError, Result};
use keyconsole_base::crypto::TAG_LEN;

/// Chunks handled per batch: 4 MiB of plaintext, shared out among the cores.
const BATCH_CHUNKS: usize = 256;
/// The most the writer hands the kernel at once (see the writer thread), and the output's buffer.
pub(crate) const WRITE_SLICE: usize = 1024 * 1024;

/// Buffer sizes (plaintext, sealed) for a plaintext of `total` bytes: just over the input for
/// small files (so a 40 KB file does not allocate, and wipe, four 4 MiB buffers), at most
/// `BATCH_CHUNKS` chunks. One byte more than the input, so its first read can already come up short.
fn batch_lens(total: u64) -> (usize, usize) {
    let needed = total.saturating_add(1).div_ceil(CHUNK_LEN as u64);
    let batch = usize::try_from(needed).map_or(BATCH_CHUNKS, |n| n.clamp(1, BATCH_CHUNKS));
    (batch * CHUNK_LEN, batch * SEALED_CHUNK_LEN)
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
                // In slices below 2 MiB: a write of 2 MiB or more can make the kernel back the page
                // cache with large folios that are slow to fault in (here `dd bs=4M` once took
                // 1.55 s of system time where `bs=64K` takes 0.31 s). 1 MiB rather than the 64 KiB
                // of age: measured faster to encrypt here, with 16 times fewer system calls.
                for slice in buf[..n].chunks(WRITE_SLICE) {
                    writer.write_all(slice)?;
                }
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
                    keyconsole_base::text!("errors.cancelled_no_output_was_kept"),
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
        match (transformed, written) {
            (Err(cancelled), _) if cancelled.code == ErrorCode::Cancelled => Err(cancelled),
            // A writer that failed (a full disk) stops the others: its reason is the one to give.
            (_, Err(e)) => Err(stream_error(e)),
            (transformed, Ok(())) => transformed,
        }
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
        batch_lens(total),
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
pub(crate) fn decrypt_chunks<R: Read + Send, W: Write + Send>(
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
        {
            // `total` is the plaintext's length here: as many chunks as the ciphertext has.
            let (plain, sealed) = batch_lens(total);
            (sealed, plain)
        },
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
pub(crate) fn open_prefix(
    input_key: &[u8],
    context: &[u8],
    reader: &mut impl Read,
) -> Result<Derived> {
    let mut prefix = [0u8; chunked::PREFIX_LEN];
    let n = read_full(reader, &mut prefix).map_err(|e| decrypt_error(e.to_string()))?;
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
