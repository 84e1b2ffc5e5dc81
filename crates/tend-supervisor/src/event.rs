//! What the supervisor reports about its programs.

use std::time::Duration;

use tokio::sync::mpsc;

use crate::Exit;
use crate::launcher::LaunchError;
use crate::policy::RestartReason;

/// The receiving end of a supervisor's events. Unbounded, so that a slow consumer never holds
/// up supervision; events are small. Dropping it is fine: events are then discarded.
pub type EventReceiver = mpsc::UnboundedReceiver<Event>;

/// Something that happened to a program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The program's name.
    pub program: String,
    /// What happened.
    pub kind: EventKind,
}

/// What happened to a program.
///
/// A run that ends by itself reports [`Exited`](EventKind::Exited) followed by what the policy
/// decided: [`Done`](EventKind::Done), [`RestartingNow`](EventKind::RestartingNow) (then
/// [`Spawned`](EventKind::Spawned)), [`BackingOff`](EventKind::BackingOff) (later
/// [`Spawned`](EventKind::Spawned)) or [`Fatal`](EventKind::Fatal). A requested restart reports
/// [`RestartingNow`](EventKind::RestartingNow) as soon as it is asked for, then
/// [`Exited`](EventKind::Exited) once the old run is stopped, then [`Spawned`](EventKind::Spawned).
/// A stop reports [`Exited`](EventKind::Exited) (if it was running) then
/// [`Stopped`](EventKind::Stopped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    /// A run started.
    Spawned {
        /// Its process id, if any.
        pid: Option<u32>,
        /// How many times the program was started before (0 at first).
        restart_count: u32,
        /// Why it was started.
        reason: RestartReason,
    },
    /// A run ended, by itself or because tend stopped it.
    Exited {
        /// How it ended.
        exit: Exit,
        /// How long it had been up.
        uptime: Duration,
    },
    /// The program crashed (or exited 0 under `restart = "always"`) and will be started again
    /// after `delay`.
    BackingOff {
        /// How long until the next start.
        delay: Duration,
        /// 1 for the first end since the last stable run, 2 for the second, …
        attempt: u32,
    },
    /// The program is being restarted at once: it exited with the restart exit code, or a
    /// restart was requested.
    RestartingNow {
        /// Why.
        reason: RestartReason,
    },
    /// The program crashed too often (or cannot be spawned) and will not be restarted.
    Fatal {
        /// Crashes inside the window, the last one included.
        crashes: u32,
        /// The `max_restarts` window.
        within: Duration,
        /// How the last run ended; `None` if the last failure was a failed spawn.
        last_exit: Option<Exit>,
    },
    /// The program ended for good by its policy (exit 0, or a crash under `restart = "never"`).
    Done {
        /// How its last run ended.
        exit: Exit,
    },
    /// The program was stopped on request and stays stopped.
    Stopped,
    /// The launcher could not spawn the program. Followed by [`Fatal`](EventKind::Fatal) on a
    /// first start, or by [`BackingOff`](EventKind::BackingOff) like a crash.
    SpawnFailed {
        /// What went wrong.
        error: LaunchError,
    },
}
