//! What to run and how ([`AppOptions`], [`Source`]), and how a run ended ([`Outcome`]).

use std::path::PathBuf;

use tend_supervisor::Snapshot;

use crate::config::Config;

/// Where the app to run comes from.
#[derive(Debug, Clone)]
pub enum Source {
    /// `tend up`: the app of a `tend.toml`; with `watch`, edits of the file are applied to the
    /// running app (`--watch-config`, see [`crate::reload`]).
    File {
        /// The `tend.toml`.
        path: PathBuf,
        /// Reload the file when it changes.
        watch: bool,
    },
    /// `tend run`: an app made in memory (see [`Config::for_command`](crate::config::Config)).
    Config(Config),
}

impl Source {
    /// The app of the `tend.toml` at `path`, not reloaded.
    pub fn file(path: impl Into<PathBuf>) -> Source {
        Source::File { path: path.into(), watch: false }
    }
}

/// How to run an app.
#[derive(Debug, Clone)]
pub struct AppOptions {
    /// The tend home (`TEND_HOME`): the app's state is in `<tend_home>/apps/<name>`.
    pub tend_home: PathBuf,
    /// The app.
    pub source: Source,
    /// Stop a tend that already runs this app and take its place (`--replace`).
    pub replace: bool,
    /// Colour the programs' output on the terminal.
    pub color: bool,
    /// Print nothing of the programs' output on the terminal (`-q`).
    pub quiet: bool,
    /// The level filter for tend's own events (`info`, `debug`, …; see [`crate::logging`]).
    pub log_level: String,
}

impl AppOptions {
    /// Options for `source` under `tend_home`: no `--replace`, no colour, output shown, level
    /// `info`.
    pub fn new(tend_home: impl Into<PathBuf>, source: Source) -> AppOptions {
        AppOptions {
            tend_home: tend_home.into(),
            source,
            replace: false,
            color: false,
            quiet: false,
            log_level: crate::logging::level(0, false).to_string(),
        }
    }
}

/// How a run of an app ended.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// A stop signal or `tend down` stopped every program.
    Stopped,
    /// Every program ended on its own (done, or fatal): their last state.
    Finished(Vec<Snapshot>),
    /// A restart of the whole app was asked for, every program is stopped, and tend runs under
    /// a service manager, which starts it again once it exits with
    /// [`SERVICE_RESTART_CODE`](crate::lifecycle::restart::SERVICE_RESTART_CODE). (Outside a
    /// service manager, tend executes itself again instead, and [`crate::App::run`] never returns.)
    RestartByServiceManager,
}
