//! The service's settings cache on real databases: a command's read of its server's
//! settings is a memory read; autocomplete reads none; `/config` reads the store; a
//! change is used at once in its own process, as soon as its notice arrives in
//! another (PostgreSQL), and within the TTL when no notice comes (two processes on
//! one SQLite file).

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use jiff::Timestamp;
use jiff::civil::Date;
use karabakh_core::commands::Request;
use karabakh_core::settings::{AuditEntry, Change, GuildSettings, Visibility};
use karabakh_reactions::discord::{interaction, render};
use karabakh_reactions::service::Service;
use karabakh_reactions::settings_cache::{SettingsCache, TTL};
use karabakh_store::{Changed, Lease, SqliteStore, Store, StoreResult};
use serde_json::{Value, json};
use support::payload::{GUILD, MANAGE_SERVER, config, text};
use support::{autocomplete, command, core, now};
use tokio::sync::broadcast;

const MOD: u64 = 1_100_000_000_000_000_501;

/// A store that counts the settings it is asked for, and may keep its notices to
/// itself (as a process whose notices never arrive).
struct Counting {
    inner: Arc<dyn Store>,
    reads: AtomicUsize,
    deaf: Option<broadcast::Sender<Changed>>,
    /// How long a read of the settings takes on top of the store's own time.
    delay: Duration,
}

impl Counting {
    fn new(inner: Arc<dyn Store>, deaf: bool) -> Arc<Self> {
        Arc::new(Counting {
            inner,
            reads: AtomicUsize::new(0),
            deaf: deaf.then(|| broadcast::channel(1).0),
            delay: Duration::ZERO,
        })
    }

    /// A store whose reads of the settings take `delay` longer.
    fn slow(inner: Arc<dyn Store>, delay: Duration) -> Arc<Self> {
        Arc::new(Counting {
            inner,
            reads: AtomicUsize::new(0),
            deaf: None,
            delay,
        })
    }

    fn reads(&self) -> usize {
        self.reads.load(Ordering::SeqCst)
    }
}

#[async_trait::async_trait]
impl Store for Counting {
    fn describe(&self) -> String {
        self.inner.describe()
    }
    async fn schema_version(&self) -> StoreResult<i64> {
        self.inner.schema_version().await
    }
    async fn guild_settings(&self, guild_id: u64) -> StoreResult<GuildSettings> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(self.delay).await;
        self.inner.guild_settings(guild_id).await
    }
    async fn apply(
        &self,
        guild_id: u64,
        change: Change,
        user_id: u64,
        at: Timestamp,
    ) -> StoreResult<GuildSettings> {
        self.inner.apply(guild_id, change, user_id, at).await
    }
    async fn audit_trail(&self, guild_id: u64, limit: usize) -> StoreResult<Vec<AuditEntry>> {
        self.inner.audit_trail(guild_id, limit).await
    }
    async fn next_due_at(&self) -> StoreResult<Option<Timestamp>> {
        self.inner.next_due_at().await
    }
    async fn lease_due(
        &self,
        now: Timestamp,
        owner: &str,
        lease_for: Duration,
        limit: usize,
    ) -> StoreResult<Vec<Lease>> {
        self.inner.lease_due(now, owner, lease_for, limit).await
    }
    async fn record_sent(&self, lease: &Lease, message_id: u64, at: Timestamp) -> StoreResult<()> {
        self.inner.record_sent(lease, message_id, at).await
    }
    async fn skip(&self, lease: &Lease, at: Timestamp) -> StoreResult<()> {
        self.inner.skip(lease, at).await
    }
    async fn retry_at(&self, lease: &Lease, retry_at: Timestamp) -> StoreResult<()> {
        self.inner.retry_at(lease, retry_at).await
    }
    async fn retry_after_failure(&self, lease: &Lease, retry_at: Timestamp) -> StoreResult<()> {
        self.inner.retry_after_failure(lease, retry_at).await
    }
    async fn pause(&self, lease: &Lease, reason: &str, at: Timestamp) -> StoreResult<()> {
        self.inner.pause(lease, reason, at).await
    }
    async fn resume_schedule(&self, guild_id: u64, at: Timestamp) -> StoreResult<bool> {
        self.inner.resume_schedule(guild_id, at).await
    }
    async fn was_posted(&self, guild_id: u64, date: Date) -> StoreResult<bool> {
        self.inner.was_posted(guild_id, date).await
    }
    fn changes(&self) -> broadcast::Receiver<Changed> {
        match &self.deaf {
            Some(silent) => silent.subscribe(),
            None => self.inner.changes(),
        }
    }
}

fn in_guild(mut request: Request) -> Request {
    request.context_mut().guild_id = Some(GUILD);
    request
}

/// `/reaction Hungary` in the server: whether the answer is private.
async fn private_answer(service: &Service) -> bool {
    let handled = service.handle(in_guild(command("/reaction Hungary"))).await;
    let body: Value = serde_json::from_str(&render::body(&handled.reply)).unwrap();
    assert_eq!(body["data"]["embeds"][0]["title"], "Hungary", "{body}");
    body["data"]["flags"].as_u64().unwrap_or(0) & 64 != 0
}

/// `/config replies visibility:<v>` by a moderator.
async fn set_visibility(service: &Service, v: &str) {
    let asked = config(
        GUILD,
        MOD,
        MANAGE_SERVER,
        "replies",
        json!([text("visibility", v)]),
    );
    let handled = service
        .handle(interaction::request(&asked, now()).unwrap())
        .await;
    let body: Value = serde_json::from_str(&render::body(&handled.reply)).unwrap();
    assert_eq!(body["type"], 4, "{body}");
}

async fn sqlite_in(dir: &tempfile::TempDir) -> Arc<dyn Store> {
    let path = dir.path().join("bot.sqlite3");
    let store = tokio::task::spawn_blocking(move || SqliteStore::open(path))
        .await
        .unwrap()
        .unwrap();
    Arc::new(store)
}

#[tokio::test]
async fn commands_read_settings_from_memory_and_autocomplete_reads_none() {
    let dir = tempfile::tempdir().unwrap();
    let store = Counting::new(sqlite_in(&dir).await, false);
    let service = Service::new(core(), Some(store.clone() as Arc<dyn Store>));
    for _ in 0..5 {
        service
            .handle(in_guild(autocomplete("/reaction actor:Hun")))
            .await;
    }
    assert_eq!(store.reads(), 0, "autocomplete read the settings");
    for _ in 0..5 {
        assert!(!private_answer(&service).await);
    }
    assert_eq!(store.reads(), 1, "one read, then memory");
    // /config reads the store: what it shows, and what it changes from, is current.
    let show = config(GUILD, MOD, MANAGE_SERVER, "show", json!([]));
    service
        .handle(interaction::request(&show, now()).unwrap())
        .await;
    assert_eq!(store.reads(), 2);
}

#[tokio::test]
async fn a_change_is_used_at_once_in_its_own_process() {
    let dir = tempfile::tempdir().unwrap();
    let store = Counting::new(sqlite_in(&dir).await, false);
    let service = Service::new(core(), Some(store.clone() as Arc<dyn Store>));
    assert!(!private_answer(&service).await);
    set_visibility(&service, "private").await;
    assert!(private_answer(&service).await);
    set_visibility(&service, "public").await;
    assert!(!private_answer(&service).await);
}

/// A miss is one read of the store however many requests want the server at once:
/// those that come while it is in flight get its value.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_that_miss_together_make_one_read() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = sqlite_in(&dir).await;
    let private = Change::SetVisibility(Visibility::Private);
    sqlite.apply(GUILD, private, MOD, now()).await.unwrap();
    let store = Counting::slow(sqlite, Duration::from_millis(200));
    let cache = Arc::new(SettingsCache::new(store.clone(), TTL));
    let asked: Vec<_> = (0..20)
        .map(|_| {
            let cache = Arc::clone(&cache);
            tokio::spawn(async move { cache.get(GUILD).await })
        })
        .collect();
    for got in asked {
        let settings = got.await.unwrap().unwrap();
        assert_eq!(settings.visibility, Visibility::Private);
    }
    assert_eq!(
        store.reads(),
        1,
        "the requests that missed together read once"
    );
    assert_eq!(
        cache.get(GUILD).await.unwrap().visibility,
        Visibility::Private
    );
    assert_eq!(store.reads(), 1, "then from memory");
}

/// A request that comes after a notice does not take the value of a read that began
/// before it: it reads the store itself, and sees the change.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_begun_before_a_notice_is_not_shared_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = sqlite_in(&dir).await;
    let store = Counting::slow(Arc::clone(&sqlite), Duration::from_millis(300));
    let cache = Arc::new(SettingsCache::new(store.clone(), TTL));
    let before = {
        let cache = Arc::clone(&cache);
        tokio::spawn(async move { cache.get(GUILD).await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    let private = Change::SetVisibility(Visibility::Private);
    sqlite.apply(GUILD, private, MOD, now()).await.unwrap();
    let after = cache.get(GUILD).await.unwrap();
    assert_eq!(after.visibility, Visibility::Private, "the change is seen");
    assert_eq!(
        store.reads(),
        2,
        "the request after the notice read for itself"
    );
    // (What the first request got depends on when the slow store read; it is not
    // kept either way.)
    before.await.unwrap().unwrap();
    assert_eq!(
        cache.get(GUILD).await.unwrap().visibility,
        Visibility::Private,
        "what was read before the notice was not kept"
    );
}

/// A request waiting for another's read is not left without an answer when that
/// request is given up (its deadline passed): it reads the store itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_given_up_leaves_the_waiting_requests_to_read() {
    let dir = tempfile::tempdir().unwrap();
    let store = Counting::slow(sqlite_in(&dir).await, Duration::from_millis(300));
    let cache = Arc::new(SettingsCache::new(store.clone(), TTL));
    let first = {
        let cache = Arc::clone(&cache);
        tokio::spawn(async move {
            tokio::time::timeout(Duration::from_millis(100), cache.get(GUILD)).await
        })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    let waiting = cache.get(GUILD).await.unwrap();
    assert_eq!(waiting.visibility, Visibility::Public);
    assert!(
        first.await.unwrap().is_err(),
        "the first request was given up"
    );
    assert_eq!(store.reads(), 2, "the waiting request read for itself");
}

/// Two processes on one SQLite file hear nothing of each other: the other's change
/// is used once the entry is older than the TTL (here 300 ms), not before.
#[tokio::test]
async fn without_notices_a_change_elsewhere_is_used_within_the_ttl() {
    let dir = tempfile::tempdir().unwrap();
    let here = Counting::new(sqlite_in(&dir).await, true);
    let ttl = Duration::from_millis(300);
    let service = Service::with_settings_ttl(core(), Some(here.clone() as Arc<dyn Store>), ttl);
    let elsewhere = sqlite_in(&dir).await;
    assert!(!private_answer(&service).await);
    elsewhere
        .apply(
            GUILD,
            Change::SetVisibility(Visibility::Private),
            MOD,
            now(),
        )
        .await
        .unwrap();
    // Still the cached value: the cache is in use.
    assert!(!private_answer(&service).await);
    tokio::time::sleep(ttl + Duration::from_millis(50)).await;
    assert!(private_answer(&service).await);
}

/// Two processes on one PostgreSQL server: the other's change is used as soon as its
/// NOTIFY arrives, well before the TTL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_postgres_a_change_elsewhere_is_used_when_its_notice_arrives() {
    let Some(db) = support::postgres::TestDb::new("cache_notify").await else {
        return;
    };
    let here = db.store().await;
    let elsewhere = db.store().await;
    let service = Service::new(core(), Some(Arc::clone(&here)));
    let mut heard = here.changes();
    assert!(!private_answer(&service).await);
    elsewhere
        .apply(
            GUILD,
            Change::SetVisibility(Visibility::Private),
            MOD,
            now(),
        )
        .await
        .unwrap();
    tokio::time::timeout(Duration::from_secs(4), async {
        while heard.recv().await.unwrap() != Changed::Guild(GUILD) {}
    })
    .await
    .expect("the notice arrives");
    assert!(private_answer(&service).await);
}
