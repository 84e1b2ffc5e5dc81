//! State that another user could change is refused at start, with the path and the fix, and
//! left as it is: an app folder others can write into, a log file others can write.
#![cfg(unix)]
#![allow(clippy::unwrap_used)]

mod common;

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use common::*;

fn set_mode(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

/// `tend.toml` of app `demo`, whose program writes `ready` when it runs.
fn config(sb: &Sandbox) -> std::path::PathBuf {
    let ready = sb.path("ready");
    sb.write(
        "tend.toml",
        &format!(
            "name = \"demo\"\n\n[programs.web]\ncommand = [{}, \"ready\", {}, \"300\"]\n",
            toml_str(&testbin_str()),
            toml_str(&text(&ready))
        ),
    );
    ready
}

/// `$TEND_HOME/apps/demo`, made by hand (as a user would) with mode `mode`; its parents 0700.
fn app_folder(sb: &Sandbox, mode: u32) -> App {
    let app = sb.app("demo");
    std::fs::create_dir_all(&app.dir).unwrap();
    set_mode(&sb.home, 0o700);
    set_mode(&sb.home.join("apps"), 0o700);
    set_mode(&app.dir, mode);
    app
}

#[test]
fn an_app_folder_others_can_write_into_is_refused_with_the_path_and_the_fix() {
    let sb = Sandbox::new();
    let ready = config(&sb);
    let app = app_folder(&sb, 0o777);

    let done = sb.run(&["up"]);
    done.assert_code(1);
    let dir = text(&app.dir);
    assert!(
        done.stderr.contains(&format!("{dir} is writable by its group and by others (mode 0777)")),
        "{}",
        done.stderr
    );
    assert!(done.stderr.contains(&format!("fix it with `chmod 700 {dir}`")), "{}", done.stderr);
    assert!(!ready.exists(), "no program may start");
    assert_eq!(mode(&app.dir), 0o777, "the user's folder keeps its mode");
    assert!(std::fs::read_dir(&app.dir).unwrap().next().is_none(), "nothing is created in it");

    // `up -d` refuses the same way, before starting anything in the background.
    let detached = sb.run(&["up", "-d"]);
    detached.assert_code(1);
    assert!(detached.stderr.contains(&format!("chmod 700 {dir}")), "{}", detached.stderr);
    assert!(!ready.exists());
}

#[test]
fn a_log_file_others_can_write_is_refused_and_left_untouched() {
    let sb = Sandbox::new();
    let ready = config(&sb);
    let app = app_folder(&sb, 0o700);
    let logs = app.dir.join("logs");
    std::fs::create_dir(&logs).unwrap();
    set_mode(&logs, 0o700);
    let log = app.log("web");
    std::fs::write(&log, "old line\n").unwrap();
    set_mode(&log, 0o666);

    let done = sb.run(&["up"]);
    done.assert_code(1);
    let path = text(&log);
    assert!(
        done.stderr.contains(&format!("{path} is writable by its group and by others")),
        "{}",
        done.stderr
    );
    assert!(done.stderr.contains(&format!("fix it with `chmod 600 {path}`")), "{}", done.stderr);
    assert!(!ready.exists(), "no program may start");
    assert_eq!(read(&log), "old line\n");
    assert_eq!(mode(&log), 0o666);
    assert!(!app.tend_log().exists(), "tend.log is not started beside it");

    // With the fix applied, the app starts.
    set_mode(&log, 0o600);
    let tend = sb.spawn(&["up"]);
    sb.wait_file(&ready);
    let started = sb.wait_text(&app.tend_log(), "web: started (pid ");
    let _guard = KillOnDrop::new(&[started_pid(&started, "web")]);
    tend.signal(libc::SIGTERM);
    tend.wait().assert_code(0);
}

#[test]
fn a_private_folder_of_the_user_keeps_its_mode() {
    let sb = Sandbox::new();
    let ready = config(&sb);
    // Readable by the group, writable by nobody else: safe, and the user's choice.
    let app = app_folder(&sb, 0o750);
    let tend = sb.spawn(&["up"]);
    sb.wait_file(&ready);
    let started = sb.wait_text(&app.tend_log(), "web: started (pid ");
    let _guard = KillOnDrop::new(&[started_pid(&started, "web")]);
    tend.signal(libc::SIGTERM);
    tend.wait().assert_code(0);
    assert_eq!(mode(&app.dir), 0o750);
    assert_eq!(mode(&app.dir.join("logs")), 0o700, "what tend creates is private");
    assert_eq!(mode(&app.tend_log()), 0o600);
}
