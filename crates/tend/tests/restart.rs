//! The restart protocol, row by row, through the real `tend` binary: exit 0, the restart exit
//! code, crashes with backoff, deaths by signal, `restart = never`, the variables a restarted
//! program sees, backoff growth and reset, and the crash-loop guard.
#![cfg(unix)]

mod common;

use common::*;

#[test]
fn exit_zero_is_done_and_not_restarted_under_on_failure() {
    let sb = Sandbox::new();
    let starts = sb.path_str("starts");
    let done = sb.run(&[
        "run",
        "--name",
        "once",
        "--backoff-initial",
        "50ms",
        "--",
        &testbin_str(),
        "starts",
        &starts,
        "99",
        "0",
    ]);
    done.assert_code(0);
    assert_eq!(std::fs::read_to_string(&starts).unwrap(), "start\n", "started exactly once");
    let log = sb.app("once").read_tend_log();
    assert!(log.contains("once: exited with exit code 0"), "{log}");
    assert!(log.contains("once: done (exit code 0)"), "{log}");
    assert!(!log.contains("restarting"), "{log}");
    assert_eq!(lines_with(&log, "once: started").len(), 1, "{log}");
}

#[test]
fn exit_zero_is_restarted_after_backoff_under_always() {
    let sb = Sandbox::new();
    let starts = sb.path("starts");
    let tend = sb.spawn(&[
        "run",
        "--name",
        "again",
        "--restart",
        "always",
        "--backoff-initial",
        "50ms",
        "--",
        &testbin_str(),
        "starts",
        starts.to_str().unwrap(),
        "1",
        "0",
    ]);
    sb.wait_lines(&starts, 3);
    tend.signal(libc::SIGTERM);
    tend.wait().assert_code(0);
    let log = sb.app("again").read_tend_log();
    assert!(log.contains("again: exited with exit code 0"), "{log}");
    assert!(log.contains("again: restarting in 50ms (attempt 1)"), "{log}");
    assert!(log.contains("again: restarting in 100ms (attempt 2)"), "{log}");
    assert!(log.contains("reason start)"), "a clean exit restarts with reason start: {log}");
    assert!(!log.contains("again: done"), "{log}");
    assert!(log.contains("again: stopped"), "{log}");
}

#[test]
fn restart_exit_code_restarts_at_once_without_backoff() {
    let sb = Sandbox::new();
    let starts = sb.path_str("starts");
    // A backoff long enough that the suite would time out if it were applied.
    let done = sb.run(&[
        "run",
        "--name",
        "eager",
        "--backoff-initial",
        "30s",
        "--",
        &testbin_str(),
        "starts",
        &starts,
        "3",
        "42",
    ]);
    done.assert_code(0);
    assert_eq!(std::fs::read_to_string(&starts).unwrap().lines().count(), 3);
    let log = sb.app("eager").read_tend_log();
    assert_eq!(lines_with(&log, "eager: exited with exit code 42").len(), 2, "{log}");
    assert_eq!(lines_with(&log, "eager: restarting now (exit_code)").len(), 2, "{log}");
    assert!(!log.contains("restarting in"), "no backoff for the restart exit code: {log}");
    assert_eq!(lines_with(&log, "reason exit_code)").len(), 2, "{log}");
    assert!(log.contains("eager: done (exit code 0)"), "{log}");
}

#[test]
fn a_crash_is_restarted_after_a_backoff() {
    let sb = Sandbox::new();
    let starts = sb.path_str("starts");
    let done = sb.run(&[
        "run",
        "--name",
        "crashy",
        "--backoff-initial",
        "50ms",
        "--",
        &testbin_str(),
        "starts",
        &starts,
        "3",
        "7",
    ]);
    done.assert_code(0);
    assert_eq!(std::fs::read_to_string(&starts).unwrap().lines().count(), 3);
    let log = sb.app("crashy").read_tend_log();
    assert_eq!(lines_with(&log, "crashy: exited with exit code 7").len(), 2, "{log}");
    assert_eq!(backoff_delays(&log), ["50ms", "100ms"], "{log}");
    assert_eq!(lines_with(&log, "reason crash)").len(), 2, "{log}");
    assert!(!log.contains("restarting now"), "{log}");
    assert!(log.contains("crashy: done (exit code 0)"), "{log}");
}

#[test]
fn a_death_by_signal_is_a_crash() {
    let sb = Sandbox::new();
    let script = r#"if [ "$TEND_RESTART_COUNT" = 0 ]; then kill -KILL $$; fi; exit 0"#;
    let done =
        sb.run(&["run", "--name", "killed", "--backoff-initial", "50ms", "--", "sh", "-c", script]);
    done.assert_code(0);
    let log = sb.app("killed").read_tend_log();
    assert!(log.contains("killed: exited with signal 9 (SIGKILL)"), "{log}");
    assert!(log.contains("killed: restarting in 50ms (attempt 1)"), "{log}");
    assert!(log.contains("restart 1, reason crash)"), "{log}");
    assert!(log.contains("killed: done (exit code 0)"), "{log}");
}

#[test]
fn restart_never_does_not_restart_a_crash_and_returns_its_code() {
    let sb = Sandbox::new();
    let starts = sb.path_str("starts");
    let done = sb.run(&[
        "run",
        "--name",
        "never",
        "--restart",
        "never",
        "--backoff-initial",
        "50ms",
        "--",
        &testbin_str(),
        "starts",
        &starts,
        "5",
        "3",
    ]);
    done.assert_code(3);
    assert_eq!(std::fs::read_to_string(&starts).unwrap(), "start\n");
    let log = sb.app("never").read_tend_log();
    assert!(log.contains("never: done (exit code 3)"), "{log}");
    assert!(!log.contains("restarting"), "{log}");
}

#[test]
fn restart_never_returns_128_plus_the_signal() {
    let sb = Sandbox::new();
    let done =
        sb.run(&["run", "--name", "sig", "--restart", "never", "--", "sh", "-c", "kill -KILL $$"]);
    done.assert_code(128 + 9);
    let log = sb.app("sig").read_tend_log();
    assert!(log.contains("sig: done (signal 9 (SIGKILL))"), "{log}");
    assert!(!log.contains("restarting"), "{log}");
}

#[test]
fn the_program_sees_why_and_how_often_it_was_restarted() {
    let sb = Sandbox::new();
    let seen = sb.path("seen");
    // Run 0 asks for a restart (exit code 17, set by flag), run 1 crashes, run 2 is done.
    let script = format!(
        r#"echo "$TEND_RESTART_COUNT $TEND_RESTART_REASON $TEND_RESTART_EXIT_CODE" >> {file}
case "$TEND_RESTART_COUNT" in 0) exit 17;; 1) exit 5;; *) exit 0;; esac"#,
        file = sh_quote(seen.to_str().unwrap())
    );
    let done = sb.run(&[
        "run",
        "--name",
        "reasons",
        "--restart-exit-code",
        "17",
        "--backoff-initial",
        "50ms",
        "--",
        "sh",
        "-c",
        &script,
    ]);
    done.assert_code(0);
    assert_eq!(std::fs::read_to_string(&seen).unwrap(), "0 start 17\n1 exit_code 17\n2 crash 17\n");
    let log = sb.app("reasons").read_tend_log();
    assert!(log.contains("reasons: restarting now (exit_code)"), "{log}");
    assert!(log.contains("reasons: restarting in 50ms (attempt 1)"), "{log}");
}

#[test]
fn backoff_grows_and_resets_after_a_stable_run() {
    let sb = Sandbox::new();
    // Runs 0-2 crash at once (50ms, 100ms, 200ms), run 3 stays up past reset_after before it
    // crashes (back to 50ms), run 4 crashes at once (100ms), run 5 is done.
    let script =
        r#"case "$TEND_RESTART_COUNT" in 3) sleep 0.6; exit 1;; 5) exit 0;; *) exit 1;; esac"#;
    sb.write(
        "tend.toml",
        &format!(
            r#"name = "bo"

[programs.flaky]
command = ["sh", "-c", {script}]
backoff = {{ initial = "50ms", max = "1s", factor = 2.0, reset_after = "300ms" }}
max_restarts = {{ count = 20, within = "1m" }}
"#,
            script = toml_str(script)
        ),
    );
    sb.run(&["up"]).assert_code(0);
    let log = sb.app("bo").read_tend_log();
    assert_eq!(backoff_delays(&log), ["50ms", "100ms", "200ms", "50ms", "100ms"], "{log}");
    let attempts: Vec<&str> = lines_with(&log, "restarting in")
        .into_iter()
        .filter_map(|l| l.split("(attempt ").nth(1))
        .collect();
    assert_eq!(attempts, ["1)", "2)", "3)", "1)", "2)"], "{log}");
    assert!(log.contains("flaky: done (exit code 0)"), "{log}");
}

#[test]
fn too_many_crashes_are_fatal_and_up_exits_1() {
    let sb = Sandbox::new();
    let starts = sb.path_str("starts");
    let bin = testbin_str();
    sb.write(
        "tend.toml",
        &format!(
            r#"name = "loop"

[programs.fine]
command = [{bin}, "exit", "0"]

[programs.crashy]
command = [{bin}, "starts", {starts}, "100", "3"]
backoff = {{ initial = "20ms", max = "20ms" }}
max_restarts = {{ count = 2, within = "1m" }}
"#,
            bin = toml_str(&bin),
            starts = toml_str(&starts)
        ),
    );
    let done = sb.run(&["up"]);
    done.assert_code(1);
    assert_eq!(
        std::fs::read_to_string(&starts).unwrap().lines().count(),
        3,
        "1 start + 2 restarts"
    );
    let log = sb.app("loop").read_tend_log();
    assert!(log.contains("crashy: fatal: crashed 3 time(s) within 1m"), "{log}");
    assert_eq!(lines_with(&log, "crashy: restarting in").len(), 2, "{log}");
    assert!(log.contains("fine: done (exit code 0)"), "{log}");
    assert!(done.stderr.contains("crashy: fatal"), "{}", done.stderr);
}

#[test]
fn too_many_crashes_under_run_exit_with_the_program_code() {
    let sb = Sandbox::new();
    let starts = sb.path_str("starts");
    let done = sb.run(&[
        "run",
        "--name",
        "crashy",
        "--backoff-initial",
        "10ms",
        "--backoff-max",
        "10ms",
        "--",
        &testbin_str(),
        "starts",
        &starts,
        "100",
        "3",
    ]);
    // The default guard: more than 10 crashes within 1m; `tend run` then returns the
    // program's last exit code.
    done.assert_code(3);
    assert_eq!(std::fs::read_to_string(&starts).unwrap().lines().count(), 11);
    let log = sb.app("crashy").read_tend_log();
    assert!(log.contains("crashy: fatal: crashed 11 time(s) within 1m"), "{log}");
}
