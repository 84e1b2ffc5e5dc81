//! A full disk under `TEND_HOME`: said once per episode per log file, shown by `tend status`,
//! no torn lines; in-flight work refused clearly and never half-recorded; a crash-looper
//! backs off and is told why its run record cannot be written; a clean stop is recorded.
//!
//! The disk is a real, small tmpfs mounted on the sandbox's `TEND_HOME`: that needs root, so
//! these tests skip (saying so) when not run as root, and outside Linux.
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

/// A tmpfs of a few MiB on `TEND_HOME`, unmounted when dropped.
struct SmallDisk {
    at: PathBuf,
}

impl SmallDisk {
    /// Mounts it, or says why it cannot and returns `None`.
    fn mount(sb: &Sandbox) -> Option<SmallDisk> {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            eprintln!("skipped: a real full disk needs a tmpfs mount, which needs root");
            return None;
        }
        std::fs::create_dir_all(&sb.home).unwrap();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=4m,mode=0700", "tend-test", &text(&sb.home)])
            .status();
        match status {
            Ok(status) if status.success() => Some(SmallDisk { at: sb.home.clone() }),
            other => {
                eprintln!("skipped: cannot mount a tmpfs ({other:?})");
                None
            }
        }
    }

    /// Fills it up: a file that takes every free byte.
    fn fill(&self) -> Filler {
        let path = self.at.join("filler");
        let file = std::fs::File::create(&path).unwrap();
        let mut filler = Filler { path, file };
        filler.top_up();
        filler
    }
}

/// The file that fills a [`SmallDisk`].
struct Filler {
    path: PathBuf,
    file: std::fs::File,
}

impl Filler {
    /// Takes whatever became free since (a removed file frees its space).
    fn top_up(&mut self) {
        let chunk = vec![0u8; 64 * 1024];
        while self.file.write_all(&chunk).is_ok() {}
        while self.file.write_all(&chunk[..512]).is_ok() {}
        let _ = self.file.flush();
    }

    /// Frees the space again.
    fn remove(self) {
        std::fs::remove_file(&self.path).unwrap();
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.at).status();
    }
}

fn status_json(sb: &Sandbox) -> serde_json::Value {
    let done = sb.run(&["status", "--json"]);
    done.assert_code(0);
    serde_json::from_str(&done.stdout).unwrap()
}

fn log_error(status: &serde_json::Value, program: &str) -> serde_json::Value {
    let programs = status["programs"].as_array().unwrap();
    programs.iter().find(|p| p["name"] == program).unwrap()["log_error"].clone()
}

/// Every line of the file at `path` is `line`: nothing torn, nothing else.
fn all_lines_are(path: &Path, line: &str) -> usize {
    let text = String::from_utf8(std::fs::read(path).unwrap()).unwrap();
    assert!(text.ends_with('\n'), "the last line is whole");
    for l in text.lines() {
        assert_eq!(l, line, "a torn or foreign line in {}", path.display());
    }
    text.lines().count()
}

/// `50ms`, `1.6s`, `1m` in milliseconds.
fn millis(delay: &str) -> f64 {
    let number = |s: &str| s.parse::<f64>().unwrap_or_else(|_| panic!("delay {delay:?}"));
    if let Some(ms) = delay.strip_suffix("ms") {
        number(ms)
    } else if let Some(s) = delay.strip_suffix('s') {
        number(s) * 1000.0
    } else if let Some(m) = delay.strip_suffix('m') {
        number(m) * 60_000.0
    } else {
        panic!("delay {delay:?}")
    }
}

#[test]
fn a_full_disk_is_said_once_per_log_file_shown_in_status_and_leaves_no_torn_line() {
    let sb = Sandbox::new();
    let Some(disk) = SmallDisk::mount(&sb) else { return };
    let line = "talk-line-of-some-length-0123456789";
    sb.write(
        "tend.toml",
        &format!(
            r#"name = "full"

[programs.talker]
command = ["sh", "-c", "while true; do echo {line}; sleep 0.01; done"]
"#
        ),
    );
    let tend = sb.spawn(&["up"]);
    let app = sb.app("full");
    sb.wait_lines(&app.log("talker"), 5);

    let mut filler = disk.fill();
    let trouble = sb.wait_for("status to show the full disk and 2 KB dropped", || {
        filler.top_up();
        let trouble = log_error(&status_json(&sb), "talker");
        (trouble["dropped_bytes"].as_u64()? >= 2048).then_some(trouble)
    });
    assert_eq!(trouble["path"], "logs/talker.log");
    assert_eq!(trouble["error"], "no space left");
    let table = sb.run(&["status"]);
    assert!(
        table.stdout.contains("talker: logs/talker.log: no space left; dropping output ("),
        "{}",
        table.stdout
    );

    // In-flight work cannot be recorded: refused clearly, and not half-recorded in memory.
    let begin = sb.run(&["inflight", "begin", "job-1"]);
    begin.assert_code(1);
    assert!(begin.stderr.contains("inflight.json"), "{}", begin.stderr);
    assert!(begin.stderr.contains("No space left on device"), "{}", begin.stderr);
    let listed = sb.run(&["inflight", "list", "--json"]);
    listed.assert_code(0);
    assert!(!listed.stdout.contains("job-1"), "{}", listed.stdout);

    filler.remove();
    sb.wait_for("status to show the log written again", || {
        log_error(&status_json(&sb), "talker").is_null().then_some(())
    });
    sb.run(&["inflight", "begin", "job-2"]).assert_code(0);
    assert!(read(&app.dir.join("inflight.json")).contains("job-2"));
    let stderr = sb.wait_for("the end of the episode to be told", || {
        let stderr = tend.stderr();
        stderr.contains("writing again after").then_some(stderr)
    });
    tend.signal(libc::SIGTERM);
    tend.wait().assert_code(0);

    let said = lines_with(&stderr, "logs/talker.log: no space left; dropping output");
    assert_eq!(said.len(), 1, "said once, not per write:\n{stderr}");
    let again = lines_with(&stderr, "logs/talker.log: writing again after ");
    assert_eq!(again.len(), 1, "{stderr}");
    let dropped: u64 = again[0]
        .split("writing again after ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(dropped >= 2048, "{}", again[0]);
    assert_eq!(dropped % (line.len() as u64 + 1), 0, "whole lines were dropped: {}", again[0]);
    assert!(all_lines_are(&app.log("talker"), line) > 5);
}

#[test]
fn on_a_full_disk_a_crash_looper_backs_off_is_told_why_and_a_clean_stop_is_recorded() {
    let sb = Sandbox::new();
    let Some(disk) = SmallDisk::mount(&sb) else { return };
    let starts = sb.path_str("starts");
    sb.write(
        "tend.toml",
        &format!(
            r#"name = "full"

[programs.crasher]
command = ["sh", "-c", "echo $TEND_STARTUP_KIND >> {starts}; exit 1"]
backoff = {{ initial = "50ms", max = "10s", reset_after = "1s" }}
max_restarts = {{ count = 1000, within = "1m" }}
"#
        ),
    );
    let tend = sb.spawn(&["up"]);
    let app = sb.app("full");
    sb.wait_lines(Path::new(&starts), 2);

    let mut filler = disk.fill();
    let stderr = sb.wait_for("3 starts refused for want of a run record", || {
        // Each run's record is removed when it ends, which frees space for the next one.
        filler.top_up();
        let stderr = tend.stderr();
        (lines_with(&stderr, "cannot write the run record").len() >= 3).then_some(stderr)
    });
    let refused = lines_with(&stderr, "cannot write the run record");
    let runs = text(&app.runs());
    assert!(
        refused[0].contains(&format!(
            "cannot write the run record in {runs}: ENOSPC: No space left on device"
        )),
        "{}",
        refused[0]
    );
    // Each refusal backs off as a crash does: longer each time, never a fixed short retry.
    let after_first = &stderr[stderr.find("cannot write the run record").unwrap()..];
    let delays = backoff_delays(after_first);
    let millis: Vec<f64> = delays.iter().map(|d| millis(d)).collect();
    assert!(millis.len() >= 2 && millis.windows(2).all(|w| w[1] > w[0]), "{delays:?}");

    // A clean stop while the disk is still full is recorded as one.
    tend.signal(libc::SIGTERM);
    tend.wait().assert_code(0);
    let state: serde_json::Value =
        serde_json::from_str(&read(&app.dir.join("state.json"))).unwrap();
    assert_eq!(state["clean_shutdown"], true, "{state}");

    filler.remove();
    let before = read(Path::new(&starts)).lines().count();
    let tend = sb.spawn(&["up"]);
    let kinds = sb.wait_lines(Path::new(&starts), before + 1);
    assert_eq!(kinds.lines().nth(before), Some("start"), "{kinds}");
    tend.signal(libc::SIGTERM);
    tend.wait().assert_code(0);
}
