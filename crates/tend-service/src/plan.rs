//! What a service operation does, as data: the files it writes and removes and the commands it
//! runs, in order. Backends build plans with pure functions (tested on every platform as
//! text); only [`super::exec`] carries them out.

use std::fmt;
use std::path::PathBuf;

use super::escape;

/// What to do when a command fails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OnError {
    /// Stop the plan and report the command's output.
    Fail,
    /// Go on: the failure is expected in some states (stopping what is not running).
    Ignore,
    /// Go on, after printing this explanation (what it means, what to run instead).
    Warn(String),
}

/// One command of a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cmd {
    /// The program and its arguments.
    pub argv: Vec<String>,
    /// What a failure means.
    pub on_error: OnError,
    /// A failure that says "access denied" gets a hint to use an elevated terminal.
    pub elevation_hint: bool,
}

impl Cmd {
    /// A command whose failure stops the plan.
    pub fn new<S: AsRef<str>>(argv: &[S]) -> Cmd {
        Cmd {
            argv: argv.iter().map(|a| a.as_ref().to_string()).collect(),
            on_error: OnError::Fail,
            elevation_hint: false,
        }
    }

    /// The same command, whose failure is ignored.
    pub fn ignore_errors(mut self) -> Cmd {
        self.on_error = OnError::Ignore;
        self
    }

    /// The same command, whose failure prints `message` and is otherwise ignored.
    pub fn warn(mut self, message: impl Into<String>) -> Cmd {
        self.on_error = OnError::Warn(message.into());
        self
    }

    /// The same command, with a hint about elevated terminals when access is denied.
    pub fn with_elevation_hint(mut self) -> Cmd {
        self.elevation_hint = true;
        self
    }
}

impl fmt::Display for Cmd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let words: Vec<String> = self.argv.iter().map(|a| escape::shell(a)).collect();
        f.write_str(&words.join(" "))?;
        match self.on_error {
            OnError::Fail => Ok(()),
            OnError::Ignore => f.write_str("  [failure ignored]"),
            OnError::Warn(_) => f.write_str("  [failure explained]"),
        }
    }
}

/// One step of a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Create a folder and its parents.
    CreateDir(PathBuf),
    /// Write a file atomically (mode 0600 on Unix), replacing any old content.
    Write {
        /// Where.
        path: PathBuf,
        /// What.
        bytes: Vec<u8>,
    },
    /// Remove a file; a missing file is fine.
    Remove(PathBuf),
    /// Run a command.
    Run(Cmd),
    /// Run these commands in order until one succeeds; if none does, the last failure counts.
    FirstOf(Vec<Cmd>),
    /// Tell the user something (a step that was left out on purpose, and why).
    Note(String),
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::CreateDir(path) => {
                write!(f, "mkdir -p {}", escape::shell(&path.to_string_lossy()))
            }
            Step::Write { path, bytes } => {
                write!(
                    f,
                    "write {} ({} bytes)",
                    escape::shell(&path.to_string_lossy()),
                    bytes.len()
                )
            }
            Step::Remove(path) => write!(f, "rm -f {}", escape::shell(&path.to_string_lossy())),
            Step::Run(cmd) => write!(f, "{cmd}"),
            Step::FirstOf(cmds) => {
                let alternatives: Vec<String> = cmds.iter().map(ToString::to_string).collect();
                write!(f, "{}", alternatives.join("  ||  "))
            }
            Step::Note(text) => write!(f, "# {text}"),
        }
    }
}

/// Steps in order, and cleanup steps that run whatever happened.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// The steps; the first failing one ends the plan.
    pub steps: Vec<Step>,
    /// Run after the steps, even when one failed (removing temporary files).
    pub finally: Vec<Step>,
}

impl Plan {
    /// An empty plan.
    pub fn new() -> Plan {
        Plan::default()
    }

    /// Adds a step.
    pub fn then(mut self, step: Step) -> Plan {
        self.steps.push(step);
        self
    }

    /// Adds a command.
    pub fn run(self, cmd: Cmd) -> Plan {
        self.then(Step::Run(cmd))
    }

    /// Adds a cleanup step.
    pub fn finally(mut self, step: Step) -> Plan {
        self.finally.push(step);
        self
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for step in &self.steps {
            writeln!(f, "{step}")?;
        }
        for step in &self.finally {
            writeln!(f, "{step}  [always]")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_read_as_commands() {
        let plan = Plan::new()
            .then(Step::CreateDir("/a b".into()))
            .then(Step::Write { path: "/a b/x".into(), bytes: b"hi".to_vec() })
            .run(Cmd::new(&["systemctl", "--user", "daemon-reload"]))
            .run(Cmd::new(&["true"]).ignore_errors())
            .then(Step::FirstOf(vec![Cmd::new(&["a"]), Cmd::new(&["b"]).warn("why")]))
            .finally(Step::Remove("/a b/x".into()));
        assert_eq!(
            plan.to_string(),
            "mkdir -p '/a b'\nwrite '/a b/x' (2 bytes)\nsystemctl --user daemon-reload\n\
true  [failure ignored]\na  ||  b  [failure explained]\nrm -f '/a b/x'  [always]\n"
        );
    }
}
