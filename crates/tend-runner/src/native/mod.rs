//! The native environment: processes run directly on this machine, each in a process group of
//! its own (a job object on Windows).
//!
//! - `spawn`: from a [`CommandSpec`] to a running leader — the binary looked up on the PATH it
//!   will have, the run token, the run record written before the program runs, output
//!   forwarding, and the task that waits for the leader and ends what it left behind.
//! - `child`: [`NativeChild`], waiting on and stopping a run (group + token + subreaper tree
//!   kill, survivors reported).

mod child;
mod spawn;

#[cfg(feature = "docker")]
pub(crate) use spawn::new_token;

use std::path::PathBuf;
use std::time::Duration;

use crate::envvars::{find_binary, not_found};
use crate::{
    BoxFuture, Child, CommandSpec, Environment, ReapReport, RunRegistry, RunnerError, RunnerKind,
    ShutdownReport,
};

/// Runs processes directly on this machine, each in its own process group.
///
/// ```no_run
/// # async fn demo() -> Result<(), tend_runner::RunnerError> {
/// use tend_runner::{CommandSpec, Environment as _, NativeEnvironment};
/// let env = NativeEnvironment::new();
/// let child = env.spawn(CommandSpec::new(vec!["echo".into(), "hello".into()], "/tmp")).await?;
/// assert!(child.wait().await?.success());
/// # Ok(()) }
/// ```
#[derive(Debug, Default, Clone, Copy)]
pub struct NativeEnvironment;

impl NativeEnvironment {
    /// The native environment (it holds nothing: every process is described by its
    /// [`CommandSpec`]).
    pub fn new() -> Self {
        NativeEnvironment
    }
}

impl Environment for NativeEnvironment {
    fn kind(&self) -> RunnerKind {
        RunnerKind::Native
    }

    fn prepare(&self) -> BoxFuture<'_, Result<(), RunnerError>> {
        Box::pin(async { Ok(()) })
    }

    fn spawn(&self, spec: CommandSpec) -> BoxFuture<'_, Result<Box<dyn Child>, RunnerError>> {
        Box::pin(async move {
            let child = spawn::spawn(spec).await?;
            Ok(Box::new(child) as Box<dyn Child>)
        })
    }

    fn reap_leftovers<'a>(
        &'a self,
        registry: &'a RunRegistry,
        grace: Duration,
    ) -> BoxFuture<'a, ReapReport> {
        Box::pin(crate::reap_stale(registry, grace))
    }

    fn shutdown(&self, grace: Duration) -> BoxFuture<'_, Result<ShutdownReport, RunnerError>> {
        Box::pin(
            async move { Ok(crate::end_adopted_orphans(crate::Signal::Terminate, grace).await) },
        )
    }

    fn ensure_binary(&self, name: &str) -> Result<PathBuf, RunnerError> {
        let path = std::env::var_os("PATH");
        find_binary(name, path.as_ref()).ok_or_else(|| not_found(name, path.as_ref()))
    }
}
