//! The operator's configuration: where the database is, which Discord API to talk to,
//! where to listen, how much to log, how often to look for posts due.
//!
//! Three layers, each over the one before: the built-in defaults
//! ([`Config::default`]), then a TOML file (`config/bot.toml` if it exists, or the
//! file named by `--config PATH`, which must exist), then environment variables
//! ([`ENV_VARS`]). `config/bot.example.toml` documents every key with its default.
//!
//! Secrets (the bot token, the application's public key) never come from the file:
//! only from `DISCORD_TOKEN` / `DISCORD_PUBLIC_KEY`, or from a file named by
//! `DISCORD_TOKEN_FILE` / `DISCORD_PUBLIC_KEY_FILE`. They print as `[redacted]` and
//! no error message carries them.
//!
//! A file with an unknown key or a bad value is refused with the key and the reason.
//! An environment variable set to the empty string counts as unset.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The file read when no `--config PATH` is given, if it exists.
pub const DEFAULT_PATH: &str = "config/bot.toml";

/// The database file when none is configured. Relative paths are taken from the
/// working directory. Kept apart from `data/`, which holds the committed dataset.
pub const DEFAULT_DATABASE: &str = "state/karabakh-reactions.sqlite3";
pub const DEFAULT_API_BASE: &str = "https://discord.com";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_LOG_LEVEL: &str = "info";
pub const DEFAULT_POLL_SECONDS: u64 = 60;
/// The scheduler's requests a second to Discord when none is configured.
pub const DEFAULT_REQUESTS_PER_SECOND: u32 = crate::scheduler::DEFAULT_REQUESTS_PER_SECOND;
/// Discord's global limit: no process may be set to send more.
pub const MAX_REQUESTS_PER_SECOND: u32 = 50;

/// Every key the file may hold, as `section.key`.
pub const KEYS: &[&str] = &[
    "admin.listen",
    "database.path",
    "database.pool_size",
    "database.url",
    "discord.api_base",
    "discord.dev_guild",
    "http.listen",
    "log.level",
    "schedule.enabled",
    "schedule.poll_seconds",
    "schedule.requests_per_second",
    "site.public_url",
];

/// The environment variable that overrides each key.
pub const ENV_VARS: &[(&str, &str)] = &[
    ("KR_ADMIN_LISTEN", "admin.listen"),
    ("KR_DATABASE", "database.path"),
    ("KR_DATABASE_POOL_SIZE", "database.pool_size"),
    ("KR_DATABASE_URL", "database.url"),
    ("DISCORD_API_BASE", "discord.api_base"),
    ("KR_DEV_GUILD", "discord.dev_guild"),
    ("KR_LISTEN", "http.listen"),
    ("KR_LOG", "log.level"),
    ("KR_SCHEDULE_ENABLED", "schedule.enabled"),
    ("KR_SCHEDULE_POLL_SECONDS", "schedule.poll_seconds"),
    (
        "KR_SCHEDULE_REQUESTS_PER_SECOND",
        "schedule.requests_per_second",
    ),
    ("KR_PUBLIC_URL", "site.public_url"),
];

/// Read for `database.url` when `KR_DATABASE_URL` is not set: the name most tools and
/// hosts use for a PostgreSQL URL.
pub const DATABASE_URL_ALIAS: &str = "DATABASE_URL";

/// The environment variables secrets come from: each value directly, or a file
/// holding it (surrounding whitespace ignored).
pub const SECRET_VARS: &[(&str, &str)] = &[
    ("DISCORD_TOKEN", "DISCORD_TOKEN_FILE"),
    ("DISCORD_PUBLIC_KEY", "DISCORD_PUBLIC_KEY_FILE"),
];

/// The whole configuration, every layer applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub admin: AdminConfig,
    pub database: DatabaseConfig,
    pub discord: DiscordConfig,
    pub http: HttpConfig,
    pub log: LogConfig,
    pub schedule: ScheduleConfig,
    pub site: SiteConfig,
    pub secrets: Secrets,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AdminConfig {
    /// `admin.listen`: the operator's address for `/healthz` and `/metrics` of every
    /// role (`serve`, gateway, scheduler), as IP:PORT, e.g. `127.0.0.1:9100`. Unset
    /// (the default): no admin server. Port 0 picks a free port (printed at start).
    pub listen: Option<SocketAddr>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseConfig {
    /// `database.path`: the SQLite file, created with its folder on first run. Used
    /// when no `database.url` is set.
    pub path: PathBuf,
    /// `database.url`: a PostgreSQL server (`postgres://user[:password]@host[:port]/db`)
    /// shared by any number of the bot's processes, instead of the SQLite file. Its
    /// password is best kept out of the file: `KR_DATABASE_URL` or `DATABASE_URL`.
    pub url: Option<DatabaseUrl>,
    /// `database.pool_size`: the most PostgreSQL connections this process opens (2–100).
    pub pool_size: u32,
}

impl DatabaseConfig {
    /// The database the process uses: PostgreSQL when a URL is set, else SQLite.
    pub fn database(&self) -> karabakh_store::Database {
        match &self.url {
            Some(url) => karabakh_store::Database::Postgres(karabakh_store::PgConfig {
                url: url.expose().to_owned(),
                pool_size: self.pool_size,
                schema: None,
            }),
            None => karabakh_store::Database::Sqlite(self.path.clone()),
        }
    }
}

/// A PostgreSQL URL: `Debug` and `Display` show it without its password.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    /// The URL itself, password included, for the one place that connects.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&karabakh_store::redact(&self.0))
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&karabakh_store::redact(&self.0))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscordConfig {
    /// `discord.api_base`: scheme and host of the REST API (the client adds
    /// `/api/v10/…`), without a trailing slash. `https://`, or `http://` for a
    /// loopback host only (a local test server).
    pub api_base: String,
    /// `discord.dev_guild`: a server whose slash commands are registered at start
    /// (they appear at once there). Unset: none.
    pub dev_guild: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpConfig {
    /// `http.listen`: the address of the HTTP server (interactions endpoint, health).
    pub listen: SocketAddr,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogConfig {
    /// `log.level`: a tracing filter, e.g. `info` or `karabakh_reactions=debug,warn`.
    pub level: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleConfig {
    /// `schedule.enabled`: whether `serve` and the gateway send the daily posts too
    /// (when they have the bot token). Default true. Off in replicas that should only
    /// answer interactions when schedulers run apart (`karabakh-reactions schedule`,
    /// which runs the scheduler whatever this says).
    pub enabled: bool,
    /// `schedule.poll_seconds`: the longest the scheduler sleeps before looking for
    /// posts due again (1–3600). It wakes for the next post due in any case, and at
    /// once for a change made in its own process; this bounds how late it notices a
    /// change made by another process.
    pub poll_seconds: u64,
    /// `schedule.requests_per_second`: the most requests a second this process's
    /// scheduler sends to Discord (1–50). Discord allows a bot 50 a second in all:
    /// with several scheduler processes, keep their sum under that.
    pub requests_per_second: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SiteConfig {
    /// `site.public_url`: where the public site (`serve`'s pages, or a static build)
    /// is reached, `https://host[/path]` without a trailing slash. Set: every answer
    /// links to the page of what it shows, and pages name their canonical address.
    /// Unset (the default): no link buttons.
    pub public_url: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            admin: AdminConfig::default(),
            database: DatabaseConfig {
                url: None,
                pool_size: karabakh_store::DEFAULT_POOL_SIZE,
                path: PathBuf::from(DEFAULT_DATABASE),
            },
            discord: DiscordConfig {
                api_base: DEFAULT_API_BASE.to_owned(),
                dev_guild: None,
            },
            http: HttpConfig {
                listen: DEFAULT_LISTEN.parse().expect("the default address parses"),
            },
            log: LogConfig {
                level: DEFAULT_LOG_LEVEL.to_owned(),
            },
            schedule: ScheduleConfig {
                enabled: true,
                poll_seconds: DEFAULT_POLL_SECONDS,
                requests_per_second: DEFAULT_REQUESTS_PER_SECOND,
            },
            site: SiteConfig::default(),
            secrets: Secrets::default(),
        }
    }
}

/// A value that must not be seen: `Debug` and `Display` print `[redacted]`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// The value itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// The secrets found in the environment. Either may be missing: commands that do not
/// talk to Discord need neither; those that do ask with [`Secrets::token`] and
/// [`Secrets::public_key`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Secrets {
    /// The bot token (`DISCORD_TOKEN` or `DISCORD_TOKEN_FILE`).
    pub token: Option<Secret>,
    /// The application's Ed25519 public key, 64 hex digits (`DISCORD_PUBLIC_KEY` or
    /// `DISCORD_PUBLIC_KEY_FILE`).
    pub public_key: Option<Secret>,
}

impl Secrets {
    /// The token, or an error saying where to put it.
    pub fn token(&self) -> Result<&Secret, ConfigError> {
        self.token.as_ref().ok_or_else(|| missing("DISCORD_TOKEN"))
    }

    /// The public key, or an error saying where to put it.
    pub fn public_key(&self) -> Result<&Secret, ConfigError> {
        self.public_key
            .as_ref()
            .ok_or_else(|| missing("DISCORD_PUBLIC_KEY"))
    }
}

fn missing(var: &str) -> ConfigError {
    ConfigError {
        origin: "environment".to_owned(),
        key: Some(var.to_owned()),
        reason: format!("not set: set {var}, or {var}_FILE to a file that holds it"),
    }
}

/// A configuration that was refused: where (a file, or `environment`), which key or
/// variable, and why. Never holds a secret's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub origin: String,
    pub key: Option<String>,
    pub reason: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.key {
            Some(key) => write!(f, "{}: `{key}`: {}", self.origin, self.reason),
            None => write!(f, "{}: {}", self.origin, self.reason),
        }
    }
}

impl std::error::Error for ConfigError {}

/// A configuration and the file it was read from, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loaded {
    pub config: Config,
    pub file: Option<PathBuf>,
}

/// Reads the real environment; pass it to [`load`] in `main`.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// Loads the configuration: `explicit` (from `--config PATH`) must exist; without
/// it, [`DEFAULT_PATH`] is read if it exists. `env` looks a variable up
/// ([`process_env`] in production, a map in tests).
pub fn load(
    explicit: Option<&Path>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Loaded, ConfigError> {
    let (path, must_exist) = match explicit {
        Some(path) => (path, true),
        None => (Path::new(DEFAULT_PATH), false),
    };
    let shown = path.display().to_string();
    let text = match std::fs::read_to_string(path) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !must_exist => None,
        Err(e) => {
            return Err(ConfigError {
                origin: shown,
                key: None,
                reason: format!("cannot read the config file: {e}"),
            });
        }
    };
    let config = resolve(text.as_deref().map(|t| (shown.as_str(), t)), env)?;
    Ok(Loaded {
        config,
        file: text.map(|_| path.to_owned()),
    })
}

/// Applies the layers: defaults, then `file` (the name shown in messages, and its
/// TOML text) if given, then the environment as `env` reports it.
pub fn resolve(
    file: Option<(&str, &str)>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, ConfigError> {
    let mut config = Config::default();
    if let Some((origin, text)) = file {
        apply_file(&mut config, origin, text)?;
    }
    apply_env(&mut config, env)?;
    config.secrets = secrets(env)?;
    Ok(config)
}

/// The file's shape: every key optional, nothing else allowed.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    admin: Option<FileAdmin>,
    database: Option<FileDatabase>,
    discord: Option<FileDiscord>,
    http: Option<FileHttp>,
    log: Option<FileLog>,
    schedule: Option<FileSchedule>,
    site: Option<FileSite>,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct FileAdmin {
    listen: Option<String>,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct FileDatabase {
    path: Option<String>,
    pool_size: Option<u64>,
    url: Option<String>,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct FileDiscord {
    api_base: Option<String>,
    dev_guild: Option<u64>,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct FileHttp {
    listen: Option<String>,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct FileLog {
    level: Option<String>,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct FileSchedule {
    enabled: Option<bool>,
    poll_seconds: Option<u64>,
    requests_per_second: Option<u64>,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct FileSite {
    public_url: Option<String>,
}

fn apply_file(config: &mut Config, origin: &str, text: &str) -> Result<(), ConfigError> {
    let refuse = |key: Option<&str>, reason: String| ConfigError {
        origin: origin.to_owned(),
        key: key.map(str::to_owned),
        reason,
    };
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        let place = e.span().map_or_else(String::new, |span| {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
            format!(" at line {line}, column {column}")
        });
        refuse(None, format!("not valid TOML{place}: {}", e.message()))
    })?;
    check_keys(&table).map_err(|(key, reason)| refuse(key.as_deref(), reason))?;
    let raw: FileConfig = serde_path_to_error::deserialize(toml::Value::Table(table))
        .map_err(|e| refuse(Some(&e.path().to_string()), e.inner().message().to_owned()))?;

    let bad = |key: &'static str| move |reason: String| refuse(Some(key), reason);
    if let Some(v) = raw.admin.and_then(|a| a.listen) {
        config.admin.listen = Some(check_listen(&v).map_err(bad("admin.listen"))?);
    }
    if let Some(d) = raw.database {
        if let Some(v) = d.path {
            config.database.path = check_path(&v).map_err(bad("database.path"))?;
        }
        if let Some(v) = d.pool_size {
            config.database.pool_size = check_pool_size(v).map_err(bad("database.pool_size"))?;
        }
        if let Some(v) = d.url {
            config.database.url = Some(check_database_url(&v).map_err(bad("database.url"))?);
        }
    }
    if let Some(d) = raw.discord {
        if let Some(v) = d.api_base {
            config.discord.api_base = check_api_base(&v).map_err(bad("discord.api_base"))?;
        }
        if let Some(v) = d.dev_guild {
            config.discord.dev_guild = Some(check_guild(v).map_err(bad("discord.dev_guild"))?);
        }
    }
    if let Some(v) = raw.http.and_then(|h| h.listen) {
        config.http.listen = check_listen(&v).map_err(bad("http.listen"))?;
    }
    if let Some(v) = raw.log.and_then(|l| l.level) {
        config.log.level = check_level(&v).map_err(bad("log.level"))?;
    }
    if let Some(s) = raw.schedule {
        if let Some(v) = s.enabled {
            config.schedule.enabled = v;
        }
        if let Some(v) = s.poll_seconds {
            config.schedule.poll_seconds = check_poll(v).map_err(bad("schedule.poll_seconds"))?;
        }
        if let Some(v) = s.requests_per_second {
            config.schedule.requests_per_second =
                check_rate(v).map_err(bad("schedule.requests_per_second"))?;
        }
    }
    if let Some(v) = raw.site.and_then(|s| s.public_url) {
        config.site.public_url = Some(check_public_url(&v).map_err(bad("site.public_url"))?);
    }
    Ok(())
}

/// Refuses keys the file may not hold, naming them and the keys it may. (serde's
/// `deny_unknown_fields` would too, but names neither the full key nor the rest.)
fn check_keys(table: &toml::Table) -> Result<(), (Option<String>, String)> {
    let known = || KEYS.join(", ");
    for (section, value) in table {
        if !KEYS
            .iter()
            .any(|k| k.split_once('.').is_some_and(|(s, _)| s == section))
        {
            return Err((None, unknown(section, &known())));
        }
        let Some(keys) = value.as_table() else {
            return Err((
                Some(section.clone()),
                format!(
                    "must be a section ([{section}]), not a {}",
                    value.type_str()
                ),
            ));
        };
        for key in keys.keys() {
            let full = format!("{section}.{key}");
            if !KEYS.contains(&full.as_str()) {
                return Err((None, unknown(&full, &known())));
            }
        }
    }
    Ok(())
}

fn unknown(key: &str, known: &str) -> String {
    let last = key.rsplit('.').next().unwrap_or(key).to_ascii_lowercase();
    if ["token", "public_key", "publickey", "secret", "password"]
        .iter()
        .any(|s| last.contains(s))
    {
        format!(
            "unknown key `{key}`: secrets never go in the config file; set DISCORD_TOKEN \
             and DISCORD_PUBLIC_KEY (or DISCORD_TOKEN_FILE and DISCORD_PUBLIC_KEY_FILE) \
             in the environment"
        )
    } else {
        format!("unknown key `{key}` (known keys: {known})")
    }
}

fn apply_env(config: &mut Config, env: &dyn Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
    let bad = |var: &'static str| {
        move |reason: String| ConfigError {
            origin: "environment".to_owned(),
            key: Some(var.to_owned()),
            reason,
        }
    };
    if let Some(v) = var(env, "KR_ADMIN_LISTEN") {
        config.admin.listen = Some(check_listen(&v).map_err(bad("KR_ADMIN_LISTEN"))?);
    }
    if let Some(v) = var(env, "KR_DATABASE") {
        config.database.path = check_path(&v).map_err(bad("KR_DATABASE"))?;
    }
    if let Some(v) = var(env, "KR_DATABASE_POOL_SIZE") {
        let n = parse_number(&v).and_then(check_pool_size);
        config.database.pool_size = n.map_err(bad("KR_DATABASE_POOL_SIZE"))?;
    }
    for name in ["KR_DATABASE_URL", DATABASE_URL_ALIAS] {
        if let Some(v) = var(env, name) {
            let checked = check_database_url(&v).map_err(|reason| ConfigError {
                origin: "environment".to_owned(),
                key: Some(name.to_owned()),
                reason,
            })?;
            config.database.url = Some(checked);
            break;
        }
    }
    if let Some(v) = var(env, "DISCORD_API_BASE") {
        config.discord.api_base = check_api_base(&v).map_err(bad("DISCORD_API_BASE"))?;
    }
    if let Some(v) = var(env, "KR_DEV_GUILD") {
        let id = parse_number(&v).and_then(check_guild);
        config.discord.dev_guild = Some(id.map_err(bad("KR_DEV_GUILD"))?);
    }
    if let Some(v) = var(env, "KR_LISTEN") {
        config.http.listen = check_listen(&v).map_err(bad("KR_LISTEN"))?;
    }
    if let Some(v) = var(env, "KR_LOG") {
        config.log.level = check_level(&v).map_err(bad("KR_LOG"))?;
    }
    if let Some(v) = var(env, "KR_SCHEDULE_ENABLED") {
        config.schedule.enabled = parse_bool(&v).map_err(bad("KR_SCHEDULE_ENABLED"))?;
    }
    if let Some(v) = var(env, "KR_SCHEDULE_POLL_SECONDS") {
        let n = parse_number(&v).and_then(check_poll);
        config.schedule.poll_seconds = n.map_err(bad("KR_SCHEDULE_POLL_SECONDS"))?;
    }
    if let Some(v) = var(env, "KR_SCHEDULE_REQUESTS_PER_SECOND") {
        let n = parse_number(&v).and_then(check_rate);
        config.schedule.requests_per_second = n.map_err(bad("KR_SCHEDULE_REQUESTS_PER_SECOND"))?;
    }
    if let Some(v) = var(env, "KR_PUBLIC_URL") {
        config.site.public_url = Some(check_public_url(&v).map_err(bad("KR_PUBLIC_URL"))?);
    }
    Ok(())
}

/// A variable's value; empty counts as unset.
fn var(env: &dyn Fn(&str) -> Option<String>, name: &str) -> Option<String> {
    env(name).filter(|v| !v.is_empty())
}

fn secrets(env: &dyn Fn(&str) -> Option<String>) -> Result<Secrets, ConfigError> {
    Ok(Secrets {
        token: secret(env, "DISCORD_TOKEN", "DISCORD_TOKEN_FILE", check_token)?,
        public_key: secret(
            env,
            "DISCORD_PUBLIC_KEY",
            "DISCORD_PUBLIC_KEY_FILE",
            check_public_key,
        )?,
    })
}

/// A secret from `var`, or from the file `file_var` names. Errors name the variable
/// and the file's path, never the value.
fn secret(
    env: &dyn Fn(&str) -> Option<String>,
    var_name: &str,
    file_var: &str,
    check: fn(&str) -> Result<(), String>,
) -> Result<Option<Secret>, ConfigError> {
    let refuse = |key: &str, reason: String| ConfigError {
        origin: "environment".to_owned(),
        key: Some(key.to_owned()),
        reason,
    };
    let (value, from) = match (var(env, var_name), var(env, file_var)) {
        (None, None) => return Ok(None),
        (Some(_), Some(_)) => {
            return Err(refuse(
                var_name,
                format!("set {var_name} or {file_var}, not both"),
            ));
        }
        (Some(value), None) => (value, var_name),
        (None, Some(path)) => {
            let value = std::fs::read_to_string(&path)
                .map_err(|e| refuse(file_var, format!("cannot read {path}: {e}")))?;
            (value, file_var)
        }
    };
    let value = value.trim();
    check(value).map_err(|reason| refuse(from, reason))?;
    Ok(Some(Secret(value.to_owned())))
}

fn check_token(v: &str) -> Result<(), String> {
    if v.is_empty() {
        Err("the bot token is empty".to_owned())
    } else if v.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Err("a bot token has no spaces or line breaks inside".to_owned())
    } else {
        Ok(())
    }
}

fn check_public_key(v: &str) -> Result<(), String> {
    if v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(format!(
            "not an Ed25519 public key: expected 64 hexadecimal digits, found {} characters{}",
            v.chars().count(),
            if v.len() == 64 {
                " that are not all hexadecimal"
            } else {
                ""
            }
        ))
    }
}

fn check_pool_size(n: u64) -> Result<u32, String> {
    match u32::try_from(n) {
        Ok(n) if (2..=100).contains(&n) => Ok(n),
        _ => Err(format!("must be from 2 to 100 connections, not {n}")),
    }
}

/// A PostgreSQL URL. The messages show it without its password.
fn check_database_url(v: &str) -> Result<DatabaseUrl, String> {
    let v = v.trim();
    let form = "write it as postgres://user@host:5432/database (SQLite is the default: \
                leave database.url unset and set database.path)";
    let parsed = url::Url::parse(v).map_err(|e| {
        format!("not a URL ({e}; the value is not shown, it may hold a password): {form}")
    })?;
    if !matches!(parsed.scheme(), "postgres" | "postgresql") {
        return Err(format!(
            "a `{}:` URL is not a PostgreSQL URL (it must start with postgres://; the \
             value is not shown, it may hold a password): {form}",
            parsed.scheme()
        ));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(format!(
            "`{}` names no host: {form}",
            karabakh_store::redact(v)
        ));
    }
    Ok(DatabaseUrl(v.to_owned()))
}

fn check_path(v: &str) -> Result<PathBuf, String> {
    if v.trim().is_empty() {
        Err("must be a file path, not empty".to_owned())
    } else {
        Ok(PathBuf::from(v))
    }
}

fn check_api_base(v: &str) -> Result<String, String> {
    let form = "write it as https://host[:port], such as https://discord.com";
    let base = v.trim().trim_end_matches('/');
    let Some((scheme, rest)) = base.split_once("://") else {
        return Err(format!("`{base}` is not a URL: {form}"));
    };
    let host_port = rest.split('/').next().unwrap_or("");
    let host = match host_port.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host_port.split(':').next().unwrap_or(""),
    };
    if host.is_empty()
        || base
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, '?' | '#' | '@'))
    {
        return Err(format!("`{base}` is not a URL: {form}"));
    }
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match scheme.to_ascii_lowercase().as_str() {
        "https" => Ok(base.to_owned()),
        "http" if loopback => Ok(base.to_owned()),
        "http" => Err(format!(
            "`{base}` is plain http to a host that is not this machine; the bot token \
             travels with every request, so use https:// (http:// is accepted only for \
             localhost, 127.0.0.1 or [::1])"
        )),
        _ => Err(format!("`{base}` is not an http(s) URL: {form}")),
    }
}

/// The longest public URL accepted: a page's path (at most about 80 characters: a
/// statement's, an actor's or a search's) must still fit Discord's 512 for a link.
pub const MAX_PUBLIC_URL: usize = 300;

fn check_public_url(v: &str) -> Result<String, String> {
    let form = "write it as https://host[/path], such as https://karabakh.example.org";
    let url = v.trim().trim_end_matches('/');
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(format!("`{url}` is not a URL: {form}"));
    };
    if !matches!(scheme, "https" | "http") {
        return Err(format!("`{url}` is not an http(s) URL: {form}"));
    }
    let host = rest.split('/').next().unwrap_or("");
    if host.is_empty()
        || url.chars().any(|c| {
            c.is_whitespace() || c.is_control() || matches!(c, '?' | '#' | '@' | '"' | '<' | '>')
        })
    {
        return Err(format!(
            "`{url}` is not a URL: {form} (no query, fragment or user)"
        ));
    }
    if url.len() > MAX_PUBLIC_URL {
        return Err(format!(
            "longer than {MAX_PUBLIC_URL} characters: Discord takes links of at most 512"
        ));
    }
    Ok(url.to_owned())
}

fn check_guild(id: u64) -> Result<u64, String> {
    if id == 0 {
        Err("must be a server (guild) id, a number above 0".to_owned())
    } else {
        Ok(id)
    }
}

fn parse_number(v: &str) -> Result<u64, String> {
    v.trim()
        .parse()
        .map_err(|_| format!("`{v}` is not a whole number"))
}

fn check_listen(v: &str) -> Result<SocketAddr, String> {
    v.trim().parse().map_err(|e| {
        format!(
            "not a socket address: `{v}` ({e}); write IP:PORT, such as 127.0.0.1:8080 or [::]:8080"
        )
    })
}

fn check_level(v: &str) -> Result<String, String> {
    let v = v.trim();
    if v.is_empty() {
        return Err(
            "must be a log filter such as `info` or `karabakh_reactions=debug,warn`, not empty"
                .to_owned(),
        );
    }
    tracing_subscriber::EnvFilter::builder()
        .parse(v)
        .map(|_| v.to_owned())
        .map_err(|e| {
            format!(
                "not a log filter: `{v}` ({e}); write a level (error, warn, info, debug, \
                 trace) or directives such as `karabakh_reactions=debug,warn`"
            )
        })
}

/// `true`/`false` as TOML writes them (also `1`/`0`, `yes`/`no`, `on`/`off`).
fn parse_bool(v: &str) -> Result<bool, String> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(format!("`{v}` is neither true nor false")),
    }
}

fn check_rate(n: u64) -> Result<u32, String> {
    match u32::try_from(n) {
        Ok(n @ 1..=MAX_REQUESTS_PER_SECOND) => Ok(n),
        _ => Err(format!(
            "must be from 1 to {MAX_REQUESTS_PER_SECOND} requests a second (Discord's limit \
             for a whole bot), not {n}"
        )),
    }
}

fn check_poll(n: u64) -> Result<u64, String> {
    if (1..=3600).contains(&n) {
        Ok(n)
    } else {
        Err(format!("must be from 1 to 3600 seconds, not {n}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `KEYS` is the file's shape: a file with every key set names exactly `KEYS`.
    #[test]
    fn the_key_list_matches_the_file_shape() {
        let full = FileConfig {
            admin: Some(FileAdmin {
                listen: Some("x".into()),
            }),
            database: Some(FileDatabase {
                path: Some("x".into()),
                pool_size: Some(2),
                url: Some("x".into()),
            }),
            discord: Some(FileDiscord {
                api_base: Some("x".into()),
                dev_guild: Some(1),
            }),
            http: Some(FileHttp {
                listen: Some("x".into()),
            }),
            log: Some(FileLog {
                level: Some("x".into()),
            }),
            schedule: Some(FileSchedule {
                enabled: Some(true),
                poll_seconds: Some(1),
                requests_per_second: Some(1),
            }),
            site: Some(FileSite {
                public_url: Some("x".into()),
            }),
        };
        let table: toml::Table = toml::to_string(&full).unwrap().parse().unwrap();
        let mut keys: Vec<String> = table
            .iter()
            .flat_map(|(section, v)| {
                v.as_table()
                    .unwrap()
                    .keys()
                    .map(move |k| format!("{section}.{k}"))
            })
            .collect();
        keys.sort();
        assert_eq!(keys, KEYS);
        let mut env_keys: Vec<&str> = ENV_VARS.iter().map(|(_, k)| *k).collect();
        env_keys.sort();
        assert_eq!(env_keys, KEYS, "every key has its environment variable");
    }

    #[test]
    fn api_bases_must_be_https_or_loopback_http() {
        assert_eq!(
            check_api_base("https://discord.com/").unwrap(),
            "https://discord.com"
        );
        assert!(check_api_base("http://127.0.0.1:9999").is_ok());
        assert!(check_api_base("http://localhost:9999").is_ok());
        assert!(check_api_base("http://[::1]:9999").is_ok());
        for bad in [
            "http://discord.com",
            "discord.com",
            "ftp://discord.com",
            "https://",
            "https://user:pw@discord.com",
            "https://discord.com/?x=1",
        ] {
            assert!(check_api_base(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn public_urls_are_http_or_https_without_query_or_fragment() {
        assert_eq!(
            check_public_url(" https://example.org/bot/ ").unwrap(),
            "https://example.org/bot"
        );
        assert!(check_public_url("http://127.0.0.1:8080").is_ok());
        for bad in [
            "example.org",
            "ftp://example.org",
            "https://",
            "https://example.org/?a=1",
            "https://example.org/#x",
            "https://u@example.org",
            "https://exa mple.org",
        ] {
            assert!(check_public_url(bad).is_err(), "{bad}");
        }
        assert!(check_public_url(&format!("https://e.org/{}", "a".repeat(400))).is_err());
    }

    #[test]
    fn the_scheduler_role_and_its_rate_are_checked() {
        for (v, b) in [
            ("true", true),
            (" FALSE ", false),
            ("1", true),
            ("off", false),
        ] {
            assert_eq!(parse_bool(v), Ok(b), "{v}");
        }
        assert!(parse_bool("maybe").is_err());
        assert_eq!(check_rate(50), Ok(50));
        assert_eq!(check_rate(1), Ok(1));
        assert!(check_rate(0).is_err());
        assert!(check_rate(51).unwrap_err().contains("Discord's limit"));
        assert!(check_rate(u64::MAX).is_err());
    }

    #[test]
    fn public_keys_are_64_hex_digits() {
        assert!(check_public_key(&"a1".repeat(32)).is_ok());
        assert!(check_public_key(&"a1".repeat(31)).is_err());
        assert!(check_public_key(&"zz".repeat(32)).is_err());
    }
}
