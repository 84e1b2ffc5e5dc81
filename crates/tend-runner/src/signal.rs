//! tend's own signal vocabulary, so that no `nix` or `libc` type leaks into the public API.

use std::fmt;
use std::str::FromStr;

/// A signal tend can send to a program.
///
/// On Windows there are no signals: every variant means "terminate the job object", except
/// [`Signal::Interrupt`], which is delivered as CTRL+BREAK where the program has a console.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Signal {
    /// SIGHUP: hang-up; many daemons reload their configuration on it.
    Hangup,
    /// SIGINT: interrupt, what Ctrl-C sends.
    Interrupt,
    /// SIGQUIT: quit, often with a core dump or a thread dump.
    Quit,
    /// SIGKILL: cannot be caught; ends the process at once.
    Kill,
    /// SIGUSR1.
    User1,
    /// SIGUSR2.
    User2,
    /// SIGTERM: the polite request to terminate; tend's default stop signal.
    Terminate,
    /// SIGALRM.
    Alarm,
    /// SIGWINCH.
    WindowChange,
    /// SIGCONT: continue a stopped process.
    Continue,
    /// SIGSTOP: stop (pause) a process; cannot be caught.
    Stop,
    /// Any other signal, by number.
    Custom(i32),
}

/// The names accepted by [`Signal::from_str`], without the `SIG` prefix.
pub const SIGNAL_NAMES: &[&str] =
    &["HUP", "INT", "QUIT", "KILL", "USR1", "USR2", "TERM", "ALRM", "WINCH", "CONT", "STOP"];

impl Signal {
    /// The short name without `SIG` (`"TERM"`), or the number for [`Signal::Custom`].
    ///
    /// ```
    /// assert_eq!(tend_runner::Signal::Terminate.name(), "TERM");
    /// ```
    pub fn name(self) -> String {
        match self {
            Signal::Hangup => "HUP".into(),
            Signal::Interrupt => "INT".into(),
            Signal::Quit => "QUIT".into(),
            Signal::Kill => "KILL".into(),
            Signal::User1 => "USR1".into(),
            Signal::User2 => "USR2".into(),
            Signal::Terminate => "TERM".into(),
            Signal::Alarm => "ALRM".into(),
            Signal::WindowChange => "WINCH".into(),
            Signal::Continue => "CONT".into(),
            Signal::Stop => "STOP".into(),
            Signal::Custom(n) => n.to_string(),
        }
    }

    /// The signal's number on this platform (Unix numbering; Windows has none, and gets the
    /// Linux numbers so that exit reports read the same).
    pub fn number(self) -> i32 {
        crate::os::signal_number(self)
    }

    /// The name of a signal number without `SIG`, if it is one of the well-known ones: the
    /// signals tend can send (`9` → `"KILL"`), and those a crash ends a process with
    /// (`SEGV`, `ABRT`, `BUS`, `FPE`, `ILL`, `PIPE`, `TRAP`). This is tend's one signal-name
    /// table: exit reports and the config both use it.
    pub fn name_of(number: i32) -> Option<&'static str> {
        SIGNAL_NAMES
            .iter()
            .copied()
            .find(|name| name.parse::<Signal>().map(|s| s.number() == number).unwrap_or(false))
            .or_else(|| {
                crate::os::CRASH_SIGNALS.iter().find(|(n, _)| *n == number).map(|(_, name)| *name)
            })
    }
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Signal::Custom(n) => write!(f, "signal {n}"),
            other => write!(f, "SIG{}", other.name()),
        }
    }
}

/// The error of parsing a [`Signal`] from text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown signal `{0}`; expected one of HUP, INT, QUIT, KILL, USR1, USR2, TERM, ALRM, WINCH, CONT, STOP (with or without SIG), or a number"
)]
pub struct ParseSignalError(pub String);

impl FromStr for Signal {
    type Err = ParseSignalError;

    /// Parses `"TERM"`, `"SIGTERM"`, `"term"` or `"15"`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let upper = text.trim().to_ascii_uppercase();
        let bare = upper.strip_prefix("SIG").unwrap_or(&upper);
        Ok(match bare {
            "HUP" => Signal::Hangup,
            "INT" => Signal::Interrupt,
            "QUIT" => Signal::Quit,
            "KILL" => Signal::Kill,
            "USR1" => Signal::User1,
            "USR2" => Signal::User2,
            "TERM" => Signal::Terminate,
            "ALRM" => Signal::Alarm,
            "WINCH" => Signal::WindowChange,
            "CONT" => Signal::Continue,
            "STOP" => Signal::Stop,
            number => match number.parse::<i32>() {
                Ok(n) if (1..=64).contains(&n) => Signal::Custom(n),
                _ => return Err(ParseSignalError(text.to_string())),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_and_numbers() {
        assert_eq!("TERM".parse(), Ok(Signal::Terminate));
        assert_eq!("sigint".parse(), Ok(Signal::Interrupt));
        assert_eq!("9".parse::<Signal>().map(Signal::number), Ok(9));
        assert!("BOGUS".parse::<Signal>().is_err());
        assert!("0".parse::<Signal>().is_err());
    }

    #[test]
    fn names_numbers() {
        assert_eq!(Signal::name_of(9), Some("KILL"));
        assert_eq!(Signal::name_of(15), Some("TERM"));
        assert_eq!(Signal::name_of(63), None);
    }
}
