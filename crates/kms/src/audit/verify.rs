//! Checking a trail: every segment present and in order, every event numbered one after the
//! other, every MAC chained to the one before, and the chain reaching the head the keystore saved.
//! A pruned trail begins where the keystore's anchor says: the first segment kept, chained to
//! the last event removed.

use std::io::{BufRead, BufReader};
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{AuditKeys, ChainEnd, parse_line_ends, segments};

/// The chain's end as the keystore saved it: the last event's number and MAC (hex).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditHead {
    pub seq: u64,
    pub mac: String,
}

/// Where a pruned trail begins, as the keystore keeps it: the first segment kept, the number, MAC
/// (hex) and time of the last event removed, and when they were removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditAnchor {
    pub first_segment: u32,
    pub seq: u64,
    pub mac: String,
    pub time: i64,
    pub pruned_at: i64,
}

/// One segment as a check found it: its number and file, its last event's number, MAC and time
/// (`None` for a segment with no whole line), and its size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SegmentEnd {
    pub number: u32,
    pub path: std::path::PathBuf,
    pub last: Option<(u64, [u8; 32], i64)>,
    pub bytes: u64,
}

/// Where a chain breaks: the segment's file name, the line in it (from 1), the event number
/// expected there, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditBreak {
    pub segment: String,
    pub line: u64,
    pub seq: u64,
    pub why: String,
}

impl std::fmt::Display for AuditBreak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.segment, self.why)
        } else {
            write!(
                f,
                "{} line {} (event {}): {}",
                self.segment, self.line, self.seq, self.why
            )
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    pub events: u64,
    pub segments: u32,
    pub broken: Option<AuditBreak>,
    /// Set when older events were pruned: where the checked chain began.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pruned: Option<AuditAnchor>,
    /// Each segment checked, in order (for pruning).
    #[serde(skip)]
    pub(crate) ends: Vec<SegmentEnd>,
}

impl VerifyReport {
    pub fn is_intact(&self) -> bool {
        self.broken.is_none()
    }
}

/// Checks the trail in `dir` with `keys` against the keystore's `head`, from its `anchor` when
/// older events were pruned.
pub fn verify(
    dir: &Path,
    keys: &AuditKeys,
    head: Option<&AuditHead>,
    anchor: Option<&AuditAnchor>,
) -> std::io::Result<VerifyReport> {
    let mut found = segments(dir)?;
    let first = anchor.map_or(1, |a| a.first_segment);
    // Segments before the anchor were pruned (one left behind by a prune cut short is not read).
    found.retain(|(number, _)| *number >= first);
    let mut report = VerifyReport {
        events: 0,
        segments: found.len() as u32,
        broken: None,
        pruned: anchor.cloned(),
        ends: Vec::with_capacity(found.len()),
    };
    let mut chain = ChainEnd::START;
    if let Some(anchor) = anchor {
        let Some(mac) = mac_from_hex(&anchor.mac) else {
            report.broken = Some(AuditBreak {
                segment: format!("{first:06}.jsonl"),
                line: 0,
                seq: anchor.seq + 1,
                why: "the keystore's record of where the pruned trail begins is damaged".to_owned(),
            });
            return Ok(report);
        };
        chain = ChainEnd {
            seq: anchor.seq,
            mac,
        };
    }
    // A head recorded before the last events went (the segment written to had just begun).
    let mut head_seen = head.is_some_and(|h| {
        h.seq == chain.seq && h.seq > 0 && keyconsole_base::util::hex(&chain.mac) == h.mac
    });
    let last_index = found.len().saturating_sub(1);
    let mut last_name = String::new();
    for (index, (number, path)) in found.iter().enumerate() {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        last_name = name.clone();
        let expected_number = first + index as u32;
        if *number != expected_number {
            report.broken = Some(AuditBreak {
                segment: format!("{expected_number:06}.jsonl"),
                line: 0,
                seq: chain.seq + 1,
                why: format!(
                    "this segment is missing (the next one on disk is {name}); events from {} on cannot be checked",
                    chain.seq + 1
                ),
            });
            return Ok(report);
        }
        let mut last_text = Vec::new();
        let mut end = SegmentEnd {
            number: *number,
            path: path.clone(),
            last: None,
            bytes: 0,
        };
        let mut reader = BufReader::with_capacity(1 << 20, std::fs::File::open(path)?);
        let mut line = Vec::with_capacity(512);
        let mut line_number = 0u64;
        loop {
            line.clear();
            if reader.read_until(b'\n', &mut line)? == 0 {
                break;
            }
            line_number += 1;
            let at = |why: String, seq: u64| AuditBreak {
                segment: name.clone(),
                line: line_number,
                seq,
                why,
            };
            if line.last() != Some(&b'\n') {
                if index == last_index {
                    // A write cut short by a crash; the next append removes it.
                    break;
                }
                report.broken = Some(at("the line is incomplete".to_owned(), chain.seq + 1));
                return Ok(report);
            }
            let text = &line[..line.len() - 1];
            let Some((seq, mac, text_len)) = parse_line_ends(text) else {
                report.broken = Some(at(
                    "this is not an event of the trail (the line was altered)".to_owned(),
                    chain.seq + 1,
                ));
                return Ok(report);
            };
            let expected = chain.seq + 1;
            if seq != expected {
                let why = if seq > expected {
                    if seq == expected + 1 {
                        format!("event {expected} is missing (deleted)")
                    } else {
                        format!("events {expected} to {} are missing (deleted)", seq - 1)
                    }
                } else {
                    format!(
                        "event {seq} comes again or out of order (lines or segments were moved)"
                    )
                };
                report.broken = Some(at(why, expected));
                return Ok(report);
            }
            if keys.line_mac(&chain.mac, &text[..text_len]) != mac {
                report.broken = Some(at(
                    "its MAC does not match: the event was altered".to_owned(),
                    seq,
                ));
                return Ok(report);
            }
            chain = ChainEnd { seq, mac };
            report.events += 1;
            end.bytes += line.len() as u64;
            end.last = Some((seq, mac, 0));
            last_text.clear();
            last_text.extend_from_slice(text);
            if let Some(head) = head
                && head.seq == seq
            {
                head_seen = true;
                if keyconsole_base::util::hex(&mac) != head.mac {
                    report.broken = Some(at(
                        "this is not the event the keystore recorded as the trail's head"
                            .to_owned(),
                        seq,
                    ));
                    return Ok(report);
                }
            }
        }
        // The time of a segment's last event (a line that does not say counts as never old).
        if let Some((_, _, time)) = &mut end.last {
            *time = event_time(&last_text).unwrap_or(i64::MAX);
        }
        report.ends.push(end);
    }
    if let Some(head) = head
        && head.seq > 0
        && !head_seen
    {
        let segment = if last_name.is_empty() {
            "(no segment)".to_owned()
        } else {
            last_name
        };
        report.broken = Some(AuditBreak {
            segment,
            line: 0,
            seq: chain.seq + 1,
            why: format!(
                "the trail ends at event {} but the keystore recorded event {} as written: its tail was cut off or deleted",
                chain.seq, head.seq
            ),
        });
    }
    Ok(report)
}

/// An event line's `time` (Unix seconds).
fn event_time(line: &[u8]) -> Option<i64> {
    #[derive(Deserialize)]
    struct Time {
        time: i64,
    }
    serde_json::from_slice::<Time>(line).ok().map(|t| t.time)
}

/// 32 bytes from 64 hex digits.
fn mac_from_hex(text: &str) -> Option<[u8; 32]> {
    let bytes = text.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut mac = [0u8; 32];
    for (i, pair) in bytes.chunks(2).enumerate() {
        let digit = |b: u8| (b as char).to_digit(16);
        mac[i] = (digit(pair[0])? * 16 + digit(pair[1])?) as u8;
    }
    Some(mac)
}
