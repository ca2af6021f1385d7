//! For tests of this crate and of the bot (feature `test-support`): the PostgreSQL
//! server the tests use, a schema of their own per test, and the rule that a server
//! out of reach skips them (said once per test binary) unless
//! `KR_REQUIRE_POSTGRES=1`, where it fails them.

use std::io::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use crate::{PgConfig, redact};

/// Where the PostgreSQL tests go when `KR_TEST_POSTGRES_URL` is not set.
pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

pub fn postgres_url() -> String {
    std::env::var("KR_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned())
}

fn postgres_required() -> bool {
    std::env::var("KR_REQUIRE_POSTGRES").is_ok_and(|v| v == "1")
}

/// Whether the server was out of reach when a test of this binary first tried it
/// (then the others skip at once, without waiting for a timeout each).
static UNREACHABLE: Mutex<Option<String>> = Mutex::new(None);

/// A connection to the test server, or why there is none (after saying so, or
/// failing the test when PostgreSQL is required).
pub async fn postgres_server(test: &str) -> Option<sqlx::PgPool> {
    let url = postgres_url();
    let known = UNREACHABLE
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    let error = match known {
        Some(error) => error,
        None => {
            let tried = sqlx::postgres::PgPoolOptions::new()
                .max_connections(1)
                .acquire_timeout(Duration::from_secs(3))
                .connect(&url)
                .await;
            match tried {
                Ok(pool) => return Some(pool),
                Err(e) => e.to_string(),
            }
        }
    };
    *UNREACHABLE.lock().unwrap_or_else(PoisonError::into_inner) = Some(error.clone());
    if postgres_required() {
        panic!(
            "{test}: KR_REQUIRE_POSTGRES=1 but PostgreSQL at {} is out of reach: {error}",
            redact(&url)
        );
    }
    // Once per test binary, past the harness's capture of a passing test's output.
    static SAID: AtomicBool = AtomicBool::new(false);
    if !SAID.swap(true, Ordering::Relaxed) {
        let _ = writeln!(
            std::io::stderr(),
            "\nSKIPPED: the PostgreSQL tests of this binary: PostgreSQL at {} is out of reach \
             ({error}). Start one (README, \"Tests\"), point KR_TEST_POSTGRES_URL at one, or \
             set KR_REQUIRE_POSTGRES=1 to make this a failure (CI does).\n",
            redact(&url)
        );
    }
    None
}

/// A schema name no other test (of this run or another) uses.
pub fn fresh_schema(test: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let short: String = test
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(16)
        .collect::<String>()
        .to_ascii_lowercase();
    format!("t_{short}_{}_{n}_{nanos}", std::process::id())
}

pub fn pg_config(schema: &str) -> PgConfig {
    PgConfig {
        url: postgres_url(),
        pool_size: 4,
        schema: Some(schema.to_owned()),
    }
}

/// Drops a test's schema, from a thread of its own (a drop may run inside the
/// test's runtime, which cannot be blocked on).
pub fn drop_schema(url: String, schema: String) {
    let name = schema.clone();
    let dropped = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let pool = sqlx::PgPool::connect(&url).await?;
            sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                .execute(&pool)
                .await?;
            Ok::<_, sqlx::Error>(())
        })
    })
    .join();
    if let Ok(Err(e)) = dropped {
        eprintln!("could not drop the test schema {name}: {e}");
    }
}
