//! Load on the HTTP interactions endpoint, over loopback, against the floor of the
//! Ed25519 verification it must do for every request.
//!
//! The real app ([`endpoint::app`] with the embedded dataset and a SQLite settings
//! database) runs on its own tokio runtime with `WORKERS` worker threads. A load
//! generator on a separate one-thread runtime keeps 64 keep-alive HTTP/1.1
//! connections busy (raw tokio TCP, one request in flight on each) with signed
//! `/reaction` commands, pre-signed before the run so signing is not measured. After
//! a warm-up it counts answers and their latencies (send to last byte) for the run.
//!
//! The verify-only rate is what the same `WORKERS` threads do when they only run
//! serenity's `Verifier::verify` over the same requests, with nothing else running:
//! the server's share of the machine doing nothing but crypto. It is measured just
//! before and just after the load, and the ratio uses their mean.
//!
//! Run: `cargo bench --bench http_load`. Knobs (environment): `WORKERS` (default 1,
//! so on 2 cores the server has one and the load generator the other),
//! `CONNECTIONS` (64), `SECONDS` (10), `WARMUP` (2), `PLACE` (`guild`: commands from
//! a server, which read its settings from the database; `dm`; or `ping`, PINGs: the
//! signature check and HTTP alone), `LOG` (the
//! server's log filter, default `info` as in production, written to a sink).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use ed25519_dalek::{Signer, SigningKey};
use karabakh_core::commands::Core;
use karabakh_reactions::discord::endpoint::{self, Endpoint};
use karabakh_reactions::service::Service;
use karabakh_store::{SettingsStore, SqliteStore};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Actors the requests ask about (a mix of long and short answers).
const ACTORS: &[&str] = &[
    "Turkey", "Russia", "France", "Iran", "Hungary", "Georgia", "Pakistan", "Israel",
];
const DISTINCT: usize = 2048;

fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One pre-signed request: its raw HTTP bytes, and the parts `verify` takes.
struct Signed {
    raw: Vec<u8>,
    signature: String,
    timestamp: String,
    body: Vec<u8>,
}

fn requests(key: &SigningKey, place: &str, addr: SocketAddr) -> Vec<Signed> {
    let file = match place {
        "dm" => "command-dm.json",
        "ping" => "ping.json",
        _ => "command-guild.json",
    };
    let path = format!(
        "{}/tests/fixtures/interactions/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    let template: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    // Signed a little ahead, so the whole run stays within the 300 s window.
    let timestamp = jiff::Timestamp::now().as_second().to_string();
    (0..DISTINCT)
        .map(|i| {
            let mut p = template.clone();
            p["id"] = json!(format!("{}", 1_200_000_000_000_000_000u64 + i as u64));
            p["token"] = json!(format!("bench-token-{i}"));
            if place != "ping" {
                p["data"]["name"] = json!("reaction");
                p["data"]["options"] =
                    json!([{"name": "actor", "type": 3, "value": ACTORS[i % ACTORS.len()]}]);
            }
            let body = serde_json::to_vec(&p).unwrap();
            let mut message = timestamp.as_bytes().to_vec();
            message.extend_from_slice(&body);
            let signature = hex::encode(key.sign(&message).to_bytes());
            let mut raw = format!(
                "POST {} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
                 Content-Length: {}\r\nX-Signature-Ed25519: {signature}\r\n\
                 X-Signature-Timestamp: {timestamp}\r\n\r\n",
                endpoint::PATH,
                body.len()
            )
            .into_bytes();
            raw.extend_from_slice(&body);
            Signed {
                raw,
                signature,
                timestamp: timestamp.clone(),
                body,
            }
        })
        .collect()
}

/// Verifications per second on `threads` threads doing nothing else, for `secs`.
fn verify_only(
    verifier: &serenity::interactions_endpoint::Verifier,
    reqs: &[Signed],
    threads: usize,
    secs: f64,
) -> f64 {
    let stop = AtomicBool::new(false);
    let started = Instant::now();
    let total: u64 = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let stop = &stop;
                s.spawn(move || {
                    let mut n = 0u64;
                    let mut i = t * 97;
                    while !stop.load(Ordering::Relaxed) {
                        let r = &reqs[i % reqs.len()];
                        verifier
                            .verify(&r.signature, &r.timestamp, &r.body)
                            .expect("a good signature");
                        n += 1;
                        i += 1;
                    }
                    n
                })
            })
            .collect();
        std::thread::sleep(Duration::from_secs_f64(secs));
        stop.store(true, Ordering::Relaxed);
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    total as f64 / started.elapsed().as_secs_f64()
}

/// Reads one HTTP/1.1 response (with a Content-Length) from `stream`; its status.
async fn read_response(stream: &mut tokio::net::TcpStream, buf: &mut Vec<u8>) -> u16 {
    buf.clear();
    let mut chunk = [0u8; 16 * 1024];
    let (head_end, length) = loop {
        let n = stream.read(&mut chunk).await.expect("read");
        assert!(n > 0, "the server closed the connection");
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = std::str::from_utf8(&buf[..end]).unwrap();
            let length = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse::<usize>().unwrap())
                })
                .expect("a Content-Length");
            break (end + 4, length);
        }
    };
    while buf.len() < head_end + length {
        let n = stream.read(&mut chunk).await.expect("read");
        assert!(n > 0, "the server closed the connection");
        buf.extend_from_slice(&chunk[..n]);
    }
    std::str::from_utf8(&buf[9..12]).unwrap().parse().unwrap()
}

struct Load {
    answered: u64,
    errors: u64,
    latencies_us: Vec<u32>,
    elapsed: Duration,
}

/// Keeps `connections` connections busy; counts what happens between `warmup` and
/// `warmup + run`.
async fn load(
    addr: SocketAddr,
    reqs: Arc<Vec<Signed>>,
    connections: usize,
    warmup: Duration,
    run: Duration,
) -> Load {
    let start = Instant::now();
    let (from, to) = (start + warmup, start + warmup + run);
    let tasks: Vec<_> = (0..connections)
        .map(|c| {
            let reqs = Arc::clone(&reqs);
            tokio::spawn(async move {
                let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
                stream.set_nodelay(true).unwrap();
                let mut buf = Vec::with_capacity(16 * 1024);
                let (mut answered, mut errors, mut lat) = (0u64, 0u64, Vec::new());
                let mut i = c * 31;
                loop {
                    let sent = Instant::now();
                    if sent >= to {
                        break;
                    }
                    stream.write_all(&reqs[i % reqs.len()].raw).await.unwrap();
                    let status = read_response(&mut stream, &mut buf).await;
                    let done = Instant::now();
                    if sent >= from && done <= to {
                        if status == 200 {
                            answered += 1;
                            lat.push((done - sent).as_micros() as u32);
                        } else {
                            errors += 1;
                        }
                    }
                    i += 1;
                }
                (answered, errors, lat)
            })
        })
        .collect();
    let mut result = Load {
        answered: 0,
        errors: 0,
        latencies_us: Vec::new(),
        elapsed: run,
    };
    for t in tasks {
        let (a, e, l) = t.await.unwrap();
        result.answered += a;
        result.errors += e;
        result.latencies_us.extend(l);
    }
    result.latencies_us.sort_unstable();
    result
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

/// Where a request's time goes, step by step, on one thread (means over the set).
fn breakdown(
    service: &Service,
    verifier: &serenity::interactions_endpoint::Verifier,
    reqs: &[Signed],
) {
    let n = reqs.len();
    let time = |f: &mut dyn FnMut(&Signed)| {
        let started = Instant::now();
        for r in reqs {
            f(r);
        }
        started.elapsed().as_secs_f64() * 1e6 / n as f64
    };
    let verify = time(&mut |r| {
        verifier
            .verify(&r.signature, &r.timestamp, &r.body)
            .unwrap()
    });
    // As the endpoint parses: the type first, then the typed interaction.
    #[derive(serde::Deserialize)]
    struct Peek {
        #[serde(rename = "type")]
        _kind: u64,
    }
    let peek = time(&mut |r| {
        std::hint::black_box(serde_json::from_slice::<Peek>(&r.body).unwrap());
    });
    let started = Instant::now();
    let interactions: Vec<serenity::all::Interaction> = reqs
        .iter()
        .map(|r| serenity::all::Interaction::Command(serde_json::from_slice(&r.body).unwrap()))
        .collect();
    let typed = started.elapsed().as_secs_f64() * 1e6 / n as f64;
    let store_read = match (
        &service.store,
        interactions[0].as_command().and_then(|c| c.guild_id),
    ) {
        (Some(store), Some(guild)) => {
            let started = Instant::now();
            for _ in 0..n {
                std::hint::black_box(store.guild_settings(guild.get()).unwrap());
            }
            started.elapsed().as_secs_f64() * 1e6 / n as f64
        }
        _ => 0.0,
    };
    let now = jiff::Timestamp::now();
    let started = Instant::now();
    let handled: Vec<_> = interactions
        .iter()
        .map(|i| service.handle(karabakh_reactions::discord::interaction::request(i, now).unwrap()))
        .collect();
    let handle = started.elapsed().as_secs_f64() * 1e6 / n as f64;
    let started = Instant::now();
    for h in &handled {
        std::hint::black_box(karabakh_reactions::discord::render::body(&h.reply));
    }
    let render = started.elapsed().as_secs_f64() * 1e6 / n as f64;
    println!(
        "per request, one thread: verify {verify:.1} µs, peek at the type {peek:.1} µs, \
         serenity's CommandInteraction {typed:.1} µs, Service::handle {handle:.1} µs (of which the \
         settings read {store_read:.1} µs), render {render:.1} µs"
    );
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` would pass nothing we
    // use, and this is not a test: run only under `cargo bench`.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let workers: usize = env("WORKERS", 1);
    let connections: usize = env("CONNECTIONS", 64);
    let seconds: f64 = env("SECONDS", 10.0);
    let warmup: f64 = env("WARMUP", 2.0);
    let place: String = env("PLACE", "guild".to_owned());
    let log: String = env("LOG", "info".to_owned());

    let filter = tracing_subscriber::EnvFilter::new(&log);
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::sink)
        .with_ansi(false)
        .init();

    let key = SigningKey::from_bytes(&[7u8; 32]);
    let public = hex::encode(key.verifying_key().to_bytes());
    let verifier = endpoint::verifier(&public).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn SettingsStore> =
        Arc::new(SqliteStore::open(dir.path().join("settings.sqlite3")).unwrap());
    let service = Service::new(Arc::new(Core::embedded().unwrap()), Some(store));
    let state_service = service.clone();
    let state = Arc::new(Endpoint::new(service, verifier.clone()));

    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .thread_name("server")
        .enable_all()
        .build()
        .unwrap();
    let listener = server_rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = server_rt.spawn(endpoint::serve(listener, Arc::clone(&state), async {
        let _ = stop_rx.await;
    }));

    let reqs = Arc::new(requests(&key, &place, addr));
    let body_len = reqs[0].body.len();

    let verify_secs = 3.0;
    let before = verify_only(&verifier, &reqs, workers, verify_secs);

    let client_rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let result = client_rt.block_on(load(
        addr,
        Arc::clone(&reqs),
        connections,
        Duration::from_secs_f64(warmup),
        Duration::from_secs_f64(seconds),
    ));
    let after = verify_only(&verifier, &reqs, workers, verify_secs);

    let _ = stop_tx.send(());
    server_rt.block_on(server).unwrap().unwrap();

    let what = match place.as_str() {
        "ping" => "PING".to_owned(),
        place => format!("/reaction from a {place}"),
    };
    let rate = result.answered as f64 / result.elapsed.as_secs_f64();
    let floor = (before + after) / 2.0;
    let l = &result.latencies_us;
    println!(
        "http_load: {connections} connections, {workers} server worker thread(s), \
         {what}, body {body_len} B, log {log}, {seconds} s after {warmup} s warm-up, \
         {} cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!(
        "endpoint:    {rate:>9.0} requests/s  ({} answered, {} not 200)",
        result.answered, result.errors
    );
    println!(
        "latency:     p50 {:.2} ms  p99 {:.2} ms  max {:.2} ms",
        percentile(l, 0.50),
        percentile(l, 0.99),
        l.last().map_or(f64::NAN, |&m| m as f64 / 1000.0)
    );
    println!(
        "verify-only: {floor:>9.0} verifications/s on {workers} thread(s) (before {before:.0}, after {after:.0})"
    );
    println!(
        "ratio:       {:.1} % of the verify-only rate (target >= 90 %), p99 target < 5 ms",
        100.0 * rate / floor
    );
    if place != "ping" {
        breakdown(&state_service, &verifier, &reqs);
    }
    if place != "ping" {
        let handled = state.metrics().handled_total();
        assert!(handled >= result.answered, "the endpoint counted {handled}");
    }
}
