//! In-flight work through the real binary: `tend inflight begin|done|list`, the control API's
//! `/v1/inflight`, `inflight.json`, and the hand-over of interrupted work in `TEND_RECOVERY`
//! after a SIGKILL of tend, a clean stop, with a max age, and from a damaged file.
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used)] // helpers outside #[test] fns

mod common;

use std::io::{Read as _, Write as _};
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use common::*;
use serde_json::{Value, json};

/// An app `demo` with one program `worker` in the folder `sub`, which holds the tend.toml of
/// another app: its `tend inflight` still reports to its own app, named by `TEND_STATE_DIR`. At its `n`th start it writes
/// `kind-N` (its `TEND_STARTUP_KIND`), copies the file `TEND_RECOVERY` names to
/// `recovery-N.json`, reports `job-N` (label `run N`) with `tend inflight begin`, writes its
/// pid to `pid-N` and then `ready-N`, and sleeps. `extra` goes into tend.toml before the
/// program.
fn config(sb: &Sandbox, extra: &str) {
    std::fs::create_dir_all(sb.path("sub")).unwrap();
    sb.write("sub/tend.toml", "name = \"other\"\n[programs.x]\ncommand = \"true\"\n");
    let script = format!(
        r#"n=$(( $(cat count 2>/dev/null || echo 0) + 1 )); echo $n > count
echo "$TEND_STARTUP_KIND" > kind-$n
if [ -n "$TEND_RECOVERY" ]; then cp "$TEND_RECOVERY" recovery-$n.json; fi
{tend} inflight begin "job-$n" --label "run $n" 2> begin-$n.err || echo $? > failed-$n
echo $$ > pid-$n
echo ready > ready-$n
exec {bin} sleep 300"#,
        tend = sh_quote(&text(&tend_bin())),
        bin = sh_quote(&testbin_str()),
    );
    sb.write(
        "tend.toml",
        &format!(
            "name = \"demo\"\n{extra}\n[programs.worker]\ncommand = [\"sh\", \"-c\", {}]\ndir = \"sub\"\nstop = {{ timeout = \"5s\" }}\n",
            toml_str(&script)
        ),
    );
}

/// A file the program wrote in `sub`.
fn sub(sb: &Sandbox, name: &str) -> PathBuf {
    sb.path(&format!("sub/{name}"))
}

/// Starts `tend up` and waits until its program's `n`th start is ready; returns the tend and
/// the program's pid (guarded by `guard`).
fn up(sb: &Sandbox, n: usize, guard: &mut KillOnDrop) -> Tend {
    let tend = sb.spawn(&["up"]);
    sb.wait_file(&sub(sb, &format!("ready-{n}")));
    let pid = pids_of(&read(&sub(sb, &format!("pid-{n}"))))[0];
    guard.add(&[pid]);
    assert!(
        !sub(sb, &format!("failed-{n}")).exists(),
        "the program's `tend inflight begin` failed: {}",
        read(&sub(sb, &format!("begin-{n}.err")))
    );
    tend
}

/// Stops `tend` gracefully (SIGTERM) and waits for its exit 0.
fn stop(tend: Tend) {
    tend.signal(libc::SIGTERM);
    tend.wait().assert_code(0);
}

fn json_of(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// `tend ARGS…` that must exit 0; its stdout as JSON.
fn run_json(sb: &Sandbox, args: &[&str]) -> Value {
    let done = sb.run(args);
    done.assert_code(0);
    json_of(&done.stdout)
}

fn ids(items: &Value) -> Vec<&str> {
    items.as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap()).collect()
}

fn inflight_file(app: &App) -> Value {
    json_of(&read(&app.dir.join("inflight.json")))
}

/// One raw HTTP/1.1 request on the app's socket; the status code and the body.
fn http(app: &App, method: &str, path: &str, body: &str) -> (u16, String) {
    let mut stream = std::os::unix::net::UnixStream::connect(app.dir.join("tend.sock")).unwrap();
    stream.set_read_timeout(Some(LIMIT)).unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response.split(' ').nth(1).unwrap().parse().unwrap();
    let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    (status, body)
}

#[test]
fn inflight_items_survive_a_sigkill_of_tend_and_reach_the_next_start() {
    let sb = Sandbox::new();
    let app = sb.app("demo");
    config(&sb, "");
    let mut guard = KillOnDrop::new(&[]);

    let first = up(&sb, 1, &mut guard);
    assert_eq!(read(&sub(&sb, "kind-1")).trim(), "first_start");
    assert!(!sub(&sb, "recovery-1.json").exists(), "no TEND_RECOVERY at a first start");
    // The program reported its work from its own folder: the item names it.
    let list = run_json(&sb, &["inflight", "list", "--json"]);
    assert_eq!(ids(&list["inflight"]), ["job-1"], "{list}");
    assert_eq!(list["inflight"][0]["program"], "worker");
    assert_eq!(list["inflight"][0]["label"], "run 1");
    assert_eq!(list["interrupted"], json!([]));
    assert_eq!(ids(&inflight_file(&app)["items"]), ["job-1"]);

    first.signal(libc::SIGKILL);
    first.wait();

    let second = up(&sb, 2, &mut guard);
    assert_eq!(read(&sub(&sb, "kind-2")).trim(), "crash_recovery");
    let recovery = json_of(&read(&sub(&sb, "recovery-2.json")));
    assert_eq!(recovery["startup_kind"], "crash_recovery", "{recovery}");
    assert_eq!(ids(&recovery["interrupted"]), ["job-1"], "{recovery}");
    let item = &recovery["interrupted"][0];
    assert_eq!((&item["label"], &item["program"]), (&json!("run 1"), &json!("worker")));
    assert_eq!(item, &list["inflight"][0], "handed over as it was recorded");
    assert!(recovery["written_at"].as_str().unwrap().ends_with('Z'), "{recovery}");

    // The status lists it as interrupted; only this run's work is open, in the file too.
    let status = run_json(&sb, &["status", "--json"]);
    assert_eq!(ids(&status["interrupted"]), ["job-1"], "{status}");
    assert_eq!(ids(&status["inflight"]), ["job-2"], "{status}");
    assert_eq!(status["programs"][0]["name"], "worker", "the old fields are still there");
    assert_eq!(ids(&inflight_file(&app)["items"]), ["job-2"]);
    let table = sb.run(&["status"]);
    table.assert_code(0);
    let out = &table.stdout;
    let open = line_index(out, "in flight (1):");
    let interrupted = line_index(out, "interrupted at this start (1):");
    assert!(open > line_index(out, "worker  running"), "after the programs:\n{out}");
    assert!(lines_with(out, "job-2  worker")[0].ends_with("run 2"), "{out}");
    assert!(interrupted > open && lines_with(out, "job-1  worker").len() == 1, "{out}");
    assert!(app.read_tend_log().contains("1 interrupted in-flight item(s) handed over"));

    stop(second);
}

#[test]
fn a_clean_stop_hands_open_items_over_and_a_later_start_removes_the_stale_recovery() {
    let sb = Sandbox::new();
    let app = sb.app("demo");
    config(&sb, "");
    let mut guard = KillOnDrop::new(&[]);

    let first = up(&sb, 1, &mut guard);
    sb.run(&["inflight", "begin", "extra", "--label", "from the test"]).assert_code(0);
    sb.run(&["inflight", "done", "job-1"]).assert_code(0);
    stop(first);
    assert_eq!(ids(&inflight_file(&app)["items"]), ["extra"], "open at the clean stop");

    // A plain start after a clean stop: TEND_RECOVERY because something was interrupted.
    let second = up(&sb, 2, &mut guard);
    assert_eq!(read(&sub(&sb, "kind-2")).trim(), "start");
    let recovery = json_of(&read(&sub(&sb, "recovery-2.json")));
    assert_eq!(recovery["startup_kind"], "start");
    assert_eq!(ids(&recovery["interrupted"]), ["extra"], "{recovery}");
    assert_eq!(recovery["interrupted"][0]["program"], Value::Null, "begun outside tend");
    assert!(app.dir.join("recovery.json").exists());
    sb.run(&["inflight", "done", "job-2"]).assert_code(0);
    stop(second);
    assert_eq!(inflight_file(&app), json!({"items": []}));

    // Nothing open, a plain start: no TEND_RECOVERY, and the old recovery.json is gone.
    let third = up(&sb, 3, &mut guard);
    assert_eq!(read(&sub(&sb, "kind-3")).trim(), "start");
    assert!(!sub(&sb, "recovery-3.json").exists());
    assert!(!app.dir.join("recovery.json").exists(), "a stale recovery.json is removed");
    let status = run_json(&sb, &["status", "--json"]);
    assert_eq!(status["interrupted"], json!([]), "{status}");
    stop(third);
}

#[test]
fn an_app_restart_hands_open_items_over() {
    let sb = Sandbox::new();
    config(&sb, "");
    let mut guard = KillOnDrop::new(&[]);
    let tend = up(&sb, 1, &mut guard);
    sb.run(&["restart", "--app", "--reason", "test"]).assert_code(0);
    // tend stops every program and comes back in place (same pid): a `restart` start.
    sb.wait_file(&sub(&sb, "ready-2"));
    guard.add(&pids_of(&read(&sub(&sb, "pid-2"))));
    assert_eq!(read(&sub(&sb, "kind-2")).trim(), "restart");
    let recovery = json_of(&read(&sub(&sb, "recovery-2.json")));
    assert_eq!(recovery["startup_kind"], "restart");
    assert_eq!(ids(&recovery["interrupted"]), ["job-1"], "{recovery}");
    stop(tend);
}

#[test]
fn items_older_than_the_max_age_are_dropped() {
    let sb = Sandbox::new();
    let app = sb.app("demo");
    config(&sb, "\n[inflight]\nmax_age = \"10m\"\n");
    let mut guard = KillOnDrop::new(&[]);
    stop(up(&sb, 1, &mut guard));

    let at = |ago: u64| {
        tend_api::inflight::rfc3339::format(SystemTime::now() - Duration::from_secs(ago))
    };
    let journal = json!({"items": [
        {"id": "old", "label": null, "program": "worker", "started_at": at(3600)},
        {"id": "young", "label": "still fresh", "program": "worker", "started_at": at(60)},
    ]});
    std::fs::write(app.dir.join("inflight.json"), journal.to_string()).unwrap();

    let second = up(&sb, 2, &mut guard);
    let recovery = json_of(&read(&sub(&sb, "recovery-2.json")));
    assert_eq!(recovery["startup_kind"], "start");
    assert_eq!(ids(&recovery["interrupted"]), ["young"], "{recovery}");
    assert_eq!(recovery["interrupted"][0], journal["items"][1]);
    let log = app.read_tend_log();
    assert!(log.contains("in-flight item `old` started 1h"), "{log}");
    assert!(log.contains("over the max age of 10m: dropped"), "{log}");
    stop(second);
}

#[test]
fn a_damaged_inflight_file_is_moved_aside_and_work_goes_on() {
    let sb = Sandbox::new();
    let app = sb.app("demo");
    config(&sb, "");
    let mut guard = KillOnDrop::new(&[]);
    stop(up(&sb, 1, &mut guard));

    // A wrong shape (a valid JSON document, but not a journal), and a stale recovery.json.
    let damaged = r#"{"items": "job-1"}"#;
    std::fs::write(app.dir.join("inflight.json"), damaged).unwrap();
    std::fs::write(app.dir.join("recovery.json"), "{}").unwrap();

    let second = up(&sb, 2, &mut guard);
    let moved: Vec<PathBuf> = std::fs::read_dir(&app.dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("inflight.json.corrupt-"))
        .collect();
    assert_eq!(moved.len(), 1, "{moved:?}");
    assert_eq!(read(&moved[0]), damaged, "kept as it was");
    assert!(!sub(&sb, "recovery-2.json").exists(), "nothing to hand over");
    assert!(!app.dir.join("recovery.json").exists());
    // The program's `begin` worked (`up` checks it) and is in the new file.
    assert_eq!(ids(&inflight_file(&app)["items"]), ["job-2"]);
    let log = app.read_tend_log();
    assert!(log.contains("it was moved aside and defaults are used"), "{log}");
    stop(second);
}

#[test]
fn begin_done_and_list_through_the_cli_the_api_and_rust() {
    let sb = Sandbox::new();
    let app = sb.app("demo");
    config(&sb, "");
    let mut guard = KillOnDrop::new(&[]);
    let tend = up(&sb, 1, &mut guard);

    // Begin prints nothing; an ID is any printable text, a leading `-` included.
    let begun = sb.run(&["inflight", "begin", "a b/c", "--label", "first"]);
    begun.assert_code(0);
    assert_eq!((begun.stdout.as_str(), begun.stderr.as_str()), ("", ""));
    sb.run(&["inflight", "begin", "-dash"]).assert_code(0);
    let list = run_json(&sb, &["inflight", "list", "--json"]);
    assert_eq!(ids(&list["inflight"]), ["job-1", "a b/c", "-dash"], "{list}");
    let first = list["inflight"][1].clone();
    assert_eq!(first["program"], Value::Null);

    // Begin again: same start, new label (idempotent).
    let again = sb.run(&["-v", "inflight", "begin", "a b/c", "--label", "second"]);
    again.assert_code(0);
    let since = first["started_at"].as_str().unwrap();
    assert!(again.stderr.contains(&format!("`a b/c` in flight since {since}")), "{}", again.stderr);
    let list = run_json(&sb, &["inflight", "list", "--json"]);
    assert_eq!(list["inflight"][1]["started_at"], first["started_at"]);
    assert_eq!(list["inflight"][1]["label"], "second");

    // The table.
    let table = sb.run(&["inflight", "list"]);
    table.assert_code(0);
    assert!(table.stdout.starts_with("in flight (3):\n"), "{}", table.stdout);
    assert!(lines_with(&table.stdout, "a b/c")[0].ends_with("second"), "{}", table.stdout);

    // Done, twice: the second time is no error, and says so at -v.
    let done = sb.run(&["-v", "inflight", "done", "a b/c"]);
    done.assert_code(0);
    assert!(done.stderr.contains("`a b/c` done"), "{}", done.stderr);
    let again = sb.run(&["-v", "inflight", "done", "a b/c"]);
    again.assert_code(0);
    assert!(again.stderr.contains("`a b/c` was not in flight"), "{}", again.stderr);
    assert_eq!(sb.run(&["inflight", "done", "a b/c"]).stderr, "", "quiet without -v");
    assert_eq!(ids(&inflight_file(&app)["items"]), ["job-1", "-dash"]);

    // Bounds, checked by the CLI…
    let long_id = "x".repeat(201);
    let refused = sb.run(&["inflight", "begin", &long_id]);
    refused.assert_code(1);
    assert!(
        refused.stderr.contains("the ID is 201 bytes long; at most 200 are allowed"),
        "{}",
        refused.stderr
    );
    let long_label = "y".repeat(1001);
    let refused = sb.run(&["inflight", "begin", "ok", "--label", &long_label]);
    refused.assert_code(1);
    assert!(refused.stderr.contains("the label is 1001 bytes long"), "{}", refused.stderr);
    sb.run(&["inflight", "begin", &"x".repeat(200), "--label", &"y".repeat(1000)]).assert_code(0);

    // … and by the API itself.
    let body = json!({"id": long_id}).to_string();
    let (code, answer) = http(&app, "POST", "/v1/inflight", &body);
    assert_eq!(code, 400);
    assert_eq!(
        json_of(&answer),
        json!({"error": "the ID is 201 bytes long; at most 200 are allowed"})
    );
    let (code, answer) = http(&app, "POST", "/v1/inflight", r#"["no"]"#);
    assert_eq!(code, 400, "{answer}");
    assert!(json_of(&answer)["error"].as_str().unwrap().starts_with("bad body: "), "{answer}");
    let (code, answer) =
        http(&app, "POST", "/v1/inflight", r#"{"id": "api", "label": "l", "program": "p"}"#);
    assert_eq!(code, 201, "new: {answer}");
    let item = json_of(&answer);
    assert_eq!(
        (&item["id"], &item["label"], &item["program"]),
        (&json!("api"), &json!("l"), &json!("p"))
    );
    let (code, _) = http(&app, "POST", "/v1/inflight", r#"{"id": "api"}"#);
    assert_eq!(code, 200, "already open");
    let (code, answer) = http(&app, "DELETE", "/v1/inflight/api", "");
    assert_eq!((code, json_of(&answer)), (200, json!({"id": "api", "removed": true})));
    let (code, answer) = http(&app, "DELETE", "/v1/inflight/api", "");
    assert_eq!((code, json_of(&answer)), (200, json!({"id": "api", "removed": false})));
    let (code, answer) = http(&app, "GET", "/v1/inflight", "");
    assert_eq!(code, 200);
    assert_eq!(json_of(&answer)["inflight"].as_array().unwrap().len(), 3, "{answer}");

    // The Rust API (as a program under tend would use it, with its app's state folder).
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let home = tend_api::AppHome::new(&sb.home, "demo");
        let inflight = tend_api::inflight::Inflight::new(home).with_program(Some("rusty".into()));
        let item = inflight.begin("from rust", Some("typed")).await.unwrap();
        assert_eq!(item.program.as_deref(), Some("rusty"));
        let list = inflight.list().await.unwrap();
        assert!(list.inflight.iter().any(|i| i.id == "from rust"));
        assert!(inflight.done("from rust").await.unwrap());
        assert!(!inflight.done("from rust").await.unwrap());
        let error = inflight.begin("", None).await.unwrap_err();
        assert!(matches!(error, tend_api::inflight::InflightError::EmptyId), "{error}");
    });

    stop(tend);
    // Not running any more: exit 3, for every subcommand.
    for args in [&["inflight", "begin", "x"][..], &["inflight", "done", "x"], &["inflight", "list"]]
    {
        let finished = sb.run(args);
        finished.assert_code(3);
        assert!(finished.stderr.contains("app `demo` is not running"), "{}", finished.stderr);
    }
    runtime.block_on(async {
        let home = tend_api::AppHome::new(&sb.home, "demo");
        let error = tend_api::inflight::Inflight::new(home).done("x").await.unwrap_err();
        assert!(matches!(error, tend_api::inflight::InflightError::NotRunning { .. }), "{error}");
    });
}

#[test]
fn without_a_running_app_or_a_tend_toml() {
    let sb = Sandbox::new();
    config(&sb, "");
    // Never started: exit 3.
    let finished = sb.run(&["inflight", "begin", "x"]);
    finished.assert_code(3);
    assert!(
        finished.stderr.contains("app `demo` is not running; start it with `tend up`"),
        "{}",
        finished.stderr
    );
    sb.run(&["inflight", "list", "--json"]).assert_code(3);
    // By name.
    sb.run(&["inflight", "done", "x", "--name", "other"]).assert_code(3);
    // No tend.toml here and not under tend: exit 1, with what to do.
    std::fs::create_dir_all(sb.path("empty")).unwrap();
    let out = sb
        .command(&["inflight", "begin", "x"])
        .current_dir(sb.path("empty"))
        .env_remove("TEND_STATE_DIR")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("tend.toml does not exist; pass -f FILE"), "{stderr}");
}
