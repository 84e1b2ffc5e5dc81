//! The seam between the app and where its programs run: [`Environment`].

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::time::Duration;

use crate::{Child, CommandSpec, ReapReport, RunRegistry, RunnerError, ShutdownReport};

/// A boxed, sendable future, for the object-safe [`Environment`] and [`Child`] traits.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The kinds of environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RunnerKind {
    /// Directly on this machine ([`crate::NativeEnvironment`]).
    Native,
    /// Inside the app's Docker container (`DockerEnvironment`, feature `docker`).
    Docker,
    /// Inside a Nix flake's dev shell ([`crate::NixEnvironment`]).
    Nix,
}

/// Somewhere processes run. An app holds one per kind its programs use, for as long as it
/// runs: [`prepare`](Environment::prepare)d once before the first spawn,
/// [`reap_leftovers`](Environment::reap_leftovers) at start for what a previous tend left, and
/// [`shutdown`](Environment::shutdown) at the end. See the crate documentation for how the
/// native, Docker and Nix environments fit.
pub trait Environment: Send + Sync + std::fmt::Debug {
    /// Which kind this is.
    fn kind(&self) -> RunnerKind;

    /// Gets ready to run processes (build an image and start the app's container, evaluate a
    /// dev shell). Called once per app before the first spawn; may be called again after a
    /// failure. Native: nothing.
    fn prepare(&self) -> BoxFuture<'_, Result<(), RunnerError>>;

    /// Starts `spec` and returns once it runs (its run record, if it has one, is on disk
    /// first).
    ///
    /// # Errors
    /// When it cannot start: the binary is not found (naming the PATH searched), the working
    /// directory is missing, the run record cannot be written (the program then never runs),
    /// or the spawn itself fails.
    fn spawn(&self, spec: CommandSpec) -> BoxFuture<'_, Result<Box<dyn Child>, RunnerError>>;

    /// Ends what a tend that is gone left running in this environment for the app whose run
    /// records are in `registry` (native: the process groups of those records whose owner is
    /// gone, see [`crate::reap_stale`]), as politely as `grace` allows.
    fn reap_leftovers<'a>(
        &'a self,
        registry: &'a RunRegistry,
        grace: Duration,
    ) -> BoxFuture<'a, ReapReport>;

    /// Ends what is left once every program of the app has stopped, as politely as `grace`
    /// allows, and frees what the environment holds (its container, say). Native: the
    /// orphans adopted as child subreaper whose run could not be told
    /// ([`crate::end_adopted_orphans`]).
    ///
    /// # Errors
    /// What the environment holds cannot be freed.
    fn shutdown(&self, grace: Duration) -> BoxFuture<'_, Result<ShutdownReport, RunnerError>>;

    /// Makes sure `name` can be run here and returns where it is.
    ///
    /// # Errors
    /// [`RunnerError::BinaryNotFound`] naming the binary and the PATH searched.
    fn ensure_binary(&self, name: &str) -> Result<PathBuf, RunnerError>;
}
