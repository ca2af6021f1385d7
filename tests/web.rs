//! The public site as `serve` answers it (on the interactions endpoint's listener),
//! driven without a socket, and `site build`, which writes the same pages as files.

mod support;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response, StatusCode, header};
use http_body_util::BodyExt;
use karabakh_reactions::discord::endpoint::{self, Endpoint};
use karabakh_reactions::service::Service;
use karabakh_reactions::web;
use karabakh_site::{Options, Site};
use support::binary_in;
use tower::ServiceExt;

const PUBLIC: &str = "https://karabakh.example.org";

fn site(live: bool) -> Site {
    let service = Service::new(Arc::new(support::core_with_site(Some(PUBLIC))), None);
    Site::new(
        Arc::clone(&service.core),
        Arc::clone(&service.charts),
        Options {
            public_url: Some(PUBLIC.to_owned()),
            live,
        },
    )
}

/// The router `serve` runs: the interactions endpoint and the site.
fn app() -> Router {
    let service = Service::new(Arc::new(support::core_with_site(Some(PUBLIC))), None);
    let site = Arc::new(Site::new(
        Arc::clone(&service.core),
        Arc::clone(&service.charts),
        Options {
            public_url: Some(PUBLIC.to_owned()),
            live: true,
        },
    ));
    let key = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
    let verifier = endpoint::verifier(&hex::encode(key.verifying_key().to_bytes())).unwrap();
    let endpoint = Arc::new(Endpoint::new(service, verifier));
    endpoint::app(endpoint).merge(web::router(site))
}

async fn send(request: Request<Body>) -> (Response<Body>, Vec<u8>) {
    let response = app().oneshot(request).await.unwrap();
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes().to_vec();
    (Response::from_parts(parts, Body::empty()), bytes)
}

fn get(path: &str) -> Request<Body> {
    Request::get(path).body(Body::empty()).unwrap()
}

#[tokio::test]
async fn pages_are_html_with_caching_and_security_headers() {
    let (r, body) = send(get("/statements/s2.1/")).await;
    assert_eq!(r.status(), StatusCode::OK);
    let h = r.headers();
    assert_eq!(h[header::CONTENT_TYPE], "text/html; charset=utf-8");
    assert_eq!(h[header::CACHE_CONTROL], "public, max-age=3600");
    assert_eq!(
        h[header::CONTENT_SECURITY_POLICY],
        web::CONTENT_SECURITY_POLICY
    );
    assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    let html = String::from_utf8(body).unwrap();
    assert!(html.contains("On 2 October 2020, the OSCE Minsk Group"));
    assert!(html.contains(&format!(
        "<link rel=\"canonical\" href=\"{PUBLIC}/statements/s2.1/\">"
    )));
    // The client's copy is still good: 304 without a body.
    let etag = h[header::ETAG].to_str().unwrap().to_owned();
    let again = Request::get("/statements/s2.1/")
        .header(header::IF_NONE_MATCH, &etag)
        .body(Body::empty())
        .unwrap();
    let (r, body) = send(again).await;
    assert_eq!(r.status(), StatusCode::NOT_MODIFIED);
    assert!(body.is_empty());
    assert_eq!(r.headers()[header::ETAG], etag.as_str());
    // HEAD: the headers of GET.
    let (r, _) = send(Request::head("/").body(Body::empty()).unwrap()).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.headers()[header::CONTENT_TYPE],
        "text/html; charset=utf-8"
    );
}

#[tokio::test]
async fn charts_and_the_stylesheet_are_immutable_files() {
    let s = site(true);
    for path in s.paths().iter().filter(|p| !p.ends_with('/')) {
        let (r, body) = send(get(path)).await;
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        let expected = if path.ends_with(".png") {
            "image/png"
        } else if path.ends_with(".css") {
            "text/css; charset=utf-8"
        } else {
            "image/svg+xml"
        };
        assert_eq!(r.headers()[header::CONTENT_TYPE], expected, "{path}");
        if !path.ends_with(".svg") {
            assert_eq!(
                r.headers()[header::CACHE_CONTROL],
                "public, max-age=31536000, immutable",
                "{path}"
            );
        }
        if path.ends_with(".png") {
            assert!(body.starts_with(b"\x89PNG"), "{path}");
            assert!(body.len() < 80 * 1024, "{path}");
        }
    }
}

#[tokio::test]
async fn unknown_paths_get_a_404_page_and_folders_a_redirect() {
    let (r, body) = send(get("/actors/nobody/")).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(r.headers()[header::CACHE_CONTROL], "no-store");
    let html = String::from_utf8(body).unwrap();
    assert!(html.contains("There is no page at <code>/actors/nobody/</code>"));
    let (r, _) = send(get("/actors/turkey")).await;
    assert_eq!(r.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(r.headers()[header::LOCATION], "/actors/turkey/");
    let (r, _) = send(get("/search?q=ceasefire")).await;
    assert_eq!(r.headers()[header::LOCATION], "/search/?q=ceasefire");
    // What a path echoes is escaped.
    let (r, body) = send(get("/%3Cscript%3E")).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(!String::from_utf8(body).unwrap().contains("<script"));
}

#[tokio::test]
async fn the_site_answers_get_only_and_the_endpoint_keeps_its_routes() {
    let (r, _) = send(Request::post("/").body(Body::empty()).unwrap()).await;
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.headers()[header::ALLOW], "GET, HEAD");
    let (r, _) = send(
        Request::delete("/statements/s2.1/")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    let (r, _) = send(Request::post("/other").body(Body::empty()).unwrap()).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // The endpoint's own routes are untouched.
    let (r, _) = send(get(endpoint::PATH)).await;
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    let (r, _) = send(Request::post(endpoint::PATH).body(Body::empty()).unwrap()).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let (r, body) = send(get("/healthz")).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        String::from_utf8(body)
            .unwrap()
            .contains("\"status\":\"ok\"")
    );
}

#[tokio::test]
async fn search_is_a_plain_get_form() {
    let (r, body) = send(get("/search/?q=cluster+munitions")).await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = String::from_utf8(body).unwrap();
    let hits = support::core()
        .index
        .search
        .search("cluster munitions")
        .len();
    assert!(html.contains(&format!("{hits} result")), "{html}");
    assert!(html.contains("<form class=\"search\" role=\"search\" action=\"./\" method=\"get\">"));
    assert!(html.contains("value=\"cluster munitions\""));
}

/// `site build`: the same pages as `serve` (but the search page), as files.
#[test]
fn site_build_writes_every_page_as_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("public");
    let run = binary_in(&dir)
        .env("KR_PUBLIC_URL", PUBLIC)
        .args(["site", "build"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let said = String::from_utf8(run.stdout).unwrap();
    assert!(
        said.starts_with("wrote ") && said.contains(" pages, "),
        "{said}"
    );
    let live = site(true);
    let frozen = site(false);
    for path in frozen.paths() {
        let file = if path.ends_with('/') {
            out.join(format!("{}index.html", path.trim_start_matches('/')))
        } else {
            out.join(path.trim_start_matches('/'))
        };
        let written = std::fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert_eq!(written, frozen.page(&path).unwrap().body, "{path}");
        if path != karabakh_core::site::SEARCH {
            assert_eq!(
                written,
                live.page(&path).unwrap().body,
                "{path}: as serve shows it"
            );
        }
    }
    let search = std::fs::read_to_string(out.join("search/index.html")).unwrap();
    assert!(search.contains("This copy of the site is static"));
    assert!(out.join("404.html").is_file());
    assert!(out.join("statements/s2.1/index.html").is_file());
}
