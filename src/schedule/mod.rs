//! The daily "on this day" posts: every server that configured one gets, at its
//! local time, the `/onthisday` answer for that month and day in its channel, once.
//!
//! Two parts. [`decide`] is pure: given a due schedule, the instant and whether the
//! day has anything to say, it says post, skip a day missed entirely, or skip an
//! empty day. [`Scheduler::tick`] does the I/O for every schedule due at an instant
//! it is handed (tests and benchmarks pass any instant; [`spawn`] passes the real
//! clock): it asks the store, renders the answer and posts it through a [`Poster`].
//!
//! Exactly once: the post is claimed in the store (durably) before it is sent, sent
//! with the claim's nonce and `enforce_nonce`, and recorded with the message's id
//! after. A claim that is not the first ([`PostClaim::attempt`] > 1) may have reached
//! Discord before a crash; Discord's nonce check lasts only minutes, so the channel's
//! recent messages are searched for the bot's post first ([`find_earlier_post`]).
//!
//! The store is synchronous SQLite: each call runs on tokio's blocking pool
//! (`spawn_blocking`), so a slow disk never stalls the gateway's tasks.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::commands::{Call, Context, Core, Value};
use crate::reply::{Answer, Message};
use crate::store::{Claim, OnThisDay, PostClaim, Schedule, SettingsStore, StoreError};

/// How many due schedules are read from the store at a time.
pub const BATCH: usize = 100;

/// The waits between tries after a server error or a network failure (5xx, timeout,
/// connection refused). After the last, the day is given up with a warning.
pub const BACKOFF: [Duration; 5] = [
    Duration::from_secs(30),
    Duration::from_secs(60),
    Duration::from_secs(120),
    Duration::from_secs(240),
    Duration::from_secs(480),
];

/// How long posts wait when Discord rejects the token (401): the operator must fix
/// it; meanwhile the bot asks again this often, and never pauses a server for it.
pub const UNAUTHORIZED_WAIT: Duration = Duration::from_secs(300);

/// A 429 without a readable `retry_after` waits this long.
pub const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(5);

/// The shortest sleep of the loop, so that a schedule stuck in the past (the store
/// failing to move it) cannot make it spin.
pub const MIN_SLEEP: Duration = Duration::from_millis(500);

/// How much earlier than its claim a message may be stamped and still count as the
/// post found after a crash (clocks of the bot and Discord differ a little).
pub const CLOCK_SLACK: SignedDuration = SignedDuration::from_secs(120);

/// How many recent messages of a channel are searched for an earlier try's post.
pub const RECENT_MESSAGES: u8 = 50;

/// Whether a server wants a post on days the dataset has nothing for (`/config
/// onthisday … empty-days:true`; off by default).
pub fn posts_empty_days(o: &OnThisDay) -> bool {
    o.post_empty_days
}

/// What to do with a due schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Post the day's answer now.
    Post,
    /// Its local day is over (the bot was down all of it, or retries ran past
    /// midnight): not back-filled.
    SkipMissed,
    /// The dataset has nothing for the day and the server did not ask for empty days.
    SkipEmpty,
}

/// The local date of `now` in the schedule's zone.
pub fn local_date(o: &OnThisDay, now: Timestamp) -> Date {
    now.to_zoned_datetime(o.zone.time_zone().clone()).date()
}

/// Pure: what to do with the run for local date `run_date` of a schedule `o`, at
/// `now`, when that day's answer is `empty` or not. Started late on the same local
/// day it posts then; a day missed entirely is not back-filled.
pub fn decide(o: &OnThisDay, run_date: Date, now: Timestamp, empty: bool) -> Decision {
    if local_date(o, now) > run_date {
        Decision::SkipMissed
    } else if empty && !posts_empty_days(o) {
        Decision::SkipEmpty
    } else {
        Decision::Post
    }
}

/// The `/onthisday` call for a local date, as the scheduler asks the core.
pub fn call_for(date: Date, guild_id: u64, now: Timestamp) -> Call {
    let mut context = Context::new(now);
    context.guild_id = Some(guild_id);
    Call::new(
        "onthisday",
        vec![(
            "date".to_owned(),
            Value::Text(format!("{:02}-{:02}", date.month(), date.day())),
        )],
        context,
    )
}

/// The day's answer from the core (pure).
pub fn answer_for(core: &Core, date: Date, guild_id: u64, now: Timestamp) -> Answer {
    core.answer(&call_for(date, guild_id, now))
}

/// Why a request to Discord failed, as far as the scheduler cares.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PostError {
    /// 429: wait this long (`global` for the bot-wide limit).
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

/// A message as `GET /channels/{id}/messages` shows it, the parts the scheduler reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelMessage {
    pub id: u64,
    pub author_id: u64,
    pub timestamp: Timestamp,
    pub embed_title: Option<String>,
}

/// Where posts go: Discord's REST API ([`crate::discord::messages::RestPoster`]), or
/// anything standing in for it in tests and benchmarks.
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
pub enum Outcome {
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

/// What one tick did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TickReport {
    /// Every due schedule handled, in order: server, local date, outcome.
    pub outcomes: Vec<(u64, Date, Outcome)>,
}

impl TickReport {
    /// How many outcomes match `f`.
    pub fn count(&self, f: impl Fn(&Outcome) -> bool) -> usize {
        self.outcomes.iter().filter(|(_, _, o)| f(o)).count()
    }

    /// The servers posted to (sent now or found sent).
    pub fn posted(&self) -> Vec<u64> {
        self.outcomes
            .iter()
            .filter(|(_, _, o)| matches!(o, Outcome::Posted { .. }))
            .map(|(g, _, _)| *g)
            .collect()
    }

    /// The outcome for a server, if it was due.
    pub fn outcome(&self, guild_id: u64) -> Option<&Outcome> {
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
    /// Failures (5xx, network) per server and date in this process: the store's
    /// attempt count also counts tries put off by 429s, which are not failures. A
    /// restart starts the count again (so at most [`BACKOFF`]'s length more tries).
    failures: Mutex<HashMap<(u64, Date), u32>>,
}

impl<P: Poster> Scheduler<P> {
    pub fn new(store: Arc<dyn SettingsStore>, core: Arc<Core>, poster: P) -> Self {
        Self {
            store,
            core,
            poster,
            failures: Mutex::new(HashMap::new()),
        }
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

    /// Handles every schedule due at `now`, in batches of [`BATCH`]. Never fails:
    /// what goes wrong is logged and in the report, and the next tick tries again.
    pub async fn tick(&self, now: Timestamp) -> TickReport {
        let mut report = TickReport::default();
        // A schedule comes back with a later date once handled (a missed day skipped
        // leads to today's post, due at once); one the store failed to move comes
        // back with the same date and waits for the next tick.
        let mut seen: HashSet<(u64, Date)> = HashSet::new();
        let mut halt: Option<Halt> = None;
        let mut days: HashMap<Date, Answer> = HashMap::new();
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
            for schedule in fresh {
                let date = schedule.next_run.date;
                // Every server due for the same local date gets the same answer:
                // rendered once a tick, not once a server.
                let answer = days
                    .entry(date)
                    .or_insert_with(|| answer_for(&self.core, date, schedule.guild_id, now));
                let outcome = self.handle(&schedule, answer, now, &mut halt).await;
                report.outcomes.push((schedule.guild_id, date, outcome));
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
        halt: &mut Option<Halt>,
    ) -> Outcome {
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
                return self.skip(guild, date, from, Outcome::SkippedMissed).await;
            }
            Decision::SkipEmpty => {
                tracing::debug!(guild, %date, "nothing happened on this day; no post");
                return self.skip(guild, date, now, Outcome::SkippedEmpty).await;
            }
        }
        if let Some(h) = *halt {
            return self.halted(guild, date, now, h).await;
        }
        let claim = match self.store(move |st| st.claim_post(guild, date, now)).await {
            Ok(claim) => claim,
            Err(e) => {
                tracing::error!(guild, %date, error = %e, "could not claim the day's post");
                return Outcome::StoreFailed;
            }
        };
        let claim = match claim {
            Claim::Send(claim) => claim,
            Claim::AlreadySent { message_id, .. } => {
                // Recorded, so the schedule moved on already; make sure.
                return self
                    .skip(guild, date, now, Outcome::AlreadyPosted { message_id })
                    .await;
            }
            Claim::NotScheduled => return Outcome::NotScheduled,
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
        let me = self.poster.bot_user_id().await?;
        let recent = self
            .poster
            .recent_messages(claim.channel_id, RECENT_MESSAGES)
            .await?;
        Ok(find_earlier_post(
            &recent,
            me,
            claim.first_claimed_at,
            &message.embed.title,
        ))
    }

    async fn record(
        &self,
        guild: u64,
        date: Date,
        message_id: u64,
        now: Timestamp,
        found: bool,
    ) -> Outcome {
        self.forget_failures(guild, date);
        match self
            .store(move |s| s.record_post(guild, date, message_id, now))
            .await
        {
            Ok(()) if found => Outcome::AlreadyPosted {
                message_id: Some(message_id),
            },
            Ok(()) => {
                tracing::info!(guild, %date, message_id, "posted the day's message");
                Outcome::Posted { message_id }
            }
            Err(e) => {
                // The claim stays: the next try finds the message and records it.
                tracing::error!(
                    guild, %date, message_id, error = %e,
                    "posted the day's message but could not record it"
                );
                Outcome::StoreFailed
            }
        }
    }

    async fn skip(&self, guild: u64, date: Date, now: Timestamp, outcome: Outcome) -> Outcome {
        self.forget_failures(guild, date);
        match self.store(move |s| s.skip_post(guild, date, now)).await {
            Ok(()) => outcome,
            Err(e) => {
                tracing::error!(guild, %date, error = %e, "could not move the schedule on");
                Outcome::StoreFailed
            }
        }
    }

    async fn postpone(
        &self,
        guild: u64,
        date: Date,
        until: Timestamp,
        outcome: Outcome,
    ) -> Outcome {
        match self
            .store(move |s| s.postpone_post(guild, date, until))
            .await
        {
            Ok(()) => outcome,
            Err(e) => {
                tracing::error!(guild, %date, error = %e, "could not put the post off");
                Outcome::StoreFailed
            }
        }
    }

    /// The rest of a batch after a 401 or a global 429: put off without a request.
    async fn halted(&self, guild: u64, date: Date, now: Timestamp, halt: Halt) -> Outcome {
        let until = match halt {
            Halt::Unauthorized => later(now, UNAUTHORIZED_WAIT),
            Halt::Global { until } => until,
        };
        self.postpone(guild, date, until, Outcome::Postponed { until })
            .await
    }

    async fn failed(
        &self,
        s: &Schedule,
        claim: &PostClaim,
        now: Timestamp,
        error: PostError,
        halt: &mut Option<Halt>,
    ) -> Outcome {
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
                    *halt = Some(Halt::Global { until });
                }
                self.postpone(guild, date, until, Outcome::Postponed { until })
                    .await
            }
            PostError::Unauthorized => {
                tracing::error!(
                    "Discord rejected the bot's token (401) while posting the daily messages: \
                     check DISCORD_TOKEN; the posts wait and are tried again"
                );
                *halt = Some(Halt::Unauthorized);
                let until = later(now, UNAUTHORIZED_WAIT);
                self.postpone(guild, date, until, Outcome::Postponed { until })
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
                    Ok(_) => Outcome::Paused { reason },
                    Err(e) => {
                        tracing::error!(guild, error = %e, "could not pause the daily post");
                        Outcome::StoreFailed
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
                        self.postpone(guild, date, until, Outcome::Retrying { until, failures })
                            .await
                    }
                    None => {
                        tracing::warn!(
                            guild, %date, failures, error = %why,
                            "could not post the day's message after every retry; giving up this day"
                        );
                        self.skip(guild, date, now, Outcome::GaveUp).await
                    }
                }
            }
            PostError::Other(why) => {
                tracing::warn!(
                    guild, %date, error = %why,
                    "Discord would not take the day's message; giving up this day"
                );
                self.skip(guild, date, now, Outcome::GaveUp).await
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

fn later(now: Timestamp, wait: Duration) -> Timestamp {
    let wait = SignedDuration::try_from(wait).unwrap_or(SignedDuration::MAX);
    now.checked_add(wait).unwrap_or(Timestamp::MAX)
}

/// Among a channel's recent messages, the bot's (`bot_id`) post titled `title`
/// made since `claimed_at` (less [`CLOCK_SLACK`]): the same day's post a year ago has
/// the same title but is far older.
pub fn find_earlier_post(
    recent: &[ChannelMessage],
    bot_id: u64,
    claimed_at: Timestamp,
    title: &str,
) -> Option<u64> {
    let since = claimed_at
        .checked_sub(CLOCK_SLACK)
        .unwrap_or(Timestamp::MIN);
    recent
        .iter()
        .filter(|m| m.author_id == bot_id && m.timestamp >= since)
        .find(|m| m.embed_title.as_deref() == Some(title))
        .map(|m| m.id)
}

/// What moderators read in `/config show` when Discord refused a post.
pub fn refusal_reason(channel_id: u64, status: u16, code: u64, message: &str) -> String {
    let what = if message.trim().is_empty() {
        match status {
            404 => "Unknown Channel",
            _ => "Forbidden",
        }
    } else {
        message.trim()
    };
    let advice = match (status, code) {
        (404, _) | (_, 10003) => {
            "The channel is gone or the bot cannot see it: choose a channel with /config onthisday."
        }
        (_, 50001) => {
            "Give the bot View Channel, Send Messages and Embed Links there, then set /config onthisday again."
        }
        _ => "Give the bot Send Messages and Embed Links there, then set /config onthisday again.",
    };
    format!("Discord refused the post to <#{channel_id}>: {what} ({status}, code {code}). {advice}")
}

/// Runs `scheduler` until `shutdown` turns true (or its sender is dropped): a tick
/// with the real clock, then a sleep until the next post due or `poll`, whichever
/// is sooner (a change made by another process is seen within `poll`).
pub fn spawn<P: Poster + 'static>(
    scheduler: Arc<Scheduler<P>>,
    poll: Duration,
    mut shutdown: watch::Receiver<bool>,
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
            match tokio::spawn(async move { ticking.tick(Timestamp::now()).await }).await {
                Ok(report) if !report.outcomes.is_empty() => {
                    tracing::debug!(handled = report.outcomes.len(), "scheduler tick");
                }
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "a scheduler tick failed; going on"),
            }
            let next = match scheduler.next_due_at().await {
                Ok(next) => next,
                Err(e) => {
                    tracing::error!(error = %e, "could not read when the next post is due");
                    None
                }
            };
            let sleep = sleep_for(next, Timestamp::now(), poll);
            tokio::select! {
                _ = tokio::time::sleep(sleep) => {}
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

/// How long the loop sleeps: until `next` (if any), at most `poll`, at least
/// [`MIN_SLEEP`].
pub fn sleep_for(next: Option<Timestamp>, now: Timestamp, poll: Duration) -> Duration {
    let until_next = next.map_or(poll, |next| {
        Duration::try_from(next.duration_since(now)).unwrap_or(Duration::ZERO)
    });
    until_next.min(poll).max(MIN_SLEEP)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{PostTime, TimeZoneName};
    use jiff::civil::date;

    fn otd(time: &str, zone: &str) -> OnThisDay {
        OnThisDay {
            channel_id: 7,
            time: PostTime::parse(time).unwrap(),
            zone: TimeZoneName::parse(zone).unwrap(),
            post_empty_days: false,
        }
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn a_late_start_on_the_same_local_day_posts_a_missed_day_does_not() {
        let o = otd("09:00", "America/New_York"); // UTC-4 in summer
        let day = date(2024, 7, 4);
        assert_eq!(
            decide(&o, day, ts("2024-07-04T13:00:00Z"), false),
            Decision::Post
        );
        // 23:59 local, still 4 July: late but the same day.
        assert_eq!(
            decide(&o, day, ts("2024-07-05T03:59:00Z"), false),
            Decision::Post
        );
        // 00:00 local on 5 July: the 4th is over.
        assert_eq!(
            decide(&o, day, ts("2024-07-05T04:00:00Z"), false),
            Decision::SkipMissed
        );
        assert_eq!(
            decide(&o, day, ts("2024-07-04T13:00:00Z"), true),
            Decision::SkipEmpty
        );
        // A missed day is skipped as missed whether or not it was empty.
        assert_eq!(
            decide(&o, day, ts("2024-07-06T13:00:00Z"), true),
            Decision::SkipMissed
        );
    }

    #[test]
    fn empty_days_are_posted_only_when_the_server_asked() {
        let mut o = otd("09:00", "UTC");
        let day = date(2024, 7, 4);
        let at = ts("2024-07-04T09:00:00Z");
        assert!(!posts_empty_days(&o));
        assert_eq!(decide(&o, day, at, true), Decision::SkipEmpty);
        o.post_empty_days = true;
        assert_eq!(decide(&o, day, at, true), Decision::Post);
        // A missed day stays missed.
        assert_eq!(
            decide(&o, day, ts("2024-07-05T09:00:00Z"), true),
            Decision::SkipMissed
        );
    }

    #[test]
    fn the_earlier_post_is_the_bots_with_the_title_since_the_claim() {
        let m = |id, author, at: &str, title: Option<&str>| ChannelMessage {
            id,
            author_id: author,
            timestamp: ts(at),
            embed_title: title.map(str::to_owned),
        };
        let title = "On this day: 27 September";
        let claimed = ts("2024-09-27T08:00:00Z");
        let recent = vec![
            m(1, 99, "2024-09-27T08:00:01Z", Some(title)), // someone else's
            m(
                2,
                5,
                "2024-09-27T08:00:01Z",
                Some("On this day: 28 September"),
            ),
            m(3, 5, "2023-09-27T08:00:01Z", Some(title)), // a year ago
        ];
        assert_eq!(find_earlier_post(&recent, 5, claimed, title), None);
        let mut with = recent.clone();
        with.push(m(4, 5, "2024-09-27T07:59:30Z", Some(title))); // within the slack
        assert_eq!(find_earlier_post(&with, 5, claimed, title), Some(4));
    }

    #[test]
    fn refusals_read_as_advice_for_moderators() {
        let r = refusal_reason(123, 403, 50013, "Missing Permissions");
        assert_eq!(
            r,
            "Discord refused the post to <#123>: Missing Permissions (403, code 50013). Give the \
             bot Send Messages and Embed Links there, then set /config onthisday again."
        );
        let r = refusal_reason(9, 404, 10003, "Unknown Channel");
        assert!(
            r.contains("<#9>") && r.contains("(404, code 10003)") && r.contains("gone"),
            "{r}"
        );
        let r = refusal_reason(9, 403, 50001, "Missing Access");
        assert!(r.contains("View Channel"), "{r}");
    }

    #[test]
    fn the_loop_sleeps_until_the_next_post_within_bounds() {
        let now = ts("2024-01-01T00:00:00Z");
        let poll = Duration::from_secs(60);
        assert_eq!(sleep_for(None, now, poll), poll);
        assert_eq!(
            sleep_for(Some(ts("2024-01-01T00:00:10Z")), now, poll),
            Duration::from_secs(10)
        );
        assert_eq!(sleep_for(Some(ts("2024-01-02T00:00:00Z")), now, poll), poll);
        assert_eq!(
            sleep_for(Some(ts("2023-12-31T00:00:00Z")), now, poll),
            MIN_SLEEP
        );
    }

    #[test]
    fn the_call_asks_for_the_month_and_day() {
        let call = call_for(date(2024, 3, 5), 1, ts("2024-03-05T00:00:00Z"));
        assert_eq!(call.command, "onthisday");
        assert_eq!(call.text("date").as_deref(), Some("03-05"));
        assert_eq!(call.context.guild_id, Some(1));
    }
}
