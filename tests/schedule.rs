//! The daily posts end to end inside one process: a real SQLite store on a temporary
//! file, the bot's one REST client (serenity's `Http` from `rest::client`, its rate
//! limiter off as for any API base but Discord's), a fake Discord on 127.0.0.1
//! (tests/support) that records every request, checks what Discord would, and can
//! refuse, and an injected clock (each test calls `tick(now)` with the instant it
//! wants; nothing sleeps).

mod support;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use jiff::civil::{Date, date};
use karabakh_core::reply::{Message, Reply};
use karabakh_core::schedule::{ChannelMessage, DEFAULT_RETRY_AFTER};
use karabakh_core::settings::{Change, OnThisDay, Setting, post_nonce};
use karabakh_reactions::discord::render;
use karabakh_reactions::discord::rest::{self, ChannelPoster};
use karabakh_reactions::operator::{self, Config};
use karabakh_reactions::scheduler::{
    DEFAULT_CONCURRENCY, PostError, PostOutcome, Poster, Scheduler, TickReport,
};
use karabakh_store::{SqliteStore, Store};
use serde_json::json;
use support::fake_discord::{self, FakeDiscord, Scripted};
use support::{core, otd, ts};
use tempfile::TempDir;

/// Shaped like a bot token; the fake accepts any `Bot …`.
const TOKEN: &str = "MTIzNDU2Nzg5MDEyMzQ1Njc4OQ.GaBcDe.not-a-real-token_0123456789";
const MODERATOR: u64 = 77;

fn config_for(fake: &FakeDiscord) -> Config {
    let base = fake.base();
    let env = move |k: &str| match k {
        "DISCORD_TOKEN" => Some(TOKEN.to_owned()),
        "DISCORD_API_BASE" => Some(base.clone()),
        _ => None,
    };
    operator::resolve(None, &env).unwrap()
}

/// A database file, the fake Discord, and a scheduler on both.
struct Bench {
    _dir: TempDir,
    path: PathBuf,
    fake: FakeDiscord,
    store: Arc<SqliteStore>,
    scheduler: Arc<Scheduler<ChannelPoster>>,
}

impl Bench {
    async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bot.sqlite3");
        let fake = FakeDiscord::start().await;
        let store = Arc::new(SqliteStore::open(&path).unwrap());
        let scheduler = scheduler(&fake, Arc::clone(&store));
        Bench {
            _dir: dir,
            path,
            fake,
            store,
            scheduler,
        }
    }

    /// Posts one after another, as a test of what follows a 429 or a 401 needs: with
    /// several in flight, those sent before the refusal came back are not held.
    fn sequential(mut self) -> Self {
        let store: Arc<dyn Store> = Arc::clone(&self.store) as _;
        self.scheduler =
            Arc::new(Scheduler::new(store, core(), poster(&self.fake)).with_concurrency(1));
        self
    }

    /// As after a restart: a new store handle on the same file, a new scheduler.
    fn restart(&mut self) {
        self.store = Arc::new(SqliteStore::open(&self.path).unwrap());
        self.scheduler = scheduler(&self.fake, Arc::clone(&self.store));
    }

    async fn set(&self, guild: u64, o: OnThisDay, at: &str) {
        self.store
            .apply(guild, Change::SetOnThisDay(o), MODERATOR, ts(at))
            .await
            .unwrap();
    }

    async fn next_post(&self, guild: u64) -> Option<(Date, Timestamp)> {
        self.store
            .guild_settings(guild)
            .await
            .unwrap()
            .next_post
            .map(|r| (r.date, r.at))
    }

    async fn tick(&self, now: &str) -> TickReport {
        let now = ts(now);
        self.fake.set_now(now);
        self.scheduler.tick(now).await
    }

    fn titles(&self, channel: u64) -> Vec<String> {
        self.fake
            .messages(channel)
            .iter()
            .map(|m| m.json["embeds"][0]["title"].as_str().unwrap().to_owned())
            .collect()
    }
}

/// The daily posts' poster on the one client, as `startup::spawn_scheduler` builds it.
fn poster(fake: &FakeDiscord) -> ChannelPoster {
    let config = config_for(fake);
    let base = &config.discord.api_base;
    let http = rest::client(base, config.secrets.token().unwrap()).unwrap();
    ChannelPoster::new(Arc::new(http), base)
}

fn scheduler(fake: &FakeDiscord, store: Arc<SqliteStore>) -> Arc<Scheduler<ChannelPoster>> {
    Arc::new(Scheduler::new(store, core(), poster(fake)))
}

fn posted(report: &TickReport) -> usize {
    report.count(|o| matches!(o, PostOutcome::Posted { .. }))
}

#[tokio::test]
async fn new_york_posts_at_the_local_time_across_both_daylight_saving_changes() {
    let b = Bench::new().await;
    // 2022-03-13: New York's clocks jump from 02:00 to 03:00; 02:30 does not exist
    // and is read as 03:30 EDT (07:30 UTC).
    b.set(
        1,
        otd(11, "02:30", "America/New_York"),
        "2022-03-12T12:00:00Z",
    )
    .await;
    assert_eq!(
        b.next_post(1).await,
        Some((date(2022, 3, 13), ts("2022-03-13T07:30:00Z")))
    );
    assert!(b.tick("2022-03-13T07:29:59Z").await.outcomes.is_empty());
    assert!(b.fake.creates().is_empty());
    let report = b.tick("2022-03-13T07:30:00Z").await;
    assert_eq!(report.posted(), vec![1]);
    assert_eq!(b.titles(11), vec!["On this day: 13 March"]);
    // Later that day: nothing more; the next post is the next day's.
    assert!(b.tick("2022-03-13T09:00:00Z").await.outcomes.is_empty());
    assert_eq!(b.fake.creates().len(), 1);
    assert_eq!(
        b.next_post(1).await,
        Some((date(2022, 3, 14), ts("2022-03-14T06:30:00Z")))
    );

    // 2027-11-07: 01:00–02:00 comes twice; the first 01:30 (EDT, 05:30 UTC) posts,
    // the second (EST, 06:30 UTC) does not.
    b.set(
        2,
        otd(12, "01:30", "America/New_York"),
        "2027-11-06T12:00:00Z",
    )
    .await;
    assert!(b.tick("2027-11-07T05:29:59Z").await.posted().is_empty());
    let report = b.tick("2027-11-07T05:30:00Z").await;
    assert_eq!(report.posted(), vec![2]);
    assert!(b.tick("2027-11-07T06:30:00Z").await.posted().is_empty());
    assert!(b.tick("2027-11-07T06:45:00Z").await.posted().is_empty());
    assert_eq!(b.titles(12), vec!["On this day: 7 November"]);
}

#[tokio::test]
async fn paris_and_sydney_post_once_on_the_days_their_clocks_change() {
    let b = Bench::new().await;
    // 2024-10-27: Paris goes back from 03:00 to 02:00; 02:30 comes twice. The first
    // (CEST, 00:30 UTC) posts; the second (CET, 01:30 UTC) does not.
    b.set(1, otd(11, "02:30", "Europe/Paris"), "2024-10-26T12:00:00Z")
        .await;
    assert!(b.tick("2024-10-27T00:29:59Z").await.outcomes.is_empty());
    assert_eq!(posted(&b.tick("2024-10-27T00:30:00Z").await), 1);
    assert!(b.tick("2024-10-27T01:30:00Z").await.outcomes.is_empty());
    assert!(b.tick("2024-10-27T01:31:00Z").await.outcomes.is_empty());
    assert_eq!(b.titles(11), vec!["On this day: 27 October"]);

    // 2022-10-02: Sydney jumps from 02:00 to 03:00; 02:30 is read as 03:30 AEDT
    // (16:30 UTC the day before).
    b.set(
        2,
        otd(12, "02:30", "Australia/Sydney"),
        "2022-10-01T00:00:00Z",
    )
    .await;
    assert_eq!(
        b.next_post(2).await,
        Some((date(2022, 10, 2), ts("2022-10-01T16:30:00Z")))
    );
    assert!(b.tick("2022-10-01T16:29:59Z").await.outcomes.is_empty());
    assert_eq!(posted(&b.tick("2022-10-01T16:30:00Z").await), 1);
    assert!(b.tick("2022-10-01T17:30:00Z").await.outcomes.is_empty());
    assert_eq!(b.titles(12), vec!["On this day: 2 October"]);
}

#[tokio::test]
async fn an_empty_day_is_skipped_and_the_schedule_moves_on() {
    let b = Bench::new().await;
    // 2024-03-31 (Paris skips 02:30 that night: 03:30 CEST, 01:30 UTC): the dataset
    // has nothing on 31 March, so nothing is posted; 1 April has entries.
    b.set(1, otd(11, "02:30", "Europe/Paris"), "2024-03-30T12:00:00Z")
        .await;
    assert_eq!(
        b.next_post(1).await,
        Some((date(2024, 3, 31), ts("2024-03-31T01:30:00Z")))
    );
    let report = b.tick("2024-03-31T01:30:00Z").await;
    assert_eq!(report.outcome(1), Some(&PostOutcome::SkippedEmpty));
    assert!(b.fake.requests().is_empty(), "{:?}", b.fake.requests());
    assert_eq!(
        b.next_post(1).await,
        Some((date(2024, 4, 1), ts("2024-04-01T00:30:00Z")))
    );
    assert_eq!(posted(&b.tick("2024-04-01T00:30:00Z").await), 1);
    assert_eq!(b.titles(11), vec!["On this day: 1 April"]);
}

#[tokio::test]
async fn a_server_that_asked_for_empty_days_gets_them() {
    let b = Bench::new().await;
    let mut o = otd(12, "02:30", "Europe/Paris");
    o.post_empty_days = true;
    b.set(2, o, "2024-03-30T12:00:00Z").await;
    assert_eq!(posted(&b.tick("2024-03-31T01:30:00Z").await), 1);
    assert_eq!(b.titles(12), vec!["On this day: 31 March"]);
    let description = b.fake.messages(12)[0].json["embeds"][0]["description"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        description.contains("Nothing in the dataset"),
        "{description}"
    );
}

#[tokio::test]
async fn the_request_is_a_silent_message_with_the_nonce_and_the_bot_token() {
    let b = Bench::new().await;
    b.set(5, otd(55, "09:00", "UTC"), "2020-09-27T00:00:00Z")
        .await;
    let report = b.tick("2020-09-27T09:00:00Z").await;
    let creates = b.fake.creates();
    assert_eq!(creates.len(), 1);
    let r = &creates[0];
    assert_eq!(r.path, "/api/v10/channels/55/messages");
    assert_eq!(r.headers["authorization"], format!("Bot {TOKEN}"));
    assert_eq!(r.headers["content-type"], "application/json");
    // One User-Agent: serenity's, on every request.
    assert!(
        r.headers["user-agent"]
            .starts_with("DiscordBot (https://github.com/serenity-rs/serenity, "),
        "{}",
        r.headers["user-agent"]
    );
    let body = r.body.as_ref().unwrap();
    // serenity's `CreateAllowedMentions::new()`, as in every interaction reply:
    // nothing to parse, no user or role allowed.
    assert_eq!(
        body["allowed_mentions"],
        json!({"parse": [], "users": [], "roles": []})
    );
    assert_eq!(body["nonce"], json!(post_nonce(5, date(2020, 9, 27))));
    assert_eq!(body["enforce_nonce"], json!(true));
    assert_eq!(
        body["embeds"][0]["title"],
        json!("On this day: 27 September")
    );
    assert!(body.get("flags").is_none(), "{body}");
    // The same page as `/onthisday 09-27`, buttons included when it has several.
    let expected = karabakh_core::schedule::answer_for(
        &core(),
        date(2020, 9, 27),
        5,
        ts("2020-09-27T09:00:00Z"),
    );
    assert!(!expected.empty);
    let page = expected.page(1);
    assert_eq!(
        body["embeds"][0]["description"],
        json!(page.embed.description)
    );
    assert_eq!(
        body["components"].as_array().map_or(0, Vec::len),
        page.buttons.len().div_ceil(5)
    );
    let id = b.fake.messages(55)[0].id;
    assert_eq!(
        report.outcome(5),
        Some(&PostOutcome::Posted { message_id: id })
    );
}

/// The body the one client sends is `render::channel_post` as serenity serialises
/// it, and it is what the fake (standing in for Discord) takes; the fake refuses one
/// that would ping, lacks the nonce, or looks like an interaction reply.
#[tokio::test]
async fn the_one_client_sends_the_body_the_fake_expects() {
    let b = Bench::new().await;
    b.set(5, otd(55, "09:00", "UTC"), "2020-09-27T00:00:00Z")
        .await;
    let now = ts("2020-09-27T09:00:00Z");
    assert_eq!(posted(&b.tick("2020-09-27T09:00:00Z").await), 1);
    let daily = b.fake.creates()[0].body.clone().unwrap();
    let page = karabakh_core::schedule::answer_for(&core(), date(2020, 9, 27), 5, now).page(1);
    let nonce = post_nonce(5, date(2020, 9, 27));
    let expected = serde_json::to_value(render::channel_post(&page, &nonce)).unwrap();
    assert_eq!(daily, expected);
    assert_eq!(fake_discord::check_create(&daily), Ok(()));
    // No day's post has several pages (so no buttons) with the embedded dataset: a
    // page that has them goes through the same client too.
    let Reply::Message(page) = core().respond(&support::command("/reaction Turkey")).reply else {
        panic!("/reaction Turkey answers with a message");
    };
    assert!(!page.buttons.is_empty());
    let id = poster(&b.fake)
        .create_message(56, &page, "otd-buttons")
        .await
        .unwrap();
    assert_eq!(b.fake.messages(56)[0].id, id);
    let sent = b.fake.creates()[1].body.clone().unwrap();
    let expected = serde_json::to_value(render::channel_post(&page, "otd-buttons")).unwrap();
    assert_eq!(sent, expected);
    // The embed and buttons are the interaction reply's, byte for byte, but for the
    // chart: a post attaches no file, so it leaves the picture and its field out.
    assert!(page.chart.is_some(), "Turkey's answer draws its statements");
    assert!(sent["embeds"][0].get("image").is_none());
    let mut plain = page.clone();
    plain.drop_chart();
    let reply = serde_json::to_value(render::message(&plain, None)).unwrap();
    assert_eq!(sent["embeds"], reply["embeds"]);
    assert_eq!(sent["components"], reply["components"]);
    assert!(!sent["components"].as_array().unwrap().is_empty());

    let refused = |change: &dyn Fn(&mut serde_json::Value)| {
        let mut body = sent.clone();
        change(&mut body);
        fake_discord::check_create(&body).expect_err(&body.to_string())
    };
    refused(&|b| b["allowed_mentions"] = json!({"parse": ["everyone"]}));
    refused(&|b| {
        b.as_object_mut().unwrap().remove("allowed_mentions");
    });
    refused(&|b| b["allowed_mentions"]["users"] = json!(["1"]));
    refused(&|b| {
        b.as_object_mut().unwrap().remove("nonce");
    });
    refused(&|b| b["enforce_nonce"] = json!(false));
    refused(&|b| b["flags"] = json!(64));
    refused(&|b| b["embeds"] = json!([]));
    refused(&|b| b["components"][0]["components"][0]["custom_id"] = json!(""));

    // Through the client, a body the fake refuses is Discord's 400: given up, not retried.
    let config = config_for(&b.fake);
    let http = rest::client(&b.fake.base(), config.secrets.token().unwrap()).unwrap();
    let e = serenity::all::ChannelId::new(55)
        .send_message(
            &http,
            serenity::all::CreateMessage::new().content("no embed"),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            rest::post_error(&e, &b.fake.base(), "POST"),
            PostError::Other(why) if why.contains("400 Bad Request") && why.contains("Invalid Form Body")
        ),
        "{e:?}"
    );
    assert_eq!(b.fake.messages(55).len(), 1);
}

#[tokio::test]
async fn a_restart_after_the_post_does_not_repeat_it() {
    let mut b = Bench::new().await;
    b.set(1, otd(11, "08:00", "Europe/Paris"), "2020-10-09T00:00:00Z")
        .await;
    assert_eq!(posted(&b.tick("2020-10-09T06:00:00Z").await), 1);
    b.restart();
    for now in [
        "2020-10-09T06:00:00Z",
        "2020-10-09T06:00:01Z",
        "2020-10-09T21:59:00Z",
    ] {
        assert!(b.tick(now).await.outcomes.is_empty(), "{now}");
    }
    assert_eq!(b.fake.creates().len(), 1);
    assert!(b.store.was_posted(1, date(2020, 10, 9)).await.unwrap());
    // The next day posts as usual.
    assert_eq!(posted(&b.tick("2020-10-10T06:00:00Z").await), 0); // 10-10 is empty
    assert_eq!(posted(&b.tick("2020-10-11T06:00:00Z").await), 1);
    assert_eq!(b.fake.messages(11).len(), 2);
}

/// Forwards to a real poster, then dies before the scheduler can record the post:
/// the process crashing between send and record.
struct CrashAfterSend(ChannelPoster);

impl Poster for CrashAfterSend {
    async fn create_message(
        &self,
        channel: u64,
        m: &Message,
        nonce: &str,
    ) -> Result<u64, PostError> {
        let _sent = self.0.create_message(channel, m, nonce).await;
        panic!("the process dies here, after the send and before the record");
    }
    async fn recent_messages(
        &self,
        channel: u64,
        limit: u8,
    ) -> Result<Vec<ChannelMessage>, PostError> {
        self.0.recent_messages(channel, limit).await
    }
    async fn bot_user_id(&self) -> Result<u64, PostError> {
        self.0.bot_user_id().await
    }
}

async fn crash_once(b: &Bench, now: &str) {
    let poster = poster(&b.fake);
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&b.path).unwrap());
    let crashing = Arc::new(Scheduler::new(store, core(), CrashAfterSend(poster)));
    let now = ts(now);
    b.fake.set_now(now);
    let died = tokio::spawn(async move { crashing.tick(now).await }).await;
    assert!(died.unwrap_err().is_panic());
}

#[tokio::test]
async fn a_crash_between_send_and_record_does_not_double_the_post() {
    let mut b = Bench::new().await;
    b.set(1, otd(11, "08:00", "UTC"), "2020-10-09T00:00:00Z")
        .await;
    crash_once(&b, "2020-10-09T08:00:00Z").await;
    assert_eq!(b.fake.messages(11).len(), 1, "the send reached Discord");
    assert!(!b.store.was_posted(1, date(2020, 10, 9)).await.unwrap());

    // Back up 20 minutes later: Discord has forgotten the nonce by then, so only the
    // look at the channel's recent messages keeps the post from going out twice.
    b.fake.forget_nonces();
    b.restart();
    let report = b.tick("2020-10-09T08:20:00Z").await;
    let id = b.fake.messages(11)[0].id;
    assert_eq!(
        report.outcome(1),
        Some(&PostOutcome::AlreadyPosted {
            message_id: Some(id)
        })
    );
    assert_eq!(b.fake.creates().len(), 1, "no second create");
    assert_eq!(b.fake.messages(11).len(), 1);
    assert!(b.store.was_posted(1, date(2020, 10, 9)).await.unwrap());
    let looked: Vec<_> = b
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.method == "GET")
        .map(|r| (r.route().to_owned(), r.param("limit").map(str::to_owned)))
        .collect();
    assert_eq!(
        looked,
        vec![
            ("/api/v10/users/@me".to_owned(), None),
            (
                "/api/v10/channels/11/messages".to_owned(),
                Some("50".to_owned())
            )
        ]
    );
    // And nothing more that day.
    assert!(b.tick("2020-10-09T12:00:00Z").await.outcomes.is_empty());
}

/// The look at the channel reads each message for the little it needs: a message
/// from someone else that serenity 0.12.5's `Message` cannot parse (a component type
/// newer than it) does not hide the bot's post.
#[tokio::test]
async fn a_message_serenity_cannot_parse_does_not_hide_the_earlier_post() {
    let mut b = Bench::new().await;
    b.set(1, otd(11, "08:00", "UTC"), "2020-10-09T00:00:00Z")
        .await;
    crash_once(&b, "2020-10-09T08:00:00Z").await;
    b.fake.set_now(ts("2020-10-09T08:10:00Z"));
    let newer = json!({"content": "hi", "components": [{"type": 1, "components": [{"type": 99}]}]});
    b.fake.post_as(11, 99, newer);
    let foreign = b.fake.messages(11)[1].json.clone();
    assert!(serde_json::from_value::<serenity::all::Message>(foreign).is_err());
    b.fake.forget_nonces();
    b.restart();
    let report = b.tick("2020-10-09T08:20:00Z").await;
    let id = b.fake.messages(11)[0].id;
    assert_eq!(
        report.outcome(1),
        Some(&PostOutcome::AlreadyPosted {
            message_id: Some(id)
        })
    );
    assert_eq!(b.fake.creates().len(), 1, "no second create");
}

#[tokio::test]
async fn a_post_of_the_same_day_a_year_before_is_not_taken_for_the_lost_one() {
    let mut b = Bench::new().await;
    b.set(1, otd(11, "08:00", "UTC"), "2020-10-09T00:00:00Z")
        .await;
    assert_eq!(posted(&b.tick("2020-10-09T08:00:00Z").await), 1);
    // A year later the same title is due again; the first try dies after sending
    // nothing that is kept (the fake refuses it with a 500 and the process dies).
    b.fake.script(11, [Scripted::ServerError]);
    crash_once(&b, "2021-10-09T08:00:00Z").await;
    assert_eq!(b.fake.messages(11).len(), 1);
    b.fake.forget_nonces();
    b.restart();
    let report = b.tick("2021-10-09T08:05:00Z").await;
    assert_eq!(posted(&report), 1, "{report:?}");
    assert_eq!(
        b.titles(11),
        vec!["On this day: 9 October", "On this day: 9 October"]
    );
}

#[tokio::test]
async fn forbidden_or_gone_channels_pause_only_their_server() {
    let b = Bench::new().await;
    for (guild, channel) in [(1, 21), (2, 22), (3, 23)] {
        b.set(guild, otd(channel, "08:00", "UTC"), "2020-10-08T00:00:00Z")
            .await;
    }
    b.fake.script(21, [Scripted::Forbidden]);
    b.fake.script(23, [Scripted::NotFound]);
    let report = b.tick("2020-10-08T08:00:00Z").await;
    assert_eq!(report.posted(), vec![2]);
    let expected = "Discord refused the post to <#21>: Missing Permissions (403, code 50013). \
                    Give the bot Send Messages and Embed Links there, then set /config \
                    onthisday again.";
    assert_eq!(
        report.outcome(1),
        Some(&PostOutcome::Paused {
            reason: expected.to_owned()
        })
    );
    let settings = b.store.guild_settings(1).await.unwrap();
    assert_eq!(settings.paused.as_ref().unwrap().reason, expected);
    assert_eq!(settings.next_post, None);
    let audit = b.store.audit_trail(1, 1).await.unwrap();
    assert_eq!(audit[0].setting, Setting::Pause);
    assert_eq!(audit[0].user_id, None, "paused by the bot");
    assert!(
        audit[0].new_value.contains(expected),
        "{}",
        audit[0].new_value
    );
    let gone = b
        .store
        .guild_settings(3)
        .await
        .unwrap()
        .paused
        .unwrap()
        .reason;
    assert!(
        gone.contains("<#23>: Unknown Channel (404, code 10003)"),
        "{gone}"
    );

    // The next day only the server that kept its channel posts.
    let report = b.tick("2020-10-09T08:00:00Z").await;
    assert_eq!(report.posted(), vec![2]);
    assert_eq!(b.fake.messages(21).len() + b.fake.messages(23).len(), 0);
    // A moderator setting the post again resumes it.
    b.set(1, otd(24, "08:00", "UTC"), "2020-10-10T12:00:00Z")
        .await;
    assert!(b.store.guild_settings(1).await.unwrap().paused.is_none());
    assert_eq!(posted(&b.tick("2020-10-11T08:00:00Z").await), 2);
    assert_eq!(b.fake.messages(24).len(), 1);
}

/// How long a 429 puts a post off. The fake says `retry_after` (in the body, and in
/// `Retry-After`) as Discord does, but serenity's client, with its rate limiter off as
/// for any API base but Discord's, hands on only the status: the wait is the default
/// one (see `discord::rest`).
fn rate_limit_wait() -> jiff::SignedDuration {
    jiff::SignedDuration::try_from(DEFAULT_RETRY_AFTER).unwrap()
}

#[tokio::test]
async fn a_429_is_waited_out_and_not_counted_as_a_failure() {
    let b = Bench::new().await;
    b.set(1, otd(31, "08:00", "UTC"), "2020-10-08T00:00:00Z")
        .await;
    // Seven 429s in a row: more than the retries a failure gets.
    b.fake.script(
        31,
        (0..7).map(|_| Scripted::RateLimited {
            retry_after: 12.5,
            global: false,
        }),
    );
    let mut now = ts("2020-10-08T08:00:00Z");
    for round in 0..7 {
        let report = b.tick(&now.to_string()).await;
        let until = now + rate_limit_wait();
        assert_eq!(
            report.outcome(1),
            Some(&PostOutcome::Postponed { until }),
            "round {round}"
        );
        // Nothing is sent before the wait is over.
        let just_before = until - jiff::SignedDuration::from_millis(1);
        assert!(b.tick(&just_before.to_string()).await.outcomes.is_empty());
        assert_eq!(b.fake.creates().len(), round + 1);
        now = until;
    }
    assert_eq!(posted(&b.tick(&now.to_string()).await), 1);
    assert_eq!(b.fake.messages(31).len(), 1);
}

#[tokio::test]
async fn a_global_429_holds_every_post_of_the_tick() {
    let b = Bench::new().await.sequential();
    b.set(1, otd(31, "08:00", "UTC"), "2020-10-08T00:00:00Z")
        .await;
    b.set(2, otd(32, "08:00", "UTC"), "2020-10-08T00:00:00Z")
        .await;
    b.fake.script(
        31,
        [Scripted::RateLimited {
            retry_after: 3.0,
            global: true,
        }],
    );
    let report = b.tick("2020-10-08T08:00:00Z").await;
    let until = ts("2020-10-08T08:00:00Z") + rate_limit_wait();
    assert_eq!(report.count(|o| *o == PostOutcome::Postponed { until }), 2);
    assert_eq!(b.fake.creates().len(), 1, "the second server was not tried");
    assert_eq!(posted(&b.tick(&until.to_string()).await), 2);
}

/// serenity does not say which limit a 429 hit, so a route's 429 is taken for the
/// bot's: the rest of the tick waits rather than risk more refused requests.
#[tokio::test]
async fn a_429_of_unknown_scope_holds_the_rest_of_the_tick_too() {
    let b = Bench::new().await.sequential();
    b.set(1, otd(31, "08:00", "UTC"), "2020-10-08T00:00:00Z")
        .await;
    b.set(2, otd(32, "08:00", "UTC"), "2020-10-08T00:00:00Z")
        .await;
    b.fake.script(
        31,
        [Scripted::RateLimited {
            retry_after: 0.2,
            global: false,
        }],
    );
    let report = b.tick("2020-10-08T08:00:00Z").await;
    let until = ts("2020-10-08T08:00:00Z") + rate_limit_wait();
    assert_eq!(report.count(|o| *o == PostOutcome::Postponed { until }), 2);
    assert_eq!(b.fake.creates().len(), 1, "the second server was not tried");
    assert!(b.tick("2020-10-08T08:00:04Z").await.outcomes.is_empty());
    assert_eq!(posted(&b.tick(&until.to_string()).await), 2);
}

#[tokio::test]
async fn server_errors_are_retried_with_backoff_then_succeed() {
    let b = Bench::new().await;
    b.set(1, otd(41, "08:00", "UTC"), "2020-10-08T00:00:00Z")
        .await;
    b.fake
        .script(41, [Scripted::ServerError, Scripted::ServerError]);
    let report = b.tick("2020-10-08T08:00:00Z").await;
    assert_eq!(
        report.outcome(1),
        Some(&PostOutcome::Retrying {
            until: ts("2020-10-08T08:00:30Z"),
            failures: 1
        })
    );
    assert!(b.tick("2020-10-08T08:00:29Z").await.outcomes.is_empty());
    let report = b.tick("2020-10-08T08:00:30Z").await;
    assert_eq!(
        report.outcome(1),
        Some(&PostOutcome::Retrying {
            until: ts("2020-10-08T08:01:30Z"),
            failures: 2
        })
    );
    assert!(b.tick("2020-10-08T08:01:29Z").await.outcomes.is_empty());
    assert_eq!(posted(&b.tick("2020-10-08T08:01:30Z").await), 1);
    assert_eq!(b.fake.creates().len(), 3);
    assert_eq!(b.fake.messages(41).len(), 1);
    assert!(b.store.was_posted(1, date(2020, 10, 8)).await.unwrap());
}

#[tokio::test]
async fn after_the_last_retry_the_day_is_given_up() {
    let b = Bench::new().await;
    b.set(1, otd(41, "08:00", "UTC"), "2020-10-08T00:00:00Z")
        .await;
    b.fake.script(41, (0..6).map(|_| Scripted::ServerError));
    let mut now = ts("2020-10-08T08:00:00Z");
    let mut waits = Vec::new();
    loop {
        let report = b.tick(&now.to_string()).await;
        match report.outcome(1) {
            Some(PostOutcome::Retrying { until, .. }) => {
                waits.push(until.duration_since(now).as_secs());
                now = *until;
            }
            Some(PostOutcome::GaveUp) => break,
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(waits, vec![30, 60, 120, 240, 480]);
    assert_eq!(b.fake.creates().len(), 6);
    assert!(!b.store.was_posted(1, date(2020, 10, 8)).await.unwrap());
    assert!(b.store.guild_settings(1).await.unwrap().paused.is_none());
    // The next day is tried afresh.
    assert_eq!(b.next_post(1).await.unwrap().0, date(2020, 10, 9));
    assert_eq!(posted(&b.tick("2020-10-09T08:00:00Z").await), 1);
}

/// The failures are counted in the database: a restart in the middle of the retries,
/// and a 429 between them, neither start the backoff again nor count as a failure.
#[tokio::test]
async fn the_backoff_goes_on_across_a_restart_and_a_429_is_no_failure() {
    let mut b = Bench::new().await;
    b.set(1, otd(42, "08:00", "UTC"), "2020-10-08T00:00:00Z")
        .await;
    b.fake.script(
        42,
        [
            Scripted::ServerError,
            Scripted::ServerError,
            Scripted::RateLimited {
                retry_after: 1.0,
                global: false,
            },
            Scripted::ServerError,
            Scripted::ServerError,
            Scripted::ServerError,
            Scripted::ServerError,
        ],
    );
    let mut now = ts("2020-10-08T08:00:00Z");
    let mut seen = Vec::new();
    loop {
        if seen.len() == 2 {
            b.restart();
        }
        let report = b.tick(&now.to_string()).await;
        match report.outcome(1) {
            Some(PostOutcome::Retrying { until, failures }) => {
                seen.push(format!(
                    "failure {failures}: {} s",
                    until.duration_since(now).as_secs()
                ));
                now = *until;
            }
            Some(PostOutcome::Postponed { until }) => {
                seen.push("429".to_owned());
                now = *until;
            }
            Some(PostOutcome::GaveUp) => break,
            other => panic!("{other:?} after {seen:?}"),
        }
    }
    assert_eq!(
        seen,
        [
            "failure 1: 30 s",
            "failure 2: 60 s",
            "429",
            "failure 3: 120 s",
            "failure 4: 240 s",
            "failure 5: 480 s",
        ]
    );
    // The sixth failure gave the day up: five retries, one try each, and the 429's.
    assert_eq!(b.fake.creates().len(), 7);
    assert!(!b.store.was_posted(1, date(2020, 10, 8)).await.unwrap());
}

#[tokio::test]
async fn a_rejected_token_puts_posts_off_and_pauses_nobody() {
    let b = Bench::new().await.sequential();
    b.set(1, otd(51, "08:00", "UTC"), "2020-10-08T00:00:00Z")
        .await;
    b.set(2, otd(52, "08:00", "UTC"), "2020-10-08T00:00:00Z")
        .await;
    b.fake.script(51, [Scripted::Unauthorized]);
    let report = b.tick("2020-10-08T08:00:00Z").await;
    let until = ts("2020-10-08T08:05:00Z");
    assert_eq!(report.count(|o| *o == PostOutcome::Postponed { until }), 2);
    assert_eq!(
        b.fake.creates().len(),
        1,
        "no more requests with a bad token"
    );
    for guild in [1, 2] {
        assert!(
            b.store
                .guild_settings(guild)
                .await
                .unwrap()
                .paused
                .is_none()
        );
    }
    assert_eq!(posted(&b.tick("2020-10-08T08:05:00Z").await), 2);
}

#[tokio::test]
async fn a_late_start_posts_the_same_day_and_missed_days_are_not_back_filled() {
    let b = Bench::new().await;
    // Due 15 October 09:00 in Paris (07:00 UTC); the bot is back at 22:00 local.
    b.set(1, otd(61, "09:00", "Europe/Paris"), "2024-10-15T00:00:00Z")
        .await;
    let report = b.tick("2024-10-15T20:00:00Z").await;
    assert_eq!(posted(&report), 1);
    assert_eq!(b.titles(61), vec!["On this day: 15 October"]);

    // Due 15 October too, but the bot is down until 17 October 10:00 local: the
    // 15th and 16th are not posted; the 17th's post (09:00) goes out late.
    b.set(2, otd(62, "09:00", "Europe/Paris"), "2024-10-15T00:00:00Z")
        .await;
    let report = b.tick("2024-10-17T08:00:00Z").await;
    let for_two: Vec<_> = report
        .outcomes
        .iter()
        .filter(|(g, _, _)| *g == 2)
        .map(|(_, d, o)| (*d, o.clone()))
        .collect();
    assert_eq!(for_two[0], (date(2024, 10, 15), PostOutcome::SkippedMissed));
    assert_eq!(for_two.len(), 2, "{for_two:?}");
    assert!(matches!(for_two[1], (d, PostOutcome::Posted { .. }) if d == date(2024, 10, 17)));
    assert_eq!(b.titles(62), vec!["On this day: 17 October"]);
    assert!(!b.store.was_posted(2, date(2024, 10, 16)).await.unwrap());
}

/// Sets guild 1's post (empty days too) to the current UTC minute, configured a
/// minute ago: due now by the real clock. Its local date.
async fn due_now(b: &Bench, channel: u64) -> Date {
    let now = Timestamp::now();
    let local = now.to_zoned_datetime(jiff::tz::TimeZone::UTC);
    let time = format!("{:02}:{:02}", local.hour(), local.minute());
    let mut o = otd(channel, &time, "UTC");
    o.post_empty_days = true;
    let set_at = now - jiff::SignedDuration::from_secs(61);
    b.store
        .apply(1, Change::SetOnThisDay(o), MODERATOR, set_at)
        .await
        .unwrap();
    b.fake.set_now(now);
    local.date()
}

/// Runs the real loop on `scheduler` until guild 1's post for `day` is recorded (or
/// 10 s pass: a bound on a failure, not a measured time), then stops it.
async fn run_loop_until_posted<P: Poster + 'static>(
    b: &Bench,
    scheduler: Arc<Scheduler<P>>,
    day: Date,
) {
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let wake = Arc::new(tokio::sync::Notify::new());
    let handle =
        karabakh_reactions::scheduler::spawn(scheduler, Duration::from_secs(3600), wake, stopped);
    for _ in 0..200 {
        if b.store.was_posted(1, day).await.unwrap() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(10), handle)
        .await
        .expect("the loop stops on shutdown")
        .unwrap();
}

#[tokio::test]
async fn the_loop_posts_with_the_real_clock_and_stops_on_shutdown() {
    let b = Bench::new().await;
    let day = due_now(&b, 71).await;
    run_loop_until_posted(&b, Arc::clone(&b.scheduler), day).await;
    assert!(b.store.was_posted(1, day).await.unwrap());
    assert_eq!(b.fake.messages(71).len(), 1);
    assert!(
        b.store
            .guild_settings(1)
            .await
            .unwrap()
            .next_post
            .unwrap()
            .date
            > day
    );
}

/// Panics in its first create, before sending: a bug in one tick.
struct PanicsOnce(ChannelPoster, std::sync::atomic::AtomicBool);

impl Poster for PanicsOnce {
    async fn create_message(
        &self,
        channel: u64,
        m: &Message,
        nonce: &str,
    ) -> Result<u64, PostError> {
        if !self.1.swap(true, std::sync::atomic::Ordering::SeqCst) {
            panic!("a bug in this tick");
        }
        self.0.create_message(channel, m, nonce).await
    }
    async fn recent_messages(
        &self,
        channel: u64,
        limit: u8,
    ) -> Result<Vec<ChannelMessage>, PostError> {
        self.0.recent_messages(channel, limit).await
    }
    async fn bot_user_id(&self) -> Result<u64, PostError> {
        self.0.bot_user_id().await
    }
}

#[tokio::test]
async fn a_panic_in_one_tick_does_not_stop_the_loop() {
    let b = Bench::new().await;
    let day = due_now(&b, 72).await;
    let poster = poster(&b.fake);
    let store: Arc<dyn Store> = Arc::clone(&b.store) as _;
    let scheduler = Arc::new(Scheduler::new(
        store,
        core(),
        PanicsOnce(poster, std::sync::atomic::AtomicBool::new(false)),
    ));
    run_loop_until_posted(&b, scheduler, day).await;
    assert!(b.store.was_posted(1, day).await.unwrap());
    assert_eq!(b.fake.messages(72).len(), 1);
    assert_eq!(b.fake.creates().len(), 1, "the panicking tick sent nothing");
}

/// The HTTP endpoint deployment posts too: the real `serve` binary, given a token and
/// the fake's address as the REST base, sends the day's post due now, then stops on
/// SIGTERM with exit code 0.
#[cfg(unix)]
#[tokio::test]
async fn the_serve_binary_sends_the_daily_post_through_the_rest_api() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;

    let b = Bench::new().await;
    let day = due_now(&b, 73).await;
    let public_key = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]).verifying_key();
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_karabakh-reactions"));
    command
        .env_clear()
        .current_dir(b._dir.path())
        .env("KR_DATABASE", &b.path)
        .env("DISCORD_TOKEN", TOKEN)
        .env("DISCORD_API_BASE", b.fake.base())
        .env("DISCORD_PUBLIC_KEY", hex::encode(public_key.to_bytes()))
        .env("KR_SCHEDULE_POLL_SECONDS", "1")
        .env("KR_LOG", "info")
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if let Some(path) = std::env::var_os("PATH") {
        command.env("PATH", path);
    }
    let mut child = command.spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
            .collect::<Vec<_>>()
    });
    // A bound on a failure (20 s), not a measured time: the post is due already.
    for _ in 0..400 {
        if !b.fake.messages(73).is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let pid = i32::try_from(child.id()).unwrap();
    // SAFETY: sends a signal to the child this test started.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let status = child.wait().unwrap();
    let log = reader.join().unwrap().join("\n");
    assert_eq!(status.code(), Some(0), "{log}");
    let messages = b.fake.messages(73);
    assert_eq!(messages.len(), 1, "{log}");
    assert!(b.store.was_posted(1, day).await.unwrap(), "{log}");
    let create = &b.fake.creates()[0];
    assert_eq!(create.headers["authorization"], format!("Bot {TOKEN}"));
    assert!(!log.contains(TOKEN), "the token is never logged: {log}");
    assert!(!log.contains("panicked"), "{log}");
}

/// The history's look for the post a crash may have sent takes only the bot's own
/// scheduled post: not its reply to `/onthisday` with the same title, not a follow-up
/// made through an interaction's webhook, not another bot's or a member's message.
#[tokio::test]
async fn the_look_for_an_earlier_post_ignores_replies_and_other_authors() {
    let mut b = Bench::new().await;
    b.set(1, otd(11, "08:00", "UTC"), "2020-10-09T00:00:00Z")
        .await;
    // Claimed, then the process dies after a 500: nothing reached the channel.
    b.fake.script(11, [Scripted::ServerError]);
    crash_once(&b, "2020-10-09T08:00:00Z").await;
    assert!(b.fake.messages(11).is_empty());
    b.fake.set_now(ts("2020-10-09T08:01:00Z"));
    let embeds = json!([{"title": "On this day: 9 October", "description": "…"}]);
    let bot = fake_discord::BOT_ID;
    b.fake.post_as(
        11,
        bot,
        json!({"type": 20, "embeds": embeds,
               "interaction_metadata": {"id": "5", "type": 2, "user": {"id": "77"}}}),
    );
    b.fake
        .post_as(11, bot, json!({"webhook_id": "6", "embeds": embeds}));
    b.fake.post_as(11, 555, json!({"embeds": embeds}));
    b.fake.forget_nonces();
    b.restart();
    let report = b.tick("2020-10-09T08:05:00Z").await;
    assert_eq!(posted(&report), 1, "{report:?}");
    assert_eq!(b.fake.creates().len(), 2, "the 500, then the post");
    let nonce = post_nonce(1, date(2020, 10, 9));
    let posts: Vec<_> = b
        .fake
        .messages(11)
        .into_iter()
        .filter(|m| m.nonce.as_deref() == Some(nonce.as_str()))
        .collect();
    assert_eq!(posts.len(), 1);
    assert!(b.store.was_posted(1, date(2020, 10, 9)).await.unwrap());
}

/// Posts due at the same minute go out several at a time, never faster than
/// Discord's global limit: the fake refuses any request beyond 50 in a second (and
/// takes 100 ms to answer each create, so that posts in flight together are seen).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn posts_due_together_go_out_concurrently_within_discords_rate_limit() {
    let b = Bench::new().await;
    b.fake.limit_rate(50);
    b.fake.set_latency(Duration::from_millis(100));
    let servers: u64 = 120;
    for guild in 1..=servers {
        let mut o = otd(10_000 + guild, "08:00", "UTC");
        o.post_empty_days = true;
        b.set(guild, o, "2020-10-08T00:00:00Z").await;
    }
    let report = b.tick("2020-10-08T08:00:00Z").await;
    assert_eq!(posted(&report), servers as usize, "{report:?}");
    assert_eq!(b.fake.rate_limited(), 0, "no request beyond the rate");
    let in_flight = b.fake.max_in_flight();
    assert!(
        (2..=DEFAULT_CONCURRENCY).contains(&in_flight),
        "{in_flight} in flight at most"
    );
    let creates = b.fake.creates();
    assert_eq!(creates.len(), servers as usize, "one request a post");
    let mut nonces: Vec<_> = creates
        .iter()
        .map(|c| {
            c.body.as_ref().unwrap()["nonce"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    nonces.sort();
    nonces.dedup();
    assert_eq!(nonces.len(), servers as usize, "one nonce a post");
    for guild in 1..=servers {
        assert_eq!(b.fake.messages(10_000 + guild).len(), 1, "server {guild}");
    }
    // In the order the store gave them, as before.
    let order: Vec<u64> = report.outcomes.iter().map(|(g, _, _)| *g).collect();
    assert_eq!(order, (1..=servers).collect::<Vec<_>>());
}

/// `/config onthisday` through the service, with the loop sleeping its longest poll
/// (an hour): the change wakes it at once, `/config show` names the minute set, and
/// the post arrives at that minute (within the issue's 5 s of it), not at the next
/// poll. The loop's clock is set three seconds before the minute; its sleeps are real.
#[tokio::test]
async fn a_post_set_through_config_goes_out_at_its_minute_whatever_the_poll() {
    use karabakh_reactions::discord::interaction;
    use karabakh_reactions::scheduler::{Clock, spawn_with_clock, wake_on_changes};
    use karabakh_reactions::service::Service;
    use support::payload::{self, GUILD, MANAGE_SERVER};

    let b = Bench::new().await;
    let service = Service::new(core(), Some(Arc::clone(&b.store) as Arc<dyn Store>));
    let due = ts("2026-11-25T09:00:00Z");
    let offset = (due - jiff::SignedDuration::from_secs(3)).duration_since(Timestamp::now());
    let clock: Clock = Arc::new(move || Timestamp::now() + offset);
    b.fake.set_now(due);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let running = spawn_with_clock(
        Arc::clone(&b.scheduler),
        Duration::from_secs(3600),
        wake_on_changes(b.store.as_ref()),
        stopped,
        Arc::clone(&clock),
    );
    // It has looked, found nothing due, and sleeps for the hour.
    tokio::time::sleep(Duration::from_millis(200)).await;

    let config = async |sub: &str, options: serde_json::Value| {
        let asked = payload::config(GUILD, MODERATOR, MANAGE_SERVER, sub, options);
        let request = interaction::request(&asked, clock()).expect("answered");
        let handled = service.handle(request).await;
        serde_json::from_str::<serde_json::Value>(&render::body(&handled.reply)).unwrap()
    };
    let mut options = payload::onthisday(81, "09:00", "UTC");
    options
        .as_array_mut()
        .unwrap()
        .push(payload::boolean("empty-days", true));
    let set = config("onthisday", options).await;
    assert_eq!(set["type"], 4, "{set}");
    let shown = config("show", json!([])).await;
    let text = shown["data"]["embeds"][0]["description"].as_str().unwrap();
    assert!(
        text.contains(&format!("Next post: <t:{}:F>.", due.as_second())),
        "{text}"
    );

    // A bound on a failure (10 s), not a measured time.
    for _ in 0..200 {
        if !b.fake.messages(81).is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.send(true).unwrap();
    running.await.unwrap();
    let creates = b.fake.creates();
    assert_eq!(
        creates.len(),
        1,
        "sent once, while the loop's poll is an hour"
    );
    let arrived = creates[0].received + offset;
    let late = arrived.duration_since(due);
    assert!(
        late >= jiff::SignedDuration::ZERO && late <= jiff::SignedDuration::from_secs(5),
        "due {due}, arrived {arrived} by the loop's clock ({late:?} after)"
    );
    assert!(b.store.was_posted(GUILD, date(2026, 11, 25)).await.unwrap());
}

/// Runs the bot's binary with `args` on the bench's database and the fake Discord,
/// its post due now, until `done` says so (checked every 50 ms, at most 20 s: a bound
/// on a failure, not a measured time), then SIGTERM; its exit code and log.
#[cfg(unix)]
async fn run_binary(
    b: &Bench,
    args: &[&str],
    env: &[(&str, &str)],
    done: impl Fn(&Bench) -> bool,
) -> (Option<i32>, String) {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;

    let public_key = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]).verifying_key();
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_karabakh-reactions"));
    command
        .env_clear()
        .current_dir(b._dir.path())
        .env("KR_DATABASE", &b.path)
        .env("DISCORD_TOKEN", TOKEN)
        .env("DISCORD_API_BASE", b.fake.base())
        .env("DISCORD_PUBLIC_KEY", hex::encode(public_key.to_bytes()))
        .env("KR_LOG", "info")
        .envs(env.iter().copied())
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if let Some(path) = std::env::var_os("PATH") {
        command.env("PATH", path);
    }
    let mut child = command.spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
            .collect::<Vec<_>>()
    });
    for _ in 0..400 {
        if done(b) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let pid = i32::try_from(child.id()).unwrap();
    // SAFETY: sends a signal to the child this test started.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let status = child.wait().unwrap();
    (status.code(), reader.join().unwrap().join("\n"))
}

/// The scheduler as a role: `serve` with `KR_SCHEDULE_ENABLED=false` answers
/// interactions and sends no post; `karabakh-reactions schedule` sends it, alone.
#[cfg(unix)]
#[tokio::test]
async fn the_schedule_subcommand_posts_and_serve_can_leave_the_posts_to_it() {
    let b = Bench::new().await;
    let day = due_now(&b, 74).await;
    let serve = ["serve", "--listen", "127.0.0.1:0"];
    let off = [("KR_SCHEDULE_ENABLED", "false")];
    // Given a second and a half: with the scheduler on, the post due goes out at once.
    let started = std::time::Instant::now();
    let (code, log) = run_binary(&b, &serve, &off, |_| {
        started.elapsed() > Duration::from_millis(1500)
    })
    .await;
    assert_eq!(code, Some(0), "{log}");
    assert!(log.contains("schedule.enabled is false"), "{log}");
    assert!(b.fake.requests().is_empty(), "{log}");

    let (code, log) =
        run_binary(&b, &["schedule"], &off, |b| !b.fake.messages(74).is_empty()).await;
    assert_eq!(code, Some(0), "{log}");
    assert!(log.contains("sending the daily posts"), "{log}");
    assert_eq!(b.fake.messages(74).len(), 1, "{log}");
    assert!(b.store.was_posted(1, day).await.unwrap(), "{log}");
    assert!(!log.contains(TOKEN), "the token is never logged: {log}");
}

/// Two schedulers, as two processes (each its own store handle on the file, its own
/// owner name), tick at the same instant over the same 60 posts: each post is leased
/// to one of them and sent once. At 8 requests a second each leases 40 at a time, so
/// both take part.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_schedulers_share_the_posts_due_and_send_each_once() {
    let b = Bench::new().await;
    let servers: u64 = 60;
    for guild in 1..=servers {
        let mut o = otd(20_000 + guild, "08:00", "UTC");
        o.post_empty_days = true;
        b.set(guild, o, "2020-10-08T00:00:00Z").await;
    }
    let make = || {
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&b.path).unwrap());
        Arc::new(Scheduler::new(store, core(), poster(&b.fake)).with_requests_per_second(8))
    };
    let (one, two) = (make(), make());
    assert_ne!(one.owner, two.owner);
    let now = ts("2020-10-08T08:00:00Z");
    b.fake.set_now(now);
    let (a, b2) = tokio::join!(
        tokio::spawn(async move { one.tick(now).await }),
        tokio::spawn(async move { two.tick(now).await })
    );
    let (a, b2) = (a.unwrap(), b2.unwrap());
    assert!(
        !a.posted().is_empty() && !b2.posted().is_empty(),
        "{a:?}\n{b2:?}"
    );
    let mut all: Vec<u64> = a.posted().into_iter().chain(b2.posted()).collect();
    all.sort_unstable();
    assert_eq!(all, (1..=servers).collect::<Vec<_>>(), "each once");
    assert_eq!(
        b.fake.creates().len(),
        servers as usize,
        "one create a post"
    );
    for guild in 1..=servers {
        assert_eq!(b.fake.messages(20_000 + guild).len(), 1);
    }
}

/// A scheduler that dies after sending leaves its lease: nobody takes the post while
/// the lease runs (the loop sleeps until it runs out: `next_due_at`), then another
/// scheduler takes it over, finds the message in the channel, and records it.
#[tokio::test]
async fn a_lease_left_by_a_dead_scheduler_is_taken_over_once_it_runs_out() {
    use karabakh_reactions::scheduler::LEASE_FOR;

    let b = Bench::new().await;
    b.set(1, otd(11, "08:00", "UTC"), "2020-10-09T00:00:00Z")
        .await;
    crash_once(&b, "2020-10-09T08:00:00Z").await;
    assert_eq!(b.fake.messages(11).len(), 1);
    let expiry = ts("2020-10-09T08:00:00Z") + jiff::SignedDuration::try_from(LEASE_FOR).unwrap();
    assert_eq!(b.store.next_due_at().await.unwrap(), Some(expiry));
    let just_before = expiry - jiff::SignedDuration::from_millis(1);
    assert!(b.tick(&just_before.to_string()).await.outcomes.is_empty());
    // Discord has forgotten the nonce by then in the worst case: the history decides.
    b.fake.forget_nonces();
    let report = b.tick(&expiry.to_string()).await;
    let id = b.fake.messages(11)[0].id;
    assert_eq!(
        report.outcome(1),
        Some(&PostOutcome::AlreadyPosted {
            message_id: Some(id)
        })
    );
    assert_eq!(b.fake.creates().len(), 1);
    assert!(b.store.was_posted(1, date(2020, 10, 9)).await.unwrap());
}

/// Holds each create until the test lets it go: a request slow to come back.
struct Stalls {
    poster: ChannelPoster,
    started: Arc<tokio::sync::Notify>,
    go: Arc<tokio::sync::Notify>,
}

impl Poster for Stalls {
    async fn create_message(
        &self,
        channel: u64,
        m: &Message,
        nonce: &str,
    ) -> Result<u64, PostError> {
        self.started.notify_one();
        self.go.notified().await;
        self.poster.create_message(channel, m, nonce).await
    }
    async fn recent_messages(
        &self,
        channel: u64,
        limit: u8,
    ) -> Result<Vec<ChannelMessage>, PostError> {
        self.poster.recent_messages(channel, limit).await
    }
    async fn bot_user_id(&self) -> Result<u64, PostError> {
        self.poster.bot_user_id().await
    }
}

/// A scheduler whose lease ran out and was taken over cannot move the schedule: its
/// late answer is refused (fenced), the one message stands (the nonce), and the
/// schedule moved on once, by the scheduler that took over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheduler_whose_lease_was_taken_over_cannot_record() {
    let b = Bench::new().await;
    b.set(1, otd(11, "08:00", "UTC"), "2020-10-09T00:00:00Z")
        .await;
    let (started, go) = (
        Arc::new(tokio::sync::Notify::new()),
        Arc::new(tokio::sync::Notify::new()),
    );
    let stalling = Stalls {
        poster: poster(&b.fake),
        started: Arc::clone(&started),
        go: Arc::clone(&go),
    };
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&b.path).unwrap());
    let slow = Arc::new(Scheduler::new(store, core(), stalling));
    b.fake.set_now(ts("2020-10-09T08:00:00Z"));
    let first = tokio::spawn(async move { slow.tick(ts("2020-10-09T08:00:00Z")).await });
    started.notified().await;
    // Its lease has run out (by the clock it is handed): taken over and posted.
    let report = b.tick("2020-10-09T08:01:00Z").await;
    assert_eq!(posted(&report), 1, "{report:?}");
    go.notify_one();
    let late = first.await.unwrap();
    assert_eq!(late.outcome(1), Some(&PostOutcome::LeaseLost));
    assert_eq!(b.fake.messages(11).len(), 1, "one message: the nonce");
    assert_eq!(b.next_post(1).await.unwrap().0, date(2020, 10, 10));
}

/// `GET path` on `addr` over a plain socket: the status line's code and the body (the
/// empty string when nothing listens yet).
#[cfg(unix)]
fn http_get(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let Ok(mut socket) = std::net::TcpStream::connect(addr) else {
        return (0, String::new());
    };
    let _ = socket.set_read_timeout(Some(Duration::from_secs(5)));
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    if socket.write_all(request.as_bytes()).is_err() {
        return (0, String::new());
    }
    let mut response = String::new();
    let _ = socket.read_to_string(&mut response);
    let code = response
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_owned();
    (code, body)
}

/// The scheduler role's admin address: healthy (dataset and store), and its metrics
/// count the post it sent.
#[cfg(unix)]
#[tokio::test]
async fn the_schedule_role_reports_its_posts_on_the_admin_address() {
    let b = Bench::new().await;
    due_now(&b, 75).await;
    // A free port for the admin address (the test reads it while the role runs).
    let admin = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let listen = admin.to_string();
    let seen = std::sync::Mutex::new((0u16, String::new(), String::new()));
    let (code, log) = run_binary(&b, &["schedule"], &[("KR_ADMIN_LISTEN", &listen)], |b| {
        if b.fake.messages(75).is_empty() {
            return false;
        }
        let (status, health) = http_get(admin, "/healthz");
        let (_, metrics) = http_get(admin, "/metrics");
        let sent = metrics
            .lines()
            .any(|l| l == r#"kr_daily_posts_total{outcome="sent"} 1"#);
        *seen.lock().unwrap() = (status, health, metrics);
        sent
    })
    .await;
    assert_eq!(code, Some(0), "{log}");
    assert!(log.contains(&format!("admin on http://{admin}")), "{log}");
    let (status, health, metrics) = seen.into_inner().unwrap();
    assert_eq!(status, 200, "{health}");
    let health: serde_json::Value = serde_json::from_str(&health).unwrap();
    assert_eq!(health["role"], "schedule");
    assert_eq!(health["checks"]["store"]["ok"], true, "{health}");
    assert!(
        metrics
            .lines()
            .any(|l| l == r#"kr_daily_posts_total{outcome="sent"} 1"#),
        "{metrics}"
    );
    assert!(
        metrics
            .lines()
            .any(|l| l == r#"kr_daily_post_delay_seconds_count 1"#),
        "{metrics}"
    );
    assert_eq!(b.fake.messages(75).len(), 1, "{log}");
}

/// More posts in flight than the store has connections (PostgreSQL's pool of 2, 16
/// posts at once, no pacing): each post's record holds a connection through its
/// transaction, and the tick asks the store for the next batch meanwhile. Every post
/// goes out and is recorded. (Before, the tick stopped driving the posts in flight
/// while it waited for that batch: they held the pool's connections idle in their
/// transactions, the lease waited for one, and after the pool's 5 s every record
/// waiting for a connection failed.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_posts_in_flight_than_database_connections_all_go_out_on_postgresql() {
    let Some(db) = support::postgres::TestDb::new("inflight_pool").await else {
        return;
    };
    let store = db.store_with_pool(2).await;
    let servers = 40u64;
    for g in 1..=servers {
        store
            .apply(
                g,
                Change::SetOnThisDay(otd(1000 + g, "08:00", "UTC")),
                1,
                ts("2020-10-08T00:00:00Z"),
            )
            .await
            .unwrap();
    }
    let fake = FakeDiscord::start().await;
    let now = ts("2020-10-08T08:00:00Z");
    fake.set_now(now);
    let scheduler = Scheduler::new(Arc::clone(&store), core(), poster(&fake))
        .with_concurrency(16)
        .with_requests_per_second(u32::MAX);
    let report = scheduler.tick(now).await;
    assert_eq!(report.posted().len() as u64, servers, "{report:?}");
    for g in 1..=servers {
        assert!(store.was_posted(g, date(2020, 10, 8)).await.unwrap());
        assert_eq!(fake.messages(1000 + g).len(), 1);
    }
}
