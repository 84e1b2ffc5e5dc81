//! One supervised program: its spec and observable state (here), its handle (`handle`) and the
//! task that drives it (`task`).

mod handle;
mod task;

pub use handle::ProgramHandle;
pub(crate) use task::spawn;

use std::fmt;
use std::sync::Arc;

use tokio::time::Instant;

use crate::Exit;
use crate::launcher::Launcher;
use crate::machine::Cause;
use crate::policy::Policy;

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
