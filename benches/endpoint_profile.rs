//! One kind of signed request through the interactions endpoint, in process, for a
//! profiler: the router `serve` runs (the endpoint, then the site's fallback), built
//! as `serve` builds it (embedded dataset, a fresh SQLite settings database, logs at
//! `KR_LOG` on standard error), driven with tower's `oneshot` on pre-signed requests,
//! on one thread. Everything of a request is in it but hyper's HTTP/1 parsing and
//! writing and the socket (the same for every load but for the response's size).
//!
//! `cargo bench --bench endpoint_profile -- LOAD N`: LOAD is `ping`, `guild`
//! (`/reaction Turkey` from a server) or `dm` (the same in a DM); N requests (200)
//! after 16 of warm-up (charts drawn, caches filled). The N requests run inside
//! `measured`, so that callgrind counts only them:
//!
//! ```sh
//! cargo bench --bench endpoint_profile --no-run   # prints the binary's path
//! KR_LOG=info valgrind --tool=callgrind --collect-atstart=no --toggle-collect='*measured*' \
//!     target/release/deps/endpoint_profile-… --bench guild 200 2>/dev/null
//! ```
//!
//! Instructions per request: the total over N. It prints the bytes of the last
//! response, so a run shows what it measured.

use std::sync::Arc;
use std::time::SystemTime;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use ed25519_dalek::{Signer, SigningKey};
use http_body_util::BodyExt;
use karabakh_reactions::discord::endpoint::{self, Endpoint};
use karabakh_reactions::service::Service;
use karabakh_reactions::{startup, web};
use karabakh_store::{SqliteStore, Store};
use serde_json::json;
use tower::ServiceExt;

fn body(load: &str, i: usize) -> String {
    let fixture = match load {
        "ping" => "ping.json",
        "guild" => "command-guild.json",
        "dm" => "command-dm.json",
        other => panic!("LOAD is ping, guild or dm, not {other}"),
    };
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/interactions");
    let text = std::fs::read_to_string(format!("{dir}/{fixture}")).unwrap();
    let mut p: serde_json::Value = serde_json::from_str(&text).unwrap();
    p["id"] = json!((1_200_000_000_000_000_000u64 + i as u64).to_string());
    p["token"] = json!(format!("bench-token-{i}"));
    if load != "ping" {
        p["data"]["name"] = json!("reaction");
        p["data"]["options"] = json!([{"name": "actor", "type": 3, "value": "Turkey"}]);
    }
    serde_json::to_string(&p).unwrap()
}

fn signed(key: &SigningKey, body: &str) -> Request<Body> {
    let now = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH);
    let timestamp = now.unwrap().as_secs().to_string();
    let signature = key.sign(format!("{timestamp}{body}").as_bytes());
    Request::post(endpoint::PATH)
        .header("content-type", "application/json")
        .header("x-signature-ed25519", hex::encode(signature.to_bytes()))
        .header("x-signature-timestamp", timestamp)
        .body(Body::from(body.to_owned()))
        .unwrap()
}

/// Sends each request and reads its whole response; the last one's bytes.
async fn send_all(router: &Router, requests: Vec<Request<Body>>) -> Vec<u8> {
    let mut last = Vec::new();
    for request in requests {
        let response = router.clone().oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        last = response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec();
    }
    last
}

#[inline(never)]
fn measured(
    runtime: &tokio::runtime::Runtime,
    router: &Router,
    requests: Vec<Request<Body>>,
) -> Vec<u8> {
    runtime.block_on(send_all(router, requests))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if !args.iter().any(|a| a == "--bench") {
        return;
    }
    let rest: Vec<&String> = args.iter().skip(1).filter(|a| *a != "--bench").collect();
    let load = rest.first().map_or("guild", |s| s.as_str()).to_owned();
    let n: usize = rest.get(1).map_or(200, |s| s.parse().expect("N"));
    startup::init_logging(&std::env::var("KR_LOG").unwrap_or_else(|_| "info".to_owned()));

    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path().join("s.sqlite3")).unwrap());
    let data = karabakh_core::dataset::embedded().unwrap();
    let service = Service::new(Arc::new(startup::core(data, None)), Some(store));
    let site = Arc::new(karabakh_site::Site::new(
        Arc::clone(&service.core),
        Arc::clone(&service.charts),
        karabakh_site::Options {
            public_url: None,
            live: true,
        },
    ));
    let key = SigningKey::from_bytes(&[7u8; 32]);
    let verifier = endpoint::verifier(&hex::encode(key.verifying_key().to_bytes())).unwrap();
    let router = endpoint::app(Arc::new(Endpoint::new(service, verifier))).merge(web::router(site));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();

    let warmup: Vec<_> = (0..16).map(|i| signed(&key, &body(&load, i))).collect();
    runtime.block_on(send_all(&router, warmup));
    let requests: Vec<_> = (0..n).map(|i| signed(&key, &body(&load, 16 + i))).collect();
    let last = measured(&runtime, &router, requests);
    println!(
        "{load}: {n} requests, the last answered with {} bytes",
        last.len()
    );
}
