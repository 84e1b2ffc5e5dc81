//! One started process of an environment: [`Child`].

use crate::{BoxFuture, Exit, ProcInfo, RunnerError};

/// What a [`Child`] is, in its environment.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ChildId {
    /// A process group on this machine: its leader's pid, which is the group id (on Windows,
    /// the leader of its job object), and the leader's start time, which tells it from a later
    /// process given the same pid.
    Group {
        /// The leader's pid and group id.
        pgid: u32,
        /// The leader's start time (see [`ProcInfo::start_time`]).
        start_time: u64,
    },
    /// An exec in a container (the Docker environment).
    Exec {
        /// The container's id.
        container: String,
        /// The exec's id.
        exec: String,
    },
}

/// One started process, whatever its environment. It keeps running when this is dropped;
/// [`stop`](Child::stop) ends it and everything it started.
pub trait Child: Send + Sync + std::fmt::Debug {
    /// What it is in its environment.
    fn id(&self) -> &ChildId;

    /// The pid of its leader on this machine while it runs, when it has one there.
    fn pid(&self) -> Option<u32>;

    /// Waits for it to end and returns how. Any number of callers get the same result; calling
    /// it again after the end returns at once. Cancel-safe.
    ///
    /// # Errors
    /// When how it ended cannot be known (native: never).
    fn wait(&self) -> BoxFuture<'_, Result<Exit, RunnerError>>;

    /// Stops it and everything it started: the stop signal, the grace period, then SIGKILL;
    /// resolves once it has ended. Idempotent, and fine after it ended by itself.
    ///
    /// # Errors
    /// When the environment cannot stop it (native: never; survivors are reported in the
    /// [`StopReport`], not as an error).
    fn stop(&self) -> BoxFuture<'_, Result<StopReport, RunnerError>>;

    /// State, CPU time and memory of its leader, while it runs.
    fn stats(&self) -> BoxFuture<'_, Option<ProcInfo>>;
}

/// What [`Child::stop`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StopReport {
    /// How the process ended, if it is known.
    pub end: Option<Exit>,
    /// How many processes of its tree needed SIGKILL.
    pub killed: usize,
    /// Processes of its tree still alive after SIGKILL (tend reports, never pretends).
    pub survivors: Vec<u32>,
}
