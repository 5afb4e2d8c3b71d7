//! The audit trail: one event per operation of every face, appended to numbered segment files in
//! `<keystore>.audit/`, each event chained to the one before by an HMAC whose key lives sealed in
//! the keystore, and the chain's head saved in the keystore at every save (so a cut-off tail is
//! found). Events name who did what to which key or secret and how it ended; never a plaintext,
//! ciphertext, key or secret value (an encryption context only as an HMAC of it, as Vault does).
//!
//! Writing is group-committed: an operation whose answer must not leave unrecorded (a change, a
//! decryption, a secret read) writes its event, and every event queued before it, before it
//! answers, and fails when that write fails; an encryption or a read of metadata queues its event
//! for a flusher thread that writes within milliseconds. Several processes append to one trail
//! under a file lock, each reading the chain's tail when another wrote since.

mod read;
mod verify;

pub use read::{
    AuditFilter, AuditPage, AuditQuery, parse_time_bound, read_events, read_page, to_csv, to_jsonl,
};
pub use verify::{AuditAnchor, AuditBreak, AuditHead, VerifyReport, verify};

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use zeroize::Zeroizing;

/// A segment is closed and the next one begun once it holds this much.
pub const SEGMENT_BYTES: u64 = 64 * 1024 * 1024;
/// Space kept allocated past the end of the active segment, so the events of operations already
/// admitted still fit when the disk fills; below `RESERVE_LOW`, changes are refused until more
/// can be allocated.
const RESERVE_BYTES: u64 = 256 * 1024;
const RESERVE_LOW: u64 = 64 * 1024;
/// Queued events (of one shard) past which a queuing caller writes them itself (the queue stays
/// bounded).
const SHARD_LIMIT: usize = 2 * 1024;
/// Threads queue into one of this many queues (see `Shard`).
const SHARDS: usize = 8;
/// How long queued events wait to be written together: the flusher, woken by the first event
/// queued, waits this long and writes the batch (off the requests' threads, so on a machine not
/// yet busy the writing takes idle time instead of adding to a request's wait).
const FLUSH_DELAY: Duration = Duration::from_millis(5);
/// How long an append waits for another process's turn on the trail.
const LOCK_TIMEOUT: Duration = Duration::from_secs(10);
/// A MAC is 32 bytes, written as 64 hex digits; a line ends `,"mac":"<64 hex>"}`.
pub(crate) const MAC_SUFFIX_LEN: usize = 8 + 64 + 2;

type HmacSha256 = Hmac<Sha256>;

/// One event as the trail holds it. `time` is Unix seconds; `outcome` is `Success` or the error's
/// code (`CmkDisabled`); empty fields are left out of the file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    #[serde(default, skip_serializing_if = "is_zero")]
    pub seq: u64,
    #[serde(default)]
    pub time: i64,
    /// `owner` (who holds the keystore's password), `maintenance`, or a user's name.
    #[serde(default)]
    pub user: String,
    /// console, cli, api or engine.
    #[serde(default)]
    pub face: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub dialect: String,
    /// The credential a request was signed with (a SecretId), when it was one.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub credential: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub source: String,
    #[serde(default)]
    pub action: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub key_id: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub alias: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub secret: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub version: String,
    /// What else the operation named (a user, a database instance), never a secret.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub target: String,
    #[serde(default)]
    pub outcome: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub request_id: String,
    /// HMAC-SHA256 of the canonical encryption context (first 16 bytes, hex), so two events with
    /// the same context can be matched without the context itself being kept.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub context_hmac: String,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl AuditEvent {
    pub fn succeeded(&self) -> bool {
        self.outcome == "Success"
    }

    /// The key or secret the event is about, as a person reads it.
    pub fn resource(&self) -> String {
        if !self.key_id.is_empty() {
            if self.alias.is_empty() {
                self.key_id.clone()
            } else {
                format!("{} ({})", self.key_id, self.alias)
            }
        } else if !self.secret.is_empty() {
            if self.version.is_empty() {
                format!("secret:{}", self.secret)
            } else {
                format!("secret:{} @{}", self.secret, self.version)
            }
        } else {
            self.target.clone()
        }
    }
}

/// The trail of the keystore at `keystore`, whose secret is `secret`; `None` when this process
/// was started with `KEYCONSOLE_AUDIT=off` (to measure what the trail costs), which the trail
/// itself records before it stops.
pub(crate) fn open_for(keystore: &Path, secret: &[u8; 32]) -> Option<AuditTrail> {
    let trail = AuditTrail::open(trail_dir(keystore), AuditKeys::from_secret(secret));
    if std::env::var("KEYCONSOLE_AUDIT").is_ok_and(|v| v == "off") {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let mut text = String::new();
        EventText::new(&mut text, now)
            .field("user", "owner")
            .field("face", "engine")
            .field("action", "AuditTurnedOff")
            .field("target", &format!("process {}", std::process::id()))
            .field("outcome", "Success");
        let _ = trail.record_text(&text, true);
        return None;
    }
    Some(trail)
}

/// The folder of `keystore`'s trail: beside it, a folder of its own (so appending to the trail
/// does not wake the watchers of the keystore's folder).
pub fn trail_dir(keystore: &Path) -> PathBuf {
    let mut name = keystore.file_name().unwrap_or_default().to_os_string();
    name.push(".audit");
    keystore.with_file_name(name)
}

pub(crate) fn segment_path(dir: &Path, number: u32) -> PathBuf {
    dir.join(format!("{number:06}.jsonl"))
}

/// The files of the trail in `dir`, in order.
pub fn segments_of(dir: &Path) -> Vec<PathBuf> {
    segments(dir)
        .unwrap_or_default()
        .into_iter()
        .map(|(_, path)| path)
        .collect()
}

/// The numbered segments in `dir`, in order.
pub(crate) fn segments(dir: &Path) -> std::io::Result<Vec<(u32, PathBuf)>> {
    let mut found = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(found),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if let Some(number) = name
            .strip_suffix(".jsonl")
            .filter(|n| n.len() == 6)
            .and_then(|n| n.parse::<u32>().ok())
        {
            found.push((number, entry.path()));
        }
    }
    found.sort();
    Ok(found)
}

/// The keys of one keystore's trail (kept sealed in the keystore).
#[derive(Clone)]
pub struct AuditKeys {
    /// HMAC-SHA256 keyed for the chain, its key already absorbed (cloned per line).
    chain: HmacSha256,
    context: HmacSha256,
}

impl AuditKeys {
    pub(crate) fn from_secret(secret: &[u8; 32]) -> Self {
        let derive = |label: &[u8]| {
            let mut mac = <HmacSha256 as KeyInit>::new_from_slice(secret)
                .expect("HMAC takes a key of any length");
            mac.update(label);
            let mut key = Zeroizing::new([0u8; 32]);
            key.copy_from_slice(&mac.finalize().into_bytes());
            key
        };
        let keyed = |key: Zeroizing<[u8; 32]>| {
            <HmacSha256 as KeyInit>::new_from_slice(&key[..])
                .expect("HMAC takes a key of any length")
        };
        AuditKeys {
            chain: keyed(derive(b"keyconsole audit chain v1")),
            context: keyed(derive(b"keyconsole audit context v1")),
        }
    }

    /// The MAC of a line's text before its `mac` field, chained to the MAC before it.
    pub(crate) fn line_mac(&self, previous: &[u8; 32], text: &[u8]) -> [u8; 32] {
        let mut mac = self.chain.clone();
        mac.update(previous);
        mac.update(text);
        mac.finalize().into_bytes().into()
    }

    /// What an event records of an encryption context.
    pub fn context_hmac(&self, canonical_context: &str) -> String {
        let mut mac = self.context.clone();
        mac.update(canonical_context.as_bytes());
        keyconsole_base::util::hex(&mac.finalize().into_bytes()[..16])
    }
}

/// Where the chain ends: the last event's number and MAC (`seq` 0 before the first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ChainEnd {
    pub seq: u64,
    pub mac: [u8; 32],
}

impl ChainEnd {
    pub(crate) const START: ChainEnd = ChainEnd {
        seq: 0,
        mac: [0; 32],
    };
}

/// The `seq` and `mac` of one line, without parsing the rest.
pub(crate) fn parse_line_ends(line: &[u8]) -> Option<(u64, [u8; 32], usize)> {
    let rest = line.strip_prefix(b"{\"seq\":")?;
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    let seq = std::str::from_utf8(&rest[..digits]).ok()?.parse().ok()?;
    if line.len() < MAC_SUFFIX_LEN + 8 {
        return None;
    }
    let text_len = line.len() - MAC_SUFFIX_LEN;
    let suffix = &line[text_len..];
    let hex = suffix.strip_prefix(b",\"mac\":\"")?.strip_suffix(b"\"}")?;
    let mut mac = [0u8; 32];
    for (i, pair) in hex.chunks(2).enumerate() {
        let text = std::str::from_utf8(pair).ok()?;
        mac[i] = u8::from_str_radix(text, 16).ok()?;
    }
    Some((seq, mac, text_len))
}

/// Why the trail cannot take an event now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditFailure(pub String);

/// The queue of the threads given this shard (`shard_of_this_thread`). One shared queue had each
/// event pass its lock's cache line from core to core, which cost a busy server more than the
/// rest of queuing; a thread queues into its own shard, and a write gathers every shard. Events of
/// one thread are written in order; those of different threads queued within one batch (a few
/// milliseconds) in either order.
#[repr(align(128))]
#[derive(Default)]
struct Shard(Mutex<Queue>);

static NEXT_SHARD: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

thread_local! {
    static THIS_THREADS_SHARD: usize = NEXT_SHARD.fetch_add(1, Ordering::Relaxed) % SHARDS;
}

fn shard_of_this_thread() -> usize {
    THIS_THREADS_SHARD.try_with(|shard| *shard).unwrap_or(0)
}

/// The events waiting to be written, in order, and how far writing got.
#[derive(Default)]
struct Queue {
    batch: Batch,
    /// The ticket of the last event queued (the batch holds those after `written_through`).
    next_ticket: u64,
    written_through: u64,
}

/// Events' texts one after another in one buffer, which the writer copies out and empties (its
/// capacity kept): in a steady stream of requests queuing an event allocates nothing (a `String`
/// per event, freed by whichever thread wrote it, cost the workers more than building it).
#[derive(Default)]
struct Batch {
    texts: Vec<u8>,
    /// Where each event's text ends in `texts`.
    ends: Vec<usize>,
}

impl Batch {
    fn push(&mut self, text: &[u8]) {
        self.texts.extend_from_slice(text);
        self.ends.push(self.texts.len());
    }

    fn len(&self) -> usize {
        self.ends.len()
    }

    fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    fn clear(&mut self) {
        self.texts.clear();
        self.ends.clear();
    }

    /// Puts events `events` of `from` before this batch's own.
    fn put_back(&mut self, from: &Batch, events: std::ops::Range<usize>) {
        if events.is_empty() {
            return;
        }
        let start = events.start.checked_sub(1).map_or(0, |i| from.ends[i]);
        let end = from.ends[events.end - 1];
        let mut texts = Vec::with_capacity(end - start + self.texts.len());
        texts.extend_from_slice(&from.texts[start..end]);
        let mut ends: Vec<usize> = from.ends[events].iter().map(|e| e - start).collect();
        let offset = texts.len();
        texts.extend_from_slice(&self.texts);
        ends.extend(self.ends.iter().map(|e| e + offset));
        self.texts = texts;
        self.ends = ends;
    }

    /// Appends `later`'s events after this batch's.
    fn extend(&mut self, later: &Batch) {
        let offset = self.texts.len();
        self.texts.extend_from_slice(&later.texts);
        self.ends.extend(later.ends.iter().map(|end| end + offset));
    }

    fn texts(&self) -> impl Iterator<Item = &[u8]> {
        let mut start = 0;
        self.ends.iter().map(move |&end| {
            let text = &self.texts[start..end];
            start = end;
            text
        })
    }
}

/// The open end of the trail in this process.
struct Appender {
    dir: PathBuf,
    /// The batch being written (every shard's, kept for its capacity), and how many of its
    /// events came from each shard, in shard order.
    writing: Batch,
    from_shards: [usize; SHARDS],
    /// The lines being written, kept for its capacity.
    lines: Vec<u8>,
    /// The trail's lock file, open once (see `lock_trail`).
    lock_file: Option<File>,
    segment: u32,
    file: Option<File>,
    /// Where this process last left the active segment, and the chain's end there.
    end: u64,
    chain: ChainEnd,
    /// Whether `end` and `chain` are known (false until the tail was read once).
    known: bool,
    /// Bytes allocated past `end` (the reserve).
    reserve: u64,
    segment_limit: u64,
    /// Test hook: appends past this many bytes of a segment fail as a full disk would.
    space_limit: Option<u64>,
}

struct Shared {
    keys: AuditKeys,
    shards: [Shard; SHARDS],
    /// The flusher waits on `queued` (with `idle`) while nothing is queued.
    idle: Mutex<()>,
    queued: Condvar,
    appender: Mutex<Appender>,
    /// The last write failed (its events wait in the queue); every operation is refused until a
    /// write succeeds again.
    failed: AtomicBool,
    /// No reserve could be allocated: changes and reads of secrets are refused.
    low_space: AtomicBool,
    last_failure: Mutex<Option<String>>,
    stop: AtomicBool,
}

/// The trail of one open keystore in this process (see the module's documentation).
pub struct AuditTrail {
    shared: Arc<Shared>,
    flusher: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl std::fmt::Debug for AuditTrail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditTrail").finish_non_exhaustive()
    }
}

impl AuditTrail {
    /// The trail in `dir`, written with `keys`; its flusher runs until this is dropped.
    pub fn open(dir: PathBuf, keys: AuditKeys) -> AuditTrail {
        let shared = Arc::new(Shared {
            keys,
            shards: Default::default(),
            idle: Mutex::new(()),
            queued: Condvar::new(),
            appender: Mutex::new(Appender {
                dir,
                writing: Batch::default(),
                from_shards: [0; SHARDS],
                lines: Vec::new(),
                lock_file: None,
                segment: 0,
                file: None,
                end: 0,
                chain: ChainEnd::START,
                known: false,
                reserve: 0,
                segment_limit: SEGMENT_BYTES,
                space_limit: None,
            }),
            failed: AtomicBool::new(false),
            low_space: AtomicBool::new(false),
            last_failure: Mutex::new(None),
            stop: AtomicBool::new(false),
        });
        let flusher = {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name("audit-flusher".to_owned())
                .spawn(move || shared.run_flusher())
                .ok()
        };
        AuditTrail {
            shared,
            flusher: Mutex::new(flusher),
        }
    }

    pub fn keys(&self) -> &AuditKeys {
        &self.shared.keys
    }

    pub fn dir(&self) -> PathBuf {
        lock(&self.shared.appender).dir.clone()
    }

    /// Whether an operation may start: refused while the trail cannot be written, and, for one
    /// that must be recorded before it answers (`confirmed`), while no reserve is left.
    pub fn ready(&self, confirmed: bool) -> Result<(), AuditFailure> {
        let s = &self.shared;
        let failed = s.failed.load(Ordering::Acquire);
        let low = confirmed && s.low_space.load(Ordering::Acquire);
        if !failed && !low {
            return Ok(());
        }
        // Perhaps space was freed: try the waiting events and the reserve again.
        let mut appender = lock(&s.appender);
        s.write_queued(&mut appender)?;
        if confirmed && s.low_space.load(Ordering::Acquire) {
            appender.top_up_reserve(&s.low_space);
            if s.low_space.load(Ordering::Acquire) {
                return Err(AuditFailure(
                    "no space is left for the audit trail's next events".to_owned(),
                ));
            }
        }
        Ok(())
    }

    /// Records an event written as text (`EventText`: one writer of lines). With `confirmed`,
    /// returns once it is written (with every event queued before it) or failed to be; otherwise
    /// it is queued for the flusher.
    pub(crate) fn record_text(&self, text: &str, confirmed: bool) -> Result<(), AuditFailure> {
        let s = &self.shared;
        let shard = shard_of_this_thread();
        let ticket = {
            let mut queue = lock(&s.shards[shard].0);
            queue.next_ticket += 1;
            let ticket = queue.next_ticket;
            let was_empty = queue.batch.is_empty();
            queue.batch.push(text.as_bytes());
            if !confirmed && queue.batch.len() < SHARD_LIMIT {
                drop(queue);
                if was_empty {
                    s.queued.notify_one();
                }
                return Ok(());
            }
            // Past the limit (the flusher is behind: a failing or slow disk) the caller writes,
            // which bounds the queue.
            ticket
        };
        s.write_through(shard, ticket)
    }

    /// Writes what is queued and makes it durable; answers the chain's end, which the keystore
    /// keeps as the trail's head.
    pub fn sync(&self) -> Result<AuditHead, AuditFailure> {
        let s = &self.shared;
        let mut appender = lock(&s.appender);
        s.write_queued(&mut appender)?;
        appender.catch_up().map_err(|e| s.fail(&e))?;
        if let Some(file) = appender.file.as_ref() {
            file.sync_data().map_err(|e| s.fail(&e))?;
        }
        Ok(AuditHead {
            seq: appender.chain.seq,
            mac: keyconsole_base::util::hex(&appender.chain.mac),
        })
    }

    /// Writes what is queued (without waiting for the disk), so a reader sees it.
    pub fn flush(&self) -> Result<(), AuditFailure> {
        let mut appender = lock(&self.shared.appender);
        self.shared.write_queued(&mut appender)
    }

    /// Why the trail last failed, if it is failing now.
    pub fn failure(&self) -> Option<String> {
        if self.shared.failed.load(Ordering::Acquire)
            || self.shared.low_space.load(Ordering::Acquire)
        {
            lock(&self.shared.last_failure).clone()
        } else {
            None
        }
    }

    /// Test hooks: segments close at `segment` bytes; appends past `space` bytes of a segment
    /// fail as on a full disk.
    pub fn set_limits(&self, segment: Option<u64>, space: Option<u64>) {
        let mut appender = lock(&self.shared.appender);
        if let Some(segment) = segment {
            appender.segment_limit = segment;
        }
        appender.space_limit = space;
        appender.reserve = 0;
        appender.top_up_reserve(&self.shared.low_space);
    }
}

impl Drop for AuditTrail {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Release);
        {
            // Under the flusher's lock, so the wake-up cannot fall between its check and its wait.
            let _idle = lock(&self.shared.idle);
            self.shared.queued.notify_all();
        }
        if let Some(flusher) = lock(&self.flusher).take() {
            let _ = flusher.join();
        }
        let mut appender = lock(&self.shared.appender);
        let _ = self.shared.write_queued(&mut appender);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One event's JSON fields, written straight from what the operation knows (the engine writes one
/// per operation, so it skips building an `AuditEvent` and serde's generic path): the same fields
/// in the same order, empty ones left out.
pub(crate) struct EventText<'a>(&'a mut String);

impl<'a> EventText<'a> {
    /// Begins an event in `text` (emptied first).
    pub(crate) fn new(text: &'a mut String, time: i64) -> Self {
        text.clear();
        text.push_str("\"time\":");
        text.push_str(itoa::Buffer::new().format(time));
        EventText(text)
    }

    pub(crate) fn field(&mut self, name: &str, value: &str) -> &mut Self {
        if value.is_empty() {
            return self;
        }
        self.0.push_str(",\"");
        self.0.push_str(name);
        self.0.push_str("\":");
        // No early exit, so the check runs over many bytes at once.
        let escaped = value.bytes().fold(false, |escaped, b| {
            escaped | !(0x20..0x7f).contains(&b) | (b == b'"') | (b == b'\\')
        });
        if escaped {
            self.0
                .push_str(&serde_json::to_string(value).unwrap_or_else(|_| "\"\"".to_owned()));
        } else {
            self.0.push('"');
            self.0.push_str(value);
            self.0.push('"');
        }
        self
    }

    /// An address, written without the formatting machinery for the usual IPv4 one.
    pub(crate) fn address(&mut self, name: &str, address: Option<std::net::IpAddr>) -> &mut Self {
        match address {
            Some(std::net::IpAddr::V4(v4)) => {
                self.0.push_str(",\"");
                self.0.push_str(name);
                self.0.push_str("\":\"");
                let mut octet = itoa::Buffer::new();
                for (n, part) in v4.octets().into_iter().enumerate() {
                    if n > 0 {
                        self.0.push('.');
                    }
                    self.0.push_str(octet.format(part));
                }
                self.0.push('"');
            }
            Some(address) => {
                let _ = std::fmt::Write::write_fmt(
                    &mut self.0,
                    format_args!(",\"{name}\":\"{address}\""),
                );
            }
            None => {}
        }
        self
    }
}

thread_local! {
    /// Each thread's buffer for the event it is writing (see `with_event_buffer`).
    static EVENT_BUFFER: std::cell::Cell<String> = const { std::cell::Cell::new(String::new()) };
}

/// Runs `write` with this thread's reused buffer for an event's text, so building one allocates
/// nothing once the thread has written its first.
pub(crate) fn with_event_buffer<R>(write: impl FnOnce(&mut String) -> R) -> R {
    let mut buffer = EVENT_BUFFER
        .try_with(std::cell::Cell::take)
        .unwrap_or_default();
    let result = write(&mut buffer);
    let _ = EVENT_BUFFER.try_with(|cell| cell.set(buffer));
    result
}

impl Shared {
    fn run_flusher(&self) {
        loop {
            {
                let mut idle = lock(&self.idle);
                // A wake-up sent while this was looking is caught within the timeout.
                while self.nothing_queued() && !self.stop.load(Ordering::Acquire) {
                    idle = self
                        .queued
                        .wait_timeout(idle, Duration::from_secs(1))
                        .unwrap_or_else(PoisonError::into_inner)
                        .0;
                }
            }
            if self.stop.load(Ordering::Acquire) {
                return;
            }
            // Gather what comes within the delay into one write.
            std::thread::sleep(FLUSH_DELAY);
            let mut appender = lock(&self.appender);
            if self.write_queued(&mut appender).is_err() {
                drop(appender);
                // A failing disk: try again later, not in a loop.
                std::thread::sleep(Duration::from_millis(200));
            }
        }
    }

    fn nothing_queued(&self) -> bool {
        self.shards
            .iter()
            .all(|shard| lock(&shard.0).batch.is_empty())
    }

    /// Writes everything queued up to and including `shard`'s `ticket` (and whatever else is
    /// queued).
    fn write_through(&self, shard: usize, ticket: u64) -> Result<(), AuditFailure> {
        let written_through = || lock(&self.shards[shard].0).written_through;
        let mut appender = lock(&self.appender);
        if written_through() >= ticket {
            return Ok(());
        }
        let written = self.write_queued(&mut appender);
        if written.is_err() && written_through() >= ticket {
            // The failure came after this event was written (a segment could not be begun).
            return Ok(());
        }
        written
    }

    fn write_queued(&self, appender: &mut Appender) -> Result<(), AuditFailure> {
        // Every shard's events, in shard order, and the last ticket each had queued.
        let mut last_tickets = [0u64; SHARDS];
        for (n, shard) in self.shards.iter().enumerate() {
            let mut queue = lock(&shard.0);
            last_tickets[n] = queue.next_ticket;
            appender.from_shards[n] = queue.batch.len();
            if !queue.batch.is_empty() {
                appender.writing.extend(&queue.batch);
                queue.batch.clear();
            }
        }
        if appender.writing.is_empty() {
            return if self.failed.load(Ordering::Acquire) {
                Err(AuditFailure(
                    lock(&self.last_failure).clone().unwrap_or_default(),
                ))
            } else {
                Ok(())
            };
        }
        let appended = appender.append(&self.keys);
        let written = match &appended {
            Ok(()) => appender.writing.len(),
            Err((written, _)) => *written,
        };
        // Tell each shard how far it was written; what was not waits, first in its line, for
        // the next write.
        let mut first = 0;
        for (n, shard) in self.shards.iter().enumerate() {
            let count = appender.from_shards[n];
            if count == 0 {
                continue;
            }
            let done = written.saturating_sub(first).min(count);
            let mut queue = lock(&shard.0);
            if done > 0 {
                queue.written_through = last_tickets[n] - (count - done) as u64;
            }
            if done < count {
                queue
                    .batch
                    .put_back(&appender.writing, first + done..first + count);
            }
            first += count;
        }
        appender.writing.clear();
        match appended {
            Ok(()) => {
                self.failed.store(false, Ordering::Release);
                appender.top_up_reserve(&self.low_space);
                Ok(())
            }
            Err((_, e)) => Err(self.fail(&e)),
        }
    }

    fn fail(&self, e: &std::io::Error) -> AuditFailure {
        let why = format!("the audit trail cannot be written: {e}");
        *lock(&self.last_failure) = Some(why.clone());
        self.failed.store(true, Ordering::Release);
        AuditFailure(why)
    }
}

impl Appender {
    /// Takes the trail's lock (the file stays open between appends: opening it for every batch
    /// cost a busy server more than writing the batch); `unlock_trail` gives it back.
    fn lock_trail(&mut self) -> std::io::Result<File> {
        let file = match self.lock_file.take() {
            Some(file) => file,
            None => {
                make_dir(&self.dir)?;
                private()
                    .create(true)
                    .truncate(false)
                    .write(true)
                    .open(self.dir.join("lock"))?
            }
        };
        let deadline = Instant::now() + LOCK_TIMEOUT;
        let mut pause = Duration::from_micros(100);
        let refused = loop {
            match file.try_lock() {
                Ok(()) => return Ok(file),
                Err(std::fs::TryLockError::WouldBlock) if Instant::now() < deadline => {
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(10));
                }
                Err(std::fs::TryLockError::WouldBlock) => {
                    break std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "another process held the audit trail's lock for 10 s",
                    );
                }
                Err(std::fs::TryLockError::Error(e)) => break e,
            }
        };
        self.lock_file = Some(file);
        Err(refused)
    }

    fn unlock_trail(&mut self, lock: File) {
        if lock.unlock().is_ok() {
            self.lock_file = Some(lock);
        }
        // Otherwise closing the file lets the lock go.
    }

    fn open_segment(&mut self, number: u32) -> std::io::Result<()> {
        let file = private()
            .create(true)
            .append(true)
            .read(true)
            .open(segment_path(&self.dir, number))?;
        self.segment = number;
        self.file = Some(file);
        self.known = false;
        self.reserve = 0;
        Ok(())
    }

    /// Finds the active segment and the chain's end in it (another process may have written or
    /// begun a segment since). Call with the trail's lock held.
    fn catch_up(&mut self) -> std::io::Result<()> {
        if self.file.is_none() {
            make_dir(&self.dir)?;
            let last = segments(&self.dir)?.last().map_or(1, |(n, _)| *n);
            self.open_segment(last)?;
        }
        while segment_path(&self.dir, self.segment + 1).exists() {
            self.open_segment(self.segment + 1)?;
        }
        let Some(file) = self.file.as_mut() else {
            return Err(std::io::Error::other("no segment is open"));
        };
        let len = file.metadata()?.len();
        if self.known && len == self.end {
            return Ok(());
        }
        let (end, chain) = read_tail(file, len)?;
        if end < len {
            // A write cut short by a crash left part of a line: it was never an event.
            file.set_len(end)?;
        }
        self.end = end;
        self.chain = match chain {
            Some(chain) => chain,
            None if self.segment > 1 => {
                let mut previous = File::open(segment_path(&self.dir, self.segment - 1))?;
                let len = previous.metadata()?.len();
                read_tail(&mut previous, len)?.1.unwrap_or(ChainEnd::START)
            }
            None => ChainEnd::START,
        };
        self.known = true;
        Ok(())
    }

    /// Appends the events of `writing`, each line chained to the one before; on failure, how many
    /// of them were written (whole lines only) and why the rest were not.
    fn append(&mut self, keys: &AuditKeys) -> Result<(), (usize, std::io::Error)> {
        let lock = self.lock_trail().map_err(|e| (0, e))?;
        let appended = match self.catch_up() {
            Ok(()) => {
                let batch = std::mem::take(&mut self.writing);
                let mut lines = std::mem::take(&mut self.lines);
                let appended = self.append_lines(keys, &batch, &mut lines);
                lines.clear();
                self.lines = lines;
                self.writing = batch;
                appended
            }
            Err(e) => Err((0, e)),
        };
        self.unlock_trail(lock);
        appended
    }

    fn append_lines(
        &mut self,
        keys: &AuditKeys,
        batch: &Batch,
        lines: &mut Vec<u8>,
    ) -> Result<(), (usize, std::io::Error)> {
        let mut chain = self.chain;
        let mut written = 0;
        lines.clear();
        let mut seq = itoa::Buffer::new();
        let mut hex = [0u8; 64];
        for (index, text) in batch.texts().enumerate() {
            let start = lines.len();
            chain.seq += 1;
            lines.extend_from_slice(b"{\"seq\":");
            lines.extend_from_slice(seq.format(chain.seq).as_bytes());
            lines.push(b',');
            lines.extend_from_slice(text);
            chain.mac = keys.line_mac(&chain.mac, &lines[start..]);
            keyconsole_base::util::hex_into(&chain.mac, &mut hex);
            lines.extend_from_slice(b",\"mac\":\"");
            lines.extend_from_slice(&hex);
            lines.extend_from_slice(b"\"}\n");
            let full = self.end + lines.len() as u64 >= self.segment_limit;
            if full || index + 1 == batch.len() {
                self.write_lines(lines, chain).map_err(|e| (written, e))?;
                written = index + 1;
                lines.clear();
                if full {
                    self.next_segment().map_err(|e| (written, e))?;
                }
            }
        }
        Ok(())
    }

    /// Appends whole lines whose last event is `chain`; on failure none of them stays.
    fn write_lines(&mut self, bytes: &[u8], chain: ChainEnd) -> std::io::Result<()> {
        if let Some(limit) = self.space_limit
            && self.end + bytes.len() as u64 > limit
        {
            return Err(std::io::Error::from_raw_os_error(libc::ENOSPC));
        }
        let Some(file) = self.file.as_mut() else {
            return Err(std::io::Error::other("no segment is open"));
        };
        if let Err(e) = file.write_all(bytes) {
            // Never leave part of a line: what was written of these goes.
            let _ = file.set_len(self.end);
            self.known = false;
            return Err(e);
        }
        self.end += bytes.len() as u64;
        self.reserve = self.reserve.saturating_sub(bytes.len() as u64);
        self.chain = chain;
        Ok(())
    }

    /// Closes the active segment: the next one continues the chain. Made under the trail's lock,
    /// so every process moves on to it at its next append.
    fn next_segment(&mut self) -> std::io::Result<()> {
        if let Some(file) = self.file.as_ref() {
            // What stays behind is final: keep no reserve past its end.
            let _ = file.set_len(self.end);
            file.sync_data()?;
        }
        private()
            .create_new(true)
            .append(true)
            .open(segment_path(&self.dir, self.segment + 1))?;
        let chain = self.chain;
        self.open_segment(self.segment + 1)?;
        self.end = 0;
        self.chain = chain;
        self.known = true;
        Ok(())
    }

    /// Keeps space allocated past the end so admitted operations' events fit on a full disk.
    fn top_up_reserve(&mut self, low_space: &AtomicBool) {
        if self.reserve >= RESERVE_LOW {
            low_space.store(false, Ordering::Release);
            return;
        }
        let allocated = match (&self.file, self.space_limit) {
            (Some(_), Some(limit)) => self.end + RESERVE_BYTES <= limit,
            (Some(file), None) => allocate_past_end(file, self.end, RESERVE_BYTES),
            (None, _) => true,
        };
        if allocated {
            self.reserve = RESERVE_BYTES;
        }
        low_space.store(!allocated, Ordering::Release);
    }
}

/// The trail names keys, secrets and users: readable by the keystore's owner only.
fn private() -> OpenOptions {
    use std::os::unix::fs::OpenOptionsExt;
    let mut options = OpenOptions::new();
    options.mode(0o600);
    options
}

fn make_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        other => other,
    }
}

/// Allocates `bytes` past `end` without changing the file's size; a file system that cannot
/// (no `fallocate`) counts as having the space.
fn allocate_past_end(file: &File, end: u64, bytes: u64) -> bool {
    use std::os::fd::AsRawFd;
    // SAFETY: fallocate on an open descriptor of ours, with in-range offsets.
    let done = unsafe {
        libc::fallocate(
            file.as_raw_fd(),
            libc::FALLOC_FL_KEEP_SIZE,
            end as libc::off_t,
            bytes as libc::off_t,
        )
    };
    if done == 0 {
        return true;
    }
    let errno = std::io::Error::last_os_error().raw_os_error();
    errno == Some(libc::EOPNOTSUPP) || errno == Some(libc::ENOSYS)
}

/// Where the last whole line of `file` (of length `len`) ends, and its chain end (`None` when
/// the segment holds no whole line).
fn read_tail(file: &mut File, len: u64) -> std::io::Result<(u64, Option<ChainEnd>)> {
    let mut window = 4096u64;
    loop {
        let start = len.saturating_sub(window);
        file.seek(SeekFrom::Start(start))?;
        let mut bytes = Vec::with_capacity((len - start) as usize);
        Read::by_ref(file)
            .take(len - start)
            .read_to_end(&mut bytes)?;
        let Some(last_newline) = bytes.iter().rposition(|&b| b == b'\n') else {
            if start == 0 {
                return Ok((0, None));
            }
            window *= 4;
            continue;
        };
        let end = start + last_newline as u64 + 1;
        let line_start = bytes[..last_newline]
            .iter()
            .rposition(|&b| b == b'\n')
            .map(|i| i + 1);
        let Some(line_start) = line_start.or((start == 0).then_some(0)) else {
            window *= 4;
            continue;
        };
        let line = &bytes[line_start..last_newline];
        return match parse_line_ends(line) {
            Some((seq, mac, _)) => Ok((end, Some(ChainEnd { seq, mac }))),
            None => Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "the audit trail's last event is damaged (run `keyconsole audit verify`)",
            )),
        };
    }
}

impl crate::Kms {
    /// This keystore's audit trail (`None` when turned off for a measurement).
    pub fn audit_trail(&self) -> Option<&AuditTrail> {
        self.audit.as_ref()
    }

    /// The trail's folder beside the keystore.
    pub fn audit_dir(&self) -> PathBuf {
        trail_dir(self.path())
    }

    /// Checks the whole trail against the head the keystore saved.
    pub fn verify_audit(&self) -> crate::Result<VerifyReport> {
        if let Some(trail) = &self.audit {
            // What this process queued is part of what is checked.
            let _ = trail.flush();
        }
        self.refresh()?;
        let ring = self.ring();
        self.verify_audit_in(&ring)
    }

    /// Checks the trail against what `ring` recorded of it (its head, and where it begins once
    /// pruned).
    fn verify_audit_in(&self, ring: &crate::keyring::Keyring) -> crate::Result<VerifyReport> {
        // The trail's own keys; derived afresh only when this process records none.
        let derived;
        let keys = match &self.audit {
            Some(trail) => trail.keys(),
            None => {
                derived = AuditKeys::from_secret(&self.audit_secret);
                &derived
            }
        };
        verify(
            &self.audit_dir(),
            keys,
            ring.audit_head.as_ref(),
            ring.audit_anchor.as_ref(),
        )
        .map_err(|e| audit_io_error(&self.audit_dir(), &e))
    }

    /// Prunes the trail: removes its oldest segments whose every event is older than `before`
    /// (never the segment being written), after checking the whole chain, and keeps in the
    /// keystore where the rest begins, so `verify` still checks every event left. Without
    /// `apply` it only says what would go. A broken trail is not pruned: it is evidence.
    pub fn prune_audit(&self, before: i64, apply: bool) -> crate::Result<AuditPrune> {
        if let Some(trail) = &self.audit {
            let _ = trail.flush();
        }
        // Checked and planned outside the writer's turn (reading a long trail takes seconds, and
        // a server's changes must not wait for it): the segments planned are closed, so only a
        // prune of another process can change the plan, and then this one is refused.
        self.refresh()?;
        let ring = self.ring();
        let planned = self.audit_prune_plan(&ring, before)?;
        let begun_at = ring.audit_anchor.clone();
        drop(ring);
        if !apply {
            return Ok(planned);
        }
        // The anchor is saved before any file goes, so a prune cut short leaves files `verify`
        // passes over, never a chain it cannot begin.
        let pruned = self
            .transact_if_needed(|ring, _| {
                if ring.audit_anchor != begun_at {
                    return Err(crate::KmsError::new(
                        crate::ErrorCode::FailedOperation,
                        keyconsole_base::text!("errors.audit_pruned_meanwhile"),
                    ));
                }
                match &planned.anchor {
                    Some(anchor) => {
                        ring.audit_anchor = Some(anchor.clone());
                        Ok(Some(planned.clone()))
                    }
                    None => Ok(None),
                }
            })?
            .unwrap_or_default();
        for path in &pruned.segments {
            std::fs::remove_file(path).map_err(|e| {
                crate::KmsError::new(
                    crate::ErrorCode::FileIo,
                    keyconsole_base::text!(
                        "errors.audit_segment_not_removed",
                        path = path.display(),
                        e = e
                    ),
                )
            })?;
        }
        if !pruned.segments.is_empty()
            && let Ok(dir) = File::open(self.audit_dir())
        {
            let _ = dir.sync_all();
        }
        Ok(pruned)
    }

    /// What a prune before `before` removes from the trail `ring` describes, once its whole chain
    /// is checked (a broken trail is refused).
    fn audit_prune_plan(
        &self,
        ring: &crate::keyring::Keyring,
        before: i64,
    ) -> crate::Result<AuditPrune> {
        let report = self.verify_audit_in(ring)?;
        if let Some(broken) = &report.broken {
            return Err(crate::KmsError::new(
                crate::ErrorCode::FailedOperation,
                keyconsole_base::text!("errors.audit_prune_refused_broken", place = broken),
            ));
        }
        // Whole segments from the oldest, all but the one being written.
        let closed = report.ends.len().saturating_sub(1);
        let gone: Vec<&verify::SegmentEnd> = report.ends[..closed]
            .iter()
            .take_while(|end| end.last.is_some_and(|(_, _, time)| time < before))
            .collect();
        let first_seq = report.pruned.as_ref().map_or(0, |a| a.seq) + 1;
        Ok(AuditPrune {
            segments: gone.iter().map(|end| end.path.clone()).collect(),
            events: gone
                .last()
                .and_then(|end| end.last)
                .map_or(0, |(seq, _, _)| seq + 1 - first_seq),
            bytes: gone.iter().map(|end| end.bytes).sum(),
            anchor: gone.last().and_then(|end| {
                let (seq, mac, time) = end.last?;
                Some(AuditAnchor {
                    first_segment: end.number + 1,
                    seq,
                    mac: keyconsole_base::util::hex(&mac),
                    time,
                    pruned_at: self.clock.now(),
                })
            }),
        })
    }

    /// The events `filter` matches, newest first.
    pub fn audit_events(&self, filter: &AuditFilter) -> crate::Result<Vec<AuditEvent>> {
        let every = AuditQuery {
            filter: filter.clone(),
            before: None,
            limit: 0,
        };
        self.audit_page(&every).map(|page| page.events)
    }

    /// One page of a lookup, newest first, reading no further back than it needs.
    pub fn audit_page(&self, query: &AuditQuery) -> crate::Result<AuditPage> {
        if let Some(trail) = &self.audit {
            let _ = trail.flush();
        }
        read_page(&self.audit_dir(), query).map_err(|e| audit_io_error(&self.audit_dir(), &e))
    }
}

/// What a prune removes (or removed): the segments' files, their events and bytes, and where the
/// trail then begins (`None` when nothing is old enough).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AuditPrune {
    pub segments: Vec<PathBuf>,
    pub events: u64,
    pub bytes: u64,
    pub anchor: Option<AuditAnchor>,
}

/// How far `credential_last_use` has read the trail, and what it found: each credential's
/// newest use (time, source address).
#[derive(Default)]
pub(crate) struct LastUseScan {
    segment: u32,
    offset: u64,
    found: std::collections::HashMap<String, (i64, String)>,
}

impl crate::Kms {
    /// Each API credential's newest use in the trail: read once, then only what was appended
    /// since the last call (so a users page that asks every refresh stays cheap).
    pub fn credential_last_use(&self) -> std::collections::HashMap<String, (i64, String)> {
        #[derive(Deserialize)]
        struct Use {
            #[serde(default)]
            credential: String,
            time: i64,
            #[serde(default)]
            source: String,
        }
        if let Some(trail) = &self.audit {
            let _ = trail.flush();
        }
        let mut scan = lock(&self.last_use);
        for (number, path) in segments(&self.audit_dir()).unwrap_or_default() {
            if number < scan.segment {
                continue;
            }
            if number > scan.segment {
                scan.segment = number;
                scan.offset = 0;
            }
            let Ok(mut file) = File::open(&path) else {
                break;
            };
            if file.seek(SeekFrom::Start(scan.offset)).is_err() {
                break;
            }
            let mut bytes = Vec::new();
            if file.read_to_end(&mut bytes).is_err() {
                break;
            }
            // Only whole lines: a line being written is read next time.
            let whole = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
            for line in bytes[..whole].split(|&b| b == b'\n') {
                if let Ok(used) = serde_json::from_slice::<Use>(line)
                    && !used.credential.is_empty()
                {
                    scan.found.insert(used.credential, (used.time, used.source));
                }
            }
            scan.offset += whole as u64;
        }
        scan.found.clone()
    }
}

fn audit_io_error(dir: &Path, e: &std::io::Error) -> crate::KmsError {
    crate::KmsError::new(
        crate::ErrorCode::FileIo,
        keyconsole_base::text!("errors.audit_read_failed", path = dir.display(), e = e),
    )
}
