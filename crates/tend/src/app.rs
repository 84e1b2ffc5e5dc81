//! Running an app in the foreground: `tend up` and `tend run`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tend_supervisor::{
    Event, EventKind, Exit, Policy, ProgramSpec, ProgramState, RestartPolicy, Snapshot, Supervisor,
};

use crate::cli::RunArgs;
use crate::config::{Config, ProgramConfig, Restart};
use crate::exit::{self, CliError};
use crate::home::AppHome;
use crate::launch::{AppContext, ProgramLauncher};
use crate::lifecycle::lock::AppLock;
use crate::lifecycle::startup::Startup;
use crate::logfile::RotatingFile;
use crate::terminal::{ProgramSink, Terminal};

/// Options every command shares.
#[derive(Debug, Clone)]
pub struct Global {
    /// The tend home.
    pub home: PathBuf,
    /// Whether to colour output.
    pub color: bool,
    /// `-v` count.
    pub verbose: u8,
    /// `-q`.
    pub quiet: bool,
}

impl Global {
    /// The log level for tend's own events.
    pub fn level(&self) -> String {
        crate::logging::level(self.verbose, self.quiet).to_string()
    }
}

/// How the app was started: it decides the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Up,
    Run,
}

/// `tend up`.
///
/// # Errors
/// A configuration error (exit 1), or a state folder that cannot be created.
pub async fn up(global: &Global, file: &Path, replace: bool) -> Result<u8, CliError> {
    let config = Config::load(file).map_err(|e| CliError::error(e.to_string()))?;
    run_app(global, config, Mode::Up, replace).await
}

/// `tend run`.
///
/// # Errors
/// Bad options (exit 1), or a state folder that cannot be created.
pub async fn run(global: &Global, args: RunArgs) -> Result<u8, CliError> {
    let cwd = std::env::current_dir()
        .map_err(|e| CliError::error(format!("cannot read the current directory: {e}")))?;
    let name = match &args.name {
        Some(name) => name.clone(),
        None => {
            let base = args.command.first().map(|c| {
                Path::new(c)
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default()
            });
            crate::config::sanitize_name(&base.unwrap_or_default())
        }
    };
    let mut program = ProgramConfig::new(name.clone(), args.command.clone(), cwd);
    program.restart = Restart::from_name(&args.restart).ok_or_else(|| {
        CliError::error(format!(
            "--restart: unknown policy `{}`; expected always, on-failure or never",
            args.restart
        ))
    })?;
    program.restart_exit_code = Some(args.restart_exit_code);
    program.backoff.initial = args.backoff_initial;
    program.backoff.max = args.backoff_max.max(args.backoff_initial);
    program.stop.timeout = args.stop_timeout;
    let config = Config::single(name, program).map_err(|e| CliError::error(e.to_string()))?;
    run_app(global, config, Mode::Run, args.replace).await
}

fn policy_of(program: &ProgramConfig) -> Policy {
    Policy {
        restart: match program.restart {
            Restart::Always => RestartPolicy::Always,
            Restart::OnFailure => RestartPolicy::OnFailure,
            Restart::Never => RestartPolicy::Never,
        },
        restart_exit_code: program.restart_exit_code,
        backoff: program.backoff,
        max_restarts: program.max_restarts,
    }
}

async fn run_app(
    global: &Global,
    config: Config,
    mode: Mode,
    replace: bool,
) -> Result<u8, CliError> {
    if let Some(program) =
        config.programs.iter().find(|p| p.runner != crate::config::Runner::Native)
    {
        return Err(CliError::error(format!(
            "program `{}`: runner `{}` is not available yet; use runner = \"native\"",
            program.name, program.runner
        )));
    }
    let home = AppHome::new(&global.home, &config.name);
    home.create().map_err(|e| {
        CliError::error(format!(
            "cannot create the state folder {}: {e}; set TEND_HOME or --home to a writable folder",
            home.dir.display()
        ))
    })?;
    crate::logging::init(&global.level(), global.color, Some(&home.tend_log()));
    // One instance per app, before anything is reaped or started; held until tend exits.
    let command = if mode == Mode::Up { "tend up" } else { "tend run" };
    let _lock = AppLock::acquire(&home.pid_file(), replace)
        .await
        .map_err(|e| CliError::error(e.explain(&config.name, command)))?;
    let startup = Startup::begin(&home).map_err(|e| {
        CliError::error(format!("{}: cannot record the start: {}", config.name, exit::chain(&e)))
    })?;
    tracing::info!("{}: startup kind {}", config.name, startup.kind);
    // Listen before any program starts: a SIGTERM from then on is a graceful stop, never the
    // default action (which would kill tend and leave its programs behind).
    let mut stop_signals = StopSignals::new()?;
    if let Err(e) = tend_runner::enable_subreaper() {
        tracing::debug!("no child subreaper: {e}");
    }
    crate::reap::reap_app(&home).await;

    let terminal = Terminal::new(global.color, global.quiet);
    let width = config.programs.iter().map(|p| p.name.len()).max().unwrap_or(0);
    let context = Arc::new(AppContext {
        home: home.clone(),
        startup_kind: startup.kind.as_str().into(),
        tend_home: global.home.clone(),
        folder: config.folder.clone(),
        dotenv: Arc::new(tend_fs::dotenv::DotenvCache::new()),
    });
    let (supervisor, mut events) = Supervisor::new();
    tracing::info!(
        "{}: starting {} program(s); logs in {}",
        config.name,
        config.programs.len(),
        home.logs().display()
    );
    for (index, program) in config.programs.iter().enumerate() {
        let log = match RotatingFile::open(
            &home.program_log(&program.name),
            program.log.max_size,
            program.log.max_files,
        ) {
            Ok(file) => Some(file),
            Err(e) => {
                tracing::warn!("{}: cannot open its log file: {e}", program.name);
                None
            }
        };
        let sink =
            ProgramSink::new(terminal.clone(), terminal.prefix(index, &program.name, width), log);
        let launcher = ProgramLauncher::new(context.clone(), program.clone(), Arc::new(sink));
        supervisor.add(ProgramSpec {
            name: program.name.clone(),
            policy: policy_of(program),
            launcher: Arc::new(launcher),
        });
    }
    // The control API (tend status, restart, down): its socket goes when `control` is dropped.
    let control =
        crate::control::server::ControlServer::start(crate::control::server::ServerConfig {
            home: home.clone(),
            supervisor: supervisor.clone(),
            startup_kind: context.startup_kind.clone(),
            runners: config
                .programs
                .iter()
                .map(|p| (p.name.clone(), p.runner.to_string()))
                .collect(),
            stop: stop_signals.requester(),
        });

    let idle = supervisor.wait_idle();
    tokio::pin!(idle);
    let outcome = loop {
        tokio::select! {
            Some(event) = events.recv() => log_event(&event),
            finals = &mut idle => break Outcome::Idle(finals),
            signal = stop_signals.recv() => {
                tracing::info!("{signal}: stopping every program");
                let stopping = supervisor.stop_all();
                tokio::pin!(stopping);
                loop {
                    tokio::select! {
                        Some(event) = events.recv() => log_event(&event),
                        () = &mut stopping => break,
                        signal = stop_signals.recv() => {
                            tracing::warn!("{signal} again: still stopping gracefully (programs get their stop timeout, then SIGKILL)");
                        }
                    }
                }
                break Outcome::Stopped;
            }
        }
    };
    while let Ok(event) = events.try_recv() {
        log_event(&event);
    }
    drop(control);
    if let Err(e) = startup.finish() {
        tracing::warn!("cannot record the clean shutdown: {}", exit::chain(&e));
    }
    Ok(match outcome {
        Outcome::Stopped => exit::SUCCESS,
        Outcome::Idle(finals) => exit_code(mode, &finals),
    })
}

enum Outcome {
    Idle(Vec<Snapshot>),
    Stopped,
}

/// `tend up`: 1 if any program is fatal, else 0. `tend run`: the program's last exit code
/// (128+N for signal N), or 1 if it never ran.
fn exit_code(mode: Mode, finals: &[Snapshot]) -> u8 {
    match mode {
        Mode::Up => {
            if finals.iter().any(|s| s.state == ProgramState::Fatal) {
                exit::ERROR
            } else {
                exit::SUCCESS
            }
        }
        Mode::Run => match finals.first() {
            Some(Snapshot { state: ProgramState::Stopped, .. }) => exit::SUCCESS,
            Some(Snapshot { last_exit: Some(exit), .. }) => shell_code(*exit),
            _ => exit::ERROR,
        },
    }
}

fn shell_code(exit: Exit) -> u8 {
    let code = match exit {
        Exit::Code(code) => code,
        Exit::Signal(signal) => 128 + signal,
    };
    u8::try_from(code.rem_euclid(256)).unwrap_or(exit::ERROR)
}

/// Formats a duration for people: `850ms`, `2.5s`, `1m 30s`.
pub fn human(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{}ms", d.as_millis())
    } else if d < Duration::from_secs(60) {
        format!("{:.1}s", d.as_secs_f64())
    } else {
        humantime::format_duration(Duration::from_secs(d.as_secs())).to_string()
    }
}

fn log_event(event: &Event) {
    let name = &event.program;
    match &event.kind {
        EventKind::Spawned { pid, restart_count: 0, .. } => {
            tracing::info!("{name}: started (pid {})", pid.unwrap_or_default());
        }
        EventKind::Spawned { pid, restart_count, reason } => tracing::info!(
            "{name}: started (pid {}, restart {restart_count}, reason {})",
            pid.unwrap_or_default(),
            reason.as_str()
        ),
        EventKind::Exited { exit, uptime } => {
            tracing::info!("{name}: exited with {exit} after {}", human(*uptime));
        }
        EventKind::BackingOff { delay, attempt } => {
            tracing::warn!("{name}: restarting in {} (attempt {attempt})", human(*delay));
        }
        EventKind::RestartingNow { reason } => {
            tracing::info!("{name}: restarting now ({})", reason.as_str());
        }
        EventKind::Fatal { crashes, within, last_exit } => match last_exit {
            Some(_) => tracing::error!(
                "{name}: fatal: crashed {crashes} time(s) within {}; not restarting (see its log, then `tend up` again)",
                human(*within)
            ),
            None => tracing::error!("{name}: fatal: it cannot be started; not retrying"),
        },
        EventKind::Done { exit } => tracing::info!("{name}: done ({exit})"),
        EventKind::Stopped => tracing::info!("{name}: stopped"),
        EventKind::SpawnFailed { error } => {
            tracing::error!("{name}: cannot start: {}", error.message());
        }
    }
}

/// SIGINT and SIGTERM (Ctrl-C elsewhere), and stop requests (the control API's `tend down`).
struct StopSignals {
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    requests: tokio::sync::mpsc::UnboundedReceiver<&'static str>,
    requester: tokio::sync::mpsc::UnboundedSender<&'static str>,
}

impl StopSignals {
    fn new() -> Result<Self, CliError> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let listen = |kind| {
                signal(kind).map_err(|e| CliError::error(format!("cannot listen for signals: {e}")))
            };
            let (requester, requests) = tokio::sync::mpsc::unbounded_channel();
            Ok(StopSignals {
                int: listen(SignalKind::interrupt())?,
                term: listen(SignalKind::terminate())?,
                requests,
                requester,
            })
        }
        #[cfg(not(unix))]
        {
            let (requester, requests) = tokio::sync::mpsc::unbounded_channel();
            Ok(StopSignals { requests, requester })
        }
    }

    /// Where a stop request (with its reason) goes: it stops the app as a signal does.
    fn requester(&self) -> tokio::sync::mpsc::UnboundedSender<&'static str> {
        self.requester.clone()
    }

    async fn recv(&mut self) -> &'static str {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.int.recv() => "SIGINT",
                _ = self.term.recv() => "SIGTERM",
                Some(why) = self.requests.recv() => why,
            }
        }
        #[cfg(not(unix))]
        {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => "Ctrl-C",
                Some(why) = self.requests.recv() => why,
            }
        }
    }
}
