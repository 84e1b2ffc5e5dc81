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

use crate::app::Global;
use crate::config::Config;
use crate::exit::{self, CliError};
use crate::home::AppHome;

/// Set for the background tend that `tend up -d` starts.
const CHILD_VAR: &str = "TEND_DETACHED_CHILD";
/// The file descriptor on which the background tend says it is ready.
const READY_FD_VAR: &str = "TEND_READY_FD";
/// The descriptor number the pipe gets in the child.
#[cfg(unix)]
const READY_FD: i32 = 3;
/// How long `tend up -d` waits for the app to answer.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// What the environment said about this process, read once at start.
#[derive(Debug, Clone, Copy, Default)]
struct Detached {
    child: bool,
    #[cfg(unix)]
    ready_fd: Option<i32>,
}

static DETACHED: OnceLock<Detached> = OnceLock::new();

/// Reads and removes `TEND_DETACHED_CHILD` and `TEND_READY_FD` from the environment, so that
/// programs never inherit them. Call first thing in `main`, while the process has one thread.
pub fn take_env() {
    let child = std::env::var_os(CHILD_VAR).is_some_and(|v| v == "1");
    let ready_fd: Option<i32> = std::env::var(READY_FD_VAR).ok().and_then(|v| v.parse().ok());
    if std::env::var_os(CHILD_VAR).is_some() || std::env::var_os(READY_FD_VAR).is_some() {
        // SAFETY: called at the start of `main`, before any other thread exists, so no one
        // reads the environment concurrently.
        unsafe {
            std::env::remove_var(CHILD_VAR);
            std::env::remove_var(READY_FD_VAR);
        }
    }
    #[cfg(unix)]
    if let Some(fd) = ready_fd {
        // SAFETY: fcntl on a descriptor number only changes its flags; programs must not
        // inherit it (the waiting side sees the end of the pipe only when tend itself is gone).
        unsafe {
            libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC);
        }
    }
    #[cfg(not(unix))]
    let _ = ready_fd;
    let _ = DETACHED.set(Detached {
        child,
        #[cfg(unix)]
        ready_fd,
    });
}

/// Whether this tend is the background one started by `tend up -d`.
pub fn is_detached_child() -> bool {
    DETACHED.get().is_some_and(|d| d.child)
}

/// The variables that make a re-executed background tend a background tend again.
pub fn child_env() -> Option<(&'static str, &'static str)> {
    is_detached_child().then_some((CHILD_VAR, "1"))
}

/// Tells the waiting `tend up -d` that the app runs (and whether its control API answers).
/// Does nothing outside a background tend, and only once.
pub fn notify_ready(api: bool) {
    static DONE: OnceLock<()> = OnceLock::new();
    if DONE.set(()).is_err() {
        return;
    }
    #[cfg(unix)]
    if let Some(fd) = DETACHED.get().and_then(|d| d.ready_fd) {
        use std::io::Write as _;
        use std::os::fd::FromRawFd as _;
        // SAFETY: the descriptor was set up by the parent for this purpose and nothing else in
        // this process uses it; it is closed when the file is dropped.
        let mut pipe = unsafe { std::fs::File::from_raw_fd(fd) };
        let _ = pipe.write_all(if api { b"1" } else { b"0" });
    }
    #[cfg(not(unix))]
    let _ = api;
}

/// `tend up -d`: starts the app in the background and waits until it answers.
///
/// # Errors
/// A configuration error, a tend that cannot be started, or a background tend that exited
/// before it was ready (its error is shown, with the log path).
pub async fn up(global: &Global, file: &Path) -> Result<u8, CliError> {
    // A bad config is reported here and now, not in a log file.
    let config = Config::load(file).map_err(|e| CliError::error(e.to_string()))?;
    let home = AppHome::new(&global.home, &config.name);
    home.create().map_err(|e| {
        CliError::error(format!("cannot create the state folder {}: {e}", home.dir.display()))
    })?;
    let errors = home.logs().join("up.err");
    let started = spawn_child(&errors)?;
    let name = &config.name;
    let pid = started.child.id();
    match started.wait_ready(&home, READY_TIMEOUT).await {
        Ready::Yes { api } => {
            let how = if api {
                "`tend status`, `tend logs -F`, `tend down`"
            } else {
                "no control API (see tend.log)"
            };
            println!(
                "{name}: running in the background (pid {}); logs in {}; {how}",
                pid,
                home.logs().display()
            );
            Ok(exit::SUCCESS)
        }
        Ready::Exited(code) => {
            let said = std::fs::read_to_string(&errors).unwrap_or_default();
            let said = said.trim();
            let said = said.strip_prefix("tend: error: ").unwrap_or(said);
            Err(CliError::error(format!(
                "{name}: the background tend exited ({}) before it was ready: {}\n  see {} and {}",
                code.map_or_else(|| "killed".to_string(), |c| format!("code {c}")),
                if said.is_empty() { "it said nothing" } else { said },
                errors.display(),
                home.tend_log().display()
            )))
        }
        Ready::TimedOut => Err(CliError::error(format!(
            "{name}: the background tend (pid {}) did not answer within {}; it may still be \
             starting: see {} (stop it with `tend down`)",
            pid,
            crate::app::human(READY_TIMEOUT),
            home.tend_log().display()
        ))),
    }
}

/// A background tend just started.
struct Started {
    child: std::process::Child,
    #[cfg(unix)]
    ready: std::io::PipeReader,
}

enum Ready {
    Yes { api: bool },
    Exited(Option<i32>),
    TimedOut,
}

fn spawn_child(errors: &Path) -> Result<Started, CliError> {
    let exe = std::env::current_exe()
        .map_err(|e| CliError::error(format!("cannot tell where the tend binary is: {e}")))?;
    let stderr = std::fs::File::create(errors)
        .map_err(|e| CliError::error(format!("cannot create {}: {e}", errors.display())))?;
    let mut command = std::process::Command::new(exe);
    command
        .args(std::env::args_os().skip(1))
        .env(CHILD_VAR, "1")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(stderr);
    let cannot =
        |e: std::io::Error| CliError::error(format!("cannot start tend in the background: {e}"));
    #[cfg(unix)]
    {
        use std::os::fd::AsRawFd as _;
        use std::os::unix::process::CommandExt as _;
        let (ready, writer) = std::io::pipe().map_err(cannot)?;
        let fd = writer.as_raw_fd();
        command.env(READY_FD_VAR, READY_FD.to_string());
        // SAFETY: only async-signal-safe calls (setsid, dup2) between fork and exec.
        unsafe {
            command.pre_exec(move || {
                // Its own session: no terminal, no SIGHUP when the terminal closes.
                nix::unistd::setsid().map_err(std::io::Error::from)?;
                // Onto a fixed number, without close-on-exec (dup2 clears it).
                if libc::dup2(fd, READY_FD) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = command.spawn().map_err(cannot)?;
        // Only the child holds the writing end now: its exit ends the pipe.
        drop(writer);
        drop(command);
        Ok(Started { child, ready })
    }
    #[cfg(windows)]
    {
        use std::os::windows::process::CommandExt as _;
        const DETACHED_PROCESS: u32 = 0x0000_0008;
        const CREATE_NEW_PROCESS_GROUP: u32 = 0x0000_0200;
        command.creation_flags(DETACHED_PROCESS | CREATE_NEW_PROCESS_GROUP);
        let child = command.spawn().map_err(cannot)?;
        Ok(Started { child })
    }
}

impl Started {
    /// Waits for the readiness byte, the child's exit, or the timeout.
    async fn wait_ready(self, home: &AppHome, timeout: Duration) -> Ready {
        #[cfg(unix)]
        {
            let _ = home;
            let Started { mut child, mut ready, .. } = self;
            let read = tokio::task::spawn_blocking(move || {
                use std::io::Read as _;
                let mut byte = [0u8; 1];
                match ready.read(&mut byte) {
                    Ok(1) => Some(byte[0] == b'1'),
                    _ => None,
                }
            });
            match tokio::time::timeout(timeout, read).await {
                Ok(Ok(Some(api))) => Ready::Yes { api },
                Ok(_) => Ready::Exited(child.wait().ok().and_then(|s| s.code())),
                Err(_) => Ready::TimedOut,
            }
        }
        #[cfg(not(unix))]
        {
            // No descriptor can be handed over here: ask the pipe until it answers, the child
            // exits, or the time is up (bounded, and only while `tend up -d` waits).
            let Started { mut child, .. } = self;
            let pipe = crate::control::socket::connect_path(home);
            let deadline = tokio::time::Instant::now() + timeout;
            loop {
                if let Ok(Some(status)) = child.try_wait() {
                    return Ready::Exited(status.code());
                }
                if crate::control::client::answers(&pipe) {
                    return Ready::Yes { api: true };
                }
                if tokio::time::Instant::now() >= deadline {
                    return Ready::TimedOut;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}
