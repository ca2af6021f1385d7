//! The daily "on this day" posts: every server that configured one gets, at its
//! local time, the `/onthisday` answer for that month and day in its channel, once.
//!
//! The rules are the core's ([`karabakh_core::schedule`]: what to do with a due post,
//! how long to wait after each failure, how an earlier post is recognised). This is
//! the runner that does the I/O: [`Scheduler::tick`] handles every schedule due at an
//! instant it is handed (tests and benchmarks pass any instant; [`spawn`] passes the
//! real clock): it asks the store, renders the answer and posts it through a
//! [`Poster`].
//!
//! Exactly once, whichever processes run a scheduler: each due post is leased to one
//! of them in the store (durably, with an expiry and a fence) before it is sent, sent
//! with the lease's nonce and `enforce_nonce`, and recorded with the message's id
//! after; a write under a lease that was lost is refused. A lease that is not the
//! first ([`Lease::attempt`] > 1) may have reached Discord before a crash; Discord's
//! nonce check lasts only minutes, so the channel's recent messages are searched for
//! the bot's post first ([`find_earlier_post`]).
//!
//! On time and within Discord's limits: the loop ([`spawn`]) sleeps until the soonest
//! post due, exactly, and is woken at once by a change the store reports
//! ([`wake_on_changes`]: a `/config` change made in its own process, and, where the
//! store hears of them, other processes' changes); the poll only bounds how late a
//! change the store does not report is seen. Posts due together go
//! out [`DEFAULT_CONCURRENCY`] at a time, every request to Discord paced by one
//! [`RateLimiter`] (under Discord's global 50 requests/s, and held for every post
//! after a bot-wide 429).
//!
//! The store is async ([`Store`]): no call blocks the gateway's tasks.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures::StreamExt as _;
use jiff::Timestamp;
use jiff::civil::Date;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use karabakh_core::commands::Core;
use karabakh_core::reply::{Answer, Message};
use karabakh_core::schedule::{
    ChannelMessage, Decision, PostMarker, RECENT_MESSAGES, UNAUTHORIZED_WAIT, answer_for, decide,
    find_earlier_post, lease_batch, lease_covers, local_date, refusal_reason, retry_wait,
    sleep_for,
};
use karabakh_store::{Lease, Store, StoreError, StoreResult};

use crate::metrics::{LeaseEvent, PostCount, SchedulerMetrics};

/// How many due schedules are leased from the store at a time.
pub const BATCH: usize = 100;

/// How long a lease lasts: a post its holder neither records nor releases by then
/// (the process died) is taken over by another scheduler.
pub const LEASE_FOR: Duration = Duration::from_secs(60);

/// How soon the loop looks again when the store could not say when the next post is
/// due (the database is down or restarting): the bound on how late a post due after
/// an outage goes out, whatever the poll.
pub const STORE_RETRY: Duration = Duration::from_secs(5);

/// How many posts are in flight at once by default: enough to keep
/// [`DEFAULT_REQUESTS_PER_SECOND`] going when Discord takes a few hundred
/// milliseconds to answer each.
pub const DEFAULT_CONCURRENCY: usize = 16;

/// The most requests a second the scheduler of one process sends to Discord by
/// default (`schedule.requests_per_second`): under Discord's global limit of 50 a
/// second per bot, with room for the rest of the bot's requests. Several scheduler
/// processes share that limit: their rates together must stay under 50.
pub const DEFAULT_REQUESTS_PER_SECOND: u32 = 40;

/// Paces requests to Discord: at most `per_second` a second, evenly spaced (so no
/// one-second window holds more, however the requests bunch up), and, after a
/// bot-wide 429, none until Discord's wait is over. One per process, shared by every
/// post in flight.
#[derive(Debug)]
pub struct RateLimiter {
    interval: Duration,
    /// The earliest instant the next request may go.
    next: Mutex<tokio::time::Instant>,
}

impl RateLimiter {
    /// `per_second` requests a second (at least 1).
    pub fn per_second(per_second: u32) -> Self {
        Self {
            interval: Duration::from_secs(1) / per_second.max(1),
            next: Mutex::new(tokio::time::Instant::now()),
        }
    }

    /// Waits for this request's turn, checked when it is about to go. (Handing out
    /// slots in advance let a process that stalled, its sleeps all due at once, send a
    /// burst when it woke: two such processes got a 429 at 20 requests a second each.
    /// Counting from when the last request woke instead lost a quarter of the rate on
    /// a loaded machine.)
    pub async fn acquire(&self) {
        loop {
            let wait_until = {
                let mut next = self.next.lock().unwrap_or_else(PoisonError::into_inner);
                let now = tokio::time::Instant::now();
                if now >= *next {
                    // From the turn it was given, not from when it woke (a busy
                    // machine's wake-up delays would slow the rate), but never from
                    // further back than now: after a stall, at most two go together.
                    *next = (*next + self.interval).max(now);
                    return;
                }
                *next
            };
            tokio::time::sleep_until(wait_until).await;
        }
    }

    /// Holds every request not yet sent for `wait` (a bot-wide 429).
    pub fn hold(&self, wait: Duration) {
        let until = tokio::time::Instant::now() + wait;
        let mut next = self.next.lock().unwrap_or_else(PoisonError::into_inner);
        *next = (*next).max(until);
    }
}

/// Why a request to Discord failed, as far as the scheduler cares.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PostError {
    /// 429: wait this long. `global`: the bot-wide limit, or one whose scope is not
    /// known (serenity does not say, see [`crate::discord::rest`]): nothing more is
    /// sent in this tick.
    #[error("rate limited for {retry_after:?}{}", if *global { " (global)" } else { "" })]
    RateLimited { retry_after: Duration, global: bool },
    /// 403 or 404: the channel is gone, or the bot may not see or post in it.
    #[error("{status} {message} (code {code})")]
    Refused {
        status: u16,
        code: u64,
        message: String,
    },
    /// 401: the token is not accepted.
    #[error("the token was rejected (401)")]
    Unauthorized,
    /// 5xx, a timeout, or no connection: may pass.
    #[error("{0}")]
    Transient(String),
    /// Anything else (e.g. 400): retrying the same request will not help.
    #[error("{0}")]
    Other(String),
}

/// Where posts go: Discord's REST API ([`crate::discord::rest::ChannelPoster`], on the
/// bot's one REST client), or anything standing in for it in tests and benchmarks.
pub trait Poster: Send + Sync {
    /// Posts `message` in a channel with `nonce` and `enforce_nonce`; the message's id.
    fn create_message(
        &self,
        channel_id: u64,
        message: &Message,
        nonce: &str,
    ) -> impl Future<Output = Result<u64, PostError>> + Send;

    /// The channel's most recent messages, newest first, at most `limit`.
    fn recent_messages(
        &self,
        channel_id: u64,
        limit: u8,
    ) -> impl Future<Output = Result<Vec<ChannelMessage>, PostError>> + Send;

    /// The bot's own user id (implementations cache it).
    fn bot_user_id(&self) -> impl Future<Output = Result<u64, PostError>> + Send;
}

/// What happened to one due schedule in a tick.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PostOutcome {
    /// Sent, and recorded with this message id.
    Posted {
        message_id: u64,
    },
    /// An earlier try had reached Discord (found among the channel's messages, or
    /// already recorded): recorded, not sent again.
    AlreadyPosted {
        message_id: Option<u64>,
    },
    SkippedMissed,
    SkippedEmpty,
    /// 429 or 401: put off until `until`, not counted as a failure.
    Postponed {
        until: Timestamp,
    },
    /// 5xx or network failure: tried again at `until` (failure number `failures`).
    Retrying {
        until: Timestamp,
        failures: u32,
    },
    /// Given up for the day (retries exhausted, or a request Discord will never take).
    GaveUp,
    /// 403/404: the server's schedule is paused with this reason.
    Paused {
        reason: String,
    },
    /// The lease would run out before a request started now could end (the post
    /// waited long for its turn): released, due again at once, for this process or
    /// another.
    Released,
    /// The lease was lost: the schedule was changed, cleared or paused meanwhile, or
    /// the lease ran out and another scheduler took the post over.
    LeaseLost,
    /// The store failed; logged, and the next tick tries again.
    StoreFailed,
}

impl PostOutcome {
    /// How `kr_daily_posts_total{outcome}` counts it (nothing for a post no longer
    /// scheduled).
    pub fn count(&self) -> Option<PostCount> {
        Some(match self {
            PostOutcome::Posted { .. } => PostCount::Sent,
            PostOutcome::AlreadyPosted { .. }
            | PostOutcome::SkippedMissed
            | PostOutcome::SkippedEmpty => PostCount::Skipped,
            PostOutcome::Postponed { .. }
            | PostOutcome::Retrying { .. }
            | PostOutcome::Released => PostCount::Retried,
            PostOutcome::GaveUp | PostOutcome::StoreFailed => PostCount::Failed,
            PostOutcome::Paused { .. } => PostCount::Paused,
            PostOutcome::LeaseLost => return None,
        })
    }
}

/// What one tick did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TickReport {
    /// Every due schedule handled, in order: server, local date, outcome.
    pub outcomes: Vec<(u64, Date, PostOutcome)>,
}

impl TickReport {
    /// How many outcomes match `f`.
    pub fn count(&self, f: impl Fn(&PostOutcome) -> bool) -> usize {
        self.outcomes.iter().filter(|(_, _, o)| f(o)).count()
    }

    /// The servers posted to (sent now or found sent).
    pub fn posted(&self) -> Vec<u64> {
        self.outcomes
            .iter()
            .filter(|(_, _, o)| matches!(o, PostOutcome::Posted { .. }))
            .map(|(g, _, _)| *g)
            .collect()
    }

    /// The outcome for a server, if it was due.
    pub fn outcome(&self, guild_id: u64) -> Option<&PostOutcome> {
        self.outcomes
            .iter()
            .find(|(g, _, _)| *g == guild_id)
            .map(|(_, _, o)| o)
    }
}

/// A batch of posts being leased from the store.
type Leasing<'a> = Pin<Box<dyn Future<Output = StoreResult<Vec<Lease>>> + Send + 'a>>;

/// Something that stops the rest of a batch from being sent this tick.
#[derive(Debug, Clone, Copy)]
enum Halt {
    /// The token is rejected: every request would be.
    Unauthorized,
    /// The bot-wide rate limit: nothing may be sent before `until`.
    Global { until: Timestamp },
}

/// Posts the daily messages. See the module's documentation.
pub struct Scheduler<P> {
    pub store: Arc<dyn Store>,
    pub core: Arc<Core>,
    pub poster: P,
    /// This scheduler's name on its leases: unique per process and scheduler.
    pub owner: String,
    /// How many posts are in flight at once.
    concurrency: usize,
    /// Every request to Discord waits for its turn here.
    limiter: RateLimiter,
    /// How many posts are leased at a time ([`lease_batch`] of the rate).
    lease_limit: usize,
    /// What became of the posts, for the admin address.
    metrics: Arc<SchedulerMetrics>,
    /// The leases taken and not yet handled: released if a tick panics, so that its
    /// posts are tried again at once rather than after the lease runs out.
    held: Mutex<HashMap<(u64, Date), Lease>>,
}

impl<P: Poster> Scheduler<P> {
    pub fn new(store: Arc<dyn Store>, core: Arc<Core>, poster: P) -> Self {
        Self {
            store,
            core,
            poster,
            owner: owner_name(),
            concurrency: DEFAULT_CONCURRENCY,
            limiter: RateLimiter::per_second(DEFAULT_REQUESTS_PER_SECOND),
            lease_limit: lease_batch(DEFAULT_REQUESTS_PER_SECOND, BATCH),
            metrics: Arc::new(SchedulerMetrics::default()),
            held: Mutex::new(HashMap::new()),
        }
    }

    /// Releases the leases a panicked tick left held: due again at `now`.
    pub async fn release_held(&self, now: Timestamp) {
        let held: Vec<Lease> = self
            .held
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .drain()
            .map(|(_, lease)| lease)
            .collect();
        for lease in held {
            if let Err(e) = self.store.retry_at(&lease, now).await {
                tracing::warn!(guild = lease.guild_id, error = %e, "could not release a post");
            }
        }
    }

    /// Counts the posts' outcomes in `metrics` (shown on the admin address).
    pub fn with_metrics(mut self, metrics: Arc<SchedulerMetrics>) -> Self {
        self.metrics = metrics;
        self
    }

    /// At most `n` posts in flight at once (at least 1: one after another).
    pub fn with_concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// At most `per_second` requests a second to Discord from this scheduler.
    pub fn with_requests_per_second(mut self, per_second: u32) -> Self {
        self.limiter = RateLimiter::per_second(per_second);
        self.lease_limit = lease_batch(per_second, BATCH);
        self
    }

    /// When the next post is due, if any.
    pub async fn next_due_at(&self) -> Result<Option<Timestamp>, String> {
        self.store.next_due_at().await.map_err(|e| e.to_string())
    }

    /// Handles every post due at `now`: leases them a batch at a time (what the rate
    /// sends in about 5 s, at most [`BATCH`]) and sends them concurrently, at most the
    /// scheduler's concurrency in flight; the next batch is leased as soon as the
    /// current one has nothing left to start, so the rate is kept up between batches.
    /// The report keeps the order the store handed the posts out in. Never fails:
    /// what goes wrong is logged and in the report, and the next tick tries again.
    pub async fn tick(&self, now: Timestamp) -> TickReport {
        use futures::stream::FuturesUnordered;
        use std::collections::VecDeque;

        // A schedule comes back with a later date once handled (a missed day skipped
        // leads to today's post, due at once); one the store failed to move comes
        // back with the same date and waits for the next tick.
        let mut seen: HashSet<(u64, Date)> = HashSet::new();
        let halt: Mutex<Option<Halt>> = Mutex::new(None);
        // Every server due for the same local date gets the same answer: rendered
        // once a tick, not once a server.
        let mut days: HashMap<Date, Arc<Answer>> = HashMap::new();
        // `now` is the tick's instant; the real time it took is added to it when a
        // lease's time left is checked.
        let started = tokio::time::Instant::now();
        self.metrics.tick();
        let mut waiting: VecDeque<(usize, Lease)> = VecDeque::new();
        let mut running = FuturesUnordered::new();
        let mut done: Vec<(usize, u64, Date, PostOutcome)> = Vec::new();
        let mut leased = 0usize;
        // Whether to ask the store again: not after it had nothing new, until a post
        // finished (which may make another due: a missed day's skip); never after it
        // failed.
        let mut ask = true;
        let mut store_failed = false;
        // The next batch being leased, and leases handed back, while the posts in
        // flight go on: a post's record holds a database connection through its
        // transaction, so the tick must keep driving them while it waits for the
        // store (with a pool smaller than the posts in flight, waiting for the lease
        // alone stalled them all until the pool timed out).
        let mut leasing: Option<Leasing<'_>> = None;
        let mut releasing = FuturesUnordered::new();
        loop {
            if leasing.is_none()
                && ask
                && !store_failed
                && waiting.is_empty()
                && running.len() < self.concurrency
            {
                ask = false;
                leasing = Some(
                    self.store
                        .lease_due(now, &self.owner, LEASE_FOR, self.lease_limit),
                );
            }
            while running.len() < self.concurrency {
                let Some((index, lease)) = waiting.pop_front() else {
                    break;
                };
                let answer = Arc::clone(&days[&lease.date]);
                let halt = &halt;
                running.push(async move {
                    let outcome = self.handle(&lease, &answer, now, started, halt).await;
                    (index, lease, outcome)
                });
            }
            if leasing.is_none() && running.is_empty() && releasing.is_empty() {
                if waiting.is_empty() && (!ask || store_failed) {
                    break;
                }
                continue;
            }
            tokio::select! {
                Some(due) = futures::future::OptionFuture::from(leasing.as_mut()), if leasing.is_some() => {
                    leasing = None;
                    match due {
                        Ok(due) => {
                            let (fresh, again): (Vec<Lease>, Vec<Lease>) = due
                                .into_iter()
                                .partition(|l| seen.insert((l.guild_id, l.date)));
                            // Put off to "now" within this tick (a 429 with no wait):
                            // released, and the next tick takes them.
                            for lease in again {
                                releasing.push(async move {
                                    if let Err(e) = self.store.retry_at(&lease, now).await {
                                        tracing::error!(guild = lease.guild_id, error = %e, "could not release a post");
                                    }
                                });
                            }
                            if !fresh.is_empty() {
                                ask = true;
                                self.metrics.leases(LeaseEvent::Taken, fresh.len() as u64);
                                self.held
                                    .lock()
                                    .unwrap_or_else(PoisonError::into_inner)
                                    .extend(fresh.iter().map(|l| ((l.guild_id, l.date), l.clone())));
                                for lease in fresh {
                                    days.entry(lease.date).or_insert_with(|| {
                                        Arc::new(answer_for(&self.core, lease.date, lease.guild_id, now))
                                    });
                                    waiting.push_back((leased, lease));
                                    leased += 1;
                                }
                            }
                        }
                        Err(e) => {
                            tracing::error!(error = %e, "could not lease the posts due");
                            store_failed = true;
                        }
                    }
                }
                Some(()) = releasing.next(), if !releasing.is_empty() => {}
                Some((index, lease, outcome)) = running.next(), if !running.is_empty() => {
                    ask = true;
                    self.finished(&lease, &outcome, now);
                    done.push((index, lease.guild_id, lease.date, outcome));
                }
            }
        }
        done.sort_by_key(|(index, ..)| *index);
        TickReport {
            outcomes: done
                .into_iter()
                .map(|(_, guild, date, outcome)| (guild, date, outcome))
                .collect(),
        }
    }

    /// Counts a post handled in a tick, and forgets its lease.
    fn finished(&self, lease: &Lease, outcome: &PostOutcome, now: Timestamp) {
        self.held
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&(lease.guild_id, lease.date));
        match outcome.count() {
            Some(PostCount::Sent) => {
                let due = lease.onthisday.run_on(lease.date).map_or(now, |run| run.at);
                let late = Timestamp::now().duration_since(due);
                self.metrics
                    .sent(Duration::try_from(late).unwrap_or(Duration::ZERO));
            }
            Some(count) => self.metrics.post(count),
            None if *outcome == PostOutcome::LeaseLost => self.metrics.leases(LeaseEvent::Lost, 1),
            None => {}
        }
    }

    /// One leased post.
    async fn handle(
        &self,
        lease: &Lease,
        answer: &Answer,
        now: Timestamp,
        started: tokio::time::Instant,
        halt: &Mutex<Option<Halt>>,
    ) -> PostOutcome {
        let guild = lease.guild_id;
        let date = lease.date;
        match decide(&lease.onthisday, date, now, answer.empty) {
            Decision::Post => {}
            Decision::SkipMissed => {
                tracing::info!(guild, %date, "the day's post was missed entirely; not posting it late");
                // Moved on from the start of today's run, not from now: today's post,
                // if its time has passed, is still today's and goes out late (it comes
                // back in this tick's next batch).
                let today = local_date(&lease.onthisday, now);
                let from = lease
                    .onthisday
                    .run_on(today)
                    .map_or(now, |run| run.at.min(now));
                return self.skip(lease, from, PostOutcome::SkippedMissed).await;
            }
            Decision::SkipEmpty => {
                tracing::debug!(guild, %date, "nothing happened on this day; no post");
                return self.skip(lease, now, PostOutcome::SkippedEmpty).await;
            }
        }
        if let Some(h) = halted(halt) {
            return self.halted(lease, now, h).await;
        }
        let message = answer.page(1);
        let sent = match self.earlier_post(lease, &message, now, started).await {
            Ok(Some(id)) => {
                tracing::warn!(
                    guild, %date, message_id = id, attempt = lease.attempt,
                    "an earlier try had posted the day's message; recording it instead of sending again"
                );
                return self.record(lease, id, now, true).await;
            }
            Ok(None) => {
                self.limiter.acquire().await;
                // A 429 or a 401 may have come while this post waited its turn.
                if let Some(h) = halted(halt) {
                    return self.halted(lease, now, h).await;
                }
                if !self.lease_covers_a_request(lease, now, started) {
                    return self.release(lease, now, started).await;
                }
                self.poster
                    .create_message(lease.channel_id, &message, &lease.nonce)
                    .await
            }
            Err(e) => Err(e),
        };
        match sent {
            Ok(id) => self.record(lease, id, now, false).await,
            Err(e) => self.failed(lease, now, e, halt).await,
        }
    }

    /// On a lease that is not the first: the bot's message with this day's title in
    /// the channel, posted since the first lease, if there is one.
    async fn earlier_post(
        &self,
        lease: &Lease,
        message: &Message,
        now: Timestamp,
        started: tokio::time::Instant,
    ) -> Result<Option<u64>, PostError> {
        if lease.attempt <= 1 {
            return Ok(None);
        }
        self.limiter.acquire().await;
        if !self.lease_covers_a_request(lease, now, started) {
            // Not the look, and not the post after it: put off like a request that
            // could not be made (a timeout), so the next try comes soon.
            return Err(PostError::Transient(
                "the lease would run out before the channel's messages came".to_owned(),
            ));
        }
        let me = self.poster.bot_user_id().await?;
        self.limiter.acquire().await;
        let recent = self
            .poster
            .recent_messages(lease.channel_id, RECENT_MESSAGES)
            .await?;
        let marker = PostMarker {
            bot_id: me,
            nonce: &lease.nonce,
            title: &message.embed.title,
        };
        Ok(find_earlier_post(&recent, &marker, lease.first_leased_at))
    }

    /// Whether a request started now (the tick's `now` plus the time since it
    /// `started`) ends before `lease` runs out ([`lease_covers`]).
    fn lease_covers_a_request(
        &self,
        lease: &Lease,
        now: Timestamp,
        started: tokio::time::Instant,
    ) -> bool {
        lease_covers(
            lease.until,
            later(now, started.elapsed()),
            crate::discord::rest::REQUEST_TIMEOUT,
        )
    }

    /// Gives the lease back, the post due again at once.
    async fn release(
        &self,
        lease: &Lease,
        now: Timestamp,
        started: tokio::time::Instant,
    ) -> PostOutcome {
        let at = later(now, started.elapsed());
        tracing::warn!(
            guild = lease.guild_id, date = %lease.date,
            "the post waited too long for its turn to be sent within its lease; released"
        );
        self.postpone(lease, at, PostOutcome::Released).await
    }

    async fn record(
        &self,
        lease: &Lease,
        message_id: u64,
        now: Timestamp,
        found: bool,
    ) -> PostOutcome {
        let (guild, date) = (lease.guild_id, lease.date);
        match self.store.record_sent(lease, message_id, now).await {
            Ok(()) if found => PostOutcome::AlreadyPosted {
                message_id: Some(message_id),
            },
            Ok(()) => {
                tracing::info!(guild, %date, message_id, "posted the day's message");
                PostOutcome::Posted { message_id }
            }
            Err(StoreError::Fenced { .. }) => {
                tracing::warn!(
                    guild, %date, message_id,
                    "posted the day's message, but the lease was lost meanwhile; recorded as the day's post"
                );
                PostOutcome::LeaseLost
            }
            Err(e) => {
                // The lease stays: once it runs out, the next try finds the message
                // and records it.
                tracing::error!(
                    guild, %date, message_id, error = %e,
                    "posted the day's message but could not record it"
                );
                PostOutcome::StoreFailed
            }
        }
    }

    async fn skip(&self, lease: &Lease, now: Timestamp, outcome: PostOutcome) -> PostOutcome {
        let (guild, date) = (lease.guild_id, lease.date);
        match self.store.skip(lease, now).await {
            Ok(()) => outcome,
            Err(StoreError::Fenced { .. }) => PostOutcome::LeaseLost,
            Err(e) => {
                tracing::error!(guild, %date, error = %e, "could not move the schedule on");
                PostOutcome::StoreFailed
            }
        }
    }

    /// Releases the lease, the post due again at `until` (not a failure).
    async fn postpone(&self, lease: &Lease, until: Timestamp, outcome: PostOutcome) -> PostOutcome {
        put_off(lease, self.store.retry_at(lease, until).await, outcome)
    }

    /// The rest of a batch after a 401 or a global 429: put off without a request.
    async fn halted(&self, lease: &Lease, now: Timestamp, halt: Halt) -> PostOutcome {
        let until = match halt {
            Halt::Unauthorized => later(now, UNAUTHORIZED_WAIT),
            Halt::Global { until } => until,
        };
        self.postpone(lease, until, PostOutcome::Postponed { until })
            .await
    }

    async fn failed(
        &self,
        lease: &Lease,
        now: Timestamp,
        error: PostError,
        halt: &Mutex<Option<Halt>>,
    ) -> PostOutcome {
        let guild = lease.guild_id;
        let date = lease.date;
        match error {
            PostError::RateLimited {
                retry_after,
                global,
            } => {
                let until = later(now, retry_after);
                tracing::info!(
                    guild, %date, retry_after_ms = retry_after.as_millis() as u64, global,
                    "Discord asked to wait before posting"
                );
                if global {
                    self.limiter.hold(retry_after);
                    set_halt(halt, Halt::Global { until });
                }
                self.postpone(lease, until, PostOutcome::Postponed { until })
                    .await
            }
            PostError::Unauthorized => {
                tracing::error!(
                    "Discord rejected the bot's token (401) while posting the daily messages: \
                     check DISCORD_TOKEN; the posts wait and are tried again"
                );
                set_halt(halt, Halt::Unauthorized);
                let until = later(now, UNAUTHORIZED_WAIT);
                self.postpone(lease, until, PostOutcome::Postponed { until })
                    .await
            }
            PostError::Refused {
                status,
                code,
                message,
            } => {
                let reason = refusal_reason(lease.channel_id, status, code, &message);
                tracing::warn!(guild, %date, status, code, reason, "pausing the server's daily post");
                match self.store.pause(lease, &reason, now).await {
                    Ok(()) => PostOutcome::Paused { reason },
                    Err(StoreError::Fenced { .. }) => PostOutcome::LeaseLost,
                    Err(e) => {
                        tracing::error!(guild, error = %e, "could not pause the daily post");
                        PostOutcome::StoreFailed
                    }
                }
            }
            PostError::Transient(why) => {
                let failures = lease.failures.saturating_add(1);
                match retry_wait(failures) {
                    Some(wait) => {
                        let until = later(now, wait);
                        tracing::warn!(
                            guild, %date, failures, error = %why, retry_in_s = wait.as_secs(),
                            "could not post the day's message; trying again"
                        );
                        let counted = self.store.retry_after_failure(lease, until).await;
                        put_off(lease, counted, PostOutcome::Retrying { until, failures })
                    }
                    None => {
                        tracing::warn!(
                            guild, %date, failures, error = %why,
                            "could not post the day's message after every retry; giving up this day"
                        );
                        self.skip(lease, now, PostOutcome::GaveUp).await
                    }
                }
            }
            PostError::Other(why) => {
                tracing::warn!(
                    guild, %date, error = %why,
                    "Discord would not take the day's message; giving up this day"
                );
                self.skip(lease, now, PostOutcome::GaveUp).await
            }
        }
    }
}

/// The clock the loop reads: the real one ([`Timestamp::now`]) but in tests, which
/// may set it ahead to reach a due minute sooner (its sleeps are real).
pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// Runs `scheduler` until `shutdown` turns true (or its sender is dropped): a tick
/// with the real clock, then a sleep until the soonest post due (exactly) or `poll`,
/// whichever is sooner, cut short by `wake` (a change to the schedules made in this
/// process: [`wake_on_changes`]). `poll` bounds how
/// late a change made by another process is seen.
pub fn spawn<P: Poster + 'static>(
    scheduler: Arc<Scheduler<P>>,
    poll: Duration,
    wake: Arc<Notify>,
    shutdown: watch::Receiver<bool>,
) -> JoinHandle<()> {
    spawn_with_clock(scheduler, poll, wake, shutdown, Arc::new(Timestamp::now))
}

/// [`spawn`] on another clock.
pub fn spawn_with_clock<P: Poster + 'static>(
    scheduler: Arc<Scheduler<P>>,
    poll: Duration,
    wake: Arc<Notify>,
    mut shutdown: watch::Receiver<bool>,
    clock: Clock,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        tracing::info!(
            poll_s = poll.as_secs(),
            "the daily posts' scheduler started"
        );
        loop {
            if *shutdown.borrow() {
                break;
            }
            // Its own task, so that a panic in one tick (a bug) is logged and the next
            // tick still comes; what it had claimed and not recorded is retried then.
            let ticking = Arc::clone(&scheduler);
            let now = clock();
            match tokio::spawn(async move { ticking.tick(now).await }).await {
                Ok(report) if !report.outcomes.is_empty() => {
                    tracing::debug!(handled = report.outcomes.len(), "scheduler tick");
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::error!(error = %e, "a scheduler tick failed; going on");
                    scheduler.release_held(clock()).await;
                }
            }
            // Read after the tick: what it did, and any change made meanwhile, counts.
            let sleep = match scheduler.next_due_at().await {
                Ok(next) => sleep_for(next, clock(), poll),
                // The database is out of reach (restarting, say): look again soon,
                // not at the next poll, which may be an hour away.
                Err(e) => {
                    let retry = STORE_RETRY.min(poll);
                    tracing::error!(
                        error = %e,
                        retry_s = retry.as_secs(),
                        "could not read when the next post is due; looking again soon"
                    );
                    retry
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(sleep) => {}
                // A change made during the tick left a permit: the loop looks again at once.
                _ = wake.notified() => {
                    tracing::debug!("a schedule changed; looking for posts due again");
                }
                changed = shutdown.changed() => {
                    if changed.is_err() {
                        break;
                    }
                }
            }
        }
        tracing::info!("the daily posts' scheduler stopped");
    })
}

/// A wake-up for [`spawn`] on every change `store` reports ([`Store::changes`]: a
/// settings change, a schedule moved), from a task of its own; many changes while the
/// loop is busy make one wake-up. A receiver that fell behind wakes it too.
pub fn wake_on_changes(store: &dyn Store) -> Arc<Notify> {
    let wake = Arc::new(Notify::new());
    let mut changes = store.changes();
    let waking = Arc::clone(&wake);
    tokio::spawn(async move {
        use tokio::sync::broadcast::error::RecvError;
        // Closed: the store is gone.
        while let Ok(_) | Err(RecvError::Lagged(_)) = changes.recv().await {
            waking.notify_one();
        }
    });
    wake
}

/// What stops the rest of the tick, if anything has.
/// What a post put off comes to: `outcome` once the store took it.
fn put_off(lease: &Lease, stored: Result<(), StoreError>, outcome: PostOutcome) -> PostOutcome {
    match stored {
        Ok(()) => outcome,
        Err(StoreError::Fenced { .. }) => PostOutcome::LeaseLost,
        Err(e) => {
            tracing::error!(guild = lease.guild_id, date = %lease.date, error = %e, "could not put the post off");
            PostOutcome::StoreFailed
        }
    }
}

fn halted(halt: &Mutex<Option<Halt>>) -> Option<Halt> {
    *halt.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The first halt of a tick is kept.
fn set_halt(halt: &Mutex<Option<Halt>>, h: Halt) {
    halt.lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get_or_insert(h);
}

fn later(now: Timestamp, wait: Duration) -> Timestamp {
    karabakh_core::lease::later(now, wait)
}

/// A name for this scheduler's leases, unique among the processes sharing a
/// database: the process id and the instant it was made.
fn owner_name() -> String {
    format!(
        "pid{}-{}",
        std::process::id(),
        Timestamp::now().as_nanosecond()
    )
}
