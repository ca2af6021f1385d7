//! The PostgreSQL reads and writes: each write is one transaction that takes the
//! server's advisory lock, reads the current state, asks the core's rules
//! ([`karabakh_core::settings::rules`], [`karabakh_core::lease`]) what to do, stores
//! exactly that, and notifies the other processes.

use std::time::Duration;

use jiff::Timestamp;
use jiff::civil::Date;
use karabakh_core::lease;
use karabakh_core::settings::rules::{self, PostedDates, ScheduleChange};
use karabakh_core::settings::*;
use sqlx::postgres::{PgPool, PgRow};
use sqlx::{PgConnection, Row as _};

use crate::values::*;
use crate::{Lease, StoreError, StoreResult};

/// A sqlx error while `doing`: [`StoreError::Unavailable`] when the server or the
/// pool is out of reach, else [`StoreError::Database`].
pub(crate) fn failed(doing: &str) -> impl FnOnce(sqlx::Error) -> StoreError + '_ {
    move |e| match e {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
            StoreError::Unavailable {
                doing: doing.to_owned(),
                reason: e.to_string(),
            }
        }
        e => StoreError::database(doing, e),
    }
}

/// A commit that failed while `doing`: when the connection was lost after the
/// `COMMIT` was sent, the server may have committed it or not
/// ([`StoreError::Unconfirmed`]); any other error is [`failed`]'s.
pub(crate) fn commit_failed(doing: &str) -> impl FnOnce(sqlx::Error) -> StoreError + '_ {
    move |e| match e {
        sqlx::Error::Io(_) | sqlx::Error::Protocol(_) => StoreError::Unconfirmed {
            doing: doing.to_owned(),
            reason: e.to_string(),
        },
        e => failed(doing)(e),
    }
}

/// Serializes the writes to one server across every process, until the transaction
/// ends.
async fn lock_guild(tx: &mut PgConnection, guild_id: u64, doing: &str) -> StoreResult<()> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(id_in(guild_id))
        .execute(&mut *tx)
        .await
        .map_err(failed(doing))?;
    Ok(())
}

/// Tells every process that the server changed, at commit: `<server> <instance>`,
/// the store that sent it named by its connection's setting, so that it does not
/// hear its own (it announces them itself).
async fn notify(tx: &mut PgConnection, channel: &str, guild_id: u64) -> StoreResult<()> {
    let sql = format!(
        "SELECT pg_notify($1, $2 || coalesce(' ' || current_setting('{}', true), ''))",
        super::INSTANCE_SETTING
    );
    sqlx::query(&sql)
        .bind(channel)
        .bind(guild_id.to_string())
        .execute(&mut *tx)
        .await
        .map_err(failed("announcing a change"))?;
    Ok(())
}

const READ_SETTINGS: &str = "SELECT g.visibility, g.visibility_changed_by, g.visibility_changed_at,
        g.onthisday_channel_id, g.onthisday_time, g.onthisday_zone,
        g.onthisday_changed_by, g.onthisday_changed_at,
        s.next_local_date, s.next_run_at, s.paused_reason, s.paused_at,
        s.guild_id IS NOT NULL AS has_schedule, g.onthisday_empty_days
    FROM guild_settings g LEFT JOIN schedules s USING (guild_id)
    WHERE g.guild_id = $1";

fn raw_settings(r: &PgRow) -> sqlx::Result<RawSettings> {
    Ok(RawSettings {
        visibility: r.try_get(0)?,
        visibility_by: r.try_get(1)?,
        visibility_at: r.try_get(2)?,
        channel: r.try_get(3)?,
        time: r.try_get(4)?,
        zone: r.try_get(5)?,
        onthisday_by: r.try_get(6)?,
        onthisday_at: r.try_get(7)?,
        next_date: r.try_get(8)?,
        next_at: r.try_get(9)?,
        paused_reason: r.try_get(10)?,
        paused_at: r.try_get(11)?,
        has_schedule: r.try_get(12)?,
        empty_days: r.try_get(13)?,
    })
}

pub(crate) async fn read_settings(
    conn: &mut PgConnection,
    guild_id: u64,
) -> StoreResult<GuildSettings> {
    let doing = format!("reading the settings of guild {guild_id}");
    let row = sqlx::query(READ_SETTINGS)
        .bind(id_in(guild_id))
        .fetch_optional(&mut *conn)
        .await
        .map_err(failed(&doing))?;
    match row {
        None => Ok(GuildSettings::default()),
        Some(row) => raw_settings(&row)
            .map_err(failed(&doing))?
            .into_settings(guild_id),
    }
}

pub(crate) async fn audit_trail(
    conn: &mut PgConnection,
    guild_id: u64,
    limit: usize,
) -> StoreResult<Vec<AuditEntry>> {
    let doing = format!("reading the audit trail of guild {guild_id}");
    let rows = sqlx::query(
        "SELECT id, setting, old_value, new_value, user_id, at FROM audit_log
         WHERE guild_id = $1 ORDER BY id DESC LIMIT $2",
    )
    .bind(id_in(guild_id))
    .bind(i64::try_from(limit).unwrap_or(i64::MAX))
    .fetch_all(&mut *conn)
    .await
    .map_err(failed(&doing))?;
    rows.iter()
        .map(|r| {
            let id: i64 = r.try_get(0).map_err(failed(&doing))?;
            let setting: String = r.try_get(1).map_err(failed(&doing))?;
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
                old_value: r.try_get(2).map_err(failed(&doing))?,
                new_value: r.try_get(3).map_err(failed(&doing))?,
                user_id: r
                    .try_get::<Option<i64>, _>(4)
                    .map_err(failed(&doing))?
                    .map(id_out),
                at: time_out(
                    "audit_log",
                    "at",
                    &row,
                    r.try_get(5).map_err(failed(&doing))?,
                )?,
            })
        })
        .collect()
}

pub(crate) async fn is_posted(
    conn: &mut PgConnection,
    guild_id: u64,
    date: Date,
) -> StoreResult<bool> {
    let sent: Option<bool> = sqlx::query_scalar(
        "SELECT sent_at IS NOT NULL FROM posts WHERE guild_id = $1 AND local_date = $2",
    )
    .bind(id_in(guild_id))
    .bind(date.to_string())
    .fetch_optional(&mut *conn)
    .await
    .map_err(failed(&format!(
        "reading whether guild {guild_id} has its post for {date}"
    )))?;
    Ok(sent.unwrap_or(false))
}

async fn posted_dates(
    conn: &mut PgConnection,
    guild_id: u64,
    at: Timestamp,
) -> StoreResult<PostedDates> {
    let doing = format!("reading the posts of guild {guild_id}");
    let dates: Vec<String> = sqlx::query_scalar(
        "SELECT local_date FROM posts
         WHERE guild_id = $1 AND local_date >= $2 AND sent_at IS NOT NULL",
    )
    .bind(id_in(guild_id))
    .bind(PostedDates::since(at).to_string())
    .fetch_all(&mut *conn)
    .await
    .map_err(failed(&doing))?;
    let row = guild_row(guild_id);
    dates
        .iter()
        .map(|d| date_out("posts", "local_date", &row, d))
        .collect()
}

pub(crate) async fn next_due_at(conn: &mut PgConnection) -> StoreResult<Option<Timestamp>> {
    let at: Option<i64> =
        sqlx::query_scalar("SELECT min(due_at) FROM schedules WHERE paused_at IS NULL")
            .fetch_one(&mut *conn)
            .await
            .map_err(failed("finding the next post due"))?;
    at.map(|ms| time_out("schedules", "due_at", "the soonest schedule", ms))
        .transpose()
}

/// A schedule's fence and next local date, its row locked until the transaction
/// ends; `None` when the server has no schedule.
async fn lock_schedule(tx: &mut PgConnection, guild_id: u64) -> StoreResult<Option<(i64, Date)>> {
    let doing = format!("reading the schedule of guild {guild_id}");
    let row: Option<(i64, String)> = sqlx::query_as(
        "SELECT fence, next_local_date FROM schedules WHERE guild_id = $1 FOR UPDATE",
    )
    .bind(id_in(guild_id))
    .fetch_optional(&mut *tx)
    .await
    .map_err(failed(&doing))?;
    row.map(|(fence, date)| {
        Ok((
            fence,
            date_out("schedules", "next_local_date", &guild_row(guild_id), &date)?,
        ))
    })
    .transpose()
}

/// Moves a schedule to `run`, with a new fence: any lease on it ends.
async fn set_next_run(tx: &mut PgConnection, guild_id: u64, run: Run) -> StoreResult<()> {
    sqlx::query(
        "UPDATE schedules SET next_local_date = $2, next_run_at = $3, due_at = $3,
                              lease_owner = NULL, lease_until = NULL,
                              fence = nextval('lease_fences')
         WHERE guild_id = $1",
    )
    .bind(id_in(guild_id))
    .bind(run.date.to_string())
    .bind(run.at.as_millisecond())
    .execute(&mut *tx)
    .await
    .map_err(failed(&format!(
        "scheduling the next post of guild {guild_id}"
    )))?;
    Ok(())
}

/// (Re)starts a schedule at `run`: not paused, not leased, a new fence.
async fn start_schedule(tx: &mut PgConnection, guild_id: u64, run: Run) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO schedules (guild_id, next_local_date, next_run_at, due_at, fence)
         VALUES ($1, $2, $3, $3, nextval('lease_fences'))
         ON CONFLICT (guild_id) DO UPDATE SET
             next_local_date = excluded.next_local_date,
             next_run_at = excluded.next_run_at,
             due_at = excluded.due_at,
             fence = excluded.fence,
             paused_reason = NULL, paused_at = NULL,
             lease_owner = NULL, lease_until = NULL",
    )
    .bind(id_in(guild_id))
    .bind(run.date.to_string())
    .bind(run.at.as_millisecond())
    .execute(&mut *tx)
    .await
    .map_err(failed(&format!(
        "scheduling the daily post of guild {guild_id}"
    )))?;
    Ok(())
}

async fn audit(tx: &mut PgConnection, e: &AuditEntry) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO audit_log (guild_id, setting, old_value, new_value, user_id, at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id_in(e.guild_id))
    .bind(e.setting.as_str())
    .bind(&e.old_value)
    .bind(&e.new_value)
    .bind(e.user_id.map(id_in))
    .bind(e.at.as_millisecond())
    .execute(&mut *tx)
    .await
    .map_err(failed(&format!(
        "recording a change of {} for guild {}",
        e.setting, e.guild_id
    )))?;
    Ok(())
}

async fn write_settings(
    tx: &mut PgConnection,
    guild_id: u64,
    s: &GuildSettings,
) -> StoreResult<()> {
    let o = s.onthisday.as_ref();
    sqlx::query(
        "INSERT INTO guild_settings (
             guild_id, visibility, visibility_changed_by, visibility_changed_at,
             onthisday_channel_id, onthisday_time, onthisday_zone,
             onthisday_changed_by, onthisday_changed_at, onthisday_empty_days)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
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
    .bind(id_in(guild_id))
    .bind(s.visibility.as_str())
    .bind(s.visibility_changed.map(|c| id_in(c.user_id)))
    .bind(s.visibility_changed.map(|c| c.at.as_millisecond()))
    .bind(o.map(|o| id_in(o.channel_id)))
    .bind(o.map(|o| o.time.to_string()))
    .bind(o.map(|o| o.zone.as_str().to_owned()))
    .bind(s.onthisday_changed.map(|c| id_in(c.user_id)))
    .bind(s.onthisday_changed.map(|c| c.at.as_millisecond()))
    .bind(o.is_some_and(|o| o.post_empty_days))
    .execute(&mut *tx)
    .await
    .map_err(failed(&format!("writing the settings of guild {guild_id}")))?;
    Ok(())
}

pub(crate) async fn apply(
    pool: &PgPool,
    channel: &str,
    guild_id: u64,
    change: &Change,
    user_id: u64,
    at: Timestamp,
) -> StoreResult<GuildSettings> {
    let doing = format!("changing the settings of guild {guild_id}");
    let mut tx = pool.begin().await.map_err(failed(&doing))?;
    lock_guild(&mut tx, guild_id, &doing).await?;
    let old = read_settings(&mut tx, guild_id).await?;
    let posted = posted_dates(&mut tx, guild_id, at).await?;
    let applied = rules::apply(guild_id, &old, change, user_id, at, &posted)
        .map_err(StoreError::schedule(guild_id))?;
    if !applied.writes() {
        tx.rollback().await.map_err(failed(&doing))?;
        return Ok(old);
    }
    write_settings(&mut tx, guild_id, &applied.settings).await?;
    match applied.schedule {
        ScheduleChange::Keep => {}
        ScheduleChange::Remove => {
            sqlx::query("DELETE FROM schedules WHERE guild_id = $1")
                .bind(id_in(guild_id))
                .execute(&mut *tx)
                .await
                .map_err(failed(&doing))?;
        }
        ScheduleChange::Start(run) => start_schedule(&mut tx, guild_id, run).await?,
    }
    for entry in &applied.audit {
        audit(&mut tx, entry).await?;
    }
    notify(&mut tx, channel, guild_id).await?;
    let settings = read_settings(&mut tx, guild_id).await?;
    tx.commit().await.map_err(commit_failed(&doing))?;
    Ok(settings)
}

/// One due schedule as `lease_due` reads it: server, local date, and the daily post
/// (channel, time, zone, empty days).
type DueRow = (
    i64,
    String,
    Option<i64>,
    Option<String>,
    Option<String>,
    bool,
);

/// Leases the posts due at `now`: see [`crate::Store::lease_due`].
pub(crate) async fn lease_due(
    pool: &PgPool,
    now: Timestamp,
    owner: &str,
    lease_for: Duration,
    limit: usize,
) -> StoreResult<Vec<Lease>> {
    let doing = "leasing the posts due";
    let mut tx = pool.begin().await.map_err(failed(doing))?;
    let due: Vec<DueRow> = sqlx::query_as(
        "SELECT s.guild_id, s.next_local_date, g.onthisday_channel_id, g.onthisday_time,
                    g.onthisday_zone, g.onthisday_empty_days
             FROM schedules s JOIN guild_settings g USING (guild_id)
             WHERE s.paused_at IS NULL AND s.due_at <= $1
             ORDER BY s.due_at, s.guild_id
             LIMIT $2
             FOR UPDATE OF s SKIP LOCKED",
    )
    .bind(now.as_millisecond())
    .bind(i64::try_from(limit).unwrap_or(i64::MAX))
    .fetch_all(&mut *tx)
    .await
    .map_err(failed(doing))?;
    let until = lease::lease_until(now, lease_for);
    let mut leases = Vec::with_capacity(due.len());
    for (guild, date_text, channel, time, zone, empty_days) in due {
        let guild_id = id_out(guild);
        let row = guild_row(guild_id);
        let date = date_out("schedules", "next_local_date", &row, &date_text)?;
        let onthisday = onthisday_out(&row, channel, time, zone, empty_days)?.ok_or_else(|| {
            corrupt(
                "schedules",
                "guild_id",
                &row,
                "a schedule without a daily post",
            )
        })?;
        let claimed: Option<(i32, i64, bool, i32)> = sqlx::query_as(
            "SELECT attempts, first_claimed_at, sent_at IS NOT NULL, failures FROM posts
             WHERE guild_id = $1 AND local_date = $2",
        )
        .bind(guild)
        .bind(&date_text)
        .fetch_optional(&mut *tx)
        .await
        .map_err(failed(doing))?;
        if let Some((_, _, true, _)) = claimed {
            // Recorded as sent (by a holder whose lease had been lost): the day is
            // done, the schedule moves on.
            let posted = posted_dates(&mut tx, guild_id, now).await?;
            if let Some(run) = rules::advance(&onthisday, date, date, now, &posted)
                .map_err(StoreError::schedule(guild_id))?
            {
                set_next_run(&mut tx, guild_id, run).await?;
            }
            continue;
        }
        let post_row = format!("guild {guild_id} on {date}");
        let (attempt, first, failures) = match claimed {
            Some((attempts, first, _, failures)) => (
                lease::next_attempt(u32::try_from(attempts).unwrap_or(0)),
                time_out("posts", "first_claimed_at", &post_row, first)?,
                u32::try_from(failures).unwrap_or(0),
            ),
            None => (1, now, 0),
        };
        let nonce = post_nonce(guild_id, date);
        sqlx::query(
            "INSERT INTO posts (guild_id, local_date, nonce, channel_id, attempts,
                                first_claimed_at, last_claimed_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (guild_id, local_date) DO UPDATE SET
                 channel_id = excluded.channel_id,
                 attempts = excluded.attempts,
                 last_claimed_at = excluded.last_claimed_at",
        )
        .bind(guild)
        .bind(&date_text)
        .bind(&nonce)
        .bind(id_in(onthisday.channel_id))
        .bind(i32::try_from(attempt).unwrap_or(i32::MAX))
        .bind(first.as_millisecond())
        .bind(now.as_millisecond())
        .execute(&mut *tx)
        .await
        .map_err(failed(doing))?;
        let fence: i64 = sqlx::query_scalar(
            "UPDATE schedules SET lease_owner = $2, lease_until = $3, due_at = $3,
                                  fence = nextval('lease_fences')
             WHERE guild_id = $1 RETURNING fence",
        )
        .bind(guild)
        .bind(owner)
        .bind(until.as_millisecond())
        .fetch_one(&mut *tx)
        .await
        .map_err(failed(doing))?;
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
    }
    tx.commit().await.map_err(failed(doing))?;
    Ok(leases)
}

fn fenced(lease: &Lease) -> StoreError {
    StoreError::Fenced {
        guild_id: lease.guild_id,
        date: lease.date,
    }
}

/// Locks the server and its schedule; the schedule's next date if the lease holds.
async fn hold(tx: &mut PgConnection, lease: &Lease, doing: &str) -> StoreResult<Option<Date>> {
    lock_guild(tx, lease.guild_id, doing).await?;
    let state = lock_schedule(tx, lease.guild_id).await?;
    if lease::fence_holds(state.map(|(fence, _)| fence), lease.fence) {
        Ok(state.map(|(_, date)| date))
    } else {
        Ok(None)
    }
}

/// Moves the leased schedule past the lease's date from `at` on.
async fn advance_leased(
    tx: &mut PgConnection,
    lease: &Lease,
    scheduled: Date,
    at: Timestamp,
) -> StoreResult<()> {
    let guild_id = lease.guild_id;
    let Some(onthisday) = read_settings(tx, guild_id).await?.onthisday else {
        return Ok(());
    };
    let posted = posted_dates(tx, guild_id, at).await?;
    match rules::advance(&onthisday, scheduled, lease.date, at, &posted)
        .map_err(StoreError::schedule(guild_id))?
    {
        Some(run) => set_next_run(tx, guild_id, run).await,
        None => Ok(()),
    }
}

/// Records the post as sent (whatever the lease); whether the lease still held (and
/// the schedule moved on).
pub(crate) async fn record_sent(
    pool: &PgPool,
    channel: &str,
    lease: &Lease,
    message_id: u64,
    at: Timestamp,
) -> StoreResult<bool> {
    let (guild_id, date) = (lease.guild_id, lease.date);
    let doing = format!("recording the post of guild {guild_id} for {date}");
    let mut tx = pool.begin().await.map_err(failed(&doing))?;
    let held = hold(&mut tx, lease, &doing).await?;
    sqlx::query(
        "INSERT INTO posts (guild_id, local_date, nonce, channel_id, attempts,
                            first_claimed_at, last_claimed_at, sent_at, message_id)
         VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8)
         ON CONFLICT (guild_id, local_date) DO UPDATE SET
             sent_at = coalesce(posts.sent_at, excluded.sent_at),
             message_id = coalesce(posts.message_id, excluded.message_id)",
    )
    .bind(id_in(guild_id))
    .bind(date.to_string())
    .bind(&lease.nonce)
    .bind(id_in(lease.channel_id))
    .bind(i32::try_from(lease.attempt.max(1)).unwrap_or(i32::MAX))
    .bind(lease.first_leased_at.as_millisecond())
    .bind(at.as_millisecond())
    .bind(id_in(message_id))
    .execute(&mut *tx)
    .await
    .map_err(failed(&doing))?;
    if let Some(scheduled) = held {
        advance_leased(&mut tx, lease, scheduled, at).await?;
    }
    notify(&mut tx, channel, guild_id).await?;
    tx.commit().await.map_err(failed(&doing))?;
    Ok(held.is_some())
}

pub(crate) async fn skip(
    pool: &PgPool,
    channel: &str,
    lease: &Lease,
    at: Timestamp,
) -> StoreResult<()> {
    let doing = format!(
        "skipping the post of guild {} for {}",
        lease.guild_id, lease.date
    );
    let mut tx = pool.begin().await.map_err(failed(&doing))?;
    let scheduled = hold(&mut tx, lease, &doing)
        .await?
        .ok_or_else(|| fenced(lease))?;
    advance_leased(&mut tx, lease, scheduled, at).await?;
    notify(&mut tx, channel, lease.guild_id).await?;
    tx.commit().await.map_err(failed(&doing))
}

/// Releases the lease, the post due again at `at`; with `failure`, the try counts as
/// a failure of the post.
pub(crate) async fn retry_at(
    pool: &PgPool,
    lease: &Lease,
    at: Timestamp,
    failure: bool,
) -> StoreResult<()> {
    let doing = format!(
        "putting off the post of guild {} for {}",
        lease.guild_id, lease.date
    );
    let mut tx = pool.begin().await.map_err(failed(&doing))?;
    hold(&mut tx, lease, &doing)
        .await?
        .ok_or_else(|| fenced(lease))?;
    if failure {
        sqlx::query(
            "UPDATE posts SET failures = failures + 1 WHERE guild_id = $1 AND local_date = $2",
        )
        .bind(id_in(lease.guild_id))
        .bind(lease.date.to_string())
        .execute(&mut *tx)
        .await
        .map_err(failed(&doing))?;
    }
    sqlx::query(
        "UPDATE schedules SET due_at = $2, lease_owner = NULL, lease_until = NULL,
                              fence = nextval('lease_fences')
         WHERE guild_id = $1",
    )
    .bind(id_in(lease.guild_id))
    .bind(at.as_millisecond())
    .execute(&mut *tx)
    .await
    .map_err(failed(&doing))?;
    tx.commit().await.map_err(failed(&doing))
}

pub(crate) async fn pause(
    pool: &PgPool,
    channel: &str,
    lease: &Lease,
    reason: &str,
    at: Timestamp,
) -> StoreResult<()> {
    let guild_id = lease.guild_id;
    let doing = format!("pausing the daily post of guild {guild_id}");
    let mut tx = pool.begin().await.map_err(failed(&doing))?;
    hold(&mut tx, lease, &doing)
        .await?
        .ok_or_else(|| fenced(lease))?;
    let settings = read_settings(&mut tx, guild_id).await?;
    if let Some((paused, record)) = rules::pause(guild_id, &settings, reason, at) {
        sqlx::query(
            "UPDATE schedules SET paused_reason = $2, paused_at = $3,
                                  lease_owner = NULL, lease_until = NULL,
                                  fence = nextval('lease_fences')
             WHERE guild_id = $1",
        )
        .bind(id_in(guild_id))
        .bind(&paused.reason)
        .bind(paused.at.as_millisecond())
        .execute(&mut *tx)
        .await
        .map_err(failed(&doing))?;
        audit(&mut tx, &record).await?;
        notify(&mut tx, channel, guild_id).await?;
    }
    tx.commit().await.map_err(failed(&doing))
}

pub(crate) async fn resume(
    pool: &PgPool,
    channel: &str,
    guild_id: u64,
    at: Timestamp,
) -> StoreResult<bool> {
    let doing = format!("resuming the daily post of guild {guild_id}");
    let mut tx = pool.begin().await.map_err(failed(&doing))?;
    lock_guild(&mut tx, guild_id, &doing).await?;
    let settings = read_settings(&mut tx, guild_id).await?;
    let posted = posted_dates(&mut tx, guild_id, at).await?;
    let Some((run, record)) =
        rules::resume(guild_id, &settings, at, &posted).map_err(StoreError::schedule(guild_id))?
    else {
        tx.rollback().await.map_err(failed(&doing))?;
        return Ok(false);
    };
    start_schedule(&mut tx, guild_id, run).await?;
    audit(&mut tx, &record).await?;
    notify(&mut tx, channel, guild_id).await?;
    tx.commit().await.map_err(failed(&doing))?;
    Ok(true)
}
