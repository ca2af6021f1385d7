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

use std::sync::Arc;
use std::time::{Duration, Instant};

use serenity::all::{
    Builder, ClientBuilder, Context, EventHandler, GatewayError, GatewayIntents, Interaction, Ready,
};
use serenity::async_trait;

use crate::discord::register::{self, Scope};
use karabakh_core::commands::RequestKind;

use crate::discord::{interaction, render, rest};
use crate::operator::{Config, Secret};
use crate::service::Service;

/// No intents at all: interactions reach a bot whatever its intents, and it reads
/// nothing else (no messages, no members, no presences; nothing privileged).
pub const INTENTS: GatewayIntents = GatewayIntents::empty();

/// How long the shards get to close their connections after a signal.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

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
    let stop = shutdown_signal()?;
    tokio::pin!(stop);
    let base = config.discord.api_base.as_str();
    let for_scheduler = service.clone();
    let mut client = tokio::select! {
        prepared = prepare(service, config, token, sharding) => prepared?,
        signal = &mut stop => {
            tracing::info!(signal, "stopped before connecting");
            return Ok(());
        }
    };
    let manager = client.client.shard_manager.clone();
    let http = Arc::clone(&client.client.http);
    let (first, last, total) = client.shards;
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
    };
    let client = ClientBuilder::new_with_http(http, INTENTS)
        .event_handler(handler)
        .await
        .map_err(|e| format!("cannot set up the gateway client: {e}"))?;
    Ok(Prepared { client, shards })
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
}

#[async_trait]
impl EventHandler for Handler {
    async fn ready(&self, ctx: Context, ready: Ready) {
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
        let kind = request.kind();
        // On the blocking pool when there is a settings database, within its budget.
        let mut handled = self.service.answer(request).await;
        let picture = self.service.picture(&mut handled.reply).await;
        let answered = started.elapsed();
        let sent = render::response(&handled.reply, picture.as_deref().map(|c| c.png.as_slice()))
            .execute(&ctx.http, (id, &token))
            .await;
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
