//! The Nix environment: programs run in a flake's dev shell, as native processes.
//!
//! - `spec`: [`NixSpec`] (plain data), [`NixMode`], [`NixPrepared`], [`ShellSource`].
//! - `shell`: the dev shell's variables from `nix print-dev-env --json`, laid over a spawn's.
//! - `cache`: the cache key, one slot per flake folder (entry, GC root, lock).
//! - `lock`: the evaluation lock every tend of a cache shares.
//! - `command`: running nix (materialise, probe, the wrapped command line).
//! - `prepare`: cache hit, else one shared evaluation, else the wrapped fallback.
//! - `error`: [`NixError`], and how nix's stderr is read.

mod cache;
mod command;
mod error;
mod lock;
mod prepare;
mod shell;
mod spec;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

pub use cache::{FLAKE_FILES, host_system, key as cache_key};
pub use error::{FLAKES_LINE, NixError};
pub use shell::{DROPPED, ShellEnv};
pub use spec::{EVAL_TIMEOUT, NixMode, NixPrepared, NixSpec, ShellSource};

use crate::envvars::{find_binary, not_found};
use crate::{
    BoxFuture, Child, CommandSpec, Environment, NativeEnvironment, ReapReport, RunRegistry,
    RunnerError, RunnerKind, ShutdownReport,
};
use prepare::{Ready, Shell};

/// Runs programs in the dev shell of a flake (`devShells.<system>.default`), each a native
/// process with every native guarantee (process group, run record, token, tree kill).
///
/// ```no_run
/// # async fn demo() -> Result<(), tend_runner::RunnerError> {
/// use tend_runner::{CommandSpec, Environment as _, NixEnvironment, NixSpec};
/// let env = NixEnvironment::new(NixSpec::new("/src/app", "/home/me/.tend/cache/nix"));
/// let prepared = env.prepare_shell().await?;
/// println!("{} ({:?})", prepared.mode.name(), prepared.source);
/// let child = env.spawn(CommandSpec::new(vec!["cargo".into(), "run".into()], "/src/app")).await?;
/// child.wait().await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct NixEnvironment {
    spec: NixSpec,
    flake_dir: PathBuf,
    current: Mutex<Option<Arc<Ready>>>,
    preparing: tokio::sync::Mutex<()>,
    stale: AtomicBool,
    refresh: AtomicBool,
    nix_runs: AtomicU64,
    native: NativeEnvironment,
}

impl NixEnvironment {
    /// The environment of `spec`'s flake (nothing runs before
    /// [`prepare`](Environment::prepare) or the first spawn).
    pub fn new(spec: NixSpec) -> Self {
        let flake_dir = std::path::absolute(&spec.flake_dir).unwrap_or(spec.flake_dir.clone());
        let refresh = AtomicBool::new(spec.refresh);
        NixEnvironment {
            spec,
            flake_dir,
            current: Mutex::new(None),
            preparing: tokio::sync::Mutex::new(()),
            stale: AtomicBool::new(false),
            refresh,
            nix_runs: AtomicU64::new(0),
            native: NativeEnvironment::new(),
        }
    }

    /// The spec.
    pub fn spec(&self) -> &NixSpec {
        &self.spec
    }

    /// The flake's folder, absolute.
    pub fn flake_dir(&self) -> &Path {
        &self.flake_dir
    }

    /// The files whose change should make the shell evaluated again (`flake.nix`,
    /// `flake.lock`): the app watches them and calls [`invalidate`](Self::invalidate).
    pub fn watch_paths(&self) -> Vec<PathBuf> {
        FLAKE_FILES.iter().map(|name| self.flake_dir.join(name)).collect()
    }

    /// Makes the next spawn (or preparation) check the flake files again: the same key keeps
    /// the shell (from the cache, nix does not run), another one evaluates it again.
    pub fn invalidate(&self) {
        self.stale.store(true, Ordering::SeqCst);
    }

    /// How many times this environment ran nix (an evaluation, or the probe of the wrapped
    /// mode); 0 after a cache hit.
    pub fn nix_runs(&self) -> u64 {
        self.nix_runs.load(Ordering::SeqCst)
    }

    /// What the last preparation found (mode, where the shell came from, the fallback's
    /// reason), for the log and `status`; `None` before one succeeded.
    pub fn prepared(&self) -> Option<NixPrepared> {
        self.ready().map(|ready| ready.prepared.clone())
    }

    /// The materialised shell's variables, as each spawn lays them over its own
    /// ([`ShellEnv::apply`]); `None` before a preparation succeeded, and in the wrapped mode
    /// (there `nix develop` sets them at each start).
    pub fn shell(&self) -> Option<ShellEnv> {
        match &self.ready()?.shell {
            Shell::Materialised(shell) => Some(shell.clone()),
            Shell::Wrapped => None,
        }
    }

    /// Gets the shell ready: from the cache when its entry has the current key and its GC
    /// root still holds, else evaluated once (`nix print-dev-env --json --profile`) under the
    /// cache slot's lock, which another tend waiting for it then shares; when materialising
    /// fails but `nix develop` works, the wrapped mode, with the reason. Once prepared, a
    /// second call returns at once until [`invalidate`](Self::invalidate).
    ///
    /// # Errors
    /// [`NixError::NotInstalled`], [`NixError::NoFlake`], [`NixError::FlakesDisabled`],
    /// [`NixError::NotGitAdded`], [`NixError::EvalFailed`], [`NixError::LockTimeout`],
    /// [`NixError::Io`] (the cache folder cannot be made).
    pub async fn prepare_shell(&self) -> Result<NixPrepared, NixError> {
        let _one = self.preparing.lock().await;
        if let Some(ready) = self.ready()
            && !self.stale.load(Ordering::SeqCst)
        {
            return Ok(ready.prepared.clone());
        }
        self.stale.store(false, Ordering::SeqCst);
        let refresh = self.refresh.swap(false, Ordering::SeqCst);
        let result = prepare::prepare(&self.spec, &self.flake_dir, refresh, &self.nix_runs).await;
        let ready = match result {
            Ok(ready) => Arc::new(ready),
            Err(e) => {
                self.refresh.fetch_or(refresh, Ordering::SeqCst);
                self.stale.store(true, Ordering::SeqCst);
                return Err(e);
            }
        };
        let prepared = ready.prepared.clone();
        let dir = self.flake_dir.display();
        match &prepared.mode {
            NixMode::Materialised => tracing::info!(
                "nix dev shell of {dir}: materialised ({:?}, {} ms)",
                prepared.source,
                prepared.took.as_millis()
            ),
            NixMode::Wrapped { reason } => tracing::warn!(
                "nix dev shell of {dir}: could not materialise it, every start goes through `nix develop` (slower): {reason}"
            ),
        }
        *self.current.lock().unwrap_or_else(PoisonError::into_inner) = Some(ready);
        Ok(prepared)
    }

    fn ready(&self) -> Option<Arc<Ready>> {
        self.current.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    async fn ready_for_spawn(&self) -> Result<Arc<Ready>, RunnerError> {
        if let Some(ready) = self.ready()
            && !self.stale.load(Ordering::SeqCst)
        {
            return Ok(ready);
        }
        self.prepare_shell().await?;
        self.ready().ok_or_else(|| RunnerError::StartFailed("the nix shell is not prepared".into()))
    }
}

impl Environment for NixEnvironment {
    fn kind(&self) -> RunnerKind {
        RunnerKind::Nix
    }

    fn prepare(&self) -> BoxFuture<'_, Result<(), RunnerError>> {
        Box::pin(async move {
            self.prepare_shell().await?;
            Ok(())
        })
    }

    /// Materialised: the spec's variables laid over the shell's (PATH: the shell's first,
    /// then the program's), handed to the native environment. Wrapped: the native run of
    /// `nix develop FLAKE --command ARGV…`.
    fn spawn(&self, mut spec: CommandSpec) -> BoxFuture<'_, Result<Box<dyn Child>, RunnerError>> {
        Box::pin(async move {
            let ready = self.ready_for_spawn().await?;
            match &ready.shell {
                Shell::Materialised(shell) => {
                    let outer = std::env::var("PATH").ok();
                    spec.env = shell.apply(&spec.env, outer.as_deref());
                }
                Shell::Wrapped => {
                    let argv = std::mem::take(&mut spec.argv);
                    spec.argv = ready.nix.wrapped_argv(&self.flake_dir, argv);
                    let mut env = ready.nix.env.clone();
                    env.extend(&spec.env);
                    spec.env = env;
                }
            }
            self.native.spawn(spec).await
        })
    }

    /// Nothing: a Nix program's run records are native ones, in the app's registry, which the
    /// native environment (that every app holds) reaps.
    fn reap_leftovers<'a>(
        &'a self,
        _registry: &'a RunRegistry,
        _grace: Duration,
    ) -> BoxFuture<'a, ReapReport> {
        Box::pin(async { ReapReport::default() })
    }

    /// Nothing to free: the GC root stays, it is the cache of the next start (orphans adopted
    /// as subreaper are the native environment's to end).
    fn shutdown(&self, _grace: Duration) -> BoxFuture<'_, Result<ShutdownReport, RunnerError>> {
        Box::pin(async { Ok(ShutdownReport::default()) })
    }

    /// Materialised: looked up on the shell's PATH, then tend's. Before preparing, tend's PATH
    /// only; wrapped, the name as given (the shell's PATH is known to `nix develop` only: a
    /// missing binary then ends the run with 127).
    fn ensure_binary(&self, name: &str) -> Result<PathBuf, RunnerError> {
        let outer = std::env::var("PATH").ok();
        let path = match self.ready().as_deref().map(|r| &r.shell) {
            Some(Shell::Materialised(shell)) => {
                shell::merge_path(shell.path.as_deref(), outer.as_deref())
            }
            Some(Shell::Wrapped) => return Ok(PathBuf::from(name)),
            None => outer,
        }
        .map(std::ffi::OsString::from);
        find_binary(name, path.as_ref()).ok_or_else(|| not_found(name, path.as_ref()))
    }
}
