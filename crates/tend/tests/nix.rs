//! Nix programs through the CLI, against the real nix, offline (each sandbox gets its own flake,
//! registry and nix config: `common/nixlab.rs`): the dev shell reaches the program and `tend
//! env`, the cache across restarts of tend, an edited flake, the wrapped fallback, `runner =
//! "auto"`, `tend prepare`. Without nix every test is skipped with the reason printed, unless
//! `TEND_REQUIRE_NIX=1`, which makes it a failure.
#![cfg(unix)]
#![allow(clippy::unwrap_used)]

mod common;

use common::nixlab::NixLab;
use common::*;

/// A sandbox with nix, its app folder's flake setting `FOO=value`; `None` without nix.
fn with_nix(value: &str) -> Option<(Sandbox, NixLab)> {
    let sb = Sandbox::new();
    let lab = NixLab::new(&sb)?;
    lab.write_flake(&sb.cwd, value);
    Some((sb, lab))
}

fn status_json(sb: &Sandbox) -> serde_json::Value {
    let status = sb.run(&["status", "--json"]);
    status.assert_code(0);
    serde_json::from_str(&status.stdout).unwrap()
}

#[test]
fn a_dev_shell_variable_and_tool_reach_the_program_and_tend_env_shows_them() {
    let Some((sb, lab)) = with_nix("hello") else { return };
    let script = "echo \"FOO=$FOO\"; tend-nix-tool; echo \"PATH=$PATH\"";
    sb.write(
        "tend.toml",
        &format!(
            "name = \"shell\"\n[programs.p]\ncommand = [\"sh\", \"-c\", {}]\nrunner = \"nix\"\n\
             restart = \"never\"\nenv = {{ MINE = \"config\" }}\n",
            toml_str(script)
        ),
    );
    sb.run(&["up"]).assert_code(0);
    let log = read(&sb.app("shell").log("p"));
    assert!(log.contains("FOO=hello\n") && log.contains("tool-ok\n"), "{log}");
    let path = log.lines().find_map(|l| l.strip_prefix("PATH=")).unwrap();
    let outer = std::env::var("PATH").unwrap();
    assert!(path.starts_with("/nix/store/") && path.ends_with(&outer), "merged: {path}");

    let env = sb.run(&["env", "p"]);
    env.assert_code(0);
    let shown = &env.stdout;
    let note = format!("# runs in the dev shell of {} (materialised)", sb.cwd.display());
    assert!(shown.contains(&note), "{shown}");
    let foo = shown.lines().find(|l| l.starts_with("FOO=")).unwrap();
    assert!(foo.starts_with("FOO=hello ") && foo.ends_with("# nix dev shell"), "{foo}");
    let shown_path = shown.lines().find(|l| l.starts_with("PATH=")).unwrap();
    assert!(shown_path.starts_with("PATH=/nix/store/"), "{shown_path}");
    assert!(shown.lines().any(|l| l.starts_with("MINE=config ")), "{shown}");
    assert_eq!(lab.evaluations(), 1, "tend env used the cache");
}

#[test]
fn a_restart_of_tend_hits_the_cache_and_nix_does_not_run() {
    let Some((sb, lab)) = with_nix("cached") else { return };
    sb.write(
        "tend.toml",
        "name = \"cache\"\n[programs.p]\ncommand = [\"sh\", \"-c\", \"echo $FOO\"]\n\
         runner = \"nix\"\nrestart = \"never\"\n",
    );
    sb.run(&["up"]).assert_code(0);
    assert_eq!(lab.evaluations(), 1);
    sb.run(&["up"]).assert_code(0);
    assert_eq!(lab.evaluations(), 1, "the second tend used the cache");
    let log = read(&sb.app("cache").log("p"));
    assert_eq!(log.matches("cached\n").count(), 2, "{log}");
    assert!(sb.home.join("cache/nix").is_dir());
}

#[test]
fn an_edited_flake_applies_at_the_next_start_at_once_with_watch() {
    let Some((sb, lab)) = with_nix("one") else { return };
    std::fs::create_dir(sb.path("src")).unwrap();
    let program = |name: &str, watch: &str| {
        let script = format!("echo \"$FOO\" >> \"$TEND_STATE_DIR/seen-{name}\"; exec sleep 1000");
        format!(
            "[programs.{name}]\ncommand = [\"sh\", \"-c\", {}]\nrunner = \"nix\"\n{watch}",
            toml_str(&script)
        )
    };
    sb.write(
        "tend.toml",
        &format!(
            "name = \"edit\"\n{}{}",
            program("w", "watch = { paths = [\"src\"] }\n"),
            program("n", "")
        ),
    );
    let tend = sb.spawn(&["up"]);
    let state = sb.app("edit");
    assert_eq!(sb.wait_lines(&state.dir.join("seen-w"), 1), "one\n");
    assert_eq!(sb.wait_lines(&state.dir.join("seen-n"), 1), "one\n");
    lab.write_flake(&sb.cwd, "two");
    // With watch: restarted at once, in the new shell.
    assert_eq!(sb.wait_lines(&state.dir.join("seen-w"), 2), "one\ntwo\n");
    // Without: the next start gets it.
    sb.run(&["restart", "n"]).assert_code(0);
    assert_eq!(sb.wait_lines(&state.dir.join("seen-n"), 2), "one\ntwo\n");
    assert_eq!(lab.evaluations(), 2, "one evaluation per version of the flake");
    let log = state.read_tend_log();
    assert!(log.contains("flake.nix changed in"), "{log}");
    assert!(log.contains("w: its flake changed; restarting"), "{log}");
    tend.signal(libc::SIGTERM);
    tend.wait().assert_code(0);
}

#[test]
fn the_wrapped_fallback_is_logged_and_shown_by_status() {
    let Some((sb, lab)) = with_nix("wrapped-value") else { return };
    lab.refuse_to_materialise();
    sb.write(
        "tend.toml",
        "name = \"wrap\"\n[programs.p]\n\
         command = [\"sh\", \"-c\", \"echo $FOO > \\\"$TEND_STATE_DIR/foo\\\"; exec sleep 1000\"]\n\
         runner = \"nix\"\n",
    );
    let tend = sb.spawn(&["up"]);
    let state = sb.app("wrap");
    assert_eq!(sb.wait_lines(&state.dir.join("foo"), 1), "wrapped-value\n");
    let json = status_json(&sb);
    let p = &json["programs"][0];
    assert_eq!(p["runner"], "nix", "{json}");
    assert_eq!(p["mode"], "wrapped", "{json}");
    assert!(p["fallback"].as_str().unwrap().contains("print-dev-env refused"), "{json}");
    let table = sb.run(&["status"]).stdout;
    assert!(
        table.contains("(wrapped)")
            && table.contains("p: wrapped: each start goes through `nix develop`"),
        "{table}"
    );
    assert!(state.read_tend_log().contains("could not materialise it"));
    tend.signal(libc::SIGTERM);
    tend.wait().assert_code(0);
}

#[test]
fn auto_chooses_nix_where_a_flake_is_and_native_elsewhere_and_says_why() {
    let sb = Sandbox::new();
    let Some(lab) = NixLab::new(&sb) else { return };
    lab.write_flake(&sb.path("api"), "api-shell");
    std::fs::create_dir(sb.path("plain")).unwrap();
    let program = |name: &str| {
        format!(
            "[programs.{name}]\ndir = \"{name}\"\nrunner = \"auto\"\n\
             command = [\"sh\", \"-c\", \"echo \\\"$FOO\\\" > \\\"$TEND_STATE_DIR/{name}\\\"; exec sleep 1000\"]\n"
        )
    };
    sb.write("tend.toml", &format!("name = \"auto\"\n{}{}", program("api"), program("plain")));
    let tend = sb.spawn(&["up"]);
    let state = sb.app("auto");
    assert_eq!(sb.wait_lines(&state.dir.join("api"), 1), "api-shell\n");
    assert_eq!(sb.wait_lines(&state.dir.join("plain"), 1), "\n");
    let json = status_json(&sb);
    let (api, plain) = (&json["programs"][0], &json["programs"][1]);
    assert_eq!(api["runner"], "nix", "{json}");
    assert!(api["auto"].as_str().unwrap().starts_with("nix: the program's folder has"), "{json}");
    assert_eq!(plain["runner"], "native", "{json}");
    assert!(plain["auto"].as_str().unwrap().starts_with("native: no flake.nix"), "{json}");
    let table = sb.run(&["status"]).stdout;
    assert!(table.contains("api: runner = \"auto\" chose nix: "), "{table}");
    let log = state.read_tend_log();
    assert_eq!(log.matches("api: runner = \"auto\" chose nix").count(), 1, "{log}");
    let env = sb.run(&["env", "api"]).stdout;
    assert!(env.starts_with("# runner = \"auto\" chose nix: the program's folder has"), "{env}");
    tend.signal(libc::SIGTERM);
    tend.wait().assert_code(0);
}

#[test]
fn prepare_evaluates_ahead_of_time_and_refresh_evaluates_again() {
    let Some((sb, lab)) = with_nix("prepared") else { return };
    sb.write(
        "tend.toml",
        "name = \"prep\"\n[programs.p]\ncommand = [\"sh\", \"-c\", \"echo $FOO\"]\n\
         runner = \"nix\"\nrestart = \"never\"\n",
    );
    let ready = format!("dev shell of {}: ready (materialised, ", sb.cwd.display());
    let first = sb.run(&["prepare"]);
    first.assert_code(0);
    assert!(first.stdout.contains(&format!("{ready}evaluated in ")), "{}", first.stdout);
    assert!(first.stderr.contains("preparing"), "plain lines without a terminal: {}", first.stderr);
    let again = sb.run(&["prepare"]);
    again.assert_code(0);
    assert!(again.stdout.contains(&format!("{ready}from the cache)")), "{}", again.stdout);
    assert_eq!(lab.evaluations(), 1);
    let refreshed = sb.run(&["prepare", "--refresh"]);
    refreshed.assert_code(0);
    assert!(refreshed.stdout.contains(&format!("{ready}evaluated in ")), "{}", refreshed.stdout);
    assert_eq!(lab.evaluations(), 2);
    sb.run(&["up"]).assert_code(0);
    assert_eq!(lab.evaluations(), 2, "tend up used what prepare made");

    // A broken flake: exit 1 with nix's own words.
    std::fs::write(sb.path("flake.nix"), "{ outputs = { self }: { ; }").unwrap();
    let broken = sb.run(&["prepare"]);
    broken.assert_code(1);
    assert!(broken.stderr.contains("nix's last lines"), "{}", broken.stderr);
    assert!(broken.stderr.contains("syntax error"), "{}", broken.stderr);
}
