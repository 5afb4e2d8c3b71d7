//! Formatting shared by the faces.

use time::OffsetDateTime;
use time::macros::format_description;

/// A Unix time as `2026-11-22 11:02:13 UTC`; 0 (never) as `-`.
pub fn format_time(unix: i64) -> String {
    if unix == 0 {
        return "-".to_owned();
    }
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(format_description!(
                "[year]-[month]-[day] [hour]:[minute]:[second] UTC"
            ))
            .ok()
        })
        .unwrap_or_else(|| unix.to_string())
}
