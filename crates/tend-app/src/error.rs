//! What can stop an app from running ([`AppError`]), and [`chain`] (tend-fs's) for printing any
//! error with its causes.

use std::path::PathBuf;

use crate::config::ConfigError;
use crate::lifecycle::lock::LockError;

/// Why [`crate::App::run`] could not run the app, or why it ended in error. Every message says
/// what, where and what to do; none carries an exit code (the binary chooses those).
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// `tend.toml` cannot be read or has errors.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A program's `runner` is not available (yet).
    #[error("{0}")]
    UnavailableRunner(String),
    /// The app's state folder, or a folder above it, is open to other users.
    #[error(transparent)]
    NotPrivate(tend_fs::FsError),
    /// The app's state folder cannot be created.
    #[error(
        "cannot create the state folder {}: {source}; set TEND_HOME or --home to a writable folder",
        dir.display()
    )]
    StateFolder {
        /// The folder.
        dir: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The app cannot fit under the file-descriptor limit.
    #[error("{app}: {message}")]
    Descriptors {
        /// The app.
        app: String,
        /// What does not fit, and what to do.
        message: String,
    },
    /// Another tend runs the app, or its lock cannot be taken.
    #[error("{message}")]
    Lock {
        /// Why the lock was not taken.
        source: LockError,
        /// The explanation, with the commands that help (see [`LockError::explain`]).
        message: String,
    },
    /// The start cannot be recorded in `state.json`.
    #[error("{app}: cannot record the start: {}", chain(source))]
    RecordStart {
        /// The app.
        app: String,
        /// Why.
        source: tend_fs::FsError,
    },
    /// The restart context cannot be handed over to the programs.
    #[error("{app}: cannot hand over the restart context: {}", chain(source))]
    RestartContext {
        /// The app.
        app: String,
        /// Why.
        source: tend_fs::FsError,
    },
    /// The signals that stop the app cannot be listened for.
    #[error("cannot listen for signals: {0}")]
    Signals(std::io::Error),
    /// A restart of the app was asked for, and tend cannot execute itself again.
    #[error("{app}: cannot execute tend again: {source}; start it with `{command}`")]
    ReExecute {
        /// The app.
        app: String,
        /// How to start it by hand.
        command: String,
        /// Why.
        source: std::io::Error,
    },
}

pub use tend_fs::chain;
