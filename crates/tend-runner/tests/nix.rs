#![allow(clippy::expect_used, clippy::unwrap_used, missing_docs)]
#![cfg(unix)]
//! The Nix environment against the real nix, offline: each test makes its own lab under the
//! system temp folder — a flake with no inputs (a dev shell with a variable and a tool built
//! into the store), a local flake registry whose `nixpkgs` is a stand-in with the
//! `bashInteractive` that `nix develop` looks up, nix's config in `NIX_CONFIG` (flakes on, no
//! substituters, no sandbox) and nix's XDG folders, so that nothing reaches the network or
//! the real home. Every nix run goes through a wrapper that logs it, to tell whether nix ran.
//!
//! Without nix every test is skipped with the reason printed, unless `TEND_REQUIRE_NIX=1`,
//! which makes it a failure. `.ci/nix-setup` installs nix (Debian's `nix-bin`).

mod common;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use tend_runner::{
    CommandSpec, EnvVars, Environment, Exit, MemorySink, NixEnvironment, NixError, NixMode,
    NixSpec, RunnerError, ShellSource, Signal, StopPolicy, Stream,
};

const LIMIT: Duration = Duration::from_secs(60);

/// The real nix, or `None` (after saying why) when the test is to be skipped.
fn real_nix() -> Option<PathBuf> {
    let found = std::env::var_os("PATH")
        .and_then(|path| std::env::split_paths(&path).map(|d| d.join("nix")).find(|p| p.is_file()));
    if found.is_none() {
        assert!(
            std::env::var("TEND_REQUIRE_NIX").as_deref() != Ok("1"),
            "TEND_REQUIRE_NIX=1 but nix is not on PATH"
        );
        eprintln!("skipped: nix is not installed (`.ci/nix-setup` installs it)");
    }
    found
}

/// One test's own flake, cache, registry and nix config.
struct Lab {
    root: tempfile::TempDir,
    tag: String,
    nix: PathBuf,
}

impl Lab {
    /// A lab whose flake's dev shell sets `FOO=value`; `None` when nix is missing.
    fn new(tag: &str, value: &str) -> Option<Lab> {
        let nix = real_nix()?;
        let root = tempfile::Builder::new().prefix("tend-nix-").tempdir().unwrap();
        let lab = Lab { root, tag: format!("{tag}-{}", std::process::id()), nix };
        let system = tend_runner::nix_system();
        std::fs::create_dir_all(lab.path("nixpkgs")).unwrap();
        std::fs::write(
            lab.path("nixpkgs/flake.nix"),
            format!(
                r#"{{
  outputs = {{ self }}: {{
    legacyPackages.{system}.bashInteractive = derivation {{
      name = "bash-interactive-stand-in"; system = "{system}"; builder = "/bin/bash";
      args = [ "-c" "set -e; /bin/mkdir -p $out/bin; /bin/ln -s /bin/bash $out/bin/bash; exit 0" ];
    }};
  }};
}}
"#
            ),
        )
        .unwrap();
        let registry = serde_json::json!({"version": 2, "flakes": [{
            "from": {"type": "indirect", "id": "nixpkgs"},
            "to": {"type": "path", "path": lab.path("nixpkgs")},
        }]});
        std::fs::write(lab.path("registry.json"), registry.to_string()).unwrap();
        std::fs::create_dir_all(lab.flake_dir()).unwrap();
        lab.write_flake(value);
        lab.write_wrapper("nix-logged", "");
        Some(lab)
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.root.path().join(rel)
    }

    fn flake_dir(&self) -> PathBuf {
        self.path("flake")
    }

    fn cache_dir(&self) -> PathBuf {
        self.path("cache")
    }

    /// The flake: a dev shell with `FOO=value` and `tend-nix-tool` (built into the store) on
    /// its PATH.
    fn write_flake(&self, value: &str) {
        let (system, tag) = (tend_runner::nix_system(), &self.tag);
        let flake = format!(
            r#"{{
  outputs = {{ self }}: let
    system = "{system}";
    tool = derivation {{
      name = "tend-tool-{tag}"; inherit system; builder = "/bin/bash";
      args = [ "-c" "set -e; /bin/mkdir -p $out/bin; echo '#!/bin/sh' > $out/bin/tend-nix-tool; echo 'echo tool-{tag}' >> $out/bin/tend-nix-tool; /bin/chmod +x $out/bin/tend-nix-tool; exit 0" ];
    }};
  in {{
    devShells.${{system}}.default = derivation {{
      name = "tend-shell-{tag}"; inherit system; builder = "/bin/bash";
      args = [ "-c" "echo > $out; exit 0" ]; outputs = [ "out" ];
      PATH = "${{tool}}/bin:/usr/bin:/bin"; FOO = "{value}";
    }};
  }};
}}
"#
        );
        std::fs::write(self.flake_dir().join("flake.nix"), flake).unwrap();
    }

    /// A wrapper around the real nix that logs each run to `nix.log`, running `before` first
    /// (shell code: it may refuse some commands).
    fn write_wrapper(&self, name: &str, before: &str) -> PathBuf {
        let path = self.path(name);
        let script = format!(
            "#!/bin/sh\necho \"$*\" >> '{log}'\n{before}\nexec '{nix}' \"$@\"\n",
            log = self.path("nix.log").display(),
            nix = self.nix.display()
        );
        std::fs::write(&path, script).unwrap();
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    /// nix's config and folders, all in the lab.
    fn nix_env(&self) -> EnvVars {
        let config = format!(
            "experimental-features = nix-command flakes\nsandbox = false\nbuild-users-group =\n\
             substituters =\nflake-registry = {}\n",
            self.path("registry.json").display()
        );
        let mut env: EnvVars = [("NIX_CONFIG", config)].into_iter().collect();
        for (var, dir) in [
            ("XDG_CACHE_HOME", "xdg/cache"),
            ("XDG_CONFIG_HOME", "xdg/config"),
            ("XDG_DATA_HOME", "xdg/data"),
            ("XDG_STATE_HOME", "xdg/state"),
        ] {
            env.set(var, self.path(dir).to_string_lossy());
        }
        env
    }

    /// The spec of this lab's flake and cache, nix through the logging wrapper.
    fn spec(&self) -> NixSpec {
        let mut spec = NixSpec::new(self.flake_dir(), self.cache_dir());
        spec.nix = self.path("nix-logged").to_string_lossy().into_owned();
        spec.nix_env = self.nix_env();
        spec
    }

    fn env(&self) -> NixEnvironment {
        NixEnvironment::new(self.spec())
    }

    /// The nix runs logged so far, one line each (`print-dev-env --json …`).
    fn nix_log(&self) -> Vec<String> {
        std::fs::read_to_string(self.path("nix.log"))
            .unwrap_or_default()
            .lines()
            .map(String::from)
            .collect()
    }

    fn evaluations(&self) -> usize {
        self.nix_log().iter().filter(|l| l.starts_with("print-dev-env")).count()
    }

    /// The cache slot of the flake (the only folder in the cache).
    fn slot(&self) -> PathBuf {
        let mut slots: Vec<PathBuf> = std::fs::read_dir(self.cache_dir())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_dir())
            .collect();
        assert_eq!(slots.len(), 1, "{slots:?}");
        slots.pop().unwrap()
    }
}

/// `sh -c script` in the temp folder, its output to `sink`.
fn sh(script: &str, sink: &MemorySink) -> CommandSpec {
    let argv = vec!["sh".into(), "-c".into(), script.into()];
    let mut spec = CommandSpec::new(argv, std::env::temp_dir());
    spec.output(Arc::new(sink.clone()));
    spec
}

/// Runs `script` in `env` to its end: how it ended, and its stdout lines.
async fn run(env: &dyn Environment, script: &str) -> (Exit, Vec<String>) {
    let sink = MemorySink::default();
    let child = tokio::time::timeout(LIMIT, env.spawn(sh(script, &sink))).await.unwrap().unwrap();
    let end = tokio::time::timeout(LIMIT, child.wait()).await.unwrap().unwrap();
    let lines = sink.lines().into_iter().filter(|(s, _)| *s == Stream::Stdout).map(|(_, l)| l);
    (end, lines.collect())
}

/// Starts testbin's `spawn-tree` (leader, group child, setsid child, orphan) and stops it:
/// every process must be gone.
async fn stop_a_tree(env: &dyn Environment) -> Option<Exit> {
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("pids");
    let argv = vec![testbin_str(), "spawn-tree".into(), pidfile.to_string_lossy().into_owned()];
    let mut spec = CommandSpec::new(argv, std::env::temp_dir());
    spec.stop_policy(StopPolicy { signal: Signal::Terminate, grace: Duration::from_secs(5) });
    let child = env.spawn(spec).await.unwrap();
    let pids = pids_of(&wait_for_file(&pidfile, LIMIT).await);
    let _guard = KillOnDrop(pids.clone());
    assert_eq!(pids.len(), 4, "leader, group child, setsid child, orphan: {pids:?}");
    let report = tokio::time::timeout(LIMIT, child.stop()).await.unwrap().unwrap();
    assert!(report.survivors.is_empty(), "{report:?}");
    assert_eq!(wait_all_dead(&pids, Duration::from_secs(5)).await, Vec::<u32>::new());
    report.end
}

#[tokio::test]
async fn the_dev_shell_reaches_the_program_and_paths_are_merged() {
    let Some(lab) = Lab::new("reach", "from-the-shell") else { return };
    let env = lab.env();
    let prepared = env.prepare_shell().await.unwrap();
    assert_eq!(prepared.mode, NixMode::Materialised);
    assert_eq!(prepared.source, ShellSource::Evaluated);
    assert!(prepared.gc_root.as_ref().is_some_and(|root| root.exists()), "{prepared:?}");
    let script = r#"echo "$FOO"; tend-nix-tool; echo "$PATH"; echo "home=$HOME"; echo "tmp=${TMPDIR:-}"; echo "term=${TERM:-}"; exit 42"#;
    let (end, lines) = run(&env, script).await;
    assert_eq!(end, Exit::Code(42), "{lines:?}");
    assert_eq!(lines[0], "from-the-shell");
    assert_eq!(lines[1], format!("tool-{}", lab.tag));
    let outer = std::env::var("PATH").unwrap();
    let path = &lines[2];
    assert!(
        path.starts_with("/nix/store/") && path.contains(&format!("tend-tool-{}/bin", lab.tag)),
        "{path}"
    );
    assert!(path.ends_with(&format!(":/usr/bin:/bin:{outer}")), "shell PATH, then tend's: {path}");
    let own = |var: &str| std::env::var(var).unwrap_or_default();
    assert_eq!(lines[3], format!("home={}", own("HOME")), "HOME is the user's");
    assert_eq!(lines[4], format!("tmp={}", own("TMPDIR")), "TMPDIR is the user's");
    assert_eq!(lines[5], format!("term={}", own("TERM")), "TERM is the user's");
    let tool = env.ensure_binary("tend-nix-tool").unwrap();
    assert!(tool.starts_with("/nix/store"), "{}", tool.display());
    assert_eq!(env.nix_runs(), 1);
    // The GC root holds: nix refuses to delete the shell (a targeted delete, not a GC of the
    // whole store).
    let shell = std::fs::canonicalize(prepared.gc_root.unwrap()).unwrap();
    let delete = std::process::Command::new(lab.nix.with_file_name("nix-store"))
        .arg("--delete")
        .arg(&shell)
        .envs(lab.nix_env().iter())
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&delete.stderr);
    assert!(!delete.status.success() && said.contains("still alive"), "{said}");
    assert!(shell.exists());
}

#[tokio::test]
async fn program_variables_win_and_a_program_path_follows_the_shell() {
    let Some(lab) = Lab::new("layers", "shell") else { return };
    let env = lab.env();
    let sink = MemorySink::default();
    let mut spec = sh(r#"echo "$FOO"; echo "$PATH""#, &sink);
    spec.env("FOO", "configured").env("PATH", "/opt/tend-test/bin:/usr/bin:/bin");
    let child = env.spawn(spec).await.unwrap();
    assert_eq!(tokio::time::timeout(LIMIT, child.wait()).await.unwrap().unwrap(), Exit::Code(0));
    let lines: Vec<String> = sink.lines().into_iter().map(|(_, l)| l).collect();
    assert_eq!(lines[0], "configured");
    assert!(lines[1].ends_with(":/usr/bin:/bin:/opt/tend-test/bin:/usr/bin:/bin"), "{}", lines[1]);
}

#[tokio::test]
async fn restarts_stop_a_tree_and_evaluate_once() {
    let Some(lab) = Lab::new("restart", "x") else { return };
    let env = lab.env();
    for n in 0..3 {
        let (end, lines) = run(&env, &format!("echo run-$FOO-{n}; exit {n}")).await;
        assert_eq!((end, lines), (Exit::Code(n), vec![format!("run-x-{n}")]));
    }
    assert_eq!(stop_a_tree(&env).await, Some(Exit::Signal(15)));
    assert_eq!(env.nix_runs(), 1, "the shell is evaluated once, not per start");
    assert_eq!(lab.evaluations(), 1);
}

/// The same cases natively, materialised and wrapped: output and exit 42, restarts, the stop
/// of a tree with a setsid escapee.
#[tokio::test]
async fn the_same_cases_behave_the_same_in_every_runtime() {
    let Some(lab) = Lab::new("same", "v") else { return };
    let mut wrapped = lab.spec();
    let refuse = r#"[ "$1" = print-dev-env ] && exit 1"#;
    wrapped.nix = lab.write_wrapper("nix-refusing", refuse).to_string_lossy().into_owned();
    wrapped.cache_dir = lab.path("cache-of-the-wrapped");
    let runtimes: Vec<(&str, Box<dyn Environment>)> = vec![
        ("native", Box::new(tend_runner::NativeEnvironment::new())),
        ("materialised", Box::new(lab.env())),
        ("wrapped", Box::new(NixEnvironment::new(wrapped))),
    ];
    for (name, env) in &runtimes {
        env.prepare().await.unwrap();
        let (end, lines) = run(env.as_ref(), "echo out; echo err >&2; exit 42").await;
        assert_eq!((end, lines), (Exit::Code(42), vec!["out".to_string()]), "{name}");
        for n in 0..3 {
            let (end, lines) = run(env.as_ref(), &format!("echo start-{n}; exit {n}")).await;
            assert_eq!((end, lines), (Exit::Code(n), vec![format!("start-{n}")]), "{name}");
        }
        let end = stop_a_tree(env.as_ref()).await;
        assert!(matches!(end, Some(Exit::Signal(15))), "{name}: {end:?}");
    }
}

#[tokio::test]
async fn a_second_tend_hits_the_cache_and_nix_does_not_run() {
    let Some(lab) = Lab::new("hit", "cached") else { return };
    lab.env().prepare_shell().await.unwrap();
    assert_eq!(lab.nix_log().len(), 1);
    let second = lab.env();
    let prepared = second.prepare_shell().await.unwrap();
    assert_eq!((prepared.mode, prepared.source), (NixMode::Materialised, ShellSource::Cache));
    let (end, lines) = run(&second, r#"echo "$FOO"; tend-nix-tool"#).await;
    assert_eq!(end, Exit::Code(0));
    assert_eq!(lines, vec!["cached".to_string(), format!("tool-{}", lab.tag)]);
    assert_eq!(second.nix_runs(), 0);
    assert_eq!(lab.nix_log().len(), 1, "nix ran: {:?}", lab.nix_log());
    let entry = lab.slot().join("entry.json");
    use std::os::unix::fs::PermissionsExt as _;
    assert_eq!(std::fs::metadata(entry).unwrap().permissions().mode() & 0o777, 0o600);
}

#[tokio::test]
async fn concurrent_tends_share_one_evaluation() {
    let Some(lab) = Lab::new("shared", "once") else { return };
    let (a, b, c) = (lab.env(), lab.env(), lab.env());
    let (x, y, z) = tokio::join!(a.prepare_shell(), b.prepare_shell(), c.prepare_shell());
    let sources = [x.unwrap().source, y.unwrap().source, z.unwrap().source];
    assert_eq!(lab.evaluations(), 1, "{:?}", lab.nix_log());
    assert_eq!(sources.iter().filter(|s| **s == ShellSource::Evaluated).count(), 1, "{sources:?}");
    assert_eq!(run(&c, r#"echo "$FOO""#).await.1, vec!["once".to_string()]);
}

#[tokio::test]
async fn refresh_evaluates_again_and_a_lost_gc_root_is_a_miss() {
    let Some(lab) = Lab::new("refresh", "r") else { return };
    lab.env().prepare_shell().await.unwrap();
    let mut spec = lab.spec();
    spec.refresh = true;
    let refreshed = NixEnvironment::new(spec).prepare_shell().await.unwrap();
    assert_eq!(refreshed.source, ShellSource::Evaluated);
    assert_eq!(lab.evaluations(), 2);
    let links = std::fs::read_dir(lab.slot())
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().ends_with("-link"))
        .count();
    assert_eq!(links, 1, "only the current generation stays a GC root");
    std::fs::remove_file(lab.slot().join("profile")).unwrap();
    let after = lab.env().prepare_shell().await.unwrap();
    assert_eq!(after.source, ShellSource::Evaluated, "no GC root, no hit");
    assert_eq!(lab.evaluations(), 3);
}

#[tokio::test]
async fn an_edited_flake_applies_at_the_next_start_after_invalidate() {
    let Some(lab) = Lab::new("edit", "first") else { return };
    let env = lab.env();
    assert_eq!(run(&env, r#"echo "$FOO""#).await.1, vec!["first".to_string()]);
    lab.write_flake("second");
    assert_eq!(
        env.watch_paths(),
        vec![lab.flake_dir().join("flake.nix"), lab.flake_dir().join("flake.lock")]
    );
    assert_eq!(
        run(&env, r#"echo "$FOO""#).await.1,
        vec!["first".to_string()],
        "not yet invalidated"
    );
    env.invalidate();
    assert_eq!(run(&env, r#"echo "$FOO""#).await.1, vec!["second".to_string()]);
    assert_eq!(env.nix_runs(), 2);
    env.invalidate();
    assert_eq!(run(&env, r#"echo "$FOO""#).await.1, vec!["second".to_string()]);
    assert_eq!(env.nix_runs(), 2, "same key: the cache, not nix");
}

#[tokio::test]
async fn a_damaged_entry_is_set_aside_and_evaluated_again() {
    let Some(lab) = Lab::new("damaged", "fine") else { return };
    lab.env().prepare_shell().await.unwrap();
    let entry = lab.slot().join("entry.json");
    std::fs::write(&entry, "{ torn").unwrap();
    let env = lab.env();
    let prepared = env.prepare_shell().await.unwrap();
    assert_eq!(prepared.source, ShellSource::Evaluated);
    let aside = prepared.set_aside.expect("set aside");
    assert_eq!(std::fs::read_to_string(aside).unwrap(), "{ torn");
    assert!(std::fs::read_to_string(&entry).unwrap().contains("\"schema\""));
    assert_eq!(run(&env, r#"echo "$FOO""#).await.1, vec!["fine".to_string()]);
}

#[tokio::test]
async fn when_materialising_fails_programs_run_wrapped_and_the_reason_is_told() {
    let Some(lab) = Lab::new("wrapped", "wrapped-value") else { return };
    let refuse =
        r#"case "$1" in print-dev-env) echo "tend test: print-dev-env refused" >&2; exit 1;; esac"#;
    let mut spec = lab.spec();
    spec.nix = lab.write_wrapper("nix-refusing", refuse).to_string_lossy().into_owned();
    let env = NixEnvironment::new(spec);
    let prepared = env.prepare_shell().await.unwrap();
    let NixMode::Wrapped { reason } = &prepared.mode else { panic!("{prepared:?}") };
    assert!(reason.contains("print-dev-env refused"), "{reason}");
    assert_eq!(env.prepared().map(|p| p.mode), Some(prepared.mode.clone()));
    let (end, lines) = run(&env, r#"echo "$FOO"; tend-nix-tool; pwd -P; exit 42"#).await;
    assert_eq!(end, Exit::Code(42), "{lines:?}");
    let here = std::fs::canonicalize(std::env::temp_dir()).unwrap();
    let expected =
        ["wrapped-value".to_string(), format!("tool-{}", lab.tag), here.display().to_string()];
    assert_eq!(lines, expected, "the shell's variable and tool, in the spec's folder");
    stop_a_tree(&env).await;
    assert!(lab.nix_log().iter().any(|l| l.starts_with("develop")), "{:?}", lab.nix_log());
}

#[tokio::test]
async fn nix_not_installed_says_how_to_install_it() {
    let Some(lab) = Lab::new("missing", "x") else { return };
    let mut spec = lab.spec();
    spec.nix = "tend-test-no-such-nix".into();
    let env = NixEnvironment::new(spec);
    let err = env.prepare_shell().await.unwrap_err();
    assert!(matches!(err, NixError::NotInstalled { .. }), "{err:?}");
    assert!(err.to_string().contains("apt-get install nix-bin"), "{err}");
    let spawned = env.spawn(sh("true", &MemorySink::default())).await.unwrap_err();
    assert!(matches!(spawned, RunnerError::Nix(NixError::NotInstalled { .. })), "{spawned:?}");
}

#[tokio::test]
async fn no_flake_is_told() {
    let Some(lab) = Lab::new("noflake", "x") else { return };
    std::fs::remove_file(lab.flake_dir().join("flake.nix")).unwrap();
    let err = lab.env().prepare_shell().await.unwrap_err();
    assert!(matches!(&err, NixError::NoFlake { dir } if dir == &lab.flake_dir()), "{err:?}");
    assert!(err.to_string().contains("no flake.nix in"), "{err}");
    assert!(lab.nix_log().is_empty());
}

#[tokio::test]
async fn a_failed_evaluation_quotes_nix() {
    let Some(lab) = Lab::new("evalfail", "x") else { return };
    std::fs::write(
        lab.flake_dir().join("flake.nix"),
        "{ outputs = { self }: throw \"tend-test-boom: the shell is broken\"; }\n",
    )
    .unwrap();
    let err = lab.env().prepare_shell().await.unwrap_err();
    let NixError::EvalFailed { stderr, .. } = &err else { panic!("{err:?}") };
    assert!(stderr.contains("tend-test-boom"), "{stderr}");
    assert!(err.to_string().contains("nix develop"), "{err}");
}

#[tokio::test]
async fn disabled_flakes_name_the_line_to_add() {
    let Some(lab) = Lab::new("noflakes", "x") else { return };
    let mut spec = lab.spec();
    let config = spec
        .nix_env
        .get("NIX_CONFIG")
        .unwrap()
        .replace("experimental-features = nix-command flakes", "experimental-features =");
    spec.nix_env.set("NIX_CONFIG", config);
    let err = NixEnvironment::new(spec).prepare_shell().await.unwrap_err();
    assert!(matches!(err, NixError::FlakesDisabled { .. }), "{err:?}");
    assert!(err.to_string().contains("`experimental-features = nix-command flakes`"), "{err}");
}

#[tokio::test]
async fn a_flake_git_does_not_track_is_explained() {
    let Some(lab) = Lab::new("git", "x") else { return };
    let repo = lab.flake_dir();
    let git = |args: &[&str]| {
        let status = std::process::Command::new("git")
            .args(["-c", "user.email=t@t", "-c", "user.name=t"])
            .args(args)
            .current_dir(&repo)
            .stdout(std::process::Stdio::null())
            .status()
            .expect("git");
        assert!(status.success(), "git {args:?}");
    };
    git(&["init", "-q", "."]);
    std::fs::write(repo.join("README"), "x").unwrap();
    git(&["add", "README"]);
    git(&["commit", "-qm", "init"]);
    let err = lab.env().prepare_shell().await.unwrap_err();
    let NixError::NotGitAdded { repo: found, .. } = &err else { panic!("{err:?}") };
    assert_eq!(found, &repo);
    assert!(err.to_string().contains("git add flake.nix"), "{err}");
    git(&["add", "flake.nix"]);
    let prepared = lab.env().prepare_shell().await.unwrap();
    assert_eq!(prepared.mode, NixMode::Materialised);
}

/// Not a benchmark: rough spawn latencies (medians of 20) native, materialised and wrapped,
/// printed. `cargo test -p tend-runner --test nix -- --ignored --nocapture latencies`.
#[tokio::test]
#[ignore = "prints timings; run by hand"]
async fn latencies() {
    let Some(lab) = Lab::new("latency", "x") else { return };
    async fn median(env: &dyn tend_runner::Environment) -> Duration {
        let mut times = Vec::new();
        for _ in 0..20 {
            let start = Instant::now();
            let child = env
                .spawn(CommandSpec::new(vec!["true".into()], std::env::temp_dir()))
                .await
                .unwrap();
            child.wait().await.unwrap();
            times.push(start.elapsed());
        }
        times.sort();
        times[times.len() / 2]
    }
    let native = median(&tend_runner::NativeEnvironment::new()).await;
    let materialised = lab.env();
    materialised.prepare_shell().await.unwrap();
    let materialised = median(&materialised).await;
    let mut spec = lab.spec();
    spec.nix = lab
        .write_wrapper("nix-refusing", r#"[ "$1" = print-dev-env ] && exit 1"#)
        .to_string_lossy()
        .into_owned();
    spec.cache_dir = lab.path("cache-of-the-wrapped");
    let wrapped = NixEnvironment::new(spec);
    let mode = wrapped.prepare_shell().await.unwrap().mode;
    assert!(matches!(mode, NixMode::Wrapped { .. }), "{mode:?}");
    let wrapped = median(&wrapped).await;
    println!(
        "spawn to end of `true`, median of 20: native {native:?}, materialised {materialised:?}, wrapped {wrapped:?}"
    );
}
