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
fn invalid_utf8_is_replaced_and_output_goes_on() {
    let sb = Sandbox::new();
    let done = sb.run(&["run", "--name", "bytes", "--", &testbin_str(), "invalid-utf8"]);
    done.assert_code(0);
    let log = std::fs::read_to_string(sb.app("bytes").log("bytes")).unwrap();
    assert_eq!(log, "bad \u{fffd}\u{fffd} bytes\nok\n");
}
