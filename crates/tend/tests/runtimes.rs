//! The same program specs, natively, in Docker and in a Nix dev shell: each case is written
//! once and run in every runtime this machine has. Docker needs a daemon and a static busybox
//! (the image is built here `FROM scratch`; nothing is pulled): without them the Docker runs are
//! skipped with the reason printed, unless `TEND_REQUIRE_DOCKER=1`, which makes that a failure.
//! Nix needs nix installed (each sandbox gets its own offline flake, registry and config, see
//! `common/nixlab.rs`): without it the Nix runs are skipped, unless `TEND_REQUIRE_NIX=1`.
//!
//! The programs are POSIX shell scripts that work alike on the host and in busybox, and keep
//! what they see in `$TEND_STATE_DIR` (the app's state folder; `/tend/state` in the container,
//! the same folder on the host).
#![cfg(unix)]
#![allow(clippy::expect_used)]

mod common;

use std::sync::OnceLock;

use common::*;

/// The image every Docker case runs in.
const IMAGE: &str = "tend-cli-test-busybox:1";

/// Where a case runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Runtime {
    Native,
    Docker,
    Nix,
}

impl Runtime {
    /// The runtimes of this machine: native always, Docker when it can be used here.
    fn available() -> Vec<Runtime> {
        let mut runtimes = vec![Runtime::Native];
        match docker_ready() {
            Ok(()) => runtimes.push(Runtime::Docker),
            Err(reason) => {
                assert!(
                    std::env::var("TEND_REQUIRE_DOCKER").as_deref() != Ok("1"),
                    "TEND_REQUIRE_DOCKER=1 but {reason}"
                );
                eprintln!("docker runs skipped: {reason}");
            }
        }
        if common::nixlab::real_nix().is_some() {
            runtimes.push(Runtime::Nix);
        }
        runtimes
    }

    /// A sandbox for a case in this runtime: for Nix, with nix set up and a flake in the app's
    /// folder (its dev shell sets `FOO=from-the-shell`).
    fn sandbox(self) -> Sandbox {
        let sb = Sandbox::new();
        if self == Runtime::Nix {
            let lab = common::nixlab::NixLab::new(&sb).expect("nix is installed");
            lab.write_flake(&sb.cwd, "from-the-shell");
        }
        sb
    }

    /// `tend.toml` for app `name` with `programs` (TOML tables without a `runner` key), each
    /// given this runtime.
    fn config(self, name: &str, programs: &str) -> String {
        match self {
            Runtime::Native => format!("name = \"{name}\"\n\n{programs}"),
            Runtime::Docker => {
                let programs = programs.replace("command =", "runner = \"docker\"\ncommand =");
                format!("name = \"{name}\"\n\n[docker]\nimage = \"{IMAGE}\"\n\n{programs}")
            }
            Runtime::Nix => {
                let programs = programs.replace("command =", "runner = \"nix\"\ncommand =");
                format!("name = \"{name}\"\n\n{programs}")
            }
        }
    }

    /// An app name for `case` that no other test (in this or another process) uses: Docker
    /// containers are named after it.
    fn app(self, case: &str) -> String {
        format!("{case}-{self:?}-{}", std::process::id()).to_lowercase()
    }
}

/// Whether Docker can run the cases: a daemon answers, busybox is here, and the image is
/// built (once per process).
fn docker_ready() -> Result<(), String> {
    static READY: OnceLock<Result<(), String>> = OnceLock::new();
    READY
        .get_or_init(|| {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime.block_on(common::busybox::ensure(IMAGE))
        })
        .clone()
}

/// Every process's command line, one per line, as the program sees them (the host's, or the
/// container's): a shell snippet that works on both.
const PROCESSES: &str =
    r#"for p in /proc/[0-9]*; do tr '\0' ' ' < "$p/cmdline" 2>/dev/null; echo; done"#;

/// Whether the process list `seen` (see [`PROCESSES`]) has a process whose command line is
/// exactly `command` (a shell whose script mentions it does not count).
fn runs(seen: &str, command: &str) -> bool {
    seen.lines().any(|line| line.trim_end() == command)
}

/// Runs `case` in every available runtime.
fn in_every_runtime(case: impl Fn(Runtime)) {
    for runtime in Runtime::available() {
        eprintln!("-- {runtime:?}");
        case(runtime);
    }
}

#[test]
fn output_lines_reach_the_log_and_the_terminal() {
    in_every_runtime(|rt| {
        let sb = rt.sandbox();
        let app = rt.app("output");
        let script = "echo out-line; echo err-line >&2; printf 'no newline'";
        sb.write(
            "tend.toml",
            &rt.config(
                &app,
                &format!(
                    "[programs.talk]\ncommand = [\"sh\", \"-c\", {}]\nrestart = \"never\"\n",
                    toml_str(script)
                ),
            ),
        );
        let done = sb.run(&["up"]);
        done.assert_code(0);
        let log = read(&sb.app(&app).log("talk"));
        for line in ["out-line\n", "err-line\n", "no newline"] {
            assert!(log.contains(line), "{rt:?}: {line:?} missing from the log: {log:?}");
        }
        assert!(done.stdout.contains("talk | out-line"), "{rt:?}: {}", done.stdout);
    });
}

#[test]
fn a_crash_is_restarted_after_a_backoff_and_exit_42_at_once() {
    in_every_runtime(|rt| {
        for (code, delays) in [(7, vec!["50ms", "100ms"]), (42, vec![])] {
            let sb = rt.sandbox();
            let app = rt.app(&format!("exit{code}"));
            let script = format!(
                "echo run >> \"$TEND_STATE_DIR/starts\"; \
                 [ \"$(wc -l < \"$TEND_STATE_DIR/starts\")\" -ge 3 ] && exit 0; exit {code}"
            );
            let program = format!(
                "[programs.p]\ncommand = [\"sh\", \"-c\", {}]\n\
                 backoff = {{ initial = \"50ms\" }}\n",
                toml_str(&script)
            );
            sb.write("tend.toml", &rt.config(&app, &program));
            let done = sb.run(&["up"]);
            done.assert_code(0);
            let state = sb.app(&app);
            assert_eq!(read(&state.dir.join("starts")).lines().count(), 3, "{rt:?} exit {code}");
            let log = state.read_tend_log();
            assert_eq!(
                lines_with(&log, &format!("p: exited with exit code {code}")).len(),
                2,
                "{rt:?}: {log}"
            );
            assert_eq!(backoff_delays(&log), delays, "{rt:?} exit {code}: {log}");
            let now = lines_with(&log, "p: restarting now (exit_code)").len();
            assert_eq!(now, if code == 42 { 2 } else { 0 }, "{rt:?}: {log}");
            assert!(log.contains("p: done (exit code 0)"), "{rt:?}: {log}");
        }
    });
}

#[test]
fn a_restart_ends_the_whole_tree_of_the_run_before_the_next_one_starts() {
    in_every_runtime(|rt| {
        let sb = rt.sandbox();
        let app = rt.app("tree");
        // Each run lists the processes it sees, then leaves a child and a setsid escapee.
        let script = format!(
            "n=$TEND_RESTART_COUNT; ({PROCESSES}) > \"$TEND_STATE_DIR/ps-$n\"; \
             sleep 7771 & setsid sleep 7772 & \
             echo up > \"$TEND_STATE_DIR/up-$n\"; wait"
        );
        let program =
            format!("[programs.tree]\ncommand = [\"sh\", \"-c\", {}]\n", toml_str(&script));
        sb.write("tend.toml", &rt.config(&app, &program));
        let tend = sb.spawn(&["up"]);
        let state = sb.app(&app);
        sb.wait_file(&state.dir.join("up-0"));
        let status = sb.run(&["status", "--json"]);
        let json: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
        let tree = &json["programs"][0];
        match rt {
            Runtime::Native => {
                assert_eq!(tree["runner"], "native", "{json}");
                assert!(tree.get("container").is_none(), "{json}");
            }
            Runtime::Docker => {
                assert_eq!(tree["runner"], "docker", "{json}");
                assert_eq!(tree["container"], format!("tend-{app}"), "{json}");
                assert_eq!(tree["image"], IMAGE, "{json}");
                let table = sb.run(&["status"]).stdout;
                let line = format!("tree: runs in container tend-{app}, image {IMAGE}");
                assert!(table.contains(&line), "{table}");
            }
            Runtime::Nix => {
                assert_eq!(tree["runner"], "nix", "{json}");
                assert_eq!(tree["mode"], "materialised", "{json}");
                assert_eq!(tree["flake"], sb.cwd.to_string_lossy().as_ref(), "{json}");
                assert!(tree.get("fallback").is_none() && tree.get("auto").is_none(), "{json}");
                let table = sb.run(&["status"]).stdout;
                let line =
                    format!("tree: runs in the dev shell of {} (materialised)", sb.cwd.display());
                assert!(table.contains(&line), "{table}");
            }
        }
        sb.run(&["restart", "tree"]).assert_code(0);
        sb.wait_file(&state.dir.join("up-1"));
        let seen = read(&state.dir.join("ps-1"));
        for escapee in ["sleep 7771", "sleep 7772"] {
            assert!(!runs(&seen, escapee), "{rt:?}: `{escapee}` outlived its run:\n{seen}");
        }
        tend.signal(libc::SIGTERM);
        tend.wait().assert_code(0);
        assert!(state.read_tend_log().contains("tree: stopped"), "{rt:?}");
    });
}

#[test]
fn what_a_run_leaves_when_it_exits_is_ended_before_the_next_run() {
    in_every_runtime(|rt| {
        let sb = rt.sandbox();
        let app = rt.app("leftover");
        // The first run leaves a child and a setsid escapee and exits 42 (restart now); the
        // second lists what it sees and ends.
        let script = format!(
            "if [ \"$TEND_RESTART_COUNT\" = 0 ]; then sleep 7791 & setsid sleep 7792 & exit 42; fi; \
             ({PROCESSES}) > \"$TEND_STATE_DIR/ps\""
        );
        let program = format!(
            "[programs.quick]\ncommand = [\"sh\", \"-c\", {}]\nrestart = \"never\"\n",
            toml_str(&script)
        );
        sb.write("tend.toml", &rt.config(&app, &program));
        sb.run(&["up"]).assert_code(0);
        let seen = read(&sb.app(&app).dir.join("ps"));
        for leftover in ["sleep 7791", "sleep 7792"] {
            assert!(!runs(&seen, leftover), "{rt:?}: `{leftover}` outlived its run:\n{seen}");
        }
    });
}

#[test]
fn after_a_sigkill_of_tend_the_next_up_ends_what_it_left_and_runs_one_copy() {
    in_every_runtime(|rt| {
        let sb = rt.sandbox();
        let app = rt.app("killed");
        let script = format!(
            "echo run >> \"$TEND_STATE_DIR/starts\"; n=$(wc -l < \"$TEND_STATE_DIR/starts\"); \
             ({PROCESSES}) > \"$TEND_STATE_DIR/ps-$n\"; exec sleep 7781"
        );
        let program =
            format!("[programs.once]\ncommand = [\"sh\", \"-c\", {}]\n", toml_str(&script));
        sb.write("tend.toml", &rt.config(&app, &program));
        let state = sb.app(&app);
        let first = sb.spawn(&["up"]);
        sb.wait_file(&state.dir.join("ps-1"));
        first.signal(libc::SIGKILL);
        drop(first.wait());
        let second = sb.spawn(&["up"]);
        let seen = sb.wait_file(&state.dir.join("ps-2"));
        assert!(!runs(&seen, "sleep 7781"), "{rt:?}: the first run is still there:\n{seen}");
        assert_eq!(read(&state.dir.join("starts")).lines().count(), 2, "{rt:?}");
        second.signal(libc::SIGTERM);
        second.wait().assert_code(0);
    });
}

#[test]
fn tend_reap_removes_what_a_killed_tend_left_in_every_runtime() {
    in_every_runtime(|rt| {
        let sb = rt.sandbox();
        let app = rt.app("reaped");
        let script = "echo $$ > \"$TEND_STATE_DIR/pid\"; exec sleep 7801";
        let program =
            format!("[programs.left]\ncommand = [\"sh\", \"-c\", {}]\n", toml_str(script));
        sb.write("tend.toml", &rt.config(&app, &program));
        let tend = sb.spawn(&["up"]);
        sb.wait_file(&sb.app(&app).dir.join("pid"));
        tend.signal(libc::SIGKILL);
        drop(tend.wait());
        let reaped = sb.run(&["reap"]);
        reaped.assert_code(0);
        let log = &reaped.stderr;
        match rt {
            Runtime::Native | Runtime::Nix => {
                let pid = read(&sb.app(&app).dir.join("pid")).trim().parse().unwrap();
                assert!(!alive(pid), "the program outlived `tend reap`");
                assert!(log.contains("ended 1 process(es) left by a tend that is gone"), "{log}");
            }
            Runtime::Docker => {
                let container = format!("tend-{app}");
                let left = std::process::Command::new("docker")
                    .args(["ps", "-aq", "--filter", &format!("name=^{container}$")])
                    .output()
                    .unwrap();
                assert!(left.stdout.is_empty(), "{container} outlived `tend reap`");
                assert!(log.contains("removed 1 container(s) of a tend that is gone"), "{log}");
            }
        }
    });
}

/// Docker only: `runner = "auto"` of an app with a `[docker]` table and no flake runs in
/// Docker when the daemon answers, and says why.
#[test]
fn auto_chooses_docker_when_the_daemon_answers() {
    if !Runtime::available().contains(&Runtime::Docker) {
        return;
    }
    let sb = Sandbox::new();
    let app = Runtime::Docker.app("auto");
    sb.write(
        "tend.toml",
        &format!(
            "name = \"{app}\"\n[docker]\nimage = \"{IMAGE}\"\n[programs.p]\nrunner = \"auto\"\n\
             command = [\"sh\", \"-c\", \"echo in > \\\"$TEND_STATE_DIR/in\\\"; exec sleep 1000\"]\n"
        ),
    );
    let tend = sb.spawn(&["up"]);
    sb.wait_file(&sb.app(&app).dir.join("in"));
    let status = sb.run(&["status", "--json"]);
    let json: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    let p = &json["programs"][0];
    assert_eq!(p["runner"], "docker", "{json}");
    assert_eq!(p["container"], format!("tend-{app}"), "{json}");
    let why = p["auto"].as_str().unwrap();
    assert!(
        why.starts_with("docker: the config has a [docker] table and the daemon answers"),
        "{why}"
    );
    let env = sb.run(&["env", "p"]).stdout;
    assert!(
        env.contains("# runner = \"auto\" chose docker: ") && env.contains("# runs in Docker"),
        "{env}"
    );
    tend.signal(libc::SIGTERM);
    tend.wait().assert_code(0);
}

/// Docker only: `tend prepare` builds the image of `[docker] build` (plain progress lines
/// without a terminal), and says it is ready without building the next time.
#[test]
fn prepare_builds_the_docker_image() {
    if !Runtime::available().contains(&Runtime::Docker) {
        return;
    }
    let sb = Sandbox::new();
    // One name in every run: its image (tagged by the app and the Dockerfile) is rebuilt, not
    // left behind once per run.
    let app = "tend-cli-prepare";
    sb.write(
        "tend.toml",
        &format!(
            "name = \"{app}\"\n[docker]\nbuild = {{ base = \"{IMAGE}\", steps = [\"RUN echo tend-prepare-step\"] }}\n\
             [programs.p]\nrunner = \"docker\"\ncommand = \"true\"\nrestart = \"never\"\n"
        ),
    );
    let built = sb.run(&["prepare", "--refresh"]);
    built.assert_code(0);
    assert!(built.stdout.contains(": ready (built in "), "{}", built.stdout);
    assert!(built.stderr.contains("step 3/3: RUN echo tend-prepare-step"), "{}", built.stderr);
    // The build's own lines (its steps may come from the layer cache).
    assert!(built.stderr.contains("  | Successfully tagged tend-"), "{}", built.stderr);
    let again = sb.run(&["prepare"]);
    again.assert_code(0);
    assert!(again.stdout.contains(": ready (already built)"), "{}", again.stdout);

    // A failing step: exit 1, the step and its last lines.
    sb.write(
        "tend.toml",
        &format!(
            "name = \"{app}\"\n[docker]\nbuild = {{ base = \"{IMAGE}\", steps = [\"RUN echo about-to-fail; exit 3\"] }}\n\
             [programs.p]\nrunner = \"docker\"\ncommand = \"true\"\n"
        ),
    );
    let failed = sb.run(&["prepare"]);
    failed.assert_code(1);
    assert!(failed.stderr.contains("RUN echo about-to-fail; exit 3"), "{}", failed.stderr);
    assert!(failed.stderr.contains("about-to-fail"), "{}", failed.stderr);
}
