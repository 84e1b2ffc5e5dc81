//! `tend reap` on hand-written run records: a recycled pid is never signalled, a damaged record
//! is set aside untouched, a record of a live tend is kept, and a real leftover is ended.
#![cfg(unix)]
#![allow(clippy::unwrap_used)]

mod common;

use std::os::unix::process::CommandExt as _;
use std::process::{Child, Command, Stdio};

use common::*;

/// A process the test owns: `tend-testbin sleep 300` in a process group of its own (so that a
/// reaper signalling "its group" would hit it), optionally carrying a run token.
struct Sleeper(Child);

impl Sleeper {
    fn start(token: Option<&str>) -> Sleeper {
        let mut cmd = Command::new(testbin());
        cmd.args(["sleep", "300"]).process_group(0).stdin(Stdio::null()).env_remove("TEND_RUN_ID");
        if let Some(token) = token {
            cmd.env("TEND_RUN_ID", token);
        }
        Sleeper(cmd.spawn().unwrap_or_else(|e| panic!("starting a sleeper: {e}")))
    }

    fn pid(&self) -> u32 {
        self.0.id()
    }

    fn start_time(&self) -> u64 {
        tend_runner::process_stats(self.pid())
            .unwrap_or_else(|| panic!("no stats for the sleeper {}", self.pid()))
            .start_time
    }
}

impl Drop for Sleeper {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A tend that is surely gone: the pid of a process that ran and was reaped, with a start
/// time no process has.
fn dead_owner() -> (u32, u64) {
    let mut child = Command::new(testbin())
        .args(["exit", "0"])
        .spawn()
        .unwrap_or_else(|e| panic!("starting tend-testbin: {e}"));
    let pid = child.id();
    child.wait().unwrap_or_else(|e| panic!("waiting for tend-testbin: {e}"));
    (pid, 1)
}

/// A run token no other process has: this test process's pid and the time.
fn unique_token() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{:08x}{:024x}", std::process::id(), nanos & ((1 << 96) - 1))
}

fn record_json(pid: u32, start_time: u64, run_id: &str, owner: (u32, u64)) -> String {
    let boot = tend_runner::current_boot_id().unwrap_or_default();
    format!(
        r#"{{
  "version": 1,
  "app": "demo",
  "program": "web",
  "pgid": {pid},
  "pid": {pid},
  "start_time": {start_time},
  "boot_id": "{boot}",
  "argv": ["tend-testbin", "sleep", "300"],
  "cwd": "/",
  "run_id": "{run_id}",
  "owner": {{ "pid": {owner_pid}, "start_time": {owner_start} }},
  "started_at": 0
}}
"#,
        owner_pid = owner.0,
        owner_start = owner.1
    )
}

fn write_record(app: &App, name: &str, text: &str) -> std::path::PathBuf {
    let path = app.runs().join(name);
    std::fs::create_dir_all(app.runs())
        .and_then(|()| std::fs::write(&path, text))
        .unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    path
}

#[test]
fn a_recycled_pid_is_left_alone_and_its_record_removed() {
    let sb = Sandbox::new();
    let app = sb.app("demo");
    let sleeper = Sleeper::start(None);
    // Same pid, another start time: the recorded process is gone and the pid was reused.
    let record =
        record_json(sleeper.pid(), sleeper.start_time() + 1000, &unique_token(), dead_owner());
    let path = write_record(&app, &format!("{}.json", sleeper.pid()), &record);

    let done = sb.run(&["reap"]);
    done.assert_code(0);
    assert!(alive(sleeper.pid()), "tend reap signalled a process it did not start");
    assert!(!path.exists(), "the stale record should be removed: {:?}", app.run_files());
    assert!(app.run_files().is_empty(), "{:?}", app.run_files());
    assert!(done.stdout.contains("reaped 0 process(es) in 1 app(s)"), "{}", done.stdout);
}

#[test]
fn a_damaged_record_is_set_aside_and_nothing_is_signalled() {
    let sb = Sandbox::new();
    let app = sb.app("demo");
    let sleeper = Sleeper::start(None);
    let name = format!("{}.json", sleeper.pid());
    // A record cut short: it names a live process but cannot be trusted.
    let full = record_json(sleeper.pid(), sleeper.start_time(), &unique_token(), dead_owner());
    let damaged = &full[..full.len() / 2];
    let path = write_record(&app, &name, damaged);

    let done = sb.run(&["reap", "--name", "demo"]);
    done.assert_code(0);
    assert!(alive(sleeper.pid()), "a damaged record must never lead to a signal");
    assert!(!path.exists());
    let files = app.run_files();
    assert_eq!(files.len(), 1, "{files:?}");
    let prefix = format!("{name}.corrupt-");
    let aside = files[0].strip_prefix(&prefix).unwrap_or_else(|| panic!("{files:?}"));
    assert!(!aside.is_empty() && aside.bytes().all(|b| b.is_ascii_digit()), "{files:?}");
    assert_eq!(std::fs::read_to_string(app.runs().join(&files[0])).unwrap(), damaged, "kept as is");
    assert!(done.stderr.contains("damaged run record set aside"), "{}", done.stderr);
    assert!(done.stdout.contains("reaped 0 process(es)"), "{}", done.stdout);
}

#[test]
fn a_record_of_a_running_tend_is_kept() {
    let sb = Sandbox::new();
    let app = sb.app("demo");
    let sleeper = Sleeper::start(None);
    // The owner is this test process: alive, with its real start time.
    let me = std::process::id();
    let owner = (me, tend_runner::process_stats(me).unwrap().start_time);
    let path = write_record(
        &app,
        &format!("{}.json", sleeper.pid()),
        &record_json(sleeper.pid(), sleeper.start_time(), &unique_token(), owner),
    );

    let done = sb.run(&["reap"]);
    done.assert_code(0);
    assert!(alive(sleeper.pid()));
    assert!(path.exists(), "the record of a running owner must stay");
    assert!(done.stdout.contains("1 record(s) of running tends left alone"), "{}", done.stdout);
}

#[test]
fn a_true_leftover_is_ended_and_its_record_removed() {
    let sb = Sandbox::new();
    let app = sb.app("demo");
    // Unique, so that no other test's process can carry it.
    let token = unique_token();
    let mut sleeper = Sleeper::start(Some(&token));
    let path = write_record(
        &app,
        &format!("{}.json", sleeper.pid()),
        &record_json(sleeper.pid(), sleeper.start_time(), &token, dead_owner()),
    );

    let done = sb.run(&["reap"]);
    done.assert_code(0);
    assert!(!alive(sleeper.pid()), "the leftover should be ended");
    let status = sleeper.0.wait().unwrap();
    assert_eq!(std::os::unix::process::ExitStatusExt::signal(&status), Some(libc::SIGTERM));
    assert!(!path.exists());
    assert!(done.stdout.contains("reaped 1 process(es) in 1 app(s)"), "{}", done.stdout);
    assert!(
        done.stderr.contains(
            "demo: ended 1 process(es) left by a tend that is gone (1 record(s) cleared;"
        ),
        "{}",
        done.stderr
    );
}

/// Makes a FIFO at `path` (mode 0600) that nobody writes.
fn mkfifo(path: &std::path::Path) {
    let runs = path.parent().unwrap();
    std::fs::create_dir_all(runs).unwrap();
    // Private whatever the umask, as tend would have made them: `up` refuses others' state.
    for dir in runs.ancestors().take(4) {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    let rc = unsafe { libc::mkfifo(c.as_ptr(), 0o600) };
    assert_eq!(rc, 0, "mkfifo {}: {}", path.display(), std::io::Error::last_os_error());
}

/// Whether something at `path` is a FIFO (without opening it).
fn is_fifo(path: &std::path::Path) -> bool {
    use std::os::unix::fs::FileTypeExt as _;
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_fifo())
}

#[test]
fn a_fifo_in_runs_is_set_aside_and_reap_completes() {
    let sb = Sandbox::new();
    let app = sb.app("demo");
    let fifo = app.record(4242);
    mkfifo(&fifo);

    // Before: reading the record waited for a writer for ever (the run below times out).
    let done = sb.run(&["reap"]);
    done.assert_code(0);
    assert!(!fifo.exists(), "the FIFO should be set aside: {:?}", app.run_files());
    let files = app.run_files();
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(files[0].starts_with("4242.json.corrupt-"), "{files:?}");
    assert!(is_fifo(&app.runs().join(&files[0])), "moved as it is, never opened for writing");
    assert!(
        done.stderr.contains("damaged run record set aside (is a FIFO, not a regular file)"),
        "{}",
        done.stderr
    );
}

#[test]
fn a_fifo_in_runs_does_not_stop_up_from_starting_its_programs() {
    let sb = Sandbox::new();
    let app = sb.app("demo");
    let fifo = app.record(4243);
    mkfifo(&fifo);
    let ready = sb.path("ready");
    sb.write(
        "tend.toml",
        &format!(
            "name = \"demo\"\n\n[programs.web]\ncommand = [{}, \"ready\", {}, \"300\"]\n",
            toml_str(&testbin_str()),
            toml_str(&text(&ready))
        ),
    );
    let tend = sb.spawn(&["up"]);
    sb.wait_file(&ready);
    let log = sb.wait_text(&app.tend_log(), "web: started (pid ");
    let _guard = KillOnDrop::new(&[started_pid(&log, "web")]);
    assert!(log.contains("damaged run record set aside (is a FIFO"), "{log}");
    assert!(!fifo.exists());
    tend.signal(libc::SIGTERM);
    tend.wait().assert_code(0);
}
