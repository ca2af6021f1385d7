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
//! Exactly once: the post is claimed in the store (durably) before it is sent, sent
//! with the claim's nonce and `enforce_nonce`, and recorded with the message's id
//! after. A claim that is not the first ([`PostClaim::attempt`] > 1) may have reached
//! Discord before a crash; Discord's nonce check lasts only minutes, so the channel's
//! recent messages are searched for the bot's post first ([`find_earlier_post`]).
//!
//! On time and within Discord's limits: the loop ([`spawn`]) sleeps until the soonest
//! post due, exactly, and is woken at once by a `/config` change made in its own
//! process ([`Service::schedule_changed`](crate::service::Service)); the poll only
//! bounds how late a change made by another process is seen. Posts due together go
//! out [`DEFAULT_CONCURRENCY`] at a time, every request to Discord paced by one
//! [`RateLimiter`] (under Discord's global 50 requests/s, and held for every post
//! after a bot-wide 429).
//!
//! The store is synchronous SQLite: each call runs on tokio's blocking pool
//! (`spawn_blocking`), so a slow disk never stalls the gateway's tasks.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures::StreamExt as _;
use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use karabakh_core::commands::Core;
use karabakh_core::reply::{Answer, Message};
use karabakh_core::schedule::{
    BACKOFF, ChannelMessage, Decision, PostMarker, RECENT_MESSAGES, UNAUTHORIZED_WAIT, answer_for,
    decide, find_earlier_post, local_date, refusal_reason, sleep_for,
};
use karabakh_store::{Claim, PostClaim, Schedule, SettingsStore, StoreError};

use crate::metrics::{PostCount, SchedulerMetrics};

/// How many due schedules are read from the store at a time.
pub const BATCH: usize = 100;

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

    /// Waits for this request's turn.
    pub async fn acquire(&self) {
        let slot = {
            let mut next = self.next.lock().unwrap_or_else(PoisonError::into_inner);
            let slot = (*next).max(tokio::time::Instant::now());
            *next = slot + self.interval;
            slot
        };
        tokio::time::sleep_until(slot).await;
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
    /// The schedule was cleared or paused meanwhile.
    NotScheduled,
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
            PostOutcome::Postponed { .. } | PostOutcome::Retrying { .. } => PostCount::Retried,
            PostOutcome::GaveUp | PostOutcome::StoreFailed => PostCount::Failed,
            PostOutcome::Paused { .. } => PostCount::Paused,
            PostOutcome::NotScheduled => return None,
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

/// A store call failed, or its blocking task did.
#[derive(Debug)]
enum Failed {
    Store(StoreError),
    Task(String),
}

impl std::fmt::Display for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failed::Store(e) => e.fmt(f),
            Failed::Task(e) => write!(f, "the store's task failed: {e}"),
        }
    }
}

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
    pub store: Arc<dyn SettingsStore>,
    pub core: Arc<Core>,
    pub poster: P,
    /// How many posts are in flight at once.
    concurrency: usize,
    /// Every request to Discord waits for its turn here.
    limiter: RateLimiter,
    /// Failures (5xx, network) per server and date in this process: the store's
    /// attempt count also counts tries put off by 429s, which are not failures. A
    /// restart starts the count again (so at most [`BACKOFF`]'s length more tries).
    failures: Mutex<HashMap<(u64, Date), u32>>,
    /// What became of the posts, for the admin address.
    metrics: Arc<SchedulerMetrics>,
}

impl<P: Poster> Scheduler<P> {
    pub fn new(store: Arc<dyn SettingsStore>, core: Arc<Core>, poster: P) -> Self {
        Self {
            store,
            core,
            poster,
            concurrency: DEFAULT_CONCURRENCY,
            limiter: RateLimiter::per_second(DEFAULT_REQUESTS_PER_SECOND),
            failures: Mutex::new(HashMap::new()),
            metrics: Arc::new(SchedulerMetrics::default()),
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
        self
    }

    /// Runs a store call on the blocking pool.
    async fn store<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn SettingsStore) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, Failed> {
        let store = Arc::clone(&self.store);
        match tokio::task::spawn_blocking(move || f(store.as_ref())).await {
            Ok(result) => result.map_err(Failed::Store),
            Err(e) => Err(Failed::Task(e.to_string())),
        }
    }

    /// When the next post is due, if any.
    pub async fn next_due_at(&self) -> Result<Option<Timestamp>, String> {
        self.store(|s| s.next_due_at())
            .await
            .map_err(|e| e.to_string())
    }

    /// Handles every schedule due at `now`, in batches of [`BATCH`], each batch's
    /// posts concurrently (at most the scheduler's concurrency in flight; the report
    /// keeps the store's order). Never fails: what goes wrong is logged and in the
    /// report, and the next tick tries again.
    pub async fn tick(&self, now: Timestamp) -> TickReport {
        let mut report = TickReport::default();
        // A schedule comes back with a later date once handled (a missed day skipped
        // leads to today's post, due at once); one the store failed to move comes
        // back with the same date and waits for the next tick.
        let mut seen: HashSet<(u64, Date)> = HashSet::new();
        let halt: Mutex<Option<Halt>> = Mutex::new(None);
        let mut days: HashMap<Date, Answer> = HashMap::new();
        self.metrics.tick();
        loop {
            let due = match self.store(move |s| s.due_schedules(now, BATCH)).await {
                Ok(due) => due,
                Err(e) => {
                    tracing::error!(error = %e, "could not read the posts due");
                    break;
                }
            };
            let fresh: Vec<Schedule> = due
                .into_iter()
                .filter(|s| seen.insert((s.guild_id, s.next_run.date)))
                .collect();
            if fresh.is_empty() {
                break;
            }
            // Every server due for the same local date gets the same answer: rendered
            // once a tick, not once a server.
            for schedule in &fresh {
                let date = schedule.next_run.date;
                days.entry(date)
                    .or_insert_with(|| answer_for(&self.core, date, schedule.guild_id, now));
            }
            let days = &days;
            let halt = &halt;
            // The futures made first, then run: a closure in the stream would trip
            // the compiler's check that the tick's future is `Send`.
            let posts: Vec<_> = fresh
                .iter()
                .map(|schedule| self.handle(schedule, &days[&schedule.next_run.date], now, halt))
                .collect();
            let outcomes: Vec<PostOutcome> = futures::stream::iter(posts)
                .buffered(self.concurrency)
                .collect()
                .await;
            for (schedule, outcome) in fresh.iter().zip(outcomes) {
                match outcome.count() {
                    Some(PostCount::Sent) => {
                        let late = Timestamp::now().duration_since(schedule.next_run.at);
                        self.metrics
                            .sent(Duration::try_from(late).unwrap_or(Duration::ZERO));
                    }
                    Some(count) => self.metrics.post(count),
                    None => {}
                }
                report
                    .outcomes
                    .push((schedule.guild_id, schedule.next_run.date, outcome));
            }
        }
        report
    }

    /// One due schedule.
    async fn handle(
        &self,
        s: &Schedule,
        answer: &Answer,
        now: Timestamp,
        halt: &Mutex<Option<Halt>>,
    ) -> PostOutcome {
        let guild = s.guild_id;
        let date = s.next_run.date;
        match decide(&s.onthisday, date, now, answer.empty) {
            Decision::Post => {}
            Decision::SkipMissed => {
                tracing::info!(guild, %date, "the day's post was missed entirely; not posting it late");
                // Moved on from the start of today's run, not from now: today's post,
                // if its time has passed, is still today's and goes out late (it comes
                // back in this tick's next batch).
                let today = local_date(&s.onthisday, now);
                let from = s.onthisday.run_on(today).map_or(now, |run| run.at.min(now));
                return self
                    .skip(guild, date, from, PostOutcome::SkippedMissed)
                    .await;
            }
            Decision::SkipEmpty => {
                tracing::debug!(guild, %date, "nothing happened on this day; no post");
                return self.skip(guild, date, now, PostOutcome::SkippedEmpty).await;
            }
        }
        if let Some(h) = halted(halt) {
            return self.halted(guild, date, now, h).await;
        }
        let claim = match self.store(move |st| st.claim_post(guild, date, now)).await {
            Ok(claim) => claim,
            Err(e) => {
                tracing::error!(guild, %date, error = %e, "could not claim the day's post");
                return PostOutcome::StoreFailed;
            }
        };
        let claim = match claim {
            Claim::Send(claim) => claim,
            Claim::AlreadySent { message_id, .. } => {
                // Recorded, so the schedule moved on already; make sure.
                return self
                    .skip(guild, date, now, PostOutcome::AlreadyPosted { message_id })
                    .await;
            }
            Claim::NotScheduled => return PostOutcome::NotScheduled,
        };
        let message = answer.page(1);
        let sent = match self.earlier_post(&claim, &message).await {
            Ok(Some(id)) => {
                tracing::warn!(
                    guild, %date, message_id = id, attempt = claim.attempt,
                    "an earlier try had posted the day's message; recording it instead of sending again"
                );
                return self.record(guild, date, id, now, true).await;
            }
            Ok(None) => {
                self.limiter.acquire().await;
                // A 429 or a 401 may have come while this post waited its turn.
                if let Some(h) = halted(halt) {
                    return self.halted(guild, date, now, h).await;
                }
                self.poster
                    .create_message(claim.channel_id, &message, &claim.nonce)
                    .await
            }
            Err(e) => Err(e),
        };
        match sent {
            Ok(id) => self.record(guild, date, id, now, false).await,
            Err(e) => self.failed(s, &claim, now, e, halt).await,
        }
    }

    /// On a claim that is not the first: the bot's message with this day's title in
    /// the channel, posted since the first claim, if there is one.
    async fn earlier_post(
        &self,
        claim: &PostClaim,
        message: &Message,
    ) -> Result<Option<u64>, PostError> {
        if claim.attempt <= 1 {
            return Ok(None);
        }
        self.limiter.acquire().await;
        let me = self.poster.bot_user_id().await?;
        self.limiter.acquire().await;
        let recent = self
            .poster
            .recent_messages(claim.channel_id, RECENT_MESSAGES)
            .await?;
        let marker = PostMarker {
            bot_id: me,
            nonce: &claim.nonce,
            title: &message.embed.title,
        };
        Ok(find_earlier_post(&recent, &marker, claim.first_claimed_at))
    }

    async fn record(
        &self,
        guild: u64,
        date: Date,
        message_id: u64,
        now: Timestamp,
        found: bool,
    ) -> PostOutcome {
        self.forget_failures(guild, date);
        match self
            .store(move |s| s.record_post(guild, date, message_id, now))
            .await
        {
            Ok(()) if found => PostOutcome::AlreadyPosted {
                message_id: Some(message_id),
            },
            Ok(()) => {
                tracing::info!(guild, %date, message_id, "posted the day's message");
                PostOutcome::Posted { message_id }
            }
            Err(e) => {
                // The claim stays: the next try finds the message and records it.
                tracing::error!(
                    guild, %date, message_id, error = %e,
                    "posted the day's message but could not record it"
                );
                PostOutcome::StoreFailed
            }
        }
    }

    async fn skip(
        &self,
        guild: u64,
        date: Date,
        now: Timestamp,
        outcome: PostOutcome,
    ) -> PostOutcome {
        self.forget_failures(guild, date);
        match self.store(move |s| s.skip_post(guild, date, now)).await {
            Ok(()) => outcome,
            Err(e) => {
                tracing::error!(guild, %date, error = %e, "could not move the schedule on");
                PostOutcome::StoreFailed
            }
        }
    }

    async fn postpone(
        &self,
        guild: u64,
        date: Date,
        until: Timestamp,
        outcome: PostOutcome,
    ) -> PostOutcome {
        match self
            .store(move |s| s.postpone_post(guild, date, until))
            .await
        {
            Ok(()) => outcome,
            Err(e) => {
                tracing::error!(guild, %date, error = %e, "could not put the post off");
                PostOutcome::StoreFailed
            }
        }
    }

    /// The rest of a batch after a 401 or a global 429: put off without a request.
    async fn halted(&self, guild: u64, date: Date, now: Timestamp, halt: Halt) -> PostOutcome {
        let until = match halt {
            Halt::Unauthorized => later(now, UNAUTHORIZED_WAIT),
            Halt::Global { until } => until,
        };
        self.postpone(guild, date, until, PostOutcome::Postponed { until })
            .await
    }

    async fn failed(
        &self,
        s: &Schedule,
        claim: &PostClaim,
        now: Timestamp,
        error: PostError,
        halt: &Mutex<Option<Halt>>,
    ) -> PostOutcome {
        let guild = s.guild_id;
        let date = s.next_run.date;
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
                self.postpone(guild, date, until, PostOutcome::Postponed { until })
                    .await
            }
            PostError::Unauthorized => {
                tracing::error!(
                    "Discord rejected the bot's token (401) while posting the daily messages: \
                     check DISCORD_TOKEN; the posts wait and are tried again"
                );
                set_halt(halt, Halt::Unauthorized);
                let until = later(now, UNAUTHORIZED_WAIT);
                self.postpone(guild, date, until, PostOutcome::Postponed { until })
                    .await
            }
            PostError::Refused {
                status,
                code,
                message,
            } => {
                let reason = refusal_reason(claim.channel_id, status, code, &message);
                tracing::warn!(guild, %date, status, code, reason, "pausing the server's daily post");
                self.forget_failures(guild, date);
                let r = reason.clone();
                match self
                    .store(move |st| st.pause_schedule(guild, &r, now))
                    .await
                {
                    Ok(_) => PostOutcome::Paused { reason },
                    Err(e) => {
                        tracing::error!(guild, error = %e, "could not pause the daily post");
                        PostOutcome::StoreFailed
                    }
                }
            }
            PostError::Transient(why) => {
                let failures = self.count_failure(guild, date);
                match BACKOFF.get(failures as usize - 1) {
                    Some(wait) => {
                        let until = later(now, *wait);
                        tracing::warn!(
                            guild, %date, failures, error = %why, retry_in_s = wait.as_secs(),
                            "could not post the day's message; trying again"
                        );
                        self.postpone(
                            guild,
                            date,
                            until,
                            PostOutcome::Retrying { until, failures },
                        )
                        .await
                    }
                    None => {
                        tracing::warn!(
                            guild, %date, failures, error = %why,
                            "could not post the day's message after every retry; giving up this day"
                        );
                        self.skip(guild, date, now, PostOutcome::GaveUp).await
                    }
                }
            }
            PostError::Other(why) => {
                tracing::warn!(
                    guild, %date, error = %why,
                    "Discord would not take the day's message; giving up this day"
                );
                self.skip(guild, date, now, PostOutcome::GaveUp).await
            }
        }
    }

    fn count_failure(&self, guild: u64, date: Date) -> u32 {
        let mut failures = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        let n = failures.entry((guild, date)).or_insert(0);
        *n += 1;
        *n
    }

    fn forget_failures(&self, guild: u64, date: Date) {
        self.failures
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&(guild, date));
    }
}

/// The clock the loop reads: the real one ([`Timestamp::now`]) but in tests, which
/// may set it ahead to reach a due minute sooner (its sleeps are real).
pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// Runs `scheduler` until `shutdown` turns true (or its sender is dropped): a tick
/// with the real clock, then a sleep until the soonest post due (exactly) or `poll`,
/// whichever is sooner, cut short by `wake` (a change to the schedules made in this
/// process: [`Service::schedule_changed`](crate::service::Service)). `poll` bounds how
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
                Err(e) => tracing::error!(error = %e, "a scheduler tick failed; going on"),
            }
            // Read after the tick: what it did, and any change made meanwhile, counts.
            let next = match scheduler.next_due_at().await {
                Ok(next) => next,
                Err(e) => {
                    tracing::error!(error = %e, "could not read when the next post is due");
                    None
                }
            };
            let sleep = sleep_for(next, clock(), poll);
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

/// What stops the rest of the tick, if anything has.
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
    let wait = SignedDuration::try_from(wait).unwrap_or(SignedDuration::MAX);
    now.checked_add(wait).unwrap_or(Timestamp::MAX)
}
