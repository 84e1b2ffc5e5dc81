//! One supervised program: its handle, its observable state, and the task that drives it.

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;

use crate::Exit;
use crate::error::SupervisorError;
use crate::event::{Event, EventKind};
use crate::launcher::{LaunchContext, Launcher, Running};
use crate::machine::{Action, Cause, Core, Input, Phase};
use crate::policy::{Policy, RestartReason};

/// A program to supervise.
#[derive(Clone)]
pub struct ProgramSpec {
    /// Its name, unique within the supervisor; events and snapshots carry it.
    pub name: String,
    /// When and how it is restarted.
    pub policy: Policy,
    /// How to start one run of it.
    pub launcher: Arc<dyn Launcher>,
}

impl fmt::Debug for ProgramSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProgramSpec")
            .field("name", &self.name)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

/// Where a program is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProgramState {
    /// A run is being spawned.
    Starting,
    /// A run is up.
    Running,
    /// A run is being stopped gracefully (for a stop or a restart).
    Stopping,
    /// Waiting out the backoff delay before the next start.
    BackingOff,
    /// Stopped on request; stays so until started again.
    Stopped,
    /// Ended for good by its policy.
    Done,
    /// Crashed too often, or could not be spawned; stays so until started again.
    Fatal,
}

impl ProgramState {
    /// Whether nothing runs and nothing is scheduled: [`Stopped`](Self::Stopped),
    /// [`Done`](Self::Done) or [`Fatal`](Self::Fatal). Only a verb leaves these states.
    pub fn is_idle(self) -> bool {
        match self {
            ProgramState::Stopped | ProgramState::Done | ProgramState::Fatal => true,
            ProgramState::Starting
            | ProgramState::Running
            | ProgramState::Stopping
            | ProgramState::BackingOff => false,
        }
    }

    /// A lowercase word for status output: `starting`, `running`, `stopping`, `backing-off`,
    /// `stopped`, `done`, `fatal`.
    pub fn as_str(self) -> &'static str {
        match self {
            ProgramState::Starting => "starting",
            ProgramState::Running => "running",
            ProgramState::Stopping => "stopping",
            ProgramState::BackingOff => "backing-off",
            ProgramState::Stopped => "stopped",
            ProgramState::Done => "done",
            ProgramState::Fatal => "fatal",
        }
    }
}

impl fmt::Display for ProgramState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A program's observable state at one instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// The program's name.
    pub name: String,
    /// Where it is.
    pub state: ProgramState,
    /// The process id of the current run, while [`ProgramState::Running`].
    pub pid: Option<u32>,
    /// How many times it was restarted (every start after the first, whatever the reason).
    pub restarts: u32,
    /// How its last run ended.
    pub last_exit: Option<Exit>,
    /// Why it is stopped, done or fatal, or backing off after a failed spawn; `None` while it
    /// runs or backs off after a crash.
    pub cause: Option<Cause>,
    /// When it entered `state`.
    pub since: Instant,
    /// When it starts again, while [`ProgramState::BackingOff`].
    pub restart_at: Option<Instant>,
}

/// A verb for the program's task; `ack` fires once it has been carried out.
#[derive(Debug)]
pub(crate) struct Control {
    command: Command,
    ack: oneshot::Sender<()>,
}

#[derive(Debug)]
enum Command {
    Start,
    Stop,
    Restart(RestartReason),
    RestartActive(RestartReason),
    Replace(Replacement),
}

/// A new spec for [`Command::Replace`].
struct Replacement {
    policy: Policy,
    launcher: Arc<dyn Launcher>,
}

impl fmt::Debug for Replacement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Replacement").field("policy", &self.policy).finish_non_exhaustive()
    }
}

/// Controls one supervised program. Cheap to clone; every clone drives the same program.
///
/// The verbs queue their command at once, when called, and return a future that resolves when
/// the command has been carried out; dropping the future does not cancel the command. Commands
/// are carried out in order. While a run is being spawned or stopped, commands wait their turn.
#[derive(Debug, Clone)]
pub struct ProgramHandle {
    name: Arc<str>,
    controls: mpsc::UnboundedSender<Control>,
    snapshot: watch::Receiver<Snapshot>,
}

impl ProgramHandle {
    /// The program's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Starts the program if it is stopped, done or fatal, with a fresh crash budget (reason
    /// [`RestartReason::Start`]); does nothing if it is running or backing off. Resolves once
    /// the spawn was attempted.
    pub fn start(&self) -> impl Future<Output = Result<(), SupervisorError>> + Send + use<> {
        self.send(Command::Start)
    }

    /// Stops the program gracefully and keeps it stopped: a backoff in progress is cancelled and
    /// nothing restarts it. Resolves once it is stopped. Does nothing if it is already stopped,
    /// done or fatal (a done or fatal program keeps that state).
    pub fn stop(&self) -> impl Future<Output = Result<(), SupervisorError>> + Send + use<> {
        self.send(Command::Stop)
    }

    /// Restarts the program at once for `reason`: stops the current run gracefully (or cancels
    /// the backoff delay) and starts a new run, which counts as a restart. Starts the program if
    /// it is stopped, done or fatal (then with a fresh crash budget). Resolves once the new spawn
    /// was attempted.
    pub fn restart(
        &self,
        reason: RestartReason,
    ) -> impl Future<Output = Result<(), SupervisorError>> + Send + use<> {
        self.send(Command::Restart(reason))
    }

    /// Like [`restart`](Self::restart), but only if the program is active (starting, running,
    /// stopping or backing off): a program that is stopped, done or fatal is left so. The check
    /// and the restart are one step of the program's task, so a stop queued before it wins.
    /// Resolves once carried out (or skipped).
    pub fn restart_if_active(
        &self,
        reason: RestartReason,
    ) -> impl Future<Output = Result<(), SupervisorError>> + Send + use<> {
        self.send(Command::RestartActive(reason))
    }

    /// Replaces the program's spec: `launcher` starts its runs from the next launch on, and
    /// `policy` decides from now on, with a fresh crash budget and backoff (its restart count
    /// goes on). Nothing else happens: a run in progress carries on (and is stopped as it was
    /// started, by the old launcher's run), a backoff in progress keeps its delay, an idle
    /// program stays idle. To run the new spec at once, follow with
    /// [`restart`](Self::restart)`(`[`RestartReason::ConfigChange`]`)`. Resolves once the spec
    /// is in place.
    pub fn replace(
        &self,
        policy: Policy,
        launcher: Arc<dyn Launcher>,
    ) -> impl Future<Output = Result<(), SupervisorError>> + Send + use<> {
        self.send(Command::Replace(Replacement { policy, launcher }))
    }

    /// Whether `other` drives the same program as `self` (a clone of the same handle), rather
    /// than another program of the same name.
    pub fn same_program(&self, other: &ProgramHandle) -> bool {
        self.controls.same_channel(&other.controls)
    }

    /// The program's state now.
    pub fn snapshot(&self) -> Snapshot {
        self.snapshot.borrow().clone()
    }

    /// Where the program is now.
    pub fn state(&self) -> ProgramState {
        self.snapshot.borrow().state
    }

    /// Resolves with the program's snapshot once it is not starting: its launch in progress
    /// (the first one, right after [`Supervisor::add`](crate::Supervisor::add)) has spawned a run
    /// or failed. At once if no launch is in progress.
    pub fn wait_launched(&self) -> impl Future<Output = Snapshot> + Send + use<> {
        let mut snapshot = self.snapshot.clone();
        async move {
            let launched = snapshot
                .wait_for(|s| s.state != ProgramState::Starting)
                .await
                .map(|s| (*s).clone());
            match launched {
                Ok(launched) => launched,
                Err(_) => snapshot.borrow().clone(),
            }
        }
    }

    /// Resolves with the program's snapshot once it is idle (stopped, done or fatal), at once if
    /// it already is.
    pub fn wait_idle(&self) -> impl Future<Output = Snapshot> + Send + use<> {
        let mut snapshot = self.snapshot.clone();
        async move {
            let idle = snapshot.wait_for(|s| s.state.is_idle()).await.map(|s| (*s).clone());
            match idle {
                Ok(idle) => idle,
                // The task is gone; its last word stands.
                Err(_) => snapshot.borrow().clone(),
            }
        }
    }

    fn send(
        &self,
        command: Command,
    ) -> impl Future<Output = Result<(), SupervisorError>> + Send + use<> {
        let (ack, done) = oneshot::channel();
        let sent = self.controls.send(Control { command, ack }).is_ok();
        let name = Arc::clone(&self.name);
        async move {
            let gone = || SupervisorError::Gone { program: name.to_string() };
            if !sent {
                return Err(gone());
            }
            done.await.map_err(|_| gone())
        }
    }
}

/// Starts supervising `spec` on the current Tokio runtime: the first launch is under way when
/// this returns (the snapshot already reads [`ProgramState::Starting`]).
///
/// With `start` false, the program is added stopped instead: nothing runs until it is started.
pub(crate) fn spawn(
    spec: ProgramSpec,
    events: mpsc::UnboundedSender<Event>,
    epoch: Instant,
    start: bool,
) -> ProgramHandle {
    let ProgramSpec { name, policy, launcher } = spec;
    let name: Arc<str> = name.into();
    let mut core = Core::new(policy);
    let first = if start {
        core.handle(Input::Start, Instant::now().saturating_duration_since(epoch))
    } else {
        Vec::new()
    };
    let (snapshot_tx, snapshot_rx) = watch::channel(snapshot(&name, &core, epoch));
    let (controls_tx, controls_rx) = mpsc::unbounded_channel();
    let task = Task {
        name: Arc::clone(&name),
        core,
        launcher,
        controls: controls_rx,
        events,
        snapshot: snapshot_tx,
        epoch,
    };
    tokio::spawn(task.run(first));
    ProgramHandle { name, controls: controls_tx, snapshot: snapshot_rx }
}

fn snapshot<R>(name: &str, core: &Core<R>, epoch: Instant) -> Snapshot {
    let at = |offset: Duration| epoch.checked_add(offset);
    Snapshot {
        name: name.to_owned(),
        state: core.state(),
        pid: core.pid(),
        restarts: core.restarts(),
        last_exit: core.last_exit(),
        cause: core.cause().cloned(),
        since: at(core.since()).unwrap_or(epoch),
        restart_at: core.restart_at().and_then(at),
    }
}

type Run = Box<dyn Running>;

/// The task that drives one program: waits for the next input, feeds it to the core, carries
/// out the actions.
struct Task {
    name: Arc<str>,
    core: Core<Run>,
    launcher: Arc<dyn Launcher>,
    controls: mpsc::UnboundedReceiver<Control>,
    events: mpsc::UnboundedSender<Event>,
    snapshot: watch::Sender<Snapshot>,
    epoch: Instant,
}

impl Task {
    async fn run(mut self, first: Vec<Action<Run>>) {
        self.carry_out(first).await;
        while let Some((input, ack)) = self.next_input().await {
            let actions = self.step(input);
            self.carry_out(actions).await;
            if let Some(ack) = ack {
                // The caller may have stopped waiting; the command was carried out anyway.
                let _ = ack.send(());
            }
        }
        tracing::debug!(program = %self.name, "supervision ended");
    }

    /// Waits for what happens next in a steady phase. `None` ends the task: every handle is
    /// gone and nothing runs. If the handles go while something runs, the program is stopped
    /// first.
    async fn next_input(&mut self) -> Option<(Input<Run>, Option<oneshot::Sender<()>>)> {
        let control = match self.core.phase() {
            Phase::Running { run, .. } => tokio::select! {
                exit = run.wait() => return Some((Input::Exited(exit), None)),
                control = self.controls.recv() => control,
            },
            Phase::BackingOff { until, .. } => {
                let now = self.now();
                tokio::select! {
                    () = tokio::time::sleep(until.saturating_sub(now)) => {
                        return Some((Input::BackoffElapsed, None));
                    }
                    control = self.controls.recv() => control,
                }
            }
            Phase::Stopped | Phase::Done | Phase::Fatal => Some(self.controls.recv().await?),
            Phase::Starting { .. } | Phase::Stopping { .. } => {
                // `carry_out` always resolves these before returning.
                tracing::error!(program = %self.name, "supervision task found a transient phase");
                return None;
            }
        };
        Some(match control {
            Some(Control { command, ack }) => {
                let input = match command {
                    Command::Start => Input::Start,
                    Command::Stop => Input::Stop,
                    Command::Restart(reason) => Input::Restart(reason),
                    Command::RestartActive(reason) => Input::RestartActive(reason),
                    Command::Replace(Replacement { policy, launcher }) => {
                        self.launcher = launcher;
                        Input::Replace(policy)
                    }
                };
                (input, Some(ack))
            }
            None => (Input::Stop, None),
        })
    }

    /// Carries out `actions`, feeding the result of each launch and stop back to the core,
    /// until nothing is left to do.
    async fn carry_out(&mut self, actions: Vec<Action<Run>>) {
        let mut queue = VecDeque::from(actions);
        while let Some(action) = queue.pop_front() {
            let result = match action {
                Action::Emit(kind) => {
                    self.emit(kind);
                    continue;
                }
                Action::Launch { reason, restart_count } => {
                    let ctx = LaunchContext {
                        program: self.name.to_string(),
                        restart_count,
                        reason,
                        last_exit: self.core.last_exit(),
                    };
                    match self.launcher.launch(ctx).await {
                        Ok(run) => Input::Launched { pid: run.pid(), run },
                        Err(error) => Input::LaunchFailed(error),
                    }
                }
                Action::Stop(run) => Input::StopFinished(run.stop().await),
            };
            queue.extend(self.step(result));
        }
    }

    fn step(&mut self, input: Input<Run>) -> Vec<Action<Run>> {
        let mut actions = VecDeque::from(self.core.handle(input, self.now()));
        // The events of a step (they come first in its batch) are sent before its new state is
        // visible: whoever waits for a state, like `wait_idle`, then finds them already sent.
        while let Some(Action::Emit(_)) = actions.front() {
            if let Some(Action::Emit(kind)) = actions.pop_front() {
                self.emit(kind);
            }
        }
        self.snapshot.send_replace(snapshot(&self.name, &self.core, self.epoch));
        actions.into()
    }

    fn now(&self) -> Duration {
        Instant::now().saturating_duration_since(self.epoch)
    }

    fn emit(&self, kind: EventKind) {
        log(&self.name, &kind);
        // Best effort: nobody may be listening any more.
        let _ = self.events.send(Event { program: self.name.to_string(), kind });
    }
}

/// Every event at debug level: the receiver of the events decides what people see.
fn log(program: &str, kind: &EventKind) {
    match kind {
        EventKind::Spawned { pid, restart_count, reason } => {
            tracing::debug!(program, ?pid, restart_count, %reason, "spawned");
        }
        EventKind::Exited { exit, uptime } => {
            tracing::debug!(program, %exit, ?uptime, "exited");
        }
        EventKind::BackingOff { delay, attempt } => {
            tracing::debug!(program, ?delay, attempt, "backing off before restart");
        }
        EventKind::RestartingNow { reason } => {
            tracing::debug!(program, %reason, "restarting now");
        }
        EventKind::Fatal { crashes, within, last_exit } => {
            let last_exit = last_exit.map_or_else(|| "spawn failure".to_owned(), |e| e.to_string());
            tracing::debug!(program, crashes, ?within, %last_exit, "giving up");
        }
        EventKind::Done { exit } => tracing::debug!(program, %exit, "done"),
        EventKind::Stopped => tracing::debug!(program, "stopped"),
        EventKind::SpawnFailed { error } => tracing::debug!(program, %error, "spawn failed"),
    }
}
