//! The HTTP server under hostile and overloading clients, over loopback sockets:
//! slow headers (slowloris), bodies that trickle, more requests or connections than it
//! takes, and a request whose handling panics. Signed requests (the tests' own key on
//! Discord's payloads) must keep being answered meanwhile.
//!
//! "In time" is Discord's 3 s for an interaction's answer: the tests check that bound
//! (generous on a loaded machine, where an answer takes milliseconds), never a speed.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use ed25519_dalek::{Signer, SigningKey};
use karabakh_reactions::discord::endpoint::{self, Endpoint};
use karabakh_reactions::server::{self, Limits};
use karabakh_reactions::service::Service;
use support::now;
use support::payload::fixture;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Discord's wait for an interaction's answer.
const DISCORD_WAIT: Duration = Duration::from_secs(3);

fn key() -> SigningKey {
    SigningKey::from_bytes(&[7u8; 32])
}

/// The endpoint (no database: these tests are about the server) plus two routes of
/// the tests' own: `/slow` answers after a second, `/panic` panics.
fn router() -> Router {
    let service = Service::new(support::core(), None);
    let verifier = endpoint::verifier(&hex::encode(key().verifying_key().to_bytes())).unwrap();
    let endpoint = Arc::new(Endpoint::with_clock(service, verifier, Arc::new(now)));
    endpoint::app(endpoint)
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(1)).await;
                "slow\n"
            }),
        )
        .route(
            "/panic",
            get(|| async {
                if std::hint::black_box(true) {
                    panic!("a handler's bug");
                }
                "unreachable\n"
            }),
        )
}

struct Server {
    addr: std::net::SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn start(limits: Limits) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(server::serve(listener, router(), limits, async move {
        let _ = stopped.await;
    }));
    Server {
        addr,
        stop: Some(stop),
        task,
    }
}

impl Server {
    async fn stop(mut self) {
        self.stop.take().unwrap().send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(20), self.task)
            .await
            .expect("the server stops")
            .unwrap()
            .unwrap();
    }
}

/// A signed interaction as Discord sends it, as raw HTTP/1.1 with `Connection: close`.
fn signed_request(fixture_name: &str) -> Vec<u8> {
    let body = serde_json::to_vec(&fixture(fixture_name)).unwrap();
    let ts = now().as_second().to_string();
    let mut message = ts.as_bytes().to_vec();
    message.extend_from_slice(&body);
    let signature = hex::encode(key().sign(&message).to_bytes());
    let mut r = format!(
        "POST {} HTTP/1.1\r\nHost: bot\r\nContent-Type: application/json\r\n\
         X-Signature-Ed25519: {signature}\r\nX-Signature-Timestamp: {ts}\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        endpoint::PATH,
        body.len()
    )
    .into_bytes();
    r.extend_from_slice(&body);
    r
}

/// Sends `request` on a new connection and reads the whole answer (the server closes
/// it): the status line and headers, as text, and how long it took.
async fn exchange(addr: std::net::SocketAddr, request: &[u8]) -> (String, Duration) {
    let started = Instant::now();
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await;
    (
        String::from_utf8_lossy(&answer).into_owned(),
        started.elapsed(),
    )
}

fn status(answer: &str) -> u16 {
    answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {answer:?}"))
}

fn header<'a>(answer: &'a str, name: &str) -> Option<&'a str> {
    let head = answer.split("\r\n\r\n").next()?;
    head.lines().skip(1).find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// A signed PING and a signed `/reaction Turkey` are answered 200, each in time.
async fn signed_requests_are_answered(addr: std::net::SocketAddr) {
    for name in ["ping.json", "command-guild.json", "command-dm.json"] {
        let (answer, took) = exchange(addr, &signed_request(name)).await;
        assert_eq!(status(&answer), 200, "{name}: {answer:.200}");
        assert!(took < DISCORD_WAIT, "{name} took {took:?}");
    }
}

/// Slowloris: 400 clients send a request's head byte by byte, one byte each per
/// 200 ms, and never finish. Signed requests are answered in time throughout, and the
/// slow clients are closed once their time for the head is up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_headers_hold_neither_the_server_nor_signed_requests() {
    let limits = Limits {
        header_read: Duration::from_secs(2),
        ..Limits::default()
    };
    let server = start(limits).await;
    let head = b"POST /interactions HTTP/1.1\r\nHost: bot\r\nX-Signature-Ed25519: 0123456789abcdef0123456789abcdef";
    let mut slow = Vec::new();
    for _ in 0..400 {
        slow.push(TcpStream::connect(server.addr).await.unwrap());
    }
    let attack_started = Instant::now();
    let dripping = tokio::spawn(async move {
        let mut closed = vec![None; slow.len()];
        for byte in head.iter().cycle().take(40) {
            for (i, stream) in slow.iter_mut().enumerate() {
                if closed[i].is_none() && stream.write_all(&[*byte]).await.is_err() {
                    closed[i] = Some(attack_started.elapsed());
                }
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        // Whatever is still open must be closed by the server: reading ends (EOF, or
        // an error) rather than waiting.
        for (i, stream) in slow.iter_mut().enumerate() {
            if closed[i].is_none() {
                let mut buf = [0u8; 256];
                let read = tokio::time::timeout(Duration::from_secs(5), async {
                    loop {
                        match stream.read(&mut buf).await {
                            Ok(0) | Err(_) => break,
                            Ok(_) => continue,
                        }
                    }
                })
                .await;
                assert!(read.is_ok(), "a slow client {i} was never closed");
                closed[i] = Some(attack_started.elapsed());
            }
        }
        closed
    });
    // Meanwhile, Discord's requests.
    for _ in 0..5 {
        signed_requests_are_answered(server.addr).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let closed = dripping.await.unwrap();
    let latest = closed.iter().map(|c| c.unwrap()).max().unwrap();
    // Each slow client was closed after its 2 s for the head: none lasted the 8 s of
    // dripping plus the wait above.
    assert!(
        latest < Duration::from_secs(13),
        "the last slow client closed at {latest:?}"
    );
    signed_requests_are_answered(server.addr).await;
    server.stop().await;
}

/// A body that trickles (a byte per 100 ms of the 200 announced) is cut off at the
/// deadline with 503 and `Retry-After`, and takes no place among the requests in
/// flight meanwhile: a signed request is answered while it trickles.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trickling_body_is_cut_off_at_the_deadline() {
    let limits = Limits {
        deadline: Duration::from_millis(1500),
        in_flight: 1,
        ..Limits::default()
    };
    let server = start(limits).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream
        .write_all(
            b"POST /interactions HTTP/1.1\r\nHost: bot\r\nContent-Type: application/json\r\n\
              Content-Length: 200\r\n\r\n{",
        )
        .await
        .unwrap();
    let started = Instant::now();
    let trickle = tokio::spawn(async move {
        for _ in 0..60 {
            if stream.write_all(b" ").await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let mut answer = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
        String::from_utf8_lossy(&answer).into_owned()
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    // The only place in flight is free: the trickling body has not taken it.
    signed_requests_are_answered(server.addr).await;
    let answer = trickle.await.unwrap();
    assert_eq!(status(&answer), 503, "{answer}");
    assert_eq!(header(&answer, "retry-after"), Some("1"));
    // Cut off at its deadline (1.5 s), long before its 200 bytes (20 s) arrived.
    assert!(started.elapsed() < Duration::from_secs(10));
    server.stop().await;
}

/// More requests than places in flight: the one over is answered 503 with
/// `Retry-After` at once, not queued; when the load is gone, signed requests are
/// answered again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_over_the_bound_are_shed_with_retry_after() {
    let limits = Limits {
        in_flight: 2,
        ..Limits::default()
    };
    let server = start(limits).await;
    let addr = server.addr;
    let slow_request = b"GET /slow HTTP/1.1\r\nHost: bot\r\nConnection: close\r\n\r\n";
    let busy: Vec<_> = (0..2)
        .map(|_| tokio::spawn(async move { exchange(addr, slow_request).await }))
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (answer, took) = exchange(addr, &signed_request("ping.json")).await;
    assert_eq!(status(&answer), 503, "{answer}");
    assert_eq!(header(&answer, "retry-after"), Some("1"));
    assert!(
        took < Duration::from_millis(700),
        "shed at once, not after the slow ones: {took:?}"
    );
    for b in busy {
        let (answer, _) = b.await.unwrap();
        assert_eq!(
            status(&answer),
            200,
            "the requests in flight finish: {answer}"
        );
    }
    signed_requests_are_answered(addr).await;
    server.stop().await;
}

/// More connections than the server serves at once: the one over is answered 503 with
/// `Retry-After` and closed; once a connection closes, requests are served again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_the_bound_get_503_and_retry_after() {
    let limits = Limits {
        connections: 3,
        ..Limits::default()
    };
    let server = start(limits).await;
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(TcpStream::connect(server.addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (answer, took) = exchange(server.addr, &signed_request("ping.json")).await;
    assert_eq!(status(&answer), 503, "{answer}");
    assert_eq!(header(&answer, "retry-after"), Some("1"));
    assert!(took < DISCORD_WAIT, "{took:?}");
    drop(held);
    tokio::time::sleep(Duration::from_millis(200)).await;
    signed_requests_are_answered(server.addr).await;
    server.stop().await;
}

/// A request whose handler panics is answered 500; the server carries on, on the same
/// connection and on others.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_in_one_request_answers_500_and_the_next_is_served() {
    let server = start(Limits::default()).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream
        .write_all(b"GET /panic HTTP/1.1\r\nHost: bot\r\n\r\nGET /healthz HTTP/1.1\r\nHost: bot\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer))
        .await
        .unwrap()
        .unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert_eq!(status(&answer), 500, "{answer}");
    let second = &answer[answer.find("\r\n\r\n").unwrap()..];
    let second = &second[second.find("HTTP/1.1").expect("a second answer")..];
    assert_eq!(status(second), 200, "{second}");
    for _ in 0..3 {
        let (answer, _) = exchange(
            server.addr,
            b"GET /panic HTTP/1.1\r\nHost: bot\r\nConnection: close\r\n\r\n",
        )
        .await;
        assert_eq!(status(&answer), 500);
    }
    signed_requests_are_answered(server.addr).await;
    server.stop().await;
}

/// The admin address (`admin.listen`) is served by the same server, within its own
/// bounds ([`admin::limits`]; here shorter): a client that sends its head slowly is
/// closed after its time for it, the connection over the bound gets 503 with
/// `Retry-After`, and a health check that panics answers 500 while `/metrics` and the
/// next requests are answered. Before, it ran on plain `axum::serve`, which waits for
/// a head forever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_address_is_held_to_the_same_bounds() {
    use karabakh_reactions::admin::{self, Admin};

    // The admin view's own bounds are those of the public listener but for how many
    // at once.
    let defaults = Limits::default();
    let own = admin::limits();
    assert_eq!(
        (own.header_read, own.deadline, own.body),
        (defaults.header_read, defaults.deadline, defaults.body)
    );
    assert!(own.connections < defaults.connections && own.in_flight < defaults.in_flight);

    let limits = Limits {
        header_read: Duration::from_secs(1),
        connections: 2,
        ..admin::limits()
    };
    let view = Admin::new("serve").check("store", || async {
        if std::hint::black_box(true) {
            panic!("a check's bug");
        }
        Ok(serde_json::Value::Null)
    });
    let server = admin::start_with(Some("127.0.0.1:0".parse().unwrap()), view, limits)
        .await
        .unwrap()
        .unwrap();
    let addr = server.addr;
    let get =
        |path: &str| format!("GET {path} HTTP/1.1\r\nHost: admin\r\nConnection: close\r\n\r\n");

    // A panic in a check: 500; the server carries on.
    let (answer, _) = exchange(addr, get("/healthz").as_bytes()).await;
    assert_eq!(status(&answer), 500, "{answer}");
    let (answer, _) = exchange(addr, get("/metrics").as_bytes()).await;
    assert_eq!(status(&answer), 200, "{answer}");

    // A head sent slowly: closed after its second, not held.
    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET /metrics HTTP/1.1\r\nHo")
        .await
        .unwrap();
    let started = Instant::now();
    let mut buf = [0u8; 256];
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match slow.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(_) => continue,
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "a slow head held the admin address");
    assert!(started.elapsed() >= Duration::from_millis(900));

    // Two connections held: the one over the bound gets 503 and `Retry-After`.
    let held = [
        TcpStream::connect(addr).await.unwrap(),
        TcpStream::connect(addr).await.unwrap(),
    ];
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (answer, _) = exchange(addr, get("/metrics").as_bytes()).await;
    assert_eq!(status(&answer), 503, "{answer}");
    assert_eq!(header(&answer, "retry-after"), Some("1"));
    drop(held);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (answer, _) = exchange(addr, get("/metrics").as_bytes()).await;
    assert_eq!(status(&answer), 200, "{answer}");
    server.stop().await;
}
