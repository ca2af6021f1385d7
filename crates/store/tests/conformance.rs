//! One suite, every backend: each test below is a function of a fresh database, run
//! once on SQLite and once on PostgreSQL (see [`conformance!`]). Settings that
//! round-trip, an audit trail in order, the rules of a change, servers that do not
//! mix, and the daily posts' leases: one owner at a time, taken over after expiry,
//! writes fenced, attempts counted in the database.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use common::{TestDb, otd, ts};
use jiff::Timestamp;
use jiff::civil::date;
use karabakh_core::settings::{
    AuditEntry, Change, GuildSettings, LastChange, OnThisDay, Paused, PostTime, Run, Setting,
    TimeZoneName, Visibility, post_nonce,
};
use karabakh_store::{Changed, Store, StoreError};

const MINUTE: Duration = Duration::from_secs(60);

/// Runs each named test on every backend (PostgreSQL: skipped, and said so, when no
/// server is in reach, unless `KR_REQUIRE_POSTGRES=1`).
macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::TestDb::sqlite().await).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(db) = super::TestDb::postgres(stringify!($name)).await {
                        super::$name(db).await;
                    }
                }
            )*
        }
    };
}

conformance!(
    a_guild_never_configured_reads_as_the_defaults,
    every_setting_round_trips,
    posting_empty_days_round_trips_is_audited_and_goes_with_the_daily_post,
    clearing_and_resetting_go_back_to_the_defaults,
    every_change_is_audited_newest_first_with_old_new_user_and_time,
    concurrent_changes_to_different_guilds_never_mix,
    a_post_is_leased_sent_and_recorded_once_per_local_day,
    re_enabling_on_a_day_already_posted_does_not_post_it_again,
    a_post_can_be_retried_later_or_given_up,
    failures_are_counted_in_the_database_and_only_failures,
    posts_are_leased_soonest_first_and_due_ones_only,
    a_paused_schedule_posts_nothing_until_resumed_or_set_again,
    two_owners_never_hold_the_same_post,
    an_expired_lease_is_taken_over_and_the_old_owner_is_fenced,
    a_change_by_a_moderator_takes_the_lease_back,
    ids_above_i64_max_survive_every_column,
    changes_are_announced,
);

async fn set(store: &dyn Store, guild: u64, o: OnThisDay, user: u64, at: &str) -> GuildSettings {
    store
        .apply(guild, Change::SetOnThisDay(o), user, ts(at))
        .await
        .unwrap()
}

async fn a_guild_never_configured_reads_as_the_defaults(db: TestDb) {
    let store = &*db.store;
    let s = store.guild_settings(1).await.unwrap();
    assert_eq!(s, GuildSettings::default());
    assert_eq!(s.visibility, Visibility::Public);
    assert!(store.audit_trail(1, 10).await.unwrap().is_empty());
    // A reset of nothing is nothing.
    let after = store
        .apply(1, Change::Reset, 5, ts("2024-01-01T00:00:00Z"))
        .await
        .unwrap();
    assert_eq!(after, GuildSettings::default());
    assert!(store.audit_trail(1, 10).await.unwrap().is_empty());
    assert_eq!(store.next_due_at().await.unwrap(), None);
    assert!(!store.was_posted(1, date(2024, 1, 1)).await.unwrap());
}

async fn every_setting_round_trips(mut db: TestDb) {
    // Ids past i64::MAX are kept bit for bit.
    let guild = u64::MAX - 3;
    let daily = otd(u64::MAX - 1, "07:30", "europe/paris");
    let t1 = ts("2024-03-01T05:00:00Z");
    let t2 = ts("2024-03-01T05:10:00.123Z");
    db.store
        .apply(guild, Change::SetOnThisDay(daily.clone()), 11, t1)
        .await
        .unwrap();
    let written = db
        .store
        .apply(guild, Change::SetVisibility(Visibility::Private), 12, t2)
        .await
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
    db.reopen().await;
    assert_eq!(db.store.guild_settings(guild).await.unwrap(), expected);
    assert_eq!(
        db.store.guild_settings(1).await.unwrap(),
        GuildSettings::default()
    );

    // Every value each setting can take, each read back after a reopen.
    let t3 = ts("2024-03-02T00:00:00Z");
    for v in [Visibility::Public, Visibility::Private] {
        db.store
            .apply(guild, Change::SetVisibility(v), 13, t3)
            .await
            .unwrap();
        db.reopen().await;
        assert_eq!(db.store.guild_settings(guild).await.unwrap().visibility, v);
    }
    for (time, zone) in [
        ("00:00", "UTC"),
        ("23:59", "America/New_York"),
        ("12:00", "Asia/Baku"),
    ] {
        let o = otd(99, time, zone);
        db.store
            .apply(guild, Change::SetOnThisDay(o.clone()), 13, t3)
            .await
            .unwrap();
        db.reopen().await;
        assert_eq!(
            db.store.guild_settings(guild).await.unwrap().onthisday,
            Some(o)
        );
    }
}

async fn posting_empty_days_round_trips_is_audited_and_goes_with_the_daily_post(mut db: TestDb) {
    let g = 31;
    let t = "2024-03-01T05:00:00Z";
    let quiet = otd(5, "07:30", "Europe/Paris");
    let chatty = OnThisDay {
        post_empty_days: true,
        ..quiet.clone()
    };
    let s = set(&*db.store, g, quiet.clone(), 1, t).await;
    assert!(!s.onthisday.unwrap().post_empty_days);
    // Only the flag changes: that is a change, audited with both values.
    set(&*db.store, g, chatty.clone(), 2, t).await;
    db.reopen().await;
    let store = &*db.store;
    let s = store.guild_settings(g).await.unwrap();
    assert_eq!(s.onthisday, Some(chatty.clone()));
    assert_eq!(s.onthisday_changed.unwrap().user_id, 2);
    let trail = store.audit_trail(g, 10).await.unwrap();
    assert_eq!(trail[0].old_value, "channel 5 at 07:30 Europe/Paris");
    assert_eq!(
        trail[0].new_value,
        "channel 5 at 07:30 Europe/Paris, empty days posted"
    );
    // The scheduler sees it too.
    let leases = store
        .lease_due(ts("2030-01-01T00:00:00Z"), "a", MINUTE, 10)
        .await
        .unwrap();
    assert_eq!(leases.len(), 1);
    assert!(leases[0].onthisday.post_empty_days);
    // Cleared with the daily post: set again without the flag, it is off.
    store
        .apply(g, Change::ClearOnThisDay, 3, ts(t))
        .await
        .unwrap();
    set(store, g, chatty, 4, t).await;
    store.apply(g, Change::Reset, 4, ts(t)).await.unwrap();
    let s = set(store, g, quiet.clone(), 5, t).await;
    assert_eq!(s.onthisday, Some(quiet));
}

async fn clearing_and_resetting_go_back_to_the_defaults(db: TestDb) {
    let store = &*db.store;
    let t = ts("2024-03-01T05:00:00Z");
    set(store, 7, otd(1, "08:00", "UTC"), 1, "2024-03-01T05:00:00Z").await;
    store
        .apply(7, Change::SetVisibility(Visibility::Private), 1, t)
        .await
        .unwrap();
    let s = store.apply(7, Change::ClearOnThisDay, 2, t).await.unwrap();
    assert_eq!(s.onthisday, None);
    assert_eq!(s.next_post, None);
    assert_eq!(s.visibility, Visibility::Private);
    assert_eq!(s.onthisday_changed, Some(LastChange { user_id: 2, at: t }));
    assert_eq!(store.next_due_at().await.unwrap(), None);

    set(store, 7, otd(1, "08:00", "UTC"), 1, "2024-03-01T05:00:00Z").await;
    let s = store.apply(7, Change::Reset, 3, t).await.unwrap();
    assert_eq!(s.onthisday, None);
    assert_eq!(s.visibility, Visibility::Public);
    assert_eq!(s.paused, None);
    // Who reset it shows as the last change of each setting.
    assert_eq!(s.onthisday_changed, Some(LastChange { user_id: 3, at: t }));
    assert_eq!(s.visibility_changed, Some(LastChange { user_id: 3, at: t }));
    assert_eq!(store.next_due_at().await.unwrap(), None);
    assert!(
        store
            .lease_due(ts("2030-01-01T00:00:00Z"), "a", MINUTE, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn every_change_is_audited_newest_first_with_old_new_user_and_time(db: TestDb) {
    let store = &*db.store;
    let g = 555;
    let at = |m: i64| Timestamp::from_second(1_700_000_000 + m * 60).unwrap();
    let paris = otd(10, "07:30", "Europe/Paris");
    let baku = otd(20, "09:00", "Asia/Baku");
    let apply = |change, user, minute| store.apply(g, change, user, at(minute));
    apply(Change::SetVisibility(Visibility::Private), 101, 1)
        .await
        .unwrap();
    apply(Change::SetOnThisDay(paris), 102, 2).await.unwrap();
    apply(Change::SetOnThisDay(baku), 103, 3).await.unwrap();
    // Setting what is already set changes nothing and records nothing.
    let before = store.guild_settings(g).await.unwrap();
    let same = apply(Change::SetVisibility(Visibility::Private), 104, 4)
        .await
        .unwrap();
    assert_eq!(same, before);
    apply(Change::Reset, 105, 5).await.unwrap();
    // Another server's changes stay out of this trail.
    store
        .apply(
            g + 1,
            Change::SetVisibility(Visibility::Private),
            999,
            at(6),
        )
        .await
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
    assert_eq!(store.audit_trail(g, 100).await.unwrap(), expected);
    assert_eq!(store.audit_trail(g, 2).await.unwrap(), expected[..2]);
    assert!(store.audit_trail(g, 0).await.unwrap().is_empty());
    let other = store.audit_trail(g + 1, 100).await.unwrap();
    assert_eq!(other.len(), 1);
    assert_eq!(other[0].user_id, Some(999));
}

/// Four writers at once, on four servers: two share one store, two have a store
/// each (as other processes would). Each reads back its own server after every
/// change.
async fn concurrent_changes_to_different_guilds_never_mix(db: TestDb) {
    const ROUNDS: u64 = 40;
    let mut tasks = Vec::new();
    for writer in 0..4u64 {
        let store: Arc<dyn Store> = if writer < 2 {
            Arc::clone(&db.store)
        } else {
            db.another().await
        };
        tasks.push(tokio::spawn(async move {
            let guild = 1000 + writer;
            let user = 2000 + writer;
            let zone = ["Europe/Paris", "Asia/Baku", "Asia/Yerevan", "UTC"][writer as usize];
            for i in 0..ROUNDS {
                let at = Timestamp::from_second(1_700_000_000 + i as i64).unwrap();
                let o = OnThisDay {
                    channel_id: guild * 1_000_000 + i,
                    time: PostTime::new((i % 24) as u8, ((i + writer) % 60) as u8).unwrap(),
                    zone: TimeZoneName::parse(zone).unwrap(),
                    post_empty_days: i % 3 == 0,
                };
                let v = if i % 2 == 0 {
                    Visibility::Private
                } else {
                    Visibility::Public
                };
                store
                    .apply(guild, Change::SetOnThisDay(o.clone()), user, at)
                    .await
                    .unwrap();
                store
                    .apply(guild, Change::SetVisibility(v), user, at)
                    .await
                    .unwrap();
                let s = store.guild_settings(guild).await.unwrap();
                assert_eq!(s.onthisday, Some(o), "writer {writer} round {i}");
                assert_eq!(s.visibility, v, "writer {writer} round {i}");
                assert_eq!(s.onthisday_changed, Some(LastChange { user_id: user, at }));
            }
        }));
    }
    for t in tasks {
        t.await.expect("a writer failed");
    }
    let store = &*db.store;
    for writer in 0..4u64 {
        let guild = 1000 + writer;
        let trail = store.audit_trail(guild, 10_000).await.unwrap();
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
        let last = store
            .guild_settings(guild)
            .await
            .unwrap()
            .onthisday
            .unwrap();
        assert_eq!(last.channel_id, guild * 1_000_000 + ROUNDS - 1);
    }
    let all = store
        .lease_due(Timestamp::MAX, "a", MINUTE, 100)
        .await
        .unwrap();
    assert_eq!(all.len(), 4);
}

async fn a_post_is_leased_sent_and_recorded_once_per_local_day(db: TestDb) {
    let store = &*db.store;
    let g = 42;
    let day = date(2024, 3, 1);
    let paris = otd(777, "07:30", "Europe/Paris"); // UTC+1 in March before the 31st
    set(store, g, paris.clone(), 1, "2024-03-01T05:00:00Z").await;
    let due_at = ts("2024-03-01T06:30:00Z");
    assert_eq!(store.next_due_at().await.unwrap(), Some(due_at));
    let early = store
        .lease_due(ts("2024-03-01T06:29:59Z"), "a", MINUTE, 10)
        .await
        .unwrap();
    assert!(early.is_empty());

    let leases = store.lease_due(due_at, "a", MINUTE, 10).await.unwrap();
    assert_eq!(leases.len(), 1);
    let lease = &leases[0];
    assert_eq!((lease.guild_id, lease.date), (g, day));
    assert_eq!(lease.onthisday, paris);
    assert_eq!(lease.channel_id, 777);
    assert_eq!(lease.nonce, post_nonce(g, day));
    assert_eq!(lease.attempt, 1);
    assert_eq!(lease.first_leased_at, due_at);
    assert_eq!(lease.owner, "a");
    assert_eq!(lease.until, ts("2024-03-01T06:31:00Z"));
    // Leased: nobody else gets it while the lease runs; it is due again at its end.
    assert!(
        store
            .lease_due(due_at, "b", MINUTE, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.next_due_at().await.unwrap(), Some(lease.until));
    // What moderators see is the run, not the lease.
    assert_eq!(
        store.guild_settings(g).await.unwrap().next_post,
        Some(Run {
            date: day,
            at: due_at
        })
    );
    assert!(!store.was_posted(g, day).await.unwrap());

    let sent_at = ts("2024-03-01T06:30:02Z");
    store.record_sent(lease, 9_001, sent_at).await.unwrap();
    assert!(store.was_posted(g, day).await.unwrap());
    // The schedule moved to the next day.
    let next = Run {
        date: date(2024, 3, 2),
        at: ts("2024-03-02T06:30:00Z"),
    };
    assert_eq!(store.guild_settings(g).await.unwrap().next_post, Some(next));
    assert_eq!(store.next_due_at().await.unwrap(), Some(next.at));
    // The lease is spent: a second record under it is refused, the first kept.
    let err = store
        .record_sent(lease, 9_002, ts("2024-03-01T07:00:00Z"))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Fenced { .. }), "{err}");
    assert!(err.to_string().contains("lease"), "{err}");
    for stale in [
        store.skip(lease, sent_at).await,
        store.retry_at(lease, sent_at).await,
        store.pause(lease, "403", sent_at).await,
    ] {
        assert!(matches!(stale, Err(StoreError::Fenced { .. })), "{stale:?}");
    }
    assert_eq!(store.guild_settings(g).await.unwrap().next_post, Some(next));
    assert!(
        store
            .lease_due(ts("2024-03-01T23:00:00Z"), "a", MINUTE, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn re_enabling_on_a_day_already_posted_does_not_post_it_again(db: TestDb) {
    let store = &*db.store;
    let g = 43;
    let day = date(2024, 3, 1);
    set(
        store,
        g,
        otd(1, "07:30", "Europe/Paris"),
        1,
        "2024-03-01T05:00:00Z",
    )
    .await;
    let posted_at = ts("2024-03-01T06:30:00Z");
    let lease = store.lease_due(posted_at, "a", MINUTE, 1).await.unwrap();
    store.record_sent(&lease[0], 1, posted_at).await.unwrap();
    // The time moves to later that day: the day is done, next is tomorrow.
    let s = set(
        store,
        g,
        otd(1, "12:00", "Europe/Paris"),
        2,
        "2024-03-01T09:00:00Z",
    )
    .await;
    assert_eq!(
        s.next_post,
        Some(Run {
            date: date(2024, 3, 2),
            at: ts("2024-03-02T11:00:00Z")
        })
    );
    // Reset and set again the same morning: the record of the post survived.
    store
        .apply(g, Change::Reset, 3, ts("2024-03-01T09:30:00Z"))
        .await
        .unwrap();
    let s = set(
        store,
        g,
        otd(1, "12:00", "Europe/Paris"),
        3,
        "2024-03-01T09:31:00Z",
    )
    .await;
    assert_eq!(s.next_post.unwrap().date, date(2024, 3, 2));
    assert!(store.was_posted(g, day).await.unwrap());
}

async fn a_post_can_be_retried_later_or_given_up(db: TestDb) {
    let store = &*db.store;
    let g = 44;
    set(store, g, otd(1, "09:00", "UTC"), 1, "2024-05-01T08:00:00Z").await;
    let day = date(2024, 5, 1);
    let run = Run {
        date: day,
        at: ts("2024-05-01T09:00:00Z"),
    };
    let first = store.lease_due(run.at, "a", MINUTE, 5).await.unwrap();
    let later = ts("2024-05-01T09:05:00Z");
    store.retry_at(&first[0], later).await.unwrap();
    // The run stays what moderators see; the post is due again at the retry time.
    assert_eq!(store.guild_settings(g).await.unwrap().next_post, Some(run));
    assert_eq!(store.next_due_at().await.unwrap(), Some(later));
    let before = store
        .lease_due(ts("2024-05-01T09:04:59Z"), "a", MINUTE, 5)
        .await
        .unwrap();
    assert!(before.is_empty());
    let second = store.lease_due(later, "b", MINUTE, 5).await.unwrap();
    assert_eq!(second.len(), 1);
    // The database counts the attempts, whoever makes them.
    assert_eq!(second[0].attempt, 2);
    assert_eq!(second[0].first_leased_at, run.at);
    assert_eq!(second[0].nonce, first[0].nonce);
    assert!(second[0].fence != first[0].fence);

    // Given up (found too late): the schedule goes to the next day, nothing posted.
    store
        .skip(&second[0], ts("2024-05-01T20:00:00Z"))
        .await
        .unwrap();
    assert!(!store.was_posted(g, day).await.unwrap());
    let next = Run {
        date: date(2024, 5, 2),
        at: ts("2024-05-02T09:00:00Z"),
    };
    assert_eq!(store.guild_settings(g).await.unwrap().next_post, Some(next));
    assert_eq!(store.next_due_at().await.unwrap(), Some(next.at));
    // The next day starts its own count.
    let third = store.lease_due(next.at, "a", MINUTE, 5).await.unwrap();
    assert_eq!((third[0].date, third[0].attempt), (next.date, 1));
}

/// The backoff goes by the failures the database counts: whichever owner tried, after
/// a restart too; a try put off by a 429 is no failure, a stale lease counts nothing,
/// and the next day starts from none.
async fn failures_are_counted_in_the_database_and_only_failures(db: TestDb) {
    let store = &*db.store;
    let g = 45;
    set(store, g, otd(1, "09:00", "UTC"), 1, "2024-05-01T08:00:00Z").await;
    let at = |t: &str| ts(&format!("2024-05-01T{t}Z"));
    let first = store
        .lease_due(at("09:00:00"), "a", MINUTE, 5)
        .await
        .unwrap();
    assert_eq!((first[0].attempt, first[0].failures), (1, 0));
    // A 429: put off, not failed.
    store.retry_at(&first[0], at("09:00:05")).await.unwrap();
    let second = store
        .lease_due(at("09:00:05"), "b", MINUTE, 5)
        .await
        .unwrap();
    assert_eq!((second[0].attempt, second[0].failures), (2, 0));
    // A 5xx, then another under another owner.
    store
        .retry_after_failure(&second[0], at("09:00:35"))
        .await
        .unwrap();
    assert_eq!(store.next_due_at().await.unwrap(), Some(at("09:00:35")));
    let third = store
        .lease_due(at("09:00:35"), "a", MINUTE, 5)
        .await
        .unwrap();
    assert_eq!((third[0].attempt, third[0].failures), (3, 1));
    store
        .retry_after_failure(&third[0], at("09:01:35"))
        .await
        .unwrap();
    // A stale lease (the second) counts nothing and moves nothing.
    assert!(matches!(
        store.retry_after_failure(&second[0], at("09:30:00")).await,
        Err(StoreError::Fenced { .. })
    ));
    assert_eq!(store.next_due_at().await.unwrap(), Some(at("09:01:35")));
    let fourth = store
        .lease_due(at("09:01:35"), "c", MINUTE, 5)
        .await
        .unwrap();
    assert_eq!((fourth[0].attempt, fourth[0].failures), (4, 2));
    // Given up: the next day starts from no failure.
    store.skip(&fourth[0], at("09:02:00")).await.unwrap();
    let next = store
        .lease_due(ts("2024-05-02T09:00:00Z"), "a", MINUTE, 5)
        .await
        .unwrap();
    assert_eq!(
        (next[0].date, next[0].attempt, next[0].failures),
        (date(2024, 5, 2), 1, 0)
    );
}

async fn posts_are_leased_soonest_first_and_due_ones_only(db: TestDb) {
    let store = &*db.store;
    let t = "2024-06-01T00:00:00Z";
    // 10:00 UTC, 06:00 in Baku (02:00 UTC), 08:00 in New York (12:00 UTC).
    set(store, 1, otd(1, "10:00", "UTC"), 9, t).await;
    set(store, 2, otd(2, "06:00", "Asia/Baku"), 9, t).await;
    set(store, 3, otd(3, "08:00", "America/New_York"), 9, t).await;
    store
        .apply(4, Change::SetVisibility(Visibility::Private), 9, ts(t))
        .await
        .unwrap();
    assert_eq!(
        store.next_due_at().await.unwrap(),
        Some(ts("2024-06-01T02:00:00Z"))
    );
    let lease = |at: &'static str, limit| async move {
        store
            .lease_due(ts(at), "a", Duration::from_secs(86_400), limit)
            .await
            .unwrap()
            .iter()
            .map(|l| l.guild_id)
            .collect::<Vec<u64>>()
    };
    assert_eq!(lease("2024-06-01T01:59:00Z", 10).await, Vec::<u64>::new());
    assert_eq!(lease("2024-06-01T10:00:00Z", 1).await, [2]);
    assert_eq!(lease("2024-06-01T10:00:00Z", 10).await, [1]);
    assert_eq!(lease("2024-06-01T23:00:00Z", 10).await, [3]);
}

async fn a_paused_schedule_posts_nothing_until_resumed_or_set_again(db: TestDb) {
    let store = &*db.store;
    let g = 45;
    let daily = otd(5, "07:30", "Europe/Paris");
    set(store, g, daily.clone(), 1, "2024-03-01T05:00:00Z").await;
    let paused_at = ts("2024-03-01T06:30:00Z");
    let lease = store.lease_due(paused_at, "a", MINUTE, 1).await.unwrap();
    store
        .pause(&lease[0], "403 Missing Access\n", paused_at)
        .await
        .unwrap();
    let s = store.guild_settings(g).await.unwrap();
    assert_eq!(
        s.paused,
        Some(Paused {
            reason: "403 Missing Access".to_owned(),
            at: paused_at
        })
    );
    assert_eq!(s.next_post, None);
    assert_eq!(s.onthisday, Some(daily.clone()), "the setting itself stays");
    assert_eq!(store.next_due_at().await.unwrap(), None);
    assert!(
        store
            .lease_due(ts("2030-01-01T00:00:00Z"), "a", MINUTE, 10)
            .await
            .unwrap()
            .is_empty()
    );
    // The lease is spent with the pause.
    let again = store
        .pause(&lease[0], "404 Unknown Channel", paused_at)
        .await;
    assert!(matches!(again, Err(StoreError::Fenced { .. })), "{again:?}");
    let trail = store.audit_trail(g, 1).await.unwrap();
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
    assert!(store.resume_schedule(g, resumed_at).await.unwrap());
    assert!(!store.resume_schedule(g, resumed_at).await.unwrap());
    let s = store.guild_settings(g).await.unwrap();
    assert_eq!(s.paused, None);
    assert_eq!(s.next_post.unwrap().date, date(2024, 3, 4));
    assert_eq!(
        store.audit_trail(g, 1).await.unwrap()[0].new_value,
        "running"
    );

    // A moderator setting the same value again also lifts a pause, and is named.
    let lease = store
        .lease_due(ts("2024-03-04T06:30:00Z"), "a", MINUTE, 1)
        .await
        .unwrap();
    store
        .pause(&lease[0], "404 Unknown Channel", resumed_at)
        .await
        .unwrap();
    let s = set(store, g, daily.clone(), 77, "2024-03-04T00:00:00Z").await;
    assert_eq!(s.paused, None);
    assert!(s.next_post.is_some());
    let last = &store.audit_trail(g, 1).await.unwrap()[0];
    assert_eq!(
        (last.setting, last.user_id, last.old_value.as_str()),
        (Setting::Pause, Some(77), "paused: 404 Unknown Channel")
    );
    // The daily setting did not change, so its "last changed" mark did not either.
    assert_eq!(s.onthisday_changed.unwrap().user_id, 1);

    // Clearing a paused post records it going off, and ends the pause with it.
    let t = ts("2024-03-05T00:00:00Z");
    let lease = store.lease_due(t, "a", MINUTE, 1).await.unwrap();
    store
        .pause(&lease[0], "403 Missing Access", t)
        .await
        .unwrap();
    let s = store.apply(g, Change::ClearOnThisDay, 78, t).await.unwrap();
    assert_eq!((s.onthisday, s.paused), (None, None));
    let last = &store.audit_trail(g, 1).await.unwrap()[0];
    assert_eq!(
        (last.setting, last.new_value.as_str(), last.user_id),
        (Setting::OnThisDay, "off", Some(78))
    );
    assert!(!store.resume_schedule(g, t).await.unwrap());
    assert!(!store.resume_schedule(999, t).await.unwrap());
}

/// Two schedulers (two handles, as two processes) lease the same due posts at once:
/// each post goes to exactly one of them.
async fn two_owners_never_hold_the_same_post(db: TestDb) {
    const SERVERS: u64 = 60;
    let t = "2024-06-01T00:00:00Z";
    for g in 1..=SERVERS {
        set(&*db.store, g, otd(g, "10:00", "UTC"), 9, t).await;
    }
    let due = ts("2024-06-01T10:00:00Z");
    let mut tasks = Vec::new();
    for (owner, store) in [("a", Arc::clone(&db.store)), ("b", db.another().await)] {
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let got = store.lease_due(due, owner, MINUTE, 7).await.unwrap();
                if got.is_empty() {
                    return mine;
                }
                assert!(got.iter().all(|l| l.owner == owner));
                mine.extend(got.into_iter().map(|l| l.guild_id));
            }
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let unique: BTreeSet<u64> = all.iter().copied().collect();
    assert_eq!(all.len(), unique.len(), "a post was leased twice: {all:?}");
    assert_eq!(unique, (1..=SERVERS).collect());
}

/// A scheduler dies holding a lease: once it runs out another takes the post over
/// (attempt 2, so it looks for the message first); if the first comes back, its
/// writes are refused, but a message it did send is kept as the day's post.
async fn an_expired_lease_is_taken_over_and_the_old_owner_is_fenced(db: TestDb) {
    let store = &*db.store;
    let other = db.another().await;
    set(store, 1, otd(1, "10:00", "UTC"), 9, "2024-06-01T00:00:00Z").await;
    set(store, 2, otd(2, "10:00", "UTC"), 9, "2024-06-01T00:00:00Z").await;
    let due = ts("2024-06-01T10:00:00Z");
    let a = store.lease_due(due, "a", MINUTE, 10).await.unwrap();
    assert_eq!(a.len(), 2);
    // Not before the lease runs out.
    let early = other
        .lease_due(ts("2024-06-01T10:00:59Z"), "b", MINUTE, 10)
        .await
        .unwrap();
    assert!(early.is_empty());
    let b = other
        .lease_due(ts("2024-06-01T10:01:00Z"), "b", MINUTE, 10)
        .await
        .unwrap();
    assert_eq!(b.len(), 2);
    for (old, new) in a.iter().zip(&b) {
        assert_eq!((old.guild_id, old.date), (new.guild_id, new.date));
        assert_eq!(new.attempt, 2);
        assert_eq!(new.first_leased_at, due);
        assert_eq!(new.owner, "b");
        assert!(new.fence != old.fence);
    }
    // Server 1: the old owner's retry and skip are refused; the new owner records.
    let late = ts("2024-06-01T10:01:30Z");
    for refused in [
        store.retry_at(&a[0], late).await,
        store.skip(&a[0], late).await,
        store.pause(&a[0], "403", late).await,
    ] {
        assert!(
            matches!(refused, Err(StoreError::Fenced { guild_id: 1, .. })),
            "{refused:?}"
        );
    }
    assert!(store.guild_settings(1).await.unwrap().paused.is_none());
    other.record_sent(&b[0], 11, late).await.unwrap();
    assert!(store.was_posted(1, date(2024, 6, 1)).await.unwrap());
    // Server 2: the old owner's message did go out: refused as the schedule's
    // write, kept as the day's post, and the new owner's attempt then finds the day
    // done.
    let err = store.record_sent(&a[1], 21, late).await.unwrap_err();
    assert!(
        matches!(err, StoreError::Fenced { guild_id: 2, .. }),
        "{err}"
    );
    assert!(store.was_posted(2, date(2024, 6, 1)).await.unwrap());
    other.retry_at(&b[1], late).await.unwrap();
    let again = other.lease_due(late, "b", MINUTE, 10).await.unwrap();
    assert!(
        again.is_empty(),
        "a day already posted was leased: {again:?}"
    );
    assert_eq!(
        store
            .guild_settings(2)
            .await
            .unwrap()
            .next_post
            .unwrap()
            .date,
        date(2024, 6, 2)
    );
}

async fn a_change_by_a_moderator_takes_the_lease_back(db: TestDb) {
    let store = &*db.store;
    set(store, 1, otd(1, "10:00", "UTC"), 9, "2024-06-01T00:00:00Z").await;
    let due = ts("2024-06-01T10:00:00Z");
    let lease = store.lease_due(due, "a", MINUTE, 1).await.unwrap();
    // Moved to 10:30 the same day while the post is in flight.
    let s = set(store, 1, otd(1, "10:30", "UTC"), 9, "2024-06-01T10:00:01Z").await;
    assert_eq!(s.next_post.unwrap().at, ts("2024-06-01T10:30:00Z"));
    assert_eq!(
        store.next_due_at().await.unwrap(),
        Some(ts("2024-06-01T10:30:00Z"))
    );
    let retry = store.retry_at(&lease[0], ts("2024-06-01T10:00:30Z")).await;
    assert!(matches!(retry, Err(StoreError::Fenced { .. })), "{retry:?}");
    // The message the lease sent is still the day's post: 10:30 is not posted again.
    let sent = store
        .record_sent(&lease[0], 5, ts("2024-06-01T10:00:02Z"))
        .await;
    assert!(matches!(sent, Err(StoreError::Fenced { .. })), "{sent:?}");
    let at_half_past = store
        .lease_due(ts("2024-06-01T10:30:00Z"), "a", MINUTE, 1)
        .await
        .unwrap();
    assert!(at_half_past.is_empty(), "{at_half_past:?}");
    assert_eq!(
        store
            .guild_settings(1)
            .await
            .unwrap()
            .next_post
            .unwrap()
            .date,
        date(2024, 6, 2)
    );
}

async fn ids_above_i64_max_survive_every_column(db: TestDb) {
    let store = &*db.store;
    let (guild, channel, user, message) = (u64::MAX, u64::MAX - 1, u64::MAX - 2, u64::MAX - 3);
    set(
        store,
        guild,
        otd(channel, "10:00", "UTC"),
        user,
        "2024-06-01T00:00:00Z",
    )
    .await;
    let trail = store.audit_trail(guild, 1).await.unwrap();
    assert_eq!((trail[0].guild_id, trail[0].user_id), (guild, Some(user)));
    let lease = store
        .lease_due(ts("2024-06-01T10:00:00Z"), "a", MINUTE, 1)
        .await
        .unwrap();
    assert_eq!((lease[0].guild_id, lease[0].channel_id), (guild, channel));
    assert_eq!(lease[0].nonce, post_nonce(guild, date(2024, 6, 1)));
    store
        .record_sent(&lease[0], message, ts("2024-06-01T10:00:01Z"))
        .await
        .unwrap();
    assert!(store.was_posted(guild, date(2024, 6, 1)).await.unwrap());
    // i64::MAX + 1 and i64::MAX are different servers.
    let low = i64::MAX as u64;
    store
        .apply(
            low,
            Change::SetVisibility(Visibility::Private),
            1,
            ts("2024-06-01T00:00:00Z"),
        )
        .await
        .unwrap();
    assert_eq!(
        store.guild_settings(low + 1).await.unwrap().visibility,
        Visibility::Public
    );
    assert_eq!(
        store.guild_settings(low).await.unwrap().visibility,
        Visibility::Private
    );
}

/// Every write that changes what a server's settings read announces the server.
async fn changes_are_announced(db: TestDb) {
    let store = &*db.store;
    let mut changes = store.changes();
    set(store, 8, otd(1, "10:00", "UTC"), 9, "2024-06-01T00:00:00Z").await;
    let next = tokio::time::timeout(Duration::from_secs(5), changes.recv()).await;
    assert_eq!(next.unwrap().unwrap(), Changed::Guild(8));
    let lease = store
        .lease_due(ts("2024-06-01T10:00:00Z"), "a", MINUTE, 1)
        .await
        .unwrap();
    store
        .record_sent(&lease[0], 1, ts("2024-06-01T10:00:01Z"))
        .await
        .unwrap();
    let mut seen = Vec::new();
    while let Ok(Ok(c)) = tokio::time::timeout(Duration::from_millis(500), changes.recv()).await {
        seen.push(c);
    }
    assert!(seen.contains(&Changed::Guild(8)), "{seen:?}");
}
