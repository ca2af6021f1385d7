//! The bot on Discord's gateway: serenity's client receives interactions over a
//! websocket, [`Service::handle`] answers them (the same path as every transport),
//! and the answer goes back through the interaction callback, rendered by
//! [`render::response`].
//!
//! Start-up checks the token's shape, then makes one REST call that proves the API
//! can be reached and takes the token, and stops with one sentence if not. On the
//! gateway, an "authentication failed" close stops the bot too (serenity would not
//! retry it, and neither does the bot). SIGINT or SIGTERM shut the shards down and
//! return `Ok`.
//!
//! Several processes can run one bot, each a slice of its shards (`--shards a-b
//! --total-shards N`); Discord sends each server's events to shard
//! `(guild_id >> 22) % N`. Identifies keep to Discord's limit across processes: within
//! a process serenity 0.12.5 starts one shard every 5 s (it does not use
//! `max_concurrency`), and a process whose first shard is `a` waits
//! [`Sharding::identify_wait`] (`a` × [`IDENTIFY_SLOT`]) from its start before its
//! first identify, the turn its shards would have if one process ran them all. So
//! processes started together identify one shard at a time, which keeps within every
//! `max_concurrency` bucket. Only the process that runs shard 0 registers the
//! development server's commands at start.
//!
//! With an admin address ([`crate::admin`]), `/healthz` says whether every shard of
//! the slice is connected (and the dataset and the store are there), and `/metrics`
//! shows [`GatewayMetrics`].

use std::sync::Arc;
use std::time::{Duration, Instant};

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use serenity::all::{
    Builder, ClientBuilder, ConnectionStage, Context, Event, EventHandler, GatewayError,
    GatewayIntents, Interaction, RawEventHandler, Ready, ShardManager, ShardStageUpdateEvent,
};
use serenity::async_trait;

use crate::admin;
use crate::metrics::{self, Interactions, MetricSet};

use crate::discord::register::{self, Scope};
use karabakh_core::commands::{RequestKind, Resolution};

use crate::discord::{interaction, render, rest};
use crate::operator::{Config, Secret};
use crate::service::{Handled, Service};

/// No intents at all: interactions reach a bot whatever its intents, and it reads
/// nothing else (no messages, no members, no presences; nothing privileged).
pub const INTENTS: GatewayIntents = GatewayIntents::empty();

/// How long the shards get to close their connections after a signal.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// The time counted for each shard before a slice's first one: Discord allows one
/// identify per 5 s in each `max_concurrency` bucket, and serenity waits 5 s between
/// its shards plus the time a connection takes to open; half a second covers that.
pub const IDENTIFY_SLOT: Duration = Duration::from_millis(5_500);

/// Which shards this process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sharding {
    /// As many as Discord recommends (`GET /gateway/bot`), all in this process.
    Auto,
    /// Shards `first..=last` of `total`: a slice, so that several processes can share
    /// one bot.
    Range { first: u32, last: u32, total: u32 },
}

impl Sharding {
    /// From `--shards FIRST-LAST --total-shards N` (both or neither), checked.
    pub fn from_cli(shards: Option<(u32, u32)>, total: Option<u32>) -> Result<Self, String> {
        match (shards, total) {
            (None, None) => Ok(Sharding::Auto),
            (Some((first, last)), Some(total)) => {
                if total == 0 {
                    Err("--total-shards must be at least 1".to_owned())
                } else if last >= total {
                    Err(format!(
                        "--shards {first}-{last} names shard {last}, but with --total-shards \
                         {total} the shards are 0-{}",
                        total - 1
                    ))
                } else if first > last {
                    Err(format!("--shards {first}-{last} ends before it starts"))
                } else {
                    Ok(Sharding::Range { first, last, total })
                }
            }
            _ => Err("--shards and --total-shards go together".to_owned()),
        }
    }

    /// Whether this process runs shard 0 (and so registers the development server's
    /// commands at start, once for the whole bot).
    pub fn runs_first_shard(self) -> bool {
        match self {
            Sharding::Auto => true,
            Sharding::Range { first, .. } => first == 0,
        }
    }

    /// How long after its start this process waits before its first identify: the
    /// shards before its slice identify first, one per [`IDENTIFY_SLOT`], as they would
    /// in one process.
    pub fn identify_wait(self) -> Duration {
        match self {
            Sharding::Auto => Duration::ZERO,
            Sharding::Range { first, .. } => IDENTIFY_SLOT * first,
        }
    }
}

/// The gateway's metrics: the shards' state and heartbeat latency, the events
/// received, and the interactions answered (`kr_interactions_total`, as the HTTP
/// endpoint counts them).
pub struct GatewayMetrics {
    registry: Registry,
    interactions: Interactions,
    answer: Histogram,
    responses_failed: Counter,
    events: Family<[(&'static str, String); 1], Counter>,
    connected: Family<[(&'static str, u32); 1], Gauge>,
    latency: Family<[(&'static str, u32); 1], Gauge<f64, std::sync::atomic::AtomicU64>>,
    /// The shards this process runs, once known: `(first, last, total)`.
    slice: std::sync::OnceLock<(u32, u32, u32)>,
}

/// Upper bounds of `kr_gateway_answer_duration_seconds`.
const ANSWER_BOUNDS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

impl Default for GatewayMetrics {
    fn default() -> Self {
        let mut registry = Registry::default();
        let interactions = Interactions::register(&mut registry);
        let answer = metrics::seconds_histogram(&ANSWER_BOUNDS);
        registry.register(
            "kr_gateway_answer_duration_seconds",
            "Time from an interaction's arrival on the gateway until its callback was sent",
            answer.clone(),
        );
        let responses_failed = Counter::default();
        registry.register(
            "kr_gateway_responses_failed",
            "Interaction callbacks that Discord did not take",
            responses_failed.clone(),
        );
        let events = Family::default();
        registry.register(
            "kr_gateway_events",
            "Gateway events received, by type",
            events.clone(),
        );
        let connected = Family::default();
        registry.register(
            "kr_gateway_shard_connected",
            "1 when the shard is connected to the gateway, else 0",
            connected.clone(),
        );
        let latency = Family::default();
        registry.register(
            "kr_gateway_shard_latency_seconds",
            "The shard's last heartbeat round trip",
            latency.clone(),
        );
        Self {
            registry,
            interactions,
            answer,
            responses_failed,
            events,
            connected,
            latency,
            slice: std::sync::OnceLock::new(),
        }
    }
}

impl MetricSet for GatewayMetrics {
    fn registry(&self) -> &Registry {
        &self.registry
    }
}

impl GatewayMetrics {
    /// The shards this process runs: each is listed (not connected) from now on.
    fn expect(&self, first: u32, last: u32, total: u32) {
        let _ = self.slice.set((first, last, total));
        for shard in first..=last {
            let _ = self.connected.get_or_create(&[("shard", shard)]);
        }
    }

    fn set_connected(&self, shard: u32, connected: bool) {
        self.connected
            .get_or_create(&[("shard", shard)])
            .set(i64::from(connected));
    }

    /// The shards' stage and latency, as serenity's shard manager knows them.
    async fn observe(&self, manager: &ShardManager) {
        let runners = manager.runners.lock().await;
        for (id, info) in runners.iter() {
            self.set_connected(id.0, info.stage == ConnectionStage::Connected);
            if let Some(latency) = info.latency {
                self.latency
                    .get_or_create(&[("shard", id.0)])
                    .set(latency.as_secs_f64());
            }
        }
    }

    /// The health check: every shard of the slice connected.
    pub fn shards_check(&self) -> admin::CheckResult {
        let Some(&(first, last, total)) = self.slice.get() else {
            return Err("starting: the shards are not known yet".to_owned());
        };
        let connected = (first..=last)
            .filter(|&shard| {
                self.connected
                    .get(&[("shard", shard)])
                    .is_some_and(|g| g.get() == 1)
            })
            .count();
        let count = (last - first + 1) as usize;
        let details = serde_json::json!({
            "shards": format!("{first}-{last}"),
            "total": total,
            "connected": connected,
        });
        if connected == count {
            Ok(details)
        } else {
            Err(format!(
                "{connected} of the {count} shards {first}-{last} (of {total}) connected"
            ))
        }
    }

    /// How many interactions the gateway answered.
    pub fn handled_total(&self) -> u64 {
        self.interactions.total()
    }
}

/// Runs the bot on the gateway until a signal (then `Ok`) or a fatal error (one
/// sentence). `service` answers every interaction. A signal during start-up stops it
/// too, before anything connects.
pub async fn run(
    service: Service,
    config: &Config,
    token: &Secret,
    sharding: Sharding,
) -> Result<(), String> {
    let started_at = tokio::time::Instant::now();
    let stop = shutdown_signal()?;
    tokio::pin!(stop);
    let base = config.discord.api_base.as_str();
    let for_scheduler = service.clone();
    let gateway_metrics = Arc::new(GatewayMetrics::default());
    let health = Arc::clone(&gateway_metrics);
    let admin = admin::start(
        config.admin.listen,
        crate::startup::admin("gateway", &service)
            .check("shards", move || std::future::ready(health.shards_check()))
            .metrics(Arc::clone(&gateway_metrics) as Arc<dyn MetricSet>),
    )
    .await?;
    let prepared = tokio::select! {
        prepared = prepare(service, config, token, sharding, Arc::clone(&gateway_metrics)) => Some(prepared),
        signal = &mut stop => {
            tracing::info!(signal, "stopped before connecting");
            None
        }
    };
    let mut client = match prepared {
        Some(Ok(client)) => client,
        stopped_or_failed => {
            if let Some(admin) = admin {
                admin.stop().await;
            }
            return stopped_or_failed.map_or(Ok(()), |failed| failed.map(|_| ()));
        }
    };
    let manager = client.client.shard_manager.clone();
    let http = Arc::clone(&client.client.http);
    let (first, last, total) = client.shards;
    gateway_metrics.expect(first, last, total);
    let wait = sharding.identify_wait();
    if !wait.is_zero() {
        tracing::info!(
            first,
            seconds = wait.as_secs_f64(),
            "waiting for the shards before this slice to identify"
        );
        let waited = tokio::select! {
            () = tokio::time::sleep_until(started_at + wait) => None,
            signal = &mut stop => Some(signal),
        };
        if let Some(signal) = waited {
            tracing::info!(signal, "stopped before connecting");
            if let Some(admin) = admin {
                admin.stop().await;
            }
            return Ok(());
        }
    }
    let observer = {
        let (metrics, manager) = (Arc::clone(&gateway_metrics), manager.clone());
        tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_secs(5));
            loop {
                every.tick().await;
                metrics.observe(&manager).await;
            }
        })
    };
    // serenity's range includes its end here.
    let started = client.client.start_shard_range(first..last, total);
    // The daily posts: one process posts (the one with shard 0); the nonce guards
    // against a second.
    let scheduler = if sharding.runs_first_shard() {
        crate::startup::spawn_scheduler(&for_scheduler, config, http)
    } else {
        tracing::info!("the daily posts are sent by the process that runs shard 0");
        None
    };
    if let (Some(admin), Some(posts)) = (&admin, &scheduler) {
        admin.add_metrics(Arc::clone(&posts.metrics) as Arc<dyn MetricSet>);
    }
    let result = tokio::select! {
        result = started => match result {
            Ok(()) => {
                tracing::info!("the gateway client stopped");
                Ok(())
            }
            Err(e) => Err(describe_gateway(&e, base)),
        },
        signal = &mut stop => {
            tracing::info!(signal, "shutting down the shards");
            if tokio::time::timeout(SHUTDOWN_GRACE, manager.shutdown_all()).await.is_err() {
                tracing::warn!(
                    seconds = SHUTDOWN_GRACE.as_secs(),
                    "the shards did not all close in time; leaving anyway"
                );
            }
            tracing::info!("stopped");
            Ok(())
        }
    };
    if let Some(posts) = scheduler {
        posts.stop(SHUTDOWN_GRACE).await;
    }
    observer.abort();
    if let Some(admin) = admin {
        admin.stop().await;
    }
    result
}

/// A client ready to start, and its shards: `(first, last, total)`.
struct Prepared {
    client: serenity::Client,
    shards: (u32, u32, u32),
}

/// Everything before the shards connect: the token's shape, one call that proves the
/// API answers and takes it, the gateway's address, the development server's
/// commands, the shard count, and the client.
async fn prepare(
    service: Service,
    config: &Config,
    token: &Secret,
    sharding: Sharding,
    metrics: Arc<GatewayMetrics>,
) -> Result<Prepared, String> {
    let base = config.discord.api_base.as_str();
    rest::check_token_shape(token.expose())?;
    let http = rest::client(base, token)?;
    let me = rest::check_login(&http, base).await?;
    tracing::info!(
        bot = %me.name,
        id = %me.id,
        api = base,
        rate_limiter = if rest::through_proxy(base) { "the proxy's" } else { "serenity's" },
        "Discord accepted the token"
    );
    // serenity asks for the websocket address itself, but falls back to Discord's own
    // if that fails: with another API base, that would be the wrong Discord.
    let gateway = http
        .get_gateway()
        .await
        .map_err(|e| rest::describe(&e, base, "GET /api/v10/gateway"))?;
    tracing::debug!(url = %gateway.url, "gateway address");

    if let (Some(guild), true) = (config.discord.dev_guild, sharding.runs_first_shard()) {
        // A development convenience: a failure is logged, and the bot serves anyway.
        match register::register(&http, base, Scope::Guild(guild)).await {
            Ok(names) => tracing::info!(
                guild,
                commands = names.len(),
                "commands registered for the development server"
            ),
            Err(e) => tracing::error!(
                guild,
                error = %e,
                "could not register the commands for the development server"
            ),
        }
    }

    let shards = match sharding {
        Sharding::Auto => {
            let bot = http
                .get_bot_gateway()
                .await
                .map_err(|e| rest::describe(&e, base, "GET /api/v10/gateway/bot"))?;
            let total = bot.shards.max(1);
            tracing::info!(
                shards = total,
                session_starts_left = bot.session_start_limit.remaining,
                "running every shard Discord recommends"
            );
            (0, total - 1, total)
        }
        Sharding::Range { first, last, total } => {
            tracing::info!(first, last, total, "running a slice of the shards");
            (first, last, total)
        }
    };

    let handler = Handler {
        service: Arc::new(service),
        total_shards: shards.2,
        metrics: Arc::clone(&metrics),
    };
    let client = ClientBuilder::new_with_http(http, INTENTS)
        .event_handler(handler)
        .raw_event_handler(EventCounter { metrics })
        .await
        .map_err(|e| format!("cannot set up the gateway client: {e}"))?;
    Ok(Prepared { client, shards })
}

/// How long Discord waits for an interaction's first answer.
pub const ANSWER_WINDOW: Duration = Duration::from_secs(3);

/// The most one attempt at the callback may take, so that a hung one leaves time to
/// try again within [`ANSWER_WINDOW`].
pub const CALLBACK_ATTEMPT: Duration = Duration::from_millis(1200);

/// The pause before trying the callback again: Discord's own hiccups pass in
/// milliseconds.
const CALLBACK_RETRY_PAUSE: Duration = Duration::from_millis(150);

/// Discord's error code for a callback to an interaction already answered.
const ALREADY_ACKNOWLEDGED: isize = 40060;

/// Sends an interaction's answer through its callback
/// (`POST /interactions/{id}/{token}/callback`), within Discord's window counted from
/// `received`. A failure that may pass (5xx, 429, a timeout or a lost connection) is
/// tried again while the window leaves room; that is safe because a callback can only
/// succeed once: when an earlier attempt did reach Discord, the next is refused as
/// "already acknowledged" (40060), which counts as sent. Anything else (400, 401, 404:
/// the token expired or the interaction is unknown) is not retried. Each failed
/// attempt is logged.
pub async fn send_answer(
    http: &serenity::http::Http,
    id: serenity::all::InteractionId,
    token: &str,
    reply: &karabakh_core::reply::Reply,
    png: Option<&[u8]>,
    received: Instant,
) -> Result<(), String> {
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        let left = ANSWER_WINDOW.saturating_sub(received.elapsed());
        let sent = tokio::time::timeout(
            left.min(CALLBACK_ATTEMPT),
            render::response(reply, png).execute(http, (id, token)),
        )
        .await;
        let (error, may_pass) = match sent {
            Ok(Ok(())) => return Ok(()),
            Ok(Err(serenity::Error::Http(serenity::http::HttpError::UnsuccessfulRequest(r))))
                if r.status_code.as_u16() == 400 && r.error.code == ALREADY_ACKNOWLEDGED =>
            {
                tracing::debug!(
                    attempt,
                    "the answer had reached Discord on an earlier attempt"
                );
                return Ok(());
            }
            Ok(Err(e)) => {
                let may_pass = match &e {
                    serenity::Error::Http(serenity::http::HttpError::UnsuccessfulRequest(r)) => {
                        r.status_code.is_server_error() || r.status_code.as_u16() == 429
                    }
                    serenity::Error::Http(serenity::http::HttpError::Request(r)) => {
                        r.is_timeout() || r.is_connect() || r.is_request()
                    }
                    _ => false,
                };
                (e.to_string(), may_pass)
            }
            Err(_) => ("no answer from Discord in time".to_owned(), true),
        };
        let left = ANSWER_WINDOW.saturating_sub(received.elapsed());
        if !may_pass || left <= CALLBACK_RETRY_PAUSE * 2 {
            return Err(format!("{error} (attempt {attempt})"));
        }
        tracing::warn!(attempt, error, "the answer could not be sent; trying again");
        tokio::time::sleep(CALLBACK_RETRY_PAUSE).await;
    }
}

/// One sentence for an error that ended the gateway client.
fn describe_gateway(e: &serenity::Error, base: &str) -> String {
    match e {
        serenity::Error::Gateway(GatewayError::InvalidAuthentication) => {
            "Discord rejected the token (the gateway closed the connection with 4004, \
             authentication failed): check DISCORD_TOKEN, or reset the token in the \
             Developer Portal"
                .to_owned()
        }
        serenity::Error::Gateway(
            GatewayError::InvalidGatewayIntents | GatewayError::DisallowedGatewayIntents,
        ) => format!("the gateway refused the bot's intents: {e}"),
        serenity::Error::Gateway(g) => format!("the gateway connection failed: {g}"),
        serenity::Error::Http(_) | serenity::Error::Json(_) => {
            rest::describe(e, base, "GET /api/v10/gateway/bot")
        }
        other => format!("the gateway client stopped: {other}"),
    }
}

/// Listens for SIGINT and SIGTERM from now on; the future names the first to come.
pub fn shutdown_signal() -> Result<impl std::future::Future<Output = &'static str>, String> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate())
            .map_err(|e| format!("cannot listen for SIGTERM: {e}"))?;
        let mut int = signal(SignalKind::interrupt())
            .map_err(|e| format!("cannot listen for SIGINT: {e}"))?;
        Ok(async move {
            tokio::select! {
                _ = term.recv() => "SIGTERM",
                _ = int.recv() => "SIGINT",
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
            "Ctrl-C"
        })
    }
}

struct Handler {
    service: Arc<Service>,
    total_shards: u32,
    metrics: Arc<GatewayMetrics>,
}

/// Counts every event the gateway sends, by type.
struct EventCounter {
    metrics: Arc<GatewayMetrics>,
}

#[async_trait]
impl RawEventHandler for EventCounter {
    async fn raw_event(&self, _ctx: Context, event: Event) {
        let name = event.name().unwrap_or_else(|| "UNKNOWN".to_owned());
        self.metrics.events.get_or_create(&[("event", name)]).inc();
    }
}

#[async_trait]
impl EventHandler for Handler {
    async fn shard_stage_update(&self, _ctx: Context, event: ShardStageUpdateEvent) {
        self.metrics
            .set_connected(event.shard_id.0, event.new == ConnectionStage::Connected);
    }

    async fn ready(&self, ctx: Context, ready: Ready) {
        self.metrics.set_connected(ctx.shard_id.0, true);
        tracing::info!(
            shard = ctx.shard_id.0,
            shards = self.total_shards,
            bot = %ready.user.name,
            guilds = ready.guilds.len(),
            "connected to the gateway"
        );
    }

    async fn interaction_create(&self, ctx: Context, interaction: Interaction) {
        let started = Instant::now();
        let id = interaction.id();
        let token = interaction.token().to_owned();
        let guild = match &interaction {
            Interaction::Command(c) | Interaction::Autocomplete(c) => c.guild_id,
            Interaction::Component(c) => c.guild_id,
            _ => None,
        }
        .map(|g| g.get());
        let Some(request) = interaction::request(&interaction, jiff::Timestamp::now()) else {
            tracing::debug!(kind = ?interaction.kind(), "ignored an interaction the bot does not answer");
            return;
        };
        let (kind, command) = (request.kind(), request.spec().map(|s| s.name));
        let service = Arc::clone(&self.service);
        // Its own task, so that a panic (a bug) is answered with the failure reply; the
        // settings database is given its budget (`Service::answer`).
        let mut handled = match tokio::spawn(async move { service.answer(request).await }).await {
            Ok(handled) => handled,
            Err(e) => {
                tracing::error!(error = %e, kind = kind.label(), "answering an interaction failed");
                Handled {
                    reply: self.service.core.failure(),
                    command,
                    kind,
                    resolution: Resolution::Failed,
                }
            }
        };
        self.metrics.interactions.handled(&handled);
        let picture = self.service.picture(&mut handled.reply).await;
        let answered = started.elapsed();
        let sent = send_answer(
            &ctx.http,
            id,
            &token,
            &handled.reply,
            picture.as_deref().map(|c| c.png.as_slice()),
            started,
        )
        .await;
        metrics::observe(&self.metrics.answer, started.elapsed());
        if sent.is_err() {
            self.metrics.responses_failed.inc();
        }
        let total_ms = started.elapsed().as_secs_f64() * 1000.0;
        match sent {
            Ok(()) if kind == RequestKind::Autocomplete => tracing::debug!(
                command = handled.command_label(),
                guild,
                answer_us = answered.as_micros() as u64,
                total_ms,
                "autocomplete answered"
            ),
            Ok(()) => tracing::info!(
                kind = kind.label(),
                command = handled.command_label(),
                outcome = handled.resolution.label(),
                guild,
                answer_us = answered.as_micros() as u64,
                total_ms,
                "interaction answered"
            ),
            Err(e) => tracing::warn!(
                kind = kind.label(),
                command = handled.command_label(),
                guild,
                error = %e,
                total_ms,
                "could not send the answer"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_slices_are_checked() {
        assert_eq!(Sharding::from_cli(None, None), Ok(Sharding::Auto));
        assert_eq!(
            Sharding::from_cli(Some((2, 3)), Some(4)),
            Ok(Sharding::Range {
                first: 2,
                last: 3,
                total: 4
            })
        );
        assert!(
            Sharding::from_cli(Some((2, 4)), Some(4))
                .unwrap_err()
                .contains("shards are 0-3")
        );
        assert!(Sharding::from_cli(Some((0, 0)), Some(0)).is_err());
        assert!(Sharding::from_cli(Some((3, 2)), Some(4)).is_err());
        assert!(Sharding::from_cli(Some((0, 1)), None).is_err());
    }

    #[test]
    fn a_slice_waits_for_the_shards_before_it_one_slot_each() {
        let slice = |first, last| Sharding::Range {
            first,
            last,
            total: 8,
        };
        assert_eq!(Sharding::Auto.identify_wait(), Duration::ZERO);
        assert_eq!(slice(0, 3).identify_wait(), Duration::ZERO);
        assert_eq!(slice(4, 7).identify_wait(), IDENTIFY_SLOT * 4);
        // Whatever the slices, no two shards share a slot: shard s identifies at slot s
        // (its process waits `first` slots, then serenity starts one per slot).
        assert!(IDENTIFY_SLOT > Duration::from_secs(5));
    }

    #[test]
    fn the_shards_check_passes_once_every_shard_of_the_slice_is_connected() {
        let m = GatewayMetrics::default();
        assert!(m.shards_check().unwrap_err().contains("starting"));
        m.expect(2, 3, 4);
        assert_eq!(
            m.shards_check().unwrap_err(),
            "0 of the 2 shards 2-3 (of 4) connected"
        );
        m.set_connected(2, true);
        assert!(m.shards_check().is_err());
        m.set_connected(3, true);
        let ok = m.shards_check().unwrap();
        assert_eq!(ok["connected"], 2);
        assert_eq!(ok["shards"], "2-3");
        let text = m.render();
        assert_eq!(
            metrics::sample(&text, r#"kr_gateway_shard_connected{shard="3"}"#),
            Some(1.0),
            "{text}"
        );
        m.set_connected(3, false);
        assert!(m.shards_check().is_err());
    }

    #[test]
    fn only_the_process_with_shard_zero_registers_at_start() {
        assert!(Sharding::Auto.runs_first_shard());
        let slice = |first, last| Sharding::Range {
            first,
            last,
            total: 4,
        };
        assert!(slice(0, 1).runs_first_shard());
        assert!(!slice(2, 3).runs_first_shard());
    }
}
