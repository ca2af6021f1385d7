//! Values for tests, shared by every crate's tests (feature `test-support`): one
//! spelling of "this instant" and "this daily post" instead of a copy per test file.

use jiff::Timestamp;

use crate::settings::{OnThisDay, PostTime, TimeZoneName};

/// An instant written in RFC 3339 (`2024-03-01T06:30:00Z`).
pub fn ts(s: &str) -> Timestamp {
    s.parse()
        .unwrap_or_else(|e| panic!("`{s}` is not a timestamp: {e}"))
}

/// A daily post in `channel_id` at `time` (HH:MM) in `zone`, empty days skipped.
pub fn otd(channel_id: u64, time: &str, zone: &str) -> OnThisDay {
    OnThisDay {
        channel_id,
        time: PostTime::parse(time).unwrap_or_else(|e| panic!("{e}")),
        zone: TimeZoneName::parse(zone).unwrap_or_else(|e| panic!("{e}")),
        post_empty_days: false,
    }
}
