//! Program output: on tend's stdout as `name | line`, and in `logs/<program>.log` as plain
//! lines, whole however long, including a last line without newline.
#![cfg(unix)]

mod common;

use common::*;

#[test]
fn a_1mib_line_and_an_unterminated_last_line_reach_the_log_intact() {
    let sb = Sandbox::new();
    let mib = 1024 * 1024;
    let done =
        sb.run(&["run", "--name", "big", "--", &testbin_str(), "big-line", &mib.to_string()]);
    done.assert_code(0);
    let log = std::fs::read(sb.app("big").log("big")).unwrap();
    let lines: Vec<&[u8]> = log.split(|&b| b == b'\n').collect();
    // Three lines, each ended by a newline in the log (hence the empty piece after the last).
    assert_eq!(
        lines.iter().map(|l| l.len()).collect::<Vec<_>>(),
        [mib, 5, 4, 0],
        "line lengths of the log"
    );
    assert!(lines[0].iter().all(|&b| b == b'x'));
    assert_eq!(lines[1], b"after");
    assert_eq!(lines[2], b"last");
    // The terminal gets the same lines, prefixed.
    assert!(
        done.stdout.contains("big | after\nbig | last\n"),
        "{:?}",
        &done.stdout[done.stdout.len().saturating_sub(100)..]
    );
    let long = done.stdout.lines().next().unwrap();
    assert_eq!(long.len(), "big | ".len() + mib);
}

#[test]
fn stdout_and_stderr_go_to_the_terminal_with_a_prefix_and_to_the_program_log() {
    let sb = Sandbox::new();
    let done = sb.run(&[
        "run",
        "--name",
        "talker",
        "--",
        "sh",
        "-c",
        "echo to-stdout; echo to-stderr >&2",
    ]);
    done.assert_code(0);
    assert!(done.stdout.contains("talker | to-stdout\n"), "{}", done.stdout);
    assert!(done.stdout.contains("talker | to-stderr\n"), "{}", done.stdout);
    let log = std::fs::read_to_string(sb.app("talker").log("talker")).unwrap();
    let mut lines: Vec<&str> = log.lines().collect();
    lines.sort_unstable();
    assert_eq!(lines, ["to-stderr", "to-stdout"], "plain lines, no prefix: {log:?}");
    // tend's own events go to stderr and tend.log, not to stdout.
    assert!(done.stderr.contains("talker: started (pid "), "{}", done.stderr);
    assert!(!done.stdout.contains("started (pid"), "{}", done.stdout);
    assert!(sb.app("talker").read_tend_log().contains("talker: done (exit code 0)"));
}

#[test]
fn programs_of_an_app_are_told_apart_by_their_prefix() {
    let sb = Sandbox::new();
    sb.write(
        "tend.toml",
        r#"name = "duo"

[programs.a]
command = ["sh", "-c", "echo from-a"]

[programs.longer]
command = ["sh", "-c", "echo from-longer"]
"#,
    );
    let done = sb.run(&["up"]);
    done.assert_code(0);
    // Prefixes are padded to the longest name.
    assert!(done.stdout.contains("a      | from-a\n"), "{}", done.stdout);
    assert!(done.stdout.contains("longer | from-longer\n"), "{}", done.stdout);
    let app = sb.app("duo");
    assert_eq!(std::fs::read_to_string(app.log("a")).unwrap(), "from-a\n");
    assert_eq!(std::fs::read_to_string(app.log("longer")).unwrap(), "from-longer\n");
}

#[test]
fn quiet_keeps_program_output_off_the_terminal_but_in_the_log() {
    let sb = Sandbox::new();
    let done = sb.run(&["-q", "run", "--name", "hush", "--", "sh", "-c", "echo secret-ish"]);
    done.assert_code(0);
    assert!(!done.stdout.contains("secret-ish"), "{}", done.stdout);
    assert!(!done.stderr.contains("started"), "-q hides info events: {}", done.stderr);
    assert_eq!(std::fs::read_to_string(sb.app("hush").log("hush")).unwrap(), "secret-ish\n");
}

#[test]
fn invalid_utf8_is_kept_byte_for_byte_in_the_log_and_replaced_on_the_terminal() {
    let sb = Sandbox::new();
    let done = sb.run(&["run", "--name", "bytes", "--", &testbin_str(), "invalid-utf8"]);
    done.assert_code(0);
    let log = std::fs::read(sb.app("bytes").log("bytes")).unwrap();
    assert_eq!(log, b"bad \xff\xfe bytes\nok\n", "{:?}", String::from_utf8_lossy(&log));
    assert!(done.stdout.contains("bytes | bad \u{fffd}\u{fffd} bytes\n"), "{}", done.stdout);
    assert!(done.stdout.contains("bytes | ok\n"), "{}", done.stdout);
    // `tend logs` prints text: replaced there too, the file untouched.
    let logs = sb.run(&["logs", "--name", "bytes"]);
    logs.assert_code(0);
    assert_eq!(logs.stdout, "bad \u{fffd}\u{fffd} bytes\nok\n");
}

#[test]
fn tend_logs_prints_colours_but_no_other_terminal_control_and_the_file_keeps_them() {
    let sb = Sandbox::new();
    // Colour, a screen clear, a window title, a carriage return, a bell and a cursor move.
    let script =
        r"printf '\033[31mred\033[0m \033[2Jclear \033]0;title\007x\rcr\007 \033[5;5Hend\n'";
    let done = sb.run(&["run", "--name", "esc", "--", "sh", "-c", script]);
    done.assert_code(0);
    let raw = b"\x1b[31mred\x1b[0m \x1b[2Jclear \x1b]0;title\x07x\rcr\x07 \x1b[5;5Hend\n";
    assert_eq!(std::fs::read(sb.app("esc").log("esc")).unwrap(), raw, "the file keeps every byte");
    for args in [&["logs", "--name", "esc"][..], &["logs", "--name", "esc", "esc"]] {
        let logs = sb.run(args);
        logs.assert_code(0);
        assert_eq!(logs.stdout, "\x1b[31mred\x1b[0m clear xcr end\n", "{args:?}");
    }
}

#[test]
fn quiet_thins_the_terminal_only_and_tend_log_keeps_every_info_event() {
    let sb = Sandbox::new();
    let done = sb.run(&["-q", "run", "--name", "hushlog", "--", "sh", "-c", "exit 0"]);
    done.assert_code(0);
    assert!(!done.stderr.contains("started"), "-q hides info events: {}", done.stderr);
    let log = sb.app("hushlog").read_tend_log();
    assert!(log.contains("INFO hushlog: started (pid"), "{log}");
    assert!(log.contains("startup kind"), "{log}");
}

#[test]
fn a_fifo_where_a_log_file_belongs_is_refused_instead_of_hanging_tend() {
    use std::os::unix::fs::PermissionsExt as _;
    let sb = Sandbox::new();
    let app = sb.app("fifo");
    let logs = app.dir.join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    for dir in [&sb.home, &sb.home.join("apps"), &app.dir, &logs] {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    let fifo = logs.join("web.log");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
    let pidfile = sb.path("pid");
    sb.write(
        "tend.toml",
        &format!(
            "name = \"fifo\"\n[programs.web]\ncommand = [\"sh\", \"-c\", {}]\n",
            toml_str(&format!("echo $$ > {}; exec sleep 300", sh_quote(&text(&pidfile))))
        ),
    );
    // Opening a FIFO for writing with no reader would block tend for ever.
    let tend = sb.spawn(&["up"]);
    let pid = pids_of(&sb.wait_lines(&pidfile, 1))[0];
    let _guard = KillOnDrop::new(&[pid]);
    let log = sb.wait_text(&app.tend_log(), "web: started (pid ");
    assert!(log.contains("web.log is a FIFO, not a log file; remove it"), "{log}");
    tend.signal(libc::SIGTERM);
    tend.wait().assert_code(0);
}

#[test]
fn tend_logs_follow_prints_new_lines_as_they_are_written() {
    let sb = Sandbox::new();
    let go = sb.path("go");
    let pidfile = sb.path("pid");
    let script = format!(
        "echo $$ > {pid}; echo one; while [ ! -e {go} ]; do sleep 0.05; done; echo two; exec sleep 300",
        pid = sh_quote(&text(&pidfile)),
        go = sh_quote(&text(&go)),
    );
    sb.write(
        "tend.toml",
        &format!(
            "name = \"follow\"\n[programs.web]\ncommand = [\"sh\", \"-c\", {}]\n",
            toml_str(&script)
        ),
    );
    let tend = sb.spawn(&["up"]);
    let pid = pids_of(&sb.wait_lines(&pidfile, 1))[0];
    let _guard = KillOnDrop::new(&[pid]);
    sb.wait_text(&sb.app("follow").log("web"), "one");
    let follow = sb.spawn(&["logs", "web", "-F"]);
    sb.wait_text(follow.stdout_path(), "one");
    sb.write("go", "");
    let printed = sb.wait_text(follow.stdout_path(), "two");
    assert_eq!(printed, "one\ntwo\n");
    follow.signal(libc::SIGTERM);
    follow.wait();
    tend.signal(libc::SIGTERM);
    tend.wait().assert_code(0);
}
