//! How a process ended, normalised across platforms.

use std::fmt;

use crate::Signal;

/// How a process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProcessEnd {
    /// It exited with this code.
    Exited(i32),
    /// It was killed by this signal number (Unix only).
    Signalled(i32),
}

impl ProcessEnd {
    /// Whether it exited with code 0.
    pub fn success(self) -> bool {
        self == ProcessEnd::Exited(0)
    }

    /// The code a shell would report: the exit code, or 128 + the signal number.
    ///
    /// ```
    /// use tend_runner::ProcessEnd;
    /// assert_eq!(ProcessEnd::Signalled(9).shell_code(), 137);
    /// ```
    pub fn shell_code(self) -> i32 {
        match self {
            ProcessEnd::Exited(code) => code,
            ProcessEnd::Signalled(signal) => 128 + signal,
        }
    }
}

impl From<std::process::ExitStatus> for ProcessEnd {
    fn from(status: std::process::ExitStatus) -> Self {
        #[cfg(unix)]
        {
            use std::os::unix::process::ExitStatusExt as _;
            if let Some(signal) = status.signal() {
                return ProcessEnd::Signalled(signal);
            }
        }
        ProcessEnd::Exited(status.code().unwrap_or(-1))
    }
}

impl fmt::Display for ProcessEnd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ProcessEnd::Exited(code) => write!(f, "exit code {code}"),
            ProcessEnd::Signalled(n) => match Signal::name_of(n) {
                Some(name) => write!(f, "signal {n} (SIG{name})"),
                None => write!(f, "signal {n}"),
            },
        }
    }
}
