//! Running an app in the foreground ([`App::run`]): what `tend up` and `tend run` do.
//!
//! - `options`: what to run and how ([`AppOptions`], [`Source`]) and how it ended ([`Outcome`]);
//! - `events`: the supervisor's events and the stop signals, as tend's own log sees them.

mod events;
mod options;

pub use options::{AppOptions, Outcome, Source};

use events::{StopSignals, log_event};

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tend_api::AppHome;
use tend_supervisor::{ProgramState, Snapshot, Supervisor};

use crate::config::Config;
use crate::error::AppError;
use crate::lifecycle::lock::AppLock;
use crate::lifecycle::restart;
use crate::lifecycle::startup::Startup;
use crate::programs::environments::Environments;
use crate::programs::launch::AppContext;
use crate::terminal::Terminal;

/// The app runtime: [`App::run`] runs one app until it is stopped, its programs end, or a
/// restart of the whole app is asked for.
#[derive(Debug)]
pub struct App;

impl App {
    /// Runs the app of `options` until it is stopped, its programs end, or it restarts.
    ///
    /// # Errors
    /// A configuration error, a state folder that cannot be used, an app already running
    /// (without `replace`), or a restart by executing tend again that fails. Every error is
    /// written to the app's `tend.log` too, once the app is known.
    pub async fn run(options: AppOptions) -> Result<Outcome, AppError> {
        match options.source.clone() {
            Source::File { path, watch } => {
                let config = match Config::load(&path) {
                    Ok(config) => config,
                    Err(e) => {
                        report_broken_file(&options, &path, &e.to_string());
                        return Err(AppError::Config(e));
                    }
                };
                let how = Invocation {
                    mode: Mode::Up,
                    hint: crate::detach::file_flag(&path),
                    file: Some(path.clone()),
                };
                run_app(&options, config, how, watch.then_some(path.as_path())).await
            }
            Source::Config(config) => {
                let how = Invocation {
                    mode: Mode::Run,
                    hint: format!(" --name {}", crate::detach::shell_word(&config.name)),
                    file: None,
                };
                run_app(&options, config, how, None).await
            }
        }
    }
}

/// The app of a broken `tend.toml` is known when it ran from this file before: its log hears
/// of the error too.
fn report_broken_file(options: &AppOptions, file: &Path, message: &str) {
    if let Some(name) = crate::home::broken_file_app(&options.tend_home, file) {
        let home = AppHome::new(&options.tend_home, &name);
        if home.check_private().is_ok() && home.create().is_ok() {
            crate::logging::init(&options.log_level, options.color, Some(&home.tend_log()));
            crate::lifecycle::failure::report(&home, message);
        }
    }
}

/// How the app was started: `tend up` or `tend run`, for the hints in messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Up,
    Run,
}

/// How this app was started, for the hints in messages.
struct Invocation {
    mode: Mode,
    /// How later commands name the app: ` -f FILE`, ` --name NAME`, or nothing for the
    /// default `tend.toml`.
    hint: String,
    /// The app's `tend.toml`, recorded in `state.json` so that commands find the app's name
    /// even while the file has errors.
    file: Option<PathBuf>,
}

impl Invocation {
    /// `tend up -f FILE`, `tend run`: the command, for hints like `… --replace`.
    fn command(&self) -> String {
        match self.mode {
            Mode::Up => format!("tend up{}", self.hint),
            Mode::Run => "tend run".to_owned(),
        }
    }
}

async fn run_app(
    options: &AppOptions,
    config: Config,
    how: Invocation,
    watch_config: Option<&Path>,
) -> Result<Outcome, AppError> {
    if let Some(message) = crate::programs::unavailable_runner(&config) {
        return Err(AppError::UnavailableRunner(message));
    }
    let home = AppHome::new(&options.tend_home, &config.name);
    // Before anything in it is created, read or appended to (tend.log included).
    home.check_private().map_err(AppError::NotPrivate)?;
    home.create().map_err(|source| AppError::StateFolder { dir: home.dir.clone(), source })?;
    crate::logging::init(&options.log_level, options.color, Some(&home.tend_log()));
    let result = supervise(options, config, &home, how, watch_config).await;
    if let Err(e) = &result {
        // Into tend.log too (the terminal gets it from the binary): a service's tend that
        // cannot start says why where `tend service logs` looks.
        crate::lifecycle::failure::report(&home, &e.to_string());
    }
    result
}

/// Runs the app whose state folder `home` is set up and whose log is open.
async fn supervise(
    options: &AppOptions,
    mut config: Config,
    home: &AppHome,
    how: Invocation,
    watch_config: Option<&Path>,
) -> Result<Outcome, AppError> {
    let home = home.clone();
    // Before anything starts: an app that cannot fit under the descriptor limit says so now,
    // never program by program.
    let api_connections = crate::descriptors::prepare(&config)
        .map_err(|message| AppError::Descriptors { app: config.name.clone(), message })?;
    // One instance per app, before anything is reaped or started; held until tend exits.
    let command = how.command();
    let lock = AppLock::acquire(&home.pid_file(), options.replace).await.map_err(|source| {
        let message = source.explain(&config.name, &command, &how.hint);
        AppError::Lock { source, message }
    })?;
    let startup = Startup::begin(&home, how.file.as_deref())
        .map_err(|source| AppError::RecordStart { app: config.name.clone(), source })?;
    tracing::info!("{}: startup kind {}", config.name, startup.kind);
    // `tend update` left the old and new versions; the background check starts its clock.
    let update = crate::update_watch::UpdateState::default();
    crate::update_watch::take_upgrade(&home, &update);
    // What happens, for `GET /v1/events` followers (from the first program on).
    let hub = crate::control::events::EventHub::default();
    crate::update_watch::start(&config.update, &options.tend_home, update.clone(), hub.clone());
    // In-flight work the previous run left open: handed over as TEND_RECOVERY where it applies.
    let recovered = crate::inflight::recover(&home, startup.kind, config.inflight.max_age);
    let restart_context = publish_restart_context(&home, startup.restart_context.as_ref())?;
    // Listen before any program starts: a SIGTERM from then on is a graceful stop, never the
    // default action (which would kill tend and leave its programs behind).
    let mut stop_signals = StopSignals::new()?;
    if let Err(e) = tend_runner::enable_subreaper() {
        tracing::debug!("no child subreaper: {e}");
    }
    // One environment per runner kind; what a tend that is gone left in any of them ends now.
    // runner = "auto": chosen once, from what this start sees.
    let probe = crate::programs::choice::Probe::take(&config).await;
    let choices = crate::programs::choice::resolve(&mut config, &probe);
    crate::programs::choice::log_choices(&choices);
    let env_options = crate::programs::environments::EnvOptions::new(&options.tend_home, probe);
    let environments = Arc::new(Environments::for_config(&config, &home, &env_options));
    environments.reap_leftovers(&home).await;

    // Orphans whose program cannot be told are ended at app stop, as politely as the most
    // patient program.
    let orphan_grace =
        config.programs.iter().map(|p| p.stop.grace).max().unwrap_or(Duration::from_secs(10));
    let terminal = Terminal::new(options.color, options.quiet);
    let context = Arc::new(AppContext {
        home: home.clone(),
        startup_kind: startup.kind.as_str().into(),
        tend_home: options.tend_home.clone(),
        folder: config.folder.clone(),
        recovery: recovered.file.clone(),
        restart_context,
        dotenv: Arc::new(tend_fs::dotenv::DotenvCache::new()),
        log_health: crate::program_log::LogHealth::default(),
        docker: config.docker.as_deref().cloned(),
    });
    let (supervisor, mut events) = Supervisor::new();
    // Restarts of the whole app: the `restart-requested` marker and `tend restart --app`.
    // Both listen before any program starts, so that a program's first request is heard.
    let (restart_requester, mut restart_requests) = tokio::sync::mpsc::unbounded_channel();
    let _marker_watch = restart::MarkerWatch::start(&home, restart_requester.clone())
        .inspect_err(|e| {
            tracing::warn!(
                "cannot watch {} for restart-requested: {e}; `tend restart --app` still works",
                home.dir.display()
            );
        })
        .ok();
    // The control API (tend status, restart, down, inflight): its socket goes when `control`
    // is closed.
    let runners = crate::control::server::Runners::default();
    let control =
        crate::control::server::ControlServer::start(crate::control::server::ServerConfig {
            home: home.clone(),
            supervisor: supervisor.clone(),
            startup_kind: context.startup_kind.clone(),
            runners: runners.clone(),
            stop: stop_signals.requester(),
            restart_app: restart_requester,
            inflight: recovered.state.clone(),
            max_connections: api_connections,
            log_health: context.log_health.clone(),
            update,
            events: hub.clone(),
        });
    tracing::info!(
        "{}: starting {} program(s); logs in {}",
        config.name,
        config.programs.len(),
        home.logs().display()
    );
    // Each program's log, output and launcher, and its file watcher (`watch`); each one is
    // spawned before the next, in file order.
    let programs = crate::programs::ProgramSet::start(
        &supervisor,
        &context,
        &terminal,
        &config,
        &environments,
        runners,
    )
    .await;
    // `tend up --watch-config`: edits of tend.toml are applied to `programs` as they come.
    let _config_watch = watch_config.and_then(|file| {
        crate::programs::ConfigWatch::start(file, programs.clone())
            .inspect_err(|e| tracing::warn!("--watch-config: {e}; tend.toml is not reloaded"))
            .ok()
    });
    // An edited flake applies at its programs' next start (at once for those with `watch`).
    let _flake_watch = crate::programs::FlakeWatch::start(&environments, &programs);
    // `tend up -d` waits for this: the API answers and every program had its first launch.
    crate::detach::notify(&handshake(&supervisor, control.is_serving()));

    let idle = supervisor.wait_idle();
    tokio::pin!(idle);
    let outcome = loop {
        tokio::select! {
            Some(event) = events.recv() => log_event(&event, &hub),
            finals = &mut idle => break Ended::Idle(finals),
            Some(request) = restart_requests.recv() => {
                tracing::info!(
                    "{}: restart of the app requested ({}); stopping every program",
                    config.name,
                    request.reason
                );
                // Written first: if tend dies while stopping, the next start still gets it.
                if let Err(e) = restart::write_sentinel(&home, &request) {
                    tracing::error!("cannot record the restart request: {}", crate::error::chain(&e));
                }
                stop_all(&supervisor, &mut events, &mut stop_signals, &hub).await;
                break Ended::Restart;
            }
            signal = stop_signals.recv() => {
                tracing::info!("{signal}: stopping every program");
                stop_all(&supervisor, &mut events, &mut stop_signals, &hub).await;
                break Ended::Stopped;
            }
        }
    };
    while let Ok(event) = events.try_recv() {
        log_event(&event, &hub);
    }
    // Orphans adopted as subreaper that could not be told apart (they scrubbed their
    // environment while several programs ran), and what each environment holds.
    environments.shutdown(&config.name, orphan_grace).await;
    control.close().await;
    if let Err(e) = startup.finish() {
        tracing::warn!("cannot record the clean shutdown: {}", crate::error::chain(&e));
    }
    terminal.finish();
    match outcome {
        Ended::Stopped => Ok(Outcome::Stopped),
        Ended::Idle(finals) => Ok(Outcome::Finished(finals)),
        Ended::Restart => {
            let under_manager =
                crate::lifecycle::startup::under_service_manager(|key| std::env::var(key).ok());
            match restart::comeback(under_manager) {
                restart::Comeback::ExitForServiceManager => {
                    tracing::info!(
                        "{}: exiting with {} so that the service manager starts tend again",
                        config.name,
                        restart::SERVICE_RESTART_CODE
                    );
                    Ok(Outcome::RestartByServiceManager)
                }
                restart::Comeback::ReExecute => {
                    tracing::info!("{}: starting again", config.name);
                    // The next image takes the lock again.
                    drop(lock);
                    let source = restart::re_execute();
                    Err(AppError::ReExecute { app: config.name.clone(), command, source })
                }
            }
        }
    }
}

/// What `tend up -d` is told once every program had its first launch: which are fatal, and why.
fn handshake(supervisor: &Supervisor, api: bool) -> crate::detach::Handshake {
    let now = tokio::time::Instant::now();
    let snapshots = supervisor.snapshots();
    let fatal = snapshots
        .iter()
        .filter(|s| s.state == ProgramState::Fatal)
        .map(|s| crate::detach::FatalProgram {
            program: s.name.clone(),
            reason: crate::control::api::reason(s, now)
                .map_or_else(|| "fatal".to_owned(), |(_, text)| text),
        })
        .collect();
    crate::detach::Handshake::Ready { api, programs: snapshots.len(), fatal }
}

/// Stops every program gracefully (in one wave, see `Supervisor::stop_all`), logging events meanwhile; a second signal
/// only says that the stop goes on.
async fn stop_all(
    supervisor: &Supervisor,
    events: &mut tend_supervisor::EventReceiver,
    stop_signals: &mut StopSignals,
    hub: &crate::control::events::EventHub,
) {
    let stopping = supervisor.stop_all();
    tokio::pin!(stopping);
    loop {
        tokio::select! {
            Some(event) = events.recv() => log_event(&event, hub),
            () = &mut stopping => break,
            signal = stop_signals.recv() => {
                tracing::warn!("{signal} again: still stopping gracefully (programs get their stop timeout, then SIGKILL)");
            }
        }
    }
}

/// Hands the consumed restart sentinel to programs (`TEND_RESTART_CONTEXT`), or clears an old
/// one.
fn publish_restart_context(
    home: &AppHome,
    context: Option<&serde_json::Value>,
) -> Result<Option<PathBuf>, AppError> {
    if let Some(serde_json::Value::Object(sentinel)) = context
        && let Some(reason) = sentinel.get("reason").and_then(|r| r.as_str())
    {
        tracing::info!("{}: restarted because: {reason}", home.app);
    }
    restart::publish_context(home, context)
        .map_err(|source| AppError::RestartContext { app: home.app.clone(), source })
}

/// Why the app's main loop ended.
enum Ended {
    Idle(Vec<Snapshot>),
    Stopped,
    /// A restart of the whole app was requested; every program is stopped.
    Restart,
}
