//! Formatting shared by the faces.

use time::OffsetDateTime;
use time::macros::format_description;

use super::i18n::Language;

/// A Unix time in the form of this thread's language: `2026-11-22 11:02:13 UTC`,
/// `2026年11月22日 11:02:13 UTC`; 0 (never) as `-`.
pub fn format_time(unix: i64) -> String {
    if unix == 0 {
        return "-".to_owned();
    }
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            match super::i18n::current() {
                Language::English => t.format(format_description!(
                    "[year]-[month]-[day] [hour]:[minute]:[second] UTC"
                )),
                Language::SimplifiedChinese => t.format(format_description!(
                    "[year]年[month padding:none]月[day padding:none]日 [hour]:[minute]:[second] UTC"
                )),
            }
            .ok()
        })
        .unwrap_or_else(|| unix.to_string())
}

/// A Unix time as the cloud's APIs write times in text (`2006-01-02 15:04:05`, here in UTC);
/// 0 (never) as an empty string.
pub fn format_api_time(unix: i64) -> String {
    if unix == 0 {
        return String::new();
    }
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(format_description!(
                "[year]-[month]-[day] [hour]:[minute]:[second]"
            ))
            .ok()
        })
        .unwrap_or_default()
}

/// Reads `2006-01-02 15:04:05` (UTC) as a Unix time.
pub fn parse_api_time(text: &str) -> Option<i64> {
    time::PrimitiveDateTime::parse(
        text.trim(),
        format_description!("[year]-[month]-[day] [hour]:[minute]:[second]"),
    )
    .ok()
    .map(|t| t.assume_utc().unix_timestamp())
}

#[cfg(test)]
mod api_time_tests {
    #[test]
    fn api_times_read_back() {
        assert_eq!(super::format_api_time(1_700_000_000), "2023-11-14 22:13:20");
        assert_eq!(
            super::parse_api_time("2023-11-14 22:13:20"),
            Some(1_700_000_000)
        );
        assert_eq!(super::format_api_time(0), "");
        assert_eq!(super::parse_api_time("14/11/2023"), None);
    }
}
