//! The exit codes of `tend` itself, and the error type that chooses one.

use std::fmt;

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

/// Formats an error and its chain of causes as `outer: cause: root`.
pub fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.ends_with(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
