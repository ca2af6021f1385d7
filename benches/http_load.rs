//! Load on the HTTP interactions endpoint: wrk against the release binary.
//!
//! Starts `target/release/karabakh-reactions serve` as its own process (it does not
//! build it: run `cargo build --release` first; `KR_BIN` names another binary), then
//! drives it with wrk and `benches/http_load.lua`, which POSTs requests signed here
//! (`DISTINCT` bodies per load with distinct ids and tokens, `/reaction` over eight
//! actors), re-signed before every wrk run so the timestamps stay within the
//! server's 300 s window. After a warm-up of each load, `ROUNDS` interleaved rounds
//! of PING, `/reaction` from a server (reads its settings) and `/reaction` in a DM.
//!
//! Per load: requests/s and non-2xx answers (wrk's count), p50 and p99 (wrk's
//! latency histogram; the median of the rounds' figures), and the server's CPU time
//! per request: its utime + stime from `/proc/<pid>/stat` before and after each run,
//! over the requests wrk counted. wrk shares the machine's cores with the server, so
//! requests/s depends on how they split; CPU per request does not. Then the server's
//! RSS (idle, and the peak), and the cost of the signature check alone: serenity's
//! `Verifier::verify` over the same signed bodies on one thread.
//!
//! Run: `cargo build --release && cargo bench --bench http_load`. Knobs
//! (environment): `ROUNDS` (4), `SECONDS` (15 per run), `WARMUP` (3 s per load),
//! `CONNECTIONS` (64), `THREADS` (wrk's, 1), `LOG` (the server's `KR_LOG`, `info`
//! as in production; its logs go to a file, as a service's would), `KR_BIN`.
//! Linux only (`/proc`).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use ed25519_dalek::{Signer, SigningKey};
use serde_json::json;

const ACTORS: &[&str] = &[
    "Turkey", "Russia", "France", "Iran", "Hungary", "Georgia", "Pakistan", "Israel",
];
const DISTINCT: usize = 512;

/// (name, fixture): PING as it is; the commands become `/reaction` over `ACTORS`.
const LOADS: [(&str, &str); 3] = [
    ("PING", "ping.json"),
    ("`/reaction` from a server", "command-guild.json"),
    ("`/reaction` in a DM", "command-dm.json"),
];

fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn bodies(fixture: &str) -> Vec<String> {
    let path = format!(
        "{}/tests/fixtures/interactions/{fixture}",
        env!("CARGO_MANIFEST_DIR")
    );
    let template: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    (0..DISTINCT)
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
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap();
    let timestamp = now.as_secs().to_string();
    bodies
        .iter()
        .map(|body| {
            let signature = key.sign(format!("{timestamp}{body}").as_bytes());
            (
                hex::encode(signature.to_bytes()),
                timestamp.clone(),
                body.as_str(),
            )
        })
        .collect()
}

/// wrk on PATH, installed with apt-get if we are root and it is not.
fn find_wrk() -> PathBuf {
    let on_path = || {
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
            .map(|dir| dir.join("wrk"))
            .find(|p| p.is_file())
    };
    if let Some(wrk) = on_path() {
        return wrk;
    }
    if unsafe { libc::geteuid() } == 0 {
        eprintln!("http_load: wrk is not on PATH; installing it with apt-get");
        let _ = Command::new("apt-get")
            .args(["install", "-y", "wrk"])
            .status();
        if let Some(wrk) = on_path() {
            return wrk;
        }
    }
    eprintln!(
        "http_load: wrk is not installed: `sudo apt-get install wrk` (Debian, Ubuntu) or `brew install wrk`."
    );
    std::process::exit(1);
}

/// The server process; killed if the bench stops early.
struct Server {
    child: Child,
    url: String,
    log: PathBuf,
}

impl Server {
    fn start(bin: &Path, dir: &Path, public_key: &str, log_level: &str) -> Server {
        let log = dir.join("server.log");
        let child = Command::new(bin)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .current_dir(dir) // no config/bot.toml from the checkout
            .env_clear()
            .env("DISCORD_PUBLIC_KEY", public_key)
            .env("KR_DATABASE", dir.join("s.sqlite3"))
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
            if let Some(rest) = text.split("listening on ").nth(1) {
                server.url = rest.lines().next().unwrap().trim().to_owned();
            } else if server.child.try_wait().unwrap().is_some() || started.elapsed().as_secs() > 30
            {
                panic!("the server did not start:\n{text}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        server
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// utime + stime, in µs.
    fn cpu_us(&self) -> f64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid())).unwrap();
        // Fields after the command name, which is in parentheses: state is field 3,
        // utime 14, stime 15.
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .unwrap()
            .1
            .split_whitespace()
            .collect();
        let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
        ticks as f64 * tick_us()
    }

    /// A `/proc/<pid>/status` field in MiB (`VmRSS`, `VmHWM`).
    fn memory_mib(&self, field: &str) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        let line = status.lines().find(|l| l.starts_with(field)).unwrap();
        let kib: f64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
        kib / 1024.0
    }

    /// SIGTERM, as systemd would stop it; it should exit cleanly.
    fn stop(mut self) {
        unsafe { libc::kill(self.pid() as i32, libc::SIGTERM) };
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

struct Run {
    requests: u64,
    seconds: f64,
    errors: u64,
    p50_ms: f64,
    p99_ms: f64,
    /// CPU time during the run: the server's, wrk's, and the whole machine's.
    cpu_us: f64,
    wrk_cpu_us: f64,
    machine_cpu_us: f64,
    log_bytes: u64,
}

/// µs per clock tick (`/proc` counts CPU time in ticks).
fn tick_us() -> f64 {
    1e6 / unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64
}

/// CPU time all cores spent busy (not idle or waiting for I/O) since boot, in µs.
fn machine_cpu_us() -> f64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap();
    let ticks: Vec<f64> = stat
        .lines()
        .next()
        .unwrap()
        .split_whitespace()
        .skip(1)
        .map(|t| t.parse().unwrap())
        .collect();
    let (idle, iowait) = (ticks[3], ticks[4]);
    (ticks[..8].iter().sum::<f64>() - idle - iowait) * tick_us()
}

/// CPU time of this process's finished children (the wrk runs), in µs.
fn children_cpu_us() -> f64 {
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    let us = |t: libc::timeval| t.tv_sec as f64 * 1e6 + t.tv_usec as f64;
    us(usage.ru_utime) + us(usage.ru_stime)
}

/// One wrk run of `load`, freshly signed; the server's CPU time is read around it.
fn run(
    wrk: &Path,
    server: &Server,
    dir: &Path,
    key: &SigningKey,
    bodies: &[String],
    seconds: u64,
) -> Run {
    let file = dir.join("requests.txt");
    let lines: Vec<String> = sign(key, bodies)
        .iter()
        .map(|(s, t, b)| format!("{s} {t} {b}\n"))
        .collect();
    std::fs::write(&file, lines.concat()).unwrap();
    let (connections, threads): (u32, u32) = (env("CONNECTIONS", 64), env("THREADS", 1));
    let log_before = std::fs::metadata(&server.log).unwrap().len();
    let before = (server.cpu_us(), children_cpu_us(), machine_cpu_us());
    let output = Command::new(wrk)
        .arg(format!("-t{threads}"))
        .arg(format!("-c{connections}"))
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
    let after = (server.cpu_us(), children_cpu_us(), machine_cpu_us());
    let stdout = String::from_utf8_lossy(&output.stdout);
    let Some(line) = stdout.lines().find_map(|l| l.strip_prefix("wrk-result ")) else {
        panic!(
            "wrk failed:\n{stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    let field = |name: &str| -> f64 {
        let value = line
            .split(' ')
            .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='));
        value.unwrap().parse().unwrap()
    };
    Run {
        requests: field("requests") as u64,
        seconds: field("duration_us") / 1e6,
        errors: ["status", "connect", "read", "write", "timeout"]
            .iter()
            .map(|f| field(f) as u64)
            .sum(),
        p50_ms: field("p50_us") / 1e3,
        p99_ms: field("p99_us") / 1e3,
        cpu_us: after.0 - before.0,
        wrk_cpu_us: after.1 - before.1,
        machine_cpu_us: after.2 - before.2,
        log_bytes: std::fs::metadata(&server.log).unwrap().len() - log_before,
    }
}

/// CPU µs per `Verifier::verify` on this thread (its own CPU time, as for the server:
/// the machine is shared), over `bodies` signed now, for about 2 s.
fn verify_us(key: &SigningKey, bodies: &[String]) -> f64 {
    let public = hex::encode(key.verifying_key().to_bytes());
    let verifier = serenity::interactions_endpoint::Verifier::new(&public);
    let signed = sign(key, bodies);
    let thread_cpu_us = || {
        let mut t: libc::timespec = unsafe { std::mem::zeroed() };
        unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
        t.tv_sec as f64 * 1e6 + t.tv_nsec as f64 / 1e3
    };
    let (started, cpu_before, mut n) = (Instant::now(), thread_cpu_us(), 0u64);
    while started.elapsed() < Duration::from_secs(2) {
        for (signature, timestamp, body) in &signed {
            verifier
                .verify(signature, timestamp, body.as_bytes())
                .expect("a good signature");
        }
        n += signed.len() as u64;
    }
    (thread_cpu_us() - cpu_before) / n as f64
}

/// 12345.6 as "12,346".
fn thousands(n: f64) -> String {
    let digits = format!("{n:.0}");
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    }
}

fn main() {
    // Not a test: run only under `cargo bench`, which passes `--bench`.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let (rounds, seconds, warmup): (usize, u64, u64) =
        (env("ROUNDS", 4), env("SECONDS", 15), env("WARMUP", 3));
    let log_level: String = env("LOG", "info".to_owned());
    // Cargo builds the package's binary for its benches, with the bench profile (the
    // release settings), at target/release/karabakh-reactions; else look there.
    let bin = match (
        std::env::var_os("KR_BIN"),
        option_env!("CARGO_BIN_EXE_karabakh-reactions"),
    ) {
        (Some(bin), _) => PathBuf::from(bin),
        (None, Some(bin)) => PathBuf::from(bin),
        (None, None) => std::env::current_exe()
            .unwrap()
            .ancestors()
            .nth(3)
            .unwrap()
            .join("release/karabakh-reactions"),
    };
    if !bin.is_file() {
        eprintln!(
            "http_load: no {}: run `cargo build --release` first (or set KR_BIN).",
            bin.display()
        );
        std::process::exit(1);
    }
    let wrk = find_wrk();
    let load_before = std::fs::read_to_string("/proc/loadavg").unwrap();
    let load_before = load_before.split(' ').take(3).collect::<Vec<_>>().join(" ");

    let key = SigningKey::from_bytes(&[7u8; 32]);
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        &bin,
        dir.path(),
        &hex::encode(key.verifying_key().to_bytes()),
        &log_level,
    );
    std::thread::sleep(Duration::from_secs(1));
    let idle_rss = server.memory_mib("VmRSS");
    let bodies: Vec<Vec<String>> = LOADS.iter().map(|(_, f)| bodies(f)).collect();

    for b in &bodies {
        run(&wrk, &server, dir.path(), &key, b, warmup);
    }
    let mut runs: Vec<Vec<Run>> = LOADS.iter().map(|_| Vec::new()).collect();
    for round in 1..=rounds {
        for (l, (name, _)) in LOADS.iter().enumerate() {
            let r = run(&wrk, &server, dir.path(), &key, &bodies[l], seconds);
            eprintln!(
                "round {round}, {}: {:.0} requests/s, p50 {:.2} ms, p99 {:.2} ms, {:.1} µs CPU/request, \
                 {} errors; cores busy: server {:.2}, wrk {:.2}, others {:.2}",
                name,
                r.requests as f64 / r.seconds,
                r.p50_ms,
                r.p99_ms,
                r.cpu_us / r.requests as f64,
                r.errors,
                r.cpu_us / r.seconds / 1e6,
                r.wrk_cpu_us / r.seconds / 1e6,
                (r.machine_cpu_us - r.cpu_us - r.wrk_cpu_us) / r.seconds / 1e6,
            );
            runs[l].push(r);
        }
    }
    let (rss, peak) = (server.memory_mib("VmRSS"), server.memory_mib("VmHWM"));
    server.stop();

    let sum = |rs: &[Run], f: fn(&Run) -> f64| rs.iter().map(f).sum::<f64>();
    let per_request = |rs: &[Run], f: fn(&Run) -> f64| sum(rs, f) / sum(rs, |r| r.requests as f64);
    let cores = |rs: &[Run], f: fn(&Run) -> f64| sum(rs, f) / sum(rs, |r| r.seconds) / 1e6;
    let ping_cpu = per_request(&runs[0], |r| r.cpu_us);
    println!(
        "\nwrk -t{} -c{}, {rounds} interleaved rounds of {seconds} s after {warmup} s of each load; \
         server log {log_level}, to a file; {} cores, load average before the run {load_before}",
        env("THREADS", 1),
        env("CONNECTIONS", 64),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
    );
    println!("\n| load | requests/s | p50 | p99 | server CPU µs/request | ratio to PING |");
    println!("| --- | --- | --- | --- | --- | --- |");
    for ((name, _), rs) in LOADS.iter().zip(&runs) {
        let cpu = per_request(rs, |r| r.cpu_us);
        println!(
            "| {} | {} | {:.2} ms | {:.2} ms | {cpu:.1} | {:.2} |",
            name,
            thousands(sum(rs, |r| r.requests as f64) / sum(rs, |r| r.seconds)),
            median(rs.iter().map(|r| r.p50_ms).collect()),
            median(rs.iter().map(|r| r.p99_ms).collect()),
            cpu / ping_cpu,
        );
    }
    println!();
    for ((name, _), rs) in LOADS.iter().zip(&runs) {
        println!(
            "{}: {} non-2xx or socket errors; cores busy: server {:.2}, wrk {:.2} ({:.1} µs/request), \
             everything else {:.2}; log {:.0} bytes/request",
            name,
            rs.iter().map(|r| r.errors).sum::<u64>(),
            cores(rs, |r| r.cpu_us),
            cores(rs, |r| r.wrk_cpu_us),
            per_request(rs, |r| r.wrk_cpu_us),
            cores(rs, |r| r.machine_cpu_us - r.cpu_us - r.wrk_cpu_us),
            per_request(rs, |r| r.log_bytes as f64),
        );
    }
    let verify: Vec<String> = LOADS
        .iter()
        .zip(&bodies)
        .map(|((name, _), b)| format!("{name} {:.1} µs", verify_us(&key, b)))
        .collect();
    println!(
        "verify only (serenity `Verifier::verify`, CPU time on one thread, same bodies): {}",
        verify.join(", ")
    );
    println!(
        "server RSS: idle {idle_rss:.1} MiB, peak under load (VmHWM) {peak:.1} MiB, after {rss:.1} MiB"
    );
    let errors: u64 = runs.iter().flatten().map(|r| r.errors).sum();
    assert_eq!(errors, 0, "wrk saw non-2xx answers or socket errors");
}
