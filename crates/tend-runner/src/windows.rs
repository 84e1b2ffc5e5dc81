//! Ending processes on Windows, where there are no signals: every terminating signal means
//! `TerminateProcess`; the others do nothing.

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
