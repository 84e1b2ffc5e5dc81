//! `tend up --watch-config` through the real `tend` binary: an edit of `tend.toml` stops the
//! removed programs, restarts the changed ones (`TEND_RESTART_REASON=config_change`), starts
//! the added ones and leaves the others alone (same process); an invalid edit is reported and
//! changes nothing; a later valid edit applies.
//!
//! Each program is `tend-testbin stamp FILE`: each start appends `<ns> <pid> <reason> <count>`
//! to its own FILE.
#![cfg(unix)]
#![allow(clippy::unwrap_used)] // helpers outside #[test] fns

mod common;

use std::fs;

use common::*;

/// `(pid, reason, count)` of each start recorded in `text`.
fn starts(text: &str) -> Vec<(u32, String, u32)> {
    text.lines()
        .map(|line| {
            let parts: Vec<&str> = line.split(' ').collect();
            (parts[1].parse().unwrap(), parts[2].to_owned(), parts[3].parse().unwrap())
        })
        .collect()
}

/// A config with `name` and one stamp program per `(name, extra lines)`.
fn config(sb: &Sandbox, name: &str, programs: &[(&str, &str)]) -> String {
    let mut text = format!("name = \"{name}\"\n");
    for (program, extra) in programs {
        text.push_str(&format!(
            "\n[programs.{program}]\ncommand = [{}, \"stamp\", {}]\n{extra}\n",
            toml_str(&testbin_str()),
            toml_str(&sb.path_str(&format!("{program}.starts"))),
        ));
    }
    text
}

#[test]
fn an_edit_adds_removes_and_restarts_exactly_what_changed() {
    let sb = Sandbox::new();
    sb.write("tend.toml", &config(&sb, "r", &[("a", ""), ("b", ""), ("c", "")]));
    let app = sb.app("r");
    let tend = sb.spawn(&["up", "--watch-config"]);
    let mut guard = KillOnDrop::new(&[]);
    let mut first = Vec::new();
    for program in ["a", "b", "c"] {
        let start = starts(&sb.wait_lines(&sb.path(&format!("{program}.starts")), 1)).remove(0);
        guard.add(&[start.0]);
        first.push(start);
    }
    let [(a_pid, _, _), (b_pid, _, _), (c_pid, _, _)] = first.try_into().unwrap();
    sb.wait_text(&app.tend_log(), "watching tend.toml for changes");

    // Remove a, change b, keep c, add d: saved the way editors do, by renaming a new file over
    // the old one.
    let v2 = config(&sb, "r", &[("b", "env = { MODE = \"2\" }"), ("c", ""), ("d", "")]);
    sb.write("tend.toml.new", &v2);
    fs::rename(sb.path("tend.toml.new"), sb.path("tend.toml")).unwrap();

    let d = starts(&sb.wait_lines(&sb.path("d.starts"), 1));
    guard.add(&[d[0].0]);
    assert_eq!((d[0].1.as_str(), d[0].2), ("start", 0));
    let b = starts(&sb.wait_lines(&sb.path("b.starts"), 2));
    guard.add(&[b[1].0]);
    assert_eq!((b[1].1.as_str(), b[1].2), ("config_change", 1), "restart count goes on");
    assert_ne!(b[1].0, b_pid);
    sb.wait_dead(&[a_pid, b_pid]);
    let log = sb.wait_text(&app.tend_log(), "d: started");
    assert!(
        log.contains("r: tend.toml reloaded: added d; removed a; changed b; 1 unchanged"),
        "{log}"
    );
    assert!(log.contains("a: removed from tend.toml; stopping"), "{log}");
    assert!(log.contains("a: stopped"), "{log}");
    assert!(log.contains("b: restarting now (config_change)"), "{log}");
    // c is untouched: one start, same process.
    assert_eq!(starts(&read(&sb.path("c.starts"))).len(), 1);
    assert!(alive(c_pid));
    assert!(!log.contains("c: restarting"), "{log}");
    assert_eq!(read(&sb.path("a.starts")).lines().count(), 1);

    // The control API follows the new set.
    let status = sb.run(&["status", "--json"]);
    status.assert_code(0);
    let json: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    let names: Vec<&str> =
        json["programs"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["b", "c", "d"], "{json}");

    // An invalid edit: reported with the message `tend up` gives, nothing changes…
    let invalid = v2.replace("[programs.c]\ncommand", "[programs.c]\ncomand");
    fs::write(sb.path("tend.toml"), invalid).unwrap();
    let log = sb.wait_text(&app.tend_log(), "not reloaded");
    let error = lines_with(&log, "not reloaded").join("\n");
    assert!(error.contains("tend.toml not reloaded (the running programs are kept):"), "{error}");
    assert!(error.contains("unknown key `comand` in [programs.c]"), "{error}");
    // (`tend up` itself refuses the same file with the same message.)
    let check = sb.run(&["up"]);
    check.assert_code(1);
    assert!(check.stderr.contains("unknown key `comand` in [programs.c]"), "{}", check.stderr);

    // …and a later valid edit applies, compared with the running set (v2): only c changes.
    // The app's name cannot change live: a warning says so.
    let v4 = config(
        &sb,
        "renamed",
        &[("b", "env = { MODE = \"2\" }"), ("c", "env = { X = \"1\" }"), ("d", "")],
    );
    fs::write(sb.path("tend.toml"), v4).unwrap();
    let c = starts(&sb.wait_lines(&sb.path("c.starts"), 2));
    guard.add(&[c[1].0]);
    assert_eq!((c[1].1.as_str(), c[1].2), ("config_change", 1));
    sb.wait_dead(&[c_pid]);
    let log = sb.wait_text(&app.tend_log(), "r: tend.toml reloaded: changed c; 2 unchanged");
    assert!(log.contains("the app name (r → renamed)"), "{log}");
    assert_eq!(starts(&read(&sb.path("b.starts"))).len(), 2, "b untouched this time");
    assert_eq!(starts(&read(&sb.path("d.starts"))).len(), 1, "d untouched");
    assert!(alive(b[1].0) && alive(d[0].0));

    tend.signal(libc::SIGTERM);
    tend.wait().assert_code(0);
}
