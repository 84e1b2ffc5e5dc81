//! The seam between supervision and processes: what the supervisor needs from "a program run".
//!
//! `tend-runner`'s process type is adapted to these traits elsewhere; tests use fakes.

use std::future::Future;
use std::pin::Pin;

use crate::Exit;
use crate::policy::RestartReason;

/// A boxed, sendable future, as returned by the [`Launcher`] and [`Running`] methods.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What the supervisor tells the launcher about the run it asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaunchContext {
    /// The program's name.
    pub program: String,
    /// How many times the program was started before in this supervisor: 0 at first, and
    /// every start after that counts, whatever its reason (`TEND_RESTART_COUNT`).
    pub restart_count: u32,
    /// Why it is being started (`TEND_RESTART_REASON`).
    pub reason: RestartReason,
    /// How its previous run in this supervisor ended (`TEND_LAST_EXIT`); `None` before its
    /// first run.
    pub last_exit: Option<Exit>,
}

/// Starts runs of one program.
pub trait Launcher: Send + Sync + 'static {
    /// Spawns one run of the program. `ctx.restart_count` = how many times it was started
    /// before in this supervisor (0 first), `ctx.reason` = why.
    ///
    /// Should resolve as soon as the process is spawned: the program's supervision waits for it.
    fn launch(&self, ctx: LaunchContext) -> BoxFuture<'_, Result<Box<dyn Running>, LaunchError>>;
}

/// One live run of a program.
///
/// Dropping it must not leave the process behind unsupervised (the real implementation kills
/// its process group on drop); the supervisor only drops a run after it ended, except when its
/// runtime shuts down.
pub trait Running: Send + Sync {
    /// The process id, if there is one.
    fn pid(&self) -> Option<u32>;

    /// Resolves when the run ends; may be called more than once (each call returns the same
    /// [`Exit`]). Must be cancel-safe: dropping the future loses nothing.
    fn wait(&self) -> BoxFuture<'_, Exit>;

    /// Graceful stop (the implementation does signal → grace → kill); resolves once the run is
    /// over, with how it ended. Also fine to call after the run ended by itself.
    fn stop(&self) -> BoxFuture<'_, Exit>;
}

/// A launcher could not spawn the program. The message says what failed and why (the launcher
/// formats the whole cause chain, e.g. "spawning `nosuchcmd`: No such file or directory").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct LaunchError {
    message: String,
}

impl LaunchError {
    /// A launch error with this message.
    pub fn new(message: impl Into<String>) -> Self {
        LaunchError { message: message.into() }
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }
}
