//! A file written front to back that is made durable while it is still being written.
//!
//! Every file keyconsole writes is fsynced before it is renamed into place. Left to itself, the
//! kernel keeps a large output dirty in the page cache, and the disk (or the virtual disk's host
//! cache) keeps what it was given in its volatile cache, until that final fsync: then the whole
//! file is written out and flushed while the user waits, after all of it was encrypted. Here the
//! work overlaps instead:
//! - every `WINDOW` written has its writeback started at once (`sync_file_range`, which does not
//!   wait), so the page cache does not pile up dirty pages;
//! - every `FLUSH_STEP` written, a flusher thread runs `fdatasync` on its own descriptor while the
//!   writer goes on, so the device drains its cache during the encryption, not after it.
//!
//! The final fsync then only has the last step left. Small files (the keystore) never reach a
//! step and start no thread. Measured on 1 GiB (2-core VM, ext4 on virtio, 3 interleaved runs):
//! encrypt 1.84 s → 1.27–1.45 s, decrypt 1.3–1.8 s → 1.26–1.31 s. Waiting for each window before
//! the next (as `sync_file_range` is often used) measured slower here: it stalls the writer.
//!
//! What a flush made durable is then dropped from the page cache (`POSIX_FADV_DONTNEED`):
//! encrypting a large file does not push the rest of the machine's cache out, and the writer
//! reuses the pages it freed (on this VM, which hands freed memory back to its host, fresh pages
//! cost the kernel's copy several times more: 1 GiB encrypt 1.67–2.18 s → 1.07–1.39 s).

use std::fs::File;
use std::io::{self, Write};
use std::sync::mpsc::{SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// How much is written before its writeback is started.
pub const WINDOW: u64 = 8 * 1024 * 1024;
/// How much is written between two flushes of the device's cache.
pub const FLUSH_STEP: u64 = 64 * 1024 * 1024;

pub struct WritebackFile {
    file: File,
    /// Bytes written so far (the file is written front to back from offset 0).
    written: u64,
    /// Everything before this offset has had its writeback started.
    started: u64,
    /// `written` when the flusher was last asked to flush.
    flush_asked: u64,
    /// False once the file system said it cannot start writeback; then the fsync does it all.
    writeback: bool,
    flusher: Option<Flusher>,
}

/// The thread that flushes while the writer writes. Its descriptor shares the writer's open file,
/// so an error its `fdatasync` sees would not be reported again to the final fsync: it is kept
/// here and returned by `finish`.
struct Flusher {
    /// How far the file is written when the flush is asked for.
    ask: SyncSender<u64>,
    error: Arc<Mutex<Option<io::Error>>>,
    thread: JoinHandle<()>,
}

impl WritebackFile {
    pub fn new(file: File) -> Self {
        Self {
            file,
            written: 0,
            started: 0,
            flush_asked: 0,
            writeback: cfg!(target_os = "linux"),
            flusher: None,
        }
    }

    /// Stops the flusher and hands back the file, or the error a flush met.
    pub fn finish(mut self) -> io::Result<File> {
        if let Some(Flusher { ask, error, thread }) = self.flusher.take() {
            drop(ask);
            let _ = thread.join();
            let error = error.lock().map_or(None, |mut e| e.take());
            if let Some(error) = error {
                return Err(error);
            }
        }
        Ok(self.file)
    }

    /// Starts the writeback of what was written since the last time.
    fn start_writeback(&mut self) -> io::Result<()> {
        self.start_range(self.started, self.written - self.started)?;
        self.started = self.written;
        Ok(())
    }

    /// Asks the flusher for a flush (starting it the first time). A flush still running or asked
    /// for already covers what was written since: then nothing more is asked.
    fn ask_for_flush(&mut self) -> io::Result<()> {
        self.flush_asked = self.written;
        if self.flusher.is_none() {
            let file = self.file.try_clone()?;
            let error = Arc::new(Mutex::new(None));
            let (ask, asked) = sync_channel::<u64>(1);
            let kept = Arc::clone(&error);
            let thread = std::thread::Builder::new()
                .name("flusher".into())
                .spawn(move || {
                    let mut dropped = 0;
                    for written in asked {
                        if let Err(e) = file.sync_data() {
                            if let Ok(mut slot) = kept.lock() {
                                slot.get_or_insert(e);
                            }
                            return;
                        }
                        // Durable up to `written`: those pages are clean and nobody reads them.
                        drop_from_cache(&file, dropped, written);
                        dropped = written;
                    }
                })?;
            self.flusher = Some(Flusher { ask, error, thread });
        }
        if let Some(flusher) = &self.flusher {
            match flusher.ask.try_send(self.written) {
                Ok(()) | Err(TrySendError::Full(_)) => {}
                // The flusher stopped at an error: report it now rather than at the end.
                Err(TrySendError::Disconnected(_)) => {
                    let error = flusher.error.lock().map_or(None, |mut e| e.take());
                    return Err(error.unwrap_or_else(|| io::Error::other("the flusher stopped")));
                }
            }
        }
        Ok(())
    }

    #[cfg(target_os = "linux")]
    fn start_range(&mut self, offset: u64, len: u64) -> io::Result<()> {
        use std::os::fd::AsRawFd;
        if len == 0 {
            return Ok(());
        }
        let flags = libc::SYNC_FILE_RANGE_WRITE;
        let (Ok(offset), Ok(len)) = (i64::try_from(offset), i64::try_from(len)) else {
            return Ok(());
        };
        // SAFETY: the descriptor is open for as long as `self.file` lives; the call reads no memory.
        let done = unsafe { libc::sync_file_range(self.file.as_raw_fd(), offset, len, flags) };
        if done == 0 {
            return Ok(());
        }
        let error = io::Error::last_os_error();
        match error.raw_os_error() {
            // Not a file or file system that can do it: the final fsync does all the work instead.
            Some(libc::EINVAL | libc::ESPIPE | libc::ENOSYS | libc::EOPNOTSUPP) => {
                self.writeback = false;
                Ok(())
            }
            Some(libc::EINTR) => Ok(()),
            // A failed write (EIO, ENOSPC) found early: the file is abandoned with this reason.
            _ => Err(error),
        }
    }

    #[cfg(not(target_os = "linux"))]
    fn start_range(&mut self, _offset: u64, _len: u64) -> io::Result<()> {
        Ok(())
    }
}

/// Drops the bytes `from..to` of `file` from the page cache. Only a hint: where it is not
/// supported, the pages stay cached, which is what happens anyway.
#[cfg(target_os = "linux")]
fn drop_from_cache(file: &File, from: u64, to: u64) {
    use std::os::fd::AsRawFd;
    let (Ok(offset), Ok(len)) = (i64::try_from(from), i64::try_from(to.saturating_sub(from)))
    else {
        return;
    };
    if len > 0 {
        // SAFETY: the descriptor is open for as long as `file` lives; the call reads no memory.
        unsafe { libc::posix_fadvise(file.as_raw_fd(), offset, len, libc::POSIX_FADV_DONTNEED) };
    }
}

#[cfg(not(target_os = "linux"))]
fn drop_from_cache(_file: &File, _from: u64, _to: u64) {}

impl Write for WritebackFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.written += n as u64;
        if self.writeback && self.written - self.started >= WINDOW {
            self.start_writeback()?;
        }
        if self.written - self.flush_asked >= FLUSH_STEP {
            self.ask_for_flush()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_everything_starting_writeback_and_flushing_on_the_way() {
        let folder = tempfile::tempdir().expect("temp dir");
        let path = folder.path().join("out");
        let mut file = WritebackFile::new(File::create(&path).expect("create"));
        let slice: Vec<u8> = (0..1_000_003u32).map(|i| (i % 251) as u8).collect();
        let mut expected = Vec::new();
        for _ in 0..150 {
            file.write_all(&slice).expect("write");
            expected.extend_from_slice(&slice);
        }
        let total = expected.len() as u64;
        if cfg!(target_os = "linux") {
            // Every whole window has been handed to the disk.
            assert!(
                file.writeback,
                "sync_file_range works on the temp folder's file system"
            );
            assert!(file.started > total - WINDOW - slice.len() as u64);
            assert!(file.started <= total);
        }
        // Past two flush steps: the flusher ran and stops cleanly.
        assert!(file.flusher.is_some());
        file.finish()
            .expect("no flush failed")
            .sync_all()
            .expect("sync");
        assert_eq!(std::fs::read(&path).expect("read back"), expected);
    }

    /// What a flush made durable leaves the page cache: the first flush step is gone from it once
    /// the file is finished (where the file system has a disk behind it; tmpfs pages are the file).
    #[cfg(target_os = "linux")]
    #[test]
    fn flushed_steps_leave_the_page_cache() {
        use std::os::fd::AsRawFd;
        let folder = tempfile::tempdir().expect("temp dir");
        let path = folder.path().join("out");
        let mut file = WritebackFile::new(File::create(&path).expect("create"));
        let slice = vec![7u8; 1 << 20];
        for _ in 0..((2 * FLUSH_STEP) >> 20) + 1 {
            file.write_all(&slice).expect("write");
        }
        drop(file.finish().expect("no flush failed"));
        // Opened again for reading: a mapping needs a readable descriptor.
        let file = File::open(&path).expect("open");
        let fd = file.as_raw_fd();
        // SAFETY: statfs is plain data; fstatfs writes only into it.
        let mut fs: libc::statfs = unsafe { std::mem::zeroed() };
        // SAFETY: `fd` is open while `file` lives; `fs` is a valid statfs to write into.
        if unsafe { libc::fstatfs(fd, &mut fs) } != 0 || fs.f_type == libc::TMPFS_MAGIC {
            return;
        }
        let len = FLUSH_STEP as usize;
        // SAFETY: a read-only shared mapping of the file's first step, unmapped below; mincore
        // only reports which of its pages are resident (it reads none of them).
        let resident = unsafe {
            let map = libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ,
                libc::MAP_SHARED,
                fd,
                0,
            );
            assert_ne!(map, libc::MAP_FAILED);
            let page = usize::try_from(libc::sysconf(libc::_SC_PAGESIZE)).expect("page size");
            let mut resident = vec![0u8; len.div_ceil(page)];
            let done = libc::mincore(map, len, resident.as_mut_ptr());
            libc::munmap(map, len);
            assert_eq!(done, 0, "mincore");
            resident
        };
        let cached = resident.iter().filter(|&&page| page & 1 != 0).count();
        assert!(
            cached < resident.len() / 10,
            "{cached} of {} pages still cached",
            resident.len()
        );
    }
}
