//! Durable storage for what servers configure and for the daily posts' schedule.
//!
//! An edge: it does I/O and keeps values; what a command means and what Discord
//! says live elsewhere. The values it keeps are the core's
//! ([`karabakh_core::settings`]). Everything goes through [`SettingsStore`], so that another
//! database (PostgreSQL, for several processes) can stand in for [`SqliteStore`].
//!
//! The trait is synchronous; async callers use `tokio::task::spawn_blocking`. The
//! store does not read the clock: callers hand in "now", which keeps tests exact.
//! (One exception: [`SqliteStore::open`] schedules, from the time of opening, the
//! daily posts carried over from a database older than migration 0002.)

mod migrations;
mod sqlite;

use jiff::Timestamp;
use jiff::civil::Date;
use karabakh_core::settings::{AuditEntry, Change, GuildSettings, OnThisDay, Run};

pub use migrations::{MIGRATIONS, Migration, SCHEMA_VERSION};
pub use sqlite::SqliteStore;

/// Why the store could not do what it was asked. Each message is a sentence for the
/// operator's log: it names the database file or the table and row at fault, never a
/// secret.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: cannot create the database's folder: {source}")]
    CreateDir {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: cannot open the database: {source}")]
    Open {
        path: String,
        #[source]
        source: rusqlite::Error,
    },
    #[error(
        "{path}: the database is at schema version {found}, newer than this build knows \
         (up to {known}); run the newer build that wrote it, or restore a backup"
    )]
    TooNew {
        path: String,
        found: i64,
        known: i64,
    },
    #[error("{path}: migration {name} failed, the database is left at version {at}: {source}")]
    Migration {
        path: String,
        name: &'static str,
        at: i64,
        #[source]
        source: rusqlite::Error,
    },
    #[error("database error while {doing}: {source}")]
    Sqlite {
        doing: String,
        #[source]
        source: rusqlite::Error,
    },
    #[error("the database holds a bad value in {table}.{column} for {row}: {reason}")]
    Corrupt {
        table: &'static str,
        column: &'static str,
        row: String,
        reason: String,
    },
    #[error(
        "cannot record the post of guild {guild_id} for {date} as sent: it was never \
         claimed (claim_post comes before sending)"
    )]
    Unclaimed { guild_id: u64, date: Date },
    #[error("cannot compute the next daily post of guild {guild_id}: {reason}")]
    Schedule { guild_id: u64, reason: String },
}

/// What [`SettingsStore::claim_post`] found for a server's post of a local date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// Send the post now, to this channel, with this nonce and `enforce_nonce`; then
    /// call [`SettingsStore::record_post`].
    Send(PostClaim),
    /// The post for that date is recorded as sent: do not send it again.
    AlreadySent {
        message_id: Option<u64>,
        sent_at: Timestamp,
    },
    /// The server has no daily post configured any more, or it is paused.
    NotScheduled,
}

/// A post claimed for sending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostClaim {
    /// [`post_nonce`] of the server and date: the same on every attempt.
    pub nonce: String,
    /// The channel configured now.
    pub channel_id: u64,
    /// 1 on the first attempt. More means an earlier attempt was claimed and never
    /// recorded as sent: it may have reached Discord before a crash, which the
    /// nonce guards against.
    pub attempt: u32,
    pub first_claimed_at: Timestamp,
}

/// A server's daily post as the scheduler sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    pub guild_id: u64,
    pub onthisday: OnThisDay,
    pub next_run: Run,
}

/// Where settings, their audit trail and the schedule's state are kept.
pub trait SettingsStore: Send + Sync {
    /// A server's settings; the defaults for a server that never configured anything
    /// (nothing is written for it).
    fn guild_settings(&self, guild_id: u64) -> Result<GuildSettings, StoreError>;

    /// Applies a moderator's change and records it in the audit trail, all in one
    /// transaction: both happen or neither. Each setting whose value changes gets an
    /// audit record and its "last changed" mark; a change to the value already set
    /// records nothing. Setting the daily post clears a pause and schedules the next
    /// post from `at` on (skipping a day already posted); clearing it or a reset
    /// removes the schedule but keeps the record of past posts. Returns the settings
    /// as they are after the change.
    fn apply(
        &self,
        guild_id: u64,
        change: &Change,
        user_id: u64,
        at: Timestamp,
    ) -> Result<GuildSettings, StoreError>;

    /// A server's recorded changes, newest first, at most `limit`.
    fn audit_trail(&self, guild_id: u64, limit: usize) -> Result<Vec<AuditEntry>, StoreError>;

    /// Every daily post configured and not paused, soonest first.
    fn enabled_schedules(&self) -> Result<Vec<Schedule>, StoreError>;

    /// The schedules due at `now` (next run at or before it, not paused), soonest
    /// first, at most `limit`. Costs in the number due, not the number of servers.
    fn due_schedules(&self, now: Timestamp, limit: usize) -> Result<Vec<Schedule>, StoreError>;

    /// When the soonest run of any schedule not paused is due, if any: how long the
    /// scheduler may sleep.
    fn next_due_at(&self) -> Result<Option<Timestamp>, StoreError>;

    /// Claims the post of a server for a local date before it is sent, durably. A
    /// second claim of the same post (a retry, or after a crash) gets the same nonce
    /// and a higher attempt number.
    fn claim_post(&self, guild_id: u64, date: Date, at: Timestamp) -> Result<Claim, StoreError>;

    /// Records the post of a server for a local date as sent, and moves its schedule
    /// on to the next local day (skipping days already past).
    fn record_post(
        &self,
        guild_id: u64,
        date: Date,
        message_id: u64,
        at: Timestamp,
    ) -> Result<(), StoreError>;

    /// Whether the post of a server for a local date is recorded as sent.
    fn was_posted(&self, guild_id: u64, date: Date) -> Result<bool, StoreError>;

    /// Gives up the post for a local date without sending it (e.g. found too late)
    /// and moves the schedule on, as [`record_post`](Self::record_post) does. Does
    /// nothing if the schedule is already past that date or gone.
    fn skip_post(&self, guild_id: u64, date: Date, at: Timestamp) -> Result<(), StoreError>;

    /// Puts the post for a local date off until `until` (a retry after a failure
    /// that may pass). Does nothing if the schedule is already past that date or gone.
    fn postpone_post(&self, guild_id: u64, date: Date, until: Timestamp) -> Result<(), StoreError>;

    /// Stops a server's daily post with a reason shown to moderators, recorded in the
    /// audit trail as made by the bot. Returns false if the server has no daily post,
    /// or it is paused already (the first reason is kept).
    fn pause_schedule(
        &self,
        guild_id: u64,
        reason: &str,
        at: Timestamp,
    ) -> Result<bool, StoreError>;

    /// Starts a paused daily post again from `at` on, recorded as made by the bot.
    /// Returns false if it was not paused.
    fn resume_schedule(&self, guild_id: u64, at: Timestamp) -> Result<bool, StoreError>;
}
