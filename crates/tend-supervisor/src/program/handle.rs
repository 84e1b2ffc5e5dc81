//! [`ProgramHandle`]: the verbs that queue commands for a program's task, and its snapshot.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot, watch};

use crate::error::SupervisorError;
use crate::launcher::Launcher;
use crate::policy::{Policy, RestartReason};

use super::{ProgramState, Snapshot};

/// A verb for the program's task; `ack` fires once it has been carried out.
#[derive(Debug)]
pub(crate) struct Control {
    pub(super) command: Command,
    pub(super) ack: oneshot::Sender<()>,
}

/// What a [`Control`] asks of the task.
#[derive(Debug)]
pub(super) enum Command {
    Start,
    Stop,
    Restart(RestartReason),
    RestartActive(RestartReason),
    Replace(Replacement),
}

/// A new spec for [`Command::Replace`].
pub(super) struct Replacement {
    pub(super) policy: Policy,
    pub(super) launcher: Arc<dyn Launcher>,
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
    pub(super) name: Arc<str>,
    pub(super) controls: mpsc::UnboundedSender<Control>,
    pub(super) snapshot: watch::Receiver<Snapshot>,
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
