//! `tend up -d`: the app runs in the background, in its own session, and the command returns
//! once the control API answers, or fails with the background tend's error and the log paths.
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used)] // helpers outside #[test] fns

mod common;

use common::*;

fn config(sb: &Sandbox) -> std::path::PathBuf {
    let pids = sb.path("pids");
    let script = format!(
        "echo $$ >> {pids}; exec {bin} sleep 300",
        pids = sh_quote(&text(&pids)),
        bin = sh_quote(&testbin_str()),
    );
    sb.write(
        "tend.toml",
        &format!(
            "name = \"bg\"\n\n[programs.web]\ncommand = [\"sh\", \"-c\", {}]\nstop = {{ timeout = \"5s\" }}\n",
            toml_str(&script)
        ),
    );
    pids
}

/// The pid `tend up -d` printed: `bg: running in the background (pid N); …`.
fn background_pid(stdout: &str) -> u32 {
    let rest = stdout.split("(pid ").nth(1).unwrap_or_else(|| panic!("no pid in {stdout:?}"));
    rest.split(')').next().unwrap().parse().unwrap()
}

/// Field 6 of /proc/PID/stat: the session id.
fn session_of(pid: u32) -> u32 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    after.split(' ').nth(3).unwrap().parse().unwrap()
}

#[test]
fn up_d_returns_once_the_app_answers_and_down_stops_it() {
    let sb = Sandbox::new();
    let app = sb.app("bg");
    let pids = config(&sb);
    let started = sb.run(&["up", "-d"]);
    started.assert_code(0);
    let tend = background_pid(&started.stdout);
    let mut guard = KillOnDrop::new(&[tend]);
    assert!(started.stdout.contains("running in the background"), "{}", started.stdout);
    assert!(started.stdout.contains(&text(&app.dir.join("logs"))), "{}", started.stdout);

    // Ready means the control API answers: no wait needed before `status`.
    let status = sb.run(&["status", "--json"]);
    status.assert_code(0);
    let json: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(json["pid"].as_u64(), Some(u64::from(tend)));
    assert_eq!(session_of(tend), tend, "the background tend leads its own session");
    let program = pids_of(&sb.wait_lines(&pids, 1))[0];
    guard.add(&[program]);

    // Its log went to tend.log, not to the error file kept for early failures.
    let errors = read(&app.dir.join("logs/up.err"));
    assert!(errors.is_empty(), "up.err: {errors}");
    assert!(app.read_tend_log().contains("startup kind"), "{}", app.read_tend_log());
    // Programs do not inherit the background tend's private variables.
    let environ = std::fs::read(format!("/proc/{program}/environ")).unwrap();
    let environ = String::from_utf8_lossy(&environ);
    assert!(!environ.contains("TEND_READY_FD") && !environ.contains("TEND_DETACHED_CHILD"));

    sb.run(&["down"]).assert_code(0);
    sb.wait_dead(&[tend, program]);
}

#[test]
fn up_d_reports_why_the_background_tend_failed() {
    let sb = Sandbox::new();
    let app = sb.app("bg");
    let pids = config(&sb);
    let first = sb.run(&["up", "-d"]);
    first.assert_code(0);
    let tend = background_pid(&first.stdout);
    let _guard = KillOnDrop::new(&[tend]);

    let second = sb.run(&["up", "-d"]);
    second.assert_code(1);
    assert!(second.stderr.contains("already running"), "{}", second.stderr);
    assert!(second.stderr.contains(&text(&app.dir.join("logs/up.err"))), "{}", second.stderr);
    assert!(alive(tend), "the running one is untouched");

    sb.run(&["down"]).assert_code(0);
    sb.wait_dead(&[tend]);
    let program = pids_of(&read(&pids))[0];
    assert!(!alive(program));
}

#[test]
fn up_d_with_a_bad_config_fails_at_once() {
    let sb = Sandbox::new();
    sb.write("tend.toml", "name = \"bg\"\n[programs.web]\ncommand = []\n");
    let failed = sb.run(&["up", "-d"]);
    failed.assert_code(1);
    assert!(failed.stderr.contains("tend.toml:3"), "{}", failed.stderr);
    assert!(failed.stdout.is_empty());
}

#[test]
fn up_d_fails_when_its_only_program_cannot_start() {
    let sb = Sandbox::new();
    sb.write("tend.toml", "name = \"bg\"\n[programs.redis]\ncommand = \"redis-srver\"\n");
    let failed = sb.run(&["up", "-d"]);
    failed.assert_code(1);
    assert!(!failed.stdout.contains("running in the background"), "{}", failed.stdout);
    // The binary and the PATH it was looked for in.
    assert!(failed.stderr.contains("`redis-srver` not found"), "{}", failed.stderr);
    assert!(failed.stderr.contains("PATH="), "{}", failed.stderr);
    // With nothing left to supervise, the background tend is gone.
    let status = sb.wait_for("the background tend to stop", || {
        let done = sb.run(&["status"]);
        (done.code() == 3).then_some(done)
    });
    assert!(status.stderr.contains("not running"), "{}", status.stderr);
}

#[test]
fn up_d_fails_when_one_program_cannot_start_and_says_the_rest_run() {
    let sb = Sandbox::new();
    let pids = config(&sb);
    let mut toml = std::fs::read_to_string(sb.path("tend.toml")).unwrap();
    toml.push_str("\n[programs.redis]\ncommand = \"redis-srver\"\n");
    sb.write("tend.toml", &toml);
    let failed = sb.run(&["up", "-d"]);
    failed.assert_code(1);
    let program = pids_of(&sb.wait_lines(&pids, 1))[0];
    let _guard = KillOnDrop::new(&[program]);
    assert!(failed.stderr.contains("redis: cannot start"), "{}", failed.stderr);
    assert!(failed.stderr.contains("tend down"), "{}", failed.stderr);
    // The other program runs, and status says why redis does not.
    let status = sb.run(&["status", "--json"]);
    status.assert_code(0);
    let json: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    let redis = json["programs"].as_array().unwrap().iter().find(|p| p["name"] == "redis").unwrap();
    assert_eq!(redis["state"], "fatal", "{json}");
    assert_eq!(redis["cause"], "cannot_start", "{json}");
    sb.run(&["down"]).assert_code(0);
    sb.wait_dead(&[program]);
}

#[test]
fn up_d_hints_name_the_config_file_it_was_given() {
    let sb = Sandbox::new();
    config(&sb);
    std::fs::rename(sb.path("tend.toml"), sb.path("other.toml")).unwrap();
    let started = sb.run(&["up", "-d", "-f", "other.toml"]);
    started.assert_code(0);
    let tend = background_pid(&started.stdout);
    let _guard = KillOnDrop::new(&[tend]);
    for hint in ["tend status -f other.toml", "tend down -f other.toml"] {
        assert!(started.stdout.contains(hint), "{hint}: {}", started.stdout);
    }
    let again = sb.run(&["up", "-d", "-f", "other.toml"]);
    again.assert_code(1);
    assert!(again.stderr.contains("tend down -f other.toml"), "{}", again.stderr);
    sb.run(&["down", "-f", "other.toml"]).assert_code(0);
    sb.wait_dead(&[tend]);
}

#[test]
fn up_err_is_private_to_the_user() {
    use std::os::unix::fs::PermissionsExt as _;
    let sb = Sandbox::new();
    let app = sb.app("bg");
    config(&sb);
    let started = sb.run(&["up", "-d"]);
    started.assert_code(0);
    let tend = background_pid(&started.stdout);
    let _guard = KillOnDrop::new(&[tend]);
    let mode = std::fs::metadata(app.dir.join("logs/up.err")).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    sb.run(&["down"]).assert_code(0);
    sb.wait_dead(&[tend]);
}

#[test]
fn concurrent_up_d_losers_all_say_already_running() {
    let sb = Sandbox::new();
    config(&sb);
    let launchers: Vec<Tend> = (0..6).map(|_| sb.spawn(&["up", "-d"])).collect();
    let done: Vec<Finished> = launchers.into_iter().map(Tend::wait).collect();
    let winners: Vec<&Finished> = done.iter().filter(|d| d.code() == 0).collect();
    assert_eq!(winners.len(), 1, "{done:?}");
    let tend = background_pid(&winners[0].stdout);
    let _guard = KillOnDrop::new(&[tend]);
    for loser in done.iter().filter(|d| d.code() != 0) {
        loser.assert_code(1);
        assert!(
            loser.stderr.contains(&format!("already running (pid {tend})")),
            "{}",
            loser.stderr
        );
        assert!(!loser.stderr.contains('\0'), "{:?}", loser.stderr);
    }
    sb.run(&["down"]).assert_code(0);
    sb.wait_dead(&[tend]);
}
