//! The SQLite writes: each function runs inside the writer's transaction, reads the
//! current state, asks the core's rules ([`karabakh_core::settings::rules`],
//! [`karabakh_core::lease`]) what to do, and stores exactly that.

use std::time::Duration;

use jiff::Timestamp;
use karabakh_core::lease;
use karabakh_core::settings::rules::{self, Applied, ScheduleChange};
use karabakh_core::settings::*;
use rusqlite::{Connection, OptionalExtension, params};

use super::rows::*;
use crate::values::*;
use crate::{Lease, StoreError};

/// Applies a moderator's change; returns the settings after it.
pub(crate) fn apply(
    tx: &Connection,
    guild_id: u64,
    change: &Change,
    user_id: u64,
    at: Timestamp,
) -> Result<GuildSettings, StoreError> {
    let old = read_settings(tx, guild_id)?;
    let posted = posted_dates(tx, guild_id, at)?;
    let applied = rules::apply(guild_id, &old, change, user_id, at, &posted)
        .map_err(StoreError::schedule(guild_id))?;
    if !applied.writes() {
        return Ok(old);
    }
    store_applied(tx, guild_id, &applied)?;
    read_settings(tx, guild_id)
}

fn store_applied(tx: &Connection, guild_id: u64, applied: &Applied) -> Result<(), StoreError> {
    write_settings(tx, guild_id, &applied.settings)?;
    match applied.schedule {
        ScheduleChange::Keep => {}
        ScheduleChange::Remove => {
            tx.execute(
                "DELETE FROM schedules WHERE guild_id = ?1",
                [id_in(guild_id)],
            )
            .map_err(sql(format!("removing the schedule of guild {guild_id}")))?;
        }
        ScheduleChange::Start(run) => start_schedule(tx, guild_id, run)?,
    }
    for entry in &applied.audit {
        audit(tx, entry)?;
    }
    Ok(())
}

/// (Re)starts a schedule at `run`: not paused, not leased, with a new fence (a lease
/// held on it before is lost).
fn start_schedule(tx: &Connection, guild_id: u64, run: Run) -> Result<(), StoreError> {
    let fence = take_fences(tx, 1)?;
    tx.prepare_cached(
        "INSERT INTO schedules (guild_id, next_local_date, next_run_at, due_at, fence)
         VALUES (?1, ?2, ?3, ?3, ?4)
         ON CONFLICT (guild_id) DO UPDATE SET
             next_local_date = excluded.next_local_date,
             next_run_at = excluded.next_run_at,
             due_at = excluded.due_at,
             fence = excluded.fence,
             paused_reason = NULL, paused_at = NULL,
             lease_owner = NULL, lease_until = NULL",
    )
    .and_then(|mut st| {
        st.execute(params![
            id_in(guild_id),
            run.date.to_string(),
            run.at.as_millisecond(),
            fence
        ])
    })
    .map_err(sql(format!(
        "scheduling the daily post of guild {guild_id}"
    )))?;
    Ok(())
}

/// Reserves `n` new fences; returns the first (the others follow it). Fences are
/// never reused, even when a schedule is removed and set again.
fn take_fences(tx: &Connection, n: i64) -> Result<i64, StoreError> {
    let last: i64 = tx
        .prepare_cached("UPDATE lease_fences SET last = last + ?1 WHERE one = 1 RETURNING last")
        .and_then(|mut st| st.query_row([n], |r| r.get(0)))
        .map_err(sql("taking lease fences"))?;
    Ok(last - n + 1)
}

/// Moves a schedule to `run` and ends any lease on it (its fence is spent).
fn set_next_run(tx: &Connection, guild_id: u64, run: Run) -> Result<(), StoreError> {
    let fence = take_fences(tx, 1)?;
    tx.prepare_cached(
        "UPDATE schedules SET next_local_date = ?2, next_run_at = ?3, due_at = ?3,
                              lease_owner = NULL, lease_until = NULL, fence = ?4
         WHERE guild_id = ?1",
    )
    .and_then(|mut st| {
        st.execute(params![
            id_in(guild_id),
            run.date.to_string(),
            run.at.as_millisecond(),
            fence
        ])
    })
    .map_err(sql(format!("scheduling the next post of guild {guild_id}")))?;
    Ok(())
}

/// Computes the next run of every schedule that has none: those that migration
/// 0002 created from older settings.
pub(crate) fn schedule_unscheduled(tx: &Connection, now: Timestamp) -> Result<(), StoreError> {
    let guilds: Vec<i64> = tx
        .prepare("SELECT guild_id FROM schedules WHERE next_run_at IS NULL")
        .and_then(|mut st| st.query_map([], |r| r.get(0))?.collect())
        .map_err(sql("listing unscheduled daily posts"))?;
    for guild in guilds {
        let guild_id = id_out(guild);
        let settings = read_settings(tx, guild_id)?;
        match settings.onthisday {
            Some(o) => {
                let posted = posted_dates(tx, guild_id, now)?;
                let run = rules::next_unposted_run(&o, None, now, &posted)
                    .map_err(StoreError::schedule(guild_id))?;
                set_next_run(tx, guild_id, run)?;
            }
            None => {
                tx.execute("DELETE FROM schedules WHERE guild_id = ?1", [guild])
                    .map_err(sql("removing a schedule without a daily post"))?;
            }
        }
    }
    Ok(())
}

fn audit(tx: &Connection, e: &AuditEntry) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO audit_log (guild_id, setting, old_value, new_value, user_id, at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .and_then(|mut st| {
        st.execute(params![
            id_in(e.guild_id),
            e.setting.as_str(),
            e.old_value,
            e.new_value,
            e.user_id.map(id_in),
            e.at.as_millisecond()
        ])
    })
    .map_err(sql(format!(
        "recording a change of {} for guild {}",
        e.setting, e.guild_id
    )))?;
    Ok(())
}

fn write_settings(tx: &Connection, guild_id: u64, s: &GuildSettings) -> Result<(), StoreError> {
    let o = s.onthisday.as_ref();
    tx.prepare_cached(
        "INSERT INTO guild_settings (
             guild_id, visibility, visibility_changed_by, visibility_changed_at,
             onthisday_channel_id, onthisday_time, onthisday_zone,
             onthisday_changed_by, onthisday_changed_at, onthisday_empty_days)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
         ON CONFLICT (guild_id) DO UPDATE SET
             visibility = excluded.visibility,
             visibility_changed_by = excluded.visibility_changed_by,
             visibility_changed_at = excluded.visibility_changed_at,
             onthisday_channel_id = excluded.onthisday_channel_id,
             onthisday_time = excluded.onthisday_time,
             onthisday_zone = excluded.onthisday_zone,
             onthisday_changed_by = excluded.onthisday_changed_by,
             onthisday_changed_at = excluded.onthisday_changed_at,
             onthisday_empty_days = excluded.onthisday_empty_days",
    )
    .and_then(|mut st| {
        st.execute(params![
            id_in(guild_id),
            s.visibility.as_str(),
            s.visibility_changed.map(|c| id_in(c.user_id)),
            s.visibility_changed.map(|c| c.at.as_millisecond()),
            o.map(|o| id_in(o.channel_id)),
            o.map(|o| o.time.to_string()),
            o.map(|o| o.zone.as_str().to_owned()),
            s.onthisday_changed.map(|c| id_in(c.user_id)),
            s.onthisday_changed.map(|c| c.at.as_millisecond()),
            o.is_some_and(|o| o.post_empty_days),
        ])
    })
    .map_err(sql(format!("writing the settings of guild {guild_id}")))?;
    Ok(())
}

/// One due schedule as `lease_due` reads it.
struct DueRow {
    guild: i64,
    date: String,
    channel: Option<i64>,
    time: Option<String>,
    zone: Option<String>,
    empty_days: bool,
}

/// Leases the posts due at `now`: see [`crate::Store::lease_due`].
pub(crate) fn lease_due(
    tx: &Connection,
    now: Timestamp,
    owner: &str,
    lease_for: Duration,
    limit: usize,
) -> Result<Vec<Lease>, StoreError> {
    let doing = "leasing the posts due";
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let due: Vec<DueRow> = tx
        .prepare_cached(
            "SELECT s.guild_id, s.next_local_date, g.onthisday_channel_id, g.onthisday_time,
                    g.onthisday_zone, g.onthisday_empty_days
             FROM schedules s JOIN guild_settings g USING (guild_id)
             WHERE s.paused_at IS NULL AND s.due_at <= ?1
             ORDER BY s.due_at, s.guild_id
             LIMIT ?2",
        )
        .and_then(|mut st| {
            st.query_map(params![now.as_millisecond(), limit], |r| {
                Ok(DueRow {
                    guild: r.get(0)?,
                    date: r.get(1)?,
                    channel: r.get(2)?,
                    time: r.get(3)?,
                    zone: r.get(4)?,
                    empty_days: r.get(5)?,
                })
            })?
            .collect()
        })
        .map_err(sql(doing))?;
    if due.is_empty() {
        return Ok(Vec::new());
    }
    let until = lease::lease_until(now, lease_for);
    let mut fence = take_fences(tx, due.len() as i64)?;
    let mut leases = Vec::with_capacity(due.len());
    for d in due {
        let guild_id = id_out(d.guild);
        let row = guild_row(guild_id);
        let date = date_out("schedules", "next_local_date", &row, &d.date)?;
        let onthisday =
            onthisday_out(&row, d.channel, d.time, d.zone, d.empty_days)?.ok_or_else(|| {
                corrupt(
                    "schedules",
                    "guild_id",
                    &row,
                    "a schedule without a daily post",
                )
            })?;
        let claimed: Option<(i64, i64, bool, i64)> = tx
            .prepare_cached(
                "SELECT attempts, first_claimed_at, sent_at IS NOT NULL, failures FROM posts
                 WHERE guild_id = ?1 AND local_date = ?2",
            )
            .and_then(|mut st| {
                st.query_row(params![d.guild, d.date], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                })
                .optional()
            })
            .map_err(sql(doing))?;
        if let Some((_, _, true, _)) = claimed {
            // Recorded as sent (by a holder whose lease had been lost): the day is
            // done, the schedule moves on.
            move_past(tx, guild_id, &onthisday, date, date, now)?;
            continue;
        }
        let post_row = format!("guild {guild_id} on {date}");
        let (attempt, first, failures) = match claimed {
            Some((attempts, first, _, failures)) => (
                lease::next_attempt(u32::try_from(attempts).unwrap_or(u32::MAX)),
                time_out("posts", "first_claimed_at", &post_row, first)?,
                u32::try_from(failures).unwrap_or(u32::MAX),
            ),
            None => (1, now, 0),
        };
        let nonce = post_nonce(guild_id, date);
        tx.prepare_cached(
            "INSERT INTO posts (guild_id, local_date, nonce, channel_id, attempts,
                                first_claimed_at, last_claimed_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (guild_id, local_date) DO UPDATE SET
                 channel_id = excluded.channel_id,
                 attempts = excluded.attempts,
                 last_claimed_at = excluded.last_claimed_at",
        )
        .and_then(|mut st| {
            st.execute(params![
                d.guild,
                d.date,
                nonce,
                id_in(onthisday.channel_id),
                attempt,
                first.as_millisecond(),
                now.as_millisecond()
            ])
        })
        .map_err(sql(doing))?;
        tx.prepare_cached(
            "UPDATE schedules SET lease_owner = ?2, lease_until = ?3, due_at = ?3, fence = ?4
             WHERE guild_id = ?1",
        )
        .and_then(|mut st| st.execute(params![d.guild, owner, until.as_millisecond(), fence]))
        .map_err(sql(doing))?;
        leases.push(Lease {
            guild_id,
            date,
            channel_id: onthisday.channel_id,
            onthisday,
            nonce,
            attempt,
            failures,
            first_leased_at: first,
            fence,
            owner: owner.to_owned(),
            until,
        });
        fence += 1;
    }
    Ok(leases)
}

/// Refuses a write under a lease that is no longer the schedule's.
fn hold(tx: &Connection, lease: &Lease) -> Result<(), StoreError> {
    let current = schedule_state(tx, lease.guild_id)?.map(|(fence, _)| fence);
    if lease::fence_holds(current, lease.fence) {
        Ok(())
    } else {
        Err(StoreError::Fenced {
            guild_id: lease.guild_id,
            date: lease.date,
        })
    }
}

/// Moves a schedule past `done`, from `now` on (skipping days posted), releasing any
/// lease.
fn move_past(
    tx: &Connection,
    guild_id: u64,
    onthisday: &OnThisDay,
    scheduled: jiff::civil::Date,
    done: jiff::civil::Date,
    now: Timestamp,
) -> Result<(), StoreError> {
    let posted = posted_dates(tx, guild_id, now)?;
    match rules::advance(onthisday, scheduled, done, now, &posted)
        .map_err(StoreError::schedule(guild_id))?
    {
        Some(run) => set_next_run(tx, guild_id, run),
        None => Ok(()),
    }
}

/// Moves the leased schedule past the lease's date from `at` on. Fenced.
fn advance_leased(tx: &Connection, lease: &Lease, at: Timestamp) -> Result<(), StoreError> {
    hold(tx, lease)?;
    let guild_id = lease.guild_id;
    let settings = read_settings(tx, guild_id)?;
    let (Some(onthisday), Some((_, Some(scheduled)))) =
        (settings.onthisday, schedule_state(tx, guild_id)?)
    else {
        return Ok(());
    };
    match rules::advance(
        &onthisday,
        scheduled,
        lease.date,
        at,
        &posted_dates(tx, guild_id, at)?,
    )
    .map_err(StoreError::schedule(guild_id))?
    {
        Some(run) => set_next_run(tx, guild_id, run),
        // Already past the lease's date (cannot happen while the fence holds):
        // nothing to move.
        None => Ok(()),
    }
}

/// Records the post as sent (whatever the lease), and returns whether the lease
/// still holds; when it does, the schedule has moved on.
pub(crate) fn record_sent(
    tx: &Connection,
    lease: &Lease,
    message_id: u64,
    at: Timestamp,
) -> Result<bool, StoreError> {
    let (guild_id, date) = (lease.guild_id, lease.date);
    let doing = format!("recording the post of guild {guild_id} for {date}");
    tx.prepare_cached(
        "INSERT INTO posts (guild_id, local_date, nonce, channel_id, attempts,
                            first_claimed_at, last_claimed_at, sent_at, message_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7, ?8)
         ON CONFLICT (guild_id, local_date) DO UPDATE SET
             sent_at = coalesce(sent_at, excluded.sent_at),
             message_id = coalesce(message_id, excluded.message_id)",
    )
    .and_then(|mut st| {
        st.execute(params![
            id_in(guild_id),
            date.to_string(),
            lease.nonce,
            id_in(lease.channel_id),
            lease.attempt.max(1),
            lease.first_leased_at.as_millisecond(),
            at.as_millisecond(),
            id_in(message_id)
        ])
    })
    .map_err(sql(&doing))?;
    match advance_leased(tx, lease, at) {
        Ok(()) => Ok(true),
        Err(StoreError::Fenced { .. }) => Ok(false),
        Err(e) => Err(e),
    }
}

pub(crate) fn skip(tx: &Connection, lease: &Lease, at: Timestamp) -> Result<(), StoreError> {
    advance_leased(tx, lease, at)
}

/// Releases the lease, the post due again at `at`; with `failed`, the try counts as a
/// failure of the post.
pub(crate) fn retry_at(
    tx: &Connection,
    lease: &Lease,
    at: Timestamp,
    failed: bool,
) -> Result<(), StoreError> {
    hold(tx, lease)?;
    let guild_id = lease.guild_id;
    if failed {
        tx.prepare_cached(
            "UPDATE posts SET failures = failures + 1 WHERE guild_id = ?1 AND local_date = ?2",
        )
        .and_then(|mut st| st.execute(params![id_in(guild_id), lease.date.to_string()]))
        .map_err(sql(format!(
            "counting a failed post of guild {guild_id} for {}",
            lease.date
        )))?;
    }
    let fence = take_fences(tx, 1)?;
    tx.prepare_cached(
        "UPDATE schedules SET due_at = ?2, lease_owner = NULL, lease_until = NULL, fence = ?3
         WHERE guild_id = ?1",
    )
    .and_then(|mut st| st.execute(params![id_in(guild_id), at.as_millisecond(), fence]))
    .map_err(sql(format!(
        "putting off the post of guild {guild_id} for {}",
        lease.date
    )))?;
    Ok(())
}

pub(crate) fn pause(
    tx: &Connection,
    lease: &Lease,
    reason: &str,
    at: Timestamp,
) -> Result<(), StoreError> {
    hold(tx, lease)?;
    let guild_id = lease.guild_id;
    let settings = read_settings(tx, guild_id)?;
    let Some((paused, record)) = rules::pause(guild_id, &settings, reason, at) else {
        return Ok(());
    };
    let fence = take_fences(tx, 1)?;
    tx.prepare_cached(
        "UPDATE schedules SET paused_reason = ?2, paused_at = ?3,
                              lease_owner = NULL, lease_until = NULL, fence = ?4
         WHERE guild_id = ?1",
    )
    .and_then(|mut st| {
        st.execute(params![
            id_in(guild_id),
            paused.reason,
            paused.at.as_millisecond(),
            fence
        ])
    })
    .map_err(sql(format!("pausing the daily post of guild {guild_id}")))?;
    audit(tx, &record)
}

pub(crate) fn resume(tx: &Connection, guild_id: u64, at: Timestamp) -> Result<bool, StoreError> {
    let settings = read_settings(tx, guild_id)?;
    let posted = posted_dates(tx, guild_id, at)?;
    let Some((run, record)) =
        rules::resume(guild_id, &settings, at, &posted).map_err(StoreError::schedule(guild_id))?
    else {
        return Ok(false);
    };
    start_schedule(tx, guild_id, run)?;
    audit(tx, &record)?;
    Ok(true)
}
