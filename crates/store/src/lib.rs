//! Durable storage for what servers configure and for the daily posts' schedule.
//!
//! An edge: it does I/O and keeps values; what a command means and what Discord
//! says live elsewhere. The values it keeps are the core's
//! ([`karabakh_core::settings`]), and so are the rules of what a change does
//! ([`karabakh_core::settings::rules`]) and of leases ([`karabakh_core::lease`]): a
//! backend reads the current state in a transaction, asks the core, and stores what
//! it answers.
//!
//! Everything goes through the async [`Store`] port, used as `Arc<dyn Store>`: no call
//! blocks a tokio worker. [`SqliteStore`] is the embedded default (one writer thread,
//! reader connections on the blocking pool); [`PgStore`] lets any number of processes
//! share one PostgreSQL server. [`open`] picks one from a [`Database`].
//!
//! The store does not read the clock: callers hand in "now", which keeps tests exact.
//! (One exception: [`SqliteStore::open`] schedules, from the time of opening, the
//! daily posts carried over from a database older than migration 0002.)

mod error;
mod migrations;
mod postgres;
mod sqlite;
#[cfg(feature = "test-support")]
pub mod testing;
mod values;

use std::time::Duration;

use jiff::Timestamp;
use jiff::civil::Date;
use karabakh_core::settings::{AuditEntry, Change, GuildSettings, OnThisDay};

pub use error::{StoreError, StoreResult};
pub use migrations::{
    Migration, POSTGRES_MIGRATIONS, POSTGRES_SCHEMA_VERSION, SQLITE_MIGRATIONS,
    SQLITE_SCHEMA_VERSION,
};
pub use postgres::{DEFAULT_POOL_SIZE, PgConfig, PgStore, redact};
pub use sqlite::SqliteStore;

/// Which database a process uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    /// An embedded SQLite file (the default): one process.
    Sqlite(std::path::PathBuf),
    /// A PostgreSQL server: any number of processes.
    Postgres(PgConfig),
}

impl Database {
    /// What it is, for the operator's log (never a password).
    pub fn describe(&self) -> String {
        match self {
            Database::Sqlite(path) => format!("SQLite at {}", path.display()),
            Database::Postgres(pg) => format!("PostgreSQL at {}", redact(&pg.url)),
        }
    }
}

/// Opens (creates, migrates) the database. SQLite's file work runs on the blocking
/// pool; must run inside a tokio runtime.
pub async fn open(database: &Database) -> StoreResult<std::sync::Arc<dyn Store>> {
    match database {
        Database::Sqlite(path) => {
            let path = path.clone();
            let shown = path.display().to_string();
            let store = tokio::task::spawn_blocking(move || SqliteStore::open(path))
                .await
                .map_err(|e| StoreError::Unavailable {
                    doing: format!("opening {shown}"),
                    reason: e.to_string(),
                })??;
            Ok(std::sync::Arc::new(store))
        }
        Database::Postgres(pg) => Ok(std::sync::Arc::new(PgStore::connect(pg).await?)),
    }
}

/// A lease on one due daily post: held by `owner` until `until`, fenced by `fence`.
/// Every lease of a post gets a new fence; a write made with an older one is refused
/// as [`StoreError::Fenced`], so a process whose lease ran out and was taken over
/// cannot move the schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub guild_id: u64,
    /// The local date the post is for.
    pub date: Date,
    /// The daily post as configured when it was leased.
    pub onthisday: OnThisDay,
    /// The channel configured now (`onthisday.channel_id`).
    pub channel_id: u64,
    /// [`karabakh_core::settings::post_nonce`] of the server and date: the same on
    /// every attempt.
    pub nonce: String,
    /// 1 on the first lease of this post. More means an earlier attempt was leased
    /// and never recorded as sent: it may have reached Discord before a crash, which
    /// the nonce and the channel-history check guard against. Counted in the database.
    pub attempt: u32,
    /// How many tries of this post failed before this lease (a 5xx, no answer),
    /// counted in the database ([`Store::retry_after_failure`]): the backoff goes by it
    /// ([`karabakh_core::schedule::retry_wait`]), whichever process tried, across
    /// restarts. Tries put off by a 429 or a rejected token are not failures.
    pub failures: u32,
    /// When the post was first leased (the channel-history check looks from then on).
    pub first_leased_at: Timestamp,
    pub fence: i64,
    pub owner: String,
    pub until: Timestamp,
}

/// Something that changed in the store, for caches and the scheduler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Changed {
    /// This server's settings or schedule changed.
    Guild(u64),
    /// Anything may have changed (notifications from other processes were lost, e.g.
    /// while a listener reconnected): forget everything cached.
    All,
}

/// How many [`Changed`] notices a slow receiver may fall behind by before it misses
/// some (it then gets `RecvError::Lagged`, which means [`Changed::All`]).
pub const CHANGES_BUFFER: usize = 1024;

/// Where settings, their audit trail and the schedule's state are kept. Every method
/// is async and never blocks the caller's worker thread.
#[async_trait::async_trait]
pub trait Store: Send + Sync + 'static {
    /// What the store is, for the operator's log (never a password).
    fn describe(&self) -> String;

    /// The schema version the database is at.
    async fn schema_version(&self) -> StoreResult<i64>;

    /// A server's settings; the defaults for a server that never configured anything
    /// (nothing is written for it).
    async fn guild_settings(&self, guild_id: u64) -> StoreResult<GuildSettings>;

    /// Applies a moderator's change and records it in the audit trail, all in one
    /// transaction: both happen or neither. What it does is the core's
    /// ([`karabakh_core::settings::rules::apply`]); a change of the schedule takes
    /// back any lease on it. Returns the settings as they are after the change.
    async fn apply(
        &self,
        guild_id: u64,
        change: Change,
        user_id: u64,
        at: Timestamp,
    ) -> StoreResult<GuildSettings>;

    /// A server's recorded changes, newest first, at most `limit`.
    async fn audit_trail(&self, guild_id: u64, limit: usize) -> StoreResult<Vec<AuditEntry>>;

    /// The soonest time any post not paused is handed out (its run, its retry time,
    /// or the expiry of its lease): how long a scheduler may sleep.
    async fn next_due_at(&self) -> StoreResult<Option<Timestamp>>;

    /// Leases up to `limit` posts due at `now` ([`karabakh_core::lease::is_due`]) to
    /// `owner` until `now + lease_for`, soonest first, each with a new fence and its
    /// attempt count raised in the database. Two callers never get the same post
    /// while its lease runs.
    async fn lease_due(
        &self,
        now: Timestamp,
        owner: &str,
        lease_for: Duration,
        limit: usize,
    ) -> StoreResult<Vec<Lease>>;

    /// The post went out as `message_id`: records it and moves the schedule to the
    /// next local day not posted. Fenced: with a lease that is no longer current the
    /// message is still recorded as the post of its day (it exists), but the schedule
    /// is not touched and the answer is [`StoreError::Fenced`].
    async fn record_sent(&self, lease: &Lease, message_id: u64, at: Timestamp) -> StoreResult<()>;

    /// Gives the post up (a missed day, an empty day, retries exhausted) and moves
    /// the schedule on from `at`. Fenced.
    async fn skip(&self, lease: &Lease, at: Timestamp) -> StoreResult<()>;

    /// Releases the lease; the post is due again at `retry_at`. Not a failure (a 429,
    /// a rejected token, a post that waited too long for its turn). Fenced.
    async fn retry_at(&self, lease: &Lease, retry_at: Timestamp) -> StoreResult<()>;

    /// The try failed (a 5xx, no answer): counts the failure against the post in the
    /// database (the next lease's [`Lease::failures`]) and releases the lease; the post
    /// is due again at `retry_at`. Fenced.
    async fn retry_after_failure(&self, lease: &Lease, retry_at: Timestamp) -> StoreResult<()>;

    /// Pauses the server's daily post with a reason shown to moderators (Discord
    /// refused it), recorded in the audit trail as made by the bot. Fenced.
    async fn pause(&self, lease: &Lease, reason: &str, at: Timestamp) -> StoreResult<()>;

    /// Starts a paused daily post again from `at` on, recorded as made by the bot.
    /// Returns false if it was not paused.
    async fn resume_schedule(&self, guild_id: u64, at: Timestamp) -> StoreResult<bool>;

    /// Whether the post of a server for a local date is recorded as sent.
    async fn was_posted(&self, guild_id: u64, date: Date) -> StoreResult<bool>;

    /// The servers whose settings or schedule change from now on, in this process and
    /// (PostgreSQL) in others: feeds the settings cache and wakes the scheduler.
    fn changes(&self) -> tokio::sync::broadcast::Receiver<Changed>;
}
