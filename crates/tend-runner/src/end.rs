//! How a process ended, normalised across platforms: the one type for it in every layer
//! (the runner reports it, the supervisor decides on it, the control API shows it).

use std::fmt;

use crate::Signal;

/// How a process ended.
///
/// On Windows there are no signals: a process killed by tend (or anyone) ends with an exit code,
/// so only [`Exit::Code`] is seen there. As JSON: `{"code": 3}` or `{"signal": 9}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Exit {
    /// It exited by itself with this code.
    Code(i32),
    /// It was killed by this signal number (Unix only), e.g. `9` for `SIGKILL`.
    Signal(i32),
}

impl Exit {
    /// Whether it exited with code 0.
    ///
    /// ```
    /// use tend_runner::Exit;
    /// assert!(Exit::Code(0).success());
    /// assert!(!Exit::Signal(0).success());
    /// ```
    pub fn success(self) -> bool {
        self == Exit::Code(0)
    }

    /// The code a shell would report: the exit code, or 128 + the signal number.
    ///
    /// ```
    /// use tend_runner::Exit;
    /// assert_eq!(Exit::Signal(9).shell_code(), 137);
    /// ```
    pub fn shell_code(self) -> i32 {
        match self {
            Exit::Code(code) => code,
            Exit::Signal(signal) => 128 + signal,
        }
    }

    /// The name of the signal that ended it without `SIG` (`"KILL"`), for the well-known
    /// signals; `None` for exit codes and other signal numbers.
    ///
    /// ```
    /// use tend_runner::Exit;
    /// assert_eq!(Exit::Signal(9).signal_name(), Some("KILL"));
    /// assert_eq!(Exit::Code(9).signal_name(), None);
    /// ```
    pub fn signal_name(self) -> Option<&'static str> {
        match self {
            Exit::Code(_) => None,
            Exit::Signal(number) => Signal::name_of(number),
        }
    }
}

impl From<std::process::ExitStatus> for Exit {
    fn from(status: std::process::ExitStatus) -> Self {
        match crate::os::exit_signal(&status) {
            Some(signal) => Exit::Signal(signal),
            None => Exit::Code(status.code().unwrap_or(-1)),
        }
    }
}

impl fmt::Display for Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Exit::Code(code) => write!(f, "exit code {code}"),
            Exit::Signal(n) => match Signal::name_of(n) {
                Some(name) => write!(f, "signal {n} (SIG{name})"),
                None => write!(f, "signal {n}"),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_codes_and_signals() {
        assert_eq!(Exit::Code(3).to_string(), "exit code 3");
        assert_eq!(Exit::Code(-1).to_string(), "exit code -1");
        assert_eq!(Exit::Signal(9).to_string(), "signal 9 (SIGKILL)");
        assert_eq!(Exit::Signal(15).to_string(), "signal 15 (SIGTERM)");
        assert_eq!(Exit::Signal(77).to_string(), "signal 77");
    }

    #[test]
    fn names_common_signals() {
        for (signal, name) in [
            (Signal::Hangup, "HUP"),
            (Signal::Interrupt, "INT"),
            (Signal::Kill, "KILL"),
            (Signal::User1, "USR1"),
            (Signal::Terminate, "TERM"),
        ] {
            assert_eq!(Exit::Signal(signal.number()).signal_name(), Some(name));
        }
        #[cfg(unix)]
        for (number, name) in
            [(libc::SIGSEGV, "SEGV"), (libc::SIGABRT, "ABRT"), (libc::SIGPIPE, "PIPE")]
        {
            assert_eq!(Exit::Signal(number).signal_name(), Some(name));
        }
        assert_eq!(Exit::Code(9).signal_name(), None);
    }

    #[test]
    fn serialises_as_the_status_json_does() {
        assert_eq!(serde_json::to_string(&Exit::Code(3)).unwrap(), r#"{"code":3}"#);
        assert_eq!(serde_json::to_string(&Exit::Signal(9)).unwrap(), r#"{"signal":9}"#);
    }
}
