//! The Discord paths of the binary that need no Discord: `register --print`, and the
//! refusals that come before (or instead of) a connection. The end-to-end tests
//! against a local Discord are in tests/e2e (run by tests/e2e.rs).

mod support;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::{Command, Output};

use karabakh_reactions::discord::render;
use support::binary_in;

/// A token of Discord's shape (not a real one); its last part must never be printed.
const TOKEN: &str = "MTIzNDU2Nzg5MDEyMzQ1Njc4OQ.GaBcDe.s3cr3tPartOfTheTestToken_0123456789abcd";
const SECRET_PART: &str = "s3cr3tPartOfTheTestToken";

fn run(c: &mut Command) -> Output {
    c.output().expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Asserts a refusal: exit 1, stderr ending in `karabakh-reactions: <sentence>`, no
/// token, no panic. Returns that last line.
fn refused(o: &Output) -> String {
    let (out, err) = (text(&o.stdout), text(&o.stderr));
    assert_eq!(o.status.code(), Some(1), "stdout: {out}\nstderr: {err}");
    let last = err
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    assert!(last.starts_with("karabakh-reactions: "), "{err}");
    assert!(!out.contains(SECRET_PART) && !err.contains(SECRET_PART));
    assert!(!err.contains("panicked"), "{err}");
    last.to_owned()
}

#[test]
fn register_print_shows_the_definitions_discord_receives() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(binary_in(&dir).args(["register", "--print"]));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let printed = text(&o.stdout);
    // Exactly the bytes serenity sends: the same definitions, the same serializer.
    assert_eq!(
        printed.trim_end(),
        serde_json::to_string(&render::commands()).unwrap()
    );
    let json: serde_json::Value = serde_json::from_str(&printed).expect("JSON");
    insta::assert_snapshot!(
        "register_print",
        serde_json::to_string_pretty(&json).unwrap()
    );
    // Needs no token, sends nothing, and is the same for one server.
    let o = run(binary_in(&dir).args(["register", "--print", "--guild", "42"]));
    assert_eq!(text(&o.stdout), printed);
}

#[test]
fn register_without_a_token_says_where_to_put_it() {
    let dir = tempfile::tempdir().unwrap();
    let last = refused(&run(binary_in(&dir).arg("register")));
    assert!(last.contains("needs the bot token"), "{last}");
    assert!(last.contains("DISCORD_TOKEN"), "{last}");
    assert!(last.contains("--print"), "{last}");
}

#[test]
fn register_refuses_server_zero() {
    let dir = tempfile::tempdir().unwrap();
    let last = refused(&run(binary_in(&dir)
        .args(["register", "--guild", "0"])
        .env("DISCORD_TOKEN", TOKEN)
        .env("DISCORD_API_BASE", "http://127.0.0.1:9")));
    assert!(
        last.ends_with("--guild takes a server (guild) id, a number above 0"),
        "{last}"
    );
}

#[test]
fn a_malformed_token_is_refused_before_any_connection() {
    let dir = tempfile::tempdir().unwrap();
    for (token, why) in [
        ("s3cr3tPartOfTheTestToken", "three parts separated by dots"),
        (
            "aGVsbG8gd29ybGQ.s3cr3tPartOfTheTestToken.x",
            "first part is not a bot's id",
        ),
    ] {
        for args in [&[][..], &["register"][..]] {
            // An API base nothing listens on: the check must come before any request.
            let o = run(binary_in(&dir)
                .args(args)
                .env("DISCORD_TOKEN", token)
                .env("DISCORD_API_BASE", "http://127.0.0.1:9"));
            let last = refused(&o);
            assert!(
                last.starts_with("karabakh-reactions: DISCORD_TOKEN is not a bot token: "),
                "{last}"
            );
            assert!(last.contains(why), "{last}");
        }
    }
}

#[test]
fn an_unreachable_api_is_named_in_one_sentence() {
    let dir = tempfile::tempdir().unwrap();
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    }; // closed again: connections are refused
    let base = format!("http://127.0.0.1:{port}");
    for args in [&[][..], &["register"][..]] {
        let o = run(binary_in(&dir)
            .args(args)
            .env("DISCORD_TOKEN", TOKEN)
            .env("DISCORD_API_BASE", &base));
        let last = refused(&o);
        assert!(
            last.starts_with(&format!(
                "karabakh-reactions: cannot reach the Discord API at {base}: "
            )),
            "{last}"
        );
    }
}

/// Answers `count` HTTP requests on 127.0.0.1 with `status` and the JSON `body`;
/// returns the base URL and the requests it read.
fn one_answer_server(
    status: &str,
    body: &str,
    count: usize,
) -> (String, std::thread::JoinHandle<Vec<String>>) {
    let response = format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
         connection: close\r\n\r\n{body}",
        body.len()
    );
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        let mut seen = Vec::new();
        for _ in 0..count {
            let (mut stream, _) = listener.accept().unwrap();
            let mut buf = [0u8; 8192];
            let n = stream.read(&mut buf).unwrap_or(0);
            seen.push(String::from_utf8_lossy(&buf[..n]).into_owned());
            stream.write_all(response.as_bytes()).unwrap();
        }
        seen
    });
    (base, handle)
}

#[test]
fn an_api_that_fails_is_named_with_its_answer_and_not_retried() {
    let dir = tempfile::tempdir().unwrap();
    let (base, server) = one_answer_server(
        "502 Bad Gateway",
        r#"{"message": "upstream down", "code": 0}"#,
        1,
    );
    let o = run(binary_in(&dir)
        .env("DISCORD_TOKEN", TOKEN)
        .env("DISCORD_API_BASE", &base));
    let last = refused(&o);
    assert_eq!(
        last,
        format!(
            "karabakh-reactions: the Discord API at {base} answered 502 Bad Gateway to \
             GET /api/v10/users/@me: upstream down"
        )
    );
    let requests = server.join().unwrap();
    assert_eq!(requests.len(), 1);
    assert!(requests[0].starts_with("GET /api/v10/users/@me HTTP/1.1\r\n"));
    assert!(requests[0].contains(&format!("authorization: Bot {TOKEN}\r\n")));
}

#[test]
fn a_rejected_token_gets_one_sentence_and_one_request() {
    let dir = tempfile::tempdir().unwrap();
    let (base, server) = one_answer_server(
        "401 Unauthorized",
        r#"{"message": "401: Unauthorized", "code": 0}"#,
        1,
    );
    let o = run(binary_in(&dir)
        .env("DISCORD_TOKEN", TOKEN)
        .env("DISCORD_API_BASE", &base));
    let last = refused(&o);
    assert!(
        last.starts_with("karabakh-reactions: Discord rejected the token (401 Unauthorized)"),
        "{last}"
    );
    assert_eq!(server.join().unwrap().len(), 1);
}

#[test]
fn shard_options_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let last = refused(&run(binary_in(&dir).args([
        "--shards",
        "0-1",
        "--total-shards",
        "2",
    ])));
    assert!(last.contains("needs DISCORD_TOKEN"), "{last}");
    let o = run(binary_in(&dir)
        .args(["--shards", "2-3", "--total-shards", "2"])
        .env("DISCORD_TOKEN", TOKEN)
        .env("DISCORD_API_BASE", "http://127.0.0.1:9"));
    let last = refused(&o);
    assert!(
        last.ends_with("--shards 2-3 names shard 3, but with --total-shards 2 the shards are 0-1"),
        "{last}"
    );
}

#[cfg(unix)]
#[test]
fn sigterm_while_waiting_for_the_api_stops_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let mut child = binary_in(&dir)
        .env("DISCORD_TOKEN", TOKEN)
        .env("DISCORD_API_BASE", &base)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Read the bot's first request and never answer it.
    let (mut stream, _) = listener.accept().unwrap();
    let mut buf = [0u8; 4096];
    let n = stream.read(&mut buf).unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("GET /api/v10/users/@me "));
    // SAFETY: kill(2) on the child's pid, which has not been waited for yet.
    assert_eq!(
        unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) },
        0
    );
    // A guard against a hang, not a measurement.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("the bot did not stop on SIGTERM");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert_eq!(status.code(), Some(0), "{err}");
    assert!(err.contains("stopped before connecting"), "{err}");
    assert!(!err.contains(SECRET_PART));
    drop(stream);
}
