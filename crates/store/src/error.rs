//! What can go wrong, in words for the operator's log. The variants do not name a
//! database library: each backend's own error is kept as the source.

use jiff::civil::Date;

/// A backend's own error (rusqlite's, sqlx's), kept as the source of a [`StoreError`].
pub type BackendError = Box<dyn std::error::Error + Send + Sync + 'static>;

pub type StoreResult<T> = Result<T, StoreError>;

/// Why the store could not do what it was asked. Each message is a sentence for the
/// operator's log: it names the database (file, or host and database name) or the
/// table and row at fault, never a secret.
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
        source: BackendError,
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
        source: BackendError,
    },
    #[error("database error while {doing}: {source}")]
    Database {
        doing: String,
        #[source]
        source: BackendError,
    },
    #[error("the database is unavailable while {doing}: {reason}")]
    Unavailable { doing: String, reason: String },
    /// The connection was lost while the database committed: the change was made in
    /// full or not at all, and this process cannot tell which.
    #[error(
        "the connection to the database was lost while it committed {doing}: it was made in \
         full or not at all: {reason}"
    )]
    Unconfirmed { doing: String, reason: String },
    #[error("the database holds a bad value in {table}.{column} for {row}: {reason}")]
    Corrupt {
        table: &'static str,
        column: &'static str,
        row: String,
        reason: String,
    },
    #[error(
        "the lease on the post of guild {guild_id} for {date} was lost (it ran out and was \
         taken over, or the schedule changed): nothing of the schedule was written"
    )]
    Fenced { guild_id: u64, date: Date },
    #[error("cannot compute the next daily post of guild {guild_id}: {reason}")]
    Schedule { guild_id: u64, reason: String },
}

impl StoreError {
    /// A backend's error while doing `doing`.
    pub fn database(doing: impl Into<String>, source: impl Into<BackendError>) -> Self {
        StoreError::Database {
            doing: doing.into(),
            source: source.into(),
        }
    }

    pub(crate) fn schedule(guild_id: u64) -> impl FnOnce(jiff::Error) -> StoreError {
        move |e| StoreError::Schedule {
            guild_id,
            reason: e.to_string(),
        }
    }
}
