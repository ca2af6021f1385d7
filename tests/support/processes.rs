//! The bot's real binary as separate processes, for the tests that run several of
//! them on one database: each started with a clean environment (only `PATH`), its
//! standard error read line by line on a thread of its own (kept for the test's
//! messages, and waited on for a line such as `listening on`), and ended by a signal
//! the test chooses (SIGTERM to stop, SIGKILL to crash it).
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ed25519_dalek::{Signer, SigningKey};
use serde_json::Value as Json;

/// Shaped like a bot token; the fake Discord accepts any `Bot …`.
pub const TOKEN: &str = "MTIzNDU2Nzg5MDEyMzQ1Njc4OQ.GaBcDe.not-a-real-token_0123456789";

/// The application's key the tests sign interactions with.
pub fn key() -> SigningKey {
    SigningKey::from_bytes(&[7u8; 32])
}

/// One of the bot's processes.
pub struct Bot {
    pub name: String,
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
}

impl Bot {
    /// Starts the binary with `args` and these environment variables (on top of the
    /// token, the application's key and `KR_LOG=info`).
    pub fn start(name: &str, args: &[&str], env: &[(&str, String)]) -> Bot {
        let mut command = Command::new(env!("CARGO_BIN_EXE_karabakh-reactions"));
        command
            .env_clear()
            .env("DISCORD_TOKEN", TOKEN)
            .env(
                "DISCORD_PUBLIC_KEY",
                hex::encode(key().verifying_key().to_bytes()),
            )
            .env("KR_LOG", "info")
            .envs(env.iter().map(|(k, v)| (k, v)))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if let Some(path) = std::env::var_os("PATH") {
            command.env("PATH", path);
        }
        let mut child = command.spawn().unwrap_or_else(|e| panic!("{name}: {e}"));
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let lines = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                lines.lock().unwrap().push(line);
            }
        });
        Bot {
            name: name.to_owned(),
            child,
            log,
        }
    }

    /// Everything it wrote on standard error so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    /// The first line holding `needle`, waited for at most `limit` (a bound on a
    /// failure); panics with the log if it never comes or the process ends.
    pub fn wait_for(&mut self, needle: &str, limit: Duration) -> String {
        let started = Instant::now();
        loop {
            if let Some(line) = self.log.lock().unwrap().iter().find(|l| l.contains(needle)) {
                return line.clone();
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                // Let the reader catch the last lines.
                std::thread::sleep(Duration::from_millis(100));
                panic!(
                    "{} ended ({status}) before writing {needle:?}:\n{}",
                    self.name,
                    self.log()
                );
            }
            assert!(
                started.elapsed() < limit,
                "{} did not write {needle:?} within {} s:\n{}",
                self.name,
                limit.as_secs(),
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The address `serve` listens on (its `listening on http://ADDR/…` line).
    pub fn listening(&mut self) -> String {
        let line = self.wait_for("listening on http://", Duration::from_secs(30));
        let rest = line.split("listening on http://").nth(1).unwrap();
        rest.split('/').next().unwrap().to_owned()
    }

    pub fn pid(&self) -> i32 {
        i32::try_from(self.child.id()).unwrap()
    }

    /// Sends `signal`.
    pub fn signal(&self, signal: i32) {
        // SAFETY: kill(2) on the child this test started.
        assert_eq!(
            unsafe { libc::kill(self.pid(), signal) },
            0,
            "{}",
            self.name
        );
    }

    /// SIGKILL: the process dies at once, whatever it was doing.
    pub fn kill_hard(&mut self) {
        self.signal(libc::SIGKILL);
        let _ = self.child.wait();
    }

    /// SIGTERM, then its exit code.
    pub fn stop(&mut self) -> Option<i32> {
        self.signal(libc::SIGTERM);
        self.child.wait().unwrap().code()
    }
}

impl Drop for Bot {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// [`try_interact`], failing the test if the request cannot be sent.
pub async fn interact(client: &reqwest::Client, addr: &str, interaction: &Json) -> (u16, Json) {
    try_interact(client, addr, interaction)
        .await
        .unwrap_or_else(|e| panic!("{addr}: {e}"))
}

/// Sends `interaction` to the interactions endpoint at `addr`, signed now, and
/// returns Discord's view of the answer: the status and the JSON body (of an answer
/// with a picture attached, its `payload_json`).
pub async fn try_interact(
    client: &reqwest::Client,
    addr: &str,
    interaction: &Json,
) -> Result<(u16, Json), reqwest::Error> {
    let body = serde_json::to_vec(interaction).unwrap();
    let timestamp = jiff::Timestamp::now().as_second().to_string();
    let mut message = timestamp.as_bytes().to_vec();
    message.extend_from_slice(&body);
    let signature = hex::encode(key().sign(&message).to_bytes());
    let response = client
        .post(format!(
            "http://{addr}{}",
            karabakh_reactions::discord::endpoint::PATH
        ))
        .header("X-Signature-Ed25519", signature)
        .header("X-Signature-Timestamp", timestamp)
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await?;
    let status = response.status().as_u16();
    let multipart = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/"));
    let text = String::from_utf8_lossy(&response.bytes().await?).into_owned();
    let json = if multipart {
        payload_json(&text)
    } else {
        &text
    };
    Ok((
        status,
        serde_json::from_str(json).unwrap_or(Json::String(text.clone())),
    ))
}

/// The `payload_json` part of a multipart answer (one with a chart attached).
fn payload_json(body: &str) -> &str {
    let Some(start) = body.find("name=\"payload_json\"") else {
        return body;
    };
    let Some(json_start) = body[start..].find("\r\n\r\n").map(|i| start + i + 4) else {
        return body;
    };
    let json_end = body[json_start..]
        .find("\r\n--")
        .map_or(body.len(), |i| json_start + i);
    &body[json_start..json_end]
}
