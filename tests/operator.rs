//! The operator's configuration: defaults, the file over them, the environment over
//! the file, refusals that name the key and the reason, and secrets kept out of sight.

use std::collections::HashMap;
use std::path::PathBuf;

use karabakh_reactions::operator::{self, Config, ConfigError, ENV_VARS, KEYS, SECRET_VARS};

const EXAMPLE: &str = include_str!("../config/bot.example.toml");
const TOKEN: &str = "MTIzNDU2Nzg5MDEyMzQ1Njc4.Gabcde.very-secret-token-value";

fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |name| map.get(name).cloned()
}

fn no_env(_: &str) -> Option<String> {
    None
}

fn from_file(text: &str) -> Result<Config, ConfigError> {
    operator::resolve(Some(("config/bot.toml", text)), &no_env)
}

fn refusal(text: &str) -> String {
    from_file(text).unwrap_err().to_string()
}

#[test]
fn the_defaults_are_the_documented_ones() {
    let c = operator::resolve(None, &no_env).unwrap();
    assert_eq!(c, Config::default());
    assert_eq!(
        c.database.path,
        PathBuf::from("state/karabakh-reactions.sqlite3")
    );
    assert_eq!(c.discord.api_base, "https://discord.com");
    assert_eq!(c.discord.dev_guild, None);
    assert_eq!(c.http.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(c.log.level, "info");
    assert_eq!(c.schedule.poll_seconds, 60);
    assert_eq!(c.secrets.token, None);
    assert_eq!(c.secrets.public_key, None);
}

#[test]
fn the_example_file_is_exactly_the_defaults() {
    assert_eq!(
        operator::resolve(Some(("config/bot.example.toml", EXAMPLE)), &no_env).unwrap(),
        Config::default()
    );
}

#[test]
fn the_example_file_documents_every_key_and_variable() {
    for key in KEYS {
        let (section, name) = key.split_once('.').unwrap();
        assert!(EXAMPLE.contains(&format!("[{section}]")), "[{section}]");
        assert!(
            EXAMPLE.lines().any(|l| {
                let l = l.trim_start_matches("# ");
                l.starts_with(&format!("{name} = "))
            }),
            "{key} is not in the example"
        );
    }
    for (var, _) in ENV_VARS {
        assert!(
            EXAMPLE.contains(&format!("Environment: {var}")),
            "{var} undocumented"
        );
    }
    for (var, file_var) in SECRET_VARS {
        assert!(EXAMPLE.contains(var) && EXAMPLE.contains(file_var));
    }
    // The commented-out key is written in a form the file accepts.
    let uncommented = EXAMPLE
        .replace("# dev_guild = ", "dev_guild = ")
        .replace("# public_url = ", "public_url = ")
        .replace("# listen = ", "listen = ")
        .replace("# url = ", "url = ");
    let c = operator::resolve(Some(("example", &uncommented)), &no_env).unwrap();
    assert_eq!(
        c.database.url.map(|u| u.expose().to_owned()).as_deref(),
        Some("postgres://karabakh@db.example.org:5432/karabakh")
    );
    assert_eq!(c.discord.dev_guild, Some(123_456_789_012_345_678));
    assert_eq!(c.admin.listen, Some("127.0.0.1:9100".parse().unwrap()));
    assert_eq!(
        c.site.public_url.as_deref(),
        Some("https://karabakh.example.org")
    );
}

#[test]
fn a_postgres_url_picks_postgres_and_its_password_never_shows() {
    let c = operator::resolve(None, &no_env).unwrap();
    assert!(matches!(
        c.database.database(),
        karabakh_store::Database::Sqlite(_)
    ));
    let file = "[database]\nurl = \"postgres://bot@db.example.org/bot\"\npool_size = 4\n";
    let c = from_file(file).unwrap();
    let karabakh_store::Database::Postgres(pg) = c.database.database() else {
        panic!("{c:?}")
    };
    assert_eq!(
        (pg.url.as_str(), pg.pool_size),
        ("postgres://bot@db.example.org/bot", 4)
    );
    // The environment over the file; KR_DATABASE_URL over DATABASE_URL.
    let secret = "postgres://bot:hunter2@db.example.org:5432/bot";
    let c = operator::resolve(
        Some(("f", file)),
        &env(&[("DATABASE_URL", secret), ("KR_DATABASE_POOL_SIZE", "20")]),
    )
    .unwrap();
    assert_eq!(c.database.url.as_ref().unwrap().expose(), secret);
    assert_eq!(c.database.pool_size, 20);
    let shown = format!("{c:?} {}", c.database.url.as_ref().unwrap());
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(
        shown.contains("postgres://bot:***@db.example.org:5432/bot"),
        "{shown}"
    );
    let c = operator::resolve(
        None,
        &env(&[
            ("DATABASE_URL", secret),
            ("KR_DATABASE_URL", "postgres://other@h/db"),
        ]),
    )
    .unwrap();
    assert_eq!(c.database.url.unwrap().expose(), "postgres://other@h/db");
    // Refusals name the key and never the password.
    for (bad, why) in [
        ("mysql://bot:hunter2@h/db", "not a PostgreSQL URL"),
        ("postgres://bot:hunter2@/db", "empty host"),
        ("bot:hunter2@h", "not"),
    ] {
        let err = operator::resolve(None, &env(&[("DATABASE_URL", bad)]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("DATABASE_URL") && err.contains(why), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
    }
    let err = refusal("[database]\npool_size = 1\n");
    assert!(
        err.contains("database.pool_size") && err.contains("2 to 100"),
        "{err}"
    );
}

#[test]
fn the_file_overrides_the_defaults() {
    let c = from_file(
        r#"
        [database]
        path = "/var/lib/kr/bot.sqlite3"
        [discord]
        api_base = "http://127.0.0.1:9999/"
        dev_guild = 81384788765712384
        [http]
        listen = "[::]:9000"
        [log]
        level = "karabakh_reactions=debug,warn"
        [schedule]
        poll_seconds = 5
        "#,
    )
    .unwrap();
    assert_eq!(c.database.path, PathBuf::from("/var/lib/kr/bot.sqlite3"));
    assert_eq!(c.discord.api_base, "http://127.0.0.1:9999");
    assert_eq!(c.discord.dev_guild, Some(81_384_788_765_712_384));
    assert_eq!(c.http.listen.to_string(), "[::]:9000");
    assert_eq!(c.log.level, "karabakh_reactions=debug,warn");
    assert_eq!(c.schedule.poll_seconds, 5);
}

#[test]
fn a_partial_file_keeps_the_other_defaults() {
    let c = from_file("[http]\nlisten = \"0.0.0.0:80\"\n").unwrap();
    assert_eq!(c.http.listen.to_string(), "0.0.0.0:80");
    assert_eq!(
        Config {
            http: Config::default().http,
            ..c
        },
        Config::default()
    );
    assert_eq!(from_file("").unwrap(), Config::default());
}

#[test]
fn the_environment_overrides_the_file() {
    let file = "[database]\npath = \"from-file.sqlite3\"\n[log]\nlevel = \"warn\"\n\
                [http]\nlisten = \"127.0.0.1:1\"\n";
    let c = operator::resolve(
        Some(("config/bot.toml", file)),
        &env(&[
            ("KR_DATABASE", "from-env.sqlite3"),
            ("KR_LISTEN", "127.0.0.1:2"),
            ("DISCORD_API_BASE", "https://discord.example.org"),
            ("KR_DEV_GUILD", "42"),
            ("KR_SCHEDULE_POLL_SECONDS", "15"),
            // Empty counts as unset: the file's level stays.
            ("KR_LOG", ""),
        ]),
    )
    .unwrap();
    assert_eq!(c.database.path, PathBuf::from("from-env.sqlite3"));
    assert_eq!(c.http.listen.to_string(), "127.0.0.1:2");
    assert_eq!(c.discord.api_base, "https://discord.example.org");
    assert_eq!(c.discord.dev_guild, Some(42));
    assert_eq!(c.schedule.poll_seconds, 15);
    assert_eq!(c.log.level, "warn");
    let c = operator::resolve(Some(("f", file)), &env(&[("KR_LOG", "debug")])).unwrap();
    assert_eq!(c.log.level, "debug");
}

#[test]
fn an_unknown_key_is_refused_with_its_name_and_the_known_keys() {
    let err = refusal("[databse]\npath = \"x\"\n");
    assert!(
        err.starts_with("config/bot.toml: unknown key `databse`"),
        "{err}"
    );
    assert!(
        err.contains(
            "known keys: admin.listen, database.path, database.pool_size, database.url, \
             discord.api_base"
        ),
        "{err}"
    );
    let err = refusal("[database]\npaht = \"x\"\n");
    assert!(err.contains("unknown key `database.paht`"), "{err}");
    let err = refusal("verbose = true\n");
    assert!(err.contains("unknown key `verbose`"), "{err}");
    let err = refusal("database = \"x.sqlite3\"\n");
    assert!(
        err.contains("`database`") && err.contains("must be a section"),
        "{err}"
    );
}

#[test]
fn a_secret_in_the_file_is_refused_without_echoing_it() {
    let err = refusal(&format!("[discord]\ntoken = \"{TOKEN}\"\n"));
    assert!(err.contains("unknown key `discord.token`"), "{err}");
    assert!(err.contains("DISCORD_TOKEN"), "{err}");
    assert!(!err.contains(TOKEN), "{err}");
}

#[test]
fn bad_values_are_refused_with_the_key_and_the_reason() {
    let cases = [
        (
            "[http]\nlisten = \"localhost\"\n",
            "config/bot.toml: `http.listen`: not a socket address",
        ),
        (
            "[http]\nlisten = 8080\n",
            "config/bot.toml: `http.listen`: invalid type",
        ),
        (
            "[discord]\napi_base = \"http://discord.com\"\n",
            "config/bot.toml: `discord.api_base`: `http://discord.com` is plain http",
        ),
        (
            "[discord]\napi_base = \"discord.com\"\n",
            "config/bot.toml: `discord.api_base`: `discord.com` is not a URL",
        ),
        (
            "[discord]\ndev_guild = -1\n",
            "config/bot.toml: `discord.dev_guild`: invalid value",
        ),
        (
            "[discord]\ndev_guild = 0\n",
            "config/bot.toml: `discord.dev_guild`: must be a server (guild) id",
        ),
        (
            "[discord]\ndev_guild = \"123\"\n",
            "config/bot.toml: `discord.dev_guild`: invalid type",
        ),
        (
            "[log]\nlevel = \"info,,=[\"\n",
            "config/bot.toml: `log.level`: not a log filter",
        ),
        (
            "[log]\nlevel = \"\"\n",
            "config/bot.toml: `log.level`: must be a log filter",
        ),
        (
            "[schedule]\npoll_seconds = 0\n",
            "config/bot.toml: `schedule.poll_seconds`: must be from 1 to 3600 seconds, not 0",
        ),
        (
            "[database]\npath = \"\"\n",
            "config/bot.toml: `database.path`: must be a file path",
        ),
        (
            "[log]\nlevel = \"info\"\n[database\n",
            "config/bot.toml: not valid TOML at line 3, column 10: unclosed table",
        ),
    ];
    for (text, expected) in cases {
        let err = refusal(text);
        assert!(err.starts_with(expected), "{text:?}\n  got: {err}");
        assert!(!err.contains('\n'), "one line: {err}");
    }
}

#[test]
fn bad_environment_values_are_refused_with_the_variable() {
    let cases = [
        (
            "KR_LISTEN",
            "nowhere",
            "environment: `KR_LISTEN`: not a socket address",
        ),
        (
            "KR_DEV_GUILD",
            "abc",
            "environment: `KR_DEV_GUILD`: `abc` is not a whole number",
        ),
        (
            "KR_SCHEDULE_POLL_SECONDS",
            "99999",
            "environment: `KR_SCHEDULE_POLL_SECONDS`: must be from 1 to 3600",
        ),
        (
            "DISCORD_API_BASE",
            "http://example.org",
            "environment: `DISCORD_API_BASE`: `http://example.org` is plain http",
        ),
    ];
    for (var, value, expected) in cases {
        let err = operator::resolve(None, &env(&[(var, value)]))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with(expected), "{var}={value}\n  got: {err}");
    }
}

#[test]
fn secrets_come_from_the_environment_and_never_show() {
    let key = "ab".repeat(32);
    let c = operator::resolve(
        None,
        &env(&[("DISCORD_TOKEN", TOKEN), ("DISCORD_PUBLIC_KEY", &key)]),
    )
    .unwrap();
    assert_eq!(c.secrets.token().unwrap().expose(), TOKEN);
    assert_eq!(c.secrets.public_key().unwrap().expose(), key);
    let shown = format!("{c:?} {c:#?} {}", c.secrets.token().unwrap());
    assert!(!shown.contains(TOKEN), "{shown}");
    assert!(!shown.contains(&key), "{shown}");
    assert!(shown.contains("[redacted]"));
}

#[test]
fn missing_secrets_are_asked_for_by_name() {
    let c = operator::resolve(None, &no_env).unwrap();
    let err = c.secrets.token().unwrap_err().to_string();
    assert!(
        err.contains("DISCORD_TOKEN") && err.contains("DISCORD_TOKEN_FILE"),
        "{err}"
    );
    let err = c.secrets.public_key().unwrap_err().to_string();
    assert!(err.contains("DISCORD_PUBLIC_KEY"), "{err}");
}

#[test]
fn secrets_can_come_from_a_file_named_in_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, format!("{TOKEN}\n")).unwrap();
    let key_file = dir.path().join("public_key");
    std::fs::write(&key_file, "0f".repeat(32)).unwrap();
    let c = operator::resolve(
        None,
        &env(&[
            ("DISCORD_TOKEN_FILE", token_file.to_str().unwrap()),
            ("DISCORD_PUBLIC_KEY_FILE", key_file.to_str().unwrap()),
        ]),
    )
    .unwrap();
    assert_eq!(
        c.secrets.token().unwrap().expose(),
        TOKEN,
        "newline trimmed"
    );
    assert_eq!(c.secrets.public_key().unwrap().expose(), "0f".repeat(32));

    let missing = dir.path().join("nope");
    let err = operator::resolve(
        None,
        &env(&[("DISCORD_TOKEN_FILE", missing.to_str().unwrap())]),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.starts_with("environment: `DISCORD_TOKEN_FILE`: cannot read") && err.contains("nope"),
        "{err}"
    );
}

#[test]
fn bad_secrets_are_refused_without_echoing_them() {
    let both = env(&[
        ("DISCORD_TOKEN", TOKEN),
        ("DISCORD_TOKEN_FILE", "/run/secrets/token"),
    ]);
    let err = operator::resolve(None, &both).unwrap_err().to_string();
    assert!(err.contains("not both"), "{err}");
    assert!(!err.contains(TOKEN));

    let spaced = format!("{TOKEN} extra");
    let err = operator::resolve(None, &env(&[("DISCORD_TOKEN", &spaced)]))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("`DISCORD_TOKEN`: a bot token has no spaces"),
        "{err}"
    );
    assert!(!err.contains(TOKEN), "{err}");

    let bad_key = format!("{}zz", "ab".repeat(31));
    let err = operator::resolve(None, &env(&[("DISCORD_PUBLIC_KEY", &bad_key)]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("not an Ed25519 public key"), "{err}");
    assert!(!err.contains(&bad_key), "{err}");
}

#[test]
fn load_reads_an_explicit_file_which_must_exist() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bot.toml");
    std::fs::write(&path, "[log]\nlevel = \"debug\"\n").unwrap();
    let loaded = operator::load(Some(&path), &env(&[("KR_LISTEN", "127.0.0.1:7")])).unwrap();
    assert_eq!(loaded.file.as_deref(), Some(path.as_path()));
    assert_eq!(loaded.config.log.level, "debug");
    assert_eq!(loaded.config.http.listen.to_string(), "127.0.0.1:7");

    let missing = dir.path().join("missing.toml");
    let err = operator::load(Some(&missing), &no_env)
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with(&missing.display().to_string()) && err.contains("cannot read"),
        "{err}"
    );

    std::fs::write(&path, "[log]\nlevell = \"debug\"\n").unwrap();
    let err = operator::load(Some(&path), &no_env)
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with(&format!("{}: unknown key `log.levell`", path.display())),
        "{err}"
    );
}
