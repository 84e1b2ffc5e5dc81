//! Errors of this crate.

/// An error of the supervisor's control surface.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SupervisorError {
    /// The program's task is gone (its runtime shut down), so the command was not carried out.
    #[error("program `{program}` is no longer supervised")]
    Gone {
        /// The program's name.
        program: String,
    },
}

/// A word that is not one of the accepted values, e.g. `restart = "sometimes"`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} `{input}` (expected one of: {expected})")]
pub struct ParseError {
    /// What was being parsed, e.g. "restart policy".
    pub what: &'static str,
    /// The rejected input.
    pub input: String,
    /// The accepted values, comma-separated.
    pub expected: &'static str,
}
