//! [`SettingsStore`] on an embedded SQLite file.
//!
//! One connection behind a mutex. SQLite lets one writer in at a time whatever the
//! number of connections, and this bot's traffic (moderators' commands, a post per
//! server per day) is small, so a pool would add waiting for the same lock and a
//! dependency, and gain nothing. Other processes (an operator's `sqlite3` shell, a
//! second bot) are waited for up to [`BUSY_TIMEOUT`].
//!
//! Durability: WAL journal with `synchronous=FULL`. In WAL mode `NORMAL` can lose the
//! last transactions on a power cut (never on a crash of the process alone); the
//! exactly-once record of posts is written before a message is sent and must survive
//! whatever happens next, and writes here are rare, so the extra fsync per commit is
//! cheap. Every write is one `BEGIN IMMEDIATE` transaction: the write lock is taken
//! at the start, so a transaction never fails half-way for want of it.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use jiff::Timestamp;
use jiff::civil::Date;
use rusqlite::{Connection, OptionalExtension, Row, Transaction, TransactionBehavior, params};

use super::migrations;
use super::*;
use karabakh_core::settings::*;

/// How long a write waits for another connection's lock before giving up.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The longest pause reason kept; the rest is cut.
const MAX_REASON: usize = 300;

/// Settings and schedules in a SQLite file.
#[derive(Debug)]
pub struct SqliteStore {
    conn: Mutex<Connection>,
    path: PathBuf,
}

/// A Discord id (u64) kept bit for bit in SQLite's signed 64-bit integer.
fn id_in(id: u64) -> i64 {
    id as i64
}

fn id_out(v: i64) -> u64 {
    v as u64
}

fn sql(doing: impl Into<String>) -> impl FnOnce(rusqlite::Error) -> StoreError {
    let doing = doing.into();
    move |source| StoreError::Sqlite { doing, source }
}

fn corrupt(
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

fn time_out(
    table: &'static str,
    column: &'static str,
    row: &str,
    ms: i64,
) -> Result<Timestamp, StoreError> {
    Timestamp::from_millisecond(ms).map_err(|e| corrupt(table, column, row, e))
}

fn date_out(
    table: &'static str,
    column: &'static str,
    row: &str,
    s: &str,
) -> Result<Date, StoreError> {
    s.parse()
        .map_err(|e| corrupt(table, column, row, format!("`{s}` is not a date: {e}")))
}

fn guild_row(guild_id: u64) -> String {
    format!("guild {guild_id}")
}

impl SqliteStore {
    /// Opens the database at `path`, creating it (and its folder) on first run, and
    /// brings its schema to [`SCHEMA_VERSION`]. A database written by a newer build
    /// is refused.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref();
        let shown = path.display().to_string();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
                path: shown.clone(),
                source,
            })?;
        }
        let open_error = |source| StoreError::Open {
            path: shown.clone(),
            source,
        };
        let mut conn = Connection::open(path).map_err(open_error)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(open_error)?;
        // The first statement that reads the file: a file that is not a SQLite
        // database fails here.
        let mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
            .map_err(open_error)?;
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::warn!(path = %shown, mode, "the database is not in WAL mode");
        }
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(open_error)?;
        conn.pragma_update(None, "foreign_keys", true)
            .map_err(open_error)?;
        migrations::migrate(&mut conn, &shown)?;
        let store = SqliteStore {
            conn: Mutex::new(conn),
            path: path.to_owned(),
        };
        store.schedule_unscheduled(Timestamp::now())?;
        Ok(store)
    }

    /// The file this store reads and writes.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The database's schema version (`PRAGMA user_version`).
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        migrations::user_version(&self.conn()).map_err(sql("reading the schema version"))
    }

    /// The connection. A thread that panicked while holding it left no transaction
    /// open (rusqlite rolls back on drop), so a poisoned lock is safe to take over.
    fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` in one write transaction, committed if it returns Ok.
    fn write<T>(
        &self,
        doing: &str,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.conn();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql(doing))?;
        let value = f(&tx)?;
        tx.commit().map_err(sql(doing))?;
        Ok(value)
    }

    /// Computes the next run of every schedule that has none: those that migration
    /// 0002 created from older settings.
    fn schedule_unscheduled(&self, now: Timestamp) -> Result<(), StoreError> {
        self.write("scheduling the daily posts left unscheduled", |tx| {
            let guilds: Vec<i64> = tx
                .prepare("SELECT guild_id FROM schedules WHERE next_run_at IS NULL")
                .and_then(|mut st| st.query_map([], |r| r.get(0))?.collect())
                .map_err(sql("listing unscheduled daily posts"))?;
            for guild in guilds {
                let guild_id = id_out(guild);
                let settings = read_settings(tx, guild_id)?;
                match settings.onthisday {
                    Some(o) => {
                        let run = next_unposted_run(tx, guild_id, &o, None, now)?;
                        set_next_run(tx, guild_id, run)?;
                    }
                    None => {
                        tx.execute("DELETE FROM schedules WHERE guild_id = ?1", [guild])
                            .map_err(sql("removing a schedule without a daily post"))?;
                    }
                }
            }
            Ok(())
        })
    }

    fn schedules(&self, now: Option<Timestamp>, limit: usize) -> Result<Vec<Schedule>, StoreError> {
        let conn = self.conn();
        let mut st = conn
            .prepare_cached(
                "SELECT s.guild_id, g.onthisday_channel_id, g.onthisday_time, g.onthisday_zone,
                        s.next_local_date, s.next_run_at, g.onthisday_empty_days
                 FROM schedules s JOIN guild_settings g USING (guild_id)
                 WHERE s.paused_at IS NULL AND s.next_run_at <= ?1
                 ORDER BY s.next_run_at, s.guild_id
                 LIMIT ?2",
            )
            .map_err(sql("listing schedules"))?;
        let until = now.map_or(i64::MAX, Timestamp::as_millisecond);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = st
            .query_map(params![until, limit], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, Option<i64>>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, i64>(5)?,
                    r.get::<_, bool>(6)?,
                ))
            })
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(sql("listing schedules"))?;
        rows.into_iter()
            .map(|(guild, channel, time, zone, date, at, empty_days)| {
                let guild_id = id_out(guild);
                let row = guild_row(guild_id);
                let onthisday =
                    onthisday_out(&row, channel, time, zone, empty_days)?.ok_or_else(|| {
                        corrupt(
                            "schedules",
                            "guild_id",
                            &row,
                            "a schedule without a daily post",
                        )
                    })?;
                Ok(Schedule {
                    guild_id,
                    onthisday,
                    next_run: Run {
                        date: date_out("schedules", "next_local_date", &row, &date)?,
                        at: time_out("schedules", "next_run_at", &row, at)?,
                    },
                })
            })
            .collect()
    }
}

/// The daily post as stored: three columns, all set or none, and whether empty days
/// are posted (read only when the post is set).
fn onthisday_out(
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

fn changed_out(
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

/// One server's settings and schedule. `+?1`, not `?1`: with the bare parameter,
/// SQLite's plan for this join depends on the bound value, so every bind expires the
/// cached statement and each read recompiled it (some 16 µs instead of 2 µs; the
/// HTTP endpoint reads this on every command from a server).
const READ_SETTINGS: &str = "SELECT g.visibility, g.visibility_changed_by, g.visibility_changed_at,
                    g.onthisday_channel_id, g.onthisday_time, g.onthisday_zone,
                    g.onthisday_changed_by, g.onthisday_changed_at,
                    s.next_local_date, s.next_run_at, s.paused_reason, s.paused_at,
                    s.guild_id IS NOT NULL, g.onthisday_empty_days
             FROM guild_settings g LEFT JOIN schedules s USING (guild_id)
             WHERE g.guild_id = +?1";

fn read_settings(conn: &Connection, guild_id: u64) -> Result<GuildSettings, StoreError> {
    let doing = || sql(format!("reading the settings of guild {guild_id}"));
    let mut st = conn.prepare_cached(READ_SETTINGS).map_err(doing())?;
    let raw = st
        .query_row([id_in(guild_id)], RawSettings::from_row)
        .optional()
        .map_err(doing())?;
    match raw {
        None => Ok(GuildSettings::default()),
        Some(raw) => raw.into_settings(guild_id),
    }
}

/// One row of `guild_settings` joined with its schedule, as SQLite returns it.
struct RawSettings {
    visibility: String,
    visibility_by: Option<i64>,
    visibility_at: Option<i64>,
    channel: Option<i64>,
    time: Option<String>,
    zone: Option<String>,
    onthisday_by: Option<i64>,
    onthisday_at: Option<i64>,
    next_date: Option<String>,
    next_at: Option<i64>,
    paused_reason: Option<String>,
    paused_at: Option<i64>,
    has_schedule: bool,
    empty_days: bool,
}

impl RawSettings {
    fn from_row(r: &Row<'_>) -> rusqlite::Result<Self> {
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

    fn into_settings(self, guild_id: u64) -> Result<GuildSettings, StoreError> {
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

fn is_posted(conn: &Connection, guild_id: u64, date: Date) -> Result<bool, StoreError> {
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

/// The next run of a daily post from `now` on (after the local date `after`, if
/// given) whose date has not been posted yet.
fn next_unposted_run(
    conn: &Connection,
    guild_id: u64,
    onthisday: &OnThisDay,
    after: Option<Date>,
    now: Timestamp,
) -> Result<Run, StoreError> {
    let schedule_error = |e: jiff::Error| StoreError::Schedule {
        guild_id,
        reason: e.to_string(),
    };
    let mut run = match after {
        None => onthisday.next_run(now),
        Some(date) => onthisday.next_run_after(date, now),
    }
    .map_err(schedule_error)?;
    // Each turn moves a day on; only days already posted (a handful) are skipped.
    while is_posted(conn, guild_id, run.date)? {
        run = onthisday
            .next_run_after(run.date, now)
            .map_err(schedule_error)?;
    }
    Ok(run)
}

fn set_next_run(conn: &Connection, guild_id: u64, run: Run) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE schedules SET next_local_date = ?2, next_run_at = ?3 WHERE guild_id = ?1",
        params![
            id_in(guild_id),
            run.date.to_string(),
            run.at.as_millisecond()
        ],
    )
    .map_err(sql(format!("scheduling the next post of guild {guild_id}")))?;
    Ok(())
}

/// Moves a schedule past the local date `date`, if it is not past it already.
fn advance(conn: &Connection, guild_id: u64, date: Date, now: Timestamp) -> Result<(), StoreError> {
    let settings = read_settings(conn, guild_id)?;
    let (Some(onthisday), Some(next)) = (settings.onthisday, schedule_date(conn, guild_id)?) else {
        return Ok(());
    };
    if next > date {
        return Ok(());
    }
    let run = next_unposted_run(conn, guild_id, &onthisday, Some(date), now)?;
    set_next_run(conn, guild_id, run)
}

/// The local date a schedule's next run is for (paused or not).
fn schedule_date(conn: &Connection, guild_id: u64) -> Result<Option<Date>, StoreError> {
    let date: Option<Option<String>> = conn
        .query_row(
            "SELECT next_local_date FROM schedules WHERE guild_id = ?1",
            [id_in(guild_id)],
            |r| r.get(0),
        )
        .optional()
        .map_err(sql(format!("reading the schedule of guild {guild_id}")))?;
    date.flatten()
        .map(|d| date_out("schedules", "next_local_date", &guild_row(guild_id), &d))
        .transpose()
}

fn audit(
    conn: &Connection,
    guild_id: u64,
    setting: Setting,
    old: &str,
    new: &str,
    user_id: Option<u64>,
    at: Timestamp,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO audit_log (guild_id, setting, old_value, new_value, user_id, at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .and_then(|mut st| {
        st.execute(params![
            id_in(guild_id),
            setting.as_str(),
            old,
            new,
            user_id.map(id_in),
            at.as_millisecond()
        ])
    })
    .map_err(sql(format!(
        "recording a change of {setting} for guild {guild_id}"
    )))?;
    Ok(())
}

fn write_settings(conn: &Connection, guild_id: u64, s: &GuildSettings) -> Result<(), StoreError> {
    let o = s.onthisday.as_ref();
    conn.prepare_cached(
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

/// Keeps a pause reason to one line of reasonable length.
fn clean_reason(reason: &str) -> String {
    let one_line: String = reason
        .trim()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let mut out: String = one_line.chars().take(MAX_REASON).collect();
    if one_line.chars().count() > MAX_REASON {
        out.push('…');
    }
    if out.is_empty() {
        out.push_str("no reason given");
    }
    out
}

impl SettingsStore for SqliteStore {
    fn guild_settings(&self, guild_id: u64) -> Result<GuildSettings, StoreError> {
        read_settings(&self.conn(), guild_id)
    }

    fn apply(
        &self,
        guild_id: u64,
        change: &Change,
        user_id: u64,
        at: Timestamp,
    ) -> Result<GuildSettings, StoreError> {
        self.write(&format!("changing the settings of guild {guild_id}"), |tx| {
            let old = read_settings(tx, guild_id)?;
            let (onthisday, visibility) = match change {
                Change::SetOnThisDay(o) => (Some(o.clone()), old.visibility),
                Change::ClearOnThisDay => (None, old.visibility),
                Change::SetVisibility(v) => (old.onthisday.clone(), *v),
                Change::Reset => (None, Visibility::default()),
            };
            let onthisday_changes = onthisday != old.onthisday;
            let visibility_changes = visibility != old.visibility;
            // A pause ends when the daily post is set again (even to the same value),
            // cleared or reset.
            let unpauses = old.paused.is_some()
                && matches!(
                    change,
                    Change::SetOnThisDay(_) | Change::ClearOnThisDay | Change::Reset
                );
            if !onthisday_changes && !visibility_changes && !unpauses {
                return Ok(old);
            }
            let by = Some(LastChange { user_id, at });
            let new = GuildSettings {
                onthisday_changed: if onthisday_changes {
                    by
                } else {
                    old.onthisday_changed
                },
                visibility_changed: if visibility_changes {
                    by
                } else {
                    old.visibility_changed
                },
                onthisday,
                visibility,
                paused: None,
                next_post: None,
            };
            write_settings(tx, guild_id, &new)?;
            let gid = id_in(guild_id);
            match &new.onthisday {
                None => {
                    tx.execute("DELETE FROM schedules WHERE guild_id = ?1", [gid])
                        .map_err(sql(format!("removing the schedule of guild {guild_id}")))?;
                }
                Some(o) if onthisday_changes || unpauses => {
                    tx.execute(
                        "INSERT INTO schedules (guild_id) VALUES (?1)
                         ON CONFLICT (guild_id) DO UPDATE SET paused_reason = NULL, paused_at = NULL",
                        [gid],
                    )
                    .map_err(sql(format!("scheduling the daily post of guild {guild_id}")))?;
                    let run = next_unposted_run(tx, guild_id, o, None, at)?;
                    set_next_run(tx, guild_id, run)?;
                }
                Some(_) => {}
            }
            if onthisday_changes {
                audit(
                    tx,
                    guild_id,
                    Setting::OnThisDay,
                    &describe_onthisday(old.onthisday.as_ref()),
                    &describe_onthisday(new.onthisday.as_ref()),
                    Some(user_id),
                    at,
                )?;
            }
            // Clearing or resetting a paused post records the post going off; a pause
            // row is only for a post that stays and runs again.
            if unpauses && new.onthisday.is_some() {
                audit(
                    tx,
                    guild_id,
                    Setting::Pause,
                    &describe_pause(old.paused.as_ref()),
                    &describe_pause(None),
                    Some(user_id),
                    at,
                )?;
            }
            if visibility_changes {
                audit(
                    tx,
                    guild_id,
                    Setting::Visibility,
                    old.visibility.as_str(),
                    new.visibility.as_str(),
                    Some(user_id),
                    at,
                )?;
            }
            read_settings(tx, guild_id)
        })
    }

    fn audit_trail(&self, guild_id: u64, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        let doing = || sql(format!("reading the audit trail of guild {guild_id}"));
        let conn = self.conn();
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

    fn enabled_schedules(&self) -> Result<Vec<Schedule>, StoreError> {
        self.schedules(None, usize::MAX)
    }

    fn due_schedules(&self, now: Timestamp, limit: usize) -> Result<Vec<Schedule>, StoreError> {
        self.schedules(Some(now), limit)
    }

    fn next_due_at(&self) -> Result<Option<Timestamp>, StoreError> {
        let at: Option<i64> = self
            .conn()
            .query_row(
                "SELECT min(next_run_at) FROM schedules WHERE paused_at IS NULL",
                [],
                |r| r.get(0),
            )
            .map_err(sql("finding the next post due"))?;
        at.map(|ms| time_out("schedules", "next_run_at", "the soonest schedule", ms))
            .transpose()
    }

    fn claim_post(&self, guild_id: u64, date: Date, at: Timestamp) -> Result<Claim, StoreError> {
        let doing = format!("claiming the post of guild {guild_id} for {date}");
        self.write(&doing, |tx| {
            let settings = read_settings(tx, guild_id)?;
            let existing: Option<(i64, i64, Option<i64>, Option<i64>)> = tx
                .query_row(
                    "SELECT attempts, first_claimed_at, sent_at, message_id FROM posts
                     WHERE guild_id = ?1 AND local_date = ?2",
                    params![id_in(guild_id), date.to_string()],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                )
                .optional()
                .map_err(sql(&doing))?;
            let row = format!("guild {guild_id} on {date}");
            if let Some((_, _, Some(sent), message)) = existing {
                return Ok(Claim::AlreadySent {
                    message_id: message.map(id_out),
                    sent_at: time_out("posts", "sent_at", &row, sent)?,
                });
            }
            let (Some(onthisday), None) = (settings.onthisday, settings.paused) else {
                return Ok(Claim::NotScheduled);
            };
            let nonce = post_nonce(guild_id, date);
            let (attempt, first) = match existing {
                Some((attempts, first, _, _)) => (
                    attempts.saturating_add(1),
                    time_out("posts", "first_claimed_at", &row, first)?,
                ),
                None => (1, at),
            };
            tx.execute(
                "INSERT INTO posts (guild_id, local_date, nonce, channel_id, attempts,
                                    first_claimed_at, last_claimed_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (guild_id, local_date) DO UPDATE SET
                     channel_id = excluded.channel_id,
                     attempts = excluded.attempts,
                     last_claimed_at = excluded.last_claimed_at",
                params![
                    id_in(guild_id),
                    date.to_string(),
                    nonce,
                    id_in(onthisday.channel_id),
                    attempt,
                    first.as_millisecond(),
                    at.as_millisecond()
                ],
            )
            .map_err(sql(&doing))?;
            Ok(Claim::Send(PostClaim {
                nonce,
                channel_id: onthisday.channel_id,
                attempt: u32::try_from(attempt).unwrap_or(u32::MAX),
                first_claimed_at: first,
            }))
        })
    }

    fn record_post(
        &self,
        guild_id: u64,
        date: Date,
        message_id: u64,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let doing = format!("recording the post of guild {guild_id} for {date}");
        self.write(&doing, |tx| {
            let updated = tx
                .execute(
                    "UPDATE posts SET sent_at = coalesce(sent_at, ?3),
                                      message_id = coalesce(message_id, ?4)
                     WHERE guild_id = ?1 AND local_date = ?2",
                    params![
                        id_in(guild_id),
                        date.to_string(),
                        at.as_millisecond(),
                        id_in(message_id)
                    ],
                )
                .map_err(sql(&doing))?;
            if updated == 0 {
                return Err(StoreError::Unclaimed { guild_id, date });
            }
            advance(tx, guild_id, date, at)
        })
    }

    fn was_posted(&self, guild_id: u64, date: Date) -> Result<bool, StoreError> {
        is_posted(&self.conn(), guild_id, date)
    }

    fn skip_post(&self, guild_id: u64, date: Date, at: Timestamp) -> Result<(), StoreError> {
        self.write(
            &format!("skipping the post of guild {guild_id} for {date}"),
            |tx| advance(tx, guild_id, date, at),
        )
    }

    fn postpone_post(&self, guild_id: u64, date: Date, until: Timestamp) -> Result<(), StoreError> {
        let doing = format!("putting off the post of guild {guild_id} for {date}");
        self.write(&doing, |tx| {
            tx.execute(
                "UPDATE schedules SET next_run_at = ?3
                 WHERE guild_id = ?1 AND next_local_date = ?2",
                params![id_in(guild_id), date.to_string(), until.as_millisecond()],
            )
            .map_err(sql(&doing))?;
            Ok(())
        })
    }

    fn pause_schedule(
        &self,
        guild_id: u64,
        reason: &str,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        let doing = format!("pausing the daily post of guild {guild_id}");
        let reason = clean_reason(reason);
        self.write(&doing, |tx| {
            let settings = read_settings(tx, guild_id)?;
            if settings.onthisday.is_none() || settings.paused.is_some() {
                return Ok(false);
            }
            tx.execute(
                "UPDATE schedules SET paused_reason = ?2, paused_at = ?3 WHERE guild_id = ?1",
                params![id_in(guild_id), reason, at.as_millisecond()],
            )
            .map_err(sql(&doing))?;
            let paused = Paused {
                reason: reason.clone(),
                at,
            };
            audit(
                tx,
                guild_id,
                Setting::Pause,
                &describe_pause(None),
                &describe_pause(Some(&paused)),
                None,
                at,
            )?;
            Ok(true)
        })
    }

    fn resume_schedule(&self, guild_id: u64, at: Timestamp) -> Result<bool, StoreError> {
        let doing = format!("resuming the daily post of guild {guild_id}");
        self.write(&doing, |tx| {
            let settings = read_settings(tx, guild_id)?;
            let (Some(onthisday), Some(paused)) = (settings.onthisday, settings.paused) else {
                return Ok(false);
            };
            tx.execute(
                "UPDATE schedules SET paused_reason = NULL, paused_at = NULL WHERE guild_id = ?1",
                [id_in(guild_id)],
            )
            .map_err(sql(&doing))?;
            let run = next_unposted_run(tx, guild_id, &onthisday, None, at)?;
            set_next_run(tx, guild_id, run)?;
            audit(
                tx,
                guild_id,
                Setting::Pause,
                &describe_pause(Some(&paused)),
                &describe_pause(None),
                None,
                at,
            )?;
            Ok(true)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cached statement is reused as is, not recompiled on each read (see
    /// [`READ_SETTINGS`]).
    #[test]
    fn reading_settings_reuses_its_compiled_statement() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("s.sqlite3")).unwrap();
        for guild in [1, 2, 1, u64::MAX] {
            store.guild_settings(guild).unwrap();
        }
        let conn = store.conn();
        let st = conn.prepare_cached(READ_SETTINGS).unwrap();
        assert!(st.get_status(rusqlite::StatementStatus::VmStep) > 0);
        assert_eq!(st.get_status(rusqlite::StatementStatus::RePrepare), 0);
    }

    #[test]
    fn ids_above_i64_max_survive_the_round_trip() {
        for id in [0, 1, 81_384_788_765_712_384, i64::MAX as u64, u64::MAX] {
            assert_eq!(id_out(id_in(id)), id);
        }
    }

    #[test]
    fn pause_reasons_are_one_line_and_bounded() {
        assert_eq!(clean_reason("  403 Missing Access\n"), "403 Missing Access");
        assert_eq!(clean_reason("a\nb"), "a b");
        assert_eq!(clean_reason(""), "no reason given");
        assert_eq!(
            clean_reason(&"x".repeat(1000)).chars().count(),
            MAX_REASON + 1
        );
    }
}
