//! Running an app as a per-user service of the operating system, so that it starts at login
//! (or boot) and is restarted when tend itself fails: the engine behind `tend service`.
//!
//! One surface, three backends, chosen once at compile time by [`native`]:
//! - Linux (and other Unixes): a systemd user unit ([`systemd`]);
//! - macOS: a launchd agent ([`launchd`]);
//! - Windows: a Task Scheduler task ([`windows`], XML from [`taskxml`]).
//!
//! Every backend is plain code compiled and tested on every platform: the definition it
//! writes (unit text, plist, task XML) and the commands it runs (a [`Plan`]) are pure functions
//! of a [`Spec`]. Only [`exec`] runs anything. Callers (tend's command line) talk to
//! [`Service`] and never look at the platform.
//!
//! This crate knows nothing about config files or runners: the caller fills the [`Spec`] with
//! plain data (the app's name, `TEND_HOME`, the app's state folder, and for install the tend
//! binary and the app's tend.toml as absolute paths).

pub mod escape;
pub mod exec;
pub mod launchd;
pub mod linger;
mod os;
pub mod paths;
pub mod plan;
pub mod spec;
pub mod systemd;
pub mod taskxml;
pub mod windows;

use std::path::PathBuf;

pub use plan::{Cmd, OnError, Plan, Step};
pub use spec::{Launch, Spec};

/// What went wrong in a service operation.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The service manager is missing or unreachable.
    #[error("{0}")]
    Unavailable(String),
    /// The operation needs the app's tend.toml (install, show), and there is none.
    #[error("this needs the app's tend.toml: pass -f FILE")]
    NoConfig,
    /// A definition could not be generated.
    #[error("cannot generate the service definition: {0}")]
    Generate(String),
    /// A file could not be written or removed.
    #[error(transparent)]
    Fs(#[from] tend_fs::FsError),
    /// A folder or file operation failed.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// To what.
        path: PathBuf,
        /// Why it failed.
        source: std::io::Error,
    },
    /// A command could not be started.
    #[error("cannot run `{command}`: {source}")]
    Spawn {
        /// The command line.
        command: String,
        /// Why.
        source: std::io::Error,
    },
    /// A command failed.
    #[error("`{command}` failed ({status}){output}{hint}")]
    Command {
        /// The command line.
        command: String,
        /// Its exit status, as text.
        status: String,
        /// What it printed (`: …`), or nothing.
        output: String,
        /// What to do about it (`\n…`), or nothing.
        hint: String,
    },
}

/// The definition a backend installs: text to show, bytes to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Definition {
    /// Where it goes: a file path, or the name of a task.
    pub location: String,
    /// The definition as text.
    pub text: String,
    /// The bytes written (the text, or its UTF-16 encoding for Task Scheduler).
    pub bytes: Vec<u8>,
}

/// The output of a command run as a probe.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Captured {
    /// It exited with 0.
    pub success: bool,
    /// Its stdout, lossily decoded.
    pub stdout: String,
    /// Its stderr, lossily decoded.
    pub stderr: String,
}

/// Judges a probe command's output.
pub type Accept = std::sync::Arc<dyn Fn(&Captured) -> bool + Send + Sync>;

/// A yes/no question asked of the system.
#[derive(Clone)]
pub enum Probe {
    /// A fixed answer (the question does not apply).
    Fixed(bool),
    /// Whether a file exists.
    FileExists(PathBuf),
    /// Whether a program is on `PATH`.
    OnPath(String),
    /// Whether both are true (the second is asked only if the first is).
    Both(Box<Probe>, Box<Probe>),
    /// Run a command and judge its output.
    Command {
        /// The program and its arguments.
        argv: Vec<String>,
        /// The answer from the output.
        accept: Accept,
    },
}

impl std::fmt::Debug for Probe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Probe::Fixed(answer) => write!(f, "Fixed({answer})"),
            Probe::FileExists(path) => write!(f, "FileExists({})", path.display()),
            Probe::OnPath(program) => write!(f, "OnPath({program})"),
            Probe::Both(a, b) => write!(f, "Both({a:?}, {b:?})"),
            Probe::Command { argv, .. } => write!(f, "Command({})", argv.join(" ")),
        }
    }
}

impl Probe {
    /// A command probe.
    pub fn command<S: AsRef<str>>(
        argv: &[S],
        accept: impl Fn(&Captured) -> bool + Send + Sync + 'static,
    ) -> Probe {
        Probe::Command {
            argv: argv.iter().map(|a| a.as_ref().to_string()).collect(),
            accept: std::sync::Arc::new(accept),
        }
    }

    /// A probe that succeeds when the command exits with 0.
    pub fn succeeds<S: AsRef<str>>(argv: &[S]) -> Probe {
        Probe::command(argv, |out| out.success)
    }
}

/// Where a backend's logs are read.
#[derive(Debug, Clone)]
pub enum Logs {
    /// The system journal, when `available` says there is one; tend's log files otherwise.
    Journal {
        /// The journal command (tail, or follow).
        cmd: Cmd,
        /// Whether a journal is there to read.
        available: Probe,
    },
    /// tend's log files (the app's `logs/` folder, where the service's own output also goes).
    Files,
}

/// What [`Backend::install`] needs to know about the system now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facts {
    /// A definition is installed already (re-install: update in place and restart).
    pub installed: bool,
    /// Whether the user's services outlive their sessions (systemd linger); `None` where the
    /// question does not apply.
    pub linger: Option<bool>,
    /// Whether to try to turn linger on when it is off.
    pub try_linger: bool,
}

/// One service manager. Every method is pure: it describes, [`exec`] acts.
pub trait Backend: std::fmt::Debug + Send + Sync {
    /// What is installed, for people: "systemd user unit".
    fn kind(&self) -> &'static str;
    /// The service's name in its manager (unit, label or task name).
    fn name(&self) -> String;
    /// The app this service runs.
    fn spec(&self) -> &Spec;
    /// Whether the service manager is there and reachable.
    fn available(&self) -> Probe;
    /// A sentence for when it is not.
    fn unavailable_reason(&self) -> String;
    /// The definition `install` writes.
    ///
    /// # Errors
    /// [`ServiceError::NoConfig`] without a tend.toml; [`ServiceError::Generate`].
    fn definition(&self) -> Result<Definition, ServiceError>;
    /// Whether the definition is installed.
    fn installed(&self) -> Probe;
    /// Whether the service is running now.
    fn running(&self) -> Probe;
    /// Whether it starts by itself (at login / boot).
    fn enabled(&self) -> Probe;
    /// Whether the user's services outlive the user's sessions; `None` if not a question here.
    fn linger(&self) -> Option<Probe>;
    /// Install (or update in place) and start.
    ///
    /// # Errors
    /// As [`Backend::definition`].
    fn install(&self, facts: &Facts) -> Result<Plan, ServiceError>;
    /// Start the installed service.
    fn start(&self) -> Plan;
    /// Stop it (so that its manager does not start it again until `start` or the next login).
    fn stop(&self) -> Plan;
    /// Stop and remove it.
    fn uninstall(&self) -> Plan;
    /// The manager's own account of the service, shown by `status`.
    fn details(&self) -> Cmd;
    /// Where its logs are read: the last `lines`, then more as they come if `follow`.
    fn logs(&self, lines: usize, follow: bool) -> Logs;
    /// How to look at the service by hand, for `status` and the docs.
    fn debug_hint(&self) -> String;
}

/// The backend of this platform for `spec`.
pub fn native(spec: Spec) -> Box<dyn Backend> {
    os::native(spec)
}

/// The service state `tend service status` reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    /// The manager is there.
    pub available: bool,
    /// The definition is installed.
    pub installed: bool,
    /// It starts by itself.
    pub enabled: bool,
    /// It runs now.
    pub running: bool,
    /// Linger (systemd only).
    pub linger: Option<bool>,
}

/// An app's service on this platform: the one surface the CLI uses.
#[derive(Debug)]
pub struct Service {
    backend: Box<dyn Backend>,
}

impl Service {
    /// The service of `spec` on this platform.
    pub fn new(spec: Spec) -> Service {
        Service { backend: native(spec) }
    }

    /// A service with a given backend (tests, or to show another platform's definition).
    pub fn with_backend(backend: Box<dyn Backend>) -> Service {
        Service { backend }
    }

    /// The backend.
    pub fn backend(&self) -> &dyn Backend {
        self.backend.as_ref()
    }

    /// Whether the service manager is there.
    pub fn is_available(&self) -> bool {
        exec::ask(&self.backend.available())
    }

    /// Whether the definition is installed.
    pub fn is_installed(&self) -> bool {
        exec::ask(&self.backend.installed())
    }

    /// Whether the service runs now.
    pub fn is_running(&self) -> bool {
        self.is_installed() && exec::ask(&self.backend.running())
    }

    /// Everything `status` reports.
    pub fn state(&self) -> State {
        let available = self.is_available();
        let installed = self.is_installed();
        let ask = |probe: Probe| available && installed && exec::ask(&probe);
        State {
            available,
            installed,
            enabled: ask(self.backend.enabled()),
            running: ask(self.backend.running()),
            linger: self.backend.linger().map(|p| exec::ask(&p)),
        }
    }

    fn require_available(&self) -> Result<(), ServiceError> {
        if self.is_available() {
            Ok(())
        } else {
            Err(ServiceError::Unavailable(self.backend.unavailable_reason()))
        }
    }

    /// What `install` would do now.
    ///
    /// # Errors
    /// As [`Backend::install`].
    pub fn install_plan(&self, try_linger: bool) -> Result<Plan, ServiceError> {
        let facts = Facts {
            installed: self.is_installed(),
            linger: self.backend.linger().map(|p| exec::ask(&p)),
            try_linger,
        };
        self.backend.install(&facts)
    }

    /// Installs (or updates in place) and starts the service.
    ///
    /// # Errors
    /// The manager is unavailable, or a step failed.
    pub fn install(
        &self,
        try_linger: bool,
        out: &mut dyn std::io::Write,
    ) -> Result<(), ServiceError> {
        self.require_available()?;
        exec::run(&self.install_plan(try_linger)?, out)
    }

    /// Starts the installed service.
    ///
    /// # Errors
    /// As [`Service::install`].
    pub fn start(&self, out: &mut dyn std::io::Write) -> Result<(), ServiceError> {
        self.require_available()?;
        exec::run(&self.backend.start(), out)
    }

    /// Stops the service.
    ///
    /// # Errors
    /// As [`Service::install`].
    pub fn stop(&self, out: &mut dyn std::io::Write) -> Result<(), ServiceError> {
        self.require_available()?;
        exec::run(&self.backend.stop(), out)
    }

    /// Stops and removes the service.
    ///
    /// # Errors
    /// As [`Service::install`].
    pub fn uninstall(&self, out: &mut dyn std::io::Write) -> Result<(), ServiceError> {
        self.require_available()?;
        exec::run(&self.backend.uninstall(), out)
    }

    /// The manager's own account of the service.
    pub fn details(&self) -> Captured {
        exec::capture(&self.backend.details().argv).unwrap_or_else(|e| Captured {
            success: false,
            stdout: String::new(),
            stderr: e.to_string(),
        })
    }

    /// Where logs are read.
    pub fn logs(&self, lines: usize, follow: bool) -> Logs {
        self.backend.logs(lines, follow)
    }

    /// `tend down`'s first step: if the service is installed and running, stop it, so that its
    /// manager does not start the app again. `None` when there was nothing to stop; else
    /// whether stopping worked.
    pub fn stop_if_running(&self) -> Option<Result<(), ServiceError>> {
        if !self.is_installed() || !self.is_available() || !self.is_running() {
            return None;
        }
        let mut sink = Vec::new();
        Some(self.stop(&mut sink))
    }
}

pub(crate) use tend_fs::chain;
