//! The resolved configuration types.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::docker::DockerConfig;
use super::error::ConfigError;
use super::values::is_valid_name;

/// Exit code that means "restart me now" unless a program sets its own.
pub const DEFAULT_RESTART_EXIT_CODE: i32 = 42;
/// Size at which a program's log is rotated unless configured: 10 MiB.
pub const DEFAULT_LOG_MAX_SIZE: u64 = 10 * 1024 * 1024;
/// Log files kept per program, counting the current one, unless configured.
pub const DEFAULT_LOG_MAX_FILES: u32 = 5;

/// A whole app: what `tend.toml` describes.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The app's name (`[A-Za-z0-9][A-Za-z0-9._-]*`): names its state folder.
    pub name: String,
    /// Absolute path of the folder holding `tend.toml`; relative paths resolve from here.
    pub folder: PathBuf,
    /// The app-level `[log]` settings (defaults for every program; also fit for `tend.log`).
    pub log: LogConfig,
    /// The `[inflight]` settings: how in-flight work is recovered.
    pub inflight: InflightConfig,
    /// The programs, in file order, which is their start order. Never empty.
    pub programs: Vec<ProgramConfig>,
    /// The `[docker]` table: the app's container, if it has one.
    pub docker: Option<Box<DockerConfig>>,
    /// The `[nix]` table: which flake's dev shell `runner = "nix"` programs get.
    pub nix: NixConfig,
    /// The `[update]` table: version checks.
    pub update: UpdateConfig,
}

/// The `[nix]` table.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NixConfig {
    /// The folder of the flake whose dev shell every nix program gets (absolute); `None`: each
    /// program's `dir` when it holds a `flake.nix`, else the app's folder
    /// ([`Config::flake_dir`]).
    pub flake: Option<PathBuf>,
}

impl NixConfig {
    /// See [`Config::flake_dir`]: the flake of `program` of the app in `folder`.
    pub fn flake_dir(&self, folder: &Path, program: &ProgramConfig) -> PathBuf {
        if let Some(flake) = &self.flake {
            return flake.clone();
        }
        if tend_runner::has_flake(&program.dir) {
            return program.dir.clone();
        }
        folder.to_path_buf()
    }
}

impl Config {
    /// Reads and parses the file at `path`. See [`Config::parse`].
    ///
    /// # Errors
    /// [`ConfigError::Read`] if the file cannot be read, [`ConfigError::Invalid`] if a file
    /// named in `env_files` does not exist, otherwise as [`Config::parse`].
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let bytes = std::fs::read(path)
            .map_err(|error| ConfigError::Read { path: path.to_path_buf(), error })?;
        super::parse::parse_bytes(&bytes, path, super::parse::Disk::Checked)
    }

    /// Parses `text` as the content of the file at `path`.
    ///
    /// `path` is used, as given, in error messages, and its folder (made absolute from the
    /// current directory, not touched on disk) is the app's folder.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] for invalid TOML or any invalid key or value;
    /// [`ConfigError::Folder`] if `path` is relative and there is no current directory.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        super::parse::parse(text, path)
    }

    /// The app name of the file at `path` when it may not parse (a broken edit): its top-level
    /// `name = "…"`, found by a plain scan of the lines before the first table, else its
    /// folder's name. `None` if the file cannot be read or the name found is not valid.
    ///
    /// ```
    /// let text = "name = \"bot\"\n[programs.web]\ncommand = [unclosed\n";
    /// assert!(tend_app::config::Config::parse(text, "x/tend.toml".as_ref()).is_err());
    /// assert_eq!(tend_app::config::Config::partial_name(text, "x/tend.toml".as_ref()).as_deref(), Some("bot"));
    /// ```
    pub fn partial_name(text: &str, path: &Path) -> Option<String> {
        super::parse::partial_name(text, path)
    }

    /// The app of `tend run`: one program, no file. Its folder is the program's `dir`.
    ///
    /// # Errors
    /// [`ConfigError::InvalidName`] if `name` or the program's name is not a valid name
    /// (see [`sanitize_name`](super::sanitize_name) to make one from a command).
    pub fn single(name: impl Into<String>, program: ProgramConfig) -> Result<Config, ConfigError> {
        let name = name.into();
        if !is_valid_name(&name) {
            return Err(ConfigError::InvalidName { what: "app", name });
        }
        if !is_valid_name(&program.name) {
            return Err(ConfigError::InvalidName { what: "program", name: program.name });
        }
        Ok(Config {
            name,
            folder: program.dir.clone(),
            log: program.log,
            inflight: InflightConfig::default(),
            programs: vec![program],
            docker: None,
            nix: NixConfig::default(),
            update: UpdateConfig::default(),
        })
    }

    /// The program called `name`, if any.
    pub fn program(&self, name: &str) -> Option<&ProgramConfig> {
        self.programs.iter().find(|p| p.name == name)
    }

    /// The folder of the flake whose dev shell `program` gets under `runner = "nix"`: the
    /// `[nix]` table's `flake`, else the program's `dir` when it holds a `flake.nix`, else the
    /// app's folder.
    pub fn flake_dir(&self, program: &ProgramConfig) -> PathBuf {
        self.nix.flake_dir(&self.folder, program)
    }

    /// The `[docker]` table `program` runs with: `None` for a program whose runner is not
    /// `docker`.
    ///
    /// Loading a config does not check that a docker program has a `[docker]` table (while
    /// the Docker runner is not available, `tend up` says that first); whatever runs or shows
    /// a docker program asks here.
    ///
    /// # Errors
    /// [`ConfigError::NoDockerTable`] when `program` runs in Docker and there is no
    /// `[docker]` table.
    pub fn docker_for(
        &self,
        program: &ProgramConfig,
    ) -> Result<Option<&DockerConfig>, ConfigError> {
        if program.runner != Runner::Docker {
            return Ok(None);
        }
        match &self.docker {
            Some(docker) => Ok(Some(docker.as_ref())),
            None => Err(ConfigError::NoDockerTable { program: program.name.clone() }),
        }
    }
}

/// One supervised program: a `[programs.NAME]` table.
#[derive(Debug, Clone, PartialEq)]
pub struct ProgramConfig {
    /// The program's name (`[A-Za-z0-9][A-Za-z0-9._-]*`): names its log file.
    pub name: String,
    /// Program and arguments; never empty, and the program is never an empty string.
    pub command: Vec<String>,
    /// Absolute working directory.
    pub dir: PathBuf,
    /// Extra environment variables.
    pub env: BTreeMap<String, String>,
    /// Absolute paths of dotenv files to load, in order.
    pub env_files: Vec<PathBuf>,
    /// Where the program runs. A `runner = "auto"` program is given the runner chosen for it
    /// when the app starts ([`crate::programs::choice`]); `auto` says why.
    pub runner: Runner,
    /// Why `runner = "auto"` chose [`runner`](Self::runner) (`None`: it was configured).
    pub auto: Option<String>,
    /// When the program is restarted after it ends.
    pub restart: RestartPolicy,
    /// Exit code meaning "restart me now" (no backoff, not a crash); `None` turns it off.
    pub restart_exit_code: Option<i32>,
    /// Delay between crash restarts.
    pub backoff: Backoff,
    /// Crash-loop guard: more crashes than this and the program is fatal.
    pub max_restarts: MaxRestarts,
    /// How the program is stopped.
    pub stop: StopPolicy,
    /// Restart when files change, if set.
    pub watch: Option<Watch>,
    /// Rotation of the program's log.
    pub log: LogConfig,
}

impl ProgramConfig {
    /// A program with every setting at its default, as for `tend run`.
    pub fn new(name: impl Into<String>, command: Vec<String>, dir: PathBuf) -> ProgramConfig {
        ProgramConfig {
            name: name.into(),
            command,
            dir,
            env: BTreeMap::new(),
            env_files: Vec::new(),
            runner: Runner::default(),
            auto: None,
            restart: RestartPolicy::default(),
            restart_exit_code: Some(DEFAULT_RESTART_EXIT_CODE),
            backoff: Backoff::default(),
            max_restarts: MaxRestarts::default(),
            stop: StopPolicy::default(),
            watch: None,
            log: LogConfig::default(),
        }
    }
}

/// Where and how a program runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Runner {
    /// Directly on the host.
    #[default]
    Native,
    /// Inside a Docker container.
    Docker,
    /// Inside a Nix dev shell.
    Nix,
    /// Picked by the runner from what the program's folder holds.
    Auto,
}

impl Runner {
    /// Every runner, in documentation order.
    pub const ALL: [Runner; 4] = [Runner::Native, Runner::Docker, Runner::Nix, Runner::Auto];

    /// The name used in `tend.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            Runner::Native => "native",
            Runner::Docker => "docker",
            Runner::Nix => "nix",
            Runner::Auto => "auto",
        }
    }

    /// The runner with this `tend.toml` name, if any.
    pub fn from_name(name: &str) -> Option<Runner> {
        Runner::ALL.into_iter().find(|r| r.as_str() == name)
    }
}

impl fmt::Display for Runner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Backoff and the crash-loop guard are the supervisor's own types: the config fills them in.
pub use tend_supervisor::{Backoff, MaxRestarts};

/// The restart policy is the supervisor's own type, and the graceful stop (signal, then
/// SIGKILL after its grace) the runner's: the config fills them in.
pub use tend_runner::StopPolicy;
pub use tend_supervisor::RestartPolicy;

/// Restart a program when files under `paths` change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watch {
    /// Absolute files or folders to watch (recursively); never empty.
    pub paths: Vec<PathBuf>,
    /// Glob patterns of paths whose changes are ignored, as written.
    pub ignore: Vec<String>,
    /// Quiet time after the last change before restarting.
    pub debounce: Duration,
}

impl Watch {
    /// The default debounce: 200 ms.
    pub const DEFAULT_DEBOUNCE: Duration = Duration::from_millis(200);

    /// Watch `paths` with no ignores and the default debounce.
    pub fn new(paths: Vec<PathBuf>) -> Watch {
        Watch { paths, ignore: Vec::new(), debounce: Watch::DEFAULT_DEBOUNCE }
    }
}

/// The `[inflight]` table: recovery of work that programs reported as in progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InflightConfig {
    /// Open items older than this at the next start are dropped instead of being handed over
    /// as interrupted.
    pub max_age: Duration,
}

impl Default for InflightConfig {
    fn default() -> InflightConfig {
        InflightConfig { max_age: crate::inflight::DEFAULT_MAX_AGE }
    }
}

/// Rotation of a log file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogConfig {
    /// Size in bytes above which the file is rotated; more than 0.
    pub max_size: u64,
    /// Files kept, counting the current one; at least 1.
    pub max_files: u32,
}

impl Default for LogConfig {
    fn default() -> LogConfig {
        LogConfig { max_size: DEFAULT_LOG_MAX_SIZE, max_files: DEFAULT_LOG_MAX_FILES }
    }
}

/// The `[update]` table: whether and where tend looks for new versions of itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateConfig {
    /// Whether the running app checks in the background (`check = false` turns it off; so
    /// does `TEND_NO_UPDATE_CHECK=1`).
    pub check: bool,
    /// `stable`, or `pre` to be told of pre-releases too.
    pub channel: tend_update::Channel,
    /// The sparse index base URL (`TEND_UPDATE_INDEX` wins), else crates.io's.
    pub index: Option<String>,
    /// The release base URL of `binary` upgrades (`TEND_UPDATE_RELEASES` wins).
    pub releases: Option<String>,
}

impl Default for UpdateConfig {
    fn default() -> Self {
        UpdateConfig {
            check: true,
            channel: tend_update::Channel::Stable,
            index: None,
            releases: None,
        }
    }
}

impl UpdateConfig {
    /// The index to read: `TEND_UPDATE_INDEX`, else `index`, else crates.io's.
    pub fn index_url(&self) -> String {
        std::env::var(tend_update::INDEX_VAR)
            .ok()
            .filter(|v| !v.is_empty())
            .or_else(|| self.index.clone())
            .unwrap_or_else(|| tend_update::DEFAULT_INDEX.to_owned())
    }

    /// The release base URL: `TEND_UPDATE_RELEASES`, else `releases`, else the default.
    pub fn releases_url(&self) -> String {
        std::env::var(tend_update::RELEASES_VAR)
            .ok()
            .filter(|v| !v.is_empty())
            .or_else(|| self.releases.clone())
            .unwrap_or_else(|| tend_update::release::DEFAULT_RELEASES.to_owned())
    }

    /// Whether background checks run: `check`, unless `TEND_NO_UPDATE_CHECK=1`.
    pub fn checks_enabled(&self) -> bool {
        self.check && !tend_update::checks_disabled_by_env()
    }
}
