//! How one run of a program ended.

use std::fmt;

/// How one run of a program ended.
///
/// On Windows there are no signals: a process killed by tend (or anyone) ends with an exit code,
/// so only [`Exit::Code`] is seen there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Exit {
    /// The program exited by itself with this code.
    Code(i32),
    /// The program was killed by this signal number (Unix only), e.g. `9` for `SIGKILL`.
    Signal(i32),
}

impl Exit {
    /// Whether the run ended with exit code 0.
    pub fn is_success(self) -> bool {
        self == Exit::Code(0)
    }

    /// The conventional name of the signal that ended the run (`"SIGKILL"`), for the common
    /// signals; `None` for exit codes and for other signal numbers.
    pub fn signal_name(self) -> Option<&'static str> {
        match self {
            Exit::Code(_) => None,
            Exit::Signal(number) => signal_name(number),
        }
    }
}

impl fmt::Display for Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Exit::Code(code) => write!(f, "exit code {code}"),
            Exit::Signal(number) => match signal_name(number) {
                Some(name) => write!(f, "signal {number} ({name})"),
                None => write!(f, "signal {number}"),
            },
        }
    }
}

/// `SIGUSR1`/`SIGUSR2` are the only common signals whose numbers differ between Linux and the
/// BSD family (macOS included).
const USR_SIGNALS: (i32, i32) = if cfg!(any(
    target_os = "macos",
    target_os = "ios",
    target_os = "freebsd",
    target_os = "openbsd",
    target_os = "netbsd",
    target_os = "dragonfly"
)) {
    (30, 31)
} else {
    (10, 12)
};

fn signal_name(number: i32) -> Option<&'static str> {
    let name = match number {
        1 => "SIGHUP",
        2 => "SIGINT",
        3 => "SIGQUIT",
        6 => "SIGABRT",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        13 => "SIGPIPE",
        14 => "SIGALRM",
        15 => "SIGTERM",
        n if n == USR_SIGNALS.0 => "SIGUSR1",
        n if n == USR_SIGNALS.1 => "SIGUSR2",
        _ => return None,
    };
    Some(name)
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
        for (number, name) in [
            (1, "SIGHUP"),
            (2, "SIGINT"),
            (3, "SIGQUIT"),
            (6, "SIGABRT"),
            (9, "SIGKILL"),
            (11, "SIGSEGV"),
            (13, "SIGPIPE"),
            (14, "SIGALRM"),
            (15, "SIGTERM"),
            (USR_SIGNALS.0, "SIGUSR1"),
            (USR_SIGNALS.1, "SIGUSR2"),
        ] {
            assert_eq!(Exit::Signal(number).signal_name(), Some(name));
        }
        assert_eq!(Exit::Code(9).signal_name(), None);
    }

    #[test]
    fn only_code_zero_is_success() {
        assert!(Exit::Code(0).is_success());
        assert!(!Exit::Code(1).is_success());
        assert!(!Exit::Signal(0).is_success());
    }
}
