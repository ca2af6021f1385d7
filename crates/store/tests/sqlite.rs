//! What only SQLite does: the file and its folder, WAL, the schema's migrations from
//! every older version, files that are not databases, and a writer killed with
//! SIGKILL mid-change. What every backend does is in `conformance.rs`.

mod common;

use std::path::Path;

use common::{otd, ts};
use jiff::civil::date;
use jiff::{SignedDuration, Timestamp};
use karabakh_core::settings::{Change, LastChange, OnThisDay, PostTime, TimeZoneName, Visibility};
use karabakh_store::{SQLITE_MIGRATIONS, SQLITE_SCHEMA_VERSION, SqliteStore, Store, StoreError};
use rusqlite::Connection;

fn raw(path: &Path) -> Connection {
    Connection::open(path).unwrap()
}

fn count(conn: &Connection, table: &str) -> i64 {
    conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

#[tokio::test]
async fn the_database_is_created_with_its_folder_in_wal_mode_at_the_latest_version() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state").join("deeper").join("bot.sqlite3");
    let store = SqliteStore::open(&path).unwrap();
    assert!(path.is_file());
    assert_eq!(store.path(), path);
    assert_eq!(store.schema_version().await.unwrap(), SQLITE_SCHEMA_VERSION);
    assert_eq!(SQLITE_SCHEMA_VERSION, 5);
    let conn = raw(&path);
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    drop(store);
    // Opening again migrates nothing and loses nothing.
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.schema_version().await.unwrap(), SQLITE_SCHEMA_VERSION);
}

#[tokio::test]
async fn a_guild_never_configured_writes_no_row() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bot.sqlite3");
    let store = SqliteStore::open(&path).unwrap();
    store.guild_settings(1).await.unwrap();
    store
        .apply(1, Change::Reset, 5, ts("2024-01-01T00:00:00Z"))
        .await
        .unwrap();
    store
        .apply(
            1,
            Change::SetVisibility(Visibility::Public),
            5,
            ts("2024-01-01T00:00:00Z"),
        )
        .await
        .unwrap();
    let conn = raw(&path);
    assert_eq!(count(&conn, "guild_settings"), 0);
    assert_eq!(count(&conn, "audit_log"), 0);
}

/// A database at version 3 (one scheduler, no leases) keeps its schedule, a post put
/// off by the old build is due at the time it was put off to, and a post claimed
/// and never recorded (a crash mid-post) is leased as attempt 2: the scheduler looks
/// for the message before sending it again.
#[tokio::test]
async fn a_version_3_database_gets_leases_and_keeps_its_claims() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v3.sqlite3");
    {
        let conn = raw(&path);
        for m in &SQLITE_MIGRATIONS[..3] {
            conn.execute_batch(m.sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 3).unwrap();
        conn.execute_batch(
            "INSERT INTO guild_settings (guild_id, visibility, onthisday_channel_id,
                 onthisday_time, onthisday_zone, onthisday_changed_by, onthisday_changed_at)
             VALUES (7, 'public', 99, '10:00', 'UTC', 6, 1700000060000);
             -- Put off from 10:00 to 10:05 by the old build.
             INSERT INTO schedules (guild_id, next_local_date, next_run_at)
             VALUES (7, '2024-06-01', 1717236300000);
             INSERT INTO posts (guild_id, local_date, nonce, channel_id, attempts,
                 first_claimed_at, last_claimed_at)
             VALUES (7, '2024-06-01', 'otd', 99, 1, 1717236000000, 1717236000000);",
        )
        .unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.schema_version().await.unwrap(), SQLITE_SCHEMA_VERSION);
    assert_eq!(
        store.next_due_at().await.unwrap(),
        Some(ts("2024-06-01T10:05:00Z"))
    );
    let lease = store
        .lease_due(
            ts("2024-06-01T10:05:00Z"),
            "a",
            std::time::Duration::from_secs(60),
            10,
        )
        .await
        .unwrap();
    assert_eq!(lease.len(), 1);
    assert_eq!((lease[0].date, lease[0].attempt), (date(2024, 6, 1), 2));
    assert_eq!(lease[0].first_leased_at, ts("2024-06-01T10:00:00Z"));
    store
        .record_sent(&lease[0], 5, ts("2024-06-01T10:05:01Z"))
        .await
        .unwrap();
    assert!(store.was_posted(7, date(2024, 6, 1)).await.unwrap());
}

/// Several processes opening a new file at once: each migration is applied once,
/// and every one of them opens it.
#[test]
fn processes_opening_a_new_file_together_migrate_it_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.sqlite3");
    let openers: Vec<_> = (0..6)
        .map(|_| {
            let path = path.clone();
            std::thread::spawn(move || SqliteStore::open(path).map(drop))
        })
        .collect();
    for o in openers {
        o.join().unwrap().unwrap();
    }
    let version: i64 = raw(&path)
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, SQLITE_SCHEMA_VERSION);
    assert_eq!(count(&raw(&path), "lease_fences"), 1);
}

/// A database written by a build that knew only migration 0001, with settings in
/// it, is brought to the latest version at open and keeps its rows.
#[tokio::test]
async fn an_older_schema_is_migrated_at_open_and_keeps_its_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.sqlite3");
    {
        let conn = raw(&path);
        conn.execute_batch(SQLITE_MIGRATIONS[0].sql).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        conn.execute(
            "INSERT INTO guild_settings (guild_id, visibility, visibility_changed_by,
                 visibility_changed_at, onthisday_channel_id, onthisday_time, onthisday_zone,
                 onthisday_changed_by, onthisday_changed_at)
             VALUES (7, 'private', 5, 1700000000000, 99, '07:30', 'Asia/Baku', 6, 1700000060000)",
            [],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO guild_settings (guild_id, visibility) VALUES (8, 'public')",
            [],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO audit_log (guild_id, setting, old_value, new_value, user_id, at)
             VALUES (7, 'visibility', 'public', 'private', 5, 1700000000000)",
            [],
        )
        .unwrap();
    }
    let before = Timestamp::now();
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.schema_version().await.unwrap(), SQLITE_SCHEMA_VERSION);

    let s = store.guild_settings(7).await.unwrap();
    assert_eq!(s.visibility, Visibility::Private);
    assert_eq!(s.onthisday, Some(otd(99, "07:30", "Asia/Baku")));
    assert_eq!(
        s.visibility_changed,
        Some(LastChange {
            user_id: 5,
            at: Timestamp::from_millisecond(1_700_000_000_000).unwrap()
        })
    );
    assert_eq!(s.onthisday_changed.unwrap().user_id, 6);
    // The schedule the new version keeps was made for it: its next post is the
    // next 07:30 in Baku from the moment of opening.
    let next = s.next_post.expect("the migrated daily post is scheduled");
    let baku = otd(99, "07:30", "Asia/Baku");
    assert_eq!(baku.run_on(next.date).unwrap(), next);
    assert!(next.at >= before);
    assert!(next.at <= before + SignedDuration::from_hours(25));
    assert_eq!(store.next_due_at().await.unwrap(), Some(next.at));
    assert_eq!(store.guild_settings(8).await.unwrap().next_post, None);
    let trail = store.audit_trail(7, 10).await.unwrap();
    assert_eq!(trail.len(), 1);
    assert_eq!(trail[0].new_value, "private");
}

/// A database at version 2 (before empty days could be posted) gets the column at
/// open, off for every server, and keeps its daily posts and their schedule.
#[tokio::test]
async fn a_version_2_database_migrates_with_empty_days_off() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v2.sqlite3");
    {
        let conn = raw(&path);
        for m in &SQLITE_MIGRATIONS[..2] {
            conn.execute_batch(m.sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 2).unwrap();
        conn.execute(
            "INSERT INTO guild_settings (guild_id, visibility, onthisday_channel_id,
                 onthisday_time, onthisday_zone, onthisday_changed_by, onthisday_changed_at)
             VALUES (7, 'public', 99, '07:30', 'Asia/Baku', 6, 1700000060000)",
            [],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO schedules (guild_id, next_local_date, next_run_at)
             VALUES (7, '2099-01-01', 4070908800000)",
            [],
        )
        .unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.schema_version().await.unwrap(), SQLITE_SCHEMA_VERSION);
    let s = store.guild_settings(7).await.unwrap();
    assert_eq!(s.onthisday, Some(otd(99, "07:30", "Asia/Baku")));
    assert!(!s.onthisday.unwrap().post_empty_days);
    assert_eq!(
        s.next_post.map(|r| r.date),
        Some(date(2099, 1, 1)),
        "the schedule is kept as it was"
    );
    // The column refuses anything but 0 and 1.
    let bad = raw(&path).execute(
        "UPDATE guild_settings SET onthisday_empty_days = 2 WHERE guild_id = 7",
        [],
    );
    assert!(bad.is_err());
}

#[test]
fn a_database_newer_than_the_build_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("future.sqlite3");
    drop(SqliteStore::open(&path).unwrap());
    raw(&path)
        .pragma_update(None, "user_version", SQLITE_SCHEMA_VERSION + 1)
        .unwrap();
    let err = SqliteStore::open(&path).unwrap_err();
    assert!(matches!(err, StoreError::TooNew { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.starts_with(&path.display().to_string())
            && msg.contains(&format!("schema version {}", SQLITE_SCHEMA_VERSION + 1))
            && msg.contains(&format!("up to {SQLITE_SCHEMA_VERSION}")),
        "{msg}"
    );
    let version: i64 = raw(&path)
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, SQLITE_SCHEMA_VERSION + 1);
}

#[test]
fn a_file_that_is_not_a_database_is_refused_with_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.sqlite3");
    std::fs::write(&path, "these are not the pages of a database ".repeat(100)).unwrap();
    let err = SqliteStore::open(&path).unwrap_err();
    assert!(matches!(err, StoreError::Open { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.starts_with(&format!("{}: cannot open the database", path.display())),
        "{msg}"
    );
}

#[test]
fn a_folder_that_cannot_be_made_is_refused_with_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let path = file.join("db.sqlite3");
    let err = SqliteStore::open(&path).unwrap_err();
    assert!(
        matches!(err, StoreError::CreateDir { .. } | StoreError::Open { .. }),
        "{err:?}"
    );
    assert!(err.to_string().starts_with(&path.display().to_string()));
}

// ---- SIGKILL in the middle of a change -------------------------------------------

/// Set in the child: the database it writes to.
#[cfg(unix)]
const WRITER_DB: &str = "KR_TEST_SIGKILL_WRITER_DB";
#[cfg(unix)]
const KILL_GUILD: u64 = 4242;

/// The n-th value the writer sets: every one differs from the one before, and the
/// channel id counts the changes.
#[cfg(unix)]
fn nth(n: u64) -> OnThisDay {
    let zones = ["Europe/Paris", "Asia/Baku", "America/New_York"];
    OnThisDay {
        channel_id: n,
        time: PostTime::new((n / 60 % 24) as u8, (n % 60) as u8).unwrap(),
        zone: TimeZoneName::parse(zones[(n % 3) as usize]).unwrap(),
        post_empty_days: n % 2 == 0,
    }
}

/// The child of [`sigkill_mid_change_leaves_the_old_or_the_new_value`]: changes one
/// server's daily post in a loop, printing each number once committed, until killed.
/// Run by hand (without its variable) it does nothing.
#[cfg(unix)]
#[test]
#[ignore = "the writer process that sigkill_mid_change_leaves_the_old_or_the_new_value kills"]
fn sigkill_writer_child() {
    use std::io::Write;
    let Some(path) = std::env::var_os(WRITER_DB) else {
        return;
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let store = SqliteStore::open(&path).unwrap();
    let mut n = runtime
        .block_on(store.guild_settings(KILL_GUILD))
        .unwrap()
        .onthisday
        .map_or(0, |o| o.channel_id);
    let mut out = std::io::stdout().lock();
    loop {
        n += 1;
        let at = Timestamp::from_second(1_700_000_000 + n as i64).unwrap();
        runtime
            .block_on(store.apply(KILL_GUILD, Change::SetOnThisDay(nth(n)), n, at))
            .unwrap();
        writeln!(out, "committed {n}").unwrap();
        out.flush().unwrap();
    }
}

/// Runs the writer child ten times against one database, killing it with SIGKILL
/// while it writes. After each kill the database passes `PRAGMA integrity_check`,
/// holds the last change the child reported or a later one, and the setting and
/// its audit trail agree: as many records as changes, the newest naming the value
/// stored — no change without its record, no record without its change.
#[cfg(unix)]
#[tokio::test]
async fn sigkill_mid_change_leaves_the_old_or_the_new_value() {
    use std::io::{BufRead, BufReader, Read};
    use std::os::unix::process::ExitStatusExt;
    use std::process::{Command, Stdio};

    // Each kill lands somewhere in a write; several make it likely that some land
    // inside a transaction (with a transaction split in two, most runs fail).
    const ROUNDS: u32 = 10;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("killed.sqlite3");
    let mut last = 0u64;
    for round in 1..=ROUNDS {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "sigkill_writer_child",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(WRITER_DB, &path)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let target = last + 20;
        let mut reported = last;
        for line in BufReader::new(child.stdout.take().unwrap()).lines() {
            let line = line.unwrap();
            if let Some(n) = line.strip_prefix("committed ") {
                reported = n.parse().unwrap();
                if reported >= target {
                    break;
                }
            }
        }
        if reported < target {
            let mut stderr = String::new();
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut stderr)
                .unwrap();
            panic!("round {round}: the writer stopped at {reported}: {stderr}");
        }
        // Spread the kills over the phases of a write (one takes a few ms here):
        // the pause only picks where the kill lands; no result depends on it.
        std::thread::sleep(std::time::Duration::from_micros(u64::from(round) * 370));
        // std's kill is SIGKILL on Unix: no destructor, no rollback, no flush.
        child.kill().unwrap();
        let status = child.wait().unwrap();
        assert_eq!(status.signal(), Some(9), "round {round}: {status:?}");

        let check: String = raw(&path)
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok", "round {round}");

        let store = SqliteStore::open(&path).unwrap();
        let settings = store.guild_settings(KILL_GUILD).await.unwrap();
        let n = settings.onthisday.as_ref().unwrap().channel_id;
        assert!(
            n >= reported,
            "round {round}: lost committed change {reported}, found {n}"
        );
        assert_eq!(settings.onthisday, Some(nth(n)), "round {round}");
        assert_eq!(
            settings.onthisday_changed.map(|c| c.user_id),
            Some(n),
            "round {round}"
        );
        let trail = store.audit_trail(KILL_GUILD, usize::MAX).await.unwrap();
        assert_eq!(
            trail.len() as u64,
            n,
            "round {round}: changes and records differ"
        );
        assert_eq!(trail[0].new_value, nth(n).describe(), "round {round}");
        assert_eq!(trail[0].old_value, nth(n - 1).describe(), "round {round}");
        assert_eq!(trail[0].user_id, Some(n));
        assert!(store.next_due_at().await.unwrap().is_some());
        last = n;
    }
}
