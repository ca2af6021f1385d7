//! The deployment example's systemd units (deploy/systemd) are units systemd loads:
//! `systemd-analyze verify` on each template's instance, with the binary cargo built in
//! place of /usr/local/bin, reports nothing. (The launcher, deploy/run-local, is run
//! end to end on a local Discord by tests/e2e/deploy.test.mjs.)

use std::path::Path;
use std::process::Command;

#[cfg(unix)]
#[test]
fn the_systemd_units_verify() {
    let found = Command::new("systemd-analyze").arg("--version").output();
    if found.is_err() {
        // CI's machines have it (the project's kind of machine does); elsewhere say so.
        assert!(
            std::env::var_os("CI").is_none(),
            "systemd-analyze is missing: the unit files cannot be verified"
        );
        eprintln!("skipped: systemd-analyze is not installed, the unit files were not verified");
        return;
    }
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/systemd");
    let dir = tempfile::tempdir().unwrap();
    let binary = env!("CARGO_BIN_EXE_karabakh-reactions");
    let mut units = Vec::new();
    for entry in std::fs::read_dir(&source).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        if !(name.ends_with(".service") || name.ends_with(".target")) {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            !text.contains("ExecStart=")
                || text.contains("ExecStart=/usr/local/bin/karabakh-reactions "),
            "{name}: runs the installed binary"
        );
        let text = text.replace("/usr/local/bin/karabakh-reactions", binary);
        std::fs::write(dir.path().join(&name), text).unwrap();
        // An instance of each template, as the README starts them.
        let instance = match name.as_str() {
            "karabakh-gateway@.service" => "karabakh-gateway@0-1.service",
            "karabakh-serve@.service" => "karabakh-serve@0.service",
            "karabakh-schedule@.service" => "karabakh-schedule@0.service",
            other => {
                units.push(other.to_owned());
                continue;
            }
        };
        std::os::unix::fs::symlink(dir.path().join(&name), dir.path().join(instance)).unwrap();
        units.push(instance.to_owned());
    }
    units.sort();
    assert_eq!(
        units,
        [
            "karabakh-gateway@0-1.service",
            "karabakh-reactions.target",
            "karabakh-schedule@0.service",
            "karabakh-serve@0.service"
        ]
    );
    let out = Command::new("systemd-analyze")
        .current_dir(dir.path())
        .args(["verify", "--man=no"])
        .args(units.iter().map(|u| format!("./{u}")))
        .output()
        .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{said}");
    assert_eq!(said.trim(), "", "systemd-analyze verify found something");
}
