//! Runs the browser tests in tests/browser (node's test runner) against the binary
//! cargo built: `serve` on loopback, read by Debian's Chromium through playwright-core,
//! checked with axe-core. Installs their npm packages with `npm ci` when
//! `tests/browser/node_modules` is missing or was installed from other package files,
//! and Debian's `chromium` with apt-get when /usr/bin/chromium is missing (CI runs on a
//! clean machine, as root). Fails, with node's output, if anything is missing or any
//! test fails: these tests are never skipped.
//!
//! Screenshots (home page, a permalink page, a command's embed preview) and axe-core's
//! report are written to `target/browser-artifacts/`.

use std::fs;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// `npm ci` fetches two packages; apt-get fetches Chromium (about 100 MB).
const INSTALL_LIMIT: Duration = Duration::from_secs(900);
/// The whole browser run (about two minutes on two cores in a debug build).
const RUN_LIMIT: Duration = Duration::from_secs(480);
const STAMP: &str = ".karabakh-browser-installed";
const CHROMIUM: &str = "/usr/bin/chromium";

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

/// Where the run's screenshots and reports go: `target/browser-artifacts`.
fn artifacts() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("the target directory")
        .join("browser-artifacts")
}

/// Runs `command` until it exits or `limit` passes (then kills its process group);
/// returns its status and its output, read from files so no pipe can fill up.
fn run_bounded(mut command: Command, what: &str, limit: Duration) -> (ExitStatus, String) {
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let out = tempfile::NamedTempFile::new().expect("a temporary file");
    let err = tempfile::NamedTempFile::new().expect("a temporary file");
    command
        .stdin(Stdio::null())
        .stdout(out.reopen().expect("reopen"))
        .stderr(err.reopen().expect("reopen"));
    let mut child = command
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the child") {
            break status;
        }
        if started.elapsed() > limit {
            #[cfg(unix)]
            // SAFETY: kill(2) with a negative pid signals the process group the child
            // leads (process_group(0) above): node, the bot and Chromium.
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

fn version(tool: &str, arg: &str) -> String {
    let mut c = Command::new(tool);
    c.arg(arg);
    let (status, output) = run_bounded(c, &format!("`{tool} {arg}`"), Duration::from_secs(60));
    assert!(
        status.success(),
        "`{tool} {arg}` failed; the browser tests need Node.js 20+, npm and Chromium:\n{output}"
    );
    output.lines().nth(1).unwrap_or_default().trim().to_owned()
}

/// Debian's Chromium, installed with apt-get when it is missing.
fn chromium() -> String {
    if Path::new(CHROMIUM).exists() {
        return version(CHROMIUM, "--version");
    }
    for args in [
        &["update"][..],
        &["install", "-y", "--no-install-recommends", "chromium"],
    ] {
        let mut apt = Command::new("apt-get");
        apt.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        let what = format!("`apt-get {}`", args.join(" "));
        let (status, output) = run_bounded(apt, &what, INSTALL_LIMIT);
        assert!(
            status.success(),
            "{CHROMIUM} is missing and {what} failed ({status}); install Debian's chromium \
             package (as root: apt-get install chromium):\n{output}"
        );
    }
    assert!(
        Path::new(CHROMIUM).exists(),
        "apt-get installed chromium, but {CHROMIUM} is missing"
    );
    version(CHROMIUM, "--version")
}

/// `npm ci` unless node_modules was installed from these very package files.
fn install(dir: &Path, node: &str) {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for file in ["package.json", "package-lock.json"] {
        fs::read(dir.join(file))
            .unwrap_or_else(|e| panic!("cannot read tests/browser/{file}: {e}"))
            .hash(&mut h);
    }
    node.hash(&mut h);
    let key = format!("{:016x}", h.finish());
    let stamp = dir.join("node_modules").join(STAMP);
    if fs::read_to_string(&stamp).is_ok_and(|s| s.trim() == key) {
        return;
    }
    let mut npm = Command::new("npm");
    npm.current_dir(dir)
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=warn"]);
    let (status, output) = run_bounded(npm, "`npm ci` in tests/browser", INSTALL_LIMIT);
    assert!(
        status.success(),
        "`npm ci` in tests/browser failed ({status}):\n{output}"
    );
    fs::write(&stamp, format!("{key}\n")).expect("write the install stamp");
}

#[test]
fn the_site_in_a_real_browser() {
    let dir = dir();
    let node = version("node", "--version");
    let browser = chromium();
    install(&dir, &node);
    let artifacts = artifacts();
    fs::create_dir_all(&artifacts).expect("create target/browser-artifacts");

    let mut test = Command::new("node");
    test.current_dir(&dir)
        .args([
            "--test",
            "--test-reporter=tap",
            "--test-concurrency=1",
            "site.test.mjs",
        ])
        .env("BOT_BIN", env!("CARGO_BIN_EXE_karabakh-reactions"))
        .env("ARTIFACTS_DIR", &artifacts)
        .env("CHROMIUM", CHROMIUM)
        .env("CI", "true");
    let (status, output) = run_bounded(test, "`node --test` in tests/browser", RUN_LIMIT);
    assert!(
        status.success(),
        "browser tests failed (node {node}, {browser}, {status}):\n{output}"
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
        "some browser tests were skipped:\n{output}"
    );
    for shot in [
        "home.png",
        "permalink-s2.1.png",
        "embed-preview-timeline.png",
        "axe-report.json",
    ] {
        assert!(artifacts.join(shot).is_file(), "{shot} was not written");
    }
    println!("node {node}, {browser}: {}", summary.join("\n"));
    println!(
        "screenshots and the axe-core report: {}",
        artifacts.display()
    );
}
