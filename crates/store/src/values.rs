//! The stored form of the core's values, read back and checked the same way by every
//! backend: a bad value is named by table, column and row ([`StoreError::Corrupt`]),
//! never a panic. Ids (u64) are kept bit for bit in signed 64-bit integers, times as
//! Unix milliseconds, local dates as `YYYY-MM-DD` text.

use jiff::Timestamp;
use jiff::civil::Date;
use karabakh_core::settings::*;

use crate::StoreError;

/// A Discord id (u64) kept bit for bit in SQLite's signed 64-bit integer.
pub(crate) fn id_in(id: u64) -> i64 {
    id as i64
}

pub(crate) fn id_out(v: i64) -> u64 {
    v as u64
}

pub(crate) fn corrupt(
    table: &'static str,
    column: &'static str,
    row: impl Into<String>,
    reason: impl std::fmt::Display,
) -> StoreError {
    StoreError::Corrupt {
        table,
        column,
        row: row.into(),
        reason: reason.to_string(),
    }
}

pub(crate) fn time_out(
    table: &'static str,
    column: &'static str,
    row: &str,
    ms: i64,
) -> Result<Timestamp, StoreError> {
    Timestamp::from_millisecond(ms).map_err(|e| corrupt(table, column, row, e))
}

pub(crate) fn date_out(
    table: &'static str,
    column: &'static str,
    row: &str,
    s: &str,
) -> Result<Date, StoreError> {
    s.parse()
        .map_err(|e| corrupt(table, column, row, format!("`{s}` is not a date: {e}")))
}

pub(crate) fn guild_row(guild_id: u64) -> String {
    format!("guild {guild_id}")
}

/// The daily post as stored: three columns, all set or none, and whether empty days
/// are posted (read only when the post is set).
pub(crate) fn onthisday_out(
    row: &str,
    channel: Option<i64>,
    time: Option<String>,
    zone: Option<String>,
    empty_days: bool,
) -> Result<Option<OnThisDay>, StoreError> {
    const T: &str = "guild_settings";
    match (channel, time, zone) {
        (None, None, None) => Ok(None),
        (Some(channel), Some(time), Some(zone)) => Ok(Some(OnThisDay {
            channel_id: id_out(channel),
            time: PostTime::parse(&time).map_err(|e| corrupt(T, "onthisday_time", row, e))?,
            zone: TimeZoneName::parse(&zone).map_err(|e| {
                corrupt(
                    T,
                    "onthisday_zone",
                    row,
                    format!("{e} (was the zone dropped from a newer tzdb?)"),
                )
            })?,
            post_empty_days: empty_days,
        })),
        _ => Err(corrupt(
            T,
            "onthisday_channel_id",
            row,
            "channel, time and zone must be all set or all empty",
        )),
    }
}

pub(crate) fn changed_out(
    column: &'static str,
    row: &str,
    by: Option<i64>,
    at: Option<i64>,
) -> Result<Option<LastChange>, StoreError> {
    match (by, at) {
        (Some(by), Some(at)) => Ok(Some(LastChange {
            user_id: id_out(by),
            at: time_out("guild_settings", column, row, at)?,
        })),
        (None, None) => Ok(None),
        _ => Err(corrupt(
            "guild_settings",
            column,
            row,
            "who and when must be both set or both empty",
        )),
    }
}

/// One row of `guild_settings` joined with its schedule, as a database returns it.
pub(crate) struct RawSettings {
    pub(crate) visibility: String,
    pub(crate) visibility_by: Option<i64>,
    pub(crate) visibility_at: Option<i64>,
    pub(crate) channel: Option<i64>,
    pub(crate) time: Option<String>,
    pub(crate) zone: Option<String>,
    pub(crate) onthisday_by: Option<i64>,
    pub(crate) onthisday_at: Option<i64>,
    pub(crate) next_date: Option<String>,
    pub(crate) next_at: Option<i64>,
    pub(crate) paused_reason: Option<String>,
    pub(crate) paused_at: Option<i64>,
    pub(crate) has_schedule: bool,
    pub(crate) empty_days: bool,
}

impl RawSettings {
    pub(crate) fn into_settings(self, guild_id: u64) -> Result<GuildSettings, StoreError> {
        let row = guild_row(guild_id);
        let visibility = Visibility::parse(&self.visibility)
            .map_err(|e| corrupt("guild_settings", "visibility", &row, e))?;
        let onthisday = onthisday_out(&row, self.channel, self.time, self.zone, self.empty_days)?;
        if onthisday.is_some() != self.has_schedule {
            return Err(corrupt(
                "schedules",
                "guild_id",
                &row,
                "a daily post without a schedule, or a schedule without a daily post",
            ));
        }
        let paused = match (self.paused_reason, self.paused_at) {
            (Some(reason), Some(at)) => Some(Paused {
                reason,
                at: time_out("schedules", "paused_at", &row, at)?,
            }),
            _ => None,
        };
        let next_post = match (&paused, self.next_date, self.next_at) {
            (None, Some(date), Some(at)) => Some(Run {
                date: date_out("schedules", "next_local_date", &row, &date)?,
                at: time_out("schedules", "next_run_at", &row, at)?,
            }),
            _ => None,
        };
        Ok(GuildSettings {
            onthisday,
            visibility,
            paused,
            next_post,
            onthisday_changed: changed_out(
                "onthisday_changed_at",
                &row,
                self.onthisday_by,
                self.onthisday_at,
            )?,
            visibility_changed: changed_out(
                "visibility_changed_at",
                &row,
                self.visibility_by,
                self.visibility_at,
            )?,
        })
    }
}
