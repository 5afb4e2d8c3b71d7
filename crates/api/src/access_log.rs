//! What the API did, request by request: time, dialect, action, KeyId (or secret), result code,
//! duration. Never a
//! parameter's value beyond a KeyId, so no plaintext, key or ciphertext ever reaches the log.

use std::collections::VecDeque;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{SyncSender, TryRecvError, sync_channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessLogEntry {
    /// Unix seconds.
    pub time: i64,
    /// The cloud whose wire the request spoke (`tencent`, `huawei`, `jd`).
    pub dialect: &'static str,
    pub action: &'static str,
    pub key_id: Option<String>,
    /// `Success`, or the error code.
    pub code: &'static str,
    pub duration: Duration,
}

impl AccessLogEntry {
    pub fn is_success(&self) -> bool {
        self.code == SUCCESS
    }
}

/// An entry as its log line, with its time already formatted: the echo writer formats each
/// second once, not every line of it.
struct Line<'a>(&'a AccessLogEntry, &'a str);

impl std::fmt::Display for Line<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Line(entry, time_text) = self;
        write!(
            f,
            "{time_text} {} {} key={} {} {:.2} ms",
            entry.dialect,
            entry.action,
            entry.key_id.as_deref().unwrap_or("-"),
            entry.code,
            entry.duration.as_secs_f64() * 1e3
        )
    }
}

impl std::fmt::Display for AccessLogEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        Line(self, &keyconsole_base::util::format_time(self.time)).fmt(f)
    }
}

pub const SUCCESS: &str = "Success";

/// Lines waiting for the echo writer; when it falls this far behind (a pipe nobody reads), new
/// lines are dropped and counted instead of making requests wait.
pub const ECHO_QUEUE_LINES: usize = 4096;
/// How often the echo writer drains the queue: lines appear at most this late, and 4,096 lines
/// every 10 ms is 400,000 requests a second.
pub const ECHO_INTERVAL: std::time::Duration = std::time::Duration::from_millis(10);

/// The newest entries in memory (for the console's API access page), and optionally each entry
/// written as a line by a writer thread (`keyconsole serve` prints them to standard output).
pub struct AccessLog {
    recent: Mutex<VecDeque<AccessLogEntry>>,
    capacity: usize,
    total: AtomicU64,
    errors: AtomicU64,
    echo: Option<SyncSender<AccessLogEntry>>,
    dropped: Arc<AtomicU64>,
}

impl std::fmt::Debug for AccessLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessLog")
            .field("total", &self.total())
            .finish_non_exhaustive()
    }
}

impl AccessLog {
    pub fn new(capacity: usize) -> Self {
        Self {
            recent: Mutex::new(VecDeque::with_capacity(capacity.min(4096))),
            capacity: capacity.max(1),
            total: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            echo: None,
            dropped: Arc::default(),
        }
    }

    /// Writes every entry as a line to `out` on a thread of its own, through a bounded queue, so
    /// a slow or stuck `out` never holds up a request. A line that fails to write is dropped too.
    /// The writer drains the queue every `ECHO_INTERVAL` instead of waiting on it, so a request
    /// never pays for waking it (on two cores that wake cost a fifth of the API's rate).
    pub fn with_echo(mut self, out: impl Write + Send + 'static) -> Self {
        // Entries cross the queue and become lines on the writer's thread: formatting the time
        // and duration is work a request need not wait for.
        let (sender, lines) = sync_channel::<AccessLogEntry>(ECHO_QUEUE_LINES);
        let dropped = self.dropped.clone();
        let spawned = std::thread::Builder::new()
            .name("keyconsole-access-log".to_owned())
            .spawn(move || {
                // Woken every `ECHO_INTERVAL` with hundreds of lines under load, at normal
                // priority it preempted a request thread for the whole batch (p99 at 32
                // connections 1.4-2.9 ms with the log, 0.5-1.5 ms without). Not being able to
                // lower it (another platform) only costs some latency.
                let _ = keyconsole_base::util::process::lower_this_threads_priority(
                    keyconsole_base::util::process::BACKGROUND_NICE,
                );
                let mut out = std::io::BufWriter::with_capacity(64 * 1024, out);
                let (mut second, mut time_text) = (None, String::new());
                loop {
                    let mut batch = 0u64;
                    let open = loop {
                        match lines.try_recv() {
                            Ok(entry) => {
                                batch += 1;
                                if second != Some(entry.time) {
                                    second = Some(entry.time);
                                    time_text = keyconsole_base::util::format_time(entry.time);
                                }
                                if writeln!(out, "{}", Line(&entry, &time_text)).is_err() {
                                    dropped.fetch_add(1, Ordering::Relaxed);
                                }
                            }
                            Err(TryRecvError::Empty) => break true,
                            Err(TryRecvError::Disconnected) => break false,
                        }
                    };
                    if batch > 0 && out.flush().is_err() {
                        dropped.fetch_add(batch, Ordering::Relaxed);
                    }
                    if !open {
                        return;
                    }
                    std::thread::sleep(ECHO_INTERVAL);
                }
            });
        if spawned.is_ok() {
            self.echo = Some(sender);
        }
        self
    }

    /// Lines the echo writer did not take (it was behind by `ECHO_QUEUE_LINES`) or failed to write.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    pub fn record(&self, entry: AccessLogEntry) {
        if let Some(echo) = &self.echo
            && echo.try_send(entry.clone()).is_err()
        {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
        self.total.fetch_add(1, Ordering::Relaxed);
        if !entry.is_success() {
            self.errors.fetch_add(1, Ordering::Relaxed);
        }
        let mut recent = self.recent.lock().unwrap_or_else(PoisonError::into_inner);
        if recent.len() == self.capacity {
            recent.pop_front();
        }
        recent.push_back(entry);
    }

    /// Requests served since the log was made.
    pub fn total(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }

    pub fn errors(&self) -> u64 {
        self.errors.load(Ordering::Relaxed)
    }

    /// The newest entries, oldest first.
    pub fn recent(&self) -> Vec<AccessLogEntry> {
        let recent = self.recent.lock().unwrap_or_else(PoisonError::into_inner);
        recent.iter().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(code: &'static str) -> AccessLogEntry {
        AccessLogEntry {
            dialect: "tencent",
            time: 0,
            action: "Encrypt",
            key_id: None,
            code,
            duration: Duration::from_micros(50),
        }
    }

    #[test]
    fn keeps_the_newest_entries_and_counts_all() {
        let log = AccessLog::new(2);
        log.record(entry(SUCCESS));
        log.record(entry("ResourceUnavailable.CmkDisabled"));
        log.record(entry(SUCCESS));
        assert_eq!(log.total(), 3);
        assert_eq!(log.errors(), 1);
        let recent = log.recent();
        assert_eq!(recent.len(), 2);
        assert_eq!(recent[0].code, "ResourceUnavailable.CmkDisabled");
    }

    /// A writer that never returns (a pipe nobody reads).
    struct Stuck;

    impl Write for Stuck {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            loop {
                std::thread::park();
            }
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_stuck_echo_drops_lines_instead_of_waiting() {
        let log = AccessLog::new(10).with_echo(Stuck);
        // The queue takes 4,096 lines and the writer's buffer some more before it is stuck;
        // how many depends on when the writer drains, so only the bounds are checked.
        let lines = 3 * ECHO_QUEUE_LINES as u64;
        for _ in 0..lines {
            log.record(entry(SUCCESS));
        }
        assert_eq!(log.total(), lines, "every request went on");
        let dropped = log.dropped();
        assert!(
            dropped > 0 && dropped <= lines - ECHO_QUEUE_LINES as u64,
            "{dropped}"
        );
    }

    /// A writer whose bytes the test can read while the echo thread holds it.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// Each line carries its own entry's time, though a second's time is formatted only once.
    #[test]
    fn echoed_lines_carry_their_own_time() {
        let out = Shared::default();
        let log = AccessLog::new(10).with_echo(out.clone());
        let at = |time, key: &str, code| AccessLogEntry {
            time,
            key_id: Some(key.to_owned()),
            ..entry(code)
        };
        log.record(at(1_700_000_000, "a", SUCCESS));
        log.record(at(1_700_000_000, "b", "ResourceUnavailable.CmkDisabled"));
        log.record(at(1_700_000_001, "c", SUCCESS));
        let expected = [
            "2023-11-14 22:13:20 UTC tencent Encrypt key=a Success 0.05 ms",
            "2023-11-14 22:13:20 UTC tencent Encrypt key=b ResourceUnavailable.CmkDisabled 0.05 ms",
            "2023-11-14 22:13:21 UTC tencent Encrypt key=c Success 0.05 ms",
        ]
        .map(|line| format!("{line}\n"))
        .concat();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while out.0.lock().unwrap().len() < expected.len() && std::time::Instant::now() < deadline {
            std::thread::sleep(ECHO_INTERVAL);
        }
        assert_eq!(
            String::from_utf8(out.0.lock().unwrap().clone()).unwrap(),
            expected
        );
    }
}
