//! The task that drives one program: the next input (a control, a timer, the run's end), the
//! core's step, and carrying out its actions.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;

use crate::event::{Event, EventKind};
use crate::launcher::{LaunchContext, Launcher, Running};
use crate::machine::{Action, Core, Input, Phase};

use super::handle::{Command, Control, Replacement};
use super::{ProgramHandle, ProgramSpec, Snapshot};

/// Starts supervising `spec` on the current Tokio runtime: the first launch is under way when
/// this returns (the snapshot already reads [`super::ProgramState::Starting`]).
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
