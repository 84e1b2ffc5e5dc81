//! A tend that dies without stopping its programs (SIGKILL): the next `tend up` of the same app
//! ends everything the dead one left, before it starts anything new.
#![cfg(unix)]

mod common;

use common::*;

fn config(pidfile: &std::path::Path) -> String {
    format!(
        r#"name = "demo"

[programs.web]
command = [{bin}, "spawn-tree", {pidfile}]
stop = {{ timeout = "5s" }}
"#,
        bin = toml_str(&testbin_str()),
        pidfile = toml_str(&text(pidfile))
    )
}

#[test]
fn the_next_up_ends_what_a_killed_tend_left_before_starting_again() {
    let sb = Sandbox::new();
    let app = sb.app("demo");
    let first_pids = sb.path("pids-1");
    sb.write("tend.toml", &config(&first_pids));

    let first = sb.spawn(&["up"]);
    let old = pids_of(&sb.wait_file(&first_pids));
    let mut guard = KillOnDrop::new(&old);
    assert_eq!(old.len(), 4, "leader, group child, setsid child, orphan: {old:?}");
    let old_leader = old[0];
    sb.wait_text(&app.tend_log(), &format!("web: started (pid {old_leader})"));
    let old_record = app.record(old_leader);
    assert!(old_record.exists(), "no record for the leader: {:?}", app.run_files());

    first.signal(libc::SIGKILL);
    let killed = first.wait();
    assert_eq!(std::os::unix::process::ExitStatusExt::signal(&killed.status), Some(libc::SIGKILL));
    for &pid in &old {
        assert!(alive(pid), "{pid} of {old:?} should have outlived the killed tend");
    }
    assert!(old_record.exists(), "the record must outlive the killed tend");

    // The same app again, with a new pid file so that the new run is told apart.
    let second_pids = sb.path("pids-2");
    sb.write("tend.toml", &config(&second_pids));
    let second = sb.spawn(&["up"]);
    let new = pids_of(&sb.wait_file(&second_pids));
    guard.add(&new);
    // By the time the new program runs, every old process is gone.
    let left: Vec<u32> = old.iter().copied().filter(|&p| alive(p)).collect();
    assert!(
        left.is_empty(),
        "old processes {left:?} of {old:?} still alive when the new run started"
    );
    assert!(!old_record.exists(), "the old record is still there: {:?}", app.run_files());
    assert_eq!(app.run_files(), [format!("{}.json", new[0])]);

    let log = sb.wait_text(&app.tend_log(), &format!("web: started (pid {})", new[0]));
    let ended = line_index(
        &log,
        "demo: ended 4 process(es) left by a tend that is gone (1 record(s) cleared;",
    );
    let old_start = line_index(&log, &format!("web: started (pid {old_leader})"));
    let new_start = line_index(&log, &format!("web: started (pid {})", new[0]));
    assert!(old_start < ended && ended < new_start, "reaping must come between the runs:\n{log}");

    second.signal(libc::SIGTERM);
    second.wait().assert_code(0);
    let left: Vec<u32> = new.iter().copied().filter(|&p| alive(p)).collect();
    assert!(left.is_empty(), "{left:?} of {new:?}");
    assert!(app.run_files().is_empty(), "{:?}", app.run_files());
}

#[test]
fn after_a_killed_tend_status_tells_what_is_left_and_down_ends_it() {
    let sb = Sandbox::new();
    let pidfile = sb.path("pids");
    sb.write("tend.toml", &config(&pidfile));
    let tend = sb.spawn(&["up"]);
    let old = pids_of(&sb.wait_file(&pidfile));
    let _guard = KillOnDrop::new(&old);
    sb.wait_text(&sb.app("demo").tend_log(), &format!("web: started (pid {})", old[0]));
    tend.signal(libc::SIGKILL);
    tend.wait();

    let status = sb.run(&["status"]);
    status.assert_code(3);
    assert!(status.stderr.contains("not running"), "{}", status.stderr);
    assert!(status.stderr.contains(&old[0].to_string()), "{}", status.stderr);
    assert!(status.stderr.contains("web"), "{}", status.stderr);
    assert!(status.stderr.contains("tend down"), "{}", status.stderr);
    assert!(status.stderr.contains("tend reap"), "{}", status.stderr);

    let down = sb.run(&["down"]);
    down.assert_code(0);
    sb.wait_dead(&old);
    let again = sb.run(&["status"]);
    again.assert_code(3);
    assert!(!again.stderr.contains("tend reap"), "{}", again.stderr);
}

#[test]
fn leftovers_that_ignore_sigterm_get_a_short_grace_all_at_once_before_the_next_up_starts() {
    const PROGRAMS: usize = 4;
    let sb = Sandbox::new();
    let app = sb.app("stubborn");
    // Programs that ignore SIGTERM, with a long stop timeout of their own: the reap of a dead
    // tend's leftovers must not wait that long, nor one grace after the other.
    let mut config = String::from("name = \"stubborn\"\n");
    for n in 0..PROGRAMS {
        config.push_str(&format!(
            "\n[programs.p{n}]\ncommand = [{}, \"trap-term\", \"300\"]\nstop = {{ timeout = \"30s\" }}\n",
            toml_str(&testbin_str())
        ));
    }
    sb.write("tend.toml", &config);
    let first = sb.spawn(&["up"]);
    let mut old = Vec::new();
    for n in 0..PROGRAMS {
        // `ready` is printed once SIGTERM is ignored.
        sb.wait_text(&app.log(&format!("p{n}")), "ready");
        let log = sb.wait_text(&app.tend_log(), &format!("p{n}: started (pid "));
        old.push(started_pid(&log, &format!("p{n}")));
    }
    let _guard = KillOnDrop::new(&old);
    first.signal(libc::SIGKILL);
    first.wait();

    let began = std::time::Instant::now();
    let second = sb.spawn(&["up"]);
    let log = sb.wait_for("every program's second start", || {
        let log = app.read_tend_log();
        (0..PROGRAMS)
            .all(|n| lines_with(&log, &format!("p{n}: started (pid ")).len() >= 2)
            .then_some(log)
    });
    let took = began.elapsed();
    let left: Vec<u32> = old.iter().copied().filter(|&p| alive(p)).collect();
    assert!(left.is_empty(), "old processes {left:?} still alive when the new run started");
    assert!(
        log.contains(&format!(
            "stubborn: ended {PROGRAMS} process(es) left by a tend that is gone ({PROGRAMS} \
             record(s) cleared; {PROGRAMS} needed SIGKILL after 1.0s)"
        )),
        "{log}"
    );
    // The documented grace is 1 s, for every group at once: well under one 5 s grace, or one
    // grace per program after the other.
    assert!(took < std::time::Duration::from_secs(3), "the next up took {took:?} to start:\n{log}");
    // The new run ends the same way: its tend killed, `tend reap` within the short grace.
    let new: Vec<u32> = (0..PROGRAMS)
        .map(|n| {
            let line = lines_with(&log, &format!("p{n}: started (pid "))[1];
            started_pid(line, &format!("p{n}"))
        })
        .collect();
    let _new_guard = KillOnDrop::new(&new);
    second.signal(libc::SIGKILL);
    second.wait();
    sb.run(&["reap"]).assert_code(0);
    let left: Vec<u32> = new.iter().copied().filter(|&p| alive(p)).collect();
    assert!(left.is_empty(), "{left:?} of {new:?} survived tend reap");
}
