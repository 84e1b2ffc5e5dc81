//! The descriptor limit (`RLIMIT_NOFILE`): tend raises its own soft limit to the hard one,
//! gives its programs back the limit it was started with, and refuses before starting anything
//! an app that cannot fit. Real binary; the limits are set in the spawned tend before `exec`.
#![cfg(unix)]
#![allow(clippy::unwrap_used)] // helpers outside #[test] fns

mod common;

use std::os::unix::process::CommandExt as _;
use std::process::Command;

use common::*;
use nix::sys::resource::{Resource, getrlimit, setrlimit};
use serde_json::Value;

/// Starts the command with the descriptor limit `soft`:`hard`.
fn with_nofile(soft: u64, hard: u64) -> impl FnOnce(&mut Command) {
    move |cmd| {
        // SAFETY: the closure runs in the forked child before exec and makes one
        // async-signal-safe call without allocating.
        unsafe {
            cmd.pre_exec(move || {
                setrlimit(Resource::RLIMIT_NOFILE, soft, hard).map_err(std::io::Error::from)
            });
        }
    }
}

/// A `tend.toml` for app `many` with `count` programs: `p0` writes the limits it sees (`ulimit
/// -n`, `ulimit -Hn`) to `limits.txt`, every program touches `started-<name>`, then sleeps.
fn write_app(sb: &Sandbox, count: usize) {
    let mut text = String::from("name = \"many\"\n");
    for i in 0..count {
        let name = format!("p{i}");
        let started = sh_quote(&sb.path_str(&format!("started-{name}")));
        let script = if i == 0 {
            let limits = sh_quote(&sb.path_str("limits.txt"));
            format!(
                "ulimit -n > {limits}.tmp; ulimit -Hn >> {limits}.tmp; mv {limits}.tmp {limits}; touch {started}; exec sleep 300"
            )
        } else {
            format!("touch {started}; exec sleep 300")
        };
        text.push_str(&format!(
            "\n[programs.{name}]\ncommand = [\"sh\", \"-c\", {}]\n",
            toml_str(&script)
        ));
    }
    sb.write("tend.toml", &text);
}

fn states(status: &Value) -> Vec<(String, String)> {
    status["programs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap().to_owned(), p["state"].as_str().unwrap().to_owned()))
        .collect()
}

#[test]
fn five_hundred_programs_run_under_a_soft_limit_of_1024() {
    const COUNT: usize = 500;
    let (_, hard) = getrlimit(Resource::RLIMIT_NOFILE).unwrap();
    // 500 programs need about 2100 descriptors: the hard limit must allow that much.
    assert!(hard >= 4096, "this test needs a hard limit of open files of 4096 or more, not {hard}");
    let sb = Sandbox::new();
    write_app(&sb, COUNT);
    let tend = sb.spawn_with(&["up"], with_nofile(1024, hard));
    let status = sb.wait_for("every program to run", || {
        let done = sb.run(&["status", "--json"]);
        if done.code() != 0 {
            return None;
        }
        let json: Value = serde_json::from_str(&done.stdout).unwrap();
        let states = states(&json);
        let fatal: Vec<_> = states.iter().filter(|(_, state)| state == "fatal").collect();
        assert!(fatal.is_empty(), "fatal programs: {fatal:?}\n{}", done.stdout);
        (states.len() == COUNT && states.iter().all(|(_, state)| state == "running"))
            .then_some(json)
    });
    assert_eq!(states(&status).len(), COUNT);
    for i in 0..COUNT {
        assert!(sb.path(&format!("started-p{i}")).exists(), "p{i} did not start");
    }
    // The programs get the limit tend was started with, not tend's raised one.
    let limits = sb.wait_file(&sb.path("limits.txt"));
    assert_eq!(limits.split_whitespace().collect::<Vec<_>>(), ["1024", &hard.to_string()]);
    // A graceful stop of all 500 (dropping `tend` would SIGKILL it after 5 s).
    let pids: Vec<u32> = status["programs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| u32::try_from(p["pid"].as_u64().unwrap()).unwrap())
        .collect();
    // Stopping 500 programs one after the other takes about 10 s on 2 cores, more under load.
    let long = std::time::Duration::from_secs(90);
    sb.spawn(&["down"]).wait_within(long).assert_code(0);
    tend.wait_within(long).assert_code(0);
    sb.wait_dead(&pids);
}

#[test]
fn an_app_that_cannot_fit_under_the_hard_limit_fails_before_starting_anything() {
    let sb = Sandbox::new();
    write_app(&sb, 100);
    let done = sb.spawn_with(&["up"], with_nofile(256, 256)).wait();
    done.assert_code(1);
    // The numbers (64 + 100 × 4 + 16) and the fix.
    for part in [
        "needs at least 480 file descriptors",
        "100 program(s)",
        "limit is 256",
        "ulimit -Hn",
        "LimitNOFILE",
    ] {
        assert!(done.stderr.contains(part), "{part:?} in:\n{}", done.stderr);
    }
    let started: Vec<_> = std::fs::read_dir(&sb.cwd)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("started-"))
        .map(|e| e.file_name())
        .collect();
    assert!(started.is_empty(), "programs started: {started:?}");
    // tend.log says it too.
    assert!(sb.app("many").read_tend_log().contains("needs at least 480"));
}
