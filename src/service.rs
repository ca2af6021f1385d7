//! What every transport does with a request, apart from moving bytes: load the
//! server's settings into it, ask the core, make the requested change durable, and
//! hand back the reply. The gateway, the HTTP endpoint and the tests all call
//! [`Service::handle`], so they always answer alike. It takes the core's own
//! [`Request`]: turning an interaction into one is the Discord edge's job
//! ([`crate::discord::interaction`]).

use std::sync::Arc;
use std::time::Duration;

use karabakh_chart::Chart;
use karabakh_core::commands::{Core, Effect, Request, RequestKind, Resolution};
use karabakh_core::reply::Reply;
use karabakh_site::charts::{self, ChartCache};
use karabakh_store::{Store, StoreError};

use crate::settings_cache::{self, SettingsCache};

/// How many audit records `/config show` lists.
pub const AUDIT_SHOWN: usize = 10;

/// How long a request waits for the settings database before it is answered without
/// it: well inside the server's deadline (2.5 s) and Discord's 3 s.
pub const STORE_BUDGET: Duration = Duration::from_millis(1500);

/// The core, the drawn charts, and, when the bot has a database, the settings store.
#[derive(Clone)]
pub struct Service {
    pub core: Arc<Core>,
    pub store: Option<Arc<dyn Store>>,
    /// The settings read by commands, kept in memory a few seconds
    /// ([`settings_cache`]); `None` without a store.
    pub settings: Option<Arc<SettingsCache>>,
    /// Charts already drawn, by cache key: shared by every transport (and the site).
    pub charts: Arc<ChartCache>,
}

/// A handled request: the reply, and what it was, for logs and metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handled {
    pub reply: Reply,
    /// The command (or the command behind a button), by its name in the table; `None`
    /// for a name the table does not have.
    pub command: Option<&'static str>,
    pub kind: RequestKind,
    pub resolution: Resolution,
}

impl Handled {
    /// The command's name for logs and metrics: "unknown" when it is not in the table.
    pub fn command_label(&self) -> &'static str {
        self.command.unwrap_or("unknown")
    }
}

impl Service {
    pub fn new(core: Arc<Core>, store: Option<Arc<dyn Store>>) -> Self {
        Self::with_settings_ttl(core, store, settings_cache::TTL)
    }

    /// [`Service::new`] with cached settings kept at most `ttl`.
    pub fn with_settings_ttl(
        core: Arc<Core>,
        store: Option<Arc<dyn Store>>,
        ttl: std::time::Duration,
    ) -> Self {
        Self {
            core,
            settings: store
                .as_ref()
                .map(|s| Arc::new(SettingsCache::new(Arc::clone(s), ttl))),
            store,
            charts: Arc::new(ChartCache::default()),
        }
    }

    /// The picture a reply attaches: the chart of its message, from the cache or
    /// drawn on the blocking pool (a few milliseconds of CPU work that must not hold
    /// an async worker). `reply` is the reply to send: when the chart cannot be drawn
    /// (never expected), it loses its chart, and the error is logged.
    pub async fn picture(&self, reply: &mut Reply) -> Option<Arc<Chart>> {
        let spec = match reply {
            Reply::Message(m) | Reply::Update(m) => m.chart.as_ref()?.spec.clone(),
            Reply::Choices(_) => return None,
        };
        if let Some(chart) = self.charts.cached(charts::key(&spec)) {
            return Some(chart);
        }
        let cache = Arc::clone(&self.charts);
        let drawn = tokio::task::spawn_blocking(move || cache.render(&spec)).await;
        match drawn {
            Ok(Ok(chart)) => Some(chart),
            Ok(Err(error)) => {
                tracing::error!(%error, "a chart could not be drawn; the answer goes without it");
                drop_chart(reply);
                None
            }
            Err(error) => {
                tracing::error!(%error, "drawing a chart failed; the answer goes without it");
                drop_chart(reply);
                None
            }
        }
    }

    /// [`Service::picture`] for callers that are not async (the console, `ask`).
    pub fn picture_blocking(&self, reply: &mut Reply) -> Option<Arc<Chart>> {
        let spec = match reply {
            Reply::Message(m) | Reply::Update(m) => m.chart.as_ref()?.spec.clone(),
            Reply::Choices(_) => return None,
        };
        match self.charts.get(&spec) {
            Ok(chart) => Some(chart),
            Err(error) => {
                tracing::error!(%error, "a chart could not be drawn; the answer goes without it");
                drop_chart(reply);
                None
            }
        }
    }

    /// Handles one request: the store's reads and writes are awaited, never blocking
    /// the worker.
    pub async fn handle(&self, mut request: Request) -> Handled {
        match self.load_settings(&mut request).await {
            Ok(()) => self.handle_loaded(request).await,
            Err(failed) => *failed,
        }
    }

    /// Puts the server's settings (and, for commands that show it, its audit trail)
    /// into the request's context. When they cannot be read, a request that needs them
    /// ([`needs_settings`]) gets the answer to give instead; any other goes on with the
    /// defaults, and a log line.
    pub async fn load_settings(&self, request: &mut Request) -> Result<(), Box<Handled>> {
        let Err(e) = self.load(request).await else {
            return Ok(());
        };
        let command = request.spec().map(|s| s.name);
        if needs_settings(request) {
            tracing::error!(error = %e, command, "could not read the server's settings");
            return Err(Box::new(Handled {
                reply: self.core.settings_unavailable(),
                command,
                kind: request.kind(),
                resolution: Resolution::Failed,
            }));
        }
        // The answer does not depend on the settings but for its visibility: answered
        // with the defaults rather than refused.
        tracing::warn!(error = %e, command, "could not read the server's settings; answering with the defaults");
        Ok(())
    }

    /// [`Service::load_settings`] within [`STORE_BUDGET`]: past it, the request goes on
    /// with the defaults, or gets the sentence [`Service::answer`] gives when it needs
    /// the settings.
    pub async fn load_settings_in_time(&self, request: &mut Request) -> Result<(), Box<Handled>> {
        if self.store.is_none() {
            return Ok(());
        }
        match tokio::time::timeout(STORE_BUDGET, self.load_settings(request)).await {
            Ok(loaded) => loaded,
            Err(_) => {
                let command = request.spec().map(|s| s.name);
                tracing::warn!(
                    command,
                    budget_ms = STORE_BUDGET.as_millis() as u64,
                    "the settings database did not answer in time"
                );
                if !needs_settings(request) {
                    return Ok(());
                }
                let reply = if request.may_write() {
                    self.core.settings_unconfirmed()
                } else {
                    self.core.settings_unavailable()
                };
                Err(Box::new(Handled {
                    reply,
                    command,
                    kind: request.kind(),
                    resolution: Resolution::Failed,
                }))
            }
        }
    }

    /// Handles a request whose settings [`Service::load_settings`] has put in: asks the
    /// core and makes the requested change durable.
    pub async fn handle_loaded(&self, request: Request) -> Handled {
        let kind = request.kind();
        let command = request.spec().map(|s| s.name);
        let failed = |core: &Core| Handled {
            reply: core.failure(),
            command,
            kind,
            resolution: Resolution::Failed,
        };
        let response = self.core.respond(&request);
        let now = request.context().now;
        if let Some(Effect::Apply {
            guild_id,
            user_id,
            change,
        }) = &response.effect
        {
            let saved = match &self.store {
                Some(store) => store
                    .apply(*guild_id, change.clone(), *user_id, now)
                    .await
                    .map(|settings| {
                        if let Some(cache) = &self.settings {
                            cache.put(*guild_id, settings);
                        }
                    }),
                None => Err(StoreError::Schedule {
                    guild_id: *guild_id,
                    reason: "the bot runs without a database".to_owned(),
                }),
            };
            if let Err(e) = saved {
                if let StoreError::Unconfirmed { .. } = e {
                    // Made in full or not at all: the moderator is told to look, not
                    // that nothing changed.
                    tracing::error!(error = %e, guild_id, command, "a settings change was not confirmed");
                    return Handled {
                        reply: self.core.settings_unconfirmed(),
                        command,
                        kind,
                        resolution: Resolution::Failed,
                    };
                }
                tracing::error!(error = %e, guild_id, command, "could not save a settings change");
                return failed(&self.core);
            }
            tracing::info!(guild_id, user_id, command, change = ?change, "settings changed");
        }
        Handled {
            resolution: response.resolution(),
            reply: response.reply,
            command,
            kind,
        }
    }

    /// Answers `request` as [`Service::handle`] does, within [`STORE_BUDGET`] when there
    /// is a store (which may wait for a lock or the disk). Past it, the request is
    /// answered without the store: a request that does not need the settings
    /// ([`needs_settings`]) with the defaults, `/config show` with a sentence saying
    /// the settings are out of reach, a change with one saying it is not confirmed
    /// (the store makes a change whole or not at all, whenever it gets to it).
    pub async fn answer(&self, request: Request) -> Handled {
        if self.store.is_none() {
            return self.handle(request).await;
        }
        let (kind, command) = (request.kind(), request.spec().map(|s| s.name));
        let fallback = request.clone();
        match tokio::time::timeout(STORE_BUDGET, self.handle(request)).await {
            Ok(handled) => handled,
            Err(_) => {
                tracing::warn!(
                    command,
                    budget_ms = STORE_BUDGET.as_millis() as u64,
                    "the settings database did not answer in time"
                );
                if needs_settings(&fallback) {
                    let reply = if fallback.may_write() {
                        self.core.settings_unconfirmed()
                    } else {
                        self.core.settings_unavailable()
                    };
                    return Handled {
                        reply,
                        command,
                        kind,
                        resolution: Resolution::Failed,
                    };
                }
                let response = self.core.respond(&fallback);
                Handled {
                    resolution: response.resolution(),
                    reply: response.reply,
                    command,
                    kind,
                }
            }
        }
    }

    /// Puts the server's settings (and, for commands that show it, its audit trail)
    /// into the request's context. Autocomplete reads nothing: no suggestion depends
    /// on a server's settings, and it is asked for on every keystroke. A command that
    /// may change the settings, or shows them with their audit trail (`/config`),
    /// reads them from the store; every other reads the cache.
    async fn load(&self, request: &mut Request) -> Result<(), StoreError> {
        let (Some(store), Some(guild)) = (&self.store, request.context().guild_id) else {
            return Ok(());
        };
        if request.kind() == RequestKind::Autocomplete {
            return Ok(());
        }
        let needs_audit = request.spec().is_some_and(|s| s.needs_audit);
        let settings = match &self.settings {
            Some(cache) if !needs_audit && !request.may_write() => cache.get(guild).await?,
            _ => store.guild_settings(guild).await?,
        };
        let audit = if needs_audit {
            store.audit_trail(guild, AUDIT_SHOWN).await?
        } else {
            Vec::new()
        };
        let context = request.context_mut();
        context.settings = settings;
        context.audit = audit;
        Ok(())
    }
}

/// Whether a request cannot be answered without the server's settings: it may change
/// them, or shows them (its audit trail). Any other is answered with the defaults when
/// the settings are out of reach.
fn needs_settings(request: &Request) -> bool {
    request.may_write() || request.spec().is_some_and(|s| s.needs_audit)
}

fn drop_chart(reply: &mut Reply) {
    if let Reply::Message(m) | Reply::Update(m) = reply {
        m.drop_chart();
    }
}
