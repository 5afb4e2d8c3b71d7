//! Tells cheaply whether anything in a folder changed: a counter that a thread blocked on the
//! kernel's change notifications (inotify) moves on every change, and a look at the events the
//! kernel queued that the thread has not read yet. The API server asks on every
//! request whether another process saved the keystore; with this, asking is an atomic load, and a
//! `stat` is only made after something in the keystore's folder changed.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

pub struct FolderWatch {
    shared: Arc<Shared>,
    #[cfg(target_os = "linux")]
    inotify: std::os::fd::RawFd,
    #[cfg(target_os = "linux")]
    watch: i32,
}

#[derive(Default)]
struct Shared {
    /// Moves on every change seen.
    changes: AtomicU64,
    /// False once the watch ended (the folder was removed or moved, the queue broke).
    working: AtomicBool,
    /// True once the reader closed the descriptor; held while closing it or removing the watch,
    /// so `Drop` never touches a descriptor number the process may have reused.
    closed: std::sync::Mutex<bool>,
}

impl FolderWatch {
    /// Watches `folder`; `None` where the system cannot (not Linux, out of inotify watches).
    #[cfg(target_os = "linux")]
    pub fn start(folder: &Path) -> Option<Self> {
        use std::os::unix::ffi::OsStrExt;
        let path = std::ffi::CString::new(folder.as_os_str().as_bytes()).ok()?;
        // SAFETY: plain system calls on a descriptor this function owns and a NUL-terminated path.
        let inotify = unsafe { libc::inotify_init1(libc::IN_CLOEXEC) };
        if inotify < 0 {
            return None;
        }
        let mask = libc::IN_CREATE
            | libc::IN_DELETE
            | libc::IN_MODIFY
            | libc::IN_ATTRIB
            | libc::IN_CLOSE_WRITE
            | libc::IN_MOVED_FROM
            | libc::IN_MOVED_TO
            | libc::IN_DELETE_SELF
            | libc::IN_MOVE_SELF;
        // SAFETY: as above; `path` lives across the call.
        let watch = unsafe { libc::inotify_add_watch(inotify, path.as_ptr(), mask) };
        if watch < 0 {
            // SAFETY: closes the descriptor opened above, once.
            unsafe { libc::close(inotify) };
            return None;
        }
        let shared = Arc::new(Shared {
            changes: AtomicU64::new(0),
            working: AtomicBool::new(true),
            closed: std::sync::Mutex::new(false),
        });
        let seen = shared.clone();
        let reader = std::thread::Builder::new()
            .name("keystore-watch".into())
            .spawn(move || read_events(inotify, &seen));
        if reader.is_err() {
            // SAFETY: the thread did not start, so the descriptor is still only ours; closed once.
            unsafe { libc::close(inotify) };
            return None;
        }
        Some(Self {
            shared,
            inotify,
            watch,
        })
    }

    #[cfg(not(target_os = "linux"))]
    pub fn start(_folder: &Path) -> Option<Self> {
        None
    }

    /// A number that differs from any earlier answer once something in the folder changed;
    /// `None` if the watch ended, so the caller must look for itself.
    ///
    /// A change that happened before the call is never missed, although a thread counts them:
    /// the count is odd while that thread reads events, and events the kernel queued that it
    /// has not read yet are looked for here (`FIONREAD`); either way the answer is `None`.
    pub fn changes(&self) -> Option<u64> {
        let before = self.shared.changes.load(Ordering::Acquire);
        if before % 2 == 1 || !self.shared.working.load(Ordering::Acquire) {
            return None;
        }
        if self.events_waiting() {
            return None;
        }
        // Moved meanwhile: the reader took events the look above may have missed.
        let after = self.shared.changes.load(Ordering::Acquire);
        (after == before).then_some(before)
    }

    /// Whether the kernel holds events the reader has not read.
    #[cfg(target_os = "linux")]
    fn events_waiting(&self) -> bool {
        let closed = self
            .shared
            .closed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if *closed {
            return true;
        }
        let mut waiting: libc::c_int = 0;
        // SAFETY: the descriptor is open (checked under the lock the reader closes it in); the
        // kernel writes one c_int.
        let asked = unsafe { libc::ioctl(self.inotify, libc::FIONREAD, &mut waiting) };
        asked != 0 || waiting > 0
    }

    #[cfg(not(target_os = "linux"))]
    fn events_waiting(&self) -> bool {
        true
    }
}

/// Counts events until the watch is removed (`Drop`), then closes the descriptor.
#[cfg(target_os = "linux")]
fn read_events(inotify: std::os::fd::RawFd, shared: &Shared) {
    // Room for many events at once; their content does not matter, only that they came.
    let mut events = [0u8; 4096];
    loop {
        // Wait for events without taking them, so they stay visible to `changes` (FIONREAD)
        // until the count says they are being read.
        let mut ready = libc::pollfd {
            fd: inotify,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one pollfd of a descriptor this thread closes only after its last use.
        // (Another failure goes on to the read, which fails too and ends the watch.)
        if unsafe { libc::poll(&mut ready, 1, -1) } < 0
            && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted
        {
            continue;
        }
        // Odd while reading: `changes` answers None until the count is even again.
        shared.changes.fetch_add(1, Ordering::AcqRel);
        // SAFETY: reads into a buffer of the length given, from a descriptor this thread closes
        // only after its last read.
        let read = unsafe { libc::read(inotify, events.as_mut_ptr().cast(), events.len()) };
        shared.changes.fetch_add(1, Ordering::AcqRel);
        if read < 0 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
            continue;
        }
        let ended = read <= 0 || {
            // The event header's mask is its second field (after the 4-byte watch descriptor);
            // IN_IGNORED comes once the watch is gone, whatever removed it.
            let filled = &events[..usize::try_from(read).unwrap_or(0)];
            let mut offset = 0usize;
            let mut ended = false;
            while offset + 16 <= filled.len() {
                let field = |at: usize| {
                    u32::from_ne_bytes([filled[at], filled[at + 1], filled[at + 2], filled[at + 3]])
                };
                let mask = field(offset + 4);
                let name_len = field(offset + 12) as usize;
                ended |= mask
                    & (libc::IN_IGNORED
                        | libc::IN_DELETE_SELF
                        | libc::IN_MOVE_SELF
                        | libc::IN_Q_OVERFLOW)
                    != 0;
                offset += 16 + name_len;
            }
            ended
        };
        if ended {
            // An overflow may have lost events; a moved folder no longer holds the keystore's path.
            shared.working.store(false, Ordering::Release);
            let mut closed = shared
                .closed
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            // SAFETY: the last use of the descriptor, marked closed under the lock `Drop` takes.
            unsafe { libc::close(inotify) };
            *closed = true;
            return;
        }
    }
}

#[cfg(target_os = "linux")]
impl Drop for FolderWatch {
    fn drop(&mut self) {
        let closed = self
            .shared
            .closed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if !*closed {
            // SAFETY: the descriptor is open (checked under the lock the reader closes it in).
            // Removing the watch wakes the reader with IN_IGNORED; it then closes the descriptor.
            unsafe { libc::inotify_rm_watch(self.inotify, self.watch) };
        }
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn wait_until(what: impl Fn() -> bool) -> bool {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if what() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        false
    }

    #[test]
    fn a_change_in_the_folder_moves_the_count_and_a_removed_folder_ends_the_watch() {
        let folder = tempfile::tempdir().expect("temp dir");
        let watch = FolderWatch::start(folder.path()).expect("inotify works here");
        let before = watch.changes().expect("working");
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(watch.changes(), Some(before), "nothing changed yet");
        std::fs::write(folder.path().join("keystore.tmp"), b"x").expect("write");
        std::fs::rename(
            folder.path().join("keystore.tmp"),
            folder.path().join("keystore"),
        )
        .expect("rename");
        assert!(wait_until(|| watch.changes().is_some_and(|c| c != before)));
        let path = folder.path().to_path_buf();
        drop(folder);
        assert!(!path.exists());
        assert!(
            wait_until(|| watch.changes().is_none()),
            "a removed folder ends the watch"
        );
    }

    /// A change that returned is seen by the very next look, before the watch's thread has woken
    /// (it was not: a reader could be told nothing changed for a moment after a rename).
    #[test]
    fn a_change_is_seen_the_moment_it_returned() {
        let folder = tempfile::tempdir().expect("temp dir");
        let watch = FolderWatch::start(folder.path()).expect("inotify works here");
        let file = folder.path().join("keystore");
        for round in 0..300 {
            let before = loop {
                if let Some(count) = watch.changes() {
                    break count;
                }
                std::thread::yield_now();
            };
            std::fs::write(&file, [round as u8]).expect("write");
            assert_ne!(watch.changes(), Some(before), "round {round}");
        }
    }
}
