//! The binary as a user runs it: `ask` and the offline console.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn bot() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_karabakh-reactions"));
    c.env_remove("DISCORD_TOKEN")
        .env_remove("DISCORD_TOKEN_FILE");
    c
}

fn ask(args: &[&str]) -> Output {
    bot()
        .arg("ask")
        .args(args)
        .output()
        .expect("the binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn ask_prints_the_reply_as_text_or_json() {
    let o = ask(&["/reaction Hungary"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(
        stdout(&o).contains("Hungary stated that it backed Azerbaijan's territorial integrity")
    );
    assert!(stdout(&o).contains("[55] [56]"));

    let o = ask(&["--json", "/reaction actor:Hungary"]);
    let body: serde_json::Value = serde_json::from_slice(&o.stdout).expect("one JSON body");
    assert_eq!(body["type"], 4);
    assert_eq!(
        body["data"]["allowed_mentions"]["parse"],
        serde_json::json!([])
    );
    assert!(
        body["data"]["embeds"][0]["description"]
            .as_str()
            .unwrap()
            .contains("[\\[55\\]](")
    );
}

#[test]
fn all_pages_and_autocomplete() {
    let o = ask(&["--json", "--all-pages", "/reaction Turkey"]);
    let pages: Vec<serde_json::Value> = serde_json::from_slice(&o.stdout).expect("a JSON array");
    assert!(pages.len() > 1);
    assert_eq!(pages[0]["type"], 4);
    assert!(
        pages[1..].iter().all(|p| p["type"] == 7),
        "later pages update the message"
    );
    let footer = pages.last().unwrap()["data"]["embeds"][0]["footer"]["text"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        footer.ends_with(&format!("page {}/{}", pages.len(), pages.len())),
        "{footer}"
    );

    let o = ask(&["--autocomplete", "--json", "/reaction actor:Tur"]);
    let body: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(body["type"], 8);
    assert_eq!(body["data"]["choices"][0]["value"], "Turkey");
}

#[test]
fn polite_answers_exit_zero_and_unknown_commands_exit_two() {
    let o = ask(&["/reaction Turky"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("No actor matches 'Turky'. Did you mean: Turkey"));

    let o = ask(&["/nope"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("there is no command /nope"));

    let o = ask(&["/timeline when:2020"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("/timeline has no option 'when'"));
}

#[test]
fn the_console_reads_piped_commands_until_the_end() {
    let mut child = bot()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the console starts");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"/about\n/timeline 2020-12-04\n")
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "exits at the end of its input");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.lines().count(), 1, "one line says it is offline: {err}");
    assert!(err.contains("offline") && err.contains("DISCORD_TOKEN"));
    let out = stdout(&o);
    assert!(out.contains("About this bot"));
    assert!(out.contains(
        "The next day, Azerbaijan sent a note of protest to the French Ambassador. [239]"
    ));
    assert!(
        !out.contains("> "),
        "no prompt when the input is not a terminal"
    );
}

#[test]
fn a_bad_dataset_file_is_refused_with_its_name() {
    let dir = std::env::temp_dir().join(format!("kr-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("broken.json");
    let json = karabakh_core::dataset::EMBEDDED_JSON.replacen(
        "\"citations\": [\n        1\n      ]",
        "\"citations\": []",
        1,
    );
    assert_ne!(json, karabakh_core::dataset::EMBEDDED_JSON);
    std::fs::write(&path, json).unwrap();
    let o = bot()
        .arg("--data")
        .arg(&path)
        .args(["ask", "/about"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(
            "broken.json: statements[0] (s2.1): a statement must carry at least one citation"
        ),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// `ask … | head -c 600`: the reader goes away before the output ends. The bot ends as
/// command-line tools do, by SIGPIPE, with nothing on standard error (it used to panic
/// with a backtrace). The console, reading piped commands, does the same.
#[cfg(unix)]
#[test]
fn a_reader_that_goes_away_ends_the_output_quietly() {
    use std::os::unix::process::ExitStatusExt;

    for (args, input) in [
        (vec!["ask", "--all-pages", "/reaction Turkey"], ""),
        (
            vec![],
            "/reaction Turkey\nnext\nnext\nnext\n/timeline 2020-10\n",
        ),
    ] {
        let mut child = bot()
            .args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary runs");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        // The reader goes away before the bot writes (its start-up takes
        // milliseconds): its first write meets a closed pipe, whatever the timing.
        drop(child.stdout.take());
        let output = child.wait_with_output().unwrap();
        assert_eq!(output.status.signal(), Some(libc::SIGPIPE), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            !stderr.contains("panicked") && !stderr.contains("Broken pipe"),
            "{args:?}: {stderr}"
        );
    }
}
