//! Requests per second for the public site: wrk against the release binary's `serve`
//! on loopback, as people reach it. Pages are rendered once and then answered from
//! memory; the search renders every time, on the blocking pool.
//!
//! Per path: requests/s, p50 and p99 latency (wrk's `--latency`), after one request
//! that renders the page. wrk shares the two cores with the server.
//!
//! Run: `cargo bench --bench site_load`. Knobs (environment): `SECONDS` (10 a path),
//! `CONNECTIONS` (32), `THREADS` (wrk's, 1). Needs wrk (installed with apt-get when
//! missing and running as root).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn ensure_wrk() {
    let found = || Command::new("wrk").arg("-v").output().is_ok();
    if found() {
        return;
    }
    eprintln!("site_load: wrk is not on PATH; apt-get install -y wrk");
    let _ = Command::new("apt-get")
        .args(["install", "-y", "wrk"])
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status();
    assert!(found(), "site_load needs wrk: `apt-get install wrk`");
}

/// One plain GET over a fresh connection: the status line and the body.
fn get(addr: &str, path: &str) -> (String, Vec<u8>) {
    let mut s = TcpStream::connect(addr).expect("connect");
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    (
        head.lines().next().unwrap_or("").to_owned(),
        raw[split + 4..].to_vec(),
    )
}

struct Run {
    rps: f64,
    p50: String,
    p99: String,
    bytes: usize,
}

fn wrk(url: &str, seconds: u64, connections: u32, threads: u32) -> Run {
    let out = Command::new("wrk")
        .args([
            &format!("-t{threads}"),
            &format!("-c{connections}"),
            &format!("-d{seconds}s"),
            "--latency",
            url,
        ])
        .output()
        .expect("run wrk");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "wrk failed: {text}");
    assert!(!text.contains("Non-2xx"), "some requests failed: {text}");
    let field = |prefix: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(prefix).map(|v| v.trim().to_owned()))
            .unwrap_or_else(|| panic!("no `{prefix}` in wrk's output: {text}"))
    };
    Run {
        rps: field("Requests/sec:").parse().unwrap(),
        p50: field("50%"),
        p99: field("99%"),
        bytes: 0,
    }
}

fn main() {
    // `cargo bench` passes --bench; a plain `cargo test --benches` run passes nothing.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    ensure_wrk();
    let seconds: u64 = env("SECONDS", 10);
    let connections: u32 = env("CONNECTIONS", 32);
    let threads: u32 = env("THREADS", 1);
    let dir = tempfile::tempdir().unwrap();
    let key = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
    let mut server = Command::new(env!("CARGO_BIN_EXE_karabakh-reactions"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .current_dir(dir.path())
        .env(
            "DISCORD_PUBLIC_KEY",
            hex::encode(key.verifying_key().to_bytes()),
        )
        .env("KR_DATABASE", dir.path().join("settings.sqlite3"))
        .env("KR_LOG", "warn")
        .env_remove("DISCORD_TOKEN")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start serve");
    let mut lines = BufReader::new(server.stderr.take().unwrap()).lines();
    let addr = loop {
        let line = lines.next().expect("serve printed its address").unwrap();
        if let Some(rest) = line.split("listening on http://").nth(1) {
            break rest.trim_end_matches("/interactions").to_owned();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    let (_, home) = get(&addr, "/");
    let home = String::from_utf8(home).unwrap();
    let chart = home
        .split("src=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("the home page shows a chart");
    let paths = [
        "/statements/s2.1/".to_owned(),
        "/".to_owned(),
        "/actors/turkey/".to_owned(),
        format!("/{chart}"),
        "/search/?q=ceasefire".to_owned(),
    ];
    println!(
        "site_load: wrk -t{threads} -c{connections} -d{seconds}s against serve (release) on {addr}"
    );
    println!("| path | response bytes | requests/s | p50 | p99 |");
    println!("| --- | ---: | ---: | ---: | ---: |");
    for path in &paths {
        let started = Instant::now();
        let (status, body) = get(&addr, path);
        assert!(status.contains(" 200 "), "{path}: {status}");
        let first = started.elapsed();
        let mut run = wrk(
            &format!("http://{addr}{path}"),
            seconds,
            connections,
            threads,
        );
        run.bytes = body.len();
        println!(
            "| `{path}` | {} | {:.0} | {} | {} |  (first request {:.1} ms)",
            run.bytes,
            run.rps,
            run.p50,
            run.p99,
            first.as_secs_f64() * 1000.0
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let _ = server.kill();
    let _ = server.wait();
}
