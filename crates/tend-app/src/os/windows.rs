//! Windows: no descriptor can be handed to a background tend, so the launcher asks the control
//! pipe until it answers; Ctrl-C (and Ctrl-Break) stop the app.

use std::os::windows::process::CommandExt as _;
use std::time::Duration;

use super::Heard;

/// There is no readiness pipe here.
#[derive(Debug, Clone, Copy)]
pub struct ReadyWriter;

/// There is no readiness pipe here: always `None`.
pub fn claim_ready(_fd: Option<&str>) -> Option<ReadyWriter> {
    None
}

impl ReadyWriter {
    /// Nothing to write to.
    pub fn send(self, _line: &[u8]) {}
}

/// A background tend just started.
#[derive(Debug)]
pub struct Background {
    /// The background tend.
    pub child: std::process::Child,
}

/// Starts `command` detached from the console, in a process group of its own.
///
/// # Errors
/// The process cannot be created.
pub fn spawn_background(
    mut command: std::process::Command,
    _fd_var: &str,
) -> std::io::Result<Background> {
    const DETACHED_PROCESS: u32 = 0x0000_0008;
    const CREATE_NEW_PROCESS_GROUP: u32 = 0x0000_0200;
    command.creation_flags(DETACHED_PROCESS | CREATE_NEW_PROCESS_GROUP);
    Ok(Background { child: command.spawn()? })
}

impl Background {
    /// Asks `answers` until it says yes, the child exits, or `timeout` (bounded, and only while
    /// `tend up -d` waits).
    pub async fn hear(
        &mut self,
        _max: u64,
        timeout: Duration,
        answers: impl AsyncFn() -> bool,
    ) -> Heard {
        let child = &mut self.child;
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return Heard::Exited(status.code());
            }
            if answers().await {
                return Heard::Answered;
            }
            if tokio::time::Instant::now() >= deadline {
                return Heard::TimedOut;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// What stops the app here: Ctrl-C.
#[derive(Debug)]
pub struct StopSignals;

impl StopSignals {
    /// Starts listening.
    ///
    /// # Errors
    /// Never here; the signature matches Unix.
    pub fn listen() -> std::io::Result<StopSignals> {
        Ok(StopSignals)
    }

    /// The next Ctrl-C.
    pub async fn recv(&mut self) -> &'static str {
        let _ = tokio::signal::ctrl_c().await;
        "Ctrl-C"
    }
}

/// There are no signals here: tend waits for the holder to stop instead.
///
/// # Errors
/// Always: signals do not exist here.
pub fn send_signal(pid: u32, signal: tend_runner::Signal) -> std::io::Result<()> {
    tracing::warn!("cannot signal pid {pid} ({signal}) on this platform; waiting for it to stop");
    Err(std::io::Error::from(std::io::ErrorKind::Unsupported))
}

/// New files get their folder's ACL: nothing to set.
pub fn private_file(_options: &mut std::fs::OpenOptions) {}

/// Runs `command` in place of this process as far as Windows allows: waits for it and exits
/// with its code; returns only when it cannot be started.
pub fn exec_in_place(mut command: std::process::Command) -> std::io::Error {
    match command.status() {
        Ok(status) => std::process::exit(status.code().unwrap_or(1)),
        Err(e) => e,
    }
}

/// No stable file identity is read here: a replaced file is told by its size alone.
pub fn file_id(_meta: &std::fs::Metadata) -> Option<u64> {
    None
}

/// Serves `router` on the app's named pipe (`tend_api::address::pipe_name` says which).
pub(crate) fn serve_control(
    home: &tend_api::AppHome,
    router: axum::Router,
    max: usize,
) -> crate::control::server::ControlServer {
    use crate::control::pipe;
    use crate::control::server::ControlServer;
    let name = tend_api::address::pipe_name(home);
    match pipe::PipeListener::bind(&name) {
        Ok(listener) => {
            tracing::debug!("control API on {name}");
            ControlServer::serving(listener, router, max, None, None)
        }
        Err(e) => {
            tracing::warn!(
                "no control API: cannot create the pipe {name}: {e} (does another tend serve this app?)"
            );
            ControlServer::default()
        }
    }
}

/// Opening a file never waits here.
pub fn never_wait(_options: &mut std::fs::OpenOptions) {}

/// No FIFOs or sockets among files here.
pub fn pipe_kind(_kind: &std::fs::FileType) -> Option<&'static str> {
    None
}
