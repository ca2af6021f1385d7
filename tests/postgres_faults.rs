//! The PostgreSQL server going away under a running `serve` (the real binary, on a
//! database of its own), tried two ways, both on this machine only:
//! - every backend of the bot's connections ended by `pg_terminate_backend`, which is
//!   what a restart does to the open connections (each gets `57P01 admin_shutdown`),
//!   the one that `LISTEN`s for other processes' changes included;
//! - an outage: a fault-injecting proxy on 127.0.0.1 between the bot and the server
//!   ([`support::fault_proxy`]) cuts every open connection and refuses new ones for a
//!   few seconds, as a server that is down while it restarts, then passes traffic
//!   again.
//!
//! Meanwhile, signed interactions as Discord sends them: a command from a server is
//! answered within Discord's 3 s with the defaults (and a log line), `/config show`
//! gets a private "Settings out of reach", a change a private "Not saved" or "Not
//! confirmed" and nothing half-written. After, with no restart of `serve`: the
//! settings are read again, a change is saved, the change feed (`LISTEN`) is back, and
//! a daily post due after the outage goes out once.
#![cfg(unix)]

mod support;

use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use karabakh_core::settings::{Change, Visibility};
use karabakh_store::Store;
use serde_json::{Value as Json, json};
use support::fake_discord::FakeDiscord;
use support::fault_proxy::FaultProxy;
use support::payload::{MANAGE_SERVER, NO_MANAGE, boolean, channel, fixture, in_guild, text};
use support::postgres::OwnDatabase;
use support::processes::{Bot, try_interact};

/// Servers the tests use: one whose moderator sets private replies through the bot,
/// one set private by another process (never read by this `serve` before the fault).
const GUILD_A: u64 = 1_500_000_000_000_000_001;
const GUILD_B: u64 = 1_500_000_000_000_000_002;
const GUILD_POSTS: u64 = 1_500_000_000_000_000_003;
const POSTS_CHANNEL: u64 = 1_500_000_000_000_000_300;
const MODERATOR: u64 = 1_500_000_000_000_000_500;
const MEMBER: u64 = 1_500_000_000_000_000_600;

/// A password in the bot's URL (the test server trusts loopback and never asks for
/// it): it must never show in a log line.
const PASSWORD: &str = "pg-fault-s3cret";

/// Discord's window for an answer.
const DISCORD_WINDOW: Duration = Duration::from_secs(3);

/// How long the bot may take to read the settings again once the server is back:
/// a connection is opened again on the first request (sqlx's pool tests each idle
/// connection before handing it out); the listener waits up to its pool's acquire
/// timeout (5 s) and 1 s between attempts. A bound on a failure, not a target.
const RECOVERY: Duration = Duration::from_secs(15);

fn with_password(url: &str) -> String {
    let mut url = url::Url::parse(url).unwrap();
    url.set_password(Some(PASSWORD)).unwrap();
    url.to_string()
}

/// `/config <sub> <options>` from a moderator of `guild`.
fn config(guild: u64, sub: &str, options: Json) -> Json {
    let mut j = in_guild(
        fixture("command-guild.json"),
        guild,
        MODERATOR,
        MANAGE_SERVER,
    );
    j["data"]["name"] = json!("config");
    j["data"]["options"] = json!([{"name": sub, "type": 1, "options": options}]);
    j
}

fn set_visibility(guild: u64, v: &str) -> Json {
    config(guild, "replies", json!([text("visibility", v)]))
}

/// `/reaction Turkey` from a member of `guild`.
fn reaction(guild: u64) -> Json {
    in_guild(fixture("command-guild.json"), guild, MEMBER, NO_MANAGE)
}

fn title(body: &Json) -> &str {
    body["data"]["embeds"][0]["title"].as_str().unwrap_or("")
}

fn private(body: &Json) -> bool {
    body["data"]["flags"] == 64
}

/// What `/config show` says of replies: `Public` or `Private`.
fn replies_shown(body: &Json) -> String {
    let description = body["data"]["embeds"][0]["description"]
        .as_str()
        .unwrap_or("");
    let after = description
        .split("**Replies**\n")
        .nth(1)
        .unwrap_or_else(|| panic!("no replies section: {body}"));
    after.split(':').next().unwrap().to_owned()
}

/// One `serve` on the database, through `proxy` if given.
struct Serve {
    bot: Bot,
    addr: String,
    client: reqwest::Client,
}

impl Serve {
    fn start(db: &OwnDatabase, proxy: Option<&FaultProxy>, fake: &FakeDiscord) -> Serve {
        Self::start_with(db, proxy, fake, &[])
    }

    /// [`Serve::start`] with more environment variables.
    fn start_with(
        db: &OwnDatabase,
        proxy: Option<&FaultProxy>,
        fake: &FakeDiscord,
        extra: &[(&str, String)],
    ) -> Serve {
        let url = match proxy {
            Some(p) => db.url_through(p.addr()),
            None => db.url(),
        };
        let mut env = vec![
            ("KR_DATABASE_URL", with_password(&url)),
            ("DISCORD_API_BASE", fake.base()),
            // An hour: a post is sent after the outage because the scheduler looks
            // again by itself, not because its poll came round.
            ("KR_SCHEDULE_POLL_SECONDS", "3600".to_owned()),
        ];
        env.extend(extra.iter().cloned());
        let mut bot = Bot::start("serve", &["serve", "--listen", "127.0.0.1:0"], &env);
        let addr = bot.listening();
        Serve {
            bot,
            addr,
            client: reqwest::Client::new(),
        }
    }

    /// Sends `interaction` and returns the answer and how long it took; the answer must
    /// be a 200 (Discord shows anything else as a failed interaction).
    async fn ask(&self, interaction: &Json) -> (Json, Duration) {
        let started = Instant::now();
        let (status, body) = try_interact(&self.client, &self.addr, interaction)
            .await
            .unwrap_or_else(|e| panic!("{e}\n{}", self.bot.log()));
        let took = started.elapsed();
        assert_eq!(status, 200, "{body}\n{}", self.bot.log());
        (body, took)
    }

    /// [`Serve::ask`], in Discord's window.
    async fn ask_in_time(&self, interaction: &Json) -> Json {
        let (body, took) = self.ask(interaction).await;
        assert!(
            took < DISCORD_WINDOW,
            "answered in {took:?}: {body}\n{}",
            self.bot.log()
        );
        body
    }

    /// Asks `/reaction` in `guild` until its answer is private (or not), at most
    /// [`RECOVERY`]; how long that took.
    async fn wait_for_replies(&self, guild: u64, want_private: bool) -> Duration {
        let started = Instant::now();
        loop {
            let answer = self.ask_in_time(&reaction(guild)).await;
            assert!(answer.to_string().contains("Turkey"), "{answer}");
            if private(&answer) == want_private {
                return started.elapsed();
            }
            assert!(
                started.elapsed() < RECOVERY,
                "guild {guild}: replies still not {} after {RECOVERY:?}\n{}",
                if want_private { "private" } else { "public" },
                self.bot.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Stops it (exit code 0), and checks its log: no panic, never the password.
    fn stop(mut self) -> String {
        let code = self.bot.stop();
        let log = self.bot.log();
        if std::env::var_os("KR_SHOW_LOG").is_some() {
            eprintln!("--- {} ---\n{log}", self.bot.name);
        }
        assert_eq!(code, Some(0), "{log}");
        assert!(!log.contains("panicked"), "{log}");
        assert!(!log.contains(PASSWORD), "the password in the log:\n{log}");
        log
    }
}

/// The settings and the audit trail of `guild` agree: the visibility is the last
/// audit record's new value (or the default, with no record), and every record
/// chains from the one before. The number of records.
async fn whole(store: &dyn Store, guild: u64) -> (Visibility, usize) {
    let settings = store.guild_settings(guild).await.unwrap();
    let audit = store.audit_trail(guild, 100).await.unwrap();
    let shown = settings.visibility.as_str();
    match audit.first() {
        None => assert_eq!(settings.visibility, Visibility::Public, "{audit:?}"),
        Some(last) => assert_eq!(last.new_value, shown, "{audit:?}"),
    }
    for pair in audit.windows(2) {
        assert_eq!(pair[0].old_value, pair[1].new_value, "{audit:?}");
    }
    (settings.visibility, audit.len())
}

/// Whether a backend of the database `LISTEN`s (its last statement), connected after
/// `since`.
async fn listening_since(admin: &sqlx::PgPool, db: &str, since: Timestamp) -> bool {
    let n: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_stat_activity
         WHERE datname = $1 AND query LIKE 'LISTEN%'
           AND backend_start >= to_timestamp($2::float8 / 1000)",
    )
    .bind(db)
    .bind(since.as_millisecond() as f64)
    .fetch_one(admin)
    .await
    .unwrap();
    n > 0
}

/// A change made by another process (a store of its own on the database) reaches
/// `serve`'s settings cache by its notice, well before the cache's own bound
/// ([`karabakh_reactions::settings_cache::TTL`]): the entry is read just before the
/// change, and the change must show within 2 s of it.
async fn change_feed_works(serve: &Serve, other: &dyn Store, guild: u64, to: Visibility) {
    let want_private = to == Visibility::Private;
    // The entry, fresh: read now, the old value.
    let answer = serve.ask_in_time(&reaction(guild)).await;
    assert_eq!(private(&answer), !want_private, "{answer}");
    let read_at = Instant::now();
    other
        .apply(
            guild,
            Change::SetVisibility(to),
            MODERATOR,
            Timestamp::now(),
        )
        .await
        .unwrap();
    let changed_at = Instant::now();
    loop {
        let answer = serve.ask_in_time(&reaction(guild)).await;
        if private(&answer) == want_private {
            break;
        }
        assert!(
            changed_at.elapsed() < Duration::from_secs(2),
            "a change made by another process not seen after 2 s (the cache keeps an \
             entry {:?}): the change feed is not back\n{}",
            karabakh_reactions::settings_cache::TTL,
            serve.bot.log()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        read_at.elapsed() < karabakh_reactions::settings_cache::TTL,
        "seen only when the entry ran out: the test cannot tell the feed worked"
    );
}

/// What a restart does to the open connections: every backend of the bot's
/// database is ended by `pg_terminate_backend` (each connection gets `57P01
/// admin_shutdown`), the listening one included. The next requests are answered as
/// usual (the pool opens connections again), a change is saved, and the listener is
/// back: another process's change reaches this one's cache by its notice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_backend_of_serve_terminated_as_in_a_restart() {
    let test = "every_backend_of_serve_terminated_as_in_a_restart";
    let Some(db) = OwnDatabase::new(test).await else {
        return;
    };
    let fake = FakeDiscord::start().await;
    let serve = Serve::start(&db, None, &fake);
    let other = db.store().await;
    let admin = db.admin().await;

    // Before: private replies set by the moderator, shown and used.
    let answer = serve.ask_in_time(&set_visibility(GUILD_A, "private")).await;
    assert_eq!(title(&answer), "Replies changed", "{answer}");
    assert!(private(&serve.ask_in_time(&reaction(GUILD_A)).await));

    // The restart's effect on the open connections.
    let terminated_at = Timestamp::now();
    let ended: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = $1 AND pid <> pg_backend_pid()",
    )
    .bind(&db.name)
    .fetch_all(&admin)
    .await
    .unwrap();
    assert!(
        ended.iter().filter(|e| **e).count() >= 2,
        "the bot's connections (one at least, and the listener's): {ended:?}"
    );

    // Answered as usual: the settings are read on new connections.
    let shown = serve.ask_in_time(&config(GUILD_A, "show", json!([]))).await;
    assert_eq!(title(&shown), "Settings of this server", "{shown}");
    assert!(private(&shown));
    assert_eq!(replies_shown(&shown), "Private");
    assert!(private(&serve.ask_in_time(&reaction(GUILD_A)).await));
    // A change is saved, whole.
    let answer = serve.ask_in_time(&set_visibility(GUILD_A, "public")).await;
    assert_eq!(title(&answer), "Replies changed", "{answer}");
    assert_eq!(
        whole(other.as_ref(), GUILD_A).await,
        (Visibility::Public, 2)
    );

    // The listener connected again, and another process's change reaches this one.
    let started = Instant::now();
    while !listening_since(&admin, &db.name, terminated_at).await {
        assert!(
            started.elapsed() < RECOVERY,
            "no LISTEN connection since the restart\n{}",
            serve.bot.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    change_feed_works(&serve, other.as_ref(), GUILD_A, Visibility::Private).await;

    let log = serve.stop();
    assert!(
        log.contains("lost the connection that listens for settings changes")
            || log.contains("listening for settings changes failed"),
        "the listener's loss is logged:\n{log}"
    );
}

/// The server down for a few seconds, as while it restarts: the proxy between the bot
/// and PostgreSQL cuts every open connection and refuses new ones, then passes
/// traffic again. See the file's documentation for what is checked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgresql_down_for_a_few_seconds_under_serve() {
    let test = "postgresql_down_for_a_few_seconds_under_serve";
    let Some(db) = OwnDatabase::new(test).await else {
        return;
    };
    let proxy = FaultProxy::start(db.server_addr()).await;
    let fake = FakeDiscord::start().await;
    let mut serve = Serve::start_with(
        &db,
        Some(&proxy),
        &fake,
        &[("KR_ADMIN_LISTEN", "127.0.0.1:0".to_owned())],
    );
    let admin_line = serve
        .bot
        .wait_for("admin on http://", Duration::from_secs(10));
    let health = format!(
        "http://{}/healthz",
        admin_line.split("admin on http://").nth(1).unwrap().trim()
    );
    let healthz = |client: reqwest::Client, url: String| async move {
        let r = client.get(url).send().await.unwrap();
        let status = r.status().as_u16();
        (
            status,
            serde_json::from_slice::<Json>(&r.bytes().await.unwrap()).unwrap(),
        )
    };
    assert_eq!(healthz(serve.client.clone(), health.clone()).await.0, 200);
    // Another process on the database, straight to the server.
    let other = db.store().await;
    let admin = db.admin().await;

    // Before: server A's moderator sets private replies through the bot; server B is
    // set private by another process (this `serve` has never read it).
    let answer = serve.ask_in_time(&set_visibility(GUILD_A, "private")).await;
    assert_eq!(title(&answer), "Replies changed", "{answer}");
    other
        .apply(
            GUILD_B,
            Change::SetVisibility(Visibility::Private),
            MODERATOR,
            Timestamp::now(),
        )
        .await
        .unwrap();

    // Down.
    proxy.refuse();
    let down_at = Instant::now();
    // A command from a server is answered in time, with the defaults (public).
    let answer = serve.ask_in_time(&reaction(GUILD_B)).await;
    assert!(answer.to_string().contains("Turkey"), "{answer}");
    assert!(!private(&answer), "the defaults: public: {answer}");
    // `/config show`: a private sentence.
    let shown = serve.ask_in_time(&config(GUILD_A, "show", json!([]))).await;
    assert!(private(&shown), "{shown}");
    assert_eq!(title(&shown), "Settings out of reach", "{shown}");
    // A change: a private sentence, not saved or not confirmed.
    let answer = serve.ask_in_time(&set_visibility(GUILD_A, "public")).await;
    assert!(private(&answer), "{answer}");
    let refused = title(&answer).to_owned();
    assert!(
        ["Settings out of reach", "Not saved", "Not confirmed"].contains(&refused.as_str()),
        "{answer}"
    );
    // The operator's view says which check fails.
    let (status, body) = healthz(serve.client.clone(), health.clone()).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["checks"]["store"]["ok"], false, "{body}");
    assert_eq!(body["checks"]["dataset"]["ok"], true, "{body}");
    // Down a while longer: the listener's attempts fail too.
    let outage = Duration::from_secs(6);
    tokio::time::sleep(outage.saturating_sub(down_at.elapsed())).await;
    assert!(proxy.refused() > 0, "the bot tried to connect meanwhile");
    let back_at = Timestamp::now();
    proxy.pass();

    // Nothing half-written: the change refused is made whole or not at all (not at
    // all unless it was "Not confirmed").
    let (visibility, records) = whole(other.as_ref(), GUILD_A).await;
    if refused != "Not confirmed" {
        assert_eq!((visibility, records), (Visibility::Private, 1));
    }
    // Back, without a restart: the settings are read again.
    let took = serve.wait_for_replies(GUILD_B, true).await;
    eprintln!("settings read again {took:?} after the server came back");
    let (status, body) = healthz(serve.client.clone(), health.clone()).await;
    assert_eq!(status, 200, "{body}");
    let shown = serve.ask_in_time(&config(GUILD_A, "show", json!([]))).await;
    assert_eq!(title(&shown), "Settings of this server", "{shown}");
    // A change is saved.
    let next = if visibility == Visibility::Private {
        ("public", Visibility::Public)
    } else {
        ("private", Visibility::Private)
    };
    let answer = serve.ask_in_time(&set_visibility(GUILD_A, next.0)).await;
    assert!(title(&answer) == "Replies changed", "{answer}");
    assert_eq!(whole(other.as_ref(), GUILD_A).await, (next.1, records + 1));
    // The change feed is back: a LISTEN connection since, and another process's change
    // reaches this one's cache by its notice.
    let started = Instant::now();
    while !listening_since(&admin, &db.name, back_at).await {
        assert!(
            started.elapsed() < RECOVERY,
            "no LISTEN connection since the server came back\n{}",
            serve.bot.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    change_feed_works(&serve, other.as_ref(), GUILD_B, Visibility::Public).await;

    let log = serve.stop();
    assert!(
        log.contains("answering with the defaults") || log.contains("did not answer in time"),
        "the read that fell back to the defaults is logged:\n{log}"
    );
}

/// The server stops answering without closing anything (hung, or the network between
/// lost) for a few seconds: the proxy holds every byte both ways. No store call fails;
/// none ends: each request is answered when its 1.5 s for the database are up, a
/// command with the defaults, `/config show` with "Settings out of reach", a change
/// with "Not confirmed", all in Discord's window. Once the bytes flow again, the bot
/// goes on by itself: the settings are read, a change is saved, the two agree.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgresql_silent_for_a_few_seconds_under_serve() {
    let test = "postgresql_silent_for_a_few_seconds_under_serve";
    let Some(db) = OwnDatabase::new(test).await else {
        return;
    };
    let proxy = FaultProxy::start(db.server_addr()).await;
    let fake = FakeDiscord::start().await;
    let serve = Serve::start(&db, Some(&proxy), &fake);
    let other = db.store().await;
    let answer = serve.ask_in_time(&set_visibility(GUILD_A, "private")).await;
    assert_eq!(title(&answer), "Replies changed", "{answer}");
    other
        .apply(
            GUILD_B,
            Change::SetVisibility(Visibility::Private),
            MODERATOR,
            Timestamp::now(),
        )
        .await
        .unwrap();

    // The answer's chart drawn once (as in a bot that has been answering): what
    // follows is about the database, not the first drawing.
    assert!(private(&serve.ask_in_time(&reaction(GUILD_A)).await));

    proxy.stall();
    // Members of servers never read yet, twelve at once (more than the pool's ten
    // connections): each answered in time, with the defaults.
    let asked: Vec<Json> = (0..12).map(|i| reaction(GUILD_B + 100 + i)).collect();
    let members = futures::future::join_all(asked.iter().map(|r| serve.ask(r))).await;
    for (answer, took) in members {
        assert!(took < DISCORD_WINDOW, "{took:?}");
        assert!(answer.to_string().contains("Turkey"), "{answer}");
    }
    let answer = serve.ask_in_time(&reaction(GUILD_B)).await;
    assert!(answer.to_string().contains("Turkey"), "{answer}");
    assert!(!private(&answer), "the defaults: public: {answer}");
    let shown = serve.ask_in_time(&config(GUILD_A, "show", json!([]))).await;
    assert!(private(&shown), "{shown}");
    assert_eq!(title(&shown), "Settings out of reach", "{shown}");
    let answer = serve.ask_in_time(&set_visibility(GUILD_A, "public")).await;
    assert!(private(&answer), "{answer}");
    assert_eq!(title(&answer), "Not confirmed", "{answer}");
    proxy.pass();

    // Made whole or not at all.
    let (visibility, records) = whole(other.as_ref(), GUILD_A).await;
    let took = serve.wait_for_replies(GUILD_B, true).await;
    eprintln!(
        "settings read again {took:?} after the bytes flowed again; the change not \
         confirmed was {}",
        if records == 2 { "made" } else { "not made" }
    );
    let next = if visibility == Visibility::Private {
        ("public", Visibility::Public)
    } else {
        ("private", Visibility::Private)
    };
    let answer = serve.ask_in_time(&set_visibility(GUILD_A, next.0)).await;
    assert_eq!(title(&answer), "Replies changed", "{answer}");
    assert_eq!(whole(other.as_ref(), GUILD_A).await, (next.1, records + 1));
    let shown = serve.ask_in_time(&config(GUILD_A, "show", json!([]))).await;
    assert_eq!(title(&shown), "Settings of this server", "{shown}");

    let log = serve.stop();
    assert!(
        log.contains("the settings database did not answer in time"),
        "the budget ran out, and it is logged:\n{log}"
    );
}

/// The connection is lost just as PostgreSQL commits a moderator's change: the server
/// has the `COMMIT` and commits it, the bot never hears back. The bot cannot know
/// whether the change was made, so it says so ("Not confirmed": look with `/config
/// show`), never "Not saved … nothing was changed", which would be false here. The
/// change is there, whole, and the next requests are answered as usual.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_connection_lost_as_postgresql_commits_a_change() {
    let test = "the_connection_lost_as_postgresql_commits_a_change";
    let Some(db) = OwnDatabase::new(test).await else {
        return;
    };
    let proxy = FaultProxy::start(db.server_addr()).await;
    let fake = FakeDiscord::start().await;
    // No scheduler: the only COMMIT is the change's.
    let serve = Serve::start_with(
        &db,
        Some(&proxy),
        &fake,
        &[("KR_SCHEDULE_ENABLED", "false".to_owned())],
    );
    let other = db.store().await;
    let answer = serve.ask_in_time(&set_visibility(GUILD_A, "private")).await;
    assert_eq!(title(&answer), "Replies changed", "{answer}");

    proxy.lose_next_commit();
    let answer = serve.ask_in_time(&set_visibility(GUILD_A, "public")).await;
    assert!(private(&answer), "{answer}");
    assert_eq!(title(&answer), "Not confirmed", "{answer}");
    // It was made, whole.
    assert_eq!(
        whole(other.as_ref(), GUILD_A).await,
        (Visibility::Public, 2)
    );
    // And shown; the next change is saved.
    let shown = serve.ask_in_time(&config(GUILD_A, "show", json!([]))).await;
    assert_eq!(replies_shown(&shown), "Public", "{shown}");
    let answer = serve.ask_in_time(&set_visibility(GUILD_A, "private")).await;
    assert_eq!(title(&answer), "Replies changed", "{answer}");
    assert_eq!(
        whole(other.as_ref(), GUILD_A).await,
        (Visibility::Private, 3)
    );

    let log = serve.stop();
    assert!(log.contains("a settings change was not confirmed"), "{log}");
}

/// A daily post due after an outage goes out once, at its minute, though the
/// scheduler's poll is an hour: it looks for posts due again by itself once the
/// database is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_due_after_an_outage_goes_out_once() {
    let test = "a_post_due_after_an_outage_goes_out_once";
    let Some(db) = OwnDatabase::new(test).await else {
        return;
    };
    let proxy = FaultProxy::start(db.server_addr()).await;
    let fake = FakeDiscord::start().await;
    // The next whole UTC minute at least 25 s away (the outage and its checks fit
    // before it).
    let earliest = Timestamp::now().as_second() + 25;
    let due = Timestamp::from_second(earliest - earliest.rem_euclid(60) + 60).unwrap();
    fake.set_now(due);
    let serve = Serve::start(&db, Some(&proxy), &fake);
    let answer = serve
        .ask_in_time(&config(
            GUILD_POSTS,
            "onthisday",
            json!([
                channel("channel", POSTS_CHANNEL),
                text("time", &due.strftime("%H:%M").to_string()),
                text("timezone", "UTC"),
                boolean("empty-days", true)
            ]),
        ))
        .await;
    assert_eq!(title(&answer), "Daily post set", "{answer}");

    proxy.refuse();
    tokio::time::sleep(Duration::from_secs(8)).await;
    proxy.pass();
    assert!(
        Timestamp::now() < due - SignedDuration::from_secs(5),
        "the outage ran past the minute"
    );

    let limit = due + SignedDuration::from_secs(10);
    while fake.messages(POSTS_CHANNEL).is_empty() && Timestamp::now() < limit {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A moment longer: a second post would show.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let messages = fake.messages(POSTS_CHANNEL);
    assert_eq!(messages.len(), 1, "one post\n{}", serve.bot.log());
    let arrived = fake.creates()[0].received;
    assert!(
        arrived >= due && arrived <= due + SignedDuration::from_secs(5),
        "the post arrived at {arrived}, due at {due}\n{}",
        serve.bot.log()
    );
    serve.stop();
}
