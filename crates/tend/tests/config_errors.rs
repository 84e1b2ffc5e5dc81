//! A bad `tend.toml` stops `tend up` with exit 1 and one message naming the file, the line and
//! column, the key, and what was expected; nothing is started and no state is written.
#![cfg(unix)]

mod common;

use common::*;

/// Runs `tend up` on `config` and checks exit 1 and that stderr holds `expected` (one line).
#[track_caller]
fn rejects(config: &str, expected: &str) {
    let sb = Sandbox::new();
    sb.write("tend.toml", config);
    let done = sb.run(&["up"]);
    done.assert_code(1);
    assert!(
        done.stderr.contains(&format!("tend: error: {expected}\n")),
        "expected {expected:?} in stderr:\n{}",
        done.stderr
    );
    assert_eq!(done.stderr.lines().count(), 1, "one message: {}", done.stderr);
    assert!(done.stdout.is_empty(), "{}", done.stdout);
    assert!(!sb.home.exists(), "a bad config must not create any state");
}

#[test]
fn unknown_key() {
    rejects(
        r#"name = "demo"

[programs.web]
command = ["sleep", "1"]
restrat = "always"
"#,
        "tend.toml:5:1: unknown key `restrat` in [programs.web]; expected one of: command, dir, \
         env, env_files, runner, restart, restart_exit_code, backoff, max_restarts, stop, watch, log",
    );
}

#[test]
fn unknown_nested_key() {
    rejects(
        r#"name = "demo"

[programs.web]
command = "sleep 1"
backoff = { initial = "1s", maximum = "1m" }
"#,
        "tend.toml:5:29: unknown key `maximum` in [programs.web.backoff]; expected one of: \
         initial, max, factor, reset_after",
    );
}

#[test]
fn bad_duration() {
    rejects(
        r#"name = "demo"

[programs.web]
command = "sleep 1"
backoff = { initial = "1x" }
"#,
        r#"tend.toml:5:23: programs.web.backoff.initial: invalid duration "1x"; expected a number and a unit, like 500ms, 10s or 2m"#,
    );
}

#[test]
fn empty_command_array() {
    rejects(
        r#"name = "demo"

[programs.web]
command = []
"#,
        r#"tend.toml:4:11: programs.web.command: empty command; expected a string like "python3 app.py" or an array like ["python3", "app.py"]"#,
    );
}

#[test]
fn empty_command_string() {
    rejects(
        r#"name = "demo"

[programs.web]
dir = "."
command = "   "
"#,
        r#"tend.toml:5:11: programs.web.command: empty command; expected a string like "python3 app.py" or an array like ["python3", "app.py"]"#,
    );
}

#[test]
fn missing_command() {
    rejects(
        r#"name = "demo"

[programs.web]
dir = "."
"#,
        r#"tend.toml:3:11: programs.web: missing key `command`; expected the program to run, like command = "python3 app.py""#,
    );
}

#[test]
fn unknown_runner() {
    rejects(
        r#"name = "demo"

[programs.web]
command = "sleep 1"
runner = "podman"
"#,
        r#"tend.toml:5:10: programs.web.runner: unknown runner "podman"; expected one of: native, docker, nix, auto"#,
    );
}

#[test]
fn unknown_restart_policy() {
    rejects(
        r#"name = "demo"

[programs.web]
command = "sleep 1"
restart = "sometimes"
"#,
        r#"tend.toml:5:11: programs.web.restart: unknown restart policy "sometimes"; expected one of: always, on-failure, never"#,
    );
}

#[test]
fn invalid_toml() {
    rejects(
        r#"name = "demo"

[programs.web]
command = "sleep 1
"#,
        "tend.toml:4:19: invalid TOML: invalid basic string; expected `\"`",
    );
}

#[test]
fn a_nix_flake_that_is_not_there() {
    let sb = Sandbox::new();
    sb.write(
        "tend.toml",
        "name = \"demo\"\n[nix]\nflake = \"shell\"\n[programs.web]\ncommand = \"sleep 1\"\nrunner = \"nix\"\n",
    );
    let done = sb.run(&["up"]);
    done.assert_code(1);
    let expected = format!(
        "tend: error: tend.toml:3:9: nix.flake: {} does not exist; expected the folder holding \
         flake.nix, relative to tend.toml, like flake = \".\" or flake = \"nix\"\n",
        sb.path("shell").display()
    );
    assert_eq!(done.stderr, expected);
}

#[test]
fn a_docker_program_needs_a_docker_table() {
    rejects(
        r#"name = "demo"

[programs.web]
command = "sleep 1"
runner = "docker"
"#,
        r#"program `web` has runner = "docker", but there is no [docker] table; add one, like [docker] with image = "debian:bookworm-slim" (or build = { base = "…" }), or use runner = "native""#,
    );
}

#[test]
fn missing_default_file() {
    let sb = Sandbox::new();
    let done = sb.run(&["up"]);
    done.assert_code(1);
    assert!(
        done.stderr.contains("tend: error: cannot read tend.toml: ")
            && done.stderr.contains("; create one or pass -f FILE"),
        "{}",
        done.stderr
    );
    assert!(!sb.home.exists());
}

#[test]
fn missing_file_given_with_f() {
    let sb = Sandbox::new();
    let done = sb.run(&["up", "-f", "nowhere/app.toml"]);
    done.assert_code(1);
    assert!(
        done.stderr.contains("tend: error: cannot read nowhere/app.toml: ")
            && done.stderr.contains("create one or pass -f FILE"),
        "{}",
        done.stderr
    );
}

#[test]
fn the_message_names_the_file_as_given_with_f() {
    let sb = Sandbox::new();
    std::fs::create_dir_all(sb.path("conf")).unwrap();
    sb.write(
        "conf/app.toml",
        "name = \"demo\"\n\n[programs.web]\ncommand = \"sleep 1\"\nstop = { timeout = \"soon\" }\n",
    );
    let done = sb.run(&["up", "-f", "conf/app.toml"]);
    done.assert_code(1);
    assert!(
        done.stderr.contains(
            r#"conf/app.toml:5:20: programs.web.stop.timeout: invalid duration "soon"; expected a number and a unit"#
        ),
        "{}",
        done.stderr
    );
}

#[test]
fn a_dir_that_is_a_file_is_not_a_folder() {
    let sb = Sandbox::new();
    sb.write("a-file", "");
    sb.write(
        "tend.toml",
        &format!(
            "name = \"demo\"\n[programs.p]\ncommand = [{}, \"sleep\", \"300\"]\ndir = \"a-file\"\n",
            toml_str(&testbin_str())
        ),
    );
    let done = sb.run(&["up", "-d"]);
    done.assert_code(1);
    assert!(done.stderr.contains("a-file is not a folder"), "{}", done.stderr);
    assert!(!done.stderr.contains("does not exist"), "{}", done.stderr);
}
