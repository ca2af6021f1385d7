//! Several of the bot's processes on one database (issue 12): `serve` replicas that
//! answer `/config`, and `schedule` processes that send the daily posts, all real
//! binaries, against the fake Discord of tests/support on 127.0.0.1, which holds the
//! bot to Discord's global 50 requests a second (a request beyond it gets a global
//! 429, counted) and, like Discord, makes one message of creates that share a nonce.
//!
//! The posts are due at a real minute (the processes read the real clock): each test
//! configures its servers for the next whole UTC minute at least [`SETUP`] away, so it
//! waits for that minute (up to 70 s + a minute).
#![cfg(unix)]

mod support;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use futures::StreamExt as _;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value as Json, json};
use support::fake_discord::FakeDiscord;
use support::payload::{MANAGE_SERVER, boolean, channel, fixture, in_guild, text};
use support::postgres::OwnDatabase;
use support::processes::{Bot, interact, try_interact};

/// The time given to start the processes and configure the servers before the
/// minute the posts are due.
const SETUP: Duration = Duration::from_secs(70);
/// The moderator who configures every server.
const MODERATOR: u64 = 1_100_000_000_000_000_501;
/// Each scheduler's rate: two together (40) stay under Discord's 50 a second with
/// room for the jitter of two unsynchronised processes (at 24 each, 48 in all, the
/// fake refused a request or two in a run).
const RATE: u32 = 20;
/// Every post may be this late on top of what the rate allows (the bound).
const SLACK: SignedDuration = SignedDuration::from_secs(5);

fn guild(i: u64) -> u64 {
    1_200_000_000_000_000_000 + i
}

fn channel_of(i: u64) -> u64 {
    1_300_000_000_000_000_000 + i
}

/// The database every process of a test shares: a SQLite file in a temporary
/// folder, or a PostgreSQL database made for the test on the server at
/// `KR_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/test`) and
/// dropped after it.
struct Database {
    _dir: Option<tempfile::TempDir>,
    env: (&'static str, String),
    postgres: Option<OwnDatabase>,
}

impl Database {
    fn sqlite() -> Database {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("shared.sqlite3");
        Database {
            env: ("KR_DATABASE", path.display().to_string()),
            _dir: Some(dir),
            postgres: None,
        }
    }

    /// A database of its own on the PostgreSQL server; `None` (said on standard
    /// error) when the server is out of reach, unless `KR_REQUIRE_POSTGRES=1` (CI),
    /// where that fails the test.
    async fn postgres(test: &str) -> Option<Database> {
        let db = OwnDatabase::new(test).await?;
        Some(Database {
            _dir: None,
            env: ("KR_DATABASE_URL", db.url()),
            postgres: Some(db),
        })
    }
}

/// The environment of every process: the database, the fake Discord, and the
/// schedulers' poll. On PostgreSQL the longest (an hour): a scheduler hears of the
/// servers configured through a replica (another process) by `LISTEN`/`NOTIFY`, at
/// once. On SQLite, which tells no other process, 5 s: the bound on seeing them.
fn env(db: &Database, fake: &FakeDiscord, extra: &[(&str, &str)]) -> Vec<(&'static str, String)> {
    let poll = if db.postgres.is_some() { "3600" } else { "5" };
    let mut env = vec![
        (db.env.0, db.env.1.clone()),
        ("DISCORD_API_BASE", fake.base()),
        ("KR_SCHEDULE_POLL_SECONDS", poll.to_owned()),
        ("KR_SCHEDULE_REQUESTS_PER_SECOND", RATE.to_string()),
    ];
    for (k, v) in extra {
        let k: &'static str = match *k {
            "KR_SCHEDULE_ENABLED" => "KR_SCHEDULE_ENABLED",
            other => panic!("{other}"),
        };
        env.push((k, (*v).to_owned()));
    }
    env
}

/// The next whole UTC minute at least [`SETUP`] away.
fn due_minute() -> Timestamp {
    let earliest = Timestamp::now() + SignedDuration::try_from(SETUP).unwrap();
    let second = earliest.as_second();
    Timestamp::from_second(second - second.rem_euclid(60) + 60).unwrap()
}

/// `/config <sub> <options>` in server `i`, as Discord sends it.
fn config(i: u64, sub: &str, options: Json) -> Json {
    let mut j = in_guild(
        fixture("command-guild.json"),
        guild(i),
        MODERATOR,
        MANAGE_SERVER,
    );
    j["id"] = json!((1_400_000_000_000_000_000 + i).to_string());
    j["data"]["name"] = json!("config");
    j["data"]["options"] = json!([{"name": sub, "type": 1, "options": options}]);
    j
}

/// `/config onthisday` for server `i`: its channel, at `due`'s minute, UTC, empty
/// days too (whatever the day, there is a post).
fn set_post(i: u64, due: Timestamp) -> Json {
    let hhmm = due.strftime("%H:%M").to_string();
    config(
        i,
        "onthisday",
        json!([
            channel("channel", channel_of(i)),
            text("time", &hhmm),
            text("timezone", "UTC"),
            boolean("empty-days", true)
        ]),
    )
}

/// Configures servers `1..=n` through the replicas in turn, 8 requests at a time. A
/// request answered 503 (the server's 2.5 s deadline, or its load shedding, under the
/// writes of this test's own changes on a shared machine) or not answered is sent
/// again, up to 5 times, as a moderator would; how many were is printed.
async fn configure(replicas: &[String], n: u64, due: Timestamp) {
    let client = reqwest::Client::new();
    let answers: Vec<(u64, u16, Json, usize)> = futures::stream::iter(1..=n)
        .map(|i| {
            let client = client.clone();
            let addr = replicas[(i as usize) % replicas.len()].clone();
            async move {
                let mut again = 0;
                loop {
                    match try_interact(&client, &addr, &set_post(i, due)).await {
                        Ok((503, _)) | Err(_) if again < 5 => {
                            again += 1;
                            tokio::time::sleep(Duration::from_millis(200)).await;
                        }
                        Ok((status, body)) => return (i, status, body, again),
                        Err(e) => panic!("server {i}: {e}"),
                    }
                }
            }
        })
        .buffer_unordered(8)
        .collect()
        .await;
    let mut retried = 0;
    for (i, status, body, again) in answers {
        assert_eq!(
            (status, &body["type"]),
            (200, &json!(4)),
            "server {i}: {body}"
        );
        retried += again;
    }
    if retried > 0 {
        eprintln!("configuring {n} servers: {retried} requests sent again after a 503");
    }
}

/// Waits until every channel `1..=n` has a message, at most until `deadline`.
async fn wait_for_posts(fake: &FakeDiscord, n: u64, deadline: Timestamp) {
    while Timestamp::now() < deadline {
        if (1..=n).all(|i| !fake.messages(channel_of(i)).is_empty()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// How many creates each nonce got.
fn creates_per_nonce(fake: &FakeDiscord) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for c in fake.creates() {
        let nonce = c.body.as_ref().unwrap()["nonce"]
            .as_str()
            .unwrap()
            .to_owned();
        *counts.entry(nonce).or_insert(0) += 1;
    }
    counts
}

/// Three replicas answer `/config`; two schedulers (20 requests a second each, 40 in
/// all) send the 1 000 posts due at one minute. Every post goes out once (one message
/// per channel, one create per nonce), with no request refused for the rate, and on
/// time: sorted by arrival, the k-th post (from 0) arrives at most 5 s + k / 36 s
/// after the minute (the rate, 40, less a tenth for the pacing's own delays on a
/// loaded machine: the last at most 5 s + 999 / 36 s = 32.75 s after; the floor is
/// 999 / 40 = 24.98 s).
/// A change made through one replica is read by another at once (no cache).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_and_two_schedulers_send_a_thousand_posts_once_on_time_on_postgresql() {
    let test = "three_replicas_and_two_schedulers_send_a_thousand_posts_once_on_time_on_postgresql";
    if let Some(db) = Database::postgres(test).await {
        a_thousand_posts(db).await;
    }
}

async fn a_thousand_posts(db: Database) {
    let posts: u64 = 1_000;
    let fake = FakeDiscord::start().await;
    fake.limit_rate(50);
    fake.set_latency(Duration::from_millis(50));
    let due = due_minute();
    fake.set_now(due);
    let serve = ["serve", "--listen", "127.0.0.1:0"];
    let replica_env = env(&db, &fake, &[("KR_SCHEDULE_ENABLED", "false")]);
    // The first creates and migrates the database; the others start on it.
    let mut replicas = vec![Bot::start("replica 0", &serve, &replica_env)];
    let first = replicas[0].listening();
    for n in 1..3 {
        replicas.push(Bot::start(&format!("replica {n}"), &serve, &replica_env));
    }
    let mut addrs = vec![first];
    for r in &mut replicas[1..] {
        addrs.push(r.listening());
    }
    let mut schedulers: Vec<Bot> = ["scheduler A", "scheduler B"]
        .iter()
        .map(|name| Bot::start(name, &["schedule"], &env(&db, &fake, &[])))
        .collect();
    for s in &mut schedulers {
        s.wait_for("sending the daily posts", Duration::from_secs(30));
    }

    let started = Instant::now();
    configure(&addrs, posts, due).await;
    let configured = started.elapsed();
    assert!(
        Timestamp::now() < due,
        "configuring took {configured:?}: past the minute; raise SETUP"
    );
    // Set through replica 1 (server 1), read through replica 2 and 0.
    let client = reqwest::Client::new();
    for addr in [&addrs[2], &addrs[0]] {
        let (_, shown) = interact(&client, addr, &config(1, "show", json!([]))).await;
        let text = shown["data"]["embeds"][0]["description"].as_str().unwrap();
        assert!(
            text.contains(&format!("Next post: <t:{}:F>.", due.as_second())),
            "{text}"
        );
    }

    let limit = due + SignedDuration::from_secs(90);
    wait_for_posts(&fake, posts, limit).await;
    let logs = || {
        schedulers
            .iter()
            .chain(&replicas)
            .map(|b| format!("--- {} ---\n{}", b.name, b.log()))
            .collect::<Vec<_>>()
            .join("\n")
    };
    for i in 1..=posts {
        assert_eq!(
            fake.messages(channel_of(i)).len(),
            1,
            "server {i}: one message\n{}",
            logs()
        );
    }
    assert_eq!(fake.rate_limited(), 0, "a request beyond 50 a second");
    let counts = creates_per_nonce(&fake);
    assert_eq!(counts.len() as u64, posts);
    let doubled: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(doubled.is_empty(), "sent twice: {doubled:?}");

    let mut arrivals: Vec<Timestamp> = fake.creates().iter().map(|c| c.received).collect();
    arrivals.sort();
    // The pacing sends at the rate or a little under it (each request waits at least
    // the interval after the last one actually sent, and a loaded machine adds its
    // delays): the bound counts a tenth off the rate.
    let per_post = SignedDuration::from_secs(1) / (2 * RATE as i32 * 9 / 10);
    for (k, at) in arrivals.iter().enumerate() {
        let late = at.duration_since(due);
        let bound = SLACK + per_post * k as i32;
        assert!(
            late >= SignedDuration::ZERO && late <= bound,
            "post {k} arrived {late:?} after the minute; the bound is {bound:?}"
        );
    }
    eprintln!(
        "{posts} posts: configured in {configured:?}; the last arrived {:?} after the minute",
        arrivals.last().unwrap().duration_since(due)
    );
    for s in &mut schedulers {
        assert_eq!(s.stop(), Some(0), "{}", s.log());
    }
    for r in &mut replicas {
        assert_eq!(r.stop(), Some(0), "{}", r.log());
    }
}

/// One replica, two schedulers (20 requests a second each), 300 posts due at one
/// minute; one scheduler is killed with SIGKILL once 60 posts are out, holding the
/// leases of the posts it had not finished. Every post still goes out once: one
/// message per channel. The survivor takes the dead one's posts over when their
/// leases run out (its loop wakes then), so the last post arrives by the minute + the
/// lease (60 s) + 300 / 20 s + 5 s; a post the dead one had sent but not recorded is
/// found by its nonce (a second create with it makes no second message, as on
/// Discord) or in the channel's history.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheduler_killed_in_the_middle_leaves_no_post_unsent_or_doubled_on_postgresql() {
    let test = "a_scheduler_killed_in_the_middle_leaves_no_post_unsent_or_doubled_on_postgresql";
    if let Some(db) = Database::postgres(test).await {
        a_scheduler_killed(db).await;
    }
}

/// The same on one SQLite file (the default database), shared by the processes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheduler_killed_in_the_middle_leaves_no_post_unsent_or_doubled_on_sqlite() {
    a_scheduler_killed(Database::sqlite()).await;
}

async fn a_scheduler_killed(db: Database) {
    let posts: u64 = 300;
    let fake = FakeDiscord::start().await;
    fake.limit_rate(50);
    fake.set_latency(Duration::from_millis(50));
    let due = due_minute();
    fake.set_now(due);
    let serve = ["serve", "--listen", "127.0.0.1:0"];
    let mut replica = Bot::start(
        "replica",
        &serve,
        &env(&db, &fake, &[("KR_SCHEDULE_ENABLED", "false")]),
    );
    let addr = replica.listening();
    let mut survivor = Bot::start("scheduler A", &["schedule"], &env(&db, &fake, &[]));
    let mut victim = Bot::start("scheduler B", &["schedule"], &env(&db, &fake, &[]));
    survivor.wait_for("sending the daily posts", Duration::from_secs(30));
    victim.wait_for("sending the daily posts", Duration::from_secs(30));
    configure(std::slice::from_ref(&addr), posts, due).await;
    assert!(Timestamp::now() < due, "past the minute; raise SETUP");

    // Kill B in the middle of the burst.
    let kill_by = due + SignedDuration::from_secs(60);
    while fake.creates().len() < 60 && Timestamp::now() < kill_by {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let sent_before = fake.creates().len();
    victim.kill_hard();
    assert!(
        (60..posts as usize).contains(&sent_before),
        "killed after {sent_before} posts"
    );

    let lease = SignedDuration::try_from(karabakh_reactions::scheduler::LEASE_FOR).unwrap();
    let bound = lease + SignedDuration::from_secs(1) * (posts as i32 / RATE as i32) + SLACK;
    wait_for_posts(&fake, posts, due + bound + SignedDuration::from_secs(10)).await;
    let logs = || {
        [&survivor, &victim, &replica]
            .iter()
            .map(|b| format!("--- {} ---\n{}", b.name, b.log()))
            .collect::<Vec<_>>()
            .join("\n")
    };
    for i in 1..=posts {
        assert_eq!(
            fake.messages(channel_of(i)).len(),
            1,
            "server {i}: one message (killed after {sent_before})\n{}",
            logs()
        );
    }
    assert_eq!(fake.rate_limited(), 0);
    let counts = creates_per_nonce(&fake);
    assert_eq!(counts.len() as u64, posts);
    assert!(counts.values().all(|n| *n <= 2), "{counts:?}");
    let last = fake.creates().iter().map(|c| c.received).max().unwrap();
    let late = last.duration_since(due);
    assert!(
        late <= bound,
        "the last post arrived {late:?} after the minute; the bound is {bound:?}"
    );
    let retaken = counts.values().filter(|n| **n == 2).count();
    eprintln!(
        "killed after {sent_before} posts; the last arrived {late:?} after the minute; \
         {retaken} posts sent again with their nonce"
    );
    assert_eq!(survivor.stop(), Some(0), "{}", survivor.log());
    assert_eq!(replica.stop(), Some(0), "{}", replica.log());
}

/// `/reaction Hungary` in server `i`, asked by a member who is no moderator.
fn reaction(i: u64) -> Json {
    let mut j = in_guild(
        fixture("command-guild.json"),
        guild(i),
        1_100_000_000_000_000_777,
        "0",
    );
    j["data"]["options"] = json!([text("actor", "Hungary")]);
    j
}

/// Whether an answer to a command is shown only to the asker.
fn private(answer: &Json) -> bool {
    answer["data"]["flags"].as_u64().unwrap_or(0) & 64 != 0
}

/// A moderator switches a server to private replies through one replica; another
/// replica, which had the server's settings cached, answers privately within the
/// stated bound (README, "Scaling out": 5 s; on PostgreSQL the change's notice
/// usually drops the copy sooner). Its answers before were public: the cache was
/// warm, not empty.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_through_one_replica_is_used_by_another_within_the_bound_on_postgresql() {
    let test = "a_change_through_one_replica_is_used_by_another_within_the_bound_on_postgresql";
    if let Some(db) = Database::postgres(test).await {
        a_change_seen_by_another_replica(db).await;
    }
}

/// The same on one SQLite file, which tells no other process: the bound is the cache's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_through_one_replica_is_used_by_another_within_the_bound_on_sqlite() {
    a_change_seen_by_another_replica(Database::sqlite()).await;
}

async fn a_change_seen_by_another_replica(db: Database) {
    let bound = karabakh_reactions::settings_cache::TTL;
    let fake = FakeDiscord::start().await;
    let serve = ["serve", "--listen", "127.0.0.1:0"];
    let replica_env = env(&db, &fake, &[("KR_SCHEDULE_ENABLED", "false")]);
    let mut a = Bot::start("replica A", &serve, &replica_env);
    let a_addr = a.listening();
    let mut b = Bot::start("replica B", &serve, &replica_env);
    let b_addr = b.listening();
    let client = reqwest::Client::new();
    for _ in 0..3 {
        let (status, answer) = interact(&client, &b_addr, &reaction(7)).await;
        assert_eq!(status, 200, "{answer}");
        assert!(!private(&answer), "public by default: {answer}");
    }

    let (_, changed) = interact(
        &client,
        &a_addr,
        &config(7, "replies", json!([text("visibility", "private")])),
    )
    .await;
    let changed_at = Instant::now();
    assert_eq!(changed["type"], 4, "{changed}");
    // Replica A uses its own change at once.
    assert!(private(&interact(&client, &a_addr, &reaction(7)).await.1));
    let seen = loop {
        let (_, answer) = interact(&client, &b_addr, &reaction(7)).await;
        if private(&answer) {
            break changed_at.elapsed();
        }
        assert!(
            changed_at.elapsed() <= bound + Duration::from_secs(1),
            "replica B still answers publicly {:?} after the change\n{}",
            changed_at.elapsed(),
            b.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    eprintln!("replica B used the change {seen:?} after replica A made it (bound {bound:?})");
    assert_eq!(a.stop(), Some(0), "{}", a.log());
    assert_eq!(b.stop(), Some(0), "{}", b.log());
}
