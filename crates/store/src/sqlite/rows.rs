//! Reading SQLite rows into the core's values, checking each: a bad value is named by
//! table, column and row ([`StoreError::Corrupt`]), never a panic.

use jiff::Timestamp;
use jiff::civil::Date;
use karabakh_core::settings::rules::PostedDates;
use karabakh_core::settings::*;
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::StoreError;
use crate::values::*;

/// A rusqlite error while `doing`.
pub(crate) fn sql(doing: impl Into<String>) -> impl FnOnce(rusqlite::Error) -> StoreError {
    let doing = doing.into();
    move |source| StoreError::database(doing, source)
}

/// One server's settings and schedule. `+?1`, not `?1`: with the bare parameter,
/// SQLite's plan for this join depends on the bound value, so every bind expires the
/// cached statement and each read recompiled it (some 16 µs instead of 2 µs; the
/// HTTP endpoint reads this on every command from a server).
pub(crate) const READ_SETTINGS: &str =
    "SELECT g.visibility, g.visibility_changed_by, g.visibility_changed_at,
                    g.onthisday_channel_id, g.onthisday_time, g.onthisday_zone,
                    g.onthisday_changed_by, g.onthisday_changed_at,
                    s.next_local_date, s.next_run_at, s.paused_reason, s.paused_at,
                    s.guild_id IS NOT NULL, g.onthisday_empty_days
             FROM guild_settings g LEFT JOIN schedules s USING (guild_id)
             WHERE g.guild_id = +?1";

pub(crate) fn read_settings(conn: &Connection, guild_id: u64) -> Result<GuildSettings, StoreError> {
    let doing = || sql(format!("reading the settings of guild {guild_id}"));
    let mut st = conn.prepare_cached(READ_SETTINGS).map_err(doing())?;
    let raw = st
        .query_row([id_in(guild_id)], raw_settings)
        .optional()
        .map_err(doing())?;
    match raw {
        None => Ok(GuildSettings::default()),
        Some(raw) => raw.into_settings(guild_id),
    }
}

fn raw_settings(r: &Row<'_>) -> rusqlite::Result<RawSettings> {
    Ok(RawSettings {
        visibility: r.get(0)?,
        visibility_by: r.get(1)?,
        visibility_at: r.get(2)?,
        channel: r.get(3)?,
        time: r.get(4)?,
        zone: r.get(5)?,
        onthisday_by: r.get(6)?,
        onthisday_at: r.get(7)?,
        next_date: r.get(8)?,
        next_at: r.get(9)?,
        paused_reason: r.get(10)?,
        paused_at: r.get(11)?,
        has_schedule: r.get(12)?,
        empty_days: r.get(13)?,
    })
}

pub(crate) fn audit_trail(
    conn: &Connection,
    guild_id: u64,
    limit: usize,
) -> Result<Vec<AuditEntry>, StoreError> {
    let doing = || sql(format!("reading the audit trail of guild {guild_id}"));
    let mut st = conn
        .prepare_cached(
            "SELECT id, setting, old_value, new_value, user_id, at FROM audit_log
             WHERE guild_id = ?1 ORDER BY id DESC LIMIT ?2",
        )
        .map_err(doing())?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = st
        .query_map(params![id_in(guild_id), limit], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<i64>>(4)?,
                r.get::<_, i64>(5)?,
            ))
        })
        .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
        .map_err(doing())?;
    rows.into_iter()
        .map(|(id, setting, old_value, new_value, user, at)| {
            let row = format!("audit record {id}");
            Ok(AuditEntry {
                guild_id,
                setting: Setting::parse(&setting).ok_or_else(|| {
                    corrupt(
                        "audit_log",
                        "setting",
                        &row,
                        format!("`{setting}` is no setting"),
                    )
                })?,
                old_value,
                new_value,
                user_id: user.map(id_out),
                at: time_out("audit_log", "at", &row, at)?,
            })
        })
        .collect()
}

pub(crate) fn is_posted(conn: &Connection, guild_id: u64, date: Date) -> Result<bool, StoreError> {
    conn.prepare_cached(
        "SELECT sent_at IS NOT NULL FROM posts WHERE guild_id = ?1 AND local_date = ?2",
    )
    .and_then(|mut st| {
        st.query_row(params![id_in(guild_id), date.to_string()], |r| r.get(0))
            .optional()
    })
    .map(|sent| sent.unwrap_or(false))
    .map_err(sql(format!(
        "reading whether guild {guild_id} has its post for {date}"
    )))
}

/// The local dates posted for a server that a run at or after `at` could be for.
pub(crate) fn posted_dates(
    conn: &Connection,
    guild_id: u64,
    at: Timestamp,
) -> Result<PostedDates, StoreError> {
    let doing = || sql(format!("reading the posts of guild {guild_id}"));
    let since = PostedDates::since(at).to_string();
    let dates: Vec<String> = conn
        .prepare_cached(
            "SELECT local_date FROM posts
             WHERE guild_id = ?1 AND local_date >= ?2 AND sent_at IS NOT NULL",
        )
        .and_then(|mut st| {
            st.query_map(params![id_in(guild_id), since], |r| r.get(0))?
                .collect()
        })
        .map_err(doing())?;
    let row = guild_row(guild_id);
    dates
        .iter()
        .map(|d| date_out("posts", "local_date", &row, d))
        .collect()
}

/// A schedule's fence and the local date of its next run (paused or not), if the
/// server has one.
pub(crate) fn schedule_state(
    conn: &Connection,
    guild_id: u64,
) -> Result<Option<(i64, Option<Date>)>, StoreError> {
    let state: Option<(i64, Option<String>)> = conn
        .prepare_cached("SELECT fence, next_local_date FROM schedules WHERE guild_id = ?1")
        .and_then(|mut st| {
            st.query_row([id_in(guild_id)], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()
        })
        .map_err(sql(format!("reading the schedule of guild {guild_id}")))?;
    let row = guild_row(guild_id);
    state
        .map(|(fence, date)| {
            let date = date
                .map(|d| date_out("schedules", "next_local_date", &row, &d))
                .transpose()?;
            Ok((fence, date))
        })
        .transpose()
}

pub(crate) fn next_due_at(conn: &Connection) -> Result<Option<Timestamp>, StoreError> {
    let at: Option<i64> = conn
        .prepare_cached("SELECT min(due_at) FROM schedules WHERE paused_at IS NULL")
        .and_then(|mut st| st.query_row([], |r| r.get(0)))
        .map_err(sql("finding the next post due"))?;
    at.map(|ms| time_out("schedules", "due_at", "the soonest schedule", ms))
        .transpose()
}
