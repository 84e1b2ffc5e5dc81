//! Thin wrappers over the Unix calls the runner needs; the only place that builds a negative
//! pid or touches `nix`'s types. Starting a program is in `launch` (with the run record the
//! forked child writes, `child_record`).

mod child_record;
mod launch;

pub(crate) use launch::launch;

use std::io;

use nix::errno::Errno;
use nix::sys::signal::{self, Signal as NixSignal};
use nix::sys::wait::{WaitPidFlag, waitpid};
use nix::unistd::Pid;

use crate::Signal;

fn pid_of(pid: u32) -> io::Result<Pid> {
    match i32::try_from(pid) {
        Ok(raw) if raw > 1 => Ok(Pid::from_raw(raw)),
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("refusing to signal pid {pid}"),
        )),
    }
}

fn nix_signal(sig: Signal) -> io::Result<NixSignal> {
    NixSignal::try_from(sig.number()).map_err(io::Error::from)
}

/// Sends `sig` to one process. A process that is already gone is not an error.
pub(crate) fn signal_pid(pid: u32, sig: Signal) -> io::Result<()> {
    match signal::kill(pid_of(pid)?, nix_signal(sig)?) {
        Ok(()) | Err(Errno::ESRCH) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Sends `sig` to every process of group `pgid`. An empty group is not an error.
pub(crate) fn signal_group(pgid: u32, sig: Signal) -> io::Result<()> {
    match signal::killpg(pid_of(pgid)?, nix_signal(sig)?) {
        Ok(()) | Err(Errno::ESRCH) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Whether process group `pgid` still has a member (zombies included).
pub(crate) fn group_exists(pgid: u32) -> bool {
    let Ok(pgid) = pid_of(pgid) else { return false };
    matches!(signal::killpg(pgid, None), Ok(()) | Err(Errno::EPERM))
}

/// Reaps `pid` if it is an ended child of ours; returns whether it was reaped.
pub(crate) fn reap_if_ended(pid: u32) -> bool {
    let Ok(pid) = pid_of(pid) else { return false };
    matches!(
        waitpid(pid, Some(WaitPidFlag::WNOHANG)),
        Ok(status) if status != nix::sys::wait::WaitStatus::StillAlive
    )
}

/// Asks for a larger pipe buffer (256 KiB instead of 64 KiB) so a chatty program is woken
/// less often and its output is read in larger pieces. Pages are only used while data waits
/// in the pipe. Best effort: Linux only, and refused above the system's limit.
pub(crate) fn widen_pipe(fd: std::os::fd::RawFd) {
    #[cfg(target_os = "linux")]
    // SAFETY: fcntl on a descriptor we own; failure is harmless.
    unsafe {
        libc::fcntl(fd, libc::F_SETPIPE_SZ, 256 * 1024);
    }
    #[cfg(not(target_os = "linux"))]
    let _ = fd;
}

/// This process's `RLIMIT_NOFILE`.
pub(crate) fn get_fd_limit() -> Option<crate::FdLimit> {
    use nix::sys::resource::{Resource, getrlimit};
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).ok()?;
    Some(crate::FdLimit { soft, hard })
}

/// Sets this process's `RLIMIT_NOFILE`. Makes no allocation, so a forked child may call it
/// before `exec`.
pub(crate) fn set_fd_limit(limit: crate::FdLimit) -> io::Result<()> {
    use nix::sys::resource::{Resource, setrlimit};
    setrlimit(Resource::RLIMIT_NOFILE, limit.soft, limit.hard).map_err(io::Error::from)
}

/// Raises the soft `RLIMIT_NOFILE` of this process to its hard limit; returns the limit now in
/// force. macOS refuses a soft limit above `OPEN_MAX` when the hard one is unlimited: there
/// the soft limit goes as high as the kernel takes.
pub(crate) fn raise_fd_limit(current: crate::FdLimit) -> io::Result<crate::FdLimit> {
    if current.soft >= current.hard {
        return Ok(current);
    }
    let wanted = crate::FdLimit { soft: current.hard, hard: current.hard };
    match set_fd_limit(wanted) {
        Ok(()) => Ok(wanted),
        #[cfg(target_os = "macos")]
        Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {
            let cap = crate::FdLimit { soft: current.hard.min(10_240), hard: current.hard };
            set_fd_limit(cap).map(|()| cap).map_err(|_| e)
        }
        Err(e) => Err(e),
    }
}

/// The number of `sig` on this system.
pub(crate) fn signal_number(sig: Signal) -> i32 {
    match sig {
        Signal::Hangup => libc::SIGHUP,
        Signal::Interrupt => libc::SIGINT,
        Signal::Quit => libc::SIGQUIT,
        Signal::Kill => libc::SIGKILL,
        Signal::User1 => libc::SIGUSR1,
        Signal::User2 => libc::SIGUSR2,
        Signal::Terminate => libc::SIGTERM,
        Signal::Alarm => libc::SIGALRM,
        Signal::WindowChange => libc::SIGWINCH,
        Signal::Continue => libc::SIGCONT,
        Signal::Stop => libc::SIGSTOP,
        Signal::Custom(n) => n,
    }
}

/// Signals that end a process that crashed (not sent by tend), with this system's numbers.
pub(crate) const CRASH_SIGNALS: [(i32, &str); 7] = [
    (libc::SIGSEGV, "SEGV"),
    (libc::SIGABRT, "ABRT"),
    (libc::SIGBUS, "BUS"),
    (libc::SIGFPE, "FPE"),
    (libc::SIGILL, "ILL"),
    (libc::SIGPIPE, "PIPE"),
    (libc::SIGTRAP, "TRAP"),
];

/// The signal that ended a process, if a signal did.
pub(crate) fn exit_signal(status: &std::process::ExitStatus) -> Option<i32> {
    use std::os::unix::process::ExitStatusExt as _;
    status.signal()
}

/// Whether a file with `meta` can be run: a regular file with an execute bit.
pub(crate) fn is_executable(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    meta.is_file() && meta.permissions().mode() & 0o111 != 0
}

/// Inside a tokio runtime, starts a task that reaps adopted orphans when they end (on SIGCHLD,
/// no polling). Outside one, nothing.
pub(crate) fn reap_orphans_on_sigchld() -> io::Result<()> {
    if let Ok(handle) = tokio::runtime::Handle::try_current() {
        let mut sigchld = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::child())?;
        handle.spawn(async move {
            while sigchld.recv().await.is_some() {
                crate::tree::reap_orphans();
            }
        });
    }
    Ok(())
}

/// Where the Docker daemon listens unless `DOCKER_HOST` says otherwise.
#[cfg_attr(not(feature = "docker"), allow(dead_code))]
pub(crate) const DEFAULT_DOCKER_HOST: &str = "unix:///var/run/docker.sock";
