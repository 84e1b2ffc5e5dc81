//! Process inspection on systems other than Linux (macOS, the BSDs, Windows), through
//! `sysinfo`.
//!
//! Coarser than the Linux module: start times are in seconds and there is no pidfd, so
//! [`exited`] polls.

use std::io;
use std::time::Duration;

use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System, UpdateKind};

use crate::stats::{ProcInfo, ProcessState};

/// An identifier of the current boot: macOS's `kern.bootsessionuuid`, a UUID made at each boot.
#[cfg(target_os = "macos")]
pub fn boot_id() -> io::Result<String> {
    let mut buf = [0u8; 128];
    let mut len = buf.len();
    // SAFETY: the name is NUL-terminated, `buf` and `len` describe a writable buffer of that
    // size, and no new value is set (null pointer, length 0).
    let rc = unsafe {
        libc::sysctlbyname(
            c"kern.bootsessionuuid".as_ptr(),
            buf.as_mut_ptr().cast(),
            &mut len,
            std::ptr::null_mut(),
            0,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    let text = String::from_utf8_lossy(&buf[..len.min(buf.len())]);
    let id = text.trim_end_matches('\0').trim();
    if id.is_empty() {
        return Err(io::Error::other("kern.bootsessionuuid is empty"));
    }
    Ok(id.to_string())
}

/// An identifier of the current boot: the boot time in whole seconds (Windows has no boot id;
/// the boot time is computed from the clock and the uptime, so compare it with
/// [`crate::same_boot`], which allows for its jitter).
#[cfg(not(target_os = "macos"))]
pub fn boot_id() -> io::Result<String> {
    System::boot_time().map(|t| t.to_string()).map_err(|e| io::Error::other(e.to_string()))
}

fn system_with(pids: Option<&[Pid]>, environ: bool) -> Option<System> {
    let mut sys = System::new().ok()?;
    let kind = ProcessRefreshKind::nothing().with_cpu().with_memory();
    let kind = if environ { kind.with_environ(UpdateKind::Always) } else { kind };
    let which = match pids {
        Some(p) => ProcessesToUpdate::Some(p),
        None => ProcessesToUpdate::All,
    };
    sys.refresh_processes_specifics(which, true, kind);
    Some(sys)
}

/// What the system says about `pid`, or `None` if there is no such process.
pub fn process_info(pid: u32) -> Option<ProcInfo> {
    let spid = Pid::from_u32(pid);
    let sys = system_with(Some(&[spid]), false)?;
    let p = sys.process(spid)?;
    Some(ProcInfo {
        pid,
        ppid: p.parent().map(|p| p.as_u32()).unwrap_or(0),
        pgid: process_group(pid),
        start_time: p.start_time(),
        state: ProcessState::from_code(match p.status() {
            sysinfo::ProcessStatus::Run => 'R',
            sysinfo::ProcessStatus::Sleep => 'S',
            sysinfo::ProcessStatus::Stop => 'T',
            sysinfo::ProcessStatus::Zombie => 'Z',
            sysinfo::ProcessStatus::Idle => 'I',
            _ => '?',
        }),
        cpu_time: Duration::from_millis(p.accumulated_cpu_time()),
        rss_bytes: p.memory(),
    })
}

#[cfg(unix)]
fn process_group(pid: u32) -> u32 {
    let Ok(pid) = libc::pid_t::try_from(pid) else { return 0 };
    // SAFETY: getpgid has no preconditions.
    u32::try_from(unsafe { libc::getpgid(pid) }).unwrap_or(0)
}

/// Windows has no process groups in this sense (job objects stand in for them).
#[cfg(not(unix))]
fn process_group(_pid: u32) -> u32 {
    0
}

/// Every pid on the system.
pub fn all_pids() -> Vec<u32> {
    system_with(None, false)
        .map(|sys| sys.processes().keys().map(|p| p.as_u32()).collect())
        .unwrap_or_default()
}

/// Whether `pid`'s environment holds `TEND_RUN_ID=<token>`.
pub fn has_token(pid: u32, token: &str) -> bool {
    let spid = Pid::from_u32(pid);
    let Some(sys) = system_with(Some(&[spid]), true) else { return false };
    let wanted = format!("{}={token}", crate::RUN_ID_VAR);
    sys.process(spid).is_some_and(|p| p.environ().iter().any(|e| e.to_str() == Some(&wanted)))
}

/// The values of `keys` in `pid`'s environment, in order (`None` when unset or unreadable).
pub fn env_values(pid: u32, keys: &[&str]) -> Vec<Option<String>> {
    let spid = Pid::from_u32(pid);
    let sys = system_with(Some(&[spid]), true);
    let environ: Vec<String> = sys
        .as_ref()
        .and_then(|sys| sys.process(spid))
        .map(|p| p.environ().iter().filter_map(|e| e.to_str().map(str::to_string)).collect())
        .unwrap_or_default();
    keys.iter()
        .map(|key| {
            environ
                .iter()
                .find_map(|entry| Some(entry.strip_prefix(key)?.strip_prefix('=')?.to_string()))
        })
        .collect()
}

/// The pids of this process's children.
pub fn own_children() -> Vec<u32> {
    let me = std::process::id();
    let Some(sys) = system_with(None, false) else { return Vec::new() };
    sys.processes()
        .iter()
        .filter(|(_, p)| p.parent().map(|pp| pp.as_u32()) == Some(me))
        .map(|(pid, _)| pid.as_u32())
        .collect()
}

/// Listing children directly is Linux-only: callers fall back to a scan.
pub fn children_of(_pid: u32) -> Option<Vec<u32>> {
    None
}

/// Subreapers exist only on Linux (and FreeBSD's procctl, not used here).
pub fn set_subreaper() -> io::Result<()> {
    Err(io::Error::new(io::ErrorKind::Unsupported, "child subreaper is Linux-only"))
}

/// Resolves when `pid` has ended, polling.
pub async fn exited(pid: u32) {
    super::poll_exited(pid).await;
}

/// Off Linux a container runs as its image's user (Docker Desktop maps file ownership itself).
#[cfg_attr(not(feature = "docker"), allow(dead_code))]
pub(crate) fn current_user_ids() -> Option<(u32, u32)> {
    None
}
