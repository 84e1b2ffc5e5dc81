//! The running set of programs of an app: setting each one up (log file, output sink,
//! environment, launcher, file watcher), and changing the set to match a new config.

use std::collections::HashMap;
use std::sync::Arc;

use tend_supervisor::{
    Policy, ProgramHandle, ProgramSpec, ProgramState, RestartReason, Supervisor,
};
use tokio::sync::Mutex;

use crate::config::{Config, ProgramConfig};
use crate::control::server::Runners;
use crate::logfile::RotatingFile;
use crate::program_log::ProgramLog;
use crate::programs::environments::{Environments, environment_kind};
use crate::programs::launch::{AppContext, ProgramLauncher};
use crate::reload::{ProgramWatcher, app_level_changes, diff};
use crate::terminal::{ProgramSink, Terminal};

/// The app's programs as configured: set up at start, changed by a config reload. Cheap to
/// clone; every clone is the same set.
#[derive(Clone)]
pub struct ProgramSet {
    inner: Arc<Inner>,
}

struct Inner {
    setup: Setup,
    supervisor: Supervisor,
    runners: Runners,
    /// Changes are applied one at a time.
    state: Mutex<State>,
}

/// What setting up a program takes.
struct Setup {
    context: Arc<AppContext>,
    terminal: Arc<Terminal>,
    /// The app's environments, one per runner kind its programs use.
    environments: Arc<Environments>,
    /// Where each program runs, for `tend status` (a launcher says when it falls back).
    runners: Runners,
}

struct State {
    /// The config the running programs follow.
    config: Config,
    /// Each program's colour index, kept across its changes.
    colours: HashMap<String, usize>,
    /// Width of the name column of the output prefixes.
    width: usize,
    watchers: HashMap<String, ProgramWatcher>,
}

impl std::fmt::Debug for ProgramSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProgramSet").finish_non_exhaustive()
    }
}

impl ProgramSet {
    /// Sets up and starts every program of `config` on `supervisor`, in file order, each with
    /// its file watcher if it has `watch`, in `environments`; `runners` (shared with the
    /// control API) is kept current. Each program is spawned (or has failed to spawn) before the next one starts:
    /// this resolves once every program has had its first launch.
    pub async fn start(
        supervisor: &Supervisor,
        context: &Arc<AppContext>,
        terminal: &Arc<Terminal>,
        config: &Config,
        environments: &Arc<Environments>,
        runners: Runners,
    ) -> ProgramSet {
        runners.set(config);
        let setup = Setup {
            context: Arc::clone(context),
            terminal: Arc::clone(terminal),
            environments: Arc::clone(environments),
            runners: runners.clone(),
        };
        let mut state = State {
            config: config.clone(),
            colours: HashMap::new(),
            width: config.programs.iter().map(|p| p.name.len()).max().unwrap_or(0),
            watchers: HashMap::new(),
        };
        // Every program is listed at once (status shows them all), then each is spawned after
        // the one before it in the file.
        let mut handles = Vec::with_capacity(config.programs.len());
        for program in &config.programs {
            let handle = supervisor.add_stopped(setup.spec(&mut state, program));
            watch(&mut state, program, handle.clone());
            handles.push(handle);
        }
        for handle in &handles {
            if !supervisor.start(handle).await {
                break;
            }
        }
        let inner =
            Inner { setup, supervisor: supervisor.clone(), runners, state: Mutex::new(state) };
        ProgramSet { inner: Arc::new(inner) }
    }

    /// Each program's runner, by name, kept up to date by reloads (for the control API).
    pub fn runners(&self) -> Runners {
        self.inner.runners.clone()
    }

    /// Changes the running set to match `new`: removed programs are stopped gracefully and
    /// dropped, changed ones get their new settings and are restarted (reason `config_change`;
    /// one stopped by hand stays stopped), added ones are set up and started, and the others
    /// are left alone. App-level settings that cannot change live are reported as a warning.
    /// Does nothing once the app is stopping.
    pub async fn apply(&self, mut new: Config) {
        let inner = &self.inner;
        let mut state = inner.state.lock().await;
        if inner.supervisor.is_stopping() {
            return;
        }
        // runner = "auto" chooses as it did at the start; a new choice is logged.
        let choices = super::choice::resolve(&mut new, &inner.setup.environments.probe());
        let fresh: Vec<_> = choices
            .into_iter()
            .filter(|(name, choice)| {
                state.config.program(name).and_then(|p| p.auto.as_deref())
                    != Some(choice.reason.as_str())
            })
            .collect();
        super::choice::log_choices(&fresh);
        let changes = app_level_changes(&state.config, &new);
        if !changes.is_empty() {
            tracing::warn!(
                "{}: tend.toml changed {}; restart tend to apply that (`tend restart --app`)",
                state.config.name,
                changes.join(" and ")
            );
        }
        let diff = diff(&state.config.programs, &new.programs);
        if diff.is_empty() {
            tracing::info!("{}: tend.toml reloaded: no program changed", state.config.name);
            return;
        }
        tracing::info!("{}: tend.toml reloaded: {}", state.config.name, diff.summary());
        // Between the removals and the additions nothing may run: that is not the end.
        let _hold = inner.supervisor.hold();
        state.width = state.width.max(new.programs.iter().map(|p| p.name.len()).max().unwrap_or(0));
        for name in diff.removed.iter().rev() {
            if inner.supervisor.is_stopping() {
                return;
            }
            state.watchers.remove(name);
            tracing::info!("{name}: removed from tend.toml; stopping");
            if let Err(error) = inner.supervisor.remove(name).await {
                tracing::debug!("{name}: {error}");
            }
        }
        for program in &diff.changed {
            if inner.supervisor.is_stopping() {
                return;
            }
            let Some(handle) = inner.supervisor.program(&program.name) else { continue };
            state.watchers.remove(&program.name);
            let spec = inner.setup.spec(&mut state, program);
            let replaced = handle.replace(spec.policy, spec.launcher).await;
            if handle.state() == ProgramState::Stopped {
                tracing::info!("{}: settings changed; it stays stopped", program.name);
            } else if replaced.is_ok() {
                tracing::info!("{}: settings changed; restarting", program.name);
                if let Err(error) = handle.restart(RestartReason::ConfigChange).await {
                    tracing::debug!("{}: {error}", program.name);
                }
            }
            watch(&mut state, program, handle);
        }
        for program in &diff.added {
            tracing::info!("{}: added to tend.toml; starting", program.name);
            let spec = inner.setup.spec(&mut state, program);
            let handle = inner.supervisor.add(spec);
            watch(&mut state, program, handle.clone());
            handle.wait_launched().await;
        }
        inner.runners.set(&new);
        // App-level settings stay as they were until tend restarts.
        state.config = Config { programs: new.programs, ..state.config.clone() };
    }
}

impl ProgramSet {
    /// The flake in `dir` changed (its environment is invalidated): its programs that have
    /// `watch` and are active are restarted now (reason `file_change`); the others get the
    /// new shell at their next start.
    pub async fn flake_changed(&self, dir: &std::path::Path) {
        let inner = &self.inner;
        let state = inner.state.lock().await;
        let config = &state.config;
        for program in &config.programs {
            let flake = config.flake_dir(program);
            let flake = std::path::absolute(&flake).unwrap_or(flake);
            if program.runner != crate::config::Runner::Nix || flake != dir {
                continue;
            }
            let Some(handle) = inner.supervisor.program(&program.name) else { continue };
            if program.watch.is_none() || handle.state().is_idle() {
                continue;
            }
            tracing::info!("{}: its flake changed; restarting", program.name);
            if let Err(error) = handle.restart_if_active(RestartReason::FileChange).await {
                tracing::debug!("{}: no restart on a flake change: {error}", program.name);
            }
        }
    }
}

impl Setup {
    /// The supervisor's spec of `program`: its log file, output sink, launcher (in the
    /// environment its runner selects) and policy.
    fn spec(&self, state: &mut State, program: &ProgramConfig) -> ProgramSpec {
        let next = state.colours.len();
        let colour = *state.colours.entry(program.name.clone()).or_insert(next);
        let home = &self.context.home;
        let log = match RotatingFile::open(
            &home.program_log(&program.name),
            program.log.max_size,
            program.log.max_files,
        ) {
            Ok(file) => Some(ProgramLog::new(file, &program.name, self.context.log_health.clone())),
            Err(e) => {
                tracing::warn!("{}: cannot open its log file: {e}", program.name);
                None
            }
        };
        let prefix = self.terminal.prefix(colour, &program.name, state.width);
        let sink = ProgramSink::new(Arc::clone(&self.terminal), prefix, log);
        let env = self.environments.for_program(program);
        let fallback = self.environments.fallback_for(program);
        let launcher = ProgramLauncher::new(
            Arc::clone(&self.context),
            program.clone(),
            Arc::new(sink),
            env,
            fallback,
            self.runners.clone(),
        );
        ProgramSpec {
            name: program.name.clone(),
            policy: policy_of(program),
            launcher: Arc::new(launcher),
        }
    }
}

/// Starts `program`'s file watcher, if it has `watch`.
fn watch(state: &mut State, program: &ProgramConfig, handle: ProgramHandle) {
    let Some(watch) = &program.watch else { return };
    match ProgramWatcher::start(&program.dir, watch, handle) {
        Ok(watcher) => {
            state.watchers.insert(program.name.clone(), watcher);
        }
        Err(error) => {
            tracing::warn!("{}: {error}; file changes will not restart it", program.name);
        }
    }
}

/// The supervisor's policy for `program`.
pub fn policy_of(program: &ProgramConfig) -> Policy {
    Policy {
        restart: program.restart,
        restart_exit_code: program.restart_exit_code,
        backoff: program.backoff,
        max_restarts: program.max_restarts,
    }
}

/// The first program whose runner is not available, as the error `tend up` gives.
pub fn unavailable_runner(config: &Config) -> Option<String> {
    config
        .programs
        .iter()
        .find_map(|program| environment_kind(program, config.docker.is_some()).err())
}
