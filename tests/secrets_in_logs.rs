//! No secret in any log line. The bot's binary runs the ways an operator runs it, at
//! the most verbose log level (`trace`, every crate), with its secrets from the
//! environment and from files: `serve` answering signed requests (good, forged and
//! stale signatures), the gateway start refused by Discord, `ask`. Every line it
//! writes is kept under `target/tmp/test-logs/`; then every log file there, of this
//! run and of any other test that keeps its logs there, is searched for the bot's
//! token, the contents of the secret files, the tests' signing key, every signature
//! sent, and the interactions' own tokens.

mod support;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use ed25519_dalek::{Signer, SigningKey};
use support::binary_in;
use support::payload::fixture;

const TOKEN: &str = "MTIzNDU2Nzg5MDEyMzQ1Njc4OQ.GaBcDe.secret-token-for-the-log-test_42";
const FILE_TOKEN: &str = "MTIzNDU2Nzg5MDEyMzQ1Njc4OQ.GaBcDe.token-held-in-a-file-only_0042";

fn key() -> SigningKey {
    SigningKey::from_bytes(&[9u8; 32])
}

fn logs_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("test-logs");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `command` to its end (or kills it after `wait`), keeps its standard error and
/// output under the logs folder as `name.log`, and returns them.
fn keep_log(name: &str, mut child: std::process::Child, wait: Duration) -> String {
    let deadline = std::time::Instant::now() + wait;
    while child.try_wait().unwrap().is_none() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    let mut log = String::new();
    if let Some(mut e) = child.stderr.take() {
        e.read_to_string(&mut log).unwrap();
    }
    if let Some(mut o) = child.stdout.take() {
        o.read_to_string(&mut log).unwrap();
    }
    std::fs::write(logs_dir().join(format!("{name}.log")), &log).unwrap();
    log
}

fn verbose(mut c: Command) -> Command {
    c.env("KR_LOG", "trace")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

/// A Discord API that answers every request 401 (the token refused).
fn refusing_api() -> String {
    use std::io::Write;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().take(4) {
            let Ok(mut stream) = stream else { break };
            let mut buf = [0u8; 8192];
            let _ = stream.read(&mut buf);
            let body = r#"{"message": "401: Unauthorized", "code": 0}"#;
            let _ = write!(
                stream,
                "HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\n\
                 content-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    base
}

/// `serve` with its secrets in files, answering signed, forged and stale requests.
fn run_serve(dir: &tempfile::TempDir, signatures: &mut Vec<String>) -> String {
    use std::io::{BufRead, BufReader, Write};
    let token_file = dir.path().join("token");
    let key_file = dir.path().join("public-key");
    std::fs::write(&token_file, format!("{FILE_TOKEN}\n")).unwrap();
    std::fs::write(
        &key_file,
        format!("{}\n", hex::encode(key().verifying_key().to_bytes())),
    )
    .unwrap();
    let mut c = verbose(binary_in(dir));
    c.env("DISCORD_TOKEN_FILE", &token_file)
        .env("DISCORD_PUBLIC_KEY_FILE", &key_file)
        .env("DISCORD_API_BASE", refusing_api())
        .args(["serve", "--listen", "127.0.0.1:0"]);
    let mut child = c.spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut log = Vec::new();
    let addr = loop {
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("serve did not start: {log:#?}"));
        if let Some(rest) = line.split("listening on http://").nth(1) {
            log.push(line.clone());
            break rest.trim_end_matches("/interactions").to_owned();
        }
        log.push(line);
    };
    let now = jiff::Timestamp::now().as_second();
    for (name, ts, forge) in [
        ("ping.json", now, false),
        ("command-guild.json", now, false),
        ("autocomplete.json", now, false),
        ("button.json", now, false),
        ("command-dm.json", now, true),
        ("ping.json", now - 3600, false),
    ] {
        let body = serde_json::to_vec(&fixture(name)).unwrap();
        let ts = ts.to_string();
        let mut message = ts.as_bytes().to_vec();
        message.extend_from_slice(&body);
        let mut signature = hex::encode(key().sign(&message).to_bytes());
        if forge {
            signature = hex::encode(SigningKey::from_bytes(&[1u8; 32]).sign(&message).to_bytes());
        }
        signatures.push(signature.clone());
        let mut stream = std::net::TcpStream::connect(&addr).unwrap();
        write!(
            stream,
            "POST /interactions HTTP/1.1\r\nHost: bot\r\nContent-Type: application/json\r\n\
             X-Signature-Ed25519: {signature}\r\nX-Signature-Timestamp: {ts}\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .unwrap();
        stream.write_all(&body).unwrap();
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
        assert!(answer.starts_with(b"HTTP/1.1 "), "{name}");
    }
    let pid = i32::try_from(child.id()).unwrap();
    // SAFETY: sends a signal to the child this test started.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let _ = child.wait();
    std::thread::sleep(Duration::from_millis(200));
    log.extend(rx.try_iter());
    let log = log.join("\n");
    std::fs::write(logs_dir().join("secrets-serve.log"), &log).unwrap();
    log
}

/// Everything that must never appear in a log.
fn secrets(signatures: &[String]) -> Vec<(String, String)> {
    let mut s = vec![
        ("the bot token".to_owned(), TOKEN.to_owned()),
        ("the token from its file".to_owned(), FILE_TOKEN.to_owned()),
        (
            "the token's secret part".to_owned(),
            TOKEN.rsplit('.').next().unwrap().to_owned(),
        ),
        ("the signing key".to_owned(), hex::encode(key().to_bytes())),
    ];
    for name in [
        "ping.json",
        "command-guild.json",
        "autocomplete.json",
        "button.json",
        "command-dm.json",
    ] {
        let token = fixture(name)["token"].as_str().unwrap().to_owned();
        s.push((format!("the interaction token of {name}"), token));
    }
    for signature in signatures {
        s.push(("a request's signature".to_owned(), signature.clone()));
        // Half a signature is as telling in a truncated log line.
        s.push((
            "part of a request's signature".to_owned(),
            signature[..32].to_owned(),
        ));
    }
    s
}

/// Every log file kept under the logs folder, searched for every secret.
fn leaks(secrets: &[(String, String)]) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(logs_dir()).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        for (n, line) in text.lines().enumerate() {
            for (what, secret) in secrets {
                if line.contains(secret.as_str()) {
                    found.push(format!("{}:{}: {what}", path.display(), n + 1));
                }
            }
        }
    }
    found
}

#[cfg(unix)]
#[test]
fn no_log_line_of_any_run_holds_a_secret() {
    let dir = tempfile::tempdir().unwrap();
    let mut signatures = Vec::new();
    let serve_log = run_serve(&dir, &mut signatures);
    assert!(
        serve_log.lines().count() > 10 && serve_log.contains("status=401"),
        "serve logged at trace level: {serve_log}"
    );

    // The gateway start, refused by Discord: the token went to the API.
    let mut c = verbose(binary_in(&dir));
    c.env("DISCORD_TOKEN", TOKEN)
        .env("DISCORD_API_BASE", refusing_api());
    let gateway_log = keep_log(
        "secrets-gateway",
        c.spawn().unwrap(),
        Duration::from_secs(30),
    );
    assert!(gateway_log.contains("rejected the token"), "{gateway_log}");

    // `ask`, with a token in the environment it does not need.
    let mut c = verbose(binary_in(&dir));
    c.env("DISCORD_TOKEN", TOKEN)
        .args(["ask", "/reaction Turkey"]);
    let ask_log = keep_log("secrets-ask", c.spawn().unwrap(), Duration::from_secs(30));
    assert!(ask_log.contains("Turkey"), "{ask_log}");

    let found = leaks(&secrets(&signatures));
    assert!(
        found.is_empty(),
        "secrets in the logs:\n{}",
        found.join("\n")
    );
}
