//! `tend up -d`: the app runs in the background, in its own session, and `tend up -d` returns
//! once its control API answers, or fails with the error and where the logs are.
//!
//! The background tend is the same command run again with `TEND_DETACHED_CHILD=1`; on Unix it
//! reports readiness by writing one byte to an inherited pipe (file descriptor
//! `TEND_READY_FD`), so the waiting side sleeps on a read, never polls, and sees the child's
//! death as the end of the pipe.

use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

use tend_api::AppHome;

use crate::config::{Config, ConfigError};

/// Set for the background tend that `tend up -d` starts.
const CHILD_VAR: &str = "TEND_DETACHED_CHILD";
/// The file descriptor on which the background tend says it is ready.
const READY_FD_VAR: &str = "TEND_READY_FD";
/// How long `tend up -d` waits for the app to answer.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// What the environment said about this process, read once at start.
#[derive(Debug, Clone, Copy, Default)]
struct Detached {
    child: bool,
    ready: Option<crate::os::ReadyWriter>,
}

static DETACHED: OnceLock<Detached> = OnceLock::new();

/// Reads and removes `TEND_DETACHED_CHILD` and `TEND_READY_FD` from the environment, so that
/// programs never inherit them. Call first thing in `main`, while the process has one thread.
pub fn take_env() {
    let child = std::env::var_os(CHILD_VAR).is_some_and(|v| v == "1");
    let ready_fd = std::env::var(READY_FD_VAR).ok();
    if std::env::var_os(CHILD_VAR).is_some() || std::env::var_os(READY_FD_VAR).is_some() {
        // SAFETY: called at the start of `main`, before any other thread exists, so no one
        // reads the environment concurrently.
        unsafe {
            std::env::remove_var(CHILD_VAR);
            std::env::remove_var(READY_FD_VAR);
        }
    }
    let ready = crate::os::claim_ready(ready_fd.as_deref());
    let _ = DETACHED.set(Detached { child, ready });
}

/// Whether this tend is the background one started by `tend up -d`.
pub fn is_detached_child() -> bool {
    DETACHED.get().is_some_and(|d| d.child)
}

/// The variables that make a re-executed background tend a background tend again.
pub fn child_env() -> Option<(&'static str, &'static str)> {
    is_detached_child().then_some((CHILD_VAR, "1"))
}

/// What the background tend tells the waiting `tend up -d`, as one line of JSON on the
/// readiness pipe.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Handshake {
    /// Every program had its first launch, and the control API answers (or could not be set
    /// up: `api` false).
    Ready {
        /// Whether the control API answers.
        api: bool,
        /// How many programs the app has.
        programs: usize,
        /// The programs that are fatal already, with why (`cannot start: …`).
        fatal: Vec<FatalProgram>,
    },
    /// The background tend failed before it was ready; it exits.
    Failed {
        /// Its error, as it would print it.
        error: String,
    },
}

/// A program that became fatal while the app started.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FatalProgram {
    /// Its name.
    pub program: String,
    /// Why, for people.
    pub reason: String,
}

/// Tells the waiting `tend up -d` how the start went. Does nothing outside a background tend,
/// and only once.
pub fn notify(handshake: &Handshake) {
    static DONE: OnceLock<()> = OnceLock::new();
    if DONE.set(()).is_err() {
        return;
    }
    if let Some(ready) = DETACHED.get().and_then(|d| d.ready)
        && let Ok(mut line) = serde_json::to_vec(handshake)
    {
        line.push(b'\n');
        ready.send(&line);
    }
}

/// Tells the waiting `tend up -d` that this background tend failed with `error` (does
/// nothing elsewhere, or once it was ready).
pub fn notify_failed(error: &str) {
    if is_detached_child() {
        notify(&Handshake::Failed { error: error.to_owned() });
    }
}

/// The longest handshake the waiting side reads.
const HANDSHAKE_MAX: u64 = 1024 * 1024;

/// How a command the user typed refers to the app: `-f FILE` unless it is the default
/// `tend.toml` of the current folder, so that the printed hints can be copied as they are.
pub fn file_flag(file: &Path) -> String {
    if file == Path::new(DEFAULT_FILE) {
        String::new()
    } else {
        format!(" -f {}", shell_word(&file.to_string_lossy()))
    }
}

/// The default of `-f`.
pub const DEFAULT_FILE: &str = "tend.toml";

/// `text` as one word for a POSIX shell: as it is when it is plain, else in single quotes.
pub fn shell_word(text: &str) -> String {
    let plain = !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_./:=@%+,".contains(&b));
    if plain { text.to_owned() } else { format!("'{}'", text.replace('\'', r"'\''")) }
}

/// Why `tend up -d` could not start the app in the background.
#[derive(Debug, thiserror::Error)]
pub enum DetachError {
    /// `tend.toml` cannot be read or has errors (reported here and now, not in a log file).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The app's state folder, or a folder above it, is open to other users.
    #[error(transparent)]
    NotPrivate(tend_fs::FsError),
    /// The app's state folder cannot be created.
    #[error("cannot create the state folder {}: {source}", dir.display())]
    StateFolder {
        /// The folder.
        dir: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The tend binary cannot be found to start it again.
    #[error("cannot tell where the tend binary is: {0}")]
    CurrentExe(std::io::Error),
    /// The file for the background tend's stderr cannot be opened.
    #[error("cannot open {}: {source}", path.display())]
    Stderr {
        /// The file (`logs/up.err`).
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The background tend cannot be started.
    #[error("cannot start tend in the background: {0}")]
    Spawn(std::io::Error),
    /// The background tend started but is not (or not wholly) ready: programs that are fatal,
    /// an error it reported, its exit, or no answer in time; with where to look.
    #[error("{message}")]
    NotReady {
        /// The app.
        app: String,
        /// The background tend's pid.
        pid: u32,
        /// What happened, and what to do.
        message: String,
    },
}

/// A background tend that answers, every program having had its first launch.
#[derive(Debug, Clone)]
pub struct Started {
    /// The app.
    pub app: String,
    /// The background tend's pid.
    pub pid: u32,
    /// The app's logs folder.
    pub logs: std::path::PathBuf,
    /// Whether its control API answers.
    pub api: bool,
}

/// `tend up -d`: starts the app of `file` in the background (under `tend_home`) and waits
/// until it answers.
///
/// # Errors
/// A configuration error, a tend that cannot be started, or a background tend that exited
/// before it was ready, or whose programs are fatal (the message says which, with the log
/// paths).
pub async fn up(tend_home: &Path, file: &Path) -> Result<Started, DetachError> {
    // A bad config is reported here and now, not in a log file.
    let config = Config::load(file)?;
    let home = AppHome::new(tend_home, &config.name);
    home.check_private().map_err(DetachError::NotPrivate)?;
    home.create().map_err(|source| DetachError::StateFolder { dir: home.dir.clone(), source })?;
    let errors = home.logs().join("up.err");
    let started = spawn_child(&errors)?;
    let name = &config.name;
    let pid = started.child.id();
    let flag = file_flag(file);
    let see = format!("see {} and {}", home.tend_log().display(), errors.display());
    let not_ready = |message: String| DetachError::NotReady { app: name.clone(), pid, message };
    match wait_ready(started, &home, READY_TIMEOUT).await {
        Ready::Said(Handshake::Ready { api, fatal, .. }) if fatal.is_empty() => {
            Ok(Started { app: name.clone(), pid, logs: home.logs(), api })
        }
        Ready::Said(Handshake::Ready { programs, fatal, .. }) => {
            let mut message = String::new();
            for program in &fatal {
                message.push_str(&format!("{name}: {}: {}\n", program.program, program.reason));
            }
            if fatal.len() >= programs {
                message.push_str(&format!(
                    "  no program runs, so the background tend (pid {pid}) stops; fix {} and \
                     run `tend up{flag} -d` again ({see})",
                    file.display()
                ));
            } else {
                message.push_str(&format!(
                    "  the other {} program(s) run in the background (pid {pid}): fix {}, then \
                     `tend up{flag} -d --replace`, or stop them with `tend down{flag}` ({see})",
                    programs - fatal.len(),
                    file.display()
                ));
            }
            Err(not_ready(message))
        }
        Ready::Said(Handshake::Failed { error }) => {
            let error = error.strip_prefix("tend: error: ").unwrap_or(&error);
            Err(not_ready(format!(
                "{name}: the background tend failed before it was ready: {error}\n  {see}"
            )))
        }
        Ready::Exited(code) => {
            let said = std::fs::read_to_string(&errors).unwrap_or_default();
            let said = said.lines().last().unwrap_or_default().trim();
            let said = said.strip_prefix("tend: error: ").unwrap_or(said);
            Err(not_ready(format!(
                "{name}: the background tend exited ({}) before it was ready: {}\n  {see}",
                code.map_or_else(|| "killed".to_string(), |c| format!("code {c}")),
                if said.is_empty() { "it said nothing" } else { said },
            )))
        }
        Ready::TimedOut => Err(not_ready(format!(
            "{name}: the background tend (pid {}) did not answer within {}; it may still be \
             starting: see {} (stop it with `tend down{flag}`)",
            pid,
            tend_api::human(READY_TIMEOUT),
            home.tend_log().display()
        ))),
    }
}

enum Ready {
    /// The background tend said how its start went.
    Said(Handshake),
    /// It exited without a word.
    Exited(Option<i32>),
    TimedOut,
}

fn spawn_child(errors: &Path) -> Result<crate::os::Background, DetachError> {
    let exe = std::env::current_exe().map_err(DetachError::CurrentExe)?;
    // Appended to, never truncated: launchers that race each other each hear their own
    // background tend through their own pipe, and none wipes what another one wrote.
    let stderr = tend_fs::open_private_append(errors)
        .map_err(|source| DetachError::Stderr { path: errors.to_path_buf(), source })?;
    let mut command = std::process::Command::new(exe);
    command
        .args(std::env::args_os().skip(1))
        .env(CHILD_VAR, "1")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(stderr);
    crate::os::spawn_background(command, READY_FD_VAR).map_err(DetachError::Spawn)
}

/// Waits for the background tend's handshake, its exit, or the timeout.
async fn wait_ready(
    mut started: crate::os::Background,
    home: &AppHome,
    timeout: Duration,
) -> Ready {
    let pipe = tend_api::address::connect_path(home);
    let answers = async || tend_api::client::answers(&pipe).await;
    match started.hear(HANDSHAKE_MAX, timeout, answers).await {
        crate::os::Heard::Line(line) => match serde_json::from_slice::<Handshake>(&line) {
            Ok(handshake) => Ready::Said(handshake),
            Err(_) => Ready::Exited(started.child.wait().ok().and_then(|s| s.code())),
        },
        crate::os::Heard::Answered => {
            Ready::Said(Handshake::Ready { api: true, programs: 0, fatal: Vec::new() })
        }
        crate::os::Heard::Exited(code) => Ready::Exited(code),
        crate::os::Heard::TimedOut => Ready::TimedOut,
    }
}
