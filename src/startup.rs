//! Start-up shared by every way the bot runs: configuration, logs, the dataset, the
//! store, and the service the transports use. Each step fails with one sentence that
//! names what is wrong.

use std::path::Path;
use std::sync::Arc;

use crate::admin::Admin;
use crate::discord::rest;
use crate::metrics::SchedulerMetrics;
use crate::operator::{self, Config, Loaded};
use crate::service::Service;
use karabakh_core::commands::{Core, CoreConfig};
use karabakh_core::dataset::{self, Dataset};
use karabakh_store::Store;

/// Reads the configuration: defaults, then the file (`--config PATH`, or
/// `config/bot.toml` if it exists), then the environment.
pub fn load_config(explicit: Option<&Path>) -> Result<Loaded, String> {
    operator::load(explicit, &operator::process_env).map_err(|e| e.to_string())
}

/// Structured logs on standard error, at the configured level (`KR_LOG` or
/// `log.level`, e.g. `info` or `karabakh_reactions=debug,serenity=warn`).
pub fn init_logging(level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(operator::DEFAULT_LOG_LEVEL));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(true)
        .try_init();
}

/// The embedded dataset, or the one at `path`.
pub fn load_dataset(path: Option<&Path>) -> Result<Dataset, String> {
    match path {
        None => dataset::embedded().map_err(|e| e.to_string()),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            dataset::parse(&text, &path.display().to_string()).map_err(|e| e.to_string())
        }
    }
}

/// Opens (or creates, and migrates) the settings database the config names:
/// PostgreSQL when `database.url` (or `KR_DATABASE_URL` / `DATABASE_URL`) is set, else
/// the SQLite file at `database.path`.
pub async fn open_store(config: &Config) -> Result<Arc<dyn Store>, String> {
    let database = config.database.database();
    let store = karabakh_store::open(&database)
        .await
        .map_err(|e| e.to_string())?;
    let schema = store.schema_version().await.map_err(|e| e.to_string())?;
    tracing::info!(database = %store.describe(), schema, "settings database ready");
    Ok(store)
}

/// The core as every transport runs it: charts in its answers (their text
/// alternatives written by the drawing code), and link buttons to the public site
/// when the operator set its address.
pub fn core(data: Dataset, public_url: Option<&str>) -> Core {
    Core::with_config(
        data,
        CoreConfig {
            public_url: public_url.map(str::to_owned),
            chart_text: Some(karabakh_site::charts::alt_text),
        },
    )
}

/// The core on the chosen dataset and the store: what the transports serve.
pub async fn service(data: Option<&Path>, config: &Config) -> Result<Service, String> {
    let core = core(load_dataset(data)?, config.site.public_url.as_deref());
    tracing::info!(
        version = %core.data().version,
        statements = core.data().statements.len(),
        "dataset loaded"
    );
    Ok(Service::new(
        Arc::new(core),
        Some(open_store(config).await?),
    ))
}

/// The admin view every role with the service starts from: the checks that the
/// dataset is loaded and that the settings store answers (a cheap read, on the
/// blocking pool). A role adds its own checks and metric sets, then calls
/// [`admin::start`].
pub fn admin(role: &'static str, service: &Service) -> Admin {
    let data = service.core.data();
    let dataset = serde_json::json!({
        "version": data.version.to_string(),
        "statements": data.statements.len(),
    });
    let admin = Admin::new(role).check("dataset", move || std::future::ready(Ok(dataset.clone())));
    let Some(store) = service.store.clone() else {
        return admin;
    };
    admin.check("store", move || {
        let store = Arc::clone(&store);
        async move {
            match store.next_due_at().await {
                Ok(_) => Ok(serde_json::Value::Null),
                Err(e) => Err(format!("the settings store did not answer: {e}")),
            }
        }
    })
}

/// The daily posts' scheduler, running: [`DailyPosts::stop`] ends it.
pub struct DailyPosts {
    /// What became of the posts: add it to the role's admin view.
    pub metrics: Arc<SchedulerMetrics>,
    stop: tokio::sync::watch::Sender<bool>,
    handle: tokio::task::JoinHandle<()>,
}

impl DailyPosts {
    /// Asks the scheduler to stop and waits for it (a tick in flight finishes), at most
    /// `grace`.
    pub async fn stop(self, grace: std::time::Duration) {
        let _ = self.stop.send(true);
        if tokio::time::timeout(grace, self.handle).await.is_err() {
            tracing::warn!("the scheduler did not stop in time; leaving anyway");
        }
    }
}

/// Starts the daily posts' scheduler on `service`'s store, posting through `http`: the
/// bot's one REST client ([`rest::client`] for `config.discord.api_base`; the gateway
/// passes its own, so that both share serenity's rate limiter), when
/// `schedule.enabled` says this process posts. `None` (logged) when it does not, or
/// the bot has no database.
pub fn spawn_scheduler(
    service: &Service,
    config: &Config,
    http: Arc<serenity::http::Http>,
) -> Option<DailyPosts> {
    if !config.schedule.enabled {
        tracing::info!(
            "schedule.enabled is false: this process sends no daily posts (a `schedule` process does)"
        );
        return None;
    }
    start_scheduler(service, config, http)
}

/// The scheduler role itself, whatever `schedule.enabled` says (the `schedule`
/// subcommand runs nothing else). `None` (logged) when the bot has no database.
pub fn start_scheduler(
    service: &Service,
    config: &Config,
    http: Arc<serenity::http::Http>,
) -> Option<DailyPosts> {
    use crate::scheduler::{self, Scheduler};

    let Some(store) = service.store.clone() else {
        tracing::info!("no settings database: the daily posts are off");
        return None;
    };
    let poster = rest::ChannelPoster::new(http, &config.discord.api_base);
    // Woken by every change the store reports: this process's `/config` at once, and
    // (PostgreSQL) other processes' too.
    let wake = scheduler::wake_on_changes(store.as_ref());
    let metrics = Arc::new(SchedulerMetrics::default());
    let scheduler = Scheduler::new(store, Arc::clone(&service.core), poster)
        .with_requests_per_second(config.schedule.requests_per_second)
        .with_metrics(Arc::clone(&metrics));
    let poll = std::time::Duration::from_secs(config.schedule.poll_seconds.max(1));
    let (stop, stopped) = tokio::sync::watch::channel(false);
    Some(DailyPosts {
        metrics,
        stop,
        handle: scheduler::spawn(Arc::new(scheduler), poll, wake, stopped),
    })
}
