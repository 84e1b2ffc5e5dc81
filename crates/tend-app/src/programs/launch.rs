//! Starting one program of an app: from its configuration to a running process in the
//! environment its `runner` key selects ([`super::environments`]), and the adapter that lets
//! the supervisor drive any environment's [`Child`] ([`RunningChild`]).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tend_fs::dotenv::DotenvCache;

use tend_api::AppHome;
use tend_runner::{
    Child, CommandSpec, Environment, Exit, OutputSink, RecordSpec, RunRegistry, ShellEnv,
    StopPolicy,
};
use tend_supervisor::{BoxFuture, LaunchContext, LaunchError, Launcher, Running};

use crate::config::{ProgramConfig, Runner};
use crate::programs::env_layers;
use crate::programs::environments::AppEnvironment;

/// What every program of an app shares.
#[derive(Debug, Clone)]
pub struct AppContext {
    /// The app's state folder.
    pub home: AppHome,
    /// How this start of the app is classified (`TEND_STARTUP_KIND`).
    pub startup_kind: String,
    /// The tend home (for `$TEND_HOME/.env`).
    pub tend_home: PathBuf,
    /// The app's folder (for `<app folder>/.env`).
    pub folder: PathBuf,
    /// Parsed dotenv files, re-read when they change.
    pub dotenv: Arc<DotenvCache>,
    /// `TEND_RECOVERY`: the JSON file of interrupted work, after a crash, reboot or restart.
    pub recovery: Option<PathBuf>,
    /// `TEND_RESTART_CONTEXT`: the JSON file of the restart that started this run of the app.
    pub restart_context: Option<PathBuf>,
    /// The programs' log files that cannot be written now (`tend status` shows them).
    pub log_health: crate::program_log::LogHealth,
    /// The `[docker]` table, if the app has one: its `env` goes to docker programs.
    pub docker: Option<crate::config::DockerConfig>,
}

/// Starts runs of one configured program in its environment.
pub struct ProgramLauncher {
    app: Arc<AppContext>,
    program: ProgramConfig,
    stop: StopPolicy,
    sink: Arc<dyn OutputSink>,
    env: Result<Arc<AppEnvironment>, String>,
    /// Where it runs when `env` cannot be prepared (`fallback = "native"`), as that program.
    fallback: Option<(Arc<AppEnvironment>, ProgramConfig)>,
    /// Whether the last start fell back (said once per episode).
    fell_back: AtomicBool,
    /// Where it runs, for `tend status`.
    runners: crate::control::server::Runners,
}

impl ProgramLauncher {
    /// A launcher for `program` in `env` (or the reason it has none), sending output to
    /// `sink`; `fallback` is where it runs, natively, when `env` cannot be prepared (said in
    /// `runners`).
    pub fn new(
        app: Arc<AppContext>,
        program: ProgramConfig,
        sink: Arc<dyn OutputSink>,
        env: Result<Arc<AppEnvironment>, String>,
        fallback: Option<Arc<AppEnvironment>>,
        runners: crate::control::server::Runners,
    ) -> Self {
        let stop = program.stop;
        let fallback = fallback.map(|env| {
            let mut native = program.clone();
            native.runner = Runner::Native;
            (env, native)
        });
        ProgramLauncher {
            app,
            program,
            stop,
            sink,
            env,
            fallback,
            fell_back: AtomicBool::new(false),
            runners,
        }
    }

    /// The environment to spawn in, and the program as it runs there (natively, when it falls
    /// back).
    async fn environment(&self) -> Result<(&dyn Environment, &ProgramConfig), LaunchError> {
        let plain =
            |e: &(dyn std::error::Error + 'static)| LaunchError::new(crate::error::chain(e));
        let env = self.env.as_ref().map_err(|message| LaunchError::new(message.clone()))?;
        let error = match env.prepared().await {
            Ok(env) => {
                if self.fell_back.swap(false, Ordering::Relaxed) {
                    tracing::info!("{}: runs in {:?} again", self.program.name, env.kind());
                    self.runners.fall_back(&self.program.name, None);
                }
                return Ok((env, &self.program));
            }
            Err(e) => e,
        };
        let Some((native, program)) = &self.fallback else { return Err(plain(&error)) };
        if !self.fell_back.swap(true, Ordering::Relaxed) {
            let why = crate::error::chain(&error);
            tracing::warn!(
                "{}: Docker cannot run it ({why}); running it natively instead (fallback = \"native\")",
                self.program.name,
            );
            self.runners.fall_back(&self.program.name, Some(why));
        }
        let native = native.prepared().await.map_err(|e| plain(&e))?;
        Ok((native, program))
    }

    async fn start(&self, ctx: LaunchContext) -> Result<Box<dyn Child>, LaunchError> {
        let (env, program) = self.environment().await?;
        let dir = match program.runner {
            Runner::Docker => self.container_dir(program)?,
            _ => program.dir.clone(),
        };
        let mut spec = CommandSpec::new(program.command.clone(), dir);
        let home = &self.app.home;
        let start = Start {
            restart_count: ctx.restart_count,
            reason: ctx.reason.as_str(),
            last_exit: ctx.last_exit,
        };
        // A nix program's dev shell is laid over by the runner (see `program_environment`).
        let vars = program_environment(&self.app, program, &start, &env_layers::inherited(), None)
            .map_err(|e| LaunchError::new(env_layers::unreadable(&e)))?;
        let mut secrets = Vec::new();
        for var in vars.into_values() {
            // What tend itself has, the process inherits as it is.
            if var.source == env_layers::Source::Environment {
                continue;
            }
            if var.is_secret() {
                secrets.push(var.value.clone());
            }
            spec.env(var.key, var.value);
        }
        spec.output(self.sink.clone()).stop_policy(self.stop).record(RecordSpec {
            registry: RunRegistry::new(home.runs()),
            app: home.app.clone(),
            program: program.name.clone(),
        });
        let child = env
            .spawn(spec)
            .await
            .map_err(|e| LaunchError::new(env_layers::mask(&crate::error::chain(&e), &secrets)));
        // How a nix program ran (prepared again by a spawn after its flake changed).
        if let Ok(app_env) = &self.env
            && let Some(prepared) = app_env.nix().and_then(|nix| nix.prepared())
        {
            self.runners.nix_mode(&program.name, &prepared);
        }
        child
    }
}

impl ProgramLauncher {
    /// Where `program`'s `dir` is inside the app's container: under the app's folder
    /// (`/app/…`), its state folder, or a `[docker] mounts` entry.
    fn container_dir(&self, program: &ProgramConfig) -> Result<PathBuf, LaunchError> {
        let app = &self.app;
        let fixed = crate::docker::container_path(&program.dir, &app.folder, &app.home.dir);
        let mounted = || {
            let mounts = app.docker.as_ref().map(|d| d.mounts.as_slice()).unwrap_or_default();
            mounts.iter().find_map(|mount| {
                let rest = program.dir.strip_prefix(&mount.source).ok()?;
                Some(std::path::Path::new(&mount.target).join(rest).to_string_lossy().into_owned())
            })
        };
        fixed.or_else(mounted).map(PathBuf::from).ok_or_else(|| {
            LaunchError::new(format!(
                "its dir {} is outside the app's folder {}, so its container cannot see it; put \
                 it under the app's folder, or add it to [docker] mounts",
                program.dir.display(),
                app.folder.display()
            ))
        })
    }
}

/// One start of a program, as its environment tells it.
#[derive(Debug, Clone, Copy)]
pub struct Start<'a> {
    /// `TEND_RESTART_COUNT`.
    pub restart_count: u32,
    /// `TEND_RESTART_REASON`.
    pub reason: &'a str,
    /// `TEND_LAST_EXIT`: how the previous run ended.
    pub last_exit: Option<Exit>,
}

/// The whole environment of one start of `program`, each variable with where it comes from,
/// by precedence (lowest first): dotenv files, tend's own environment (`inherited`), the
/// config's `env`, tend's variables. For a `runner = "docker"` program: dotenv files, the
/// `[docker]` table's `env`, the program's `env`, tend's variables with their paths as the
/// container sees them (`TEND_STATE_DIR=/tend/state`); tend's own environment is not passed
/// into a container (see [`env_layers`]). The one place this is computed: spawns and
/// `tend env` both use it, so `tend env` shows what a program gets. (`TEND_RUN_ID` is added by
/// the runner at each spawn.)
///
/// `shell`, for a `runner = "nix"` program whose dev shell is materialised, lays the shell's
/// variables over these exactly as the runner does at each spawn ([`ShellEnv::apply`] over
/// what tend passes, the rest inherited): spawns pass `None` (the runner applies it) and
/// `tend env` passes the shell, to show the whole.
///
/// # Errors
/// A dotenv file that exists but cannot be read.
pub fn program_environment(
    app: &AppContext,
    program: &ProgramConfig,
    start: &Start<'_>,
    inherited: &std::collections::BTreeMap<String, String>,
    shell: Option<&ShellEnv>,
) -> Result<std::collections::BTreeMap<String, env_layers::Var>, tend_fs::FsError> {
    let files = env_layers::dotenv_files(&app.tend_home, &app.folder, program);
    let file_vars = env_layers::from_files(&app.dotenv, &files)?;
    let tend = tend_vars(app, program, start.restart_count, start.reason, start.last_exit);
    if program.runner != Runner::Docker {
        let mut vars = env_layers::combine(&tend, &program.env, inherited, file_vars);
        if let Some(shell) = shell.filter(|_| program.runner == Runner::Nix) {
            lay_shell(&mut vars, shell, inherited.get("PATH").map(String::as_str));
        }
        return Ok(vars);
    }
    let none = std::collections::BTreeMap::new();
    let docker = app.docker.as_ref().map_or(&none, |docker| &docker.env);
    let layers = [(docker, env_layers::Source::Docker), (&program.env, env_layers::Source::Config)];
    Ok(env_layers::layered(file_vars, &layers, &tend))
}

/// Lays `shell` over `vars` as a spawn does: what tend passes (all but what it inherits) goes
/// through [`ShellEnv::apply`] with tend's PATH (`outer_path`); what comes out changed is the
/// shell's.
fn lay_shell(
    vars: &mut std::collections::BTreeMap<String, env_layers::Var>,
    shell: &ShellEnv,
    outer_path: Option<&str>,
) {
    let passed: tend_runner::EnvVars = vars
        .values()
        .filter(|var| var.source != env_layers::Source::Environment)
        .map(|var| (var.key.clone(), var.value.clone()))
        .collect();
    let applied = shell.apply(&passed, outer_path);
    for (key, value) in applied.iter() {
        if vars.get(key).map(|var| var.value.as_str()) == Some(value) {
            continue;
        }
        let (key, value) = (key.to_owned(), value.to_owned());
        let var = env_layers::Var { key: key.clone(), value, source: env_layers::Source::NixShell };
        vars.insert(key, var);
    }
}

/// The variables tend gives a program (`TEND_*`), for a start with `restart_count` and
/// `reason`, its previous run having ended with `last_exit`. `TEND_RUN_ID` is added by the
/// runner at each spawn. The paths are the host's, or for a `runner = "docker"` program the
/// container's (under [`crate::docker::STATE_TARGET`]).
pub fn tend_vars(
    app: &AppContext,
    program: &ProgramConfig,
    restart_count: u32,
    reason: &str,
    last_exit: Option<Exit>,
) -> Vec<(String, String)> {
    let home = &app.home;
    let path = |path: &std::path::Path| match program.runner {
        Runner::Docker => crate::docker::container_path(path, &app.folder, &home.dir)
            .unwrap_or_else(|| path.to_string_lossy().into_owned()),
        _ => path.to_string_lossy().into_owned(),
    };
    [
        ("TEND_APP", home.app.clone()),
        ("TEND_PROGRAM", program.name.clone()),
        ("TEND_STATE_DIR", path(&home.dir)),
        ("TEND_STARTUP_KIND", app.startup_kind.clone()),
        ("TEND_RESTART_COUNT", restart_count.to_string()),
        ("TEND_RESTART_REASON", reason.to_string()),
        (
            "TEND_RESTART_EXIT_CODE",
            program.restart_exit_code.map(|c| c.to_string()).unwrap_or_default(),
        ),
        ("TEND_LAST_EXIT", last_exit.map(last_exit_text).unwrap_or_default()),
    ]
    .into_iter()
    .chain(app.recovery.iter().map(|p| ("TEND_RECOVERY", path(p))))
    .chain(app.restart_context.iter().map(|p| ("TEND_RESTART_CONTEXT", path(p))))
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// `TEND_LAST_EXIT`: `exit:3`, or `signal:KILL` (`signal:77` for a signal without a common
/// name).
///
/// ```
/// use tend_supervisor::Exit;
/// assert_eq!(tend_app::programs::launch::last_exit_text(Exit::Code(3)), "exit:3");
/// assert_eq!(tend_app::programs::launch::last_exit_text(Exit::Signal(9)), "signal:KILL");
/// ```
pub fn last_exit_text(exit: Exit) -> String {
    match exit {
        Exit::Code(code) => format!("exit:{code}"),
        Exit::Signal(number) => match exit.signal_name() {
            Some(name) => format!("signal:{name}"),
            None => format!("signal:{number}"),
        },
    }
}

impl Launcher for ProgramLauncher {
    fn launch(&self, ctx: LaunchContext) -> BoxFuture<'_, Result<Box<dyn Running>, LaunchError>> {
        Box::pin(async move {
            let child = self.start(ctx).await?;
            Ok(Box::new(RunningChild(child)) as Box<dyn Running>)
        })
    }
}

/// A running child of any environment, as the supervisor sees it.
pub struct RunningChild(pub Box<dyn Child>);

impl Running for RunningChild {
    fn pid(&self) -> Option<u32> {
        self.0.pid()
    }

    fn wait(&self) -> BoxFuture<'_, Exit> {
        Box::pin(async move { self.0.wait().await.unwrap_or(Exit::Code(-1)) })
    }

    fn stop(&self) -> BoxFuture<'_, Exit> {
        Box::pin(async move {
            match self.0.stop().await {
                Ok(report) => {
                    if !report.survivors.is_empty() {
                        tracing::error!(
                            "processes {:?} survived SIGKILL; they are still recorded and `tend reap` will retry",
                            report.survivors
                        );
                    }
                    report.end.unwrap_or(Exit::Code(-1))
                }
                Err(_) => self.0.wait().await.unwrap_or(Exit::Code(-1)),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::collections::BTreeMap;
    use std::path::Path;

    use super::*;
    use crate::config::{Config, DockerConfig};

    fn context(folder: &Path, tend_home: &Path, docker: Option<DockerConfig>) -> AppContext {
        let home = AppHome::new(tend_home, "bot");
        AppContext {
            recovery: Some(home.dir.join("recovery.json")),
            restart_context: Some(home.dir.join("restart-context.json")),
            home,
            startup_kind: "start".into(),
            tend_home: tend_home.to_path_buf(),
            folder: folder.to_path_buf(),
            dotenv: Arc::new(DotenvCache::new()),
            log_health: crate::program_log::LogHealth::default(),
            docker,
        }
    }

    fn values(vars: &BTreeMap<String, env_layers::Var>) -> BTreeMap<&str, (&str, String)> {
        vars.values().map(|v| (v.key.as_str(), (v.value.as_str(), v.source.to_string()))).collect()
    }

    #[test]
    fn a_docker_program_gets_container_paths_and_no_host_environment() {
        let dir = tempfile::tempdir().unwrap();
        let (folder, tend_home) = (dir.path().join("app"), dir.path().join("home"));
        let text = "[programs.web]\ncommand = \"x\"\nrunner = \"docker\"\nenv = { A = \"program\" }\n\
                    [programs.native]\ncommand = \"x\"\nenv = { A = \"program\" }\n\
                    [docker]\nimage = \"busybox\"\nenv = { A = \"docker\", B = \"docker\" }\n";
        let config = Config::parse(text, &folder.join("tend.toml")).unwrap();
        let app = context(&folder, &tend_home, config.docker.as_deref().cloned());
        let start = Start { restart_count: 2, reason: "crash", last_exit: Some(Exit::Code(3)) };
        let inherited: BTreeMap<String, String> =
            [("PATH".to_owned(), "/host/bin".to_owned())].into();

        let web = program_environment(&app, &config.programs[0], &start, &inherited, None).unwrap();
        let web = values(&web);
        assert_eq!(web["A"], ("program", "config".into()));
        assert_eq!(web["B"], ("docker", "config [docker]".into()));
        assert_eq!(web["TEND_STATE_DIR"].0, "/tend/state");
        assert_eq!(web["TEND_RECOVERY"].0, "/tend/state/recovery.json");
        assert_eq!(web["TEND_RESTART_CONTEXT"].0, "/tend/state/restart-context.json");
        assert_eq!(web["TEND_LAST_EXIT"].0, "exit:3");
        assert!(!web.contains_key("PATH"), "the host's PATH stays out of the container");

        // A native program of the same app: host paths, tend's environment, no [docker] env.
        let native =
            program_environment(&app, &config.programs[1], &start, &inherited, None).unwrap();
        let native = values(&native);
        let state = app.home.dir.to_string_lossy().into_owned();
        assert_eq!(native["TEND_STATE_DIR"].0, state);
        assert_eq!(native["PATH"], ("/host/bin", "environment".into()));
        assert!(!native.contains_key("B"));

        // Without a [docker] table (an error elsewhere), still no host environment.
        let bare = context(&folder, &tend_home, None);
        let web =
            program_environment(&bare, &config.programs[0], &start, &inherited, None).unwrap();
        assert!(!web.contains_key("PATH") && !web.contains_key("B"));
    }

    #[test]
    fn a_nix_program_gets_the_shell_as_the_runner_lays_it() {
        let dir = tempfile::tempdir().unwrap();
        let (folder, tend_home) = (dir.path().join("app"), dir.path().join("home"));
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(folder.join(".env"), "SECRET=s\nFROM_SHELL=file\n").unwrap();
        let text = "[programs.dev]\ncommand = \"x\"\nrunner = \"nix\"\n\
                    env = { MINE = \"config\", FOO = \"config\" }\n";
        let config = Config::parse(text, &folder.join("tend.toml")).unwrap();
        let app = context(&folder, &tend_home, None);
        let start = Start { restart_count: 0, reason: "start", last_exit: None };
        let inherited: BTreeMap<String, String> = [
            ("PATH", "/usr/bin"),
            ("HOME", "/home/me"),
            ("INHERITED", "tend"),
            ("FROM_SHELL", "tend"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let json = r#"{"variables":{
            "FOO":{"type":"exported","value":"shell"},
            "INHERITED":{"type":"exported","value":"shell"},
            "FROM_SHELL":{"type":"exported","value":"shell"},
            "ONLY":{"type":"exported","value":"shell"},
            "HOME":{"type":"exported","value":"/homeless-shelter"},
            "PATH":{"type":"exported","value":"/nix/store/x/bin"}}}"#;
        let shell = ShellEnv::parse(json.as_bytes()).unwrap();
        let program = &config.programs[0];
        let shown = program_environment(&app, program, &start, &inherited, Some(&shell)).unwrap();
        let view = values(&shown);
        assert_eq!(view["FOO"], ("config", "config".into()), "the program's env wins");
        assert_eq!(view["MINE"], ("config", "config".into()));
        assert_eq!(view["ONLY"], ("shell", "nix dev shell".into()));
        assert_eq!(view["INHERITED"], ("shell", "nix dev shell".into()), "over tend's own");
        // tend's environment wins over the .env file, and the shell over both.
        assert_eq!(view["FROM_SHELL"], ("shell", "nix dev shell".into()));
        assert_eq!(view["PATH"], ("/nix/store/x/bin:/usr/bin", "nix dev shell".into()));
        assert_eq!(view["HOME"], ("/home/me", "environment".into()), "HOME stays the user's");
        assert!(view["SECRET"].1.ends_with(".env"));

        // What a spawn ends with: tend's environment, then what the launcher passes, laid
        // over by the runner.
        let passed = program_environment(&app, program, &start, &inherited, None).unwrap();
        let passed: tend_runner::EnvVars = passed
            .values()
            .filter(|v| v.source != env_layers::Source::Environment)
            .map(|v| (v.key.clone(), v.value.clone()))
            .collect();
        let mut spawned = inherited.clone();
        for (k, v) in shell.apply(&passed, Some("/usr/bin")).iter() {
            spawned.insert(k.to_owned(), v.to_owned());
        }
        let shown: BTreeMap<String, String> =
            shown.into_values().map(|v| (v.key, v.value)).collect();
        assert_eq!(shown, spawned, "tend env shows what the program gets");
    }
}
