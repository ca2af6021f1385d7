//! Start-up shared by every way the bot runs: configuration, logs, the dataset, the
//! store, and the service the transports use. Each step fails with one sentence that
//! names what is wrong.

use std::path::Path;
use std::sync::Arc;

use crate::commands::Core;
use crate::config::{self, Config, Loaded};
use crate::dataset::{self, Dataset};
use crate::service::Service;
use crate::store::{SettingsStore, SqliteStore};

/// Reads the configuration: defaults, then the file (`--config PATH`, or
/// `config/bot.toml` if it exists), then the environment.
pub fn load_config(explicit: Option<&Path>) -> Result<Loaded, String> {
    config::load(explicit, &config::process_env).map_err(|e| e.to_string())
}

/// Structured logs on standard error, at the configured level (`KR_LOG` or
/// `log.level`, e.g. `info` or `karabakh_reactions=debug,serenity=warn`).
pub fn init_logging(level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(config::DEFAULT_LOG_LEVEL));
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

/// Opens (or creates, and migrates) the settings database the config names.
pub fn open_store(config: &Config) -> Result<Arc<dyn SettingsStore>, String> {
    let store = SqliteStore::open(&config.database.path).map_err(|e| e.to_string())?;
    let schema = store.schema_version().map_err(|e| e.to_string())?;
    tracing::info!(path = %config.database.path.display(), schema, "settings database ready");
    Ok(Arc::new(store))
}

/// The core on the chosen dataset and the store: what the transports serve.
pub fn service(data: Option<&Path>, config: &Config) -> Result<Service, String> {
    let core = Core::new(load_dataset(data)?);
    tracing::info!(
        version = %core.data().version,
        statements = core.data().statements.len(),
        "dataset loaded"
    );
    Ok(Service::new(Arc::new(core), Some(open_store(config)?)))
}
