//! Reading a trail for people: the events that match a filter, newest first, and exports of
//! them as JSON Lines and CSV.

use std::io::{BufRead, BufReader};
use std::path::Path;

use super::{AuditEvent, segments};

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
    let mut events = Vec::new();
    for (_, path) in segments(dir)? {
        let reader = BufReader::with_capacity(1 << 20, std::fs::File::open(&path)?);
        for line in reader.split(b'\n') {
            let line = line?;
            if let Ok(event) = serde_json::from_slice::<AuditEvent>(&line)
                && filter.matches(&event)
            {
                events.push(event);
            }
        }
    }
    events.reverse();
    Ok(events)
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
    /// How many events match in all.
    pub total: usize,
}

/// The page `query` asks of `events` (newest first, all matching its filter).
pub fn page_of(events: Vec<AuditEvent>, query: &AuditQuery) -> AuditPage {
    let total = events.len();
    let mut page: Vec<AuditEvent> = events
        .into_iter()
        .filter(|e| query.before.is_none_or(|b| e.seq < b))
        .collect();
    let mut next = None;
    if query.limit > 0 && page.len() > query.limit {
        page.truncate(query.limit);
        next = page.last().map(|e| e.seq);
    }
    AuditPage {
        events: page,
        next,
        total,
    }
}
