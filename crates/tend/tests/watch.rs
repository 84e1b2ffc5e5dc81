//! Hot reload of a program on file change (`watch`), through the real `tend` binary: a burst
//! of changes is one graceful restart with `TEND_RESTART_REASON=file_change` and the changed
//! path in the log; ignored paths (the defaults and the `ignore` globs) restart nothing; a
//! program that is done is not started by a change.
//!
//! The program is `tend-testbin stamp FILE`: each start appends `<ns> <pid> <reason> <count>`
//! to FILE, outside the watched folder. Non-events are proven without sleeping: ignored
//! changes come first, a watched change after them, and the one restart that follows must
//! name the watched path alone.
#![cfg(unix)]
#![allow(clippy::unwrap_used)] // helpers outside #[test] fns

mod common;

use std::fs;

use common::*;

/// One start of the stamp program: its pid, reason and restart count.
#[derive(Debug, PartialEq, Eq)]
struct Start {
    pid: u32,
    reason: String,
    count: u32,
}

fn starts(text: &str) -> Vec<Start> {
    text.lines()
        .map(|line| {
            let parts: Vec<&str> = line.split(' ').collect();
            Start {
                pid: parts[1].parse().unwrap(),
                reason: parts[2].to_owned(),
                count: parts[3].parse().unwrap(),
            }
        })
        .collect()
}

/// Starts `tend up`, waits for the program's first start and for its watcher on `watched`;
/// returns tend and a guard over the program.
fn up_watching(sb: &Sandbox, app: &App, watched: &str) -> (Tend, KillOnDrop) {
    let tend = sb.spawn(&["up"]);
    let first = starts(&sb.wait_lines(&sb.path("starts"), 1));
    let guard = KillOnDrop::new(&[first[0].pid]);
    sb.wait_text(&app.tend_log(), &format!("web: watching {watched} for changes"));
    (tend, guard)
}

fn config(sb: &Sandbox, watch: &str) -> String {
    format!(
        "name = \"w\"\n[programs.web]\ncommand = [{}, \"stamp\", {}]\nstop = {{ timeout = \"5s\" }}\nwatch = {watch}\n",
        toml_str(&testbin_str()),
        toml_str(&sb.path_str("starts")),
    )
}

#[test]
fn a_burst_of_changes_is_one_restart_and_ignored_paths_restart_nothing() {
    let sb = Sandbox::new();
    for dir in
        ["src/__pycache__", "src/node_modules/pkg", "src/.git", "src/target/debug", "src/deep"]
    {
        fs::create_dir_all(sb.path(dir)).unwrap();
    }
    sb.write("src/app.py", "v1\n");
    sb.write(
        "tend.toml",
        &config(
            &sb,
            r#"{ paths = ["src"], ignore = ["*.tmp", "**/__pycache__/**"], debounce = "100ms" }"#,
        ),
    );
    let app = sb.app("w");
    let (tend, mut guard) = up_watching(&sb, &app, "src");

    // Three writes in a row: one restart, naming the file.
    for version in ["v2\n", "v3\n", "v4\n"] {
        fs::write(sb.path("src/app.py"), version).unwrap();
    }
    let text = sb.wait_lines(&sb.path("starts"), 2);
    guard.add(&starts(&text).iter().map(|s| s.pid).collect::<Vec<_>>());
    sb.wait_text(&app.tend_log(), "web: src/app.py changed; restarting");

    // Ignored: the default folders, a glob on the name, a glob on a folder (and the folder's
    // own creation). Then one watched change.
    sb.write("src/notes.tmp", "x");
    sb.write("src/__pycache__/app.cpython-312.pyc", "x");
    fs::create_dir(sb.path("src/__pycache__/sub")).unwrap();
    fs::create_dir(sb.path("src/deep/__pycache__")).unwrap();
    sb.write("src/node_modules/pkg/index.js", "x");
    sb.write("src/.git/HEAD", "x");
    sb.write("src/target/debug/out", "x");
    sb.write("starts.tmp", "outside the watched folder");
    sb.write("src/other.py", "new file\n");
    let text = sb.wait_lines(&sb.path("starts"), 3);
    let log = sb.wait_text(&app.tend_log(), "src/other.py changed; restarting");

    let all = starts(&text);
    guard.add(&all.iter().map(|s| s.pid).collect::<Vec<_>>());
    let restarts = lines_with(&log, "changed; restarting");
    assert_eq!(restarts.len(), 2, "one restart per burst, none for ignored paths:\n{log}");
    assert!(restarts[0].ends_with("web: src/app.py changed; restarting"), "{log}");
    assert!(restarts[1].ends_with("web: src/other.py changed; restarting"), "{log}");
    assert_eq!(all.len(), 3, "{text}");
    assert_eq!(
        all.iter().map(|s| (s.reason.as_str(), s.count)).collect::<Vec<_>>(),
        [("start", 0), ("file_change", 1), ("file_change", 2)]
    );
    // Each restart was graceful: the old run was stopped before the new one started.
    sb.wait_dead(&[all[0].pid, all[1].pid]);
    assert!(log.contains("web: restarting now (file_change)"), "{log}");
    assert!(alive(all[2].pid));

    tend.signal(libc::SIGTERM);
    tend.wait().assert_code(0);
}

#[test]
fn watch_true_watches_the_programs_dir_and_ignores_the_default_folders() {
    let sb = Sandbox::new();
    fs::create_dir_all(sb.path("web/node_modules")).unwrap();
    fs::create_dir_all(sb.path("web/.git")).unwrap();
    fs::create_dir_all(sb.path("web/target")).unwrap();
    let text = config(&sb, "true").replace("[programs.web]\n", "[programs.web]\ndir = \"web\"\n");
    sb.write("tend.toml", &text);
    let app = sb.app("w");
    let (tend, mut guard) = up_watching(&sb, &app, ".");

    sb.write("web/node_modules/x.js", "x");
    sb.write("web/.git/index", "x");
    sb.write("web/target/app", "x");
    // Outside the program's dir: not watched.
    sb.write("elsewhere.txt", "x");
    sb.write("web/main.js", "x");
    let all = starts(&sb.wait_lines(&sb.path("starts"), 2));
    guard.add(&all.iter().map(|s| s.pid).collect::<Vec<_>>());
    let log = sb.wait_text(&app.tend_log(), "main.js changed; restarting");
    let restarts = lines_with(&log, "changed; restarting");
    assert_eq!(restarts.len(), 1, "{log}");
    assert!(restarts[0].ends_with("web: main.js changed; restarting"), "{log}");
    assert_eq!((all[1].reason.as_str(), all[1].count), ("file_change", 1));

    tend.signal(libc::SIGTERM);
    tend.wait().assert_code(0);
}

#[test]
fn a_program_that_is_done_is_not_started_by_a_change() {
    let sb = Sandbox::new();
    fs::create_dir_all(sb.path("src")).unwrap();
    let text = format!(
        "name = \"w\"\n[programs.once]\ncommand = [{bin}, \"starts\", {starts}, \"1\", \"0\"]\n\
         watch = {{ paths = [\"src\"], debounce = \"50ms\" }}\n\
         [programs.keep]\ncommand = [{bin}, \"sleep\", \"300\"]\n",
        bin = toml_str(&testbin_str()),
        starts = toml_str(&sb.path_str("starts")),
    );
    sb.write("tend.toml", &text);
    let app = sb.app("w");
    let tend = sb.spawn(&["up"]);
    sb.wait_text(&app.tend_log(), "once: done (exit code 0)");
    sb.wait_text(&app.tend_log(), "keep: started");
    sb.write("src/app.py", "x");
    let log = sb.wait_text(&app.tend_log(), "once: src/app.py changed; not restarting: it is done");
    assert_eq!(read(&sb.path("starts")), "start\n", "started once only");
    assert!(!log.contains("once: restarting"), "{log}");
    tend.signal(libc::SIGTERM);
    tend.wait().assert_code(0);
}

/// How many inotify watches process `pid` holds: the `inotify wd:` lines of the fdinfo of each
/// of its inotify descriptors.
#[cfg(target_os = "linux")]
fn inotify_watches(pid: u32) -> usize {
    let mut count = 0;
    for fd in fs::read_dir(format!("/proc/{pid}/fd")).unwrap().flatten() {
        if fs::read_link(fd.path()).is_ok_and(|link| link.as_os_str() == "anon_inode:inotify") {
            let info = format!("/proc/{pid}/fdinfo/{}", fd.file_name().to_string_lossy());
            let info = fs::read_to_string(info).unwrap_or_default();
            count += info.lines().filter(|line| line.starts_with("inotify wd:")).count();
        }
    }
    count
}

/// Waits until tend (`pid`) holds exactly `n` inotify watches: where the OS has them, the sign
/// that a new folder is watched, or that a gone one is no longer.
fn wait_watches(sb: &Sandbox, pid: u32, n: usize) {
    #[cfg(target_os = "linux")]
    sb.wait_for(&format!("tend to hold {n} inotify watches"), || {
        (inotify_watches(pid) == n).then_some(())
    });
    #[cfg(not(target_os = "linux"))]
    let _ = (sb, pid, n);
}

/// The number of inotify watches tend (`pid`) holds, where the OS shows them (0 elsewhere).
fn watches_now(pid: u32) -> usize {
    #[cfg(target_os = "linux")]
    return inotify_watches(pid);
    #[cfg(not(target_os = "linux"))]
    {
        let _ = pid;
        0
    }
}

#[test]
fn a_big_node_modules_costs_no_watches_and_restarts_nothing() {
    const PACKAGES: usize = 100;
    const FOLDERS_PER_PACKAGE: usize = 20; // the package, `lib`, and 18 below `lib`
    let sb = Sandbox::new();
    for package in 0..PACKAGES {
        for sub in 0..FOLDERS_PER_PACKAGE - 2 {
            fs::create_dir_all(sb.path(&format!("src/node_modules/p{package}/lib/s{sub}")))
                .unwrap();
        }
    }
    for dir in ["src/target/debug/deps", "src/.git/objects/ab", "src/lib/util"] {
        fs::create_dir_all(sb.path(dir)).unwrap();
    }
    sb.write("src/app.py", "v1\n");
    sb.write("tend.toml", &config(&sb, r#"{ paths = ["src"], debounce = "100ms" }"#));
    let app = sb.app("w");
    let (tend, mut guard) = up_watching(&sb, &app, "src");

    // src, src/lib, src/lib/util, and whatever tend watches for itself: nowhere near the
    // 2000 folders of node_modules.
    let watches = watches_now(tend.pid());
    eprintln!("tend holds {watches} inotify watches ({} folders in node_modules)", {
        PACKAGES * FOLDERS_PER_PACKAGE
    });
    assert!(watches < 20, "tend holds {watches} inotify watches");

    // Changes inside the ignored folders restart nothing: only the watched change that
    // follows them does.
    sb.write("src/node_modules/p7/lib/s3/index.js", "x");
    fs::create_dir(sb.path("src/node_modules/p7/lib/s3/new")).unwrap();
    sb.write("src/target/debug/deps/out", "x");
    sb.write("src/.git/objects/ab/cdef", "x");
    sb.write("src/lib/util/u.py", "x");
    let all = starts(&sb.wait_lines(&sb.path("starts"), 2));
    guard.add(&all.iter().map(|s| s.pid).collect::<Vec<_>>());
    let log = sb.wait_text(&app.tend_log(), "changed; restarting");
    let restarts = lines_with(&log, "changed; restarting");
    assert_eq!(restarts.len(), 1, "{log}");
    assert!(restarts[0].ends_with("web: src/lib/util/u.py changed; restarting"), "{log}");
    assert_eq!(watches_now(tend.pid()), watches, "no watch added inside node_modules");

    tend.signal(libc::SIGTERM);
    tend.wait().assert_code(0);
}

#[test]
fn a_folder_made_after_start_is_watched_and_forgotten_when_gone() {
    let sb = Sandbox::new();
    fs::create_dir_all(sb.path("src")).unwrap();
    sb.write("tend.toml", &config(&sb, r#"{ paths = ["src"], debounce = "100ms" }"#));
    let app = sb.app("w");
    let (tend, mut guard) = up_watching(&sb, &app, "src");
    let before = watches_now(tend.pid());

    // The folder's creation is a change; once it is watched, so is a file written in it.
    fs::create_dir(sb.path("src/new")).unwrap();
    let text = sb.wait_lines(&sb.path("starts"), 2);
    guard.add(&starts(&text).iter().map(|s| s.pid).collect::<Vec<_>>());
    sb.wait_text(&app.tend_log(), "web: src/new changed; restarting");
    wait_watches(&sb, tend.pid(), before + 1);
    sb.write("src/new/a.py", "x");
    let text = sb.wait_lines(&sb.path("starts"), 3);
    guard.add(&starts(&text).iter().map(|s| s.pid).collect::<Vec<_>>());
    sb.wait_text(&app.tend_log(), "web: src/new/a.py changed; restarting");

    // A removed folder's watch goes away with it; so does the watch of a folder moved out of
    // the watched tree (which the OS would keep).
    fs::remove_dir_all(sb.path("src/new")).unwrap();
    let text = sb.wait_lines(&sb.path("starts"), 4);
    guard.add(&starts(&text).iter().map(|s| s.pid).collect::<Vec<_>>());
    wait_watches(&sb, tend.pid(), before);
    fs::create_dir_all(sb.path("src/gone/deeper")).unwrap();
    let text = sb.wait_lines(&sb.path("starts"), 5);
    guard.add(&starts(&text).iter().map(|s| s.pid).collect::<Vec<_>>());
    wait_watches(&sb, tend.pid(), before + 2);
    fs::rename(sb.path("src/gone"), sb.path("gone")).unwrap();
    let text = sb.wait_lines(&sb.path("starts"), 6);
    guard.add(&starts(&text).iter().map(|s| s.pid).collect::<Vec<_>>());
    wait_watches(&sb, tend.pid(), before);
    // What happens in the moved-out folder is no longer a change: the next restart names the
    // watched file alone.
    sb.write("gone/deeper/x.py", "x");
    sb.write("src/b.py", "x");
    let text = sb.wait_lines(&sb.path("starts"), 7);
    guard.add(&starts(&text).iter().map(|s| s.pid).collect::<Vec<_>>());
    let log = sb.wait_text(&app.tend_log(), "web: src/b.py changed; restarting");
    assert!(!log.contains("deeper/x.py"), "{log}");
    assert_eq!(starts(&text).len(), 7, "{text}");

    tend.signal(libc::SIGTERM);
    tend.wait().assert_code(0);
}

#[test]
fn a_folder_moved_in_with_files_is_a_change_and_is_watched() {
    let sb = Sandbox::new();
    fs::create_dir_all(sb.path("src")).unwrap();
    // Made outside the watched tree, then moved in at once (as a checkout or an unpack can).
    fs::create_dir_all(sb.path("staging/pkg/sub")).unwrap();
    sb.write("staging/pkg/a.py", "x");
    sb.write("staging/pkg/sub/b.py", "x");
    fs::create_dir_all(sb.path("staging/pkg/node_modules/dep")).unwrap();
    sb.write("staging/pkg/node_modules/dep/index.js", "x");
    sb.write("tend.toml", &config(&sb, r#"{ paths = ["src"], debounce = "200ms" }"#));
    let app = sb.app("w");
    let (tend, mut guard) = up_watching(&sb, &app, "src");
    let before = watches_now(tend.pid());

    fs::rename(sb.path("staging/pkg"), sb.path("src/pkg")).unwrap();
    let text = sb.wait_lines(&sb.path("starts"), 2);
    guard.add(&starts(&text).iter().map(|s| s.pid).collect::<Vec<_>>());
    let log = sb.wait_text(&app.tend_log(), "changed; restarting");
    let restart = lines_with(&log, "changed; restarting");
    assert_eq!(restart.len(), 1, "{log}");
    // Where folders are watched one by one, the files found in the new folder count too.
    if cfg!(target_os = "linux") {
        assert!(restart[0].ends_with("web: src/pkg (+2 more) changed; restarting"), "{log}");
    }

    // pkg and pkg/sub are watched now, pkg/node_modules is not.
    wait_watches(&sb, tend.pid(), before + 2);
    sb.write("src/pkg/node_modules/dep/index.js", "y");
    sb.write("src/pkg/sub/c.py", "x");
    let text = sb.wait_lines(&sb.path("starts"), 3);
    guard.add(&starts(&text).iter().map(|s| s.pid).collect::<Vec<_>>());
    let log = sb.wait_text(&app.tend_log(), "web: src/pkg/sub/c.py changed; restarting");
    assert_eq!(lines_with(&log, "changed; restarting").len(), 2, "{log}");
    assert_eq!(
        starts(&text).iter().map(|s| (s.reason.as_str(), s.count)).collect::<Vec<_>>(),
        [("start", 0), ("file_change", 1), ("file_change", 2)]
    );

    tend.signal(libc::SIGTERM);
    tend.wait().assert_code(0);
}

#[test]
fn a_watched_file_alone_restarts_its_program() {
    let sb = Sandbox::new();
    sb.write("flaky.py", "v1\n");
    sb.write("tend.toml", &config(&sb, r#"{ paths = ["flaky.py"], debounce = "100ms" }"#));
    let app = sb.app("w");
    let (tend, mut guard) = up_watching(&sb, &app, "flaky.py");

    // Its neighbours are not watched: the one restart names the file.
    sb.write("other.py", "x");
    fs::write(sb.path("flaky.py"), "v2\n").unwrap();
    let all = starts(&sb.wait_lines(&sb.path("starts"), 2));
    guard.add(&all.iter().map(|s| s.pid).collect::<Vec<_>>());
    let log = sb.wait_text(&app.tend_log(), "changed; restarting");
    let restarts = lines_with(&log, "changed; restarting");
    assert_eq!(restarts.len(), 1, "{log}");
    assert!(restarts[0].ends_with("web: flaky.py changed; restarting"), "{log}");

    tend.signal(libc::SIGTERM);
    tend.wait().assert_code(0);
}
