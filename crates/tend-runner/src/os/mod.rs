//! Everything that differs between operating systems, behind one flat interface (`os::…`).
//! Every `cfg` arm of the crate is in here.
//!
//! - `unix` and `windows`: signals (and their numbers), starting a program (Unix: its own
//!   process group, the run record written by the forked child; Windows: a job object),
//!   descriptor limits, file modes, exit statuses.
//! - `linux` and `portable`: process inspection (Linux from `/proc`, with pidfds; elsewhere
//!   through `sysinfo`), boot ids, the child subreaper.

#[cfg(target_os = "linux")]
mod linux;
#[cfg(not(target_os = "linux"))]
mod portable;
#[cfg(unix)]
mod unix;
#[cfg(windows)]
mod windows;

#[cfg(target_os = "linux")]
pub(crate) use linux::*;
#[cfg(not(target_os = "linux"))]
pub(crate) use portable::*;
#[cfg(unix)]
pub(crate) use unix::*;
#[cfg(windows)]
pub(crate) use windows::*;

use std::time::Duration;

use crate::{BoxFuture, Exit};

/// A leader process as `launch` started it.
pub(crate) struct Launched {
    /// Its pid (on Unix also its process group id).
    pub pid: u32,
    /// Its start time (see [`crate::ProcInfo::start_time`]).
    pub start_time: u64,
    /// Its stdin, when it was piped.
    pub stdin: Option<tokio::process::ChildStdin>,
    /// Its stdout.
    pub stdout: Option<tokio::process::ChildStdout>,
    /// Its stderr.
    pub stderr: Option<tokio::process::ChildStderr>,
    /// Resolves when the leader has ended (and, on Unix, been reaped; on Windows, its job has
    /// been terminated).
    pub wait: BoxFuture<'static, Exit>,
    /// Asks the waiter to end the leader at once, where signals cannot (Windows: it terminates
    /// the job object); `None` where they can.
    pub kill: Option<tokio::sync::mpsc::UnboundedSender<()>>,
}

/// Polls until `pid` has ended; for systems (or kernels) without pidfd.
pub(crate) async fn poll_exited(pid: u32) {
    while process_info(pid).is_some_and(|info| !info.state.has_ended()) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
