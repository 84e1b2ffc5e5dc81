//! Stopping tend: SIGTERM or SIGINT ends every process of every program, including
//! grandchildren that left the process group (setsid) or were orphaned (double fork), and
//! tend exits 0.
#![cfg(unix)]

mod common;

use common::*;

/// Starts the program of `tend` (already spawned) writing `pidfile`, and returns its pids:
/// leader, group child, setsid child, orphan.
fn tree_pids(sb: &Sandbox, pidfile: &std::path::Path) -> (Vec<u32>, KillOnDrop) {
    let pids = pids_of(&sb.wait_file(pidfile));
    let guard = KillOnDrop::new(&pids);
    assert_eq!(pids.len(), 4, "leader, group child, setsid child, orphan: {pids:?}");
    for &pid in &pids {
        assert!(alive(pid), "{pid} of {pids:?} should run");
    }
    (pids, guard)
}

#[test]
fn sigterm_to_tend_run_ends_the_whole_tree_and_exits_0() {
    let sb = Sandbox::new();
    let pidfile = sb.path("pids");
    let tend = sb.spawn(&[
        "run",
        "--name",
        "tree",
        "--stop-timeout",
        "5s",
        "--",
        &testbin_str(),
        "spawn-tree",
        pidfile.to_str().unwrap(),
    ]);
    let (pids, _guard) = tree_pids(&sb, &pidfile);
    let app = sb.app("tree");
    assert_eq!(app.run_files(), [format!("{}.json", pids[0])], "one record, for the leader");

    tend.signal(libc::SIGTERM);
    let done = tend.wait();
    done.assert_code(0);
    // tend waits for every process before it exits: nothing is left, without waiting more.
    let left: Vec<u32> = pids.iter().copied().filter(|&p| alive(p)).collect();
    assert!(left.is_empty(), "still alive after tend exited: {left:?} of {pids:?}");
    assert!(app.run_files().is_empty(), "records left: {:?}", app.run_files());
    let log = app.read_tend_log();
    assert!(log.contains("SIGTERM: stopping every program"), "{log}");
    assert!(log.contains("tree: stopped"), "{log}");
}

#[test]
fn sigterm_to_tend_up_ends_the_whole_tree_and_exits_0() {
    let sb = Sandbox::new();
    let pidfile = sb.path("pids");
    let ready = sb.path("ready");
    let bin = testbin_str();
    sb.write(
        "tend.toml",
        &format!(
            r#"name = "stack"

[programs.tree]
command = [{bin}, "spawn-tree", {pidfile}]
stop = {{ signal = "TERM", timeout = "5s" }}

[programs.other]
command = [{bin}, "ready", {ready}, "300"]
stop = {{ timeout = "5s" }}
"#,
            bin = toml_str(&bin),
            pidfile = toml_str(pidfile.to_str().unwrap()),
            ready = toml_str(ready.to_str().unwrap())
        ),
    );
    let tend = sb.spawn(&["up"]);
    let (pids, _guard) = tree_pids(&sb, &pidfile);
    sb.wait_file(&ready);
    let app = sb.app("stack");
    let log = sb.wait_text(&app.tend_log(), "other: started (pid ");
    let other = started_pid(&log, "other");
    let _other_guard = KillOnDrop::new(&[other]);
    assert!(alive(other));

    tend.signal(libc::SIGTERM);
    tend.wait().assert_code(0);
    let all: Vec<u32> = pids.iter().copied().chain([other]).collect();
    let left: Vec<u32> = all.iter().copied().filter(|&p| alive(p)).collect();
    assert!(left.is_empty(), "still alive after tend exited: {left:?} of {all:?}");
    assert!(app.run_files().is_empty(), "records left: {:?}", app.run_files());
    let log = app.read_tend_log();
    // Both are stopped in one wave (no program depends on another).
    for name in ["tree", "other"] {
        assert!(log.contains(&format!("{name}: stopped")), "{log}");
    }
}

#[test]
fn a_program_ignoring_the_stop_signal_is_killed_after_the_stop_timeout() {
    let sb = Sandbox::new();
    let tend = sb.spawn(&[
        "run",
        "--name",
        "stubborn",
        "--stop-timeout",
        "200ms",
        "--",
        &testbin_str(),
        "trap-term",
        "300",
    ]);
    let app = sb.app("stubborn");
    // `ready` is printed once SIGTERM is ignored.
    sb.wait_text(&app.log("stubborn"), "ready");
    let pid = started_pid(&sb.wait_text(&app.tend_log(), "stubborn: started (pid "), "stubborn");
    let _guard = KillOnDrop::new(&[pid]);

    tend.signal(libc::SIGINT);
    tend.wait().assert_code(0);
    assert!(!alive(pid), "{pid} survived");
    let log = app.read_tend_log();
    assert!(log.contains("SIGINT: stopping every program"), "{log}");
    assert!(log.contains("stubborn: exited with signal 9 (SIGKILL)"), "{log}");
    assert!(log.contains("stubborn: stopped"), "{log}");
}

#[test]
fn a_program_that_exits_leaves_no_descendant_behind() {
    let sb = Sandbox::new();
    let pidfile = sb.path("pid");
    // The program starts a grandchild that leaves the group, then exits 0 by itself.
    let script = format!(
        "{bin} setsid-sleep 300 & echo $! > {pf}.tmp && mv {pf}.tmp {pf}; exit 0",
        bin = sh_quote(&testbin_str()),
        pf = sh_quote(pidfile.to_str().unwrap())
    );
    let done =
        sb.run(&["run", "--name", "leaver", "--stop-timeout", "5s", "--", "sh", "-c", &script]);
    let pids = pids_of(&std::fs::read_to_string(&pidfile).unwrap());
    let _guard = KillOnDrop::new(&pids);
    done.assert_code(0);
    assert_eq!(pids.len(), 1);
    assert!(!alive(pids[0]), "the setsid grandchild {} outlived its program", pids[0]);
    assert!(sb.app("leaver").run_files().is_empty());
}

#[test]
fn a_stop_during_the_backoff_delay_ends_tend_at_once() {
    let sb = Sandbox::new();
    // A crash, then a 30 s backoff that the stop must cut short.
    let tend = sb.spawn(&[
        "run",
        "--name",
        "waiting",
        "--backoff-initial",
        "30s",
        "--",
        &testbin_str(),
        "exit",
        "9",
    ]);
    let app = sb.app("waiting");
    sb.wait_text(&app.tend_log(), "waiting: restarting in 30.0s (attempt 1)");
    tend.signal(libc::SIGTERM);
    // A graceful stop is 0 for `tend run`, whatever the program's last exit code was.
    tend.wait().assert_code(0);
    let log = app.read_tend_log();
    assert!(log.contains("waiting: stopped"), "{log}");
    assert_eq!(lines_with(&log, "waiting: started").len(), 1, "{log}");
}

#[cfg(target_os = "linux")]
#[test]
fn a_sigterm_as_soon_as_tend_starts_is_a_graceful_stop() {
    let sb = Sandbox::new();
    let marker = format!("{}-{}", std::process::id(), sb.cwd.display());
    let pidfile = sb.path("pids");
    sb.write(
        "tend.toml",
        &format!(
            r#"name = "early"

[programs.tree]
command = [{bin}, "spawn-tree", {pidfile}]
env = {{ TEND_TEST_MARKER = {marker} }}
stop = {{ timeout = "5s" }}
"#,
            bin = toml_str(&testbin_str()),
            pidfile = toml_str(&text(&pidfile)),
            marker = toml_str(&marker)
        ),
    );
    let tend = sb.spawn(&["up"]);
    // The signal lands while the program is being started.
    sb.wait_text(&sb.app("early").tend_log(), "early: starting 1 program(s)");
    tend.signal(libc::SIGTERM);
    let done = tend.wait();
    let pids = std::fs::read_to_string(&pidfile).map(|t| pids_of(&t)).unwrap_or_default();
    let _guard = KillOnDrop::new(&pids);
    done.assert_code(0);
    let left = processes_with_env("TEND_TEST_MARKER", &marker);
    assert!(
        left.is_empty(),
        "processes of the app outlived tend:\n{}--- tend's stderr ---\n{}",
        describe(&left),
        done.stderr
    );
    assert!(pids.iter().all(|&p| !alive(p)), "{pids:?}");
}

#[test]
fn programs_start_in_file_order_and_all_get_the_stop_signal_at_once() {
    let sb = Sandbox::new();
    let names = ["zeta", "alpha", "mid", "beta", "omega", "kappa", "delta"];
    let told = sb.path_str("told");
    let clean = sb.path_str("clean");
    let mut toml = String::from("name = \"ordered\"\n");
    for name in names {
        // On SIGTERM: say so, wait (at most 5 s) until every program has been told, then leave
        // on its own. Were the stops one after the other, the first would never see the others
        // and be killed after its stop timeout.
        let script = format!(
            "trap 'echo {name} >> {told}; i=0; \
             while [ \"$(wc -l < {told})\" -lt {n} ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done; \
             [ \"$(wc -l < {told})\" -ge {n} ] && echo {name} >> {clean}; exit 0' TERM; \
             while :; do sleep 1 & wait $!; done",
            told = sh_quote(&told),
            clean = sh_quote(&clean),
            n = names.len(),
        );
        toml.push_str(&format!(
            "\n[programs.{name}]\ncommand = [\"sh\", \"-c\", {}]\nstop = {{ timeout = \"10s\" }}\n",
            toml_str(&script)
        ));
    }
    sb.write("tend.toml", &toml);
    let app = sb.app("ordered");
    let tend = sb.spawn(&["up"]);
    let log = sb.wait_for("every program to start", || {
        let log = std::fs::read_to_string(app.tend_log()).ok()?;
        names.iter().all(|n| log.contains(&format!("{n}: started (pid "))).then_some(log)
    });
    let pids: Vec<u32> = names.iter().map(|n| started_pid(&log, n)).collect();
    let _guard = KillOnDrop::new(&pids);
    // Each one is spawned after the one before it: pids are handed out in spawn order.
    let mut sorted = pids.clone();
    sorted.sort_unstable();
    assert_eq!(pids, sorted, "pids in file order {names:?}: {log}");
    let started: Vec<usize> =
        names.iter().map(|n| line_index(&log, &format!("{n}: started (pid "))).collect();
    assert!(started.windows(2).all(|w| w[0] < w[1]), "{log}");

    tend.signal(libc::SIGTERM);
    tend.wait().assert_code(0);
    let log = app.read_tend_log();
    for name in names {
        assert!(log.contains(&format!("{name}: stopped")), "{log}");
    }
    // Every program saw all the others told before it left: one wave, no program waiting for
    // another to be gone.
    let mut left_cleanly: Vec<String> =
        read(std::path::Path::new(&clean)).lines().map(str::to_owned).collect();
    left_cleanly.sort();
    let mut all: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    all.sort();
    assert_eq!(left_cleanly, all, "told: {}\n{log}", read(std::path::Path::new(&told)));
}
