//! Where programs run: the [`Environment`] abstraction and the native environment.

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Mutex;

use crate::envvars::{find_binary, not_found};
use crate::{EnvVars, Proc, RunnerError};

/// A boxed, sendable future, for the object-safe [`Environment`] trait.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The kinds of environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RunnerKind {
    /// Directly on this machine.
    Native,
    /// Inside a Docker container.
    Docker,
    /// Inside a Nix dev shell.
    Nix,
}

/// Somewhere processes run. Native runs them on this machine; Docker and Nix environments
/// implement the same surface.
pub trait Environment: Send + Sync {
    /// Which kind this is.
    fn kind(&self) -> RunnerKind;

    /// Gets ready to run processes (build an image, evaluate a dev shell). Native: nothing.
    fn prepare(&self) -> BoxFuture<'_, Result<(), RunnerError>>;

    /// A process for `program` with `args`, configured but not started.
    ///
    /// # Errors
    /// When the environment cannot run anything (Native never fails here: the binary is looked
    /// up at start, on the PATH the process will have).
    fn new_proc(&self, program: &str, args: &[String]) -> Result<Proc, RunnerError>;

    /// Stops the environment; it may be prepared again. Native: nothing.
    fn stop(&self) -> BoxFuture<'_, Result<(), RunnerError>>;

    /// Stops the environment and frees everything it holds. Native: nothing.
    fn shutdown(&self) -> BoxFuture<'_, Result<(), RunnerError>>;

    /// Adds variables that every process created afterwards gets.
    fn add_env(&self, vars: &EnvVars);

    /// Makes sure `name` can be run here and returns where it is.
    ///
    /// # Errors
    /// [`RunnerError::BinaryNotFound`] naming the binary and the PATH searched.
    fn ensure_binary(&self, name: &str) -> Result<PathBuf, RunnerError>;
}

/// Runs processes directly on this machine, each in its own process group.
#[derive(Debug)]
pub struct NativeEnvironment {
    dir: PathBuf,
    vars: Mutex<EnvVars>,
}

impl NativeEnvironment {
    /// An environment whose processes start in `dir` by default.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        NativeEnvironment { dir: dir.into(), vars: Mutex::new(EnvVars::default()) }
    }

    fn vars(&self) -> EnvVars {
        self.vars.lock().map(|v| v.clone()).unwrap_or_default()
    }
}

impl Environment for NativeEnvironment {
    fn kind(&self) -> RunnerKind {
        RunnerKind::Native
    }

    fn prepare(&self) -> BoxFuture<'_, Result<(), RunnerError>> {
        Box::pin(async { Ok(()) })
    }

    fn new_proc(&self, program: &str, args: &[String]) -> Result<Proc, RunnerError> {
        Ok(Proc::new(program, args, self.dir.clone(), self.vars()))
    }

    fn stop(&self) -> BoxFuture<'_, Result<(), RunnerError>> {
        Box::pin(async { Ok(()) })
    }

    fn shutdown(&self) -> BoxFuture<'_, Result<(), RunnerError>> {
        Box::pin(async { Ok(()) })
    }

    fn add_env(&self, vars: &EnvVars) {
        if let Ok(mut mine) = self.vars.lock() {
            mine.extend(vars);
        }
    }

    fn ensure_binary(&self, name: &str) -> Result<PathBuf, RunnerError> {
        let path = self
            .vars()
            .get("PATH")
            .map(std::ffi::OsString::from)
            .or_else(|| std::env::var_os("PATH"));
        find_binary(name, path.as_ref()).ok_or_else(|| not_found(name, path.as_ref()))
    }
}
