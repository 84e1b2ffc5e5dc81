//! Restarting the whole app: the `restart-requested` marker (file-system events, not polling),
//! `tend restart --app`, the sentinel consumed once and handed to programs as
//! `TEND_RESTART_CONTEXT`, re-execution in place, and exit 42 under a service manager.
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used)] // helpers outside #[test] fns

mod common;

use std::path::PathBuf;
use std::time::SystemTime;

use common::*;

/// An app `demo` whose program appends one line per start to `starts`:
/// `pid kind reason context-file-content-or-dash`, then sleeps.
fn config(sb: &Sandbox) -> PathBuf {
    let starts = sb.path("starts");
    let script = format!(
        "ctx=-; [ -n \"$TEND_RESTART_CONTEXT\" ] && ctx=$(tr -d '\\n' < \"$TEND_RESTART_CONTEXT\"); \
         echo \"$$ $TEND_STARTUP_KIND $TEND_RESTART_REASON $ctx\" >> {starts}; exec {bin} sleep 300",
        starts = sh_quote(&text(&starts)),
        bin = sh_quote(&testbin_str()),
    );
    sb.write(
        "tend.toml",
        &format!(
            "name = \"demo\"\n\n[programs.web]\ncommand = [\"sh\", \"-c\", {}]\nstop = {{ timeout = \"5s\" }}\n",
            toml_str(&script)
        ),
    );
    starts
}

/// The `n`th start's fields (1-based), once it is there.
fn start(sb: &Sandbox, starts: &std::path::Path, n: usize) -> Vec<String> {
    let all = sb.wait_lines(starts, n);
    all.lines().nth(n - 1).unwrap().splitn(4, ' ').map(str::to_owned).collect()
}

/// When tend logged the first line holding `needle` (tend.log lines start with an RFC 3339
/// time with microseconds).
fn logged_at(log: &str, needle: &str) -> SystemTime {
    let line = log.lines().find(|l| l.contains(needle)).unwrap();
    let time = line.split_whitespace().next().unwrap();
    humantime::parse_rfc3339(time).unwrap()
}

fn state_pid(app: &App) -> u64 {
    let state: serde_json::Value =
        serde_json::from_str(&read(&app.dir.join("state.json"))).unwrap();
    state["pid"].as_u64().unwrap()
}

#[test]
fn a_marker_restarts_the_app_in_place_and_hands_over_its_context() {
    let sb = Sandbox::new();
    let app = sb.app("demo");
    let starts = config(&sb);
    let tend = sb.spawn(&["up"]);
    let first = start(&sb, &starts, 1);
    assert_eq!(first[1], "first_start");
    assert_eq!(first[3], "-", "no restart context at a first start");

    // Written atomically, as a program would: temp file, then rename.
    let marker = app.dir.join("restart-requested");
    let temp = app.dir.join("restart-requested.tmp");
    std::fs::write(&temp, r#"{"reason": "new model", "context": {"model": "b"}}"#).unwrap();
    let asked = SystemTime::now();
    std::fs::rename(&temp, &marker).unwrap();
    let log = sb.wait_text(&app.tend_log(), "restart of the app requested (new model)");
    let second = start(&sb, &starts, 2);
    // The delay from tend's own timestamps (µs), not from this test's polling of the log.
    let noticed = logged_at(&log, "restart of the app requested").duration_since(asked).unwrap();
    // The program's second start came after the restarted tend logged its startup kind.
    let log = app.read_tend_log();
    let back = logged_at(&log, "startup kind restart").duration_since(asked).unwrap();
    eprintln!(
        "marker → tend notices it: {:.2} ms; marker → tend started again: {:.2} ms",
        noticed.as_secs_f64() * 1000.0,
        back.as_secs_f64() * 1000.0
    );
    assert!(noticed < LIMIT, "noticed after {noticed:?}");

    assert_eq!(second[1], "restart", "{second:?}");
    assert_eq!(second[2], "start");
    let context: serde_json::Value = serde_json::from_str(&second[3]).unwrap();
    assert_eq!(context["reason"], "new model");
    assert_eq!(context["context"]["model"], "b");
    assert!(!marker.exists(), "the marker is consumed");
    assert!(!app.dir.join("restart-sentinel.json").exists(), "the sentinel is consumed");
    sb.wait_dead(&[first[0].parse().unwrap()]);
    // In place: the same tend process, which now holds the lock again.
    assert_eq!(state_pid(&app), u64::from(tend.pid()));
    assert!(alive(tend.pid()));
    sb.run(&["status"]).assert_code(0);
    let refused = sb.run(&["up"]);
    refused.assert_code(1);

    // The sentinel counted once: a later plain restart of tend is a `start`, without context.
    tend.signal(libc::SIGTERM);
    tend.wait().assert_code(0);
    let again = sb.spawn(&["up"]);
    let third = start(&sb, &starts, 3);
    assert_eq!((third[1].as_str(), third[3].as_str()), ("start", "-"), "{third:?}");
    assert!(!app.dir.join("restart-context.json").exists());
    again.signal(libc::SIGTERM);
    again.wait().assert_code(0);
}

#[test]
fn restart_app_command_restarts_and_under_a_service_manager_exits_42() {
    let sb = Sandbox::new();
    let app = sb.app("demo");
    let starts = config(&sb);
    let tend = sb.spawn_env(&["up"], &[("TEND_SUPERVISOR", "1")]);
    let first = start(&sb, &starts, 1);

    let asked = sb.run(&["restart", "--app", "--reason", "deploy", "--context", r#"{"v": 2}"#]);
    asked.assert_code(0);
    assert!(asked.stdout.contains("restarting"), "{}", asked.stdout);
    // The manager's part: tend exits 42 once every program is stopped.
    let finished = tend.wait();
    finished.assert_code(42);
    assert!(!alive(first[0].parse().unwrap()), "the program is stopped before tend exits");
    let sentinel: serde_json::Value =
        serde_json::from_str(&read(&app.dir.join("restart-sentinel.json"))).unwrap();
    assert_eq!(sentinel["reason"], "deploy");
    assert_eq!(sentinel["context"]["v"], 2);

    // What the service manager does next: start tend again.
    let again = sb.spawn_env(&["up"], &[("TEND_SUPERVISOR", "1")]);
    let second = start(&sb, &starts, 2);
    assert_eq!(second[1], "restart", "a requested restart wins over service_restart");
    let context: serde_json::Value = serde_json::from_str(&second[3]).unwrap();
    assert_eq!(context["reason"], "deploy");
    again.signal(libc::SIGTERM);
    again.wait().assert_code(0);
}

#[test]
fn restart_app_usage_and_not_running() {
    let sb = Sandbox::new();
    config(&sb);
    let not_running = sb.run(&["restart", "--app"]);
    not_running.assert_code(3);
    assert!(not_running.stderr.contains("not running"), "{}", not_running.stderr);
    let both = sb.run(&["restart", "web", "--app"]);
    both.assert_code(2);
    let bad = sb.run(&["restart", "--app", "--context", "{nope"]);
    bad.assert_code(2);
    assert!(bad.stderr.contains("not JSON"), "{}", bad.stderr);
    let lonely = sb.run(&["restart", "--reason", "x"]);
    lonely.assert_code(2);
}

/// An empty marker (`touch restart-requested`) is a request without a reason of its own.
#[test]
fn a_touched_marker_is_enough() {
    let sb = Sandbox::new();
    let app = sb.app("demo");
    let starts = config(&sb);
    let tend = sb.spawn(&["up"]);
    start(&sb, &starts, 1);
    std::fs::File::create(app.dir.join("restart-requested")).unwrap();
    let second = start(&sb, &starts, 2);
    assert_eq!(second[1], "restart");
    let context: serde_json::Value = serde_json::from_str(&second[3]).unwrap();
    assert_eq!(context["reason"], "restart-requested marker");
    assert!(context.get("context").is_none());
    tend.signal(libc::SIGTERM);
    tend.wait().assert_code(0);
}
