//! What a Nix environment is made of ([`NixSpec`], plain data) and what preparing it found
//! ([`NixPrepared`]: the [`NixMode`], where the shell came from).

use std::path::PathBuf;
use std::time::Duration;

use crate::EnvVars;

/// How long an evaluation may take (a first one may build or fetch the whole shell).
pub const EVAL_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// The dev shell of the flake in [`flake_dir`](NixSpec::flake_dir), cached under
/// [`cache_dir`](NixSpec::cache_dir).
#[derive(Debug, Clone)]
pub struct NixSpec {
    /// The folder holding `flake.nix` (made absolute against the current folder).
    pub flake_dir: PathBuf,
    /// The cache folder (the app passes `$TEND_HOME/cache/nix`); shared by every tend of
    /// that home, one slot per flake folder.
    pub cache_dir: PathBuf,
    /// Evaluate again even when the cache has a hit (`tend prepare --refresh`).
    pub refresh: bool,
    /// The nix binary: a name looked up on the PATH, or a path. `nix` by default.
    pub nix: String,
    /// Variables for nix's own runs (`NIX_CONFIG`, `XDG_CACHE_HOME`…), on top of tend's
    /// environment. In the wrapped mode the program inherits them too, as under
    /// `nix develop`.
    pub nix_env: EnvVars,
    /// The longest an evaluation (or the wait for another tend's) may take.
    pub eval_timeout: Duration,
}

impl NixSpec {
    /// The flake in `flake_dir`, cached under `cache_dir`; nix from the PATH, the cache used,
    /// [`EVAL_TIMEOUT`].
    pub fn new(flake_dir: impl Into<PathBuf>, cache_dir: impl Into<PathBuf>) -> Self {
        NixSpec {
            flake_dir: flake_dir.into(),
            cache_dir: cache_dir.into(),
            refresh: false,
            nix: "nix".to_string(),
            nix_env: EnvVars::default(),
            eval_timeout: EVAL_TIMEOUT,
        }
    }
}

/// How programs run in the dev shell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NixMode {
    /// The shell's environment, evaluated once, is applied to each spawn directly: a program
    /// starts as fast as a native one.
    Materialised,
    /// Each run is `nix develop FLAKE --command …`, because materialising failed (`reason`
    /// says how). Slower (nix evaluates at every start), otherwise the same.
    Wrapped {
        /// Why materialising failed, for the log and `status`.
        reason: String,
    },
}

impl NixMode {
    /// `materialised` or `wrapped`.
    pub fn name(&self) -> &'static str {
        match self {
            NixMode::Materialised => "materialised",
            NixMode::Wrapped { .. } => "wrapped",
        }
    }
}

/// Where a prepared shell came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShellSource {
    /// The cache had it: nix did not run.
    Cache,
    /// Another tend evaluated it while this one waited for the lock: nix did not run here.
    SharedEvaluation,
    /// This tend evaluated it.
    Evaluated,
    /// Nothing was materialised (the wrapped mode).
    None,
}

/// What [`NixEnvironment::prepare_shell`](crate::NixEnvironment::prepare_shell) found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NixPrepared {
    /// How programs run.
    pub mode: NixMode,
    /// Where the shell came from.
    pub source: ShellSource,
    /// The cache key (see [`nix_cache_key`](crate::nix_cache_key)).
    pub key: String,
    /// The GC root that keeps the shell's store paths alive, in materialised mode.
    pub gc_root: Option<PathBuf>,
    /// A damaged cache entry that was moved aside (the shell was evaluated again).
    pub set_aside: Option<PathBuf>,
    /// How long preparing took.
    pub took: Duration,
}
