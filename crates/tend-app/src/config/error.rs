//! Errors of loading a `tend.toml`.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// Why a configuration could not be loaded.
///
/// The `Display` text is meant for people, complete on one line: what is wrong, where, and
/// what to do about it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read (missing, unreadable, a directory).
    #[error("{}", read_message(path, error))]
    Read {
        /// The path as given.
        path: PathBuf,
        /// What the OS said.
        error: io::Error,
    },
    /// The folder of the file could not be made absolute (no current directory).
    #[error("cannot resolve the folder of {}: {error}", path.display())]
    Folder {
        /// The path of the config file, as given.
        path: PathBuf,
        /// What the OS said.
        error: io::Error,
    },
    /// The file is not valid TOML, or a value in it is wrong; points at the place.
    #[error("{0}")]
    Invalid(Box<Diagnostic>),
    /// A program has `runner = "docker"` but the app has no `[docker]` table.
    #[error(
        "program `{program}` has runner = \"docker\", but there is no [docker] table; add one, \
         like [docker] with image = \"debian:bookworm-slim\" (or build = {{ base = \"…\" }}), \
         or use runner = \"native\""
    )]
    NoDockerTable {
        /// The program's name.
        program: String,
    },
    /// A name given outside a file (`tend run --name`) is not a valid app or program name.
    #[error("invalid {what} name {name:?}; {}", super::values::NAME_EXPECTED)]
    InvalidName {
        /// `"app"` or `"program"`.
        what: &'static str,
        /// The name as given.
        name: String,
    },
}

impl ConfigError {
    /// The diagnostic, if this error points at a place in the file.
    pub fn diagnostic(&self) -> Option<&Diagnostic> {
        match self {
            ConfigError::Invalid(d) => Some(d),
            _ => None,
        }
    }
}

fn read_message(path: &std::path::Path, error: &io::Error) -> String {
    let hint = match error.kind() {
        io::ErrorKind::NotFound => "create one or pass -f FILE",
        io::ErrorKind::IsADirectory => "pass the path of a file with -f FILE",
        io::ErrorKind::PermissionDenied => "check its permissions, or pass -f FILE",
        _ => "check the file, or pass -f FILE",
    };
    format!("cannot read {}: {error}; {hint}", path.display())
}

/// A mistake at a place in a config file.
///
/// Displays as `<file>:<line>:<column>: <key>: <problem>; <expected>`, where the key part
/// is left out when the mistake is the key itself (an unknown key) or not in any key (a TOML
/// syntax error), and the expected part when there is nothing useful to say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file, as given to [`Config::load`](super::Config::load) or
    /// [`Config::parse`](super::Config::parse).
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// Dotted path of the key, like `programs.web.backoff.initial` or
    /// `programs.web.command[1]`.
    pub key: Option<String>,
    /// What is wrong, like `invalid duration "1x"`.
    pub problem: String,
    /// What would be right, like `expected a number and a unit, like 500ms, 10s or 2m`.
    pub expected: Option<String>,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.file, self.line, self.column)?;
        if let Some(key) = &self.key {
            write!(f, "{key}: ")?;
        }
        f.write_str(&self.problem)?;
        if let Some(expected) = &self.expected {
            write!(f, "; {expected}")?;
        }
        Ok(())
    }
}
