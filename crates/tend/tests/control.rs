//! The control API and the commands that use it: `tend status`, `tend restart`, `tend down`,
//! and `tend logs` (which reads the log files, running or not). Real binary, `TEND_HOME` in a
//! temp dir, every wait bounded.
#![cfg(unix)]
#![allow(clippy::unwrap_used)] // helpers outside #[test] fns

mod common;

use std::io::{Read as _, Write as _};
use std::os::unix::net::UnixStream;

use common::*;
use serde_json::Value;

/// A `tend.toml` for app `ctl` with programs `a` and `b`: each appends its pid to `<name>.pid`
/// and its `TEND_RESTART_REASON` to `<name>.reason`, prints `hello-<name>`, then sleeps.
fn write_app(sb: &Sandbox) {
    let mut text = String::from("name = \"ctl\"\n");
    for name in ["a", "b"] {
        let script = format!(
            "echo $$ >> {pid}; echo \"$TEND_RESTART_REASON\" >> {reason}; echo hello-{name}; exec sleep 300",
            pid = sh_quote(&sb.path_str(&format!("{name}.pid"))),
            reason = sh_quote(&sb.path_str(&format!("{name}.reason"))),
        );
        text.push_str(&format!(
            "\n[programs.{name}]\ncommand = [\"sh\", \"-c\", {}]\nstop = {{ timeout = \"5s\" }}\n",
            toml_str(&script)
        ));
    }
    sb.write("tend.toml", &text);
}

/// The pids a program wrote so far.
fn pids(sb: &Sandbox, name: &str) -> Vec<u32> {
    pids_of(&std::fs::read_to_string(sb.path(&format!("{name}.pid"))).unwrap_or_default())
}

/// `tend status --json`, once both programs run with a pid.
fn running_status(sb: &Sandbox) -> Value {
    sb.wait_for("tend status --json to show a and b running", || {
        let done = sb.run(&["status", "--json"]);
        if done.code() != 0 {
            return None;
        }
        let json: Value = serde_json::from_str(&done.stdout).unwrap();
        let programs = json["programs"].as_array()?;
        programs
            .iter()
            // A process caught in exec shows no memory yet (rss 0): asked again.
            .all(|p| {
                p["state"] == "running"
                    && p["pid"].is_u64()
                    && p["rss_bytes"].as_u64().is_some_and(|rss| rss > 0)
            })
            .then_some(json)
    })
}

/// Sends `METHOD PATH` over the app's socket; returns the status code and the body.
fn http(sb: &Sandbox, method: &str, path: &str) -> (u16, String) {
    let socket = sb.app("ctl").dir.join("tend.sock");
    let mut stream = UnixStream::connect(&socket).unwrap();
    stream.set_read_timeout(Some(LIMIT)).unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    let code = head.split(' ').nth(1).unwrap().parse().unwrap();
    // A chunked body (logs) keeps its chunk sizes; the tests only look for lines in it.
    (code, body.to_owned())
}

fn program<'v>(status: &'v Value, name: &str) -> &'v Value {
    status["programs"].as_array().unwrap().iter().find(|p| p["name"] == name).unwrap()
}

#[test]
fn status_json_and_table_describe_the_running_app() {
    let sb = Sandbox::new();
    write_app(&sb);
    let tend = sb.spawn(&["up"]);
    let status = running_status(&sb);
    let _guard = KillOnDrop::new(&[pids(&sb, "a"), pids(&sb, "b")].concat());

    assert_eq!(status["app"], "ctl");
    assert_eq!(status["pid"].as_u64(), Some(u64::from(tend.pid())));
    let started_at = status["started_at"].as_str().unwrap();
    assert!(started_at.len() == 20 && started_at.ends_with('Z'), "{started_at}");
    assert!(status["startup_kind"].is_string(), "{status}");
    let names: Vec<&str> = status["programs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["a", "b"]);
    for name in ["a", "b"] {
        let p = program(&status, name);
        let keys: Vec<&str> = p.as_object().unwrap().keys().map(String::as_str).collect();
        let mut sorted = keys.clone();
        sorted.sort_unstable();
        assert_eq!(
            sorted,
            [
                "cause",
                "cpu_secs",
                "last_exit",
                "log_error",
                "name",
                "pid",
                "reason",
                "restarts",
                "rss_bytes",
                "runner",
                "state",
                "uptime_secs"
            ],
            "{p}"
        );
        assert_eq!(p["pid"].as_u64(), Some(u64::from(pids(&sb, name)[0])), "{p}");
        assert!(p["uptime_secs"].is_u64(), "{p}");
        assert_eq!(p["restarts"], 0);
        assert!(p["last_exit"].is_null(), "{p}");
        assert!(p["cpu_secs"].is_f64() || p["cpu_secs"].is_u64(), "{p}");
        assert!(p["rss_bytes"].as_u64().unwrap() > 0, "{p}");
        assert_eq!(p["runner"], "native");
    }

    let table = sb.run(&["status"]);
    table.assert_code(0);
    let lines: Vec<&str> = table.stdout.lines().collect();
    assert!(lines[0].starts_with("app ctl (tend pid "), "{}", table.stdout);
    let header: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(
        header,
        ["NAME", "STATE", "PID", "UPTIME", "RESTARTS", "LAST", "EXIT", "CPU", "RSS", "REASON"]
    );
    let row: Vec<&str> = lines[2].split_whitespace().collect();
    assert_eq!(row[..3], ["a", "running", &pids(&sb, "a")[0].to_string()], "{}", table.stdout);
    assert_eq!(lines.len(), 4, "{}", table.stdout);
}

#[test]
fn restart_stop_and_start_programs() {
    let sb = Sandbox::new();
    write_app(&sb);
    let _tend = sb.spawn(&["up"]);
    running_status(&sb);
    let first = pids(&sb, "a")[0];
    let mut guard = KillOnDrop::new(&[pids(&sb, "a"), pids(&sb, "b")].concat());

    // Restart one program: a new pid, reason `requested`; the other one is left alone.
    let done = sb.run(&["restart", "a"]);
    done.assert_code(0);
    assert!(done.stdout.starts_with("a: restarted (running, pid "), "{}", done.stdout);
    let reasons = sb.wait_lines(&sb.path("a.reason"), 2);
    assert_eq!(reasons.lines().collect::<Vec<_>>(), ["start", "requested"]);
    let second = sb.wait_for("a's second pid", || pids(&sb, "a").get(1).copied());
    guard.add(&[second]);
    assert_ne!(first, second);
    sb.wait_dead(&[first]);
    assert_eq!(pids(&sb, "b").len(), 1, "b was not restarted");
    let status = running_status(&sb);
    assert_eq!(program(&status, "a")["pid"].as_u64(), Some(u64::from(second)));
    assert_eq!(program(&status, "a")["restarts"], 1);
    assert_eq!(program(&status, "a")["last_exit"], serde_json::json!({"signal": 15}));

    // Stop and start one program over the API.
    let (code, body) = http(&sb, "POST", "/v1/programs/a/stop");
    assert_eq!(code, 200, "{body}");
    let stopped: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(stopped["state"], "stopped");
    assert!(stopped["pid"].is_null());
    sb.wait_dead(&[second]);
    let (code, body) = http(&sb, "POST", "/v1/programs/a/start");
    assert_eq!(code, 200, "{body}");
    let started: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(started["state"], "running");
    let third = sb.wait_for("a's third pid", || pids(&sb, "a").get(2).copied());
    guard.add(&[third]);
    assert_eq!(started["pid"].as_u64(), Some(u64::from(third)));

    // Unknown programs: 404 with the list; `tend restart` exits 1 with it.
    let (code, body) = http(&sb, "POST", "/v1/programs/zz/restart");
    assert_eq!(code, 404);
    let error: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(error["error"], "no program `zz`; programs: a, b");
    let done = sb.run(&["restart", "zz"]);
    done.assert_code(1);
    assert!(done.stderr.contains("no program `zz`; programs: a, b"), "{}", done.stderr);

    // Restart all.
    let done = sb.run(&["restart"]);
    done.assert_code(0);
    sb.wait_lines(&sb.path("b.reason"), 2);
    guard.add(&pids(&sb, "b"));
    guard.add(&pids(&sb, "a"));
    assert_eq!(sb.wait_lines(&sb.path("a.reason"), 4).lines().last(), Some("requested"));

    // The logs endpoint: a plain tail.
    let (code, body) = http(&sb, "GET", "/v1/logs?program=b&n=5");
    assert_eq!(code, 200);
    assert!(body.contains("hello-b"), "{body}");
    let (code, _) = http(&sb, "GET", "/v1/logs?program=nope");
    assert_eq!(code, 404);
}

#[test]
fn down_stops_the_app_then_reports_not_running() {
    let sb = Sandbox::new();
    write_app(&sb);
    let tend = sb.spawn(&["up"]);
    running_status(&sb);
    let all = [pids(&sb, "a"), pids(&sb, "b")].concat();
    let _guard = KillOnDrop::new(&all);

    let done = sb.run(&["down"]);
    done.assert_code(0);
    assert_eq!(done.stdout, "ctl: stopped\n");
    // `tend down` returns once tend has exited: its programs are gone, and so is the socket.
    let tend_done = tend.wait();
    tend_done.assert_code(0);
    let left: Vec<u32> = all.iter().copied().filter(|&p| alive(p)).collect();
    assert!(left.is_empty(), "still alive: {left:?}");
    assert!(!sb.app("ctl").dir.join("tend.sock").exists());
    assert!(
        sb.app("ctl")
            .read_tend_log()
            .contains("stop requested (tend down): stopping every program")
    );

    let again = sb.run(&["down"]);
    again.assert_code(3);
    assert!(again.stderr.contains("app `ctl` is not running"), "{}", again.stderr);

    // The logs stay readable with nothing running.
    let logs = sb.run(&["logs", "-n", "1"]);
    logs.assert_code(0);
    assert_eq!(logs.stdout, "a | hello-a\nb | hello-b\n");
    let logs = sb.run(&["logs", "b"]);
    logs.assert_code(0);
    assert_eq!(logs.stdout, "hello-b\n");
    let logs = sb.run(&["logs", "--name", "ctl", "a", "-n", "3"]);
    logs.assert_code(0);
    assert_eq!(logs.stdout, "hello-a\n");
}

#[test]
fn status_and_restart_exit_3_when_nothing_runs() {
    let sb = Sandbox::new();
    write_app(&sb);
    for args in [&["status"][..], &["status", "--json"], &["restart"], &["restart", "a"]] {
        let done = sb.run(args);
        done.assert_code(3);
        assert!(
            done.stderr.contains("app `ctl` is not running; start it with `tend up`"),
            "{args:?}: {}",
            done.stderr
        );
    }
    let done = sb.run(&["status", "--name", "other"]);
    done.assert_code(3);
    // Logs of an app that never ran: said, and an error (there is nothing to show).
    let logs = sb.run(&["logs"]);
    logs.assert_code(1);
    assert!(logs.stderr.contains("never ran"), "{}", logs.stderr);
}

#[test]
fn apps_of_tend_run_are_found_by_name() {
    let sb = Sandbox::new();
    let tend = sb.spawn(&["run", "--name", "solo", "--", "sleep", "300"]);
    let status = sb.wait_for("tend status --app solo", || {
        let done = sb.run(&["status", "--name", "solo", "--json"]);
        let json: Value = serde_json::from_str(&done.stdout).ok()?;
        (json["programs"][0]["state"] == "running").then_some(json)
    });
    let pid = u32::try_from(status["programs"][0]["pid"].as_u64().unwrap()).unwrap();
    let _guard = KillOnDrop::new(&[pid]);
    sb.run(&["down", "--name", "solo"]).assert_code(0);
    tend.wait().assert_code(0);
    assert!(!alive(pid));
}

#[test]
fn logs_follow_prints_appended_lines() {
    let sb = Sandbox::new();
    write_app(&sb);
    let _tend = sb.spawn(&["up"]);
    running_status(&sb);
    let mut guard = KillOnDrop::new(&[pids(&sb, "a"), pids(&sb, "b")].concat());
    let out = sb.path("follow.out");
    let mut follow = sb
        .command(&["logs", "a", "-F", "-n", "1"])
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    sb.wait_lines(&out, 1);
    sb.run(&["restart", "a"]).assert_code(0);
    guard.add(&pids(&sb, "a"));
    let text = sb.wait_lines(&out, 2);
    let _ = follow.kill();
    let _ = follow.wait();
    assert_eq!(text, "hello-a\nhello-a\n");
}

#[test]
fn a_home_too_long_for_a_socket_path_uses_a_short_one() {
    let sb = Sandbox::new();
    write_app(&sb);
    let home = sb.path(&"h".repeat(110));
    let home = home.to_str().unwrap();
    let tend = sb.spawn(&["--home", home, "up"]);
    let app = std::path::Path::new(home).join("apps").join("ctl");
    let pointer = app.join("tend.sock.path");
    let socket = std::path::PathBuf::from(sb.wait_file(&pointer));
    assert!(socket.as_os_str().len() < 108, "{}", socket.display());
    let status = sb.wait_for("status over the short socket", || {
        let done = sb.run(&["--home", home, "status", "--json"]);
        let json: Value = serde_json::from_str(&done.stdout).ok()?;
        let all = json["programs"].as_array()?.iter().all(|p| p["state"] == "running");
        all.then_some(json)
    });
    let all: Vec<u32> = status["programs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| u32::try_from(p["pid"].as_u64().unwrap()).unwrap())
        .collect();
    let _guard = KillOnDrop::new(&all);
    sb.run(&["--home", home, "down"]).assert_code(0);
    tend.wait().assert_code(0);
    assert!(!socket.exists() && !pointer.exists());
}

#[test]
fn status_says_why_a_program_is_fatal_or_ended() {
    let sb = Sandbox::new();
    let bin = toml_str(&testbin_str());
    sb.write(
        "tend.toml",
        &format!(
            "name = \"why\"\n\
             [programs.looper]\ncommand = [{bin}, \"exit\", \"3\"]\n\
             backoff = {{ initial = \"10ms\", max = \"10ms\" }}\n\
             max_restarts = {{ count = 2, within = \"1m\" }}\n\
             [programs.once]\ncommand = [{bin}, \"exit\", \"4\"]\nrestart = \"never\"\n\
             [programs.missing]\ncommand = \"no-such-binary-here\"\n\
             [programs.up]\ncommand = [{bin}, \"sleep\", \"300\"]\n"
        ),
    );
    let _tend = sb.spawn(&["up"]);
    let status = sb.wait_for("looper to go fatal and once to end", || {
        let done = sb.run(&["status", "--json"]);
        let json: Value = serde_json::from_str(&done.stdout).ok()?;
        let settled = program(&json, "looper")["state"] == "fatal"
            && program(&json, "once")["state"] != "running"
            && program(&json, "up")["state"] == "running";
        settled.then_some(json)
    });
    let _guard =
        KillOnDrop::new(&[u32::try_from(program(&status, "up")["pid"].as_u64().unwrap()).unwrap()]);

    let looper = program(&status, "looper");
    assert_eq!(looper["cause"], "crash_loop", "{looper}");
    assert_eq!(looper["last_exit"], serde_json::json!({"code": 3}), "{looper}");
    assert!(looper["reason"].as_str().unwrap().contains("crashed 3 times within 1m"), "{looper}");
    let once = program(&status, "once");
    assert_eq!(once["cause"], "ended", "{once}");
    assert!(once["reason"].as_str().unwrap().contains("exit code 4"), "{once}");
    let missing = program(&status, "missing");
    assert_eq!(missing["state"], "fatal", "{missing}");
    assert_eq!(missing["cause"], "cannot_start", "{missing}");
    assert!(missing["reason"].as_str().unwrap().contains("no-such-binary-here"), "{missing}");
    assert!(program(&status, "up")["reason"].is_null());

    let table = sb.run(&["status"]);
    table.assert_code(0);
    let row = |name: &str| {
        table.stdout.lines().find(|l| l.starts_with(name)).unwrap_or_else(|| panic!("{name}"))
    };
    assert!(
        row("looper").contains("exit 3") || row("looper").contains("code 3"),
        "{}",
        table.stdout
    );
    assert!(row("looper").contains("crashed 3 times within 1m"), "{}", table.stdout);
    assert!(row("missing").contains("cannot start"), "{}", table.stdout);
    sb.run(&["down"]).assert_code(0);
}

#[test]
fn control_commands_work_while_tend_toml_is_broken() {
    let sb = Sandbox::new();
    write_app(&sb);
    let tend = sb.spawn(&["up"]);
    running_status(&sb);
    let _guard = KillOnDrop::new(&[pids(&sb, "a"), pids(&sb, "b")].concat());
    // One bad edit, with the name still readable.
    let good = std::fs::read_to_string(sb.path("tend.toml")).unwrap();
    sb.write("tend.toml", &good.replacen("[programs.a]", "[programs.a\n", 1));
    for args in [&["status"][..], &["status", "--json"], &["logs"]] {
        let done = sb.run(args);
        done.assert_code(0);
        let warnings = lines_with(&done.stderr, "warning");
        assert_eq!(warnings.len(), 1, "{args:?}: {}", done.stderr);
        assert!(warnings[0].contains("has errors"), "{}", done.stderr);
        assert!(warnings[0].contains("last good config"), "{}", done.stderr);
    }
    // Without even the name: the name recorded for this file in the app's state folder.
    sb.write("tend.toml", "this is [not toml\n");
    let status = sb.run(&["status", "--json"]);
    status.assert_code(0);
    assert!(status.stdout.contains("\"app\":\"ctl\"") || status.stdout.contains("\"ctl\""));
    sb.run(&["down"]).assert_code(0);
    tend.wait().assert_code(0);
}

#[test]
fn a_broken_tend_toml_of_an_unknown_app_suggests_name() {
    let sb = Sandbox::new();
    sb.write("tend.toml", "name = \"ghost\"\n[programs.a\n");
    let done = sb.run(&["status"]);
    done.assert_code(1);
    assert!(done.stderr.contains("--name"), "{}", done.stderr);
    assert!(done.stderr.contains("tend.toml:2"), "{}", done.stderr);
}

#[test]
fn logs_of_an_app_that_never_ran_say_so_and_name_the_known_apps() {
    let sb = Sandbox::new();
    // Another app ran here once.
    let other = sb.spawn(&["run", "--name", "other", "--", &testbin_str(), "sleep", "300"]);
    sb.wait_text(&sb.app("other").tend_log(), "other: started (pid ");
    let pid = started_pid(&sb.app("other").read_tend_log(), "other");
    let _guard = KillOnDrop::new(&[pid]);
    other.signal(libc::SIGTERM);
    other.wait().assert_code(0);

    write_app(&sb);
    let logs = sb.run(&["logs"]);
    logs.assert_code(1);
    assert!(logs.stderr.contains("no logs: app `ctl` it never ran"), "{}", logs.stderr);
    assert!(logs.stderr.contains("apps there: other"), "{}", logs.stderr);
    // status and down tell "never ran here" apart from "not running".
    for args in [&["status"][..], &["down"]] {
        let done = sb.run(args);
        done.assert_code(3);
        assert!(done.stderr.contains("never ran"), "{args:?}: {}", done.stderr);
        assert!(done.stderr.contains("apps there: other"), "{args:?}: {}", done.stderr);
    }
    let done = sb.run(&["status", "--name", "other"]);
    done.assert_code(3);
    assert!(!done.stderr.contains("never ran"), "{}", done.stderr);
}

#[test]
fn logs_dash_f_program_hints_that_following_is_dash_capital_f() {
    let sb = Sandbox::new();
    write_app(&sb);
    let done = sb.run(&["logs", "-f", "a"]);
    done.assert_code(1);
    assert!(done.stderr.contains("tend logs a -F"), "{}", done.stderr);
}

#[test]
fn events_stream_what_happens_until_the_app_stops() {
    let sb = Sandbox::new();
    write_app(&sb);
    let tend = sb.spawn(&["up"]);
    running_status(&sb);
    let socket = sb.app("ctl").dir.join("tend.sock");
    let mut stream = UnixStream::connect(&socket).unwrap();
    stream.set_read_timeout(Some(LIMIT)).unwrap();
    write!(stream, "GET /v1/events HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .unwrap();
    // The head comes once the follower is registered: what happens from then on is streamed.
    let mut seen = Vec::new();
    let mut byte = [0u8; 1];
    while !seen.ends_with(b"\r\n\r\n") {
        assert_eq!(stream.read(&mut byte).unwrap(), 1, "the head ended early: {seen:?}");
        seen.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&seen).into_owned();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(head.contains("application/x-ndjson"), "{head}");
    sb.run(&["restart", "a"]).assert_code(0);
    tend.signal(libc::SIGTERM);
    // The stream ends when the app has stopped.
    let mut body = String::new();
    stream.read_to_string(&mut body).unwrap();
    tend.wait().assert_code(0);
    let events: Vec<Value> = body
        .lines()
        .map(|line| line.trim_end_matches('\r'))
        .filter(|line| line.starts_with('{'))
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let of = |program: &str, kind: &str| -> Vec<&Value> {
        events.iter().filter(|e| e["program"] == program && e["kind"] == kind).collect()
    };
    let restarted = of("a", "started");
    assert_eq!(restarted.len(), 1, "{body}");
    let message = restarted[0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("a: started (pid ") && message.contains("reason requested"),
        "{body}"
    );
    assert_eq!(of("a", "stopped").len(), 1, "{body}");
    assert_eq!(of("b", "stopped").len(), 1, "{body}");
    assert!(of("b", "started").is_empty(), "b was not restarted: {body}");
    assert!(events.iter().all(|e| e["at"].as_str().is_some_and(|at| at.ends_with('Z'))), "{body}");
}
