//! Brings a PostgreSQL schema to [`POSTGRES_SCHEMA_VERSION`]. Each step runs in its
//! own transaction that first takes an advisory lock kept for the migrations: a
//! process starting while another migrates waits, then finds the step applied. DDL is
//! transactional in PostgreSQL: a failed step leaves the previous version whole.

use sqlx::PgConnection;
use sqlx::postgres::PgPool;

use crate::StoreError;
use crate::migrations::{POSTGRES_MIGRATIONS, POSTGRES_SCHEMA_VERSION};

/// The advisory lock of the migrations, as two 32-bit keys: a key space that never
/// meets the single 64-bit keys taken on servers' ids.
const LOCK: (i32, i32) = (0x6b72, 1); // "kr", migrations

const VERSIONS: &str = "CREATE TABLE IF NOT EXISTS kr_schema_migrations (
    version    BIGINT      PRIMARY KEY,
    name       TEXT        NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
)";

/// The schema's version: the last migration applied (0 for none).
pub(crate) async fn version(conn: &mut PgConnection) -> sqlx::Result<i64> {
    let exists: bool = sqlx::query_scalar("SELECT to_regclass('kr_schema_migrations') IS NOT NULL")
        .fetch_one(&mut *conn)
        .await?;
    if !exists {
        return Ok(0);
    }
    sqlx::query_scalar("SELECT coalesce(max(version), 0) FROM kr_schema_migrations")
        .fetch_one(&mut *conn)
        .await
}

pub(crate) async fn migrate(pool: &PgPool, shown: &str) -> Result<(), StoreError> {
    for m in POSTGRES_MIGRATIONS {
        let failed = |at: i64, e: sqlx::Error| StoreError::Migration {
            path: shown.to_owned(),
            name: m.name,
            at,
            source: e.into(),
        };
        let mut tx = pool.begin().await.map_err(|e| failed(0, e))?;
        sqlx::query("SELECT pg_advisory_xact_lock($1, $2)")
            .bind(LOCK.0)
            .bind(LOCK.1)
            .execute(&mut *tx)
            .await
            .map_err(|e| failed(0, e))?;
        sqlx::query(VERSIONS)
            .execute(&mut *tx)
            .await
            .map_err(|e| failed(0, e))?;
        let at = version(&mut tx).await.map_err(|e| failed(0, e))?;
        if at > POSTGRES_SCHEMA_VERSION {
            return Err(StoreError::TooNew {
                path: shown.to_owned(),
                found: at,
                known: POSTGRES_SCHEMA_VERSION,
            });
        }
        if at >= m.version {
            tx.commit().await.map_err(|e| failed(at, e))?;
            continue;
        }
        // Called as `Executor::execute`: `raw_sql(..).execute(..)` makes a future the
        // compiler cannot prove `Send` for every lifetime (rust-lang/rust#102211).
        sqlx::Executor::execute(&mut *tx, sqlx::raw_sql(m.sql))
            .await
            .map_err(|e| failed(at, e))?;
        sqlx::query("INSERT INTO kr_schema_migrations (version, name) VALUES ($1, $2)")
            .bind(m.version)
            .bind(m.name)
            .execute(&mut *tx)
            .await
            .map_err(|e| failed(at, e))?;
        tx.commit().await.map_err(|e| failed(at, e))?;
        tracing::info!(
            database = shown,
            migration = m.name,
            "applied database migration"
        );
    }
    Ok(())
}
