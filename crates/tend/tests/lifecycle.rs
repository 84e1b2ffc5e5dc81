//! The app's lifecycle across runs: one instance per app (`tend.pid`), `--replace`, and the
//! startup kind each start is given (`TEND_STARTUP_KIND`, `state.json`).
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used)] // helpers outside #[test] fns

mod common;

use std::path::{Path, PathBuf};

use common::*;

/// An app `demo` whose program appends its pid and its `TEND_STARTUP_KIND` to files in the
/// sandbox, then sleeps.
fn config(sb: &Sandbox) -> (PathBuf, PathBuf) {
    let pids = sb.path("pids");
    let kinds = sb.path("kinds");
    let script = format!(
        "echo $$ >> {pids}; echo \"$TEND_STARTUP_KIND\" >> {kinds}; exec {bin} sleep 300",
        pids = sh_quote(&text(&pids)),
        kinds = sh_quote(&text(&kinds)),
        bin = sh_quote(&testbin_str()),
    );
    sb.write(
        "tend.toml",
        &format!(
            "name = \"demo\"\n\n[programs.web]\ncommand = [\"sh\", \"-c\", {}]\nstop = {{ timeout = \"5s\" }}\n",
            toml_str(&script)
        ),
    );
    (pids, kinds)
}

/// Waits until the live processes of this sandbox's app `demo` are exactly `expected` (a
/// program's environment cannot be read for a moment while it `exec`s).
fn wait_programs(sb: &Sandbox, app: &App, expected: &[u32]) {
    sb.wait_for(&format!("the programs of the app to be {expected:?}"), || {
        (processes_with_env("TEND_STATE_DIR", &text(&app.dir)) == expected).then_some(())
    });
}

fn state(app: &App) -> serde_json::Value {
    serde_json::from_str(&read(&app.dir.join("state.json"))).unwrap()
}

/// Starts `tend up` (with `env`), waits until its program reported the `n`th start, and
/// returns the tend, the kind the program saw and the program's pid.
fn up(sb: &Sandbox, env: &[(&str, &str)], n: usize) -> (Tend, String, u32) {
    let (pids, kinds) = (sb.path("pids"), sb.path("kinds"));
    let tend = sb.spawn_env(&["up"], env);
    let kind = sb.wait_lines(&kinds, n).lines().nth(n - 1).unwrap().to_owned();
    let pid = pids_of(&sb.wait_lines(&pids, n))[n - 1];
    (tend, kind, pid)
}

/// SIGTERM, exit 0, program gone, clean shutdown recorded.
fn stop(sb: &Sandbox, app: &App, tend: Tend, program: u32) {
    tend.signal(libc::SIGTERM);
    tend.wait().assert_code(0);
    sb.wait_dead(&[program]);
    assert_eq!(state(app)["clean_shutdown"], true, "{}", state(app));
}

#[test]
fn two_ups_of_the_same_app_run_one_and_refuse_the_other() {
    let sb = Sandbox::new();
    let app = sb.app("demo");
    let (pids, _) = config(&sb);

    let a = sb.spawn(&["up"]);
    let b = sb.spawn(&["up"]);
    let refused = sb.wait_for("one of two tends to refuse", || {
        let (sa, sb_) = (a.stderr(), b.stderr());
        if sa.contains("already running") {
            Some(true)
        } else if sb_.contains("already running") {
            Some(false)
        } else {
            None
        }
    });
    let (loser, winner) = if refused { (a, b) } else { (b, a) };
    let finished = loser.wait();
    finished.assert_code(1);
    let program = pids_of(&sb.wait_lines(&pids, 1))[0];
    let _guard = KillOnDrop::new(&[program]);
    assert!(
        finished.stderr.contains(&format!(
            "app `demo` is already running (pid {}); stop it with `tend down` (or send SIGTERM to pid {}), or take over with `tend up --replace`",
            winner.pid(),
            winner.pid()
        )),
        "{}",
        finished.stderr
    );
    assert_eq!(read(&app.dir.join("tend.pid")).trim(), winner.pid().to_string());
    wait_programs(&sb, &app, &[program]);

    // `tend run` of the same app name is refused too, with its own hint.
    let run = sb.run(&["run", "--name", "demo", "--", "true"]);
    run.assert_code(1);
    assert!(run.stderr.contains("take over with `tend run --replace`"), "{}", run.stderr);
    wait_programs(&sb, &app, &[program]);
    assert_eq!(pids_of(&read(&pids)), [program], "the refused tends started nothing");

    stop(&sb, &app, winner, program);
}

#[test]
fn replace_stops_the_running_instance_and_takes_over() {
    let sb = Sandbox::new();
    let app = sb.app("demo");
    config(&sb);
    let (old, kind, old_program) = up(&sb, &[], 1);
    let mut guard = KillOnDrop::new(&[old_program]);
    assert_eq!(kind, "first_start");

    let old_pid = old.pid();
    let new = sb.spawn(&["up", "--replace"]);
    // The old tend stops gracefully (exit 0) and its program with it.
    old.wait().assert_code(0);
    sb.wait_dead(&[old_program]);
    let kinds = sb.wait_lines(&sb.path("kinds"), 2);
    let new_program = pids_of(&sb.wait_lines(&sb.path("pids"), 2))[1];
    guard.add(&[new_program]);
    // It shut down cleanly before letting go, so this is a plain start.
    assert_eq!(kinds.lines().nth(1), Some("start"), "{kinds}");
    wait_programs(&sb, &app, &[new_program]);
    assert_eq!(read(&app.dir.join("tend.pid")).trim(), new.pid().to_string());
    let log = app.read_tend_log();
    assert!(log.contains(&format!("replacing the running instance (pid {old_pid})")), "{log}");

    // `tend run --replace` of the same app name takes over from `tend up` the same way.
    let ready = sb.path("ready");
    let run = sb.spawn(&[
        "run",
        "--replace",
        "--name",
        "demo",
        "--",
        &testbin_str(),
        "ready",
        &text(&ready),
        "300",
    ]);
    new.wait().assert_code(0);
    sb.wait_dead(&[new_program]);
    sb.wait_file(&ready);
    assert_eq!(read(&app.dir.join("tend.pid")).trim(), run.pid().to_string());
    run.signal(libc::SIGTERM);
    run.wait().assert_code(0);
}

#[test]
fn a_killed_tend_never_blocks_and_the_next_start_is_a_crash_recovery() {
    let sb = Sandbox::new();
    let app = sb.app("demo");
    config(&sb);
    let (first, _, first_program) = up(&sb, &[], 1);
    let mut guard = KillOnDrop::new(&[first_program]);
    let lock = app.dir.join("tend.pid");
    let first_pid = first.pid();
    assert_eq!(read(&lock).trim(), first_pid.to_string());
    first.signal(libc::SIGKILL);
    first.wait();
    assert_eq!(read(&lock).trim(), first_pid.to_string(), "the file stays behind");
    assert_eq!(state(&app)["clean_shutdown"], false);

    let (second, kind, second_program) = up(&sb, &[], 2);
    guard.add(&[second_program]);
    assert_eq!(kind, "crash_recovery");
    assert_eq!(read(&lock).trim(), second.pid().to_string());
    assert!(!alive(first_program), "the orphan of the killed tend was reaped");
    assert!(app.read_tend_log().contains("demo: startup kind crash_recovery"));
    stop(&sb, &app, second, second_program);
}

#[test]
fn startup_kinds_across_runs() {
    let sb = Sandbox::new();
    let app = sb.app("demo");
    config(&sb);
    let state_file = app.dir.join("state.json");
    let sentinel = app.dir.join("restart-sentinel.json");
    let mut guard = KillOnDrop::new(&[]);
    let mut n = 0;
    let mut start = |env: &[(&str, &str)], want: &str| {
        n += 1;
        let (tend, kind, program) = up(&sb, env, n);
        guard.add(&[program]);
        assert_eq!(kind, want, "start {n}");
        let running = state(&app);
        assert_eq!(running["clean_shutdown"], false, "{running}");
        assert_eq!(running["pid"], tend.pid(), "{running}");
        assert_eq!(running["version"], env!("CARGO_PKG_VERSION"), "{running}");
        stop(&sb, &app, tend, program);
        state(&app)
    };

    start(&[], "first_start");
    let after = start(&[], "start");
    assert!(after["started_at"].as_u64().unwrap() > 1_700_000_000, "{after}");
    start(&[("TEND_SUPERVISOR", "1")], "service_restart");
    start(&[("INVOCATION_ID", "0123abcd")], "service_restart");

    std::fs::write(&sentinel, r#"{"reason": "test"}"#).unwrap();
    start(&[("TEND_SUPERVISOR", "1")], "restart");
    assert!(!sentinel.exists(), "the sentinel is consumed");
    start(&[], "start");

    let after = start(&[("TEND_TEST_BOOT_ID", "another-boot")], "system_reboot");
    assert_eq!(after["boot_id"], "another-boot", "{after}");
    start(&[("TEND_TEST_BOOT_ID", "another-boot")], "start");

    std::fs::write(&state_file, "{ torn").unwrap();
    start(&[], "first_start");
    let aside = corrupt_files(&app.dir);
    assert_eq!(aside.len(), 1, "{aside:?}");
    assert_eq!(read(&aside[0]), "{ torn");
}

fn corrupt_files(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("state.json.corrupt-"))
        })
        .collect()
}
