//! [`Store`] on a PostgreSQL server shared by any number of the bot's processes
//! (sqlx's `PgPool`).
//!
//! Each write is one transaction that first takes a transaction-scoped advisory lock
//! on the server's id, so that two processes changing one server's settings apply
//! one change after the other (the audit trail chains old → new) while different
//! servers go in parallel. Due posts are leased with `FOR UPDATE SKIP LOCKED`: two
//! schedulers never wait on, nor take, the same row. Every write that changes what a
//! server's settings read sends `NOTIFY` (delivered at commit); each process
//! `LISTEN`s and passes the server on through [`Store::changes`]. A store announces
//! its own writes itself, once each has committed; the `NOTIFY` names the store that
//! sent it (`<server> <instance>`, [`INSTANCE_SETTING`]) and its own come back to it
//! unheard (they used to come back as a second notice for each write, which dropped
//! from the settings cache the value the write had just put in).
//!
//! Migrations are applied at connect, each in a transaction holding an advisory lock
//! (a key of its own), so that processes starting together apply each one once.
//! The URL's password is never logged nor put in an error: [`redact`].

mod migrate;
mod ops;

use std::str::FromStr;
use std::time::Duration;

use jiff::Timestamp;
use jiff::civil::Date;
use karabakh_core::settings::{AuditEntry, Change, GuildSettings};
use sqlx::postgres::{PgConnectOptions, PgListener, PgPool, PgPoolOptions};
use tokio::sync::broadcast;

use crate::{CHANGES_BUFFER, Changed, Lease, Store, StoreError, StoreResult};

/// How many connections a process keeps at most, by default.
pub const DEFAULT_POOL_SIZE: u32 = 10;

/// How long a call waits for a free connection (or for the server) before it fails
/// as [`StoreError::Unavailable`].
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// How long the listener waits before connecting again after the server went away;
/// doubled after each failed attempt, up to [`LISTEN_RETRY_MAX`].
const LISTEN_RETRY: Duration = Duration::from_secs(1);

/// The longest the listener waits between two attempts to connect: the bound, with
/// the pool's [`ACQUIRE_TIMEOUT`], on how late it listens again once the server is
/// back.
const LISTEN_RETRY_MAX: Duration = Duration::from_secs(4);

/// The `NOTIFY` channel every process listens on (`kr_<schema>` in a schema of its
/// own).
const CHANNEL: &str = "kr_settings_changed";

/// A setting of each of a store's connections naming the store, which its `NOTIFY`
/// payloads carry after the server's id.
pub(crate) const INSTANCE_SETTING: &str = "karabakh.instance";

/// A name for a store, unique among the processes and the stores of one process.
fn instance_name() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static STORES: AtomicU64 = AtomicU64::new(0);
    format!(
        "{}-{}-{}",
        std::process::id(),
        Timestamp::now().as_nanosecond(),
        STORES.fetch_add(1, Ordering::Relaxed)
    )
}

/// What a `NOTIFY` payload says to `instance`: nothing when `instance` sent it (it
/// announced the change itself), the server otherwise, or anything when it cannot be
/// read.
fn heard(payload: &str, instance: &str) -> Option<Changed> {
    let (guild, sender) = payload.split_once(' ').unwrap_or((payload, ""));
    if sender == instance {
        return None;
    }
    Some(guild.parse::<u64>().map_or(Changed::All, Changed::Guild))
}

/// Where and how to connect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgConfig {
    /// `postgres://user:password@host:port/database?…`; the password stays in here.
    pub url: String,
    pub pool_size: u32,
    /// A schema to use instead of `public` (its own tables, its own `NOTIFY`
    /// channel): several bots, or tests, on one database. Created if missing.
    pub schema: Option<String>,
}

impl PgConfig {
    pub fn new(url: impl Into<String>) -> Self {
        PgConfig {
            url: url.into(),
            pool_size: DEFAULT_POOL_SIZE,
            schema: None,
        }
    }
}

/// Settings and schedules on a PostgreSQL server.
pub struct PgStore {
    pool: PgPool,
    shown: String,
    channel: String,
    changes: broadcast::Sender<Changed>,
    listener: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("database", &self.shown)
            .finish_non_exhaustive()
    }
}

/// The URL as it may be shown: without its password (or anything after `?`, which
/// may hold one too).
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                let _ = parsed.set_password(Some("***"));
            }
            parsed.set_query(None);
            parsed.to_string()
        }
        Err(_) => "a PostgreSQL URL that cannot be read".to_owned(),
    }
}

/// A sqlx error as a sentence, with any piece of the URL's password removed.
fn scrub(text: String, url: &str) -> String {
    let password = url::Url::parse(url)
        .ok()
        .and_then(|u| u.password().map(str::to_owned));
    match password {
        Some(p) if !p.is_empty() => {
            let decoded = percent_decode(&p);
            text.replace(&p, "***").replace(&decoded, "***")
        }
        _ => text,
    }
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| s.to_owned())
}

/// Whether a schema name is one this store will put in SQL unquoted-safe: lowercase
/// letters, digits and underscores, not starting with a digit, at most 60 bytes (its
/// `NOTIFY` channel, `kr_<schema>`, must fit PostgreSQL's 63).
fn valid_schema(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 60
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

impl PgStore {
    /// Connects, creates the schema if one is named, applies the migrations (once,
    /// whatever the number of processes starting together), and starts listening for
    /// other processes' changes. Must run inside a tokio runtime.
    pub async fn connect(config: &PgConfig) -> StoreResult<Self> {
        let shown = redact(&config.url);
        let open_error = |e: sqlx::Error| StoreError::Open {
            path: shown.clone(),
            source: scrub(e.to_string(), &config.url).into(),
        };
        let instance = instance_name();
        let mut options = PgConnectOptions::from_str(&config.url)
            .map_err(open_error)?
            .application_name("karabakh-reactions")
            .options([(INSTANCE_SETTING, instance.as_str())]);
        let mut channel = CHANNEL.to_owned();
        if let Some(schema) = &config.schema {
            if !valid_schema(schema) {
                return Err(StoreError::Open {
                    path: shown,
                    source: format!(
                        "`{schema}` is not a schema name this bot uses (lowercase letters, \
                         digits and `_`)"
                    )
                    .into(),
                });
            }
            options = options.options([("search_path", schema.as_str())]);
            channel = format!("kr_{schema}");
        }
        let pool = PgPoolOptions::new()
            .max_connections(config.pool_size.max(2))
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(open_error)?;
        if let Some(schema) = &config.schema {
            sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
                .execute(&pool)
                .await
                .or_else(|e| match &e {
                    // Two processes creating it at once: the other one won.
                    sqlx::Error::Database(d) if d.code().as_deref() == Some("23505") => {
                        Ok(sqlx::postgres::PgQueryResult::default())
                    }
                    _ => Err(e),
                })
                .map_err(open_error)?;
        }
        migrate::migrate(&pool, &shown).await?;
        let (changes, _) = broadcast::channel(CHANGES_BUFFER);
        let listener = tokio::spawn(listen(
            pool.clone(),
            channel.clone(),
            instance,
            changes.clone(),
        ));
        Ok(PgStore {
            pool,
            shown,
            channel,
            changes,
            listener,
        })
    }

    /// The server and database, without the password.
    pub fn shown(&self) -> &str {
        &self.shown
    }

    fn changed(&self, guild_id: u64) {
        let _ = self.changes.send(Changed::Guild(guild_id));
    }

    async fn acquire(
        &self,
        doing: &str,
    ) -> StoreResult<sqlx::pool::PoolConnection<sqlx::Postgres>> {
        self.pool.acquire().await.map_err(ops::failed(doing))
    }
}

impl Drop for PgStore {
    fn drop(&mut self) {
        self.listener.abort();
    }
}

/// Passes other processes' changes (not this store's: it announced them itself) on to
/// [`Store::changes`].
///
/// When the connection is lost (the server restarted, or is down), notifications
/// sent meanwhile are lost too: it says [`Changed::All`] at once (what was cached may
/// be stale), tries to connect again, 1 s after the loss and then at most every
/// [`LISTEN_RETRY_MAX`], and says [`Changed::All`] once more when it listens again
/// (what was read while it was not listening may be stale too; and the scheduler,
/// woken by it, looks for posts due at once rather than at its next poll).
async fn listen(
    pool: PgPool,
    channel: String,
    instance: String,
    changes: broadcast::Sender<Changed>,
) {
    let mut retry = LISTEN_RETRY;
    let mut lost = false;
    loop {
        if pool.is_closed() {
            return;
        }
        let connected = match PgListener::connect_with(&pool).await {
            Ok(mut listener) => listener.listen(&channel).await.map(|()| listener),
            Err(e) => Err(e),
        };
        let mut listener = match connected {
            Ok(listener) => listener,
            Err(e) => {
                tracing::warn!(
                    error = %e,
                    retry_s = retry.as_secs(),
                    "cannot listen for settings changes; trying again"
                );
                if !lost {
                    lost = true;
                    let _ = changes.send(Changed::All);
                }
                tokio::time::sleep(retry).await;
                retry = (retry * 2).min(LISTEN_RETRY_MAX);
                continue;
            }
        };
        if lost {
            tracing::info!("listening for settings changes again");
            let _ = changes.send(Changed::All);
        }
        retry = LISTEN_RETRY;
        loop {
            match listener.try_recv().await {
                Ok(Some(n)) => {
                    if let Some(change) = heard(n.payload(), &instance) {
                        let _ = changes.send(change);
                    }
                }
                // Lost, and connected again (sqlx's listener reconnects, and listens
                // again, before it says so).
                Ok(None) => {
                    tracing::warn!(
                        "lost the connection that listens for settings changes; listening again"
                    );
                    let _ = changes.send(Changed::All);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "lost the connection that listens for settings changes");
                    lost = true;
                    let _ = changes.send(Changed::All);
                    tokio::time::sleep(retry).await;
                    break;
                }
            }
        }
    }
}

#[async_trait::async_trait]
impl Store for PgStore {
    fn describe(&self) -> String {
        format!("PostgreSQL at {}", self.shown)
    }

    async fn schema_version(&self) -> StoreResult<i64> {
        let mut conn = self.acquire("reading the schema version").await?;
        migrate::version(&mut conn)
            .await
            .map_err(ops::failed("reading the schema version"))
    }

    async fn guild_settings(&self, guild_id: u64) -> StoreResult<GuildSettings> {
        let doing = "reading a server's settings";
        let mut conn = self.acquire(doing).await?;
        ops::read_settings(&mut conn, guild_id).await
    }

    async fn apply(
        &self,
        guild_id: u64,
        change: Change,
        user_id: u64,
        at: Timestamp,
    ) -> StoreResult<GuildSettings> {
        let settings =
            ops::apply(&self.pool, &self.channel, guild_id, &change, user_id, at).await?;
        self.changed(guild_id);
        Ok(settings)
    }

    async fn audit_trail(&self, guild_id: u64, limit: usize) -> StoreResult<Vec<AuditEntry>> {
        let mut conn = self.acquire("reading an audit trail").await?;
        ops::audit_trail(&mut conn, guild_id, limit).await
    }

    async fn next_due_at(&self) -> StoreResult<Option<Timestamp>> {
        let mut conn = self.acquire("finding the next post due").await?;
        ops::next_due_at(&mut conn).await
    }

    async fn lease_due(
        &self,
        now: Timestamp,
        owner: &str,
        lease_for: Duration,
        limit: usize,
    ) -> StoreResult<Vec<Lease>> {
        ops::lease_due(&self.pool, now, owner, lease_for, limit).await
    }

    async fn record_sent(&self, lease: &Lease, message_id: u64, at: Timestamp) -> StoreResult<()> {
        let held = ops::record_sent(&self.pool, &self.channel, lease, message_id, at).await?;
        self.changed(lease.guild_id);
        if held {
            Ok(())
        } else {
            Err(StoreError::Fenced {
                guild_id: lease.guild_id,
                date: lease.date,
            })
        }
    }

    async fn skip(&self, lease: &Lease, at: Timestamp) -> StoreResult<()> {
        ops::skip(&self.pool, &self.channel, lease, at).await?;
        self.changed(lease.guild_id);
        Ok(())
    }

    async fn retry_at(&self, lease: &Lease, retry_at: Timestamp) -> StoreResult<()> {
        ops::retry_at(&self.pool, lease, retry_at, false).await
    }

    async fn retry_after_failure(&self, lease: &Lease, retry_at: Timestamp) -> StoreResult<()> {
        ops::retry_at(&self.pool, lease, retry_at, true).await
    }

    async fn pause(&self, lease: &Lease, reason: &str, at: Timestamp) -> StoreResult<()> {
        ops::pause(&self.pool, &self.channel, lease, reason, at).await?;
        self.changed(lease.guild_id);
        Ok(())
    }

    async fn resume_schedule(&self, guild_id: u64, at: Timestamp) -> StoreResult<bool> {
        let resumed = ops::resume(&self.pool, &self.channel, guild_id, at).await?;
        if resumed {
            self.changed(guild_id);
        }
        Ok(resumed)
    }

    async fn was_posted(&self, guild_id: u64, date: Date) -> StoreResult<bool> {
        let mut conn = self.acquire("reading whether a post was sent").await?;
        ops::is_posted(&mut conn, guild_id, date).await
    }

    fn changes(&self) -> broadcast::Receiver<Changed> {
        self.changes.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_never_shows() {
        let url = "postgres://bot:s3cr%40t@db.example:5432/bot?sslmode=require&password=x";
        let shown = redact(url);
        assert_eq!(shown, "postgres://bot:***@db.example:5432/bot");
        let err = scrub(
            "password authentication failed: s3cr@t s3cr%40t".to_owned(),
            url,
        );
        assert!(!err.contains("s3cr"), "{err}");
        assert_eq!(
            redact("postgres://postgres@127.0.0.1:5432/test"),
            "postgres://postgres@127.0.0.1:5432/test"
        );
        assert!(!redact("not a url :// s3cr3t").contains("s3cr3t"));
    }

    #[test]
    fn a_store_does_not_hear_its_own_notices() {
        assert_eq!(heard("42 7-1-0", "7-1-0"), None);
        assert_eq!(heard("42 7-1-1", "7-1-0"), Some(Changed::Guild(42)));
        // A process of an earlier version names no store.
        assert_eq!(heard("42", "7-1-0"), Some(Changed::Guild(42)));
        assert_eq!(heard("x 7-1-1", "7-1-0"), Some(Changed::All));
        assert_ne!(instance_name(), instance_name());
    }

    #[test]
    fn schema_names_are_plain() {
        assert!(valid_schema("kr_test_1"));
        for bad in ["", "1abc", "a;drop", "Public", "a-b", &"x".repeat(61)] {
            assert!(!valid_schema(bad), "{bad}");
        }
    }
}
