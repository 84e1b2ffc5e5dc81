//! Escapees: a program's descendant that leaves its session and drops its run token
//! (`(setsid env -u TEND_RUN_ID sleep N &)`) is orphaned and adopted by tend, the child
//! subreaper. It is ended with the program it came from: at a graceful stop, and when the
//! program exits by itself; one whose program cannot be told is ended when the app stops.
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use common::*;

/// `sh` that starts `sleep SECS` escaped by `escape` (`env -u TEND_RUN_ID`, `env -i`) in a
/// subshell, so that it is orphaned at once, and writes its pid to `pidfile`.
fn escape(escape: &str, secs: u32, pidfile: &Path) -> String {
    let pf = sh_quote(&text(pidfile));
    format!("(setsid {escape} sleep {secs} & echo $! > {pf}.tmp && mv {pf}.tmp {pf})")
}

/// Waits for the escapee of `pidfile`: it runs `sleep SECS` and tend (`tend_pid`) adopted it.
/// Returns its pid, guarded.
fn escapee(sb: &Sandbox, pidfile: &Path, secs: u32, tend_pid: u32) -> (u32, KillOnDrop) {
    let pid = pids_of(&sb.wait_file(pidfile))[0];
    let guard = KillOnDrop::new(&[pid]);
    let wanted = format!("sleep\0{secs}\0");
    sb.wait_for(&format!("{pid} to run `sleep {secs}`, adopted by tend {tend_pid}"), || {
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
        let adopted = tend_runner::process_stats(pid).is_some_and(|i| i.ppid == tend_pid);
        (cmdline == wanted.as_bytes() && adopted).then_some(())
    });
    assert!(
        !std::fs::read(format!("/proc/{pid}/environ"))
            .unwrap()
            .windows(12)
            .any(|w| w == b"TEND_RUN_ID="),
        "the escapee should have dropped its token"
    );
    (pid, guard)
}

#[test]
fn an_escapee_without_its_token_is_ended_by_a_graceful_stop() {
    let sb = Sandbox::new();
    let pidfile = sb.path("escapee");
    let script = format!(
        "{}; exec {} sleep 300",
        escape("env -u TEND_RUN_ID", 1001, &pidfile),
        sh_quote(&testbin_str())
    );
    sb.write(
        "tend.toml",
        &format!(
            "name = \"demo\"\n\n[programs.web]\ncommand = [\"sh\", \"-c\", {}]\nstop = {{ timeout = \"5s\" }}\n",
            toml_str(&script)
        ),
    );
    let tend = sb.spawn(&["up"]);
    let (pid, _guard) = escapee(&sb, &pidfile, 1001, tend.pid());

    sb.run(&["down"]).assert_code(0);
    tend.wait().assert_code(0);
    assert!(!alive(pid), "the escapee survived tend down: {}", describe(&[pid]));
}

#[test]
fn an_escapee_without_its_token_is_ended_when_its_program_exits() {
    let sb = Sandbox::new();
    let pidfile = sb.path("escapee");
    let go = sb.path("go");
    // The first run escapes, and crashes once the test has seen the escapee adopted; the next
    // ones just run.
    let script = format!(
        "if [ ! -e {pf} ]; then {}; while [ ! -e {go} ]; do sleep 0.01; done; exit 3; fi; exec {} sleep 300",
        escape("env -u TEND_RUN_ID", 1002, &pidfile),
        sh_quote(&testbin_str()),
        pf = sh_quote(&text(&pidfile)),
        go = sh_quote(&text(&go))
    );
    let tend = sb.spawn(&[
        "run",
        "--name",
        "crashy",
        "--restart",
        "on-failure",
        "--backoff-initial",
        "10ms",
        "--",
        "sh",
        "-c",
        &script,
    ]);
    let (pid, _guard) = escapee(&sb, &pidfile, 1002, tend.pid());
    std::fs::write(&go, "").unwrap();
    let app = sb.app("crashy");
    let log = sb.wait_for("the program's second start", || {
        let log = app.read_tend_log();
        (lines_with(&log, "crashy: started (pid ").len() >= 2).then_some(log)
    });
    let second: u32 = lines_with(&log, "crashy: started (pid ")[1]
        .split("started (pid ")
        .nth(1)
        .and_then(|rest| rest.split([',', ')']).next())
        .and_then(|pid| pid.parse().ok())
        .unwrap_or_else(|| panic!("no second pid in:\n{log}"));
    let _second = KillOnDrop::new(&[second]);
    // The run ended (and its leftovers with it) before the next one started.
    assert!(!alive(pid), "the escapee outlived its program's exit: {}", describe(&[pid]));
    tend.signal(libc::SIGTERM);
    tend.wait().assert_code(0);
}

#[test]
fn an_escapee_whose_program_cannot_be_told_is_ended_when_the_app_stops() {
    let sb = Sandbox::new();
    let ready = sb.path("ready");
    let pidfile = sb.path("escapee");
    let bin = sh_quote(&testbin_str());
    // `late` starts after `early` is running, and its escapee scrubs its whole environment:
    // both programs had started by then, so either could be its origin.
    let late = format!(
        "while [ ! -e {ready} ]; do sleep 0.01; done; {}; exec {bin} sleep 300",
        escape("env -i", 1003, &pidfile),
        ready = sh_quote(&text(&ready))
    );
    sb.write(
        "tend.toml",
        &format!(
            "name = \"demo\"\n\n[programs.early]\ncommand = [{}, \"ready\", {}, \"300\"]\n\n[programs.late]\ncommand = [\"sh\", \"-c\", {}]\n",
            toml_str(&testbin_str()),
            toml_str(&text(&ready)),
            toml_str(&late)
        ),
    );
    let tend = sb.spawn(&["up"]);
    let (pid, _guard) = escapee(&sb, &pidfile, 1003, tend.pid());

    sb.run(&["down"]).assert_code(0);
    tend.wait().assert_code(0);
    assert!(!alive(pid), "the escapee survived the app's stop: {}", describe(&[pid]));
    let log = sb.app("demo").read_tend_log();
    assert!(
        log.contains("demo: ended 1 orphaned process(es) whose program could not be told"),
        "{log}"
    );
}
