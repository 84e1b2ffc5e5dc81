//! Ending processes on Windows, where there are no signals: every terminating signal means
//! `TerminateProcess`; the others do nothing. Starting a program (in a job object) is in
//! `launch`.

mod launch;

pub(crate) use launch::launch;

use std::io;

use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System};

use crate::Signal;

/// Ends one process for a terminating signal; other signals have no Windows meaning.
pub(crate) fn signal_pid(pid: u32, sig: Signal) -> io::Result<()> {
    if matches!(
        sig,
        Signal::Continue
            | Signal::Stop
            | Signal::WindowChange
            | Signal::User1
            | Signal::User2
            | Signal::Alarm
    ) {
        return Ok(());
    }
    let spid = Pid::from_u32(pid);
    let Ok(mut sys) = System::new() else { return Ok(()) };
    sys.refresh_processes_specifics(
        ProcessesToUpdate::Some(&[spid]),
        true,
        ProcessRefreshKind::nothing(),
    );
    if let Some(process) = sys.process(spid) {
        process.kill();
    }
    Ok(())
}

/// Windows has no process groups to signal; job objects take their place.
pub(crate) fn signal_group(_pgid: u32, _sig: Signal) -> io::Result<()> {
    Ok(())
}

/// Windows has no process groups; see [`signal_group`].
pub(crate) fn group_exists(_pgid: u32) -> bool {
    false
}

/// Windows has no zombies to reap.
pub(crate) fn reap_if_ended(_pid: u32) -> bool {
    false
}

/// Windows has no descriptor limit of this kind.
pub(crate) fn get_fd_limit() -> Option<crate::FdLimit> {
    None
}

/// Windows has no descriptor limit of this kind: nothing to set.
pub(crate) fn set_fd_limit(_limit: crate::FdLimit) -> io::Result<()> {
    Ok(())
}

/// Windows has no descriptor limit of this kind: nothing to raise.
pub(crate) fn raise_fd_limit(current: crate::FdLimit) -> io::Result<crate::FdLimit> {
    Ok(current)
}

/// Windows has no signals: tend uses the Linux numbers, so that exit reports read the same.
pub(crate) fn signal_number(sig: Signal) -> i32 {
    match sig {
        Signal::Hangup => 1,
        Signal::Interrupt => 2,
        Signal::Quit => 3,
        Signal::Kill => 9,
        Signal::User1 => 10,
        Signal::User2 => 12,
        Signal::Terminate => 15,
        Signal::Alarm => 14,
        Signal::WindowChange => 28,
        Signal::Continue => 18,
        Signal::Stop => 19,
        Signal::Custom(n) => n,
    }
}

/// Signals that end a process that crashed, with the Linux numbers (Windows has none).
pub(crate) const CRASH_SIGNALS: [(i32, &str); 7] =
    [(11, "SEGV"), (6, "ABRT"), (7, "BUS"), (8, "FPE"), (4, "ILL"), (13, "PIPE"), (5, "TRAP")];

/// No signal ends a process on Windows.
pub(crate) fn exit_signal(_status: &std::process::ExitStatus) -> Option<i32> {
    None
}

/// Whether a file with `meta` can be run: any regular file (Windows has no execute bit).
pub(crate) fn is_executable(meta: &std::fs::Metadata) -> bool {
    meta.is_file()
}

/// Windows has no SIGCHLD and no subreaper: nothing to reap.
pub(crate) fn reap_orphans_on_sigchld() -> io::Result<()> {
    Ok(())
}

/// Where the Docker daemon listens unless `DOCKER_HOST` says otherwise.
#[cfg_attr(not(feature = "docker"), allow(dead_code))]
pub(crate) const DEFAULT_DOCKER_HOST: &str = "npipe:////./pipe/docker_engine";
