//! The exit codes of `tend` itself, and the error type that chooses one.

use std::fmt;

use tend_app::Outcome;
use tend_supervisor::{Exit, ProgramState, Snapshot};

/// Success.
pub const SUCCESS: u8 = 0;
/// An error; the message on stderr says what, where and what to do.
pub const ERROR: u8 = 1;
/// A usage error (bad flags or arguments).
pub const USAGE: u8 = 2;
/// Nothing is running (status, restart or down with no running instance).
pub const NOT_RUNNING: u8 = 3;

/// An error that ends the command with a specific exit code.
#[derive(Debug)]
pub struct CliError {
    /// The exit code.
    pub code: u8,
    /// The message, already formatted; empty for none.
    pub message: String,
}

impl CliError {
    /// An error with exit code [`ERROR`].
    pub fn error(message: impl Into<String>) -> Self {
        CliError { code: ERROR, message: message.into() }
    }

    /// The exit code.
    pub fn exit_code(&self) -> u8 {
        self.code
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CliError {}

pub use tend_app::chain;

impl From<tend_app::AppError> for CliError {
    fn from(error: tend_app::AppError) -> Self {
        CliError::error(error.to_string())
    }
}

impl From<tend_app::detach::DetachError> for CliError {
    fn from(error: tend_app::detach::DetachError) -> Self {
        CliError::error(error.to_string())
    }
}

/// `tend up`'s code: 1 if any program is fatal, else 0; a restart of the app that the service
/// manager carries out exits with
/// [`SERVICE_RESTART_CODE`](tend_app::lifecycle::restart::SERVICE_RESTART_CODE).
pub fn of_up(outcome: &Outcome) -> u8 {
    match outcome {
        Outcome::Stopped => SUCCESS,
        Outcome::Finished(finals) if finals.iter().any(|s| s.state == ProgramState::Fatal) => ERROR,
        Outcome::Finished(_) => SUCCESS,
        Outcome::RestartByServiceManager => tend_app::lifecycle::restart::SERVICE_RESTART_CODE,
    }
}

/// `tend run`'s code: the program's last exit code (128+N for signal N), 0 if it was stopped,
/// or 1 if it never ran.
pub fn of_run(outcome: &Outcome) -> u8 {
    match outcome {
        Outcome::Stopped => SUCCESS,
        Outcome::Finished(finals) => match finals.first() {
            Some(Snapshot { state: ProgramState::Stopped, .. }) => SUCCESS,
            Some(Snapshot { last_exit: Some(exit), .. }) => shell_code(*exit),
            _ => ERROR,
        },
        Outcome::RestartByServiceManager => tend_app::lifecycle::restart::SERVICE_RESTART_CODE,
    }
}

/// An exit as a shell reports it: the code, or 128+N for signal N (modulo 256).
fn shell_code(exit: Exit) -> u8 {
    u8::try_from(exit.shell_code().rem_euclid(256)).unwrap_or(ERROR)
}
