//! Load on the HTTP interactions endpoint: wrk against the release binary, run as its
//! own process. Nothing here links the bot's library (the tests' fake Discord, which
//! the server's daily posts go to, runs in this process).
//!
//! The binary is the one cargo builds for this bench (a package's benches get its
//! binaries, built with the bench profile, which is the release profile) at
//! `target/release/karabakh-reactions`; `KR_BIN` names another. It runs `serve` on a
//! loopback port with a fresh SQLite settings database, its logs on stderr written
//! to a file, as a service's would be. wrk (`benches/http_load.lua`) POSTs requests
//! signed here: 512 bodies per load with distinct ids and tokens, `/reaction` over
//! eight actors, re-signed before every wrk run so the timestamps stay within the
//! server's 300 s window. After a warm-up of each load, `ROUNDS` interleaved rounds
//! of PING, `/reaction` from a server (reads its settings) and `/reaction` in a DM.
//!
//! Per load: requests/s, p50 and p99 (wrk's histogram; the median over the rounds),
//! non-2xx answers and socket errors (must be 0), and the server's CPU time per
//! request: utime + stime from `/proc/<pid>/stat` around each wrk run, over the
//! requests wrk counted. wrk shares the cores with the server (and with whatever else
//! runs), so requests/s depends on how they split; CPU per request hardly does. Also
//! how busy the cores were (server, wrk, everything else), the server's RSS idle and
//! at peak, and the CPU time of the signature check alone (serenity's `Verifier`, on
//! the same bodies, a second after each run).
//!
//! A fourth load measures reads while settings are written and the daily posts go
//! out: `/reaction` from a server as above, while a second wrk (one connection, back to
//! back) sends `/config replies` to the same server, flipping its visibility each time
//! (every write a real change: a transaction, an audit record, an fsync on SQLite),
//! and the server's scheduler sends daily posts. The server runs with a bot token and
//! `DISCORD_API_BASE` at the tests' fake Discord (`tests/support/fake_discord.rs`, on
//! 127.0.0.1 in this process, answering at once), so `serve` runs its scheduler as in
//! production. Before each measured run of this load, `/config onthisday` (sent like
//! any command, signed) gives [`POSTS_PER_SECOND`] × (`SECONDS` - 1) fresh servers a
//! daily post at the coming minute, UTC, empty days posted too; the run starts half a
//! second before that minute, so the scheduler sends them during the run at its
//! default rate (40 requests/s), leasing, rendering, posting and recording each. (A
//! post set for a minute already begun is tomorrow's: the seeds must come before.)
//! The posts the fake received during each run are printed. The other loads run
//! with the scheduler idle (nothing due, nothing waking it), as a server is between
//! posts. The with-writes load's p99 against the read-only load's is the ratio the
//! issue bounds (1.5×). Its warm-up sends writes only.
//!
//! Run: `cargo bench --bench http_load`. Knobs (environment): `DATABASE` (`sqlite`, or
//! `postgres`: the server at `KR_TEST_POSTGRES_URL`, default
//! `postgres://postgres@127.0.0.1:5432/test`, in a schema made for the run with `psql`
//! and dropped after), `ROUNDS` (4), `SECONDS` (15 a run), `WARMUP` (3 s a load),
//! `CONNECTIONS` (64), `THREADS` (wrk's, 1), `LOG` (the server's `KR_LOG`, `info` as
//! in production), `KR_BIN`. Linux only (`/proc`).

#[path = "../tests/support/fake_discord.rs"]
mod fake_discord;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use ed25519_dalek::{Signer, SigningKey};
use serde_json::json;

const ACTORS: &[&str] = &[
    "Turkey", "Russia", "France", "Iran", "Hungary", "Georgia", "Pakistan", "Israel",
];

/// (name, fixture): PING as it is; the commands become `/reaction` over `ACTORS`.
const LOADS: [(&str, &str); 4] = [
    ("PING", "ping.json"),
    ("`/reaction` from a server", "command-guild.json"),
    ("`/reaction` in a DM", "command-dm.json"),
    (
        "`/reaction` from a server, `/config` writes alongside",
        "command-guild.json",
    ),
];

/// The load measured while `/config` writes and the scheduler's posts run alongside.
const WITH_WRITES: usize = 3;

/// The scheduler's default rate (`schedule.requests_per_second`): each post is one
/// request, so the posts seeded for a run of `SECONDS` are this × (`SECONDS` - 1).
const POSTS_PER_SECOND: u64 = 40;

/// A token of a bot token's shape, for the fake Discord.
const BOT_TOKEN: &str = "MTIzNDU2Nzg5MDEyMzQ1Njc4OQ.GaBcDe.not-a-real-token";

/// `/config onthisday` in each of `guilds` (fresh servers, each its own channel), at
/// `time` UTC, empty days posted: the posts the scheduler sends during a run.
fn onthisday_bodies(guilds: std::ops::Range<u64>, time: &str) -> Vec<String> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/interactions");
    let text = std::fs::read_to_string(format!("{dir}/command-guild.json")).unwrap();
    let template: serde_json::Value = serde_json::from_str(&text).unwrap();
    guilds
        .map(|guild| {
            let mut p = template.clone();
            let g = json!(guild.to_string());
            p["id"] = json!((1_400_000_000_000_000_000u64 + guild).to_string());
            p["token"] = json!(format!("bench-onthisday-{guild}"));
            p["guild_id"] = g.clone();
            p["guild"]["id"] = g.clone();
            p["channel"]["guild_id"] = g.clone();
            p["authorizing_integration_owners"]["0"] = g.clone();
            p["data"]["guild_id"] = g;
            p["member"]["permissions"] = json!("32"); // Manage Server
            p["data"]["name"] = json!("config");
            p["data"]["options"] = json!([{"name": "onthisday", "type": 1, "options": [
                {"name": "channel", "type": 7, "value": (guild + 1_000_000).to_string()},
                {"name": "time", "type": 3, "value": time},
                {"name": "timezone", "type": 3, "value": "UTC"},
                {"name": "empty-days", "type": 5, "value": true},
            ]}]);
            serde_json::to_string(&p).unwrap()
        })
        .collect()
}

/// Sends `bodies`, signed now, four at a time; each must be answered 200.
fn send_all(
    runtime: &tokio::runtime::Runtime,
    server: &Server,
    key: &SigningKey,
    bodies: &[String],
) {
    use futures::StreamExt as _;
    let client = reqwest::Client::new();
    let signed = sign(key, bodies);
    runtime.block_on(async {
        futures::stream::iter(signed)
            .for_each_concurrent(4, |(signature, timestamp, body)| {
                let request = client
                    .post(&server.url)
                    .header("Content-Type", "application/json")
                    .header("X-Signature-Ed25519", signature)
                    .header("X-Signature-Timestamp", timestamp)
                    .body(body.to_owned());
                async move {
                    let response = request.send().await.expect("the server answers");
                    let status = response.status();
                    let text = response.text().await.unwrap_or_default();
                    assert!(
                        status == 200 && text.contains("Daily post set"),
                        "a `/config onthisday` was not saved ({status}): {text}"
                    );
                }
            })
            .await;
    });
}

/// `/config replies visibility:…` in the fixture's server by a member with Manage
/// Server, alternating private and public.
fn config_bodies() -> Vec<String> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/interactions");
    let text = std::fs::read_to_string(format!("{dir}/command-guild.json")).unwrap();
    let template: serde_json::Value = serde_json::from_str(&text).unwrap();
    (0..512)
        .map(|i| {
            let mut p = template.clone();
            p["id"] = json!((1_300_000_000_000_000_000u64 + i as u64).to_string());
            p["token"] = json!(format!("bench-config-{i}"));
            p["member"]["permissions"] = json!("32"); // Manage Server
            p["data"]["name"] = json!("config");
            let v = if i % 2 == 0 { "private" } else { "public" };
            p["data"]["options"] = json!([{"name": "replies", "type": 1, "options": [
                {"name": "visibility", "type": 3, "value": v}
            ]}]);
            serde_json::to_string(&p).unwrap()
        })
        .collect()
}

/// The database the server runs on for this bench: `KR_DATABASE` (SQLite) or
/// `KR_DATABASE_URL` (PostgreSQL, a schema of its own, dropped by `Drop`).
enum Database {
    Sqlite,
    Postgres { url: String, schema: String },
}

impl Database {
    fn from_env() -> Database {
        match std::env::var("DATABASE").as_deref() {
            Ok("postgres") => {
                let url = std::env::var("KR_TEST_POSTGRES_URL")
                    .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
                let schema = format!("kr_bench_{}", std::process::id());
                psql(&url, &format!("CREATE SCHEMA {schema}"));
                Database::Postgres { url, schema }
            }
            Ok("sqlite") | Err(_) => Database::Sqlite,
            Ok(other) => panic!("DATABASE={other}: write sqlite or postgres"),
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Database::Sqlite => "SQLite",
            Database::Postgres { .. } => "PostgreSQL",
        }
    }

    fn env(&self, dir: &Path) -> (&'static str, String) {
        match self {
            Database::Sqlite => ("KR_DATABASE", dir.join("s.sqlite3").display().to_string()),
            Database::Postgres { url, schema } => (
                "KR_DATABASE_URL",
                format!("{url}?options=-c%20search_path%3D{schema}"),
            ),
        }
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        if let Database::Postgres { url, schema } = self {
            psql(url, &format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
        }
    }
}

fn psql(url: &str, sql: &str) {
    let status = Command::new("psql")
        .args([url, "-qc", sql])
        .status()
        .unwrap_or_else(|e| panic!("http_load: DATABASE=postgres needs psql: {e}"));
    assert!(status.success(), "psql failed: {sql}");
}

fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn bodies(fixture: &str) -> Vec<String> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/interactions");
    let text = std::fs::read_to_string(format!("{dir}/{fixture}")).unwrap();
    let template: serde_json::Value = serde_json::from_str(&text).unwrap();
    (0..512)
        .map(|i| {
            let mut p = template.clone();
            p["id"] = json!((1_200_000_000_000_000_000u64 + i as u64).to_string());
            p["token"] = json!(format!("bench-token-{i}"));
            if fixture != "ping.json" {
                p["data"]["name"] = json!("reaction");
                p["data"]["options"] =
                    json!([{"name": "actor", "type": 3, "value": ACTORS[i % ACTORS.len()]}]);
            }
            serde_json::to_string(&p).unwrap()
        })
        .collect()
}

/// (signature, timestamp, body) for each body, signed now.
fn sign<'a>(key: &SigningKey, bodies: &'a [String]) -> Vec<(String, String, &'a str)> {
    let now = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH);
    let timestamp = now.unwrap().as_secs().to_string();
    bodies
        .iter()
        .map(|body| {
            let signature = key.sign(format!("{timestamp}{body}").as_bytes());
            let signature = hex::encode(signature.to_bytes());
            (signature, timestamp.clone(), body.as_str())
        })
        .collect()
}

/// Makes sure wrk is on PATH: installs it with apt-get as root, else says how.
fn ensure_wrk() {
    let found = || Command::new("wrk").arg("-v").output().is_ok();
    if !found() && unsafe { libc::geteuid() } == 0 {
        eprintln!("http_load: wrk is not on PATH; apt-get install -y wrk");
        let _ = Command::new("apt-get")
            .args(["install", "-y", "wrk"])
            .status();
    }
    if !found() {
        eprintln!(
            "http_load: wrk is not installed: `sudo apt-get install wrk` (or `brew install wrk`)."
        );
        std::process::exit(1);
    }
}

/// CPU time from a `/proc` tick count, in µs.
fn ticks_us(ticks: f64) -> f64 {
    ticks * 1e6 / unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64
}

/// CPU time all cores spent busy since boot (all but idle and iowait), in µs.
fn machine_cpu_us() -> f64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap();
    let cpu = stat.lines().next().unwrap().split_whitespace().skip(1);
    let t: Vec<f64> = cpu.take(8).map(|t| t.parse().unwrap()).collect();
    ticks_us(t.iter().sum::<f64>() - t[3] - t[4])
}

/// CPU time of this process's children that have exited (the wrk runs), in µs.
fn children_cpu_us() -> f64 {
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    let us = |t: libc::timeval| t.tv_sec as f64 * 1e6 + t.tv_usec as f64;
    us(usage.ru_utime) + us(usage.ru_stime)
}

/// The server process; killed if the bench stops early.
struct Server {
    child: Child,
    url: String,
    log: PathBuf,
}

impl Server {
    fn start(
        bin: &Path,
        dir: &Path,
        key: &SigningKey,
        log_level: &str,
        database: &Database,
        discord: &str,
    ) -> Server {
        let (db_var, db_value) = database.env(dir);
        let log = dir.join("server.log");
        let child = Command::new(bin)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .current_dir(dir) // not the checkout: no config/bot.toml
            .env_clear()
            .env(
                "DISCORD_PUBLIC_KEY",
                hex::encode(key.verifying_key().to_bytes()),
            )
            // A token: `serve` runs the daily posts' scheduler, posting to the fake.
            .env("DISCORD_TOKEN", BOT_TOKEN)
            .env("DISCORD_API_BASE", discord)
            .env(db_var, db_value)
            .env("KR_LOG", log_level)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        let mut server = Server {
            child,
            url: String::new(),
            log,
        };
        let started = Instant::now();
        while server.url.is_empty() {
            let text = std::fs::read_to_string(&server.log).unwrap();
            if let Some((_, rest)) = text.split_once("listening on ") {
                server.url = rest.lines().next().unwrap().to_owned();
            } else if server.child.try_wait().unwrap().is_some() || started.elapsed().as_secs() > 30
            {
                panic!("the server did not start:\n{text}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        server
    }

    /// Its utime + stime, in µs.
    fn cpu_us(&self) -> f64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap();
        // After the command name in parentheses, field 3 (state) on: utime is 14, stime 15.
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .unwrap()
            .1
            .split_whitespace()
            .collect();
        ticks_us(fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap())
    }

    /// A `/proc/<pid>/status` memory field (`VmRSS`, `VmHWM`), in MiB.
    fn mib(&self, field: &str) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let line = status.lines().find(|l| l.starts_with(field)).unwrap();
        line.split_whitespace()
            .nth(1)
            .unwrap()
            .parse::<f64>()
            .unwrap()
            / 1024.0
    }

    fn log_bytes(&self) -> f64 {
        std::fs::metadata(&self.log).unwrap().len() as f64
    }

    /// SIGTERM, as a service manager stops it; it must exit cleanly.
    fn stop(mut self) {
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let status = self.child.wait().unwrap();
        assert!(status.success(), "the server exited with {status}");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One wrk run. CPU times in µs: the server's, wrk's, and all cores' busy time.
struct Run {
    requests: f64,
    seconds: f64,
    errors: f64,
    p50_ms: f64,
    p99_ms: f64,
    server_us: f64,
    wrk_us: f64,
    machine_us: f64,
    log_bytes: f64,
    /// Daily posts the fake Discord received during the run.
    posts: usize,
}

/// Runs wrk for `seconds` on `bodies`, signed just before; with `writes`, a second
/// wrk (one connection) sends those alongside for the same time.
fn run(
    server: &Server,
    discord: &fake_discord::FakeDiscord,
    dir: &Path,
    key: &SigningKey,
    bodies: &[String],
    seconds: u64,
    writes: Option<&[String]>,
) -> Run {
    let file = dir.join("requests.txt");
    let lines = sign(key, bodies)
        .into_iter()
        .map(|(s, t, b)| format!("{s} {t} {b}\n"));
    std::fs::write(&file, lines.collect::<String>()).unwrap();
    let writer = writes.map(|writes| {
        let file = dir.join("writes.txt");
        let lines = sign(key, writes)
            .into_iter()
            .map(|(s, t, b)| format!("{s} {t} {b}\n"));
        std::fs::write(&file, lines.collect::<String>()).unwrap();
        Command::new("wrk")
            .args([
                "-t1",
                "-c1",
                &format!("-d{seconds}s"),
                "--timeout",
                "5s",
                "-s",
            ])
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/benches/http_load.lua"
            ))
            .arg(&server.url)
            .arg("--")
            .arg(&file)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap()
    });
    let usage = || {
        (
            server.cpu_us(),
            children_cpu_us(),
            machine_cpu_us(),
            server.log_bytes(),
            discord.creates().len(),
        )
    };
    let before = usage();
    let output = Command::new("wrk")
        .arg(format!("-t{}", env("THREADS", 1)))
        .arg(format!("-c{}", env("CONNECTIONS", 64)))
        .arg(format!("-d{seconds}s"))
        .args(["--timeout", "5s", "-s"])
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/benches/http_load.lua"
        ))
        .arg(&server.url)
        .arg("--")
        .arg(&file)
        .output()
        .unwrap();
    let after = usage();
    if let Some(writer) = writer {
        let out = writer.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let line = text
            .lines()
            .find_map(|l| l.strip_prefix("wrk-result "))
            .unwrap_or_else(|| panic!("the writing wrk failed:\n{text}"));
        let requests = line
            .split(' ')
            .find_map(|kv| kv.strip_prefix("requests="))
            .unwrap_or("0");
        eprintln!("  alongside: {requests} `/config` writes in {seconds} s ({line})");
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let Some(result) = stdout.lines().find_map(|l| l.strip_prefix("wrk-result ")) else {
        panic!(
            "wrk failed:\n{stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    let field = |name: &str| -> f64 {
        let value = result
            .split(' ')
            .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='));
        value.unwrap().parse().unwrap()
    };
    Run {
        requests: field("requests"),
        seconds: field("duration_us") / 1e6,
        errors: ["status", "connect", "read", "write", "timeout"]
            .map(field)
            .iter()
            .sum(),
        p50_ms: field("p50_us") / 1e3,
        p99_ms: field("p99_us") / 1e3,
        server_us: after.0 - before.0,
        wrk_us: after.1 - before.1,
        machine_us: after.2 - before.2,
        log_bytes: after.3 - before.3,
        posts: after.4 - before.4,
    }
}

/// Gives `count` fresh servers (numbered from `*next_guild` on) a daily post at the
/// coming minute (at least 25 s away, time to send them), then waits until half a
/// second before it: the run that starts then sees the scheduler send them.
fn seed_posts(
    runtime: &tokio::runtime::Runtime,
    server: &Server,
    key: &SigningKey,
    next_guild: &mut u64,
    count: u64,
) {
    let now = jiff::Timestamp::now().as_second();
    let mut minute = (now / 60 + 1) * 60;
    if minute - now < 25 {
        minute += 60;
    }
    let due = jiff::Timestamp::from_second(minute).unwrap();
    let time = due.strftime("%H:%M").to_string();
    let bodies = onthisday_bodies(*next_guild..*next_guild + count, &time);
    *next_guild += count;
    send_all(runtime, server, key, &bodies);
    let left_ms = due.as_millisecond() - jiff::Timestamp::now().as_millisecond() - 500;
    assert!(
        left_ms > 0,
        "sending the daily posts' settings took past {due}: they are tomorrow's"
    );
    std::thread::sleep(Duration::from_millis(left_ms as u64));
}

/// `Verifier::verify` over `bodies` signed now, on this thread for about a second:
/// (its CPU time in µs, like the server's since the machine is shared, verifications).
fn verify(key: &SigningKey, bodies: &[String]) -> (f64, f64) {
    let public = hex::encode(key.verifying_key().to_bytes());
    let verifier = serenity::interactions_endpoint::Verifier::new(&public);
    let signed = sign(key, bodies);
    let thread_cpu_us = || {
        let mut t: libc::timespec = unsafe { std::mem::zeroed() };
        unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
        t.tv_sec as f64 * 1e6 + t.tv_nsec as f64 / 1e3
    };
    let (started, cpu, mut n) = (Instant::now(), thread_cpu_us(), 0);
    while started.elapsed() < Duration::from_secs(1) {
        for (signature, timestamp, body) in &signed {
            let ok = verifier.verify(signature, timestamp, body.as_bytes());
            ok.expect("a good signature");
        }
        n += signed.len();
    }
    (thread_cpu_us() - cpu, n as f64)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    (v[(v.len() - 1) / 2] + v[v.len() / 2]) / 2.0
}

fn main() {
    // Not a test: run only under `cargo bench`, which passes `--bench`.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let (rounds, seconds, warmup): (usize, u64, u64) =
        (env("ROUNDS", 4), env("SECONDS", 15), env("WARMUP", 3));
    let log_level: String = env("LOG", "info".to_owned());
    let bin = match std::env::var_os("KR_BIN") {
        Some(bin) => PathBuf::from(bin),
        None => match option_env!("CARGO_BIN_EXE_karabakh-reactions") {
            Some(bin) => PathBuf::from(bin),
            // The binary is no longer this package's: it is built apart, beside.
            None => std::env::current_exe()
                .unwrap()
                .ancestors()
                .nth(3)
                .unwrap()
                .join("release/karabakh-reactions"),
        },
    };
    if !bin.is_file() {
        eprintln!(
            "http_load: no {}: run `cargo build --release` (or set KR_BIN).",
            bin.display()
        );
        std::process::exit(1);
    }
    ensure_wrk();
    let load_average = std::fs::read_to_string("/proc/loadavg").unwrap();
    let load_average = load_average
        .split(' ')
        .take(3)
        .collect::<Vec<_>>()
        .join(" ");

    let key = SigningKey::from_bytes(&[7u8; 32]);
    let dir = tempfile::tempdir().unwrap();
    let database = Database::from_env();
    // The fake Discord's own thread: it answers while this one waits for wrk.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let discord = runtime.block_on(fake_discord::FakeDiscord::start());
    let server = Server::start(
        &bin,
        dir.path(),
        &key,
        &log_level,
        &database,
        &discord.base(),
    );
    let writes = config_bodies();
    std::thread::sleep(Duration::from_secs(1));
    let idle_rss = server.mib("VmRSS");
    let bodies: Vec<Vec<String>> = LOADS.iter().map(|(_, fixture)| bodies(fixture)).collect();

    for (l, b) in bodies.iter().enumerate() {
        let alongside = (l == WITH_WRITES).then_some(writes.as_slice());
        run(&server, &discord, dir.path(), &key, b, warmup, alongside);
    }
    let seeded_per_run = POSTS_PER_SECOND * seconds.saturating_sub(1).max(1);
    let mut next_guild = 2_000_000_000u64;
    let mut runs: Vec<Vec<Run>> = LOADS.iter().map(|_| Vec::new()).collect();
    // The signature check alone, a second after each run (the server idle): the same
    // machine's state on average as the runs.
    let mut verified = [(0.0, 0.0); LOADS.len()];
    for round in 1..=rounds {
        for (l, (name, _)) in LOADS.iter().enumerate() {
            let alongside = (l == WITH_WRITES).then_some(writes.as_slice());
            if alongside.is_some() {
                seed_posts(&runtime, &server, &key, &mut next_guild, seeded_per_run);
            }
            let r = run(
                &server,
                &discord,
                dir.path(),
                &key,
                &bodies[l],
                seconds,
                alongside,
            );
            eprintln!(
                "round {round}, {name}: {:.0} requests/s, p50 {:.2} ms, p99 {:.2} ms, {:.1} µs CPU/request, {} errors, {} daily posts sent",
                r.requests / r.seconds,
                r.p50_ms,
                r.p99_ms,
                r.server_us / r.requests,
                r.errors,
                r.posts,
            );
            runs[l].push(r);
            let (cpu_us, n) = verify(&key, &bodies[l]);
            verified[l] = (verified[l].0 + cpu_us, verified[l].1 + n);
        }
    }
    let peak_rss = server.mib("VmHWM");
    server.stop();

    let sum = |rs: &[Run], f: fn(&Run) -> f64| rs.iter().map(f).sum::<f64>();
    let per_request = |rs: &[Run], f: fn(&Run) -> f64| sum(rs, f) / sum(rs, |r| r.requests);
    let cores = |rs: &[Run], f: fn(&Run) -> f64| sum(rs, f) / sum(rs, |r| r.seconds) / 1e6;
    let ping_us = per_request(&runs[0], |r| r.server_us);
    println!(
        "\n{} database; wrk -t{} -c{}, {rounds} interleaved rounds of {seconds} s after {warmup} s of each load; \
         server log {log_level}, to a file; {} cores; load average before: {load_average}",
        database.name(),
        env("THREADS", 1),
        env("CONNECTIONS", 64),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
    );
    println!("\n| load | requests/s | p50 | p99 | server CPU µs/request | ratio to PING |");
    println!("| --- | --- | --- | --- | --- | --- |");
    for ((name, _), rs) in LOADS.iter().zip(&runs) {
        let cpu = per_request(rs, |r| r.server_us);
        println!(
            "| {name} | {:.0} | {:.2} ms | {:.2} ms | {cpu:.1} | {:.2} |",
            sum(rs, |r| r.requests) / sum(rs, |r| r.seconds),
            median(rs.iter().map(|r| r.p50_ms).collect()),
            median(rs.iter().map(|r| r.p99_ms).collect()),
            cpu / ping_us,
        );
    }
    println!();
    for ((name, _), rs) in LOADS.iter().zip(&runs) {
        println!(
            "{name}: {} non-2xx or socket errors; cores busy: server {:.2}, wrk {:.2} ({:.1} µs/request), \
             everything else {:.2}; log {:.0} bytes/request",
            sum(rs, |r| r.errors),
            cores(rs, |r| r.server_us),
            cores(rs, |r| r.wrk_us),
            per_request(rs, |r| r.wrk_us),
            cores(rs, |r| r.machine_us - r.server_us - r.wrk_us),
            per_request(rs, |r| r.log_bytes),
        );
    }
    let verify: Vec<String> = LOADS
        .iter()
        .zip(verified)
        .map(|((name, _), (cpu_us, n))| format!("{name} {:.1} µs", cpu_us / n))
        .collect();
    println!(
        "verify only (serenity's `Verifier::verify`, CPU time per verification on one thread): {}",
        verify.join(", ")
    );
    let posts: Vec<String> = LOADS
        .iter()
        .zip(&runs)
        .map(|((name, _), rs)| {
            let each: Vec<String> = rs.iter().map(|r| r.posts.to_string()).collect();
            format!("{name} {}", each.join(", "))
        })
        .collect();
    println!(
        "daily posts the scheduler sent during each round's run ({seeded_per_run} due at the \
         start of each with-writes run; {} sent in all): {}",
        discord.creates().len(),
        posts.join("; ")
    );
    println!("server RSS: idle {idle_rss:.1} MiB, peak under load (VmHWM) {peak_rss:.1} MiB");
    let p99 = |l: usize| median(runs[l].iter().map(|r| r.p99_ms).collect());
    println!(
        "p99 of `/reaction` from a server with `/config` writes alongside / without: {:.2}",
        p99(WITH_WRITES) / p99(1)
    );
    let errors: f64 = runs.iter().map(|rs| sum(rs, |r| r.errors)).sum();
    assert_eq!(errors, 0.0, "wrk saw non-2xx answers or socket errors");
}
