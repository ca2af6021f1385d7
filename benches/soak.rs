//! Memory under idle connections and over a long sustained load: the release binary's
//! RSS (`/proc/<pid>/status`) idle, with 10,000 idle connections open, and minute by
//! minute over a soak of wrk load (signed `/reaction` from a server, 64 connections,
//! re-signed every minute so the timestamps stay within the server's 300 s window).
//! Also the load held under a slow-client attack: wrk alone for 30 s, then 30 s more
//! while `SLOW` (2,000) slowloris clients send request heads a byte at a time.
//! Not run in CI: `cargo bench --bench soak` (Linux, wrk on PATH). Knobs
//! (environment): `MINUTES` (10), `IDLE` (10000 connections), `SLOW` (2000),
//! `CONNECTIONS` (64), `KR_BIN` (the binary; default
//! `target/release/karabakh-reactions`).
//!
//! Prints one line per measurement and a summary for RELIABILITY.md.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use ed25519_dalek::{Signer, SigningKey};
use serde_json::json;

const ACTORS: &[&str] = &[
    "Turkey", "Russia", "France", "Iran", "Hungary", "Georgia", "Pakistan", "Israel",
];

fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn bodies() -> Vec<String> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/interactions/command-guild.json"
    );
    let template: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    (0..512)
        .map(|i| {
            let mut p = template.clone();
            p["id"] = json!((1_300_000_000_000_000_000u64 + i as u64).to_string());
            p["token"] = json!(format!("soak-token-{i}"));
            p["data"]["options"][0]["value"] = json!(ACTORS[i % ACTORS.len()]);
            p.to_string()
        })
        .collect()
}

/// The file wrk's script reads: `signature timestamp body` a line, signed now.
fn signed_file(key: &SigningKey, bodies: &[String], file: &Path) {
    let now = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH);
    let ts = now.unwrap().as_secs().to_string();
    let mut out = String::new();
    for body in bodies {
        let signature = hex::encode(key.sign(format!("{ts}{body}").as_bytes()).to_bytes());
        out.push_str(&format!("{signature} {ts} {body}\n"));
    }
    std::fs::write(file, out).unwrap();
}

struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(bin: &Path, dir: &Path, key: &SigningKey) -> Server {
        let log = dir.join("server.log");
        let child = Command::new(bin)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .current_dir(dir)
            .env_clear()
            .env(
                "DISCORD_PUBLIC_KEY",
                hex::encode(key.verifying_key().to_bytes()),
            )
            .env("KR_DATABASE", dir.join("s.sqlite3"))
            .env("KR_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        let mut server = Server {
            child,
            url: String::new(),
        };
        let started = Instant::now();
        while server.url.is_empty() {
            let text = std::fs::read_to_string(&log).unwrap();
            if let Some((_, rest)) = text.split_once("listening on ") {
                server.url = rest.lines().next().unwrap().to_owned();
            }
            assert!(
                started.elapsed().as_secs() < 30,
                "the server did not start:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        server
    }

    fn addr(&self) -> String {
        self.url
            .trim_start_matches("http://")
            .trim_end_matches("/interactions")
            .to_owned()
    }

    /// `VmRSS` or `VmHWM`, in MiB.
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

    fn threads(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let line = status.lines().find(|l| l.starts_with("Threads")).unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One signed request on a fresh connection: its status.
fn one_request(server: &Server, key: &SigningKey, body: &str) -> u16 {
    use std::io::Read;
    let ts = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .to_string();
    let signature = hex::encode(key.sign(format!("{ts}{body}").as_bytes()).to_bytes());
    let mut s = std::net::TcpStream::connect(server.addr()).unwrap();
    write!(
        s,
        "POST /interactions HTTP/1.1\r\nHost: bot\r\nContent-Type: application/json\r\n\
         X-Signature-Ed25519: {signature}\r\nX-Signature-Timestamp: {ts}\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = Vec::new();
    let _ = s.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer)
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// One wrk run of `seconds` on the signed file: (requests/s, p99 ms, errors).
fn wrk(server: &Server, file: &Path, connections: u64, seconds: u64) -> (f64, f64, f64, f64) {
    let output = Command::new("wrk")
        .args([
            "-t1",
            &format!("-c{connections}"),
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
        .arg(file)
        .output()
        .expect("wrk on PATH");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let Some(result) = stdout.lines().find_map(|l| l.strip_prefix("wrk-result ")) else {
        panic!(
            "wrk failed:\n{stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    let field = |name: &str| -> f64 {
        result
            .split(' ')
            .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
            .unwrap()
            .parse()
            .unwrap()
    };
    let requests = field("requests");
    let errors: f64 = ["status", "connect", "read", "write", "timeout"]
        .map(field)
        .iter()
        .sum();
    (
        requests / (field("duration_us") / 1e6),
        field("p99_us") / 1e3,
        errors,
        requests,
    )
}

/// Slowloris: `n` connections, each sending a request's head one byte at a time (a
/// byte to each every 500 ms), reopened when the server closes them, until `stop`.
/// Returns how many times the server closed one.
fn slowloris(
    addr: String,
    n: usize,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> std::thread::JoinHandle<u64> {
    std::thread::spawn(move || {
        let head = b"POST /interactions HTTP/1.1\r\nHost: bot\r\nX-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
        let connect = || std::net::TcpStream::connect(&addr).ok();
        let mut conns: Vec<(Option<std::net::TcpStream>, usize)> =
            (0..n).map(|_| (connect(), 0)).collect();
        let mut closed = 0;
        while !stop.load(std::sync::atomic::Ordering::Relaxed) {
            for (c, sent) in conns.iter_mut() {
                let ok = match c {
                    Some(s) => s.write_all(&head[*sent % head.len()..][..1]).is_ok(),
                    None => false,
                };
                *sent += 1;
                if !ok {
                    closed += 1;
                    *c = connect();
                    *sent = 0;
                }
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        closed
    })
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let minutes: u64 = env("MINUTES", 10);
    let idle: usize = env("IDLE", 10_000);
    let connections: u64 = env("CONNECTIONS", 64);
    let bin = std::env::var_os("KR_BIN").map_or_else(
        || {
            std::env::current_exe()
                .unwrap()
                .ancestors()
                .nth(3)
                .unwrap()
                .join("release/karabakh-reactions")
        },
        PathBuf::from,
    );
    let dir = tempfile::tempdir().unwrap();
    let key = SigningKey::from_bytes(&[11u8; 32]);
    let bodies = bodies();
    let server = Server::start(&bin, dir.path(), &key);
    assert_eq!(one_request(&server, &key, &bodies[0]), 200);
    std::thread::sleep(Duration::from_secs(1));
    let idle_rss = server.mib("VmRSS");
    println!(
        "soak: idle RSS {idle_rss:.1} MiB, {} threads",
        server.threads()
    );

    // Idle connections: opened, nothing sent; the server closes them after its 10 s
    // for a request's head.
    let mut held = Vec::with_capacity(idle);
    let opened = Instant::now();
    for _ in 0..idle {
        match std::net::TcpStream::connect(server.addr()) {
            Ok(s) => held.push(s),
            Err(e) => {
                println!("soak: connection {} refused: {e}", held.len());
                break;
            }
        }
    }
    std::thread::sleep(Duration::from_secs(2));
    let idle_conn_rss = server.mib("VmRSS");
    let status_meanwhile = one_request(&server, &key, &bodies[1]);
    println!(
        "soak: {} idle connections opened in {:.1} s: RSS {idle_conn_rss:.1} MiB ({:+.1}), \
         a signed request meanwhile: {status_meanwhile}",
        held.len(),
        opened.elapsed().as_secs_f64(),
        idle_conn_rss - idle_rss
    );
    std::thread::sleep(Duration::from_secs(12));
    // Those the server closed read EOF; count them.
    let mut closed = 0;
    for s in &mut held {
        use std::io::Read;
        s.set_read_timeout(Some(Duration::from_millis(1))).unwrap();
        let mut b = [0u8; 1];
        if matches!(s.read(&mut b), Ok(0)) {
            closed += 1;
        }
    }
    drop(held);
    std::thread::sleep(Duration::from_secs(1));
    let after_idle_rss = server.mib("VmRSS");
    println!(
        "soak: 14 s later the server had closed {closed} of them; after they are gone: RSS {after_idle_rss:.1} MiB"
    );

    // Slow clients against signed load: 30 s of wrk alone, then 30 s with `SLOW`
    // slowloris connections.
    let file = dir.path().join("requests.txt");
    let slow: usize = env("SLOW", 2000);
    signed_file(&key, &bodies, &file);
    let (base_rps, base_p99, base_errors, _) = wrk(&server, &file, connections, 30);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let attack = slowloris(server.addr(), slow, std::sync::Arc::clone(&stop));
    std::thread::sleep(Duration::from_secs(3));
    signed_file(&key, &bodies, &file);
    let (attack_rps, attack_p99, attack_errors, _) = wrk(&server, &file, connections, 30);
    let attack_rss = server.mib("VmRSS");
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let closed = attack.join().unwrap();
    println!(
        "soak: wrk alone: {base_rps:.0} requests/s, p99 {base_p99:.1} ms, errors {base_errors}; \
         with {slow} slowloris clients: {attack_rps:.0} requests/s, p99 {attack_p99:.1} ms, \
         errors {attack_errors}, RSS {attack_rss:.1} MiB; the server closed slow clients {closed} times"
    );

    // The soak: a minute of wrk at a time, re-signed each minute.
    let mut rss = Vec::new();
    let mut total_requests = 0.0;
    let mut total_errors = 0.0;
    for minute in 1..=minutes {
        signed_file(&key, &bodies, &file);
        let (rps, p99, errors, requests) = wrk(&server, &file, connections, 60);
        total_requests += requests;
        total_errors += errors;
        let now_rss = server.mib("VmRSS");
        rss.push(now_rss);
        println!(
            "soak: minute {minute}: {rps:.0} requests/s, p99 {p99:.1} ms, errors {errors}, RSS {now_rss:.1} MiB, peak {:.1} MiB",
            server.mib("VmHWM"),
        );
    }
    let first = rss.first().copied().unwrap_or(0.0);
    let last = rss.last().copied().unwrap_or(0.0);
    println!(
        "soak summary: idle {idle_rss:.1} MiB | {idle} idle connections {idle_conn_rss:.1} MiB | \
         at load {first:.1} MiB after minute 1, {last:.1} MiB after minute {minutes} \
         (growth {:+.1} MiB) | peak {:.1} MiB | {total_requests:.0} requests, {total_errors} errors",
        last - first,
        server.mib("VmHWM")
    );
}
