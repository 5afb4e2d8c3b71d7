//! Reading a trail for people: the events that match a filter, newest first, and exports of
//! them as JSON Lines and CSV.

use std::path::Path;

use super::{AuditEvent, parse_line_ends, segments};

/// Which events to show; empty fields match everything. `text` is looked for in every field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub since: Option<i64>,
    pub until: Option<i64>,
    pub user: Option<String>,
    pub action: Option<String>,
    /// A KeyId, alias or secret name (or part of one).
    pub resource: Option<String>,
    /// `Some(true)`: successes only; `Some(false)`: failures only.
    pub succeeded: Option<bool>,
    pub text: Option<String>,
    /// Exact matches, as CloudAudit's lookup attributes ask them.
    pub event_name: Option<String>,
    pub request_id: Option<String>,
    pub credential: Option<String>,
    pub source: Option<String>,
    /// The outcome exactly (`Success` or the engine's code), as CloudAudit's `ApiErrorCode`
    /// asks it.
    pub outcome: Option<String>,
}

fn nonempty(o: &Option<String>) -> Option<&str> {
    o.as_deref().filter(|s| !s.trim().is_empty())
}

/// Whether `needle` is in `haystack`, ASCII letters in either case. Nothing is allocated: a
/// search runs this for every field of every event (13 × 100,000 on the console's page).
fn contains_folded(haystack: &str, needle: &str) -> bool {
    let (haystack, needle) = (haystack.as_bytes(), needle.as_bytes());
    needle.is_empty()
        || haystack
            .windows(needle.len())
            .any(|window| window.eq_ignore_ascii_case(needle))
}

impl AuditFilter {
    pub fn matches(&self, event: &AuditEvent) -> bool {
        self.since.is_none_or(|t| event.time >= t)
            && self.until.is_none_or(|t| event.time <= t)
            && nonempty(&self.user).is_none_or(|u| event.user.eq_ignore_ascii_case(u.trim()))
            && nonempty(&self.action).is_none_or(|a| contains_folded(&event.action, a.trim()))
            && nonempty(&self.resource).is_none_or(|r| {
                let r = r.trim();
                contains_folded(&event.key_id, r)
                    || contains_folded(&event.alias, r)
                    || contains_folded(&event.secret, r)
                    || contains_folded(&event.target, r)
            })
            && self.succeeded.is_none_or(|s| event.succeeded() == s)
            && nonempty(&self.event_name).is_none_or(|a| event.action == a)
            && nonempty(&self.request_id).is_none_or(|r| event.request_id == r)
            && nonempty(&self.credential).is_none_or(|c| event.credential == c)
            && nonempty(&self.source).is_none_or(|s| event.source == s)
            && nonempty(&self.outcome).is_none_or(|o| event.outcome == o)
            && nonempty(&self.text).is_none_or(|t| {
                let t = t.trim();
                [
                    &event.user,
                    &event.face,
                    &event.dialect,
                    &event.source,
                    &event.action,
                    &event.key_id,
                    &event.alias,
                    &event.secret,
                    &event.version,
                    &event.target,
                    &event.outcome,
                    &event.request_id,
                    &event.credential,
                ]
                .iter()
                .any(|field| contains_folded(field, t))
            })
    }
}

/// The events of the trail in `dir` that `filter` matches, newest first (lines that are not
/// events are skipped: `verify` is what reports them).
pub fn read_events(dir: &Path, filter: &AuditFilter) -> std::io::Result<Vec<AuditEvent>> {
    let every = AuditQuery {
        filter: filter.clone(),
        before: None,
        limit: 0,
    };
    read_page(dir, &every).map(|page| page.events)
}

fn iso_time(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| unix.to_string())
}

/// The events as JSON Lines, each with its time also in RFC 3339 (`time_utc`).
pub fn to_jsonl(events: &[AuditEvent]) -> String {
    let mut out = String::with_capacity(events.len() * 320);
    for event in events {
        if let Ok(serde_json::Value::Object(mut object)) = serde_json::to_value(event) {
            object.insert(
                "time_utc".to_owned(),
                serde_json::Value::String(iso_time(event.time)),
            );
            out.push_str(&serde_json::Value::Object(object).to_string());
            out.push('\n');
        }
    }
    out
}

const CSV_COLUMNS: [&str; 16] = [
    "seq",
    "time_utc",
    "user",
    "face",
    "dialect",
    "credential",
    "source",
    "action",
    "key_id",
    "alias",
    "secret",
    "version",
    "target",
    "outcome",
    "request_id",
    "context_hmac",
];

/// A CSV field: quoted when it must be, and never read as a formula by a spreadsheet.
fn csv_field(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

/// The events as CSV with a header row.
pub fn to_csv(events: &[AuditEvent]) -> String {
    let mut out = CSV_COLUMNS.join(",");
    out.push_str("\r\n");
    for e in events {
        let fields = [
            e.seq.to_string(),
            iso_time(e.time),
            e.user.clone(),
            e.face.clone(),
            e.dialect.clone(),
            e.credential.clone(),
            e.source.clone(),
            e.action.clone(),
            e.key_id.clone(),
            e.alias.clone(),
            e.secret.clone(),
            e.version.clone(),
            e.target.clone(),
            e.outcome.clone(),
            e.request_id.clone(),
            e.context_hmac.clone(),
        ];
        let row: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&row.join(","));
        out.push_str("\r\n");
    }
    out
}

/// A time as a person gives one to a filter: Unix seconds, `2026-12-04`, `2026-12-04 06:30:00`
/// (UTC), or an age (`30m`, `12h`, `7d`) before `now`.
pub fn parse_time_bound(text: &str, now: i64) -> Option<i64> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if let Ok(unix) = text.parse::<i64>() {
        return Some(unix);
    }
    for (suffix, unit) in [("m", 60), ("h", 3600), ("d", 86_400)] {
        if let Some(n) = text
            .strip_suffix(suffix)
            .and_then(|n| n.parse::<i64>().ok())
        {
            return Some(now - n * unit);
        }
    }
    if let Some(t) = keyconsole_base::util::time::parse_api_time(text) {
        return Some(t);
    }
    keyconsole_base::util::time::parse_api_time(&format!("{text} 00:00:00"))
}

/// One page of a lookup, newest first: events with `seq` below `before` (all when `None`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    pub filter: AuditFilter,
    pub before: Option<u64>,
    /// At most this many (0: all).
    pub limit: usize,
}

/// A page of events and where the next one starts (`None`: this was the last).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditPage {
    pub events: Vec<AuditEvent>,
    pub next: Option<u64>,
}

/// The page `query` asks of the trail in `dir`, newest first. Each segment is read from its end
/// back, newest segment first, and no further than the page needs: the newest 50 events cost
/// the reading of 50 lines (and of what the filter passes over), not of the whole trail. Lines at
/// or after `before` are passed over without being parsed.
pub fn read_page(dir: &Path, query: &AuditQuery) -> std::io::Result<AuditPage> {
    let mut events = Vec::new();
    let enough = |found: usize| query.limit > 0 && found > query.limit;
    'segments: for (_, path) in segments(dir)?.into_iter().rev() {
        let mut lines = LinesBackward::open(&path)?;
        while let Some(line) = lines.next_line()? {
            if let Some(before) = query.before
                && parse_line_ends(line).is_some_and(|(seq, _, _)| seq >= before)
            {
                continue;
            }
            if let Ok(event) = serde_json::from_slice::<AuditEvent>(line)
                && query.before.is_none_or(|before| event.seq < before)
                && query.filter.matches(&event)
            {
                events.push(event);
                if enough(events.len()) {
                    break 'segments;
                }
            }
        }
    }
    let mut next = None;
    if enough(events.len()) {
        events.truncate(query.limit);
        next = events.last().map(|e| e.seq);
    }
    Ok(AuditPage { events, next })
}

/// A file's lines, last first, read back from its end a chunk at a time (a torn last line, one
/// without its newline, comes first as it is).
struct LinesBackward {
    file: std::fs::File,
    /// Where in the file `pending` begins.
    at: u64,
    /// Bytes from `at` up to the end of what was not yet returned.
    pending: Vec<u8>,
    /// The line returned last (its bytes stay valid until the next call).
    line: Vec<u8>,
}

impl LinesBackward {
    const CHUNK: u64 = 1 << 20;

    fn open(path: &Path) -> std::io::Result<Self> {
        let file = std::fs::File::open(path)?;
        let at = file.metadata()?.len();
        Ok(LinesBackward {
            file,
            at,
            pending: Vec::new(),
            line: Vec::new(),
        })
    }

    fn next_line(&mut self) -> std::io::Result<Option<&[u8]>> {
        use std::io::{Read, Seek, SeekFrom};
        loop {
            // The newline that ends the line to return is not part of it.
            let end = self.pending.len() - usize::from(self.pending.last() == Some(&b'\n'));
            if let Some(start) = self.pending[..end].iter().rposition(|&b| b == b'\n') {
                self.line.clear();
                self.line.extend_from_slice(&self.pending[start + 1..end]);
                self.pending.truncate(start + 1);
                return Ok(Some(&self.line));
            }
            if self.at == 0 {
                if self.pending.is_empty() {
                    return Ok(None);
                }
                self.line.clear();
                self.line.extend_from_slice(&self.pending[..end]);
                self.pending.clear();
                return Ok(Some(&self.line));
            }
            let size = self.at.min(Self::CHUNK);
            self.at -= size;
            let mut chunk = vec![0u8; size as usize];
            self.file.seek(SeekFrom::Start(self.at))?;
            self.file.read_exact(&mut chunk)?;
            chunk.extend_from_slice(&self.pending);
            self.pending = chunk;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::LinesBackward;

    fn backward(bytes: &[u8]) -> Vec<Vec<u8>> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lines");
        std::fs::write(&path, bytes).unwrap();
        let mut lines = LinesBackward::open(&path).unwrap();
        let mut out = Vec::new();
        while let Some(line) = lines.next_line().unwrap() {
            out.push(line.to_vec());
        }
        out
    }

    /// Lines come last first, whole across the 1 MiB chunks they are read in; a torn last line
    /// comes first as it is; an empty file has none.
    #[test]
    fn lines_come_back_last_first_across_chunks() {
        let mut text = Vec::new();
        let mut expected = Vec::new();
        for i in 0..40_000u32 {
            let line = format!("{i}:{}", "x".repeat((i as usize * 7919) % 300));
            text.extend_from_slice(line.as_bytes());
            text.push(b'\n');
            expected.push(line.into_bytes());
        }
        assert!(text.len() > 2 << 20, "{} bytes", text.len());
        expected.reverse();
        assert!(
            backward(&text) == expected,
            "the lines of a 2 MiB+ file, last first"
        );

        text.extend_from_slice(b"torn");
        expected.insert(0, b"torn".to_vec());
        assert!(backward(&text) == expected, "a torn last line first");
        assert!(backward(b"").is_empty());
        assert_eq!(backward(b"\n"), vec![Vec::<u8>::new()]);
    }
}
