//! Runs the end-to-end tests in tests/e2e (node's test runner) against the binary
//! cargo built, on a local Discord (discord-digital-twin from npm). Installs their
//! npm packages first with `npm ci` when `tests/e2e/node_modules` is missing or was
//! installed from other package files. Fails, with node's output, if node or npm is
//! missing or any end-to-end test fails: CI has both, and these tests must not be
//! skipped silently.

use std::fs;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// `npm ci` downloads about 70 packages; a slow registry gets this long.
const INSTALL_LIMIT: Duration = Duration::from_secs(600);
/// The whole end-to-end run (it takes seconds; every wait inside has its own limit).
const RUN_LIMIT: Duration = Duration::from_secs(240);
/// Written into node_modules after a successful install: what it was installed from.
const STAMP: &str = ".karabakh-e2e-installed";

fn e2e_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e")
}

/// Runs `command` until it exits or `limit` passes (then kills it and everything it
/// started: it runs in a process group of its own); returns its status and its stdout
/// and stderr, read from files so no pipe can fill up.
fn run_bounded(mut command: Command, what: &str, limit: Duration) -> (ExitStatus, String) {
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let out = tempfile::NamedTempFile::new().expect("a temporary file");
    let err = tempfile::NamedTempFile::new().expect("a temporary file");
    command
        .stdin(Stdio::null())
        .stdout(out.reopen().expect("reopen"))
        .stderr(err.reopen().expect("reopen"));
    let mut child = command.spawn().unwrap_or_else(|e| {
        panic!("cannot run {what}: {e}. The end-to-end tests need Node.js (20 or later) and npm on PATH.")
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the child") {
            break status;
        }
        if started.elapsed() > limit {
            // The bots node started too, not only node.
            #[cfg(unix)]
            // SAFETY: kill(2) with a negative pid signals that process group: the
            // group `child` leads, created by process_group(0) above.
            unsafe {
                libc::kill(-(child.id() as libc::pid_t), libc::SIGKILL);
            }
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{what} did not finish within {} s and was killed.\n--- stdout ---\n{}\n--- stderr ---\n{}",
                limit.as_secs(),
                fs::read_to_string(out.path()).unwrap_or_default(),
                fs::read_to_string(err.path()).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let output = format!(
        "--- stdout ---\n{}\n--- stderr ---\n{}",
        fs::read_to_string(out.path()).unwrap_or_default(),
        fs::read_to_string(err.path()).unwrap_or_default()
    );
    (status, output)
}

/// The version a tool prints, or a failure that says it is missing.
fn version(tool: &str) -> String {
    let (status, output) = run_bounded(
        {
            let mut c = Command::new(tool);
            c.arg("--version");
            c
        },
        &format!("`{tool} --version`"),
        Duration::from_secs(60),
    );
    assert!(status.success(), "`{tool} --version` failed:\n{output}");
    output.lines().nth(1).unwrap_or_default().trim().to_owned()
}

/// What an install depends on: the package files and node's version.
fn install_key(dir: &Path, node: &str) -> String {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for file in ["package.json", "package-lock.json"] {
        fs::read(dir.join(file))
            .unwrap_or_else(|e| panic!("cannot read tests/e2e/{file}: {e}"))
            .hash(&mut h);
    }
    node.hash(&mut h);
    format!("{:016x}", h.finish())
}

/// `npm ci` unless node_modules was installed from these very package files.
fn install(dir: &Path, node: &str) {
    let key = install_key(dir, node);
    let stamp = dir.join("node_modules").join(STAMP);
    if fs::read_to_string(&stamp).is_ok_and(|s| s.trim() == key) {
        return;
    }
    let mut npm = Command::new("npm");
    npm.current_dir(dir)
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=warn"]);
    let (status, output) = run_bounded(npm, "`npm ci` in tests/e2e", INSTALL_LIMIT);
    assert!(
        status.success(),
        "`npm ci` in tests/e2e failed ({status}):\n{output}"
    );
    fs::write(&stamp, format!("{key}\n")).expect("write the install stamp");
}

#[test]
fn end_to_end_on_a_local_discord() {
    let dir = e2e_dir();
    let node = version("node");
    let npm = version("npm");
    install(&dir, &node);

    let mut files: Vec<String> = fs::read_dir(&dir)
        .expect("tests/e2e")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(".test.mjs"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no *.test.mjs in tests/e2e");

    let mut test = Command::new("node");
    test.current_dir(&dir)
        .args(["--test", "--test-reporter=tap", "--test-concurrency=1"])
        .args(&files)
        .env("BOT_BIN", env!("CARGO_BIN_EXE_karabakh-reactions"))
        // The JS tests refuse to skip themselves under CI; here they always run.
        .env("CI", "true");
    for var in ["DISCORD_TOKEN", "DISCORD_TOKEN_FILE", "DISCORD_API_BASE"] {
        test.env_remove(var);
    }
    let (status, output) = run_bounded(test, "`node --test` in tests/e2e", RUN_LIMIT);
    assert!(
        status.success(),
        "end-to-end tests failed (node {node}, npm {npm}, {status}):\n{output}"
    );
    let summary: Vec<&str> = output
        .lines()
        .filter(|l| l.starts_with("# ") || l.starts_with("ok ") || l.starts_with("not ok "))
        .collect();
    assert!(
        summary.iter().any(|l| l.starts_with("# pass ")) && !summary.contains(&"# pass 0"),
        "node ran no test:\n{output}"
    );
    assert!(
        summary.contains(&"# skipped 0"),
        "some end-to-end tests were skipped:\n{output}"
    );
    println!("node {node}, npm {npm}: {}", summary.join("\n"));
}
