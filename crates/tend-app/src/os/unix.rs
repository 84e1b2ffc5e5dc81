//! Unix: the readiness pipe is an inherited descriptor; SIGINT and SIGTERM stop the app.

use std::io::{BufRead as _, Read as _, Write as _};
use std::os::fd::{AsRawFd as _, FromRawFd as _};
use std::os::unix::process::CommandExt as _;
use std::time::Duration;

use super::Heard;

/// The descriptor number the readiness pipe gets in the background tend.
const READY_FD: i32 = 3;

/// The writing end of the readiness pipe, in the background tend.
#[derive(Debug, Clone, Copy)]
pub struct ReadyWriter(i32);

/// Takes the readiness pipe named by `fd` (the value of the variable the launcher set), so
/// that programs never inherit it: the launcher sees the end of the pipe only when this tend
/// itself is gone.
pub fn claim_ready(fd: Option<&str>) -> Option<ReadyWriter> {
    let fd: i32 = fd?.parse().ok()?;
    // SAFETY: fcntl on a descriptor number only changes its flags.
    unsafe {
        libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC);
    }
    Some(ReadyWriter(fd))
}

impl ReadyWriter {
    /// Writes `line` and closes the pipe. Call once.
    pub fn send(self, line: &[u8]) {
        // SAFETY: the descriptor was set up by the launcher for this purpose only, nothing else
        // in this process uses it, and this is its one use: it is closed when the file drops.
        let mut pipe = unsafe { std::fs::File::from_raw_fd(self.0) };
        let _ = pipe.write_all(line);
    }
}

/// A background tend just started, and the reading end of its readiness pipe.
#[derive(Debug)]
pub struct Background {
    /// The background tend.
    pub child: std::process::Child,
    ready: Option<std::io::PipeReader>,
}

/// Starts `command` as a background tend: in its own session (no terminal, no SIGHUP when
/// the terminal closes), with the readiness pipe on a fixed descriptor named in `fd_var`.
///
/// # Errors
/// The pipe or the process cannot be created.
pub fn spawn_background(
    mut command: std::process::Command,
    fd_var: &str,
) -> std::io::Result<Background> {
    let (ready, writer) = std::io::pipe()?;
    let fd = writer.as_raw_fd();
    command.env(fd_var, READY_FD.to_string());
    // SAFETY: only async-signal-safe calls (setsid, dup2) between fork and exec.
    unsafe {
        command.pre_exec(move || {
            nix::unistd::setsid().map_err(std::io::Error::from)?;
            // Onto a fixed number, without close-on-exec (dup2 clears it).
            if libc::dup2(fd, READY_FD) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let child = command.spawn()?;
    // Only the child holds the writing end now: its exit ends the pipe.
    drop(writer);
    drop(command);
    Ok(Background { child, ready: Some(ready) })
}

impl Background {
    /// Waits (without polling: a blocking read on the pipe) for one line of at most `max`
    /// bytes, the child's exit, or `timeout`; once. `_answers` is for systems without the
    /// pipe.
    pub async fn hear(
        &mut self,
        max: u64,
        timeout: Duration,
        _answers: impl AsyncFn() -> bool,
    ) -> Heard {
        let Some(mut ready) = self.ready.take() else {
            return Heard::Exited(self.child.wait().ok().and_then(|s| s.code()));
        };
        let read = tokio::task::spawn_blocking(move || {
            let mut line = Vec::new();
            let mut bounded = std::io::BufReader::new((&mut ready).take(max));
            match bounded.read_until(b'\n', &mut line) {
                Ok(n) if n > 0 => Some(line),
                _ => None,
            }
        });
        match tokio::time::timeout(timeout, read).await {
            Ok(Ok(Some(line))) => Heard::Line(line),
            Ok(_) => Heard::Exited(self.child.wait().ok().and_then(|s| s.code())),
            Err(_) => Heard::TimedOut,
        }
    }
}

/// The signals that stop the app: SIGINT and SIGTERM.
#[derive(Debug)]
pub struct StopSignals {
    int: tokio::signal::unix::Signal,
    term: tokio::signal::unix::Signal,
}

impl StopSignals {
    /// Starts listening.
    ///
    /// # Errors
    /// The signal handlers cannot be installed.
    pub fn listen() -> std::io::Result<StopSignals> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(StopSignals {
            int: signal(SignalKind::interrupt())?,
            term: signal(SignalKind::terminate())?,
        })
    }

    /// The next stop signal, by name.
    pub async fn recv(&mut self) -> &'static str {
        tokio::select! {
            _ = self.int.recv() => "SIGINT",
            _ = self.term.recv() => "SIGTERM",
        }
    }
}

/// Sends `signal` to `pid`.
///
/// # Errors
/// No such process, or no permission.
pub fn send_signal(pid: u32, signal: tend_runner::Signal) -> std::io::Result<()> {
    let pid =
        i32::try_from(pid).map_err(|_| std::io::Error::from(std::io::ErrorKind::InvalidInput))?;
    let signal =
        nix::sys::signal::Signal::try_from(signal.number()).map_err(std::io::Error::from)?;
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), signal).map_err(std::io::Error::from)
}

/// New files private to the user (mode 0600).
pub fn private_file(options: &mut std::fs::OpenOptions) {
    use std::os::unix::fs::OpenOptionsExt as _;
    options.mode(0o600);
}

/// Replaces this process with `command` (same pid); returns only when that fails.
pub fn exec_in_place(mut command: std::process::Command) -> std::io::Error {
    command.exec()
}

/// What tells a file apart from one that replaced it at the same path (its inode).
pub fn file_id(meta: &std::fs::Metadata) -> Option<u64> {
    use std::os::unix::fs::MetadataExt as _;
    Some(meta.ino())
}

/// Serves `router` on the app's Unix socket (`tend_api::address` says where).
pub(crate) fn serve_control(
    home: &tend_api::AppHome,
    router: axum::Router,
    max: usize,
) -> crate::control::server::ControlServer {
    use crate::control::server::ControlServer;
    use crate::control::socket;
    use tend_api::address;
    let (path, pointer) = match address::bind_path(home) {
        Ok(found) => found,
        Err(e) => {
            tracing::warn!("no control API (tend status, restart, down): {e}");
            return ControlServer::default();
        }
    };
    if path.exists() {
        if std::os::unix::net::UnixStream::connect(&path).is_ok() {
            tracing::warn!(
                "no control API: another tend answers on {}; stop it with `tend down`",
                path.display()
            );
            return ControlServer::default();
        }
        // A stale socket from a tend that is gone.
        let _ = std::fs::remove_file(&path);
    }
    let listener = match tokio::net::UnixListener::bind(&path) {
        Ok(listener) => listener,
        Err(e) => {
            tracing::warn!("no control API: cannot listen on {}: {e}", path.display());
            return ControlServer::default();
        }
    };
    {
        use std::os::unix::fs::PermissionsExt as _;
        let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600));
    }
    let mut pointer_file = None;
    if pointer {
        let file = address::pointer_path(home);
        if let Err(e) = tend_fs::write_text(&file, &path.to_string_lossy()) {
            tracing::warn!("no control API: cannot write {}: {e}", file.display());
            let _ = std::fs::remove_file(&path);
            return ControlServer::default();
        }
        pointer_file = Some(file);
    }
    tracing::debug!("control API on {}", path.display());
    let listener = socket::SocketListener::new(listener);
    ControlServer::serving(listener, router, max, Some(path), pointer_file)
}

/// Opening never waits for a peer (a FIFO without a reader); the flag does nothing to a
/// regular file.
pub fn never_wait(options: &mut std::fs::OpenOptions) {
    use std::os::unix::fs::OpenOptionsExt as _;
    options.custom_flags(libc::O_NONBLOCK);
}

/// `a FIFO` or `a socket` for those kinds of file, else `None`.
pub fn pipe_kind(kind: &std::fs::FileType) -> Option<&'static str> {
    use std::os::unix::fs::FileTypeExt as _;
    if kind.is_fifo() {
        Some("a FIFO")
    } else if kind.is_socket() {
        Some("a socket")
    } else {
        None
    }
}
