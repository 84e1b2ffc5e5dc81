//! The command line itself: help for every command, usage errors (exit 2), and a program that
//! cannot be started (exit 1).
#![cfg(unix)]

mod common;

use common::*;

#[track_caller]
fn help_mentions(args: &[&str], wanted: &[&str]) {
    let sb = Sandbox::new();
    let done = sb.run(args);
    done.assert_code(0);
    for word in wanted {
        assert!(
            done.stdout.contains(word),
            "`tend {}` does not mention {word}:\n{}",
            args.join(" "),
            done.stdout
        );
    }
    assert!(!sb.home.exists(), "help must not create state");
}

#[test]
fn help_of_tend_lists_the_commands_and_global_options() {
    help_mentions(
        &["--help"],
        &[
            "Usage: tend",
            "up",
            "run",
            "reap",
            "--home",
            "--file",
            "--color",
            "--quiet",
            "--verbose",
        ],
    );
    help_mentions(&["help"], &["Usage: tend", "up", "run", "reap"]);
}

#[test]
fn help_of_run_lists_its_options() {
    help_mentions(
        &["run", "--help"],
        &[
            "Usage: tend run",
            "--name",
            "--restart <POLICY>",
            "--restart-exit-code",
            "--backoff-initial",
            "--backoff-max",
            "--stop-timeout",
            "Exit code",
        ],
    );
    help_mentions(&["help", "run"], &["--restart-exit-code"]);
}

#[test]
fn help_of_up_lists_its_options() {
    help_mentions(&["up", "--help"], &["Usage: tend up", "--file", "Exit code"]);
}

#[test]
fn help_of_reap_lists_its_options() {
    help_mentions(&["reap", "--help"], &["Usage: tend reap", "--name", "TEND_RUN_ID"]);
}

#[test]
fn version_is_printed() {
    let sb = Sandbox::new();
    let done = sb.run(&["--version"]);
    done.assert_code(0);
    assert!(done.stdout.starts_with("tend "), "{}", done.stdout);
}

#[track_caller]
fn usage_error(args: &[&str], wanted: &str) {
    let sb = Sandbox::new();
    let done = sb.run(args);
    done.assert_code(2);
    assert!(
        done.stderr.contains(wanted),
        "`tend {}`: {wanted:?} not in:\n{}",
        args.join(" "),
        done.stderr
    );
    assert!(!sb.home.exists(), "a usage error must not create state");
}

#[test]
fn usage_errors_exit_2() {
    usage_error(&["--bogus"], "unexpected argument '--bogus'");
    usage_error(&[], "Usage: tend");
    usage_error(&["launch"], "unrecognized subcommand 'launch'");
    usage_error(&["run", "--backoff-initial", "1x", "--", "true"], "expected a number and a unit");
    usage_error(&["run", "--restart", "sometimes", "--", "true"], "invalid value 'sometimes'");
    usage_error(&["run", "--restart-exit-code", "many", "--", "true"], "invalid value 'many'");
    usage_error(&["--color", "sometimes", "reap"], "invalid value 'sometimes'");
}

#[test]
fn run_without_a_command_exits_2() {
    usage_error(&["run"], "<CMD>");
    usage_error(&["run", "--"], "<CMD>");
    usage_error(&["run", "--name", "x"], "<CMD>");
}

#[test]
fn run_of_a_missing_program_exits_1_and_says_so() {
    let sb = Sandbox::new();
    let done = sb.run(&["run", "--name", "ghost", "--", "./no-such-program-here"]);
    done.assert_code(1);
    assert!(done.stderr.contains("ghost: cannot start: "), "{}", done.stderr);
    assert!(done.stderr.contains("no-such-program-here"), "{}", done.stderr);
    assert!(done.stderr.contains("ghost: fatal: it cannot be started"), "{}", done.stderr);
    let log = sb.app("ghost").read_tend_log();
    assert!(log.contains("ghost: cannot start: "), "{log}");
}

#[test]
fn run_names_the_app_after_the_command() {
    let sb = Sandbox::new();
    let done = sb.run(&["run", "--", &testbin_str(), "exit", "0"]);
    done.assert_code(0);
    let log = sb.app("tend-testbin").read_tend_log();
    assert!(log.contains("tend-testbin: done (exit code 0)"), "{log}");
    assert!(done.stderr.contains("tend-testbin: started (pid "), "{}", done.stderr);
}

#[test]
fn home_flag_overrides_tend_home() {
    let sb = Sandbox::new();
    let other = sb.path("other-home");
    let done =
        sb.run(&["--home", other.to_str().unwrap(), "run", "--name", "elsewhere", "--", "true"]);
    done.assert_code(0);
    assert!(other.join("apps/elsewhere/logs/tend.log").exists());
    assert!(!sb.home.exists(), "TEND_HOME must not be used when --home is given");
}

#[test]
fn reap_with_nothing_to_do_succeeds() {
    let sb = Sandbox::new();
    let done = sb.run(&["reap"]);
    done.assert_code(0);
    assert!(done.stdout.contains("reaped 0 process(es) in 0 app(s)"), "{}", done.stdout);
}

#[test]
fn tend_run_names_interpreted_scripts_after_the_script() {
    let sb = Sandbox::new();
    let mut tends = Vec::new();
    for name in ["alpha", "beta"] {
        let pid = sb.path_str(&format!("{name}.pid"));
        sb.write(
            &format!("{name}.sh"),
            &format!("echo $$ > {}; exec {} sleep 300\n", sh_quote(&pid), sh_quote(&testbin_str())),
        );
        tends.push(sb.spawn(&["run", "--", "sh", &format!("{name}.sh")]));
    }
    let pids: Vec<u32> = ["alpha", "beta"]
        .iter()
        .map(|n| pids_of(&sb.wait_lines(&sb.path(&format!("{n}.pid")), 1))[0])
        .collect();
    let _guard = KillOnDrop::new(&pids);
    for name in ["alpha", "beta"] {
        let status = sb.run(&["status", "--name", name]);
        status.assert_code(0);
    }
    for tend in tends {
        tend.signal(libc::SIGTERM);
        tend.wait().assert_code(0);
    }
    // Inline code has no name to take: say so.
    let inline = sb.run(&["run", "--", "sh", "-c", "sleep 1"]);
    inline.assert_code(1);
    assert!(inline.stderr.contains("--name"), "{}", inline.stderr);
}
