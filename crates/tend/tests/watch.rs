//! Hot reload of a program on file change (`watch`), through the real `tend` binary: a burst
//! of changes is one graceful restart with `TEND_RESTART_REASON=file_change` and the changed
//! path in the log; ignored paths (the defaults and the `ignore` globs) restart nothing; a
//! program that is done is not started by a change.
//!
//! The program is `tend-testbin stamp FILE`: each start appends `<ns> <pid> <reason> <count>`
//! to FILE, outside the watched folder. Non-events are proven without sleeping: ignored
//! changes come first, a watched change after them, and the one restart that follows must
//! name the watched path alone.
#![cfg(unix)]
#![allow(clippy::unwrap_used)] // helpers outside #[test] fns

mod common;

use std::fs;

use common::*;

/// One start of the stamp program: its pid, reason and restart count.
#[derive(Debug, PartialEq, Eq)]
struct Start {
    pid: u32,
    reason: String,
    count: u32,
}

fn starts(text: &str) -> Vec<Start> {
    text.lines()
        .map(|line| {
            let parts: Vec<&str> = line.split(' ').collect();
            Start {
                pid: parts[1].parse().unwrap(),
                reason: parts[2].to_owned(),
                count: parts[3].parse().unwrap(),
            }
        })
        .collect()
}

fn config(sb: &Sandbox, watch: &str) -> String {
    format!(
        "name = \"w\"\n[programs.web]\ncommand = [{}, \"stamp\", {}]\nstop = {{ timeout = \"5s\" }}\nwatch = {watch}\n",
        toml_str(&testbin_str()),
        toml_str(&sb.path_str("starts")),
    )
}

#[test]
fn a_burst_of_changes_is_one_restart_and_ignored_paths_restart_nothing() {
    let sb = Sandbox::new();
    for dir in
        ["src/__pycache__", "src/node_modules/pkg", "src/.git", "src/target/debug", "src/deep"]
    {
        fs::create_dir_all(sb.path(dir)).unwrap();
    }
    sb.write("src/app.py", "v1\n");
    sb.write(
        "tend.toml",
        &config(
            &sb,
            r#"{ paths = ["src"], ignore = ["*.tmp", "**/__pycache__/**"], debounce = "100ms" }"#,
        ),
    );
    let app = sb.app("w");
    let tend = sb.spawn(&["up"]);
    let first = starts(&sb.wait_lines(&sb.path("starts"), 1));
    let mut guard = KillOnDrop::new(&[first[0].pid]);
    sb.wait_text(&app.tend_log(), "web: watching src for changes");

    // Three writes in a row: one restart, naming the file.
    for version in ["v2\n", "v3\n", "v4\n"] {
        fs::write(sb.path("src/app.py"), version).unwrap();
    }
    let text = sb.wait_lines(&sb.path("starts"), 2);
    guard.add(&starts(&text).iter().map(|s| s.pid).collect::<Vec<_>>());
    sb.wait_text(&app.tend_log(), "web: src/app.py changed; restarting");

    // Ignored: the default folders, a glob on the name, a glob on a folder (and the folder's
    // own creation). Then one watched change.
    sb.write("src/notes.tmp", "x");
    sb.write("src/__pycache__/app.cpython-312.pyc", "x");
    fs::create_dir(sb.path("src/__pycache__/sub")).unwrap();
    fs::create_dir(sb.path("src/deep/__pycache__")).unwrap();
    sb.write("src/node_modules/pkg/index.js", "x");
    sb.write("src/.git/HEAD", "x");
    sb.write("src/target/debug/out", "x");
    sb.write("starts.tmp", "outside the watched folder");
    sb.write("src/other.py", "new file\n");
    let text = sb.wait_lines(&sb.path("starts"), 3);
    let log = sb.wait_text(&app.tend_log(), "src/other.py changed; restarting");

    let all = starts(&text);
    guard.add(&all.iter().map(|s| s.pid).collect::<Vec<_>>());
    let restarts = lines_with(&log, "changed; restarting");
    assert_eq!(restarts.len(), 2, "one restart per burst, none for ignored paths:\n{log}");
    assert!(restarts[0].ends_with("web: src/app.py changed; restarting"), "{log}");
    assert!(restarts[1].ends_with("web: src/other.py changed; restarting"), "{log}");
    assert_eq!(all.len(), 3, "{text}");
    assert_eq!(
        all.iter().map(|s| (s.reason.as_str(), s.count)).collect::<Vec<_>>(),
        [("start", 0), ("file_change", 1), ("file_change", 2)]
    );
    // Each restart was graceful: the old run was stopped before the new one started.
    sb.wait_dead(&[all[0].pid, all[1].pid]);
    assert!(log.contains("web: restarting now (file_change)"), "{log}");
    assert!(alive(all[2].pid));

    tend.signal(libc::SIGTERM);
    tend.wait().assert_code(0);
}

#[test]
fn watch_true_watches_the_programs_dir_and_ignores_the_default_folders() {
    let sb = Sandbox::new();
    fs::create_dir_all(sb.path("web/node_modules")).unwrap();
    fs::create_dir_all(sb.path("web/.git")).unwrap();
    fs::create_dir_all(sb.path("web/target")).unwrap();
    let text = config(&sb, "true").replace("[programs.web]\n", "[programs.web]\ndir = \"web\"\n");
    sb.write("tend.toml", &text);
    let app = sb.app("w");
    let tend = sb.spawn(&["up"]);
    let first = starts(&sb.wait_lines(&sb.path("starts"), 1));
    let mut guard = KillOnDrop::new(&[first[0].pid]);
    sb.wait_text(&app.tend_log(), "web: watching . for changes");

    sb.write("web/node_modules/x.js", "x");
    sb.write("web/.git/index", "x");
    sb.write("web/target/app", "x");
    // Outside the program's dir: not watched.
    sb.write("elsewhere.txt", "x");
    sb.write("web/main.js", "x");
    let all = starts(&sb.wait_lines(&sb.path("starts"), 2));
    guard.add(&all.iter().map(|s| s.pid).collect::<Vec<_>>());
    let log = sb.wait_text(&app.tend_log(), "main.js changed; restarting");
    let restarts = lines_with(&log, "changed; restarting");
    assert_eq!(restarts.len(), 1, "{log}");
    assert!(restarts[0].ends_with("web: main.js changed; restarting"), "{log}");
    assert_eq!((all[1].reason.as_str(), all[1].count), ("file_change", 1));

    tend.signal(libc::SIGTERM);
    tend.wait().assert_code(0);
}

#[test]
fn a_program_that_is_done_is_not_started_by_a_change() {
    let sb = Sandbox::new();
    fs::create_dir_all(sb.path("src")).unwrap();
    let text = format!(
        "name = \"w\"\n[programs.once]\ncommand = [{bin}, \"starts\", {starts}, \"1\", \"0\"]\n\
         watch = {{ paths = [\"src\"], debounce = \"50ms\" }}\n\
         [programs.keep]\ncommand = [{bin}, \"sleep\", \"300\"]\n",
        bin = toml_str(&testbin_str()),
        starts = toml_str(&sb.path_str("starts")),
    );
    sb.write("tend.toml", &text);
    let app = sb.app("w");
    let tend = sb.spawn(&["up"]);
    sb.wait_text(&app.tend_log(), "once: done (exit code 0)");
    sb.wait_text(&app.tend_log(), "keep: started");
    sb.write("src/app.py", "x");
    let log = sb.wait_text(&app.tend_log(), "once: src/app.py changed; not restarting: it is done");
    assert_eq!(read(&sb.path("starts")), "start\n", "started once only");
    assert!(!log.contains("once: restarting"), "{log}");
    tend.signal(libc::SIGTERM);
    tend.wait().assert_code(0);
}
