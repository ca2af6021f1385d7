//! [`Store`] on an embedded SQLite file.
//!
//! SQLite lets one writer in at a time whatever the number of connections, so every
//! write goes to one connection on its own thread (the writer), in arrival order;
//! reads go to other connections on tokio's blocking pool. In WAL mode a reader never
//! waits for the writer, so a read does not queue behind a write's fsync, and no
//! call blocks an async worker. Other processes (an operator's `sqlite3` shell, a
//! second bot) are waited for up to [`BUSY_TIMEOUT`].
//!
//! Durability: WAL journal with `synchronous=FULL`. In WAL mode `NORMAL` can lose the
//! last transactions on a power cut (never on a crash of the process alone); the
//! exactly-once record of posts must survive whatever happens next, and writes here
//! are rare, so the extra fsync per commit is cheap. Every write is one `BEGIN
//! IMMEDIATE` transaction: the write lock is taken at the start, so a transaction
//! never fails half-way for want of it.

mod migrate;
mod rows;
mod writes;

use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, mpsc};
use std::thread::JoinHandle;
use std::time::Duration;

use jiff::Timestamp;
use jiff::civil::Date;
use karabakh_core::settings::{AuditEntry, Change, GuildSettings};
use rusqlite::{Connection, TransactionBehavior};
use tokio::sync::{broadcast, oneshot};

use crate::{CHANGES_BUFFER, Changed, Lease, Store, StoreError, StoreResult};
use rows::sql;

/// How long a write waits for another connection's lock before giving up.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// How many idle reader connections are kept open.
const IDLE_READERS: usize = 4;

/// A write for the writer thread.
type Job = Box<dyn FnOnce(&mut Connection) + Send>;

/// Settings and schedules in a SQLite file.
pub struct SqliteStore {
    path: PathBuf,
    /// `None` only while dropping.
    jobs: Option<mpsc::Sender<Job>>,
    writer: Option<JoinHandle<()>>,
    readers: Arc<Readers>,
    changes: broadcast::Sender<Changed>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// Reader connections, opened as needed and kept while idle (up to [`IDLE_READERS`]).
struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl Readers {
    fn take(&self) -> Result<Connection, StoreError> {
        let idle = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        match idle {
            Some(conn) => Ok(conn),
            None => {
                let shown = self.path.display().to_string();
                let conn = connect(&self.path, &shown)?;
                conn.pragma_update(None, "query_only", true)
                    .map_err(open_error(&shown))?;
                Ok(conn)
            }
        }
    }

    fn give_back(&self, conn: Connection) {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < IDLE_READERS {
            idle.push(conn);
        }
    }
}

fn open_error(path: &str) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
    move |source| StoreError::Open {
        path: path.to_owned(),
        source: source.into(),
    }
}

/// A connection with the settings every connection of the store uses.
fn connect(path: &Path, shown: &str) -> Result<Connection, StoreError> {
    let conn = Connection::open(path).map_err(open_error(shown))?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(open_error(shown))?;
    conn.pragma_update(None, "foreign_keys", true)
        .map_err(open_error(shown))?;
    Ok(conn)
}

/// Runs `f` in one write transaction, committed if it returns Ok.
fn in_transaction<T>(
    conn: &mut Connection,
    doing: &str,
    f: impl FnOnce(&Connection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sql(doing))?;
    let value = f(&tx)?;
    tx.commit().map_err(sql(doing))?;
    Ok(value)
}

impl SqliteStore {
    /// Opens the database at `path`, creating it (and its folder) on first run, and
    /// brings its schema to [`crate::SQLITE_SCHEMA_VERSION`]. A database written by a
    /// newer build is refused. Blocking (a few file operations): call it at start-up,
    /// or on the blocking pool.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref();
        let shown = path.display().to_string();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
                path: shown.clone(),
                source,
            })?;
        }
        let mut conn = connect(path, &shown)?;
        // The first statement that reads the file: a file that is not a SQLite
        // database fails here.
        let mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
            .map_err(open_error(&shown))?;
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::warn!(path = %shown, mode, "the database is not in WAL mode");
        }
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(open_error(&shown))?;
        migrate::migrate(&mut conn, &shown)?;
        in_transaction(
            &mut conn,
            "scheduling the daily posts left unscheduled",
            |tx| writes::schedule_unscheduled(tx, Timestamp::now()),
        )?;
        let (jobs, queue) = mpsc::channel::<Job>();
        let writer = std::thread::Builder::new()
            .name("sqlite-writer".to_owned())
            .spawn(move || {
                while let Ok(job) = queue.recv() {
                    // A panic in one write (a bug) rolls its transaction back and
                    // drops its answer; the writer goes on with the next.
                    let _ = std::panic::catch_unwind(AssertUnwindSafe(|| job(&mut conn)));
                }
            })
            .map_err(|source| StoreError::Open {
                path: shown.clone(),
                source: source.into(),
            })?;
        let (changes, _) = broadcast::channel(CHANGES_BUFFER);
        Ok(SqliteStore {
            path: path.to_owned(),
            jobs: Some(jobs),
            writer: Some(writer),
            readers: Arc::new(Readers {
                path: path.to_owned(),
                idle: Mutex::new(Vec::new()),
            }),
            changes,
        })
    }

    /// The file this store reads and writes.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` in one write transaction on the writer thread.
    async fn write<T: Send + 'static>(
        &self,
        doing: String,
        f: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> StoreResult<T> {
        let (answer, answered) = oneshot::channel();
        let job: Job = Box::new(move |conn| {
            let _ = answer.send(in_transaction(conn, &doing, f));
        });
        let gone = |doing: &str| StoreError::Unavailable {
            doing: doing.to_owned(),
            reason: "the database's writer thread has stopped".to_owned(),
        };
        let Some(jobs) = &self.jobs else {
            return Err(gone("writing"));
        };
        jobs.send(job).map_err(|_| gone("writing"))?;
        answered
            .await
            .map_err(|_| gone("waiting for a write (it failed inside the writer)"))?
    }

    /// Runs `f` on a reader connection, on the blocking pool.
    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> StoreResult<T> {
        let readers = Arc::clone(&self.readers);
        let read = tokio::task::spawn_blocking(move || {
            let conn = readers.take()?;
            let value = f(&conn);
            readers.give_back(conn);
            value
        });
        read.await.map_err(|e| StoreError::Unavailable {
            doing: "reading".to_owned(),
            reason: e.to_string(),
        })?
    }

    fn changed(&self, guild_id: u64) {
        // No receiver is not an error: nobody caches.
        let _ = self.changes.send(Changed::Guild(guild_id));
    }

    /// Releases the lease, the post due again at `retry_at`; with `failed`, counted as
    /// a failure of the post.
    async fn put_off(&self, lease: &Lease, retry_at: Timestamp, failed: bool) -> StoreResult<()> {
        let l = lease.clone();
        self.write(
            format!(
                "putting off the post of guild {} for {}",
                lease.guild_id, lease.date
            ),
            move |tx| writes::retry_at(tx, &l, retry_at, failed),
        )
        .await?;
        self.changed(lease.guild_id);
        Ok(())
    }
}

impl Drop for SqliteStore {
    /// Stops the writer after the writes already asked for, and waits for it: the file
    /// is closed when the store is gone (a test may open it again at once).
    fn drop(&mut self) {
        self.jobs = None;
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

#[async_trait::async_trait]
impl Store for SqliteStore {
    fn describe(&self) -> String {
        format!("SQLite at {}", self.path.display())
    }

    async fn schema_version(&self) -> StoreResult<i64> {
        self.read(|conn| migrate::user_version(conn).map_err(sql("reading the schema version")))
            .await
    }

    async fn guild_settings(&self, guild_id: u64) -> StoreResult<GuildSettings> {
        self.read(move |conn| rows::read_settings(conn, guild_id))
            .await
    }

    async fn apply(
        &self,
        guild_id: u64,
        change: Change,
        user_id: u64,
        at: Timestamp,
    ) -> StoreResult<GuildSettings> {
        let settings = self
            .write(
                format!("changing the settings of guild {guild_id}"),
                move |tx| writes::apply(tx, guild_id, &change, user_id, at),
            )
            .await?;
        self.changed(guild_id);
        Ok(settings)
    }

    async fn audit_trail(&self, guild_id: u64, limit: usize) -> StoreResult<Vec<AuditEntry>> {
        self.read(move |conn| rows::audit_trail(conn, guild_id, limit))
            .await
    }

    async fn next_due_at(&self) -> StoreResult<Option<Timestamp>> {
        self.read(rows::next_due_at).await
    }

    async fn lease_due(
        &self,
        now: Timestamp,
        owner: &str,
        lease_for: Duration,
        limit: usize,
    ) -> StoreResult<Vec<Lease>> {
        let owner = owner.to_owned();
        self.write("leasing the posts due".to_owned(), move |tx| {
            writes::lease_due(tx, now, &owner, lease_for, limit)
        })
        .await
    }

    async fn record_sent(&self, lease: &Lease, message_id: u64, at: Timestamp) -> StoreResult<()> {
        let (guild_id, date) = (lease.guild_id, lease.date);
        let l = lease.clone();
        let held = self
            .write(
                format!("recording the post of guild {guild_id} for {date}"),
                move |tx| writes::record_sent(tx, &l, message_id, at),
            )
            .await?;
        self.changed(guild_id);
        if held {
            Ok(())
        } else {
            Err(StoreError::Fenced { guild_id, date })
        }
    }

    async fn skip(&self, lease: &Lease, at: Timestamp) -> StoreResult<()> {
        let l = lease.clone();
        self.write(
            format!(
                "skipping the post of guild {} for {}",
                lease.guild_id, lease.date
            ),
            move |tx| writes::skip(tx, &l, at),
        )
        .await?;
        self.changed(lease.guild_id);
        Ok(())
    }

    async fn retry_at(&self, lease: &Lease, retry_at: Timestamp) -> StoreResult<()> {
        self.put_off(lease, retry_at, false).await
    }

    async fn retry_after_failure(&self, lease: &Lease, retry_at: Timestamp) -> StoreResult<()> {
        self.put_off(lease, retry_at, true).await
    }

    async fn pause(&self, lease: &Lease, reason: &str, at: Timestamp) -> StoreResult<()> {
        let l = lease.clone();
        let reason = reason.to_owned();
        self.write(
            format!("pausing the daily post of guild {}", lease.guild_id),
            move |tx| writes::pause(tx, &l, &reason, at),
        )
        .await?;
        self.changed(lease.guild_id);
        Ok(())
    }

    async fn resume_schedule(&self, guild_id: u64, at: Timestamp) -> StoreResult<bool> {
        let resumed = self
            .write(
                format!("resuming the daily post of guild {guild_id}"),
                move |tx| writes::resume(tx, guild_id, at),
            )
            .await?;
        if resumed {
            self.changed(guild_id);
        }
        Ok(resumed)
    }

    async fn was_posted(&self, guild_id: u64, date: Date) -> StoreResult<bool> {
        self.read(move |conn| rows::is_posted(conn, guild_id, date))
            .await
    }

    fn changes(&self) -> broadcast::Receiver<Changed> {
        self.changes.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cached statement is reused as is, not recompiled on each read (see
    /// [`rows::READ_SETTINGS`]).
    #[test]
    fn reading_settings_reuses_its_compiled_statement() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sqlite3");
        drop(SqliteStore::open(&path).unwrap());
        let conn = Connection::open(&path).unwrap();
        for guild in [1, 2, 1, u64::MAX] {
            rows::read_settings(&conn, guild).unwrap();
        }
        let st = conn.prepare_cached(rows::READ_SETTINGS).unwrap();
        assert!(st.get_status(rusqlite::StatementStatus::VmStep) > 0);
        assert_eq!(st.get_status(rusqlite::StatementStatus::RePrepare), 0);
    }

    #[test]
    fn ids_above_i64_max_survive_the_round_trip() {
        for id in [0, 1, 81_384_788_765_712_384, i64::MAX as u64, u64::MAX] {
            assert_eq!(crate::values::id_out(crate::values::id_in(id)), id);
        }
    }
}
