//! The settings store against real SQLite files in temporary folders: settings that
//! round-trip, an audit trail in order, servers that do not mix, posts that go out
//! once, a database that survives SIGKILL mid-change, and schemas that migrate.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use jiff::civil::date;
use jiff::{SignedDuration, Timestamp};
use karabakh_core::settings::{
    AuditEntry, Change, GuildSettings, LastChange, OnThisDay, Paused, PostTime, Run, Setting,
    TimeZoneName, Visibility, post_nonce,
};
use karabakh_store::{Claim, MIGRATIONS, SCHEMA_VERSION, SettingsStore, SqliteStore, StoreError};
use rusqlite::Connection;
use tempfile::TempDir;

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn otd(channel_id: u64, time: &str, zone: &str) -> OnThisDay {
    OnThisDay {
        channel_id,
        time: PostTime::parse(time).unwrap(),
        zone: TimeZoneName::parse(zone).unwrap(),
        post_empty_days: false,
    }
}

fn fresh() -> (TempDir, PathBuf, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bot.sqlite3");
    let store = SqliteStore::open(&path).unwrap();
    (dir, path, store)
}

fn raw(path: &Path) -> Connection {
    Connection::open(path).unwrap()
}

fn count(conn: &Connection, table: &str) -> i64 {
    conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

#[test]
fn the_database_is_created_with_its_folder_in_wal_mode_at_the_latest_version() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state").join("deeper").join("bot.sqlite3");
    let store = SqliteStore::open(&path).unwrap();
    assert!(path.is_file());
    assert_eq!(store.path(), path);
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    assert_eq!(SCHEMA_VERSION, 3);
    let conn = raw(&path);
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    drop(store);
    // Opening again migrates nothing and loses nothing.
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
}

#[test]
fn a_guild_never_configured_reads_as_the_defaults_and_writes_nothing() {
    let (_dir, path, store) = fresh();
    let s = store.guild_settings(1).unwrap();
    assert_eq!(s, GuildSettings::default());
    assert_eq!(s.visibility, Visibility::Public);
    assert_eq!(s.onthisday, None);
    assert!(store.audit_trail(1, 10).unwrap().is_empty());
    // A reset of nothing is nothing.
    let after = store.apply(1, &Change::Reset, 5, ts("2024-01-01T00:00:00Z"));
    assert_eq!(after.unwrap(), GuildSettings::default());
    let conn = raw(&path);
    assert_eq!(count(&conn, "guild_settings"), 0);
    assert_eq!(count(&conn, "audit_log"), 0);
}

#[test]
fn every_setting_round_trips_through_the_file() {
    let (_dir, path, store) = fresh();
    // Ids past i64::MAX are kept bit for bit.
    let guild = u64::MAX - 3;
    let daily = otd(u64::MAX - 1, "07:30", "europe/paris");
    let t1 = ts("2024-03-01T05:00:00Z");
    let t2 = ts("2024-03-01T05:10:00.123Z");
    store
        .apply(guild, &Change::SetOnThisDay(daily.clone()), 11, t1)
        .unwrap();
    let written = store
        .apply(guild, &Change::SetVisibility(Visibility::Private), 12, t2)
        .unwrap();
    let expected = GuildSettings {
        onthisday: Some(daily.clone()),
        visibility: Visibility::Private,
        paused: None,
        next_post: Some(Run {
            date: date(2024, 3, 1),
            at: ts("2024-03-01T06:30:00Z"),
        }),
        onthisday_changed: Some(LastChange {
            user_id: 11,
            at: t1,
        }),
        visibility_changed: Some(LastChange {
            user_id: 12,
            at: t2,
        }),
    };
    assert_eq!(written, expected);
    assert_eq!(daily.zone.as_str(), "Europe/Paris");
    drop(store);

    let mut store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.guild_settings(guild).unwrap(), expected);
    // Other servers are untouched.
    assert_eq!(store.guild_settings(1).unwrap(), GuildSettings::default());

    // Every value each setting can take, each read back from a fresh open.
    let t3 = ts("2024-03-02T00:00:00Z");
    for v in [Visibility::Public, Visibility::Private] {
        store
            .apply(guild, &Change::SetVisibility(v), 13, t3)
            .unwrap();
        drop(store);
        store = SqliteStore::open(&path).unwrap();
        assert_eq!(store.guild_settings(guild).unwrap().visibility, v);
    }
    for (time, zone) in [
        ("00:00", "UTC"),
        ("23:59", "America/New_York"),
        ("12:00", "Asia/Baku"),
    ] {
        let o = otd(99, time, zone);
        store
            .apply(guild, &Change::SetOnThisDay(o.clone()), 13, t3)
            .unwrap();
        drop(store);
        store = SqliteStore::open(&path).unwrap();
        assert_eq!(store.guild_settings(guild).unwrap().onthisday, Some(o));
    }
}

#[test]
fn posting_empty_days_round_trips_is_audited_and_goes_with_the_daily_post() {
    let (_dir, path, store) = fresh();
    let g = 31;
    let t = ts("2024-03-01T05:00:00Z");
    let quiet = otd(5, "07:30", "Europe/Paris");
    let chatty = OnThisDay {
        post_empty_days: true,
        ..quiet.clone()
    };
    store
        .apply(g, &Change::SetOnThisDay(quiet.clone()), 1, t)
        .unwrap();
    assert!(
        !store
            .guild_settings(g)
            .unwrap()
            .onthisday
            .unwrap()
            .post_empty_days
    );
    // Only the flag changes: that is a change, audited with both values.
    store
        .apply(g, &Change::SetOnThisDay(chatty.clone()), 2, t)
        .unwrap();
    drop(store);
    let store = SqliteStore::open(&path).unwrap();
    let s = store.guild_settings(g).unwrap();
    assert_eq!(s.onthisday, Some(chatty.clone()));
    assert_eq!(s.onthisday_changed.unwrap().user_id, 2);
    let trail = store.audit_trail(g, 10).unwrap();
    assert_eq!(trail[0].old_value, "channel 5 at 07:30 Europe/Paris");
    assert_eq!(
        trail[0].new_value,
        "channel 5 at 07:30 Europe/Paris, empty days posted"
    );
    // The scheduler sees it too.
    let schedules = store.enabled_schedules().unwrap();
    assert_eq!(schedules.len(), 1);
    assert!(schedules[0].onthisday.post_empty_days);
    // Cleared with the daily post: set again without it, it is off.
    store.apply(g, &Change::ClearOnThisDay, 3, t).unwrap();
    let empty: i64 = raw(&path)
        .query_row(
            "SELECT onthisday_empty_days FROM guild_settings WHERE guild_id = 31",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(empty, 0);
    store.apply(g, &Change::SetOnThisDay(chatty), 4, t).unwrap();
    store.apply(g, &Change::Reset, 4, t).unwrap();
    store
        .apply(g, &Change::SetOnThisDay(quiet.clone()), 5, t)
        .unwrap();
    assert_eq!(store.guild_settings(g).unwrap().onthisday, Some(quiet));
}

#[test]
fn clearing_and_resetting_go_back_to_the_defaults() {
    let (_dir, _path, store) = fresh();
    let t = ts("2024-03-01T05:00:00Z");
    store
        .apply(7, &Change::SetOnThisDay(otd(1, "08:00", "UTC")), 1, t)
        .unwrap();
    store
        .apply(7, &Change::SetVisibility(Visibility::Private), 1, t)
        .unwrap();
    let s = store.apply(7, &Change::ClearOnThisDay, 2, t).unwrap();
    assert_eq!(s.onthisday, None);
    assert_eq!(s.next_post, None);
    assert_eq!(s.visibility, Visibility::Private);
    assert_eq!(s.onthisday_changed, Some(LastChange { user_id: 2, at: t }));
    assert!(store.enabled_schedules().unwrap().is_empty());

    store
        .apply(7, &Change::SetOnThisDay(otd(1, "08:00", "UTC")), 1, t)
        .unwrap();
    let s = store.apply(7, &Change::Reset, 3, t).unwrap();
    assert_eq!(s.onthisday, None);
    assert_eq!(s.visibility, Visibility::Public);
    assert_eq!(s.paused, None);
    // Who reset it shows as the last change of each setting.
    assert_eq!(s.onthisday_changed, Some(LastChange { user_id: 3, at: t }));
    assert_eq!(s.visibility_changed, Some(LastChange { user_id: 3, at: t }));
    assert!(store.enabled_schedules().unwrap().is_empty());
}

#[test]
fn every_change_is_audited_newest_first_with_old_new_user_and_time() {
    let (_dir, _path, store) = fresh();
    let g = 555;
    let at = |m: i64| Timestamp::from_second(1_700_000_000 + m * 60).unwrap();
    let paris = otd(10, "07:30", "Europe/Paris");
    let baku = otd(20, "09:00", "Asia/Baku");
    store
        .apply(g, &Change::SetVisibility(Visibility::Private), 101, at(1))
        .unwrap();
    store
        .apply(g, &Change::SetOnThisDay(paris.clone()), 102, at(2))
        .unwrap();
    store
        .apply(g, &Change::SetOnThisDay(baku.clone()), 103, at(3))
        .unwrap();
    // Setting what is already set changes nothing and records nothing.
    let before = store.guild_settings(g).unwrap();
    let same = store
        .apply(g, &Change::SetVisibility(Visibility::Private), 104, at(4))
        .unwrap();
    assert_eq!(same, before);
    store.apply(g, &Change::Reset, 105, at(5)).unwrap();
    // Another server's changes stay out of this trail.
    store
        .apply(
            g + 1,
            &Change::SetVisibility(Visibility::Private),
            999,
            at(6),
        )
        .unwrap();

    let entry = |setting, old: &str, new: &str, user, minute| AuditEntry {
        guild_id: g,
        setting,
        old_value: old.to_owned(),
        new_value: new.to_owned(),
        user_id: Some(user),
        at: at(minute),
    };
    let expected = vec![
        entry(Setting::Visibility, "private", "public", 105, 5),
        entry(
            Setting::OnThisDay,
            "channel 20 at 09:00 Asia/Baku",
            "off",
            105,
            5,
        ),
        entry(
            Setting::OnThisDay,
            "channel 10 at 07:30 Europe/Paris",
            "channel 20 at 09:00 Asia/Baku",
            103,
            3,
        ),
        entry(
            Setting::OnThisDay,
            "off",
            "channel 10 at 07:30 Europe/Paris",
            102,
            2,
        ),
        entry(Setting::Visibility, "public", "private", 101, 1),
    ];
    assert_eq!(store.audit_trail(g, 100).unwrap(), expected);
    assert_eq!(store.audit_trail(g, 2).unwrap(), expected[..2]);
    assert!(store.audit_trail(g, 0).unwrap().is_empty());
    let other = store.audit_trail(g + 1, 100).unwrap();
    assert_eq!(other.len(), 1);
    assert_eq!(other[0].user_id, Some(999));
}

/// Four writers at once, on four servers: two share one store (one connection
/// behind its lock), two have a store each (connections that wait for SQLite's
/// lock). Each reads back its own server after every change.
#[test]
fn concurrent_changes_to_different_guilds_never_mix() {
    const ROUNDS: u64 = 60;
    let (_dir, path, store) = fresh();
    let shared = Arc::new(store);
    let mut handles = Vec::new();
    for writer in 0..4u64 {
        let store: Arc<SqliteStore> = if writer < 2 {
            Arc::clone(&shared)
        } else {
            Arc::new(SqliteStore::open(&path).unwrap())
        };
        handles.push(std::thread::spawn(move || {
            let guild = 1000 + writer;
            let user = 2000 + writer;
            let zone = ["Europe/Paris", "Asia/Baku", "Asia/Yerevan", "UTC"][writer as usize];
            for i in 0..ROUNDS {
                let at = Timestamp::from_second(1_700_000_000 + i as i64).unwrap();
                let channel = guild * 1_000_000 + i;
                let time = PostTime::new((i % 24) as u8, ((i + writer) % 60) as u8).unwrap();
                let o = OnThisDay {
                    channel_id: channel,
                    time,
                    zone: TimeZoneName::parse(zone).unwrap(),
                    post_empty_days: i % 3 == 0,
                };
                let v = if i % 2 == 0 {
                    Visibility::Private
                } else {
                    Visibility::Public
                };
                store
                    .apply(guild, &Change::SetOnThisDay(o.clone()), user, at)
                    .unwrap();
                store
                    .apply(guild, &Change::SetVisibility(v), user, at)
                    .unwrap();
                let s = store.guild_settings(guild).unwrap();
                assert_eq!(s.onthisday, Some(o), "writer {writer} round {i}");
                assert_eq!(s.visibility, v, "writer {writer} round {i}");
                assert_eq!(s.onthisday_changed, Some(LastChange { user_id: user, at }));
            }
        }));
    }
    for h in handles {
        h.join().expect("a writer failed");
    }
    for writer in 0..4u64 {
        let guild = 1000 + writer;
        let trail = shared.audit_trail(guild, 10_000).unwrap();
        assert_eq!(trail.len() as u64, ROUNDS * 2, "guild {guild}");
        assert!(trail.iter().all(|e| e.guild_id == guild));
        assert!(trail.iter().all(|e| e.user_id == Some(2000 + writer)));
        // Each server's onthisday records chain old → new without a gap or a stranger.
        let daily: Vec<&AuditEntry> = trail
            .iter()
            .rev()
            .filter(|e| e.setting == Setting::OnThisDay)
            .collect();
        for pair in daily.windows(2) {
            assert_eq!(pair[0].new_value, pair[1].old_value);
        }
        let last = shared.guild_settings(guild).unwrap().onthisday.unwrap();
        assert_eq!(last.channel_id, guild * 1_000_000 + ROUNDS - 1);
    }
    assert_eq!(shared.enabled_schedules().unwrap().len(), 4);
}

#[test]
fn a_post_is_claimed_sent_and_recorded_once_per_local_day() {
    let (_dir, _path, store) = fresh();
    let g = 42;
    let day = date(2024, 3, 1);
    let paris = otd(777, "07:30", "Europe/Paris"); // UTC+1 in March before the 31st
    store
        .apply(
            g,
            &Change::SetOnThisDay(paris.clone()),
            1,
            ts("2024-03-01T05:00:00Z"),
        )
        .unwrap();
    let due_at = ts("2024-03-01T06:30:00Z");
    assert_eq!(store.next_due_at().unwrap(), Some(due_at));
    assert!(
        store
            .due_schedules(ts("2024-03-01T06:29:59Z"), 10)
            .unwrap()
            .is_empty()
    );
    let due = store.due_schedules(due_at, 10).unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].guild_id, g);
    assert_eq!(due[0].onthisday, paris);
    assert_eq!(
        due[0].next_run,
        Run {
            date: day,
            at: due_at
        }
    );

    // Claimed before sending; a second claim (a retry, or after a crash) reuses the
    // nonce.
    let first = store.claim_post(g, day, due_at).unwrap();
    let Claim::Send(first) = first else {
        panic!("{first:?}")
    };
    assert_eq!(first.nonce, post_nonce(g, day));
    assert_eq!(first.channel_id, 777);
    assert_eq!(first.attempt, 1);
    assert_eq!(first.first_claimed_at, due_at);
    let retry_at = ts("2024-03-01T06:31:00Z");
    let Claim::Send(retry) = store.claim_post(g, day, retry_at).unwrap() else {
        panic!("the retry was refused")
    };
    assert_eq!(retry.nonce, first.nonce);
    assert_eq!(retry.attempt, 2);
    assert_eq!(retry.first_claimed_at, due_at);
    assert!(!store.was_posted(g, day).unwrap());

    store.record_post(g, day, 9_001, retry_at).unwrap();
    assert!(store.was_posted(g, day).unwrap());
    assert_eq!(
        store.claim_post(g, day, retry_at).unwrap(),
        Claim::AlreadySent {
            message_id: Some(9_001),
            sent_at: retry_at
        }
    );
    // Recording twice keeps the first record.
    store
        .record_post(g, day, 9_002, ts("2024-03-01T07:00:00Z"))
        .unwrap();
    assert_eq!(
        store.claim_post(g, day, retry_at).unwrap(),
        Claim::AlreadySent {
            message_id: Some(9_001),
            sent_at: retry_at
        }
    );
    // The schedule moved to the next day.
    assert!(store.due_schedules(retry_at, 10).unwrap().is_empty());
    let next = Run {
        date: date(2024, 3, 2),
        at: ts("2024-03-02T06:30:00Z"),
    };
    assert_eq!(store.guild_settings(g).unwrap().next_post, Some(next));
    assert_eq!(store.next_due_at().unwrap(), Some(next.at));

    // A record without a claim is a caller's mistake, said so.
    let err = store
        .record_post(g, date(2024, 3, 5), 1, retry_at)
        .unwrap_err();
    assert!(matches!(err, StoreError::Unclaimed { .. }), "{err}");
    assert!(err.to_string().contains("never claimed"), "{err}");
    assert!(!store.was_posted(g, date(2024, 3, 5)).unwrap());
}

#[test]
fn re_enabling_on_a_day_already_posted_does_not_post_it_again() {
    let (_dir, _path, store) = fresh();
    let g = 43;
    let day = date(2024, 3, 1);
    store
        .apply(
            g,
            &Change::SetOnThisDay(otd(1, "07:30", "Europe/Paris")),
            1,
            ts("2024-03-01T05:00:00Z"),
        )
        .unwrap();
    let posted_at = ts("2024-03-01T06:30:00Z");
    assert!(matches!(
        store.claim_post(g, day, posted_at).unwrap(),
        Claim::Send(_)
    ));
    store.record_post(g, day, 1, posted_at).unwrap();
    // The time moves to later that day: the day is done, next is tomorrow.
    let s = store
        .apply(
            g,
            &Change::SetOnThisDay(otd(1, "12:00", "Europe/Paris")),
            2,
            ts("2024-03-01T09:00:00Z"),
        )
        .unwrap();
    assert_eq!(
        s.next_post,
        Some(Run {
            date: date(2024, 3, 2),
            at: ts("2024-03-02T11:00:00Z")
        })
    );
    // Reset and set again the same morning: the record of the post survived.
    store
        .apply(g, &Change::Reset, 3, ts("2024-03-01T09:30:00Z"))
        .unwrap();
    let s = store
        .apply(
            g,
            &Change::SetOnThisDay(otd(1, "12:00", "Europe/Paris")),
            3,
            ts("2024-03-01T09:31:00Z"),
        )
        .unwrap();
    assert_eq!(s.next_post.unwrap().date, date(2024, 3, 2));
    assert!(store.was_posted(g, day).unwrap());
}

#[test]
fn a_run_can_be_put_off_or_given_up() {
    let (_dir, _path, store) = fresh();
    let g = 44;
    store
        .apply(
            g,
            &Change::SetOnThisDay(otd(1, "09:00", "UTC")),
            1,
            ts("2024-05-01T08:00:00Z"),
        )
        .unwrap();
    let day = date(2024, 5, 1);
    let later = ts("2024-05-01T09:05:00Z");
    store.postpone_post(g, day, later).unwrap();
    assert_eq!(
        store.guild_settings(g).unwrap().next_post,
        Some(Run {
            date: day,
            at: later
        })
    );
    assert!(
        store
            .due_schedules(ts("2024-05-01T09:04:59Z"), 5)
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.due_schedules(later, 5).unwrap().len(), 1);
    // Putting off another date than the one scheduled changes nothing.
    store
        .postpone_post(g, date(2024, 5, 9), ts("2030-01-01T00:00:00Z"))
        .unwrap();
    assert_eq!(store.next_due_at().unwrap(), Some(later));

    // Given up (found too late): the schedule goes to the next day, nothing is posted.
    store.skip_post(g, day, ts("2024-05-01T20:00:00Z")).unwrap();
    assert!(!store.was_posted(g, day).unwrap());
    assert_eq!(
        store.guild_settings(g).unwrap().next_post,
        Some(Run {
            date: date(2024, 5, 2),
            at: ts("2024-05-02T09:00:00Z")
        })
    );
    // Skipping a date already behind the schedule changes nothing.
    store.skip_post(g, day, ts("2024-05-01T21:00:00Z")).unwrap();
    assert_eq!(
        store.guild_settings(g).unwrap().next_post.unwrap().date,
        date(2024, 5, 2)
    );
}

#[test]
fn schedules_come_soonest_first_and_due_ones_only() {
    let (_dir, _path, store) = fresh();
    let t = ts("2024-06-01T00:00:00Z");
    // 10:00 UTC, 06:00 in Baku (02:00 UTC), 08:00 in New York (12:00 UTC).
    store
        .apply(1, &Change::SetOnThisDay(otd(1, "10:00", "UTC")), 9, t)
        .unwrap();
    store
        .apply(2, &Change::SetOnThisDay(otd(2, "06:00", "Asia/Baku")), 9, t)
        .unwrap();
    store
        .apply(
            3,
            &Change::SetOnThisDay(otd(3, "08:00", "America/New_York")),
            9,
            t,
        )
        .unwrap();
    store
        .apply(4, &Change::SetVisibility(Visibility::Private), 9, t)
        .unwrap();
    let all: Vec<u64> = store
        .enabled_schedules()
        .unwrap()
        .iter()
        .map(|s| s.guild_id)
        .collect();
    assert_eq!(all, [2, 1, 3]);
    assert_eq!(
        store.next_due_at().unwrap(),
        Some(ts("2024-06-01T02:00:00Z"))
    );
    let due = |at: &str, limit| -> Vec<u64> {
        store
            .due_schedules(ts(at), limit)
            .unwrap()
            .iter()
            .map(|s| s.guild_id)
            .collect()
    };
    assert_eq!(due("2024-06-01T01:59:00Z", 10), Vec::<u64>::new());
    assert_eq!(due("2024-06-01T10:00:00Z", 10), [2, 1]);
    assert_eq!(due("2024-06-01T23:00:00Z", 10), [2, 1, 3]);
    assert_eq!(due("2024-06-01T23:00:00Z", 1), [2]);
}

#[test]
fn a_paused_schedule_shows_its_reason_and_posts_nothing_until_set_again() {
    let (_dir, _path, store) = fresh();
    let g = 45;
    let daily = otd(5, "07:30", "Europe/Paris");
    store
        .apply(
            g,
            &Change::SetOnThisDay(daily.clone()),
            1,
            ts("2024-03-01T05:00:00Z"),
        )
        .unwrap();
    let paused_at = ts("2024-03-01T06:30:00Z");
    assert!(
        store
            .pause_schedule(g, "403 Missing Access\n", paused_at)
            .unwrap()
    );
    let s = store.guild_settings(g).unwrap();
    assert_eq!(
        s.paused,
        Some(Paused {
            reason: "403 Missing Access".to_owned(),
            at: paused_at
        })
    );
    assert_eq!(s.next_post, None);
    assert_eq!(s.onthisday, Some(daily.clone()), "the setting itself stays");
    assert!(store.enabled_schedules().unwrap().is_empty());
    assert!(
        store
            .due_schedules(ts("2030-01-01T00:00:00Z"), 10)
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.next_due_at().unwrap(), None);
    assert_eq!(
        store.claim_post(g, date(2024, 3, 1), paused_at).unwrap(),
        Claim::NotScheduled
    );
    // The first reason is kept.
    assert!(
        !store
            .pause_schedule(g, "404 Unknown Channel", paused_at)
            .unwrap()
    );
    let trail = store.audit_trail(g, 1).unwrap();
    assert_eq!(
        trail[0],
        AuditEntry {
            guild_id: g,
            setting: Setting::Pause,
            old_value: "running".to_owned(),
            new_value: "paused: 403 Missing Access".to_owned(),
            user_id: None,
            at: paused_at,
        }
    );

    // The bot resumes it: posts start again from then on.
    let resumed_at = ts("2024-03-03T12:00:00Z");
    assert!(store.resume_schedule(g, resumed_at).unwrap());
    assert!(!store.resume_schedule(g, resumed_at).unwrap());
    let s = store.guild_settings(g).unwrap();
    assert_eq!(s.paused, None);
    assert_eq!(s.next_post.unwrap().date, date(2024, 3, 4));
    assert_eq!(store.audit_trail(g, 1).unwrap()[0].new_value, "running");

    // A moderator setting the same value again also lifts a pause, and is named.
    store
        .pause_schedule(g, "404 Unknown Channel", resumed_at)
        .unwrap();
    let t = ts("2024-03-04T00:00:00Z");
    let s = store
        .apply(g, &Change::SetOnThisDay(daily.clone()), 77, t)
        .unwrap();
    assert_eq!(s.paused, None);
    assert!(s.next_post.is_some());
    let last = &store.audit_trail(g, 1).unwrap()[0];
    assert_eq!(
        (last.setting, last.user_id, last.old_value.as_str()),
        (Setting::Pause, Some(77), "paused: 404 Unknown Channel")
    );
    // The daily setting did not change, so its "last changed" mark did not either.
    assert_eq!(s.onthisday_changed.unwrap().user_id, 1);

    // Clearing a paused post records it going off, and ends the pause with it.
    store.pause_schedule(g, "403 Missing Access", t).unwrap();
    let s = store.apply(g, &Change::ClearOnThisDay, 78, t).unwrap();
    assert_eq!((s.onthisday, s.paused), (None, None));
    let last = &store.audit_trail(g, 1).unwrap()[0];
    assert_eq!(
        (last.setting, last.new_value.as_str(), last.user_id),
        (Setting::OnThisDay, "off", Some(78))
    );

    // Without a daily post there is nothing to pause.
    assert!(!store.pause_schedule(g, "403", t).unwrap());
    assert!(!store.pause_schedule(999, "403", t).unwrap());
}

/// A database written by a build that knew only migration 0001, with settings in
/// it, is brought to the latest version at open and keeps its rows.
#[test]
fn an_older_schema_is_migrated_at_open_and_keeps_its_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.sqlite3");
    {
        let conn = raw(&path);
        conn.execute_batch(MIGRATIONS[0].sql).unwrap();
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
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);

    let s = store.guild_settings(7).unwrap();
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
    assert_eq!(store.enabled_schedules().unwrap().len(), 1);
    assert_eq!(store.guild_settings(8).unwrap().next_post, None);
    let trail = store.audit_trail(7, 10).unwrap();
    assert_eq!(trail.len(), 1);
    assert_eq!(trail[0].new_value, "private");
}

/// A database at version 2 (before empty days could be posted) gets the column at
/// open, off for every server, and keeps its daily posts and their schedule.
#[test]
fn a_version_2_database_migrates_to_3_with_empty_days_off() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v2.sqlite3");
    {
        let conn = raw(&path);
        for m in &MIGRATIONS[..2] {
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
    assert_eq!(store.schema_version().unwrap(), 3);
    let s = store.guild_settings(7).unwrap();
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
        .pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();
    let err = SqliteStore::open(&path).unwrap_err();
    assert!(matches!(err, StoreError::TooNew { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.starts_with(&path.display().to_string())
            && msg.contains(&format!("schema version {}", SCHEMA_VERSION + 1))
            && msg.contains(&format!("up to {SCHEMA_VERSION}")),
        "{msg}"
    );
    let version: i64 = raw(&path)
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION + 1);
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
    let store = SqliteStore::open(&path).unwrap();
    let mut n = store
        .guild_settings(KILL_GUILD)
        .unwrap()
        .onthisday
        .map_or(0, |o| o.channel_id);
    let mut out = std::io::stdout().lock();
    loop {
        n += 1;
        let at = Timestamp::from_second(1_700_000_000 + n as i64).unwrap();
        store
            .apply(KILL_GUILD, &Change::SetOnThisDay(nth(n)), n, at)
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
#[test]
fn sigkill_mid_change_leaves_the_old_or_the_new_value() {
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
        let settings = store.guild_settings(KILL_GUILD).unwrap();
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
        let trail = store.audit_trail(KILL_GUILD, usize::MAX).unwrap();
        assert_eq!(
            trail.len() as u64,
            n,
            "round {round}: changes and records differ"
        );
        assert_eq!(trail[0].new_value, nth(n).describe(), "round {round}");
        assert_eq!(trail[0].old_value, nth(n - 1).describe(), "round {round}");
        assert_eq!(trail[0].user_id, Some(n));
        assert_eq!(store.enabled_schedules().unwrap().len(), 1);
        last = n;
    }
}
